/**
 * `upsertMany` (Rails' upsert_all, Django's bulk_create(update_conflicts=True)) through multi-row
 * upserts (ON CONFLICT on PostgreSQL and SQLite, ON DUPLICATE KEY UPDATE on MariaDB) gives what
 * one `upsert` per row in a transaction gives: the same stored rows (inserted, updated, a later
 * row of one key updating what an earlier one wrote, keys the column's collation holds equal
 * included), the same rows returned in input order, the behaviours' timestamps and versions,
 * `afterInsert` hooks once per row, and the same refusals: a row meeting another row on a unique
 * key other than the conflict target (which MariaDB's ON DUPLICATE KEY would have updated) is a
 * UniqueViolation naming the key, and nothing of the call is written. One upsert per row took
 * seconds for a few thousand rows.
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

const ddl = (table: string) => `CREATE TABLE ${table} (id INTEGER PRIMARY KEY, sku VARCHAR(20) NOT NULL UNIQUE, qty INTEGER NOT NULL, note VARCHAR(20), created_at VARCHAR(40) NOT NULL, updated_at VARCHAR(40) NOT NULL, version INTEGER NOT NULL, CONSTRAINT ${table}_note UNIQUE (note))`

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
    /** Both ways on the twin tables: the outcome (rows returned or the error's tag) and the stored rows must be alike. */
    const alike = async (base: Backend, inputs: readonly Record<string, unknown>[], options: { conflict?: readonly ('id' | 'sku')[]; update?: readonly ('qty' | 'note')[] }) => {
      hooked = []
      const got = await Batched.upsertMany(base, inputs as never, options)()
      const want = await oneByOne(base, inputs, options)()
      const outcome = (r: typeof got | typeof want) => (r._tag === 'Right' ? r.right : r.left._tag)
      expect(outcome(got)).toEqual(outcome(want))
      expect(await rowsOf(base, 'ump_a')).toEqual(await rowsOf(base, 'ump_b'))
      // The hooks see the stored rows: their skus as stored (MariaDB keeps 'Ab' where 'aB' met it).
      if (got._tag === 'Right') expect(hooked.filter((h) => h.startsWith('ump_a:')).map((h) => h.slice(6))).toEqual(hooked.filter((h) => h.startsWith('ump_b:')).map((h) => h.slice(6)))
      if (got._tag === 'Right') expect(hooked.filter((h) => h.startsWith('ump_a:')).length).toBe(inputs.length)
      return got
    }
    const seeded = async (base: Backend, seed: readonly Record<string, unknown>[]) => {
      clock = new Date(Date.UTC(2024, 0, 1))
      await ok(Batched.createMany(base, seed as never))
      await ok(OneByOne.createMany(base, seed as never))
      clock = new Date(Date.UTC(2024, 0, 2))
    }

    for (const options of [{ conflict: ['sku'] as const }, { conflict: ['sku'] as const, update: ['qty'] as const }, { conflict: ['id'] as const }]) {
      it(`1,500 rows, inserted, updated and repeated, as one upsert per row gives them (${JSON.stringify(options)})`, async (ctx) => {
        const base = use(ctx)
        const seed = Array.from({ length: 300 }, (_, i) => ({ id: i * 2, sku: `s${i * 2}`, qty: 1, note: `seed${i}` }))
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
        expect(seen.filter((s) => /^INSERT/i.test(s)).length).toBeLessThan(40)
      })
    }

    it('keys the column holds equal though their text differs (case, accents, trailing spaces on MariaDB) are sequential upserts', async (ctx) => {
      const base = use(ctx)
      await seeded(base, [{ id: 1, sku: 'Ab', qty: 1, note: null }])
      const inputs = [
        { id: 2, sku: 'aB', qty: 2, note: null }, { id: 3, sku: 'cd', qty: 3, note: null }, { id: 4, sku: 'CD', qty: 4, note: null },
        { id: 5, sku: 'ef', qty: 5, note: null }, { id: 6, sku: 'ef ', qty: 6, note: null }, { id: 7, sku: 'AB', qty: 7, note: null },
        { id: 8, sku: 'Éa', qty: 8, note: null }, { id: 9, sku: 'ea', qty: 9, note: null },
        // Equal in MariaDB's utf8mb4_general_ci (ß is s), which the cut of runs does not fold: the
        // batch finds the second row met the first one's row, and writes again with a cut there.
        { id: 10, sku: 'straße', qty: 10, note: null }, { id: 11, sku: 'x', qty: 11, note: null }, { id: 12, sku: 'STRASE', qty: 12, note: null },
      ]
      for (const options of [{ conflict: ['sku'] as const }, { conflict: ['sku'] as const, update: ['qty', 'note'] as const }]) {
        const got = await alike(base, inputs, options)
        expect(got._tag).toBe('Right')
      }
    })

    it('a row meeting another row on a unique key other than the target is refused, naming the key; nothing is written', async (ctx) => {
      const base = use(ctx)
      await seeded(base, [{ id: 1, sku: 'a', qty: 1, note: 'n1' }, { id: 2, sku: 'b', qty: 2, note: 'n2' }])
      const before = await rowsOf(base, 'ump_a')
      const fresh = Array.from({ length: 30 }, (_, i) => ({ id: 100 + i, sku: `f${i}`, qty: i, note: null }))
      // Row 20: a new sku whose note is row 2's (the target is sku): ON CONFLICT (sku) inserts it,
      // which the note's unique key refuses; MariaDB's ON DUPLICATE KEY would update row 2.
      const clash = [...fresh.slice(0, 20), { id: 120, sku: 'new', qty: 5, note: 'n2' }, ...fresh.slice(21)]
      const got = await alike(base, clash, { conflict: ['sku'] })
      expect(got._tag).toBe('Left')
      if (got._tag === 'Left') expect(got.left).toMatchObject({ _tag: 'UniqueViolation', table: 'ump_a', columns: ['note'], fields: ['note'] })
      // The primary key of another row, the target sku: the same.
      const byId = await alike(base, [...fresh.slice(0, 5), { id: 2, sku: 'other', qty: 5, note: null }], { conflict: ['sku'] })
      if (byId._tag === 'Left') expect(byId.left).toMatchObject({ _tag: 'UniqueViolation', table: 'ump_a', columns: ['id'] })
      else expect.fail('a row meeting another row by its id was written')
      // The target's row updated, its other unique key left as it is: allowed on every engine.
      expect((await alike(base, [{ id: 50, sku: 'a', qty: 9, note: 'n1' }, { id: 51, sku: 'b', qty: 8, note: null }], { conflict: ['sku'], update: ['qty'] }))._tag).toBe('Right')
      expect((await rowsOf(base, 'ump_a')).map((r) => [r.id, r.sku, r.qty, r.note])).toEqual([[1, 'a', 9, 'n1'], [2, 'b', 8, 'n2']])
      expect(before.length).toBe(2)
    })

    it('an update that moves the row met to the proposed primary key (the default update writes the id)', async (ctx) => {
      const base = use(ctx)
      await seeded(base, [{ id: 1, sku: 'a', qty: 1, note: null }, { id: 2, sku: 'b', qty: 2, note: null }])
      // One row: sku a's row takes id 7, on every engine (MariaDB's one-row upsert refused it: the
      // key of the row it met was not the key of the row read back by sku).
      expect(await ok(Batched.upsert(base, { id: 7, sku: 'a', qty: 3, note: null }, { conflict: ['sku'] }))).toMatchObject({ id: 7, sku: 'a', qty: 3, version: 2 })
      await ok(OneByOne.upsert(base, { id: 7, sku: 'a', qty: 3, note: null }, { conflict: ['sku'] }))
      const got = await alike(base, [{ id: 8, sku: 'b', qty: 4, note: null }, { id: 9, sku: 'c', qty: 5, note: null }, { id: 10, sku: 'a', qty: 6, note: null }], { conflict: ['sku'] })
      expect(got._tag).toBe('Right')
      expect((await rowsOf(base, 'ump_a')).map((r) => [r.id, r.sku, r.qty])).toEqual([[8, 'b', 4], [9, 'c', 5], [10, 'a', 6]])
    })

    it('nothing to update (update: []) among rows that update: each row as one upsert gives it', async (ctx) => {
      const base = use(ctx)
      await seeded(base, [{ id: 1, sku: 'a', qty: 1, note: null }, { id: 2, sku: 'b', qty: 2, note: null }])
      const inputs = [{ id: 3, sku: 'a', qty: 10, note: null }, { id: 4, sku: 'c', qty: 11, note: null }, { id: 5, sku: 'c', qty: 12, note: null }]
      expect((await alike(base, inputs, { conflict: ['sku'], update: [] }))._tag).toBe('Right')
      expect((await alike(base, [...inputs, { id: 6, sku: 'b', qty: 13, note: null }], { conflict: ['sku'], update: ['qty'] }))._tag).toBe('Right')
    })

    it('inside the caller\'s transaction, a refused batch is undone and the transaction goes on', async (ctx) => {
      const db = use(ctx)
      await ok(Batched.create(db, { id: 1, sku: 'a', qty: 1, note: 'taken' }))
      const tags = await ok(db.transaction((tx) => async () => {
        const a = await Batched.upsertMany(tx, [{ id: 2, sku: 'b', qty: 2, note: null }, { id: 3, sku: 'c', qty: 3, note: 'taken' }], { conflict: ['sku'] })()
        const b = await Batched.upsertMany(tx, [{ id: 4, sku: 'd', qty: 4, note: null }, { id: 5, sku: 'a', qty: 5, note: null }], { conflict: ['sku'], update: ['qty'] })()
        return right([a._tag === 'Left' ? a.left._tag : 'Right', b._tag])
      }))
      expect(tags).toEqual(['UniqueViolation', 'Right'])
      expect((await rowsOf(db, 'ump_a')).map((r) => [r.id, r.sku, r.qty])).toEqual([[1, 'a', 5], [4, 'd', 4]])
    })

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
