/**
 * Cursor (keyset) pages of a model query: Laravel's `cursorPaginate`, Prisma's `cursor`. Each
 * page is read after the last row of the page before, compared on the query's order (the primary
 * key added to break ties), so rows inserted or deleted meanwhile neither shift a page nor make
 * it repeat or skip a row, and a deep page costs what the first does (no OFFSET).
 */
import { left, right } from 'fp-ts/lib/Either.js'
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import type { OrderItem } from '../ast.js'
import { type DbError, dbError, toDbError } from '../errors.js'
import type { ModelQuery } from './query.js'
import { validationError } from './validate.js'

/** One page read by `cursorPaginate`: its rows, and the cursor of the next page (null on the last). */
export interface CursorPage<A> {
  readonly rows: A[]
  /** Give it as `cursor` to read the next page; null when no row follows. */
  readonly nextCursor: string | null
}

/** Which page `cursorPaginate` reads: `perPage` rows after `cursor` (the first page without one). */
export interface CursorSpec {
  readonly perPage: number
  readonly cursor?: string | null
}

type Q = ModelQuery<any, any, any>
type Step = { readonly field: string; readonly direction: 'asc' | 'desc' }

/** What cursorPaginate needs of the model: its conditions and its read (late-bound, so overrides apply). */
export interface CursorModel {
  readonly cond: (field: string, op: string, value: unknown) => unknown
  readonly and: (...conditions: unknown[]) => unknown
  readonly or: (...conditions: unknown[]) => unknown
  readonly where: (condition: unknown) => (q: Q) => Q
  readonly all: (db: unknown) => (q: Q) => TaskEither<DbError, Record<string, unknown>[]>
}

/** The fields a query's order names, with the primary key fields it lacks after them. */
const stepsOf = (q: Q): Step[] => {
  const core = q.core
  const steps: Step[] = []
  for (const item of q.order as readonly OrderItem[]) {
    const field = core.fields.find((f) => core.column(f.name) === item.expr)
    if (field === undefined) throw dbError('QueryError', `${core.table}: cursorPaginate orders by fields only; an order by an expression or a computed column cannot be a cursor`)
    if (item.nulls !== undefined) throw dbError('QueryError', `${core.table}: cursorPaginate cannot page an order with a NULLS placement (${field.name})`)
    steps.push({ field: field.name, direction: item.direction === 'desc' ? 'desc' : 'asc' })
  }
  const last = steps.length === 0 ? 'asc' : steps[steps.length - 1].direction
  for (const k of core.primaryKey) if (!steps.some((s) => s.field === k.name)) steps.push({ field: k.name, direction: last })
  return steps
}

/** The order a cursor was made for (`createdAt desc,id desc`): a cursor of another order is refused. */
const orderText = (steps: readonly Step[]): string => steps.map((s) => `${s.field} ${s.direction}`).join(',')

/** A row's values of the steps' fields, and the order, as cursor text (base64url JSON; Dates and bigints tagged). */
const encodeCursor = (table: string, steps: readonly Step[], row: Record<string, unknown>): string => {
  const values = steps.map((s) => {
    const v = row[s.field]
    if (v === undefined) throw dbError('QueryError', `${table}: cursorPaginate needs the order's fields in the rows; select ${s.field} too`)
    if (v === null) throw dbError('QueryError', `${table}: a row's ${s.field} is NULL, which no cursor can follow: order by fields that hold no NULL`)
    return v instanceof Date ? { d: v.toISOString() } : typeof v === 'bigint' ? { b: v.toString() } : v
  })
  return Buffer.from(JSON.stringify({ o: orderText(steps), v: values }), 'utf8').toString('base64url')
}

/** The values a cursor holds, one per step; anything else is a ValidationError at `cursor`. */
const decodeCursor = (table: string, steps: readonly Step[], cursor: string): unknown[] => {
  const bad = () => validationError(table, [{ path: 'cursor', rule: 'cursor', value: cursor, message: 'not a cursor of this query (give the nextCursor a page of the same order returned)' }])
  let parsed: unknown
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
  } catch {
    throw bad()
  }
  const made = parsed as { o?: unknown; v?: unknown } | null
  if (made === null || typeof made !== 'object' || made.o !== orderText(steps) || !Array.isArray(made.v) || made.v.length !== steps.length) throw bad()
  return made.v.map((v: unknown) => {
    if (v !== null && typeof v === 'object') {
      const o = v as { d?: unknown; b?: unknown }
      if (typeof o.d === 'string' && !Number.isNaN(Date.parse(o.d))) return new Date(o.d)
      if (typeof o.b === 'string' && /^-?\d+$/.test(o.b)) return BigInt(o.b)
      throw bad()
    }
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v
    throw bad()
  })
}

/**
 * The rows after a cursor: for steps a, b, c, `a > x OR (a = x AND b > y) OR (a = x AND b = y AND
 * c > z)`, each comparison `<` for a descending step, so mixed directions page as well.
 */
const afterCondition = (m: CursorModel, steps: readonly Step[], values: readonly unknown[]): unknown =>
  m.or(...steps.map((s, i) => m.and(
    ...steps.slice(0, i).map((e, j) => m.cond(e.field, '=', values[j])),
    m.cond(s.field, s.direction === 'desc' ? '<' : '>', values[i]),
  )))

/**
 * One page of a query's rows in its order, after `cursor`, and the cursor of the next page: the
 * order's fields and then the primary key's, compared with the last row read. `perPage + 1` rows
 * are read to know whether another page follows; no COUNT runs.
 *
 * @example
 * const page1 = await run(pipe(Task.query, Task.orderBy('createdAt', 'desc'), Task.cursorPaginate(db, { perPage: 20 })))
 * const page2 = await run(pipe(Task.query, Task.orderBy('createdAt', 'desc'), Task.cursorPaginate(db, { perPage: 20, cursor: page1.nextCursor })))
 */
export const cursorPage = (m: CursorModel, db: unknown, spec: CursorSpec, q: Q): TaskEither<DbError, CursorPage<Record<string, unknown>>> => {
  const table = q.core.table
  let read: Q
  let steps: Step[]
  try {
    if (!Number.isSafeInteger(spec.perPage) || spec.perPage < 1) {
      throw validationError(table, [{ path: 'perPage', rule: 'positiveInteger', value: spec.perPage, message: 'perPage must be a whole number of at least 1' }])
    }
    if (q.limit !== undefined || q.offset !== undefined) throw dbError('QueryError', `${table}: cursorPaginate reads its own LIMIT and no OFFSET; leave limit and offset out of the query`)
    if (q.group !== undefined && q.group.length > 0) throw dbError('QueryError', `${table}: cursorPaginate cannot page a grouped query`)
    steps = stepsOf(q)
    const ordered: Q = Object.freeze({ ...q, order: steps.map((s) => ({ expr: q.core.column(s.field), direction: s.direction })), limit: spec.perPage + 1 })
    read = spec.cursor === undefined || spec.cursor === null ? ordered : m.where(afterCondition(m, steps, decodeCursor(table, steps, spec.cursor)))(ordered)
  } catch (e) {
    return () => Promise.resolve(left(toDbError(e)))
  }
  const rows = m.all(db)(read)
  return () => rows().then((r) => {
    if (r._tag === 'Left') return r
    const page = r.right.slice(0, spec.perPage)
    try {
      const nextCursor = r.right.length > spec.perPage ? encodeCursor(table, steps, page[page.length - 1]) : null
      return right({ rows: page, nextCursor })
    } catch (e) {
      return left(toDbError(e))
    }
  })
}
