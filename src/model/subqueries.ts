/**
 * Relations as subqueries of a model query: `whereHas` / `whereDoesntHave` (EXISTS),
 * `withCount` / `withExists` / `withSum` / `withMax` (correlated scalar subqueries), so a
 * filter or a count over related rows costs no extra statement and no query per row.
 *
 * The subquery reads the related table under its own name, or under an alias (`rk_1`, ...)
 * when a query around it reads the same table (a self-relation such as `Employee.reports`);
 * the modifier then receives the model bound to that alias, and conditions must be built with
 * it (`(q, E) => pipe(q, E.where('name', '=', 'Ada'))`).
 */
import type { Expr, Selection, SelectNode } from '../ast.js'
import { dbError } from '../errors.js'
import { and, avg, col, count, eq, exists, fn, from, not, or, raw, subquery } from '../query.js'
import { sql } from '../sql.js'
import { bool, FAIL, fastDecoder, float, integer } from './codecs.js'
import { allOf, encodeField, ownValue, scopedCore, type ModelCore, tableRefOf } from './core.js'
import { show } from './decode.js'
import { INTEGER_TEXT } from './fast-decoders.js'
import { baseQuery, type Computed, type ModelQuery, queryKit, scopeCondition } from './query.js'
import { isMorphInverse, isThrough, keyFields, manyToManyKeys, pivotCondition, sameWidth } from './relations.js'
import { throughCorrelation, throughPlan } from './through.js'
import { morphInverse, morphModifiers, morphModifiersOf, morphQuery, morphRefused, morphTarget } from './morph.js'
import type { MorphTo } from './relations.js'
import { pickedRow } from './one-of-many.js'
import { withFields } from '../objects.js'

/** A relation filter's modifier: receives the related model's query and the related model. */
export type SubModifier = (q: ModelQuery<any, any, any>, model: any) => ModelQuery<any, any, any>

const fail = (message: string) => dbError('QueryError', message)

const sql1: Expr = raw(sql`1`)

/** The related model as a modifier sees it: bound to the alias when the subquery has one. */
const modelIn = (inner: ModelCore, publicModel: unknown): unknown => {
  if (inner.alias === undefined) return publicModel
  return Object.freeze({
    ...(publicModel as object),
    ...queryKit(inner),
    core: inner,
    query: baseQuery(inner),
    column: (field: string) => {
      const c = inner.column(field)
      return sql`${sql.id([c.table!, c.name])}`
    },
  })
}

/**
 * The related rows of `outer`'s current row through relation `name`, as a SELECT of
 * `columns` (correlated to the outer row), with the modifier's conditions and the related
 * model's default scopes. A dotted path nests: `'articles.tags'` is articles having tags.
 */
export const relatedSelect = (outer: ModelCore, path: readonly string[], modify: SubModifier | undefined, columns: (inner: ModelCore) => readonly Selection[]): SelectNode => {
  const [name, ...rest] = path
  const rel = ownValue(outer.relations, name)
  if (rel === undefined) throw fail(`${outer.table} has no relation "${name}"`)
  const graph = outer.graph
  if (graph === undefined) throw fail(`${outer.table}: relation filters work once the models are related: relate({ ... })`)
  if (rel.kind === 'morphTo') throw morphRefused(outer, name, 'a relation filter (name its types with morphWith) or an aggregate')
  const target = ownValue(graph.models, rel.target)
  if (target === undefined) throw fail(`${outer.table}.${name}: no model named "${rel.target}" in relate({ ... })`)
  const enclosing = [...(outer.enclosing ?? []), outer.alias ?? outer.table]
  const depth = enclosing.length
  const inner = scopedCore(target, enclosing, enclosing.includes(target.table) ? `rk_${depth}` : undefined)
  const innerEnclosing = [...enclosing, inner.alias ?? inner.table]

  let mq: ModelQuery<any, any, any> = baseQuery(inner)
  if (rest.length > 0) {
    // The nested step is a filter on this level: EXISTS (the next relation).
    const nested = relatedSelect(inner, rest, modify, () => [{ expr: sql1 }])
    mq = withFields(mq, { where: exists(nested) })
  } else if (modify !== undefined) {
    mq = modify(mq, modelIn(inner, ownValue(graph.publics, rel.target)))
  }
  if (mq.error !== undefined) throw mq.error
  const scope = mq.unscoped === true ? undefined : scopeCondition(inner, mq.options)

  let correlation: Expr
  let node: SelectNode = { ...from(inner.alias === undefined ? inner.tableRef : { ...inner.tableRef, alias: inner.alias }), columns: columns(inner) }
  if (rel.kind === 'belongsTo') {
    const fk = keyFields(outer, rel.foreignKey, `foreign key of ${name}`)
    const tk = keyFields(target, rel.targetKey, 'target key')
    sameWidth(outer, name, fk, tk, 'the foreign key')
    correlation = allOf(tk.map((f, i) => eq(inner.column(f.name), outer.column(fk[i].name))))!
  } else if (rel.kind === 'manyToMany') {
    const { sk, tk, from: fromCols, to: toCols } = manyToManyKeys(outer, target, name, rel)
    const through = `rk_through_${depth}`
    if (innerEnclosing.includes(through)) throw fail(`${outer.table}.${name}: relation subqueries nest too deep`)
    const linked = (c: string) => col(`${through}.${c}`)
    node = { ...node, joins: [{ type: 'inner', table: { ...tableRefOf(rel.through), alias: through }, on: allOf([...toCols.map((c, i) => eq(linked(c), inner.column(tk[i].name))), pivotCondition(rel, linked)]) }] }
    correlation = allOf(fromCols.map((c, i) => eq(col(`${through}.${c}`), outer.column(sk[i].name))))!
  } else if (isThrough(rel)) {
    const mid = throughCorrelation(throughPlan(outer, name, rel), `rk_mid_${depth}`, inner.column, outer.column)
    node = { ...node, joins: mid.joins }
    correlation = mid.correlation
  } else if (isMorphInverse(rel)) {
    const m = morphInverse(outer, name, rel)
    correlation = allOf([eq(inner.column(m.key.name), outer.column(m.own.name)), eq(inner.column(m.type.name), encodeField(m.type, m.value))])!
  } else {
    const sk = keyFields(outer, rel.sourceKey, 'source key')
    const fk = keyFields(target, rel.foreignKey, `foreign key of ${outer.table}.${name}`)
    sameWidth(outer, name, fk, sk, 'the foreign key')
    correlation = allOf(fk.map((f, i) => eq(inner.column(f.name), outer.column(sk[i].name))))!
  }
  // An ordered one-row relation (latestOfMany, ...): its row is the one its order picks, which the
  // modifier's conditions then keep or not (Laravel's whereHas on a latestOfMany).
  const picked = pickedRow(outer, name, rel, target, inner.column, (f) => outer.column(f.name), `rk_pick_${depth}`, innerEnclosing, mq.options, mq.unscoped === true)
  return { ...node, where: allOf([correlation, picked, mq.where, scope]) }
}

/**
 * A morphTo as a filter (Laravel's `whereHasMorph`): for each type `morphWith` names, the row's
 * type field holding it AND EXISTS its model's row by the key field (that model's default scopes
 * and the type's conditions applied), ORed. Without `morphWith` (a plain modifier, or none) a
 * QueryError naming the relation: which types count must be said, as Laravel's `has` refuses a
 * MorphTo.
 */
const morphFilter = (outer: ModelCore, name: string, rel: MorphTo, modify: SubModifier): Expr => {
  const modifiersOf = morphModifiersOf(outer, name, rel, [modify])
  const types = [...modifiersOf.keys()]
  const typeField = outer.byName.get(rel.typeField)
  const idField = outer.byName.get(rel.idField)
  if (typeField === undefined || idField === undefined) throw fail(`${outer.table} has no field "${typeField === undefined ? rel.typeField : rel.idField}"`)
  const enclosing = [...(outer.enclosing ?? []), outer.alias ?? outer.table]
  const branches = types.map((type) => {
    const { target, key, model } = morphTarget(outer, name, rel, type)
    const inner = scopedCore(target, enclosing, enclosing.includes(target.table) ? `rk_${enclosing.length}` : undefined)
    const mq = morphQuery(outer, name, baseQuery(inner), modelIn(inner, ownValue(outer.graph?.publics, model)), modifiersOf.get(type), type)
    const scope = mq.unscoped === true ? undefined : scopeCondition(inner, mq.options)
    const node: SelectNode = {
      ...from(inner.alias === undefined ? inner.tableRef : { ...inner.tableRef, alias: inner.alias }),
      columns: [{ expr: sql1 }],
      where: allOf([eq(inner.column(key.name), outer.column(idField.name)), mq.where, scope]),
    }
    return and(eq(outer.column(typeField.name), encodeField(typeField, type)), exists(node))
  })
  return types.length === 0 ? raw(sql`1 = 0`) : or(...branches)
}

/** `EXISTS (related rows)`, or NOT EXISTS. */
export const relationFilter = (outer: ModelCore, path: string, modify: SubModifier | undefined, negated: boolean): Expr => {
  const names = path.split('.')
  const rel = ownValue(outer.relations, names[0])
  // A morphTo filters with morphWith, which names the types (any other use is refused by relatedSelect).
  const e = rel?.kind === 'morphTo' && names.length === 1 && outer.graph !== undefined && modify !== undefined && morphModifiers(modify) !== undefined
    ? morphFilter(outer, names[0], rel, modify)
    : exists(relatedSelect(outer, names, modify, () => [{ expr: sql1 }]))
  // A morphTo filter is a disjunction whose branches may be NULL (a NULL type): NOT of it is
  // then NULL, and the row would be left out of whereDoesntHave as well; COALESCE makes it false.
  return negated ? not(rel?.kind === 'morphTo' ? fn('coalesce', e, raw(sql`1 = 0`)) : e) : e
}

/**
 * A decoder of an aggregate value: the codec's own reading (integer text within 2^53 included:
 * SUM over integers is NUMERIC text on PostgreSQL, DECIMAL on MariaDB), then decimal text read
 * as the nearest double for number codecs. An integer beyond 2^53 is a DecodeError, never
 * rounded. Throws a DecodeError.
 *
 * @example aggregateDecoder(t.number, 'users.total')('12.50') // 12.5
 */
export const aggregateDecoder = (codec: import('io-ts').Any, what: string) => {
  const d = fastDecoder(codec)
  const n = fastDecoder(float)
  return (v: unknown): unknown => {
    if (v === null || v === undefined) return null
    let x = d(v)
    // Decimal text (an AVG, a SUM of a NUMERIC column) is read as the nearest double when the
    // codec takes numbers; an integer the codec refused is beyond 2^53 and is never rounded.
    if (x === FAIL && typeof v === 'string' && !INTEGER_TEXT.test(v.trim())) {
      const asNumber = n(v)
      if (asNumber !== FAIL) x = d(asNumber)
    }
    if (x === FAIL) throw dbError('DecodeError', `${what} does not decode as ${codec.name}: ${show(v)}`, { issues: [{ path: what, rule: codec.name, value: v, message: `expected ${codec.name}` }] })
    return x
  }
}

/**
 * `AVG(e)` as every engine averages to the double nearest the exact average: the typed `avg`,
 * which each dialect writes so. MySQL and MariaDB compute AVG of an integer or DECIMAL to only
 * `div_precision_increment` (4) more decimals and PostgreSQL to 16 (the average of values summing
 * to 25 over 11 rows reads 2.2727272727272727, whose double is not 25/11's), so their dialects
 * multiply the argument by an exact 1 with 30 decimals first (a DOUBLE stays one); SQLite averages
 * in doubles and needs nothing.
 *
 * @example averageOf(User.column('score')) // on MariaDB: AVG(`score` * CAST(1 AS DECIMAL(65, 30)))
 */
export const averageOf = (e: Expr): Expr => avg(e)

/** Which aggregate of related rows a `with...` reads. */
export type RelationAggregate = 'count' | 'exists' | 'sum' | 'max' | 'min' | 'avg'

/**
 * A computed column over a relation: COUNT(*), EXISTS, or SUM/MAX/MIN/AVG of a related field,
 * as a correlated subquery in the SELECT list.
 */
export const relationAggregate = (outer: ModelCore, name: string, what: RelationAggregate, field: string | undefined, modify: SubModifier | undefined, alias: string): Computed => {
  if (what === 'exists') {
    const e = exists(relatedSelect(outer, [name], modify, () => [{ expr: sql1 }]))
    return { name: alias, expr: e, decode: aggregateDecoder(bool, `${outer.table}.${alias}`) }
  }
  let codec: import('io-ts').Any = integer
  const node = relatedSelect(outer, [name], modify, (inner) => {
    if (what === 'count') return [{ expr: count() }]
    const f = inner.byName.get(field ?? '')
    if (f === undefined) throw fail(`${inner.table} has no field "${String(field)}"`)
    codec = what === 'avg' ? float : f.codec
    // The dialect is not known here: the average is written so that it is exact on every engine.
    return [{ expr: what === 'avg' ? averageOf(inner.column(f.name)) : fn(what, inner.column(f.name)) }]
  })
  const decode = aggregateDecoder(codec, `${outer.table}.${alias}`)
  const checked = what === 'count'
    ? (v: unknown) => {
      const n = fastDecoder(integer)(v)
      if (n === FAIL) throw dbError('DecodeError', `${outer.table}.${alias}: COUNT(*) is not an integer: ${show(v)}`, { issues: [] })
      return n
    }
    : decode
  return { name: alias, expr: subquery(node), decode: checked, codec }
}
