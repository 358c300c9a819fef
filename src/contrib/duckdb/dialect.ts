/**
 * The DuckDB dialect: the PostgreSQL dialect with DuckDB's differences, made with `extend`.
 *
 * DuckDB speaks PostgreSQL's SQL closely: `$n` placeholders, double-quoted identifiers,
 * `ILIKE`, `INSERT/UPDATE/DELETE ... RETURNING`, `ON CONFLICT (...) DO UPDATE SET col =
 * EXCLUDED.col` (with WHERE), `LIMIT $n OFFSET $n`, `NULLS FIRST`, RIGHT and FULL JOIN, the
 * `DEFAULT` keyword in VALUES. So this dialect starts from `postgres` and overrides only:
 *
 * - `toDriver`: a JS array is a DuckDB LIST (the driver binds it as one), not PostgreSQL's
 *   `{...}` array text; every other value follows PostgreSQL's policy (`toPostgres`).
 * - `beginTransaction`: DuckDB has no `ISOLATION LEVEL` clause. Every transaction gets snapshot
 *   isolation, which satisfies read uncommitted, read committed and repeatable read; SERIALIZABLE
 *   and DEFERRABLE are refused with UnsupportedFeature. `READ ONLY` exists.
 * - no SAVEPOINT: `savepoint`, `releaseSavepoint` and `rollbackToSavepoint` are `unsupported`,
 *   so a nested `transaction` fails with UnsupportedFeature and `supports(duckdb, 'savepoint')`
 *   is false.
 * - `unnestValues`: DuckDB's `unnest` takes one list, so an insert marked with `unnest(types)`
 *   is written as multi-row VALUES (what every non-PostgreSQL dialect does with the marker).
 * - `longInList`: none, so a long IN list binds one parameter per value (DuckDB has no limit on
 *   them), as short ones do.
 * - `forVersion`: DuckDB reports `v1.5.6`; the version kept is `1.5.6`.
 */
// Only recordkit's published entry points (`recordkit/backend`, `recordkit/dialects/postgres`).
import { extend, extendLayer, standardOpen, type TransactionOptions, unsupported, unsupportedError, VERSION_GATES } from '../../backend.js'
import { postgres, toPostgres, type PostgresDialect } from '../../dialects/postgres.js'

const NO_SAVEPOINTS = 'DuckDB has no savepoints, so transactions cannot nest'

/** BEGIN for the options DuckDB can honour; a refusal names what it cannot. */
const begin = (o: TransactionOptions): readonly string[] => {
  if (o.isolation === 'serializable') {
    throw unsupportedError('duckdb', 'SERIALIZABLE isolation', 'DuckDB gives every transaction snapshot isolation (repeatable read)')
  }
  if (o.deferrable === true) throw unsupportedError('duckdb', 'DEFERRABLE transactions')
  return [o.readOnly === true ? 'BEGIN TRANSACTION READ ONLY' : 'BEGIN TRANSACTION']
}

/**
 * The DuckDB dialect (DuckDB 1.1 and later; `compose` specialises it to the library's version).
 *
 * @example
 * const db = compose(duckdbNodeApi({ path: ':memory:' }), duckdb)
 * duckdb.compile(pipe(from('t'), where({ id: 1 }))) // SELECT * FROM "t" WHERE "id" = $1
 */
export const duckdb: PostgresDialect = extend<PostgresDialect>(postgres, (self, base) => ({
  name: 'duckdb',
  version: '1.5.0',

  // DuckDB averages integers to the nearest double already, and its DECIMAL is at most 38 wide:
  // the typed avg is a plain AVG here, not PostgreSQL's AVG(x * CAST(1 AS DECIMAL(65, 30))).
  func: (f) => base.func(f.result === 'float' && f.name.toLowerCase() === 'avg' ? { ...f, result: undefined } : f),

  toDriver: (v) => (Array.isArray(v) ? v.map(self.toDriver) : toPostgres(v)),
  // DuckDB caps no statement's parameters (a list of 70,000 runs as it is): a long IN list stays
  // one parameter per value, as a short one.
  longInList: undefined,

  unnestValues: (node) => standardOpen(self).insertValues(node),
  // No pg_attribute or to_regclass: createMany inserts through VALUES.
  unnestInsert: unsupported('duckdb', 'INSERT ... SELECT FROM unnest of one array per column'),
  columnTypes: unsupported('duckdb', 'column types from the PostgreSQL catalog'),

  beginTransaction: begin,
  savepoint: unsupported('duckdb', 'SAVEPOINT', NO_SAVEPOINTS),
  releaseSavepoint: unsupported('duckdb', 'RELEASE SAVEPOINT', NO_SAVEPOINTS),
  rollbackToSavepoint: unsupported('duckdb', 'ROLLBACK TO SAVEPOINT', NO_SAVEPOINTS),

  forVersion: (version) => extendLayer(self, VERSION_GATES, () => ({ version: version.trim().replace(/^v/, '') })),
}))
