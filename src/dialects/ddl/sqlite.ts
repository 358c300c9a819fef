/**
 * SQLite's DDL: the standard DDL with SQLite's differences.
 *
 * - `INTEGER PRIMARY KEY AUTOINCREMENT` is the only generated column, written on the column.
 * - An expression default is written in parentheses.
 * - ALTER TABLE does one change per statement and only adds, drops and renames columns and
 *   renames tables; anything else (changing a column, adding or dropping a constraint, dropping
 *   a column that a key or index uses) is done by rebuilding the table, following SQLite's
 *   documented procedure: foreign keys off (outside the transaction), create the new table,
 *   copy the rows, drop the old table, rename the new one, recreate its indexes, triggers and
 *   the views that mention it, check foreign keys, commit, foreign keys back on. `alter(db, change)`
 *   runs it; `planAlter` decides.
 * - No `DROP TABLE ... CASCADE`, no `CREATE OR REPLACE VIEW` (a DROP VIEW IF EXISTS goes first).
 * - Introspection reads `pragma_table_info`, `pragma_index_list`, `pragma_index_info`,
 *   `pragma_foreign_key_list` and, for what pragmas do not tell (CHECKs, constraint names,
 *   AUTOINCREMENT, partial-index conditions, view bodies), the statements kept in sqlite_schema.
 * - `hasTable`, `hasColumn`, `hasIndex`: one statement each over `pragma_table_list` (SQLite
 *   3.37+) and the table's `pragma_table_xinfo`, `pragma_index_list`, `pragma_index_info`. The
 *   table is the one a statement naming it would use: `temp` first, then `main`, then attached
 *   databases in order, unless the name says which. Names compare as SQLite compares
 *   identifiers: without case (ASCII letters), quoted or not.
 */
import type { Dialect } from '../../dialect.js'
import { unsupported } from '../../dialect.js'
import { dbError, unsupportedError } from '../../errors.js'
import { fromParts as F, sql, type Fragment } from '../../sql.js'
import { type AlterTableNode, applyAlter, type CheckDef, type ColumnDef, type ForeignKeyDef, type IndexDef, type KeyDef, type TableDef, type ViewDef } from '../../schema/ddl.js'
import type { AlterPlan, CatalogRead, DdlDialect, NativeColumn, TableKeys, TableName } from '../../schema/ddl-dialect.js'
import { indexWhere, mentions, parseCreateTable, viewBody } from './sqlite-create-table.js'
import { hasKeyColumns, read, rowsOf } from './standard.js'

/** Changes SQLite's ALTER TABLE makes by itself (one per statement). */
const NATIVE = new Set(['addColumn', 'dropColumn', 'renameColumn', 'renameTable'])

const actionName: Record<string, string> = {
  alterColumn: 'change a column', setDefault: 'change a default', addConstraint: 'add a constraint', dropConstraint: 'drop a constraint',
}

const isOnePk = (t: TableDef | undefined, column: string): boolean =>
  t?.primaryKey !== undefined && t.primaryKey.name === undefined && t.primaryKey.columns.length === 1 && t.primaryKey.columns[0] === column

/** The columns of `from` each column of the altered table is copied from. */
const columnSources = (from: TableDef, node: AlterTableNode): Map<string, string> => {
  let origin = new Map<string, string | undefined>(from.columns.map((c) => [c.name, c.name]))
  for (const a of node.actions) {
    if (a.kind === 'addColumn') origin.set(a.column.name, undefined)
    else if (a.kind === 'dropColumn') origin.delete(a.column)
    else if (a.kind === 'renameColumn') origin = new Map([...origin].map(([k, v]) => [k === a.from ? a.to : k, v]))
  }
  const out = new Map<string, string>()
  for (const [k, v] of origin) if (v !== undefined) out.set(k, v)
  return out
}

/** Whether a native DROP COLUMN would fail: the column is in a key, an index (or its WHERE), a foreign key or a CHECK. */
const dropNeedsRebuild = (t: TableDef, column: string): boolean =>
  (t.primaryKey?.columns.includes(column) ?? false) ||
  t.uniques.some((u) => u.columns.includes(column)) ||
  t.indexes.some((i) => i.columns.includes(column)) ||
  t.foreignKeys.some((f) => f.columns.includes(column)) ||
  t.checks.some((c) => mentions(c.expression, column)) ||
  t.indexes.some((i) => i.where !== undefined && mentions(i.where, column))

/**
 * Whether a native ADD COLUMN would fail: SQLite refuses an added column whose default is not a
 * constant (the current time, an expression) or that is NOT NULL without a default, and an
 * AUTOINCREMENT one; the table is rebuilt instead, as the other engines add such columns.
 */
const addNeedsRebuild = (c: ColumnDef): boolean =>
  c.autoIncrement === true || c.default?.kind === 'now' || c.default?.kind === 'sql' || (c.notNull && c.default === undefined)

/**
 * SQLite's DDL fields over the standard ones (spread into the sqlite dialect's `extend`).
 * @example extend(standard, (self, base) => ({ ...sqliteDdl(self, base), name: 'sqlite' }))
 */
export const sqliteDdl = (self: Dialect, base: Dialect): Partial<DdlDialect> => ({
  columnType: (type, column) => {
    if (column?.autoIncrement === true) return 'INTEGER'
    // `JSON` alone has NUMERIC affinity: a document that is a bare number ('12345678901234567890',
    // '1.5e300') would be stored as a REAL, keeping 15 digits. `JSON TEXT` has TEXT affinity
    // (the name holds TEXT) and reads back as json.
    if (type === 'json') return 'JSON TEXT'
    // SQLite's type names take their size last: TIMESTAMP(6) WITH TIME ZONE is a syntax error.
    const sized = typeof type === 'string' ? /^timestamptz\((\d+)\)$/.exec(type) : null
    return sized === null ? base.columnType(type, column) : `TIMESTAMP WITH TIME ZONE(${sized[1]})`
  },

  columnDefinition: (c, table) => {
    if (c.autoIncrement === true && !isOnePk(table, c.name)) {
      throw unsupportedError(self.name, 'a generated column that is not the one-column primary key', 'SQLite generates only INTEGER PRIMARY KEY AUTOINCREMENT')
    }
    return base.columnDefinition(c, table)
  },

  inlinePrimaryKey: (c) => (c.autoIncrement === true ? ' PRIMARY KEY AUTOINCREMENT' : ' PRIMARY KEY'),
  autoIncrement: () => F([]),

  columnDefault: (d, c) => (d.kind === 'sql' ? F([` DEFAULT (${d.sql})`]) : base.columnDefault(d, c)),

  dropTable: (node) => (node.cascade ? unsupported(self.name, 'DROP TABLE ... CASCADE')() : base.dropTable(node)),

  ddlStatements: (node) =>
    node.kind === 'createView' && node.orReplace
      ? [self.dropView({ kind: 'dropView', name: node.name, ifExists: true }), self.createView({ ...node, orReplace: false })]
      : base.ddlStatements(node),

  createView: (node) => (node.orReplace ? unsupported(self.name, 'CREATE OR REPLACE VIEW', 'run it with apply(), which drops the view first')() : base.createView(node)),

  alterTable: (node) => {
    const out: Fragment[] = []
    let name = node.table
    for (const a of node.actions) {
      if (!NATIVE.has(a.kind)) {
        throw unsupportedError(self.name, `ALTER TABLE to ${actionName[a.kind] ?? a.kind}`, 'run it with alter(db, change), which rebuilds the table')
      }
      out.push(F(['ALTER TABLE ', self.qualifiedName(name), ' ', self.alterAction(name, a)]))
      if (a.kind === 'renameTable') name = a.to
    }
    return out
  },

  // Changes SQLite's ALTER TABLE makes run one by one (a native RENAME COLUMN also rewrites the
  // views and triggers that use the column); each run of other changes is one rebuild.
  alterSegments: (node) => {
    const out: AlterTableNode[] = []
    let table = node.table
    for (const a of node.actions) {
      const last = out[out.length - 1]
      if (!NATIVE.has(a.kind) && last !== undefined && !NATIVE.has(last.actions[0].kind)) out[out.length - 1] = { ...last, actions: [...last.actions, a] }
      else out.push({ kind: 'alterTable', table, actions: [a] })
      if (a.kind === 'renameTable') table = a.to
    }
    return out
  },

  planAlter: (node) => read(function* (): CatalogRead<AlterPlan> {
    const current = yield* self.introspectTable(node.table)
    const rebuild = node.actions.some((a) => !NATIVE.has(a.kind) || (a.kind === 'dropColumn' && dropNeedsRebuild(current, a.column)) ||
      (a.kind === 'addColumn' && addNeedsRebuild(a.column)))
    if (!rebuild) return { before: [], statements: self.alterTable(node), after: [] }
    const target = applyAlter(current, node)
    const triggers = (yield* rowsOf(sql`SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ${node.table} AND sql IS NOT NULL ORDER BY rowid`)).map((r) => String(r.sql))
    const views = (yield* rowsOf(sql`SELECT name, sql FROM sqlite_master WHERE type = 'view' ORDER BY rowid`))
      .filter((r) => mentions(String(r.sql), node.table))
      .map((r): ViewDef => ({ name: String(r.name), sql: String(r.sql) }))
    const fk = self.foreignKeySuspension()
    const on = (yield* rowsOf(fk.read))[0]
    const enforced = on !== undefined && Number(Object.values(on)[0]) === 1
    return {
      before: enforced ? [fk.off] : [],
      statements: self.rebuildTable(current, target, columnSources(current, node), { triggers, views }),
      check: fk.check,
      after: enforced ? [fk.on] : [],
    }
  }),

  rebuildTable: (from, to, sources, dependents) => {
    const temp = `rk_new_${to.name}`
    const q = self.quoteIdentifier
    const copied = to.columns.filter((c) => sources.has(c.name))
    const out: Fragment[] = []
    for (const v of dependents.views) out.push(self.dropView({ kind: 'dropView', name: v.name, ifExists: false }))
    out.push(self.createTable({ kind: 'createTable', table: { ...to, name: temp }, ifNotExists: false }))
    if (copied.length > 0) {
      out.push(F([`INSERT INTO ${q(temp)} (${copied.map((c) => q(c.name)).join(', ')}) SELECT ${copied.map((c) => q(sources.get(c.name)!)).join(', ')} FROM ${self.qualifiedName(from.name)}`]))
    }
    if (to.columns.some((c) => c.autoIncrement === true) && from.columns.some((c) => c.autoIncrement === true)) {
      // Keep the AUTOINCREMENT counter: ids of deleted rows are not handed out again.
      out.push(F([`UPDATE sqlite_sequence SET seq = (SELECT seq FROM sqlite_sequence WHERE name = ${self.literal(from.name)}) WHERE name = ${self.literal(temp)} AND EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = ${self.literal(from.name)})`]))
    }
    out.push(self.dropTable({ kind: 'dropTable', name: from.name, ifExists: false, cascade: false }))
    out.push(F([`ALTER TABLE ${q(temp)} RENAME TO ${q(to.name)}`]))
    for (const index of to.indexes) out.push(self.createIndex({ kind: 'createIndex', table: to.name, index, ifNotExists: false }))
    for (const t of dependents.triggers) out.push(F([t]))
    for (const v of dependents.views) out.push(F([v.sql]))
    return out
  },

  foreignKeySuspension: () => ({
    read: sql.raw('PRAGMA foreign_keys'),
    off: sql.raw('PRAGMA foreign_keys = OFF'),
    on: sql.raw('PRAGMA foreign_keys = ON'),
    check: sql.raw('PRAGMA foreign_key_check'),
    dangling: sql.raw(`SELECT m.name AS "table", f."from" AS "column", f."table" AS parent, f."to" AS parent_column
      FROM sqlite_master m, pragma_foreign_key_list(m.name) f
      WHERE m.type = 'table' AND NOT EXISTS (SELECT 1 FROM sqlite_master p WHERE p.type = 'table' AND lower(p.name) = lower(f."table"))`),
  }),

  // BEGIN IMMEDIATE takes the database's write lock. SQLite's own wait for it (the busy timeout)
  // blocks the thread, every other backend of the process with it: the migrator tries it with
  // the busy timeout at 0 and waits between tries itself, up to its lockTimeout.
  migrationLock: () => ({
    scope: 'transaction',
    begin: { behavior: 'immediate' },
    acquire: [],
    busyTimeout: { read: sql.raw('PRAGMA busy_timeout'), set: (ms) => sql.raw(`PRAGMA busy_timeout = ${Math.max(0, Math.round(ms))}`) },
  }),

  // ---- introspection

  introspectTableNames: () => read(function* () {
    return (yield* rowsOf(sql`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name`)).map((r) => String(r.name))
  }),

  hasTable: (t) => read(function* () {
    return (yield* rowsOf(sql`${resolvedTable(t)} SELECT 1 AS found FROM t WHERE t.type <> 'view'`)).length > 0
  }),

  hasColumn: (t, column) => read(function* () {
    // table_xinfo: generated columns too.
    return (yield* rowsOf(sql`${resolvedTable(t)} SELECT 1 AS found FROM t, pragma_table_xinfo(t.name, t.sch) c WHERE c.name = ${column} COLLATE NOCASE`)).length > 0
  }),

  hasIndex: (t, index) => read(function* () {
    if (typeof index === 'string') return (yield* rowsOf(sql`${resolvedTable(t)} SELECT 1 AS found FROM t, pragma_index_list(t.name, t.sch) l WHERE l.name = ${index} COLLATE NOCASE`)).length > 0
    // An expression key has no column name.
    const rows = yield* rowsOf(sql`${resolvedTable(t)} SELECT l.name AS name, i.name AS column_name FROM t, pragma_index_list(t.name, t.sch) l, pragma_index_info(l.name, t.sch) i ORDER BY l.name, i.seqno`)
    return hasKeyColumns(rows, index, (a, b) => asciiLower(a) === asciiLower(b))
  }),

  introspectColumns: (table) => read(function* () {
    const rows = yield* rowsOf(sql`SELECT name, type, "notnull" AS not_null, dflt_value, pk FROM pragma_table_info(${table}) ORDER BY cid`)
    const parsed = parseCreateTable(yield* tableSql(table))
    return rows.map((r): NativeColumn => ({
      name: String(r.name),
      type: String(r.type).toLowerCase(),
      notNull: Number(r.not_null) === 1,
      default: r.dflt_value === null || r.dflt_value === undefined ? null : String(r.dflt_value),
      autoIncrement: parsed.autoIncrement.has(String(r.name)),
    }))
  }),

  introspectKeys: (table) => read(function* (): CatalogRead<TableKeys> {
    const parsed = parseCreateTable(yield* tableSql(table)).constraints
    const nameFor = (kind: 'primaryKey' | 'unique', columns: readonly string[]): string | undefined =>
      parsed.find((c) => c.kind === kind && sameColumns(c.columns, columns))?.name
    const pkRows = (yield* rowsOf(sql`SELECT name, pk FROM pragma_table_info(${table}) WHERE pk > 0 ORDER BY pk`)).map((r) => String(r.name))
    const uniques: KeyDef[] = []
    for (const idx of yield* rowsOf(sql`SELECT name FROM pragma_index_list(${table}) WHERE origin = 'u' ORDER BY seq DESC`)) {
      const columns = yield* indexColumns(String(idx.name))
      const name = nameFor('unique', columns)
      uniques.push(name === undefined ? { columns } : { name, columns })
    }
    if (pkRows.length === 0) return { uniques }
    const pkName = nameFor('primaryKey', pkRows)
    return { primaryKey: pkName === undefined ? { columns: pkRows } : { name: pkName, columns: pkRows }, uniques }
  }),

  introspectChecks: (table) => read(function* () {
    return parseCreateTable(yield* tableSql(table)).constraints.filter((c) => c.kind === 'check').map((c): CheckDef => {
      const expression = self.normalizeCheck(c.expression ?? '')
      return c.name === undefined ? { expression } : { name: c.name, expression }
    })
  }),

  introspectForeignKeys: (table) => read(function* () {
    const rows = yield* rowsOf(sql`SELECT id, seq, "table" AS ref, "from" AS col, "to" AS ref_col, on_update, on_delete FROM pragma_foreign_key_list(${table}) ORDER BY id DESC, seq`)
    const parsed = parseCreateTable(yield* tableSql(table)).constraints.filter((c) => c.kind === 'foreignKey')
    const byId = new Map<number, typeof rows[number][]>()
    for (const r of rows) byId.set(Number(r.id), [...(byId.get(Number(r.id)) ?? []), r])
    const out: ForeignKeyDef[] = []
    for (const group of byId.values()) {
      const refTable = String(group[0].ref)
      const columns = group.map((r) => String(r.col))
      let refColumns = group.map((r) => (r.ref_col === null ? undefined : String(r.ref_col)))
      if (refColumns.some((c) => c === undefined)) {
        // `REFERENCES t` without columns means t's primary key.
        refColumns = (yield* rowsOf(sql`SELECT name FROM pragma_table_info(${refTable}) WHERE pk > 0 ORDER BY pk`)).map((r) => String(r.name))
      }
      const fk: { -readonly [K in keyof ForeignKeyDef]: ForeignKeyDef[K] } = { columns, references: { table: refTable, columns: refColumns as string[] } }
      const name = parsed.find((c) => sameColumns(c.columns, columns) && c.table?.toLowerCase() === refTable.toLowerCase())?.name
      if (name !== undefined) fk.name = name
      const del = action(group[0].on_delete)
      const upd = action(group[0].on_update)
      if (del !== undefined) fk.onDelete = del
      if (upd !== undefined) fk.onUpdate = upd
      out.push(fk)
    }
    return out
  }),

  introspectIndexes: (table) => read(function* () {
    const out: IndexDef[] = []
    for (const idx of yield* rowsOf(sql`SELECT l.name AS name, l."unique" AS is_unique, m.sql AS sql FROM pragma_index_list(${table}) l JOIN sqlite_master m ON m.type = 'index' AND m.name = l.name WHERE l.origin = 'c' ORDER BY l.name`)) {
      const name = String(idx.name)
      const text = String(idx.sql)
      const where = indexWhere(text)
      const keys = yield* rowsOf(sql`SELECT cid, name, "desc" AS descending FROM pragma_index_xinfo(${name}) WHERE key = 1 ORDER BY seqno`)
      const named = keys.filter((k) => k.name !== null).map((k) => String(k.name))
      // Keys that are more than ascending columns (an expression, DESC, COLLATE): the statement
      // itself, and the columns it reads. (pragma_index_info names an expression key "null".)
      const special = keys.some((k) => Number(k.cid) === -2 || Number(k.descending) === 1) || mentions(text, 'COLLATE')
      const columns = special ? [...named, ...(yield* tableColumns(table)).filter((c) => !named.includes(c) && mentions(text, c))] : named
      const i: { -readonly [K in keyof IndexDef]: IndexDef[K] } = { name, columns, unique: Number(idx.is_unique) === 1 }
      if (where !== undefined) i.where = where
      if (special) i.sql = text
      out.push(i)
    }
    return out
  }),

  introspectViews: () => read(function* () {
    return (yield* rowsOf(sql`SELECT name, sql FROM sqlite_master WHERE type = 'view' ORDER BY name`)).map((r): ViewDef => ({ name: String(r.name), sql: viewBody(String(r.sql)) }))
  }),
})

const sameColumns = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && a.every((x, i) => x.toLowerCase() === b[i].toLowerCase())

const action = (v: unknown): ForeignKeyDef['onDelete'] => {
  const a = String(v ?? '').toLowerCase()
  return a === 'cascade' || a === 'restrict' || a === 'set null' || a === 'set default' ? a : undefined
}

/** SQLite's case folding of identifiers: ASCII letters only. */
const asciiLower = (s: string): string => s.replace(/[A-Z]/g, (c) => c.toLowerCase())

/**
 * `WITH t(sch, name, type) AS (...)`: the table or view a name resolves to, as in a statement:
 * in the database named, else `temp` first, then `main`, then attached databases in order.
 */
const resolvedTable = (t: TableName): Fragment =>
  sql`WITH t AS (SELECT l.schema AS sch, l.name AS name, l.type AS type FROM pragma_table_list l LEFT JOIN pragma_database_list d ON d.name = l.schema WHERE l.name = ${t.name} COLLATE NOCASE${t.schema === undefined ? sql.empty : sql` AND l.schema = ${t.schema} COLLATE NOCASE`} ORDER BY CASE l.schema WHEN 'temp' THEN -1 ELSE d.seq END LIMIT 1)`

function* tableSql(table: string): CatalogRead<string> {
  const rows = yield* rowsOf(sql`SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ${table}`)
  if (rows.length === 0) throw dbError('NotFound', `no table named ${table}`, { table })
  return String(rows[0].sql)
}

function* indexColumns(index: string): CatalogRead<string[]> {
  return (yield* rowsOf(sql`SELECT name FROM pragma_index_info(${index}) ORDER BY seqno`)).map((r) => String(r.name))
}

function* tableColumns(table: string): CatalogRead<string[]> {
  return (yield* rowsOf(sql`SELECT name FROM pragma_table_info(${table}) ORDER BY cid`)).map((r) => String(r.name))
}
