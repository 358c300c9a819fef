/**
 * Row locks as Kysely's and Knex's suites take them, on PostgreSQL and MariaDB (SQLite has none):
 * PostgreSQL locks rows of a plain SELECT only, and refuses FOR UPDATE / FOR SHARE over grouped,
 * DISTINCT, aggregated or windowed rows and in a set operation's member; recordkit refuses those
 * as UnsupportedFeature before the statement runs. MariaDB locks them all.
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { run } from 'recordkit'
import { as, count, distinct, forShare, forUpdate, from, groupBy, having, gt, insertInto, orderBy, over, rowNumber, select, union, values } from 'recordkit/query'
import { ENGINES, engineTables } from './support/engine-tables.js'

for (const engine of ENGINES.filter((e) => e.name !== 'sqlite')) {
  describe(`row locks on ${engine.name}`, () => {
    const { use } = engineTables(engine, ['q2l_job'], () => ['CREATE TABLE q2l_job (id INTEGER PRIMARY KEY, queue VARCHAR(10) NOT NULL)'])
    const seed = async (ctx: { skip: () => void }) => {
      const db = use(ctx)
      await run(db.execute(pipe(insertInto('q2l_job'), values([{ id: 1, queue: 'a' }, { id: 2, queue: 'a' }, { id: 3, queue: 'b' }]))))
      return db
    }
    const jobs = from('q2l_job')
    const cases = [
      { what: 'GROUP BY', q: pipe(jobs, select('queue', as(count(), 'n')), groupBy('queue'), orderBy('queue'), forUpdate()), rows: [{ queue: 'a', n: 2 }, { queue: 'b', n: 1 }] },
      { what: 'GROUP BY', q: pipe(jobs, select('queue'), groupBy('queue'), having(gt(count(), 1)), forShare()), rows: [{ queue: 'a' }] },
      { what: 'DISTINCT', q: pipe(jobs, distinct, select('queue'), orderBy('queue'), forUpdate()), rows: [{ queue: 'a' }, { queue: 'b' }] },
      { what: 'aggregate functions', q: pipe(jobs, select(as(count(), 'n')), forUpdate()), rows: [{ n: 3 }] },
      { what: 'window functions', q: pipe(jobs, select('id', as(over(rowNumber(), { orderBy: ['id'] }), 'r')), orderBy('id'), forUpdate({ skipLocked: true })), rows: [{ id: 1, r: 1 }, { id: 2, r: 2 }, { id: 3, r: 3 }] },
      { what: 'UNION / INTERSECT / EXCEPT', q: pipe(jobs, select('id'), forUpdate(), union(pipe(from('q2l_job'), select('id'))), orderBy('id')), rows: [{ id: 1 }, { id: 2 }, { id: 3 }] },
    ]
    for (const c of cases) {
      it(`FOR UPDATE / FOR SHARE with ${c.what}`, async (ctx) => {
        const db = await seed(ctx)
        if (engine.name === 'postgres') {
          const r = db.compile(c.q)
          expect(E.isLeft(r) && r.left._tag).toBe('UnsupportedFeature')
          expect(E.isLeft(r) && r.left.message).toMatch(new RegExp(`^postgres does not support row locks \\(FOR UPDATE / FOR SHARE\\) with ${c.what.replace(/[/]/g, '\\/')}`))
          return
        }
        expect(await run(db.all(c.q))).toEqual(c.rows)
      })
    }

    it('a plain SELECT locks its rows, skipping those locked', async (ctx) => {
      const db = await seed(ctx)
      expect(await run(db.all(pipe(jobs, select('id'), orderBy('id'), forUpdate({ skipLocked: true }))))).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }])
    })
  })
}
