/**
 * The statement-shape cache of the built-in dialects (src/dialects/shape-cache.ts): a SELECT
 * rebuilt with other values in its WHERE clause (an UPDATE also with other values assigned, a
 * DELETE) compiles to the same text with the new values, a different shape compiles to its own
 * text, and a dialect changed with `extend` compiles every statement afresh, so an override
 * that looks at values still sees each of them.
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { compose, type Dialect, extend, fromParts, isDbError, run } from 'recordkit'
import {
  add, and, between, col, deleteFrom, eq, from, gt, insertInto, isIn, isNotNull, limit, not, notIn, or, orderBy, param, returning, select, set,
  update, val, values, where,
} from 'recordkit/query'
import { mariadb, mysql } from 'recordkit/dialects/mysql'
import { postgres } from 'recordkit/dialects/postgres'
import { sqlite } from 'recordkit/dialects/sqlite'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'
import * as t from 'io-ts'
import { model, snakeCase } from 'recordkit/model'
// Internals on purpose: whether the cache answers at all, and what a model read hands it.
import { builtIn, shapeCache } from '../src/dialects/shape-cache.js'
import { queryReading } from '../src/model/in-place.js'

const compiled = (d: Dialect, q: Parameters<Dialect['compile']>[0]) => {
  const c = d.compile(q)
  if (E.isLeft(c)) throw c.left
  return c.right
}

const dialects: readonly (readonly [string, Dialect])[] = [
  ['sqlite', sqlite.forVersion('3.45.0')],
  ['postgres', postgres.forVersion('15.2')],
  ['mariadb', mariadb.forVersion('10.11.5')],
]

describe.each(dialects)('%s: rebuilt statements', (_, d) => {
  const users = (id: unknown, ids: readonly unknown[], low: unknown) =>
    pipe(from('users'), select('id', 'name'), where(and(eq('id', id), or(isIn('group_id', ids), between('age', low, 99)), isNotNull('email'))), orderBy('id'), limit(5))

  // SQLite writes a LIMIT into the text; the other engines bind it.
  const limited = (params: readonly unknown[], n: number) => (d.name === 'sqlite' ? params : [...params, n])

  it('give the text of the first compile, with their own values in order', () => {
    const first = compiled(d, users(1, [10, 11], 18))
    const again = compiled(d, users(2, [20, 21], 30))
    expect(again.sql).toBe(first.sql)
    expect(first.params).toEqual(limited([1, 10, 11, 18, 99], 5))
    expect(again.params).toEqual(limited([2, 20, 21, 30, 99], 5))
    // A fresh dialect (no cache yet) agrees on the text and the values.
    const fresh = compiled(d.forVersion(d.version), users(2, [20, 21], 30))
    expect(fresh).toEqual(again)
  })

  it('a value whose conversion compiles another rebuilt query keeps each statement\'s own values', () => {
    const other = (id: number) => pipe(from('posts'), select('id'), where(isIn('author_id', [id, id + 1, id + 2, id + 3, id + 4])))
    compiled(d, other(1))
    compiled(d, users(1, [10, 11], 18))
    // A JSON value's toJSON runs while the outer statement's values are adapted.
    const doc = { toJSON: () => ({ inner: compiled(d, other(7)).params }) }
    const outer = compiled(d, users(doc, [20, 21], 30))
    expect(JSON.parse(String(outer.params[0]))).toEqual({ inner: [7, 8, 9, 10, 11] })
    expect(outer.params.slice(1)).toEqual(limited([20, 21, 30, 99], 5))
    expect(compiled(d, other(8)).params).toEqual([8, 9, 10, 11, 12])
  })

  it('adapt each value through the dialect, as a first compile does', () => {
    const at = new Date(Date.UTC(2024, 0, 2, 3, 4, 5))
    const q = (v: unknown) => pipe(from('events'), select('id'), where(gt('at', v)))
    compiled(d, q(new Date(0)))
    expect(compiled(d, q(at)).params).toEqual(compiled(d.forVersion(d.version), q(at)).params)
  })

  it('a different shape compiles to its own text', () => {
    const a = compiled(d, users(1, [10, 11], 18))
    const longer = compiled(d, users(1, [10, 11, 12], 18))
    expect(longer.sql).not.toBe(a.sql)
    expect(longer.params).toEqual(limited([1, 10, 11, 12, 18, 99], 5))
    const other = compiled(d, pipe(from('users'), select('id', 'name'), where(and(eq('name', 'x'), or(notIn('group_id', [1, 2]), between('age', 1, 99)), isNotNull('email'))), orderBy('id'), limit(5)))
    expect(other.sql).toContain('NOT IN')
    expect(other.params).toEqual(limited(['x', 1, 2, 1, 99], 5))
    const noWhere = compiled(d, pipe(from('users'), select('id', 'name'), orderBy('id'), limit(5)))
    expect(noWhere.params).toEqual(limited([], 5))
    expect(noWhere.sql).not.toContain('WHERE')
    const otherLimit = compiled(d, pipe(from('users'), select('id', 'name'), where(not(eq('id', 3))), orderBy('id'), limit(7)))
    expect(otherLimit.params).toEqual(limited([3], 7))
    // On SQLite another row count is another text, with the count in it.
    if (d.name === 'sqlite') expect(compiled(d, pipe(from('users'), select('id', 'name'), where(not(eq('id', 3))), orderBy('id'), limit(8)))).toEqual({ sql: otherLimit.sql.replace('LIMIT 7', 'LIMIT 8'), params: [3] })
  })

  it('a column compared with a column keeps its shape apart from one compared with a value', () => {
    const byValue = compiled(d, pipe(from('posts'), where(eq('author_id', 4))))
    const byColumn = compiled(d, pipe(from('posts'), where(eq('author_id', col('editor_id')))))
    expect(byValue.params).toEqual([4])
    expect(byColumn.params).toEqual([])
    expect(byColumn.sql).not.toBe(byValue.sql)
  })

  it('a long IN list (a relation\'s keys) compiles with its own values each time', () => {
    const keys = (from0: number) => Array.from({ length: 40 }, (_, i) => from0 + i)
    const q = (ks: readonly number[]) => pipe(from('comments'), select('id'), where(isIn('post_id', ks)))
    expect(compiled(d, q(keys(1))).params).toEqual(keys(1))
    expect(compiled(d, q(keys(100))).params).toEqual(keys(100))
  })

  it('alternating column lists, and lists with expressions, each compile to their own text', () => {
    for (let i = 0; i < 12; i++) {
      const cols = i % 3 === 0 ? ['id'] : i % 3 === 1 ? ['id', 'name'] : ['name']
      const c = compiled(d, pipe(from('users'), select(...cols), where(eq('id', i))))
      expect(c.params).toEqual([i])
      expect(c.sql).toBe(compiled(d.forVersion(d.version), pipe(from('users'), select(...cols), where(eq('id', i)))).sql)
      const withExpr = compiled(d, pipe(from('users'), select('id', { twice: col('id') }), where(eq('id', i))))
      expect(withExpr.params).toEqual([i])
    }
  })

  it('a prepared query keeps its holes', () => {
    const p = compiled(d, pipe(from('users'), select('id'), where(eq('id', param('id')))))
    expect(p.holes).toEqual(['id'])
    const q = compiled(d, pipe(from('users'), select('id'), where(eq('id', param('id')))))
    expect(q.holes).toEqual(['id'])
  })

  it('a value the dialect cannot bind is still a ValidationError naming its parameter', () => {
    const q = (v: unknown) => pipe(from('users'), select('id'), where(and(eq('name', 'a'), eq('id', v))))
    compiled(d, q(1))
    const r = d.compile(q(Symbol('no')))
    expect(E.isLeft(r) && isDbError(r.left, 'ValidationError') && r.left.issues[0].path).toBe('$2')
  })
})

describe.each(dialects)('%s: rebuilt writes', (_, d) => {
  const fresh = (q: Parameters<Dialect['compile']>[0]) => compiled(d.forVersion(d.version), q)

  it('an UPDATE gives the text of the first compile, with its assigned and WHERE values in order', () => {
    const q = (title: unknown, n: unknown, id: unknown) => pipe(update('posts'), set({ title, score: add('score', val(n)) }), where(and(eq('id', id), isNotNull('title'))))
    const first = compiled(d, q('a', 1, 10))
    const again = compiled(d, q('b', 2, 20))
    expect(again.sql).toBe(first.sql)
    expect(first.params).toEqual(['a', 1, 10])
    expect(again).toEqual(fresh(q('b', 2, 20)))
  })

  it('an UPDATE of other columns, or of a column set to a column, compiles to its own text', () => {
    const byValue = compiled(d, pipe(update('posts'), set({ title: 'x' }), where(eq('id', 1))))
    const other = compiled(d, pipe(update('posts'), set({ body: 'x' }), where(eq('id', 1))))
    const two = compiled(d, pipe(update('posts'), set({ title: 'x', body: 'y' }), where(eq('id', 1))))
    const byColumn = compiled(d, pipe(update('posts'), set({ title: col('body') }), where(eq('id', 1))))
    const everyRow = compiled(d, pipe(update('posts'), set({ title: 'z' })))
    for (const c of [other, two, byColumn, everyRow]) expect(c.sql).not.toBe(byValue.sql)
    expect(other).toEqual(fresh(pipe(update('posts'), set({ body: 'x' }), where(eq('id', 1)))))
    expect(two.params).toEqual(['x', 'y', 1])
    expect(byColumn.params).toEqual([1])
    expect(everyRow).toEqual(fresh(pipe(update('posts'), set({ title: 'z' }))))
  })

  it('an UPDATE adapts each assigned value through the dialect and names a refused one', () => {
    const at = new Date(Date.UTC(2024, 0, 2, 3, 4, 5))
    const q = (v: unknown, id: unknown) => pipe(update('events'), set({ at: v }), where(eq('id', id)))
    compiled(d, q(new Date(0), 1))
    expect(compiled(d, q(at, 2))).toEqual(fresh(q(at, 2)))
    const r = d.compile(q(Symbol('no'), 3))
    expect(E.isLeft(r) && isDbError(r.left, 'ValidationError') && r.left.issues[0].path).toBe('$1')
  })

  it('an UPDATE with RETURNING, or a DELETE with it, still compiles right each time', () => {
    if (d.name !== 'postgres' && d.name !== 'sqlite') return
    const u = (id: number) => pipe(update('posts'), set({ title: `t${id}` }), where(eq('id', id)), returning('id'))
    expect(compiled(d, u(1)).params).toEqual(['t1', 1])
    expect(compiled(d, u(2))).toEqual(fresh(u(2)))
    const del = (id: number) => pipe(deleteFrom('posts'), where(eq('id', id)), returning('id'))
    expect(compiled(d, del(1)).params).toEqual([1])
    expect(compiled(d, del(2))).toEqual(fresh(del(2)))
  })

  it('a DELETE gives the text of the first compile, with its own WHERE values', () => {
    const q = (ids: readonly number[]) => pipe(deleteFrom('posts'), where(isIn('id', ids)))
    const first = compiled(d, q([1, 2]))
    const again = compiled(d, q([3, 4]))
    expect(again.sql).toBe(first.sql)
    expect(again.params).toEqual([3, 4])
    expect(compiled(d, q([5, 6, 7]))).toEqual(fresh(q([5, 6, 7])))
    expect(compiled(d, pipe(deleteFrom('posts')))).toEqual(fresh(pipe(deleteFrom('posts'))))
  })

  it('an UPDATE and a SELECT of the same table keep their own shapes', () => {
    const s = compiled(d, pipe(from('posts'), select('id'), where(eq('id', 1))))
    const u = compiled(d, pipe(update('posts'), set({ id: 1 }), where(eq('id', 1))))
    const x = compiled(d, pipe(deleteFrom('posts'), where(eq('id', 1))))
    expect(new Set([s.sql, u.sql, x.sql]).size).toBe(3)
    expect(compiled(d, pipe(update('posts'), set({ id: 2 }), where(eq('id', 3)))).params).toEqual([2, 3])
  })
})

describe('where the cache is on', () => {
  const q = pipe(from('users'), select('id', 'name'), where(eq('id', 1)))
  it.each([
    ['sqlite', sqlite], ['sqlite 3.20', sqlite.forVersion('3.20.0')], ['postgres 12', postgres.forVersion('12.1')],
    ['mariadb 10.4', mariadb.forVersion('10.4.2')], ['mysql on a MariaDB server', mysql.forVersion('10.11.2')], ['mysql 8.0.36', mysql.forVersion('8.0.36')],
    ['an extension that overrides nothing', extend(sqlite, () => ({}))],
  ] as const)('on the built-in dialect %s', (_, d) => {
    expect(shapeCache(d)(q)).toEqual({ sql: 'SELECT ' + ['id', 'name'].map((c) => d.quoteIdentifier(c)).join(', ') + ` FROM ${d.quoteIdentifier('users')} WHERE ${d.quoteIdentifier('id')} = ${d.placeholder(1)}`, params: [1] })
  })

  it('answers plain UPDATEs and DELETEs, and leaves the other forms to the compiler', () => {
    const cache = shapeCache(sqlite)
    expect(cache(pipe(update('posts'), set({ title: 'x' }), where(eq('id', 1))))).toEqual({ sql: 'UPDATE "posts" SET "title" = ? WHERE "id" = ?', params: ['x', 1] })
    expect(cache(pipe(deleteFrom('posts'), where(eq('id', 2))))).toEqual({ sql: 'DELETE FROM "posts" WHERE "id" = ?', params: [2] })
    expect(cache(pipe(update('posts'), set({ title: 'x' }), where(eq('id', 1)), returning('id')))).toBeUndefined()
    expect(cache(pipe(update('posts'), set({ title: param('t') }), where(eq('id', 1))))).toBeUndefined()
    expect(cache(pipe(insertInto('posts'), values([{ id: 1 }])))).toBeUndefined()
  })

  it('answers a rebuilt SELECT with an ORDER BY from the cache, and compiles another order once', () => {
    let compiles = 0
    const counted: Dialect = { ...sqlite, ...builtIn({ statement: (x: Parameters<Dialect['statement']>[0]) => { compiles++; return sqlite.statement(x) } }) }
    const cache = shapeCache(counted)
    const q = (id: number, ...order: Parameters<typeof orderBy>) => pipe(from('users'), select('id', 'name'), where(gt('id', id)), orderBy(...order))
    expect(cache(q(1, 'name'))).toEqual({ sql: 'SELECT "id", "name" FROM "users" WHERE "id" > ? ORDER BY "name" ASC', params: [1] })
    expect(cache(q(2, 'name'))).toEqual({ sql: 'SELECT "id", "name" FROM "users" WHERE "id" > ? ORDER BY "name" ASC', params: [2] })
    expect(compiles).toBe(1)
    expect(cache(q(3, 'name', 'desc'))).toEqual({ sql: 'SELECT "id", "name" FROM "users" WHERE "id" > ? ORDER BY "name" DESC', params: [3] })
    expect(cache(q(4, 'id'))?.sql).toBe('SELECT "id", "name" FROM "users" WHERE "id" > ? ORDER BY "id" ASC')
    expect(cache(q(5, 'name', 'asc', 'last'))?.sql).toContain('ORDER BY')
    expect(compiles).toBe(4)
    expect(cache(q(6, 'name', 'desc'))).toEqual({ sql: 'SELECT "id", "name" FROM "users" WHERE "id" > ? ORDER BY "name" DESC', params: [6] })
    expect(cache(pipe(from('users'), select('id', 'name'), where(gt('id', 7)), orderBy('name'), orderBy('id')))?.sql).toBe('SELECT "id", "name" FROM "users" WHERE "id" > ? ORDER BY "name" ASC, "id" ASC')
    expect(compiles).toBe(5)
  })

  it('answers a model read built again from the cache, with its own values', () => {
    const Person = model({ table: 'people', primaryKey: 'id', naming: snakeCase, codec: t.type({ id: t.number, fullName: t.string, active: t.boolean }) })
    let compiles = 0
    const counted: Dialect = { ...sqlite, ...builtIn({ statement: (x: Parameters<Dialect['statement']>[0]) => { compiles++; return sqlite.statement(x) } }) }
    const cache = shapeCache(counted)
    const db = compose(betterSqlite3({ filename: ':memory:' }), sqlite)
    const read = (id: number) => {
      const q = pipe(Person.query, Person.where({ id }), Person.orderBy('fullName'), Person.limit(1))
      return cache(queryReading(db, q).node)
    }
    const sql = 'SELECT "people"."id", "people"."full_name" AS "fullName", "people"."active" FROM "people" WHERE "people"."id" = ? ORDER BY "people"."full_name" ASC LIMIT 1'
    expect(read(1)).toEqual({ sql, params: [1] })
    expect(read(2)).toEqual({ sql, params: [2] })
    expect(compiles).toBe(1)
  })

  it('off for a dialect with a function of its own', () => {
    expect(shapeCache(extend(postgres, (_, base) => ({ limitOffset: (l, o) => base.limitOffset(l, o) })))(q)).toBeUndefined()
  })
})

describe('a dialect changed with extend', () => {
  it('compiles every statement afresh: an override that looks at values sees each one', () => {
    // NULL compared with `=` is never true: this override writes IS NULL for it.
    const nullAware = extend(sqlite, (_, base) => ({
      binary: (op, l, r) =>
        op === '=' && r.kind === 'value' && r.value === null ? fromParts([base.expr(l), ' IS NULL']) : base.binary(op, l, r),
    }))
    const q = (v: unknown) => pipe(from('users'), select('id'), where(eq('email', v)))
    expect(compiled(nullAware, q('a@example.com')).sql).toContain('= ?')
    expect(compiled(nullAware, q(null))).toEqual({ sql: 'SELECT "id" FROM "users" WHERE "email" IS NULL', params: [] })
  })
})

describe('IN lists of values', () => {
  it('render one parameter per value, in order, on the built-in dialects', () => {
    const keys = Array.from({ length: 50 }, (_, i) => i * 2)
    const c = compiled(sqlite, pipe(from('posts'), select('id'), where(isIn('user_id', keys))))
    expect(c.sql).toBe(`SELECT "id" FROM "posts" WHERE "user_id" IN (${keys.map(() => '?').join(', ')})`)
    expect(c.params).toEqual(keys)
    const mixed = compiled(sqlite, pipe(from('posts'), select('id'), where(notIn('user_id', [1, col('editor_id'), 3]))))
    expect(mixed).toEqual({ sql: 'SELECT "id" FROM "posts" WHERE "user_id" NOT IN (?, "editor_id", ?)', params: [1, 3] })
  })

  it('go through an override of expr for each value', () => {
    // Small integers written into the text (an override a user might write for the planner).
    const inlined = extend(sqlite, (_, base) => ({
      expr: (e) => (e.kind === 'value' && typeof e.value === 'number' && Number.isSafeInteger(e.value) ? fromParts([String(e.value)]) : base.expr(e)),
    }))
    const keys = Array.from({ length: 40 }, (_, i) => i + 1)
    expect(compiled(inlined, pipe(from('posts'), select('id'), where(isIn('user_id', keys))))).toEqual({
      sql: `SELECT "id" FROM "posts" WHERE "user_id" IN (${keys.join(', ')})`, params: [],
    })
    // Inserted rows' values too; on the built-in dialect each is a parameter.
    const rows = [{ id: 1, title: 'a' }, { id: 2, title: 'b' }]
    expect(compiled(inlined, pipe(insertInto('posts'), values(rows)))).toEqual({
      sql: 'INSERT INTO "posts" ("id", "title") VALUES (1, ?), (2, ?)', params: ['a', 'b'],
    })
    expect(compiled(sqlite, pipe(insertInto('posts'), values(rows)))).toEqual({
      sql: 'INSERT INTO "posts" ("id", "title") VALUES (?, ?), (?, ?)', params: [1, 'a', 2, 'b'],
    })
  })
})

describe('on SQLite', () => {
  it('rebuilt queries read the rows of their own values', async () => {
    const db = compose(betterSqlite3({ filename: ':memory:' }), sqlite)
    await run(db.execute(fromParts(['CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL)'])))
    for (let i = 1; i <= 20; i++) await run(db.execute(pipe(from('t'), where(eq('id', i)))))
    await run(db.execute(fromParts(["INSERT INTO t (id, name) SELECT value, 'n' || value FROM json_each('[1,2,3,4,5,6,7,8,9,10]')"])))
    for (let i = 1; i <= 12; i++) {
      const row = await run(db.first(pipe(from('t'), select('id', 'name'), where(eq('id', i)))))
      expect(row._tag === 'Some' ? row.value : undefined).toEqual(i <= 10 ? { id: i, name: `n${i}` } : undefined)
      const rows = await run(db.all(pipe(from('t'), select('id'), where(isIn('id', [i, i + 1, 100])), orderBy('id'))))
      expect(rows.map((r) => r.id)).toEqual([i, i + 1].filter((x) => x <= 10))
    }
    await run(db.close())
  })

  it('rebuilt UPDATEs and DELETEs write the rows of their own values', async () => {
    const db = compose(betterSqlite3({ filename: ':memory:' }), sqlite)
    await run(db.execute(fromParts(['CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL, n INTEGER NOT NULL)'])))
    await run(db.execute(fromParts(["INSERT INTO t (id, name, n) SELECT value, 'n' || value, 0 FROM json_each('[1,2,3,4,5,6,7,8,9,10]')"])))
    for (let i = 1; i <= 10; i++) {
      const r = await run(db.execute(pipe(update('t'), set({ name: `u${i}`, n: add('n', val(i)) }), where(eq('id', i)))))
      expect(r.rowsAffected).toBe(1)
    }
    for (let i = 1; i <= 10; i += 3) await run(db.execute(pipe(deleteFrom('t'), where(eq('id', i)))))
    const rows = await run(db.all(pipe(from('t'), select('id', 'name', 'n'), orderBy('id'))))
    expect(rows).toEqual([2, 3, 5, 6, 8, 9].map((i) => ({ id: i, name: `u${i}`, n: i })))
    await run(db.close())
  })
})
