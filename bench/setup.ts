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
import type { Engine } from './env.js'

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
  await createItems((q) => raw.exec(q), (rows) => {
    const stmt = raw.prepare(`INSERT INTO items (${ITEM_COLUMNS.join(', ')}) VALUES (?, ?, ?, ?)`)
    raw.transaction(() => { for (const r of rows) stmt.run(r) })()
  }, 'sqlite')
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
  await createItems((q) => sql.unsafe(q), (rows) => sql`INSERT INTO items ${sql(rows.map((r) => ({ sku: r[0], name: r[1], price: r[2], stock: r[3] })), ...ITEM_COLUMNS)}`, 'postgres')
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
  await createItems((q) => conn.query(q), (rows) => conn.query(`INSERT INTO items (${ITEM_COLUMNS.join(', ')}) VALUES ?`, [rows]), 'mariadb')
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

// ---------------------------------------------------------------- the upsert target (W9)

/** The keys W9 writes: `items` starts with the odd ones of them, as `storedItem` gives them. */
export const ITEMS = 5000
export const ITEM_COLUMNS = ['sku', 'name', 'price', 'stock'] as const
export type ItemRow = { readonly sku: string; readonly name: string; readonly price: number; readonly stock: number }
export const itemSku = (i: number): string => `SKU-${String(i).padStart(6, '0')}`
/** Item `i` (1-based) as `items` holds it at the start (odd `i` only). */
export const storedItem = (i: number): ItemRow => ({ sku: itemSku(i), name: `Item ${i}`, price: 100 + (i % 50), stock: i % 7 })

/**
 * `items` (a generated key and a unique `sku`) holding the stored items, and `items_seed`, a copy
 * of that content, which W9 restores `items` from before each measurement.
 */
const ITEMS_DDL: Readonly<Record<Engine, string>> = {
  sqlite: 'CREATE TABLE items (id INTEGER PRIMARY KEY, sku TEXT NOT NULL UNIQUE, name TEXT NOT NULL, price INTEGER NOT NULL, stock INTEGER NOT NULL)',
  postgres: 'CREATE TABLE items (id int GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, sku text NOT NULL UNIQUE, name text NOT NULL, price int NOT NULL, stock int NOT NULL)',
  mariadb: 'CREATE TABLE items (id INT AUTO_INCREMENT PRIMARY KEY, sku VARCHAR(40) NOT NULL UNIQUE, name VARCHAR(200) NOT NULL, price INT NOT NULL, stock INT NOT NULL)',
}

const createItems = async (exec: (q: string) => unknown, insert: (rows: (string | number)[][]) => unknown, engine: Engine): Promise<void> => {
  for (const t of ['items', 'items_seed']) await exec(`DROP TABLE IF EXISTS ${t}`)
  await exec(ITEMS_DDL[engine])
  await insert(range(ITEMS).filter((i) => i % 2 === 1).map((i) => { const r = storedItem(i); return [r.sku, r.name, r.price, r.stock] }))
  await exec('CREATE TABLE items_seed AS SELECT * FROM items')
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
