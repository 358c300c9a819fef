/**
 * Long `in` lists of model conditions, bound the way each engine takes any number of values.
 *
 * `where(field, 'in', list)` binds one parameter per item, and every engine caps the parameters
 * of a statement (SQLite 32,766, PostgreSQL 65,535, MySQL and MariaDB 65,535 placeholders): a list
 * of ids read from a file or another system fails with `too many SQL variables`. Past `LONG_LIST`
 * items, a model query is therefore run with the list in the engine's own form of "any number of
 * values", with the same results (an IN keeps no order, and NULL in the list means what it meant):
 *
 * - SQLite: `col IN (SELECT value FROM json_each(?))`, the list as one JSON array parameter;
 * - PostgreSQL: `col = ANY ($1)`, one array parameter (as relation loading binds its keys);
 * - MySQL and MariaDB: the values written into the text as literals (no placeholder to count):
 *   integers as digits, other numbers as DOUBLE literals (`1.5e0`, the type a bound number has),
 *   text as `_utf8mb4 X'...'` (hex: no escaping to get wrong, whatever the sql_mode), bytes as
 *   `X'...'`, each value first converted as the dialect binds it (dates as their text).
 *
 * A list holding a value one of these forms cannot carry exactly (bytes in SQLite's JSON, an
 * object) is left as it is. Other engines (DuckDB, a custom dialect) keep the list as it is.
 * The rewrite happens where a model query meets its backend (`forEngine`), so the query value
 * itself stays the same for every engine, and `compileQuery` shows the SQL that runs.
 */
import type { Expr, InNode } from '../ast.js'
import type { Backend } from '../compose.js'
import { supports } from '../dialect.js'
import { eq, not, raw } from '../query.js'
import { any } from '../query/comparison.js'
import { type Fragment, fromParts, type Part, sql } from '../sql.js'
import type { ModelQuery } from './query.js'

/** Lists longer than this are bound in the engine's own form (see the module comment). */
export const LONG_LIST = 1000

/** How many long lists model conditions have built: none, and no query is walked. */
let made = 0

/**
 * Note that a model condition holds a list of `n` items (called where the condition is built).
 * @example noteList(ids.length)
 */
export const noteList = (n: number): void => {
  if (n > LONG_LIST) made++
}

const isPlain = (x: unknown): x is Record<string, unknown> => {
  if (typeof x !== 'object' || x === null) return false
  const p = Object.getPrototypeOf(x)
  return p === Object.prototype || p === null
}

/** A bigint or a finite number as JSON and SQL digits; undefined for anything else. */
const numberText = (v: unknown): string | undefined =>
  typeof v === 'bigint' ? v.toString() : typeof v === 'number' && Number.isFinite(v) ? String(v) : undefined

/** SQLite: the items as one JSON array (values converted as the dialect binds them); undefined when one cannot be JSON exactly. */
const sqliteList = (db: Backend, items: readonly unknown[]): Fragment | undefined => {
  const out: string[] = []
  for (const item of items) {
    const v = item === null ? null : db.dialect.toDriver(item)
    if (v === null) out.push('null')
    else if (typeof v === 'string') out.push(JSON.stringify(v))
    else {
      const n = numberText(v)
      if (n === undefined) return undefined
      out.push(n)
    }
  }
  return sql`(SELECT value FROM json_each(${`[${out.join(',')}]`}))`
}

/** MySQL and MariaDB: the items as literals; undefined when one has no exact literal here. */
const mysqlList = (db: Backend, items: readonly unknown[]): Fragment | undefined => {
  const out: string[] = []
  for (const item of items) {
    if (typeof item === 'bigint') {
      out.push(item.toString())
      continue
    }
    const v = item === null ? null : db.dialect.toDriver(item)
    if (v === null) out.push('NULL')
    else if (typeof v === 'number') {
      if (!Number.isFinite(v)) return undefined
      out.push(Number.isSafeInteger(v) ? String(v) : v.toExponential())
    } else if (typeof v === 'string') out.push(`_utf8mb4 X'${Buffer.from(v, 'utf8').toString('hex')}'`)
    else if (v instanceof Uint8Array) out.push(`X'${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')}'`)
    else return undefined
  }
  return fromParts(['(', out.join(', '), ')'])
}

/** The engine's form of one long IN list, or undefined to keep it as it is. */
const longIn = (db: Backend, node: InNode, items: readonly unknown[]): Expr | undefined => {
  const name = db.dialect.name
  if (name === 'postgres' && supports(db.dialect, 'quantifiedArray')) {
    const e = eq(node.expr, any(items))
    return node.negated ? not(e) : e
  }
  const list = name === 'sqlite' ? sqliteList(db, items) : name === 'mysql' || name === 'mariadb' ? mysqlList(db, items) : undefined
  if (list === undefined) return undefined
  const parts: Part[] = [sql`${node.expr}`, node.negated ? ' NOT IN ' : ' IN ', list]
  return raw(fromParts(parts))
}

/** The values of a list of bound values (`kind: 'value'` items), or undefined when it holds anything else. */
const boundValues = (list: readonly Expr[]): unknown[] | undefined => {
  const out: unknown[] = new Array(list.length)
  for (let i = 0; i < list.length; i++) {
    const x = list[i]
    if (x.kind !== 'value') return undefined
    out[i] = x.value
  }
  return out
}

/** `x` with its long IN lists in the engine's form; `x` itself (same object) where nothing changed. */
const rewrite = (db: Backend, x: unknown): unknown => {
  if (Array.isArray(x)) {
    let copy: unknown[] | undefined
    for (let i = 0; i < x.length; i++) {
      const y = rewrite(db, x[i])
      if (y !== x[i]) (copy ??= [...x])[i] = y
    }
    return copy === undefined ? x : Object.freeze(copy)
  }
  if (!isPlain(x)) return x
  // Bound values and literals are data, never query structure.
  if (x.kind === 'value' || x.kind === 'literal') return x
  if (x.kind === 'in' && Array.isArray(x.list) && x.list.length > LONG_LIST) {
    const items = boundValues(x.list as readonly Expr[])
    let e: Expr | undefined
    try {
      e = items === undefined ? undefined : longIn(db, x as unknown as InNode, items)
    } catch {
      // A value the dialect cannot bind (NaN): the list stays as it is, and compiling it reports
      // the value's error as a Left, as for a short list.
      e = undefined
    }
    if (e !== undefined) return e
  }
  let copy: Record<string, unknown> | undefined
  for (const k of Object.keys(x)) {
    const v = x[k]
    if (typeof v !== 'object' || v === null) continue
    const y = rewrite(db, v)
    if (y !== v) (copy ??= { ...x })[k] = y
  }
  return copy === undefined ? x : Object.freeze(copy)
}

/**
 * An expression with its long IN lists in the engine's form (see the module comment); the same
 * expression when it has none.
 *
 * @example exprForEngine(db, conditionOf(User.core, ['id', 'in', ids]))
 */
export const exprForEngine = <E>(db: Backend, e: E): E => (made === 0 || e === undefined ? e : (rewrite(db, e) as E))

/**
 * A model query with the long IN lists of its conditions, computed columns and CTEs in the
 * engine's form (see the module comment); the same query when it has none.
 *
 * @example pipe(User.query, User.where('id', 'in', ids), (q) => forEngine(db, q))
 */
export const forEngine = <Q extends ModelQuery<any, any, any>>(db: Backend, q: Q): Q => {
  if (made === 0) return q
  const where = rewrite(db, q.where)
  const computed = rewrite(db, q.computed)
  const ctes = rewrite(db, q.ctes)
  if (where === q.where && computed === q.computed && ctes === q.ctes) return q
  return Object.freeze({ ...q, where, computed, ctes }) as Q
}
