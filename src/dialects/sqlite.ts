/**
 * The SQLite dialect: the standard dialect with SQLite's differences, made with `extend`.
 *
 * Traps it handles: OFFSET needs a LIMIT (`LIMIT -1`); RETURNING exists only from 3.35 and
 * upsert from 3.24; VALUES has no DEFAULT keyword; RIGHT/FULL JOIN only from 3.39; values
 * have no boolean, date or JSON type, so adapters turn them into integers and text.
 *
 * Query language: a member of a set operation cannot be parenthesised, so one with its own
 * ORDER BY / LIMIT (or a nested set operation on the right) becomes `SELECT * FROM (...)`;
 * there is no INTERSECT ALL / EXCEPT ALL, no ROLLUP, no LATERAL, no row locks (SQLite locks
 * the whole database: use a transaction with `behavior: 'immediate'`), no JSON containment and
 * no EXPLAIN ANALYZE, each an UnsupportedFeature. CAST to a date or timestamp is the `date()` /
 * `datetime()` function (CAST would read `'2024-01-02'` as the number 2024); dates are
 * `'YYYY-MM-DD HH:MM:SS'` text, so date arithmetic and truncation use `datetime()` modifiers
 * (month arithmetic clamps to the month's end from 3.46, with the `floor` modifier). Version
 * gates: window functions 3.25, FILTER 3.30 (emulated with CASE before), GROUPS frames,
 * frame exclusion and named windows 3.28, MATERIALIZED hints 3.35, `->` / `->>` 3.38.
 */
import type { DateUnit, DeleteNode, Expr, InsertNode, ParamNode, SelectLike, UpdateNode } from '../ast.js'
import { DEFAULT } from '../ast.js'
import { type Dialect, unsupported, VERSION_GATES, versionAtLeast } from '../dialect.js'
import { dbError, unsupportedError } from '../errors.js'
import { extend, extendLayer } from '../record.js'
import { builtIn } from './shape-cache.js'
import { fromParts as F, isJsonValue, type Fragment, type Part } from '../sql.js'
import { fragments, mapColumns, standard } from './standard.js'
import { sqliteDdl } from './ddl/sqlite.js'
import { sqliteDateTime } from '../dates.js'
import { checkedString, jsonText, unbindable } from '../values.js'
import { resultTypeOf } from '../results.js'
import { valueColumnsOf } from '../value-columns.js'
import { underLimit } from './split-insert.js'

const MIN_INT64 = -(2n ** 63n)
const MAX_INT64 = 2n ** 63n - 1n

/**
 * JS values to what better-sqlite3 binds: booleans as 0/1, dates as UTC `YYYY-MM-DD HH:MM:SS[.fff]`
 * text (what `CURRENT_TIMESTAMP` writes), JSON as text. NaN (which SQLite stores as NULL), a
 * bigint beyond 64 bits, and anything that is not JSON data are refused (see `values.ts`).
 */
const toSqlite = (v: unknown): unknown => {
  switch (typeof v) {
    case 'string': return checkedString(v)
    case 'number':
      if (Number.isNaN(v)) throw unbindable(v, 'SQLite stores NaN as NULL')
      return v
    case 'bigint':
      if (v < MIN_INT64 || v > MAX_INT64) throw unbindable(v, 'SQLite integers have 64 bits (bind it as text)')
      return v
    case 'boolean': return v ? 1 : 0
    case 'undefined': return null
    case 'object':
      // A Date first: it is the common object, and the global `Buffer` is a getter call in ESM.
      if (v === null) return v
      if (v instanceof Date) return sqliteDateTime(v)
      if (Buffer.isBuffer(v)) return v
      if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength)
      return jsonText(isJsonValue(v) ? v.value : v)
    default: throw unbindable(v, 'SQLite has no such value')
  }
}

/**
 * Values as one JSON array for `json_each`, each converted as `toDriver` binds it (booleans 1 and
 * 0, dates as text); undefined when one has no exact JSON form there: SQLite reads a JSON number
 * with a fraction or beyond 2^53 into a double that may differ from the value's own, and bytes
 * are no JSON. A value `toDriver` refuses leaves the list too, whose parameter then names it.
 */
const jsonList = (toDriver: (v: unknown) => unknown, values: readonly unknown[]): string | undefined => {
  // Added piece by piece: the string is flattened once, where it is bound.
  let out = '['
  for (let i = 0; i < values.length; i++) {
    if (i > 0) out += ','
    let v: unknown
    try {
      v = values[i] === null ? null : toDriver(values[i])
    } catch {
      return undefined
    }
    if (v === null) out += 'null'
    else if (typeof v === 'string') out += JSON.stringify(v)
    else if (typeof v === 'bigint' || (typeof v === 'number' && Number.isSafeInteger(v))) out += String(v)
    else return undefined
  }
  return `${out}]`
}

/** The `datetime()` modifier suffix for each unit: `? || ' days'`. */
const MODIFIER_UNITS: Readonly<Record<DateUnit, string>> = {
  year: ' years', month: ' months', week: ' days', day: ' days', hour: ' hours', minute: ' minutes', second: ' seconds',
}

/** `strftime` formats that truncate a timestamp (units `datetime()` has no modifier for). */
const TRUNC_FORMATS: Readonly<Record<string, string>> = {
  hour: '%Y-%m-%d %H:00:00', minute: '%Y-%m-%d %H:%M:00', second: '%Y-%m-%d %H:%M:%S',
}
/** `datetime()` modifiers that truncate a timestamp. */
const TRUNC_MODIFIERS: Readonly<Record<string, string>> = {
  year: "'start of year'", month: "'start of month'", day: "'start of day'",
  // Back six days, then forward to the next Monday (or stay on it): the week's Monday.
  week: "'start of day', '-6 days', 'weekday 1'",
}
const PART_FORMATS: Readonly<Record<string, string>> = { year: '%Y', month: '%m', day: '%d', hour: '%H', minute: '%M', second: '%S' }

/**
 * A value inside json_object as the JSON value the builder knows it to be: JSON (a JSON column
 * read with `readAs`, a path, a nested object) through json(), which keeps it a document instead
 * of a string of its text; a condition or a bound boolean as true or false instead of 1 or 0.
 */
const jsonMember = (self: Dialect, v: Expr): Fragment => {
  if (v.kind === 'value' && typeof v.value === 'boolean') return F([`json('${String(v.value)}')`])
  const type = resultTypeOf(v)
  if (type === 'json') return F(['json(', self.expr(v), ')'])
  // Evaluated once: 1 is true, 0 false, NULL stays NULL (-1 matches neither).
  if (type === 'boolean') return F(["json(CASE COALESCE(", fragments.wrapped(self, v), " <> 0, -1) WHEN 1 THEN 'true' WHEN 0 THEN 'false' END)"])
  return self.caseResult(v)
}

/** Whether an expression is a number written in the query (bound, or a literal). */
const isNumber = (e: Expr): boolean =>
  (e.kind === 'value' || e.kind === 'literal') && (typeof e.value === 'number' || typeof e.value === 'bigint')

/** The comparisons whose operands are read as numbers when one side is a number (see `jsonNumber`). */
const COMPARISONS: ReadonlySet<string> = new Set(['=', '<>', '<', '<=', '>', '>='])

/**
 * The value at a JSON path as an SQL value, `json_extract(doc, path)`, where it is compared with a
 * number: `->` gives JSON text, which no number equals and every number sorts before, so
 * `eq(jsonGet(doc, 'n'), 10)` matched no row and `gt(jsonGet(doc, 'n'), 9)` every one. PostgreSQL
 * compares jsonb numbers and MySQL / MariaDB JSON_EXTRACT numbers as numbers. Anything else is
 * left as it is.
 */
const jsonNumber = (self: Dialect, e: Expr, other: readonly Expr[]): Expr =>
  e.kind === 'jsonExtract' && !e.asText && other.length > 0 && other.every(isNumber)
    ? { kind: 'raw', fragment: F(['json_extract(', self.expr(e.expr), ', ', { _tag: 'Param', value: self.jsonPath(e.path) }, ')']) }
    : e

/** A column to drop from a VALUES list: every row has DEFAULT there. */
const allDefault = (node: InsertNode, i: number): boolean => node.rows.every((r) => r[i] === DEFAULT)

/** A LIMIT or OFFSET as SQL text when it is a number, checked to be a whole count; else the prepared query's parameter. */
const rowCount = (self: Dialect, n: number | ParamNode): Part => {
  if (typeof n !== 'number') return fragments.amount(self, n)
  if (!Number.isSafeInteger(n) || n < 0) throw dbError('QueryError', `LIMIT/OFFSET must be a non-negative integer, got ${n}`)
  return String(n)
}

/**
 * The first column of an UPDATE ... FROM's RETURNING that names one of its FROM tables
 * (`owner.name`, `owner.*`), as written; undefined without one. SQLite's RETURNING sees the
 * updated table alone, and would fail with "no such column".
 */
const fromTableNamedIn = (q: UpdateNode): string | undefined => {
  if (q.returning === undefined || q.returning.length === 0) return undefined
  const others = new Set((q.from ?? []).flatMap((t) => (t.kind === 'table' ? [t.alias ?? t.name] : t.kind === 'raw' ? [] : [t.alias])))
  let found: string | undefined
  for (const s of q.returning) {
    if (s.expr.kind === 'star' && s.expr.table !== undefined && others.has(s.expr.table)) return `${s.expr.table}.*`
    mapColumns(s.expr, (c) => {
      if (found === undefined && c.table !== undefined && others.has(c.table)) found = `${c.table}.${c.name}`
      return c
    })
    if (found !== undefined) return found
  }
  return undefined
}

/**
 * SQLite has no DEFAULT keyword in an assignment ("near DEFAULT: syntax error"): an UPDATE's SET
 * or an upsert's DO UPDATE SET assigning it is an UnsupportedFeature before it runs.
 */
const noDefaultAssigned = (self: Dialect, assigned: readonly (readonly [string, unknown])[] | null | undefined, where: string): void => {
  if (assigned?.some(([, v]) => v === DEFAULT)) throw unsupportedError(self.name, `DEFAULT in ${where}`, 'assign the default value itself')
}

/** Whether an UPDATE or a DELETE has RETURNING and ORDER BY or LIMIT, whose order SQLite has its own way. */
const returnsLimited = (q: UpdateNode | DeleteNode): boolean =>
  q.returning !== undefined && q.returning.length > 0 && ((q.orderBy !== undefined && q.orderBy.length > 0) || q.limit !== undefined)

/**
 * The query of an INSERT ... SELECT with an upsert, with a WHERE SQLite can read: without one,
 * `... FROM t ON CONFLICT` reads as a join's ON and fails ("near DO: syntax error"). A SELECT
 * without a WHERE gets `WHERE true`; a set operation is read through `SELECT * FROM (...) WHERE true`.
 */
const withWhere = (q: SelectLike): SelectLike => {
  const always: Expr = { kind: 'literal', value: true }
  if (q.kind === 'select') return q.where !== undefined || q.from === undefined ? q : { ...q, where: always }
  return { kind: 'select', distinct: false, columns: [{ expr: { kind: 'star' } }], from: { kind: 'derived', query: q, alias: 'rk_rows' }, joins: [], groupBy: [], orderBy: [], where: always }
}

/**
 * The SQLite dialect (assumes a recent SQLite; `compose` specialises it to the library's
 * version through `forVersion`).
 *
 * @example
 * const db = compose(betterSqlite3({ filename: ':memory:' }), sqlite)
 */
export const sqlite: Dialect = extend(standard, (self, base) => builtIn({
  ...sqliteDdl(self, base),
  name: 'sqlite',
  version: '3.45.0',
  maxParams: 32766,
  toDriver: toSqlite,

  // A row count is written into the text as a checked integer: SQLite plans a statement whose
  // LIMIT or OFFSET is a bound parameter again on every run (measured on a point select:
  // 5.2 µs with `LIMIT ?`, 1.4 µs with `LIMIT 1`). A prepared query's named parameter stays one.
  limitOffset: (limit, offset) => {
    const parts: Part[] = []
    if (limit !== undefined) parts.push(' LIMIT ', rowCount(self, limit))
    else if (offset !== undefined) parts.push(' LIMIT -1')
    if (offset !== undefined) parts.push(' OFFSET ', rowCount(self, offset))
    return F(parts)
  },
  writeLimit: (orderBy, limit) => {
    // SQLite orders an UPDATE or a DELETE only to choose the rows of its LIMIT ("ORDER BY without
    // LIMIT on UPDATE"), where MySQL and MariaDB also apply the rows in that order.
    if (orderBy.length > 0 && limit === undefined) {
      throw unsupportedError(self.name, 'ORDER BY without LIMIT on UPDATE and DELETE', 'add limit(n), or leave the order out: without a LIMIT it chooses no rows')
    }
    const parts: Part[] = [base.writeLimit(orderBy, undefined)]
    if (limit !== undefined) parts.push(' LIMIT ', rowCount(self, limit))
    return F(parts)
  },

  // No DEFAULT keyword in VALUES: a column every row leaves to its default is left out; rows
  // that differ in which columns they set are inserted as consecutive groups (`insertStatements`).
  insertValues: (node) => {
    if (node.query !== undefined) return base.insertValues(node.onConflict === undefined ? node : { ...node, query: withWhere(node.query) })
    // Plain values only (see src/value-columns.ts): no DEFAULT anywhere.
    if (valueColumnsOf(node) !== undefined) return base.insertValues(node)
    const keep = node.columns.map((_, i) => !allDefault(node, i))
    if (!keep.includes(false)) {
      if (node.rows.some((r) => r.includes(DEFAULT))) {
        throw dbError('UnsupportedFeature', 'sqlite has no DEFAULT keyword in VALUES: db.execute inserts rows with different columns as separate statements in one transaction', { dialect: 'sqlite', feature: 'DEFAULT in multi-row VALUES' })
      }
      return base.insertValues(node)
    }
    const columns = node.columns.filter((_, i) => keep[i])
    const rows = node.rows.map((r) => r.filter((_, i) => keep[i]))
    if (rows.some((r) => r.includes(DEFAULT)) || (columns.length === 0 && node.rows.length > 1)) {
      throw dbError('UnsupportedFeature', 'sqlite has no DEFAULT keyword in VALUES: db.execute inserts rows with different columns as separate statements in one transaction', { dialect: 'sqlite', feature: 'DEFAULT in multi-row VALUES' })
    }
    return base.insertValues({ ...node, columns, rows: rows as readonly (readonly Expr[])[] })
  },

  insertStatements: (node) => {
    if (node.query !== undefined || node.rows.length < 2) return [node]
    if (node.columns.length === 0) return fragments.defaultRows(node)
    if (valueColumnsOf(node) !== undefined) return underLimit(self, node)
    // Rows that set every column (the common case) are one statement, as they are, unless
    // their values are more than one statement may bind (`maxParams`, 999 before 3.32).
    if (!node.rows.some((r) => r.includes(DEFAULT))) return underLimit(self, node)
    // Runs of rows that leave the same columns to their defaults, in the order given (a row of
    // only defaults is a run of its own: SQLite has no multi-row DEFAULT VALUES).
    const shape = (r: readonly Expr[]): string => r.map((c) => (c === DEFAULT ? '0' : '1')).join('')
    const groups: (readonly Expr[])[][] = []
    let last: string | undefined
    for (const r of node.rows) {
      const s = shape(r)
      if (s === last && s.includes('1')) groups[groups.length - 1].push(r)
      else groups.push([r])
      last = s
    }
    return groups.length === 1 ? underLimit(self, node) : groups.flatMap((rows) => underLimit(self, { ...node, rows }))
  },

  // `IS` / `IS NOT` compare NULLs as values on every SQLite (IS DISTINCT FROM only from 3.39).
  binary: (op, l, r) => (COMPARISONS.has(op) ? base.binary(op, jsonNumber(self, l, [r]), jsonNumber(self, r, [l])) : base.binary(op, l, r)),
  expr: (e) => (e.kind === 'between' && e.expr.kind === 'jsonExtract' ? base.expr({ ...e, expr: jsonNumber(self, e.expr, [e.low, e.high]) }) : base.expr(e)),
  distinctFrom: (l, r, negated) => F([fragments.wrapped(self, l), negated ? ' IS ' : ' IS NOT ', fragments.wrapped(self, r)]),
  // GROUP_CONCAT on every version (STRING_AGG only from 3.44).
  stringAgg: (f) => F(['GROUP_CONCAT', f.distinct ? '(DISTINCT ' : '(', fragments.joinParts(f.args.map(self.expr), ', '),
    f.orderBy !== undefined && f.orderBy.length > 0 ? self.aggregateOrderBy(f, f.orderBy) : F([]), ')']),
  withinGroup: unsupported('sqlite', 'WITHIN GROUP (ordered-set aggregates)'),
  fetchWithTies: unsupported('sqlite', 'FETCH ... WITH TIES', 'rank the rows with over(rank(), ...) in a derived table and keep rank <= n'),
  quantifiedSubquery: unsupported('sqlite', 'ANY / ALL', 'use IN, NOT IN, or compare with MIN() / MAX() of the subquery'),
  quantifiedArray: unsupported('sqlite', 'ANY / ALL over an array', 'use isIn with the list'),
  // A long IN list as one JSON array parameter: SQLite has no array type.
  longInList: (lhs, values, negated) => {
    const list = jsonList(self.toDriver, values)
    return list === undefined ? undefined : F([lhs, negated ? ' NOT IN (SELECT value FROM json_each(' : ' IN (SELECT value FROM json_each(', { _tag: 'Param', value: list }, '))'])
  },
  distinctOn: unsupported('sqlite', 'DISTINCT ON', 'number the rows with over(rowNumber(), { partitionBy }) in a derived table and keep the first'),
  insertIgnore: () => F(['INSERT OR IGNORE INTO ']),
  insertReplace: () => F(['INSERT OR REPLACE INTO ']),
  upsert: (node) => {
    noDefaultAssigned(self, node.onConflict?.update, 'ON CONFLICT ... DO UPDATE SET')
    return base.upsert(node)
  },
  conflictTarget: (oc) => {
    if (oc.constraint !== undefined) throw unsupportedError(self.name, 'ON CONFLICT ON CONSTRAINT', 'name the columns of the unique index')
    return base.conflictTarget(oc)
  },
  valuesTable: (v) => fragments.valuesAsUnion(self, v),
  cteStatement: unsupported('sqlite', 'INSERT / UPDATE / DELETE in WITH', 'run the statement with RETURNING, then the query'),
  compileMerge: unsupported('sqlite', 'MERGE', "use an upsert: onConflict(columns, ...)"),
  // SQLite takes RETURNING before ORDER BY and LIMIT: `DELETE ... RETURNING id ORDER BY ... LIMIT n`.
  compileUpdate: (q) => {
    noDefaultAssigned(self, q.set, 'UPDATE ... SET')
    return returnsLimited(q) ? F([base.compileUpdate({ ...q, orderBy: undefined, limit: undefined }), self.writeLimit(q.orderBy ?? [], q.limit)]) : base.compileUpdate(q)
  },
  compileDelete: (q) => (returnsLimited(q) ? F([base.compileDelete({ ...q, orderBy: undefined, limit: undefined }), self.writeLimit(q.orderBy ?? [], q.limit)]) : base.compileDelete(q)),
  updateFrom: (q) => {
    const named = fromTableNamedIn(q)
    if (named !== undefined) {
      throw unsupportedError(self.name, `RETURNING a column of a FROM table of UPDATE ... FROM (${named})`, 'SQLite returns the updated table alone: return its columns, and read the others in a query after the update')
    }
    return base.updateFrom(q)
  },
  deleteUsing: unsupported('sqlite', 'DELETE ... USING', 'use where(isIn(key, subquery)) or where(exists(...))'),
  rowArgument: unsupported('sqlite', 'a qualified star as an argument (COUNT(t.*))', 'count a NOT NULL column of the table'),
  // COUNT(DISTINCT (a, b)) fails with "row value misused".
  func: (f) => {
    if (f.distinct === true && f.args.length === 1 && f.args[0].kind === 'tuple' && f.name.toLowerCase() === 'count') {
      throw unsupportedError(self.name, 'COUNT(DISTINCT) of several columns', 'count the rows of a SELECT DISTINCT of them in a derived table')
    }
    return base.func(f)
  },

  beginTransaction: (o) => {
    if (o.readOnly) throw dbError('UnsupportedFeature', 'sqlite has no read-only transactions (open the database read-only instead)', { dialect: 'sqlite', feature: 'READ ONLY transaction' })
    // SQLite transactions are always serializable, which satisfies any requested level.
    return [o.behavior === undefined || o.behavior === 'deferred' ? 'BEGIN' : `BEGIN ${o.behavior.toUpperCase()}`]
  },

  castType: (type) => {
    const t = fragments.portableType(type)
    switch (t.name) {
      case 'integer': case 'smallint': case 'bigint': case 'boolean': return 'INTEGER'
      case 'text': case 'varchar': case 'char': return 'TEXT'
      case 'real': case 'double': return 'REAL'
      case 'decimal': return 'NUMERIC'
      default: return t.sql
    }
  },
  cast: (e, type) => {
    const t = fragments.portableType(type)
    switch (t.name) {
      case 'date': return F(['date(', self.expr(e), ')'])
      case 'timestamp': return F(['datetime(', self.expr(e), ')'])
      case 'time': return F(['time(', self.expr(e), ')'])
      case 'json': return F(['json(', self.expr(e), ')'])
      // A condition, 1 or 0 (NULL stays NULL), as PostgreSQL's cast gives true or false: a cast
      // to INTEGER alone kept 3 as 3.
      case 'boolean': return F(['(CAST(', self.expr(e), ' AS INTEGER) <> 0)'])
      // No decimal type: round a REAL to the scale, as a DECIMAL(p, s) cast rounds. A REAL keeps
      // 15 significant digits exactly; a wider decimal would come back changed, so it is refused.
      // The decimal a REAL stands for may be a half whose nearest double lies just below it (2.675
      // is 2.67499999999999982...): moved away from zero by 2^-51 of itself (a few units in the
      // last place, far less than a 15th significant digit) first, it rounds half away from zero,
      // 2.675 to 2.68, as PostgreSQL and MariaDB round a DECIMAL.
      case 'decimal':
        if (t.args.length === 2 && Number(t.args[0]) > 15) {
          throw unsupportedError('sqlite', `CAST to ${t.sql}`, 'SQLite has no decimal type, and a REAL keeps only 15 significant digits: cast to decimal(15,s) or less, or keep the value as text')
        }
        return t.args.length === 2 ? F(['ROUND(CAST(', self.expr(e), ` AS REAL) * 1.0000000000000004, ${t.args[1]})`]) : base.cast(e, type)
      default: return base.cast(e, type)
    }
  },

  dateAdd: (e, amount, unit) => {
    const n: Fragment = unit === 'week' ? F(['(', fragments.wrapped(self, amount), ' * 7)']) : fragments.wrapped(self, amount)
    const clamp = (unit === 'month' || unit === 'year') && versionAtLeast(self.version, '3.46') ? ", 'floor'" : ''
    // strftime with %f keeps the milliseconds, which datetime() drops (23:59:59.250 + 1 second
    // would be 00:00:00, not 00:00:00.250).
    return F(["strftime('%Y-%m-%d %H:%M:%f', ", self.expr(e), ', ', n, ` || '${MODIFIER_UNITS[unit]}'${clamp})`])
  },
  dateTrunc: (unit, e) =>
    TRUNC_FORMATS[unit] !== undefined
      ? F([`strftime('${TRUNC_FORMATS[unit]}', `, self.expr(e), ')'])
      : F(['datetime(', self.expr(e), `, ${TRUNC_MODIFIERS[unit]})`]),
  extract: (part, e) => F([`CAST(strftime('${PART_FORMATS[part]}', `, self.expr(e), ') AS INTEGER)']),

  jsonExtract: (e, path) =>
    versionAtLeast(self.version, '3.38')
      ? F(['(', fragments.wrapped(self, e), ' -> ', { _tag: 'Param', value: self.jsonPath(path) }, ')'])
      : F(['json_quote(json_extract(', self.expr(e), ', ', { _tag: 'Param', value: self.jsonPath(path) }, '))']),
  // `$[#-1]` is the last element of an array.
  jsonPath: (path) => {
    let out = '$'
    for (const k of path) out += typeof k === 'number' ? `[${fragments.jsonIndex(k, (n) => `#${n}`)}]` : base.jsonPath([k]).slice(1)
    return out
  },
  // The text at a path, as PostgreSQL's ->> and MySQL's JSON_UNQUOTE give it: `->>` alone gives
  // a JSON number as an SQL number and true as 1, so jsonText(doc, 'n') = '10' matched nothing.
  // A string is the string, JSON null is NULL, anything else its JSON text.
  jsonExtractText: (e, path) => {
    const at = (): Part => ({ _tag: 'Param', value: self.jsonPath(path) })
    return F(['CASE json_type(', self.expr(e), ', ', at(), ") WHEN 'text' THEN json_extract(", self.expr(e), ', ', at(),
      ") WHEN 'null' THEN NULL WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' ELSE CAST(json_extract(", self.expr(e), ', ', at(), ') AS TEXT) END'])
  },
  // A bound boolean is bound as 1 or 0, which json_object keeps as a number: a bound true or
  // false is the JSON document true or false instead, as on the other engines.
  jsonBuildObject: (entries) =>
    F(['json_object(', fragments.joinParts(entries.map(([k, v]) => F([self.literal(k), ', ', jsonMember(self, v)])), ', '), ')']),
  // json_group_array for JSON_ARRAYAGG; json_object keeps its result JSON inside it.
  // The subquery's columns keep the type the builder knows of them (JSON, a condition) through
  // the derived table, so they nest as JSON values.
  jsonArrayFrom: (q) =>
    F(["(SELECT COALESCE(json_group_array(", fragments.rowObject(self, q, 'rk_agg'), "), '[]') FROM (", fragments.selectLike(self, q), ') AS "rk_agg")']),
  jsonContains: unsupported('sqlite', 'JSON containment', 'compare extracted values, or use json_each in a sql fragment'),

  // Members cannot be parenthesised: wrap the ones that need it as a derived table. Set
  // operations have one precedence and read left to right, like the builders.
  compoundMember: (q, _parent, side) =>
    fragments.hasTail(q) || (q.kind === 'compound' && side === 'right') ? fragments.selectAllFrom(self, q) : fragments.selectLike(self, q),
  intersectAll: unsupported('sqlite', 'INTERSECT ALL'),
  exceptAll: unsupported('sqlite', 'EXCEPT ALL'),

  rollup: unsupported('sqlite', 'GROUP BY ROLLUP'),
  lateral: unsupported('sqlite', 'LATERAL subqueries'),
  lock: unsupported('sqlite', 'row locks (FOR UPDATE / FOR SHARE)', 'SQLite locks the whole database: use a transaction with behavior "immediate"'),
  lockOf: unsupported('sqlite', 'row locks (FOR UPDATE OF)'),
  lockNowait: unsupported('sqlite', 'row locks (NOWAIT)'),
  lockSkipLocked: unsupported('sqlite', 'row locks (SKIP LOCKED)'),

  explain: (node) => {
    if (node.analyze) return self.explainAnalyze(self.statement(node.query))
    return F(['EXPLAIN QUERY PLAN ', self.statement(node.query)])
  },
  explainAnalyze: unsupported('sqlite', 'EXPLAIN ANALYZE'),

  forVersion: (version) => {
    const name = `sqlite ${version}`
    return extendLayer(self, VERSION_GATES, (s) => builtIn({
      version,
      maxParams: versionAtLeast(version, '3.32') ? 32766 : 999,
      ...(versionAtLeast(version, '3.35') ? {} : { returning: unsupported(name, 'RETURNING', 'needs SQLite 3.35') }),
      ...(versionAtLeast(version, '3.24') ? {} : { upsert: unsupported(name, 'ON CONFLICT (upsert)', 'needs SQLite 3.24') }),
      ...(versionAtLeast(version, '3.39') ? {} : {
        rightJoin: unsupported(name, 'RIGHT JOIN', 'needs SQLite 3.39'), fullJoin: unsupported(name, 'FULL JOIN', 'needs SQLite 3.39'),
      }),
      ...(versionAtLeast(version, '3.25') ? {} : { windowFunction: unsupported(name, 'window functions', 'needs SQLite 3.25') }),
      ...(versionAtLeast(version, '3.28') ? {} : {
        groupsFrame: unsupported(name, 'GROUPS frames', 'needs SQLite 3.28'),
        frameExclusion: unsupported(name, 'frame exclusion', 'needs SQLite 3.28'),
        windowClause: unsupported(name, 'named windows (WINDOW clause)', 'needs SQLite 3.28'),
      }),
      ...(versionAtLeast(version, '3.30') ? {} : { aggregateFilter: (f: Parameters<Dialect['aggregateFilter']>[0]) => fragments.filterAsCase(s, f) }),
      ...(versionAtLeast(version, '3.35') ? {} : { cteMaterialized: unsupported(name, 'MATERIALIZED hints', 'needs SQLite 3.35') }),
      ...(versionAtLeast(version, '3.33') ? {} : { updateFrom: unsupported(name, 'UPDATE ... FROM', 'needs SQLite 3.33') }),
      ...(versionAtLeast(version, '3.44') ? {} : { aggregateOrderBy: unsupported(name, 'ORDER BY inside an aggregate', 'needs SQLite 3.44') }),
      ...(versionAtLeast(version, '3.8.3') ? {} : { withClause: unsupported(name, 'WITH (common table expressions)', 'needs SQLite 3.8.3') }),
    }))
  },
}))

