/**
 * A server that stops answering without closing the connection (a frozen host, a network that
 * drops packets), on PostgreSQL and MariaDB, through a proxy that stops passing bytes either way
 * while keeping every socket open (`freeze`, see faults-proxy.ts). A statement sent into that
 * silence ends after the driver's `answerTimeout` with a ConnectionError whose outcome is
 * unknown; its connection is closed and never used again; in a transaction the later statements
 * fail typed and the rollback ends; a COMMIT says its outcome is unknown; a stream ends typed;
 * `close` ends. A statement the server stops itself (its own statement limit) is still the
 * server's StatementTimeout, and a slow statement under the bound is not cut.
 */
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type Backend, connect, type DbError, isDbError, sql } from 'recordkit'
import { mariadb } from 'recordkit/dialects/mysql'
import { postgres } from 'recordkit/dialects/postgres'
import { mysql2 } from 'recordkit/drivers/mysql2'
import { postgresJs } from 'recordkit/drivers/postgres'
import { run } from 'recordkit/promise'
import { faultProxy, type FaultProxy } from './faults-proxy.js'
import { MYSQL_URL, PG_URL, serverAvailable } from './support/servers.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** The bound the frozen cases use (ms). */
const BOUND = 800

const ENGINES = [
  {
    name: 'PostgreSQL',
    url: PG_URL,
    up: await serverAvailable('postgres'),
    make: (url: string, o: { readonly answerTimeout?: number; readonly max?: number; readonly statementLimit?: string } = {}) =>
      run(connect(postgresJs({
        url,
        max: o.max ?? 1,
        acquireTimeout: 1_000,
        ...(o.answerTimeout === undefined ? {} : { answerTimeout: o.answerTimeout }),
        ...(o.statementLimit === undefined ? {} : { connection: { statement_timeout: o.statementLimit } }),
      }), postgres)),
    session: sql`SELECT pg_backend_pid() AS id`,
    sleep: (s: number) => sql`SELECT 1 AS slept FROM pg_sleep(${s})`,
    // The server's own limit, for one statement.
    limited: sql`SELECT pg_sleep(3)`,
    rows: (n: number) => sql`SELECT g AS n FROM generate_series(1, ${n}) AS g`,
  },
  {
    name: 'MariaDB',
    url: MYSQL_URL,
    up: await serverAvailable('mariadb'),
    make: (url: string, o: { readonly answerTimeout?: number; readonly max?: number } = {}) =>
      run(connect(mysql2({ url, max: o.max ?? 1, acquireTimeout: 1_000, ...(o.answerTimeout === undefined ? {} : { answerTimeout: o.answerTimeout }) }), mariadb)),
    session: sql`SELECT CONNECTION_ID() AS id`,
    sleep: (s: number) => sql`SELECT SLEEP(${s}) + 1 AS slept`,
    limited: sql.raw('SET STATEMENT max_statement_time = 1 FOR SELECT SLEEP(3)'),
    rows: (n: number) => sql.raw(`SELECT seq AS n FROM seq_1_to_${n}`),
  },
] as const

const left = (r: E.Either<unknown, unknown>): DbError => {
  if (E.isRight(r)) throw new Error(`expected a failure, got ${JSON.stringify(r.right)}`)
  return r.left as DbError
}

/** The error of a statement that heard no answer within answerTimeout. */
const expectAnswerLost = (e: DbError): void => {
  expect(e._tag).toBe('ConnectionError')
  expect(isDbError(e, 'ConnectionError') && e.outcome).toBe('unknown')
  expect(isDbError(e, 'ConnectionError') && e.sent).toBeUndefined()
  expect(e.code).toBe('ANSWER_TIMEOUT')
  expect(e.message).toContain('answerTimeout')
}

for (const engine of ENGINES) {
  describe.skipIf(!engine.up)(`${engine.name}: a server that stops answering`, () => {
    let proxy: FaultProxy
    const opened: Backend[] = []
    const open = async (o: Parameters<typeof engine.make>[1] = {}): Promise<Backend> => {
      const db = await engine.make(proxy.url(engine.url), o)
      opened.push(db)
      return db
    }
    const sessionOf = async (db: Backend): Promise<string> => String((await run(db.all<{ id: unknown }>(engine.session)))[0]!.id)

    beforeAll(async () => {
      proxy = await faultProxy(engine.url)
    })
    afterEach(async () => {
      proxy.thaw()
      for (const db of opened.splice(0)) await db.close({ timeout: 200 })()
    })
    afterAll(async () => {
      await proxy?.close()
    })

    it('a point select sent into the silence ends after answerTimeout, outcome unknown; once the network passes again the pool serves on a new connection', async () => {
      const db = await open({ answerTimeout: BOUND })
      const before = await sessionOf(db)
      proxy.freeze()
      const started = performance.now()
      const e = left(await db.all(sql`SELECT 1 AS one`)())
      const took = performance.now() - started
      expectAnswerLost(e)
      expect(e.sql).toBe('SELECT 1 AS one')
      // Not before the bound; within it and the watchdog's look (room for a loaded machine).
      expect(took).toBeGreaterThanOrEqual(BOUND - 50)
      expect(took).toBeLessThan(BOUND + 4_000)
      proxy.thaw()
      // The connection it went out on was closed, never used again: the next one is another session.
      const after = await sessionOf(db)
      expect(after).not.toBe(before)
      expect(await run(db.all(sql`SELECT 2 AS two`))).toEqual([{ two: 2 }])
    }, 15_000)

    it('statements sent together into the silence all end, none waits for ever', async () => {
      // One connection: on PostgreSQL they go out together (pipelined), on MariaDB one after another.
      const db = await open({ answerTimeout: BOUND })
      await run(db.all(sql`SELECT 1 AS one`))
      proxy.freeze()
      const results = await Promise.all([1, 2, 3, 4, 5].map((i) => db.all(sql`SELECT ${i} AS i`)()))
      // The first is the one that waited for its answer. Those sent behind it fail with its
      // connection; those that waited for a connection (a new one cannot open either) give up
      // after acquireTimeout, unsent.
      expectAnswerLost(left(results[0]!))
      for (const r of results.slice(1)) expect(['ConnectionError', 'PoolTimeout']).toContain(left(r)._tag)
      proxy.thaw()
      expect(await run(db.all(sql`SELECT 6 AS six`))).toEqual([{ six: 6 }])
    }, 15_000)

    it('in a transaction: the statement fails, the later ones fail typed, the rollback ends, the pool serves again', async () => {
      const db = await open({ answerTimeout: BOUND })
      let frozen: DbError | undefined
      let later: DbError | undefined
      const r = await db.transaction((tx) => async () => {
        await run(tx.all(sql`SELECT 1 AS one`))
        proxy.freeze()
        frozen = left(await tx.all(sql`SELECT 2 AS two`)())
        later = left(await tx.all(sql`SELECT 3 AS three`)())
        return E.right('went on')
      })()
      expectAnswerLost(frozen!)
      // The connection is gone: nothing more is sent on it.
      expect(later!._tag).toBe('ConnectionError')
      expect(isDbError(later!, 'ConnectionError') && later.sent).toBe(false)
      // The transaction did not commit (its COMMIT is not sent on a connection already gone).
      const e = left(r)
      expect(['ConnectionError', 'TransactionError']).toContain(e._tag)
      expect(isDbError(e, 'ConnectionError') && e.outcome).not.toBe('unknown')
      proxy.thaw()
      expect(await run(db.transaction((tx) => tx.all(sql`SELECT 4 AS four`)))).toEqual([{ four: 4 }])
    }, 15_000)

    it('a callback that fails after the lost statement: the rollback ends, the error is the lost one', async () => {
      const db = await open({ answerTimeout: BOUND })
      const r = await db.transaction((tx) => async () => {
        await run(tx.all(sql`SELECT 1 AS one`))
        proxy.freeze()
        return tx.all(sql`SELECT 2 AS two`)()
      })()
      expectAnswerLost(left(r))
      proxy.thaw()
      expect(await run(db.all(sql`SELECT 3 AS three`))).toEqual([{ three: 3 }])
    }, 15_000)

    it('a COMMIT sent into the silence says its outcome is unknown', async () => {
      const db = await open({ answerTimeout: BOUND })
      const r = await db.transaction((tx) => async () => {
        await run(tx.all(sql`SELECT 1 AS one`))
        proxy.freeze()
        return E.right('done')
      })()
      const e = left(r)
      expect(e._tag).toBe('ConnectionError')
      expect(isDbError(e, 'ConnectionError') && e.outcome).toBe('unknown')
      expect(e.message).toContain('during COMMIT, so the outcome is unknown')
      expect(e.sql).toBe('COMMIT')
      proxy.thaw()
      expect(await run(db.all(sql`SELECT 2 AS two`))).toEqual([{ two: 2 }])
    }, 15_000)

    it('a stream frozen part way ends with the typed error, not with fewer rows', async () => {
      const db = await open({ answerTimeout: BOUND })
      let seen = 0
      let failure: unknown
      try {
        for await (const _ of db.stream(engine.rows(200_000), { batchSize: 100 })) {
          if (++seen === 100) proxy.freeze()
        }
      } catch (e) {
        failure = e
      }
      expect(seen).toBeGreaterThanOrEqual(100)
      expect(seen).toBeLessThan(200_000)
      expect(isDbError(failure)).toBe(true)
      expectAnswerLost(failure as DbError)
      proxy.thaw()
      expect(await run(db.all(sql`SELECT 1 AS one`))).toEqual([{ one: 1 }])
    }, 15_000)

    it('a stream whose caller holds a batch longer than answerTimeout is not cut: only the wait for the server counts', async () => {
      const db = await open({ answerTimeout: BOUND })
      let seen = 0
      for await (const _ of db.stream(engine.rows(300), { batchSize: 100 })) {
        if (++seen === 100) await sleep(BOUND + 700)
      }
      expect(seen).toBe(300)
    }, 15_000)

    it('close() while a statement waits in the silence ends within its timeout', async () => {
      // A bound far away: close is what ends the statement.
      const db = await open({ answerTimeout: 60_000 })
      await run(db.all(sql`SELECT 1 AS one`))
      proxy.freeze()
      const held = db.all(sql`SELECT 2 AS two`)()
      await sleep(100)
      const started = performance.now()
      expect(await db.close({ timeout: 300 })()).toEqual(E.right(undefined))
      expect(performance.now() - started).toBeLessThan(3_000)
      expect(left(await held)._tag).toBe('ConnectionError')
    }, 15_000)

    it('a slow statement under the bound is not cut', async () => {
      const db = await open({ answerTimeout: 3_000 })
      expect(await run(db.all(engine.sleep(1)))).toEqual([{ slept: 1 }])
    }, 15_000)

    it("a statement past the server's own limit is the server's StatementTimeout, not the client's error", async () => {
      // PostgreSQL: statement_timeout given to the driver, so its default bound is that and a margin;
      // MariaDB: max_statement_time for the statement, under a bound of 3 s.
      const db = engine.name === 'PostgreSQL' ? await open({ statementLimit: '1s' }) : await open({ answerTimeout: 3_000 })
      const e = left(await db.all(engine.limited)())
      expect(e._tag).toBe('StatementTimeout')
      expect(await run(db.all(sql`SELECT 1 AS one`))).toEqual([{ one: 1 }])
    }, 15_000)
  })
}
