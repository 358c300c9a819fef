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
 * - `stream` reads through a cursor (`.cursor(batchSize)`); ending the iteration early closes
 *   the cursor and gives the connection back.
 * - Every new connection is set up with `connectionParameters()` (an overridable field), sent
 *   as startup parameters: any setting `SET` could change (`search_path`, `statement_timeout`,
 *   `lock_timeout`, `application_name`, ...). postgres.js 3.4 has no hook that runs SQL on each
 *   new connection, so this is the set-up hook.
 * - Errors are classified by SQLSTATE (`classifyPostgresError`), keeping the constraint or
 *   column the server names.
 *
 * Value policy (what comes back):
 * - `int8` (bigint, `count(*)`): `'safe'` (default) gives a number, or a BigInt for values
 *   beyond 2^53, so nothing loses precision; `'bigint'` always BigInt; `'string'` always text;
 *   `'number'` always number (may lose precision). `int2`, `int4`, `float4/8`, `oid`: numbers.
 * - `numeric` / `decimal`: strings, exactly as the server prints them.
 * - `timestamptz`: Date. `timestamp` (without time zone): Date, read as UTC wall-clock time.
 *   `date`: Date at UTC midnight. `time`, `interval`: strings. Connections use the `UTC` time
 *   zone by default (option `timeZone`), so a Date bound into a `timestamp` column stores its
 *   UTC wall-clock time and reads back as the same instant.
 * - `json` / `jsonb`: parsed (`JSON.parse`: a JSON number beyond 2^53 is rounded). `bytea`: Buffer. `uuid`: string. `boolean`: boolean. Arrays:
 *   JS arrays of the element values.
 *
 * What goes in: the dialect's `toDriver` (src/dialects/postgres.ts) decides. Here, a string is
 * always sent as it is and read by the server as the parameter's type (postgres.js would
 * otherwise re-encode a string bound to a json, bytea, boolean or timestamp parameter).
 */
import type { Either } from 'fp-ts/lib/Either.js'
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import type postgresJsClient from 'postgres'
import { clientLibrary } from './client-library.js'
import type { PostgresJsBaseOptions } from './options.js'
import type { Connection, Driver, QueryResult, Row } from '../driver.js'
import { dbError, type DbError, type DbErrorTag, isDbError, withStatement } from '../errors.js'
import { fix } from '../record.js'
import type { Compiled } from '../sql.js'
import { sqlstateTag } from './sqlstate.js'

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
 * Classify a postgres.js error by SQLSTATE (or by socket error code when the server was never
 * reached). Constraint violations keep the constraint's name; NOT NULL keeps the column's.
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
    const pg = e as { constraint_name?: string; column_name?: string }
    if (tag === 'NotNullViolation') fields.column = pg.column_name
    if (tag === 'UniqueViolation' || tag === 'ForeignKeyViolation' || tag === 'CheckViolation') fields.constraint = pg.constraint_name
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

const isoDate = (x: unknown): string => (x instanceof Date ? x : new Date(x as string | number)).toISOString()

/** postgres.js type handlers for the value policy. Strings pass through every serializer. */
const valueTypes = (int8: NonNullable<PostgresJsOptions['int8']>): Record<string, postgresJsClient.PostgresType> => ({
  rk_int8: { to: 20, from: [20], serialize: passText((x: bigint | number) => String(x)), parse: int8Parsers[int8] },
  rk_bool: { to: 16, from: [16], serialize: passText((x: unknown) => (x ? 't' : 'f')), parse: (x: string) => x === 't' },
  rk_json: { to: 3802, from: [114, 3802], serialize: passText((x: unknown) => JSON.stringify(x)), parse: (x: string) => JSON.parse(x) },
  rk_bytea: {
    to: 17,
    from: [17],
    serialize: passText((x: Uint8Array) => `\\x${Buffer.from(x).toString('hex')}`),
    parse: (x: string) => Buffer.from(x.slice(2), 'hex'),
  },
  rk_timestamptz: { to: 1184, from: [1184], serialize: passText(isoDate), parse: (x: string) => new Date(x) },
  rk_timestamp: { to: 1114, from: [1114], serialize: passText(isoDate), parse: (x: string) => new Date(`${x.replace(' ', 'T')}Z`) },
  rk_date: { to: 1082, from: [1082], serialize: passText(isoDate), parse: (x: string) => new Date(x) },
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

/** Cleaned `server_version`: `15.4` of `15.4 (Debian 15.4-1.pgdg120+1)`. */
const versionOf = (v: string): string => v.trim().split(/\s+/)[0] ?? v

// ---------------------------------------------------------------- the driver

/**
 * postgres.js refuses statements with 65,534 parameters or more, and when it does so while
 * other statements are in flight on the connection it fails one of those instead; so the
 * driver refuses them itself, before they reach postgres.js.
 */
const MAX_PARAMS = 65533

const tooManyParams = (q: Compiled): DbError =>
  dbError('QueryError', `a statement may have at most ${MAX_PARAMS} parameters, this one has ${q.params.length}`, { code: 'MAX_PARAMETERS_EXCEEDED' })

/** What this driver touches of a postgres.js connection: the close callback `sql.begin` uses too. */
interface ClientConnection {
  onclose: ((e: unknown) => void) | null
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

    const sql = (): PostgresJsSql => {
      if (pool === undefined) {
        const client = clientLibrary<typeof postgresJsClient>('postgres', 'postgres', 'PostgreSQL (postgres.js)')
        const o = self.clientOptions()
        pool = (options.url === undefined ? client(o) : client(options.url, o)) as unknown as PostgresJsSql
      }
      return pool
    }

    /** Undefined once the array types are known; until then the promise that loads them. */
    const ready = (): Promise<void> | undefined => {
      if (typesReady) return undefined
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

    const run = (on: PostgresJsSql, q: Compiled, watch?: Watch): Promise<Either<DbError, QueryResult>> => {
      if (q.params.length > MAX_PARAMS) return Promise.resolve(failed(q)(tooManyParams(q)))
      const wait = ready()
      if (wait !== undefined) return wait.then(() => run(on, q, watch), failed(q))
      try {
        const prepare = self.prepareStatement(q)
        const queryOptions = watch === undefined ? { prepare } : { prepare, onexecute: watch }
        return (on.unsafe(q.sql, q.params as never[], queryOptions) as unknown as Promise<PgResult>).then(toResult, failed(q))
      } catch (e) {
        return Promise.resolve(failed(q)(e))
      }
    }

    const iterate = async function* (on: PostgresJsSql, q: Compiled, batchSize: number): AsyncGenerator<readonly Row[]> {
      let it: AsyncIterator<Row[]>
      try {
        if (q.params.length > MAX_PARAMS) throw tooManyParams(q)
        await ready()
        it = on.unsafe(q.sql, q.params as never[], { prepare: self.prepareStatement(q) }).cursor(batchSize)[Symbol.asyncIterator]()
      } catch (e) {
        throw withStatement(self.classifyError(e), q.sql, q.params, redact)
      }
      let done = false
      try {
        for (;;) {
          let next: IteratorResult<Row[]>
          try {
            next = await it.next()
          } catch (e) {
            done = true
            throw withStatement(self.classifyError(e), q.sql, q.params, redact)
          }
          if (next.done) {
            done = true
            return
          }
          yield compact(next.value)
        }
      } finally {
        // Stopped early: close the cursor, which gives the connection back.
        if (!done) await it.return?.()
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
    const held = (r: postgresJsClient.ReservedSql<Record<string, unknown>>): Connection => {
      let released = false
      let watched: ClientConnection | undefined
      let closedBy: unknown
      const onClose = (e: unknown): void => {
        closedBy = e ?? new Error('connection closed')
      }
      const watch: Watch = (c) => {
        if (watched === undefined) {
          watched = c
          c.onclose = onClose
        }
        return true
      }
      const gone = (q: Compiled): DbError =>
        withStatement(dbError('ConnectionError', `the connection was closed: ${closedBy instanceof Error ? closedBy.message : String(closedBy)}`, { cause: closedBy, code: codeOf(closedBy) }), q.sql, q.params, redact)
      const on = r as unknown as PostgresJsSql
      return {
        execute: (q) => () => (closedBy !== undefined ? Promise.resolve({ _tag: 'Left', left: gone(q) }) : run(on, q, watched === undefined ? watch : undefined)),
        stream: (q, o) => ({
          [Symbol.asyncIterator]: () => {
            if (closedBy !== undefined) throw gone(q)
            return iterate(on, q, o?.batchSize ?? 500)
          },
        }),
        release: async () => {
          if (released) return
          released = true
          if (watched !== undefined && watched.onclose === onClose) watched.onclose = null
          if (closedBy === undefined) r.release()
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
          types: valueTypes(options.int8 ?? 'safe'),
          connection: self.connectionParameters(),
          onnotice: options.onNotice ?? (() => {}),
          // Keep postgres.js' own type fetch on connect: with it off, a `reserve()` that opens a
          // new connection never resolves (3.4.9). Its array parsers are replaced by ours anyway.
          fetch_types: true,
          connect_timeout: options.connectTimeout ?? 30,
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
        return { ...o, ...options.client } as PostgresJsClientOptions
      },

      sql,

      execute: (q): TaskEither<DbError, QueryResult> => () => {
        try {
          return run(sql(), q)
        } catch (e) {
          return Promise.resolve({ _tag: 'Left', left: withStatement(self.classifyError(e), q.sql, q.params, redact) })
        }
      },

      stream: (q, o) => ({ [Symbol.asyncIterator]: () => iterate(sql(), q, o?.batchSize ?? 500) }),

      reserve: () => async () => {
        try {
          await ready()
          return { _tag: 'Right', right: held(await sql().reserve()) }
        } catch (e) {
          return { _tag: 'Left', left: self.classifyError(e) }
        }
      },

      version: () => async () => {
        let p: PostgresJsSql
        try {
          p = sql()
        } catch (e) {
          return { _tag: 'Left', left: self.classifyError(e) }
        }
        const r = await run(p, { sql: "SELECT current_setting('server_version') AS v", params: [] })
        return r._tag === 'Left' ? r : { _tag: 'Right', right: versionOf(String(r.right.rows[0]?.v)) }
      },

      classifyError: classifyPostgresError,

      close: () => async () => {
        const p = pool
        pool = undefined
        typesReady = false
        typesLoading = undefined
        try {
          if (p !== undefined) await p.end({ timeout: options.closeTimeout ?? 5 })
          return { _tag: 'Right', right: undefined }
        } catch (e) {
          return { _tag: 'Left', left: self.classifyError(e) }
        }
      },
    }
  })
}
