/**
 * Middleware around a transaction handle, a savepoint handle, a controlled transaction or a
 * reserved connection (`wrap(tx, ...)`, `wrap(conn, ...)`) sees everything that handle runs, at
 * any depth: the SAVEPOINT / RELEASE / ROLLBACK TO of nested transactions, the BEGIN / COMMIT of
 * a transaction on a reserved connection, and every statement inside. Middleware around the
 * backend itself sees each statement exactly once. On SQLite, PostgreSQL and MariaDB.
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { describe, expect, it } from 'vitest'
import { dbError, logging, metrics, retry, run, sql, statementOf, wrap, type Backend, type DbError, type Executable, type Middleware } from 'recordkit'
import { from, insertInto, param, values, where } from 'recordkit/query'
import { ENGINES, engineTables } from './support/engine-tables.js'

const T = 'h1_mw'

/** A statement as a short, engine-neutral word: its kind, and the value it inserts. */
const kind = (text: string, params: readonly unknown[]): string => {
  const t = text.trim()
  if (/^(BEGIN|START TRANSACTION)/i.test(t)) return 'BEGIN'
  if (/^SET TRANSACTION/i.test(t)) return 'SET TRANSACTION'
  if (/^SAVEPOINT/i.test(t)) return 'SAVEPOINT'
  if (/^RELEASE/i.test(t)) return 'RELEASE'
  if (/^ROLLBACK TO/i.test(t)) return 'ROLLBACK TO'
  if (/^INSERT/i.test(t)) return `INSERT ${params.join(',')}`
  if (/^SELECT/i.test(t)) return 'SELECT'
  return t.split(/\s+/)[0].toUpperCase()
}

/** Middleware that writes down every statement `execute` sees. */
const seeing = (log: string[], tag = ''): Middleware => ({
  execute: (next, self) => (q) => {
    const { sql: text, params } = statementOf(self, q as Executable)
    log.push(tag + kind(text, params))
    return next(q)
  },
})

const insert = (n: number) => pipe(insertInto(T), values({ n }))
const rows = async (db: Backend): Promise<number[]> =>
  (await run(db.all<{ n: number }>(sql`SELECT n FROM ${sql.id(T)} ORDER BY n`))).map((r) => Number(r.n))

/** A nested transaction three deep on `db`, inserting 1, 2 and 3, the innermost failing when asked. */
const threeDeep = (db: Backend, failInner = false): TE.TaskEither<DbError, unknown> =>
  db.transaction((a) => pipe(
    a.execute(insert(1)),
    TE.chainW(() => a.transaction((b) => pipe(
      b.execute(insert(2)),
      TE.chainW(() => pipe(
        b.transaction((c) => pipe(c.execute(insert(3)), TE.chainW((r) => (failInner ? TE.left(dbError('QueryError', 'inner fails')) : TE.right(r))))),
        // The innermost failure is handled here: its savepoint is rolled back, the rest goes on.
        TE.orElseW(() => TE.right(undefined)),
      )),
    ))),
  ))

for (const engine of ENGINES) {
  describe(`middleware on handles (${engine.name})`, () => {
    const { use } = engineTables(engine, [T], (name) => [
      name === 'postgres' ? `CREATE TABLE ${T} (id SERIAL PRIMARY KEY, n INTEGER NOT NULL UNIQUE)`
        : name === 'mariadb' ? `CREATE TABLE ${T} (id INTEGER AUTO_INCREMENT PRIMARY KEY, n INTEGER NOT NULL UNIQUE) ENGINE=InnoDB`
          : `CREATE TABLE ${T} (id INTEGER PRIMARY KEY, n INTEGER NOT NULL UNIQUE)`,
    ])

    it('a wrapped transaction handle sees its nested transactions three deep, savepoints included', async (ctx) => {
      const db = use(ctx)
      const log: string[] = []
      await run(db.transaction((tx) => threeDeep(wrap(tx, seeing(log)))))
      expect(log).toEqual(['SAVEPOINT', 'INSERT 1', 'SAVEPOINT', 'INSERT 2', 'SAVEPOINT', 'INSERT 3', 'RELEASE', 'RELEASE', 'RELEASE'])
      expect(await rows(db)).toEqual([1, 2, 3])
    })

    it('a wrapped transaction handle sees the ROLLBACK TO of a nested transaction that failed', async (ctx) => {
      const db = use(ctx)
      const log: string[] = []
      await run(db.transaction((tx) => threeDeep(wrap(tx, seeing(log)), true)))
      expect(log).toEqual(['SAVEPOINT', 'INSERT 1', 'SAVEPOINT', 'INSERT 2', 'SAVEPOINT', 'INSERT 3', 'ROLLBACK TO', 'RELEASE', 'RELEASE', 'RELEASE'])
      expect(await rows(db)).toEqual([1, 2])
    })

    it('a wrapped reserved connection sees the BEGIN and COMMIT of its transactions and what runs inside', async (ctx) => {
      const db = use(ctx)
      const log: string[] = []
      const conn = await run(db.connection())
      try {
        const w = wrap(conn, seeing(log))
        await run(w.execute(insert(1)))
        await run(w.transaction((tx) => pipe(tx.execute(insert(2)), TE.chain(() => tx.transaction((sp) => sp.execute(insert(3)))))))
        const failed = await w.transaction((tx) => pipe(tx.execute(insert(4)), TE.chain(() => TE.left(new Error('no')))))()
        expect(E.isLeft(failed)).toBe(true)
        expect(log).toEqual(['INSERT 1', 'BEGIN', 'INSERT 2', 'SAVEPOINT', 'INSERT 3', 'RELEASE', 'COMMIT', 'BEGIN', 'INSERT 4', 'ROLLBACK'])
        // `release` is still there on the wrapped handle.
        await run(w.release())
      } finally {
        await conn.release()()
      }
      expect(await rows(db)).toEqual([1, 2, 3])
    })

    it('a wrapped reserved connection sees a controlled transaction and its savepoint handles', async (ctx) => {
      const db = use(ctx)
      const log: string[] = []
      const conn = await run(db.connection())
      try {
        const w = wrap(conn, seeing(log))
        const tx = await run(w.startTransaction())
        await run(tx.execute(insert(1)))
        const sp = await run(tx.savepoint('h1_a'))
        await run(sp.execute(insert(2)))
        await run(sp.rollback())
        const sp2 = await run(tx.savepoint('h1_b'))
        await run(sp2.execute(insert(3)))
        await run(sp2.release())
        await run(tx.commit())
        expect(log).toEqual(['BEGIN', 'INSERT 1', 'SAVEPOINT', 'INSERT 2', 'ROLLBACK TO', 'RELEASE', 'SAVEPOINT', 'INSERT 3', 'RELEASE', 'COMMIT'])
      } finally {
        await conn.release()()
      }
      expect(await rows(db)).toEqual([1, 3])
    })

    it('a wrapped controlled transaction sees its savepoints, its commit and its rollback', async (ctx) => {
      const db = use(ctx)
      const log: string[] = []
      const tx = wrap(await run(db.startTransaction()), seeing(log))
      await run(tx.execute(insert(1)))
      await run(tx.savepoint('h1_c', (sp) => sp.execute(insert(2))))
      await run(tx.commit())
      const again = wrap(await run(db.startTransaction()), seeing(log))
      await run(again.execute(insert(5)))
      await run(again.rollback())
      expect(log).toEqual(['INSERT 1', 'SAVEPOINT', 'INSERT 2', 'RELEASE', 'COMMIT', 'INSERT 5', 'ROLLBACK'])
      expect(await rows(db)).toEqual([1, 2])
    })

    it('middleware on the backend sees each statement once, at every depth, through tx or the outer db', async (ctx) => {
      const base = use(ctx)
      const log: string[] = []
      const db = wrap(base, seeing(log))
      await run(db.transaction((tx) => pipe(
        threeDeep(tx),
        // The outer backend inside the callback runs in the transaction too.
        TE.chain(() => db.transaction((sp) => sp.execute(insert(4)))),
      )))
      expect(log).toEqual(['BEGIN', 'SAVEPOINT', 'INSERT 1', 'SAVEPOINT', 'INSERT 2', 'SAVEPOINT', 'INSERT 3', 'RELEASE', 'RELEASE', 'RELEASE', 'SAVEPOINT', 'INSERT 4', 'RELEASE', 'COMMIT'])
      expect(await rows(base)).toEqual([1, 2, 3, 4])
    })

    it('middleware on the backend and on a handle each see every statement of the handle once', async (ctx) => {
      const base = use(ctx)
      const outer: string[] = []
      const inner: string[] = []
      const db = wrap(base, seeing(outer))
      await run(db.transaction((tx) => threeDeep(wrap(tx, seeing(inner)))))
      expect(inner).toEqual(['SAVEPOINT', 'INSERT 1', 'SAVEPOINT', 'INSERT 2', 'SAVEPOINT', 'INSERT 3', 'RELEASE', 'RELEASE', 'RELEASE'])
      expect(outer).toEqual(['BEGIN', ...inner, 'COMMIT'])
    })

    it('a wrapped handle sees its all, first, query, prepared queries and batches', async (ctx) => {
      const db = use(ctx)
      const log: string[] = []
      await run(db.transaction((tx) => async () => {
        const w = wrap(tx, seeing(log))
        await run(w.executeBatch(insert(0), [[1], [2]]))
        await run(w.all(from(T)))
        await run(w.first(from(T)))
        await run(w.query(sql`SELECT n FROM ${sql.id(T)}`))
        const p = w.prepare(pipe(from(T), where({ n: param('n') })))
        const found = await run(p.first({ n: 2 }))
        expect(found._tag).toBe('Some')
        await run(p.all({ n: 1 }))
        await run(p.execute({ n: 1 }))
        return E.right(undefined)
      }))
      expect(log).toEqual(['INSERT 1', 'INSERT 2', 'SELECT', 'SELECT', 'SELECT', 'SELECT', 'SELECT', 'SELECT'])
    })

    it('logging on a handle reports statements of nested transactions as in a transaction', async (ctx) => {
      const db = use(ctx)
      const events: { sql: string; inTransaction: boolean }[] = []
      await run(db.transaction((tx) => threeDeep(wrap(tx, logging((e) => events.push(e))))))
      expect(events.length).toBe(9)
      expect(events.every((e) => e.inTransaction)).toBe(true)
    })

    it('logging and metrics on a reserved connection tell statements in its transactions from those outside', async (ctx) => {
      const db = use(ctx)
      const events: { sql: string; inTransaction: boolean }[] = []
      const m = metrics()
      const conn = await run(db.connection())
      try {
        const w = wrap(wrap(conn, m.middleware), logging((e) => events.push(e)))
        await run(w.execute(insert(1)))
        await run(w.transaction((tx) => tx.transaction((sp) => sp.execute(insert(2)))))
        expect(events.map((e) => [kind(e.sql, []), e.inTransaction])).toEqual([
          ['INSERT ', false], ['BEGIN', true], ['SAVEPOINT', true], ['INSERT ', true], ['RELEASE', true], ['COMMIT', true],
        ])
        expect(m.snapshot().count).toBe(6)
      } finally {
        await conn.release()()
      }
    })

    it('retry on a reserved connection retries its whole transaction, never a statement inside it', async (ctx) => {
      const db = use(ctx)
      await run(db.execute(insert(7)))
      const log: string[] = []
      const conn = await run(db.connection())
      try {
        const w = wrap(wrap(conn, seeing(log)), retry({ attempts: 2, backoff: () => 0, on: ['UniqueViolation'] }))
        const r = await w.transaction((tx) => pipe(tx.execute(insert(8)), TE.chain(() => tx.execute(insert(7)))))()
        expect(E.isLeft(r) && r.left._tag).toBe('UniqueViolation')
        const once = ['BEGIN', 'INSERT 8', 'INSERT 7', 'ROLLBACK']
        expect(log).toEqual([...once, ...once])
        log.length = 0
        // Outside a transaction, the statement alone is tried again.
        const s = await w.execute(insert(7))()
        expect(E.isLeft(s)).toBe(true)
        expect(log).toEqual(['INSERT 7', 'INSERT 7'])
      } finally {
        await conn.release()()
      }
      expect(await rows(db)).toEqual([7])
    })

    it('retry never retries a statement inside a transaction, on a wrapped handle or a wrapped backend', async (ctx) => {
      const base = use(ctx)
      await run(base.execute(insert(7)))
      let attempts = 0
      const counting: Middleware = { execute: (next) => (q) => () => { attempts++; return next(q)() } }
      const dup = () => base.transaction((tx) => {
        const w = wrap(wrap(tx, counting), retry({ attempts: 3, backoff: () => 0, on: ['UniqueViolation'] }))
        return w.transaction((sp) => sp.execute(insert(7)))
      })
      const a = await dup()()
      expect(E.isLeft(a) && a.left._tag).toBe('UniqueViolation')
      // SAVEPOINT, the INSERT once, ROLLBACK TO, RELEASE.
      expect(attempts).toBe(4)
      attempts = 0
      const db = wrap(wrap(base, counting), retry({ attempts: 3, backoff: () => 0, on: ['UniqueViolation'] }))
      const b = await db.transaction((tx) => tx.transaction((sp) => sp.execute(insert(7))))()
      expect(E.isLeft(b) && b.left._tag).toBe('UniqueViolation')
      // The whole transaction is retried (3 attempts of BEGIN, SAVEPOINT, INSERT, ROLLBACK TO,
      // RELEASE, ROLLBACK), the INSERT never on its own.
      expect(attempts).toBe(18)
      // Outside a transaction the statement is retried on its own.
      attempts = 0
      const c = await db.execute(insert(7))()
      expect(E.isLeft(c)).toBe(true)
      expect(attempts).toBe(3)
    })
  })
}
