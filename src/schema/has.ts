/**
 * The cheap questions a migration or a setup script asks: does this table exist, does it have
 * this column, this index. Each is one catalog statement run through the backend (inside a
 * transaction, on the transaction's connection, so it sees what the transaction made), read by
 * the backend's dialect (`hasTable`, `hasColumn`, `hasIndex`), so `extend` can change one.
 *
 * A table is named as DDL names it: `'users'`, `'app.users'` (schema on PostgreSQL, database on
 * MySQL and MariaDB, attached database on SQLite), or an array, `['app', 'users']`, when a name
 * holds a dot. Names are exact on PostgreSQL (recordkit quotes them, so nothing is folded to
 * lower case); SQLite compares identifiers without case; MySQL and MariaDB compare column and
 * index names without case, and table names as `lower_case_table_names` says.
 */
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import type { Backend } from '../compose.js'
import { dbError, type DbError } from '../errors.js'
import { runQuery } from './apply.js'
import { runCatalog } from './catalog.js'
import type { IndexQuery, TableName } from './ddl-dialect.js'

/** A table as `hasTable`, `hasColumn` and `hasIndex` take it: `'users'`, `'app.users'`, or `['app', 'users']`. */
export type TableSpec = string | readonly string[]

/** The schema and name of a table reference; a QueryError when it is not one or two non-empty names. */
const tableName = (ref: TableSpec): TableName => {
  const parts = typeof ref === 'string' ? ref.split('.') : ref
  if (parts.length < 1 || parts.length > 2 || parts.some((p) => typeof p !== 'string' || p === '')) {
    throw dbError('QueryError', `a table is named 'table', 'schema.table' or [schema, table] (an array when a name holds a dot); got ${JSON.stringify(ref)}`)
  }
  return parts.length === 1 ? { name: parts[0] } : { schema: parts[0], name: parts[1] }
}

/**
 * Whether a table exists: a base table (partitioned and foreign tables on PostgreSQL, system-versioned
 * ones on MariaDB too), or a temporary table of this session on SQLite and PostgreSQL (and MariaDB
 * 11.2+, whose information_schema lists them). A view is not a table: `hasTable` answers false for
 * one (its name is still taken). Without a schema, the table a statement naming it would use
 * (PostgreSQL: through the search path, temporary tables first; SQLite: `temp`, `main`, then
 * attached databases); MySQL and MariaDB: the current database.
 *
 * @example
 * if (!(await run(hasTable(db, 'users')))) await run(apply(db, usersTable))
 * await run(hasTable(db, 'audit.events')) // in schema `audit` (PostgreSQL), database `audit` (MariaDB)
 */
export const hasTable = (db: Backend, table: TableSpec): TaskEither<DbError, boolean> =>
  runCatalog(runQuery(db), () => db.dialect.hasTable(tableName(table)))

/**
 * Whether a table (or a view) has a column; false when there is no such table. Generated columns
 * count.
 *
 * @example
 * if (!(await run(hasColumn(db, 'users', 'email')))) await run(alter(db, pipe(alterTable('users'), addColumn('email', 'text'))))
 */
export const hasColumn = (db: Backend, table: TableSpec, column: string): TaskEither<DbError, boolean> =>
  runCatalog(runQuery(db), () => db.dialect.hasColumn(tableName(table), column))

/**
 * Whether a table has an index: the one named `index`, or, given an array, one whose key columns
 * are those, in that order (`['a', 'b']` is not `['b', 'a']`; an index on more columns does not
 * count). Indexes behind a primary key or a unique constraint count (`users_pkey`, MySQL's
 * `PRIMARY`, SQLite's `sqlite_autoindex_users_1`), and so do partial ones; an expression key
 * matches no column. SQLite's `INTEGER PRIMARY KEY` is the rowid, not an index: false for it.
 * False when there is no such table.
 *
 * @example
 * await run(hasIndex(db, 'users', 'users_email_idx'))
 * if (!(await run(hasIndex(db, 'users', ['last_name', 'first_name'])))) await run(apply(db, createIndex('users', ['last_name', 'first_name']))))
 */
export const hasIndex = (db: Backend, table: TableSpec, index: IndexQuery): TaskEither<DbError, boolean> =>
  runCatalog(runQuery(db), () => {
    if (typeof index !== 'string' && index.length === 0) throw dbError('QueryError', `hasIndex on ${JSON.stringify(table)}: give an index name or at least one column`)
    return db.dialect.hasIndex(tableName(table), index)
  })
