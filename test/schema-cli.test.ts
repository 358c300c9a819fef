/**
 * The `recordkit` command: help on every command, exit codes, `migrate new`, `introspect`, and
 * real child processes: two `migrate up` runs at once against one database apply each
 * migration exactly once (SQLite file, MariaDB, PostgreSQL); a failed migration on MariaDB makes
 * `migrate status` say exactly which statements ran, and on PostgreSQL leaves nothing behind.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Backend, compose, connect, sql } from 'recordkit'
import { mysql } from 'recordkit/dialects/mysql'
import { postgres } from 'recordkit/dialects/postgres'
import { sqlite } from 'recordkit/dialects/sqlite'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'
import { mysql2 } from 'recordkit/drivers/mysql2'
import { postgresJs } from 'recordkit/drivers/postgres'
import { run } from 'recordkit/promise'
import { dropTable } from 'recordkit/schema'
import { main } from '../src/cli.js'
import { migrationDir } from './support/migration-kit.js'
import { MYSQL_DB, MYSQL_URL, PG_URL, serverAvailable } from './support/servers.js'

const available = await serverAvailable('mariadb')
const pgAvailable = await serverAvailable('postgres')
const root = fileURLToPath(new URL('..', import.meta.url))
const cli = join(root, 'src', 'cli.ts')

/** Run the command in this process, capturing its output. */
const call = async (...argv: string[]): Promise<{ code: number; out: string; err: string }> => {
  let out = ''
  let err = ''
  const code = await main(argv, { out: (t) => { out += t }, err: (t) => { err += t }, env: {}, cwd: root })
  return { code, out, err }
}

/** Run the command as a child process (the way a shell does). */
const spawnCli = (args: readonly string[]): { readonly child: ChildProcess; readonly done: Promise<{ code: number | null; out: string; err: string }> } => {
  const child = spawn(process.execPath, ['--import', 'tsx', cli, ...args], { cwd: root, env: { ...process.env, RECORDKIT_URL: '' } })
  let out = ''
  let err = ''
  child.stdout!.on('data', (b: Buffer) => { out += b.toString() })
  child.stderr!.on('data', (b: Buffer) => { err += b.toString() })
  const done = new Promise<{ code: number | null; out: string; err: string }>((resolve) => child.on('close', (code) => resolve({ code, out, err })))
  return { child, done }
}

describe('help and usage', () => {
  it('prints help for every command, exit code 0', async () => {
    for (const argv of [['--help'], ['migrate', '--help'], ['migrate', 'up', '--help'], ['migrate', 'down', '-h'], ['migrate', 'status', '--help'], ['migrate', 'new', '--help'], ['migrate', 'repair', '--help'], ['introspect', '--help']]) {
      const r = await call(...argv)
      expect(r.code, argv.join(' ')).toBe(0)
      expect(r.out, argv.join(' ')).toMatch(/^Usage: recordkit/)
    }
    expect((await call('migrate', 'up', '--help')).out).toContain('--to NAME')
    expect((await call('introspect', '--help')).out).toContain('--out FILE')
  })

  it('refuses bad usage with exit code 2 and says why', async () => {
    expect(await call()).toMatchObject({ code: 2 })
    expect(await call('migrate')).toMatchObject({ code: 2, err: 'recordkit: migrate needs a subcommand\nRun "recordkit --help" for usage.\n' })
    expect(await call('migrate', 'sideways')).toMatchObject({ code: 2, err: expect.stringContaining('unknown migrate subcommand "sideways"') })
    expect(await call('frobnicate')).toMatchObject({ code: 2, err: expect.stringContaining('unknown command "frobnicate"') })
    expect(await call('migrate', 'up', '--bogus')).toMatchObject({ code: 2, err: expect.stringContaining("Unknown option '--bogus'") })
    expect(await call('migrate', 'status')).toMatchObject({ code: 2, err: expect.stringContaining('no database: give --url URL or set RECORDKIT_URL') })
    expect(await call('migrate', 'down', '--steps', 'x', '--url', 'sqlite::memory:')).toMatchObject({ code: 2, err: expect.stringContaining('--steps takes a whole number') })
  })

  it('fails with exit code 1 when the database does', async () => {
    expect(await call('introspect', '--url', 'nosuch://x')).toMatchObject({ code: 1, err: expect.stringContaining('no backend is registered for the URL scheme of "nosuch://x"') })
    expect(await call('introspect', '--url', 'sqlite:/nonexistent/dir/x.db')).toMatchObject({ code: 1, err: expect.stringContaining('cannot open SQLite database') })
  })
})

describe('migrate new and introspect', () => {
  it('creates a migration file from a template', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sch-new-'))
    const r = await call('migrate', 'new', 'add', 'users', '--dir', dir)
    expect(r.code).toBe(0)
    const files = readdirSync(dir)
    expect(files).toHaveLength(1)
    expect(files[0]).toMatch(/^\d{14}_add_users\.ts$/)
    expect(r.out).toBe(`created ${join(dir, files[0])}\n`)
    expect(readFileSync(join(dir, files[0]), 'utf8')).toContain('export const up = (db: Backend) =>')
    rmSync(dir, { recursive: true })
  })

  it('writes JavaScript with --js, and migrate up reads what migrate new wrote', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sch-new-js-'))
    expect(await call('migrate', 'new', 'first', '--dir', dir, '--js')).toMatchObject({ code: 0 })
    expect(await call('migrate', 'new', 'second', '--dir', dir, '--ts')).toMatchObject({ code: 0 })
    const files = readdirSync(dir).sort()
    expect(files.map((f) => f.replace(/^\d{14}_/, ''))).toEqual(['first.mjs', 'second.ts'])
    expect(readFileSync(join(dir, files[0]!), 'utf8')).toContain("/** @param {import('recordkit').Backend} db */")
    // The two templates create the same table: keep the second from failing on it.
    writeFileSync(join(dir, files[1]!), readFileSync(join(dir, files[1]!), 'utf8').replaceAll("'example'", "'example_two'"))
    const url = `sqlite:${join(dir, 'app.db')}`
    expect(await call('migrate', 'up', '--dir', dir, '--url', url)).toMatchObject({ code: 0, out: expect.stringContaining('Applied 2 migrations.') })
    expect((await call('migrate', 'status', '--dir', dir, '--url', url)).out).toMatch(/applied +\d{14}_first [\s\S]*applied +\d{14}_second /)
    expect(await call('migrate', 'new', 'x', '--dir', dir, '--js', '--ts')).toMatchObject({ code: 2, err: expect.stringContaining('--ts or --js, not both') })
    rmSync(dir, { recursive: true })
  })

  it('writes the models of a database to a file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sch-introspect-'))
    const db = compose(betterSqlite3({ filename: join(dir, 'app.db') }), sqlite)
    await run(db.execute(sql.raw('CREATE TABLE sch_i_users (id INTEGER PRIMARY KEY, email VARCHAR(100) NOT NULL, joined TIMESTAMP)')))
    await run(db.close())
    const r = await call('introspect', '--url', `sqlite:${join(dir, 'app.db')}`, '--out', join(dir, 'models.ts'), '--camel-case')
    expect(r).toEqual({ code: 0, out: `wrote 1 table to ${join(dir, 'models.ts')}\n`, err: '' })
    expect(readFileSync(join(dir, 'models.ts'), 'utf8')).toContain("export const SchIUsers = model({\n  table: 'sch_i_users',\n  primaryKey: 'id',\n  codec: SchIUsersRow,\n})")
    const json = await call('introspect', '--url', `sqlite:${join(dir, 'app.db')}`, '--json')
    expect(JSON.parse(json.out).tables[0].columns[2]).toEqual({ name: 'joined', type: 'timestamp', notNull: false })
    rmSync(dir, { recursive: true })
  })

  it('a reader that closes the pipe early ends nothing but the output: exit 0, no EPIPE crash', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sch-epipe-'))
    const file = join(dir, 'app.db')
    const db = compose(betterSqlite3({ filename: file }), sqlite)
    for (let t = 0; t < 5; t++) await run(db.execute(sql.raw(`CREATE TABLE epipe_${t} (id INTEGER PRIMARY KEY, name TEXT NOT NULL)`)))
    await run(db.close())
    const { child, done } = spawnCli(['introspect', '--url', `sqlite:${file}`])
    // What `| head -c 0` does, at its most abrupt: the reader has gone before the command writes.
    child.stdout!.destroy()
    const r = await done
    expect(r.err).not.toMatch(/EPIPE|Error/)
    expect(r.code).toBe(0)
    rmSync(dir, { recursive: true })
  })
})

/** Three slow migrations: each creates a table and logs itself once, after a pause that makes two runs overlap. */
const slowMigrations = (p: string): string =>
  migrationDir({
    '001_log': `export const up = (db: never) => steps(db, [d.column('name', 'varchar(20)', { notNull: true, unique: true })(d.createTable('${p}log')), sql\`INSERT INTO ${p}log (name) VALUES ('001')\`], { pauseMs: 300 })\nexport const down = (db: never) => steps(db, [d.dropTable('${p}log')])`,
    '002_a': `export const up = (db: never) => steps(db, [d.column('id', 'integer')(d.createTable('${p}a')), sql\`INSERT INTO ${p}log (name) VALUES ('002')\`], { pauseMs: 300 })\nexport const down = (db: never) => steps(db, [d.dropTable('${p}a')])`,
    '003_b': `export const up = (db: never) => steps(db, [d.column('id', 'integer')(d.createTable('${p}b')), sql\`INSERT INTO ${p}log (name) VALUES ('003')\`], { pauseMs: 300 })\nexport const down = (db: never) => steps(db, [d.dropTable('${p}b')])`,
  })

const concurrentUp = async (url: string, dir: string, table: string) => {
  const args = ['migrate', 'up', '--url', url, '--dir', dir, '--table', table]
  const [a, b] = [spawnCli(args), spawnCli(args)]
  return Promise.all([a.done, b.done])
}

const appliedIn = (out: string): string[] => [...out.matchAll(/up {4}(\d{3}_\w+) \.\.\. done/g)].map((m) => m[1])

describe('two migrate up processes at once on one SQLite file', () => {
  it('apply each migration exactly once', async () => {
    const p = 'sch_cc_'
    const dir = slowMigrations(p)
    const file = join(dir, 'app.db')
    const [a, b] = await concurrentUp(`sqlite:${file}`, dir, `${p}history`)
    expect(a.code, a.out + a.err).toBe(0)
    expect(b.code, b.out + b.err).toBe(0)
    expect([...appliedIn(a.out), ...appliedIn(b.out)].sort()).toEqual(['001_log', '002_a', '003_b'])
    const db = compose(betterSqlite3({ filename: file }), sqlite)
    expect(await run(db.all(sql.raw(`SELECT name FROM ${p}log ORDER BY name`)))).toEqual([{ name: '001' }, { name: '002' }, { name: '003' }])
    expect(await run(db.all(sql.raw(`SELECT name FROM ${p}history ORDER BY name`)))).toEqual([{ name: '001_log' }, { name: '002_a' }, { name: '003_b' }])
    await run(db.close())
    const status = await call('migrate', 'status', '--url', `sqlite:${file}`, '--dir', dir, '--table', `${p}history`)
    expect(status.code).toBe(0)
    expect(status.out).toMatch(/applied {2}001_log {2}\d{4}-/)
    expect(status.out).toContain('3 applied, 0 pending\n')
    rmSync(dir, { recursive: true })
  }, 60_000)
})

describe.skipIf(!available)('the command on MariaDB', () => {
  const p = 'sch_ccm_'
  let db: Backend
  const cleanup = async () => {
    for (const t of ['log', 'a', 'b', 'half', 'history', 'fhistory', 'part', 'phistory']) await run(db.execute(dropTable(`${p}${t}`, { ifExists: true })))
  }
  beforeAll(async () => {
    db = await run(connect(mysql2({ url: MYSQL_URL, max: 2 }), mysql))
    await cleanup()
  })
  afterAll(async () => {
    if (db === undefined) return
    await cleanup()
    await run(db.close())
  })

  it('two migrate up processes at once apply each migration exactly once', async () => {
    const dir = slowMigrations(p)
    const [a, b] = await concurrentUp(MYSQL_URL, dir, `${p}history`)
    expect(a.code, a.out + a.err).toBe(0)
    expect(b.code, b.out + b.err).toBe(0)
    expect([...appliedIn(a.out), ...appliedIn(b.out)].sort()).toEqual(['001_log', '002_a', '003_b'])
    expect(await run(db.all(sql.raw(`SELECT name FROM ${p}log ORDER BY name`)))).toEqual([{ name: '001' }, { name: '002' }, { name: '003' }])
    expect(await run(db.all(sql.raw(`SELECT name FROM ${p}history ORDER BY name`)))).toEqual([{ name: '001_log' }, { name: '002_a' }, { name: '003_b' }])
    rmSync(dir, { recursive: true })
  }, 60_000)

  it('a failed migration: up exits 1 and status says exactly which statements ran', async () => {
    const dir = migrationDir({
      '001_half': [
        'export const up = (db: never) => steps(db, [',
        `  d.column('id', 'integer')(d.createTable('${p}half')),`,
        `  sql\`INSERT INTO ${p}half (id) VALUES (\${7})\`,`,
        `  sql\`ALTER TABLE ${p}missing ADD COLUMN x INT\`,`,
        '])',
      ].join('\n'),
    })
    const up = await spawnCli(['migrate', 'up', '--url', MYSQL_URL, '--dir', dir, '--table', `${p}fhistory`]).done
    expect(up.code).toBe(1)
    expect(up.out).toContain('up    001_half ... FAILED\n')
    expect(up.err).toBe([
      `  error: Table '${MYSQL_DB}.${p}missing' doesn't exist`,
      '  mariadb does not roll back DDL: 2 statements of 001_half ran and stay applied:',
      `    ran    1. CREATE TABLE \`${p}half\` (\`id\` INT)`,
      `    ran    2. INSERT INTO ${p}half (id) VALUES (?) -- params: [7]`,
      `    FAILED 3. ALTER TABLE ${p}missing ADD COLUMN x INT`,
      `             error: Table '${MYSQL_DB}.${p}missing' doesn't exist`,
      '  put the database right, then run "recordkit migrate repair"',
      `recordkit: migration 001_half (up) failed: Table '${MYSQL_DB}.${p}missing' doesn't exist`,
      '',
    ].join('\n'))
    const status = await spawnCli(['migrate', 'status', '--url', MYSQL_URL, '--dir', dir, '--table', `${p}fhistory`]).done
    expect(status.code).toBe(1)
    expect(status.out.split('\n').slice(1)).toEqual([
      'FAILED   001_half',
      expect.stringMatching(new RegExp(`^ {11}up failed at \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z: Table '${MYSQL_DB}.${p}missing' doesn't exist$`)),
      '           2 statements ran and stay applied; the last one failed:',
      `             ran    1. CREATE TABLE \`${p}half\` (\`id\` INT)`,
      `             ran    2. INSERT INTO ${p}half (id) VALUES (?) -- params: [7]`,
      `             FAILED 3. ALTER TABLE ${p}missing ADD COLUMN x INT`,
      `                      error: Table '${MYSQL_DB}.${p}missing' doesn't exist`,
      '0 applied, 0 pending, 1 failed',
      '',
    ].map((l) => (typeof l === 'string' && l.startsWith('FAILED') ? `  ${l}` : l)))
    expect(existsSync(dir)).toBe(true)
    rmSync(dir, { recursive: true })
  }, 60_000)

  it('a failed migration whose statements after its DDL rolled back: up and status mark them undone', async () => {
    const dir = migrationDir({
      '001_part': [
        'export const up = (db: never) => steps(db, [',
        `  d.column('id', 'integer')(d.createTable('${p}part')),`,
        `  sql\`INSERT INTO ${p}part (id) VALUES (\${7})\`,`,
        `  sql\`INSERT INTO ${p}nowhere (id) VALUES (\${8})\`,`,
        '])',
      ].join('\n'),
    })
    const up = await spawnCli(['migrate', 'up', '--url', MYSQL_URL, '--dir', dir, '--table', `${p}phistory`]).done
    expect(up.code).toBe(1)
    expect(up.err.split('\n').slice(1, 5)).toEqual([
      '  mariadb does not roll back DDL: 1 statement of 001_part ran and stays applied (1 after it rolled back):',
      `    ran    1. CREATE TABLE \`${p}part\` (\`id\` INT)`,
      `    undone 2. INSERT INTO ${p}part (id) VALUES (?) -- params: [7]`,
      `    FAILED 3. INSERT INTO ${p}nowhere (id) VALUES (?) -- params: [8]`,
    ])
    expect(await run(db.all(sql.raw(`SELECT id FROM ${p}part`)))).toEqual([])
    const status = await spawnCli(['migrate', 'status', '--url', MYSQL_URL, '--dir', dir, '--table', `${p}phistory`]).done
    expect(status.out).toContain('           1 statement ran and stays applied (1 after it rolled back); the last one failed:\n')
    expect(status.out).toContain(`             undone 2. INSERT INTO ${p}part (id) VALUES (?) -- params: [7]\n`)
    rmSync(dir, { recursive: true })
  }, 60_000)
})

describe.skipIf(!pgAvailable)('the command on PostgreSQL', () => {
  const p = 'sch_ccp_'
  let db: Backend
  const cleanup = async () => {
    for (const t of ['log', 'a', 'b', 'half', 'history', 'fhistory']) await run(db.execute(dropTable(`${p}${t}`, { ifExists: true })))
  }
  beforeAll(async () => {
    db = await run(connect(postgresJs({ url: PG_URL, max: 2 }), postgres))
    await cleanup()
  })
  afterAll(async () => {
    if (db === undefined) return
    await cleanup()
    await run(db.close())
  })

  it('two migrate up processes at once apply each migration exactly once', async () => {
    const dir = slowMigrations(p)
    const [a, b] = await concurrentUp(PG_URL, dir, `${p}history`)
    expect(a.code, a.out + a.err).toBe(0)
    expect(b.code, b.out + b.err).toBe(0)
    expect([...appliedIn(a.out), ...appliedIn(b.out)].sort()).toEqual(['001_log', '002_a', '003_b'])
    expect(await run(db.all(sql.raw(`SELECT name FROM ${p}log ORDER BY name`)))).toEqual([{ name: '001' }, { name: '002' }, { name: '003' }])
    expect(await run(db.all(sql.raw(`SELECT name FROM ${p}history ORDER BY name`)))).toEqual([{ name: '001_log' }, { name: '002_a' }, { name: '003_b' }])
    rmSync(dir, { recursive: true })
  }, 60_000)

  it('a failed migration is rolled back whole: exit 1, nothing remains, still pending', async () => {
    const dir = migrationDir({
      '001_half': [
        'export const up = (db: never) => steps(db, [',
        `  d.column('id', 'integer')(d.createTable('${p}half')),`,
        `  sql\`ALTER TABLE ${p}missing ADD COLUMN x INT\`,`,
        '])',
      ].join('\n'),
    })
    const up = await spawnCli(['migrate', 'up', '--url', PG_URL, '--dir', dir, '--table', `${p}fhistory`]).done
    expect(up.code).toBe(1)
    expect(up.err).toBe([
      `  error: relation "${p}missing" does not exist`,
      '  rolled back: nothing of 001_half remains',
      `recordkit: migration 001_half (up) failed: relation "${p}missing" does not exist`,
      '',
    ].join('\n'))
    expect(await run(db.all(sql`SELECT to_regclass(${`${p}half`}) AS t`))).toEqual([{ t: null }])
    const status = await spawnCli(['migrate', 'status', '--url', PG_URL, '--dir', dir, '--table', `${p}fhistory`]).done
    expect(status.code).toBe(0)
    expect(status.out.split('\n').slice(1)).toEqual(['  pending  001_half', '0 applied, 1 pending', ''])
    rmSync(dir, { recursive: true })
  }, 60_000)
})
