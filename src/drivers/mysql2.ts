/**
 * The mysql2 driver: a pool of MySQL or MariaDB connections, served through TaskEither.
 *
 * - Statements run as server-side prepared statements (`execute`, cached per connection by
 *   mysql2); `prepare: false` sends the SQL text with the values written into it by the
 *   driver (`mysql-text.ts`: quotes doubled, backslashes doubled only when the session does
 *   not have NO_BACKSLASH_ESCAPES, which is asked for each statement that holds a backslash).
 *   Transaction control without parameters (`START TRANSACTION`, `SAVEPOINT ...`)
 *   always goes as text, so it neither fills the statement cache nor meets a server that
 *   cannot prepare it (errno 1295 falls back to text too).
 * - Every connection is set up once, when first handed out, by the `onConnect` field
 *   (default: `SET time_zone = '+00:00'`); override it with `extend`.
 * - A statement sends one command (`COM_STMT_EXECUTE`, or `COM_QUERY` as text; the first
 *   time a connection meets a statement text, one `COM_STMT_PREPARE` before it) and nothing
 *   else, unless it is over 64 KiB (see below) or a text statement with values whose text or
 *   string values hold a backslash (the session's mode is asked first, see above). It
 *   runs on mysql2's callback API (the promise wrapper is used only for `onConnect`), and the
 *   wait for a connection is timed by one timer for every request, not one per statement.
 * - `stream` reads a result row by row with backpressure on a connection held for the
 *   duration. Ending early destroys that connection (the pool opens a fresh one) rather than
 *   reading the rest; inside a transaction the rest is read and dropped, so the transaction's
 *   connection stays usable. A result whose connection is lost before its end packet (the
 *   session killed, the socket cut) fails with ConnectionError, never ends with fewer rows;
 *   leaving such a stream early inside a transaction does not wait for the rest.
 * - `close({ timeout })` waits for statements and streams still running up to `timeout` ms
 *   (default 5,000), then closes their connections under them: they fail with ConnectionError,
 *   and the server ends their sessions (a transaction's work is rolled back; a write running
 *   outside one may still complete, as after any lost connection).
 * - A statement (or a stream waiting for rows) whose connection reads nothing for
 *   `answerTimeout` (a frozen host, a network that drops packets) fails with a ConnectionError of
 *   unknown outcome (`ANSWER_TIMEOUT`), and the connection is closed under it (see `look`).
 * - Errors are classified by errno (see `classifyMysqlError`); failing to obtain a
 *   connection is always a ConnectionError.
 * - A value that cannot be bound as it is (NaN, a Map, ...) is refused before anything is sent,
 *   with a ValidationError naming the parameter. A statement over the server's
 *   `max_allowed_packet` is a ValueTooLarge: refused before sending when its values alone are
 *   over it (statements from 64 KiB are checked), or answered so by the server, after which the
 *   connection, which the server closes, leaves the pool. A value too long or out of range for
 *   its column (errno 1406, 1264, strict mode) is a ValueTooLarge naming the column; the
 *   connection stays (a transaction on it goes on). So is errno 1265 (`Data truncated for
 *   column`) of an ALTER TABLE that shortens a column under a longer value; the same errno of
 *   an INSERT or UPDATE (a value not in an ENUM's list, a number followed by letters) is a
 *   QueryError, and of an ALTER TABLE making the column NOT NULL a NotNullViolation (see `truncation`).
 *
 * Value policy (what comes back):
 * - BIGINT and DECIMAL: strings, always (`supportBigNumbers` + `bigNumberStrings`), so no
 *   value loses precision and a column's JS type never depends on its magnitude; this
 *   includes `COUNT(*)` and `SUM()`. `bigNumbers: 'safe'` gives numbers for BIGINTs within
 *   2^53 and strings beyond (DECIMAL stays a string).
 * - DATETIME and TIMESTAMP: `Date`, read as UTC (the session time zone is UTC) by the driver
 *   from the server's text, so years 0-99 stay themselves; a zero date (`0000-00-00`) is a
 *   DecodeError. DATE: the `'YYYY-MM-DD'` string (`dateStrings: ['DATE']`), since a calendar date
 *   has no instant; TIME: a string.
 * - BOOLEAN is TINYINT(1): 1 and 0. JSON: parsed (MySQL's JSON type, and MariaDB's through
 *   its extended column metadata). BLOB: Buffer. CHAR/VARCHAR/TEXT: strings (utf8mb4).
 * - DOUBLE: the same number. FLOAT is single precision: `execute` returns the stored float
 *   widened to a double (1.1 reads 1.100000023841858), `query` the server's shortest text of
 *   it (1.1); use DOUBLE where that matters.
 *
 * Rows affected: UPDATE counts matched rows (CLIENT_FOUND_ROWS), changed or not; an upsert
 * (`ON DUPLICATE KEY UPDATE`) counts 1 per inserted row, 2 per updated row and 1 per row
 * left as it was. `insertId` is the first generated key of the last INSERT, when there is one
 * (an upsert that updated: the key of the row it updated); an UPDATE, a DELETE or an INSERT that
 * inserted nothing has none.
 *
 * LIMIT and OFFSET are bound as numbers. MariaDB reports no parameter types and accepts a
 * number there; MySQL 8.0.22+, which rejects a DOUBLE there, reports the parameter as an
 * integer, and mysql2 (3.24+) then binds it as one.
 */
import type { EventEmitter } from 'node:events'
import type { Readable } from 'node:stream'
import * as E from '../fp.js'
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import type mysql from 'mysql2/promise'
import type { Pool, PoolConnection, PoolOptions, ResultSetHeader } from 'mysql2/promise'
import type { Connection, Driver, QueryResult, Row } from '../driver.js'
import { dbError, type DbError, type DbErrorTag, isDbError, withStatement } from '../errors.js'
import { fix } from '../record.js'
import { clientLibrary } from './client-library.js'
import { answerDeadline, type Mysql2BaseOptions } from './options.js'

export type { Mysql2BaseOptions } from './options.js'
export { DEFAULT_ANSWER_TIMEOUT } from './options.js'
import type { Compiled } from '../sql.js'
import { parseMysqlDateTime } from '../dates.js'
import { checkParams, stringProblem } from '../values.js'
import { formatStatement, needsMode } from './mysql-text.js'
import { fromStart } from './sql-start.js'

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
  // ER_QUERY_INTERRUPTED: KILL QUERY from another session, as PostgreSQL's 57014 (query_canceled,
  // a cancel and statement_timeout alike) and SQLite's SQLITE_INTERRUPT are: the statement alone stopped.
  1317: 'StatementTimeout',
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
  1153: 'ValueTooLarge', // ER_NET_PACKET_TOO_LARGE (the statement is over max_allowed_packet)
  1301: 'ValueTooLarge', // ER_WARN_ALLOWED_PACKET_OVERFLOWED (a result over max_allowed_packet)
  1406: 'ValueTooLarge', // ER_DATA_TOO_LONG (a value longer than its column, strict mode)
  1264: 'ValueTooLarge', // ER_WARN_DATA_OUT_OF_RANGE (a number out of its column's range, strict mode)
  // WARN_DATA_TRUNCATED, strict mode: a value the column cannot hold whole. Its class depends on
  // the statement that raised it (see `truncation`): a ValueTooLarge as a rule.
  1265: 'ValueTooLarge',
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
  /** The statement's text, which mysql2 puts on a server's error. */
  readonly sql?: string
}

/** A name the server wrote as a quoted identifier (`` `a``b` ``): its doubled backquotes made single. */
const unquoteName = (s: string | undefined): string | undefined => (s === undefined ? undefined : s.split('``').join('`'))

/** The first group of `re` in the message, or undefined. */
const group = (re: RegExp, message: string): string | undefined => re.exec(message)?.[1]

// The servers write a column or key name between single quotes as it is: a quote inside it is
// not doubled. So each pattern reads the message whole, from its fixed start to its fixed end,
// and a name runs to the quote before that end, whatever it holds (quotes, spaces, any letter).
const DUP_KEY = /^[\s\S]*for key '([\s\S]*)'$/
const NULL_COLUMN = /^Column '([\s\S]*)' cannot be null$/
const NULL_IN_ROW = /^[\s\S]*?NOT NULL column '([\s\S]*)' at row \d+$/
const NO_DEFAULT = /^Field '([\s\S]*)' doesn't have a default value$/
const DATA_COLUMN = /for column '([\s\S]*)'(?: at row \d+)?$/
const CHECK_MYSQL = /^Check constraint '([\s\S]*)' is violated\.?$/
// Backquoted names have their backquotes doubled: read them quote by quote, past the table's.
const FK_CONSTRAINT = /^Cannot (?:add|delete) or update a (?:child|parent) row: a foreign key constraint fails \((?:`(?:[^`]|``)*`\.)?`(?:[^`]|``)*`, CONSTRAINT `((?:[^`]|``)*)`/
const FK_LOOSE = /CONSTRAINT `((?:[^`]|``)*)`/
const CHECK_MARIADB = /^CONSTRAINT `((?:[^`]|``)*)` failed for /

/**
 * The constraint or column the server names in the message its errno fixes. `mariadb` says
 * whether the server is MariaDB, which names a duplicate key alone (`for key 'uq.email'` is the
 * key `uq.email`); MySQL 8 writes `table.key` there, split at its first dot. Unknown: as MySQL.
 */
const detailOf = (errno: number, message: string, mariadb: boolean): Record<string, string | undefined> => {
  switch (errno) {
    case 1062:
    case 1586: {
      // The duplicate value comes first and may hold anything, even "' for key '"; the key is
      // written last, so it is the text after the message's last "for key '". (A key whose own
      // name holds "for key '" is read from there on.)
      const name = group(DUP_KEY, message)
      if (name !== undefined && mariadb !== true && name.includes('.')) {
        return { constraint: name.slice(name.indexOf('.') + 1), table: name.slice(0, name.indexOf('.')) }
      }
      return { constraint: name }
    }
    case 1451:
    case 1452:
    case 1216:
    case 1217:
      return { constraint: unquoteName(group(FK_CONSTRAINT, message) ?? group(FK_LOOSE, message)) }
    case 1048:
      return { column: group(NULL_COLUMN, message) }
    case 1263:
      return { column: group(NULL_IN_ROW, message) }
    case 1364:
      return { column: group(NO_DEFAULT, message) }
    case 1406:
    case 1264:
    case 1265:
      // `Data too long for column 'x' at row 1`, `Out of range value for column 'x' at row 1`,
      // `Data truncated for column 'x' at row 1`.
      return { column: group(DATA_COLUMN, message) }
    case 3819:
      return { constraint: group(CHECK_MYSQL, message) }
    case 4025:
      return { constraint: unquoteName(group(CHECK_MARIADB, message) ?? group(FK_LOOSE, message)) }
    default:
      return {}
  }
}

/**
 * Classify a mysql2 error by the server's errno (or, for client-side failures, mysql2's and
 * Node's error code). The constraint or column named in the message is kept where the errno
 * says the message names one (`constraint` on unique, foreign key and check violations,
 * `column` on NOT NULL ones and on a value too long, out of range or truncated, ValueTooLarge); a server
 * with non-English messages leaves them undefined. Names are read exactly as the server wrote
 * them (quotes, spaces and any letters in them included). `server` says which server wrote the
 * message: a MariaDB duplicate key is named alone, a MySQL 8 one as `table.key` (then `table` is
 * set too); the driver passes what the server said it is, and without it a dot is read as MySQL's.
 *
 * @example classifyMysqlError(e)._tag // 'UniqueViolation' for errno 1062
 * @example classifyMysqlError(e, 'mariadb').constraint // 'uq.email' for "... for key 'uq.email'"
 * @example classifyMysqlError(e).column // 'name' for errno 1265 "Data truncated for column 'name' at row 1" of `ALTER TABLE t MODIFY name varchar(5)` (a ValueTooLarge)
 */
export const classifyMysqlError = (e: unknown, server?: 'mariadb' | 'mysql'): DbError => {
  if (isDbError(e)) return e
  const m = (typeof e === 'object' && e !== null ? e : {}) as MysqlErrorLike
  const message = m.sqlMessage ?? (e instanceof Error ? e.message : String(e))
  const errno = typeof m.errno === 'number' && m.errno > 0 ? m.errno : undefined
  let tag: DbErrorTag = 'QueryError'
  if (errno !== undefined && ERRNO_TAGS[errno] !== undefined) tag = ERRNO_TAGS[errno]
  else if (typeof m.code === 'string' && CONNECTION_CODES.has(m.code)) tag = 'ConnectionError'
  else if (errno === undefined && m.fatal === true) tag = 'ConnectionError'
  const fields: Record<string, unknown> = { code: errno ?? m.code, cause: e }
  if (errno !== undefined) Object.assign(fields, detailOf(errno, message, server === 'mariadb'))
  // The server rolled the whole transaction back: what runs next on the connection is outside it.
  if (errno === ER_LOCK_DEADLOCK) fields.endedTransaction = true
  if (errno === WARN_DATA_TRUNCATED) {
    const t = truncation(m.sql, typeof fields.column === 'string' ? fields.column : undefined)
    return dbError(t.tag as 'QueryError', `${message} (errno 1265: ${t.means})`, fields)
  }
  return dbError(tag as 'QueryError', message, fields)
}

/** WARN_DATA_TRUNCATED: the server says the same words of every value its column cannot hold whole. */
const WARN_DATA_TRUNCATED = 1265

/** The statement's verb (its first word, read from `fromStart`, past comments before it). */
const VERB = /^[A-Za-z]+/
/** An identifier in DDL: backquoted (backquotes doubled inside) or bare. */
const DDL_IDENT = '`(?:[^`]|``)*`|[\\w$\\u0080-\\uffff]+'
/** ALTER TABLE and its table, before the first clause. */
const ALTER_HEAD = new RegExp(`^\\s*ALTER\\s+(?:ONLINE\\s+)?(?:IGNORE\\s+)?TABLE\\s+(?:IF\\s+EXISTS\\s+)?(?:${DDL_IDENT})(?:\\s*\\.\\s*(?:${DDL_IDENT}))?`, 'i')
/** A clause defining a column: MODIFY, CHANGE (old and new names) or ADD, and the names. */
const COLUMN_CLAUSE = new RegExp(`^\\s*(MODIFY|CHANGE|ADD)(?:\\s+COLUMN)?(?:\\s+IF\\s+(?:NOT\\s+)?EXISTS)?\\s+(${DDL_IDENT})(?:\\s+(${DDL_IDENT}))?`, 'i')

/** A statement's text cut at its commas outside parentheses and quotes, the quoted text left out. */
const clausesOf = (text: string): string[] => {
  const out: string[] = []
  let part = ''
  let depth = 0
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (c === "'" || c === '"') {
      // A string (a DEFAULT, a COMMENT): skipped, its doubled or escaped quotes with it.
      let j = i + 1
      while (j < text.length && !(text[j] === c && text[j + 1] !== c)) j += text[j] === '\\' || text[j] === c ? 2 : 1
      part += "''"
      i = j
    } else if (c === '`') {
      let j = i + 1
      while (j < text.length && !(text[j] === '`' && text[j + 1] !== '`')) j += text[j] === '`' ? 2 : 1
      part += text.slice(i, j + 1)
      i = j
    } else if (c === ',' && depth === 0) {
      out.push(part)
      part = ''
    } else {
      if (c === '(') depth++
      else if (c === ')') depth--
      part += c
    }
  }
  out.push(part)
  return out
}

/** Whether an ALTER TABLE's text defines `column` NOT NULL (MODIFY, CHANGE or ADD of it). */
const makesNotNull = (text: string, column: string): boolean => {
  const head = ALTER_HEAD.exec(text)
  if (head === null) return false
  const name = column.toLowerCase()
  const bare = (id: string | undefined): string | undefined => (id === undefined ? undefined : (id.startsWith('`') ? unquoteName(id.slice(1, -1))! : id).toLowerCase())
  return clausesOf(text.slice(head[0].length)).some((clause) => {
    const c = COLUMN_CLAUSE.exec(clause)
    if (c === null) return false
    const names = c[1].toUpperCase() === 'CHANGE' ? [bare(c[2]), bare(c[3])] : [bare(c[2])]
    return names.includes(name) && /\bNOT\s+NULL\b/i.test(clause.slice(c[0].length))
  })
}

/**
 * The class of an errno 1265 (`Data truncated for column 'x' at row n`, strict mode) and what it
 * means, by the statement that raised it, whose text mysql2 puts on the error. The server's words
 * are the same for every value the column cannot hold whole:
 * - An INSERT or UPDATE: a value not in an ENUM's or SET's list, or a number followed by other
 *   characters (`'12abc'`; `'abc'` is errno 1366): a QueryError, as PostgreSQL's invalid input
 *   (22P02) is. A value too long there is errno 1406.
 * - An ALTER TABLE that defines the column NOT NULL: a row holds NULL in it (MariaDB; MySQL 8 says
 *   1138): a NotNullViolation, as PostgreSQL's SET NOT NULL over a NULL is; or a value its new
 *   type cannot hold, which the message says too.
 * - Another ALTER TABLE, or a statement not known: a stored value longer than the column's new
 *   type (or not in its new ENUM's list): a ValueTooLarge, as writing the value would be.
 * `column` is kept on each.
 */
const truncation = (text: string | undefined, column: string | undefined): { readonly tag: DbErrorTag; readonly means: string } => {
  const start = text === undefined ? undefined : fromStart(text, true)
  const verb = start === undefined ? undefined : VERB.exec(start)?.[0].toUpperCase()
  if (verb === 'INSERT' || verb === 'UPDATE' || verb === 'REPLACE' || verb === 'LOAD') {
    return { tag: 'QueryError', means: "the value is not one the column holds: not in the list of an ENUM or SET column, or a number followed by other characters" }
  }
  if (verb === 'ALTER' && column !== undefined && makesNotNull(start!, column)) {
    return { tag: 'NotNullViolation', means: 'a row holds NULL in the column made NOT NULL, or a value its new type cannot hold whole' }
  }
  if (verb === 'ALTER') {
    return { tag: 'ValueTooLarge', means: "a row holds a value the column's new type cannot hold whole: longer than it, or not in its ENUM or SET list" }
  }
  return { tag: 'ValueTooLarge', means: "a value the column cannot hold whole: longer than it, not in its ENUM or SET list, or a number followed by other characters" }
}

/** ER_LOCK_DEADLOCK: InnoDB rolled the whole transaction back. */
const ER_LOCK_DEADLOCK = 1213

/** A failure to obtain or set up a connection: a ConnectionError whatever the cause. */
const connectionFailure = (e: DbError): DbError =>
  e._tag === 'ConnectionError' ? e : dbError('ConnectionError', `cannot get a connection: ${e.message}`, { code: e.code, cause: e.cause ?? e })

// ---------------------------------------------------------------- results

/** Statements whose rows are changed rows (MariaDB's INSERT/DELETE ... RETURNING). */
const DML = /^(INSERT|REPLACE|UPDATE|DELETE)\b/i
/** Transaction control and session statements, sent as text when they have no parameters. */
const CONTROL = /^(START|BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|SET|LOCK|UNLOCK|XA|USE|DO)\b/i

const ER_UNSUPPORTED_PS = 1295

/**
 * A statement without parameters this long is sent as text, not prepared: such a text (a long
 * IN list the dialect wrote as literals) is seldom run again, and preparing it would keep it in
 * the connection's statement cache, pushing out the statements that repeat.
 */
const LONG_TEXT = 4096

const toId = (id: unknown): number | bigint | undefined => {
  if (typeof id === 'number') return id > 0 ? id : undefined
  if (typeof id === 'string' && id !== '' && id !== '0') {
    const n = Number(id)
    return Number.isSafeInteger(n) ? n : BigInt(id)
  }
  if (typeof id === 'bigint') return id > 0n ? id : undefined
  return undefined
}

// ---------------------------------------------------------------- dates

/** mysql2's column type codes of the temporal types read as Dates. */
const TYPE_DATE = 10
const TYPE_NEWDATE = 14
const TYPE_DATETIME = 12
const TYPE_TIMESTAMP = 7

/**
 * The column types read as Dates, given the `dateStrings` option. mysql2 itself always hands
 * them over as text: its own parser reads years 0-99 as 1900-1999 (`Date.UTC`), so the driver
 * reads the text exactly (`parseMysqlDateTime`).
 */
const dateTypes = (o: Mysql2Options['dateStrings']): ReadonlySet<number> => {
  const strings = o ?? ['DATE']
  if (strings === true) return new Set()
  const named = strings === false ? [] : strings
  const out = new Set<number>()
  if (!named.includes('DATE')) {
    out.add(TYPE_DATE)
    out.add(TYPE_NEWDATE)
  }
  if (!named.includes('DATETIME')) out.add(TYPE_DATETIME)
  if (!named.includes('TIMESTAMP')) out.add(TYPE_TIMESTAMP)
  return out
}

/** The names of the columns to read as Dates, or undefined when there are none. */
const dateColumns = (fields: unknown, types: ReadonlySet<number>): string[] | undefined => {
  if (types.size === 0 || !Array.isArray(fields)) return undefined
  let out: string[] | undefined
  for (const f of fields as unknown[]) {
    const c = f as { columnType?: number; name?: string } | null
    if (c !== null && typeof c === 'object' && !Array.isArray(c) && c.columnType !== undefined && types.has(c.columnType) && c.name !== undefined) (out ??= []).push(c.name)
  }
  return out
}

/** Date text to Dates in place; a zero date is a DecodeError. */
const readDates = (rows: Row[], columns: readonly string[] | undefined): Row[] => {
  if (columns === undefined) return rows
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i] as Record<string, unknown>
    for (let j = 0; j < columns.length; j++) {
      const v = r[columns[j]]
      if (typeof v === 'string') r[columns[j]] = parseMysqlDateTime(v)
    }
  }
  return rows
}

const toResult = (res: unknown, sqlText: string, fields?: unknown, types?: ReadonlySet<number>): QueryResult => {
  if (Array.isArray(res)) {
    // A CALL answers with several result sets: the first holds the rows.
    const first = res.length > 0 && Array.isArray(res[0])
    const rows = (first ? res[0] : res) as Row[]
    if (types !== undefined) readDates(rows, dateColumns(first && Array.isArray(fields) ? fields[0] : fields, types))
    // DML with RETURNING (MariaDB) answers with one row per changed row.
    return { rows, rowsAffected: DML.test(fromStart(sqlText, true)) ? rows.length : 0 }
  }
  const h = res as ResultSetHeader
  const insertId = toId(h.insertId)
  return insertId === undefined ? { rows: [], rowsAffected: h.affectedRows } : { rows: [], rowsAffected: h.affectedRows, insertId }
}

// ---------------------------------------------------------------- mysql2's callback API

/** A mysql2 callback: the error, or the result and its column definitions. */
type Done = (err: unknown, result?: unknown, fields?: unknown) => void

/** The parts of mysql2's callback-style command that streaming needs. */
interface CoreCommand extends EventEmitter {
  stream(options?: { readonly highWaterMark?: number }): Readable
}

/**
 * mysql2's callback-style pool connection, which the driver runs every statement on. Its
 * promise wrapper (`mysql2/promise`) would add, per statement, a wrapper object and a captured
 * stack trace (mysql2's `trace` option); the driver's errors carry the statement instead.
 */
interface CoreConnection extends EventEmitter {
  query(sql: string, values?: unknown): CoreCommand
  query(sql: string, done: Done): CoreCommand
  execute(sql: string, values: unknown, done?: Done): CoreCommand
  resume(): void
  release(): void
  destroy(): void
  /** The promise wrapper of this connection (given to `onConnect`). */
  promise(): PoolConnection
}

/** mysql2's callback-style pool, under the promise one. */
interface CorePool {
  getConnection(done: (err: unknown, connection: CoreConnection) => void): void
}
const corePoolOf = (p: Pool): CorePool => (p as unknown as { pool: CorePool }).pool

/**
 * Every connection of a pool, in use or free (mysql2 keeps them in `_allConnections`, and keeps
 * them there once the pool is ending). Read only when closing, so statements pay nothing for it.
 */
const connectionsOf = (p: Pool): CoreConnection[] => {
  const all = (corePoolOf(p) as unknown as { _allConnections?: { readonly length: number; get(i: number): CoreConnection } })._allConnections
  const out: CoreConnection[] = []
  if (all !== undefined) for (let i = 0; i < all.length; i++) out.push(all.get(i))
  return out
}

/**
 * Close a connection under what runs on it: its socket is destroyed, which mysql2 reports to the
 * command in flight and to those queued (PROTOCOL_CONNECTION_LOST, a ConnectionError); a streamed
 * result is ended with that error by its session's `cut`. mysql2's own `destroy` only half-closes
 * the socket and tells no command, so a statement running then would still wait for its answer.
 */
const cut = (c: CoreConnection): void => {
  // A streamed result is ended first: mysql2 may take the rows it still holds for its end.
  sessions.get(c)?.cut?.()
  const socket = (c as unknown as { stream?: { destroy?: () => void } }).stream
  if (typeof socket?.destroy === 'function') socket.destroy()
  else c.destroy()
}

/** Which server a connection talks to, from the version its handshake gave; undefined when unknown. */
const serverOf = (c: CoreConnection): 'mariadb' | 'mysql' | undefined => {
  const version = (c as unknown as { _handshakePacket?: { serverVersion?: unknown } | null })._handshakePacket?.serverVersion
  return typeof version === 'string' ? (/mariadb/i.test(version) ? 'mariadb' : 'mysql') : undefined
}

/**
 * Whether mysql2 has given up on a connection: a fatal or protocol error was met, it is
 * closing, or its socket is destroyed. Nothing more will be read from it.
 */
const connectionGone = (c: CoreConnection): boolean => {
  const m = c as unknown as { _fatalError?: unknown; _protocolError?: unknown; _closing?: boolean; stream?: { destroyed?: boolean } }
  return m._fatalError != null || m._protocolError != null || m._closing === true || m.stream?.destroyed === true
}

/** Milliseconds `close` waits for statements still running when it is given no timeout. */
const DEFAULT_CLOSE_MS = 5_000

/** What a statement answered: the result (rows or a header) and the column definitions. */
interface Answer {
  readonly res: unknown
  readonly fields: unknown
}

/**
 * Send one statement on a connection: as text (`query`, the values already written into it)
 * or as a prepared statement (`execute`, cached per connection by mysql2).
 */
const send = (core: CoreConnection, text: boolean, sql: string, params?: readonly unknown[]): Promise<Answer> =>
  new Promise<Answer>((resolve, reject) => {
    const done: Done = (err, res, fields) => {
      if (err) reject(err)
      else resolve({ res, fields })
    }
    if (text) core.query(sql, done)
    else core.execute(sql, params, done)
  })

/** A request for a connection, waiting until its deadline (`performance.now()` time). */
interface Waiter {
  readonly deadline: number
  readonly expire: () => void
}

// ---------------------------------------------------------------- parameters

/** Why mysql2 cannot bind a value as it is (see `checkParams`), or undefined. */
const mysqlParamProblem = (v: unknown): string | undefined => {
  switch (typeof v) {
    case 'string': return stringProblem(v)
    case 'number': return Number.isFinite(v) ? undefined : 'MySQL and MariaDB numbers have no NaN or Infinity'
    case 'bigint':
    case 'boolean': return undefined
    case 'undefined': return 'undefined is no value (bind null)'
    case 'object':
      if (v === null || v instanceof Uint8Array) return undefined
      if (v instanceof Date) {
        const y = v.getUTCFullYear()
        return Number.isNaN(y) ? 'an invalid Date' : y < 0 || y > 9999 ? 'a MySQL date has a four-digit year (0000-9999)' : undefined
      }
      return 'mysql2 would bind it as something else (compile it through the dialect, which converts or refuses it)'
    default: return 'MySQL has no such value'
  }
}

/** What the driver keeps per connection. */
interface Session {
  /** Settles when the last statement that waits for the session's mode has been issued. */
  gate?: Promise<void>
  /** `@@max_allowed_packet`, once asked. */
  maxPacket?: number
  /** Set while a result is streamed on the connection: ends that stream with a ConnectionError. */
  cut?: () => void
  /** Commands sent on the connection and not answered yet (a stream's, while rows are awaited). */
  pending: number
  /** The answer watchdog's look at which the connection last read a byte, or went from idle to busy. */
  heard: number
  /** The socket's `bytesRead` at the watchdog's last look. */
  bytes: number
  /** Set when the watchdog closed the connection: the commands in flight then fail with `answerLost`. */
  expired: boolean
}
const sessions = new WeakMap<object, Session>()
const sessionOf = (core: object): Session => {
  let s = sessions.get(core)
  if (s === undefined) sessions.set(core, (s = { pending: 0, heard: 0, bytes: 0, expired: false }))
  return s
}

/**
 * From this many bytes (at least) a statement's size is checked against max_allowed_packet
 * before it is sent. Smaller statements are not worth the question; a server with a smaller
 * limit still answers ValueTooLarge itself.
 */
const SIZE_CHECK_FROM = 64 * 1024

/**
 * A cheap lower bound of a statement's size in bytes (a UTF-16 unit is at least one UTF-8
 * byte). A prepared statement's text is not part of the packet that carries its values.
 */
const roughSize = (q: Compiled, withText: boolean): number => {
  let n = withText ? q.sql.length : 0
  for (const p of q.params) n += typeof p === 'string' ? p.length : p instanceof Uint8Array ? p.byteLength : 8
  return n
}

/** The statement's values (and text) in bytes: a lower bound of the packet that carries them. */
const exactSize = (q: Compiled, withText: boolean): number => {
  let n = withText ? Buffer.byteLength(q.sql) : 0
  for (const p of q.params) n += typeof p === 'string' ? Buffer.byteLength(p) : p instanceof Uint8Array ? p.byteLength : 8
  return n
}

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
    // Temporal values always come as text, read by the driver (see dateTypes).
    dateStrings: true,
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
  const dates = dateTypes(options.dateStrings)
  let pool: Pool | undefined
  // Set by close: the pool is never made again.
  let closed = false
  const acquireTimeout = options.acquireTimeout ?? 30_000
  // Connections held by transactions: close cuts them (mysql2's pool.end leaves them be).
  const reserved = new Set<CoreConnection>()
  // Connections already set up by onConnect (mysql2's own connection objects).
  const ready = new WeakSet<object>()
  // Which server the pool talks to, once a connection has said (its messages differ).
  let server: 'mariadb' | 'mysql' | undefined
  const answerTimeout = answerDeadline(options.answerTimeout, undefined)

  return fix<Mysql2Driver>((self) => {
    const getPool = (): Pool => {
      if (pool === undefined && closed) throw dbError('ConnectionError', 'the MySQL pool was closed; it does not reopen', { code: 'BACKEND_CLOSED' })
      return (pool ??= clientLibrary<typeof mysql>('mysql2/promise', 'mysql2', 'MySQL / MariaDB').createPool(poolOptions(options)))
    }

    /**
     * Requests for a connection still waiting, in the order they were made, which is the order
     * of their deadlines (every one waits the same `acquireTimeout`). One timer serves them
     * all: a statement that finds a free connection costs no timer of its own.
     */
    const waiting = new Set<Waiter>()
    let sweeping = false
    const arm = (ms: number): void => {
      sweeping = true
      // Node's timers take at most 2^31 - 1 ms; a longer wait is re-armed when that passes.
      setTimeout(sweep, Math.min(Math.max(Math.ceil(ms), 1), 2 ** 31 - 1)).unref()
    }
    /** Fail the requests past their deadline; re-arm for the next one, if any. */
    const sweep = (): void => {
      sweeping = false
      const now = performance.now()
      for (const w of waiting) {
        if (w.deadline > now) return arm(w.deadline - now)
        waiting.delete(w)
        w.expire()
      }
    }

    /**
     * The answer watchdog. A connection with commands in flight (`Session.pending`) that reads
     * nothing for answerTimeout is closed under them (`cut`): they fail with `answerLost`, and
     * the pool opens another connection when one is needed. One timer for the pool, running
     * while anything is in flight, looks every `tick` ms at each connection's socket `bytesRead`;
     * a statement costs two counter changes on its session, no timer, promise or closure.
     */
    const tick = answerTimeout > 0 ? Math.min(1_000, Math.max(10, Math.floor(answerTimeout / 8))) : Infinity
    let inFlight = 0
    let looks = 0
    let watching = false

    /** A command goes out on `s`'s connection (or a stream waits for its rows again). */
    const busy = (s: Session): void => {
      if (tick === Infinity) return
      if (s.pending++ === 0) s.heard = looks
      if (inFlight++ === 0 && !watching) {
        watching = true
        setTimeout(look, tick).unref()
      }
    }

    /** A command on `s`'s connection was answered (or a stream's caller holds a batch). */
    const idle = (s: Session): void => {
      if (tick === Infinity) return
      s.pending--
      inFlight--
    }

    const look = (): void => {
      looks++
      const p = pool
      if (p !== undefined) {
        for (const c of connectionsOf(p)) {
          const s = sessions.get(c)
          if (s === undefined || s.pending <= 0 || s.expired) continue
          const n = (c as unknown as { stream?: { bytesRead?: number } }).stream?.bytesRead ?? 0
          if (n !== s.bytes) {
            s.bytes = n
            s.heard = looks
          } else if ((looks - s.heard) * tick >= answerTimeout) {
            s.expired = true
            cut(c)
          }
        }
      }
      if (inFlight > 0) setTimeout(look, tick).unref()
      else watching = false
    }

    /** The error of a command whose answer did not come within answerTimeout. */
    const answerLost = (q: Compiled): DbError =>
      withStatement(dbError('ConnectionError', `no answer from the server within ${answerTimeout} ms (answerTimeout) of sending the statement, so its connection was closed and the outcome is unknown: the statement may have run on the server, or not. The server stopped answering without closing the connection (a frozen host, a network that drops packets); retry only a read or an idempotent write`, { code: 'ANSWER_TIMEOUT', outcome: 'unknown' }), q.sql, q.params, redact)

    /**
     * A connection from the pool within `acquireTimeout`. mysql2 queues a request without
     * limit while every connection is in use; one that comes after the wait gave up is released.
     * The sweep timer is unreferenced: a request waits only while connections are open or
     * opening, whose sockets keep the process running.
     */
    const obtain = (): Promise<CoreConnection> =>
      new Promise<CoreConnection>((resolve, reject) => {
        const core = corePoolOf(getPool())
        let settled = false
        const w: Waiter = {
          deadline: performance.now() + acquireTimeout,
          expire: () => {
            settled = true
            reject(dbError('PoolTimeout', `no connection became free within ${acquireTimeout} ms (acquireTimeout): every connection is in use`, { waited: acquireTimeout }))
          },
        }
        waiting.add(w)
        if (!sweeping) arm(acquireTimeout)
        core.getConnection((err, c) => {
          if (settled) {
            if (!err) c.release()
            return
          }
          settled = true
          waiting.delete(w)
          if (err) reject(err)
          else resolve(c)
        })
      })

    /** The session's NO_BACKSLASH_ESCAPES mode, asked now (any statement may have changed it). */
    const noBackslashEscapes = async (core: CoreConnection): Promise<boolean> => {
      const rows = (await send(core, true, 'SELECT @@SESSION.sql_mode AS m')).res
      return /(^|,)NO_BACKSLASH_ESCAPES(,|$)/i.test(String((rows as Row[])[0]?.m ?? ''))
    }

    /** The session's max_allowed_packet, asked once per connection (a session cannot change it). */
    const maxPacket = async (core: CoreConnection): Promise<number> => {
      const s = sessionOf(core)
      if (s.maxPacket === undefined) {
        const rows = (await send(core, true, 'SELECT @@SESSION.max_allowed_packet AS m')).res
        s.maxPacket = Number((rows as Row[])[0]?.m)
      }
      return s.maxPacket
    }

    /** A set-up connection from the pool; rejects with a ConnectionError or PoolTimeout. */
    const acquire = async (): Promise<CoreConnection> => {
      let core: CoreConnection
      try {
        core = await obtain()
      } catch (e) {
        if (isDbError(e, 'PoolTimeout')) throw e
        throw connectionFailure(self.classifyError(e))
      }
      if (!ready.has(core)) {
        const s = sessionOf(core)
        busy(s)
        try {
          await self.onConnect(core.promise())
          ready.add(core)
          server ??= serverOf(core)
        } catch (e) {
          core.destroy()
          throw connectionFailure(self.classifyError(e))
        } finally {
          idle(s)
        }
      }
      return core
    }

    const fail = (e: unknown, q: Compiled): DbError => withStatement(self.classifyError(e), q.sql, q.params, redact)

    /**
     * Issue a statement on a connection in call order. A text statement whose literals depend
     * on the session's NO_BACKSLASH_ESCAPES mode asks the session first (`mode`); statements
     * called after it wait until it is issued, so none of them (a `SET sql_mode`, say) can
     * run between the question and the statement. mysql2 runs a connection's commands in the
     * order they are issued.
     */
    const inOrder = <T>(core: CoreConnection, mode: boolean, issue: (noBackslashEscapes: boolean) => Promise<T>): Promise<T> => {
      const s = sessionOf(core)
      if (!mode && s.gate === undefined) return issue(false)
      const before = s.gate ?? Promise.resolve()
      let issued!: () => void
      const turn = new Promise<void>((resolve) => { issued = resolve })
      s.gate = turn
      const go = async (): Promise<T> => {
        try {
          await before
          return issue(mode ? await noBackslashEscapes(core) : false)
        } finally {
          issued()
          if (s.gate === turn) s.gate = undefined
        }
      }
      return go()
    }

    /**
     * Refuse a statement over max_allowed_packet before sending it. Called only for statements
     * of `SIZE_CHECK_FROM` bytes or more (`roughSize`), so others wait for no extra promise.
     */
    const checkSize = async (core: CoreConnection, q: Compiled, asText: boolean): Promise<void> => {
      const limit = await maxPacket(core)
      const size = exactSize(q, asText)
      if (size > limit) {
        throw dbError('ValueTooLarge', `the statement is ${size} bytes, over the server's max_allowed_packet of ${limit} bytes`, { code: 'MAX_ALLOWED_PACKET', limit })
      }
    }

    /** Run one statement on a connection we hold; rejects with a DbError. */
    const runOn = async (core: CoreConnection, q: Compiled): Promise<QueryResult> => {
      const params = q.params
      const asText = !prepare || (params.length === 0 && (q.sql.length >= LONG_TEXT || CONTROL.test(fromStart(q.sql, true))))
      const s = sessionOf(core)
      // A connection the watchdog closed already: the statement is not sent (mysql2 says so).
      const expired = s.expired
      busy(s)
      try {
        const problem = checkParams(params, mysqlParamProblem)
        if (problem !== undefined) throw problem
        if (roughSize(q, asText) >= SIZE_CHECK_FROM) await checkSize(core, q, asText)
        const a = await inOrder(core, asText && params.length > 0 && needsMode(q.sql, params), (nbe) =>
          asText
            ? send(core, true, params.length === 0 ? q.sql : formatStatement(q.sql, params, nbe))
            : send(core, false, q.sql, params))
        return toResult(a.res, q.sql, a.fields, dates)
      } catch (e) {
        if (!asText && (e as MysqlErrorLike).errno === ER_UNSUPPORTED_PS) {
          try {
            const a = await inOrder(core, needsMode(q.sql, params), (nbe) => send(core, true, formatStatement(q.sql, params, nbe)))
            return toResult(a.res, q.sql, a.fields, dates)
          } catch (e2) {
            throw !expired && s.expired ? answerLost(q) : failOn(core, e2, q)
          }
        }
        throw !expired && s.expired ? answerLost(q) : failOn(core, e, q)
      } finally {
        idle(s)
      }
    }

    /**
     * The error of a statement on `core`. After a packet over max_allowed_packet the server
     * closes the session: the connection is taken out of the pool (the pool opens a fresh one),
     * so the next statement does not meet the closed one.
     */
    const failOn = (core: CoreConnection, e: unknown, q: Compiled): DbError => {
      const err = fail(e, q)
      if (err._tag === 'ValueTooLarge' && err.code === 1153) core.destroy()
      return err
    }

    /**
     * Rows of one statement in batches, on a connection we hold. Returns normally when the
     * result is read to its end or failed; when the consumer stops early, `onEarlyExit`
     * decides what happens to the rest.
     */
    const rowsOn = async function* (
      core: CoreConnection, q: Compiled, batchSize: number, onEarlyExit: (cmd: CoreCommand, finished: () => boolean) => Promise<void>,
    ): AsyncGenerator<readonly Row[]> {
      const params = q.params as unknown[]
      // Set when mysql2 has read the result's end (its EOF or OK packet): only then is it whole.
      let finished = false
      // Set when the connection was lost first: the rest of the result will never come.
      let gone = false
      let cmd!: CoreCommand
      let rows!: Readable
      let columns: string[] | undefined
      try {
        const problem = checkParams(params, mysqlParamProblem)
        if (problem !== undefined) throw problem
        await inOrder(core, !prepare && params.length > 0 && needsMode(q.sql, params), async (nbe) => {
          cmd = prepare && !(params.length === 0 && q.sql.length >= LONG_TEXT) ? core.execute(q.sql, params) : core.query(params.length === 0 ? q.sql : formatStatement(q.sql, params, nbe))
          cmd.once('end', () => { finished = true })
          cmd.once('fields', (fields: unknown) => { columns = dateColumns(fields, dates) })
          rows = cmd.stream({ highWaterMark: batchSize })
        })
      } catch (e) {
        throw fail(e, q)
      }
      // mysql2 reports a connection lost during a streamed result to the connection only (the
      // command has no callback), and the stream would wait forever: end it with that error.
      const lost = (e: unknown): void => {
        if (finished) return
        gone = true
        rows.destroy(e instanceof Error ? e : new Error(String(e)))
      }
      const closedUnder = (): void => lost(Object.assign(new Error('Connection lost: the server closed the connection during a streamed result'), { code: 'PROTOCOL_CONNECTION_LOST', fatal: true }))
      core.on('error', lost)
      core.on('end', closedUnder)
      const session = sessionOf(core)
      // The answer deadline counts while rows are awaited, not while the caller holds a batch.
      const expired = session.expired
      let waiting = true
      busy(session)
      const failure = (e: unknown): DbError => (!expired && session.expired ? answerLost(q) : fail(e, q))
      const cutUnder = (): void => lost(Object.assign(new Error('Connection closed: the backend was closed while the stream was open, and its timeout passed'), { code: 'PROTOCOL_CONNECTION_LOST', fatal: true }))
      session.cut = cutUnder
      let completed = false
      try {
        let batch: Row[] = []
        try {
          for await (const row of rows) {
            if (columns !== undefined) readDates([row as Row], columns)
            batch.push(row as Row)
            if (batch.length >= batchSize) {
              const out = batch
              batch = []
              waiting = false
              idle(session)
              yield out
              waiting = true
              busy(session)
            }
          }
        } catch (e) {
          completed = true
          throw failure(e)
        }
        completed = true
        // The rows ended without the result's end packet (the connection went first): the
        // result is cut short, never a normal end with fewer rows.
        if (!finished || gone) throw failure(Object.assign(new Error('Connection lost: the streamed result ended before its end was read'), { code: 'PROTOCOL_CONNECTION_LOST', fatal: true }))
        waiting = false
        idle(session)
        if (batch.length > 0) yield batch
      } finally {
        if (waiting) idle(session)
        core.removeListener('error', lost)
        core.removeListener('end', closedUnder)
        if (session.cut === cutUnder) session.cut = undefined
        if (!completed) await onEarlyExit(cmd, () => finished || gone || connectionGone(core))
      }
    }

    /**
     * Read and drop the rest of a result, so the connection can run the next statement. Done at
     * once when the result was read or the connection is lost (`over`), and when the connection
     * is lost while the rest is read: the rest will never come, and the connection's next
     * statement fails with ConnectionError.
     */
    const drain = (core: CoreConnection) => (cmd: CoreCommand, over: () => boolean): Promise<void> =>
      new Promise<void>((resolve) => {
        if (over()) return resolve()
        const done = (): void => {
          cmd.removeListener('end', done)
          cmd.removeListener('error', done)
          core.removeListener('error', done)
          core.removeListener('end', done)
          resolve()
        }
        cmd.once('end', done)
        cmd.once('error', done)
        core.once('error', done)
        core.once('end', done)
        core.resume()
      })

    const held = (core: CoreConnection): Connection => {
      let released = false
      reserved.add(core)
      return Object.freeze({
        execute: (q: Compiled): TaskEither<DbError, QueryResult> => () => {
          // A connection already lost sends nothing: say so (a COMMIT refused so committed nothing).
          const gone = connectionGone(core)
          return runOn(core, q).then(E.right, (e: DbError) => {
            if (gone && e._tag === 'ConnectionError') (e as { sent?: false }).sent = false
            return E.left(e)
          })
        },
        stream: (q: Compiled, o?: { readonly batchSize?: number }) => ({
          [Symbol.asyncIterator]: () => rowsOn(core, q, o?.batchSize ?? 500, drain(core)),
        }),
        release: async () => {
          if (released) return
          released = true
          reserved.delete(core)
          core.release()
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
        let core: CoreConnection
        try {
          core = await acquire()
        } catch (e) {
          return E.left(e as DbError)
        }
        try {
          return E.right(await runOn(core, q))
        } catch (e) {
          return E.left(e as DbError)
        } finally {
          core.release()
        }
      },

      stream: (q, o) => ({
        [Symbol.asyncIterator]: () => (async function* () {
          let conn: CoreConnection
          try {
            conn = await acquire()
          } catch (e) {
            throw withStatement(e as DbError, q.sql, q.params, redact)
          }
          let early = false
          try {
            // Stopping early leaves the rest of the result on the wire: rather than read it,
            // close this connection; the pool opens another when one is needed.
            yield* rowsOn(conn, q, o?.batchSize ?? 500, async () => {
              early = true
              conn.destroy()
            })
          } finally {
            // A connection the answer watchdog closed leaves the pool now: it is closed under
            // the stream before mysql2 has heard of it, and would otherwise be handed out again.
            if (!early) {
              if (sessionOf(conn).expired) conn.destroy()
              else conn.release()
            }
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

      classifyError: (e) => classifyMysqlError(e, server),

      close: (o) => async () => {
        closed = true
        if (pool === undefined) return E.right(undefined)
        const p = pool
        pool = undefined
        // Transactions: the backend has waited for them already.
        for (const c of reserved) cut(c)
        reserved.clear()
        // mysql2 ends each connection after the commands queued on it (a statement still running,
        // a stream not read to its end): wait for that up to the timeout, then cut them.
        const ending = p.end().then(() => undefined, (e: unknown) => e)
        let timer: ReturnType<typeof setTimeout> | undefined
        const late = new Promise<'late'>((resolve) => { timer = setTimeout(() => resolve('late'), o?.timeout ?? DEFAULT_CLOSE_MS) })
        const ended = await Promise.race([ending, late])
        clearTimeout(timer)
        if (ended === 'late') {
          for (const c of connectionsOf(p)) cut(c)
          return E.right(undefined)
        }
        if (ended === undefined) return E.right(undefined)
        // A connection already lost (or cut above) is closed all the same.
        const failed = self.classifyError(ended)
        return failed._tag === 'ConnectionError' ? E.right(undefined) : E.left(failed)
      },
    }
  })
}
