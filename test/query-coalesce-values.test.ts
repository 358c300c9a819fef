/**
 * `coalesce('t.seats', 0)`, as a report of free seats writes it, binds the 0 (strings stay
 * columns): a number there was passed on as if it were an expression and failed to compile with
 * "cannot compile expression kind undefined". A plain value where an expression belongs is now a
 * QueryError that names it.
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { isDbError, run } from 'recordkit'
import { as, coalesce, cte, eq, fn, from, groupBy, insertInto, leftJoin, orderBy, select, sub, sum, val, values, where, withCte } from 'recordkit/query'
import { mysql } from 'recordkit/dialects/mysql'
import { postgres } from 'recordkit/dialects/postgres'
import { ENGINES, engineTables } from './support/engine-tables.js'

describe('coalesce with a value', () => {
  it('binds numbers, booleans, dates and null; strings are columns', () => {
    const day = new Date(Date.UTC(2026, 4, 4))
    const q = pipe(from('t'), select(as(coalesce('a', 0), 'x'), as(coalesce('b', 'c', true), 'y'), as(coalesce('d', day), 'z'), as(coalesce('e', null, val('none')), 'w')))
    expect(postgres.compile(q)).toEqual(E.right({
      sql: 'SELECT COALESCE("a", $1) AS "x", COALESCE("b", "c", $2) AS "y", COALESCE("d", $3) AS "z", COALESCE("e", $4, $5) AS "w" FROM "t"',
      params: [0, true, day, null, 'none'],
    }))
    expect(mysql.compile(pipe(from('t'), select(as(coalesce('a', 0), 'x')))))
      .toEqual(E.right({ sql: 'SELECT COALESCE(`a`, ?) AS `x` FROM `t`', params: [0] }))
  })

  it('a plain value given where an expression belongs is a QueryError naming it', () => {
    // fn's arguments are expressions or column names; from JavaScript, a number slips through.
    const q = pipe(from('t'), select(as(fn('round', 'price', 2 as never), 'p')))
    const c = postgres.compile(q)
    expect(E.isLeft(c) && isDbError(c.left, 'QueryError')).toBe(true)
    expect(E.isLeft(c) && c.left.message).toContain('not an expression: 2')
  })
})

for (const engine of ENGINES) {
  describe(`free seats per slot with coalesce on ${engine.name}`, () => {
    const { use } = engineTables(engine, ['rk_cv_bookings', 'rk_cv_slots'], () => [
      'CREATE TABLE rk_cv_slots (id INTEGER PRIMARY KEY, capacity INTEGER NOT NULL)',
      'CREATE TABLE rk_cv_bookings (id INTEGER PRIMARY KEY, slot_id INTEGER NOT NULL, seats INTEGER NOT NULL, status VARCHAR(12) NOT NULL)',
    ])

    it('a slot with no booking has all its seats free', async (ctx) => {
      const db = use(ctx)
      await run(db.execute(pipe(insertInto('rk_cv_slots'), values([{ id: 1, capacity: 4 }, { id: 2, capacity: 6 }]))))
      await run(db.execute(pipe(insertInto('rk_cv_bookings'), values([
        { id: 1, slot_id: 1, seats: 3, status: 'confirmed' }, { id: 2, slot_id: 1, seats: 2, status: 'cancelled' },
      ]))))
      const taken = cte('taken', pipe(from('rk_cv_bookings'), select('slot_id', as(sum('seats'), 'seats')), where(eq('status', 'confirmed')), groupBy('slot_id')))
      const rows = await run(db.all(pipe(
        from('rk_cv_slots s'), leftJoin('taken t', ['t.slot_id', 's.id']),
        select('s.id', as(sub('s.capacity', coalesce('t.seats', 0)), 'free')), orderBy('s.id'), withCte(taken),
      )))
      expect(rows.map((r) => [Number(r.id), Number(r.free)])).toEqual([[1, 1], [2, 6]])
    })
  })
}
