/**
 * `recordkit/backend`: what a backend for a database recordkit does not ship needs, so that it
 * can live in a package of its own (docs/custom-backends.md walks through one).
 *
 * - the records and their parts: `Driver`, `Connection`, `QueryResult`, `Row`, `StreamOptions`,
 *   `Dialect`, `TransactionOptions`, `Compiled`, built with `fix` and `extend`;
 * - `connectionLock`: the lock a driver over one connection needs for `reserve`;
 * - `standardOpen`: the standard dialect's functions bound to your record, to get the standard
 *   behaviour back under an override of a base dialect;
 * - error helpers: `dbError`, `isDbError`, `withStatement` (attach the statement to an error),
 *   `sqlstateTag` (a SQLSTATE code's DbError tag), `unsupported` / `unsupportedError`;
 * - catalog reads for a dialect's introspection: `catalogRead`, `rowsOf`, `CatalogRead`.
 *
 * @example
 * import { connectionLock, fix, sqlstateTag, withStatement, type Driver } from 'recordkit/backend'
 * const lock = connectionLock()
 * sqlstateTag('23505') // 'UniqueViolation'
 */
export { connectionLock, type ConnectionLock } from './drivers/connection-lock.js'
export { sqlstateTag, uniqueKeyColumns } from './drivers/sqlstate.js'
export { standardOpen } from './dialects/standard.js'
export { dbError, isDbError, unsupportedError, withStatement, type DbError, type DbErrorTag } from './errors.js'
export { supports, unsupported, VERSION_GATES, versionAtLeast, type Dialect, type TransactionOptions } from './dialect.js'
export type { Connection, Driver, QueryResult, Row, StreamOptions } from './driver.js'
export { extend, extendLayer, fix, hasLayer, layerDepth, openOf, type Open } from './record.js'
export type { Compiled } from './sql.js'
export { read as catalogRead, rowsOf } from './dialects/ddl/standard.js'
export type { CatalogRead, RunQuery } from './schema/ddl-dialect.js'
