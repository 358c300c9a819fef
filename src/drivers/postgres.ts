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
 * - Several hosts: `postgres://u@a:5432,b:5432/db?target_session_attrs=read-write`. `read-write`
 *   is passed on as `primary`, so a hot standby is skipped; while no host is usable (a
 *   failover), a statement waits at most `acquireTimeout` and then fails with PoolTimeout without
 *   ever running. The driver opens the sockets (see below) and picks each one's host: the one
 *   that last accepted a session, the next one after a socket to it closed before its session
 *   was accepted. A session postgres.js would keep on a host of the wrong kind (it skips its
 *   check when the connection's previous session ended with an error) is closed at its first
 *   ReadyForQuery, before postgres.js reads it: for `primary` (`read-write`) and `standby`, on
 *   PostgreSQL 14 and later, which report `in_hot_standby` at start-up (an older server's kind
 *   is known only from a query of postgres.js', which it skips then), and not under TLS.
 * - `stream` reads through a cursor (`.cursor(batchSize)`); ending the iteration early closes
 *   the cursor and gives the connection back. A cursor takes a connection to itself until it
 *   ends: one that finds none free within `acquireTimeout` fails with PoolTimeout, as a
 *   statement does.
 * - Every new connection is set up with `connectionParameters()` (an overridable field), sent
 *   as startup parameters: any setting `SET` could change (`search_path`, `statement_timeout`,
 *   `lock_timeout`, `application_name`, ...). postgres.js 3.4 has no hook that runs SQL on each
 *   new connection, so this is the set-up hook.
 * - A statement that was sent and hears nothing for `answerTimeout` (a frozen host, a network
 *   that drops packets) fails with a ConnectionError of unknown outcome (`ANSWER_TIMEOUT`), and
 *   the socket it went out on is destroyed (the driver opens the pool's sockets itself for
 *   that): see the watchdog in the driver and docs/failures.md. `answerTimeout: 0` turns off the
 *   deadline and with it the driver's sockets: postgres.js opens its own, so a statement lost
 *   with a connection that was still starting (below) is not failed at the close; only an
 *   answer with no command is still taken for that loss (`unanswered`), and such a statement
 *   otherwise waits until postgres.js settles it.
 * - A statement that was sent and whose connection closed before its answer fails with a
 *   ConnectionError of unknown outcome (`CONNECTION_LOST`) as soon as the close is seen, also
 *   where postgres.js 3.4 fails nothing: a connection still starting (the statement it was
 *   opened for) with several hosts listed, which it would settle, once the connection opened
 *   again, with the new session's first answer (an empty success). With several hosts under TLS
 *   (postgres.js takes over each socket's listeners, so its close is not seen) such a statement
 *   ends at `answerTimeout` from when the watchdog first saw it running, as ANSWER_TIMEOUT, or
 *   as CONNECTION_LOST when that empty answer comes first.
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
import net from 'node:net'
import type { Either } from 'fp-ts/lib/Either.js'
import { none, type Option, some } from '../fp.js'
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import type postgresJsClient from 'postgres'
import { clientLibrary, missingClientLibrary } from './client-library.js'
import { answerDeadline, type PostgresJsBaseOptions } from './options.js'
import type { Connection, Driver, QueryResult, Row } from '../driver.js'
import { dbError, type DbError, type DbErrorTag, isDbError, withStatement } from '../errors.js'
import { fix } from '../record.js'
import type { Compiled } from '../sql.js'
import { sqlstateTag, uniqueKeyColumns } from './sqlstate.js'
import { commonPgTime, parsePgTimestamp, pgTimestamp, zoneWallClock } from '../dates.js'
import { parseJson } from '../model/fast-decoders.js'
import { adaptedBefore, checkParams, isPlainObject, stringProblem } from '../values.js'

export type { PostgresJsBaseOptions } from './options.js'
export { DEFAULT_ANSWER_TIMEOUT } from './options.js'

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
 * Whether a text is an empty statement for PostgreSQL, which answers it with no command
 * (EmptyQueryResponse): nothing but whitespace, semicolons, `--` line comments and `/* *\/`
 * block comments, which PostgreSQL nests (`/* a /* b *\/ c *\/` is one comment), in any order.
 *
 * @example emptyStatement('; -- trailing') // true
 * @example emptyStatement('/* a *\/ ; /* b *\/ SELECT 1') // false
 */
const emptyStatement = (text: string): boolean => {
  const n = text.length
  let i = 0
  while (i < n) {
    const c = text.charCodeAt(i)
    if (c === 32 || (c >= 9 && c <= 13) || c === 59 /* ; */) {
      i++
    } else if (c === 45 /* - */ && text.charCodeAt(i + 1) === 45) {
      // To the end of the line (\n or \r, as PostgreSQL's lexer reads it).
      i += 2
      while (i < n && text.charCodeAt(i) !== 10 && text.charCodeAt(i) !== 13) i++
    } else if (c === 47 /* / */ && text.charCodeAt(i + 1) === 42 /* * */) {
      let depth = 1
      i += 2
      while (i < n && depth > 0) {
        const d = text.charCodeAt(i)
        if (d === 47 && text.charCodeAt(i + 1) === 42) {
          depth++
          i += 2
        } else if (d === 42 && text.charCodeAt(i + 1) === 47) {
          depth--
          i += 2
        } else {
          i++
        }
      }
    } else {
      return false
    }
  }
  return true
}

/**
 * Whether a statement answered with no command (no CommandComplete came for it) was in fact not
 * answered: every statement but an empty one (`emptyStatement`) ends with a command.
 * postgres.js 3.4 does not fail a statement sent on a connection that is still starting (the
 * first statement of a new connection) when that connection closes while another host is
 * listed, and settles it, when the connection opens again, with the first ReadyForQuery of the
 * next session: an empty success for a statement that may never have run.
 *
 * @example unanswered({ sql: 'INSERT INTO t VALUES (1)', params: [] }) // true
 */
const unanswered = (q: Compiled): boolean => !emptyStatement(q.sql)

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
  const t = commonPgTime(s)
  return t === undefined ? parsePgTimestamp(s) : new Date(t)
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
 * The rows as a plain array, without empty slots.
 *
 * postgres.js hands its rows over in a `Result`, a subclass of Array: every `slice`, `map` or
 * `filter` of it goes through the species lookup of a subclass, 20 times slower than on an Array
 * (a 3-row slice 500-600 ns against 27 ns, a map of 3,000 rows 110-140 us against 6-26 us), which
 * grouping the rows of a relation by key paid once per parent. Copying them costs about a
 * nanosecond a row.
 *
 * Empty slots: postgres.js 3.4.9 does not reset its row index when a statement fails after
 * sending some rows, so the next result on that connection starts with that many empty slots
 * before its real rows.
 */
const compact = <T>(rows: T[]): T[] => {
  const n = rows.length
  if (n === 0) return []
  if (!(0 in rows)) return Array.prototype.filter.call(rows, () => true) as T[]
  const out = new Array<T>(n)
  for (let i = 0; i < n; i++) out[i] = rows[i]!
  return out
}

const affected = (r: PgResult): number => (r.count !== null && r.command !== null && COUNTED.has(r.command) ? r.count : 0)

/** A postgres.js result as a QueryResult; several statements give the last one's rows. */
const toResult = (r: PgResult | PgResult[]): Either<DbError, QueryResult> => {
  if ((r as { count?: unknown }).count !== undefined) return { _tag: 'Right', right: { rows: compact(r as PgResult), rowsAffected: affected(r as PgResult) } }
  const all = r as PgResult[]
  let n = 0
  for (const x of all) n += affected(x)
  return { _tag: 'Right', right: { rows: all.length === 0 ? [] : compact(all[all.length - 1]), rowsAffected: n } }
}

/** A postgres.js result's first row, as `toResult`'s first row (see `Driver.firstRow`). */
const firstOfResult = (r: PgResult | PgResult[]): Either<DbError, Option<Row>> => {
  if ((r as { count?: unknown }).count === undefined) {
    const rows = (toResult(r) as { right: QueryResult }).right.rows
    return { _tag: 'Right', right: rows.length > 0 ? some(rows[0]!) : none }
  }
  const rows = r as PgResult
  if (rows.length === 0) return { _tag: 'Right', right: none }
  return { _tag: 'Right', right: some(0 in rows ? rows[0]! : compact(rows)[0]!) }
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
  /** True while its connection waits for its answer (the server works on it). */
  readonly active?: boolean
  /** Set by `.cursor(n)`: the statement is a stream's. */
  readonly cursorRows?: number
  /** postgres.js' canceller, used only by `query.cancel()` (which recordkit never calls): null once settled here. */
  canceller: unknown
}

/** A socket of the pool, as the answer deadline watches it (see `sockets` in the driver). */
interface TrackedSocket {
  readonly socket: net.Socket
  /** `bytesRead` when the watchdog last looked. */
  bytes: number
  /** When the watchdog last saw `bytesRead` move (performance.now() time). */
  heard: number
  /** The session it carries, `pid:secret`, once the server said. */
  session: string | undefined
  /**
   * Set once the session passed postgres.js' start-up checks (`target_session_attrs`) and
   * answered after them: a host that refused, or a session postgres.js dropped for being of the
   * wrong kind, leaves it unset (see `openSocket`).
   */
  accepted: boolean
}

/** What `openSocket` reads of the options postgres.js hands its `socket` option (its parsed options). */
interface SocketOptions {
  readonly host: readonly string[]
  readonly port: readonly number[]
  readonly path?: string | false
  readonly ssl?: unknown
  readonly connect_timeout?: number
  readonly target_session_attrs?: string
  readonly fetch_types?: boolean
}

/** The options of a statement without `onexecute` (postgres.js copies them for each statement). */
const PREPARED = Object.freeze({ prepare: true })
const UNPREPARED = Object.freeze({ prepare: false })

/** What the watchdog rejects a statement with when no connection took it in time. */
const UNSENT: unique symbol = Symbol('recordkit.postgres.unsent')

/** What the watchdog rejects a statement with when it heard no answer within answerTimeout. */
const ANSWER_LOST: unique symbol = Symbol('recordkit.postgres.answerLost')

/** What a statement is rejected with when the connection it was written to closed without failing it (see `orphaned`). */
const CONNECTION_LOST: unique symbol = Symbol('recordkit.postgres.connectionLost')

/** A statement's `canceller` once the watchdog gave up on its answer (see `expire`). */
const EXPIRED: unique symbol = Symbol('recordkit.postgres.expired')

/** Milliseconds in a PostgreSQL time setting (`'5s'`, `'2min'`, `5000`, `'250ms'`); undefined when it cannot tell. */
const settingMs = (v: unknown): number | undefined => {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined
  if (typeof v !== 'string') return undefined
  const m = /^\s*(\d+(?:\.\d+)?)\s*(us|ms|s|min|h|d)?\s*$/i.exec(v)
  if (m === null) return undefined
  const unit = { us: 0.001, ms: 1, s: 1_000, min: 60_000, h: 3_600_000, d: 86_400_000 }[(m[2] ?? 'ms').toLowerCase() as 'ms']
  return Number(m[1]) * unit
}

/** The `statement_timeout` (ms) given in `connection` (any case), if any. */
const statementTimeoutOf = (options: PostgresJsBaseOptions): number | undefined => {
  for (const [k, v] of Object.entries(options.connection ?? {})) if (k.toLowerCase() === 'statement_timeout') return settingMs(v)
  return undefined
}

/**
 * A connection's start-up, as far as postgres.js' dropped type query goes. postgres.js 3.4 reads
 * the server's array types on each new connection with a query of its own, and drops that
 * query's promise (connection.js: `return fetchArrayTypes()` from a message handler). When the
 * connection fails during it (a server restart, a cut network, a statement_timeout of a
 * millisecond), the rejection is unhandled, and Node's default for an unhandled rejection ends
 * the process (porsager/postgres#1192, #1205, #1223), although the call that wanted the
 * connection gets its own result or error. recordkit cannot reach that promise, so while a
 * connection whose socket this driver opened is starting (see `openSocket`), a listener of
 * unhandled rejections takes that query's one. Anything else it sees goes on as before:
 *
 * - with a listener of the application's own, the application's listeners see every rejection
 *   as they did (the type query's included) and decide;
 * - with none, any other rejection is thrown from the listener, which ends the process with it,
 *   as Node's default (`--unhandled-rejections=throw`) does;
 * - with `--unhandled-rejections` given to Node (in its arguments or NODE_OPTIONS), Node's chosen
 *   mode applies and no listener is added.
 *
 * The listener is there only while some connection starts, and a start-up ends at the server's
 * answer to the type query (counted in ReadyForQuery messages) or when its socket closes.
 *
 * @example const done = startupBegins(); socket.once('close', done)
 */
const startupBegins = (): (() => void) => {
  if (unhandledModeGiven()) return () => {}
  if (starting++ === 0) process.on('unhandledRejection', typeQueryRejection)
  let ended = false
  return () => {
    if (ended) return
    ended = true
    // After what postgres.js does with the same message or close: its rejection is handled first.
    setImmediate(() => {
      if (--starting === 0) process.off('unhandledRejection', typeQueryRejection)
    })
  }
}

/** Connections now starting, of every driver of this module (see `startupBegins`). */
let starting = 0

/** Whether Node was told what to do with unhandled rejections (`--unhandled-rejections=...`). */
const unhandledModeGiven = (): boolean =>
  process.execArgv.some((a) => a.startsWith('--unhandled-rejections')) || (process.env.NODE_OPTIONS ?? '').includes('--unhandled-rejections')

/** The listener of `startupBegins`: postgres.js' type query's rejection is taken; others as without it. */
const typeQueryRejection = (reason: unknown): void => {
  if (isTypeQueryFailure(reason)) return
  if (process.listenerCount('unhandledRejection') === 1) throw reason
}

/** A failure of postgres.js' own array-type query (its error names the query). */
const isTypeQueryFailure = (e: unknown): boolean => {
  const q = typeof e === 'object' && e !== null ? (e as { query?: unknown }).query : undefined
  return typeof q === 'string' && q.includes('pg_catalog.pg_type') && q.includes('typarray')
}

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
    const answerTimeout = answerDeadline(options.answerTimeout, statementTimeoutOf(options))
    // The driver opens the pool's sockets (see `openSocket`) unless the answer deadline is off.
    const ownSockets = answerTimeout > 0
    // Several hosts under TLS, as postgres.js reads its options (set by `openSocket` from them,
    // when the pool's first socket opens, before any statement is sent): postgres.js takes over
    // each socket's listeners for TLS, so neither the session nor the socket's close is seen,
    // and a statement whose connection closed while starting is bound only by answerTimeout
    // (postgres.js' `active`, as every running statement is; see `expire`).
    let blind = false

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

    const failed = (q: Compiled) => (e: unknown): Either<DbError, never> =>
      ({ _tag: 'Left', left: withStatement(self.classifyError(e), q.sql, q.params, redact) })

    /**
     * A pool's first connection failed while recordkit set it up (reading the array types), so
     * the statement was never sent: a connection failure says so, with the server's reason and
     * code, and names no statement (as the mysql2 driver's does). Anything else keeps the statement.
     */
    const notConnected = (q: Compiled) => (e: unknown): Either<DbError, never> => {
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
    const run = <A = QueryResult>(on: PostgresJsSql, q: Compiled, watch?: Watch, again = false, deadline?: number, answer: (r: PgResult | PgResult[]) => Either<DbError, A> = toResult as never): Promise<Either<DbError, A>> => {
      const problem = paramsProblem(q)
      if (problem !== undefined) return Promise.resolve(failed(q)(problem))
      const wait = ready()
      if (wait !== undefined) {
        return withinAcquireTimeout(wait.then(() => true, (e: unknown) => e), () => false as unknown).then((w) =>
          w === true ? run(on, q, watch, again, deadline, answer) : w === false ? failed(q)(poolTimeout('the statement was not sent')) : notConnected(q)(w))
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
      // Every statement is watched (see `watchQuery`): a pooled one gives up unsent after
      // acquireTimeout (PoolTimeout), and any one that was sent and hears nothing for
      // answerTimeout ends with its connection. Settled, it is marked so for the watchdog: the
      // two handlers share one context (one settling both, tested, allocated about 260 bytes
      // more per statement than these two).
      const pooled = on === pool
      const until = pooled ? deadline ?? performance.now() + acquireTimeout : Infinity
      watchQuery(query, until)
      return query.then((r: PgResult | PgResult[]) => {
        query.canceller = null
        // No command of its own: the first answer of the connection's next session, not this
        // statement's (see `unanswered`).
        if ((r as PgResult).command === null && unanswered(q)) return { _tag: 'Left', left: withStatement(connectionLost(), q.sql, q.params, redact) } as Either<DbError, A>
        if (pooled) pooledAnswered()
        return answer(r)
      }, (e: unknown) => {
        const expired = query.canceller === EXPIRED
        query.canceller = null
        if (expired) return { _tag: 'Left', left: withStatement(answerLost(), q.sql, q.params, redact) } as Either<DbError, A>
        if (e === CONNECTION_LOST) return { _tag: 'Left', left: withStatement(connectionLost(), q.sql, q.params, redact) } as Either<DbError, A>
        if (e === UNSENT) return failed(q)(poolTimeout('the statement was not sent'))
        // The statement never ran: run it once more on the reconnected session (within the same limit).
        if (!again && staleSessionError(query, e)) return run(on, q, watch, true, pooled ? until : undefined, answer)
        const left = withStatement(self.classifyError(e), q.sql, q.params, redact)
        if (pooled) observe(query, left)
        return { _tag: 'Left', left } as Either<DbError, A>
      })
    }

    /** A pooled statement was answered: the server is up, and the watchdog forgets what settled. */
    const pooledAnswered = (): void => {
      if (down !== undefined) observe(undefined, undefined)
      dropSettled()
    }

    /** `p`, or `onLate()` when `p` takes longer than acquireTimeout. */
    const withinAcquireTimeout = <A>(p: Promise<A>, onLate: () => A): Promise<A> => {
      let timer: ReturnType<typeof setTimeout> | undefined
      const late = new Promise<A>((resolve) => { timer = setTimeout(() => resolve(onLate()), acquireTimeout) })
      return Promise.race([p, late]).finally(() => clearTimeout(timer))
    }

    /**
     * The error of a statement whose answer did not come within answerTimeout. With several hosts
     * under TLS (`blind`) its connection is not known, so it is not closed by the driver: the
     * message says so.
     */
    const answerLost = (): DbError =>
      dbError('ConnectionError', blind
        ? `no answer from the server within ${answerTimeout} ms (answerTimeout) of sending the statement, so the outcome is unknown: the statement may have run on the server, or not. The server stopped answering (a frozen host, a network that drops packets), or the connection closed while it was starting; with several hosts under TLS the driver cannot tell its connection from the others and leaves it to postgres.js and the OS; retry only a read or an idempotent write`
        : `no answer from the server within ${answerTimeout} ms (answerTimeout) of sending the statement, so its connection was closed and the outcome is unknown: the statement may have run on the server, or not. The server stopped answering without closing the connection (a frozen host, a network that drops packets); retry only a read or an idempotent write`, { code: 'ANSWER_TIMEOUT', outcome: 'unknown' })

    /** The error of a statement whose connection closed after it was sent and before its answer came. */
    const connectionLost = (): DbError =>
      dbError('ConnectionError', 'the connection closed after the statement was sent and before its answer came, so the outcome is unknown: the statement may have run on the server, or not (the server stopped or restarted, a failover, a cut network); retry only a read or an idempotent write', { code: 'CONNECTION_LOST', outcome: 'unknown' })

    /**
     * The watchdog of statements in flight. One timer serves the whole pool, and a statement
     * costs two array slots (the statement and a number): no timer, promise or object of its
     * own, since a thousand may be in flight at once. The number is, while the statement is
     * unsent, the time it gives up unsent (pooled statements only), and once the watchdog saw the
     * server working on it, minus the time it first saw that.
     *
     * - Unsent: a pooled statement postgres.js has not written to a connection within
     *   acquireTimeout gives up with PoolTimeout. That happens while no host is usable: every
     *   host down, or none of several the one `target_session_attrs` asks for (no primary during
     *   a failover), when postgres.js keeps trying hosts and holds the statement meanwhile. The
     *   statement becomes `SELECT 1`, so that when a connection takes it later nothing of the
     *   caller's runs (postgres.js' own cancel would leave a connection that was opening for it
     *   unusable), and its promise is rejected with `UNSENT`, which `run` answers as PoolTimeout.
     * - Sent: once the server works on it (postgres.js' `active`: the statement its connection
     *   waits for; those pipelined behind it wait their turn and are not counted) and its
     *   connection has read nothing for answerTimeout, the statement fails with `answerLost` and
     *   its connection's socket is destroyed (`expire`): postgres.js fails what else was sent on
     *   it with CONNECTION_CLOSED and opens a new connection when one is needed. The socket is
     *   found by the session's process id and key (`sockets`). The time a statement began to
     *   run is the look that first saw it running, so it ends up to two looks past the bound.
     * - Lost with its connection: postgres.js 3.4 fails what was sent on a connection that closes,
     *   except while that connection is still starting and another host is listed (connection.js
     *   `error`: `if (connection.queue === queues.connecting && options.host[retries + 1])
     *   return`). The statement a new connection was opened for is written before the connection
     *   counts as started, so when its session ends before the answer (a primary stopped, a
     *   failover, a cut network), postgres.js neither answers nor fails it: it waits until the
     *   connection opens again, and is then settled with the first answer of the new session, an
     *   empty success (or that session's stale error). Where the driver opens the sockets and
     *   sees them close (several hosts, without TLS, while answerTimeout is on; see `openSocket`;
     *   with one host postgres.js fails them itself), the close of a session's socket fails, as
     *   soon as postgres.js has handled it, every statement written to that session and not
     *   settled (`orphaned`), with `connectionLost`: a ConnectionError of unknown outcome
     *   (`CONNECTION_LOST`), since it may have run. That is the bound such a statement has: the
     *   close itself, not a time, as postgres.js gives every other statement of a closed
     *   connection. An answer with no command (`unanswered`) is taken for the same loss wherever
     *   it comes. With several hosts under TLS (`blind`: the close is not seen) the lost statement
     *   is the one its connection was waiting for, postgres.js' `active` (a connection that is
     *   starting carries no other), so the rule for running statements above bounds it: it ends
     *   with `answerLost` at answerTimeout at the latest, and alone (`expire`).
     */
    const inFlight: (PendingQuery | undefined)[] = []
    const marks: number[] = []
    let head = 0
    let watchdog: ReturnType<typeof setTimeout> | undefined
    let watchdogAt = Infinity

    /** Milliseconds between two looks at running statements: a few per answerTimeout, at most a second. */
    const tick = answerTimeout > 0 ? Math.min(1_000, Math.max(10, Math.floor(answerTimeout / 8))) : Infinity

    const watchQuery = (query: PendingQuery, deadline: number): void => {
      inFlight.push(query)
      marks.push(deadline)
      if (watchdog === undefined) armWatchdog(deadline)
    }

    /** Whether the watchdog is done with a statement: settled, or (with no answer deadline) sent. */
    const finished = (query: PendingQuery): boolean => query.canceller === null || (tick === Infinity && query.state != null)

    /** Forget the statements at the front of the queue that are finished (see `finished`). */
    const dropSettled = (): void => {
      while (head < inFlight.length && finished(inFlight[head]!)) inFlight[head++] = undefined
      if (head === inFlight.length) {
        inFlight.length = 0
        marks.length = 0
        head = 0
      } else if (head > 1024 && head * 2 > inFlight.length) {
        inFlight.splice(0, head)
        marks.splice(0, head)
        head = 0
      }
    }

    /** Arm the timer for `until` (a time), or sooner for the next look at running statements. */
    const armWatchdog = (until: number): void => {
      const now = performance.now()
      const at = Math.min(until, now + tick)
      if (at === Infinity || (watchdog !== undefined && watchdogAt <= at)) return
      if (watchdog !== undefined) clearTimeout(watchdog)
      watchdogAt = at
      // Unreferenced: a statement in flight keeps the process alive by itself (its socket).
      watchdog = setTimeout(sweep, Math.max(0, at - now))
      watchdog.unref()
    }

    /** Look at every statement in flight (see the watchdog above); keep those not finished. */
    const sweep = (): void => {
      watchdog = undefined
      watchdogAt = Infinity
      const now = performance.now()
      hear(now)
      let next = Infinity
      let kept = 0
      for (let i = head; i < inFlight.length; i++) {
        const query = inFlight[i]!
        let mark = marks[i]!
        if (finished(query)) continue
        if (query.state == null) {
          if (mark <= now) {
            query.strings = ['SELECT 1']
            query.args = []
            query.options = { ...query.options, simple: true, prepare: false }
            // Settles the caller's promise now (a statement answered already stays as it was).
            query.reject(UNSENT)
            continue
          }
          if (mark < next) next = mark
        } else if (query.cursorRows !== undefined) {
          // A stream's batches are watched by the stream itself (`streaming`).
          continue
        } else if (query.canceller === EXPIRED) {
          // Its socket was destroyed a look ago and postgres.js has not failed it: fail it here.
          query.reject(ANSWER_LOST)
          continue
        } else if (query.active === true) {
          if (mark >= 0) mark = -now
          // Kept: the next look fails it if postgres.js has not.
          else if (now - Math.max(-mark, heardFrom(query.state)) >= answerTimeout) expire(query, now)
        }
        inFlight[kept] = query
        marks[kept++] = mark
      }
      inFlight.length = kept
      marks.length = kept
      head = 0
      for (const s of streaming) {
        const query = s.query
        if (query.canceller === EXPIRED) {
          query.reject(ANSWER_LOST)
          continue
        }
        if (s.since === 0 || query.state == null || query.canceller === null) continue
        if (now - Math.max(s.since, heardFrom(query.state)) >= answerTimeout) expire(query, now)
      }
      if (kept > 0 || streaming.size > 0) armWatchdog(next)
    }

    /**
     * Streams waiting for a batch from the server (`since`: when it was asked for; 0 while the
     * caller holds a batch, which is no wait for the server).
     */
    const streaming = new Set<{ readonly query: PendingQuery; since: number }>()

    /**
     * End a statement that heard nothing for answerTimeout, and the connection it went out on.
     * Its socket is destroyed, and postgres.js fails the statement (and those sent behind it)
     * when the socket has closed, which it reports only after it took the connection out of
     * use: were the statement failed first, the caller's next one could be handed to the closing
     * connection. The statement is marked `EXPIRED`, so that it fails as `answerLost` whatever
     * postgres.js says; when the driver has no socket of it (no sockets, or several hosts under
     * TLS: `blind`), it fails at once and nothing is closed, and when postgres.js has not failed
     * it by the watchdog's next look, it fails then.
     */
    const expire = (query: PendingQuery, now: number): void => {
      const s = socketOf(query.state)
      if (s !== undefined) {
        query.canceller = EXPIRED
        s.socket.destroy()
        return
      }
      // Several hosts under TLS: the statement's connection cannot be told from the others (and
      // may be closed already, its statement left waiting by postgres.js): it fails alone.
      if (sockets.size === 0 || blind) {
        query.canceller = EXPIRED
        query.reject(ANSWER_LOST)
        return
      }
      // The session is not known (TLS hides it): close every socket that has read nothing for
      // answerTimeout (its own is one of them; an idle one costs a reconnect). When none has,
      // its own connection is reading (a long answer arriving): it goes on.
      for (const t of sockets) {
        if (now - t.heard < answerTimeout) continue
        query.canceller = EXPIRED
        t.socket.destroy()
      }
    }

    /**
     * The pool's sockets, when this driver opens them (see `openSocket`), with the session each
     * carries (process id and secret key, read from the server's BackendKeyData at startup) and
     * when it last read a byte (looked at by the watchdog: its `bytesRead` moved).
     */
    const sockets = new Set<TrackedSocket>()
    const bySession = new Map<string, TrackedSocket>()

    const hear = (now: number): void => {
      for (const t of sockets) {
        if (t.socket.destroyed) {
          forget(t)
          continue
        }
        const n = t.socket.bytesRead
        if (n !== t.bytes) {
          t.bytes = n
          t.heard = now
        }
      }
    }

    const forget = (t: TrackedSocket): void => {
      sockets.delete(t)
      if (t.session !== undefined && bySession.get(t.session) === t) bySession.delete(t.session)
    }

    const sessionKey = (state: unknown): string | undefined => {
      const b = state as { pid?: unknown; secret?: unknown } | null
      return b === null || typeof b !== 'object' || b.pid == null ? undefined : `${String(b.pid)}:${String(b.secret)}`
    }

    const socketOf = (state: unknown): TrackedSocket | undefined => {
      const key = sessionKey(state)
      return key === undefined ? undefined : bySession.get(key)
    }

    /** When the connection of a session last read a byte; 0 when unknown (its statement's own time counts). */
    const heardFrom = (state: unknown): number => socketOf(state)?.heard ?? 0

    /**
     * After postgres.js handled the close of a session's socket: fail every statement written to
     * that session and still not settled, which postgres.js left waiting (see the watchdog, "Lost
     * with its connection"). The driver's close listener runs first, before postgres.js' own in
     * the same event; this runs from `setImmediate`, after postgres.js' listener has rejected the
     * statements it fails and after the microtasks those rejections run (their handlers set
     * `canceller` to null), so only what postgres.js left is failed here. Only a statement whose
     * `state` names the session was written to it; one never written is postgres.js' to send
     * elsewhere.
     */
    const orphaned = (t: TrackedSocket): void => {
      for (let i = head; i < inFlight.length; i++) {
        const query = inFlight[i]
        if (query !== undefined && !finished(query) && sessionKey(query.state) === t.session) query.reject(CONNECTION_LOST)
      }
      for (const s of streaming) if (s.query.canceller !== null && sessionKey(s.query.state) === t.session) s.query.reject(CONNECTION_LOST)
    }

    /** Which host the pool's next socket goes to (an index into postgres.js' `host`; see `openSocket`). */
    let hostAt = 0

    /**
     * postgres.js' `socket` option: a socket to one of the pool's hosts, opened as postgres.js
     * would, and tracked (see `sockets`). Until the session is started and accepted, its
     * messages are read for the BackendKeyData that names the session, the parameters postgres.js
     * checks target_session_attrs with, and the ReadyForQuery messages that end each step (with
     * TLS they cannot be read: `expire` then falls back on silence). Its close fails what
     * postgres.js left waiting on it (`orphaned`).
     *
     * Several hosts: given a socket, postgres.js leaves the choice of host to it. The pool goes
     * to the host that last accepted a session (`hostAt`), and moves on to the next one when a
     * socket to that host closes before its session was accepted: refused, dropped by
     * postgres.js for target_session_attrs (a standby when read-write is asked), or gone while
     * starting. So, as postgres.js' own sockets do, an attempt after a failed one tries the next
     * host; unlike them, a pool keeps opening its connections on the host that works.
     */
    const openSocket = (o: SocketOptions): net.Socket => {
      const n = o.host.length
      // As postgres.js decides (a truthy `ssl` makes it wrap the socket in TLS), from its own
      // reading of the options, the URL and the environment.
      blind = n > 1 && Boolean(o.ssl)
      // Under TLS postgres.js takes over the socket's listeners, so its close is not seen here:
      // with several hosts each socket then goes to the next host, as postgres.js' own would.
      const host = (n > 1 && o.ssl ? hostAt++ : hostAt) % Math.max(1, n)
      const socket = o.path ? net.connect(o.path) : net.connect(o.port[host] ?? o.port[0] ?? 5432, o.host[host] ?? 'localhost')
      // What postgres.js sets on its own sockets (its errors and TLS read them).
      Object.assign(socket, { host: o.host[host], port: o.port[host] ?? o.port[0] })
      const t: TrackedSocket = { socket, bytes: 0, heard: performance.now(), session: undefined, accepted: false }
      sockets.add(t)
      // The start-up (see `startupBegins`) ends with the answer to postgres.js' type query (the
      // ReadyForQuery after it), when the socket closes, or at the latest after the time postgres.js
      // gives a connection to open plus answerTimeout (under TLS, where messages are not read, so).
      const startedUp = startupBegins()
      const bound = setTimeout(startedUp, (o.connect_timeout ?? 30) * 1000 + answerTimeout)
      bound.unref()
      const ended = (): void => {
        clearTimeout(bound)
        startedUp()
      }
      socket.once('close', () => {
        forget(t)
        ended()
        if (!t.accepted && !o.ssl && hostAt % n === host) hostAt = (host + 1) % n
        // With one host postgres.js fails what was sent on a closed connection itself.
        if (t.session !== undefined && n > 1) setImmediate(orphaned, t)
      })
      if (!o.ssl) {
        // postgres.js' start-up: the session's ReadyForQuery; with target_session_attrs, its
        // check, which needs a query of its own (one ReadyForQuery more) when the server did not
        // report in_hot_standby and default_transaction_read_only (before PostgreSQL 14); then
        // its type query, one more. The session is accepted at the first ReadyForQuery past the
        // check: the type query's, or else a statement's.
        let reported = 0
        let standby: string | undefined
        let readies = 0
        let checked = 0
        let last = 0
        let pending: Buffer | undefined
        const read = (chunk: Buffer): void => {
          let b = pending === undefined ? chunk : Buffer.concat([pending, chunk])
          pending = undefined
          while (b.length >= 5) {
            const length = b.readUInt32BE(1)
            if (b.length < length + 1) break
            if (b[0] === 0x4b /* K: BackendKeyData */ && length === 12) {
              // As postgres.js reads them (its `state`, which `sessionKey` names the same way).
              t.session = `${b.readUInt32BE(5)}:${b.readUInt32BE(9)}`
              bySession.set(t.session, t)
            } else if (b[0] === 0x53 /* S: ParameterStatus */ && readies === 0) {
              const end = Math.max(5, b.indexOf(0, 5))
              const name = b.toString('latin1', 5, end)
              if (name === 'in_hot_standby') {
                reported |= 1
                standby = b.toString('latin1', end + 1, Math.max(end + 1, b.indexOf(0, end + 1)))
              } else if (name === 'default_transaction_read_only') reported |= 2
            } else if (b[0] === 0x5a /* Z: ReadyForQuery */) {
              if (++readies === 1) {
                // A session of the kind target_session_attrs excludes is postgres.js' to end, and
                // it does, unless it skips its check: it does when the connection's previous
                // session ended with an error (57P01, a session ended by the server), which it
                // keeps and hands to this session's first answer. It would then use a standby
                // for writes (every one refused, read-only) for as long as the connection
                // lives. Such a session is closed here, before postgres.js reads this message;
                // it was not accepted, so the next socket goes to the next host.
                if ((o.target_session_attrs === 'primary' && standby === 'on') || (o.target_session_attrs === 'standby' && standby === 'off')) {
                  stopReading()
                  // Destroyed here, the chunk is not handed on (see the wrapper below).
                  socket.destroy()
                  return
                }
                checked = 1 + (o.target_session_attrs && reported !== 3 ? 1 : 0)
                last = checked + (o.fetch_types === false ? 0 : 1)
              }
              if (readies > checked) t.accepted = true
              if (readies === last) {
                ended()
                for (const f of [...startedUpListeners]) f()
              }
              if (readies >= last && t.accepted) {
                stopReading()
                return
              }
            } else if (b[0] === 0x45 /* E: ErrorResponse */ && t.session === undefined) {
              // The session refused: the socket closes.
              stopReading()
              ended()
              return
            }
            b = b.subarray(length + 1)
          }
          if (b.length > 0) pending = Buffer.from(b)
        }
        // Each chunk is read here before postgres.js sees it, and handed on only while the socket
        // is not destroyed: a session closed at its first ReadyForQuery (above) must not reach
        // postgres.js, which would take that message as the session's start (failing its first
        // statement with the previous session's stale error and putting the dead connection back
        // in use). A listener of 'data' cannot do that: postgres.js adds its own after this one,
        // and an event's listeners all run even when one of them destroys the socket. The
        // wrapper is removed once the session is accepted or refused (no cost after start-up).
        const emit = socket.emit
        const wrapper = function (this: net.Socket, event: string | symbol, ...args: unknown[]): boolean {
          if (event === 'data') {
            read(args[0] as Buffer)
            if (socket.destroyed) return false
          }
          return Reflect.apply(emit, this, [event, ...args]) as boolean
        }
        const stopReading = (): void => {
          // Back to the prototype's method (the socket had no emit of its own).
          if (socket.emit === wrapper) Reflect.deleteProperty(socket, 'emit')
        }
        socket.emit = wrapper
      }
      return socket
    }

    /** Called when a connection of the pool has started up (see `openSocket`; not under TLS). */
    const startedUpListeners = new Set<() => void>()

    /**
     * `p.reserve()`, asked again when a connection starts up and the reservation is still not
     * served. postgres.js 3.4 loses a reservation when the connection opened for it fails during
     * its start-up: it reopens that connection for the reservation, and then, after its type
     * query, hands the connection to the pool without serving the reservation, which waits for
     * ever (here: until acquireTimeout, a PoolTimeout, although the server is back). A reservation
     * served after another one was is given back at once. Asking again is done only where the
     * driver opens its sockets, which is where it sees start-ups end.
     *
     * @example const c = await reserveSurely(pool) // a ReservedSql
     */
    const reserveSurely = (p: PostgresJsSql): Promise<postgresJsClient.ReservedSql<Record<string, unknown>>> =>
      new Promise((resolve, reject) => {
        let done = false
        const finish = (): boolean => {
          if (done) return false
          done = true
          startedUpListeners.delete(again)
          return true
        }
        const ask = (): void => {
          p.reserve().then((c) => (finish() ? resolve(c) : c.release()), (e: unknown) => {
            if (finish()) reject(e)
          })
        }
        // After postgres.js' own handling of the start-up: it serves a waiting reservation then.
        // A few times at most: each ask waits in postgres.js' queue until served.
        let asks = 1
        const again = (): void => {
          setImmediate(() => {
            if (!done && !closed && asks++ < 4) ask()
          })
        }
        startedUpListeners.add(again)
        ask()
      })

    /** Run on the pool; a closed driver answers Left instead of throwing. */
    const execute = (q: Compiled): TaskEither<DbError, QueryResult> => () => runPooled(q)

    const runPooled = <A = QueryResult>(q: Compiled, answer: (r: PgResult | PgResult[]) => Either<DbError, A> = toResult as never): Promise<Either<DbError, A>> => {
      let p: PostgresJsSql
      try {
        p = sql()
      } catch (e) {
        // postgres.js not installed: the error names the package, and no statement was sent.
        return Promise.resolve(missingClientLibrary(e) ? { _tag: 'Left', left: e as DbError } : failed(q)(e))
      }
      const refused = admit(false)
      if (refused === undefined) return run(p, q, undefined, false, undefined, answer)
      if (!(refused instanceof Promise)) return Promise.resolve(failed(q)(refused))
      return refused.then((e) => (e === undefined ? run(p, q, undefined, false, undefined, answer) : failed(q)(e)))
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
          if (pooled) watchQuery(query as PendingQuery, performance.now() + acquireTimeout)
        } catch (e) {
          throw withStatement(self.classifyError(e), q.sql, q.params, redact)
        }
        // The answer deadline counts while a batch is asked for, not while the caller holds one.
        const asking = tick === Infinity ? undefined : { query: query as PendingQuery, since: 0 }
        if (asking !== undefined) streaming.add(asking)
        const failure = (e: unknown): DbError =>
          withStatement(e === ANSWER_LOST || (query as PendingQuery).canceller === EXPIRED ? answerLost() : e === CONNECTION_LOST ? connectionLost() : self.classifyError(e), q.sql, q.params, redact)
        let done = false
        let rows = 0
        try {
          for (;;) {
            let next: IteratorResult<Row[]>
            try {
              if (asking !== undefined) {
                asking.since = performance.now()
                armWatchdog(Infinity)
              }
              next = await it.next()
            } catch (e) {
              done = true
              if (e === UNSENT) throw withStatement(poolTimeout('the stream was not sent'), q.sql, q.params, redact)
              if (rows === 0 && attempt === 0 && staleSessionError(query, e)) break
              throw failure(e)
            } finally {
              if (asking !== undefined) asking.since = 0
            }
            if (next.done) {
              done = true
              if (lost !== undefined) throw failure(lost.error)
              return
            }
            rows += next.value.length
            yield compact(next.value)
          }
        } finally {
          if (asking !== undefined) streaming.delete(asking)
          ;(query as PendingQuery).canceller = null
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
        // The driver opens the sockets itself, to close the one of a statement that heard no
        // answer within answerTimeout (postgres.js offers no other way to), and to fail what
        // postgres.js leaves waiting on a connection that closed (`orphaned`); with several
        // hosts it picks the host too. With several hosts under TLS it sees neither the session
        // nor the close (`blind`): a statement lost with its connection then ends at
        // answerTimeout at the latest, as any running statement does, and its connection is left
        // to postgres.js and the OS's TCP limits.
        if (ownSockets) o.socket = openSocket
        // postgres.js 3.4 takes `read-write` to mean default_transaction_read_only = off, which
        // a PostgreSQL 14+ hot standby also reports: it would connect to a standby. A standby is
        // what read-write must exclude, so ask for the primary (in_hot_standby = off).
        const attrs = options.client?.target_session_attrs ?? (options.url === undefined ? undefined : targetSessionAttrs(options.url))
        return { ...o, ...options.client, ...(attrs === 'read-write' ? { target_session_attrs: 'primary' } : {}) } as PostgresJsClientOptions
      },

      sql,

      execute,

      firstRow: { of: execute, run: (q) => runPooled(q, firstOfResult) },

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
          reserving = reserveSurely(p)
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
          // postgres.js ends a connection it cut with a last message: on a frozen network the
          // socket would wait for ever for the server's side (and keep the process alive).
          for (const t of sockets) t.socket.destroy()
          return { _tag: 'Right', right: undefined }
        } catch (e) {
          return { _tag: 'Left', left: self.classifyError(e) }
        }
      },
    }
  })
}
