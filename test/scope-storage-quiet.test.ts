/**
 * The context that carries a transaction to the calls of its callback (an AsyncLocalStorage) is
 * switched off once no transaction or reserved connection has been open for a short while: on
 * Node 20 it otherwise hooks every promise of the process for good after the first transaction.
 * What must not change: inside a scope that stays open, however long, every call still runs on
 * the scope's connection; a callback that outlived its transaction and calls at once is still
 * refused; a scope opened after the switch-off works as before.
 */
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { compose, connect, run, sql, type Backend } from 'recordkit'
import { postgres } from 'recordkit/dialects/postgres'
import { sqlite } from 'recordkit/dialects/sqlite'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'
import { postgresJs } from 'recordkit/drivers/postgres'
import { scopeStorageEnabled } from '../src/compose.js'
import { PG_URL, serverAvailable } from './support/servers.js'

const postgresAvailable = await serverAvailable('postgres')
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
/** Longer than the quiet time (250 ms) and a look after it. */
const QUIET = 700

const switchedOff = async (): Promise<void> => {
  for (let i = 0; i < 40 && scopeStorageEnabled(); i++) await sleep(50)
  expect(scopeStorageEnabled()).toBe(false)
}

describe('the scope context on SQLite', () => {
  let db: Backend
  beforeAll(async () => {
    db = compose(betterSqlite3({ filename: ':memory:' }), sqlite)
    await run(db.execute(sql`CREATE TABLE rk_quiet (id INTEGER PRIMARY KEY)`))
  })
  afterAll(async () => { await run(db.close()) })

  it('is switched off a while after the last transaction ends, and on again for the next', async () => {
    await run(db.transaction((tx) => tx.execute(sql`INSERT INTO rk_quiet VALUES (1)`)))
    expect(scopeStorageEnabled()).toBe(true)
    await switchedOff()
    // The next transaction: a call through the outer backend inside its callback joins it.
    const r = await db.transaction(() => TE.tryCatch(async () => {
      await run(db.execute(sql`INSERT INTO rk_quiet VALUES (2)`))
      throw new Error('roll back')
    }, (e) => e as Error))()
    expect(E.isLeft(r)).toBe(true)
    expect(await run(db.all(sql`SELECT id FROM rk_quiet ORDER BY id`))).toEqual([{ id: 1 }])
    await switchedOff()
  })

  it('a callback that outlived its transaction and calls at once is still refused', async () => {
    let late: Promise<E.Either<unknown, unknown>> | undefined
    await run(db.transaction(() => TE.fromTask(async () => {
      late = sleep(20).then(() => db.execute(sql`INSERT INTO rk_quiet VALUES (3)`)())
    })))
    const r = await late!
    expect(E.isLeft(r) && (r.left as { _tag: string })._tag).toBe('TransactionError')
    expect(await run(db.all(sql`SELECT id FROM rk_quiet WHERE id = 3`))).toEqual([])
  })
})

describe.skipIf(!postgresAvailable)('the scope context on PostgreSQL', () => {
  let db: Backend
  beforeAll(async () => {
    db = await run(connect(postgresJs({ url: PG_URL, max: 4 }), postgres))
    await run(db.execute(sql`DROP TABLE IF EXISTS rk_quiet`))
    await run(db.execute(sql`CREATE TABLE rk_quiet (id INTEGER PRIMARY KEY)`))
  })
  afterAll(async () => {
    await run(db.execute(sql`DROP TABLE IF EXISTS rk_quiet`))
    await run(db.close())
  })

  it('a transaction open longer than the quiet time keeps every call of its callback on its connection', async () => {
    const seen = await run(db.transaction(() => TE.fromTask(async () => {
      const mine = (await run(db.all<{ pid: number }>(sql`SELECT pg_backend_pid() AS pid`)))[0]!.pid
      await run(db.execute(sql`INSERT INTO rk_quiet VALUES (10)`))
      const pids: number[] = []
      for (let i = 0; i < 3; i++) {
        await sleep(QUIET)
        // Several at once, as a callback may send them: each one on the transaction's connection.
        const rows = await Promise.all([1, 2, 3].map(() => run(db.all<{ pid: number; n: string }>(sql`SELECT pg_backend_pid() AS pid, count(*)::text AS n FROM rk_quiet`))))
        for (const r of rows) {
          pids.push(r[0]!.pid)
          expect(r[0]!.n).toBe('1')
        }
      }
      return { mine, pids }
    })))
    expect(seen.pids.every((p) => p === seen.mine)).toBe(true)
    // Outside, before the commit, nothing was visible; now it is.
    expect(await run(db.all(sql`SELECT id FROM rk_quiet`))).toEqual([{ id: 10 }])
    await switchedOff()
  })

  it('a reserved connection idle longer than the quiet time keeps its session', async () => {
    const conn = await run(db.connection())
    await run(conn.execute(sql`SET application_name = 'rk_quiet'`))
    await sleep(QUIET)
    expect(await run(conn.all(sql`SELECT current_setting('application_name') AS a`))).toEqual([{ a: 'rk_quiet' }])
    const tx = await run(conn.startTransaction())
    await run(tx.execute(sql`INSERT INTO rk_quiet VALUES (11)`))
    await sleep(QUIET)
    await run(tx.rollback())
    await run(conn.release())
    expect(await run(db.all(sql`SELECT id FROM rk_quiet WHERE id = 11`))).toEqual([])
    await switchedOff()
  })
})
