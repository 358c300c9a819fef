/**
 * The routing rules of the scale-out compositions, on embedded SQLite (no servers): which
 * statements a replica may take, what PgBouncer transaction pooling refuses, how shards are
 * picked and what a sharded backend refuses before running anything.
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { compose, run, sql, type Backend } from 'recordkit'
import { from, insertInto, orderBy, select, values, where } from 'recordkit/query'
import { sqlite } from 'recordkit/dialects/sqlite'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'
import { hashRoute, isReplicaRead, setsSessionState, shard, withReplicas } from 'recordkit/scale-out'

const memory = async (): Promise<Backend> => {
  const db = compose(betterSqlite3({ filename: ':memory:' }), sqlite)
  await run(db.execute(sql`CREATE TABLE t (id INTEGER PRIMARY KEY, k TEXT NOT NULL, v INTEGER)`))
  return db
}

describe('isReplicaRead', () => {
  const read = (text: string) => isReplicaRead({ sql: text, params: [] })
  it('takes plain reads', () => {
    for (const text of ['SELECT 1', ' (SELECT a FROM t) UNION (SELECT b FROM u)', 'WITH x AS (SELECT 1) SELECT * FROM x', 'VALUES (1)', 'SHOW search_path', 'EXPLAIN SELECT 1']) expect(read(text), text).toBe(true)
  })
  it('leaves writes, locks and writing functions to the primary', () => {
    for (const text of [
      'INSERT INTO t VALUES (1)', 'UPDATE t SET a = 1', 'CREATE TABLE x (a int)', 'SET search_path = app', 'BEGIN',
      'SELECT * FROM t FOR UPDATE', 'SELECT * FROM t FOR NO KEY UPDATE SKIP LOCKED', 'SELECT * FROM t LOCK IN SHARE MODE',
      "SELECT nextval('s')", 'SELECT pg_advisory_lock(1)', 'SELECT * INTO copy FROM t',
      'WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d', 'EXPLAIN ANALYZE SELECT 1', 'EXPLAIN UPDATE t SET a = 1',
    ]) expect(read(text), text).toBe(false)
  })
})

describe('setsSessionState', () => {
  it('flags session state, not transaction-scoped settings', () => {
    expect(['SET search_path = a', 'set TimeZone to UTC', 'RESET ALL', 'LISTEN x', 'PREPARE p AS SELECT 1', 'DISCARD ALL', 'DECLARE c CURSOR WITH HOLD FOR SELECT 1', 'SELECT pg_advisory_lock(1)'].every(setsSessionState)).toBe(true)
    expect(['SET LOCAL search_path = a', 'SET TRANSACTION ISOLATION LEVEL SERIALIZABLE', 'SET CONSTRAINTS ALL DEFERRED', 'SELECT pg_advisory_xact_lock(1)', 'SELECT 1'].some(setsSessionState)).toBe(false)
  })
})

describe('withReplicas on embedded databases', () => {
  it('routes by statement and falls back to the primary when a replica fails', async () => {
    const primary = await memory()
    const replica = compose(betterSqlite3({ filename: ':memory:' }), sqlite) // no table: every read fails there
    const db = withReplicas(primary, [replica], { readYourWritesMs: 0 })
    await run(db.execute(pipe(insertInto('t'), values({ id: 1, k: 'a', v: 1 }))))
    // The replica lacks the table (a lagging replica): the read runs again on the primary.
    expect(await db.scope(() => run(db.all(pipe(from('t'), select('id')))))).toEqual([{ id: 1 }])
    expect(db.health()[0]).toMatchObject({ healthy: true, reads: 0 })
    await run(db.close())
  })

  it('marks a replica that cannot connect as down, and keeps answering from the primary', async () => {
    const primary = await memory()
    const broken = compose(betterSqlite3({ filename: '/nonexistent-dir/nope.db' }), sqlite)
    const seen: boolean[] = []
    const db = withReplicas(primary, [broken], { readYourWritesMs: 0, retryAfterMs: 60_000, onHealth: (h) => seen.push(h.healthy) })
    for (let i = 0; i < 3; i++) expect(await run(db.all(sql`SELECT count(*) AS n FROM t`))).toEqual([{ n: 0 }])
    expect(db.health()[0].healthy).toBe(false)
    expect(db.health()[0].lastError?._tag).toBe('ConnectionError')
    expect(seen).toEqual([false]) // marked down once, then skipped
    await run(primary.close())
  })
})

describe('shard on embedded databases', () => {
  it('spreads keys with a stable hash', () => {
    expect(hashRoute('acme', 4)).toBe(hashRoute('acme', 4))
    expect(hashRoute(1, 4)).toBe(hashRoute('1', 4))
    expect(new Set(Array.from({ length: 100 }, (_, i) => hashRoute(`tenant-${i}`, 2))).size).toBe(2)
  })

  it('refuses a bad route, scatter streams with ORDER BY, and writes to tables without a key', async () => {
    const shards = [await memory(), await memory()]
    const bad = shard(shards, () => 'k', { route: () => 7 })
    const r = await bad.execute(pipe(insertInto('t'), values({ id: 1, k: 'x', v: 1 })))()
    expect(E.isLeft(r) && r.left._tag).toBe('QueryError')
    const db = shard(shards, (table) => (table === 't' ? 'k' : undefined))
    await run(db.execute(pipe(insertInto('t'), values({ id: 1, k: 'x', v: 1 }))))
    await expect(async () => { for await (const _ of db.stream(pipe(from('t'), orderBy('id')))) { /* nothing */ } }).rejects.toMatchObject({ _tag: 'UnsupportedFeature' })
    const other = await db.execute(pipe(insertInto('u'), values({ id: 1 })))()
    expect(E.isLeft(other) && other.left._tag).toBe('UnsupportedFeature')
    const keyed = await run(db.all(pipe(from('t'), where({ k: 'x' }))))
    expect(keyed).toEqual([{ id: 1, k: 'x', v: 1 }])
    await run(db.close())
  })
})
