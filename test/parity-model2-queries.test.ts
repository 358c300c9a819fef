/**
 * The query interface Rails' and Django's users expect of a model, read back from SQLite,
 * PostgreSQL and MariaDB: `exists` and `count` of a query limited to no row, `reorder` and
 * `reverseOrder`, `pluckMany` (Rails' `pluck(:a, :b)`, Django's `values_list`), `distinct` and
 * its `count`, the count of a grouped query (the number of groups), text matched literally
 * without regard to case (`icontains`, `istarts with`, `iends with`), two fields compared
 * (Django's `F`), and `min` / `max` of dates and strings.
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { date, model } from 'recordkit/model'
import { ok } from 'recordkit/testing'
import { ENGINES, engineTables } from './support/engine-tables.js'

const Item = model({
  table: 'h6_items',
  primaryKey: 'id',
  codec: t.type({ id: t.number, name: t.string, kind: t.string, score: t.number, bonus: t.union([t.number, t.null]), seen: date }),
})

const ddl = (engine: string): string[] => {
  const stamp = engine === 'postgres' ? 'TIMESTAMP(3)' : engine === 'mariadb' ? 'DATETIME(3)' : 'TEXT'
  return [`CREATE TABLE h6_items (id INTEGER PRIMARY KEY, name VARCHAR(40) NOT NULL, kind VARCHAR(10) NOT NULL, score INTEGER NOT NULL, bonus INTEGER, seen ${stamp} NOT NULL)`]
}

const day = (i: number) => new Date(Date.UTC(2024, 0, 1 + i, 12, 30, 15, 250))
const ROWS = [
  { id: 1, name: 'Apple Pie', kind: 'food', score: 5, bonus: 7, seen: day(3) },
  { id: 2, name: 'banana', kind: 'food', score: 9, bonus: 2, seen: day(1) },
  { id: 3, name: 'Cherry 50%', kind: 'drink', score: 1, bonus: null, seen: day(5) },
  { id: 4, name: 'date_palm', kind: 'tree', score: 7, bonus: 7, seen: day(2) },
  { id: 5, name: 'APPLE juice', kind: 'drink', score: 3, bonus: 4, seen: day(4) },
]

for (const engine of ENGINES) {
  describe(`model queries, second pass, on ${engine.name}`, () => {
    const { use } = engineTables(engine, ['h6_items'], ddl)
    const seeded = async (ctx: { skip: () => void }) => {
      const db = use(ctx)
      await ok(Item.createMany(db, ROWS))
      return db
    }

    it('exists and count of a query limited to no row find none (Rails limit(0).exists?)', async (ctx) => {
      const db = await seeded(ctx)
      expect(await ok(pipe(Item.query, Item.limit(0), Item.exists(db)))).toBe(false)
      expect(await ok(pipe(Item.query, Item.limit(0), Item.count(db)))).toBe(0)
      expect(await ok(pipe(Item.query, Item.orderBy('id'), Item.offset(4), Item.exists(db)))).toBe(true)
      expect(await ok(pipe(Item.query, Item.orderBy('id'), Item.offset(5), Item.exists(db)))).toBe(false)
    })

    it('reorder replaces the order, reverseOrder reverses it (Rails reorder, reverse_order)', async (ctx) => {
      const db = await seeded(ctx)
      const byScore = pipe(Item.query, Item.orderBy('score', 'desc'))
      expect(await ok(pipe(byScore, Item.reorder('score'), Item.pluck(db, 'id')))).toEqual([3, 5, 1, 4, 2])
      expect(await ok(pipe(byScore, Item.reorder('kind', 'desc'), Item.orderBy('id'), Item.pluck(db, 'id')))).toEqual([4, 1, 2, 3, 5])
      expect(await ok(pipe(byScore, Item.reverseOrder, Item.pluck(db, 'score')))).toEqual([1, 3, 5, 7, 9])
      // Without an order, the primary key's, reversed.
      expect(await ok(pipe(Item.query, Item.reverseOrder, Item.pluck(db, 'id')))).toEqual([5, 4, 3, 2, 1])
      expect(await ok(pipe(Item.query, Item.orderBy('bonus', 'asc', 'last'), Item.orderBy('id'), Item.reverseOrder, Item.pluck(db, 'id')))).toEqual([3, 4, 1, 5, 2])
    })

    it('pluckMany reads several fields of every row as tuples, decoded (Rails pluck(:a, :b), Django values_list)', async (ctx) => {
      const db = await seeded(ctx)
      const pairs = await ok(pipe(Item.query, Item.where('kind', '=', 'food'), Item.orderBy('id'), Item.pluckMany(db, 'name', 'seen', 'bonus')))
      expect(pairs).toEqual([['Apple Pie', day(3), 7], ['banana', day(1), 2]])
      expect(pairs[0][1]).toBeInstanceOf(Date)
      await expect(ok(pipe(Item.query, Item.pluckMany(db, 'name', 'nope' as 'name')))).rejects.toMatchObject({ _tag: 'QueryError' })
    })

    it('distinct reads each selected row once, and count counts them (Rails distinct.count, Django distinct().count())', async (ctx) => {
      const db = await seeded(ctx)
      expect(await ok(pipe(Item.query, Item.select('kind'), Item.distinct, Item.orderBy('kind'), Item.all(db)))).toEqual([{ kind: 'drink' }, { kind: 'food' }, { kind: 'tree' }])
      expect(await ok(pipe(Item.query, Item.select('kind'), Item.distinct, Item.count(db)))).toBe(3)
      expect(await ok(pipe(Item.query, Item.select('kind'), Item.distinct, Item.orderBy('kind'), Item.pluck(db, 'kind')))).toEqual(['drink', 'food', 'tree'])
      expect(await ok(pipe(Item.query, Item.select('kind', 'bonus'), Item.distinct, Item.where('bonus', '=', 7), Item.count(db)))).toBe(2)
    })

    it('count of a grouped query is the number of groups (Django values().annotate().count())', async (ctx) => {
      const db = await seeded(ctx)
      expect(await ok(pipe(Item.query, Item.groupBy('kind'), Item.count(db)))).toBe(3)
      expect(await ok(pipe(Item.query, Item.where('score', '>', 4), Item.groupBy('kind'), Item.count(db)))).toBe(2)
    })

    it('icontains, istarts with, iends with match the text literally in any case (Django __icontains, __istartswith)', async (ctx) => {
      const db = await seeded(ctx)
      const ids = (op: 'icontains' | 'istarts with' | 'iends with', text: string) => ok(pipe(Item.query, Item.where('name', op, text), Item.orderBy('id'), Item.pluck(db, 'id')))
      expect(await ids('icontains', 'APPLE')).toEqual([1, 5])
      expect(await ids('icontains', 'pIe')).toEqual([1])
      expect(await ids('icontains', '50%')).toEqual([3])
      expect(await ids('icontains', '_')).toEqual([4])
      expect(await ids('istarts with', 'apple')).toEqual([1, 5])
      expect(await ids('iends with', 'JUICE')).toEqual([5])
      expect(await ids('istarts with', 'pie')).toEqual([])
    })

    it('compareFields compares two fields of a row (Django F expressions)', async (ctx) => {
      const db = await seeded(ctx)
      expect(await ok(pipe(Item.query, Item.where(Item.compareFields('score', '>', 'bonus')), Item.orderBy('id'), Item.pluck(db, 'id')))).toEqual([2])
      expect(await ok(pipe(Item.query, Item.where(Item.compareFields('score', '=', 'bonus')), Item.pluck(db, 'id')))).toEqual([4])
      expect(await ok(pipe(Item.query, Item.where(Item.not(Item.compareFields('score', '<', 'bonus'))), Item.orderBy('id'), Item.pluck(db, 'id')))).toEqual([2, 4])
      await expect(ok(pipe(Item.query, Item.where(Item.compareFields('score', '>', 'nope' as 'bonus')), Item.count(db)))).rejects.toMatchObject({ _tag: 'QueryError' })
      await expect(ok(pipe(Item.query, Item.where(Item.compareFields('score', 'like' as '=', 'bonus')), Item.count(db)))).rejects.toMatchObject({ _tag: 'QueryError' })
    })

    it('first, last and reverseOrder of a distinct selection without the key order by the selected fields', async (ctx) => {
      const db = await seeded(ctx)
      const kinds = pipe(Item.query, Item.select('kind'), Item.distinct)
      expect(await ok(pipe(kinds, Item.first(db)))).toEqual({ _tag: 'Some', value: { kind: 'drink' } })
      expect(await ok(pipe(kinds, Item.last(db)))).toEqual({ _tag: 'Some', value: { kind: 'tree' } })
      expect(await ok(pipe(kinds, Item.reverseOrder, Item.pluck(db, 'kind')))).toEqual(['tree', 'food', 'drink'])
      expect(await ok(pipe(kinds, Item.takeLast(db, 2)))).toEqual([{ kind: 'food' }, { kind: 'tree' }])
    })

    it('takeFirst and takeLast read n rows from either end, in the query order (Rails first(n), last(n))', async (ctx) => {
      const db = await seeded(ctx)
      const ids = (rows: readonly { id: number }[]) => rows.map((r) => r.id)
      expect(ids(await ok(pipe(Item.query, Item.takeFirst(db, 2))))).toEqual([1, 2])
      expect(ids(await ok(pipe(Item.query, Item.takeLast(db, 2))))).toEqual([4, 5])
      expect(ids(await ok(pipe(Item.query, Item.orderBy('score', 'desc'), Item.takeLast(db, 3))))).toEqual([1, 5, 3])
      expect(ids(await ok(pipe(Item.query, Item.orderBy('score'), Item.takeFirst(db, 10))))).toEqual([3, 5, 1, 4, 2])
      // With a limit or an offset: the last n of the rows the query reads.
      expect(ids(await ok(pipe(Item.query, Item.orderBy('id'), Item.limit(4), Item.takeLast(db, 2))))).toEqual([3, 4])
      expect(ids(await ok(pipe(Item.query, Item.orderBy('id'), Item.offset(1), Item.limit(3), Item.takeFirst(db, 2))))).toEqual([2, 3])
      expect(await ok(pipe(Item.query, Item.takeLast(db, 0)))).toEqual([])
      await expect(ok(pipe(Item.query, Item.takeFirst(db, -1)))).rejects.toMatchObject({ _tag: 'ValidationError' })
      await expect(ok(pipe(Item.query, Item.takeLast(db, 1.5)))).rejects.toMatchObject({ _tag: 'ValidationError' })
    })

    it('sum, min, max and avg of no row are null (as Django; Rails sums no row to 0)', async (ctx) => {
      const db = await seeded(ctx)
      const none = pipe(Item.query, Item.where('kind', '=', 'none'))
      expect(await ok(pipe(none, Item.sum(db, 'score')))).toBe(null)
      expect(await ok(pipe(none, Item.avg(db, 'score')))).toBe(null)
      expect(await ok(pipe(none, Item.max(db, 'score')))).toBe(null)
      expect(await ok(pipe(none, Item.count(db)))).toBe(0)
    })

    it('an empty in list matches no row and an empty not in list every row, in each form (Python ActiveRecord in_list)', async (ctx) => {
      const db = await seeded(ctx)
      expect(await ok(pipe(Item.query, Item.where('id', 'in', []), Item.count(db)))).toBe(0)
      expect(await ok(pipe(Item.query, Item.where('id', 'not in', []), Item.count(db)))).toBe(5)
      expect(await ok(pipe(Item.query, Item.where({ id: [] }), Item.count(db)))).toBe(0)
      expect(await ok(pipe(Item.query, Item.where(Item.not(Item.cond({ bonus: [] }))), Item.count(db)))).toBe(5)
      expect(await ok(pipe(Item.query, Item.where('bonus', 'not in', []), Item.exists(db)))).toBe(true)
      expect(await ok(Item.findMany(db, []))).toEqual([])
    })

    it('min and max of dates and strings decode with the field codec (Rails minimum/maximum)', async (ctx) => {
      const db = await seeded(ctx)
      expect(await ok(pipe(Item.query, Item.min(db, 'seen')))).toEqual(day(1))
      expect(await ok(pipe(Item.query, Item.max(db, 'seen')))).toEqual(day(5))
      expect(await ok(pipe(Item.query, Item.where('kind', '=', 'food'), Item.max(db, 'name')))).toBe('banana')
      expect(await ok(pipe(Item.query, Item.where('kind', '=', 'none'), Item.min(db, 'seen')))).toBe(null)
    })
  })
}
