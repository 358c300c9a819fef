/**
 * The standard DDL: schema statements as the SQL standard (and PostgreSQL, closely) writes them,
 * plus the shared parts of introspection (information_schema and the assembly of a table).
 * Engines override single fields with `extend`, exactly as a user would.
 */
import type { Dialect } from '../../dialect.js'
import { unsupported } from '../../dialect.js'
import type { Row } from '../../driver.js'
import { dbError } from '../../errors.js'
import { fromParts as F, joinFragments, isFragment, sql, type Fragment, type Part, undefinedParameter } from '../../sql.js'
import { jsonText } from '../../values.js'
import {
  type AlterAction, type CheckDef, type ColumnDef, type ConstraintDef, type DdlNode, type KeyDef, native, type SchemaDef, type TableDef, type ViewDef, typeParts,
} from '../../schema/ddl.js'
import type { CatalogRead, DdlDialect, NativeColumn, TableKeys } from '../../schema/ddl-dialect.js'

// ---------------------------------------------------------------- small helpers

const EMPTY = F([])

const joinParts = joinFragments

/**
 * A catalog read from a generator function (for dialect authors): it yields each statement it
 * needs and gets the statement's rows back, so the dialect describes the reading and stays free
 * of I/O; `runCatalog` (recordkit/schema) runs it on a backend.
 * @example introspectViews: () => read(function* () { return (yield* rowsOf(sql`SELECT ...`)).map(toView) })
 */
export const read = <A>(g: () => CatalogRead<A>): CatalogRead<A> => g()

/**
 * The rows of one statement, inside a catalog read.
 * @example const rows = yield* rowsOf(sql`SELECT name FROM sqlite_master`)
 */
export function* rowsOf(q: Fragment): CatalogRead<readonly Row[]> {
  return yield q
}

const str = (v: unknown): string | null => (v === null || v === undefined ? null : Buffer.isBuffer(v) ? v.toString('utf8') : String(v))
const num = (v: unknown): number | undefined => (v === null || v === undefined || v === '' ? undefined : Number(v))

/**
 * Rows of `name, column` pairs grouped by name, columns in order.
 * @example groupColumns([{ name: 'pk', column_name: 'a' }, { name: 'pk', column_name: 'b' }]) // Map { 'pk' => ['a', 'b'] }
 */
export const groupColumns = (rows: readonly Row[], nameKey = 'name', columnKey = 'column_name'): Map<string, string[]> => {
  const out = new Map<string, string[]>()
  for (const r of rows) {
    const n = String(r[nameKey])
    const list = out.get(n) ?? []
    list.push(String(r[columnKey]))
    out.set(n, list)
  }
  return out
}

/**
 * Whether some index's key columns are `columns`, in order, given rows of `name, column_name`
 * in key order (a NULL column, an expression key, matches no name). `same` compares two column
 * names the way the engine does (exactly by default).
 * @example hasKeyColumns([{ name: 'i', column_name: 'a' }, { name: 'i', column_name: 'b' }], ['a', 'b']) // true
 */
export const hasKeyColumns = (rows: readonly Row[], columns: readonly string[], same: (a: string, b: string) => boolean = (a, b) => a === b): boolean => {
  const keys = new Map<string, (string | null)[]>()
  for (const r of rows) {
    const n = String(r.name)
    const list = keys.get(n) ?? []
    list.push(r.column_name === null || r.column_name === undefined ? null : String(r.column_name))
    keys.set(n, list)
  }
  return [...keys.values()].some((k) => k.length === columns.length && k.every((c, i) => c !== null && same(c, columns[i])))
}

/**
 * Tables ordered so that every table comes after the tables it references (cycles keep their order).
 * @example dependencyOrder([invoiceLine, invoice, customer]).map((t) => t.name) // ['customer', 'invoice', 'invoice_line']
 */
export const dependencyOrder = (tables: readonly TableDef[]): TableDef[] => {
  const byName = new Map(tables.map((t) => [t.name, t]))
  const out: TableDef[] = []
  const state = new Map<string, 'visiting' | 'done'>()
  const visit = (t: TableDef): void => {
    if (state.has(t.name)) return
    state.set(t.name, 'visiting')
    for (const fk of t.foreignKeys) {
      const target = byName.get(fk.references.table)
      if (target !== undefined && target.name !== t.name) visit(target)
    }
    state.set(t.name, 'done')
    out.push(t)
  }
  for (const t of tables) visit(t)
  return out
}

const DEFAULT_INCLUDE = (name: string): boolean => !name.startsWith('recordkit_migrations')

/** Remove one pair of parentheses around the whole expression, when they match each other. */
const stripOuterParens = (s: string): string => {
  let t = s.trim()
  for (;;) {
    if (!t.startsWith('(') || !t.endsWith(')')) return t
    let depth = 0
    let inQuote: string | undefined
    for (let i = 0; i < t.length; i++) {
      const c = t[i]
      if (inQuote !== undefined) { if (c === inQuote) inQuote = undefined; continue }
      if (c === "'" || c === '"' || c === '`') { inQuote = c; continue }
      if (c === '(') depth++
      else if (c === ')') {
        depth--
        if (depth === 0 && i < t.length - 1) return t
      }
    }
    t = t.slice(1, -1).trim()
  }
}

// ---------------------------------------------------------------- the standard DDL fields

/**
 * The standard DDL fields, bound to a final dialect record (spread into `standardOpen`).
 * @example const d = fix((self) => ({ ...standardOpen(self) })) // includes standardDdl(self)
 */
export const standardDdl = (self: Dialect): DdlDialect => ({
  transactionalDdl: true,

  literal: (v) => {
    if (v === null || v === undefined) return 'NULL'
    switch (typeof v) {
      case 'boolean': return v ? 'TRUE' : 'FALSE'
      case 'number':
        if (!Number.isFinite(v)) throw dbError('QueryError', `cannot write ${v} as an SQL literal`)
        return String(v)
      case 'bigint': return String(v)
      case 'string': return `'${v.replace(/'/g, "''")}'`
      case 'object':
        // A Date is written as the dialect binds it (SQLite and MySQL: their date text), so a
        // default compares with the values bound later.
        if (v instanceof Date) {
          const bound = self.toDriver(v)
          return self.literal(typeof bound === 'string' ? bound : v.toISOString())
        }
        if (v instanceof Uint8Array) return `X'${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')}'`
        return self.literal(jsonText(v))
      default: throw dbError('QueryError', `cannot write a ${typeof v} as an SQL literal`)
    }
  },

  inlineSql: (f) => {
    // Values are written into the text, numbered as they would be bound; undefined is refused
    // (null is NULL), as the sql tag refuses it.
    let n = 0
    const walk = (parts: readonly Part[]): Part[] => parts.map((p) => {
      if (typeof p === 'string') return p
      switch (p._tag) {
        case 'Param':
          n++
          if (p.value === undefined) throw undefinedParameter(`$${n}`)
          return self.literal(self.toDriver(p.value))
        case 'Literal':
          if (p.value === undefined) throw undefinedParameter('literal')
          return self.literal(p.value)
        case 'Fragment': return F(walk(p.parts))
        case 'Embedded': return F(walk(self.embedded(p.node).parts))
        case 'ValueRows': return F(p.rows.flatMap((r, i) => [i === 0 ? '(' : '), (', ...r.flatMap((x, j) =>
          [...(j > 0 ? [', '] : []), x.kind === 'value' ? self.literal(self.toDriver(x.value)) : F(walk(self.embedded(x).parts))]), ...(i === p.rows.length - 1 ? [')'] : [])]))
        case 'Ident': return p
        default: throw dbError('QueryError', `DDL takes no placeholders (found "${p.name}")`)
      }
    })
    return F(walk(f.parts))
  },

  qualifiedName: (name) => name.split('.').map(self.quoteIdentifier).join('.'),

  // ---- statements

  ddl: (node) => {
    const statements = self.ddlStatements(node)
    if (statements.length === 1) return statements[0]
    if (statements.length === 0) throw dbError('QueryError', `${node.kind} has nothing to do`)
    throw dbError('QueryError', `${self.name}: this ${node.kind} takes ${statements.length} statements; run it with apply(db, node) (or alter(db, node)), which runs them in order in one transaction`)
  },

  ddlStatements: (node: DdlNode) => {
    switch (node.kind) {
      case 'createTable':
        return [
          self.createTable(node),
          ...node.table.indexes.map((index) => self.createIndex({ kind: 'createIndex', table: node.table.name, index, ifNotExists: node.ifNotExists })),
        ]
      case 'dropTable': return [self.dropTable(node)]
      case 'createIndex': return [self.createIndex(node)]
      case 'dropIndex': return [self.dropIndex(node)]
      case 'createView': return [self.createView(node)]
      case 'dropView': return [self.dropView(node)]
      case 'alterTable': return self.alterTable(node)
      default: throw dbError('UnsupportedFeature', `${self.name} cannot compile DDL kind ${String((node as { kind?: unknown }).kind)}`, { dialect: self.name, feature: String((node as { kind?: unknown }).kind) })
    }
  },

  createTable: (node) => {
    const t = node.table
    if (t.columns.length === 0) throw dbError('QueryError', `table ${t.name} has no columns`)
    const items = [...t.columns.map((c) => self.columnDefinition(c, t)), ...self.tableConstraints(t)]
    return F([node.ifNotExists ? 'CREATE TABLE IF NOT EXISTS ' : 'CREATE TABLE ', self.qualifiedName(t.name), ' (', joinParts(items, ', '), ')'])
  },

  dropTable: (node) => F([node.ifExists ? 'DROP TABLE IF EXISTS ' : 'DROP TABLE ', self.qualifiedName(node.name), node.cascade ? ' CASCADE' : '']),

  createIndex: (node) => {
    const i = node.index
    // An index read back with keys the data cannot spell (an expression, DESC, a prefix): its own statement.
    if (i.sql !== undefined) return F([i.sql])
    return F([
      i.unique ? 'CREATE UNIQUE INDEX ' : 'CREATE INDEX ', node.ifNotExists ? 'IF NOT EXISTS ' : '',
      self.quoteIdentifier(i.name), ' ON ', self.qualifiedName(node.table), ' (', i.columns.map(self.quoteIdentifier).join(', '), ')',
      i.where === undefined ? '' : ` WHERE ${i.where}`,
    ])
  },

  dropIndex: (node) => F([node.ifExists ? 'DROP INDEX IF EXISTS ' : 'DROP INDEX ', self.quoteIdentifier(node.name)]),

  createView: (node) => {
    const body = typeof node.query === 'string' ? F([node.query]) : self.inlineSql(isFragment(node.query) ? node.query : self.compileSelect(node.query))
    return F([node.orReplace ? 'CREATE OR REPLACE VIEW ' : 'CREATE VIEW ', self.qualifiedName(node.name), ' AS ', body])
  },

  dropView: (node) => F([node.ifExists ? 'DROP VIEW IF EXISTS ' : 'DROP VIEW ', self.qualifiedName(node.name)]),

  alterTable: (node) => {
    // Renames stand alone (PostgreSQL cannot combine them with other changes); the rest of a
    // run of changes goes into one ALTER TABLE.
    const out: Fragment[] = []
    let name = node.table
    let run: Fragment[] = []
    const flush = () => {
      if (run.length > 0) out.push(F(['ALTER TABLE ', self.qualifiedName(name), ' ', joinParts(run, ', ')]))
      run = []
    }
    for (const a of node.actions) {
      if (a.kind === 'renameColumn' || a.kind === 'renameTable') {
        flush()
        out.push(F(['ALTER TABLE ', self.qualifiedName(name), ' ', self.alterAction(name, a)]))
        if (a.kind === 'renameTable') name = a.to
      } else run.push(self.alterAction(name, a))
    }
    flush()
    return out
  },

  // ---- table parts

  columnDefinition: (c, table) => {
    const inlinePk = table !== undefined && table.primaryKey !== undefined && table.primaryKey.name === undefined &&
      table.primaryKey.columns.length === 1 && table.primaryKey.columns[0] === c.name
    const inlineUnique = table !== undefined && table.uniques.some((u) => u.name === undefined && u.columns.length === 1 && u.columns[0] === c.name)
    return F([
      self.quoteIdentifier(c.name), ' ', self.columnType(c.type, c),
      self.columnNullability(c),
      c.default === undefined ? EMPTY : self.columnDefault(c.default, c),
      c.autoIncrement === true ? self.autoIncrement(c) : EMPTY,
      inlinePk ? self.inlinePrimaryKey(c) : '',
      inlineUnique ? ' UNIQUE' : '',
    ])
  },

  columnNullability: (c) => (c.notNull ? ' NOT NULL' : ''),
  inlinePrimaryKey: () => ' PRIMARY KEY',

  columnType: (type) => {
    if (typeof type !== 'string') return type.native
    const p = typeParts(type)
    if (p === undefined) throw dbError('QueryError', `not a column type: ${JSON.stringify(type)}`)
    switch (p.name) {
      case 'smallint': return 'SMALLINT'
      case 'integer': return 'INTEGER'
      case 'bigint': return 'BIGINT'
      case 'real': return 'REAL'
      case 'double': return 'DOUBLE PRECISION'
      case 'boolean': return 'BOOLEAN'
      case 'text': return 'TEXT'
      case 'varchar': return `VARCHAR(${p.args[0]})`
      case 'char': return `CHAR(${p.args[0]})`
      case 'decimal': return `DECIMAL(${p.args.join(',')})`
      case 'date': return 'DATE'
      case 'time': return 'TIME'
      case 'timestamp': return p.args.length === 0 ? 'TIMESTAMP' : `TIMESTAMP(${p.args[0]})`
      case 'timestamptz': return p.args.length === 0 ? 'TIMESTAMP WITH TIME ZONE' : `TIMESTAMP(${p.args[0]}) WITH TIME ZONE`
      case 'json': return 'JSON'
      case 'uuid': return 'UUID'
      case 'binary': return 'BLOB'
    }
  },

  columnDefault: (d) => {
    switch (d.kind) {
      case 'value': return F([' DEFAULT ', self.literal(d.value)])
      case 'now': return F([' DEFAULT CURRENT_TIMESTAMP'])
      case 'sql': return F([` DEFAULT ${d.sql}`])
    }
  },

  autoIncrement: () => F([' GENERATED BY DEFAULT AS IDENTITY']),

  tableConstraints: (t) => {
    const out: Fragment[] = []
    const pk = t.primaryKey
    if (pk !== undefined && (pk.name !== undefined || pk.columns.length !== 1)) out.push(self.primaryKey(pk))
    for (const u of t.uniques) if (u.name !== undefined || u.columns.length !== 1) out.push(self.unique(u))
    for (const fk of t.foreignKeys) out.push(self.foreignKey(fk))
    for (const c of t.checks) out.push(self.check(c))
    return out
  },

  constraintName: (name) => (name === undefined ? '' : `CONSTRAINT ${self.quoteIdentifier(name)} `),

  primaryKey: (key) => F([self.constraintName(key.name), 'PRIMARY KEY (', key.columns.map(self.quoteIdentifier).join(', '), ')']),

  unique: (key) => F([self.constraintName(key.name), 'UNIQUE (', key.columns.map(self.quoteIdentifier).join(', '), ')']),

  foreignKey: (fk) => F([
    self.constraintName(fk.name), 'FOREIGN KEY (', fk.columns.map(self.quoteIdentifier).join(', '), ') REFERENCES ',
    self.qualifiedName(fk.references.table), ' (', fk.references.columns.map(self.quoteIdentifier).join(', '), ')',
    fk.onDelete === undefined ? '' : ` ON DELETE ${self.referentialAction(fk.onDelete)}`,
    fk.onUpdate === undefined ? '' : ` ON UPDATE ${self.referentialAction(fk.onUpdate)}`,
  ]),

  referentialAction: (a) => a.toUpperCase(),

  check: (c) => F([
    self.constraintName(c.name), 'CHECK (',
    c.oneOf === undefined ? c.expression : `${self.quoteIdentifier(c.oneOf.column)} IN (${c.oneOf.values.map((v) => self.literal(v)).join(', ')})`,
    ')',
  ]),

  constraint: (c: ConstraintDef) => {
    switch (c.kind) {
      case 'primaryKey': return self.primaryKey(c.key)
      case 'unique': return self.unique(c.key)
      case 'foreignKey': return self.foreignKey(c.foreignKey)
      case 'check': return self.check(c.check)
    }
  },

  // ---- ALTER TABLE changes

  alterAction: (table, a: AlterAction) => {
    switch (a.kind) {
      case 'addColumn': return self.addColumn(table, a.column)
      case 'dropColumn': return self.dropColumn(table, a.column)
      case 'renameColumn': return self.renameColumn(table, a.from, a.to)
      case 'alterColumn': return self.alterColumn(table, a.column)
      case 'setDefault': return self.alterColumnDefault(table, a.column, a.default)
      case 'addConstraint': return self.addConstraint(table, a.constraint)
      case 'dropConstraint': return self.dropConstraint(table, a.name, a.constraint)
      case 'renameTable': return self.renameTable(table, a.to)
    }
  },

  addColumn: (_, c) => F(['ADD COLUMN ', self.columnDefinition(c)]),
  dropColumn: (_, c) => F([`DROP COLUMN ${self.quoteIdentifier(c)}`]),
  renameColumn: (_, from, to) => F([`RENAME COLUMN ${self.quoteIdentifier(from)} TO ${self.quoteIdentifier(to)}`]),
  alterColumn: (table, c) => joinParts([
    self.alterColumnType(table, c),
    self.alterColumnNull(table, c.name, c.notNull),
    self.alterColumnDefault(table, c.name, c.default ?? null, c),
  ], ', '),
  alterColumnType: (_, c) => F([`ALTER COLUMN ${self.quoteIdentifier(c.name)} TYPE ${self.columnType(c.type, c)}`]),
  alterColumnNull: (_, c, notNull) => F([`ALTER COLUMN ${self.quoteIdentifier(c)} ${notNull ? 'SET NOT NULL' : 'DROP NOT NULL'}`]),
  alterColumnDefault: (_, c, value, def) =>
    value === null
      ? F([`ALTER COLUMN ${self.quoteIdentifier(c)} DROP DEFAULT`])
      : F([`ALTER COLUMN ${self.quoteIdentifier(c)} SET`, self.columnDefault(value, def ?? { name: c, type: 'text', notNull: false })]),
  addConstraint: (_, c) => F(['ADD ', self.constraint(c)]),
  dropConstraint: (_, name) => F([`DROP CONSTRAINT ${self.quoteIdentifier(name)}`]),
  renameTable: (_, to) => F([`RENAME TO ${self.quoteIdentifier(to)}`]),

  alterSegments: (node) => [node],
  // eslint-disable-next-line require-yield -- reads nothing: the plan is the ALTER TABLE itself
  planAlter: (node) => read(function* () { return { before: [], statements: self.alterTable(node), after: [] } }),
  rebuildTable: unsupported('standard', 'table rebuild'),
  foreignKeySuspension: unsupported('standard', 'suspending foreign keys'),
  resetAutoIncrement: () => [],

  migrationLock: unsupported('standard', 'a migration lock'),

  // ---- introspection

  currentSchema: 'CURRENT_SCHEMA',

  introspectSchema: (options) => read(function* () {
    const include = options?.include ?? DEFAULT_INCLUDE
    const names = (yield* self.introspectTableNames()).filter(include)
    const tables: TableDef[] = []
    for (const n of names) tables.push(yield* self.introspectTable(n))
    const views = (yield* self.introspectViews()).filter((v) => include(v.name))
    return { tables: dependencyOrder(tables), views } satisfies SchemaDef
  }),

  introspectTableNames: () => read(function* () {
    const rows = yield* rowsOf(sql`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = ${sql.raw(self.currentSchema)} AND table_type = 'BASE TABLE' ORDER BY table_name`)
    return rows.map((r) => String(r.name))
  }),

  introspectTable: (name) => read(function* () {
    const columns = yield* self.introspectColumns(name)
    if (columns.length === 0) throw dbError('NotFound', `no table named ${name}`, { table: name })
    const keys = yield* self.introspectKeys(name)
    const checks = yield* self.introspectChecks(name)
    const foreignKeys = yield* self.introspectForeignKeys(name)
    const indexes = yield* self.introspectIndexes(name)
    const pkColumns = new Set(keys.primaryKey?.columns ?? [])
    const t: { -readonly [K in keyof TableDef]: TableDef[K] } = {
      name,
      columns: columns.map((c) => {
        const col = self.portableColumn(c)
        return pkColumns.has(col.name) && !col.notNull ? { ...col, notNull: true } : col
      }),
      uniques: keys.uniques,
      foreignKeys,
      checks,
      indexes,
    }
    if (keys.primaryKey !== undefined) t.primaryKey = keys.primaryKey
    return t as TableDef
  }),

  introspectColumns: (table) => read(function* () {
    const rows = yield* rowsOf(sql`SELECT column_name AS name, data_type AS type, character_maximum_length AS length, numeric_precision AS num_precision, numeric_scale AS num_scale, datetime_precision AS dt_precision, is_nullable AS nullable, column_default AS dflt, is_identity AS ident FROM information_schema.columns WHERE table_schema = ${sql.raw(self.currentSchema)} AND table_name = ${table} ORDER BY ordinal_position`)
    return rows.map((r): NativeColumn => ({
      name: String(r.name),
      type: String(r.type).toLowerCase(),
      length: num(r.length),
      precision: num(r.num_precision),
      scale: num(r.num_scale),
      datetimePrecision: num(r.dt_precision),
      notNull: r.nullable === 'NO',
      default: str(r.dflt),
      autoIncrement: r.ident === 'YES',
    }))
  }),

  introspectKeys: (table) => read(function* () {
    const rows = yield* rowsOf(sql`SELECT tc.constraint_name AS name, tc.constraint_type AS type, kcu.column_name AS column_name FROM information_schema.table_constraints tc JOIN information_schema.key_column_usage kcu ON kcu.constraint_schema = tc.constraint_schema AND kcu.constraint_name = tc.constraint_name AND kcu.table_name = tc.table_name WHERE tc.table_schema = ${sql.raw(self.currentSchema)} AND tc.table_name = ${table} AND tc.constraint_type IN ('PRIMARY KEY', 'UNIQUE') ORDER BY tc.constraint_name, kcu.ordinal_position`)
    const types = new Map(rows.map((r) => [String(r.name), String(r.type)]))
    let primaryKey: KeyDef | undefined
    const uniques: KeyDef[] = []
    for (const [name, columns] of groupColumns(rows)) {
      const kind = types.get(name) === 'PRIMARY KEY' ? 'primaryKey' : 'unique'
      const key: KeyDef = self.generatedName(kind, table, columns, name) ? { columns } : { name, columns }
      if (kind === 'primaryKey') primaryKey = key
      else uniques.push(key)
    }
    return (primaryKey === undefined ? { uniques } : { primaryKey, uniques }) satisfies TableKeys
  }),

  introspectChecks: (table) => read(function* () {
    const rows = yield* rowsOf(sql`SELECT tc.constraint_name AS name, cc.check_clause AS expression FROM information_schema.table_constraints tc JOIN information_schema.check_constraints cc ON cc.constraint_schema = tc.constraint_schema AND cc.constraint_name = tc.constraint_name WHERE tc.table_schema = ${sql.raw(self.currentSchema)} AND tc.table_name = ${table} AND tc.constraint_type = 'CHECK' ORDER BY tc.constraint_name`)
    return rows.map((r): CheckDef => {
      const expression = self.normalizeCheck(String(r.expression))
      const name = String(r.name)
      return self.generatedName('check', table, [], name) ? { expression } : { name, expression }
    })
  }),

  // ---- cheap questions: information_schema, in the current schema unless the name says one

  hasTable: (t) => read(function* () {
    const schema = t.schema === undefined ? sql.raw(self.currentSchema) : sql`${t.schema}`
    return (yield* rowsOf(sql`SELECT 1 AS found FROM information_schema.tables WHERE table_schema = ${schema} AND table_name = ${t.name} AND table_type IN ('BASE TABLE', 'LOCAL TEMPORARY', 'GLOBAL TEMPORARY')`)).length > 0
  }),

  hasColumn: (t, column) => read(function* () {
    const schema = t.schema === undefined ? sql.raw(self.currentSchema) : sql`${t.schema}`
    return (yield* rowsOf(sql`SELECT 1 AS found FROM information_schema.columns WHERE table_schema = ${schema} AND table_name = ${t.name} AND column_name = ${column}`)).length > 0
  }),

  hasIndex: unsupported('standard', 'reading indexes'),

  introspectForeignKeys: unsupported('standard', 'reading foreign keys'),
  introspectIndexes: unsupported('standard', 'reading indexes'),

  introspectViews: () => read(function* () {
    const rows = yield* rowsOf(sql`SELECT table_name AS name, view_definition AS body FROM information_schema.views WHERE table_schema = ${sql.raw(self.currentSchema)} ORDER BY table_name`)
    return rows.map((r): ViewDef => ({ name: String(r.name), sql: String(r.body).trim().replace(/;$/, '') }))
  }),

  portableColumn: (c) => {
    const type = self.portableType(c)
    const col: { -readonly [K in keyof ColumnDef]: ColumnDef[K] } = { name: c.name, type, notNull: c.notNull }
    if (!c.autoIncrement) {
      const d = self.parseDefault(c.default, type)
      if (d !== undefined) col.default = d
    } else col.autoIncrement = true
    return col
  },

  portableType: (c) => {
    const t = c.type.trim().toLowerCase()
    const sized = /^([a-z ]+?)\s*\(\s*(\d+)(?:\s*,\s*(\d+))?\s*\)(.*)$/.exec(t)
    const base = (sized ? `${sized[1]}${sized[4]}` : t).replace(/\s+/g, ' ').trim()
    const a1 = sized ? Number(sized[2]) : undefined
    const a2 = sized?.[3] !== undefined ? Number(sized[3]) : undefined
    const length = a1 ?? c.length
    const precision = a1 ?? c.precision
    const scale = a2 ?? c.scale
    const fraction = a1 ?? c.datetimePrecision
    switch (base) {
      case 'smallint': case 'int2': return 'smallint'
      case 'integer': case 'int': case 'int4': return 'integer'
      case 'bigint': case 'int8': return 'bigint'
      case 'real': case 'float4': return 'real'
      case 'double precision': case 'double': case 'float8': return 'double'
      case 'boolean': case 'bool': return 'boolean'
      case 'text': return 'text'
      case 'character varying': case 'varchar':
        return length === undefined ? 'text' : `varchar(${length})`
      case 'character': case 'char':
        return `char(${length ?? 1})`
      case 'numeric': case 'decimal':
        return precision === undefined ? native(c.type) : `decimal(${precision},${scale ?? 0})`
      case 'date': return 'date'
      case 'time': case 'time without time zone': return 'time'
      case 'timestamp': case 'timestamp without time zone':
        return fraction === undefined || fraction === 6 ? 'timestamp' : `timestamp(${fraction})`
      case 'timestamptz': case 'timestamp with time zone':
        return fraction === undefined || fraction === 6 ? 'timestamptz' : `timestamptz(${fraction})`
      case 'json': case 'jsonb': case 'json text': return 'json'
      case 'uuid': return 'uuid'
      case 'blob': case 'bytea': return 'binary'
      default: return native(c.type)
    }
  },

  parseDefault: (text, type) => {
    if (text === null) return undefined
    let t = text.trim()
    // PostgreSQL casts literals: 'abc'::text, '0'::numeric, (-1)
    t = t.replace(/::[a-z_ ]+(\[\])?(\(\d+(,\s*\d+)?\))?$/i, '')
    t = stripOuterParens(t)
    if (/^null$/i.test(t)) return undefined
    if (/^(current_timestamp|now)(\(\s*\d*\s*\))?$/i.test(t) || /^localtimestamp$/i.test(t)) return { kind: 'now' }
    const p = typeParts(type)
    const m = /^'((?:[^']|'')*)'$/.exec(t)
    if (m) {
      const s = m[1].replace(/''/g, "'")
      return { kind: 'value', value: valueFor(p?.name, s) }
    }
    if (NUMBER_RE.test(t)) {
      if (p?.name === 'boolean') return { kind: 'value', value: t !== '0' }
      if (p?.name === 'text' || p?.name === 'varchar' || p?.name === 'char') return { kind: 'value', value: t }
      return { kind: 'value', value: numberFor(p?.name, t) }
    }
    if (/^true$/i.test(t)) return { kind: 'value', value: true }
    if (/^false$/i.test(t)) return { kind: 'value', value: false }
    return { kind: 'sql', sql: t }
  },

  generatedName: () => false,

  normalizeCheck: (expression) =>
    stripOuterParens(expression).replace(/[`"]([A-Za-z_][A-Za-z0-9_]*)[`"]/g, (quoted, name: string) => (needsQuotes(name) ? quoted : name)).replace(/\s+/g, ' ').trim(),
})

/**
 * Words a column name cannot be bare in a CHECK on some engine (`order`, `key`, `user`, ...):
 * a check read back is SQL text that is run again (SQLite's table rebuild, a schema copied to
 * another engine), so their quotes stay.
 */
const RESERVED = new Set([
  'all', 'alter', 'and', 'any', 'as', 'asc', 'between', 'both', 'by', 'case', 'cast', 'check', 'collate', 'column', 'constraint', 'create',
  'cross', 'current_date', 'current_time', 'current_timestamp', 'current_user', 'default', 'delete', 'desc', 'distinct', 'do', 'drop', 'else',
  'end', 'except', 'exists', 'false', 'fetch', 'for', 'foreign', 'from', 'full', 'grant', 'group', 'having', 'in', 'index', 'inner', 'insert',
  'intersect', 'into', 'is', 'join', 'key', 'leading', 'left', 'like', 'limit', 'natural', 'not', 'null', 'offset', 'on', 'or', 'order',
  'outer', 'primary', 'range', 'references', 'right', 'rows', 'select', 'session_user', 'set', 'some', 'table', 'then', 'to', 'trailing',
  'true', 'union', 'unique', 'update', 'user', 'using', 'values', 'when', 'where', 'window', 'with',
])

/** Whether a name read quoted from a CHECK keeps its quotes: a reserved word, or a capital PostgreSQL would fold. */
const needsQuotes = (name: string): boolean => /[A-Z]/.test(name) || RESERVED.has(name)

const NUMBER_RE = /^-?\d+(\.\d+)?(e[+-]?\d+)?$/i

/**
 * A numeric default's text as a value: a decimal is a number when a number holds it exactly (15
 * significant digits) and its text otherwise, a bigint beyond ±2^53 a bigint.
 */
const numberFor = (type: string | undefined, t: string): number | bigint | string => {
  if (type === 'decimal') return t.replace(/^-/, '').replace(/\.?0+$/, '').replace(/^0+\.?/, '').replace('.', '').length <= 15 ? Number(t) : t
  if (type === 'bigint' && !Number.isSafeInteger(Number(t)) && /^-?\d+$/.test(t)) return BigInt(t)
  return Number(t)
}

/**
 * A quoted default's text as the value the column type holds. PostgreSQL quotes the numbers it
 * cannot read as an integer literal (`'-5'::bigint`, `'3000000000'::bigint`, `'-1.5'::numeric`):
 * they are the same values as unquoted ones.
 */
const valueFor = (type: string | undefined, s: string): string | number | bigint | boolean => {
  switch (type) {
    case 'bigint':
    case 'decimal':
      return NUMBER_RE.test(s) ? numberFor(type, s) : s
    case 'smallint':
    case 'integer':
    case 'real':
    case 'double':
      return Number.isFinite(Number(s)) && s.trim() !== '' ? Number(s) : s
    case 'boolean':
      return /^(t|true|1|y|yes|on)$/i.test(s)
    default:
      return s
  }
}

/** Helpers for the engine DDL files. */
export { joinParts, stripOuterParens }
