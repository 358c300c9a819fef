/**
 * Field, column and relation names that are also names of Object.prototype (`constructor`,
 * `toString`, `valueOf`, `hasOwnProperty`) are looked up as the model's own: a field named
 * `constructor` with a `columns` map that does not name it is the column "constructor" (it was
 * the column "function Object() { [native code] }"), an optional field of that name left out of
 * the input is absent (not Object), and a relation of that name that does not exist is a typed
 * error. On SQLite, PostgreSQL and MariaDB.
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { type Backend, sql } from 'recordkit'
import { hasMany, model, nullable, relate } from 'recordkit/model'
import { fails, ok } from 'recordkit/testing'
import { ENGINES, engineTables } from './support/engine-tables.js'

const Thing = model({
  table: 'rk_mdo_things',
  primaryKey: 'id',
  codec: t.type({ id: t.number, constructor: t.string, toString: t.string, valueOf: nullable(t.string), hasOwnProperty: nullable(t.number) }),
  // TypeScript gives object literals Object's members, so names like these need casts in literals.
  columns: { toString: 'to_string' } as never,
  relations: { parts: hasMany('Part', 'thingId') },
})
const Part = model({ table: 'rk_mdo_parts', primaryKey: 'id', codec: t.type({ id: t.number, thingId: t.number }), columns: { thingId: 'thing_id' } })
const R = relate({ Thing, Part })

const q = (engine: string, name: string): string => (engine === 'mariadb' ? `\`${name}\`` : `"${name}"`)
const ddl = (engine: string): string[] => [
  `CREATE TABLE rk_mdo_things (id INTEGER PRIMARY KEY, ${q(engine, 'constructor')} VARCHAR(20) NOT NULL, to_string VARCHAR(20) NOT NULL, ${q(engine, 'valueOf')} VARCHAR(20), ${q(engine, 'hasOwnProperty')} INTEGER)`,
  'CREATE TABLE rk_mdo_parts (id INTEGER PRIMARY KEY, thing_id INTEGER NOT NULL)',
]

const stored = async (db: Backend, engine: string): Promise<unknown[][]> =>
  (await ok(db.all<Record<string, unknown>>(sql.raw(`SELECT id, ${q(engine, 'constructor')} AS c, to_string AS s, ${q(engine, 'valueOf')} AS v, ${q(engine, 'hasOwnProperty')} AS h FROM rk_mdo_things ORDER BY id`))))
    .map((r) => [Number(r.id), r.c, r.s, r.v, r.h === null ? null : Number(r.h)])

for (const engine of ENGINES) {
  describe(`fields named as Object.prototype's members on ${engine.name}`, () => {
    const { use } = engineTables(engine, ['rk_mdo_things', 'rk_mdo_parts'], ddl)

    it('the columns are the fields own names (or the columns map)', () => {
      expect(Thing.core.fields.map((f) => [f.name, f.column])).toEqual([
        ['id', 'id'], ['constructor', 'constructor'], ['toString', 'to_string'], ['valueOf', 'valueOf'], ['hasOwnProperty', 'hasOwnProperty'],
      ])
    })

    it('create, find, update, where and upsert write and read those columns', async (ctx) => {
      const db = use(ctx)
      expect(await ok(R.Thing.create(db, { id: 1, constructor: 'c1', toString: 's1' } as never))).toEqual({ id: 1, constructor: 'c1', toString: 's1', valueOf: null, hasOwnProperty: null })
      expect(await ok(R.Thing.createMany(db, [{ id: 2, constructor: 'c2', toString: 's2', valueOf: 'v2', hasOwnProperty: 2 }]))).toHaveLength(1)
      expect(await ok(R.Thing.update(db, { id: 1, constructor: 'c1', toString: 's1', valueOf: null, hasOwnProperty: null }, { constructor: 'c1b', hasOwnProperty: 7 } as never)))
        .toEqual({ id: 1, constructor: 'c1b', toString: 's1', valueOf: null, hasOwnProperty: 7 })
      expect(await ok(R.Thing.upsert(db, { id: 3, constructor: 'c3', toString: 's3' } as never))).toEqual({ id: 3, constructor: 'c3', toString: 's3', valueOf: null, hasOwnProperty: null })
      expect(await ok(pipe(R.Thing.query, R.Thing.where({ constructor: 'c2' } as never), R.Thing.pluck(db, 'toString')))).toEqual(['s2'])
      expect(await stored(db, engine.name)).toEqual([[1, 'c1b', 's1', null, 7], [2, 'c2', 's2', 'v2', 2], [3, 'c3', 's3', null, null]])
    })

    it('a required field named constructor left out is required, not Object', async (ctx) => {
      const db = use(ctx)
      const e = await fails(R.Thing.create(db, { id: 1, toString: 's1' } as never))
      expect(e._tag).toBe('ValidationError')
      expect(e.message).toContain('constructor: required')
      expect(await stored(db, engine.name)).toEqual([])
    })

    it('a relation named as an Object.prototype member that the model lacks is a typed error', async (ctx) => {
      const db = use(ctx)
      for (const name of ['constructor', 'toString', 'hasOwnProperty']) {
        const e = await fails(pipe(R.Thing.query, R.Thing.include(name as never), R.Thing.all(db)))
        expect(e._tag).toBe('QueryError')
        expect(e.message).toContain(`rk_mdo_things has no relation "${name}" (it has parts)`)
      }
    })
  })
}
