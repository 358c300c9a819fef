/**
 * Prepared queries on a sharded backend route by the shard key their arguments give: a keyed
 * read with ORDER BY and LIMIT, and a keyed UPDATE or DELETE, run on the key's shard (they were
 * read as SQL text without a key: the read refused or gathered from every shard, the write
 * refused). What the arguments do not fix to one shard runs as before. On SQLite, PostgreSQL
 * and MariaDB, two databases each as two shards.
 */
import { pipe } from 'fp-ts/lib/function.js'
import { describe, expect, it } from 'vitest'
import { run } from 'recordkit'
import { deleteFrom, from, limit, orderBy, param, select, set, update, where } from 'recordkit/query'
import { PAIR_ENGINES, rowsByShard, SEEDED, shardedOrders } from './shard-engines.js'

for (const engine of PAIR_ENGINES) {
  describe(`${engine.name}: prepared queries on a sharded backend`, () => {
    const shards = shardedOrders(engine, 'probe_f_shard_prep')

    it('runs a keyed read with ORDER BY and LIMIT on the key\'s shard, for each argument', async (ctx) => {
      const db = shards.use(ctx)
      const top = db.prepare<{ id: number; total: number }>(pipe(from('orders'), select('id', 'total'), where({ tenant: param('t') }), orderBy('total', 'desc'), limit(1)))
      expect((await run(top.all({ t: 'acme' }))).map((r) => Number(r.id))).toEqual([1])
      expect((await run(top.all({ t: 'umbrella' }))).map((r) => Number(r.id))).toEqual([4])
      const first = await run(top.first({ t: 'initech' }))
      expect(first._tag === 'Some' && Number(first.value.id)).toBe(3)
      // A key no row has: no row, from its shard.
      expect(await run(top.all({ t: 'hooli' }))).toEqual([])
    })

    it('runs a keyed UPDATE and DELETE on the key\'s shard, and refuses one that would move a row', async (ctx) => {
      const db = shards.use(ctx)
      const raise = db.prepare(pipe(update('orders'), set({ total: param('total') }), where({ tenant: param('t'), id: param('id') })))
      expect((await run(raise.execute({ t: 'globex', id: 2, total: 21 }))).rowsAffected).toBe(1)
      const drop = db.prepare(pipe(deleteFrom('orders'), where({ tenant: param('t'), id: param('id') })))
      expect((await run(drop.execute({ t: 'acme', id: 1 }))).rowsAffected).toBe(1)
      expect(await rowsByShard(db)).toEqual([[SEEDED[0][1]], [{ ...SEEDED[1][0], total: 21 }, SEEDED[1][1]]])
      const move = db.prepare(pipe(update('orders'), set({ tenant: param('to') }), where({ tenant: param('t'), id: param('id') })))
      const r = await move.execute({ t: 'initech', id: 3, to: 'globex' })()
      expect(r._tag === 'Left' && r.left._tag).toBe('UnsupportedFeature')
      expect((await rowsByShard(db))[0]).toEqual([SEEDED[0][1]])
    })

    it('gathers from every shard, as before, what its arguments do not fix to one shard', async (ctx) => {
      const db = shards.use(ctx)
      const some = db.prepare<{ id: number }>(pipe(from('orders'), select('id'), where({ tenant: param('t') })))
      expect((await run(some.all({ t: 'acme' }))).map((r) => Number(r.id))).toEqual([1])
      const byId = db.prepare<{ id: number }>(pipe(from('orders'), select('id'), where({ id: param('id') })))
      expect((await run(byId.all({ id: 4 }))).map((r) => Number(r.id))).toEqual([4])
      // Inside a shard's transaction, another shard's key is refused.
      const other = await db.forKey('acme').transaction(() => some.all({ t: 'globex' }))()
      expect(other._tag === 'Left' && other.left._tag).toBe('TransactionError')
      // The key's shard is the transaction's: it runs there.
      expect((await run(db.forKey('acme').transaction(() => some.all({ t: 'initech' })))).map((r) => Number(r.id))).toEqual([3])
      expect(await rowsByShard(db)).toEqual(SEEDED)
    })
  })
}
