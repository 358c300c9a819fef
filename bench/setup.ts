/**
 * Builds the benchmark databases: the seeded users -> posts -> comments schema and Chinook,
 * on PostgreSQL and MariaDB (database `bench`) and in a SQLite template file that every
 * implementation copies into its own in-memory database.
 *
 * Run by bench/run.ts before the workloads; the seeded tables are rebuilt on every run (the
 * write workloads change them), Chinook is loaded once and kept.
 */
import { existsSync, rmSync } from 'node:fs'
import Database from 'better-sqlite3'
import mysql from 'mysql2/promise'
import postgresJs from 'postgres'
// Setup only, not measured: Chinook is loaded with the loader the tests use.
import { compose, connect } from '../src/compose.js'
import { mariadb } from '../src/dialects/mysql.js'
import { postgres as pgDialect } from '../src/dialects/postgres.js'
import { sqlite } from '../src/dialects/sqlite.js'
import { betterSqlite3 } from '../src/drivers/better-sqlite3.js'
import { mysql2 } from '../src/drivers/mysql2.js'
import { postgresJs as pgDriver } from '../src/drivers/postgres.js'
import { run } from '../src/promise.js'
import { chinookTables, loadChinook } from '../src/testing/chinook.js'
import {
  BENCH_DB, BLOG_TABLES, COMMENTS, COLUMNS, commentRow, DDL, MYSQL_ADMIN_URL, MYSQL_URL, PG_ADMIN_URL, PG_URL, POSTS, postRow, SQLITE_TEMPLATE, USERS, userRow,
} from './env.js'

type Cell = string | number | boolean | Date
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1)

/** The seeded rows as arrays of cells, in COLUMNS order; `date` turns a Date into what the engine stores. */
const seededRows = (date: (d: Date) => Cell, bool: (b: boolean) => Cell) => ({
  users: range(USERS).map((i) => { const u = userRow(i); return [u.id, u.name, u.email, bool(u.active), date(u.createdAt)] }),
  posts: range(POSTS).map((j) => { const p = postRow(j); return [p.id, p.userId, p.title, p.body, bool(p.published), p.score, date(p.createdAt)] }),
  comments: range(COMMENTS).map((k) => { const c = commentRow(k); return [c.id, c.postId, c.author, c.body, date(c.createdAt)] }),
})

const CHINOOK_COUNTS = { track: 3503, invoice_line: 2240 }

// ---------------------------------------------------------------- SQLite

const buildSqliteTemplate = async (): Promise<void> => {
  for (const suffix of ['', '-wal', '-shm']) rmSync(SQLITE_TEMPLATE + suffix, { force: true })
  const raw = new Database(SQLITE_TEMPLATE)
  raw.pragma('journal_mode = DELETE')
  for (const ddl of DDL.sqlite) raw.exec(ddl)
  const rows = seededRows((d) => d.toISOString(), (b) => (b ? 1 : 0))
  raw.transaction(() => {
    for (const t of ['users', 'posts', 'comments'] as const) {
      const stmt = raw.prepare(`INSERT INTO ${t} (${COLUMNS[t].join(', ')}) VALUES (${COLUMNS[t].map(() => '?').join(', ')})`)
      for (const r of rows[t]) stmt.run(r)
    }
  })()
  raw.close()
  const db = compose(betterSqlite3({ filename: SQLITE_TEMPLATE, wal: false }), sqlite)
  await run(loadChinook(db))
  await run(db.close())
}

/**
 * Fill a fresh SQLite connection with the template's tables and rows (the seeded schema and
 * Chinook). Every SQLite implementation starts from the same data, each in its own memory.
 */
export const seedSqlite = (db: Database.Database): void => {
  db.exec(`ATTACH DATABASE '${SQLITE_TEMPLATE.replace(/'/g, "''")}' AS tpl`)
  const objects = db.prepare("SELECT type, name, sql FROM tpl.sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY rowid").all() as { type: string; name: string; sql: string }[]
  db.transaction(() => {
    for (const o of objects) {
      if (o.type !== 'table') continue
      db.exec(o.sql)
      db.exec(`INSERT INTO main."${o.name}" SELECT * FROM tpl."${o.name}"`)
    }
    for (const o of objects) if (o.type === 'index') db.exec(o.sql)
  })()
  db.exec('DETACH DATABASE tpl')
  db.exec('ANALYZE')
}

/** A new in-memory SQLite database holding the benchmark data. */
export const sqliteMemory = (): Database.Database => {
  const db = new Database(':memory:')
  db.pragma('foreign_keys = ON')
  seedSqlite(db)
  return db
}

// ---------------------------------------------------------------- PostgreSQL

const setupPostgres = async (): Promise<void> => {
  const admin = postgresJs(PG_ADMIN_URL, { max: 1, onnotice: () => {} })
  const exists = await admin`SELECT 1 FROM pg_database WHERE datname = ${BENCH_DB}`
  if (exists.length === 0) await admin.unsafe(`CREATE DATABASE ${BENCH_DB}`)
  await admin.end()

  const sql = postgresJs(PG_URL, { max: 1, onnotice: () => {} })
  for (const t of BLOG_TABLES) await sql.unsafe(`DROP TABLE IF EXISTS ${t} CASCADE`)
  for (const ddl of DDL.postgres) await sql.unsafe(ddl)
  const rows = seededRows((d) => d, (b) => b)
  for (const t of ['users', 'posts', 'comments'] as const) {
    const cols = COLUMNS[t]
    for (let i = 0; i < rows[t].length; i += 5000) {
      const chunk = rows[t].slice(i, i + 5000).map((r) => Object.fromEntries(cols.map((c, j) => [c, r[j]])))
      await sql`INSERT INTO ${sql(t)} ${sql(chunk, ...cols)}`
    }
  }
  await sql.unsafe('VACUUM ANALYZE users, posts, comments, post_inserts')
  const counts = await chinookCount(async (q) => (await sql.unsafe(q))[0]?.n)
  await sql.end()
  if (!counts) {
    const db = await run(connect(pgDriver({ url: PG_URL, max: 1 }), pgDialect))
    await dropChinookTables((q) => run(db.execute({ sql: q, params: [] })).then(() => undefined))
    await run(loadChinook(db))
    await run(db.execute({ sql: 'ANALYZE', params: [] }))
    await run(db.close())
  }
}

// ---------------------------------------------------------------- MariaDB

const setupMariadb = async (): Promise<void> => {
  const admin = await mysql.createConnection({ uri: MYSQL_ADMIN_URL })
  await admin.query(`CREATE DATABASE IF NOT EXISTS ${BENCH_DB}`)
  await admin.end()

  const conn = await mysql.createConnection({ uri: MYSQL_URL, timezone: 'Z' })
  await conn.query("SET time_zone = '+00:00'")
  for (const t of BLOG_TABLES) await conn.query(`DROP TABLE IF EXISTS ${t}`)
  for (const ddl of DDL.mariadb) await conn.query(ddl)
  const rows = seededRows((d) => d, (b) => (b ? 1 : 0))
  for (const t of ['users', 'posts', 'comments'] as const) {
    for (let i = 0; i < rows[t].length; i += 5000) {
      await conn.query(`INSERT INTO ${t} (${COLUMNS[t].join(', ')}) VALUES ?`, [rows[t].slice(i, i + 5000)])
    }
  }
  await conn.query('ANALYZE TABLE users, posts, comments')
  const counts = await chinookCount(async (q) => ((await conn.query(q))[0] as { n: number }[])[0]?.n)
  await conn.end()
  if (!counts) {
    const db = await run(connect(mysql2({ url: MYSQL_URL, max: 1 }), mariadb))
    await run(db.execute({ sql: 'SET FOREIGN_KEY_CHECKS = 0', params: [] }))
    await dropChinookTables((q) => run(db.execute({ sql: q, params: [] })).then(() => undefined))
    await run(db.execute({ sql: 'SET FOREIGN_KEY_CHECKS = 1', params: [] }))
    await run(loadChinook(db))
    await run(db.close())
  }
}

// ---------------------------------------------------------------- Chinook helpers

/** Whether Chinook is there already, with its full row counts. */
const chinookCount = async (scalar: (q: string) => Promise<unknown>): Promise<boolean> => {
  try {
    for (const [t, n] of Object.entries(CHINOOK_COUNTS)) {
      if (Number(await scalar(`SELECT COUNT(*) AS n FROM ${t}`)) !== n) return false
    }
    return true
  } catch {
    return false
  }
}

const dropChinookTables = async (exec: (q: string) => Promise<void>): Promise<void> => {
  for (const t of [...chinookTables()].reverse()) await exec(`DROP TABLE IF EXISTS ${t.name}`)
}

/**
 * Build every benchmark database. Returns what it could not reach (those engines' workloads
 * are skipped).
 */
export const setupAll = async (engines: readonly ('postgres' | 'mariadb')[]): Promise<string[]> => {
  const missing: string[] = []
  await buildSqliteTemplate()
  if (!existsSync(SQLITE_TEMPLATE)) throw new Error('the SQLite template was not written')
  for (const e of engines) {
    try {
      await (e === 'postgres' ? setupPostgres() : setupMariadb())
    } catch (err) {
      missing.push(`${e}: ${(err as Error).message}`)
    }
  }
  return missing
}
