/**
 * An IoT telemetry service as a new user writes it from README.md and the guides, on SQLite,
 * PostgreSQL and MariaDB: devices with a JSON config and tags (soft-deleted when retired),
 * readings ingested in bulk (createMany of thousands of rows, executeBatch of raw inserts),
 * the devices' last status kept with upsertMany, reports per minute, hour and day (UTC and a
 * fixed-offset zone) with min / max / avg, moving averages, deltas and ranks over windows,
 * percentiles where the engine has them, a large result streamed and left early, retention in
 * batches, alerts written under savepoints and acknowledged, keyset pages over (ts, id), IN
 * lists of thousands of ids, NULL readings, counters beyond 2^53 and floats read back exactly,
 * and migrations up and down. Written with the Promise adapter.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join as joinPath } from 'node:path'
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Backend, createBackend, isDbError, promised, type PromiseBackend, run, sql, supports } from 'recordkit'
import {
  belongsTo, date, float, hasMany, int64, jsonOf, model, nullable, promisedModels, relate, snakeCase, softDelete, timestamps, withDeleted,
} from 'recordkit/model'
import {
  and, as, avg, col, count, dateAdd, dateTrunc, deleteFrom, desc, eq, fn, from, groupBy, gt, isIn, lag, lead, limit, lit, lt, max,
  min, orderBy, over, preceding, rank, readAs, rows, select, sub, sum, tuple, val, where, withinGroup,
} from 'recordkit/query'
import { addColumn, alterTable, apply, column, createTable, dropColumn, dropTable, index, migrateDown, migrateUp, migrationStatus, unique, type Migration } from 'recordkit/schema'
import { MYSQL_URL, PG_URL, serverAvailable } from './support/servers.js'

const P = 'rk_tl_'
const HISTORY = `${P}migrations`
const TABLES = ['alerts', 'status', 'readings', 'devices'].map((x) => P + x)

// ---- The schema, as migrations ----

const MIGRATIONS: readonly Migration[] = [
  {
    name: '20260401000000_devices',
    up: (db) => apply(db, pipe(
      createTable(`${P}devices`),
      column('id', 'integer', { primaryKey: true, autoIncrement: true }),
      column('serial', 'varchar(40)', { notNull: true, unique: true }),
      column('name', 'varchar(80)', { notNull: true }),
      column('config', 'json'),
      column('tags', 'json'),
      column('deleted_at', 'timestamp(3)'),
      column('created_at', 'timestamp(3)', { notNull: true }),
      column('updated_at', 'timestamp(3)', { notNull: true }),
    )),
    down: (db) => apply(db, dropTable(`${P}devices`)),
  },
  {
    name: '20260401000100_readings',
    up: (db) => apply(db, pipe(
      createTable(`${P}readings`),
      column('id', 'integer', { primaryKey: true, autoIncrement: true }),
      column('device_id', 'integer', { notNull: true, references: `${P}devices.id` }),
      column('ts', 'timestamp(3)', { notNull: true }),
      column('value', 'double'),
      column('counter', 'bigint'),
      index(['device_id', 'ts']),
      index(['ts', 'id']),
    )),
    down: (db) => apply(db, dropTable(`${P}readings`)),
  },
  {
    name: '20260401000200_status',
    up: (db) => apply(db, pipe(
      createTable(`${P}status`),
      column('device_id', 'integer', { primaryKey: true, references: `${P}devices.id` }),
      column('last_seen', 'timestamp(3)', { notNull: true }),
      column('last_value', 'double'),
      column('readings', 'bigint', { notNull: true }),
    )),
    down: (db) => apply(db, dropTable(`${P}status`)),
  },
  {
    name: '20260401000300_alerts',
    up: (db) => apply(db, pipe(
      createTable(`${P}alerts`),
      column('id', 'integer', { primaryKey: true, autoIncrement: true }),
      column('device_id', 'integer', { notNull: true, references: `${P}devices.id` }),
      column('reading_id', 'integer', { notNull: true }),
      column('level', 'varchar(10)', { notNull: true }),
      column('value', 'double', { notNull: true }),
      column('acknowledged_at', 'timestamp(3)'),
      column('created_at', 'timestamp(3)', { notNull: true }),
      column('updated_at', 'timestamp(3)', { notNull: true }),
      unique(['device_id', 'reading_id']),
    )),
    down: (db) => apply(db, dropTable(`${P}alerts`)),
  },
  {
    name: '20260401000400_device_unit',
    up: (db) => apply(db, pipe(alterTable(`${P}devices`), addColumn('unit', 'varchar(10)'))),
    down: (db) => apply(db, pipe(alterTable(`${P}devices`), dropColumn('unit'))),
  },
]

// ---- The models ----

const Config = t.type({ intervalSeconds: t.number, threshold: t.number, calibration: t.array(t.number) })

const Telemetry = relate({
  Device: model({
    table: `${P}devices`,
    primaryKey: 'id',
    naming: snakeCase,
    codec: t.type({
      id: t.number, serial: t.string, name: t.string, config: nullable(jsonOf(Config)), tags: nullable(jsonOf(t.array(t.string))),
      unit: nullable(t.string), deletedAt: nullable(date), createdAt: date, updatedAt: date,
    }),
    behaviours: [timestamps(), softDelete()],
    relations: { readings: hasMany('Reading', 'deviceId'), alerts: hasMany('Alert', 'deviceId') },
  }),
  Reading: model({
    table: `${P}readings`,
    primaryKey: 'id',
    naming: snakeCase,
    codec: t.type({ id: t.number, deviceId: t.number, ts: date, value: nullable(float), counter: nullable(int64) }),
    relations: { device: belongsTo('Device', 'deviceId') },
  }),
  Status: model({
    table: `${P}status`,
    primaryKey: 'deviceId',
    naming: snakeCase,
    codec: t.type({ deviceId: t.number, lastSeen: date, lastValue: nullable(float), readings: int64 }),
  }),
  Alert: model({
    table: `${P}alerts`,
    primaryKey: 'id',
    naming: snakeCase,
    codec: t.type({
      id: t.number, deviceId: t.number, readingId: t.number, level: t.keyof({ warn: null, crit: null }), value: float,
      acknowledgedAt: nullable(date), createdAt: date, updatedAt: date,
    }),
    behaviours: [timestamps()],
    relations: { device: belongsTo('Device', 'deviceId') },
  }),
})
const { Device, Reading, Alert } = Telemetry
const M = promisedModels(Telemetry)
type ReadingRow = t.TypeOf<typeof Reading.codec>
/** The readings after (ts, id) in keyset order: a row value compared with the last row's. */
const gtPair = (ts: Date, id: number) => gt(tuple(Reading.column('ts'), Reading.column('id')), tuple(val(ts), val(id)))

// ---- The data ----

const T0 = Date.UTC(2026, 2, 1) // 2026-03-01T00:00:00Z
const MINUTES = 1500 // 25 hours of one reading a minute per device
const BIG = 2n ** 60n
/** A device's reading at minute i: a wave, NULL every 97th minute, a counter beyond 2^53 on device 0. */
const valueAt = (d: number, i: number): number | null => (i % 97 === 0 ? null : Math.round((Math.sin(i / 10) * 50 + d * 10) * 1000) / 1000 + 0.1)
const counterAt = (d: number, i: number): bigint => (d === 0 ? BIG + BigInt(i) : BigInt(i))
const tsAt = (i: number) => new Date(T0 + i * 60_000)

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length

// ---- The engines ----

const ENGINES = [
  { name: 'sqlite', url: (dir: string) => `sqlite:${joinPath(dir, 'telemetry.db')}` },
  { name: 'postgres', url: () => PG_URL },
  { name: 'mariadb', url: () => MYSQL_URL.replace(/^mysql:/, 'mariadb:') },
] as const

for (const engine of ENGINES) {
  describe(`a telemetry service on ${engine.name}`, () => {
    let dir = ''
    let raw: Backend | undefined
    let db: PromiseBackend
    let devices: { id: number; serial: string }[] = []
    const use = (ctx: { skip: () => void }): PromiseBackend => {
      if (raw === undefined) ctx.skip()
      return db
    }
    const R = (name: string) => sql.id(P + name)
    const dropAll = async (d: Backend) => {
      for (const table of [...TABLES, HISTORY]) await run(d.execute(sql`DROP TABLE IF EXISTS ${sql.id(table)}`))
    }

    beforeAll(async () => {
      if (engine.name !== 'sqlite' && !(await serverAvailable(engine.name))) return
      dir = mkdtempSync(joinPath(tmpdir(), 'tl-nu-'))
      raw = await run(createBackend(engine.url(dir)))
      db = promised(raw)
      await dropAll(raw)
      await run(migrateUp(raw, MIGRATIONS, { table: HISTORY }))
      const made = await M.Device.createMany(db, [0, 1, 2, 3].map((d) => ({
        serial: `SN-${d}`, name: `sensor ${d}`, unit: d === 3 ? null : 'C',
        config: { intervalSeconds: 60, threshold: 45 + d * 10, calibration: [0.1, 0.2 + d, 1e-7] },
        tags: d % 2 === 0 ? ['roof', `zone-${d}`] : [],
      })))
      devices = made.map((x) => ({ id: x.id, serial: x.serial }))
      const rowsIn = devices.flatMap((dev, d) => Array.from({ length: MINUTES }, (_, i) => ({
        deviceId: dev.id, ts: tsAt(i), value: valueAt(d, i), counter: counterAt(d, i),
      })))
      const inserted = await M.Reading.createMany(db, rowsIn, { returning: false })
      expect(inserted).toBe(4 * MINUTES)
    }, 120_000)
    afterAll(async () => {
      if (raw !== undefined) {
        await dropAll(raw)
        await run(raw.close())
      }
      if (dir !== '') rmSync(dir, { recursive: true, force: true })
    })

    describe('devices', () => {
      it('keeps a JSON config and tags as given, and the unit NULL where none was given', async (ctx) => {
        const p = use(ctx)
        const all = await pipe(Device.query, Device.orderBy('id'), M.Device.all(p))
        expect(all.map((x) => x.tags)).toEqual([['roof', 'zone-0'], [], ['roof', 'zone-2'], []])
        expect(all[3].config).toEqual({ intervalSeconds: 60, threshold: 75, calibration: [0.1, 3.2, 1e-7] })
        expect(all[3].unit).toBe(null)
        expect(await pipe(Device.query, Device.where('unit', '=', null), M.Device.count(p))).toBe(1)
        expect(await pipe(Device.query, Device.where('unit', '<>', 'C'), M.Device.count(p))).toBe(0) // NULL is not <> 'C'
      })
    })

    describe('ingest', () => {
      it('reads every reading back, NULL values and counters beyond 2^53 included', async (ctx) => {
        const p = use(ctx)
        expect(await pipe(Reading.query, M.Reading.count(p))).toBe(4 * MINUTES)
        const first = await pipe(Reading.query, Reading.where('deviceId', '=', devices[0].id), Reading.orderBy('ts'), Reading.limit(3), M.Reading.all(p))
        expect(first.map((r) => [r.ts.toISOString(), r.value, r.counter])).toEqual([
          ['2026-03-01T00:00:00.000Z', null, BIG],
          ['2026-03-01T00:01:00.000Z', valueAt(0, 1), BIG + 1n],
          ['2026-03-01T00:02:00.000Z', valueAt(0, 2), BIG + 2n],
        ])
        const top = await pipe(Reading.query, Reading.where('deviceId', '=', devices[0].id), M.Reading.max(p, 'counter'))
        expect(top).toBe(BIG + BigInt(MINUTES - 1))
        const few = await pipe(Reading.query, Reading.where('deviceId', '=', devices[0].id), Reading.where('counter', '<', BIG + 4n), M.Reading.sum(p, 'counter'))
        expect(few).toBe(4n * BIG + 6n)
      })

      it('reads floats back exactly, the largest counter too', async (ctx) => {
        const p = use(ctx)
        const values = [0.1 + 0.2, Math.PI, 1e-300, -1.7976931348623157e308, 123456789.12345679, 2 ** 53 + 2, -0.000001, 1 / 3]
        const made = await M.Reading.createMany(p, values.map((value, i) => ({ deviceId: devices[1].id, ts: new Date(Date.UTC(2020, 0, 1, 0, i)), value, counter: 2n ** 63n - 1n - BigInt(i) })))
        expect(made.map((r) => r.value)).toEqual(values)
        const back = await pipe(Reading.query, Reading.where('id', 'in', made.map((r) => r.id)), Reading.orderBy('id'), M.Reading.all(p))
        expect(back.map((r) => r.value)).toEqual(values)
        expect(back.map((r) => r.counter)).toEqual(values.map((_, i) => 2n ** 63n - 1n - BigInt(i)))
        const found = await pipe(Reading.query, Reading.where('value', '=', 0.1 + 0.2), Reading.where('deviceId', '=', devices[1].id), M.Reading.count(p))
        expect(found).toBe(1)
        const raws = await p.all(pipe(from(`${P}readings`), select('value'), where(isIn('id', made.map((r) => r.id))), orderBy('id')))
        expect(raws.map((r) => Number(r.value))).toEqual(values)
        await M.Reading.deleteWhere(p, { id: made.map((r) => r.id) })
      })

      it('inserts raw readings through executeBatch, one compiled statement for every set', async (ctx) => {
        const p = use(ctx)
        const insert = sql`INSERT INTO ${R('readings')} (device_id, ts, value, counter) VALUES (${0}, ${new Date(0)}, ${0}, ${0n})`
        const sets = Array.from({ length: 500 }, (_, i) => [devices[2].id, new Date(Date.UTC(2021, 0, 1) + i * 1000), i / 8, BIG * 2n + BigInt(i)])
        const results = await p.transaction(async (tx) => tx.executeBatch(insert, sets))
        expect(results.length).toBe(500)
        expect(results.every((r) => r.rowsAffected === 1)).toBe(true)
        const back = await pipe(Reading.query, Reading.where('ts', '<', new Date(Date.UTC(2022, 0, 1))), Reading.where('deviceId', '=', devices[2].id), Reading.orderBy('ts'), M.Reading.all(p))
        expect(back.length).toBe(500)
        expect(back[499].counter).toBe(BIG * 2n + 499n)
        expect(back[499].value).toBe(499 / 8)
        expect(back[1].ts.toISOString()).toBe('2021-01-01T00:00:01.000Z')
        await M.Reading.deleteWhere(p, { id: back.map((r) => r.id) })
      })

      it('keeps each device\'s last status with upsertMany', async (ctx) => {
        const p = use(ctx)
        const latest = async () => {
          const out = []
          for (const dev of devices) {
            const last = await pipe(Reading.query, Reading.where('deviceId', '=', dev.id), Reading.orderBy('ts', 'desc'), M.Reading.first(p))
            const n = await pipe(Reading.query, Reading.where('deviceId', '=', dev.id), M.Reading.count(p))
            out.push({ deviceId: dev.id, lastSeen: last!.ts, lastValue: last!.value, readings: BigInt(n) })
          }
          return out
        }
        const first = await M.Status.upsertMany(p, await latest(), { conflict: ['deviceId'] })
        expect(first.map((s) => s.readings)).toEqual([1500n, 1500n, 1500n, 1500n])
        const later = first.slice(0, 2).map((s) => ({ ...s, lastSeen: new Date(s.lastSeen.getTime() + 60_000), lastValue: null, readings: s.readings + BIG }))
        const second = await M.Status.upsertMany(p, later, { conflict: ['deviceId'] })
        expect(second.map((s) => [s.lastValue, s.readings])).toEqual([[null, 1500n + BIG], [null, 1500n + BIG]])
        const all = await pipe(Telemetry.Status.query, Telemetry.Status.orderBy('deviceId'), M.Status.all(p))
        expect(all.length).toBe(4)
        expect(all.map((s) => s.readings)).toEqual([1500n + BIG, 1500n + BIG, 1500n, 1500n])
        expect(all[0].lastSeen.toISOString()).toBe('2026-03-02T01:00:00.000Z')
      })
    })

    describe('reports', () => {
      it('gives min, max, avg and counts per hour in UTC', async (ctx) => {
        const p = use(ctx)
        const dev = devices[1]
        const hour = dateTrunc('hour', 'ts')
        const q = pipe(
          from(`${P}readings`),
          select({ hour, n: count(), present: count('value'), lo: min('value'), hi: max('value'), mean: avg('value') }),
          where(eq('device_id', dev.id)),
          groupBy(hour),
          orderBy(hour),
        )
        const got = await p.all(q)
        expect(got.length).toBe(25)
        for (let h = 0; h < 25; h++) {
          const xs = Array.from({ length: 60 }, (_, m) => valueAt(1, h * 60 + m)).filter((x): x is number => x !== null)
          const row = got[h]
          expect((row.hour as Date).toISOString()).toBe(new Date(T0 + h * 3_600_000).toISOString())
          expect(row.n).toBe(60)
          expect(row.present).toBe(xs.length)
          expect(Number(row.lo)).toBe(Math.min(...xs))
          expect(Number(row.hi)).toBe(Math.max(...xs))
          expect(row.mean).toBeCloseTo(mean(xs), 9)
        }
      })

      it('gives days in New York (UTC-5) by moving each time first', async (ctx) => {
        const p = use(ctx)
        const day = dateTrunc('day', dateAdd('ts', -5, 'hour'))
        const got = await p.all(pipe(
          from(`${P}readings`),
          select({ day, n: count() }),
          where(eq('device_id', devices[0].id)),
          groupBy(day),
          orderBy(day),
        ))
        expect(got.map((r) => [(r.day as Date).toISOString().slice(0, 10), r.n])).toEqual([['2026-02-28', 300], ['2026-03-01', 1200]])
      })

      it('gives one reading per device a minute', async (ctx) => {
        const p = use(ctx)
        const minute = dateTrunc('minute', 'ts')
        const got = await p.all(pipe(
          from(`${P}readings`),
          select({ minute, n: count() }),
          where(lt('ts', new Date(T0 + 5 * 60_000))),
          groupBy(minute),
          orderBy(minute),
        ))
        expect(got.map((r) => [(r.minute as Date).getTime(), r.n])).toEqual([0, 1, 2, 3, 4].map((m) => [T0 + m * 60_000, 4]))
      })

      it('gives moving averages, deltas to the previous and next reading, and ranks per device', async (ctx) => {
        const p = use(ctx)
        const q = pipe(
          from(`${P}readings`),
          select('device_id', 'ts', 'value',
            as(over(avg('value'), { partitionBy: ['device_id'], orderBy: ['ts'], frame: rows(preceding(2), 'current row') }), 'moving'),
            as(sub('value', over(lag('value'), { partitionBy: ['device_id'], orderBy: ['ts'] })), 'delta'),
            as(over(lead('value'), { partitionBy: ['device_id'], orderBy: ['ts'] }), 'next'),
            as(over(rank(), { partitionBy: ['device_id'], orderBy: [desc('value', 'last')] }), 'place')),
          where(and(isIn('device_id', [devices[0].id, devices[1].id]), lt('ts', new Date(T0 + 10 * 60_000)))),
          orderBy('device_id'), orderBy('ts'),
        )
        const got = await p.all(q)
        expect(got.length).toBe(20)
        for (const [k, d] of [0, 1].entries()) {
          const xs = Array.from({ length: 10 }, (_, i) => valueAt(d, i))
          const part = got.slice(k * 10, k * 10 + 10)
          part.forEach((row, i) => {
            const window = xs.slice(Math.max(0, i - 2), i + 1).filter((x): x is number => x !== null)
            if (window.length === 0) expect(row.moving).toBe(null) // the first minute is NULL: an average of nothing
            else expect(Number(row.moving)).toBeCloseTo(mean(window), 9)
            const prev = i === 0 ? null : xs[i - 1]
            expect(row.delta === null ? null : Number(row.delta)).toEqual(prev === null || xs[i] === null ? null : expect.closeTo(xs[i]! - prev, 9))
            expect(row.next === null ? null : Number(row.next)).toBe(i === 9 ? null : xs[i + 1])
          })
          const sorted = xs.filter((x): x is number => x !== null).sort((a, b) => b - a)
          const best = part.find((r) => r.place === 1)
          expect(Number(best!.value)).toBe(sorted[0])
          expect(part.map((r) => r.place).sort((a, b) => Number(a) - Number(b))[0]).toBe(1)
        }
      })

      it('gives counter deltas beyond 2^53 as bigints, the last counter per device too', async (ctx) => {
        const p = use(ctx)
        const prev = over(lag('counter'), { partitionBy: ['device_id'], orderBy: ['ts'] })
        const got = await p.all(pipe(
          from(`${P}readings`),
          select({ counter: readAs('counter', 'int64'), prev: readAs(prev, 'int64'), delta: readAs(sub('counter', prev), 'int64') }),
          where(eq('device_id', devices[0].id)), where(lt('ts', new Date(T0 + 3 * 60_000))),
          orderBy('ts'),
        ))
        expect(got).toEqual([{ counter: BIG, prev: null, delta: null }, { counter: BIG + 1n, prev: BIG, delta: 1n }, { counter: BIG + 2n, prev: BIG + 1n, delta: 1n }])
        const last = await p.all(pipe(from(`${P}readings`), select({ device: col('device_id'), top: readAs(max('counter'), 'int64') }), groupBy('device_id'), orderBy('device_id')))
        expect(last.map((r) => r.top)).toEqual([BIG + BigInt(MINUTES - 1), BigInt(MINUTES - 1), BigInt(MINUTES - 1), BigInt(MINUTES - 1)])
      })

      it('gives the median per device where the engine has percentiles, and says so elsewhere', async (ctx) => {
        const p = use(ctx)
        const q = pipe(
          from(`${P}readings`),
          select('device_id', as(withinGroup(fn('percentile_cont', lit(0.5)), ['value']), 'median')),
          groupBy('device_id'),
          orderBy('device_id'),
        )
        if (supports(raw!.dialect, 'withinGroup')) {
          const got = await p.all(q)
          const xs = Array.from({ length: MINUTES }, (_, i) => valueAt(0, i)).filter((x): x is number => x !== null).sort((a, b) => a - b)
          const mid = xs.length % 2 === 1 ? xs[(xs.length - 1) / 2] : (xs[xs.length / 2 - 1] + xs[xs.length / 2]) / 2
          expect(Number(got[0].median)).toBeCloseTo(mid, 9)
        } else {
          await expect(p.all(q)).rejects.toMatchObject({ _tag: 'UnsupportedFeature' })
        }
      })

      it('counts NULL readings apart, and leaves them out of averages', async (ctx) => {
        const p = use(ctx)
        const [row] = await p.all(pipe(
          from(`${P}readings`),
          select({ n: count(), present: count('value'), mean: avg('value') }),
          where(eq('device_id', devices[2].id)),
        ))
        const xs = Array.from({ length: MINUTES }, (_, i) => valueAt(2, i)).filter((x): x is number => x !== null)
        expect(row.n).toBe(MINUTES)
        expect(row.present).toBe(xs.length)
        expect(row.mean).toBeCloseTo(mean(xs), 9)
        const missing: number | null = null
        const [nulls] = await p.all(pipe(from(`${P}readings`), select({ n: count() }), where(eq('value', missing)), where(eq('device_id', devices[2].id))))
        expect(nulls.n).toBe(MINUTES - xs.length)
        expect(await pipe(Reading.query, Reading.where('deviceId', '=', devices[2].id), Reading.where('value', 'is null'), M.Reading.count(p))).toBe(MINUTES - xs.length)
        expect(await pipe(Reading.query, Reading.where('deviceId', '=', devices[2].id), M.Reading.avg(p, 'value'))).toBeCloseTo(mean(xs), 9)
        const agg = await pipe(Reading.query, Reading.where('deviceId', '=', devices[2].id), Reading.where('value', 'is null'), M.Reading.aggregate(p, (a) => ({ lo: a.min('value'), total: a.sum('value'), mean: a.avg('value') })))
        expect(agg).toEqual([{ lo: null, total: null, mean: null }])
      })

      it('sums floating readings and counters as a user expects: exact, or an error, never rounded', async (ctx) => {
        const p = use(ctx)
        const dev = devices[3].id
        const xs = Array.from({ length: MINUTES }, (_, i) => valueAt(3, i)).filter((x): x is number => x !== null)
        const [row] = await p.all(pipe(from(`${P}readings`), select({ total: sum('value'), exact: sum('counter', { exact: true }) }), where(eq('device_id', dev))))
        expect(row.total).toBeCloseTo(xs.reduce((a, b) => a + b, 0), 6)
        expect(row.exact).toBe(String((MINUTES * (MINUTES - 1)) / 2))
        const modelTotal = await pipe(Reading.query, Reading.where('deviceId', '=', dev), M.Reading.sum(p, 'value'))
        expect(modelTotal).toBeCloseTo(xs.reduce((a, b) => a + b, 0), 6)
        const [big] = await p.all(pipe(from(`${P}readings`), select({ exact: sum('counter', { exact: true }) }), where(eq('device_id', devices[0].id)), where(lt('ts', new Date(T0 + 4 * 60_000)))))
        expect(big.exact).toBe(String(4n * BIG + 6n))
        await expect(p.all(pipe(from(`${P}readings`), select({ total: sum('counter') }), where(eq('device_id', devices[0].id)), where(lt('ts', new Date(T0 + 4 * 60_000))))))
          .rejects.toMatchObject({ _tag: 'DecodeError' })
        const span = await pipe(Reading.query, Reading.where('deviceId', '=', dev), M.Reading.aggregate(p, (a) => ({ first: a.min('ts'), last: a.max('ts'), hi: a.max('value'), top: a.max('counter') })))
        expect(span[0].first).toEqual(tsAt(0))
        expect(span[0].last).toEqual(tsAt(MINUTES - 1))
        expect(span[0].hi).toBe(Math.max(...xs))
        expect(span[0].top).toBe(BigInt(MINUTES - 1))
      })

      it('stores an infinite reading where the engine can hold it, and refuses it where it cannot', async (ctx) => {
        const p = use(ctx)
        const made = M.Reading.create(p, { deviceId: devices[1].id, ts: new Date(Date.UTC(2019, 0, 1)), value: Infinity, counter: null })
        if (engine.name === 'mariadb') {
          await expect(made).rejects.toMatchObject({ _tag: 'ValidationError' })
        } else {
          const r = await made
          expect(r.value).toBe(Infinity)
          expect((await M.Reading.find(p, r.id))?.value).toBe(Infinity)
          await M.Reading.delete(p, r)
        }
        // NaN: PostgreSQL's double precision holds it; SQLite and MariaDB have none, and the float
        // field refuses it there, naming the field.
        const nan = M.Reading.create(p, { deviceId: devices[1].id, ts: new Date(Date.UTC(2019, 0, 1)), value: NaN, counter: null })
        if (engine.name === 'postgres') {
          const r = await nan
          expect(Number.isNaN((await M.Reading.find(p, r.id))?.value)).toBe(true)
          await M.Reading.delete(p, r)
        } else {
          await expect(nan).rejects.toMatchObject({ _tag: 'ValidationError', issues: [{ path: 'value', rule: 'bindable' }] })
        }
      })
    })

    describe('reading large results', () => {
      it('streams readings and leaves the loop early, the backend still usable', async (ctx) => {
        const p = use(ctx)
        let seen = 0
        let lastId = 0
        for await (const row of p.stream(pipe(from(`${P}readings`), select('id', 'value'), orderBy('id')), { batchSize: 100 })) {
          expect(Number(row.id)).toBeGreaterThan(lastId)
          lastId = Number(row.id)
          if (++seen === 250) break
        }
        expect(seen).toBe(250)
        expect(await pipe(Reading.query, M.Reading.count(p))).toBe(4 * MINUTES)
        // Inside a transaction too: the transaction goes on after the loop is left.
        const n = await p.transaction(async (tx) => {
          for await (const _ of tx.stream(pipe(from(`${P}readings`), select('id')), { batchSize: 50 })) break
          return pipe(Reading.query, M.Reading.count(tx))
        })
        expect(n).toBe(4 * MINUTES)
      })

      it('pages over (ts, id) with a keyset, no reading skipped or repeated, ties in ts included', async (ctx) => {
        const p = use(ctx)
        const ids: number[] = []
        let last: ReadingRow | undefined
        for (let pages = 0; pages < 100; pages++) {
          const page = await pipe(
            Reading.query,
            Reading.where('ts', '<', new Date(T0 + 300 * 60_000)),
            last === undefined ? (q) => q : Reading.where(gtPair(last.ts, last.id)),
            Reading.orderBy('ts'), Reading.orderBy('id'), Reading.limit(170),
            M.Reading.all(p),
          )
          if (page.length === 0) break
          ids.push(...page.map((r) => r.id))
          last = page[page.length - 1]
        }
        const all = await pipe(Reading.query, Reading.where('ts', '<', new Date(T0 + 300 * 60_000)), Reading.orderBy('ts'), Reading.orderBy('id'), M.Reading.pluck(p, 'id'))
        expect(all.length).toBe(1200)
        expect(ids).toEqual(all)
      })

      it('filters on IN lists of thousands of ids, and of counters beyond 2^53', async (ctx) => {
        const p = use(ctx)
        const ids = await pipe(Reading.query, Reading.orderBy('id'), M.Reading.pluck(p, 'id'))
        const some = ids.filter((_, i) => i % 2 === 0)
        expect(await pipe(Reading.query, Reading.where('id', 'in', some), M.Reading.count(p))).toBe(some.length)
        expect(await pipe(Reading.query, Reading.where('id', 'not in', some), M.Reading.count(p))).toBe(ids.length - some.length)
        const [n] = await p.all(pipe(from(`${P}readings`), select({ n: count() }), where(isIn('id', [...some, ...some]))))
        expect(n.n).toBe(some.length)
        const counters = Array.from({ length: 1200 }, (_, i) => BIG + BigInt(i))
        expect(await pipe(Reading.query, Reading.where('counter', 'in', counters), M.Reading.count(p))).toBe(1200)
        const [m] = await p.all(pipe(from(`${P}readings`), select({ n: count() }), where(isIn('counter', counters))))
        expect(m.n).toBe(1200)
      })
    })

    describe('alerts', () => {
      it('writes an alert per reading over the threshold under savepoints, skips duplicates, and acknowledges them', async (ctx) => {
        const p = use(ctx)
        const dev = await M.Device.findBy(p, { serial: 'SN-1' })
        const threshold = dev!.config!.threshold // 55
        const over = await pipe(Reading.query, Reading.where('deviceId', '=', dev!.id), Reading.where('value', '>', threshold), Reading.orderBy('id'), M.Reading.all(p))
        expect(over.length).toBeGreaterThan(10)
        const result = await p.transaction(async (tx) => {
          let written = 0
          let duplicates = 0
          for (const r of [...over, ...over.slice(0, 3)]) {
            try {
              await tx.savepoint('alert', async (sp) => {
                await M.Alert.create(sp, { deviceId: r.deviceId, readingId: r.id, level: r.value! > threshold + 4 ? 'crit' : 'warn', value: r.value! })
              })
              written++
            } catch (e) {
              if (!isDbError(e, 'UniqueViolation')) throw e
              duplicates++
            }
          }
          return { written, duplicates }
        })
        expect(result).toEqual({ written: over.length, duplicates: 3 })
        const crit = await pipe(Alert.query, Alert.where('level', '=', 'crit'), M.Alert.count(p))
        const acked = await M.Alert.updateWhere(p, { deviceId: dev!.id, level: 'crit', acknowledgedAt: null }, { acknowledgedAt: new Date(T0 + 86_400_000) })
        expect(acked).toBe(crit)
        expect(await pipe(Alert.query, Alert.where('acknowledgedAt', 'is null'), M.Alert.count(p))).toBe(over.length - crit)
        const values = await pipe(Alert.query, Alert.orderBy('readingId'), M.Alert.pluck(p, 'value'))
        expect(values).toEqual(over.map((r) => r.value))
      })
    })

    describe('retention', () => {
      it('deletes old readings in batches, through a limited subquery and through the model', async (ctx) => {
        const p = use(ctx)
        const cutoff = new Date(T0 + 60 * 60_000) // the first hour: 240 readings
        const before = await pipe(Reading.query, M.Reading.count(p))
        const oldest = pipe(from(`${P}readings`), select('id'), where(lt('ts', cutoff)), orderBy('id'), limit(100))
        const gone = await p.execute(pipe(deleteFrom(`${P}readings`), where(isIn('id', oldest))))
        expect(gone.rowsAffected).toBe(100)
        let rounds = 0
        for (;;) {
          const ids = await pipe(Reading.query, Reading.where('ts', '<', cutoff), Reading.orderBy('id'), Reading.limit(50), M.Reading.pluck(p, 'id'))
          if (ids.length === 0) break
          expect(await M.Reading.deleteWhere(p, { id: ids })).toBe(ids.length)
          rounds++
        }
        expect(rounds).toBe(3) // 140 left: 50, 50, 40
        expect(await pipe(Reading.query, M.Reading.count(p))).toBe(before - 240)
      })

      it('retires a device with a soft delete, hidden from queries but kept with its readings', async (ctx) => {
        const p = use(ctx)
        const dev = await M.Device.findBy(p, { serial: 'SN-3' })
        const retired = await M.Device.delete(p, dev!)
        expect(retired.deletedAt).toBeInstanceOf(Date)
        expect(await pipe(Device.query, M.Device.count(p))).toBe(3)
        expect(await M.Device.findBy(p, { serial: 'SN-3' })).toBeUndefined()
        expect(await pipe(Device.query, withDeleted, M.Device.count(p))).toBe(4)
        expect(await pipe(Reading.query, Reading.where('deviceId', '=', dev!.id), M.Reading.count(p))).toBe(MINUTES - 60)
        // A required belongsTo whose target is soft-deleted is a NotFound saying so, as documented.
        await expect(pipe(Reading.query, Reading.where('deviceId', '=', dev!.id), Reading.include('device'), Reading.limit(1), M.Reading.all(p)))
          .rejects.toMatchObject({ _tag: 'NotFound' })
        await expect(M.Device.create(p, { serial: 'SN-3', name: 'again', config: null, tags: null, unit: null })).rejects.toMatchObject({ _tag: 'UniqueViolation' })
      })
    })

    describe('migrations', () => {
      it('goes down and up again, the last migration removing the unit column', async (ctx) => {
        const p = use(ctx)
        const status = await run(migrationStatus(raw!, MIGRATIONS, { table: HISTORY }))
        expect(status.filter((s) => s.state === 'applied').length).toBe(MIGRATIONS.length)
        await run(migrateDown(raw!, MIGRATIONS, { table: HISTORY, steps: 1 }))
        await expect(p.all(sql`SELECT unit FROM ${R('devices')}`)).rejects.toMatchObject({ _tag: 'QueryError' })
        await run(migrateUp(raw!, MIGRATIONS, { table: HISTORY }))
        const back = await pipe(Device.query, withDeleted, M.Device.all(p))
        expect(back.every((x) => x.unit === null)).toBe(true)
      })
    })
  })
}

