/**
 * Parameters written into MySQL statement text, for the text protocol (`prepare: false`, and
 * statements the server cannot prepare).
 *
 * mysql2's own client-side formatting escapes quotes with a backslash, which a session with
 * `NO_BACKSLASH_ESCAPES` in its sql_mode reads as a backslash followed by the end of the
 * string: a value could close its literal and run as SQL. Here a quote is always doubled
 * (`''`, read the same way in every mode), and a backslash is doubled only when the session
 * reads backslashes as escapes. Only a statement whose text or values hold a backslash depends
 * on the mode (`needsMode`); the driver asks the session for it before writing such a statement.
 * The `?` placeholders are found outside quoted strings, quoted names and comments.
 */
import { dbError, type DbError } from '../errors.js'
import { mysqlDateTime } from '../dates.js'
import { atParameter, unbindable } from '../values.js'

/**
 * Whether writing this statement depends on the session's NO_BACKSLASH_ESCAPES mode.
 *
 * @example needsMode('SELECT ?', ['a\\b']) // true
 */
export const needsMode = (text: string, params: readonly unknown[]): boolean => {
  if (text.includes('\\')) return true
  for (let i = 0; i < params.length; i++) {
    const p = params[i]
    if (typeof p === 'string' && p.includes('\\')) return true
  }
  return false
}

const QUOTE = /'/g
const QUOTE_OR_BACKSLASH = /['\\]/g

/**
 * A string literal: quotes doubled; backslashes doubled unless the session reads them as
 * plain characters. NUL and every other character are written as they are (the server reads
 * them literally in both modes).
 *
 * @example quoteString("it's", true) // "'it''s'"
 */
export const quoteString = (s: string, noBackslashEscapes: boolean): string =>
  noBackslashEscapes
    ? `'${s.replace(QUOTE, "''")}'`
    : `'${s.replace(QUOTE_OR_BACKSLASH, (c) => (c === "'" ? "''" : '\\\\'))}'`

/**
 * One value as an SQL literal, or a ValidationError for a value with no literal. Numbers that
 * are not integers are written as DOUBLE literals (`0.1e0`), as `execute` binds them.
 *
 * @example literal(1.5, false) // '1.5e0'
 */
export const literal = (v: unknown, noBackslashEscapes: boolean): string => {
  switch (typeof v) {
    case 'string': return quoteString(v, noBackslashEscapes)
    case 'number': {
      if (!Number.isFinite(v)) throw unbindable(v, 'MySQL and MariaDB numbers have no NaN or Infinity')
      if (Object.is(v, -0)) return '-0e0'
      const t = String(v)
      return Number.isInteger(v) || t.includes('e') ? t : `${t}e0`
    }
    case 'bigint': return v.toString()
    case 'boolean': return v ? 'TRUE' : 'FALSE'
    case 'undefined': return 'NULL'
    case 'object':
      if (v === null) return 'NULL'
      if (v instanceof Uint8Array) return `X'${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')}'`
      if (v instanceof Date) return `'${mysqlDateTime(v)}'`
      throw unbindable(v, 'it has no MySQL literal (compile it through the dialect, which converts or refuses it)')
    default: throw unbindable(v, 'MySQL has no such value')
  }
}

/** Index just past a quoted string or name that opens at `i`. */
const skipQuoted = (text: string, i: number, quote: number, backslashEscapes: boolean): number => {
  const n = text.length
  for (let j = i + 1; j < n; j++) {
    const c = text.charCodeAt(j)
    if (c === 92 /* \ */ && backslashEscapes) j++
    else if (c === quote) {
      if (text.charCodeAt(j + 1) === quote) j++
      else return j + 1
    }
  }
  return n
}

const endOfLine = (text: string, i: number): number => {
  const j = text.indexOf('\n', i)
  return j < 0 ? text.length : j + 1
}

/**
 * Statement text with each `?` outside quotes and comments replaced by its value's literal.
 * Throws a QueryError when the counts differ, a ValidationError for a value with no literal.
 *
 * @example formatStatement("SELECT '?', ?", ["a'b"], false) // "SELECT '?', 'a''b'"
 */
export const formatStatement = (text: string, params: readonly unknown[], noBackslashEscapes: boolean): string => {
  const n = text.length
  let out = ''
  let from = 0
  let k = 0
  for (let i = 0; i < n;) {
    const c = text.charCodeAt(i)
    if (c === 39 /* ' */ || c === 34 /* " */) i = skipQuoted(text, i, c, !noBackslashEscapes)
    else if (c === 96 /* ` */) i = skipQuoted(text, i, c, false)
    else if (c === 35 /* # */) i = endOfLine(text, i)
    else if (c === 45 /* - */ && text.charCodeAt(i + 1) === 45 && (i + 2 >= n || text.charCodeAt(i + 2) <= 32)) i = endOfLine(text, i)
    // `/*! ... */` and `/*M! ... */` are executed by the server: their placeholders count.
    else if (c === 47 /* / */ && text.charCodeAt(i + 1) === 42 && text[i + 2] !== '!' && !text.startsWith('M!', i + 2)) {
      const j = text.indexOf('*/', i + 2)
      i = j < 0 ? n : j + 2
    } else if (c === 63 /* ? */) {
      if (k >= params.length) throw countMismatch(text, params.length)
      let lit: string
      try {
        lit = literal(params[k], noBackslashEscapes)
      } catch (e) {
        throw atParameter(e, k + 1)
      }
      out += text.slice(from, i) + lit
      k++
      i++
      from = i
    } else i++
  }
  if (k !== params.length) throw countMismatch(text, params.length)
  return out + text.slice(from)
}

const countMismatch = (text: string, given: number): DbError =>
  dbError('QueryError', `the statement's placeholders do not match the ${given} parameters given`, { sql: text, code: 'PARAMETER_COUNT' })
