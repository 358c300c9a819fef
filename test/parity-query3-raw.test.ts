/**
 * Raw SQL fragments where Kysely's and Knex's suites put them (`sql\`...\``, `knex.raw`): as an
 * operand of an operator, and as the subquery of IN, EXISTS, a scalar subquery or a member of a
 * UNION (where they crashed with "Cannot read properties of undefined"), read back on SQLite, PostgreSQL and MariaDB against what each engine
 * answers for the hand-written SQL.
 */
import { pipe } from 'fp-ts/lib/function.js'
import { describe, expect, it } from 'vitest'
import { run, sql } from 'recordkit'
import {
  as, col, eq, exists, from, isIn, isNull, mul, not, notExists, notIn, orderBy, select, subquery, tupleIn, tupleNotIn, union, unionAll, where,
} from 'recordkit/query'
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

const pets = "INSERT INTO q3r_pet (id, name, owner_id) VALUES (1, 'Catto', 1), (2, 'Doggo', 2), (3, 'Hammo', 3)"

for (const engine of ENGINES) {
  describe(`raw fragments as subqueries on ${engine.name}`, () => {
    const { use } = engineTables(engine, ['q3r_person', 'q3r_pet'], () => [
      'CREATE TABLE q3r_person (id INTEGER PRIMARY KEY, first_name VARCHAR(20), age INTEGER)',
      'CREATE TABLE q3r_pet (id INTEGER PRIMARY KEY, name VARCHAR(20) NOT NULL, owner_id INTEGER)',
    ])
    const ids = (rows: readonly Record<string, unknown>[]) => rows.map((r) => r.id)
    const fill = async (db: ReturnType<typeof use>) => {
      await run(db.execute(sql.raw(people)))
      await run(db.execute(sql.raw(pets)))
    }
    const person = () => pipe(from('q3r_person'), select('id'), orderBy('id'))

    it('IN and NOT IN a raw SELECT, a single column and a row', async (ctx) => {
      const db = use(ctx)
      await fill(db)
      const owners = sql`SELECT owner_id FROM q3r_pet WHERE name <> ${'Doggo'}`
      expect(ids(await run(db.all(pipe(person(), where(isIn('id', owners))))))).toEqual([1, 3])
      expect(ids(await run(db.all(pipe(person(), where(notIn('id', owners))))))).toEqual([2, 4])
      const named = sql`SELECT owner_id, name FROM q3r_pet`
      const byName = sql`SELECT id, ${'Jennifer'} FROM q3r_person`
      expect(ids(await run(db.all(pipe(person(), where(tupleIn(['id', 'first_name'], byName))))))).toEqual([1])
      expect(ids(await run(db.all(pipe(person(), where(tupleNotIn(['id', 'first_name'], byName))))))).toEqual([2, 3, 4])
      expect(ids(await run(db.all(pipe(from('q3r_pet'), select('id'), where(tupleIn(['owner_id', 'name'], named)), orderBy('id')))))).toEqual([1, 2, 3])
    })

    it('EXISTS and NOT EXISTS a correlated raw SELECT, in WHERE and selected as a boolean', async (ctx) => {
      const db = use(ctx)
      await fill(db)
      const hasPet = sql`SELECT 1 FROM q3r_pet WHERE q3r_pet.owner_id = q3r_person.id`
      expect(ids(await run(db.all(pipe(person(), where(exists(hasPet))))))).toEqual([1, 2, 3])
      expect(ids(await run(db.all(pipe(person(), where(notExists(hasPet))))))).toEqual([4])
      expect(await run(db.all(pipe(from('q3r_person'), select('id', as(exists(hasPet), 'has_pet')), where(isIn('id', [1, 4])), orderBy('id'))))).toEqual([
        { id: 1, has_pet: true }, { id: 4, has_pet: false },
      ])
    })

    it('a raw SELECT as a scalar subquery, correlated or not', async (ctx) => {
      const db = use(ctx)
      await fill(db)
      const q = pipe(from('q3r_person p'), select('p.id', as(subquery(sql`SELECT name FROM q3r_pet WHERE owner_id = ${col('p.id')}`), 'pet'),
        as(subquery(sql`SELECT MAX(age) FROM q3r_person`), 'oldest')), where(isIn('p.id', [1, 4])), orderBy('p.id'))
      expect(await run(db.all(q))).toEqual([{ id: 1, pet: 'Catto', oldest: 70 }, { id: 4, pet: null, oldest: 70 }])
    })

    it('a raw SELECT as a member of a UNION, ordered as a whole', async (ctx) => {
      const db = use(ctx)
      await fill(db)
      const q = pipe(from('q3r_person'), select('id'), where(eq('id', 1)), union(sql`SELECT id FROM q3r_pet WHERE id > ${1}`), orderBy('id', 'desc'))
      expect(ids(await run(db.all(q)))).toEqual(ids(await run(db.all(sql.raw('SELECT id FROM q3r_person WHERE id = 1 UNION SELECT id FROM q3r_pet WHERE id > 1 ORDER BY id DESC')))))
      expect(ids(await run(db.all(q)))).toEqual([3, 2, 1])
      const all = pipe(from('q3r_person'), select('id'), where(eq('id', 1)), unionAll(sql`SELECT owner_id FROM q3r_pet`), orderBy('id'))
      expect(ids(await run(db.all(all)))).toEqual([1, 1, 2, 3])
    })
  })
}
