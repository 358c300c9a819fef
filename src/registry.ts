/**
 * Backends from a URL or a configuration object, built-in and registered ones alike.
 *
 * ```ts
 * const db = await run(createBackend('sqlite::memory:'))
 * const pg = await run(createBackend({ engine: 'postgres', url: process.env.DATABASE_URL, max: 20 }))
 * registerBackend('duckdb', (target) => connect(duckdbNodeApi(...), duckdb))
 * ```
 *
 * Each built-in factory imports its driver (and dialect) when it is first used, so a program
 * that opens a SQLite database never loads postgres.js or mysql2, and a missing client library
 * only matters to the program that asks for its engine.
 */
import * as E from './fp.js'
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import { type Backend, connect } from './compose.js'
import type { Dialect } from './dialect.js'
import type { Driver } from './driver.js'
import type { BetterSqlite3Options, Mysql2BaseOptions, PostgresJsBaseOptions } from './drivers/options.js'
import { dbError, type DbError } from './errors.js'

/**
 * The options of each engine `createBackend` knows, by engine name. A registered backend adds
 * its own by declaration merging, so its configuration objects are typed too:
 *
 * ```ts
 * declare module 'recordkit' {
 *   interface BackendConfigs { duckdb: DuckDbOptions }
 * }
 * ```
 */
export interface BackendConfigs {
  sqlite: BetterSqlite3Options
  /** `client` holds postgres.js options (`PostgresJsOptions` in `recordkit/drivers/postgres` types them). */
  postgres: PostgresJsBaseOptions & { readonly client?: Readonly<Record<string, unknown>> }
  /** `pool` holds mysql2 pool options (`Mysql2Options` in `recordkit/drivers/mysql2` types them). */
  mysql: Mysql2BaseOptions & { readonly pool?: Readonly<Record<string, unknown>> }
  mariadb: Mysql2BaseOptions & { readonly pool?: Readonly<Record<string, unknown>> }
}

/** The engine names `createBackend` accepts in a configuration object. */
export type Engine = keyof BackendConfigs & string

/** One engine's configuration object: its name as `engine`, and its options. */
export type ConfigOf<K extends Engine> = { readonly engine: K } & BackendConfigs[K]

/** A configuration object of any known engine. */
export type BackendConfig = { [K in Engine]: ConfigOf<K> }[Engine]

/**
 * Makes a connected backend from a URL whose scheme is the one it is registered under, or from
 * its engine's configuration object.
 */
export type BackendFactory<C = never> = (target: string | C) => TaskEither<DbError, Backend>

const factories = new Map<string, BackendFactory<never>>()

/**
 * Register a backend under a URL scheme (also its `engine` name in configuration objects). A
 * registration under a scheme that exists replaces it.
 *
 * @example
 * registerBackend('duckdb', (target) =>
 *   connect(duckdbNodeApi(typeof target === 'string' ? { path: target.slice('duckdb:'.length) } : target), duckdb))
 * const db = await run(createBackend('duckdb::memory:'))
 */
export function registerBackend<K extends Engine>(scheme: K, factory: BackendFactory<ConfigOf<K>>): void
export function registerBackend(scheme: string, factory: BackendFactory<never>): void
export function registerBackend(scheme: string, factory: BackendFactory<never>): void {
  factories.set(scheme.toLowerCase(), factory)
}

/**
 * The schemes `createBackend` knows now, built-in and registered.
 * @example registeredSchemes() // ['sqlite', 'postgres', 'postgresql', 'mysql', 'mariadb']
 */
export const registeredSchemes = (): readonly string[] => [...factories.keys()]

const schemeOf = (target: string): string | undefined => /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(target)?.[1]?.toLowerCase()

/**
 * A connected backend from a URL or a configuration object: `sqlite:./app.db`,
 * `sqlite::memory:`, `postgres://...`, `mysql://...`, `mariadb://...`, or any scheme given to
 * `registerBackend`. The dialect is specialised to the server's version (`connect`).
 *
 * @example
 * const db = await run(createBackend('sqlite::memory:'))
 * const pg = await run(createBackend({ engine: 'postgres', url: 'postgres://localhost/app', max: 20 }))
 */
export const createBackend = (target: string | BackendConfig): TaskEither<DbError, Backend> => {
  const scheme = typeof target === 'string' ? schemeOf(target) : target.engine
  const factory = scheme === undefined ? undefined : factories.get(scheme)
  if (factory === undefined) {
    const what = typeof target === 'string' ? `the URL scheme of ${JSON.stringify(target.replace(/\/\/[^@/]*@/, '//***@'))}` : `the engine ${JSON.stringify(scheme)}`
    return () => Promise.resolve(E.left(dbError('ConnectionError', `no backend is registered for ${what} (known: ${registeredSchemes().join(', ')})`)))
  }
  return (factory as BackendFactory<string | BackendConfig>)(target)
}

// ---------------------------------------------------------------- the built-in engines

/** The options of a configuration object, without its `engine`. */
const optionsOf = <C extends { readonly engine: string }>(config: C): Omit<C, 'engine'> => {
  const { engine: _, ...options } = config
  return options
}

/**
 * Load a driver and its dialect, then connect; a client library that cannot be loaded, or a
 * server that does not answer, is a ConnectionError (and the driver is closed again).
 */
const lazily = (load: () => Promise<readonly [Driver, Dialect]>): TaskEither<DbError, Backend> => async () => {
  let parts: readonly [Driver, Dialect]
  try {
    parts = await load()
  } catch (e) {
    return E.left(dbError('ConnectionError', `cannot load the driver: ${e instanceof Error ? e.message : String(e)}`, { cause: e }))
  }
  const [driver, dialect] = parts
  const connected = await connect(driver, dialect)()
  if (E.isLeft(connected)) await driver.close()()
  return connected
}

/** `sqlite:./app.db`, `sqlite:app.db`, `sqlite:///abs/app.db`, `sqlite::memory:` to a filename. */
const sqliteFilename = (url: string): string => {
  const rest = url.slice(url.indexOf(':') + 1)
  return rest.startsWith('//') ? rest.slice(2) : rest
}

/**
 * A SQLite URL that names no file (`sqlite:`, `sqlite://`, what `sqlite:$DB` becomes with DB
 * unset) is refused: better-sqlite3 would open a temporary database that vanishes at close, so
 * migrations would be applied to nothing. (A configuration object's `filename: ''` still opens
 * one: there it is asked for.)
 */
const namesNoFile = (url: string): boolean => sqliteFilename(url).trim() === ''

registerBackend('sqlite', (target) => {
  if (typeof target === 'string' && namesNoFile(target)) {
    return () => Promise.resolve(E.left(dbError('ConnectionError', `the URL ${JSON.stringify(target)} names no SQLite database file: give sqlite:./app.db, sqlite:///absolute/path.db or sqlite::memory:`)))
  }
  return lazily(async () => {
    const [{ betterSqlite3 }, { sqlite }] = await Promise.all([import('./drivers/better-sqlite3.js'), import('./dialects/sqlite.js')])
    return [betterSqlite3(typeof target === 'string' ? { filename: sqliteFilename(target) } : optionsOf(target)), sqlite]
  })
})

const postgresFactory: BackendFactory<ConfigOf<'postgres'>> = (target) => lazily(async () => {
  const [{ postgresJs }, { postgres }] = await Promise.all([import('./drivers/postgres.js'), import('./dialects/postgres.js')])
  return [postgresJs(typeof target === 'string' ? { url: target } : optionsOf(target)), postgres]
})
registerBackend('postgres', postgresFactory)
registerBackend('postgresql', postgresFactory as BackendFactory<never>)

registerBackend('mysql', (target) => lazily(async () => {
  const [{ mysql2 }, { mysql }] = await Promise.all([import('./drivers/mysql2.js'), import('./dialects/mysql.js')])
  // The MySQL dialect switches itself to MariaDB's on a MariaDB server.
  return [mysql2(typeof target === 'string' ? { url: target } : optionsOf(target)), mysql]
}))

registerBackend('mariadb', (target) => lazily(async () => {
  const [{ mysql2 }, { mariadb }] = await Promise.all([import('./drivers/mysql2.js'), import('./dialects/mysql.js')])
  return [mysql2(typeof target === 'string' ? { url: target.replace(/^mariadb:/i, 'mysql:') } : optionsOf(target)), mariadb]
}))
