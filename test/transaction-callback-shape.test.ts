/**
 * A transaction callback (and a migration's up / down, which runs as one) that returns a Promise
 * instead of a TaskEither, as an `async` function does in untyped code, is a TransactionError that
 * says what to use, and nothing of the transaction is kept; it failed with 'f(...) is not a
 * function'.
 */
import { describe, expect, it } from 'vitest'
import { type Backend, compose, run, sql } from 'recordkit'
import { sqlite } from 'recordkit/dialects/sqlite'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'
import { migrateUp } from 'recordkit/schema'
import { fails } from 'recordkit/testing'

const open = async (): Promise<Backend> => {
  const db = compose(betterSqlite3({ filename: ':memory:' }), sqlite)
  await run(db.execute(sql`CREATE TABLE rk_txshape (id INTEGER PRIMARY KEY)`))
  return db
}

describe('a transaction callback that returns no TaskEither', () => {
  it('is a TransactionError naming what it returned, and the transaction keeps nothing', async () => {
    const db = await open()
    const asyncCallback = (async (tx: Backend) => { await run(tx.execute(sql`INSERT INTO rk_txshape VALUES (1)`)) }) as unknown as (tx: Backend) => never
    const e = await fails(db.transaction(asyncCallback))
    expect(e._tag).toBe('TransactionError')
    expect(e.message).toMatch(/must return a TaskEither.*got a Promise/)
    expect(e.message).toMatch(/promised\(db\)\.transaction/)
    await new Promise((r) => setTimeout(r, 20))
    expect(await run(db.all(sql`SELECT id FROM rk_txshape`))).toEqual([])
    const other = await fails(db.transaction((() => 42) as unknown as (tx: Backend) => never))
    expect(other.message).toMatch(/got the number 42|got 42/)
    await run(db.close())
  })

  it('a migration whose up is an async function fails with the same words, naming the migration', async () => {
    const db = await open()
    const up = (async () => undefined) as never
    const e = await fails(migrateUp(db, [{ name: '001_async', up }]))
    expect(e.message).toMatch(/001_async/)
    expect(e.message).toMatch(/must return a TaskEither/)
    await run(db.close())
  })
})
