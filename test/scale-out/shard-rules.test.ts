/**
 * The rest of the sharding rules: what could touch the wrong shard, or only some of the shards
 * it should, is refused with a typed error before anything runs. INSERTs whose rows' shard is
 * not known or is none, writes in CTEs, raw reads each shard would answer for itself, forKey
 * given another shard's rows, and statements inside one shard's transaction that would reach
 * past it. Run on SQLite, PostgreSQL and MariaDB, two databases each as two shards.
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { describe, expect, it } from 'vitest'
import { run, sql, type DbError } from 'recordkit'
import { cte, deleteFrom, from, fromSelect, insertInto, returning, select, values, where, withCte } from 'recordkit/query'
import { PAIR_ENGINES, rowsByShard, SEEDED, shardedOrders } from './shard-engines.js'

/** The tag and message of a Left (false for a Right). */
const refusal = (r: E.Either<DbError, unknown>): string | false => (E.isLeft(r) ? `${r.left._tag}: ${r.left.message}` : false)

for (const engine of PAIR_ENGINES) {
  describe(`${engine.name}: an INSERT whose rows' shard is not known, or is none, is refused`, () => {
    const shards = shardedOrders(engine, 'rk_shard_rules_insert')

    it('refuses INSERT ... SELECT, from the query builder and in SQL text', async (ctx) => {
      const db = shards.use(ctx)
      const copy = pipe(insertInto('orders'), fromSelect(['id', 'tenant', 'total'], pipe(from('orders'), select('id', 'tenant', 'total'), where({ tenant: 'acme' }))))
      expect(refusal(await db.execute(copy)())).toMatch(/^UnsupportedFeature: .*INSERT \.\.\. SELECT into orders/)
      expect(refusal(await db.execute(sql`INSERT INTO orders (id, tenant, total) SELECT id + 100, tenant, total FROM orders`)())).toMatch(/^UnsupportedFeature: .*INSERT \.\.\. SELECT/)
      expect(await rowsByShard(db)).toEqual(SEEDED)
    })

    it('refuses a row whose shard key is NULL: no shard holds it and no statement by key finds it', async (ctx) => {
      const db = shards.use(ctx)
      expect(refusal(await db.execute(pipe(insertInto('orders'), values({ id: 9, tenant: null, total: 1 })))())).toMatch(/^UnsupportedFeature: .*shard key tenant is NULL/)
      expect(refusal(await db.execute(sql`INSERT INTO orders (id, tenant, total) VALUES (${9}, ${null}, ${1})`)())).toMatch(/^UnsupportedFeature: .*shard key tenant is NULL/)
      expect(await rowsByShard(db)).toEqual(SEEDED)
    })

    it('keeps forKey to its shard: another shard\'s rows, by INSERT, batch or WHERE, are refused', async (ctx) => {
      const db = shards.use(ctx)
      const acme = db.forKey('acme')
      expect(refusal(await acme.execute(pipe(insertInto('orders'), values({ id: 9, tenant: 'globex', total: 1 })))())).toMatch(/^UnsupportedFeature: .*for shard 1 on the backend of shard 0/)
      expect(refusal(await acme.execute(sql`INSERT INTO orders (id, tenant, total) VALUES (${9}, ${'umbrella'}, ${1})`)())).toMatch(/^UnsupportedFeature: .*for shard 1 on the backend of shard 0/)
      const insert = await run(TE.fromEither(db.compile(pipe(insertInto('orders'), values({ id: 0, tenant: '', total: 0 })))))
      // The batch is checked whole before its first run: the acme row before the globex one is not written either.
      expect(refusal(await acme.executeBatch(insert, [[8, 'acme', 1], [9, 'globex', 1]])())).toMatch(/^UnsupportedFeature: .*for shard 1/)
      expect(refusal(await acme.all(pipe(from('orders'), where({ tenant: 'globex' })))())).toMatch(/^UnsupportedFeature: .*for shard 1/)
      expect(await rowsByShard(db)).toEqual(SEEDED)
      // What belongs to it, or carries no key, runs there.
      await run(acme.execute(pipe(insertInto('orders'), values({ id: 5, tenant: 'initech', total: 50 }))))
      expect((await run(acme.execute(sql`DELETE FROM orders WHERE total >= ${30}`))).rowsAffected).toBe(2)
      expect(await rowsByShard(db)).toEqual([[SEEDED[0][0]], SEEDED[1]])
    })
  })

  describe(`${engine.name}: a write in a WITH clause is refused`, () => {
    const shards = shardedOrders(engine, 'rk_shard_rules_cte')

    it('refuses a data-modifying CTE on the sharded backend, which would run on every shard a read goes to', async (ctx) => {
      const db = shards.use(ctx)
      const gone = pipe(from('gone'), select('id'), withCte(cte('gone', pipe(deleteFrom('orders'), where({ tenant: 'acme' }), returning('id')))))
      expect(refusal(await db.execute(gone)())).toMatch(/^UnsupportedFeature: sharding does not support a write in a WITH clause/)
      const rawGone = pipe(from('gone'), select('id'), withCte(cte('gone', sql`DELETE FROM orders WHERE tenant = ${'acme'} RETURNING id`)))
      expect(refusal(await db.execute(rawGone)())).toMatch(/^UnsupportedFeature: sharding does not support a write in a WITH clause/)
      expect(refusal(await db.execute(sql`WITH gone AS (DELETE FROM orders RETURNING id) SELECT id FROM gone`)())).toMatch(/^UnsupportedFeature: sharding/)
      expect(await rowsByShard(db)).toEqual(SEEDED)
      // A CTE that reads is a read: it runs on every shard over that shard's rows.
      const big = pipe(from('big'), select('id'), withCte(cte('big', sql`SELECT id FROM orders WHERE total > ${15}`)))
      expect((await run(db.all<{ id: number }>(big))).map((r) => Number(r.id)).sort()).toEqual([2, 3, 4])
    })
  })

  describe(`${engine.name}: a raw read that each shard would answer for itself is refused`, () => {
    const shards = shardedOrders(engine, 'rk_shard_rules_reads')

    it('refuses aggregates, DISTINCT, ORDER BY, LIMIT and UNION in SQL text read from every shard', async (ctx) => {
      const db = shards.use(ctx)
      for (const [text, what] of [
        ['SELECT count(*) AS n FROM orders', 'count()'],
        ['/* hi */ select count(*) from orders where tenant = \'acme\'', 'count()'],
        ['SELECT DISTINCT tenant FROM orders', 'DISTINCT'],
        ['SELECT id FROM orders ORDER BY total DESC', 'ORDER BY'],
        ['SELECT id FROM orders LIMIT 2', 'LIMIT'],
        ['SELECT tenant FROM orders UNION SELECT tenant FROM orders', 'UNION'],
      ] as const) {
        expect(refusal(await db.all(sql.raw(text))()), text).toContain(`UnsupportedFeature: sharding does not support ${what}`)
      }
    })

    it('gathers a read whose subqueries answer per row (each shard holds a tenant\'s rows)', async (ctx) => {
      const db = shards.use(ctx)
      const rows = await run(db.all<{ id: number; n: number }>(sql`SELECT o.id, (SELECT count(*) FROM orders p WHERE p.tenant = o.tenant) AS n FROM orders o`))
      expect(rows.map((r) => [Number(r.id), Number(r.n)]).sort()).toEqual([[1, 1], [2, 1], [3, 1], [4, 1]])
    })
  })

  describe(`${engine.name}: a shard's transaction sees and changes that shard only`, () => {
    const shards = shardedOrders(engine, 'rk_shard_rules_tx')

    it('refuses, inside it, what would read past it, run outside it or land on another shard', async (ctx) => {
      const db = shards.use(ctx)
      const insert = await run(TE.fromEither(db.compile(pipe(insertInto('orders'), values({ id: 0, tenant: '', total: 0 })))))
      const seen = await run(db.forKey('acme').transaction((tx) => async () => {
        const attempts: Record<string, string | false> = {
          keyed: refusal(await db.all(pipe(from('orders'), select('id'), where({ tenant: 'acme' })))()),
          ownShard: refusal(await tx.all(pipe(from('orders'), select('id')))()),
          unkeyedRead: refusal(await db.all(pipe(from('orders'), select('id')))()),
          ddl: refusal(await db.execute(sql`CREATE TABLE never (id int)`)()),
          batchElsewhere: refusal(await db.executeBatch(insert, [[9, 'globex', 1]])()),
          otherShard: refusal(await db.forKey('globex').execute(pipe(insertInto('orders'), values({ id: 9, tenant: 'globex', total: 1 })))()),
          otherTransaction: refusal(await db.forKey('globex').transaction((other) => other.execute(sql`DELETE FROM orders`))()),
          nestedElsewhere: refusal(await db.transaction((inner) => inner.execute(pipe(insertInto('orders'), values({ id: 9, tenant: 'umbrella', total: 1 }))))()),
        }
        try {
          for await (const _ of db.stream(pipe(from('orders'), where({ tenant: 'globex' })))) { /* nothing */ }
          attempts.streamElsewhere = false
        } catch (e) {
          attempts.streamElsewhere = `${(e as DbError)._tag}: ${(e as DbError).message}`
        }
        return E.right(attempts)
      }))
      expect(seen.keyed).toBe(false)
      expect(seen.ownShard).toBe(false)
      expect(seen.unkeyedRead).toMatch(/^TransactionError: a read without the shard key inside a transaction on shard 0/)
      expect(seen.ddl).toMatch(/^TransactionError: DDL inside a transaction on shard 0/)
      expect(seen.batchElsewhere).toMatch(/^TransactionError: a batch for shard 1 inside a transaction on shard 0/)
      expect(seen.otherShard).toMatch(/^TransactionError: a statement on shard 1 \(forKey\) inside a transaction on shard 0/)
      expect(seen.otherTransaction).toMatch(/^TransactionError: a transaction on shard 1 \(forKey\) inside a transaction on shard 0/)
      expect(seen.nestedElsewhere).toMatch(/^UnsupportedFeature: .*for shard 1 on the backend of shard 0/)
      expect(seen.streamElsewhere).toMatch(/^TransactionError: a statement for shard 1 inside a transaction on shard 0/)
      expect(await rowsByShard(db)).toEqual(SEEDED)
    })
  })
}
