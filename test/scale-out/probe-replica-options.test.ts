/**
 * withReplicas with options an application writes itself (`check`, `onHealth`, `pick`) that
 * misbehave: each call still ends with the rows or a typed error, never a rejected Promise or an
 * unhandled rejection. On embedded SQLite and on PostgreSQL (two schemas standing in for a
 * primary and its replica).
 */
import { afterAll, describe, expect, it } from 'vitest'
import { run, sql, type Backend } from 'recordkit'
import { withReplicas } from 'recordkit/scale-out'
import { PAIR_ENGINES } from './shard-engines.js'

for (const engine of PAIR_ENGINES.filter((e) => e.name !== 'mariadb')) {
  describe(`${engine.name}: withReplicas options that throw`, () => {
    const prefix = 'probe_f_replica_opts'
    const opened: Backend[] = []
    const pair = async (ctx: { skip: () => void }): Promise<Backend[]> => {
      const parts = await engine.open(prefix)
      if (parts === undefined) ctx.skip()
      for (const [b, origin] of [[parts![0], 'primary'], [parts![1], 'replica']] as const) {
        await run(b.execute(sql`DROP TABLE IF EXISTS probe_f_o`))
        await run(b.execute(sql`CREATE TABLE probe_f_o (origin varchar(20) NOT NULL)`))
        await run(b.execute(sql`INSERT INTO probe_f_o (origin) VALUES (${origin})`))
      }
      opened.push(...parts!)
      return parts!
    }
    afterAll(async () => {
      for (const b of opened) await b.close()()
      await engine.drop(prefix)
    })
    const origin = async (db: Backend): Promise<string> => (await run(db.all<{ origin: string }>(sql`SELECT origin FROM probe_f_o`)))[0].origin

    it('a check that throws marks the replica down with a ConnectionError', async (ctx) => {
      const [primary, replica] = await pair(ctx)
      const db = withReplicas(primary, [replica], { check: () => { throw new Error('check broke') } })
      const states = await db.checkReplicas()
      expect(states[0]).toMatchObject({ healthy: false, lastError: { _tag: 'ConnectionError' } })
      expect(states[0].lastError?.message).toMatch(/check broke/)
      expect(await origin(db)).toBe('primary')
    })

    it('an onHealth that throws does not fail the read that marked the replica down', async (ctx) => {
      const [primary, replica] = await pair(ctx)
      await run(replica.close())
      const db = withReplicas(primary, [replica], { onHealth: () => { throw new Error('listener broke') }, retryAfterMs: 60_000 })
      expect(await origin(db)).toBe('primary')
      expect(db.health()[0].healthy).toBe(false)
    })

    it('a pick that answers an index that is not a healthy replica reads from a healthy one', async (ctx) => {
      const [primary, replica] = await pair(ctx)
      const db = withReplicas(primary, [replica], { pick: () => 7 })
      expect(await origin(db)).toBe('replica')
      const thrown = withReplicas(primary, [replica], { pick: () => { throw new Error('pick broke') } })
      expect(await origin(thrown)).toBe('replica')
    })
  })
}
