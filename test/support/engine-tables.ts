/**
 * The three engines a model test runs on, and the life of its tables on each: created before the
 * file's tests (dropped first, in case an earlier run left them), emptied before each test,
 * dropped after. A server that does not answer skips its tests.
 */
import { afterAll, beforeAll, beforeEach } from 'vitest'
import { type Backend, compose, createBackend, run, sql } from 'recordkit'
import { sqlite } from 'recordkit/dialects/sqlite'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'
import { MYSQL_URL, PG_URL, serverAvailable } from './servers.js'

/** An engine to run on: its name and how to connect (undefined when its server does not answer). */
export interface Engine {
  readonly name: 'sqlite' | 'postgres' | 'mariadb'
  readonly connect: () => Promise<Backend | undefined>
}

export const ENGINES: readonly Engine[] = [
  { name: 'sqlite', connect: async () => compose(betterSqlite3({ filename: ':memory:' }), sqlite) },
  { name: 'postgres', connect: async () => ((await serverAvailable('postgres')) ? run(createBackend(PG_URL)) : undefined) },
  { name: 'mariadb', connect: async () => ((await serverAvailable('mariadb')) ? run(createBackend(MYSQL_URL.replace(/^mysql:/, 'mariadb:'))) : undefined) },
]

/**
 * Register the hooks of a `describe` block whose tests use `tables` on `engine` (made by `ddl`).
 * `use` gives a test the backend or skips it when the server is away; `current` is the backend,
 * or undefined, for the block's own hooks, which run after these (its `beforeEach` finds the
 * tables empty).
 */
export const engineTables = (engine: Engine, tables: readonly string[], ddl: (engine: string) => readonly string[]): {
  readonly use: (ctx: { skip: () => void }) => Backend
  readonly current: () => Backend | undefined
} => {
  let db: Backend | undefined
  const dropAll = async (d: Backend) => {
    for (const table of tables) await run(d.execute(sql`DROP TABLE IF EXISTS ${sql.id(table)}`))
  }
  beforeAll(async () => {
    db = await engine.connect()
    if (db === undefined) return
    await dropAll(db)
    for (const text of ddl(engine.name)) await run(db.execute(sql.raw(text)))
  })
  afterAll(async () => {
    if (db === undefined) return
    await dropAll(db)
    await run(db.close())
  })
  beforeEach(async () => {
    if (db === undefined) return
    for (const table of tables) await run(db.execute(sql`DELETE FROM ${sql.id(table)}`))
  })
  return {
    use: (ctx) => {
      if (db === undefined) ctx.skip()
      return db!
    },
    current: () => db,
  }
}
