import { pipe } from 'fp-ts/lib/function.js'
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { postgres } from 'recordkit/dialects/postgres'
import { fails, ok } from 'recordkit/testing'
import { pglite } from '../src/contrib/pglite/driver.js'
import { type Backend, connect, dbError, run, sql } from 'recordkit'
import { from, insertInto, orderBy, select, values, where } from 'recordkit/query'

let db: Backend
beforeAll(async () => {
  db = await ok(connect(pglite(), postgres))
  await run(db.execute(sql`CREATE TABLE pl_items (id SERIAL PRIMARY KEY, code VARCHAR(10) NOT NULL CONSTRAINT pl_items_code UNIQUE, at TIMESTAMP(3))`))
  await run(db.execute(sql`INSERT INTO pl_items (code) SELECT 'c' || g FROM generate_series(1, 1200) AS g`))
}, 120_000)
afterAll(() => run(db.close()))

const openCursors = async (): Promise<number> => Number((await run(db.all(sql`SELECT count(*) AS n FROM pg_cursors`)))[0].n)

describe('PGlite driver with the PostgreSQL dialect', () => {
  it('is PostgreSQL: the dialect is specialised to its server version', async () => {
    const v = await ok(db.driver.version())
    expect(v).toMatch(/^\d+\.\d+/)
    expect(db.dialect.version).toBe(v)
    expect(db.dialect.name).toBe('postgres')
  })

  it('classifies by SQLSTATE, keeping the constraint and column names', async () => {
    const dup = await fails(db.execute(pipe(insertInto('pl_items'), values({ code: 'c1' }))))
    expect(dup).toMatchObject({ _tag: 'UniqueViolation', code: '23505', constraint: 'pl_items_code', sql: 'INSERT INTO "pl_items" ("code") VALUES ($1)', params: ['c1'] })
    expect(await fails(db.execute(pipe(insertInto('pl_items'), values({ code: null }))))).toMatchObject({ _tag: 'NotNullViolation', code: '23502', column: 'code' })
    expect(await fails(db.execute(sql`SELEC 1`))).toMatchObject({ _tag: 'QueryError', code: '42601' })
    expect(await fails(db.execute(sql`SAVEPOINT x`))).toMatchObject({ _tag: 'TransactionError', code: '25P01' })
  })

  it('reads TIMESTAMP as UTC wall-clock time, and runs a script of several statements', async () => {
    const at = new Date('2024-03-10T01:59:59.123Z')
    await run(db.execute(sql`UPDATE pl_items SET at = ${at} WHERE code = ${'c1'}`))
    expect(await run(db.all(pipe(from('pl_items'), select('at'), where({ code: 'c1' }))))).toEqual([{ at }])
    const r = await run(db.execute(sql`UPDATE pl_items SET at = NULL WHERE code = 'c1'; SELECT code FROM pl_items WHERE id = 2`))
    expect(r).toEqual({ rows: [{ code: 'c2' }], rowsAffected: 1 })
  })

  it('streams through a WITH HOLD cursor outside a transaction: the loop body may write; the cursor is closed after', async () => {
    const sizes: number[] = []
    let seen = 0
    for await (const row of db.stream(pipe(from('pl_items'), select('id'), orderBy('id')), { batchSize: 500 })) {
      if (seen++ % 500 === 0) sizes.push(seen)
      if (seen === 1) await run(db.execute(pipe(insertInto('pl_items'), values({ code: 'during' }))))
      void row
    }
    expect(seen).toBe(1200)
    expect(sizes).toEqual([1, 501, 1001])
    expect(await openCursors()).toBe(0)
  })

  it('stops early and closes the cursor', async () => {
    let seen = 0
    for await (const _ of db.stream(pipe(from('pl_items'), orderBy('id')), { batchSize: 100 })) if (++seen === 10) break
    expect(seen).toBe(10)
    expect(await openCursors()).toBe(0)
  })

  it('streams inside a transaction on its session, seeing its uncommitted rows', async () => {
    let found = false
    const r = await db.transaction((tx) => async () => {
      await ok(tx.execute(pipe(insertInto('pl_items'), values({ code: 'in-tx' }))))
      for await (const row of tx.stream(pipe(from('pl_items'), select('code'), where({ code: 'in-tx' })))) found = row.code === 'in-tx'
      return E.left(dbError('TransactionError', 'roll back on purpose'))
    })()
    expect(E.isLeft(r)).toBe(true)
    expect(found).toBe(true)
    expect(await run(db.all(pipe(from('pl_items'), where({ code: 'in-tx' }))))).toEqual([])
  })
})
