/**
 * withReplicas sends to the primary a read that calls a function whose answer or effect belongs
 * to the server and session it runs on: the last inserted id and row counts of a session
 * (`LAST_INSERT_ID()`, `last_insert_rowid()`, `currval`, `lastval`), session settings
 * (`set_config`) and administration of other sessions (`pg_cancel_backend`,
 * `pg_terminate_backend`). On a replica they answered for the replica's own sessions (0, another
 * backend) without an error. Seen on each engine through what the replica was sent.
 */
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isDbError, run, sql, wrap, type Backend, type Compiled } from 'recordkit'
import { isReplicaRead, shard, withReplicas, type ReplicatedBackend } from 'recordkit/scale-out'
import { PAIR_ENGINES } from './shard-engines.js'

const SESSION_READS: Record<string, readonly string[]> = {
  sqlite: ['SELECT last_insert_rowid() AS v', 'SELECT changes() AS v', 'SELECT total_changes() AS v'],
  postgres: ["SELECT set_config('application_name', 'probe_f', false) AS v", 'SELECT pg_cancel_backend(0) AS v', 'SELECT pg_terminate_backend(0) AS v', 'SELECT lastval() AS v', "SELECT currval('probe_f_seq') AS v"],
  mariadb: ['SELECT LAST_INSERT_ID() AS v', 'SELECT ROW_COUNT() AS v', 'SELECT FOUND_ROWS() AS v'],
}

describe('isReplicaRead', () => {
  it('is false for the functions of a session or of other sessions, in any case, qualified or quoted', () => {
    for (const text of [...Object.values(SESSION_READS).flat(), 'SELECT pg_catalog.set_config(\'a.b\', \'1\', true)', 'SELECT "lastval"()', 'select Last_Insert_Id()', 'SELECT pg_reload_conf()', 'SELECT pg_stat_reset()']) {
      expect(isReplicaRead({ sql: text, params: [] }), text).toBe(false)
    }
    expect(isReplicaRead({ sql: 'SELECT current_setting(\'a\') AS v, changes_total FROM t', params: [] })).toBe(true)
  })
})

for (const engine of PAIR_ENGINES) {
  describe(`${engine.name}: reads of session state run on the primary`, () => {
    const prefix = 'probe_f_replica_fn'
    let db: ReplicatedBackend | undefined
    const sent: string[] = []
    beforeAll(async () => {
      const parts = await engine.open(prefix)
      if (parts === undefined) return
      const [primary, replica] = parts
      if (engine.name === 'postgres') await run(primary.execute(sql`CREATE SEQUENCE probe_f_seq`))
      const watched = wrap(replica, { execute: (next) => (q) => { sent.push((q as Compiled).sql); return next(q) } })
      db = withReplicas(primary, [watched], { readYourWritesMs: 0, checkEveryMs: 0 })
    })
    afterAll(async () => {
      if (db !== undefined) await run(db.close())
      await engine.drop(prefix)
    })

    it('sends each to the primary, and a plain read to the replica', async (ctx) => {
      if (db === undefined) return ctx.skip()
      if (engine.name === 'postgres') await run(db.transaction((tx) => tx.all(sql`SELECT nextval('probe_f_seq')`)))
      for (const text of SESSION_READS[engine.name]) {
        const r = await db.all(sql.raw(text))()
        // currval and lastval may fail on a pooled connection that did not call nextval: the primary's error.
        if (E.isLeft(r)) expect(isDbError(r.left), text).toBe(true)
      }
      expect(sent).toEqual([])
      await run(db.all(sql`SELECT 1 AS v`))
      expect(sent).toEqual(['SELECT 1 AS v'])
    })
  })
}

describe('a sharded backend', () => {
  it('refuses a read of session state through the sharded backend: each shard would answer for its own session', async () => {
    const parts = await PAIR_ENGINES[0].open('probe_f_unused') as Backend[]
    const db = shard(parts, () => undefined)
    const r = await db.all(sql`SELECT last_insert_rowid() AS v`)()
    expect(E.isLeft(r) && r.left._tag).toBe('UnsupportedFeature')
    expect(E.isLeft(r) && r.left.message).toMatch(/last_insert_rowid\(\)/)
    expect(await run(db.forKey(1).all(sql`SELECT last_insert_rowid() AS v`))).toEqual([{ v: 0 }])
    await run(db.close())
  })
})
