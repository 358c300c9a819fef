/**
 * Multi-host failover with postgres.js: a URL listing a standby and a primary with
 * target_session_attrs=read-write; the primary stops, the standby is promoted, and writes
 * resume on it, with typed errors in between and no acknowledged write lost.
 */
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connect, run, sql, type Backend, type DbError } from 'recordkit'
import { postgres } from 'recordkit/dialects/postgres'
import { postgresJs } from 'recordkit/drivers/postgres'
import { allSettledWithin, clusterAvailable, lockPorts, startPgPrimary, waitFor, type PgCluster, type PgServer } from '../support/cluster.js'

const PRIMARY_PORT = 21440
const STANDBY_PORT = 21441

/**
 * How a write was refused: the connection lost, or no usable host in time. Never a read-only
 * server's refusal (SQLSTATE 25006): the driver closes a session opened on the standby before any
 * statement is written to it (see failover-bound.test.ts).
 */
const REFUSED: readonly string[] = ['ConnectionError', 'PoolTimeout']
/** The error's tag, with the server's code for any other tag (so a failure shows what came back). */
const kindOf = (e: DbError): string => (e._tag === 'ConnectionError' || e._tag === 'PoolTimeout' ? e._tag : `${e._tag} ${String(e.code)}`)

describe.skipIf(!clusterAvailable('postgres'))('multi-host failover (target_session_attrs=read-write)', () => {
  let cluster: PgCluster
  let standby: PgServer
  let db: Backend

  let release: (() => void) | undefined

  beforeAll(async () => {
    release = await lockPorts('failover')
    // Synchronous replication: a commit is acknowledged once the standby has it, so promoting
    // the standby cannot lose an acknowledged write.
    cluster = startPgPrimary(PRIMARY_PORT, { synchronousStandbys: true })
    standby = cluster.standby(STANDBY_PORT)
    cluster.primary.psql('CREATE TABLE ledger (id int PRIMARY KEY, worker int NOT NULL)')
    // The standby is listed first: read-write must skip it.
    const url = `postgres://postgres@127.0.0.1:${STANDBY_PORT},127.0.0.1:${PRIMARY_PORT}/postgres?target_session_attrs=read-write`
    db = await run(connect(postgresJs({ url, max: 4, connectTimeout: 2, acquireTimeout: 2000, reconnectDelay: () => 200 }), postgres))
  }, 400_000)

  afterAll(async () => {
    await db?.close()()
    cluster?.destroy()
    release?.()
  })

  it('connects to the primary, not the standby listed before it', async () => {
    const [row] = await run(db.all<{ port: number; standby: boolean }>(sql`SELECT inet_server_port() AS port, pg_is_in_recovery() AS standby`))
    expect(row).toEqual({ port: PRIMARY_PORT, standby: false })
  })

  it('resumes writes on the promoted standby within a bounded time, with typed errors meanwhile', async () => {
    const acknowledged: number[] = []
    const errors: string[] = []
    let promotedAt = 0
    let firstAfterPromotion = 0
    let stop = false
    let next = 0
    const worker = async (w: number) => {
      while (!stop) {
        const id = next++
        const r = await db.execute(sql`INSERT INTO ledger VALUES (${id}, ${w})`)()
        if (E.isRight(r)) {
          acknowledged.push(id)
          if (promotedAt > 0 && firstAfterPromotion === 0) firstAfterPromotion = Date.now()
        } else {
          errors.push(kindOf(r.left))
          await new Promise((res) => setTimeout(res, 50))
        }
      }
    }
    const workers = Array.from({ length: 4 }, (_, w) => worker(w))
    await waitFor('writes on the first primary', () => acknowledged.length >= 50)
    cluster.primary.stop('fast')
    await waitFor('writes failing while no primary is up', () => errors.length >= 4, 30_000)
    // With no writable host, a statement gives up after acquireTimeout without having run (or at
    // once, while the driver knows the server is unreachable), and so does a transaction.
    const orphan = await db.execute(sql`INSERT INTO ledger VALUES (${-1}, ${-1})`)()
    expect(REFUSED).toContain(E.isLeft(orphan) ? kindOf(orphan.left) : 'a write acknowledged with no primary up')
    const tx = await db.transaction((t) => t.execute(sql`INSERT INTO ledger VALUES (${-2}, ${-2})`))()
    expect(REFUSED).toContain(E.isLeft(tx) ? kindOf(tx.left) : 'a transaction committed with no primary up')
    standby.promote()
    promotedAt = Date.now()
    await waitFor('writes on the promoted standby', () => firstAfterPromotion > 0, 30_000)
    const resumedAfter = acknowledged.length
    await waitFor('more writes on the new primary', () => acknowledged.length >= resumedAfter + 50, 30_000)
    stop = true
    const settled = await allSettledWithin(workers, 30_000)
    expect(settled.every((s) => s.status === 'fulfilled')).toBe(true)

    expect(firstAfterPromotion - promotedAt).toBeLessThan(30_000)
    // Every failure in between was typed: the connection lost, or no usable host in time.
    expect(errors.length).toBeGreaterThan(0)
    expect(errors.filter((t) => !REFUSED.includes(t))).toEqual([])
    const [where] = await run(db.all<{ port: number; standby: boolean }>(sql`SELECT inet_server_port() AS port, pg_is_in_recovery() AS standby`))
    expect(where).toEqual({ port: STANDBY_PORT, standby: false })
    // No acknowledged write is lost: each is on the new primary.
    const stored = new Set((await run(db.all<{ id: number }>(sql`SELECT id FROM ledger`))).map((r) => r.id))
    expect(acknowledged.filter((id) => !stored.has(id))).toEqual([])
    // The statements that gave up never ran, not even once a primary was back.
    expect(stored.has(-1) || stored.has(-2)).toBe(false)
  }, 120_000)
})
