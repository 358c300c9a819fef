/**
 * A connection lost in the middle of a multi-statement write, on PostgreSQL and MariaDB, through
 * a proxy that cuts it (see faults-proxy.ts): a createMany between its chunks, a migration
 * between its statements. Each call ends with a typed error, the database keeps what the
 * documentation says (a createMany: nothing; a migration: nothing on PostgreSQL, and on MariaDB
 * exactly the DDL the server committed, recorded as failed), and the pool serves again at once.
 */
import * as t from 'io-ts'
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Backend, connect, type DbError, sql } from 'recordkit'
import { mariadb } from 'recordkit/dialects/mysql'
import { postgres } from 'recordkit/dialects/postgres'
import { mysql2 } from 'recordkit/drivers/mysql2'
import { postgresJs } from 'recordkit/drivers/postgres'
import { model } from 'recordkit/model'
import { run } from 'recordkit/promise'
import { migrateUp, migrationStatus, repairMigrations, type Migration } from 'recordkit/schema'
import { faultProxy, type FaultProxy, holding, pastBytes } from './faults-proxy.js'
import { MYSQL_URL, PG_URL, serverAvailable } from './support/servers.js'

const ROWS = 'faults_writes_rows'
const HISTORY = 'faults_writes_history'
const MIG_A = 'faults_writes_mig_a'
const MIG_B = 'faults_writes_mig_b'

const ENGINES = [
  { name: 'PostgreSQL', url: PG_URL, up: await serverAvailable('postgres'), rows: 2500, make: (url: string) => run(connect(postgresJs({ url, max: 3 }), postgres)) },
  { name: 'MariaDB', url: MYSQL_URL, up: await serverAvailable('mariadb'), rows: 2500, make: (url: string) => run(connect(mysql2({ url, max: 3 }), mariadb)) },
] as const

const Row = model({ table: ROWS, primaryKey: 'id', codec: t.type({ id: t.number, name: t.string }) })

const left = (r: E.Either<unknown, unknown>): DbError => {
  if (E.isRight(r)) throw new Error(`expected a failure, got ${JSON.stringify(r.right).slice(0, 200)}`)
  return r.left as DbError
}

for (const engine of ENGINES) {
  describe.skipIf(!engine.up)(`${engine.name}: a connection lost in the middle of a multi-statement write`, () => {
    let proxy: FaultProxy
    let db: Backend
    let direct: Backend
    const drop = async (): Promise<void> => {
      for (const table of [ROWS, HISTORY, MIG_A, MIG_B]) await run(direct.execute(sql`DROP TABLE IF EXISTS ${sql.id(table)}`))
    }
    const count = async (table: string): Promise<number> => Number((await run(direct.all<{ n: number }>(sql`SELECT COUNT(*) AS n FROM ${sql.id(table)}`)))[0].n)
    const exists = async (table: string): Promise<boolean> =>
      (await run(direct.all(sql`SELECT table_name FROM information_schema.tables WHERE table_name = ${table} AND table_schema = ${engine.name === 'PostgreSQL' ? 'public' : 'test'}`))).length === 1

    beforeAll(async () => {
      proxy = await faultProxy(engine.url)
      direct = await engine.make(engine.url)
      await drop()
      await run(direct.execute(sql`CREATE TABLE ${sql.id(ROWS)} (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL)`))
      db = await engine.make(proxy.url(engine.url))
    })
    afterAll(async () => {
      await db?.close({ timeout: 200 })()
      await proxy?.close()
      if (direct !== undefined) await drop()
      await direct?.close()()
    })

    it('createMany cut between its chunks: a ConnectionError, nothing of it written, the next createMany whole', async () => {
      const inputs = (from: number) => Array.from({ length: engine.rows }, (_, i) => ({ id: from + i, name: `row ${from + i}` }))
      // How many bytes a whole call sends, to cut the next one half way.
      const before = proxy.sent()
      await run(Row.createMany(db, inputs(1_000_000)))
      const bytes = proxy.sent() - before
      await run(direct.execute(sql`DELETE FROM ${sql.id(ROWS)}`))
      await run(Row.createMany(db, [{ id: 1, name: 'kept' }]))
      for (const [how, returning] of [['request', true], ['answer', true], ['request', false], ['answer', false]] as const) {
        const cut = how === 'request' ? proxy.loseRequest(pastBytes(bytes / 2)) : proxy.loseAnswer(pastBytes(bytes / 2))
        const r = returning ? await Row.createMany(db, inputs(10))() : await Row.createMany(db, inputs(10), { returning: false })()
        await cut
        expect(left(r)._tag, `${how} lost, returning: ${returning}`).toBe('ConnectionError')
        expect(await count(ROWS)).toBe(1)
      }
      expect(await run(Row.createMany(db, inputs(10), { returning: false }))).toBe(engine.rows)
      expect(await count(ROWS)).toBe(engine.rows + 1)
    }, 20_000)

    it('executeBatch outside a transaction cut part way: a ConnectionError, and nothing of it changes the table after it answered', async () => {
      const sets = Array.from({ length: 300 }, (_, i) => [800_000 + i, `${i} ${'x'.repeat(2_000)}`.slice(0, 40), 'x'.repeat(2_000)])
      const insert = sql`INSERT INTO ${sql.id(ROWS)} (id, name) SELECT ${0}, ${''} WHERE ${''} <> ${'-'}`
      const compiled = db.compile(insert)
      if (E.isLeft(compiled)) throw compiled.left
      for (const how of ['request', 'answer'] as const) {
        await run(direct.execute(sql`DELETE FROM ${sql.id(ROWS)} WHERE id >= 800000`))
        const cut = how === 'request' ? proxy.loseRequest(pastBytes(200_000)) : proxy.loseAnswer(pastBytes(200_000))
        const r = await db.executeBatch(compiled.right, sets.map(([id, name, pad]) => [id, name, pad, pad]))()
        await cut
        expect(left(r)._tag).toBe('ConnectionError')
        const after = await count(ROWS)
        await new Promise((resolve) => setTimeout(resolve, 300))
        expect(await count(ROWS), 'a run of the batch changed the table after it answered').toBe(after)
        expect(await run(db.all(sql`SELECT 1 AS one`))).toEqual([{ one: 1 }])
      }
      await run(direct.execute(sql`DELETE FROM ${sql.id(ROWS)} WHERE id >= 800000`))
    })

    if (engine.name === 'PostgreSQL') it('statements sent at once on a transaction\'s connection, cut: each settles with ConnectionError, and none runs later', async () => {
      // postgres.js keeps those it has not written yet (the socket is full) in a queue of the
      // reserved connection that it never settles when the connection closes.
      const driver = postgresJs({ url: proxy.url(engine.url), max: 2 })
      try {
        for (const how of ['request', 'answer'] as const) {
          const conn = await run(driver.reserve())
          await run(conn.execute({ sql: 'BEGIN', params: [] }))
          const cut = how === 'request' ? proxy.loseRequest(pastBytes(100_000)) : proxy.loseAnswer(pastBytes(100_000))
          const big = 'x'.repeat(30_000)
          const sent = [1, 2, 3, 4, 5, 6].map((id) => conn.execute({ sql: `INSERT INTO ${ROWS} (id, name) SELECT $1::int, left($2::text, 10)`, params: [900_000 + id, big] })())
          const settled = await Promise.race([Promise.all(sent), new Promise<'pending'>((r) => setTimeout(() => r('pending'), 5_000))])
          await cut
          expect(settled, `${how} lost: a statement was left pending`).not.toBe('pending')
          const outcomes = (settled as E.Either<DbError, unknown>[]).map((r) => (E.isLeft(r) ? r.left._tag : 'ok'))
          expect(outcomes.at(-1)).toBe('ConnectionError')
          await conn.release()
          // The pool serves again, and none of the statements ran outside the transaction.
          await run(driver.execute({ sql: 'SELECT 1', params: [] }))
          await new Promise((r) => setTimeout(r, 100))
          expect(await run(direct.all(sql`SELECT id FROM ${sql.id(ROWS)} WHERE id > 900000`))).toEqual([])
        }
      } finally {
        await driver.close({ timeout: 100 })()
      }
    })

    it('a migration cut between its statements: a typed error, the history says exactly what stays, and the lock is free', async () => {
      const step: Migration = {
        name: '20260101000000_faults_writes',
        up: async (m) => {
          await run(m.execute(sql`CREATE TABLE ${sql.id(MIG_A)} (id INT PRIMARY KEY)`))
          await run(m.execute(sql`INSERT INTO ${sql.id(MIG_A)} (id) VALUES (1)`))
          await run(m.execute(sql`INSERT INTO ${sql.id(MIG_A)} (id) VALUES (424242)`))
          await run(m.execute(sql`CREATE TABLE ${sql.id(MIG_B)} (id INT PRIMARY KEY)`))
        },
      }
      const cut = proxy.loseRequest(holding('424242'))
      const e = left(await migrateUp(db, [step], { table: HISTORY })())
      await cut
      expect(e._tag).toBe('ConnectionError')
      expect(e.sql).toMatch(/424242/)
      expect(await exists(MIG_B)).toBe(false)
      const [status] = await run(migrationStatus(db, [step], { table: HISTORY }))
      if (engine.name === 'PostgreSQL') {
        // DDL is transactional: nothing of it stays, it is still pending, and runs again whole.
        expect(e.message).toMatch(/nothing of it remains/)
        expect(await exists(MIG_A)).toBe(false)
        expect(status.state).toBe('pending')
      } else {
        // MariaDB committed the CREATE TABLE; the INSERT after it was rolled back with the
        // connection (it was said to stay: the server could not be asked). The history says so.
        expect(e.message).toMatch(/1 of its statements ran and stay applied/)
        expect(await exists(MIG_A)).toBe(true)
        expect(await count(MIG_A)).toBe(0)
        expect(status.state).toBe('failed')
        expect(status.statements?.map((x) => [x.ok, x.rolledBack === true])).toEqual([[true, false], [true, true], [false, false]])
        // Put right by hand, then forgotten, it runs again.
        await run(direct.execute(sql`DROP TABLE ${sql.id(MIG_A)}`))
        await run(repairMigrations(db, { table: HISTORY }))
      }
      const applied = await run(migrateUp(db, [step], { table: HISTORY, lockTimeout: 5 }))
      expect(applied.migrations).toEqual([step.name])
      expect([await exists(MIG_A), await count(MIG_A), await exists(MIG_B)]).toEqual([true, 2, true])
    }, 20_000)
  })
}
