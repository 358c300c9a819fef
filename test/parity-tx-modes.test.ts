/**
 * Isolation levels and read-only transactions as Knex's, Kysely's and Laravel's users expect them
 * (the cases their own transaction tests make): what a transaction sees of another's commit at
 * READ COMMITTED and at REPEATABLE READ, dirty reads at READ UNCOMMITTED where the engine has
 * them, the level asked for being the level in force (callback and controlled forms), levels and
 * read-only that do not stay on the connection for the next transaction, options refused on a
 * nested transaction, and a serializable write skew refused on PostgreSQL and run again by
 * `retry`. On SQLite (a file, two backends), every level is SQLite's own snapshot.
 */
import { rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type Backend, compose, connect, type DbError, retry, run, sql, type Transaction, wrap } from 'recordkit'
import { fails } from 'recordkit/testing'
import { mysql } from 'recordkit/dialects/mysql'
import { postgres } from 'recordkit/dialects/postgres'
import { sqlite } from 'recordkit/dialects/sqlite'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'
import { mysql2 } from 'recordkit/drivers/mysql2'
import { postgresJs } from 'recordkit/drivers/postgres'
import { MYSQL_URL, PG_URL, serverAvailable } from './support/servers.js'

const pgUp = await serverAvailable('postgres')
const mariaUp = await serverAvailable('mariadb')
const file = join(tmpdir(), `parity-tx-modes-${process.pid}.db`)

const T = 'ptx_modes'

type Level = 'read uncommitted' | 'read committed' | 'repeatable read' | 'serializable'

interface Engine {
  readonly name: string
  readonly available: boolean
  /** A backend with `max` connections (SQLite: one, on the shared file). */
  readonly open: (max: number) => Promise<Backend>
  /** The level the running transaction is at, as a SELECT of `v` (absent on SQLite). */
  readonly level?: ReturnType<typeof sql.raw>
  /** The level a transaction gets when none is asked for. */
  readonly defaultLevel?: Level
}

const engines: readonly Engine[] = [
  { name: 'SQLite', available: true, open: async () => compose(betterSqlite3({ filename: file }), sqlite) },
  {
    name: 'PostgreSQL',
    available: pgUp,
    open: (max) => run(connect(postgresJs({ url: PG_URL, max, acquireTimeout: 3000 }), postgres)),
    level: sql.raw(`SELECT current_setting('transaction_isolation') AS v`),
    defaultLevel: 'read committed',
  },
  {
    name: 'MariaDB',
    available: mariaUp,
    open: (max) => run(connect(mysql2({ url: MYSQL_URL, max, acquireTimeout: 3000 }), mysql)),
    // SET TRANSACTION applies to the next transaction alone: the running one's level is InnoDB's.
    level: sql.raw('SELECT trx_isolation_level AS v FROM information_schema.innodb_trx WHERE trx_mysql_thread_id = CONNECTION_ID()'),
    defaultLevel: 'repeatable read',
  },
]

/** `fails` of the testing kit: the DbError of a task that must fail. */
const left = fails
const levelText = (v: unknown): string => String(v).toLowerCase().replace(/[-_]/g, ' ')

for (const engine of engines) {
  describe.skipIf(!engine.available)(`isolation and read-only on ${engine.name}`, () => {
    let db: Backend
    let other: Backend
    const count = sql.raw(`SELECT COUNT(*) AS n FROM ${T}`)
    const countIn = async (on: Backend): Promise<number> => Number((await run(on.all<{ n: unknown }>(count)))[0].n)
    const insert = (n: number) => sql.raw(`INSERT INTO ${T} (n) VALUES (${n})`)
    /** The level of the transaction `tx` runs in (a statement first, so InnoDB has begun it). */
    const levelOf = async (tx: Backend): Promise<string> => {
      await run(tx.all(count))
      // InnoDB refreshes what information_schema.innodb_trx shows at most every 100 ms.
      if (engine.name === 'MariaDB') await new Promise((r) => setTimeout(r, 150))
      return levelText((await run(tx.all<{ v: unknown }>(engine.level!)))[0].v)
    }

    beforeAll(async () => {
      rmSync(file, { force: true })
      db = await engine.open(1)
      other = await engine.open(2)
      await run(db.execute(sql.raw(`DROP TABLE IF EXISTS ${T}`)))
      await run(db.execute(sql.raw(`CREATE TABLE ${T} (n INTEGER NOT NULL PRIMARY KEY)`)))
    })
    beforeEach(async () => { await run(db.execute(sql.raw(`DELETE FROM ${T}`))) })
    afterAll(async () => {
      if (db === undefined) return
      await db.execute(sql.raw(`DROP TABLE IF EXISTS ${T}`))()
      await run(db.close())
      await run(other.close())
      rmSync(file, { force: true })
    })

    /** What a transaction at `level` counts before and after `other` commits a row. */
    const seenAcross = async (level: Level): Promise<[number, number]> =>
      run(db.transaction((tx) => async () => {
        const before = await countIn(tx)
        await run(other.execute(insert(100 + before)))
        return E.right<DbError, [number, number]>([before, await countIn(tx)])
      }, { isolation: level }))

    it('READ COMMITTED sees another connection\'s commit at its next statement; REPEATABLE READ keeps its first view', async () => {
      const committed = await seenAcross('read committed')
      const repeatable = await seenAcross('repeatable read')
      if (engine.name === 'SQLite') {
        // Every SQLite transaction reads one snapshot, whatever level is asked for (stronger than asked).
        expect([committed, repeatable]).toEqual([[0, 0], [1, 1]])
      } else {
        expect([committed, repeatable]).toEqual([[0, 1], [1, 1]])
      }
      expect(await countIn(db)).toBe(2)
    })

    it.skipIf(engine.name === 'SQLite')('READ UNCOMMITTED: MariaDB reads another transaction\'s uncommitted row, PostgreSQL never does', async () => {
      const writer = await run(other.startTransaction())
      try {
        await run(writer.execute(insert(7)))
        const seen = await run(db.transaction((tx) => TE.fromTask(() => countIn(tx)), { isolation: 'read uncommitted' }))
        expect(seen).toBe(engine.name === 'MariaDB' ? 1 : 0)
      } finally {
        await run(writer.rollback())
      }
      expect(await countIn(db)).toBe(0)
    })

    it.skipIf(engine.name === 'SQLite')('the level asked for is the level in force, in the callback and the controlled form', async () => {
      for (const level of ['read committed', 'repeatable read', 'serializable'] as const) {
        expect(await run(db.transaction((tx) => TE.fromTask(() => levelOf(tx)), { isolation: level }))).toBe(level)
        const tx: Transaction = await run(db.startTransaction({ isolation: level }))
        try {
          expect(await levelOf(tx)).toBe(level)
        } finally {
          await run(tx.commit())
        }
      }
    })

    it.skipIf(engine.name === 'SQLite')('a level does not stay on the connection: the next transaction, on the same one, is at the default again', async () => {
      await run(db.transaction((tx) => TE.fromTask(() => levelOf(tx)), { isolation: 'serializable' }))
      expect(await run(db.transaction((tx) => TE.fromTask(() => levelOf(tx))))).toBe(engine.defaultLevel)
      const tx = await run(db.startTransaction({ isolation: 'read committed' }))
      await run(tx.rollback())
      expect(await run(db.transaction((t2) => TE.fromTask(() => levelOf(t2))))).toBe(engine.defaultLevel)
    })

    it.skipIf(engine.name === 'SQLite')('read-only does not stay on the connection: the next transaction and a plain statement write', async () => {
      const refused = await left(db.transaction((tx) => tx.execute(insert(1)), { readOnly: true }))
      expect(refused.message.toLowerCase()).toMatch(/read.only/)
      await run(db.transaction((tx) => tx.execute(insert(2))))
      const tx = await run(db.startTransaction({ readOnly: true }))
      await run(tx.rollback())
      await run(db.execute(insert(3)))
      await run(db.transaction((t2) => t2.execute(insert(4)), { readOnly: false }))
      expect(await run(db.all(sql.raw(`SELECT n FROM ${T} ORDER BY n`)))).toEqual([{ n: 2 }, { n: 3 }, { n: 4 }])
    })

    it('options on a nested transaction are refused, not silently ignored: isolation, read-only, read-write', async () => {
      for (const options of [{ isolation: 'serializable' as const }, { readOnly: true }, { readOnly: false }]) {
        const r = await db.transaction((tx) => pipe(tx.execute(insert(1)), TE.chain(() => tx.transaction((sp) => sp.execute(insert(2)), options))))()
        expect({ options, tag: E.isLeft(r) && r.left._tag }).toEqual({ options, tag: 'TransactionError' })
      }
      expect(await countIn(db)).toBe(0)
    })

    it.skipIf(engine.name !== 'SQLite')('SQLite has no read-only transaction: UnsupportedFeature before anything runs, and the backend goes on', async () => {
      let ran = false
      const e = await left(db.transaction((tx) => { ran = true; return tx.execute(insert(1)) }, { readOnly: true }))
      expect(e._tag).toBe('UnsupportedFeature')
      expect(ran).toBe(false)
      await run(db.transaction((tx) => tx.execute(insert(2)), { isolation: 'serializable', readOnly: false }))
      expect(await countIn(db)).toBe(1)
    })
  })
}

describe.skipIf(!pgUp)('a serializable write skew on PostgreSQL', () => {
  const D = 'ptx_oncall'
  let a: Backend
  let b: Backend
  beforeAll(async () => {
    a = await run(connect(postgresJs({ url: PG_URL, max: 2 }), postgres))
    b = await run(connect(postgresJs({ url: PG_URL, max: 2 }), postgres))
    await run(a.execute(sql.raw(`DROP TABLE IF EXISTS ${D}`)))
    await run(a.execute(sql.raw(`CREATE TABLE ${D} (doctor TEXT PRIMARY KEY, on_call BOOLEAN NOT NULL)`)))
  })
  beforeEach(async () => {
    await run(a.execute(sql.raw(`DELETE FROM ${D}`)))
    await run(a.execute(sql.raw(`INSERT INTO ${D} VALUES ('alice', true), ('bob', true)`)))
  })
  afterAll(async () => {
    if (a === undefined) return
    await a.execute(sql.raw(`DROP TABLE IF EXISTS ${D}`))()
    await run(a.close())
    await run(b.close())
  })

  /** Go off call if someone else stays on: both read two on call, then each leaves. */
  const leave = (db: Backend, who: string, bothRead: Promise<void>, read: () => void) =>
    db.transaction((tx) => async () => {
      const [{ n }] = await run(tx.all<{ n: unknown }>(sql.raw(`SELECT COUNT(*) AS n FROM ${D} WHERE on_call`)))
      read()
      await bothRead
      if (Number(n) < 2) return E.right('stayed')
      return pipe(await tx.execute(sql`UPDATE ${sql.id(D)} SET on_call = false WHERE doctor = ${who}`)(), E.map(() => 'left'))
    }, { isolation: 'serializable' })

  const race = async (ta: Backend, tb: Backend) => {
    let reads = 0
    let release!: () => void
    const bothRead = new Promise<void>((r) => { release = r })
    const read = () => { if (++reads === 2) release() }
    return Promise.all([leave(ta, 'alice', bothRead, read)(), leave(tb, 'bob', bothRead, read)()])
  }
  const onCall = async () => Number((await run(a.all<{ n: unknown }>(sql.raw(`SELECT COUNT(*) AS n FROM ${D} WHERE on_call`))))[0].n)

  it('one of the two is refused with SerializationFailure, and one doctor stays on call', async () => {
    const results = await race(a, b)
    expect(results.map((r) => (E.isLeft(r) ? r.left._tag : r.right)).sort()).toEqual(['SerializationFailure', 'left'])
    expect(await onCall()).toBe(1)
  })

  it('with retry, the refused one runs again, sees one on call, and stays', async () => {
    const results = await race(wrap(a, retry({ attempts: 3 })), wrap(b, retry({ attempts: 3 })))
    expect(results.map((r) => (E.isLeft(r) ? r.left._tag : r.right)).sort()).toEqual(['left', 'stayed'])
    expect(await onCall()).toBe(1)
  })
})

describe('MySQL 8, as SQL text', () => {
  it('a level is set for the next transaction alone, then START TRANSACTION with its access mode', () => {
    expect(mysql.beginTransaction({ isolation: 'serializable', readOnly: true })).toEqual(['SET TRANSACTION ISOLATION LEVEL SERIALIZABLE', 'START TRANSACTION READ ONLY'])
    expect(mysql.beginTransaction({ isolation: 'read committed' })).toEqual(['SET TRANSACTION ISOLATION LEVEL READ COMMITTED', 'START TRANSACTION'])
    expect(mysql.beginTransaction({ readOnly: false })).toEqual(['START TRANSACTION READ WRITE'])
    expect(mysql.beginTransaction({})).toEqual(['START TRANSACTION'])
  })

  it('savepoint names are quoted as identifiers', () => {
    expect([mysql.savepoint('a`b'), mysql.releaseSavepoint('step_2'), mysql.rollbackToSavepoint('step')]).toEqual(['SAVEPOINT `a``b`', 'RELEASE SAVEPOINT `step_2`', 'ROLLBACK TO SAVEPOINT `step`'])
  })
})
