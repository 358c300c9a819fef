/**
 * postgres.js 3.4 reads the server's array types on each new connection with a query of its own
 * whose promise it drops: when the connection fails during that query, the rejection is
 * unhandled, and Node's default for an unhandled rejection ends the process. An application
 * must outlive a server restart: the call that wanted the connection ends with its own result or
 * ConnectionError, and the process goes on.
 *
 * Each case runs in its own Node process with no `unhandledRejection` listener (vitest has one,
 * which would hide the crash), as a plain application runs.
 */
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { PG_URL, serverAvailable } from './support/servers.js'

const root = join(import.meta.dirname, '..')

/** Run `body` (top-level await, after the shared imports) in a fresh process; its stdout's last line is JSON. */
const child = (body: string, nodeArgs: readonly string[] = []): { status: number | null; out: unknown; stderr: string } => {
  const script = [
    `import { faultProxy, holding } from ${JSON.stringify(join(root, 'test/faults-proxy.ts'))}`,
    `import { compose, sql } from ${JSON.stringify(join(root, 'src/index.ts'))}`,
    `import { postgres } from ${JSON.stringify(join(root, 'src/dialects/postgres.ts'))}`,
    `import { postgresJs } from ${JSON.stringify(join(root, 'src/drivers/postgres.ts'))}`,
    `const PG_URL = ${JSON.stringify(PG_URL)}`,
    body,
  ].join('\n')
  const r = spawnSync(process.execPath, [...nodeArgs, '--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, encoding: 'utf8', timeout: 60_000 })
  const last = r.stdout.trim().split('\n').pop() ?? ''
  let out: unknown
  try {
    out = JSON.parse(last)
  } catch {
    out = last
  }
  return { status: r.status, out, stderr: r.stderr }
}

/**
 * A backend through a proxy that cuts a new connection when postgres.js sends its type query.
 * The connection is one a transaction opens (its first connection busy with a statement), so
 * postgres.js has no statement of the caller's on it to fail: the type query's own rejection is
 * what is left. Then a call that must succeed.
 */
const restartDuringTypeFetch = `
const proxy = await faultProxy(PG_URL)
const db = compose(postgresJs({ url: proxy.url(PG_URL), max: 2, reconnectDelay: () => 10, acquireTimeout: 5_000 }), postgres)
const outcome = (r) => r._tag === 'Right' ? r.right : r.left._tag
const warm = outcome(await db.all(sql\`SELECT 1 AS one\`)())
const busy = db.all(sql\`SELECT pg_sleep(0.3) AS slept\`)()
await new Promise((r) => setTimeout(r, 50))
const cut = proxy.loseRequest(holding('pg_catalog.pg_type'))
const transaction = outcome(await db.transaction((tx) => tx.all(sql\`SELECT 2 AS two\`))())
await cut
await busy
await new Promise((r) => setTimeout(r, 200))
const again = outcome(await db.all(sql\`SELECT 3 AS three\`)())
await db.close({ timeout: 200 })()
await proxy.close()
console.log(JSON.stringify({ warm, transaction, again }))
`

describe('PostgreSQL: a connection cut while postgres.js reads the array types', () => {
  let up = false
  beforeAll(async () => {
    up = await serverAvailable('postgres')
  })

  it('ends the call with a result or a ConnectionError, and the process goes on', ({ skip }) => {
    if (!up) skip()
    const r = child(restartDuringTypeFetch)
    expect(r.stderr).not.toMatch(/pg_catalog\.pg_type/)
    expect(r.status).toBe(0)
    const out = r.out as { warm: unknown; transaction: unknown; again: unknown }
    expect(out.warm).toEqual([{ one: 1 }])
    // postgres.js loses a reservation whose connection failed while starting; asked again, it is served.
    expect(out.transaction).toEqual([{ two: 2 }])
    expect(out.again).toEqual([{ three: 3 }])
  }, 60_000)

  it('still ends the process for an unhandled rejection of its own, as Node does by default', ({ skip }) => {
    if (!up) skip()
    const r = child(`${restartDuringTypeFetch}
setTimeout(() => { Promise.reject(new Error('the application forgot this one')) }, 0)
setTimeout(() => console.log('"still running"'), 500)
`)
    expect(r.status).not.toBe(0)
    expect(r.stderr).toContain('the application forgot this one')
    expect(r.out).not.toBe('still running')
  }, 60_000)

  it("leaves an application's own listener in charge: it sees what it saw before", ({ skip }) => {
    if (!up) skip()
    const r = child(`
const seen = []
process.on('unhandledRejection', (e) => seen.push(String(e?.message ?? e)))
${restartDuringTypeFetch}
Promise.reject(new Error('mine'))
await new Promise((r) => setTimeout(r, 50))
console.log(JSON.stringify(seen.filter((m) => m === 'mine')))
`)
    expect(r.status).toBe(0)
    expect(r.out).toEqual(['mine'])
  }, 60_000)
})
