/**
 * Each library's handle on each engine, made the way its documentation shows. Every
 * implementation gets its own client (its own pool, or its own SQLite database in memory
 * holding the same data), so none shares state with another.
 */
import Database from 'better-sqlite3'
import { drizzle as drizzleSqlite } from 'drizzle-orm/better-sqlite3'
import { drizzle as drizzleMysql } from 'drizzle-orm/mysql2'
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js'
import knexFactory, { type Knex } from 'knex'
import { Kysely, MysqlDialect, ParseJSONResultsPlugin, SqliteDialect } from 'kysely'
import { PostgresJSDialect } from 'kysely-postgres-js'
import { createPool as createCallbackPool } from 'mysql2'
import mysqlPromise from 'mysql2/promise'
import postgresJs from 'postgres'
import { compose, connect, run, type Backend } from 'recordkit'
import { mariadb } from 'recordkit/dialects/mysql'
import { postgres as postgresDialect } from 'recordkit/dialects/postgres'
import { sqlite } from 'recordkit/dialects/sqlite'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'
import { mysql2 } from 'recordkit/drivers/mysql2'
import { postgresJs as postgresJsDriver } from 'recordkit/drivers/postgres'
import type { Engine } from './env.js'
import * as dm from './schema/drizzle-mariadb.js'
import * as dp from './schema/drizzle-postgres.js'
import * as ds from './schema/drizzle-sqlite.js'
import type { KyselyDB } from './schema/kysely.js'
import { seedSqlite, sqliteMemory } from './setup.js'

/** Where an implementation connects: an engine, and for servers a URL (maybe a counting proxy's). */
export interface Target {
  readonly engine: Engine
  readonly url: string
  /** Pool size (servers). Default 4. */
  readonly pool?: number
}

const poolOf = (t: Target): number => t.pool ?? 4

// ---------------------------------------------------------------- raw drivers

/** A better-sqlite3 connection with the data (library defaults: integers as numbers). */
export const rawSqlite = (): Database.Database => sqliteMemory()

/** A postgres.js pool. */
export const rawPostgres = (t: Target): postgresJs.Sql => postgresJs(t.url, { max: poolOf(t), onnotice: () => {} })

/** A mysql2 pool (promise API), reading DATETIME as UTC. */
export const rawMysql = (t: Target): mysqlPromise.Pool => mysqlPromise.createPool({ uri: t.url, connectionLimit: poolOf(t), timezone: 'Z' })

// ---------------------------------------------------------------- recordkit

/** A recordkit backend, as the docs make it: `compose` for SQLite, `connect` for servers. */
export const recordkit = async (t: Target): Promise<Backend> => {
  switch (t.engine) {
    case 'sqlite': {
      const driver = betterSqlite3({ filename: ':memory:' })
      seedSqlite(driver.database())
      return compose(driver, sqlite)
    }
    case 'postgres': return run(connect(postgresJsDriver({ url: t.url, max: poolOf(t) }), postgresDialect))
    case 'mariadb': return run(connect(mysql2({ url: t.url, max: poolOf(t) }), mariadb))
  }
}

// ---------------------------------------------------------------- Kysely

/** A Kysely instance; `json` installs ParseJSONResultsPlugin, which its JSON helpers need off PostgreSQL. */
export const kysely = (t: Target, options: { readonly json?: boolean } = {}): Kysely<KyselyDB> => {
  const plugins = options.json === true && t.engine !== 'postgres' ? [new ParseJSONResultsPlugin()] : []
  switch (t.engine) {
    case 'sqlite': return new Kysely<KyselyDB>({ dialect: new SqliteDialect({ database: sqliteMemory() }), plugins })
    case 'postgres': return new Kysely<KyselyDB>({ dialect: new PostgresJSDialect({ postgres: rawPostgres(t) }), plugins })
    case 'mariadb': return new Kysely<KyselyDB>({
      dialect: new MysqlDialect({ pool: createCallbackPool({ uri: t.url, connectionLimit: poolOf(t), timezone: 'Z' }) }),
      plugins,
    })
  }
}

// ---------------------------------------------------------------- Drizzle

export const drizzleOnSqlite = () => drizzleSqlite({ client: sqliteMemory(), schema: ds })
export const drizzleOnPostgres = (t: Target) => drizzlePostgres({ client: rawPostgres(t), schema: dp })
// Drizzle's 'default' relational queries use LATERAL joins, which MariaDB lacks; 'planetscale' mode does without.
export const drizzleOnMariadb = (t: Target) => drizzleMysql({ client: rawMysql(t), schema: dm, mode: 'planetscale' })

/** How to close a Drizzle instance's client. */
export const closeDrizzle = async (db: { readonly $client: unknown }): Promise<void> => {
  const c = db.$client as { close?: () => void; end?: () => Promise<void> }
  if (c instanceof Database) c.close()
  else await c.end?.()
}

// ---------------------------------------------------------------- Knex

/** A Knex instance: better-sqlite3, pg (Knex's PostgreSQL path goes through `pg`) or mysql2. */
export const knex = (t: Target): Knex => {
  switch (t.engine) {
    case 'sqlite': return knexFactory({
      client: 'better-sqlite3',
      connection: { filename: ':memory:' },
      useNullAsDefault: true,
      pool: {
        afterCreate: (conn: Database.Database, done: (err: Error | null, conn: Database.Database) => void) => {
          conn.pragma('foreign_keys = ON')
          seedSqlite(conn)
          done(null, conn)
        },
      },
    })
    case 'postgres': return knexFactory({ client: 'pg', connection: t.url, pool: { min: 0, max: poolOf(t) } })
    case 'mariadb': {
      const u = new URL(t.url)
      return knexFactory({
        client: 'mysql2',
        connection: { host: u.hostname, port: Number(u.port || 3306), user: decodeURIComponent(u.username), password: decodeURIComponent(u.password), database: u.pathname.slice(1), timezone: 'Z' },
        pool: { min: 0, max: poolOf(t) },
      })
    }
  }
}
