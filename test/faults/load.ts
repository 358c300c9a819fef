/**
 * Load for fault tests: workers writing numbered rows, each write's outcome recorded, so a test
 * can check every acknowledged write is in the database afterwards and no call was left pending.
 */
import * as E from 'fp-ts/lib/Either.js'
import { expect } from 'vitest'
import type { Backend } from '../../src/compose.js'
import { isDbError } from '../../src/errors.js'
import { sql } from '../../src/sql.js'

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** One call's outcome: which row it wrote, how long it took, and how it ended. */
export interface Call {
  readonly id: number
  readonly ms: number
  readonly outcome: string
}

export interface Load {
  /** Stop the workers and wait for every call in flight to settle (or `settleMs` to pass). */
  readonly stop: (settleMs: number) => Promise<{ readonly settled: boolean; readonly calls: readonly Call[] }>
  /** Calls finished so far. */
  readonly calls: () => readonly Call[]
}

/**
 * Start `workers` loops, each writing rows with fresh ids into `table` (`id`, `w` columns): odd
 * workers in a transaction of two statements (the second updates the first row), even ones as
 * single statements. A failed call waits 10 ms before the next.
 */
export const startLoad = (db: Backend, table: string, workers: number): Load => {
  let running = true
  let next = 0
  const calls: Call[] = []
  const one = async (w: number): Promise<void> => {
    const id = ++next
    const started = performance.now()
    const t = sql.id(table)
    const r = await (w % 2 === 1
      ? db.transaction((tx) => async () => {
        const a = await tx.execute(sql`INSERT INTO ${t} (id, w) VALUES (${id}, ${w})`)()
        return E.isLeft(a) ? a : tx.execute(sql`UPDATE ${t} SET w = ${w + 1000} WHERE id = ${id}`)()
      })
      : db.execute(sql`INSERT INTO ${t} (id, w) VALUES (${id}, ${w + 1000})`))()
    if (E.isLeft(r)) expect(isDbError(r.left), `a failure that is not a DbError: ${String(r.left)}`).toBe(true)
    calls.push({ id, ms: performance.now() - started, outcome: E.isLeft(r) ? `${r.left._tag}` : 'ok' })
    if (E.isLeft(r)) await sleep(10)
  }
  const loops = Array.from({ length: workers }, async (_, w) => {
    while (running) await one(w)
  })
  return {
    calls: () => calls,
    stop: async (settleMs) => {
      running = false
      const settled = await Promise.race([Promise.all(loops).then(() => true), sleep(settleMs).then(() => false)])
      return { settled, calls }
    },
  }
}

/**
 * Every acknowledged write is in the table, with the value its call wrote last, and no row of a
 * failed transaction is half there (its first statement without its second).
 */
export const expectAcknowledgedWrites = async (db: Backend, table: string, calls: readonly Call[]): Promise<void> => {
  const r = await db.all<{ id: number | string; w: number | string }>(sql`SELECT id, w FROM ${sql.id(table)}`)()
  if (E.isLeft(r)) throw r.left
  const rows = new Map(r.right.map((x) => [Number(x.id), Number(x.w)]))
  const acked = calls.filter((c) => c.outcome === 'ok')
  expect(acked.length).toBeGreaterThan(0)
  const missing = acked.filter((c) => !rows.has(c.id)).map((c) => c.id)
  expect(missing, 'acknowledged writes missing after the fault').toEqual([])
  // A transaction's two statements are all or nothing: every row carries the final value.
  const half = [...rows].filter(([, w]) => w < 1000).map(([id]) => id)
  expect(half, 'rows of a transaction that is half applied').toEqual([])
}
