/**
 * withReplicas on a real PostgreSQL streaming replica (pg_basebackup -R, a second port):
 * routing, replication lag seen and handled, the replica stopped under load and brought back.
 */
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connect, run, sql, type Backend } from 'recordkit'
import { postgres } from 'recordkit/dialects/postgres'
import { postgresJs } from 'recordkit/drivers/postgres'
import { postgresReplicaCheck, withReplicas, type ReplicatedBackend } from 'recordkit/scale-out'
import { allSettledWithin, clusterAvailable, countTypeFetchRejections, lockPorts, startPgPrimary, waitFor, type PgCluster, type PgServer } from '../support/cluster.js'

const PRIMARY_PORT = 21401
const STANDBY_PORT = 21402

describe.skipIf(!clusterAvailable('postgres'))('withReplicas on a PostgreSQL streaming replica', () => {
  let cluster: PgCluster
  let standby: PgServer
  let primary: Backend
  let db: ReplicatedBackend

  let release: (() => void) | undefined
  let typeFetch: ReturnType<typeof countTypeFetchRejections> | undefined

  beforeAll(async () => {
    release = await lockPorts('replicas')
    typeFetch = countTypeFetchRejections()
    cluster = startPgPrimary(PRIMARY_PORT)
    cluster.primary.psql('CREATE TABLE item (id int PRIMARY KEY, note text NOT NULL)')
    standby = cluster.standby(STANDBY_PORT)
    primary = await run(connect(postgresJs({ url: cluster.primary.url(), max: 8 }), postgres))
    const replica = await run(connect(postgresJs({ url: standby.url(), max: 8, connectTimeout: 2 }), postgres))
    db = withReplicas(primary, [replica], { readYourWritesMs: 60_000, retryAfterMs: 50, checkEveryMs: 0, timeoutMs: 5000, check: postgresReplicaCheck(0) })
  }, 400_000)

  afterAll(async () => {
    await db?.close()()
    cluster?.destroy()
    release?.()
    if ((typeFetch?.seen() ?? 0) > 0) console.warn(`postgres.js left ${typeFetch?.seen()} type-fetch rejection(s) unhandled while the replica was stopped`)
    typeFetch?.stop()
  })

  const onStandby = (): Promise<boolean> => db.scope(async () => (await run(db.all<{ s: boolean }>(sql`SELECT pg_is_in_recovery() AS s`)))[0].s)
  const caughtUp = (): boolean => standby.psql('SELECT pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn()').trim() === 't'

  it('sends reads to the replica, and writes, locking reads and transactions to the primary', async () => {
    expect(await onStandby()).toBe(true)
    await db.scope(async () => {
      expect((await run(db.all<{ s: boolean }>(sql`SELECT pg_is_in_recovery() AS s FROM item FOR UPDATE`))).length).toBe(0)
      const inTx = await run(db.transaction((tx) => tx.all<{ s: boolean }>(sql`SELECT pg_is_in_recovery() AS s`)))
      expect(inTx[0].s).toBe(false)
      await run(db.execute(sql`INSERT INTO item VALUES (1, 'one')`))
      // Read-your-writes: after a write, this scope reads from the primary.
      expect((await run(db.all<{ s: boolean }>(sql`SELECT pg_is_in_recovery() AS s`)))[0].s).toBe(false)
    })
    // A write inside a scope does not pin reads outside it.
    expect(await onStandby()).toBe(true)
    const e = await db.scope(() => db.execute(sql`INSERT INTO item VALUES (1, 'again')`)())
    expect(E.isLeft(e) && e.left._tag).toBe('UniqueViolation')
  })

  it('shows replication lag, and a lag check sends reads to the primary until the replica catches up', async () => {
    await waitFor('replica caught up', caughtUp)
    standby.psql('SELECT pg_wal_replay_pause()')
    try {
      await db.scope(() => run(db.execute(sql`INSERT INTO item VALUES (2, 'two')`)))
      await waitFor('WAL received, not replayed', () => !caughtUp())
      const stale = await db.scope(() => run(db.all(sql`SELECT id FROM item WHERE id = 2`)))
      expect(stale).toEqual([]) // the replica lags: the row is not there yet
      const [health] = await db.checkReplicas()
      expect(health.healthy).toBe(false)
      expect(health.lastError?._tag).toBe('ConnectionError')
      const fresh = await db.scope(() => run(db.all(sql`SELECT id FROM item WHERE id = 2`)))
      expect(fresh).toEqual([{ id: 2 }]) // read from the primary while the replica is out
    } finally {
      standby.psql('SELECT pg_wal_replay_resume()')
    }
    await waitFor('replica caught up', caughtUp)
    expect((await db.checkReplicas())[0].healthy).toBe(true)
    expect(await db.scope(() => run(db.all(sql`SELECT id FROM item WHERE id = 2`)))).toEqual([{ id: 2 }])
    expect(await onStandby()).toBe(true)
  })

  it('keeps serving when the replica stops mid-load, loses no acknowledged write, and uses the replica again when it is back', async () => {
    const acknowledged: number[] = []
    const failures: string[] = []
    let stopped = false
    const worker = (w: number) => db.scope(async () => {
      for (let i = 0; i < 40; i++) {
        const id = 1000 + w * 100 + i
        const wr = await db.execute(sql`INSERT INTO item VALUES (${id}, 'load')`)()
        if (E.isRight(wr)) acknowledged.push(id)
        else failures.push(`write ${wr.left._tag}`)
        // A fresh scope per read, so reads go to the replica when it is up.
        const rd = await db.scope(() => db.all(sql`SELECT count(*)::int AS n FROM item`)())
        if (E.isLeft(rd)) failures.push(`read ${rd.left._tag}`)
        if (w === 0 && i === 10 && !stopped) {
          stopped = true
          standby.stop('fast')
        }
      }
    })
    const results = await allSettledWithin(Array.from({ length: 8 }, (_, w) => worker(w)), 60_000)
    expect(results.every((r) => r.status === 'fulfilled')).toBe(true)
    expect(failures).toEqual([]) // reads fell back to the primary; writes never went to the replica
    expect(db.health()[0].healthy).toBe(false)
    const stored = (await run(primary.all<{ id: number }>(sql`SELECT id FROM item WHERE id >= 1000`))).map((r) => r.id)
    expect(new Set(stored)).toEqual(new Set(acknowledged))
    expect(acknowledged.length).toBe(8 * 40)

    standby.start()
    await waitFor('replica back and healthy', async () => (await db.checkReplicas())[0].healthy)
    const before = db.health()[0].reads
    expect(await onStandby()).toBe(true)
    expect(db.health()[0].reads).toBe(before + 1)
    await waitFor('replica caught up', caughtUp)
    expect((await db.scope(() => run(db.all<{ n: number }>(sql`SELECT count(*)::int AS n FROM item WHERE id >= 1000`))))[0].n).toBe(acknowledged.length)
  })
})
