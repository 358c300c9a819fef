/**
 * On SQLite an INSERT of more values than one statement may bind (32,766) is split into
 * statements under the limit, run as one unit: on the async path (`db.execute`) and on the
 * synchronous one (`db.sync`, which prepared statements and models use) alike. All of it is
 * written, or, when one row fails, none of it; inside a transaction the rows of the failed
 * INSERT are undone and the transaction goes on.
 */
import * as E from 'fp-ts/lib/Either.js'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type Backend, compose, sql } from 'recordkit'
import { insertInto, returning, values } from 'recordkit/query'
import { sqlite } from 'recordkit/dialects/sqlite'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'
import { run } from 'recordkit/promise'

const T = 'drv_sync_split'
/** 12,000 rows of 3 values: 36,000 values, over SQLite's 32,766. */
const N = 12_000
const rows = (n: number, from = 0) => Array.from({ length: n }, (_, i) => ({ id: from + i + 1, a: `a${from + i}`, b: from + i }))
const bulk = (rs: readonly Record<string, unknown>[]) => values(rs)(insertInto(T))

const count = async (db: Backend): Promise<number> => Number((await run(db.all<{ n: number }>(sql.raw(`SELECT COUNT(*) AS n FROM ${T}`))))[0].n)

describe('an INSERT over SQLite\'s parameter limit', () => {
  let db: Backend
  beforeEach(async () => {
    db = compose(betterSqlite3({ filename: ':memory:' }), sqlite)
    await run(db.execute(sql.raw(`CREATE TABLE ${T} (id INTEGER PRIMARY KEY, a TEXT NOT NULL UNIQUE, b INTEGER NOT NULL)`)))
  })
  afterEach(async () => {
    await run(db.close())
  })

  it('is written whole on the async path and on the synchronous path, with the same result', async () => {
    const viaAsync = await run(db.execute(bulk(rows(N))))
    expect(viaAsync.rowsAffected).toBe(N)
    expect(await count(db)).toBe(N)
    const s = db.sync
    expect(s?.ready()).toBe(true)
    const viaSync = s!.execute(bulk(rows(N, N)))()
    expect(viaSync).toEqual(E.right({ rows: [], rowsAffected: N, insertId: 2 * N }))
    expect(viaAsync).toEqual({ rows: [], rowsAffected: N, insertId: N })
    expect(await count(db)).toBe(2 * N)
  })

  it('returns every row through RETURNING on both paths (all and first)', async () => {
    const q = returning('id')(bulk(rows(N)))
    const got = db.sync!.all<{ id: number }>(q)()
    expect(E.isRight(got) && got.right.length).toBe(N)
    expect(E.isRight(got) && got.right[N - 1]).toEqual({ id: N })
    const first = db.sync!.first<{ id: number }>(returning('id')(bulk(rows(N, N))))()
    expect(first).toEqual(E.right({ _tag: 'Some', value: { id: N + 1 } }))
    const firstAsync = await run(db.first<{ id: number }>(returning('id')(bulk(rows(N, 2 * N)))))
    expect(firstAsync).toEqual({ _tag: 'Some', value: { id: 2 * N + 1 } })
    expect(await count(db)).toBe(3 * N)
  })

  it('writes nothing when a row of a later statement fails, on both paths', async () => {
    await run(db.execute(sql.raw(`INSERT INTO ${T} (id, a, b) VALUES (999999, 'taken', 0)`)))
    const bad = rows(N).map((r, i) => (i === N - 5 ? { ...r, a: 'taken' } : r))
    const viaSync = db.sync!.execute(bulk(bad))()
    expect(E.isLeft(viaSync) && viaSync.left._tag).toBe('UniqueViolation')
    expect(E.isLeft(viaSync) && viaSync.left.sql).toMatch(/^INSERT INTO/)
    expect(await count(db)).toBe(1)
    const viaAsync = await db.execute(bulk(bad))()
    expect(E.isLeft(viaAsync) && viaAsync.left._tag).toBe('UniqueViolation')
    expect(await count(db)).toBe(1)
    // The connection is free and out of any transaction afterwards.
    expect(db.sync!.ready()).toBe(true)
    expect(await run(db.execute(bulk(rows(3))))).toMatchObject({ rowsAffected: 3 })
    expect(await count(db)).toBe(4)
  })

  it('inside a transaction: a failed bulk INSERT on the synchronous path is undone alone, and the transaction commits the rest', async () => {
    const bad = rows(N, 10).map((r, i) => (i === N - 1 ? { ...r, a: 'a0' } : r))
    const out = await run(db.transaction((tx) => async () => {
      const first = await tx.execute(bulk(rows(1)))()
      if (E.isLeft(first)) return first
      const failed = tx.sync!.execute(bulk(bad))()
      const good = tx.sync!.execute(bulk(rows(N, 2 * N)))()
      return E.right([E.isLeft(failed) ? failed.left._tag : 'written', E.isRight(good) ? good.right.rowsAffected : good.left._tag])
    }))
    expect(out).toEqual(['UniqueViolation', N])
    expect(await count(db)).toBe(N + 1)
  })

  it('rows that leave different columns to their defaults are consecutive statements on the synchronous path too', () => {
    const mixed = [{ id: 1, a: 'x', b: 1 }, { id: 2, a: 'y' }, { id: 3, a: 'z', b: 3 }]
    // b has no default (NOT NULL): the second group fails, and nothing is written.
    const r = db.sync!.execute(values(mixed)(insertInto(T)))()
    expect(E.isLeft(r) && r.left._tag).toBe('NotNullViolation')
    const n = db.sync!.all<{ n: number }>(sql.raw(`SELECT COUNT(*) AS n FROM ${T}`))()
    expect(n).toEqual(E.right([{ n: 0 }]))
  })
})
