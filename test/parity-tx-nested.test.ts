/**
 * Nested transactions as Rails', Laravel's and Knex's users expect them (the cases their own
 * transaction tests make): siblings of which one fails, an outer rollback undoing released inner
 * work, a failure deep down caught part way up, callbacks that throw or fail with errors of
 * their own, named savepoints reused and nested under one name, a name that needs quoting,
 * siblings run at once, whether a transaction is open, handles used after the end, a BEGIN that
 * fails (no ROLLBACK sent, the connection given back), a COMMIT refused by a deferred foreign
 * key, and transactions on a closed backend. Rows are read back from SQLite, PostgreSQL and
 * MariaDB.
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type Backend, compose, connect, type DbError, dbError, promised, run, savepoint, sql, statementOf, wrap } from 'recordkit'
import { mysql } from 'recordkit/dialects/mysql'
import { postgres } from 'recordkit/dialects/postgres'
import { sqlite } from 'recordkit/dialects/sqlite'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'
import { mysql2 } from 'recordkit/drivers/mysql2'
import { postgresJs } from 'recordkit/drivers/postgres'
import { insertInto, values } from 'recordkit/query'
import { MYSQL_URL, PG_URL, serverAvailable } from './support/servers.js'

const pgUp = await serverAvailable('postgres')
const mariaUp = await serverAvailable('mariadb')

const T = 'ptx_nested'

/** Open a backend of the engine; `max` connections on the servers (SQLite has one). */
const engines: readonly (readonly [string, boolean, (max?: number) => Promise<Backend>])[] = [
  ['SQLite', true, async () => compose(betterSqlite3({ filename: ':memory:' }), sqlite)],
  ['PostgreSQL', pgUp, (max = 3) => run(connect(postgresJs({ url: PG_URL, max, acquireTimeout: 2000 }), postgres))],
  ['MariaDB', mariaUp, (max = 3) => run(connect(mysql2({ url: MYSQL_URL, max, acquireTimeout: 2000 }), mysql))],
]

const insert = (n: number) => pipe(insertInto(T), values({ n }))

const left = async <A>(t: TE.TaskEither<unknown, A>): Promise<unknown> => {
  const r = await t()
  if (E.isRight(r)) throw new Error(`expected a failure, got ${JSON.stringify(r.right)}`)
  return r.left
}
const tagOf = (e: unknown): unknown => (e as DbError)._tag

/** An error of the caller's own, not a DbError. */
class OutOfStock { readonly _tag = 'OutOfStock'; constructor(readonly sku: string) {} }

for (const [engine, available, open] of engines) {
  describe.skipIf(!available)(`nested transactions on ${engine}`, () => {
    let db: Backend
    const rows = async (on: Backend = db): Promise<number[]> =>
      (await run(on.all<{ n: number }>(sql`SELECT n FROM ${sql.id(T)} ORDER BY n`))).map((r) => Number(r.n))

    beforeAll(async () => {
      db = await open()
      await run(db.execute(sql`DROP TABLE IF EXISTS ${sql.id(T)}`))
      await run(db.execute(sql`CREATE TABLE ${sql.id(T)} (n INTEGER NOT NULL PRIMARY KEY)`))
    })
    beforeEach(async () => { await run(db.execute(sql`DELETE FROM ${sql.id(T)}`)) })
    afterAll(async () => {
      if (db === undefined) return
      await db.execute(sql`DROP TABLE IF EXISTS ${sql.id(T)}`)()
      await run(db.close())
    })

    it('three siblings, the middle one failing on a duplicate key: the others commit, and the caught error keeps its tag', async () => {
      const caught: unknown[] = []
      const out = await run(db.transaction((tx) => pipe(
        tx.execute(insert(1)),
        TE.chainW(() => tx.transaction((sp) => sp.execute(insert(10)))),
        TE.chainW(() => pipe(
          tx.transaction((sp) => pipe(sp.execute(insert(20)), TE.chainW(() => sp.execute(insert(1))))),
          TE.orElseW((e) => { caught.push(e._tag); return TE.right(undefined) }),
        )),
        TE.chainW(() => tx.transaction((sp) => sp.execute(insert(30)))),
        TE.map(() => 'done'),
      )))
      expect(out).toBe('done')
      expect(caught).toEqual(['UniqueViolation'])
      expect(await rows()).toEqual([1, 10, 30])
    })

    it('an outer rollback undoes inner work that was released', async () => {
      const e = await left(db.transaction((tx) => pipe(
        tx.transaction((sp) => sp.execute(insert(1))),
        TE.chainW(() => tx.transaction((sp) => sp.transaction((sp2) => sp2.execute(insert(2))))),
        TE.chainW(() => TE.left(new OutOfStock('a'))),
      )))
      expect(e).toBeInstanceOf(OutOfStock)
      expect(await rows()).toEqual([])
    })

    it('six deep, the deepest failing and caught at the third: the first three levels commit, the rest are undone', async () => {
      const level = (tx: Backend, depth: number): TE.TaskEither<DbError, unknown> => pipe(
        tx.execute(insert(depth)),
        TE.chainW(() => {
          if (depth === 6) return TE.left(dbError('CheckViolation', 'level 6 refuses'))
          const inner = tx.transaction((sp) => level(sp, depth + 1))
          return depth === 3 ? pipe(inner, TE.orElseW(() => TE.right(undefined))) : inner
        }),
      )
      await run(db.transaction((tx) => level(tx, 1)))
      expect(await rows()).toEqual([1, 2, 3])
    })

    it('an inner callback that throws: a TransactionError carrying what it threw, only its work undone, the outer goes on', async () => {
      const boom = new Error('inventory service down')
      let seen: unknown
      await run(db.transaction((tx) => pipe(
        tx.execute(insert(1)),
        TE.chainW(() => pipe(
          tx.transaction((sp) => pipe(sp.execute(insert(2)), TE.chainW(() => { throw boom }))),
          TE.orElseW((e) => { seen = e; return TE.right(undefined) }),
        )),
        TE.chainW(() => tx.execute(insert(3))),
      )))
      expect(tagOf(seen)).toBe('TransactionError')
      expect((seen as DbError).cause).toBe(boom)
      expect(await rows()).toEqual([1, 3])
    })

    it('an inner async callback that rejects, through the Promise adapter: only its work undone', async () => {
      const p = promised(db)
      await p.transaction(async (tx) => {
        await tx.execute(insert(1))
        await expect(tx.transaction(async (sp) => {
          await sp.execute(insert(2))
          throw new OutOfStock('b')
        })).rejects.toBeInstanceOf(OutOfStock)
        await tx.execute(insert(3))
      })
      expect(await rows()).toEqual([1, 3])
    })

    it('an inner Left of the caller\'s own error type reaches the caller as it is, and undoes only the inner work', async () => {
      const r = await db.transaction<OutOfStock, string>((tx) => pipe(
        tx.execute(insert(1)),
        TE.chainW(() => tx.transaction<OutOfStock, never>((sp) => pipe(sp.execute(insert(2)), TE.chainW(() => TE.left(new OutOfStock('c')))))),
        TE.map(() => 'unreachable'),
        TE.orElseW((e) => (e instanceof OutOfStock ? pipe(tx.execute(insert(4)), TE.map(() => `out of ${e.sku}`)) : TE.left(e))),
      ))()
      expect(r).toEqual(E.right('out of c'))
      expect(await rows()).toEqual([1, 4])
    })

    it('a savepoint name used twice in turn, and nested under the same name: each rollback undoes its own work only', async () => {
      await run(db.transaction((tx) => pipe(
        savepoint(tx, 'step', (sp) => sp.execute(insert(1))),
        TE.chainW(() => pipe(savepoint(tx, 'step', (sp) => pipe(sp.execute(insert(2)), TE.chainW(() => TE.left(dbError('CheckViolation', 'no'))))), TE.orElseW(() => TE.right(undefined)))),
        TE.chainW(() => savepoint(tx, 'step', (outer) => pipe(
          outer.execute(insert(3)),
          TE.chainW(() => pipe(
            savepoint(outer, 'step', (inner) => pipe(inner.execute(insert(4)), TE.chainW(() => TE.left(dbError('CheckViolation', 'no'))))),
            TE.orElseW(() => TE.right(undefined)),
          )),
          TE.chainW(() => outer.execute(insert(5))),
        ))),
      )))
      expect(await rows()).toEqual([1, 3, 5])
    })

    it('savepoint handles of a controlled transaction nested under one name: the inner rollback undoes its work only, the outer releases', async () => {
      const tx = await run(db.startTransaction())
      try {
        await run(tx.execute(insert(1)))
        const outer = await run(tx.savepoint('step'))
        await run(outer.execute(insert(2)))
        const inner = await run(outer.savepoint('step'))
        await run(inner.execute(insert(3)))
        await run(inner.rollback())
        await run(outer.execute(insert(4)))
        await run(outer.release())
        await run(tx.commit())
      } finally {
        // Ended whatever happened above, so no later case waits behind its locks.
        await tx.rollback()()
      }
      expect(await rows()).toEqual([1, 2, 4])
    })

    it('a savepoint name that needs quoting is quoted, never written into the SQL as it is', async () => {
      const name = `it's a "step"; ROLLBACK`
      const seen: string[] = []
      const logged = wrap(db, { execute: (next, self) => (q) => { seen.push(statementOf(self, q).sql); return next(q) } })
      await run(logged.transaction((tx) => pipe(
        savepoint(tx, name, (sp) => sp.execute(insert(1))),
        TE.chainW(() => pipe(savepoint(tx, name, (sp) => pipe(sp.execute(insert(2)), TE.chainW(() => TE.left(dbError('CheckViolation', 'no'))))), TE.orElseW(() => TE.right(undefined)))),
      )))
      expect(await rows()).toEqual([1])
      const control = seen.filter((s) => /SAVEPOINT/.test(s))
      expect(control.length).toBe(5)
      for (const s of control) expect(s).toContain(db.dialect.quoteIdentifier(name))
    })

    it('siblings started at once inside one transaction: each is whole, the failing one undone alone', async () => {
      const sibling = (tx: Backend, n: number, fail: boolean) => tx.transaction((sp) => pipe(
        sp.execute(insert(n)),
        TE.chainW(() => sp.execute(insert(n + 1))),
        TE.chainW(() => (fail ? TE.left(dbError('CheckViolation', `sibling ${n} refuses`)) : TE.right(n))),
      ))
      const results = await run(db.transaction((tx) => async () => E.right(await Promise.all([sibling(tx, 10, false)(), sibling(tx, 20, true)(), sibling(tx, 30, false)()]))))
      expect(results.map((r) => (E.isRight(r) ? r.right : r.left._tag))).toEqual([10, 'CheckViolation', 30])
      expect(await rows()).toEqual([10, 11, 30, 31])
    })

    // An INSERT whose values are more than one statement binds (maxParams) is split into
    // statements run as one unit on every engine (src/dialects/split-insert.ts).
    it('an INSERT too big for one statement, its last part failing, inside a nested transaction: undone whole, the outer commits', async () => {
      // 40,000 rows of two values: more parameters than one statement binds on every engine.
      const many = (from: number, count: number) => Array.from({ length: count }, (_, i) => ({ n: from + i, m: i }))
      await run(db.execute(sql`DROP TABLE IF EXISTS ${sql.id(`${T}_big`)}`))
      await run(db.execute(sql`CREATE TABLE ${sql.id(`${T}_big`)} (n INTEGER NOT NULL PRIMARY KEY, m INTEGER NOT NULL)`))
      try {
        const big = (rows: readonly { n: number; m: number }[]) => pipe(insertInto(`${T}_big`), values(rows))
        let caught: unknown
        await run(db.transaction((tx) => pipe(
          tx.execute(big([{ n: -1, m: 0 }])),
          TE.chainW(() => pipe(
            tx.transaction((sp) => sp.execute(big([...many(1, 40_000), { n: 1, m: 0 }]))),
            TE.orElseW((e) => { caught = e._tag; return TE.right(undefined) }),
          )),
          TE.chainW(() => tx.execute(big(many(100_000, 3)))),
        )))
        expect(caught).toBe('UniqueViolation')
        const kept = await run(db.all<{ n: number }>(sql`SELECT n FROM ${sql.id(`${T}_big`)} ORDER BY n`))
        expect(kept.map((r) => Number(r.n))).toEqual([-1, 100_000, 100_001, 100_002])
      } finally {
        await run(db.execute(sql`DROP TABLE IF EXISTS ${sql.id(`${T}_big`)}`))
      }
    })

    it('inTransaction: false outside, true inside at every depth, false again after', async () => {
      const seen: boolean[] = [db.inTransaction()]
      await run(db.transaction((tx) => {
        seen.push(tx.inTransaction(), db.inTransaction())
        return tx.transaction((sp) => { seen.push(sp.inTransaction()); return TE.right(undefined) })
      }))
      seen.push(db.inTransaction())
      expect(seen).toEqual([false, true, true, true, false])
    })

    it('a handle used after its transaction committed, or rolled back, is refused with TransactionError and runs nothing', async () => {
      let kept: Backend | undefined
      await run(db.transaction((tx) => { kept = tx; return tx.execute(insert(1)) }))
      expect(tagOf(await left(kept!.execute(insert(2))))).toBe('TransactionError')
      await left(db.transaction((tx) => { kept = tx; return pipe(tx.execute(insert(3)), TE.chainW(() => TE.left(dbError('CheckViolation', 'no')))) }))
      expect(tagOf(await left(kept!.execute(insert(4))))).toBe('TransactionError')
      let keptSp: Backend | undefined
      await run(db.transaction((tx) => pipe(tx.transaction((sp) => { keptSp = sp; return sp.execute(insert(5)) }), TE.chainW(() => tx.execute(insert(6))))))
      expect(tagOf(await left(keptSp!.execute(insert(7))))).toBe('TransactionError')
      expect(await rows()).toEqual([1, 5, 6])
    })

    it('a BEGIN that fails: no ROLLBACK is sent, the callback never runs, and the connection is given back', async () => {
      // SQLite's in-memory database is the backend's own: the same one, whose connection is one.
      const one = engine === 'SQLite' ? db : await open(1)
      const sent: string[] = []
      let refuse = true
      const flaky = wrap(one, {
        execute: (next, self) => (q) => {
          const text = statementOf(self, q).sql
          sent.push(text.split(' ')[0])
          if (refuse && /^(BEGIN|START|SET TRANSACTION)/.test(text)) { refuse = false; return TE.left(dbError('ConnectionError', 'BEGIN refused')) }
          return next(q)
        },
      })
      let ran = false
      const e = await left(flaky.transaction((tx) => { ran = true; return tx.execute(insert(1)) }))
      expect(tagOf(e)).toBe('ConnectionError')
      expect(ran).toBe(false)
      expect(sent).not.toContain('ROLLBACK')
      await run(flaky.transaction((tx) => tx.execute(insert(2))))
      expect(await rows(one)).toEqual([2])
      if (one !== db) await run(one.close())
    })

    it('transaction, startTransaction and the Promise adapter on a closed backend: ConnectionError, and nothing runs', async () => {
      const closing = await open()
      await run(closing.close())
      let ran = false
      const body = (tx: Backend) => { ran = true; return tx.execute(insert(1)) }
      expect(tagOf(await left(closing.transaction(body)))).toBe('ConnectionError')
      expect(tagOf(await left(closing.startTransaction()))).toBe('ConnectionError')
      await expect(promised(closing).transaction(async () => { ran = true })).rejects.toMatchObject({ _tag: 'ConnectionError' })
      expect(ran).toBe(false)
      if (closing !== db) expect(await rows()).toEqual([])
    })
  })
}

// Deferred foreign keys are checked at COMMIT: SQLite and PostgreSQL have them (MariaDB does not).
for (const [engine, available, open] of engines.filter(([name]) => name !== 'MariaDB')) {
  describe.skipIf(!available)(`a COMMIT the database refuses, on ${engine}`, () => {
    it('is the transaction\'s failure (ForeignKeyViolation), and nothing of it is committed', async () => {
      const db = await open()
      const [parent, child] = ['ptx_parent', 'ptx_child']
      await run(db.execute(sql`DROP TABLE IF EXISTS ${sql.id(child)}`))
      await run(db.execute(sql`DROP TABLE IF EXISTS ${sql.id(parent)}`))
      await run(db.execute(sql`CREATE TABLE ${sql.id(parent)} (id INTEGER PRIMARY KEY)`))
      await run(db.execute(sql`CREATE TABLE ${sql.id(child)} (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES ${sql.id(parent)} (id) DEFERRABLE INITIALLY DEFERRED)`))
      const r = await db.transaction((tx) => pipe(
        tx.execute(sql`INSERT INTO ${sql.id(parent)} (id) VALUES (1)`),
        TE.chainW(() => tx.execute(sql`INSERT INTO ${sql.id(child)} (id, parent_id) VALUES (1, 99)`)),
        TE.map(() => 'reported done'),
      ))()
      expect(E.isLeft(r) && r.left._tag).toBe('ForeignKeyViolation')
      expect(await run(db.all(sql`SELECT id FROM ${sql.id(parent)}`))).toEqual([])
      // The backend goes on.
      await run(db.transaction((tx) => tx.execute(sql`INSERT INTO ${sql.id(parent)} (id) VALUES (2)`)))
      expect(await run(db.all(sql`SELECT id FROM ${sql.id(parent)}`))).toEqual([{ id: 2 }])
      await run(db.execute(sql`DROP TABLE ${sql.id(child)}`))
      await run(db.execute(sql`DROP TABLE ${sql.id(parent)}`))
      await run(db.close())
    })
  })
}
