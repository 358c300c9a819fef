/**
 * An order-management service as a new user writes it from the guides (customers, orders, order
 * lines, products, tags), on SQLite, PostgreSQL and MariaDB, and what such a user expects from
 * Rails, Python ActiveRecord, Drizzle or Kysely:
 *
 * - a field the model does not have (a misspelt `stauts`, a key of request data) is a
 *   ValidationError naming it, in create, createMany, update, updateWhere and upsert: it was
 *   dropped without a word, so `{ stauts: 'paid' }` stored the default status and an update of
 *   it sent no statement at all (Rails raises UnknownAttributeError, Kysely's SQL names the column).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import { afterAll, describe, expect, it } from 'vitest'
import { type Backend, createBackend, isDbError, run } from 'recordkit'
import { belongsTo, date, decimal, hasMany, manyToMany, model, nullable, promisedModels, relate, snakeCase, softDelete, timestamps, unique } from 'recordkit/model'
import { fails, ok } from 'recordkit/testing'
import { ENGINES, engineTables } from './support/engine-tables.js'
import { MYSQL_URL, PG_URL } from './support/servers.js'
import { main } from '../src/cli.js'

const Status = t.keyof({ new: null, paid: null, shipped: null })

const Shop = relate({
  Customer: model({
    table: 'shop_nu_customers',
    primaryKey: 'id',
    naming: snakeCase,
    codec: t.type({ id: t.number, email: t.string, name: t.string, createdAt: date, updatedAt: date, deletedAt: nullable(date) }),
    behaviours: [timestamps(), softDelete(), unique('email')],
    relations: { orders: hasMany('Order', 'customerId') },
  }),
  Order: model({
    table: 'shop_nu_orders',
    primaryKey: 'id',
    naming: snakeCase,
    codec: t.type({ id: t.number, customerId: t.number, status: Status, total: decimal }),
    defaults: ['status'],
    relations: {
      customer: belongsTo('Customer', 'customerId'),
      tags: manyToMany('Tag', { through: 'shop_nu_order_tags', from: 'order_id', to: 'tag_id' }),
    },
  }),
  Tag: model({ table: 'shop_nu_tags', primaryKey: 'id', codec: t.type({ id: t.number, name: t.string }) }),
})
const { Customer, Order } = Shop
const P = promisedModels(Shop)

const TABLES = ['shop_nu_order_tags', 'shop_nu_tags', 'shop_nu_orders', 'shop_nu_customers']
const ddl = (engine: string): string[] => {
  const stamp = engine === 'postgres' ? 'TIMESTAMP(3)' : engine === 'mariadb' ? 'DATETIME(3)' : 'TEXT'
  const serial = engine === 'postgres' ? 'SERIAL PRIMARY KEY' : engine === 'mariadb' ? 'INTEGER AUTO_INCREMENT PRIMARY KEY' : 'INTEGER PRIMARY KEY AUTOINCREMENT'
  return [
    `CREATE TABLE shop_nu_customers (id ${serial}, email VARCHAR(80) NOT NULL UNIQUE, name VARCHAR(80) NOT NULL, created_at ${stamp} NOT NULL, updated_at ${stamp} NOT NULL, deleted_at ${stamp} NULL)`,
    `CREATE TABLE shop_nu_orders (id ${serial}, customer_id INTEGER NOT NULL, status VARCHAR(20) NOT NULL DEFAULT 'new', total DECIMAL(10,2) NOT NULL)`,
    `CREATE TABLE shop_nu_tags (id ${serial}, name VARCHAR(20) NOT NULL UNIQUE)`,
    'CREATE TABLE shop_nu_order_tags (order_id INTEGER NOT NULL, tag_id INTEGER NOT NULL, PRIMARY KEY (order_id, tag_id))',
  ]
}

/** The issues of a ValidationError, as path and rule. */
const issuesOf = (e: unknown): string[] => {
  if (!isDbError(e, 'ValidationError')) throw new Error(`expected a ValidationError, got ${String((e as Error)?.message ?? e)}`)
  return e.issues.map((i) => `${i.path}: ${i.rule}`)
}

/** Request data as an HTTP handler gets it: not typed by the model. */
const body = <A>(o: Record<string, unknown>): A => o as A

const seedCustomer = (db: Backend) => ok(Customer.create(db, { email: 'ada@shop.io', name: 'Ada' }))

for (const engine of ENGINES) {
  describe(`a field the model does not have, on ${engine.name}`, () => {
    const { use } = engineTables(engine, TABLES, ddl)

    it('create refuses it, naming it and the field it resembles; nothing is written', async (ctx) => {
      const db = use(ctx)
      const ada = await seedCustomer(db)
      const e = await fails(Order.create(db, body({ customerId: ada.id, total: '9.50', stauts: 'paid' })))
      expect(issuesOf(e)).toEqual(['stauts: unknownField'])
      expect(e.message).toContain('stauts')
      expect(e.message).toContain('status')
      expect(await ok(pipe(Order.query, Order.count(db)))).toBe(0)
    })

    it('createMany names the row, and writes none of the rows', async (ctx) => {
      const db = use(ctx)
      const ada = await seedCustomer(db)
      const e = await fails(Order.createMany(db, [{ customerId: ada.id, total: '1.00' }, body({ customerId: ada.id, total: '2.00', note: 'gift wrap' })]))
      expect(issuesOf(e)).toEqual(['rows.1.note: unknownField'])
      expect(await ok(pipe(Order.query, Order.count(db)))).toBe(0)
      const bulk = await fails(Order.createMany(db, [body({ customerId: ada.id, total: '2.00', note: 'x' })], { returning: false }))
      expect(issuesOf(bulk)).toEqual(['rows.0.note: unknownField'])
    })

    it('update and updateWhere refuse it instead of sending no statement', async (ctx) => {
      const db = use(ctx)
      const ada = await seedCustomer(db)
      const order = await ok(Order.create(db, { customerId: ada.id, total: '3.00' }))
      expect(issuesOf(await fails(Order.update(db, order, body({ stauts: 'paid' }))))).toEqual(['stauts: unknownField'])
      expect(issuesOf(await fails(Order.updateWhere(db, { id: order.id }, body({ stauts: 'paid' }))))).toEqual(['stauts: unknownField'])
      expect((await ok(Order.findOrFail(db, order.id))).status).toBe('new')
      // The fields it has still work, and undefined stays "not given".
      expect((await ok(Order.update(db, order, body({ status: 'paid', note: undefined })))).status).toBe('paid')
    })

    it('upsert refuses it', async (ctx) => {
      const db = use(ctx)
      const ada = await seedCustomer(db)
      const order = await ok(Order.create(db, { customerId: ada.id, total: '3.00' }))
      expect(issuesOf(await fails(Order.upsert(db, body({ ...order, stauts: 'paid' }))))).toEqual(['stauts: unknownField'])
    })

    it('a relation given as a field says how to write it', async (ctx) => {
      const db = use(ctx)
      const e = await fails(Customer.create(db, body({ email: 'bo@shop.io', name: 'Bo', orders: [{ total: '1.00' }] })))
      expect(issuesOf(e)).toEqual(['orders: unknownField'])
      expect(e.message).toContain('relation')
      expect(await ok(pipe(Customer.query, Customer.count(db)))).toBe(0)
    })

    it('the Promise face rejects with the same error', async (ctx) => {
      const db = use(ctx)
      const ada = await seedCustomer(db)
      await expect(P.Order.create(db, body({ customerId: ada.id, total: '1.00', stauts: 'paid' }))).rejects.toMatchObject({ _tag: 'ValidationError' })
    })
  })
}

/** The command's exit code and what it printed. */
const cli = async (...argv: string[]): Promise<{ code: number; out: string; err: string }> => {
  let out = ''
  let err = ''
  const code = await main(argv, { out: (x) => { out += x }, err: (x) => { err += x }, env: {}, cwd: tmpdir() })
  return { code, out, err }
}

for (const engine of ENGINES) {
  describe(`recordkit introspect picks tables on ${engine.name}`, () => {
    let dir = ''
    const urlOf = (): string => engine.name === 'sqlite' ? `sqlite:${join(dir, 'shop.db')}` : engine.name === 'postgres' ? PG_URL : MYSQL_URL
    const tables = (): ReturnType<typeof engineTables> => engineTables(
      { name: engine.name, connect: async () => { dir = mkdtempSync(join(tmpdir(), 'shop-introspect-')); return engine.name === 'sqlite' ? run(createBackend(urlOf())) : engine.connect() } },
      ['shop_nu_lines', 'shop_nu_heads', 'shop_nu_history'],
      () => [
        'CREATE TABLE shop_nu_heads (id INTEGER PRIMARY KEY, note VARCHAR(20) NOT NULL)',
        'CREATE TABLE shop_nu_lines (id INTEGER PRIMARY KEY, head_id INTEGER NOT NULL REFERENCES shop_nu_heads (id), qty INTEGER NOT NULL)',
        'CREATE TABLE shop_nu_history (name VARCHAR(200) PRIMARY KEY, applied_at VARCHAR(40) NOT NULL)',
      ],
    )
    const { use } = tables()
    afterAll(() => { if (dir !== '') rmSync(dir, { recursive: true, force: true }) })

    it('--table naming a table that is no migration history is a usage error saying what --table is, and --only prints the tables named', async (ctx) => {
      use(ctx)
      const refused = await cli('introspect', '--url', urlOf(), '--table', 'shop_nu_heads')
      expect(refused.code).toBe(2)
      expect(refused.out).toBe('')
      expect(refused.err).toContain('--table names the migration history table to leave out')
      expect(refused.err).toContain('--only shop_nu_heads')
      const only = await cli('introspect', '--url', urlOf(), '--only', 'shop_nu_heads', '--only', 'shop_nu_lines', '--camel-case')
      expect(only.code).toBe(0)
      expect(only.out).toContain("table: 'shop_nu_heads'")
      expect(only.out).toContain("table: 'shop_nu_lines'")
      expect(only.out).toContain("belongsTo('ShopNuHeads', 'headId')")
      expect(only.out).not.toContain('shop_nu_history')
      // One table alone: its relations to tables left out are left out too.
      const one = await cli('introspect', '--url', urlOf(), '--only', 'shop_nu_lines')
      expect(one.code).toBe(0)
      expect(one.out.match(/table: '/g)).toHaveLength(1)
      expect(one.out).not.toContain('ShopNuHeads')
      // Comma-separated names too; a name that is no table fails, listing none of the output.
      expect((await cli('introspect', '--url', urlOf(), '--only', 'shop_nu_heads,shop_nu_lines')).out.match(/table: '/g)).toHaveLength(2)
      const missing = await cli('introspect', '--url', urlOf(), '--only', 'shop_nu_hedas')
      expect(missing.code).toBe(1)
      expect(missing.out).toBe('')
      expect(missing.err).toContain('shop_nu_hedas')
      // A history table (name, applied_at) is still left out with --table.
      const history = await cli('introspect', '--url', urlOf(), '--table', 'shop_nu_history', '--only', 'shop_nu_heads')
      expect(history.code).toBe(0)
      expect(history.out).toContain("table: 'shop_nu_heads'")
      expect(history.out).not.toContain('shop_nu_history')
      const both = await cli('introspect', '--url', urlOf(), '--table', 'shop_nu_history', '--only', 'shop_nu_history')
      expect(both).toMatchObject({ code: 1, out: '' })
      expect(both.err).toContain('--table leaves that one out')

    })
  })
}
