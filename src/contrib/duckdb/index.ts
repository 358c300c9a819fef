/**
 * DuckDB for recordkit: the `duckdb` dialect (made from `postgres` with `extend`) and the
 * `duckdbNodeApi` driver (through `@duckdb/node-api`). Not a built-in backend: it lives in
 * contrib, is typechecked and passes the conformance suite with the rest, and is the worked
 * example of docs/custom-backends.md.
 *
 * @example
 * const db = compose(duckdbNodeApi({ path: ':memory:' }), duckdb)
 */
export { duckdb } from './dialect.js'
export { classifyDuckDbError, duckdbNodeApi, type DuckDbDriver, type DuckDbOptions } from './driver.js'
