/**
 * Two databases on each engine, for the scale-out tests that need two backends of one engine
 * (two shards, or a primary and a replica) without servers of their own: two in-memory SQLite
 * databases, two schemas of the shared PostgreSQL test database (each connection with its own
 * search_path), two databases on the shared MariaDB server. `prefix` names the schemas and
 * databases, so test files running at once keep apart; they are dropped when the file ends.
 */
import { afterAll, beforeAll, beforeEach } from 'vitest'
import { compose, connect, createBackend, run, sql, type Backend } from 'recordkit'
import { postgres } from 'recordkit/dialects/postgres'
import { sqlite } from 'recordkit/dialects/sqlite'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'
import { postgresJs } from 'recordkit/drivers/postgres'
import { shard, type ShardedBackend } from 'recordkit/scale-out'
import { MYSQL_URL, PG_URL, serverAvailable } from '../support/servers.js'

/** An engine and how to open, and drop, two databases on it. */
export interface PairEngine {
  readonly name: 'sqlite' | 'postgres' | 'mariadb'
  /** Two backends on fresh databases (undefined when the server does not answer). */
  readonly open: (prefix: string) => Promise<Backend[] | undefined>
  readonly drop: (prefix: string) => Promise<void>
}

const mariadbUrl = (database: string): string => {
  const u = new URL(MYSQL_URL)
  u.protocol = 'mariadb:'
  u.pathname = `/${database}`
  return u.toString()
}

const admin = async (name: 'postgres' | 'mariadb', f: (db: Backend) => Promise<void>): Promise<void> => {
  const db = await run(createBackend(name === 'postgres' ? PG_URL : mariadbUrl(new URL(MYSQL_URL).pathname.slice(1))))
  try {
    await f(db)
  } finally {
    await run(db.close())
  }
}

export const PAIR_ENGINES: readonly PairEngine[] = [
  {
    name: 'sqlite',
    open: async () => [0, 1].map(() => compose(betterSqlite3({ filename: ':memory:' }), sqlite)),
    drop: async () => undefined,
  },
  {
    name: 'postgres',
    open: async (prefix) => {
      if (!(await serverAvailable('postgres'))) return undefined
      await admin('postgres', async (db) => {
        for (const i of [0, 1]) {
          await run(db.execute(sql`DROP SCHEMA IF EXISTS ${sql.id(`${prefix}_${i}`)} CASCADE`))
          await run(db.execute(sql`CREATE SCHEMA ${sql.id(`${prefix}_${i}`)}`))
        }
      })
      return Promise.all([0, 1].map((i) => run(connect(postgresJs({ url: PG_URL, max: 4, connection: { search_path: `${prefix}_${i}` } }), postgres))))
    },
    drop: (prefix) => admin('postgres', async (db) => {
      for (const i of [0, 1]) await run(db.execute(sql`DROP SCHEMA IF EXISTS ${sql.id(`${prefix}_${i}`)} CASCADE`))
    }),
  },
  {
    name: 'mariadb',
    open: async (prefix) => {
      if (!(await serverAvailable('mariadb'))) return undefined
      await admin('mariadb', async (db) => {
        for (const i of [0, 1]) {
          await run(db.execute(sql`DROP DATABASE IF EXISTS ${sql.id(`${prefix}_${i}`)}`))
          await run(db.execute(sql`CREATE DATABASE ${sql.id(`${prefix}_${i}`)}`))
        }
      })
      return Promise.all([0, 1].map((i) => run(createBackend(mariadbUrl(`${prefix}_${i}`)))))
    },
    drop: (prefix) => admin('mariadb', async (db) => {
      for (const i of [0, 1]) await run(db.execute(sql`DROP DATABASE IF EXISTS ${sql.id(`${prefix}_${i}`)}`))
    }),
  },
]

/** Where each tenant lives: acme and initech on shard 0, globex and umbrella on shard 1. */
export const HOME: Readonly<Record<string, number>> = { acme: 0, initech: 0, globex: 1, umbrella: 1 }

/** The rows every test starts from: one per tenant, ids 1 to 4. */
export const SEED = [
  { id: 1, tenant: 'acme', total: 10 },
  { id: 2, tenant: 'globex', total: 20 },
  { id: 3, tenant: 'initech', total: 30 },
  { id: 4, tenant: 'umbrella', total: 40 },
] as const

/**
 * A sharded backend over two databases of `engine`, `orders` sharded by `tenant` as HOME says,
 * made before the block's tests, emptied and seeded with SEED before each, dropped after.
 * `use` gives a test the backend, or skips the test when the server is away.
 */
export const shardedOrders = (engine: PairEngine, prefix: string): { readonly use: (ctx: { skip: () => void }) => ShardedBackend } => {
  let db: ShardedBackend | undefined
  beforeAll(async () => {
    const parts = await engine.open(prefix)
    if (parts === undefined) return
    db = shard(parts, (table) => (table === 'orders' ? 'tenant' : undefined), { route: (key) => HOME[String(key)] ?? 0 })
    // DDL through the sharded backend runs on every shard.
    await run(db.execute(sql`CREATE TABLE orders (id int PRIMARY KEY, tenant varchar(20) NOT NULL, total int NOT NULL, UNIQUE (tenant, id))`))
  })
  afterAll(async () => {
    if (db !== undefined) await run(db.close())
    await engine.drop(prefix)
  })
  beforeEach(async () => {
    if (db === undefined) return
    for (const s of db.shards) await run(s.execute(sql`DELETE FROM orders`))
    for (const row of SEED) await run(db.shards[HOME[row.tenant]].execute(sql`INSERT INTO orders (id, tenant, total) VALUES (${row.id}, ${row.tenant}, ${row.total})`))
  })
  return {
    use: (ctx) => {
      if (db === undefined) ctx.skip()
      return db!
    },
  }
}

/** The rows of `orders` on each shard, by id. */
export const rowsByShard = async (db: ShardedBackend): Promise<{ id: number; tenant: string; total: number }[][]> =>
  Promise.all(db.shards.map(async (s) => (await run(s.all<{ id: number; tenant: string; total: number }>(sql`SELECT id, tenant, total FROM orders ORDER BY id`))).map((r) => ({ id: Number(r.id), tenant: r.tenant, total: Number(r.total) }))))

/** What SEED puts on each shard. */
export const SEEDED = [
  [{ id: 1, tenant: 'acme', total: 10 }, { id: 3, tenant: 'initech', total: 30 }],
  [{ id: 2, tenant: 'globex', total: 20 }, { id: 4, tenant: 'umbrella', total: 40 }],
]
