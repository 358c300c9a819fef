/**
 * A grouped report ranked within its groups, the grouped expression binding a value: rooms ranked
 * per local day, the day being `dateTrunc('day', dateAdd(starts_at, 2, 'hour'))`, one node given
 * to `select`, `groupBy` and `over(rank(), { partitionBy })`, as docs/query-language.md says to
 * build such an expression. GROUP BY names it by its position, which PARTITION BY cannot: bound
 * again there, PostgreSQL refused the query ("column s.starts_at must appear in the GROUP BY
 * clause", 42803). Its values are now written into the text wherever the node stands.
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { run } from 'recordkit'
import { as, caseWhen, count, dateAdd, dateTrunc, desc, from, groupBy, gt, having, insertInto, join, orderBy, over, rank, select, sum, values } from 'recordkit/query'
import { postgres } from 'recordkit/dialects/postgres'
import { ENGINES, engineTables } from './support/engine-tables.js'

const localDay = dateTrunc('day', dateAdd('s.starts_at', 2, 'hour'))
const ranked = pipe(
  from('rk_gw_bookings b'), join('rk_gw_slots s', ['s.id', 'b.slot_id']),
  select(as(localDay, 'day'), 's.room', as(sum('b.seats'), 'seats'), as(over(rank(), { partitionBy: [localDay], orderBy: [desc(sum('b.seats'))] }), 'place')),
  groupBy(localDay, 's.room'), orderBy('day'), orderBy('place'),
)

describe('a grouped expression binding values, in a window of the grouped query', () => {
  it('is written with its values in the text in SELECT, GROUP BY and PARTITION BY alike', () => {
    const c = postgres.compile(ranked)
    if (E.isLeft(c)) throw c.left
    const day = `DATE_TRUNC('day', ("s"."starts_at" + 2 * INTERVAL '1' HOUR))`
    expect(c.right.sql).toBe(
      `SELECT ${day} AS "day", "s"."room", SUM("b"."seats") AS "seats", RANK() OVER (PARTITION BY ${day} ORDER BY SUM("b"."seats") DESC) AS "place" ` +
      `FROM "rk_gw_bookings" AS "b" INNER JOIN "rk_gw_slots" AS "s" ON "s"."id" = "b"."slot_id" GROUP BY ${day}, "s"."room" ORDER BY "day" ASC, "place" ASC`,
    )
    expect(c.right.params).toEqual([])
  })

  it('without a window, GROUP BY still names it by position and binds its values', () => {
    const c = postgres.compile(pipe(from('rk_gw_slots s'), select(as(localDay, 'day'), as(count(), 'n')), groupBy(localDay)))
    if (E.isLeft(c)) throw c.left
    expect(c.right.sql).toContain('GROUP BY 1')
    expect(c.right.params).toEqual([2])
  })
})

for (const engine of ENGINES) {
  describe(`rooms ranked per local day on ${engine.name}`, () => {
    const { use } = engineTables(engine, ['rk_gw_bookings', 'rk_gw_slots'], () => [
      'CREATE TABLE rk_gw_slots (id INTEGER PRIMARY KEY, room VARCHAR(10) NOT NULL, starts_at TIMESTAMP NOT NULL)',
      'CREATE TABLE rk_gw_bookings (id INTEGER PRIMARY KEY, slot_id INTEGER NOT NULL, seats INTEGER NOT NULL)',
    ])

    it('ranks the rooms of each day by seats booked, the day shifted from UTC', async (ctx) => {
      const db = use(ctx)
      const at = (iso: string) => new Date(iso)
      await run(db.execute(pipe(insertInto('rk_gw_slots'), values([
        { id: 1, room: 'ada', starts_at: at('2026-05-17T22:30:00Z') }, // Monday the 18th at UTC+2
        { id: 2, room: 'bob', starts_at: at('2026-05-18T08:00:00Z') },
        { id: 3, room: 'ada', starts_at: at('2026-05-19T08:00:00Z') },
      ]))))
      await run(db.execute(pipe(insertInto('rk_gw_bookings'), values([
        { id: 1, slot_id: 1, seats: 2 }, { id: 2, slot_id: 2, seats: 3 }, { id: 3, slot_id: 2, seats: 1 }, { id: 4, slot_id: 3, seats: 5 },
      ]))))
      const rows = await run(db.all(ranked))
      expect(rows.map((r) => [(r.day as Date).toISOString().slice(0, 10), r.room, Number(r.seats), Number(r.place)])).toEqual([
        ['2026-05-18', 'bob', 4, 1], ['2026-05-18', 'ada', 2, 2], ['2026-05-19', 'ada', 5, 1],
      ])
      // A CASE of bound buckets, grouped, ranked, and filtered by HAVING on the same node.
      const size = caseWhen([[gt('b.seats', 2), 'large']], 'small')
      const buckets = await run(db.all(pipe(
        from('rk_gw_bookings b'), select(as(size, 'size'), as(count(), 'n'), as(over(rank(), { orderBy: [desc(count())] }), 'place')),
        groupBy(size), having(gt(count(), 0)), orderBy('size'),
      )))
      expect(buckets.map((r) => [r.size, Number(r.n), Number(r.place)])).toEqual([['large', 2, 1], ['small', 2, 1]])
    })
  })
}
