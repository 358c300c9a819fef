/**
 * Comparisons beyond `=` and IN: NULL-safe equality (`IS [NOT] DISTINCT FROM`), row values
 * (`(a, b) IN ((1, 2), ...)`) and comparisons with every or any value of a subquery or an
 * array (`> ALL (...)`, `= ANY (...)`). Each renders through its own dialect function.
 */
import type { Expr, SelectLike } from '../ast.js'
import { exprNode, isExpr, raw, toExpr, toValue, type Operand } from '../query.js'
import { isFragment, type Fragment } from '../sql.js'

const distinctFrom = (negated: boolean) => (left: Operand, right: unknown): Expr =>
  exprNode({ kind: 'distinctFrom', left: toExpr(left), right: toValue(right), negated })

/**
 * `left IS DISTINCT FROM right`: `<>` where NULL is a value (MySQL `NOT (a <=> b)`, SQLite `IS NOT`).
 * @example where(isDistinctFrom('boss_id', 3)) // rows whose boss_id is NULL too
 */
export const isDistinctFrom = distinctFrom(false)
/**
 * `left IS NOT DISTINCT FROM right`: `=` where NULL equals NULL (MySQL `<=>`, SQLite `IS`).
 * @example where(isNotDistinctFrom('boss_id', null))
 */
export const isNotDistinctFrom = distinctFrom(true)

/**
 * A row value `(a, b, ...)`: strings are columns, anything else as `toValue` makes it.
 * @example where(gt(tuple('sold_on', 'id'), tuple(val('2024-02-01'), val(4)))) // keyset paging
 */
export const tuple = (...items: readonly unknown[]): Expr =>
  exprNode({ kind: 'tuple', items: items.map((i) => (typeof i === 'string' ? toExpr(i) : toValue(i))) })

const rowsOf = (rows: readonly (readonly unknown[])[]): Expr[] =>
  rows.map((r) => exprNode({ kind: 'tuple', items: r.map(toValue) }))

/** The rows a row value is compared with: a list, a query, or a raw `sql` SELECT (the list's one item). */
const rowList = (rows: readonly (readonly unknown[])[] | SelectLike | Fragment): readonly Expr[] | SelectLike =>
  Array.isArray(rows) ? rowsOf(rows) : isFragment(rows) ? [raw(rows)] : (rows as SelectLike)

/**
 * `(a, b) IN ((1, 2), (3, 4))` or `(a, b) IN (subquery)`, the subquery a query or a raw `sql`
 * SELECT. An empty list is false.
 * @example where(tupleIn(['staff_id', 'amount'], [[2, 100], [4, 70]]))
 */
export const tupleIn = (columns: readonly Operand[], rows: readonly (readonly unknown[])[] | SelectLike | Fragment): Expr =>
  exprNode({ kind: 'in', expr: exprNode({ kind: 'tuple', items: columns.map(toExpr) }), list: rowList(rows), negated: false })
/** `(a, b) NOT IN (...)` @example where(tupleNotIn(['a', 'b'], [[1, 2]])) */
export const tupleNotIn = (columns: readonly Operand[], rows: readonly (readonly unknown[])[] | SelectLike | Fragment): Expr =>
  exprNode({ kind: 'in', expr: exprNode({ kind: 'tuple', items: columns.map(toExpr) }), list: rowList(rows), negated: true })

const quantified = (quantifier: 'any' | 'all') => (source: SelectLike | Expr | readonly unknown[]): Expr =>
  exprNode({
    kind: 'quantified',
    quantifier,
    source: Array.isArray(source) ? toValue(source) : isExpr(source) ? toExpr(source as Expr) : (source as SelectLike),
  })

/**
 * `ANY (subquery)` on the right of a comparison; a JS array is bound as one array parameter
 * (PostgreSQL only: MySQL has no arrays, SQLite no ANY).
 * @example where(eq('id', any(pipe(from('sale'), select('staff_id'))))) // = ANY (SELECT ...)
 * @example where(eq('id', any([1, 2, 3])))                               // PostgreSQL: "id" = ANY ($1)
 */
export const any = quantified('any')
/**
 * `ALL (subquery)` on the right of a comparison: true when it holds for every value.
 * @example where(gt('salary', all(pipe(from('staff'), select('salary'), where({ dept: 'ops' })))))
 */
export const all = quantified('all')


/**
 * `expr COLLATE name`: compare or sort with another collation (its name is the engine's own:
 * `NOCASE` on SQLite, `C` or `und-x-icu` on PostgreSQL, `utf8mb4_bin` on MySQL and MariaDB).
 * @example orderBy(collate('name', 'C'))
 */
export const collate = (e: Operand, collation: string): Expr => exprNode({ kind: 'collate', expr: toExpr(e), collation })
