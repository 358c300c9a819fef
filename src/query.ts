/**
 * Immutable, pipeable builders that produce query data (see `ast.ts`).
 *
 * Every function returns a new value and never changes its input (the node types are readonly;
 * nodes are not frozen at run time, which would cost more than building them); use them with
 * fp-ts `pipe`:
 *
 * ```ts
 * pipe(from('users'), select('id', 'name'), where(eq('id', 1)), limit(1))
 * ```
 *
 * A plain string on the left of a comparison is a column (`'users.id'` is qualified); a
 * plain value on the right is a parameter. Wrap a value in `col()` to compare two columns.
 */
import { isNullOperand } from './dialects/null-comparison.js'
import type {
  BinaryOp, CompoundNode, DeleteNode, DerivedTable, Expr, FromItem, InsertNode, JoinNode, OnConflict, OrderItem, QueryNode, RawNode,
  SelectLike, SelectNode, Selection, TableRef, UpdateNode, ParamNode, ValuesTable,
} from './ast.js'
import { DEFAULT } from './ast.js'
import { dbError, type DbError } from './errors.js'
import { isFragment, isJsonValue, sql, type Fragment } from './sql.js'
import { memoString } from './memo.js'
import { markReused } from './reused.js'
import { withFields } from './objects.js'
import { isPlainObject } from './values.js'
import { valueRows } from './value-columns.js'

/** A row as the database returns it. */
export type Row = Record<string, unknown>

/** A SELECT carrying the row type it returns (a type-level tag only). */
export interface Select<R = Row> extends SelectNode { readonly __row?: R }
/** An INSERT; `R` is the row type of its RETURNING clause. */
export interface Insert<R = Row> extends InsertNode { readonly __row?: R }
/** An UPDATE; `R` is the row type of its RETURNING clause. */
export interface Update<R = Row> extends UpdateNode { readonly __row?: R }
/** A DELETE; `R` is the row type of its RETURNING clause. */
export interface Delete<R = Row> extends DeleteNode { readonly __row?: R }
/** A set operation (UNION, INTERSECT, EXCEPT) carrying the row type it returns. */
export interface Compound<R = Row> extends CompoundNode { readonly __row?: R }
/** Any statement, as accepted by `db.execute`. */
export type Query<R = Row> = Select<R> | Compound<R> | Insert<R> | Update<R> | Delete<R> | RawNode | Fragment

// ---------------------------------------------------------------- expressions

const EXPR = Symbol.for('recordkit.Expr')
/**
 * Mark an expression node as built by recordkit. Nodes are not frozen at run time: they are
 * never changed once built (the types are readonly), and `Object.freeze` cost more than the rest
 * of building a query (bench/RESULTS.md, W0 and W1).
 */
const node = <E extends Expr>(e: E): E => {
  ;(e as unknown as Record<symbol, unknown>)[EXPR] = true
  return e
}

// The builders every query runs (`val`, the comparisons) write the mark in the object literal
// instead: added afterwards, it needs a property store of its own (one more allocation per node).

/**
 * Mark and freeze an expression node built by hand, so builders recognise it as an
 * expression (for builders of your own).
 * @example const nowNode = exprNode({ kind: 'func', name: 'now', args: [] })
 */
export const exprNode = node

/**
 * True for an expression node built by recordkit (or a `sql` fragment).
 * @example isExpr(eq('id', 1)) // true; isExpr('id') // false
 */
export const isExpr = (u: unknown): u is Expr | Fragment =>
  typeof u === 'object' && u !== null && ((u as Record<symbol, unknown>)[EXPR] === true || isFragment(u))

/** An operand: an expression, a `sql` fragment, or (on the left) a column name. */
export type Operand = Expr | Fragment | string

const makeColumn = (name: string): Expr => {
  // `*` and `t.*` are every column (`count('t.*')`), not a column named "*".
  if (name === '*') return node({ kind: 'star' })
  if (name.endsWith('.*')) return node({ kind: 'star', table: name.slice(0, -2) })
  const dot = name.lastIndexOf('.')
  return dot < 0 ? node({ kind: 'column', name }) : node({ kind: 'column', table: name.slice(0, dot), name: name.slice(dot + 1) })
}

/**
 * One node per column name (see src/memo.ts). Nodes are never changed once built, so one node
 * may stand in every query that names the same column: building a query then allocates only
 * what differs between calls (its values), and the compile cache (see `standard.compile`) can
 * recognise the unchanged parts by identity.
 */
const columnNode = memoString(makeColumn)

/**
 * A column reference; `'t.c'` is qualified.
 * @example eq('albums.artist_id', col('artists.id'))
 */
export const col = (name: string): Expr => columnNode(name)

/**
 * A value bound as a parameter.
 * @example select(as(val(1), 'one'))
 */
export const val = (value: unknown): Expr => new ValueNode(value)

/**
 * The node of a bound value, made by a constructor whose prototype is `Object.prototype`: the same
 * plain object as the literal `{ kind: 'value', value, [EXPR]: true }`, without the literal's
 * allocation site, which V8 may decide to pretenure (see `plainObjects` in objects.ts). A statement
 * with a thousand keys in an `IN` list (an eager load's) keeps a thousand such nodes alive while
 * it is compiled; a young collection then would make every later value node of every query in
 * the old generation.
 */
const ValueNode = function (this: Record<string | symbol, unknown>, value: unknown) {
  this.kind = 'value'
  this.value = value
  this[EXPR] = true
} as unknown as new (value: unknown) => Expr
ValueNode.prototype = Object.prototype

/**
 * A value written into the SQL text as a literal, escaped by the dialect (`'it''s'`, `42`,
 * `TRUE`, `NULL`): for a constant the engine must see typed, or one the planner should see.
 * Use `val` for anything that comes from users.
 * @example select(as(lit(1), 'one')) // SELECT 1 AS "one"
 */
export const lit = (value: unknown): Expr => node({ kind: 'literal', value })

/**
 * A named parameter for prepared queries.
 * @example const find = db.prepare(pipe(from('users'), where(eq('id', param('id')))))
 */
export const param = (name: string): ParamNode => node({ kind: 'param', name })

/**
 * Raw SQL as an expression.
 * @example where(raw(sql`length(name) > ${3}`))
 */
export const raw = (fragment: Fragment): RawNode => node({ kind: 'raw', fragment })

/**
 * An operand as an expression: a string is a column, a fragment is raw SQL.
 * @example toExpr('users.id') // the column users.id
 */
export const toExpr = (u: Operand | Expr): Expr =>
  typeof u === 'string' ? col(u) : isFragment(u) ? raw(u) : u
/**
 * A value as an expression: expressions stay as they are, anything else is a parameter.
 * @example toValue('Ada') // a parameter, not a column
 */
export const toValue = (u: unknown): Expr =>
  isExpr(u) ? (isFragment(u) ? raw(u) : u) : val(u)

/**
 * The ValidationError of a comparison or list given `undefined` as a value: as for a condition
 * object (`undefinedInWhere`), a missing value is reported, never bound as NULL (`= NULL`
 * matches no row, `<> NULL` none either, `NOT IN (..., NULL)` none).
 */
const undefinedOperand = (what: string, left: Operand): DbError => {
  const name = typeof left === 'string' ? left : 'an expression'
  const shown = typeof left === 'string' ? `"${name}"` : name
  return dbError('ValidationError', `${what}: the value for ${shown} is undefined (pass null for a NULL value, or use isNull / isNotNull)`, {
    issues: [{ path: typeof left === 'string' ? left : '', rule: 'defined', value: undefined, message: `the value for ${shown} is undefined` }],
  })
}

/** The comparisons a NULL on the right makes unknown for every row: no `IS NULL` form stands for them. */
const ORDERINGS: ReadonlySet<BinaryOp> = new Set<BinaryOp>(['<', '<=', '>', '>=', 'like', 'not like', 'ilike', 'not ilike'])

/**
 * The ValidationError of an ordering or LIKE comparison given `null` (`gt('ends_at', input.after)`
 * with no time given): `> NULL` matches no row, silently, where `eq` / `ne` test IS [NOT] NULL.
 * Django refuses the same (`Cannot use None as a query value`).
 */
const nullOperand = (what: string, left: Operand): DbError => {
  const shown = typeof left === 'string' ? `"${left}"` : 'an expression'
  const message = `${what}: the value for ${shown} is null, and ${what} NULL matches no row (use isNull / isNotNull, or leave the condition out)`
  return dbError('ValidationError', message, { issues: [{ path: typeof left === 'string' ? left : '', rule: 'notNull', value: null, message }] })
}

const binary = (op: BinaryOp) => (left: Operand, right: unknown): Expr => {
  if (right === undefined) throw undefinedOperand(op.toUpperCase(), left)
  if (right === null && ORDERINGS.has(op)) throw nullOperand(op.toUpperCase(), left)
  return ({ kind: 'binary', op, left: toExpr(left), right: toValue(right), [EXPR]: true }) as Expr
}

/** A comparison: its value is read back as `true` or `false` when selected (1 or 0 on SQLite and MySQL; see `src/results.ts`). */
const comparison = (op: BinaryOp): ((left: Operand, right: unknown) => TypedExpr<boolean | null>) => binary(op)

/**
 * `left = right`; a `null` right is `left IS NULL` (as `where({ left: null })`), an undefined one
 * a ValidationError. A prepared query's `param()` stays `= ?` whatever it is bound to.
 * @example eq('id', 1)
 * @example eq('parent_id', input.parentId) // parent_id IS NULL when input.parentId is null
 */
export const eq = comparison('=')
/** `left <> right`; a `null` right is `left IS NOT NULL`. @example ne('status', 'done') */
export const ne = comparison('<>')
/** `left < right` @example lt('age', 18) */
export const lt = comparison('<')
/** `left <= right` @example lte('age', 18) */
export const lte = comparison('<=')
/** `left > right` @example gt('total', 10) */
export const gt = comparison('>')
/** `left >= right` @example gte('total', 10) */
export const gte = comparison('>=')
/** `left LIKE pattern` @example like('name', 'A%') */
export const like = comparison('like')
/** `left NOT LIKE pattern` @example notLike('name', 'A%') */
export const notLike = comparison('not like')
/** Case-insensitive LIKE (`ILIKE` on PostgreSQL, `LOWER() LIKE LOWER()` elsewhere). @example ilike('name', 'a%') */
export const ilike = comparison('ilike')
/** `left NOT ILIKE pattern`, or its case-folding equivalent off PostgreSQL. @example notIlike('name', 'a%') */
export const notIlike = comparison('not ilike')
/** `left + right` @example select(as(add('price', val(1)), 'next')) */
export const add = binary('+')
/** `left - right` @example sub('total', col('discount')) */
export const sub = binary('-')
/** `left * right` @example select(as(mul('unit_price', col('quantity')), 'amount')) */
export const mul = binary('*')
/** `left / right` (integer division on integer operands in some engines: cast first) @example div('total', 2) */
export const div = binary('/')
/** `left % right` @example where(eq(mod('id', 2), 0)) */
export const mod = binary('%')
/** String concatenation, rendered per dialect (`||` or `CONCAT`). @example concat('first_name', val(' ')) */
export const concat = binary('||')

const logical = (kind: 'and' | 'or') => (...items: readonly (Expr | Fragment | Record<string, unknown> | undefined)[]): TypedExpr<boolean | null> =>
  node({ kind, items: items.filter((i): i is Expr | Fragment | Record<string, unknown> => i !== undefined).map(toCondition) })

/** All conditions hold. @example and(eq('a', 1), gt('b', 2)) */
export const and = logical('and')
/** Any condition holds. @example or(eq('a', 1), eq('a', 2)) */
export const or = logical('or')
/** Negation. @example not(eq('a', 1)) */
export const not = (e: Expr | Fragment | Record<string, unknown>): TypedExpr<boolean | null> => node({ kind: 'not', expr: toCondition(e) })

/**
 * `expr IN (...)`; a SELECT (or a UNION ...) gives `IN (subquery)`, and so does a raw `sql`
 * SELECT (as Knex's `whereIn(col, knex.raw(...))`). An empty list is false (rendered as `1 = 0`); an undefined in the list is a ValidationError (it would be bound as NULL).
 * A `null` in the list stands for NULL, as in `eq(col, null)` and `where({ col: [...] })`:
 * `isIn('v', [1, null])` is `(v IN (1) OR v IS NULL)` (Rails writes it so), where SQL's
 * `v IN (1, NULL)` never matches the NULL.
 * @example isIn('id', [1, 2, 3])
 * @example isIn('id', sql`SELECT owner_id FROM pet`)
 * @example isIn('parent_id', [1, null]) // (parent_id IN (1) OR parent_id IS NULL)
 */
export const isIn = (e: Operand, list: readonly unknown[] | SelectLike | Fragment): TypedExpr<boolean | null> =>
  inOrNull(e, inList('IN', e, list), false)
/**
 * `expr NOT IN (...)`; an undefined in the list is a ValidationError, as for `isIn`. A `null` in
 * the list stands for NULL: `notIn('v', [1, null])` is `(v NOT IN (1) AND v IS NOT NULL)`, where
 * SQL's `v NOT IN (1, NULL)` matches no row at all.
 * @example notIn('id', [1, 2])
 */
export const notIn = (e: Operand, list: readonly unknown[] | SelectLike | Fragment): TypedExpr<boolean | null> =>
  inOrNull(e, inList('NOT IN', e, list), true)

/** `[NOT] IN` of a list, its NULL items (bound or literal) tested with IS [NOT] NULL beside it (see `isIn`). */
const inOrNull = (e: Operand, list: readonly Expr[] | SelectLike, negated: boolean): TypedExpr<boolean | null> => {
  const expr = toExpr(e)
  if (!Array.isArray(list) || !list.some(isNullOperand)) return node({ kind: 'in', expr, list, negated })
  const rest = list.filter((x) => !isNullOperand(x))
  const nullTest: Expr = { kind: 'isNull', expr, negated }
  if (rest.length === 0) return node(nullTest)
  return node({ kind: negated ? 'and' : 'or', items: [{ kind: 'in', expr, list: rest, negated }, nullTest] })
}

/**
 * What IN reads: the list's values, a query, or a raw SELECT as the list's one item, written
 * between the parentheses as it is (a query node it is not: a fragment's fields were read as a
 * query's, and compiling failed with "Cannot read properties of undefined").
 */
const inList = (what: string, e: Operand, list: readonly unknown[] | SelectLike | Fragment): readonly Expr[] | SelectLike =>
  Array.isArray(list) ? listValues(what, e, list) : isFragment(list) ? [raw(list)] : (list as SelectLike)

const listValues = (what: string, e: Operand, list: readonly unknown[]): Expr[] => {
  const out: Expr[] = new Array(list.length)
  for (let i = 0; i < list.length; i++) {
    if (list[i] === undefined) throw undefinedOperand(`${what} (item ${i})`, e)
    out[i] = toValue(list[i])
  }
  return out
}

/** `expr BETWEEN low AND high`; an undefined bound is a ValidationError. @example between('total', 1, 10) */
export const between = (e: Operand, low: unknown, high: unknown): TypedExpr<boolean | null> => {
  if (low === undefined || high === undefined) throw undefinedOperand('BETWEEN', e)
  return node({ kind: 'between', expr: toExpr(e), low: toValue(low), high: toValue(high), negated: false })
}
/** `expr IS NULL` @example isNull('deleted_at') */
export const isNull = (e: Operand): TypedExpr<boolean> => node({ kind: 'isNull', expr: toExpr(e), negated: false })
/** `expr IS NOT NULL` @example isNotNull('email') */
export const isNotNull = (e: Operand): TypedExpr<boolean> => node({ kind: 'isNull', expr: toExpr(e), negated: true })
/**
 * `EXISTS (subquery)`; the subquery may be a raw `sql` SELECT. Selected, it reads back as a boolean.
 * @example where(exists(pipe(from('posts'), where(eq('posts.user_id', col('users.id'))))))
 * @example where(exists(sql`SELECT 1 FROM posts WHERE posts.user_id = users.id`))
 */
export const exists = (q: SelectLike | Fragment): TypedExpr<boolean> =>
  isFragment(q) ? node({ kind: 'raw', fragment: sql`EXISTS (${q})`, result: 'boolean' }) : node({ kind: 'subquery', query: q, exists: true })
/** `NOT EXISTS (subquery)` @example where(notExists(pipe(from('posts p'), where(eq('p.user_id', col('u.id')))))) */
export const notExists = (q: SelectLike | Fragment): TypedExpr<boolean> => node({ kind: 'not', expr: exists(q) })
/**
 * A scalar subquery (correlated when it refers to the outer query's tables); it may be a raw `sql` SELECT.
 * @example select(as(subquery(pipe(from('t'), select(count()))), 'n'))
 * @example select(as(subquery(sql`SELECT MAX(age) FROM person`), 'oldest'))
 */
export const subquery = (q: SelectLike | Fragment): Expr => isFragment(q) ? raw(sql`(${q})`) : node({ kind: 'subquery', query: q })

/**
 * A function call by name; string arguments are columns. `current_date`, `current_time` and
 * `current_timestamp` without arguments are written as the keywords they are (`CURRENT_DATE`).
 * @example fn('lower', 'email')
 * @example fn('current_timestamp') // CURRENT_TIMESTAMP, as Knex's knex.fn.now()
 */
export const fn = (name: string, ...args: readonly (Operand | Expr)[]): Expr =>
  node({ kind: 'func', name, args: args.map(toExpr) })
/**
 * `COUNT(*)`, `COUNT(col)` or `COUNT(DISTINCT col)`. Named in a result, it is read back as a
 * number on every engine (see `src/results.ts`). The distinct combinations of several columns
 * are `count(tuple('a', 'b'), { distinct: true })`: PostgreSQL `COUNT(DISTINCT ("a", "b"))`,
 * MySQL and MariaDB `COUNT(DISTINCT a, b)` (which skips a row with a NULL in any of them), not SQLite.
 * @example count('id', { distinct: true })
 */
export const count = (e?: Operand, options?: { readonly distinct?: boolean }): TypedExpr<number> =>
  node({ kind: 'func', name: 'count', args: [e === undefined ? node({ kind: 'star' }) : toExpr(e)], distinct: options?.distinct ?? false, result: 'integer' })
/**
 * `SUM(col)`. Named in a result, it is read back as a number on every engine when a double
 * holds it exactly (integers within ±2^53, decimals of at most 15 significant digits), else a
 * DecodeError; with `{ exact: true }` as exact decimal text.
 * @example sum('total')
 * @example sum('total', { exact: true }) // '1234567890123.45'
 */
export function sum(e: Operand, options: { readonly exact: true }): TypedExpr<string | null>
export function sum(e: Operand, options?: { readonly exact?: false }): TypedExpr<number | null>
export function sum(e: Operand, options?: { readonly exact?: boolean }): TypedExpr<number | string | null>
export function sum(e: Operand, options?: { readonly exact?: boolean }): Expr {
  return node({ kind: 'func', name: 'sum', args: [toExpr(e)], result: options?.exact === true ? 'decimal' : 'number' })
}
/** `AVG(col)`; named in a result, a number on every engine. @example avg('total') */
export const avg = (e: Operand): TypedExpr<number | null> => node({ kind: 'func', name: 'avg', args: [toExpr(e)], result: 'float' })
/** `MIN(col)` @example min('total') */
export const min = (e: Operand): Expr => fn('min', e)
/** `MAX(col)` @example max('total') */
export const max = (e: Operand): Expr => fn('max', e)
/**
 * `COALESCE(a, b, ...)`: string arguments are columns (wrap text in `val`); numbers, booleans,
 * dates, bigints and `null` are bound values, as `nullif`'s second argument is.
 * @example coalesce('t.seats', 0)
 * @example coalesce('nickname', val('anon'))
 */
export const coalesce = (...args: readonly (Operand | Expr | number | boolean | bigint | Date | null)[]): Expr =>
  node({ kind: 'func', name: 'coalesce', args: args.map((a) => (typeof a === 'string' ? col(a) : toValue(a))) })
/** `NULLIF(a, b)`: NULL when both are equal; `b` is a value unless it is an expression. @example nullif('country', '') */
export const nullif = (a: Operand, b: unknown): Expr => node({ kind: 'func', name: 'nullif', args: [toExpr(a), toValue(b)] })

/**
 * An expression rendered by a dialect extension (see `Dialect.extension`); string arguments
 * are columns.
 * @example where(extension('jsonbPathExists', ['payload'], '$.tags[*] ? (@ == "sale")'))
 */
export const extension = (name: string, args: readonly (Operand | Expr)[], data?: unknown): Expr =>
  node({ kind: 'extension', name, args: args.map(toExpr), data })

/**
 * The proposed row in an upsert's update: `EXCLUDED.col` on PostgreSQL/SQLite, `new.col` or
 * `VALUES(col)` on MySQL/MariaDB.
 * @example onConflict(['email'], { name: excluded('name') })
 */
export const excluded = (column: string): Expr => node({ kind: 'excluded', column })

/**
 * An aliased selection.
 * @example select(as(count(), 'n'))
 */
export const as = (e: Operand | Expr, alias: string): Selection => ({ expr: toExpr(e), alias })

/**
 * A condition from an expression or from an object of column/value pairs:
 * `null` becomes IS NULL, an array becomes IN, anything else `=`.
 * @example toCondition({ country: 'Brazil', fax: null }) // country = ? AND fax IS NULL
 */
export const toCondition = (c: Expr | Fragment | Record<string, unknown>): Expr => {
  if (isExpr(c)) return isFragment(c) ? raw(c) : c
  const items = Object.entries(c).map(([k, v]) => {
    if (v === undefined) throw undefinedInWhere(undefined, k)
    if (typeof v === 'object' && v !== null && isPlainObject(v) && !isExpr(v) && !isJsonValue(v)) throw objectInWhere(k, v)
    return v === null ? isNull(k) : Array.isArray(v) ? isIn(k, v) : eq(k, v)
  })
  return items.length === 1 ? items[0] : node({ kind: 'and', items })
}

/**
 * The ValidationError of a condition object with a plain object as a value (`{ age: { gt: 5 } }`,
 * as other libraries write operators): it was bound as its JSON text, so the comparison matched
 * no row on SQLite and MySQL without a word. `json(value)` compares with a JSON document.
 */
const objectInWhere = (key: string, v: unknown): DbError =>
  dbError('ValidationError', `where: "${key}" is an object (${safeJson(v)}): a condition object takes values, null (IS NULL) and arrays (IN); write an operator as a builder (gt('${key}', 5)), or json(value) to compare with a JSON document`, {
    issues: [{ path: key, rule: 'value', value: v, message: `"${key}" is an object` }],
  })

const safeJson = (v: unknown): string => {
  try {
    return JSON.stringify(v).slice(0, 80)
  } catch {
    return 'an object'
  }
}

/**
 * The ValidationError of a condition object with an `undefined` value: a missing value is a
 * mistake to report, not a condition to drop (which would match every row) nor `= NULL` (which
 * matches none). `null` is IS NULL; a key left out is no condition.
 *
 * @example undefinedInWhere('users', 'email').message // 'users: where: "email" is undefined ...'
 */
export const undefinedInWhere = (table: string | undefined, key: string): DbError =>
  dbError('ValidationError', `${table === undefined ? '' : `${table}: `}where: "${key}" is undefined (pass null for IS NULL, or leave the key out)`, {
    issues: [{ path: key, rule: 'defined', value: undefined, message: `"${key}" is undefined in a condition` }],
  })

// ---------------------------------------------------------------- tables, selections

const AS_RE = /^(.+?)\s+(?:as\s+)?([A-Za-z_][A-Za-z0-9_]*)$/i

/** Whether a name has white space: a scan of its characters; `\s` decides the rare doubtful ones. */
const hasSpace = (s: string): boolean => {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c <= 32 || c === 160 || c >= 0x1680) return /\s/.test(s)
  }
  return false
}

/**
 * A table reference; `'albums a'` or `'albums as a'` gives an alias, `'main.albums'` a schema.
 * @example table('chinook.albums as a')
 */
export const table = (spec: string): TableRef => tableOf(spec)

const tableOf = memoString((spec: string): TableRef => {
  const m = hasSpace(spec) ? AS_RE.exec(spec.trim()) : null
  const [name, alias] = m ? [m[1], m[2]] : [spec.trim(), undefined]
  const dot = name.indexOf('.')
  return dot < 0
    ? { kind: 'table' as const, name, alias }
    : { kind: 'table' as const, schema: name.slice(0, dot), name: name.slice(dot + 1), alias }
})

const STAR: Expr = node({ kind: 'star' })

/** The selection a string names (`'col'`, `'col as alias'`, `'t.*'`), remembered. */
const namedSelection = memoString((s: string): Selection => {
  if (hasSpace(s)) {
    const t = s.trim()
    const m = AS_RE.exec(t)
    if (m && /\sas\s/i.test(t)) return { expr: toExpr(m[1]), alias: m[2] }
    s = t
  }
  if (s === '*') return { expr: STAR }
  if (s.endsWith('.*')) return { expr: node({ kind: 'star', table: s.slice(0, -2) }) }
  return { expr: col(s) }
})

const selection = (s: string | Expr | Fragment | Selection): Selection => {
  if (typeof s === 'string') return namedSelection(s)
  if (isExpr(s)) return { expr: toExpr(s as Expr | Fragment) }
  return s as Selection
}

/** What `select` and `returning` accept: `'col'`, `'col as alias'`, `'t.*'`, an expression, `as(e, 'x')`, or `{ alias: 'col' | expr }`. */
export type SelectArg = string | Expr | Fragment | Selection | Readonly<Record<string, string | Expr | Fragment>>

const selections = (args: readonly SelectArg[]): Selection[] => {
  const out: Selection[] = []
  for (let i = 0; i < args.length; i++) {
    const a = args[i]
    if (typeof a === 'string' || isExpr(a) || ('expr' in (a as object) && isExpr((a as Selection).expr))) out.push(selection(a as string | Expr | Selection))
    else for (const [alias, e] of Object.entries(a as Record<string, string | Expr | Fragment>)) out.push({ expr: toExpr(e), alias })
  }
  return out
}

// ---------------------------------------------------------------- SELECT

/**
 * Start a SELECT from a table (`'users'`, `'users u'`), or a raw fragment. Without `select`,
 * it selects `*`.
 * @example pipe(from('users'), where({ id: 1 }))
 */
export const from = <R = Row>(t: string | Fragment | TableRef | DerivedTable | ValuesTable): Select<R> =>
  typeof t === 'string' ? fromTable(t) : ({
    kind: 'select' as const, distinct: false, columns: [], joins: [], groupBy: [], orderBy: [],
    from: isFragment(t) ? raw(t) : t,
  })

/** `from('table')`, one node per table name (nodes are never changed). */
const fromTable = memoString((t: string): SelectNode => ({
  kind: 'select' as const, distinct: false, columns: markReused([]), joins: [], groupBy: [], orderBy: [], from: table(t),
}))

/**
 * A SELECT without FROM (`SELECT 1`).
 * @example pipe(selectOnly(), select(as(val(1), 'one')))
 */
export const selectOnly = <R = Row>(): Select<R> =>
  ({ kind: 'select' as const, distinct: false, columns: [], joins: [], groupBy: [], orderBy: [] })

/**
 * A copy of a SELECT with some fields changed. Written out field by field: copying a node with
 * spread syntax costs several times more, and builders run on every query. The compiler checks
 * that every field of SelectNode is listed (`satisfies Record<keyof SelectNode, unknown>`), so a
 * new field cannot be forgotten here.
 * @example patchSelect(q, { limit: 1 })
 */
export const patchSelect = <Q extends SelectNode>(q: Q, c: Partial<SelectNode>): Q =>
  ({
    kind: 'select',
    distinct: c.distinct ?? q.distinct,
    distinctOn: 'distinctOn' in c ? c.distinctOn : q.distinctOn,
    columns: c.columns ?? q.columns,
    from: 'from' in c ? c.from : q.from,
    joins: c.joins ?? q.joins,
    where: 'where' in c ? c.where : q.where,
    groupBy: c.groupBy ?? q.groupBy,
    rollup: 'rollup' in c ? c.rollup : q.rollup,
    having: 'having' in c ? c.having : q.having,
    windows: 'windows' in c ? c.windows : q.windows,
    orderBy: c.orderBy ?? q.orderBy,
    limit: 'limit' in c ? c.limit : q.limit,
    offset: 'offset' in c ? c.offset : q.offset,
    withTies: 'withTies' in c ? c.withTies : q.withTies,
    with: 'with' in c ? c.with : q.with,
    lock: 'lock' in c ? c.lock : q.lock,
  }) satisfies Record<keyof SelectNode, unknown> as SelectNode as Q

/** A copy of any statement node with some fields changed. */
const patch = <Q extends SelectNode | CompoundNode | InsertNode | UpdateNode | DeleteNode>(q: Q, c: Partial<Q>): Q =>
  q.kind === 'select' ? patchSelect(q as SelectNode, c as Partial<SelectNode>) as Q : withFields(q, c) as unknown as Q

/**
 * A copy of a SELECT or a set operation with its result-level fields (ORDER BY, LIMIT,
 * OFFSET, WITH) changed.
 * @example patchQuery(q, { limit: 10 })
 */
export const patchQuery = <Q extends SelectLike>(q: Q, c: Partial<Pick<SelectNode, 'orderBy' | 'limit' | 'offset' | 'with'>>): Q =>
  patch(q as SelectLike, c as Partial<SelectLike>) as Q

/**
 * An expression that knows the type of its value in a result (see `src/results.ts`): `count()`
 * is a `TypedExpr<number>`. A type-level mark only.
 */
export type TypedExpr<T> = Expr & { readonly __value?: T }

/** The value type of a typed expression (`unknown` for an untyped one). */
export type ValueOf<E> = E extends { readonly __value?: infer T } ? (unknown extends T ? unknown : T) : unknown

/**
 * Add items to the SELECT list. Given one object of expressions (`{ n: count() }`), the row
 * type is inferred from them: `count()` gives `number`, `sum` `number | null`, an untyped
 * expression `unknown`; otherwise the row type is `R` (a plain row unless given).
 * @example pipe(from('sale'), select({ n: count(), total: sum('amount') })) // Select<{ n: number; total: number | null }>
 * @example pipe(from('users'), select('id', 'name as n', { total: count() }))
 */
export function select<S extends Readonly<Record<string, TypedExpr<unknown>>>>(columns: S): (q: SelectNode) => Select<{ [K in keyof S]: ValueOf<S[K]> }>
export function select<R = Row>(...cols: readonly SelectArg[]): (q: SelectNode) => Select<R>
export function select(...cols: readonly SelectArg[]) {
  return (q: SelectNode): Select => {
    // Column names added to the same node give the same node again (see src/memo.ts).
    const seen = selected.get(q)
    if (seen !== undefined) for (const s of seen) if (sameNames(s.names, cols)) return s.node
    if (cols.length === 0 || !cols.every((c) => typeof c === 'string')) return patchSelect(q, { columns: [...q.columns, ...selections(cols)] })
    const out = patchSelect(q, { columns: markReused([...q.columns, ...selections(cols)]) })
    const list = seen ?? []
    if (list.length >= SELECTS_PER_NODE) list.shift()
    list.push({ names: cols as readonly string[], node: out })
    if (seen === undefined) selected.set(q, list)
    return out
  }
}

/** The last few `select`s of column names applied to each node, and what they gave. */
const selected = new WeakMap<SelectNode, { readonly names: readonly string[]; readonly node: SelectNode }[]>()
const SELECTS_PER_NODE = 8

const sameNames = (names: readonly string[], cols: readonly SelectArg[]): boolean => {
  if (names.length !== cols.length) return false
  for (let i = 0; i < names.length; i++) if (names[i] !== cols[i]) return false
  return true
}

/** `SELECT DISTINCT` @example pipe(from('t'), select('country'), distinct) */
export const distinct = <Q extends SelectNode>(q: Q): Q => patchSelect(q, { distinct: true })

type Whereable = SelectNode | UpdateNode | DeleteNode

/**
 * Add a condition (AND with any previous one). Accepts an expression, a `sql` fragment or an
 * object of column/value pairs (`null` is IS NULL, an array is IN; an `undefined` value throws
 * a ValidationError naming the column rather than matching every row or none).
 * @example pipe(from('users'), where({ country: 'Brazil' }), where(gt('age', 18)))
 */
export const where = (c: Expr | Fragment | Record<string, unknown>) => <Q extends Whereable>(q: Q): Q => {
  const cond = toCondition(c)
  const w = q.where ? node({ kind: 'and', items: [q.where, cond] }) : cond
  return q.kind === 'select' ? selectWhere(q, w) as Q : patch(q, { where: w } as Partial<Q>)
}

/** `patchSelect(q, { where })`, without the object of changes: `where` runs on every query. */
const selectWhere = (q: SelectNode, where: Expr): SelectNode =>
  ({
    kind: 'select' as const,
    distinct: q.distinct,
    distinctOn: q.distinctOn,
    columns: q.columns,
    from: q.from,
    joins: q.joins,
    where,
    groupBy: q.groupBy,
    rollup: q.rollup,
    having: q.having,
    windows: q.windows,
    orderBy: q.orderBy,
    limit: q.limit,
    offset: q.offset,
    withTies: q.withTies,
    with: q.with,
    lock: q.lock,
  }) satisfies Record<keyof SelectNode, unknown>

/**
 * Add an alternative condition (OR with the previous one).
 * @example pipe(from('t'), where({ a: 1 }), orWhere({ a: 2 }))
 */
export const orWhere = (c: Expr | Fragment | Record<string, unknown>) => <Q extends Whereable>(q: Q): Q => {
  const cond = toCondition(c)
  return patch(q, { where: q.where ? node({ kind: 'or', items: [q.where, cond] }) : cond } as Partial<Q>)
}

/** The columns of a `JOIN ... USING (...)`. */
export interface Using {
  readonly using: readonly string[]
}

/**
 * `USING (col, ...)` for a join: the columns have the same name on both sides.
 * @example pipe(from('track'), join('album', using('album_id')))
 */
export const using = (...columns: readonly string[]): Using => ({ using: columns })

/** What a join condition may be: an expression, a fragment, a pair of columns, an object of column/value pairs, or `using(...)`. */
export type JoinCondition = Expr | Fragment | readonly [string, string] | Using | Readonly<Record<string, unknown>>

const isUsing = (u: unknown): u is Using =>
  typeof u === 'object' && u !== null && !isExpr(u) && Array.isArray((u as { using?: unknown }).using) && Object.keys(u).length === 1

const joinWith = (type: JoinNode['type']) =>
  (t: string | TableRef | Fragment | DerivedTable | ValuesTable, on?: JoinCondition) => <Q extends SelectNode>(q: Q): Q => {
    const tableNode: FromItem = typeof t === 'string' ? table(t) : isFragment(t) ? raw(t) : (t as TableRef | DerivedTable | ValuesTable)
    const j: JoinNode = on === undefined
      ? { type, table: tableNode }
      : isUsing(on)
        ? { type, table: tableNode, using: on.using }
        : { type, table: tableNode, on: Array.isArray(on) ? eq(on[0] as string, col(on[1] as string)) : toCondition(on as Expr) }
    return patchSelect(q, { joins: [...q.joins, j] })
  }

/**
 * `INNER JOIN t ON ...`; `on` may be a pair of columns, `using(...)`, or left out (every pair
 * of rows). `t` may be a table (`'albums a'`), `derived(q, 'x')` or `lateral(q, 'x')`.
 * @example join('albums a', ['a.artist_id', 'artists.id'])
 */
export const join = joinWith('inner')
/** `LEFT JOIN` @example leftJoin('invoices i', ['i.customer_id', 'c.customer_id']) */
export const leftJoin = joinWith('left')
/** `RIGHT JOIN` (rendered only where the dialect has it). @example rightJoin('employee m', ['e.reports_to', 'm.employee_id']) */
export const rightJoin = joinWith('right')
/** `FULL JOIN` (rendered only where the dialect has it). @example fullJoin('b', ['a.id', 'b.id']) */
export const fullJoin = joinWith('full')
/** `CROSS JOIN` @example crossJoin('media_type') */
export const crossJoin = (t: string | TableRef | DerivedTable | ValuesTable) => joinWith('cross')(t)

const ORDER_DIRECTIONS = ['asc', 'desc'] as const
/** The NULLS placements an ORDER BY item takes (`orderWord`). */
export const NULLS_ORDERS = ['first', 'last'] as const

/**
 * An ORDER BY direction or NULLS placement as given: `'DESC'` is `'desc'` (as Knex and SQL take
 * either case); any other word is a ValidationError. It was read as ascending, so
 * `orderBy('total', 'DESC')` sorted the wrong way without a word.
 *
 * @example orderWord('direction', 'DESC', ['asc', 'desc']) // 'desc'
 */
export const orderWord = <W extends string>(what: 'direction' | 'nulls', given: unknown, words: readonly W[]): W | undefined => {
  if (given === undefined || (words as readonly unknown[]).includes(given)) return given as W | undefined
  const lower = typeof given === 'string' ? given.toLowerCase() : undefined
  if (lower !== undefined && (words as readonly string[]).includes(lower)) return lower as W
  throw dbError('ValidationError', `orderBy: ${what} must be ${words.map((w) => `'${w}'`).join(' or ')}, got ${typeof given === 'string' ? JSON.stringify(given) : String(given)}`, {
    issues: [{ path: what, rule: 'oneOf', value: given, message: `not ${words.join(' or ')}` }],
  })
}

/**
 * Add an ORDER BY item. The direction is ASC unless given; a `sql` fragment without a
 * direction is written as it is, so it may carry its own (`orderBy(sql\`name desc\`)`). An item
 * made by `asc` / `desc` (as windows take them) is taken as it is, direction and NULLS placement
 * included.
 * @example pipe(from('t'), orderBy('name'), orderBy('id', 'desc'))
 * @example pipe(from('t'), orderBy(desc('total', 'last')))
 */
export const orderBy = (e: Operand | OrderItem, direction?: 'asc' | 'desc', nulls?: 'first' | 'last') => {
  if (isOrderItem(e)) {
    if (direction !== undefined || nulls !== undefined) {
      throw dbError('QueryError', `orderBy: an item made by asc / desc carries its own direction and NULLS placement; got ${JSON.stringify(direction ?? nulls)} as well`)
    }
    return <Q extends SelectLike | UpdateNode | DeleteNode>(q: Q): Q => orderedBy(q, e)
  }
  const d = orderWord('direction', direction, ORDER_DIRECTIONS)
  const n = orderWord('nulls', nulls, NULLS_ORDERS)
  return <Q extends SelectLike | UpdateNode | DeleteNode>(q: Q): Q => orderedBy(q, { expr: toExpr(e), direction: d ?? (isFragment(e) ? undefined : 'asc'), nulls: n } as OrderItem)
}

/** An ORDER BY item made by `asc` / `desc`: a plain `{ expr, direction }`, not an expression node. */
const isOrderItem = (u: unknown): u is OrderItem =>
  typeof u === 'object' && u !== null && !isExpr(u) && isExpr((u as { expr?: unknown }).expr)

const orderedBy = <Q extends SelectLike | UpdateNode | DeleteNode>(q: Q, item: OrderItem): Q => {
  return q.kind === 'update' || q.kind === 'delete'
    ? withFields(q, { orderBy: [...(q.orderBy ?? []), item] })
    : patchQuery(q as SelectLike, { orderBy: [...(q as SelectLike).orderBy, item] }) as Q
}

/** `GROUP BY` @example pipe(from('invoices'), select('country', { n: count() }), groupBy('country')) */
export const groupBy = (...cols: readonly Operand[]) => <Q extends SelectNode>(q: Q): Q =>
  patchSelect(q, { groupBy: [...q.groupBy, ...cols.map(toExpr)] })

/** `HAVING` (AND with any previous one) @example having(gt(count(), 5)) */
export const having = (c: Expr | Fragment | Record<string, unknown>) => <Q extends SelectNode>(q: Q): Q => {
  const cond = toCondition(c)
  return patchSelect(q, { having: q.having ? node({ kind: 'and', items: [q.having, cond] }) : cond })
}

/**
 * `LIMIT n`; on an UPDATE or a DELETE, where the engine has it (MySQL, MariaDB, SQLite).
 * @example limit(10)
 */
export const limit = (n: number | ParamNode) => <Q extends SelectLike | UpdateNode | DeleteNode>(q: Q): Q =>
  q.kind === 'update' || q.kind === 'delete' ? withFields(q, { limit: n }) : patchQuery(q as SelectLike, { limit: n }) as Q
/**
 * `FETCH FIRST n ROWS WITH TIES`: `n` rows, and the rows tied with the last of them in the
 * ORDER BY (PostgreSQL 13+, MariaDB 10.6+). Needs an ORDER BY.
 * @example pipe(from('staff'), orderBy('salary', 'desc'), limitWithTies(2))
 */
export const limitWithTies = (n: number | ParamNode) => <Q extends SelectNode>(q: Q): Q => patchSelect(q, { limit: n, withTies: true })

/** `OFFSET n` (dialects supply the LIMIT some engines need with it) @example offset(20) */
export const offset = (n: number | ParamNode) => <Q extends SelectLike>(q: Q): Q => patchQuery(q, { offset: n })

/**
 * What is wrong with a page (`page` and `perPage` from 1) or a window (`limit` from 1, `offset`
 * from 0): one issue per value that is not such a whole number. Shared by the builder's and the
 * models' `paginate`.
 *
 * @example pageIssues({ page: 0, perPage: 10 })[0].message // 'page must be a whole number from 1, got 0'
 */
export const pageIssues = (spec: { readonly page: number; readonly perPage: number } | { readonly limit: number; readonly offset: number }): { readonly path: string; readonly rule: string; readonly value: unknown; readonly message: string }[] => {
  const from = (path: string, v: number, low: number) =>
    Number.isSafeInteger(v) && v >= low ? [] : [{ path, rule: low === 1 ? 'positiveInteger' : 'nonNegativeInteger', value: v, message: `${path} must be a whole number from ${low}, got ${typeof v === 'string' ? `${JSON.stringify(v)} (text, not a number)` : String(v)}` }]
  return 'page' in spec ? [...from('page', spec.page, 1), ...from('perPage', spec.perPage, 1)] : [...from('limit', spec.limit, 1), ...from('offset', spec.offset, 0)]
}

/**
 * Page `page` (1-based) of `perPage` rows: LIMIT and OFFSET through the dialect's `limitOffset`.
 * A page or page size that is not a whole number from 1 throws a ValidationError naming it.
 * @example paginate({ page: 3, perPage: 25 })
 */
export const paginate = ({ page, perPage }: { readonly page: number; readonly perPage: number }) => {
  // Refused here, as the models' `paginate` refuses them: a page of 1.5 or 0 is a mistake to
  // report, not a page to guess (LIMIT 2 OFFSET 1, or the first page).
  const issues = pageIssues({ page, perPage })
  if (issues.length > 0) throw dbError('ValidationError', `paginate: ${issues.map((i) => i.message).join('; ')}`, { issues })
  return <Q extends SelectLike>(q: Q): Q => patchQuery(q, { limit: perPage, offset: (page - 1) * perPage })
}

// ---------------------------------------------------------------- INSERT / UPDATE / DELETE

/**
 * Start an INSERT.
 * @example pipe(insertInto('users'), values({ name: 'Ada' }), returning('id'))
 */
export const insertInto = <R = Row>(t: string | TableRef): Insert<R> =>
  ({ kind: 'insert' as const, table: typeof t === 'string' ? table(t) : t, columns: [], rows: [] })

/**
 * Rows to insert: one object or an array. Columns are the union of the keys (in first-seen
 * order); a key missing from a row means DEFAULT; `undefined` values count as missing.
 * Four rows or more of plain values with the same keys in the same order (a bulk insert) are
 * kept as one array per column, not a node per cell (see src/value-columns.ts); the node reads
 * the same.
 * @example values([{ name: 'Ada' }, { name: 'Grace' }])
 */
export const values = (rows: Readonly<Record<string, unknown>> | readonly Readonly<Record<string, unknown>>[]) => <Q extends InsertNode>(q: Q): Q => {
  const list = Array.isArray(rows) ? rows : [rows as Record<string, unknown>]
  return plainValues(q, list) ?? nodeValues(q, list)
}

/**
 * The fewest rows `values` keeps as columns: below it, a node per cell costs less than the
 * arrays and the lazily read `rows` (bench/.tmp/ab: 1 row 6.8 µs as nodes against 8.9 µs as
 * columns, built and compiled; 8 rows 18 µs against 9 µs).
 */
const PLAIN_FROM = 4

/**
 * `values` of rows that all have the keys of the first, in its order, each a plain value (not
 * undefined, not an expression): kept as one array per column (see src/value-columns.ts), not a
 * node per cell. Undefined for any other rows, fewer than `PLAIN_FROM`, and for an insert that
 * has rows already.
 */
const plainValues = <Q extends InsertNode>(q: Q, list: readonly Readonly<Record<string, unknown>>[]): Q | undefined => {
  const count = list.length
  if (count < PLAIN_FROM || q.columns.length > 0 || q.rows.length > 0 || q.query !== undefined) return undefined
  const first = list[0]
  const columns: string[] = []
  // The first row's cells are looked at before any array is made: the rows of a prepared insert
  // (`param()` in every row) are given up at once.
  for (const k in first) {
    const v = first[k]
    if (v === undefined || (typeof v === 'object' && v !== null && isExpr(v))) return undefined
    columns.push(k)
  }
  const width = columns.length
  if (width === 0) return undefined
  const cells: unknown[][] = new Array(width)
  for (let j = 0; j < width; j++) cells[j] = new Array(count)
  for (let i = 0; i < count; i++) {
    const r = list[i]
    let j = 0
    // The keys read in the row's own order: the same keys in the same order as the first row's.
    for (const k in r) {
      if (j === width || k !== columns[j]) return undefined
      const v = r[k]
      if (v === undefined || (typeof v === 'object' && v !== null && isExpr(v))) return undefined
      cells[j++][i] = v
    }
    if (j !== width) return undefined
  }
  return withFields(q, { columns, rows: valueRows(columns, cells, count, val) })
}

/** `values` of any rows: a node per cell, DEFAULT for a missing key. */
const nodeValues = <Q extends InsertNode>(q: Q, list: readonly Readonly<Record<string, unknown>>[]): Q => {
  const columns = [...q.columns]
  const seen = new Set(columns)
  for (const r of list) for (const k in r) if (r[k] !== undefined && !seen.has(k)) { seen.add(k); columns.push(k) }
  const widen = (cells: readonly Expr[]) => cells.length === columns.length ? cells : [...cells, ...Array(columns.length - cells.length).fill(DEFAULT)]
  const rowsOut: (readonly Expr[])[] = q.rows.map(widen)
  for (let i = 0; i < list.length; i++) {
    const r = list[i]
    const cells = new Array<Expr>(columns.length)
    for (let j = 0; j < columns.length; j++) {
      const v = r[columns[j]]
      cells[j] = v === undefined ? DEFAULT : toValue(v)
    }
    rowsOut.push(cells)
  }
  return withFields(q, { columns, rows: rowsOut })
}

/**
 * Rows to insert from a query: `INSERT INTO t (columns) SELECT ...`. Without columns, the
 * query's columns fill the table's in order.
 * @example pipe(insertInto('archive'), fromSelect(['id', 'name'], pipe(from('users'), select('id', 'name'), where({ active: false }))))
 */
export const fromSelect = (columns: readonly string[], query: SelectLike) => <Q extends InsertNode>(q: Q): Q =>
  withFields(q, { columns, rows: [], query })

/**
 * Upsert: on a conflict over `target`, do nothing (`'nothing'`) or update the given columns.
 * Column values may reference the proposed row with `excluded(col)`; a list of column names
 * means "take each from the proposed row".
 * @example onConflict(['email'], ['name'])                          // name = proposed name
 * @example onConflict(['email'], { visits: add('visits', val(1)) }) // visits = visits + 1
 * @example onConflict(['email'], 'nothing')
 * @example onConflict({ constraint: 'users_email_key' }, 'nothing')            // PostgreSQL
 * @example onConflict(['email'], 'nothing', { targetWhere: isNull('deleted_at') }) // a partial unique index
 */
export const onConflict = (
  target: readonly string[] | { readonly constraint: string },
  action: 'nothing' | readonly string[] | Readonly<Record<string, unknown>>,
  options?: {
    /** A condition on the update (PostgreSQL and SQLite). */
    readonly where?: Expr | Fragment | Record<string, unknown>
    /** The predicate of a partial unique index the target names: `ON CONFLICT (cols) WHERE ...`. */
    readonly targetWhere?: Expr | Fragment | Record<string, unknown>
  },
) => {
  // 'nothing' in any case; another string (or none) is a mistake: a string's characters were
  // taken as assignments ("0" = 'N', "1" = 'O', ...).
  const nothing = typeof action === 'string' && action.toLowerCase() === 'nothing'
  if (!nothing && (typeof action !== 'object' || action === null)) {
    throw dbError('ValidationError', `onConflict: the action must be 'nothing', a list of columns or an object of assignments, got ${typeof action === 'string' ? JSON.stringify(action) : String(action)}`, {
      issues: [{ path: 'action', rule: 'onConflictAction', value: action, message: "not 'nothing', a list of columns or assignments" }],
    })
  }
  // As in set(), an assignment whose value is undefined is left out (it was written as = NULL).
  const update: OnConflict['update'] = nothing
    ? null
    : Array.isArray(action)
      ? (action as readonly string[]).map((c) => [c, excluded(c)] as const)
      : Object.entries(action as Record<string, unknown>).filter(([, v]) => v !== undefined).map(([c, v]) => [c, toValue(v)] as const)
  return <Q extends InsertNode>(q: Q): Q => conflicting(q, target, update, options)
}

const conflicting = <Q extends InsertNode>(
  q: Q,
  target: readonly string[] | { readonly constraint: string },
  update: OnConflict['update'],
  options: { readonly where?: Expr | Fragment | Record<string, unknown>; readonly targetWhere?: Expr | Fragment | Record<string, unknown> } | undefined,
): Q => {
  const where = options?.where === undefined ? undefined : toCondition(options.where)
  const targetWhere = options?.targetWhere === undefined ? undefined : toCondition(options.targetWhere)
  const columns = Array.isArray(target) ? target as readonly string[] : []
  const constraint = Array.isArray(target) ? undefined : (target as { readonly constraint: string }).constraint
  return withFields(q, { onConflict: { target: columns, update, where, ...(constraint === undefined ? {} : { constraint }), ...(targetWhere === undefined ? {} : { targetWhere }) } })
}

/**
 * `RETURNING` for INSERT, UPDATE and DELETE (rendered only where the dialect has it).
 * @example pipe(deleteFrom('users'), where({ id: 1 }), returning('*'))
 */
export const returning = <R = Row>(...cols: readonly SelectArg[]) => <Q extends InsertNode | UpdateNode | DeleteNode>(q: Q): Q & { readonly __row?: R } =>
  withFields(q, { returning: [...(q.returning ?? []), ...selections(cols)] }) as Q

/**
 * Start an UPDATE.
 * @example pipe(update('users'), set({ name: 'Ada' }), where({ id: 1 }))
 */
export const update = <R = Row>(t: string | TableRef): Update<R> =>
  ({ kind: 'update' as const, table: typeof t === 'string' ? table(t) : t, set: [] })

/**
 * Assignments for an UPDATE; values may be expressions (`add('n', val(1))`).
 * @example set({ visits: add('visits', val(1)), seen_at: new Date() })
 */
export const set = (assignments: Readonly<Record<string, unknown>>) => <Q extends UpdateNode>(q: Q): Q =>
  ({
    ...q,
    set: [...q.set, ...Object.entries(assignments).filter(([, v]) => v !== undefined).map(([c, v]) => [c, toValue(v)] as const)],
  })

/**
 * Start a DELETE.
 * @example pipe(deleteFrom('users'), where({ id: 1 }))
 */
export const deleteFrom = <R = Row>(t: string | TableRef): Delete<R> =>
  ({ kind: 'delete' as const, table: typeof t === 'string' ? table(t) : t })

/** True for a query node (as opposed to a raw fragment). */
export const isQueryNode = (u: unknown): u is QueryNode =>
  typeof u === 'object' && u !== null && typeof (u as { kind?: unknown }).kind === 'string'
