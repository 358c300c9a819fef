/**
 * How values are bound, on every engine, provoked for real:
 *
 * - values an engine cannot store as they are (NaN, a Map, a Set, a Symbol, a function, an
 *   object whose toString throws, a lone surrogate) fail with a ValidationError naming the
 *   parameter before anything is sent, and a multi-row write with one of them writes nothing;
 * - SQLite stores dates as `CURRENT_TIMESTAMP` does, so equality, ranges and ordering hold
 *   between bound dates, DEFAULT CURRENT_TIMESTAMP rows, `timestamps()` rows and Chinook;
 * - dates of years 1-99 and BC come back exactly (or fail with a typed error), never as
 *   another date;
 * - MariaDB with `prepare: false` under NO_BACKSLASH_ESCAPES keeps values values;
 * - a statement over max_allowed_packet is a ValueTooLarge and the pool stays usable.
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Backend, compose, connect, type DbError, isDbError, extend, sql, UNBINDABLE } from 'recordkit'
import { mysql } from 'recordkit/dialects/mysql'
import { postgres } from 'recordkit/dialects/postgres'
import { sqlite } from 'recordkit/dialects/sqlite'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'
import { mysql2, type Mysql2Options } from 'recordkit/drivers/mysql2'
import { postgresJs } from 'recordkit/drivers/postgres'
import { date, model, timestamps } from 'recordkit/model'
import { run } from 'recordkit/promise'
import { deleteFrom, eq, insertInto, param, values, where } from 'recordkit/query'
import { loadChinook } from 'recordkit/testing'
import { MYSQL_URL, PG_URL, serverAvailable } from './support/servers.js'

const pgUp = await serverAvailable('postgres')
const mariaUp = await serverAvailable('mariadb')

const left = async <A>(task: () => Promise<E.Either<DbError, A>>): Promise<DbError> => {
  const r = await task()
  if (E.isRight(r)) throw new Error(`expected a failure, got ${JSON.stringify(r.right, (_, v) => (typeof v === 'bigint' ? String(v) : v))}`)
  return r.left
}

const count = async (db: Backend, table: string): Promise<number> =>
  Number((await run(db.all(sql`SELECT COUNT(*) AS n FROM ${sql.id(table)}`)))[0].n)

const mariadbWith = (o: Mysql2Options = {}) => connect(mysql2({ url: MYSQL_URL, max: 2, ...o }), mysql)

/** A plain object whose toString throws, and a class instance whose toString throws. */
const throwingPlain = { toString: () => { throw new Error('no text') } }
class Throwing {
  readonly x = 1
  toString(): string { throw new Error('no text either') }
}

/** Values no engine stores as they are, with the engines that refuse them. */
const HOSTILE: readonly { readonly name: string; readonly value: unknown; readonly on: readonly string[] }[] = [
  { name: 'NaN', value: Number.NaN, on: ['sqlite', 'mariadb'] },
  { name: 'Infinity', value: Number.POSITIVE_INFINITY, on: ['mariadb'] },
  { name: '-Infinity', value: Number.NEGATIVE_INFINITY, on: ['mariadb'] },
  { name: 'a Map', value: new Map([[1, 2]]), on: ['sqlite', 'postgres', 'mariadb'] },
  { name: 'a Set', value: new Set([1]), on: ['sqlite', 'postgres', 'mariadb'] },
  { name: 'a plain object whose toString throws', value: throwingPlain, on: ['sqlite', 'postgres', 'mariadb'] },
  { name: 'a class instance whose toString throws', value: new Throwing(), on: ['sqlite', 'postgres', 'mariadb'] },
  { name: 'a Symbol', value: Symbol('s'), on: ['sqlite', 'postgres', 'mariadb'] },
  { name: 'a function', value: () => 1, on: ['sqlite', 'postgres', 'mariadb'] },
  { name: 'a lone surrogate', value: 'a\uD800b', on: ['sqlite', 'postgres', 'mariadb'] },
  { name: 'NaN inside JSON', value: { a: Number.NaN }, on: ['sqlite', 'postgres', 'mariadb'] },
  { name: 'a Map inside JSON', value: { a: new Map() }, on: ['sqlite', 'postgres', 'mariadb'] },
  { name: 'an invalid Date', value: new Date(Number.NaN), on: ['sqlite', 'postgres', 'mariadb'] },
]

/** Every backend of this file: a name, the engine, and how to make it. */
const BACKENDS: readonly { readonly name: string; readonly engine: string; readonly up: boolean; readonly make: () => Promise<Backend> }[] = [
  { name: 'SQLite', engine: 'sqlite', up: true, make: async () => compose(betterSqlite3({ filename: ':memory:' }), sqlite) },
  { name: 'PostgreSQL', engine: 'postgres', up: pgUp, make: () => run(connect(postgresJs({ url: PG_URL, max: 2 }), postgres)) },
  { name: 'MariaDB', engine: 'mariadb', up: mariaUp, make: () => run(mariadbWith()) },
  { name: 'MariaDB, prepare: false', engine: 'mariadb', up: mariaUp, make: () => run(mariadbWith({ prepare: false })) },
]

for (const b of BACKENDS) {
  describe.skipIf(!b.up)(`unbindable values on ${b.name}`, () => {
    let db: Backend
    const table = `val_bad_${b.name.replace(/\W+/g, '_').toLowerCase()}`
    beforeAll(async () => {
      db = await b.make()
      await run(db.execute(sql`DROP TABLE IF EXISTS ${sql.id(table)}`))
      await run(db.execute(sql`CREATE TABLE ${sql.id(table)} (id INT PRIMARY KEY, v TEXT, n DOUBLE PRECISION)`))
    })
    afterAll(async () => {
      await run(db.execute(sql`DROP TABLE IF EXISTS ${sql.id(table)}`))
      await run(db.close())
    })

    for (const h of HOSTILE.filter((x) => x.on.includes(b.engine))) {
      it(`${h.name}: a ValidationError naming the parameter, and a multi-row write with it writes nothing`, async () => {
        const column = typeof h.value === 'number' ? 'n' : 'v'
        const e = await left(db.execute(pipe(insertInto(table), values([{ id: 1, [column]: column === 'n' ? 1 : 'fine' }, { id: 2, [column]: h.value }]))))
        expect(e._tag).toBe('ValidationError')
        expect(e.code).toBe(UNBINDABLE)
        expect(isDbError(e, 'ValidationError') && e.issues[0].path).toBe('$4')
        expect(e.message).toMatch(/^parameter \$4: cannot bind /)
        expect(await count(db, table)).toBe(0)
      })
    }

    it('a compiled statement given directly is checked by the driver, before it is sent', async () => {
      const e = await left(db.execute({ sql: `INSERT INTO ${db.dialect.quoteIdentifier(table)} (id, v) VALUES (${db.dialect.placeholder(1)}, ${db.dialect.placeholder(2)})`, params: [1, Symbol('x')] }))
      expect(e._tag).toBe('ValidationError')
      expect(isDbError(e, 'ValidationError') && e.issues[0].path).toBe('$2')
      expect(await count(db, table)).toBe(0)
    })

    it('executeBatch with one unbindable set runs none of its sets; the error names the parameter', async () => {
      const e = await left(db.executeBatch(pipe(insertInto(table), values({ id: param('id'), v: param('v') })), [[1, 'a'], [2, new Set()], [3, 'c']]))
      expect(e._tag).toBe('ValidationError')
      expect(isDbError(e, 'ValidationError') && e.issues[0].path).toBe('$2')
      expect(await count(db, table)).toBe(0)
    })

    it('a prepared query names the hole whose argument cannot be bound, and runs nothing', async () => {
      const p = db.prepare(pipe(insertInto(table), values({ id: param('id'), v: param('v') })))
      const e = await left(p.execute({ id: 1, v: Symbol('x') }))
      expect(e._tag).toBe('ValidationError')
      expect(isDbError(e, 'ValidationError') && e.issues[0].path).toBe(':v')
      expect(e.message).toMatch(/^parameter :v: cannot bind a Symbol/)
      expect(await count(db, table)).toBe(0)
    })

    it('the values each engine does store come back as they were', async () => {
      const kept = b.engine === 'postgres' ? [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY] : b.engine === 'sqlite' ? [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY] : []
      for (const [i, n] of kept.entries()) await run(db.execute(pipe(insertInto(table), values({ id: 10 + i, n }))))
      const rows = await run(db.all(sql`SELECT n FROM ${sql.id(table)} WHERE id >= 10 ORDER BY id`))
      expect(rows.map((r) => Number(r.n))).toEqual(kept)
      await run(db.execute(sql`DELETE FROM ${sql.id(table)}`))
    })
  })
}

describe('SQLite stores dates as CURRENT_TIMESTAMP does', () => {
  let db: Backend
  beforeAll(async () => {
    db = compose(betterSqlite3({ filename: ':memory:' }), sqlite)
    await run(db.execute(sql`CREATE TABLE stamps (id INTEGER PRIMARY KEY, label TEXT, created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP, updated_at TEXT)`))
  })
  afterAll(async () => { await run(db.close()) })

  it('a bound Date is `YYYY-MM-DD HH:MM:SS[.fff]` UTC text', async () => {
    const [r] = await run(db.all(sql`SELECT ${new Date('2024-02-29T23:59:58Z')} AS whole, ${new Date('2024-02-29T23:59:58.120Z')} AS part, CURRENT_TIMESTAMP AS now`))
    expect(r.whole).toBe('2024-02-29 23:59:58')
    expect(r.part).toBe('2024-02-29 23:59:58.120')
    expect(String(r.now)).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/)
  })

  it('equality and ranges find a DEFAULT CURRENT_TIMESTAMP row exactly at a bound', async () => {
    await run(db.execute(sql`INSERT INTO stamps (label) VALUES (${'default'})`))
    const [row] = await run(db.all(sql`SELECT created_at FROM stamps WHERE label = ${'default'}`))
    const at = new Date(`${String(row.created_at).replace(' ', 'T')}Z`)
    expect(await run(db.all(sql`SELECT label FROM stamps WHERE created_at = ${at}`))).toEqual([{ label: 'default' }])
    expect(await run(db.all(sql`SELECT label FROM stamps WHERE created_at BETWEEN ${at} AND ${new Date(at.getTime() + 500)}`))).toEqual([{ label: 'default' }])
    expect(await run(db.all(sql`SELECT label FROM stamps WHERE created_at >= ${at} AND created_at <= ${at}`))).toEqual([{ label: 'default' }])
    expect(await run(db.all(sql`SELECT label FROM stamps WHERE created_at > ${at}`))).toEqual([])
    expect(await run(db.all(sql`SELECT label FROM stamps WHERE created_at < ${at}`))).toEqual([])
  })

  it('timestamps() rows sort in time order with DEFAULT CURRENT_TIMESTAMP rows, and read back exactly', async () => {
    const Stamp = model({
      table: 'stamps', primaryKey: 'id',
      codec: t.type({ id: t.number, label: t.string, createdAt: date, updatedAt: date }),
      columns: { createdAt: 'created_at', updatedAt: 'updated_at' },
      behaviours: [timestamps()],
    })
    const [d] = await run(db.all(sql`SELECT created_at FROM stamps WHERE label = ${'default'}`))
    const base = new Date(`${String(d.created_at).replace(' ', 'T')}Z`).getTime()
    const before = new Date(base - 1000)
    const after = new Date(base + 500)
    // Model rows stamped just before and just after the DEFAULT row.
    const pinned = (when: Date) => model({
      table: 'stamps', primaryKey: 'id',
      codec: t.type({ id: t.number, label: t.string, createdAt: date, updatedAt: date }),
      columns: { createdAt: 'created_at', updatedAt: 'updated_at' },
      behaviours: [timestamps({ now: () => when })],
    })
    const a = await run(pinned(before).create(db, { label: 'before' }))
    const c = await run(pinned(after).create(db, { label: 'after' }))
    expect(a.createdAt.getTime()).toBe(before.getTime())
    expect(c.createdAt.getTime()).toBe(after.getTime())
    const order = await run(db.all(sql`SELECT label FROM stamps ORDER BY created_at, id`))
    expect(order.map((r) => r.label)).toEqual(['before', 'default', 'after'])
    const read = await run(Stamp.find(db, c.id))
    expect(read._tag === 'Some' && read.value.createdAt.toISOString()).toBe(after.toISOString())
  })

  it('both stored forms read back exactly through the date codec', async () => {
    const rows = await run(db.all(sql`SELECT ${'2024-01-02T03:04:05.006Z'} AS iso, ${'2024-01-02 03:04:05.006'} AS fraction, ${'2024-01-02 03:04:05'} AS whole`))
    const codec = t.type({ iso: date, fraction: date, whole: date })
    const r = codec.decode(rows[0])
    expect(E.isRight(r) && [r.right.iso.toISOString(), r.right.fraction.toISOString(), r.right.whole.toISOString()])
      .toEqual(['2024-01-02T03:04:05.006Z', '2024-01-02T03:04:05.006Z', '2024-01-02T03:04:05.000Z'])
  })

  it('Chinook invoice dates: equality, ranges and ordering with bound Dates', async () => {
    const chinook = compose(betterSqlite3({ filename: ':memory:' }), sqlite)
    await run(loadChinook(chinook))
    const first = await run(chinook.all(sql`SELECT invoice_id FROM invoice WHERE invoice_date = ${new Date('2021-01-01T00:00:00Z')} ORDER BY invoice_id`))
    expect(first.map((r) => Number(r.invoice_id))).toEqual([1])
    const january = await run(chinook.all(sql`SELECT COUNT(*) AS n FROM invoice WHERE invoice_date >= ${new Date('2021-01-01T00:00:00Z')} AND invoice_date < ${new Date('2021-02-01T00:00:00Z')}`))
    const byText = await run(chinook.all(sql`SELECT COUNT(*) AS n FROM invoice WHERE invoice_date LIKE ${'2021-01-%'}`))
    expect(Number(january[0].n)).toBeGreaterThan(0)
    expect(Number(january[0].n)).toBe(Number(byText[0].n))
    // The last invoice of a day sorts before a Date one second into the next day, and after its midnight.
    const [last] = await run(chinook.all(sql`SELECT invoice_date AS d FROM invoice ORDER BY invoice_date DESC LIMIT 1`))
    const lastAt = new Date(`${String(last.d).replace(' ', 'T')}Z`)
    expect(await run(chinook.all(sql`SELECT COUNT(*) AS n FROM invoice WHERE invoice_date > ${new Date(lastAt.getTime() - 1)}`))).toEqual([{ n: 1 }])
    expect(await run(chinook.all(sql`SELECT COUNT(*) AS n FROM invoice WHERE invoice_date > ${lastAt}`))).toEqual([{ n: 0 }])
    await run(chinook.close())
  })
})

/** Instants of years 1-99, year 0 (1 BC), BC and the far future, as Dates. */
const utc = (y: number, mo = 1, d = 1, h = 0, mi = 0, s = 0, ms = 0): Date => {
  const x = new Date(Date.UTC(2000, mo - 1, d, h, mi, s, ms))
  x.setUTCFullYear(y)
  return x
}
const EARLY = [utc(1), utc(1, 12, 31, 23, 59, 59, 999), utc(50, 6, 1, 12, 0, 0, 123), utc(99, 12, 31), utc(100, 3, 1), utc(4, 2, 29)]
const BC = [utc(0, 2, 29, 1, 2, 3, 4), utc(-43, 3, 15, 12)]

describe.skipIf(!pgUp)('dates of every year on PostgreSQL', () => {
  let db: Backend
  beforeAll(async () => {
    db = await run(connect(postgresJs({ url: PG_URL, max: 2 }), postgres))
    await run(db.execute(sql`DROP TABLE IF EXISTS val_pg_dates`))
    await run(db.execute(sql`CREATE TABLE val_pg_dates (id INT PRIMARY KEY, tz TIMESTAMPTZ, ts TIMESTAMP, d DATE, arr TIMESTAMPTZ[])`))
  })
  afterAll(async () => {
    await run(db.execute(sql`DROP TABLE IF EXISTS val_pg_dates`))
    await run(db.close())
  })

  it('years 1-99, 1 BC and 44 BC go in and come back exactly (timestamptz, timestamp, date, arrays)', async () => {
    const all = [...EARLY, ...BC]
    await run(db.execute(pipe(insertInto('val_pg_dates'), values(all.map((x, i) => ({ id: i, tz: x, ts: x, d: x, arr: [x, x] }))))))
    const rows = await run(db.all(sql`SELECT id, tz, ts, d, arr, to_char(tz, 'YYYY-MM-DD BC') AS text FROM val_pg_dates ORDER BY id`))
    for (const [i, x] of all.entries()) {
      const r = rows[i]
      expect((r.tz as Date).toISOString()).toBe(x.toISOString())
      expect((r.ts as Date).toISOString()).toBe(x.toISOString())
      expect((r.d as Date).toISOString()).toBe(utc(x.getUTCFullYear(), x.getUTCMonth() + 1, x.getUTCDate()).toISOString())
      expect((r.arr as Date[]).map((a) => a.toISOString())).toEqual([x.toISOString(), x.toISOString()])
    }
    // The server holds the same calendar dates (1 BC is JS year 0, 44 BC is JS year -43).
    expect(rows.map((r) => r.text)).toEqual(['0001-01-01 AD', '0001-12-31 AD', '0050-06-01 AD', '0099-12-31 AD', '0100-03-01 AD', '0004-02-29 AD', '0001-02-29 BC', '0044-03-15 BC'])
  })

  it('infinity is a DecodeError, and the next query on the pool succeeds', async () => {
    const e = await left(db.all(sql`SELECT 'infinity'::timestamptz AS x`))
    expect(e._tag).toBe('DecodeError')
    expect(await run(db.all(sql`SELECT 1 AS one`))).toEqual([{ one: 1 }])
  })
})

for (const prepare of [true, false]) {
  describe.skipIf(!mariaUp)(`dates of every year on MariaDB (prepare: ${prepare})`, () => {
    let db: Backend
    const table = `val_my_dates_${prepare ? 'ps' : 'text'}`
    beforeAll(async () => {
      db = await run(mariadbWith({ prepare }))
      await run(db.execute(sql`DROP TABLE IF EXISTS ${sql.id(table)}`))
      await run(db.execute(sql`CREATE TABLE ${sql.id(table)} (id INT PRIMARY KEY, dt DATETIME(3), d DATE)`))
    })
    afterAll(async () => {
      await run(db.execute(sql`DROP TABLE IF EXISTS ${sql.id(table)}`))
      await run(db.close())
    })

    it('years 0-99 go in and come back exactly, through execute, query and stream', async () => {
      const all = [...EARLY, utc(0, 3, 15)]
      await run(db.execute(pipe(insertInto(table), values(all.map((x, i) => ({ id: i, dt: x, d: x }))))))
      const rows = await run(db.all(sql`SELECT id, dt, d, DATE_FORMAT(dt, '%Y-%m-%d %H:%i:%s.%f') AS text FROM ${sql.id(table)} ORDER BY id`))
      expect(rows.map((r) => (r.dt as Date).toISOString())).toEqual(all.map((x) => x.toISOString()))
      expect(rows.map((r) => r.d)).toEqual(all.map((x) => x.toISOString().slice(x.getUTCFullYear() < 0 ? 3 : 0, 10)))
      expect(rows[0].text).toBe('0001-01-01 00:00:00.000000')
      const streamed: string[] = []
      for await (const r of db.stream(sql`SELECT dt FROM ${sql.id(table)} ORDER BY id`)) streamed.push((r.dt as Date).toISOString())
      expect(streamed).toEqual(all.map((x) => x.toISOString()))
    })

    it('a BC Date is refused before it is sent; a zero date reads as a DecodeError, never as a date', async () => {
      const before = await count(db, table)
      const e = await left(db.execute(pipe(insertInto(table), values({ id: 100, dt: utc(-43, 3, 15) }))))
      expect(e._tag).toBe('ValidationError')
      expect(await count(db, table)).toBe(before)
      const zero = await left(db.all(sql`SELECT CAST('0000-00-00 00:00:00' AS DATETIME) AS z`))
      expect(zero._tag).toBe('DecodeError')
      expect(await run(db.all(sql`SELECT 1 AS one`))).toEqual([{ one: 1 }])
    })

    it('a day the month lacks, kept under ALLOW_INVALID_DATES, reads as a DecodeError, never as the next month', async () => {
      const e = await left(db.transaction((tx) => async () => {
        const mode = await run(tx.all<{ m: string }>(sql`SELECT @@SESSION.sql_mode AS m`))
        await run(tx.execute(sql`SET SESSION sql_mode = 'ALLOW_INVALID_DATES'`))
        await run(tx.execute(sql`INSERT INTO ${sql.id(table)} (id, dt) VALUES (200, '2023-02-30 12:00:00')`))
        await run(tx.execute(sql`SET SESSION sql_mode = ${mode[0].m}`))
        return tx.all(sql`SELECT dt FROM ${sql.id(table)} WHERE id = 200`)()
      }))
      expect(e._tag).toBe('DecodeError')
      expect(e.message).toContain('2023-02-30 12:00:00')
      // The transaction's Left rolled the row back.
      expect(await run(db.all(sql`SELECT id FROM ${sql.id(table)} WHERE id = 200`))).toEqual([])
    })
  })
}

describe('dates of every year on SQLite', () => {
  it('years 0-99 round-trip through the date codec; BC is refused', async () => {
    const db = compose(betterSqlite3({ filename: ':memory:' }), sqlite)
    await run(db.execute(sql`CREATE TABLE d (id INTEGER PRIMARY KEY, at TEXT)`))
    const all = [...EARLY, utc(0, 3, 15)]
    await run(db.execute(pipe(insertInto('d'), values(all.map((x, i) => ({ id: i, at: x }))))))
    const rows = await run(db.all(sql`SELECT at FROM d ORDER BY id`))
    expect(rows[0].at).toBe('0001-01-01 00:00:00')
    expect(rows.map((r) => { const x = date.decode(r.at); return E.isRight(x) ? x.right.toISOString() : 'fail' })).toEqual(all.map((x) => x.toISOString()))
    const e = await left(db.execute(pipe(insertInto('d'), values({ id: 99, at: utc(-43) }))))
    expect(e._tag).toBe('ValidationError')
    expect(await count(db, 'd')).toBe(all.length)
    await run(db.close())
  })
})

/** A value that escapes its literal when quotes are escaped with a backslash under NO_BACKSLASH_ESCAPES. */
const INJECTION = "x\\' OR 1=1 -- "
const TRICKY = ["x' OR 1=1 -- ", INJECTION, 'a\\', '\\', "\\'", "''", 'a\u0000b', '?', '`?`', '/* ? */', '# ?', '-- ?', 'ö🙂']

describe.skipIf(!mariaUp)('MariaDB with prepare: false under NO_BACKSLASH_ESCAPES', () => {
  const table = 'val_nbe'

  const exercise = async (db: Backend, inTx: (tx: Backend) => Promise<void> = async () => {}): Promise<void> => {
    await run(db.transaction((tx) => async () => {
      await inTx(tx)
      await run(tx.execute(sql`DELETE FROM ${sql.id(table)}`))
      await run(tx.execute(pipe(insertInto(table), values(['keep 1', 'keep 2', ...TRICKY].map((v, i) => ({ id: i, v }))))))
      // Each hostile value matches exactly its own row, and a DELETE by it removes that row only.
      for (const [i, v] of TRICKY.entries()) {
        const rows = await run(tx.all(sql`SELECT id, v, ${v} AS echo, '?' AS q FROM ${sql.id(table)} WHERE v = ${v}`))
        expect(rows).toEqual([{ id: i + 2, v, echo: v, q: '?' }])
      }
      const gone = await run(tx.execute(pipe(deleteFrom(table), where(eq('v', INJECTION)))))
      expect(gone.rowsAffected).toBe(1)
      expect(await count(tx, table)).toBe(TRICKY.length + 1)
      return E.right(undefined)
    }))
  }

  beforeAll(async () => {
    const db = await run(mariadbWith())
    await run(db.execute(sql`DROP TABLE IF EXISTS ${sql.id(table)}`))
    await run(db.execute(sql`CREATE TABLE ${sql.id(table)} (id INT PRIMARY KEY, v VARCHAR(100)) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`))
    await run(db.close())
  })
  afterAll(async () => {
    const db = await run(mariadbWith())
    await run(db.execute(sql`DROP TABLE IF EXISTS ${sql.id(table)}`))
    await run(db.close())
  })

  it('SET SESSION sql_mode on the connection: values stay values', async () => {
    const db = await run(mariadbWith({ prepare: false, max: 1 }))
    await exercise(db, async (tx) => {
      await run(tx.execute(sql`SET SESSION sql_mode = 'NO_BACKSLASH_ESCAPES'`))
      expect(await run(tx.all(sql`SELECT @@SESSION.sql_mode AS m`))).toEqual([{ m: 'NO_BACKSLASH_ESCAPES' }])
    })
    await run(db.close())
  })

  it('the mode set by the connection set-up hook: values stay values', async () => {
    const driver = extend(mysql2({ url: MYSQL_URL, max: 1, prepare: false }), (_self, base) => ({
      onConnect: async (c) => {
        await base.onConnect(c)
        await c.query("SET SESSION sql_mode = CONCAT(@@SESSION.sql_mode, ',NO_BACKSLASH_ESCAPES')")
      },
    }))
    const db = await run(connect(driver, mysql))
    expect(String((await run(db.all(sql`SELECT @@SESSION.sql_mode AS m`)))[0].m)).toMatch(/NO_BACKSLASH_ESCAPES/)
    await exercise(db)
    await run(db.close())
  })

  it('statements issued together on one connection keep their order around a change of mode', async () => {
    const db = await run(mariadbWith({ prepare: false, max: 1 }))
    const ids = [101, 102, 103, 104]
    const values_ = ['a\\b', "c\\'d", 'e\\', "f' OR 1=1 -- \\"]
    await run(db.transaction((tx) => async () => {
      // Issued without waiting: each value is written for the mode its statement meets.
      const put = (i: number) => tx.execute(pipe(insertInto(table), values({ id: ids[i], v: values_[i] })))()
      const results = await Promise.all([
        tx.execute(sql`SET SESSION sql_mode = 'NO_BACKSLASH_ESCAPES'`)(), put(0),
        tx.execute(sql`SET SESSION sql_mode = ''`)(), put(1),
        tx.execute(sql`SET SESSION sql_mode = 'NO_BACKSLASH_ESCAPES'`)(), put(2), put(3),
      ])
      expect(results.every(E.isRight)).toBe(true)
      const rows = await run(tx.all(sql`SELECT id, v FROM ${sql.id(table)} WHERE id > 100 ORDER BY id`))
      expect(rows).toEqual(ids.map((id, i) => ({ id, v: values_[i] })))
      await run(tx.execute(sql`DELETE FROM ${sql.id(table)} WHERE id > 100`))
      return E.right(undefined)
    }))
    await run(db.close())
  })

  it('the mode switched back and forth between statements on one connection: values stay values', async () => {
    const db = await run(mariadbWith({ prepare: false, max: 1 }))
    for (const mode of ['NO_BACKSLASH_ESCAPES', '', 'NO_BACKSLASH_ESCAPES,ANSI_QUOTES', 'STRICT_TRANS_TABLES']) {
      await exercise(db, async (tx) => { await run(tx.execute(sql`SET SESSION sql_mode = ${mode}`)) })
    }
    await run(db.close())
  })
})

describe.skipIf(!mariaUp)('MariaDB: a statement over max_allowed_packet', () => {
  const table = 'val_packet'
  let db: Backend
  let limit: number
  beforeAll(async () => {
    db = await run(mariadbWith({ max: 1 }))
    limit = Number((await run(db.all(sql`SELECT @@max_allowed_packet AS m`)))[0].m)
    await run(db.execute(sql`DROP TABLE IF EXISTS ${sql.id(table)}`))
    await run(db.execute(sql`CREATE TABLE ${sql.id(table)} (id INT PRIMARY KEY, v LONGTEXT)`))
  })
  afterAll(async () => {
    await run(db.execute(sql`DROP TABLE IF EXISTS ${sql.id(table)}`))
    await run(db.close())
  })

  it.skipIf(!mariaUp)('is refused as ValueTooLarge before it is sent; the pool runs the next statement', async () => {
    expect(limit).toBeLessThanOrEqual(64 * 1024 * 1024)
    const e = await left(db.execute(pipe(insertInto(table), values({ id: 1, v: 'x'.repeat(limit + 1) }))))
    expect(e._tag).toBe('ValueTooLarge')
    expect(isDbError(e, 'ValueTooLarge') && e.limit).toBe(limit)
    expect(await run(db.all(sql`SELECT COUNT(*) AS n FROM ${sql.id(table)}`))).toEqual([{ n: '0' }])
  })

  it.skipIf(!mariaUp)('just over the limit with the packet overhead: the server refuses it, still ValueTooLarge, and the pool recovers', async () => {
    const text = `INSERT INTO ${table} (id, v) VALUES (?, ?)`
    // Under the driver's own estimate (the values) but over the limit once framed.
    const e = await left(db.execute({ sql: text, params: [2, 'y'.repeat(limit - 8 - 4)] }))
    expect(e._tag).toBe('ValueTooLarge')
    expect(e.code).toBe(1153)
    expect(await run(db.all(sql`SELECT COUNT(*) AS n FROM ${sql.id(table)}`))).toEqual([{ n: '0' }])
    await run(db.execute(pipe(insertInto(table), values({ id: 3, v: 'fits' }))))
    expect(await run(db.all(sql`SELECT v FROM ${sql.id(table)}`))).toEqual([{ v: 'fits' }])
  })
})
