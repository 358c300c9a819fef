/**
 * MySQL's and MariaDB's DDL: the standard DDL with their differences.
 *
 * - DDL is not transactional: every statement commits, so a failed change may leave earlier
 *   statements applied (migrations record and report which ran).
 * - Types: INT, DOUBLE, FLOAT, LONGTEXT for text, DATETIME(6) for timestamps and TIMESTAMP(6)
 *   (an instant, stored in UTC; years 1970 to 2038) for `timestamptz`, LONGBLOB, CHAR(36)
 *   for uuid on MySQL (MariaDB 10.7+ has UUID); BOOLEAN is TINYINT(1).
 * - `AUTO_INCREMENT`; `CURRENT_TIMESTAMP(6)` for a fractional-second column's `now`.
 * - No partial indexes; `DROP INDEX name ON table`;
 *   `MODIFY COLUMN` redefines a column as a whole; constraints are dropped by kind
 *   (`DROP FOREIGN KEY`, `DROP INDEX`, `DROP PRIMARY KEY`).
 * - String literals also escape backslashes (the default SQL mode reads `\` as an escape).
 * - Introspection reads information_schema of the current database. A unique index is a
 *   unique constraint here: one with a generated name comes back as an unnamed unique
 *   constraint, one with a name of its own as a unique index. MariaDB's JSON is LONGTEXT with a
 *   `json_valid` CHECK, read back as `json`.
 * - `hasTable`, `hasColumn`, `hasIndex`: one information_schema statement each, in the current
 *   database unless the name says another. Database and table names compare as the server's
 *   `lower_case_table_names` has them: exactly when it is 0 (the default on Linux), without case
 *   when it is 1 or 2; column and index names without case, as MySQL and MariaDB always compare
 *   them. A temporary table is not in information_schema before MariaDB 11.2 (nor on MySQL), so
 *   there `hasTable` answers false for one.
 */
import type { Dialect } from '../../dialect.js'
import { unsupported, versionAtLeast } from '../../dialect.js'
import { dbError } from '../../errors.js'
import { fromParts as F, type Fragment, sql } from '../../sql.js'
import { type AlterAction, type CheckDef, type ColumnType, type ForeignKeyDef, type IndexDef, native, typeParts } from '../../schema/ddl.js'
import type { DdlDialect, NativeColumn, TableName } from '../../schema/ddl-dialect.js'
import { groupColumns, hasKeyColumns, read, rowsOf } from './standard.js'

const BLOBS = new Set(['text', 'json', 'binary'])

/** MariaDB's check of a JSON column, `json_valid(col)` (the name quoted when normalizeCheck keeps its quotes). */
const JSON_VALID = /^json_valid\(\s*`?([A-Za-z_][A-Za-z0-9_]*)`?\s*\)$/i

const isMariaDb = (d: Dialect): boolean => d.name.startsWith('mariadb')

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** A name MySQL generates from a column: `col`, `col_2`, ... */
const fromColumn = (name: string, column: string | undefined): boolean =>
  column !== undefined && new RegExp(`^${escapeRe(column)}(_\\d+)?$`, 'i').test(name)

const fraction = (type: ColumnType): number | undefined => {
  const p = typeParts(type)
  if (p === undefined) return undefined
  if (p.name === 'timestamp' || p.name === 'timestamptz') return p.args[0] ?? 6
  return undefined
}

/**
 * MySQL's DDL fields over the standard ones (spread into the mysql dialect's `extend`).
 * @example extend(standard, (self, base) => ({ ...mysqlDdl(self, base), name: 'mysql' }))
 */
export const mysqlDdl = (self: Dialect, base: Dialect): Partial<DdlDialect> => ({
  transactionalDdl: false,

  literal: (v) => (typeof v === 'string' ? `'${v.replace(/\\/g, '\\\\').replace(/'/g, "''")}'` : base.literal(v)),

  columnType: (type, column) => {
    const p = typeParts(type)
    if (p === undefined) return base.columnType(type, column)
    switch (p.name) {
      case 'integer': return 'INT'
      case 'real': return 'FLOAT'
      case 'double': return 'DOUBLE'
      case 'text': return 'LONGTEXT'
      case 'timestamp': return `DATETIME(${p.args[0] ?? 6})`
      case 'timestamptz': return `TIMESTAMP(${p.args[0] ?? 6})`
      // TIME alone keeps whole seconds (13:14:15.5 was stored as 13:14:15); PostgreSQL's TIME keeps microseconds.
      case 'time': return 'TIME(6)'
      case 'uuid': return 'CHAR(36)'
      case 'binary': return 'LONGBLOB'
      default: return base.columnType(type, column)
    }
  },

  // A TIMESTAMP column is NOT NULL unless said otherwise when explicit_defaults_for_timestamp is off.
  columnNullability: (c) => (c.notNull ? ' NOT NULL' : typeParts(c.type)?.name === 'timestamptz' ? ' NULL' : ''),

  columnDefault: (d, c) => {
    // MySQL takes a literal default on TEXT, BLOB and JSON columns only as an expression.
    if (d.kind === 'value' && d.value !== null && BLOBS.has(typeParts(c.type)?.name ?? '')) return F([` DEFAULT (${self.literal(d.value)})`])
    // An expression default is written in parentheses: MySQL 8 takes no other form, MariaDB both.
    if (d.kind === 'sql') return F([` DEFAULT (${d.sql})`])
    if (d.kind !== 'now') return base.columnDefault(d, c)
    const f = fraction(c.type)
    return F([f === undefined || f === 0 ? ' DEFAULT CURRENT_TIMESTAMP' : ` DEFAULT CURRENT_TIMESTAMP(${f})`])
  },

  autoIncrement: () => F([' AUTO_INCREMENT']),

  dropTable: (node) => (node.cascade ? unsupported(self.name, 'DROP TABLE ... CASCADE', 'the keyword does nothing on MySQL and MariaDB')() : base.dropTable(node)),

  createIndex: (node) => {
    if (node.index.sql !== undefined) return base.createIndex(node)
    if (node.index.where !== undefined) return unsupported(self.name, 'partial indexes (CREATE INDEX ... WHERE)')()
    if (node.ifNotExists && !isMariaDb(self)) return unsupported(self.name, 'CREATE INDEX IF NOT EXISTS')()
    return base.createIndex(node)
  },

  dropIndex: (node) => {
    if (node.table === undefined) throw dbError('QueryError', `${self.name}: DROP INDEX needs the table (dropIndex(name, { table }))`)
    if (node.ifExists && !isMariaDb(self)) return unsupported(self.name, 'DROP INDEX IF EXISTS')()
    return F([node.ifExists ? 'DROP INDEX IF EXISTS ' : 'DROP INDEX ', self.quoteIdentifier(node.name), ' ON ', self.qualifiedName(node.table)])
  },

  alterColumn: (_, c) => F(['MODIFY COLUMN ', self.columnDefinition(c)]),
  alterColumnType: unsupported('mysql', 'changing only a column type', 'MODIFY COLUMN restates the column: use alterColumn with the whole definition'),
  alterColumnNull: unsupported('mysql', 'changing only a column nullability', 'MODIFY COLUMN restates the column: use alterColumn with the whole definition'),

  dropConstraint: (table, name, kind) => {
    switch (kind) {
      case 'primaryKey': return F(['DROP PRIMARY KEY'])
      case 'foreignKey': return F([`DROP FOREIGN KEY ${self.quoteIdentifier(name)}`])
      case 'unique': return F([`DROP INDEX ${self.quoteIdentifier(name)}`])
      default: return base.dropConstraint(table, name, kind)
    }
  },

  migrationLock: (key, timeout) => ({
    scope: 'session',
    // Lock names are server-wide: the database's name keeps two databases apart.
    acquire: sql`SELECT GET_LOCK(LEFT(CONCAT('recordkit:', DATABASE(), ':', ${key}), 64), ${Math.max(0, Math.round(timeout))}) AS locked`,
    release: sql`SELECT RELEASE_LOCK(LEFT(CONCAT('recordkit:', DATABASE(), ':', ${key}), 64)) AS released`,
  }),

  // ---- introspection

  currentSchema: 'DATABASE()',

  // A column a foreign key uses cannot be dropped before the key ("needed in a foreign key
  // constraint"); PostgreSQL and SQLite drop the key with the column, so the key's DROP comes first.
  planAlter: (node) => read(function* () {
    const dropped = node.actions.flatMap((a) => (a.kind === 'dropColumn' ? [a.column] : []))
    if (dropped.length === 0) return { before: [], statements: self.alterTable(node), after: [] }
    const current = yield* self.introspectTable(node.table)
    const named = new Set(node.actions.flatMap((a) => (a.kind === 'dropConstraint' ? [a.name] : [])))
    const keys = current.foreignKeys.filter((f) => f.name !== undefined && !named.has(f.name) && f.columns.some((c) => dropped.includes(c)))
    if (keys.length === 0) return { before: [], statements: self.alterTable(node), after: [] }
    const first: AlterAction[] = keys.map((f) => ({ kind: 'dropConstraint', name: f.name!, constraint: 'foreignKey' }))
    return { before: [], statements: self.alterTable({ ...node, actions: [...first, ...node.actions] }), after: [] }
  }),

  introspectTable: (name) => read(function* () {
    const t = yield* base.introspectTable(name)
    // MariaDB's JSON is LONGTEXT with CHECK (json_valid(col)): a json column, without the check.
    const json = new Set<string>()
    for (const c of t.checks) {
      const m = JSON_VALID.exec(c.expression)
      if (m && (c.name === undefined || c.name === m[1])) json.add(m[1])
    }
    if (json.size === 0) return t
    return {
      ...t,
      columns: t.columns.map((c) => (json.has(c.name) && c.type === 'text' ? { ...c, type: 'json' as const } : c)),
      checks: t.checks.filter((c) => !json.has(JSON_VALID.exec(c.expression)?.[1] ?? '')),
    }
  }),

  introspectColumns: (table) => read(function* () {
    const rows = yield* rowsOf(sql`SELECT COLUMN_NAME AS name, COLUMN_TYPE AS type, DATETIME_PRECISION AS dt_precision, IS_NULLABLE AS nullable, COLUMN_DEFAULT AS dflt, EXTRA AS extra FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ${table} ORDER BY ORDINAL_POSITION`)
    const mariadb = isMariaDb(self)
    return rows.map((r): NativeColumn => {
      const extra = String(r.extra ?? '').toLowerCase()
      let dflt = r.dflt === null || r.dflt === undefined ? null : String(r.dflt)
      // MySQL gives a literal default unquoted (MariaDB quotes it); an expression is DEFAULT_GENERATED.
      if (!mariadb && dflt !== null && !extra.includes('default_generated')) dflt = `'${dflt.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`
      return {
        name: String(r.name),
        type: String(r.type).toLowerCase(),
        datetimePrecision: r.dt_precision === null || r.dt_precision === undefined ? undefined : Number(r.dt_precision),
        notNull: r.nullable === 'NO',
        default: dflt,
        autoIncrement: extra.includes('auto_increment'),
      }
    })
  }),

  hasTable: (t) => read(function* () {
    // SYSTEM VERSIONED: a MariaDB table with history; TEMPORARY: listed from MariaDB 11.2.
    return (yield* rowsOf(sql`SELECT 1 AS found FROM information_schema.TABLES WHERE ${tableIs(t)} AND TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED', 'TEMPORARY')`)).length > 0
  }),

  hasColumn: (t, column) => read(function* () {
    return (yield* rowsOf(sql`SELECT 1 AS found FROM information_schema.COLUMNS WHERE ${tableIs(t)} AND COLUMN_NAME = ${column}`)).length > 0
  }),

  hasIndex: (t, index) => read(function* () {
    if (typeof index === 'string') return (yield* rowsOf(sql`SELECT 1 AS found FROM information_schema.STATISTICS WHERE ${tableIs(t)} AND INDEX_NAME = ${index}`)).length > 0
    // A functional key part (MySQL 8) has no COLUMN_NAME.
    const rows = yield* rowsOf(sql`SELECT INDEX_NAME AS name, COLUMN_NAME AS column_name FROM information_schema.STATISTICS WHERE ${tableIs(t)} ORDER BY INDEX_NAME, SEQ_IN_INDEX`)
    return hasKeyColumns(rows, index, (a, b) => a.toLowerCase() === b.toLowerCase())
  }),

  introspectForeignKeys: (table) => read(function* () {
    const rows = yield* rowsOf(sql`SELECT k.CONSTRAINT_NAME AS name, k.COLUMN_NAME AS column_name, k.REFERENCED_TABLE_NAME AS ref_table, k.REFERENCED_COLUMN_NAME AS ref_column, r.UPDATE_RULE AS on_update, r.DELETE_RULE AS on_delete FROM information_schema.KEY_COLUMN_USAGE k JOIN information_schema.REFERENTIAL_CONSTRAINTS r ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME AND r.TABLE_NAME = k.TABLE_NAME WHERE k.TABLE_SCHEMA = DATABASE() AND k.TABLE_NAME = ${table} AND k.REFERENCED_TABLE_NAME IS NOT NULL ORDER BY k.CONSTRAINT_NAME, k.ORDINAL_POSITION`)
    const columns = groupColumns(rows)
    const refs = groupColumns(rows, 'name', 'ref_column')
    const first = new Map(rows.map((r) => [String(r.name), r]))
    return [...columns].map(([name, cols]): ForeignKeyDef => {
      const r = first.get(name)!
      const fk: { -readonly [K in keyof ForeignKeyDef]: ForeignKeyDef[K] } = { columns: cols, references: { table: String(r.ref_table), columns: refs.get(name)! } }
      if (!self.generatedName('foreignKey', table, cols, name)) fk.name = name
      const del = ruleOf(r.on_delete)
      const upd = ruleOf(r.on_update)
      if (del !== undefined) fk.onDelete = del
      if (upd !== undefined) fk.onUpdate = upd
      return fk
    })
  }),

  introspectIndexes: (table) => read(function* () {
    const rows = yield* rowsOf(sql`SELECT INDEX_NAME AS name, NON_UNIQUE AS non_unique, COLUMN_NAME AS column_name, SUB_PART AS sub_part, COLLATION AS direction, INDEX_TYPE AS index_type FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ${table} AND INDEX_NAME <> 'PRIMARY' ORDER BY INDEX_NAME, SEQ_IN_INDEX`)
    const fks = yield* self.introspectForeignKeys(table)
    const uniqueOf = new Map(rows.map((r) => [String(r.name), Number(r.non_unique) === 0]))
    const out: IndexDef[] = []
    for (const [name, columns] of groupColumns(rows)) {
      const isUnique = uniqueOf.get(name) === true
      // A prefix length, a descending key, FULLTEXT / SPATIAL / HASH: the statement, written from the catalog.
      const keys = rows.filter((r) => String(r.name) === name)
      const type = String(keys[0].index_type ?? 'BTREE').toUpperCase()
      if (type !== 'BTREE' || keys.some((k) => (k.sub_part !== null && k.sub_part !== undefined) || k.direction === 'D')) {
        const keyList = keys.map((k) => `${self.quoteIdentifier(String(k.column_name))}${k.sub_part === null || k.sub_part === undefined ? '' : `(${Number(k.sub_part)})`}${k.direction === 'D' ? ' DESC' : ''}`).join(', ')
        const kind = type === 'FULLTEXT' || type === 'SPATIAL' ? `${type} ` : isUnique ? 'UNIQUE ' : ''
        const using = type === 'HASH' ? ' USING HASH' : ''
        out.push({ name, columns, unique: isUnique, sql: `CREATE ${kind}INDEX ${self.quoteIdentifier(name)} ON ${self.quoteIdentifier(table)} (${keyList})${using}` })
        continue
      }
      // Unique indexes with generated names are unique constraints (introspectKeys).
      if (isUnique && self.generatedName('unique', table, columns, name)) continue
      // The index MySQL made for a foreign key.
      if (!isUnique && fks.some((f) => f.columns.join() === columns.join() && (f.name === name || fromColumn(name, columns[0]) || self.generatedName('foreignKey', table, f.columns, name)))) continue
      out.push({ name, columns, unique: isUnique })
    }
    return out
  }),

  introspectKeys: (table) => read(function* () {
    const keys = yield* base.introspectKeys(table)
    // Unique indexes with names of their own are indexes (introspectIndexes), not constraints.
    return { ...keys, uniques: keys.uniques.filter((u) => u.name === undefined) }
  }),

  introspectViews: () => read(function* () {
    const db = String((yield* rowsOf(sql`SELECT DATABASE() AS db`))[0]?.db ?? '')
    const qualifier = new RegExp(`${escapeRe(self.quoteIdentifier(db))}\\.`, 'g')
    const rows = yield* rowsOf(sql`SELECT TABLE_NAME AS name, VIEW_DEFINITION AS body FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME`)
    return rows.map((r) => ({ name: String(r.name), sql: String(r.body).replace(qualifier, '') }))
  }),

  portableType: (c) => {
    const t = c.type.trim().toLowerCase()
    if (/\bunsigned\b|\bzerofill\b/.test(t)) return native(c.type)
    const m = /^([a-z]+)(?:\((\d+)(?:,(\d+))?\))?$/.exec(t.replace(/\s+/g, ''))
    if (m === null) return base.portableType(c)
    const [, name, a1, a2] = m
    switch (name) {
      case 'tinyint': return a1 === '1' ? 'boolean' : native(c.type)
      case 'smallint': return 'smallint'
      case 'int': case 'integer': return 'integer'
      case 'bigint': return 'bigint'
      case 'float': return a1 === undefined ? 'real' : native(c.type)
      case 'double': return a1 === undefined ? 'double' : native(c.type)
      case 'tinytext': case 'text': case 'mediumtext': case 'longtext': return 'text'
      case 'blob': case 'mediumblob': case 'longblob': return 'binary'
      case 'datetime': { const f = Number(a1 ?? 0); return f === 6 ? 'timestamp' : `timestamp(${f})` as ColumnType }
      case 'timestamp': { const f = Number(a1 ?? 0); return f === 6 ? 'timestamptz' : `timestamptz(${f})` as ColumnType }
      case 'time': return 'time'
      case 'decimal': return `decimal(${a1 ?? 10},${a2 ?? 0})` as ColumnType
      default: return base.portableType({ ...c, type: a1 === undefined ? name : `${name}(${a1}${a2 === undefined ? '' : `,${a2}`})` })
    }
  },

  // A quoted default is written with MySQL's backslash escapes.
  parseDefault: (text, type) => {
    const m = text === null ? null : /^'((?:[^'\\]|''|\\.)*)'$/s.exec(text.trim())
    if (m === null) return base.parseDefault(text, type)
    const value = m[1].replace(/''/g, "'").replace(/\\(.)/gs, (_, c: string) => MYSQL_ESCAPES[c] ?? c)
    return base.parseDefault(`'${value.replace(/'/g, "''")}'`, type)
  },

  generatedName: (kind, table, columns, name) => {
    switch (kind) {
      case 'primaryKey': return true
      case 'unique': return fromColumn(name, columns[0])
      case 'foreignKey': return new RegExp(`^${escapeRe(table)}_ibfk_\\d+$`).test(name)
      case 'check': return /^CONSTRAINT_\d+$/.test(name) || new RegExp(`^${escapeRe(table)}_chk_\\d+$`).test(name)
    }
  },
})

/**
 * The catalog row of one table: in the current database unless one is named, compared as the
 * server compares such names (information_schema's columns compare without case; with
 * lower_case_table_names = 0 the names are exact, so the bytes must be equal too).
 */
const tableIs = (t: TableName): Fragment => {
  const schema = t.schema === undefined ? sql.raw('DATABASE()') : sql`${t.schema}`
  return sql`TABLE_SCHEMA = ${schema} AND TABLE_NAME = ${t.name} AND (@@lower_case_table_names <> 0 OR (CAST(TABLE_SCHEMA AS BINARY) = CAST(${schema} AS BINARY) AND CAST(TABLE_NAME AS BINARY) = CAST(${t.name} AS BINARY)))`
}

const MYSQL_ESCAPES: Readonly<Record<string, string>> = { 0: '\0', b: '\b', n: '\n', r: '\r', t: '\t', Z: '\x1a' }

const ruleOf = (v: unknown): ForeignKeyDef['onDelete'] => {
  const a = String(v ?? '').toLowerCase()
  // RESTRICT and NO ACTION are the same on MySQL and MariaDB, and the default.
  return a === 'cascade' || a === 'set null' || a === 'set default' ? a : undefined
}

/**
 * MariaDB's DDL differences over MySQL's (spread into the MariaDB changes): the UUID type
 * (10.7+), and CHECK constraints named per table.
 * @example extend(mysql, (self, base) => ({ ...mariadbDdl(self, base), name: 'mariadb' }))
 */
export const mariadbDdl = (self: Dialect, base: Dialect): Partial<DdlDialect> => ({
  columnType: (type, column) => (type === 'uuid' && versionAtLeast(self.version, '10.7') ? 'UUID' : base.columnType(type, column)),

  introspectChecks: (table) => read(function* () {
    // MariaDB names CHECK constraints per table: join on the table too.
    const rows = yield* rowsOf(sql`SELECT CONSTRAINT_NAME AS name, CHECK_CLAUSE AS expression FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE() AND TABLE_NAME = ${table} ORDER BY CONSTRAINT_NAME`)
    return rows.map((r): CheckDef => {
      const expression = self.normalizeCheck(String(r.expression))
      const name = String(r.name)
      return self.generatedName('check', table, [], name) ? { expression } : { name, expression }
    })
  }),
})
