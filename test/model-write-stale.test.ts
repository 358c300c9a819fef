/**
 * `update(db, row, patch)` from a copy of the row that is out of date, on SQLite, PostgreSQL and
 * MariaDB (a model without `optimisticLock`): the patch is the caller's intent, so every field it
 * names is written, even one equal to the caller's copy, and the row returned is the row as
 * stored, never the caller's copy. An empty patch writes nothing and returns the stored row read
 * by key, or NotFound when the row is gone.
 */
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { type Backend, sql } from 'recordkit'
import { model } from 'recordkit/model'
import { fails, ok } from 'recordkit/testing'
import { ENGINES, engineTables } from './support/engine-tables.js'

const U = model({ table: 'rk_mwstale_users', primaryKey: 'id', codec: t.type({ id: t.number, name: t.string, score: t.number }) })

const ddl = (): string[] => ['CREATE TABLE rk_mwstale_users (id INTEGER PRIMARY KEY, name VARCHAR(20) NOT NULL, score INTEGER NOT NULL)']

const stored = async (db: Backend): Promise<unknown[]> =>
  (await ok(db.all<{ id: unknown; name: unknown; score: unknown }>(sql`SELECT id, name, score FROM rk_mwstale_users ORDER BY id`))).map((r) => [Number(r.id), r.name, Number(r.score)])

for (const engine of ENGINES) {
  describe(`update from a stale copy on ${engine.name}`, () => {
    const { use } = engineTables(engine, ['rk_mwstale_users'], ddl)

    it('writes the fields the patch names, even those equal to the copy, and returns the stored row', async (ctx) => {
      const db = use(ctx)
      const r = await ok(U.create(db, { id: 1, name: 'c', score: 1 }))
      // Someone else changes the row.
      await ok(U.updateWhere(db, { id: 1 }, { name: 'other', score: 2 }))
      const updated = await ok(U.update(db, r, { name: 'c' }))
      expect(updated).toEqual({ id: 1, name: 'c', score: 2 })
      expect(await stored(db)).toEqual([[1, 'c', 2]])
      expect(updated).toEqual(await ok(U.findOrFail(db, 1)))
    })

    it('updateChanges names every field of the patch it wrote', async (ctx) => {
      const db = use(ctx)
      const r = await ok(U.create(db, { id: 1, name: 'c', score: 1 }))
      await ok(U.updateWhere(db, { id: 1 }, { score: 5 }))
      const { row, changed } = await ok(U.updateChanges(db, r, { name: 'c', score: 1 }))
      expect(row).toEqual({ id: 1, name: 'c', score: 1 })
      expect([...changed].sort()).toEqual(['name', 'score'])
      expect(await stored(db)).toEqual([[1, 'c', 1]])
    })

    it('a patch equal to a row that is gone is NotFound, not the copy', async (ctx) => {
      const db = use(ctx)
      const r = await ok(U.create(db, { id: 1, name: 'c', score: 1 }))
      await ok(db.execute(sql`DELETE FROM rk_mwstale_users`))
      expect((await fails(U.update(db, r, { name: 'c' })))._tag).toBe('NotFound')
      expect(await stored(db)).toEqual([])
    })

    it('an empty patch writes nothing and returns the stored row, or NotFound', async (ctx) => {
      const db = use(ctx)
      const r = await ok(U.create(db, { id: 1, name: 'c', score: 1 }))
      await ok(U.updateWhere(db, { id: 1 }, { name: 'other' }))
      expect(await ok(U.update(db, r, {}))).toEqual({ id: 1, name: 'other', score: 1 })
      // A field given as undefined is no field.
      const { row, changed } = await ok(U.updateChanges(db, r, { name: undefined }))
      expect([row, changed]).toEqual([{ id: 1, name: 'other', score: 1 }, []])
      await ok(db.execute(sql`DELETE FROM rk_mwstale_users`))
      expect((await fails(U.update(db, r, {})))._tag).toBe('NotFound')
    })
  })
}
