/**
 * The Chinook sample database (MIT licence, Luis Rocha), loadable into any backend.
 *
 * The PostgreSQL script is the source: its snake_case tables and columns become the schema on
 * every engine (album, artist, customer, employee, genre, invoice, invoice_line, media_type,
 * playlist, playlist_track, track), so one query text runs everywhere. Its rows are parsed once
 * and inserted through recordkit in multi-row batches inside one transaction.
 */
import { existsSync, readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { pipe } from 'fp-ts/lib/function.js'
import * as E from 'fp-ts/lib/Either.js'
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import type { Backend } from '../compose.js'
import type { DbError } from '../errors.js'
import { insertInto, values } from '../query.js'
import { sql } from '../sql.js'

/** One column of a Chinook table. */
export interface ChinookColumn {
  readonly name: string
  /** As written in the PostgreSQL script: `INT`, `VARCHAR(40)`, `NUMERIC(10,2)`, `TIMESTAMP`. */
  readonly type: string
  readonly notNull: boolean
}

/** One Chinook table with its rows. */
export interface ChinookTable {
  readonly name: string
  readonly columns: readonly ChinookColumn[]
  readonly primaryKey: readonly string[]
  readonly foreignKeys: readonly { readonly columns: readonly string[]; readonly table: string; readonly references: readonly string[] }[]
  readonly rows: readonly (readonly unknown[])[]
}

const here = dirname(fileURLToPath(import.meta.url))

/**
 * Where the Chinook script is: `RECORDKIT_CHINOOK_DIR`, else `data/chinook/` in the package (it
 * ships with it, with its licence).
 * @example readFileSync(join(chinookDir(), 'LICENSE.md'), 'utf8')
 */
export const chinookDir = (): string =>
  process.env.RECORDKIT_CHINOOK_DIR ?? resolve(here, '..', '..', 'data', 'chinook')

const chinookScript = (): string => {
  const file = resolve(chinookDir(), 'Chinook_PostgreSql.sql')
  if (!existsSync(file)) throw new Error(`recordkit: the Chinook script is missing: ${file} (set RECORDKIT_CHINOOK_DIR to the folder holding Chinook_PostgreSql.sql)`)
  return readFileSync(file, 'utf8')
}

/** Parse the VALUES tuples of one INSERT statement. */
const parseTuples = (text: string, start: number): { rows: unknown[][]; end: number } => {
  const rows: unknown[][] = []
  let i = start
  let row: unknown[] | undefined
  while (i < text.length) {
    const c = text[i]
    if (c === ';' && row === undefined) return { rows, end: i + 1 }
    if (c === '(' && row === undefined) { row = []; i++; continue }
    if (c === ')' && row !== undefined) { rows.push(row); row = undefined; i++; continue }
    if (row === undefined || c === ',' || c === ' ' || c === '\n' || c === '\r' || c === '\t') { i++; continue }
    if (c === 'N' && text[i + 1] === "'") { i++; continue }
    if (c === "'") {
      let s = ''
      i++
      for (;;) {
        const q = text.indexOf("'", i)
        s += text.slice(i, q)
        if (text[q + 1] === "'") { s += "'"; i = q + 2 } else { i = q + 1; break }
      }
      row.push(s)
      continue
    }
    const m = /^(NULL|-?\d+(?:\.\d+)?)/.exec(text.slice(i, i + 40))
    if (!m) throw new Error(`chinook: cannot parse value at ${text.slice(i, i + 30)}`)
    row.push(m[1] === 'NULL' ? null : m[1].includes('.') ? m[1] : Number(m[1]))
    i += m[1].length
  }
  return { rows, end: i }
}

/** `2021/1/1` to `2021-01-01 00:00:00`. */
const timestamp = (v: unknown): unknown => {
  if (typeof v !== 'string') return v
  const [y, m, d] = v.split('/')
  return `${y}-${m.padStart(2, '0')}-${d.padStart(2, '0')} 00:00:00`
}

let cached: readonly ChinookTable[] | undefined

/**
 * The Chinook tables, in an order where every table comes after the tables it references.
 * @example chinookTables().map((t) => t.name)
 */
export const chinookTables = (): readonly ChinookTable[] => {
  if (cached) return cached
  const text = chinookScript()
  const tables = new Map<string, { name: string; columns: ChinookColumn[]; primaryKey: string[]; foreignKeys: ChinookTable['foreignKeys'][number][]; rows: unknown[][] }>()
  for (const m of text.matchAll(/CREATE TABLE (\w+)\s*\(([\s\S]*?)\n\);/g)) {
    const columns: ChinookColumn[] = []
    let primaryKey: string[] = []
    for (const line of m[2].split('\n').map((l) => l.trim().replace(/,$/, '')).filter(Boolean)) {
      const pk = /PRIMARY KEY\s*\(([^)]+)\)/.exec(line)
      if (pk) { primaryKey = pk[1].split(',').map((s) => s.trim()); continue }
      const c = /^(\w+)\s+([A-Z]+(?:\([\d,]+\))?)(\s+NOT NULL)?/.exec(line)
      if (c) columns.push({ name: c[1], type: c[2], notNull: c[3] !== undefined })
    }
    tables.set(m[1], { name: m[1], columns, primaryKey, foreignKeys: [], rows: [] })
  }
  for (const m of text.matchAll(/ALTER TABLE (\w+) ADD CONSTRAINT \w+\s+FOREIGN KEY \(([^)]+)\) REFERENCES (\w+) \(([^)]+)\)/g)) {
    tables.get(m[1])!.foreignKeys.push({ columns: m[2].split(',').map((s) => s.trim()), table: m[3], references: m[4].split(',').map((s) => s.trim()) })
  }
  for (const m of text.matchAll(/INSERT INTO (\w+) \(([^)]+)\) VALUES/g)) {
    const t = tables.get(m[1])!
    const cols = m[2].split(',').map((s) => s.trim())
    const { rows } = parseTuples(text, m.index! + m[0].length)
    const stamps = cols.map((c) => t.columns.find((x) => x.name === c)?.type === 'TIMESTAMP')
    for (const r of rows) t.rows.push(r.map((v, i) => (stamps[i] ? timestamp(v) : v)))
  }
  const ordered: ChinookTable[] = []
  const visit = (name: string): void => {
    if (ordered.some((t) => t.name === name)) return
    const t = tables.get(name)!
    for (const fk of t.foreignKeys) if (fk.table !== name) visit(fk.table)
    ordered.push(t)
  }
  for (const name of tables.keys()) visit(name)
  cached = ordered
  return ordered
}

/** A Chinook column type as the backend's engine spells it. */
const columnType = (db: Backend, type: string): string => {
  const engine = db.dialect.name
  if (type === 'TIMESTAMP') return engine.startsWith('mysql') || engine.startsWith('mariadb') ? 'DATETIME' : 'TIMESTAMP'
  if (type === 'INT') return 'INTEGER'
  return type
}

/**
 * The CREATE TABLE statement of one Chinook table for a backend.
 * @example chinookDdl(db, chinookTables()[0])
 */
export const chinookDdl = (db: Backend, t: ChinookTable): string => {
  const q = db.dialect.quoteIdentifier
  const lines = t.columns.map((c) => `${q(c.name)} ${columnType(db, c.type)}${c.notNull ? ' NOT NULL' : ''}`)
  lines.push(`PRIMARY KEY (${t.primaryKey.map(q).join(', ')})`)
  for (const fk of t.foreignKeys) lines.push(`FOREIGN KEY (${fk.columns.map(q).join(', ')}) REFERENCES ${q(fk.table)} (${fk.references.map(q).join(', ')})`)
  return `CREATE TABLE ${q(t.name)} (\n  ${lines.join(',\n  ')}\n)`
}

/**
 * Create the Chinook tables on a backend and load every row (about 15,600), in one
 * transaction. The tables must not exist yet.
 *
 * @example
 * await run(loadChinook(db))
 * await run(db.all(sql`SELECT COUNT(*) AS n FROM invoice_line`)) // [{ n: 2240 }]
 */
export const loadChinook = (db: Backend, options?: { readonly rowsPerInsert?: number }): TaskEither<DbError, void> =>
  db.transaction(() => async () => {
    for (const t of chinookTables()) {
      const created = await db.execute(sql.raw(chinookDdl(db, t)))()
      if (E.isLeft(created)) return created
      const names = t.columns.map((c) => c.name)
      // A table that references itself goes row by row: some engines (DuckDB) check a foreign
      // key against the table as it was before the statement.
      const selfReferencing = t.foreignKeys.some((fk) => fk.table === t.name)
      const perInsert = selfReferencing ? 1 : Math.min(options?.rowsPerInsert ?? 500, Math.floor(db.dialect.maxParams / names.length))
      for (let i = 0; i < t.rows.length; i += perInsert) {
        const chunk = t.rows.slice(i, i + perInsert).map((r) => Object.fromEntries(names.map((n, j) => [n, r[j]])))
        const inserted = await db.execute(pipe(insertInto(t.name), values(chunk)))()
        if (E.isLeft(inserted)) return inserted
      }
    }
    return E.right(undefined)
  })

/**
 * Drop the Chinook tables (children first) if they exist.
 * @example await run(dropChinook(db))
 */
export const dropChinook = (db: Backend): TaskEither<DbError, void> => async () => {
  for (const t of [...chinookTables()].reverse()) {
    const r = await db.execute(sql.raw(`DROP TABLE IF EXISTS ${db.dialect.quoteIdentifier(t.name)}`))()
    if (E.isLeft(r)) return r
  }
  return E.right(undefined)
}
