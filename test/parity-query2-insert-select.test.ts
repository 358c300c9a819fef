/**
 * INSERT ... SELECT with an upsert, as Kysely's and Knex's suites run it, read back on SQLite,
 * PostgreSQL and MariaDB: a query over a table without a WHERE (SQLite reads `FROM t ON
 * CONFLICT` as a join's ON), and a query that selects one column twice (MariaDB's do-nothing
 * upsert reads the query as a derived table, whose column names must differ).
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { run } from 'recordkit'
import { mysql } from 'recordkit/dialects/mysql'
import { add, as, col, excluded, from, fromSelect, insertInto, lit, onConflict, orderBy, select, unionAll, values, where, gt } from 'recordkit/query'
import { ENGINES, engineTables } from './support/engine-tables.js'

for (const engine of ENGINES) {
  describe(`INSERT ... SELECT with an upsert on ${engine.name}`, () => {
    const { use } = engineTables(engine, ['q2i_src', 'q2i_dst'], () => [
      'CREATE TABLE q2i_src (id INTEGER PRIMARY KEY, score INTEGER NOT NULL)',
      'CREATE TABLE q2i_dst (id INTEGER PRIMARY KEY, ref INTEGER NOT NULL, score INTEGER NOT NULL)',
    ])
    const seed = async (ctx: { skip: () => void }) => {
      const db = use(ctx)
      await run(db.execute(pipe(insertInto('q2i_src'), values([{ id: 1, score: 10 }, { id: 2, score: 20 }, { id: 3, score: 30 }]))))
      await run(db.execute(pipe(insertInto('q2i_dst'), values([{ id: 1, ref: 0, score: 1 }]))))
      return db
    }
    const stored = pipe(from('q2i_dst'), select('id', 'ref', 'score'), orderBy('id'))

    it('updates the conflicting rows of a query without a WHERE', async (ctx) => {
      const db = await seed(ctx)
      await run(db.execute(pipe(insertInto('q2i_dst'), fromSelect(['id', 'ref', 'score'], pipe(from('q2i_src'), select('id', as(lit(7), 'ref'), 'score'))),
        onConflict(['id'], { score: add('score', excluded('score')) }))))
      expect(await run(db.all(stored))).toEqual([{ id: 1, ref: 0, score: 11 }, { id: 2, ref: 7, score: 20 }, { id: 3, ref: 7, score: 30 }])
    })

    it('skips the conflicting rows of a query without a WHERE, and of a UNION', async (ctx) => {
      const db = await seed(ctx)
      await run(db.execute(pipe(insertInto('q2i_dst'), fromSelect(['id', 'ref', 'score'], pipe(from('q2i_src'), select('id', as(lit(7), 'ref'), 'score'))), onConflict(['id'], 'nothing'))))
      const more = pipe(from('q2i_src'), select(as(add('id', lit(2)), 'id'), as(lit(8), 'ref'), 'score'), unionAll(pipe(from('q2i_src'), select(as(add('id', lit(5)), 'id'), as(lit(9), 'ref'), 'score'))))
      await run(db.execute(pipe(insertInto('q2i_dst'), fromSelect(['id', 'ref', 'score'], more), onConflict(['id'], 'nothing'))))
      expect(await run(db.all(stored))).toEqual([
        { id: 1, ref: 0, score: 1 }, { id: 2, ref: 7, score: 20 }, { id: 3, ref: 7, score: 30 }, { id: 4, ref: 8, score: 20 }, { id: 5, ref: 8, score: 30 },
        { id: 6, ref: 9, score: 10 }, { id: 7, ref: 9, score: 20 }, { id: 8, ref: 9, score: 30 },
      ])
    })

    it('skips the conflicting rows of a query that selects a column twice', async (ctx) => {
      const db = await seed(ctx)
      await run(db.execute(pipe(insertInto('q2i_dst'), fromSelect(['id', 'ref', 'score'], pipe(from('q2i_src'), select('id', 'id', 'score'), where(gt('score', 5)))), onConflict(['id'], 'nothing'))))
      await run(db.execute(pipe(insertInto('q2i_dst'), fromSelect(['id', 'ref', 'score'], pipe(from('q2i_src s'), select(as(add('s.id', lit(10)), 'id'), 's.id', col('s.id')))), onConflict(['id'], 'nothing'))))
      expect(await run(db.all(stored))).toEqual([
        { id: 1, ref: 0, score: 1 }, { id: 2, ref: 2, score: 20 }, { id: 3, ref: 3, score: 30 },
        { id: 11, ref: 1, score: 1 }, { id: 12, ref: 2, score: 2 }, { id: 13, ref: 3, score: 3 },
      ])
    })
  })
}

describe('INSERT ... SELECT with an upsert as MySQL 8 text', () => {
  // MySQL 8 names the proposed row with a row alias only after VALUES: the rows of a query are
  // named as a derived table, whose columns are the inserted ones.
  it('reads the query through a derived table named as the proposed row', () => {
    const q = pipe(insertInto('q2i_dst'), fromSelect(['id', 'ref', 'score'], pipe(from('q2i_src s'), select('s.id', as(lit(7), 'r'), 's.score'), where(gt('s.score', 5)))),
      onConflict(['id'], { score: add('score', excluded('score')) }))
    const r = mysql.compile(q)
    expect(E.isRight(r) && r.right.sql).toBe(
      'INSERT INTO `q2i_dst` (`id`, `ref`, `score`) SELECT * FROM (SELECT `s`.`id` AS `id`, 7 AS `ref`, `s`.`score` AS `score` FROM `q2i_src` AS `s` WHERE `s`.`score` > ?) AS `new` ' +
      'ON DUPLICATE KEY UPDATE `score` = `q2i_dst`.`score` + `new`.`score`')
  })
  it('rows given as VALUES keep the row alias', () => {
    const r = mysql.compile(pipe(insertInto('q2i_dst'), values({ id: 1, ref: 2, score: 3 }), onConflict(['id'], ['score'])))
    expect(E.isRight(r) && r.right.sql).toBe('INSERT INTO `q2i_dst` (`id`, `ref`, `score`) VALUES (?, ?, ?) AS `new` ON DUPLICATE KEY UPDATE `score` = `new`.`score`')
  })
})
