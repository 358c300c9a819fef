/**
 * A stream that finds every connection of the pool held (by other streams) waits at most
 * `acquireTimeout`, then fails with PoolTimeout, as a statement does: on PostgreSQL it used to
 * wait until the first stream was closed, however long that took. Nothing of the refused stream
 * runs later: the pool serves streams and statements normally once the first stream ends.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { createBackend, isDbError, run, sql, type Backend } from 'recordkit'
import { MYSQL_URL, PG_URL, serverAvailable } from './support/servers.js'

const mariadbAvailable = await serverAvailable('mariadb')
const postgresAvailable = await serverAvailable('postgres')

const ACQUIRE = 1000

const engines = [
  { name: 'postgres', available: postgresAvailable, open: () => run(createBackend({ engine: 'postgres', url: PG_URL, max: 1, acquireTimeout: ACQUIRE })) },
  { name: 'mariadb', available: mariadbAvailable, open: () => run(createBackend({ engine: 'mariadb', url: MYSQL_URL, max: 1, acquireTimeout: ACQUIRE })) },
] as const

const ROWS = sql`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000) SELECT i FROM n`

/** How a promise settles, and after how many milliseconds; 'hung' after `ms`. */
const settle = async <A>(p: Promise<A>, ms = 10_000): Promise<{ readonly outcome: A | 'hung' | { readonly threw: unknown }; readonly ms: number }> => {
  const t0 = performance.now()
  let timer: ReturnType<typeof setTimeout> | undefined
  const outcome = await Promise.race([
    p.then((a) => a, (e: unknown) => ({ threw: e })),
    new Promise<'hung'>((r) => { timer = setTimeout(() => r('hung'), ms) }),
  ])
  clearTimeout(timer)
  return { outcome, ms: performance.now() - t0 }
}

let open: Backend | undefined
afterEach(async () => {
  if (open !== undefined) await run(open.close({ timeout: 1000 }))
  open = undefined
})

for (const engine of engines) {
  describe.skipIf(!engine.available)(`${engine.name}: a stream on a full pool`, () => {
    it('fails with PoolTimeout after acquireTimeout, as a statement does; the pool serves again once the first stream ends', async () => {
      const db = (open = await engine.open())
      const first = db.stream<{ i: number }>(ROWS, { batchSize: 10 })[Symbol.asyncIterator]()
      expect(Number((await first.next()).value.i)).toBe(1)

      const second = await settle(db.stream(sql`SELECT 2 AS x`)[Symbol.asyncIterator]().next())
      expect(second.outcome).toMatchObject({ threw: { _tag: 'PoolTimeout', sql: 'SELECT 2 AS x' } })
      expect(second.ms).toBeGreaterThanOrEqual(ACQUIRE - 50)
      expect(second.ms).toBeLessThan(ACQUIRE + 2000)

      const statement = await settle(db.all(sql`SELECT 3 AS x`)())
      expect(statement.outcome).toMatchObject({ _tag: 'Left', left: { _tag: 'PoolTimeout' } })

      // The first stream is untouched by the refusals and reads on to its end.
      let n = 1
      for (;;) {
        const r = await first.next()
        if (r.done === true) break
        n++
      }
      expect(n).toBe(1000)

      const again: number[] = []
      for await (const row of db.stream<{ x: number }>(sql`SELECT 4 AS x`)) again.push(Number(row.x))
      expect(again).toEqual([4])
      expect(await run(db.all<{ x: number }>(sql`SELECT 5 AS x`))).toEqual([{ x: 5 }])
    })

    it('a stream that waited and got a connection within acquireTimeout runs', async () => {
      const db = (open = await engine.open())
      const first = db.stream(ROWS, { batchSize: 10 })[Symbol.asyncIterator]()
      await first.next()
      const waiting = settle(db.stream<{ x: number }>(sql`SELECT 6 AS x`)[Symbol.asyncIterator]().next())
      setTimeout(() => { void first.return?.() }, ACQUIRE / 4)
      const r = await waiting
      expect(r.outcome).toMatchObject({ done: false, value: { x: 6 } })
      expect(isDbError((r.outcome as { threw?: unknown }).threw)).toBe(false)
    })
  })
}
