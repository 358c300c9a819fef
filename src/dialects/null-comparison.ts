/**
 * An equality with a literal NULL: `eq('parent_id', null)` is `parent_id IS NULL` and
 * `ne('parent_id', null)` is `parent_id IS NOT NULL`, as Knex, SQLAlchemy, Django, Rails and
 * Laravel write it, and as `where({ parent_id: null })` and the models' `where` already did.
 * `parent_id = NULL` is never true, so `eq('parent_id', input.parentId)` with a null input
 * matched no row, silently.
 *
 * Only a NULL the statement holds (`null` given to `eq` / `ne`, `val(null)`, `lit(null)`) is
 * rewritten: a prepared query's `param()` is bound after the SQL is written, and stays `= ?`.
 * The statement-shape cache (`shape-cache.ts`) keeps a comparison with NULL and one with a value
 * apart, since their SQL differs.
 */
import type { BinaryNode, Expr, IsNullNode } from '../ast.js'

/** A NULL the statement holds: a bound `null` or a literal NULL. */
export const isNullOperand = (e: Expr): boolean => (e.kind === 'value' || e.kind === 'literal') && e.value === null

/**
 * The IS [NOT] NULL test an `=` / `<>` with a literal NULL on one side stands for, or undefined
 * for any other comparison.
 *
 * @example nullComparison({ kind: 'binary', op: '=', left: col('a'), right: val(null) }) // { kind: 'isNull', expr: col('a'), negated: false }
 */
export const nullComparison = (e: BinaryNode): IsNullNode | undefined => {
  if (e.op !== '=' && e.op !== '<>') return undefined
  const other = isNullOperand(e.right) ? e.left : isNullOperand(e.left) ? e.right : undefined
  return other === undefined ? undefined : { kind: 'isNull', expr: other, negated: e.op === '<>' }
}
