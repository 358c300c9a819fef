/**
 * Rows come back as objects keyed by column name, so a statement whose result has two columns
 * of one name (`select('p.id', 'c.id')`) would hand over one of the two values and drop the
 * other without a word. The built-in dialects refuse such a statement before it runs.
 */
import type { SelectLike } from '../ast.js'
import { dbError } from '../errors.js'

/** The name a selected column comes back under, where the statement alone tells it. */
const nameOf = (s: { readonly expr: { readonly kind: string; readonly name?: string }; readonly alias?: string }): string | undefined =>
  s.alias ?? (s.expr.kind === 'column' && s.expr.name !== '*' ? s.expr.name : undefined)

const ORDINAL = ['1st', '2nd', '3rd']
const ordinal = (i: number): string => ORDINAL[i] ?? `${i + 1}th`

/**
 * Throw a QueryError when two of the columns a SELECT returns (the first branch's, for a set
 * operation) share a name. `*`, `t.*` and expressions without an alias are not looked at: their
 * names are the engine's. A subquery is not looked at either (EXISTS, IN and INSERT ... SELECT
 * read their columns by position).
 *
 * @example uniqueOutputNames(pipe(from('p'), join('c', eq('c.p_id', col('p.id'))), select('p.id', 'c.id'))) // throws
 */
export const uniqueOutputNames = (q: object): void => {
  let s = q as SelectLike
  while (s.kind === 'compound') s = s.left
  if (s.kind !== 'select') return
  const cols = s.columns
  if (cols.length < 2) return
  for (let i = 1; i < cols.length; i++) {
    const name = nameOf(cols[i])
    if (name === undefined) continue
    for (let j = 0; j < i; j++) {
      if (nameOf(cols[j]) !== name) continue
      throw dbError('QueryError', `the SELECT returns two columns named "${name}" (the ${ordinal(j)} and the ${ordinal(i)} selected): rows are objects keyed by column name, so one of the two values would be lost; give one an alias (\`select('c.id as childId')\`, \`as(col('c.id'), 'childId')\`)`)
    }
  }
}
