/**
 * Schema and migration behaviour a developer coming from Knex or Drizzle would check, on SQLite,
 * PostgreSQL and MariaDB: each case here once gave a wrong result or passed a mistake silently.
 */
import { rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { describe, expect, it } from 'vitest'
import { createBackend, run, sql } from 'recordkit'
import {
  addColumn, alter, alterColumn, alterTable, apply, column, copyRows, createSchema, createTable, dropSchema, index, introspect, type Migration, migrateDown,
  migrateUp, migrationStatus, native,
} from 'recordkit/schema'
import { main } from '../src/cli.js'
import { ENGINES, engineTables } from './support/engine-tables.js'
import { migrationDir } from './support/migration-kit.js'

for (const engine of ENGINES) {
  describe(`schema on ${engine.name}`, () => {
    // The tables the tests create themselves are dropped before and after the file's tests.
    const t = engineTables(engine, ['probe_s_marker', 'probe_s_defaults'], () => ['CREATE TABLE probe_s_marker (id INTEGER PRIMARY KEY)', 'CREATE TABLE probe_s_defaults (id INTEGER PRIMARY KEY)'])

    it('introspected defaults of bigint and decimal columns are the values given, alike on every engine (PostgreSQL gave text for quoted ones)', async (ctx) => {
      const db = t.use(ctx)
      await run(db.execute(sql`DROP TABLE probe_s_defaults`))
      await run(apply(db, pipe(
        createTable('probe_s_defaults'),
        column('id', 'integer', { primaryKey: true }),
        column('small', 'bigint', { default: -5 }),
        column('wide', 'bigint', { default: 3_000_000_000 }),
        column('huge', 'bigint', { default: -9007199254740993n }),
        column('price', 'decimal(10,2)', { default: -1.5 }),
        column('n', 'integer', { default: -1 }),
      )))
      const schema = await run(introspect(db))
      const table = schema.tables.find((x) => x.name === 'probe_s_defaults')
      expect(Object.fromEntries((table?.columns ?? []).map((c) => [c.name, c.default]))).toEqual({
        id: undefined,
        small: { kind: 'value', value: -5 },
        wide: { kind: 'value', value: 3_000_000_000 },
        huge: { kind: 'value', value: -9007199254740993n },
        price: { kind: 'value', value: -1.5 },
        n: { kind: 'value', value: -1 },
      })
    })
  })
}

/** Run the command in this process, capturing its output. */
const call = async (...argv: string[]): Promise<{ code: number; out: string; err: string }> => {
  let out = ''
  let err = ''
  const code = await main(argv, { out: (s) => { out += s }, err: (s) => { err += s }, env: {}, cwd: tmpdir() })
  return { code, out, err }
}

const twoMigrations = (): string => migrationDir({
  '001_a': "export const up = (db: never) => steps(db, [sql`CREATE TABLE probe_s_cli_a (id INTEGER)`])\nexport const down = (db: never) => steps(db, [sql`DROP TABLE probe_s_cli_a`])",
  '002_b': "export const up = (db: never) => steps(db, [sql`CREATE TABLE probe_s_cli_b (id INTEGER)`])\nexport const down = (db: never) => steps(db, [sql`DROP TABLE probe_s_cli_b`])",
})

describe('migrate down: a mistake in which migrations to revert is refused, never a silent no-op or a revert of everything', () => {
  it('--to a name no migration has is an error, as for migrate up (it reverted nothing, or with a prefix every migration)', async () => {
    const dir = twoMigrations()
    const url = `sqlite:${join(dir, 'app.db')}`
    expect(await call('migrate', 'up', '--dir', dir, '--url', url)).toMatchObject({ code: 0 })
    expect(await call('migrate', 'down', '--dir', dir, '--url', url, '--to', '001')).toMatchObject({ code: 1, err: expect.stringContaining('no migration named 001') })
    expect(await call('migrate', 'down', '--dir', dir, '--url', url, '--to', 'nope')).toMatchObject({ code: 1, err: expect.stringContaining('no migration named nope') })
    // Both are still applied; --to an existing name reverts the ones after it.
    expect((await call('migrate', 'status', '--dir', dir, '--url', url)).out).toContain('2 applied, 0 pending')
    expect(await call('migrate', 'down', '--dir', dir, '--url', url, '--to', '001_a')).toMatchObject({ code: 0, out: expect.stringContaining('Reverted 1 migration.') })
    rmSync(dir, { recursive: true, force: true })
  })

  it('options a command does not take, --steps 0, and --steps with --to are usage errors (exit 2), not ignored', async () => {
    const dir = twoMigrations()
    const url = `sqlite:${join(dir, 'app.db')}`
    expect(await call('migrate', 'up', '--dir', dir, '--url', url, '--steps', '1')).toMatchObject({ code: 2, err: expect.stringContaining('migrate up does not take --steps') })
    expect(await call('migrate', 'status', '--dir', dir, '--url', url, '--to', '001_a')).toMatchObject({ code: 2, err: expect.stringContaining('migrate status does not take --to') })
    expect(await call('introspect', '--url', url, '--dir', dir)).toMatchObject({ code: 2, err: expect.stringContaining('introspect does not take --dir') })
    expect(await call('migrate', 'down', '--dir', dir, '--url', url, '--steps', '0')).toMatchObject({ code: 2, err: expect.stringContaining('--steps takes a whole number of at least 1') })
    expect(await call('migrate', 'down', '--dir', dir, '--url', url, '--steps', '1', '--to', '001_a')).toMatchObject({ code: 2, err: expect.stringContaining('--steps or --to, not both') })
    // Nothing ran: both are pending still.
    expect((await call('migrate', 'status', '--dir', dir, '--url', url)).out).toContain('0 applied, 2 pending')
    rmSync(dir, { recursive: true, force: true })
  })

  it('migrateDown refuses steps that are not a whole number of at least 1, and steps with to, with a ValidationError', async () => {
    const db = await run(createBackend('sqlite::memory:'))
    const migrations: readonly Migration[] = [{ name: '001_a', up: () => TE.right(undefined), down: () => TE.right(undefined) }]
    await run(migrateUp(db, migrations))
    for (const options of [{ steps: 0 }, { steps: -1 }, { steps: 1.5 }, { steps: 1, to: '001_a' }]) {
      const r = await migrateDown(db, migrations, options)()
      expect(E.isLeft(r) && r.left._tag, JSON.stringify(options)).toBe('ValidationError')
    }
    const unknown = await migrateDown(db, migrations, { to: '000' })()
    expect(E.isLeft(unknown) && unknown.left._tag).toBe('NotFound')
    expect((await run(migrationStatus(db, migrations))).map((m) => m.state)).toEqual(['applied'])
    await run(db.close())
  })
})

describe('a generated key', () => {
  it('on a column that is not an integer is a TypeError from the builder (SQLite made a text key an INTEGER without a word)', () => {
    for (const type of ['text', 'varchar(36)', 'decimal(10,0)', 'uuid', 'double'] as const) {
      expect(() => column('id', type, { primaryKey: true, autoIncrement: true })(createTable('t')), type)
        .toThrow(`column id: autoIncrement needs an integer type (smallint, integer, bigint), not ${type}`)
    }
    for (const type of ['smallint', 'integer', 'bigint'] as const) expect(() => column('id', type, { primaryKey: true, autoIncrement: true })(createTable('t'))).not.toThrow()
    expect(() => column('id', native('serial'), { primaryKey: true, autoIncrement: true })(createTable('t'))).not.toThrow()
  })
})

/** Indexes whose keys are more than ascending columns, per engine: the statements and the keys they read. */
const SPECIAL_INDEXES: Readonly<Record<string, readonly (readonly [string, readonly string[]])[]>> = {
  sqlite: [
    ['CREATE INDEX probe_s_ix_lower ON probe_s_ix (lower(name))', ['name']],
    ['CREATE INDEX probe_s_ix_desc ON probe_s_ix (n DESC, name)', ['n', 'name']],
    ['CREATE INDEX probe_s_ix_nocase ON probe_s_ix (name COLLATE NOCASE)', ['name']],
  ],
  postgres: [
    ['CREATE INDEX probe_s_ix_lower ON probe_s_ix (lower(name))', ['name']],
    ['CREATE INDEX probe_s_ix_desc ON probe_s_ix (n DESC, name)', ['n', 'name']],
    ['CREATE INDEX probe_s_ix_hash ON probe_s_ix USING hash (name)', ['name']],
    ['CREATE INDEX probe_s_ix_incl ON probe_s_ix (n) INCLUDE (name)', ['n', 'name']],
    ['CREATE INDEX probe_s_ix_c ON probe_s_ix (name COLLATE "C")', ['name']],
  ],
  mariadb: [
    ['CREATE INDEX probe_s_ix_prefix ON probe_s_ix (name(10))', ['name']],
    ['CREATE INDEX probe_s_ix_desc ON probe_s_ix (n DESC, name)', ['n', 'name']],
  ],
}

for (const engine of ENGINES) {
  describe(`introspected indexes on ${engine.name}`, () => {
    const t = engineTables(engine, ['probe_s_ix'], (name) => [
      `CREATE TABLE probe_s_ix (id INTEGER PRIMARY KEY, name VARCHAR(40), n INTEGER)`,
      'CREATE INDEX probe_s_ix_plain ON probe_s_ix (n)',
      ...SPECIAL_INDEXES[name].map(([text]) => text),
    ])

    it('an index on an expression, a descending key, a collation, a prefix, another method or INCLUDE comes back as its SQL, and is created again as it was (SQLite gave a column named "null", PostgreSQL left expression indexes out, every engine dropped DESC and prefixes)', async (ctx) => {
      const db = t.use(ctx)
      const read = async () => (await run(introspect(db))).tables.find((x) => x.name === 'probe_s_ix')!
      const before = await read()
      const byName = new Map(before.indexes.map((i) => [i.name, i]))
      expect(byName.get('probe_s_ix_plain')).toEqual({ name: 'probe_s_ix_plain', columns: ['n'], unique: false })
      for (const [text, columns] of SPECIAL_INDEXES[engine.name]) {
        const name = /INDEX (\w+)/.exec(text)![1]
        const i = byName.get(name)
        expect(i, name).toMatchObject({ name, columns, unique: false })
        expect(i?.sql, name).toEqual(expect.any(String))
      }
      expect(before.indexes.map((i) => i.name).sort()).toEqual(['probe_s_ix_plain', ...SPECIAL_INDEXES[engine.name].map(([text]) => /INDEX (\w+)/.exec(text)![1])].sort())
      // The table made again from what was read has the same indexes.
      await run(db.execute(sql`DROP TABLE probe_s_ix`))
      await run(createSchema(db, { tables: [before], views: [] }))
      expect(await read()).toEqual(before)
    })

    it.skipIf(engine.name !== 'sqlite')('a SQLite table rebuild keeps such indexes as they were (it made DESC keys ascending and failed on expressions)', async (ctx) => {
      const db = t.use(ctx)
      await run(alter(db, pipe(alterTable('probe_s_ix'), alterColumn('n', 'bigint', {}))))
      const indexes = await run(db.all<{ name: string; sql: string }>(sql`SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'probe_s_ix' ORDER BY name`))
      expect(indexes.map((r) => r.sql)).toEqual([
        'CREATE INDEX probe_s_ix_desc ON probe_s_ix (n DESC, name)',
        'CREATE INDEX probe_s_ix_lower ON probe_s_ix (lower(name))',
        'CREATE INDEX probe_s_ix_nocase ON probe_s_ix (name COLLATE NOCASE)',
        'CREATE INDEX "probe_s_ix_plain" ON "probe_s_ix" ("n")',
      ])
    })
  })
}

for (const engine of ENGINES) {
  describe(`schema changes on a reserved connection and in a transaction on ${engine.name}`, () => {
    // probe_s_conn and probe_s_conn_tx are made by the tests (dropped first); listed here to be dropped after the file.
    const t = engineTables(engine, ['probe_s_conn_src', 'probe_s_conn', 'probe_s_conn_tx'], () => [
      'CREATE TABLE probe_s_conn_src (id INTEGER PRIMARY KEY, n INTEGER)', 'CREATE TABLE probe_s_conn (id INTEGER)', 'CREATE TABLE probe_s_conn_tx (id INTEGER)',
    ])

    it('apply, alter, createSchema and copyRows run on db.connection() (each failed with TransactionError: its statements went to the connection handle while its transaction was open)', async (ctx) => {
      const db = t.use(ctx)
      await run(db.execute(sql`DROP TABLE probe_s_conn`))
      const conn = await run(db.connection())
      try {
        await run(apply(conn, pipe(createTable('probe_s_conn'), column('id', 'integer', { primaryKey: true }), column('n', 'integer'), index(['n'], { name: 'probe_s_conn_n' }))))
        await run(alter(conn, pipe(alterTable('probe_s_conn'), addColumn('note', 'text'))))
        // Rows from another database (an in-memory SQLite one), into the reserved connection.
        const other = await run(createBackend('sqlite::memory:'))
        await run(other.execute(sql`CREATE TABLE probe_s_conn (id INTEGER PRIMARY KEY, n INTEGER, note TEXT)`))
        await run(other.execute(sql`INSERT INTO probe_s_conn (id, n, note) VALUES (1, 10, 'a'), (2, 20, NULL)`))
        const table = (await run(introspect(other))).tables.find((x) => x.name === 'probe_s_conn')!
        expect(await run(copyRows(other, conn, table))).toBe(2)
        await run(other.close())
        expect(await run(conn.all(sql`SELECT id, n, note FROM probe_s_conn ORDER BY id`))).toEqual([{ id: 1, n: 10, note: 'a' }, { id: 2, n: 20, note: null }])
        await run(dropSchema(conn, { tables: [table], views: [] }))
        await run(createSchema(conn, { tables: [table], views: [] }))
      } finally {
        await run(conn.release())
      }
      expect((await run(introspect(db))).tables.some((x) => x.name === 'probe_s_conn')).toBe(true)
    })

    it('apply and alter inside the caller\'s transaction make their change and succeed (on MariaDB, whose DDL commits, they failed: SAVEPOINT does not exist)', async (ctx) => {
      const db = t.use(ctx)
      await run(db.execute(sql`DROP TABLE probe_s_conn_tx`))
      await run(db.transaction((tx) => apply(tx, pipe(createTable('probe_s_conn_tx'), column('id', 'integer', { primaryKey: true }), index(['id'], { name: 'probe_s_conn_tx_i' })))))
      await run(db.transaction((tx) => alter(tx, pipe(alterTable('probe_s_conn_tx'), addColumn('note', 'text')))))
      expect((await run(introspect(db))).tables.find((x) => x.name === 'probe_s_conn_tx')?.columns.map((c) => c.name)).toEqual(['id', 'note'])
    })
  })
}


describe('migrateDown to a recorded migration whose file is gone', () => {
  it('reverts the ones after it (to names a migration given or recorded)', async () => {
    const db = await run(createBackend('sqlite::memory:'))
    const noop = () => TE.right(undefined)
    const all: readonly Migration[] = ['001_a', '002_b', '003_c'].map((name) => ({ name, up: noop, down: noop }))
    await run(migrateUp(db, all))
    // 001_a's file is gone; 002_b and 003_c are still there.
    expect(await run(migrateDown(db, all.slice(1), { to: '001_a' }))).toEqual({ migrations: ['003_c', '002_b'] })
    const nowhere = await migrateDown(db, all.slice(1), { to: '000' })()
    expect(E.isLeft(nowhere) && nowhere.left.message).toBe('no migration named 000')
    await run(db.close())
  })
})

for (const engine of ENGINES) {
  describe(`a time column on ${engine.name}`, () => {
    const t = engineTables(engine, ['probe_s_time'], () => ['CREATE TABLE probe_s_time (id INTEGER PRIMARY KEY)'])

    it('keeps fractions of a second, and reads back as the portable type time (MariaDB\'s TIME cut 13:14:15.5 to 13:14:15)', async (ctx) => {
      const db = t.use(ctx)
      await run(db.execute(sql`DROP TABLE probe_s_time`))
      await run(apply(db, pipe(createTable('probe_s_time'), column('id', 'integer', { primaryKey: true }), column('at', 'time'))))
      await run(db.execute(sql`INSERT INTO probe_s_time (id, at) VALUES (1, '13:14:15.5')`))
      const rows = await run(db.all<{ at: string }>(sql`SELECT at FROM probe_s_time`))
      expect(rows.map((r) => String(r.at).replace(/0+$/, ''))).toEqual(['13:14:15.5'])
      expect((await run(introspect(db))).tables.find((x) => x.name === 'probe_s_time')?.columns[1]).toEqual({ name: 'at', type: 'time', notNull: false })
    })
  })
}
