/**
 * Common table expressions: `WITH name AS (query) statement`, several at once, and
 * `WITH RECURSIVE` (a CTE whose query refers to its own name, typically an anchor
 * `UNION ALL` a recursive step). They attach to a SELECT, a set operation, an INSERT, an
 * UPDATE or a DELETE where the engine has them (MariaDB: not UPDATE or DELETE).
 *
 * ```ts
 * const org = cte('org', pipe(
 *   from('employee'), select('employee_id', as(val(0), 'depth')), where(isNull('reports_to')),
 *   unionAll(pipe(from('employee e'), join('org o', ['e.reports_to', 'o.employee_id']), select('e.employee_id', as(add('o.depth', val(1)), 'depth')))),
 * ))
 * pipe(from('org'), select('*'), withRecursive(org))
 * ```
 *
 * `materialized` is a planner hint (PostgreSQL, SQLite 3.35+); where the engine has no such
 * hint (MySQL, MariaDB) it is dropped, and `supports(dialect, 'cteMaterialized')` is false.
 */
import type { CteNode, DeleteNode, InsertNode, RawNode, SelectLike, UpdateNode, WithClause } from '../ast.js'
import { patchSelect, raw } from '../query.js'
import { isFragment, type Fragment } from '../sql.js'
import { withFields } from '../objects.js'

/** Options of a CTE. */
export interface CteOptions {
  /** Names for the query's columns: `name (a, b) AS (...)`. */
  readonly columns?: readonly string[]
  /** `MATERIALIZED` (true) or `NOT MATERIALIZED` (false). */
  readonly materialized?: boolean
}

/**
 * One common table expression. The query may also be an INSERT, UPDATE or DELETE with
 * RETURNING, whose rows the CTE holds (PostgreSQL; elsewhere UnsupportedFeature).
 * @example cte('big_spenders', pipe(from('invoice'), select('customer_id'), groupBy('customer_id'), having(gt(sum('total'), 45))))
 * @example cte('gone', pipe(deleteFrom('job'), where({ state: 'done' }), returning('id')))
 */
export const cte = (name: string, query: SelectLike | Fragment | InsertNode | UpdateNode | DeleteNode, options: CteOptions = {}): CteNode =>
  ({
    name,
    query: isFragment(query) ? raw(query) as RawNode : query,
    ...(options.columns === undefined ? {} : { columns: options.columns }),
    ...(options.materialized === undefined ? {} : { materialized: options.materialized }),
  })

type WithTarget = SelectLike | InsertNode | UpdateNode | DeleteNode

const withCtes = (recursive: boolean) => (...ctes: readonly CteNode[]) => <Q extends WithTarget>(q: Q): Q => {
  const w: WithClause = ({
    recursive: recursive || (q.with?.recursive ?? false),
    ctes: [...(q.with?.ctes ?? []), ...ctes],
  })
  const t = q as WithTarget
  return (t.kind === 'select' ? patchSelect(t, { with: w }) : withFields(t, { with: w })) as Q
}

/**
 * `WITH cte, ...` before a statement (added to any it already has).
 * @example pipe(from('big_spenders b'), join('customer c', ['c.customer_id', 'b.customer_id']), select('c.email'), withCte(bigSpenders))
 */
export const withCte = withCtes(false)

/**
 * `WITH RECURSIVE cte, ...`: the CTEs may refer to themselves.
 * @example pipe(from('org'), orderBy('depth'), withRecursive(org))
 */
export const withRecursive = withCtes(true)
