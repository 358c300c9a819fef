/**
 * Relations reached through another relation (`hasManyThrough`, `hasOneThrough`), as Rails'
 * `has_many :through` and Laravel's `hasManyThrough`: `country.posts` through `country.users`
 * and `user.posts`. The middle table is read under an alias in a JOIN to the target, so a level
 * loads in one statement, a count or a filter is one correlated subquery, and the middle model's
 * default scopes (soft deletion) apply as its own reads would apply them.
 *
 * Each leg is a belongsTo, hasOne, hasMany or manyToMany (whose join table is joined too), or
 * itself a through relation, whose legs are joined in its place (Rails' nested `has_many
 * :through`): a country's comments through its posts, which go through its users. A morphTo leg,
 * or a chain that comes back to the relation it starts from, is refused where `relate` is called.
 */
import type { ColumnRef, Expr, JoinNode } from '../ast.js'
import { dbError, type DbError } from '../errors.js'
import { eq, exprNode } from '../query.js'
import { allOf, type ModelCore, ownValue, scopedCore, tableRefOf } from './core.js'
import type { Field } from './decode.js'
import { scopeCondition } from './query.js'
import type { AnyRelation, ManyToMany, ThroughRelation } from './relations.js'
import { pivotCondition } from './pivot.js'
import { isThrough, keyFields, manyToManyKeys, sameWidth } from './relation-keys.js'

/**
 * One leg of a through relation: the near model's fields equal, pairwise, to the far model's,
 * directly (belongsTo, hasOne, hasMany) or through a join table (manyToMany: the near fields in
 * its `from` columns, the far fields in its `to` columns).
 */
interface Leg {
  readonly near: readonly Field[]
  readonly far: readonly Field[]
  /** The join table of a manyToMany leg, and the relation (its `wherePivot` holds in the JOIN). */
  readonly link?: { readonly table: string; readonly from: readonly string[]; readonly to: readonly string[]; readonly rel: ManyToMany }
}

/**
 * How a through relation joins: the owner's key, and the chain of models from the owner to the
 * target with the legs between them (two legs, or more where a leg is itself a through relation).
 */
export interface ThroughPlan {
  readonly target: ModelCore
  /** Fields of the owner whose values the first middle rows (or the first leg's join table) hold. */
  readonly ownerKey: readonly Field[]
  /** The owner, the middle models in order, the target. */
  readonly models: readonly ModelCore[]
  /** `legs[i]` joins `models[i]` to `models[i + 1]`. */
  readonly legs: readonly Leg[]
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
    return { near: sk, far: tk, link: { table: rel.through, from, to, rel } }
  }
  throw fail(`${near.table}.${name} is a ${rel.kind} relation: a through relation goes through belongsTo, hasOne, hasMany and manyToMany relations`)
}

/** The chain of one relation of `near`: its models after `near` and its legs (a through relation's own chain). */
const chainOf = (near: ModelCore, name: string, rel: AnyRelation, owner: string, seen: readonly string[]): { models: ModelCore[]; legs: Leg[] } => {
  if (rel.kind === 'morphTo') throw fail(`${owner}: goes through ${name}, a morphTo relation; a through relation goes through belongsTo, hasOne, hasMany, manyToMany and through relations`)
  const graph = near.graph!
  if (isThrough(rel)) {
    const plan = planOf(near, name, rel, seen)
    return { models: plan.models.slice(1) as ModelCore[], legs: [...plan.legs] }
  }
  const far = ownValue(graph.models, rel.target)
  if (far === undefined) throw fail(`${owner}: no model named "${rel.target}" in relate({ ... })`)
  return { models: [far], legs: [legOf(near, far, name, rel)] }
}

/** `throughPlan`, knowing the through relations already being planned (a chain coming back to one is refused). */
const planOf = (core: ModelCore, name: string, rel: ThroughRelation, seen: readonly string[]): ThroughPlan => {
  const owner = `${core.graph?.name ?? core.table}.${name}`
  const graph = core.graph
  if (graph === undefined) throw fail(`${core.table}: relations load once the models are related: relate({ ... })`)
  if (seen.includes(owner)) throw fail(`${seen[0]}: goes through ${[...seen.slice(1), owner].join(', then ')}, which comes back to it`)
  const within = [...seen, owner]
  const first = ownValue(core.relations, rel.through)
  if (first === undefined) throw fail(`${owner}: ${core.table} has no relation "${rel.through}" to go through`)
  const one = chainOf(core, rel.through, first, owner, within)
  const middle = one.models[one.models.length - 1]
  const second = ownValue(middle.relations, rel.source)
  if (second === undefined) throw fail(`${owner}: ${middle.table} has no relation "${rel.source}"${Object.keys(middle.relations).length === 0 ? '' : ` (it has ${Object.keys(middle.relations).join(', ')})`}`)
  if (second.kind === 'morphTo') throw fail(`${owner}: ${rel.through}.${rel.source} is a morphTo relation; a through relation goes through belongsTo, hasOne, hasMany, manyToMany and through relations`)
  if (second.target !== rel.target) throw fail(`${owner}: ${rel.through}.${rel.source} reaches ${second.target}, not ${rel.target}`)
  const target = ownValue(graph.models, rel.target)
  if (target === undefined) throw fail(`${owner}: no model named "${rel.target}" in relate({ ... })`)
  const two = chainOf(middle, rel.source, second, owner, within)
  return { target, ownerKey: one.legs[0].near, models: [core, ...one.models, ...two.models], legs: [...one.legs, ...two.legs] }
}

/**
 * The plan of the through relation `name` of `core` (a related model); a QueryError naming the
 * relation when a leg is missing, of a kind a through relation cannot take (a polymorphic one),
 * reaches another model than the target, or leads back to the relation itself. A leg that is a
 * through relation brings its own legs into the chain.
 *
 * @example throughPlan(Country.core, 'posts', Country.core.relations.posts).models.map((m) => m.table) // ['countries', 'users', 'posts']
 */
export const throughPlan = (core: ModelCore, name: string, rel: ThroughRelation): ThroughPlan => planOf(core, name, rel, [])

/** A join table's column under an alias. */
const linkColumn = (alias: string, name: string): ColumnRef => exprNode({ kind: 'column', table: alias, name }) as ColumnRef

/**
 * The JOINs from the target (whose columns `targetColumn` gives) to the columns holding the
 * owner's key, the last middle model first: each middle table under `alias` (the one next to the
 * target; the others `alias_m1`, `alias_m2`, ... from the owner's side), its default scopes in its
 * ON, and the join table of a manyToMany leg under `alias_a` (the target's leg), `alias_b` (the
 * owner's) or `alias_l<i>`. The first JOIN's ON refers to the target; each later one to those
 * before it.
 *
 * @example middleJoins(plan, 'rk_mid', Post.core.column) // INNER JOIN users rk_mid ON rk_mid.id = posts.user_id AND rk_mid.deleted_at IS NULL
 */
export const middleJoins = (plan: ThroughPlan, alias: string, targetColumn: (field: string) => ColumnRef): { readonly joins: readonly JoinNode[]; readonly ownerColumns: readonly ColumnRef[] } => {
  const { models, legs } = plan
  const last = legs.length - 1
  const midAlias = (i: number) => (i === last ? alias : `${alias}_m${i}`)
  const linkAlias = (i: number) => (i === last ? `${alias}_a` : i === 0 ? `${alias}_b` : `${alias}_l${i}`)
  const joins: JoinNode[] = []
  // Columns of the model on the far side of the leg being joined: the target's first.
  let farColumn = targetColumn
  for (let i = last; i >= 1; i--) {
    const leg = legs[i]
    const a = midAlias(i)
    const mid = scopedCore(models[i], [], a)
    const scope = scopeCondition(mid, {})
    const at = farColumn
    if (leg.link === undefined) {
      joins.push({ type: 'inner', table: { ...models[i].tableRef, alias: a }, on: allOf([...leg.near.map((f, j) => eq(mid.column(f.name), at(leg.far[j].name))), scope])! })
    } else {
      const l = linkAlias(i)
      const link = leg.link
      joins.push({ type: 'inner', table: { ...tableRefOf(link.table), alias: l }, on: allOf([...link.to.map((c, j) => eq(linkColumn(l, c), at(leg.far[j].name))), pivotCondition(link.rel, (c) => linkColumn(l, c))])! })
      joins.push({ type: 'inner', table: { ...models[i].tableRef, alias: a }, on: allOf([...link.from.map((c, j) => eq(mid.column(leg.near[j].name), linkColumn(l, c))), scope])! })
    }
    farColumn = mid.column
  }
  const first = legs[0]
  if (first.link === undefined) return { joins, ownerColumns: first.far.map((f) => farColumn(f.name)) }
  const l = linkAlias(0)
  const link = first.link
  joins.push({ type: 'inner', table: { ...tableRefOf(link.table), alias: l }, on: allOf([...link.to.map((c, j) => eq(linkColumn(l, c), farColumn(first.far[j].name))), pivotCondition(link.rel, (c) => linkColumn(l, c))])! })
  return { joins, ownerColumns: link.from.map((c) => linkColumn(l, c)) }
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
