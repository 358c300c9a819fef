/**
 * Calendar arithmetic, truncation and field extraction, rendered per dialect: one dialect
 * function each (`dateAdd`, `dateTrunc`, `extract`), so each can be overridden alone.
 *
 * Results: `dateAdd` and `dateTrunc` give a timestamp, from a date or a timestamp (SQLite:
 * `'YYYY-MM-DD HH:MM:SS'` text, MySQL/MariaDB: DATETIME, PostgreSQL: timestamp). Adding months clamps to the month's last day on every engine
 * (31 January + 1 month = 28/29 February; on SQLite before 3.46 the day overflows into March).
 */
import type { DatePart, DateUnit, Expr } from '../ast.js'
import { exprNode, toExpr, toValue, type Operand } from '../query.js'

/**
 * `expr` plus `amount` units (a negative amount subtracts). The amount is a parameter unless
 * it is an expression.
 *
 * @example
 * dateAdd('invoice_date', 30, 'day')
 * // SQLite: datetime("invoice_date", ? || ' days')   PostgreSQL: ("invoice_date" + $1 * INTERVAL '1' DAY)
 * // MySQL:  DATE_ADD(CAST(`invoice_date` AS DATETIME), INTERVAL ? DAY)
 */
export const dateAdd = (e: Operand | Expr, amount: number | Expr, unit: DateUnit): Expr =>
  exprNode({ kind: 'dateAdd', expr: toExpr(e), amount: toValue(amount), unit })

/**
 * `expr` truncated to the start of its unit (`week` starts on Monday).
 *
 * @example
 * dateTrunc('month', 'invoice_date')
 * // PostgreSQL: DATE_TRUNC('month', "invoice_date")   SQLite: datetime("invoice_date", 'start of month')
 */
export const dateTrunc = (unit: DateUnit, e: Operand | Expr): Expr => exprNode({ kind: 'dateTrunc', unit, expr: toExpr(e) })

/**
 * One field of a date or timestamp as an integer.
 *
 * @example
 * extract('year', 'invoice_date') // EXTRACT(YEAR FROM "invoice_date"); SQLite: CAST(strftime('%Y', "invoice_date") AS INTEGER)
 */
export const extract = (part: DatePart, e: Operand | Expr): Expr => exprNode({ kind: 'extract', part, expr: toExpr(e) })
