/**
 * GROUP BY and HAVING as Knex's and Kysely's suites write them, read back on SQLite, PostgreSQL
 * and MariaDB: a HAVING that names an aggregate by its alias in the SELECT list, which SQLite and
 * MariaDB read and PostgreSQL does not ("column does not exist").
 */
import { pipe } from 'fp-ts/lib/function.js'
import { describe, expect, it } from 'vitest'
import { run } from 'recordkit'
import { and, as, col, count, from, groupBy, gt, having, insertInto, lt, orderBy, select, sum, values } from 'recordkit/query'
import { ENGINES, engineTables } from './support/engine-tables.js'

for (const engine of ENGINES) {
  describe(`GROUP BY and HAVING on ${engine.name}`, () => {
    const { use } = engineTables(engine, ['q2g_sale'], () => ['CREATE TABLE q2g_sale (id INTEGER PRIMARY KEY, region VARCHAR(10) NOT NULL, amount INTEGER NOT NULL)'])

    it('HAVING names aggregates by their aliases', async (ctx) => {
      const db = use(ctx)
      await run(db.execute(pipe(insertInto('q2g_sale'), values([
        { id: 1, region: 'n', amount: 100 }, { id: 2, region: 'n', amount: 150 }, { id: 3, region: 's', amount: 90 },
        { id: 4, region: 'e', amount: 300 }, { id: 5, region: 'e', amount: 10 }, { id: 6, region: 'e', amount: 20 },
      ]))))
      const q = pipe(from('q2g_sale'), select('region', as(sum('amount'), 'total'), as(count(), 'sales')), groupBy('region'),
        having(and(gt(col('total'), 200), lt(col('sales'), 3))), orderBy('region'))
      expect(await run(db.all(q))).toEqual([{ region: 'n', total: 250, sales: 2 }])
      // A grouped column keeps its own name.
      expect(await run(db.all(pipe(from('q2g_sale'), select('region', as(count(), 'n')), groupBy('region'), having(gt(col('region'), 'm')), orderBy('region'))))).toEqual([
        { region: 'n', n: 2 }, { region: 's', n: 1 },
      ])
    })
  })
}
