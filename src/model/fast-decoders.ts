/**
 * The decoders of numbers and JSON that both the model codecs (`src/model/codecs.ts`) and the
 * typed result columns (`src/results.ts`) read values with, so both follow one policy. Plain
 * functions that return the value or `FAIL`, without io-ts: importing `recordkit` (which reads
 * typed result columns) does not load io-ts or fp-ts, which the model layer needs and the core
 * does not (they are a large share of a cold start).
 */

/** Returned by a fast decoder when the value does not decode. */
export const FAIL: unique symbol = Symbol('recordkit.decodeFail') as never

/** A decoder that returns the value or `FAIL`, without allocating an `Either`. */
export type FastDecode = (u: unknown) => unknown

/** Decimal text as databases print it (and JS numbers' exponent form). */
export const DECIMAL_TEXT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/
/** Integer text. */
export const INTEGER_TEXT = /^[+-]?\d+$/

/**
 * Whether text is a plain decimal, `[+-]digits[.digits]` (what PostgreSQL and MariaDB return for
 * NUMERIC / DECIMAL), tested without the regex. Every text it accepts `DECIMAL_TEXT` accepts;
 * other forms (`.5`, `1e5`) are left to the regex.
 *
 * @example plainDecimal('-12.50') // true
 */
export const plainDecimal = (s: string): boolean => {
  const n = s.length
  let i = n > 0 && (s.charCodeAt(0) === 43 /* + */ || s.charCodeAt(0) === 45 /* - */) ? 1 : 0
  const from = i
  for (; i < n; i++) {
    const c = s.charCodeAt(i)
    if (c === 46 /* . */) break
    if (c < 48 || c > 57) return false
  }
  if (i === from) return false
  for (i++; i < n; i++) {
    const c = s.charCodeAt(i)
    if (c < 48 || c > 57) return false
  }
  return true
}

/**
 * An exact decimal as text: decimal text as it is, a finite number or a bigint as its text.
 *
 * @example decimalFast(12.5) // '12.5'
 */
export const decimalFast: FastDecode = (u) => {
  switch (typeof u) {
    case 'string': return plainDecimal(u) || DECIMAL_TEXT.test(u) ? u : FAIL
    case 'number': return Number.isFinite(u) ? String(u) : FAIL
    case 'bigint': return u.toString()
    default: return FAIL
  }
}

/**
 * A safe integer as a number, from a number, a bigint or integer text within ±2^53.
 *
 * @example integerFast('42') // 42
 */
export const integerFast: FastDecode = (u) => {
  switch (typeof u) {
    case 'number': return Number.isSafeInteger(u) ? u : FAIL
    case 'bigint': return u <= BigInt(Number.MAX_SAFE_INTEGER) && u >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(u) : FAIL
    case 'string': {
      if (!INTEGER_TEXT.test(u)) return FAIL
      const n = Number(u)
      return Number.isSafeInteger(n) ? n : FAIL
    }
    default: return FAIL
  }
}

/**
 * A 64-bit integer as a bigint, from a bigint (SQLite, PostgreSQL int8), a safe integer or integer
 * text (mysql2's BIGINT): every digit kept, where `integerFast` refuses what is beyond ±2^53.
 *
 * @example int64Fast('1152921504606846976') // 1152921504606846976n
 */
export const int64Fast: FastDecode = (u) => {
  switch (typeof u) {
    case 'bigint': return u
    case 'number': return Number.isSafeInteger(u) ? BigInt(u) : FAIL
    case 'string': return INTEGER_TEXT.test(u) ? BigInt(u) : FAIL
    default: return FAIL
  }
}

/**
 * A number from a number (not NaN), decimal text or a bigint.
 *
 * @example floatFast('1.5') // 1.5
 */
export const floatFast: FastDecode = (u) => {
  switch (typeof u) {
    case 'number': return Number.isNaN(u) ? FAIL : u
    case 'string': return DECIMAL_TEXT.test(u) ? Number(u) : FAIL
    case 'bigint': return Number(u)
    default: return FAIL
  }
}

/** Sixteen digits in a row: the least an integer beyond 2^53 has. */
const LONG_DIGITS = /\d{16}/
/** The mark of an integer quoted by `parseJson` (with a nonce, so no string of the document is taken for one). */
const BIG_MARK = `\u0000rk-bigint-${Math.random().toString(36).slice(2)}:`
/** `BIG_MARK` as it is written inside JSON text (the NUL escaped). */
const BIG_MARK_TEXT = JSON.stringify(BIG_MARK).slice(1, -1)

const isDigit = (c: number): boolean => c >= 48 && c <= 57

/**
 * `JSON.parse` that keeps every digit of an integer beyond ±2^53 by reading it as a BigInt
 * (`JSON.parse` rounds it to the nearest double: 9007199254740993 became 9007199254740992).
 * Other numbers read as JSON.parse reads them. Text without a run of 16 digits, where no such
 * integer can be, goes to `JSON.parse` as it is.
 *
 * @example parseJson('{"id":12345678901234567890}') // { id: 12345678901234567890n }
 */
export const parseJson = (text: string): unknown => {
  if (!LONG_DIGITS.test(text)) return JSON.parse(text)
  const n = text.length
  let out = ''
  let last = 0
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i)
    if (c === 34 /* " */) {
      // Past the string, escapes included.
      for (i++; i < n; i++) {
        const d = text.charCodeAt(i)
        if (d === 92 /* \ */) i++
        else if (d === 34) break
      }
      continue
    }
    if (c !== 45 /* - */ && !isDigit(c)) continue
    let j = c === 45 ? i + 1 : i
    while (j < n && isDigit(text.charCodeAt(j))) j++
    const next = j < n ? text.charCodeAt(j) : 0
    if (next === 46 /* . */ || next === 101 /* e */ || next === 69 /* E */) {
      // Not an integer: past the rest of the number.
      for (j++; j < n && /[0-9eE+\-.]/.test(text[j]); j++);
    } else if (j - i >= 16 && !Number.isSafeInteger(Number(text.slice(i, j)))) {
      out += `${text.slice(last, i)}"${BIG_MARK_TEXT}${text.slice(i, j)}"`
      last = j
    }
    i = j - 1
  }
  if (last === 0) return JSON.parse(text)
  out += text.slice(last)
  return JSON.parse(out, (_key, v: unknown) => (typeof v === 'string' && v.startsWith(BIG_MARK) ? BigInt(v.slice(BIG_MARK.length)) : v))
}

/** UTF-8 that refuses malformed bytes rather than putting U+FFFD in their place. */
const UTF8 = new TextDecoder('utf-8', { fatal: true })
const BYTEA_PREFIX = 92 /* \ */
/** PostgreSQL's text of a `bytea` (`\x` then two hex digits per byte). */
const BYTEA_HEX = /^\\x(?:[0-9a-fA-F]{2})*$/

/**
 * A JSON value: JSON text (a string or UTF-8 bytes) parsed, anything else (a value the driver
 * parsed already) as it is; `FAIL` for text that is not JSON. Text in PostgreSQL's `bytea` form
 * (`\x7b7d`, what a `bytea` column cast to text gives) is read as the UTF-8 bytes it spells:
 * JSON text never starts with a backslash, so the two cannot be confused.
 *
 * @example jsonValueFast('[1,2]') // [1, 2]
 * @example jsonValueFast('\\x7b7d') // {}
 */
export const jsonValueFast: FastDecode = (u) => {
  if (typeof u === 'string') {
    try {
      return parseJson(u.charCodeAt(0) === BYTEA_PREFIX && BYTEA_HEX.test(u) ? UTF8.decode(Buffer.from(u.slice(2), 'hex')) : u)
    } catch {
      return FAIL
    }
  }
  if (u instanceof Uint8Array) {
    try {
      return parseJson(UTF8.decode(u))
    } catch {
      return FAIL
    }
  }
  return u
}
