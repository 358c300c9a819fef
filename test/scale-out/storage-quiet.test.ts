/**
 * The contexts the scale-out modules carry a call's shard (`shard`'s pin) and a read-your-writes
 * scope or a reserved connection (`withReplicas`) in are switched off once nothing that needs
 * them has been pending for a short while: on Node 20 they otherwise hook every promise of the
 * process for good after the first forKey call, routed prepared query or scope.
 * What must not change: routing by the pin, also through middleware that waits longer than the
 * quiet time; read-your-writes in a scope open longer than that, and for work a scope left
 * running within the window; reads on a reserved connection staying there; every storage on
 * again when used after the switch-off.
 */
import { pipe } from 'fp-ts/lib/function.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { compose, run, sql, wrap, type Backend } from 'recordkit'
import { sqlite } from 'recordkit/dialects/sqlite'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'
import { from, limit, orderBy, param, select, where } from 'recordkit/query'
import { withReplicas, type ReplicatedBackend } from 'recordkit/scale-out'
import { quietStoragesEnabled } from '../../src/quiet-storage.js'
import { PAIR_ENGINES, SEEDED, shardedOrders } from './shard-engines.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
/** Longer than the quiet time (250 ms) and the look after it. */
const QUIET = 700

const switchedOff = async (): Promise<void> => {
  for (let i = 0; i < 80 && quietStoragesEnabled() > 0; i++) await sleep(50)
  expect(quietStoragesEnabled()).toBe(0)
}

/** Middleware that waits `ms` before each statement goes on (a slow logger, a rate limiter). */
const slow = <B extends Backend>(db: B, ms: number): B =>
  wrap(db, { execute: (next) => (q) => async () => { await sleep(ms); return next(q)() } })

const ids = (rows: readonly { id: unknown }[]): number[] => rows.map((r) => Number(r.id))

for (const engine of PAIR_ENGINES.filter((e) => e.name !== 'mariadb')) {
  describe(`${engine.name}: the shard pin's context`, () => {
    const shards = shardedOrders(engine, 'rk_quiet_shard')

    it('is off a while after the last pinned call, routes as before, and is on again for the next', async (ctx) => {
      const db = shards.use(ctx)
      const top = db.prepare<{ id: number }>(pipe(from('orders'), select('id'), where({ tenant: param('t') }), orderBy('id', 'desc'), limit(5)))
      expect(ids(await run(top.all({ t: 'globex' })))).toEqual([2])
      expect(quietStoragesEnabled()).toBeGreaterThan(0)
      await switchedOff()
      // A keyed read with ORDER BY and LIMIT, as SQL text, would be refused without its pin.
      expect(ids(await run(top.all({ t: 'umbrella' })))).toEqual([4])
      expect(quietStoragesEnabled()).toBeGreaterThan(0)
      await switchedOff()
      // forKey: raw SQL without the key runs on the key's shard only (else it would gather from both).
      expect(ids(await run(db.forKey('initech').all<{ id: number }>(sql`SELECT id FROM orders ORDER BY id`)))).toEqual([1, 3])
      await switchedOff()
      // Plain statements routed by their key need no pin, and leave it off.
      expect(ids(await run(db.all<{ id: number }>(pipe(from('orders'), select('id'), where({ tenant: 'acme' })))))).toEqual([1])
      expect(quietStoragesEnabled()).toBe(0)
    })

    it('keeps the pin of a call that middleware holds longer than the quiet time', async (ctx) => {
      const db = slow(shards.use(ctx), QUIET)
      const top = db.prepare<{ id: number }>(pipe(from('orders'), select('id'), where({ tenant: param('t') }), orderBy('id', 'desc'), limit(5)))
      const [byPrepared, byKey, both] = await Promise.all([
        run(top.all({ t: 'acme' })),
        run(db.forKey('umbrella').all<{ id: number }>(sql`SELECT id FROM orders ORDER BY id`)),
        // Started after the others, while they wait: each keeps its own shard.
        sleep(QUIET / 2).then(() => run(db.forKey('acme').all<{ id: number }>(sql`SELECT id FROM orders ORDER BY id`))),
      ])
      expect(ids(byPrepared)).toEqual([1])
      expect(ids(byKey)).toEqual([2, 4])
      expect(ids(both)).toEqual([1, 3])
      // A stream pinned to a shard, read slowly: every row from that shard.
      const streamed: number[] = []
      for await (const r of shards.use(ctx).forKey('globex').stream<{ id: number }>(sql`SELECT id FROM orders ORDER BY id`)) {
        await sleep(QUIET)
        streamed.push(Number(r.id))
      }
      expect(streamed).toEqual(SEEDED[1].map((r) => r.id))
      await switchedOff()
    })
  })
}

describe('withReplicas: the scope and reserved-connection contexts', () => {
  const WINDOW = 3000
  let db: ReplicatedBackend
  const origin = (b: Backend = db): Promise<string> => run(b.all<{ name: string }>(sql`SELECT name FROM origin`)).then((r) => r[0]!.name)

  beforeAll(async () => {
    // Two databases standing for a primary and its replica: `origin` says which one answered.
    const [primary, replica] = ['primary', 'replica'].map(() => compose(betterSqlite3({ filename: ':memory:' }), sqlite))
    for (const [b, name] of [[primary, 'primary'], [replica, 'replica']] as const) {
      await run(b.execute(sql`CREATE TABLE origin (name TEXT NOT NULL)`))
      await run(b.execute(sql`INSERT INTO origin VALUES (${name})`))
      await run(b.execute(sql`CREATE TABLE note (id INTEGER PRIMARY KEY)`))
    }
    db = withReplicas(primary!, [replica!], { readYourWritesMs: WINDOW, checkEveryMs: 0 })
  })
  afterAll(async () => { await run(db.close()) })

  it('a scope open longer than the quiet time keeps reading its writes from the primary', async () => {
    await switchedOff()
    const seen = await db.scope(async () => {
      const before = await origin()
      await run(db.execute(sql`INSERT INTO note VALUES (1)`))
      await sleep(QUIET)
      return [before, await origin()]
    })
    expect(seen).toEqual(['replica', 'primary'])
    // Another scope has not written: the replica.
    expect(await db.scope(() => origin())).toBe('replica')
    await switchedOff()
    expect(await origin()).toBe('replica')
  })

  it('work a scope left running reads its writes from the primary for the window, then the storage goes off', async () => {
    await switchedOff()
    let late: Promise<string[]> | undefined
    await db.scope(async () => {
      await run(db.execute(sql`INSERT INTO note VALUES (2)`))
      // Still running after the scope settled, past the quiet time but within the window.
      late = (async () => {
        await sleep(QUIET)
        const a = await origin()
        await sleep(QUIET)
        return [a, await origin()]
      })()
    })
    expect(await origin()).toBe('replica') // outside the scope
    expect(await late!).toEqual(['primary', 'primary'])
    // Kept on for the rest of the window after the write, though no scope is open.
    expect(quietStoragesEnabled()).toBeGreaterThan(0)
    await switchedOff()
    // On again for the next scope, which reads its own writes as before.
    const next = await db.scope(async () => {
      const a = await origin()
      expect(quietStoragesEnabled()).toBeGreaterThan(0)
      await run(db.execute(sql`INSERT INTO note VALUES (3)`))
      return [a, await origin()]
    })
    expect(next).toEqual(['replica', 'primary'])
    await switchedOff()
  })

  it('a write outside any scope still sends reads outside scopes to the primary for the window', async () => {
    await switchedOff()
    await run(db.execute(sql`INSERT INTO note VALUES (4)`))
    expect(await origin()).toBe('primary')
    expect(await db.scope(() => origin())).toBe('replica')
    await sleep(WINDOW)
    expect(await origin()).toBe('replica')
    await switchedOff()
  })

  it('reads on a reserved connection stay there, idle or held by middleware past the quiet time', async () => {
    await switchedOff()
    const conn = await run(slow(db, QUIET).connection())
    expect(await origin(conn)).toBe('primary')
    await switchedOff()
    expect(await origin(conn)).toBe('primary')
    await run(conn.release())
    await switchedOff()
    expect(await origin()).toBe('replica')
  })
})
