/**
 * Reads Rails' and Django's users expect of a model, third pass, on SQLite, PostgreSQL and
 * MariaDB: `pick` (Rails' `pick`, Laravel's `value`), `inOrderOf` (Rails' `in_order_of`) and
 * `inBulk` (Django's `in_bulk`).
 */
import { pipe } from 'fp-ts/lib/function.js'
import { none, some } from 'fp-ts/lib/Option.js'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { date, model, promisedModel, softDelete, nullable } from 'recordkit/model'
import { ok } from 'recordkit/testing'
import { ENGINES, engineTables } from './support/engine-tables.js'

const Item = model({
  table: 'm3r_items',
  primaryKey: 'id',
  codec: t.type({ id: t.number, name: t.string, status: nullable(t.string), score: t.number, seen: date, deletedAt: nullable(date) }),
  columns: { deletedAt: 'deleted_at' },
  behaviours: [softDelete()],
})

const Pair = model({
  table: 'm3r_pairs',
  primaryKey: ['a', 'b'],
  codec: t.type({ a: t.number, b: t.string, note: t.string }),
})

const ddl = (engine: string): string[] => {
  const stamp = engine === 'postgres' ? 'TIMESTAMP(3)' : engine === 'mariadb' ? 'DATETIME(3)' : 'TEXT'
  return [
    `CREATE TABLE m3r_items (id INTEGER PRIMARY KEY, name VARCHAR(40) NOT NULL UNIQUE, status VARCHAR(20), score INTEGER NOT NULL, seen ${stamp} NOT NULL, deleted_at ${stamp})`,
    'CREATE TABLE m3r_pairs (a INTEGER NOT NULL, b VARCHAR(10) NOT NULL, note VARCHAR(20) NOT NULL, PRIMARY KEY (a, b))',
  ]
}

const day = (i: number) => new Date(Date.UTC(2024, 0, 1 + i, 12, 30, 15, 250))
const ROWS = [
  { id: 1, name: 'apple', status: 'published', score: 5, seen: day(3), deletedAt: null },
  { id: 2, name: 'banana', status: 'draft', score: 9, seen: day(1), deletedAt: null },
  { id: 3, name: 'cherry', status: null, score: 1, seen: day(5), deletedAt: null },
  { id: 4, name: 'date', status: 'archived', score: 7, seen: day(2), deletedAt: null },
  { id: 5, name: 'elder', status: 'draft', score: 3, seen: day(4), deletedAt: null },
]

for (const engine of ENGINES) {
  describe(`model reads, third pass, on ${engine.name}`, () => {
    const { use } = engineTables(engine, ['m3r_items', 'm3r_pairs'], ddl)
    const seeded = async (ctx: { skip: () => void }) => {
      const db = use(ctx)
      await ok(Item.createMany(db, ROWS))
      return db
    }

    it('pick reads one field of the first row, None without a row (Rails pick, Laravel value)', async (ctx) => {
      const db = await seeded(ctx)
      expect(await ok(pipe(Item.query, Item.pick(db, 'name')))).toEqual(some('apple'))
      expect(await ok(pipe(Item.query, Item.orderBy('score', 'desc'), Item.pick(db, 'name')))).toEqual(some('banana'))
      expect(await ok(pipe(Item.query, Item.orderBy('score'), Item.offset(1), Item.pick(db, 'seen')))).toEqual(some(day(4)))
      // A NULL value is Some(null), told apart from no row.
      expect(await ok(pipe(Item.query, Item.where('id', '=', 3), Item.pick(db, 'status')))).toEqual(some(null))
      expect(await ok(pipe(Item.query, Item.where('id', '=', 99), Item.pick(db, 'status')))).toEqual(none)
      expect(await ok(pipe(Item.query, Item.limit(0), Item.pick(db, 'id')))).toEqual(none)
      expect(await ok(pipe(Item.query, Item.computed('twice', t.number, Item.raw(Item.column('score')).expr), Item.orderBy('id', 'desc'), Item.pick(db, 'twice')))).toEqual(some(3))
      await expect(ok(pipe(Item.query, Item.pick(db, 'nope' as 'name')))).rejects.toMatchObject({ _tag: 'QueryError' })
      const Items = promisedModel(Item)
      expect(await pipe(Item.query, Item.orderBy('name', 'desc'), Items.pick(db, 'id'))).toBe(5)
      expect(await pipe(Item.query, Item.none, Items.pick(db, 'id'))).toBeUndefined()
    })

    it('inOrderOf keeps the rows holding the values, in the order listed (Rails in_order_of)', async (ctx) => {
      const db = await seeded(ctx)
      const ids = (q: typeof Item.query) => ok(pipe(q, Item.pluck(db, 'id')))
      expect(await ids(pipe(Item.query, Item.inOrderOf('status', ['draft', 'published', 'archived']), Item.orderBy('id', 'desc')))).toEqual([5, 2, 1, 4])
      expect(await ids(pipe(Item.query, Item.inOrderOf('id', [4, 1, 99, 3])))).toEqual([4, 1, 3])
      // null stands for a NULL field.
      expect(await ids(pipe(Item.query, Item.inOrderOf('status', [null, 'archived']), Item.orderBy('id')))).toEqual([3, 4])
      // filter: false keeps every row, those holding none of the values last.
      expect(await ids(pipe(Item.query, Item.inOrderOf('status', ['archived', 'draft'], { filter: false }), Item.orderBy('id')))).toEqual([4, 2, 5, 1, 3])
      expect(await ids(pipe(Item.query, Item.inOrderOf('seen', [day(2), day(5)])))).toEqual([4, 3])
      // After an earlier order; an empty list keeps no row (as `in []`).
      expect(await ids(pipe(Item.query, Item.orderBy('score'), Item.inOrderOf('id', [2, 1])))).toEqual([1, 2])
      expect(await ids(pipe(Item.query, Item.inOrderOf('id', [])))).toEqual([])
      expect(await ok(pipe(Item.query, Item.inOrderOf('status', ['draft']), Item.count(db)))).toBe(2)
      const page = await ok(pipe(Item.query, Item.inOrderOf('id', [5, 3, 1, 2]), Item.paginate(db, { page: 2, perPage: 2 })))
      expect([page.rows.map((r) => r.id), page.total]).toEqual([[1, 2], 4])
      await expect(ids(pipe(Item.query, Item.inOrderOf('id', [1, undefined as unknown as number])))).rejects.toMatchObject({ _tag: 'ValidationError', issues: [{ path: 'id' }] })
      await expect(ids(pipe(Item.query, Item.inOrderOf('nope' as 'id', [1])))).rejects.toMatchObject({ _tag: 'QueryError' })
    })

    it('inBulk maps each value given to its row, leaving out values without a row (Django in_bulk)', async (ctx) => {
      const db = await seeded(ctx)
      const byId = await ok(Item.inBulk(db, [3, 1, 99]))
      expect([...byId.keys()]).toEqual([3, 1])
      expect(byId.get(1)?.name).toBe('apple')
      const byName = await ok(Item.inBulk(db, ['date', 'zzz'], 'name'))
      expect([...byName.entries()].map(([k, v]) => [k, v.id])).toEqual([['date', 4]])
      // A Date is keyed by its ISO text: any equal Date finds the row (test/model-in-bulk-dates.test.ts).
      const when = day(2)
      expect((await ok(Item.inBulk(db, [when], 'seen'))).get(new Date(when.getTime()).toISOString())?.id).toBe(4)
      expect((await ok(Item.inBulk(db, []))).size).toBe(0)
      // Default scopes apply: a soft-deleted row is not found.
      await ok(Item.delete(db, (await ok(Item.findOrFail(db, 1)))))
      expect([...(await ok(Item.inBulk(db, [1, 2]))).keys()]).toEqual([2])
      // A field that does not tell rows apart, and a composite key without a field, are refused.
      await expect(ok(Item.inBulk(db, ['draft'], 'status'))).rejects.toMatchObject({ _tag: 'QueryError', message: expect.stringContaining('several rows') })
      await ok(Pair.create(db, { a: 1, b: 'x', note: 'n' }))
      await expect(ok(Pair.inBulk(db, [{ a: 1, b: 'x' }]))).rejects.toMatchObject({ _tag: 'QueryError', message: expect.stringContaining('findMany') })
      expect((await ok(Pair.inBulk(db, ['n'], 'note'))).get('n')?.b).toBe('x')
      expect((await promisedModel(Item).inBulk(db, [2])).get(2)?.name).toBe('banana')
    })

    it('forUpdate locks the rows read until the transaction ends; nowait fails at once, skipLocked passes them by (Rails lock, Django select_for_update)', async (ctx) => {
      const db = await seeded(ctx)
      const ready = pipe(Item.query, Item.where('status', '=', 'draft'))
      if (engine.name === 'sqlite') {
        // SQLite locks the whole database: no row locks, said before anything runs.
        await expect(ok(pipe(ready, Item.forUpdate(), Item.all(db)))).rejects.toMatchObject({ _tag: 'UnsupportedFeature', message: expect.stringContaining('sqlite') })
        await expect(ok(pipe(ready, Item.forShare(), Item.first(db)))).rejects.toMatchObject({ _tag: 'UnsupportedFeature' })
        return
      }
      const tx = await ok(db.startTransaction())
      try {
        // The first draft (by key) taken for update inside the transaction.
        const taken = await ok(pipe(ready, Item.forUpdate(), Item.first(tx)))
        expect(taken).toMatchObject({ _tag: 'Some', value: { id: 2 } })
        // Another connection: skipLocked leaves row 2 out, nowait refuses it at once.
        expect(await ok(pipe(ready, Item.forUpdate({ skipLocked: true }), Item.pluck(db, 'id')))).toEqual([5])
        expect(await ok(pipe(Item.query, Item.where('id', '=', 5), Item.forShare({ nowait: true }), Item.pluck(db, 'id')))).toEqual([5])
        await expect(ok(pipe(Item.query, Item.where('id', '=', 2), Item.forUpdate({ nowait: true }), Item.all(db)))).rejects.toMatchObject({ _tag: 'LockTimeout' })
        // A plain read is not blocked. A locked count: PostgreSQL locks no aggregated rows (said before it runs).
        expect(await ok(pipe(ready, Item.count(db)))).toBe(2)
        const counted = ok(pipe(ready, Item.forUpdate(), Item.count(tx)))
        if (engine.name === 'postgres') await expect(counted).rejects.toMatchObject({ _tag: 'UnsupportedFeature' })
        else expect(await counted).toBe(2)
      } finally {
        await ok(tx.rollback())
      }
      // Once the transaction is over, the row is free again.
      expect(await ok(pipe(Item.query, Item.where('id', '=', 2), Item.forUpdate({ nowait: true }), Item.pluck(db, 'id')))).toEqual([2])
    })
  })
}
