/**
 * Sharding by key as a composition: `shard(backends, keyOf)` is one Backend over several,
 * routing each statement by the value of its table's shard key.
 *
 * - An INSERT goes to the shard of its rows' key (all rows of one INSERT must share a shard).
 * - A SELECT, UPDATE or DELETE whose WHERE fixes the key (`key = v`, `key IN (...)`, either
 *   inside a top-level AND) goes to that shard (a SELECT to those shards).
 * - A SELECT without the key is scatter-gather: it runs on every shard at once and the rows are
 *   merged, ORDER BY (on selected columns) and LIMIT/OFFSET applied over the whole; GROUP BY,
 *   DISTINCT and aggregates are refused (each shard would answer for its own rows only).
 * - Raw SQL and compiled statements carry no key: a read is scatter-gather (rows concatenated),
 *   DDL runs on every shard, any other write is refused.
 * - UPDATE and DELETE without the key, writes spanning shards and cross-shard transactions are
 *   refused with a typed error before anything runs: no statement half-applies across shards.
 *   Transactions run on one shard: `db.forKey(key).transaction(...)`.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Option } from 'fp-ts/lib/Option.js'
import { none, some } from 'fp-ts/lib/Option.js'
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import type { Expr, OrderItem, QueryNode, SelectNode } from '../ast.js'
import { type Backend, type Executable, extend, wrap } from '../compose.js'
import type { Compilable } from '../dialect.js'
import type { QueryResult, Row } from '../driver.js'
import { dbError, type DbError, unsupportedError } from '../errors.js'
import type { Compiled } from '../sql.js'
import { isReplicaRead } from './replicas.js'

/** Options of `shard`. */
export interface ShardOptions {
  /** The shard (0 to shards - 1) of a key value. Default: a stable hash of the value's text. */
  readonly route?: (key: unknown, shards: number) => number
}

/** One backend over several shards, with the shards themselves. */
export interface ShardedBackend extends Backend {
  readonly shards: readonly Backend[]
  /** The shard index of a key value. */
  readonly shardOf: (key: unknown) => number
  /** The backend of the shard that holds `key`: for transactions and statements without a key. */
  readonly forKey: (key: unknown) => Backend
}

/**
 * FNV-1a of a key's text, modulo the shard count: `1`, `1n` and `'1'` land on the same shard.
 *
 * @example hashRoute('acme', 2) // 0 or 1, the same on every run
 */
export const hashRoute = (key: unknown, shards: number): number => {
  const text = key instanceof Date ? key.toISOString() : String(key)
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return h % shards
}

const AGGREGATES = new Set(['count', 'sum', 'avg', 'min', 'max', 'array_agg', 'string_agg', 'group_concat', 'json_agg', 'jsonb_agg', 'json_arrayagg', 'json_objectagg', 'bool_and', 'bool_or', 'every', 'stddev', 'variance'])
const DDL = /^\s*(CREATE|ALTER|DROP|TRUNCATE|COMMENT|GRANT|REVOKE)\b/i

const isCompiled = (q: unknown): q is Compiled => typeof (q as Compiled).sql === 'string' && Array.isArray((q as Compiled).params)
const isNode = (q: unknown): q is QueryNode => typeof (q as { kind?: unknown }).kind === 'string'

const hasAggregate = (e: Expr | undefined): boolean => {
  if (e === undefined) return false
  switch (e.kind) {
    case 'func': return AGGREGATES.has(e.name.toLowerCase()) || e.args.some(hasAggregate)
    case 'window': return true
    case 'binary': return hasAggregate(e.left) || hasAggregate(e.right)
    case 'and': case 'or': return e.items.some(hasAggregate)
    case 'not': return hasAggregate(e.expr)
    case 'cast': return hasAggregate(e.expr)
    case 'case': return e.whens.some((w) => hasAggregate(w.when) || hasAggregate(w.then)) || hasAggregate(e.else) || hasAggregate(e.subject)
    default: return false
  }
}

const INSERT_HEAD = /^\s*INSERT\s+INTO\s+((?:"(?:[^"]|"")*"|`(?:[^`]|``)*`|[\w$]+)(?:\s*\.\s*(?:"(?:[^"]|"")*"|`(?:[^`]|``)*`|[\w$]+))?)\s*\(([^)]*)\)\s*VALUES\s*/i

const unquote = (name: string): string => {
  const t = name.trim()
  const q = t[0]
  return q === '"' || q === '`' ? t.slice(1, -1).split(q + q).join(q) : t
}

/**
 * An INSERT compiled by a recordkit dialect, read back: its table, and for each row the index
 * of the parameter that gives each column (undefined where the cell is not a lone placeholder,
 * e.g. DEFAULT). Undefined when the text is not such an INSERT.
 */
const compiledInsert = (text: string): { readonly table: string; readonly columns: readonly string[]; readonly rows: readonly (readonly (number | undefined)[])[] } | undefined => {
  const head = INSERT_HEAD.exec(text)
  if (head === null) return undefined
  const table = unquote(head[1].split('.').pop() ?? '')
  const columns = head[2].split(',').map(unquote)
  const rows: (number | undefined)[][] = []
  let i = head[0].length
  let positional = 0
  while (text[i] === '(') {
    const close = text.indexOf(')', i)
    if (close < 0) return undefined
    const cells = text.slice(i + 1, close).split(',').map((c) => c.trim())
    if (cells.length !== columns.length) return undefined
    rows.push(cells.map((c) => {
      const dollar = /^\$(\d+)$/.exec(c)
      if (dollar !== null) return Number(dollar[1]) - 1
      if (c === '?') return positional++
      if (c.includes('?')) positional = Number.NaN // a placeholder we cannot place: no key from this text
      return undefined
    }))
    i = close + 1
    while (text[i] === ' ' || text[i] === ',' || text[i] === '\n') i++
  }
  return rows.length === 0 || Number.isNaN(positional) ? undefined : { table, columns, rows }
}

/** The key values a condition fixes for `column` of `table` (or alias), if it fixes any. */
const keysIn = (e: Expr | undefined, column: string, names: readonly string[]): unknown[] | undefined => {
  if (e === undefined) return undefined
  const isKey = (x: Expr) => x.kind === 'column' && x.name === column && (x.table === undefined || names.includes(x.table))
  if (e.kind === 'binary' && e.op === '=') {
    if (isKey(e.left) && e.right.kind === 'value') return [e.right.value]
    if (isKey(e.right) && e.left.kind === 'value') return [e.left.value]
  }
  if (e.kind === 'in' && !e.negated && isKey(e.expr) && Array.isArray(e.list) && e.list.length > 0 && e.list.every((x: Expr) => x.kind === 'value')) {
    return e.list.map((x: Expr) => (x as { value: unknown }).value)
  }
  if (e.kind === 'and') {
    for (const item of e.items) {
      const k = keysIn(item, column, names)
      if (k !== undefined) return k
    }
  }
  return undefined
}

/** Where a statement goes. */
type Plan =
  | { readonly to: 'shards'; readonly shards: readonly number[] }
  | { readonly to: 'scatter'; readonly node?: SelectNode }
  | { readonly to: 'all' }

const valueOf = (x: Expr | undefined): { ok: true; value: unknown } | { ok: false } => (x !== undefined && x.kind === 'value' ? { ok: true, value: x.value } : { ok: false })

const compare = (a: unknown, b: unknown): number => {
  if (a === b) return 0
  if (a instanceof Date && b instanceof Date) return a.getTime() - b.getTime()
  if ((typeof a === 'number' || typeof a === 'bigint') && (typeof b === 'number' || typeof b === 'bigint')) return a < b ? -1 : a > b ? 1 : 0
  const x = String(a)
  const y = String(b)
  return x < y ? -1 : x > y ? 1 : 0
}

/**
 * One backend over several: each statement goes to the shard of its table's shard key
 * (`keyOf(table)` names that column), reads without a key gather from every shard. The
 * result is the first shard's backend with its functions wrapped, plus `forKey` and `shards`.
 *
 * @example
 * const db = shard([eu, us], (table) => (table === 'orders' ? 'tenant' : undefined))
 * await run(db.execute(pipe(insertInto('orders'), values({ tenant: 'acme', total: 5 })))) // acme's shard
 * await run(db.all(pipe(from('orders'), where({ tenant: 'acme' }))))                   // acme's shard
 * await run(db.all(pipe(from('orders'), orderBy('total'), limit(10))))                  // every shard, merged
 * await run(db.forKey('acme').transaction((tx) => ...))                                 // one shard's transaction
 */
export const shard = (backends: readonly Backend[], keyOf: (table: string) => string | undefined, options: ShardOptions = {}): ShardedBackend => {
  if (backends.length === 0) throw dbError('QueryError', 'shard needs at least one backend')
  const n = backends.length
  const route = options.route ?? hashRoute
  const shardOf = (key: unknown): number => {
    const i = route(key, n)
    if (!Number.isInteger(i) || i < 0 || i >= n) throw dbError('QueryError', `the shard route gave ${i} for ${String(key)}; it must be an integer from 0 to ${n - 1}`)
    return i
  }
  const refuse = (feature: string, detail?: string): DbError => unsupportedError('sharding', feature, detail)

  const shardsOf = (keys: readonly unknown[]): number[] => [...new Set(keys.map(shardOf))].sort()

  /** The shard of a compiled INSERT run with each of `sets` (its parameters). */
  const insertPlan = (ins: NonNullable<ReturnType<typeof compiledInsert>>, sets: readonly (readonly unknown[])[]): E.Either<DbError, Plan> => {
    const column = keyOf(ins.table)
    if (column === undefined) return E.left(refuse(`an INSERT into ${ins.table}`, 'the table has no shard key (keyOf gave none); use forKey(key)'))
    const at = ins.columns.indexOf(column)
    if (at < 0) return E.left(refuse(`an INSERT into ${ins.table} without its shard key ${column}`, 'give the key as a value in every row'))
    const keys: unknown[] = []
    for (const set of sets) {
      for (const row of ins.rows) {
        const p = row[at]
        if (p === undefined || p >= set.length) return E.left(refuse(`an INSERT whose shard key ${column} is not a parameter`))
        keys.push(set[p])
      }
    }
    const shards = shardsOf(keys)
    return shards.length === 1 ? E.right({ to: 'shards', shards }) : E.left(refuse('an INSERT whose rows belong to different shards', `shards ${shards.join(', ')}: insert each shard's rows on their own`))
  }

  const plan = (self: Backend, q: Executable): E.Either<DbError, Plan> => {
    try {
      if (isNode(q) && q.kind === 'insert') {
        const column = keyOf(q.table.name)
        if (column === undefined) return E.left(refuse(`an INSERT into ${q.table.name}`, 'the table has no shard key (keyOf gave none); use forKey(key)'))
        const at = q.columns.indexOf(column)
        if (q.query !== undefined || at < 0) return E.left(refuse(`an INSERT into ${q.table.name} without its shard key ${column}`, 'give the key as a value in every row'))
        const keys: unknown[] = []
        for (const row of q.rows) {
          const v = valueOf(row[at])
          if (!v.ok) return E.left(refuse(`an INSERT whose shard key ${column} is not a plain value`))
          keys.push(v.value)
        }
        const shards = shardsOf(keys)
        return shards.length === 1 ? E.right({ to: 'shards', shards }) : E.left(refuse('an INSERT whose rows belong to different shards', `shards ${shards.join(', ')}: insert each shard's rows on their own`))
      }
      if (isNode(q) && (q.kind === 'update' || q.kind === 'delete')) {
        const column = keyOf(q.table.name)
        const keys = column === undefined ? undefined : keysIn(q.where, column, [q.table.name, ...(q.table.alias === undefined ? [] : [q.table.alias])])
        if (keys === undefined) return E.left(refuse(`an ${q.kind.toUpperCase()} of ${q.table.name} without its shard key in WHERE`, 'it would have to run on every shard, not atomically; use forKey(key) per shard'))
        const shards = shardsOf(keys)
        return shards.length === 1 ? E.right({ to: 'shards', shards }) : E.left(refuse(`an ${q.kind.toUpperCase()} spanning shards ${shards.join(', ')}`))
      }
      if (isNode(q) && q.kind === 'select' && q.from?.kind === 'table') {
        const column = keyOf(q.from.name)
        const keys = column === undefined ? undefined : keysIn(q.where, column, [q.from.name, ...(q.from.alias === undefined ? [] : [q.from.alias])])
        if (keys !== undefined) {
          const shards = shardsOf(keys)
          if (shards.length === 1) return E.right({ to: 'shards', shards })
        }
        if (q.groupBy.length > 0 || q.having !== undefined || q.distinct || q.columns.some((c) => hasAggregate(c.expr))) {
          return E.left(refuse('GROUP BY, DISTINCT or aggregates over several shards', 'each shard would answer for its own rows; fix the shard key in WHERE, or aggregate per shard with forKey'))
        }
        if (typeof q.limit === 'object' || typeof q.offset === 'object') return E.left(refuse('a named LIMIT or OFFSET parameter over several shards'))
        return E.right({ to: 'scatter', node: q })
      }
      const c = isCompiled(q) ? E.right(q) : self.compile(q as Compilable)
      if (E.isLeft(c)) return c
      const ins = compiledInsert(c.right.sql)
      if (ins !== undefined) return insertPlan(ins, [c.right.params])
      if (DDL.test(c.right.sql)) return E.right({ to: 'all' })
      if (isReplicaRead(c.right)) return E.right({ to: 'scatter' })
      return E.left(refuse('a write without a shard key', 'raw SQL carries no key; run it on one shard with forKey(key)'))
    } catch (e) {
      return E.left(e as DbError)
    }
  }

  /** The shard a transaction of one of the shards is open on, if any. */
  const activeShard = (): number => backends.findIndex((b) => b.inTransaction())

  /** Per-shard SELECT for a merged read: no OFFSET, LIMIT widened to LIMIT + OFFSET. */
  const perShard = (node: SelectNode): SelectNode => {
    if (node.limit === undefined && node.offset === undefined) return node
    const { offset: _offset, ...rest } = node
    const limit = node.limit === undefined ? undefined : (node.limit as number) + ((node.offset as number | undefined) ?? 0)
    return limit === undefined ? { ...rest, limit: undefined } : { ...rest, limit }
  }

  /** The output field an ORDER BY item sorts by, when it is a selected column. */
  const sortField = (node: SelectNode, o: OrderItem): string | undefined => {
    if (o.expr.kind !== 'column') return undefined
    const name = o.expr.name
    for (const c of node.columns) {
      if (c.alias === name) return name
      if (c.expr.kind === 'column' && c.expr.name === name) return c.alias ?? name
      if (c.expr.kind === 'star') return name
    }
    return node.columns.length === 0 ? name : undefined
  }

  const merge = (node: SelectNode | undefined, parts: readonly Row[][]): E.Either<DbError, Row[]> => {
    let rows = parts.flat()
    if (node === undefined) return E.right(rows)
    if (node.orderBy.length > 0) {
      const fields = node.orderBy.map((o) => sortField(node, o))
      if (fields.some((f) => f === undefined)) return E.left(refuse('ORDER BY an expression that is not a selected column, over several shards'))
      rows = rows.slice().sort((a, b) => {
        for (let i = 0; i < node.orderBy.length; i++) {
          const o = node.orderBy[i]
          const x = a[fields[i]!]
          const y = b[fields[i]!]
          if (x === y) continue
          const nullsFirst = o.nulls === undefined ? o.direction === 'desc' : o.nulls === 'first'
          if (x === null || x === undefined) return nullsFirst ? -1 : 1
          if (y === null || y === undefined) return nullsFirst ? 1 : -1
          const c = compare(x, y)
          if (c !== 0) return o.direction === 'desc' ? -c : c
        }
        return 0
      })
    }
    const offset = (node.offset as number | undefined) ?? 0
    const end = node.limit === undefined ? undefined : offset + (node.limit as number)
    return E.right(offset === 0 && end === undefined ? rows : rows.slice(offset, end))
  }

  const executeOn = <R>(self: Backend, q: Executable<R>): TaskEither<DbError, QueryResult<R>> => async () => {
    const p = plan(self, q as Executable)
    if (E.isLeft(p)) return p
    const active = activeShard()
    const targets = p.right.to === 'shards' ? p.right.shards : backends.map((_, i) => i)
    if (active >= 0) {
      // Inside one shard's transaction every statement must stay on that shard.
      if (p.right.to === 'shards' && !(targets.length === 1 && targets[0] === active)) {
        return E.left(dbError('TransactionError', `a statement for shard ${targets.join(', ')} inside a transaction on shard ${active}`))
      }
      return backends[active].execute<R>(q)()
    }
    if (p.right.to === 'shards' && targets.length === 1) return backends[targets[0]].execute<R>(q)()
    if (p.right.to === 'all') {
      // DDL: one shard after another, so a failure stops before the next shard.
      let affected = 0
      for (const b of backends) {
        const r = await b.execute<R>(q)()
        if (E.isLeft(r)) return r
        affected += r.right.rowsAffected
      }
      return E.right({ rows: [], rowsAffected: affected })
    }
    const node = p.right.to === 'scatter' ? p.right.node : undefined
    const sent = node === undefined ? q : perShard(node)
    const results = await Promise.all(targets.map((i) => backends[i].execute<R>(sent as Executable<R>)()))
    const failed = results.find(E.isLeft)
    if (failed !== undefined) return failed
    const rows = merge(node, results.map((r) => (r as E.Right<QueryResult<R>>).right.rows as Row[]))
    return E.isLeft(rows) ? rows : E.right({ rows: rows.right as R[], rowsAffected: 0 })
  }

  const notOneShard = (what: string): DbError => dbError('TransactionError', `${what} on a sharded backend must run on one shard: use forKey(key).transaction(...)`)

  const sharded = wrap(backends[0], {
    execute: (_next, self) => <R>(q: Executable<R>) => executeOn<R>(self, q),
    // `first` goes through `execute` with the query itself, so a keyed query is routed and a
    // scattered one is merged before its first row is taken.
    first: (_next, self) => <R>(q: Executable<R>): TaskEither<DbError, Option<R>> => async () => {
      const r = await self.execute<R>(q)()
      return E.isLeft(r) ? r : E.right(r.right.rows.length > 0 ? some(r.right.rows[0]) : none)
    },
    stream: (_next, self) => <R>(q: Executable<R>, o?: { readonly batchSize?: number }): AsyncIterable<R> => ({
      [Symbol.asyncIterator]: () => (async function* () {
        const p = plan(self, q as Executable)
        if (E.isLeft(p)) throw p.left
        const active = activeShard()
        if (active >= 0) {
          yield* backends[active].stream<R>(q, o)
          return
        }
        if (p.right.to === 'shards' && p.right.shards.length === 1) {
          yield* backends[p.right.shards[0]].stream<R>(q, o)
          return
        }
        const node = p.right.to === 'scatter' ? p.right.node : undefined
        if (p.right.to !== 'scatter' || (node !== undefined && (node.orderBy.length > 0 || node.limit !== undefined || node.offset !== undefined))) {
          throw refuse('a stream over several shards with ORDER BY, LIMIT or OFFSET (or a write)', 'use all(), which merges, or stream each shard')
        }
        const targets = p.right.to === 'scatter' ? backends.map((_, i) => i) : []
        for (const i of targets) yield* backends[i].stream<R>(q, o)
      })(),
    }),
    // A batch is routed when it is an INSERT whose every run lands on one shard (a model's
    // createMany inserts through it); any other batch runs on one shard through forKey.
    executeBatch: (_next, self) => (q, sets) => async () => {
      const active = activeShard()
      if (active >= 0) return backends[active].executeBatch(q, sets)()
      const c = isCompiled(q) ? E.right(q) : self.compile(q as Compilable)
      if (E.isLeft(c)) return c
      const ins = compiledInsert(c.right.sql)
      const p = ins === undefined ? E.left(refuse('executeBatch of a statement other than INSERT on a sharded backend', 'use forKey(key).executeBatch')) : insertPlan(ins, sets)
      if (E.isLeft(p)) return p
      return backends[(p.right as { shards: readonly number[] }).shards[0]].executeBatch(q, sets)()
    },
    transaction: () => (fn, o) => () => {
      const active = activeShard()
      if (active >= 0) return backends[active].transaction(fn, o)()
      return Promise.resolve(E.left(notOneShard('a transaction')))
    },
    inTransaction: () => () => activeShard() >= 0,
    savepoint: () => (name, fn) => () => {
      const active = activeShard()
      if (active >= 0) return backends[active].savepoint(name, fn)()
      return Promise.resolve(E.left(notOneShard('a savepoint')))
    },
    startTransaction: () => () => () => Promise.resolve(E.left(notOneShard('a transaction'))),
    connection: () => () => () => Promise.resolve(E.left(notOneShard('a reserved connection'))),
    close: () => (o) => async () => {
      const rs = await Promise.all(backends.map((b) => b.close(o)()))
      return rs.find(E.isLeft) ?? E.right(undefined)
    },
  })

  return extend<Backend, Omit<ShardedBackend, keyof Backend>>(sharded, () => ({
    shards: backends,
    shardOf,
    forKey: (key) => backends[shardOf(key)],
  }))
}
