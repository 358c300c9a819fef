/**
 * Reverting several migrations (`steps`, `to`, `all`) checks first that each can be reverted:
 * one without a `down` stops the run before anything is reverted, naming it, as an
 * irreversible migration does in other migration tools. `all` reverts every applied migration.
 */
import { rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type Backend, compose, connect, sql } from 'recordkit'
import { mysql } from 'recordkit/dialects/mysql'
import { postgres } from 'recordkit/dialects/postgres'
import { sqlite } from 'recordkit/dialects/sqlite'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'
import { mysql2 } from 'recordkit/drivers/mysql2'
import { postgresJs } from 'recordkit/drivers/postgres'
import { run } from 'recordkit/promise'
import { type Migration, migrateDown, migrateUp, migrationStatus } from 'recordkit/schema'
import { steps } from './support/migration-kit.js'
import { MYSQL_URL, PG_URL, serverAvailable } from './support/servers.js'

const pgUp = await serverAvailable('postgres')
const mariaUp = await serverAvailable('mariadb')
const file = join(tmpdir(), `parity-schema-down-${process.pid}.db`)

const p = 'psd_'
const table = `${p}history`
const migrations: readonly Migration[] = [
  { name: '001_a', up: (db) => steps(db, [sql.raw(`CREATE TABLE ${p}a (n integer)`)]), down: (db) => steps(db, [sql.raw(`DROP TABLE ${p}a`)]) },
  // Data only, and nothing to undo it with.
  { name: '002_seed', up: (db) => steps(db, [sql.raw(`INSERT INTO ${p}a (n) VALUES (1)`)]) },
  { name: '003_b', up: (db) => steps(db, [sql.raw(`CREATE TABLE ${p}b (n integer)`)]), down: (db) => steps(db, [sql.raw(`DROP TABLE ${p}b`)]) },
]
const reversible = migrations.map((m) => (m.name === '002_seed' ? { ...m, down: (db: Backend) => steps(db, [sql.raw(`DELETE FROM ${p}a`)]) } : m))

const engines: readonly (readonly [string, boolean, () => Promise<Backend>])[] = [
  ['SQLite', true, async () => compose(betterSqlite3({ filename: file }), sqlite)],
  ['PostgreSQL', pgUp, () => run(connect(postgresJs({ url: PG_URL, max: 2 }), postgres))],
  ['MariaDB', mariaUp, () => run(connect(mysql2({ url: MYSQL_URL, max: 2 }), mysql))],
]

for (const [engine, available, open] of engines) {
  describe.skipIf(!available)(`reverting several migrations on ${engine}`, () => {
    let db: Backend
    const drop = async () => {
      for (const t of ['a', 'b', 'history']) await run(db.execute(sql.raw(`DROP TABLE IF EXISTS ${p}${t}`)))
    }
    const states = async (ms: readonly Migration[]) => (await run(migrationStatus(db, ms, { table }))).map((s) => `${s.name} ${s.state}`)

    beforeAll(async () => {
      rmSync(file, { force: true })
      db = await open()
    })
    beforeEach(async () => {
      await drop()
      await run(migrateUp(db, migrations, { table }))
    })
    afterAll(async () => {
      if (db === undefined) return
      await drop()
      await run(db.close())
      rmSync(file, { force: true })
    })

    it('steps: a migration without down among them stops the run before anything is reverted', async () => {
      const r = await migrateDown(db, migrations, { table, steps: 2 })()
      expect(E.isLeft(r) && r.left._tag).toBe('ValidationError')
      expect(E.isLeft(r) && r.left.message).toBe('migrateDown: migration 002_seed has no down(), so it cannot be reverted: nothing was reverted (to revert 003_b alone, give steps: 1)')
      expect(await states(migrations)).toEqual(['001_a applied', '002_seed applied', '003_b applied'])
      // 003_b's table is still there.
      expect(await run(db.all(sql.raw(`SELECT n FROM ${p}b`)))).toEqual([])
    })

    it('to: the same check, over every migration after the name', async () => {
      const r = await migrateDown(db, migrations, { table, to: '001_a' })()
      expect(E.isLeft(r) && r.left.message).toBe('migrateDown: migration 002_seed has no down(), so it cannot be reverted: nothing was reverted (to revert 003_b alone, give steps: 1)')
      expect(await states(migrations)).toEqual(['001_a applied', '002_seed applied', '003_b applied'])
    })

    it('the last one without down: nothing can be reverted, and it says so', async () => {
      await run(migrateDown(db, migrations, { table, steps: 1 }))
      const r = await migrateDown(db, migrations, { table, steps: 1 })()
      expect(E.isLeft(r) && r.left.message).toBe('migrateDown: migration 002_seed has no down(), so it cannot be reverted: nothing was reverted')
      expect(await states(migrations)).toEqual(['001_a applied', '002_seed applied', '003_b pending'])
    })

    it('all: reverts every applied migration, newest first', async () => {
      expect(await run(migrateDown(db, reversible, { table, all: true }))).toEqual({ migrations: ['003_b', '002_seed', '001_a'] })
      expect(await states(reversible)).toEqual(['001_a pending', '002_seed pending', '003_b pending'])
      expect(await run(migrateDown(db, reversible, { table, all: true }))).toEqual({ migrations: [] })
    })

    it('all: checked first too, and taken with neither steps nor to', async () => {
      const r = await migrateDown(db, migrations, { table, all: true })()
      expect(E.isLeft(r) && r.left.message).toBe('migrateDown: migration 002_seed has no down(), so it cannot be reverted: nothing was reverted (to revert 003_b alone, give steps: 1)')
      const both = await migrateDown(db, reversible, { table, all: true, steps: 1 })()
      expect(E.isLeft(both) && both.left.message).toBe('migrateDown: give one of steps, to and all')
      expect(await states(migrations)).toEqual(['001_a applied', '002_seed applied', '003_b applied'])
    })
  })
}
