/**
 * JSON documents: extract a value at a path (as JSON or as text) and test containment. Each
 * renders through its own dialect function (`jsonExtract`, `jsonExtractText`,
 * `jsonContains`): PostgreSQL `->` / `->>` / `@>`, MySQL and MariaDB `JSON_EXTRACT` /
 * `JSON_UNQUOTE(JSON_EXTRACT())` / `JSON_CONTAINS`, SQLite `->` / `->>` (3.38+, else
 * `json_extract`). Path keys travel as parameters, never in the SQL text.
 */
import type { Expr, JsonPath, SelectLike } from '../ast.js'
import { exprNode, toExpr, toValue, type Operand, type TypedExpr } from '../query.js'

/**
 * The JSON value at a path: object keys (strings) and array indexes (numbers). Named in a
 * result, it reads back as that JSON value, parsed, on every engine (a string as the string,
 * `[1]` as an array; SQLite returns JSON text, which is parsed). Compared with a number (`eq`,
 * `gt`, `between`, ...), it compares as a number on every engine, as Knex's `whereJsonPath` does
 * (SQLite reads it with `json_extract` there).
 *
 * @example
 * jsonGet('payload', 'customer', 'tags', 0) // MySQL: JSON_EXTRACT(`payload`, ?) with '$."customer"."tags"[0]'
 */
export const jsonGet = (e: Operand | Expr, ...path: JsonPath): TypedExpr<unknown> =>
  exprNode({ kind: 'jsonExtract', expr: toExpr(e), path, asText: false, result: 'json' })

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

/**
 * A JSON object from keys and values (strings are columns, other values parameters):
 * `JSON_BUILD_OBJECT` on PostgreSQL, `json_object` on SQLite, `JSON_OBJECT` on MySQL and MariaDB.
 * @example select(as(jsonBuildObject({ id: 'id', name: 'name' }), 'person'))
 */
export const jsonBuildObject = (entries: Readonly<Record<string, Operand | Expr | unknown>>): TypedExpr<Record<string, unknown>> =>
  exprNode({ kind: 'jsonBuildObject', entries: Object.entries(entries).map(([k, v]) => [k, typeof v === 'string' ? toExpr(v) : toValue(v)] as const) })

/**
 * A subquery's rows as a JSON array of objects keyed by its column names (`[]` when it has no
 * rows), for nesting children in one query: PostgreSQL `json_agg`, SQLite `json_group_array`,
 * MySQL and MariaDB (10.5+) `JSON_ARRAYAGG`. Name every column (computed ones with `as`).
 * Named in a result, the value comes back parsed on every engine.
 * @example select('a.title', as(jsonArrayFrom(pipe(from('track t'), select('t.name'), where(eq('t.album_id', col('a.album_id'))))), 'tracks'))
 */
export const jsonArrayFrom = (query: SelectLike): TypedExpr<Record<string, unknown>[]> => exprNode({ kind: 'jsonFrom', shape: 'array', query })

/**
 * A subquery's first row as a JSON object (NULL when it has none).
 * @example select('t.name', as(jsonObjectFrom(pipe(from('album a'), select('a.title'), where(eq('a.album_id', col('t.album_id'))))), 'album'))
 */
export const jsonObjectFrom = (query: SelectLike): TypedExpr<Record<string, unknown> | null> => exprNode({ kind: 'jsonFrom', shape: 'object', query })
