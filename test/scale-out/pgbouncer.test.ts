/**
 * The PostgreSQL driver behind a real PgBouncer in transaction pooling mode, started on
 * loopback in front of the test database: transactions, savepoints, streams, session state
 * refused, and 1000 concurrent queries over a small server pool.
 */
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connect, run, sql, type Backend } from 'recordkit'
import { postgres } from 'recordkit/dialects/postgres'
import { postgresJs } from 'recordkit/drivers/postgres'
import { pgbouncerDriver } from 'recordkit/scale-out'
import { allSettledWithin, clusterAvailable, lockPorts, startPgBouncer, type PgBouncer } from '../support/cluster.js'
import { PG_URL, serverAvailable } from '../support/servers.js'

const BOUNCER_PORT = 21420
const target = new URL(PG_URL)
const database = target.pathname.slice(1)

describe.skipIf(!clusterAvailable('pgbouncer') || !(await serverAvailable('postgres')))('postgres.js behind PgBouncer (transaction pooling)', () => {
  let bouncer: PgBouncer
  let db: Backend
  let direct: Backend

  let release: (() => void) | undefined

  beforeAll(async () => {
    release = await lockPorts('pgbouncer')
    bouncer = await startPgBouncer(BOUNCER_PORT, { host: target.hostname, port: Number(target.port || 5432) }, { poolMode: 'transaction', poolSize: 4 })
    db = await run(connect(pgbouncerDriver({ url: bouncer.url(database), max: 20, connectTimeout: 10 }), postgres))
    direct = await run(connect(postgresJs({ url: PG_URL, max: 2 }), postgres))
    await run(direct.execute(sql`DROP TABLE IF EXISTS pgb_item`))
    await run(direct.execute(sql`CREATE TABLE pgb_item (id int PRIMARY KEY, note text NOT NULL)`))
  }, 400_000)

  afterAll(async () => {
    await db?.close()()
    await direct?.execute(sql`DROP TABLE IF EXISTS pgb_item`)()
    await direct?.close()()
    await bouncer?.stop()
    release?.()
  })

  const count = async (from: number, to: number) =>
    (await run(direct.all<{ n: number }>(sql`SELECT count(*)::int AS n FROM pgb_item WHERE id BETWEEN ${from} AND ${to}`)))[0].n

  it('runs through PgBouncer, not around it', async () => {
    const [row] = await run(db.all<{ port: number }>(sql`SELECT inet_server_port() AS port`))
    expect(row.port).toBe(Number(target.port || 5432)) // the server's port: PgBouncer forwarded it
    const [client] = await run(db.all<{ app: string }>(sql`SELECT current_setting('application_name') AS app`))
    expect(client.app).toBe('recordkit')
  })

  it('commits and rolls back transactions, with savepoints inside', async () => {
    await run(db.transaction((tx) => async () => {
      await run(tx.execute(sql`INSERT INTO pgb_item VALUES (1, 'kept')`))
      const inner = await tx.transaction((sp) => async () => {
        await run(sp.execute(sql`INSERT INTO pgb_item VALUES (2, 'undone')`))
        return sp.execute(sql`INSERT INTO pgb_item VALUES (1, 'duplicate')`)()
      })()
      expect(E.isLeft(inner) && inner.left._tag).toBe('UniqueViolation')
      await run(tx.execute(sql`SET LOCAL statement_timeout = '5s'`)) // allowed: ends with the transaction
      return tx.execute(sql`INSERT INTO pgb_item VALUES (3, 'kept')`)()
    }))
    const failed = await db.transaction((tx) => async () => {
      await run(tx.execute(sql`INSERT INTO pgb_item VALUES (4, 'rolled back')`))
      return tx.execute(sql`INSERT INTO pgb_item VALUES (1, 'duplicate')`)()
    })()
    expect(E.isLeft(failed) && failed.left._tag).toBe('UniqueViolation')
    expect((await run(direct.all(sql`SELECT id FROM pgb_item WHERE id < 10 ORDER BY id`))).map((r) => r.id)).toEqual([1, 3])
  })

  it('refuses session state outside a transaction with a typed error', async () => {
    for (const text of ['SET search_path = public', 'LISTEN news', 'RESET ALL', 'SELECT pg_advisory_lock(1)']) {
      const r = await db.execute(sql.raw(text))()
      expect(E.isLeft(r) && r.left._tag, text).toBe('UnsupportedFeature')
    }
    // A startup parameter PgBouncer would refuse (or drop) is refused before connecting.
    const scoped = await connect(pgbouncerDriver({ url: bouncer.url(database), connection: { search_path: 'app' } }), postgres)()
    expect(E.isLeft(scoped) && scoped.left._tag).toBe('UnsupportedFeature')
  })

  it('streams a large result while other queries run', async () => {
    let seen = 0
    let sum = 0
    const others = Array.from({ length: 50 }, (_, i) => run(db.all<{ i: number }>(sql`SELECT ${i}::int AS i`)))
    for await (const row of db.stream<{ g: number }>(sql`SELECT g FROM generate_series(1, 20000) AS g`, { batchSize: 500 })) {
      seen++
      sum += row.g
    }
    expect(seen).toBe(20000)
    expect(sum).toBe((20000 * 20001) / 2)
    expect((await Promise.all(others)).map((r) => r[0].i)).toEqual(Array.from({ length: 50 }, (_, i) => i))
    // Stopping early gives the server connection back: the pool still answers.
    for await (const _ of db.stream(sql`SELECT g FROM generate_series(1, 100000) AS g`, { batchSize: 100 })) break
    expect(await run(db.all(sql`SELECT 1 AS one`))).toEqual([{ one: 1 }])
  })

  it('serves 1000 concurrent queries and 200 concurrent transactions over 4 server connections, losing no acknowledged write', async () => {
    const reads = Array.from({ length: 1000 }, (_, i) => db.all<{ i: number; t: string }>(sql`SELECT ${i}::int AS i, ${`v${i}`}::text AS t`)().then((r) => (E.isRight(r) ? E.right(r.right[0]) : r)))
    const writes = Array.from({ length: 200 }, (_, i) => db.transaction((tx) => async () => {
      await run(tx.execute(sql`INSERT INTO pgb_item VALUES (${1000 + i}, 'a')`))
      return tx.execute(sql`INSERT INTO pgb_item VALUES (${2000 + i}, 'b')`)()
    })())
    const settled = await allSettledWithin<E.Either<unknown, unknown>>([...reads, ...writes], 120_000)
    const values = settled.map((s) => (s.status === 'fulfilled' ? s.value : E.left(s.reason)))
    expect(values.slice(0, 1000)).toEqual(Array.from({ length: 1000 }, (_, i) => E.right({ i, t: `v${i}` })))
    const acknowledged = values.slice(1000).filter(E.isRight).length
    expect(acknowledged).toBe(200)
    expect(await count(1000, 1199)).toBe(acknowledged)
    expect(await count(2000, 2199)).toBe(acknowledged)
  })
})
