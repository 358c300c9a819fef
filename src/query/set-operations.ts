/**
 * Set operations: `UNION [ALL]`, `INTERSECT [ALL]`, `EXCEPT [ALL]`, read left to right as the
 * pipe reads. ORDER BY, LIMIT and OFFSET applied after them order and limit the whole result
 * (order by output column names). A member with its own ORDER BY or LIMIT keeps it: it is
 * parenthesised, or on SQLite (which cannot parenthesise members) wrapped as
 * `SELECT * FROM (...)`. The right member may be a raw `sql` SELECT.
 *
 * ```ts
 * pipe(from('customer'), select('country'), union(pipe(from('employee'), select('country'))), orderBy('country'))
 * ```
 */
import type { CompoundNode, SelectLike } from '../ast.js'
import { from, type Compound, type Row } from '../query.js'
import { derived } from './derived.js'
import { isFragment, type Fragment } from '../sql.js'

/**
 * A member given as a raw `sql` SELECT (as Knex's `union(knex.raw(...))`) is read through a
 * derived table, `SELECT * FROM (...) AS rk_raw`: a query node every dialect can place (and
 * parenthesise, or not, as its engine needs) on either side of any set operation.
 */
const member = (q: SelectLike | Fragment): SelectLike => (isFragment(q) ? from(derived(q, 'rk_raw')) : q)

const setOp = (op: CompoundNode['op'], all: boolean) =>
  <R = Row>(right: SelectLike | Fragment) => (left: SelectLike): Compound<R> =>
    ({ kind: 'compound' as const, op, all, left, right: member(right), orderBy: [] })

/** `left UNION right`: rows of either, without duplicates. @example pipe(a, union(b)) */
export const union = setOp('union', false)
/** `left UNION ALL right`: rows of both, duplicates kept. @example pipe(a, unionAll(b)) */
export const unionAll = setOp('union', true)
/** `left INTERSECT right`: rows in both. @example pipe(a, intersect(b)) */
export const intersect = setOp('intersect', false)
/** `left INTERSECT ALL right` (not on SQLite). @example pipe(a, intersectAll(b)) */
export const intersectAll = setOp('intersect', true)
/** `left EXCEPT right`: rows of the left not in the right. @example pipe(a, except(b)) */
export const except = setOp('except', false)
/** `left EXCEPT ALL right` (not on SQLite). @example pipe(a, exceptAll(b)) */
export const exceptAll = setOp('except', true)
