/**
 * JSON documents: extract a value at a path (as JSON or as text) and test containment. Each
 * renders through its own dialect function (`jsonExtract`, `jsonExtractText`,
 * `jsonContains`): PostgreSQL `->` / `->>` / `@>`, MySQL and MariaDB `JSON_EXTRACT` /
 * `JSON_UNQUOTE(JSON_EXTRACT())` / `JSON_CONTAINS`, SQLite `->` / `->>` (3.38+, else
 * `json_extract`). Path keys travel as parameters, never in the SQL text.
 */
import type { Expr, JsonPath } from '../ast.js'
import { exprNode, toExpr, toValue, type Operand } from '../query.js'

/**
 * The JSON value at a path: object keys (strings) and array indexes (numbers).
 *
 * @example
 * jsonGet('payload', 'customer', 'tags', 0) // MySQL: JSON_EXTRACT(`payload`, ?) with '$."customer"."tags"[0]'
 */
export const jsonGet = (e: Operand | Expr, ...path: JsonPath): Expr =>
  exprNode({ kind: 'jsonExtract', expr: toExpr(e), path, asText: false })

/**
 * The value at a path as text (a string without its quotes), for comparisons and output.
 *
 * @example
 * where(eq(jsonText('payload', 'status'), 'paid'))
 */
export const jsonText = (e: Operand | Expr, ...path: JsonPath): Expr =>
  exprNode({ kind: 'jsonExtract', expr: toExpr(e), path, asText: true })

/**
 * Whether the document contains `value` (a JS value is bound as JSON): objects contain
 * their sub-objects, arrays their elements.
 *
 * @example
 * where(jsonContains('payload', { tags: ['rock'] })) // PostgreSQL: ("payload" @> $1::jsonb)
 */
export const jsonContains = (e: Operand | Expr, value: unknown): Expr =>
  exprNode({ kind: 'jsonContains', expr: toExpr(e), value: toValue(value) })
