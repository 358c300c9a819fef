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
}
/** A value bound as a parameter. */
export interface ValueNode {
  readonly kind: 'value'
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
  readonly list: readonly Expr[] | SelectNode
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
/** A function call by name: `COUNT(*)`, `LOWER(name)`, `COUNT(DISTINCT x)`. */
export interface FuncNode {
  readonly kind: 'func'
  readonly name: string
  readonly args: readonly Expr[]
  readonly distinct?: boolean
}
/** The proposed row in an upsert: `EXCLUDED.col`, `VALUES(col)` or `new.col`. */
export interface ExcludedNode {
  readonly kind: 'excluded'
  readonly column: string
}
/** A scalar subquery or `EXISTS (subquery)`. */
export interface SubqueryNode {
  readonly kind: 'subquery'
  readonly query: SelectNode
  readonly exists?: boolean
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
  | ParamNode
  | RawNode
  | StarNode
  | BinaryNode
  | LogicalNode
  | NotNode
  | InNode
  | BetweenNode
  | IsNullNode
  | FuncNode
  | ExcludedNode
  | SubqueryNode
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
export type FromItem = TableRef | RawNode

export interface JoinNode {
  readonly type: 'inner' | 'left' | 'right' | 'full' | 'cross'
  readonly table: FromItem
  readonly on?: Expr
}
export interface OrderItem {
  readonly expr: Expr
  readonly direction: 'asc' | 'desc'
  readonly nulls?: 'first' | 'last'
}

export interface SelectNode {
  readonly kind: 'select'
  readonly distinct: boolean
  readonly columns: readonly Selection[]
  readonly from?: FromItem
  readonly joins: readonly JoinNode[]
  readonly where?: Expr
  readonly groupBy: readonly Expr[]
  readonly having?: Expr
  readonly orderBy: readonly OrderItem[]
  readonly limit?: number | ParamNode
  readonly offset?: number | ParamNode
}

/** What to do when an INSERT conflicts with a unique key. */
export interface OnConflict {
  /** Columns of the unique key (PostgreSQL and SQLite need them; MySQL uses any unique key). */
  readonly target: readonly string[]
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
  readonly onConflict?: OnConflict
  readonly returning?: readonly Selection[]
}

export interface UpdateNode {
  readonly kind: 'update'
  readonly table: TableRef
  readonly set: readonly (readonly [string, Expr])[]
  readonly where?: Expr
  readonly returning?: readonly Selection[]
}

export interface DeleteNode {
  readonly kind: 'delete'
  readonly table: TableRef
  readonly where?: Expr
  readonly returning?: readonly Selection[]
}

/** Any statement the dialect compiles. A raw fragment is a statement too. */
export type QueryNode = SelectNode | InsertNode | UpdateNode | DeleteNode | RawNode

/** The DEFAULT keyword in an INSERT row. */
export const DEFAULT: Expr = Object.freeze({ kind: 'raw', fragment: { _tag: 'Fragment', parts: ['DEFAULT'] } }) as RawNode
