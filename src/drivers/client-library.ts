/**
 * The database client libraries (better-sqlite3, postgres, mysql2) are optional peer
 * dependencies: an application installs the ones for the engines it uses. Each driver loads
 * its library when it first opens a connection, through this function, so a program that
 * never opens a PostgreSQL backend never needs `postgres`, and a missing library is a typed
 * ConnectionError that names the package to install.
 */
import { createRequire } from 'node:module'
import { dbError, type DbError, isDbError } from '../errors.js'

const load = createRequire(import.meta.url)

/**
 * A client library, loaded (synchronously, once: Node caches it) when a driver first needs it.
 * Throws a ConnectionError naming the package when it is not installed.
 *
 * @example
 * const Database = clientLibrary<typeof import('better-sqlite3')>('better-sqlite3', 'better-sqlite3', 'SQLite')
 */
export const clientLibrary = <T>(specifier: string, pkg: string, engine: string): T => {
  try {
    return load(specifier) as T
  } catch (e) {
    const code = (e as { code?: string }).code
    if (code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND') {
      throw dbError('ConnectionError', `recordkit: the ${engine} driver needs the '${pkg}' package, which is not installed; run: npm install ${pkg}`, { cause: e, code })
    }
    throw e
  }
}

/**
 * Whether an error is `clientLibrary`'s: a client library that is not installed. It concerns no
 * statement, so a driver gives it as it is, without the statement that first needed the library.
 *
 * @example if (missingClientLibrary(e)) return { _tag: 'Left', left: e }
 */
export const missingClientLibrary = (e: unknown): e is DbError =>
  isDbError(e, 'ConnectionError') && (e.code === 'MODULE_NOT_FOUND' || e.code === 'ERR_MODULE_NOT_FOUND')
