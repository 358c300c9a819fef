/**
 * CAST with portable type names, mapped by each dialect to its own (`castType`).
 */
import type { Expr, ResultType } from '../ast.js'
import { exprNode, toExpr, type Operand, type TypedExpr } from '../query.js'

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

/**
 * Read a result column back in a given way on every engine (see `ResultType`): `'json'` parses
 * JSON text (a JSON column on SQLite and MariaDB), `'integer'`, `'number'`, `'decimal'` and
 * `'float'` apply the numeric policy of `count`, `sum` and `avg`, `'boolean'` reads 1 and 0 (a
 * BOOLEAN column on SQLite and MariaDB) as `true` and `false`, `'date'` reads date text
 * (`YYYY-MM-DD[ HH:MM:SS[.fff]]`, UTC: SQLite's dates) as a Date, `'int64'` reads a BIGINT as a
 * bigint with every digit (mysql2 gives one as text, SQLite and PostgreSQL as a bigint). It changes nothing in the SQL;
 * name the column (`as`, or an object key) so the value can be found in the row.
 * @example select({ payload: readAs('payload', 'json'), n: readAs(sql`COUNT(*)`, 'integer') })
 */
export const readAs = <T extends ResultType>(e: Operand | Expr, type: T): TypedExpr<ReadAsValue[T] | null> => exprNode({ ...toExpr(e), result: type } as Expr)

/** The value type each `ResultType` reads back as (besides null). */
export interface ReadAsValue {
  readonly integer: number
  readonly float: number
  readonly number: number
  readonly decimal: string
  readonly json: unknown
  readonly boolean: boolean
  readonly date: Date
  readonly int64: bigint
}
