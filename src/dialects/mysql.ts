/**
 * The MySQL and MariaDB dialects: the standard dialect with MySQL's differences, made with
 * `extend`; MariaDB is MySQL with its own differences on top, made the same way.
 *
 * Traps it handles: identifiers are quoted with backticks; `||` is OR unless the server runs
 * with PIPES_AS_CONCAT, so concatenation is `CONCAT()`; OFFSET needs a LIMIT (the largest
 * unsigned BIGINT stands for "no limit"); there is no `NULLS FIRST/LAST` (emulated with an
 * `IS NULL` sort key) and no FULL JOIN; upsert is `ON DUPLICATE KEY UPDATE`, which fires on
 * any unique key and has no WHERE, and names the proposed row `new.col` (MySQL 8.0.19+, with
 * `AS new`) or `VALUES(col)` (older MySQL and MariaDB); RETURNING exists only on MariaDB
 * (DELETE since 10.0.5, INSERT since 10.5, never UPDATE); an insert of only defaults is
 * `() VALUES ()`; isolation is set by a `SET TRANSACTION` before `START TRANSACTION`.
 *
 * Query language: CAST types are MySQL's (`SIGNED`, `CHAR`, `DATETIME`, ...); FILTER on an
 * aggregate is emulated with CASE; ROLLUP is `GROUP BY ... WITH ROLLUP` (MariaDB cannot
 * ORDER BY it directly: the rolled-up query becomes a derived table and is ordered outside);
 * no GROUPS frames or frame exclusion; the WITH of an `INSERT ... SELECT` goes before its
 * SELECT; MATERIALIZED hints are dropped. MySQL 8.0: LATERAL from 8.0.14, INTERSECT and EXCEPT
 * from 8.0.31, `FOR SHARE` / `NOWAIT` / `SKIP LOCKED` / `OF`, `EXPLAIN ANALYZE` from 8.0.18;
 * window functions and CTEs need 8.0. MariaDB: no LATERAL, no WITH on UPDATE or DELETE,
 * `LOCK IN SHARE MODE` for share locks and no `OF`, NOWAIT from 10.3, SKIP LOCKED from 10.6,
 * INTERSECT / EXCEPT from 10.3 (their ALL forms from 10.5), no default argument of LAG/LEAD,
 * `ANALYZE statement` for EXPLAIN ANALYZE.
 *
 * Values: booleans are TINYINT(1) and travel as 1/0; a Date travels as UTC text
 * `YYYY-MM-DD HH:MM:SS.mmm` (the mysql2 driver reads DATETIME back as UTC, so a Date comes
 * back as the same instant whatever the process or server time zone); objects and arrays as
 * JSON text; a bigint as its decimal text, which the server converts exactly. NaN, ±Infinity,
 * Dates outside years 0000-9999 and values that are not JSON data are refused with a
 * ValidationError naming the parameter (see `values.ts`).
 */
import type { DateUnit, Expr, FuncNode, InsertNode, SelectLike, SelectNode } from '../ast.js'
import { DEFAULT } from '../ast.js'
import { type Dialect, unsupported, VERSION_GATES, versionAtLeast } from '../dialect.js'
import { dbError, unsupportedError } from '../errors.js'
import { extend, extendLayer, hasLayer, layerDepth } from '../record.js'
import { builtIn } from './shape-cache.js'
import { fromParts as F, isJsonValue, type Fragment, type Part } from '../sql.js'
import { fragments, mapColumns, standard, standardOpen } from './standard.js'
import { mariadbDdl, mysqlDdl } from './ddl/mysql.js'
import { checkedString, jsonText, unbindable } from '../values.js'
import { mysqlDateTime } from '../dates.js'
import { valueColumnsOf } from '../value-columns.js'
import { underLimit } from './split-insert.js'

/** The MySQL dialect record: a Dialect plus the name the proposed row gets in an upsert. */
export interface MysqlDialect extends Dialect {
  /**
   * The alias of the proposed row in `INSERT ... AS alias ON DUPLICATE KEY UPDATE`
   * (MySQL 8.0.19+: `new`), or `undefined` where the row is named with `VALUES(col)`.
   */
  readonly rowAlias: string | undefined
  /**
   * An insert that skips rows whose conflict target already exists (`onConflict(cols,
   * 'nothing')`): `INSERT ... SELECT ... FROM (rows) WHERE NOT EXISTS (...)`, so rows affected
   * counts only the rows inserted. ON DUPLICATE KEY UPDATE stays on as the guard for a row
   * another session inserts meanwhile. INSERT IGNORE is not used: it also turns NOT NULL,
   * range and length errors into warnings and writes changed values.
   */
  readonly insertSkippingConflicts: (node: InsertNode) => Fragment
}

/** The fields the MySQL dialect adds to a Dialect. */
type MysqlFields = Omit<MysqlDialect, keyof Dialect>

/**
 * Whether a do-nothing upsert can be written as an insert of the rows that do not exist yet:
 * VALUES rows without DEFAULT cells (`insertStatements` splits the others) or a query, and a
 * conflict target among the inserted columns.
 */
const canSkipConflicts = (q: InsertNode): boolean => {
  const oc = q.onConflict
  return oc !== undefined && oc.update === null && oc.where === undefined && oc.constraint === undefined && oc.targetWhere === undefined && oc.target.length > 0 &&
    q.columns.length > 0 && oc.target.every((c) => q.columns.includes(c)) && (q.query !== undefined || valueColumnsOf(q) !== undefined || (q.rows.length > 0 && q.rows.every((r) => !r.includes(DEFAULT))))
}

/** A do-nothing upsert with a conflict target, whatever its rows (the shape `insertStatements` splits). */
const doNothingOnTarget = (q: InsertNode): boolean => {
  const oc = q.onConflict
  return oc !== undefined && oc.update === null && oc.where === undefined && oc.constraint === undefined && oc.targetWhere === undefined && oc.target.length > 0
}

/**
 * The output name of a query's column at `index`, where the query names it (an alias or a
 * plain column); a set operation is named by its first member.
 */
const outputName = (q: SelectLike, index: number): string | undefined => {
  if (q.kind === 'compound') return outputName(q.left, index)
  const s = q.columns[index]
  if (s === undefined) return undefined
  return s.alias ?? (s.expr.kind === 'column' ? s.expr.name : undefined)
}

/**
 * The query of an INSERT ... SELECT with output names a derived table can carry: when two of
 * its columns share a name (`SELECT id, id, ...`) or one has none, the columns of its first
 * SELECT are named after the inserted columns, in order. A query whose names are fine, or that
 * selects `*`, is left as it is.
 */
const distinctNames = (q: SelectLike, columns: readonly string[]): SelectLike => namedAfter(q, columns, false)

/** The query with the columns of its first SELECT named after `columns` (`always`, or when its names would clash). */
const namedAfter = (q: SelectLike, columns: readonly string[], always: boolean): SelectLike => {
  const names = columns.map((_, i) => outputName(q, i))
  if (!always && names.every((n, i) => n !== undefined && names.indexOf(n) === i)) return q
  if (q.kind === 'compound') return { ...q, left: namedAfter(q.left, columns, always) }
  if (q.columns.length !== columns.length || q.columns.some((s) => s.expr.kind === 'star')) return q
  return { ...q, columns: q.columns.map((s, i) => ({ expr: s.expr, alias: columns[i] })) }
}

/** A row count written into the SQL text, checked to be a whole number from 0. */
const rowCount = (n: number): string => {
  if (!Number.isSafeInteger(n) || n < 0) throw dbError('QueryError', `LIMIT/OFFSET must be a non-negative integer, got ${n}`)
  return String(n)
}

/** The largest LIMIT MySQL accepts: the way to say "no limit" when only OFFSET is wanted. */
export const NO_LIMIT = '18446744073709551615'

export { mysqlDateTime } from '../dates.js'

/**
 * JS values to what mysql2 binds the same way with `execute` and with `query`. NaN and
 * ±Infinity (a DOUBLE column has neither: MariaDB would store 0) and anything that is not JSON
 * data are refused (see `values.ts`).
 */
const toMysql = (v: unknown): unknown => {
  switch (typeof v) {
    case 'string': return checkedString(v)
    case 'number':
      if (!Number.isFinite(v)) throw unbindable(v, 'MySQL and MariaDB numbers have no NaN or Infinity')
      return v
    case 'boolean': return v ? 1 : 0
    case 'bigint': return v.toString()
    case 'undefined': return null
    case 'object':
      // A Date first: it is the common object, and the global `Buffer` is a getter call in ESM.
      if (v === null) return v
      if (v instanceof Date) return mysqlDateTime(v)
      if (Buffer.isBuffer(v)) return v
      if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength)
      // mysql2's text protocol would expand an object into `key = value` pairs and an array
      // into a list: JSON text is what a JSON column takes, under both protocols.
      return jsonText(isJsonValue(v) ? v.value : v)
    default: throw unbindable(v, 'MySQL has no such value')
  }
}

/**
 * Values as SQL literals, each converted as `toDriver` binds it: integers as digits, other numbers
 * as DOUBLE literals (`1.5e+0`, the type a bound number has), text (bigints and dates included)
 * as `_utf8mb4 X'...'` (hex: nothing to escape, whatever the sql_mode), bytes as `X'...'`.
 * Undefined when `toDriver` refuses a value (the plain list then names its parameter) or gives
 * one without a literal here.
 */
const literalList = (toDriver: (v: unknown) => unknown, values: readonly unknown[]): string | undefined => {
  let out = ''
  for (let i = 0; i < values.length; i++) {
    if (i > 0) out += ', '
    let v: unknown
    try {
      v = values[i] === null ? null : toDriver(values[i])
    } catch {
      return undefined
    }
    if (v === null) out += 'NULL'
    else if (typeof v === 'number' && Number.isFinite(v)) out += Number.isSafeInteger(v) ? String(v) : v.toExponential()
    else if (typeof v === 'string') out += `_utf8mb4 X'${Buffer.from(v, 'utf8').toString('hex')}'`
    else if (v instanceof Uint8Array) out += `X'${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')}'`
    else return undefined
  }
  return out
}

/** The items of a chain of `||`, flattened so `a || b || c` becomes one `CONCAT(a, b, c)`. */
const concatItems = (e: Expr): readonly Expr[] =>
  e.kind === 'binary' && e.op === '||' ? [...concatItems(e.left), ...concatItems(e.right)] : [e]

/** `DATE_FORMAT` patterns that truncate a DATETIME to a unit. */
const TRUNC_FORMATS: Readonly<Record<string, string>> = {
  year: '%Y-01-01', month: '%Y-%m-01', hour: '%Y-%m-%d %H:00:00', minute: '%Y-%m-%d %H:%i:00', second: '%Y-%m-%d %H:%i:%s',
}

/** A server version with the `5.5.5-` prefix old MariaDB handshakes carry removed. */
const cleanVersion = (version: string): string => version.trim().replace(/^5\.5\.5-(?=\d+\.\d+.*mariadb)/i, '')

/**
 * Whether a server version string is MariaDB's (`10.11.6-MariaDB-1:10.11.6+maria~ubu2204`).
 * @example isMariaDbVersion('10.11.19-MariaDB-0+deb12u1') // true
 */
export const isMariaDbVersion = (version: string): boolean => /mariadb/i.test(version)

/**
 * Whether an IN list is a query with a LIMIT or an OFFSET (its own, or a member's): MySQL and
 * MariaDB refuse such a subquery under IN, ANY, ALL and SOME ("This version of MySQL doesn't yet
 * support 'LIMIT & IN/ALL/ANY/SOME subquery'").
 */
const keepsFirstRows = (list: readonly Expr[] | SelectLike): boolean => {
  if (Array.isArray(list)) return false
  const q = list as SelectLike
  return q.limit !== undefined || q.offset !== undefined || (q.kind === 'compound' && (keepsFirstRows(q.left) || keepsFirstRows(q.right)))
}

/**
 * The first column of a subquery that names a table the subquery does not have in its FROM or
 * joins (`s.dept` of the outer query), as written; undefined when it names none.
 */
const outerColumn = (q: SelectLike): string | undefined => {
  if (q.kind === 'compound') return outerColumn(q.left) ?? outerColumn(q.right)
  const own = new Set<string>()
  for (const t of [q.from, ...q.joins.map((j) => j.table)]) {
    if (t === undefined || t.kind === 'raw') continue
    own.add(t.kind === 'table' ? t.alias ?? t.name : t.alias)
  }
  for (const c of q.with?.ctes ?? []) own.add(c.name)
  let found: string | undefined
  const look = (e: Expr | undefined): void => {
    if (e === undefined || found !== undefined) return
    mapColumns(e, (c) => {
      if (found === undefined && c.table !== undefined && !own.has(c.table)) found = `${c.table}.${c.name}`
      return c
    })
  }
  for (const s of q.columns) look(s.expr)
  look(q.where)
  for (const j of q.joins) look(j.on)
  for (const g of q.groupBy) look(g)
  look(q.having)
  for (const o of q.orderBy) look(o.expr)
  return found
}

/**
 * A subquery of IN / ANY / ALL that keeps its first rows, as one MySQL and MariaDB take. MariaDB
 * cannot read a correlated one so (its derived tables do not see the outer query, and would
 * report the outer column unknown): refused, naming that column.
 */
const limitedSubquery = (self: Dialect, q: SelectLike): SelectNode => {
  if (hasLayer(self, MARIADB)) {
    const outer = outerColumn(q)
    if (outer !== undefined) {
      throw unsupportedError(self.name, `a LIMIT in a correlated IN / ANY / ALL subquery (${outer})`, 'MariaDB reads such a subquery only through a derived table, which cannot see the outer query: use exists(...) with the condition, or a join')
    }
  }
  return throughDerived(q)
}

/** `SELECT * FROM (q) AS alias`: the same rows, read through a derived table. */
const selectAll = (q: SelectLike, alias: string): SelectNode => ({
  kind: 'select', distinct: false, columns: [{ expr: { kind: 'star' } }], from: { kind: 'derived', query: q, alias }, joins: [], groupBy: [], orderBy: [],
})

/** `SELECT * FROM (q) AS rk_limited`: the same rows, as a query IN may hold. */
const throughDerived = (q: SelectLike): SelectNode => selectAll(q, 'rk_limited')

/**
 * The MySQL dialect (assumes MySQL 8.0.19 or later; `connect` specialises it to the server's
 * version through `forVersion`, and to the MariaDB dialect when the server is MariaDB).
 *
 * @example
 * const db = await run(connect(mysql2({ url: 'mysql://root@localhost/app' }), mysql))
 */
export const mysql: MysqlDialect = extend<Dialect, MysqlFields>(standard, (self, base) => builtIn({
  ...mysqlDdl(self, base),
  name: 'mysql',
  version: '8.0.35',
  maxParams: 65535,
  // LAST_INSERT_ID() of a multi-row INSERT is its first row's key.
  insertIdOfMany: 'first',
  // Date text is ASCII: read it in latin1, which the server need not convert (see Dialect.datesAsText).
  datesAsText: 'latin1',
  rowAlias: 'new',

  quoteIdentifier: fragments.memo((name) => {
    if (name.includes('\0')) throw dbError('QueryError', `identifier contains a NUL character: ${JSON.stringify(name)}`)
    return `\`${name.replace(/`/g, '``')}\``
  }),
  toDriver: toMysql,

  binary: (op, l, r) =>
    op === '||'
      ? F(['CONCAT(', fragments.joinParts([...concatItems(l), ...concatItems(r)].map(self.expr), ', '), ')'])
      : base.binary(op, l, r),

  // No NULLS FIRST/LAST: sort on `expr IS NULL` first (1 for NULL), then on the expression.
  orderItem: (o) =>
    o.nulls === undefined
      ? base.orderItem(o)
      : F([fragments.wrapped(self, o.expr), o.nulls === 'first' ? ' IS NULL DESC, ' : ' IS NULL ASC, ', base.orderItem({ ...o, nulls: undefined })]),

  // A RANGE frame with an offset needs a single sort key, so its NULLS placement cannot be an
  // `IS NULL` key of its own: dropped where MySQL places NULLs so anyway (first ascending, last
  // descending), refused otherwise.
  windowSpec: (spec) => {
    const f = spec.frame
    if (f === undefined || f.units !== 'range' || !(typeof f.start === 'object' || typeof f.end === 'object') || !spec.orderBy.some((o) => o.nulls !== undefined)) return base.windowSpec(spec)
    const orderBy = spec.orderBy.map((o) => {
      if (o.nulls === undefined) return o
      const direction = o.direction ?? 'asc'
      if ((direction === 'asc') !== (o.nulls === 'first')) {
        throw unsupportedError(self.name, `NULLS ${o.nulls.toUpperCase()} after ${direction.toUpperCase()} in the ORDER BY of a RANGE frame with an offset`, `it sorts NULLs ${direction === 'asc' ? 'first' : 'last'} there, and the frame allows no second sort key to move them: use a ROWS frame, or order by coalesce(...) of a value beyond the others`)
      }
      return { ...o, nulls: undefined }
    })
    return base.windowSpec({ ...spec, orderBy })
  },

  fullJoin: unsupported(() => self.name, 'FULL JOIN'),
  // The NULL-safe equality operator.
  distinctFrom: (l, r, negated) => (negated
    ? F([fragments.wrapped(self, l), ' <=> ', fragments.wrapped(self, r)])
    : F(['NOT (', fragments.wrapped(self, l), ' <=> ', fragments.wrapped(self, r), ')'])),
  // GROUP_CONCAT(x ORDER BY ... SEPARATOR 'sep'): the separator is a literal there.
  stringAgg: (f) => {
    const [e, sep] = f.args
    const order = f.orderBy !== undefined && f.orderBy.length > 0 ? F([' ORDER BY ', fragments.joinParts(f.orderBy.map(self.orderItem), ', ')]) : F([])
    return F([f.distinct ? 'GROUP_CONCAT(DISTINCT ' : 'GROUP_CONCAT(', self.expr(e), order, ' SEPARATOR ', self.expr(sep), ')'])
  },
  withinGroup: unsupported(() => self.name, 'WITHIN GROUP (ordered-set aggregates)'),
  fetchWithTies: unsupported(() => self.name, 'FETCH ... WITH TIES', 'rank the rows with over(rank(), ...) in a derived table and keep rank <= n'),
  quantifiedArray: unsupported(() => self.name, 'ANY / ALL over an array', 'MySQL has no array type: use isIn with the list'),
  // IN / ANY / ALL over a subquery that keeps its first rows: read through a derived table,
  // which may carry a LIMIT where these subqueries may not.
  expr: (e) => (e.kind === 'in' && keepsFirstRows(e.list) ? base.expr({ ...e, list: limitedSubquery(self, e.list as SelectLike) }) : base.expr(e)),
  quantifiedSubquery: (quantifier, q) => base.quantifiedSubquery(quantifier, keepsFirstRows(q) ? limitedSubquery(self, q) : q),
  // A long IN list as literals: no placeholder to count, and no array type to bind it as.
  longInList: (lhs, values, negated) => {
    const list = literalList(self.toDriver, values)
    return list === undefined ? undefined : F([lhs, negated ? ' NOT IN (' : ' IN (', list, ')'])
  },
  // Only GROUP_CONCAT (and JSON_ARRAYAGG on MariaDB) take an ORDER BY inside.
  aggregateOrderBy: (f, items) => {
    const name = f.name.toLowerCase()
    if (name !== 'group_concat' && name !== 'json_arrayagg') throw unsupportedError(self.name, `ORDER BY inside ${f.name.toUpperCase()}`, 'only GROUP_CONCAT takes one')
    return F([' ORDER BY ', fragments.joinParts(items.map(self.orderItem), ', ')])
  },
  valuesTable: (v) => fragments.valuesAsUnion(self, v),
  cteStatement: unsupported(() => self.name, 'INSERT / UPDATE / DELETE in WITH'),
  compileMerge: unsupported(() => self.name, 'MERGE', 'use an upsert: onConflict(columns, ...) (ON DUPLICATE KEY UPDATE)'),
  distinctOn: unsupported(() => self.name, 'DISTINCT ON', 'number the rows with over(rowNumber(), { partitionBy }) in a derived table and keep the first'),
  // INSERT IGNORE also turns NOT NULL, range and length errors into warnings and writes changed
  // values: it is what the user asked for with orIgnore(), never what onConflict renders.
  insertIgnore: () => F(['INSERT IGNORE INTO ']),
  insertReplace: () => F(['REPLACE INTO ']),
  // Multi-table UPDATE: every table after UPDATE, SET columns qualified with the target's name.
  updateFrom: (q) => {
    if (q.orderBy !== undefined || q.limit !== undefined) throw unsupportedError(self.name, 'ORDER BY / LIMIT on an UPDATE of several tables')
    if (q.returning !== undefined && q.returning.length > 0) throw unsupportedError(self.name, 'RETURNING on an UPDATE of several tables')
    const target = q.table.alias ?? q.table.name
    const sets = q.set.map(([c, v]) => F([self.column(target, c), ' = ', self.expr(v)]))
    const parts: Part[] = []
    if (q.with !== undefined) parts.push(self.updateWith(q.with))
    parts.push('UPDATE ', fragments.joinParts([q.table, ...(q.from ?? [])].map(self.fromItem), ', '), ' SET ', fragments.joinParts(sets, ', '))
    if (q.where !== undefined) parts.push(' WHERE ', self.expr(q.where))
    return F(parts)
  },
  // Multi-table DELETE: the rows of the first table only.
  // DELETE FROM t AS x is no syntax on MariaDB (MySQL has it from 8.0.16): the form both take
  // is the multi-table one, DELETE x FROM t AS x, which has no ORDER BY, LIMIT or RETURNING.
  compileDelete: (q) => {
    if (q.table.alias === undefined || (q.using !== undefined && q.using.length > 0)) return base.compileDelete(q)
    if (q.orderBy !== undefined || q.limit !== undefined || (q.returning !== undefined && q.returning.length > 0))
      throw unsupportedError(self.name, 'ORDER BY, LIMIT or RETURNING on a DELETE with a table alias', `leave the alias out: deleteFrom('${q.table.name}')`)
    return self.deleteUsing(q)
  },

  deleteUsing: (q) => {
    if (q.orderBy !== undefined || q.limit !== undefined) throw unsupportedError(self.name, 'ORDER BY / LIMIT on a DELETE of several tables')
    if (q.returning !== undefined && q.returning.length > 0) throw unsupportedError(self.name, 'RETURNING on a DELETE of several tables')
    const parts: Part[] = []
    if (q.with !== undefined) parts.push(self.deleteWith(q.with))
    parts.push(`DELETE ${self.quoteIdentifier(q.table.alias ?? q.table.name)} FROM `, fragments.joinParts([q.table, ...(q.using ?? [])].map(self.fromItem), ', '))
    if (q.where !== undefined) parts.push(' WHERE ', self.expr(q.where))
    return F(parts)
  },
  rowArgument: unsupported(() => self.name, 'a qualified star as an argument (COUNT(t.*))', 'count a NOT NULL column of the table'),

  // AVG of an integer or DECIMAL keeps only div_precision_increment (4) more decimals here (the
  // average of 1, 1, 2 is 1.3333): the typed `avg` (read back as a number) multiplies its argument
  // by an exact 1 with 30 decimals first, so it reads as the double nearest the exact average, as
  // on PostgreSQL and SQLite (a DOUBLE argument stays one).
  func: (f) => fragments.exactAverage(self, f) ?? countDistinctRow(self, f) ?? base.func(f),

  // mysql2 parses JSON values, and a JSON string document would come back a bare string.
  jsonResult: (e) => F(['CAST(', self.expr(e), ' AS CHAR)']),

  // JSON_UNQUOTE of a JSON null is the text 'null', as of the string "null": a JSON null is SQL
  // NULL here, as `->>` gives on PostgreSQL and SQLite (so isNull(jsonText(...)) finds it).
  jsonExtractText: (e, path) => F(['JSON_UNQUOTE(NULLIF(', self.jsonExtract(e, path), ", CAST('null' AS JSON)))"]),

  // A boolean is bound as 1 or 0, which JSON_OBJECT keeps as numbers: a bound true or false is
  // the JSON document true or false instead (JSON_EXTRACT of it is JSON on both engines).
  // A condition read from a derived table (jsonArrayFrom's rows) is 1 or 0 there: it is made
  // the JSON document true or false too (NULL stays NULL).
  jsonBuildObject: (entries) =>
    base.jsonBuildObject(entries.map(([k, v]) => [k,
      v.kind === 'value' && typeof v.value === 'boolean' ? { kind: 'raw', fragment: F([`JSON_EXTRACT('${String(v.value)}', '$')`]) }
      : v.kind === 'column' && v.result === 'boolean' ? { kind: 'raw', fragment: F(['JSON_EXTRACT(CASE WHEN ', self.expr(v), " THEN 'true' WHEN NOT ", self.expr(v), " THEN 'false' END, '$')"]) }
      : v] as const)),

  // MariaDB has no CAST(... AS JSON): the document at '$' is the value as JSON, on both engines.
  // A boolean is a condition, 1 or 0 (NULL stays NULL), as PostgreSQL's cast gives true or false:
  // CAST(3 AS SIGNED) alone kept 3.
  cast: (e, type) => {
    const name = fragments.portableType(type).name
    if (name === 'json') return F(['JSON_EXTRACT(', self.expr(e), ", '$')"])
    if (name === 'boolean') return F(['(CAST(', self.expr(e), ' AS SIGNED) <> 0)'])
    return base.cast(e, type)
  },

  castType: (type) => {
    const t = fragments.portableType(type)
    switch (t.name) {
      case 'integer': case 'smallint': case 'bigint': case 'boolean': return 'SIGNED'
      case 'text': return 'CHAR'
      case 'varchar': case 'char': return t.args.length === 0 ? 'CHAR' : `CHAR(${t.args[0]})`
      // Without arguments DECIMAL is DECIMAL(10, 0): keep the fraction.
      case 'decimal': return t.args.length === 0 ? 'DECIMAL(65, 30)' : `DECIMAL(${t.args.join(', ')})`
      case 'real': case 'double': return 'DOUBLE'
      // DATETIME alone has no fraction: a cast to it cut every value to whole seconds.
      case 'timestamp': return t.args.length === 0 ? 'DATETIME(6)' : `DATETIME(${t.args[0]})`
      default: return t.sql
    }
  },

  // DATE_ADD keeps a DATE a DATE: start from a DATETIME so the result is one on every engine.
  dateAdd: (e, amount, unit) => F(['DATE_ADD(CAST(', self.expr(e), ' AS DATETIME(6)), INTERVAL ', fragments.wrapped(self, amount), ` ${unit.toUpperCase()})`]),
  dateTrunc: (unit: DateUnit, e) => {
    if (unit === 'day') return F(['CAST(DATE(', self.expr(e), ') AS DATETIME)'])
    if (unit === 'week') return F(['CAST(DATE_SUB(DATE(', self.expr(e), '), INTERVAL WEEKDAY(', self.expr(e), ') DAY) AS DATETIME)'])
    return F(['CAST(DATE_FORMAT(', self.expr(e), `, '${TRUNC_FORMATS[unit]}') AS DATETIME)`])
  },

  aggregateFilter: (f) => fragments.filterAsCase(self, f),
  rollup: (items) => F([fragments.joinParts(items.map(self.expr), ', '), ' WITH ROLLUP']),
  groupsFrame: unsupported(() => self.name, 'GROUPS frames'),
  frameExclusion: unsupported(() => self.name, 'frame exclusion'),
  cteMaterialized: unsupported(() => self.name, 'MATERIALIZED hints on CTEs'),

  // The WITH of INSERT ... SELECT belongs to the SELECT: INSERT INTO t (cols) WITH ... SELECT.
  compileInsert: (q) => {
    // INSERT INTO t AS x is no syntax here (MySQL's `VALUES (...) AS new` names the proposed row).
    if (q.table.alias !== undefined) throw unsupportedError(self.name, 'an alias on the table of an INSERT', `leave the alias out, and name the table itself in expressions: col('${q.table.name}.column')`)
    if (q.with === undefined && canSkipConflicts(q)) return (self as MysqlDialect).insertSkippingConflicts(q)
    if (q.with === undefined) return base.compileInsert(q)
    if (q.query === undefined) throw unsupportedError(self.name, 'WITH on INSERT ... VALUES', 'insert from a query (fromSelect) instead')
    const inner = q.query.with
    const merged = inner === undefined ? q.with : { recursive: q.with.recursive || inner.recursive, ctes: [...q.with.ctes, ...inner.ctes] }
    // Through `self`: a do-nothing upsert of it is then written as the one without WITH is
    // (`insertSkippingConflicts`, its query a derived table that keeps the WITH).
    return self.compileInsert({ ...q, with: undefined, query: { ...q.query, with: merged } })
  },

  lock: (l) => {
    if (l.strength === 'no key update' || l.strength === 'key share') throw unsupportedError(self.name, `FOR ${l.strength.toUpperCase()}`, 'use FOR UPDATE or FOR SHARE')
    return base.lock(l)
  },

  limitOffset: (limit, offset) =>
    limit === undefined && offset !== undefined
      ? F([` LIMIT ${NO_LIMIT} OFFSET `, fragments.amount(self, offset)])
      : base.limitOffset(limit, offset),

  returning: unsupported(() => self.name, 'RETURNING'),
  insertReturning: unsupported(() => self.name, 'RETURNING'),
  updateReturning: unsupported(() => self.name, 'RETURNING'),
  deleteReturning: unsupported(() => self.name, 'RETURNING'),

  insertValues: (node) => {
    // MySQL 8 names the proposed row with a row alias only after VALUES: the rows of a query are
    // named as a derived table of that name, whose columns are named as the inserted ones.
    if (node.query !== undefined && self.rowAlias !== undefined && node.onConflict !== undefined && node.onConflict.update !== null) {
      const query = namedAfter(node.query, node.columns, true)
      return base.insertValues({ ...node, query: selectAll(query, self.rowAlias) })
    }
    // A query fills the table's columns in order: INSERT INTO t SELECT ...
    if (node.columns.length > 0 || node.query !== undefined) return base.insertValues(node)
    if (node.rows.length === 0) throw fragments.noRows()
    return F([' () VALUES ', Array(node.rows.length).fill('()').join(', ')])
  },

  // VALUES rows of more values than one statement binds (65,535 placeholders, errno 1390
  // beyond) are inserted as statements of as many rows as fit (`underLimit`), which `execute`
  // runs as one unit. A do-nothing upsert whose rows leave some columns to their defaults is
  // inserted in groups of rows that set the same columns, each without the columns it leaves out
  // (MySQL fills them with their defaults), so every group can skip its conflicts with NOT
  // EXISTS; a group too big for one statement is cut the same way.
  insertStatements: (node) => {
    if (!doNothingOnTarget(node) || node.query !== undefined || valueColumnsOf(node) !== undefined || !node.rows.some((r) => r.includes(DEFAULT))) return underLimit(self, node)
    const shape = (r: readonly Expr[]): string => r.map((c) => (c === DEFAULT ? '0' : '1')).join('')
    const groups: (readonly Expr[])[][] = []
    let last: string | undefined
    for (const r of node.rows) {
      const sh = shape(r)
      if (sh === last) groups[groups.length - 1].push(r)
      else groups.push([r])
      last = sh
    }
    return groups.flatMap((rows) => {
      const keep = rows[0].map((c) => c !== DEFAULT)
      return underLimit(self, { ...node, columns: node.columns.filter((_, i) => keep[i]), rows: rows.map((r) => r.filter((_, i) => keep[i])) })
    })
  },

  insertSkippingConflicts: (q) => {
    if (q.query !== undefined) {
      // INSERT ... SELECT: the query is a derived table, matched on its own output names.
      const query = distinctNames(q.query, q.columns)
      const names = q.columns.map((_, i) => outputName(query, i))
      const missing = q.onConflict!.target.find((c) => { const i = q.columns.indexOf(c); return i < 0 || names[i] === undefined })
      if (missing !== undefined) throw unsupportedError(self.name, 'a do-nothing upsert from a query whose conflict column is not named', `select "${missing}" under a name (as(expr, 'name')) in the query`)
      const tableName = self.fromItem({ ...q.table, alias: undefined })
      const fresh = (c: string) => self.column('rk_new', names[q.columns.indexOf(c)]!)
      const match = q.onConflict!.target.map((c) => `${self.column('rk_old', c)} = ${fresh(c)}`).join(' AND ')
      const guard = self.column(q.table.schema === undefined ? q.table.name : `${q.table.schema}.${q.table.name}`, q.onConflict!.target[0])
      return F([
        'INSERT INTO ', tableName, ` (${q.columns.map(self.quoteIdentifier).join(', ')}) SELECT ${q.columns.map(fresh).join(', ')} FROM `,
        self.fromItem({ kind: 'derived', query, alias: 'rk_new' }),
        ` WHERE NOT EXISTS (SELECT 1 FROM `, tableName, ` AS ${self.quoteIdentifier('rk_old')} WHERE ${match}) ON DUPLICATE KEY UPDATE ${guard} = ${guard}`,
        q.returning !== undefined && q.returning.length > 0 ? self.insertReturning(q.returning) : F([]),
      ])
    }
    const tableName = self.fromItem({ ...q.table, alias: undefined })
    const rows = q.rows.map((r, i) =>
      F(['SELECT ', fragments.joinParts(r.map((cell, j) => (i === 0 ? F([self.expr(cell), ` AS ${self.quoteIdentifier(q.columns[j])}`]) : self.expr(cell))), ', ')]))
    const fresh = (c: string) => self.column('rk_new', c)
    const match = q.onConflict!.target.map((c) => `${self.column('rk_old', c)} = ${fresh(c)}`).join(' AND ')
    const guard = self.column(q.table.schema === undefined ? q.table.name : `${q.table.schema}.${q.table.name}`, q.onConflict!.target[0])
    return F([
      'INSERT INTO ', tableName, ` (${q.columns.map(self.quoteIdentifier).join(', ')}) SELECT ${q.columns.map(fresh).join(', ')} FROM (`,
      fragments.joinParts(rows, ' UNION ALL '), `) AS ${self.quoteIdentifier('rk_new')} WHERE NOT EXISTS (SELECT 1 FROM `, tableName,
      ` AS ${self.quoteIdentifier('rk_old')} WHERE ${match}) ON DUPLICATE KEY UPDATE ${guard} = ${guard}`,
      q.returning !== undefined && q.returning.length > 0 ? self.insertReturning(q.returning) : F([]),
    ])
  },

  excluded: (column) =>
    self.rowAlias === undefined
      ? F([`VALUES(${self.quoteIdentifier(column)})`])
      : F([self.column(self.rowAlias, column)]),

  upsert: (node) => {
    const oc = node.onConflict!
    if (oc.constraint !== undefined || oc.targetWhere !== undefined) {
      throw unsupportedError(self.name, oc.constraint !== undefined ? 'ON CONFLICT ON CONSTRAINT' : 'a conflict target with WHERE', 'ON DUPLICATE KEY UPDATE fires on any unique key')
    }
    if (oc.where !== undefined) {
      throw unsupportedError(self.name, 'upsert with a WHERE condition', 'ON DUPLICATE KEY UPDATE has no WHERE; use IF() in the assignments')
    }
    if (oc.update === null) {
      // Do-nothing upserts are inserts of the rows not there yet (`insertSkippingConflicts`),
      // so rows affected counts inserts. What reaches here cannot be written that way; ON
      // DUPLICATE KEY UPDATE c = c would count every existing row as affected, and INSERT
      // IGNORE would also turn NOT NULL, foreign key and data errors into warnings.
      if (oc.target.length === 0) {
        throw unsupportedError(self.name, 'a do-nothing upsert without conflict columns', 'name the unique columns: onConflict([\'email\'], \'nothing\'), so rows affected counts only the rows inserted')
      }
      const left = oc.target.find((c) => !node.columns.includes(c))
      throw unsupportedError(self.name, 'a do-nothing upsert whose conflict column is not inserted', `give "${left ?? oc.target[0]}" a value in every row`)
    }
    if (oc.update.length === 0) throw dbError('QueryError', `${self.name}: an upsert that updates needs at least one assignment`)
    // From a query, a bare column could be the query's as well as the table's: MySQL refuses it
    // as ambiguous, so it is named through the table.
    const table = node.table.name
    const own = (v: Expr): Expr => (node.query === undefined ? v : mapColumns(v, (c) => (c.table === undefined ? { ...c, table } : c)))
    const sets = oc.update.map(([c, v]) => F([self.quoteIdentifier(c), ' = ', self.expr(own(v))]))
    const parts: Part[] = []
    if (self.rowAlias !== undefined && node.query === undefined) parts.push(` AS ${self.quoteIdentifier(self.rowAlias)}`)
    parts.push(' ON DUPLICATE KEY UPDATE ', fragments.joinParts(sets, ', '))
    return F(parts)
  },

  beginTransaction: (o) => {
    if (o.deferrable) throw unsupportedError(self.name, 'DEFERRABLE transactions')
    if (o.behavior !== undefined && o.behavior !== 'deferred') throw unsupportedError(self.name, `BEGIN ${o.behavior.toUpperCase()}`, 'lock rows with SELECT ... FOR UPDATE instead')
    // SET TRANSACTION without SESSION applies to the next transaction only.
    const out: string[] = []
    if (o.isolation !== undefined) out.push(`SET TRANSACTION ISOLATION LEVEL ${o.isolation.toUpperCase()}`)
    out.push(o.readOnly === undefined ? 'START TRANSACTION' : o.readOnly ? 'START TRANSACTION READ ONLY' : 'START TRANSACTION READ WRITE')
    return out
  },

  // MariaDB or MySQL by the version (a MariaDB record given a bare 10.x stays MariaDB), as one
  // MariaDB layer and one layer of version gates: specialising again replaces both.
  forVersion: (given) => {
    const version = cleanVersion(given)
    const maria = isMariaDbVersion(version) || (hasLayer(self, MARIADB) && versionAtLeast(version, '10'))
    const flavour = extendLayer(self, MARIADB, maria ? mariadbChanges : undefined, layerDepth(mysql))
    return extendLayer(flavour, VERSION_GATES, maria ? mariadbGates(version) : mysqlGates(version))
  },
}))

/** What MySQL versions lack, as the fields that refuse it. */
const mysqlGates = (version: string) => (_: MysqlDialect, b: MysqlDialect): Partial<MysqlDialect> => {
  const name = `mysql ${version}`
  return builtIn({
    version,
    ...(versionAtLeast(version, '8.0.19') ? {} : { rowAlias: undefined }),
    ...(versionAtLeast(version, '8.0.14') ? {} : { lateral: unsupported(name, 'LATERAL subqueries', 'needs MySQL 8.0.14') }),
    ...(versionAtLeast(version, '8.0.31') ? {} : {
      intersect: unsupported(name, 'INTERSECT', 'needs MySQL 8.0.31'), intersectAll: unsupported(name, 'INTERSECT ALL', 'needs MySQL 8.0.31'),
      except: unsupported(name, 'EXCEPT', 'needs MySQL 8.0.31'), exceptAll: unsupported(name, 'EXCEPT ALL', 'needs MySQL 8.0.31'),
    }),
    ...(versionAtLeast(version, '8.0.18') ? {} : { explainAnalyze: unsupported(name, 'EXPLAIN ANALYZE', 'needs MySQL 8.0.18') }),
    ...(versionAtLeast(version, '8.0') ? {} : {
      windowFunction: unsupported(name, 'window functions', 'needs MySQL 8.0'),
      windowClause: unsupported(name, 'named windows', 'needs MySQL 8.0'),
      withClause: unsupported(name, 'WITH (common table expressions)', 'needs MySQL 8.0'),
      lockOf: unsupported(name, 'FOR UPDATE OF', 'needs MySQL 8.0'),
      lockNowait: unsupported(name, 'NOWAIT', 'needs MySQL 8.0'),
      lockSkipLocked: unsupported(name, 'SKIP LOCKED', 'needs MySQL 8.0'),
      lock: (l: Parameters<Dialect['lock']>[0]) => (l.strength === 'share' ? F([' LOCK IN SHARE MODE']) : b.lock(l)),
    }),
  })
}

/** What MariaDB changes in the MySQL dialect: applied by `mariadb`, and by `mysql.forVersion` on a MariaDB server. */
const mariadbChanges = (self: MysqlDialect, base: MysqlDialect): Partial<MysqlDialect> => {
  // The standard RETURNING renderer, bound to this record (so quoting stays MariaDB's).
  const std = standardOpen(self)
  const mysqlLock = base.lock
  const mysqlFunc = base.func
  const mysqlSelect = base.compileSelect
  return builtIn({
    ...mariadbDdl(self, base),
    name: 'mariadb',
    // MariaDB has no CAST AS JSON, and compares JSON_EXTRACT's result to text unquoted (the string
    // "null" equals 'null'): CONCAT makes it the JSON text, where a JSON null is null and the
    // string "null" keeps its quotes.
    // NULLIF gives NULL whatever the value when the path counts from the end of an array
    // (`[last]`, MariaDB 10.11): such a path is tested with CASE instead.
    jsonExtractText: (e, path) =>
      path.some((k) => typeof k === 'number' && k < 0)
        ? F(['CASE WHEN CONCAT(', self.jsonExtract(e, path), ") = 'null' THEN NULL ELSE JSON_UNQUOTE(", self.jsonExtract(e, path), ') END'])
        : F(['JSON_UNQUOTE(NULLIF(CONCAT(', self.jsonExtract(e, path), "), 'null'))"]),
    version: '10.11.0',
    // MariaDB has no row alias in ON DUPLICATE KEY UPDATE; VALUES(col) names the proposed row.
    rowAlias: undefined,
    returning: std.returning,
    insertReturning: std.insertReturning,
    deleteReturning: std.deleteReturning,
    updateReturning: unsupported('mariadb', 'UPDATE ... RETURNING'),
    lateral: unsupported('mariadb', 'LATERAL subqueries'),
    fullJoin: unsupported('mariadb', 'FULL JOIN'),
    groupsFrame: unsupported('mariadb', 'GROUPS frames'),
    frameExclusion: unsupported('mariadb', 'frame exclusion'),
    cteMaterialized: unsupported('mariadb', 'MATERIALIZED hints on CTEs'),
    updateWith: unsupported('mariadb', 'WITH on UPDATE', 'use a subquery or a derived table'),
    deleteWith: unsupported('mariadb', 'WITH on DELETE', 'use a subquery or a derived table'),
    lockOf: unsupported('mariadb', 'FOR UPDATE OF'),
    // OFFSET n ROWS FETCH FIRST n ROWS WITH TIES from 10.6.
    fetchWithTies: std.fetchWithTies,
    // No outer reference inside a derived table: the rows are aggregated where they are read,
    // their ORDER BY and LIMIT inside JSON_ARRAYAGG (10.5+).
    jsonArrayFrom: (q) => {
      if (q.kind === 'compound' || q.groupBy.length > 0 || q.distinct || q.offset !== undefined || q.having !== undefined) return base.jsonArrayFrom(q)
      const names = fragments.outputNames(q)
      const object = self.jsonBuildObject(q.columns.map((c, i) => [names[i], c.expr] as const))
      const order = q.orderBy.length > 0 ? F([' ORDER BY ', fragments.joinParts(q.orderBy.map(self.orderItem), ', ')]) : F([])
      // MariaDB takes no parameter for the LIMIT inside JSON_ARRAYAGG ("Limit only accepts integer
      // values"): a number is written into the text, checked to be a whole count.
      const lim = q.limit === undefined ? F([]) : F([' LIMIT ', typeof q.limit === 'number' ? rowCount(q.limit) : fragments.amount(self, q.limit)])
      const agg = F(["COALESCE(JSON_ARRAYAGG(", object, order, lim, "), '[]')"])
      return F(['(', self.compileSelect({ ...q, columns: [{ expr: { kind: 'raw', fragment: agg } }], orderBy: [], limit: undefined }), ')'])
    },
    explainAnalyze: (stmt) => F(['ANALYZE ', stmt]),
    // MariaDB has no FOR SHARE: LOCK IN SHARE MODE, with NOWAIT / SKIP LOCKED after it.
    lock: (l) => {
      if (l.strength !== 'share') return mysqlLock(l)
      const parts: Part[] = [' LOCK IN SHARE MODE']
      if (l.of !== undefined && l.of.length > 0) parts.push(self.lockOf(l.of))
      if (l.wait === 'nowait') parts.push(self.lockNowait())
      else if (l.wait === 'skip locked') parts.push(self.lockSkipLocked())
      return F(parts)
    },
    // No default argument for LAG / LEAD.
    func: (f) => {
      const name = f.name.toLowerCase()
      if ((name === 'lag' || name === 'lead') && f.args.length > 2) throw unsupportedError('mariadb', `${name.toUpperCase()} with a default value`, 'wrap it in COALESCE if the column has no NULLs')
      return mysqlFunc(f)
    },
    // ORDER BY cannot follow WITH ROLLUP: order the rolled-up rows from outside.
    compileSelect: (q) => {
      if (q.rollup !== true || q.orderBy.length === 0) return mysqlSelect(q)
      const inner: SelectNode = { ...q, orderBy: [], limit: undefined, offset: undefined, lock: undefined, with: undefined }
      const parts: Part[] = []
      if (q.with !== undefined) parts.push(self.withClause(q.with))
      parts.push(fragments.selectAllFrom(self, inner, 'rk_rollup'), ' ORDER BY ', fragments.joinParts(q.orderBy.map(self.orderItem), ', '))
      if (q.limit !== undefined || q.offset !== undefined) parts.push(self.limitOffset(q.limit, q.offset))
      return F(parts)
    },
  })
}

/**
 * `COUNT(DISTINCT a, b)`: MySQL and MariaDB count distinct combinations with the columns listed,
 * and refuse a row value there ("Operand should contain 1 column(s)"). A row with a NULL in any
 * of them is not counted (PostgreSQL's `COUNT(DISTINCT (a, b))` counts it).
 */
const countDistinctRow = (self: Dialect, f: FuncNode): Fragment | undefined => {
  const row = f.args[0]
  if (f.name.toLowerCase() !== 'count' || f.distinct !== true || f.args.length !== 1 || row.kind !== 'tuple' || f.filter !== undefined) return undefined
  return F(['COUNT(DISTINCT ', fragments.joinParts(row.items.map(self.expr), ', '), ')'])
}

/** What MariaDB versions lack, as the fields that refuse it. */
const mariadbGates = (version: string) => (): Partial<MysqlDialect> => {
  const name = `mariadb ${version}`
  return builtIn({
    version,
    ...(versionAtLeast(version, '10.5') ? {} : { insertReturning: unsupported(name, 'INSERT ... RETURNING', 'needs MariaDB 10.5') }),
    ...(versionAtLeast(version, '10.0.5') ? {} : { returning: unsupported(name, 'RETURNING', 'needs MariaDB 10.0.5'), deleteReturning: unsupported(name, 'DELETE ... RETURNING', 'needs MariaDB 10.0.5') }),
    ...(versionAtLeast(version, '10.3') ? {} : {
      intersect: unsupported(name, 'INTERSECT', 'needs MariaDB 10.3'), except: unsupported(name, 'EXCEPT', 'needs MariaDB 10.3'),
      lockNowait: unsupported(name, 'NOWAIT', 'needs MariaDB 10.3'),
    }),
    ...(versionAtLeast(version, '10.5') ? {} : {
      intersectAll: unsupported(name, 'INTERSECT ALL', 'needs MariaDB 10.5'), exceptAll: unsupported(name, 'EXCEPT ALL', 'needs MariaDB 10.5'),
    }),
    ...(versionAtLeast(version, '10.6') ? {} : {
      lockSkipLocked: unsupported(name, 'SKIP LOCKED', 'needs MariaDB 10.6'), fetchWithTies: unsupported(name, 'FETCH ... WITH TIES', 'needs MariaDB 10.6'),
    }),
    ...(versionAtLeast(version, '10.2') ? {} : {
      windowFunction: unsupported(name, 'window functions', 'needs MariaDB 10.2'),
      withClause: unsupported(name, 'WITH (common table expressions)', 'needs MariaDB 10.2'),
    }),
  })
}

/** The tag of the MariaDB layer over the MySQL dialect. */
const MARIADB = Symbol('recordkit.mariadb')

/**
 * The MariaDB dialect: MySQL's, with RETURNING on INSERT (10.5+) and DELETE, and
 * `VALUES(col)` for the proposed row of an upsert. `mysql.forVersion` picks it by itself on
 * a MariaDB server, so `connect(mysql2(...), mysql)` works against either.
 *
 * @example
 * const db = await run(connect(mysql2({ url: 'mysql://root@localhost/app' }), mariadb))
 */
export const mariadb: MysqlDialect = extendLayer(mysql, MARIADB, mariadbChanges)
