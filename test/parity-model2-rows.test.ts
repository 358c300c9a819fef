/**
 * Reading rows as Rails' and Django's users expect, on SQLite, PostgreSQL and MariaDB: `having`
 * on grouped aggregates, `sole` (Django's `get`: one row, NotFound, or an error for several),
 * `findOrCreate` (Rails' `find_or_create_by`, Django's `get_or_create`), `findMany` (Rails'
 * `find([ids])`), `unscope` of a query's parts, `paginate` and `batches` of a `distinct` query,
 * and the batch sizes of `batches` under a limit (Rails' `in_batches(of:)` with `limit`).
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { right } from 'fp-ts/lib/Either.js'
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import { type Backend, type DbError, sql } from 'recordkit'
import { model } from 'recordkit/model'
import { ok } from 'recordkit/testing'
import { ENGINES, engineTables } from './support/engine-tables.js'

const Item = model({
  table: 'h6_rows',
  primaryKey: 'id',
  codec: t.type({ id: t.number, name: t.string, kind: t.string, score: t.number }),
})

/** The items again, with another writer inserting 'fig' (on another connection) just before this model's INSERT. */
let race: { db: Backend; done: boolean } | undefined
const RacyItem = model({
  table: 'h6_rows',
  primaryKey: 'id',
  codec: Item.codec,
  hooks: {
    beforeInsert: (values) => async () => {
      if (race !== undefined && !race.done) {
        race.done = true
        const other = await race.db.execute(sql`INSERT INTO h6_rows (id, name, kind, score) VALUES (8, 'fig', 'other', 1)`)()
        if (other._tag === 'Left') return other
      }
      return right(values)
    },
  },
})

const Pair = model({
  table: 'h6_pairs',
  primaryKey: ['a', 'b'],
  codec: t.type({ a: t.number, b: t.string, note: t.string }),
})

const ddl = (): string[] => [
  'CREATE TABLE h6_rows (id INTEGER PRIMARY KEY, name VARCHAR(40) NOT NULL UNIQUE, kind VARCHAR(10) NOT NULL, score INTEGER NOT NULL)',
  'CREATE TABLE h6_pairs (a INTEGER NOT NULL, b VARCHAR(10) NOT NULL, note VARCHAR(20) NOT NULL, PRIMARY KEY (a, b))',
]

const ROWS = [
  { id: 1, name: 'apple', kind: 'food', score: 5 },
  { id: 2, name: 'banana', kind: 'food', score: 9 },
  { id: 3, name: 'cherry', kind: 'drink', score: 1 },
  { id: 4, name: 'date', kind: 'tree', score: 7 },
  { id: 5, name: 'elder', kind: 'drink', score: 3 },
]

for (const engine of ENGINES) {
  describe(`model rows, second pass, on ${engine.name}`, () => {
    const { use } = engineTables(engine, ['h6_rows', 'h6_pairs'], ddl)
    const seeded = async (ctx: { skip: () => void }) => {
      const db = use(ctx)
      await ok(Item.createMany(db, ROWS))
      return db
    }

    it('having keeps the groups whose aggregate passes (Rails group.having, Django annotate().filter())', async (ctx) => {
      const db = await seeded(ctx)
      const grouped = pipe(Item.query, Item.groupBy('kind'), Item.orderBy('kind'))
      expect(await ok(pipe(grouped, Item.having((a) => a.count(), '>', 1), Item.aggregate(db, (a) => ({ n: a.count() }))))).toEqual([{ kind: 'drink', n: 2 }, { kind: 'food', n: 2 }])
      expect(await ok(pipe(grouped, Item.having((a) => a.sum('score'), '>=', 7), Item.aggregate(db, (a) => ({ s: a.sum('score') }))))).toEqual([{ kind: 'food', s: 14 }, { kind: 'tree', s: 7 }])
      expect(await ok(pipe(grouped, Item.having((a) => a.count(), '>', 1), Item.having((a) => a.max('score'), '<', 9), Item.aggregate(db, (a) => ({ n: a.count() }))))).toEqual([{ kind: 'drink', n: 2 }])
      // count and exists read the groups that pass.
      expect(await ok(pipe(grouped, Item.having((a) => a.count(), '>', 1), Item.count(db)))).toBe(2)
      expect(await ok(pipe(grouped, Item.having((a) => a.count(), '>', 2), Item.count(db)))).toBe(0)
      expect(await ok(pipe(grouped, Item.having((a) => a.count(), '>', 2), Item.exists(db)))).toBe(false)
      expect(await ok(pipe(grouped, Item.having((a) => a.avg('score'), '>', 6), Item.exists(db)))).toBe(true)
      // Without groupBy, or on a field that does not exist: a QueryError, nothing run.
      await expect(ok(pipe(Item.query, Item.having((a) => a.count(), '>', 1), Item.aggregate(db, (a) => ({ n: a.count() }))))).rejects.toMatchObject({ _tag: 'QueryError' })
      await expect(ok(pipe(grouped, Item.having((a) => a.sum('nope' as 'score'), '>', 1), Item.aggregate(db, (a) => ({ n: a.count() }))))).rejects.toMatchObject({ _tag: 'QueryError' })
    })

    it('orderByAggregate orders groups by an aggregate, with limit: the top groups (Django annotate().order_by(), Rails group.order(count))', async (ctx) => {
      const db = await seeded(ctx)
      const top = pipe(Item.query, Item.groupBy('kind'), Item.orderByAggregate((a) => a.sum('score'), 'desc'), Item.orderBy('kind'))
      expect(await ok(pipe(top, Item.aggregate(db, (a) => ({ s: a.sum('score') }))))).toEqual([{ kind: 'food', s: 14 }, { kind: 'tree', s: 7 }, { kind: 'drink', s: 4 }])
      expect(await ok(pipe(top, Item.limit(2), Item.aggregate(db, (a) => ({ n: a.count() }))))).toEqual([{ kind: 'food', n: 2 }, { kind: 'tree', n: 1 }])
      expect(await ok(pipe(Item.query, Item.groupBy('kind'), Item.orderByAggregate((a) => a.count()), Item.orderBy('kind', 'desc'), Item.aggregate(db, (a) => ({ m: a.max('score') }))))).toEqual([{ kind: 'tree', m: 7 }, { kind: 'food', m: 9 }, { kind: 'drink', m: 3 }])
      expect(await ok(pipe(top, Item.limit(2), Item.count(db)))).toBe(2)
      await expect(ok(pipe(Item.query, Item.groupBy('kind'), Item.orderByAggregate((a) => a.max('nope' as 'score')), Item.aggregate(db, (a) => ({ n: a.count() }))))).rejects.toMatchObject({ _tag: 'QueryError' })
    })

    it('rows of a grouped query are refused, never read as if it were not grouped: aggregate, count and exists read it', async (ctx) => {
      const db = await seeded(ctx)
      const grouped = pipe(Item.query, Item.groupBy('kind'))
      const reads: ((q: never) => TaskEither<DbError, unknown>)[] = [Item.all(db), Item.first(db), Item.pluck(db, 'kind'), Item.pluckMany(db, 'kind'), Item.paginate(db, { page: 1, perPage: 2 })]
      for (const read of reads) {
        await expect(ok(read(grouped as never))).rejects.toMatchObject({ _tag: 'QueryError', message: expect.stringMatching(/aggregate/) })
      }
      const batches = async () => {
        for await (const batch of Item.batches(db)(grouped as never)) void batch
      }
      await expect(batches()).rejects.toMatchObject({ _tag: 'QueryError' })
      expect(await ok(pipe(grouped, Item.count(db)))).toBe(3)
    })

    it('sole reads the one row, NotFound for none, QueryError for several (Django get, Rails sole)', async (ctx) => {
      const db = await seeded(ctx)
      expect(await ok(pipe(Item.query, Item.where('name', '=', 'date'), Item.sole(db)))).toEqual(ROWS[3])
      await expect(ok(pipe(Item.query, Item.where('name', '=', 'fig'), Item.sole(db)))).rejects.toMatchObject({ _tag: 'NotFound' })
      await expect(ok(pipe(Item.query, Item.where('kind', '=', 'food'), Item.sole(db)))).rejects.toMatchObject({ _tag: 'QueryError', message: expect.stringMatching(/more than one/) })
    })

    it('findOrCreate finds the matching row or creates it, and says which (Rails find_or_create_by, Django get_or_create)', async (ctx) => {
      const db = await seeded(ctx)
      const found = await ok(Item.findOrCreate(db, { name: 'banana' }, { id: 9, kind: 'x', score: 0 }))
      expect(found).toEqual({ row: ROWS[1], created: false })
      const made = await ok(Item.findOrCreate(db, { name: 'fig' }, { id: 6, kind: 'food', score: 4 }))
      expect(made).toEqual({ row: { id: 6, name: 'fig', kind: 'food', score: 4 }, created: true })
      expect(await ok(pipe(Item.query, Item.count(db)))).toBe(6)
      // A list is a condition (IN), never a value to create with.
      await expect(ok(Item.findOrCreate(db, { name: ['x', 'y'] } as never, { id: 7, kind: 'k', score: 1 }))).rejects.toMatchObject({ _tag: 'ValidationError' })
      expect(await ok(pipe(Item.query, Item.count(db)))).toBe(6)
    })

    it('findOrCreate reads the row another writer created between its read and its insert; a conflict with another row stays a UniqueViolation', async (ctx) => {
      const db = await seeded(ctx)
      // Another writer (another connection) inserts 'fig' just before findOrCreate's INSERT runs.
      // SQLite has one connection, whose writes a transaction holds: no other writer to race with.
      if (engine.name !== 'sqlite') {
        race = { db, done: false }
        const r = await ok(RacyItem.findOrCreate(db, { name: 'fig' }, { id: 6, kind: 'food', score: 4 }))
        expect(race.done).toBe(true)
        expect(r).toEqual({ row: { id: 8, name: 'fig', kind: 'other', score: 1 }, created: false })
      }
      // No row matches, and the insert meets another row's key: that violation is the answer.
      await expect(ok(Item.findOrCreate(db, { name: 'grape' }, { id: 2, kind: 'food', score: 1 }))).rejects.toMatchObject({ _tag: 'UniqueViolation' })
      expect(await ok(pipe(Item.query, Item.count(db)))).toBe(engine.name === 'sqlite' ? 5 : 6)
    })

    it('findMany reads rows by key in the order of the keys, NotFound naming a missing key (Rails find([ids]))', async (ctx) => {
      const db = await seeded(ctx)
      expect((await ok(Item.findMany(db, [4, 1, 2]))).map((r) => r.id)).toEqual([4, 1, 2])
      expect(await ok(Item.findMany(db, []))).toEqual([])
      await expect(ok(Item.findMany(db, [1, 42]))).rejects.toMatchObject({ _tag: 'NotFound', key: 42 })
      await ok(Pair.createMany(db, [{ a: 1, b: 'x', note: 'one' }, { a: 1, b: 'y', note: 'two' }, { a: 2, b: 'x', note: 'three' }]))
      expect((await ok(Pair.findMany(db, [{ a: 2, b: 'x' }, { a: 1, b: 'x' }]))).map((r) => r.note)).toEqual(['three', 'one'])
      await expect(ok(Pair.findMany(db, [{ a: 2, b: 'y' }]))).rejects.toMatchObject({ _tag: 'NotFound', key: { a: 2, b: 'y' } })
    })

    it('unscope drops parts of a query: its conditions, order, limit, offset, selection (Rails unscope)', async (ctx) => {
      const db = await seeded(ctx)
      const q = pipe(Item.query, Item.where('kind', '=', 'food'), Item.orderBy('score', 'desc'), Item.limit(1), Item.offset(1))
      expect(await ok(pipe(q, Item.pluck(db, 'id')))).toEqual([1])
      expect(await ok(pipe(q, Item.unscope('where'), Item.pluck(db, 'id')))).toEqual([4])
      expect(await ok(pipe(q, Item.unscope('limit', 'offset'), Item.pluck(db, 'id')))).toEqual([2, 1])
      expect(await ok(pipe(q, Item.unscope('order', 'limit', 'offset'), Item.orderBy('id'), Item.pluck(db, 'id')))).toEqual([1, 2])
      expect(await ok(pipe(Item.query, Item.select('id'), Item.unscope('select'), Item.where('id', '=', 3), Item.all(db)))).toEqual([ROWS[2]])
      expect(pipe(q, Item.unscope('bogus' as 'where')).error?._tag).toBe('QueryError')
    })

    it('paginate of a distinct query counts its distinct rows; batches of one without the key is refused', async (ctx) => {
      const db = await seeded(ctx)
      const kinds = pipe(Item.query, Item.select('kind'), Item.distinct, Item.orderBy('kind'))
      const page = await ok(pipe(kinds, Item.paginate(db, { page: 1, perPage: 2 })))
      expect([page.total, page.pages, page.rows]).toEqual([3, 2, [{ kind: 'drink' }, { kind: 'food' }]])
      const second = await ok(pipe(kinds, Item.paginate(db, { page: 2, perPage: 2 })))
      expect([second.total, second.rows]).toEqual([3, [{ kind: 'tree' }]])
      const read = async () => {
        for await (const batch of pipe(Item.query, Item.select('kind'), Item.distinct, Item.batches(db, { size: 2 }))) void batch
      }
      await expect(read()).rejects.toMatchObject({ _tag: 'QueryError' })
    })

    it('batches in descending key order, from a start key to a finish key (Rails find_each(order: :desc, start:, finish:))', async (ctx) => {
      const db = await seeded(ctx)
      const read = async (options: Parameters<typeof Item.batches>[1], q = Item.query) => {
        const out: number[][] = []
        for await (const batch of pipe(q, Item.batches(db, options))) out.push(batch.map((r) => r.id))
        return out
      }
      expect(await read({ size: 2, order: 'desc' })).toEqual([[5, 4], [3, 2], [1]])
      expect(await read({ size: 2, start: 2, finish: 4 })).toEqual([[2, 3], [4]])
      expect(await read({ size: 2, order: 'desc', start: 4, finish: 2 })).toEqual([[4, 3], [2]])
      expect(await read({ size: 10, order: 'DESC' as 'desc' }, pipe(Item.query, Item.where('kind', '=', 'food'), Item.limit(1)))).toEqual([[2]])
      await ok(Pair.createMany(db, [{ a: 1, b: 'x', note: 'one' }, { a: 1, b: 'y', note: 'two' }, { a: 2, b: 'x', note: 'three' }]))
      const pairs: string[][] = []
      for await (const batch of pipe(Pair.query, Pair.batches(db, { size: 2, order: 'desc' }))) pairs.push(batch.map((r) => r.note))
      expect(pairs).toEqual([['three', 'two'], ['one']])
      // A bound of a composite key, or an order word that is not one, is refused.
      await expect(read({ order: 'up' as 'desc' })).rejects.toMatchObject({ _tag: 'ValidationError' })
      const composite = async () => {
        for await (const batch of pipe(Pair.query, Pair.batches(db, { start: 1 }))) void batch
      }
      await expect(composite()).rejects.toMatchObject({ _tag: 'QueryError' })
    })

    it('batches under a limit: full batches, then the rest (Rails in_batches(of:) with limit)', async (ctx) => {
      const db = await seeded(ctx)
      const sizes: number[][] = []
      for await (const batch of pipe(Item.query, Item.limit(5), Item.batches(db, { size: 2 }))) sizes.push(batch.map((r) => r.id))
      expect(sizes).toEqual([[1, 2], [3, 4], [5]])
      const some: number[][] = []
      for await (const batch of pipe(Item.query, Item.where('score', '>', 2), Item.limit(3), Item.batches(db, { size: 2 }))) some.push(batch.map((r) => r.id))
      expect(some).toEqual([[1, 2], [4]])
    })
  })
}
