/**
 * Calendar arithmetic, truncation and field extraction, rendered per dialect: one dialect
 * function each (`dateAdd`, `dateTrunc`, `extract`), so each can be overridden alone.
 *
 * Results: `dateAdd` and `dateTrunc` give a timestamp, from a date or a timestamp (SQLite:
 * `'YYYY-MM-DD HH:MM:SS'` text, MySQL/MariaDB: DATETIME, PostgreSQL: timestamp); named in a
 * result, it reads back as a Date on every engine (SQLite's text as UTC). Adding months clamps to the month's last day on every engine
 * (31 January + 1 month = 28/29 February; on SQLite before 3.46 the day overflows into March).
 */
import type { DatePart, DateUnit, Expr } from '../ast.js'
import { dbError } from '../errors.js'
import { exprNode, toExpr, toValue, type Operand, type TypedExpr } from '../query.js'

/**
 * `expr` plus `amount` units (a negative amount subtracts). The amount is a parameter unless
 * it is an expression; a number that is not whole is a ValidationError.
 *
 * @example
 * dateAdd('invoice_date', 30, 'day')
 * // SQLite: strftime('%Y-%m-%d %H:%M:%f', "invoice_date", ? || ' days')   PostgreSQL: ("invoice_date" + $1 * INTERVAL '1' DAY)
 * // MySQL:  DATE_ADD(CAST(`invoice_date` AS DATETIME(6)), INTERVAL ? DAY)
 */
export const dateAdd = (e: Operand | Expr, amount: number | Expr, unit: DateUnit): TypedExpr<Date | null> => {
  // Engines differ on a fraction (MariaDB rounds INTERVAL 1.5 DAY to 2 days, PostgreSQL adds 36
  // hours, SQLite months and years are whole anyway): a number of units is a whole number.
  if (typeof amount === 'number' && !Number.isInteger(amount)) {
    throw dbError('ValidationError', `dateAdd: the amount must be a whole number of ${unit} units, got ${amount} (use a smaller unit)`, {
      issues: [{ path: 'amount', rule: 'integer', value: amount, message: 'not a whole number' }],
    })
  }
  return exprNode({ kind: 'dateAdd', expr: toExpr(e), amount: toValue(amount), unit })
}

/**
 * `expr` truncated to the start of its unit (`week` starts on Monday).
 *
 * @example
 * dateTrunc('month', 'invoice_date')
 * // PostgreSQL: DATE_TRUNC('month', "invoice_date")   SQLite: datetime("invoice_date", 'start of month')
 */
export const dateTrunc = (unit: DateUnit, e: Operand | Expr): TypedExpr<Date | null> => exprNode({ kind: 'dateTrunc', unit, expr: toExpr(e) })

/**
 * One field of a date or timestamp as an integer.
 *
 * @example
 * extract('year', 'invoice_date') // EXTRACT(YEAR FROM "invoice_date"); SQLite: CAST(strftime('%Y', "invoice_date") AS INTEGER)
 */
export const extract = (part: DatePart, e: Operand | Expr): Expr => exprNode({ kind: 'extract', part, expr: toExpr(e) })
