/**
 * Typed model queries: immutable values built with pipeable, model-bound functions.
 *
 * ```ts
 * pipe(User.query, User.where('country', '=', 'Brazil'), User.orderBy('lastName'), User.limit(10), User.all(db))
 * ```
 *
 * Field names and value types are checked against the model's codec: a wrong field or a
 * value of the wrong type does not compile. A model query compiles to the query data of
 * `src/ast.ts` (`toSelect`), so dialect overrides (`limitOffset`, quoting, ...) apply to it.
 */
import type { CteNode, Expr, LockClause, OrderItem, Selection, SelectLike, SelectNode } from '../ast.js'
import {
  and, as, between, eq, exprNode, fn, from, gt, gte, ilike, isExpr, isIn, isNotNull, isNull, like, lit, lt, lte, ne, not, notIn, notLike, or, orderWord, raw,
  patchSelect, undefinedInWhere, val,
} from '../query.js'
import { dbError, type DbError, toDbError } from '../errors.js'
import { isFragment, sql, type Fragment } from '../sql.js'
import { contains, endsWith, likeLiteral, startsWith } from '../query/text.js'
import type { QueryOptions } from './behaviours.js'
import type { Agg } from './grouping.js'
import { allOf, encodeField, type ModelCore } from './core.js'
import { show } from './decode.js'
import { withFields } from '../objects.js'
import type * as t from 'io-ts'
import { comparedExpr, comparedValue } from './decimal-compare.js'

/**
 * A query over one model. `R` is the model's row, `S` the selected row (`R` unless `select`
 * narrowed it), `T` the relations to load (a tree of relation names).
 */
export interface ModelQuery<R, S = R, T = {}> {
  readonly _tag: 'ModelQuery'
  readonly core: ModelCore
  readonly where?: Expr
  readonly order: readonly OrderItem[]
  readonly limit?: number
  readonly offset?: number
  /** The selected fields; every field when absent. */
  readonly fields?: readonly string[]
  readonly includes: readonly IncludeSpec[]
  /** Switches read by default scopes (`withDeleted`). */
  readonly options: QueryOptions
  /** Default scopes off (`unscoped`). */
  readonly unscoped?: boolean
  /**
   * Why the query cannot run (a field or operator that does not exist, reachable only around
   * the types): every terminal returns it as a Left instead of running.
   */
  readonly error?: DbError
  /** Expressions read with the rows, each decoded with its own codec (`withCount`, `computed`). */
  readonly computed?: readonly Computed[]
  /** `SELECT DISTINCT`: each selected row once (`distinct`). */
  readonly distinct?: boolean
  /** The fields `groupBy` groups by (read by `aggregate`). */
  readonly group?: readonly string[]
  /** Conditions on the groups' aggregates (`having`), ANDed. */
  readonly having?: readonly HavingItem[]
  /** Common table expressions the statement starts with (`Model.with`). */
  readonly ctes?: readonly CteNode[]
  /** Whether they are `WITH RECURSIVE` (`Model.withRecursive`). */
  readonly recursive?: boolean
  /** A CTE the rows are read from instead of the table (`Model.fromCte`), under the table's name. */
  readonly source?: string
  /** Row locks the read takes (`forUpdate`, `forShare`). */
  readonly lock?: LockClause
  readonly __row?: (r: R) => R
  readonly __selected?: S
  readonly __tree?: T
}

/** One condition of `having`: an aggregate compared with a value. */
export interface HavingItem {
  readonly agg: Agg<unknown>
  readonly op: CompareOp
  readonly value: unknown
}

/** A selected expression added to each row under `name`, decoded by `decode` (which throws a DbError). */
export interface Computed {
  readonly name: string
  readonly expr: Expr
  readonly decode: (value: unknown) => unknown
  /** The codec its values are read with, where known: decimal text compared with it is compared as a number. */
  readonly codec?: t.Any
}

/**
 * True for a model query.
 * @example isModelQuery(User.query) // true
 */
export const isModelQuery = (u: unknown): u is ModelQuery<any, any, any> =>
  typeof u === 'object' && u !== null && (u as { _tag?: unknown })._tag === 'ModelQuery'

/**
 * A subquery as query data: a model query must read exactly one field (`select`); a SELECT
 * (or set operation) is used as it is.
 *
 * @example subqueryOf(pipe(Post.query, Post.where('published', true), Post.select('userId'))) // SELECT user_id FROM posts WHERE ...
 */
export const subqueryOf = (u: unknown, columns: 'one' | 'any' = 'one'): SelectLike => {
  if (isModelQuery(u)) {
    if (u.error !== undefined) throw u.error
    if (columns === 'any') return toSelect(u)
    if (u.fields?.length !== 1) throw dbError('QueryError', `${u.core.table}: a model query used as a subquery must select exactly one field`)
    return { ...toSelect(u), columns: [{ expr: u.core.column(u.fields[0]) }] }
  }
  const k = (u as { kind?: unknown } | null)?.kind
  if (k === 'select' || k === 'compound') return u as SelectLike
  throw dbError('QueryError', 'expected a model query or a SELECT as a subquery')
}

const isSubquery = (u: unknown): boolean => {
  if (isModelQuery(u)) return true
  const k = (u as { kind?: unknown } | null)?.kind
  return !Array.isArray(u) && (k === 'select' || k === 'compound')
}

/** A relation to load with a query: a path of relation names and an optional modifier for its last step. */
export interface IncludeSpec {
  readonly path: readonly string[]
  readonly modify?: (q: ModelQuery<any, any, any>, model: any) => ModelQuery<any, any, any>
}

/** A query transform that keeps the query's type. */
export type Transform<R> = <S, T>(q: ModelQuery<R, S, T>) => ModelQuery<R, S, T>

/** A condition over a model's fields, made with `Model.cond`, `Model.and`, `Model.or`, `Model.not`. */
export interface Condition<R> {
  readonly _tag: 'Condition'
  readonly expr: Expr
  /** Why the condition cannot be built; a query using it fails with this. */
  readonly error?: DbError
  readonly __row?: (r: R) => R
}

/** Field/value pairs: `null` means IS NULL, an array means IN, anything else `=`. */
export type Match<R> = { readonly [K in keyof R]?: R[K] | readonly R[K][] }

/**
 * What `where` and `findBy` accept besides a field/operator/value triple: a condition, field /
 * value pairs, or a query-language expression or `sql` fragment (columns by `Model.column(field)`).
 *
 * @example pipe(Issue.query, Issue.where(eq(jsonText(Issue.column('customFields'), 'severity'), 'high')), Issue.all(db))
 */
export type WhereInput<R> = Condition<R> | Match<R> | Expr | Fragment

export type CompareOp = '=' | '<>' | '!=' | '<' | '<=' | '>' | '>='
/** LIKE patterns as written, or user text matched literally (`contains`, `starts with`, `ends with`: see `recordkit/query`'s `contains`). */
export type TextOp = 'like' | 'not like' | 'ilike' | 'not ilike' | 'contains' | 'starts with' | 'ends with' | 'icontains' | 'istarts with' | 'iends with'

/** The typed forms of a condition, ending in `Out` (a condition or a query transform). */
export interface ConditionFn<R, Out> {
  /** `field op value`; `= null` / `<> null` become IS NULL / IS NOT NULL. */
  <K extends keyof R & string>(field: K, op: CompareOp, value: R[K]): Out
  <K extends keyof R & string>(field: K, op: TextOp, pattern: string): Out
  <K extends keyof R & string>(field: K, op: 'in' | 'not in', values: readonly R[K][]): Out
  /** `field IN (subquery)`: a model query selecting one field of the same type, or a SELECT. */
  <K extends keyof R & string>(field: K, op: 'in' | 'not in', subquery: ModelQuery<any, { readonly [F in string]: R[K] }, any> | SelectLike): Out
  <K extends keyof R & string>(field: K, op: 'between' | 'not between', low: R[K], high: R[K]): Out
  <K extends keyof R & string>(field: K, op: 'is null' | 'is not null'): Out
  (condition: WhereInput<R>): Out
}

/** The query functions of a model, also given to `scopes`. */
export interface QueryKit<R> {
  /** Keep rows that match (AND with earlier conditions). */
  readonly where: ConditionFn<R, Transform<R>>
  /** Keep rows that match this or the earlier conditions. */
  readonly orWhere: ConditionFn<R, Transform<R>>
  /** A condition to combine with `and`, `or`, `not`. */
  readonly cond: ConditionFn<R, Condition<R>>
  readonly and: (...conditions: readonly WhereInput<R>[]) => Condition<R>
  readonly or: (...conditions: readonly WhereInput<R>[]) => Condition<R>
  readonly not: (condition: WhereInput<R>) => Condition<R>
  /**
   * Two fields of the same row compared (Django's `F`): `left op right`, with `=`, `<>`, `<`,
   * `<=`, `>`, `>=`. A row where either is NULL does not match (nor does it match the `not`).
   * @example pipe(Item.query, Item.where(Item.compareFields('score', '>', 'bonus')), Item.all(db))
   */
  readonly compareFields: <K extends keyof R & string>(left: K, op: CompareOp, right: keyof R & string) => Condition<R>
  /** Raw SQL as a condition (reference columns with `Model.column(field)`). */
  readonly raw: (sql: Fragment) => Condition<R>
  /**
   * ORDER BY a field, ascending unless `direction` says 'desc'. The words are read in any case
   * ('DESC', 'First'); any other word is a ValidationError naming it.
   */
  readonly orderBy: <K extends keyof R & string>(field: K, direction?: 'asc' | 'desc', nulls?: 'first' | 'last') => Transform<R>
  /**
   * ORDER BY this field instead of the order given so far (Rails' `reorder`).
   * @example pipe(Post.query, Post.scopes.newestFirst, Post.reorder('title'), Post.all(db))
   */
  readonly reorder: <K extends keyof R & string>(field: K, direction?: 'asc' | 'desc', nulls?: 'first' | 'last') => Transform<R>
  /**
   * The order reversed, each direction and NULLS placement (Rails' `reverse_order`); without an
   * order, the primary key's, descending. An order given as raw SQL without a direction cannot be
   * reversed: the query fails with a QueryError.
   * @example pipe(Post.query, Post.orderBy('createdAt'), Post.reverseOrder, Post.all(db)) // newest first
   */
  readonly reverseOrder: Transform<R>
  /**
   * Keep no row (Rails' `none`): `1 = 0` ANDed with the conditions, so that every terminal reads
   * an empty result; a later `orWhere` still adds rows.
   * @example pipe(Post.query, input.ids.length === 0 ? Post.none : Post.where('id', 'in', input.ids), Post.all(db))
   */
  readonly none: Transform<R>
  readonly limit: (n: number) => Transform<R>
  readonly offset: (n: number) => Transform<R>
  /**
   * The rows whose field holds one of `values`, ordered as the values are listed (Rails'
   * `in_order_of`): `field IN (...)` ANDed with the conditions, and `CASE WHEN field = v1 THEN 0
   * WHEN field = v2 THEN 1 ... END` after the order so far. `null` among the values stands for a
   * NULL field. With `{ filter: false }` no row is left out: those holding none of the values come
   * last. Values are encoded by the field's codec; `undefined` is a ValidationError naming the field.
   * @example pipe(Post.query, Post.inOrderOf('status', ['draft', 'review', 'published']), Post.orderBy('id'), Post.all(db))
   */
  readonly inOrderOf: <K extends keyof R & string>(field: K, values: readonly R[K][], options?: { readonly filter?: boolean }) => Transform<R>
  /**
   * `FOR UPDATE`: the rows read are locked against writes and other locks until the transaction
   * ends (Rails' `lock`, Django's `select_for_update`, Laravel's `lockForUpdate`); `nowait` fails
   * at once on a locked row (a LockTimeout), `skipLocked` leaves locked rows out (a job queue).
   * Run it in `db.transaction`. SQLite has no row locks: an UnsupportedFeature naming it.
   * @example db.transaction((tx) => pipe(Job.query, Job.where({ state: 'ready' }), Job.forUpdate({ skipLocked: true }), Job.first(tx)))
   */
  readonly forUpdate: (options?: { readonly nowait?: boolean; readonly skipLocked?: boolean }) => Transform<R>
  /**
   * `FOR SHARE` (`LOCK IN SHARE MODE` on MariaDB): the rows read are locked against writes until
   * the transaction ends (Rails' `lock('FOR SHARE')`, Laravel's `sharedLock`); options as `forUpdate`.
   * @example db.transaction((tx) => pipe(Account.query, Account.where({ id }), Account.forShare(), Account.firstOrFail(tx)))
   */
  readonly forShare: (options?: { readonly nowait?: boolean; readonly skipLocked?: boolean }) => Transform<R>
  /** Apply transforms left to right, as one transform (scopes that do several things). */
  readonly compose: (...steps: readonly Transform<R>[]) => Transform<R>
}

const COMPARE: Readonly<Record<string, (l: Expr, r: unknown) => Expr>> = {
  '=': eq, '<>': ne, '!=': ne, '<': lt, '<=': lte, '>': gt, '>=': gte,
  like, 'not like': notLike, ilike, 'not ilike': (l, r) => not(ilike(l, r)),
}

/** The condition no row meets (`none`). */
const NO_ROW: Expr = raw(sql`1 = 0`)

const ORDER_DIRECTIONS = ['asc', 'desc'] as const
const NULLS_ORDERS = ['first', 'last'] as const

/** The operators matching user text literally (a LIKE with the text escaped, see src/query/text.ts). */
const LITERAL: Readonly<Record<string, (l: Expr, text: string) => Expr>> = {
  contains,
  'starts with': startsWith,
  'ends with': endsWith,
  icontains: (l, text) => lowerLike(l, `%${likeLiteral(text)}%`),
  'istarts with': (l, text) => lowerLike(l, `${likeLiteral(text)}%`),
  'iends with': (l, text) => lowerLike(l, `%${likeLiteral(text)}`),
}

/**
 * `LOWER(l) LIKE LOWER(pattern) ESCAPE '!'`: both sides lowered by the engine itself, so the
 * case rule is the engine's LOWER (every letter on PostgreSQL and MariaDB, ASCII on SQLite).
 */
const lowerLike = (l: Expr, pattern: string): Expr => raw(sql`${fn('lower', l)} LIKE LOWER(${pattern}) ESCAPE '!'`)

/**
 * The transform of `orderBy` / `reorder`: ORDER BY a field's column or, for a name that is no
 * field, the expression of the query's computed column of that name (`withCount`'s
 * `ordersCount`, `computed`), never its alias, so that it holds in the subqueries `count` and
 * `paginate` wrap the query in. A name that is neither fails the query (QueryError).
 */
const ordering = <R>(
  core: ModelCore, field: string, direction: string | undefined, nulls: string | undefined,
  put: (q: ModelQuery<any, any, any>, item: OrderItem) => readonly OrderItem[],
): Transform<R> => transform(() => {
  // 'DESC' is 'desc' (any case, as the query builder takes it); any other word is refused.
  const d = orderWord('direction', direction, ORDER_DIRECTIONS) ?? 'asc'
  const n = orderWord('nulls', nulls, NULLS_ORDERS)
  if (core.byName.has(field)) {
    const c = core.column(field)
    return (q) => Object.freeze(withFields(q, { order: put(q, { expr: c, direction: d, nulls: n }) }))
  }
  return (q) => {
    const computed = q.computed?.find((x) => x.name === field)
    if (computed === undefined) return failed(q, dbError('QueryError', `${core.table} has no field "${field}"`))
    return Object.freeze(withFields(q, { order: put(q, { expr: computed.expr, direction: d, nulls: n }) }))
  }
})

/**
 * The order of a query given none (`first`, `last`, `reverseOrder`): the primary key; for a
 * `distinct` query selecting fields without the whole key, those fields (PostgreSQL refuses to
 * order DISTINCT rows by a column they do not hold, and the key would not order them anyway).
 *
 * @example defaultOrder(pipe(Item.query, Item.select('kind'), Item.distinct), 'desc') // kind DESC
 */
export const defaultOrder = (q: ModelQuery<any, any, any>, direction: 'asc' | 'desc'): OrderItem[] => {
  const core = q.core
  const keyless = q.distinct === true && q.fields !== undefined && core.primaryKey.some((f) => !q.fields!.includes(f.name))
  const names = keyless ? q.fields! : core.primaryKey.map((f) => f.name)
  return names.map((n) => ({ expr: core.column(n), direction }))
}

/**
 * The order of a query reversed: each direction and NULLS placement; without an order, its
 * default order (`defaultOrder`) descending. A raw order without a direction cannot be (QueryError).
 *
 * @example reversed(pipe(Post.query, Post.orderBy('createdAt'))) // createdAt DESC
 */
export const reversed = (q: ModelQuery<any, any, any>): OrderItem[] => {
  const core = q.core
  if (q.order.length === 0) return defaultOrder(q, 'desc')
  return q.order.map((o) => {
    if (o.direction === undefined) throw dbError('QueryError', `${core.table}: an order given without a direction cannot be reversed`)
    return { expr: o.expr, direction: o.direction === 'desc' ? 'asc' : 'desc', nulls: o.nulls === undefined ? undefined : o.nulls === 'first' ? 'last' : 'first' }
  })
}

/** Build the expression of a `(field, op, value)` condition, with values encoded by the field codec. */
const fieldCondition = (core: ModelCore, field: string, op: string, a: unknown, b: unknown): Expr => {
  const f = core.byName.get(field)
  if (f === undefined) throw dbError('QueryError', `${core.table} has no field "${field}"`)
  const c = core.column(field)
  const enc = (v: unknown, what: string = op) => {
    if (v === undefined) throw undefinedValue(core, field, what)
    try {
      return val(encodeField(f, v))
    } catch (e) {
      // A codec that cannot encode the value (a union none of whose members takes it).
      const message = `${core.table}.${field}: cannot compare with ${show(v)} (${f.codec.name}): ${e instanceof Error ? e.message : String(e)}`
      throw dbError('ValidationError', message, { issues: [{ path: field, rule: f.codec.name, value: v, message }] })
    }
  }
  switch (op) {
    case 'is null': return isNull(c)
    case 'is not null': return isNotNull(c)
    case 'in':
    case 'not in': {
      if (isSubquery(a)) return (op === 'in' ? isIn : notIn)(c, subqueryOf(a))
      if (!Array.isArray(a)) throw badOperand(core, field, op, a, 'takes an array of values or a subquery')
      return (op === 'in' ? isIn : notIn)(c, a.map((v: unknown, i) => enc(v, `${op} (item ${i})`)))
    }
    case 'between':
    case 'not between': {
      // where(field, 'between', low, high): both bounds, neither undefined (not [low, high]).
      if (Array.isArray(a) && b === undefined) throw badOperand(core, field, op, a, "takes two bounds, low and high, as two arguments: where(field, 'between', low, high)")
      const range = between(c, enc(a, `${op} (low bound)`), enc(b, `${op} (high bound)`))
      return op === 'between' ? range : not(range)
    }
  }
  if (a === undefined) throw undefinedValue(core, field, op)
  if (a === null && op === '=') return isNull(c)
  if (a === null && (op === '<>' || op === '!=')) return isNotNull(c)
  if (a === null && COMPARE[op] !== undefined) throw nullValue(core, field, op)
  const literal = LITERAL[op]
  if (literal !== undefined) {
    if (typeof a !== 'string') throw dbError('ValidationError', `${core.table}.${field} ${op}: the text must be a string, got ${show(a)}`, { issues: [{ path: field, rule: 'string', value: a, message: `${op} takes a string` }] })
    return literal(c, a)
  }
  const build = COMPARE[op]
  if (build === undefined) throw dbError('QueryError', `unknown operator ${JSON.stringify(op)}`)
  return build(c, op.includes('like') ? val(a) : enc(a))
}

/**
 * A `(name, op, value)` condition on a column the query computes (`withCount`'s `booksCount`,
 * `computed`), as Django filters on an annotation: built once the query is known, over the
 * column's expression (a correlated subquery), its value bound as it is given. Undefined when
 * `name` is a field of the model (or the condition is not of that form).
 */
const onComputed = (core: ModelCore, args: readonly unknown[]): ((q: ModelQuery<any, any, any>) => Expr) | undefined => {
  const [name, op, a, b] = args
  if (args.length < 2 || typeof name !== 'string' || typeof op !== 'string' || core.byName.has(name)) return undefined
  return (q) => {
    const computed = q.computed?.find((c) => c.name === name)
    if (computed === undefined) throw dbError('QueryError', `${core.table} has no field "${name}"`)
    const e = comparedExpr(computed.codec, computed.expr)
    const value = (v: unknown, what: string) => {
      if (v === undefined) throw undefinedValue(core, name, what)
      return comparedValue(computed.codec, v)
    }
    switch (op) {
      case 'is null': return isNull(e)
      case 'is not null': return isNotNull(e)
      case 'in':
      case 'not in':
        if (!Array.isArray(a)) throw badOperand(core, name, op, a, 'takes an array of values')
        return (op === 'in' ? isIn : notIn)(e, a.map((v: unknown, i) => value(v, `${op} (item ${i})`)))
      case 'between':
      case 'not between': {
        const range = between(e, value(a, `${op} (low bound)`), value(b, `${op} (high bound)`))
        return op === 'between' ? range : not(range)
      }
    }
    const build = COMPARE[op]
    if (build === undefined || op.includes('like')) throw dbError('QueryError', `${core.table}.${name}: a computed column takes =, <>, <, <=, >, >=, in, between or is null, got ${JSON.stringify(op)}`)
    // `= null` is IS NULL and `<> null` IS NOT NULL; `> null` matched every non-NULL row here, as IS NOT NULL.
    if (a === null) {
      if (op === '=') return isNull(e)
      if (op === '<>' || op === '!=') return isNotNull(e)
      throw nullValue(core, name, op)
    }
    return build(e, value(a, op))
  }
}

/**
 * The ValidationError of a condition on `field` given `undefined` (a missing input): never bound
 * as NULL, which matches no row (`= NULL`, `<> NULL`, `NOT IN (..., NULL)`). `what` names the
 * operator, and the item or bound.
 */
const undefinedValue = (core: ModelCore, field: string, what: string): DbError =>
  dbError('ValidationError', `${core.table}.${field} ${what}: the value is undefined (pass null for a NULL value, or use 'is null' / 'is not null')`, {
    issues: [{ path: field, rule: 'defined', value: undefined, message: `the value of ${field} ${what} is undefined` }],
  })

/**
 * The ValidationError of an ordering or LIKE condition on `field` given null: `> NULL` matches no
 * row (`=` and `<>` with null are IS NULL and IS NOT NULL; Django refuses None here too).
 */
const nullValue = (core: ModelCore, field: string, op: string): DbError =>
  dbError('ValidationError', `${core.table}.${field} ${op}: the value is null, and ${op} NULL matches no row (use 'is null' / 'is not null', or leave the condition out)`, {
    issues: [{ path: field, rule: 'notNull', value: null, message: `${field} ${op} null matches no row` }],
  })

/** The ValidationError of an operator given a value of the wrong form (`in` given no array). */
const badOperand = (core: ModelCore, field: string, op: string, value: unknown, what: string): DbError =>
  dbError('ValidationError', `${core.table}.${field} ${op} ${what}, got ${show(value)}`, {
    issues: [{ path: field, rule: op, value, message: `${op} ${what}` }],
  })

/**
 * A `Match` object to a condition over qualified columns. A field given as `undefined` is
 * refused (ValidationError), never left out: `{ email: input.email }` with no email must not
 * match every row, least of all in `updateWhere` and `deleteWhere`. `null` means IS NULL.
 */
const matchCondition = (core: ModelCore, m: Readonly<Record<string, unknown>>): Expr => {
  const items: Expr[] = []
  for (const k of Object.keys(m)) {
    const v = m[k]
    if (v === undefined) throw undefinedInWhere(core.table, k)
    items.push(fieldCondition(core, k, Array.isArray(v) ? 'in' : '=', v, undefined))
  }
  return allOf(items) ?? and()
}

const isCondition = (u: unknown): u is Condition<unknown> => typeof u === 'object' && u !== null && (u as Condition<unknown>)._tag === 'Condition'

/** The expression of anything `where` accepts. */
export const conditionOf = (core: ModelCore, args: readonly unknown[]): Expr => {
  if (args.length === 1) {
    const c = args[0]
    if (isCondition(c)) {
      if (c.error !== undefined) throw c.error
      return c.expr
    }
    if (isFragment(c)) return raw(c)
    if (isExpr(c)) return c as Expr
    return matchCondition(core, c as Record<string, unknown>)
  }
  return fieldCondition(core, args[0] as string, args[1] as string, args[2], args[3])
}

const condition = <R>(build: () => Expr): Condition<R> => {
  try {
    return Object.freeze({ _tag: 'Condition', expr: build() })
  } catch (e) {
    return Object.freeze({ _tag: 'Condition', expr: and(), error: toDbError(e) })
  }
}

/** The query, failed with `e` (the first failure is kept). */
export const failed = <Q extends ModelQuery<any, any, any>>(q: Q, e: unknown): Q =>
  q.error !== undefined ? q : Object.freeze(withFields(q, { error: toDbError(e) }))

/** A transform built from its arguments; when they are invalid, one that fails the query. */
const transform = <R>(build: () => (q: ModelQuery<any, any, any>) => ModelQuery<any, any, any>): Transform<R> => {
  try {
    return build() as Transform<R>
  } catch (e) {
    return ((q: ModelQuery<any, any, any>) => failed(q, e)) as Transform<R>
  }
}

/**
 * The query functions of a model, bound to its runtime description (every model has them;
 * `scopes` receive them).
 *
 * @example
 * const kit = queryKit<UserRow>(User.core)
 * pipe(User.query, kit.where('active', '=', true))
 */
export const queryKit = <R>(core: ModelCore): QueryKit<R> => {
  /** `where` / `orWhere`: join the condition to the query's with `join`. */
  const adding = (join: (l: Expr, r: Expr) => Expr) => ((...args: unknown[]) => transform(() => {
    const put = (q: ModelQuery<any, any, any>, c: Expr) => Object.freeze(withFields(q, { where: q.where === undefined ? c : join(q.where, c) }))
    const later = onComputed(core, args)
    if (later !== undefined) {
      return (q) => {
        try {
          return put(q, later(q))
        } catch (e) {
          return failed(q, e)
        }
      }
    }
    const c = conditionOf(core, args)
    return (q) => put(q, c)
  })) as unknown as ConditionFn<R, Transform<R>>
  const where = adding(and)
  const orWhere = adding(or)
  const list = (items: readonly WhereInput<R>[]) => items.map((i) => conditionOf(core, [i]))
  return Object.freeze({
    where,
    orWhere,
    cond: ((...args: unknown[]) => condition(() => conditionOf(core, args))) as unknown as ConditionFn<R, Condition<R>>,
    and: (...items) => condition(() => and(...list(items))),
    or: (...items) => condition(() => or(...list(items))),
    not: (c) => condition(() => not(conditionOf(core, [c]))),
    compareFields: (l, op, r) => condition(() => {
      for (const f of [l, r]) if (!core.byName.has(f)) throw dbError('QueryError', `${core.table} has no field "${f}"`)
      const build = COMPARE[op]
      if (build === undefined || op.includes('like')) throw dbError('QueryError', `${core.table}: compareFields takes =, <>, <, <=, > or >=, got ${JSON.stringify(op)}`)
      return build(core.column(l), core.column(r))
    }),
    raw: (f) => condition(() => raw(f)),
    orderBy: (field, direction, nulls) => ordering(core, field, direction, nulls, (q, item) => [...q.order, item]),
    reorder: (field, direction, nulls) => ordering(core, field, direction, nulls, (_, item) => [item]),
    reverseOrder: ((q: ModelQuery<any, any, any>) => {
      try {
        return Object.freeze(withFields(q, { order: reversed(q) }))
      } catch (e) {
        return failed(q, e)
      }
    }) as Transform<R>,
    none: ((q: ModelQuery<any, any, any>) => Object.freeze(withFields(q, { where: q.where === undefined ? NO_ROW : and(q.where, NO_ROW) }))) as Transform<R>,
    limit: (n) => (q) => Object.freeze(withFields(q, { limit: n })),
    offset: (n) => (q) => Object.freeze(withFields(q, { offset: n })),
    inOrderOf: (field, values, options) => transform(() => {
      if (!core.byName.has(field)) throw dbError('QueryError', `${core.table} has no field "${field}"`)
      if (!Array.isArray(values)) throw badOperand(core, field, 'inOrderOf', values, 'takes an array of values')
      // Literal positions, not parameters: PostgreSQL cannot type a CASE of parameters alone.
      const whens = values.map((v: unknown, i) => ({ when: fieldCondition(core, field, '=', v, undefined), then: lit(i) }))
      const order: OrderItem[] = whens.length === 0 ? [] : [{ expr: exprNode({ kind: 'case', whens, else: lit(values.length) }), direction: 'asc' }]
      let keep: Expr | undefined
      if (options?.filter !== false) {
        const given = values.filter((v: unknown) => v !== null)
        const parts = [...(given.length > 0 || values.length === 0 ? [fieldCondition(core, field, 'in', given, undefined)] : []), ...(given.length < values.length ? [isNull(core.column(field))] : [])]
        keep = parts.length === 1 ? parts[0] : or(...parts)
      }
      return (q) => Object.freeze(withFields(q, {
        where: keep === undefined ? q.where : q.where === undefined ? keep : and(q.where, keep),
        order: [...q.order, ...order],
      }))
    }),
    forUpdate: (options) => locking('update', options),
    forShare: (options) => locking('share', options),
    compose: (...steps) => (q) => steps.reduce((acc, s) => s(acc), q),
  } satisfies QueryKit<R>)
}

/** The transform of `forUpdate` / `forShare`: the lock clause the read ends with. */
const locking = <R>(strength: LockClause['strength'], options: { readonly nowait?: boolean; readonly skipLocked?: boolean } = {}): Transform<R> =>
  ((q: ModelQuery<any, any, any>) => Object.freeze(withFields(q, {
    lock: { strength, ...(options.nowait === true ? { wait: 'nowait' as const } : options.skipLocked === true ? { wait: 'skip locked' as const } : {}) },
  }))) as Transform<R>

/** The query of every row of a model (default scopes apply when it runs). */
export const baseQuery = <R>(core: ModelCore): ModelQuery<R> =>
  Object.freeze({ _tag: 'ModelQuery', core, order: [], includes: [], options: {} })

/**
 * Turn every default scope off (soft deletion included).
 * @example pipe(Post.query, unscoped, Post.count(db))
 */
export const unscoped = <Q extends { readonly unscoped?: boolean }>(q: Q): Q => Object.freeze(withFields(q, { unscoped: true }))

/** The default-scope conditions of a model for a query's switches. */
export const scopeCondition = (core: ModelCore, options: QueryOptions): Expr | undefined =>
  allOf(core.behaviours.map((b) => b.scope?.(options, core.column)))

/** `FROM` the model's own table, one node per model (see `ownTable`). */
const ownTables = new WeakMap<ModelCore, SelectNode>()

/**
 * `FROM` the model's own table (under its alias, if it has one): the same node every time, so
 * that the statement-shape cache of the built-in dialects recognises a model read built again
 * (it compares a statement's FROM node by identity).
 */
const ownTable = (core: ModelCore): SelectNode => {
  let node = ownTables.get(core)
  if (node === undefined) {
    const own = core.tableRef
    node = Object.freeze(from(core.alias === undefined ? own : { ...own, alias: core.alias }))
    ownTables.set(core, node)
  }
  return node
}

/**
 * A model query as query data: the selected columns, the conditions and the default scopes.
 * `extraFields` are selected too (keys that relation loading needs).
 *
 * @example
 * db.compile(toSelect(pipe(User.query, User.where('id', '=', 1))))
 */
export const toSelect = (q: ModelQuery<any, any, any>, extraFields: readonly string[] = []): SelectNode => {
  const core = q.core
  const names = selectedFields(q, extraFields)
  return selectWith(q, [...names.map((n): Selection => ({ expr: core.column(n) })), ...computedColumns(q)])
}

/**
 * The computed columns of a model query, each under its name (they follow the fields' columns).
 * @example computedColumns(pipe(Post.query, Post.computed('titleLength', t.number, sql`length(title)`))) // [length(title) AS "titleLength"]
 */
export const computedColumns = (q: ModelQuery<any, any, any>): Selection[] => (q.computed ?? []).map((c) => as(c.expr, c.name))

/**
 * A model query as query data with the column list given (`toSelect` without building the
 * columns): for a read whose columns are already known, such as the aliased list of a read in
 * place.
 *
 * @example selectWith(pipe(User.query, User.where({ id: 1 })), aliased(User.core, ['id'], false))
 */
export const selectWith = (q: ModelQuery<any, any, any>, columns: readonly Selection[]): SelectNode => {
  const core = q.core
  const start = q.source === undefined ? ownTable(core) : from({ kind: 'table', name: q.source, alias: core.alias ?? core.tableRef.name })
  return Object.freeze(patchSelect(start, {
    columns,
    distinct: q.distinct,
    with: q.ctes === undefined || q.ctes.length === 0 ? undefined : { recursive: q.recursive === true, ctes: q.ctes },
    where: allOf([q.where, q.unscoped === true ? undefined : scopeCondition(core, q.options)]),
    orderBy: q.order,
    limit: q.limit,
    offset: q.offset,
    lock: q.lock,
  }))
}

/**
 * The fields a query reads: its selection (or every field) plus `extra`, less those a computed
 * column of the same name stands in for (`computed('label', ...)`: the computed value is what
 * the row holds, and a result with two columns of one name is refused).
 */
export const selectedFields = (q: ModelQuery<any, any, any>, extra: readonly string[] = []): string[] => {
  const names = q.fields === undefined ? q.core.fields.map((f) => f.name) : [...q.fields]
  for (const e of extra) if (!names.includes(e)) names.push(e)
  const computed = q.computed
  return computed === undefined || computed.length === 0 ? names : names.filter((n) => !computed.some((c) => c.name === n))
}

