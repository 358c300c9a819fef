/**
 * More of what Knex's and Kysely's schema tests ask of a schema builder: composite primary and
 * foreign keys, columns added with a constraint of their own (unique, references, check) to a
 * table that holds rows, type changes that convert the values or are refused whole, named checks
 * dropped, generated keys that go on counting through a renamed table and a renamed key column,
 * partial indexes, views created, replaced and dropped, and DROP TABLE ... CASCADE. Each case runs
 * on SQLite, PostgreSQL and MariaDB.
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type Backend, compose, connect, sql } from 'recordkit'
import { fails } from 'recordkit/testing'
import { mysql } from 'recordkit/dialects/mysql'
import { postgres } from 'recordkit/dialects/postgres'
import { sqlite } from 'recordkit/dialects/sqlite'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'
import { mysql2 } from 'recordkit/drivers/mysql2'
import { postgresJs } from 'recordkit/drivers/postgres'
import { run } from 'recordkit/promise'
import * as d from 'recordkit/schema'
import { alter, apply, introspectTable } from 'recordkit/schema'
import { MYSQL_URL, PG_URL, serverAvailable } from './support/servers.js'

const pgUp = await serverAvailable('postgres')
const mariaUp = await serverAvailable('mariadb')

const p = 'ps2c_'
const tn = (t: string) => `${p}${t}`

const engines: readonly (readonly [string, boolean, () => Promise<Backend>])[] = [
  ['SQLite', true, async () => compose(betterSqlite3({ filename: ':memory:' }), sqlite)],
  ['PostgreSQL', pgUp, () => run(connect(postgresJs({ url: PG_URL, max: 2 }), postgres))],
  ['MariaDB', mariaUp, () => run(connect(mysql2({ url: MYSQL_URL, max: 2 }), mysql))],
]

/** `fails` of the testing kit: the DbError of a task that must fail. */
const left = fails

for (const [engine, available, open] of engines) {
  describe.skipIf(!available)(`schema changes on ${engine}`, () => {
    let db: Backend
    const rows = async (q: string) => run(db.all(sql.raw(q)))
    const exec = (q: string) => run(db.execute(sql.raw(q)))
    const drop = async () => {
      await run(apply(db, d.dropView(tn('v'), { ifExists: true })))
      for (const t of ['lines', 'items', 'orders', 'renamed', 'counters']) await run(apply(db, d.dropTable(tn(t), { ifExists: true })))
    }

    beforeAll(async () => { db = await open() })
    beforeEach(drop)
    afterAll(async () => {
      if (db === undefined) return
      await drop()
      await run(db.close())
    })

    it('a composite primary key and a composite foreign key with actions: read back, enforced, cascading', async () => {
      await run(apply(db,
        pipe(d.createTable(tn('orders')), d.column('shop', 'integer'), d.column('no', 'integer'), d.primaryKey(['shop', 'no'])),
        pipe(
          d.createTable(tn('lines')),
          d.column('shop', 'integer', { notNull: true }), d.column('no', 'integer', { notNull: true }), d.column('line', 'integer', { notNull: true }),
          d.primaryKey(['shop', 'no', 'line']),
          d.foreignKey(['shop', 'no'], tn('orders'), ['shop', 'no'], { onDelete: 'cascade', onUpdate: 'cascade', name: `${p}lines_order_fk` }),
        ),
      ))
      const back = await run(introspectTable(db, tn('lines')))
      expect(back.primaryKey?.columns).toEqual(['shop', 'no', 'line'])
      expect(back.foreignKeys).toEqual([{ name: `${p}lines_order_fk`, columns: ['shop', 'no'], references: { table: tn('orders'), columns: ['shop', 'no'] }, onDelete: 'cascade', onUpdate: 'cascade' }])
      await exec(`INSERT INTO ${tn('orders')} (shop, no) VALUES (1, 1), (1, 2)`)
      await exec(`INSERT INTO ${tn('lines')} (shop, no, line) VALUES (1, 1, 1), (1, 1, 2), (1, 2, 1)`)
      expect((await left(db.execute(sql.raw(`INSERT INTO ${tn('lines')} (shop, no, line) VALUES (2, 1, 1)`))))._tag).toBe('ForeignKeyViolation')
      expect((await left(db.execute(sql.raw(`INSERT INTO ${tn('orders')} (shop, no) VALUES (1, 1)`))))._tag).toBe('UniqueViolation')
      await exec(`UPDATE ${tn('orders')} SET no = 3 WHERE no = 2`)
      await exec(`DELETE FROM ${tn('orders')} WHERE no = 1`)
      expect(await rows(`SELECT shop, no, line FROM ${tn('lines')}`)).toEqual([{ shop: 1, no: 3, line: 1 }])
    })

    it('a unique column added to a table that holds rows: added, and then enforced', async () => {
      await run(apply(db, pipe(d.createTable(tn('items')), d.column('id', 'integer', { primaryKey: true }))))
      await exec(`INSERT INTO ${tn('items')} (id) VALUES (1), (2)`)
      await run(alter(db, pipe(d.alterTable(tn('items')), d.addColumn('code', 'varchar(10)', { unique: true }))))
      await exec(`UPDATE ${tn('items')} SET code = 'a' WHERE id = 1`)
      expect((await left(db.execute(sql.raw(`UPDATE ${tn('items')} SET code = 'a' WHERE id = 2`))))._tag).toBe('UniqueViolation')
      expect((await run(introspectTable(db, tn('items')))).uniques.map((u) => u.columns)).toEqual([['code']])
    })

    it('a column with a foreign key and one with a check added to a table that holds rows: both enforced, rows kept', async () => {
      await run(apply(db,
        pipe(d.createTable(tn('orders')), d.column('id', 'integer', { primaryKey: true })),
        pipe(d.createTable(tn('items')), d.column('id', 'integer', { primaryKey: true })),
      ))
      await exec(`INSERT INTO ${tn('orders')} (id) VALUES (1)`)
      await exec(`INSERT INTO ${tn('items')} (id) VALUES (1), (2)`)
      await run(alter(db, pipe(
        d.alterTable(tn('items')),
        d.addColumn('order_id', 'integer', { references: { table: tn('orders'), column: 'id', onDelete: 'set null' } }),
        d.addColumn('qty', 'integer', { notNull: true, default: 1, check: 'qty > 0' }),
      )))
      expect(await rows(`SELECT id, order_id, qty FROM ${tn('items')} ORDER BY id`)).toEqual([{ id: 1, order_id: null, qty: 1 }, { id: 2, order_id: null, qty: 1 }])
      expect((await left(db.execute(sql.raw(`UPDATE ${tn('items')} SET order_id = 9 WHERE id = 1`))))._tag).toBe('ForeignKeyViolation')
      expect((await left(db.execute(sql.raw(`UPDATE ${tn('items')} SET qty = 0 WHERE id = 1`))))._tag).toBe('CheckViolation')
      await exec(`UPDATE ${tn('items')} SET order_id = 1 WHERE id = 1`)
      await exec(`DELETE FROM ${tn('orders')} WHERE id = 1`)
      expect(await rows(`SELECT order_id FROM ${tn('items')} WHERE id = 1`)).toEqual([{ order_id: null }])
    })

    it('a text column of numbers changed to integer converts its values; one holding a word is refused and left as it was', async () => {
      await run(apply(db, pipe(d.createTable(tn('items')), d.column('id', 'integer', { primaryKey: true }), d.column('qty', 'varchar(10)'))))
      await exec(`INSERT INTO ${tn('items')} (id, qty) VALUES (1, '12'), (2, '-3')`)
      await run(alter(db, pipe(d.alterTable(tn('items')), d.alterColumn('qty', 'integer'))))
      expect((await rows(`SELECT qty + 1 AS q FROM ${tn('items')} ORDER BY id`)).map((r) => Number(r.q))).toEqual([13, -2])
      expect((await run(introspectTable(db, tn('items')))).columns[1].type).toBe('integer')
      await run(alter(db, pipe(d.alterTable(tn('items')), d.alterColumn('qty', 'varchar(10)'))))
      await exec(`INSERT INTO ${tn('items')} (id, qty) VALUES (3, 'many')`)
      const r = await alter(db, pipe(d.alterTable(tn('items')), d.alterColumn('qty', 'integer')))()
      if (engine === 'SQLite') {
        // SQLite keeps a value its column's type cannot hold as it is (type affinity): no refusal, nothing lost.
        expect(E.isRight(r)).toBe(true)
        expect(await rows(`SELECT qty FROM ${tn('items')} ORDER BY id`)).toEqual([{ qty: 12 }, { qty: -3 }, { qty: 'many' }])
        return
      }
      expect(E.isLeft(r) && r.left._tag).toBe('QueryError')
      expect((await run(introspectTable(db, tn('items')))).columns[1].type).toBe('varchar(10)')
      expect(await rows(`SELECT qty FROM ${tn('items')} ORDER BY id`)).toEqual([{ qty: '12' }, { qty: '-3' }, { qty: 'many' }])
    })

    const shorten = async () => {
      await run(apply(db, pipe(d.createTable(tn('items')), d.column('id', 'integer', { primaryKey: true }), d.column('name', 'varchar(20)'))))
      await exec(`INSERT INTO ${tn('items')} (id, name) VALUES (1, 'twelve chars')`)
      return alter(db, pipe(d.alterTable(tn('items')), d.alterColumn('name', 'varchar(5)')))()
    }

    it('a varchar made shorter than a value it holds is refused (SQLite enforces no length), the value kept whole', async () => {
      const r = await shorten()
      expect(E.isLeft(r)).toBe(engine !== 'SQLite')
      expect(await rows(`SELECT name FROM ${tn('items')}`)).toEqual([{ name: 'twelve chars' }])
    })

    // MariaDB refuses the change with errno 1265 (Data truncated for column 'name'), naming the
    // column as an INSERT of the value (1406) does; PostgreSQL's refusal is 22001.
    const onServers = engine === 'SQLite' ? it.skip : it
    onServers('that refusal is a ValueTooLarge, as writing the value would be', async () => {
      const r = await shorten()
      expect(E.isLeft(r) && r.left._tag).toBe('ValueTooLarge')
      if (engine === 'MariaDB') expect(E.isLeft(r) && [r.left.code, (r.left as { column?: string }).column]).toEqual([1265, 'name'])
    })

    it('a named check dropped by its name lets the value in', async () => {
      await run(apply(db, pipe(d.createTable(tn('items')), d.column('id', 'integer', { primaryKey: true }), d.column('qty', 'integer'), d.check('qty >= 0', { name: `${p}qty_positive` }))))
      expect((await left(db.execute(sql.raw(`INSERT INTO ${tn('items')} (id, qty) VALUES (1, -1)`))))._tag).toBe('CheckViolation')
      await run(alter(db, pipe(d.alterTable(tn('items')), d.dropConstraint(`${p}qty_positive`, 'check'))))
      await exec(`INSERT INTO ${tn('items')} (id, qty) VALUES (1, -1)`)
      expect((await run(introspectTable(db, tn('items')))).checks).toEqual([])
    })

    it('a generated key goes on counting through a renamed table and a renamed key column', async () => {
      await run(apply(db, pipe(d.createTable(tn('counters')), d.column('id', 'integer', { primaryKey: true, autoIncrement: true }), d.column('label', 'varchar(10)'))))
      await exec(`INSERT INTO ${tn('counters')} (label) VALUES ('a'), ('b')`)
      await run(alter(db, pipe(d.alterTable(tn('counters')), d.renameColumn('id', 'counter_id'))))
      await run(alter(db, pipe(d.alterTable(tn('counters')), d.renameTable(tn('renamed')))))
      await exec(`INSERT INTO ${tn('renamed')} (label) VALUES ('c')`)
      expect(await rows(`SELECT counter_id, label FROM ${tn('renamed')} ORDER BY counter_id`)).toEqual([{ counter_id: 1, label: 'a' }, { counter_id: 2, label: 'b' }, { counter_id: 3, label: 'c' }])
      const back = await run(introspectTable(db, tn('renamed')))
      expect([back.primaryKey?.columns, back.columns[0].autoIncrement]).toEqual([['counter_id'], true])
    })

    it('a partial unique index where the engine has them (SQLite, PostgreSQL); UnsupportedFeature on MariaDB before anything runs', async () => {
      await run(apply(db, pipe(d.createTable(tn('items')), d.column('id', 'integer', { primaryKey: true }), d.column('sku', 'varchar(10)'), d.column('active', 'boolean', { notNull: true }))))
      const partial = d.createIndex(tn('items'), ['sku'], { unique: true, where: 'active', name: `${p}items_live_sku` })
      if (engine === 'MariaDB') {
        expect((await left(apply(db, partial)))._tag).toBe('UnsupportedFeature')
        expect((await run(introspectTable(db, tn('items')))).indexes).toEqual([])
        return
      }
      await run(apply(db, partial))
      await exec(`INSERT INTO ${tn('items')} (id, sku, active) VALUES (1, 'a', false), (2, 'a', false), (3, 'a', true)`)
      expect((await left(db.execute(sql.raw(`INSERT INTO ${tn('items')} (id, sku, active) VALUES (4, 'a', true)`))))._tag).toBe('UniqueViolation')
      const ix = (await run(introspectTable(db, tn('items')))).indexes[0]
      expect([ix.name, ix.columns, ix.unique, typeof ix.where]).toEqual([`${p}items_live_sku`, ['sku'], true, 'string'])
    })

    it('views: created from a query, replaced, dropped; dropView ifExists on no view does nothing', async () => {
      await run(apply(db, pipe(d.createTable(tn('items')), d.column('id', 'integer', { primaryKey: true }), d.column('qty', 'integer'))))
      await exec(`INSERT INTO ${tn('items')} (id, qty) VALUES (1, 5), (2, 0)`)
      await run(apply(db, d.createView(tn('v'), `SELECT id FROM ${tn('items')} WHERE qty > 0`)))
      expect(await rows(`SELECT id FROM ${tn('v')}`)).toEqual([{ id: 1 }])
      await run(apply(db, d.createView(tn('v'), `SELECT id FROM ${tn('items')} WHERE qty = 0`, { orReplace: true })))
      expect(await rows(`SELECT id FROM ${tn('v')}`)).toEqual([{ id: 2 }])
      await run(apply(db, d.dropView(tn('v'))))
      await run(apply(db, d.dropView(tn('v'), { ifExists: true })))
      expect(E.isLeft(await db.all(sql.raw(`SELECT id FROM ${tn('v')}`))())).toBe(true)
    })

    it('DROP TABLE ... CASCADE drops what depends on it on PostgreSQL; UnsupportedFeature elsewhere, with nothing dropped', async () => {
      await run(apply(db,
        pipe(d.createTable(tn('orders')), d.column('id', 'integer', { primaryKey: true })),
        pipe(d.createTable(tn('lines')), d.column('id', 'integer', { primaryKey: true }), d.column('order_id', 'integer', { references: `${tn('orders')}.id` })),
      ))
      await exec(`INSERT INTO ${tn('orders')} (id) VALUES (1)`)
      await exec(`INSERT INTO ${tn('lines')} (id, order_id) VALUES (1, 1)`)
      const plain = await left(apply(db, d.dropTable(tn('orders'))))
      expect(plain._tag).toBe(engine === 'PostgreSQL' ? 'QueryError' : 'ForeignKeyViolation')
      if (engine === 'PostgreSQL') {
        await run(apply(db, d.dropTable(tn('orders'), { cascade: true })))
        expect((await run(introspectTable(db, tn('lines')))).foreignKeys).toEqual([])
        expect(await rows(`SELECT id, order_id FROM ${tn('lines')}`)).toEqual([{ id: 1, order_id: 1 }])
      } else {
        expect((await left(apply(db, d.dropTable(tn('orders'), { cascade: true }))))._tag).toBe('UnsupportedFeature')
        expect(await rows(`SELECT id FROM ${tn('orders')}`)).toEqual([{ id: 1 }])
      }
    })
  })
}
