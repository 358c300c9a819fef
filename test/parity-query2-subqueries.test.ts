/**
 * Subqueries Kysely's and Knex's suites run on every engine, read back on SQLite, PostgreSQL and
 * MariaDB: IN, NOT IN and ANY over a subquery that keeps its first rows (ORDER BY ... LIMIT),
 * which MySQL and MariaDB refuse to run as written ("LIMIT & IN/ALL/ANY/SOME subquery").
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { run } from 'recordkit'
import { mysql } from 'recordkit/dialects/mysql'
import {
  any, col, eq, from, insertInto, isIn, isNotNull, limit, notIn, offset, orderBy, select, set, tupleIn, union, update, values, where,
} from 'recordkit/query'
import { ENGINES, engineTables } from './support/engine-tables.js'

const staff = [
  { id: 1, name: 'ann', dept: 'a', salary: 100 },
  { id: 2, name: 'bob', dept: 'a', salary: 200 },
  { id: 3, name: 'cat', dept: 'b', salary: 150 },
  { id: 4, name: 'dan', dept: 'b', salary: null },
]
/** The two best paid. */
const topTwo = pipe(from('q2s_staff'), select('id'), where(isNotNull('salary')), orderBy('salary', 'desc'), limit(2))

for (const engine of ENGINES) {
  describe(`subqueries that keep their first rows on ${engine.name}`, () => {
    const { use } = engineTables(engine, ['q2s_staff'], () => [
      'CREATE TABLE q2s_staff (id INTEGER PRIMARY KEY, name VARCHAR(20) NOT NULL, dept VARCHAR(10) NOT NULL, salary INTEGER)',
    ])
    const ids = (rows: readonly Record<string, unknown>[]) => rows.map((r) => r.id)

    it('IN and NOT IN a subquery with ORDER BY and LIMIT', async (ctx) => {
      const db = use(ctx)
      await run(db.execute(pipe(insertInto('q2s_staff'), values(staff))))
      expect(ids(await run(db.all(pipe(from('q2s_staff'), select('id'), where(isIn('id', topTwo)), orderBy('id')))))).toEqual([2, 3])
      expect(ids(await run(db.all(pipe(from('q2s_staff'), select('id'), where(notIn('id', topTwo)), orderBy('id')))))).toEqual([1, 4])
      const skipFirst = pipe(from('q2s_staff'), select('id'), orderBy('id'), limit(2), offset(1))
      expect(ids(await run(db.all(pipe(from('q2s_staff'), select('id'), where(isIn('id', skipFirst)), orderBy('id')))))).toEqual([2, 3])
    })

    it('a row IN a subquery with a LIMIT, and IN a UNION with a LIMIT', async (ctx) => {
      const db = use(ctx)
      await run(db.execute(pipe(insertInto('q2s_staff'), values(staff))))
      const firstOfEach = pipe(from('q2s_staff'), select('id', 'dept'), orderBy('id'), limit(1))
      expect(ids(await run(db.all(pipe(from('q2s_staff'), select('id'), where(tupleIn(['id', 'dept'], firstOfEach)), orderBy('id')))))).toEqual([1])
      const either = pipe(from('q2s_staff'), select('id'), where(eq('dept', 'b')), union(pipe(from('q2s_staff'), select('id'), where(eq('id', 1)))), orderBy('id', 'desc'), limit(2))
      expect(ids(await run(db.all(pipe(from('q2s_staff'), select('id'), where(isIn('id', either)), orderBy('id')))))).toEqual([3, 4])
    })

    it('UPDATE of the rows IN a subquery with a LIMIT over the same table', async (ctx) => {
      const db = use(ctx)
      await run(db.execute(pipe(insertInto('q2s_staff'), values(staff))))
      await run(db.execute(pipe(update('q2s_staff'), set({ name: 'top' }), where(isIn('id', topTwo)))))
      expect(await run(db.all(pipe(from('q2s_staff'), select('id', 'name'), orderBy('id'))))).toEqual([
        { id: 1, name: 'ann' }, { id: 2, name: 'top' }, { id: 3, name: 'top' }, { id: 4, name: 'dan' },
      ])
    })

    it('IN a correlated subquery with a LIMIT (refused on MariaDB, whose derived tables cannot see the outer query)', async (ctx) => {
      const db = use(ctx)
      await run(db.execute(pipe(insertInto('q2s_staff'), values(staff))))
      const firstOfDept = pipe(from('q2s_staff f'), select('f.id'), where(eq('f.dept', col('s.dept'))), orderBy('f.id'), limit(1))
      const q = pipe(from('q2s_staff s'), select('s.id'), where(isIn('s.id', firstOfDept)), orderBy('s.id'))
      if (engine.name === 'mariadb') {
        const r = db.compile(q)
        expect(E.isLeft(r) && r.left._tag).toBe('UnsupportedFeature')
        expect(E.isLeft(r) && r.left.message).toMatch(/^mariadb does not support a LIMIT in a correlated IN \/ ANY \/ ALL subquery \(s\.dept\)/)
        return
      }
      expect(ids(await run(db.all(q)))).toEqual([1, 3])
    })

    it('= ANY a subquery with a LIMIT (refused on SQLite, which has no ANY)', async (ctx) => {
      const db = use(ctx)
      await run(db.execute(pipe(insertInto('q2s_staff'), values(staff))))
      const q = pipe(from('q2s_staff'), select('id'), where(eq('id', any(topTwo))), orderBy('id'))
      if (engine.name === 'sqlite') {
        const r = db.compile(q)
        expect(E.isLeft(r) && r.left._tag).toBe('UnsupportedFeature')
        return
      }
      expect(ids(await run(db.all(q)))).toEqual([2, 3])
    })
  })
}

describe('subqueries that keep their first rows as MySQL 8 text', () => {
  it('IN reads the limited subquery through a derived table', () => {
    const r = mysql.compile(pipe(from('q2s_staff'), select('id'), where(isIn('id', topTwo))))
    expect(E.isRight(r) && r.right.sql).toBe(
      'SELECT `id` FROM `q2s_staff` WHERE `id` IN (SELECT * FROM (SELECT `id` FROM `q2s_staff` WHERE `salary` IS NOT NULL ORDER BY `salary` DESC LIMIT ?) AS `rk_limited`)')
  })
  it('a correlated one too: MySQL 8 derived tables see the outer query', () => {
    const firstOfDept = pipe(from('q2s_staff f'), select('f.id'), where(eq('f.dept', col('s.dept'))), limit(1))
    const r = mysql.compile(pipe(from('q2s_staff s'), select('s.id'), where(isIn('s.id', firstOfDept))))
    expect(E.isRight(r) && r.right.sql).toBe(
      'SELECT `s`.`id` FROM `q2s_staff` AS `s` WHERE `s`.`id` IN (SELECT * FROM (SELECT `f`.`id` FROM `q2s_staff` AS `f` WHERE `f`.`dept` = `s`.`dept` LIMIT ?) AS `rk_limited`)')
  })
  it('a subquery without a LIMIT is written as it is', () => {
    const r = mysql.compile(pipe(from('q2s_staff'), select('id'), where(isIn('id', pipe(from('q2s_staff'), select('id'), orderBy('id'))))))
    expect(E.isRight(r) && r.right.sql).toBe('SELECT `id` FROM `q2s_staff` WHERE `id` IN (SELECT `id` FROM `q2s_staff` ORDER BY `id` ASC)')
  })
})
