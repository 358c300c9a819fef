/**
 * A PostgreSQL session in a time zone other than UTC (`timeZone: 'Europe/Berlin'`): a Date bound
 * into a `timestamp` (without time zone) or `date` column is stored as the wall-clock time there
 * (the server converts it), so the driver reads such values as wall-clock time in that zone. Each
 * value read must equal the server's own reading of it in the session zone (`ts::timestamptz`),
 * daylight-saving changes included (a skipped time takes the offset before the change, a repeated
 * one the offset after it), and an instant outside the repeated hour reads back as written.
 */
import { describe, expect, it } from 'vitest'
import { type Backend, createBackend, run, sql } from 'recordkit'
import { wallClockReader } from 'recordkit/drivers/postgres'
import { PG_URL, serverAvailable } from './support/servers.js'

const ZONES = ['Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'Australia/Lord_Howe', 'UTC']

/** Instants around the 2024 daylight-saving changes of the zones above, and a few far ones. */
const INSTANTS: Date[] = [
  ...[
    '2024-03-31T00:30:00Z', '2024-03-31T01:00:00Z', '2024-03-31T01:30:00Z', '2024-10-27T00:30:00Z', '2024-10-27T01:00:00Z', '2024-10-27T01:30:00Z',
    '2024-03-10T06:30:00Z', '2024-03-10T07:30:00Z', '2024-11-03T05:30:00Z', '2024-11-03T06:30:00Z',
    '2024-04-06T14:45:00Z', '2024-10-05T15:15:00Z', '2024-06-01T12:00:00.123Z', '2024-12-31T23:59:59.999Z',
    '1900-01-01T00:00:00Z', '1970-01-01T00:00:00Z', '2100-07-04T18:30:00Z', '0050-06-01T12:00:00Z',
  ].map((s) => new Date(s)),
  // Every 37 minutes over the Berlin spring-forward night.
  ...Array.from({ length: 12 }, (_, i) => new Date(Date.UTC(2024, 2, 30, 22) + i * 37 * 60_000)),
]

describe('wallClockReader', () => {
  it('reads wall-clock text in the zone, and as UTC for UTC under any name', () => {
    expect(wallClockReader('Europe/Berlin')('2024-06-01 12:00:00').toISOString()).toBe('2024-06-01T10:00:00.000Z')
    expect(wallClockReader('Europe/Berlin')('2024-01-15').toISOString()).toBe('2024-01-14T23:00:00.000Z')
    expect(wallClockReader('Etc/UTC')('2024-06-01 12:00:00').toISOString()).toBe('2024-06-01T12:00:00.000Z')
    expect(wallClockReader('Asia/Kolkata')('2024-06-01 12:00:00.5').toISOString()).toBe('2024-06-01T06:30:00.500Z')
  })

  it('a zone the runtime does not know is a DecodeError naming it, never a UTC reading', () => {
    const read = wallClockReader('Mars/Olympus_Mons')
    expect(() => read('2024-06-01 12:00:00')).toThrow(expect.objectContaining({ _tag: 'DecodeError', message: expect.stringContaining('Mars/Olympus_Mons') }))
  })
})

for (const zone of ZONES) {
  describe(`PostgreSQL session in ${zone}`, () => {
    const connect = async (): Promise<Backend | undefined> =>
      (await serverAvailable('postgres')) ? run(createBackend({ engine: 'postgres', url: PG_URL, timeZone: zone, max: 1 })) : undefined

    it('reads timestamp and date columns as the server reads them in the session zone', async (ctx) => {
      const db = await connect()
      if (db === undefined) return ctx.skip()
      const table = `rk_pgtz_${zone.replace(/\W/g, '_').toLowerCase()}`
      try {
        await run(db.execute(sql`DROP TABLE IF EXISTS ${sql.id(table)}`))
        await run(db.execute(sql`CREATE TABLE ${sql.id(table)} (id int PRIMARY KEY, ts timestamp(3), d date, tstz timestamptz)`))
        for (const [i, at] of INSTANTS.entries()) await run(db.execute(sql`INSERT INTO ${sql.id(table)} VALUES (${i}, ${at}, ${at}, ${at})`))
        const rows = await run(db.all<{ id: number; ts: Date; d: Date; tstz: Date; ts_in_zone: Date; d_in_zone: Date }>(
          sql`SELECT id, ts, d, tstz, ts::timestamptz AS ts_in_zone, d::timestamptz AS d_in_zone FROM ${sql.id(table)} ORDER BY id`))
        expect(rows).toHaveLength(INSTANTS.length)
        for (const r of rows) {
          const at = INSTANTS[r.id]
          expect(r.tstz.toISOString()).toBe(at.toISOString())
          expect(r.ts.toISOString(), `timestamp of ${at.toISOString()}`).toBe(r.ts_in_zone.toISOString())
          expect(r.d.toISOString(), `date of ${at.toISOString()}`).toBe(r.d_in_zone.toISOString())
        }
        // Outside the hour a fall-back change repeats, a timestamp reads back as the instant written.
        const repeated = await run(db.all<{ id: number }>(sql`SELECT id FROM ${sql.id(table)} WHERE ts::timestamptz <> tstz`))
        expect(repeated.length).toBeLessThanOrEqual(2)
        if (zone === 'UTC') expect(repeated).toEqual([])
      } finally {
        await run(db.execute(sql`DROP TABLE IF EXISTS ${sql.id(table)}`))
        await run(db.close())
      }
    })
  })
}
