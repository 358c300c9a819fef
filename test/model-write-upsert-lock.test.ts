/**
 * `upsert` that updates a row does what `update` and `updateWhere` do to it, on SQLite, PostgreSQL
 * and MariaDB: `optimisticLock()` bumps the version (so an `update` from a copy read before is a
 * ConflictError, not a lost update) and `timestamps()` refreshes `updatedAt`, with the default
 * update list and with an explicit `update: [...]` list alike; `createdAt` is kept. An upsert that
 * inserts starts the version at 1, and one that has nothing to update changes nothing.
 */
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { date, model, optimisticLock, timestamps } from 'recordkit/model'
import { fails, ok } from 'recordkit/testing'
import { ENGINES, engineTables } from './support/engine-tables.js'

/** A clock that moves one second per reading. */
let tick = 0
const clock = (): Date => new Date(Date.UTC(2024, 0, 1, 0, 0, ++tick))

const V = model({
  table: 'rk_mwul_items',
  primaryKey: 'id',
  columns: { createdAt: 'created_at', updatedAt: 'updated_at' },
  codec: t.type({ id: t.number, sku: t.string, qty: t.number, version: t.number, createdAt: date, updatedAt: date }),
  behaviours: [timestamps({ now: clock }), optimisticLock()],
})

const ddl = (engine: string): string[] => {
  const ts = engine === 'sqlite' ? 'TEXT' : engine === 'postgres' ? 'TIMESTAMP' : 'DATETIME'
  return [`CREATE TABLE rk_mwul_items (id INTEGER PRIMARY KEY, sku VARCHAR(20) NOT NULL UNIQUE, qty INTEGER NOT NULL, version INTEGER NOT NULL, created_at ${ts} NOT NULL, updated_at ${ts} NOT NULL)`]
}

for (const engine of ENGINES) {
  describe(`upsert keeps the optimistic lock and timestamps on ${engine.name}`, () => {
    const { use } = engineTables(engine, ['rk_mwul_items'], ddl)

    it('each upsert that updates bumps the version and refreshes updatedAt; a stale update is a ConflictError', async (ctx) => {
      const db = use(ctx)
      const v1 = await ok(V.create(db, { id: 1, sku: 'a', qty: 1 }))
      expect(v1.version).toBe(1)
      const u1 = await ok(V.upsert(db, { id: 1, sku: 'a', qty: 2 }))
      expect([u1.qty, u1.version, u1.createdAt]).toEqual([2, 2, v1.createdAt])
      expect(u1.updatedAt.getTime()).toBeGreaterThan(v1.updatedAt.getTime())
      const u2 = await ok(V.upsert(db, { id: 1, sku: 'a', qty: 3 }, { update: ['qty'] }))
      expect([u2.qty, u2.version, u2.createdAt]).toEqual([3, 3, v1.createdAt])
      expect(u2.updatedAt.getTime()).toBeGreaterThan(u1.updatedAt.getTime())
      // With another conflict target.
      const u3 = await ok(V.upsert(db, { id: 1, sku: 'a', qty: 4 }, { conflict: ['sku'], update: ['qty'] }))
      expect([u3.qty, u3.version]).toEqual([4, 4])
      expect(u3).toEqual(await ok(V.findOrFail(db, 1)))
      // v1 (and u1) are stale: the update is refused and writes nothing.
      expect((await fails(V.update(db, v1, { qty: 100 })))._tag).toBe('ConflictError')
      expect((await fails(V.update(db, u1, { qty: 100 })))._tag).toBe('ConflictError')
      expect((await ok(V.findOrFail(db, 1))).qty).toBe(4)
      // The current copy updates.
      expect((await ok(V.update(db, u3, { qty: 5 }))).version).toBe(5)
    })

    it('an upsert that inserts starts at version 1; one with nothing to update changes nothing', async (ctx) => {
      const db = use(ctx)
      const inserted = await ok(V.upsert(db, { id: 2, sku: 'b', qty: 1 }, { update: ['qty'] }))
      expect(inserted.version).toBe(1)
      // Only the key given: nothing to update, the row stays as it is.
      const same = await ok(V.upsert(db, { id: 2, sku: 'b', qty: 9 }, { update: [] }))
      expect(same).toEqual(inserted)
    })
  })
}
