/**
 * The rows of a multi-row INSERT are rendered as one part (`ValueRows` in src/sql.ts): the same
 * SQL text and parameters as a part per cell gave, on every dialect, with DEFAULT, raw SQL and
 * named parameters among the values, a refused value named by its position, and an overridden
 * `expr` still asked for every cell.
 */
import { pipe } from 'fp-ts/lib/function.js'
import { describe, expect, it } from 'vitest'
import { compose, extend, fromParts, isDbError, run, sql } from 'recordkit'
import { mysql } from 'recordkit/dialects/mysql'
import { postgres } from 'recordkit/dialects/postgres'
import { sqlite } from 'recordkit/dialects/sqlite'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'
import { insertInto, param, values } from 'recordkit/query'

const mixed = pipe(insertInto('t'), values([{ a: 1, b: 2 }, { a: 3 }, { a: 5, b: sql`now()` }, { a: 7, b: 8 }]))

describe('VALUES rows rendered as one part', () => {
  it('writes bound values, DEFAULT and raw SQL cells in order, with their parameters', () => {
    expect(mysql.compile(mixed)).toEqual({ _tag: 'Right', right: { sql: 'INSERT INTO `t` (`a`, `b`) VALUES (?, ?), (?, DEFAULT), (?, now()), (?, ?)', params: [1, 2, 3, 5, 7, 8] } })
    expect(postgres.compile(mixed)).toEqual({ _tag: 'Right', right: { sql: 'INSERT INTO "t" ("a", "b") VALUES ($1, $2), ($3, DEFAULT), ($4, now()), ($5, $6)', params: [1, 2, 3, 5, 7, 8] } })
    const dates = pipe(insertInto('t'), values([{ a: new Date(0), b: true }, { a: null, b: false }]))
    expect(sqlite.compile(dates)).toEqual({ _tag: 'Right', right: { sql: 'INSERT INTO "t" ("a", "b") VALUES (?, ?), (?, ?)', params: ['1970-01-01 00:00:00', 1, null, 0] } })
  })

  it('names the position of a value the dialect refuses, in any row', () => {
    for (const at of [0, 1, 2, 4999]) {
      const rows = Array.from({ length: 5000 }, (_, i) => ({ a: i, b: i === at ? Number.NaN : 'x' }))
      const r = sqlite.compile(pipe(insertInto('t'), values(rows)))
      expect(r._tag === 'Left' && isDbError(r.left, 'ValidationError') && r.left.issues.map((i) => i.path)).toEqual([`$${2 * at + 2}`])
    }
  })

  it('keeps named parameters as holes a prepared insert fills', async () => {
    const db = compose(betterSqlite3({ filename: ':memory:' }), sqlite)
    await run(db.execute(sql`CREATE TABLE t (a INTEGER, b TEXT)`))
    const q = pipe(insertInto('t'), values([{ a: param('a1'), b: 'one' }, { a: param('a2'), b: 'two' }]))
    expect(db.compile(q)).toEqual({ _tag: 'Right', right: { sql: 'INSERT INTO "t" ("a", "b") VALUES (?, ?), (?, ?)', params: [undefined, 'one', undefined, 'two'], holes: ['a1', undefined, 'a2'] } })
    await run(db.prepare(q).execute({ a1: 1, a2: 2 }))
    expect(await run(db.all(sql`SELECT a, b FROM t ORDER BY a`))).toEqual([{ a: 1, b: 'one' }, { a: 2, b: 'two' }])
    await run(db.close())
  })

  it('goes through an overridden expr for every cell', () => {
    const marked = extend(sqlite, (_, base) => ({ expr: (e) => (e.kind === 'value' ? fromParts(['/*v*/', base.expr(e)]) : base.expr(e)) }))
    expect(marked.compile(pipe(insertInto('t'), values([{ a: 1 }, { a: 2 }])))).toEqual({ _tag: 'Right', right: { sql: 'INSERT INTO "t" ("a") VALUES (/*v*/?), (/*v*/?)', params: [1, 2] } })
  })

  it('inserts 20,000 rows of every kind of value and reads them back as written', async () => {
    const db = compose(betterSqlite3({ filename: ':memory:' }), sqlite)
    await run(db.execute(sql`CREATE TABLE big (id INTEGER PRIMARY KEY, name TEXT, flag INTEGER, at TEXT, score REAL, note TEXT)`))
    const rows = Array.from({ length: 20_000 }, (_, i) => ({ id: i + 1, name: `name ${i} ü`, flag: i % 2 === 0, at: new Date(Date.UTC(2024, 0, 1) + i * 1000), score: i / 4, note: i % 3 === 0 ? null : `n${i}` }))
    // Four statements under SQLite's 32766 parameters, in one transaction.
    await run(db.transaction((tx) => async () => {
      for (let i = 0; i < rows.length; i += 5000) {
        const r = await tx.execute(pipe(insertInto('big'), values(rows.slice(i, i + 5000))))()
        if (r._tag === 'Left') return r
      }
      return { _tag: 'Right', right: undefined }
    }))
    const back = await run(db.all<Record<string, unknown>>(sql`SELECT id, name, flag, at, score, note FROM big ORDER BY id`))
    expect(back.length).toBe(20_000)
    for (const i of [0, 1, 4999, 5000, 12_345, 19_999]) {
      expect(back[i]).toEqual({ ...rows[i], flag: rows[i].flag ? 1 : 0, at: rows[i].at.toISOString().replace('T', ' ').slice(0, 19) })
    }
    await run(db.close())
  })
})

describe('an INSERT of more values than SQLite binds in one statement', () => {
  it('runs as statements under the limit in one transaction, and rolls back whole when one fails', async () => {
    const db = compose(betterSqlite3({ filename: ':memory:' }), sqlite)
    await run(db.execute(sql`CREATE TABLE wide (id INTEGER PRIMARY KEY, v TEXT NOT NULL)`))
    const rows = Array.from({ length: 20_000 }, (_, i) => ({ id: i + 1, v: `v${i}` }))
    const r = await run(db.execute(pipe(insertInto('wide'), values(rows))))
    expect(r.rowsAffected).toBe(20_000)
    expect(await run(db.all(sql`SELECT COUNT(*) AS n, MIN(id) AS lo, MAX(id) AS hi FROM wide`))).toEqual([{ n: 20_000, lo: 1, hi: 20_000 }])
    // The last row breaks NOT NULL: the statements before it are rolled back with it.
    const bad = [...rows.map((x) => ({ id: x.id + 20_000, v: x.v })), { id: 50_000, v: null }]
    const e = await db.execute(pipe(insertInto('wide'), values(bad)))()
    expect(e._tag === 'Left' && e.left._tag).toBe('NotNullViolation')
    expect(await run(db.all(sql`SELECT COUNT(*) AS n FROM wide`))).toEqual([{ n: 20_000 }])
    await run(db.close())
  })
})
