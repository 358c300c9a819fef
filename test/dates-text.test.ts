/**
 * Date text written for binding (src/dates.ts, tested on purpose as an internal): the forms cut
 * from `toISOString` agree with the text assembled field by field, for random instants of every
 * year 0-9999 and the edges, and the years each engine refuses are still refused. PostgreSQL's
 * date text is read back to the same instant in every form it prints (fractions of 1-6 digits,
 * zones of hours, minutes and seconds, BC years, years past 9999).
 */
import { describe, expect, it } from 'vitest'
import { mysqlDateTime, parseMysqlDateTime, parsePgTimestamp, pgTimestamp, sqliteDateTime, utcTime } from '../src/dates.js'
import { isDbError } from 'recordkit'

const pad = (n: number, w = 2): string => String(n).padStart(w, '0')
const fields = (d: Date, y: number): string =>
  `${pad(y, 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`

/** The reference forms, field by field. */
const refSqlite = (d: Date): string => {
  const ms = d.getUTCMilliseconds()
  return ms === 0 ? fields(d, d.getUTCFullYear()) : `${fields(d, d.getUTCFullYear())}.${pad(ms, 3)}`
}
const refMysql = (d: Date): string => `${fields(d, d.getUTCFullYear())}.${pad(d.getUTCMilliseconds(), 3)}`
const refPg = (d: Date): string => {
  const y = d.getUTCFullYear()
  const text = `${fields(d, y > 0 ? y : 1 - y)}.${pad(d.getUTCMilliseconds(), 3)}+00`
  return y > 0 ? text : `${text} BC`
}

// A seeded generator, so a failure names a reproducible date.
let seed = 16
const next = (): number => {
  seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31
  return seed / 2 ** 31
}

const samples: Date[] = [
  new Date(utcTime(0, 0, 1)),
  new Date(utcTime(1, 0, 1)),
  new Date(utcTime(99, 11, 31, 23, 59, 59, 999)),
  new Date(utcTime(1970, 0, 1)),
  new Date(utcTime(2024, 1, 29, 23, 59, 58, 120)),
  new Date(utcTime(2024, 1, 29, 23, 59, 58, 0)),
  new Date(utcTime(9999, 11, 31, 23, 59, 59, 999)),
]
for (let i = 0; i < 5000; i++) {
  const y = Math.floor(next() * 10_000)
  samples.push(new Date(utcTime(y, Math.floor(next() * 12), 1 + Math.floor(next() * 28), Math.floor(next() * 24), Math.floor(next() * 60), Math.floor(next() * 60), next() < 0.3 ? 0 : Math.floor(next() * 1000))))
}

describe('date text for binding', () => {
  it('SQLite, MySQL and PostgreSQL forms match the field-by-field text for years 0-9999', () => {
    for (const d of samples) {
      expect(sqliteDateTime(d), d.toISOString()).toBe(refSqlite(d))
      expect(mysqlDateTime(d), d.toISOString()).toBe(refMysql(d))
      expect(pgTimestamp(d), d.toISOString()).toBe(refPg(d))
    }
  })

  it('PostgreSQL writes BC years and years past 9999; SQLite and MySQL refuse them', () => {
    for (const d of [new Date(utcTime(-43, 2, 15)), new Date(utcTime(-1, 0, 1, 12)), new Date(utcTime(10_000, 0, 1)), new Date(utcTime(275_000, 5, 1, 1, 2, 3, 4))]) {
      const y = d.getUTCFullYear()
      expect(pgTimestamp(d)).toBe(y > 0 ? `${fields(d, y)}.${pad(d.getUTCMilliseconds(), 3)}+00` : refPg(d))
      for (const f of [sqliteDateTime, mysqlDateTime]) {
        let thrown: unknown
        try {
          f(d)
        } catch (e) {
          thrown = e
        }
        expect(isDbError(thrown) && thrown._tag === 'ValidationError', `${f.name} ${d.toISOString()}`).toBe(true)
      }
    }
  })

  it('an invalid Date is a ValidationError on every engine', () => {
    for (const f of [sqliteDateTime, mysqlDateTime, pgTimestamp]) {
      let thrown: unknown
      try {
        f(new Date(Number.NaN))
      } catch (e) {
        thrown = e
      }
      expect(isDbError(thrown) && thrown._tag === 'ValidationError').toBe(true)
    }
  })
})

describe('PostgreSQL date text read back', () => {
  const zones: readonly [string, number][] = [['', 0], ['+00', 0], ['+05:30', 330], ['-03', -180], ['-09:30:15', -(9 * 60 + 30.25)], ['+14:00:00', 840]]
  const fractions = (ms: number): string[] => {
    const three = pad(ms, 3)
    const trimmed = three.replace(/0+$/, '')
    return [...(ms === 0 ? [''] : []), `.${three}`, `.${three}456`, ...(trimmed === '' || trimmed === three ? [] : [`.${trimmed}`])]
  }
  it('reads every form of years 0-9999 to the instant it names', () => {
    let checked = 0
    for (const d of samples) {
      const ms = d.getUTCMilliseconds()
      for (const frac of fractions(ms)) {
        for (const [zone, minutes] of zones) {
          // The text names d's wall-clock fields at that zone: the instant is d less the offset.
          const text = `${fields(d, d.getUTCFullYear())}${frac}${zone}`
          expect(parsePgTimestamp(text).getTime(), text).toBe(d.getTime() - minutes * 60_000)
          checked++
        }
      }
      const day = `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`
      expect(parsePgTimestamp(day).getTime(), day).toBe(utcTime(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()))
    }
    expect(checked).toBeGreaterThan(50_000)
  })

  it('reads BC years and years past 9999, and refuses what is no date', () => {
    expect(parsePgTimestamp('0044-03-15 00:00:00+00 BC').getTime()).toBe(utcTime(-43, 2, 15))
    expect(parsePgTimestamp('0001-01-01 12:00:00.5 BC').getTime()).toBe(utcTime(0, 0, 1, 12, 0, 0, 500))
    expect(parsePgTimestamp('10000-01-01 00:00:00+00').getTime()).toBe(Date.UTC(10_000, 0, 1))
    for (const bad of ['infinity', '-infinity', '2024-01-01 00:00:00.1234567+00', '2024-01-01 00:00:00+0', '2024-01-01 00:00:00+00:0', '2024-01-01T00:00:00Z', '2024-1-01', '2024-01-01 00:00', '2024-01-01 00:00:00.+00', 'x024-01-01']) {
      let thrown: unknown
      try {
        parsePgTimestamp(bad)
      } catch (e) {
        thrown = e
      }
      expect(isDbError(thrown) && thrown._tag === 'DecodeError', bad).toBe(true)
    }
  })
})

/** The DbError `f` throws, or undefined. */
const thrownBy = (f: () => unknown): unknown => {
  try {
    f()
  } catch (e) {
    return e
  }
  return undefined
}

// Texts naming no instant: a day the month lacks, a clock past 23:59:59, a month past 12.
const IMPOSSIBLE = ['2023-02-29 00:00:00', '2023-02-30 12:00:00', '2024-04-31 00:00:00', '1900-02-29 00:00:00', '2024-13-01 00:00:00', '2024-01-01 24:00:00', '2024-01-01 23:60:00', '2024-01-01 23:59:60']

describe('MySQL date text read back', () => {
  it('reads the text the server prints (no fraction, 3 or 6 digits) to the instant it names, years 0-99 too', () => {
    for (const d of samples) {
      const text = refMysql(d)
      expect(parseMysqlDateTime(text).getTime(), text).toBe(d.getTime())
      expect(parseMysqlDateTime(`${text}000`).getTime(), text).toBe(d.getTime())
      expect(parseMysqlDateTime(text.slice(0, 19)).getTime(), text).toBe(d.getTime() - d.getUTCMilliseconds())
    }
    expect(parseMysqlDateTime('2024-02-29').getTime()).toBe(Date.UTC(2024, 1, 29))
  })

  it('refuses zero dates and dates no calendar has (kept by ALLOW_INVALID_DATES) instead of rolling them over', () => {
    for (const bad of [...IMPOSSIBLE, '0000-00-00 00:00:00', '2024-00-10', '2024-05-00']) {
      const thrown = thrownBy(() => parseMysqlDateTime(bad))
      expect(isDbError(thrown) && thrown._tag === 'DecodeError', bad).toBe(true)
    }
    expect(String((thrownBy(() => parseMysqlDateTime('2023-02-30 12:00:00')) as Error).message)).toContain('month 2 of 2023 has 28 days')
  })
})

describe('date text read by the model codec', () => {
  it('refuses dates and times no calendar has, in every form it reads, instead of rolling them over', async () => {
    const { date } = await import('recordkit/model')
    for (const text of IMPOSSIBLE) {
      for (const form of [text, `${text}.500`, `${text.replace(' ', 'T')}.000Z`, `${text.replace(' ', 'T')}+02:00`, `${text}Z`]) {
        expect(date.decode(form)._tag, form).toBe('Left')
      }
    }
    const leap = date.decode('2024-02-29 23:59:59')
    expect(leap._tag === 'Right' && leap.right.toISOString()).toBe('2024-02-29T23:59:59.000Z')
  })

  it('refuses the common forms with any digit replaced by another character, and reads them intact', async () => {
    const { date } = await import('recordkit/model')
    for (const text of ['2024-02-29 23:59:59.999', '2024-02-29T23:59:59.999Z', '0099-12-31 00:00:00']) {
      const whole = date.decode(text)
      expect(whole._tag === 'Right' && whole.right.getTime()).toBe(Date.parse(text.includes('T') ? text : `${text.replace(' ', 'T')}Z`))
      for (let i = 0; i < text.length; i++) {
        if (!/\d/.test(text[i])) continue
        for (const c of ['x', '/', ':', '-']) {
          const broken = text.slice(0, i) + c + text.slice(i + 1)
          expect(date.decode(broken)._tag, broken).toBe('Left')
        }
      }
    }
  })
})
