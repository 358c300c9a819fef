/**
 * A write that would change a row's shard key is refused before anything runs: the row would
 * stay on the shard of its old key, where statements by its new key never look. UPDATE (query
 * builder, models, raw SQL), upserts, through the sharded backend, `forKey` and a shard's
 * transaction alike. Run on SQLite, PostgreSQL and MariaDB, two databases each as two shards.
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { run, sql, type DbError } from 'recordkit'
import { excluded, from, insertInto, onConflict, select, set, update, values, where } from 'recordkit/query'
import { model } from 'recordkit/model'
import { PAIR_ENGINES, rowsByShard, SEEDED, shardedOrders } from './shard-engines.js'

const Order = model({ table: 'orders', primaryKey: 'id', codec: t.type({ id: t.number, tenant: t.string, total: t.number }) })

/** The error of a refused key change: UnsupportedFeature, naming the key and saying to move the row. */
const keyMove = (r: E.Either<DbError, unknown>): string | false => {
  if (E.isRight(r)) return false
  expect(r.left._tag).toBe('UnsupportedFeature')
  expect(r.left.message).toMatch(/shard key tenant of orders/)
  expect(r.left.message).toMatch(/delete it, then insert it with the new key/)
  return r.left._tag
}

for (const engine of PAIR_ENGINES) {
  describe(`${engine.name}: an UPDATE may not change a row's shard key`, () => {
    const shards = shardedOrders(engine, 'rk_shard_keys_update')

    it('refuses the query builder\'s UPDATE setting the key to another value than its WHERE fixes, and runs nothing', async (ctx) => {
      const db = shards.use(ctx)
      // The case as first reported: acme's row 1 would stay on acme's shard as globex's.
      expect(keyMove(await db.execute(pipe(update('orders'), set({ tenant: 'globex' }), where({ tenant: 'acme', id: 1 })))())).toBe('UnsupportedFeature')
      // Another key of the same shard, an expression, or no key in WHERE at all: refused alike.
      expect(keyMove(await db.execute(pipe(update('orders'), set({ tenant: 'initech' }), where({ tenant: 'acme', id: 1 })))())).toBe('UnsupportedFeature')
      expect(keyMove(await db.execute(pipe(update('orders'), set({ tenant: sql`'globex'` }), where({ tenant: 'acme', id: 1 })))())).toBe('UnsupportedFeature')
      expect(keyMove(await db.execute(pipe(update('orders'), set({ tenant: 'globex' }), where({ id: 1 })))())).toBe('UnsupportedFeature')
      expect(await rowsByShard(db)).toEqual(SEEDED)
      expect(await run(db.all(pipe(from('orders'), select('id'), where({ tenant: 'globex' }))))).toEqual([{ id: 2 }])
    })

    it('runs an UPDATE that sets the key to the one value its WHERE fixes (it stays where it is)', async (ctx) => {
      const db = shards.use(ctx)
      const r = await run(db.execute(pipe(update('orders'), set({ tenant: 'acme', total: 11 }), where({ tenant: 'acme', id: 1 }))))
      expect(r.rowsAffected).toBe(1)
      expect((await rowsByShard(db))[0][0]).toEqual({ id: 1, tenant: 'acme', total: 11 })
    })

    it('refuses a model\'s update and updateWhere that change the key, through the sharded backend and forKey', async (ctx) => {
      const db = shards.use(ctx)
      const row = { id: 1, tenant: 'acme', total: 10 }
      expect(keyMove(await Order.updateWhere(db, { tenant: 'acme', id: 1 }, { tenant: 'globex' })())).toBe('UnsupportedFeature')
      expect(keyMove(await Order.update(db, row, { tenant: 'globex' })())).toBe('UnsupportedFeature')
      expect(keyMove(await Order.update(db.forKey('acme'), row, { tenant: 'globex' })())).toBe('UnsupportedFeature')
      expect(keyMove(await Order.updateWhere(db.forKey('acme'), { id: 1 }, { tenant: 'initech' })())).toBe('UnsupportedFeature')
      expect(await rowsByShard(db)).toEqual(SEEDED)
      // A patch that leaves the key alone runs on the key's shard.
      expect(await run(Order.update(db.forKey('acme'), row, { total: 12 }))).toEqual({ id: 1, tenant: 'acme', total: 12 })
      expect(await run(Order.updateWhere(db, { tenant: 'globex', id: 2 }, { total: 21 }))).toBe(1)
      expect((await rowsByShard(db)).map((rows) => rows.map((r) => r.total))).toEqual([[12, 30], [21, 40]])
    })

    it('refuses raw SQL that sets the key, on the sharded backend, forKey and inside a shard\'s transaction', async (ctx) => {
      const db = shards.use(ctx)
      expect(keyMove(await db.execute(sql`UPDATE orders SET total = 1, tenant = ${'globex'} WHERE tenant = ${'acme'} AND id = 1`)())).toBe('UnsupportedFeature')
      expect(keyMove(await db.forKey('acme').execute(sql`/* move */ UPDATE orders SET tenant = ${'globex'} WHERE id = 1`)())).toBe('UnsupportedFeature')
      const inTx = await db.forKey('acme').transaction((tx) => tx.execute(pipe(update('orders'), set({ tenant: 'globex' }), where({ id: 1 }))))()
      expect(keyMove(inTx)).toBe('UnsupportedFeature')
      expect(await rowsByShard(db)).toEqual(SEEDED)
      // forKey is for what carries no key: a raw UPDATE that leaves the key alone runs there.
      expect((await run(db.forKey('acme').execute(sql`UPDATE orders SET total = total + 1`))).rowsAffected).toBe(2)
    })
  })

  describe(`${engine.name}: an upsert may not change a row's shard key`, () => {
    const shards = shardedOrders(engine, 'rk_shard_keys_upsert')

    it('refuses an upsert whose update sets the key, and runs one that leaves it out', async (ctx) => {
      const db = shards.use(ctx)
      const row = { id: 1, tenant: 'acme', total: 15 }
      expect(keyMove(await db.execute(pipe(insertInto('orders'), values(row), onConflict(['id'], ['tenant', 'total'])))())).toBe('UnsupportedFeature')
      expect(keyMove(await db.execute(pipe(insertInto('orders'), values(row), onConflict(['id'], { tenant: 'initech' })))())).toBe('UnsupportedFeature')
      // A model's upsert updates every given field but the conflict key by default: tenant too.
      expect(keyMove(await Order.upsert(db, row)())).toBe('UnsupportedFeature')
      expect(keyMove(await Order.upsert(db.forKey('acme'), row)())).toBe('UnsupportedFeature')
      expect(await rowsByShard(db)).toEqual(SEEDED)

      await run(db.execute(pipe(insertInto('orders'), values(row), onConflict(['id'], ['total']))))
      expect(await run(Order.upsert(db, { id: 3, tenant: 'initech', total: 35 }, { update: ['total'] }))).toEqual({ id: 3, tenant: 'initech', total: 35 })
      expect((await rowsByShard(db))[0]).toEqual([{ id: 1, tenant: 'acme', total: 15 }, { id: 3, tenant: 'initech', total: 35 }])
    })

    it('runs EXCLUDED.key where the conflict target names the key (it changes nothing), except on MySQL\'s ON DUPLICATE KEY', async (ctx) => {
      const db = shards.use(ctx)
      const upsert = pipe(insertInto('orders'), values({ id: 1, tenant: 'acme', total: 16 }), onConflict(['tenant', 'id'], { tenant: excluded('tenant'), total: excluded('total') }))
      const r = await db.execute(upsert)()
      if (engine.name === 'mariadb') {
        // ON DUPLICATE KEY UPDATE fires on any unique key (here the primary key id), whatever the target says.
        expect(keyMove(r)).toBe('UnsupportedFeature')
        expect(await rowsByShard(db)).toEqual(SEEDED)
      } else {
        expect(E.isRight(r)).toBe(true)
        expect((await rowsByShard(db))[0][0]).toEqual({ id: 1, tenant: 'acme', total: 16 })
      }
    })
  })
}
