/**
 * The postgres.js driver: a pool of PostgreSQL connections, served through TaskEither.
 *
 * - `execute` runs on the pool with `sql.unsafe(text, params, { prepare })`. Queries outside a
 *   transaction are not serialized: postgres.js pipelines them, many in flight on one
 *   connection, and spreads them over up to `max` connections.
 * - Statements are prepared (and cached per connection) by default; `prepare: false` sends
 *   unnamed statements only, for PgBouncer in transaction mode. Bulk writes with more than
 *   1,000 parameters are not cached, unless they run as a batch (`prepareStatement`, an
 *   overridable field).
 * - `reserve` holds one connection (`sql.reserve()`) for a transaction.
 * - Several hosts: `postgres://u@a:5432,b:5432/db?target_session_attrs=read-write` (postgres.js
 *   tries them in turn). `read-write` is passed on as `primary`, so a hot standby is skipped;
 *   while no host is usable (a failover), a statement waits at most `acquireTimeout` and then
 *   fails with PoolTimeout without ever running.
 * - `stream` reads through a cursor (`.cursor(batchSize)`); ending the iteration early closes
 *   the cursor and gives the connection back. A cursor takes a connection to itself until it
 *   ends: one that finds none free within `acquireTimeout` fails with PoolTimeout, as a
 *   statement does.
 * - Every new connection is set up with `connectionParameters()` (an overridable field), sent
 *   as startup parameters: any setting `SET` could change (`search_path`, `statement_timeout`,
 *   `lock_timeout`, `application_name`, ...). postgres.js 3.4 has no hook that runs SQL on each
 *   new connection, so this is the set-up hook.
 * - Errors are classified by SQLSTATE (`classifyPostgresError`), keeping the constraint or
 *   column the server names.
 * - A result never has an `insertId`: PostgreSQL has no last insert id (generated keys come
 *   back through RETURNING, which the dialect renders).
 *
 * Value policy (what comes back):
 * - `int8` (bigint, `count(*)`): `'safe'` (default) gives a number, or a BigInt for values
 *   beyond 2^53, so nothing loses precision; `'bigint'` always BigInt; `'string'` always text;
 *   `'number'` always number (may lose precision). `int2`, `int4`, `float4/8`, `oid`: numbers.
 * - `numeric` / `decimal`: strings, exactly as the server prints them.
 * - `timestamptz`: Date. `timestamp` (without time zone): Date, read as wall-clock time in the
 *   session's time zone; `date`: Date at midnight there. Connections use the `UTC` time zone by
 *   default (option `timeZone`, or `TimeZone` in `connection`), so a Date bound into a `timestamp`
 *   column stores its UTC wall-clock time and reads back as the same instant; in another zone
 *   (`'Europe/Berlin'`) the server stores the wall-clock time there and it reads back as the same
 *   instant too (a time a daylight-saving change skips or repeats is read as PostgreSQL reads it).
 *   Every year reads back exactly (0001, 0050, BC); `infinity` and instants beyond a Date's range
 *   fail with DecodeError; microseconds are cut to milliseconds. `time`, `interval`: strings.
 * - `json` / `jsonb`: parsed, an integer beyond ±2^53 as a BigInt (every digit kept; `JSON.parse` would round it). `bytea`: Buffer. `uuid`: string. `boolean`: boolean. Arrays:
 *   JS arrays of the element values.
 *
 * What goes in: the dialect's `toDriver` (src/dialects/postgres.ts) decides. Here, a string is
 * always sent as it is and read by the server as the parameter's type (postgres.js would
 * otherwise re-encode a string bound to a json, bytea, boolean or timestamp parameter).
 */
import type { Either } from 'fp-ts/lib/Either.js'
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import type postgresJsClient from 'postgres'
import { clientLibrary, missingClientLibrary } from './client-library.js'
import type { PostgresJsBaseOptions } from './options.js'
import type { Connection, Driver, QueryResult, Row } from '../driver.js'
import { dbError, type DbError, type DbErrorTag, isDbError, withStatement } from '../errors.js'
import { fix } from '../record.js'
import type { Compiled } from '../sql.js'
import { sqlstateTag, uniqueKeyColumns } from './sqlstate.js'
import { digits, parsePgTimestamp, pgTimestamp, utcTime, zoneWallClock } from '../dates.js'
import { parseJson } from '../model/fast-decoders.js'
import { adaptedBefore, checkParams, isPlainObject, stringProblem } from '../values.js'

export type { PostgresJsBaseOptions } from './options.js'

/** Seconds before an idle pooled connection closes, unless `idleTimeout` says otherwise. */
const DEFAULT_IDLE_SECONDS = 10

/** The postgres.js pool (or a reserved connection), as this driver uses it. */
export type PostgresJsSql = postgresJsClient.Sql<Record<string, unknown>>

/** Options passed to `postgres()` by this driver. */
export type PostgresJsClientOptions = postgresJsClient.Options<Record<string, postgresJsClient.PostgresType>>

/** Options of the postgres.js driver. A `url` and separate fields may be mixed; fields win. */
export interface PostgresJsOptions extends PostgresJsBaseOptions {
  /** Called with each NOTICE the server sends. Default: ignored. */
  readonly onNotice?: (notice: postgresJsClient.Notice) => void
  /** Any other postgres.js option, applied last. */
  readonly client?: Partial<PostgresJsClientOptions>
}

/** The postgres.js Driver record, with its set-up as overridable fields. */
export interface PostgresJsDriver extends Driver {
  /** Whether statements are prepared at all (false for PgBouncer in transaction mode). */
  readonly prepare: boolean
  /**
   * Whether this statement is prepared and kept in its connection's statement cache. Default:
   * when `prepare` is on and the statement has at most 1,000 parameters, or is a run of a batch
   * (`executeBatch`: one text, run many times). A bulk write's text changes with its row count
   * and postgres.js keeps every prepared text until the connection closes, so such statements go
   * unnamed instead (`unnest` inserts keep one text and stay prepared).
   */
  readonly prepareStatement: (q: Compiled) => boolean
  /** Startup parameters every new connection is opened with: the per-connection set-up. */
  readonly connectionParameters: () => Readonly<Record<string, string>>
  /** The options the pool is made with (read once, when the pool is made on first use). */
  readonly clientOptions: () => PostgresJsClientOptions
  /** The postgres.js pool, made on first use. */
  readonly sql: () => PostgresJsSql
}

// ---------------------------------------------------------------- errors

/** Error codes of Node sockets and of postgres.js itself that mean the connection is gone or never came. */
const CONNECTION_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH',
  'ENETUNREACH', 'ENETDOWN', 'EHOSTDOWN', 'ENOENT', 'EACCES', 'CONNECTION_CLOSED', 'CONNECTION_ENDED',
  'CONNECTION_DESTROYED', 'CONNECT_TIMEOUT', 'SASL_SIGNATURE_MISMATCH', 'ERR_SOCKET_CLOSED',
])

const codeOf = (e: unknown): string | undefined => {
  if (typeof e !== 'object' || e === null) return undefined
  const code = (e as { code?: unknown }).code
  if (typeof code === 'string' && code !== '') return code
  // Node reports a failed connection to every address of a name as an AggregateError.
  const inner = (e as { errors?: unknown }).errors
  return Array.isArray(inner) ? inner.map(codeOf).find((c) => c !== undefined) : undefined
}

/**
 * Whether a failure of a statement that postgres.js never wrote to a connection is the stale
 * error of that connection's previous session. postgres.js 3.4 keeps the server's last error
 * (e.g. 57P01 when the session was terminated during a statement) past the connection's close
 * and hands it to the first statement of the reconnected session. Only operator-intervention
 * codes (class 57: terminated, crashed, starting up) are taken for that, and only for a statement
 * without a session (`state` is set when it is written): it never ran, so running it once more
 * is safe.
 */
const staleSessionError = (query: unknown, e: unknown): boolean =>
  (query as { state?: unknown }).state == null && typeof (e as { code?: unknown }).code === 'string' && ((e as { code: string }).code).startsWith('57P')

/**
 * Classify a postgres.js error by SQLSTATE (or by socket error code when the server was never
 * reached). Constraint violations keep the constraint's name; NOT NULL keeps the column's. A
 * value too long or out of range (22001, 22003) is a ValueTooLarge, with the table and column
 * when the server sends them (PostgreSQL 15 does not).
 *
 * @example classifyPostgresError(e)._tag // 'UniqueViolation' for SQLSTATE 23505
 */
export const classifyPostgresError = (e: unknown): DbError => {
  if (isDbError(e)) return e
  const code = codeOf(e)
  const message = e instanceof Error ? e.message : String(e)
  const fields: Record<string, unknown> = { code, cause: e }
  let tag: DbErrorTag = 'QueryError'
  const bySqlstate = code === undefined ? undefined : sqlstateTag(code)
  if (bySqlstate !== undefined) {
    tag = bySqlstate
    const pg = e as { constraint_name?: string; column_name?: string; table_name?: string; detail?: string }
    if (tag === 'NotNullViolation') fields.column = pg.column_name
    if (tag === 'ValueTooLarge') {
      // PostgreSQL 15 names neither for 22001 / 22003; a server or extension that does is heard.
      if (pg.table_name !== undefined) fields.table = pg.table_name
      if (pg.column_name !== undefined) fields.column = pg.column_name
    }
    if (tag === 'UniqueViolation' || tag === 'ForeignKeyViolation' || tag === 'CheckViolation') fields.constraint = pg.constraint_name
    if (tag === 'UniqueViolation') {
      fields.table = pg.table_name
      // DETAIL `Key (a, b)=(1, 2) already exists.` is the server's structured report of the key.
      fields.columns = uniqueKeyColumns(pg.detail)
    }
  } else if (code !== undefined && CONNECTION_CODES.has(code)) {
    tag = 'ConnectionError'
  } else if (code === 'UNSAFE_TRANSACTION') {
    tag = 'TransactionError'
  }
  return dbError(tag as 'QueryError', message, fields)
}

// ---------------------------------------------------------------- values

const MAX_SAFE = Number.MAX_SAFE_INTEGER

const int8Parsers: Readonly<Record<NonNullable<PostgresJsOptions['int8']>, (x: string) => unknown>> = {
  safe: (x) => {
    if (x.length < 16) return Number(x)
    const n = Number(x)
    return n <= MAX_SAFE && n >= -MAX_SAFE ? n : BigInt(x)
  },
  bigint: (x) => BigInt(x),
  string: (x) => x,
  number: (x) => Number(x),
}

const passText = <T>(serialize: (x: T) => string) => (x: unknown): string => (typeof x === 'string' ? x : serialize(x as T))

const pgDate = (x: unknown): string => pgTimestamp(x instanceof Date ? x : new Date(x as string | number))

/**
 * A `date`, `timestamp` or `timestamptz` as the server writes it, read without a regular
 * expression in the common forms (a four-digit year, `YYYY-MM-DD[ HH:MM:SS[.f{1,6}][±HH[:MM[:SS]]]]`):
 * the same Date as `parsePgTimestamp`, which reads every other text (BC, longer years,
 * `infinity`) and refuses what it must.
 *
 * @example pgTimestampText('2024-01-02 03:04:05.678+00').toISOString() // '2024-01-02T03:04:05.678Z'
 */
export const pgTimestampText = (s: string): Date => {
  const n = s.length
  if (n !== 10 && (n < 19 || s.charCodeAt(10) !== 32 || s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58)) return parsePgTimestamp(s)
  if (s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45) return parsePgTimestamp(s)
  const y = digits(s, 0, 4)
  const mo = digits(s, 5, 7)
  const d = digits(s, 8, 10)
  if (y < 0 || mo < 0 || d < 0) return parsePgTimestamp(s)
  if (n === 10) return new Date(utcTime(y, mo - 1, d))
  const h = digits(s, 11, 13)
  const mi = digits(s, 14, 16)
  const sec = digits(s, 17, 19)
  if (h < 0 || mi < 0 || sec < 0) return parsePgTimestamp(s)
  let i = 19
  let ms = 0
  if (i < n && s.charCodeAt(i) === 46 /* . */) {
    const start = ++i
    while (i < n && i - start < 7) {
      const c = s.charCodeAt(i)
      if (c < 48 || c > 57) break
      i++
    }
    const k = i - start
    if (k === 0 || k > 6) return parsePgTimestamp(s)
    ms = digits(s, start, start + (k < 3 ? k : 3)) * (k === 1 ? 100 : k === 2 ? 10 : 1)
  }
  let offset = 0
  if (i < n) {
    const sign = s.charCodeAt(i)
    if ((sign !== 43 && sign !== 45) || (n - i !== 3 && n - i !== 6 && n - i !== 9)) return parsePgTimestamp(s)
    const oh = digits(s, i + 1, i + 3)
    const om = n - i > 3 ? (s.charCodeAt(i + 3) === 58 ? digits(s, i + 4, i + 6) : -1) : 0
    const os = n - i > 6 ? (s.charCodeAt(i + 6) === 58 ? digits(s, i + 7, i + 9) : -1) : 0
    if (oh < 0 || om < 0 || os < 0) return parsePgTimestamp(s)
    offset = (oh * 3600 + om * 60 + os) * 1000
    if (sign === 45) offset = -offset
  }
  // A four-digit year is always within a Date's range.
  return new Date(utcTime(y, mo - 1, d, h, mi, sec, ms) - offset)
}

/**
 * The reader of `timestamp` (without time zone) and `date` text for a session in `timeZone`:
 * wall-clock time in that zone, read as the instant it names there, the inverse of what the server
 * does when a Date (bound as `timestamptz`) is written into such a column. In UTC (the default)
 * that is `pgTimestampText` itself. A zone the JS runtime does not know fails each read with a
 * DecodeError naming it, rather than reading the time as UTC.
 *
 * @example wallClockReader('Europe/Berlin')('2024-06-01 12:00:00').toISOString() // '2024-06-01T10:00:00.000Z'
 */
export const wallClockReader = (timeZone: string): ((s: string) => Date) => {
  let inZone: ((wall: number) => number) | undefined
  try {
    inZone = zoneWallClock(timeZone)
  } catch (e) {
    const why = `the session time zone ${JSON.stringify(timeZone)} is not a time zone this JS runtime knows (${e instanceof Error ? e.message : String(e)}): use an IANA name such as 'Europe/Berlin', or 'UTC'`
    return (s) => {
      throw dbError('DecodeError', `cannot read ${JSON.stringify(s)} as a Date: ${why}`, { issues: [{ path: '', rule: 'Date', value: s, message: why }] })
    }
  }
  if (inZone === undefined) return pgTimestampText
  const toInstant = inZone
  return (s) => {
    const d = pgTimestampText(s)
    return new Date(toInstant(d.getTime()))
  }
}

/** The session's time zone: a `TimeZone` given in `connection` (any case) over the `timeZone` option. */
const sessionTimeZone = (options: PostgresJsOptions): string => {
  for (const [k, v] of Object.entries(options.connection ?? {})) if (k.toLowerCase() === 'timezone') return String(v)
  return options.timeZone ?? 'UTC'
}

/** postgres.js type handlers for the value policy. Strings pass through every serializer. */
const valueTypes = (int8: NonNullable<PostgresJsOptions['int8']>, wallClock: (s: string) => Date): Record<string, postgresJsClient.PostgresType> => ({
  rk_int8: { to: 20, from: [20], serialize: passText((x: bigint | number) => String(x)), parse: int8Parsers[int8] },
  rk_bool: { to: 16, from: [16], serialize: passText((x: unknown) => (x ? 't' : 'f')), parse: (x: string) => x === 't' },
  rk_json: { to: 3802, from: [114, 3802], serialize: passText((x: unknown) => JSON.stringify(x)), parse: parseJson },
  rk_bytea: {
    to: 17,
    from: [17],
    serialize: passText((x: Uint8Array) => `\\x${Buffer.from(x).toString('hex')}`),
    parse: (x: string) => Buffer.from(x.slice(2), 'hex'),
  },
  // Dates of every year both ways (0001, 0050, BC: see dates.ts); infinity is a DecodeError.
  rk_timestamptz: { to: 1184, from: [1184], serialize: passText(pgDate), parse: pgTimestampText },
  rk_timestamp: { to: 1114, from: [1114], serialize: passText(pgDate), parse: wallClock },
  rk_date: { to: 1082, from: [1082], serialize: passText(pgDate), parse: wallClock },
})

// ---------------------------------------------------------------- arrays

const QUOTE = 34
const BACKSLASH = 92

/**
 * Parse a PostgreSQL array's text form (`{1,NULL,"a \"b\""}`, `{{1,2},{3,4}}`,
 * `[0:1]={7,8}`) with the element type's parser. An unquoted NULL is null; a quoted "NULL" is
 * the text. (postgres.js 3.4's own parser returns 'NULL' or NaN for NULL elements.)
 *
 * @example parsePgArray('{1,NULL}', Number) // [1, null]
 */
export const parsePgArray = (text: string, parse?: (x: string) => unknown, delimiter = ','): unknown[] => {
  const n = text.length
  let i = text.charCodeAt(0) === 91 /* [ */ ? text.indexOf('=') + 1 : 0
  const level = (): unknown[] => {
    i++ // past '{'
    const out: unknown[] = []
    if (text[i] === '}') {
      i++
      return out
    }
    for (;;) {
      const c = text.charCodeAt(i)
      if (c === 123 /* { */) {
        out.push(level())
      } else if (c === QUOTE) {
        let s = ''
        let start = ++i
        while (i < n) {
          const ch = text.charCodeAt(i)
          if (ch === QUOTE) break
          if (ch === BACKSLASH) {
            s += text.slice(start, i) + text[i + 1]
            i += 2
            start = i
          } else {
            i++
          }
        }
        s += text.slice(start, i)
        i++ // past the closing quote
        out.push(parse === undefined ? s : parse(s))
      } else {
        const start = i
        while (i < n && text[i] !== delimiter && text[i] !== '}') i++
        const s = text.slice(start, i)
        out.push(s === 'NULL' ? null : parse === undefined ? s : parse(s))
      }
      if (text[i] === delimiter) {
        i++
        continue
      }
      i++ // past '}' (or the end of malformed text)
      return out
    }
  }
  return level()
}

/** A JS array as array text, each element written by the element type's serializer. */
const pgArrayText = (xs: readonly unknown[], serialize: ((x: unknown) => unknown) | undefined, delimiter: string): string =>
  `{${xs.map((x) =>
    x === null || x === undefined
      ? 'NULL'
      : Array.isArray(x)
        ? pgArrayText(x, serialize, delimiter)
        : `"${String(serialize === undefined ? x : serialize(x)).replace(/[\\"]/g, '\\$&')}"`).join(delimiter)}}`

/** Every array type of the database with its element type, read once per pool. */
const ARRAY_TYPES = 'SELECT typarray AS array, oid AS element, typdelim AS delimiter FROM pg_catalog.pg_type WHERE typarray <> 0'

/**
 * Teach the pool every array type: parse with `parsePgArray`, bind strings as they are.
 * postgres.js registers its own array parsers when a connection opens; these replace them, and
 * connections opened later keep ours (postgres.js skips types that have both already).
 */
const registerArrayTypes = (sql: PostgresJsSql, rows: readonly Row[]): void => {
  const { parsers, serializers } = sql.options
  for (const r of rows) {
    const element = Number(r.element)
    const delimiter = String(r.delimiter)
    const parse = parsers[element] as ((x: string) => unknown) | undefined
    const serialize = serializers[element]
    parsers[Number(r.array)] = (x: string) => parsePgArray(x, parse, delimiter)
    serializers[Number(r.array)] = (x: unknown) => (typeof x === 'string' ? x : pgArrayText(x as unknown[], serialize, delimiter))
  }
}

// ---------------------------------------------------------------- results

const COUNTED = new Set(['INSERT', 'UPDATE', 'DELETE', 'MERGE', 'COPY'])

interface PgResult extends Array<Row> {
  readonly count: number | null
  readonly command: string | null
}

/**
 * The rows without empty slots. postgres.js 3.4.9 does not reset its row index when a statement
 * fails after sending some rows, so the next result on that connection starts with that many
 * empty slots before its real rows.
 */
const compact = <T>(rows: T[]): T[] => (rows.length === 0 || 0 in rows ? rows : rows.filter(() => true))

const affected = (r: PgResult): number => (r.count !== null && r.command !== null && COUNTED.has(r.command) ? r.count : 0)

/** A postgres.js result as a QueryResult; several statements give the last one's rows. */
const toResult = (r: PgResult | PgResult[]): Either<DbError, QueryResult> => {
  if ((r as { count?: unknown }).count !== undefined) return { _tag: 'Right', right: { rows: compact(r as PgResult), rowsAffected: affected(r as PgResult) } }
  const all = r as PgResult[]
  let n = 0
  for (const x of all) n += affected(x)
  return { _tag: 'Right', right: { rows: all.length === 0 ? [] : compact(all[all.length - 1]), rowsAffected: n } }
}

/** Milliseconds before the n-th reconnect attempt in a row (see `PostgresJsOptions.reconnectDelay`). */
const defaultReconnectDelay = (attempt: number): number => Math.min(25 * 2 ** attempt, 1000)

/** The `target_session_attrs` of a connection URL (several hosts allowed), if it has one. */
const targetSessionAttrs = (url: string): string | undefined => {
  const q = url.indexOf('?')
  return q < 0 ? undefined : new URLSearchParams(url.slice(q + 1)).get('target_session_attrs') ?? undefined
}

/** Cleaned `server_version`: `15.4` of `15.4 (Debian 15.4-1.pgdg120+1)`. */
const versionOf = (v: string): string => v.trim().split(/\s+/)[0] ?? v

// ---------------------------------------------------------------- the driver

/**
 * postgres.js refuses statements with 65,534 parameters or more, and when it does so while
 * other statements are in flight on the connection it fails one of those instead; so the
 * driver refuses them itself, before they reach postgres.js.
 */
const MAX_PARAMS = 65533

/** Why postgres.js cannot bind a value as it is (see `checkParams`), or undefined. */
const pgParamProblem = (v: unknown): string | undefined => {
  switch (typeof v) {
    case 'string': return stringProblem(v)
    case 'number':
    case 'bigint':
    case 'boolean': return undefined
    case 'undefined': return 'undefined is no value (bind null)'
    case 'object':
      if (v === null || v instanceof Uint8Array || Array.isArray(v) || isPlainObject(v)) return undefined
      if (v instanceof Date) return Number.isNaN(v.getTime()) ? 'an invalid Date' : undefined
      return 'postgres.js binds it as nothing it stands for (compile it through the dialect, which converts or refuses it)'
    default: return 'PostgreSQL has no such value'
  }
}

/** The first parameter postgres.js would bind as something else, or too many parameters. */
const paramsProblem = (q: Compiled): DbError | undefined =>
  q.params.length > MAX_PARAMS ? tooManyParams(q) : adaptedBefore(q) ? undefined : checkParams(q.params, pgParamProblem)

const tooManyParams = (q: Compiled): DbError =>
  dbError('QueryError', `a statement may have at most ${MAX_PARAMS} parameters, this one has ${q.params.length}`, { code: 'MAX_PARAMETERS_EXCEEDED' })

/** What this driver touches of a postgres.js connection: the close callback `sql.begin` uses too. */
interface ClientConnection {
  onclose: ((e: unknown) => void) | null
}

/** What the wait limit touches of a postgres.js query not yet sent (see `unsentWithin`). */
interface PendingQuery extends Promise<PgResult> {
  /** Set by postgres.js when the statement is written to a connection; null before. */
  readonly state: unknown
  strings: readonly string[]
  args: readonly unknown[]
  options: Record<string, unknown>
  /** postgres.js' own: settles the statement's promise (once; later outcomes are ignored). */
  readonly reject: (e: unknown) => void
}

/** The options of a statement without `onexecute` (postgres.js copies them for each statement). */
const PREPARED = Object.freeze({ prepare: true })
const UNPREPARED = Object.freeze({ prepare: false })

/** What the watchdog rejects a statement with when no connection took it in time. */
const UNSENT: unique symbol = Symbol('recordkit.postgres.unsent')

/** postgres.js' `onexecute` query option: called with the connection a statement was written to. */
type Watch = (c: ClientConnection) => boolean

/**
 * A postgres.js driver. The pool opens connections on first use, up to `max`.
 *
 * @example
 * const db = await run(connect(postgresJs({ url: 'postgres://postgres@localhost/app', max: 20 }), postgres))
 * const behindPgBouncer = postgresJs({ url: process.env.DATABASE_URL, prepare: false })
 * const tuned = extend(postgresJs({ url }), (self, base) => ({
 *   connectionParameters: () => ({ ...base.connectionParameters(), search_path: 'app,public' }),
 * }))
 */
export const postgresJs = (options: PostgresJsOptions = {}): PostgresJsDriver => {
  const redact = options.redactParams ?? false

  return fix<PostgresJsDriver>((self) => {
    let pool: PostgresJsSql | undefined
    // Array types are read once per pool, before its first statement (see registerArrayTypes).
    let typesReady = false
    let typesLoading: Promise<void> | undefined

    // Set by close: the pool is never made again.
    let closed = false
    const acquireTimeout = options.acquireTimeout ?? 30_000

    const sql = (): PostgresJsSql => {
      if (pool === undefined) {
        if (closed) throw dbError('ConnectionError', 'the PostgreSQL pool was closed; it does not reopen', { code: 'BACKEND_CLOSED' })
        const client = clientLibrary<typeof postgresJsClient>('postgres', 'postgres', 'PostgreSQL (postgres.js)')
        const o = self.clientOptions()
        capacity = o.max ?? 10
        pool = (options.url === undefined ? client(o) : client(options.url, o)) as unknown as PostgresJsSql
      }
      return pool
    }

    /** Undefined once the array types are known; until then the promise that loads them. */
    const ready = (): Promise<void> | undefined => {
      // A closed driver makes no pool: a statement on a reserved connection then fails on it.
      if (typesReady || closed) return undefined
      const p = sql()
      typesLoading ??= (p.unsafe(ARRAY_TYPES) as unknown as Promise<Row[]>).then(
        (rows) => {
          registerArrayTypes(p, rows)
          typesReady = pool === p
        },
        (e: unknown) => {
          typesLoading = undefined
          throw e
        },
      )
      return typesLoading
    }

    const failed = (q: Compiled) => (e: unknown): Either<DbError, QueryResult> =>
      ({ _tag: 'Left', left: withStatement(self.classifyError(e), q.sql, q.params, redact) })

    /**
     * A pool's first connection failed while recordkit set it up (reading the array types), so
     * the statement was never sent: a connection failure says so, with the server's reason and
     * code, and names no statement (as the mysql2 driver's does). Anything else keeps the statement.
     */
    const notConnected = (q: Compiled) => (e: unknown): Either<DbError, QueryResult> => {
      const c = self.classifyError(e)
      return c._tag === 'ConnectionError'
        ? { _tag: 'Left', left: dbError('ConnectionError', `cannot get a connection: ${c.message}`, { code: c.code, cause: c.cause ?? e }) }
        : failed(q)(e)
    }

    const poolTimeout = (what: string): DbError =>
      dbError('PoolTimeout', `${what} within ${acquireTimeout} ms (acquireTimeout): every connection is held by a transaction or a stream, or still connecting`, { waited: acquireTimeout })

    /**
     * Admission to the pool. postgres.js queues a statement or a reservation without limit
     * while no connection can take it, and a statement it has queued cannot be withdrawn
     * without risk, so recordkit waits on its own side instead, where giving up is clean:
     * - while transactions hold every connection (`held === capacity`), statements and
     *   reservations wait here, up to `acquireTimeout`, then fail with PoolTimeout;
     * - while the server is known to be down (a connection attempt failed, and the reconnect
     *   delay since has not passed), calls fail at once with ConnectionError; the first call
     *   after the delay goes through and tries again.
     */
    let capacity = 0
    let holding = 0
    const admission: { readonly reserve: boolean; readonly wake: () => void }[] = []
    let down: { readonly at: number; readonly attempts: number; readonly error: DbError } | undefined

    const wakeWaiting = (): void => {
      while (admission.length > 0 && (holding < capacity || !admission[0].reserve)) {
        const w = admission.shift()!
        if (w.reserve) holding++
        w.wake()
      }
    }

    /** Wait for a turn: undefined when admitted (a reservation then counts as held), else why not. */
    const admit = (reserve: boolean): Promise<DbError | undefined> | DbError | undefined => {
      if (down !== undefined) {
        if (performance.now() - down.at < (options.reconnectDelay ?? defaultReconnectDelay)(down.attempts)) {
          return dbError('ConnectionError', `the server is not reachable (the last attempt failed ${Math.round(performance.now() - down.at)} ms ago): ${down.error.message}`, { code: down.error.code, cause: down.error })
        }
      }
      if (holding < capacity && (!reserve || admission.length === 0)) {
        if (reserve) holding++
        return undefined
      }
      return new Promise((resolve) => {
        const entry = {
          reserve,
          wake: () => {
            clearTimeout(timer)
            resolve(undefined)
          },
        }
        const timer = setTimeout(() => {
          const i = admission.indexOf(entry)
          if (i >= 0) admission.splice(i, 1)
          resolve(poolTimeout(reserve ? 'no connection could be reserved for a transaction' : 'the statement was not sent'))
        }, acquireTimeout)
        admission.push(entry)
      })
    }

    /** A reservation ended: its connection may serve the next waiter. */
    const unhold = (): void => {
      holding--
      wakeWaiting()
    }

    /** Learn from a call's outcome whether the server is down (a connection never came). */
    const observe = (query: object | undefined, e: DbError | undefined): void => {
      if (e === undefined) {
        down = undefined
      } else if (e._tag === 'ConnectionError' && (query === undefined || (query as { state?: unknown }).state == null)) {
        down = { at: performance.now(), attempts: (down?.attempts ?? 0) + 1, error: e }
      }
    }

    /**
     * Send a statement: on the pool (`on === pool`), under the watchdog (see `watchUnsent`), with
     * `deadline` as the time it gives up unsent; on a reserved connection, as it is.
     */
    const run = (on: PostgresJsSql, q: Compiled, watch?: Watch, again = false, deadline?: number): Promise<Either<DbError, QueryResult>> => {
      const problem = paramsProblem(q)
      if (problem !== undefined) return Promise.resolve(failed(q)(problem))
      const wait = ready()
      if (wait !== undefined) {
        return withinAcquireTimeout(wait.then(() => true, (e: unknown) => e), () => false as unknown).then((w) =>
          w === true ? run(on, q, watch, again, deadline) : w === false ? failed(q)(poolTimeout('the statement was not sent')) : notConnected(q)(w))
      }
      let query: PendingQuery
      try {
        const prepare = self.prepareStatement(q)
        // postgres.js copies the options of each statement, so the shared ones stay as they are.
        const queryOptions = watch === undefined ? (prepare ? PREPARED : UNPREPARED) : { prepare, onexecute: watch }
        query = on.unsafe(q.sql, q.params as never[], queryOptions) as unknown as PendingQuery
      } catch (e) {
        return Promise.resolve(failed(q)(e))
      }
      if (on !== pool) {
        return query.then(toResult, (e: unknown) => {
          // The statement never ran: run it once more on the reconnected session.
          if (!again && staleSessionError(query, e)) return run(on, q, watch, true)
          return { _tag: 'Left', left: withStatement(self.classifyError(e), q.sql, q.params, redact) } as Either<DbError, QueryResult>
        })
      }
      // Pooled: the watchdog answers PoolTimeout if postgres.js does not send it in time, by
      // settling the statement's own promise first (its later outcome is then ignored).
      const until = deadline ?? performance.now() + acquireTimeout
      watchUnsent(query, until)
      return query.then(pooledRows, (e: unknown) => {
        if (e === UNSENT) return failed(q)(poolTimeout('the statement was not sent'))
        // The statement never ran: run it once more on the reconnected session, within the same limit.
        if (!again && staleSessionError(query, e)) return run(on, q, watch, true, until)
        const left = withStatement(self.classifyError(e), q.sql, q.params, redact)
        observe(query, left)
        return { _tag: 'Left', left } as Either<DbError, QueryResult>
      })
    }

    /** The rows of a pooled statement; a statement that ran says the server is up. */
    const pooledRows = (r: PgResult | PgResult[]): Either<DbError, QueryResult> => {
      if (down !== undefined) observe(undefined, undefined)
      dropSent()
      return toResult(r)
    }

    /** `p`, or `onLate()` when `p` takes longer than acquireTimeout. */
    const withinAcquireTimeout = <A>(p: Promise<A>, onLate: () => A): Promise<A> => {
      let timer: ReturnType<typeof setTimeout> | undefined
      const late = new Promise<A>((resolve) => { timer = setTimeout(() => resolve(onLate()), acquireTimeout) })
      return Promise.race([p, late]).finally(() => clearTimeout(timer))
    }

    /**
     * A pooled statement postgres.js has not written to a connection within acquireTimeout gives
     * up with PoolTimeout. That happens while no host is usable: every host down, or none of
     * several the one `target_session_attrs` asks for (no primary during a failover), when
     * postgres.js keeps trying hosts and holds the statement meanwhile. The statement becomes
     * `SELECT 1`, so that when a connection takes it later nothing of the caller's runs
     * (postgres.js' own cancel would leave a connection that was opening for it unusable), and
     * its promise is rejected with `UNSENT`, which `run` answers as PoolTimeout.
     *
     * One watchdog serves every statement: they wait in a queue in the order they were given
     * (all have the same limit, so deadlines come in that order), and one timer, armed for the
     * oldest, looks at them. A statement costs two array slots (the statement and its deadline):
     * no timer, promise or object of its own, since a thousand may be in flight at once.
     */
    const unsentQueries: (PendingQuery | undefined)[] = []
    const unsentDeadlines: number[] = []
    let head = 0
    let watchdog: ReturnType<typeof setTimeout> | undefined

    const watchUnsent = (query: PendingQuery, deadline: number): void => {
      unsentQueries.push(query)
      unsentDeadlines.push(deadline)
      if (watchdog === undefined) armWatchdog()
    }

    /** Forget the statements at the front of the queue that were sent (the server answers those). */
    const dropSent = (): void => {
      while (head < unsentQueries.length && unsentQueries[head]!.state != null) unsentQueries[head++] = undefined
      if (head === unsentQueries.length) {
        unsentQueries.length = 0
        unsentDeadlines.length = 0
        head = 0
      } else if (head > 1024 && head * 2 > unsentQueries.length) {
        unsentQueries.splice(0, head)
        unsentDeadlines.splice(0, head)
        head = 0
      }
    }

    const armWatchdog = (): void => {
      if (watchdog !== undefined || head >= unsentQueries.length) return
      // Unreferenced: a statement waiting for a connection keeps the process alive by itself.
      watchdog = setTimeout(sweepUnsent, Math.max(0, unsentDeadlines[head]! - performance.now()))
      watchdog.unref()
    }

    /** Time out the statements still unsent past their deadline; drop those sent. */
    const sweepUnsent = (): void => {
      watchdog = undefined
      const now = performance.now()
      while (head < unsentQueries.length) {
        const query = unsentQueries[head]!
        if (query.state == null) {
          if (unsentDeadlines[head]! > now) break
          query.strings = ['SELECT 1']
          query.args = []
          query.options = { ...query.options, simple: true, prepare: false }
          // Settles the caller's promise now (a statement answered already stays as it was).
          query.reject(UNSENT)
        }
        unsentQueries[head++] = undefined
      }
      dropSent()
      armWatchdog()
    }

    /** Run on the pool; a closed driver answers Left instead of throwing. */
    const runPooled = (q: Compiled): Promise<Either<DbError, QueryResult>> => {
      let p: PostgresJsSql
      try {
        p = sql()
      } catch (e) {
        // postgres.js not installed: the error names the package, and no statement was sent.
        return Promise.resolve(missingClientLibrary(e) ? { _tag: 'Left', left: e } : failed(q)(e))
      }
      const refused = admit(false)
      if (refused === undefined) return run(p, q)
      if (!(refused instanceof Promise)) return Promise.resolve(failed(q)(refused))
      return refused.then((e) => (e === undefined ? run(p, q) : failed(q)(e)))
    }

    /**
     * A cursor's batches. postgres.js 3.4 hands a cursor's failure to the promise of the batch
     * asked for; when the connection dies while the caller is busy with a batch, there is none,
     * the failure is lost and the cursor then says it is done, so rows would go missing without
     * a word. The cursor's `reject` is watched here to keep that failure and throw it.
     *
     * On the pool a cursor waits, as a statement does, for a connection postgres.js can give it
     * (one running a cursor takes nothing else until the cursor ends): under the same watchdog
     * (`watchUnsent`), it gives up with PoolTimeout after acquireTimeout instead of waiting for
     * ever for the streams that hold every connection.
     */
    const iterate = async function* (on: PostgresJsSql, q: Compiled, batchSize: number): AsyncGenerator<readonly Row[]> {
      const pooled = on === pool
      for (let attempt = 0; ; attempt++) {
        let it: AsyncIterator<Row[]>
        let query: object
        let lost: { readonly error: unknown } | undefined
        try {
          const problem = paramsProblem(q)
          if (problem !== undefined) throw problem
          const wait = ready()
          if (wait !== undefined) {
            if (!pooled) await wait
            else if (!(await withinAcquireTimeout(wait.then(() => true), () => false))) throw poolTimeout('the stream was not sent')
          }
          query = on.unsafe(q.sql, q.params as never[], { prepare: self.prepareStatement(q) })
          let inner = (query as { reject?: (e: unknown) => void }).reject
          Object.defineProperty(query, 'reject', {
            configurable: true,
            get: () => (e: unknown) => {
              lost ??= { error: e }
              inner?.(e)
            },
            set: (f: (e: unknown) => void) => { inner = f },
          })
          it = (query as unknown as { cursor: (n: number) => AsyncIterable<Row[]> }).cursor(batchSize)[Symbol.asyncIterator]()
          // postgres.js takes the cursor with the first batch asked for, just below.
          if (pooled) watchUnsent(query as PendingQuery, performance.now() + acquireTimeout)
        } catch (e) {
          throw withStatement(self.classifyError(e), q.sql, q.params, redact)
        }
        let done = false
        let rows = 0
        try {
          for (;;) {
            let next: IteratorResult<Row[]>
            try {
              next = await it.next()
            } catch (e) {
              done = true
              if (e === UNSENT) throw withStatement(poolTimeout('the stream was not sent'), q.sql, q.params, redact)
              if (rows === 0 && attempt === 0 && staleSessionError(query, e)) break
              throw withStatement(self.classifyError(e), q.sql, q.params, redact)
            }
            if (next.done) {
              done = true
              if (lost !== undefined) throw withStatement(self.classifyError(lost.error), q.sql, q.params, redact)
              return
            }
            rows += next.value.length
            yield compact(next.value)
          }
        } finally {
          // Stopped early: close the cursor, which gives the connection back.
          if (!done) await it.return?.()
        }
      }
    }

    /**
     * A reserved connection. postgres.js 3.4 crashes the process when a query is sent on a
     * reserved connection whose socket has closed (the server ended the session, e.g.
     * idle_in_transaction_session_timeout), and puts such a connection back among the open
     * ones on release. So the first statement learns the connection (postgres.js' own
     * `onexecute` query option, the one `sql.begin` uses) and watches it close; after that,
     * statements fail with ConnectionError without touching it, and release leaves it to the
     * pool, which reconnects it.
     */
    const held = (r: postgresJsClient.ReservedSql<Record<string, unknown>>, done: () => void): Connection => {
      let released = false
      let watched: ClientConnection | undefined
      let closedBy: unknown
      // Statements sent on this connection and not settled yet. postgres.js 3.4 keeps those it
      // had not written yet (queued behind a full socket or pipeline, as a createMany's chunks
      // sent at once are) in the reserved connection's own queue, and never settles them when
      // the connection closes: each call would wait for ever. Those it had written it rejects
      // before it reports the close; so what is still waiting a turn later was never written,
      // and fails unsent.
      const waiting = new Set<() => void>()
      const onClose = (e: unknown): void => {
        closedBy = e ?? new Error('connection closed')
        setImmediate(() => {
          for (const fail of waiting) fail()
          waiting.clear()
        })
      }
      const watch: Watch = (c) => {
        if (watched === undefined) {
          watched = c
          c.onclose = onClose
        }
        return true
      }
      const gone = (q: Compiled): DbError =>
        withStatement(dbError('ConnectionError', `the connection was closed: ${closedBy instanceof Error ? closedBy.message : String(closedBy)}`, { cause: closedBy, code: codeOf(closedBy), sent: false }), q.sql, q.params, redact)
      const on = r as unknown as PostgresJsSql
      return {
        execute: (q) => () => {
          if (closed && closedBy === undefined) closedBy = new Error('the driver was closed')
          if (closedBy !== undefined) return Promise.resolve({ _tag: 'Left', left: gone(q) })
          // After a connection error the session is gone: postgres.js may queue later statements
          // on it for ever, so they fail here instead.
          return new Promise<Either<DbError, QueryResult>>((resolve) => {
            const fail = (): void => resolve({ _tag: 'Left', left: gone(q) })
            waiting.add(fail)
            void run(on, q, watched === undefined ? watch : undefined).then((r) => {
              waiting.delete(fail)
              if (r._tag === 'Left' && r.left._tag === 'ConnectionError') closedBy ??= r.left
              resolve(r)
            })
          })
        },
        stream: (q, o) => ({
          [Symbol.asyncIterator]: () => {
            if (closed && closedBy === undefined) closedBy = new Error('the driver was closed')
            if (closedBy !== undefined) throw gone(q)
            return iterate(on, q, o?.batchSize ?? 500)
          },
        }),
        release: async () => {
          if (released) return
          released = true
          if (watched !== undefined && watched.onclose === onClose) watched.onclose = null
          if (closedBy === undefined) r.release()
          done()
        },
      }
    }

    return {
      name: 'postgres.js',
      pipelines: true,
      prepare: options.prepare ?? true,
      prepareStatement: (q) => self.prepare && (q.params.length <= 1000 || q.batch === true),

      connectionParameters: () => {
        const extra: Record<string, string> = {}
        for (const [k, v] of Object.entries(options.connection ?? {})) extra[k] = String(v)
        return { application_name: options.applicationName ?? 'recordkit', TimeZone: options.timeZone ?? 'UTC', DateStyle: 'ISO, MDY', ...extra }
      },

      clientOptions: () => {
        const o: Record<string, unknown> = {
          max: options.max ?? 10,
          prepare: self.prepare,
          types: valueTypes(options.int8 ?? 'safe', wallClockReader(sessionTimeZone(options))),
          connection: self.connectionParameters(),
          onnotice: options.onNotice ?? (() => {}),
          // Keep postgres.js' own type fetch on connect: with it off, a `reserve()` that opens a
          // new connection never resolves (3.4.9). Its array parsers are replaced by ours anyway.
          fetch_types: true,
          connect_timeout: options.connectTimeout ?? 30,
          backoff: (attempt: number) => (options.reconnectDelay ?? defaultReconnectDelay)(attempt) / 1000,
        }
        if (options.host !== undefined) o.host = options.host
        if (options.port !== undefined) o.port = options.port
        if (options.database !== undefined) o.database = options.database
        if (options.user !== undefined) o.username = options.user
        if (options.password !== undefined) o.password = options.password
        if (options.ssl !== undefined) o.ssl = options.ssl
        // An idle connection's socket keeps the process alive: close it after a while, so a
        // program that forgets `close()` still ends (a few seconds after its last query).
        o.idle_timeout = options.idleTimeout ?? DEFAULT_IDLE_SECONDS
        if (options.maxLifetime !== undefined) o.max_lifetime = options.maxLifetime
        // postgres.js 3.4 takes `read-write` to mean default_transaction_read_only = off, which
        // a PostgreSQL 14+ hot standby also reports: it would connect to a standby. A standby is
        // what read-write must exclude, so ask for the primary (in_hot_standby = off).
        const attrs = options.client?.target_session_attrs ?? (options.url === undefined ? undefined : targetSessionAttrs(options.url))
        return { ...o, ...options.client, ...(attrs === 'read-write' ? { target_session_attrs: 'primary' } : {}) } as PostgresJsClientOptions
      },

      sql,

      execute: (q): TaskEither<DbError, QueryResult> => () => runPooled(q),

      stream: (q, o) => ({
        [Symbol.asyncIterator]: () => {
          let p: PostgresJsSql
          try {
            p = sql()
          } catch (e) {
            throw withStatement(self.classifyError(e), q.sql, q.params, redact)
          }
          return iterate(p, q, o?.batchSize ?? 500)
        },
      }),

      reserve: () => async () => {
        let p: PostgresJsSql
        try {
          p = sql()
        } catch (e) {
          return { _tag: 'Left', left: self.classifyError(e) }
        }
        const waited = admit(true)
        const refused = waited instanceof Promise ? await waited : waited
        if (refused !== undefined) return { _tag: 'Left', left: refused }
        // From here the reservation counts as held: every way out gives it back once.
        let reserving: Promise<postgresJsClient.ReservedSql<Record<string, unknown>>>
        try {
          await ready()
          reserving = p.reserve()
        } catch (e) {
          unhold()
          const f = self.classifyError(e)
          observe(undefined, f)
          return { _tag: 'Left', left: f }
        }
        // postgres.js waits for a free connection without limit: give up after acquireTimeout,
        // and give back a connection that comes after that.
        let timer: ReturnType<typeof setTimeout> | undefined
        const late = new Promise<'late'>((resolve) => { timer = setTimeout(() => resolve('late'), acquireTimeout) })
        try {
          const r = await Promise.race([reserving, late])
          if (r === 'late') {
            reserving.then((c) => { c.release(); unhold() }, () => unhold())
            return { _tag: 'Left', left: poolTimeout('no connection could be reserved for a transaction') }
          }
          if (down !== undefined) observe(undefined, undefined)
          return { _tag: 'Right', right: held(r, unhold) }
        } catch (e) {
          unhold()
          const f = self.classifyError(e)
          observe(undefined, f)
          return { _tag: 'Left', left: f }
        } finally {
          clearTimeout(timer)
        }
      },

      version: () => async () => {
        const r = await runPooled({ sql: "SELECT current_setting('server_version') AS v", params: [] })
        return r._tag === 'Left' ? r : { _tag: 'Right', right: versionOf(String(r.right.rows[0]?.v)) }
      },

      classifyError: classifyPostgresError,

      close: (o) => async () => {
        closed = true
        const p = pool
        pool = undefined
        typesReady = false
        typesLoading = undefined
        try {
          if (p !== undefined) await p.end({ timeout: o?.timeout === undefined ? options.closeTimeout ?? 5 : o.timeout / 1000 })
          return { _tag: 'Right', right: undefined }
        } catch (e) {
          return { _tag: 'Left', left: self.classifyError(e) }
        }
      },
    }
  })
}
