/**
 * Subqueries in FROM and JOIN: derived tables, and LATERAL ones that may refer to the tables
 * before them (PostgreSQL, MySQL 8.0.14+; not MariaDB or SQLite, where compiling one is an
 * UnsupportedFeature).
 */
import type { DerivedTable, SelectLike } from '../ast.js'
import { raw } from '../query.js'
import { isFragment, type Fragment } from '../sql.js'

/**
 * `(query) AS alias`, for `from(...)` or a join.
 * @example pipe(from(derived(pipe(from('invoice'), select('customer_id', { spent: sum('total') }), groupBy('customer_id')), 's')), where(gt('s.spent', 40)))
 */
export const derived = (query: SelectLike | Fragment, alias: string): DerivedTable =>
  ({ kind: 'derived' as const, query: isFragment(query) ? raw(query) : query, alias })

/**
 * `LATERAL (query) AS alias`: the query may use columns of the tables before it.
 * @example pipe(from('customer c'), crossJoin(lateral(pipe(from('invoice i'), where(eq('i.customer_id', col('c.customer_id'))), orderBy('total', 'desc'), limit(1)), 'top')))
 */
export const lateral = (query: SelectLike | Fragment, alias: string): DerivedTable =>
  ({ kind: 'derived' as const, query: isFragment(query) ? raw(query) : query, alias, lateral: true })
