/**
 * recordkit: a backend is a plain record of functions made from a driver and a dialect.
 *
 * @example
 * import { compose, sql } from 'recordkit'
 * import { sqlite } from 'recordkit/dialects/sqlite'
 * import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'
 * const db = compose(betterSqlite3({ filename: ':memory:' }), sqlite)
 */
export { compose, connect, wrap, statementOf, type Backend, type CloseOptions, type Executable, type Middleware, type Prepared, type PreparedSync, type SyncBackend } from './compose.js'
export { extend, fix, openOf, type Open } from './record.js'
export { sql, render, isFragment, fromParts, json, isJsonValue, type JsonValue, type Compiled, type Fragment, type Part } from './sql.js'
export * from './query.js'
export * from './query/index.js'
export * from './errors.js'
export { DEFAULT } from './ast.js'
export type * from './ast.js'
export { supports, unsupported, versionAtLeast, type Compilable, type Dialect, type TransactionOptions } from './dialect.js'
export type { Connection, Driver, QueryResult, StreamOptions, SyncConnection, SyncDriver } from './driver.js'
export { run, promised, type PromiseBackend } from './promise.js'
export { createBackend, registerBackend, registeredSchemes, type BackendConfig, type BackendConfigs, type BackendFactory, type ConfigOf, type Engine } from './registry.js'
export { logging, metrics, retry, slowQueries, type Metrics, type RetryOptions, type StatementEvent } from './middleware.js'
export * from './model/index.js'
export { savepoint } from './savepoint.js'
