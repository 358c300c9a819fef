/**
 * Grouping on a model query: `groupBy(fields)` then `aggregate(db, a => ({ ... }))`, one
 * statement, rows decoded (group fields with their codecs, counts as integers, sums and
 * extremes with the field's codec, averages as numbers: numeric text from PostgreSQL and
 * MariaDB is read as a number for number fields, and MariaDB's averages keep every digit, see
 * `averageOf`).
 */
import { left, right } from 'fp-ts/lib/Either.js'
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import type { Expr, Selection } from '../ast.js'
import type { Backend } from '../compose.js'
import { dbError, type DbError } from '../errors.js'
import { and, as, count, eq, fn, gt, gte, lt, lte, ne } from '../query.js'
import { cast } from '../query/cast.js'
import { FAIL, fastDecoder, float, integer, readsJson } from './codecs.js'
import { comparedExpr, comparedValue } from './decimal-compare.js'
import { jsonAsText } from './in-place.js'
import { encodeField, type ModelCore } from './core.js'
import { show } from './decode.js'
import { type ModelQuery, toSelect } from './query.js'
import { attempt } from './read.js'
import { aggregateDecoder, averageOf } from './subqueries.js'

/** One aggregate of `aggregate`; `V` is the decoded value's type. */
export interface Agg<V> {
  readonly _tag: 'Agg'
  readonly fn: 'count' | 'countDistinct' | 'sum' | 'avg' | 'min' | 'max'
  readonly field?: string
  readonly __value?: V
}

/** The aggregates a model offers to `aggregate`, typed by its row. */
export interface AggKit<R> {
  /** `COUNT(*)`, an integer. */
  readonly count: () => Agg<number>
  /** `COUNT(DISTINCT field)`, an integer. */
  readonly countDistinct: (field: keyof R & string) => Agg<number>
  /** `SUM(field)`, decoded with the field's codec; null over no rows. */
  readonly sum: <K extends keyof R & string>(field: K) => Agg<R[K] | null>
  /** `AVG(field)` as a number; null over no rows. */
  readonly avg: (field: keyof R & string) => Agg<number | null>
  readonly min: <K extends keyof R & string>(field: K) => Agg<R[K] | null>
  readonly max: <K extends keyof R & string>(field: K) => Agg<R[K] | null>
}

const agg = <V>(f: Agg<V>['fn'], field?: string): Agg<V> => Object.freeze({ _tag: 'Agg', fn: f, field })

/** The aggregate kit (the same for every model: fields are checked when the query runs). */
export const aggKit: AggKit<any> = Object.freeze({
  count: () => agg<number>('count'),
  countDistinct: (field: string) => agg<number>('countDistinct', field),
  sum: (field: string) => agg('sum', field),
  avg: (field: string) => agg<number | null>('avg', field),
  min: (field: string) => agg('min', field),
  max: (field: string) => agg('max', field),
})

/** The mark `groupBy` leaves on a query's selection type: the group fields. */
export interface Grouped<G> {
  readonly '~grouped': G
}

/** The decoded values of an aggregate spec. */
export type AggOut<A> = { readonly [K in keyof A]: A[K] extends Agg<infer V> ? V : never }

const fail = (core: ModelCore, message: string): DbError => dbError('QueryError', `${core.table}: ${message}`)

const exprOf = (core: ModelCore, dialect: string, a: Agg<unknown>): { expr: Expr; decode: (v: unknown) => unknown } => {
  const what = `${a.fn}(${a.field ?? '*'}) of ${core.table}`
  const whole = (v: unknown) => {
    const n = fastDecoder(integer)(v)
    if (n === FAIL) throw dbError('DecodeError', `${what} is not an integer: ${show(v)}`, { issues: [] })
    return n
  }
  if (a.fn === 'count') return { expr: count(), decode: whole }
  const f = core.byName.get(a.field ?? '')
  if (f === undefined) throw fail(core, `no field "${String(a.field)}"`)
  const c = core.column(f.name)
  switch (a.fn) {
    case 'countDistinct': return { expr: count(c, { distinct: true }), decode: whole }
    case 'avg': return { expr: averageOf(c), decode: aggregateDecoder(float, what) }
    default: return { expr: fn(a.fn, c), decode: aggregateDecoder(f.codec, what) }
  }
}

const HAVING: Readonly<Record<string, (l: Expr, r: Expr) => Expr>> = { '=': eq, '<>': ne, '!=': ne, '<': lt, '<=': lte, '>': gt, '>=': gte }

/**
 * The HAVING condition of a query's `having` items, undefined without any. The value of a sum,
 * min or max is encoded by its field's codec; of a count or an average it is a number. A
 * `having` without `groupBy`, an unknown field or operator, or an undefined value is a
 * QueryError / ValidationError (thrown).
 *
 * @example havingCondition(pipe(Item.query, Item.groupBy('kind'), Item.having((a) => a.count(), '>', 1))) // COUNT(*) > ?
 */
export const havingCondition = (q: ModelQuery<any, any, any>): Expr | undefined => {
  const items = q.having ?? []
  if (items.length === 0) return undefined
  const core = q.core
  if (q.group === undefined || q.group.length === 0) throw fail(core, 'having needs groupBy: it keeps or drops groups')
  return and(...items.map((h) => {
    const build = HAVING[h.op]
    if (build === undefined) throw fail(core, `having takes =, <>, <, <=, > or >=, got ${JSON.stringify(h.op)}`)
    const what = `having ${h.agg.fn}(${h.agg.field ?? '*'})`
    if (h.value === undefined || h.value === null) {
      throw dbError('ValidationError', `${core.table}: ${what} ${h.op}: the value is ${String(h.value)}`, { issues: [{ path: h.agg.field ?? h.agg.fn, rule: 'defined', value: h.value, message: `${what} needs a value` }] })
    }
    const { expr } = exprOf(core, '', h.agg)
    const byField = h.agg.fn === 'sum' || h.agg.fn === 'min' || h.agg.fn === 'max'
    const field = byField ? core.byName.get(h.agg.field!)! : undefined
    const value = field === undefined ? h.value : encodeField(field, h.value)
    return build(comparedExpr(field?.codec, expr), comparedValue(field?.codec, value))
  }))
}

/**
 * The SQL expression of an aggregate of a model (thrown QueryError for a field it does not have).
 * @example aggregateExpr(Item.core, aggKit.sum('score')) // SUM("h6_rows"."score")
 */
export const aggregateExpr = (core: ModelCore, a: Agg<unknown>): Expr => exprOf(core, '', a).expr

/**
 * Run a grouped (or whole-table) aggregate query: one row per group, or one row without
 * `groupBy`. The query's conditions, default scopes, order (of group fields), limit and offset
 * apply.
 */
export const aggregateRows = (db: Backend, q: ModelQuery<any, any, any>, spec: Readonly<Record<string, Agg<unknown>>>): TaskEither<DbError, Record<string, unknown>[]> => attempt(async () => {
  if (q.error !== undefined) return left(q.error)
  const core = q.core
  const group = (q.group ?? []).map((name) => {
    const f = core.byName.get(name)
    if (f === undefined) throw fail(core, `no field "${name}" to group by`)
    return f
  })
  const keys = Object.keys(spec)
  if (keys.length === 0) throw fail(core, 'aggregate needs at least one aggregate')
  const parts = keys.map((k) => exprOf(core, db.dialect.name, spec[k]))
  const json = jsonAsText(db)
  const columns: Selection[] = [
    // A `jsonOf` field as its text where the driver parses JSON (see `jsonAsText`).
    ...group.map((f, i) => as(json && readsJson(f.codec) ? cast(core.column(f.name), 'text') : core.column(f.name), `rk_g${i}`)),
    ...parts.map((p, i) => as(p.expr, `rk_a${i}`)),
  ]
  const node = { ...toSelect({ ...q, computed: undefined, fields: [] }), columns, groupBy: group.map((f) => core.column(f.name)), having: havingCondition(q) }
  const r = await db.all(node)()
  if (r._tag === 'Left') return r
  const decoders = group.map((f) => fastDecoder(f.codec))
  return right(r.right.map((raw) => {
    const out: Record<string, unknown> = {}
    group.forEach((f, i) => {
      const v = raw[`rk_g${i}`]
      if (v === null || v === undefined) {
        out[f.name] = f.optional ? undefined : null
        return
      }
      const d = decoders[i](v)
      if (d === FAIL) throw dbError('DecodeError', `${core.table}.${f.name} does not decode as ${f.codec.name}: ${show(v)}`, { issues: [{ path: f.name, rule: f.codec.name, value: v, message: `expected ${f.codec.name}` }] })
      out[f.name] = d
    })
    keys.forEach((k, i) => { out[k] = parts[i].decode(raw[`rk_a${i}`]) })
    return out
  }))
})
