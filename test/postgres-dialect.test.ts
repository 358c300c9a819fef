/**
 * The PostgreSQL dialect: exact SQL and parameters for each statement form, then the same
 * statement run on a real PostgreSQL server.
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type Backend, connect, extend, type Compilable, type Dialect, isDbError, type Compiled, sql } from 'recordkit'
import { arrayLiteral, json, postgres, toPostgres, unnest } from 'recordkit/dialects/postgres'
import { postgresJs } from 'recordkit/drivers/postgres'
import { run } from 'recordkit/promise'
import { add, and, as, count, deleteFrom, eq, excluded, from, gt, ilike, insertInto, isIn, limit, notIlike, offset, onConflict, orderBy, paginate, returning, select, set, update, val, values, where } from 'recordkit/query'
import { PG_URL, serverAvailable } from './support/servers.js'

const available = await serverAvailable('postgres')

const compiled = (q: Compilable, d: Dialect = postgres): Compiled => {
  const c = d.compile(q)
  if (E.isLeft(c)) throw c.left
  return c.right
}


describe('postgres dialect: SQL text and parameters', () => {
  it('select with $n placeholders, quoting, ILIKE, ORDER BY, LIMIT and OFFSET', () => {
    expect(compiled(pipe(from('pgx_users'), select('id', 'name'), where(and(ilike('name', 'a%'), gt('age', 18))), orderBy('id', 'desc'), limit(10), offset(20)))).toEqual({
      sql: 'SELECT "id", "name" FROM "pgx_users" WHERE "name" ILIKE $1 AND "age" > $2 ORDER BY "id" DESC LIMIT $3 OFFSET $4',
      params: ['a%', 18, 10, 20],
    })
  })

  it('NOT ILIKE', () => {
    expect(compiled(pipe(from('pgx_users'), where(notIlike('name', '%x%'))))).toEqual({
      sql: 'SELECT * FROM "pgx_users" WHERE "name" NOT ILIKE $1',
      params: ['%x%'],
    })
  })

  it('OFFSET without LIMIT, and paginate', () => {
    expect(compiled(pipe(from('pgx_users'), offset(5)))).toEqual({ sql: 'SELECT * FROM "pgx_users" OFFSET $1', params: [5] })
    expect(compiled(pipe(from('pgx_users'), paginate({ page: 3, perPage: 25 })))).toEqual({
      sql: 'SELECT * FROM "pgx_users" LIMIT $1 OFFSET $2',
      params: [25, 50],
    })
  })

  it('quotes identifiers with embedded quotes', () => {
    expect(compiled(pipe(from('pgx_users'), select('we"ird')))).toEqual({ sql: 'SELECT "we""ird" FROM "pgx_users"', params: [] })
  })

  it('insert with RETURNING, and DEFAULT in multi-row VALUES', () => {
    expect(compiled(pipe(insertInto('pgx_users'), values([{ name: 'Ada', age: 36 }, { name: 'Grace' }]), returning('id', 'name')))).toEqual({
      sql: 'INSERT INTO "pgx_users" ("name", "age") VALUES ($1, $2), ($3, DEFAULT) RETURNING "id", "name"',
      params: ['Ada', 36, 'Grace'],
    })
  })

  it('update with RETURNING', () => {
    expect(compiled(pipe(update('pgx_users'), set({ age: add('age', val(1)) }), where({ name: 'Ada' }), returning('age')))).toEqual({
      sql: 'UPDATE "pgx_users" SET "age" = "age" + $1 WHERE "name" = $2 RETURNING "age"',
      params: [1, 'Ada'],
    })
  })

  it('delete with RETURNING', () => {
    expect(compiled(pipe(deleteFrom('pgx_users'), where(isIn('id', [1, 2])), returning('*')))).toEqual({
      sql: 'DELETE FROM "pgx_users" WHERE "id" IN ($1, $2) RETURNING *',
      params: [1, 2],
    })
  })

  it('upsert: ON CONFLICT ... DO UPDATE SET col = EXCLUDED.col, with a WHERE', () => {
    expect(compiled(pipe(insertInto('pgx_users'), values({ email: 'a@x', name: 'Ada', visits: 1 }),
      onConflict(['email'], { name: excluded('name'), visits: add('pgx_users.visits', excluded('visits')) }, { where: gt('pgx_users.visits', 0) }),
      returning('visits')))).toEqual({
      sql: 'INSERT INTO "pgx_users" ("email", "name", "visits") VALUES ($1, $2, $3) ON CONFLICT ("email") DO UPDATE SET "name" = EXCLUDED."name", "visits" = "pgx_users"."visits" + EXCLUDED."visits" WHERE "pgx_users"."visits" > $4 RETURNING "visits"',
      params: ['a@x', 'Ada', 1, 0],
    })
  })

  it('upsert: DO NOTHING', () => {
    expect(compiled(pipe(insertInto('pgx_users'), values({ email: 'a@x' }), onConflict(['email'], 'nothing')))).toEqual({
      sql: 'INSERT INTO "pgx_users" ("email") VALUES ($1) ON CONFLICT ("email") DO NOTHING',
      params: ['a@x'],
    })
  })

  it('BEGIN with isolation level, access mode and deferrable', () => {
    expect(postgres.beginTransaction({})).toEqual(['BEGIN'])
    expect(postgres.beginTransaction({ isolation: 'read committed' })).toEqual(['BEGIN ISOLATION LEVEL READ COMMITTED'])
    expect(postgres.beginTransaction({ isolation: 'repeatable read', readOnly: false })).toEqual(['BEGIN ISOLATION LEVEL REPEATABLE READ, READ WRITE'])
    expect(postgres.beginTransaction({ readOnly: true })).toEqual(['BEGIN READ ONLY'])
    expect(postgres.beginTransaction({ isolation: 'serializable', readOnly: true, deferrable: true })).toEqual(['BEGIN ISOLATION LEVEL SERIALIZABLE, READ ONLY, DEFERRABLE'])
    expect(postgres.beginTransaction({ isolation: 'serializable', deferrable: false })).toEqual(['BEGIN ISOLATION LEVEL SERIALIZABLE, NOT DEFERRABLE'])
    expect(postgres.beginTransaction({ behavior: 'immediate' })).toEqual(['BEGIN'])
    expect([postgres.commit(), postgres.rollback(), postgres.savepoint('s1'), postgres.releaseSavepoint('s1'), postgres.rollbackToSavepoint('s1')])
      .toEqual(['COMMIT', 'ROLLBACK', 'SAVEPOINT "s1"', 'RELEASE SAVEPOINT "s1"', 'ROLLBACK TO SAVEPOINT "s1"'])
  })

  it('raw fragments get $n placeholders in order', () => {
    expect(compiled(sql`SELECT ${1} AS a, ${'x'} AS b FROM ${sql.id('pgx_users')} WHERE ${sql.id('u.id')} = ${2}`)).toEqual({
      sql: 'SELECT $1 AS a, $2 AS b FROM "pgx_users" WHERE "u"."id" = $3',
      params: [1, 'x', 2],
    })
  })

  it('forVersion records the server version and keeps every override', () => {
    const v = postgres.forVersion('14.9 (Debian 14.9-1.pgdg120+1)')
    expect(v.version).toBe('14.9')
    expect(v.name).toBe('postgres')
    expect(compiled(pipe(from('t'), where(ilike('a', 'x'))), v).sql).toBe('SELECT * FROM "t" WHERE "a" ILIKE $1')
  })

  it('an override of limitOffset shows up in every SELECT (late binding)', () => {
    const fetchFirst = extend(postgres, () => ({
      limitOffset: (l, o) => sql`${o === undefined ? sql.empty : sql` OFFSET ${o} ROWS`}${l === undefined ? sql.empty : sql` FETCH FIRST ${l} ROWS ONLY`}`,
    }))
    expect(compiled(pipe(from('pgx_users'), where({ id: 1 }), limit(5), offset(10)), fetchFirst)).toEqual({
      sql: 'SELECT * FROM "pgx_users" WHERE "id" = $1 OFFSET $2 ROWS FETCH FIRST $3 ROWS ONLY',
      params: [1, 10, 5],
    })
    expect(compiled(pipe(from('pgx_users'), limit(5)), fetchFirst.forVersion('16.1')).sql).toBe('SELECT * FROM "pgx_users" FETCH FIRST $1 ROWS ONLY')
  })

  it('an override of placeholder shows up everywhere', () => {
    const named = extend(postgres, () => ({ placeholder: (i: number) => `:p${i}` }))
    expect(compiled(pipe(from('t'), where({ a: 1, b: 2 })), named).sql).toBe('SELECT * FROM "t" WHERE "a" = :p1 AND "b" = :p2')
  })
})

describe('postgres dialect: value adapters', () => {
  it('arrays are PostgreSQL array literals, objects and json() are JSON text', () => {
    expect(toPostgres([1, 2, 3])).toBe('{1,2,3}')
    expect(toPostgres([])).toBe('{}')
    expect(toPostgres([[1, 2], [3, null]])).toBe('{{1,2},{3,NULL}}')
    expect(toPostgres(['a"b', 'c\\d', 'e,f', null, undefined])).toBe('{"a\\"b","c\\\\d","e,f",NULL,NULL}')
    expect(toPostgres([true, false, 10n, -0, Number.NaN, new Date(0)])).toBe('{t,f,10,-0,NaN,"1970-01-01 00:00:00.000+00"}')
    expect(toPostgres([Buffer.from([1, 255])])).toBe('{"\\\\x01ff"}')
    expect(toPostgres([{ a: 1 }])).toBe('{"{\\"a\\":1}"}')
    expect(toPostgres({ a: [1, 'x'], n: null })).toBe('{"a":[1,"x"],"n":null}')
    expect(toPostgres(json([1, 2]))).toBe('[1,2]')
    expect(toPostgres(json('s'))).toBe('"s"')
    expect(toPostgres({ big: 2n ** 64n + 1n })).toBe('{"big":18446744073709551617}')
    expect(arrayLiteral(['x'])).toBe('{"x"}')
  })

  it('scalars pass through; undefined is NULL; Uint8Array becomes a Buffer; an invalid Date fails', () => {
    const d = new Date(0)
    expect([toPostgres('s'), toPostgres(1.5), toPostgres(true), toPostgres(5n), toPostgres(undefined), toPostgres(null), toPostgres(d)]).toEqual(['s', 1.5, true, 5n, null, null, d])
    expect(Buffer.isBuffer(toPostgres(new Uint8Array([1, 2])))).toBe(true)
    expect(toPostgres(new URL('http://x/'))).toBe('http://x/')
    const bad = postgres.compile(sql`SELECT ${new Date(NaN)}`)
    expect(E.isLeft(bad) && bad.left._tag).toBe('ValidationError')
  })
})

describe('postgres dialect: unnest batch insert', () => {
  const rows = [{ id: 1, name: 'a', price: '1.50' }, { id: 2, name: 'b"c', price: '2' }]

  it('renders one typed array per column', () => {
    expect(compiled(pipe(insertInto('pgx_items'), values(rows), unnest({ id: 'int4', name: 'text', price: 'numeric(20, 2)' }), returning('id')))).toEqual({
      sql: 'INSERT INTO "pgx_items" ("id", "name", "price") SELECT * FROM unnest($1::int4[], $2::text[], $3::numeric(20, 2)[]) RETURNING "id"',
      params: ['{1,2}', '{"a","b\\"c"}', '{"1.50","2"}'],
    })
  })

  it('drops all-DEFAULT columns and falls back to VALUES for mixed DEFAULT or expressions', () => {
    const types = { id: 'int4', name: 'text', price: 'numeric' }
    expect(compiled(pipe(insertInto('pgx_items'), values([{ id: 1 }, { id: 2 }]), unnest(types))).sql)
      .toBe('INSERT INTO "pgx_items" ("id") SELECT * FROM unnest($1::int4[])')
    expect(compiled(pipe(insertInto('pgx_items'), values([{ id: 1, name: 'x' }, { id: 2 }]), unnest(types))).sql)
      .toBe('INSERT INTO "pgx_items" ("id", "name") VALUES ($1, $2), ($3, DEFAULT)')
    expect(compiled(pipe(insertInto('pgx_items'), values([{ id: 1, name: sql`upper(${'x'})` }]), unnest(types))).sql)
      .toBe('INSERT INTO "pgx_items" ("id", "name") VALUES ($1, upper($2))')
  })

  it('refuses a missing type, an array type and a type that is not a name', () => {
    const tagOf = (q: Compilable): string | undefined => {
      const c = postgres.compile(q)
      return E.isLeft(c) ? `${c.left._tag}: ${c.left.message}` : undefined
    }
    expect(tagOf(pipe(insertInto('pgx_items'), values(rows), unnest({ id: 'int4', name: 'text' })))).toMatch(/QueryError: unnest: no PostgreSQL type given for column "price"/)
    expect(tagOf(pipe(insertInto('pgx_items'), values([{ tags: [1] }]), unnest({ tags: 'int4[]' })))).toMatch(/flattens nested arrays/)
    expect(tagOf(pipe(insertInto('pgx_items'), values([{ id: 1 }]), unnest({ id: 'int4); DROP TABLE x; --' })))).toMatch(/not a type name/)
  })

  it('other dialects ignore the marker and render VALUES', async () => {
    const { sqlite } = await import('recordkit/dialects/sqlite')
    expect(compiled(pipe(insertInto('pgx_items'), values(rows), unnest({ id: 'int4', name: 'text', price: 'numeric' })), sqlite).sql)
      .toBe('INSERT INTO "pgx_items" ("id", "name", "price") VALUES (?, ?, ?), (?, ?, ?)')
  })
})

describe.skipIf(!available)('postgres dialect: the statements run on PostgreSQL', () => {
  let db: Backend

  beforeAll(async () => {
    db = await run(connect(postgresJs({ url: PG_URL, max: 4 }), postgres))
    await run(db.execute(sql`DROP TABLE IF EXISTS pgx_d_users, pgx_d_items`))
    await run(db.execute(sql`CREATE TABLE pgx_d_users (id serial PRIMARY KEY, email text UNIQUE, name text NOT NULL DEFAULT 'anon', age int, visits int NOT NULL DEFAULT 0)`))
    await run(db.execute(sql`CREATE TABLE pgx_d_items (id int PRIMARY KEY, name text, price numeric(20, 2), at timestamptz, meta jsonb, tags text[], note text DEFAULT 'n')`))
  })

  afterAll(async () => {
    if (db === undefined) return
    await run(db.execute(sql`DROP TABLE IF EXISTS pgx_d_users, pgx_d_items`))
    await run(db.close())
  })

  beforeEach(async () => {
    await run(db.execute(sql`TRUNCATE pgx_d_users, pgx_d_items RESTART IDENTITY`))
  })

  it('the server reports its version and the dialect is specialised to it', () => {
    expect(db.dialect.version).toMatch(/^\d+(\.\d+)?/)
    expect(db.dialect.name).toBe('postgres')
  })

  it('insert ... RETURNING, select with ILIKE / NOT ILIKE, LIMIT / OFFSET', async () => {
    const inserted = await run(db.all(pipe(insertInto('pgx_d_users'), values([{ email: 'ada@x', name: 'Ada', age: 36 }, { email: 'al@x', name: 'alan', age: 41 }, { email: 'g@x', name: 'Grace' }]), returning('id', 'name'))))
    expect(inserted).toEqual([{ id: 1, name: 'Ada' }, { id: 2, name: 'alan' }, { id: 3, name: 'Grace' }])
    expect(await run(db.all(pipe(from('pgx_d_users'), select('name'), where(ilike('name', 'a%')), orderBy('id'))))).toEqual([{ name: 'Ada' }, { name: 'alan' }])
    expect(await run(db.all(pipe(from('pgx_d_users'), select('name'), where(notIlike('name', 'A%')))))).toEqual([{ name: 'Grace' }])
    expect(await run(db.all(pipe(from('pgx_d_users'), select('id'), orderBy('id'), limit(1), offset(1))))).toEqual([{ id: 2 }])
    expect(await run(db.all(pipe(from('pgx_d_users'), select('id'), orderBy('id'), offset(2))))).toEqual([{ id: 3 }])
    expect(await run(db.all(pipe(from('pgx_d_users'), select(as(count(), 'n')))))).toEqual([{ n: 3 }])
  })

  it('update and delete with RETURNING report the rows they touched', async () => {
    await run(db.execute(pipe(insertInto('pgx_d_users'), values([{ email: 'a', name: 'Ada', age: 1 }, { email: 'b', name: 'Bo', age: 2 }]))))
    const up = await run(db.execute(pipe(update('pgx_d_users'), set({ age: add('age', val(10)) }), where(gt('age', 0)), returning('email', 'age'))))
    expect(up.rowsAffected).toBe(2)
    expect([...up.rows].sort((a, b) => String(a.email).localeCompare(String(b.email)))).toEqual([{ email: 'a', age: 11 }, { email: 'b', age: 12 }])
    const del = await run(db.execute(pipe(deleteFrom('pgx_d_users'), where({ email: 'a' }), returning('name'))))
    expect(del).toMatchObject({ rows: [{ name: 'Ada' }], rowsAffected: 1 })
    const plain = await run(db.execute(pipe(deleteFrom('pgx_d_users'), where({ email: 'nobody' }))))
    expect(plain).toMatchObject({ rows: [], rowsAffected: 0 })
  })

  it('upsert updates from EXCLUDED, honours its WHERE, and DO NOTHING skips', async () => {
    const upsert = (visits: number) => pipe(insertInto('pgx_d_users'), values({ email: 'a@x', name: `Ada ${visits}`, visits }),
      onConflict(['email'], { name: excluded('name'), visits: add('pgx_d_users.visits', excluded('visits')) }, { where: gt('pgx_d_users.visits', 0) }),
      returning('name', 'visits'))
    expect(await run(db.all(upsert(1)))).toEqual([{ name: 'Ada 1', visits: 1 }])
    expect(await run(db.all(upsert(2)))).toEqual([{ name: 'Ada 2', visits: 3 }])
    const skipped = await run(db.execute(pipe(insertInto('pgx_d_users'), values({ email: 'a@x', name: 'Other' }), onConflict(['email'], 'nothing'), returning('id'))))
    expect(skipped).toMatchObject({ rows: [], rowsAffected: 0 })
    expect(await run(db.all(pipe(from('pgx_d_users'), select('name', 'visits'))))).toEqual([{ name: 'Ada 2', visits: 3 }])
  })

  it('DEFAULT in multi-row VALUES takes the column default', async () => {
    await run(db.execute(pipe(insertInto('pgx_d_users'), values([{ email: 'a', name: 'Ada' }, { email: 'b' }]))))
    expect(await run(db.all(pipe(from('pgx_d_users'), select('name'), orderBy('id'))))).toEqual([{ name: 'Ada' }, { name: 'anon' }])
  })

  it('every BEGIN variant is accepted by the server', async () => {
    for (const o of [{}, { isolation: 'read uncommitted' as const }, { isolation: 'read committed' as const, readOnly: false },
      { isolation: 'repeatable read' as const, readOnly: true }, { isolation: 'serializable' as const, readOnly: true, deferrable: true },
      { isolation: 'serializable' as const, deferrable: false }]) {
      const level = await run(db.transaction(() => db.all(sql`SELECT current_setting('transaction_isolation') AS i, current_setting('transaction_read_only') AS ro`), o))
      expect(level).toEqual([{ i: o.isolation ?? 'read committed', ro: 'readOnly' in o && o.readOnly ? 'on' : 'off' }])
    }
  })

  it('unnest inserts thousands of rows of several types, with RETURNING and ON CONFLICT', async () => {
    const rows = Array.from({ length: 5000 }, (_, i) => ({
      id: i, name: i % 7 === 0 ? null : `n"${i}\\,{}`, price: `${i}.${String(i % 100).padStart(2, '0')}`,
      at: new Date(Date.UTC(2024, 0, 1) + i * 60_000), meta: { i, tags: [i] },
    }))
    const types = { id: 'int4', name: 'text', price: 'numeric(20, 2)', at: 'timestamptz', meta: 'jsonb' }
    const r = await run(db.execute(pipe(insertInto('pgx_d_items'), values(rows), unnest(types), returning('id'))))
    expect(r.rowsAffected).toBe(5000)
    const back = await run(db.all(pipe(from('pgx_d_items'), select('id', 'name', 'price', 'at', 'meta', 'note'), orderBy('id'))))
    expect(back).toEqual(rows.map((x) => ({ ...x, note: 'n' })))
    const again = await run(db.execute(pipe(insertInto('pgx_d_items'), values(rows.slice(0, 3).map((x) => ({ ...x, name: 'new' }))), unnest(types),
      onConflict(['id'], ['name']))))
    expect(again.rowsAffected).toBe(3)
    expect(await run(db.all(pipe(from('pgx_d_items'), select('name'), where(isIn('id', [0, 1, 2])), orderBy('id'))))).toEqual([{ name: 'new' }, { name: 'new' }, { name: 'new' }])
  })

  it('multi-row VALUES and unnest insert the same rows', async () => {
    const rows = [{ id: 1, name: 'a', tags: ['x', 'y'] }, { id: 2, name: null, tags: [] }]
    await run(db.execute(pipe(insertInto('pgx_d_items'), values(rows))))
    const viaValues = await run(db.all(pipe(from('pgx_d_items'), select('id', 'name', 'tags'), orderBy('id'))))
    expect(viaValues).toEqual(rows)
    const bad = await db.execute(pipe(insertInto('pgx_d_items'), values(rows.map((x) => ({ ...x, id: x.id + 10 }))), unnest({ id: 'int4', name: 'text', tags: 'text[]' })))()
    expect(E.isLeft(bad) && isDbError(bad.left, 'QueryError')).toBe(true)
    await run(db.execute(pipe(insertInto('pgx_d_items'), values(rows.map(({ id, name }) => ({ id: id + 10, name }))), unnest({ id: 'int4', name: 'text' }))))
    expect(await run(db.all(pipe(from('pgx_d_items'), select('name'), where(gt('id', 10)), orderBy('id'))))).toEqual([{ name: 'a' }, { name: null }])
  })

  it(`a statement with maxParams (${postgres.maxParams}) parameters runs`, async () => {
    const n = db.dialect.maxParams
    const params = Array.from({ length: n }, (_, i) => i)
    const r = await db.all(sql`SELECT cardinality(ARRAY[${sql.join(params)}]::int[]) AS n`)()
    expect(E.isRight(r) ? r.right : r.left.message.slice(0, 200)).toEqual([{ n }])
    const over = await db.all(sql`SELECT cardinality(ARRAY[${sql.join([...params, n])}]::int[]) AS n`)()
    expect(E.isLeft(over) && [over.left._tag, over.left.code]).toEqual(['QueryError', 'MAX_PARAMETERS_EXCEEDED'])
  })

  it('arrays bind as PostgreSQL arrays (= ANY), objects and json() as JSON', async () => {
    await run(db.execute(pipe(insertInto('pgx_d_items'), values([{ id: 1, meta: json([1, 'two']) }, { id: 2, meta: { a: { b: [true] } } }, { id: 3, meta: json('text') }]))))
    expect(await run(db.all(pipe(from('pgx_d_items'), select('id', 'meta'), where(eq('id', sql`ANY(${[1, 2, 3]})`)), orderBy('id'))))).toEqual([
      { id: 1, meta: [1, 'two'] }, { id: 2, meta: { a: { b: [true] } } }, { id: 3, meta: 'text' },
    ])
    expect(await run(db.all(sql`SELECT ${['a', null, 'b"c']}::text[] AS t, ${[[1, 2], [3, 4]]}::int[] AS m`))).toEqual([{ t: ['a', null, 'b"c'], m: [[1, 2], [3, 4]] }])
  })
})

describe('postgres dialect: identifiers PostgreSQL would cut', () => {
  it('refuses a column alias over 63 bytes, which would come back under a shorter name', () => {
    const long = 'a'.repeat(64)
    const r = postgres.compile(pipe(from('t'), select(as(count(), long))))
    expect(E.isLeft(r) && isDbError(r.left, 'QueryError') && r.left.message).toContain('PostgreSQL cuts identifiers to 63 bytes')
    // 63 bytes is kept: 63 ASCII letters, or 31 two-byte letters and one more byte.
    expect(E.isRight(postgres.compile(pipe(from('t'), select(as(count(), 'a'.repeat(63))))))).toBe(true)
    expect(E.isLeft(postgres.compile(pipe(from('t'), select(as(count(), 'é'.repeat(32))))))).toBe(true)
    expect(E.isRight(postgres.compile(pipe(from('t'), select(as(count(), `${'é'.repeat(31)}a`)))))).toBe(true)
    // 22 three-byte letters are 66 bytes in 22 UTF-16 units; 21 of them are 63.
    expect(E.isLeft(postgres.compile(pipe(from('t'), select(as(count(), '漢'.repeat(22))))))).toBe(true)
    expect(E.isRight(postgres.compile(pipe(from('t'), select(as(count(), '漢'.repeat(21))))))).toBe(true)
  })

  it.skipIf(!available)('a 63-byte alias comes back as itself', async () => {
    const db = await run(connect(postgresJs({ url: PG_URL, max: 1 }), postgres))
    const name = 'b'.repeat(63)
    expect(Object.keys((await run(db.all(sql`SELECT 1 AS ${sql.id(name)}`)))[0])).toEqual([name])
    expect(Object.keys((await run(db.all(pipe(from('pg_class'), select(as(count(), name))))))[0])).toEqual([name])
    await run(db.close())
  })
})
