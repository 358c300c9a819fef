/**
 * Introspection returns the same data the DDL builders take: a schema created from data and
 * read back is equal to it, on SQLite, MariaDB and PostgreSQL, for every portable type, defaults, keys,
 * foreign keys, checks and indexes. Views come back with their names and engine SQL.
 */
import { pipe } from 'fp-ts/lib/function.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Backend, compose, connect, sql } from 'recordkit'
import { mysql } from 'recordkit/dialects/mysql'
import { postgres } from 'recordkit/dialects/postgres'
import { sqlite } from 'recordkit/dialects/sqlite'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'
import { mysql2 } from 'recordkit/drivers/mysql2'
import { postgresJs } from 'recordkit/drivers/postgres'
import { run } from 'recordkit/promise'
import { apply, copyRows, createSchema, dropSchema, introspect, introspectTable } from 'recordkit/schema'
import * as d from 'recordkit/schema'
import { MYSQL_URL, PG_URL, serverAvailable } from './support/servers.js'

const available = await serverAvailable('mariadb')
const pgAvailable = await serverAvailable('postgres')

const prefix = 'sch_rt_'
const mine = (name: string) => name.startsWith(prefix)

/** A schema that uses every portable type and every kind of constraint (partial indexes where the engine has them). */
const schemaFor = (partialIndexes: boolean): d.SchemaDef => {
  const owners = pipe(
    pipe(
      d.createTable(`${prefix}owners`),
      d.column('id', 'integer', { primaryKey: true, autoIncrement: true }),
      d.column('email', 'varchar(120)', { notNull: true, unique: true }),
      d.column('code', 'char(2)', { notNull: true, default: 'xx' }),
      d.column('nick', 'text', { default: "it's" }),
      d.column('active', 'boolean', { notNull: true, default: false }),
      d.column('score', 'real', { default: 1.5 }),
      d.column('ratio', 'double'),
      d.column('small', 'smallint', { default: -1 }),
      d.column('big', 'bigint', { notNull: true, default: 7 }),
      d.column('balance', 'decimal(12,2)', { notNull: true, default: 0, check: 'balance >= 0' }),
    ),
    d.column('born', 'date'),
    d.column('wakes', 'time'),
    d.column('created_at', 'timestamp', { notNull: true, default: d.now }),
    d.column('seen_at', 'timestamp(3)'),
    d.column('paid_at', 'timestamptz'),
    d.column('settings', 'json'),
    d.column('token', 'uuid'),
    d.column('avatar', 'binary'),
    d.check('small < 100', { name: `${prefix}small_max` }),
    d.index(['born', 'active'], { name: `${prefix}owners_born` }),
    d.index(['code', 'big'], { unique: true, name: `${prefix}owners_code_big` }),
  ).table
  const pets = pipe(
    d.createTable(`${prefix}pets`),
    d.column('owner_id', 'integer', { notNull: true, references: { table: `${prefix}owners`, column: 'id', onDelete: 'cascade' } }),
    d.column('name', 'varchar(40)', { notNull: true }),
    d.column('parent_owner', 'integer'),
    d.column('parent_name', 'varchar(40)'),
    d.primaryKey(['owner_id', 'name']),
    d.unique(['name', 'parent_name']),
    d.foreignKey(['parent_owner', 'parent_name'], `${prefix}pets`, ['owner_id', 'name'], { name: `${prefix}pets_parent`, onDelete: 'set null', onUpdate: 'cascade' }),
    (n) => (partialIndexes ? d.index(['parent_name'], { name: `${prefix}pets_orphans`, where: 'parent_owner IS NULL' })(n) : n),
  ).table
  return { tables: [owners, pets], views: [] }
}

const roundTrip = (connectTo: () => Promise<Backend>, partialIndexes: boolean) => () => {
  let db: Backend
  const schema = schemaFor(partialIndexes)
  beforeAll(async () => {
    db = await connectTo()
    await run(db.execute(d.dropView(`${prefix}names`, { ifExists: true })))
    await run(dropSchema(db, schema))
  })
  afterAll(async () => {
    if (db === undefined) return
    await run(db.execute(d.dropView(`${prefix}names`, { ifExists: true })))
    await run(dropSchema(db, schema))
    await run(db.close())
  })

  it('creates a schema from data, reads it back, and gets the same data', async () => {
    await run(createSchema(db, schema))
    const read = await run(introspect(db, { include: mine }))
    expect(read.tables).toEqual(schema.tables)
    expect(read.views).toEqual([])
  })

  it('reads one table', async () => {
    expect(await run(introspectTable(db, `${prefix}pets`))).toEqual(schema.tables[1])
    const missing = await introspectTable(db, `${prefix}nothing`)()
    expect(missing._tag === 'Left' && missing.left._tag).toBe('NotFound')
  })

  it('reads views with their engine SQL, which runs again', async () => {
    await run(apply(db, d.createView(`${prefix}names`, `SELECT name FROM ${prefix}pets WHERE parent_owner IS NULL`)))
    const read = await run(introspect(db, { include: mine }))
    expect(read.views.map((v) => v.name)).toEqual([`${prefix}names`])
    await run(apply(db, d.createView(`${prefix}names`, read.views[0].sql, { orReplace: true })))
    await run(db.execute(sql`INSERT INTO ${sql.id(`${prefix}owners`)} (email, code, big, balance) VALUES ('a@x', 'ab', 1, 2)`))
    await run(db.execute(sql`INSERT INTO ${sql.id(`${prefix}pets`)} (owner_id, name) VALUES (1, 'Rex')`))
    expect(await run(db.all(sql`SELECT name FROM ${sql.id(`${prefix}names`)}`))).toEqual([{ name: 'Rex' }])
    await run(db.execute(d.dropView(`${prefix}names`)))
  })

  it('copies rows with their generated keys in, and new rows get the next key', async () => {
    const source = compose(betterSqlite3({ filename: ':memory:' }), sqlite)
    await run(createSchema(source, schemaFor(true)))
    await run(source.execute(sql`INSERT INTO ${sql.id(`${prefix}owners`)} (id, email, code, active, balance, settings, paid_at) VALUES (5, 'e5@x', 'e5', ${true}, '12.50', '{"a":[1]}', '2024-02-29T12:00:00.000Z'), (9, 'e9@x', 'e9', ${false}, 0, NULL, NULL)`))
    expect(await run(copyRows(source, db, schema.tables[0]))).toBe(2)
    await run(db.execute(sql`INSERT INTO ${sql.id(`${prefix}owners`)} (email, code, big, balance) VALUES ('new@x', 'cd', 1, 2)`))
    const rows = await run(db.all(sql`SELECT id, email, active, balance, settings, paid_at FROM ${sql.id(`${prefix}owners`)} WHERE id > 1 ORDER BY id`))
    expect(rows.map((r) => r.id)).toEqual([5, 9, 10])
    expect(Number(rows[0].balance)).toBe(12.5)
    expect(Boolean(rows[0].active) && !rows[1].active).toBe(true)
    const settings = typeof rows[0].settings === 'string' ? JSON.parse(rows[0].settings) : rows[0].settings
    expect(settings).toEqual({ a: [1] })
    const paid = rows[0].paid_at instanceof Date ? rows[0].paid_at.toISOString() : new Date(String(rows[0].paid_at)).toISOString()
    expect(paid).toBe('2024-02-29T12:00:00.000Z')
    await run(source.close())
  })
}

describe('round trip on SQLite', roundTrip(async () => compose(betterSqlite3({ filename: ':memory:' }), sqlite), true))
describe.skipIf(!available)('round trip on MariaDB', roundTrip(() => run(connect(mysql2({ url: MYSQL_URL, max: 4 }), mysql)), false))
describe.skipIf(!pgAvailable)('round trip on PostgreSQL', roundTrip(() => run(connect(postgresJs({ url: PG_URL, max: 4 }), postgres)), true))

describe('SQLite introspection reads what the pragmas do not tell from the CREATE statements', () => {
  it('names, CHECKs, AUTOINCREMENT, REFERENCES without columns, quoted names, view bodies', async () => {
    const db = compose(betterSqlite3({ filename: ':memory:' }), sqlite)
    await run(db.execute(sql.raw(`CREATE TABLE "a b" (id INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT CONSTRAINT v_len CHECK (length(v) < 10) DEFAULT ('x' || 'y'), [w] int NOT NULL CHECK (w > 0), CONSTRAINT uq UNIQUE (v, w))`)))
    await run(db.execute(sql.raw('CREATE TABLE c (id INTEGER PRIMARY KEY, ab INTEGER CONSTRAINT c_ab REFERENCES "a b" ON DELETE SET NULL)')))
    await run(db.execute(sql.raw('CREATE VIEW cv AS SELECT id FROM c -- the ids')))
    const schema = await run(introspect(db))
    expect(schema.tables).toEqual([
      {
        name: 'a b',
        columns: [
          { name: 'id', type: 'integer', notNull: true, autoIncrement: true },
          { name: 'v', type: 'text', notNull: false, default: { kind: 'sql', sql: "'x' || 'y'" } },
          { name: 'w', type: 'integer', notNull: true },
        ],
        primaryKey: { columns: ['id'] },
        uniques: [{ name: 'uq', columns: ['v', 'w'] }],
        foreignKeys: [],
        checks: [{ name: 'v_len', expression: 'length(v) < 10' }, { expression: 'w > 0' }],
        indexes: [],
      },
      {
        name: 'c',
        columns: [{ name: 'id', type: 'integer', notNull: true }, { name: 'ab', type: 'integer', notNull: false }],
        primaryKey: { columns: ['id'] },
        uniques: [],
        foreignKeys: [{ name: 'c_ab', columns: ['ab'], references: { table: 'a b', columns: ['id'] }, onDelete: 'set null' }],
        checks: [],
        indexes: [],
      },
    ])
    expect(schema.views).toEqual([{ name: 'cv', sql: 'SELECT id FROM c -- the ids' }])
    await run(db.close())
  })

  it('leaves recordkit migration history tables out unless asked', async () => {
    const db = compose(betterSqlite3({ filename: ':memory:' }), sqlite)
    await run(db.execute(sql.raw('CREATE TABLE recordkit_migrations (name TEXT PRIMARY KEY)')))
    expect((await run(introspect(db))).tables).toEqual([])
    expect((await run(introspect(db, { include: () => true }))).tables.map((t) => t.name)).toEqual(['recordkit_migrations'])
    await run(db.close())
  })
})
