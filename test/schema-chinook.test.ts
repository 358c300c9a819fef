/**
 * The Chinook schema read from SQLite and created on MariaDB and PostgreSQL (a scratch database
 * made for this file on each), then every row copied through recordkit: the schema read back there equals
 * the one read from SQLite, and the data is the same.
 */
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Backend, compose, connect, sql } from 'recordkit'
import { mysql } from 'recordkit/dialects/mysql'
import { postgres } from 'recordkit/dialects/postgres'
import { sqlite } from 'recordkit/dialects/sqlite'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'
import { mysql2 } from 'recordkit/drivers/mysql2'
import { postgresJs } from 'recordkit/drivers/postgres'
import { run } from 'recordkit/promise'
import { copyRows, createSchema, type SchemaDef, introspect } from 'recordkit/schema'
import { chinookTables, loadChinook } from 'recordkit/testing'
import { MYSQL_URL, PG_URL, serverAvailable } from './support/servers.js'

const available = await serverAvailable('mariadb')
const pgAvailable = await serverAvailable('postgres')

let source: Backend
let schema: SchemaDef

beforeAll(async () => {
  source = compose(betterSqlite3({ filename: ':memory:' }), sqlite)
  await run(loadChinook(source))
  schema = await run(introspect(source))
})

afterAll(async () => {
  await run(source.close())
})

describe('Chinook introspected from SQLite', () => {
  it('has every table in dependency order, with keys and foreign keys', () => {
    const names = schema.tables.map((t) => t.name)
    expect([...names].sort()).toEqual(chinookTables().map((t) => t.name).sort())
    for (const t of schema.tables) {
      for (const fk of t.foreignKeys) if (fk.references.table !== t.name) expect(names.indexOf(fk.references.table), `${t.name} -> ${fk.references.table}`).toBeLessThan(names.indexOf(t.name))
    }
    const invoice = schema.tables.find((t) => t.name === 'invoice')!
    expect(invoice.columns.find((c) => c.name === 'total')).toEqual({ name: 'total', type: 'decimal(10,2)', notNull: true })
    expect(invoice.columns.find((c) => c.name === 'invoice_date')).toEqual({ name: 'invoice_date', type: 'timestamp', notNull: true })
    expect(invoice.foreignKeys).toEqual([{ columns: ['customer_id'], references: { table: 'customer', columns: ['customer_id'] } }])
    expect(schema.tables.find((t) => t.name === 'playlist_track')!.primaryKey).toEqual({ columns: ['playlist_id', 'track_id'] })
  })
})

/** Per-table row counts and a few sums, the same on every engine when the data is. */
const fingerprint = async (db: Backend) => {
  const out: Record<string, unknown> = {}
  for (const t of chinookTables()) out[t.name] = Number((await run(db.all(sql`SELECT COUNT(*) AS n FROM ${sql.id(t.name)}`)))[0].n)
  const [sums] = await run(db.all(sql`SELECT SUM(total) AS total, MIN(invoice_date) AS first, COUNT(DISTINCT billing_country) AS countries FROM invoice`))
  out.total = Number(Number(sums.total).toFixed(2))
  const first = sums.first instanceof Date ? sums.first.toISOString().slice(0, 19).replace('T', ' ') : String(sums.first)
  out.first = first
  out.countries = Number(sums.countries)
  const [track] = await run(db.all(sql`SELECT name, composer, milliseconds, unit_price FROM track WHERE track_id = ${2}`))
  out.track = { ...track, unit_price: Number(track.unit_price) }
  return out
}

/** A database made for this file, dropped afterwards. */
const scratch = `sch_chinook_${randomBytes(4).toString('hex')}`

describe.skipIf(!available)('Chinook created on MariaDB from the SQLite schema', () => {
  let admin: Backend
  let target: Backend
  beforeAll(async () => {
    admin = await run(connect(mysql2({ url: MYSQL_URL, max: 2 }), mysql))
    await run(admin.execute(sql.raw(`CREATE DATABASE \`${scratch}\``)))
    const url = new URL(MYSQL_URL)
    url.pathname = `/${scratch}`
    target = await run(connect(mysql2({ url: url.toString(), max: 4 }), mysql))
  })
  afterAll(async () => {
    if (target !== undefined) await run(target.close())
    if (admin !== undefined) {
      await run(admin.execute(sql.raw(`DROP DATABASE IF EXISTS \`${scratch}\``)))
      await run(admin.close())
    }
  })

  it('creates the schema, and reads back the same schema', async () => {
    await run(createSchema(target, schema))
    expect(await run(introspect(target))).toEqual(schema)
  })

  it('loads every row through recordkit', async () => {
    let rows = 0
    for (const t of schema.tables) rows += await run(copyRows(source, target, t))
    expect(rows).toBe(chinookTables().reduce((n, t) => n + t.rows.length, 0))
    expect(await fingerprint(target)).toEqual(await fingerprint(source))
  })
})

describe.skipIf(!pgAvailable)('Chinook created on PostgreSQL from the SQLite schema', () => {
  let admin: Backend
  let target: Backend
  beforeAll(async () => {
    admin = await run(connect(postgresJs({ url: PG_URL, max: 1 }), postgres))
    await run(admin.execute(sql.raw(`CREATE DATABASE "${scratch}"`)))
    const url = new URL(PG_URL)
    url.pathname = `/${scratch}`
    target = await run(connect(postgresJs({ url: url.toString(), max: 4 }), postgres))
  })
  afterAll(async () => {
    if (target !== undefined) await run(target.close())
    if (admin !== undefined) {
      await run(admin.execute(sql.raw(`DROP DATABASE IF EXISTS "${scratch}" WITH (FORCE)`)))
      await run(admin.close())
    }
  })

  it('creates the schema, and reads back the same schema', async () => {
    await run(createSchema(target, schema))
    expect(await run(introspect(target))).toEqual(schema)
  })

  it('loads every row through recordkit', async () => {
    let rows = 0
    for (const t of schema.tables) rows += await run(copyRows(source, target, t))
    expect(rows).toBe(chinookTables().reduce((n, t) => n + t.rows.length, 0))
    expect(await fingerprint(target)).toEqual(await fingerprint(source))
  })
})
