/**
 * A transaction callback that returns a Promise instead of a TaskEither, as an `async` function
 * does in untyped code, is a TransactionError that says what to use, and nothing of the
 * transaction is kept; it failed with 'f(...) is not a function'. A migration's up / down may be
 * an async function (as Knex's and Sequelize's are): it runs, and its rejection is the failure.
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

  it('a migration whose up is an async function runs it (as Knex and Sequelize migrations are written); its rejection is the failure, nothing kept', async () => {
    const db = await open()
    const up = async (m: Backend) => {
      await run(m.execute(sql`INSERT INTO rk_txshape VALUES (1)`))
      await run(m.execute(sql`INSERT INTO rk_txshape VALUES (2)`))
    }
    const report = await run(migrateUp(db, [{ name: '001_async', up }]))
    expect(report.migrations).toEqual(['001_async'])
    expect(await run(db.all(sql`SELECT id FROM rk_txshape ORDER BY id`))).toEqual([{ id: 1 }, { id: 2 }])
    // A rejection (here the database's own error) fails the migration, and its transaction keeps nothing.
    const failing = async (m: Backend) => {
      await run(m.execute(sql`INSERT INTO rk_txshape VALUES (3)`))
      await run(m.execute(sql`INSERT INTO rk_txshape VALUES (1)`))
    }
    const e = await fails(migrateUp(db, [{ name: '001_async', up }, { name: '002_async', up: failing }]))
    expect(e.message).toMatch(/002_async/)
    expect(e._tag).toBe('UniqueViolation')
    // An async step that resolves to a Left fails the same way.
    const left = async () => ({ _tag: 'Left', left: new Error('no') })
    expect((await fails(migrateUp(db, [{ name: '001_async', up }, { name: '003_left', up: left as never }])))._tag).toBe('QueryError')
    expect(await run(db.all(sql`SELECT id FROM rk_txshape ORDER BY id`))).toEqual([{ id: 1 }, { id: 2 }])
    // Anything else is still refused, saying what a step returns.
    const e2 = await fails(migrateUp(db, [{ name: '001_async', up }, { name: '004_number', up: (() => 42) as never }]))
    expect(e2.message).toMatch(/must return a TaskEither .* or a Promise/)
    await run(db.close())
  })
})
