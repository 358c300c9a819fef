/**
 * A multi-host PostgreSQL pool under TLS, on a throwaway server with a self-signed certificate
 * listed twice (`sslmode=require` in the URL, as postgres.js reads it). postgres.js takes over
 * each socket's listeners for TLS, so the driver sees neither the session nor the socket's close
 * there; the answer deadline then counts only for the statement a connection waits for (the one
 * running), as everywhere else, never for those pipelined behind it, which are healthy and
 * merely wait their turn.
 */
import { execFileSync } from 'node:child_process'
import { chmodSync, chownSync } from 'node:fs'
import { join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connect, run, sql } from 'recordkit'
import { postgres } from 'recordkit/dialects/postgres'
import { postgresJs } from 'recordkit/drivers/postgres'
import { clusterAvailable, lockPorts, startPgPrimary, type PgCluster } from '../support/cluster.js'

const PORT = 21460

describe.skipIf(!clusterAvailable('postgres'))('several hosts under TLS', () => {
  let cluster: PgCluster
  let release: (() => void) | undefined

  beforeAll(async () => {
    release = await lockPorts('failover-tls')
    cluster = startPgPrimary(PORT)
    const { data } = cluster.primary
    const cert = join(data, 'server.crt')
    const key = join(data, 'server.key')
    execFileSync('openssl', ['req', '-new', '-x509', '-days', '2', '-nodes', '-subj', '/CN=127.0.0.1', '-newkey', 'rsa:2048', '-keyout', key, '-out', cert], { stdio: 'ignore' })
    if (process.getuid?.() === 0) {
      const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim())
      const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim())
      chownSync(cert, uid, gid)
      chownSync(key, uid, gid)
    }
    chmodSync(key, 0o600)
    cluster.primary.psql(`ALTER SYSTEM SET ssl_cert_file = '${cert}'`)
    cluster.primary.psql(`ALTER SYSTEM SET ssl_key_file = '${key}'`)
    cluster.primary.psql('ALTER SYSTEM SET ssl = on')
    cluster.primary.psql('SELECT pg_reload_conf()')
    for (let i = 0; i < 50 && cluster.primary.psql('SHOW ssl').trim() !== 'on'; i++) await new Promise((r) => setTimeout(r, 100))
  }, 120_000)

  afterAll(() => {
    cluster?.destroy()
    release?.()
  })

  it('answers statements pipelined behind slow ones for longer than answerTimeout in all', async () => {
    const url = `postgres://postgres@127.0.0.1:${PORT},127.0.0.1:${PORT}/postgres?sslmode=require`
    // One connection: the eight statements are pipelined on it, 0.4 s each, 3.2 s in all, while
    // each runs for well under answerTimeout.
    const db = await run(connect(postgresJs({ url, max: 1, answerTimeout: 1_500, acquireTimeout: 10_000 }), postgres))
    try {
      const [tls] = await run(db.all<{ ssl: boolean }>(sql`SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()`))
      expect(tls).toEqual({ ssl: true })
      const calls = Array.from({ length: 8 }, (_, i) => db.execute(sql`SELECT ${i}::int AS n FROM pg_sleep(0.4)`)())
      const answers = (await Promise.all(calls)).map((r) => (E.isRight(r) ? r.right.rows : `${r.left._tag} ${String(r.left.code)}`))
      expect(answers).toEqual(Array.from({ length: 8 }, (_, n) => [{ n }]))
    } finally {
      await db.close()()
    }
  }, 60_000)
})
