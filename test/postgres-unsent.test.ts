/**
 * Statements postgres.js holds because no connection ever opens (a host that accepts TCP and
 * then says nothing, as a stalled server or a black-holed proxy does): each fails with
 * PoolTimeout about acquireTimeout after it was given, whatever the number in flight, and those
 * given later fail later (one watchdog serves them all, in the order they came).
 */
import net from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { postgresJs } from 'recordkit/drivers/postgres'

describe('postgres.js statements never sent', () => {
  let server: net.Server
  const sockets: net.Socket[] = []
  let port = 0
  beforeAll(async () => {
    server = net.createServer((s) => { sockets.push(s) })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    port = (server.address() as net.AddressInfo).port
  })
  afterAll(async () => {
    for (const s of sockets) s.destroy()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })

  it('fail with PoolTimeout after acquireTimeout, the later ones later', async () => {
    const driver = postgresJs({ url: `postgres://postgres@127.0.0.1:${port}/none`, max: 2, acquireTimeout: 400, connectTimeout: 30 })
    const q = { sql: 'SELECT 1 AS one', params: [] }
    const t0 = performance.now()
    const timed = (p: Promise<{ _tag: string; left?: { _tag: string } }>) => p.then((r) => ({ tag: r._tag === 'Left' ? r.left!._tag : 'Right', at: performance.now() - t0 }))
    const first = Array.from({ length: 50 }, () => timed(driver.execute(q)() as never))
    await new Promise((resolve) => setTimeout(resolve, 200))
    const later = Array.from({ length: 50 }, () => timed(driver.execute(q)() as never))
    const a = await Promise.all(first)
    const b = await Promise.all(later)
    expect(new Set([...a, ...b].map((x) => x.tag))).toEqual(new Set(['PoolTimeout']))
    for (const x of a) expect(x.at).toBeGreaterThanOrEqual(390)
    for (const x of a) expect(x.at).toBeLessThan(2000)
    for (const x of b) expect(x.at).toBeGreaterThanOrEqual(590)
    expect(Math.min(...b.map((x) => x.at))).toBeGreaterThan(Math.max(...a.map((x) => x.at)) - 5)
    await driver.close({ timeout: 0 })()
  }, 20_000)
})
