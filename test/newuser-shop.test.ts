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
import * as O from 'fp-ts/lib/Option.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Backend, createBackend, isDbError, promised, run, sql } from 'recordkit'
import { belongsTo, date, decimal, hasMany, manyToMany, model, nullable, onlyDeleted, promisedModels, relate, rule, snakeCase, softDelete, timestamps, unique, withDeleted } from 'recordkit/model'
import { apply, column, createTable, dropTable, index, introspect, migrateDown, migrateUp, migrationStatus, now, primaryKey, printModels, type Migration } from 'recordkit/schema'
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

    it('an upsert without its conflict key (the generated primary key, by default) says to give it or name a unique key', async (ctx) => {
      const db = use(ctx)
      const ada = await seedCustomer(db)
      const e = await fails(Order.upsert(db, { customerId: ada.id, total: '3.00' }))
      expect(issuesOf(e)).toEqual(['id: conflictKey'])
      expect(e.message).toContain('{ conflict: [...] }')
      expect(await ok(pipe(Order.query, Order.count(db)))).toBe(0)
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

/** The shop's tables, as a migration written with the schema builders. */
const createShop: Migration = {
  name: '20261205000000_create_shop',
  up: (db) => apply(db,
    pipe(
      createTable('shop_e2e_customers'),
      column('id', 'integer', { primaryKey: true, autoIncrement: true }),
      column('email', 'varchar(120)', { notNull: true, unique: true }),
      column('name', 'varchar(120)', { notNull: true }),
      column('created_at', 'timestamptz', { notNull: true, default: now }),
      column('updated_at', 'timestamptz', { notNull: true, default: now }),
      column('deleted_at', 'timestamptz'),
    ),
    pipe(
      createTable('shop_e2e_products'),
      column('id', 'integer', { primaryKey: true, autoIncrement: true }),
      column('sku', 'varchar(40)', { notNull: true, unique: true }),
      column('price', 'decimal(10,2)', { notNull: true, check: 'price >= 0' }),
    ),
    pipe(
      createTable('shop_e2e_orders'),
      column('id', 'integer', { primaryKey: true, autoIncrement: true }),
      column('customer_id', 'integer', { notNull: true, references: 'shop_e2e_customers.id' }),
      column('placed_at', 'timestamp', { notNull: true }),
      column('deleted_at', 'timestamptz'),
      index(['customer_id']),
    ),
    pipe(
      createTable('shop_e2e_lines'),
      column('id', 'integer', { primaryKey: true, autoIncrement: true }),
      column('order_id', 'integer', { notNull: true, references: { table: 'shop_e2e_orders', column: 'id', onDelete: 'cascade' } }),
      column('product_id', 'integer', { notNull: true, references: 'shop_e2e_products.id' }),
      column('quantity', 'integer', { notNull: true, check: 'quantity > 0' }),
    ),
    pipe(createTable('shop_e2e_tags'), column('id', 'integer', { primaryKey: true, autoIncrement: true }), column('name', 'varchar(40)', { notNull: true, unique: true })),
    pipe(
      createTable('shop_e2e_order_tags'),
      column('order_id', 'integer', { notNull: true, references: { table: 'shop_e2e_orders', column: 'id', onDelete: 'cascade' } }),
      column('tag_id', 'integer', { notNull: true, references: 'shop_e2e_tags.id' }),
      primaryKey(['order_id', 'tag_id']),
    ),
  ),
  down: (db) => apply(db, ...['shop_e2e_order_tags', 'shop_e2e_tags', 'shop_e2e_lines', 'shop_e2e_orders', 'shop_e2e_products', 'shop_e2e_customers'].map((name) => dropTable(name))),
}

const Store = relate({
  Customer: model({
    table: 'shop_e2e_customers',
    primaryKey: 'id',
    naming: snakeCase,
    codec: t.type({ id: t.number, email: t.string, name: t.string, createdAt: date, updatedAt: date, deletedAt: nullable(date) }),
    behaviours: [timestamps(), softDelete(), unique('email', { message: 'this email is taken' })],
    validators: [rule('name', 'notBlank', (c) => (c.name ?? '').trim() !== '')],
    relations: { orders: hasMany('Order', 'customerId') },
  }),
  Product: model({ table: 'shop_e2e_products', primaryKey: 'id', codec: t.type({ id: t.number, sku: t.string, price: decimal }) }),
  Order: model({
    table: 'shop_e2e_orders',
    primaryKey: 'id',
    naming: snakeCase,
    codec: t.type({ id: t.number, customerId: t.number, placedAt: date, deletedAt: nullable(date) }),
    behaviours: [softDelete()],
    relations: {
      customer: belongsTo('Customer', 'customerId'),
      lines: hasMany('Line', 'orderId'),
      tags: manyToMany('Tag', { through: 'shop_e2e_order_tags', from: 'order_id', to: 'tag_id' }),
    },
  }),
  Line: model({
    table: 'shop_e2e_lines',
    primaryKey: 'id',
    naming: snakeCase,
    codec: t.type({ id: t.number, orderId: t.number, productId: t.number, quantity: t.number }),
    validators: [rule('quantity', 'positive', (l) => (l.quantity ?? 0) > 0)],
    relations: { product: belongsTo('Product', 'productId') },
  }),
  Tag: model({ table: 'shop_e2e_tags', primaryKey: 'id', codec: t.type({ id: t.number, name: t.string }) }),
})
const PS = promisedModels(Store)

for (const engine of ENGINES) {
  describe(`the shop from the guides on ${engine.name}`, () => {
    // The migration makes the tables: dropped before (a run that stopped half way) and after.
    let current: Backend | undefined
    const dropAll = async (d: Backend) => {
      for (const name of ['shop_e2e_order_tags', 'shop_e2e_tags', 'shop_e2e_lines', 'shop_e2e_orders', 'shop_e2e_products', 'shop_e2e_customers', 'shop_e2e_migrations']) {
        await run(d.execute(sql`DROP TABLE IF EXISTS ${sql.id(name)}`))
      }
    }
    beforeAll(async () => {
      current = await engine.connect()
      if (current !== undefined) await dropAll(current)
    })
    afterAll(async () => {
      if (current === undefined) return
      await dropAll(current)
      await run(current.close())
    })
    const use = (ctx: { skip: () => void }): Backend => {
      if (current === undefined) ctx.skip()
      return current!
    }

    it('migrates, writes, loads, reports, soft-deletes and reverts', async (ctx) => {
      const db = use(ctx)
      const p = promised(db)
      const { Customer, Product, Order, Line, Tag } = Store
      const history = { table: 'shop_e2e_migrations' }
      expect((await ok(migrateUp(db, [createShop], history))).migrations).toHaveLength(1)
      expect((await ok(migrationStatus(db, [createShop], history)))[0].state).toBe('applied')

      const ada = await ok(Customer.create(db, { email: 'ada@shop.io', name: 'Ada' }))
      const bob = await PS.Customer.create(p, { email: 'bob@shop.io', name: 'Bob' })
      expect(issuesOf(await fails(Customer.create(db, { email: 'ada@shop.io', name: ' ' })))).toEqual(['name: notBlank'])
      expect(issuesOf(await fails(Customer.create(db, { email: 'ada@shop.io', name: 'Ada 2' })))).toEqual(['email: unique'])
      const [anvil, bucket] = await ok(Product.createMany(db, [{ sku: 'A-1', price: '19.99' }, { sku: 'B-2', price: '4.50' }]))

      // One order, its lines each under a savepoint: the invalid line is rolled back, the order kept.
      const place = (customerId: number, lines: readonly { productId: number; quantity: number }[]) => db.transaction((tx) => pipe(
        Order.create(tx, { customerId, placedAt: new Date('2026-01-02T03:04:05Z') }),
        TE.chainW((order) => pipe(
          lines,
          TE.traverseSeqArray((l) => pipe(
            tx.savepoint(`line_${l.productId}`, (sp) => Line.create(sp, { orderId: order.id, ...l })),
            TE.map(O.some),
            TE.orElseW(() => TE.right(O.none)),
          )),
          TE.map((made) => ({ order, lines: made.filter(O.isSome).map((m) => m.value) })),
        )),
      ))
      const first = await ok(place(ada.id, [{ productId: anvil.id, quantity: 2 }, { productId: bucket.id, quantity: 0 }, { productId: bucket.id, quantity: 3 }]))
      expect(first.lines.map((l) => l.quantity)).toEqual([2, 3])
      const second = await ok(place(bob.id, [{ productId: bucket.id, quantity: 5 }]))
      const [gift, rush] = await ok(Tag.createMany(db, [{ name: 'gift' }, { name: 'rush' }]))
      await ok(Order.attach(db, first.order, 'tags', [gift, rush]))
      expect(await PS.Order.sync(p, first.order, 'tags', [gift])).toEqual({ attached: 0, detached: 1 })

      // Eager loading, one query per level; lazy loading on the Promise face.
      const customers = await ok(pipe(Customer.query, Customer.include('orders.lines.product'), Customer.include('orders.tags'), Customer.orderBy('id'), Customer.all(db)))
      expect(customers.map((c) => c.orders.flatMap((o) => o.lines.map((l) => `${l.product.sku}x${l.quantity}`)))).toEqual([['A-1x2', 'B-2x3'], ['B-2x5']])
      expect(customers[0].orders[0].tags.map((x) => x.name)).toEqual(['gift'])
      expect((await PS.Order.load(p, second.order, 'customer')).customer.name).toBe('Bob')

      // Pages and a grouped report.
      const page = await ok(pipe(Line.query, Line.orderBy('id'), Line.paginate(db, { page: 2, perPage: 2 })))
      expect([page.total, page.pages, page.rows.length]).toEqual([3, 2, 1])
      const report = await ok(pipe(Line.query, Line.groupBy('productId'), Line.orderBy('productId'), Line.aggregate(db, (a) => ({ n: a.count(), qty: a.sum('quantity'), mean: a.avg('quantity') }))))
      expect(report).toEqual([{ productId: anvil.id, n: 1, qty: 2, mean: 2 }, { productId: bucket.id, n: 2, qty: 8, mean: 4 }])

      // Soft delete hides, restore brings back; the uniqueness rule counts the hidden row.
      const gone = await PS.Customer.delete(p, bob)
      expect(gone.deletedAt).toBeInstanceOf(Date)
      expect(await ok(pipe(Customer.query, Customer.count(db)))).toBe(1)
      expect(await ok(pipe(Customer.query, withDeleted, Customer.count(db)))).toBe(2)
      expect(issuesOf(await fails(Customer.create(db, { email: 'bob@shop.io', name: 'Bob again' })))).toEqual(['email: unique'])
      const [hidden] = await ok(pipe(Customer.query, onlyDeleted, Customer.all(db)))
      expect((await ok(Customer.restore(db, hidden))).deletedAt).toBeNull()

      // A Promise transaction that rejects keeps nothing.
      await expect(p.transaction(async (tx) => {
        await PS.Customer.create(tx, { email: 'cy@shop.io', name: 'Cy' })
        await PS.Customer.create(tx, { email: 'ada@shop.io', name: 'Ada again' })
      })).rejects.toMatchObject({ _tag: 'ValidationError' })
      expect(await PS.Customer.findBy(p, { email: 'cy@shop.io' })).toBeUndefined()

      expect((await ok(migrateDown(db, [createShop], history))).migrations).toHaveLength(1)
      expect(await fails(pipe(Customer.query, Customer.count(db)))).toMatchObject({ _tag: 'QueryError' })
    })
  })
}

for (const engine of ENGINES) {
  describe(`a reference that names a table alone, on ${engine.name}`, () => {
    let current: Backend | undefined
    const drop = async (d: Backend) => {
      for (const name of ['shop_ref_child', 'shop_ref_parent']) await run(d.execute(sql`DROP TABLE IF EXISTS ${sql.id(name)}`))
    }
    beforeAll(async () => {
      current = await engine.connect()
      if (current !== undefined) await drop(current)
    })
    afterAll(async () => {
      if (current === undefined) return
      await drop(current)
      await run(current.close())
    })

    it('refers to the column of the same name there; naming the key column works', async (ctx) => {
      if (current === undefined) ctx.skip()
      const db = current!
      await ok(apply(db, pipe(createTable('shop_ref_parent'), column('id', 'integer', { primaryKey: true }))))
      const child = (references: string) => pipe(createTable('shop_ref_child'), column('id', 'integer', { primaryKey: true }), column('parent_id', 'integer', { references }))
      const statements = db.dialect.ddlStatements(child('shop_ref_parent')).map((f) => db.compile(f))
      const text = statements.map((c) => (c._tag === 'Right' ? c.right.sql : c.left.message)).join('\n')
      const q = (name: string) => (engine.name === 'mariadb' ? `\`${name}\`` : `"${name}"`)
      expect(text).toContain(`REFERENCES ${q('shop_ref_parent')} (${q('parent_id')})`)
      if (engine.name !== 'sqlite') {
        // SQLite checks a reference when a row is written; the servers refuse the table.
        expect((await fails(apply(db, child('shop_ref_parent'))))._tag).toBe('QueryError')
      }
      await ok(apply(db, child('shop_ref_parent.id')))
    })
  })
}

for (const engine of ENGINES) {
  describe(`found in the shop, fixed outside the model write path, on ${engine.name}`, () => {
    const { use } = engineTables(engine, TABLES, ddl)

    it('a page given as text is refused with the value shown as text', async (ctx) => {
      const db = use(ctx)
      await seedCustomer(db)
      const e = await fails(pipe(Customer.query, Customer.orderBy('id'), Customer.paginate(db, { page: '2' as unknown as number, perPage: 1 })))
      expect(e._tag).toBe('ValidationError')
      expect(e.message).toContain('got "2"')
    })

    it('a withCount field orders and plucks', async (ctx) => {
      const db = use(ctx)
      const ada = await seedCustomer(db)
      const bob = await ok(Customer.create(db, { email: 'bob@shop.io', name: 'Bob' }))
      await ok(Order.createMany(db, [{ customerId: bob.id, total: '1.00' }, { customerId: bob.id, total: '2.00' }, { customerId: ada.id, total: '3.00' }]))
      const busiest = await ok(pipe(Customer.query, Customer.withCount('orders'), Customer.orderBy('ordersCount' as 'id', 'desc'), Customer.pluck(db, 'name')))
      expect(busiest).toEqual(['Bob', 'Ada'])
    })
  })
}

const Member = model({
  table: 'shop_nu_members',
  primaryKey: 'id',
  codec: t.type({ id: t.number, email: t.string, site: t.number }),
  behaviours: [unique('email', { scope: ['site'], caseSensitive: false })],
})

for (const engine of ENGINES) {
  describe(`a uniqueness rule that ignores case, on ${engine.name}`, () => {
    const { use } = engineTables(engine, ['shop_nu_members'], (name) => [
      `CREATE TABLE shop_nu_members (id ${name === 'postgres' ? 'SERIAL PRIMARY KEY' : name === 'mariadb' ? 'INTEGER AUTO_INCREMENT PRIMARY KEY' : 'INTEGER PRIMARY KEY AUTOINCREMENT'}, email VARCHAR(80) NOT NULL, site INTEGER NOT NULL)`,
    ])

    it('refuses a value that differs in case alone, in create, createMany and update, within the scope; nothing is written', async (ctx) => {
      const db = use(ctx)
      const ada = await ok(Member.create(db, { email: 'ada@shop.io', site: 1 }))
      expect(issuesOf(await fails(Member.create(db, { email: 'ADA@Shop.io', site: 1 })))).toEqual(['email: unique'])
      expect((await ok(Member.create(db, { email: 'ADA@shop.io', site: 2 }))).site).toBe(2)
      expect(issuesOf(await fails(Member.createMany(db, [{ email: 'bo@shop.io', site: 1 }, { email: 'BO@shop.io', site: 1 }])))).toEqual(['rows.1.email: unique'])
      expect(issuesOf(await fails(Member.createMany(db, [{ email: 'cy@shop.io', site: 1 }, { email: 'Ada@shop.io', site: 1 }])))).toEqual(['rows.1.email: unique'])
      const bo = await ok(Member.create(db, { email: 'bo@shop.io', site: 1 }))
      expect(issuesOf(await fails(Member.update(db, bo, { email: 'AdA@shop.io' })))).toEqual(['email: unique'])
      // A row's own value in another case is no duplicate.
      expect((await ok(Member.update(db, ada, { email: 'Ada@Shop.io' }))).email).toBe('Ada@Shop.io')
      expect(await ok(pipe(Member.query, Member.count(db)))).toBe(3)
    })
  })
}

for (const engine of ENGINES) {
  describe(`models printed from a join table, on ${engine.name}`, () => {
    const serial = (name: string) => (name === 'postgres' ? 'SERIAL PRIMARY KEY' : name === 'mariadb' ? 'INTEGER AUTO_INCREMENT PRIMARY KEY' : 'INTEGER PRIMARY KEY AUTOINCREMENT')
    const { use } = engineTables(engine, ['shop_pm_follows', 'shop_pm_order_tags', 'shop_pm_tags', 'shop_pm_orders', 'shop_pm_users'], (name) => [
      `CREATE TABLE shop_pm_orders (id ${serial(name)}, note VARCHAR(20) NOT NULL)`,
      `CREATE TABLE shop_pm_tags (id ${serial(name)}, name VARCHAR(20) NOT NULL)`,
      'CREATE TABLE shop_pm_order_tags (order_id INTEGER NOT NULL REFERENCES shop_pm_orders (id), tag_id INTEGER NOT NULL REFERENCES shop_pm_tags (id), PRIMARY KEY (order_id, tag_id))',
      `CREATE TABLE shop_pm_users (id ${serial(name)}, name VARCHAR(20) NOT NULL)`,
      'CREATE TABLE shop_pm_follows (follower_id INTEGER NOT NULL REFERENCES shop_pm_users (id), followee_id INTEGER NOT NULL REFERENCES shop_pm_users (id), PRIMARY KEY (follower_id, followee_id))',
    ])

    it('gives both tables a manyToMany through it, named after the other table (or the key, when a table joins itself)', async (ctx) => {
      const db = use(ctx)
      const schema = await ok(introspect(db, { include: (name) => name.startsWith('shop_pm_') }))
      const text = printModels(schema, { fields: 'camelCase' })
      expect(text).toContain("shopPmTags: manyToMany('ShopPmTags', { through: 'shop_pm_order_tags', from: 'order_id', to: 'tag_id' })")
      expect(text).toContain("shopPmOrders: manyToMany('ShopPmOrders', { through: 'shop_pm_order_tags', from: 'tag_id', to: 'order_id' })")
      expect(text).toContain("followees: manyToMany('ShopPmUsers', { through: 'shop_pm_follows', from: 'follower_id', to: 'followee_id' })")
      expect(text).toContain("followers: manyToMany('ShopPmUsers', { through: 'shop_pm_follows', from: 'followee_id', to: 'follower_id' })")
      // What was printed before stays: the join table's model and its belongsTo and hasMany.
      expect(text).toContain("order: belongsTo('ShopPmOrders', 'orderId')")
      expect(text).toContain("shopPmOrderTags: hasMany('ShopPmOrderTags', 'orderId')")
      expect(text).toMatch(/import \{[^}]*manyToMany[^}]*\} from 'recordkit\/model'/)
    })
  })
}
