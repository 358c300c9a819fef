/**
 * Extensions of the built-in backends, each changing one function and nothing else.
 * docs/extending-backends.md quotes this file; examples/extending.ts and
 * examples/extending-servers.ts run these; test/extending.test.ts checks each still takes effect.
 */
import { type Dialect, extend, type Fragment, fromParts, sql } from 'recordkit'
import { extension } from 'recordkit/query'
import { mysql } from 'recordkit/dialects/mysql'
import { postgres } from 'recordkit/dialects/postgres'
import { sqlite } from 'recordkit/dialects/sqlite'
import { betterSqlite3, type BetterSqlite3Options } from 'recordkit/drivers/better-sqlite3'
import { postgresJs, type PostgresJsOptions } from 'recordkit/drivers/postgres'

// ---------------------------------------------------------------- one SQL function

/** A row count, checked to be a whole number, as a bound parameter. */
const bound = (n: number): Fragment => {
  if (!Number.isSafeInteger(n) || n < 0) throw new TypeError(`not a row count: ${JSON.stringify(n)}`)
  return sql`${n}`
}

/** SQLite binding LIMIT and OFFSET as parameters: one override, every SELECT and paginator follows. */
export const sqliteBoundLimits: Dialect = extend(sqlite, (self, base) => ({
  limitOffset: (limit, offset) =>
    typeof limit === 'object' || typeof offset === 'object'
      ? base.limitOffset(limit, offset) // named parameters of prepared queries stay as they are
      : fromParts([
          limit === undefined ? (offset === undefined ? '' : ' LIMIT -1') : fromParts([' LIMIT ', bound(limit)]),
          offset === undefined ? '' : fromParts([' OFFSET ', bound(offset)]),
        ]),
}))

/** MySQL and MariaDB with an optimizer hint in every SELECT: a time limit per query. */
export const mysqlWithTimeLimit = (ms: number): Dialect =>
  extend(mysql, () => ({
    selectClause: (q) => fromParts([`SELECT /*+ MAX_EXECUTION_TIME(${Math.trunc(ms)}) */ `, q.distinct ? 'DISTINCT ' : '']),
  }))

/** PostgreSQL with one more JSON function, `jsonb_path_exists`, as an extension expression. */
export const postgresWithJsonPath = extend(postgres, (self, base) => ({
  extension: (e) =>
    e.name === 'jsonbPathExists'
      ? fromParts(['jsonb_path_exists(', self.expr(e.args[0]), ', ', sql.param(e.data), '::jsonpath)'])
      : base.extension(e),
}))

/** The builder that goes with it: `where(jsonbPathExists('payload', '$.tags[*] ? (@ == "sale")'))`. */
export const jsonbPathExists = (column: string, path: string) => extension('jsonbPathExists', [column], path)

// ---------------------------------------------------------------- type handling

/** An application's own exact decimal type (here a thin wrapper around its digits). */
export class Decimal {
  constructor(readonly digits: string) {
    if (!/^-?\d+(\.\d+)?$/.test(digits)) throw new TypeError(`not a decimal: ${digits}`)
  }
  toString(): string {
    return this.digits
  }
}

/** Decimals go to the database as their exact text, on any dialect. */
export const withDecimals = <D extends Dialect>(dialect: D): D =>
  extend(dialect, (self, base) => ({
    toDriver: (v: unknown) => (v instanceof Decimal ? v.toString() : base.toDriver(v)),
  }) as Partial<D>)

/** PostgreSQL `numeric` columns come back as Decimal: one more type parser on the driver. */
export const postgresJsWithDecimals = (options: PostgresJsOptions) =>
  extend(postgresJs(options), (self, base) => ({
    clientOptions: () => {
      const o = base.clientOptions()
      return {
        ...o,
        types: { ...o.types, decimal: { to: 1700, from: [1700], serialize: (d: unknown) => String(d), parse: (s: string) => new Decimal(s) } },
      }
    },
  }))

// ---------------------------------------------------------------- connection set-up

/** SQLite with extra pragmas on every connection (after the driver's own). */
export const betterSqlite3Tuned = (options: BetterSqlite3Options) =>
  extend(betterSqlite3(options), (self, base) => ({
    onConnect: (db) => {
      base.onConnect(db)
      db.pragma('cache_size = -32000') // 32 MB page cache
      db.pragma('temp_store = MEMORY')
    },
  }))

/** PostgreSQL connections opened with a search path and a statement timeout. */
export const postgresJsScoped = (options: PostgresJsOptions, schema: string) =>
  extend(postgresJs(options), (self, base) => ({
    connectionParameters: () => ({ ...base.connectionParameters(), search_path: `${schema},public`, statement_timeout: '5000' }),
  }))
