/**
 * Chinook on the database servers: loaded once into its own database, `chinook`, and kept.
 *
 * `ensureMariadbChinook` / `ensurePostgresChinook` are idempotent and safe when several test
 * processes call them at once: each takes a server-side lock (MariaDB GET_LOCK, a PostgreSQL
 * advisory lock) on a connection of its own, creates the database if missing, and loads the
 * tables unless they are all there with every row (a load cut short is dropped and redone).
 */
import * as E from 'fp-ts/lib/Either.js'
import { type Backend, connect, sql } from 'recordkit'
import { mysql } from 'recordkit/dialects/mysql'
import { postgres } from 'recordkit/dialects/postgres'
import { mysql2 } from 'recordkit/drivers/mysql2'
import { postgresJs } from 'recordkit/drivers/postgres'
import { run } from 'recordkit/promise'
import { chinookTables, dropChinook, loadChinook } from 'recordkit/testing'
import { MYSQL_URL, PG_URL } from './servers.js'

/** The name of the database Chinook lives in on each server. */
export const CHINOOK_DATABASE = 'chinook'

/** A server URL with its database replaced. */
export const withDatabase = (url: string, database: string): string => {
  const u = new URL(url)
  u.pathname = `/${database}`
  return u.toString()
}

/** The URL of the Chinook database on MariaDB. */
export const MYSQL_CHINOOK_URL = withDatabase(MYSQL_URL, CHINOOK_DATABASE)
/** The URL of the Chinook database on PostgreSQL. */
export const PG_CHINOOK_URL = withDatabase(PG_URL, CHINOOK_DATABASE)

/** The advisory lock key the PostgreSQL load holds (any number the tests use for nothing else). */
const PG_LOCK = 7_424_242

/** Whether every Chinook table is there with all its rows. */
const complete = async (db: Backend): Promise<boolean> => {
  for (const t of chinookTables()) {
    const r = await db.all(sql`SELECT COUNT(*) AS n FROM ${sql.id(t.name)}`)()
    if (E.isLeft(r) || Number(r.right[0].n) !== t.rows.length) return false
  }
  return true
}

/** Load Chinook into `db` unless it is complete already; a partial load is dropped first. */
const loadUnlessComplete = async (db: Backend): Promise<'loaded' | 'present'> => {
  if (await complete(db)) return 'present'
  await run(dropChinook(db))
  await run(loadChinook(db))
  return 'loaded'
}

/**
 * Make sure the `chinook` database exists on MariaDB with Chinook loaded.
 * @example await ensureMariadbChinook()
 */
export const ensureMariadbChinook = async (): Promise<'loaded' | 'present'> => {
  // One connection, so the lock and the statements after it share a session.
  const admin = await run(connect(mysql2({ url: MYSQL_URL, max: 1 }), mysql))
  try {
    const [lock] = await run(admin.all(sql`SELECT GET_LOCK(${'recordkit_chinook'}, ${600}) AS got`))
    if (Number(lock.got) !== 1) throw new Error('could not take the Chinook load lock')
    try {
      await run(admin.execute(sql.raw(`CREATE DATABASE IF NOT EXISTS ${admin.dialect.quoteIdentifier(CHINOOK_DATABASE)} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`)))
      const db = await run(connect(mysql2({ url: MYSQL_CHINOOK_URL, max: 1 }), mysql))
      try {
        return await loadUnlessComplete(db)
      } finally {
        await run(db.close())
      }
    } finally {
      await run(admin.all(sql`SELECT RELEASE_LOCK(${'recordkit_chinook'}) AS released`))
    }
  } finally {
    await run(admin.close())
  }
}

/**
 * Make sure the `chinook` database exists on PostgreSQL with Chinook loaded.
 * @example await ensurePostgresChinook()
 */
export const ensurePostgresChinook = async (): Promise<'loaded' | 'present'> => {
  // One connection: an advisory lock belongs to the session that took it.
  const admin = await run(connect(postgresJs({ url: PG_URL, max: 1 }), postgres))
  try {
    await run(admin.all(sql`SELECT pg_advisory_lock(${PG_LOCK})`))
    try {
      const [found] = await run(admin.all(sql`SELECT COUNT(*) AS n FROM pg_database WHERE datname = ${CHINOOK_DATABASE}`))
      if (Number(found.n) === 0) await run(admin.execute(sql.raw(`CREATE DATABASE ${admin.dialect.quoteIdentifier(CHINOOK_DATABASE)}`)))
      const db = await run(connect(postgresJs({ url: PG_CHINOOK_URL, max: 1 }), postgres))
      try {
        return await loadUnlessComplete(db)
      } finally {
        await run(db.close())
      }
    } finally {
      await run(admin.all(sql`SELECT pg_advisory_unlock(${PG_LOCK})`))
    }
  } finally {
    await run(admin.close())
  }
}
