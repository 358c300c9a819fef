/**
 * Aggregates beyond the basics: FILTER (WHERE ...) on any aggregate (emulated with CASE
 * where the engine has no FILTER: MySQL, MariaDB, SQLite before 3.30), COUNT(DISTINCT),
 * and GROUP BY with ROLLUP subtotals (PostgreSQL `ROLLUP (...)`, MySQL/MariaDB
 * `... WITH ROLLUP`; not SQLite).
 */
import type { Expr, OrderItem, SelectNode } from '../ast.js'
import { count, exprNode, patchSelect, toCondition, toExpr, type Operand, type TypedExpr } from '../query.js'
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
export const countDistinct = (e: Operand): TypedExpr<number> => count(e, { distinct: true })

/**
 * `GROUP BY` with subtotals: one row per group, one per prefix of the columns (the rolled-up
 * columns are NULL there) and a grand total.
 * @example pipe(from('invoice'), select('billing_country', 'billing_city', { total: sum('total') }), groupByRollup('billing_country', 'billing_city'))
 */
export const groupByRollup = (...cols: readonly Operand[]) => <Q extends SelectNode>(q: Q): Q =>
  patchSelect(q, { groupBy: [...q.groupBy, ...cols.map(toExpr)], rollup: true })

/** What `aggregate` adds to an aggregate call. */
export interface AggregateOptions {
  /** `AGG(DISTINCT x)` */
  readonly distinct?: boolean
  /** `AGG(x ORDER BY ...)`: strings are columns ascending; `desc('c')` and `asc('c')` from the window builders work too. */
  readonly orderBy?: readonly (Operand | OrderItem)[]
  /** `AGG(x) FILTER (WHERE ...)` (CASE inside where the engine has no FILTER). */
  readonly filter?: Expr | Fragment | Readonly<Record<string, unknown>>
}

const orderItemOf = (o: Operand | OrderItem): OrderItem =>
  typeof o === 'object' && o !== null && 'direction' in o && 'expr' in o ? (o as OrderItem) : { expr: toExpr(o as Operand), direction: 'asc' }

/**
 * Any aggregate with DISTINCT, ORDER BY inside its parentheses, and FILTER.
 * ORDER BY inside an aggregate: PostgreSQL, SQLite 3.44+, and MySQL/MariaDB for GROUP_CONCAT only.
 * @example aggregate(fn('array_agg', 'name'), { orderBy: [desc('salary')], filter: { dept: 'eng' } })
 */
export const aggregate = (call: Expr, options: AggregateOptions): Expr => {
  if (call.kind !== 'func') return exprNode({ kind: 'func', name: 'aggregate options on a non-aggregate', args: [call] })
  const withOrder = exprNode({
    ...call,
    ...(options.distinct === undefined ? {} : { distinct: options.distinct }),
    ...(options.orderBy === undefined ? {} : { orderBy: options.orderBy.map(orderItemOf) }),
  })
  return options.filter === undefined ? withOrder : filterWhere(withOrder, options.filter)
}

/**
 * Strings of a group joined with a separator, in an order: PostgreSQL `STRING_AGG`, SQLite
 * `GROUP_CONCAT` (ORDER BY from 3.44), MySQL and MariaDB `GROUP_CONCAT(... SEPARATOR ...)`.
 * @example stringAgg('name', ', ', { orderBy: ['name'] })
 */
export const stringAgg = (e: Operand, separator: string, options: Omit<AggregateOptions, 'filter'> = {}): Expr =>
  aggregate(exprNode({ kind: 'func', name: 'string_agg', args: [toExpr(e), exprNode({ kind: 'literal', value: separator })] }), options)

/**
 * An ordered-set aggregate: `PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY x)` (PostgreSQL;
 * elsewhere UnsupportedFeature). Strings in `orderBy` are columns, ascending.
 * @example withinGroup(fn('percentile_cont', val(0.5)), ['salary']) // the median salary
 */
export const withinGroup = (call: Expr, orderBy: readonly (Operand | OrderItem)[]): Expr => {
  if (call.kind !== 'func') return exprNode({ kind: 'func', name: 'WITHIN GROUP on a non-aggregate', args: [call] })
  return exprNode({ ...call, withinGroup: orderBy.map(orderItemOf) })
}
