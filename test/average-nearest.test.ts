/**
 * Averages read as the double nearest the exact average on every engine: the builder's typed
 * `avg`, a model's `avg` and `aggregate`, and a relation average (`withAvg`). PostgreSQL computes
 * AVG of integers to 16 decimals, MySQL and MariaDB to 4 more than the argument's: eleven values
 * summing to 25 read 2.2727272727272727 there, whose double is not 25 / 11.
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { sql } from 'recordkit'
import { hasMany, model, relate, snakeCase } from 'recordkit/model'
import { avg, from, select } from 'recordkit/query'
import { ok } from 'recordkit/testing'
import { ENGINES, engineTables } from './support/engine-tables.js'

const Owner = model({ table: 'rk_avgn_owners', primaryKey: 'id', codec: t.type({ id: t.number }), relations: { scores: hasMany('Score', 'ownerId') } })
const Score = model({ table: 'rk_avgn_scores', primaryKey: 'id', naming: snakeCase, codec: t.type({ id: t.number, ownerId: t.number, n: t.number, big: t.number }) })
const M = relate({ Owner, Score })
const VALUES = [1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 0]
const ddl = (): string[] => [
  'CREATE TABLE rk_avgn_owners (id INTEGER PRIMARY KEY)',
  'CREATE TABLE rk_avgn_scores (id INTEGER PRIMARY KEY, owner_id INTEGER NOT NULL, n INTEGER NOT NULL, big BIGINT NOT NULL)',
]

for (const engine of ENGINES) {
  describe(`averages on ${engine.name}`, () => {
    const { use } = engineTables(engine, ['rk_avgn_scores', 'rk_avgn_owners'], ddl)

    it('reads the double nearest the exact average through the builder, models and relations', async (ctx) => {
      const db = use(ctx)
      await ok(M.Owner.create(db, { id: 1 }))
      const big = 2 ** 40
      await ok(M.Score.createMany(db, VALUES.map((n, i) => ({ id: i + 1, ownerId: 1, n, big: big + n })), { returning: false }))
      const exact = 25 / 11
      const [row] = await ok(db.all(pipe(from('rk_avgn_scores'), select({ a: avg('n') }))))
      expect(row.a).toBe(exact)
      expect(await ok(pipe(M.Score.query, M.Score.avg(db, 'n')))).toBe(exact)
      expect(await ok(pipe(M.Score.query, M.Score.avg(db, 'big')))).toBe(big + exact)
      const [agg] = await ok(pipe(M.Score.query, M.Score.groupBy('ownerId'), M.Score.aggregate(db, (a) => ({ mean: a.avg('n') }))))
      expect(agg.mean).toBe(exact)
      const [owner] = await ok(pipe(M.Owner.query, M.Owner.withAvg('scores', 'n'), M.Owner.all(db)))
      expect(owner.scoresAvgN).toBe(exact)
      await ok(db.execute(sql`DELETE FROM rk_avgn_scores`))
      expect(await ok(pipe(M.Score.query, M.Score.avg(db, 'n')))).toBeNull()
    })
  })
}
