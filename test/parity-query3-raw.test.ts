/**
 * Raw SQL fragments where Kysely's and Knex's suites put them (`sql\`...\``, `knex.raw`): as an
 * operand of an operator, read back on SQLite, PostgreSQL and MariaDB against what each engine
 * answers for the hand-written SQL.
 */
import { pipe } from 'fp-ts/lib/function.js'
import { describe, expect, it } from 'vitest'
import { run, sql } from 'recordkit'
import { as, eq, from, isNull, mul, not, orderBy, select, where } from 'recordkit/query'
import { ENGINES, engineTables } from './support/engine-tables.js'

const people = "INSERT INTO q3r_person (id, first_name, age) VALUES (1, 'Jennifer', 50), (2, 'Arnold', 70), (3, 'Sylvester', 60), (4, 'Nobody', NULL)"

for (const engine of ENGINES) {
  describe(`raw fragments as operands on ${engine.name}`, () => {
    const { use } = engineTables(engine, ['q3r_person'], () => [
      'CREATE TABLE q3r_person (id INTEGER PRIMARY KEY, first_name VARCHAR(20), age INTEGER)',
    ])
    const ids = (rows: readonly Record<string, unknown>[]) => rows.map((r) => r.id)

    it('a fragment with an operator keeps its own precedence under another operator', async (ctx) => {
      const db = use(ctx)
      await run(db.execute(sql.raw(people)))
      // mysql2 gives a BIGINT as text: the numbers are compared.
      const x = (rows: readonly Record<string, unknown>[]) => rows.map((r) => Number(r.x))
      const expected = x(await run(db.all(sql.raw('SELECT id, (age + 1) * 2 AS x FROM q3r_person WHERE id = 1'))))
      expect(expected).toEqual([102])
      // It was written "age" + ? * ?: 52 on SQLite and MariaDB, an error on PostgreSQL.
      const q = pipe(from('q3r_person'), select('id', as(mul(sql`${sql.id('age')} + ${1}`, 2), 'x')), where(eq('id', 1)))
      expect(x(await run(db.all(q)))).toEqual(expected)
    })

    it('a raw SELECT compared with a column is a scalar subquery', async (ctx) => {
      const db = use(ctx)
      await run(db.execute(sql.raw(people)))
      const q = pipe(from('q3r_person'), select('id'), where(eq('age', sql`SELECT MAX(age) FROM q3r_person`)))
      expect(ids(await run(db.all(q)))).toEqual(ids(await run(db.all(sql.raw('SELECT id FROM q3r_person WHERE age = (SELECT MAX(age) FROM q3r_person)')))))
      expect(ids(await run(db.all(q)))).toEqual([2])
    })

    it('a raw condition compared with a boolean, and tested for NULL', async (ctx) => {
      const db = use(ctx)
      await run(db.execute(sql.raw(people)))
      const older = sql`${sql.id('age')} > ${55}`
      // PostgreSQL refused "age" > $1 = $2 (a syntax error: comparisons do not chain there).
      expect(ids(await run(db.all(pipe(from('q3r_person'), select('id'), where(eq(older, true)), orderBy('id')))))).toEqual([2, 3])
      expect(ids(await run(db.all(pipe(from('q3r_person'), select('id'), where(eq(older, false)), orderBy('id')))))).toEqual([1])
      // "age" > ? IS NULL read as "age" > (? IS NULL) on SQLite and MariaDB: every row with an age.
      expect(ids(await run(db.all(pipe(from('q3r_person'), select('id'), where(isNull(older)), orderBy('id')))))).toEqual([4])
      expect(ids(await run(db.all(pipe(from('q3r_person'), select('id'), where(not(isNull(older))), orderBy('id')))))).toEqual([1, 2, 3])
    })
  })
}
