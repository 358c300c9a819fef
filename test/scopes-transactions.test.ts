/**
 * Transactions as a user coming from Kysely, Knex or Sequelize uses them, on SQLite, PostgreSQL
 * and MariaDB: nesting three deep with a failure at each level, callbacks that throw instead of
 * returning a Left, rejected Promises through the Promise adapter, the outer backend used inside
 * a callback, concurrent transactions on the pool, a transaction after close, isolation levels
 * and read-only transactions. Rows are read back from the real databases.
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { compose, createBackend, dbError, isDbError, promised, retry, run, sql, wrap, type Backend, type DbError } from 'recordkit'
import { sqlite } from 'recordkit/dialects/sqlite'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'
import { insertInto, values } from 'recordkit/query'
import { ENGINES, engineTables, type Engine } from './support/engine-tables.js'
import { MYSQL_URL, PG_URL } from './support/servers.js'

const T = 'h1_tx'

const insert = (n: number) => pipe(insertInto(T), values({ n }))
const rows = async (db: Backend): Promise<number[]> =>
  (await run(db.all<{ n: number }>(sql`SELECT n FROM ${sql.id(T)} ORDER BY n`))).map((r) => Number(r.n))

const ddl = (name: string): string[] => [
  name === 'mariadb' ? `CREATE TABLE ${T} (n INTEGER NOT NULL PRIMARY KEY) ENGINE=InnoDB` : `CREATE TABLE ${T} (n INTEGER NOT NULL PRIMARY KEY)`,
]

const refused = (msg: string): DbError => dbError('CheckViolation', msg)

/**
 * Three levels, inserting 1 (level 1), 2 (level 2), 3 (level 3); `failAt` makes that level's
 * callback fail after its insert; `catchAt` makes that level recover from the failure of the
 * level inside it.
 */
const levels = (db: Backend, failAt: number | undefined, catchAt: number | undefined): TE.TaskEither<DbError, unknown> => {
  const level = (tx: Backend, depth: number): TE.TaskEither<DbError, unknown> => pipe(
    tx.execute(insert(depth)),
    TE.chain(() => (depth === 3 ? TE.right(undefined) : pipe(
      tx.transaction((inner) => level(inner, depth + 1)),
      TE.orElse((e) => (catchAt === depth ? TE.right(undefined) : TE.left(e))),
    ))),
    TE.chain(() => (failAt === depth ? TE.left(refused(`level ${depth} fails`)) : TE.right(undefined))),
  )
  return db.transaction((tx) => level(tx, 1))
}

/** A backend of the engine with a pool of its own (`max` connections; SQLite has one). */
const pooled = async (engine: Engine, max: number, sqliteDb: Backend): Promise<Backend> => {
  if (engine.name === 'sqlite') return sqliteDb
  return run(engine.name === 'postgres'
    ? createBackend({ engine: 'postgres', url: PG_URL, max })
    : createBackend({ engine: 'mariadb', url: MYSQL_URL.replace(/^mysql:/, 'mariadb:'), max }))
}

for (const engine of ENGINES) {
  describe(`transactions as users of other ORMs use them (${engine.name})`, () => {
    const { use } = engineTables(engine, [T], ddl)

    it('three deep: a failure at each level undoes that level and those inside it', async (ctx) => {
      const db = use(ctx)
      // The innermost fails and level 2 recovers: 1 and 2 stay.
      expect(E.isRight(await levels(db, 3, 2)())).toBe(true)
      expect(await rows(db)).toEqual([1, 2])
      await run(db.execute(sql`DELETE FROM ${sql.id(T)}`))
      // Level 2 fails (after level 3 committed its savepoint) and level 1 recovers: only 1 stays.
      expect(E.isRight(await levels(db, 2, 1)())).toBe(true)
      expect(await rows(db)).toEqual([1])
      await run(db.execute(sql`DELETE FROM ${sql.id(T)}`))
      // Level 1 fails: nothing stays, and the error is the caller's own.
      const top = await levels(db, 1, undefined)()
      expect(E.isLeft(top) && top.left.message).toBe('level 1 fails')
      expect(await rows(db)).toEqual([])
      // The innermost fails and nobody recovers: the whole transaction rolls back with its error.
      const all = await levels(db, 3, undefined)()
      expect(E.isLeft(all) && all.left.message).toBe('level 3 fails')
      expect(await rows(db)).toEqual([])
    })

    it('a callback that throws, at any depth, rolls back and is a Left carrying what it threw', async (ctx) => {
      const db = use(ctx)
      const boom = new Error('boom')
      const sync = await db.transaction(() => { throw boom })()
      expect(E.isLeft(sync) && sync.left._tag).toBe('TransactionError')
      expect(E.isLeft(sync) && sync.left.cause).toBe(boom)
      const late = await db.transaction((tx) => async () => {
        await run(tx.execute(insert(1)))
        throw boom
      })()
      expect(E.isLeft(late) && late.left.cause).toBe(boom)
      const deep = await db.transaction((tx) => pipe(
        tx.execute(insert(2)),
        TE.chain(() => tx.transaction((sp) => pipe(sp.execute(insert(3)), TE.chain(() => { throw boom })))),
      ))()
      expect(E.isLeft(deep) && deep.left.cause).toBe(boom)
      expect(await rows(db)).toEqual([])
      // The connection is clean afterwards: a new transaction commits.
      await run(db.transaction((tx) => tx.execute(insert(4))))
      expect(await rows(db)).toEqual([4])
    })

    it('the Promise adapter: a rejected Promise rolls back and rejects with the same error, at any depth', async (ctx) => {
      const db = promised(use(ctx))
      class Domain extends Error {}
      const thrown = new Domain('no stock')
      await expect(db.transaction(async (tx) => {
        await tx.execute(insert(1))
        return Promise.reject(thrown)
      })).rejects.toBe(thrown)
      await expect(db.transaction(async (tx) => {
        await tx.execute(insert(2))
        await tx.transaction(async (sp) => {
          await sp.execute(insert(3))
          throw thrown
        })
      })).rejects.toBe(thrown)
      // Caught inside: only the savepoint's work is undone.
      await db.transaction(async (tx) => {
        await tx.execute(insert(5))
        await tx.transaction(async (sp) => {
          await sp.execute(insert(6))
          throw thrown
        }).catch(() => undefined)
      })
      // A DbError from a statement rejects as that DbError.
      const e = await db.transaction(async (tx) => {
        await tx.execute(insert(7))
        await tx.execute(insert(7))
      }).catch((x: unknown) => x)
      expect(isDbError(e, 'UniqueViolation')).toBe(true)
      expect(await rows(db.backend)).toEqual([5])
    })

    it('the outer backend used inside a callback runs in the transaction: no deadlock, even with one connection', async (ctx) => {
      const db = await pooled(engine, 1, use(ctx))
      try {
        const seen = await run(db.transaction((tx) => async () => {
          await run(tx.execute(insert(1)))
          // Through the outer backend, not `tx`: it sees the uncommitted row and adds its own.
          await run(db.execute(insert(2)))
          const inside = await rows(db)
          // A nested transaction on the outer backend is a savepoint of this one.
          await run(db.transaction((sp) => sp.execute(insert(3))))
          return E.right(inside)
        }))
        expect(seen).toEqual([1, 2])
        expect(await rows(db)).toEqual([1, 2, 3])
        // A connection or controlled transaction asked for inside is refused, not waited for.
        const r = await run(db.transaction(() => async () => E.right([await db.connection()(), await db.startTransaction()()])))
        expect(r.map((x) => E.isLeft(x) && x.left._tag)).toEqual(['TransactionError', 'TransactionError'])
      } finally {
        if (engine.name !== 'sqlite') await run(db.close())
      }
    })

    it('concurrent transactions on the pool all commit, each whole', async (ctx) => {
      const db = await pooled(engine, 3, use(ctx))
      try {
        const results = await Promise.all(Array.from({ length: 8 }, (_, i) => db.transaction((tx) => pipe(
          tx.execute(insert(10 + i)),
          TE.chain(() => tx.transaction((sp) => sp.execute(insert(20 + i)))),
          TE.chain(() => (i % 3 === 0 ? TE.left(refused(`t${i}`)) : TE.right(i))),
        ))()))
        expect(results.map((r) => (E.isRight(r) ? r.right : r.left.message))).toEqual(['t0', 1, 2, 't3', 4, 5, 't6', 7])
        expect(await rows(db)).toEqual([11, 12, 14, 15, 17, 21, 22, 24, 25, 27])
      } finally {
        if (engine.name !== 'sqlite') await run(db.close())
      }
    })

    it('a transaction after close is a ConnectionError (BACKEND_CLOSED), and nothing runs', async (ctx) => {
      use(ctx)
      const db = (await engine.connect())!
      await run(db.close())
      let ran = false
      const r = await db.transaction((tx) => { ran = true; return tx.execute(insert(1)) })()
      expect(E.isLeft(r) && r.left._tag).toBe('ConnectionError')
      expect(E.isLeft(r) && isDbError(r.left, 'ConnectionError') && r.left.code).toBe('BACKEND_CLOSED')
      expect(ran).toBe(false)
      const c = await db.startTransaction()()
      expect(E.isLeft(c) && c.left._tag).toBe('ConnectionError')
      await expect(promised(db).transaction(async () => 1)).rejects.toMatchObject({ _tag: 'ConnectionError' })
    })

    it('isolation levels: each engine runs the levels it has', async (ctx) => {
      const db = use(ctx)
      for (const isolation of ['read committed', 'repeatable read', 'serializable'] as const) {
        const r = await db.transaction((tx) => tx.execute(insert(isolation.length)), { isolation })()
        expect({ isolation, ok: E.isRight(r) }).toEqual({ isolation, ok: true })
      }
      if (engine.name !== 'sqlite') {
        // MariaDB's SET TRANSACTION applies to the next transaction only (the session's
        // @@tx_isolation does not show it): the running transaction's own level is asked of InnoDB.
        const level = engine.name === 'postgres'
          ? sql`SELECT current_setting('transaction_isolation') AS v`
          : sql`SELECT trx_isolation_level AS v FROM information_schema.innodb_trx WHERE trx_mysql_thread_id = CONNECTION_ID()`
        const [row] = await run(db.transaction((tx) => pipe(tx.all(sql`SELECT n FROM ${sql.id(T)}`), TE.chain(() => tx.all<{ v: string }>(level))), { isolation: 'serializable' }))
        expect(String(row.v).toLowerCase().replace(/[-_]/g, ' ')).toBe('serializable')
      }
      // Options on a nested transaction are refused, not silently ignored.
      const nested = await db.transaction((tx) => tx.transaction((sp) => sp.execute(insert(99)), { isolation: 'serializable' }))()
      expect(E.isLeft(nested) && nested.left._tag).toBe('TransactionError')
    })

    it('a read-only transaction refuses a write with a clear error, and reads', async (ctx) => {
      const db = use(ctx)
      await run(db.execute(insert(1)))
      const r = await db.transaction((tx) => pipe(tx.all(sql`SELECT n FROM ${sql.id(T)}`), TE.chain(() => tx.execute(insert(2)))), { readOnly: true })()
      expect(E.isLeft(r)).toBe(true)
      const e = (r as E.Left<DbError>).left
      if (engine.name === 'sqlite') {
        expect(e._tag).toBe('UnsupportedFeature')
        expect(e.message).toContain('read-only')
      } else {
        expect(e._tag).toBe('TransactionError')
        expect(e.message.toLowerCase()).toMatch(/read.only/)
        expect(e.sql).toMatch(/^INSERT/)
        // Reads run.
        const read = await run(db.transaction((tx) => tx.all(sql`SELECT n FROM ${sql.id(T)}`), { readOnly: true }))
        expect(read.length).toBe(1)
      }
      expect(await rows(db)).toEqual([1])
    })
  })
}

for (const engine of ENGINES) {
  describe(`a reserved connection while its backend closes (${engine.name})`, () => {
    it('statements and transactions on the connection still run; close ends once it is released', async (ctx) => {
      const db = await engine.connect()
      if (db === undefined) return ctx.skip()
      await run(db.execute(sql`DROP TABLE IF EXISTS ${sql.id('h1_closing')}`))
      await run(db.execute(sql`CREATE TABLE ${sql.id('h1_closing')} (n INTEGER NOT NULL)`))
      const conn = await run(db.connection())
      const closing = db.close({ timeout: 10_000 })()
      // New work outside the connection is refused at once.
      const outside = await db.execute(sql`SELECT 1 AS one`)()
      expect(E.isLeft(outside) && outside.left._tag).toBe('ConnectionError')
      // The connection is still held: its statements, its transactions and its controlled
      // transactions run, as an open transaction's would.
      await run(conn.execute(sql`INSERT INTO ${sql.id('h1_closing')} (n) VALUES (${1})`))
      await run(conn.transaction((tx) => tx.execute(sql`INSERT INTO ${sql.id('h1_closing')} (n) VALUES (${2})`)))
      const tx = await run(conn.startTransaction())
      await run(tx.execute(sql`INSERT INTO ${sql.id('h1_closing')} (n) VALUES (${3})`))
      await run(tx.commit())
      const seen = await run(conn.all<{ n: number }>(sql`SELECT n FROM ${sql.id('h1_closing')} ORDER BY n`))
      expect(seen.map((r) => Number(r.n))).toEqual([1, 2, 3])
      await run(conn.execute(sql`DROP TABLE ${sql.id('h1_closing')}`))
      await run(conn.release())
      expect(E.isRight(await closing)).toBe(true)
    })
  })
}

describe('SQLite: waits that could deadlock end with a typed error', () => {
  it('a second backend on the same file, written inside a transaction, fails with LockTimeout after its busy timeout', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'h1-tx-'))
    const file = join(dir, 'locks.db')
    const a = compose(betterSqlite3({ filename: file, busyTimeout: 100 }), sqlite)
    const b = compose(betterSqlite3({ filename: file, busyTimeout: 100 }), sqlite)
    try {
      await run(a.execute(sql`CREATE TABLE h1_locks (n INTEGER)`))
      const r = await a.transaction((tx) => async () => {
        await run(tx.execute(sql`INSERT INTO h1_locks VALUES (1)`))
        return b.execute(sql`INSERT INTO h1_locks VALUES (2)`)()
      })()
      expect(E.isLeft(r) && r.left._tag).toBe('LockTimeout')
      expect(E.isLeft(r) && r.left.sql).toBe('INSERT INTO h1_locks VALUES (2)')
      // The first transaction rolled back with it; both backends work afterwards.
      await run(b.execute(sql`INSERT INTO h1_locks VALUES (3)`))
      expect(await run(a.all(sql`SELECT n FROM h1_locks`))).toEqual([{ n: 3 }])
    } finally {
      await run(a.close())
      await run(b.close())
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('the outer backend used outside a controlled transaction waits for it, then fails with PoolTimeout', async () => {
    const db = compose(betterSqlite3({ filename: ':memory:', acquireTimeout: 200 }), sqlite)
    const tx = await run(db.startTransaction())
    const r = await db.execute(sql`SELECT 1 AS one`)()
    expect(E.isLeft(r) && r.left._tag).toBe('PoolTimeout')
    await run(tx.commit())
    expect(await run(db.all(sql`SELECT 1 AS one`))).toEqual([{ one: 1 }])
    await run(db.close())
  })
})

for (const engine of ENGINES) {
  describe(`a callback that recovers from a failed statement (${engine.name})`, () => {
    const { use } = engineTables(engine, [T], ddl)
    const dupAfter = (tx: Backend, n: number) => pipe(
      tx.execute(insert(n)),
      TE.chain(() => tx.execute(insert(n))),
      TE.map(() => 'both'),
      TE.orElse((e) => TE.right<DbError, string>(`recovered from ${e._tag}`)),
    )

    it('never reports a commit the database did not make', async (ctx) => {
      const db = use(ctx)
      const r = await db.transaction((tx) => dupAfter(tx, 1))()
      if (engine.name === 'postgres') {
        // PostgreSQL aborts the transaction at the failed statement and answers COMMIT with a
        // ROLLBACK: that is a Left, never a Right over work that was not kept.
        expect(E.isLeft(r) && r.left._tag).toBe('TransactionError')
        expect(E.isLeft(r) && r.left.message).toContain('nothing of it was committed')
        expect(E.isLeft(r) && isDbError(r.left.cause, 'UniqueViolation')).toBe(true)
        expect(await rows(db)).toEqual([])
      } else {
        // SQLite and MariaDB undo the failed statement alone: the rest commits.
        expect(r).toEqual(E.right('recovered from UniqueViolation'))
        expect(await rows(db)).toEqual([1])
      }
      // The backend is usable afterwards, and a failure undone by a savepoint does not stop a commit.
      const ok = await db.transaction((tx) => pipe(
        tx.execute(insert(2)),
        TE.chain(() => pipe(tx.transaction((sp) => sp.execute(insert(2))), TE.map(() => undefined), TE.orElse(() => TE.right<DbError, undefined>(undefined)))),
        TE.chain(() => tx.execute(insert(3))),
      ))()
      expect(E.isRight(ok)).toBe(true)
      expect(await rows(db)).toEqual(engine.name === 'postgres' ? [2, 3] : [1, 2, 3])
    })

    it('a nested transaction that recovered from a failed statement leaves the outer one usable', async (ctx) => {
      const db = use(ctx)
      const r = await db.transaction((tx) => pipe(
        tx.execute(insert(1)),
        TE.chain(() => pipe(tx.transaction((sp) => dupAfter(sp, 2)), TE.orElse((e) => TE.right<DbError, string>(`inner failed: ${e._tag}`)))),
        TE.chainFirst(() => tx.execute(insert(3))),
      ))()
      if (engine.name === 'postgres') {
        // Its savepoint could not be released: its work is rolled back, and it reports why.
        expect(r).toEqual(E.right('inner failed: TransactionError'))
        expect(await rows(db)).toEqual([1, 3])
      } else {
        expect(r).toEqual(E.right('recovered from UniqueViolation'))
        expect(await rows(db)).toEqual([1, 2, 3])
      }
    })

    it('a controlled transaction after a failed statement: commit fails on PostgreSQL, and says so', async (ctx) => {
      const db = use(ctx)
      const tx = await run(db.startTransaction())
      await run(tx.execute(insert(1)))
      expect(E.isLeft(await tx.execute(insert(1))())).toBe(true)
      const c = await tx.commit()()
      if (engine.name === 'postgres') {
        expect(E.isLeft(c) && c.left._tag).toBe('TransactionError')
        expect(await rows(db)).toEqual([])
      } else {
        expect(E.isRight(c)).toBe(true)
        expect(await rows(db)).toEqual([1])
      }
    })
  })
}

for (const engine of ENGINES.filter((e) => e.name !== 'sqlite')) {
  describe(`a transaction that lost a deadlock (${engine.name})`, () => {
    const { use } = engineTables(engine, [T], ddl)

    /**
     * Two transactions on `on` locking rows 1 and 2 in opposite orders (a deadlock, one loses it);
     * after its second lock each goes on with `then`, given the lock's result and its own mark (3 or 4).
     */
    const collide = async (db: Backend, on: Backend, then: (tx: Backend, locked: E.Either<DbError, unknown>, mark: number) => TE.TaskEither<DbError, string>) => {
      await run(db.execute(insert(1)))
      await run(db.execute(insert(2)))
      const gate = () => {
        let open!: () => void
        const p = new Promise<void>((r) => { open = r })
        return { p, open }
      }
      const [aHolds, bHolds, bGoes] = [gate(), gate(), gate()]
      const lock = (tx: Backend, n: number) => tx.execute(sql`SELECT n FROM ${sql.id(T)} WHERE n = ${n} FOR UPDATE`)
      const side = (first: number, second: number, mark: number, held: () => void, wait: Promise<void>) => on.transaction((tx) => async () => {
        await run(lock(tx, first))
        held()
        await wait
        return then(tx, await lock(tx, second)(), mark)()
      })()
      const a = side(1, 2, 3, aHolds.open, bHolds.p)
      await aHolds.p
      const b = side(2, 1, 4, bHolds.open, bGoes.p)
      await bHolds.p
      const waiting = engine.name === 'postgres'
        ? sql`SELECT COUNT(*) AS c FROM pg_locks WHERE NOT granted`
        : sql`SELECT COUNT(*) AS c FROM information_schema.innodb_trx WHERE trx_state = 'LOCK WAIT'`
      for (let i = 0; i < 200; i++) {
        if (Number((await run(db.all<{ c: number }>(waiting)))[0].c) > 0) break
        await new Promise((r) => setTimeout(r, 10))
      }
      bGoes.open()
      return Promise.all([a, b])
    }

    it('is never reported committed when its callback recovers from the deadlock', async (ctx) => {
      const db = use(ctx)
      const results = await collide(db, db, (tx, locked, mark) => async () => {
        if (E.isRight(locked)) return E.right('locked')
        // The deadlock's loser goes on as if its transaction were still open.
        await tx.execute(insert(mark))()
        return E.right(`recovered from ${locked.left._tag}`)
      })
      const winners = results.filter((r) => E.isRight(r))
      const losers = results.filter((r): r is E.Left<DbError> => E.isLeft(r))
      expect(winners).toEqual([E.right('locked')])
      expect(losers.length).toBe(1)
      expect(losers[0].left._tag).toBe('TransactionError')
      expect(isDbError(losers[0].left.cause, 'Deadlock')).toBe(true)
      // Nothing the loser ran after the deadlock was committed: on PostgreSQL the server refuses
      // it, on MariaDB (which rolled the transaction back and would run it outside any) recordkit does.
      expect(await rows(db)).toEqual([1, 2])
    })

    it('every later statement of the transaction fails, none is committed alone, and its end reports the deadlock', async (ctx) => {
      const db = use(ctx)
      const seen: E.Either<DbError, unknown>[] = []
      const results = await collide(db, db, (tx, locked) => async () => {
        if (E.isRight(locked)) return E.right('locked')
        // The callback recovers and goes on: an insert, a batch, a savepoint, a read.
        seen.push(await tx.execute(insert(10))())
        seen.push(await tx.executeBatch(sql`INSERT INTO ${sql.id(T)} (n) VALUES (${sql.param('n')})`, [[11], [12]])())
        seen.push(await tx.transaction((sp) => sp.execute(insert(13)))())
        seen.push(await tx.all(sql`SELECT n FROM ${sql.id(T)}`)())
        return E.right(`recovered from ${locked.left._tag}`)
      })
      const losers = results.filter((r): r is E.Left<DbError> => E.isLeft(r))
      expect(losers.length).toBe(1)
      expect(losers[0].left._tag).toBe('TransactionError')
      expect(isDbError(losers[0].left.cause, 'Deadlock')).toBe(true)
      expect(seen.length).toBe(4)
      for (const r of seen) expect(E.isLeft(r)).toBe(true)
      if (engine.name === 'mariadb') {
        for (const r of seen) expect(E.isLeft(r) && r.left._tag === 'TransactionError' && isDbError(r.left.cause, 'Deadlock')).toBe(true)
        expect(E.isLeft(seen[0]) && seen[0].left.message).toMatch(/rolled this transaction back/)
      }
      expect(await rows(db)).toEqual([1, 2])
      // The backend goes on: a new transaction commits.
      await run(db.transaction((tx) => tx.execute(insert(20))))
      expect(await rows(db)).toEqual([1, 2, 20])
    })

    it('retry runs the whole transaction again when it failed at the deadlock its callback went on from', async (ctx) => {
      const db = use(ctx)
      const retried: DbError[] = []
      const retrying = wrap(db, retry({ attempts: 3, backoff: () => 5, onRetry: (e) => retried.push(e) }))
      let attempts = 0
      const results = await collide(db, retrying, (tx, _locked, mark) => async () => {
        attempts++
        // Whatever the lock answered, the callback goes on and writes.
        const w = await tx.execute(insert(mark))()
        return E.isLeft(w) ? w : E.right(`wrote ${mark}`)
      })
      expect(results.map((r) => (E.isRight(r) ? r.right : r.left._tag)).sort()).toEqual(['wrote 3', 'wrote 4'])
      expect(attempts).toBe(3)
      expect(retried.length).toBe(1)
      expect(retried[0]._tag === 'Deadlock' || (retried[0]._tag === 'TransactionError' && isDbError(retried[0].cause, 'Deadlock'))).toBe(true)
      // Each mark written once: the loser's first attempt left nothing behind.
      expect(await rows(db)).toEqual([1, 2, 3, 4])
    })
  })
}

for (const engine of ENGINES) {
  describe(`a savepoint handle that recovered from a failed statement (${engine.name})`, () => {
    const { use } = engineTables(engine, [T], ddl)

    it('release fails on PostgreSQL, its work is undone, and the transaction commits the rest', async (ctx) => {
      const db = use(ctx)
      const tx = await run(db.startTransaction())
      await run(tx.execute(insert(1)))
      const sp = await run(tx.savepoint('h1_sp'))
      await run(sp.execute(insert(2)))
      expect(E.isLeft(await sp.execute(insert(2))())).toBe(true)
      const released = await sp.release()()
      await run(tx.execute(insert(3)))
      await run(tx.commit())
      if (engine.name === 'postgres') {
        expect(E.isLeft(released) && released.left._tag).toBe('TransactionError')
        expect(await rows(db)).toEqual([1, 3])
      } else {
        expect(E.isRight(released)).toBe(true)
        expect(await rows(db)).toEqual([1, 2, 3])
      }
    })
  })
}
