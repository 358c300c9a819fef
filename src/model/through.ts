/**
 * Relations reached through another relation (`hasManyThrough`, `hasOneThrough`), as Rails'
 * `has_many :through` and Laravel's `hasManyThrough`: `country.posts` through `country.users`
 * and `user.posts`. The middle table is read under an alias in a JOIN to the target, so a level
 * loads in one statement, a count or a filter is one correlated subquery, and the middle model's
 * default scopes (soft deletion) apply as its own reads would apply them.
 *
 * Each leg is a belongsTo, hasOne or hasMany; a leg that is itself a through relation or a
 * manyToMany is refused where `relate` is called.
 */
import type { ColumnRef, Expr, JoinNode } from '../ast.js'
import { dbError, type DbError } from '../errors.js'
import { eq } from '../query.js'
import { allOf, type ModelCore, ownValue, scopedCore } from './core.js'
import type { Field } from './decode.js'
import { scopeCondition } from './query.js'
import { type AnyRelation, keyFields, sameWidth, type ThroughRelation } from './relations.js'

/** How a through relation joins: the owner's key, the middle model, and the middle-to-target link. */
export interface ThroughPlan {
  readonly middle: ModelCore
  readonly target: ModelCore
  /** Fields of the owner whose values the middle rows hold. */
  readonly ownerKey: readonly Field[]
  /** Fields of the middle model holding the owner's key values, in the order of `ownerKey`. */
  readonly middleKey: readonly Field[]
  /** Fields of the middle model and of the target that are equal, pairwise, for a row reached. */
  readonly middleLink: readonly Field[]
  readonly targetLink: readonly Field[]
}

const fail = (message: string): DbError => dbError('QueryError', message)

/** The key fields of one leg: those of the near side and, pairwise, those of the far side. */
const legKeys = (near: ModelCore, far: ModelCore, name: string, rel: AnyRelation): { near: readonly Field[]; far: readonly Field[] } => {
  if (rel.kind === 'belongsTo') {
    const fk = keyFields(near, rel.foreignKey, `foreign key of ${name}`)
    const tk = keyFields(far, rel.targetKey, 'target key')
    sameWidth(near, name, fk, tk, 'the foreign key')
    return { near: fk, far: tk }
  }
  if (rel.kind === 'hasMany' || rel.kind === 'hasOne') {
    const sk = keyFields(near, rel.sourceKey, 'source key')
    const fk = keyFields(far, rel.foreignKey, `foreign key of ${near.table}.${name}`)
    sameWidth(near, name, fk, sk, 'the foreign key')
    return { near: sk, far: fk }
  }
  throw fail(`${near.table}.${name} is a ${rel.kind} relation: a through relation goes through belongsTo, hasOne and hasMany relations`)
}

/**
 * The plan of the through relation `name` of `core` (a related model); a QueryError naming the
 * relation when a leg is missing, of a kind a through relation cannot take, or reaches another
 * model than the target.
 *
 * @example throughPlan(Country.core, 'posts', Country.core.relations.posts).middle.table // 'users'
 */
export const throughPlan = (core: ModelCore, name: string, rel: ThroughRelation): ThroughPlan => {
  const owner = `${core.graph?.name ?? core.table}.${name}`
  const graph = core.graph
  if (graph === undefined) throw fail(`${core.table}: relations load once the models are related: relate({ ... })`)
  const first = ownValue(core.relations, rel.through)
  if (first === undefined) throw fail(`${owner}: ${core.table} has no relation "${rel.through}" to go through`)
  if (first.kind === 'morphTo') throw fail(`${owner}: ${rel.through} is a morphTo relation: a through relation goes through belongsTo, hasOne and hasMany relations`)
  const middle = ownValue(graph.models, first.target)
  if (middle === undefined) throw fail(`${owner}: no model named "${first.target}" in relate({ ... })`)
  const second = ownValue(middle.relations, rel.source)
  if (second === undefined) throw fail(`${owner}: ${middle.table} has no relation "${rel.source}"${Object.keys(middle.relations).length === 0 ? '' : ` (it has ${Object.keys(middle.relations).join(', ')})`}`)
  if (second.kind === 'morphTo') throw fail(`${owner}: ${rel.through}.${rel.source} is a morphTo relation: a through relation goes through belongsTo, hasOne and hasMany relations`)
  if (second.target !== rel.target) throw fail(`${owner}: ${rel.through}.${rel.source} reaches ${second.target}, not ${rel.target}`)
  const target = ownValue(graph.models, rel.target)
  if (target === undefined) throw fail(`${owner}: no model named "${rel.target}" in relate({ ... })`)
  const one = legKeys(core, middle, rel.through, first)
  const two = legKeys(middle, target, rel.source, second)
  return { middle, target, ownerKey: one.near, middleKey: one.far, middleLink: two.near, targetLink: two.far }
}

/**
 * The JOIN of the middle table, read under `alias`, to the target (whose columns `targetColumn`
 * gives), the middle model's default scopes in its ON; and the middle columns holding the owner's
 * key, in the order of `ownerKey`.
 *
 * @example middleJoin(plan, 'rk_mid', Post.core.column) // INNER JOIN users rk_mid ON rk_mid.id = posts.user_id AND rk_mid.deleted_at IS NULL
 */
export const middleJoin = (plan: ThroughPlan, alias: string, targetColumn: (field: string) => ColumnRef): { readonly join: JoinNode; readonly ownerColumns: readonly ColumnRef[] } => {
  const mid = scopedCore(plan.middle, [], alias)
  const on = allOf([
    ...plan.middleLink.map((f, i) => eq(mid.column(f.name), targetColumn(plan.targetLink[i].name))),
    scopeCondition(mid, {}),
  ])!
  return { join: { type: 'inner', table: { ...plan.middle.tableRef, alias }, on }, ownerColumns: plan.middleKey.map((f) => mid.column(f.name)) }
}

/**
 * The condition of a subquery over the target: the middle row joined in (see `middleJoin`) holds
 * the key of the outer row, whose columns `outerColumn` gives.
 *
 * @example throughCorrelation(plan, 'rk_mid_1', Post.core.column, Country.core.column)
 */
export const throughCorrelation = (plan: ThroughPlan, alias: string, targetColumn: (field: string) => ColumnRef, outerColumn: (field: string) => ColumnRef): { readonly join: JoinNode; readonly correlation: Expr } => {
  const { join, ownerColumns } = middleJoin(plan, alias, targetColumn)
  return { join, correlation: allOf(ownerColumns.map((c, i) => eq(c, outerColumn(plan.ownerKey[i].name))))! }
}
