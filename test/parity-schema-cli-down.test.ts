/**
 * `recordkit migrate down --all` reverts every applied migration; a migration without down()
 * among those it would revert stops it before anything is reverted, and it says which.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { main } from '../src/cli.js'
import { migrationDir } from './support/migration-kit.js'

const root = fileURLToPath(new URL('..', import.meta.url))

const call = async (...argv: string[]): Promise<{ code: number; out: string; err: string }> => {
  let out = ''
  let err = ''
  const code = await main(argv, { out: (t) => { out += t }, err: (t) => { err += t }, env: {}, cwd: root })
  return { code, out, err }
}

describe('recordkit migrate down --all', () => {
  let folder: string
  let url: string
  beforeEach(() => {
    folder = mkdtempSync(join(tmpdir(), 'parity-cli-down-'))
    url = `sqlite:${join(folder, 'app.db')}`
  })
  afterEach(() => rmSync(folder, { recursive: true, force: true }))

  it('reverts every applied migration', async () => {
    const dir = migrationDir({
      '001_a': `export const up = (db) => steps(db, [sql.raw('CREATE TABLE a (n integer)')])\nexport const down = (db) => steps(db, [sql.raw('DROP TABLE a')])`,
      '002_b': `export const up = (db) => steps(db, [sql.raw('CREATE TABLE b (n integer)')])\nexport const down = (db) => steps(db, [sql.raw('DROP TABLE b')])`,
    })
    expect((await call('migrate', 'up', '--url', url, '--dir', dir)).code).toBe(0)
    const down = await call('migrate', 'down', '--all', '--url', url, '--dir', dir)
    expect(down.out).toContain('Reverted 2 migrations.')
    expect(down.code).toBe(0)
    const status = await call('migrate', 'status', '--url', url, '--dir', dir)
    expect(status.out).toContain('0 applied, 2 pending')
    rmSync(dir, { recursive: true, force: true })
  })

  it('stops before reverting anything when one has no down(), and refuses --all with --steps', async () => {
    const dir = migrationDir({
      '001_a': `export const up = (db) => steps(db, [sql.raw('CREATE TABLE a (n integer)')])`,
      '002_b': `export const up = (db) => steps(db, [sql.raw('CREATE TABLE b (n integer)')])\nexport const down = (db) => steps(db, [sql.raw('DROP TABLE b')])`,
    })
    expect((await call('migrate', 'up', '--url', url, '--dir', dir)).code).toBe(0)
    const down = await call('migrate', 'down', '--all', '--url', url, '--dir', dir)
    expect(down.code).toBe(1)
    expect(down.err).toContain('migration 001_a has no down(), so it cannot be reverted: nothing was reverted (to revert 002_b alone, give steps: 1)')
    const both = await call('migrate', 'down', '--all', '--steps', '1', '--url', url, '--dir', dir)
    expect(both.code).toBe(2)
    expect(both.err).toContain('migrate down takes one of --steps, --to and --all')
    const status = await call('migrate', 'status', '--url', url, '--dir', dir)
    expect(status.out).toContain('2 applied, 0 pending')
    rmSync(dir, { recursive: true, force: true })
  })
})

describe('recordkit migrate to NAME', () => {
  let folder: string
  let url: string
  beforeEach(() => {
    folder = mkdtempSync(join(tmpdir(), 'parity-cli-to-'))
    url = `sqlite:${join(folder, 'app.db')}`
  })
  afterEach(() => rmSync(folder, { recursive: true, force: true }))

  it('reverts the migrations after NAME, then applies those pending up to it', async () => {
    const dir = migrationDir({
      '001_a': `export const up = (db) => steps(db, [sql.raw('CREATE TABLE a (n integer)')])\nexport const down = (db) => steps(db, [sql.raw('DROP TABLE a')])`,
      '002_b': `export const up = (db) => steps(db, [sql.raw('CREATE TABLE b (n integer)')])\nexport const down = (db) => steps(db, [sql.raw('DROP TABLE b')])`,
      '003_c': `export const up = (db) => steps(db, [sql.raw('CREATE TABLE c (n integer)')])\nexport const down = (db) => steps(db, [sql.raw('DROP TABLE c')])`,
    })
    const up = await call('migrate', 'to', '002_b', '--url', url, '--dir', dir)
    expect(up.out).toContain('Reverted 0 migrations, applied 2 migrations: the database is at 002_b.')
    expect(up.code).toBe(0)
    expect((await call('migrate', 'up', '--url', url, '--dir', dir)).code).toBe(0)
    const down = await call('migrate', 'to', '001_a', '--url', url, '--dir', dir)
    expect(down.out).toContain('Reverted 2 migrations, applied 0 migrations: the database is at 001_a.')
    expect((await call('migrate', 'to', '001_a', '--url', url, '--dir', dir)).out).toContain('Nothing to do: the database is at 001_a.')
    expect((await call('migrate', 'status', '--url', url, '--dir', dir)).out).toContain('1 applied, 2 pending')
    const none = await call('migrate', 'to', '--url', url, '--dir', dir)
    expect(none.code).toBe(2)
    expect(none.err).toContain('migrate to needs the NAME of a migration')
    rmSync(dir, { recursive: true, force: true })
  })
})
