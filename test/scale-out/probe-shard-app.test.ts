/**
 * A multi-tenant application over a sharded backend, on SQLite, PostgreSQL and MariaDB (two
 * databases each as two shards): migrations applied to every shard, models written and read by
 * tenant, and what has to run on one shard refused with a message that says how.
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { run, sql, type Backend } from 'recordkit'
import { model } from 'recordkit/model'
import { migrateUp, migrationStatus, type Migration } from 'recordkit/schema'
import { shard } from 'recordkit/scale-out'
import { PAIR_ENGINES, rowsByShard, SEEDED, shardedOrders } from './shard-engines.js'

const Order = model({ table: 'orders', primaryKey: 'id', codec: t.type({ id: t.number, tenant: t.string, total: t.number }) })

const migrations: Migration[] = [
  { name: '20240101000000_probe_f_note', up: (db: Backend) => db.execute(sql`CREATE TABLE probe_f_note (id int PRIMARY KEY, body varchar(20) NOT NULL)`), down: (db: Backend) => db.execute(sql`DROP TABLE probe_f_note`) },
]

for (const engine of PAIR_ENGINES) {
  describe(`${engine.name}: a multi-tenant application over shards`, () => {
    const shards = shardedOrders(engine, 'probe_f_shard_app')

    it('applies migrations to every shard, each with its own history', async (ctx) => {
      const db = shards.use(ctx)
      for (const s of db.shards) await run(migrateUp(s, migrations))
      for (const s of db.shards) {
        expect((await run(migrationStatus(s, migrations))).map((m) => m.state)).toEqual(['applied'])
        expect(await run(s.all(sql`SELECT id FROM probe_f_note`))).toEqual([])
      }
    })

    it('runs createMany of one tenant\'s rows on that tenant\'s shard; refuses rows of several tenants, saying to give it forKey(key)', async (ctx) => {
      const db = shards.use(ctx)
      const mixed = await Order.createMany(db, [{ id: 7, tenant: 'acme', total: 1 }, { id: 8, tenant: 'globex', total: 2 }])()
      expect(mixed._tag === 'Left' && mixed.left._tag).toBe('TransactionError')
      expect(mixed._tag === 'Left' && mixed.left.message).toMatch(/createMany.*forKey\(key\)/)
      expect(await rowsByShard(db)).toEqual(SEEDED)
      const rows = [{ id: 5, tenant: 'acme', total: 1 }, { id: 6, tenant: 'acme', total: 2 }]
      expect((await run(Order.createMany(db, rows))).map((x) => x.id)).toEqual([5, 6])
      expect((await rowsByShard(db))[0].map((x) => x.id)).toEqual([1, 3, 5, 6])
      expect(await run(Order.createMany(db.forKey('globex'), [{ id: 9, tenant: 'globex', total: 3 }], { returning: false }))).toBe(1)
      // Read back by tenant: one shard, counted and paged there.
      expect(await run(pipe(Order.query, Order.where({ tenant: 'acme' }), Order.count(db)))).toBe(3)
      const page = await run(pipe(Order.query, Order.where({ tenant: 'acme' }), Order.orderBy('id'), Order.paginate(db, { page: 2, perPage: 2 })))
      expect({ ids: page.rows.map((x) => x.id), total: page.total }).toEqual({ ids: [6], total: 3 })
    })
  })
}

for (const engine of PAIR_ENGINES) {
  describe(`${engine.name}: migrateUp given the sharded backend itself`, () => {
    const shards = shardedOrders(engine, 'probe_f_shard_mig')
    it('is refused with a typed error saying to run it on each of db.shards, and applies nothing', async (ctx) => {
      const db = shards.use(ctx)
      const r = await migrateUp(db, migrations)()
      expect(r._tag === 'Left' && r.left._tag).toMatch(/^(TransactionError|UnsupportedFeature)$/)
      expect(r._tag === 'Left' && r.left.message).toMatch(/on each of db\.shards/)
      for (const s of db.shards) expect((await s.execute(sql`SELECT 1 FROM probe_f_note`)())._tag).toBe('Left')
    })
  })
}

for (const engine of PAIR_ENGINES) {
  describe(`${engine.name}: forKey without a key`, () => {
    const shards = shardedOrders(engine, 'probe_f_shard_nokey')
    it('refuses every call of forKey(null) and forKey(undefined), as the router refuses a NULL key, and writes nothing', async (ctx) => {
      const db = shards.use(ctx)
      for (const key of [null, undefined]) {
        const none = db.forKey(key)
        const checks = [
          await none.execute(sql`INSERT INTO orders (id, tenant, total) VALUES (${9}, ${'acme'}, ${9})`)(),
          await none.all(sql`SELECT id FROM orders`)(),
          await Order.create(none, { id: 9, tenant: 'acme', total: 9 })(),
          await none.transaction((tx) => tx.execute(sql`DELETE FROM orders`))(),
        ]
        for (const r of checks) {
          expect(r._tag === 'Left' && r.left._tag).toBe('UnsupportedFeature')
          expect(r._tag === 'Left' && r.left.message).toMatch(/NULL key/)
        }
        await expect((async () => { for await (const _ of none.stream(sql`SELECT id FROM orders`)) break })()).rejects.toMatchObject({ _tag: 'UnsupportedFeature' })
      }
      expect(await rowsByShard(db)).toEqual(SEEDED)
    })
  })
}

describe('forKey of a key the route gives no shard', () => {
  it('gives a backend whose every call is the route\'s error, instead of throwing', async () => {
    const parts = await PAIR_ENGINES[0].open('probe_f_unused') as Backend[]
    const db = shard(parts, () => 'tenant', { route: (k) => (k === 'lost' ? 5 : 0) })
    const lost = db.forKey('lost')
    const r = await lost.all(sql`SELECT 1 AS one`)()
    expect(r._tag === 'Left' && r.left._tag).toBe('QueryError')
    expect(r._tag === 'Left' && r.left.message).toMatch(/the shard route gave 5 for lost/)
    const thrower = shard(parts, () => 'tenant', { route: () => { throw new Error('no such region') } })
    const t = await thrower.forKey('x').transaction((tx) => tx.all(sql`SELECT 1 AS one`))()
    expect(t._tag === 'Left' && t.left.message).toMatch(/no such region/)
    await run(db.close())
  })
})

describe('what must run on one shard, asked of the sharded backend itself', () => {
  it('is a TransactionError naming the forKey form to use', async () => {
    const parts = await PAIR_ENGINES[0].open('probe_f_unused') as Backend[]
    const db = shard(parts, () => 'tenant')
    const conn = await db.connection()()
    expect(conn._tag === 'Left' && conn.left._tag).toBe('TransactionError')
    expect(conn._tag === 'Left' && conn.left.message).toMatch(/use forKey\(key\)\.connection\(\)$/)
    const ctl = await db.startTransaction()()
    expect(ctl._tag === 'Left' && ctl.left.message).toMatch(/use forKey\(key\)\.startTransaction\(\)/)
    const sp = await db.savepoint('x', (s) => s.execute(sql`SELECT 1`))()
    expect(sp._tag === 'Left' && sp.left.message).toMatch(/inside forKey\(key\)\.transaction/)
    await run(db.close())
  })
})
