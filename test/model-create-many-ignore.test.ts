/**
 * `createMany(..., { onConflict: 'ignore' })` (Rails' insert_all, Django's ignore_conflicts) in
 * multi-row statements on PostgreSQL and SQLite: rows a unique key refuses (stored before, or
 * repeating an earlier row of the call) are left out, the rows inserted come back in input
 * order, exactly as when each row was created under its own savepoint, which MariaDB still does
 * (its RETURNING answers a skipped row with the row it met). 1,500 rows took 350 ms on SQLite
 * and 1.7 s on PostgreSQL that way, against 20-45 ms for createMany without conflicts.
 */
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { right } from 'fp-ts/lib/Either.js'
import { type Backend, isDbError, run, sql, statementOf, wrap } from 'recordkit'
import { model } from 'recordkit/model'
import { fails, ok } from 'recordkit/testing'
import { ENGINES, engineTables } from './support/engine-tables.js'

const T = 'cmi_items'
let afterInserts: string[] = []
const Item = model({
  table: T,
  primaryKey: 'id',
  codec: t.type({ id: t.number, sku: t.string, qty: t.number, note: t.union([t.string, t.null]) }),
  hooks: { afterInsert: (row) => () => { afterInserts.push(row.sku); return Promise.resolve(right(row)) } },
})
const Plain = model({ table: T, primaryKey: 'id', codec: t.type({ id: t.number, sku: t.string, qty: t.number, note: t.union([t.string, t.null]) }) })

const ddl = (engine: string): string[] => [
  `CREATE TABLE ${T} (id ${engine === 'postgres' ? 'SERIAL' : engine === 'mariadb' ? 'INTEGER AUTO_INCREMENT' : 'INTEGER'} PRIMARY KEY, sku VARCHAR(20) NOT NULL UNIQUE, qty INTEGER NOT NULL, note VARCHAR(20))`,
]

/** What creating each row under its own savepoint gives: the first row of each sku not stored before. */
const expected = (stored: ReadonlySet<string>, inputs: readonly { sku: string }[]): string[] => {
  const seen = new Set(stored)
  const out: string[] = []
  for (const r of inputs) if (!seen.has(r.sku)) { seen.add(r.sku); out.push(r.sku) }
  return out
}

/** The backend, counting the statements and batches it runs. */
const counted = (db: Backend) => {
  const seen: string[] = []
  const w = wrap(db, {
    execute: (next, self) => (q) => { seen.push(statementOf(self, q).sql); return next(q) },
    executeBatch: (next, self) => (q, sets) => { seen.push(statementOf(self, q).sql); return next(q, sets) },
  })
  return { db: w, seen }
}

for (const engine of ENGINES) {
  describe(`createMany skipping conflicts on ${engine.name}`, () => {
    const { use } = engineTables(engine, [T], ddl)
    const batched = engine.name !== 'mariadb'

    for (const n of [40, 1_200]) {
      it(`${n} rows, a fifth of them taken before or repeating an earlier row: the others stored and returned in input order${batched ? ', in a few statements' : ''}`, async (ctx) => {
        const base = use(ctx)
        await ok(Plain.createMany(base, [{ id: 1, sku: 's3', qty: 0, note: 'before' }, { id: 2, sku: 's10', qty: 0, note: 'before' }]))
        const inputs = Array.from({ length: n }, (_, i) => ({ id: 100 + i, sku: `s${i % Math.floor(n * 0.85)}`, qty: i, note: i % 7 === 0 ? null : `n${i}` }))
        afterInserts = []
        const { db, seen } = counted(base)
        const made = await ok(Item.createMany(db, inputs, { onConflict: 'ignore' }))
        const want = expected(new Set(['s3', 's10']), inputs)
        expect(made.map((r) => r.sku)).toEqual(want)
        // Each returned row is the stored row of the first input with its sku.
        const firstOf = new Map<string, (typeof inputs)[number]>()
        for (const r of inputs) if (!firstOf.has(r.sku)) firstOf.set(r.sku, r)
        for (const r of made) expect(r).toEqual(firstOf.get(r.sku))
        expect(afterInserts).toEqual(want)
        const all = await run(base.all<{ sku: string; note: string | null }>(sql`SELECT sku, note FROM ${sql.id(T)}`))
        expect(all).toHaveLength(want.length + 2)
        expect(all.filter((r) => r.note === 'before').map((r) => r.sku).sort()).toEqual(['s10', 's3'])
        if (batched) expect(seen.filter((s) => /^INSERT/i.test(s)).length).toBeLessThanOrEqual(4)
      })
    }

    it('counts the rows inserted without reading them back, and takes rows without their key', async (ctx) => {
      const db = use(ctx)
      await ok(Plain.create(db, { id: 1, sku: 'a', qty: 1, note: null }))
      const inputs = [{ sku: 'a', qty: 2, note: null }, { sku: 'b', qty: 3, note: null }, { sku: 'b', qty: 4, note: null }, { sku: 'c', qty: 5, note: null }]
      expect(await ok(Plain.createMany(db, inputs as never, { onConflict: 'ignore', returning: false }))).toBe(2)
      const made = await ok(Plain.createMany(db, [{ sku: 'c', qty: 6, note: null }, { sku: 'd', qty: 7, note: null }] as never, { onConflict: 'ignore' }))
      expect(made.map((r) => [r.sku, r.qty, typeof r.id])).toEqual([['d', 7, 'number']])
      expect((await run(db.all<{ sku: string; qty: number }>(sql`SELECT sku, qty FROM ${sql.id(T)} ORDER BY sku`))).map((r) => [r.sku, Number(r.qty)]))
        .toEqual([['a', 1], ['b', 3], ['c', 5], ['d', 7]])
    })

    it('any other failure (a NOT NULL column) rolls every row back and names the row', async (ctx) => {
      const db = use(ctx)
      await ok(Plain.create(db, { id: 1, sku: 'a', qty: 1, note: null }))
      const inputs = Array.from({ length: 30 }, (_, i) => ({ id: 10 + i, sku: i === 3 ? 'a' : `x${i}`, qty: i, note: null }))
      ;(inputs[17] as { qty: unknown }).qty = null
      const e = await fails<unknown>(Plain.createMany(db, inputs, { onConflict: 'ignore' }))
      expect(isDbError(e, 'ValidationError') || isDbError(e, 'NotNullViolation') || isDbError(e, 'QueryError')).toBe(true)
      expect(String((e as Error).message)).toMatch(/rows\.17\.qty|qty/)
      expect((await run(db.all<{ n: number }>(sql`SELECT COUNT(*) AS n FROM ${sql.id(T)}`))).map((r) => Number(r.n))).toEqual([1])
    })
  })
}
