/**
 * Statement forms beyond the core builders: `SELECT DISTINCT ON`, inserts that skip or replace
 * conflicting rows, and UPDATE / DELETE over several tables. Each renders through its own
 * dialect function (`distinctOn`, `insertIgnore`, `insertReplace`, `updateFrom`, `deleteUsing`);
 * an engine without one fails with UnsupportedFeature.
 */
import type { DeleteNode, DerivedTable, FromItem, InsertNode, SelectNode, TableRef, UpdateNode, ValuesTable } from '../ast.js'
import { patchSelect, raw, table, toExpr, type Operand } from '../query.js'
import { isFragment, type Fragment } from '../sql.js'
import { withFields } from '../objects.js'

/**
 * `SELECT DISTINCT ON (exprs)`: the first row of each group, in the query's ORDER BY (PostgreSQL).
 * @example pipe(from('sale'), distinctOn('staff_id'), select('staff_id', 'amount'), orderBy('staff_id'), orderBy('amount', 'desc'))
 */
export const distinctOn = (...exprs: readonly Operand[]) => <Q extends SelectNode>(q: Q): Q =>
  patchSelect(q, { distinctOn: [...(q.distinctOn ?? []), ...exprs.map(toExpr)] })

/**
 * Skip the rows that would fail: SQLite `INSERT OR IGNORE` (unique, NOT NULL and CHECK failures
 * skip the row), MySQL and MariaDB `INSERT IGNORE` (which also writes out-of-range or too long
 * values changed, with a warning: prefer `onConflict(cols, 'nothing')`, which never does).
 * PostgreSQL has none: UnsupportedFeature.
 * @example pipe(insertInto('tag'), values(rows), orIgnore)
 */
export const orIgnore = <Q extends InsertNode>(q: Q): Q => withFields(q, { or: 'ignore' as const })

/**
 * Replace conflicting rows: SQLite `INSERT OR REPLACE`, MySQL and MariaDB `REPLACE` (both delete
 * the old row and insert the new one). PostgreSQL has none: UnsupportedFeature.
 * @example pipe(insertInto('setting'), values({ key: 'theme', value: 'dark' }), orReplace)
 */
export const orReplace = <Q extends InsertNode>(q: Q): Q => withFields(q, { or: 'replace' as const })

const fromItem = (t: string | TableRef | Fragment | DerivedTable | ValuesTable): FromItem =>
  typeof t === 'string' ? table(t) : isFragment(t) ? raw(t) : t

/**
 * Other tables an UPDATE reads: `UPDATE t SET ... FROM a WHERE ...` (PostgreSQL, SQLite 3.33+),
 * `UPDATE t, a SET t.col = ... WHERE ...` on MySQL and MariaDB. Join conditions go in `where`.
 * @example pipe(update('staff s'), set({ salary: col('r.salary') }), updateFrom('raise r'), where(eq('r.staff_id', col('s.id'))))
 */
export const updateFrom = (...tables: readonly (string | TableRef | Fragment | DerivedTable | ValuesTable)[]) => <Q extends UpdateNode>(q: Q): Q =>
  withFields(q, { from: [...(q.from ?? []), ...tables.map(fromItem)] })

/**
 * Other tables a DELETE reads: `DELETE FROM t USING a WHERE ...` (PostgreSQL), `DELETE t FROM t, a
 * WHERE ...` (MySQL, MariaDB); SQLite has none (use `isIn` or `exists`).
 * @example pipe(deleteFrom('sale s'), deleteUsing('staff st'), where(and(eq('st.id', col('s.staff_id')), eq('st.dept', 'ops'))))
 */
export const deleteUsing = (...tables: readonly (string | TableRef | Fragment | DerivedTable | ValuesTable)[]) => <Q extends DeleteNode>(q: Q): Q =>
  withFields(q, { using: [...(q.using ?? []), ...tables.map(fromItem)] })
