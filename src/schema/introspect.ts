/**
 * Reading a schema back from a database, as the same data the DDL builders take: tables with
 * portable column types, nullability, defaults, keys, foreign keys, checks and indexes, and
 * views. Each engine's dialect does the reading (`introspectSchema` and the fields it calls),
 * so `extend` can change one step.
 */
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import type { Backend } from '../compose.js'
import type { DbError } from '../errors.js'
import { runQuery } from './apply.js'
import { runCatalog } from './catalog.js'
import type { SchemaDef, TableDef } from './ddl.js'
import type { IntrospectOptions } from './ddl-dialect.js'

/**
 * The schema of the database a backend is connected to (the current schema on PostgreSQL,
 * the current database on MySQL and MariaDB, `main` on SQLite). Tables come in dependency
 * order; recordkit's migration history tables are left out unless `include` says otherwise.
 *
 * @example
 * const schema = await run(introspect(db, { include: (name) => name.startsWith('app_') }))
 * schema.tables.map((t) => t.name)
 */
export const introspect = (db: Backend, options?: IntrospectOptions): TaskEither<DbError, SchemaDef> =>
  runCatalog(runQuery(db), () => db.dialect.introspectSchema(options))

/**
 * One table's definition, read from the database.
 * @example const users = await run(introspectTable(db, 'users'))
 */
export const introspectTable = (db: Backend, table: string): TaskEither<DbError, TableDef> =>
  runCatalog(runQuery(db), () => db.dialect.introspectTable(table))
