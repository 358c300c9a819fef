/**
 * MariaDB under faults, on a throwaway server of its own (port 33307, a temp dir): the server
 * killed under load and started again, connections killed during statements and between the
 * rows of a stream, and a pool whose every connection is held.
 *
 * Asserted each time: every call ends with a result or a typed error within a bound, every
 * acknowledged write is present afterwards, nothing is half applied, and the pool is back to its
 * full size. RECORDKIT_SOAK=1 runs the restart cycle longer and more often.
 */
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Backend, connect } from '../../src/compose.js'
import { mariadb } from '../../src/dialects/mysql.js'
import { mysql2, type Mysql2Options } from '../../src/drivers/mysql2.js'
import { run } from '../../src/promise.js'
import { sql } from '../../src/sql.js'
import { throwawayMariadb, throwawayMissing, type Throwaway } from '../support/throwaway.js'
import { expectAcknowledgedWrites, sleep, startLoad } from './load.js'

const PORT = 33307
const soak = process.env.RECORDKIT_SOAK === '1'
const missing = throwawayMissing('mariadb')
if (missing !== undefined) {
  if (process.env.RECORDKIT_REQUIRE_SERVERS === '1') throw new Error(`MariaDB fault tests cannot run: ${missing}`)
  console.warn(`\n*** SKIPPING MariaDB fault tests: ${missing} ***\n`)
}

describe.skipIf(missing !== undefined)('MariaDB under faults', () => {
  let server: Throwaway
  const opened: Backend[] = []
  const backend = async (o: Omit<Mysql2Options, 'url'> = {}): Promise<Backend> => {
    const db = await run(connect(mysql2({ url: server.url, ...o }), mariadb))
    opened.push(db)
    return db
  }
  /** Kill every connection running a statement that starts with `prefix`. */
  const killRunning = async (admin: Backend, prefix: string): Promise<number> => {
    const ids = await run(admin.all<{ id: number | string }>(sql`SELECT id FROM information_schema.processlist WHERE info LIKE ${`${prefix}%`}`))
    for (const r of ids) await run(admin.execute(sql.raw(`KILL ${Number(r.id)}`)))
    return ids.length
  }

  beforeAll(async () => {
    server = await throwawayMariadb(PORT)
  }, 60_000)
  afterAll(async () => {
    for (const db of opened) await db.close({ timeout: 100 })()
    await server?.stop()
  }, 60_000)

  it('a server killed under load and started again: every call ends, acknowledged writes stay, the pool comes back whole', async () => {
    const max = 8
    const db = await backend({ max, acquireTimeout: 5_000, pool: { connectTimeout: 5_000 } })
    await run(db.execute(sql`CREATE TABLE faults_load (id INT PRIMARY KEY, w INT NOT NULL)`))
    for (let cycle = 0; cycle < (soak ? 5 : 1); cycle++) {
      const load = startLoad(db, 'faults_load', 50)
      await sleep(soak ? 3_000 : 600)
      await server.kill()
      await sleep(1_000)
      const during = load.calls().length
      await server.start()
      await sleep(soak ? 3_000 : 1_000)
      const { settled, calls } = await load.stop(15_000)
      expect(settled, 'a call was still pending 15 s after the load stopped').toBe(true)
      expect(Math.max(...calls.map((c) => c.ms))).toBeLessThan(11_000)
      for (const o of new Set(calls.map((c) => c.outcome))) expect(['ok', 'ConnectionError', 'PoolTimeout']).toContain(o)
      expect(calls.slice(0, during).some((c) => c.outcome === 'ConnectionError')).toBe(true)
      expect(calls.slice(during).some((c) => c.outcome === 'ok')).toBe(true)
      await expectAcknowledgedWrites(db, 'faults_load', calls)
    }
    const holders = await Promise.all(Array.from({ length: max }, () =>
      db.transaction((tx) => tx.all(sql`SELECT CONNECTION_ID() AS id, SLEEP(0.2) AS s`))()))
    expect(holders.every(E.isRight)).toBe(true)
    expect(new Set(holders.map((h) => (E.isRight(h) ? Number(h.right[0].id) : 0))).size).toBe(max)
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
    const db = await backend({ max: 2, acquireTimeout: 300 })
    await run(db.execute(sql`CREATE TABLE faults_pool (id INT)`))
    let open!: () => void
    const hold = new Promise<void>((r) => { open = r })
    const holders = [1, 2].map((id) => db.transaction((tx) => async () => {
      await run(tx.execute(sql`INSERT INTO faults_pool VALUES (${id})`))
      await hold
      return E.right(id)
    })())
    await sleep(100)
    const started = performance.now()
    const [third, statement] = await Promise.all([
      db.transaction((tx) => tx.execute(sql`INSERT INTO faults_pool VALUES (3)`))(),
      db.execute(sql`INSERT INTO faults_pool VALUES (4)`)(),
    ])
    expect(E.isLeft(third) && third.left._tag).toBe('PoolTimeout')
    expect(E.isLeft(statement) && statement.left._tag).toBe('PoolTimeout')
    expect(performance.now() - started).toBeGreaterThanOrEqual(250)
    open()
    expect((await Promise.all(holders)).map((h) => E.isRight(h) && h.right)).toEqual([1, 2])
    await sleep(100)
    expect((await run(db.all<{ id: number }>(sql`SELECT id FROM faults_pool ORDER BY id`))).map((r) => r.id)).toEqual([1, 2])
    const again = await Promise.all([5, 6].map((id) => db.transaction((tx) => tx.execute(sql`INSERT INTO faults_pool VALUES (${id})`))()))
    expect(again.every(E.isRight)).toBe(true)
  }, 60_000)
})
