/**
 * A connection lost at the end of a transaction, on PostgreSQL and MariaDB, through a proxy that
 * loses exactly one thing (see faults-proxy.ts): the answer to COMMIT (the server committed, the
 * client never heard), the COMMIT itself (the server rolled back), the answer to a savepoint's
 * RELEASE. Each call ends with a typed error that says what is known of the outcome, the pool
 * serves again at once, and the database holds what the error says.
 */
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type Backend, connect, type DbError, isDbError, sql } from 'recordkit'
import { mariadb } from 'recordkit/dialects/mysql'
import { postgres } from 'recordkit/dialects/postgres'
import { mysql2 } from 'recordkit/drivers/mysql2'
import { postgresJs } from 'recordkit/drivers/postgres'
import { run } from 'recordkit/promise'
import { faultProxy, type FaultProxy } from './faults-proxy.js'
import { MYSQL_URL, PG_URL, serverAvailable } from './support/servers.js'

const TABLE = 'faults_commit_rows'
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const ENGINES = [
  { name: 'PostgreSQL', url: PG_URL, up: await serverAvailable('postgres'), make: (url: string, max = 2) => run(connect(postgresJs({ url, max, applicationName: 'faults_commit' }), postgres)) },
  { name: 'MariaDB', url: MYSQL_URL, up: await serverAvailable('mariadb'), make: (url: string, max = 2) => run(connect(mysql2({ url, max }), mariadb)) },
] as const

const left = (r: E.Either<unknown, unknown>): DbError => {
  if (E.isRight(r)) throw new Error(`expected a failure, got ${JSON.stringify(r.right)}`)
  return r.left as DbError
}

for (const engine of ENGINES) {
  describe.skipIf(!engine.up)(`${engine.name}: a connection lost at the end of a transaction`, () => {
    let proxy: FaultProxy
    let db: Backend
    let direct: Backend
    const t = sql.id(TABLE)
    const ids = async (): Promise<number[]> => (await run(direct.all<{ id: number }>(sql`SELECT id FROM ${t} ORDER BY id`))).map((r) => Number(r.id))
    /** The pool serves again: three transactions in a row through the proxy commit. */
    const serves = async (): Promise<void> => {
      for (const id of [100, 101, 102]) await run(db.transaction((tx) => tx.execute(sql`INSERT INTO ${t} (id) VALUES (${id})`)))
      expect((await ids()).filter((id) => id >= 100)).toEqual([100, 101, 102])
    }

    beforeAll(async () => {
      proxy = await faultProxy(engine.url)
      direct = await engine.make(engine.url)
      await run(direct.execute(sql`DROP TABLE IF EXISTS ${t}`))
      await run(direct.execute(sql`CREATE TABLE ${t} (id INT PRIMARY KEY)`))
      db = await engine.make(proxy.url(engine.url))
    })
    afterAll(async () => {
      await db?.close({ timeout: 200 })()
      await proxy?.close()
      await direct?.execute(sql`DROP TABLE IF EXISTS ${t}`)()
      await direct?.close()()
    })
    beforeEach(async () => {
      await run(direct.execute(sql`DELETE FROM ${t}`))
    })

    it('the answer to COMMIT is lost: ConnectionError saying the outcome is unknown; the row is committed', async () => {
      let cut: Promise<void> | undefined
      const r = await db.transaction((tx) => async () => {
        const w = await tx.execute(sql`INSERT INTO ${t} (id) VALUES (1)`)()
        // The next thing this transaction sends is its COMMIT.
        cut = proxy.loseAnswer()
        return w
      })()
      await cut
      const e = left(r)
      expect(e._tag).toBe('ConnectionError')
      expect(e.sql).toBe('COMMIT')
      expect(e.message).toMatch(/outcome is unknown/)
      expect(isDbError(e, 'ConnectionError') && e.outcome).toBe('unknown')
      expect(await ids()).toEqual([1])
      await serves()
    })

    it('the COMMIT never reaches the server: ConnectionError saying the outcome is unknown; nothing is committed', async () => {
      let cut: Promise<void> | undefined
      const r = await db.transaction((tx) => async () => {
        const w = await tx.execute(sql`INSERT INTO ${t} (id) VALUES (2)`)()
        cut = proxy.loseRequest()
        return w
      })()
      await cut
      const e = left(r)
      expect(e._tag).toBe('ConnectionError')
      expect(e.message).toMatch(/outcome is unknown/)
      expect(isDbError(e, 'ConnectionError') && e.outcome).toBe('unknown')
      expect(await ids()).toEqual([])
      await serves()
    })

    it('the answer to a savepoint RELEASE is lost: the nested call fails with ConnectionError, the transaction never reports a commit, nothing is committed', async () => {
      for (const recover of [false, true]) {
        let cut: Promise<void> | undefined
        let inner: E.Either<unknown, unknown> | undefined
        const r = await db.transaction((tx) => async () => {
          await run(tx.execute(sql`INSERT INTO ${t} (id) VALUES (3)`))
          inner = await tx.transaction((sp) => async () => {
            const w = await sp.execute(sql`INSERT INTO ${t} (id) VALUES (4)`)()
            cut = proxy.loseAnswer()
            return w
          })()
          // A callback that goes on from the failure must not see its transaction commit.
          return recover ? E.right('went on') : inner
        })()
        await cut
        expect(left(inner!)._tag).toBe('ConnectionError')
        const e = left(r)
        if (recover) {
          // The COMMIT is not sent: the transaction is known to be gone, and the error says so.
          expect(e._tag).toBe('TransactionError')
          expect(e.message).toMatch(/nothing of it was committed/)
          expect((e.cause as DbError)._tag).toBe('ConnectionError')
        } else {
          expect(e._tag).toBe('ConnectionError')
        }
        expect(await ids()).toEqual([])
        await serves()
        await run(direct.execute(sql`DELETE FROM ${t}`))
      }
    })

    it('the server ends the session of a transaction left idle: its COMMIT is refused unsent, saying nothing was committed', async () => {
      const r = await db.transaction((tx) => async () => {
        await run(tx.execute(sql`INSERT INTO ${t} (id) VALUES (6)`))
        if (engine.name === 'PostgreSQL') {
          await run(tx.execute(sql`SET LOCAL idle_in_transaction_session_timeout = '100ms'`))
          await sleep(400)
        } else {
          await run(tx.execute(sql`SET SESSION wait_timeout = 1`))
          await sleep(1_600)
        }
        return E.right(undefined)
      })()
      const e = left(r)
      expect(e._tag).toBe('ConnectionError')
      expect(isDbError(e, 'ConnectionError') && e.sent).toBe(false)
      expect(isDbError(e, 'ConnectionError') && e.outcome).toBeUndefined()
      expect(e.message).toMatch(/nothing of the transaction was committed/)
      expect(await ids()).toEqual([])
      await serves()
    }, 10_000)

    it('the controlled form: commit() whose answer is lost is a ConnectionError saying the outcome is unknown', async () => {
      const tx = await run(db.startTransaction())
      await run(tx.execute(sql`INSERT INTO ${t} (id) VALUES (5)`))
      const cut = proxy.loseAnswer()
      const e = left(await tx.commit()())
      await cut
      expect(e._tag).toBe('ConnectionError')
      expect(e.message).toMatch(/outcome is unknown/)
      expect(isDbError(e, 'ConnectionError') && e.outcome).toBe('unknown')
      expect(await ids()).toEqual([5])
      await serves()
    })

    it('a stream inside a transaction cut part way: its loop throws ConnectionError, the transaction never reports a commit, nothing is committed', async () => {
      for (const recover of [false, true]) {
        let n = 0
        let failure: unknown
        // Rows enough that the result is still coming when the connection is cut.
        const big = sql`SELECT ${sql.raw(engine.name === 'PostgreSQL' ? 'g AS id, repeat(\'x\', 200) AS pad FROM generate_series(1, 20000) g' : "seq AS id, REPEAT('x', 200) AS pad FROM seq_1_to_20000")}`
        const r = await db.transaction((tx) => async () => {
          await run(tx.execute(sql`INSERT INTO ${t} (id) VALUES (8)`))
          const cut = proxy.loseAnswer(undefined, 100_000)
          try {
            for await (const _ of tx.stream(big, { batchSize: 100 })) n++
          } catch (e) {
            failure = e
          }
          await cut
          if (!recover) return E.left(failure as DbError)
          await tx.execute(sql`INSERT INTO ${t} (id) VALUES (9)`)()
          return E.right('went on')
        })()
        expect((failure as DbError)._tag).toBe('ConnectionError')
        expect(n).toBeGreaterThan(0)
        expect(n).toBeLessThan(20000)
        expect(left(r)._tag).toBe(recover ? 'TransactionError' : 'ConnectionError')
        expect(await ids()).toEqual([])
        await serves()
        await run(direct.execute(sql`DELETE FROM ${t}`))
      }
    })

    it('a reserved connection (db.connection()) cut: its calls fail with ConnectionError, its release gives nothing dead back, and a pool of one serves again', async () => {
      const one = await engine.make(proxy.url(engine.url), 1)
      try {
        for (const how of ['request', 'answer'] as const) {
          const conn = await run(one.connection())
          await run(conn.execute(sql`INSERT INTO ${t} (id) VALUES (20)`))
          const cut = how === 'request' ? proxy.loseRequest() : proxy.loseAnswer()
          const first = await conn.execute(sql`SELECT 1 AS one`)()
          await cut
          expect(left(first)._tag).toBe('ConnectionError')
          // Its later calls, transactions included, fail at once without touching the dead connection.
          const later = await Promise.all([conn.execute(sql`SELECT 2 AS two`)(), conn.transaction((tx) => tx.execute(sql`SELECT 3 AS three`))()])
          for (const r of later) expect(left(r)._tag).toBe('ConnectionError')
          expect(E.isRight(await conn.release()())).toBe(true)
          // The connection is replaced: the next reservation and statements work.
          const again = await run(one.connection())
          expect(await run(again.all(sql`SELECT 4 AS four`))).toEqual([{ four: 4 }])
          await run(again.release())
          expect(await run(one.transaction((tx) => tx.all(sql`SELECT 5 AS five`)))).toEqual([{ five: 5 }])
          await run(direct.execute(sql`DELETE FROM ${t}`))
        }
      } finally {
        await one.close({ timeout: 200 })()
      }
    })

    it('a transaction cut by close({ timeout }): its COMMIT is refused unsent, saying nothing was committed', async () => {
      const own = await engine.make(engine.url)
      let resume!: () => void
      const paused = new Promise<void>((r) => { resume = r })
      const tx = own.transaction((x) => async () => {
        await run(x.execute(sql`INSERT INTO ${t} (id) VALUES (7)`))
        await paused
        return E.right(undefined)
      })()
      await sleep(50)
      await run(own.close({ timeout: 50 }))
      resume()
      const e = left(await tx)
      expect(e._tag).toBe('ConnectionError')
      expect(isDbError(e, 'ConnectionError') && e.sent).toBe(false)
      expect(e.message).toMatch(/nothing of the transaction was committed/)
      expect(await ids()).toEqual([])
    })
  })
}
