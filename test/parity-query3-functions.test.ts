/**
 * Function forms from Kysely's and Knex's suites (`knex.fn.now()`, `sql\`current_date\``), read
 * back on SQLite, PostgreSQL and MariaDB against what each engine answers for the hand-written SQL.
 */
import { pipe } from 'fp-ts/lib/function.js'
import { describe, expect, it } from 'vitest'
import { run, sql } from 'recordkit'
import { as, fn, select, selectOnly } from 'recordkit/query'
import { ENGINES, engineTables } from './support/engine-tables.js'

for (const engine of ENGINES) {
  describe(`function forms on ${engine.name}`, () => {
    const { use } = engineTables(engine, ['q3f_pet'], () => [
      'CREATE TABLE q3f_pet (id INTEGER PRIMARY KEY, species VARCHAR(10) NOT NULL, color VARCHAR(10) NOT NULL)',
    ])

    it('CURRENT_DATE, CURRENT_TIME and CURRENT_TIMESTAMP are written as the keywords they are', async (ctx) => {
      const db = use(ctx)
      // CURRENT_DATE() was a syntax error on SQLite and PostgreSQL.
      const q = pipe(selectOnly(), select(
        as(fn('current_date'), 'd'), as(sql`CURRENT_DATE`, 'd2'),
        as(fn('CURRENT_TIMESTAMP'), 't'), as(sql`CURRENT_TIMESTAMP`, 't2'),
        as(fn('current_time'), 'h'), as(sql`CURRENT_TIME`, 'h2'),
      ))
      const [row] = await run(db.all(q))
      expect(row.d).toEqual(row.d2)
      expect(row.t).toEqual(row.t2)
      expect(row.h).toEqual(row.h2)
      expect(row.d).not.toBeNull()
      // With arguments, a call as any other (PostgreSQL's precision argument).
      if (engine.name === 'postgres') expect((await run(db.all(pipe(selectOnly(), select(as(fn('current_timestamp', sql`0`), 't')))))).length).toBe(1)
    })
  })
}

