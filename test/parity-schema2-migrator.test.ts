/**
 * Migrations as a migrator's users expect them (the cases Kysely's and Knex's migrator tests
 * make): up in name order whatever order they are given in, nothing to do twice, down one at a
 * time, up and down to a target, one run at a time under a lock (a second run waits, or gives up
 * at its lock timeout), and a migration that fails leaves the history and the database as they
 * were before it: those before it applied, it and those after it pending. Each case runs on
 * SQLite (a file, so two backends can share it), PostgreSQL and MariaDB.
 */
import { rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type Backend, compose, connect, type DbError, sql } from 'recordkit'
import { fails } from 'recordkit/testing'
import { mysql } from 'recordkit/dialects/mysql'
import { postgres } from 'recordkit/dialects/postgres'
import { sqlite } from 'recordkit/dialects/sqlite'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'
import { mysql2 } from 'recordkit/drivers/mysql2'
import { postgresJs } from 'recordkit/drivers/postgres'
import { run } from 'recordkit/promise'
import { type Migration, type MigrationEvent, migrateDown, migrateTo, migrateUp, migrationStatus } from 'recordkit/schema'
import { steps } from './support/migration-kit.js'
import { MYSQL_URL, PG_URL, serverAvailable } from './support/servers.js'

const pgUp = await serverAvailable('postgres')
const mariaUp = await serverAvailable('mariadb')
const file = join(tmpdir(), `parity-schema2-migrator-${process.pid}.db`)

const p = 'ps2m_'
const history = `${p}history`
const log = `${p}log`

/** `busyTimeout` (ms) is SQLite's wait for a lock held elsewhere; the servers have their own. */
const engines: readonly (readonly [string, boolean, (busyTimeout?: number) => Promise<Backend>])[] = [
  ['SQLite', true, async (busyTimeout) => compose(betterSqlite3({ filename: file, ...(busyTimeout === undefined ? {} : { busyTimeout }) }), sqlite)],
  ['PostgreSQL', pgUp, () => run(connect(postgresJs({ url: PG_URL, max: 3 }), postgres))],
  ['MariaDB', mariaUp, () => run(connect(mysql2({ url: MYSQL_URL, max: 3 }), mysql))],
]

/** `fails` of the testing kit: the DbError of a task that must fail. */
const left = fails

/** A migration that makes table `t` and writes its name in the log (which a test made first). */
const make = (name: string, t: string, options?: { readonly pauseMs?: number }): Migration => ({
  name,
  up: (db) => steps(db, [sql.raw(`CREATE TABLE ${p}${t} (n integer)`), sql.raw(`INSERT INTO ${log} (name) VALUES ('${name}')`)], options),
  down: (db) => steps(db, [sql.raw(`DROP TABLE ${p}${t}`), sql.raw(`DELETE FROM ${log} WHERE name = '${name}'`)]),
})
const TABLES = ['a', 'b', 'c', 'd']
const [a, b, c] = [make('001_a', 'a'), make('002_b', 'b'), make('003_c', 'c')]

for (const [engine, available, open] of engines) {
  describe.skipIf(!available)(`the migrator on ${engine}`, () => {
    let db: Backend
    const opened: Backend[] = []
    const another = async (busyTimeout?: number) => {
      const o = await open(busyTimeout)
      opened.push(o)
      return o
    }
    const drop = async () => {
      for (const t of [...TABLES, 'history', 'log']) await run(db.execute(sql.raw(`DROP TABLE IF EXISTS ${p}${t}`)))
    }
    const applied = async (on: Backend = db) =>
      (await run(migrationStatus(on, [a, b, c], { table: history }))).filter((s) => s.state === 'applied').map((s) => s.name)
    const logged = async () => (await run(db.all<{ name: string }>(sql.raw(`SELECT name FROM ${log} ORDER BY name`)))).map((r) => r.name)
    const tableExists = async (t: string) => E.isRight(await db.all(sql.raw(`SELECT 1 FROM ${p}${t} WHERE 1 = 0`))())

    beforeAll(async () => {
      rmSync(file, { force: true })
      db = await open()
    })
    beforeEach(async () => {
      await drop()
      await run(db.execute(sql.raw(`CREATE TABLE ${log} (name varchar(40))`)))
    })
    afterAll(async () => {
      for (const o of opened) await o.close()()
      if (db === undefined) return
      await drop()
      await run(db.close())
      rmSync(file, { force: true })
    })

    it('applies in name order whatever order they are given in; a second run has nothing to do', async () => {
      const events: string[] = []
      const onEvent = (e: MigrationEvent) => { if (e.kind === 'done') events.push(`${e.direction} ${e.name}`) }
      expect(await run(migrateUp(db, [c, a, b], { table: history, onEvent }))).toEqual({ migrations: ['001_a', '002_b', '003_c'] })
      expect(events).toEqual(['up 001_a', 'up 002_b', 'up 003_c'])
      expect(await logged()).toEqual(['001_a', '002_b', '003_c'])
      expect(await run(migrateUp(db, [a, b, c], { table: history }))).toEqual({ migrations: [] })
      expect(await logged()).toEqual(['001_a', '002_b', '003_c'])
    })

    it('a newly given migration is applied by the next run, alone', async () => {
      await run(migrateUp(db, [a, b], { table: history }))
      expect(await run(migrateUp(db, [a, b, c], { table: history }))).toEqual({ migrations: ['003_c'] })
      expect(await applied()).toEqual(['001_a', '002_b', '003_c'])
    })

    it('down reverts one at a time, newest first; with nothing applied it has nothing to do', async () => {
      expect(await run(migrateDown(db, [a, b, c], { table: history }))).toEqual({ migrations: [] })
      await run(migrateUp(db, [a, b, c], { table: history }))
      expect(await run(migrateDown(db, [a, b, c], { table: history }))).toEqual({ migrations: ['003_c'] })
      expect(await run(migrateDown(db, [a, b, c], { table: history }))).toEqual({ migrations: ['002_b'] })
      expect(await applied()).toEqual(['001_a'])
      expect([await tableExists('b'), await tableExists('c'), await tableExists('a')]).toEqual([false, false, true])
      expect(await logged()).toEqual(['001_a'])
    })

    it('up to a target stops there; the target is checked before anything runs', async () => {
      expect(await run(migrateUp(db, [a, b, c], { table: history, to: '002_b' }))).toEqual({ migrations: ['001_a', '002_b'] })
      const e = await left(migrateUp(db, [a, b, c], { table: history, to: '009_z' }))
      expect(e._tag).toBe('NotFound')
      expect(await applied()).toEqual(['001_a', '002_b'])
      expect(await run(migrateTo(db, [a, b, c], '003_c', { table: history }))).toMatchObject({ applied: ['003_c'], reverted: [] })
      expect(await run(migrateTo(db, [a, b, c], '001_a', { table: history }))).toMatchObject({ applied: [], reverted: ['003_c', '002_b'] })
      expect(await logged()).toEqual(['001_a'])
    })

    it('a migration that fails: those before it stay applied, it and those after it stay pending, and a later run goes on from it', async () => {
      let fail = true
      const bad: Migration = {
        name: '002_b',
        up: async (on) => {
          await run(on.execute(sql.raw(`INSERT INTO ${log} (name) VALUES ('002_b')`)))
          if (fail) throw new Error('the data was not what 002_b expected')
        },
        down: (on) => steps(on, [sql.raw(`DELETE FROM ${log} WHERE name = '002_b'`)]),
      }
      const e = await left(migrateUp(db, [a, bad, c], { table: history }))
      expect(e.message).toContain('the data was not what 002_b expected')
      expect(e.message).toContain('002_b')
      const states = await run(migrationStatus(db, [a, bad, c], { table: history }))
      expect(states.map((s) => [s.name, s.state])).toEqual([['001_a', 'applied'], ['002_b', 'pending'], ['003_c', 'pending']])
      // Its insert was rolled back with it; 003_c never ran.
      expect(await logged()).toEqual(['001_a'])
      expect(await tableExists('c')).toBe(false)
      fail = false
      expect(await run(migrateUp(db, [a, bad, c], { table: history }))).toEqual({ migrations: ['002_b', '003_c'] })
      expect(await logged()).toEqual(['001_a', '002_b', '003_c'])
    })

    it('a failing DDL migration leaves nothing of itself where DDL is transactional, and is still pending', async () => {
      const broken: Migration = {
        name: '002_b',
        up: (on) => steps(on, [sql.raw(`CREATE TABLE ${p}b (n integer)`), sql.raw(`INSERT INTO ${p}b (no_such_column) VALUES (1)`)]),
      }
      await run(migrateUp(db, [a], { table: history }))
      const e = await left(migrateUp(db, [a, broken], { table: history }))
      expect(e.message).toContain('no_such_column')
      const states = await run(migrationStatus(db, [a, broken], { table: history }))
      if (db.dialect.transactionalDdl) {
        expect(states.map((s) => [s.name, s.state])).toEqual([['001_a', 'applied'], ['002_b', 'pending']])
        expect(await tableExists('b')).toBe(false)
      } else {
        // MariaDB committed the CREATE TABLE: the run says so and keeps it as failed until repaired.
        expect(states.map((s) => [s.name, s.state])).toEqual([['001_a', 'applied'], ['002_b', 'failed']])
        expect(states[1].statements?.map((s) => [s.ok, s.rolledBack === true])).toEqual([[true, false], [false, false]])
      }
      // The failed run set the busy timeout it tried the lock without back too.
      if (engine === 'SQLite') expect(await run(db.all(sql.raw('PRAGMA busy_timeout')))).toEqual([{ timeout: 5000 }])
    })

    it('a down that fails leaves the migration applied and its table there', async () => {
      const stuck: Migration = { ...b, down: (on) => steps(on, [sql.raw(`DELETE FROM ${log} WHERE name = '002_b'`), sql.raw(`DROP TABLE ${p}no_such_table`)]) }
      await run(migrateUp(db, [a, stuck], { table: history }))
      const e = await left(migrateDown(db, [a, stuck], { table: history }))
      expect(e.message).toContain(`${p}no_such_table`)
      expect(await tableExists('b')).toBe(true)
      if (db.dialect.transactionalDdl) {
        expect(await applied()).toEqual(['001_a', '002_b'])
        expect(await logged()).toEqual(['001_a', '002_b'])
      } else {
        // MariaDB commits before the DROP TABLE it is then refused: the DELETE stays, and the
        // migration is kept as failed, its statements listed, until repaired.
        const states = await run(migrationStatus(db, [a, stuck], { table: history }))
        expect(states.map((s) => [s.name, s.state, s.direction])).toEqual([['001_a', 'applied', undefined], ['002_b', 'failed', 'down']])
        expect(states[1].statements?.map((s) => s.ok)).toEqual([true, false])
        expect(await logged()).toEqual(['001_a'])
      }
    })

    it('two runs at once on two backends: each migration runs once, and both runs end', async () => {
      // The SQLite backends keep the driver's 5 s busy timeout: the migrator waits for the lock
      // between tries of its own (see below), so neither run's wait blocks the other's pauses.
      const [one, other] = [await another(), await another()]
      const slow = [make('001_a', 'a', { pauseMs: 150 }), make('002_b', 'b', { pauseMs: 150 }), make('003_c', 'c', { pauseMs: 150 })]
      const [r1, r2] = await Promise.all([run(migrateUp(one, slow, { table: history })), run(migrateUp(other, slow, { table: history }))])
      expect([...r1.migrations, ...r2.migrations].sort()).toEqual(['001_a', '002_b', '003_c'])
      expect(await logged()).toEqual(['001_a', '002_b', '003_c'])
      expect(await applied(other)).toEqual(['001_a', '002_b', '003_c'])
    })

    // On SQLite the lock is BEGIN IMMEDIATE, whose own wait (the driver's busy timeout, 5 s by
    // default) blocks the thread: the migrator tries it without that wait and waits between
    // tries itself, so its lockTimeout is kept and the process goes on meanwhile.
    const lockTimeoutKept = (busyTimeout?: number) => async () => {
      const other = await another(busyTimeout)
      const slow = make('001_a', 'a', { pauseMs: 3000 })
      const first = run(migrateUp(db, [slow], { table: history }))
      await new Promise((r) => setTimeout(r, 400))
      const started = Date.now()
      const e = await left(migrateUp(other, [slow, b], { table: history, lockTimeout: 1 }))
      const waited = Date.now() - started
      expect(e._tag).toBe('LockTimeout')
      expect(await first).toEqual({ migrations: ['001_a'] })
      expect(await logged()).toEqual(['001_a'])
      expect(await applied()).toEqual(['001_a'])
      expect(waited).toBeLessThan(2500)
      // The busy timeout the migrator set to 0 for its tries is the backend's own again.
      if (engine === 'SQLite') expect(await run(other.all(sql.raw('PRAGMA busy_timeout')))).toEqual([{ timeout: busyTimeout ?? 5000 }])
    }
    it('a run that cannot get the lock within its lockTimeout gives up with LockTimeout, having run nothing', lockTimeoutKept())
    it('the same with a short SQLite busy timeout, which the lock timeout then keeps', lockTimeoutKept(200))

    it('while a run waits for the lock, the process goes on: timers fire and another backend answers', async () => {
      const other = await another()
      const third = await another()
      const slow = make('001_a', 'a', { pauseMs: 1500 })
      const first = run(migrateUp(db, [slow], { table: history }))
      await new Promise((r) => setTimeout(r, 300))
      let ticks = 0
      const timer = setInterval(() => { ticks++ }, 50)
      const waiting: number[] = []
      const second = left(migrateUp(other, [slow, b], { table: history, lockTimeout: 1, onEvent: (ev) => { if (ev.kind === 'waiting') waiting.push(ev.attempt) } }))
      // A read on a third backend while the second run waits: answered before the wait ends.
      await new Promise((r) => setTimeout(r, 200))
      const readAt = Date.now()
      expect(await run(third.all(sql.raw(`SELECT COUNT(*) AS n FROM ${log}`)))).toHaveLength(1)
      const readMs = Date.now() - readAt
      const e = await second
      clearInterval(timer)
      expect(await first).toEqual({ migrations: ['001_a'] })
      expect(e._tag).toBe('LockTimeout')
      // About 20 ticks in the second run's 1 s wait; none if the wait blocked the thread.
      expect(ticks).toBeGreaterThanOrEqual(8)
      expect(readMs).toBeLessThan(500)
      expect(await applied(other)).toEqual(['001_a'])
      if (engine === 'SQLite') {
        // The run tried again and again (the servers wait in one statement), told once a second;
        // the waiting backend's busy timeout is its own again (the driver's 5 s).
        expect(waiting[0]).toBe(1)
        expect(waiting.length).toBeLessThanOrEqual(3)
        expect(await run(other.all(sql.raw('PRAGMA busy_timeout')))).toEqual([{ timeout: 5000 }])
      }
      expect(await run(migrateUp(other, [slow, b], { table: history, lockTimeout: 1 }))).toEqual({ migrations: ['002_b'] })
      expect(await logged()).toEqual(['001_a', '002_b'])
      if (engine === 'SQLite') expect(await run(other.all(sql.raw('PRAGMA busy_timeout')))).toEqual([{ timeout: 5000 }])
    })

    it('two migrations of one name are refused before anything runs', async () => {
      const e = await left(migrateUp(db, [a, make('001_a', 'd')], { table: history }))
      expect(e._tag).toBe('ValidationError')
      expect(e.message).toBe('two migrations are named 001_a: nothing was run')
      expect(await logged()).toEqual([])
    })

    it('reading the status creates nothing: every migration pending, and no history table made', async () => {
      expect((await run(migrationStatus(db, [a, b], { table: history }))).map((s) => s.state)).toEqual(['pending', 'pending'])
      expect(await tableExists('history')).toBe(false)
    })

    it('a migration that recovers from a failure in a nested transaction of its own is applied, without the undone work', async () => {
      const careful: Migration = {
        name: '002_b',
        up: async (on) => {
          await run(on.execute(sql.raw(`INSERT INTO ${log} (name) VALUES ('002_b')`)))
          const r = await on.transaction((tx) => pipe(
            tx.execute(sql.raw(`INSERT INTO ${log} (name) VALUES ('undone')`)),
            TE.chain(() => tx.execute(sql.raw(`INSERT INTO ${p}no_such_table VALUES (1)`))),
          ))()
          expect(E.isLeft(r)).toBe(true)
        },
      }
      expect(await run(migrateUp(db, [a, careful], { table: history }))).toEqual({ migrations: ['001_a', '002_b'] })
      expect(await logged()).toEqual(['001_a', '002_b'])
      expect(await applied()).toEqual(['001_a', '002_b'])
    })

    it('a migration whose up returns neither a TaskEither nor a Promise is a ValidationError naming it, and stays pending', async () => {
      const sync: Migration = { name: '002_b', up: (() => undefined) as unknown as Migration['up'] }
      const e = await left(migrateUp(db, [a, sync], { table: history }))
      expect(e._tag).toBe('ValidationError')
      expect(e.message).toContain('002_b')
      expect(await applied()).toEqual(['001_a'])
    })

    it('inside a transaction of the caller: rolled back with it where DDL is transactional; refused before anything runs where it is not', async () => {
      const r = await db.transaction((tx) => pipe(
        migrateUp(tx, [a], { table: history }),
        TE.chainW(() => TE.left(new Error('the caller changes its mind'))),
      ))()
      expect(E.isLeft(r)).toBe(true)
      if (db.dialect.transactionalDdl) {
        expect(r).toEqual(E.left(new Error('the caller changes its mind')))
      } else {
        // MariaDB commits the caller's transaction at the first DDL statement: that is refused.
        const e = (r as E.Left<DbError>).left
        expect(e._tag).toBe('TransactionError')
        expect(e.message).toContain('inside a transaction')
      }
      expect((await run(migrationStatus(db, [a], { table: history }))).map((s) => s.state)).toEqual(['pending'])
      expect(await tableExists('a')).toBe(false)
      expect(await tableExists('history')).toBe(false)
      expect(await logged()).toEqual([])
    })

    it('an applied migration that is no longer given: status says missing, and up refuses before running the rest', async () => {
      await run(migrateUp(db, [a, b], { table: history }))
      const states = await run(migrationStatus(db, [a, c], { table: history }))
      expect(states.map((s) => [s.name, s.state])).toEqual([['001_a', 'applied'], ['002_b', 'missing'], ['003_c', 'pending']])
      const e = await left(migrateUp(db, [a, c], { table: history }))
      expect(e._tag).toBe('NotFound')
      expect(e.message).toContain('002_b')
      expect(await tableExists('c')).toBe(false)
    })
  })
}

describe('the migration lock on MySQL 8, as SQL text', () => {
  it('is a named lock of the session (GET_LOCK, waiting lockTimeout seconds), per database and history table', () => {
    const lock = mysql.migrationLock('recordkit_migrations', 5)
    expect(lock.scope).toBe('session')
    if (lock.scope !== 'session') return
    const text = (f: Parameters<typeof mysql.compile>[0]) => pipe(mysql.compile(f), E.map((c) => [c.sql, c.params]))
    expect(text(lock.acquire)).toEqual(E.right(["SELECT GET_LOCK(LEFT(CONCAT('recordkit:', DATABASE(), ':', ?), 64), ?) AS locked", ['recordkit_migrations', 5]]))
    expect(text(lock.release)).toEqual(E.right(["SELECT RELEASE_LOCK(LEFT(CONCAT('recordkit:', DATABASE(), ':', ?), 64)) AS released", ['recordkit_migrations']]))
  })
})
