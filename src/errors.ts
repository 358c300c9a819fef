/**
 * DbError: the one error type every recordkit operation fails with.
 *
 * A tagged union keyed by `_tag`. Drivers classify errors by the database's own codes
 * (PostgreSQL SQLSTATE, MySQL errno, SQLite extended result codes), never by message text.
 * Each error is a real `Error` (it has a stack) that also carries the SQL, the parameters and
 * the original cause, so a log line says what ran and why it failed.
 */

import type { TaskEither } from 'fp-ts/lib/TaskEither.js'

/** Every tag a DbError may carry. */
export type DbErrorTag =
  | 'ConnectionError'
  | 'QueryError'
  | 'UniqueViolation'
  | 'ForeignKeyViolation'
  | 'NotNullViolation'
  | 'CheckViolation'
  | 'SerializationFailure'
  | 'Deadlock'
  | 'LockTimeout'
  | 'StatementTimeout'
  | 'PoolTimeout'
  | 'TransactionError'
  | 'UnsupportedFeature'
  | 'DecodeError'
  | 'ValidationError'
  | 'NotFound'
  | 'ConflictError'
  | 'HookError'
  | 'ValueTooLarge'

/** One failing field in a ValidationError or DecodeError. */
export interface FieldIssue {
  /** Dotted path of the field, e.g. `email` or `address.city` or `rows.3.name`. */
  readonly path: string
  /** The rule that failed, e.g. the io-ts type name `string` or a refinement name `Email`. */
  readonly rule: string
  /** The offending value (omitted when redacted). */
  readonly value?: unknown
  readonly message: string
}

interface Base<Tag extends DbErrorTag> extends Error {
  readonly _tag: Tag
  /** SQL text that failed, when a statement was involved. */
  readonly sql?: string
  /** Parameters bound to that SQL (replaced by `'[redacted]'` when redaction is on). */
  readonly params?: readonly unknown[]
  /** The database's own code: SQLSTATE, errno or SQLite extended code. */
  readonly code?: string | number
  /** The original error thrown by the client library. */
  readonly cause?: unknown
  /**
   * Set when the database rolled back the whole transaction the statement ran in, savepoints
   * included (MySQL and MariaDB at a deadlock, errno 1213): the connection then goes on outside
   * any transaction, so recordkit refuses the transaction's later statements instead of letting
   * each commit alone. PostgreSQL keeps a failed transaction open (it refuses its statements
   * itself, and a savepoint rolled back to recovers it), so it never sets this.
   */
  readonly endedTransaction?: boolean
}

export interface ConnectionError extends Base<'ConnectionError'> {
  /**
   * `'unknown'` when the connection was lost during a transaction's COMMIT: the server may have
   * committed it (only the answer was lost) or rolled it back. Check, or make the write idempotent.
   */
  readonly outcome?: 'unknown'
  /**
   * `false` when the statement never reached the server: its connection was already gone (or
   * the backend closed) when it was to be sent. A transaction's COMMIT refused so was not
   * committed: the server rolls back a transaction whose connection went.
   */
  readonly sent?: false
}
export interface QueryError extends Base<'QueryError'> {
  /**
   * The column the server named, where it names one: MySQL's and MariaDB's errno 1265 of an
   * INSERT or UPDATE (a value not in an ENUM's or SET's list, a number followed by letters).
   */
  readonly column?: string
}
export interface UniqueViolation extends Base<'UniqueViolation'> {
  /** The constraint (or unique index) as the engine names it. */
  readonly constraint?: string
  /** The table the duplicate was written to. */
  readonly table?: string
  /** The columns of the violated unique key, in key order. */
  readonly columns?: readonly string[]
  /**
   * The model's fields of those columns, in key order, when a model's write hit its own table's
   * key (`['userName']` for column `user_name`): what a form shows the error at.
   */
  readonly fields?: readonly string[]
  /**
   * In a model's `createMany`, the input rows (from 0) whose values of the key another row holds:
   * one stored before, or an earlier row of the same call. Nothing of the call was written.
   */
  readonly rows?: readonly number[]
}
export interface ForeignKeyViolation extends Base<'ForeignKeyViolation'> {
  readonly constraint?: string
}
export interface NotNullViolation extends Base<'NotNullViolation'> {
  readonly column?: string
}
export interface CheckViolation extends Base<'CheckViolation'> {
  readonly constraint?: string
}
export interface SerializationFailure extends Base<'SerializationFailure'> {}
export interface Deadlock extends Base<'Deadlock'> {}
export interface LockTimeout extends Base<'LockTimeout'> {}
/**
 * The server stopped the statement: past its time limit (`statement_timeout`, `max_statement_time`,
 * `max_execution_time`), or cancelled from another session (`pg_cancel_backend`, `KILL QUERY`,
 * SQLite's interrupt); `code` tells which engine said so. The connection stays usable.
 */
export interface StatementTimeout extends Base<'StatementTimeout'> {}
/**
 * No connection became free within the driver's `acquireTimeout`: every connection was held
 * (by transactions or streams) or could not be opened. Nothing was sent; retrying later is safe.
 */
export interface PoolTimeout extends Base<'PoolTimeout'> {
  /** Milliseconds waited. */
  readonly waited?: number
}
export interface TransactionError extends Base<'TransactionError'> {
  /**
   * `true` when the transaction COMMITTED and something after it failed: a callback queued with
   * `afterCommit` threw or rejected. The work is stored (the Left does not undo it): do not run
   * the transaction again; deal with the failed callback's work (`cause`) alone.
   */
  readonly committed?: true
}
export interface UnsupportedFeature extends Base<'UnsupportedFeature'> {
  readonly dialect: string
  readonly feature: string
}
export interface DecodeError extends Base<'DecodeError'> {
  readonly issues: readonly FieldIssue[]
}
export interface ValidationError extends Base<'ValidationError'> {
  readonly issues: readonly FieldIssue[]
}
export interface NotFound extends Base<'NotFound'> {
  readonly table?: string
  readonly key?: unknown
  /** The relation (`Model.relation`) whose row was absent, when loading one failed. */
  readonly relation?: string
}
/** An optimistic-lock conflict: the row changed since it was read. */
export interface ConflictError extends Base<'ConflictError'> {
  readonly table?: string
  readonly key?: unknown
}
/** A lifecycle hook refused the operation. */
export interface HookError extends Base<'HookError'> {
  readonly hook?: string
}

/**
 * A value or statement over a limit: a value too long or out of range for its column
 * (PostgreSQL `22001` string_data_right_truncation and `22003` numeric_value_out_of_range,
 * MySQL/MariaDB errno 1406 ER_DATA_TOO_LONG and 1264 ER_WARN_DATA_OUT_OF_RANGE, and 1265
 * WARN_DATA_TRUNCATED of an ALTER TABLE that shortens a column under a longer value), or a statement
 * over the engine's size limit (MySQL/MariaDB `max_allowed_packet`, SQLite `SQLITE_TOOBIG`,
 * PostgreSQL `54000`). Not a connection failure: retrying the same statement fails the same
 * way, and the pool stays usable. SQLite does not enforce declared lengths: it stores the value.
 */
export interface ValueTooLarge extends Base<'ValueTooLarge'> {
  /** The limit in bytes, when the driver knows it (`max_allowed_packet`). */
  readonly limit?: number
  /**
   * The column the value did not fit: named by MySQL and MariaDB; on PostgreSQL (whose 15 names
   * only the type) by a model's write or a built INSERT or UPDATE of a string too long, from the
   * column's declared length.
   */
  readonly column?: string
  /** The table of that column, when the server names it or the write (a model's, a built statement) knows it. */
  readonly table?: string
  /** The model's field of that column, when a model's write of its own table failed (`'userName'` for `user_name`). */
  readonly field?: string
  /** In a model's `createMany` of several rows, the input rows (from 0) whose value of `column` is too long for it. */
  readonly rows?: readonly number[]
}

/** The tagged union of every failure. */
export type DbError =
  | ConnectionError
  | QueryError
  | UniqueViolation
  | ForeignKeyViolation
  | NotNullViolation
  | CheckViolation
  | SerializationFailure
  | Deadlock
  | LockTimeout
  | StatementTimeout
  | PoolTimeout
  | TransactionError
  | UnsupportedFeature
  | DecodeError
  | ValidationError
  | NotFound
  | ConflictError
  | HookError
  | ValueTooLarge

type ErrorOf<T extends DbErrorTag> = Extract<DbError, { _tag: T }>
type Fields<T extends DbErrorTag> = Omit<ErrorOf<T>, keyof Error | '_tag'> & { readonly cause?: unknown }

const DB_ERROR = Symbol.for('recordkit.DbError')

/**
 * Make a DbError of the given tag.
 *
 * @example
 * const e = dbError('NotFound', 'no user 7', { table: 'users', key: 7 })
 * e._tag // 'NotFound'
 *
 * The result is typed `DbError` (not the one tag), so it fits wherever the library's errors go:
 * `TE.chain(TE.fromOption(() => dbError('NotFound', 'no user 7')))` after a query type-checks
 * as it is. Narrow with `isDbError(e, 'NotFound')` to read the tag's own fields.
 */
export const dbError = <T extends DbErrorTag>(tag: T, message: string, fields?: Fields<T>): DbError => {
  const e = new Error(message, fields && 'cause' in fields ? { cause: fields.cause } : undefined) as Error & Record<string | symbol, unknown>
  e.name = tag
  e._tag = tag
  e[DB_ERROR] = true
  if (fields) Object.assign(e, fields)
  return e as unknown as DbError
}

/**
 * True when a value is a DbError (of any tag, or of the tags given).
 *
 * @example
 * if (isDbError(e, 'UniqueViolation')) console.log(e.constraint)
 */
export function isDbError(u: unknown): u is DbError
export function isDbError<T extends DbErrorTag>(u: unknown, ...tags: T[]): u is ErrorOf<T>
export function isDbError(u: unknown, ...tags: DbErrorTag[]): boolean {
  return typeof u === 'object' && u !== null && (u as Record<symbol, unknown>)[DB_ERROR] === true &&
    (tags.length === 0 || tags.includes((u as DbError)._tag))
}

/**
 * The UnsupportedFeature error for a feature a dialect does not render.
 *
 * @example
 * unsupported('sqlite', 'FOR UPDATE').message // 'sqlite does not support FOR UPDATE'
 */
export const unsupportedError = (dialect: string, feature: string, detail?: string): UnsupportedFeature =>
  dbError('UnsupportedFeature', `${dialect} does not support ${feature}${detail ? `: ${detail}` : ''}`, { dialect, feature }) as UnsupportedFeature

/**
 * Attach the statement to an error (used by drivers when classifying).
 * Parameters are replaced by `'[redacted]'` when `redact` is true.
 *
 * @example
 * withStatement(err, 'SELECT 1', [], false)
 */
export const withStatement = <E extends DbError>(e: E, sql: string, params: readonly unknown[], redact: boolean): E => {
  ;(e as unknown as Record<string, unknown>).params = redact ? params.map(() => '[redacted]') : params
  return withSql(e, sql)
}

/** The most characters of a statement that an error's message shows (its `sql` field holds all). */
export const SQL_IN_MESSAGE = 1000

/**
 * A statement as an error's message shows it: whole up to `SQL_IN_MESSAGE` characters, else its
 * start, an ellipsis and its length (an IN list of 70,000 placeholders would otherwise make a
 * log line of half a megabyte).
 *
 * @example sqlForMessage('SELECT 1') // 'SELECT 1'
 * @example sqlForMessage(`SELECT ${'?, '.repeat(5000)}?`) // 'SELECT ?, ?, ... ?, … (15008 characters in all)'
 */
export const sqlForMessage = (sql: string): string => {
  if (sql.length <= SQL_IN_MESSAGE) return sql
  // Never cut between the two halves of a surrogate pair.
  const end = (sql.charCodeAt(SQL_IN_MESSAGE - 1) & 0xfc00) === 0xd800 ? SQL_IN_MESSAGE - 1 : SQL_IN_MESSAGE
  return `${sql.slice(0, end)}… (${sql.length} characters in all)`
}

/**
 * Attach the SQL text alone (no parameters) to a DbError: all of it in its `sql` field, and in
 * its message as `sqlForMessage` shows it (at most `SQL_IN_MESSAGE` characters of it).
 *
 * @example
 * withSql(dbError('ValidationError', 'parameter :id: cannot bind NaN'), 'SELECT ?').sql // 'SELECT ?'
 */
export const withSql = <E extends DbError>(e: E, sql: string): E => {
  const m = e as unknown as Record<string, unknown>
  m.sql = sql
  if (!e.message.includes(SQL_MARK)) m.message = `${e.message}${SQL_MARK}${sqlForMessage(sql)}`
  return e
}

/** Where `withSql` puts the statement in a message. */
const SQL_MARK = '\n  SQL: '

/**
 * A message with `detail` added to its own words, before the SQL `withSql` put in it (at the end
 * when it has none).
 *
 * @example beforeSql('too long\n  SQL: INSERT ...', ' (column name)') // 'too long (column name)\n  SQL: INSERT ...'
 */
export const beforeSql = (message: string, detail: string): string => {
  const at = message.indexOf(SQL_MARK)
  return at < 0 ? `${message}${detail}` : `${message.slice(0, at)}${detail}${message.slice(at)}`
}

/**
 * Wrap anything thrown into a DbError: a DbError passes through, anything else becomes
 * the given tag (QueryError by default) with the thrown value as its cause.
 *
 * @example
 * toDbError(new Error('boom'))._tag // 'QueryError'
 */
export const toDbError = (u: unknown, tag: DbErrorTag = 'QueryError'): DbError =>
  isDbError(u) ? u : dbError(tag as 'QueryError', u instanceof Error ? u.message : String(u), { cause: u })

/**
 * Async code that may throw, as a TaskEither: a thrown DbError is the Left as it is, anything
 * else a QueryError with the thrown value as its cause (`toDbError`). The one bridge from
 * `await`-style code back to TaskEither; its inverse is `run` (recordkit/promise).
 *
 * @example
 * const count = tryDb(async () => (await run(db.all(sql`SELECT 1 AS n`))).length)
 */
export const tryDb = <A>(f: () => Promise<A>): TaskEither<DbError, A> => async () => {
  // What fp-ts' TaskEither.tryCatch does, without loading fp-ts when recordkit is imported.
  try {
    return { _tag: 'Right', right: await f() }
  } catch (e) {
    return { _tag: 'Left', left: toDbError(e) }
  }
}
