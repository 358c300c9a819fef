/**
 * Column types written the way each built-in engine spells them, for test tables that must
 * exist on every backend before the schema builder takes over. Another engine's backend gives
 * its own (`columnTypes` on ConformanceTarget).
 */
import type { Backend } from '../compose.js'

/** Portable column types. */
export interface ColumnTypes {
  /** An auto-generated integer primary key. */
  readonly id: string
  readonly int: string
  readonly bigint: string
  readonly text: string
  readonly varchar: (n: number) => string
  readonly bool: string
  /** Exact decimal with 20+ significant digits. */
  readonly decimal: string
  readonly double: string
  readonly date: string
  readonly timestamp: string
  readonly timestamptz: string
  readonly json: string
  readonly uuid: string
  readonly blob: string
}

const sqliteTypes: ColumnTypes = {
  id: 'INTEGER PRIMARY KEY AUTOINCREMENT', int: 'INTEGER', bigint: 'INTEGER', text: 'TEXT', varchar: (n) => `VARCHAR(${n})`,
  bool: 'BOOLEAN', decimal: 'TEXT', double: 'REAL', date: 'TEXT', timestamp: 'TEXT', timestamptz: 'TEXT', json: 'TEXT',
  uuid: 'TEXT', blob: 'BLOB',
}
const postgresTypes: ColumnTypes = {
  id: 'SERIAL PRIMARY KEY', int: 'INTEGER', bigint: 'BIGINT', text: 'TEXT', varchar: (n) => `VARCHAR(${n})`,
  bool: 'BOOLEAN', decimal: 'NUMERIC(30,10)', double: 'DOUBLE PRECISION', date: 'DATE', timestamp: 'TIMESTAMP(3)',
  timestamptz: 'TIMESTAMPTZ(3)', json: 'JSONB', uuid: 'UUID', blob: 'BYTEA',
}
const mysqlTypes: ColumnTypes = {
  id: 'INT AUTO_INCREMENT PRIMARY KEY', int: 'INT', bigint: 'BIGINT', text: 'TEXT', varchar: (n) => `VARCHAR(${n})`,
  bool: 'BOOLEAN', decimal: 'DECIMAL(30,10)', double: 'DOUBLE', date: 'DATE', timestamp: 'DATETIME(3)',
  timestamptz: 'DATETIME(3)', json: 'JSON', uuid: 'CHAR(36)', blob: 'LONGBLOB',
}

/**
 * The column types of a built-in engine, chosen by its dialect's name (SQLite's for any other
 * name). A backend on another engine gives its own as `columnTypes` on its ConformanceTarget.
 * @example `CREATE TABLE t (id ${columnTypes(db).id}, name ${columnTypes(db).text})`
 */
export const columnTypes = (db: Backend): ColumnTypes => {
  const n = db.dialect.name
  if (n.startsWith('postgres')) return postgresTypes
  if (n.startsWith('mysql') || n.startsWith('mariadb')) return mysqlTypes
  return sqliteTypes
}
