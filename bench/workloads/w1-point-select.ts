/**
 * W1: point select by primary key, on every engine.
 *
 * recordkit three ways (four on SQLite): `db.first(builder)` (the default path: the query is built and
 * compiled on every call, rows come back as the driver gives them), a prepared query
 * (`db.prepare(...).first(args)`; on SQLite also its synchronous form, `.sync.first(args)()`, run in a
 * plain loop as raw is, beside Drizzle's synchronous prepared `.get()` in the same loop), and `Model.find` (prepared, and the row decoded through the
 * model's codec: booleans and dates become booleans and Dates; on SQLite also `Model.findNow`,
 * its synchronous form, in a plain loop).
 */
import { eq as deq, sql as dsql } from 'drizzle-orm'
import { pipe } from 'fp-ts/lib/function.js'
import { eq, from, param, select, where } from 'recordkit/query'
import * as C from '../clients.js'
import type { Engine } from '../env.js'
import { USERS } from '../env.js'
import { type GroupSpec, type ImplSpec, main } from '../group.js'
import { expect, right } from '../lib.js'
import { Blog } from '../schema/recordkit.js'
import * as dm from '../schema/drizzle-mariadb.js'
import * as dp from '../schema/drizzle-postgres.js'
import * as ds from '../schema/drizzle-sqlite.js'

const COLS = ['id', 'name', 'email', 'active', 'created_at'] as const
const TEXT = `SELECT ${COLS.join(', ')} FROM users WHERE id = ?`

/** The next key, cycling through every user. */
const keys = () => {
  let k = 0
  return () => (k = (k % USERS) + 1)
}

const checkRow = (row: unknown, id: number): void => {
  const r = row as Record<string, unknown> | undefined
  expect(r !== undefined && r.id === id && r.email === `user${id}@example.com`, `row of user ${id}: ${JSON.stringify(r)}`)
}

/** An instance from one async point select by key. */
const looped = (one: (id: number) => Promise<unknown>, close?: () => Promise<void> | void) => {
  const next = keys()
  return {
    run: async (n: number) => { for (let i = 0; i < n; i++) await one(next()) },
    check: async () => checkRow(await one(7), 7),
    close,
  }
}

type Found = { readonly _tag: 'Left'; readonly left: unknown } | { readonly _tag: 'Right'; readonly right: { readonly _tag: 'None' } | { readonly _tag: 'Some'; readonly value: unknown } }

/**
 * An instance from one recordkit point select by key, run as a caller writes it: one `await` of
 * the task per operation (a Left stops the run), not wrapped in a second async function.
 */
const loopedTask = (one: (id: number) => () => Promise<Found>, close?: () => void) => {
  const next = keys()
  return {
    run: async (n: number) => {
      for (let i = 0; i < n; i++) {
        const r = await one(next())()
        if (r._tag === 'Left') throw r.left
      }
    },
    check: async () => {
      const o = right(await one(7)())
      checkRow(o._tag === 'Some' ? o.value : undefined, 7)
    },
    close,
  }
}

/** An instance from one synchronous recordkit point select by key, run in a plain loop as raw runs. */
const plainLoop = (one: (id: number) => Found, close: () => void) => {
  const found = (id: number) => {
    const o = right(one(id))
    return o._tag === 'Some' ? o.value : undefined
  }
  const next = keys()
  return {
    run: (n: number) => { for (let i = 0; i < n; i++) found(next()) },
    check: () => checkRow(found(7), 7),
    close,
  }
}

export const impls = (engine: Engine): ImplSpec[] => {
  const raw: ImplSpec = engine === 'sqlite'
    ? {
        name: 'raw better-sqlite3', note: 'prepared statement, `.get()`',
        make: () => {
          const db = C.rawSqlite()
          const stmt = db.prepare(TEXT)
          const next = keys()
          return {
            run: (n) => { for (let i = 0; i < n; i++) stmt.get(next()) },
            check: () => checkRow(stmt.get(7), 7),
            close: () => { db.close() },
          }
        },
      }
    : engine === 'postgres'
      ? {
          name: 'raw postgres.js', note: 'tagged template (prepared, cached)',
          make: (t) => {
            const sql = C.rawPostgres(t)
            return looped(async (id) => (await sql`SELECT id, name, email, active, created_at FROM users WHERE id = ${id}`)[0], () => sql.end())
          },
        }
      : {
          name: 'raw mysql2', note: '`pool.execute` (server-side prepared, cached)',
          make: (t) => {
            const pool = C.rawMysql(t)
            return looped(async (id) => ((await pool.execute(TEXT, [id]))[0] as unknown[])[0], () => pool.end())
          },
        }

  // What an `await` per operation costs on its own: the baseline's statement, awaited.
  const rawAwaited: ImplSpec = {
    name: 'raw better-sqlite3, awaited', note: 'the same prepared `.get()`, awaited once per operation (the price of any Promise API)',
    make: () => {
      const db = C.rawSqlite()
      const stmt = db.prepare(TEXT)
      const next = keys()
      return {
        run: async (n) => { for (let i = 0; i < n; i++) await stmt.get(next()) },
        check: async () => checkRow(await stmt.get(7), 7),
        close: () => { db.close() },
      }
    },
  }

  const recordkitFirst: ImplSpec = {
    name: 'recordkit `db.first(builder)`', note: 'built and compiled per call, no decoding',
    make: async (t) => {
      const db = await C.recordkit(t)
      return loopedTask((id) => db.first(pipe(from('users'), select(...COLS), where(eq('id', id)))), () => { void db.close()() })
    },
  }
  const recordkitPrepared: ImplSpec = {
    name: 'recordkit prepared', note: '`db.prepare(...).first({ id })`, no decoding',
    make: async (t) => {
      const db = await C.recordkit(t)
      const p = db.prepare(pipe(from('users'), select(...COLS), where(eq('id', param('id')))))
      return loopedTask((id) => p.first({ id }), () => { void db.close()() })
    },
  }
  const recordkitPreparedSync: ImplSpec = {
    name: 'recordkit prepared, sync', note: '`db.prepare(...).sync.first({ id })()` in a plain loop, as raw runs (better-sqlite3 only), no decoding',
    make: async (t) => {
      const db = await C.recordkit(t)
      const p = db.prepare(pipe(from('users'), select(...COLS), where(eq('id', param('id')))))
      const now = p.sync
      if (now === undefined) throw new Error('no synchronous path on this backend')
      return plainLoop((id) => now.first({ id })(), () => { void db.close()() })
    },
  }
  const recordkitFind: ImplSpec = {
    name: 'recordkit `User.find`', note: 'model: prepared, row decoded (boolean, Date)',
    make: async (t) => {
      const db = await C.recordkit(t)
      return loopedTask((id) => Blog.User.find(db, id), () => { void db.close()() })
    },
  }
  const recordkitFindNow: ImplSpec = {
    name: 'recordkit `User.findNow`, sync', note: '`User.findNow(db, id)()` in a plain loop, as raw runs (better-sqlite3 only): prepared, row decoded (boolean, Date)',
    make: async (t) => {
      const db = await C.recordkit(t)
      return plainLoop((id) => Blog.User.findNow(db, id)(), () => { void db.close()() })
    },
  }
  const kysely: ImplSpec = {
    name: 'Kysely', note: '`executeTakeFirst()`',
    make: (t) => {
      const db = C.kysely(t)
      return looped((id) => db.selectFrom('users').select([...COLS]).where('id', '=', id).executeTakeFirst(), () => db.destroy())
    },
  }
  const drizzle: ImplSpec = {
    name: 'Drizzle', note: 'select builder',
    make: (t) => {
      if (t.engine === 'sqlite') {
        const db = C.drizzleOnSqlite()
        return looped(async (id) => db.select().from(ds.users).where(deq(ds.users.id, id)).get(), () => C.closeDrizzle(db))
      }
      if (t.engine === 'postgres') {
        const db = C.drizzleOnPostgres(t)
        return looped(async (id) => (await db.select().from(dp.users).where(deq(dp.users.id, id)))[0], () => C.closeDrizzle(db))
      }
      const db = C.drizzleOnMariadb(t)
      return looped(async (id) => (await db.select().from(dm.users).where(deq(dm.users.id, id)))[0], () => C.closeDrizzle(db))
    },
  }
  const drizzlePrepared: ImplSpec = {
    name: 'Drizzle prepared', note: '`.prepare()` with a placeholder',
    make: (t) => {
      if (t.engine === 'sqlite') {
        const db = C.drizzleOnSqlite()
        const p = db.select().from(ds.users).where(deq(ds.users.id, dsql.placeholder('id'))).prepare()
        return looped(async (id) => p.get({ id }), () => C.closeDrizzle(db))
      }
      if (t.engine === 'postgres') {
        const db = C.drizzleOnPostgres(t)
        const p = db.select().from(dp.users).where(deq(dp.users.id, dsql.placeholder('id'))).prepare('user_by_id')
        return looped(async (id) => (await p.execute({ id }))[0], () => C.closeDrizzle(db))
      }
      const db = C.drizzleOnMariadb(t)
      const p = db.select().from(dm.users).where(deq(dm.users.id, dsql.placeholder('id'))).prepare()
      return looped(async (id) => (await p.execute({ id }))[0], () => C.closeDrizzle(db))
    },
  }
  const drizzlePreparedSync: ImplSpec = {
    name: 'Drizzle prepared, plain loop', note: '`.prepare()` with a placeholder, `.get()` in a plain loop, as raw runs',
    make: () => {
      const db = C.drizzleOnSqlite()
      const p = db.select().from(ds.users).where(deq(ds.users.id, dsql.placeholder('id'))).prepare()
      const next = keys()
      return {
        run: (n) => { for (let i = 0; i < n; i++) p.get({ id: next() }) },
        check: () => checkRow(p.get({ id: 7 }), 7),
        close: () => C.closeDrizzle(db),
      }
    },
  }
  const knex: ImplSpec = {
    name: 'Knex', note: '`.first()`',
    make: (t) => {
      const k = C.knex(t)
      return looped((id) => k('users').select(...COLS).where('id', id).first(), () => k.destroy())
    },
  }
  return [raw, ...(engine === 'sqlite' ? [rawAwaited] : []), recordkitPrepared, ...(engine === 'sqlite' ? [recordkitPreparedSync] : []), recordkitFirst, recordkitFind, ...(engine === 'sqlite' ? [recordkitFindNow] : []), kysely, drizzle, drizzlePrepared, ...(engine === 'sqlite' ? [drizzlePreparedSync] : []), knex]
}

/**
 * The same on SQLite, after one recordkit transaction has run in the process: recordkit keeps a
 * transaction's connection in AsyncLocalStorage, and once one is in use Node 20 tracks every
 * promise of the process (async_hooks), the raw driver's and the other libraries' too. Runs last.
 */
const afterTransaction = (engine: Engine): GroupSpec => {
  const all = impls(engine)
  const named = (name: string) => all.find((i) => i.name === name)!
  const [raw, prepared, first, kysely] = [all[0], named('recordkit prepared'), named('recordkit `db.first(builder)`'), named('Kysely')]
  const preparedSync = all.find((i) => i.name === 'recordkit prepared, sync')
  return {
    key: `W1.${engine}.after-transaction`,
    workload: 'W1',
    title: 'Point select by primary key, after a transaction has run in the process',
    engine,
    op: 'one SELECT of a users row by primary key',
    notes: ['Before measuring, one recordkit `db.transaction` runs: from then on Node 20 tracks every promise in the process (AsyncLocalStorage), whichever library creates it.'],
    impls: [
      {
        ...raw,
        make: async (t) => {
          const db = await C.recordkit(t)
          right(await db.transaction(() => db.execute({ sql: 'SELECT 1', params: [] }))())
          await db.close()()
          return raw.make(t)
        },
      },
      prepared, ...(preparedSync === undefined ? [] : [preparedSync]), first, kysely,
    ],
  }
}

export const groups = (engines: readonly Engine[]): GroupSpec[] => [
  ...engines.map((engine): GroupSpec => ({
    key: `W1.${engine}`,
    workload: 'W1',
    title: 'Point select by primary key',
    engine,
    op: 'one SELECT of a users row by primary key',
    impls: impls(engine),
    // Operations of a microsecond or two: longer measurements and more rounds steady the ratios.
    compare: { targetMs: 150, rounds: 15 },
  })),
  ...(engines.includes('sqlite') ? [afterTransaction('sqlite')] : []),
]

if (import.meta.url === `file://${process.argv[1]}`) await main(groups)
