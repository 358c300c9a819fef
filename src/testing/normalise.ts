/**
 * Rows in a form that compares equal across engines: each driver returns the same result
 * with its own JS types (a count is a number on SQLite, a string on MariaDB; a DECIMAL is a
 * string on MariaDB and PostgreSQL; a boolean is 1 on SQLite and MariaDB, true on
 * PostgreSQL; a timestamp is text on SQLite and a Date elsewhere).
 */

const NUMERIC = /^-?\d+(?:\.\d+)?$/

const pad = (n: number, w = 2): string => String(n).padStart(w, '0')

/** A Date as `YYYY-MM-DD HH:MM:SS` (UTC), the text SQLite keeps. */
const dateText = (d: Date): string =>
  `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`

const round2 = (n: number): number => {
  const r = Math.round(n * 100) / 100
  return Object.is(r, -0) ? 0 : r
}

/**
 * One value, normalised: numbers (and numeric strings, and bigints) rounded to 2 decimals;
 * booleans as 1/0; Dates as UTC `YYYY-MM-DD HH:MM:SS`; timestamps written as ISO text with a
 * `T` the same way; Buffers as hex; other strings, and null, as they are.
 *
 * @example normaliseValue('12.3450') // 12.35
 */
export const normaliseValue = (v: unknown): unknown => {
  if (v === null || v === undefined) return null
  if (typeof v === 'number') return round2(v)
  if (typeof v === 'bigint') return round2(Number(v))
  if (typeof v === 'boolean') return v ? 1 : 0
  if (typeof v === 'string') return NUMERIC.test(v) ? round2(Number(v)) : v
  if (v instanceof Date) return dateText(v)
  if (Buffer.isBuffer(v)) return v.toString('hex')
  return JSON.stringify(v)
}

/**
 * Rows normalised for comparison across engines: each row becomes an array of its values in
 * column order (column names are compared separately, as they are).
 *
 * @example normaliseRows([{ n: '3', total: '12.50' }]) // [[3, 12.5]]
 */
export const normaliseRows = (rows: readonly Readonly<Record<string, unknown>>[]): unknown[][] =>
  rows.map((r) => Object.values(r).map(normaliseValue))
