/**
 * `upsertMany` (Rails' upsert_all, Django's bulk_create(update_conflicts=True)) through multi-row
 * upserts on PostgreSQL and SQLite gives what one `upsert` per row in a transaction gives, which
 * MariaDB still runs: the same stored rows (inserted, updated, a later row of one key updating
 * what an earlier one wrote), the same rows returned in input order, the behaviours' timestamps
 * and versions, `afterInsert` hooks once per row. One upsert per row took seconds for a few
 * thousand rows on PostgreSQL.
 */
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { right } from 'fp-ts/lib/Either.js'
import { type Backend, run, sql, statementOf, wrap } from 'recordkit'
import { date, model, optimisticLock, rule, timestamps } from 'recordkit/model'
import { fails, ok } from 'recordkit/testing'
import { ENGINES, engineTables } from './support/engine-tables.js'

let clock = new Date(Date.UTC(2024, 0, 1))
let hooked: string[] = []
const define = (table: string) => model({
  table,
  primaryKey: 'id',
  codec: t.type({ id: t.number, sku: t.string, qty: t.number, note: t.union([t.string, t.null]), createdAt: date, updatedAt: date, version: t.number }),
  columns: { createdAt: 'created_at', updatedAt: 'updated_at' },
  behaviours: [timestamps({ now: () => clock }), optimisticLock()],
  validators: [rule('qty', 'notNegative', (v) => (v.qty ?? 0) >= 0, 'qty is not negative')],
  hooks: { afterInsert: (row) => () => { hooked.push(`${table}:${row.sku}`); return Promise.resolve(right(row)) } },
})
const Batched = define('ump_a')
const OneByOne = define('ump_b')

const ddl = (table: string) => `CREATE TABLE ${table} (id INTEGER PRIMARY KEY, sku VARCHAR(20) NOT NULL UNIQUE, qty INTEGER NOT NULL, note VARCHAR(20), created_at VARCHAR(40) NOT NULL, updated_at VARCHAR(40) NOT NULL, version INTEGER NOT NULL)`

/** The way upsertMany ran before: one upsert per row, in one transaction. */
const oneByOne = (db: Backend, inputs: readonly Record<string, unknown>[], options: { conflict?: readonly ('id' | 'sku')[]; update?: readonly ('qty' | 'note')[] }) =>
  db.transaction((tx) => async () => {
    const out: unknown[] = []
    for (const i of inputs) {
      const r = await OneByOne.upsert(tx, i as never, options)()
      if (r._tag === 'Left') return r
      out.push(r.right)
    }
    return right(out)
  })

const counted = (db: Backend) => {
  const seen: string[] = []
  return { seen, db: wrap(db, { execute: (next, self) => (q) => { seen.push(statementOf(self, q).sql); return next(q) } }) }
}

const rowsOf = async (db: Backend, table: string) =>
  (await run(db.all<Record<string, unknown>>(sql`SELECT id, sku, qty, note, created_at, updated_at, version FROM ${sql.id(table)} ORDER BY id`)))
    .map((r): Record<string, unknown> => ({ ...r, id: Number(r.id), qty: Number(r.qty), version: Number(r.version) }))

for (const engine of ENGINES) {
  describe(`upsertMany on ${engine.name}`, () => {
    const { use } = engineTables(engine, ['ump_a', 'ump_b'], () => [ddl('ump_a'), ddl('ump_b')])
    const batched = engine.name !== 'mariadb'

    for (const options of [{ conflict: ['sku'] as const }, { conflict: ['sku'] as const, update: ['qty'] as const }, { conflict: ['id'] as const }]) {
      it(`1,500 rows, inserted, updated and repeated, as one upsert per row gives them (${JSON.stringify(options)})`, async (ctx) => {
        const base = use(ctx)
        const seed = Array.from({ length: 300 }, (_, i) => ({ id: i * 2, sku: `s${i * 2}`, qty: 1, note: 'seed' }))
        clock = new Date(Date.UTC(2024, 0, 1))
        await ok(Batched.createMany(base, seed))
        await ok(OneByOne.createMany(base, seed))
        clock = new Date(Date.UTC(2024, 0, 2))
        // Every 50th row repeats the key of a row 20 before it (a later row updates what it wrote).
        const inputs = Array.from({ length: 1_500 }, (_, i) => {
          const k = i % 50 === 49 ? i - 20 : i
          return { id: k, sku: `s${k}`, qty: i, note: i % 5 === 0 ? null : `n${i}` }
        })
        hooked = []
        const { db, seen } = counted(base)
        const got = await ok(Batched.upsertMany(db, inputs, options))
        const want = await ok(oneByOne(base, inputs, options))
        const strip = (rows: readonly unknown[]) => (rows as Record<string, unknown>[]).map(({ ...r }) => r)
        expect(strip(got)).toEqual(strip(want))
        expect((await rowsOf(base, 'ump_a'))).toEqual(await rowsOf(base, 'ump_b'))
        expect(hooked.filter((h) => h.startsWith('ump_a:'))).toEqual(inputs.map((i) => `ump_a:${i.sku}`))
        if (batched) expect(seen.filter((s) => /^INSERT/i.test(s)).length).toBeLessThan(40)
      })
    }

    it('a row that fails validation is named and nothing is written; no rows, no statement', async (ctx) => {
      const db = use(ctx)
      const inputs = Array.from({ length: 20 }, (_, i) => ({ id: i, sku: `x${i}`, qty: i === 7 ? -1 : i, note: null }))
      await expect(ok(Batched.upsertMany(db, inputs, { conflict: ['sku'] }))).rejects.toMatchObject({ _tag: 'ValidationError', issues: [{ path: 'rows.7.qty', rule: 'notNegative' }] })
      expect(await rowsOf(db, 'ump_a')).toEqual([])
      expect(await ok(Batched.upsertMany(db, [], { conflict: ['sku'] }))).toEqual([])
    })

    it('a database failure part way (a NOT NULL column) rolls every row back', async (ctx) => {
      const db = use(ctx)
      await ok(Batched.create(db, { id: 1, sku: 'keep', qty: 1, note: null }))
      const inputs = Array.from({ length: 50 }, (_, i) => ({ id: i + 10, sku: i === 0 ? 'keep' : `y${i}`, qty: i, note: null }))
      ;(inputs[30] as { sku: unknown }).sku = null
      await fails(Batched.upsertMany(db, inputs as never, { conflict: ['id'] }))
      expect((await rowsOf(db, 'ump_a')).map((r) => [r.id, r.sku, r.qty])).toEqual([[1, 'keep', 1]])
    })
  })
}
