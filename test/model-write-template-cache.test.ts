/**
 * createMany compiles its multi-row INSERT once per backend and reuses it, also now that it runs
 * on a transaction's handle (a new object for every call): the compiled statement is kept by the
 * backend's `compile`, which the handles share. Counted through a `compile` middleware; no timing.
 */
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { compose, run, sql, wrap } from 'recordkit'
import { sqlite } from 'recordkit/dialects/sqlite'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'
import { model } from 'recordkit/model'

const Item = model({ table: 'items', primaryKey: 'id', codec: t.type({ id: t.number, name: t.string }) })

describe('createMany statement reuse', () => {
  it('compiles the INSERT of a chunk size once, not on every call', async () => {
    const base = compose(betterSqlite3({ filename: ':memory:' }), sqlite)
    await run(base.execute(sql`CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL)`))
    const compiled: string[] = []
    const db = wrap(base, { compile: (next) => (q) => { const r = next(q); if (r._tag === 'Right' && r.right.sql.startsWith('INSERT')) compiled.push(r.right.sql); return r } })
    const rows = (from: number) => Array.from({ length: 1500 }, (_, i) => ({ id: from + i, name: `n${from + i}` }))
    expect(await run(Item.createMany(db, rows(1), { returning: false }))).toBe(1500)
    const first = compiled.length
    expect(first).toBeGreaterThan(0)
    for (let k = 1; k <= 3; k++) expect(await run(Item.createMany(db, rows(k * 10_000), { returning: false }))).toBe(1500)
    expect(compiled.length).toBe(first)
    expect(await run(db.all(sql`SELECT COUNT(*) AS n FROM items`))).toEqual([{ n: 6000 }])
  })
})
