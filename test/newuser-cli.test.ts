/**
 * The `recordkit` command as a new user meets it: `migrate new create_<table>` writes a migration
 * for that table (two fresh templates apply side by side), in a project whose package.json is
 * not `"type": "module"` (npm init's default) as an ES module of its own (`.mts`), which
 * `migrate up` loads (a `.ts` file there is CommonJS to Node and failed to load), the progress line tells the
 * statements that changed the database from the catalog reads done to plan them, and a usage
 * mistake in a subcommand points at that subcommand's help.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { createRequire } from 'node:module'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { spawnSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { main } from '../src/cli.js'

const root = fileURLToPath(new URL('..', import.meta.url))
/** tsx's ES module API (what recordkit's command registers for TypeScript migrations), by URL. */
const tsxEsmApi = pathToFileURL(join(dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist', 'esm', 'api', 'index.mjs')).href

const call = async (...argv: string[]): Promise<{ code: number; out: string; err: string }> => {
  let out = ''
  let err = ''
  const code = await main(argv, { out: (t) => { out += t }, err: (t) => { err += t }, env: {}, cwd: root })
  return { code, out, err }
}

describe('migrate new names the table', () => {
  it('create_<table> creates and drops that table, in TypeScript and in JavaScript', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'h4-new-'))
    try {
      expect(await call('migrate', 'new', 'create_h4_users', '--dir', dir, '--ts')).toMatchObject({ code: 0 })
      expect(await call('migrate', 'new', 'create_h4_posts', '--dir', dir, '--js')).toMatchObject({ code: 0 })
      const files = readdirSync(dir).sort()
      const ts = readFileSync(join(dir, files.find((f) => f.endsWith('_create_h4_users.ts'))!), 'utf8')
      const js = readFileSync(join(dir, files.find((f) => f.endsWith('_create_h4_posts.mjs'))!), 'utf8')
      expect(ts).toContain("createTable('h4_users')")
      expect(ts).toContain("dropTable('h4_users')")
      expect(js).toContain("createTable('h4_posts')")
      expect(js).toContain("dropTable('h4_posts')")
      expect(ts).not.toContain("'example'")
    } finally {
      rmSync(dir, { recursive: true })
    }
  })

  it('fresh templates apply unchanged side by side, and revert', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'h4-new-run-'))
    try {
      for (const name of ['create_h4_a', 'create_h4_b', 'seed']) expect(await call('migrate', 'new', name, '--dir', dir, '--ts')).toMatchObject({ code: 0 })
      const url = `sqlite:${join(dir, 'app.db')}`
      expect(await call('migrate', 'up', '--dir', dir, '--url', url)).toMatchObject({ code: 0, out: expect.stringContaining('Applied 3 migrations.') })
      expect(await call('migrate', 'down', '--steps', '3', '--dir', dir, '--url', url)).toMatchObject({ code: 0, out: expect.stringContaining('Reverted 3 migrations.') })
    } finally {
      rmSync(dir, { recursive: true })
    }
  })
})

describe('migrate new in a CommonJS project', () => {
  it('writes .mts where the nearest package.json is not "type": "module", and migrate up runs it', async () => {
    const project = mkdtempSync(join(tmpdir(), 'h4-cjs-'))
    try {
      writeFileSync(join(project, 'package.json'), '{ "name": "app", "private": true }\n')
      // The project's node_modules: recordkit itself, and what its migrations import.
      mkdirSync(join(project, 'node_modules'))
      symlinkSync(root, join(project, 'node_modules', 'recordkit'), 'dir')
      symlinkSync(join(root, 'node_modules', 'fp-ts'), join(project, 'node_modules', 'fp-ts'), 'dir')
      const dir = join(project, 'migrations')
      expect(await call('migrate', 'new', 'create_h4_items', '--dir', dir, '--ts')).toMatchObject({ code: 0 })
      const files = readdirSync(dir)
      expect(files).toEqual([expect.stringMatching(/^\d{14}_create_h4_items\.mts$/)])
      const url = `sqlite:${join(project, 'app.db')}`
      expect(await call('migrate', 'up', '--dir', dir, '--url', url)).toMatchObject({ code: 0, out: expect.stringContaining('Applied 1 migration.') })
      // An ES module project keeps .ts.
      writeFileSync(join(project, 'package.json'), '{ "name": "app", "private": true, "type": "module" }\n')
      expect(await call('migrate', 'new', 'create_h4_more', '--dir', dir, '--ts')).toMatchObject({ code: 0 })
      expect(readdirSync(dir).filter((f) => f.includes('h4_more'))).toEqual([expect.stringMatching(/_create_h4_more\.ts$/)])
    } finally {
      rmSync(project, { recursive: true })
    }
  })
})

describe('a .ts migration in a CommonJS project', () => {
  it('fails to load under the installed command, and the command says why and what to do', () => {
    const project = mkdtempSync(join(tmpdir(), 'h4-cjs-ts-'))
    try {
      writeFileSync(join(project, 'package.json'), '{ "name": "app", "private": true }\n')
      mkdirSync(join(project, 'node_modules'))
      symlinkSync(root, join(project, 'node_modules', 'recordkit'), 'dir')
      symlinkSync(join(root, 'node_modules', 'fp-ts'), join(project, 'node_modules', 'fp-ts'), 'dir')
      mkdirSync(join(project, 'migrations'))
      writeFileSync(join(project, 'migrations', '001_a.ts'), [
        "import { pipe } from 'fp-ts/lib/function.js'",
        "import type { Backend } from 'recordkit'",
        "import { apply, column, createTable, dropTable } from 'recordkit/schema'",
        "export const up = (db: Backend) => apply(db, pipe(createTable('h4_a'), column('id', 'integer', { primaryKey: true })))",
        "export const down = (db: Backend) => apply(db, dropTable('h4_a'))",
        '',
      ].join('\n'))
      // As the installed bin runs: recordkit's command loads its own code, and registers tsx's
      // ES module hooks only when a migration is TypeScript (here the command's sources need
      // them first, which is the same registration).
      const runner = [
        `const api = await import(${JSON.stringify(tsxEsmApi)})`,
        'api.register()',
        `const { main } = await import(${JSON.stringify(join(root, 'src', 'cli.ts'))})`,
        "process.exitCode = await main(['migrate', 'up', '--url', 'sqlite:./app.db'])",
      ].join('\n')
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', runner], { cwd: project, encoding: 'utf8', timeout: 60_000, env: { ...process.env, RECORDKIT_URL: '' } })
      expect(r.status).toBe(1)
      expect(r.stderr).toContain('recordkit: cannot load migration 001_a.ts:')
      expect(r.stderr).toContain('  001_a.ts is loaded as CommonJS: the package.json nearest to it has no "type": "module", and recordkit is an ES module package. Rename it to 001_a.mts, or add "type": "module" to that package.json.\n')
    } finally {
      rmSync(project, { recursive: true })
    }
  })
})

describe('introspect leaves out the history table', () => {
  it('--table NAME: the history table migrate used under that name gets no model', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'h4-introspect-'))
    try {
      const url = `sqlite:${join(dir, 'app.db')}`
      expect(await call('migrate', 'up', '--dir', join(root, 'examples', 'migrations'), '--url', url, '--table', 'h4_history')).toMatchObject({ code: 0 })
      const withTable = await call('introspect', '--url', url, '--table', 'h4_history')
      expect(withTable.code).toBe(0)
      expect(withTable.out).toContain("table: 'artists'")
      expect(withTable.out).not.toContain('h4_history')
      // Without --table it is a table like any other.
      expect((await call('introspect', '--url', url)).out).toContain("table: 'h4_history'")
    } finally {
      rmSync(dir, { recursive: true })
    }
  })
})

describe('progress and usage lines', () => {
  it('counts the statements that changed the database apart from the catalog reads that planned them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'h4-progress-'))
    try {
      const url = `sqlite:${join(dir, 'app.db')}`
      const r = await call('migrate', 'up', '--dir', join(root, 'examples', 'migrations'), '--url', url)
      expect(r.code).toBe(0)
      // create_artists: one CREATE TABLE, nothing read.
      expect(r.out).toMatch(/up {4}20240101000000_create_artists \.\.\. done in \d+ ms \(1 statement\)\n/)
      // album_price: SQLite rebuilds the table, planned from the catalog.
      expect(r.out).toMatch(/up {4}20240103000000_album_price \.\.\. done in \d+ ms \(\d+ statements?, \d+ reads\)\n/)
    } finally {
      rmSync(dir, { recursive: true })
    }
  })

  it('a usage mistake in a subcommand points at its help', async () => {
    expect(await call('migrate', 'down', '--steps', '0', '--url', 'sqlite::memory:'))
      .toEqual({ code: 2, out: '', err: 'recordkit: --steps takes a whole number of at least 1, got "0"\nRun "recordkit migrate down --help" for usage.\n' })
    expect(await call('migrate', 'status', '--json', '--url', 'sqlite::memory:'))
      .toEqual({ code: 2, out: '', err: 'recordkit: migrate status does not take --json\nRun "recordkit migrate status --help" for usage.\n' })
    expect(await call('migrate')).toMatchObject({ code: 2, err: 'recordkit: migrate needs a subcommand\nRun "recordkit --help" for usage.\n' })
  })
})
