/**
 * `executeBatch` of a write is all or nothing: when one run fails, the runs before it (and, where
 * the driver sends them together, after it) are undone, outside a transaction too, as a failed
 * multi-row write must leave the database as it was. Inside a caller's transaction the batch is
 * part of it, and the caller decides. A batch of SELECTs opens no transaction.
 */
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { compose, connect, run, sql, statementOf, wrap, type Backend } from 'recordkit'
import { param } from 'recordkit/query'
import { mariadb } from 'recordkit/dialects/mysql'
import { postgres } from 'recordkit/dialects/postgres'
import { sqlite } from 'recordkit/dialects/sqlite'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'
import { mysql2 } from 'recordkit/drivers/mysql2'
import { postgresJs } from 'recordkit/drivers/postgres'
import { MYSQL_URL, PG_URL, serverAvailable } from './support/servers.js'

const engines = [
  { name: 'sqlite', available: true, open: async () => compose(betterSqlite3({ filename: ':memory:' }), sqlite) },
  { name: 'postgres', available: await serverAvailable('postgres'), open: () => run(connect(postgresJs({ url: PG_URL, max: 3 }), postgres)) },
  { name: 'mariadb', available: await serverAvailable('mariadb'), open: () => run(connect(mysql2({ url: MYSQL_URL, max: 3 }), mariadb)) },
] as const

for (const engine of engines) {
  describe.skipIf(!engine.available)(`executeBatch on ${engine.name}`, () => {
    let db: Backend
    const insert = sql`INSERT INTO rk_batch_aon (id, name) VALUES (${param('id')}, ${param('name')})`
    const ids = async (): Promise<number[]> => (await run(db.all<{ id: number }>(sql`SELECT id FROM rk_batch_aon ORDER BY id`))).map((r) => Number(r.id))
    beforeAll(async () => {
      db = await engine.open()
      await run(db.execute(sql`DROP TABLE IF EXISTS rk_batch_aon`))
      await run(db.execute(sql`CREATE TABLE rk_batch_aon (id INTEGER PRIMARY KEY, name VARCHAR(20) NOT NULL)`))
    })
    afterAll(async () => {
      await run(db.execute(sql`DROP TABLE IF EXISTS rk_batch_aon`))
      await run(db.close())
    })

    it('a run that fails undoes the batch, outside a transaction too: the UniqueViolation, and the table as it was', async () => {
      await run(db.execute(sql`DELETE FROM rk_batch_aon`))
      await run(db.execute(sql`INSERT INTO rk_batch_aon (id, name) VALUES (3, 'kept')`))
      const r = await db.executeBatch(insert, [[1, 'a'], [2, 'b'], [3, 'again'], [4, 'd']])()
      expect(E.isLeft(r) && r.left._tag).toBe('UniqueViolation')
      expect(await ids()).toEqual([3])
      // A NOT NULL refused in the last run alike.
      const n = await db.executeBatch(insert, [[5, 'e'], [6, null]])()
      expect(E.isLeft(n) && n.left._tag).toBe('NotNullViolation')
      expect(await ids()).toEqual([3])
    })

    it('a batch that succeeds is written whole, and its results come in order', async () => {
      await run(db.execute(sql`DELETE FROM rk_batch_aon`))
      const r = await run(db.executeBatch(insert, [[1, 'a'], [2, 'b'], [3, 'c']]))
      expect(r.map((x) => x.rowsAffected)).toEqual([1, 1, 1])
      expect(await ids()).toEqual([1, 2, 3])
    })

    it("inside a caller's transaction the batch is part of it: a failure caught there keeps what the caller keeps", async () => {
      await run(db.execute(sql`DELETE FROM rk_batch_aon`))
      const kept = await run(db.transaction((tx) => TE.fromTask(async () => {
        await run(tx.execute(sql`INSERT INTO rk_batch_aon (id, name) VALUES (10, 'first')`))
        // Inside a savepoint, so that PostgreSQL's transaction goes on after the failure.
        const failed = await tx.transaction((sp) => sp.executeBatch(insert, [[11, 'x'], [10, 'dup']]))()
        return E.isLeft(failed) ? failed.left._tag : 'no failure'
      })))
      expect(kept).toBe('UniqueViolation')
      expect(await ids()).toEqual([10])
    })

    it('a batch of SELECTs opens no transaction', async () => {
      const seen: string[] = []
      const watched = wrap(db, { execute: (next, self) => (q) => { seen.push(statementOf(self, q).sql); return next(q) } })
      await run(watched.executeBatch(sql`SELECT ${param('n')} AS n`, [[1], [2]]))
      expect(seen).toEqual([expect.stringMatching(/^SELECT/), expect.stringMatching(/^SELECT/)])
      await run(watched.executeBatch(insert, [[20, 't'], [21, 'u']]))
      expect(seen.slice(2).map((s) => s.split(' ')[0])).toEqual([expect.stringMatching(/^(BEGIN|START)$/), 'INSERT', 'INSERT', 'COMMIT'])
    })
  })
}
