/**
 * MariaDB under faults, on a throwaway server of its own (the first free port from 23307, a temp dir): the server
 * killed under load and started again, connections killed during statements and between the
 * rows of a stream, and a pool whose every connection is held.
 *
 * Asserted each time: every call ends with a result or a typed error within a bound, every
 * acknowledged write is present afterwards, nothing is half applied, and the pool is back to its
 * full size. RECORDKIT_SOAK=1 runs the restart cycle longer and more often.
 */
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { type Backend, connect, sql } from 'recordkit'
import { mariadb } from 'recordkit/dialects/mysql'
import { mysql2, type Mysql2Options } from 'recordkit/drivers/mysql2'
import { run } from 'recordkit/promise'
import { throwawayMariadb, throwawayAvailable } from '../support/throwaway.js'
import { expectPoolTimeout, expectPoolWhole, restartUnderLoad, sleep, useServer } from './load.js'

const PORT = 23307
const soak = process.env.RECORDKIT_SOAK === '1'
const available = throwawayAvailable('mariadb', 'MariaDB fault tests')

describe.skipIf(!available)('MariaDB under faults', () => {
  const { server, backend } = useServer(() => throwawayMariadb(PORT), (url, o: Omit<Mysql2Options, 'url'> = {}) => run(connect(mysql2({ url, ...o }), mariadb)))
  /** Kill every connection running a statement that starts with `prefix`. */
  const killRunning = async (admin: Backend, prefix: string): Promise<number> => {
    const ids = await run(admin.all<{ id: number | string }>(sql`SELECT id FROM information_schema.processlist WHERE info LIKE ${`${prefix}%`}`))
    for (const r of ids) await run(admin.execute(sql.raw(`KILL ${Number(r.id)}`)))
    return ids.length
  }

  it('a server killed under load and started again: every call ends, acknowledged writes stay, the pool comes back whole', async () => {
    const max = 8
    const db = await backend({ max, acquireTimeout: 5_000, pool: { connectTimeout: 5_000 } })
    await run(db.execute(sql`CREATE TABLE faults_load (id INT PRIMARY KEY, w INT NOT NULL)`))
    await restartUnderLoad(db, server(), 'faults_load', soak ? 5 : 1, 11_000)
    await expectPoolWhole(db, max, sql`SELECT CONNECTION_ID() AS id, SLEEP(0.2) AS s`)
  }, 120_000)

  it('a connection killed during a statement fails that statement with ConnectionError, and the next statements succeed', async () => {
    const db = await backend({ max: 1 })
    const admin = await backend({ max: 1 })
    for (const place of ['pool', 'transaction'] as const) {
      await run(db.all(sql`SELECT 1 AS warm`))
      const slow = place === 'pool'
        ? db.execute(sql`SELECT SLEEP(5) AS victim`)()
        : db.transaction((tx) => tx.execute(sql`SELECT SLEEP(5) AS victim`))()
      await sleep(300)
      expect(await killRunning(admin, 'SELECT SLEEP(5) AS victim')).toBe(1)
      const r = await slow
      expect(E.isLeft(r) && r.left._tag).toBe('ConnectionError')
      for (let i = 0; i < 3; i++) expect(await run(db.all(sql`SELECT ${i} AS i`))).toEqual([{ i }])
    }
  }, 60_000)

  it('a stream whose connection is killed mid-way ends with ConnectionError, never hangs', async () => {
    const db = await backend({ max: 2 })
    const admin = await backend({ max: 1 })
    // Rows wide enough that the server is still sending when the connection is killed.
    await run(db.execute(sql`CREATE TABLE faults_stream (id INT PRIMARY KEY, pad TEXT)`))
    await run(db.execute(sql.raw("INSERT INTO faults_stream SELECT seq, REPEAT('x', 2000) FROM seq_1_to_20000")))
    for (const pause of [0, 200]) {
      let n = 0
      const read = (async () => {
        try {
          for await (const _ of db.stream(sql`SELECT id, pad FROM faults_stream ORDER BY id`, { batchSize: 100 })) {
            if (++n === 150) {
              expect(await killRunning(admin, 'SELECT id, pad FROM faults_stream')).toBe(1)
              if (pause > 0) await sleep(pause)
            }
          }
          return undefined
        } catch (e) {
          return e
        }
      })()
      const failure = await Promise.race([read, sleep(10_000).then(() => 'still pending after 10 s')])
      expect((failure as { _tag?: string })?._tag).toBe('ConnectionError')
      expect(n).toBeLessThan(20000)
      expect(await run(db.all(sql`SELECT 1 AS one`))).toEqual([{ one: 1 }])
    }
  }, 60_000)

  it('with every connection held, a transaction and a statement wait acquireTimeout, then fail with PoolTimeout; nothing leaks', async () => {
    await expectPoolTimeout(await backend({ max: 2, acquireTimeout: 300 }))
  }, 60_000)
})
