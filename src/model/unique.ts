/**
 * Unique violations of model writes, completed with the table and the key's columns, so a
 * caller can match them the same way on every engine (`duplicate username -> 409`).
 *
 * SQLite and PostgreSQL report both in the error itself (the drivers read them). MariaDB names
 * only the unique index: the model knows the table it wrote to, and reads the index's columns
 * from `information_schema.statistics` (one statement, only after a violation).
 *
 * A value too long for its column (ValueTooLarge) is completed the same way (`tooLongNamed`):
 * PostgreSQL names only the type, and the model reads its table's declared lengths from
 * `information_schema.columns` after such a failure (`columnLimits`, src/value-too-large.ts, which
 * a built INSERT or UPDATE uses too), to name the column, the field and the rows.
 */
import { type Either, left } from 'fp-ts/lib/Either.js'
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import type { Backend } from '../compose.js'
import { beforeSql, dbError, type DbError, type FieldIssue, isDbError } from '../errors.js'
import { sql } from '../sql.js'
import { asServerGave, columnLimits, type Limit, overLimit, tooLargeFields, TOO_LONG } from '../value-too-large.js'
import { encodeField, type ModelCore, tableRefOf } from './core.js'
import type { Field } from './decode.js'
import { uniqueIssues } from './uniqueness.js'

const columnsOfIndex = async (db: Backend, table: string, index: string): Promise<readonly string[] | undefined> => {
  const r = await db.all(sql`SELECT column_name AS c FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name = ${table} AND index_name = ${index} ORDER BY seq_in_index`)()
  if (r._tag === 'Left' || r.right.length === 0) return undefined
  return r.right.map((row) => String(row.c ?? row.C ?? row.COLUMN_NAME))
}

/** An identifier as SQL text writes it: `quoted`, "quoted" or bare. */
const IDENT = '(?:`(?:[^`]|``)*`|"(?:[^"]|"")*"|[A-Za-z_][A-Za-z0-9_$]*)'
/** The table an INSERT, REPLACE or UPDATE statement writes (a schema before it, if any). */
const WRITE_TARGET = new RegExp(`^\\s*(?:INSERT\\s+(?:IGNORE\\s+)?INTO|REPLACE\\s+INTO|UPDATE(?:\\s+IGNORE)?)\\s+(${IDENT}(?:\\s*\\.\\s*${IDENT})?)`, 'i')

const unquote = (id: string): string =>
  id.startsWith('`') ? id.slice(1, -1).replace(/``/g, '`') : id.startsWith('"') ? id.slice(1, -1).replace(/""/g, '"') : id

/**
 * The table a failing statement wrote to, from its SQL text: `{ schema?, name }`; undefined when
 * the text is unknown or is no INSERT, REPLACE or UPDATE of a table.
 */
const writeTarget = (text: string | undefined): { readonly schema?: string; readonly name: string } | undefined => {
  const m = text === undefined ? null : WRITE_TARGET.exec(text)
  if (m === null) return undefined
  const parts = m[1].match(new RegExp(IDENT, 'g'))!.map(unquote)
  return parts.length === 1 ? { name: parts[0] } : { schema: parts[0], name: parts[1] }
}

/**
 * The write, with a UniqueViolation it fails with carrying `table` and `columns`. Where the engine
 * names only the index (MariaDB), the table is the one the failing statement wrote to, read from
 * its SQL text: the model's own table for the model's statements, another table for a hook's
 * statement that wrote the duplicate there. When the statement is unknown the table is left out.
 *
 * @example
 * withUniqueDetail(db, User.core, User.create(db, input)) // Left(UniqueViolation { table: 'users', columns: ['user_name'], fields: ['userName'] })
 */
export const withUniqueDetail = <A>(db: Backend, core: ModelCore, write: TaskEither<DbError, A>): TaskEither<DbError, A> => async () => {
  const r = await write()
  if (r._tag === 'Right' || !isDbError(r.left, 'UniqueViolation')) return r
  const e = r.left
  if (e.table !== undefined && e.columns !== undefined) return named(core, e, e.table, e.columns) ?? r
  const target = e.table === undefined ? writeTarget(e.sql) : undefined
  if (e.table === undefined && target === undefined) return r
  const own = tableRefOf(core.table)
  const table = e.table ?? (target!.name === own.name && (target!.schema === undefined || target!.schema === own.schema) ? core.table : target!.schema === undefined ? target!.name : `${target!.schema}.${target!.name}`)
  let columns = e.columns
  const mysqlFamily = db.dialect.name === 'mysql' || db.dialect.name === 'mariadb'
  if (columns === undefined && e.constraint !== undefined && mysqlFamily) columns = await columnsOfIndex(db, table, e.constraint)
  return named(core, e, table, columns) ?? left(dbError('UniqueViolation', e.message, { constraint: e.constraint, table, columns, sql: e.sql, params: e.params, code: e.code, cause: e.cause }))
}

/**
 * The violation of the model's own table, naming the model's fields of the key's columns in
 * `fields` and at the end of its message (`... (fields: userName)`), so a caller finds the field
 * as the model names it; undefined for another table, or columns the model has no field for.
 */
const named = (core: ModelCore, e: DbError & { readonly constraint?: string }, table: string, columns: readonly string[] | undefined): Either<DbError, never> | undefined => {
  if (table !== core.table || columns === undefined || columns.length === 0) return undefined
  const fields = columns.map((c) => core.fields.find((f) => f.column.toLowerCase() === c.toLowerCase())?.name)
  if (fields.some((f) => f === undefined)) return undefined
  return left(dbError('UniqueViolation', `${e.message} (fields: ${fields.join(', ')})`, { constraint: e.constraint, table, columns, fields: fields as string[], sql: e.sql, params: e.params, code: e.code, cause: e.cause }))
}

/**
 * `createMany`'s write, with a UniqueViolation of the model's key naming the input rows whose
 * values are taken (`rows`, and `rows.57.name` in its message): the key's values of every input
 * row are compared with the stored rows (the call wrote nothing, so these are the rows before it)
 * and with the earlier input rows, with the database's own comparison. Without model fields for
 * the key (another table's, or columns the model has no field for), the violation is as it was.
 *
 * @example withViolatingRows(db, User.core, inputs, withUniqueDetail(db, User.core, write))
 */
export const withViolatingRows = <A>(db: Backend, core: ModelCore, inputs: readonly Readonly<Record<string, unknown>>[], write: TaskEither<DbError, A>): TaskEither<DbError, A> => async () => {
  const r = await write()
  if (r._tag === 'Right' || !isDbError(r.left, 'UniqueViolation') || inputs.length < 2) return r
  const e = r.left
  const fields = e.fields
  if (fields === undefined || fields.length === 0 || e.rows !== undefined) return r
  let issues: readonly FieldIssue[]
  try {
    issues = await uniqueIssues(db, core, inputs as Record<string, unknown>[], inputs.map((_, i) => `rows.${i}.`), undefined, [{ field: fields[0], scope: fields.slice(1) }])
  } catch {
    return r
  }
  if (issues.length === 0) return r
  const rows = issues.map((i) => Number(i.path.split('.')[1]))
  return left(dbError('UniqueViolation', `${e.message}; taken: ${issues.map((i) => i.path).join(', ')}`, { constraint: e.constraint, table: e.table, columns: e.columns, fields, rows, sql: e.sql, params: e.params, code: e.code, cause: e.cause }))
}

// ---------------------------------------------------------------- a value too long for its column

/** A field's value in a row as it is written (encoded); undefined when absent or not encodable. */
const written = (f: Field, row: Readonly<Record<string, unknown>>): unknown => {
  const x = Object.hasOwn(row, f.name) ? row[f.name] : undefined
  if (x === undefined || x === null) return undefined
  try {
    return encodeField(f, x)
  } catch {
    return undefined
  }
}

/**
 * A model write's ValueTooLarge of a value too long for a column of the model's own table (as the
 * failing statement's SQL names it), completed: `table`, `column` (PostgreSQL names only the
 * type: the first field, in the model's order, of the first input row whose value is longer than
 * its column's declared length), `field`, and for several input rows (`createMany`) `rows`, those
 * whose value of that column is too long; the same in its message, before the SQL. `rows` are the
 * input rows as given (`input` of a create or update, its patch), so a value a hook set is not
 * seen: then the error is as it was. The lengths are read once, only after such a failure (none is
 * read where MariaDB or MySQL name the column and one row was written). Any other error, or one
 * whose column cannot be told, is returned as it is.
 *
 * @example
 * await tooLongNamed(db, Task.core, [{ title: 'x'.repeat(300) }], e) // ValueTooLarge { column: 'title', field: 'title', table: 'tasks' }
 */
export const tooLongNamed = async (db: Backend, core: ModelCore, rows: readonly Readonly<Record<string, unknown>>[], e: DbError): Promise<DbError> => {
  if (!isDbError(e, 'ValueTooLarge') || e.code === undefined || !TOO_LONG.has(e.code) || e.field !== undefined) return e
  const name = db.dialect.name
  if (name !== 'postgres' && name !== 'mysql' && name !== 'mariadb') return e
  const target = writeTarget(e.sql)
  const own = tableRefOf(core.table)
  if (target === undefined || target.name !== own.name || (target.schema !== undefined && target.schema !== own.schema)) return e
  const batch = rows.length > 1
  let column = e.column
  let field = column === undefined ? undefined : core.fields.find((f) => f.column.toLowerCase() === column!.toLowerCase())
  if (column !== undefined && field === undefined) return e
  let over: number[] | undefined
  if (column === undefined || batch) {
    const limits = await columnLimits(db, own)
    if (limits === undefined) return e
    const limitOf = (f: Field): Limit | undefined => limits.get(f.column.toLowerCase())
    if (field === undefined) {
      // The first row holding a value too long, and its first such field.
      for (let i = 0; i < rows.length && field === undefined; i++) {
        field = core.fields.find((f) => { const l = limitOf(f); return l !== undefined && overLimit(written(f, rows[i]), l) })
      }
      if (field === undefined) return e
      column = field.column
    }
    if (batch) {
      const f = field
      const l = limitOf(f)
      over = []
      if (l !== undefined) for (let i = 0; i < rows.length; i++) if (overLimit(written(f, rows[i]), l)) over.push(i)
      if (over.length === 0) over = undefined
    }
  }
  // A built statement's column (see `tooLongOfWrite`) is said again here, with its field.
  const given = asServerGave(e)
  const said = given.column === undefined ? `column ${column}, field ${field!.name}` : `field ${field!.name}`
  const where = over === undefined ? '' : `; too long in ${over.map((i) => `rows.${i}.${field!.name}`).join(', ')}`
  const fields: Record<string, unknown> = { ...tooLargeFields(e), table: e.table ?? core.table, column, field: field!.name }
  if (over !== undefined) fields.rows = over
  return dbError('ValueTooLarge', beforeSql(given.message, ` (${said}${where})`), fields as never)
}
