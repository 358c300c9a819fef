/**
 * recordkit: a backend is a plain record of functions made from a driver and a dialect.
 *
 * The package's entry points, one per layer (a new public name goes in the entry of its layer):
 *
 * | entry | what |
 * |---|---|
 * | `recordkit` | the core: `compose`, `connect`, `wrap`, `extend`, `sql`, errors, `createBackend`, `run`, middleware |
 * | `recordkit/query` | query builders (`from`, `select`, `where`, ...) and the query data types |
 * | `recordkit/model` | io-ts models, relations, behaviours, column codecs |
 * | `recordkit/schema` | DDL as data, introspection, migrations |
 * | `recordkit/promise` | the Promise adapter (`run`, `promised`) |
 * | `recordkit/backend` | what a backend for another database needs |
 * | `recordkit/testing` | the conformance suite and the Chinook loader |
 * | `recordkit/dialects/{standard,sqlite,postgres,mysql}`, `recordkit/drivers/{better-sqlite3,postgres,mysql2}` | the built-in dialects and drivers |
 *
 * @example
 * import { compose, run, sql } from 'recordkit'
 * import { sqlite } from 'recordkit/dialects/sqlite'
 * import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'
 * const db = compose(betterSqlite3({ filename: ':memory:' }), sqlite)
 * await run(db.all(sql`SELECT 1`))
 */
export { compose, connect, wrap, statementOf, type Backend, type CloseOptions, type PrepareOptions, type ControlledScope, type Executable, type Middleware, type Prepared, type PreparedSync, type ReservedConnection, type Savepoint, type ScopeSavepoint, type SyncBackend, type Transaction } from './compose.js'
export { extend, fix, openOf, type Open } from './record.js'
export { sql, render, isFragment, fromParts, json, isJsonValue, type JsonValue, type Compiled, type Fragment, type Part } from './sql.js'
export * from './errors.js'
export { UNBINDABLE } from './values.js'
export { supports, unsupported, versionAtLeast, type Compilable, type Dialect, type TransactionOptions } from './dialect.js'
export type { Connection, Driver, QueryResult, StreamOptions, SyncConnection, SyncDriver } from './driver.js'
export { run, promised, type PromiseBackend, type PromiseConnection, type PromiseSavepoint, type PromiseTransaction } from './promise.js'
export { createBackend, registerBackend, registeredSchemes, type BackendConfig, type BackendConfigs, type BackendFactory, type ConfigOf, type Engine } from './registry.js'
export { logging, metrics, retry, slowQueries, type Metrics, type RetryOptions, type StatementEvent } from './middleware.js'
export { savepoint } from './savepoint.js'
export { afterCommit, type AfterCommitCallback } from './after-commit.js'
