/**
 * The one row of an ordered one-row relation (a hasOne, hasOneThrough or morphOne given
 * `orderBy`, `latestOfMany` or `oldestOfMany`), as Laravel's `latestOfMany` / `ofMany` and Rails'
 * `has_one -> { order(...) }`: of the rows the relation matches, those the target's default scopes
 * keep, the first by the relation's order, ties broken by the target's primary key.
 *
 * The row is picked before any condition of a modifier or a relation filter applies, which then
 * keep it or leave the parent without one (Laravel's `whereHas('latestLogin', ...)` is about the
 * latest login). Eager loading numbers the rows per parent (ROW_NUMBER() OVER (PARTITION BY ...),
 * as a modifier's limit does, see `loadIncludes`); a filter, an aggregate and `related` compare
 * the target's key with a correlated `(SELECT key ... ORDER BY ... LIMIT 1)`, which every engine
 * runs (MariaDB refuses LIMIT in an IN subquery, not in a scalar one).
 */
import type { ColumnRef, Expr, JoinNode, OrderItem, SelectNode } from '../ast.js'
import { dbError, type DbError } from '../errors.js'
import { and, eq, from, subquery } from '../query.js'
import type { QueryOptions } from './behaviours.js'
import { allOf, encodeField, type ModelCore, ownValue, scopedCore } from './core.js'
import type { Field } from './decode.js'
import { morphInverse } from './morph.js'
import { scopeCondition } from './query.js'
import { keyFields, sameWidth } from './relation-keys.js'
import type { AnyRelation, HasOne, HasOneThrough, MorphMany } from './relations.js'
import { middleJoins, throughPlan } from './through.js'

/** A relation that loads as one row: the kinds an order can be given to. */
export type OneRelation = HasOne | HasOneThrough | MorphMany<string, 'morphOne'>

/** One step of a one-row relation's order: a field of the target (its primary key when undefined), and a direction. */
export interface OrderStep {
  readonly field: string | undefined
  readonly direction: 'asc' | 'desc'
}

/** A step of an order as written: a field of the target (ascending), or a field and its direction. */
export type OrderSpec = string | readonly [field: string, direction: 'asc' | 'desc']

const fail = (message: string): DbError => dbError('QueryError', message)

/**
 * An `orderBy` option as the steps kept on the relation; a TypeError where the model is written
 * for a direction other than 'asc' or 'desc', or an empty order.
 *
 * @example orderSteps('Login', [['at', 'desc'], 'id']) // [{ field: 'at', direction: 'desc' }, { field: 'id', direction: 'asc' }]
 */
export const orderSteps = (target: string, spec: readonly OrderSpec[] | undefined): readonly OrderStep[] | undefined => {
  if (spec === undefined) return undefined
  if (!Array.isArray(spec) || spec.length === 0) throw new TypeError(`relation to ${target}: orderBy is a list of fields, each a name or [name, 'asc' | 'desc'], got ${JSON.stringify(spec)}`)
  return Object.freeze(spec.map((s): OrderStep => {
    const [field, direction] = typeof s === 'string' ? [s, 'asc'] : s
    if (typeof field !== 'string' || (direction !== 'asc' && direction !== 'desc')) {
      throw new TypeError(`relation to ${target}: each step of orderBy is a field name, or [name, direction] where direction is 'asc' or 'desc'; got ${JSON.stringify(s)}`)
    }
    return Object.freeze({ field, direction })
  }))
}

/** Whether a relation is one an order picks a row of (a hasOne, hasOneThrough or morphOne). */
const isOne = (rel: AnyRelation): rel is OneRelation => rel.kind === 'hasOne' || rel.kind === 'hasOneThrough' || rel.kind === 'morphOne'

/** The relation with its order set to one step (see `latestOfMany`). */
const ofMany = (what: string, direction: 'asc' | 'desc', column: string | undefined) => <R extends OneRelation>(rel: R): R => {
  const r = rel as AnyRelation
  if (!isOne(r)) throw new TypeError(`${what}: a ${r.kind} relation${'target' in r ? ` to ${r.target}` : ''} loads ${r.kind === 'belongsTo' ? 'the row its key names' : 'many rows'}; ${what} orders a hasOne, hasOneThrough or morphOne`)
  const ordered: R = { ...rel, order: Object.freeze([Object.freeze({ field: column, direction })]) }
  return Object.freeze(ordered)
}

/**
 * The one row of a hasOne, hasOneThrough or morphOne is the one with the greatest `column`
 * (the target's primary key by default), ties going to the greatest primary key, as Laravel's
 * `latestOfMany`. Data-last: `pipe(hasOne(...), latestOfMany('createdAt'))`.
 *
 * @example relations: { latestOrder: pipe(hasOne('Order', 'userId'), latestOfMany('createdAt')) }
 */
export const latestOfMany = (column?: string) => ofMany('latestOfMany', 'desc', column)

/**
 * The one row of a hasOne, hasOneThrough or morphOne is the one with the least `column` (the
 * target's primary key by default), ties going to the least primary key, as Laravel's `oldestOfMany`.
 *
 * @example relations: { firstOrder: pipe(hasOne('Order', 'userId'), oldestOfMany('createdAt')) }
 */
export const oldestOfMany = (column?: string) => ofMany('oldestOfMany', 'asc', column)

/**
 * The order that picks the one row of relation `name` (its steps, then the target's primary-key
 * fields not among them, in the direction of the last step), over the columns `column` gives;
 * undefined for a relation without an order. A step naming no field of the target is a
 * QueryError naming the relation.
 *
 * @example oneOrder(User.core, 'latestLogin', rel, Login.core, Login.core.column) // [at DESC, id DESC]
 */
export const oneOrder = (core: ModelCore, name: string, rel: AnyRelation, target: ModelCore, column: (field: string) => ColumnRef): OrderItem[] | undefined => {
  const steps = isOne(rel) ? rel.order : undefined
  if (steps === undefined || steps.length === 0) return undefined
  const out: OrderItem[] = []
  const seen = new Set<string>()
  const add = (f: string, direction: 'asc' | 'desc') => {
    if (seen.has(f)) return
    seen.add(f)
    out.push({ expr: column(f), direction })
  }
  for (const s of steps) {
    if (s.field === undefined) {
      for (const k of target.primaryKey) add(k.name, s.direction)
      continue
    }
    if (!target.byName.has(s.field)) throw fail(`${core.graph?.name ?? core.table}.${name}: ${target.table} has no field "${s.field}" (orderBy)`)
    add(s.field, s.direction)
  }
  // Ties go by the primary key, so that the row picked is the same in every statement that picks it.
  const last = steps[steps.length - 1].direction
  for (const k of target.primaryKey) add(k.name, last)
  return out
}

/**
 * Throws a TypeError, where the models are related (`relate`), for an order of the one-row
 * relation `name` of model `owner` with a step naming no field of its target, as a foreign key
 * naming no field is: found there, not when a query first uses the relation. `oneOrder` keeps
 * its QueryError for relations built outside `relate`.
 *
 * @example checkOneOrder('User', 'latestLogin', pipe(hasOne('Login', 'userId'), latestOfMany('at')), Login.core)
 */
export const checkOneOrder = (owner: string, name: string, rel: AnyRelation, target: ModelCore | undefined): void => {
  if (target === undefined || !isOne(rel) || rel.order === undefined) return
  for (const s of rel.order) {
    if (s.field !== undefined && !target.byName.has(s.field)) throw new TypeError(`${owner}.${name}: ${target.table} has no field "${s.field}" (orderBy)`)
  }
}

/**
 * A QueryError for a modifier's own order, limit or offset on an ordered one-row relation: the
 * relation's order picks the row.
 */
export const modifierOrderRefused = (core: ModelCore, name: string): DbError =>
  fail(`${core.graph?.name ?? core.table}.${name} picks its row by the relation's order (orderBy, latestOfMany, oldestOfMany): a modifier may filter that row, not order or limit the rows`)

/**
 * The condition that a row of `target` (its columns by `rowColumn`) is the one row of the ordered
 * relation `name` for the owner whose key fields `owner` gives as expressions (columns of an
 * outer query, or a row's values): for each primary-key field, `key = (SELECT key FROM target
 * AS alias ... WHERE <owner's rows> AND <default scopes> ORDER BY ... LIMIT 1)`. Undefined for a
 * relation without an order. `enclosing` are the tables of the queries around (so the alias is new).
 *
 * @example pickedRow(User.core, 'latestLogin', rel, Login.core, Login.core.column, (f) => User.core.column(f.name), 'rk_pick', [], {})
 */
export const pickedRow = (
  core: ModelCore, name: string, rel: AnyRelation, target: ModelCore, rowColumn: (field: string) => ColumnRef,
  owner: (field: Field) => Expr, alias: string, enclosing: readonly string[], options: QueryOptions, unscoped = false,
): Expr | undefined => {
  if (!isOne(rel) || rel.order === undefined) return undefined
  const pick = scopedCore(target, enclosing, alias)
  const order = oneOrder(core, name, rel, target, pick.column)
  if (order === undefined) return undefined
  let joins: readonly JoinNode[] = []
  let correlation: Expr
  if (rel.kind === 'hasOne') {
    const sk = keyFields(core, rel.sourceKey, 'source key')
    const fk = keyFields(target, rel.foreignKey, `foreign key of ${core.table}.${name}`)
    sameWidth(core, name, fk, sk, 'the foreign key')
    correlation = and(...fk.map((f, i) => eq(pick.column(f.name), owner(sk[i]))))
  } else if (rel.kind === 'morphOne') {
    const m = morphInverse(core, name, rel)
    correlation = and(eq(pick.column(m.key.name), owner(m.own)), eq(pick.column(m.type.name), encodeField(m.type, m.value)))
  } else {
    const plan = throughPlan(core, name, rel)
    const mid = middleJoins(plan, `${alias}_mid`, pick.column)
    joins = mid.joins
    correlation = and(...mid.ownerColumns.map((c, i) => eq(c, owner(plan.ownerKey[i]))))
  }
  const scope = unscoped ? undefined : scopeCondition(pick, options)
  const base: SelectNode = { ...from({ ...target.tableRef, alias }), joins, where: allOf([correlation, scope]), orderBy: order, limit: 1 }
  return and(...target.primaryKey.map((k) => eq(rowColumn(k.name), subquery({ ...base, columns: [{ expr: pick.column(k.name) }] }))))
}

/** Whether the relation `name` of `core` has an order (see `oneOrder`). */
export const isOrderedOne = (core: ModelCore, name: string): boolean => {
  const rel = ownValue(core.relations, name)
  return rel !== undefined && isOne(rel) && rel.order !== undefined
}
