/**
 * Subqueries in FROM and JOIN: derived tables, and LATERAL ones that may refer to the tables
 * before them (PostgreSQL, MySQL 8.0.14+; not MariaDB or SQLite, where compiling one is an
 * UnsupportedFeature).
 */
import type { DerivedTable, SelectLike, ValuesTable } from '../ast.js'
import { raw, toValue } from '../query.js'
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

/**
 * Rows written in the query, as a table to select from or join: `(VALUES (1, 'a'), ...) AS
 * alias (columns)` on PostgreSQL; `(SELECT 1 AS id, 'a' AS name UNION ALL ...) AS alias`
 * where a derived table cannot name its columns (SQLite, MySQL, MariaDB). Numbers are written
 * as literals, other values bound.
 * @example pipe(from(valuesTable('v', ['id', 'label'], [[1, 'one'], [2, 'two']])), join('t', ['t.id', 'v.id']))
 */
export const valuesTable = (alias: string, columns: readonly string[], rows: readonly (readonly unknown[])[]): ValuesTable =>
  ({ kind: 'values', alias, columns, rows: rows.map((r) => r.map(toValue)) })
