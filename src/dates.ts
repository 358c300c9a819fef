/**
 * Dates as the text each engine stores and prints, both ways, exactly.
 *
 * `Date.UTC` and the `Date` string parser read years 0-99 as 1900-1999 and do not read
 * PostgreSQL's ` BC` suffix; every date recordkit writes or reads goes through these functions
 * instead, so a date of year 1, 50 or 44 BC comes back as it went in, or fails with a typed
 * error (ValidationError when binding, DecodeError when reading). Never a different date.
 */
import { dbError, type DecodeError } from './errors.js'
import { unbindable } from './values.js'

/** Milliseconds in 400 Gregorian years (146,097 days): the calendar repeats after them. */
const FOUR_CENTURIES = 146_097 * 86_400_000

/**
 * `Date.UTC` for every year, 0-99 included (which `Date.UTC` reads as 1900-1999).
 *
 * @example new Date(utcTime(1, 0, 1)).toISOString() // '0001-01-01T00:00:00.000Z'
 */
export const utcTime = (y: number, month0: number, d: number, h = 0, mi = 0, s = 0, ms = 0): number =>
  y >= 0 && y < 100 ? Date.UTC(y + 400, month0, d, h, mi, s, ms) - FOUR_CENTURIES : Date.UTC(y, month0, d, h, mi, s, ms)

const pad = (n: number, width = 2): string => String(n).padStart(width, '0')

/** The DecodeError for date text that has no exact Date. */
const undecodable = (text: string, why: string): DecodeError =>
  dbError('DecodeError', `cannot read ${JSON.stringify(text)} as a Date: ${why}`, {
    issues: [{ path: '', rule: 'Date', value: text, message: why }],
  }) as DecodeError

/**
 * `toISOString` of a valid Date: `YYYY-MM-DDTHH:MM:SS.fffZ` (24 characters) for years 0000-9999,
 * `±YYYYYY-...` (27) beyond them.
 */
const isoOf = (d: Date): string => {
  if (Number.isNaN(d.getTime())) throw unbindable(d, 'an invalid Date')
  return d.toISOString()
}

/**
 * A Date as SQLite stores dates: UTC `YYYY-MM-DD HH:MM:SS`, with `.fff` only when the
 * milliseconds are not zero, the text `CURRENT_TIMESTAMP` and the date functions write, so
 * bound dates compare and sort with them. Years outside 0000-9999 are refused (SQLite's date
 * functions read four-digit years only).
 *
 * @example sqliteDateTime(new Date('2024-02-29T23:59:58.120Z')) // '2024-02-29 23:59:58.120'
 */
export const sqliteDateTime = (d: Date): string => {
  const iso = isoOf(d)
  if (iso.length !== 24) throw unbindable(d, `SQLite dates have years 0000-9999, this one is ${iso}`)
  // `YYYY-MM-DDTHH:MM:SS.fffZ`: the native formatting, cut into SQLite's form.
  return `${iso.slice(0, 10)} ${iso.endsWith('.000Z') ? iso.slice(11, 19) : iso.slice(11, 23)}`
}

/**
 * A Date as PostgreSQL timestamptz input: `YYYY-MM-DD HH:MM:SS.fff+00`, with ` BC` for years
 * before 1 (PostgreSQL has no year 0: JS year 0 is 1 BC).
 *
 * @example pgTimestamp(new Date(Date.UTC(-43, 2, 15))) // '0044-03-15 00:00:00.000+00 BC'
 */
export const pgTimestamp = (d: Date): string => {
  const iso = isoOf(d)
  // Years 1-9999: the native formatting, cut into PostgreSQL's form.
  if (iso.length === 24 && !iso.startsWith('0000')) return `${iso.slice(0, 10)} ${iso.slice(11, 23)}+00`
  const y = d.getUTCFullYear()
  const text = `${pad(y > 0 ? y : 1 - y, 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}+00`
  return y > 0 ? text : `${text} BC`
}

/**
 * A Date as MySQL DATETIME text in UTC, with milliseconds. Years outside 0000-9999 are refused.
 *
 * @example mysqlDateTime(new Date('2024-02-29T23:59:58.123Z')) // '2024-02-29 23:59:58.123'
 */
export const mysqlDateTime = (d: Date): string => {
  const iso = isoOf(d)
  if (iso.length !== 24) throw unbindable(d, `a MySQL date has a four-digit year (0000-9999), got ${iso}`)
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}`
}

// PostgreSQL's ISO output: date, optional time with up to 6 fraction digits, optional zone
// offset (+HH, +HH:MM or +HH:MM:SS), optional BC.
const PG_TEXT = /^(\d{4,})-(\d\d)-(\d\d)(?: (\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?(?:([+-])(\d\d)(?::(\d\d)(?::(\d\d))?)?)?)?( BC)?$/

/**
 * A PostgreSQL `date`, `timestamp` or `timestamptz` in ISO output style as a Date (text
 * without a zone is UTC). Sub-millisecond digits are dropped, as a Date holds milliseconds.
 * `infinity`, `-infinity` and instants beyond a Date's range are a DecodeError.
 *
 * @example parsePgTimestamp('0001-01-01 00:00:00+00').toISOString() // '0001-01-01T00:00:00.000Z'
 */
export const parsePgTimestamp = (text: string): Date => {
  const m = PG_TEXT.exec(text)
  if (m === null) throw undecodable(text, text.endsWith('infinity') ? 'a Date has no infinity' : 'not a PostgreSQL date in ISO style')
  const year = Number(m[1])
  const y = m[12] === undefined ? year : 1 - year
  const ms = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0'))
  let t = utcTime(y, Number(m[2]) - 1, Number(m[3]), Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0), ms)
  if (m[8] !== undefined) {
    const offset = (Number(m[9]) * 3600 + Number(m[10] ?? 0) * 60 + Number(m[11] ?? 0)) * 1000
    t -= m[8] === '-' ? -offset : offset
  }
  const d = new Date(t)
  if (Number.isNaN(d.getTime())) throw undecodable(text, 'beyond the range of a Date')
  return d
}

/**
 * Digits of `s` from `i` to `j` (exclusive) as a number, or -1 when one is not a digit.
 *
 * @example digits('2024-05', 0, 4) // 2024
 */
export const digits = (s: string, i: number, j: number): number => {
  let n = 0
  for (; i < j; i++) {
    const c = s.charCodeAt(i) - 48
    if (c < 0 || c > 9) return -1
    n = n * 10 + c
  }
  return n
}

/**
 * MySQL / MariaDB DATE, DATETIME or TIMESTAMP text (`YYYY-MM-DD[ HH:MM:SS[.ffffff]]`, UTC) as a
 * Date. Zero dates (`0000-00-00`) and dates with a zero month or day are a DecodeError.
 *
 * @example parseMysqlDateTime('0050-06-01 12:00:00.123000').toISOString() // '0050-06-01T12:00:00.123Z'
 */
export const parseMysqlDateTime = (s: string): Date => {
  const n = s.length
  const y = digits(s, 0, 4)
  const mo = digits(s, 5, 7)
  const d = digits(s, 8, 10)
  let h = 0
  let mi = 0
  let sec = 0
  let ms = 0
  let ok = n >= 10 && s.charCodeAt(4) === 45 && s.charCodeAt(7) === 45 && y >= 0 && mo >= 0 && d >= 0
  if (ok && n > 10) {
    h = digits(s, 11, 13)
    mi = digits(s, 14, 16)
    sec = digits(s, 17, 19)
    ok = n >= 19 && s.charCodeAt(13) === 58 && s.charCodeAt(16) === 58 && h >= 0 && mi >= 0 && sec >= 0
    if (ok && n > 19) {
      ms = digits(s, 20, Math.min(n, 23))
      ok = s.charCodeAt(19) === 46 && ms >= 0
      if (ok) ms *= n === 21 ? 100 : n === 22 ? 10 : 1
    }
  }
  if (!ok) throw undecodable(s, 'not MySQL date text')
  if (mo === 0 || d === 0) throw undecodable(s, 'a zero date (or a date with a zero month or day) is no date')
  return new Date(utcTime(y, mo - 1, d, h, mi, sec, ms))
}
