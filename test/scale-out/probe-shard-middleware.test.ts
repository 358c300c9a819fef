/**
 * Middleware wrapped around a sharded backend (`wrap(shard(...), logging(...))`, as an
 * application wraps the backend it uses) sees the statements it runs: through the sharded
 * backend, through `forKey(key)` (statements, prepared queries, batches such as a model's
 * createMany) and through the handle of a shard's transaction. Each still runs where it did and
 * under the same rules. On SQLite, PostgreSQL and MariaDB, two databases each as two shards.
 */
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { run, sql, wrap } from 'recordkit'
import { logging } from 'recordkit'
import { model } from 'recordkit/model'
import { pipe } from 'fp-ts/lib/function.js'
import { from, orderBy, select } from 'recordkit/query'
import { shard, type ShardedBackend } from 'recordkit/scale-out'
import { HOME, PAIR_ENGINES, rowsByShard, shardedOrders } from './shard-engines.js'

const Order = model({ table: 'orders', primaryKey: 'id', codec: t.type({ id: t.number, tenant: t.string, total: t.number }) })

for (const engine of PAIR_ENGINES) {
  describe(`${engine.name}: middleware around a sharded backend`, () => {
    const shards = shardedOrders(engine, 'probe_f_shard_mw')
    const logged = (db: ShardedBackend): { db: ShardedBackend; seen: string[] } => {
      const seen: string[] = []
      return { db: wrap(db, logging((e) => seen.push(e.sql.replace(/\s+/g, ' ')))) as ShardedBackend, seen }
    }

    it('sees the statements run through forKey, its prepared queries and its batches', async (ctx) => {
      const { db, seen } = logged(shards.use(ctx))
      // Still the shard's backend: its driver and dialect, and not sharded itself.
      expect(db.forKey('globex').driver).toBe(db.shards[1].driver)
      expect(db.forKey('globex').dialect).toBe(db.shards[1].dialect)
      expect((db.forKey('globex') as Partial<ShardedBackend>).shardKey).toBeUndefined()
      await run(db.forKey('acme').execute(sql`UPDATE orders SET total = total + 1`))
      expect(seen).toEqual(['UPDATE orders SET total = total + 1'])
      const rows = await run(db.forKey('globex').all<{ id: number }>(sql`SELECT id FROM orders ORDER BY id`))
      expect(rows.map((r) => Number(r.id))).toEqual([2, 4])
      expect(seen.length).toBe(2)
      expect((await run(db.forKey('globex').prepare<{ n: number }>(sql`SELECT count(*) AS n FROM orders`).all())).map((r) => Number(r.n))).toEqual([2])
      expect(seen.length).toBe(3)
      const made = await run(Order.createMany(db.forKey('acme'), [{ id: 5, tenant: 'acme', total: 1 }, { id: 6, tenant: 'initech', total: 2 }]))
      expect(made.map((r) => r.id)).toEqual([5, 6])
      expect(seen.slice(3).some((s) => /^INSERT INTO/.test(s))).toBe(true)
      // Where they ran: acme's and initech's shard.
      expect((await rowsByShard(db)).map((s) => s.map((r) => r.id))).toEqual([[1, 3, 5, 6], [2, 4]])
      expect((await rowsByShard(db))[0].map((r) => r.total)).toEqual([11, 31, 1, 2])
    })

    it('sees a stream through forKey; leaving its loop early ends it', async (ctx) => {
      const { db, seen } = logged(shards.use(ctx))
      const ids: number[] = []
      for await (const r of db.forKey('globex').stream<{ id: number }>(sql`SELECT id FROM orders ORDER BY id`, { batchSize: 1 })) {
        ids.push(Number(r.id))
        break
      }
      expect(ids).toEqual([2])
      expect(seen).toEqual(['SELECT id FROM orders ORDER BY id'])
      // The shard's connection was given back: a transaction there runs.
      const n = await run(db.forKey('globex').transaction((tx) => tx.all<{ n: number }>(sql`SELECT count(*) AS n FROM orders`)))
      expect(Number(n[0].n)).toBe(2)
      // Rows of another shard's key through forKey are refused in a stream too.
      const refused = async () => {
        for await (const _ of db.forKey('globex').stream(sql`SELECT id FROM orders`)) break
      }
      await expect(refused()).resolves.toBeUndefined()
      const wrong = db.forKey('globex').stream({ sql: 'INSERT INTO orders (id, tenant, total) VALUES (?, ?, ?)', params: [9, 'acme', 9] })
      await expect((async () => { for await (const _ of wrong) break })()).rejects.toMatchObject({ _tag: 'UnsupportedFeature' })
    })

    it('sees the runs of a batch routed by the sharded backend', async (ctx) => {
      const { db, seen } = logged(shards.use(ctx))
      const ins = sql`INSERT INTO orders (id, tenant, total) VALUES (${0}, ${''}, ${0})`
      await run(db.executeBatch(ins, [[7, 'globex', 7], [8, 'umbrella', 8]]))
      expect(seen.filter((s) => s.startsWith('INSERT INTO orders')).length).toBe(2)
      expect((await rowsByShard(db)).map((s) => s.map((r) => r.id))).toEqual([[1, 3], [2, 4, 7, 8]])
    })

    it('sees the statements of a shard\'s transaction made through its handle, and the rules still hold', async (ctx) => {
      const { db, seen } = logged(shards.use(ctx))
      const n = await run(db.forKey('acme').transaction((tx) => async () => {
        await run(tx.execute(sql`UPDATE orders SET total = total * 2`))
        const r = await run(tx.all<{ n: number }>(sql`SELECT count(*) AS n FROM orders`))
        // Another shard's rows through the handle are refused, as before.
        const other = await tx.execute(sql`INSERT INTO orders (id, tenant, total) VALUES (${9}, ${'globex'}, ${9})`)()
        expect(other._tag === 'Left' && other.left._tag).toBe('UnsupportedFeature')
        return { _tag: 'Right' as const, right: Number(r[0].n) }
      }))
      expect(n).toBe(2)
      // The refused INSERT too: middleware sees what is asked of the backend, refusals included.
      expect(seen.map((s) => s.split(' (')[0])).toEqual(['UPDATE orders SET total = total * 2', 'SELECT count(*) AS n FROM orders', 'INSERT INTO orders'])
      expect((await rowsByShard(db)).map((s) => s.map((r) => r.total))).toEqual([[20, 60], [20, 40]])
      // A nested transaction through the sharded backend inside it (a model's write unit) is seen too.
      seen.length = 0
      await run(db.forKey('acme').transaction(() => db.transaction((sp) => sp.execute(sql`UPDATE orders SET total = total + 1 WHERE tenant = ${'acme'}`))))
      expect(seen.filter((s) => s.startsWith('UPDATE'))).toEqual(['UPDATE orders SET total = total + 1 WHERE tenant = ' + (engine.name === 'postgres' ? '$1' : '?')])
      await run(db.forKey('acme').execute(sql`UPDATE orders SET total = total - 1 WHERE tenant = ${'acme'}`))
      // A handle used after its transaction ended is refused, as before.
      let kept: ShardedBackend | undefined
      await run(db.forKey('acme').transaction((tx) => async () => {
        kept = tx as ShardedBackend
        return { _tag: 'Right' as const, right: undefined }
      }))
      const late = await kept!.execute(sql`UPDATE orders SET total = 0`)()
      expect(late._tag === 'Left' && late.left._tag).toBe('TransactionError')
      expect((await rowsByShard(db))[0].map((r) => r.total)).toEqual([20, 60])
    })
  })
}

for (const engine of PAIR_ENGINES) {
  describe(`${engine.name}: a scattered read the merge cannot order`, () => {
    const shards = shardedOrders(engine, 'probe_f_shard_order')
    it('is refused before any shard runs it', async (ctx) => {
      const inner = shards.use(ctx)
      const sent: string[] = []
      const watched = inner.shards.map((s) => wrap(s, logging((e) => sent.push(e.sql))))
      const db = shard(watched, (table) => (table === 'orders' ? 'tenant' : undefined), { route: (key) => HOME[String(key)] ?? 0 })
      const r = await db.all(pipe(from('orders'), select('id'), orderBy('total')))()
      expect(r._tag === 'Left' && r.left._tag).toBe('UnsupportedFeature')
      expect(r._tag === 'Left' && r.left.message).toMatch(/ORDER BY an expression that is not a selected column/)
      expect(sent).toEqual([])
      // Ordered by a selected column it runs on both and merges.
      expect((await run(db.all<{ id: number }>(pipe(from('orders'), select('id', 'total'), orderBy('total', 'desc'))))).map((x) => Number(x.id))).toEqual([4, 3, 2, 1])
    })
  })
}
