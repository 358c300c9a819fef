/**
 * `calendarDate`: a SQL DATE column as the text `YYYY-MM-DD`, the same on every engine and in
 * every process time zone. The text is checked (month, day of the month, years 0001-9999); a Date
 * a driver makes of a DATE value (midnight UTC through recordkit's drivers, midnight in the process
 * zone from a client left to its defaults) reads as the day it holds, never shifted by a zone; a
 * Date at any other time is refused. Conditions compare days. A model printed from a table with
 * a DATE column uses it, and creates, reads and filters rows on SQLite, PostgreSQL and MariaDB.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import mysql from 'mysql2/promise'
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Backend, createBackend, isDbError, run, sql } from 'recordkit'
import { integer, model, nullable } from 'recordkit/model'
import { apply, createTable, createTableFor, column, introspect, printModels } from 'recordkit/schema'
import { calendarDate } from '../src/model/codecs.js'
import { ENGINES } from './support/engine-tables.js'
import { MYSQL_URL, PG_URL, serverAvailable } from './support/servers.js'

const decoded = (u: unknown): string | undefined => {
  const r = calendarDate.decode(u)
  return E.isRight(r) ? r.right : undefined
}
const refusal = (u: unknown): string => {
  const r = calendarDate.decode(u)
  return E.isLeft(r) ? r.left.map((e) => e.message).join('; ') : `decoded as ${JSON.stringify(r.right)}`
}

/** Run `f` with the process in time zone `zone`, restoring the zone after. */
const inZone = <A>(zone: string, f: () => A): A => {
  const saved = process.env.TZ
  process.env.TZ = zone
  try {
    return f()
  } finally {
    if (saved === undefined) delete process.env.TZ
    else process.env.TZ = saved
  }
}

const ZONES = ['UTC', 'America/Los_Angeles', 'Pacific/Kiritimati'] as const

/** Run the enclosing describe's tests with the process time zone set to `zone`. */
const testsInZone = (zone: string): void => {
  let saved: string | undefined
  beforeAll(() => {
    saved = process.env.TZ
    process.env.TZ = zone
  })
  afterAll(() => {
    if (saved === undefined) delete process.env.TZ
    else process.env.TZ = saved
  })
}

describe('calendarDate checks the text of a day', () => {
  it('is exported from recordkit/model, where printed models import it', async () => {
    const entry = (await import('recordkit/model')) as Record<string, unknown>
    expect(entry.calendarDate).toBe(calendarDate)
  })

  it('takes YYYY-MM-DD of a day that exists, years 0001-9999', () => {
    for (const s of ['2024-01-31', '2024-02-29', '2000-02-29', '0001-01-01', '0050-06-15', '9999-12-31']) expect(decoded(s), s).toBe(s)
    expect(calendarDate.is('2024-02-29')).toBe(true)
    expect(calendarDate.is('2023-02-29')).toBe(false)
    expect(calendarDate.encode('2024-02-29')).toBe('2024-02-29')
  })

  it('refuses other text, saying which rule it breaks', () => {
    expect(refusal('2023-02-29')).toBe('2023-02 has days 01-28, not 29')
    expect(refusal('1900-02-29')).toBe('1900-02 has days 01-28, not 29')
    expect(refusal('2024-04-31')).toBe('2024-04 has days 01-30, not 31')
    expect(refusal('2024-01-00')).toBe('2024-01 has days 01-31, not 00')
    expect(refusal('2024-13-01')).toBe('the month is 01-12, not 13')
    expect(refusal('2024-00-10')).toBe('the month is 01-12, not 00')
    expect(refusal('0000-01-01')).toBe('the year is 0001-9999')
    expect(refusal('0000-00-00')).toBe('the year is 0001-9999')
    for (const s of ['2024-1-31', '24-01-31', '2024/01/31', '2024-01-31 00:00:00', '2024-01-31T00:00:00Z', ' 2024-01-31', '+12024-01-31', '2024-0a-31', '']) {
      expect(refusal(s), s).toBe('a calendar date is text YYYY-MM-DD')
    }
    for (const u of [20240131, null, undefined, {}, 1n]) expect(refusal(u)).toBe('a calendar date is text YYYY-MM-DD')
  })

  it('encoding a value that is no day throws a ValidationError of rule calendarDate', () => {
    let thrown: unknown
    try {
      calendarDate.encode('2024-02-30')
    } catch (e) {
      thrown = e
    }
    expect(isDbError(thrown, 'ValidationError')).toBe(true)
    expect(thrown).toMatchObject({ message: '"2024-02-30" is not a calendar date: 2024-02 has days 01-29, not 30', issues: [{ path: '', rule: 'calendarDate', value: '2024-02-30' }] })
  })
})

describe('calendarDate reads a Date as the day it holds, in every process time zone', () => {
  for (const zone of ZONES) {
    it(`in ${zone}: midnight UTC and midnight in the zone are that day; other times are refused`, () => {
      inZone(zone, () => {
        // The zone is in effect (minutes behind UTC, in January 2024).
        expect(new Date(2024, 0, 31).getTimezoneOffset()).toBe({ UTC: 0, 'America/Los_Angeles': 480, 'Pacific/Kiritimati': -840 }[zone])
        // Midnight UTC: what recordkit's drivers hand over for a DATE.
        expect(decoded(new Date(Date.UTC(2024, 0, 31)))).toBe('2024-01-31')
        expect(decoded(new Date('2024-02-29'))).toBe('2024-02-29')
        expect(decoded(new Date(Date.UTC(1969, 11, 31)))).toBe('1969-12-31')
        expect(decoded(new Date('0001-01-01T00:00:00Z'))).toBe('0001-01-01')
        expect(decoded(new Date('9999-12-31T00:00:00Z'))).toBe('9999-12-31')
        // Midnight in the process zone: what a client library left to its defaults hands over.
        expect(decoded(new Date(2024, 0, 31))).toBe('2024-01-31')
        expect(decoded(new Date(2024, 11, 31))).toBe('2024-12-31')
        const early = new Date(50, 5, 15)
        early.setFullYear(50)
        expect(decoded(early)).toBe('0050-06-15')
        // Any other time of day is an instant, not a day.
        expect(refusal(new Date(Date.UTC(2024, 0, 31, 12)))).toContain('midnight neither in UTC nor in the process time zone')
        expect(decoded(new Date(2024, 0, 31, 0, 0, 0, 1))).toBeUndefined()
        expect(refusal(new Date(Number.NaN))).toBe('an invalid Date')
        expect(refusal(new Date(Date.UTC(10_000, 0, 1)))).toBe('the year is 0001-9999')
        expect(refusal(new Date(Date.UTC(-1, 0, 1)))).toBe('the year is 0001-9999')
      })
    })
  }
})

// ---------------------------------------------------------------- on the engines

const TABLE = 'rk_cal_days'

/** The model printed from the table: its codec is expected to be this one. */
const Reference = model({
  table: TABLE,
  primaryKey: 'id',
  codec: t.type({ id: integer, name: t.string, day: calendarDate, until: nullable(calendarDate) }),
})
type Days = typeof Reference

const table = pipe(
  createTable(TABLE),
  column('id', 'integer', { primaryKey: true, autoIncrement: true }),
  column('name', 'varchar(40)', { notNull: true }),
  column('day', 'date', { notNull: true }),
  column('until', 'date'),
)

const ROWS = [
  { name: 'first', day: '0001-01-01', until: '0001-12-31' },
  { name: 'early', day: '0050-06-15', until: null },
  { name: 'eve', day: '1999-12-31', until: '2000-01-01' },
  { name: 'jan30', day: '2024-01-30', until: null },
  { name: 'jan31', day: '2024-01-31', until: '2024-02-29' },
  { name: 'leap', day: '2024-02-29', until: '2024-03-01' },
  { name: 'mar1', day: '2024-03-01', until: null },
  { name: 'last', day: '9999-12-31', until: null },
] as const

const outDir = join(import.meta.dirname, '..', '.tmp', 'calendar-date')

/** The module printed from the database's table, written out and imported. */
const printedModel = async (db: Backend, name: string): Promise<{ text: string; Days: Days }> => {
  const text = printModels(await run(introspect(db, { include: (n) => n === TABLE })))
  mkdirSync(outDir, { recursive: true })
  const file = join(outDir, `${name}.ts`)
  writeFileSync(file, text)
  const mod = (await import(file)) as { RkCalDays: Days }
  return { text, Days: mod.RkCalDays }
}

for (const zone of ZONES) {
  describe(`a printed model of a DATE column, process time zone ${zone}`, () => {
    testsInZone(zone)

    for (const engine of ENGINES) {
      describe(engine.name, () => {
        let db: Backend | undefined
        let Days: Days
        let text = ''
        beforeAll(async () => {
          db = await engine.connect()
          if (db === undefined) return
          await run(db.execute(sql`DROP TABLE IF EXISTS ${sql.id(TABLE)}`))
          await run(apply(db, table))
          ;({ text, Days } = await printedModel(db, `${engine.name}-${zone.replace(/\W/g, '_')}`))
          await run(Days.createMany(db, ROWS))
        })
        afterAll(async () => {
          if (db === undefined) return
          await run(db.execute(sql`DROP TABLE IF EXISTS ${sql.id(TABLE)}`))
          await run(db.close())
        })
        const use = (ctx: { skip: () => void }): Backend => {
          if (db === undefined) ctx.skip()
          return db!
        }

        it('prints calendarDate for the DATE columns', (ctx) => {
          use(ctx)
          expect(text).toContain('  day: calendarDate,\n')
          expect(text).toContain('  until: nullable(calendarDate),\n')
          expect(text).toMatch(/import \{[^}]*\bcalendarDate\b[^}]*\} from 'recordkit\/model'/)
          // The printed codec reads the rows as the hand-written one does.
          expect(Days.table).toBe(Reference.table)
          expect(Object.keys((Days.codec as unknown as t.InterfaceType<t.Props>).props)).toEqual(Object.keys(Reference.codec.props))
        })

        it('reads every day back as it was written', async (ctx) => {
          const db = use(ctx)
          const rows = await run(pipe(Days.query, Days.orderBy('id'), Days.all(db)))
          expect(rows.map(({ name, day, until }) => ({ name, day, until }))).toEqual(ROWS)
          // The driver's own value, which the codec read: a Date on PostgreSQL, text elsewhere.
          const [raw] = await run(db.all<{ day: unknown }>(sql`SELECT day FROM ${sql.id(TABLE)} WHERE name = ${'leap'}`))
          expect(raw.day instanceof Date).toBe(engine.name === 'postgres')
        })

        it('creates, finds and updates a row by its day', async (ctx) => {
          const db = use(ctx)
          const made = await run(Days.create(db, { name: 'made', day: '2025-12-31', until: null }))
          try {
            expect(made.day).toBe('2025-12-31')
            const found = await run(Days.find(db, made.id))
            expect(found._tag === 'Some' && found.value.day).toBe('2025-12-31')
            const moved = await run(Days.update(db, made, { day: '2026-01-01', until: '2028-02-29' }))
            expect([moved.day, moved.until]).toEqual(['2026-01-01', '2028-02-29'])
            expect(await run(pipe(Days.query, Days.where({ day: '2026-01-01' }), Days.pluck(db, 'name')))).toEqual(['made'])
          } finally {
            await run(db.execute(sql`DELETE FROM ${sql.id(TABLE)} WHERE name = ${'made'}`))
          }
        })

        it('writes many rows at once (the bulk path: unnest on PostgreSQL past 500 rows)', async (ctx) => {
          const db = use(ctx)
          const input = Array.from({ length: 600 }, (_, i) => ({ name: `bulk${i}`, day: new Date(Date.UTC(1900, 0, 1 + i * 7)).toISOString().slice(0, 10), until: i % 2 === 0 ? null : '2000-02-29' }))
          try {
            const made = await run(Days.createMany(db, input))
            expect(made.map(({ name, day, until }) => ({ name, day, until }))).toEqual(input)
            const read = await run(pipe(Days.query, Days.where('name', 'like', 'bulk%'), Days.where('day', '>=', input[300].day), Days.orderBy('day'), Days.all(db)))
            expect(read.map(({ name, day, until }) => ({ name, day, until }))).toEqual(input.slice(300))
          } finally {
            await run(db.execute(sql`DELETE FROM ${sql.id(TABLE)} WHERE name LIKE ${'bulk%'}`))
          }
        })

        it('compares days in conditions: >=, <, =, between, in, not in, order', async (ctx) => {
          const db = use(ctx)
          const names = (step: ReturnType<Days['orderBy']>) => run(pipe(Days.query, step, Days.orderBy('id'), Days.pluck(db, 'name')))
          expect(await names(Days.where('day', '>=', '2024-01-31'))).toEqual(['jan31', 'leap', 'mar1', 'last'])
          expect(await names(Days.where('day', '<', '2024-01-31'))).toEqual(['first', 'early', 'eve', 'jan30'])
          expect(await names(Days.where('day', '>', '0001-01-01'))).toEqual(['early', 'eve', 'jan30', 'jan31', 'leap', 'mar1', 'last'])
          expect(await names(Days.where('day', '=', '2024-02-29'))).toEqual(['leap'])
          expect(await names(Days.where('day', 'between', '2024-01-30', '2024-02-29'))).toEqual(['jan30', 'jan31', 'leap'])
          expect(await names(Days.where('day', 'not between', '0002-01-01', '9999-12-30'))).toEqual(['first', 'last'])
          expect(await names(Days.where('day', 'in', ['2024-02-29', '1999-12-31', '2024-02-28']))).toEqual(['eve', 'leap'])
          expect(await names(Days.where('day', 'not in', ['2024-02-29', '1999-12-31']))).toEqual(['first', 'early', 'jan30', 'jan31', 'mar1', 'last'])
          // A list past 1,000 items, which each engine binds its own way.
          const many = Array.from({ length: 1500 }, (_, i) => new Date(Date.UTC(1900, 0, 1 + i)).toISOString().slice(0, 10))
          expect(await names(Days.where('day', 'in', [...many, '2024-03-01', '0050-06-15']))).toEqual(['early', 'mar1'])
          expect(await names(Days.where('day', 'not in', [...many, '2024-03-01', '0050-06-15']))).toEqual(['first', 'eve', 'jan30', 'jan31', 'leap', 'last'])
          expect(await names(Days.where('until', '>=', '2024-02-29'))).toEqual(['jan31', 'leap'])
          expect(await names(Days.where('until', 'is null'))).toEqual(['early', 'jan30', 'mar1', 'last'])
          expect(await run(pipe(Days.query, Days.orderBy('day', 'desc'), Days.limit(3), Days.pluck(db, 'name')))).toEqual(['last', 'mar1', 'leap'])
          expect(await run(pipe(Days.query, Days.max(db, 'day')))).toBe('9999-12-31')
        })

        it('refuses a day that does not exist, in input and in conditions, naming the field and the rule; nothing is written', async (ctx) => {
          const db = use(ctx)
          const bad = await Days.create(db, { name: 'bad', day: '2023-02-29', until: '2024-13-01' })()
          expect(E.isLeft(bad) && bad.left._tag).toBe('ValidationError')
          if (E.isLeft(bad) && bad.left._tag === 'ValidationError') {
            expect(bad.left.issues.map((i) => [i.path, i.rule, i.message])).toEqual([
              ['day', 'calendarDate', 'day: 2023-02 has days 01-28, not 29'],
              ['until', 'calendarDate', 'until: the month is 01-12, not 13'],
            ])
          }
          const many = await Days.createMany(db, [{ name: 'ok', day: '2024-05-05', until: null }, { name: 'bad', day: '0000-01-01', until: null }])()
          expect(E.isLeft(many) && many.left._tag === 'ValidationError' && many.left.issues.map((i) => [i.path, i.rule])).toEqual([['rows.1.day', 'calendarDate']])
          expect(await run(pipe(Days.query, Days.count(db)))).toBe(ROWS.length)

          const cond = await pipe(Days.query, Days.where('day', '>=', '2024-02-30'), Days.all(db))()
          expect(E.isLeft(cond) && cond.left._tag).toBe('ValidationError')
          if (E.isLeft(cond) && cond.left._tag === 'ValidationError') {
            expect(cond.left.issues).toMatchObject([{ path: 'day', rule: 'calendarDate' }])
            expect(cond.left.message).toContain('2024-02 has days 01-29, not 30')
          }
          const inList = await pipe(Days.query, Days.where('day', 'in', ['2024-01-31', '2024-1-31']), Days.all(db))()
          expect(E.isLeft(inList) && inList.left._tag === 'ValidationError' && inList.left.issues[0].path).toBe('day')
        })

        it('a Date at a time other than midnight is refused as input; a Date at midnight is its day', async (ctx) => {
          const db = use(ctx)
          const noon = await Days.create(db, { name: 'noon', day: new Date(Date.UTC(2024, 0, 31, 12)) as unknown as string, until: null })()
          expect(E.isLeft(noon) && noon.left._tag === 'ValidationError' && noon.left.issues.map((i) => [i.path, i.rule])).toEqual([['day', 'calendarDate']])
          const local = await run(Days.create(db, { name: 'local', day: new Date(2024, 6, 4) as unknown as string, until: null }))
          try {
            expect(local.day).toBe('2024-07-04')
            expect(await run(pipe(Days.query, Days.where('day', '=', new Date(Date.UTC(2024, 6, 4)) as unknown as string), Days.pluck(db, 'name')))).toEqual(['local'])
          } finally {
            await run(db.execute(sql`DELETE FROM ${sql.id(TABLE)} WHERE name = ${'local'}`))
          }
        })
      })
    }
  })
}

// ---------------------------------------------------------------- what the client libraries hand over

for (const zone of ZONES) {
  describe(`DATE values from the client libraries, process time zone ${zone}`, () => {
    testsInZone(zone)

    const DAYS = ['0001-01-01', '1970-01-01', '2024-01-31', '2024-02-29', '2024-03-10', '2024-11-03', '9999-12-31']
    const list = DAYS.map((d) => `DATE '${d}'`).join(', ')

    it('postgres.js with its own parsers: a Date per day, read as that day', async (ctx) => {
      if (!(await serverAvailable('postgres'))) return ctx.skip()
      const client = postgres(PG_URL, { max: 1, onnotice: () => {} })
      try {
        const rows = await client.unsafe(`SELECT d FROM unnest(ARRAY[${list}]) WITH ORDINALITY AS x(d, n) ORDER BY n`)
        expect(rows.every((r) => r.d instanceof Date)).toBe(true)
        expect(rows.map((r) => decoded(r.d))).toEqual(DAYS)
      } finally {
        await client.end()
      }
    })

    it('mysql2 with its defaults (DATE as a Date at local midnight): read as that day', async (ctx) => {
      if (!(await serverAvailable('mariadb'))) return ctx.skip()
      const conn = await mysql.createConnection(MYSQL_URL)
      try {
        // Years from 100 on: mysql2 builds its Dates with new Date(y, m, d), which reads year 1 as 1901.
        const days = DAYS.filter((d) => d >= '0100')
        const [rows] = await conn.query(days.map((d, i) => `SELECT ${i} AS n, DATE '${d}' AS d`).join(' UNION ALL ') + ' ORDER BY n')
        const ds = (rows as { d: unknown }[]).map((r) => r.d)
        expect(ds.every((d) => d instanceof Date)).toBe(true)
        expect(ds.map(decoded)).toEqual(days)
      } finally {
        await conn.end()
      }
    })

    it('recordkit on PostgreSQL in the process zone reads days; in another zone it refuses them rather than shift them', async (ctx) => {
      if (!(await serverAvailable('postgres'))) return ctx.skip()
      const other = zone === 'Pacific/Kiritimati' ? 'America/Los_Angeles' : 'Pacific/Kiritimati'
      const same = await run(createBackend({ engine: 'postgres', url: PG_URL, timeZone: zone, max: 1 }))
      const away = await run(createBackend({ engine: 'postgres', url: PG_URL, timeZone: other, max: 1 }))
      try {
        const read = async (db: Backend) => (await run(db.all<{ d: unknown }>(sql.raw(`SELECT d FROM unnest(ARRAY[${list}]) WITH ORDINALITY AS x(d, n) ORDER BY n`)))).map((r) => r.d)
        expect((await read(same)).map(decoded)).toEqual(DAYS)
        // Midnight in a zone that is neither UTC nor the process's: no day is guessed.
        const days = (await read(away)).filter((d) => (d as Date).getUTCFullYear() > 1).map(decoded)
        expect(days.every((d) => d === undefined)).toBe(true)
      } finally {
        await run(same.close())
        await run(away.close())
      }
    })
  })
}

describe('createTableFor derives a DATE column from calendarDate', () => {
  it('a model field of calendarDate is a date column, nullable when the codec is', () => {
    const ddl = createTableFor('cd_days', t.type({ id: integer, day: calendarDate, maybe: nullable(calendarDate) }), { primaryKey: 'id' })
    expect(E.isRight(ddl)).toBe(true)
    if (E.isLeft(ddl)) return
    const cols = Object.fromEntries(ddl.right.table.columns.map((c) => [c.name, c]))
    expect(cols.day.type).toBe('date')
    expect(cols.day.notNull).toBe(true)
    expect(cols.maybe.type).toBe('date')
    expect(cols.maybe.notNull).toBe(false)
  })
})
