/**
 * The postgres.js driver against a real PostgreSQL: errors classified by SQLSTATE (each one
 * provoked for real), transactions and savepoints through `connect` + `db.transaction`,
 * streaming through cursors, pipelined concurrency, prepared statements off, and the value
 * round trip.
 */
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type Backend, connect, extend, type DbError, isDbError, toDbError, sql } from 'recordkit'
import { json, postgres } from 'recordkit/dialects/postgres'
import { parsePgArray, pgTimestampText, postgresJs, type PostgresJsOptions } from 'recordkit/drivers/postgres'
import { parsePgTimestamp } from '../src/dates.js'
import { run } from 'recordkit/promise'
import { from, insertInto, orderBy, returning, select, values, where } from 'recordkit/query'
import { PG_URL, serverAvailable } from './support/servers.js'

const available = await serverAvailable('postgres')

/** An async function as a TaskEither: a rejection with a DbError becomes a Left. */
const te = <A>(f: () => Promise<A>): TaskEither<DbError, A> => () => f().then((a) => E.right(a), (e: unknown) => E.left(toDbError(e)))

/** The DbError a task fails with (the test fails if it succeeds). */
const failure = async <A>(t: TaskEither<DbError, A>): Promise<DbError> => {
  const r = await t()
  if (E.isRight(r)) throw new Error(`expected a failure, got ${JSON.stringify(r.right, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`)
  return r.left
}

const deferred = <A = void>() => {
  let resolve!: (a: A) => void
  const promise = new Promise<A>((r) => { resolve = r })
  return { promise, resolve }
}

/** Resolves when `n` callers have arrived. */
const barrier = (n: number) => {
  let arrived = 0
  const all = deferred()
  return (): Promise<void> => {
    if (++arrived === n) all.resolve()
    return all.promise
  }
}

/** Fail fast instead of hanging on a pool that was not given back. */
const within = <A>(ms: number, p: Promise<A>): Promise<A> =>
  Promise.race([p, new Promise<A>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms))])

const open = (options: PostgresJsOptions = {}): Promise<Backend> => run(connect(postgresJs({ url: PG_URL, max: 4, ...options }), postgres))

describe('parsePgArray', () => {
  it('reads NULL elements as null, quoted "NULL" as text, nesting, escapes and bounds', () => {
    expect(parsePgArray('{1,NULL,3}', Number)).toEqual([1, null, 3])
    expect(parsePgArray('{"NULL",NULL,"a,b","c\\"d","e\\\\f",""}')).toEqual(['NULL', null, 'a,b', 'c"d', 'e\\f', ''])
    expect(parsePgArray('{{1,2},{3,NULL}}', Number)).toEqual([[1, 2], [3, null]])
    expect(parsePgArray('{}')).toEqual([])
    expect(parsePgArray('[0:1]={7,8}', Number)).toEqual([7, 8])
    expect(parsePgArray('{(0,0),(1,1);(2,2),(3,3)}', undefined, ';')).toEqual(['(0,0),(1,1)', '(2,2),(3,3)'])
  })
})

describe('pgTimestampText', () => {
  /** The outcome of a reader: the instant, or the error's tag and message. */
  const outcome = (read: (s: string) => Date, s: string): unknown => {
    try {
      return read(s).getTime()
    } catch (e) {
      return isDbError(e) ? `${e._tag}: ${e.message}` : e
    }
  }

  it('reads every form the server writes as parsePgTimestamp does, and refuses what it refuses', () => {
    const texts = [
      '2024-01-02', '0001-01-01', '0050-06-01', '0000-01-01', '9999-12-31',
      '2024-01-02 03:04:05', '2024-02-29 23:59:59', '0050-06-01 12:00:00', '1969-12-31 23:59:59.999',
      '2024-01-02 03:04:05.6', '2024-01-02 03:04:05.67', '2024-01-02 03:04:05.678', '2024-01-02 03:04:05.6789', '2024-01-02 03:04:05.678912',
      '2024-01-02 03:04:05+00', '2024-01-02 03:04:05.5+02', '2024-01-02 03:04:05-07', '2024-01-02 03:04:05.123456+05:30',
      '2024-01-02 03:04:05-03:30:15', '1900-01-01 00:00:00+00:19:32', '0001-01-01 00:00:00+00',
      // Read by parsePgTimestamp itself: BC, five-digit years.
      '0044-03-15 00:00:00+00 BC', '0044-03-15 BC', '12024-01-02 03:04:05+00', '4713-11-24 BC',
      // Refused alike.
      'infinity', '-infinity', '2024-01-02 03:04:05.1234567', '2024-01-02 03:04:05.', '2024-01-02T03:04:05',
      '2024-01-02 03:04', '2024-01-02 03:04:05+0', '2024-01-02 03:04:05+00:0', '2024-01-02 03:04:05 +00',
      '2024-1-02', '2024-01-02x', 'abcd-01-02', '2024-01-02 03:04:05+00 BCE', '', '294277-01-01 00:00:00+00',
    ]
    for (const s of texts) expect([s, outcome(pgTimestampText, s)]).toEqual([s, outcome(parsePgTimestamp, s)])
    expect(pgTimestampText('2024-01-02 03:04:05.678+00').toISOString()).toBe('2024-01-02T03:04:05.678Z')
    expect(pgTimestampText('0050-06-01').toISOString()).toBe('0050-06-01T00:00:00.000Z')
  })
})

describe('prepareStatement', () => {
  it('keeps statements of up to 1,000 parameters prepared, and larger ones when they run as a batch', () => {
    const d = postgresJs({ url: PG_URL })
    const q = (n: number, batch?: boolean) => ({ sql: 'INSERT ...', params: new Array(n).fill(1), batch })
    expect([d.prepareStatement(q(1000)), d.prepareStatement(q(1001)), d.prepareStatement(q(6000, true))]).toEqual([true, false, true])
    expect(postgresJs({ url: PG_URL, prepare: false }).prepareStatement(q(6000, true))).toBe(false)
  })
})

describe.skipIf(!available)('postgres.js driver', () => {
  let db: Backend

  beforeAll(async () => {
    db = await open()
    await run(db.execute(sql`DROP TABLE IF EXISTS pgx_dr_child, pgx_dr_parent, pgx_dr_accounts, pgx_dr_points, pgx_dr_types, pgx_dr_log`))
    await run(db.execute(sql`CREATE TABLE pgx_dr_parent (id int PRIMARY KEY)`))
    await run(db.execute(sql`CREATE TABLE pgx_dr_child (
      id serial PRIMARY KEY,
      parent_id int CONSTRAINT pgx_dr_child_parent_fk REFERENCES pgx_dr_parent (id),
      email text CONSTRAINT pgx_dr_child_email_key UNIQUE,
      name text NOT NULL DEFAULT 'x',
      qty int CONSTRAINT pgx_dr_child_qty_check CHECK (qty >= 0))`))
    await run(db.execute(sql`CREATE TABLE pgx_dr_accounts (id int PRIMARY KEY, balance int NOT NULL)`))
    await run(db.execute(sql`CREATE TABLE pgx_dr_points (id int PRIMARY KEY, label text NOT NULL)`))
    await run(db.execute(sql`INSERT INTO pgx_dr_points (id, label) SELECT g, 'p' || g FROM generate_series(1, 100) g`))
    await run(db.execute(sql`CREATE TABLE pgx_dr_log (id serial PRIMARY KEY, msg text NOT NULL)`))
    await run(db.execute(sql`CREATE TABLE pgx_dr_types (
      id int PRIMARY KEY, b boolean, i4 int, i8 bigint, n numeric, f8 double precision, f4 real, t text, d date,
      ts timestamp(3), tz timestamptz(3), j jsonb, bin bytea, u uuid, ia int[], ta text[], i8a bigint[])`))
  })

  afterAll(async () => {
    if (db === undefined) return
    await run(db.execute(sql`DROP TABLE IF EXISTS pgx_dr_child, pgx_dr_parent, pgx_dr_accounts, pgx_dr_points, pgx_dr_types, pgx_dr_log`))
    await run(db.close())
  })

  beforeEach(async () => {
    await run(db.execute(sql`TRUNCATE pgx_dr_child, pgx_dr_parent, pgx_dr_accounts, pgx_dr_log, pgx_dr_types RESTART IDENTITY`))
    await run(db.execute(sql`INSERT INTO pgx_dr_parent (id) VALUES (1)`))
    await run(db.execute(sql`INSERT INTO pgx_dr_accounts (id, balance) VALUES (1, 100), (2, 100)`))
  })

  describe('errors, classified by SQLSTATE', () => {
    it('UniqueViolation keeps the constraint, the SQL, the parameters and the cause', async () => {
      await run(db.execute(pipe(insertInto('pgx_dr_child'), values({ parent_id: 1, email: 'a@x' }))))
      const e = await failure(db.execute(pipe(insertInto('pgx_dr_child'), values({ parent_id: 1, email: 'a@x' }))))
      expect(e).toMatchObject({ _tag: 'UniqueViolation', code: '23505', constraint: 'pgx_dr_child_email_key', sql: 'INSERT INTO "pgx_dr_child" ("parent_id", "email") VALUES ($1, $2)', params: [1, 'a@x'] })
      expect((e.cause as Error).name).toBe('PostgresError')
    })

    it('ForeignKeyViolation keeps the constraint', async () => {
      const e = await failure(db.execute(pipe(insertInto('pgx_dr_child'), values({ parent_id: 99 }))))
      expect(e).toMatchObject({ _tag: 'ForeignKeyViolation', code: '23503', constraint: 'pgx_dr_child_parent_fk' })
      await run(db.execute(pipe(insertInto('pgx_dr_child'), values({ parent_id: 1 }))))
      expect(await failure(db.execute(sql`DELETE FROM pgx_dr_parent WHERE id = ${1}`))).toMatchObject({ _tag: 'ForeignKeyViolation', constraint: 'pgx_dr_child_parent_fk' })
    })

    it('NotNullViolation keeps the column', async () => {
      expect(await failure(db.execute(pipe(insertInto('pgx_dr_child'), values({ name: null })))))
        .toMatchObject({ _tag: 'NotNullViolation', code: '23502', column: 'name' })
    })

    it('CheckViolation keeps the constraint', async () => {
      expect(await failure(db.execute(pipe(insertInto('pgx_dr_child'), values({ qty: -1 })))))
        .toMatchObject({ _tag: 'CheckViolation', code: '23514', constraint: 'pgx_dr_child_qty_check' })
    })

    it('QueryError for syntax errors, unknown tables and bad input (42xxx, 22xxx)', async () => {
      expect(await failure(db.execute(sql`SELEC 1`))).toMatchObject({ _tag: 'QueryError', code: '42601', sql: 'SELEC 1' })
      expect(await failure(db.execute(pipe(from('pgx_dr_missing'), where({ id: 1 }))))).toMatchObject({ _tag: 'QueryError', code: '42P01' })
      expect(await failure(db.execute(sql`SELECT ${'abc'}::int`))).toMatchObject({ _tag: 'QueryError', code: '22P02' })
    })

    it('redacts parameters when asked', async () => {
      const quiet = await open({ max: 1, redactParams: true })
      try {
        expect(await failure(quiet.execute(sql`SELECT ${'secret'}::int`))).toMatchObject({ _tag: 'QueryError', params: ['[redacted]'] })
      } finally {
        await run(quiet.close())
      }
    })

    it('ConnectionError when nothing listens, when the database or the role does not exist', async () => {
      const refused = await failure(connect(postgresJs({ url: 'postgres://postgres@127.0.0.1:1/test', max: 1 }), postgres))
      expect(refused).toMatchObject({ _tag: 'ConnectionError', code: 'ECONNREFUSED' })
      const noDb = postgresJs({ url: PG_URL.replace(/\/[^/]*$/, '/pgx_no_such_database'), max: 1 })
      expect(await failure(noDb.version())).toMatchObject({ _tag: 'ConnectionError', code: '3D000' })
      expect(await failure(noDb.reserve())).toMatchObject({ _tag: 'ConnectionError', code: '3D000' })
      await run(noDb.close())
      const u = new URL(PG_URL)
      u.username = 'pgx_no_such_role'
      const noRole = postgresJs({ url: u.toString(), max: 1 })
      expect(await failure(noRole.version())).toMatchObject({ _tag: 'ConnectionError', code: '28000' })
      await run(noRole.close())
    })

    it('ConnectionError when the server ends a transaction\'s session; the pool goes on', async () => {
      const one = await open({ max: 1 })
      const killer = await open({ max: 1 })
      try {
        const outcome = await one.transaction(() => te(async () => {
          const [{ pid }] = await run(one.all<{ pid: number }>(sql`SELECT pg_backend_pid() AS pid`))
          await run(killer.execute(sql`SELECT pg_terminate_backend(${pid})`))
          for (let i = 0; i < 100; i++) {
            const alive = await run(killer.all(sql`SELECT 1 FROM pg_stat_activity WHERE pid = ${pid}`))
            if (alive.length === 0) break
            await new Promise((r) => setTimeout(r, 20))
          }
          await new Promise((r) => setTimeout(r, 50))
          return run(one.execute(sql`SELECT 1`))
        }))()
        expect(E.isLeft(outcome) && outcome.left).toMatchObject({ _tag: 'ConnectionError' })
        expect(await within(5000, run(one.all(sql`SELECT 2 AS two`)))).toEqual([{ two: 2 }])
      } finally {
        await run(one.close())
        await run(killer.close())
      }
    })

    it('Deadlock: two transactions lock two rows in opposite order', async () => {
      const bothLocked = barrier(2)
      const transfer = (first: number, second: number) => db.transaction(() => te(async () => {
        await run(db.execute(sql`UPDATE pgx_dr_accounts SET balance = balance - 10 WHERE id = ${first}`))
        await bothLocked()
        await run(db.execute(sql`UPDATE pgx_dr_accounts SET balance = balance + 10 WHERE id = ${second}`))
      }))
      const outcomes = await Promise.all([transfer(1, 2)(), transfer(2, 1)()])
      const failed = outcomes.filter(E.isLeft).map((o) => o.left)
      expect(failed).toHaveLength(1)
      expect(failed[0]).toMatchObject({ _tag: 'Deadlock', code: '40P01' })
      // The victim rolled back; the other transfer committed.
      expect(await run(db.all(sql`SELECT sum(balance)::int AS total FROM pgx_dr_accounts`))).toEqual([{ total: 200 }])
    })

    it('SerializationFailure: two SERIALIZABLE transactions update the same row', async () => {
      const aRead = deferred()
      const bCommitted = deferred()
      const a = db.transaction(() => te(async () => {
        await run(db.all(sql`SELECT balance FROM pgx_dr_accounts WHERE id = 1`))
        aRead.resolve()
        await bCommitted.promise
        await run(db.execute(sql`UPDATE pgx_dr_accounts SET balance = balance + 1 WHERE id = 1`))
      }), { isolation: 'serializable' })()
      await aRead.promise
      const b = await db.transaction(() => db.execute(sql`UPDATE pgx_dr_accounts SET balance = balance + 5 WHERE id = 1`), { isolation: 'serializable' })()
      bCommitted.resolve()
      expect(E.isRight(b)).toBe(true)
      expect(await failure(() => a)).toMatchObject({ _tag: 'SerializationFailure', code: '40001' })
      expect(await run(db.all(sql`SELECT balance FROM pgx_dr_accounts WHERE id = 1`))).toEqual([{ balance: 105 }])
    })

    it('LockTimeout: SET lock_timeout, then wait for a row another transaction holds', async () => {
      const locked = deferred()
      const done = deferred()
      const holder = db.transaction(() => te(async () => {
        await run(db.all(sql`SELECT * FROM pgx_dr_accounts WHERE id = 1 FOR UPDATE`))
        locked.resolve()
        await done.promise
      }))()
      await locked.promise
      const waiter = await failure(db.transaction(() => te(async () => {
        await run(db.execute(sql`SET LOCAL lock_timeout = '100ms'`))
        await run(db.execute(sql`UPDATE pgx_dr_accounts SET balance = 0 WHERE id = 1`))
      })))
      done.resolve()
      expect(E.isRight(await holder)).toBe(true)
      expect(waiter).toMatchObject({ _tag: 'LockTimeout', code: '55P03' })
    })

    it('StatementTimeout: SET statement_timeout, then pg_sleep', async () => {
      const e = await failure(db.transaction(() => te(async () => {
        await run(db.execute(sql`SET LOCAL statement_timeout = '100ms'`))
        await run(db.execute(sql`SELECT pg_sleep(5)`))
      })))
      expect(e).toMatchObject({ _tag: 'StatementTimeout', code: '57014' })
    })

    it('TransactionError: a write in a READ ONLY transaction is refused (25006)', async () => {
      const e = await failure(db.transaction(() => db.execute(sql`INSERT INTO pgx_dr_log (msg) VALUES (${'no'})`), { readOnly: true }))
      expect(e).toMatchObject({ _tag: 'TransactionError', code: '25006' })
      expect(await run(db.all(sql`SELECT count(*) AS n FROM pgx_dr_log`))).toEqual([{ n: 0 }])
    })
  })

  describe('connection set-up', () => {
    it('startup parameters apply to every connection: application_name, TimeZone, options.connection', async () => {
      const tuned = await open({ max: 2, connection: { statement_timeout: 150, search_path: 'public' } })
      try {
        expect(await run(tuned.all(sql`SELECT current_setting('application_name') AS app, current_setting('TimeZone') AS tz, current_setting('statement_timeout') AS st`)))
          .toEqual([{ app: 'recordkit', tz: 'UTC', st: '150ms' }])
        expect(await failure(tuned.execute(sql`SELECT pg_sleep(2)`))).toMatchObject({ _tag: 'StatementTimeout', code: '57014' })
      } finally {
        await run(tuned.close())
      }
    })

    it('connectionParameters is an overridable field (extend)', async () => {
      const driver = extend(postgresJs({ url: PG_URL, max: 1 }), (_, base) => ({
        connectionParameters: () => ({ ...base.connectionParameters(), application_name: 'pgx-custom', lock_timeout: '1s' }),
      }))
      const custom = await run(connect(driver, postgres))
      try {
        expect(await run(custom.all(sql`SELECT current_setting('application_name') AS app, current_setting('lock_timeout') AS lt`))).toEqual([{ app: 'pgx-custom', lt: '1s' }])
      } finally {
        await run(custom.close())
      }
    })

    it('version() reports the server version; close() ends the pool for good: a later use is a ConnectionError, never a new pool', async () => {
      const driver = postgresJs({ url: PG_URL, max: 1 })
      expect(await run(driver.version())).toMatch(/^\d+(\.\d+)?/)
      await run(driver.close())
      const after = await failure(driver.version())
      expect(after._tag).toBe('ConnectionError')
      expect(after.code).toBe('BACKEND_CLOSED')
      expect((await failure(driver.reserve()))._tag).toBe('ConnectionError')
      await run(driver.close())
    })
  })

  describe('transactions and savepoints', () => {
    const log = (msg: string) => db.execute(pipe(insertInto('pgx_dr_log'), values({ msg })))
    const messages = async (): Promise<string[]> => (await run(db.all<{ msg: string }>(pipe(from('pgx_dr_log'), select('msg'), orderBy('id'))))).map((r) => r.msg)

    it('commits when the function succeeds', async () => {
      const r = await run(db.transaction((tx) => te(async () => {
        await run(tx.execute(pipe(insertInto('pgx_dr_log'), values({ msg: 'a' }))))
        await run(log('b'))
        return 'done'
      })))
      expect(r).toBe('done')
      expect(await messages()).toEqual(['a', 'b'])
    })

    it('rolls back when the function fails, and returns its error', async () => {
      const e = await failure(db.transaction(() => te(async () => {
        await run(log('a'))
        await run(db.execute(pipe(insertInto('pgx_dr_child'), values({ qty: -5 }))))
      })))
      expect(e._tag).toBe('CheckViolation')
      expect(await messages()).toEqual([])
    })

    it('rolls back when the function throws', async () => {
      const e = await failure(db.transaction(() => te(async () => {
        await run(log('a'))
        throw new Error('boom')
      })))
      expect(e.message).toBe('boom')
      expect(await messages()).toEqual([])
    })

    it('a failing nested transaction rolls back to its savepoint; the outer one commits', async () => {
      await run(db.transaction(() => te(async () => {
        await run(log('outer 1'))
        const inner = await db.transaction(() => te(async () => {
          await run(log('inner'))
          await run(db.execute(pipe(insertInto('pgx_dr_child'), values({ parent_id: 42 }))))
        }))()
        expect(E.isLeft(inner) && inner.left._tag).toBe('ForeignKeyViolation')
        const kept = await run(db.transaction(() => log('inner kept')))
        expect(kept.rowsAffected).toBe(1)
        await run(log('outer 2'))
      })))
      expect(await messages()).toEqual(['outer 1', 'inner kept', 'outer 2'])
    })

    it('a nested transaction rolled back inside a committed one, two levels deep', async () => {
      await run(db.transaction(() => te(async () => {
        await run(log('1'))
        await db.transaction(() => te(async () => {
          await run(log('2'))
          const deeper = await db.transaction(() => te(async () => {
            await run(log('3'))
            throw new Error('undo 3')
          }))()
          expect(E.isLeft(deeper)).toBe(true)
        }))()
      })))
      expect(await messages()).toEqual(['1', '2'])
    })

    it('every statement inside runs on the transaction\'s one connection, through tx or db', async () => {
      const ids = await run(db.transaction((tx) => te(async () => {
        const a = await run(tx.all<{ pid: number; x: string }>(sql`SELECT pg_backend_pid() AS pid, txid_current()::text AS x`))
        const b = await run(db.all<{ pid: number; x: string }>(sql`SELECT pg_backend_pid() AS pid, txid_current()::text AS x`))
        expect(db.inTransaction()).toBe(true)
        return [a[0], b[0]]
      })))
      expect(ids[0]).toEqual(ids[1])
      expect(db.inTransaction()).toBe(false)
    })

    it('isolation levels and read-only reach the server', async () => {
      for (const isolation of ['read committed', 'repeatable read', 'serializable'] as const) {
        const [s] = await run(db.transaction(() => db.all(sql`SELECT current_setting('transaction_isolation') AS i, current_setting('transaction_read_only') AS ro`), { isolation, readOnly: isolation === 'serializable' }))
        expect(s).toEqual({ i: isolation, ro: isolation === 'serializable' ? 'on' : 'off' })
      }
    })
  })

  describe('streaming through a cursor', () => {
    const TEN_THOUSAND = sql`SELECT g AS n FROM generate_series(1, 10000) g ORDER BY g`
    let one: Backend

    beforeAll(async () => { one = await open({ max: 1 }) })
    afterAll(async () => { if (one !== undefined) await run(one.close()) })

    it('reads 10,000 rows in batches of the requested size', async () => {
      const sizes: number[] = []
      let sum = 0
      for await (const batch of one.driver.stream({ sql: 'SELECT g AS n FROM generate_series(1, 10000) g ORDER BY g', params: [] }, { batchSize: 1000 })) {
        sizes.push(batch.length)
        for (const r of batch) sum += r.n as number
      }
      expect(sizes).toEqual(Array(10).fill(1000))
      expect(sum).toBe(50_005_000)
      let count = 0
      for await (const row of one.stream<{ n: number }>(TEN_THOUSAND, { batchSize: 333 })) {
        expect(row.n).toBe(++count)
      }
      expect(count).toBe(10_000)
    })

    it('breaking out early gives the only connection back', async () => {
      let seen = 0
      for await (const row of one.stream<{ n: number }>(TEN_THOUSAND, { batchSize: 500 })) {
        seen = row.n
        if (seen === 1500) break
      }
      expect(seen).toBe(1500)
      expect(await within(3000, run(one.all(sql`SELECT 1 AS ok`)))).toEqual([{ ok: 1 }])
      let count = 0
      for await (const _ of one.stream(TEN_THOUSAND, { batchSize: 2000 })) count++
      expect(count).toBe(10_000)
    })

    it('an error mid-stream is a DbError, and the connection is given back', async () => {
      let seen = 0
      let caught: unknown
      try {
        for await (const _ of one.stream(sql`SELECT 1 / (g - 5000) AS x FROM generate_series(1, 10000) g`, { batchSize: 1000 })) seen++
      } catch (e) {
        caught = e
      }
      expect(isDbError(caught, 'QueryError') && caught.code).toBe('22012')
      expect(seen).toBeLessThan(5000)
      expect(await within(3000, run(one.all(sql`SELECT 1 AS ok`)))).toEqual([{ ok: 1 }])
    })

    it('a statement that fails after sending rows leaves nothing behind for the next one', async () => {
      expect(await failure(one.execute(sql`SELECT 1 / (g - 500) AS x FROM generate_series(1, 1000) g`))).toMatchObject({ _tag: 'QueryError', code: '22012' })
      expect(await run(one.all(sql`SELECT 1 AS ok`))).toEqual([{ ok: 1 }])
    })

    it('streams inside a transaction on its connection, and the transaction goes on after an early break', async () => {
      const r = await run(one.transaction(() => te(async () => {
        await run(one.execute(sql`INSERT INTO pgx_dr_log (msg) VALUES (${'streamed'})`))
        let first: unknown
        for await (const row of one.stream(sql`SELECT msg FROM pgx_dr_log UNION ALL SELECT g::text FROM generate_series(1, 5000) g`, { batchSize: 100 })) {
          first = row.msg
          break
        }
        const [{ n }] = await run(one.all<{ n: number }>(sql`SELECT count(*) AS n FROM pgx_dr_log`))
        return { first, n }
      })))
      expect(r).toEqual({ first: 'streamed', n: 1 })
    })
  })

  describe('concurrency outside transactions', () => {
    const point = (id: number) => pipe(from('pgx_dr_points'), select('id', 'label'), where({ id }))

    it('100 concurrent point selects all complete with their own row', async () => {
      const rows = await within(10_000, Promise.all(Array.from({ length: 100 }, (_, i) => run(db.first(point(i + 1))))))
      expect(rows.map((o) => (o._tag === 'Some' ? o.value : undefined))).toEqual(Array.from({ length: 100 }, (_, i) => ({ id: i + 1, label: `p${i + 1}` })))
    })

    it('with max: 1 the 100 selects are pipelined: all written to one connection before the first answer', async () => {
      const written: number[] = []
      const driver = extend(postgresJs({ url: PG_URL, max: 1 }), (_, base) => ({
        clientOptions: () => ({ ...base.clientOptions(), debug: (connection: number) => { written.push(connection) } }),
      }))
      const one = await run(connect(driver, postgres))
      try {
        const q = (id: number) => pipe(from('pgx_dr_points'), select('id', sql`pg_backend_pid()`), where({ id }))
        await run(one.all(q(1))) // prepares the statement
        const before = written.length
        let writtenAtFirstAnswer = -1
        const rows = await within(10_000, Promise.all(Array.from({ length: 100 }, (_, i) => one.all<{ id: number; pg_backend_pid: number }>(q(i + 1))().then((r) => {
          if (writtenAtFirstAnswer < 0) writtenAtFirstAnswer = written.length - before
          return E.isRight(r) ? r.right[0] : undefined
        }))))
        expect(writtenAtFirstAnswer).toBe(100)
        expect(new Set(written.slice(before)).size).toBe(1)
        expect(new Set(rows.map((r) => r?.pg_backend_pid)).size).toBe(1)
        expect(rows.map((r) => r?.id)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1))
      } finally {
        await run(one.close())
      }
    })

    it('prepare: false sends no named statements, and still answers 100 concurrent selects', async () => {
      const count = sql`SELECT count(*) AS n FROM pg_prepared_statements`
      const unprepared = await open({ max: 1, prepare: false })
      const prepared = await open({ max: 1 })
      try {
        for (const b of [unprepared, prepared]) {
          for (let i = 1; i <= 3; i++) await run(b.first(point(i)))
        }
        expect(await run(unprepared.all(count))).toEqual([{ n: 0 }])
        expect((await run(prepared.all<{ n: number }>(count)))[0].n).toBeGreaterThan(0)
        const rows = await within(10_000, Promise.all(Array.from({ length: 100 }, (_, i) => run(unprepared.all(point(i + 1))))))
        expect(rows.map((r) => r[0].id)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1))
      } finally {
        await run(unprepared.close())
        await run(prepared.close())
      }
    })
  })

  describe('statement cache', () => {
    it('bulk statements (more than 1,000 parameters) run unnamed; smaller ones stay prepared', async () => {
      const one = await open({ max: 1 })
      try {
        const statements = sql`SELECT statement FROM pg_prepared_statements`
        const before = (await run(one.all<{ statement: string }>(statements))).length
        await run(one.execute(pipe(insertInto('pgx_dr_log'), values(Array.from({ length: 1001 }, (_, i) => ({ msg: `m${i}` }))))))
        await run(one.execute(pipe(insertInto('pgx_dr_log'), values(Array.from({ length: 1000 }, (_, i) => ({ msg: `n${i}` }))))))
        const after = await run(one.all<{ statement: string }>(statements))
        const inserts = after.filter((r) => r.statement.startsWith('INSERT INTO "pgx_dr_log"'))
        expect(inserts.map((r) => (r.statement.match(/\$/g) ?? []).length)).toEqual([1000])
        expect(after.length).toBeGreaterThan(before)
        expect(await run(one.all(sql`SELECT count(*) AS n FROM pgx_dr_log`))).toEqual([{ n: 2001 }])
      } finally {
        await run(one.close())
      }
    })
  })

  describe('values round trip', () => {
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i))
    const text = `it's "quoted" \\ back\nnew line\ttab, 🎉 ünïcødé, NULL, {braces}`
    const rows = [
      {
        id: 1, b: true, i4: 2147483647, i8: 2147483648, n: '1234567890.1234567890', f8: 0.1 + 0.2, f4: 1.5, t: text,
        d: new Date('2024-02-29T00:00:00Z'), ts: new Date('2024-03-10T10:20:30.456Z'), tz: new Date('1999-12-31T23:59:59.999Z'),
        j: { a: [1, { b: null }], s: 'é"\\', n: 1.5, big: 2n ** 60n }, bin: bytes, u: '0b3e3f9a-8a7e-4b1c-9d2f-6c8e5a4b3c21',
        ia: [1, null, 3], ta: ['a,b', 'c"d', 'e\\f', 'NULL', null, '', ' sp '], i8a: [1n, 2n ** 62n],
      },
      {
        id: 2, b: false, i4: -2147483648, i8: 2n ** 53n + 1n, n: '-0.00000000000000000001', f8: -1.5e-300, f4: -0, t: '',
        d: new Date('1970-01-01T00:00:00Z'), ts: new Date('2038-01-19T03:14:08.001Z'), tz: '2024-03-10T02:30:00.123-08:00',
        j: json([1, 'two', null]), bin: Buffer.alloc(0), u: '00000000-0000-0000-0000-000000000000', ia: [], ta: [], i8a: [-(2n ** 63n)],
      },
      {
        id: 3, b: null, i4: null, i8: null, n: null, f8: Number.NaN, f4: Number.POSITIVE_INFINITY, t: null,
        d: null, ts: null, tz: null, j: json('a string'), bin: null, u: null, ia: null, ta: null, i8a: null,
      },
    ]

    it('every value comes back as the policy says', async () => {
      await run(db.execute(pipe(insertInto('pgx_dr_types'), values(rows))))
      const back = await run(db.all(pipe(from('pgx_dr_types'), orderBy('id'))))
      expect(back[0]).toEqual({ ...rows[0], j: { a: [1, { b: null }], s: 'é"\\', n: 1.5, big: 2n ** 60n }, i8a: [1, 2n ** 62n] })
      expect(back[1]).toEqual({ ...rows[1], i8: 2n ** 53n + 1n, tz: new Date('2024-03-10T10:30:00.123Z'), j: [1, 'two', null], i8a: [-(2n ** 63n)] })
      expect(back[2]).toEqual({ ...rows[2], j: 'a string' })
      expect(typeof back[0].i8).toBe('number')
      expect(Object.is(back[1].f4, -0)).toBe(true)
    })

    it('values bound straight into expressions keep their type', async () => {
      const [r] = await run(db.all(sql`SELECT ${2n ** 53n + 1n} + 0 AS big, ${'12345678901234567890.123456789'}::numeric * 1 AS n,
        ${new Date('2024-01-01T00:00:00Z')} + interval '1 day' AS next, ${[1, 2, 3]}::int[] AS arr, ${{ k: 'v' }}::jsonb -> 'k' AS k,
        ${bytes}::bytea = ${Buffer.from(bytes)} AS same, ${true} AND ${'true'}::boolean AS yes`))
      expect(r).toEqual({ big: 2n ** 53n + 1n, n: '12345678901234567890.123456789', next: new Date('2024-01-02T00:00:00Z'), arr: [1, 2, 3], k: 'v', same: true, yes: true })
    })

    it('timestamptz is the same instant in any session time zone; the zone only changes how the server prints it', async () => {
      await run(db.execute(pipe(insertInto('pgx_dr_types'), values({ id: 9, tz: new Date('2024-07-01T12:00:00.000Z') }))))
      const ny = await open({ max: 1, timeZone: 'America/New_York' })
      try {
        const [r] = await run(ny.all(sql`SELECT tz, tz::text AS printed, current_setting('TimeZone') AS zone FROM pgx_dr_types WHERE id = 9`))
        expect(r).toEqual({ tz: new Date('2024-07-01T12:00:00.000Z'), printed: '2024-07-01 08:00:00-04', zone: 'America/New_York' })
        await run(ny.execute(pipe(insertInto('pgx_dr_types'), values({ id: 10, tz: new Date('2024-01-15T23:30:00.000Z') }))))
      } finally {
        await run(ny.close())
      }
      const [r] = await run(db.all(sql`SELECT tz, tz::text AS printed FROM pgx_dr_types WHERE id = 10`))
      expect(r).toEqual({ tz: new Date('2024-01-15T23:30:00.000Z'), printed: '2024-01-15 23:30:00+00' })
    })

    it('int8 policies: safe (default), bigint, string', async () => {
      const q = sql`SELECT 3::int8 AS small, 9007199254740993::int8 AS big, count(*) AS c FROM (VALUES (1)) v`
      expect(await run(db.all(q))).toEqual([{ small: 3, big: 9007199254740993n, c: 1 }])
      for (const [int8, expected] of [['bigint', { small: 3n, big: 9007199254740993n, c: 1n }], ['string', { small: '3', big: '9007199254740993', c: '1' }]] as const) {
        const b = await open({ max: 1, int8 })
        try {
          expect(await run(b.all(q))).toEqual([expected])
        } finally {
          await run(b.close())
        }
      }
    })

    it('rowsAffected counts written rows only; several statements give the last one\'s rows', async () => {
      const ins = await run(db.execute(pipe(insertInto('pgx_dr_log'), values([{ msg: 'a' }, { msg: 'b' }, { msg: 'c' }]), returning('id'))))
      expect(ins.rowsAffected).toBe(3)
      expect((await run(db.execute(sql`SELECT * FROM pgx_dr_log`))).rowsAffected).toBe(0)
      expect((await run(db.execute(sql`UPDATE pgx_dr_log SET msg = msg || '!'`))).rowsAffected).toBe(3)
      const multi = await run(db.execute(sql`DELETE FROM pgx_dr_log WHERE msg = 'a!'; SELECT msg FROM pgx_dr_log ORDER BY id`))
      expect(multi).toEqual({ rows: [{ msg: 'b!' }, { msg: 'c!' }], rowsAffected: 1 })
    })
  })
})

describe.skipIf(!available)('a pool that is never closed', () => {
  it('does not keep the process alive: idle connections close by themselves', () => {
    // The program opens a backend, runs a query and never calls close(); it must end on its own.
    const program = `
      const { createBackend, run, sql } = await import('./src/index.ts')
      const db = await run(createBackend(${JSON.stringify(PG_URL)}))
      console.log(JSON.stringify(await run(db.all(sql\`SELECT 1 AS one\`))))
    `
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', program], { cwd: join(import.meta.dirname, '..'), encoding: 'utf8', timeout: 90_000 })
    expect(r.signal, 'the process was still running and had to be killed').toBeNull()
    expect(r.status, r.stderr).toBe(0)
    expect(r.stdout).toContain('[{"one":1}]')
  }, 100_000)
})
