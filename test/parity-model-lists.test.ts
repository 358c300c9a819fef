/**
 * `where(field, 'in', list)` takes a list of any length on every engine: past the parameter limit
 * of a statement (SQLite 32,766, PostgreSQL and MariaDB 65,535) the model binds a long list the
 * engine's own way, with the same rows as a short list. On SQLite, PostgreSQL and MariaDB.
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { sql } from 'recordkit'
import { compileQuery, date, hasMany, belongsTo, model, relate } from 'recordkit/model'
import { ok } from 'recordkit/testing'
import { ENGINES, engineTables } from './support/engine-tables.js'

const { Item, Part } = relate({
  Item: model({
    table: 'h3_list_items',
    primaryKey: 'id',
    codec: t.type({ id: t.number, name: t.string, seen: date, flag: t.boolean }),
    relations: { parts: hasMany('Part', 'itemId') },
  }),
  Part: model({
    table: 'h3_list_parts',
    primaryKey: 'id',
    codec: t.type({ id: t.number, itemId: t.number, label: t.string }),
    relations: { item: belongsTo('Item', 'itemId') },
  }),
})

const ddl = (engine: string): string[] => {
  const stamp = engine === 'postgres' ? 'TIMESTAMP(3)' : engine === 'mariadb' ? 'DATETIME(3)' : 'TEXT'
  const flag = engine === 'postgres' ? 'BOOLEAN' : 'TINYINT'
  return [
    `CREATE TABLE h3_list_items (id INTEGER PRIMARY KEY, name VARCHAR(40) NOT NULL, seen ${stamp} NOT NULL, flag ${flag} NOT NULL)`,
    'CREATE TABLE h3_list_parts (id INTEGER PRIMARY KEY, "itemId" INTEGER NOT NULL, label VARCHAR(20) NOT NULL)'.replace(/"/g, engine === 'mariadb' ? '`' : '"'),
  ]
}

const names = ["plain", "it's", 'back\\slash', 'ünï €', '%_like', 'tab\there']
const day = (i: number) => new Date(Date.UTC(2024, 0, 1 + i, 12, 30, 15, 250))
const SIZES = [40_000, 70_002]

for (const engine of ENGINES) {
  describe(`long in lists on ${engine.name}`, () => {
    const { use } = engineTables(engine, ['h3_list_items', 'h3_list_parts'], ddl)

    const seed = async (db: ReturnType<typeof use>) => {
      await ok(Item.createMany(db, names.map((name, i) => ({ id: (i + 1) * 10_000, name, seen: day(i), flag: i % 2 === 0 }))))
      await ok(Part.createMany(db, [{ id: 1, itemId: 10_000, label: 'a' }, { id: 2, itemId: 20_000, label: 'b' }, { id: 3, itemId: 60_000, label: 'c' }]))
    }

    it('numbers: in, not in, count, exists, pluck, paginate, first, as a short list does', async (ctx) => {
      const db = use(ctx)
      await seed(db)
      for (const n of SIZES) {
        // Ids that are no item's, then the even ten-thousands: those items are in, the odd ones are not.
        const ids = [...Array.from({ length: n }, (_, i) => i + 100_000), 20_000, 40_000, 60_000]
        const short = [20_000, 40_000, 60_000]
        const expected = await ok(pipe(Item.query, Item.where('id', 'in', short), Item.orderBy('id'), Item.pluck(db, 'id')))
        expect(expected).toEqual(short)
        expect(await ok(pipe(Item.query, Item.where('id', 'in', ids), Item.orderBy('id'), Item.pluck(db, 'id')))).toEqual(expected)
        expect(await ok(pipe(Item.query, Item.where('id', 'not in', ids), Item.orderBy('id'), Item.pluck(db, 'id')))).toEqual([10_000, 30_000, 50_000])
        expect(await ok(pipe(Item.query, Item.where({ id: ids }), Item.count(db)))).toBe(3)
        expect(await ok(pipe(Item.query, Item.where('id', 'in', ids), Item.exists(db)))).toBe(true)
        const page = await ok(pipe(Item.query, Item.where('id', 'in', ids), Item.orderBy('id', 'desc'), Item.paginate(db, { page: 1, perPage: 2 })))
        expect([page.total, page.rows.map((r) => r.id)]).toEqual([3, [60_000, 40_000]])
        // Rows decode as they do from a short list: every field with its type.
        const rows = await ok(pipe(Item.query, Item.where('id', 'in', ids), Item.orderBy('id'), Item.all(db)))
        expect(rows).toEqual(await ok(pipe(Item.query, Item.where('id', 'in', short), Item.orderBy('id'), Item.all(db))))
        expect(rows[0].seen).toEqual(day(1))
        expect(typeof rows[0].flag).toBe('boolean')
      }
    }, 60_000)

    it('text, dates and booleans in long lists match exactly', async (ctx) => {
      const db = use(ctx)
      await seed(db)
      const filler = Array.from({ length: 40_000 }, (_, i) => `x${i}`)
      const text = [...filler, ...names.slice(1, 4)]
      expect(await ok(pipe(Item.query, Item.where('name', 'in', text), Item.orderBy('id'), Item.pluck(db, 'name')))).toEqual(names.slice(1, 4))
      expect(await ok(pipe(Item.query, Item.where('name', 'not in', text), Item.orderBy('id'), Item.pluck(db, 'name')))).toEqual([names[0], ...names.slice(4)])
      const days = [...Array.from({ length: 40_000 }, (_, i) => new Date(Date.UTC(1990, 0, 1) + i * 1000)), day(2), day(5)]
      expect(await ok(pipe(Item.query, Item.where('seen', 'in', days), Item.orderBy('id'), Item.pluck(db, 'id')))).toEqual([30_000, 60_000])
      const flags = Array.from({ length: 1500 }, (_, i) => i % 3 === 0)
      expect(await ok(pipe(Item.query, Item.where('flag', 'in', flags), Item.count(db)))).toBe(6)
    }, 60_000)

    it('a NULL in a long NOT IN list stands for NULL, as in a short one (NOT IN the rest AND IS NOT NULL)', async (ctx) => {
      const db = use(ctx)
      await seed(db)
      const Nullable = model({ table: 'h3_list_items', primaryKey: 'id', codec: t.type({ id: t.number, name: t.union([t.string, t.null]) }) })
      const long = [...Array.from({ length: 2000 }, (_, i) => `y${i}`), null]
      expect(await ok(pipe(Nullable.query, Nullable.where('name', 'not in', ['zzz', null]), Nullable.count(db)))).toBe(names.length)
      expect(await ok(pipe(Nullable.query, Nullable.where('name', 'not in', long), Nullable.count(db)))).toBe(names.length)
      expect(await ok(pipe(Nullable.query, Nullable.where('name', 'in', [...long, 'plain']), Nullable.count(db)))).toBe(1)
    }, 60_000)

    it('updateWhere, deleteWhere, include modifiers and whereHas take long lists', async (ctx) => {
      const db = use(ctx)
      await seed(db)
      const ids = Array.from({ length: 70_002 }, (_, i) => i + 1).filter((x) => x !== 10_000)
      expect(await ok(Item.updateWhere(db, Item.cond('id', 'in', ids), { name: 'many' }))).toBe(5)
      const withParts = await ok(pipe(Item.query, Item.include('parts', (q, P) => pipe(q, P.where('id', 'in', [...ids.slice(10, 40_010), 2]))), Item.orderBy('id'), Item.all(db)))
      expect(withParts.map((i) => i.parts.map((p) => p.id))).toEqual([[], [2], [], [], [], []])
      const having = await ok(pipe(Item.query, Item.whereHas('parts', (q, P) => pipe(q, P.where('itemId', 'in', ids))), Item.orderBy('id'), Item.pluck(db, 'id')))
      expect(having).toEqual([20_000, 60_000])
      expect(await ok(Item.deleteWhere(db, { id: ids }))).toBe(5)
      expect(await ok(pipe(Item.query, Item.pluck(db, 'name')))).toEqual(['plain'])
      expect(await ok(Part.deleteWhere(db, Part.cond('itemId', 'not in', ids)))).toBe(1)
    }, 60_000)

    it('a value the engine cannot bind in a long list is a Left naming it, as in a short one', async (ctx) => {
      const db = use(ctx)
      const bad = [...Array.from({ length: 2000 }, (_, i) => i), Number.NaN]
      const r = await pipe(Item.query, Item.where('id', 'in', bad), Item.count(db))()
      expect(r._tag).toBe('Left')
      const short = await pipe(Item.query, Item.where('id', 'in', [1, Number.NaN]), Item.count(db))()
      expect(r._tag === 'Left' && short._tag === 'Left' && r.left._tag).toBe(short._tag === 'Left' ? short.left._tag : 'none')
    })

    it('compileQuery shows the statement that runs: a short list as parameters, a long one with few', async (ctx) => {
      const db = use(ctx)
      const short = compileQuery(db, pipe(Item.query, Item.where('id', 'in', [1, 2, 3])))
      expect(short._tag === 'Right' && short.right.params.length).toBe(3)
      const long = compileQuery(db, pipe(Item.query, Item.where('id', 'in', Array.from({ length: 5000 }, (_, i) => i))))
      expect(long._tag).toBe('Right')
      if (long._tag === 'Right') expect(long.right.params.length).toBeLessThanOrEqual(1)
      // The raw statement runs as it compiled.
      if (long._tag === 'Right') expect((await ok(db.all(long.right))).length).toBe(0)
      expect(sql).toBeDefined()
    })
  })
}
