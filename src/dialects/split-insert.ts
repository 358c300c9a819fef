/**
 * An INSERT of more values than one statement may bind (`Dialect.maxParams`), cut into
 * statements of as many rows as fit. SQLite, PostgreSQL and MySQL / MariaDB share it through
 * their `insertStatements`; `db.execute` runs the parts as one unit (a transaction of its own, a
 * savepoint inside the caller's), their results added up.
 */
import type { Expr, InsertNode } from '../ast.js'
import type { Dialect } from '../dialect.js'
import type { Fragment, Part } from '../sql.js'
import { sliceValueRows, valueColumnsOf } from '../value-columns.js'

/**
 * Parameters each part leaves unused, for those the counting below cannot see (a dialect that
 * binds something of its own around the rows).
 */
const SPARE = 64

/** The parameters a fragment binds: its values and named holes, nested fragments and query data included. */
const paramsIn = (self: Dialect, f: Fragment): number => {
  let n = 0
  const part = (p: Part): void => {
    if (typeof p === 'string') return
    switch (p._tag) {
      case 'Param': case 'Placeholder': n++; return
      case 'Fragment': for (const q of p.parts) part(q); return
      case 'Embedded': part(self.embedded(p.node)); return
      case 'ValueRows': for (const r of p.rows) for (const c of r) n += cellParams(self, c as Expr); return
      default: return
    }
  }
  part(f)
  return n
}

/** The parameters one cell of a VALUES row binds: a value one, DEFAULT none, an expression what it renders. */
const cellParams = (self: Dialect, c: Expr): number => {
  switch (c.kind) {
    case 'value': case 'param': return 1
    case 'column': case 'literal': return 0
    // DEFAULT among them; a raw fragment's holes are its own (its query data is rendered).
    case 'raw': return paramsIn(self, c.fragment)
    default: return paramsIn(self, self.expr(c))
  }
}

/** `cellParams` of each row, an expression given in several cells rendered once. */
const rowParams = (self: Dialect, rows: readonly (readonly Expr[])[]): number[] => {
  const known = new Map<Expr, number>()
  const of = (c: Expr): number => {
    if (c.kind === 'value') return 1
    let n = known.get(c)
    if (n === undefined) known.set(c, n = cellParams(self, c))
    return n
  }
  return rows.map((r) => {
    let n = 0
    for (const c of r) n += of(c)
    return n
  })
}

/** The parameters of the statement outside its rows: the upsert's assignments and conditions, RETURNING, WITH. */
const otherParams = (self: Dialect, node: InsertNode): number => {
  let n = 0
  const oc = node.onConflict
  if (oc !== undefined) {
    for (const [, v] of oc.update ?? []) n += paramsIn(self, self.expr(v))
    if (oc.where !== undefined) n += paramsIn(self, self.expr(oc.where))
    if (oc.targetWhere !== undefined) n += paramsIn(self, self.expr(oc.targetWhere))
  }
  for (const s of node.returning ?? []) n += paramsIn(self, self.expr(s.expr))
  for (const c of node.with?.ctes ?? []) n += paramsIn(self, self.embedded(c.query))
  return n
}

/** Whether a WITH clause holds an INSERT, UPDATE or DELETE: each part would run it again. */
const writesInWith = (node: InsertNode): boolean =>
  node.with !== undefined && node.with.ctes.some((c) => c.query.kind === 'insert' || c.query.kind === 'update' || c.query.kind === 'delete')

/**
 * The statements an INSERT of VALUES rows is sent as: itself when its parameters fit in
 * `maxParams` (the dialect's by default), else statements of consecutive rows, in the order
 * given, each below the limit (a row whose cells are expressions counts what they bind, and the
 * upsert clause, RETURNING and WITH count in every part). Each part keeps every other field of
 * the node: its table, columns, upsert clause, RETURNING. An INSERT ... SELECT, one of no
 * columns, and one whose WITH writes (each part would write again) stay one statement, as does
 * anything this cannot count (the statement then reports the error it has).
 *
 * The parts are statements of their own: `db.execute` runs them as one unit, all or nothing, and
 * adds their results up (rows in order, counts summed). What differs from one statement:
 * constraints are checked at the end of each part (a row may refer only to rows of its own part
 * or before it), statement triggers run once per part, and a key given twice in two parts of an
 * upsert is updated twice (PostgreSQL refuses a key twice in one `DO UPDATE` statement, which its
 * dialect checks for before splitting).
 *
 * A dialect of one's own splits the same way with `fragments.underLimit` (from
 * `recordkit/dialects/standard`) in its `insertStatements`.
 *
 * @example
 * underLimit(sqlite, pipe(insertInto('t'), values(rows))).length // 2 for 20,000 rows of two columns
 * underLimit(postgres, node, 1000) // parts of 1000 parameters at most
 * extend(standard, (self) => ({ insertStatements: (node) => fragments.underLimit(self, node) }))
 */
export const underLimit = (self: Dialect, node: InsertNode, maxParams: number = self.maxParams): readonly InsertNode[] => {
  const width = node.columns.length
  if (width === 0 || node.query !== undefined || node.rows.length < 2 || writesInWith(node)) return [node]
  // Rows kept as plain values (see src/value-columns.ts) bind one parameter a cell; only
  // reading `node.rows` would make their row arrays.
  const plain = valueColumnsOf(node)
  if (plain !== undefined && plain.count * width <= maxParams - SPARE) return [node]
  let other: number
  let weights: number[] | undefined
  try {
    other = otherParams(self, node)
    if (plain === undefined) weights = rowParams(self, node.rows)
  } catch {
    // Rendering failed: compiling the statement reports it, with the statement.
    return [node]
  }
  const total = weights === undefined ? plain!.count * width : weights.reduce((a, b) => a + b, 0)
  if (total + other <= maxParams) return [node]
  const budget = Math.max(1, maxParams - other - SPARE)
  const out: InsertNode[] = []
  if (weights === undefined) {
    const per = Math.max(1, Math.floor(budget / width))
    for (let i = 0; i < plain!.count; i += per) out.push({ ...node, rows: sliceValueRows(node, plain!, i, i + per) })
    return out
  }
  let from = 0
  let sum = 0
  for (let i = 0; i < weights.length; i++) {
    if (i > from && sum + weights[i] > budget) {
      out.push({ ...node, rows: node.rows.slice(from, i) })
      from = i
      sum = 0
    }
    sum += weights[i]
  }
  out.push({ ...node, rows: node.rows.slice(from) })
  return out
}
