/**
 * Window functions: ranking (`rowNumber`, `rank`, `denseRank`, `ntile`), offsets (`lag`,
 * `lead`, `firstValue`, `lastValue`) and any aggregate, over a window given inline
 * (`over(f, { partitionBy, orderBy, frame })`) or by the name of a window defined once in
 * the SELECT (`window('w', {...})` and `over(f, 'w')`).
 *
 * Frame offsets are checked integers written into the SQL (MariaDB takes no parameter there).
 */
import type { Expr, FrameBound, FrameSpec, FuncNode, NamedWindow, OrderItem, SelectNode, WindowSpec } from '../ast.js'
import { exprNode, isExpr, NULLS_ORDERS, orderWord, patchSelect, toExpr, toValue, type Operand, type TypedExpr } from '../query.js'

/** An ORDER BY item in a window: a column or expression (ascending), or `asc(...)` / `desc(...)`. */
export type WindowOrder = Operand | OrderItem

/** A window as the builders take it. */
export interface WindowOptions {
  /** A named window (from `window(...)`) this one refines. */
  readonly base?: string
  readonly partitionBy?: readonly Operand[]
  readonly orderBy?: readonly WindowOrder[]
  readonly frame?: FrameSpec
}

const isOrderItem = (u: unknown): u is OrderItem =>
  typeof u === 'object' && u !== null && !isExpr(u) && 'expr' in u && 'direction' in u

const orderItem = (o: WindowOrder): OrderItem => (isOrderItem(o) ? o : { expr: toExpr(o), direction: 'asc' })

/**
 * An ascending ORDER BY item (for windows), with optional NULLS FIRST / LAST.
 * @example over(rank(), { orderBy: [asc('total')] })
 */
export const asc = (e: Operand, nulls?: 'first' | 'last'): OrderItem => ordered(e, 'asc', nulls)
/**
 * A descending ORDER BY item (for windows).
 * @example over(rank(), { partitionBy: ['country'], orderBy: [desc('revenue')] })
 */
export const desc = (e: Operand, nulls?: 'first' | 'last'): OrderItem => ordered(e, 'desc', nulls)

const ordered = (e: Operand, direction: 'asc' | 'desc', nulls: 'first' | 'last' | undefined): OrderItem => {
  const n = orderWord('nulls', nulls, NULLS_ORDERS)
  return n === undefined ? { expr: toExpr(e), direction } : { expr: toExpr(e), direction, nulls: n }
}

/** The window data for options. */
const spec = (o: WindowOptions): WindowSpec => ({
  ...(o.base === undefined ? {} : { base: o.base }),
  partitionBy: (o.partitionBy ?? []).map(toExpr),
  orderBy: (o.orderBy ?? []).map(orderItem),
  ...(o.frame === undefined ? {} : { frame: o.frame }),
})

/**
 * `f OVER (...)`, or `f OVER name` for a window defined with `window(name, ...)`. `f` is a
 * function call: an aggregate (`sum('total')`) or a window function (`rank()`).
 *
 * @example
 * over(rank(), { partitionBy: ['c.country'], orderBy: [desc('revenue')] })
 * over(sum('total'), { orderBy: ['month'], frame: rows('unbounded preceding', 'current row') })
 * over(rowNumber(), 'w')
 */
export const over = <T = unknown>(f: TypedExpr<T>, window: WindowOptions | string = {}): TypedExpr<T> =>
  // Anything but a function call is refused when the query compiles.
  exprNode({ kind: 'window', func: f as FuncNode, over: typeof window === 'string' ? window : spec(window) })

const call = (name: string, args: readonly Expr[]): Expr => exprNode({ kind: 'func', name, args })

/**
 * A ranking function: its value is a whole number on every engine, read back as a number (as
 * `count()` is): MariaDB and PostgreSQL compute it as a BIGINT, which mysql2 gives as text.
 */
const ranking = (name: string, args: readonly Expr[]): TypedExpr<number> => exprNode({ kind: 'func', name, args, result: 'integer' })

/** `ROW_NUMBER()`: 1, 2, 3 ... in window order, read back as a number. @example over(rowNumber(), { orderBy: ['id'] }) */
export const rowNumber = (): TypedExpr<number> => ranking('row_number', [])
/** `RANK()`: ties share a rank, then ranks skip; a number. @example over(rank(), { orderBy: [desc('total')] }) */
export const rank = (): TypedExpr<number> => ranking('rank', [])
/** `DENSE_RANK()`: ties share a rank, no gaps; a number. @example over(denseRank(), { orderBy: [desc('n')] }) */
export const denseRank = (): TypedExpr<number> => ranking('dense_rank', [])
/** `NTILE(n)`: the bucket (1..n) of each row, a number. @example over(ntile(4), { orderBy: ['total'] }) */
export const ntile = (buckets: number | Expr): TypedExpr<number> => ranking('ntile', [toValue(buckets)])
/**
 * `LAG(expr, offset, default)`: the value `offset` rows before (MariaDB has no default).
 * @example over(lag('revenue'), { orderBy: ['month'] })
 */
export const lag = (e: Operand, offset?: number | Expr, otherwise?: unknown): Expr =>
  call('lag', [toExpr(e), ...(offset === undefined && otherwise === undefined ? [] : [toValue(offset ?? 1)]), ...(otherwise === undefined ? [] : [toValue(otherwise)])])
/**
 * `LEAD(expr, offset, default)`: the value `offset` rows after (MariaDB has no default).
 * @example over(lead('revenue'), { orderBy: ['month'] })
 */
export const lead = (e: Operand, offset?: number | Expr, otherwise?: unknown): Expr =>
  call('lead', [toExpr(e), ...(offset === undefined && otherwise === undefined ? [] : [toValue(offset ?? 1)]), ...(otherwise === undefined ? [] : [toValue(otherwise)])])
/** `FIRST_VALUE(expr)` @example over(firstValue('name'), { partitionBy: ['genre_id'], orderBy: ['milliseconds'] }) */
export const firstValue = (e: Operand): Expr => call('first_value', [toExpr(e)])
/** `LAST_VALUE(expr)` (mind the default frame, which ends at the current row) @example over(lastValue('name'), { orderBy: ['id'], frame: rows('unbounded preceding', 'unbounded following') }) */
export const lastValue = (e: Operand): Expr => call('last_value', [toExpr(e)])

/**
 * A frame bound `n PRECEDING`.
 * @example rows(preceding(2), 'current row')
 */
export const preceding = (n: number): FrameBound => ({ preceding: n })
/**
 * A frame bound `n FOLLOWING`.
 * @example rows('current row', following(1))
 */
export const following = (n: number): FrameBound => ({ following: n })

const frameOf = (units: FrameSpec['units']) =>
  (start: FrameBound, end?: FrameBound, exclude?: FrameSpec['exclude']): FrameSpec =>
    ({ units, start, ...(end === undefined ? {} : { end }), ...(exclude === undefined ? {} : { exclude }) })

/** A `ROWS` frame. @example rows('unbounded preceding', 'current row') */
export const rows = frameOf('rows')
/** A `RANGE` frame. @example range('unbounded preceding', 'current row') */
export const range = frameOf('range')
/** A `GROUPS` frame (PostgreSQL, SQLite 3.28+). @example groups(preceding(1), following(1)) */
export const groups = frameOf('groups')

/**
 * Define a named window in the SELECT (`WINDOW name AS (...)`), used as `over(f, name)`.
 * @example pipe(from('invoice'), select(as(over(sum('total'), 'w'), 'running')), window('w', { orderBy: ['invoice_date'] }))
 */
export const window = (name: string, options: WindowOptions) => <Q extends SelectNode>(q: Q): Q =>
  patchSelect(q, { windows: [...(q.windows ?? []), ({ name, spec: spec(options) }) as NamedWindow] })
