/**
 * Window frames Kysely's and Knex's suites (and the engines' own) exercise, read back on SQLite,
 * PostgreSQL and MariaDB: a RANGE frame with an offset over a sort that places its NULLs, and
 * frames whose bounds are out of order, which every engine refuses with its own words.
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { run } from 'recordkit'
import { mysql } from 'recordkit/dialects/mysql'
import { as, asc, count, desc, following, from, insertInto, orderBy, over, preceding, range, rows, select, sum, values } from 'recordkit/query'
import { ENGINES, engineTables } from './support/engine-tables.js'

const staff = [
  { id: 1, salary: 100 }, { id: 2, salary: 200 }, { id: 3, salary: 150 }, { id: 4, salary: null }, { id: 5, salary: 120 },
]

for (const engine of ENGINES) {
  describe(`window frames on ${engine.name}`, () => {
    const { use } = engineTables(engine, ['q2f_staff'], () => ['CREATE TABLE q2f_staff (id INTEGER PRIMARY KEY, salary INTEGER)'])
    const seed = async (ctx: { skip: () => void }) => {
      const db = use(ctx)
      await run(db.execute(pipe(insertInto('q2f_staff'), values(staff))))
      return db
    }
    const within = (placed: ReturnType<typeof asc>, frame = range(preceding(30), following(30))) =>
      pipe(from('q2f_staff'), select('id', as(over(count(), { orderBy: [placed], frame }), 'n')), orderBy('id'))

    it('a RANGE frame with an offset over NULLs placed where the engine sorts them by default', async (ctx) => {
      const db = await seed(ctx)
      // Salaries within 30 of each row's: 100 -> 100, 120; 200 -> 200; 150 -> 150, 120; NULL -> NULL alone; 120 -> 100, 120, 150.
      const expected = [{ id: 1, n: 2 }, { id: 2, n: 1 }, { id: 3, n: 2 }, { id: 4, n: 1 }, { id: 5, n: 3 }]
      expect(await run(db.all(within(asc('salary', 'first'))))).toEqual(expected)
      expect(await run(db.all(within(desc('salary', 'last'))))).toEqual(expected)
    })

    it('a RANGE frame with an offset over NULLs placed against the default (refused on MariaDB)', async (ctx) => {
      const db = await seed(ctx)
      const q = within(asc('salary', 'last'))
      if (engine.name === 'mariadb') {
        const r = db.compile(q)
        expect(E.isLeft(r) && r.left._tag).toBe('UnsupportedFeature')
        expect(E.isLeft(r) && r.left.message).toMatch(/^mariadb does not support NULLS LAST after ASC in the ORDER BY of a RANGE frame with an offset/)
        return
      }
      expect(await run(db.all(q))).toEqual([{ id: 1, n: 2 }, { id: 2, n: 1 }, { id: 3, n: 2 }, { id: 4, n: 1 }, { id: 5, n: 3 }])
    })

    it('a frame whose bounds are out of order is a QueryError naming them, before any engine sees it', async (ctx) => {
      const db = await seed(ctx)
      const framed = (frame: ReturnType<typeof rows>) => pipe(from('q2f_staff'), select('id', as(over(sum('salary'), { orderBy: ['id'], frame }), 's')))
      const cases: [ReturnType<typeof rows>, RegExp][] = [
        [rows('current row', preceding(1)), /frame from CURRENT ROW cannot end at 1 PRECEDING/],
        [rows(following(1)), /frame from 1 FOLLOWING cannot end at CURRENT ROW \(a frame given one bound ends at the current row\)/],
        [rows(following(1), preceding(2)), /frame from 1 FOLLOWING cannot end at 2 PRECEDING/],
        [rows('unbounded following', 'unbounded following'), /frame cannot start at UNBOUNDED FOLLOWING/],
        [rows('current row', 'unbounded preceding'), /frame cannot end at UNBOUNDED PRECEDING/],
      ]
      for (const [frame, message] of cases) {
        const r = db.compile(framed(frame))
        expect(E.isLeft(r) && r.left._tag).toBe('QueryError')
        expect(E.isLeft(r) && r.left.message).toMatch(message)
      }
      // Bounds in order still run, an empty frame included (SUM over no rows is NULL).
      expect(await run(db.all(pipe(framed(rows(preceding(1), preceding(2))), orderBy('id'))))).toEqual(staff.map((s) => ({ id: s.id, s: null })))
      expect(await run(db.all(pipe(framed(rows(preceding(1), following(0))), orderBy('id'))))).toEqual([
        { id: 1, s: 100 }, { id: 2, s: 300 }, { id: 3, s: 350 }, { id: 4, s: 150 }, { id: 5, s: 120 },
      ])
    })
  })
}

describe('window frames as MySQL 8 text', () => {
  it('a RANGE frame with an offset drops a NULLS placement MySQL makes anyway', () => {
    const r = mysql.compile(pipe(from('t'), select(as(over(count(), { orderBy: [desc('x', 'last')], frame: range(preceding(1), 'current row') }), 'n'))))
    expect(E.isRight(r) && r.right.sql).toBe('SELECT COUNT(*) OVER (ORDER BY `x` DESC RANGE BETWEEN 1 PRECEDING AND CURRENT ROW) AS `n` FROM `t`')
  })
  it('a ROWS frame keeps the IS NULL sort key', () => {
    const r = mysql.compile(pipe(from('t'), select(as(over(count(), { orderBy: [asc('x', 'last')], frame: rows(preceding(1), 'current row') }), 'n'))))
    expect(E.isRight(r) && r.right.sql).toBe('SELECT COUNT(*) OVER (ORDER BY `x` IS NULL ASC, `x` ASC ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS `n` FROM `t`')
  })
})
