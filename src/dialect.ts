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
  BinaryOp, CaseNode, CompoundNode, CteNode, DateUnit, DatePart, DeleteNode, DerivedTable, ExplainNode, Expr, ExtensionNode, FrameSpec,
  FromItem, FuncNode, InsertNode, JoinNode, JsonPath, LockClause, MergeNode, NamedWindow, OnConflict, OrderItem, ParamNode, QueryNode,
  SelectLike, SelectNode, Selection, UpdateNode, ValuesTable, WindowNode, WindowSpec, WithClause,
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
  /**
   * Which row's generated key the engine reports as `insertId` for an INSERT of several rows:
   * `'last'` (SQLite's last_insert_rowid(), and the default) or `'first'` (MySQL and MariaDB,
   * whose LAST_INSERT_ID() is the first row's). An INSERT `execute` runs as several statements
   * (`insertStatements`) reports the one key a single statement would: the first part's or the
   * last part's that has one.
   */
  readonly insertIdOfMany?: 'first' | 'last'
  /**
   * Whether models read their `date` fields as the server's text (`CAST(col AS text)`), which the
   * `date` codec reads exactly, rather than as the driver's date values. Set on MySQL and
   * MariaDB, where mysql2 builds each DATETIME's text piece by piece, several times slower than
   * reading the server's; a dialect made with `extend` inherits it and may set it either way.
   * `'latin1'` (MySQL and MariaDB) casts to `CHAR CHARACTER SET latin1`: a date's text is digits
   * and punctuation, which the server writes in latin1, so it is sent as written, where a plain
   * `CHAR` is converted to the connection's utf8mb4 one character at a time (measured on MariaDB
   * 10.11: 0.1-0.2 µs of server time per value, about 7% of a 3,000-row read's).
   */
  readonly datesAsText?: boolean | 'latin1'

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
  /** `CASE ... END`, searched or simple. */
  readonly caseWhen: (c: CaseNode) => Fragment
  /** A THEN or ELSE result of CASE: numbers and booleans as literals (so the engine knows their type), anything else as `expr`. */
  readonly caseResult: (e: Expr) => Fragment
  /** Query data interpolated into a `sql` fragment: a statement as `(subquery)`, an expression as `expr` renders it. */
  readonly embedded: (node: { readonly kind: string }) => Fragment
  /** A portable type name (`integer`, `decimal(10,2)`, `timestamp`, ...) as this engine spells it in CAST. */
  readonly castType: (type: string) => string
  /** `CAST(expr AS type)`, or the engine's own conversion where CAST would not do it (SQLite dates). */
  readonly cast: (expr: Expr, type: string) => Fragment
  /** `expr` plus `amount` units of calendar time. */
  readonly dateAdd: (expr: Expr, amount: Expr, unit: DateUnit) => Fragment
  /** `expr` truncated to the start of its unit. */
  readonly dateTrunc: (unit: DateUnit, expr: Expr) => Fragment
  /** One field of a date, as an integer. */
  readonly extract: (part: DatePart, expr: Expr) => Fragment
  /** A JSON path as text in the `$.key[0]` notation (keys always quoted). */
  readonly jsonPath: (path: JsonPath) => string
  /** The JSON value at a path. */
  readonly jsonExtract: (expr: Expr, path: JsonPath) => Fragment
  /** The value at a path as text (strings unquoted). */
  readonly jsonExtractText: (expr: Expr, path: JsonPath) => Fragment
  /** Whether a JSON document contains another. */
  readonly jsonContains: (expr: Expr, value: Expr) => Fragment
  /** `left IS [NOT] DISTINCT FROM right` (MySQL `<=>`, SQLite `IS [NOT]`). */
  readonly distinctFrom: (left: Expr, right: Expr, negated: boolean) => Fragment
  /** `expr COLLATE name` */
  readonly collate: (e: Expr, collation: string) => Fragment
  /** `FUNC(args) WITHIN GROUP (ORDER BY ...)`: an ordered-set aggregate. */
  readonly withinGroup: (f: FuncNode, items: readonly OrderItem[]) => Fragment
  /** ` [OFFSET n ROWS] FETCH FIRST n ROWS WITH TIES` (leading space). */
  readonly fetchWithTies: (limit: number | ParamNode, offset?: number | ParamNode) => Fragment
  /** A row value `(a, b)`. */
  readonly tuple: (items: readonly Expr[]) => Fragment
  /** `ANY (...)` / `ALL (...)` over a subquery. */
  readonly quantifiedSubquery: (quantifier: 'any' | 'all', q: SelectLike) => Fragment
  /** `ANY (array)` / `ALL (array)` over an array value (PostgreSQL). */
  readonly quantifiedArray: (quantifier: 'any' | 'all', array: Expr) => Fragment
  /**
   * `lhs IN (...)` / `lhs NOT IN (...)` for a list of more than `LONG_IN_LIST` bound values (as
   * given, before `toDriver`), in the engine's form of "any number of values": SQLite
   * `IN (SELECT value FROM json_each(?))`, PostgreSQL `= ANY ($1)` / `<> ALL ($1)`, MySQL and
   * MariaDB literals. Same rows and NULL semantics as the plain list; undefined (the result, or
   * the field: a custom dialect) keeps one parameter per value, as does a value the form cannot
   * carry exactly. `lhs` is the left operand, compiled.
   *
   * @example
   * postgres.longInList?.(sql`"id"`, ids, false) // "id" = ANY ($1), the ids as one array
   * extend(postgres, () => ({ longInList: undefined })) // one parameter per value, at any length
   */
  readonly longInList?: (lhs: Fragment, values: readonly unknown[], negated: boolean) => Fragment | undefined
  /** `STRING_AGG(x, sep [ORDER BY ...])`, or the engine's `GROUP_CONCAT`. */
  readonly stringAgg: (f: FuncNode) => Fragment
  /** The ` ORDER BY ...` inside an aggregate's parentheses (leading space). */
  readonly aggregateOrderBy: (f: FuncNode, items: readonly OrderItem[]) => Fragment
  /**
   * A JSON value named in a statement's result (`jsonGet`, `cast(x, 'json')`, `readAs(x, 'json')`),
   * written so the driver returns its JSON text, which is then parsed: a driver that parses JSON
   * itself gives a JSON string document as a bare string, which cannot be told from JSON text.
   * Absent where the engine returns JSON as text already (SQLite).
   */
  readonly jsonResult?: (e: Expr) => Fragment
  /** A JSON object from keys (written as literals) and values. */
  readonly jsonBuildObject: (entries: readonly (readonly [string, Expr])[]) => Fragment
  /** A subquery's rows as a JSON array of objects (`[]` without rows). */
  readonly jsonArrayFrom: (q: SelectLike) => Fragment
  /** A subquery's first row as a JSON object (NULL without one). */
  readonly jsonObjectFrom: (q: SelectLike) => Fragment
  /** An aggregate with `FILTER (WHERE ...)` (or the engine's emulation of it). */
  readonly aggregateFilter: (f: FuncNode) => Fragment
  /** `func OVER (...)` / `func OVER name`. */
  readonly windowFunction: (w: WindowNode) => Fragment
  /** The inside of `OVER (...)` and of `WINDOW name AS (...)`. */
  readonly windowSpec: (spec: WindowSpec) => Fragment
  /** A window frame: `ROWS BETWEEN ... AND ...`. */
  readonly frame: (f: FrameSpec) => Fragment
  /** The `GROUPS` frame unit. */
  readonly groupsFrame: () => Fragment
  /** A frame's ` EXCLUDE ...` (leading space). */
  readonly frameExclusion: (exclude: NonNullable<FrameSpec['exclude']>) => Fragment

  // ---- clauses
  /** `DISTINCT ON (a, b) ` (trailing space), after SELECT. */
  readonly distinctOn: (items: readonly Expr[]) => Fragment
  /** `INSERT OR IGNORE INTO ` / `INSERT IGNORE INTO `: the verb of an insert that skips failing rows. */
  readonly insertIgnore: () => Fragment
  /** `INSERT OR REPLACE INTO ` / `REPLACE INTO `: the verb of an insert that replaces conflicting rows. */
  readonly insertReplace: () => Fragment
  /** The conflict target of an upsert: ` (cols) [WHERE ...]` or ` ON CONSTRAINT name`. */
  readonly conflictTarget: (oc: OnConflict) => Fragment
  /** An UPDATE with other tables: `UPDATE t SET ... FROM a` (MySQL: `UPDATE t, a SET ...`). */
  readonly updateFrom: (node: UpdateNode) => Fragment
  /** A DELETE with other tables: `DELETE FROM t USING a` (MySQL: `DELETE t FROM t, a`). */
  readonly deleteUsing: (node: DeleteNode) => Fragment
  /** ` ORDER BY ... LIMIT n` (leading space) on an UPDATE or a DELETE. */
  readonly writeLimit: (orderBy: readonly OrderItem[], limit: number | ParamNode | undefined) => Fragment
  /** `SELECT ` or `SELECT DISTINCT ` (where optimizer hints go). */
  readonly selectClause: (q: SelectNode) => Fragment
  readonly selection: (s: Selection) => Fragment
  readonly fromItem: (t: FromItem) => Fragment
  /** `(query) AS alias` */
  readonly derivedTable: (d: DerivedTable) => Fragment
  /** `LATERAL (query) AS alias` */
  readonly lateral: (d: DerivedTable) => Fragment
  readonly join: (j: JoinNode) => Fragment
  /** A RIGHT JOIN clause (`join` hands these over). */
  readonly rightJoin: (j: JoinNode) => Fragment
  /** A FULL JOIN clause (`join` hands these over). */
  readonly fullJoin: (j: JoinNode) => Fragment
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
  /**
   * The statements an INSERT runs as: itself, or consecutive groups of its rows (more values
   * than one statement may bind, `maxParams`; rows with different columns where the engine
   * cannot write a row's DEFAULT in a multi-row VALUES list), which `execute` runs in one
   * transaction (or savepoint) and reports as one result.
   */
  readonly insertStatements: (node: InsertNode) => readonly InsertNode[]
  /** A qualified star as a function argument: `COUNT("t".*)` (PostgreSQL); unsupported elsewhere. */
  readonly rowArgument: (table: string) => Fragment
  /** The conflict clause of an upsert (leading space). */
  readonly upsert: (node: InsertNode) => Fragment
  /** `WITH [RECURSIVE] ... ` (trailing space). */
  readonly withClause: (w: WithClause) => Fragment
  /** One common table expression. */
  readonly cte: (c: CteNode) => Fragment
  /** An INSERT, UPDATE or DELETE (with RETURNING) as the query of a CTE. */
  readonly cteStatement: (q: InsertNode | UpdateNode | DeleteNode) => Fragment
  /** `(VALUES (...), ...) AS alias (columns)` in FROM or JOIN. */
  readonly valuesTable: (v: ValuesTable) => Fragment
  /** The `MATERIALIZED ` / `NOT MATERIALIZED ` hint of a CTE (trailing space). */
  readonly cteMaterialized: (materialized: boolean) => Fragment
  /** The WITH clause of an INSERT, UPDATE or DELETE. */
  readonly insertWith: (w: WithClause) => Fragment
  readonly updateWith: (w: WithClause) => Fragment
  readonly deleteWith: (w: WithClause) => Fragment
  /** The GROUP BY list with subtotals: `ROLLUP (a, b)` or `a, b WITH ROLLUP`. */
  readonly rollup: (items: readonly Expr[]) => Fragment
  /** ` WINDOW name AS (...), ...` (leading space). */
  readonly windowClause: (windows: readonly NamedWindow[]) => Fragment
  /** Row locks: ` FOR UPDATE ...` (leading space). */
  readonly lock: (l: LockClause) => Fragment
  /** ` OF t, ...` in a lock clause. */
  readonly lockOf: (tables: readonly string[]) => Fragment
  /** ` NOWAIT` */
  readonly lockNowait: () => Fragment
  /** ` SKIP LOCKED` */
  readonly lockSkipLocked: () => Fragment
  /** One side of a set operation, parenthesised or wrapped where the engine needs it. */
  readonly compoundMember: (q: SelectLike, parent: CompoundNode, side: 'left' | 'right') => Fragment
  /** The set operators, each with spaces around it. */
  readonly union: () => Fragment
  readonly unionAll: () => Fragment
  readonly intersect: () => Fragment
  readonly intersectAll: () => Fragment
  readonly except: () => Fragment
  readonly exceptAll: () => Fragment
  /** `EXPLAIN statement` (the engine's plan-reporting form). */
  readonly explain: (node: ExplainNode) => Fragment
  /** EXPLAIN that runs the statement and reports actual figures. */
  readonly explainAnalyze: (statement: Fragment) => Fragment

  // ---- statements
  readonly compileSelect: (node: SelectNode) => Fragment
  /** A set operation (`UNION`, `INTERSECT`, `EXCEPT`) with its ORDER BY and LIMIT. */
  readonly compileCompound: (node: CompoundNode) => Fragment
  readonly compileInsert: (node: InsertNode) => Fragment
  readonly compileUpdate: (node: UpdateNode) => Fragment
  readonly compileDelete: (node: DeleteNode) => Fragment
  /** `MERGE INTO ... USING ... ON ... WHEN ...` (PostgreSQL 15+). */
  readonly compileMerge: (node: MergeNode) => Fragment
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
 * naming the dialect and the feature. The dialect may be given as a function, read when the
 * field is called, so a dialect extended from this one (MariaDB from MySQL) is named as itself.
 *
 * @example
 * extend(sqlite, () => ({ returning: unsupported('sqlite 3.31', 'RETURNING') }))
 * extend(standard, (self) => ({ fullJoin: unsupported(() => self.name, 'FULL JOIN') }))
 */
export const unsupported = (dialect: string | (() => string), feature: string, detail?: string): ((...args: any[]) => never) =>
  Object.assign(
    () => { throw unsupportedError(typeof dialect === 'function' ? dialect() : dialect, feature, detail) },
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
 * The tag of a dialect's version layer. `forVersion` writes its gates as this one layer
 * (`extendLayer(self, VERSION_GATES, ...)`), so specialising again replaces the gates instead of
 * stacking them: `d.forVersion(a).forVersion(b)` is `d.forVersion(b)`, and fields the user
 * overrode, before or after, are kept.
 *
 * @example
 * forVersion: (version) => extendLayer(self, VERSION_GATES, () => ({ version }))
 */
export const VERSION_GATES: unique symbol = Symbol.for('recordkit.dialect.versionGates')

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
