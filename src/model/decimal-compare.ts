/**
 * Values compared with a computed number (an aggregate, a computed column) in a model's
 * conditions: a field whose values are decimal text (`decimal`, `decimalOf`) has its value cast
 * to a decimal, so it is compared as a number on every engine. SQLite compares a number with
 * text as unequal whatever the text says (an expression has no column affinity to convert it),
 * and MariaDB compares a DECIMAL with text as doubles.
 */
import type * as t from 'io-ts'
import type { Expr } from '../ast.js'
import { fn, lit, val } from '../query.js'
import { cast } from '../query/cast.js'
import { decimalScale, holdsDecimalText } from './codecs.js'

const PLAIN_DECIMAL = /^[+-]?(\d+)(?:\.(\d+))?$/

/**
 * A value compared with an expression whose values `codec` reads: decimal text as a decimal of
 * its own digits, anything else bound as it is.
 *
 * @example comparedValue(decimalOf(12, 2), '-12.50') // CAST(? AS DECIMAL(4,2)), on SQLite ROUND(CAST(? AS REAL) * 1.0000000000000004, 2)
 */
export const comparedValue = (codec: t.Any | undefined, value: unknown): Expr => {
  const m = codec !== undefined && typeof value === 'string' && holdsDecimalText(codec) ? PLAIN_DECIMAL.exec(value) : null
  if (m === null) return val(value)
  const scale = (m[2] ?? '').length
  return cast(val(value), `decimal(${Math.max(m[1].length + scale, 1)},${scale})`)
}

/**
 * A computed number compared in a condition: the sum of a `decimalOf(p, s)` field rounded to its
 * scale, since SQLite adds decimals in doubles (0.1 + 0.2 - 0.3 is 2.8e-17 there, never equal to
 * 0); on PostgreSQL and MariaDB the rounding changes nothing. Anything else as it is.
 *
 * @example comparedExpr(decimalOf(12, 2), sum) // ROUND(SUM("amount"), 2)
 */
export const comparedExpr = (codec: t.Any | undefined, e: Expr): Expr => {
  const scale = codec === undefined ? undefined : decimalScale(codec)
  return scale === undefined ? e : fn('ROUND', e, lit(scale))
}
