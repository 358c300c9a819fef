/**
 * A comment before a statement, or a word in a string, does not change what the statement is:
 * the replica router and the shard router read SQL text alike (src/scale-out/sql-text.ts), with
 * comments dropped and strings set apart. Run on every engine, with two databases of each
 * standing in for two shards, or for a primary and its replica.
 */
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { run, sql, type Backend } from 'recordkit'
import { isReplicaRead, withReplicas, type ReplicatedBackend } from 'recordkit/scale-out'
import { PAIR_ENGINES, rowsByShard, SEEDED, shardedOrders } from './shard-engines.js'

const read = (text: string, flavour?: 'standard' | 'mysql') => isReplicaRead({ sql: text, params: [] }, flavour)

describe('isReplicaRead reads past comments and strings', () => {
  it('takes a read behind a block or line comment as a read', () => {
    for (const text of ['/* hi */ SELECT count(*) FROM orders', '-- hi\nSELECT 1', '--hi\nSELECT 1', '/* a */ -- b\n /* c */ (SELECT 1) UNION (SELECT 2)', '# hi\nSELECT 1', "SELECT 'update me', \"delete\" FROM t"]) {
      expect(read(text), text).toBe(true)
    }
  })

  it('does not take a write behind a comment, a second statement or a MySQL-run comment as a read', () => {
    for (const text of ['/* hi */ DELETE FROM orders', '-- SELECT\nUPDATE t SET a = 1', 'SELECT 1; DELETE FROM t', '/*! DELETE FROM t */ SELECT 1', 'SELECT 1 /* x */ FOR UPDATE', "SELECT 'a\\' ; DELETE FROM t; --'"]) {
      expect(read(text), text).toBe(false)
    }
  })

  it('reads the text as the engine family reads it when told which', () => {
    // `#` is a comment on MySQL: there the line after it is not code.
    expect(read("SELECT 1 # it's\n", 'mysql')).toBe(true)
    expect(read("SELECT 1 # it's\n")).toBe(false)
    // On PostgreSQL `#>>` is an operator and a backslash does not escape a quote.
    expect(read("SELECT doc #>> '{a}' FROM t", 'standard')).toBe(true)
    expect(read("SELECT 'a\\' ; DELETE FROM t; --'", 'standard')).toBe(false)
  })
})

for (const engine of PAIR_ENGINES) {
  describe(`${engine.name}: withReplicas sends a read behind a comment to a replica`, () => {
    let db: ReplicatedBackend | undefined
    beforeAll(async () => {
      const parts = await engine.open('rk_comments_replica')
      if (parts === undefined) return
      const [primary, replica]: Backend[] = parts
      for (const [b, origin] of [[primary, 'primary'], [replica, 'replica']] as const) {
        await run(b.execute(sql`CREATE TABLE note (id int PRIMARY KEY, origin varchar(10) NOT NULL)`))
        await run(b.execute(sql`INSERT INTO note (id, origin) VALUES (1, ${origin})`))
      }
      db = withReplicas(primary, [replica], { readYourWritesMs: 0, checkEveryMs: 0 })
    })
    afterAll(async () => {
      if (db !== undefined) await run(db.close())
      await engine.drop('rk_comments_replica')
    })

    it('routes by what the statement is, not by its first characters', async (ctx) => {
      if (db === undefined) return ctx.skip()
      const origin = async (text: string) => (await run(db!.all<{ origin: string }>(sql.raw(text))))[0]?.origin
      expect(await origin('/* report */ SELECT origin FROM note WHERE id = 1')).toBe('replica')
      expect(await origin('-- report\nSELECT origin FROM note WHERE id = 1')).toBe('replica')
      expect(await origin("SELECT origin FROM note WHERE origin <> 'delete' AND id = 1")).toBe('replica')
      // A row lock after a comment still makes the read the primary's (SQLite has no FOR UPDATE).
      if (engine.name !== 'sqlite') expect(await origin('/* report */ SELECT origin FROM note WHERE id = 1 FOR UPDATE')).toBe('primary')
    })
  })

  describe(`${engine.name}: a sharded backend takes a read behind a comment as a read`, () => {
    const shards = shardedOrders(engine, 'rk_comments_shard')

    it('gathers a commented read from every shard', async (ctx) => {
      const db = shards.use(ctx)
      const ids = async (text: string, tenant: string) => (await run(db.all<{ id: number }>(sql`${sql.raw(text)} ${tenant}`))).map((r) => Number(r.id)).sort()
      expect(await ids('/* hi */ select id from orders where tenant =', 'acme')).toEqual([1])
      expect(await ids('-- hi\nselect id from orders where tenant =', 'globex')).toEqual([2])
      expect(await ids('/* a */ -- b\n select id from orders where tenant <>', 'acme')).toEqual([2, 3, 4])
    })

    it('still refuses a write behind a comment, or after a read in the same text, before anything runs', async (ctx) => {
      const db = shards.use(ctx)
      for (const text of ['/* hi */ DELETE FROM orders', '-- tidy up\nUPDATE orders SET total = 0', 'SELECT 1; DELETE FROM orders']) {
        const r = await db.execute(sql.raw(text))()
        expect(E.isLeft(r) && r.left._tag, text).toBe('UnsupportedFeature')
      }
      expect(await rowsByShard(db)).toEqual(SEEDED)
    })
  })
}
