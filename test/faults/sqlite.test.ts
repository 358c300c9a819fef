/**
 * SQLite (better-sqlite3, a file) under faults: closed while a transaction is open, and its one
 * connection held longer than a caller will wait.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, describe, expect, it } from 'vitest'
import { type Backend, compose, sql } from 'recordkit'
import { sqlite } from 'recordkit/dialects/sqlite'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'
import { run } from 'recordkit/promise'
import { sleep } from './load.js'

const dir = mkdtempSync(join(tmpdir(), 'recordkit-faults-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let files = 0
const fresh = (acquireTimeout?: number): { readonly db: Backend; readonly file: string } => {
  const file = join(dir, `db-${++files}.sqlite`)
  return { db: compose(betterSqlite3({ filename: file, acquireTimeout }), sqlite), file }
}
const rows = async (file: string): Promise<number[]> => {
  const db = compose(betterSqlite3({ filename: file }), sqlite)
  try {
    return (await run(db.all<{ id: number }>(sql`SELECT id FROM t ORDER BY id`))).map((r) => r.id)
  } finally {
    await run(db.close())
  }
}

describe('SQLite under faults', () => {
  it('close while a transaction is open waits for it to commit, then refuses work', async () => {
    const { db, file } = fresh()
    await run(db.execute(sql`CREATE TABLE t (id INTEGER PRIMARY KEY)`))
    const tx = db.transaction((t) => async () => {
      await run(t.execute(sql`INSERT INTO t VALUES (1)`))
      await sleep(50)
      return t.execute(sql`INSERT INTO t VALUES (2)`)()
    })()
    await sleep(10)
    const closed = await db.close()()
    expect(E.isRight(closed)).toBe(true)
    expect(E.isRight(await tx)).toBe(true)
    const after = await db.execute(sql`INSERT INTO t VALUES (3)`)()
    expect(E.isLeft(after) && after.left.code).toBe('BACKEND_CLOSED')
    expect(await rows(file)).toEqual([1, 2])
  })

  it('close that times out under an open transaction: its next statement fails, nothing of it is committed, nothing reopens', async () => {
    const { db, file } = fresh()
    await run(db.execute(sql`CREATE TABLE t (id INTEGER PRIMARY KEY)`))
    let resume!: () => void
    const paused = new Promise<void>((r) => { resume = r })
    const tx = db.transaction((t) => async () => {
      await run(t.execute(sql`INSERT INTO t VALUES (1)`))
      await paused
      return t.execute(sql`INSERT INTO t VALUES (2)`)()
    })()
    await sleep(10)
    expect(E.isRight(await db.close({ timeout: 30 })())).toBe(true)
    resume()
    const r = await tx
    expect(E.isLeft(r) && r.left._tag).toBe('ConnectionError')
    // The old behaviour reopened an autocommit connection here and committed row 2 alone.
    expect(await rows(file)).toEqual([])
  })

  it('a caller waits acquireTimeout for the connection a transaction holds, then fails with PoolTimeout', async () => {
    const { db } = fresh(100)
    await run(db.execute(sql`CREATE TABLE t (id INTEGER PRIMARY KEY)`))
    let resume!: () => void
    const paused = new Promise<void>((r) => { resume = r })
    const holder = db.transaction((t) => async () => {
      await run(t.execute(sql`INSERT INTO t VALUES (1)`))
      await paused
      return E.right('held')
    })()
    await sleep(10)
    const [statement, second] = await Promise.all([db.execute(sql`INSERT INTO t VALUES (2)`)(), db.transaction((t) => t.execute(sql`INSERT INTO t VALUES (3)`))()])
    expect(E.isLeft(statement) && statement.left._tag).toBe('PoolTimeout')
    expect(E.isLeft(second) && second.left._tag).toBe('PoolTimeout')
    resume()
    expect(await holder).toEqual(E.right('held'))
    // Nothing leaked: the connection serves again, and the timed-out calls never ran.
    await run(db.execute(sql`INSERT INTO t VALUES (4)`))
    expect((await run(db.all<{ id: number }>(sql`SELECT id FROM t ORDER BY id`))).map((x) => x.id)).toEqual([1, 4])
    await run(db.close())
  })
})
