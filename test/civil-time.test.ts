/**
 * `civilTime` (src/dates.ts, an internal) computes the UTC time of date text read from SQLite
 * by arithmetic; it must give the very number `utcTime` (Date.UTC, years 0-99 included) gives.
 */
import { describe, expect, it } from 'vitest'
import * as t from 'io-ts'
import { civilTime, utcTime } from '../src/dates.js'
import { date } from 'recordkit/model'

describe('civilTime', () => {
  it('agrees with utcTime on every month of years 0-9999, leap days and rolled-over times included', () => {
    let checked = 0
    for (let y = 0; y <= 9999; y += y < 130 ? 1 : 11) {
      for (let m = 1; m <= 12; m++) {
        for (const d of [1, 28, 29, 30, 31]) {
          for (const [h, mi, s, ms] of [[0, 0, 0, 0], [23, 59, 59, 999], [99, 99, 99, 999]]) {
            expect(civilTime(y, m, d, h, mi, s, ms)).toBe(utcTime(y, m - 1, d, h, mi, s, ms))
            checked++
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(100_000)
  })

  it('is what the date codec reads from SQLite text', () => {
    const decoded = t.array(date).decode(['2024-02-29 23:59:59.123', '0001-01-01 00:00:00', '1999-12-31T23:59:59.999Z'])
    expect(decoded._tag === 'Right' && decoded.right.map((x) => x.toISOString())).toEqual([
      '2024-02-29T23:59:59.123Z', '0001-01-01T00:00:00.000Z', '1999-12-31T23:59:59.999Z',
    ])
    expect(date.decode('2023-02-29 00:00:00')._tag).toBe('Left')
  })
})
