/**
 * Migrations on MariaDB run in a transaction of their own: a migration of DML alone is all or
 * nothing, as on PostgreSQL. A DDL statement commits what ran before it (the server's implicit
 * commit); the transaction is begun again after it, so what runs after the last DDL statement
 * still rolls back, and the error says which statements stay applied and which were rolled back,
 * naming DDL only when the migration ran some.
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type Backend, connect, dbError, sql } from 'recordkit'
import { mysql } from 'recordkit/dialects/mysql'
import { mysql2 } from 'recordkit/drivers/mysql2'
import { run } from 'recordkit/promise'
import { apply, type Migration, type MigrationEvent, migrateDown, migrateUp, migrationStatus, repairMigrations } from 'recordkit/schema'
import * as d from 'recordkit/schema'
import { steps } from './support/migration-kit.js'
import { MYSQL_DB, MYSQL_URL, serverAvailable } from './support/servers.js'

const available = await serverAvailable('mariadb')

const p = 'migtx_'
const table = `${p}history`
const id = (name: string) => sql.id(`${p}${name}`)

describe.skipIf(!available)('a migration on MariaDB runs in a transaction of its own', () => {
  let db: Backend
  const drop = async () => {
    for (const t of ['seed', 'made', 'other', 'history']) await run(db.execute(d.dropTable(`${p}${t}`, { ifExists: true })))
  }
  const rows = async (t: string): Promise<unknown[]> =>
    (await run(db.all<{ id: unknown }>(sql`SELECT id FROM ${id(t)} ORDER BY id`))).map((r) => r.id)
  const seed: Migration = {
    name: '001_seed',
    up: (db) => apply(db, pipe(d.createTable(`${p}seed`), d.column('id', 'integer', { primaryKey: true }))),
    down: (db) => apply(db, d.dropTable(`${p}seed`)),
  }
  const up = async (m: Migration): Promise<{ readonly message: string; readonly events: MigrationEvent[] }> => {
    const events: MigrationEvent[] = []
    const r = await migrateUp(db, [seed, m], { table, onEvent: (e) => events.push(e) })()
    if (E.isRight(r)) throw new Error(`expected ${m.name} to fail`)
    return { message: r.left.message, events }
  }
  const failedEvent = (events: readonly MigrationEvent[]) => {
    const f = events.find((e) => e.kind === 'failed')
    if (f?.kind !== 'failed') throw new Error('no failed event')
    return f
  }

  beforeAll(async () => {
    db = await run(connect(mysql2({ url: MYSQL_URL, max: 4 }), mysql))
  })
  beforeEach(async () => {
    await drop()
    expect(await run(migrateUp(db, [seed], { table }))).toEqual({ migrations: ['001_seed'] })
  })
  afterAll(async () => {
    if (db === undefined) return
    await drop()
    await run(db.close())
  })

  it('DML alone: an INSERT before a failing statement is rolled back, nothing is recorded, DDL is not mentioned', async () => {
    const m: Migration = {
      name: '002_dml',
      up: (db) => steps(db, [
        sql`INSERT INTO ${id('seed')} (id) VALUES (${1})`,
        sql`INSERT INTO ${id('seed')} (id) VALUES (${2})`,
        sql`INSERT INTO ${id('seed')} (id) VALUES (${1})`,
      ]),
    }
    const { message, events } = await up(m)
    expect(message).toBe(`migration 002_dml (up) failed: Duplicate entry '1' for key 'PRIMARY'\n  rolled back: nothing of it remains`)
    expect(failedEvent(events).rolledBack).toBe(true)
    expect(failedEvent(events).statements.map((s) => [s.ok, s.rolledBack])).toEqual([[true, true], [true, true], [false, undefined]])
    expect(await rows('seed')).toEqual([])
    // Still pending, not failed: a later run is not stopped, and applies the fixed migration.
    expect((await run(migrationStatus(db, [seed, m], { table }))).map((s) => s.state)).toEqual(['applied', 'pending'])
    const fixed: Migration = { ...m, up: (db) => steps(db, [sql`INSERT INTO ${id('seed')} (id) VALUES (${1}), (${2})`]) }
    expect(await run(migrateUp(db, [seed, fixed], { table }))).toEqual({ migrations: ['002_dml'] })
    expect(await rows('seed')).toEqual([1, 2])
  })

  it('a down migration of DML alone rolls back too, and stays applied', async () => {
    const m: Migration = {
      name: '002_down',
      up: (db) => steps(db, [sql`INSERT INTO ${id('seed')} (id) VALUES (${1})`]),
      down: (db) => steps(db, [sql`DELETE FROM ${id('seed')}`, sql`INSERT INTO ${id('nowhere')} (id) VALUES (${1})`]),
    }
    expect(await run(migrateUp(db, [seed, m], { table }))).toEqual({ migrations: ['002_down'] })
    const r = await migrateDown(db, [seed, m], { table })()
    expect(E.isLeft(r) && r.left.message).toBe(`migration 002_down (down) failed: Table '${MYSQL_DB}.${p}nowhere' doesn't exist\n  rolled back: nothing of it remains`)
    expect(await rows('seed')).toEqual([1])
    expect((await run(migrationStatus(db, [seed, m], { table }))).map((s) => s.state)).toEqual(['applied', 'applied'])
  })

  it('DML after the last DDL statement is rolled back; what the DDL committed stays, and the error says which is which', async () => {
    const m: Migration = {
      name: '002_mixed',
      up: (db) => steps(db, [
        sql`INSERT INTO ${id('seed')} (id) VALUES (${1})`,
        pipe(d.createTable(`${p}made`), d.column('id', 'integer', { primaryKey: true })),
        sql`INSERT INTO ${id('made')} (id) VALUES (${10})`,
        sql`INSERT INTO ${id('seed')} (id) VALUES (${2})`,
        sql`INSERT INTO ${id('made')} (id) VALUES (${10})`,
      ]),
    }
    const { message, events } = await up(m)
    expect(message).toBe([
      "migration 002_mixed (up) failed: Duplicate entry '10' for key 'PRIMARY'",
      '  2 of its statements ran and stay applied:',
      `    1. INSERT INTO \`${p}seed\` (id) VALUES (?) -- params: [1]`,
      `    2. CREATE TABLE \`${p}made\` (\`id\` INT NOT NULL PRIMARY KEY)`,
      '  the 2 statements after them rolled back (mariadb commits at each DDL statement):',
      `    3. INSERT INTO \`${p}made\` (id) VALUES (?) -- params: [10]`,
      `    4. INSERT INTO \`${p}seed\` (id) VALUES (?) -- params: [2]`,
    ].join('\n'))
    expect(failedEvent(events).rolledBack).toBe(false)
    expect(await rows('seed')).toEqual([1])
    expect(await rows('made')).toEqual([])
    const state = (await run(migrationStatus(db, [seed, m], { table })))[1]
    expect(state.state).toBe('failed')
    expect(state.statements?.map((s) => [s.ok, s.rolledBack ?? false])).toEqual([[true, false], [true, false], [true, true], [true, true], [false, false]])
    const again = await migrateUp(db, [seed, m], { table })()
    expect(E.isLeft(again) && again.left.message).toMatch(/^migration 002_mixed failed part way on mariadb, which does not roll back DDL \(/)
    expect(await run(repairMigrations(db, { table }))).toEqual(['002_mixed'])
  })

  it('a failing DDL statement commits what ran before it (asked of the server): it stays', async () => {
    const m: Migration = {
      name: '002_bad_ddl',
      up: (db) => steps(db, [
        sql`INSERT INTO ${id('seed')} (id) VALUES (${1})`,
        sql`ALTER TABLE ${id('nowhere')} ADD COLUMN x INT`,
      ]),
    }
    const { message } = await up(m)
    expect(message).toBe([
      `migration 002_bad_ddl (up) failed: Table '${MYSQL_DB}.${p}nowhere' doesn't exist`,
      '  1 of its statements ran and stay applied:',
      `    1. INSERT INTO \`${p}seed\` (id) VALUES (?) -- params: [1]`,
    ].join('\n'))
    expect(await rows('seed')).toEqual([1])
    const again = await migrateUp(db, [seed, m], { table })()
    // The statement that ran is DML: the DDL that committed it failed, and is not named as run.
    expect(E.isLeft(again) && again.left.message).toMatch(/^migration 002_bad_ddl failed part way on mariadb, with statements of it committed \(/)
    expect(await run(repairMigrations(db, { table }))).toEqual(['002_bad_ddl'])
  })

  it('another statement that commits (ANALYZE TABLE) keeps what ran before it, without a word of DDL', async () => {
    const m: Migration = {
      name: '002_analyze',
      up: (db) => steps(db, [
        sql`INSERT INTO ${id('seed')} (id) VALUES (${1})`,
        sql`ANALYZE TABLE ${id('seed')}`,
        sql`INSERT INTO ${id('seed')} (id) VALUES (${2})`,
        sql`INSERT INTO ${id('seed')} (id) VALUES (${2})`,
      ]),
    }
    const { message } = await up(m)
    expect(message).not.toMatch(/DDL/)
    expect(message).toBe([
      "migration 002_analyze (up) failed: Duplicate entry '2' for key 'PRIMARY'",
      '  2 of its statements ran and stay applied:',
      `    1. INSERT INTO \`${p}seed\` (id) VALUES (?) -- params: [1]`,
      `    2. ANALYZE TABLE \`${p}seed\``,
      '  the statement after them rolled back:',
      `    3. INSERT INTO \`${p}seed\` (id) VALUES (?) -- params: [2]`,
    ].join('\n'))
    expect(await rows('seed')).toEqual([1])
    expect(await run(repairMigrations(db, { table }))).toEqual(['002_analyze'])
  })

  it('apply (a nested transaction, a savepoint) works after DDL, and DML after it commits with the migration', async () => {
    const m: Migration = {
      name: '002_apply',
      up: (db) => async () => {
        await run(apply(db, pipe(d.createTable(`${p}made`), d.column('id', 'integer', { primaryKey: true }))))
        await run(db.execute(sql`INSERT INTO ${id('made')} (id) VALUES (${1})`))
        await run(apply(db, pipe(d.createTable(`${p}other`), d.column('id', 'integer', { primaryKey: true }))))
        return run(db.execute(sql`INSERT INTO ${id('other')} (id) VALUES (${2})`)).then(E.right)
      },
    }
    const events: MigrationEvent[] = []
    expect(await run(migrateUp(db, [seed, m], { table, onEvent: (e) => events.push(e) }))).toEqual({ migrations: ['002_apply'] })
    expect(await rows('made')).toEqual([1])
    expect(await rows('other')).toEqual([2])
    // The savepoints of the nested transactions are not among the migration's statements.
    const done = events.find((e) => e.kind === 'done')
    expect(done?.kind === 'done' && done.statements.map((s) => s.sql.split(' (')[0])).toEqual([
      `CREATE TABLE \`${p}made\``, `INSERT INTO \`${p}made\``, `CREATE TABLE \`${p}other\``, `INSERT INTO \`${p}other\``,
    ])
  })

  it('a nested transaction that fails after its DDL rolls back its own DML, and the migration goes on', async () => {
    const m: Migration = {
      name: '002_nested',
      up: (db) => async () => {
        const inner = await db.transaction((sp) => async () => {
          await run(sp.execute(pipe(d.createTable(`${p}made`), d.column('id', 'integer', { primaryKey: true }))))
          await run(sp.execute(sql`INSERT INTO ${id('made')} (id) VALUES (${1})`))
          return E.left(dbError('QueryError', 'give up the nested part'))
        })()
        expect(E.isLeft(inner)).toBe(true)
        return run(db.execute(sql`INSERT INTO ${id('made')} (id) VALUES (${2})`)).then(E.right)
      },
    }
    expect(await run(migrateUp(db, [seed, m], { table }))).toEqual({ migrations: ['002_nested'] })
    expect(await rows('made')).toEqual([2])
  })
})
