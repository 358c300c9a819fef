/**
 * The mysql2 driver against MariaDB: every error kind provoked for real, transactions and
 * savepoints through `connect` + `db.transaction`, streaming, and the value round trip.
 */
import { randomUUID } from 'node:crypto'
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Backend, connect, type Connection, type Driver, type QueryResult, dbError, type DbError, type DbErrorTag, extend, sql } from 'recordkit'
import { mysql } from 'recordkit/dialects/mysql'
import { classifyMysqlError, mysql2, type Mysql2Driver, type Mysql2Options } from 'recordkit/drivers/mysql2'
import { run } from 'recordkit/promise'
import * as q from 'recordkit/query'
import { MYSQL_URL, serverAvailable } from './support/servers.js'

const available = await serverAvailable('mariadb')

type Runs = Pick<Driver, 'execute'> | Pick<Connection, 'execute'>

const exec = (d: Runs, text: string, params: readonly unknown[] = []): Promise<E.Either<DbError, QueryResult>> =>
  d.execute({ sql: text, params })()

const ok = async (d: Runs, text: string, params: readonly unknown[] = []): Promise<QueryResult> => {
  const r = await exec(d, text, params)
  if (E.isLeft(r)) throw r.left
  return r.right
}

const fails = async (d: Runs, text: string, params: readonly unknown[] = []): Promise<DbError> => {
  const r = await exec(d, text, params)
  if (E.isRight(r)) throw new Error(`expected ${text} to fail`)
  return r.left
}

const reserve = async (d: Driver): Promise<Connection> => {
  const r = await d.reserve()()
  if (E.isLeft(r)) throw r.left
  return r.right
}

const withTimeout = <A>(p: Promise<A>, ms: number, what: string): Promise<A> =>
  Promise.race([p, new Promise<A>((_, reject) => setTimeout(() => reject(new Error(`${what} did not finish in ${ms} ms`)), ms))])

const driverFor = (o: Mysql2Options = {}): Mysql2Driver => mysql2({ url: MYSQL_URL, ...o })

describe.skipIf(!available)('mysql2 driver on MariaDB', () => {
  let driver: Mysql2Driver

  beforeAll(async () => {
    driver = driverFor({ max: 4 })
    await ok(driver, 'DROP TABLE IF EXISTS myx_drv_child, myx_drv_parent, myx_drv_lock, myx_drv_tx, myx_drv_stream, myx_drv_types')
    await ok(driver, 'CREATE TABLE myx_drv_parent (id INT PRIMARY KEY, email VARCHAR(100) NOT NULL, CONSTRAINT myx_uq_email UNIQUE (email))')
    await ok(driver, `CREATE TABLE myx_drv_child (
      id INT AUTO_INCREMENT PRIMARY KEY,
      parent_id INT NOT NULL,
      qty INT NOT NULL DEFAULT 1,
      CONSTRAINT myx_fk_child_parent FOREIGN KEY (parent_id) REFERENCES myx_drv_parent (id),
      CONSTRAINT myx_ck_qty CHECK (qty > 0)
    )`)
    await ok(driver, 'CREATE TABLE myx_drv_lock (id INT PRIMARY KEY, n INT NOT NULL) ENGINE=InnoDB')
    await ok(driver, 'CREATE TABLE myx_drv_tx (id INT AUTO_INCREMENT PRIMARY KEY, label VARCHAR(50) NOT NULL) ENGINE=InnoDB')
    await ok(driver, 'CREATE TABLE myx_drv_stream (id INT PRIMARY KEY, label VARCHAR(50) NOT NULL)')
    await ok(driver, 'INSERT INTO myx_drv_parent VALUES (1, ?), (2, ?)', ['ada@x', 'alan@x'])
    await ok(driver, 'INSERT INTO myx_drv_child (parent_id) VALUES (1)')
    await ok(driver, 'INSERT INTO myx_drv_lock VALUES (1, 0), (2, 0)')
  })

  afterAll(async () => {
    await ok(driver, 'DROP TABLE IF EXISTS myx_drv_child, myx_drv_parent, myx_drv_lock, myx_drv_tx, myx_drv_stream, myx_drv_types')
    await run(driver.close())
  })

  // ---------------------------------------------------------------- basics

  describe('statements', () => {
    it('reports the server version', async () => {
      expect(await run(driver.version())).toMatch(/^10\.11\.\d+-MariaDB/)
    })

    it('reports rows, rows affected and the generated key', async () => {
      expect(await ok(driver, 'SELECT id, email FROM myx_drv_parent ORDER BY id')).toEqual({
        rows: [{ id: 1, email: 'ada@x' }, { id: 2, email: 'alan@x' }], rowsAffected: 0,
      })
      const ins = await ok(driver, 'INSERT INTO myx_drv_tx (label) VALUES (?), (?)', ['a', 'b'])
      expect(ins.rowsAffected).toBe(2)
      expect(typeof ins.insertId).toBe('number')
      // Rows matched, not only rows changed (CLIENT_FOUND_ROWS).
      expect((await ok(driver, 'UPDATE myx_drv_tx SET label = label')).rowsAffected).toBe(2)
      expect(await ok(driver, 'DELETE FROM myx_drv_tx')).toEqual({ rows: [], rowsAffected: 2 })
      expect(await ok(driver, 'INSERT INTO myx_drv_tx (label) VALUES (?) RETURNING id, label', ['c'])).toEqual({
        rows: [{ id: (ins.insertId as number) + 2, label: 'c' }], rowsAffected: 1,
      })
      await ok(driver, 'DELETE FROM myx_drv_tx')
    })

    it('runs the same statements through the text protocol (prepare: false)', async () => {
      const text = driverFor({ max: 1, prepare: false })
      try {
        expect((await ok(text, 'SELECT ? AS s, ? AS n LIMIT ?', ["it's", 2, 1])).rows).toEqual([{ s: "it's", n: 2 }])
        expect((await ok(text, 'SELECT JSON_EXTRACT(?, ?) AS v', [mysql.toDriver({ a: [1, 2] }), '$.a[1]'])).rows).toEqual([{ v: 2 }])
      } finally {
        await run(text.close())
      }
    })

    it('falls back to the text protocol for a statement the server cannot prepare (errno 1295)', async () => {
      const one = driverFor({ max: 1 })
      try {
        await ok(one, "PREPARE myx_s FROM 'SELECT 7 AS n'")
        const raw = await one.pool().execute('EXECUTE myx_s').then(() => undefined, (e: { errno?: number }) => e.errno)
        expect(raw).toBe(1295)
        expect((await ok(one, 'EXECUTE myx_s')).rows).toEqual([{ n: 7 }])
      } finally {
        await run(one.close())
      }
    })

    it('sets each new connection up with onConnect, which extend can override', async () => {
      const custom = extend(driverFor({ max: 2 }), (_, base) => ({
        onConnect: async (c) => {
          await base.onConnect(c)
          await c.query("SET @myx_greeting = 'hello'")
        },
      }))
      try {
        expect((await ok(custom, 'SELECT @myx_greeting AS g, @@session.time_zone AS tz')).rows).toEqual([{ g: 'hello', tz: '+00:00' }])
        const [a, b] = [await reserve(custom), await reserve(custom)]
        expect((await ok(b, 'SELECT @myx_greeting AS g')).rows).toEqual([{ g: 'hello' }])
        await a.release()
        await b.release()
      } finally {
        await run(custom.close())
      }
    })

    it('classifies through self.classifyError, so an override changes every path', async () => {
      const custom = extend(driverFor({ max: 1 }), (_, base) => ({
        classifyError: (e: unknown) => {
          const d = base.classifyError(e)
          return d.code === 1146 ? dbError('NotFound', d.message, { code: d.code, cause: e }) : d
        },
      }))
      try {
        expect((await fails(custom, 'SELECT * FROM myx_drv_missing'))._tag).toBe('NotFound')
        const c = await reserve(custom)
        expect((await fails(c, 'SELECT * FROM myx_drv_missing'))._tag).toBe('NotFound')
        await c.release()
      } finally {
        await run(custom.close())
      }
    })
  })

  // ---------------------------------------------------------------- what reaches the server

  describe('commands sent to the server, counted by the server', () => {
    const COUNTERS = ['Questions', 'Com_stmt_prepare', 'Com_stmt_execute', 'Com_stmt_close', 'Com_select', 'Com_set_option'] as const
    type Counters = Record<(typeof COUNTERS)[number], number>

    /**
     * The session's own counters, read on the pool's only connection (the SHOW is one more
     * question, and no Com_select). The driver and the pool are checked to share it.
     */
    const counters = async (d: Mysql2Driver): Promise<Counters> => {
      const [rows] = await d.pool().query(`SHOW SESSION STATUS WHERE Variable_name IN (${COUNTERS.map((c) => `'${c}'`).join(', ')})`)
      return Object.fromEntries((rows as { Variable_name: string; Value: string }[]).map((r) => [r.Variable_name, Number(r.Value)])) as Counters
    }
    const sent = async (d: Mysql2Driver, work: () => Promise<void>): Promise<Counters> => {
      const before = await counters(d)
      await work()
      const after = await counters(d)
      return Object.fromEntries(COUNTERS.map((c) => [c, after[c] - before[c]])) as Counters
    }
    const oneConnection = async (d: Mysql2Driver): Promise<void> => {
      const [rows] = await d.pool().query('SELECT CONNECTION_ID() AS id')
      expect((await ok(d, 'SELECT CONNECTION_ID() AS id')).rows).toEqual(rows)
    }

    it('N prepared statements are N executions: prepared once per connection, never closed, no session set-up again', async () => {
      const d = driverFor({ max: 1 })
      try {
        await oneConnection(d)
        const first = await sent(d, async () => {
          for (let i = 0; i < 25; i++) await ok(d, 'SELECT id, email FROM myx_drv_parent WHERE id = ?', [1 + (i % 2)])
        })
        expect(first).toEqual({ Questions: 26, Com_stmt_prepare: 1, Com_stmt_execute: 25, Com_stmt_close: 0, Com_select: 25, Com_set_option: 0 })
        const again = await sent(d, async () => {
          for (let i = 0; i < 25; i++) expect((await ok(d, 'SELECT id, email FROM myx_drv_parent WHERE id = ?', [1])).rows).toEqual([{ id: 1, email: 'ada@x' }])
        })
        expect(again).toEqual({ Questions: 26, Com_stmt_prepare: 0, Com_stmt_execute: 25, Com_stmt_close: 0, Com_select: 25, Com_set_option: 0 })
        // Concurrent statements queue for the connection and still send one command each.
        const concurrent = await sent(d, async () => {
          const all = await Promise.all(Array.from({ length: 25 }, (_, i) => ok(d, 'SELECT id, email FROM myx_drv_parent WHERE id = ?', [1 + (i % 2)])))
          expect(all.map((r) => r.rows[0].id)).toEqual(Array.from({ length: 25 }, (_, i) => 1 + (i % 2)))
        })
        expect(concurrent).toEqual({ Questions: 26, Com_stmt_prepare: 0, Com_stmt_execute: 25, Com_stmt_close: 0, Com_select: 25, Com_set_option: 0 })
      } finally {
        await run(d.close())
      }
    })

    it('N text statements are N queries; the session mode is asked only for values with a backslash', async () => {
      const d = driverFor({ max: 1, prepare: false })
      try {
        await oneConnection(d)
        const plain = await sent(d, async () => {
          for (let i = 0; i < 10; i++) expect((await ok(d, 'SELECT ? AS s', [`it's ${i}`])).rows).toEqual([{ s: `it's ${i}` }])
        })
        expect(plain).toEqual({ Questions: 11, Com_stmt_prepare: 0, Com_stmt_execute: 0, Com_stmt_close: 0, Com_select: 10, Com_set_option: 0 })
        const backslash = await sent(d, async () => {
          for (let i = 0; i < 10; i++) expect((await ok(d, 'SELECT ? AS s', [`a\\b ${i}`])).rows).toEqual([{ s: `a\\b ${i}` }])
        })
        expect(backslash).toEqual({ Questions: 21, Com_stmt_prepare: 0, Com_stmt_execute: 0, Com_stmt_close: 0, Com_select: 20, Com_set_option: 0 })
      } finally {
        await run(d.close())
      }
    })
  })

  describe('waiting for a connection', () => {
    it('statements and reserve wait acquireTimeout while every connection is held, then fail with PoolTimeout; the pool stays whole', async () => {
      const d = driverFor({ max: 1, acquireTimeout: 200 })
      try {
        const held = await reserve(d)
        const outcomes = await withTimeout(Promise.all([exec(d, 'SELECT 1 AS one'), exec(d, 'SELECT 2 AS two'), d.reserve()()]), 10_000, 'the waits for a connection')
        expect(outcomes.map((o) => E.isLeft(o) && o.left._tag)).toEqual(['PoolTimeout', 'PoolTimeout', 'PoolTimeout'])
        expect(outcomes.map((o) => E.isLeft(o) && o.left.message)).toEqual(Array(3).fill('no connection became free within 200 ms (acquireTimeout): every connection is in use'))
        // mysql2 still has those three requests queued: the connection handed to each goes back.
        await held.release()
        for (let i = 0; i < 3; i++) expect((await withTimeout(ok(d, 'SELECT ? AS n', [i]), 5000, 'a statement after the timeouts')).rows).toEqual([{ n: i }])
        const again = await reserve(d)
        expect((await ok(again, 'SELECT 5 AS five')).rows).toEqual([{ five: 5 }])
        await again.release()
      } finally {
        await run(d.close())
      }
    })

    it('statements waiting for a connection set no timer each (one shared timer, unreferenced, times every wait)', async () => {
      const d = driverFor({ max: 2 })
      try {
        // Both connections open first (opening one sets mysql2's connect timer).
        await Promise.all(Array.from({ length: 4 }, () => ok(d, 'SELECT 1')))
        const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length
        const before = timers()
        const all = Array.from({ length: 200 }, (_, i) => ok(d, 'SELECT ? AS n', [i]))
        expect(timers()).toBe(before)
        expect((await Promise.all(all)).map((r) => r.rows[0].n)).toEqual(Array.from({ length: 200 }, (_, i) => i))
      } finally {
        await run(d.close())
      }
    })

    it('a statement that gets the connection within acquireTimeout runs, in the order it asked', async () => {
      const d = driverFor({ max: 1, acquireTimeout: 10_000 })
      try {
        const held = await reserve(d)
        const order: number[] = []
        const waits = [1, 2, 3].map((n) => exec(d, 'SELECT ? AS n', [n]).then((r) => {
          order.push(n)
          return r
        }))
        await new Promise((r) => setTimeout(r, 50))
        expect(order).toEqual([])
        await held.release()
        const done = await withTimeout(Promise.all(waits), 10_000, 'the waiting statements')
        expect(done.map((r) => E.isRight(r) && r.right.rows)).toEqual([[{ n: 1 }], [{ n: 2 }], [{ n: 3 }]])
        expect(order).toEqual([1, 2, 3])
      } finally {
        await run(d.close())
      }
    })
  })

  // ---------------------------------------------------------------- errors

  describe('errors, classified by errno', () => {
    const expectError = (e: DbError, tag: DbErrorTag, code: number | string, fields: Record<string, unknown> = {}): void => {
      expect(e._tag).toBe(tag)
      expect(e.code).toBe(code)
      for (const [k, v] of Object.entries(fields)) expect((e as unknown as Record<string, unknown>)[k]).toEqual(v)
    }

    it('UniqueViolation (1062) with the key name', async () => {
      const e = await fails(driver, 'INSERT INTO myx_drv_parent VALUES (3, ?)', ['ada@x'])
      expectError(e, 'UniqueViolation', 1062, { constraint: 'myx_uq_email', sql: 'INSERT INTO myx_drv_parent VALUES (3, ?)', params: ['ada@x'] })
      expect(e.message).toContain('SQL: INSERT INTO myx_drv_parent')
      expectError(await fails(driver, 'INSERT INTO myx_drv_parent VALUES (1, ?)', ['x@x']), 'UniqueViolation', 1062, { constraint: 'PRIMARY' })
    })

    it('ForeignKeyViolation (1452 child, 1451 parent) with the constraint name', async () => {
      expectError(await fails(driver, 'INSERT INTO myx_drv_child (parent_id) VALUES (?)', [99]), 'ForeignKeyViolation', 1452, { constraint: 'myx_fk_child_parent' })
      expectError(await fails(driver, 'DELETE FROM myx_drv_parent WHERE id = ?', [1]), 'ForeignKeyViolation', 1451, { constraint: 'myx_fk_child_parent' })
    })

    it('NotNullViolation (1048 explicit NULL, 1364 no default) with the column', async () => {
      expectError(await fails(driver, 'INSERT INTO myx_drv_child (parent_id) VALUES (?)', [null]), 'NotNullViolation', 1048, { column: 'parent_id' })
      expectError(await fails(driver, 'INSERT INTO myx_drv_child (qty) VALUES (2)'), 'NotNullViolation', 1364, { column: 'parent_id' })
    })

    it("CheckViolation (MariaDB's 4025) with the constraint name", async () => {
      expectError(await fails(driver, 'INSERT INTO myx_drv_child (parent_id, qty) VALUES (1, ?)', [0]), 'CheckViolation', 4025, { constraint: 'myx_ck_qty' })
    })

    it('QueryError for syntax (1064), unknown table (1146), unknown column (1054)', async () => {
      expectError(await fails(driver, 'SELEC 1'), 'QueryError', 1064)
      expectError(await fails(driver, 'SELECT * FROM myx_drv_missing'), 'QueryError', 1146)
      expectError(await fails(driver, 'SELECT nope FROM myx_drv_parent'), 'QueryError', 1054)
    })

    it('redacts parameters when asked', async () => {
      const quiet = driverFor({ max: 1, redactParams: true })
      try {
        const e = await fails(quiet, 'INSERT INTO myx_drv_parent VALUES (?, ?)', [3, 'ada@x'])
        expect(e._tag).toBe('UniqueViolation')
        expect(e.params).toEqual(['[redacted]', '[redacted]'])
      } finally {
        await run(quiet.close())
      }
    })

    it('Deadlock (1213): two transactions locking rows in opposite order', async () => {
      const two = driverFor({ max: 2 })
      const [a, b] = [await reserve(two), await reserve(two)]
      try {
        await ok(a, 'START TRANSACTION')
        await ok(b, 'START TRANSACTION')
        await ok(a, 'UPDATE myx_drv_lock SET n = n + 1 WHERE id = 1')
        await ok(b, 'UPDATE myx_drv_lock SET n = n + 1 WHERE id = 2')
        const waiting = exec(a, 'UPDATE myx_drv_lock SET n = n + 1 WHERE id = 2') // blocks on b
        await new Promise((r) => setTimeout(r, 200))
        const second = exec(b, 'UPDATE myx_drv_lock SET n = n + 1 WHERE id = 1') // closes the cycle
        const results = await withTimeout(Promise.all([waiting, second]), 20_000, 'deadlock detection')
        const lefts = results.filter(E.isLeft).map((r) => r.left)
        expect(lefts).toHaveLength(1)
        expectError(lefts[0], 'Deadlock', 1213)
      } finally {
        await exec(a, 'ROLLBACK')
        await exec(b, 'ROLLBACK')
        await a.release()
        await b.release()
        await run(two.close())
      }
    })

    it('LockTimeout (1205) after innodb_lock_wait_timeout', async () => {
      const two = driverFor({ max: 2 })
      const [a, b] = [await reserve(two), await reserve(two)]
      try {
        await ok(a, 'START TRANSACTION')
        await ok(a, 'SELECT * FROM myx_drv_lock WHERE id = 1 FOR UPDATE')
        await ok(b, 'SET innodb_lock_wait_timeout = 1')
        await ok(b, 'START TRANSACTION')
        const started = Date.now()
        expectError(await fails(b, 'UPDATE myx_drv_lock SET n = n + 1 WHERE id = 1'), 'LockTimeout', 1205)
        expect(Date.now() - started).toBeGreaterThanOrEqual(900)
      } finally {
        await exec(a, 'ROLLBACK')
        await exec(b, 'ROLLBACK')
        await a.release()
        await b.release()
        await run(two.close())
      }
    })

    it("StatementTimeout (MariaDB's 1969) after max_statement_time", async () => {
      const one = driverFor({ max: 1 })
      try {
        const c = await reserve(one)
        await ok(c, 'SET max_statement_time = 0.2')
        expectError(await fails(c, 'SELECT SLEEP(3)'), 'StatementTimeout', 1969)
        await c.release()
      } finally {
        await run(one.close())
      }
    })

    it('ConnectionError when the server closes the connection (PROTOCOL_CONNECTION_LOST)', async () => {
      const two = driverFor({ max: 2 })
      try {
        const victim = await reserve(two)
        const id = (await ok(victim, 'SELECT CONNECTION_ID() AS id')).rows[0].id as number
        const sleeping = exec(victim, 'SELECT SLEEP(10)')
        await new Promise((r) => setTimeout(r, 200))
        await ok(two, `KILL CONNECTION ${id}`)
        const lost = await sleeping
        expect(E.isLeft(lost) && lost.left._tag).toBe('ConnectionError')
        expect(E.isLeft(lost) && lost.left.code).toBe('PROTOCOL_CONNECTION_LOST')
        // The dead connection keeps failing the same way; the pool replaces it.
        expect((await fails(victim, 'SELECT 1'))._tag).toBe('ConnectionError')
        await victim.release()
        expect((await ok(two, 'SELECT 1 AS one')).rows).toEqual([{ one: 1 }])
      } finally {
        await run(two.close())
      }
    })

    it('ConnectionError when no connection can be had (refused, unknown database, closed pool)', async () => {
      const refused = mysql2({ host: '127.0.0.1', port: 1, user: 'root', connectionLimit: 1 })
      const e = await fails(refused, 'SELECT 1')
      expectError(e, 'ConnectionError', 'ECONNREFUSED')
      expect(E.isLeft(await refused.reserve()())).toBe(true)
      expect(E.isLeft(await refused.version()())).toBe(true)
      await expect((async () => { for await (const _ of refused.stream({ sql: 'SELECT 1', params: [] })) { /* nothing */ } })()).rejects.toMatchObject({ _tag: 'ConnectionError' })
      await run(refused.close())

      const noDb = mysql2({ url: MYSQL_URL.replace(/\/[^/]*$/, '/myx_no_such_db'), max: 1 })
      expectError(await fails(noDb, 'SELECT 1'), 'ConnectionError', 1049)
      await run(noDb.close())

      const closed = driverFor({ max: 1 })
      await ok(closed, 'SELECT 1')
      await run(closed.close())
      expect((await fails(closed, 'SELECT 1'))._tag).toBe('ConnectionError')
    })

    it('classifies client error codes without a server errno', () => {
      expect(classifyMysqlError(Object.assign(new Error('gone'), { code: 'PROTOCOL_CONNECTION_LOST', fatal: true }))._tag).toBe('ConnectionError')
      expect(classifyMysqlError(Object.assign(new Error('x'), { errno: 2006 }))._tag).toBe('ConnectionError')
      expect(classifyMysqlError(Object.assign(new Error('x'), { errno: 2013 }))._tag).toBe('ConnectionError')
      expect(classifyMysqlError(Object.assign(new Error('x'), { errno: 3819, sqlMessage: "Check constraint 'ck_qty' is violated." }))).toMatchObject({ _tag: 'CheckViolation', constraint: 'ck_qty' })
      expect(classifyMysqlError(Object.assign(new Error('x'), { errno: 3024 }))._tag).toBe('StatementTimeout')
      // MySQL 8.0.19+ prefixes the key with its table.
      expect(classifyMysqlError(Object.assign(new Error('x'), { errno: 1062, sqlMessage: "Duplicate entry 'a' for key 'users.uq_email'" }))).toMatchObject({ constraint: 'uq_email' })
    })
  })

  // ---------------------------------------------------------------- transactions

  describe('transactions through connect(mysql2, mysql)', () => {
    let db: Backend

    beforeAll(async () => {
      db = await run(connect(driverFor({ max: 3 }), mysql))
    })
    afterAll(async () => {
      await run(db.close())
    })

    const labels = async (): Promise<string[]> =>
      (await run(db.all<{ label: string }>(pipe(q.from('myx_drv_tx'), q.select('label'), q.orderBy('id'))))).map((r) => r.label)
    const add = (tx: Backend, label: string) => tx.execute(pipe(q.insertInto('myx_drv_tx'), q.values({ label })))

    it('commits', async () => {
      await run(db.execute(sql`DELETE FROM myx_drv_tx`))
      const r = await run(db.transaction((tx) => pipe(add(tx, 'a'), TE.chain(() => add(tx, 'b')), TE.map(() => db.inTransaction()))))
      expect(r).toBe(true)
      expect(db.inTransaction()).toBe(false)
      expect(await labels()).toEqual(['a', 'b'])
    })

    it('rolls back when the function fails', async () => {
      await run(db.execute(sql`DELETE FROM myx_drv_tx`))
      const failure: DbError = dbError('ValidationError', 'no', { issues: [] })
      const r = await db.transaction((tx) => pipe(add(tx, 'a'), TE.chain(() => TE.left<DbError>(failure))))()
      expect(r).toEqual(E.left(failure))
      const dup = await db.transaction((tx) => pipe(add(tx, 'c'), TE.chain(() => tx.execute(sql`INSERT INTO myx_drv_parent VALUES (1, 'dup')`))))()
      expect(E.isLeft(dup) && dup.left._tag).toBe('UniqueViolation')
      expect(await labels()).toEqual([])
    })

    it('rolls a failed nested transaction back to its savepoint and keeps the rest', async () => {
      await run(db.execute(sql`DELETE FROM myx_drv_tx`))
      const statements: string[] = []
      const innerFailure: DbError = dbError('ValidationError', 'inner', { issues: [] })
      const r = await run(db.transaction((tx) => pipe(
        add(tx, 'outer-1'),
        TE.chain(() => tx.transaction((inner) => pipe(add(inner, 'inner-ok'), TE.map(() => 'kept')))),
        TE.chain(() => pipe(
          tx.transaction((inner) => pipe(add(inner, 'inner-bad'), TE.chain(() => TE.left<DbError>(innerFailure)))),
          TE.orElse((e): TE.TaskEither<DbError, unknown> => { statements.push(e.message); return TE.right(undefined) }),
        )),
        TE.chain(() => add(tx, 'outer-2')),
        TE.map(() => 'done'),
      )))
      expect(r).toBe('done')
      expect(statements).toEqual(['inner'])
      expect(await labels()).toEqual(['outer-1', 'inner-ok', 'outer-2'])
    })

    it('applies each isolation level to the transaction', async () => {
      for (const level of ['read uncommitted', 'read committed', 'repeatable read', 'serializable'] as const) {
        const rows = await run(db.transaction((tx) => pipe(
          tx.all(sql`SELECT COUNT(*) AS n FROM myx_drv_lock`), // starts the InnoDB transaction
          // information_schema.innodb_trx is a snapshot refreshed at most every 0.1 s
          TE.chain(() => tx.all(sql`SELECT SLEEP(0.15)`)),
          TE.chain(() => tx.all<{ level: string }>(sql`SELECT trx_isolation_level AS level FROM information_schema.innodb_trx WHERE trx_mysql_thread_id = CONNECTION_ID()`)),
        ), { isolation: level }))
        expect(rows).toEqual([{ level: level.toUpperCase() }])
      }
    })

    it('READ COMMITTED sees a concurrent commit; REPEATABLE READ does not', async () => {
      await run(db.execute(sql`UPDATE myx_drv_lock SET n = 0 WHERE id = 2`))
      const other = await run(connect(driverFor({ max: 1 }), mysql))
      try {
        const readTwice = (isolation: 'read committed' | 'repeatable read') => run(db.transaction((tx) => async () => {
          const first = await run(tx.all<{ n: number }>(sql`SELECT n FROM myx_drv_lock WHERE id = 2`))
          await run(other.execute(sql`UPDATE myx_drv_lock SET n = n + 1 WHERE id = 2`))
          const second = await run(tx.all<{ n: number }>(sql`SELECT n FROM myx_drv_lock WHERE id = 2`))
          return E.right([first[0].n, second[0].n])
        }, { isolation }))
        expect(await readTwice('read committed')).toEqual([0, 1])
        expect(await readTwice('repeatable read')).toEqual([1, 1])
      } finally {
        await run(other.close())
      }
    })

    it('READ ONLY rejects a write (1792, TransactionError)', async () => {
      const r = await db.transaction((tx) => add(tx, 'nope'), { readOnly: true })()
      expect(E.isLeft(r) && r.left._tag).toBe('TransactionError')
      expect(E.isLeft(r) && r.left.code).toBe(1792)
      expect(await run(db.transaction((tx) => tx.all(sql`SELECT 1 AS one`), { readOnly: true }))).toEqual([{ one: 1 }])
    })

    it('a deadlock inside db.transaction surfaces as Deadlock and the other side commits', async () => {
      await run(db.execute(sql`UPDATE myx_drv_lock SET n = 0`))
      const gate = (() => { let open!: () => void; const p = new Promise<void>((r) => { open = r }); return { p, open } })()
      const side = (first: number, second: number, wait: Promise<void>, signal: () => void) =>
        db.transaction((tx) => async () => {
          const a = await tx.execute(sql`UPDATE myx_drv_lock SET n = n + 1 WHERE id = ${first}`)()
          if (E.isLeft(a)) return a
          signal()
          await wait
          await new Promise((r) => setTimeout(r, first === 1 ? 0 : 150))
          return tx.execute(sql`UPDATE myx_drv_lock SET n = n + 1 WHERE id = ${second}`)()
        })()
      let ready = 0
      const both = () => { if (++ready === 2) gate.open() }
      const results = await withTimeout(Promise.all([side(1, 2, gate.p, both), side(2, 1, gate.p, both)]), 20_000, 'deadlock')
      const tags = results.map((r) => (E.isLeft(r) ? r.left._tag : 'ok')).sort()
      expect(tags).toEqual(['Deadlock', 'ok'])
      expect(await run(db.all(sql`SELECT SUM(n) AS total FROM myx_drv_lock`))).toEqual([{ total: '2' }])
    })
  })

  // ---------------------------------------------------------------- streaming

  describe('streaming', () => {
    const ROWS = 10_000
    const all = { sql: 'SELECT id, label FROM myx_drv_stream ORDER BY id', params: [] }

    beforeAll(async () => {
      await ok(driver, 'DELETE FROM myx_drv_stream')
      const db = await run(connect(driver, mysql))
      for (let start = 1; start <= ROWS; start += 1000) {
        const rows = Array.from({ length: 1000 }, (_, i) => ({ id: start + i, label: `row ${start + i}` }))
        await run(db.execute(pipe(q.insertInto('myx_drv_stream'), q.values(rows))))
      }
    })

    for (const prepare of [true, false]) {
      it(`reads 10,000 rows in batches (${prepare ? 'execute' : 'query'})`, async () => {
        const d = driverFor({ max: 1, prepare })
        try {
          const sizes: number[] = []
          let expected = 1
          for await (const batch of d.stream(all, { batchSize: 1000 })) {
            sizes.push(batch.length)
            for (const row of batch) expect(row.id).toBe(expected++)
          }
          expect(sizes).toEqual(Array(10).fill(1000))
          const uneven: number[] = []
          for await (const batch of d.stream(all, { batchSize: 3000 })) uneven.push(batch.length)
          expect(uneven).toEqual([3000, 3000, 3000, 1000])
        } finally {
          await run(d.close())
        }
      })
    }

    it('releases the connection on an early break: a pool of 1 still works after', async () => {
      const d = driverFor({ max: 1 })
      try {
        for (let round = 0; round < 3; round++) {
          let seen = 0
          for await (const batch of d.stream(all, { batchSize: 100 })) {
            seen += batch.length
            if (seen >= 200) break
          }
          expect(seen).toBe(200)
          expect((await withTimeout(ok(d, 'SELECT COUNT(*) AS n FROM myx_drv_stream'), 5000, 'query after an early break')).rows).toEqual([{ n: '10000' }])
        }
        // Through a backend, row by row.
        const db = await run(connect(d, mysql))
        let n = 0
        for await (const row of db.stream<{ id: number }>(pipe(q.from('myx_drv_stream'), q.orderBy('id')), { batchSize: 50 })) {
          n = row.id
          if (n === 75) break
        }
        expect(n).toBe(75)
        expect(await withTimeout(run(db.all(sql`SELECT 1 AS one`)), 5000, 'query after a backend stream break')).toEqual([{ one: 1 }])
      } finally {
        await run(d.close())
      }
    })

    it('inside a transaction, an early break keeps the connection usable', async () => {
      const d = driverFor({ max: 1 })
      const db = await run(connect(d, mysql))
      try {
        const r = await withTimeout(run(db.transaction((tx) => async () => {
          let n = 0
          for await (const row of tx.stream<{ id: number }>(all, { batchSize: 100 })) {
            n = row.id
            if (n === 150) break
          }
          await run(tx.execute(pipe(q.insertInto('myx_drv_tx'), q.values({ label: 'after stream' }))))
          const count = await run(tx.all(sql`SELECT COUNT(*) AS n FROM myx_drv_tx WHERE label = 'after stream'`))
          return E.right([n, count[0].n])
        })), 10_000, 'transaction with a stream')
        expect(r).toEqual([150, '1'])
        await run(db.execute(sql`DELETE FROM myx_drv_tx WHERE label = 'after stream'`))
      } finally {
        await run(d.close())
      }
    })

    it('throws a classified DbError for a failing statement and releases the connection', async () => {
      const d = driverFor({ max: 1 })
      try {
        const consume = async () => { for await (const _ of d.stream({ sql: 'SELECT * FROM myx_drv_missing', params: [] })) { /* nothing */ } }
        await expect(consume()).rejects.toMatchObject({ _tag: 'QueryError', code: 1146, sql: 'SELECT * FROM myx_drv_missing' })
        const text = driverFor({ max: 1, prepare: false })
        await expect((async () => { for await (const _ of text.stream({ sql: 'SELEC 1', params: [] })) { /* nothing */ } })()).rejects.toMatchObject({ _tag: 'QueryError', code: 1064 })
        await run(text.close())
        expect((await withTimeout(ok(d, 'SELECT 1 AS one'), 5000, 'query after a failed stream')).rows).toEqual([{ one: 1 }])
      } finally {
        await run(d.close())
      }
    })
  })

  // ---------------------------------------------------------------- values

  describe('value round trip', () => {
    let db: Backend
    let text: Backend

    beforeAll(async () => {
      db = await run(connect(driverFor({ max: 2 }), mysql))
      text = await run(connect(driverFor({ max: 1, prepare: false }), mysql))
      await run(db.execute(sql`CREATE TABLE myx_drv_types (
        id INT AUTO_INCREMENT PRIMARY KEY,
        nothing INT NULL,
        yes BOOLEAN, no BOOLEAN,
        i31 BIGINT, i53 BIGINT,
        dec20 DECIMAL(30,10),
        dbl DOUBLE, flt FLOAT,
        txt TEXT,
        d DATE, dt DATETIME(3), ts TIMESTAMP(3) NULL,
        obj JSON, arr JSON,
        bytes LONGBLOB,
        uuid CHAR(36)
      ) CHARACTER SET utf8mb4`))
    })
    afterAll(async () => {
      await run(db.close())
      await run(text.close())
    })

    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i))
    const uuid = randomUUID()
    const instant = new Date('2024-03-10T06:59:59.999Z') // 01:59:59.999 in New York, just before the DST jump
    const txt = 'it\'s "quoted"\nsecond line\ttab \\ backslash, emoji 😀🎉, 中文'
    const input = {
      nothing: null,
      yes: true,
      no: false,
      i31: 2 ** 31,
      i53: 2n ** 53n + 1n,
      dec20: '1234567890.1234567891',
      dbl: 0.1 + 0.2,
      flt: 1.5,
      txt,
      d: '2024-02-29',
      dt: instant,
      ts: instant,
      obj: { a: 1, nested: { b: [1, 'x', null, true] }, s: 'é"\\' },
      arr: [1, 2.5, { c: false }, 'z'],
      bytes: new Uint8Array(bytes),
      uuid,
    }
    const expected = {
      nothing: null, // NULL
      yes: 1, // BOOLEAN is TINYINT(1): 1 and 0
      no: 0,
      i31: '2147483648', // BIGINT: always a string
      i53: '9007199254740993', // exact, beyond 2^53
      dec20: '1234567890.1234567891', // DECIMAL: a string with every digit
      dbl: 0.30000000000000004, // DOUBLE: the same float
      flt: 1.5, // FLOAT: exact for this value
      txt, // quotes, newlines, backslashes, emoji (utf8mb4)
      d: '2024-02-29', // DATE: the calendar string
      dt: instant, // DATETIME(3): the same instant, as a Date
      ts: instant, // TIMESTAMP(3): the same instant (the session time zone is UTC)
      obj: input.obj, // JSON: parsed
      arr: input.arr,
      bytes, // LONGBLOB: a Buffer
      uuid, // CHAR(36): the string
    }

    it('stores and reads every type back (execute and query agree)', async () => {
      await run(db.execute(sql`DELETE FROM myx_drv_types`))
      const ins = await run(db.execute(pipe(q.insertInto('myx_drv_types'), q.values(input))))
      await run(text.execute(pipe(q.insertInto('myx_drv_types'), q.values(input))))
      const select = pipe(q.from('myx_drv_types'), q.where({ id: ins.insertId }))
      const [viaExecute] = await run(db.all(select))
      const [viaQuery] = await run(text.all(select))
      const { id, ...values } = viaExecute
      expect(id).toBe(ins.insertId)
      expect(values).toEqual(expected)
      expect((values.bytes as Buffer).equals(bytes)).toBe(true)
      const { id: _id, ...textValues } = viaQuery
      expect(textValues).toEqual(expected)
      // The row the text protocol inserted reads back the same too.
      const rows = await run(db.all(pipe(q.from('myx_drv_types'), q.orderBy('id'))))
      expect(rows.map(({ id: _, ...v }) => v)).toEqual([expected, expected])
    })

    it('FLOAT is single precision: execute widens the stored float, query reads its shortest text', async () => {
      await run(db.execute(pipe(q.update('myx_drv_types'), q.set({ flt: 1.1 }))))
      expect(await run(db.all(sql`SELECT flt FROM myx_drv_types LIMIT 1`))).toEqual([{ flt: 1.100000023841858 }])
      expect(await run(text.all(sql`SELECT flt FROM myx_drv_types LIMIT 1`))).toEqual([{ flt: 1.1 }])
      await run(db.execute(pipe(q.update('myx_drv_types'), q.set({ flt: 1.5 }))))
    })

    it('finds a BIGINT beyond 2^53 exactly when bound as a bigint', async () => {
      expect(await run(db.all(pipe(q.from('myx_drv_types'), q.select('i53'), q.where({ i53: 2n ** 53n + 1n }), q.limit(1))))).toEqual([{ i53: '9007199254740993' }])
      expect(await run(db.all(pipe(q.from('myx_drv_types'), q.select('i53'), q.where({ i53: 2n ** 53n }))))).toEqual([])
    })

    it("bigNumbers: 'safe' gives numbers within 2^53 and strings beyond", async () => {
      const safe = await run(connect(driverFor({ max: 1, bigNumbers: 'safe' }), mysql))
      try {
        const [r] = await run(safe.all(sql`SELECT i31, i53, dec20, (SELECT COUNT(*) FROM myx_drv_types) AS n FROM myx_drv_types LIMIT 1`))
        expect(r).toEqual({ i31: 2147483648, i53: '9007199254740993', dec20: '1234567890.1234567891', n: 2 })
      } finally {
        await run(safe.close())
      }
    })

    it('keeps DATETIME instants whatever the process time zone', async () => {
      const saved = process.env.TZ
      try {
        for (const tz of ['America/New_York', 'Asia/Kolkata', 'Pacific/Chatham', 'UTC']) {
          process.env.TZ = tz
          const local = new Date(2024, 2, 10, 2, 30, 15, 250) // a local wall-clock time in each zone
          const ins = await run(db.execute(pipe(q.insertInto('myx_drv_types'), q.values({ dt: local, d: '2024-03-10' }))))
          const [r] = await run(db.all<{ dt: Date; d: string }>(pipe(q.from('myx_drv_types'), q.select('dt', 'd'), q.where({ id: ins.insertId }))))
          expect(r.dt.getTime()).toBe(local.getTime())
          expect(r.d).toBe('2024-03-10')
        }
      } finally {
        if (saved === undefined) delete process.env.TZ
        else process.env.TZ = saved
      }
    })

    it('a Date bound to a DATE column keeps its UTC calendar day', async () => {
      const ins = await run(db.execute(pipe(q.insertInto('myx_drv_types'), q.values({ d: new Date('2024-12-31T23:30:00-05:00') }))))
      const [r] = await run(db.all(pipe(q.from('myx_drv_types'), q.select('d'), q.where({ id: ins.insertId }))))
      expect(r).toEqual({ d: '2025-01-01' })
    })

    it('NOW() is UTC on every connection', async () => {
      const [r] = await run(db.all<{ now: Date; tz: string }>(sql`SELECT NOW(3) AS now, @@session.time_zone AS tz`))
      expect(r.tz).toBe('+00:00')
      expect(Math.abs(r.now.getTime() - Date.now())).toBeLessThan(5000)
    })
  })
})
