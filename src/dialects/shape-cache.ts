/**
 * The statement-shape cache of the built-in dialects: a SELECT that differs from one compiled
 * before only in the values of its WHERE clause is compiled once, and later only has its values
 * adapted and put in place. So is an UPDATE that differs only in the values it assigns and the
 * values of its WHERE clause, and a DELETE that differs only in its WHERE values (both in their
 * plain form: no FROM/USING, ORDER BY, LIMIT, RETURNING or WITH).
 *
 * A SELECT built with the builders reuses its unchanged parts (`from('users')`, a `select` of
 * column names and column nodes are remembered by `recordkit/query`), so the cache recognises
 * the part of a statement before its WHERE by identity (the FROM node, the column list, ...),
 * the ORDER BY by its columns and directions (`orderBy` makes its list afresh on each call), and
 * compares only the WHERE clause's shape (kinds, operators, columns, list lengths), which
 * costs much less than compiling it again. A statement whose column list a builder did not hand
 * out before (`isReused`) is not looked up: it could share no part with the statements cached.
 *
 * It is sound only where compiling does not depend on the values of the WHERE clause nor on
 * anything outside the statement: true of the built-in dialects, whose functions are marked
 * here (`builtIn`), and not known of a dialect changed with `extend`, which therefore
 * compiles every statement afresh.
 */
import type { DeleteNode, Expr, OrderItem, SelectNode, UpdateNode } from '../ast.js'
import type { Dialect } from '../dialect.js'
import { type Compiled, render } from '../sql.js'
import { atParameter } from '../values.js'
import { isReused } from '../reused.js'
import { uniqueOutputNames } from './output-names.js'
import { isNullOperand } from './null-comparison.js'

/** Functions of the built-in dialects (see the module comment). */
const BUILT_IN = new WeakSet<object>()

/**
 * Mark every function of a built-in dialect's fields as built in, and return the fields (the
 * shape cache runs only on a dialect whose every function is).
 *
 * @example export const mine = extend(standard, (self, base) => builtIn({ name: 'mine' }))
 */
export const builtIn = <R extends object>(fields: R): R => {
  for (const v of Object.values(fields)) if (typeof v === 'function') BUILT_IN.add(v as object)
  return fields
}

/**
 * Whether a function is one of the built-in dialects' own.
 * @example isBuiltIn(sqlite.expr) // true
 */
export const isBuiltIn = (f: unknown): boolean => typeof f === 'function' && BUILT_IN.has(f)

/** Whether every function of a dialect is a built-in one. */
const allBuiltIn = (d: Dialect): boolean => {
  for (const v of Object.values(d)) if (typeof v === 'function' && !BUILT_IN.has(v as object)) return false
  return true
}

/** The statements the cache knows. */
type Cacheable = SelectNode | UpdateNode | DeleteNode

interface Entry {
  /** The statement this entry was compiled from (its assignments and WHERE clause are the shape). */
  readonly q: Cacheable
  readonly sql: string
  /** The parameters, with those of the shape's values left undefined. */
  readonly params: readonly unknown[]
  /** Pairs: parameter position, index of the value (in `values` order). */
  readonly slots: readonly number[]
}

/** At most this many shapes per FROM node; then the oldest gives way. */
const PER_KEY = 16

/** The longest IN list a cached shape may have. */
const MAX_LIST = 32

/** A parameter hole that stands for the i-th WHERE value while the shape compiles. */
const HOLE = '\0rk.shape.'

/**
 * Where `sameShape` writes the values it meets: `v[0..n)`. The array is reused from lookup to
 * lookup (a lookup runs on every build of a query): only its count goes back to 0, so a lookup
 * allocates nothing for its values.
 */
interface Values {
  readonly v: unknown[]
  n: number
}

/**
 * The WHERE values of `b` in order, when `b` has the shape of `a` (false when it has not).
 * Only the kinds below take part; any other makes the statement uncacheable.
 */
const sameShape = (a: Expr, b: Expr, out: Values): boolean => {
  if (a.kind !== b.kind) return false
  switch (b.kind) {
    case 'column': return a === b || (a.kind === 'column' && a.name === b.name && a.table === b.table)
    case 'value': out.v[out.n++] = b.value; return true
    case 'binary': {
      const x = a as typeof b
      if (x.op !== b.op) return false
      // `= NULL` is written IS NULL (null-comparison.ts): a null and a value are two shapes.
      if ((b.op === '=' || b.op === '<>') && (isNullOperand(x.left) !== isNullOperand(b.left) || isNullOperand(x.right) !== isNullOperand(b.right))) return false
      return sameShape(x.left, b.left, out) && sameShape(x.right, b.right, out)
    }
    case 'and':
    case 'or': {
      const x = a as typeof b
      if (x.items.length !== b.items.length) return false
      for (let i = 0; i < b.items.length; i++) if (!sameShape(x.items[i], b.items[i], out)) return false
      return true
    }
    case 'not': return sameShape((a as typeof b).expr, b.expr, out)
    case 'isNull': {
      const x = a as typeof b
      return x.negated === b.negated && sameShape(x.expr, b.expr, out)
    }
    case 'between': {
      const x = a as typeof b
      return x.negated === b.negated && sameShape(x.expr, b.expr, out) && sameShape(x.low, b.low, out) && sameShape(x.high, b.high, out)
    }
    case 'in': {
      const x = a as typeof b
      if (x.negated !== b.negated || !Array.isArray(x.list) || !Array.isArray(b.list) || x.list.length !== b.list.length) return false
      if (!sameShape(x.expr, b.expr, out)) return false
      const xl = x.list as readonly Expr[]
      const bl = b.list as readonly Expr[]
      for (let i = 0; i < bl.length; i++) if (!sameShape(xl[i], bl[i], out)) return false
      return true
    }
    default: return false
  }
}

/** The WHERE clause with its values replaced by holes in `sameShape`'s order, or undefined if a kind cannot take part. */
const withHoles = (e: Expr, n: { i: number }): Expr | undefined => {
  const all = (items: readonly Expr[]): Expr[] | undefined => {
    const out: Expr[] = []
    for (const x of items) {
      const h = withHoles(x, n)
      if (h === undefined) return undefined
      out.push(h)
    }
    return out
  }
  switch (e.kind) {
    case 'column': return e
    case 'value': return { kind: 'param', name: `${HOLE}${n.i++}` }
    case 'binary': {
      // A bound NULL compared with = or <> stays in place (it is written IS [NOT] NULL, with no
      // parameter), though it keeps its number in the order `sameShape` gathers the values.
      const nullTest = e.op === '=' || e.op === '<>'
      const side = (x: Expr): Expr | undefined => (nullTest && x.kind === 'value' && x.value === null ? (n.i++, x) : withHoles(x, n))
      const left = side(e.left)
      const right = left && side(e.right)
      return right && { ...e, left: left!, right }
    }
    case 'and':
    case 'or': {
      const items = all(e.items)
      return items && { ...e, items }
    }
    case 'not':
    case 'isNull': {
      const expr = withHoles(e.expr, n)
      return expr && { ...e, expr }
    }
    case 'between': {
      const parts = all([e.expr, e.low, e.high])
      return parts && { ...e, expr: parts[0], low: parts[1], high: parts[2] }
    }
    case 'in': {
      // Long lists (a relation's keys) seldom repeat their length: compiled afresh, not kept.
      if (!Array.isArray(e.list) || e.list.length > MAX_LIST) return undefined
      const parts = all([e.expr, ...(e.list as readonly Expr[])])
      return parts && { ...e, expr: parts[0], list: parts.slice(1) }
    }
    default: return undefined
  }
}

/**
 * Two ORDER BY lists alike: the same list, or one item for one, each of the same column (or the
 * same node), direction and NULLS placement. `orderBy(...)` makes its list afresh on every call,
 * so a rebuilt statement with an ORDER BY is recognised by this, not by identity.
 */
const sameOrder = (a: readonly OrderItem[], b: readonly OrderItem[]): boolean => {
  if (a === b) return true
  if (a.length !== b.length) return false
  for (let i = 0; i < b.length; i++) {
    const x = a[i]
    const y = b[i]
    if (x === y) continue
    if (x.direction !== y.direction || x.nulls !== y.nulls) return false
    const e = x.expr
    const f = y.expr
    if (e !== f && !(e.kind === 'column' && f.kind === 'column' && e.name === f.name && e.table === f.table)) return false
  }
  return true
}

/**
 * Every field but WHERE is the same node or value (the builders reuse unchanged parts), and the
 * ORDER BY is alike (`sameOrder`).
 */
const samePrefix = (a: SelectNode, b: SelectNode): boolean =>
  a.columns === b.columns && a.from === b.from && a.joins === b.joins && a.groupBy === b.groupBy && sameOrder(a.orderBy, b.orderBy) &&
  a.limit === b.limit && a.offset === b.offset && a.distinct === b.distinct && a.distinctOn === b.distinctOn && a.having === b.having &&
  a.rollup === b.rollup && a.windows === b.windows && a.withTies === b.withTies && a.with === b.with && a.lock === b.lock

/** Two WHERE clauses (either absent) have the same shape; the values of `b` go to `out`. */
const sameWhere = (a: Expr | undefined, b: Expr | undefined, out: Values): boolean =>
  a === undefined ? b === undefined : b !== undefined && sameShape(a, b, out)

/**
 * The values of `b` in order (assignments first, then WHERE), when `b` has the shape of `a`,
 * a statement of the same kind under the same key (false when it has not).
 */
const sameStatement = (a: Cacheable, b: Cacheable, out: Values): boolean => {
  switch (b.kind) {
    case 'select': return samePrefix(a as SelectNode, b) && sameWhere(a.where, b.where, out)
    case 'update': {
      const set = (a as UpdateNode).set
      if (set.length !== b.set.length) return false
      for (let i = 0; i < set.length; i++) if (set[i][0] !== b.set[i][0] || !sameShape(set[i][1], b.set[i][1], out)) return false
      return sameWhere(a.where, b.where, out)
    }
    case 'delete': return sameWhere(a.where, b.where, out)
  }
}

/** The statement with its values replaced by holes in `sameStatement`'s order, or undefined if a kind cannot take part. */
const statementWithHoles = (q: Cacheable): Cacheable | undefined => {
  const n = { i: 0 }
  let set: (readonly [string, Expr])[] | undefined
  if (q.kind === 'update') {
    set = []
    for (const [c, v] of q.set) {
      const h = withHoles(v, n)
      if (h === undefined) return undefined
      set.push([c, h])
    }
  }
  const where = q.where === undefined ? undefined : withHoles(q.where, n)
  if (q.where !== undefined && where === undefined) return undefined
  return q.kind === 'update' ? { ...q, set: set!, where } : { ...q, where }
}

/**
 * The node a write's shapes are kept under (its table), or undefined when it is not looked up:
 * an UPDATE or DELETE in its plain form. (A SELECT's is its FROM table, when a builder handed out
 * its column list, `isReused`: a list made afresh could share no part with the statements cached.)
 */
const updateKey = (q: UpdateNode): object | undefined =>
  q.from === undefined && q.orderBy === undefined && q.limit === undefined && q.returning === undefined && q.with === undefined ? q.table : undefined
const deleteKey = (q: DeleteNode): object | undefined =>
  q.using === undefined && q.orderBy === undefined && q.limit === undefined && q.returning === undefined && q.with === undefined ? q.table : undefined

/**
 * The cache of one dialect: `compile(q)` answers a SELECT, UPDATE or DELETE from it (or
 * undefined: compile it the ordinary way). Off for a dialect with any function that is not
 * built in. With `learn` false a shape not met before is not compiled and kept: the answer is
 * undefined (a caller that checks the statement before it is kept looks it up so first).
 *
 * The SELECT lookup is a function of its own, not one shared with the writes: the builder path
 * runs it on every call, and it stays as fast as when it was the only one.
 *
 * @example const cached = shapeCache(self); const c = cached(q) ?? render(self, self.statement(q))
 */
export const shapeCache = (self: Dialect): ((q: { readonly kind?: unknown }, learn?: boolean) => Compiled | undefined) => {
  let on: boolean | undefined
  // One map per kind: the reads and the writes of one table do not take each other's places.
  const selects = new WeakMap<object, Entry[]>()
  const writes = new WeakMap<object, Entry[]>()
  // The values of the statement being looked up (see `Values`). `toDriver` runs while they are
  // read; should it start a lookup of its own (a value's toJSON building a query), that lookup
  // gathers into an array of its own (`inUse`).
  const shared: Values = { v: [], n: 0 }
  let inUse = false
  const adapt = (e: Entry, values: Values): Compiled => {
    const params = e.params.slice()
    const v = values.v
    if (values === shared) inUse = true
    try {
      for (let k = 0; k < e.slots.length; k += 2) {
        const at = e.slots[k]
        try {
          params[at] = self.toDriver(v[e.slots[k + 1]])
        } catch (err) {
          throw atParameter(err, at + 1)
        }
      }
    } finally {
      // The values are the caller's: not kept past the lookup.
      for (let i = 0; i < values.n; i++) v[i] = undefined
      values.n = 0
      if (values === shared) inUse = false
    }
    return { sql: e.sql, params }
  }

  /** Forget the values a failed lookup met (they are the caller's). */
  const clearFound = (found: Values): void => {
    found.v.fill(undefined)
    found.n = 0
  }

  /** A new shape: compile it once with holes for its values, keep it, and answer `q` from it. */
  const learn = (map: WeakMap<object, Entry[]>, key: object, entries: Entry[] | undefined, q: Cacheable): Compiled | undefined => {
    const holed = statementWithHoles(q)
    if (holed === undefined) return undefined
    const c = render(self, self.statement(holed))
    const slots: number[] = []
    const holes = c.holes ?? []
    for (let p = 0; p < holes.length; p++) {
      const h = holes[p]
      if (h === undefined) continue
      if (!h.startsWith(HOLE)) return undefined // a prepared query's own holes: not cached
      slots.push(p, Number(h.slice(HOLE.length)))
    }
    const entry: Entry = { q, sql: c.sql, params: c.params, slots }
    const list = entries ?? []
    if (list.length >= PER_KEY) list.shift()
    list.push(entry)
    if (entries === undefined) map.set(key, list)
    const found: Values = inUse ? { v: [], n: 0 } : shared
    found.n = 0
    sameStatement(q, q, found)
    return adapt(entry, found)
  }

  const select = (q: SelectNode, learning: boolean): Compiled | undefined => {
    const key = q.from
    if (key === undefined || key.kind !== 'table' || !isReused(q.columns)) return undefined
    const entries = selects.get(key)
    if (entries !== undefined) {
      const found: Values = inUse ? { v: [], n: 0 } : shared
      for (let i = 0; i < entries.length; i++) {
        const e = entries[i]
        if (!samePrefix(e.q as SelectNode, q)) continue
        const w = e.q.where
        found.n = 0
        if (w === undefined ? q.where === undefined : q.where !== undefined && sameShape(w, q.where, found)) return adapt(e, found)
      }
      clearFound(found)
    }
    if (!learning) return undefined
    // A new shape is checked once, before it is kept (see output-names.ts).
    uniqueOutputNames(q)
    return learn(selects, key, entries, q)
  }

  const write = (q: UpdateNode | DeleteNode, learning: boolean): Compiled | undefined => {
    const key = q.kind === 'update' ? updateKey(q) : deleteKey(q)
    if (key === undefined) return undefined
    const entries = writes.get(key)
    if (entries !== undefined) {
      const found: Values = inUse ? { v: [], n: 0 } : shared
      for (let i = 0; i < entries.length; i++) {
        const e = entries[i]
        found.n = 0
        if (e.q.kind === q.kind && sameStatement(e.q, q, found)) return adapt(e, found)
      }
      clearFound(found)
    }
    return learning ? learn(writes, key, entries, q) : undefined
  }

  return (node, learning = true) => {
    const kind = node.kind
    if (kind !== 'select' && kind !== 'update' && kind !== 'delete') return undefined
    on ??= allBuiltIn(self)
    if (!on) return undefined
    return kind === 'select' ? select(node as SelectNode, learning) : write(node as UpdateNode | DeleteNode, learning)
  }
}
