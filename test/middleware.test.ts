import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pipe } from 'fp-ts/lib/function.js'
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, describe, expect, it } from 'vitest'
import { compose, logging, metrics, retry, run, slowQueries, sql, wrap, type DbError, type StatementEvent } from 'recordkit'
import { from, insertInto, values } from 'recordkit/query'
import { sqlite } from 'recordkit/dialects/sqlite'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'

const dir = mkdtempSync(join(tmpdir(), 'recordkit-mw-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const memory = async () => {
  const db = compose(betterSqlite3({ filename: ':memory:' }), sqlite)
  await run(db.execute(sql`CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE)`))
  return db
}

describe('logging', () => {
  it('sees every statement with parameters, timing, errors and transaction state', async () => {
    const events: StatementEvent[] = []
    const db = wrap(await memory(), logging((e) => events.push(e)))
    await run(db.transaction((tx) => tx.execute(pipe(insertInto('t'), values({ v: 'a' })))))
    await db.execute(pipe(insertInto('t'), values({ v: 'a' })))()
    expect(events.map((e) => e.sql)).toEqual(['BEGIN', 'INSERT INTO "t" ("v") VALUES (?)', 'COMMIT', 'INSERT INTO "t" ("v") VALUES (?)'])
    expect(events[1]).toMatchObject({ params: ['a'], inTransaction: true })
    expect(events[3]).toMatchObject({ error: 'UniqueViolation', inTransaction: false })
    expect(events.every((e) => e.ms >= 0)).toBe(true)
  })
})

describe('slowQueries', () => {
  it('captures only statements over the threshold', async () => {
    const slow: StatementEvent[] = []
    const db = wrap(await memory(), slowQueries(15, (e) => slow.push(e)))
    await run(db.all(sql`SELECT 1`))
    await run(db.all(sql`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500000) SELECT COUNT(*) AS c FROM n`))
    expect(slow.length).toBe(1)
    expect(slow[0].sql).toContain('WITH RECURSIVE')
    expect(slow[0].ms).toBeGreaterThanOrEqual(15)
  })
})

describe('metrics', () => {
  it('counts statements by kind and failures by tag', async () => {
    const m = metrics()
    const db = wrap(await memory(), m.middleware)
    await run(db.execute(pipe(insertInto('t'), values({ v: 'x' }))))
    await db.execute(pipe(insertInto('t'), values({ v: 'x' })))()
    await run(db.all(from('t')))
    await run(db.transaction((tx) => tx.all(from('t'))))
    const s = m.snapshot()
    expect(s.statements).toEqual({ INSERT: 2, SELECT: 2, BEGIN: 1, COMMIT: 1 })
    expect(s.errors).toEqual({ UniqueViolation: 1 })
    expect(s.count).toBe(6)
    m.reset()
    expect(m.snapshot().count).toBe(0)
  })
})

describe('retry', () => {
  it('retries a whole transaction after a real serialization failure (SQLITE_BUSY_SNAPSHOT)', async () => {
    const file = join(dir, 'retry.db')
    const a = compose(betterSqlite3({ filename: file, busyTimeout: 0 }), sqlite)
    const b = compose(betterSqlite3({ filename: file, busyTimeout: 0 }), sqlite)
    await run(a.execute(sql`CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)`))
    await run(a.execute(sql`INSERT INTO counter VALUES (1, 0)`))
    const retried: DbError[] = []
    const safe = wrap(a, retry({ backoff: () => 1, onRetry: (e) => retried.push(e) }))
    let calls = 0
    const result = await run(safe.transaction((tx) => async () => {
      calls++
      const [row] = await run(tx.all(sql`SELECT n FROM counter WHERE id = 1`)) // read snapshot taken
      if (calls === 1) await run(b.execute(sql`UPDATE counter SET n = n + 100 WHERE id = 1`)) // another writer commits
      return tx.execute(sql`UPDATE counter SET n = ${Number(row.n) + 1} WHERE id = 1`)() // upgrade to write: stale snapshot
    }))
    expect(result.rowsAffected).toBe(1)
    expect(calls).toBe(2)
    expect(retried.map((e) => e._tag)).toEqual(['SerializationFailure'])
    expect(await run(a.all(sql`SELECT n FROM counter`))).toEqual([{ n: 101 }])
    await run(a.close())
    await run(b.close())
  })

  it('gives up after the last attempt and returns the error; other errors are not retried', async () => {
    let attempts = 0
    const base = await memory()
    const flaky = wrap(base, { execute: (next) => (q) => () => { attempts++; return next(q)() } })
    const db = wrap(flaky, retry({ attempts: 3, backoff: () => 0, on: ['UniqueViolation'] }))
    await run(db.execute(pipe(insertInto('t'), values({ v: 'dup' }))))
    attempts = 0
    const r = await db.execute(pipe(insertInto('t'), values({ v: 'dup' })))()
    expect(E.isLeft(r) && r.left._tag).toBe('UniqueViolation')
    expect(attempts).toBe(3)
    attempts = 0
    const other = await wrap(flaky, retry({ backoff: () => 0 })).execute(pipe(insertInto('t'), values({ v: 'dup' })))()
    expect(E.isLeft(other) && other.left._tag).toBe('UniqueViolation')
    expect(attempts).toBe(1)
  })

  it('never retries a statement inside a transaction on its own', async () => {
    let attempts = 0
    const base = await memory()
    const counted = wrap(base, { execute: (next) => (q) => () => { attempts++; return next(q)() } })
    const db = wrap(counted, retry({ attempts: 5, backoff: () => 0, on: ['UniqueViolation'] }))
    await run(db.execute(pipe(insertInto('t'), values({ v: 'k' }))))
    attempts = 0
    const r = await db.transaction((tx) => tx.execute(pipe(insertInto('t'), values({ v: 'k' }))), {})()
    expect(E.isLeft(r)).toBe(true)
    // Retried as a whole transaction (5 attempts of BEGIN, INSERT, ROLLBACK), never the INSERT alone.
    expect(attempts).toBe(15)
  })
})
