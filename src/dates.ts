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

/**
 * The UTC time of a valid calendar date (years 0-9999, month 1-12, a day the month has) by
 * arithmetic: the same number as `utcTime(y, month - 1, d, h, mi, s, ms)`, without `Date.UTC`,
 * for the date text read on every row. Hours, minutes and seconds add up as in `Date.UTC`.
 *
 * @example civilTime(2024, 2, 29, 12, 0, 0, 0) === Date.UTC(2024, 1, 29, 12) // true
 */
export const civilTime = (y: number, month: number, d: number, h: number, mi: number, s: number, ms: number): number => {
  // Days since 1970-01-01 of a proleptic Gregorian date, counting years from March.
  const yy = month <= 2 ? y - 1 : y
  const era = Math.floor(yy / 400)
  const yoe = yy - era * 400
  const doy = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + d - 1
  const days = era * 146_097 + yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy - 719_468
  return days * 86_400_000 + h * 3_600_000 + mi * 60_000 + s * 1000 + ms
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0')

/** The DecodeError for date text that has no exact Date. */
const undecodable = (text: string, why: string): DecodeError =>
  dbError('DecodeError', `cannot read ${JSON.stringify(text)} as a Date: ${why}`, {
    issues: [{ path: '', rule: 'Date', value: text, message: why }],
  }) as DecodeError

/** Two and three digits of 0-99 and 0-999, looked up rather than padded. */
const D2: readonly string[] = Array.from({ length: 100 }, (_, i) => (i < 10 ? `0${i}` : String(i)))
const D3: readonly string[] = Array.from({ length: 1000 }, (_, i) => (i < 10 ? `00${i}` : i < 100 ? `0${i}` : String(i)))

const DAY = 86_400_000
/** The earliest and latest instants of years 0000-9999. */
const YEAR_0 = utcTime(0, 0, 1)
const YEAR_1 = utcTime(1, 0, 1)
const YEAR_10000 = Date.UTC(10_000, 0, 1)

/** The time of a Date, refusing an invalid one. */
const timeOf = (d: Date): number => {
  const t = d.getTime()
  if (Number.isNaN(t)) throw unbindable(d, 'an invalid Date')
  return t
}

/**
 * `YYYY-MM-DD HH:MM:SS` (UTC) of an instant of years 0000-9999, from the day count by integer
 * arithmetic (the civil-from-days algorithm) and digit tables: several times cheaper than
 * `toISOString` or the `getUTC*` methods, and it allocates only the result.
 */
const dateTimeText = (t: number): string => {
  const days = Math.floor(t / DAY)
  let rest = (t - days * DAY - (t % 1000 + 1000) % 1000) / 1000
  const hh = Math.floor(rest / 3600)
  rest -= hh * 3600
  const mi = Math.floor(rest / 60)
  const ss = rest - mi * 60
  // Days since 0000-03-01, in 400-year eras (146,097 days) starting on March 1st.
  const z = days + 719_468
  const era = Math.floor(z / 146_097)
  const doe = z - era * 146_097
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365)
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100))
  const mp = Math.floor((5 * doy + 2) / 153)
  const dd = doy - Math.floor((153 * mp + 2) / 5) + 1
  const mm = mp < 10 ? mp + 3 : mp - 9
  const y = yoe + era * 400 + (mm <= 2 ? 1 : 0)
  return `${D2[Math.floor(y / 100)]}${D2[y % 100]}-${D2[mm]}-${D2[dd]} ${D2[hh]}:${D2[mi]}:${D2[ss]}`
}

/** The milliseconds of an instant, 0-999. */
const msOf = (t: number): number => (t % 1000 + 1000) % 1000

/**
 * A Date as SQLite stores dates: UTC `YYYY-MM-DD HH:MM:SS`, with `.fff` only when the
 * milliseconds are not zero, the text `CURRENT_TIMESTAMP` and the date functions write, so
 * bound dates compare and sort with them. Years outside 0000-9999 are refused (SQLite's date
 * functions read four-digit years only).
 *
 * @example sqliteDateTime(new Date('2024-02-29T23:59:58.120Z')) // '2024-02-29 23:59:58.120'
 */
export const sqliteDateTime = (d: Date): string => {
  const t = timeOf(d)
  if (t < YEAR_0 || t >= YEAR_10000) throw unbindable(d, `SQLite dates have years 0000-9999, this one is ${d.toISOString()}`)
  const ms = msOf(t)
  return ms === 0 ? dateTimeText(t) : `${dateTimeText(t)}.${D3[ms]}`
}

/**
 * A Date as PostgreSQL timestamptz input: `YYYY-MM-DD HH:MM:SS.fff+00`, with ` BC` for years
 * before 1 (PostgreSQL has no year 0: JS year 0 is 1 BC).
 *
 * @example pgTimestamp(new Date(Date.UTC(-43, 2, 15))) // '0044-03-15 00:00:00.000+00 BC'
 */
export const pgTimestamp = (d: Date): string => {
  const t = timeOf(d)
  if (t >= YEAR_1 && t < YEAR_10000) return `${dateTimeText(t)}.${D3[msOf(t)]}+00`
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
  const t = timeOf(d)
  if (t < YEAR_0 || t >= YEAR_10000) throw unbindable(d, `a MySQL date has a four-digit year (0000-9999), got ${d.toISOString()}`)
  return `${dateTimeText(t)}.${D3[msOf(t)]}`
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
  const common = commonPgTime(text)
  if (common !== undefined) return new Date(common)
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
 * The time of what PostgreSQL prints most, read without a regex: a four-digit year (not BC),
 * `YYYY-MM-DD`, then optionally ` HH:MM:SS`, a fraction of 1-6 digits and a zone `+HH`,
 * `+HH:MM` or `+HH:MM:SS`. Undefined for anything else, which `parsePgTimestamp` reads with
 * `PG_TEXT` (to the same number: `civilTime` is `utcTime` for these dates).
 *
 * @example commonPgTime('2024-01-02 03:04:05.678+00') // 1704164645678
 */
export const commonPgTime = (s: string): number | undefined => {
  const n = s.length
  if (n < 10 || s.charCodeAt(4) !== 45 /* - */ || s.charCodeAt(7) !== 45) return undefined
  const y = digits(s, 0, 4)
  const mo = digits(s, 5, 7)
  const d = digits(s, 8, 10)
  if (y < 0 || mo < 1 || mo > 12 || d < 0) return undefined
  if (n === 10) return civilTime(y, mo, d, 0, 0, 0, 0)
  if (n < 19 || s.charCodeAt(10) !== 32 /* space */ || s.charCodeAt(13) !== 58 /* : */ || s.charCodeAt(16) !== 58) return undefined
  const h = digits(s, 11, 13)
  const mi = digits(s, 14, 16)
  const sec = digits(s, 17, 19)
  if (h < 0 || mi < 0 || sec < 0) return undefined
  let i = 19
  let ms = 0
  if (i < n && s.charCodeAt(i) === 46 /* . */) {
    const from = ++i
    while (i < n && i - from < 6) {
      const c = s.charCodeAt(i) - 48
      if (c < 0 || c > 9) break
      if (i - from < 3) ms = ms * 10 + c
      i++
    }
    const width = i - from
    if (width === 0) return undefined
    if (width < 3) ms *= width === 1 ? 100 : 10
  }
  let offset = 0
  if (i < n) {
    // +HH, +HH:MM or +HH:MM:SS, and nothing after it.
    const sign = s.charCodeAt(i)
    const width = n - i
    if ((sign !== 43 /* + */ && sign !== 45 /* - */) || (width !== 3 && width !== 6 && width !== 9)) return undefined
    if (width > 3 && s.charCodeAt(i + 3) !== 58) return undefined
    if (width > 6 && s.charCodeAt(i + 6) !== 58) return undefined
    const oh = digits(s, i + 1, i + 3)
    const om = width > 3 ? digits(s, i + 4, i + 6) : 0
    const os = width > 6 ? digits(s, i + 7, i + 9) : 0
    if (oh < 0 || om < 0 || os < 0) return undefined
    offset = (oh * 3600 + om * 60 + os) * 1000
    if (sign === 45) offset = -offset
  }
  return civilTime(y, mo, d, h, mi, sec, ms) - offset
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

/**
 * The days of month `month` (1-12) of proleptic Gregorian year `y`.
 *
 * @example daysInMonth(2024, 2) // 29
 */
export const daysInMonth = (y: number, month: number): number =>
  month === 2 && y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : MONTH_DAYS[month - 1]

/**
 * The two decimal digits at `i` as a number, or -1 if either is not a digit: `digits(s, i, i + 2)`
 * without the loop, for the fixed-width fields of date text.
 *
 * @example twoDigits('2024-05-06', 5) // 5
 */
export const twoDigits = (s: string, i: number): number => {
  const a = s.charCodeAt(i) - 48
  const b = s.charCodeAt(i + 1) - 48
  // Written so that NaN (past the end of the text) fails too.
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1
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
  if (!ok || mo > 12 || h > 23 || mi > 59 || sec > 59) throw undecodable(s, 'not MySQL date text')
  if (mo === 0 || d === 0) throw undecodable(s, 'a zero date (or a date with a zero month or day) is no date')
  // A server in ALLOW_INVALID_DATES mode keeps days a month does not have (2023-02-30):
  // refused rather than rolled over into the next month.
  if (d > daysInMonth(y, mo)) throw undecodable(s, `month ${mo} of ${y} has ${daysInMonth(y, mo)} days`)
  return new Date(civilTime(y, mo, d, h, mi, sec, ms))
}

// ---------------------------------------------------------------- wall-clock time in a time zone

/** Whether a time zone name is UTC under another name (its offset is always 0). */
const UTC_NAMES = new Set(['UTC', 'ETC/UTC', 'GMT', 'ETC/GMT', 'ZULU', 'ETC/ZULU', 'UCT', 'ETC/UCT', 'UNIVERSAL', 'ETC/UNIVERSAL', 'Z', 'GMT0', 'ETC/GMT0', 'GREENWICH', 'ETC/GREENWICH'])

/** A quarter of an hour: offsets are looked up once per such span of time (see `zoneWallClock`). */
const QUARTER = 900_000

/**
 * How to turn wall-clock time in the time zone `timeZone` (an IANA name such as
 * `'Europe/Berlin'`) into the instant it names, as PostgreSQL does when it reads a `timestamp`
 * (without time zone) in its session's zone: the argument and result are milliseconds since the
 * epoch, the argument counting the wall clock as if it were UTC. A wall-clock time a spring-forward
 * transition skips takes the offset before the transition, one a fall-back transition repeats the
 * offset after it (PostgreSQL's rule). Undefined for UTC under any of its names (nothing to do);
 * a name the JS runtime does not know throws a RangeError.
 *
 * @example
 * const berlin = zoneWallClock('Europe/Berlin')!
 * new Date(berlin(Date.UTC(2024, 5, 1, 12))).toISOString() // '2024-06-01T10:00:00.000Z'
 */
export const zoneWallClock = (timeZone: string): ((wall: number) => number) | undefined => {
  if (UTC_NAMES.has(timeZone.toUpperCase())) return undefined
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone, hourCycle: 'h23', era: 'short', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
  })
  /** The zone's offset from UTC at an instant (ms, whole seconds). */
  const offsetAt = (t: number): number => {
    const p: Record<string, string> = {}
    for (const { type, value } of format.formatToParts(t)) p[type] = value
    const y = Number(p.year)
    const wall = utcTime(p.era === 'BC' || p.era === 'B' ? 1 - y : y, Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute), Number(p.second))
    return wall - Math.floor(t / 1000) * 1000
  }
  // Offsets of quarter-hour spans in which the offset did not change, by span.
  const known = new Map<number, number>()
  const offsetOf = (t: number): number => {
    const q = Math.floor(t / QUARTER)
    const hit = known.get(q)
    if (hit !== undefined) return hit
    const o = offsetAt(t)
    if (offsetAt(q * QUARTER) === o && offsetAt(q * QUARTER + QUARTER - 1) === o) {
      if (known.size >= 10_000) known.clear()
      known.set(q, o)
    }
    return o
  }
  return (wall) => {
    const before = offsetOf(wall - DAY)
    const after = offsetOf(wall + DAY)
    if (before === after) return wall - before
    // A transition within a day of this time: which offsets give back this wall clock?
    const early = wall - before
    const late = wall - after
    const earlyFits = offsetOf(early) === before
    const lateFits = offsetOf(late) === after
    if (earlyFits && lateFits) return late // repeated by a fall-back transition: the later offset
    if (lateFits) return late
    return early // skipped by a spring-forward transition (or only the earlier offset fits)
  }
}
