/**
 * CAST with portable type names, mapped by each dialect to its own (`castType`).
 */
import type { Expr } from '../ast.js'
import { exprNode, toExpr, type Operand } from '../query.js'

/**
 * A portable type name: `integer`, `bigint`, `smallint`, `text`, `varchar(n)`, `char(n)`,
 * `decimal(p,s)`, `real`, `double`, `boolean`, `date`, `timestamp`, `time`, `json`. Any other
 * plain type name is passed to the engine as it is (`uuid`, `interval` on PostgreSQL).
 */
export type PortableTypeName =
  | 'integer' | 'bigint' | 'smallint' | 'text' | 'real' | 'double' | 'boolean' | 'date' | 'timestamp' | 'time' | 'json' | 'decimal'
  | `varchar(${number})` | `char(${number})` | `decimal(${number},${number})` | `decimal(${number}, ${number})`
  | (string & {})

/**
 * `CAST(expr AS type)` with the type spelled for the engine: `integer` is `SIGNED` on MySQL,
 * `decimal(10,2)` is `DECIMAL(10, 2)`, `date` on SQLite is the `date()` function (SQLite's
 * CAST would turn `'2024-01-02'` into the number 2024). A string is a column; use `val()`
 * to cast a value.
 *
 * @example
 * cast(avg('unit_price'), 'decimal(10,2)')   // CAST(AVG("unit_price") AS DECIMAL(10, 2))
 * cast(val('42'), 'integer')                 // CAST(? AS INTEGER), CAST(? AS SIGNED) on MySQL
 */
export const cast = (e: Operand | Expr, type: PortableTypeName): Expr => exprNode({ kind: 'cast', expr: toExpr(e), type })
