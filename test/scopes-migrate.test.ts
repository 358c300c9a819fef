/**
 * Migrations run on a reserved connection (`db.connection()`) as on a backend, on SQLite,
 * PostgreSQL and MariaDB: applied, recorded statement by statement (those of a nested
 * transaction inside the migration included), reverted; and on a backend, a migration's nested
 * transactions are recorded too.
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { dbError, run, sql, type Backend } from 'recordkit'
import { migrateDown, migrateUp, migrationStatus, type Migration, type MigrationEvent } from 'recordkit/schema'
import { ENGINES } from './support/engine-tables.js'

const HISTORY = 'h1_migrations'
const T = 'h1_mig_items'

const migrations: readonly Migration[] = [
  {
    name: '001_h1_items',
    up: (db) => pipe(
      db.execute(sql`CREATE TABLE ${sql.id(T)} (n INTEGER NOT NULL)`),
      // A nested transaction inside the migration: its statement is recorded as well.
      TE.chain(() => db.transaction((tx) => tx.execute(sql`INSERT INTO ${sql.id(T)} (n) VALUES (${1})`))),
    ),
    down: (db) => db.execute(sql`DROP TABLE ${sql.id(T)}`),
  },
]

const failing: Migration = {
  name: '002_h1_fails',
  up: (db) => pipe(
    db.execute(sql`INSERT INTO ${sql.id(T)} (n) VALUES (${2})`),
    TE.chain(() => db.transaction((tx) => pipe(tx.execute(sql`INSERT INTO ${sql.id(T)} (n) VALUES (${3})`), TE.chain(() => TE.left(dbError('CheckViolation', 'h1: refused')))))),
  ),
}

const recorded = (events: readonly MigrationEvent[]): string[] =>
  events.flatMap((e) => (e.kind === 'done' || e.kind === 'failed' ? e.statements.map((s) => `${e.name}: ${s.sql.split(' (')[0]}${s.params === undefined ? '' : ` ${JSON.stringify(s.params)}`}`) : []))

const count = async (db: Backend): Promise<number[]> =>
  (await run(db.all<{ n: number }>(sql`SELECT n FROM ${sql.id(T)} ORDER BY n`))).map((r) => Number(r.n))

for (const engine of ENGINES) {
  describe(`migrations on a reserved connection (${engine.name})`, () => {
    let db: Backend | undefined
    const drop = async (d: Backend) => {
      for (const t of [HISTORY, T]) await run(d.execute(sql`DROP TABLE IF EXISTS ${sql.id(t)}`))
    }
    beforeAll(async () => {
      db = await engine.connect()
      if (db !== undefined) await drop(db)
    })
    afterAll(async () => {
      if (db === undefined) return
      await drop(db)
      await run(db.close())
    })
    beforeEach(async () => {
      if (db !== undefined) await drop(db)
    })
    const use = (ctx: { skip: () => void }): Backend => {
      if (db === undefined) ctx.skip()
      return db!
    }

    it('applies, records (nested transactions included) and reverts on a reserved connection', async (ctx) => {
      const db = use(ctx)
      const conn = await run(db.connection())
      const events: MigrationEvent[] = []
      try {
        const up = await run(migrateUp(conn, migrations, { table: HISTORY, onEvent: (e) => events.push(e) }))
        expect(up.migrations).toEqual(['001_h1_items'])
        expect(recorded(events)).toEqual([
          `001_h1_items: CREATE TABLE ${engine.name === 'mariadb' ? '`h1_mig_items`' : '"h1_mig_items"'}`,
          `001_h1_items: INSERT INTO ${engine.name === 'mariadb' ? '`h1_mig_items`' : '"h1_mig_items"'} [1]`,
        ])
        const status = await run(migrationStatus(conn, migrations, { table: HISTORY }))
        expect(status.map((s) => s.state)).toEqual(['applied'])
        // The connection is usable after the run, and what the migration did is there.
        expect(await count(conn)).toEqual([1])
        const down = await run(migrateDown(conn, migrations, { table: HISTORY }))
        expect(down.migrations).toEqual(['001_h1_items'])
      } finally {
        await conn.release()()
      }
      const status = await run(migrationStatus(db, migrations, { table: HISTORY }))
      expect(status.map((s) => s.state)).toEqual(['pending'])
    })

    it('a failing migration on a reserved connection rolls back and reports its statements', async (ctx) => {
      const db = use(ctx)
      await run(migrateUp(db, migrations, { table: HISTORY }))
      const conn = await run(db.connection())
      const events: MigrationEvent[] = []
      try {
        const r = await migrateUp(conn, [...migrations, failing], { table: HISTORY, onEvent: (e) => events.push(e) })()
        expect(E.isLeft(r) && r.left.message).toContain('h1: refused')
        const failed = events.find((e) => e.kind === 'failed')
        expect(failed?.kind === 'failed' && failed.rolledBack).toBe(true)
        expect(recorded(events).map((s) => s.replace(/[`"]/g, ''))).toEqual([
          '002_h1_fails: INSERT INTO h1_mig_items [2]',
          '002_h1_fails: INSERT INTO h1_mig_items [3]',
        ])
        expect(await count(conn)).toEqual([1])
      } finally {
        await conn.release()()
      }
      await run(migrateDown(db, migrations, { table: HISTORY }))
    })

    it('on the backend, a migration\'s nested transaction is recorded too', async (ctx) => {
      const db = use(ctx)
      const events: MigrationEvent[] = []
      await run(migrateUp(db, migrations, { table: HISTORY, onEvent: (e) => events.push(e) }))
      expect(recorded(events).map((s) => s.replace(/[`"]/g, ''))).toEqual([
        '001_h1_items: CREATE TABLE h1_mig_items',
        '001_h1_items: INSERT INTO h1_mig_items [1]',
      ])
      await run(migrateDown(db, migrations, { table: HISTORY }))
    })
  })
}
