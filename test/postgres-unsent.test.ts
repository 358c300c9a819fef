/**
 * Statements postgres.js holds because no connection ever opens (a host that accepts TCP and
 * then says nothing, as a stalled server or a black-holed proxy does): each fails with
 * PoolTimeout about acquireTimeout after it was given, whatever the number in flight, and those
 * given later fail later (one watchdog serves them all, in the order they came). A statement
 * that timed out never runs, even when a connection takes it later.
 */
import net from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { postgresJs } from 'recordkit/drivers/postgres'
import { PG_URL, serverAvailable } from './support/servers.js'

const available = await serverAvailable('postgres')

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

/**
 * A TCP proxy to the test server that can drop its connections and then hold new ones without
 * a word (a black hole), and later let the held ones through.
 */
const blackHoleProxy = async (target: URL) => {
  const pairs: net.Socket[] = []
  const held: net.Socket[] = []
  let holding = false
  const through = (client: net.Socket): void => {
    const up = net.connect(Number(target.port || 5432), target.hostname)
    client.on('error', () => up.destroy())
    up.on('error', () => client.destroy())
    client.pipe(up)
    up.pipe(client)
    pairs.push(client, up)
  }
  const server = net.createServer((client) => {
    if (holding) {
      client.on('error', () => {})
      held.push(client)
    } else {
      through(client)
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as net.AddressInfo).port,
    /** Drop every connection; new ones are held without a word. */
    blackHole: () => {
      holding = true
      for (const s of pairs.splice(0)) s.destroy()
    },
    /** Let the held connections (and new ones) through to the server. */
    release: () => {
      holding = false
      for (const c of held.splice(0)) through(c)
    },
    close: async () => {
      for (const s of [...pairs.splice(0), ...held.splice(0)]) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

describe.skipIf(!available)('postgres.js statements unsent after the pool has run', () => {
  const direct = postgresJs({ url: PG_URL, max: 1 })
  beforeAll(async () => {
    await direct.execute({ sql: 'DROP TABLE IF EXISTS rk_unsent_writes', params: [] })()
    await direct.execute({ sql: 'CREATE TABLE rk_unsent_writes (id int)', params: [] })()
  })
  afterAll(async () => {
    await direct.execute({ sql: 'DROP TABLE IF EXISTS rk_unsent_writes', params: [] })()
    await direct.close()()
  })

  it('fail with PoolTimeout after acquireTimeout, never run when a connection takes them later, and the pool goes on', async () => {
    const proxy = await blackHoleProxy(new URL(PG_URL))
    const url = new URL(PG_URL)
    url.host = `127.0.0.1:${proxy.port}`
    const driver = postgresJs({ url: url.toString(), max: 1, acquireTimeout: 400, connectTimeout: 30 })
    try {
      // The pool has run a statement (its connection is open, its types known).
      expect((await driver.execute({ sql: 'SELECT 1 AS one', params: [] })())._tag).toBe('Right')
      proxy.blackHole()
      await new Promise((resolve) => setTimeout(resolve, 100))
      const t0 = performance.now()
      const writes = Array.from({ length: 20 }, (_, i) =>
        driver.execute({ sql: 'INSERT INTO rk_unsent_writes (id) VALUES ($1)', params: [i] })().then((r) => ({ r, at: performance.now() - t0 })))
      const answers = await Promise.all(writes)
      for (const { r, at } of answers) {
        expect(r._tag === 'Left' ? r.left._tag : 'Right').toBe('PoolTimeout')
        expect(at).toBeGreaterThanOrEqual(390)
        expect(at).toBeLessThan(5000)
      }
      // The held connection opens now and takes the statements postgres.js still holds.
      proxy.release()
      let after: { _tag: string } = { _tag: 'Left' }
      for (let i = 0; i < 50 && after._tag !== 'Right'; i++) {
        after = await driver.execute({ sql: 'SELECT 2 AS two', params: [] })()
        if (after._tag !== 'Right') await new Promise((resolve) => setTimeout(resolve, 100))
      }
      expect(after).toMatchObject({ _tag: 'Right', right: { rows: [{ two: 2 }] } })
      // Whatever postgres.js sent in their place ran before SELECT 2 answered (one connection, in order).
      const count = await direct.execute({ sql: 'SELECT count(*)::int AS n FROM rk_unsent_writes', params: [] })()
      expect(count).toMatchObject({ _tag: 'Right', right: { rows: [{ n: 0 }] } })
    } finally {
      await driver.close({ timeout: 0 })()
      await proxy.close()
    }
  }, 20_000)
})
