/**
 * The PostgreSQL dialect: the standard dialect with PostgreSQL's differences, made with `extend`.
 *
 * What differs from `standard`: `$n` placeholders; native `ILIKE` / `NOT ILIKE`;
 * `BEGIN ISOLATION LEVEL ..., READ ONLY | READ WRITE, [NOT] DEFERRABLE`; up to 65,533
 * parameters; the value adapters below; and an opt-in `unnest` batch insert. Identifier
 * quoting (`"`), RETURNING, `ON CONFLICT (...) DO UPDATE SET col = EXCLUDED.col` and
 * `LIMIT $n OFFSET $n` are the standard ones.
 *
 * Value policy (`toDriver`), what each JS value is bound as:
 * - `null` / `undefined`: NULL. Strings, numbers, booleans: as they are (-0 as `'-0'`, NaN and
 *   ±Infinity as PostgreSQL spells them, for float columns). A string is text that
 *   the server reads as the parameter's type, so numerics (`'12345678901234567890.5'`), uuids,
 *   intervals, ranges and JSON text travel as strings, exactly.
 * - `bigint`: an `int8` parameter (no precision lost).
 * - `Date`: a `timestamptz` parameter (the exact instant, any year: BC ones carry ` BC`); an
 *   invalid Date is a ValidationError.
 * - `Buffer` / `Uint8Array`: `bytea`.
 * - A JS array is a **PostgreSQL array**, sent as an array literal (`{1,2,3}`), so it fits
 *   `int[]`, `text[]` ... columns and `= ANY($1)`. Elements follow the same rules (nested arrays
 *   are multi-dimensional arrays, objects inside are JSON text for `jsonb[]`).
 * - A plain object is **JSON** text (for `json` / `jsonb`). To bind an array, a string or any
 *   other value as JSON, wrap it: `json([1, 2])`, `json('text')`. Mind that an empty JS array
 *   is `{}` and would read as an empty JSON *object* in a jsonb column: use `json([])`.
 * - Any other object with its own `toString` (a decimal type, a URL): its `toString()`; one
 *   with a `toJSON`: that JSON.
 * - Refused with a ValidationError (code `UNBINDABLE_VALUE`) naming the parameter: a Map, a Set,
 *   a class instance with neither, a Symbol, a function, a string with a lone surrogate, a
 *   `toString` that throws, NaN or Infinity inside JSON. NaN and ±Infinity themselves are bound
 *   (float columns hold them).
 *
 * Query language: everything the standard dialect renders (LATERAL, FULL JOIN, FILTER,
 * `ROLLUP (...)`, GROUPS frames and EXCLUDE, INTERSECT / EXCEPT [ALL], `MATERIALIZED` CTE hints,
 * CTEs on INSERT / UPDATE / DELETE, every row lock with `OF`, `NOWAIT` and `SKIP LOCKED`,
 * `EXPLAIN ANALYZE`), plus: JSON through `->` / `->>` (keys as parameters, array indexes as
 * checked integers) and `@> CAST($n AS JSONB)`; the portable `json` type is JSONB; EXTRACT
 * gives an integer (whole seconds); a bare parameter given to the date helpers is read as a
 * TIMESTAMP (PostgreSQL cannot choose the type of an untyped parameter there).
 *
 * @example
 * const db = await run(connect(postgresJs({ url: 'postgres://localhost/app' }), postgres))
 * await run(db.execute(pipe(insertInto('posts'), values({ tags: ['a', 'b'], meta: { draft: true } }))))
 */
import type { Expr, InsertNode, JsonPath, SelectLike, SelectNode, Selection, TableRef } from '../ast.js'
import { DEFAULT } from '../ast.js'
import { type Dialect, unsupported, VERSION_GATES, versionAtLeast } from '../dialect.js'
import { dbError, unsupportedError } from '../errors.js'
import { extend, extendLayer } from '../record.js'
import { builtIn, isBuiltIn } from './shape-cache.js'
import { fromParts as F, type Fragment, type Part } from '../sql.js'
import { fragments, mapColumns, standard } from './standard.js'
import { postgresDdl } from './ddl/postgres.js'
import { isJsonValue } from '../sql.js'
import { pgTimestamp } from '../dates.js'
import { checkedString, describeValue, isPlainObject, jsonText, objectString, unbindable } from '../values.js'
import { withFields } from '../objects.js'
import { sliceValueRows, valueColumnsOf } from '../value-columns.js'
import { underLimit } from './split-insert.js'

// ---------------------------------------------------------------- JSON values

export { json, isJsonValue, type JsonValue } from '../sql.js'

// ---------------------------------------------------------------- arrays

const checkedDate = (d: Date): Date => {
  if (Number.isNaN(d.getTime())) throw unbindable(d, 'an invalid Date')
  return d
}

/** One array element as text (before quoting), or undefined for NULL. */
const elementText = (x: unknown): string | undefined => {
  switch (typeof x) {
    case 'undefined': return undefined
    case 'string': return checkedString(x)
    case 'boolean': return x ? 't' : 'f'
    case 'number': return x === 0 && 1 / x < 0 ? '-0' : String(x)
    case 'bigint': return String(x)
    case 'object': {
      if (x === null) return undefined
      if (x instanceof Date) return pgTimestamp(x)
      if (x instanceof Uint8Array) return `\\x${Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString('hex')}`
      if (isJsonValue(x)) return jsonText(x.value)
      if (isPlainObject(x)) return jsonText(x)
      return objectText(x)
    }
    default: throw unbindable(x, `an array element cannot be ${describeValue(x)}`)
  }
}

const QUOTED = /[\\"]/g

/** Years 1 to 9999, where `toISOString` writes the four-digit year `pgTimestamp` writes. */
const ISO_FROM = -62135596800000 // 0001-01-01T00:00:00.000Z
const ISO_TO = 253402300800000 // 10000-01-01T00:00:00.000Z
// Date's own: a subclass's toISOString is not the instant's text.
const ISO_TEXT = Date.prototype.toISOString

/**
 * A Date as a quoted array element: `pgTimestamp`'s text (`"2024-01-01 00:00:01.000+00"`), made
 * from `toISOString` for years 1 to 9999, which allocates a few strings where the text built
 * field by field allocated about 20 (10,000 dates: 4.3 MB against 0.5 MB for their ISO texts).
 */
const dateElement = (d: Date): string => {
  const t = d.getTime()
  if (!(t >= ISO_FROM && t < ISO_TO)) return `"${pgTimestamp(d)}"`
  const iso = ISO_TEXT.call(d)
  return `"${iso.slice(0, 10)} ${iso.slice(11, 23)}+00"`
}

/**
 * A PostgreSQL array literal (`{1,2,"a b",NULL}`) for a JS array; nested arrays give
 * multi-dimensional arrays. Every element but numbers and booleans is quoted, so the server reads
 * it as the element type whatever its text.
 *
 * @example arrayLiteral([1, null, 'a"b']) // '{1,NULL,"a\\"b"}'
 */
export const arrayLiteral = (xs: readonly unknown[]): string => {
  // Added piece by piece on purpose: the rope is flattened once, where postgres.js writes it to
  // the socket. Joining an array of the elements' texts instead measured slower, written
  // included (four 10,000-value columns: 8.2 ms against 5.1 ms).
  let out = '{'
  for (let i = 0; i < xs.length; i++) {
    if (i > 0) out += ','
    const x = xs[i]
    if (Array.isArray(x)) {
      out += arrayLiteral(x)
      continue
    }
    // Numbers and booleans print without any character that needs quoting, nor do dates.
    if (typeof x === 'number' || typeof x === 'bigint' || typeof x === 'boolean') {
      out += elementText(x)
      continue
    }
    if (x instanceof Date) {
      out += dateElement(x)
      continue
    }
    const t = elementText(x)
    out += t === undefined ? 'NULL' : t.indexOf('"') < 0 && t.indexOf('\\') < 0 ? `"${t}"` : `"${t.replace(QUOTED, '\\$&')}"`
  }
  return `${out}}`
}

/**
 * An object that is not plain data: its own `toString` (a decimal type, a URL), or the JSON of
 * its `toJSON`; anything else (a Map, a Set, a class instance with neither) is refused.
 */
const objectText = (v: object): string => {
  let own: boolean
  try {
    own = typeof (v as { toString?: unknown }).toString === 'function' && (v as { toString: unknown }).toString !== Object.prototype.toString
  } catch {
    own = false
  }
  return own ? objectString(v) : jsonText(v)
}

/**
 * The PostgreSQL value adapter (see the policy in the module comment).
 *
 * @example toPostgres([1, 2]) // '{1,2}'
 */
export const toPostgres = (v: unknown): unknown => {
  switch (typeof v) {
    case 'string': return checkedString(v)
    case 'boolean':
    case 'bigint': return v
    // String(-0) is '0': keep the sign for float columns.
    case 'number': return v === 0 && 1 / v < 0 ? '-0' : v
    case 'undefined': return null
    case 'object':
      // A Date first: it is the common object, and the global `Buffer` is a getter call in ESM.
      if (v === null) return v
      if (v instanceof Date) return checkedDate(v)
      if (Buffer.isBuffer(v)) return v
      if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength)
      if (Array.isArray(v)) return arrayLiteral(v)
      if (isJsonValue(v)) return jsonText(v.value)
      if (isPlainObject(v)) return jsonText(v)
      return objectText(v)
    default: throw unbindable(v, 'PostgreSQL has no such value')
  }
}

// ---------------------------------------------------------------- unnest batch insert

const UNNEST = Symbol.for('recordkit.postgres.unnest')
const UNNEST_ROWS = Symbol.for('recordkit.postgres.unnestRows')

/** PostgreSQL column types by column name, for `unnest`. */
export type ColumnPgTypes = Readonly<Record<string, string>>

/** Options of `unnest`. */
export interface UnnestOptions {
  /**
   * At most this many rows per statement: an insert of more rows is sent as several unnest
   * statements (see `unnest`). Default: every row in one statement.
   */
  readonly rowsPerStatement?: number
}

/**
 * Insert many rows as one array per column: `INSERT INTO t (a, b) SELECT * FROM
 * unnest($1::int4[], $2::text[])`. The SQL text is the same for any number of rows, and on
 * PostgreSQL it is about twice as fast as multi-row VALUES for thousands of rows
 * (bench/postgres-insert.ts). Because the server must know each array's type, the column
 * types are given here; every inserted column needs one.
 *
 * Falls back to multi-row VALUES (same result) when a row holds DEFAULT in a column other rows
 * set, or an expression instead of a value. Array-typed columns cannot go through unnest
 * (it flattens nested arrays): compiling fails with a QueryError that says so. Other dialects
 * ignore this and render VALUES.
 *
 * With `rowsPerStatement`, `db.execute` sends an insert of more rows as statements of that many
 * rows, in input order, all at once on a driver that pipelines (postgres.js), in one transaction
 * (a savepoint inside the caller's): the server inserts one while the next arrives (10,000 rows:
 * about three quarters of the time of one statement), and the insert stays all or nothing, its
 * RETURNING rows in input order. What differs from one statement: foreign keys are checked at
 * the end of each statement, so a row may refer only to rows of its own statement or before it;
 * statement triggers run once per statement; inside a transaction a failure rolls back to the
 * savepoint and the transaction goes on. An `ON CONFLICT ... DO UPDATE` insert stays one
 * statement (in several, a key given twice would update the row inserted before instead of
 * failing), as do an insert with a WITH clause and `db.compile` / `db.prepare` of any of them.
 * `rowsPerStatement` must be a whole number from 1 (a ValidationError names it otherwise).
 *
 * @example
 * pipe(insertInto('items'), values(rows), unnest({ id: 'int4', name: 'text', price: 'numeric' }))
 * pipe(insertInto('items'), values(rows), unnest(types, { rowsPerStatement: 2000 }))
 */
export const unnest = (types: ColumnPgTypes, options?: UnnestOptions) => {
  const per = options?.rowsPerStatement
  if (per !== undefined && !(Number.isInteger(per) && per >= 1)) {
    throw dbError('ValidationError', `unnest: rowsPerStatement must be a whole number from 1, got ${String(per)}`, {
      issues: [{ path: 'rowsPerStatement', rule: 'positiveInteger', value: per, message: 'rowsPerStatement must be a whole number from 1' }],
    })
  }
  const fields = per === undefined ? { [UNNEST]: types } : { [UNNEST]: types, [UNNEST_ROWS]: per }
  return <Q extends InsertNode>(q: Q): Q => Object.freeze(withFields(q, fields))
}

/**
 * The column types given with `unnest`, if any.
 * @example unnestTypesOf(node)?.id // 'int4'
 */
export const unnestTypesOf = (node: InsertNode): ColumnPgTypes | undefined =>
  (node as unknown as Record<symbol, ColumnPgTypes | undefined>)[UNNEST]

/** The `rowsPerStatement` given with `unnest`, if any. */
const unnestRowsOf = (node: InsertNode): number | undefined =>
  (node as unknown as Record<symbol, number | undefined>)[UNNEST_ROWS]

/**
 * An unnest insert cut into statements of `rowsPerStatement` rows (see `unnest`), or undefined
 * when it is one statement: it has fewer rows, takes them from a query, has a WITH clause (each
 * statement would run it again) or updates on conflict.
 */
const unnestParts = (node: InsertNode): InsertNode[] | undefined => {
  const per = unnestRowsOf(node)
  if (per === undefined || node.rows.length <= per || node.query !== undefined || node.with !== undefined || unnestTypesOf(node) === undefined) return undefined
  if (node.onConflict !== undefined && node.onConflict.update !== null) return undefined
  const parts: InsertNode[] = []
  // Rows kept as plain values are cut as such (see src/value-columns.ts).
  const plain = valueColumnsOf(node)
  // The parts keep the node's own fields, the unnest marks among them (withFields copies symbols).
  for (let i = 0; i < node.rows.length; i += per) {
    parts.push(Object.freeze(withFields(node, { rows: plain === undefined ? node.rows.slice(i, i + per) : sliceValueRows(node, plain, i, i + per) })))
  }
  return parts
}

/** A type name safe to splice into SQL: `int4`, `numeric(20, 2)`, `timestamp(3) with time zone`, `app.mood`. */
const TYPE_NAME = /^[A-Za-z_][\w$]*(?:\.[A-Za-z_][\w$]*)?(?: [A-Za-z_]\w*)*(?:\(\s*\d+(?:\s*,\s*\d+)?\s*\))?(?: [A-Za-z_]\w*)*$/
const ARRAY_TYPE = /\[\s*\d*\s*\]\s*$|^_|\barray\b/i

// ---------------------------------------------------------------- the dialect

/** The PostgreSQL dialect record: a Dialect with the `unnest` insert as its own field. */
export interface PostgresDialect extends Dialect, PostgresFields {}

/** The fields the PostgreSQL dialect adds to a Dialect. */
export interface PostgresFields {
  /**
   * ` (cols) SELECT * FROM unnest($1::type[], ...)` for an insert whose cells are all values.
   * `insertValues` uses it for inserts marked with `unnest(types)`.
   */
  readonly unnestValues: (node: InsertNode, types: ColumnPgTypes) => Fragment
  /**
   * `INSERT INTO table (columns) SELECT * FROM unnest($1::type[], ...)` from one array per column
   * (`arrays[i]` holds column `i`'s values, row after row): any number of rows in one statement
   * with one parameter per column. `createMany` uses it with the types `columnTypes` reads.
   * A type that is an array type or not a plain type name is a QueryError.
   *
   * @example postgres.unnestInsert('items', ['id', 'name'], [[1, 2], ['a', 'b']], ['integer', 'text'])
   */
  readonly unnestInsert: (table: string, columns: readonly string[], arrays: readonly (readonly unknown[])[], types: readonly string[]) => Fragment
  /**
   * The query that reads a table's columns from the catalog: `name`, `type` (as `format_type`
   * prints it, without the length or precision: an unnest cast must never cut a value) and
   * `array` (whether it is an array type), for `unnestInsert`.
   *
   * @example await db.all(postgres.columnTypes('app.items'))()
   */
  readonly columnTypes: (table: string) => Fragment
}

/** A table name as `insertInto` reads it (`schema.table` at the first dot), quoted. */
const qualified = (self: Dialect, table: string): string => {
  const dot = table.indexOf('.')
  return dot < 0 ? self.quoteIdentifier(table) : `${self.quoteIdentifier(table.slice(0, dot))}.${self.quoteIdentifier(table.slice(dot + 1))}`
}

/** A type for an unnest array: a plain type name that is not itself an array type. */
const unnestType = (column: string, type: string | undefined): string => {
  if (type === undefined) throw dbError('QueryError', `unnest: no PostgreSQL type given for column "${column}"`)
  if (ARRAY_TYPE.test(type)) {
    throw dbError('QueryError', `unnest: column "${column}" has the array type ${type}, and unnest flattens nested arrays; insert it without unnest()`)
  }
  if (!TYPE_NAME.test(type)) throw dbError('QueryError', `unnest: not a type name: ${JSON.stringify(type)}`)
  return type
}

/** Whether every cell of the rows is a bound value (what unnest can send as arrays). */
const allValues = (rows: readonly (readonly Expr[])[]): boolean => {
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]
    for (let j = 0; j < r.length; j++) if (r[j].kind !== 'value') return false
  }
  return true
}

/** A column to drop from a VALUES list: every row has DEFAULT there. */
const allDefault = (node: InsertNode, i: number): boolean => node.rows.every((r) => r[i] === DEFAULT)

/**
 * The insert `unnestValues` binds as one array a column, when it is one (see `unnest`): a node
 * marked with `unnest(types)` whose rows are plain values, the columns every row leaves to DEFAULT
 * left out; undefined for one written as VALUES rows (a cell is an expression, or DEFAULT in a
 * column other rows set) and for an unmarked one.
 */
const unnestShape = (node: InsertNode): InsertNode | undefined => {
  if (unnestTypesOf(node) === undefined || node.rows.length === 0) return undefined
  // Plain values only (see src/value-columns.ts): every column set, every cell a value.
  if (valueColumnsOf(node) !== undefined) return node
  const keep = node.columns.map((_, i) => !allDefault(node, i))
  // Most inserts set every column: their rows are taken as they are, not copied.
  const all = keep.every(Boolean)
  const columns = all ? node.columns : node.columns.filter((_, i) => keep[i])
  const rows = all ? node.rows : node.rows.map((r) => r.filter((_, i) => keep[i]))
  if (columns.length === 0 || !allValues(rows)) return undefined
  return all ? node : { ...node, columns, rows }
}

/** A bound value as the text its key is compared by (`keyOnce`); undefined for NULL, which conflicts with nothing. */
const keyText = (v: unknown): string | undefined => {
  if (v === null || v === undefined) return undefined
  if (v instanceof Date) return String(v.getTime())
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')
  if (isJsonValue(v)) return jsonText(v.value)
  return typeof v === 'object' ? jsonText(v) : String(v)
}

/**
 * Refuses an `ON CONFLICT ... DO UPDATE` insert cut into parts (`underLimit`) that gives one key
 * twice. In one statement PostgreSQL refuses it ("ON CONFLICT DO UPDATE command cannot affect
 * row a second time"); in two parts, the second would update the row the first wrote. Keys are
 * compared as their values' text (`1` and `1n` are one key), before anything is sent; a key the
 * server reads as equal from different texts (`'01'` and `1` in an integer column) is found by it
 * only inside one part. A conflict target this cannot read (a constraint, a column not inserted,
 * a cell that is an expression) is an UnsupportedFeature.
 */
const keyOnce = (self: Dialect, node: InsertNode): void => {
  const oc = node.onConflict!
  const at = oc.target.map((c) => node.columns.indexOf(c))
  const refuse = (why: string) => unsupportedError(self.name, `an ON CONFLICT ... DO UPDATE insert of more values than one statement binds (${self.maxParams}), whose ${why}`,
    'insert the conflict columns as values, or run the upsert in statements of fewer rows inside a transaction')
  if (oc.constraint !== undefined || at.length === 0) throw refuse('conflict target is a constraint')
  if (at.some((i) => i < 0)) throw refuse('conflict column is not inserted')
  const plain = valueColumnsOf(node)
  const count = plain === undefined ? node.rows.length : plain.count
  const cell = (i: number, j: number): unknown => {
    if (plain !== undefined) return plain.values[j][i]
    const c = node.rows[i][j]
    if (c.kind !== 'value') throw refuse(`conflict column "${node.columns[j]}" holds an expression`)
    return c.value
  }
  const seen = new Map<string, number>()
  for (let i = 0; i < count; i++) {
    let key = ''
    for (const j of at) {
      const t = keyText(cell(i, j))
      if (t === undefined) { key = ''; break }
      key += `${t.length}:${t}`
    }
    if (key === '') continue
    const before = seen.get(key)
    if (before !== undefined) {
      throw dbError('QueryError', `ON CONFLICT DO UPDATE command cannot affect row a second time: rows ${before} and ${i} (from 0) give the same ${oc.target.join(', ')}; give each key once`)
    }
    seen.set(key, i)
  }
}

/** A date operand: a bare parameter gets a type (TIMESTAMP), anything else stays as it is. */
const temporal = (self: Dialect, e: Expr): Fragment =>
  e.kind === 'value' || e.kind === 'param' ? F(['CAST(', self.expr(e), ' AS TIMESTAMP)']) : fragments.wrapped(self, e)

/** `doc -> $1 -> 0 ...` over every step of a path but the last, and that last step. */
const jsonSteps = (self: Dialect, e: Expr, path: JsonPath): { readonly head: Fragment; readonly last: Part } => {
  const step = (k: string | number): Part => {
    if (typeof k === 'string') return { _tag: 'Param', value: k }
    // A negative index counts from the end (-1 is the last element), as `->` takes it.
    return fragments.jsonIndex(k, (n) => `(${n})`)
  }
  const parts: Part[] = [fragments.wrapped(self, e)]
  for (let i = 0; i < path.length - 1; i++) parts.push(' -> ', step(path[i]))
  return { head: F(parts), last: step(path[path.length - 1]) }
}

/** A value inside JSON_BUILD_OBJECT, typed. */
const jsonMember = (self: Dialect, e: Expr): Fragment => {
  if (e.kind !== 'value') return self.caseResult(e)
  // A bound NULL has no type either (could not determine data type of parameter): as TEXT, it is JSON null.
  if (e.value === null || e.value === undefined) return F(['CAST(', self.expr(e), ' AS TEXT)'])
  const v = e.value
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return self.caseResult(e)
  return F(['CAST(', self.expr(e), typeof v === 'string' ? ' AS TEXT)' : v instanceof Date ? ' AS TIMESTAMPTZ)' : ' AS JSONB)'])
}

/** Whether an expression is a bound number (a parameter PostgreSQL has no type for). */
const boundNumber = (e: Expr): boolean => e.kind === 'value' && (typeof e.value === 'number' || typeof e.value === 'bigint')

/**
 * The type postgres.js gives a bound value (`''`: none, the server reads it as the other
 * operand's type), or undefined for an array, which would nest in an array of values.
 */
const boundType = (v: unknown): string | undefined =>
  typeof v === 'bigint' ? 'BIGINT'
    : typeof v === 'boolean' ? 'BOOLEAN'
    : typeof v !== 'object' ? ''
    : v instanceof Date ? 'TIMESTAMPTZ'
    : v instanceof Uint8Array ? 'BYTEA'
    : Array.isArray(v) ? undefined
    : ''

/**
 * The element type of an array of values bound as a list binds each of them (see `boundType`),
 * NULLs aside; undefined when they have different types, or one is an array.
 */
const arrayType = (values: readonly unknown[]): string | undefined => {
  let type: string | undefined
  for (let i = 0; i < values.length; i++) {
    const v = values[i]
    if (v === null) continue
    const t = boundType(v)
    if (t === undefined || (type !== undefined && t !== type)) return undefined
    type = t
  }
  return type ?? ''
}

/** `$0` ... `$255`, made once: most statements have fewer parameters. */
const PLACEHOLDERS: readonly string[] = Array.from({ length: 256 }, (_, i) => `$${i}`)

/** The version part of a `server_version` such as `15.4 (Debian 15.4-1)` or `16beta1`. */
const cleanVersion = (v: string): string => v.trim().split(/\s+/)[0] ?? v

/**
 * The PostgreSQL dialect (any server from 12 on; `connect` specialises it to the server's
 * version through `forVersion`).
 *
 * @example
 * const db = await run(connect(postgresJs({ url: process.env.DATABASE_URL }), postgres))
 * const pg14 = postgres.forVersion('14.9')
 */
/** Aggregate functions by name: their rows are made up, not a table's. */
const AGGREGATES = new Set([
  'count', 'sum', 'avg', 'min', 'max', 'string_agg', 'array_agg', 'json_agg', 'jsonb_agg', 'json_object_agg', 'jsonb_object_agg',
  'bool_and', 'bool_or', 'every', 'bit_and', 'bit_or', 'stddev', 'stddev_pop', 'stddev_samp', 'variance', 'var_pop', 'var_samp',
])

/**
 * What makes a SELECT's rows ones PostgreSQL cannot lock (GROUP BY, DISTINCT, aggregate or window
 * functions in its SELECT list), as its own message words it; undefined for a plain SELECT.
 */
const unlockable = (q: SelectNode): string | undefined => {
  if (q.groupBy.length > 0 || q.having !== undefined || q.rollup === true) return 'GROUP BY'
  if (q.distinct || q.distinctOn !== undefined) return 'DISTINCT'
  for (const c of q.columns) {
    if (c.expr.kind === 'window') return 'window functions'
    if (c.expr.kind === 'func' && AGGREGATES.has(c.expr.name.toLowerCase())) return 'aggregate functions'
  }
  return undefined
}

/**
 * A HAVING condition with each bare column that is the alias of an expression in the SELECT list
 * (`as(sum('amount'), 'total')`) replaced by that expression: PostgreSQL reads no output names
 * in HAVING ("column total does not exist"), SQLite and MySQL do. A column the SELECT list names
 * as itself is left as it is.
 */
const havingByAlias = (q: SelectNode, having: Expr): Expr => {
  const aliased = new Map<string, Expr>()
  for (const c of q.columns) if (c.alias !== undefined && !(c.expr.kind === 'column' && c.expr.name === c.alias)) aliased.set(c.alias, c.expr)
  return aliased.size === 0 ? having : mapColumns(having, (c) => (c.table === undefined ? aliased.get(c.name) ?? c : c))
}

/** A RETURNING list with a bare `*` read as the changed table's (`"t".*`, or its alias's). */
const ownStar = (table: TableRef, items: readonly Selection[]): readonly Selection[] =>
  items.map((s) => (s.expr.kind === 'star' && s.expr.table === undefined ? { ...s, expr: { kind: 'star', table: table.alias ?? table.name } } : s))

/** Whether a member of a set operation, however deep, takes row locks. */
const lockedMember = (q: SelectLike): boolean =>
  q.kind === 'compound' ? lockedMember(q.left) || lockedMember(q.right) : q.lock !== undefined

export const postgres: PostgresDialect = extend<Dialect, PostgresFields>(standard, (self, base) => builtIn({
  ...postgresDdl(self, base),
  name: 'postgres',
  version: '15',

  // Row locks name rows of tables: PostgreSQL refuses them over rows a SELECT makes up.
  compileSelect: (q) => {
    if (q.lock !== undefined) {
      const over = unlockable(q)
      if (over !== undefined) throw unsupportedError(self.name, `row locks (FOR UPDATE / FOR SHARE) with ${over}`, 'lock the rows in a subquery of the keys (where(isIn(key, pipe(from(t), select(key), forUpdate())))) and group or count them outside it')
    }
    return base.compileSelect(q.having === undefined ? q : { ...q, having: havingByAlias(q, q.having) })
  },
  // RETURNING * of UPDATE ... FROM / DELETE ... USING is the changed table's columns, as on
  // SQLite: PostgreSQL's own * adds the other tables', and a column of the same name (id)
  // stood in the changed row's under that name.
  updateFrom: (q) => base.updateFrom(q.returning === undefined ? q : { ...q, returning: ownStar(q.table, q.returning) }),
  deleteUsing: (q) => base.deleteUsing(q.returning === undefined ? q : { ...q, returning: ownStar(q.table, q.returning) }),
  compileCompound: (q) => {
    if (lockedMember(q)) throw unsupportedError(self.name, 'row locks (FOR UPDATE / FOR SHARE) with UNION / INTERSECT / EXCEPT', 'lock the rows of each query on its own, or lock a subquery of the keys')
    return base.compileCompound(q)
  },
  // The protocol counts parameters in 16 bits (65,535); postgres.js refuses 65,534 and more.
  maxParams: 65533,

  placeholder: (index) => (index < PLACEHOLDERS.length ? PLACEHOLDERS[index] : `$${index}`),
  toDriver: toPostgres,

  // PostgreSQL cuts an identifier to 63 bytes (with a NOTICE only): a longer column alias would
  // come back as a row key other than the one asked for, so it is refused here.
  selection: (s) => {
    if (s.alias !== undefined && s.alias.length > 21 && Buffer.byteLength(s.alias, 'utf8') > 63) {
      throw dbError('QueryError', `PostgreSQL cuts identifiers to 63 bytes: the column alias ${JSON.stringify(s.alias)} (${Buffer.byteLength(s.alias, 'utf8')} bytes) would come back under another name; use a shorter one`)
    }
    return base.selection(s)
  },

  binary: (op, l, r) => {
    switch (op) {
      case 'ilike': return F([fragments.wrapped(self, l), ' ILIKE ', fragments.wrapped(self, r)])
      case 'not ilike': return F([fragments.wrapped(self, l), ' NOT ILIKE ', fragments.wrapped(self, r)])
      case '+': case '-': case '*': case '/': case '%':
        // Two bound numbers have no type to choose the operator by ("operator is not unique:
        // unknown + unknown"): each is typed as `caseResult` types it (INTEGER, BIGINT, DOUBLE PRECISION).
        return boundNumber(l) && boundNumber(r)
          ? base.binary(op, { kind: 'raw', fragment: self.caseResult(l) }, { kind: 'raw', fragment: self.caseResult(r) })
          : base.binary(op, l, r)
      default: return base.binary(op, l, r)
    }
  },

  // A long IN list as one array parameter: `= ANY ($1)` is what PostgreSQL makes of an IN list
  // itself, and `<> ALL ($1)` of a NOT IN list (NULLs included).
  longInList: (lhs, values, negated) => {
    const type = arrayType(values)
    if (type === undefined) return undefined
    // Converted here, so that a value the dialect refuses leaves the list as it is, whose
    // parameter then names it.
    let converted: unknown
    try {
      converted = self.toDriver(values)
    } catch {
      return undefined
    }
    const array: Part = { _tag: 'Param', value: converted }
    return F([lhs, negated ? ' <> ALL (' : ' = ANY (', ...(type === '' ? [array] : ['CAST(', array, ` AS ${type}[])`]), ')'])
  },

  insertValues: (node) => {
    const unnested = unnestShape(node)
    return unnested === undefined ? base.insertValues(node) : self.unnestValues(unnested, unnestTypesOf(node)!)
  },

  unnestValues: (node, types) => {
    const arrays: Part[] = []
    // Rows kept as plain values are already one array per column (see src/value-columns.ts),
    // bound as they are: the parameter is the array literal the built-in `toDriver` makes of
    // it (a `toDriver` of the user's own is given a copy, as it always was).
    const plain = valueColumnsOf(node)
    const own = plain !== undefined && isBuiltIn(self.toDriver)
    node.columns.forEach((c, i) => {
      const type = unnestType(c, types[c])
      if (i > 0) arrays.push(', ')
      const values = plain !== undefined ? (own ? plain.values[i] : plain.values[i].slice()) : node.rows.map((r) => (r[i] as { readonly value: unknown }).value)
      arrays.push({ _tag: 'Param', value: values }, `::${type}[]`)
    })
    return F([' (', node.columns.map(self.quoteIdentifier).join(', '), ') SELECT * FROM unnest(', F(arrays), ')'])
  },

  unnestInsert: (table, columns, arrays, types) => {
    const parts: Part[] = ['INSERT INTO ', qualified(self, table), ' (', columns.map(self.quoteIdentifier).join(', '), ') SELECT * FROM unnest(']
    columns.forEach((c, i) => {
      if (i > 0) parts.push(', ')
      parts.push({ _tag: 'Param', value: arrays[i] }, `::${unnestType(c, types[i])}[]`)
    })
    parts.push(')')
    return F(parts)
  },

  columnTypes: (table) => F([
    // The type without its modifier: a cast to varchar(3)[] or char(3)[] would cut a longer
    // value to fit where the INSERT must refuse it (22001), as VALUES does. Without one, char and
    // bit would mean char(1) and bit(1): their unbounded forms are bpchar and varbit.
    'SELECT a.attname AS name,',
    ' CASE t.typname WHEN \'bpchar\' THEN \'bpchar\' WHEN \'bit\' THEN \'varbit\' WHEN \'_bpchar\' THEN \'bpchar[]\' WHEN \'_bit\' THEN \'varbit[]\' ELSE format_type(a.atttypid, NULL) END AS type,',
    ' t.typcategory = \'A\' AS array',
    ' FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid',
    ' WHERE a.attrelid = to_regclass(', { _tag: 'Param', value: qualified(self, table) }, ') AND a.attnum > 0 AND NOT a.attisdropped',
  ]),

  // Several rows of only default values: one DEFAULT VALUES statement each (PostgreSQL has no
  // multi-row form without naming columns), run as one unit by `execute`.
  // An unnest insert with `rowsPerStatement`: its statements, run as one unit the same way.
  // VALUES rows of more values than one statement binds (65,533, which postgres.js refuses to
  // send beyond): statements of as many rows as fit (`underLimit`), run as one unit the same way.
  // An unnest insert binds one array a column, so it fits whatever its rows.
  insertStatements: (node) => {
    if (node.query === undefined && node.columns.length === 0 && node.rows.length > 1) return fragments.defaultRows(node)
    // A part written as VALUES rows after all (a cell is an expression, or DEFAULT) is cut below
    // the limit too.
    const unnested = unnestParts(node)
    if (unnested !== undefined) return unnested.flatMap((p) => (unnestShape(p) === undefined ? underLimit(self, p) : [p]))
    if (node.query !== undefined || unnestShape(node) !== undefined) return base.insertStatements(node)
    const parts = underLimit(self, node)
    if (parts.length > 1 && node.onConflict !== undefined && node.onConflict.update !== null) keyOnce(self, node)
    return parts
  },

  insertIgnore: unsupported('postgres', 'INSERT OR IGNORE', "use onConflict(columns, 'nothing')"),
  insertReplace: unsupported('postgres', 'INSERT OR REPLACE', 'use onConflict(columns, [...columns to take from the new row])'),
  writeLimit: unsupported('postgres', 'ORDER BY / LIMIT on UPDATE and DELETE', 'limit a subquery of the keys: where(isIn(key, pipe(from(t), select(key), orderBy(...), limit(n))))'),

  // AVG of integers or NUMERIC keeps 16 decimals here (the average of eleven values summing to 25
  // reads 2.2727272727272727, whose double is not 25/11's): the typed `avg` (read back as a
  // number) multiplies its argument by an exact 1 with 30 decimals first, so it reads as the double
  // nearest the exact average, as on SQLite (a double precision argument stays one).
  func: (f) => fragments.exactAverage(self, f) ?? base.func(f),

  castType: (type) => (fragments.portableType(type).name === 'json' ? 'JSONB' : base.castType(type)),

  dateAdd: (e, amount, unit) => base.dateAdd({ kind: 'raw', fragment: temporal(self, e) }, amount, unit),
  dateTrunc: (unit, e) => F([`DATE_TRUNC('${unit}', `, temporal(self, e), ')']),
  // EXTRACT is NUMERIC from PostgreSQL 14: an integer, as on the other engines (whole seconds).
  // EXTRACT refuses the time of day of a DATE ('unit "hour" not supported for type date');
  // DATE_PART reads a date as its midnight, so hour, minute and second are 0 as elsewhere.
  extract: (part, e) =>
    part === 'second'
      ? F(["CAST(FLOOR(DATE_PART('second', ", temporal(self, e), ')) AS INTEGER)'])
      : part === 'hour' || part === 'minute'
        ? F([`CAST(DATE_PART('${part}', `, temporal(self, e), ') AS INTEGER)'])
        : F([`CAST(EXTRACT(${part.toUpperCase()} FROM `, temporal(self, e), ') AS INTEGER)']),

  jsonExtract: (e, path) => {
    if (path.length === 0) return self.expr(e)
    const { head, last } = jsonSteps(self, e, path)
    return F(['(', head, ' -> ', last, ')'])
  },
  jsonExtractText: (e, path) => {
    if (path.length === 0) return F(['(', fragments.wrapped(self, e), " #>> '{}')"])
    const { head, last } = jsonSteps(self, e, path)
    return F(['(', head, ' ->> ', last, ')'])
  },
  jsonContains: (e, value) => F(['(', fragments.wrapped(self, e), ' @> CAST(', fragments.jsonArgument(self, value), ' AS JSONB))']),
  // postgres.js parses json and jsonb, and a JSON string document would come back a bare string.
  jsonResult: (e) => F(['CAST(', self.expr(e), ' AS TEXT)']),

  // A bound number or boolean gets its type: INTEGER, BIGINT beyond 32 bits, DOUBLE PRECISION
  // with a fraction, BOOLEAN. The value stays a parameter.
  caseResult: (e) => {
    if (e.kind !== 'value') return self.expr(e)
    const v = e.value
    const type = typeof v === 'boolean' ? 'BOOLEAN'
      : typeof v === 'bigint' ? 'BIGINT'
      : typeof v !== 'number' ? undefined
      : !Number.isInteger(v) ? 'DOUBLE PRECISION'
      : Math.abs(v) <= 2147483647 ? 'INTEGER' : 'BIGINT'
    return type === undefined ? self.expr(e) : F(['CAST(', self.expr(e), ` AS ${type})`])
  },
  // A bound value has no type PostgreSQL can infer inside JSON_BUILD_OBJECT: numbers and
  // booleans as caseResult types them, strings TEXT, anything else (objects, json()) JSONB.
  jsonBuildObject: (entries) =>
    F(['JSON_BUILD_OBJECT(', fragments.joinParts(entries.map(([k, v]) => F([self.literal(k), ', ', jsonMember(self, v)])), ', '), ')']),
  // The row itself as the object: column names and types as the subquery has them.
  jsonArrayFrom: (q) => F(["(SELECT COALESCE(JSON_AGG(\"rk_agg\"), '[]') FROM (", fragments.selectLike(self, q), ') AS "rk_agg")']),
  jsonObjectFrom: (q) => F(['(SELECT TO_JSON("rk_obj") FROM (', fragments.selectLike(self, q), ') AS "rk_obj" LIMIT 1)']),

  beginTransaction: (o) => {
    // `behavior` (SQLite's BEGIN IMMEDIATE) has nothing to do here: PostgreSQL locks rows as it goes.
    const modes = fragments.isolationSql(o)
    if (o.deferrable !== undefined) modes.push(o.deferrable ? 'DEFERRABLE' : 'NOT DEFERRABLE')
    return [modes.length === 0 ? 'BEGIN' : `BEGIN ${modes.join(', ')}`]
  },

  // FETCH ... WITH TIES needs 13 and MERGE 15; nothing else this dialect renders differs
  // between 12 and 17. The version is recorded so that extensions can look at it too.
  forVersion: (version) => {
    const v = cleanVersion(version)
    return extendLayer(self, VERSION_GATES, () => builtIn({
      version: v,
      ...(versionAtLeast(v, '13') ? {} : { fetchWithTies: unsupported(`postgres ${v}`, 'FETCH ... WITH TIES', 'needs PostgreSQL 13') }),
      ...(versionAtLeast(v, '15') ? {} : { compileMerge: unsupported(`postgres ${v}`, 'MERGE', 'needs PostgreSQL 15') }),
    }))
  },
}))
