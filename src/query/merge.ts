/**
 * MERGE: one statement that updates, deletes or inserts each row of a source by whether it
 * matches a row of the target (PostgreSQL 15+; SQLite, MySQL and MariaDB have none and
 * compiling one is an UnsupportedFeature: use an upsert, `onConflict`).
 *
 * ```ts
 * pipe(
 *   mergeInto('stock s'),
 *   mergeUsing('delivery d', eq('d.item_id', col('s.item_id'))),
 *   whenMatched({ set: { qty: add('s.qty', col('d.qty')) } }),
 *   whenNotMatched({ insert: { item_id: col('d.item_id'), qty: col('d.qty') } }),
 * )
 * ```
 */
import type { DerivedTable, Expr, FromItem, MergeAction, MergeNode, TableRef, ValuesTable } from '../ast.js'
import { raw, table, toCondition, toValue } from '../query.js'
import { isFragment, type Fragment } from '../sql.js'

type Condition = Expr | Fragment | Readonly<Record<string, unknown>>

/**
 * Start a MERGE into a table (`'stock s'` gives an alias).
 * @example pipe(mergeInto('stock s'), mergeUsing('delivery d', eq('d.item_id', col('s.item_id'))), whenMatched('delete'))
 */
export const mergeInto = (t: string | TableRef): MergeNode =>
  ({ kind: 'merge', table: typeof t === 'string' ? table(t) : t, whens: [] })

/**
 * The source rows and the condition that matches them to the target's.
 * @example mergeUsing(valuesTable('d', ['item_id', 'qty'], [[1, 5]]), eq('d.item_id', col('s.item_id')))
 */
export const mergeUsing = (source: string | TableRef | Fragment | DerivedTable | ValuesTable, on: Condition) => (q: MergeNode): MergeNode =>
  ({ ...q, source: (typeof source === 'string' ? table(source) : isFragment(source) ? raw(source) : source) as FromItem, on: toCondition(on) })

/** What a matched row gets: new values, deletion, or nothing. */
export type MatchedAction = { readonly set: Readonly<Record<string, unknown>> } | 'delete' | 'nothing'
/** What an unmatched source row gets: an insert of these values, or nothing. */
export type NotMatchedAction = { readonly insert: Readonly<Record<string, unknown>> } | 'nothing'

/**
 * `WHEN MATCHED [AND cond] THEN UPDATE SET ... | DELETE | DO NOTHING`; values are parameters unless expressions.
 * @example whenMatched({ set: { qty: add('s.qty', col('d.qty')) } }, gt('d.qty', 0))
 */
export const whenMatched = (action: MatchedAction, and?: Condition) => (q: MergeNode): MergeNode => {
  const a: MergeAction = action === 'delete' ? { kind: 'delete' } : action === 'nothing' ? { kind: 'nothing' }
    : { kind: 'update', set: Object.entries(action.set).map(([c, v]) => [c, toValue(v)] as const) }
  return { ...q, whens: [...q.whens, { matched: true, action: a, ...(and === undefined ? {} : { and: toCondition(and) }) }] }
}

/**
 * `WHEN NOT MATCHED [AND cond] THEN INSERT (...) VALUES (...) | DO NOTHING`.
 * @example whenNotMatched({ insert: { item_id: col('d.item_id'), qty: col('d.qty') } })
 */
export const whenNotMatched = (action: NotMatchedAction, and?: Condition) => (q: MergeNode): MergeNode => {
  const a: MergeAction = action === 'nothing' ? { kind: 'nothing' }
    : { kind: 'insert', columns: Object.keys(action.insert), values: Object.values(action.insert).map(toValue) }
  return { ...q, whens: [...q.whens, { matched: false, action: a, ...(and === undefined ? {} : { and: toCondition(and) }) }] }
}
