/**
 * Load for fault tests: workers writing numbered rows, each write's outcome recorded, so a test
 * can check every acknowledged write is in the database afterwards and no call was left pending.
 */
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, beforeAll, expect } from 'vitest'
import { type Backend, isDbError, type Fragment, sql } from 'recordkit'
import type { Throwaway } from '../support/throwaway.js'

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

/** What a fault scenario needs of the server it runs against. */
export interface Killable {
  readonly kill: () => Promise<void>
  readonly start: () => Promise<void>
}

/**
 * Kill the server under load from 50 workers and start it again (`cycles` times), then check:
 * every call settled, none waited past `boundMs`, every failure is a ConnectionError or a
 * PoolTimeout, calls failed fast while the server was down, writes succeed again after the
 * restart, and every acknowledged write is in `table`.
 */
export const restartUnderLoad = async (db: Backend, server: Killable, table: string, cycles: number, boundMs: number): Promise<void> => {
  const long = cycles > 1
  for (let cycle = 0; cycle < cycles; cycle++) {
    const load = startLoad(db, table, 50)
    await sleep(long ? 3_000 : 600)
    await server.kill()
    await sleep(1_000)
    const during = load.calls().length
    await server.start()
    await sleep(long ? 3_000 : 1_000)
    const { settled, calls } = await load.stop(15_000)
    expect(settled, 'a call was still pending 15 s after the load stopped').toBe(true)
    expect(Math.max(...calls.map((c) => c.ms))).toBeLessThan(boundMs)
    for (const o of new Set(calls.map((c) => c.outcome))) expect(['ok', 'ConnectionError', 'PoolTimeout']).toContain(o)
    // While the server was down, calls failed fast instead of waiting through the outage.
    expect(calls.slice(0, during).some((c) => c.outcome === 'ConnectionError')).toBe(true)
    expect(calls.slice(during).some((c) => c.outcome === 'ok')).toBe(true)
    await expectAcknowledgedWrites(db, table, calls)
  }
}

/** The pool is whole: `max` transactions at once, each on a connection of its own (`whoAmI` returns its id as `id`). */
export const expectPoolWhole = async (db: Backend, max: number, whoAmI: Fragment): Promise<void> => {
  const holders = await Promise.all(Array.from({ length: max }, () => db.transaction((tx) => tx.all<{ id: unknown }>(whoAmI))()))
  expect(holders.every(E.isRight)).toBe(true)
  expect(new Set(holders.map((h) => (E.isRight(h) ? String(h.right[0].id) : ''))).size).toBe(max)
}

/**
 * With both connections of a pool of 2 held by transactions, a third transaction and a
 * statement wait the backend's acquireTimeout (300 ms), then fail with PoolTimeout; neither runs
 * later, and both connections serve again once given back.
 */
export const expectPoolTimeout = async (db: Backend): Promise<void> => {
  const t = sql.id('faults_pool')
  const ok = async <A>(r: Promise<E.Either<unknown, A>>): Promise<A> => {
    const x = await r
    if (E.isLeft(x)) throw x.left
    return x.right
  }
  await ok(db.execute(sql`CREATE TABLE ${t} (id int)`)())
  let open!: () => void
  const hold = new Promise<void>((r) => { open = r })
  const holders = [1, 2].map((id) => db.transaction((tx) => async () => {
    await ok(tx.execute(sql`INSERT INTO ${t} VALUES (${id})`)())
    await hold
    return E.right(id)
  })())
  await sleep(100)
  const started = performance.now()
  const [third, statement] = await Promise.all([
    db.transaction((tx) => tx.execute(sql`INSERT INTO ${t} VALUES (3)`))(),
    db.execute(sql`INSERT INTO ${t} VALUES (4)`)(),
  ])
  expect(E.isLeft(third) && third.left._tag).toBe('PoolTimeout')
  expect(E.isLeft(statement) && statement.left._tag).toBe('PoolTimeout')
  expect(performance.now() - started).toBeGreaterThanOrEqual(250)
  open()
  expect((await Promise.all(holders)).map((h) => E.isRight(h) && h.right)).toEqual([1, 2])
  await sleep(100)
  expect((await ok(db.all<{ id: number }>(sql`SELECT id FROM ${t} ORDER BY id`)())).map((r) => Number(r.id))).toEqual([1, 2])
  const again = await Promise.all([5, 6].map((id) => db.transaction((tx) => tx.execute(sql`INSERT INTO ${t} VALUES (${id})`))()))
  expect(again.every(E.isRight)).toBe(true)
}

/**
 * A throwaway server for one describe block, started before its tests and stopped after them,
 * and the backends made on it (closed before the server stops).
 */
export const useServer = <O>(start: () => Promise<Throwaway>, make: (url: string, options: O) => Promise<Backend>) => {
  let server: Throwaway | undefined
  const opened: Backend[] = []
  beforeAll(async () => {
    server = await start()
  }, 60_000)
  afterAll(async () => {
    for (const db of opened) await db.close({ timeout: 100 })()
    await server?.stop()
  }, 60_000)
  const current = (): Throwaway => {
    if (server === undefined) throw new Error('the throwaway server has not started')
    return server
  }
  return {
    server: current,
    backend: async (options: O): Promise<Backend> => {
      const db = await make(current().url, options)
      opened.push(db)
      return db
    },
  }
}
