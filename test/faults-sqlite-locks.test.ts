/**
 * SQLite with two connections to one file (two backends, as two processes would have): a write
 * that meets the other's write lock waits `busyTimeout`, then fails with LockTimeout, having
 * written nothing; a transaction whose snapshot another connection's commit made stale fails its
 * first write with SerializationFailure, which `retry` answers by running the whole transaction
 * again; a database opened read-only reads, and refuses every write with a typed error naming the
 * statement. (A full disk is not provoked: it cannot be made here without privileges.)
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { type Backend, compose, type DbError, retry, sql, wrap } from 'recordkit'
import { sqlite } from 'recordkit/dialects/sqlite'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'
import { run } from 'recordkit/promise'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const dir = mkdtempSync(join(tmpdir(), 'recordkit-faults-locks-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

let files = 0
const opened: Backend[] = []
afterEach(async () => {
  for (const db of opened.splice(0)) await db.close()()
})
/** A fresh file with table t, and `n` backends on it (each its own connection). */
const onOneFile = async (options: readonly { readonly busyTimeout?: number; readonly readonly?: boolean }[]): Promise<Backend[]> => {
  const filename = join(dir, `db-${++files}.sqlite`)
  const first = compose(betterSqlite3({ filename }), sqlite)
  await run(first.execute(sql`CREATE TABLE t (id INTEGER PRIMARY KEY, note TEXT NOT NULL)`))
  await run(first.close())
  const dbs = options.map((o) => compose(betterSqlite3({ filename, ...o }), sqlite))
  opened.push(...dbs)
  return dbs
}
const ids = async (db: Backend): Promise<number[]> => (await run(db.all<{ id: number }>(sql`SELECT id FROM t ORDER BY id`))).map((r) => r.id)
const left = (r: E.Either<unknown, unknown>): DbError => {
  if (E.isRight(r)) throw new Error(`expected a failure, got ${JSON.stringify(r.right)}`)
  return r.left as DbError
}

describe('SQLite: two connections to one file', () => {
  it('a write that meets the other connection\'s write lock fails with LockTimeout after busyTimeout, writes nothing, and works once the lock is gone', async () => {
    const [a, b] = await onOneFile([{}, { busyTimeout: 150 }])
    let release!: () => void
    const held = new Promise<void>((r) => { release = r })
    const holder = a.transaction((tx) => async () => {
      await run(tx.execute(sql`INSERT INTO t VALUES (1, 'a')`))
      await held
      return E.right(undefined)
    })()
    await sleep(20)
    for (const write of [
      () => b.execute(sql`INSERT INTO t VALUES (2, 'b'), (3, 'b')`)(),
      () => b.transaction((tx) => tx.execute(sql`INSERT INTO t VALUES (4, 'b')`))(),
    ]) {
      const started = performance.now()
      const e = left(await write())
      const waited = performance.now() - started
      expect(e._tag).toBe('LockTimeout')
      expect(e.code).toBe('SQLITE_BUSY')
      expect(e.sql).toMatch(/^INSERT INTO t/)
      expect(waited).toBeGreaterThanOrEqual(140)
      expect(waited).toBeLessThan(1_000)
    }
    // Reads go on meanwhile (WAL), and see the committed state only.
    expect(await ids(b)).toEqual([])
    release()
    expect(E.isRight(await holder)).toBe(true)
    await run(b.execute(sql`INSERT INTO t VALUES (2, 'b'), (3, 'b')`))
    expect(await ids(a)).toEqual([1, 2, 3])
  })

  it('a transaction that read before the other connection committed fails its first write with SerializationFailure; retry runs it again whole', async () => {
    const [a, b] = await onOneFile([{}, {}])
    let runs = 0
    const transfer = (db: Backend) => db.transaction((tx) => async () => {
      runs++
      const seen = (await run(tx.all<{ n: number }>(sql`SELECT COUNT(*) AS n FROM t`)))[0].n
      // The other connection commits after this transaction's snapshot was taken (first run only).
      if (runs === 1) await run(a.execute(sql`INSERT INTO t VALUES (1, 'a')`))
      return tx.execute(sql`INSERT INTO t VALUES (${100 + runs}, ${`saw ${seen}`})`)()
    })()
    const e = left(await transfer(b))
    expect(e._tag).toBe('SerializationFailure')
    expect(e.code).toBe('SQLITE_BUSY_SNAPSHOT')
    expect(await ids(a)).toEqual([1])
    runs = 0
    await run(a.execute(sql`DELETE FROM t`))
    const retried = await transfer(wrap(b, retry({ attempts: 3, backoff: () => 1 })))
    expect(E.isRight(retried)).toBe(true)
    expect(runs).toBe(2)
    expect(await run(a.all(sql`SELECT id, note FROM t ORDER BY id`))).toEqual([{ id: 1, note: 'a' }, { id: 102, note: 'saw 1' }])
  })

  it('a database opened read-only reads, and refuses each write with a typed error naming it; nothing is written', async () => {
    const [writer, reader] = await onOneFile([{}, { readonly: true }])
    await run(writer.execute(sql`INSERT INTO t VALUES (1, 'a')`))
    expect(await ids(reader)).toEqual([1])
    for (const write of [
      () => reader.execute(sql`INSERT INTO t VALUES (2, 'r')`)(),
      () => reader.transaction((tx) => tx.execute(sql`UPDATE t SET note = 'r'`))(),
      () => reader.execute(sql`CREATE TABLE u (id INTEGER)`)(),
    ]) {
      const e = left(await write())
      expect(e._tag).toBe('QueryError')
      expect(e.code).toBe('SQLITE_READONLY')
      expect(e.message).toMatch(/readonly database\n {2}SQL: (INSERT|UPDATE|CREATE)/)
    }
    expect(await run(writer.all(sql`SELECT id, note FROM t`))).toEqual([{ id: 1, note: 'a' }])
    // The writer's later commits are seen by the reader.
    await run(writer.execute(sql`INSERT INTO t VALUES (3, 'a')`))
    expect(await ids(reader)).toEqual([1, 3])
  })
})
