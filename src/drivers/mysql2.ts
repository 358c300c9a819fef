/**
 * The mysql2 driver: a pool of MySQL or MariaDB connections, served through TaskEither.
 *
 * - Statements run as server-side prepared statements (`execute`, cached per connection by
 *   mysql2); `prepare: false` sends the SQL text with parameters escaped client-side
 *   (`query`). Transaction control without parameters (`START TRANSACTION`, `SAVEPOINT ...`)
 *   always goes as text, so it neither fills the statement cache nor meets a server that
 *   cannot prepare it (errno 1295 falls back to text too).
 * - Every connection is set up once, when first handed out, by the `onConnect` field
 *   (default: `SET time_zone = '+00:00'`); override it with `extend`.
 * - `stream` reads a result row by row with backpressure on a connection held for the
 *   duration. Ending early destroys that connection (the pool opens a fresh one) rather than
 *   reading the rest; inside a transaction the rest is read and dropped, so the transaction's
 *   connection stays usable.
 * - Errors are classified by errno (see `classifyMysqlError`); failing to obtain a
 *   connection is always a ConnectionError.
 *
 * Value policy (what comes back):
 * - BIGINT and DECIMAL: strings, always (`supportBigNumbers` + `bigNumberStrings`), so no
 *   value loses precision and a column's JS type never depends on its magnitude; this
 *   includes `COUNT(*)` and `SUM()`. `bigNumbers: 'safe'` gives numbers for BIGINTs within
 *   2^53 and strings beyond (DECIMAL stays a string).
 * - DATETIME and TIMESTAMP: `Date`, read as UTC (`timezone: 'Z'`, and the session time zone
 *   is UTC); DATE: the `'YYYY-MM-DD'` string (`dateStrings: ['DATE']`), since a calendar date
 *   has no instant; TIME: a string.
 * - BOOLEAN is TINYINT(1): 1 and 0. JSON: parsed (MySQL's JSON type, and MariaDB's through
 *   its extended column metadata). BLOB: Buffer. CHAR/VARCHAR/TEXT: strings (utf8mb4).
 * - DOUBLE: the same number. FLOAT is single precision: `execute` returns the stored float
 *   widened to a double (1.1 reads 1.100000023841858), `query` the server's shortest text of
 *   it (1.1); use DOUBLE where that matters.
 *
 * Rows affected: UPDATE counts matched rows (CLIENT_FOUND_ROWS), changed or not; an upsert
 * (`ON DUPLICATE KEY UPDATE`) counts 1 per inserted row, 2 per updated row and 1 per row
 * left as it was. `insertId` is the first generated key of the last INSERT, when there is one.
 *
 * LIMIT and OFFSET are bound as numbers. MariaDB reports no parameter types and accepts a
 * number there; MySQL 8.0.22+, which rejects a DOUBLE there, reports the parameter as an
 * integer, and mysql2 (3.24+) then binds it as one.
 */
import type { EventEmitter } from 'node:events'
import type { Readable } from 'node:stream'
import * as E from 'fp-ts/lib/Either.js'
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import type mysql from 'mysql2/promise'
import type { Pool, PoolConnection, PoolOptions, ResultSetHeader } from 'mysql2/promise'
import type { Connection, Driver, QueryResult, Row } from '../driver.js'
import { dbError, type DbError, type DbErrorTag, isDbError, withStatement } from '../errors.js'
import { fix } from '../record.js'
import { clientLibrary } from './client-library.js'
import type { Mysql2BaseOptions } from './options.js'

export type { Mysql2BaseOptions } from './options.js'
import type { Compiled } from '../sql.js'

/** Options of the mysql2 driver. */
export interface Mysql2Options extends Mysql2BaseOptions {
  /**
   * Any other mysql2 pool option (ssl, connectTimeout, maxIdle, idleTimeout, ...). The value
   * policy above is not overridable here: `timezone`, `supportBigNumbers`,
   * `bigNumberStrings`, `decimalNumbers` and `dateStrings` are always the driver's.
   */
  readonly pool?: PoolOptions
}

/** The mysql2 Driver record, with its connection set-up as an overridable field. */
export interface Mysql2Driver extends Driver {
  /** Runs once on each new connection before its first use (SET statements go here). */
  readonly onConnect: (connection: PoolConnection) => Promise<void>
  /** The underlying mysql2 pool (created on first use). */
  readonly pool: () => Pool
}

// ---------------------------------------------------------------- errors

const ERRNO_TAGS: Readonly<Record<number, DbErrorTag>> = {
  1062: 'UniqueViolation', // ER_DUP_ENTRY
  1586: 'UniqueViolation', // ER_DUP_ENTRY_WITH_KEY_NAME
  1451: 'ForeignKeyViolation', // ER_ROW_IS_REFERENCED_2
  1452: 'ForeignKeyViolation', // ER_NO_REFERENCED_ROW_2
  1216: 'ForeignKeyViolation', // ER_NO_REFERENCED_ROW
  1217: 'ForeignKeyViolation', // ER_ROW_IS_REFERENCED
  1048: 'NotNullViolation', // ER_BAD_NULL_ERROR
  1364: 'NotNullViolation', // ER_NO_DEFAULT_FOR_FIELD
  1263: 'NotNullViolation', // ER_WARN_NULL_TO_NOTNULL (multi-row insert, strict mode)
  3819: 'CheckViolation', // MySQL ER_CHECK_CONSTRAINT_VIOLATED
  4025: 'CheckViolation', // MariaDB ER_CONSTRAINT_FAILED
  1213: 'Deadlock', // ER_LOCK_DEADLOCK (the whole transaction is rolled back)
  1205: 'LockTimeout', // ER_LOCK_WAIT_TIMEOUT (only the statement is rolled back)
  3572: 'LockTimeout', // MySQL ER_LOCK_NOWAIT
  3024: 'StatementTimeout', // MySQL ER_QUERY_TIMEOUT (max_execution_time)
  1969: 'StatementTimeout', // MariaDB ER_STATEMENT_TIMEOUT (max_statement_time)
  1020: 'SerializationFailure', // ER_CHECKREAD (MariaDB snapshot isolation)
  1792: 'TransactionError', // ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION
  1568: 'TransactionError', // ER_CANT_CHANGE_TX_CHARACTERISTICS
  1180: 'TransactionError', // ER_ERROR_DURING_COMMIT
  1181: 'TransactionError', // ER_ERROR_DURING_ROLLBACK
  1040: 'ConnectionError', // ER_CON_COUNT_ERROR
  1044: 'ConnectionError', // ER_DBACCESS_DENIED_ERROR
  1045: 'ConnectionError', // ER_ACCESS_DENIED_ERROR
  1698: 'ConnectionError', // ER_ACCESS_DENIED_NO_PASSWORD_ERROR
  1053: 'ConnectionError', // ER_SERVER_SHUTDOWN
  1152: 'ConnectionError', // ER_ABORTING_CONNECTION
  1153: 'ConnectionError', // ER_NET_PACKET_TOO_LARGE
  1927: 'ConnectionError', // MariaDB ER_CONNECTION_KILLED
  2002: 'ConnectionError', // CR_CONNECTION_ERROR
  2003: 'ConnectionError', // CR_CONN_HOST_ERROR
  2006: 'ConnectionError', // CR_SERVER_GONE_ERROR
  2013: 'ConnectionError', // CR_SERVER_LOST
  2055: 'ConnectionError', // CR_SERVER_LOST_EXTENDED
}

/** Codes mysql2 and Node give to client-side connection failures (they have no server errno). */
const CONNECTION_CODES = new Set([
  'PROTOCOL_CONNECTION_LOST', 'PROTOCOL_SEQUENCE_TIMEOUT', 'PROTOCOL_ENQUEUE_AFTER_FATAL_ERROR',
  'PROTOCOL_ENQUEUE_AFTER_QUIT', 'PROTOCOL_ENQUEUE_HANDSHAKE_TWICE', 'PROTOCOL_INCORRECT_PACKET_SEQUENCE',
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'EAI_AGAIN',
  'HANDSHAKE_NO_SSL_SUPPORT', 'HANDSHAKE_SSL_ERROR',
])

interface MysqlErrorLike {
  readonly errno?: number
  readonly code?: string
  readonly sqlMessage?: string
  readonly fatal?: boolean
}

const unquote = (s: string | undefined, q: string): string | undefined => (s === undefined ? undefined : s.split(q + q).join(q))

/** The constraint or column the server names in the message its errno fixes. */
const detailOf = (errno: number, message: string): Record<string, string | undefined> => {
  switch (errno) {
    case 1062:
    case 1586: {
      // MariaDB: for key 'uq_email'; MySQL 8.0.19+: for key 'users.uq_email'.
      const key = /for key '((?:[^']|'')*)'/.exec(message)?.[1]
      const name = unquote(key, "'")
      return { constraint: name !== undefined && name.includes('.') ? name.slice(name.indexOf('.') + 1) : name }
    }
    case 1451:
    case 1452:
    case 1216:
    case 1217:
      return { constraint: unquote(/CONSTRAINT `((?:[^`]|``)*)`/.exec(message)?.[1], '`') }
    case 1048:
    case 1263:
      return { column: unquote(/Column '((?:[^']|'')*)'/.exec(message)?.[1], "'") }
    case 1364:
      return { column: unquote(/Field '((?:[^']|'')*)'/.exec(message)?.[1], "'") }
    case 3819:
      return { constraint: unquote(/Check constraint '((?:[^']|'')*)'/.exec(message)?.[1], "'") }
    case 4025:
      return { constraint: unquote(/CONSTRAINT `((?:[^`]|``)*)`/.exec(message)?.[1], '`') }
    default:
      return {}
  }
}

/**
 * Classify a mysql2 error by the server's errno (or, for client-side failures, mysql2's and
 * Node's error code). The constraint or column named in the message is kept where the errno
 * says the message names one (`constraint` on unique, foreign key and check violations,
 * `column` on NOT NULL ones); a server with non-English messages leaves them undefined.
 *
 * @example classifyMysqlError(e)._tag // 'UniqueViolation' for errno 1062
 */
export const classifyMysqlError = (e: unknown): DbError => {
  if (isDbError(e)) return e
  const m = (typeof e === 'object' && e !== null ? e : {}) as MysqlErrorLike
  const message = m.sqlMessage ?? (e instanceof Error ? e.message : String(e))
  const errno = typeof m.errno === 'number' && m.errno > 0 ? m.errno : undefined
  let tag: DbErrorTag = 'QueryError'
  if (errno !== undefined && ERRNO_TAGS[errno] !== undefined) tag = ERRNO_TAGS[errno]
  else if (typeof m.code === 'string' && CONNECTION_CODES.has(m.code)) tag = 'ConnectionError'
  else if (errno === undefined && m.fatal === true) tag = 'ConnectionError'
  const fields: Record<string, unknown> = { code: errno ?? m.code, cause: e }
  if (errno !== undefined) Object.assign(fields, detailOf(errno, message))
  return dbError(tag as 'QueryError', message, fields)
}

/** A failure to obtain or set up a connection: a ConnectionError whatever the cause. */
const connectionFailure = (e: DbError): DbError =>
  e._tag === 'ConnectionError' ? e : dbError('ConnectionError', `cannot get a connection: ${e.message}`, { code: e.code, cause: e.cause ?? e })

// ---------------------------------------------------------------- results

/** Statements whose rows are changed rows (MariaDB's INSERT/DELETE ... RETURNING). */
const DML = /^\s*(INSERT|REPLACE|UPDATE|DELETE)\b/i
/** Transaction control and session statements, sent as text when they have no parameters. */
const CONTROL = /^\s*(START|BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|SET|LOCK|UNLOCK|XA|USE|DO)\b/i

const ER_UNSUPPORTED_PS = 1295

const toId = (id: unknown): number | bigint | undefined => {
  if (typeof id === 'number') return id > 0 ? id : undefined
  if (typeof id === 'string' && id !== '' && id !== '0') {
    const n = Number(id)
    return Number.isSafeInteger(n) ? n : BigInt(id)
  }
  if (typeof id === 'bigint') return id > 0n ? id : undefined
  return undefined
}

const toResult = (res: unknown, sqlText: string): QueryResult => {
  if (Array.isArray(res)) {
    // A CALL answers with several result sets: the first holds the rows.
    const rows = (res.length > 0 && Array.isArray(res[0]) ? res[0] : res) as Row[]
    // DML with RETURNING (MariaDB) answers with one row per changed row.
    return { rows, rowsAffected: DML.test(sqlText) ? rows.length : 0 }
  }
  const h = res as ResultSetHeader
  const insertId = toId(h.insertId)
  return insertId === undefined ? { rows: [], rowsAffected: h.affectedRows } : { rows: [], rowsAffected: h.affectedRows, insertId }
}

// ---------------------------------------------------------------- the core connection, for streams

/** The parts of mysql2's callback-style connection that streaming needs. */
interface CoreCommand extends EventEmitter {
  stream(options?: { readonly highWaterMark?: number }): Readable
}
interface CoreConnection {
  query(sql: string, values?: unknown): CoreCommand
  execute(sql: string, values?: unknown): CoreCommand
  resume(): void
}
const coreOf = (c: PoolConnection): CoreConnection => (c as unknown as { connection: CoreConnection }).connection

// ---------------------------------------------------------------- the driver

const poolOptions = (o: Mysql2Options): PoolOptions => {
  const base: PoolOptions = { ...o.pool }
  if (o.url !== undefined) base.uri = o.url
  if (o.host !== undefined) base.host = o.host
  if (o.port !== undefined) base.port = o.port
  if (o.user !== undefined) base.user = o.user
  if (o.password !== undefined) base.password = o.password
  if (o.database !== undefined) base.database = o.database
  return {
    ...base,
    connectionLimit: o.max ?? o.connectionLimit ?? o.pool?.connectionLimit ?? 10,
    maxPreparedStatements: o.statementCacheSize ?? o.pool?.maxPreparedStatements ?? 1000,
    timezone: 'Z',
    supportBigNumbers: true,
    bigNumberStrings: (o.bigNumbers ?? 'string') === 'string',
    decimalNumbers: false,
    dateStrings: (o.dateStrings ?? ['DATE']) as PoolOptions['dateStrings'],
  }
}

/**
 * A mysql2 driver for MySQL and MariaDB. The pool is created on first use.
 *
 * @example
 * const db = await run(connect(mysql2({ url: 'mysql://root@localhost:3306/app' }), mysql))
 * const small = mysql2({ host: 'localhost', user: 'app', database: 'app', max: 4, prepare: false })
 */
export const mysql2 = (options: Mysql2Options = {}): Mysql2Driver => {
  const prepare = options.prepare ?? true
  const redact = options.redactParams ?? false
  let pool: Pool | undefined
  // Connections already set up by onConnect (mysql2's own connection objects).
  const ready = new WeakSet<object>()

  return fix<Mysql2Driver>((self) => {
    const getPool = (): Pool => (pool ??= clientLibrary<typeof mysql>('mysql2/promise', 'mysql2', 'MySQL / MariaDB').createPool(poolOptions(options)))

    /** A set-up connection from the pool; rejects with a ConnectionError. */
    const acquire = async (): Promise<PoolConnection> => {
      let conn: PoolConnection
      try {
        conn = await getPool().getConnection()
      } catch (e) {
        throw connectionFailure(self.classifyError(e))
      }
      const core = coreOf(conn)
      if (!ready.has(core)) {
        try {
          await self.onConnect(conn)
          ready.add(core)
        } catch (e) {
          conn.destroy()
          throw connectionFailure(self.classifyError(e))
        }
      }
      return conn
    }

    const fail = (e: unknown, q: Compiled): DbError => withStatement(self.classifyError(e), q.sql, q.params, redact)

    /** Run one statement on a connection we hold; rejects with a DbError. */
    const runOn = async (conn: PoolConnection, q: Compiled): Promise<QueryResult> => {
      const params = q.params as unknown[]
      const asText = !prepare || (params.length === 0 && CONTROL.test(q.sql))
      try {
        const [res] = asText
          ? await conn.query(q.sql, params.length === 0 ? undefined : params)
          : await conn.execute(q.sql, params as never)
        return toResult(res, q.sql)
      } catch (e) {
        if (!asText && (e as MysqlErrorLike).errno === ER_UNSUPPORTED_PS) {
          try {
            const [res] = await conn.query(q.sql, params.length === 0 ? undefined : params)
            return toResult(res, q.sql)
          } catch (e2) {
            throw fail(e2, q)
          }
        }
        throw fail(e, q)
      }
    }

    /**
     * Rows of one statement in batches, on a connection we hold. Returns normally when the
     * result is read to its end or failed; when the consumer stops early, `onEarlyExit`
     * decides what happens to the rest.
     */
    const rowsOn = async function* (
      conn: PoolConnection, q: Compiled, batchSize: number, onEarlyExit: (cmd: CoreCommand, finished: () => boolean) => Promise<void>,
    ): AsyncGenerator<readonly Row[]> {
      const core = coreOf(conn)
      const params = q.params as unknown[]
      let finished = false
      let cmd: CoreCommand
      let rows: Readable
      try {
        cmd = prepare ? core.execute(q.sql, params) : core.query(q.sql, params.length === 0 ? undefined : params)
        cmd.once('end', () => { finished = true })
        rows = cmd.stream({ highWaterMark: batchSize })
      } catch (e) {
        throw fail(e, q)
      }
      let completed = false
      try {
        let batch: Row[] = []
        try {
          for await (const row of rows) {
            batch.push(row as Row)
            if (batch.length >= batchSize) {
              const out = batch
              batch = []
              yield out
            }
          }
        } catch (e) {
          completed = true
          throw fail(e, q)
        }
        completed = true
        if (batch.length > 0) yield batch
      } finally {
        if (!completed) await onEarlyExit(cmd, () => finished)
      }
    }

    /** Read and drop the rest of a result, so the connection can run the next statement. */
    const drain = (core: CoreConnection) => (cmd: CoreCommand, finished: () => boolean): Promise<void> =>
      new Promise<void>((resolve) => {
        if (finished()) return resolve()
        cmd.once('end', () => resolve())
        cmd.once('error', () => resolve())
        core.resume()
      })

    const held = (conn: PoolConnection): Connection => {
      let released = false
      return Object.freeze({
        execute: (q: Compiled): TaskEither<DbError, QueryResult> => () => runOn(conn, q).then(E.right, (e: DbError) => E.left(e)),
        stream: (q: Compiled, o?: { readonly batchSize?: number }) => ({
          [Symbol.asyncIterator]: () => rowsOn(conn, q, o?.batchSize ?? 500, drain(coreOf(conn))),
        }),
        release: async () => {
          if (released) return
          released = true
          conn.release()
        },
      })
    }

    return {
      name: 'mysql2',

      onConnect: async (conn) => {
        // The session in UTC: NOW(), TIMESTAMP columns and the driver's UTC dates agree.
        await conn.query("SET time_zone = '+00:00'")
      },

      pool: getPool,

      execute: (q) => async () => {
        let conn: PoolConnection
        try {
          conn = await acquire()
        } catch (e) {
          return E.left(e as DbError)
        }
        try {
          return E.right(await runOn(conn, q))
        } catch (e) {
          return E.left(e as DbError)
        } finally {
          conn.release()
        }
      },

      stream: (q, o) => ({
        [Symbol.asyncIterator]: () => (async function* () {
          const conn = await acquire()
          let early = false
          try {
            // Stopping early leaves the rest of the result on the wire: rather than read it,
            // close this connection; the pool opens another when one is needed.
            yield* rowsOn(conn, q, o?.batchSize ?? 500, async () => {
              early = true
              conn.destroy()
            })
          } finally {
            if (!early) conn.release()
          }
        })(),
      }),

      reserve: () => async () => {
        try {
          return E.right(held(await acquire()))
        } catch (e) {
          return E.left(e as DbError)
        }
      },

      version: () => async () => {
        const r = await self.execute({ sql: 'SELECT VERSION() AS v', params: [] })()
        return E.isLeft(r) ? r : E.right(String(r.right.rows[0]?.v ?? ''))
      },

      classifyError: classifyMysqlError,

      close: () => async () => {
        if (pool === undefined) return E.right(undefined)
        try {
          await pool.end()
          return E.right(undefined)
        } catch (e) {
          return E.left(self.classifyError(e))
        }
      },
    }
  })
}
