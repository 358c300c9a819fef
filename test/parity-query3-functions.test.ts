/**
 * Function forms from Kysely's and Knex's suites (`knex.fn.now()`, `sql\`current_date\``,
 * `countDistinct('a', 'b')`), read back on SQLite, PostgreSQL and MariaDB against what each
 * engine answers for the hand-written SQL.
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { run, sql } from 'recordkit'
import { mysql } from 'recordkit/dialects/mysql'
import { add, as, count, div, fn, from, mod, mul, select, selectOnly, sub, tuple, val } from 'recordkit/query'
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

    it('COUNT(DISTINCT) of several columns (MySQL and MariaDB: COUNT(DISTINCT a, b); SQLite has none)', async (ctx) => {
      const db = use(ctx)
      await run(db.execute(sql.raw("INSERT INTO q3f_pet (id, species, color) VALUES (1, 'cat', 'black'), (2, 'cat', 'black'), (3, 'cat', 'white'), (4, 'dog', 'black')")))
      const q = pipe(from('q3f_pet'), select({ n: count(tuple('species', 'color'), { distinct: true }) }))
      if (engine.name === 'sqlite') {
        const r = db.compile(q)
        expect(E.isLeft(r) && r.left._tag).toBe('UnsupportedFeature')
        expect(E.isLeft(r) && r.left.message).toMatch(/^sqlite does not support COUNT\(DISTINCT\) of several columns/)
        return
      }
      const hand = engine.name === 'postgres' ? 'SELECT COUNT(DISTINCT (species, color)) AS n FROM q3f_pet' : 'SELECT COUNT(DISTINCT species, color) AS n FROM q3f_pet'
      const [expected] = await run(db.all(sql.raw(hand)))
      expect(Number(expected.n)).toBe(3)
      expect(await run(db.all(q))).toEqual([{ n: 3 }])
    })
  })
}

for (const engine of ENGINES) {
  describe(`arithmetic of bound numbers on ${engine.name}`, () => {
    it('two bound numbers add, subtract, multiply and divide as the engine does for the numbers written in its SQL', async (ctx) => {
      const db = await engine.connect()
      if (db === undefined) return ctx.skip()
      try {
        // PostgreSQL refused $1 + $2: "operator is not unique: unknown + unknown".
        const [hand] = await run(db.all(sql.raw('SELECT 1 + 2 AS a, 5 - 7 AS s, 1.5 * 2 AS m, 7 % 4 AS r')))
        const [row] = await run(db.all(pipe(selectOnly(), select(
          as(add(val(1), val(2)), 'a'), as(sub(val(5), val(7)), 's'), as(mul(val(1.5), val(2)), 'm'), as(mod(val(7), val(4)), 'r'), as(div(val(9), val(3)), 'd'),
        ))))
        expect([row.a, row.s, row.m, row.r, row.d].map(Number)).toEqual([Number(hand.a), Number(hand.s), Number(hand.m), Number(hand.r), 3])
      } finally {
        await run(db.close())
      }
    })
  })
}

describe('function forms as MySQL 8 text', () => {
  it('COUNT(DISTINCT a, b), and CURRENT_TIMESTAMP without parentheses', () => {
    const r = mysql.compile(pipe(from('q3f_pet'), select({ n: count(tuple('species', 'color'), { distinct: true }), t: fn('current_timestamp') })))
    expect(E.isRight(r) && r.right.sql).toBe('SELECT COUNT(DISTINCT `species`, `color`) AS `n`, CURRENT_TIMESTAMP AS `t` FROM `q3f_pet`')
  })
})
