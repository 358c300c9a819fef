/**
 * Typed results: counts, sums and averages of the builders are read back the same way on
 * SQLite, PostgreSQL and MariaDB (see src/results.ts), with rows from the real databases.
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest'
import { compose, connect, run, sql, type Backend } from 'recordkit'
import {
  as, avg, cast, count, readAs, countDistinct, filterWhere, from, groupBy, gt, insertInto, max, orderBy, over, param, returning, select, sum,
  unionAll, values, where,
} from 'recordkit/query'
import { mysql } from 'recordkit/dialects/mysql'
import { postgres } from 'recordkit/dialects/postgres'
import { sqlite } from 'recordkit/dialects/sqlite'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'
import { mysql2 } from 'recordkit/drivers/mysql2'
import { postgresJs } from 'recordkit/drivers/postgres'
import { MYSQL_URL, PG_URL, serverAvailable } from './support/servers.js'

const mariadbAvailable = await serverAvailable('mariadb')
const postgresAvailable = await serverAvailable('postgres')

const T = 'tr_sale'

const engines = [
  { name: 'sqlite', available: true, open: async (): Promise<Backend> => compose(betterSqlite3({ filename: ':memory:' }), sqlite) },
  { name: 'postgres', available: postgresAvailable, open: () => run(connect(postgresJs({ url: PG_URL, max: 2 }), postgres)) },
  { name: 'mariadb', available: mariadbAvailable, open: () => run(connect(mysql2({ url: MYSQL_URL, max: 2 }), mysql)) },
] as const

const ROWS = [
  { id: 1, region: 'north', qty: 1, price: '10.50', big: 1 },
  { id: 2, region: 'north', qty: 2, price: '2.25', big: 2 },
  { id: 3, region: 'south', qty: 4, price: '0.10', big: 3 },
]

for (const engine of engines) {
  describe.skipIf(!engine.available)(`typed results on ${engine.name}`, () => {
    let db: Backend
    beforeAll(async () => {
      db = await engine.open()
      await run(db.execute(sql`DROP TABLE IF EXISTS ${sql.id(T)}`))
      await run(db.execute(sql`CREATE TABLE ${sql.id(T)} (id INTEGER PRIMARY KEY, region VARCHAR(10) NOT NULL, qty INTEGER NOT NULL, price DECIMAL(12, 2) NOT NULL, big BIGINT NOT NULL)`))
      await run(db.execute(pipe(insertInto(T), values(ROWS))))
    })
    afterAll(async () => {
      await db.execute(sql`DROP TABLE IF EXISTS ${sql.id(T)}`)()
      await run(db.close())
    })

    it('counts are numbers: COUNT(*), COUNT(DISTINCT), FILTER, windowed', async () => {
      const rows = await run(db.all(pipe(from(T), select(
        as(count(), 'n'), as(countDistinct('region'), 'regions'), as(filterWhere(count(), gt('qty', 1)), 'many'),
      ))))
      expect(rows).toEqual([{ n: 3, regions: 2, many: 2 }])
      const windowed = await run(db.all(pipe(from(T), select('id', as(over(count(), { partitionBy: ['region'] }), 'in_region')), orderBy('id'))))
      expect(windowed).toEqual([{ id: 1, in_region: 2 }, { id: 2, in_region: 2 }, { id: 3, in_region: 1 }])
    })

    it('grouped counts and integer sums are numbers, the same rows on every engine', async () => {
      const rows = await run(db.all(pipe(from(T), select('region', { n: count(), units: sum('qty'), bigs: sum('big') }), groupBy('region'), orderBy('region'))))
      expect(rows).toEqual([{ region: 'north', n: 2, units: 3, bigs: 3 }, { region: 'south', n: 1, units: 4, bigs: 3 }])
      for (const r of rows) expect(typeof r.units).toBe('number')
    })

    it('decimal sums are numbers by default and exact text when asked; averages are numbers', async () => {
      const [r] = await run(db.all(pipe(from(T), select({ total: sum('price'), exact: sum('price', { exact: true }), mean: avg('qty') }))))
      expect(r.total).toBe(12.85)
      expect(r.exact).toBe('12.85')
      const [south] = await run(db.all(pipe(from(T), select({ exact: sum('price', { exact: true }) }), where({ region: 'south' }))))
      expect(south.exact).toBe('0.1')
      expect(typeof r.mean).toBe('number')
      expect(r.mean as number).toBeCloseTo(7 / 3, 3)
    })

    it('NULL stays null: a sum and an average over no rows', async () => {
      const rows = await run(db.all(pipe(from(T), select({ n: count(), total: sum('qty'), mean: avg('qty') }), where(gt('qty', 100)))))
      expect(rows).toEqual([{ n: 0, total: null, mean: null }])
    })

    it('CAST to integer and to a decimal', async () => {
      const rows = await run(db.all(pipe(from(T), select(as(cast(max('price'), 'integer'), 'top'), as(cast(max('qty'), 'decimal(10,2)'), 'qtyText')))))
      expect(rows[0].top).toBe(engine.name === 'sqlite' ? 10 : 11) // SQLite truncates, the others round
      expect(rows[0].qtyText).toBe('4')
    })

    it('a sum a double cannot hold exactly is a DecodeError, and exact text with { exact: true }', async () => {
      await run(db.execute(sql`UPDATE ${sql.id(T)} SET big = ${sql.lit(9007199254740000)} WHERE id = 3`))
      try {
        const r = await db.all(pipe(from(T), select({ bigs: sum('big') }), where(gt('id', 1))))()
        expect(r).toEqual(E.right([{ bigs: 9007199254740002 }]))
        await run(db.execute(sql`UPDATE ${sql.id(T)} SET big = ${sql.lit(9007199254740990)} WHERE id IN (2, 3)`))
        const over = await db.all(pipe(from(T), select({ bigs: sum('big') }), where(gt('id', 1))))()
        expect(E.isLeft(over) && over.left._tag).toBe('DecodeError')
        if (E.isLeft(over)) expect(over.left.message).toContain('exact: true')
        // The same through every read path: first, prepared (async and synchronous), db.sync.
        const q = pipe(from(T), select({ bigs: sum('big') }), where(gt('id', param('from'))))
        const p = db.prepare(q)
        const refusals = [await db.first(pipe(from(T), select({ bigs: sum('big') }), where(gt('id', 1))))(), await p.first({ from: 1 })(), await p.all({ from: 1 })()]
        if (p.sync !== undefined) refusals.push(p.sync.first({ from: 1 })(), p.sync.all({ from: 1 })())
        if (db.sync !== undefined) refusals.push(db.sync.first(pipe(from(T), select({ bigs: sum('big') }), where(gt('id', 1))))())
        expect(refusals.map((r) => (E.isLeft(r) ? r.left._tag : JSON.stringify(r.right, (_, v) => (typeof v === 'bigint' ? `${v}n` : v))))).toEqual(refusals.map(() => 'DecodeError'))
        const exactFirst = await run(db.prepare(pipe(from(T), select({ bigs: sum('big', { exact: true }) }), where(gt('id', param('from'))))).first({ from: 1 }))
        expect(exactFirst).toEqual({ _tag: 'Some', value: { bigs: '18014398509481980' } })
        const exact = await run(db.all(pipe(from(T), select({ bigs: sum('big', { exact: true }) }), where(gt('id', 1)))))
        expect(exact).toEqual([{ bigs: '18014398509481980' }])
      } finally {
        await run(db.execute(sql`UPDATE ${sql.id(T)} SET big = id`))
      }
    })

    it('prepared queries, first, streams, unions and RETURNING read back the same way', async () => {
      const prepared = db.prepare(pipe(from(T), select({ n: count() }), where(gt('qty', param('min')))))
      expect(await run(prepared.all({ min: 1 }))).toEqual([{ n: 2 }])
      const first = await run(db.first(pipe(from(T), select({ n: count() }))))
      expect(first).toEqual({ _tag: 'Some', value: { n: 3 } })
      const streamed: unknown[] = []
      for await (const r of db.stream(pipe(from(T), select('region', { n: count() }), groupBy('region'), orderBy('region')))) streamed.push(r)
      expect(streamed).toEqual([{ region: 'north', n: 2 }, { region: 'south', n: 1 }])
      const both = pipe(from(T), select({ n: count() }), unionAll(pipe(from(T), select({ n: count() }), where(gt('qty', 1)))))
      expect((await run(db.all(both))).map((r) => r.n).sort()).toEqual([2, 3])
      if (engine.name !== 'mariadb') {
        const back = await run(db.all(pipe(insertInto(T), values({ id: 9, region: 'x', qty: 5, price: '1.00', big: 9 }), returning('id', as(cast('qty', 'integer'), 'q')))))
        expect(back).toEqual([{ id: 9, q: 5 }])
        await run(db.execute(sql`DELETE FROM ${sql.id(T)} WHERE id = 9`))
      }
    })

    it('select({ ... }) of typed expressions infers the row type', async () => {
      const q = pipe(from(T), select({ n: count(), total: sum('qty'), exact: sum('price', { exact: true }), mean: avg('qty'), doc: readAs(max('price'), 'decimal') }))
      const [r] = await run(db.all(q))
      expectTypeOf(r).toEqualTypeOf<{ n: number; total: number | null; exact: string | null; mean: number | null; doc: string | null }>()
      expect(r).toEqual({ n: 3, total: 7, exact: '12.85', mean: r.mean, doc: '10.5' })
      // @ts-expect-error: not selected
      expect(r.missing).toBeUndefined()
    })

    it('unnamed aggregates are left as the driver gives them', async () => {
      const [r] = await run(db.all(pipe(from(T), select(count()))))
      expect(Object.values(r).map(Number)).toEqual([3])
    })
  })
}
