/**
 * Relations reached through another relation (`hasManyThrough`, `hasOneThrough`), as Rails'
 * `has_many :through` and Laravel's `hasManyThrough`: `country.posts` through `country.users`
 * and `user.posts`. The middle table is read under an alias in a JOIN to the target, so a level
 * loads in one statement, a count or a filter is one correlated subquery, and the middle model's
 * default scopes (soft deletion) apply as its own reads would apply them.
 *
 * Each leg is a belongsTo, hasOne, hasMany or manyToMany (whose join table is joined too); a leg
 * that is itself a through relation or a morphTo is refused where `relate` is called.
 */
import type { ColumnRef, Expr, JoinNode } from '../ast.js'
import { dbError, type DbError } from '../errors.js'
import { eq, exprNode } from '../query.js'
import { allOf, type ModelCore, ownValue, scopedCore, tableRefOf } from './core.js'
import type { Field } from './decode.js'
import { scopeCondition } from './query.js'
import type { AnyRelation, ThroughRelation } from './relations.js'
import { isThrough, keyFields, manyToManyKeys, sameWidth } from './relation-keys.js'

/**
 * One leg of a through relation: the near model's fields equal, pairwise, to the far model's,
 * directly (belongsTo, hasOne, hasMany) or through a join table (manyToMany: the near fields in
 * its `from` columns, the far fields in its `to` columns).
 */
interface Leg {
  readonly near: readonly Field[]
  readonly far: readonly Field[]
  readonly link?: { readonly table: string; readonly from: readonly string[]; readonly to: readonly string[] }
}

/** How a through relation joins: the owner's key, the middle model, and the legs to and from it. */
export interface ThroughPlan {
  readonly middle: ModelCore
  readonly target: ModelCore
  /** Fields of the owner whose values the middle rows (or the first leg's join table) hold. */
  readonly ownerKey: readonly Field[]
  readonly first: Leg
  readonly second: Leg
}

const fail = (message: string): DbError => dbError('QueryError', message)

/** The leg of relation `name` from `near` to `far`. */
const legOf = (near: ModelCore, far: ModelCore, name: string, rel: AnyRelation): Leg => {
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
  if (rel.kind === 'manyToMany') {
    const { sk, tk, from, to } = manyToManyKeys(near, far, name, rel)
    return { near: sk, far: tk, link: { table: rel.through, from, to } }
  }
  throw fail(`${near.table}.${name} is a ${rel.kind} relation: a through relation goes through belongsTo, hasOne, hasMany and manyToMany relations`)
}

/**
 * The plan of the through relation `name` of `core` (a related model); a QueryError naming the
 * relation when a leg is missing, of a kind a through relation cannot take (another through
 * relation, a polymorphic one), or reaches another model than the target.
 *
 * @example throughPlan(Country.core, 'posts', Country.core.relations.posts).middle.table // 'users'
 */
export const throughPlan = (core: ModelCore, name: string, rel: ThroughRelation): ThroughPlan => {
  const owner = `${core.graph?.name ?? core.table}.${name}`
  const graph = core.graph
  if (graph === undefined) throw fail(`${core.table}: relations load once the models are related: relate({ ... })`)
  const first = ownValue(core.relations, rel.through)
  if (first === undefined) throw fail(`${owner}: ${core.table} has no relation "${rel.through}" to go through`)
  if (first.kind === 'morphTo' || isThrough(first)) throw fail(`${owner}: goes through ${rel.through}, a ${first.kind} relation; a through relation goes through belongsTo, hasOne, hasMany and manyToMany relations`)
  const middle = ownValue(graph.models, first.target)
  if (middle === undefined) throw fail(`${owner}: no model named "${first.target}" in relate({ ... })`)
  const second = ownValue(middle.relations, rel.source)
  if (second === undefined) throw fail(`${owner}: ${middle.table} has no relation "${rel.source}"${Object.keys(middle.relations).length === 0 ? '' : ` (it has ${Object.keys(middle.relations).join(', ')})`}`)
  if (second.kind === 'morphTo' || isThrough(second)) throw fail(`${owner}: ${rel.through}.${rel.source} is a ${second.kind} relation; a through relation goes through belongsTo, hasOne, hasMany and manyToMany relations`)
  if (second.target !== rel.target) throw fail(`${owner}: ${rel.through}.${rel.source} reaches ${second.target}, not ${rel.target}`)
  const target = ownValue(graph.models, rel.target)
  if (target === undefined) throw fail(`${owner}: no model named "${rel.target}" in relate({ ... })`)
  const one = legOf(core, middle, rel.through, first)
  return { middle, target, ownerKey: one.near, first: one, second: legOf(middle, target, rel.source, second) }
}

/** A join table's column under an alias. */
const linkColumn = (alias: string, name: string): ColumnRef => exprNode({ kind: 'column', table: alias, name }) as ColumnRef

/**
 * The JOINs from the target (whose columns `targetColumn` gives) to the columns holding the
 * owner's key: the middle table under `alias` (its default scopes in its ON), and the join table
 * of a manyToMany leg under `alias_a` (second leg) or `alias_b` (first leg). The first JOIN's ON
 * refers to the target; each later one to those before it.
 *
 * @example middleJoins(plan, 'rk_mid', Post.core.column) // INNER JOIN users rk_mid ON rk_mid.id = posts.user_id AND rk_mid.deleted_at IS NULL
 */
export const middleJoins = (plan: ThroughPlan, alias: string, targetColumn: (field: string) => ColumnRef): { readonly joins: readonly JoinNode[]; readonly ownerColumns: readonly ColumnRef[] } => {
  const mid = scopedCore(plan.middle, [], alias)
  const scope = scopeCondition(mid, {})
  const joins: JoinNode[] = []
  const { second, first } = plan
  if (second.link === undefined) {
    joins.push({ type: 'inner', table: { ...plan.middle.tableRef, alias }, on: allOf([...second.near.map((f, i) => eq(mid.column(f.name), targetColumn(second.far[i].name))), scope])! })
  } else {
    const l = `${alias}_a`
    joins.push({ type: 'inner', table: { ...tableRefOf(second.link.table), alias: l }, on: allOf(second.link.to.map((c, i) => eq(linkColumn(l, c), targetColumn(second.far[i].name))))! })
    joins.push({ type: 'inner', table: { ...plan.middle.tableRef, alias }, on: allOf([...second.link.from.map((c, i) => eq(mid.column(second.near[i].name), linkColumn(l, c))), scope])! })
  }
  if (first.link === undefined) return { joins, ownerColumns: first.far.map((f) => mid.column(f.name)) }
  const l = `${alias}_b`
  joins.push({ type: 'inner', table: { ...tableRefOf(first.link.table), alias: l }, on: allOf(first.link.to.map((c, i) => eq(linkColumn(l, c), mid.column(first.far[i].name))))! })
  return { joins, ownerColumns: first.link.from.map((c) => linkColumn(l, c)) }
}

/**
 * The JOINs of a subquery over the target (see `middleJoins`) and its condition: the columns
 * joined in hold the key of the outer row, whose columns `outerColumn` gives.
 *
 * @example throughCorrelation(plan, 'rk_mid_1', Post.core.column, Country.core.column)
 */
export const throughCorrelation = (plan: ThroughPlan, alias: string, targetColumn: (field: string) => ColumnRef, outerColumn: (field: string) => ColumnRef): { readonly joins: readonly JoinNode[]; readonly correlation: Expr } => {
  const { joins, ownerColumns } = middleJoins(plan, alias, targetColumn)
  return { joins, correlation: allOf(ownerColumns.map((c, i) => eq(c, outerColumn(plan.ownerKey[i].name))))! }
}
