/**
 * Date text written for binding (src/dates.ts, tested on purpose as an internal): the forms cut
 * from `toISOString` agree with the text assembled field by field, for random instants of every
 * year 0-9999 and the edges, and the years each engine refuses are still refused.
 */
import { describe, expect, it } from 'vitest'
import { mysqlDateTime, pgTimestamp, sqliteDateTime, utcTime } from '../src/dates.js'
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
