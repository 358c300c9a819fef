/**
 * PostgreSQL under faults, on a throwaway server of its own (the first free port from 22432, a temp dir): the server
 * killed under load and started again, sessions terminated during statements and between the
 * batches of a stream, and a pool whose every connection is held.
 *
 * Asserted each time: every call ends with a result or a typed error within a bound, every
 * acknowledged write is present afterwards, nothing is half applied, and the pool is back to its
 * full size. RECORDKIT_SOAK=1 runs the restart cycle longer and more often.
 */
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { type Backend, connect, sql } from 'recordkit'
import { postgres } from 'recordkit/dialects/postgres'
import { postgresJs, type PostgresJsOptions } from 'recordkit/drivers/postgres'
import { run } from 'recordkit/promise'
import { throwawayAvailable, throwawayPostgres } from '../support/throwaway.js'
import { expectPoolTimeout, expectPoolWhole, restartUnderLoad, sleep, useServer } from './load.js'

const PORT = 22432
const soak = process.env.RECORDKIT_SOAK === '1'
const available = throwawayAvailable('postgres', 'PostgreSQL fault tests')

describe.skipIf(!available)('PostgreSQL under faults', () => {
  const { server, backend } = useServer(() => throwawayPostgres(PORT), (url, o: Omit<PostgresJsOptions, 'url'> = {}) => run(connect(postgresJs({ url, ...o }), postgres)))
  /** Terminate every session of the application name but the caller's. */
  const terminate = async (admin: Backend, app: string): Promise<number> =>
    (await run(admin.all(sql`SELECT pg_terminate_backend(pid) AS k FROM pg_stat_activity WHERE application_name = ${app} AND pid <> pg_backend_pid()`))).length

  it('a server killed under load and started again: every call ends, acknowledged writes stay, the pool comes back whole', async () => {
    const max = 8
    const db = await backend({ max, acquireTimeout: 5_000, connectTimeout: 5 })
    await run(db.execute(sql`CREATE TABLE faults_load (id int PRIMARY KEY, w int NOT NULL)`))
    await restartUnderLoad(db, server(), 'faults_load', soak ? 5 : 1, 11_000)
    await expectPoolWhole(db, max, sql`SELECT pg_backend_pid() AS id, pg_sleep(0.2)`)
  }, 120_000)

  it('a session terminated during a statement fails that statement with ConnectionError, and the next statements succeed', async () => {
    const db = await backend({ max: 1, applicationName: 'faults_victim' })
    const admin = await backend({ max: 1, applicationName: 'faults_admin' })
    for (const place of ['pool', 'transaction'] as const) {
      await run(db.all(sql`SELECT 1 AS warm`))
      const slow = place === 'pool'
        ? db.execute(sql`SELECT pg_sleep(5)`)()
        : db.transaction((tx) => tx.execute(sql`SELECT pg_sleep(5)`))()
      await sleep(300)
      expect(await terminate(admin, 'faults_victim')).toBe(1)
      const r = await slow
      expect(E.isLeft(r) && r.left._tag).toBe('ConnectionError')
      for (let i = 0; i < 3; i++) expect(await run(db.all(sql`SELECT ${i}::int AS i`))).toEqual([{ i }])
    }
  }, 60_000)

  it('a stream whose session is terminated between batches ends with ConnectionError, never early without a word', async () => {
    const db = await backend({ max: 2, applicationName: 'faults_stream' })
    const admin = await backend({ max: 1, applicationName: 'faults_admin2' })
    await run(db.execute(sql`CREATE TABLE faults_stream AS SELECT g AS id FROM generate_series(1, 5000) g`))
    for (const [at, pause] of [[100, 0], [100, 200], [250, 200], [50, 200]] as const) {
      let n = 0
      let failure: unknown
      try {
        for await (const _ of db.stream(sql`SELECT id FROM faults_stream ORDER BY id`, { batchSize: 100 })) {
          if (++n === at) {
            await terminate(admin, 'faults_stream')
            if (pause > 0) await sleep(pause)
          }
        }
      } catch (e) {
        failure = e
      }
      expect(n, 'the stream read every row although its session was terminated').toBeLessThan(5000)
      expect((failure as { _tag?: string })?._tag).toBe('ConnectionError')
      expect(await run(db.all(sql`SELECT 1 AS one`))).toEqual([{ one: 1 }])
    }
  }, 60_000)

  it('with every connection held, a transaction and a statement wait acquireTimeout, then fail with PoolTimeout; nothing leaks', async () => {
    await expectPoolTimeout(await backend({ max: 2, acquireTimeout: 300 }))
  }, 60_000)
})
