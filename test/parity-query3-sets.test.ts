/**
 * ORDER BY over a whole set operation as Kysely's and Knex's users write it after a union: by an
 * expression of the output columns, or by a column named with its table, read back on SQLite,
 * PostgreSQL and MariaDB against what each engine answers for the hand-written SQL (the set
 * operation read as a derived table, the one form all three take).
 */
import { pipe } from 'fp-ts/lib/function.js'
import { describe, expect, it } from 'vitest'
import { run, sql } from 'recordkit'
import { coalesce, from, gt, limit, lt, mul, offset, orderBy, select, unionAll, val, where } from 'recordkit/query'
import { ENGINES, engineTables } from './support/engine-tables.js'

for (const engine of ENGINES) {
  describe(`ORDER BY over a set operation on ${engine.name}`, () => {
    const { use } = engineTables(engine, ['q3s_n'], () => [
      'CREATE TABLE q3s_n (id INTEGER PRIMARY KEY, v INTEGER)',
    ])
    const ids = (rows: readonly Record<string, unknown>[]) => rows.map((r) => r.id)
    const both = () => pipe(from('q3s_n'), select('id', 'v'), where(lt('id', 3)), unionAll(pipe(from('q3s_n'), select('id', 'v'), where(gt('id', 2)))))

    it('by an expression of the output columns, with LIMIT and OFFSET (SQLite and PostgreSQL refused it as written)', async (ctx) => {
      const db = use(ctx)
      await run(db.execute(sql.raw('INSERT INTO q3s_n (id, v) VALUES (1, NULL), (2, 20), (3, NULL), (4, 40)')))
      const hand = 'SELECT * FROM (SELECT id, v FROM q3s_n WHERE id < 3 UNION ALL SELECT id, v FROM q3s_n WHERE id > 2) AS s ORDER BY id * -1'
      expect(ids(await run(db.all(sql.raw(hand))))).toEqual([4, 3, 2, 1])
      expect(ids(await run(db.all(pipe(both(), orderBy(mul('id', -1))))))).toEqual([4, 3, 2, 1])
      expect(ids(await run(db.all(pipe(both(), orderBy(coalesce('v', val(0)), 'desc'), orderBy('id'), limit(2), offset(1)))))).toEqual([2, 1])
    })

    it('by a column named with its table, read as the output column of that name', async (ctx) => {
      const db = use(ctx)
      await run(db.execute(sql.raw('INSERT INTO q3s_n (id, v) VALUES (1, NULL), (2, 20), (3, NULL), (4, 40)')))
      // PostgreSQL: missing FROM-clause entry; MariaDB: "Table 'q3s_n' from one of the SELECTs cannot be used in ORDER BY".
      expect(ids(await run(db.all(pipe(both(), orderBy('q3s_n.id', 'desc')))))).toEqual([4, 3, 2, 1])
      expect(ids(await run(db.all(pipe(both(), orderBy('q3s_n.v', 'desc', 'last'), orderBy('q3s_n.id')))))).toEqual([4, 2, 1, 3])
    })

    it('by output columns alone, the statement is as it was', async (ctx) => {
      const db = use(ctx)
      const c = db.compile(pipe(both(), orderBy('v', 'asc', 'first'), orderBy('id')))
      expect(c._tag === 'Right' && c.right.sql).not.toMatch(/rk_set/)
    })
  })
}
