/**
 * A backend from a database URL, for the command line and for configuration:
 *
 * | URL | backend |
 * |---|---|
 * | `sqlite:./app.db`, `sqlite:///var/db/app.db`, `sqlite::memory:` | better-sqlite3 + sqlite |
 * | `postgres://user@host:5432/db`, `postgresql://...` | postgres.js + postgres |
 * | `mysql://user:pass@host:3306/db` | mysql2 + mysql (MariaDB is recognised by its version) |
 * | `mariadb://user:pass@host:3306/db` | mysql2 + mariadb |
 *
 * Drivers are imported only for the URL's scheme, so a program that uses one database does not
 * load the client libraries of the others.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import { type Backend, compose, connect } from './compose.js'
import { dbError, type DbError, toDbError } from './errors.js'

/** The parts of a database URL recordkit uses. */
export interface DatabaseUrl {
  readonly engine: 'sqlite' | 'postgres' | 'mysql' | 'mariadb'
  /** SQLite: the file name (or `:memory:`). Servers: the URL given to the driver. */
  readonly target: string
}

/**
 * Take a database URL apart.
 * @example parseDatabaseUrl('sqlite:./app.db') // { engine: 'sqlite', target: './app.db' }
 */
export const parseDatabaseUrl = (url: string): E.Either<DbError, DatabaseUrl> => {
  const m = /^([a-z0-9+]+):(.*)$/i.exec(url.trim())
  if (m === null) return E.left(dbError('ConnectionError', `not a database URL: ${JSON.stringify(url)} (sqlite:./file.db, postgres://..., mysql://..., mariadb://...)`))
  const scheme = m[1].toLowerCase()
  const rest = m[2]
  switch (scheme) {
    case 'sqlite':
    case 'sqlite3': {
      const file = rest.startsWith('//') ? rest.slice(2) : rest
      if (file === '') return E.left(dbError('ConnectionError', 'a sqlite: URL needs a file name (sqlite:./app.db) or :memory:'))
      return E.right({ engine: 'sqlite', target: file })
    }
    case 'postgres':
    case 'postgresql':
      return E.right({ engine: 'postgres', target: url.trim() })
    case 'mysql':
      return E.right({ engine: 'mysql', target: url.trim() })
    case 'mariadb':
      return E.right({ engine: 'mariadb', target: `mysql:${rest}` })
    default:
      return E.left(dbError('ConnectionError', `unknown database URL scheme ${scheme}: (sqlite:, postgres:, mysql:, mariadb:)`))
  }
}

/**
 * Make a connected backend from a database URL.
 *
 * @example
 * const db = await run(backendFromUrl(process.env.RECORDKIT_URL ?? 'sqlite::memory:'))
 */
export const backendFromUrl = (url: string): TaskEither<DbError, Backend> => async () => {
  const parsed = parseDatabaseUrl(url)
  if (E.isLeft(parsed)) return parsed
  const { engine, target } = parsed.right
  try {
    switch (engine) {
      case 'sqlite': {
        const [{ betterSqlite3 }, { sqlite }] = await Promise.all([import('./drivers/better-sqlite3.js'), import('./dialects/sqlite.js')])
        const db = compose(betterSqlite3({ filename: target }), sqlite)
        // Open the file now, so a bad path fails here rather than at the first query.
        const v = await db.driver.version()()
        return E.isLeft(v) ? v : E.right(db)
      }
      case 'mysql':
      case 'mariadb': {
        const [{ mysql2 }, dialects] = await Promise.all([import('./drivers/mysql2.js'), import('./dialects/mysql.js')])
        return await connect(mysql2({ url: target }), engine === 'mysql' ? dialects.mysql : dialects.mariadb)()
      }
      case 'postgres': {
        const [{ postgresJs }, { postgres }] = await Promise.all([import('./drivers/postgres.js'), import('./dialects/postgres.js')])
        return await connect(postgresJs({ url: target }), postgres)()
      }
    }
  } catch (e) {
    return E.left(toDbError(e, 'ConnectionError'))
  }
}
