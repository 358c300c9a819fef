/**
 * Query data: plain, readonly objects, never changed once built (typed readonly, not frozen at
 * run time: freezing cost more than building). Builders in `query.ts` produce them; dialects
 * compile them. Nothing here knows any database.
 *
 * Each node has a `kind`. Later features (CTE, windows, set operations, locking, JSON) are
 * new kinds and new optional fields; a dialect that does not know a kind reports
 * UnsupportedFeature instead of guessing.
 */
import type { Fragment } from './sql.js'

// ---------------------------------------------------------------- expressions

/** A column reference: `name` or `table.name`. */
export interface ColumnRef {
  readonly kind: 'column'
  readonly table?: string
  readonly name: string
  /** How the value is read back when named in a result (`readAs`); not rendered. */
  readonly result?: ResultType
}
/** A value bound as a parameter. */
export interface ValueNode {
  readonly kind: 'value'
  readonly value: unknown
}
/** A value written into the SQL text as a literal, escaped by the dialect (`lit`). */
export interface LiteralNode {
  readonly kind: 'literal'
  readonly value: unknown
}
/** A named parameter for prepared queries. */
export interface ParamNode {
  readonly kind: 'param'
  readonly name: string
}
/** Raw SQL from the `sql` tag, embedded anywhere an expression may stand. */
export interface RawNode {
  readonly kind: 'raw'
  readonly fragment: Fragment
  /** How the value is read back when named in a result (`readAs`); not rendered. */
  readonly result?: ResultType
}
/** `*` or `table.*`. */
export interface StarNode {
  readonly kind: 'star'
  readonly table?: string
}
/** Binary operators every dialect renders; LIKE-family goes through `self.like`. */
export type BinaryOp = '=' | '<>' | '<' | '<=' | '>' | '>=' | '+' | '-' | '*' | '/' | '%' | 'like' | 'not like' | 'ilike' | 'not ilike' | '||'
export interface BinaryNode {
  readonly kind: 'binary'
  readonly op: BinaryOp
  readonly left: Expr
  readonly right: Expr
}
export interface LogicalNode {
  readonly kind: 'and' | 'or'
  readonly items: readonly Expr[]
}
export interface NotNode {
  readonly kind: 'not'
  readonly expr: Expr
}
export interface InNode {
  readonly kind: 'in'
  readonly expr: Expr
  readonly list: readonly Expr[] | SelectLike
  readonly negated: boolean
}
export interface BetweenNode {
  readonly kind: 'between'
  readonly expr: Expr
  readonly low: Expr
  readonly high: Expr
  readonly negated: boolean
}
export interface IsNullNode {
  readonly kind: 'isNull'
  readonly expr: Expr
  readonly negated: boolean
}
/** `left IS [NOT] DISTINCT FROM right`: equality where NULL equals NULL. */
export interface DistinctFromNode {
  readonly kind: 'distinctFrom'
  readonly left: Expr
  readonly right: Expr
  /** `IS NOT DISTINCT FROM` (the two are the same, NULLs included). */
  readonly negated: boolean
}
/** A row value: `(a, b)`, compared as a whole (`(a, b) IN ((1, 2), ...)`, `(a, b) > (1, 2)`). */
export interface TupleNode {
  readonly kind: 'tuple'
  readonly items: readonly Expr[]
}
/** `ANY (subquery | array)` / `ALL (...)`: the right side of a comparison against many values. */
export interface QuantifiedNode {
  readonly kind: 'quantified'
  readonly quantifier: 'any' | 'all'
  /** A subquery, or an expression giving an array (a bound JS array on PostgreSQL). */
  readonly source: SelectLike | Expr
}
/** `expr COLLATE name`: compare or sort with another collation. */
export interface CollateNode {
  readonly kind: 'collate'
  readonly expr: Expr
  readonly collation: string
}
/** A function call by name: `COUNT(*)`, `LOWER(name)`, `COUNT(DISTINCT x)`. */
export interface FuncNode {
  readonly kind: 'func'
  readonly name: string
  readonly args: readonly Expr[]
  readonly distinct?: boolean
  /** An ordered aggregate: `STRING_AGG(x, ',' ORDER BY y)`. */
  readonly orderBy?: readonly OrderItem[]
  /** An ordered-set aggregate: `PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY x)`. */
  readonly withinGroup?: readonly OrderItem[]
  /** An aggregate's `FILTER (WHERE ...)`: only rows meeting it are aggregated. */
  readonly filter?: Expr
  /**
   * How the value is read back when the call is a named column of a result (see `ResultType`):
   * `count` is `'integer'`, `sum` `'number'` (or `'decimal'`), `avg` `'float'`. Not rendered.
   */
  readonly result?: ResultType
}

/**
 * How a result column is read back, the same on every engine (see `src/results.ts`):
 * `'integer'` a safe integer as a number (DecodeError beyond ±2^53), `'float'` a number,
 * `'number'` a number that stands for the database's value exactly (integer or decimal text of
 * at most 15 significant digits; DecodeError otherwise), `'decimal'` exact decimal text,
 * `'json'` a parsed JSON value, `'boolean'` `true` or `false` (SQLite and MySQL compute a
 * condition as 1 or 0), `'date'` a Date (SQLite computes dates as UTC text, MariaDB gives a DATE
 * as text), `'int64'` a bigint with every digit (mysql2 gives a BIGINT as text, SQLite and
 * PostgreSQL as a bigint).
 */
export type ResultType = 'integer' | 'float' | 'number' | 'decimal' | 'json' | 'boolean' | 'date' | 'int64'
/** The proposed row in an upsert: `EXCLUDED.col`, `VALUES(col)` or `new.col`. */
export interface ExcludedNode {
  readonly kind: 'excluded'
  readonly column: string
}
/** A scalar subquery or `EXISTS (subquery)`. */
export interface SubqueryNode {
  readonly kind: 'subquery'
  readonly query: SelectLike
  /** How the value is read back when named in a result (`readAs`); not rendered. */
  readonly result?: ResultType
  readonly exists?: boolean
}
/** `CASE [subject] WHEN ... THEN ... [ELSE ...] END`: searched without a subject, simple with one. */
export interface CaseNode {
  readonly kind: 'case'
  readonly subject?: Expr
  readonly whens: readonly { readonly when: Expr; readonly then: Expr }[]
  readonly else?: Expr
}
/**
 * `CAST(expr AS type)`. The type is a portable name each dialect maps to its own
 * (`integer`, `bigint`, `text`, `varchar(n)`, `decimal(p,s)`, `double`, `boolean`, `date`,
 * `timestamp`, `time`, `json`); another name is passed through as the engine's own.
 */
export interface CastNode {
  readonly kind: 'cast'
  readonly expr: Expr
  readonly type: string
  /** How the value is read back when named in a result (`readAs`); not rendered. */
  readonly result?: ResultType
}
/** A unit of calendar arithmetic and truncation. */
export type DateUnit = 'year' | 'month' | 'week' | 'day' | 'hour' | 'minute' | 'second'
/** A field of a date or timestamp. */
export type DatePart = 'year' | 'month' | 'day' | 'hour' | 'minute' | 'second'
/** `expr` plus `amount` units (negative to subtract). */
export interface DateAddNode {
  readonly kind: 'dateAdd'
  readonly expr: Expr
  readonly amount: Expr
  readonly unit: DateUnit
}
/** `expr` truncated to the start of its unit (month: the first of the month, 00:00). */
export interface DateTruncNode {
  readonly kind: 'dateTrunc'
  readonly unit: DateUnit
  readonly expr: Expr
}
/** One field of a date (an integer; seconds may carry a fraction). */
export interface ExtractNode {
  readonly kind: 'extract'
  readonly part: DatePart
  readonly expr: Expr
}
/** A path into a JSON document: object keys and array indexes (0-based). */
export type JsonPath = readonly (string | number)[]
/** The value at a path of a JSON document, as JSON (`asText: false`) or as text. */
export interface JsonExtractNode {
  readonly kind: 'jsonExtract'
  readonly expr: Expr
  readonly path: JsonPath
  /** How the value is read back when named in a result (`readAs`); not rendered. */
  readonly result?: ResultType
  readonly asText: boolean
}
/** Whether a JSON document contains another (`@>`, `JSON_CONTAINS`). */
export interface JsonContainsNode {
  readonly kind: 'jsonContains'
  readonly expr: Expr
  readonly value: Expr
}
/** A JSON object built from keys and expressions: `json_build_object('k', v, ...)`. */
export interface JsonBuildObjectNode {
  readonly kind: 'jsonBuildObject'
  readonly entries: readonly (readonly [string, Expr])[]
}
/** The rows of a subquery as one JSON value: an array of objects, or the first row's object (NULL without one). */
export interface JsonFromNode {
  readonly kind: 'jsonFrom'
  readonly shape: 'array' | 'object'
  readonly query: SelectLike
}
/** One end of a window frame; a number is an offset of that many rows (or values, or groups). */
export type FrameBound =
  | 'unbounded preceding'
  | 'current row'
  | 'unbounded following'
  | { readonly preceding: number }
  | { readonly following: number }
/** A window frame: `ROWS BETWEEN ... AND ...`. */
export interface FrameSpec {
  readonly units: 'rows' | 'range' | 'groups'
  readonly start: FrameBound
  readonly end?: FrameBound
  readonly exclude?: 'current row' | 'group' | 'ties' | 'no others'
}
/** A window: `[base] PARTITION BY ... ORDER BY ... [frame]`. */
export interface WindowSpec {
  /** A named window this one refines. */
  readonly base?: string
  readonly partitionBy: readonly Expr[]
  readonly orderBy: readonly OrderItem[]
  readonly frame?: FrameSpec
}
/** A window function call: `func OVER (spec)` or `func OVER name`. */
export interface WindowNode {
  readonly kind: 'window'
  readonly func: FuncNode
  readonly over: WindowSpec | string
}

/**
 * An expression kind recordkit does not know, added by an extension: rendered by the
 * dialect's `extension` field, which a dialect made with `extend` can override.
 */
export interface ExtensionNode {
  readonly kind: 'extension'
  /** The extension's name, e.g. `jsonbPathExists`. */
  readonly name: string
  readonly args: readonly Expr[]
  /** Anything else the extension needs (a path, an option). */
  readonly data?: unknown
}

export type Expr =
  | ColumnRef
  | ValueNode
  | LiteralNode
  | ParamNode
  | RawNode
  | StarNode
  | BinaryNode
  | LogicalNode
  | NotNode
  | InNode
  | BetweenNode
  | IsNullNode
  | DistinctFromNode
  | CollateNode
  | TupleNode
  | QuantifiedNode
  | FuncNode
  | ExcludedNode
  | SubqueryNode
  | CaseNode
  | CastNode
  | DateAddNode
  | DateTruncNode
  | ExtractNode
  | JsonExtractNode
  | JsonContainsNode
  | JsonBuildObjectNode
  | JsonFromNode
  | WindowNode
  | ExtensionNode

// ---------------------------------------------------------------- statements

/** One item of a SELECT list, with an optional alias. */
export interface Selection {
  readonly expr: Expr
  readonly alias?: string
}
/** A table in FROM or JOIN, with an optional alias. */
export interface TableRef {
  readonly kind: 'table'
  readonly name: string
  readonly schema?: string
  readonly alias?: string
}
/** A subquery in FROM or JOIN: `(query) AS alias`, `LATERAL (query) AS alias`. */
export interface DerivedTable {
  readonly kind: 'derived'
  readonly query: SelectLike | RawNode
  readonly alias: string
  /** The subquery may reference the tables before it in FROM. */
  readonly lateral?: boolean
}
export type FromItem = TableRef | RawNode | DerivedTable | ValuesTable

export interface JoinNode {
  readonly type: 'inner' | 'left' | 'right' | 'full' | 'cross'
  readonly table: FromItem
  readonly on?: Expr
  /** `USING (col, ...)`: columns of the same name on both sides. */
  readonly using?: readonly string[]
}
export interface OrderItem {
  readonly expr: Expr
  /** Absent: no direction is written (a raw expression may carry its own). */
  readonly direction?: 'asc' | 'desc'
  readonly nulls?: 'first' | 'last'
}

/** One common table expression: `name (columns) AS [NOT] MATERIALIZED (query)`. */
export interface CteNode {
  readonly name: string
  readonly columns?: readonly string[]
  /** A query, or a data-modifying statement whose RETURNING rows the CTE holds (PostgreSQL). */
  readonly query: SelectLike | RawNode | InsertNode | UpdateNode | DeleteNode
  /** A planner hint: `true` MATERIALIZED, `false` NOT MATERIALIZED, absent: the planner decides. */
  readonly materialized?: boolean
}
/** `WITH [RECURSIVE] cte, ...` before a statement. */
export interface WithClause {
  readonly recursive: boolean
  readonly ctes: readonly CteNode[]
}
/** A window defined once in a SELECT's `WINDOW` clause and used by name. */
export interface NamedWindow {
  readonly name: string
  readonly spec: WindowSpec
}
/** Row locks taken by a SELECT: `FOR UPDATE [OF t] [NOWAIT | SKIP LOCKED]`. */
export interface LockClause {
  readonly strength: 'update' | 'share' | 'no key update' | 'key share'
  /** Lock only the rows of these tables (or aliases). */
  readonly of?: readonly string[]
  /** Fail at once, or skip locked rows, instead of waiting. */
  readonly wait?: 'nowait' | 'skip locked'
}

export interface SelectNode {
  readonly kind: 'select'
  readonly distinct: boolean
  /** `SELECT DISTINCT ON (exprs)`: the first row of each group (PostgreSQL). */
  readonly distinctOn?: readonly Expr[]
  readonly columns: readonly Selection[]
  readonly from?: FromItem
  readonly joins: readonly JoinNode[]
  readonly where?: Expr
  readonly groupBy: readonly Expr[]
  /** Add subtotal rows for each prefix of `groupBy`, and a grand total. */
  readonly rollup?: boolean
  readonly having?: Expr
  readonly windows?: readonly NamedWindow[]
  readonly orderBy: readonly OrderItem[]
  readonly limit?: number | ParamNode
  readonly offset?: number | ParamNode
  /** `FETCH FIRST n ROWS WITH TIES`: the limit also keeps the rows tied with the last one in ORDER BY. */
  readonly withTies?: boolean
  readonly with?: WithClause
  readonly lock?: LockClause
}

/** A set operation over two queries; ORDER BY, LIMIT and OFFSET apply to the whole result. */
export interface CompoundNode {
  readonly kind: 'compound'
  readonly op: 'union' | 'intersect' | 'except'
  /** Keep duplicates (`UNION ALL`). */
  readonly all: boolean
  readonly left: SelectLike
  readonly right: SelectLike
  readonly orderBy: readonly OrderItem[]
  readonly limit?: number | ParamNode
  readonly offset?: number | ParamNode
  readonly with?: WithClause
}

/** A query that returns rows: a SELECT or a set operation. */
export type SelectLike = SelectNode | CompoundNode

/** What to do when an INSERT conflicts with a unique key. */
export interface OnConflict {
  /** Columns of the unique key (PostgreSQL and SQLite need them; MySQL uses any unique key). */
  readonly target: readonly string[]
  /** `ON CONFLICT ON CONSTRAINT name` instead of columns (PostgreSQL). */
  readonly constraint?: string
  /** The predicate of a partial unique index: `ON CONFLICT (cols) WHERE ...` (PostgreSQL, SQLite). */
  readonly targetWhere?: Expr
  /** `null`: do nothing. Otherwise the assignments; use `excluded(col)` for the proposed row. */
  readonly update: readonly (readonly [string, Expr])[] | null
  /** Optional condition on the update (PostgreSQL and SQLite). */
  readonly where?: Expr
}

export interface InsertNode {
  readonly kind: 'insert'
  readonly table: TableRef
  readonly columns: readonly string[]
  /** One array per row, in `columns` order. `undefined` in a cell means DEFAULT. */
  readonly rows: readonly (readonly Expr[])[]
  /** `INSERT INTO t (columns) SELECT ...`: the rows come from a query instead of `rows`. */
  readonly query?: SelectLike
  readonly onConflict?: OnConflict
  /** `INSERT OR IGNORE` / `INSERT OR REPLACE` (SQLite), `INSERT IGNORE` / `REPLACE` (MySQL). */
  readonly or?: 'ignore' | 'replace'
  readonly returning?: readonly Selection[]
  readonly with?: WithClause
}

export interface UpdateNode {
  readonly kind: 'update'
  readonly table: TableRef
  readonly set: readonly (readonly [string, Expr])[]
  /** `UPDATE t SET ... FROM a, b` (MySQL: `UPDATE t, a, b SET ...`): tables the SET and WHERE may use. */
  readonly from?: readonly FromItem[]
  readonly where?: Expr
  /** `ORDER BY ... LIMIT n` (MySQL, MariaDB, SQLite built with it). */
  readonly orderBy?: readonly OrderItem[]
  readonly limit?: number | ParamNode
  readonly returning?: readonly Selection[]
  readonly with?: WithClause
}

export interface DeleteNode {
  readonly kind: 'delete'
  readonly table: TableRef
  /** `DELETE FROM t USING a, b` (MySQL: `DELETE t FROM t, a, b`): tables the WHERE may use. */
  readonly using?: readonly FromItem[]
  readonly where?: Expr
  /** `ORDER BY ... LIMIT n` (MySQL, MariaDB, SQLite built with it). */
  readonly orderBy?: readonly OrderItem[]
  readonly limit?: number | ParamNode
  readonly returning?: readonly Selection[]
  readonly with?: WithClause
}

/** `VALUES (...), (...)` as a table in FROM or JOIN: `(VALUES ...) AS alias (columns)`. */
export interface ValuesTable {
  readonly kind: 'values'
  readonly rows: readonly (readonly Expr[])[]
  readonly alias: string
  readonly columns: readonly string[]
}

/** What a WHEN clause of MERGE does. */
export type MergeAction =
  | { readonly kind: 'update'; readonly set: readonly (readonly [string, Expr])[] }
  | { readonly kind: 'delete' }
  | { readonly kind: 'insert'; readonly columns: readonly string[]; readonly values: readonly Expr[] }
  | { readonly kind: 'nothing' }
/** `WHEN [NOT] MATCHED [AND cond] THEN action` */
export interface MergeWhen {
  readonly matched: boolean
  readonly and?: Expr
  readonly action: MergeAction
}
/** `MERGE INTO target USING source ON cond WHEN ...` (PostgreSQL 15+). */
export interface MergeNode {
  readonly kind: 'merge'
  readonly table: TableRef
  readonly source?: FromItem
  readonly on?: Expr
  readonly whens: readonly MergeWhen[]
  readonly with?: WithClause
}

/** `EXPLAIN` of a statement: its rows are the engine's query plan. */
export interface ExplainNode {
  readonly kind: 'explain'
  readonly query: SelectNode | CompoundNode | InsertNode | UpdateNode | DeleteNode | RawNode
  /** Run the statement and report actual figures (`EXPLAIN ANALYZE`). */
  readonly analyze: boolean
}

/** Any statement the dialect compiles. A raw fragment is a statement too. */
export type QueryNode = SelectNode | CompoundNode | InsertNode | UpdateNode | DeleteNode | MergeNode | ExplainNode | RawNode

/**
 * The DEFAULT keyword: a cell of an INSERT row, or an UPDATE assignment (`set({ qty: DEFAULT })`,
 * not on SQLite). It carries the mark of an expression built by recordkit (see `isExpr` in
 * src/query.ts), so `values` and `set` keep it as the keyword: without it, it was bound as its
 * JSON text.
 * @example pipe(insertInto('item'), values({ id: 1, qty: DEFAULT }))
 */
export const DEFAULT: Expr = Object.freeze({ kind: 'raw', fragment: { _tag: 'Fragment', parts: ['DEFAULT'] }, [Symbol.for('recordkit.Expr')]: true }) as RawNode
