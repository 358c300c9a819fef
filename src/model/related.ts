/**
 * The query of one row's related rows (`Author.related(ada, 'posts')`), as Rails' `ada.posts`,
 * Laravel's `$ada->posts()` and Python ActiveRecord's `posts_query()` give it: a query of the
 * target model, to narrow, order, count or page with the target's own functions. The target's
 * default scopes apply when it runs, as in `include`.
 */
import type { Expr, SelectNode, TableRef } from '../ast.js'
import { dbError } from '../errors.js'
import { and, eq, exists, from, or, raw, select, val, where } from '../query.js'
import { sql } from '../sql.js'
import { allOf, encodeField, type ModelCore, ownValue, tableRefOf } from './core.js'
import type { Field } from './decode.js'
import { baseQuery, failed, type ModelQuery } from './query.js'
import { isMorphInverse, isThrough, keyFields, manyToManyKeys, type MorphTo, pivotCondition, sameWidth } from './relations.js'
import { morphInverse, morphTarget } from './morph.js'
import { middleJoins, throughPlan } from './through.js'
import { pickedRow } from './one-of-many.js'
import { withFields } from '../objects.js'

type Values = Readonly<Record<string, unknown>>

/** `target.field = value` for each pair; no row at all when a value is NULL (such a key relates to nothing). */
const matching = (target: ModelCore, fields: readonly Field[], values: readonly unknown[]): Expr =>
  values.some((v) => v === null || v === undefined)
    ? or()
    : and(...fields.map((f, i) => eq(target.column(f.name), encodeField(f, values[i]))))

/**
 * The query of the row a morphTo names: of the model `row`'s type names, by its key; a query of
 * no row (of the first model named) when the type or key is NULL; a failing query when the type
 * names no model.
 */
const morphQuery = (core: ModelCore, row: Values, name: string, rel: MorphTo): ModelQuery<any, any, any> => {
  const type = ownValue(row, rel.typeField)
  const id = ownValue(row, rel.idField)
  try {
    const { target, key } = morphTarget(core, name, rel, type === null || type === undefined ? Object.keys(rel.targets)[0] : String(type))
    const q = baseQuery<Record<string, unknown>>(target)
    return Object.freeze(withFields(q, { where: matching(target, [key], [type === null || type === undefined ? null : id]) }))
  } catch (e) {
    return failed(baseQuery(core), e)
  }
}

/**
 * The query of `row`'s rows through relation `name` of the model `core` (related with `relate`):
 * belongsTo, the row its foreign key names; hasOne and hasMany, the rows whose foreign key holds
 * its key; manyToMany, the rows its join-table rows link to (an EXISTS over the join table);
 * hasManyThrough and hasOneThrough, the rows its middle rows reach (an EXISTS over the middle
 * table, so each row comes once); morphTo, the row of the model its type names; morphMany and
 * morphOne, the rows whose type names this model and whose key holds its key. For a hasOne,
 * hasOneThrough or morphOne with an order (`latestOfMany`, ...), the one row that order picks: a
 * condition added after it keeps that row or none, as in Laravel. A
 * row whose key is NULL relates to no row. A relation that does not exist, or a model not related
 * yet, gives a query that fails with a QueryError when it runs.
 *
 * @example pipe(Author.related(ada, 'posts'), Post.where('views', '>', 10), Post.count(db))
 */
export const relatedQuery = (core: ModelCore, row: Values, name: string): ModelQuery<any, any, any> => {
  const rel = ownValue(core.relations, name)
  if (rel?.kind === 'morphTo') return morphQuery(core, row, name, rel)
  const target = rel === undefined ? undefined : ownValue(core.graph?.models, rel.target)
  if (rel === undefined || target === undefined) {
    const why = rel === undefined ? `${core.table} has no relation "${name}"` : `${core.table}.${name}: relations are read once the models are related: relate({ ... })`
    return failed(baseQuery(core), dbError('QueryError', why))
  }
  const q = baseQuery<Record<string, unknown>>(target)
  try {
    let cond: Expr
    if (rel.kind === 'belongsTo') {
      const fk = keyFields(core, rel.foreignKey, `foreign key of ${name}`)
      const tk = keyFields(target, rel.targetKey, 'target key')
      sameWidth(core, name, fk, tk, 'the target key')
      cond = matching(target, tk, fk.map((f) => ownValue(row, f.name)))
    } else if (rel.kind === 'manyToMany') {
      const { sk, tk, from: fromCols, to } = manyToManyKeys(core, target, name, rel)
      const source = sk.map((f) => ownValue(row, f.name))
      if (source.some((v) => v === null || v === undefined)) cond = or()
      else {
        const through = tableRefOf(rel.through)
        const linkColumn = (c: string) => sql.id([...(through.schema === undefined ? [] : [through.schema]), through.name, c])
        const link = allOf([
          ...fromCols.map((c, i) => raw(sql`${linkColumn(c)} = ${encodeField(sk[i], source[i])}`)),
          ...to.map((c, i) => raw(sql`${linkColumn(c)} = ${target.column(tk[i].name)}`)),
          pivotCondition(rel, (c) => raw(sql`${linkColumn(c)}`)),
        ])!
        cond = exists(where(link)(select(raw(sql`1`))(from(through))))
      }
    } else if (isThrough(rel)) {
      // EXISTS a middle row holding the row's key and joined to the target row.
      const plan = throughPlan(core, name, rel)
      const values = plan.ownerKey.map((f) => ownValue(row, f.name))
      if (values.some((v) => v === null || v === undefined)) cond = or()
      else {
        // EXISTS (SELECT 1 FROM <first join's table> JOIN <the others> WHERE <its ON> AND <the row's key>)
        const { joins: [first, ...rest], ownerColumns } = middleJoins(plan, 'rk_mid', target.column)
        const own = and(...ownerColumns.map((c, i) => eq(c, encodeField(plan.ownerKey[i], values[i]))))
        const sub: SelectNode = { ...from(first.table as TableRef), columns: [{ expr: raw(sql`1`) }], joins: rest, where: and(first.on!, own) }
        cond = exists(sub)
      }
    } else if (isMorphInverse(rel)) {
      const m = morphInverse(core, name, rel)
      cond = matching(target, [m.key, m.type], [ownValue(row, m.own.name), m.value])
    } else {
      const sk = keyFields(core, rel.sourceKey, 'source key')
      const fk = keyFields(target, rel.foreignKey, `foreign key of ${core.table}.${name}`)
      sameWidth(core, name, fk, sk, 'the foreign key')
      cond = matching(target, fk, sk.map((f) => ownValue(row, f.name)))
    }
    // An ordered one-row relation (latestOfMany, ...): the row its order picks, whatever narrows the query after.
    const picked = pickedRow(core, name, rel, target, target.column, (f) => val(encodeField(f, ownValue(row, f.name))), 'rk_pick', [target.table], {})
    return Object.freeze(withFields(q, { where: picked === undefined ? cond : and(cond, picked) }))
  } catch (e) {
    return failed(q, e)
  }
}
