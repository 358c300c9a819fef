/**
 * Codecs that read what databases return and encode to what every driver binds.
 *
 * The same column comes back differently from each backend: a boolean is `0`/`1` from SQLite
 * and MariaDB but `true` from PostgreSQL; a timestamp is ISO text from SQLite and a `Date`
 * elsewhere; a DECIMAL is a string from PostgreSQL and MariaDB; a BIGINT is a string from
 * MariaDB, a string or bigint from PostgreSQL, a number or bigint from SQLite; JSON is text
 * or already parsed. Each codec here accepts every one of those forms and decodes to one JS
 * type; its encoder gives a value every built-in dialect binds (`toDriver` adapts booleans,
 * Dates and bigints per engine).
 *
 * Each codec also carries a fast decoder (no `Either` allocated per value), which the row
 * mapper uses; `validate` stays the reference and is what error reports come from.
 *
 * A model field declared with io-ts's own `t.number` or `t.boolean` reads the same forms on every
 * engine (`fastDecoder`): a number as it is, and otherwise what `integer` and `bool` read (integer
 * text and bigints within ±2^53, `1`/`0`, ...); anything inexact is refused. Model input (create,
 * update) is the domain value and is checked by `inputDecoder`: there `t.number` takes numbers
 * only, and a `jsonOf` field takes the value itself, never JSON text.
 */
import * as t from 'io-ts'
import { dbError, isDbError } from '../errors.js'
import { jsonText, jsonWritable, REFUSED } from '../values.js'
import { civilTime, daysInMonth, digits, twoDigits, utcTime } from '../dates.js'
import { DECIMAL_TEXT, decimalFast, FAIL, type FastDecode, floatFast, int64Fast, integerFast, jsonValueFast } from './fast-decoders.js'

export { FAIL, type FastDecode } from './fast-decoders.js'

const FAST = Symbol.for('recordkit.fastDecode')

/**
 * Attach a fast decoder to a codec (used by the row mapper and for model input). It must agree
 * with the codec's `validate`: the same value, or `FAIL` exactly when `validate` fails.
 *
 * @example
 * const cents = withFastDecode(myCentsCodec, (u) => (typeof u === 'number' ? u : FAIL))
 */
export const withFastDecode = <C extends t.Any>(codec: C, fast: FastDecode): C =>
  Object.defineProperty(codec, FAST, { value: fast, enumerable: false }) as C

/** The fast decoder attached to a codec, if any. */
export const attachedFastDecode = (codec: t.Any): FastDecode | undefined =>
  (codec as unknown as Record<symbol, FastDecode | undefined>)[FAST]

/** Build a codec from a fast decoder: `validate` and `is` are derived from it. */
const fromFast = <A, O>(name: string, is: (u: unknown) => u is A, fast: FastDecode, encode: (a: A) => O): t.Type<A, O, unknown> =>
  withFastDecode(
    new t.Type<A, O, unknown>(name, is, (u, c) => {
      const v = fast(u)
      return v === FAIL ? t.failure(u, c) : t.success(v as A)
    }, encode),
    fast,
  )

// ---------------------------------------------------------------- booleans

const TRUE_TEXT = new Set(['1', 't', 'true'])
const FALSE_TEXT = new Set(['0', 'f', 'false'])

const boolFast: FastDecode = (u) => {
  if (u === true || u === 1) return true
  if (u === false || u === 0) return false
  switch (typeof u) {
    case 'bigint': return u === 1n ? true : u === 0n ? false : FAIL
    case 'string': {
      const s = u.toLowerCase()
      return TRUE_TEXT.has(s) ? true : FALSE_TEXT.has(s) ? false : FAIL
    }
    case 'object':
      // MySQL BIT(1) comes back as a one-byte Buffer.
      if (u instanceof Uint8Array && u.length === 1 && (u[0] === 0 || u[0] === 1)) return u[0] === 1
      return FAIL
    default: return FAIL
  }
}

/**
 * A boolean stored as BOOLEAN, TINYINT(1), INTEGER 0/1 or BIT(1): decodes `true`/`false`,
 * `1`/`0`, `1n`/`0n`, `'t'`/`'f'`, `'true'`/`'false'`; encodes to a boolean.
 *
 * @example
 * const User = t.type({ id: t.number, active: bool })
 */
export const bool: t.Type<boolean, boolean, unknown> = fromFast('bool', (u): u is boolean => typeof u === 'boolean', boolFast, (a) => a)

// ---------------------------------------------------------------- dates

// `YYYY-MM-DD`, then optionally `T` or space, time, fraction and zone.
const DATE_TEXT = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i

/** Parse database date text; text without a zone is UTC (what `timestamps` writes). */
const parseDateText = (s: string): Date | typeof FAIL => {
  const m = DATE_TEXT.exec(s.trim())
  if (m === null) return FAIL
  const [, y, mo, d, h, mi, sec, frac, zone] = m
  const ms = frac === undefined ? 0 : Number(frac.slice(0, 3).padEnd(3, '0'))
  let time = utcTime(Number(y), Number(mo) - 1, Number(d), Number(h ?? 0), Number(mi ?? 0), Number(sec ?? 0), ms)
  if (zone !== undefined && zone.toUpperCase() !== 'Z') {
    const sign = zone[0] === '-' ? -1 : 1
    const digits = zone.slice(1).replace(':', '')
    time -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || 0)) * 60_000
  }
  // Reject impossible dates (2023-02-30, 24:30) instead of rolling them over.
  const month = Number(mo)
  if (month < 1 || month > 12 || Number(d) < 1 || Number(d) > daysInMonth(Number(y), month)) return FAIL
  if (Number(h ?? 0) > 23 || Number(mi ?? 0) > 59 || Number(sec ?? 0) > 59) return FAIL
  return new Date(time)
}

/**
 * The forms databases write most, read without a regex: `YYYY-MM-DD HH:MM:SS[.sss]` (SQL text,
 * UTC: what SQLite holds for a Date and what `CURRENT_TIMESTAMP` writes) and
 * `YYYY-MM-DDTHH:MM:SS.sssZ` (what `toISOString` gives, what older SQLite rows may hold).
 * Anything else, or anything odd in these, goes to `parseDateText`, whose results these match.
 */
const parseCommonDate = (s: string): Date | typeof FAIL => {
  const n = s.length
  const iso = n === 24 && s.charCodeAt(10) === 84 /* T */ && s.charCodeAt(19) === 46 /* . */ && s.charCodeAt(23) === 90 /* Z */
  const fraction = iso || (n === 23 && s.charCodeAt(10) === 32 /* space */ && s.charCodeAt(19) === 46 /* . */)
  if ((fraction || (n === 19 && s.charCodeAt(10) === 32 /* space */)) && s.charCodeAt(4) === 45 && s.charCodeAt(7) === 45 && s.charCodeAt(13) === 58 && s.charCodeAt(16) === 58) {
    const century = twoDigits(s, 0)
    const yy = twoDigits(s, 2)
    const mo = twoDigits(s, 5)
    const d = twoDigits(s, 8)
    const h = twoDigits(s, 11)
    const mi = twoDigits(s, 14)
    const sec = twoDigits(s, 17)
    const ms = fraction ? digits(s, 20, 23) : 0
    const y = century * 100 + yy
    if ((century | yy | mo | d | h | mi | sec | ms) >= 0 && mo >= 1 && mo <= 12 && d >= 1 && h <= 23 && mi <= 59 && sec <= 59) {
      // Impossible dates (2023-02-30) are left to parseDateText, which refuses them.
      if (d <= daysInMonth(y, mo)) return new Date(civilTime(y, mo, d, h, mi, sec, ms))
    }
  }
  return parseDateText(s)
}

const dateFast: FastDecode = (u) => {
  if (u instanceof Date) return Number.isNaN(u.getTime()) ? FAIL : u
  if (typeof u === 'string') return parseCommonDate(u)
  return FAIL
}

/**
 * A point in time: decodes a `Date` (PostgreSQL, mysql2), `YYYY-MM-DD HH:MM:SS[.fff]` text
 * (what SQLite stores) and ISO-8601 text, read as UTC when it carries no zone; encodes to a
 * `Date` (SQLite stores it as `YYYY-MM-DD HH:MM:SS[.fff]` UTC text).
 *
 * @example
 * const Post = t.type({ id: t.number, publishedAt: date })
 */
export const date: t.Type<Date, Date, unknown> = fromFast('date', (u): u is Date => u instanceof Date && !Number.isNaN(u.getTime()), dateFast, (a) => a)

// ---------------------------------------------------------------- numbers

/**
 * The type of `decimal` and `decimalOf(p, s)`: a codec whose values are numbers written as text,
 * so a model moves such a field with `increment` as it moves a number field.
 */
export interface DecimalCodec extends t.Type<string, string, unknown> {
  /** Marks the codec's values as numbers written as text. */
  readonly decimalText: true
}

/** A codec marked as holding decimal text (see `DecimalCodec`). */
const markDecimal = (codec: t.Type<string, string, unknown>): DecimalCodec =>
  Object.defineProperty(codec, 'decimalText', { value: true, enumerable: false }) as DecimalCodec

/**
 * An exact decimal as a string (money, NUMERIC/DECIMAL columns): decodes the string that
 * PostgreSQL and MariaDB return, and the number or bigint SQLite may return; encodes to the
 * string, which every driver binds without losing digits. SQLite keeps a DECIMAL column as a
 * double (15 significant digits exactly): for a column of known precision and scale, `decimalOf`
 * reads every engine's value as the same text and checks input against the column.
 *
 * @example
 * const Invoice = t.type({ id: t.number, total: decimal })
 */
export const decimal: DecimalCodec = markDecimal(fromFast('decimal', (u): u is string => typeof u === 'string' && DECIMAL_TEXT.test(u), decimalFast, (a) => a))

/** The codecs whose values are a number written as text (`decimal`, `decimalOf`), with their scale where they have one. */
const decimalCodecs = new WeakMap<t.Any, number | undefined>([[decimal, undefined]])

/**
 * The codec itself, or the one codec beside NULL in a union (`nullable(c)`); undefined for any
 * other union.
 *
 * @example nonNull(nullable(t.string)) === t.string // true
 */
export const nonNull = (codec: t.Any): t.Any | undefined => {
  if ((codec as Tagged)._tag !== 'UnionType') return codec
  const rest = (codec as unknown as t.UnionType<t.Mixed[]>).types.filter((m) => (m as Tagged)._tag !== 'NullType')
  return rest.length === 1 ? rest[0] : undefined
}

/**
 * The scale of a `decimalOf(p, s)` field (alone or `nullable`): its values have exactly `s` decimals.
 *
 * @example decimalScale(nullable(decimalOf(12, 2))) // 2
 */
export const decimalScale = (codec: t.Any): number | undefined => {
  const c = nonNull(codec)
  return c === undefined ? undefined : decimalCodecs.get(c)
}

/**
 * Whether a field's values are numbers written as text (`decimal`, `decimalOf(p, s)`, alone or
 * `nullable`): a value compared with an aggregate of such a field is compared as a number.
 *
 * @example
 * holdsDecimalText(nullable(decimalOf(12, 2))) // true
 * holdsDecimalText(t.string) // false
 */
export const holdsDecimalText = (codec: t.Any): boolean => {
  const c = nonNull(codec)
  return c !== undefined && decimalCodecs.has(c)
}

/** Whole digits and fraction digits of plain decimal text (`-12.50` is `['-', '12', '50']`), or undefined. */
const PLAIN_DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?$/

/**
 * `text` as a decimal of `scale` fraction digits and at most `whole` whole digits, or why not:
 * trailing fractional zeros past the scale are dropped ('0.100' is '0.10'), any other digit there
 * is refused (never rounded), and so is a value too large for the column.
 */
const fixedScale = (text: string, whole: number, scale: number): string | { readonly why: string } => {
  const m = PLAIN_DECIMAL.exec(text)
  if (m === null || (m[2] === '' && (m[3] ?? '') === '')) return { why: `not decimal text: ${JSON.stringify(text)}` }
  const ints = m[2].replace(/^0+(?=\d)/, '') || '0'
  const frac = (m[3] ?? '').replace(/0+$/, '')
  if (frac.length > scale) return { why: `${text} has ${frac.length} decimals; the column keeps ${scale} (round it first: it is never rounded here)` }
  if (ints !== '0' && ints.length > whole) return { why: `${text} is out of range: the column holds ${whole} whole digits at most` }
  const digits = scale === 0 ? ints : `${ints}.${frac.padEnd(scale, '0')}`
  return /^[0.]*$/.test(digits) || m[1] !== '-' ? digits : `-${digits}`
}

/**
 * A decimal of `scale` fraction digits as exact text: SQLite's REAL for a NUMERIC column, the
 * double nearest that decimal, reads as it; a sum of such doubles (SQLite adds in doubles) reads as
 * the decimal it is within 2^-40 of (relative), or within 2^-20 of the scale's last digit (a sum
 * that is zero but for drift: 0.1 + 0.2 - 0.3 is 2.8e-17); anything else fails.
 */
const fixedScaleOfNumber = (n: number, whole: number, scale: number): string | typeof FAIL => {
  if (!Number.isFinite(n)) return FAIL
  // toFixed writes exactly `scale` decimals (and an exponent from 1e21, refused below).
  const text = n.toFixed(scale)
  const back = Number(text)
  const off = Math.abs(back - n)
  if (off !== 0 && off > Math.max(Math.abs(n) * 2 ** -40, 10 ** -scale * 2 ** -20)) return FAIL
  const negative = text.charCodeAt(0) === 45 /* - */
  const ints = (scale === 0 ? text.length : text.indexOf('.')) - (negative ? 1 : 0)
  if (text.includes('e') || (ints > whole && !(ints === 1 && back > -1 && back < 1))) return FAIL
  return negative && back === 0 ? text.slice(1) : text
}

/**
 * An exact decimal of a column's precision and scale, `DECIMAL(precision, scale)`, as text with
 * exactly `scale` decimals on every engine (`'0.30'`, `'10.00'`, `'-3.50'`): PostgreSQL's and
 * MariaDB's text as it is, and SQLite's numbers (a NUMERIC column keeps a REAL) as the decimal
 * they stand for, where a sum's drift in doubles (`0.30000000000000004`) is read as `'0.30'` and
 * a number that stands for no such decimal is a DecodeError. Input (`create`, `update`, `where`)
 * is decimal text, a bigint or a safe integer; a value with more decimals than the scale (never
 * rounded, where PostgreSQL and MariaDB would round it and SQLite keep it) or more whole digits
 * than the column holds (which SQLite would store) is a ValidationError at the field, rule
 * `decimal(p,s)`, and a fractional JS number (`0.1 + 0.2`) one too, as it is no exact decimal.
 * As Django's `DecimalField(max_digits, decimal_places)`.
 *
 * @example
 * const Invoice = t.type({ id: t.number, total: decimalOf(12, 2) }) // '1234.50'
 */
export const decimalOf = (precision: number, scale: number): DecimalCodec => {
  if (!Number.isInteger(precision) || !Number.isInteger(scale) || precision < 1 || scale < 0 || scale > precision) {
    throw new TypeError(`decimalOf(${precision}, ${scale}): a precision of at least 1 and a scale from 0 to the precision`)
  }
  const name = `decimal(${precision},${scale})`
  const whole = precision - scale
  const ints = whole === 0 ? '0' : `(?:0|[1-9]\\d{0,${whole - 1}})`
  const exact = new RegExp(scale === 0 ? `^-?${ints}$` : `^-?${ints}\\.\\d{${scale}}$`)
  const is = (u: unknown): u is string => typeof u === 'string' && exact.test(u) && !(u.charCodeAt(0) === 45 /* - */ && /^-0(?:\.0*)?$/.test(u))
  const text = (u: unknown, read: boolean): string | { readonly why: string } => {
    switch (typeof u) {
      case 'string': return is(u) ? u : fixedScale(u, whole, scale)
      case 'bigint': return fixedScale(u.toString(), whole, scale)
      case 'number': {
        if (Number.isSafeInteger(u)) return fixedScale(String(u), whole, scale)
        if (!read) return { why: `${String(u)} is a JS number with a fraction, no exact decimal: give the amount as text ('12.34')` }
        const v = fixedScaleOfNumber(u, whole, scale)
        return v === FAIL ? { why: `${String(u)} stands for no decimal of ${scale} places` } : v
      }
      default: return { why: `expected decimal text, got ${u === null ? 'null' : typeof u}` }
    }
  }
  const fast = (read: boolean): FastDecode => (u) => {
    const v = text(u, read)
    return typeof v === 'string' ? v : FAIL
  }
  const codecOf = (read: boolean) => withFastDecode(new t.Type<string, string, unknown>(name, is, (u, c) => {
    const v = text(u, read)
    return typeof v === 'string' ? t.success(v) : t.failure(u, c, v.why)
  }, (a) => a), fast(read))
  const codec = markDecimal(Object.defineProperty(codecOf(true), INPUT, { value: codecOf(false), enumerable: false }))
  decimalCodecs.set(codec, scale)
  return codec
}

/**
 * A 64-bit integer as a `bigint`: decodes bigint (SQLite, PostgreSQL), safe numbers and
 * integer text (MariaDB BIGINT, PostgreSQL int8); encodes to a bigint.
 *
 * @example
 * const Event = t.type({ id: int64, name: t.string })
 */
export const int64: t.Type<bigint, bigint, unknown> = fromFast('int64', (u): u is bigint => typeof u === 'bigint', int64Fast, (a) => a)

/**
 * A safe integer as a `number`, whatever integer type carries it: decodes numbers, bigints
 * and integer text within ±2^53 (COUNT(*) on PostgreSQL, BIGINT on MariaDB), fails beyond.
 *
 * @example
 * const Stats = t.type({ id: integer, views: integer })
 */
export const integer: t.Type<number, number, unknown> = fromFast('integer', (u): u is number => typeof u === 'number' && Number.isSafeInteger(u), integerFast, (a) => a)

/** `floatFast` that also takes NaN: a float column's value, where the engine holds one (PostgreSQL). */
const floatOrNaN: FastDecode = (u) => (typeof u === 'number' ? u : floatFast(u))

/**
 * A number from any numeric column, accepting the decimal text PostgreSQL and MariaDB return
 * for NUMERIC/DECIMAL (digits beyond a double's precision are lost: use `decimal` for money).
 * NaN and ±Infinity are numbers too, as a double precision column holds them on PostgreSQL; a
 * write of one where the engine has none (NaN on SQLite, both on MySQL and MariaDB) is a
 * ValidationError at the field, rule `bindable`.
 *
 * @example
 * const Track = t.type({ id: t.number, unitPrice: float })
 */
export const float: t.Type<number, number, unknown> = fromFast('float', (u): u is number => typeof u === 'number', floatOrNaN, (a) => a)

// ---------------------------------------------------------------- text-like

const UUID_TEXT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')

const uuidFast: FastDecode = (u) => {
  if (typeof u === 'string') return UUID_TEXT.test(u) ? u.toLowerCase() : FAIL
  if (u instanceof Uint8Array && u.length === 16) {
    const h = hex(u)
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
  }
  return FAIL
}

/**
 * A UUID as lower-case text: decodes text (PostgreSQL `uuid`, CHAR(36)) and 16-byte binary
 * (BINARY(16)); encodes to text.
 *
 * @example
 * const Session = t.type({ id: uuid, userId: t.number })
 */
export const uuid: t.Type<string, string, unknown> = fromFast('uuid', (u): u is string => typeof u === 'string' && UUID_TEXT.test(u) && u === u.toLowerCase(), uuidFast, (a) => a)

const bytesFast: FastDecode = (u) => (u instanceof Uint8Array ? u : FAIL)

/**
 * Binary data (BLOB, BYTEA, LONGBLOB) as a `Uint8Array` (a Buffer is one).
 *
 * @example
 * const File = t.type({ id: t.number, content: bytes })
 */
export const bytes: t.Type<Uint8Array, Uint8Array, unknown> = fromFast('bytes', (u): u is Uint8Array => u instanceof Uint8Array, bytesFast, (a) => a)

// ---------------------------------------------------------------- JSON

/** The codec a model checks input against, where it is not the codec itself (see `inputCodec`). */
const INPUT = Symbol.for('recordkit.inputCodec')

/**
 * A JSON column holding a value of `codec`: decodes JSON text, and also already parsed values
 * other than strings (what a driver makes of a JSON column: a parsed string cannot be told from
 * JSON text, so models read these fields as the column's text wherever the driver parses JSON,
 * see `jsonAsText`); encodes to JSON text, which every engine accepts for its JSON type. Model
 * input is the value itself, never JSON text: a JS string is a JSON string (`'42'` is stored as
 * `"42"`), checked by `codec` as it is.
 *
 * @example
 * const Settings = t.type({ theme: t.string, fontSize: t.number })
 * const User = t.type({ id: t.number, settings: jsonOf(Settings) })
 */
export const jsonOf = <C extends t.Mixed>(codec: C, name = `json(${codec.name})`): t.Type<t.TypeOf<C>, string, unknown> => {
  // Parsed JSON holds JSON's own types: it is checked as `validate` checks it, not as a column.
  const inner = exactDecoder(codec)
  const input = inputCodec(codec)
  const json = withFastDecode(
    new t.Type<t.TypeOf<C>, string, unknown>(
      name,
      (u): u is t.TypeOf<C> => codec.is(u),
      (u, c) => {
        const v = jsonValueFast(u)
        if (v === FAIL) return t.failure(u, c, 'not valid JSON')
        return codec.validate(v, c)
      },
      (a) => jsonText(codec.encode(a)),
    ),
    (u) => {
      const v = jsonValueFast(u)
      return v === FAIL ? FAIL : inner(v)
    },
  )
  // Input: the value as `codec` takes it, under this codec's name (what a ValidationError shows),
  // and only where it has a JSON form: what `jsonText` refuses (NaN, a Map, ...) is refused here,
  // naming the field, before anything is written.
  const decodeInput = exactDecoder(input)
  const inputView = withFastDecode(
    new t.Type<t.TypeOf<C>, string, unknown>(name, json.is, (u, c) => {
      // A union says which member failed in the context it is given: under an entry of its own,
      // so that error reports (`issuesOf`) see the union.
      const r = input.validate(u, (input as Tagged)._tag === 'UnionType' ? t.appendContext(c, '', input, u) : c)
      if (r._tag === 'Left') return r
      const why = jsonProblem(codec.encode(r.right))
      return why === undefined ? r : t.failure(u, c, why)
    }, json.encode),
    (u) => {
      const x = decodeInput(u)
      return x === FAIL || jsonProblem(codec.encode(x)) !== undefined ? FAIL : x
    },
  )
  return Object.defineProperty(json, INPUT, { value: inputView, enumerable: false })
}

/**
 * Why a value has no JSON form `jsonText` writes (NaN, Infinity, a Map, a Set, a function,
 * `undefined` in an array, a cycle, a `toJSON` that throws), or undefined when it has one. The
 * value is walked first, which costs a fraction of writing its text; `jsonText` runs only to
 * word what the walk refused.
 */
const jsonProblem = (value: unknown): string | undefined => {
  try {
    if (jsonWritable(value) !== REFUSED) return undefined
    jsonText(value)
    return undefined
  } catch (e) {
    if (isDbError(e, 'ValidationError') && e.issues.length === 1 && e.issues[0].message !== '') return e.issues[0].message
    // JSON.stringify's own TypeError (a cycle), or what a toJSON method threw.
    return `not JSON data: ${e instanceof Error ? e.message.split('\n')[0] : 'its JSON form threw'}`
  }
}


/**
 * An enumeration: the row holds a name, the column its value (Rails' `enum status: { draft: 0,
 * published: 1 }`, Django's `IntegerChoices` / `TextChoices`). Decodes a stored value to its name
 * (a number read as a BigInt or as digits too, for an INTEGER or DECIMAL column); encodes a name
 * to its value, so `where('status', '=', 'published')`, `in` lists, `create` and `update` take
 * names and the table holds values. A stored value with no name is a DecodeError naming the
 * column; input that is no name a ValidationError. Input is the name; the value it stands for is
 * taken too (the same name). Two names of one value, or a value that is another name, are a
 * TypeError where the codec is written.
 *
 * @example
 * const Status = enumOf({ draft: 0, published: 1, archived: 2 })
 * const Post = model({ table: 'posts', primaryKey: 'id', codec: t.type({ id: t.number, status: Status }) })
 * pipe(Post.query, Post.where('status', '=', 'published'), Post.all(db)) // WHERE status = 1
 */
export const enumOf = <const M extends Readonly<Record<string, number | string>>>(values: M, name = `enum(${Object.keys(values).join(' | ')})`): t.Type<keyof M & string, M[keyof M & string], unknown> => {
  const byValue = new Map<number | string, keyof M & string>()
  for (const [k, v] of Object.entries(values)) {
    if (!(typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v)))) throw new TypeError(`${name}: ${k} stands for ${String(v)}; a value is a finite number or a string`)
    const other = byValue.get(v)
    if (other !== undefined) throw new TypeError(`${name}: ${other} and ${k} both stand for ${JSON.stringify(v)}`)
    if (typeof v === 'string' && v !== k && Object.hasOwn(values, v)) throw new TypeError(`${name}: ${k} stands for ${JSON.stringify(v)}, which is the name of another value`)
    byValue.set(v, k)
  }
  const is = (u: unknown): u is keyof M & string => typeof u === 'string' && Object.hasOwn(values, u)
  const fast: FastDecode = (u) => {
    if (is(u)) return u
    const found = byValue.get(u as number | string)
    if (found !== undefined) return found
    // A number may come back as a BigInt (PostgreSQL BIGINT) or as digits (a DECIMAL column).
    if (typeof u === 'bigint' && u >= BigInt(Number.MIN_SAFE_INTEGER) && u <= BigInt(Number.MAX_SAFE_INTEGER)) return byValue.get(Number(u)) ?? FAIL
    if (typeof u === 'string' && /^-?\d+(\.0*)?$/.test(u)) return byValue.get(Number(u)) ?? FAIL
    return FAIL
  }
  return withFastDecode(
    new t.Type<keyof M & string, M[keyof M & string], unknown>(name, is, (u, c) => {
      const v = fast(u)
      return v === FAIL ? t.failure(u, c, `not one of ${Object.keys(values).join(', ')}`) : t.success(v as keyof M & string)
    }, (a) => values[a] as M[keyof M & string]),
    fast,
  )
}

/**
 * A column that may be NULL: `t.union([codec, t.null])`.
 *
 * @example
 * const Customer = t.type({ id: t.number, fax: nullable(t.string) })
 */
export const nullable = <C extends t.Mixed>(codec: C): t.UnionC<[C, t.NullC]> => t.union([codec, t.null])

// ---------------------------------------------------------------- calendar dates

/**
 * Why `s` is not a calendar date `YYYY-MM-DD` of years 0001-9999, or undefined when it is one.
 * Read by fixed positions (no regex): this runs on every DATE value read.
 */
const calendarProblem = (s: string): string | undefined => {
  if (s.length !== 10 || s.charCodeAt(4) !== 45 /* - */ || s.charCodeAt(7) !== 45) return 'a calendar date is text YYYY-MM-DD'
  const y = digits(s, 0, 4)
  const mo = twoDigits(s, 5)
  const d = twoDigits(s, 8)
  if (y < 0 || mo < 0 || d < 0) return 'a calendar date is text YYYY-MM-DD'
  if (y < 1) return 'the year is 0001-9999'
  if (mo < 1 || mo > 12) return `the month is 01-12, not ${s.slice(5, 7)}`
  const days = daysInMonth(y, mo)
  if (d < 1 || d > days) return `${s.slice(0, 7)} has days 01-${days}, not ${s.slice(8, 10)}`
  return undefined
}

const DAY_MS = 86_400_000

/** `YYYY-MM-DD` of a year, a month (1-12) and a day, the year padded to four digits. */
const calendarText = (y: number, mo: number, d: number): string =>
  `${String(y).padStart(4, '0')}-${mo < 10 ? '0' : ''}${mo}-${d < 10 ? '0' : ''}${d}`

/**
 * The calendar day a driver meant by a Date it made of a DATE value: midnight UTC (recordkit's
 * drivers, whose sessions are in UTC), or else midnight in the process's time zone (a client
 * library left to its defaults, or a session in the process's zone). A Date at neither is an
 * instant, not a day: FAIL, rather than a day that depends on where it is read.
 */
const dayOfDate = (u: Date): string | typeof FAIL => {
  const time = u.getTime()
  if (Number.isNaN(time)) return FAIL
  let y: number
  let mo: number
  let d: number
  if (time % DAY_MS === 0) {
    y = u.getUTCFullYear()
    mo = u.getUTCMonth() + 1
    d = u.getUTCDate()
  } else if (u.getHours() === 0 && u.getMinutes() === 0 && u.getSeconds() === 0 && u.getMilliseconds() === 0) {
    y = u.getFullYear()
    mo = u.getMonth() + 1
    d = u.getDate()
  } else {
    return FAIL
  }
  return y >= 1 && y <= 9999 ? calendarText(y, mo, d) : FAIL
}

const calendarDateFast: FastDecode = (u) => {
  if (typeof u === 'string') return calendarProblem(u) === undefined ? u : FAIL
  if (u instanceof Date) return dayOfDate(u)
  return FAIL
}

/** Why a value is not a calendar day (what a DecodeError or ValidationError says). */
const unreadableDay = (u: unknown): string => {
  if (typeof u === 'string') return calendarProblem(u) ?? 'a calendar date is text YYYY-MM-DD'
  if (!(u instanceof Date)) return 'a calendar date is text YYYY-MM-DD'
  const time = u.getTime()
  if (Number.isNaN(time)) return 'an invalid Date'
  if (time % DAY_MS === 0 || (u.getHours() === 0 && u.getMinutes() === 0 && u.getSeconds() === 0 && u.getMilliseconds() === 0)) return 'the year is 0001-9999'
  return `a Date at ${u.toISOString()} is midnight neither in UTC nor in the process time zone, so it names no calendar day (give the text YYYY-MM-DD; read DATE columns in a UTC session)`
}

/** The ValidationError of a value that is not a calendar date, given to `encode` (a condition's value). */
const notCalendarDate = (value: unknown): Error => {
  const why = unreadableDay(value)
  const shown = typeof value === 'string' ? JSON.stringify(value) : value instanceof Date ? 'a Date' : typeof value
  return dbError('ValidationError', `${shown} is not a calendar date: ${why}`, { issues: [{ path: '', rule: 'calendarDate', value, message: why }] })
}

/**
 * A calendar day (a SQL `DATE` column) as the text `YYYY-MM-DD`, years 0001-9999, written as
 * that text, which every engine compares as a day. Text is checked (a month 01-12, a day the
 * month has: `2023-02-29` is a ValidationError at the field, rule `calendarDate`). A Date, read
 * from a driver or given as input, is the day it was made for, with no time-zone shift: midnight
 * UTC is that day in UTC (what postgres.js and mysql2 hand over through recordkit's drivers,
 * what `new Date('2024-01-31')` gives), and otherwise midnight in the process time zone is that
 * day there (a client library left to its defaults, `new Date(2024, 0, 31)`). A Date at another
 * time of day is an instant, not a day, and is refused, as is a zero date (`0000-00-00`).
 *
 * @example
 * const Holiday = t.type({ id: t.number, name: t.string, day: calendarDate })
 * calendarDate.decode(new Date(Date.UTC(2024, 1, 29))) // Right('2024-02-29')
 * calendarDate.decode('2023-02-29') // Left: 2023-02 has days 01-28, not 29
 */
export const calendarDate: t.Type<string, string, unknown> = withFastDecode(
  new t.Type<string, string, unknown>(
    'calendarDate',
    (u): u is string => typeof u === 'string' && calendarProblem(u) === undefined,
    (u, c) => {
      const v = calendarDateFast(u)
      return v === FAIL ? t.failure(u, c, unreadableDay(u)) : t.success(v as string)
    },
    (a) => {
      // Conditions encode what they are given: refused here, it is a ValidationError at the field.
      const v = calendarDateFast(a)
      if (v === FAIL) throw notCalendarDate(a)
      return v as string
    },
  ),
  calendarDateFast,
)

// ---------------------------------------------------------------- fast decoders for any codec

type Tagged = t.Any & { readonly _tag?: string }

const viaValidate = (c: t.Any): FastDecode => {
  const context: t.Context = [{ key: '', type: c, actual: undefined }]
  return (u) => {
    const r = c.validate(u, context)
    return r._tag === 'Right' ? r.right : FAIL
  }
}

// t.number and t.boolean read as columns: a number (a boolean) with one typeof test, anything
// else as `integer` (`bool`) reads it, exactly or not at all.
const numberColumn: FastDecode = (u) => (typeof u === 'number' ? u : integerFast(u))
const booleanColumn: FastDecode = (u) => (typeof u === 'boolean' ? u : boolFast(u))

/** Whether a codec reads a column differently from `validate` (it holds `t.number` or `t.boolean`). */
const widens = (c: Tagged): boolean => {
  if (attachedFastDecode(c) !== undefined) return false
  switch (c._tag) {
    case 'NumberType':
    case 'BooleanType': return true
    case 'UnionType': return (c as unknown as t.UnionType<t.Mixed[]>).types.some((m) => widens(m as Tagged))
    case 'RefinementType': return widens((c as unknown as t.RefinementType<t.Any>).type as Tagged)
    default: return false
  }
}

/** The first member decoder that decodes `u`. */
const firstOf = (members: readonly FastDecode[]): FastDecode => {
  if (members.length === 2) {
    const [a, b] = members
    return (u) => {
      const x = a(u)
      return x !== FAIL ? x : b(u)
    }
  }
  if (members.length === 3) {
    const [a, b, d] = members
    return (u) => {
      let x = a(u)
      if (x !== FAIL) return x
      x = b(u)
      return x !== FAIL ? x : d(u)
    }
  }
  return (u) => {
    for (let i = 0; i < members.length; i++) {
      const x = members[i](u)
      if (x !== FAIL) return x
    }
    return FAIL
  }
}

/**
 * The decoder of a codec; `column` reads `t.number` and `t.boolean` as `fastDecoder` says,
 * otherwise it agrees with `validate`.
 */
const build = (c: Tagged, column: boolean): FastDecode => {
  const own = attachedFastDecode(c)
  if (own !== undefined) return own
  const sub = column ? fastDecoder : exactDecoder
  switch (c._tag) {
    case 'StringType': return (u) => (typeof u === 'string' ? u : FAIL)
    case 'NumberType': return column ? numberColumn : (u) => (typeof u === 'number' ? u : FAIL)
    case 'BooleanType': return column ? booleanColumn : (u) => (typeof u === 'boolean' ? u : FAIL)
    case 'BigIntType': return (u) => (typeof u === 'bigint' ? u : FAIL)
    case 'NullType': return (u) => (u === null ? u : FAIL)
    case 'UndefinedType': return (u) => (u === undefined ? u : FAIL)
    case 'UnknownType':
    case 'AnyType': return (u) => u
    case 'LiteralType':
    case 'KeyofType': return (u) => (c.is(u) ? u : FAIL)
    case 'UnionType': {
      const types = (c as unknown as t.UnionType<t.Mixed[]>).types
      // Read as a column, a value some member takes as it is keeps its type (`'1'` stays text
      // in string | number); only a value no member takes is read as the members that widen.
      return firstOf(column ? [...types.map(exactDecoder), ...types.filter((m) => widens(m as Tagged)).map(fastDecoder)] : types.map(exactDecoder))
    }
    case 'RefinementType': {
      const r = c as unknown as t.RefinementType<t.Any, unknown, unknown, unknown>
      const inner = sub(r.type)
      const predicate = r.predicate as (a: unknown) => boolean
      return (u) => {
        const x = inner(u)
        return x !== FAIL && predicate(x) ? x : FAIL
      }
    }
    default: return viaValidate(c)
  }
}

const exactCache = new WeakMap<t.Any, FastDecode>()
const columnCache = new WeakMap<t.Any, FastDecode>()
const inputCache = new WeakMap<t.Any, FastDecode>()

/** The decoder that agrees with `validate` (`fastDecoder` without reading `t.number`/`t.boolean` as columns). */
const exactDecoder = (codec: t.Any): FastDecode => {
  let f = exactCache.get(codec)
  if (f === undefined) {
    f = build(codec as Tagged, false)
    exactCache.set(codec, f)
  }
  return f
}

/**
 * The fast decoder of any io-ts codec, reading a column value: primitives, literals, unions,
 * refinements and brands are checked directly, the codecs of this module use their own,
 * anything else goes through `validate`. `t.number` and `t.boolean` read every engine's form
 * as `integer` and `bool` do (a number, or integer text and bigints within ±2^53; a boolean, or
 * `1`/`0`, `'t'`/`'f'`, ...) and fail on anything they cannot read exactly; in a union, a value
 * a member takes as it is keeps its type. Everything else agrees with `validate`.
 *
 * @example
 * fastDecoder(bool)(1) // true
 * fastDecoder(t.number)('42') // 42 (MariaDB BIGINT)
 * fastDecoder(t.number)('9007199254740993') // FAIL: not exact as a number
 */
export const fastDecoder = (codec: t.Any): FastDecode => {
  let f = columnCache.get(codec)
  if (f === undefined) {
    f = widens(codec as Tagged) ? build(codec as Tagged, true) : exactDecoder(codec)
    columnCache.set(codec, f)
  }
  return f
}

const inputViews = new WeakMap<t.Any, t.Any>()

/**
 * The codec a model checks a field's input (create, update) against: the codec itself, except
 * that a `jsonOf` field takes its value as it is (a JS string is a JSON string, never JSON text
 * to parse), in a union or refinement too. Its `validate` names what is wrong with input.
 *
 * @example
 * inputCodec(jsonOf(t.string)).decode('42') // Right('42'), where jsonOf(t.string).decode('42') fails
 */
export const inputCodec = (codec: t.Any): t.Any => {
  let v = inputViews.get(codec)
  if (v === undefined) {
    v = inputViewOf(codec as Tagged)
    inputViews.set(codec, v)
  }
  return v
}

/**
 * Whether a field of `codec` holds JSON text to parse (a `jsonOf` codec, alone, in a union or
 * under a refinement): what models read as the column's text where drivers parse JSON columns.
 *
 * @example
 * readsJson(nullable(jsonOf(t.string))) // true
 * readsJson(t.string) // false
 */
export const readsJson = (codec: t.Any): boolean => inputCodec(codec) !== codec

const inputViewOf = (c: Tagged): t.Any => {
  const own = (c as unknown as Record<symbol, t.Any | undefined>)[INPUT]
  if (own !== undefined) return own
  switch (c._tag) {
    case 'UnionType': {
      const members = (c as unknown as t.UnionType<t.Mixed[]>).types
      const views = members.map((m) => inputCodec(m) as t.Mixed)
      if (views.every((m, i) => m === members[i])) return c
      return t.union(views as unknown as [t.Mixed, t.Mixed, ...t.Mixed[]], c.name)
    }
    case 'RefinementType': {
      const r = c as unknown as t.RefinementType<t.Any, unknown, unknown, unknown>
      const view = inputCodec(r.type)
      return view === r.type ? c : t.refinement(view as t.Mixed, r.predicate as (a: unknown) => boolean, c.name)
    }
    default: return c
  }
}

/**
 * The fast decoder of a model field's input (create, update): `inputCodec`'s `validate`, without
 * an `Either` per value. `t.number` takes numbers only and `t.boolean` booleans only (input is
 * the domain value, not a column); a `jsonOf` field takes its value as it is.
 *
 * @example
 * inputDecoder(jsonOf(t.unknown))('[1]') // '[1]': stored as the JSON string "[1]"
 * inputDecoder(t.number)('42') // FAIL
 */
export const inputDecoder = (codec: t.Any): FastDecode => {
  let f = inputCache.get(codec)
  if (f === undefined) {
    f = exactDecoder(inputCodec(codec))
    inputCache.set(codec, f)
  }
  return f
}

const PRIMITIVE = new Set(['StringType', 'NumberType', 'BooleanType', 'NullType'])

/**
 * An inline JS test (over the variable `v`) true exactly when `v` decodes to itself, for the
 * generated row mapper: `typeof v === "string"` for `t.string`. Undefined when there is none.
 */
export const inlineAccept = (codec: t.Any): string | undefined => {
  const c = codec as Tagged
  if (attachedFastDecode(c) !== undefined) {
    if (c === bool) return 'typeof v === "boolean"'
    return undefined
  }
  switch (c._tag) {
    case 'StringType': return 'typeof v === "string"'
    case 'NumberType': return 'typeof v === "number"'
    case 'BooleanType': return 'typeof v === "boolean"'
    case 'NullType': return 'v === null'
    case 'UnionType': {
      // Sound only when no member could decode another member's value differently:
      // plain primitives, or one codec beside NULL.
      const members = (c as unknown as t.UnionType<t.Mixed[]>).types as Tagged[]
      const nonNull = members.filter((m) => m._tag !== 'NullType')
      const plain = members.every((m) => attachedFastDecode(m) === undefined && PRIMITIVE.has(m._tag ?? ''))
      if (nonNull.length !== 1 && !plain) return undefined
      const parts = members.map(inlineAccept)
      return parts.every((p): p is string => p !== undefined) ? parts.map((p) => `(${p})`).join(' || ') : undefined
    }
    default: return undefined
  }
}
