/**
 * A value too long for its column (ValueTooLarge), completed with the column it did not fit.
 *
 * PostgreSQL's 22001 (`value too long for type character varying(5)`) names only the type.
 * The writer knows the values it wrote: after such a failure, and only then, the table's declared
 * lengths are read from `information_schema.columns` and the first value longer than its column
 * names it. A model's write does so with its fields (`tooLongNamed` in src/model/unique.ts); a
 * built INSERT or UPDATE with its own values (`tooLongOfWrite`, which the backend's `execute`
 * and `first` ask on a failure). MySQL and MariaDB name the column themselves (errno 1406).
 */
import type { Expr, InsertNode, TableRef, UpdateNode } from './ast.js'
import type { Backend } from './compose.js'
import { beforeSql, dbError, type DbError, isDbError, type ValueTooLarge } from './errors.js'
import { sql } from './sql.js'
import { valueColumnsOf } from './value-columns.js'

/**
 * The codes of a value too long for its column: PostgreSQL's SQLSTATE 22001, MySQL's and
 * MariaDB's errno 1406 (a write's 1265 is a value of another kind, a QueryError).
 */
export const TOO_LONG: ReadonlySet<string | number> = new Set(['22001', 1406])

/** A column's declared length: in characters, and where the engine also counts bytes of UTF-8 text (MariaDB's TEXT, VARBINARY), in bytes. */
export interface Limit {
  readonly chars: number
  readonly bytes?: number
}

/**
 * The declared lengths of a table's character and binary columns, by lower-cased column name,
 * from `information_schema.columns` (PostgreSQL, MySQL, MariaDB); undefined when the read fails.
 * ENUM and SET columns, whose length is their longest member's, are left out.
 *
 * @example
 * await columnLimits(db, { name: 'tasks' }) // Map { 'title' => { chars: 200 } }
 */
export const columnLimits = async (db: Backend, table: { readonly schema?: string; readonly name: string }): Promise<ReadonlyMap<string, Limit> | undefined> => {
  const pg = db.dialect.name === 'postgres'
  const schema = table.schema !== undefined ? sql`${table.schema}` : pg ? sql`current_schema()` : sql`DATABASE()`
  const r = await db.all(sql`SELECT column_name AS c, data_type AS t, character_maximum_length AS n, character_octet_length AS o, character_set_name AS s FROM information_schema.columns WHERE table_schema = ${schema} AND table_name = ${table.name} AND character_maximum_length IS NOT NULL`)().catch(() => undefined)
  if (r === undefined || r._tag === 'Left') return undefined
  const out = new Map<string, Limit>()
  for (const row of r.right) {
    const type = String(row.t ?? row.T ?? '').toLowerCase()
    const chars = Number(row.n ?? row.N)
    if (type === 'enum' || type === 'set' || !Number.isFinite(chars)) continue
    const set = row.s ?? row.S
    // MariaDB and MySQL also hold a TEXT or VARBINARY column to its bytes; PostgreSQL's limits are characters alone.
    const bytes = !pg && (set === null || set === undefined || String(set).toLowerCase().startsWith('utf8')) ? Number(row.o ?? row.O) : Number.NaN
    out.set(String(row.c ?? row.C).toLowerCase(), Number.isFinite(bytes) ? { chars, bytes } : { chars })
  }
  return out
}

/** Code points in a string: what PostgreSQL, MySQL and MariaDB count a length in. */
const codePoints = (s: string): number => {
  let n = s.length
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n--
      i++
    }
  }
  return n
}

/**
 * Whether a value written is longer than its column holds. Spaces at the end past the length do
 * not count: PostgreSQL, MySQL and MariaDB cut them without an error.
 *
 * @example
 * overLimit('abc  ', { chars: 3 }) // false
 * overLimit('a😀cd', { chars: 3 }) // true (4 code points)
 */
export const overLimit = (x: unknown, limit: Limit): boolean => {
  if (x instanceof Uint8Array) return x.length > (limit.bytes ?? limit.chars)
  if (typeof x !== 'string') return false
  let end = x.length
  while (end > 0 && x.charCodeAt(end - 1) === 32) end--
  const s = end === x.length ? x : x.slice(0, end)
  return codePoints(s) > limit.chars || (limit.bytes !== undefined && Buffer.byteLength(s, 'utf8') > limit.bytes)
}

/**
 * A ValueTooLarge's own fields, to make it again with more.
 *
 * @example dbError('ValueTooLarge', e.message, { ...tooLargeFields(e), column: 'name' })
 */
export const tooLargeFields = (e: ValueTooLarge): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  for (const k of ['sql', 'params', 'code', 'cause', 'endedTransaction', 'limit', 'column', 'table'] as const) if (e[k] !== undefined) out[k] = e[k]
  return out
}

// ---------------------------------------------------------------- a built INSERT or UPDATE

/** A cell's value as the statement writes it: a bound or literal value; undefined for DEFAULT, an expression, a named parameter. */
const cellValue = (x: Expr | undefined): unknown =>
  x !== undefined && (x.kind === 'value' || x.kind === 'literal') ? x.value : undefined

/**
 * The values a built INSERT or UPDATE writes, as `[column, value]` in the order the server meets
 * them: each VALUES row in turn (the plain columns `values()` kept, or the rows' cells), then an
 * upsert's `DO UPDATE SET`; an UPDATE's `SET`. Only bound and literal values: an expression, a
 * subquery, DEFAULT or a named parameter is not known here.
 */
function* writtenValues(node: InsertNode | UpdateNode): Generator<readonly [string, unknown]> {
  if (node.kind === 'update') {
    for (const [c, x] of node.set) yield [c, cellValue(x)]
    return
  }
  if (node.query === undefined) {
    const plain = valueColumnsOf(node)
    if (plain !== undefined) {
      for (let i = 0; i < plain.count; i++) for (let j = 0; j < plain.columns.length; j++) yield [plain.columns[j], plain.values[j][i]]
    } else {
      for (const row of node.rows) for (let j = 0; j < node.columns.length; j++) yield [node.columns[j], cellValue(row[j])]
    }
  }
  for (const [c, x] of node.onConflict?.update ?? []) yield [c, cellValue(x)]
}

/** Whether a node writes any string or bytes value a declared length could refuse. */
const writesText = (node: InsertNode | UpdateNode): boolean => {
  for (const [, v] of writtenValues(node)) if (typeof v === 'string' || v instanceof Uint8Array) return true
  return false
}

/** The errors `tooLongOfWrite` completed, each to the error as the server gave it. */
const GIVEN = new WeakMap<DbError, ValueTooLarge>()

/**
 * A ValueTooLarge as the server gave it, before `tooLongOfWrite` named its column; any other
 * error as it is. A model's write says the column again with its field (`tooLongNamed`).
 *
 * @example asServerGave(e).message // 'value too long for type character varying(5)\n  SQL: ...'
 */
export const asServerGave = <T extends DbError>(e: T): T | ValueTooLarge => GIVEN.get(e) ?? e

/** A table as `table` names it: `name`, or `schema.name`. */
const tableName = (t: TableRef): string => (t.schema === undefined ? t.name : `${t.schema}.${t.name}`)

/**
 * A PostgreSQL ValueTooLarge (22001) of a built INSERT or UPDATE (`node`, the statement that
 * failed), completed with `column`, the first column of the statement (its rows in order, each
 * row's columns in order) whose value written is longer than the column's declared length, and
 * `table`, the node's; the message names the column too, before the SQL, which is kept with the
 * server's words, params, code and cause. The lengths are read with `db` (one read of
 * `information_schema.columns`, only here). Returned as it is: any other error, one that names its
 * column already (MySQL, MariaDB), a node writing no string, a table without declared lengths, a
 * read that fails, or no value found longer than its column (an expression's, a trigger's).
 *
 * @example
 * await tooLongOfWrite(db, pipe(insertInto('t'), values({ name: 'x'.repeat(300) })), e) // ValueTooLarge { column: 'name', table: 't' }
 */
export const tooLongOfWrite = async (db: Backend, node: InsertNode | UpdateNode, e: DbError): Promise<DbError> => {
  if (!isDbError(e, 'ValueTooLarge') || e.code !== '22001' || e.column !== undefined || db.dialect.name !== 'postgres' || !writesText(node)) return e
  const limits = await columnLimits(db, node.table)
  if (limits === undefined || limits.size === 0) return e
  let column: string | undefined
  for (const [c, v] of writtenValues(node)) {
    const l = limits.get(c.toLowerCase())
    if (l !== undefined && overLimit(v, l)) {
      column = c
      break
    }
  }
  if (column === undefined) return e
  const named = dbError('ValueTooLarge', beforeSql(e.message, ` (column ${column})`), { ...tooLargeFields(e), column, table: e.table ?? tableName(node.table) } as never)
  GIVEN.set(named, e)
  return named
}
