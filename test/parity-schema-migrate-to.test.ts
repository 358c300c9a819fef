/**
 * `migrateTo` brings the database to one migration whichever side of it it stands, as a
 * migration to a version does elsewhere: the applied migrations after it are reverted (newest
 * first), then the pending ones up to it applied. `null` reverts every one.
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
import { type Migration, migrateTo, migrateUp, migrationStatus } from 'recordkit/schema'
import { steps } from './support/migration-kit.js'
import { MYSQL_URL, PG_URL, serverAvailable } from './support/servers.js'

const pgUp = await serverAvailable('postgres')
const mariaUp = await serverAvailable('mariadb')
const file = join(tmpdir(), `parity-schema-to-${process.pid}.db`)

const p = 'pst_'
const table = `${p}history`
const make = (name: string, t: string): Migration => ({
  name,
  up: (db) => steps(db, [sql.raw(`CREATE TABLE ${p}${t} (n integer)`)]),
  down: (db) => steps(db, [sql.raw(`DROP TABLE ${p}${t}`)]),
})
const migrations = [make('001_a', 'a'), make('002_b', 'b'), make('003_c', 'c')]

const engines: readonly (readonly [string, boolean, () => Promise<Backend>])[] = [
  ['SQLite', true, async () => compose(betterSqlite3({ filename: file }), sqlite)],
  ['PostgreSQL', pgUp, () => run(connect(postgresJs({ url: PG_URL, max: 2 }), postgres))],
  ['MariaDB', mariaUp, () => run(connect(mysql2({ url: MYSQL_URL, max: 2 }), mysql))],
]

for (const [engine, available, open] of engines) {
  describe.skipIf(!available)(`migrateTo on ${engine}`, () => {
    let db: Backend
    const drop = async () => {
      for (const t of ['a', 'b', 'c', 'history']) await run(db.execute(sql.raw(`DROP TABLE IF EXISTS ${p}${t}`)))
    }
    const applied = async () => (await run(migrationStatus(db, migrations, { table }))).filter((s) => s.state === 'applied').map((s) => s.name)

    beforeAll(async () => {
      rmSync(file, { force: true })
      db = await open()
    })
    beforeEach(drop)
    afterAll(async () => {
      if (db === undefined) return
      await drop()
      await run(db.close())
      rmSync(file, { force: true })
    })

    it('goes up to a pending migration, down to an applied one, and to nothing', async () => {
      expect(await run(migrateTo(db, migrations, '002_b', { table }))).toEqual({ migrations: ['001_a', '002_b'], applied: ['001_a', '002_b'], reverted: [] })
      expect(await applied()).toEqual(['001_a', '002_b'])
      expect(await run(migrateTo(db, migrations, '001_a', { table }))).toEqual({ migrations: ['002_b'], applied: [], reverted: ['002_b'] })
      expect(await applied()).toEqual(['001_a'])
      expect(await run(migrateTo(db, migrations, '001_a', { table }))).toEqual({ migrations: [], applied: [], reverted: [] })
      expect(await run(migrateTo(db, migrations, null, { table }))).toEqual({ migrations: ['001_a'], applied: [], reverted: ['001_a'] })
      expect(await applied()).toEqual([])
    })

    it('reverts what is after the name and applies what is pending before it (one applied out of order)', async () => {
      await run(migrateUp(db, [migrations[0], migrations[2]], { table }))
      expect(await run(migrateTo(db, migrations, '002_b', { table }))).toEqual({ migrations: ['003_c', '002_b'], applied: ['002_b'], reverted: ['003_c'] })
      expect(await applied()).toEqual(['001_a', '002_b'])
    })

    it('refuses a name it does not know, changing nothing', async () => {
      await run(migrateUp(db, migrations, { table }))
      const r = await migrateTo(db, migrations, '004_d', { table })()
      expect(E.isLeft(r) && r.left._tag).toBe('NotFound')
      expect(E.isLeft(r) && r.left.message).toBe('no migration named 004_d')
      expect(await applied()).toEqual(['001_a', '002_b', '003_c'])
    })
  })
}
