import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, describe, expect, it } from 'vitest'
import { ok } from 'recordkit/testing'
import { duckdbBackend } from '../src/contrib/duckdb/index.js'
import { type Backend, createBackend, isDbError, registerBackend, registeredSchemes, sql } from 'recordkit'
import { clientLibrary } from '../src/drivers/client-library.js'
import { MYSQL_URL, PG_URL, serverAvailable } from './support/servers.js'

const dir = mkdtempSync(join(tmpdir(), 'recordkit-registry-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const root = join(import.meta.dirname, '..')

/** Open, ask one thing, close. */
const probe = async (db: Backend): Promise<{ readonly dialect: string; readonly one: number }> => {
  try {
    const [row] = await ok(db.all(sql`SELECT 1 AS one`))
    return { dialect: db.dialect.name, one: Number(row.one) }
  } finally {
    await ok(db.close())
  }
}

const pgAvailable = await serverAvailable('postgres')
const mariadbAvailable = await serverAvailable('mariadb')

describe('createBackend: built-in engines from a URL or a configuration object', () => {
  it('sqlite::memory: and { engine: "sqlite", filename }', async () => {
    expect(await probe(await ok(createBackend('sqlite::memory:')))).toEqual({ dialect: 'sqlite', one: 1 })
    expect(await probe(await ok(createBackend({ engine: 'sqlite', filename: ':memory:' })))).toEqual({ dialect: 'sqlite', one: 1 })
  })

  it('sqlite:<relative path> and sqlite://<absolute path> open the same file', async () => {
    const file = join(dir, 'app.db')
    const a = await ok(createBackend(`sqlite://${file}`))
    await ok(a.execute(sql`CREATE TABLE reg_t (id INTEGER PRIMARY KEY)`))
    await ok(a.execute(sql`INSERT INTO reg_t (id) VALUES (${7})`))
    await ok(a.close())
    const b = await ok(createBackend(`sqlite:${relative(process.cwd(), file)}`))
    expect(await ok(b.all(sql`SELECT id FROM reg_t`))).toEqual([{ id: 7 }])
    await ok(b.close())
  })

  it.skipIf(!pgAvailable)('postgres:// and postgresql:// URLs, and { engine: "postgres", url, max }', async () => {
    expect(await probe(await ok(createBackend(PG_URL)))).toEqual({ dialect: 'postgres', one: 1 })
    expect(await probe(await ok(createBackend(PG_URL.replace(/^postgres:/, 'postgresql:'))))).toEqual({ dialect: 'postgres', one: 1 })
    const db = await ok(createBackend({ engine: 'postgres', url: PG_URL, max: 2 }))
    expect(db.dialect.version).toMatch(/^\d+/)
    expect(await probe(db)).toEqual({ dialect: 'postgres', one: 1 })
  })

  it.skipIf(!mariadbAvailable)('mysql:// (the dialect follows the server) and mariadb:// URLs, and { engine: "mariadb", url }', async () => {
    expect(await probe(await ok(createBackend(MYSQL_URL)))).toEqual({ dialect: 'mariadb', one: 1 })
    expect(await probe(await ok(createBackend(MYSQL_URL.replace(/^mysql:/, 'mariadb:'))))).toEqual({ dialect: 'mariadb', one: 1 })
    expect(await probe(await ok(createBackend({ engine: 'mariadb', url: MYSQL_URL, max: 2 })))).toEqual({ dialect: 'mariadb', one: 1 })
  })

  it('an unknown scheme or engine is a ConnectionError naming the known ones, with the password hidden', async () => {
    const r = await createBackend('oracle://scott:tiger@db/orcl')()
    expect(E.isLeft(r) && r.left._tag).toBe('ConnectionError')
    if (E.isLeft(r)) {
      expect(r.left.message).toContain('sqlite, postgres, postgresql, mysql, mariadb')
      expect(r.left.message).not.toContain('tiger')
    }
    const c = await createBackend({ engine: 'nope' } as never)()
    expect(E.isLeft(c) && c.left._tag).toBe('ConnectionError')
  })

  it('a server that does not answer is a ConnectionError', async () => {
    const r = await createBackend({ engine: 'postgres', url: 'postgres://postgres@127.0.0.1:1/none', connectTimeout: 2 })()
    expect(E.isLeft(r) && r.left._tag).toBe('ConnectionError')
  })
})

describe('registerBackend: a third-party backend joins the same factory', () => {
  it('duckdb:<path> and { engine: "duckdb", ... } after registerBackend("duckdb", duckdbBackend)', async () => {
    registerBackend('duckdb', duckdbBackend)
    expect(registeredSchemes()).toContain('duckdb')
    expect(await probe(await ok(createBackend('duckdb::memory:')))).toEqual({ dialect: 'duckdb', one: 1 })
    const file = join(dir, 'data.duckdb')
    const a = await ok(createBackend({ engine: 'duckdb', path: file }))
    await ok(a.execute(sql`CREATE TABLE reg_d AS SELECT 42 AS answer`))
    await ok(a.close())
    const b = await ok(createBackend(`duckdb:${file}`))
    expect(await ok(b.all(sql`SELECT answer FROM reg_d`))).toEqual([{ answer: 42 }])
    await ok(b.close())
  })
})

describe('createBackend loads only the client library it needs', () => {
  it('a SQLite backend never loads postgres.js or mysql2', () => {
    // Every module specifier the program imports is reported by a resolve hook; the client
    // libraries are loaded with require (they are optional peers), which require.cache shows.
    const program = `
      import { createRequire, register } from 'node:module'
      const loaded = (m) => seen.has(m) || Object.keys(createRequire(import.meta.url).cache).some((f) => f.includes('/node_modules/' + m + '/'))
      import { MessageChannel } from 'node:worker_threads'
      const { port1, port2 } = new MessageChannel()
      const seen = new Set()
      port1.on('message', (s) => seen.add(s))
      register('data:text/javascript,' + encodeURIComponent('let port; export function initialize(d) { port = d.port } export async function resolve(s, c, next) { port.postMessage(s); return next(s, c) }'), { data: { port: port2 }, transferList: [port2] })
      const { createBackend, run, sql } = await import('./src/index.ts')
      const before = ['better-sqlite3', 'postgres', 'mysql2'].filter(loaded)
      const db = await run(createBackend('sqlite::memory:'))
      await run(db.all(sql\`SELECT 1\`))
      await new Promise((r) => setTimeout(r, 100))
      const after = ['better-sqlite3', 'postgres', 'mysql2'].filter(loaded)
      console.log(JSON.stringify({ before, after }))
      port1.close()
    `
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', program], { cwd: root, encoding: 'utf8', timeout: 60_000 })
    expect(r.status, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout.trim().split('\n').pop()!)).toEqual({ before: [], after: ['better-sqlite3'] })
  }, 70_000)
})

describe('client libraries are optional peers', () => {
  it('one that is not installed is a ConnectionError naming the package to install', () => {
    let thrown: unknown
    try {
      clientLibrary('recordkit-absent-client', 'recordkit-absent-client', 'Absent')
    } catch (e) {
      thrown = e
    }
    expect(isDbError(thrown, 'ConnectionError')).toBe(true)
    expect((thrown as Error).message).toContain('npm install recordkit-absent-client')
  })

  it('one that is installed is the library itself', () => {
    expect(typeof clientLibrary<unknown>('better-sqlite3', 'better-sqlite3', 'SQLite')).toBe('function')
  })
})
