/**
 * Migrations through the API: order, history, up/down/status, a transaction per migration
 * where DDL is transactional (SQLite, PostgreSQL: a failure leaves nothing), and on MariaDB, where DDL
 * commits as it goes, a failure recorded with exactly the statements that ran.
 */
import { rmSync } from 'node:fs'
import * as E from 'fp-ts/lib/Either.js'
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
import { alter, apply, introspectTable, loadMigrations, type Migration, type MigrationEvent, migrateDown, migrateUp, migrationStatus, repairMigrations } from 'recordkit/schema'
import * as d from 'recordkit/schema'
import { migrationDir, steps } from './support/migration-kit.js'
import { MYSQL_DB, MYSQL_URL, PG_URL, serverAvailable } from './support/servers.js'

const available = await serverAvailable('mariadb')
const pgAvailable = await serverAvailable('postgres')

const users = (p: string): Migration => ({
  name: '001_users',
  up: (db) => apply(db, pipe(d.createTable(`${p}users`), d.column('id', 'integer', { primaryKey: true, autoIncrement: true }), d.column('email', 'varchar(100)', { notNull: true }))),
  down: (db) => apply(db, d.dropTable(`${p}users`)),
})
const posts = (p: string): Migration => ({
  name: '002_posts',
  up: (db) => apply(db, pipe(d.createTable(`${p}posts`), d.column('id', 'integer', { primaryKey: true }), d.column('user_id', 'integer', { notNull: true, references: `${p}users.id` }))),
  down: (db) => apply(db, d.dropTable(`${p}posts`)),
})
const age = (p: string): Migration => ({
  name: '003_age',
  up: (db) => alter(db, pipe(d.alterTable(`${p}users`), d.addColumn('age', 'integer', { notNull: true, default: 0 }))),
  down: (db) => alter(db, pipe(d.alterTable(`${p}users`), d.dropColumn('age'))),
})

describe('migrations on SQLite', () => {
  const p = 'sch_m_'
  let db: Backend
  beforeAll(() => { db = compose(betterSqlite3({ filename: ':memory:' }), sqlite) })
  afterAll(async () => { await run(db.close()) })
  const all = [users(p), posts(p), age(p)]

  it('applies pending migrations in name order, once, and says what it did', async () => {
    const events: MigrationEvent['kind'][] = []
    expect(await run(migrateUp(db, [all[2], all[0], all[1]], { onEvent: (e) => events.push(e.kind) }))).toEqual({ migrations: ['001_users', '002_posts', '003_age'] })
    expect(events).toEqual(['start', 'done', 'start', 'done', 'start', 'done'])
    expect(await run(migrateUp(db, all))).toEqual({ migrations: [] })
    expect((await run(migrationStatus(db, all))).map((s) => [s.name, s.state])).toEqual([['001_users', 'applied'], ['002_posts', 'applied'], ['003_age', 'applied']])
    expect((await run(introspectTable(db, `${p}users`))).columns.map((c) => c.name)).toEqual(['id', 'email', 'age'])
  })

  it('reverts the last one, or down to a name, and applies up to a name', async () => {
    expect(await run(migrateDown(db, all))).toEqual({ migrations: ['003_age'] })
    expect((await run(introspectTable(db, `${p}users`))).columns.map((c) => c.name)).toEqual(['id', 'email'])
    expect(await run(migrateDown(db, all, { to: '001_users' }))).toEqual({ migrations: ['002_posts'] })
    expect(await run(migrateUp(db, all, { to: '002_posts' }))).toEqual({ migrations: ['002_posts'] })
    expect((await run(migrationStatus(db, all))).map((s) => s.state)).toEqual(['applied', 'applied', 'pending'])
    expect(await run(migrateUp(db, all))).toEqual({ migrations: ['003_age'] })
  })

  it('rolls a failing migration back whole: nothing of it remains, nothing is recorded', async () => {
    const broken: Migration = {
      name: '004_broken',
      up: (db) => steps(db, [
        pipe(d.createTable(`${p}half`), d.column('id', 'integer')),
        sql`INSERT INTO ${sql.id(`${p}users`)} (email) VALUES ('ada@x')`,
        sql`INSERT INTO ${sql.id(`${p}nowhere`)} VALUES (1)`,
      ]),
    }
    const events: MigrationEvent[] = []
    const r = await migrateUp(db, [...all, broken], { onEvent: (e) => events.push(e) })()
    expect(E.isLeft(r) && r.left.message).toMatch(/^migration 004_broken \(up\) failed: no such table: sch_m_nowhere\n {2}rolled back: nothing of it remains/)
    const failed = events.find((e) => e.kind === 'failed')
    expect(failed?.kind === 'failed' && failed.rolledBack).toBe(true)
    expect(failed?.kind === 'failed' && failed.statements.map((s) => s.ok)).toEqual([true, true, false])
    expect(await run(db.all(sql`SELECT name FROM sqlite_master WHERE name = ${`${p}half`}`))).toEqual([])
    expect(await run(db.all(sql`SELECT COUNT(*) AS n FROM ${sql.id(`${p}users`)}`))).toEqual([{ n: 0 }])
    expect((await run(migrationStatus(db, [...all, broken]))).map((s) => s.state)).toEqual(['applied', 'applied', 'applied', 'pending'])
  })

  it('rebuilds tables inside a migration with foreign keys suspended, and checks them before the commit', async () => {
    await run(db.execute(sql`INSERT INTO ${sql.id(`${p}users`)} (email) VALUES ('ada@x')`))
    await run(db.execute(sql`INSERT INTO ${sql.id(`${p}posts`)} (id, user_id) VALUES (1, 1)`))
    const widen: Migration = { name: '005_widen', up: (db) => alter(db, pipe(d.alterTable(`${p}users`), d.alterColumn('email', 'varchar(200)', { notNull: true }))) }
    expect(await run(migrateUp(db, [...all, widen]))).toEqual({ migrations: ['005_widen'] })
    expect(await run(db.all(sql`SELECT COUNT(*) AS n FROM ${sql.id(`${p}posts`)}`))).toEqual([{ n: 1 }])
    const orphan: Migration = { name: '006_orphan', up: (db) => steps(db, [sql`DELETE FROM ${sql.id(`${p}users`)}`]) }
    const r = await migrateUp(db, [...all, widen, orphan])()
    expect(E.isLeft(r) && r.left._tag).toBe('ForeignKeyViolation')
    expect(await run(db.all(sql`SELECT COUNT(*) AS n FROM ${sql.id(`${p}users`)}`))).toEqual([{ n: 1 }])
    expect(await run(db.all(sql.raw('PRAGMA foreign_keys')))).toEqual([{ foreign_keys: 1 }])
  })

  it('reports migrations recorded but not given as missing, and refuses to revert them', async () => {
    const states = await run(migrationStatus(db, all))
    expect(states.map((s) => [s.name, s.state])).toEqual([['001_users', 'applied'], ['002_posts', 'applied'], ['003_age', 'applied'], ['005_widen', 'missing']])
    const r = await migrateDown(db, all)()
    expect(E.isLeft(r) && r.left.message).toMatch(/005_widen is applied but was not given/)
  })

  it('keeps its history in the table it is given', async () => {
    const other = compose(betterSqlite3({ filename: ':memory:' }), sqlite)
    await run(migrateUp(other, [users(p)], { table: 'sch_m_history' }))
    expect(await run(other.all(sql.raw('SELECT name, status, direction FROM sch_m_history')))).toEqual([{ name: '001_users', status: 'applied', direction: 'up' }])
    expect((await run(migrationStatus(other, [users(p)]))).map((s) => s.state)).toEqual(['pending'])
    await run(other.close())
  })
})

describe('loading migration files', () => {
  it('loads .ts files in name order, and says which file is wrong', async () => {
    const dir = migrationDir({
      '20240102_b': "export const up = (db: never) => steps(db, [sql`SELECT 2`])\nexport const down = (db: never) => steps(db, [])",
      '20240101_a': 'export const up = (db: never) => steps(db, [sql`SELECT 1`])',
    })
    const migrations = await run(loadMigrations(dir))
    expect(migrations.map((m) => [m.name, typeof m.up, typeof m.down])).toEqual([['20240101_a', 'function', 'undefined'], ['20240102_b', 'function', 'function']])
    rmSync(dir, { recursive: true })
    const bad = migrationDir({ '1_bad': 'export const upp = 1' })
    const r = await loadMigrations(bad)()
    expect(E.isLeft(r) && r.left.message).toBe('migration 1_bad.ts exports no up(db) function')
    rmSync(bad, { recursive: true })
    const none = await loadMigrations('/nonexistent/sch-migrations')()
    expect(E.isLeft(none) && none.left._tag).toBe('NotFound')
  })
})

describe.skipIf(!available)('migrations on MariaDB (DDL is not transactional)', () => {
  const p = 'sch_mm_'
  const table = 'sch_mm_history'
  let db: Backend
  const drop = async () => {
    for (const t of ['half', 'posts', 'users', 'history']) await run(db.execute(d.dropTable(`${p}${t}`, { ifExists: true })))
  }
  beforeAll(async () => {
    db = await run(connect(mysql2({ url: MYSQL_URL, max: 4 }), mysql))
    await drop()
  })
  afterAll(async () => {
    if (db === undefined) return
    await drop()
    await run(db.close())
  })
  const all = [users(p), posts(p)]

  it('applies and reverts', async () => {
    expect(await run(migrateUp(db, all, { table }))).toEqual({ migrations: ['001_users', '002_posts'] })
    expect(await run(migrateDown(db, all, { table, steps: 2 }))).toEqual({ migrations: ['002_posts', '001_users'] })
    expect(await run(migrateUp(db, all, { table }))).toEqual({ migrations: ['001_users', '002_posts'] })
  })

  it('records a failure with exactly the statements that ran, stops there until repaired', async () => {
    const broken: Migration = {
      name: '003_broken',
      up: (db) => steps(db, [
        pipe(d.createTable(`${p}half`), d.column('id', 'integer')),
        sql`INSERT INTO ${sql.id(`${p}half`)} (id) VALUES (1)`,
        sql`ALTER TABLE ${sql.id(`${p}nowhere`)} ADD COLUMN x INT`,
        sql`SELECT 1`,
      ]),
    }
    const r = await migrateUp(db, [...all, broken], { table })()
    expect(E.isLeft(r) && r.left.message).toBe([
      `migration 003_broken (up) failed: Table '${MYSQL_DB}.${p}nowhere' doesn't exist`,
      '  2 of its statements ran and stay applied:',
      `    1. CREATE TABLE \`${p}half\` (\`id\` INT)`,
      `    2. INSERT INTO \`${p}half\` (id) VALUES (1)`,
    ].join('\n'))
    const state = (await run(migrationStatus(db, [...all, broken], { table })))[2]
    expect(state).toMatchObject({ name: '003_broken', state: 'failed', direction: 'up', error: `Table '${MYSQL_DB}.${p}nowhere' doesn't exist` })
    expect(state.statements).toEqual([
      { sql: `CREATE TABLE \`${p}half\` (\`id\` INT)`, ok: true },
      { sql: `INSERT INTO \`${p}half\` (id) VALUES (1)`, ok: true },
      { sql: `ALTER TABLE \`${p}nowhere\` ADD COLUMN x INT`, ok: false, error: `Table '${MYSQL_DB}.${p}nowhere' doesn't exist` },
    ])
    // The statements that ran stay applied.
    expect(await run(db.all(sql`SELECT id FROM ${sql.id(`${p}half`)}`))).toEqual([{ id: 1 }])
    // Until repaired, nothing else runs.
    const again = await migrateUp(db, [...all, broken], { table })()
    expect(E.isLeft(again) && again.left.message).toMatch(/migration 003_broken failed part way on mariadb/)
    // Put right by hand, repaired, then it runs again (fixed).
    await run(db.execute(d.dropTable(`${p}half`)))
    expect(await run(repairMigrations(db, { table }))).toEqual(['003_broken'])
    const fixed: Migration = { name: '003_broken', up: (db) => steps(db, [pipe(d.createTable(`${p}half`), d.column('id', 'integer'))]) }
    expect(await run(migrateUp(db, [...all, fixed], { table }))).toEqual({ migrations: ['003_broken'] })
  })
})

describe.skipIf(!pgAvailable)('migrations on PostgreSQL (DDL is transactional)', () => {
  const p = 'sch_mp_'
  const table = 'sch_mp_history'
  let db: Backend
  const drop = async () => {
    for (const t of ['half', 'posts', 'users', 'history']) await run(db.execute(d.dropTable(`${p}${t}`, { ifExists: true })))
  }
  beforeAll(async () => {
    db = await run(connect(postgresJs({ url: PG_URL, max: 4 }), postgres))
    await drop()
  })
  afterAll(async () => {
    if (db === undefined) return
    await drop()
    await run(db.close())
  })
  const all = [users(p), posts(p), age(p)]

  it('applies and reverts, each migration in its own transaction under an advisory lock', async () => {
    const seen: string[] = []
    expect(await run(migrateUp(db, all, { table }))).toEqual({ migrations: ['001_users', '002_posts', '003_age'] })
    expect(await run(migrateDown(db, all, { table, to: '001_users' }))).toEqual({ migrations: ['003_age', '002_posts'] })
    expect(await run(migrateUp(db, all, { table, onEvent: (e) => { if (e.kind === 'done') seen.push(...e.statements.map((x) => x.sql)) } }))).toEqual({ migrations: ['002_posts', '003_age'] })
    expect(seen).toContain('ALTER TABLE "sch_mp_users" ADD COLUMN "age" INTEGER NOT NULL DEFAULT 0')
  })

  it('leaves no partial change when a migration fails', async () => {
    const broken: Migration = {
      name: '004_broken',
      up: (db) => steps(db, [
        pipe(d.createTable(`${p}half`), d.column('id', 'integer')),
        sql`INSERT INTO ${sql.id(`${p}half`)} (id) VALUES (${1})`,
        pipe(d.alterTable(`${p}users`), d.addColumn('nick', 'text')),
        sql`ALTER TABLE ${sql.id(`${p}nowhere`)} ADD COLUMN x INT`,
      ]),
    }
    const r = await migrateUp(db, [...all, broken], { table })()
    expect(E.isLeft(r) && r.left.message).toBe('migration 004_broken (up) failed: relation "sch_mp_nowhere" does not exist\n  rolled back: nothing of it remains')
    expect(E.isLeft(r) && r.left._tag).toBe('QueryError')
    expect(await run(db.all(sql`SELECT to_regclass(${`${p}half`}) AS t`))).toEqual([{ t: null }])
    expect((await run(introspectTable(db, `${p}users`))).columns.map((c) => c.name)).toEqual(['id', 'email', 'age'])
    expect((await run(migrationStatus(db, [...all, broken], { table }))).map((s) => [s.name, s.state])).toEqual([
      ['001_users', 'applied'], ['002_posts', 'applied'], ['003_age', 'applied'], ['004_broken', 'pending'],
    ])
  })
})
