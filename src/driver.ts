/**
 * The Driver record: everything that talks to a client library. Drivers run SQL text with
 * parameters, stream, reserve a connection for a transaction, report the server version and
 * classify the client's errors into DbError. They know nothing of query data or dialects.
 */
import type { Either } from 'fp-ts/lib/Either.js'
import type { IOEither } from 'fp-ts/lib/IOEither.js'
import type { Option } from 'fp-ts/lib/Option.js'
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import type { DbError } from './errors.js'
import type { Compiled } from './sql.js'

/** A row as the client library returns it. */
export type Row = Record<string, unknown>

/** The outcome of one statement. */
export interface QueryResult<R = Row> {
  /** Rows returned (empty for statements that return none). */
  readonly rows: R[]
  /** Rows inserted, updated or deleted. */
  readonly rowsAffected: number
  /**
   * The generated key the engine reports for an INSERT, where it reports one: for one row, that
   * row's key. For several rows it follows the engine (`Dialect.insertIdOfMany`): SQLite reports
   * the last row's key, MySQL and MariaDB the first row's. PostgreSQL reports none: use
   * `RETURNING`.
   */
  readonly insertId?: number | bigint
}

/** Options for streaming a result. */
export interface StreamOptions {
  /** Rows fetched per round trip (cursor size). Default 500. */
  readonly batchSize?: number
}

/**
 * Statements answered without a Promise, on a client library that runs them synchronously
 * (better-sqlite3). Optional: `compose` builds `Backend.sync` from it, and prepared queries and
 * models use it when it is there.
 *
 * @example
 * const r = driver.sync?.ready() ? driver.sync.execute({ sql: 'SELECT 1 AS one', params: [] })() : undefined
 */
export interface SyncDriver {
  /**
   * The `execute` this synchronous form stands for. `compose` takes the synchronous path only
   * while the driver's `execute` is this very function: a driver whose `execute` was replaced
   * (by a spread copy or `extend`) without a `sync` of its own is served by that `execute`.
   */
  readonly of: (q: Compiled) => TaskEither<DbError, QueryResult>
  /** Whether a statement can run now: false while a transaction or a stream holds the connection. */
  readonly ready: () => boolean
  /** Run one statement now; the caller has checked `ready`. */
  readonly execute: (q: Compiled) => IOEither<DbError, QueryResult>
  /**
   * Optional: statements kept for repeated runs, for prepared queries that want one row.
   * `kept.first(sql)` returns a function that runs `sql` now with the parameters given and
   * returns its first row (undefined when there is none), as `execute` of
   * `{ sql, params, first: true }` would, and throws the DbError `execute` would report; the
   * caller has checked `ready` before each run. It spares the statement record, the result
   * record and the statement-cache lookup per run. It is used only while `execute` is `kept.of`:
   * a copy of this record with another `execute` (middleware watching statements) is not bypassed.
   * `adapted` says that every parameter came out of the dialect's `toDriver` (as a prepared
   * query's do), which converts or refuses what a built-in driver cannot bind, so the driver may
   * skip its own check of each value, as it does for `executeBatch`'s runs.
   *
   * @example
   * const s = driver.sync
   * const byId = s?.kept?.of === s?.execute ? s?.kept?.first('SELECT * FROM users WHERE id = ?') : undefined
   * const row = s?.ready() ? byId?.([1]) : undefined
   */
  readonly kept?: {
    readonly of: (q: Compiled) => IOEither<DbError, QueryResult>
    readonly first: (sql: string) => (params: readonly unknown[], adapted?: boolean) => Row | undefined
  }
}

/** A held connection's synchronous form (see `SyncDriver`). */
export interface SyncConnection {
  /** The connection's `execute` this stands for (see `SyncDriver.of`). */
  readonly of: (q: Compiled) => TaskEither<DbError, QueryResult>
  readonly execute: (q: Compiled) => IOEither<DbError, QueryResult>
}

/** One connection, held exclusively (for a transaction or a stream). */
export interface Connection {
  readonly execute: (q: Compiled) => TaskEither<DbError, QueryResult>
  /** The same, without a Promise, where the client library answers synchronously. */
  readonly sync?: SyncConnection
  /** Rows in batches; ending the iteration early releases what it holds. Throws DbError. */
  readonly stream: (q: Compiled, options?: StreamOptions) => AsyncIterable<readonly Row[]>
  /** Give the connection back (to the pool, or unlock it). Never fails. */
  readonly release: () => Promise<void>
}

/** The Driver record. */
export interface Driver {
  /** Client library name, for messages: `better-sqlite3`, `postgres.js`, `mysql2`. */
  readonly name: string
  /**
   * Whether statements issued together are sent without waiting for each answer (postgres.js
   * pipelines them). `executeBatch` issues its runs together only then; on any other driver it
   * runs them one after another and stops at the first failure.
   */
  readonly pipelines?: boolean
  /** Run one statement on any available connection. */
  readonly execute: (q: Compiled) => TaskEither<DbError, QueryResult>
  /** Statements without a Promise, where the client library answers synchronously. */
  readonly sync?: SyncDriver
  /**
   * Optional: the first row of one statement on any available connection, mapped in the same
   * continuation that reads the client's answer, where `execute` and then picking the row would
   * take one more. `first` of built and prepared queries uses it outside transactions, and only
   * while the driver's `execute` is `of` (middleware that replaced `execute` is not bypassed).
   * What it answers is what `execute` of `q` would, reduced to its first row.
   *
   * @example
   * const f = driver.firstRow?.of === driver.execute ? driver.firstRow : undefined
   * const row = await f?.run({ sql: 'SELECT 1 AS one', params: [], first: true }) // Right(Some({ one: 1 }))
   */
  readonly firstRow?: {
    readonly of: (q: Compiled) => TaskEither<DbError, QueryResult>
    readonly run: (q: Compiled) => Promise<Either<DbError, Option<Row>>>
  }
  /** Stream one statement's rows in batches on a connection held for the duration. Throws DbError. */
  readonly stream: (q: Compiled, options?: StreamOptions) => AsyncIterable<readonly Row[]>
  /** Hold one connection exclusively until `release` (transactions use this). */
  readonly reserve: () => TaskEither<DbError, Connection>
  /** The server or library version, e.g. `3.45.1`, `15.4`, `10.11.6-MariaDB`. */
  readonly version: () => TaskEither<DbError, string>
  /**
   * The version when it is known without I/O (an embedded library such as SQLite or DuckDB):
   * `compose` then specialises the dialect at once (`dialect.forVersion`), as `connect` does
   * after asking a server. Absent on drivers that must ask the server.
   */
  readonly knownVersion?: () => string
  /** Turn anything the client threw into a DbError, by the database's own error code. */
  readonly classifyError: (e: unknown) => DbError
  /**
   * Close every connection. `timeout` (ms) bounds the wait for statements and streams still
   * running: after it, their connections are closed under them and they fail with
   * ConnectionError. The backend passes what is left of `close({ timeout })`, or 0 when its own
   * wait for open transactions ran out; without it, the driver's default (5 s on postgres.js and
   * mysql2). After close the driver never opens a connection again: calls fail with
   * ConnectionError (`code: 'BACKEND_CLOSED'`).
   *
   * @example
   * await driver.close({ timeout: 1_000 })() // a statement still running a second later fails
   */
  readonly close: (options?: { readonly timeout?: number }) => TaskEither<DbError, void>
}
