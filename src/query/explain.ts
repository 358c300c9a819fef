/**
 * EXPLAIN for any statement: run it with `db.all(explain(q))` to get the engine's plan rows
 * (`EXPLAIN` on PostgreSQL and MySQL/MariaDB, `EXPLAIN QUERY PLAN` on SQLite). The rows are
 * each engine's own.
 */
import type { ExplainNode } from '../ast.js'
import type { Query } from '../query.js'
import { raw } from '../query.js'
import { isFragment } from '../sql.js'

/**
 * The plan of a statement. `analyze: true` runs the statement and reports actual figures
 * (`EXPLAIN ANALYZE`, MariaDB `ANALYZE`; not SQLite): mind that it executes writes.
 *
 * @example
 * const plan = await run(db.all(explain(pipe(from('track'), where({ album_id: 1 })))))
 */
export const explain = (query: Query, options: { readonly analyze?: boolean } = {}): ExplainNode =>
  ({ kind: 'explain' as const, query: isFragment(query) ? raw(query) : query, analyze: options.analyze ?? false })
