/**
 * shard(backends, keyOf) over two PostgreSQL databases of a throwaway server: a model's
 * queries routed by the shard key, scatter-gather reads, refused cross-shard writes.
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import * as t from 'io-ts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connect, run, sql, type Backend } from 'recordkit'
import { count, from, insertInto, limit, offset, orderBy, select, update, set, values, where } from 'recordkit/query'
import { model } from 'recordkit/model'
import { postgres } from 'recordkit/dialects/postgres'
import { postgresJs } from 'recordkit/drivers/postgres'
import { shard, type ShardedBackend } from 'recordkit/scale-out'
import { allSettledWithin, clusterAvailable, lockPorts, startPgPrimary, type PgCluster } from '../support/cluster.js'

const PORT = 21430

const Order = model({ table: 'orders', primaryKey: 'id', codec: t.type({ id: t.number, tenant: t.string, total: t.number }) })

describe.skipIf(!clusterAvailable('postgres'))('shard over two PostgreSQL databases', () => {
  let cluster: PgCluster
  let parts: Backend[]
  let db: ShardedBackend

  let release: (() => void) | undefined

  beforeAll(async () => {
    release = await lockPorts('shard')
    cluster = startPgPrimary(PORT)
    cluster.primary.psql('CREATE DATABASE shard0')
    cluster.primary.psql('CREATE DATABASE shard1')
    parts = [
      await run(connect(postgresJs({ url: cluster.primary.url('shard0'), max: 4 }), postgres)),
      await run(connect(postgresJs({ url: cluster.primary.url('shard1'), max: 4 }), postgres)),
    ]
    // acme and globex on shard 0, initech and umbrella on shard 1.
    const home: Record<string, number> = { acme: 0, globex: 0, initech: 1, umbrella: 1 }
    db = shard(parts, (table) => (table === 'orders' ? 'tenant' : undefined), { route: (key) => home[String(key)] ?? 0 })
    await run(db.execute(sql`CREATE TABLE orders (id int PRIMARY KEY, tenant text NOT NULL, total int NOT NULL)`))
  }, 400_000)

  afterAll(async () => {
    await db?.close()()
    cluster?.destroy()
    release?.()
  })

  const idsOn = async (i: number) => (await run(parts[i].all<{ id: number }>(sql`SELECT id FROM orders ORDER BY id`))).map((r) => r.id)

  it('runs DDL on every shard and routes a model\'s writes and keyed reads by the shard key', async () => {
    await run(Order.create(db, { id: 1, tenant: 'acme', total: 10 }))
    await run(Order.create(db, { id: 2, tenant: 'initech', total: 20 }))
    await run(Order.createMany(db.forKey('umbrella'), [{ id: 3, tenant: 'umbrella', total: 30 }, { id: 4, tenant: 'umbrella', total: 5 }]))
    await run(db.execute(pipe(insertInto('orders'), values({ id: 5, tenant: 'globex', total: 50 }))))
    expect(await idsOn(0)).toEqual([1, 5])
    expect(await idsOn(1)).toEqual([2, 3, 4])

    const keyed = await run(Order.findBy(db, { tenant: 'initech', id: 2 }))
    expect(keyed).toEqual(O.some({ id: 2, tenant: 'initech', total: 20 }))
    // A keyed UPDATE reaches its shard only.
    expect(await run(Order.updateWhere(db, { tenant: 'umbrella', id: 4 }, { total: 6 }))).toBe(1)
    expect((await run(parts[1].all(sql`SELECT total FROM orders WHERE id = 4`)))[0].total).toBe(6)
  })

  it('gathers reads without a key from every shard, ordered and limited over the whole', async () => {
    expect(await run(Order.find(db, 3))).toEqual(O.some({ id: 3, tenant: 'umbrella', total: 30 }))
    const all = await run(pipe(Order.query, Order.orderBy('total', 'desc'), Order.all(db)))
    expect(all.map((o) => o.id)).toEqual([5, 3, 2, 1, 4])
    const page = await run(db.all(pipe(from('orders'), select('id', 'total'), orderBy('total'), limit(2), offset(1))))
    expect(page).toEqual([{ id: 1, total: 10 }, { id: 2, total: 20 }])
    const some = await run(db.all(pipe(from('orders'), select('id'), where({ tenant: ['acme', 'initech'] }), orderBy('id'))))
    expect(some).toEqual([{ id: 1 }, { id: 2 }])
    const rawRead = await run(db.all<{ id: number }>(sql`SELECT id FROM orders`))
    expect(rawRead.map((r) => r.id).sort()).toEqual([1, 2, 3, 4, 5])
    let streamed = 0
    for await (const _ of db.stream(pipe(from('orders'), select('id')))) streamed++
    expect(streamed).toBe(5)
  })

  it('refuses, with typed errors and before anything runs, what would span shards', async () => {
    const refusals = [
      await db.execute(pipe(insertInto('orders'), values([{ id: 10, tenant: 'acme', total: 1 }, { id: 11, tenant: 'initech', total: 1 }])))(),
      await db.execute(pipe(update('orders'), set({ total: 0 })))(),
      await db.execute(sql`DELETE FROM orders`)(),
      await db.all(pipe(from('orders'), select(count())))(),
      await db.transaction((tx) => tx.execute(sql`SELECT 1`))(),
    ]
    expect(refusals.map((r) => E.isLeft(r) && r.left._tag)).toEqual(['UnsupportedFeature', 'UnsupportedFeature', 'UnsupportedFeature', 'UnsupportedFeature', 'TransactionError'])
    expect([...(await idsOn(0)), ...(await idsOn(1))].sort()).toEqual([1, 2, 3, 4, 5])
    expect((await run(parts[0].all(sql`SELECT sum(total)::int AS s FROM orders`)))[0].s).toBe(60)
  })

  it('keeps a shard transaction on its shard, and loses no acknowledged write under concurrent load', async () => {
    const crossed = await db.forKey('acme').transaction((_tx) => async () => {
      await run(db.execute(pipe(insertInto('orders'), values({ id: 20, tenant: 'acme', total: 1 })))) // through the sharded db: same shard, in the transaction
      return db.execute(pipe(insertInto('orders'), values({ id: 21, tenant: 'initech', total: 1 })))() // the other shard: refused
    })()
    expect(E.isLeft(crossed) && crossed.left._tag).toBe('TransactionError')
    expect(await idsOn(0)).not.toContain(20) // rolled back with the transaction

    const tenants = ['acme', 'globex', 'initech', 'umbrella']
    const writes = Array.from({ length: 400 }, (_, i) => db.execute(pipe(insertInto('orders'), values({ id: 1000 + i, tenant: tenants[i % 4], total: i })))())
    const settled = await allSettledWithin(writes, 60_000)
    const acknowledged = settled.flatMap((s, i) => (s.status === 'fulfilled' && E.isRight(s.value) ? [1000 + i] : []))
    expect(acknowledged.length).toBe(400)
    const stored = [...(await idsOn(0)), ...(await idsOn(1))].filter((id) => id >= 1000)
    expect(stored.sort((a, b) => a - b)).toEqual(acknowledged)
    expect((await idsOn(0)).filter((id) => id >= 1000).every((id) => (id - 1000) % 4 < 2)).toBe(true)
  })
})
