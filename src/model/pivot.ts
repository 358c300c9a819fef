/**
 * The join-row columns of a manyToMany (`pivot`) as the loaders and writers read them: the
 * declared fields, the condition of `wherePivot` and the order of `orderByPivot`. Kept apart from
 * relations.ts so that the plans of through relations (through.ts, which relations.ts runs) can
 * put a manyToMany leg's `wherePivot` in their JOINs without importing relations.ts.
 */
import type { Expr, OrderItem } from '../ast.js'
import type * as t from 'io-ts'
import { eq, isIn, isNull } from '../query.js'
import { allOf, encodeField, ownValue } from './core.js'
import { type Field, shapeOf, show } from './decode.js'
import { fieldList } from './relation-keys.js'
import type { ManyToMany } from './relations.js'

/** Whether a field may hold null (a nullable or optional codec). */
const mayBeNull = (f: Field): boolean => f.optional || f.codec.is(null) || f.codec.is(undefined)


/** The pivot field `name` of a manyToMany, or a TypeError saying what `what` names that is not declared. */
const declaredPivot = (rel: ManyToMany, name: string, what: string): Field => {
  const f = pivotFields(rel).find((x) => x.name === name)
  if (f === undefined) throw new TypeError(`manyToMany ${rel.target} through ${rel.through}: ${what} names ${name}, no declared join-row column of ${rel.through} (pivot has ${pivotFields(rel).map((x) => x.name).join(', ') || 'none'})`)
  return f
}

/** The checks of `wherePivot` and `orderByPivot` where the relation is written: declared fields, values of their types (TypeError). */
export const checkPivotUse = (rel: ManyToMany): void => {
  if (rel.wherePivot === undefined && rel.orderByPivot === undefined) return
  if (rel.pivot === undefined) throw new TypeError(`manyToMany ${rel.target} through ${rel.through}: wherePivot and orderByPivot name join-row fields, which pivot declares`)
  for (const [name, v] of Object.entries(rel.wherePivot ?? {})) {
    const f = declaredPivot(rel, name, 'wherePivot')
    for (const x of Array.isArray(v) ? v : [v]) {
      if (!f.codec.is(x) && !(x === null && mayBeNull(f))) throw new TypeError(`manyToMany ${rel.target} through ${rel.through}: wherePivot ${name} must be ${f.codec.name}, got ${show(x)}`)
    }
  }
  for (const step of rel.orderByPivot ?? []) declaredPivot(rel, step.field!, 'orderByPivot')
}

/**
 * The condition `wherePivot` puts on the join rows (columns by `column`, given a column name),
 * values encoded by the pivot's codecs; undefined without one.
 *
 * @example pivotCondition(Team.core.relations.leads, (c) => col(`rk_through.${c}`)) // rk_through.role = 'lead'
 */
export const pivotCondition = (rel: ManyToMany, column: (name: string) => Expr): Expr | undefined => {
  const where = rel.wherePivot
  if (where === undefined) return undefined
  return allOf(Object.entries(where).map(([name, v]) => {
    const f = declaredPivot(rel, name, 'wherePivot')
    const c = column(f.column)
    if (v === null) return isNull(c)
    return Array.isArray(v) ? isIn(c, v.map((x) => encodeField(f, x))) : eq(c, encodeField(f, v))
  }))
}

/**
 * The ORDER BY items of `orderByPivot` (columns by `column`, given a column name); none without one.
 *
 * @example pivotOrder(Team.core.relations.leads, (c) => col(`rk_through.${c}`)) // [rk_through.member_rank ASC]
 */
export const pivotOrder = (rel: ManyToMany, column: (name: string) => Expr): OrderItem[] =>
  (rel.orderByPivot ?? []).map((s) => ({ expr: column(declaredPivot(rel, s.field!, 'orderByPivot').column), direction: s.direction }))

/** The fields of a manyToMany's `pivot`, read once per relation. */
const pivotCache = new WeakMap<t.Any, readonly Field[]>()

/**
 * The join-row fields a manyToMany declares (`pivot`), each with its column; none without a
 * pivot. Throws a TypeError for a pivot that is no object codec or names a join-table key column.
 *
 * @example pivotFields(Team.core.relations.members).map((f) => f.column) // ['role', 'member_rank']
 */
export const pivotFields = (rel: ManyToMany): readonly Field[] => {
  const codec = rel.pivot
  if (codec === undefined) return []
  let fields = pivotCache.get(codec)
  if (fields === undefined) {
    const keys = new Set([...fieldList(rel.from), ...fieldList(rel.to)])
    fields = shapeOf(codec).props.map((p) => {
      const column = ownValue(rel.pivotColumns, p.name) ?? p.name
      if (keys.has(column)) throw new TypeError(`manyToMany ${rel.target} through ${rel.through}: the pivot field ${p.name} is the key column ${column}`)
      return { name: p.name, column, codec: p.codec, optional: p.optional }
    })
    pivotCache.set(codec, fields)
  }
  return fields
}

