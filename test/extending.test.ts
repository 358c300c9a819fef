/**
 * Each extension in examples/extending/overrides.ts still takes effect: if an override stops
 * being used (a renamed field, a sibling no longer called through `self`), a test here fails.
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, expectTypeOf, it } from 'vitest'
import { compose, connect, type Dialect, extend, fromParts, run, sql } from 'recordkit'
import { from, insertInto, limit, offset, orderBy, paginate, param, select, values, where } from 'recordkit/query'
import { sqlite } from 'recordkit/dialects/sqlite'
import { mysql2 } from 'recordkit/drivers/mysql2'
import {
  betterSqlite3Tuned, Decimal, jsonbPathExists, mysqlWithTimeLimit, postgresJsScoped, postgresJsWithDecimals, postgresWithJsonPath,
  sqliteBoundLimits, withDecimals,
} from '../examples/extending/overrides.js'
import { MYSQL_URL, PG_URL, serverAvailable } from './support/servers.js'

const sqlOf = (d: Dialect, q: Parameters<Dialect['compile']>[0]) => {
  const c = d.compile(q)
  if (E.isLeft(c)) throw c.left
  return c.right
}

describe('SQLite: bound LIMIT/OFFSET', () => {
  it('every SELECT, OFFSET-only query and paginator binds its row counts; the built-in writes them into the text', async () => {
    expect(sqlOf(sqliteBoundLimits, pipe(from('t'), limit(5)))).toEqual({ sql: 'SELECT * FROM "t" LIMIT ?', params: [5] })
    expect(sqlOf(sqlite, pipe(from('t'), limit(5)))).toEqual({ sql: 'SELECT * FROM "t" LIMIT 5', params: [] })
    expect(sqlOf(sqliteBoundLimits, pipe(from('t'), offset(5)))).toEqual({ sql: 'SELECT * FROM "t" LIMIT -1 OFFSET ?', params: [5] })
    expect(sqlOf(sqliteBoundLimits, pipe(from('t'), paginate({ page: 3, perPage: 10 })))).toEqual({ sql: 'SELECT * FROM "t" LIMIT ? OFFSET ?', params: [10, 20] })
    expect(sqlOf(sqliteBoundLimits, pipe(from('t'), limit(param('n'))))).toMatchObject({ sql: 'SELECT * FROM "t" LIMIT ?', holes: ['n'] })
    expect(E.isLeft(sqliteBoundLimits.compile(pipe(from('t'), limit(1.5))))).toBe(true)
    expect(E.isLeft(sqlite.compile(pipe(from('t'), limit(-1))))).toBe(true)
    const db = compose(betterSqlite3Tuned({ filename: ':memory:' }), sqliteBoundLimits)
    await run(db.execute(sql`CREATE TABLE t (n INTEGER)`))
    await run(db.execute(pipe(insertInto('t'), values([1, 2, 3, 4, 5].map((n) => ({ n }))))))
    expect(await run(db.all(pipe(from('t'), select('n'), orderBy('n'), paginate({ page: 2, perPage: 2 }))))).toEqual([{ n: 3 }, { n: 4 }])
  })
})

describe('type adapter: Decimal', () => {
  it('binds a Decimal as its exact text, and leaves other values to the base adapter', () => {
    const d = withDecimals(sqliteBoundLimits)
    expect(sqlOf(d, pipe(insertInto('p'), values({ a: new Decimal('12345678901234567890.12'), b: true }))).params).toEqual(['12345678901234567890.12', 1])
    expect(sqlOf(d, pipe(from('t'), limit(3))).sql).toBe('SELECT * FROM "t" LIMIT ?')
  })
})

describe('connection set-up: SQLite pragmas', () => {
  it('runs the added pragmas and still the driver’s own', async () => {
    const db = compose(betterSqlite3Tuned({ filename: ':memory:' }), sqliteBoundLimits)
    expect(await run(db.all(sql`PRAGMA cache_size`))).toEqual([{ cache_size: -32000 }])
    expect(await run(db.all(sql`PRAGMA temp_store`))).toEqual([{ temp_store: 2 }])
    expect(await run(db.all(sql`PRAGMA foreign_keys`))).toEqual([{ foreign_keys: 1 }])
  })
})

const maria = await serverAvailable('mariadb')
describe.skipIf(!maria)('MariaDB: an optimizer hint in every SELECT', () => {
  it('renders after SELECT (and before DISTINCT), survives connect() picking MariaDB, and runs', async () => {
    const db = await run(connect(mysql2({ url: MYSQL_URL, max: 1 }), mysqlWithTimeLimit(1500)))
    try {
      expect(db.dialect.name).toBe('mariadb')
      const q = pipe(from('information_schema.tables'), select('table_name'), where({ table_schema: 'information_schema', table_name: 'TABLES' }))
      expect(sqlOf(db.dialect, q).sql).toMatch(/^SELECT \/\*\+ MAX_EXECUTION_TIME\(1500\) \*\/ `table_name`/)
      expect(await run(db.all(q))).toEqual([{ table_name: 'TABLES' }])
      expect(sqlOf(db.dialect, pipe(from('t'), select('a'), (x) => ({ ...x, distinct: true }))).sql).toBe('SELECT /*+ MAX_EXECUTION_TIME(1500) */ DISTINCT `a` FROM `t`')
    } finally {
      await run(db.close())
    }
  })
})

const pg = await serverAvailable('postgres')
describe.skipIf(!pg)('PostgreSQL: a JSON function, Decimal both ways, connection parameters', () => {
  it('jsonb_path_exists renders through the extension field and filters on the server; numeric reads as Decimal', async () => {
    const db = await run(connect(postgresJsWithDecimals({ url: PG_URL, max: 1 }), withDecimals(postgresWithJsonPath)))
    try {
      await run(db.execute(sql`CREATE TEMP TABLE ext_t (id int, total numeric(30,2), payload jsonb)`))
      await run(db.execute(pipe(insertInto('ext_t'), values([
        { id: 1, total: new Decimal('12345678901234567890.10'), payload: { tags: ['sale'] } },
        { id: 2, total: new Decimal('1.00'), payload: { tags: [] } },
      ]))))
      const q = pipe(from('ext_t'), select('id', 'total'), where(jsonbPathExists('payload', '$.tags[*] ? (@ == "sale")')))
      expect(sqlOf(db.dialect, q)).toEqual({ sql: 'SELECT "id", "total" FROM "ext_t" WHERE jsonb_path_exists("payload", $1::jsonpath)', params: ['$.tags[*] ? (@ == "sale")'] })
      const rows = await run(db.all(q))
      expect(rows.length).toBe(1)
      expect(rows[0].total).toBeInstanceOf(Decimal)
      expect(String(rows[0].total)).toBe('12345678901234567890.10')
      // Without the extension, the same query is an UnsupportedFeature naming it.
      const plain = (await import('recordkit/dialects/postgres')).postgres.compile(q)
      expect(E.isLeft(plain) && plain.left._tag).toBe('UnsupportedFeature')
    } finally {
      await run(db.close())
    }
  })

  it('every connection opens with the added parameters', async () => {
    const db = compose(postgresJsScoped({ url: PG_URL, max: 2 }, 'reporting'), postgresWithJsonPath)
    try {
      const rows = await Promise.all([1, 2, 3].map(() => run(db.all(sql`SELECT current_setting('search_path') AS s, current_setting('application_name') AS a`))))
      for (const r of rows) expect(r).toEqual([{ s: 'reporting,public', a: 'recordkit' }])
    } finally {
      await run(db.close())
    }
  })
})

describe('the record types are the contract', () => {
  it('an override with the wrong signature does not compile', () => {
    const ok = extend(sqliteBoundLimits, (_, base) => ({ limitOffset: (l, o) => fromParts(['/*x*/', base.limitOffset(l, o)]) }))
    expectTypeOf(ok.limitOffset).toEqualTypeOf<Dialect['limitOffset']>()
    // @ts-expect-error limitOffset returns a Fragment, not a string
    extend(sqliteBoundLimits, () => ({ limitOffset: (l: number) => ` LIMIT ${l}` }))
    // @ts-expect-error a misspelt field is not part of the Dialect record
    extend(sqliteBoundLimits, () => ({ limitOfset: () => fromParts([]) }))
    extend(sqliteBoundLimits, () => ({
      quoteIdentifier: (n) => `"${n}"`,
      // @ts-expect-error with `satisfies`, a misspelt field beside a right one is reported too
      limitOfset: () => fromParts([]),
    }) satisfies Partial<Dialect>)
    expect(sqlOf(ok, pipe(from('t'), limit(1))).sql).toBe('SELECT * FROM "t"/*x*/ LIMIT ?')
  })
})
