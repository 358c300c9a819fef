/**
 * Matching user text inside strings, the same on every engine: `contains`, `startsWith` and
 * `endsWith` build a LIKE whose pattern matches the text literally. `%` and `_` in the text are
 * characters to find, not wildcards, and a backslash is a backslash (PostgreSQL and MySQL read
 * one as an escape in a plain LIKE pattern, SQLite does not): the pattern escapes with `!`
 * and says so (`ESCAPE '!'`), which every engine reads alike. Case follows the engine's LIKE
 * (case-insensitive for ASCII on SQLite and under MySQL's default collations, case-sensitive on
 * PostgreSQL); wrap both sides in `fn('lower', ...)` for one rule everywhere.
 */
import type { Expr } from '../ast.js'
import { raw, toExpr, type Operand } from '../query.js'
import { sql } from '../sql.js'

/**
 * `text` as a LIKE pattern (to use with `ESCAPE '!'`) that matches it literally: `%`, `_` and
 * `!` escaped with `!`.
 *
 * @example likeLiteral('50%_off!') // '50!%!_off!!'
 */
export const likeLiteral = (text: string): string => text.replace(/[!%_]/g, (c) => `!${c}`)

const matching = (pattern: (escaped: string) => string) => (left: Operand | Expr, text: string): Expr =>
  raw(sql`${toExpr(left)} LIKE ${pattern(likeLiteral(text))} ESCAPE '!'`)

/**
 * Whether the value holds `text` (user input is safe: `%` and `_` match themselves).
 *
 * @example where(contains('name', '50%')) // "name" LIKE ? ESCAPE '!' with '%50!%%'
 */
export const contains = matching((s) => `%${s}%`)

/**
 * Whether the value starts with `text` (matched literally).
 *
 * @example where(startsWith('path', 'C:\\Users\\')) // "path" LIKE ? ESCAPE '!' with 'C:\Users\%'
 */
export const startsWith = matching((s) => `${s}%`)

/**
 * Whether the value ends with `text` (matched literally).
 *
 * @example where(endsWith('email', '@example.com'))
 */
export const endsWith = matching((s) => `%${s}`)
