/**
 * A model column whose name holds a dot (`columns: { label: 'shelf.label' }`) is one column on
 * every engine: RETURNING lists named it as "shelf"."label" (a column of a table "shelf"), so
 * create and update failed on PostgreSQL and SQLite ("missing FROM-clause entry", "no such
 * column"). Reads, writes and read-backs use the name whole.
 */
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { integer, jsonOf, model, nullable } from 'recordkit/model'
import { ok } from 'recordkit/testing'
import { ENGINES, engineTables } from './support/engine-tables.js'

const Shelf = model({
  table: 'rk_mddc_items', primaryKey: 'id',
  columns: { label: 'shelf.label', meta: 'shelf.meta' },
  codec: t.type({ id: integer, label: t.string, meta: nullable(jsonOf(t.unknown)) }),
})

for (const engine of ENGINES) {
  describe(`a column named with a dot on ${engine.name}`, () => {
    const q = engine.name === 'mariadb' ? '`' : '"'
    const { use } = engineTables(engine, ['rk_mddc_items'], () => [
      `CREATE TABLE rk_mddc_items (id INTEGER PRIMARY KEY, ${q}shelf.label${q} VARCHAR(20) NOT NULL, ${q}shelf.meta${q} TEXT NULL)`,
    ])

    it('is written, returned and read back whole', async (ctx) => {
      const db = use(ctx)
      expect(await ok(Shelf.create(db, { id: 1, label: 'a', meta: { k: 1 } }))).toEqual({ id: 1, label: 'a', meta: { k: 1 } })
      expect(await ok(Shelf.createMany(db, [{ id: 2, label: 'b', meta: null }, { id: 3, label: 'c', meta: [1] }]))).toHaveLength(2)
      const one = await ok(Shelf.findOrFail(db, 1))
      expect(await ok(Shelf.update(db, one, { label: 'A' }))).toEqual({ id: 1, label: 'A', meta: { k: 1 } })
      expect(await ok(Shelf.upsert(db, { id: 2, label: 'B', meta: null }))).toEqual({ id: 2, label: 'B', meta: null })
      expect((await ok(Shelf.all(db)(Shelf.query))).map((r) => r.label).sort()).toEqual(['A', 'B', 'c'])
    })
  })
}
