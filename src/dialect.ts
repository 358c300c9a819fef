/**
 * The Dialect record: pure functions from query data to SQL. No I/O.
 *
 * Every SQL-generation step is its own field, and fields call each other through the final
 * record (`self`), so `extend(dialect, ...)` can replace one step and every statement that
 * uses it follows. A feature the engine lacks is a field made by `unsupported(...)`: calling
 * it fails with UnsupportedFeature, and `supports(dialect, feature)` reports it.
 */
import type { Either } from 'fp-ts/lib/Either.js'
import type {
  BinaryOp, DeleteNode, Expr, ExtensionNode, FromItem, FuncNode, InsertNode, JoinNode, OrderItem, ParamNode, QueryNode,
  SelectNode, Selection, UpdateNode,
} from './ast.js'
import type { DbError } from './errors.js'
import { unsupportedError } from './errors.js'
import type { DdlNode } from './schema/ddl.js'
import type { DdlDialect } from './schema/ddl-dialect.js'
import type { Compiled, Fragment } from './sql.js'

/** Options of `db.transaction`. Each dialect renders what its engine has. */
export interface TransactionOptions {
  readonly isolation?: 'read uncommitted' | 'read committed' | 'repeatable read' | 'serializable'
  readonly readOnly?: boolean
  /** PostgreSQL: `DEFERRABLE` (with serializable + read only). */
  readonly deferrable?: boolean
  /** SQLite: `BEGIN DEFERRED | IMMEDIATE | EXCLUSIVE`. */
  readonly behavior?: 'deferred' | 'immediate' | 'exclusive'
}

/** A statement's text as accepted by `compile`: query data, schema data (DDL) or a `sql` fragment. */
export type Compilable = QueryNode | DdlNode | Fragment

/** The Dialect record (its DDL fields are described in `schema/ddl-dialect.ts`). */
export interface Dialect extends DdlDialect {
  /** Engine name, used in error messages: `sqlite`, `postgres`, `mysql`, `mariadb`. */
  readonly name: string
  /** Server or library version this record was specialised for (`forVersion`). */
  readonly version: string
  /** Largest number of bound parameters in one statement. */
  readonly maxParams: number

  // ---- lexical
  /** Quote one identifier part, escaping the quote character. */
  readonly quoteIdentifier: (name: string) => string
  /** The placeholder for the n-th parameter (1-based): `?` or `$n`. */
  readonly placeholder: (index: number) => string
  /** Type adapter, JS value to driver value (Date, boolean, bigint, JSON, bytes). */
  readonly toDriver: (value: unknown) => unknown

  // ---- expressions
  readonly expr: (e: Expr) => Fragment
  readonly binary: (op: BinaryOp, left: Expr, right: Expr) => Fragment
  readonly func: (f: FuncNode) => Fragment
  readonly column: (table: string | undefined, name: string) => string
  readonly param: (p: ParamNode) => Fragment
  /** An expression kind added by an extension (default: UnsupportedFeature naming it). */
  readonly extension: (e: ExtensionNode) => Fragment
  /** The proposed row in an upsert's SET list. */
  readonly excluded: (column: string) => Fragment

  // ---- clauses
  /** `SELECT ` or `SELECT DISTINCT ` (where optimizer hints go). */
  readonly selectClause: (q: SelectNode) => Fragment
  readonly selection: (s: Selection) => Fragment
  readonly fromItem: (t: FromItem) => Fragment
  readonly join: (j: JoinNode) => Fragment
  readonly orderItem: (o: OrderItem) => Fragment
  /** ` LIMIT ... OFFSET ...` (leading space), or empty when both are absent. */
  readonly limitOffset: (limit?: number | ParamNode, offset?: number | ParamNode) => Fragment
  /** ` RETURNING ...` (leading space). */
  readonly returning: (items: readonly Selection[]) => Fragment
  readonly insertReturning: (items: readonly Selection[]) => Fragment
  readonly updateReturning: (items: readonly Selection[]) => Fragment
  readonly deleteReturning: (items: readonly Selection[]) => Fragment
  /** ` (cols) VALUES (...), (...)` (leading space). */
  readonly insertValues: (node: InsertNode) => Fragment
  /** The conflict clause of an upsert (leading space). */
  readonly upsert: (node: InsertNode) => Fragment

  // ---- statements
  readonly compileSelect: (node: SelectNode) => Fragment
  readonly compileInsert: (node: InsertNode) => Fragment
  readonly compileUpdate: (node: UpdateNode) => Fragment
  readonly compileDelete: (node: DeleteNode) => Fragment
  /** Any statement to a fragment (dispatch on `kind`). */
  readonly statement: (q: Compilable) => Fragment
  /** Any statement to SQL text and parameters. */
  readonly compile: (q: Compilable) => Either<DbError, Compiled>

  // ---- transactions
  readonly beginTransaction: (options: TransactionOptions) => readonly string[]
  readonly commit: () => string
  readonly rollback: () => string
  readonly savepoint: (name: string) => string
  readonly releaseSavepoint: (name: string) => string
  readonly rollbackToSavepoint: (name: string) => string

  /** This dialect specialised for a server version (capabilities may change). */
  readonly forVersion: (version: string) => Dialect
}

const UNSUPPORTED = Symbol.for('recordkit.unsupported')

/**
 * A dialect field for a feature the engine lacks: calling it fails with UnsupportedFeature
 * naming the dialect and the feature.
 *
 * @example
 * extend(sqlite, () => ({ returning: unsupported('sqlite 3.31', 'RETURNING') }))
 */
export const unsupported = (dialect: string, feature: string, detail?: string): ((...args: any[]) => never) =>
  Object.assign(
    () => { throw unsupportedError(dialect, feature, detail) },
    { [UNSUPPORTED]: feature },
  )

/**
 * Whether a dialect renders a feature: the field exists and was not made by `unsupported`.
 *
 * @example
 * supports(sqlite, 'returning') // true on SQLite 3.35+
 */
export const supports = <D extends object>(dialect: D, field: keyof D & string): boolean => {
  const f = (dialect as Record<string, unknown>)[field]
  return f !== undefined && (typeof f !== 'function' || (f as unknown as Record<symbol, unknown>)[UNSUPPORTED] === undefined)
}

/**
 * Compare dotted version strings.
 * @example versionAtLeast('3.45.1', '3.35') // true
 */
export const versionAtLeast = (version: string, min: string): boolean => {
  const a = version.split(/[.-]/).map((x) => parseInt(x, 10) || 0)
  const b = min.split('.').map((x) => parseInt(x, 10) || 0)
  for (let i = 0; i < b.length; i++) {
    if ((a[i] ?? 0) !== b[i]) return (a[i] ?? 0) > b[i]
  }
  return true
}
