import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pipe } from 'fp-ts/lib/function.js'
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, describe, expect, it } from 'vitest'
import { compose, dbError, extend, isDbError, promised, run, sql } from 'recordkit'
import { from, insertInto, returning, select, values, where } from 'recordkit/query'
import { sqlite } from '../src/dialects/sqlite.js'
import { betterSqlite3 } from '../src/drivers/better-sqlite3.js'

const dir = mkdtempSync(join(tmpdir(), 'recordkit-bsq-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const memory = () => compose(betterSqlite3({ filename: ':memory:' }), sqlite)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('better-sqlite3 driver: one connection, serialized', () => {
  it('a query issued outside a running transaction waits, and is not rolled back with it', async () => {
    const db = memory()
    await run(db.execute(sql`CREATE TABLE t (v TEXT)`))
    const order: string[] = []
    const tx = db.transaction((t) => async () => {
      await run(t.execute(sql`INSERT INTO t VALUES (${'in-tx'})`))
      order.push('tx wrote')
      await sleep(30)
      order.push('tx rolls back')
      return E.left(dbError('TransactionError', 'roll back on purpose'))
    })()
    await sleep(5)
    // Not inside the transaction's async context: this must wait for the connection.
    const outside = Promise.resolve().then(() => run(db.execute(sql`INSERT INTO t VALUES (${'outside'})`))).then(() => order.push('outside wrote'))
    await Promise.all([tx, outside])
    expect(order).toEqual(['tx wrote', 'tx rolls back', 'outside wrote'])
    expect(await run(db.all(sql`SELECT v FROM t`))).toEqual([{ v: 'outside' }])
  })

  it('ten concurrent transactions each commit whole', async () => {
    const db = memory()
    await run(db.execute(sql`CREATE TABLE t (tx INTEGER, n INTEGER)`))
    await Promise.all(Array.from({ length: 10 }, (_, i) => run(db.transaction((t) => async () => {
      for (let n = 0; n < 5; n++) {
        await run(t.execute(pipe(insertInto('t'), values({ tx: i, n }))))
        await sleep(1)
      }
      const mine = await run(t.all(sql`SELECT COUNT(*) AS c FROM t WHERE tx = ${i}`))
      return E.right(mine[0].c)
    }))))
    expect(await run(db.all(sql`SELECT tx, COUNT(*) AS c FROM t GROUP BY tx ORDER BY tx`))).toEqual(Array.from({ length: 10 }, (_, i) => ({ tx: i, c: 5 })))
  })
})

describe('better-sqlite3 driver: files, WAL and locks', () => {
  it('opens file databases in WAL mode with foreign keys on', async () => {
    const db = compose(betterSqlite3({ filename: join(dir, 'wal.db') }), sqlite)
    expect(await run(db.all(sql`PRAGMA journal_mode`))).toEqual([{ journal_mode: 'wal' }])
    expect(await run(db.all(sql`PRAGMA foreign_keys`))).toEqual([{ foreign_keys: 1 }])
    await run(db.close())
  })

  it('BEGIN IMMEDIATE takes the write lock; a second connection times out with LockTimeout', async () => {
    const file = join(dir, 'lock.db')
    const a = compose(betterSqlite3({ filename: file }), sqlite)
    const b = compose(betterSqlite3({ filename: file, busyTimeout: 50 }), sqlite)
    await run(a.execute(sql`CREATE TABLE t (v INTEGER)`))
    let seen: unknown
    await run(a.transaction((tx) => async () => {
      await run(tx.execute(sql`INSERT INTO t VALUES (1)`))
      const r = await b.transaction((t2) => t2.execute(sql`INSERT INTO t VALUES (2)`), { behavior: 'immediate' })()
      seen = E.isLeft(r) ? r.left._tag : 'committed'
      return E.right(undefined)
    }, { behavior: 'immediate' }))
    expect(seen).toBe('LockTimeout')
    expect(await run(b.all(sql`SELECT v FROM t`))).toEqual([{ v: 1 }])
    await run(a.close())
    await run(b.close())
  })

  it('a stream over a file database leaves the connection free for writes in the loop body', async () => {
    const db = compose(betterSqlite3({ filename: join(dir, 'stream.db') }), sqlite)
    await run(db.execute(sql`CREATE TABLE src (id INTEGER PRIMARY KEY)`))
    await run(db.execute(sql`CREATE TABLE dst (id INTEGER PRIMARY KEY)`))
    await run(db.execute(sql`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300) INSERT INTO src (id) SELECT i FROM n`))
    let copied = 0
    for await (const row of db.stream(sql`SELECT id FROM src ORDER BY id`, { batchSize: 50 })) {
      await run(db.execute(sql`INSERT INTO dst (id) VALUES (${row.id})`))
      copied++
    }
    expect(copied).toBe(300)
    expect(await run(db.all(sql`SELECT COUNT(*) AS n FROM dst`))).toEqual([{ n: 300 }])
    await run(db.close())
  })

  it('a file that cannot be opened is a ConnectionError', async () => {
    const db = compose(betterSqlite3({ filename: join(dir, 'no', 'such', 'dir', 'x.db') }), sqlite)
    const r = await db.execute(sql`SELECT 1`)()
    expect(E.isLeft(r) && r.left._tag).toBe('ConnectionError')
  })
})

describe('better-sqlite3 driver: value policy', () => {
  const big = 2n ** 53n + 1n
  it("integers: 'safe' gives numbers, and BigInt only beyond 2^53", async () => {
    const db = memory()
    expect(await run(db.all(sql`SELECT ${big} AS b, ${2 ** 31} AS i, 1.5 AS f`))).toEqual([{ b: big, i: 2 ** 31, f: 1.5 }])
  })
  it("integers: 'safe' keeps stored integers beyond 2^53 exact in first rows, lists, RETURNING and streams", async () => {
    const db = memory()
    await run(db.execute(sql`CREATE TABLE big (id INTEGER PRIMARY KEY, n INTEGER, r REAL)`))
    const rows = [{ id: 1, n: big, r: 2 ** 60 }, { id: 2, n: -big, r: 0.5 }, { id: 3, n: 2 ** 40, r: 1 }]
    const returned = await run(db.all(pipe(insertInto('big'), values(rows[0]), returning('id', 'n', 'r'))))
    expect(returned).toEqual([rows[0]])
    await run(db.execute(pipe(insertInto('big'), values(rows.slice(1)))))
    const q = pipe(from('big'), select('id', 'n', 'r'))
    expect(await run(db.all(q))).toEqual(rows)
    expect(await run(db.first(pipe(q, where({ id: 2 }))))).toEqual({ _tag: 'Some', value: rows[1] })
    expect(await run(db.first(pipe(q, where({ id: 3 }))))).toEqual({ _tag: 'Some', value: rows[2] })
    const streamed: unknown[] = []
    for await (const r of db.stream(q)) streamed.push(r)
    expect(streamed).toEqual(rows)
  })
  it("integers: 'bigint' gives BigInt always, 'number' gives numbers always", async () => {
    const asBig = compose(betterSqlite3({ filename: ':memory:', integers: 'bigint' }), sqlite)
    expect(await run(asBig.all(sql`SELECT ${big} AS b, 7 AS i`))).toEqual([{ b: big, i: 7n }])
    const asNumber = compose(betterSqlite3({ filename: ':memory:', integers: 'number' }), sqlite)
    expect(await run(asNumber.all(sql`SELECT 7 AS i`))).toEqual([{ i: 7 }])
  })
  it('insertId and rowsAffected', async () => {
    const db = memory()
    await run(db.execute(sql`CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)`))
    const r = await run(db.execute(pipe(insertInto('t'), values([{ v: 'a' }, { v: 'b' }]))))
    expect(r).toEqual({ rows: [], rowsAffected: 2, insertId: 2 })
  })
  it('reuses prepared statements by SQL text and survives more distinct statements than the cache holds', async () => {
    const db = compose(betterSqlite3({ filename: ':memory:', statementCacheSize: 4 }), sqlite)
    for (let i = 0; i < 20; i++) expect(await run(db.all(sql.raw(`SELECT ${i} AS n`)))).toEqual([{ n: i }])
    const q = pipe(from('sqlite_master'), select('name'), where({ type: 'table' }))
    for (let i = 0; i < 3; i++) expect(await run(db.all(q))).toEqual([])
  })
})

describe('better-sqlite3 driver: connection set-up is an overridable field', () => {
  it('extend adds a pragma on connect', async () => {
    const driver = extend(betterSqlite3({ filename: ':memory:' }), (_, base) => ({
      onConnect: (conn) => {
        base.onConnect(conn)
        conn.pragma('user_version = 42')
      },
    }))
    const db = compose(driver, sqlite)
    expect(await run(db.all(sql`PRAGMA user_version`))).toEqual([{ user_version: 42 }])
    expect(await run(db.all(sql`PRAGMA foreign_keys`))).toEqual([{ foreign_keys: 1 }])
  })
})

describe('promise adapter', () => {
  it('resolves values, rejects with the DbError, and runs transactions', async () => {
    const db = promised(memory())
    await db.execute(sql`CREATE TABLE t (v TEXT UNIQUE)`)
    await db.transaction(async (tx) => {
      await tx.execute(sql`INSERT INTO t VALUES ('a')`)
      await tx.transaction(async (inner) => inner.execute(sql`INSERT INTO t VALUES ('b')`))
    })
    expect(await db.all(sql`SELECT v FROM t ORDER BY v`)).toEqual([{ v: 'a' }, { v: 'b' }])
    expect(await db.first(sql`SELECT v FROM t WHERE v = 'zz'`)).toBeUndefined()
    const err = await db.execute(sql`INSERT INTO t VALUES ('a')`).catch((e: unknown) => e)
    expect(isDbError(err, 'UniqueViolation')).toBe(true)
    const boom = new Error('boom')
    const thrown = await db.transaction(async (tx) => {
      await tx.execute(sql`INSERT INTO t VALUES ('c')`)
      throw boom
    }).catch((e: unknown) => e)
    expect(thrown).toBe(boom)
    expect(await db.all(sql`SELECT v FROM t ORDER BY v`)).toEqual([{ v: 'a' }, { v: 'b' }])
  })
})
