/**
 * Reading through a model: the query terminals (`all`, `first`, `count`, ...) and `find`.
 *
 * Every read decodes what it gets: rows through the model's generated mapper, aggregates
 * through the field's codec. A row that does not match yields a DecodeError naming the
 * column, never a value of the wrong type.
 */
import { left, right, type Either } from 'fp-ts/lib/Either.js'
import { none, some, type Option } from 'fp-ts/lib/Option.js'
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import type { IOEither } from 'fp-ts/lib/IOEither.js'
import type { Expr, SelectNode } from '../ast.js'
import type { Backend, Prepared } from '../compose.js'
import type { Row } from '../driver.js'
import { dbError, type DbError, isDbError, toDbError } from '../errors.js'
import { and, as, col, count as countAll, eq, fn, gt as gtAsc, gte as gteAsc, lt, lte, or, pageIssues, param, val } from '../query.js'
import { supports } from '../dialect.js'
import { over } from '../query/window.js'
import { sql, type Compiled, type Fragment } from '../sql.js'
import { FAIL, fastDecoder, float, integer } from './codecs.js'
import { allOf, encodeField, type ModelCore, ownValue } from './core.js'
import { show } from './decode.js'
import { decodeRows, inPlaceReading, queryReading, type Reading } from './in-place.js'
import { aggregateDecoder, averageOf } from './subqueries.js'
import { havingCondition } from './grouping.js'
import { keyFieldsFor, loadIncludes } from './relations.js'
import { baseQuery, type Computed, type ModelQuery, scopeCondition, selectedFields, toSelect } from './query.js'
import { withFields } from '../objects.js'

type AnyQuery = ModelQuery<any, any, any>

/** Run a body that may throw a DbError (decoding does) as a TaskEither. */
export const attempt = <A>(body: () => Promise<Either<DbError, A>>): TaskEither<DbError, A> => async () => {
  try {
    return await body()
  } catch (e) {
    return left(isDbError(e) ? e : toDbError(e))
  }
}

/** The query's own failure as a task, if it has one. */
const refused = (q: AnyQuery): TaskEither<DbError, never> | undefined => {
  const e = q.error
  return e === undefined ? undefined : () => Promise.resolve(left(e))
}

/**
 * The SQL a model query runs (its main statement; relations load with one more per level).
 *
 * @example
 * compileQuery(db, pipe(User.query, User.where('id', '=', 1))) // Right({ sql: 'SELECT ...', params: [1] })
 */
export const compileQuery = (db: Backend, q: ModelQuery<any, any, any>): Either<DbError, Compiled> => {
  if (q.error !== undefined) return left(q.error)
  try {
    return db.compile(queryReading(db, q, q.includes.length === 0 ? [] : keyFieldsFor(q.core, q.includes)).node)
  } catch (e) {
    return left(toDbError(e))
  }
}

/** Decode raw rows of a query as `reading` says, then load its relations. */
const rowsOf = async (db: Backend, q: AnyQuery, raw: Row[], reading: Reading): Promise<Either<DbError, Record<string, unknown>[]>> => {
  const rows = decodeRows(q.core, reading, raw)
  if (q.includes.length === 0) return right(rows)
  const loaded = await loadIncludes(db, q.core, rows, q.includes)()
  return loaded._tag === 'Left' ? loaded : right(rows)
}

/**
 * The QueryError of reading the rows of a grouped query: its rows are groups, read with
 * `aggregate` (or counted), never rows of the table read as if it were not grouped.
 */
const groupedRows = (q: AnyQuery): DbError =>
  dbError('QueryError', `${q.core.table}: a grouped query (groupBy ${q.group!.join(', ')}) has one row per group: read it with aggregate, count or exists`)

/**
 * Every row of a query, decoded, with its relations loaded.
 */
export const allRows = (db: Backend, q: AnyQuery): TaskEither<DbError, Record<string, unknown>[]> => {
  const no = refused(q)
  if (no !== undefined) return no
  if (q.group !== undefined) return () => Promise.resolve(left(groupedRows(q)))
  return attempt(async () => {
    const reading = queryReading(db, q, q.includes.length === 0 ? [] : keyFieldsFor(q.core, q.includes))
    const r = await db.all(reading.node)()
    return r._tag === 'Left' ? r : rowsOf(db, q, r.right, reading)
  })
}

/** Options of `batches` and `each`. */
export interface BatchOptions {
  /** Rows per batch (one query each). Default 1000. */
  readonly size?: number
  /** The primary-key order the rows come in: `'asc'` (the default) or `'desc'` (Rails' `find_each(order: :desc)`). */
  readonly order?: 'asc' | 'desc'
  /** The key to start from, included: the least read with `'asc'`, the greatest with `'desc'` (one-field keys). */
  readonly start?: unknown
  /** The key to finish at, included (one-field keys). */
  readonly finish?: unknown
}

/**
 * Rows after `last` in primary-key order: `k > ?`; for a composite key
 * `a >= ? AND (a > ? OR (a = ? AND b > ?))`, whose leading `a >= ?` lets an index on the key
 * start where the last batch ended instead of scanning from the first row.
 */
const after = (core: ModelCore, last: Record<string, unknown>, desc: boolean): Expr => {
  const pk = core.primaryKey
  // Descending, the rows before `last`: every comparison turned around.
  const gt = desc ? lt : gtAsc
  const gte = desc ? lte : gteAsc
  const value = (i: number): unknown => {
    const v = last[pk[i].name]
    if (v === null || v === undefined) throw dbError('QueryError', `${core.table}: batches page by the primary key, and a row has NULL in ${pk[i].name}`)
    return encodeField(pk[i], v)
  }
  const column = (i: number): Expr => core.column(pk[i].name)
  const later = (i: number): Expr => (i === pk.length - 1 ? gt(column(i), value(i)) : or(gt(column(i), value(i)), and(eq(column(i), value(i)), later(i + 1))))
  return pk.length === 1 ? later(0) : and(gte(column(0), value(0)), later(0))
}

/**
 * A query's rows in primary-key order, a batch at a time. Each batch is a query of its own
 * (`WHERE key > last key ORDER BY key LIMIT size`), so no connection is held between batches,
 * relations load per batch with one query per level, and it runs inside or outside a
 * transaction alike. The query's `limit` caps the total. Throws DbError while iterating.
 */
export async function* batchRows(db: Backend, q: AnyQuery, options: BatchOptions = {}): AsyncGenerator<Record<string, unknown>[]> {
  if (q.error !== undefined) throw q.error
  if (q.group !== undefined) throw groupedRows(q)
  const core = q.core
  const size = options.size ?? 1000
  if (!Number.isSafeInteger(size) || size < 1) throw dbError('QueryError', `${core.table}: a batch size must be a positive integer, got ${String(size)}`)
  if (q.distinct === true && q.fields !== undefined && core.primaryKey.some((f) => !q.fields!.includes(f.name))) {
    throw dbError('QueryError', `${core.table}: batches page by the primary key, and a distinct query selecting no key has none to page by`)
  }
  if (q.order.length > 0 || q.offset !== undefined) {
    throw dbError('QueryError', `${core.table}: batches follow the primary key; a query with orderBy or offset cannot be read in batches`)
  }
  if (q.limit !== undefined && (!Number.isSafeInteger(q.limit) || q.limit < 0)) throw dbError('QueryError', `${core.table}: a limit must be a non-negative integer, got ${String(q.limit)}`)
  if (core.primaryKey.length === 0) throw dbError('QueryError', `${core.table}: batches need a primary key`)
  const includeKeys = q.includes.length === 0 ? [] : keyFieldsFor(core, q.includes)
  const extra = [...core.primaryKey.map((f) => f.name), ...includeKeys]
  // Key fields read only to page: left out of the rows handed out, as `all` would.
  const pagingOnly = q.fields === undefined ? [] : core.primaryKey.map((f) => f.name).filter((n) => !selectedFields(q, includeKeys).includes(n))
  const word = typeof options.order === 'string' ? options.order.toLowerCase() : options.order
  if (word !== undefined && word !== 'asc' && word !== 'desc') {
    const message = `${core.table}: batches take order 'asc' or 'desc', got ${show(options.order)}`
    throw dbError('ValidationError', message, { issues: [{ path: 'order', rule: 'oneOf', value: options.order, message }] })
  }
  const direction = word ?? 'asc'
  const desc = direction === 'desc'
  const order = core.primaryKey.map((f) => ({ expr: core.column(f.name), direction }))
  const bounds: Expr[] = []
  for (const [name, v, low] of [['start', options.start, !desc], ['finish', options.finish, desc]] as const) {
    if (v === undefined) continue
    if (core.primaryKey.length !== 1) throw dbError('QueryError', `${core.table}: batches take ${name} for a one-field primary key; the key of ${core.table} has ${core.primaryKey.length}`)
    const f = core.primaryKey[0]
    bounds.push((low ? gteAsc : lte)(core.column(f.name), encodeField(f, v)))
  }
  let remaining = q.limit ?? Number.POSITIVE_INFINITY
  let last: Record<string, unknown> | undefined
  while (remaining > 0) {
    const n = Math.min(size, remaining)
    const page: AnyQuery = withFields(q, { where: allOf([q.where, ...bounds, last === undefined ? undefined : after(core, last, desc)]), order, limit: n })
    const reading = queryReading(db, page, extra)
    const raw = await db.all(reading.node)()
    if (raw._tag === 'Left') throw raw.left
    if (raw.right.length === 0) return
    const rows = await rowsOf(db, q, raw.right, reading)
    if (rows._tag === 'Left') throw rows.left
    const end = rows.right[rows.right.length - 1]
    last = Object.fromEntries(core.primaryKey.map((f) => [f.name, end[f.name]]))
    if (pagingOnly.length > 0) for (const r of rows.right) for (const k of pagingOnly) delete r[k]
    yield rows.right
    if (rows.right.length < n) return
    remaining -= rows.right.length
  }
}

/** The first row of a query. */
export const firstRow = (db: Backend, q: AnyQuery): TaskEither<DbError, Option<Record<string, unknown>>> => {
  const t = allRows(db, Object.freeze(withFields(q, { limit: 1 })))
  return () => t().then((r) => (r._tag === 'Left' ? r : right(r.right.length === 0 ? none : some(r.right[0]))))
}

type AggregateName = 'count' | 'sum' | 'avg' | 'min' | 'max'

/**
 * A query reduced to one aggregate value. With LIMIT/OFFSET the aggregate is over the rows
 * the query returns, so the query becomes a subquery; so does a `distinct` query counted (its
 * distinct rows are counted) and a grouped one (its groups are counted; other aggregates of a
 * grouped query are `aggregate`'s).
 */
const aggregateNode = (db: Backend, q: AnyQuery, name: AggregateName, field?: string): SelectNode | Fragment => {
  // AVG as `averageOf` writes it: the double nearest the exact average on every engine.
  const agg = (e: Expr | undefined): Expr => (name === 'count' ? countAll(e) : name === 'avg' ? averageOf(e!) : fn(name, e!))
  const node = toSelect(q)
  const arg = field === undefined ? undefined : q.core.column(field)
  const sliced = q.limit !== undefined || q.offset !== undefined
  const grouped = q.group !== undefined && q.group.length > 0
  if (grouped && name !== 'count') throw dbError('QueryError', `${q.core.table}: ${name} of a grouped query has one value per group: read it with aggregate`)
  if (!sliced && !grouped && !(q.distinct === true && field === undefined)) return { ...node, columns: [as(agg(arg), 'v')], orderBy: [] }
  const inner: SelectNode = grouped
    ? { ...node, columns: q.group!.map((g, i) => as(q.core.column(g), `rk_g${i}`)), groupBy: q.group!.map((g) => q.core.column(g)), having: havingCondition(q), orderBy: sliced ? node.orderBy : [] }
    : q.distinct === true && field === undefined
      ? { ...node, orderBy: sliced ? node.orderBy : [] }
      : { ...node, columns: [as(arg ?? val(1), 'rk_a')] }
  const outer = db.dialect.selection(as(agg(field === undefined ? undefined : col('rk_sub.rk_a')), 'v'))
  return sql`SELECT ${outer} FROM (${db.dialect.compileSelect(inner)}) ${sql.id('rk_sub')}`
}

const single = (db: Backend, q: AnyQuery, name: AggregateName, field?: string): TaskEither<DbError, unknown> => attempt(async () => {
  const r = await db.all(aggregateNode(db, q, name, field))()
  return r._tag === 'Left' ? r : right(r.right[0]?.v ?? null)
})

const asNumber = (table: string, what: string, v: unknown): number => {
  const n = fastDecoder(float)(v)
  if (n === FAIL) throw dbError('DecodeError', `${what} of ${table} is not a number: ${show(v)}`, { issues: [{ path: what, rule: 'number', value: v, message: `expected a number, got ${show(v)}` }] })
  return n as number
}

/** COUNT(*) of a query. */
export const countRows = (db: Backend, q: AnyQuery): TaskEither<DbError, number> => {
  const no = refused(q)
  if (no !== undefined) return no
  const t = single(db, q, 'count')
  return attempt(async () => {
    const r = await t()
    if (r._tag === 'Left') return r
    const n = fastDecoder(integer)(r.right)
    return n === FAIL ? left(dbError('DecodeError', `COUNT(*) of ${q.core.table} is not an integer: ${show(r.right)}`, { issues: [] })) : right(n as number)
  })
}

/**
 * SUM/MIN/MAX of a field, decoded with the field's codec exactly as the field is in a row: SUM
 * over integers, NUMERIC/DECIMAL text on PostgreSQL and MariaDB and a bigint on SQLite beyond
 * 2^53, reads as a number field only where it is exact (see `fastDecoder`), else DecodeError.
 *
 * @example fieldAggregate(db, Invoice.query, 'sum', 'total') // Right('1234.50') for a decimal field
 */
export const fieldAggregate = (db: Backend, q: AnyQuery, name: 'sum' | 'min' | 'max', field: string): TaskEither<DbError, unknown> => {
  const f = q.core.byName.get(field)
  if (f === undefined) return () => Promise.resolve(left(dbError('QueryError', `${q.core.table} has no field "${field}"`)))
  const no = refused(q)
  if (no !== undefined) return no
  const t = single(db, q, name, field)
  const d = fastDecoder(f.codec)
  return attempt(async () => {
    const r = await t()
    if (r._tag === 'Left' || r.right === null) return r
    const v = d(r.right)
    if (v === FAIL) return left(dbError('DecodeError', `${name}(${field}) of ${q.core.table} does not decode as ${f.codec.name}: ${show(r.right)}`, { issues: [{ path: field, rule: f.codec.name, value: r.right, message: `expected ${f.codec.name}` }] }))
    return right(v)
  })
}

/** AVG of a field as a number: the double nearest the exact average, on every engine (see `averageOf`). */
export const average = (db: Backend, q: AnyQuery, field: string): TaskEither<DbError, number | null> => {
  if (!q.core.byName.has(field)) return () => Promise.resolve(left(dbError('QueryError', `${q.core.table} has no field "${field}"`)))
  const no = refused(q)
  if (no !== undefined) return no
  const t = single(db, q, 'avg', field)
  return attempt(async () => {
    const r = await t()
    return r._tag === 'Left' || r.right === null ? (r as Either<DbError, null>) : right(asNumber(q.core.table, `avg(${field})`, r.right))
  })
}

/** Whether a query has any row (none when it is limited to none: `limit(0)`). */
export const anyRow = (db: Backend, q: AnyQuery): TaskEither<DbError, boolean> => attempt(async () => {
  if (q.error !== undefined) return left(q.error)
  if (q.limit === 0) return right(false)
  // A grouped query has a row when a group passes its `having`.
  if (q.group !== undefined && q.group.length > 0) {
    const n = await countRows(db, q)()
    return n._tag === 'Left' ? n : right(n.right > 0)
  }
  const r = await db.all({ ...toSelect(q), columns: [as(val(1), 'one')], orderBy: [], limit: 1 })()
  return r._tag === 'Left' ? r : right(r.right.length > 0)
})

/** One field of every row. */
export const pluckField = (db: Backend, q: AnyQuery, field: string): TaskEither<DbError, unknown[]> => {
  // A computed column (`withCount`'s `ordersCount`, `computed`) is plucked as it is read with rows.
  const computed = q.core.byName.has(field) ? undefined : q.computed?.find((c) => c.name === field)
  if (!q.core.byName.has(field) && computed === undefined) return () => Promise.resolve(left(dbError('QueryError', `${q.core.table} has no field "${field}"`)))
  const t = allRows(db, Object.freeze(withFields(q, computed === undefined ? { fields: [field], includes: [], computed: undefined } : { fields: [], includes: [], computed: [computed] })))
  return () => t().then((r) => (r._tag === 'Left' ? r : right(r.right.map((row) => row[field]))))
}

/**
 * Several fields of every row, as tuples in the order the fields are given, each value decoded
 * with its field's codec (Rails' `pluck(:a, :b)`, Django's `values_list`).
 *
 * @example pluckFields(db, pipe(Item.query, Item.orderBy('id')), ['name', 'seen']) // Right([['Apple', Date], ...])
 */
export const pluckFields = (db: Backend, q: AnyQuery, fields: readonly string[]): TaskEither<DbError, unknown[][]> => {
  const unknown = fields.find((f) => !q.core.byName.has(f))
  if (unknown !== undefined) return () => Promise.resolve(left(dbError('QueryError', `${q.core.table} has no field "${unknown}"`)))
  if (fields.length === 0) return () => Promise.resolve(left(dbError('QueryError', `${q.core.table}: pluckMany needs at least one field`)))
  const t = allRows(db, Object.freeze(withFields(q, { fields: [...new Set(fields)], includes: [], computed: undefined })))
  return () => t().then((r) => (r._tag === 'Left' ? r : right(r.right.map((row) => fields.map((f) => row[f])))))
}

/** One page of a query's rows, with the total count. */
export interface Page<A> {
  readonly rows: A[]
  readonly total: number
  /** 1-based. */
  readonly page: number
  readonly perPage: number
  readonly pages: number
}

/** Which page `paginate` reads: a 1-based page number and size, or a LIMIT and OFFSET. */
export type PageSpec = { readonly page: number; readonly perPage: number } | { readonly limit: number; readonly offset: number }

const TOTAL = 'rk_total'


/**
 * A page of rows and the total. Where the dialect has window functions the total is read with
 * the rows, `COUNT(*) OVER ()` (one statement, plus one per relation level); only a page past
 * the last one, which has no row to carry it, costs a second statement (COUNT). Without
 * window functions: COUNT, then the rows.
 */
export const pageOf = (db: Backend, q: AnyQuery, spec: PageSpec): TaskEither<DbError, Page<Record<string, unknown>>> => {
  const issues = pageIssues(spec)
  if (issues.length > 0) return async () => left(dbError('ValidationError', `${q.core.table}: paginate: ${issues.map((i) => i.message).join('; ')}`, { issues }))
  const size = 'page' in spec ? spec.perPage : spec.limit
  const offset = 'page' in spec ? (spec.page - 1) * size : spec.offset
  const page = (rows: Record<string, unknown>[], total: number): Page<Record<string, unknown>> =>
    ({ rows, total, page: Math.floor(offset / size) + 1, perPage: size, pages: Math.ceil(total / size) })
  const counted = countRows(db, Object.freeze(withFields(q, { limit: undefined, offset: undefined, order: [] })))
  // A distinct query's total is of its distinct rows: a window counts the rows before DISTINCT.
  if (!supports(db.dialect, 'windowFunction') || q.distinct === true) {
    const rows = allRows(db, Object.freeze(withFields(q, { limit: size, offset })))
    return async () => {
      const n = await counted()
      if (n._tag === 'Left') return n
      const r = await rows()
      return r._tag === 'Left' ? r : right(page(r.right, n.right))
    }
  }
  const total: Computed = { name: TOTAL, expr: over(countAll()), decode: aggregateDecoder(integer, `${q.core.table}.COUNT(*) OVER ()`) }
  const rows = allRows(db, Object.freeze(withFields(q, { limit: size, offset, computed: [...(q.computed ?? []), total] })))
  return async () => {
    const r = await rows()
    if (r._tag === 'Left') return r
    if (r.right.length === 0 && offset > 0) {
      const n = await counted()
      return n._tag === 'Left' ? n : right(page([], n.right))
    }
    const n = r.right.length === 0 ? 0 : (r.right[0][TOTAL] as number)
    for (const row of r.right) delete row[TOTAL]
    return right(page(r.right, n))
  }
}

// ---------------------------------------------------------------- find

/** The primary-key condition of a row or key value. */
export const keyCondition = (core: ModelCore, key: unknown): Expr => {
  if (core.primaryKey.length === 1) {
    const f = core.primaryKey[0]
    const v = typeof key === 'object' && key !== null && !(key instanceof Date) && !(key instanceof Uint8Array) ? ownValue(key as Record<string, unknown>, f.name) : key
    return eq(core.column(f.name), encodeField(f, v))
  }
  return allOf(core.primaryKey.map((f) => eq(core.column(f.name), encodeField(f, ownValue(key as Record<string, unknown>, f.name)))))!
}

/** The key of a row (a value for one key field, an object for several). */
export const keyOfRow = (core: ModelCore, row: Readonly<Record<string, unknown>>): unknown =>
  core.primaryKey.length === 1 ? row[core.primaryKey[0].name] : Object.fromEntries(core.primaryKey.map((f) => [f.name, row[f.name]]))

/**
 * `find` for a model: the SELECT by primary key is compiled once per backend and run as a
 * prepared query; the argument is encoded by the key codec unless it is the identity. `findNow`
 * is the same query on the backend's synchronous path.
 */
export const finder = (core: ModelCore) => {
  const cache = new WeakMap<Backend, Prepared<Record<string, unknown>>>()
  const names = core.primaryKey.map((_, i) => `k${i}`)
  const node: SelectNode = {
    ...toSelect(baseQuery(core)),
    where: allOf([...core.primaryKey.map((f, i) => eq(core.column(f.name), param(names[i]))), scopeCondition(core, {})]),
  }
  const fields = core.fields.map((f) => f.name)
  const identity = core.primaryKey.map((f) => f.codec.encode.name === 'identity')
  const single = core.primaryKey.length === 1
  const arg = (f: number, v: unknown) => (identity[f] ? v : encodeField(core.primaryKey[f], v))
  // The last backend asked for, before the WeakMap: most programs use one.
  let lastDb: Backend | undefined
  let lastPrepared: Prepared<Record<string, unknown>> | undefined
  const preparedOn = (db: Backend): Prepared<Record<string, unknown>> => {
    if (db === lastDb) return lastPrepared!
    let p = cache.get(db)
    if (p === undefined) {
      // The row is read in place where it can be (see `inPlaceReading`) and decoded by the
      // prepared query itself, on the synchronous path where there is one.
      const reading = inPlaceReading(db, core, node, fields, undefined, true)
      p = db.prepare(reading.node, { decode: (rows: Row[]) => decodeRows(core, reading, rows) })
      cache.set(db, p)
    }
    lastDb = db
    lastPrepared = p
    return p
  }
  const argsOf = (key: unknown): Record<string, unknown> =>
    single ? { k0: arg(0, key) } : Object.fromEntries(core.primaryKey.map((f, i) => [names[i], arg(i, ownValue(key as Record<string, unknown>, f.name))]))
  const find = (db: Backend, key: unknown): TaskEither<DbError, Option<Record<string, unknown>>> => {
    const refused = keyProblem(core, key)
    if (refused !== undefined) return () => Promise.resolve(left(refused))
    return preparedOn(db).first(argsOf(key))
  }
  // The same prepared query on the backend's synchronous path (better-sqlite3, DuckDB).
  const findNow = (db: Backend, key: unknown): IOEither<DbError, Option<Record<string, unknown>>> => {
    const refused = keyProblem(core, key)
    if (refused !== undefined) return () => left(refused)
    const now = preparedOn(db).sync
    if (now === undefined) return () => left(dbError('ConnectionError', `${core.table}.findNow: ${db.driver.name} has no synchronous path; use find`))
    return now.first(argsOf(key))
  }
  return { find, findNow }
}

/**
 * Why `key` is not a key of the model (a ValidationError naming the missing part), or undefined.
 * A key field given `undefined`, or a composite key that is not an object, would be bound as NULL
 * and find nothing: a missing input is reported instead. `null` stays a value (it finds nothing).
 *
 * @example keyProblem(Pair.core, { a: 1 }) // a ValidationError naming b
 */
export const keyProblem = (core: ModelCore, key: unknown): DbError | undefined => {
  const pk = core.primaryKey
  if (pk.length === 1) return key === undefined ? missingKey(core, pk[0].name) : undefined
  if (typeof key !== 'object' || key === null || Array.isArray(key)) {
    const names = pk.map((f) => f.name).join(', ')
    return dbError('ValidationError', `${core.table}: a key is an object of ${names}, got ${show(key)}`, {
      issues: [{ path: '', rule: 'key', value: key, message: `a key of ${core.table} is an object of ${names}` }],
    })
  }
  const f = pk.find((k) => ownValue(key as Record<string, unknown>, k.name) === undefined)
  return f === undefined ? undefined : missingKey(core, f.name)
}

const missingKey = (core: ModelCore, name: string): DbError =>
  dbError('ValidationError', `${core.table}: the key's ${name} is undefined`, {
    issues: [{ path: name, rule: 'defined', value: undefined, message: `${name} is undefined in the key` }],
  })

/** The NotFound error of a key. */
export const notFound = (core: ModelCore, key: unknown): DbError =>
  dbError('NotFound', `no ${core.table} row with key ${show(key)}`, { table: core.table, key })
