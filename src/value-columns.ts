/**
 * The rows of an INSERT kept as plain values, one array per column, instead of a value node per
 * cell: `values()` keeps rows so when every cell is a plain value (no expression, subquery,
 * DEFAULT or missing key), and the built-in compilers read the arrays (multi-row VALUES, and
 * PostgreSQL's unnest, which binds each column's array as it is). Building 10,000 rows of six
 * columns then allocates six arrays, not 10,000 row arrays and 60,000 nodes.
 *
 * The node's `rows` field still reads as the rows of nodes it always was, for any other code
 * (a dialect changed with `extend`, the shard rules, code of the user's own): it is an array
 * whose rows are made the first time they are read. Once any of them is read, the compilers
 * read the rows from `rows` too (`valueColumnsOf` answers undefined), so whatever was done with
 * them is what is inserted.
 */
import type { Expr, InsertNode } from './ast.js'

/** The cells of an insert's rows, one array per column (`values[j][i]` is row i's column j). */
export interface ValueColumns {
  /** The node's `columns` these arrays are for (the very array). */
  readonly columns: readonly string[]
  readonly values: readonly (readonly unknown[])[]
  /** The number of rows. */
  readonly count: number
}

interface State extends ValueColumns {
  /** Makes the value node of one cell (`val`). */
  readonly cell: (value: unknown) => Expr
  /** Set once a row was made from the arrays: from then on `rows` is the truth. */
  read: boolean
}

/** The state behind each `rows` array made by `valueRows`, by that array and by its target. */
const BY_ROWS = new WeakMap<object, State>()
const BY_TARGET = new WeakMap<object, State>()

/** A row index named by a property key, or -1. */
const indexOf = (p: string | symbol, count: number): number => {
  if (typeof p !== 'string' || p.length === 0 || p.length > 10) return -1
  const c = p.charCodeAt(0)
  if (c < 48 || c > 57 || (c === 48 && p.length > 1)) return -1
  const i = Number(p)
  return Number.isInteger(i) && i < count ? i : -1
}

const rowAt = (s: State, i: number): readonly Expr[] => {
  s.read = true
  const r = new Array<Expr>(s.values.length)
  for (let j = 0; j < r.length; j++) r[j] = s.cell(s.values[j][i])
  return r
}

/** Every row made, so that the target is the array of rows it stands for. */
const fill = (t: (readonly Expr[])[]): void => {
  const s = BY_TARGET.get(t)
  if (s !== undefined) for (let i = 0; i < s.count; i++) if (!(i in t)) t[i] = rowAt(s, i)
}

const HANDLER: ProxyHandler<(readonly Expr[])[]> = {
  get: (t, p, receiver) => {
    const s = BY_TARGET.get(t)
    if (s !== undefined) {
      const i = indexOf(p, s.count)
      if (i >= 0 && !(i in t)) t[i] = rowAt(s, i)
    }
    return Reflect.get(t, p, receiver)
  },
  // A row not made yet is there all the same (as long as the array may still grow).
  has: (t, p) => Reflect.has(t, p) || (indexOf(p, t.length) >= 0 && Object.isExtensible(t)),
  // The traps that see the array as a whole: every row is made first, then the array answers.
  ownKeys: (t) => (fill(t), Reflect.ownKeys(t)),
  getOwnPropertyDescriptor: (t, p) => (fill(t), Reflect.getOwnPropertyDescriptor(t, p)),
  defineProperty: (t, p, d) => (fill(t), Reflect.defineProperty(t, p, d)),
  deleteProperty: (t, p) => (fill(t), Reflect.deleteProperty(t, p)),
  set: (t, p, v, receiver) => (fill(t), Reflect.set(t, p, v, receiver)),
  preventExtensions: (t) => (fill(t), Reflect.preventExtensions(t)),
}

/**
 * The `rows` of an insert whose cells are the plain values of `values` (one array per column of
 * `columns`, `count` rows each), each row made as `cell` makes a cell the first time it is read.
 *
 * @example const rows = valueRows(['a'], [[1, 2]], 2, val) // rows[1] is [val(2)]
 */
export const valueRows = (
  columns: readonly string[], values: readonly (readonly unknown[])[], count: number, cell: (value: unknown) => Expr,
): readonly (readonly Expr[])[] => {
  const target = new Array<readonly Expr[]>(count)
  const rows = new Proxy(target, HANDLER)
  const state: State = { columns, values, count, cell, read: false }
  BY_TARGET.set(target, state)
  BY_ROWS.set(rows, state)
  return rows
}

/**
 * The plain values of an insert's rows, one array per column, when `values()` kept them so and
 * no row of them was read since (from then on, the rows are read from `rows`).
 *
 * @example valueColumnsOf(pipe(insertInto('t'), values([{ a: 1 }, { a: 2 }])))?.values // [[1, 2]]
 */
export const valueColumnsOf = (node: Pick<InsertNode, 'columns' | 'rows'>): ValueColumns | undefined => {
  const s = BY_ROWS.get(node.rows)
  return s !== undefined && !s.read && s.columns === node.columns ? s : undefined
}

/**
 * The `rows` of rows `from` to `to` of an insert kept as plain values (see `valueColumnsOf`).
 *
 * @example sliceValueRows(node, columns, 0, 1000)
 */
export const sliceValueRows = (node: Pick<InsertNode, 'rows'>, v: ValueColumns, from: number, to: number): readonly (readonly Expr[])[] => {
  const s = BY_ROWS.get(node.rows)!
  const end = Math.min(to, v.count)
  return valueRows(v.columns, v.values.map((c) => c.slice(from, end)), Math.max(0, end - from), s.cell)
}
