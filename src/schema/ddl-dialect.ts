/**
 * The DDL part of the Dialect record: every step of rendering schema statements, reading a
 * schema back (introspection) and guarding schema changes is its own field, reached through
 * `self` like every other dialect field, so `extend` can replace one step.
 *
 * The record is pure. Reading the catalog (introspection, planning an ALTER that depends on the
 * table as it is) is described as a `CatalogRead`: a generator that yields the statements it
 * needs and is given their rows. `runCatalog` (schema/catalog.ts) runs one on a backend.
 */
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import type { Row } from '../driver.js'
import type { DbError } from '../errors.js'
import type { Fragment } from '../sql.js'
import type {
  AlterAction, AlterTableNode, CheckDef, ColumnDef, ColumnDefault, ColumnType, ConstraintDef, CreateIndexNode, CreateTableNode,
  CreateViewNode, DdlNode, DropIndexNode, DropTableNode, DropViewNode, ForeignKeyDef, IndexDef, KeyDef, ReferentialAction,
  SchemaDef, TableDef, ViewDef,
} from './ddl.js'

/** Runs one query and returns its rows: what a catalog read is run with. */
export type RunQuery = (query: Fragment) => TaskEither<DbError, readonly Row[]>

/**
 * Reading the catalog as data: a generator that yields each statement it needs and receives that
 * statement's rows, returning `A`. It does nothing until run (`runCatalog`), and runs once.
 */
export type CatalogRead<A> = Generator<Fragment, A, readonly Row[]>

/** Which tables and views `introspect` reads. */
export interface IntrospectOptions {
  /** Keep a table or view by name. Default: everything but `recordkit_migrations*` tables. */
  readonly include?: (name: string) => boolean
}

/**
 * A table as `hasTable`, `hasColumn` and `hasIndex` take it: its name, exact, and the schema
 * (PostgreSQL), database (MySQL, MariaDB) or attached database (SQLite: `main`, `temp`, ...) it
 * is in when one is named. Without a schema, the table a statement naming it would use.
 */
export interface TableName {
  readonly schema?: string
  readonly name: string
}

/** Which index `hasIndex` asks about: the one with this name, or one whose key columns are these, in this order. */
export type IndexQuery = string | readonly string[]

/** A column as the engine's catalog describes it, before it becomes a portable `ColumnDef`. */
export interface NativeColumn {
  readonly name: string
  /** The engine's type name, lower case: `integer`, `character varying`, `varchar(255)`, `tinyint(1)`. */
  readonly type: string
  readonly length?: number
  readonly precision?: number
  readonly scale?: number
  /** Fractional-second digits of a time type. */
  readonly datetimePrecision?: number
  readonly notNull: boolean
  /** The default as engine SQL text, or null. */
  readonly default: string | null
  readonly autoIncrement: boolean
}

/** The primary key and unique constraints of one table. */
export interface TableKeys {
  readonly primaryKey?: KeyDef
  readonly uniques: readonly KeyDef[]
}

/**
 * How a schema change runs: statements around the transaction (`before`/`after`, run only when
 * no transaction is open), the statements inside it, and a query that must return no rows
 * before the commit.
 */
export interface AlterPlan {
  readonly before: readonly Fragment[]
  readonly statements: readonly Fragment[]
  readonly check?: Fragment
  readonly after: readonly Fragment[]
}

/** How migrations keep two processes from migrating at once (see `migrationLock`). */
export type MigrationLock =
  /**
   * Held by the migration's own transaction: begun with these options, then `acquire` runs in it.
   * `busyTimeout` (SQLite): the lock is the BEGIN itself, and the engine's own wait for it (its
   * busy timeout) blocks the process, so the migrator tries the BEGIN with that wait set to 0 and
   * waits between tries itself; `read` returns one row whose first value is the connection's
   * wait in ms, `set(ms)` sets it.
   */
  | {
    readonly scope: 'transaction'
    readonly begin: { readonly behavior?: 'immediate' | 'exclusive' }
    readonly acquire: readonly Fragment[]
    readonly busyTimeout?: { readonly read: Fragment; readonly set: (ms: number) => Fragment }
  }
  /** Held by a connection of its own for the whole run: `acquire` must return a row whose first value is 1. */
  | { readonly scope: 'session'; readonly acquire: Fragment; readonly release: Fragment }

/** SQLite: how to suspend foreign-key enforcement around a table rebuild. */
export interface ForeignKeySuspension {
  /** Returns one row whose first value is 1 when enforcement is on. */
  readonly read: Fragment
  readonly off: Fragment
  readonly on: Fragment
  /** Returns the rows that break a foreign key. */
  readonly check: Fragment
  /**
   * Returns one row per foreign key whose parent table does not exist (`table`, `column`,
   * `parent`, `parent_column`): an engine that takes such a key (SQLite) refuses every row
   * written to the table later, so a migration that leaves a new one is refused.
   */
  readonly dangling?: Fragment
}

/** The DDL fields of a Dialect. */
export interface DdlDialect {
  // ---- capabilities
  /** Whether DDL runs inside a transaction and rolls back with it (SQLite, PostgreSQL: yes; MySQL: no). */
  readonly transactionalDdl: boolean

  // ---- lexical
  /** A value as an SQL literal (DDL takes no parameters): `'it''s'`, `42`, `TRUE`, `NULL`. */
  readonly literal: (value: unknown) => string
  /** A fragment with every bound value written as a literal, for DDL. */
  readonly inlineSql: (f: Fragment) => Fragment
  /** A possibly qualified name (`schema.table`), quoted. */
  readonly qualifiedName: (name: string) => string

  // ---- statements
  /** Any DDL node to one statement; fails when the node takes several (see `ddlStatements`). */
  readonly ddl: (node: DdlNode) => Fragment
  /** Every statement a DDL node takes, in order (CREATE TABLE then its CREATE INDEXes, ...). */
  readonly ddlStatements: (node: DdlNode) => readonly Fragment[]
  readonly createTable: (node: CreateTableNode) => Fragment
  readonly dropTable: (node: DropTableNode) => Fragment
  readonly createIndex: (node: CreateIndexNode) => Fragment
  readonly dropIndex: (node: DropIndexNode) => Fragment
  readonly createView: (node: CreateViewNode) => Fragment
  readonly dropView: (node: DropViewNode) => Fragment
  /** The statements of an ALTER TABLE (engines that cannot combine changes give one per change). */
  readonly alterTable: (node: AlterTableNode) => readonly Fragment[]

  // ---- table parts
  /** One column in CREATE TABLE or ADD COLUMN: name, type, NOT NULL, DEFAULT, generation, inline keys. */
  readonly columnDefinition: (column: ColumnDef, table?: TableDef) => Fragment
  /** A portable type in the engine's spelling (`decimal(10,2)` to `NUMERIC(10,2)`). */
  readonly columnType: (type: ColumnType, column?: ColumnDef) => string
  /** ` DEFAULT ...` (leading space). */
  readonly columnDefault: (value: ColumnDefault, column: ColumnDef) => Fragment
  /** ` NOT NULL` (leading space), or what a nullable column needs said (` NULL` for a MySQL TIMESTAMP). */
  readonly columnNullability: (column: ColumnDef) => string
  /** ` PRIMARY KEY` written on the column of a one-column, unnamed primary key (leading space). */
  readonly inlinePrimaryKey: (column: ColumnDef) => string
  /** The column's generation clause (leading space): ` GENERATED BY DEFAULT AS IDENTITY`, ` AUTO_INCREMENT`. */
  readonly autoIncrement: (column: ColumnDef) => Fragment
  /** The constraints written inside CREATE TABLE after the columns. */
  readonly tableConstraints: (table: TableDef) => readonly Fragment[]
  /** `CONSTRAINT name ` (trailing space) or empty. */
  readonly constraintName: (name: string | undefined) => string
  readonly primaryKey: (key: KeyDef) => Fragment
  readonly unique: (key: KeyDef) => Fragment
  readonly foreignKey: (fk: ForeignKeyDef) => Fragment
  readonly referentialAction: (action: ReferentialAction) => string
  readonly check: (check: CheckDef) => Fragment
  /** Any constraint (dispatch on kind). */
  readonly constraint: (c: ConstraintDef) => Fragment

  // ---- ALTER TABLE changes (each a clause, without `ALTER TABLE name `)
  readonly alterAction: (table: string, action: AlterAction) => Fragment
  readonly addColumn: (table: string, column: ColumnDef) => Fragment
  readonly dropColumn: (table: string, column: string) => Fragment
  readonly renameColumn: (table: string, from: string, to: string) => Fragment
  /** Redefine a column (type, nullability, default). */
  readonly alterColumn: (table: string, column: ColumnDef) => Fragment
  /** `ALTER COLUMN c TYPE t` (part of `alterColumn` where the engine alters parts). */
  readonly alterColumnType: (table: string, column: ColumnDef) => Fragment
  /** `ALTER COLUMN c SET NOT NULL` / `DROP NOT NULL`. */
  readonly alterColumnNull: (table: string, column: string, notNull: boolean) => Fragment
  /** `ALTER COLUMN c SET DEFAULT v` / `DROP DEFAULT`. */
  readonly alterColumnDefault: (table: string, column: string, value: ColumnDefault | null, def?: ColumnDef) => Fragment
  readonly addConstraint: (table: string, c: ConstraintDef) => Fragment
  readonly dropConstraint: (table: string, name: string, kind?: ConstraintDef['kind']) => Fragment
  readonly renameTable: (table: string, to: string) => Fragment

  // ---- changes that take I/O: planned here, run by `alter`
  /**
   * An ALTER TABLE cut into the parts `alter` plans and runs one after the other, each planned
   * once the previous ones ran (SQLite: each change its own ALTER TABLE can make, and each run
   * of changes that takes a table rebuild).
   */
  readonly alterSegments: (node: AlterTableNode) => readonly AlterTableNode[]
  /** How to run an ALTER TABLE (SQLite plans a table rebuild where its ALTER cannot). */
  readonly planAlter: (node: AlterTableNode) => CatalogRead<AlterPlan>
  /**
   * The statements that rebuild a table into a new definition (SQLite's documented procedure:
   * create the new table, copy, drop, rename, recreate indexes, triggers and views).
   * `sources` gives, for each column of `to`, the column of `from` it is copied from.
   */
  readonly rebuildTable: (from: TableDef, to: TableDef, sources: ReadonlyMap<string, string>, dependents: { readonly triggers: readonly string[]; readonly views: readonly ViewDef[] }) => readonly Fragment[]
  /** SQLite: suspending foreign-key enforcement around a rebuild. */
  readonly foreignKeySuspension: () => ForeignKeySuspension
  /** Sets a generated column's counter after rows were copied in with explicit values. */
  readonly resetAutoIncrement: (table: string, column: string) => readonly Fragment[]

  // ---- migrations
  /** The lock that keeps two migration runs apart, for a key (the history table's name). */
  readonly migrationLock: (key: string, timeoutSeconds: number) => MigrationLock

  // ---- introspection
  /** The SQL that names the current schema or database in catalog queries. */
  readonly currentSchema: string
  /** The whole schema: tables in dependency order, then views. */
  readonly introspectSchema: (options?: IntrospectOptions) => CatalogRead<SchemaDef>
  /** Names of the base tables of the current schema or database. */
  readonly introspectTableNames: () => CatalogRead<readonly string[]>
  readonly introspectTable: (table: string) => CatalogRead<TableDef>
  readonly introspectColumns: (table: string) => CatalogRead<readonly NativeColumn[]>
  readonly introspectKeys: (table: string) => CatalogRead<TableKeys>
  readonly introspectChecks: (table: string) => CatalogRead<readonly CheckDef[]>
  readonly introspectForeignKeys: (table: string) => CatalogRead<readonly ForeignKeyDef[]>
  /** Indexes that do not back a primary key or unique constraint. */
  readonly introspectIndexes: (table: string) => CatalogRead<readonly IndexDef[]>
  readonly introspectViews: () => CatalogRead<readonly ViewDef[]>

  // ---- cheap questions: one catalog statement each (see schema/has.ts)
  /** Whether the table exists (a base table, temporary and partitioned ones too; not a view). */
  readonly hasTable: (table: TableName) => CatalogRead<boolean>
  /** Whether the table or view has the column. */
  readonly hasColumn: (table: TableName, column: string) => CatalogRead<boolean>
  /** Whether the table has the index, by name or by its key columns in order (indexes behind a primary key or unique constraint too). */
  readonly hasIndex: (table: TableName, index: IndexQuery) => CatalogRead<boolean>

  // ---- introspection helpers
  /** A catalog column to a portable column definition. */
  readonly portableColumn: (c: NativeColumn) => ColumnDef
  /** A catalog type to a portable type (or `native(...)`). */
  readonly portableType: (c: NativeColumn) => ColumnType
  /** A catalog default (engine SQL text) to a default, given the column's portable type. */
  readonly parseDefault: (text: string | null, type: ColumnType) => ColumnDefault | undefined
  /** Whether a constraint name is the one the engine would have generated (then it is left out). */
  readonly generatedName: (kind: ConstraintDef['kind'], table: string, columns: readonly string[], name: string) => boolean
  /** A CHECK expression as the catalog gives it, made comparable: outer parentheses and needless quotes removed. */
  readonly normalizeCheck: (expression: string) => string
}
