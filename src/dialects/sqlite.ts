/**
 * The SQLite dialect: the standard dialect with SQLite's differences, made with `extend`.
 *
 * Traps it handles: OFFSET needs a LIMIT (`LIMIT -1`); RETURNING exists only from 3.35 and
 * upsert from 3.24; VALUES has no DEFAULT keyword; RIGHT/FULL JOIN only from 3.39; values
 * have no boolean, date or JSON type, so adapters turn them into integers and text.
 */
import type { Expr, InsertNode } from '../ast.js'
import { DEFAULT } from '../ast.js'
import { type Dialect, unsupported, versionAtLeast } from '../dialect.js'
import { dbError } from '../errors.js'
import { extend } from '../record.js'
import { fromParts as F, isJsonValue } from '../sql.js'
import { fragments, standard } from './standard.js'
import { sqliteDdl } from './ddl/sqlite.js'

/** JS values to what better-sqlite3 binds: booleans as 0/1, dates as ISO-8601 text, JSON as text. */
const toSqlite = (v: unknown): unknown => {
  switch (typeof v) {
    case 'string':
    case 'number':
    case 'bigint': return v
    case 'boolean': return v ? 1 : 0
    case 'undefined': return null
    case 'object':
      if (v === null || Buffer.isBuffer(v)) return v
      if (v instanceof Date) return v.toISOString()
      if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength)
      return JSON.stringify(isJsonValue(v) ? v.value : v)
    default: return v
  }
}

/** A column to drop from a VALUES list: every row has DEFAULT there. */
const allDefault = (node: InsertNode, i: number): boolean => node.rows.every((r) => r[i] === DEFAULT)

/**
 * The SQLite dialect (assumes a recent SQLite; `compose` specialises it to the library's
 * version through `forVersion`).
 *
 * @example
 * const db = compose(betterSqlite3({ filename: ':memory:' }), sqlite)
 */
export const sqlite: Dialect = extend(standard, (self, base) => ({
  ...sqliteDdl(self, base),
  name: 'sqlite',
  version: '3.45.0',
  maxParams: 32766,
  toDriver: toSqlite,

  limitOffset: (limit, offset) =>
    limit === undefined && offset !== undefined ? F([' LIMIT -1 OFFSET ', fragments.amount(self, offset)]) : base.limitOffset(limit, offset),

  insertValues: (node) => {
    const keep = node.columns.map((_, i) => !allDefault(node, i))
    if (!keep.includes(false)) {
      if (node.rows.some((r) => r.includes(DEFAULT))) {
        throw dbError('UnsupportedFeature', 'sqlite has no DEFAULT keyword in VALUES: give every row the same columns, or insert rows with different columns separately', { dialect: 'sqlite', feature: 'DEFAULT in multi-row VALUES' })
      }
      return base.insertValues(node)
    }
    const columns = node.columns.filter((_, i) => keep[i])
    const rows = node.rows.map((r) => r.filter((_, i) => keep[i]))
    if (rows.some((r) => r.includes(DEFAULT))) {
      throw dbError('UnsupportedFeature', 'sqlite has no DEFAULT keyword in VALUES: give every row the same columns, or insert rows with different columns separately', { dialect: 'sqlite', feature: 'DEFAULT in multi-row VALUES' })
    }
    if (columns.length === 0 && node.rows.length > 1) {
      throw dbError('UnsupportedFeature', 'sqlite cannot insert several rows of only default values in one statement', { dialect: 'sqlite', feature: 'multi-row DEFAULT VALUES' })
    }
    return base.insertValues({ ...node, columns, rows: rows as readonly (readonly Expr[])[] })
  },

  beginTransaction: (o) => {
    if (o.readOnly) throw dbError('UnsupportedFeature', 'sqlite has no read-only transactions (open the database read-only instead)', { dialect: 'sqlite', feature: 'READ ONLY transaction' })
    // SQLite transactions are always serializable, which satisfies any requested level.
    return [o.behavior === undefined || o.behavior === 'deferred' ? 'BEGIN' : `BEGIN ${o.behavior.toUpperCase()}`]
  },

  join: (j) =>
    (j.type === 'right' || j.type === 'full') && !versionAtLeast(self.version, '3.39')
      ? unsupported(`sqlite ${self.version}`, `${j.type.toUpperCase()} JOIN`, 'needs SQLite 3.39')()
      : base.join(j),

  forVersion: (version) => {
    const name = `sqlite ${version}`
    return extend(self, (_, b) => ({
      version,
      maxParams: versionAtLeast(version, '3.32') ? 32766 : 999,
      ...(versionAtLeast(version, '3.35') ? {} : { returning: unsupported(name, 'RETURNING', 'needs SQLite 3.35') }),
      ...(versionAtLeast(version, '3.24') ? {} : { upsert: unsupported(name, 'ON CONFLICT (upsert)', 'needs SQLite 3.24') }),
      forVersion: b.forVersion,
    }))
  },
}))

