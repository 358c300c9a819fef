/**
 * The standard dialect: the SQL every engine shares. Engines are made from it with `extend`,
 * overriding only what differs, exactly as a user would.
 *
 * Every function reaches its siblings through `self`, so an override of, say, `limitOffset`
 * or `quoteIdentifier` shows up in every statement that uses it.
 */
import { left, right } from '../fp.js'
import type {
  ColumnRef, CompoundNode, DateUnit, DeleteNode, DerivedTable, Expr, FrameBound, FrameSpec, FuncNode, InsertNode, JoinNode, OrderItem, QueryNode, RawNode, ResultType, SelectLike, SelectNode,
  Selection, UpdateNode, ValuesTable,
} from '../ast.js'
import { type Compilable, type Dialect, supports, type TransactionOptions, unsupported } from '../dialect.js'
import { readsDerived, resultTypeOf, selectionTypes } from '../results.js'
import { dbError, toDbError } from '../errors.js'
import { fix } from '../record.js'
import { fromParts as F, joinFragments, isFragment, isJsonValue, render, type Fragment, type Part } from '../sql.js'
import { isDdlNode } from '../schema/ddl.js'
import { standardDdl } from './ddl/standard.js'
import { builtIn, isBuiltIn, shapeCache } from './shape-cache.js'
import { nullComparison } from './null-comparison.js'
import { uniqueOutputNames } from './output-names.js'
import { memoString } from '../memo.js'
import { valueColumnsOf } from '../value-columns.js'
import { underLimit } from './split-insert.js'

const SAFE_FUNC = /^[A-Za-z_][A-Za-z0-9_.]*$/
/** The standard's functions written without parentheses when they take no argument (`fn('current_date')`). */
const NILADIC: ReadonlySet<string> = new Set(['current_date', 'current_time', 'current_timestamp'])

const joinParts = joinFragments

/** Whether every item of a list is a bound value (`kind: 'value'`). */
const allBound = (list: readonly Expr[]): boolean => {
  for (let i = 0; i < list.length; i++) if (list[i].kind !== 'value') return false
  return true
}

const EMPTY = F([])

/**
 * IN lists of more bound values than this are written by the dialect's `longInList` (the engine's
 * form of "any number of values"), where it has one: engines cap the parameters of a statement
 * (SQLite 32,766, PostgreSQL, MySQL and MariaDB 65,535). Shorter lists bind one parameter each.
 */
export const LONG_IN_LIST = 1000

/**
 * A long IN list through the dialect's `longInList`, or undefined to bind it as it is: an item is
 * not a bound value (a column, an expression), or is undefined (reported as in a short list).
 */
const longInList = (self: Dialect, lhs: Fragment, list: readonly Expr[], negated: boolean): Fragment | undefined => {
  const values: unknown[] = new Array(list.length)
  for (let i = 0; i < list.length; i++) {
    const x = list[i]
    if (x.kind !== 'value' || x.value === undefined) return undefined
    values[i] = x.value
  }
  return self.longInList!(lhs, values, negated)
}

/**
 * The expression with each column reference replaced by what `f` gives for it, through the
 * operators, calls, CASE and casts of the expression itself. Subqueries are left as they are:
 * their columns belong to their own tables.
 *
 * @example mapColumns(add('visits', val(1)), (c) => c.table === undefined ? { ...c, table: 'users' } : c) // "users"."visits" + ?
 */
export const mapColumns = (e: Expr, f: (c: ColumnRef) => Expr): Expr => {
  const m = (x: Expr): Expr => mapColumns(x, f)
  switch (e.kind) {
    case 'column': return f(e)
    case 'binary': return { ...e, left: m(e.left), right: m(e.right) }
    case 'and': case 'or': return { ...e, items: e.items.map(m) }
    case 'not': return { ...e, expr: m(e.expr) }
    case 'in': return { ...e, expr: m(e.expr), list: Array.isArray(e.list) ? (e.list as readonly Expr[]).map(m) : e.list }
    case 'between': return { ...e, expr: m(e.expr), low: m(e.low), high: m(e.high) }
    case 'isNull': return { ...e, expr: m(e.expr) }
    case 'distinctFrom': return { ...e, left: m(e.left), right: m(e.right) }
    case 'collate': return { ...e, expr: m(e.expr) }
    case 'tuple': return { ...e, items: e.items.map(m) }
    case 'func': return { ...e, args: e.args.map(m), ...(e.filter === undefined ? {} : { filter: m(e.filter) }) }
    case 'case': return {
      ...e,
      ...(e.subject === undefined ? {} : { subject: m(e.subject) }),
      whens: e.whens.map((w) => ({ when: m(w.when), then: m(w.then) })),
      ...(e.else === undefined ? {} : { else: m(e.else) }),
    }
    case 'cast': return { ...e, expr: m(e.expr) }
    case 'dateAdd': return { ...e, expr: m(e.expr), amount: m(e.amount) }
    case 'dateTrunc': case 'extract': return { ...e, expr: m(e.expr) }
    case 'jsonExtract': return { ...e, expr: m(e.expr) }
    case 'jsonContains': return { ...e, expr: m(e.expr), value: m(e.value) }
    case 'jsonBuildObject': return { ...e, entries: e.entries.map(([k, v]) => [k, m(v)] as const) }
    default: return e
  }
}

/**
 * An upsert's update with each bare column named through the target table (or its alias): in
 * `DO UPDATE SET visits = visits + 1` PostgreSQL cannot tell the stored row's `visits` from the
 * proposed row's (EXCLUDED), and refuses the statement as ambiguous.
 */
const upsertQualified = (node: InsertNode, e: Expr): Expr => {
  const table = node.table.alias ?? node.table.name
  return mapColumns(e, (c) => (c.table === undefined ? { ...c, table } : c))
}

/** A value shown in an error: its JSON where it has one, else its type. */
const describeValue = (v: unknown): string => {
  if (v === undefined) return 'undefined'
  if (typeof v === 'bigint') return `${v}n`
  if (typeof v === 'function') return 'a function'
  try {
    return JSON.stringify(v) ?? typeof v
  } catch {
    return typeof v
  }
}

/** Where a nested expression needs parentheses to keep its meaning. */
const needsParens = (e: Expr): boolean =>
  e.kind === 'binary' || e.kind === 'and' || e.kind === 'or' || e.kind === 'not' || e.kind === 'in' ||
  e.kind === 'between' || e.kind === 'isNull' || e.kind === 'distinctFrom' || (e.kind === 'raw' && rawIsComposite(e.fragment))

/**
 * Whether a raw fragment is more than one operand: white space or an operator outside any
 * parentheses (`"age" + ?`, `SELECT MAX(age) FROM t`, `x IS NULL`), with each hole counted as
 * one operand. As an operand of an operator it is parenthesised, as the builders' own nodes are:
 * `mul(sql\`a + ${1}\`, 2)` was written `a + ? * ?`, and a raw SELECT compared with a column was
 * no subquery. A name, a value, a call (`count(*)`) or a parenthesised whole is left as it is.
 */
const rawIsComposite = (f: Fragment): boolean => {
  let depth = 0
  let quote = ''
  let text = ''
  for (const p of f.parts) {
    if (typeof p === 'string') text += p
    else if (isFragment(p)) text += rawIsComposite(p) ? '(x) + x' : 'x'
    else if (p._tag === 'Embedded' && (p.node as Expr).kind !== undefined && needsParens(p.node as Expr)) text += '(x) + x'
    else text += 'x'
  }
  text = text.trim()
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (quote !== '') {
      if (c === quote) quote = ''
    } else if (c === "'" || c === '"' || c === '`') quote = c
    else if (c === '(') depth++
    else if (c === ')') depth--
    else if (depth === 0 && /[\s+\-*/%<>=!|&^~,]/.test(c)) return true
  }
  return false
}

const memo = memoString

const quoteStandard = (name: string): string => {
  if (name.indexOf('"') < 0 && name.indexOf('\0') < 0) return `"${name}"`
  if (name.includes('\0')) throw dbError('QueryError', `identifier contains a NUL character: ${JSON.stringify(name)}`)
  return `"${name.replace(/"/g, '""')}"`
}

const isolationSql = (o: TransactionOptions): string[] => {
  const modes: string[] = []
  if (o.isolation) modes.push(`ISOLATION LEVEL ${o.isolation.toUpperCase()}`)
  if (o.readOnly !== undefined) modes.push(o.readOnly ? 'READ ONLY' : 'READ WRITE')
  return modes
}

/**
 * The standard dialect as an open record (what `extend` builds on).
 * @example const mine = fix((self) => ({ ...standardOpen(self), name: 'mine' }))
 */
export const standardOpen = (self: Dialect): Dialect => {
  // Column references and table names render the same every time: remember their fragments
  // (through `self`, so overrides of `column`, `quoteIdentifier` or `fromItem` are what is remembered).
  const columnOf = memo((name) => F([self.column(undefined, name)]))
  const qualifiedColumnOf = memo((key) => {
    const dot = key.indexOf('\0')
    return F([self.column(key.slice(0, dot), key.slice(dot + 1))])
  })
  const tableOf = memo((name) => F([self.quoteIdentifier(name)]))
  /** A function argument: `t.*` goes through `rowArgument`. */
  const argument = (e: Expr): Fragment => (e.kind === 'star' && e.table !== undefined ? self.rowArgument(e.table) : self.expr(e))
  const cached = shapeCache(self)
  /** Whether `self.expr` is this record's own (not an override), known at the first IN list. */
  let builtInExpr: boolean | undefined
  return {
    ...standardDdl(self),
    name: 'standard',
    version: '0',
    maxParams: 32766,

    quoteIdentifier: memo(quoteStandard),
    placeholder: () => '?',
    toDriver: (value) => (value === undefined ? null : value),

    column: (table, name) =>
      table === undefined
        ? self.quoteIdentifier(name)
        : table.indexOf('.') < 0
          ? `${self.quoteIdentifier(table)}.${self.quoteIdentifier(name)}`
          : `${table.split('.').map(self.quoteIdentifier).join('.')}.${self.quoteIdentifier(name)}`,

    param: (p) => F([{ _tag: 'Placeholder', name: p.name }]),

    expr: (e) => {
      switch (e.kind) {
        case 'column': return e.table === undefined ? columnOf(e.name) : qualifiedColumnOf(`${e.table}\0${e.name}`)
        case 'value': return F([{ _tag: 'Param', value: e.value }])
        case 'param': return self.param(e)
        case 'raw': return e.fragment
        case 'literal': return F([self.literal(e.value)])
        case 'star': return F([e.table === undefined ? '*' : `${self.quoteIdentifier(e.table)}.*`])
        case 'binary': {
          // `= NULL` / `<> NULL` match no row: a literal NULL is tested with IS [NOT] NULL.
          const isNull = nullComparison(e)
          return isNull === undefined ? self.binary(e.op, e.left, e.right) : self.expr(isNull)
        }
        case 'and':
        case 'or': {
          if (e.items.length === 0) return F([e.kind === 'and' ? '1 = 1' : '1 = 0'])
          if (e.items.length === 1) return self.expr(e.items[0])
          const sep = e.kind === 'and' ? ' AND ' : ' OR '
          return joinParts(e.items.map((i) => (i.kind === 'and' || i.kind === 'or' ? F(['(', self.expr(i), ')']) : self.expr(i))), sep)
        }
        case 'not': return F(['NOT (', self.expr(e.expr), ')'])
        case 'in': {
          const lhs = wrapped(self, e.expr)
          if (Array.isArray(e.list)) {
            const list = e.list as readonly Expr[]
            if (list.length === 0) return F([e.negated ? '1 = 1' : '1 = 0'])
            if (list.length > LONG_IN_LIST && self.longInList !== undefined) {
              const long = longInList(self, lhs, list, e.negated)
              if (long !== undefined) return long
            }
            // A list of bound values (a relation's keys) as one part: the list is one row of
            // `ValueRows`, `(?, ?, ...)`, rendered as the built-in `expr` renders each value, with
            // no part per value (its placeholders are one piece of text where they are all `?`).
            builtInExpr ??= isBuiltIn(self.expr)
            if (builtInExpr && allBound(list)) return F([lhs, e.negated ? ' NOT IN ' : ' IN ', { _tag: 'ValueRows', rows: [list] }])
            return F([lhs, e.negated ? ' NOT IN (' : ' IN (', joinParts(list.map(self.expr), ', '), ')'])
          }
          return F([lhs, e.negated ? ' NOT IN (' : ' IN (', selectLike(self, e.list as SelectLike), ')'])
        }
        case 'between':
          return F([wrapped(self, e.expr), e.negated ? ' NOT BETWEEN ' : ' BETWEEN ', wrapped(self, e.low), ' AND ', wrapped(self, e.high)])
        case 'isNull': return F([wrapped(self, e.expr), e.negated ? ' IS NOT NULL' : ' IS NULL'])
        case 'distinctFrom': return self.distinctFrom(e.left, e.right, e.negated)
        case 'collate': return self.collate(e.expr, e.collation)
        case 'tuple': return self.tuple(e.items)
        case 'quantified': {
          const src = e.source as SelectLike | Expr
          if (e.quantifier !== 'any' && e.quantifier !== 'all') throw dbError('QueryError', `not a quantifier: ${JSON.stringify(e.quantifier)}`)
          return src.kind === 'select' || src.kind === 'compound' ? self.quantifiedSubquery(e.quantifier, src) : self.quantifiedArray(e.quantifier, src)
        }
        case 'func': return self.func(e)
        case 'excluded': return self.excluded(e.column)
        case 'subquery': return F([e.exists ? 'EXISTS (' : '(', selectLike(self, e.query), ')'])
        case 'case': return self.caseWhen(e)
        case 'cast': return self.cast(e.expr, e.type)
        case 'dateAdd': return self.dateAdd(e.expr, e.amount, checkedUnit(e.unit))
        case 'dateTrunc': return self.dateTrunc(checkedUnit(e.unit), e.expr)
        case 'extract': return self.extract(checkedPart(e.part), e.expr)
        case 'jsonExtract': return e.asText ? self.jsonExtractText(e.expr, e.path) : self.jsonExtract(e.expr, e.path)
        case 'jsonContains': return self.jsonContains(e.expr, e.value)
        case 'jsonBuildObject': return self.jsonBuildObject(e.entries)
        case 'jsonFrom': return e.shape === 'array' ? self.jsonArrayFrom(e.query) : self.jsonObjectFrom(e.query)
        case 'window': return self.windowFunction(e)
        case 'extension': return self.extension(e)
        default: {
          const kind = (e as { kind?: unknown } | null)?.kind
          // A plain value where an expression belongs (`fn('round', 'x', 2)` from JavaScript): say so, not "kind undefined".
          if (typeof e !== 'object' || e === null || kind === undefined) {
            throw dbError('QueryError', `not an expression: ${describeValue(e)} (a column is a string or col('name'), a value is val(x), SQL is sql\`...\`)`)
          }
          throw dbError('UnsupportedFeature', `${self.name} cannot compile expression kind ${String(kind)}`, { dialect: self.name, feature: String(kind) })
        }
      }
    },

    binary: (op, l, r) => {
      switch (op) {
        case 'like': return F([wrapped(self, l), ' LIKE ', wrapped(self, r)])
        case 'not like': return F([wrapped(self, l), ' NOT LIKE ', wrapped(self, r)])
        case 'ilike': return F(['LOWER(', self.expr(l), ') LIKE LOWER(', self.expr(r), ')'])
        case 'not ilike': return F(['LOWER(', self.expr(l), ') NOT LIKE LOWER(', self.expr(r), ')'])
        default: return F([wrapped(self, l), ` ${op} `, wrapped(self, r)])
      }
    },

    func: (f) => {
      if (f.filter !== undefined) return self.aggregateFilter(f)
      if (!SAFE_FUNC.test(f.name)) throw dbError('QueryError', `not a function name: ${JSON.stringify(f.name)}`)
      if (f.name === 'string_agg') return self.stringAgg(f)
      if (f.withinGroup !== undefined) return self.withinGroup(f, f.withinGroup)
      const order = f.orderBy !== undefined && f.orderBy.length > 0 ? self.aggregateOrderBy(f, f.orderBy) : EMPTY
      // CURRENT_DATE() is a syntax error on SQLite and PostgreSQL: these are keywords.
      if (f.args.length === 0 && NILADIC.has(f.name.toLowerCase())) return F([f.name.toUpperCase()])
      return F([f.name.toUpperCase(), f.distinct ? '(DISTINCT ' : '(', joinParts(f.args.map(argument), ', '), order, ')'])
    },
    stringAgg: (f) => F(['STRING_AGG', f.distinct ? '(DISTINCT ' : '(', joinParts(f.args.map(argument), ', '),
      f.orderBy !== undefined && f.orderBy.length > 0 ? self.aggregateOrderBy(f, f.orderBy) : EMPTY, ')']),
    collate: (e, collation) => F([wrapped(self, e), ` COLLATE ${self.quoteIdentifier(collation)}`]),
    withinGroup: (f, items) =>
      F([self.func({ ...f, withinGroup: undefined }), ' WITHIN GROUP (ORDER BY ', joinParts(items.map(self.orderItem), ', '), ')']),
    fetchWithTies: (limit, offset) =>
      F([offset === undefined ? '' : F([' OFFSET ', amount(self, offset), ' ROWS']), ' FETCH FIRST ', amount(self, limit), ' ROWS WITH TIES']),
    aggregateOrderBy: (_f, items) => F([' ORDER BY ', joinParts(items.map(self.orderItem), ', ')]),
    distinctFrom: (l, r, negated) => F([wrapped(self, l), negated ? ' IS NOT DISTINCT FROM ' : ' IS DISTINCT FROM ', wrapped(self, r)]),
    tuple: (items) => {
      if (items.length === 0) throw dbError('QueryError', 'a row value needs at least one item')
      return F(['(', joinParts(items.map(self.expr), ', '), ')'])
    },
    quantifiedSubquery: (quantifier, q) => F([quantifier === 'any' ? 'ANY (' : 'ALL (', selectLike(self, q), ')']),
    quantifiedArray: (quantifier, array) => F([quantifier === 'any' ? 'ANY (' : 'ALL (', self.expr(array), ')']),
    rowArgument: (table) => F([`${self.quoteIdentifier(table)}.*`]),

    extension: (e) => {
      throw dbError('UnsupportedFeature', `${self.name} has no extension named ${e.name} (add it with extend: extension: (e) => ...)`, { dialect: self.name, feature: e.name })
    },

    selectClause: (q) =>
      q.distinctOn !== undefined && q.distinctOn.length > 0 ? F(['SELECT ', self.distinctOn(q.distinctOn)]) : F([q.distinct ? 'SELECT DISTINCT ' : 'SELECT ']),
    distinctOn: (items) => F(['DISTINCT ON (', joinParts(items.map(self.expr), ', '), ') ']),
    insertIgnore: unsupported('standard', 'INSERT OR IGNORE', "use onConflict(columns, 'nothing')"),
    insertReplace: unsupported('standard', 'INSERT OR REPLACE', 'use onConflict(columns, [...columns to take from the new row])'),
    conflictTarget: (oc) => {
      if (oc.constraint !== undefined) return F([` ON CONSTRAINT ${self.quoteIdentifier(oc.constraint)}`])
      if (oc.target.length === 0) return EMPTY
      const cols = ` (${oc.target.map(self.quoteIdentifier).join(', ')})`
      // Values written as literals: the engine matches this predicate to the index's own when planning.
      return oc.targetWhere === undefined ? F([cols]) : F([cols, ' WHERE ', self.inlineSql(self.expr(oc.targetWhere))])
    },
    updateFrom: (q) => {
      const sets = q.set.map(([c, v]) => F([self.quoteIdentifier(c), ' = ', self.expr(v)]))
      const parts: Part[] = []
      if (q.with !== undefined) parts.push(self.updateWith(q.with))
      parts.push('UPDATE ', self.fromItem(q.table), ' SET ', joinParts(sets, ', '), ' FROM ', joinParts((q.from ?? []).map(self.fromItem), ', '))
      if (q.where !== undefined) parts.push(' WHERE ', self.expr(q.where))
      if (q.orderBy !== undefined || q.limit !== undefined) parts.push(self.writeLimit(q.orderBy ?? [], q.limit))
      if (q.returning !== undefined && q.returning.length > 0) parts.push(self.updateReturning(q.returning))
      return F(parts)
    },
    deleteUsing: (q) => {
      const parts: Part[] = []
      if (q.with !== undefined) parts.push(self.deleteWith(q.with))
      parts.push('DELETE FROM ', self.fromItem(q.table), ' USING ', joinParts((q.using ?? []).map(self.fromItem), ', '))
      if (q.where !== undefined) parts.push(' WHERE ', self.expr(q.where))
      if (q.orderBy !== undefined || q.limit !== undefined) parts.push(self.writeLimit(q.orderBy ?? [], q.limit))
      if (q.returning !== undefined && q.returning.length > 0) parts.push(self.deleteReturning(q.returning))
      return F(parts)
    },
    writeLimit: (orderBy, limit) => {
      const parts: Part[] = []
      if (orderBy.length > 0) parts.push(' ORDER BY ', joinParts(orderBy.map(self.orderItem), ', '))
      if (limit !== undefined) parts.push(' LIMIT ', amount(self, limit))
      return F(parts)
    },

    excluded: (column) => F([`EXCLUDED.${self.quoteIdentifier(column)}`]),

    caseWhen: (c) => {
      if (c.whens.length === 0) throw dbError('QueryError', 'CASE needs at least one WHEN')
      // Bound results that are all numbers (or all booleans) go through `caseResult`, which may
      // give them a type; a mix stays as it is (PostgreSQL reads untyped parameters as text).
      const results = c.else === undefined ? c.whens.map((w) => w.then) : [...c.whens.map((w) => w.then), c.else]
      const result = sameKindConstants(results) ? self.caseResult : self.expr
      const parts: Part[] = [c.subject === undefined ? 'CASE' : F(['CASE ', wrapped(self, c.subject)])]
      for (const w of c.whens) parts.push(' WHEN ', self.expr(w.when), ' THEN ', result(w.then))
      if (c.else !== undefined) parts.push(' ELSE ', result(c.else))
      parts.push(' END')
      return F(parts)
    },

    // A bound number has no type PostgreSQL can infer in a CASE result, a VALUES row or a JSON
    // object (`SUM(CASE ... THEN $1 ...)` is sum(text)): PostgreSQL casts it; engines with
    // dynamic types bind it as it is.
    caseResult: (e) => self.expr(e),

    embedded: (node) => {
      if (isStatementKind(node.kind)) return F(['(', self.statement(node as QueryNode), ')'])
      return self.expr(node as Expr)
    },

    castType: (type) => {
      const t = portableType(type)
      switch (t.name) {
        case 'integer': return 'INTEGER'
        case 'double': return 'DOUBLE PRECISION'
        case 'decimal': return t.args.length === 0 ? 'DECIMAL' : `DECIMAL(${t.args.join(', ')})`
        default: return t.sql
      }
    },
    cast: (e, type) => F(['CAST(', self.expr(e), ` AS ${self.castType(type)})`]),

    // ISO SQL: a number times a one-unit interval literal, so the amount stays a parameter.
    dateAdd: (e, amount, unit) =>
      F(['(', wrapped(self, e), ' + ', wrapped(self, amount), unit === 'week' ? " * INTERVAL '7' DAY)" : ` * INTERVAL '1' ${unit.toUpperCase()})`]),
    dateTrunc: (unit, e) => F([`DATE_TRUNC('${unit}', `, self.expr(e), ')']),
    extract: (part, e) => F([`EXTRACT(${part.toUpperCase()} FROM `, self.expr(e), ')']),

    jsonPath: (path) => {
      let out = '$'
      for (const k of path) {
        // A negative index counts from the end: -1 is `last` (SQL/JSON path, MySQL 8, MariaDB 10.9+).
        if (typeof k === 'number') out += `[${jsonIndex(k, (n) => (n === -1 ? 'last' : `last-${-n - 1}`))}]`
        else out += `."${k.replace(/["\\]/g, '\\$&')}"`
      }
      return out
    },
    jsonExtract: (e, path) => F(['JSON_EXTRACT(', self.expr(e), ', ', { _tag: 'Param', value: self.jsonPath(path) }, ')']),
    jsonExtractText: (e, path) => F(['JSON_UNQUOTE(', self.jsonExtract(e, path), ')']),
    jsonContains: (e, value) => F(['JSON_CONTAINS(', self.expr(e), ', ', jsonArgument(self, value), ')']),

    // JSON_OBJECT / JSON_ARRAYAGG, the SQL standard's names (MySQL and MariaDB have them too).
    jsonBuildObject: (entries) =>
      F(['JSON_OBJECT(', joinParts(entries.map(([k, v]) => F([self.literal(k), ', ', self.caseResult(v)])), ', '), ')']),
    jsonArrayFrom: (q) => {
      const row = rowObject(self, q, 'rk_agg')
      return F(["(SELECT COALESCE(JSON_ARRAYAGG(", row, "), '[]') FROM (", selectLike(self, q), `) AS ${self.quoteIdentifier('rk_agg')})`])
    },
    // The subquery's own SELECT list becomes the object, so it may refer to the outer query
    // (MariaDB takes no outer reference inside a derived table).
    jsonObjectFrom: (q) => {
      if (q.kind === 'compound') {
        return F(['(SELECT ', rowObject(self, q, 'rk_obj'), ' FROM (', selectLike(self, q), `) AS ${self.quoteIdentifier('rk_obj')}`, self.limitOffset(1, undefined), ')'])
      }
      const names = outputNames(q)
      const object = self.jsonBuildObject(q.columns.map((c, i) => [names[i], c.expr] as const))
      return F(['(', self.compileSelect({ ...q, columns: [{ expr: { kind: 'raw', fragment: object } }], limit: 1 }), ')'])
    },

    aggregateFilter: (f) => F([self.func({ ...f, filter: undefined }), ' FILTER (WHERE ', self.expr(f.filter!), ')']),

    windowFunction: (w) => {
      if (w.func.kind !== 'func') throw dbError('QueryError', `OVER needs a function call, got ${String((w.func as { kind?: unknown }).kind)}`)
      return F([self.func(w.func), ' OVER ', typeof w.over === 'string' ? self.quoteIdentifier(w.over) : F(['(', self.windowSpec(w.over), ')'])])
    },
    windowSpec: (spec) => {
      const items: Fragment[] = []
      if (spec.base !== undefined) items.push(F([self.quoteIdentifier(spec.base)]))
      if (spec.partitionBy.length > 0) items.push(F(['PARTITION BY ', joinParts(spec.partitionBy.map(self.expr), ', ')]))
      if (spec.orderBy.length > 0) items.push(F(['ORDER BY ', joinParts(spec.orderBy.map(self.orderItem), ', ')]))
      if (spec.frame !== undefined) items.push(self.frame(spec.frame))
      return joinParts(items, ' ')
    },
    frame: (f) => {
      frameInOrder(f)
      const units = f.units === 'groups' ? self.groupsFrame() : F([f.units === 'rows' ? 'ROWS' : 'RANGE'])
      const extent = f.end === undefined ? frameBound(f.start) : `BETWEEN ${frameBound(f.start)} AND ${frameBound(f.end)}`
      return F([units, ' ', extent, f.exclude === undefined ? EMPTY : self.frameExclusion(f.exclude)])
    },
    groupsFrame: () => F(['GROUPS']),
    frameExclusion: (x) => {
      if (!FRAME_EXCLUSIONS.has(x)) throw dbError('QueryError', `not a frame exclusion: ${JSON.stringify(x)}`)
      return F([` EXCLUDE ${x.toUpperCase()}`])
    },

    selection: (s: Selection) =>
      s.alias === undefined ? self.expr(s.expr) : F([self.expr(s.expr), ` AS ${self.quoteIdentifier(s.alias)}`]),

    fromItem: (t) => {
      // A raw table reference is written as it is; a raw query (SELECT, WITH, VALUES) is a subquery.
      if (t.kind === 'raw') return startsAQuery((t as RawNode).fragment) ? F(['(', (t as RawNode).fragment, ')']) : (t as RawNode).fragment
      if (t.kind === 'derived') return t.lateral === true ? self.lateral(t) : self.derivedTable(t)
      if (t.kind === 'values') return self.valuesTable(t)
      if (t.schema === undefined && t.alias === undefined) return tableOf(t.name)
      const name = t.schema === undefined ? self.quoteIdentifier(t.name) : `${self.quoteIdentifier(t.schema)}.${self.quoteIdentifier(t.name)}`
      return F([t.alias === undefined ? name : `${name} AS ${self.quoteIdentifier(t.alias)}`])
    },
    derivedTable: (d) => F(['(', d.query.kind === 'raw' ? d.query.fragment : selectLike(self, typedConstants(self, d.query)), `) AS ${self.quoteIdentifier(d.alias)}`]),
    lateral: (d: DerivedTable) => F(['LATERAL ', self.derivedTable({ ...d, lateral: false })]),

    join: (j: JoinNode) => (j.type === 'right' ? self.rightJoin(j) : j.type === 'full' ? self.fullJoin(j) : joinSql(self, j)),
    rightJoin: (j) => joinSql(self, j),
    fullJoin: (j) => joinSql(self, j),

    orderItem: (o) =>
      F([self.expr(o.expr), o.direction === undefined ? '' : o.direction === 'desc' ? ' DESC' : ' ASC', o.nulls === undefined ? '' : o.nulls === 'first' ? ' NULLS FIRST' : ' NULLS LAST']),

    limitOffset: (limit, offset) => {
      const parts: Part[] = []
      if (limit !== undefined) parts.push(' LIMIT ', amount(self, limit))
      if (offset !== undefined) parts.push(' OFFSET ', amount(self, offset))
      return parts.length === 0 ? EMPTY : F(parts)
    },

    returning: (items) => F([' RETURNING ', joinParts(items.map(self.selection), ', ')]),
    insertReturning: (items) => self.returning(items),
    updateReturning: (items) => self.returning(items),
    deleteReturning: (items) => self.returning(items),

    insertValues: (node) => {
      if (node.query === undefined && node.rows.length === 0) throw noRows()
      if (node.query !== undefined) {
        const body = selectLike(self, typedConstants(self, node.query))
        return node.columns.length === 0 ? F([' ', body]) : F([` (${node.columns.map(self.quoteIdentifier).join(', ')}) `, body])
      }
      if (node.columns.length === 0) {
        if (node.rows.length > 1) throw dbError('UnsupportedFeature', `${self.name} cannot insert several rows of only default values in one statement`, { dialect: self.name, feature: 'multi-row DEFAULT VALUES' })
        return F([' DEFAULT VALUES'])
      }
      // The rows as one part (`ValueRows`) with the built-in `expr`: a bound value is rendered as
      // its parameter, as `expr` would, and other cells through `expr` (as query data). With an
      // overridden `expr`, every cell goes through it.
      builtInExpr ??= isBuiltIn(self.expr)
      const head = ` (${node.columns.map(self.quoteIdentifier).join(', ')}) VALUES `
      if (builtInExpr) {
        const plain = valueColumnsOf(node)
        return F([head, plain === undefined ? { _tag: 'ValueRows', rows: node.rows } : { _tag: 'ValueRows', rows: node.rows, columns: plain.values }])
      }
      const parts: Part[] = [head]
      for (let i = 0; i < node.rows.length; i++) {
        const r = node.rows[i]
        parts.push(i === 0 ? '(' : '), (')
        for (let j = 0; j < r.length; j++) {
          if (j > 0) parts.push(', ')
          parts.push(self.expr(r[j]))
        }
      }
      parts.push(')')
      return F(parts)
    },

    insertStatements: (node) => [node],

    upsert: (node) => {
      const oc = node.onConflict!
      const target = self.conflictTarget(oc)
      if (oc.update === null) return F([' ON CONFLICT', target, ' DO NOTHING'])
      if (oc.target.length === 0 && oc.constraint === undefined) throw dbError('QueryError', `${self.name}: an upsert that updates needs the conflict target columns`)
      // As on MySQL: no assignment is a mistake, not `DO UPDATE SET ` with nothing after it.
      if (oc.update.length === 0) throw dbError('QueryError', `${self.name}: an upsert that updates needs at least one assignment (use 'nothing' to skip conflicting rows)`)
      const sets = oc.update.map(([c, v]) => F([self.quoteIdentifier(c), ' = ', self.expr(upsertQualified(node, v))]))
      return F([' ON CONFLICT', target, ' DO UPDATE SET ', joinParts(sets, ', '), oc.where ? F([' WHERE ', self.expr(upsertQualified(node, oc.where))]) : EMPTY])
    },

    withClause: (w) => {
      if (w.ctes.length === 0) return EMPTY
      return F([w.recursive ? 'WITH RECURSIVE ' : 'WITH ', joinParts(w.ctes.map(self.cte), ', '), ' '])
    },
    cte: (c) => {
      const parts: Part[] = [self.quoteIdentifier(c.name)]
      if (c.columns !== undefined && c.columns.length > 0) parts.push(` (${c.columns.map(self.quoteIdentifier).join(', ')})`)
      parts.push(' AS ')
      // A hint, not a meaning: dropped where the engine has no such hint.
      if (c.materialized !== undefined && supports(self, 'cteMaterialized')) parts.push(self.cteMaterialized(c.materialized))
      const q = c.query
      parts.push('(', q.kind === 'raw' ? q.fragment : q.kind === 'insert' || q.kind === 'update' || q.kind === 'delete' ? self.cteStatement(q) : selectLike(self, typedConstants(self, q)), ')')
      return F(parts)
    },
    cteStatement: (q) => self.statement(q),
    valuesTable: (v) => {
      if (v.rows.length === 0) throw dbError('QueryError', `VALUES table ${v.alias} has no rows`)
      for (const r of v.rows) if (r.length !== v.columns.length) throw dbError('QueryError', `VALUES table ${v.alias}: a row has ${r.length} values for ${v.columns.length} columns`)
      // Numbers as literals (like CASE results): an untyped parameter in VALUES would be text on PostgreSQL.
      const rows = v.rows.map((r) => F(['(', joinParts(r.map(self.caseResult), ', '), ')']))
      return F(['(VALUES ', joinParts(rows, ', '), `) AS ${self.quoteIdentifier(v.alias)} (${v.columns.map(self.quoteIdentifier).join(', ')})`])
    },
    cteMaterialized: (m) => F([m ? 'MATERIALIZED ' : 'NOT MATERIALIZED ']),
    insertWith: (w) => self.withClause(w),
    updateWith: (w) => self.withClause(w),
    deleteWith: (w) => self.withClause(w),

    rollup: (items) => F(['ROLLUP (', joinParts(items.map(self.expr), ', '), ')']),
    windowClause: (ws) =>
      F([' WINDOW ', joinParts(ws.map((w) => F([self.quoteIdentifier(w.name), ' AS (', self.windowSpec(w.spec), ')'])), ', ')]),

    lock: (l) => {
      const strength = LOCK_STRENGTHS[l.strength]
      if (strength === undefined) throw dbError('QueryError', `not a lock strength: ${JSON.stringify(l.strength)}`)
      const parts: Part[] = [` FOR ${strength}`]
      if (l.of !== undefined && l.of.length > 0) parts.push(self.lockOf(l.of))
      if (l.wait === 'nowait') parts.push(self.lockNowait())
      else if (l.wait === 'skip locked') parts.push(self.lockSkipLocked())
      return F(parts)
    },
    lockOf: (tables) => F([` OF ${tables.map(self.quoteIdentifier).join(', ')}`]),
    lockNowait: () => F([' NOWAIT']),
    lockSkipLocked: () => F([' SKIP LOCKED']),

    compoundMember: (q, parent, side) => {
      const body = selectLike(self, q)
      return memberNeedsParens(q, parent, side) ? F(['(', body, ')']) : body
    },
    union: () => F([' UNION ']),
    unionAll: () => F([' UNION ALL ']),
    intersect: () => F([' INTERSECT ']),
    intersectAll: () => F([' INTERSECT ALL ']),
    except: () => F([' EXCEPT ']),
    exceptAll: () => F([' EXCEPT ALL ']),

    explain: (node) => {
      if ((node.query as { kind: string }).kind === 'explain') throw dbError('QueryError', 'cannot EXPLAIN an EXPLAIN')
      const stmt = self.statement(node.query)
      return node.analyze ? self.explainAnalyze(stmt) : F(['EXPLAIN ', stmt])
    },
    explainAnalyze: (stmt) => F(['EXPLAIN ANALYZE ', stmt]),

    compileSelect: (q0) => {
      const q = groupedWithWindows(self, q0)
      const parts: Part[] = []
      if (q.with !== undefined) parts.push(self.withClause(q.with))
      parts.push(self.selectClause(q))
      parts.push(q.columns.length === 0 ? '*' : joinParts(q.columns.map(self.selection), ', '))
      if (q.from !== undefined) parts.push(' FROM ', self.fromItem(q.from))
      for (const j of q.joins) parts.push(self.join(j))
      if (q.where !== undefined) parts.push(' WHERE ', self.expr(q.where))
      if (q.groupBy.length > 0) parts.push(' GROUP BY ', q.rollup === true ? self.rollup(q.groupBy) : joinParts(q.groupBy.map((g) => { const at = selectedPosition(q, g); return at === undefined ? self.expr(g) : F([at]) }), ', '))
      if (q.having !== undefined) parts.push(' HAVING ', self.expr(q.having))
      if (q.windows !== undefined && q.windows.length > 0) parts.push(self.windowClause(q.windows))
      if (q.orderBy.length > 0) parts.push(' ORDER BY ', joinParts(q.orderBy.map((o) => self.orderItem(orderedByPosition(q, o))), ', '))
      if (q.withTies === true) {
        if (q.limit === undefined || q.orderBy.length === 0) throw dbError('QueryError', 'WITH TIES needs a limit and an ORDER BY')
        parts.push(self.fetchWithTies(q.limit, q.offset))
      } else if (q.limit !== undefined || q.offset !== undefined) parts.push(self.limitOffset(q.limit, q.offset))
      if (q.lock !== undefined) parts.push(self.lock(q.lock))
      return F(parts)
    },

    compileCompound: (q) => {
      // Its ORDER BY sees the output columns alone: a column named with a member's table is the
      // output column of that name (PostgreSQL and MySQL refused the table), and an ORDER BY with
      // an expression reads the set operation as a derived table (SQLite and PostgreSQL take
      // only output columns there).
      if (q.orderBy.some((o) => !orderedByName(o.expr))) {
        const orderBy = q.orderBy.map((o) => ({ ...o, expr: mapColumns(o.expr, (c) => (c.table === undefined ? c : { kind: 'column', name: c.name })) }))
        if (orderBy.every((o) => orderedByName(o.expr))) return self.compileCompound({ ...q, orderBy })
        return self.compileSelect({
          kind: 'select', distinct: false, columns: [{ expr: { kind: 'star' } }], joins: [], groupBy: [], orderBy, limit: q.limit, offset: q.offset, with: q.with,
          from: { kind: 'derived', query: { ...q, orderBy: [], limit: undefined, offset: undefined, with: undefined }, alias: 'rk_set' },
        })
      }
      const parts: Part[] = []
      if (q.with !== undefined) parts.push(self.withClause(q.with))
      parts.push(self.compoundMember(q.left, q, 'left'), setOperator(self, q), self.compoundMember(q.right, q, 'right'))
      if (q.orderBy.length > 0) parts.push(' ORDER BY ', joinParts(q.orderBy.map(self.orderItem), ', '))
      if (q.limit !== undefined || q.offset !== undefined) parts.push(self.limitOffset(q.limit, q.offset))
      return F(parts)
    },

    compileInsert: (q) => {
      const parts: Part[] = []
      if (q.with !== undefined) parts.push(self.insertWith(q.with))
      parts.push(q.or === 'ignore' ? self.insertIgnore() : q.or === 'replace' ? self.insertReplace() : 'INSERT INTO ', self.fromItem(q.table), self.insertValues(q))
      if (q.onConflict !== undefined) parts.push(self.upsert(q))
      if (q.returning !== undefined && q.returning.length > 0) parts.push(self.insertReturning(q.returning))
      return F(parts)
    },

    compileUpdate: (q) => {
      if (q.set.length === 0) throw dbError('QueryError', `UPDATE ${q.table.name} has no assignments`)
      if (q.from !== undefined && q.from.length > 0) return self.updateFrom(q)
      const sets = q.set.map(([c, v]) => F([self.quoteIdentifier(c), ' = ', self.expr(v)]))
      const parts: Part[] = []
      if (q.with !== undefined) parts.push(self.updateWith(q.with))
      parts.push('UPDATE ', self.fromItem(q.table), ' SET ', joinParts(sets, ', '))
      if (q.where !== undefined) parts.push(' WHERE ', self.expr(q.where))
      if (q.orderBy !== undefined || q.limit !== undefined) parts.push(self.writeLimit(q.orderBy ?? [], q.limit))
      if (q.returning !== undefined && q.returning.length > 0) parts.push(self.updateReturning(q.returning))
      return F(parts)
    },

    compileDelete: (q) => {
      if (q.using !== undefined && q.using.length > 0) return self.deleteUsing(q)
      const parts: Part[] = []
      if (q.with !== undefined) parts.push(self.deleteWith(q.with))
      parts.push('DELETE FROM ', self.fromItem(q.table))
      if (q.where !== undefined) parts.push(' WHERE ', self.expr(q.where))
      if (q.orderBy !== undefined || q.limit !== undefined) parts.push(self.writeLimit(q.orderBy ?? [], q.limit))
      if (q.returning !== undefined && q.returning.length > 0) parts.push(self.deleteReturning(q.returning))
      return F(parts)
    },

    compileMerge: (q) => {
      if (q.source === undefined || q.on === undefined) throw dbError('QueryError', `MERGE INTO ${q.table.name} needs a source and a condition (mergeUsing)`)
      if (q.whens.length === 0) throw dbError('QueryError', `MERGE INTO ${q.table.name} needs a WHEN clause`)
      const parts: Part[] = []
      if (q.with !== undefined) parts.push(self.withClause(q.with))
      parts.push('MERGE INTO ', self.fromItem(q.table), ' USING ', self.fromItem(q.source), ' ON ', self.expr(q.on))
      for (const w of q.whens) {
        parts.push(w.matched ? ' WHEN MATCHED' : ' WHEN NOT MATCHED')
        if (w.and !== undefined) parts.push(' AND ', self.expr(w.and))
        const a = w.action
        switch (a.kind) {
          case 'update': {
            if (!w.matched) throw dbError('QueryError', 'MERGE: UPDATE needs WHEN MATCHED')
            parts.push(' THEN UPDATE SET ', joinParts(a.set.map(([c, v]) => F([self.quoteIdentifier(c), ' = ', self.expr(v)])), ', '))
            break
          }
          case 'delete':
            if (!w.matched) throw dbError('QueryError', 'MERGE: DELETE needs WHEN MATCHED')
            parts.push(' THEN DELETE')
            break
          case 'insert':
            if (w.matched) throw dbError('QueryError', 'MERGE: INSERT needs WHEN NOT MATCHED')
            parts.push(` THEN INSERT (${a.columns.map(self.quoteIdentifier).join(', ')}) VALUES (`, joinParts(a.values.map(self.expr), ', '), ')')
            break
          case 'nothing': parts.push(' THEN DO NOTHING'); break
          default: throw dbError('QueryError', `not a MERGE action: ${JSON.stringify((a as { kind?: unknown }).kind)}`)
        }
      }
      return F(parts)
    },

    statement: (q) => {
      if (isFragment(q)) return q
      if (isDdlNode(q)) return self.ddl(q)
      switch (q.kind) {
        case 'select': return self.compileSelect(q)
        case 'compound': return self.compileCompound(q)
        case 'explain': return self.explain(q)
        case 'insert': return self.compileInsert(q)
        case 'update': return self.compileUpdate(q)
        case 'delete': return self.compileDelete(q)
        case 'merge': return self.compileMerge(q)
        case 'raw': return q.fragment
        default: throw dbError('UnsupportedFeature', `${self.name} cannot compile statement kind ${String((q as { kind?: unknown }).kind)}`, { dialect: self.name, feature: String((q as { kind?: unknown }).kind) })
      }
    },

    compile: (q) => {
      try {
        // A shape met before is answered first: only statements `resultsAsRead` leaves as they
        // are were kept, and every part it reads (all but WHERE) is the same in a statement of
        // that shape, so it would leave this one as it is too.
        const known = cached(q as { readonly kind?: unknown }, false)
        if (known !== undefined) return right(known)
        const top = resultsAsRead(self, q)
        const c = top === q ? cached(q as { readonly kind?: unknown }) : undefined
        if (c !== undefined) return right(c)
        uniqueOutputNames(q)
        return right(render(self, self.statement(top)))
      } catch (e) {
        return left(toDbError(e))
      }
    },

    beginTransaction: (o) => {
      const modes = isolationSql(o)
      return [modes.length === 0 ? 'BEGIN' : `START TRANSACTION ${modes.join(', ')}`]
    },
    commit: () => 'COMMIT',
    rollback: () => 'ROLLBACK',
    savepoint: (name) => `SAVEPOINT ${self.quoteIdentifier(name)}`,
    releaseSavepoint: (name) => `RELEASE SAVEPOINT ${self.quoteIdentifier(name)}`,
    rollbackToSavepoint: (name) => `ROLLBACK TO SAVEPOINT ${self.quoteIdentifier(name)}`,

    forVersion: () => self,
  }
}

const JOIN_KEYWORDS: Readonly<Record<JoinNode['type'], string>> = {
  inner: ' INNER JOIN ', left: ' LEFT JOIN ', right: ' RIGHT JOIN ', full: ' FULL JOIN ', cross: ' CROSS JOIN ',
}

/** A join clause: the keyword, the table, and ON, USING or (without a condition) every pair of rows. */
const joinSql = (self: Dialect, j: JoinNode): Fragment => {
  const kw = JOIN_KEYWORDS[j.type]
  if (kw === undefined) throw dbError('QueryError', `not a join type: ${JSON.stringify(j.type)}`)
  if (j.using !== undefined) return F([kw, self.fromItem(j.table), ` USING (${j.using.map(self.quoteIdentifier).join(', ')})`])
  if (j.on !== undefined) return F([kw, self.fromItem(j.table), ' ON ', self.expr(j.on)])
  // Engines other than SQLite need an ON on every join but CROSS JOIN.
  return j.type === 'cross' ? F([kw, self.fromItem(j.table)]) : F([kw, self.fromItem(j.table), ' ON 1 = 1'])
}

/** A JSON operand: a bound value travels as its JSON text (a `json()` value as what it wraps); an expression as it is. */
const jsonArgument = (self: Dialect, e: Expr): Fragment => {
  if (e.kind !== 'value') return self.expr(e)
  const text = JSON.stringify(isJsonValue(e.value) ? e.value.value : e.value, (_, v: unknown) => (typeof v === 'bigint' ? Number(v) : v))
  if (text === undefined) throw dbError('QueryError', `cannot bind ${String(e.value)} as JSON`)
  return F([{ _tag: 'Param', value: text }])
}

/**
 * Whether a result column holds a JSON value the driver might give as a bare string (a JSON
 * string document, which reads like JSON text): a named `jsonGet`, `cast(x, 'json')` or
 * `readAs(x, 'json')`. Objects built in the query (`jsonArrayFrom`, `jsonBuildObject`) never are.
 */
const ambiguousJson = (s: Selection, type: ResultType | undefined): boolean => {
  const k = s.expr.kind
  return type === 'json' && k !== 'jsonFrom' && k !== 'jsonBuildObject' && (s.alias !== undefined || k === 'column')
}

/**
 * The positions of a statement's ambiguous JSON result columns (its own, or columns it reads
 * from a derived table or a CTE that makes them JSON), or undefined when there is none.
 */
const ambiguousJsonAt = (q: QueryNode, columns: readonly Selection[]): ReadonlySet<number> | undefined => {
  // Most statements select no JSON at all: a look at their own expressions settles it.
  let maybe = false
  for (let i = 0; i < columns.length && !maybe; i++) maybe = resultTypeOf(columns[i].expr) === 'json'
  if (!maybe && !readsDerived(q)) return undefined
  const types = selectionTypes(q)
  if (types === undefined) return undefined
  let at: Set<number> | undefined
  for (let i = 0; i < columns.length; i++) if (ambiguousJson(columns[i], types[i])) (at ??= new Set()).add(i)
  return at
}

/** A bound number or boolean selected as it is (PostgreSQL reads one as text: `SELECT $1` gives '1'). */
const boundConstant = (s: Selection): boolean =>
  s.expr.kind === 'value' && (typeof s.expr.value === 'number' || typeof s.expr.value === 'bigint' || typeof s.expr.value === 'boolean')

/**
 * A result list with the JSON columns at `at` written through `jsonResult` (under the name they
 * had), and bound numbers and booleans through `caseResult`, which gives them their type.
 */
const textColumns = (self: Dialect, columns: readonly Selection[], at: ReadonlySet<number> | undefined): Selection[] =>
  columns.map((s, i) => {
    if (boundConstant(s)) return { ...s, expr: { kind: 'raw', fragment: self.caseResult(s.expr) } }
    if (at === undefined || !at.has(i)) return s
    const name = s.alias ?? (s.expr.kind === 'column' ? s.expr.name : undefined)
    const expr: RawNode = { kind: 'raw', fragment: self.jsonResult!(s.expr) }
    return name === undefined ? { expr } : { expr, alias: name }
  })

/** Every member of a set operation with its columns at `at` written through `jsonResult`. */
const textMembers = (self: Dialect, q: SelectLike, at: ReadonlySet<number> | undefined): SelectLike =>
  q.kind === 'compound'
    ? { ...q, left: textMembers(self, q.left, at), right: textMembers(self, q.right, at) }
    : { ...q, columns: textColumns(self, q.columns, at) }

const firstSelect = (q: SelectLike): SelectNode => (q.kind === 'compound' ? firstSelect(q.left) : q)

/** Whether a member of a set operation selects a bound number or boolean. */
const selectsConstants = (q: SelectLike): boolean =>
  q.kind === 'compound' ? selectsConstants(q.left) || selectsConstants(q.right) : q.columns.some(boundConstant)

/**
 * A query whose result is a table other SQL reads (a CTE, a derived table, the rows of an
 * INSERT ... SELECT), with its bound numbers and booleans selected through `caseResult`: on
 * PostgreSQL an untyped parameter there is text, which an integer column refuses.
 */
const typedConstants = (self: Dialect, q: SelectLike): SelectLike => (selectsConstants(q) ? textMembers(self, q, undefined) : q)

/**
 * A statement with its own result columns written so that they read back as the builder knows
 * them: ambiguous JSON columns (see `ambiguousJson`) as JSON text through the dialect's
 * `jsonResult` (absent where the engine returns JSON as text already), and bound numbers and
 * booleans through `caseResult`. The statement itself when it has none. Only the statement's
 * own result: a subquery's columns keep their type for the query around them. The typed result
 * columns (`results.ts`) read the statement as given, so the JSON text is parsed back.
 */
const resultsAsRead = (self: Dialect, q: Compilable): Compilable => {
  if (isFragment(q)) return q
  switch ((q as { readonly kind?: unknown }).kind) {
    case 'select':
    case 'compound': {
      const at = self.jsonResult === undefined ? undefined : ambiguousJsonAt(q as SelectLike, firstSelect(q as SelectLike).columns)
      return at === undefined && !selectsConstants(q as SelectLike) ? q : textMembers(self, q as SelectLike, at)
    }
    case 'insert':
    case 'update':
    case 'delete': {
      const w = q as InsertNode | UpdateNode | DeleteNode
      const at = w.returning === undefined || self.jsonResult === undefined ? undefined : ambiguousJsonAt(w, w.returning)
      return at === undefined ? q : { ...w, returning: textColumns(self, w.returning!, at) }
    }
    default: return q
  }
}

const STATEMENT_KINDS: ReadonlySet<string> = new Set(['select', 'compound', 'insert', 'update', 'delete', 'merge', 'explain'])
const isStatementKind = (kind: string): boolean => STATEMENT_KINDS.has(kind)

/** Whether the bound values among some expressions are all numbers, or all booleans (and there is one). */
const sameKindConstants = (es: readonly Expr[]): boolean => {
  let kind: string | undefined
  for (const e of es) {
    if (e.kind !== 'value' || e.value === null || e.value === undefined) continue
    const k = typeof e.value === 'bigint' ? 'number' : typeof e.value
    if (k !== 'number' && k !== 'boolean') return false
    if (kind !== undefined && kind !== k) return false
    kind = k
  }
  return kind !== undefined
}

/** The first SQL text of a fragment (nested fragments followed), or '' when it starts with a hole. */
const firstText = (f: Fragment): string => {
  const p = f.parts[0]
  return typeof p === 'string' ? p : p !== undefined && p._tag === 'Fragment' ? firstText(p) : ''
}
/** The last SQL text of a fragment (nested fragments followed), or '' when it ends with a hole. */
const lastText = (f: Fragment): string => {
  const p = f.parts[f.parts.length - 1]
  return typeof p === 'string' ? p : p !== undefined && p._tag === 'Fragment' ? lastText(p) : ''
}
const QUERY_START = /^\s*\(?\s*(select|with|values|table)\b/i
/** `(...) AS alias`, `(...) alias` or `(...) AS alias (a, b)`: a derived table written with its alias. */
const ALIASED_END = /\)\s*(?:as\s+)?(?:"(?:[^"]|"")+"|`(?:[^`]|``)+`|[A-Za-z_][A-Za-z0-9_$]*)(?:\s*\([^()]*\))?\s*$/i
/**
 * Whether raw SQL is a query (to parenthesise as a subquery) rather than a table reference. A
 * parenthesised query with an alias after it (`(SELECT 1 AS x) AS t`) is a table reference:
 * parenthesised again it was no SQL PostgreSQL takes.
 */
const startsAQuery = (f: Fragment): boolean => {
  const head = firstText(f)
  return QUERY_START.test(head) && !(/^\s*\(/.test(head) && ALIASED_END.test(lastText(f)))
}

/** The output column names of a query, for JSON objects built from its rows. */
const outputNames = (q: SelectLike): string[] => {
  if (q.kind === 'compound') return outputNames(q.left)
  if (q.columns.length === 0) throw dbError('QueryError', 'a JSON object of a subquery needs its columns named: select them')
  return q.columns.map((s) => {
    if (s.alias !== undefined) return s.alias
    if (s.expr.kind === 'column') return s.expr.name
    throw dbError('QueryError', 'a JSON object of a subquery needs each computed column aliased: as(expr, name)')
  })
}

/**
 * `JSON_OBJECT('a', alias.a, ...)` over a subquery's output columns, each column carrying the
 * result type the builder knows of it (a condition, JSON), so `jsonBuildObject` can nest it as a
 * JSON boolean or document where the derived table loses that (SQLite, MariaDB).
 */
const rowObject = (self: Dialect, q: SelectLike, alias: string): Fragment => {
  const types = selectionTypes(q) ?? []
  return self.jsonBuildObject(outputNames(q).map((n, i) => [n, { kind: 'column', table: alias, name: n, ...(types[i] === undefined ? {} : { result: types[i] }) }] as const))
}

/** A SELECT or a set operation, compiled through the record. */
const selectLike = (self: Dialect, q: SelectLike): Fragment =>
  q.kind === 'compound' ? self.compileCompound(q) : self.compileSelect(q)

/** What a query carries after its body: clauses that apply to its whole result. */
const hasTail = (q: SelectLike): boolean =>
  q.orderBy.length > 0 || q.limit !== undefined || q.offset !== undefined || q.with !== undefined ||
  (q.kind === 'select' && q.lock !== undefined)

/**
 * Whether a member of a set operation needs parentheses to keep its meaning: it has its own
 * ORDER BY / LIMIT / WITH, or it is itself a set operation on the right, or a UNION / EXCEPT
 * under an INTERSECT (which binds tighter) on the left. Set operations read left to right.
 */
const memberNeedsParens = (q: SelectLike, parent: CompoundNode, side: 'left' | 'right'): boolean =>
  hasTail(q) || (q.kind === 'compound' && (side === 'right' || (parent.op === 'intersect' && q.op !== 'intersect')))

/** Whether an ORDER BY item of a set operation is an output column by its bare name (or raw SQL, written as it is). */
const orderedByName = (e: Expr): boolean => (e.kind === 'column' && e.table === undefined) || e.kind === 'raw'

const setOperator = (self: Dialect, q: CompoundNode): Fragment => {
  switch (q.op) {
    case 'union': return q.all ? self.unionAll() : self.union()
    case 'intersect': return q.all ? self.intersectAll() : self.intersect()
    case 'except': return q.all ? self.exceptAll() : self.except()
    default: throw dbError('QueryError', `not a set operation: ${JSON.stringify(q.op)}`)
  }
}

const DATE_UNITS: ReadonlySet<string> = new Set<DateUnit>(['year', 'month', 'week', 'day', 'hour', 'minute', 'second'])
const DATE_PARTS: ReadonlySet<string> = new Set(['year', 'month', 'day', 'hour', 'minute', 'second'])
const checkedUnit = <U extends string>(u: U): U => {
  if (!DATE_UNITS.has(u)) throw dbError('QueryError', `not a date unit: ${JSON.stringify(u)}`)
  return u
}
const checkedPart = <U extends string>(u: U): U => {
  if (!DATE_PARTS.has(u)) throw dbError('QueryError', `not a date part: ${JSON.stringify(u)}`)
  return u
}

const FRAME_EXCLUSIONS: ReadonlySet<string> = new Set(['current row', 'group', 'ties', 'no others'])

/** A checked count of rows (or groups) for a frame bound. */
const frameOffset = (n: number): number => {
  if (!Number.isSafeInteger(n) || n < 0) throw dbError('QueryError', `a window frame offset must be a non-negative integer, got ${n}`)
  return n
}

/**
 * One end of a window frame. Offsets are written as integer literals (after checking):
 * MariaDB accepts no parameter there.
 */
/** Where a frame bound falls, from the partition's first row to its last. */
const boundRank = (b: FrameBound): number =>
  b === 'unbounded preceding' ? 0 : b === 'current row' ? 2 : b === 'unbounded following' ? 4 : typeof b === 'object' && b !== null && 'preceding' in b ? 1 : 3

/**
 * A frame whose bounds are in order, or a QueryError naming them: it cannot start at UNBOUNDED
 * FOLLOWING nor end at UNBOUNDED PRECEDING, and cannot end before the kind of row it starts at
 * (CURRENT ROW AND 1 PRECEDING), as the SQL standard has it. Every engine refuses such a frame,
 * each with its own words ("unsupported frame specification", a syntax error).
 */
const frameInOrder = (f: FrameSpec): void => {
  const end = f.end ?? 'current row'
  const problem = f.start === 'unbounded following'
    ? 'a window frame cannot start at UNBOUNDED FOLLOWING'
    : end === 'unbounded preceding'
      ? 'a window frame cannot end at UNBOUNDED PRECEDING'
      : boundRank(f.start) > boundRank(end)
        ? `a window frame from ${frameBound(f.start)} cannot end at ${frameBound(end)}${f.end === undefined ? ' (a frame given one bound ends at the current row)' : ''}`
        : undefined
  if (problem !== undefined) throw dbError('QueryError', problem)
}

const frameBound = (b: FrameBound): string => {
  if (typeof b === 'string') {
    if (b !== 'unbounded preceding' && b !== 'current row' && b !== 'unbounded following') throw dbError('QueryError', `not a frame bound: ${JSON.stringify(b)}`)
    return b.toUpperCase()
  }
  return 'preceding' in b ? `${frameOffset(b.preceding)} PRECEDING` : `${frameOffset(b.following)} FOLLOWING`
}

const LOCK_STRENGTHS: Readonly<Record<string, string>> = { update: 'UPDATE', share: 'SHARE', 'no key update': 'NO KEY UPDATE', 'key share': 'KEY SHARE' }

/** A portable type name, parsed: `decimal(10, 2)` is `{ name: 'decimal', args: [10, 2] }`. */
interface PortableType {
  readonly name: string
  readonly args: readonly number[]
  /** The name as given, upper-cased with its arguments (for names no dialect maps). */
  readonly sql: string
}

const TYPE_RE = /^\s*([A-Za-z][A-Za-z0-9_]*(?: [A-Za-z][A-Za-z0-9_]*)*)\s*(?:\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\))?\s*$/
const TYPE_ALIASES: Readonly<Record<string, string>> = {
  int: 'integer', int4: 'integer', integer: 'integer', smallint: 'smallint', int2: 'smallint', bigint: 'bigint', int8: 'bigint',
  text: 'text', string: 'text', varchar: 'varchar', 'character varying': 'varchar', char: 'char', character: 'char',
  decimal: 'decimal', numeric: 'decimal', real: 'real', float: 'double', float8: 'double', double: 'double', 'double precision': 'double',
  boolean: 'boolean', bool: 'boolean', date: 'date', timestamp: 'timestamp', datetime: 'timestamp', time: 'time', json: 'json', jsonb: 'json',
}

/**
 * Parse a portable type name; a name that is not a plain (possibly multi-word) type name with
 * up to two integer arguments is refused, since it is written into the SQL text.
 */
const portableType = (type: string): PortableType => {
  let t = PORTABLE_TYPES.get(type)
  if (t === undefined) {
    t = parsePortableType(type)
    // Type names come from code (`cast(x, 'text')`), a handful per program: the table is kept
    // small in case they do not.
    if (PORTABLE_TYPES.size >= 256) PORTABLE_TYPES.clear()
    PORTABLE_TYPES.set(type, t)
  }
  return t
}

/** Parsed type names (see `portableType`); a refused name is not kept. */
const PORTABLE_TYPES = new Map<string, PortableType>()

const parsePortableType = (type: string): PortableType => {
  const m = TYPE_RE.exec(type)
  if (m === null) throw dbError('QueryError', `not a type name: ${JSON.stringify(type)}`)
  const given = m[1].toLowerCase()
  const args = [m[2], m[3]].filter((x): x is string => x !== undefined).map(Number)
  return { name: TYPE_ALIASES[given] ?? given, args, sql: `${m[1].toUpperCase()}${args.length === 0 ? '' : `(${args.join(', ')})`}` }
}

/**
 * An aggregate's FILTER written as a CASE inside it, for engines without FILTER:
 * `COUNT(*) FILTER (WHERE c)` becomes `COUNT(CASE WHEN c THEN 1 END)`, `SUM(x) FILTER (WHERE c)`
 * becomes `SUM(CASE WHEN c THEN x END)`. Aggregates skip NULLs, so the result is the same.
 */
const filterAsCase = (self: Dialect, f: FuncNode): Fragment => {
  const cond = f.filter!
  const args = f.args.length === 0 ? [ONE] : f.args
  const first = args[0].kind === 'star' ? ONE : args[0]
  const guarded: Expr = { kind: 'case', whens: [{ when: cond, then: first }] }
  return self.func({ ...f, filter: undefined, args: [guarded, ...args.slice(1)] })
}
const ONE: RawNode = { kind: 'raw', fragment: F(['1']) }

/**
 * A VALUES table as `(SELECT a AS x, b AS y UNION ALL SELECT c, d) AS alias`, for engines
 * without column names on a derived table (SQLite, MariaDB).
 */
const valuesAsUnion = (self: Dialect, v: ValuesTable): Fragment => {
  if (v.rows.length === 0) throw dbError('QueryError', `VALUES table ${v.alias} has no rows`)
  const rows = v.rows.map((r, i) => {
    if (r.length !== v.columns.length) throw dbError('QueryError', `VALUES table ${v.alias}: a row has ${r.length} values for ${v.columns.length} columns`)
    return F(['SELECT ', joinParts(r.map((cell, j) => (i === 0 ? F([self.caseResult(cell), ` AS ${self.quoteIdentifier(v.columns[j])}`]) : self.caseResult(cell))), ', ')])
  })
  return F(['(', joinParts(rows, ' UNION ALL '), `) AS ${self.quoteIdentifier(v.alias)}`])
}

/** Wrap a SELECT as a derived table and select everything from it (for engines that cannot parenthesise). */
const selectAllFrom = (self: Dialect, q: SelectLike, alias?: string): Fragment =>
  F(['SELECT * FROM (', selectLike(self, q), alias === undefined ? ')' : `) AS ${self.quoteIdentifier(alias)}`])

/** An operand, in parentheses when it is itself an operation. */
const wrapped = (self: Dialect, e: Expr): Fragment => (needsParens(e) ? F(['(', self.expr(e), ')']) : self.expr(e))

/** A LIMIT/OFFSET amount: a checked integer parameter, or a named placeholder. */
const amount = (self: Dialect, n: number | { readonly kind: 'param'; readonly name: string }): Part => {
  if (typeof n === 'number') {
    if (!Number.isSafeInteger(n) || n < 0) throw dbError('QueryError', `LIMIT/OFFSET must be a non-negative integer, got ${n}`)
    return { _tag: 'Param', value: n }
  }
  // Anything but a prepared query's hole (a string from a request, say) was bound as NULL:
  // LIMIT NULL is no limit on PostgreSQL, and every row came back.
  if (typeof n !== 'object' || n === null || (n as { readonly kind?: unknown }).kind !== 'param') {
    throw dbError('QueryError', `LIMIT/OFFSET must be a non-negative integer, got ${typeof n === 'string' ? JSON.stringify(n) : String(n)}${typeof n === 'string' ? ' (a string: convert it with Number first)' : ''}`)
  }
  return self.param(n as never)
}

/**
 * The error of an INSERT without rows (`values([])`, or no `values` at all): it would insert one
 * row of defaults, which an empty list never asked for.
 */
const noRows = (): Error =>
  dbError('QueryError', 'INSERT with no rows: values([]) inserts nothing, so run no statement for an empty list (values({}) inserts one row of defaults)')

/**
 * An INSERT of several rows of only default values as one `DEFAULT VALUES` statement per row,
 * for engines without a multi-row form of it (`insertStatements` runs them as one unit).
 */
const defaultRows = (node: InsertNode): InsertNode[] => node.rows.map((r) => ({ ...node, rows: [r] }))

/**
 * A JSON array index checked to be an integer, written as itself from 0, and through `fromEnd`
 * when negative (-1 is the last element).
 */
const jsonIndex = (k: number, fromEnd: (k: number) => string): string => {
  if (!Number.isSafeInteger(k)) throw dbError('QueryError', `a JSON array index must be an integer, got ${k}`)
  return k >= 0 ? String(k) : fromEnd(k)
}

/** Helpers for dialect authors. */
/** Whether an expression holds a value bound as a parameter. */
const bindsValue = (e: unknown): boolean =>
  typeof e === 'object' && e !== null && ((e as { readonly kind?: unknown }).kind === 'value' || Object.values(e).some(bindsValue))

/**
 * A GROUP BY expression that is also selected (the same node) and binds values, as its position
 * in the SELECT list (`GROUP BY 1`): written out again, its values are bound again ($1 in the
 * SELECT list, $10 in GROUP BY), and PostgreSQL then finds the selected expression not grouped by
 * (42803, `must appear in the GROUP BY clause`). Every engine reads a position there.
 *
 * @example selectedPosition(q, bucket) // '2' for select({ tenant, bucket, ... }), groupBy('tenant', bucket)
 */
const selectedPosition = (q: SelectNode, g: Expr): string | undefined => {
  if (g.kind === 'column' || !bindsValue(g)) return undefined
  let i = q.columns.findIndex((c) => c.expr === g)
  // The same expression built again (groupBy(dateTrunc('day', dateAdd('ts', -5, 'hour'))) beside
  // the selected one) is the same SQL with the same values: its position stands for it as well.
  if (i < 0) i = q.columns.findIndex((c) => sameNode(c.expr, g))
  return i < 0 ? undefined : String(i + 1)
}

/**
 * Whether two query nodes are equal part by part: plain objects and arrays key by key, values
 * as `Object.is` compares them, Dates by their time. Anything else (bytes, a class instance) is
 * equal only to itself.
 *
 * @example sameNode(dateTrunc('day', 'ts'), dateTrunc('day', 'ts')) // true
 */
const sameNode = (a: unknown, b: unknown): boolean => {
  if (Object.is(a, b)) return true
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  if (a instanceof Date || b instanceof Date) return a instanceof Date && b instanceof Date && a.getTime() === b.getTime()
  const proto = Object.getPrototypeOf(a) as unknown
  if (proto !== Object.getPrototypeOf(b) || (proto !== Object.prototype && proto !== Array.prototype && proto !== null)) return false
  const keys = Object.keys(a)
  if (keys.length !== Object.keys(b).length) return false
  return keys.every((k) => Object.prototype.hasOwnProperty.call(b, k) && sameNode((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
}

/**
 * An ORDER BY item whose expression is selected (the same node) and binds values, in a grouped or
 * DISTINCT SELECT, as its position in the SELECT list, as GROUP BY names it (`selectedPosition`):
 * written out again, its values are bound again, and PostgreSQL finds the ordered expression
 * neither grouped by (42803) nor selected (42P10). An item with a NULLS placement is left as it
 * is: MySQL and MariaDB write one as `expr IS NULL`, where a position would be a constant.
 *
 * @example orderedByPosition(q, { expr: day, direction: 'desc' }) // { expr: 1, direction: 'desc' } for select({ day, n }), groupBy(day)
 */
const orderedByPosition = (q: SelectNode, o: OrderItem): OrderItem => {
  if (o.nulls !== undefined || (q.groupBy.length === 0 && q.distinct !== true)) return o
  const at = selectedPosition(q, o.expr)
  return at === undefined ? o : { ...o, expr: { kind: 'raw', fragment: F([at]) } }
}

/** Whether an expression holds a window function call (`over(...)`). */
const hasWindow = (e: unknown): boolean =>
  typeof e === 'object' && e !== null && ((e as { readonly kind?: unknown }).kind === 'window' || Object.values(e).some(hasWindow))

/** `x` with every object that is a key of `swap` (by identity) replaced by its value, copied only where something changed. */
const replaceNodes = <T>(x: T, swap: ReadonlyMap<object, Expr>): T => {
  if (typeof x !== 'object' || x === null) return x
  const to = swap.get(x)
  if (to !== undefined) return to as T
  if (Array.isArray(x)) {
    let out: unknown[] | undefined
    x.forEach((v, i) => {
      const y = replaceNodes(v, swap)
      if (y !== v) (out ??= x.slice())[i] = y
    })
    return (out ?? x) as T
  }
  let out: Record<string | symbol, unknown> | undefined
  for (const k of Reflect.ownKeys(x)) {
    const v = (x as Record<string | symbol, unknown>)[k]
    const y = replaceNodes(v, swap)
    if (y !== v) (out ??= { ...(x as Record<string | symbol, unknown>) })[k] = y
  }
  return (out ?? x) as T
}

/**
 * A grouped SELECT with a window function, with each GROUP BY expression that binds values (a
 * `dateTrunc` of a `dateAdd`, a CASE of buckets) written with its values in the SQL text, as
 * literals, wherever the same node stands (SELECT list, GROUP BY, HAVING, ORDER BY, windows):
 * `over(rank(), { partitionBy: [day] })` cannot name the expression by its position as GROUP BY
 * does (`selectedPosition`), and bound again ($1 selected, $7 in PARTITION BY) PostgreSQL finds it
 * not grouped by (42803). Other queries are returned as they are.
 *
 * @example groupedWithWindows(self, q) // GROUP BY DATE_TRUNC('day', ... + 2 * INTERVAL '1' HOUR), the same text in OVER (PARTITION BY ...)
 */
const groupedWithWindows = (self: Dialect, q: SelectNode): SelectNode => {
  if (q.groupBy.length === 0) return q
  const bound = q.groupBy.filter((g) => g.kind !== 'column' && bindsValue(g))
  if (bound.length === 0 || !q.columns.some((c) => hasWindow(c.expr))) return q
  const swap = new Map<object, Expr>()
  for (const g of bound) {
    const result = resultTypeOf(g)
    swap.set(g, { kind: 'raw', fragment: self.inlineSql(self.expr(g)), ...(result === undefined ? {} : { result }) })
  }
  return { ...q, columns: replaceNodes(q.columns, swap), groupBy: replaceNodes(q.groupBy, swap), having: replaceNodes(q.having, swap), orderBy: replaceNodes(q.orderBy, swap), windows: replaceNodes(q.windows, swap) }
}

/**
 * The typed `avg` (result 'float', one argument, no FILTER) as the double nearest the exact
 * average where the engine's AVG of integers or DECIMAL keeps few decimals (MySQL and MariaDB 4
 * more, PostgreSQL 16): the argument multiplied by an exact 1 with 30 decimals first (a double
 * argument stays one). Undefined for any other function, which the dialect writes as it does.
 *
 * @example fragments.exactAverage(self, f) ?? base.func(f) // AVG("x" * CAST(1 AS DECIMAL(65, 30)))
 */
const exactAverage = (self: Dialect, f: FuncNode): Fragment | undefined =>
  f.result === 'float' && f.filter === undefined && f.args.length === 1 && f.name.toLowerCase() === 'avg'
    ? F([f.distinct ? 'AVG(DISTINCT ' : 'AVG(', wrapped(self, f.args[0]), ' * CAST(1 AS DECIMAL(65, 30)))'])
    : undefined

export const fragments = {
  exactAverage, defaultRows, underLimit, jsonIndex, noRows, joinParts, wrapped, amount, isolationSql, valuesAsUnion, rowObject, outputNames, selectLike, jsonArgument, joinSql, hasTail, memberNeedsParens, portableType, filterAsCase, selectAllFrom, memo,
}
export type { PortableType }

/**
 * The standard dialect, closed and ready to use.
 * @example standard.quoteIdentifier('a"b') // "a""b"
 */
export const standard: Dialect = fix((self) => builtIn(standardOpen(self)))
