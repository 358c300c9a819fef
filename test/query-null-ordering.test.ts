/**
 * An ordering or LIKE comparison given null (`gt('ends_at', input.after)` with no time given)
 * matched no row, silently: `> NULL` is unknown for every row. Where `eq` / `ne` now test
 * IS [NOT] NULL, these have no such form: a ValidationError naming the column, as Django refuses
 * None there. A model condition on a computed column turned `> null` into IS NOT NULL (every row
 * with a value); it is the same ValidationError now.
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { type DbError, isDbError, run, sql } from 'recordkit'
import { hasMany, model, nullable, relate, snakeCase } from 'recordkit/model'
import { from, gt, gte, like, lt, lte, ne, notLike, select, where } from 'recordkit/query'
import { ENGINES, engineTables } from './support/engine-tables.js'

const thrown = (f: () => unknown): DbError | undefined => {
  try { f() } catch (e) { return e as DbError }
  return undefined
}

describe('the builders given null for an ordering or LIKE comparison', () => {
  it('are a ValidationError naming the column; eq and ne stay IS [NOT] NULL', () => {
    for (const [name, f] of [['gt', gt], ['gte', gte], ['lt', lt], ['lte', lte], ['like', like], ['notLike', notLike]] as const) {
      const e = thrown(() => f('ends_at', null))
      expect(isDbError(e, 'ValidationError'), name).toBe(true)
      expect(e?.message, name).toContain('the value for "ends_at" is null')
      expect(isDbError(e, 'ValidationError') && e.issues[0], name).toMatchObject({ path: 'ends_at', rule: 'notNull' })
    }
    expect(thrown(() => pipe(from('t'), select('id'), where(ne('ends_at', null))))).toBeUndefined()
  })
})

const Shop = relate({
  Slot: model({
    table: 'rk_no_slots', primaryKey: 'id', naming: snakeCase,
    codec: t.type({ id: t.number, endsAt: nullable(t.number) }),
    relations: { bookings: hasMany('Booking', 'slotId') },
  }),
  Booking: model({ table: 'rk_no_bookings', primaryKey: 'id', naming: snakeCase, codec: t.type({ id: t.number, slotId: t.number }) }),
})
const { Slot } = Shop

for (const engine of ENGINES) {
  describe(`model conditions given null for an ordering on ${engine.name}`, () => {
    const { use } = engineTables(engine, ['rk_no_bookings', 'rk_no_slots'], () => [
      'CREATE TABLE rk_no_slots (id INTEGER PRIMARY KEY, ends_at INTEGER)',
      'CREATE TABLE rk_no_bookings (id INTEGER PRIMARY KEY, slot_id INTEGER NOT NULL)',
    ])

    it('are a ValidationError on a field and on a computed column; = and <> null stay IS [NOT] NULL', async (ctx) => {
      const db = use(ctx)
      await run(db.execute(sql`INSERT INTO rk_no_slots (id, ends_at) VALUES (1, 5), (2, NULL)`))
      await run(db.execute(sql`INSERT INTO rk_no_bookings (id, slot_id) VALUES (1, 1), (2, 1)`))
      const after: number | null = null
      const field = await pipe(Slot.query, Slot.where('endsAt', '>', after), Slot.all(db))()
      expect(field._tag === 'Left' && isDbError(field.left, 'ValidationError') && field.left.issues[0]).toMatchObject({ path: 'endsAt', rule: 'notNull' })
      const counted = await pipe(Slot.query, Slot.withCount('bookings'), Slot.where('bookingsCount', '>', null as never), Slot.all(db))()
      expect(counted._tag === 'Left' && isDbError(counted.left, 'ValidationError') && counted.left.issues[0]).toMatchObject({ path: 'bookingsCount', rule: 'notNull' })
      expect(await run(pipe(Slot.query, Slot.where('endsAt', '=', null), Slot.pluck(db, 'id')))).toEqual([2])
      expect(await run(pipe(Slot.query, Slot.where('endsAt', '<>', null), Slot.pluck(db, 'id')))).toEqual([1])
      expect(await run(pipe(Slot.query, Slot.withCount('bookings'), Slot.where('bookingsCount', '>', 1), Slot.pluck(db, 'id')))).toEqual([1])
    })
  })
}
