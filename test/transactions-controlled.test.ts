/**
 * Controlled transactions (`startTransaction`, savepoint handles, `connection`) and named
 * savepoints on the callback form (`tx.savepoint(name, fn)`), on SQLite, PostgreSQL and MariaDB:
 * rows read back from the real databases after each commit and rollback.
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { compose, connect, promised, run, savepoint, sql, statementOf, wrap, type Backend, type DbError } from 'recordkit'
import { from, insertInto, orderBy, select, values } from 'recordkit/query'
import { mysql } from 'recordkit/dialects/mysql'
import { postgres } from 'recordkit/dialects/postgres'
import { sqlite } from 'recordkit/dialects/sqlite'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'
import { mysql2 } from 'recordkit/drivers/mysql2'
import { postgresJs } from 'recordkit/drivers/postgres'
import { MYSQL_URL, PG_URL, serverAvailable } from './support/servers.js'

const mariadbAvailable = await serverAvailable('mariadb')
const postgresAvailable = await serverAvailable('postgres')

const T = 'ctx_items'

interface Engine {
  readonly name: string
  readonly available: boolean
  readonly open: () => Promise<Backend>
  /** SQL that changes session state, and SQL that reads it back as a row `{ v }`. */
  readonly setSession: string
  readonly readSession: string
}

const engines: readonly Engine[] = [
  {
    name: 'sqlite',
    available: true,
    open: async () => compose(betterSqlite3({ filename: ':memory:', acquireTimeout: 300 }), sqlite),
    setSession: 'PRAGMA case_sensitive_like = 1',
    readSession: `SELECT CASE WHEN 'a' LIKE 'A' THEN 'off' ELSE 'on' END AS v`,
  },
  {
    name: 'postgres',
    available: postgresAvailable,
    open: () => run(connect(postgresJs({ url: PG_URL, max: 3, acquireTimeout: 2000 }), postgres)),
    setSession: `SET application_name = 'rk_session'`,
    readSession: 'SELECT current_setting(\'application_name\') AS v',
  },
  {
    name: 'mariadb',
    available: mariadbAvailable,
    open: () => run(connect(mysql2({ url: MYSQL_URL, max: 3, acquireTimeout: 2000 }), mysql)),
    setSession: `SET @rk_session = 'rk_session'`,
    readSession: 'SELECT @rk_session AS v',
  },
]

const names = async (db: Backend): Promise<string[]> =>
  (await run(db.all<{ name: string }>(pipe(from(T), select('name'), orderBy('name'))))).map((r) => r.name)

const lostCommit: DbError = { _tag: 'ConnectionError', message: 'commit lost' } as DbError

const insert = (name: string) => pipe(insertInto(T), values({ name }))

const left = async <A>(t: TE.TaskEither<DbError, A>): Promise<DbError> => {
  const r = await t()
  if (E.isRight(r)) throw new Error(`expected a failure, got ${JSON.stringify(r.right)}`)
  return r.left
}

for (const engine of engines) {
  describe.skipIf(!engine.available)(`controlled transactions on ${engine.name}`, () => {
    let db: Backend
    beforeAll(async () => {
      db = await engine.open()
      await run(db.execute(sql`DROP TABLE IF EXISTS ${sql.id(T)}`))
      await run(db.execute(sql`CREATE TABLE ${sql.id(T)} (name VARCHAR(20) PRIMARY KEY)`))
    })
    afterAll(async () => {
      await db.execute(sql`DROP TABLE IF EXISTS ${sql.id(T)}`)()
      await run(db.close())
    })
    const clear = () => run(db.execute(sql`DELETE FROM ${sql.id(T)}`))

    it('commits what ran on the handle, and the handle then refuses with TransactionError', async () => {
      await clear()
      const tx = await run(db.startTransaction())
      expect(tx.inTransaction()).toBe(true)
      await run(tx.execute(insert('a')))
      await run(tx.execute(insert('b')))
      expect(await names(tx)).toEqual(['a', 'b'])
      await run(tx.commit())
      expect(await names(db)).toEqual(['a', 'b'])
      expect(tx.inTransaction()).toBe(false)
      const after = await left(tx.execute(insert('c')))
      expect(after._tag).toBe('TransactionError')
      expect((await left(tx.commit()))._tag).toBe('TransactionError')
      expect((await left(tx.rollback()))._tag).toBe('TransactionError')
      expect(await names(db)).toEqual(['a', 'b'])
    })

    it('a Transaction is a Backend: it goes wherever a backend does', async () => {
      await clear()
      const tx = await run(db.startTransaction())
      const asBackend: Backend = tx
      await run(asBackend.execute(insert('typed')))
      await run(tx.commit())
      expect(await names(db)).toEqual(['typed'])
    })

    it.runIf(engine.name === 'postgres')('a COMMIT the server refuses (a deferred unique check) ends the handle, nothing kept', async () => {
      await run(db.execute(sql`DROP TABLE IF EXISTS ctx_deferred`))
      await run(db.execute(sql`CREATE TABLE ctx_deferred (k INTEGER UNIQUE DEFERRABLE INITIALLY DEFERRED)`))
      try {
        const tx = await run(db.startTransaction())
        await run(tx.execute(sql`INSERT INTO ctx_deferred VALUES (1), (1)`))
        const refused = await left(tx.commit())
        expect(refused._tag).toBe('UniqueViolation')
        expect((await left(tx.execute(sql`SELECT 1`)))._tag).toBe('TransactionError')
        expect(await run(db.all(sql`SELECT COUNT(*)::int AS n FROM ctx_deferred`))).toEqual([{ n: 0 }])
        // Two controlled transactions at once, on two connections, each sees only its own row.
        const [a, b] = await Promise.all([run(db.startTransaction()), run(db.startTransaction())])
        await run(a.execute(sql`INSERT INTO ctx_deferred VALUES (10)`))
        await run(b.execute(sql`INSERT INTO ctx_deferred VALUES (20)`))
        expect(await run(a.all(sql`SELECT k FROM ctx_deferred`))).toEqual([{ k: 10 }])
        await run(a.commit())
        await run(b.rollback())
        expect(await run(db.all(sql`SELECT k FROM ctx_deferred`))).toEqual([{ k: 10 }])
      } finally {
        await run(db.execute(sql`DROP TABLE IF EXISTS ctx_deferred`))
      }
    })

    it('rolls back, leaving no row behind', async () => {
      await clear()
      const tx = await run(db.startTransaction())
      await run(tx.execute(insert('x')))
      await run(tx.rollback())
      expect(await names(db)).toEqual([])
      expect((await left(tx.all(from(T))))._tag).toBe('TransactionError')
    })

    it('named savepoint handles: rollback undoes only their work, release keeps it', async () => {
      await clear()
      const tx = await run(db.startTransaction())
      await run(tx.execute(insert('a')))
      const sp1 = await run(tx.savepoint('first'))
      expect(sp1.name).toBe('first')
      await run(sp1.execute(insert('b')))
      // While the savepoint is open, the transaction's own handle refuses (its work would be undone with it).
      const busy = await left(tx.execute(insert('z')))
      expect(busy._tag).toBe('TransactionError')
      expect(busy.message).toContain('savepoint first is open')
      await run(sp1.rollback())
      expect((await left(sp1.execute(insert('q'))))._tag).toBe('TransactionError')
      const sp2 = await run(tx.savepoint('second'))
      await run(sp2.execute(insert('c')))
      const inner = await run(sp2.savepoint('inner'))
      await run(inner.execute(insert('d')))
      await run(inner.rollback())
      await run(sp2.release())
      await run(tx.execute(insert('e')))
      await run(tx.commit())
      expect(await names(db)).toEqual(['a', 'c', 'e'])
    })

    it('a commit with a savepoint still open commits its work and ends its handle', async () => {
      await clear()
      const tx = await run(db.startTransaction())
      const sp = await run(tx.savepoint('open'))
      await run(sp.execute(insert('kept')))
      await run(tx.commit())
      expect(await names(db)).toEqual(['kept'])
      expect((await left(sp.release()))._tag).toBe('TransactionError')
    })

    it('a failed statement is reported, and the caller decides: roll back the savepoint and go on', async () => {
      await clear()
      const tx = await run(db.startTransaction())
      await run(tx.execute(insert('a')))
      const sp = await run(tx.savepoint('try'))
      const dup = await left(sp.execute(insert('a')))
      expect(dup._tag).toBe('UniqueViolation')
      await run(sp.rollback())
      await run(tx.execute(insert('b')))
      await run(tx.commit())
      expect(await names(db)).toEqual(['a', 'b'])
    })

    it('a commit that fails leaves the handle ended, and what it did is rolled back', async () => {
      await clear()
      // Middleware sees COMMIT: make it fail there, as a lost connection would.
      const failing = wrap(db, {
        execute: (next, self) => (q) => (statementOf(self, q).sql === 'COMMIT' ? TE.left(lostCommit) : next(q)),
      })
      const tx = await run(failing.startTransaction())
      await run(tx.execute(insert('b')))
      const lost = await left(tx.commit())
      // A COMMIT that lost its connection may have committed: the error says the outcome is unknown.
      expect(lost.message).toMatch(/^the connection was lost during COMMIT, so the outcome is unknown: .*\(commit lost\)$/)
      expect(lost.cause).toBe(lostCommit)
      expect((await left(tx.execute(insert('c'))))._tag).toBe('TransactionError')
      expect((await left(tx.rollback()))._tag).toBe('TransactionError')
      // The failed COMMIT was followed by a ROLLBACK, and the connection was given back.
      expect(await names(db)).toEqual([])
    })

    it('middleware sees BEGIN, SAVEPOINT, RELEASE, ROLLBACK TO and COMMIT', async () => {
      await clear()
      const seen: string[] = []
      const logged = wrap(db, {
        execute: (next, self) => (q) => {
          seen.push(statementOf(self, q).sql.split(' ').slice(0, 2).join(' '))
          return next(q)
        },
      })
      const tx = await run(logged.startTransaction())
      const sp = await run(tx.savepoint('s1'))
      await run(sp.execute(insert('m')))
      await run(sp.rollback())
      const sp2 = await run(tx.savepoint('s2'))
      await run(sp2.release())
      await run(tx.commit())
      const control = seen.filter((s) => !s.startsWith('INSERT'))
      expect(control[0]).toMatch(/^(BEGIN|START TRANSACTION)/)
      expect(control.slice(-5).map((s) => s.split(' ')[0])).toEqual(['ROLLBACK', 'RELEASE', 'SAVEPOINT', 'RELEASE', 'COMMIT'])
      expect(seen).toContain('INSERT INTO')
      expect(control.filter((s) => s.startsWith('SAVEPOINT'))).toHaveLength(2)
    })

    it('startTransaction inside a transaction is a TransactionError', async () => {
      const tx = await run(db.startTransaction())
      expect((await left(tx.startTransaction()))._tag).toBe('TransactionError')
      await run(tx.rollback())
      const viaCallback = await db.transaction((inner) => inner.startTransaction())()
      expect(E.isLeft(viaCallback) && viaCallback.left._tag).toBe('TransactionError')
    })

    it('tx.savepoint(name, fn) on the callback form: rolled back on failure, the transaction goes on', async () => {
      await clear()
      const r = await db.transaction((tx) => pipe(
        tx.execute(insert('a')),
        TE.chainW(() => pipe(
          tx.savepoint('coupon', (sp) => pipe(sp.execute(insert('b')), TE.chain(() => sp.execute(insert('a'))))),
          TE.map(() => 'applied'),
          TE.orElse((e) => TE.right(`skipped: ${e._tag}`)),
        )),
        TE.chainFirstW(() => tx.savepoint('kept', (sp) => sp.execute(insert('c')))),
      ))()
      expect(r).toEqual(E.right('skipped: UniqueViolation'))
      expect(await names(db)).toEqual(['a', 'c'])
      // The free function is the same thing.
      await clear()
      await run(db.transaction((tx) => pipe(tx.execute(insert('x')), TE.chain(() => savepoint(tx, 'named', (sp) => sp.execute(insert('y')))))))
      expect(await names(db)).toEqual(['x', 'y'])
      // Outside a transaction it is refused.
      expect((await left(db.savepoint('nowhere', (sp) => sp.execute(insert('n')))))._tag).toBe('TransactionError')
    })

    it('connection(): session state stays on the reserved connection; a transaction begins on it', async () => {
      await clear()
      const conn = await run(db.connection())
      expect(conn.inTransaction()).toBe(false)
      await run(conn.execute(sql.raw(engine.setSession)))
      expect(await run(conn.all<{ v: string }>(sql.raw(engine.readSession)))).toEqual([{ v: engine.name === 'sqlite' ? 'on' : 'rk_session' }])
      const tx = await run(conn.startTransaction())
      await run(tx.execute(insert('c1')))
      // Calls on the connection itself wait for its transaction to end: they are refused meanwhile.
      expect((await left(conn.all(from(T))))._tag).toBe('TransactionError')
      expect((await left(conn.release()))._tag).toBe('TransactionError')
      // The session state is seen inside the transaction: same connection.
      expect(await run(tx.all<{ v: string }>(sql.raw(engine.readSession)))).toEqual([{ v: engine.name === 'sqlite' ? 'on' : 'rk_session' }])
      await run(tx.rollback())
      await run(conn.transaction((t2) => t2.execute(insert('c2'))))
      expect(await names(conn)).toEqual(['c2'])
      await run(conn.release())
      expect((await left(conn.all(from(T))))._tag).toBe('TransactionError')
      if (engine.name === 'sqlite') await run(db.execute(sql.raw('PRAGMA case_sensitive_like = 0')))
      expect(await names(db)).toEqual(['c2'])
    })

    it('the Promise adapter has the same forms', async () => {
      await clear()
      const p = promised(db)
      const tx = await p.startTransaction()
      await tx.execute(insert('p1'))
      const sp = await tx.savepoint('ps')
      await sp.execute(insert('p2'))
      await sp.rollback()
      const n = await tx.savepoint('cb', async (inner) => (await inner.execute(insert('p3'))).rowsAffected)
      expect(n).toBe(1)
      await tx.commit()
      await expect(tx.execute(insert('p4'))).rejects.toMatchObject({ _tag: 'TransactionError' })
      expect(await names(db)).toEqual(['p1', 'p3'])
      await p.transaction(async (t) => {
        await t.execute(insert('p5'))
        await expect(t.savepoint('bad', async (s) => { await s.execute(insert('p6')); throw new Error('no') })).rejects.toThrow('no')
      })
      const conn = await p.connection()
      expect(await conn.all(pipe(from(T), select('name'), orderBy('name')))).toEqual([{ name: 'p1' }, { name: 'p3' }, { name: 'p5' }])
      await conn.release()
    })
  })
}

describe('controlled transactions and the single SQLite connection', () => {
  it('other work waits behind an open transaction, then fails with PoolTimeout; it runs once the transaction ends', async () => {
    const db = compose(betterSqlite3({ filename: ':memory:', acquireTimeout: 200 }), sqlite)
    await run(db.execute(sql`CREATE TABLE w (id INTEGER PRIMARY KEY)`))
    const tx = await run(db.startTransaction())
    await run(tx.execute(sql`INSERT INTO w VALUES (1)`))
    const started = Date.now()
    const waited = await left(db.all(sql`SELECT * FROM w`))
    expect(waited._tag).toBe('PoolTimeout')
    expect(Date.now() - started).toBeGreaterThanOrEqual(150)
    // A second controlled transaction waits the same way.
    expect((await left(db.startTransaction()))._tag).toBe('PoolTimeout')
    // Work queued meanwhile runs once the transaction commits.
    const later = db.all<{ id: number }>(sql`SELECT id FROM w`)()
    await run(tx.commit())
    expect(await later).toEqual(E.right([{ id: 1 }]))
    await run(db.close())
  })

  it('close({ timeout }) waits for an open controlled transaction, then cuts it', async () => {
    const db = compose(betterSqlite3({ filename: ':memory:' }), sqlite)
    await run(db.execute(sql`CREATE TABLE c (id INTEGER PRIMARY KEY)`))
    const tx = await run(db.startTransaction())
    const closing = db.close({ timeout: 5000 })()
    // New work is refused at once, the open transaction may still finish.
    expect((await left(db.startTransaction()))._tag).toBe('ConnectionError')
    await run(tx.execute(sql`INSERT INTO c VALUES (1)`))
    await run(tx.commit())
    expect(await closing).toEqual(E.right(undefined))

    const db2 = compose(betterSqlite3({ filename: ':memory:' }), sqlite)
    const tx2 = await run(db2.startTransaction())
    const started = Date.now()
    expect(await db2.close({ timeout: 100 })()).toEqual(E.right(undefined))
    expect(Date.now() - started).toBeLessThan(3000)
    const cut = await tx2.execute(sql`SELECT 1`)()
    expect(E.isLeft(cut)).toBe(true)
  })

  it('a reserved connection counts as open for close, and is refused after release', async () => {
    const db = compose(betterSqlite3({ filename: ':memory:' }), sqlite)
    const conn = await run(db.connection())
    const closing = db.close({ timeout: 5000 })()
    expect(await run(conn.all(sql`SELECT 1 AS one`))).toEqual([{ one: 1 }])
    await run(conn.release())
    expect(await closing).toEqual(E.right(undefined))
  })
})
