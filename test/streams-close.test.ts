/**
 * `close({ timeout })` ends within its timeout on PostgreSQL and MariaDB alike, whatever still
 * runs: a statement outside any transaction, a stream not read to its end, a statement of a
 * transaction that did not end in time. Each of them then fails with ConnectionError at once.
 * (On MariaDB close waited for such a statement to finish, and for ever for a paused stream.)
 */
import { describe, expect, it } from 'vitest'
import { createBackend, run, sql, type Backend, type Fragment } from 'recordkit'
import { MYSQL_URL, PG_URL, serverAvailable } from './support/servers.js'

const mariadbAvailable = await serverAvailable('mariadb')
const postgresAvailable = await serverAvailable('postgres')

const engines: readonly { readonly name: string; readonly available: boolean; readonly open: () => Promise<Backend>; readonly sleep: (s: number) => Fragment }[] = [
  { name: 'postgres', available: postgresAvailable, open: () => run(createBackend({ engine: 'postgres', url: PG_URL, max: 3 })), sleep: (s) => sql`SELECT pg_sleep(${s}) AS slept` },
  { name: 'mariadb', available: mariadbAvailable, open: () => run(createBackend({ engine: 'mariadb', url: MYSQL_URL, max: 3 })), sleep: (s) => sql`SELECT SLEEP(${s}) AS slept` },
]

const ROWS = sql`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000) SELECT i FROM n`

/** How a promise settles, and when (ms since `t0`); 'hung' after `ms`. */
const settled = async <A>(p: Promise<A>, t0: number, ms = 10_000): Promise<{ readonly outcome: A | 'hung' | { readonly threw: unknown }; readonly at: number }> => {
  let timer: ReturnType<typeof setTimeout> | undefined
  const outcome = await Promise.race([
    p.then((a) => a, (e: unknown) => ({ threw: e })),
    new Promise<'hung'>((r) => { timer = setTimeout(() => r('hung'), ms) }),
  ])
  clearTimeout(timer)
  return { outcome, at: performance.now() - t0 }
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms))

for (const engine of engines) {
  describe.skipIf(!engine.available)(`${engine.name}: close({ timeout }) ends within its timeout`, () => {
    it('cuts a statement still running outside any transaction: it fails with ConnectionError', async () => {
      const db = await engine.open()
      const running = db.execute(engine.sleep(3))()
      await pause(200)
      const t0 = performance.now()
      const closing = settled(db.close({ timeout: 500 })(), t0)
      const [closed, statement] = await Promise.all([closing, settled(running, t0)])
      expect(closed.outcome).toEqual({ _tag: 'Right', right: undefined })
      expect(closed.at).toBeGreaterThanOrEqual(450)
      expect(closed.at).toBeLessThan(1500)
      expect(statement.outcome).toMatchObject({ _tag: 'Left', left: { _tag: 'ConnectionError' } })
      expect(statement.at).toBeLessThan(1500)
    })

    it('cuts a stream left open outside any transaction: its next read throws ConnectionError', async () => {
      const db = await engine.open()
      const it = db.stream(ROWS, { batchSize: 100 })[Symbol.asyncIterator]()
      await it.next()
      const t0 = performance.now()
      const closed = await settled(db.close({ timeout: 300 })(), t0)
      expect(closed.outcome).toEqual({ _tag: 'Right', right: undefined })
      expect(closed.at).toBeLessThan(1500)
      // The rows already fetched may still come; then the stream fails instead of ending.
      const drained = await settled((async () => { for (;;) if ((await it.next()).done === true) return 'ended' })(), t0)
      expect(drained.outcome).toMatchObject({ threw: { _tag: 'ConnectionError' } })
    })

    it("cuts a transaction's running statement once the timeout has passed", async () => {
      const db = await engine.open()
      const tx = db.transaction((t) => t.execute(engine.sleep(3)))()
      await pause(200)
      const t0 = performance.now()
      const [closed, inTx] = await Promise.all([settled(db.close({ timeout: 300 })(), t0), settled(tx, t0)])
      expect(closed.outcome).toEqual({ _tag: 'Right', right: undefined })
      expect(closed.at).toBeLessThan(1500)
      expect(inTx.outcome).toMatchObject({ _tag: 'Left', left: { _tag: 'ConnectionError' } })
      expect(inTx.at).toBeLessThan(1500)
    })

    it('waits for a statement that ends within the timeout: it succeeds', async () => {
      const db = await engine.open()
      const running = db.execute(engine.sleep(0.3))()
      await pause(50)
      const t0 = performance.now()
      const [closed, statement] = await Promise.all([settled(db.close({ timeout: 3000 })(), t0), settled(running, t0)])
      expect(closed.outcome).toEqual({ _tag: 'Right', right: undefined })
      expect(closed.at).toBeLessThan(2000)
      expect(statement.outcome).toMatchObject({ _tag: 'Right' })
    })
  })
}
