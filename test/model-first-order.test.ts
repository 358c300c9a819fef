/**
 * `first` without an order reads the row of the least primary key, as Rails' and Django's
 * `first` do, on every engine: PostgreSQL hands rows back in the order they lie on disk, where an
 * updated row moves behind the others.
 */
import * as O from 'fp-ts/lib/Option.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { model } from 'recordkit/model'
import { ok } from 'recordkit/testing'
import { ENGINES, engineTables } from './support/engine-tables.js'

const T = 'fo_items'
const Item = model({ table: T, primaryKey: 'id', codec: t.type({ id: t.number, name: t.string }) })

const ddl = (engine: string): string[] => [
  `CREATE TABLE ${T} (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(50) NOT NULL)${engine === 'mariadb' ? ' ENGINE=InnoDB' : ''}`,
]

for (const engine of ENGINES) {
  describe(`first without an order (${engine.name})`, () => {
    const { use } = engineTables(engine, [T], ddl)

    it('is the row of the least key, also after that row was updated', async (ctx) => {
      const db = use(ctx)
      await ok(Item.createMany(db, [{ id: 3, name: 'c' }, { id: 1, name: 'a' }, { id: 2, name: 'b' }]))
      await ok(Item.update(db, { id: 1, name: 'a' }, { name: 'a2' }))
      expect(await ok(pipe(Item.query, Item.first(db)))).toEqual(O.some({ id: 1, name: 'a2' }))
      expect(await ok(pipe(Item.query, Item.where('id', '>', 1), Item.first(db)))).toEqual(O.some({ id: 2, name: 'b' }))
      expect(await ok(pipe(Item.query, Item.firstOrFail(db)))).toEqual({ id: 1, name: 'a2' })
      expect(await ok(pipe(Item.query, Item.last(db)))).toEqual(O.some({ id: 3, name: 'c' }))
      // With a limit or an offset, the last of the rows the query reads.
      expect(await ok(pipe(Item.query, Item.orderBy('name'), Item.limit(2), Item.last(db)))).toEqual(O.some({ id: 2, name: 'b' }))
      expect(await ok(pipe(Item.query, Item.orderBy('name'), Item.offset(1), Item.last(db)))).toEqual(O.some({ id: 3, name: 'c' }))
      expect(await ok(pipe(Item.query, Item.orderBy('name'), Item.offset(3), Item.last(db)))).toEqual(O.none)
      expect(await ok(pipe(Item.query, Item.limit(2), Item.last(db)))).toEqual(O.some({ id: 2, name: 'b' }))
      // An order given is kept.
      expect(await ok(pipe(Item.query, Item.orderBy('name', 'desc'), Item.first(db)))).toEqual(O.some({ id: 3, name: 'c' }))
    })
  })
}
