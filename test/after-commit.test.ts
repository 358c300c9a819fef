/**
 * afterCommit on SQLite, PostgreSQL and MariaDB: callbacks queued in a transaction run after its
 * COMMIT was acknowledged, in order, before the transaction's answer; they are dropped with a
 * rollback (of the transaction, or of the savepoint they were queued in); outside a transaction
 * they run at once; a failing one leaves the transaction committed and makes the answer a
 * TransactionError with `committed: true`. The statements each engine was sent are recorded by
 * middleware, so "after COMMIT" is what the server was told, not a guess; rows are read back.
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { afterCommit, compose, dbError, isDbError, promised, run, sql, statementOf, wrap, type Backend, type DbError } from 'recordkit'
import { hookError, model, type Behaviour } from 'recordkit/model'
import { sqlite } from 'recordkit/dialects/sqlite'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'
import { shard, withReplicas } from 'recordkit/scale-out'
import { ENGINES, engineTables } from './support/engine-tables.js'

const T = 'rk_after_commit'
const ddl = (): string[] => [`CREATE TABLE ${T} (id INTEGER PRIMARY KEY, name VARCHAR(20) NOT NULL)`]

const insert = (db: Backend, id: number, name = `n${id}`) => db.execute(sql`INSERT INTO ${sql.id(T)} (id, name) VALUES (${id}, ${name})`)
const ids = async (db: Backend): Promise<number[]> =>
  (await run(db.all<{ id: number }>(sql`SELECT id FROM ${sql.id(T)} ORDER BY id`))).map((r) => Number(r.id))

const failure = async <A>(t: TE.TaskEither<DbError, A>): Promise<DbError> => {
  const r = await t()
  if (E.isRight(r)) throw new Error(`expected a failure, got ${JSON.stringify(r.right)}`)
  return r.left
}

/** Models whose `afterCommit` hooks write what they saw into `seen` (`op:name`, and the ids stored then). */
const seen: string[] = []
const noting: Behaviour<{ name: string }> = {
  name: 'noting',
  afterCommit: (row, ctx) => { seen.push(`behaviour:${ctx.op}:${row.name}`); return TE.right(row) },
}
const Item = model({
  table: T,
  primaryKey: 'id',
  codec: t.type({ id: t.number, name: t.string }),
  behaviours: [noting],
  hooks: {
    afterCommit: (row, ctx) => {
      if (row.name === 'refused') return TE.left(hookError('afterCommit', 'no mail for you'))
      seen.push(`${ctx.op}:${row.name}`)
      return TE.right(row)
    },
  },
})

/** The backend with every statement it is sent recorded in `log` (as its SQL text). */
const recorded = (db: Backend, log: string[]): Backend =>
  wrap(db, { execute: (next, self) => (q) => { log.push(statementOf(self, q).sql); return next(q) } })

for (const engine of ENGINES) {
  describe(`afterCommit on ${engine.name}`, () => {
    const { use } = engineTables(engine, [T], ddl)

    it('runs the callbacks after the COMMIT, in registration order, each awaited, before the Right', async (ctx) => {
      const base = use(ctx)
      const log: string[] = []
      const db = recorded(base, log)
      const seen: number[][] = []
      const r = await run(db.transaction((tx) => pipe(
        insert(tx, 1),
        TE.chain(() => afterCommit(tx, async () => {
          // A slow first callback: the second waits for it.
          await new Promise((resolve) => setTimeout(resolve, 20))
          log.push('cb:a')
        })),
        TE.chain(() => afterCommit(tx, () => { log.push('cb:b') })),
        // Reads through the backend, outside the transaction: the row is committed by now.
        TE.chain(() => afterCommit(tx, async () => { seen.push(await ids(base)); log.push('cb:c') })),
        TE.map(() => {
          expect(log.filter((s) => s.startsWith('cb:'))).toEqual([])
          return 'done'
        }),
      )))
      expect(r).toBe('done')
      const commit = base.dialect.commit()
      expect(log.slice(-4)).toEqual([commit, 'cb:a', 'cb:b', 'cb:c'])
      expect(seen).toEqual([[1]])
      // Queueing a callback sends nothing to the server.
      expect(log.filter((s) => !s.startsWith('cb:') && s !== commit && !s.startsWith('INSERT') && !s.startsWith('SELECT'))).toEqual(base.dialect.beginTransaction({}) as string[])
    })

    it('drops every callback when the transaction rolls back: a Left, a throw', async (ctx) => {
      const db = use(ctx)
      const ran: string[] = []
      const left = await failure(db.transaction((tx) => pipe(
        insert(tx, 1),
        TE.chain(() => afterCommit(tx, () => { ran.push('left') })),
        TE.chain(() => TE.left(dbError('NotFound', 'no such thing'))),
      )))
      expect(left._tag).toBe('NotFound')
      const thrown = await failure(db.transaction((tx) => pipe(
        afterCommit(tx, () => { ran.push('thrown') }),
        TE.chain(() => () => { throw new Error('boom') }),
      )))
      expect(thrown._tag).toBe('TransactionError')
      expect(ran).toEqual([])
      expect(await ids(db)).toEqual([])
    })

    it('drops what a rolled-back savepoint queued, keeps what a released one queued', async (ctx) => {
      const db = use(ctx)
      const ran: string[] = []
      const note = (s: string) => () => { ran.push(s) }
      await run(db.transaction((tx) => pipe(
        afterCommit(tx, note('outer-before')),
        // A nested transaction that fails: its savepoint is rolled back, with what it queued.
        TE.chain(() => pipe(
          tx.transaction((sp) => pipe(insert(sp, 1), TE.chain(() => afterCommit(sp, note('failed-nested'))), TE.chain(() => TE.left(dbError('ConflictError', 'undo'))))),
          TE.orElse((): TE.TaskEither<DbError, void> => TE.right(undefined)),
        )),
        // A named savepoint that succeeds: released, its callback kept.
        TE.chain(() => tx.savepoint('kept', (sp) => pipe(insert(sp, 2), TE.chain(() => afterCommit(sp, note('released')))))),
        // A released savepoint inside one rolled back: dropped with its enclosing savepoint.
        TE.chain(() => pipe(
          tx.transaction((outer) => pipe(
            outer.transaction((inner) => afterCommit(inner, note('inner-of-failed'))),
            TE.chain(() => TE.left(dbError('ConflictError', 'undo outer'))),
          )),
          TE.orElse((): TE.TaskEither<DbError, void> => TE.right(undefined)),
        )),
        // Through the outer `db` inside the transaction: queued on the transaction too.
        TE.chain(() => afterCommit(db, note('outer-after'))),
      )))
      expect(ran).toEqual(['outer-before', 'released', 'outer-after'])
      expect(await ids(db)).toEqual([2])
    })

    it('runs at once outside a transaction, and on a reserved connection outside one', async (ctx) => {
      const db = use(ctx)
      const ran: string[] = []
      expect(db.inTransaction()).toBe(false)
      const t = afterCommit(db, () => { ran.push('now') })
      expect(ran).toEqual([])
      await run(t)
      expect(ran).toEqual(['now'])
      const conn = await run(db.connection())
      try {
        await run(afterCommit(conn, () => { ran.push('conn') }))
        expect(ran).toEqual(['now', 'conn'])
        // A transaction on the reserved connection queues them for its COMMIT.
        await run(conn.transaction((tx) => pipe(
          insert(tx, 7),
          TE.chain(() => afterCommit(tx, () => { ran.push('conn-tx') })),
          TE.map(() => expect(ran).toEqual(['now', 'conn'])),
        )))
        expect(ran).toEqual(['now', 'conn', 'conn-tx'])
      } finally {
        await run(conn.release())
      }
      expect(await ids(db)).toEqual([7])
      // Outside a transaction, a throw is the same Left.
      const e = await failure(afterCommit(db, () => { throw new Error('at once') }))
      expect(isDbError(e, 'TransactionError') && e.committed).toBe(true)
      expect(e.message).toMatch(/at once/)
    })

    it('a failing callback: the row stays committed, the others run, the answer is a TransactionError with committed: true', async (ctx) => {
      const db = use(ctx)
      const ran: string[] = []
      const boom = new Error('mailer down')
      const e = await failure(db.transaction((tx) => pipe(
        insert(tx, 1),
        TE.chain(() => afterCommit(tx, () => { ran.push('a') })),
        TE.chain(() => afterCommit(tx, () => { throw boom })),
        TE.chain(() => afterCommit(tx, async () => { ran.push('c') })),
      )))
      expect(e._tag).toBe('TransactionError')
      expect(isDbError(e, 'TransactionError') && e.committed).toBe(true)
      expect(e.cause).toBe(boom)
      expect(e.message).toMatch(/transaction committed/)
      expect(e.message).toMatch(/callback 1 \(from 0, of 3\) failed: mailer down/)
      expect(ran).toEqual(['a', 'c'])
      expect(await ids(db)).toEqual([1])

      // Two fail: the first is the cause, the count is in the message.
      const first = new Error('first')
      const two = await failure(db.transaction((tx) => pipe(
        insert(tx, 2),
        TE.chain(() => afterCommit(tx, () => Promise.reject(first))),
        TE.chain(() => afterCommit(tx, () => { ran.push('between') })),
        TE.chain(() => afterCommit(tx, () => { throw new Error('second') })),
      )))
      expect(two.cause).toBe(first)
      expect(two.message).toMatch(/2 of 3 after-commit callbacks failed; the first, callback 0 \(from 0\): first/)
      expect(ran).toEqual(['a', 'c', 'between'])
      expect(await ids(db)).toEqual([1, 2])
    })

    it('a callback that returns a TaskEither has it run, and its Left is the failure', async (ctx) => {
      const db = use(ctx)
      const e = await failure(db.transaction((tx) => pipe(
        insert(tx, 1),
        TE.chain(() => afterCommit(tx, () => insert(db, 2) as unknown as void)),
        // The same key again: a UniqueViolation, after the transaction committed.
        TE.chain(() => afterCommit(tx, () => insert(db, 2) as unknown as void)),
      )))
      expect(isDbError(e, 'TransactionError') && e.committed).toBe(true)
      expect((e.cause as DbError)._tag).toBe('UniqueViolation')
      expect(e.message).toMatch(/callback 1 \(from 0, of 2\)/)
      expect(await ids(db)).toEqual([1, 2])
    })

    it('a controlled transaction: run by commit(), dropped by rollback(), and by a savepoint handle rolled back', async (ctx) => {
      const db = use(ctx)
      const ran: string[] = []
      const note = (s: string) => () => { ran.push(s) }

      const tx = await run(db.startTransaction())
      await run(insert(tx, 1))
      await run(afterCommit(tx, note('tx')))
      const dropped = await run(tx.savepoint('dropped'))
      await run(afterCommit(dropped, note('dropped')))
      await run(dropped.rollback())
      const kept = await run(tx.savepoint('kept'))
      await run(afterCommit(kept, note('kept')))
      await run(kept.release())
      expect(ran).toEqual([])
      await run(tx.commit())
      expect(ran).toEqual(['tx', 'kept'])
      expect(await ids(db)).toEqual([1])

      const undone = await run(db.startTransaction())
      await run(insert(undone, 2))
      await run(afterCommit(undone, note('undone')))
      await run(undone.rollback())
      expect(ran).toEqual(['tx', 'kept'])
      expect(await ids(db)).toEqual([1])

      // A failing callback: commit() answers the TransactionError, the row is stored.
      const failing = await run(db.startTransaction())
      await run(insert(failing, 3))
      await run(afterCommit(failing, () => { throw new Error('after commit()') }))
      const e = await failure(failing.commit())
      expect(isDbError(e, 'TransactionError') && e.committed).toBe(true)
      expect(await ids(db)).toEqual([1, 3])
    })

    it('a handle kept after its transaction ended refuses with TransactionError, and the callback never runs', async (ctx) => {
      const db = use(ctx)
      const ran: string[] = []
      let leaked: Backend | undefined
      await run(db.transaction((tx) => { leaked = tx; return TE.right(undefined) }))
      const e = await failure(afterCommit(leaked!, () => { ran.push('leaked') }))
      expect(e._tag).toBe('TransactionError')
      expect(e.message).toMatch(/already ended/)

      const tx = await run(db.startTransaction())
      await run(tx.commit())
      expect((await failure(afterCommit(tx, () => { ran.push('controlled') })))._tag).toBe('TransactionError')
      expect(ran).toEqual([])
    })

    it.runIf(engine.name === 'postgres')('a COMMIT the server refuses (a deferred unique check) runs no callback', async (ctx) => {
      const db = use(ctx)
      await run(db.execute(sql`DROP TABLE IF EXISTS rk_after_commit_deferred`))
      await run(db.execute(sql`CREATE TABLE rk_after_commit_deferred (k INTEGER UNIQUE DEFERRABLE INITIALLY DEFERRED)`))
      try {
        const ran: string[] = []
        const e = await failure(db.transaction((tx) => pipe(
          tx.execute(sql`INSERT INTO rk_after_commit_deferred VALUES (1), (1)`),
          TE.chain(() => afterCommit(tx, () => { ran.push('refused') })),
        )))
        expect(e._tag).toBe('UniqueViolation')
        const tx = await run(db.startTransaction())
        await run(tx.execute(sql`INSERT INTO rk_after_commit_deferred VALUES (2), (2)`))
        await run(afterCommit(tx, () => { ran.push('refused controlled') }))
        expect((await failure(tx.commit()))._tag).toBe('UniqueViolation')
        expect(ran).toEqual([])
        expect(await run(db.all(sql`SELECT COUNT(*)::int AS n FROM rk_after_commit_deferred`))).toEqual([{ n: 0 }])
      } finally {
        await run(db.execute(sql`DROP TABLE IF EXISTS rk_after_commit_deferred`))
      }
    })

    it('a COMMIT whose outcome is unknown runs no callback', async (ctx) => {
      const base = use(ctx)
      const commit = base.dialect.commit()
      // The server commits, and the answer is lost on the way back.
      const lossy = wrap(base, {
        execute: (next, self) => (q) => async () => {
          const r = await next(q)()
          return statementOf(self, q).sql === commit ? E.left(dbError('ConnectionError', 'connection lost')) : r
        },
      })
      const ran: string[] = []
      const e = await failure(lossy.transaction((tx) => pipe(insert(tx, 1), TE.chain(() => afterCommit(tx, () => { ran.push('unknown') })))))
      expect(isDbError(e, 'ConnectionError') && e.outcome).toBe('unknown')
      expect(ran).toEqual([])
      expect(await ids(base)).toEqual([1])
      // The controlled form alike.
      const tx = await run(lossy.startTransaction())
      await run(insert(tx, 2))
      await run(afterCommit(tx, () => { ran.push('unknown controlled') }))
      const c = await failure(tx.commit())
      expect(isDbError(c, 'ConnectionError') && c.outcome).toBe('unknown')
      expect(ran).toEqual([])
      expect(await ids(base)).toEqual([1, 2])
    })

    it('the model hook afterCommit: after the caller\'s COMMIT, dropped with its rollback, at once outside a transaction', async (ctx) => {
      const db = use(ctx)
      seen.length = 0
      await run(db.transaction((tx) => pipe(
        Item.create(tx, { id: 1, name: 'a' }),
        TE.chain((a) => Item.update(tx, a, { name: 'b' })),
        TE.chain(() => Item.createMany(tx, [{ id: 2, name: 'c' }, { id: 3, name: 'd' }])),
        TE.map(() => expect(seen).toEqual([])),
      )))
      expect(seen).toEqual(['behaviour:insert:a', 'insert:a', 'behaviour:update:b', 'update:b', 'behaviour:insert:c', 'insert:c', 'behaviour:insert:d', 'insert:d'])

      seen.length = 0
      await failure(db.transaction((tx) => pipe(
        Item.create(tx, { id: 4, name: 'gone' }),
        TE.chain(() => TE.left(dbError('ConflictError', 'undo'))),
      )))
      expect(seen).toEqual([])

      // Outside a transaction: after the write's own statements, before its answer.
      const e6 = await run(Item.create(db, { id: 6, name: 'e' }))
      expect(seen).toEqual(['behaviour:insert:e', 'insert:e'])
      await run(Item.delete(db, e6))
      expect(seen).toEqual(['behaviour:insert:e', 'insert:e', 'behaviour:delete:e', 'delete:e'])
      expect(await ids(db)).toEqual([1, 2, 3])

      // A hook's Left: the row is stored, the answer is a TransactionError with committed: true.
      const e = await failure(Item.create(db, { id: 5, name: 'refused' }))
      expect(isDbError(e, 'TransactionError') && e.committed).toBe(true)
      expect((e.cause as DbError)._tag).toBe('HookError')
      expect(await ids(db)).toEqual([1, 2, 3, 5])

      // createMany outside a transaction: a row whose hook fails does not stop the next row's.
      seen.length = 0
      const many = await failure(Item.createMany(db, [{ id: 7, name: 'refused' }, { id: 8, name: 'f' }]))
      expect(isDbError(many, 'TransactionError') && many.committed).toBe(true)
      expect(seen).toEqual(['behaviour:insert:refused', 'behaviour:insert:f', 'insert:f'])
      expect(await ids(db)).toEqual([1, 2, 3, 5, 7, 8])
    })

    it('through the Promise adapter: on tx.backend, and a failing callback rejects with committed: true', async (ctx) => {
      const db = use(ctx)
      const p = promised(db)
      const ran: string[] = []
      const r = await p.transaction(async (tx) => {
        await tx.execute(sql`INSERT INTO ${sql.id(T)} (id, name) VALUES (1, 'p')`)
        await run(afterCommit(tx.backend, () => { ran.push('promised') }))
        expect(ran).toEqual([])
        return 'ok'
      })
      expect([r, ran]).toEqual(['ok', ['promised']])
      const rejected = await p.transaction(async (tx) => {
        await tx.execute(sql`INSERT INTO ${sql.id(T)} (id, name) VALUES (2, 'q')`)
        await run(afterCommit(tx.backend, () => { throw new Error('late') }))
      }).then(() => undefined, (e: unknown) => e)
      expect(isDbError(rejected, 'TransactionError') && rejected.committed).toBe(true)
      expect(await ids(db)).toEqual([1, 2])
    })

    it('through wrap middleware: on the wrapped backend and on a wrapped transaction handle', async (ctx) => {
      const base = use(ctx)
      const log: string[] = []
      const db = recorded(base, log)
      await run(db.transaction((tx) => {
        const logged = wrap(tx, { execute: (next) => (q) => { log.push('handle'); return next(q) } })
        return pipe(
          insert(logged, 1),
          TE.chain(() => afterCommit(logged, () => { log.push('cb:wrapped-handle') })),
          TE.chain(() => logged.transaction((sp) => afterCommit(sp, () => { log.push('cb:wrapped-savepoint') }))),
        )
      }))
      expect(log.slice(-3)).toEqual([base.dialect.commit(), 'cb:wrapped-handle', 'cb:wrapped-savepoint'])
      expect(await ids(base)).toEqual([1])
    })
  })
}

describe('afterCommit and close (SQLite)', () => {
  for (const form of ['callback', 'controlled'] as const) {
    it(`close() waits for the callbacks of a committed transaction (${form} form), as for the transaction itself`, async () => {
      const db = compose(betterSqlite3({ filename: ':memory:' }), sqlite)
      const order: string[] = []
      let started!: () => void
      const running = new Promise<void>((resolve) => { started = resolve })
      let release!: () => void
      const gate = new Promise<void>((resolve) => { release = resolve })
      const callback = async (): Promise<void> => {
        started()
        await gate
        order.push('callback')
      }
      const committed = form === 'callback'
        ? run(db.transaction((tx) => afterCommit(tx, callback)))
        : run(db.startTransaction()).then(async (tx) => { await run(afterCommit(tx, callback)); await run(tx.commit()) })
      await running
      const closed = run(db.close()).then(() => { order.push('closed') })
      // While the callback runs, close() has not finished (it cannot: the transaction has not ended).
      const turns = new Promise<void>((resolve) => setImmediate(() => setImmediate(() => setImmediate(resolve))))
      await Promise.race([closed, turns])
      expect(order).toEqual([])
      release()
      await Promise.all([committed, closed])
      expect(order).toEqual(['callback', 'closed'])
    })
  }
})

describe('afterCommit on scale-out backends (SQLite)', () => {
  const open = async (): Promise<Backend[]> => {
    const parts = [0, 1].map(() => compose(betterSqlite3({ filename: ':memory:' }), sqlite))
    for (const p of parts) for (const text of ddl()) await run(p.execute(sql.raw(text)))
    return parts
  }

  it('a shard\'s transaction runs its callbacks after its COMMIT, and drops them on rollback', async () => {
    const parts = await open()
    const db = shard(parts, (table) => (table === T ? 'id' : undefined), { route: (key) => Number(key) % 2 })
    const ran: number[][] = []
    await run(db.forKey(3).transaction((tx) => pipe(
      insert(tx, 3),
      TE.chain(() => afterCommit(tx, async () => { ran.push(await ids(parts[1])) })),
      TE.chain(() => tx.transaction((sp) => afterCommit(sp, async () => { ran.push([-1]) }))),
    )))
    expect(ran).toEqual([[3], [-1]])
    await failure(db.forKey(4).transaction((tx) => pipe(
      insert(tx, 4),
      TE.chain(() => afterCommit(tx, () => { ran.push([4]) })),
      TE.chain(() => TE.left(dbError('ConflictError', 'undo'))),
    )))
    expect(ran).toEqual([[3], [-1]])
    expect(await ids(parts[0])).toEqual([])
    // A shard transaction's handle kept after it ended refuses, as a plain transaction's does.
    let leaked: Backend | undefined
    await run(db.forKey(5).transaction((tx) => { leaked = tx; return TE.right(undefined) }))
    const e = await failure(afterCommit(leaked!, () => { ran.push([5]) }))
    expect(e._tag).toBe('TransactionError')
    expect(e.message).toMatch(/already ended/)
    expect(ran).toEqual([[3], [-1]])
    await run(db.close())
  })

  it('a replicated backend\'s transaction (on the primary) runs its callbacks after its COMMIT', async () => {
    const [primary, replica] = await open()
    const db = withReplicas(primary, [replica], { readYourWritesMs: 0, checkEveryMs: 0 })
    const ran: number[][] = []
    await run(db.transaction((tx) => pipe(
      insert(tx, 1),
      TE.chain(() => afterCommit(tx, async () => { ran.push(await ids(primary)) })),
    )))
    expect(ran).toEqual([[1]])
    await run(db.close())
  })
})
