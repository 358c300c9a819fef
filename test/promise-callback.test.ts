/**
 * The Promise adapter's callback scopes (`transaction`, `savepoint`, a controlled transaction's
 * `savepoint`) take a callback that returns a Promise. One that returns anything else (a
 * function that is not async, a forgotten `return`) is refused with a TransactionError saying
 * so, after the scope is rolled back; it was a TransactionError 'fn(...).then is not a
 * function'. A thenable is taken as a Promise, and what the callback throws or rejects with is
 * still rethrown as it was. On SQLite, PostgreSQL and MariaDB.
 */
import { describe, expect, it } from 'vitest'
import { isDbError, promised, sql, type PromiseBackend } from 'recordkit'
import { ENGINES, engineTables } from './support/engine-tables.js'

const ddl = (): string[] => ['CREATE TABLE rk_pcb_items (id INTEGER PRIMARY KEY)']

const rejection = async (p: Promise<unknown>): Promise<unknown> => {
  try {
    const value = await p
    throw new Error(`expected a rejection, got ${JSON.stringify(value)}`)
  } catch (e) {
    return e
  }
}

const ids = async (db: PromiseBackend): Promise<number[]> =>
  (await db.all<{ id: number }>(sql`SELECT id FROM rk_pcb_items ORDER BY id`)).map((r) => Number(r.id))

for (const engine of ENGINES) {
  describe(`Promise callbacks on ${engine.name}`, () => {
    const { use } = engineTables(engine, ['rk_pcb_items'], ddl)

    it('a transaction callback that returns no Promise is a TransactionError saying so', async (ctx) => {
      const db = promised(use(ctx))
      for (const [what, fn] of [['the number 5', () => 5], ['undefined', () => undefined], ['null', () => null], ['an object', () => ({ rows: [] })]] as const) {
        const e = await rejection(db.transaction(fn as never))
        expect(isDbError(e, 'TransactionError'), what).toBe(true)
        expect((e as Error).message, what).toMatch(/^transaction: the callback must return a Promise/)
        expect((e as Error).message, what).toContain(`got ${what};`)
      }
      // The connection is free, and not left inside a transaction.
      await db.transaction(async (tx) => { await tx.execute(sql`INSERT INTO rk_pcb_items (id) VALUES (1)`) })
      expect(await ids(db)).toEqual([1])
    })

    it('a savepoint callback alike, and the transaction around it goes on', async (ctx) => {
      const db = promised(use(ctx))
      const caught = await db.transaction(async (tx) => {
        await tx.execute(sql`INSERT INTO rk_pcb_items (id) VALUES (1)`)
        const e = await rejection(tx.savepoint('sp', (() => 7) as never))
        await tx.execute(sql`INSERT INTO rk_pcb_items (id) VALUES (2)`)
        return e
      })
      expect(isDbError(caught, 'TransactionError')).toBe(true)
      expect((caught as Error).message).toMatch(/savepoint: the callback must return a Promise/)
      expect(await ids(db)).toEqual([1, 2])
      // The savepoint of a controlled transaction too.
      const tx = await db.startTransaction()
      const e = await rejection(tx.savepoint('sp2', (() => undefined) as never))
      expect(isDbError(e, 'TransactionError')).toBe(true)
      await tx.execute(sql`INSERT INTO rk_pcb_items (id) VALUES (3)`)
      await tx.commit()
      expect(await ids(db)).toEqual([1, 2, 3])
    })

    it('a thenable is a Promise; throws and rejections are rethrown as they were', async (ctx) => {
      const db = promised(use(ctx))
      const thenable = { then: (resolve: (v: number) => void) => resolve(7) }
      expect(await db.transaction((() => thenable) as never)).toBe(7)
      const thrown = new RangeError('sync')
      expect(await rejection(db.transaction(() => { throw thrown }))).toBe(thrown)
      const rejected = new TypeError('async')
      expect(await rejection(db.transaction(async (tx) => {
        await tx.execute(sql`INSERT INTO rk_pcb_items (id) VALUES (9)`)
        throw rejected
      }))).toBe(rejected)
      expect(await ids(db)).toEqual([])
      expect(await db.transaction(async () => 'done')).toBe('done')
    })
  })
}
