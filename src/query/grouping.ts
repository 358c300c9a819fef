/**
 * Aggregates beyond the basics: FILTER (WHERE ...) on any aggregate (emulated with CASE
 * where the engine has no FILTER: MySQL, MariaDB, SQLite before 3.30), COUNT(DISTINCT),
 * and GROUP BY with ROLLUP subtotals (PostgreSQL `ROLLUP (...)`, MySQL/MariaDB
 * `... WITH ROLLUP`; not SQLite).
 */
import type { Expr, SelectNode } from '../ast.js'
import { count, exprNode, patchSelect, toCondition, toExpr, type Operand } from '../query.js'
import type { Fragment } from '../sql.js'

/**
 * An aggregate that only counts the rows meeting a condition: `agg FILTER (WHERE cond)`.
 * @example filterWhere(count(), gt('total', 10)) // COUNT(*) FILTER (WHERE "total" > ?); MySQL: COUNT(CASE WHEN "total" > ? THEN 1 END)
 */
export const filterWhere = (aggregate: Expr, condition: Expr | Fragment | Readonly<Record<string, unknown>>): Expr => {
  const filter = toCondition(condition)
  if (aggregate.kind === 'func') return exprNode({ ...aggregate, filter })
  // A windowed aggregate: FILTER goes on the aggregate, before OVER.
  if (aggregate.kind === 'window') return exprNode({ ...aggregate, func: { ...aggregate.func, filter } })
  // Not an aggregate: a call no dialect accepts, so compiling it is a QueryError.
  return exprNode({ kind: 'func', name: 'FILTER on a non-aggregate', args: [aggregate], filter })
}

/** `COUNT(DISTINCT expr)` @example countDistinct('customer_id') */
export const countDistinct = (e: Operand): Expr => count(e, { distinct: true })

/**
 * `GROUP BY` with subtotals: one row per group, one per prefix of the columns (the rolled-up
 * columns are NULL there) and a grand total.
 * @example pipe(from('invoice'), select('billing_country', 'billing_city', { total: sum('total') }), groupByRollup('billing_country', 'billing_city'))
 */
export const groupByRollup = (...cols: readonly Operand[]) => <Q extends SelectNode>(q: Q): Q =>
  patchSelect(q, { groupBy: [...q.groupBy, ...cols.map(toExpr)], rollup: true })
