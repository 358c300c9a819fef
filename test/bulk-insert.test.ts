/**
 * createMany in bulk, on real databases: on PostgreSQL a large group of rows read back goes
 * through one `INSERT ... SELECT * FROM unnest(...) RETURNING` statement (the column types read
 * from the catalog at each call), and so does one not read back that skips conflicts or goes
 * through a driver that does not pipeline; elsewhere, and through postgres.js without RETURNING,
 * through multi-row VALUES chunks. Either way the values stored are the values given (quotes,
 * braces, backslashes, the text NULL, JSON, dates with milliseconds, NULLs), the rows come back
 * in input order, and a failure leaves the table as it was.
 */
import * as t from 'io-ts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Backend, compose, connect, sql, statementOf, wrap } from 'recordkit'
import { postgres } from 'recordkit/dialects/postgres'
import { sqlite } from 'recordkit/dialects/sqlite'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'
import { postgresJs } from 'recordkit/drivers/postgres'
import { bool, date, decimal, jsonOf, model, nullable, snakeCase } from 'recordkit/model'
import { ok, fails } from 'recordkit/testing'
import { PG_URL, serverAvailable } from './support/servers.js'

const Bulk = model({
  table: 'bulk_items',
  primaryKey: 'id',
  naming: snakeCase,
  codec: t.type({
    id: t.number,
    sku: t.string,
    qty: t.number,
    price: decimal,
    active: bool,
    at: date,
    meta: jsonOf(t.unknown),
    note: nullable(t.string),
  }),
})

const AWKWARD = ['', 'NULL', 'null', '{a,b}', '"quoted"', 'back\\slash', "it's", 'comma, here', ' spaced ', 'ünï€ode 😀', '(1,2)', '\t\n']

const inputs = (n: number, from = 0) => Array.from({ length: n }, (_, k) => {
  const i = from + k
  return {
    sku: `S-${i}`,
    qty: i % 7 === 0 ? -i - 1 : i,
    price: `${i}.${String(i % 100).padStart(2, '0')}`,
    active: i % 3 === 0,
    at: new Date(Date.UTC(2020, i % 12, 1 + (i % 28), i % 24, i % 60, i % 60, i % 1000)),
    meta: i % 5 === 0 ? { n: i, tags: ['x', AWKWARD[i % AWKWARD.length]] } : [i, null],
    note: i % 4 === 0 ? null : AWKWARD[i % AWKWARD.length],
  }
})

/** A backend that records every statement it runs. */
const traced = (db: Backend) => {
  const log: string[] = []
  return { log, db: wrap(db, { execute: (next, self) => (q) => { log.push(statementOf(self, q).sql); return next(q) } }) }
}

const byId = <R extends { id: number }>(rows: readonly R[]): R[] => [...rows].sort((a, b) => a.id - b.id)

const pgAvailable = await serverAvailable('postgres')

describe.skipIf(!pgAvailable)('createMany in bulk on PostgreSQL (unnest)', () => {
  let db: Backend
  const create = (qty = 'integer') => ok(db.execute(sql.raw(`DROP TABLE IF EXISTS bulk_items; CREATE TABLE bulk_items (id serial PRIMARY KEY, sku text UNIQUE NOT NULL, qty ${qty} NOT NULL, price numeric(10,2) NOT NULL, active boolean NOT NULL, at timestamptz NOT NULL, meta jsonb NOT NULL, note text, tags text[])`)))
  beforeAll(async () => {
    db = await ok(connect(postgresJs({ url: PG_URL, max: 2 }), postgres))
  })
  afterAll(async () => {
    await ok(db.execute(sql.raw('DROP TABLE IF EXISTS bulk_items')))
    await ok(db.close())
  })

  it('inserts 1200 rows read back in one unnest statement (below 2000 rows), values exact', async () => {
    await create()
    const { db: seen, log } = traced(db)
    const given = inputs(1200)
    expect((await ok(Bulk.createMany(seen, given))).map(({ id: _, ...r }) => r)).toEqual(given)
    const inserts = log.filter((s) => /^INSERT/.test(s))
    expect(inserts.length).toBe(1)
    expect(inserts[0]).toMatch(/SELECT \* FROM unnest\(\$1::text\[\], \$2::integer\[\], /)
    const stored = byId(await ok(Bulk.all(db)(Bulk.query)))
    expect(stored.map(({ id: _, ...r }) => r)).toEqual(given)
  })

  it('with returning: false, on postgres.js (which pipelines), 1000-row VALUES statements, values exact, counted', async () => {
    await create()
    const { db: seen, log } = traced(db)
    const given = inputs(2500)
    expect(await ok(Bulk.createMany(seen, given, { returning: false }))).toBe(2500)
    const inserts = log.filter((s) => /^INSERT/.test(s))
    expect(inserts.some((s) => /unnest/.test(s))).toBe(false)
    // Two runs of one 1000-row statement and one of 500 rows: no catalog read for column types.
    expect(inserts.length).toBe(3)
    expect(log.some((s) => /pg_attribute/.test(s))).toBe(false)
    const stored = byId(await ok(Bulk.all(db)(Bulk.query)))
    expect(stored.map(({ id: _, ...r }) => r)).toEqual(given)
  })

  it('sends 2000 rows a statement, pipelined; a failure in the last chunk leaves nothing', async () => {
    await create()
    const { db: seen, log } = traced(db)
    const given = inputs(4500)
    const rows = await ok(Bulk.createMany(seen, given))
    expect(log.filter((s) => /^INSERT .* unnest\(/.test(s)).length).toBe(3)
    expect(rows.map(({ id: _, ...r }) => r)).toEqual(given)
    const dup = inputs(4500, 10_000).map((r, i) => (i === 4400 ? { ...r, sku: 'S-7' } : r))
    expect((await fails(Bulk.createMany(db, dup, { returning: false })))._tag).toBe('UniqueViolation')
    expect((await ok(Bulk.all(db)(Bulk.query))).length).toBe(4500)
  })

  it('returns the stored rows in input order, decoded', async () => {
    await create()
    const given = inputs(800)
    const rows = await ok(Bulk.createMany(db, given))
    expect(rows.map(({ id: _, ...r }) => r)).toEqual(given)
    expect(rows.map((r) => r.id)).toEqual(given.map((_, i) => i + 1))
  })

  it('leaves the table as it was when row 1100 repeats a key, or a value cannot be bound', async () => {
    await create()
    await ok(Bulk.createMany(db, inputs(3)))
    const dup = inputs(1200, 10).map((r, i) => (i === 1099 ? { ...r, sku: 'S-15' } : r))
    const e = await fails(Bulk.createMany(db, dup, { returning: false }))
    expect(e._tag).toBe('UniqueViolation')
    const bad = inputs(1200, 10).map((r, i) => (i === 1000 ? { ...r, note: 'lone \ud800 surrogate' } : r))
    const v = await fails(Bulk.createMany(db, bad, { returning: false }))
    expect(v._tag).toBe('ValidationError')
    expect((await ok(Bulk.all(db)(Bulk.query))).length).toBe(3)
  })

  it('skipping conflicts with returning: false, unnest with ON CONFLICT DO NOTHING, counting the rows inserted', async () => {
    await create()
    await ok(Bulk.createMany(db, inputs(200)))
    const { db: seen, log } = traced(db)
    expect(await ok(Bulk.createMany(seen, inputs(1200), { returning: false, onConflict: 'ignore' }))).toBe(1000)
    const inserts = log.filter((s) => /^INSERT/.test(s))
    expect(inserts.length).toBe(1)
    expect(inserts[0]).toMatch(/unnest\(.*ON CONFLICT DO NOTHING/s)
    expect((await ok(Bulk.all(db)(Bulk.query))).length).toBe(1200)
  })

  it('with returning: false through a driver that does not pipeline: one unnest statement, counted', async () => {
    await create()
    const serial = await ok(connect({ ...postgresJs({ url: PG_URL, max: 1 }), pipelines: false }, postgres))
    try {
      const { db: seen, log } = traced(serial)
      const given = inputs(1200)
      expect(await ok(Bulk.createMany(seen, given, { returning: false }))).toBe(1200)
      const inserts = log.filter((s) => /^INSERT/.test(s))
      expect(inserts.length).toBe(1)
      expect(inserts[0]).toMatch(/SELECT \* FROM unnest\(/)
      expect(byId(await ok(Bulk.all(db)(Bulk.query))).map(({ id: _, ...r }) => r)).toEqual(given)
    } finally {
      await ok(serial.close())
    }
  })

  it('reads the column types at each call: a table made again with other types still takes the rows', async () => {
    await create('integer')
    expect((await ok(Bulk.createMany(db, inputs(600)))).length).toBe(600)
    await create('bigint')
    const { db: seen, log } = traced(db)
    expect((await ok(Bulk.createMany(seen, inputs(600)))).length).toBe(600)
    expect(log.find((s) => /^INSERT/.test(s))).toMatch(/\$2::bigint\[\]/)
  })

  it('a group setting an array column goes through VALUES (unnest would flatten the arrays)', async () => {
    await create()
    const Tagged = model({ table: 'bulk_items', primaryKey: 'id', naming: snakeCase, codec: t.type({ id: t.number, sku: t.string, qty: t.number, price: decimal, active: bool, at: date, meta: jsonOf(t.unknown), tags: t.array(t.string) }) })
    const { db: seen, log } = traced(db)
    const given = inputs(600).map(({ note: _, ...r }, i) => ({ ...r, tags: [`a${i}`, '{b}'] }))
    expect(await ok(Tagged.createMany(seen, given, { returning: false }))).toBe(600)
    expect(log.some((s) => /unnest/.test(s))).toBe(false)
    const stored = byId(await ok(Tagged.all(db)(Tagged.query)))
    expect(stored[599].tags).toEqual(['a599', '{b}'])
  })
})

describe('createMany in bulk on SQLite (multi-row VALUES)', () => {
  let db: Backend
  beforeAll(async () => {
    db = compose(betterSqlite3({ filename: ':memory:' }), sqlite)
    await ok(db.execute(sql.raw('CREATE TABLE bulk_items (id INTEGER PRIMARY KEY, sku TEXT UNIQUE NOT NULL, qty INTEGER NOT NULL, price TEXT NOT NULL, active INTEGER NOT NULL, at TEXT NOT NULL, meta TEXT NOT NULL, note TEXT)')))
  })
  afterAll(async () => {
    await ok(db.close())
  })

  it('inserts 5000 rows, values exact, in input order', async () => {
    const given = inputs(5000)
    expect(await ok(Bulk.createMany(db, given, { returning: false }))).toBe(5000)
    const stored = byId(await ok(Bulk.all(db)(Bulk.query)))
    expect(stored.map(({ id: _, ...r }) => r)).toEqual(given)
    const back = await ok(Bulk.createMany(db, inputs(1500, 5000)))
    expect(back.map(({ id: _, ...r }) => r)).toEqual(inputs(1500, 5000))
  })

  it('leaves the table as it was when row 4500 repeats a key', async () => {
    const before = (await ok(Bulk.all(db)(Bulk.query))).length
    const dup = inputs(5000, 20_000).map((r, i) => (i === 4499 ? { ...r, sku: 'S-3' } : r))
    expect((await fails(Bulk.createMany(db, dup, { returning: false })))._tag).toBe('UniqueViolation')
    const bad = inputs(5000, 20_000).map((r, i) => (i === 4800 ? { ...r, at: new Date(Date.UTC(12_000, 0, 1)) } : r))
    const refused = await fails(Bulk.createMany(db, bad, { returning: false }))
    expect(refused._tag).toBe('ValidationError')
    // The row and field the driver could not take, not a parameter position.
    expect(refused._tag === 'ValidationError' && refused.issues.map((i) => i.path)).toEqual(['rows.4800.at'])
    expect(refused.message).toMatch(/^rows\.4800\.at: .*years 0000-9999/)
    expect((await ok(Bulk.all(db)(Bulk.query))).length).toBe(before)
  })
})
