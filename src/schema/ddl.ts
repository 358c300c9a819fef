/**
 * Schema as data: tables, columns, keys, indexes and views as plain frozen objects, and the
 * pipeable builders that make them. Dialects compile them (`src/dialects/ddl/`); `introspect`
 * reads them back from a database in the same shape, so a schema read from one engine can be
 * created on another.
 *
 * ```ts
 * pipe(
 *   createTable('users'),
 *   column('id', 'integer', { primaryKey: true, autoIncrement: true }),
 *   column('email', 'varchar(255)', { notNull: true, unique: true }),
 *   column('created_at', 'timestamptz', { notNull: true, default: now }),
 * )
 * ```
 *
 * SQL text inside DDL (CHECK expressions, partial-index conditions, view bodies, `sqlDefault`)
 * is written into the statement as it is: DDL takes no bound parameters. Values given as data
 * (defaults, values inside a `sql` fragment or a query) become literals quoted by the dialect.
 */
import type { SelectNode } from '../ast.js'
import { isFragment, type Fragment } from '../sql.js'

// ---------------------------------------------------------------- column types

/** Portable types without arguments. */
export type SimpleType =
  | 'smallint' | 'integer' | 'bigint'
  | 'real' | 'double'
  | 'boolean'
  | 'text'
  | 'date' | 'time' | 'timestamp' | 'timestamptz'
  | 'json' | 'uuid' | 'binary'

/** Portable types with arguments: `varchar(255)`, `decimal(10,2)`, `timestamp(3)`. */
export type SizedType =
  | `varchar(${number})`
  | `char(${number})`
  | `decimal(${number},${number})`
  | `decimal(${number})`
  | `timestamp(${number})`
  | `timestamptz(${number})`

/** A type written exactly as the engine spells it (not portable). */
export interface NativeType {
  readonly native: string
}

/** A column type: portable (mapped per dialect by `columnType`) or native. */
export type ColumnType = SimpleType | SizedType | NativeType

/** A portable type taken apart: its name and numeric arguments. */
export interface TypeParts {
  readonly name: SimpleType | 'varchar' | 'char' | 'decimal'
  readonly args: readonly number[]
}

const SIMPLE = new Set<string>(['smallint', 'integer', 'bigint', 'real', 'double', 'boolean', 'text', 'date', 'time', 'timestamp', 'timestamptz', 'json', 'uuid', 'binary'])
const SIZED = /^(varchar|char|decimal|timestamp|timestamptz)\((\d+)(?:,(\d+))?\)$/

/**
 * A portable type taken apart, or undefined for a native type or a string that is not one.
 * @example typeParts('decimal(10,2)') // { name: 'decimal', args: [10, 2] }
 */
export const typeParts = (t: ColumnType): TypeParts | undefined => {
  if (typeof t !== 'string') return undefined
  if (SIMPLE.has(t)) return { name: t as SimpleType, args: [] }
  const m = SIZED.exec(t.replace(/\s+/g, ''))
  if (m === null) return undefined
  if ((m[1] === 'varchar' || m[1] === 'char' || m[1] === 'timestamp' || m[1] === 'timestamptz') && m[3] !== undefined) return undefined
  return { name: m[1] as TypeParts['name'], args: m[3] === undefined ? [Number(m[2])] : [Number(m[2]), Number(m[3])] }
}

/**
 * A type the engine spells its own way, passed through as it is.
 * @example column('location', native('geometry(Point, 4326)'))
 */
export const native = (text: string): NativeType => Object.freeze({ native: text })

/**
 * The canonical spelling of a portable type (spaces removed), or the native type as it is.
 * @example canonicalType('decimal(10, 2)' as ColumnType) // 'decimal(10,2)'
 */
export const canonicalType = (t: ColumnType): ColumnType => {
  if (typeof t !== 'string') return t
  const p = typeParts(t)
  if (p === undefined) throw new TypeError(`not a portable column type: ${JSON.stringify(t)} (use native('...') for an engine's own type)`)
  // DECIMAL(p) is DECIMAL(p,0) on every engine.
  const args = p.name === 'decimal' && p.args.length === 1 ? [p.args[0], 0] : p.args
  return (args.length === 0 ? p.name : `${p.name}(${args.join(',')})`) as ColumnType
}

// ---------------------------------------------------------------- defaults

/** A column default: a literal value, the current time, or SQL text. */
export type ColumnDefault =
  | { readonly kind: 'value'; readonly value: string | number | bigint | boolean | null }
  | { readonly kind: 'now' }
  | { readonly kind: 'sql'; readonly sql: string }

/**
 * The current timestamp as a default (`CURRENT_TIMESTAMP`, with the column's precision where the
 * engine needs it).
 * @example column('created_at', 'timestamptz', { notNull: true, default: now })
 */
export const now: ColumnDefault = Object.freeze({ kind: 'now' })

/**
 * A default written as engine SQL (an expression, not a value). Never pass user input here.
 * @example column('id', 'uuid', { default: sqlDefault('gen_random_uuid()') })
 */
export const sqlDefault = (text: string): ColumnDefault => Object.freeze({ kind: 'sql', sql: text })

const isDefault = (u: unknown): u is ColumnDefault =>
  typeof u === 'object' && u !== null && (u as { kind?: unknown }).kind !== undefined &&
  ((u as ColumnDefault).kind === 'value' || (u as ColumnDefault).kind === 'now' || (u as ColumnDefault).kind === 'sql')

/** What a `default` option takes: a literal value, `now`, or `sqlDefault('...')`. */
export type DefaultInput = string | number | bigint | boolean | null | ColumnDefault

const toDefault = (d: DefaultInput): ColumnDefault => (isDefault(d) ? d : Object.freeze({ kind: 'value' as const, value: d }))

// ---------------------------------------------------------------- tables

/** One column. Keys and references live on the table. */
export interface ColumnDef {
  readonly name: string
  readonly type: ColumnType
  readonly notNull: boolean
  readonly default?: ColumnDefault
  /** Generated by the database: AUTOINCREMENT, AUTO_INCREMENT or an identity column. */
  readonly autoIncrement?: boolean
}

/** A primary key or unique constraint; `name` is absent when the engine named it. */
export interface KeyDef {
  readonly name?: string
  readonly columns: readonly string[]
}

/** What happens to referencing rows when the referenced row is deleted or its key updated. */
export type ReferentialAction = 'cascade' | 'restrict' | 'set null' | 'set default' | 'no action'

/** A foreign key. Absent actions are the engine's default (NO ACTION, or RESTRICT on MySQL). */
export interface ForeignKeyDef {
  readonly name?: string
  readonly columns: readonly string[]
  readonly references: { readonly table: string; readonly columns: readonly string[] }
  readonly onDelete?: ReferentialAction
  readonly onUpdate?: ReferentialAction
}

/**
 * A CHECK constraint; the expression is SQL text. A check built by `oneOf` (and the one
 * `createTableFor` derives for a union of string literals) also keeps its column and values:
 * the dialect writes it from them, the column's name quoted and the values as its literals, and
 * `expression` is the same condition with the name bare (for reading which columns it names).
 */
export interface CheckDef {
  readonly name?: string
  readonly expression: string
  readonly oneOf?: { readonly column: string; readonly values: readonly string[] }
}

/** An index. `where` (SQL text) makes it partial, where the engine has partial indexes. */
export interface IndexDef {
  readonly name: string
  readonly columns: readonly string[]
  readonly unique: boolean
  readonly where?: string
  /**
   * Set by `introspect` for an index whose keys are more than ascending columns (an expression,
   * a descending key, a collation, a prefix length, another method than the default, INCLUDE
   * columns): the statement that makes it, in the engine's SQL, which `createIndex` runs as it
   * is (as a view's body is carried). `columns` then lists the columns it reads. Read from one
   * engine, it may not run on another.
   */
  readonly sql?: string
}

/** A table: what `createTable` builds and `introspect` returns. */
export interface TableDef {
  readonly name: string
  readonly columns: readonly ColumnDef[]
  readonly primaryKey?: KeyDef
  readonly uniques: readonly KeyDef[]
  readonly foreignKeys: readonly ForeignKeyDef[]
  readonly checks: readonly CheckDef[]
  readonly indexes: readonly IndexDef[]
}

/** A view; its query is SQL text (engine SQL, carried as it is). */
export interface ViewDef {
  readonly name: string
  readonly sql: string
}

/** A database schema: tables (in an order where referenced tables come first) and views. */
export interface SchemaDef {
  readonly tables: readonly TableDef[]
  readonly views: readonly ViewDef[]
}

/** A constraint added to or dropped from an existing table. */
export type ConstraintDef =
  | { readonly kind: 'primaryKey'; readonly key: KeyDef }
  | { readonly kind: 'unique'; readonly key: KeyDef }
  | { readonly kind: 'foreignKey'; readonly foreignKey: ForeignKeyDef }
  | { readonly kind: 'check'; readonly check: CheckDef }

// ---------------------------------------------------------------- statements

/** `CREATE TABLE` (and `CREATE INDEX` for the table's indexes). */
export interface CreateTableNode {
  readonly kind: 'createTable'
  readonly table: TableDef
  readonly ifNotExists: boolean
}
/** `DROP TABLE` */
export interface DropTableNode {
  readonly kind: 'dropTable'
  readonly name: string
  readonly ifExists: boolean
  readonly cascade: boolean
}
/** `CREATE INDEX` */
export interface CreateIndexNode {
  readonly kind: 'createIndex'
  readonly table: string
  readonly index: IndexDef
  readonly ifNotExists: boolean
}
/** `DROP INDEX`; MySQL needs the table. */
export interface DropIndexNode {
  readonly kind: 'dropIndex'
  readonly name: string
  readonly table?: string
  readonly ifExists: boolean
}
/** `CREATE VIEW` from SQL text, a `sql` fragment or a query. */
export interface CreateViewNode {
  readonly kind: 'createView'
  readonly name: string
  readonly query: string | Fragment | SelectNode
  readonly orReplace: boolean
}
/** `DROP VIEW` */
export interface DropViewNode {
  readonly kind: 'dropView'
  readonly name: string
  readonly ifExists: boolean
}

/** One change of an `ALTER TABLE`. */
export type AlterAction =
  | { readonly kind: 'addColumn'; readonly column: ColumnDef }
  | { readonly kind: 'dropColumn'; readonly column: string }
  | { readonly kind: 'renameColumn'; readonly from: string; readonly to: string }
  /** The column becomes this definition: type, nullability and default (absent = no default). */
  | { readonly kind: 'alterColumn'; readonly column: ColumnDef }
  | { readonly kind: 'setDefault'; readonly column: string; readonly default: ColumnDefault | null }
  | { readonly kind: 'addConstraint'; readonly constraint: ConstraintDef }
  | { readonly kind: 'dropConstraint'; readonly name: string; readonly constraint?: ConstraintDef['kind'] }
  | { readonly kind: 'renameTable'; readonly to: string }

/** `ALTER TABLE` with its changes in order. */
export interface AlterTableNode {
  readonly kind: 'alterTable'
  readonly table: string
  readonly actions: readonly AlterAction[]
}

/** Any DDL statement: a statement kind `compile` and `execute` take. */
export type DdlNode = CreateTableNode | DropTableNode | CreateIndexNode | DropIndexNode | CreateViewNode | DropViewNode | AlterTableNode

const DDL_KINDS = new Set(['createTable', 'dropTable', 'createIndex', 'dropIndex', 'createView', 'dropView', 'alterTable'])

/**
 * True for a DDL statement node.
 * @example isDdlNode(createTable('t')) // true
 */
export const isDdlNode = (u: unknown): u is DdlNode =>
  typeof u === 'object' && u !== null && !isFragment(u) && DDL_KINDS.has((u as { kind?: string }).kind as string)

// ---------------------------------------------------------------- builders: CREATE TABLE

/** A CREATE TABLE statement (a `CreateTableNode`). */
export type CreateTable = CreateTableNode

const emptyTable = (name: string): TableDef => Object.freeze({ name, columns: [], uniques: [], foreignKeys: [], checks: [], indexes: [] })

/**
 * Start a CREATE TABLE, from a name or from a whole table definition (an introspected one).
 * @example pipe(createTable('users'), column('id', 'integer', { primaryKey: true }))
 * @example createTable(schema.tables[0], { ifNotExists: true })
 */
export const createTable = (table: string | TableDef, options?: { readonly ifNotExists?: boolean }): CreateTable =>
  Object.freeze({ kind: 'createTable' as const, table: typeof table === 'string' ? emptyTable(table) : table, ifNotExists: options?.ifNotExists ?? false })

/** `CREATE TABLE IF NOT EXISTS` @example pipe(createTable('t'), ifNotExists, column('id', 'integer')) */
export const ifNotExists = <N extends CreateTableNode | CreateIndexNode>(n: N): N => Object.freeze({ ...(n as CreateTableNode), ifNotExists: true }) as unknown as N

/** A reference to one column of another table: `'users.id'` or an object with actions. */
export type ReferenceInput =
  | string
  | { readonly table: string; readonly column?: string; readonly onDelete?: ReferentialAction; readonly onUpdate?: ReferentialAction; readonly name?: string }

/** What `column` and `addColumn` take besides the name and type. */
export interface ColumnOptions {
  readonly notNull?: boolean
  readonly default?: DefaultInput
  /** A one-column primary key (implies NOT NULL). For a composite key use `primaryKey([...])`. */
  readonly primaryKey?: boolean
  /** Generated by the database (INTEGER PRIMARY KEY AUTOINCREMENT, AUTO_INCREMENT, identity). */
  readonly autoIncrement?: boolean
  /** A one-column unique constraint. */
  readonly unique?: boolean
  /** A one-column foreign key: `'users.id'`, or `{ table, column, onDelete, onUpdate }`. */
  readonly references?: ReferenceInput
  /** A CHECK constraint, as SQL text, or `oneOf([...])`: the column holds one of these strings. */
  readonly check?: string | OneOf
}

/** The check `oneOf` makes: a column's value is one of `values`. */
export interface OneOf {
  readonly kind: 'oneOf'
  readonly values: readonly string[]
}

/**
 * A column check: the value is one of these strings (`col IN ('a', 'b')`), written with the
 * column's name quoted and the values as literals by each dialect, so a reserved or mixed-case
 * column name and a value holding a quote or a backslash need no care.
 * @example column('order', 'varchar(4)', { notNull: true, check: oneOf(['asc', 'desc']) })
 */
export const oneOf = (values: readonly string[]): OneOf => {
  if (values.length === 0) throw new TypeError('oneOf needs at least one value')
  return Object.freeze({ kind: 'oneOf' as const, values: Object.freeze([...values]) })
}

/** A `oneOf` check on a column, as a CheckDef. */
const oneOfCheck = (column: string, values: readonly string[]): CheckDef => Object.freeze({
  expression: `${column} IN (${values.map((v) => `'${v.replace(/'/g, "''")}'`).join(', ')})`,
  oneOf: Object.freeze({ column, values }),
})

const INTEGER_TYPES: ReadonlySet<unknown> = new Set(['smallint', 'integer', 'bigint'])

const makeColumn = (name: string, type: ColumnType, o: ColumnOptions): ColumnDef => {
  const c: { -readonly [K in keyof ColumnDef]: ColumnDef[K] } = { name, type: canonicalType(type), notNull: o.notNull === true || o.primaryKey === true }
  // A generated key counts: on a text or decimal column SQLite silently made it an INTEGER, and
  // PostgreSQL and MySQL refused it only when the statement ran. An engine's own type is its own.
  if (o.autoIncrement === true && typeof c.type === 'string' && !INTEGER_TYPES.has(c.type))
    throw new TypeError(`column ${name}: autoIncrement needs an integer type (smallint, integer, bigint), not ${c.type}`)
  if (o.default !== undefined) c.default = toDefault(o.default)
  if (o.autoIncrement === true) c.autoIncrement = true
  return Object.freeze(c)
}

const referenceOf = (column: string, r: ReferenceInput): ForeignKeyDef => {
  if (typeof r === 'string') {
    const dot = r.lastIndexOf('.')
    if (dot < 0) return Object.freeze({ columns: [column], references: { table: r, columns: [column] } })
    return Object.freeze({ columns: [column], references: { table: r.slice(0, dot), columns: [r.slice(dot + 1)] } })
  }
  const fk: { -readonly [K in keyof ForeignKeyDef]: ForeignKeyDef[K] } = { columns: [column], references: { table: r.table, columns: [r.column ?? column] } }
  if (r.name !== undefined) fk.name = r.name
  if (r.onDelete !== undefined) fk.onDelete = r.onDelete
  if (r.onUpdate !== undefined) fk.onUpdate = r.onUpdate
  return Object.freeze(fk)
}

const patchTable = (n: CreateTableNode, t: Partial<TableDef>): CreateTableNode =>
  Object.freeze({ ...n, table: Object.freeze({ ...n.table, ...t }) })

/** The constraints a column's options ask for. */
const columnConstraints = (name: string, o: ColumnOptions): ConstraintDef[] => {
  const out: ConstraintDef[] = []
  if (o.primaryKey === true) out.push({ kind: 'primaryKey', key: { columns: [name] } })
  if (o.unique === true) out.push({ kind: 'unique', key: { columns: [name] } })
  if (o.references !== undefined) out.push({ kind: 'foreignKey', foreignKey: referenceOf(name, o.references) })
  if (o.check !== undefined) out.push({ kind: 'check', check: typeof o.check === 'string' ? { expression: o.check } : oneOfCheck(name, o.check.values) })
  return out
}

const withConstraint = (n: CreateTableNode, c: ConstraintDef): CreateTableNode => {
  switch (c.kind) {
    case 'primaryKey': {
      if (n.table.primaryKey !== undefined) throw new TypeError(`table ${n.table.name} has a primary key already`)
      const pk = new Set(c.key.columns)
      return patchTable(n, {
        primaryKey: Object.freeze(c.key),
        columns: n.table.columns.map((col) => (pk.has(col.name) && !col.notNull ? Object.freeze({ ...col, notNull: true }) : col)),
      })
    }
    case 'unique': return patchTable(n, { uniques: [...n.table.uniques, Object.freeze(c.key)] })
    case 'foreignKey': return patchTable(n, { foreignKeys: [...n.table.foreignKeys, Object.freeze(c.foreignKey)] })
    case 'check': return patchTable(n, { checks: [...n.table.checks, Object.freeze(c.check)] })
  }
}

/**
 * Add a column to a CREATE TABLE. Column options that are constraints (`primaryKey`, `unique`,
 * `references`, `check`) become the table's constraints on that column.
 *
 * @example
 * pipe(
 *   createTable('posts'),
 *   column('id', 'bigint', { primaryKey: true, autoIncrement: true }),
 *   column('user_id', 'integer', { notNull: true, references: { table: 'users', column: 'id', onDelete: 'cascade' } }),
 *   column('title', 'varchar(200)', { notNull: true, default: '' }),
 * )
 */
export const column = (name: string, type: ColumnType, options: ColumnOptions = {}) => (n: CreateTableNode): CreateTableNode => {
  if (n.table.columns.some((c) => c.name === name)) throw new TypeError(`table ${n.table.name} has a column ${name} already`)
  let out = patchTable(n, { columns: [...n.table.columns, makeColumn(name, type, options)] })
  for (const c of columnConstraints(name, options)) out = withConstraint(out, c)
  return out
}

/** Steps that apply to a CREATE TABLE (as a table constraint) and to an ALTER TABLE (as ADD CONSTRAINT). */
type TableStep = <N extends CreateTableNode | AlterTableNode>(n: N) => N

const constraintStep = (c: ConstraintDef): TableStep => <N extends CreateTableNode | AlterTableNode>(n: N): N =>
  (n.kind === 'createTable' ? withConstraint(n, c) : withAction(n, { kind: 'addConstraint', constraint: c })) as N

const named = <T extends object>(t: T, name: string | undefined): T => (name === undefined ? t : { ...t, name })

/**
 * A primary key (composite when several columns); in an ALTER TABLE, ADD CONSTRAINT.
 * @example pipe(createTable('playlist_track'), column('playlist_id', 'integer'), column('track_id', 'integer'), primaryKey(['playlist_id', 'track_id']))
 */
export const primaryKey = (columns: readonly string[], options?: { readonly name?: string }): TableStep =>
  constraintStep({ kind: 'primaryKey', key: named({ columns }, options?.name) })

/**
 * A unique constraint over one or more columns.
 * @example unique(['tenant_id', 'email'], { name: 'users_tenant_email_key' })
 */
export const unique = (columns: readonly string[], options?: { readonly name?: string }): TableStep =>
  constraintStep({ kind: 'unique', key: named({ columns }, options?.name) })

/**
 * A foreign key over one or more columns.
 * @example foreignKey(['artist_id'], 'artist', ['artist_id'], { onDelete: 'cascade' })
 */
export const foreignKey = (
  columns: readonly string[],
  table: string,
  references: readonly string[],
  options?: { readonly name?: string; readonly onDelete?: ReferentialAction; readonly onUpdate?: ReferentialAction },
): TableStep => {
  const fk: { -readonly [K in keyof ForeignKeyDef]: ForeignKeyDef[K] } = { columns, references: { table, columns: references } }
  if (options?.name !== undefined) fk.name = options.name
  if (options?.onDelete !== undefined) fk.onDelete = options.onDelete
  if (options?.onUpdate !== undefined) fk.onUpdate = options.onUpdate
  return constraintStep({ kind: 'foreignKey', foreignKey: fk })
}

/**
 * A CHECK constraint (SQL text; never user input).
 * @example check('quantity > 0', { name: 'positive_quantity' })
 */
export const check = (expression: string, options?: { readonly name?: string }): TableStep =>
  constraintStep({ kind: 'check', check: named({ expression }, options?.name) })

/** The longest name every engine keeps as it is: PostgreSQL cuts at 63 bytes, MySQL refuses 65 characters. */
const MAX_NAME_BYTES = 63

const utf8 = new TextEncoder()

/** FNV-1a over the name's UTF-8 bytes, as 8 hex digits: the same name gives the same hash everywhere. */
const nameHash = (text: string): string => {
  let h = 0x811c9dc5
  for (const b of utf8.encode(text)) h = Math.imul(h ^ b, 0x01000193) >>> 0
  return h.toString(16).padStart(8, '0')
}

/**
 * The default name of an index: `table_col1_col2_idx` (`_key` when unique). One longer than 63
 * bytes is cut to fit with a hash of the whole name before its ending
 * (`table_col1_co_1a2b3c4d_idx`): PostgreSQL would cut it silently (the name read back then
 * differs from the one given) and MySQL and MariaDB refuse it.
 */
const indexName = (table: string, columns: readonly string[], isUnique: boolean): string => {
  const suffix = isUnique ? 'key' : 'idx'
  const full = `${table.replace(/\./g, '_')}_${columns.join('_')}_${suffix}`
  if (utf8.encode(full).length <= MAX_NAME_BYTES) return full
  const room = MAX_NAME_BYTES - `__${'0'.repeat(8)}_${suffix}`.length + 1
  let head = ''
  for (const ch of full) {
    if (utf8.encode(head + ch).length > room) break
    head += ch
  }
  return `${head.replace(/_+$/, '')}_${nameHash(full)}_${suffix}`
}

/** Options of an index. */
export interface IndexOptions {
  /** Default: `table_columns_idx` (`_key` when unique), cut to 63 bytes with a hash when longer. */
  readonly name?: string
  readonly unique?: boolean
  /** A partial index's condition, as SQL text (not on MySQL or MariaDB). */
  readonly where?: string
}

const makeIndex = (table: string, columns: readonly string[], o: IndexOptions = {}): IndexDef => {
  const i: { -readonly [K in keyof IndexDef]: IndexDef[K] } = { name: o.name ?? indexName(table, columns, o.unique === true), columns, unique: o.unique === true }
  if (o.where !== undefined) i.where = o.where
  return Object.freeze(i)
}

/**
 * An index created with the table (CREATE INDEX after CREATE TABLE).
 * @example pipe(createTable('t'), column('a', 'integer'), index(['a'], { where: 'a > 0' }))
 */
export const index = (columns: readonly string[], options?: IndexOptions) => (n: CreateTableNode): CreateTableNode =>
  patchTable(n, { indexes: [...n.table.indexes, makeIndex(n.table.name, columns, options)] })

// ---------------------------------------------------------------- builders: other statements

/**
 * `DROP TABLE`; `cascade` drops what depends on it where the engine can (PostgreSQL).
 * @example dropTable('users', { ifExists: true })
 */
export const dropTable = (name: string, options?: { readonly ifExists?: boolean; readonly cascade?: boolean }): DropTableNode =>
  Object.freeze({ kind: 'dropTable' as const, name, ifExists: options?.ifExists ?? false, cascade: options?.cascade ?? false })

/**
 * `CREATE [UNIQUE] INDEX` on an existing table.
 * @example createIndex('users', ['last_name', 'first_name'], { name: 'users_name_idx' })
 */
export const createIndex = (table: string, columns: readonly string[], options?: IndexOptions & { readonly ifNotExists?: boolean }): CreateIndexNode =>
  Object.freeze({ kind: 'createIndex' as const, table, index: makeIndex(table, columns, options), ifNotExists: options?.ifNotExists ?? false })

/**
 * `DROP INDEX`; MySQL and MariaDB need the table (`DROP INDEX name ON table`).
 * @example dropIndex('users_name_idx', { table: 'users', ifExists: true })
 */
export const dropIndex = (name: string, options?: { readonly table?: string; readonly ifExists?: boolean }): DropIndexNode =>
  Object.freeze({ kind: 'dropIndex' as const, name, table: options?.table, ifExists: options?.ifExists ?? false })

/**
 * `CREATE VIEW name AS query`, from a query, a `sql` fragment or SQL text.
 * @example createView('big_invoices', pipe(from('invoice'), where(gt('total', 10))))
 */
export const createView = (name: string, query: string | Fragment | SelectNode, options?: { readonly orReplace?: boolean }): CreateViewNode =>
  Object.freeze({ kind: 'createView' as const, name, query, orReplace: options?.orReplace ?? false })

/**
 * `DROP VIEW`
 * @example dropView('big_invoices', { ifExists: true })
 */
export const dropView = (name: string, options?: { readonly ifExists?: boolean }): DropViewNode =>
  Object.freeze({ kind: 'dropView' as const, name, ifExists: options?.ifExists ?? false })

// ---------------------------------------------------------------- builders: ALTER TABLE

/** An ALTER TABLE statement (an `AlterTableNode`). */
export type AlterTable = AlterTableNode

/**
 * Start an ALTER TABLE; add its changes with the steps below.
 * @example pipe(alterTable('users'), addColumn('age', 'integer'), renameColumn('name', 'full_name'))
 */
export const alterTable = (table: string): AlterTable => Object.freeze({ kind: 'alterTable' as const, table, actions: [] })

const withAction = (n: AlterTableNode, a: AlterAction): AlterTableNode => Object.freeze({ ...n, actions: [...n.actions, Object.freeze(a)] })

/**
 * `ADD COLUMN`; constraint options (`unique`, `references`, `check`, `primaryKey`) become
 * ADD CONSTRAINT changes after it.
 * @example addColumn('status', 'varchar(20)', { notNull: true, default: 'new' })
 */
export const addColumn = (name: string, type: ColumnType, options: ColumnOptions = {}) => (n: AlterTableNode): AlterTableNode => {
  let out = withAction(n, { kind: 'addColumn', column: makeColumn(name, type, options) })
  for (const c of columnConstraints(name, options)) out = withAction(out, { kind: 'addConstraint', constraint: c })
  return out
}

/** `DROP COLUMN` @example dropColumn('legacy_code') */
export const dropColumn = (name: string) => (n: AlterTableNode): AlterTableNode => withAction(n, { kind: 'dropColumn', column: name })

/** `RENAME COLUMN` @example renameColumn('name', 'full_name') */
export const renameColumn = (from: string, to: string) => (n: AlterTableNode): AlterTableNode => withAction(n, { kind: 'renameColumn', from, to })

/**
 * Redefine a column: it gets this type, nullability and default (no `default` means none).
 * PostgreSQL alters each part; MySQL and MariaDB `MODIFY COLUMN`; SQLite rebuilds the table.
 * @example alterColumn('price', 'decimal(12,2)', { notNull: true, default: 0 })
 */
export const alterColumn = (name: string, type: ColumnType, options: Pick<ColumnOptions, 'notNull' | 'default' | 'autoIncrement'> = {}) => (n: AlterTableNode): AlterTableNode =>
  withAction(n, { kind: 'alterColumn', column: makeColumn(name, type, options) })

/**
 * `ALTER COLUMN ... SET DEFAULT` (SQLite rebuilds the table).
 * @example setDefault('status', 'new')
 */
export const setDefault = (name: string, value: DefaultInput) => (n: AlterTableNode): AlterTableNode =>
  withAction(n, { kind: 'setDefault', column: name, default: toDefault(value) })

/** `ALTER COLUMN ... DROP DEFAULT` @example dropDefault('status') */
export const dropDefault = (name: string) => (n: AlterTableNode): AlterTableNode => withAction(n, { kind: 'setDefault', column: name, default: null })

/**
 * `DROP CONSTRAINT`; say which kind it is for MySQL and MariaDB (`DROP FOREIGN KEY`,
 * `DROP INDEX`, `DROP PRIMARY KEY`).
 * @example dropConstraint('posts_user_fk', 'foreignKey')
 */
export const dropConstraint = (name: string, kind?: ConstraintDef['kind']) => (n: AlterTableNode): AlterTableNode =>
  withAction(n, kind === undefined ? { kind: 'dropConstraint', name } : { kind: 'dropConstraint', name, constraint: kind })

/** `RENAME TO` @example renameTable('people') */
export const renameTable = (to: string) => (n: AlterTableNode): AlterTableNode => withAction(n, { kind: 'renameTable', to })

// ---------------------------------------------------------------- applying changes to data

const missing = (table: string, what: string): never => { throw new TypeError(`table ${table} has no ${what}`) }

/**
 * A table definition with an ALTER TABLE's changes applied (what the table becomes). Used by
 * SQLite's table rebuild; handy for checking a migration without a database.
 *
 * @example applyAlter(usersDef, pipe(alterTable('users'), dropColumn('age')))
 */
export const applyAlter = (table: TableDef, alter: AlterTableNode): TableDef => {
  let t: TableDef = table
  for (const a of alter.actions) {
    switch (a.kind) {
      case 'addColumn':
        t = { ...t, columns: [...t.columns, a.column] }
        break
      case 'dropColumn': {
        if (!t.columns.some((c) => c.name === a.column)) missing(t.name, `column ${a.column}`)
        const uses = (cols: readonly string[]) => cols.includes(a.column)
        t = {
          ...t,
          columns: t.columns.filter((c) => c.name !== a.column),
          primaryKey: t.primaryKey !== undefined && uses(t.primaryKey.columns) ? undefined : t.primaryKey,
          uniques: t.uniques.filter((u) => !uses(u.columns)),
          foreignKeys: t.foreignKeys.filter((f) => !uses(f.columns)),
          // A partial index whose condition reads the column goes too (as on PostgreSQL).
          indexes: t.indexes.filter((i) => !uses(i.columns) && (i.where === undefined || !readsColumn(i.where, a.column))),
          // As PostgreSQL and MariaDB do: a CHECK that reads the column goes with it (SQLite's
          // rebuild would otherwise make a table whose CHECK names a column it does not have).
          checks: t.checks.filter((c) => !readsColumn(c.expression, a.column)),
        }
        if (t.primaryKey === undefined) t = omitKey(t)
        break
      }
      case 'renameColumn': {
        if (!t.columns.some((c) => c.name === a.from)) missing(t.name, `column ${a.from}`)
        const rn = (cols: readonly string[]) => cols.map((c) => (c === a.from ? a.to : c))
        t = {
          ...t,
          columns: t.columns.map((c) => (c.name === a.from ? { ...c, name: a.to } : c)),
          primaryKey: t.primaryKey === undefined ? undefined : { ...t.primaryKey, columns: rn(t.primaryKey.columns) },
          uniques: t.uniques.map((u) => ({ ...u, columns: rn(u.columns) })),
          foreignKeys: t.foreignKeys.map((f) => ({
            ...f,
            columns: rn(f.columns),
            references: f.references.table === t.name ? { ...f.references, columns: rn(f.references.columns) } : f.references,
          })),
          indexes: t.indexes.map((i) => ({ ...i, columns: rn(i.columns) })),
          // A oneOf check names its column as data: it follows (SQL text cannot be rewritten safely).
          checks: t.checks.map((c) => (c.oneOf?.column !== a.from ? c : { ...oneOfCheck(a.to, c.oneOf.values), ...(c.name === undefined ? {} : { name: c.name }) })),
        }
        if (t.primaryKey === undefined) t = omitKey(t)
        break
      }
      case 'alterColumn':
        if (!t.columns.some((c) => c.name === a.column.name)) missing(t.name, `column ${a.column.name}`)
        t = { ...t, columns: t.columns.map((c) => (c.name === a.column.name ? a.column : c)) }
        break
      case 'setDefault':
        if (!t.columns.some((c) => c.name === a.column)) missing(t.name, `column ${a.column}`)
        t = {
          ...t,
          columns: t.columns.map((c) => {
            if (c.name !== a.column) return c
            if (a.default !== null) return { ...c, default: a.default }
            const { default: _, ...rest } = c
            return rest
          }),
        }
        break
      case 'addConstraint': {
        const c = a.constraint
        if (c.kind === 'primaryKey') t = { ...t, primaryKey: c.key, columns: t.columns.map((col) => (c.key.columns.includes(col.name) ? { ...col, notNull: true } : col)) }
        else if (c.kind === 'unique') t = { ...t, uniques: [...t.uniques, c.key] }
        else if (c.kind === 'foreignKey') t = { ...t, foreignKeys: [...t.foreignKeys, c.foreignKey] }
        else t = { ...t, checks: [...t.checks, c.check] }
        break
      }
      case 'dropConstraint': {
        const before = t
        if (t.primaryKey?.name === a.name || (a.constraint === 'primaryKey' && t.primaryKey !== undefined)) t = omitKey(t)
        t = {
          ...t,
          uniques: t.uniques.filter((u) => u.name !== a.name),
          foreignKeys: t.foreignKeys.filter((f) => f.name !== a.name),
          checks: t.checks.filter((c) => c.name !== a.name),
          indexes: a.constraint === 'unique' ? t.indexes.filter((i) => !(i.unique && i.name === a.name)) : t.indexes,
        }
        if (JSON.stringify(before) === JSON.stringify(t)) missing(t.name, `constraint named ${a.name}`)
        break
      }
      case 'renameTable':
        t = {
          ...t,
          name: a.to,
          foreignKeys: t.foreignKeys.map((f) => (f.references.table === t.name ? { ...f, references: { ...f.references, table: a.to } } : f)),
        }
        break
    }
  }
  return t
}

/**
 * Whether SQL text (a CHECK expression) names a column: the name as a whole word, bare or
 * quoted ("c", `c`, [c]), outside string literals. A name also used as a table qualifier or
 * a function name counts too: dropping the check is what the engines that drop it do.
 */
const readsColumn = (expression: string, column: string): boolean => {
  const code = expression.replace(/'(?:[^']|'')*'/g, "''")
  const name = column.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  const quoted = column.replace(/"/g, '""').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  return new RegExp(`"${quoted}"|\`${name}\`|\\[${name}\\]|(?<![\\w$"\`])${name}(?![\\w$"\`])`, 'i').test(code)
}

const omitKey = (t: TableDef): TableDef => {
  const { primaryKey: _, ...rest } = t
  return rest
}
