/**
 * The options of the built-in drivers that need none of the client libraries' types, so that
 * `createBackend`'s configuration objects (and so the `recordkit` entry point) type-check in an
 * application that has not installed every client library. Each driver's module adds the
 * options that do need its library's types (`PostgresJsOptions.client`, `Mysql2Options.pool`).
 */

/** Options of the better-sqlite3 driver. */
export interface BetterSqlite3Options {
  /** A file path, or `':memory:'`. */
  readonly filename: string
  readonly readonly?: boolean
  /** Milliseconds to wait on a locked file database. Default 5000. */
  readonly busyTimeout?: number
  /** WAL journal for file databases. Default true. */
  readonly wal?: boolean
  /** Enforce foreign keys (`PRAGMA foreign_keys = ON`). Default true. */
  readonly foreignKeys?: boolean
  /** How integers come back. Default `'safe'`. */
  readonly integers?: 'safe' | 'bigint' | 'number'
  /** Prepared statements kept per connection. Default 500. */
  readonly statementCacheSize?: number
  /** Replace parameters by `'[redacted]'` in errors. Default false. */
  readonly redactParams?: boolean
  /**
   * Milliseconds a statement or transaction waits for the connection while a transaction (or
   * a stream on `:memory:`) holds it, before it fails with PoolTimeout. Default 30,000.
   */
  readonly acquireTimeout?: number
}

/**
 * Milliseconds a statement already sent may go without a word from the server before its
 * connection is given up, when the server's own statement limit is unknown: 10 minutes. Long
 * enough for an index build or a report that has no limit of its own; short enough that a frozen
 * host or a network that drops packets ends the call (TCP alone may wait 15 minutes, or for ever).
 */
export const DEFAULT_ANSWER_TIMEOUT = 600_000

/**
 * The answer deadline a driver uses: `answerTimeout` when given (`0` turns the deadline off);
 * else, when the connections have a server-side statement limit of `serverLimit` ms, that limit
 * and a margin (a tenth of it, at least 5 s), so that the server's StatementTimeout comes first
 * and the deadline is only the backstop; else `DEFAULT_ANSWER_TIMEOUT`.
 *
 * @example
 * answerDeadline(undefined, 10_000) // 15_000: the server stops the statement first
 * answerDeadline(undefined, undefined) // 600_000
 * answerDeadline(3_000, 10_000) // 3_000: as given
 * answerDeadline(0, undefined) // 0: off
 */
export const answerDeadline = (answerTimeout: number | undefined, serverLimit: number | undefined): number => {
  if (answerTimeout !== undefined) {
    if (!(answerTimeout >= 0)) throw new TypeError(`answerTimeout must be a number of milliseconds, 0 or more (0 turns it off); got ${String(answerTimeout)}`)
    return answerTimeout
  }
  return serverLimit !== undefined && serverLimit > 0 ? serverLimit + Math.max(5_000, Math.ceil(serverLimit / 10)) : DEFAULT_ANSWER_TIMEOUT
}

/** Options of the postgres.js driver that need no postgres.js types (`PostgresJsOptions` adds the rest). A `url` and separate fields may be mixed; fields win. */
export interface PostgresJsBaseOptions {
  /** `postgres://user:password@host:port/database?sslmode=require`; several hosts: `host1:5432,host2:5432`. */
  readonly url?: string
  readonly host?: string
  readonly port?: number
  readonly database?: string
  readonly user?: string
  readonly password?: string | (() => string | Promise<string>)
  readonly ssl?: boolean | 'require' | 'allow' | 'prefer' | 'verify-full' | object
  /** Largest number of connections in the pool. Default 10. */
  readonly max?: number
  /** Prepare and cache statements per connection. Default true; false for PgBouncer (transaction mode). */
  readonly prepare?: boolean
  /**
   * Seconds before an idle connection closes. Default 10: an open connection keeps the Node
   * process alive, so a program that never calls `close()` still ends 10 s after its last
   * query (`0` keeps idle connections open for good; then only `close()` lets it end).
   */
  readonly idleTimeout?: number
  /** Seconds to wait for a connection. Default 30. */
  readonly connectTimeout?: number
  /** Seconds a connection lives before it is replaced. Default: postgres.js' 30-60 minutes. */
  readonly maxLifetime?: number
  /** How `int8` comes back. Default `'safe'`. */
  readonly int8?: 'safe' | 'bigint' | 'string' | 'number'
  /** The session time zone. Default `'UTC'` (see the value policy). */
  readonly timeZone?: string
  /** `application_name` shown in `pg_stat_activity`. Default `'recordkit'`. */
  readonly applicationName?: string
  /** More startup parameters for every connection, e.g. `{ search_path: 'app', statement_timeout: '5s' }`. */
  readonly connection?: Readonly<Record<string, string | number | boolean>>
  /** Seconds `close` waits for running queries before it cuts the connections. Default 5. */
  readonly closeTimeout?: number
  /**
   * Milliseconds a transaction waits for a connection of its own (`reserve`), and a statement
   * waits to be sent while every connection is held or still connecting, before PoolTimeout.
   * Default 30,000. A connection that arrives after the wait gave up goes back to the pool.
   */
  readonly acquireTimeout?: number
  /**
   * The reconnect policy: milliseconds before the n-th attempt in a row to open a connection
   * after the previous ones failed (n = 1, 2, ...). Default `min(25 * 2^n, 1000)`: while the
   * server is down, each call fails with ConnectionError within about a second of asking
   * (postgres.js' own default backs off to 20 s, and calls wait through it), and a server that
   * came back is found again within a second.
   */
  readonly reconnectDelay?: (attempt: number) => number
  /** Replace parameters by `'[redacted]'` in errors. Default false. */
  readonly redactParams?: boolean
  /**
   * Milliseconds a statement that was sent may wait for the server's answer without hearing a
   * byte of it (a frozen host, a network that drops packets, a server process stopped). Past
   * that, the connection it went out on is closed (its state is unknown, so it is never used
   * again; the pool opens another) and the call fails with a `ConnectionError` whose `outcome`
   * is `'unknown'` and `code` `'ANSWER_TIMEOUT'`: the statement may have run. Counted while the
   * server is working on the statement, not while it waits behind others on its connection, and
   * for a stream while a batch is asked for, not while the caller holds one. Default: the
   * `statement_timeout` given in `connection` plus a margin (a tenth, at least 5 s), so that the
   * server's StatementTimeout comes first; without one, 10 minutes (`DEFAULT_ANSWER_TIMEOUT`).
   * `0` turns it off. Checked by one timer for the pool, a few times per `answerTimeout` (at
   * most every second), so a call ends up to about a second past it.
   *
   * @example
   * postgresJs({ url, connection: { statement_timeout: '30s' } }) // answerTimeout 35 s
   * postgresJs({ url, answerTimeout: 3 * 60 * 60_000 }) // a migration that builds big indexes
   */
  readonly answerTimeout?: number
}

/** Options of the mysql2 driver that need no mysql2 types (`Mysql2Options` adds the rest). */
export interface Mysql2BaseOptions {
  /** `mysql://user:password@host:port/database`; its parts win over the fields below. */
  readonly url?: string
  readonly host?: string
  readonly port?: number
  readonly user?: string
  readonly password?: string
  readonly database?: string
  /** Most connections open at once. Default 10. */
  readonly max?: number
  /** Same as `max` (mysql2's name). */
  readonly connectionLimit?: number
  /** Server-side prepared statements (`execute`). Default true; false uses `query`. */
  readonly prepare?: boolean
  /** How BIGINT comes back: always a string (default), or a number when within 2^53. */
  readonly bigNumbers?: 'string' | 'safe'
  /** Temporal types returned as strings. Default `['DATE']`. */
  readonly dateStrings?: boolean | readonly ('DATE' | 'DATETIME' | 'TIMESTAMP')[]
  /** Replace parameters by `'[redacted]'` in errors. Default false. */
  readonly redactParams?: boolean
  /**
   * Prepared statements kept per connection (mysql2's `maxPreparedStatements`; the least
   * recently used is closed on the server). Default 1000, so that a full pool stays under
   * the server's global `max_prepared_stmt_count` (16382 by default).
   */
  readonly statementCacheSize?: number
  /**
   * Milliseconds a statement or transaction waits for a connection while every one is in use,
   * before it fails with PoolTimeout. Default 30,000. A connection that arrives after the wait
   * gave up goes back to the pool.
   */
  readonly acquireTimeout?: number
  /**
   * Milliseconds a statement that was sent may wait for the server's answer without hearing a
   * byte of it (a frozen host, a network that drops packets, a server process stopped). Past
   * that, its connection is closed (never used again; the pool opens another) and the call fails
   * with a `ConnectionError` whose `outcome` is `'unknown'` and `code` `'ANSWER_TIMEOUT'`: the
   * statement may have run. For a stream, counted while rows are awaited, not while the caller
   * holds a batch. Default 10 minutes (`DEFAULT_ANSWER_TIMEOUT`): the driver does not read the
   * server's `max_statement_time` (MariaDB) or `max_execution_time` (MySQL), so when one is set
   * above that, raise this past it. `0` turns it off. Checked by one timer for the pool, a few
   * times per `answerTimeout` (at most every second).
   *
   * @example
   * mysql2({ url, answerTimeout: 60_000 }) // with max_statement_time = 50 on the server
   */
  readonly answerTimeout?: number
}
