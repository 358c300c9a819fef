/**
 * W7: 1000 point selects in flight at once (`Promise.all`), on PostgreSQL and MariaDB, with
 * pools of 1 and 4 connections. One operation is the whole batch of 1000; throughput is
 * queries per second.
 *
 * postgres.js pipelines queries on each connection (many in flight on one socket); mysql2 sends
 * one at a time per connection. How each library uses its pool is part of what is measured:
 * Kysely's postgres.js dialect reserves a connection per query, so it cannot pipeline.
 * Each measurement follows one untimed batch (`settleOps`, see below).
 */
import { eq as deq } from 'drizzle-orm'
import { pipe } from 'fp-ts/lib/function.js'
import { eq, from, param, select, where } from 'recordkit/query'
import * as C from '../clients.js'
import type { Engine } from '../env.js'
import { USERS } from '../env.js'
import { type GroupSpec, type ImplSpec, main } from '../group.js'
import { expect, right } from '../lib.js'
import * as dm from '../schema/drizzle-mariadb.js'
import * as dp from '../schema/drizzle-postgres.js'

const BATCH = 1000
const COLS = ['id', 'name', 'email', 'active', 'created_at'] as const
const TEXT = `SELECT ${COLS.join(', ')} FROM users WHERE id = ?`

/** One operation: BATCH selects at once; the check verifies every answer once. */
const instance = (one: (id: number) => Promise<unknown>, close: () => Promise<void> | void) => {
  let k = 0
  const batch = () => {
    const start = (k++ * BATCH) % USERS
    return Promise.all(Array.from({ length: BATCH }, (_, i) => one(((start + i) % USERS) + 1)))
  }
  return {
    run: async (n: number) => { for (let i = 0; i < n; i++) await batch() },
    check: async () => {
      const rows = await Promise.all(Array.from({ length: BATCH }, (_, i) => one(i + 1)))
      expect(rows.every((r, i) => (r as { id?: number } | undefined)?.id === i + 1), 'every row answers its own key')
    },
    close,
  }
}

const impls = (engine: Engine): ImplSpec[] => [
  engine === 'postgres'
    ? {
        name: 'raw postgres.js', note: 'tagged template (prepared), pipelined',
        make: (t) => {
          const sql = C.rawPostgres(t)
          return instance(async (id) => (await sql`SELECT id, name, email, active, created_at FROM users WHERE id = ${id}`)[0], () => sql.end())
        },
      }
    : {
        name: 'raw mysql2', note: '`pool.execute`',
        make: (t) => {
          const pool = C.rawMysql(t)
          return instance(async (id) => ((await pool.execute(TEXT, [id]))[0] as unknown[])[0], () => pool.end())
        },
      },
  {
    name: 'recordkit prepared', note: '`db.prepare(...).first({ id })`',
    make: async (t) => {
      const db = await C.recordkit(t)
      const p = db.prepare(pipe(from('users'), select(...COLS), where(eq('id', param('id')))))
      return instance(async (id) => {
        const o = right(await p.first({ id })())
        return o._tag === 'Some' ? o.value : undefined
      }, () => { void db.close()() })
    },
  },
  {
    name: 'recordkit `db.first(builder)`', note: 'built and compiled per call',
    make: async (t) => {
      const db = await C.recordkit(t)
      return instance(async (id) => {
        const o = right(await db.first(pipe(from('users'), select(...COLS), where(eq('id', id))))())
        return o._tag === 'Some' ? o.value : undefined
      }, () => { void db.close()() })
    },
  },
  {
    name: 'Kysely', note: engine === 'postgres' ? '`kysely-postgres-js`: a reserved connection per query' : '`executeTakeFirst()`',
    make: (t) => {
      const db = C.kysely(t)
      return instance((id) => db.selectFrom('users').select([...COLS]).where('id', '=', id).executeTakeFirst(), () => db.destroy())
    },
  },
  {
    name: 'Drizzle', note: 'select builder',
    make: (t) => {
      if (engine === 'postgres') {
        const db = C.drizzleOnPostgres(t)
        return instance(async (id) => (await db.select().from(dp.users).where(deq(dp.users.id, id)))[0], () => C.closeDrizzle(db))
      }
      const db = C.drizzleOnMariadb(t)
      return instance(async (id) => (await db.select().from(dm.users).where(deq(dm.users.id, id)))[0], () => C.closeDrizzle(db))
    },
  },
  {
    name: 'Knex', note: engine === 'postgres' ? '`pg` pool' : 'mysql2 pool',
    make: (t) => {
      const k = C.knex(t)
      return instance((id) => k('users').select(...COLS).where('id', id).first(), () => k.destroy())
    },
  },
]

export const groups = (engines: readonly Engine[]): GroupSpec[] =>
  [1, 4].flatMap((pool) => engines.filter((e) => e !== 'sqlite').map((engine): GroupSpec => ({
    key: `W7.pool${pool}.${engine}`,
    workload: 'W7',
    title: `1000 concurrent point selects, pool of ${pool}`,
    engine,
    op: '1000 point selects in flight at once',
    rowsPerOp: BATCH,
    pool,
    // One operation is 1000 statements, so a measurement is only 2-5 operations: the harness's
    // untimed tenth after its forced collection (see `timed` in bench/lib.ts) would be none, and
    // each measurement would begin in the slow state just after a full collection, which with
    // 1000 statements' objects alive at once charged each implementation by what it allocates
    // per statement (measured: builder 1.22x raw with it, 1.01x without). One batch settles it.
    // Rounds on PostgreSQL with a pool of 4 ranged over 0.6x-1.8x of raw in one process: the
    // median of 15 of them read 0.97x and 1.15x in two processes of the same code, so 31.
    compare: { targetMs: 150, rounds: 31, settleOps: 1 },
    impls: impls(engine),
  })))

if (import.meta.url === `file://${process.argv[1]}`) await main(groups)
