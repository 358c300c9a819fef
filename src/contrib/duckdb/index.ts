/**
 * DuckDB for recordkit: the `duckdb` dialect (made from `postgres` with `extend`) and the
 * `duckdbNodeApi` driver (through `@duckdb/node-api`). Not a built-in backend: it lives in
 * contrib, is typechecked and passes the conformance suite with the rest, and is the worked
 * example of docs/custom-backends.md.
 *
 * @example
 * const db = compose(duckdbNodeApi({ path: ':memory:' }), duckdb)
 * registerBackend('duckdb', duckdbBackend)
 * const same = await run(createBackend('duckdb::memory:'))
 */
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import { type Backend, connect } from '../../compose.js'
import type { DbError } from '../../errors.js'
import type { ConfigOf } from '../../registry.js'
import { duckdb } from './dialect.js'
import { duckdbNodeApi, type DuckDbOptions } from './driver.js'

export { duckdb } from './dialect.js'
export { classifyDuckDbError, duckdbNodeApi, type DuckDbDriver, type DuckDbOptions } from './driver.js'

declare module '../../registry.js' {
  /** `{ engine: 'duckdb', path, config, ... }` is a configuration object `createBackend` takes. */
  interface BackendConfigs {
    duckdb: DuckDbOptions
  }
}

/**
 * A connected DuckDB backend from `duckdb:<path>` (`duckdb::memory:`, `duckdb:./data.duckdb`)
 * or `{ engine: 'duckdb', ...options }`: the factory to give `registerBackend`.
 *
 * @example
 * registerBackend('duckdb', duckdbBackend)
 */
export const duckdbBackend = (target: string | ConfigOf<'duckdb'>): TaskEither<DbError, Backend> => {
  if (typeof target !== 'string') {
    const { engine: _, ...options } = target
    return connect(duckdbNodeApi(options), duckdb)
  }
  const path = target.slice(target.indexOf(':') + 1)
  return connect(duckdbNodeApi({ path: path.startsWith('//') ? path.slice(2) : path }), duckdb)
}
