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
}
