/**
 * Statement and lock timeouts inside a transaction, on PostgreSQL and MariaDB, and a statement
 * cancelled from another session (pg_cancel_backend, KILL QUERY): each is a typed error
 * (StatementTimeout, LockTimeout), the statement that timed out changed nothing (a
 * multi-row UPDATE stopped part way included), and the transaction is then in the state
 * docs/queries.md gives: PostgreSQL aborts it (a callback that goes on gets a TransactionError
 * and nothing is committed; in a nested transaction only the savepoint is undone), MariaDB undoes
 * the statement alone (the transaction goes on and commits its other statements).
 *
 * The limits are set per session or per transaction (SET LOCAL, SET STATEMENT) on this file's
 * own connections; the servers are not reconfigured.
 */
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type Backend, connect, type DbError, sql } from 'recordkit'
import { mariadb } from 'recordkit/dialects/mysql'
import { postgres } from 'recordkit/dialects/postgres'
import { mysql2 } from 'recordkit/drivers/mysql2'
import { postgresJs } from 'recordkit/drivers/postgres'
import { run } from 'recordkit/promise'
import { MYSQL_URL, PG_URL, serverAvailable } from './support/servers.js'

const T = 'faults_timeouts_rows'
const t = sql.id(T)

const ENGINES = [
  {
    name: 'PostgreSQL', up: await serverAvailable('postgres'), make: () => run(connect(postgresJs({ url: PG_URL, max: 3 }), postgres)),
    // The limit for the rest of the transaction, and a statement that outlasts it.
    statementLimit: sql`SET LOCAL statement_timeout = '100ms'`, slow: sql`SELECT pg_sleep(2)`,
    lockLimit: sql`SET LOCAL lock_timeout = '100ms'`,
    session: sql`SELECT pg_backend_pid() AS id`,
    cancel: (id: number) => sql`SELECT pg_cancel_backend(${id}) AS done`,
    aborts: true,
  },
  {
    name: 'MariaDB', up: await serverAvailable('mariadb'), make: () => run(connect(mysql2({ url: MYSQL_URL, max: 3 }), mariadb)),
    statementLimit: sql`SET SESSION max_statement_time = 0.1`, slow: sql`SELECT SLEEP(2)`,
    lockLimit: sql`SET SESSION innodb_lock_wait_timeout = 1`,
    session: sql`SELECT CONNECTION_ID() AS id`,
    cancel: (id: number) => sql.raw(`KILL QUERY ${id}`),
    aborts: false,
  },
] as const

const left = (r: E.Either<unknown, unknown>): DbError => {
  if (E.isRight(r)) throw new Error(`expected a failure, got ${JSON.stringify(r.right)}`)
  return r.left as DbError
}

for (const engine of ENGINES) {
  describe.skipIf(!engine.up)(`${engine.name}: timeouts inside a transaction`, () => {
    let db: Backend
    /** Another backend, for the other session (calls on `db` inside its transaction run in it). */
    let admin: Backend
    const values = async (): Promise<[number, number][]> =>
      (await run(db.all<{ id: number; v: number }>(sql`SELECT id, v FROM ${t} ORDER BY id`))).map((r) => [Number(r.id), Number(r.v)])

    beforeAll(async () => {
      db = await engine.make()
      admin = await engine.make()
      await run(db.execute(sql`DROP TABLE IF EXISTS ${t}`))
      await run(db.execute(sql`CREATE TABLE ${t} (id INT PRIMARY KEY, v INT NOT NULL)`))
    })
    afterAll(async () => {
      await db?.execute(sql`DROP TABLE IF EXISTS ${t}`)()
      await db?.close()()
      await admin?.close()()
    })
    beforeEach(async () => {
      await run(db.execute(sql`DELETE FROM ${t}`))
      await run(db.execute(sql`INSERT INTO ${t} (id, v) VALUES (1, 0), (2, 0), (3, 0)`))
    })

    /**
     * In a transaction: write row 10, then run `failing` (which times out), go on from its
     * failure, write row 11, and end as a success. Returns the failure and the transaction's result.
     */
    const goOnAfter = async (failing: (tx: Backend) => Promise<E.Either<DbError, unknown>>, nested: boolean) => {
      let failure: DbError | undefined
      const r = await db.transaction((tx) => async () => {
        await run(tx.execute(sql`INSERT INTO ${t} (id, v) VALUES (10, 0)`))
        const f = nested ? await tx.transaction((sp) => () => failing(sp))() : await failing(tx)
        failure = left(f)
        // Going on from the failure: PostgreSQL refuses this one (the transaction is aborted).
        await tx.execute(sql`INSERT INTO ${t} (id, v) VALUES (11, 0)`)()
        return E.right('went on')
      })()
      return { failure: failure!, result: r }
    }

    /** What the transaction left, by the documented rule for a statement that failed in it. */
    const expectAfterFailure = async (result: E.Either<DbError, unknown>, failure: DbError, nested: boolean): Promise<void> => {
      const base: [number, number][] = [[1, 0], [2, 0], [3, 0]]
      if (engine.aborts && !nested) {
        const e = left(result)
        expect(e._tag).toBe('TransactionError')
        expect(e.message).toMatch(/nothing of it was committed/)
        expect(e.cause).toBe(failure)
        expect(await values()).toEqual(base)
      } else {
        expect(E.isRight(result)).toBe(true)
        expect(await values()).toEqual([...base, [10, 0], [11, 0]])
      }
      // The pool serves as before: the session's limit went with the transaction or is harmless.
      expect(await run(db.all(sql`SELECT 1 AS one`))).toEqual([{ one: 1 }])
    }

    for (const nested of [false, true]) {
      it(`a statement past its time limit${nested ? ' in a nested transaction' : ''}: StatementTimeout, then the documented state`, async () => {
        const started = performance.now()
        const { failure, result } = await goOnAfter(async (tx) => {
          await run(tx.execute(engine.statementLimit))
          return tx.execute(engine.slow)()
        }, nested)
        expect(failure._tag).toBe('StatementTimeout')
        expect(performance.now() - started).toBeLessThan(1_500)
        await expectAfterFailure(result, failure, nested)
      })

      it(`a statement cancelled from another session${nested ? ' in a nested transaction' : ''}: StatementTimeout, as a timeout, then the documented state`, async () => {
        const { failure, result } = await goOnAfter(async (tx) => {
          const id = Number((await run(tx.all<{ id: number }>(engine.session)))[0].id)
          const cancel = new Promise((r) => setTimeout(r, 200)).then(() => run(admin.execute(engine.cancel(id))))
          const r = await tx.execute(engine.slow)()
          await cancel
          return r
        }, nested)
        expect(failure._tag).toBe('StatementTimeout')
        await expectAfterFailure(result, failure, nested)
      })

      it(`a multi-row UPDATE that waits past the lock timeout${nested ? ' in a nested transaction' : ''}: LockTimeout, no row changed, then the documented state`, async () => {
        let release!: () => void
        const held = new Promise<void>((r) => { release = r })
        let locked!: () => void
        const lockedNow = new Promise<void>((r) => { locked = r })
        // Another transaction holds row 3, the last the UPDATE reaches.
        const holder = db.transaction((other) => async () => {
          await run(other.all(sql`SELECT id FROM ${t} WHERE id = 3 FOR UPDATE`))
          locked()
          await held
          return E.right(undefined)
        })()
        await lockedNow
        try {
          const { failure, result } = await goOnAfter(async (tx) => {
            await run(tx.execute(engine.lockLimit))
            return tx.execute(sql`UPDATE ${t} SET v = v + 1 WHERE id <= 3`)()
          }, nested)
          expect(failure._tag).toBe('LockTimeout')
          release()
          expect(E.isRight(await holder)).toBe(true)
          // Rows 1 and 2 were updated before the wait: undone with the statement (or the transaction).
          await expectAfterFailure(result, failure, nested)
        } finally {
          release()
          await holder
        }
      })
    }
  })
}
