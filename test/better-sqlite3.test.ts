import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pipe } from 'fp-ts/lib/function.js'
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, describe, expect, it } from 'vitest'
import { type Compiled, compose, dbError, extend, isDbError, promised, run, sql, statementOf, wrap } from 'recordkit'
import { and, eq, from, gt, insertInto, lt, or, param, returning, select, values, where } from 'recordkit/query'
import { sqlite } from 'recordkit/dialects/sqlite'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'

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
  it("integers: 'safe' checks only the columns that may hold an integer, whatever their declared type says", async () => {
    const db = memory()
    // NUMERIC, BLOB-affinity (no type), DATETIME and BOOLEAN columns may hold integers; TEXT and REAL cannot.
    await run(db.execute(sql`CREATE TABLE mixed (id INTEGER PRIMARY KEY, t TEXT, num NUMERIC, any_ BLOB, untyped, at DATETIME, flag BOOLEAN, r REAL)`))
    await run(db.execute(sql`INSERT INTO mixed VALUES (1, ${big}, ${big}, ${big}, ${big}, ${big}, ${big}, ${big})`))
    const row = await run(db.first(sql`SELECT t, num, any_, untyped, at, flag, r, untyped + 0 AS expr, t AS num2 FROM mixed`))
    expect(row).toEqual({ _tag: 'Some', value: { t: String(big), num: big, any_: big, untyped: big, at: big, flag: big, r: Number(big), expr: big, num2: String(big) } })
    // A name given twice: the later column is the one in the row.
    expect(await run(db.all(sql`SELECT t AS x, num AS x FROM mixed`))).toEqual([{ x: big }])
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

describe('better-sqlite3 driver: the synchronous path', () => {
  const seeded = async () => {
    const db = memory()
    await run(db.execute(sql`CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL UNIQUE)`))
    await run(db.execute(sql`INSERT INTO t (id, v) VALUES (1, 'a'), (2, 'b')`))
    return db
  }

  it('answers without a Promise: db.sync and prepared.sync', async () => {
    const db = await seeded()
    const now = db.sync!
    expect(now.ready()).toBe(true)
    expect(now.first(pipe(from('t'), select('v'), where(eq('id', 2))))()).toEqual(E.right({ _tag: 'Some', value: { v: 'b' } }))
    expect(now.all(sql`SELECT id FROM t ORDER BY id`)()).toEqual(E.right([{ id: 1 }, { id: 2 }]))
    const p = db.prepare(pipe(from('t'), select('v'), where(eq('id', param('id')))))
    expect(p.sync!.first({ id: 1 })()).toEqual(E.right({ _tag: 'Some', value: { v: 'a' } }))
    expect(p.sync!.first({ id: 3 })()).toEqual(E.right({ _tag: 'None' }))
    const missing = p.sync!.first({})()
    expect(E.isLeft(missing) && missing.left._tag).toBe('QueryError')
    const dup = now.execute(sql`INSERT INTO t (id, v) VALUES (3, 'a')`)()
    expect(E.isLeft(dup) && dup.left._tag).toBe('UniqueViolation')
    // The async forms give the same answers.
    expect(await run(p.first({ id: 1 }))).toEqual({ _tag: 'Some', value: { v: 'a' } })
  })

  it('inside a transaction it runs on the transaction connection; outside it, it is not ready and the async path waits', async () => {
    const db = await seeded()
    const p = db.prepare(pipe(from('t'), select('v'), where(eq('id', param('id')))))
    let seenInside: unknown
    let outsideReady: boolean | undefined
    let outsideSync: unknown
    const tx = db.transaction((t) => async () => {
      await run(t.execute(sql`INSERT INTO t (id, v) VALUES (9, 'in-tx')`))
      seenInside = p.sync!.first({ id: 9 })()
      await sleep(30)
      return E.left(dbError('TransactionError', 'roll back on purpose'))
    })()
    await sleep(5)
    // Another async context while the transaction holds the one connection.
    const outside = await Promise.resolve().then(async () => {
      outsideReady = db.sync!.ready()
      outsideSync = db.sync!.first(sql`SELECT v FROM t WHERE id = 9`)()
      return run(p.first({ id: 9 }))
    })
    await tx
    expect(seenInside).toEqual(E.right({ _tag: 'Some', value: { v: 'in-tx' } }))
    expect(outsideReady).toBe(false)
    expect(E.isLeft(outsideSync as E.Either<unknown, unknown>) && (outsideSync as E.Left<{ _tag: string }>).left._tag).toBe('ConnectionError')
    // The async path waited for the rollback: the row never existed for it.
    expect(outside).toEqual({ _tag: 'None' })
  })

  it('middleware that sees statements turns the synchronous path off, so it sees every one', async () => {
    const db = await seeded()
    const seen: string[] = []
    const logged = wrap(db, { execute: (next, self) => (q) => { seen.push(statementOf(self, q).sql); return next(q) } })
    expect(logged.sync).toBeUndefined()
    const p = logged.prepare(pipe(from('t'), select('v'), where(eq('id', param('id')))))
    expect(p.sync).toBeUndefined()
    expect(await run(p.first({ id: 2 }))).toEqual({ _tag: 'Some', value: { v: 'b' } })
    expect(await run(logged.first(sql`SELECT v FROM t WHERE id = 1`))).toEqual({ _tag: 'Some', value: { v: 'a' } })
    await run(logged.executeBatch(sql`UPDATE t SET v = v || ${'!'} WHERE id = ${0}`, [['!', 1], ['!', 2]]))
    // A batch of writes runs in a transaction of its own (all or nothing), which middleware sees too.
    expect(seen).toEqual(['SELECT "v" FROM "t" WHERE "id" = ?', 'SELECT v FROM t WHERE id = 1', 'BEGIN', 'UPDATE t SET v = v || ? WHERE id = ?', 'UPDATE t SET v = v || ? WHERE id = ?', 'COMMIT'])
    // Middleware that wraps the synchronous path as well keeps it.
    const counted: string[] = []
    const both = wrap(db, {
      execute: (next) => (q) => { counted.push('async'); return next(q) },
      sync: (next) => next === undefined ? undefined : { ...next, execute: (q) => { counted.push('sync'); return next.execute(q) } },
    })
    expect(both.sync).toBeDefined()
    expect(E.isRight(both.sync!.execute(sql`SELECT 1`)())).toBe(true)
    expect(counted).toEqual(['sync'])
    // Middleware on other functions leaves it on.
    expect(wrap(db, { close: (next) => next }).sync).toBeDefined()
    // A copy of the driver with another `execute` and no `sync` of its own has no synchronous path.
    const inner = betterSqlite3({ filename: ':memory:' })
    const ran: string[] = []
    const copied = compose({ ...inner, execute: (q) => { ran.push(q.sql); return inner.execute(q) } }, sqlite)
    expect(copied.sync).toBeUndefined()
    expect(await run(copied.first(sql`SELECT 1 AS one`))).toEqual({ _tag: 'Some', value: { one: 1 } })
    expect(ran).toEqual(['SELECT 1 AS one'])
    // A driver whose synchronous `execute` is replaced: `first` and prepared queries go through it.
    const base = betterSqlite3({ filename: ':memory:' })
    const syncRan: string[] = []
    const watched = compose(extend(base, (_, b) => ({
      execute: b.execute,
      sync: { ...b.sync!, of: b.execute, execute: (q) => { syncRan.push(q.sql); return b.sync!.execute(q) } },
    })), sqlite)
    expect(await run(watched.first(sql`SELECT 2 AS two`))).toEqual({ _tag: 'Some', value: { two: 2 } })
    expect(await run(watched.prepare(sql`SELECT ${sql.placeholder('x')} AS x`).first({ x: 3 }))).toEqual({ _tag: 'Some', value: { x: 3 } })
    expect(syncRan).toEqual(['SELECT 2 AS two', 'SELECT ? AS x'])
  })

  it('first rows on the synchronous path: none, a large integer, a value that cannot be bound, a bad statement', async () => {
    const db = await seeded()
    const p = db.prepare(sql`SELECT v, ${sql.placeholder('n')} AS n FROM t WHERE id = ${sql.placeholder('id')}`)
    expect(await run(p.first({ id: 99, n: 1 }))).toEqual({ _tag: 'None' })
    expect(await run(p.first({ id: 1, n: 2n ** 53n + 1n }))).toEqual({ _tag: 'Some', value: { v: 'a', n: 2n ** 53n + 1n } })
    const bad = await p.first({ id: 1, n: Number.NaN })()
    expect(E.isLeft(bad) && bad.left._tag).toBe('ValidationError')
    const wrong = await db.first(sql`SELECT nope FROM t`)()
    expect(E.isLeft(wrong) && wrong.left._tag === 'QueryError' && wrong.left.sql).toBe('SELECT nope FROM t')
  })

  it('prepared first keeps its statement: the same answers and errors as the general path, and writes run whole', async () => {
    const db = memory()
    // Prepared before its table exists: the first run prepares it, later runs reuse it.
    const p = db.prepare(sql`SELECT id, n FROM big WHERE id = ${sql.placeholder('id')}`)
    const early = p.sync!.first({ id: 1 })()
    expect(E.isLeft(early) && early.left._tag === 'QueryError' && early.left.sql).toBe('SELECT id, n FROM big WHERE id = ?')
    await run(db.execute(sql`CREATE TABLE big (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)`))
    await run(db.execute(sql`INSERT INTO big (id, n) VALUES (1, 5), (2, 9007199254740993)`))
    for (let i = 0; i < 3; i++) {
      expect(p.sync!.first({ id: 1 })()).toEqual(E.right({ _tag: 'Some', value: { id: 1, n: 5 } }))
      // Beyond 2^53 the row is read again with BigInts: the value is never rounded.
      expect(await run(p.first({ id: 2 }))).toEqual({ _tag: 'Some', value: { id: 2, n: 9007199254740993n } })
      expect(p.sync!.first({ id: 3 })()).toEqual(E.right({ _tag: 'None' }))
    }
    const unbindable = p.sync!.first({ id: Number.NaN })()
    expect(E.isLeft(unbindable) && [unbindable.left._tag, unbindable.left.sql]).toEqual(['ValidationError', 'SELECT id, n FROM big WHERE id = ?'])
    const missing = await p.first({})()
    expect(E.isLeft(missing) && missing.left._tag).toBe('QueryError')
    // A write with RETURNING asked for its first row still changes every row it matches.
    const bump = db.prepare(sql`UPDATE big SET n = n + 1 WHERE id >= ${sql.placeholder('from')} RETURNING id`)
    expect(E.isRight(bump.sync!.first({ from: 1 })())).toBe(true)
    expect(E.isRight(await bump.first({ from: 1 })())).toBe(true)
    expect(await run(db.all(sql`SELECT n FROM big ORDER BY id`))).toEqual([{ n: 7 }, { n: 9007199254740995n }])
    // A write without RETURNING runs and gives no row.
    const put = db.prepare(sql`INSERT INTO big (id, n) VALUES (${sql.placeholder('id')}, 0)`)
    expect(put.sync!.first({ id: 10 })()).toEqual(E.right({ _tag: 'None' }))
    expect(put.sync!.first({ id: 11 })()).toEqual(E.right({ _tag: 'None' }))
    const dup = put.sync!.first({ id: 10 })()
    expect(E.isLeft(dup) && dup.left._tag).toBe('UniqueViolation')
    expect(await run(db.all(sql`SELECT id FROM big WHERE id >= 10 ORDER BY id`))).toEqual([{ id: 10 }, { id: 11 }])
    await run(db.close())
    const closed = p.sync!.first({ id: 1 })()
    expect(E.isLeft(closed) && (closed.left as { code?: string }).code).toBe('BACKEND_CLOSED')
  })

  it('prepared first on the kept statement: a missing argument is a QueryError, undefined binds NULL, and every value is checked once', async () => {
    const db = compose(betterSqlite3({ filename: ':memory:' }), sqlite)
    await run(db.execute(sql`CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)`))
    await run(db.execute(sql`INSERT INTO t VALUES (1, 'a'), (2, NULL)`))
    const p = db.prepare(pipe(from('t'), select('id', 'name'), where(eq('id', param('id')))))
    expect(await run(p.first({ id: 1 }))).toEqual({ _tag: 'Some', value: { id: 1, name: 'a' } })
    for (const args of [{}, undefined, { other: 1 }]) {
      const missing = await p.first(args)()
      expect(E.isLeft(missing) && [missing.left._tag, missing.left.message]).toEqual(['QueryError', 'prepared query is missing the argument "id"'])
      const now = p.sync!.first(args)()
      expect(E.isLeft(now) && now.left._tag).toBe('QueryError')
    }
    // Named parameters out of order, among values, one used twice, one with an odd name.
    const odd = 'we"ird\u2028name'
    const mixed = db.prepare(pipe(from('t'), select('id'), where(and(gt('id', param('low')), lt('id', 3), or(eq('name', param(odd)), gt('id', param('low')))))))
    expect(await run(mixed.all({ low: 0, [odd]: 'a' }))).toEqual([{ id: 1 }, { id: 2 }])
    expect(await run(mixed.all({ low: 1, [odd]: 'zz' }))).toEqual([{ id: 2 }])
    expect(mixed.compiled.params).toHaveLength(4)
    const lacking = await mixed.all({ low: 1 })()
    expect(E.isLeft(lacking) && lacking.left.message).toBe(`prepared query is missing the argument "${odd}"`)
    // Given as undefined, the argument is bound as NULL (and `id = NULL` finds nothing).
    expect(await run(p.first({ id: undefined }))).toEqual({ _tag: 'None' })
    // The dialect refuses what SQLite cannot store, naming the argument and the statement.
    const nan = await p.first({ id: NaN })()
    expect(E.isLeft(nan) && nan.left._tag).toBe('ValidationError')
    expect(E.isLeft(nan) && nan.left.message).toContain('"id"')
    // A statement given compiled carries its values as given: the driver checks them.
    const refused = await db.prepare<{ x: number }>({ sql: 'SELECT ? AS x', params: [NaN] }).first()()
    expect(E.isLeft(refused) && refused.left._tag).toBe('ValidationError')
    const surrogate = await db.prepare<{ x: string }>({ sql: 'SELECT ? AS x', params: ['\ud800'] }).first()()
    expect(E.isLeft(surrogate) && surrogate.left._tag).toBe('ValidationError')
    expect(await run(db.prepare<{ x: number }>({ sql: 'SELECT ? AS x', params: [2] }).first())).toEqual({ _tag: 'Some', value: { x: 2 } })
    await run(db.close())
  })

  it('prepared first takes the kept statement only while the synchronous execute is the one it stands for', async () => {
    const count = (replaceKeptToo: boolean) => {
      const base = betterSqlite3({ filename: ':memory:' })
      const inner = base.sync!
      const seen: string[] = []
      const execute = (q: Compiled) => { seen.push(q.sql); return inner.execute(q) }
      const db = compose(extend(base, (_, b) => ({
        execute: b.execute,
        sync: { ...inner, of: b.execute, execute, ...(replaceKeptToo ? { kept: { of: execute, first: inner.kept!.first } } : {}) },
      })), sqlite)
      return { db, seen }
    }
    for (const replaceKeptToo of [false, true]) {
      const { db, seen } = count(replaceKeptToo)
      const p = db.prepare(sql`SELECT ${sql.placeholder('x')} AS x`)
      for (let i = 0; i < 3; i++) expect(p.sync!.first({ x: i })()).toEqual(E.right({ _tag: 'Some', value: { x: i } }))
      // Copied without its own `kept`, the record's statements all go through the new execute;
      // given a `kept` that stands for it, prepared first runs the kept statement.
      expect(seen.length).toBe(replaceKeptToo ? 0 : 3)
    }
  })

  it('executeBatch runs synchronously and stops at the first failure; in a transaction nothing is left', async () => {
    const db = await seeded()
    const r = await run(db.executeBatch(sql`INSERT INTO t (id, v) VALUES (${0}, ${''}) RETURNING id`, [[10, 'x'], [11, 'y']]))
    expect(r.map((x) => x.rows)).toEqual([[{ id: 10 }], [{ id: 11 }]])
    const failed = await db.transaction(() => db.executeBatch(sql`INSERT INTO t (id, v) VALUES (${0}, ${''})`, [[20, 'p'], [21, 'a'], [22, 'q']]))()
    expect(E.isLeft(failed) && failed.left._tag).toBe('UniqueViolation')
    expect(await run(db.all(sql`SELECT id FROM t WHERE id >= 20`))).toEqual([])
    const bad = await db.executeBatch(sql`INSERT INTO t (id, v) VALUES (${0}, ${''})`, [[30, 'p'], [31]])()
    expect(E.isLeft(bad) && bad.left._tag).toBe('QueryError')
    expect(await run(db.all(sql`SELECT id FROM t WHERE id >= 30`))).toEqual([])
  })
})

describe('better-sqlite3 driver: the synchronous path keeps the transaction and close rules', () => {
  it('a transaction handle used after its end is refused; a pending savepoint makes the scope wait; a closed backend refuses', async () => {
    const db = memory()
    await run(db.execute(sql`CREATE TABLE t (id INTEGER PRIMARY KEY)`))
    let kept: typeof db | undefined
    let duringSavepoint: boolean | undefined
    await run(db.transaction((tx) => async () => {
      kept = tx
      expect(tx.sync!.ready()).toBe(true)
      expect(E.isRight(tx.sync!.execute(sql`INSERT INTO t (id) VALUES (1)`)())).toBe(true)
      const sp = tx.transaction(() => async () => {
        await sleep(10)
        return E.right(undefined)
      })()
      // While the savepoint is scheduled or open, statements on the outer scope wait: not here.
      duringSavepoint = tx.sync!.ready()
      const refused = tx.sync!.execute(sql`INSERT INTO t (id) VALUES (2)`)()
      expect(E.isLeft(refused) && refused.left._tag).toBe('ConnectionError')
      await sp
      expect(tx.sync!.ready()).toBe(true)
      return E.right(undefined)
    }))
    expect(duringSavepoint).toBe(false)
    expect(kept!.sync!.ready()).toBe(false)
    const late = kept!.sync!.execute(sql`INSERT INTO t (id) VALUES (3)`)()
    expect(E.isLeft(late) && late.left._tag).toBe('TransactionError')
    expect(await run(db.all(sql`SELECT id FROM t`))).toEqual([{ id: 1 }])
    const p = db.prepare(sql`SELECT id FROM t`)
    await run(db.close())
    expect(db.sync!.ready()).toBe(false)
    const closed = p.sync!.all()()
    expect(E.isLeft(closed) && [closed.left._tag, (closed.left as { code?: string }).code]).toEqual(['ConnectionError', 'BACKEND_CLOSED'])
    const viaAsync = await p.all()()
    expect(E.isLeft(viaAsync) && (viaAsync.left as { code?: string }).code).toBe('BACKEND_CLOSED')
  })
})
