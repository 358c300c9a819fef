import { pipe } from 'fp-ts/lib/function.js'
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { compose, extend, fromParts, isDbError, sql, supports, type Compilable, type Dialect, run } from 'recordkit'
import {
  add, and, as, between, col, count, deleteFrom, eq, excluded, from, groupBy, gt, having, ilike, insertInto, isIn, isNull,
  join, leftJoin, like, limit, not, offset, onConflict, or, orderBy, paginate, param, returning, select, set, update, val, values,
  where, concat, rightJoin,
} from 'recordkit/query'
import { sqlite } from 'recordkit/dialects/sqlite'
import { standard } from 'recordkit/dialects/standard'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'

const compiled = (d: Dialect, q: Compilable) => {
  const c = d.compile(q)
  if (E.isLeft(c)) throw c.left
  return c.right
}

const db = compose(betterSqlite3({ filename: ':memory:' }), sqlite)
beforeAll(async () => {
  await run(db.execute(sql`CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT UNIQUE, age INTEGER, visits INTEGER NOT NULL DEFAULT 0)`))
  await run(db.execute(sql`CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users (id), title TEXT)`))
  await run(db.execute(pipe(insertInto('users'), values([
    { name: 'Ada', email: 'ada@x', age: 36 }, { name: 'Grace', email: 'grace@x', age: 45 }, { name: 'Linus', email: 'linus@x', age: null },
  ]))))
  await run(db.execute(pipe(insertInto('posts'), values([{ user_id: 1, title: 'Engines' }, { user_id: 1, title: 'Notes' }, { user_id: 2, title: 'COBOL' }]))))
})
afterAll(() => run(db.close()))

/** Each case: the query, its exact SQLite SQL and parameters, and the rows it gives. */
const cases: readonly { name: string; q: Compilable; sql: string; params: unknown[]; rows?: unknown[] }[] = [
  {
    name: 'point select',
    q: pipe(from('users'), select('id', 'name'), where(eq('id', 1))),
    sql: 'SELECT "id", "name" FROM "users" WHERE "id" = ?', params: [1], rows: [{ id: 1, name: 'Ada' }],
  },
  {
    name: 'aliases, DISTINCT-free filter, order, limit, offset',
    q: pipe(from('users u'), select('u.name as n'), where(and(gt('u.age', 30), or(like('u.name', 'A%'), eq('u.name', 'Grace')))), orderBy('u.name', 'desc'), limit(5), offset(0)),
    sql: 'SELECT "u"."name" AS "n" FROM "users" AS "u" WHERE "u"."age" > ? AND ("u"."name" LIKE ? OR "u"."name" = ?) ORDER BY "u"."name" DESC LIMIT 5 OFFSET 0',
    params: [30, 'A%', 'Grace'], rows: [{ n: 'Grace' }, { n: 'Ada' }],
  },
  {
    // Row counts are written into the text: SQLite plans a statement with `LIMIT ?` again on every run.
    name: 'OFFSET without LIMIT becomes LIMIT -1',
    q: pipe(from('users'), select('name'), orderBy('id'), offset(2)),
    sql: 'SELECT "name" FROM "users" ORDER BY "id" ASC LIMIT -1 OFFSET 2', params: [], rows: [{ name: 'Linus' }],
  },
  {
    name: 'paginate',
    q: pipe(from('users'), select('name'), orderBy('id'), paginate({ page: 2, perPage: 2 })),
    sql: 'SELECT "name" FROM "users" ORDER BY "id" ASC LIMIT 2 OFFSET 2', params: [], rows: [{ name: 'Linus' }],
  },
  {
    name: 'IN, BETWEEN, NOT, IS NULL, ILIKE',
    q: pipe(from('users'), select('name'), where(or(isIn('id', [1, 2]), between('age', 1, 2), not(eq('name', 'x')), isNull('age'), ilike('name', 'LIN%'))), orderBy('id'), limit(1)),
    sql: 'SELECT "name" FROM "users" WHERE "id" IN (?, ?) OR "age" BETWEEN ? AND ? OR NOT ("name" = ?) OR "age" IS NULL OR LOWER("name") LIKE LOWER(?) ORDER BY "id" ASC LIMIT 1',
    params: [1, 2, 1, 2, 'x', 'LIN%'], rows: [{ name: 'Ada' }],
  },
  {
    name: 'join, group by, having, count',
    q: pipe(from('users u'), join('posts p', ['p.user_id', 'u.id']), select('u.name', as(count(), 'posts')), groupBy('u.name'), having(gt(count(), 1))),
    sql: 'SELECT "u"."name", COUNT(*) AS "posts" FROM "users" AS "u" INNER JOIN "posts" AS "p" ON "p"."user_id" = "u"."id" GROUP BY "u"."name" HAVING COUNT(*) > ?',
    params: [1], rows: [{ name: 'Ada', posts: 2 }],
  },
  {
    name: 'left join with COUNT(col)',
    q: pipe(from('users u'), leftJoin('posts p', eq('p.user_id', col('u.id'))), select('u.name', as(count('p.id'), 'n')), groupBy('u.name'), orderBy('u.name')),
    sql: 'SELECT "u"."name", COUNT("p"."id") AS "n" FROM "users" AS "u" LEFT JOIN "posts" AS "p" ON "p"."user_id" = "u"."id" GROUP BY "u"."name" ORDER BY "u"."name" ASC',
    params: [], rows: [{ name: 'Ada', n: 2 }, { name: 'Grace', n: 1 }, { name: 'Linus', n: 0 }],
  },
  {
    name: 'string concatenation and arithmetic',
    q: pipe(from('users'), select(as(concat('name', val('!')), 'shout'), as(add('age', val(1)), 'next')), where({ id: 1 })),
    sql: 'SELECT "name" || ? AS "shout", "age" + ? AS "next" FROM "users" WHERE "id" = ?', params: ['!', 1, 1], rows: [{ shout: 'Ada!', next: 37 }],
  },
  {
    name: 'sql fragment with identifiers and values',
    q: sql`SELECT ${sql.id('name')} FROM ${sql.id('users')} WHERE ${sql.id('email')} = ${'grace@x'}`,
    sql: 'SELECT "name" FROM "users" WHERE "email" = ?', params: ['grace@x'], rows: [{ name: 'Grace' }],
  },
]

describe('sqlite dialect: exact SQL and parameters, executed', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const out = compiled(db.dialect, c.q)
      expect(out.sql).toBe(c.sql)
      expect(out.params).toEqual(c.params)
      if (c.rows) expect(await run(db.all(c.q))).toEqual(c.rows)
    })
  }

  it('INSERT one, many and with RETURNING', async () => {
    const one = pipe(insertInto('users'), values({ name: 'Hedy', email: 'hedy@x' }), returning('id', 'name'))
    expect(compiled(db.dialect, one)).toEqual({ sql: 'INSERT INTO "users" ("name", "email") VALUES (?, ?) RETURNING "id", "name"', params: ['Hedy', 'hedy@x'] })
    expect(await run(db.all(one))).toEqual([{ id: 4, name: 'Hedy' }])
    const many = pipe(insertInto('users'), values([{ name: 'K', email: 'k@x' }, { name: 'L', email: 'l@x' }]))
    expect(compiled(db.dialect, many).sql).toBe('INSERT INTO "users" ("name", "email") VALUES (?, ?), (?, ?)')
    expect((await run(db.execute(many))).rowsAffected).toBe(2)
  })

  it('INSERT drops a column that every row leaves to its DEFAULT, and uses DEFAULT VALUES when none is given', async () => {
    const q = pipe(insertInto('posts'), values([{ title: 'a' }, { title: 'b' }]))
    expect(compiled(db.dialect, q).sql).toBe('INSERT INTO "posts" ("title") VALUES (?), (?)')
    expect(compiled(db.dialect, pipe(insertInto('posts'), values({}))).sql).toBe('INSERT INTO "posts" DEFAULT VALUES')
    expect((await run(db.execute(pipe(insertInto('posts'), values({}))))).rowsAffected).toBe(1)
  })

  it('INSERT with mixed column sets is a clear UnsupportedFeature on SQLite (no DEFAULT keyword), and the standard dialect renders DEFAULT', () => {
    const q = pipe(insertInto('users'), values([{ name: 'a', email: 'a@y' }, { name: 'b' }]))
    const r = db.compile(q)
    expect(E.isLeft(r) && r.left._tag).toBe('UnsupportedFeature')
    expect(compiled(standard, q).sql).toBe('INSERT INTO "users" ("name", "email") VALUES (?, ?), (?, DEFAULT)')
  })

  it('UPDATE and DELETE with RETURNING', async () => {
    const u = pipe(update('users'), set({ visits: add('visits', val(1)) }), where({ name: 'Ada' }), returning('visits'))
    expect(compiled(db.dialect, u)).toEqual({ sql: 'UPDATE "users" SET "visits" = "visits" + ? WHERE "name" = ? RETURNING "visits"', params: [1, 'Ada'] })
    expect(await run(db.all(u))).toEqual([{ visits: 1 }])
    const d = pipe(deleteFrom('posts'), where(isNull('user_id')), returning('title'))
    expect(compiled(db.dialect, d).sql).toBe('DELETE FROM "posts" WHERE "user_id" IS NULL RETURNING "title"')
    expect(await run(db.all(d))).toEqual([{ title: null }])
  })

  it('upsert: do nothing, do update with the proposed row, with a condition', async () => {
    const nothing = pipe(insertInto('users'), values({ name: 'Ada2', email: 'ada@x' }), onConflict(['email'], 'nothing'))
    expect(compiled(db.dialect, nothing).sql).toBe('INSERT INTO "users" ("name", "email") VALUES (?, ?) ON CONFLICT ("email") DO NOTHING')
    expect((await run(db.execute(nothing))).rowsAffected).toBe(0)
    const upd = pipe(insertInto('users'), values({ name: 'Ada Lovelace', email: 'ada@x' }), onConflict(['email'], { name: excluded('name'), visits: add('users.visits', val(10)) }, { where: gt('users.visits', 0) }))
    expect(compiled(db.dialect, upd)).toEqual({
      sql: 'INSERT INTO "users" ("name", "email") VALUES (?, ?) ON CONFLICT ("email") DO UPDATE SET "name" = EXCLUDED."name", "visits" = "users"."visits" + ? WHERE "users"."visits" > ?',
      params: ['Ada Lovelace', 'ada@x', 10, 0],
    })
    await run(db.execute(upd))
    expect(await run(db.all(pipe(from('users'), select('name', 'visits'), where({ email: 'ada@x' }))))).toEqual([{ name: 'Ada Lovelace', visits: 11 }])
  })

  it('values that look like SQL stay parameters', async () => {
    const evil = "'; DROP TABLE users; --"
    const q = pipe(from('users'), where(eq('name', evil)))
    expect(compiled(db.dialect, q)).toEqual({ sql: 'SELECT * FROM "users" WHERE "name" = ?', params: [evil] })
    expect(await run(db.all(q))).toEqual([])
  })

  it('identifiers with quotes are escaped; a NUL in an identifier is refused', () => {
    expect(sqlite.quoteIdentifier('a"b')).toBe('"a""b"')
    expect(compiled(db.dialect, pipe(from('we"ird'), select('c"ol'))).sql).toBe('SELECT "c""ol" FROM "we""ird"')
    const r = db.compile(pipe(from('bad\0name')))
    expect(E.isLeft(r) && r.left._tag).toBe('QueryError')
  })

  it('function names are checked', () => {
    const r = db.compile(sql`SELECT 1`)
    expect(E.isRight(r)).toBe(true)
    const { fn } = { fn: (name: string) => ({ kind: 'func', name, args: [] }) as const }
    const bad = db.compile(pipe(from('users'), select({ x: fn('count(*)); DROP TABLE users; --') as never })))
    expect(E.isLeft(bad) && bad.left._tag).toBe('QueryError')
  })

  it('parameters are adapted: booleans, dates, JSON and bytes', () => {
    const when = new Date('2024-01-02T03:04:05.006Z')
    const out = compiled(db.dialect, sql`SELECT ${true}, ${false}, ${when}, ${{ a: [1] }}, ${new Uint8Array([1, 2])}, ${null}, ${10n}`)
    expect(out.params.slice(0, 4)).toEqual([1, 0, '2024-01-02 03:04:05.006', '{"a":[1]}'])
    expect(Buffer.isBuffer(out.params[4])).toBe(true)
    expect(out.params.slice(5)).toEqual([null, 10n])
  })
})

describe('sqlite dialect: version gating decides capabilities', () => {
  it('RETURNING needs 3.35, upsert 3.24, RIGHT/FULL JOIN 3.39', () => {
    const old = sqlite.forVersion('3.31.1')
    expect(supports(old, 'returning')).toBe(false)
    expect(supports(sqlite, 'returning')).toBe(true)
    const r = old.compile(pipe(insertInto('t'), values({ a: 1 }), returning('id')))
    expect(E.isLeft(r) && r.left._tag === 'UnsupportedFeature' && r.left.message).toContain('RETURNING')
    expect(old.maxParams).toBe(999)
    expect(sqlite.forVersion('3.34.0').maxParams).toBe(32766)
        expect(E.isLeft(sqlite.forVersion('3.20.0').compile(pipe(insertInto('t'), values({ a: 1 }), onConflict(['a'], 'nothing'))))).toBe(true)
    expect(E.isLeft(sqlite.forVersion('3.38.0').compile(pipe(from('a'), rightJoin('b', ['a.id', 'b.id']))))).toBe(true)
    expect(E.isRight(sqlite.forVersion('3.39.0').compile(pipe(from('a'), rightJoin('b', ['a.id', 'b.id']))))).toBe(true)
  })

  it('compose specialises the dialect to the linked SQLite library', () => {
    expect(db.dialect.version).toMatch(/^3\.\d+\.\d+$/)
    expect(db.dialect.version).not.toBe(sqlite.version === db.dialect.version ? 'never' : sqlite.version)
  })

  it('transaction statements: BEGIN, BEGIN IMMEDIATE, savepoints; read-only is refused', () => {
    expect(sqlite.beginTransaction({})).toEqual(['BEGIN'])
    expect(sqlite.beginTransaction({ behavior: 'immediate' })).toEqual(['BEGIN IMMEDIATE'])
    expect(sqlite.beginTransaction({ isolation: 'serializable' })).toEqual(['BEGIN'])
    expect(() => sqlite.beginTransaction({ readOnly: true })).toThrow(/read-only/)
    expect(sqlite.savepoint('s1')).toBe('SAVEPOINT "s1"')
    expect(sqlite.rollbackToSavepoint('s1')).toBe('ROLLBACK TO SAVEPOINT "s1"')
    expect(sqlite.releaseSavepoint('s1')).toBe('RELEASE SAVEPOINT "s1"')
  })
})

describe('extend: one override reaches every statement that uses it', () => {
  const bracket = extend(sqlite, (_, base) => ({ quoteIdentifier: (n: string) => `[${n.replace(/]/g, ']]')}]`, limitOffset: base.limitOffset }))

  it('quoteIdentifier shows in SELECT, INSERT, UPDATE, DELETE, upsert, RETURNING, savepoints and sql.id', () => {
    expect(compiled(bracket, pipe(from('t'), select('a'), where({ b: 1 }))).sql).toBe('SELECT [a] FROM [t] WHERE [b] = ?')
    expect(compiled(bracket, pipe(insertInto('t'), values({ a: 1 }), onConflict(['a'], ['a']), returning('a'))).sql)
      .toBe('INSERT INTO [t] ([a]) VALUES (?) ON CONFLICT ([a]) DO UPDATE SET [a] = EXCLUDED.[a] RETURNING [a]')
    expect(compiled(bracket, pipe(update('t'), set({ a: 1 }), where({ b: 2 }))).sql).toBe('UPDATE [t] SET [a] = ? WHERE [b] = ?')
    expect(compiled(bracket, pipe(deleteFrom('t'), where({ b: 2 }))).sql).toBe('DELETE FROM [t] WHERE [b] = ?')
    expect(compiled(bracket, sql`SELECT ${sql.id('x.y')}`).sql).toBe('SELECT [x].[y]')
    expect(bracket.savepoint('s')).toBe('SAVEPOINT [s]')
  })

  it('limitOffset shows in SELECT, OFFSET-only and paginate', () => {
    const top = extend(sqlite, () => ({
      limitOffset: (l?: unknown, o?: unknown) => fromParts([` /* ${String(l)},${String(o)} */`]),
    }) as Partial<Dialect>)
    expect(compiled(top, pipe(from('t'), limit(3))).sql).toBe('SELECT * FROM "t" /* 3,undefined */')
    expect(compiled(top, pipe(from('t'), offset(4))).sql).toBe('SELECT * FROM "t" /* undefined,4 */')
    expect(compiled(top, pipe(from('t'), paginate({ page: 2, perPage: 10 }))).sql).toBe('SELECT * FROM "t" /* 10,10 */')
  })

  it('placeholder shows in every parameter; extend(extend(...)) stacks with base as super', () => {
    const dollar = extend(sqlite, () => ({ placeholder: (i: number) => `$${i}` }))
    const tagged = extend(dollar, (_, base) => ({ placeholder: (i: number) => `${base.placeholder(i)}::x` }))
    expect(compiled(dollar, pipe(from('t'), where({ a: 1, b: 2 }), limit(param('n')))).sql).toBe('SELECT * FROM "t" WHERE "a" = $1 AND "b" = $2 LIMIT $3')
    expect(compiled(tagged, pipe(from('t'), where({ a: 1 }))).sql).toBe('SELECT * FROM "t" WHERE "a" = $1::x')
    expect(tagged.name).toBe('sqlite')
  })

  it('overriding expr-level functions (binary, func, excluded, returning) changes the statements that use them', () => {
    const loud = extend(sqlite, (_, base) => ({
      func: (f) => fromParts(['/*fn*/', base.func(f)]),
      excluded: (c) => fromParts([`excluded.${c}`]),
      returning: (items) => fromParts([' /*ret*/', base.returning(items)]),
      binary: (op, l, r) => (op === '=' ? fromParts([base.binary('=', l, r), ' /*eq*/']) : base.binary(op, l, r)),
    }))
    expect(compiled(loud, pipe(from('t'), select(as(count(), 'n')), where({ a: 1 }))).sql).toBe('SELECT /*fn*/COUNT(*) AS "n" FROM "t" WHERE "a" = ? /*eq*/')
    expect(compiled(loud, pipe(insertInto('t'), values({ a: 1 }), onConflict(['a'], ['b']), returning('a'))).sql)
      .toBe('INSERT INTO "t" ("a") VALUES (?) ON CONFLICT ("a") DO UPDATE SET "b" = excluded.b /*ret*/ RETURNING "a"')
    expect(compiled(loud, pipe(deleteFrom('t'), returning('a'))).sql).toBe('DELETE FROM "t" /*ret*/ RETURNING "a"')
  })

  it('records are frozen; the base record is unchanged', () => {
    expect(Object.isFrozen(sqlite)).toBe(true)
    expect(Object.isFrozen(bracket)).toBe(true)
    expect(Object.isFrozen(db)).toBe(true)
    expect(sqlite.quoteIdentifier('a')).toBe('"a"')
  })
})

describe('builder input that names no query is refused where it is given', () => {
  const thrown = (f: () => unknown): unknown => {
    try {
      f()
    } catch (e) {
      return e
    }
    return undefined
  }

  it('a condition object with an undefined value throws a ValidationError naming the column', () => {
    const input: { email?: string } = {}
    const e = thrown(() => pipe(update('users'), set({ banned: true }), where({ email: input.email })))
    expect(isDbError(e, 'ValidationError') && [e.message, e.issues.map((i) => [i.path, i.rule])]).toEqual([
      'where: "email" is undefined (pass null for IS NULL, or leave the key out)', [['email', 'defined']],
    ])
    expect(isDbError(thrown(() => pipe(from('t'), where({ a: 1, b: undefined }))), 'ValidationError')).toBe(true)
    // null is IS NULL, as before.
    expect(compiled(sqlite, pipe(from('t'), where({ a: null }))).sql).toBe('SELECT * FROM "t" WHERE "a" IS NULL')
  })

  it('paginate refuses a page or page size that is not an integer from 1', () => {
    for (const [page, perPage, path] of [[1.5, 2, 'page'], [0, 2, 'page'], [-3, 2, 'page'], [2, 0, 'perPage'], [1, 2.5, 'perPage'], [Number.NaN, 2, 'page']] as const) {
      const e = thrown(() => paginate({ page, perPage }))
      expect(isDbError(e, 'ValidationError') && e.issues.map((i) => i.path), `${page}/${perPage}`).toEqual([path])
    }
    expect(compiled(sqlite, pipe(from('t'), paginate({ page: 3, perPage: 10 })))).toEqual({ sql: 'SELECT * FROM "t" LIMIT 10 OFFSET 20', params: [] })
  })
})
