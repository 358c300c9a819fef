/**
 * Property: whatever the values, each one is stored and read back exactly, or the statement
 * fails with a typed error and the table is left as it was; a value never changes and never
 * runs as SQL.
 *
 * Each case is a batch of rows of hostile values (strings built from quotes, backslashes, NUL,
 * comment markers, placeholders and any Unicode, lone surrogates included; every double, NaN,
 * ±Infinity, -0 and subnormals included; 64-bit integers and beyond; dates from 3000 BC to
 * AD 12000 with years 0-99 often; JSON documents; bytes; and things no engine stores: a Map, a
 * Set, a Symbol, a function, an object whose toString throws). Per case, on every backend:
 *
 * 1. one multi-row INSERT of the batch: when a value cannot be bound on that engine, a
 *    ValidationError (nothing sent); when the server refuses one (PostgreSQL text with NUL, an
 *    integer beyond 64 bits), a QueryError; either way the table keeps its rows;
 * 2. otherwise every row is read back and compared exactly (-0 reads as 0 on SQLite and
 *    MariaDB, which store no negative zero);
 * 3. each string is echoed by `SELECT ?` and found by `WHERE s = ?`, and a DELETE matching the
 *    batch's ids and strings removes exactly the batch: a sentinel row always survives.
 *
 * Backends: SQLite, PostgreSQL, MariaDB with prepared statements, MariaDB with `prepare: false`
 * (values written into the statement text), and the same under NO_BACKSLASH_ESCAPES (set by the
 * connection set-up hook). `RECORDKIT_PROPERTY_SEED` replays a run.
 */
import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Backend, compose, connect, type DbError, extend, json, sql, UNBINDABLE } from 'recordkit'
import { mysql } from 'recordkit/dialects/mysql'
import { postgres } from 'recordkit/dialects/postgres'
import { sqlite } from 'recordkit/dialects/sqlite'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'
import { mysql2 } from 'recordkit/drivers/mysql2'
import { postgresJs } from 'recordkit/drivers/postgres'
import { date } from 'recordkit/model'
import { run } from 'recordkit/promise'
import { and, deleteFrom, insertInto, isIn, values, where } from 'recordkit/query'
import { MYSQL_URL, PG_URL, serverAvailable } from './support/servers.js'

const SEED = Number(process.env.RECORDKIT_PROPERTY_SEED ?? 20240229)
/** Cases (batches) per backend, and rows per batch: 5 backends x 400 batches x 1-24 rows of 6 values. */
const RUNS = 400
const MAX_ROWS = 24

const pgUp = await serverAvailable('postgres')
const mariaUp = await serverAvailable('mariadb')

// ---------------------------------------------------------------- values

/** Pieces that break naive quoting, escaping or placeholder handling. */
const PIECES = ["'", '"', '`', '\\', "\\'", "''", '\\\\', '?', '??', '$1', ':a', '@x', '--', '-- ', '#', '/*', '*/', '/*!', '/*M!', ';',
  ' OR 1=1', "' OR '1'='1", '\n', '\r', '\t', '\u001a', '\b', 'ö', 'ß', '日本', '🙂', '\u2028', '\u00a0', '\uFEFF', '%', '_', ' ', 'NULL', 'x']

/** NUL is a piece too, rarer: PostgreSQL text refuses it, so a batch holding one checks only that. */
const piece = fc.oneof({ arbitrary: fc.constantFrom(...PIECES), weight: 120 }, { arbitrary: fc.constant('\u0000'), weight: 1 })
const pieces = fc.array(piece, { maxLength: 8 }).map((xs) => xs.join(''))
const wellFormed = (s: string): boolean => (s as unknown as { isWellFormed(): boolean }).isWellFormed()
/** Any code point of any plane but NUL and the surrogate halves (lone surrogates are among the spoilers below). */
const anyCodePoint = fc.integer({ min: 1, max: 0x10ffff }).filter((c) => c < 0xd800 || c > 0xdfff).map((c) => String.fromCodePoint(c))
/** Valid Unicode of every plane. */
const text = fc.oneof(
  { arbitrary: pieces, weight: 4 },
  { arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }), weight: 2 },
  { arbitrary: fc.string({ unit: anyCodePoint, maxLength: 12 }), weight: 2 },
)

/** A value no engine stores as it is. */
class Opaque {
  readonly secret = 1
  toString(): string { throw new Error('no text') }
}
const unstorable = fc.constantFrom<unknown>(new Map([['a', 1]]), new Set([1]), Symbol('s'), () => 1, new Opaque(), { toString: () => { throw new Error('no') } })

const loneSurrogate = fc.tuple(pieces, fc.integer({ min: 0xd800, max: 0xdfff }), pieces)
  .map(([a, c, b]) => a + String.fromCharCode(c) + b).filter((x) => !wellFormed(x))

/**
 * Per column, values some engine cannot store as they are: each batch holds at most one, so
 * that most batches are stored and read back. Which engines refuse which is `refused` below.
 */
const spoilers: Readonly<Record<string, fc.Arbitrary<unknown>>> = {
  s: fc.oneof(unstorable, loneSurrogate),
  d: fc.oneof(unstorable, fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY)),
  b: fc.oneof(unstorable, fc.constantFrom(2n ** 63n, -(2n ** 63n) - 1n, 2n ** 70n)),
  t: fc.oneof(unstorable, fc.constant(new Date(Number.NaN)),
    fc.date({ min: new Date(Date.UTC(-3000, 0, 1)), max: new Date(Date.UTC(-1, 11, 31)) }),
    fc.date({ min: new Date(Date.UTC(10000, 0, 1)), max: new Date(Date.UTC(12000, 0, 1)) })),
  j: fc.oneof(unstorable, fc.constantFrom<unknown>({ a: Number.NaN }, [1, new Map()], { n: Number.POSITIVE_INFINITY }, { f: () => 1 }), loneSurrogate.map((x) => ({ [x]: 1 }))),
  y: unstorable,
}

const YEAR_MS = 365.2425 * 86_400_000
/** Dates of years -120 to 120 (BC, year 0 and 1-99 included). */
const early = fc.tuple(fc.integer({ min: -120, max: 120 }), fc.integer({ min: 0, max: Math.floor(YEAR_MS) - 1 })).map(([y, ms]) => {
  const d = new Date(Date.UTC(2000, 0, 1) + ms)
  d.setUTCFullYear(y)
  return d
})
const dates = fc.oneof(
  { arbitrary: fc.date({ min: new Date(-62_167_219_200_000) /* 0000-01-01 */, max: new Date(Date.UTC(9999, 11, 31, 23, 59, 59, 999)), noInvalidDate: true }), weight: 3 },
  { arbitrary: early, weight: 2 },
  { arbitrary: fc.date({ min: new Date(Date.UTC(1900, 0, 1)), max: new Date(Date.UTC(2100, 0, 1)), noInvalidDate: true }), weight: 3 },
).filter((d) => d.getUTCFullYear() >= 0 && d.getUTCFullYear() <= 9999)
const INT64 = 2n ** 63n
const bigints = fc.oneof(
  { arbitrary: fc.bigInt({ min: -INT64, max: INT64 - 1n }), weight: 8 },
  { arbitrary: fc.constantFrom(-INT64, INT64 - 1n, 0n, -1n), weight: 1 },
)
const doubles = fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer(), fc.constantFrom(-0, 5e-324, -5e-324, Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_SAFE_INTEGER, 0.1, 1e21, 2 ** 53 + 2))

/** A column's values: mostly its kind, sometimes NULL. */
const column = <A>(arb: fc.Arbitrary<A>) => fc.oneof({ arbitrary: arb, weight: 12 }, { arbitrary: fc.constant(null), weight: 1 })

interface Row {
  readonly s: unknown
  readonly d: unknown
  readonly b: unknown
  readonly t: unknown
  readonly j: unknown
  readonly y: unknown
}
const COLUMNS = ['s', 'd', 'b', 't', 'j', 'y'] as const

const row: fc.Arbitrary<Row> = fc.record({
  s: column(text),
  d: column(doubles),
  b: column(bigints),
  t: column(dates),
  j: column(fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.dictionary(text, text, { maxKeys: 3 }))),
  y: column(fc.uint8Array({ maxLength: 16 })),
})

/** A batch of rows; one in four has a spoiler put somewhere in it. */
const batch = fc.tuple(
  fc.array(row, { minLength: 1, maxLength: MAX_ROWS }),
  fc.oneof({ arbitrary: fc.constant(null), weight: 3 }, {
    arbitrary: fc.tuple(fc.nat(), fc.constantFrom(...COLUMNS)).chain(([at, col]) => spoilers[col].map((v) => [at, col, v] as const)),
    weight: 1,
  }),
).map(([rows, spoil]) => {
  if (spoil === null) return rows
  const [at, col, value] = spoil
  const i = at % rows.length
  return rows.map((r, j) => (j === i ? { ...r, [col]: value } : r))
})

// ---------------------------------------------------------------- engines

interface Target {
  readonly name: string
  readonly engine: 'sqlite' | 'postgres' | 'mariadb'
  readonly up: boolean
  readonly make: () => Promise<Backend>
  readonly ddl: string
}

const TABLE = 'prop_values'

/** A JSON document with something JSON would change or drop (NaN, Infinity, a Map, a function). */
const jsonSpoiled = (v: unknown): boolean =>
  typeof v === 'number' ? !Number.isFinite(v) : typeof v === 'function' || v instanceof Map ? true
    : Array.isArray(v) ? v.some(jsonSpoiled) : typeof v === 'object' && v !== null ? Object.values(v).some(jsonSpoiled) : false

const isUnstorable = (v: unknown): boolean =>
  typeof v === 'symbol' || typeof v === 'function' || v instanceof Map || v instanceof Set || v instanceof Opaque ||
  (typeof v === 'object' && v !== null && !(v instanceof Date) && !(v instanceof Uint8Array) && Object.prototype.hasOwnProperty.call(v, 'toString'))

/** Why the engine must refuse a value before sending it (undefined when it may be sent). */
const refused = (engine: Target['engine'], r: Row): boolean => {
  const values = [r.s, r.d, r.b, r.t, r.j, r.y]
  if (values.some(isUnstorable)) return true
  if (typeof r.s === 'string' && !wellFormed(r.s)) return true
  if (jsonSpoiled(r.j)) return true
  if (typeof r.d === 'number' && (engine === 'mariadb' ? !Number.isFinite(r.d) : engine === 'sqlite' && Number.isNaN(r.d))) return true
  if (typeof r.b === 'bigint' && engine === 'sqlite' && (r.b < -INT64 || r.b >= INT64)) return true
  if (r.t instanceof Date) {
    const y = r.t.getUTCFullYear()
    if (Number.isNaN(r.t.getTime())) return true
    if (engine !== 'postgres' && (y < 0 || y > 9999)) return true
  }
  return false
}

/** Whether the server itself refuses a value that was sent (with a typed error). */
const nulText = (engine: Target['engine'], r: Row): boolean => engine === 'postgres' && typeof r.s === 'string' && r.s.includes('\u0000')
const outOfRange = (engine: Target['engine'], r: Row): boolean => engine !== 'sqlite' && typeof r.b === 'bigint' && (r.b < -INT64 || r.b >= INT64)
const serverRefuses = (engine: Target['engine'], r: Row): boolean => nulText(engine, r) || outOfRange(engine, r)
/** The tags the server's refusal of these rows may have: ValueTooLarge for a BIGINT out of range, QueryError for NUL in text. */
const refusalTags = (engine: Target['engine'], rows: readonly Row[]): string[] => [
  ...(rows.some((r) => outOfRange(engine, r)) ? ['ValueTooLarge'] : []),
  ...(rows.some((r) => nulText(engine, r)) ? ['QueryError'] : []),
]

const mariadbNbe = () => extend(mysql2({ url: MYSQL_URL, max: 2, prepare: false }), (_self, base) => ({
  onConnect: async (c) => {
    await base.onConnect(c)
    await c.query("SET SESSION sql_mode = CONCAT(@@SESSION.sql_mode, ',NO_BACKSLASH_ESCAPES')")
  },
}))

const MARIADB_DDL = `CREATE TABLE ${TABLE}_T (id INT PRIMARY KEY, s LONGTEXT, d DOUBLE, b BIGINT, t DATETIME(3), j LONGTEXT, y LONGBLOB) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`

const TARGETS: readonly Target[] = [
  { name: 'SQLite', engine: 'sqlite', up: true, make: async () => compose(betterSqlite3({ filename: ':memory:' }), sqlite),
    ddl: `CREATE TABLE ${TABLE}_T (id INTEGER PRIMARY KEY, s TEXT, d REAL, b INTEGER, t TEXT, j TEXT, y BLOB)` },
  { name: 'PostgreSQL', engine: 'postgres', up: pgUp, make: () => run(connect(postgresJs({ url: PG_URL, max: 2 }), postgres)),
    ddl: `CREATE TABLE ${TABLE}_T (id INT PRIMARY KEY, s TEXT, d DOUBLE PRECISION, b BIGINT, t TIMESTAMPTZ, j TEXT, y BYTEA)` },
  { name: 'MariaDB', engine: 'mariadb', up: mariaUp, make: () => run(connect(mysql2({ url: MYSQL_URL, max: 2 }), mysql)), ddl: MARIADB_DDL },
  { name: 'MariaDB, prepare: false', engine: 'mariadb', up: mariaUp, make: () => run(connect(mysql2({ url: MYSQL_URL, max: 2, prepare: false }), mysql)), ddl: MARIADB_DDL },
  { name: 'MariaDB, prepare: false, NO_BACKSLASH_ESCAPES', engine: 'mariadb', up: mariaUp, make: () => run(connect(mariadbNbe(), mysql)), ddl: MARIADB_DDL },
]

// ---------------------------------------------------------------- comparing

const sameNumber = (got: unknown, want: number): boolean => (Number.isNaN(want) ? Number.isNaN(got as number) : got === want)

/** The JSON text a value is bound as (BigInts are not drawn inside JSON here). */
const jsonOf = (v: unknown): string => JSON.stringify(v)

const readDate = (engine: Target['engine'], v: unknown): number => {
  if (engine !== 'sqlite') return (v as Date).getTime()
  const d = date.decode(v)
  return E.isRight(d) ? d.right.getTime() : Number.NaN
}

/** The first difference between a row as written and as read, or undefined. */
const difference = (engine: Target['engine'], want: Row, got: Record<string, unknown>): string | undefined => {
  if (got.s !== want.s) return `s: ${JSON.stringify(got.s)} is not ${JSON.stringify(want.s)}`
  if (want.d === null ? got.d !== null : !sameNumber(got.d, want.d as number)) return `d: ${String(got.d)} is not ${String(want.d)}`
  if (want.b === null ? got.b !== null : got.b === null || BigInt(String(got.b)) !== want.b) return `b: ${String(got.b)} is not ${String(want.b)}`
  if (want.t === null ? got.t !== null : readDate(engine, got.t) !== (want.t as Date).getTime()) return `t: ${String(got.t)} is not ${(want.t as Date).toISOString()}`
  if (want.j === null ? got.j !== null : got.j !== jsonOf(want.j)) return `j: ${String(got.j)} is not ${jsonOf(want.j)}`
  if (want.y === null ? got.y !== null : !(Buffer.isBuffer(got.y) && Buffer.from(want.y as Uint8Array).equals(got.y))) return `y: bytes differ`
  return undefined
}

/** Cases checked in this file, per backend (values are rows x 6). */
const tally: Record<string, { cases: number; rows: number; refused: number; rejected: number }> = {}

for (const target of TARGETS) {
  describe.skipIf(!target.up)(`hostile values round-trip exactly on ${target.name}`, () => {
    let db: Backend
    const table = `${TABLE}_${target.name.replace(/\W+/g, '_').toLowerCase()}`.slice(0, 60)
    const count = async (): Promise<number> => Number((await run(db.all(sql`SELECT COUNT(*) AS n FROM ${sql.id(table)}`)))[0].n)

    beforeAll(async () => {
      db = await target.make()
      await run(db.execute(sql`DROP TABLE IF EXISTS ${sql.id(table)}`))
      await run(db.execute(sql.raw(target.ddl.replace(`${TABLE}_T`, db.dialect.quoteIdentifier(table)))))
      // The sentinel: no statement of the property may touch it.
      await run(db.execute(pipe(insertInto(table), values({ id: -1, s: 'sentinel' }))))
    })
    afterAll(async () => {
      await run(db.execute(sql`DROP TABLE IF EXISTS ${sql.id(table)}`))
      await run(db.close())
      const t = tally[target.name]
      if (t !== undefined) console.log(`hostile values on ${target.name}: ${t.cases} batches, ${t.rows} rows (${t.rows * 6} values), ${t.refused} refused before sending, ${t.rejected} refused by the server`)
    })

    it('every value reads back exactly, or the statement fails with a typed error and changes nothing', async () => {
      const t = (tally[target.name] = { cases: 0, rows: 0, refused: 0, rejected: 0 })
      await fc.assert(
        fc.asyncProperty(batch, async (rows) => {
          t.cases++
          t.rows += rows.length
          const ids = rows.map((_, i) => i + 1)
          const inserted = await db.execute(pipe(insertInto(table), values(rows.map((r, i) => ({ id: ids[i], ...r, j: r.j === null ? null : json(r.j) })))))()
          const mustRefuse = rows.some((r) => refused(target.engine, r))
          const mayReject = rows.some((r) => serverRefuses(target.engine, r))
          if (E.isLeft(inserted)) {
            const e: DbError = inserted.left
            if (mustRefuse) {
              t.refused++
              expect(e._tag).toBe('ValidationError')
              expect(e.code).toBe(UNBINDABLE)
            } else {
              t.rejected++
              expect(mayReject, `unexpected ${e._tag}: ${e.message}`).toBe(true)
              expect(refusalTags(target.engine, rows)).toContain(e._tag)
            }
            expect(await count()).toBe(1)
            return
          }
          expect(mustRefuse, 'a value that cannot be stored as it is was accepted').toBe(false)
          expect(mayReject, 'the server took a value it should refuse').toBe(false)
          const read = await run(db.all(sql`SELECT id, s, d, b, t, j, y FROM ${sql.id(table)} WHERE id > 0 ORDER BY id`))
          expect(read.length).toBe(rows.length)
          for (let i = 0; i < rows.length; i++) {
            const diff = difference(target.engine, rows[i], read[i])
            expect(diff, `row ${i + 1}`).toBeUndefined()
          }
          // Strings as parameters anywhere: echoed as they are, and found by equality.
          const strings = rows.map((r) => r.s).filter((s): s is string => typeof s === 'string')
          if (strings.length > 0) {
            const echo = await run(db.all(sql`SELECT ${sql.join(strings.map((s, i) => sql`${s} AS ${sql.id(`e${i}`)}`))}`))
            expect(strings.map((_, i) => echo[0][`e${i}`])).toEqual(strings)
            const found = await run(db.all(sql`SELECT id FROM ${sql.id(table)} WHERE s = ${strings[0]} AND id > 0`))
            expect(found.length).toBeGreaterThan(0)
          }
          // A DELETE by the batch's ids and strings removes the batch, never the sentinel.
          const byString = strings.length > 0 ? pipe(deleteFrom(table), where(and(isIn('id', ids), isIn('s', strings)))) : undefined
          if (byString !== undefined) await run(db.execute(byString))
          await run(db.execute(pipe(deleteFrom(table), where(isIn('id', ids)))))
          expect(await run(db.all(sql`SELECT id, s FROM ${sql.id(table)}`))).toEqual([{ id: -1, s: 'sentinel' }])
        }),
        { numRuns: RUNS, seed: SEED, endOnFailure: true },
      )
      expect(t.cases).toBe(RUNS)
    }, 120_000)
  })
}
