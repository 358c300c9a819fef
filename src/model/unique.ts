/**
 * Unique violations of model writes, completed with the table and the key's columns, so a
 * caller can match them the same way on every engine (`duplicate username -> 409`).
 *
 * SQLite and PostgreSQL report both in the error itself (the drivers read them). MariaDB names
 * only the unique index: the model knows the table it wrote to, and reads the index's columns
 * from `information_schema.statistics` (one statement, only after a violation).
 */
import { left } from 'fp-ts/lib/Either.js'
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import type { Backend } from '../compose.js'
import { dbError, type DbError, isDbError } from '../errors.js'
import { sql } from '../sql.js'
import type { ModelCore } from './core.js'

const columnsOfIndex = async (db: Backend, table: string, index: string): Promise<readonly string[] | undefined> => {
  const r = await db.all(sql`SELECT column_name AS c FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name = ${table} AND index_name = ${index} ORDER BY seq_in_index`)()
  if (r._tag === 'Left' || r.right.length === 0) return undefined
  return r.right.map((row) => String(row.c ?? row.C ?? row.COLUMN_NAME))
}

/**
 * The write, with a UniqueViolation it fails with carrying `table` and `columns`.
 *
 * @example
 * withUniqueDetail(db, User.core, User.create(db, input)) // Left(UniqueViolation { table: 'users', columns: ['username'] })
 */
export const withUniqueDetail = <A>(db: Backend, core: ModelCore, write: TaskEither<DbError, A>): TaskEither<DbError, A> => async () => {
  const r = await write()
  if (r._tag === 'Right' || !isDbError(r.left, 'UniqueViolation')) return r
  const e = r.left
  if (e.table !== undefined && e.columns !== undefined) return r
  const table = e.table ?? core.table
  let columns = e.columns
  const mysqlFamily = db.dialect.name === 'mysql' || db.dialect.name === 'mariadb'
  if (columns === undefined && e.constraint !== undefined && mysqlFamily) columns = await columnsOfIndex(db, table, e.constraint)
  return left(dbError('UniqueViolation', e.message, { constraint: e.constraint, table, columns, sql: e.sql, params: e.params, code: e.code, cause: e.cause }))
}
