/**
 * The built-in middleware sees streams: `logging`, `slowQueries` and `metrics` report a streamed
 * statement once it ends (read to its end, left early, or failed) with its row count and time,
 * on SQLite, PostgreSQL and MariaDB; `retry` opens a stream again only when it failed before its
 * first row, outside a transaction. A custom `wrap(db, { execute })` sees no stream (streams go
 * through `stream`, which it can wrap as well). They used to log nothing for `db.stream`.
 */
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  compose, connect, logging, metrics, retry, run, slowQueries, sql, statementOf, wrap, type Backend, type DbError, type StatementEvent,
} from 'recordkit'
import { mysql } from 'recordkit/dialects/mysql'
import { postgres } from 'recordkit/dialects/postgres'
import { sqlite } from 'recordkit/dialects/sqlite'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'
import { mysql2 } from 'recordkit/drivers/mysql2'
import { postgresJs } from 'recordkit/drivers/postgres'
import { MYSQL_URL, PG_URL, serverAvailable } from './support/servers.js'

const mariadbAvailable = await serverAvailable('mariadb')
const postgresAvailable = await serverAvailable('postgres')

const engines: readonly { readonly name: string; readonly available: boolean; readonly open: () => Promise<Backend> }[] = [
  { name: 'sqlite', available: true, open: async () => compose(betterSqlite3({ filename: ':memory:' }), sqlite) },
  { name: 'postgres', available: postgresAvailable, open: () => run(connect(postgresJs({ url: PG_URL, max: 2 }), postgres)) },
  { name: 'mariadb', available: mariadbAvailable, open: () => run(connect(mysql2({ url: MYSQL_URL, max: 2 }), mysql)) },
]

const upTo = (n: number) => sql`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${n}) SELECT i FROM n`

const drain = async (rows: AsyncIterable<unknown>, stopAt = Infinity): Promise<number> => {
  let n = 0
  for await (const _ of rows) if (++n >= stopAt) break
  return n
}

for (const engine of engines) {
  describe.skipIf(!engine.available)(`${engine.name}: logging, metrics and slowQueries see streams`, () => {
    let base: Backend
    beforeAll(async () => { base = await engine.open() })
    afterAll(async () => { await run(base.close()) })

    it('a stream read to its end is one event with its statement, parameters, rows and time', async () => {
      const events: StatementEvent[] = []
      const db = wrap(base, logging((e) => events.push(e)))
      expect(await drain(db.stream(upTo(250), { batchSize: 100 }))).toBe(250)
      expect(events).toHaveLength(1)
      expect(events[0]).toMatchObject({ sql: statementOf(db, upTo(250)).sql, params: [250], rows: 250, inTransaction: false })
      expect(events[0].error).toBeUndefined()
      expect(events[0].ms).toBeGreaterThanOrEqual(0)
    })

    it('left early: the rows yielded, no error; failed: the error tag', async () => {
      const events: StatementEvent[] = []
      const db = wrap(base, logging((e) => events.push(e)))
      expect(await drain(db.stream(upTo(250), { batchSize: 10 }), 25)).toBe(25)
      await expect(drain(db.stream(sql`SELECT i FROM st_mw_missing`))).rejects.toMatchObject({ _tag: 'QueryError' })
      // An iterator never read ran nothing and reports nothing.
      await db.stream(upTo(5))[Symbol.asyncIterator]().return?.()
      expect(events.map((e) => [e.rows, e.error])).toEqual([[25, undefined], [0, 'QueryError']])
    })

    it('inside a transaction, between its BEGIN and COMMIT, marked inTransaction', async () => {
      const events: StatementEvent[] = []
      const db = wrap(base, logging((e) => events.push(e)))
      await run(db.transaction((tx) => async () => E.right(await drain(tx.stream(upTo(30), { batchSize: 7 })))))
      expect(events.map((e) => [e.sql.split(' ')[0].toUpperCase(), e.rows, e.inTransaction])).toEqual([
        [events[0].sql.split(' ')[0].toUpperCase(), undefined, true], ['WITH', 30, true], ['COMMIT', undefined, true],
      ])
      expect(events[0].sql).toMatch(/^(BEGIN|START TRANSACTION)/)
    })

    it('metrics counts a stream as one statement of its kind; slowQueries sees a slow one', async () => {
      const m = metrics()
      const slow: StatementEvent[] = []
      const db = wrap(wrap(base, m.middleware), slowQueries(40, (e) => slow.push(e)))
      await drain(db.stream(sql`SELECT 1 AS one`))
      for await (const _ of db.stream(upTo(3), { batchSize: 1 })) await new Promise((r) => setTimeout(r, 25))
      await drain(db.stream(sql`SELECT i FROM st_mw_missing`)).catch(() => undefined)
      expect(m.snapshot()).toMatchObject({ statements: { SELECT: 2, WITH: 1 }, errors: { QueryError: 1 }, count: 3 })
      // The stream read slowly is seen with its rows; on a loaded machine another statement may
      // take longer than the bound too, and is then reported with the time it took.
      expect(slow.filter((e) => e.sql.startsWith('WITH')).map((e) => [e.sql.slice(0, 4), e.rows])).toEqual([['WITH', 3]])
      for (const e of slow) expect(e.ms).toBeGreaterThanOrEqual(40)
    })

    it('a custom wrap of execute sees no stream; a wrap of stream does', async () => {
      const executed: string[] = []
      const streamed: string[] = []
      const db = wrap(base, {
        execute: (next) => (q) => { executed.push('execute'); return next(q) },
        stream: (next) => (q, o) => { streamed.push('stream'); return next(q, o) },
      })
      await drain(db.stream(sql`SELECT 1 AS one`))
      await run(db.all(sql`SELECT 1 AS one`))
      expect([executed, streamed]).toEqual([['execute'], ['stream']])
    })
  })
}

describe('retry and streams (SQLite)', () => {
  /** A backend whose streams are counted below the retry, so every attempt is seen. */
  const counted = (base: Backend, on: DbError['_tag'][], onRetry?: () => void) => {
    let opened = 0
    const db = wrap(wrap(base, { stream: (next) => (q, o) => { opened++; return next(q, o) } }), retry({ on, attempts: 3, backoff: () => 1, onRetry }))
    return { db, opened: () => opened }
  }

  it('opens a stream again when it failed before its first row, and stops at the first success', async () => {
    const base = compose(betterSqlite3({ filename: ':memory:' }), sqlite)
    // The first attempt finds no table; the retry creates it, so the second attempt reads it.
    const { db, opened } = counted(base, ['QueryError'], () => { void base.execute(sql`CREATE TABLE st_mw_late (i INTEGER)`)() })
    await run(base.execute(sql`SELECT 1`))
    const rows: unknown[] = []
    for await (const row of db.stream(sql`SELECT 7 AS i FROM (SELECT 1) LEFT JOIN st_mw_late ON 1 = 0`)) rows.push(row)
    expect(rows).toEqual([{ i: 7 }])
    expect(opened()).toBe(2)
    await run(base.close())
  })

  it('gives up after the last attempt and throws the error', async () => {
    const base = compose(betterSqlite3({ filename: ':memory:' }), sqlite)
    const { db, opened } = counted(base, ['QueryError'])
    await expect(drain(db.stream(sql`SELECT i FROM st_mw_missing`))).rejects.toMatchObject({ _tag: 'QueryError' })
    expect(opened()).toBe(3)
    await run(base.close())
  })

  it('never after a row was yielded, and never inside a transaction', async () => {
    const base = compose(betterSqlite3({ filename: ':memory:' }), sqlite)
    const { db, opened } = counted(base, ['QueryError'])
    // Row 50 is malformed JSON: the stream fails after yielding 49 rows.
    const failsLate = sql`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100) SELECT CASE WHEN i < 50 THEN i ELSE json('{') END AS v FROM n`
    let seen = 0
    await expect((async () => { for await (const _ of db.stream(failsLate, { batchSize: 10 })) seen++ })()).rejects.toMatchObject({ _tag: 'QueryError' })
    expect([seen, opened()]).toEqual([40, 1])
    // The callback keeps the failure to itself, so the transaction (which retry would run again
    // as a whole) succeeds: the stream was opened once.
    const inTx = await run(db.transaction((tx) => async () => E.right(await drain(tx.stream(sql`SELECT i FROM st_mw_missing`)).catch((e: DbError) => e._tag))))
    expect(inTx).toBe('QueryError')
    expect(opened()).toBe(2)
    await run(base.close())
  })
})
