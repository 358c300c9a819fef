/**
 * withReplicas as a read-heavy application uses it, on SQLite, PostgreSQL and MariaDB (two
 * databases of each standing in for a primary and its replica, each with a row saying which it
 * is): a reserved connection (`db.connection()`) runs every statement on the primary, reads
 * included; a controlled transaction (`startTransaction`) sends the scope's later reads to the
 * primary as a callback transaction does; a stream from a replica that accepts connections and
 * never answers gives up on it after `timeoutMs` and reads from the primary.
 */
import net from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { compose, run, sql, type Backend } from 'recordkit'
import { mariadb } from 'recordkit/dialects/mysql'
import { postgres } from 'recordkit/dialects/postgres'
import { mysql2 } from 'recordkit/drivers/mysql2'
import { postgresJs } from 'recordkit/drivers/postgres'
import { withReplicas, type ReplicatedBackend } from 'recordkit/scale-out'
import { PAIR_ENGINES } from './shard-engines.js'

const origins = async (db: Backend, q = sql`SELECT origin FROM probe_f_note ORDER BY id`): Promise<string[]> =>
  (await run(db.all<{ origin: string }>(q))).map((r) => r.origin)

for (const engine of PAIR_ENGINES) {
  describe(`${engine.name}: withReplicas keeps what belongs to the primary on the primary`, () => {
    const prefix = 'probe_f_replicas'
    let db: ReplicatedBackend | undefined

    beforeAll(async () => {
      const parts = await engine.open(prefix)
      if (parts === undefined) return
      const [primary, replica] = parts
      for (const [b, origin] of [[primary, 'primary'], [replica, 'replica']] as const) {
        await run(b.execute(sql`CREATE TABLE probe_f_note (id int PRIMARY KEY, origin varchar(20) NOT NULL)`))
        await run(b.execute(sql`INSERT INTO probe_f_note (id, origin) VALUES (1, ${origin})`))
      }
      db = withReplicas(primary, [replica], { readYourWritesMs: 60_000, checkEveryMs: 0 })
    })
    afterAll(async () => {
      if (db !== undefined) await run(db.close())
      await engine.drop(prefix)
    })
    const use = (ctx: { skip: () => void }): ReplicatedBackend => {
      if (db === undefined) ctx.skip()
      return db!
    }

    it('reads on a reserved connection run on it, on the primary (all, first, query, prepared, stream, batch)', async (ctx) => {
      const db = use(ctx)
      // A plain read in a fresh scope goes to the replica.
      expect(await db.scope(() => origins(db))).toEqual(['replica'])
      await db.scope(async () => {
        const conn = await run(db.connection())
        try {
          expect(await origins(conn)).toEqual(['primary'])
          const first = await run(conn.first<{ origin: string }>(sql`SELECT origin FROM probe_f_note WHERE id = 1`))
          expect(first).toEqual({ _tag: 'Some', value: { origin: 'primary' } })
          expect((await run(conn.query<{ origin: string }>(sql`SELECT origin FROM probe_f_note`))).map((r) => r.origin)).toEqual(['primary'])
          expect((await run(conn.prepare<{ origin: string }>(sql`SELECT origin FROM probe_f_note`).all())).map((r) => r.origin)).toEqual(['primary'])
          const streamed: string[] = []
          for await (const r of conn.stream<{ origin: string }>(sql`SELECT origin FROM probe_f_note`)) streamed.push(r.origin)
          expect(streamed).toEqual(['primary'])
          const batch = await run(conn.executeBatch<{ origin: string }>(sql`SELECT origin FROM probe_f_note WHERE id = ${0}`, [[1]]))
          expect(batch.map((b) => b.rows.map((r) => r.origin))).toEqual([['primary']])
        } finally {
          await run(conn.release())
        }
        // Reading nothing but reads on the connection did not pin this scope's reads to the primary.
        expect(await origins(db)).toEqual(['replica'])
      })
      // The replica answered only the reads made outside the connection.
      expect(db.health()[0].reads).toBe(2)
    })

    it('after a controlled transaction, the same scope reads from the primary (read-your-writes)', async (ctx) => {
      const db = use(ctx)
      await db.scope(async () => {
        const tx = await run(db.startTransaction())
        expect(await origins(tx)).toEqual(['primary'])
        await run(tx.execute(sql`INSERT INTO probe_f_note (id, origin) VALUES (2, 'primary')`))
        await run(tx.commit())
        expect(await origins(db)).toEqual(['primary', 'primary'])
      })
      // Another scope still reads from the replica.
      expect(await db.scope(() => origins(db))).toEqual(['replica'])
      await run(db.primary.execute(sql`DELETE FROM probe_f_note WHERE id = 2`))
    })
  })
}

/** A server that accepts connections and never says a word. */
const silentServer = async (): Promise<{ readonly port: number; readonly close: () => void }> => {
  const sockets = new Set<net.Socket>()
  const server = net.createServer((s) => { sockets.add(s) })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => {
      for (const s of sockets) s.destroy()
      server.close()
    },
  }
}

describe('a stream from a replica that never answers', () => {
  for (const engine of PAIR_ENGINES.filter((e) => e.name !== 'sqlite')) {
    it(`${engine.name}: gives the replica up after timeoutMs and streams from the primary`, async (ctx) => {
      const prefix = 'probe_f_replica_silent'
      const parts = await engine.open(prefix)
      if (parts === undefined) return ctx.skip()
      const silent = await silentServer()
      const [primary, spare] = parts
      await run(spare.close())
      const dead = engine.name === 'postgres'
        ? compose(postgresJs({ url: `postgres://postgres@127.0.0.1:${silent.port}/test`, connectTimeout: 60 }), postgres)
        : compose(mysql2({ url: `mysql://root@127.0.0.1:${silent.port}/test` }), mariadb)
      const db = withReplicas(primary, [dead], { timeoutMs: 500, retryAfterMs: 60_000, checkEveryMs: 0 })
      try {
        const started = performance.now()
        const rows: number[] = []
        for await (const r of db.stream<{ one: number }>(sql`SELECT 1 AS one`)) rows.push(Number(r.one))
        expect(rows).toEqual([1])
        expect(performance.now() - started).toBeLessThan(5000)
        expect(db.health()[0]).toMatchObject({ healthy: false, lastError: { _tag: 'ConnectionError' } })
        // Down, the replica is skipped at once.
        const again = performance.now()
        for await (const r of db.stream<{ one: number }>(sql`SELECT 1 AS one`)) rows.push(Number(r.one))
        expect(rows).toEqual([1, 1])
        expect(performance.now() - again).toBeLessThan(400)
      } finally {
        await run(db.close({ timeout: 500 }))
        silent.close()
        await engine.drop(prefix)
      }
    }, 20_000)
  }
})
