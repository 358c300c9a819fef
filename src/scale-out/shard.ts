/**
 * Sharding by key as a composition: `shard(backends, keyOf)` is one Backend over several,
 * routing each statement by the value of its table's shard key. The rules, decided before
 * anything runs, are in `shard-rules.ts`:
 *
 * - An INSERT goes to the shard of its rows' key (all rows of one INSERT must share a shard).
 * - A SELECT, UPDATE or DELETE whose WHERE fixes the key (`key = v`, `key IN (...)`, either
 *   inside a top-level AND) goes to that shard (a SELECT to those shards).
 * - A SELECT without the key is scatter-gather: it runs on every shard at once and the rows are
 *   merged, ORDER BY (on selected columns) and LIMIT/OFFSET applied over the whole; GROUP BY,
 *   DISTINCT and aggregates are refused (each shard would answer for its own rows only).
 * - Raw SQL and compiled statements carry no key (an INSERT's rows do, read from its text): a
 *   read is scatter-gather (rows put one after another, so a read that aggregates, orders or
 *   limits is refused), DDL runs on every shard, any other write is refused.
 * - A write that changes a row's shard key, UPDATE and DELETE without the key, writes spanning
 *   shards, writes in CTEs and cross-shard transactions are refused with a typed error before
 *   anything runs: no statement half-applies across shards or strands a row.
 *   Transactions run on one shard: `db.forKey(key).transaction(...)`.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Option } from 'fp-ts/lib/Option.js'
import { none, some } from 'fp-ts/lib/Option.js'
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import { AFTER_COMMIT, afterCommit, type AfterCommitCallback } from '../after-commit.js'
import type { OrderItem, SelectNode } from '../ast.js'
import { type Backend, type Executable, extend, type Prepared, type PrepareOptions, type SyncBackend, wrap } from '../compose.js'
import type { Compilable } from '../dialect.js'
import type { QueryResult, Row } from '../driver.js'
import { dbError, type DbError, toDbError, unsupportedError } from '../errors.js'
import { batchIsAllOrNothing } from '../drivers/sql-start.js'
import { quietStorage } from '../quiet-storage.js'
import { type Compiled, isCompiled } from '../sql.js'
import { type Plan, shardRules } from './shard-rules.js'
import { flavourOf } from './sql-text.js'

/** What the backend `forKey` gives leaves out of the sharded backend it is made from. */
type Unsharded = { readonly [K in Exclude<keyof ShardedBackend, keyof Backend>]?: undefined }

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
  /**
   * The shard-key column of a table (what `keyOf` says), undefined for a table that is not
   * sharded. Models read it to add the row's shard key to the WHERE of a write by primary key
   * (`update`, `delete`, `restore`), so that it is routed to the row's shard.
   *
   * @example db.shardKey('orders') // 'tenant'
   */
  readonly shardKey: (table: string) => string | undefined
  /**
   * The backend of the shard that holds `key`: for transactions and statements without a key.
   * Anything may run on it but what can be seen to belong elsewhere: a row of another shard's
   * key, a WHERE fixing another shard's key, a write that changes a row's key, and any statement
   * while a transaction of another shard is open (it would not be part of that transaction).
   * Its statements, and those through its transactions' handles, go through the sharded
   * backend's functions, so middleware wrapped around the sharded backend sees them. A NULL
   * key (null, undefined) belongs to no shard: every call of its backend is refused; so is every
   * call of a key the route gives no shard (its error is the route's), rather than a throw here.
   *
   * @example
   * await run(db.forKey('acme').transaction((tx) => Order.createMany(tx, rows)))
   */
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


const leftTask = <A>(e: DbError): TaskEither<DbError, A> => () => Promise.resolve(E.left(e))

const isPlain = (x: object): boolean => {
  const proto = Object.getPrototypeOf(x) as unknown
  return proto === Object.prototype || proto === null
}

/**
 * Query data with each named parameter (`param(name)`) replaced by its argument's value, for
 * planning a prepared query's run; undefined where it holds a raw fragment (its placeholders
 * are not seen here) or a parameter without an argument (the prepared query reports that).
 */
const withArgs = (q: unknown, args: Readonly<Record<string, unknown>>): unknown => {
  if (typeof q !== 'object' || q === null || !isPlain(q)) return undefined
  let ok = true
  const walk = (x: unknown): unknown => {
    if (!ok || typeof x !== 'object' || x === null) return x
    if (Array.isArray(x)) return x.map(walk)
    if (!isPlain(x)) return x
    const kind = (x as { readonly kind?: unknown }).kind
    if (kind === 'value' || kind === 'literal') return x
    if (kind === 'raw') {
      ok = false
      return x
    }
    if (kind === 'param') {
      const name = (x as { readonly name: string }).name
      if (!(name in args)) ok = false
      return { kind: 'value', value: args[name] }
    }
    const out: Record<string | symbol, unknown> = {}
    for (const k of Reflect.ownKeys(x)) out[k] = walk((x as Record<string | symbol, unknown>)[k])
    return out
  }
  const bound = walk(q)
  return ok ? bound : undefined
}

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
 * await db.execute(pipe(update('orders'), set({ tenant: 'globex' }), where({ tenant: 'acme' })))() // Left: move rows by delete + insert
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
  const rules = shardRules({ keyOf, shardOf, flavour: flavourOf(backends[0].dialect) })
  const plan = (self: Backend, q: Executable): E.Either<DbError, Plan> => rules.plan(q as Compilable | Compiled, self.compile)

  /** The shard a transaction of one of the shards is open on, if any. */
  const activeShard = (): number => backends.findIndex((b) => b.inTransaction())

  /**
   * Why a statement the sharded backend planned may not run inside the transaction open on
   * shard `active`: it is for another shard, it is DDL (for every shard), or it reads without
   * the key (it would read that shard's rows only).
   */
  const outsideTransaction = (p: Plan, active: number): DbError | undefined => {
    if (p.to === 'shards') return p.shards.length === 1 && p.shards[0] === active ? undefined : dbError('TransactionError', `a statement for shard ${p.shards.join(', ')} inside a transaction on shard ${active}`)
    if (p.to === 'all') return dbError('TransactionError', `DDL inside a transaction on shard ${active}: DDL runs on every shard; run it outside the transaction`)
    return dbError('TransactionError', `a read without the shard key inside a transaction on shard ${active} would read that shard's rows only: give the key in WHERE, or read through the transaction's own backend (tx), which is that shard`)
  }

  /** A statement on shard `i` (through forKey) while another shard's transaction is open. */
  const spanning = (i: number, active: number, what = 'a statement'): DbError =>
    dbError('TransactionError', `${what} on shard ${i} (forKey) inside a transaction on shard ${active}: it would not be part of that transaction, and recordkit has no transaction across shards; run it after the transaction ends`)

  /** Why `what` may not run on shard `i` through `forKey` now: a transaction of another shard is open. */
  const otherShardOpen = (i: number, what?: string): DbError | undefined => {
    const active = activeShard()
    return active >= 0 && active !== i ? spanning(i, active, what) : undefined
  }

  /** Why a statement may not run on shard `i` through `forKey` now, if it may not. */
  const pinnedRefusal = (self: Backend, i: number, q: Executable): DbError | undefined =>
    otherShardOpen(i) ?? rules.checkOn(i, q as Compilable | Compiled, self.compile)

  /**
   * The backend of shard `i` as `forKey` gives it: the shard's own, each statement checked by
   * `rules.checkOn` first (and refused while a transaction of another shard is open). Its
   * transactions hand out the same checks, since their `tx` runs through this record.
   */
  const guard = (b: Backend, i: number): Backend => {
    const check = (self: Backend, q: Executable): DbError | undefined => pinnedRefusal(self, i, q)
    const notHere = (what: string): DbError | undefined => otherShardOpen(i, what)
    return wrap(b, {
      execute: (next, self) => <R>(q: Executable<R>) => {
        const no = check(self, q as Executable)
        return no === undefined ? next<R>(q) : leftTask<QueryResult<R>>(no)
      },
      stream: (next, self) => <R>(q: Executable<R>, o?: { readonly batchSize?: number }): AsyncIterable<R> => ({
        [Symbol.asyncIterator]: () => (async function* () {
          const no = check(self, q as Executable)
          if (no !== undefined) throw no
          yield* next<R>(q, o)
        })(),
      }),
      // Every run is checked before the first runs (each is checked again as it runs).
      executeBatch: (next, self) => <R>(q: Executable<R>, sets: readonly (readonly unknown[])[]) => {
        const c = isCompiled(q) ? E.right(q) : self.compile(q as Compilable)
        if (E.isRight(c)) {
          for (const set of sets) {
            const no = check(self, { sql: c.right.sql, params: set })
            if (no !== undefined) return leftTask<QueryResult<R>[]>(no)
          }
        }
        return next<R>(q, sets)
      },
      // The synchronous path (better-sqlite3) is kept, with the same check.
      sync: (next, self): SyncBackend | undefined => next === undefined ? undefined : Object.freeze({
        ready: next.ready,
        execute: <R>(q: Executable<R>) => () => {
          const no = check(self, q as Executable)
          return no === undefined ? next.execute<R>(q)() : E.left(no)
        },
        all: <R>(q: Executable<R>) => () => {
          const no = check(self, q as Executable)
          return no === undefined ? next.all<R>(q)() : E.left(no)
        },
        first: <R>(q: Executable<R>) => () => {
          const no = check(self, q as Executable)
          return no === undefined ? next.first<R>(q)() : E.left(no)
        },
      }),
      transaction: (next) => (fn, o) => {
        const no = notHere('a transaction')
        return no === undefined ? next(fn, o) : leftTask(no)
      },
      startTransaction: (next) => (o) => {
        const no = notHere('a transaction')
        return no === undefined ? next(o) : leftTask(no)
      },
      connection: (next) => () => {
        const no = notHere('a reserved connection')
        return no === undefined ? next() : leftTask(no)
      },
    })
  }
  const guarded = backends.map(guard)

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

  const unmergeable = (): DbError => refuse('ORDER BY an expression that is not a selected column, over several shards', 'select the column it orders by, or read per shard with forKey(key)')

  const merge = (node: SelectNode | undefined, parts: readonly Row[][]): E.Either<DbError, Row[]> => {
    let rows = parts.flat()
    if (node === undefined) return E.right(rows)
    if (node.orderBy.length > 0) {
      const fields = node.orderBy.map((o) => sortField(node, o))
      if (fields.some((f) => f === undefined)) return E.left(unmergeable())
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

  /**
   * The shard a statement is pinned to while it runs through the record `forKey` gives (or a
   * shard transaction's handle made from it): it went through the sharded backend's own
   * functions, and so through the middleware wrapped around it, and runs on that shard under
   * `forKey`'s rules. Set only around one statement, never around a callback.
   *
   * A quiet storage (`quiet-storage.ts`): on only while a pinned call is pending and for a
   * quarter of a second after, not for good once forKey or a routed prepared query ran, so
   * the rest of the process's promises do not pay its promise hook. A call's pin is read by
   * the call itself (its statement reaching `executeOn`, `stream` or `executeBatch` through the
   * middleware, before its promise settles), which holds the storage on meanwhile. It is not
   * passed down explicitly instead: middleware around the sharded backend may wait, retry or
   * rebuild the statement before calling on, and only the context reaches the call through it.
   */
  const pin = quietStorage<number>()

  const executeOn = <R>(self: Backend, q: Executable<R>): TaskEither<DbError, QueryResult<R>> => async () => {
    const pinned = pin.getStore()
    if (pinned !== undefined) {
      const no = pinnedRefusal(self, pinned, q as Executable)
      return no === undefined ? backends[pinned].execute<R>(q)() : E.left(no)
    }
    const p = plan(self, q as Executable)
    if (E.isLeft(p)) return p
    const active = activeShard()
    const targets = p.right.to === 'shards' ? p.right.shards : backends.map((_, i) => i)
    if (active >= 0) {
      // Inside one shard's transaction every statement must stay on that shard, and see all it should.
      const no = outsideTransaction(p.right, active)
      return no === undefined ? backends[active].execute<R>(q)() : E.left(no)
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
    // What the merge refuses is refused before anything runs.
    if (node !== undefined && node.orderBy.some((o) => sortField(node, o) === undefined)) return E.left(unmergeable())
    const sent = node === undefined ? q : perShard(node)
    const results = await Promise.all(targets.map((i) => backends[i].execute<R>(sent as Executable<R>)()))
    const failed = results.find(E.isLeft)
    if (failed !== undefined) return failed
    const rows = merge(node, results.map((r) => (r as E.Right<QueryResult<R>>).right.rows as Row[]))
    return E.isLeft(rows) ? rows : E.right({ rows: rows.right as R[], rowsAffected: 0 })
  }

  /**
   * The one shard a prepared query's arguments send it to; undefined where they fix no single
   * shard, where the query with them would be refused, or where it cannot be read with its
   * arguments in place (SQL text, a raw fragment in it): the run is then read as before, as SQL
   * text, which routes it or refuses it with its own reason.
   */
  const preparedShard = (self: Backend, q: Executable, args: Readonly<Record<string, unknown>> | undefined): number | undefined => {
    const bound = withArgs(q, args ?? {})
    if (bound === undefined) return undefined
    const p = plan(self, bound as Executable)
    return E.isRight(p) && p.right.to === 'shards' && p.right.shards.length === 1 ? p.right.shards[0] : undefined
  }

  const notOneShard = (what: string, use = 'forKey(key).transaction(...)'): DbError => dbError('TransactionError', `${what} on a sharded backend must run on one shard: use ${use}` +
    (use.endsWith('.connection()') ? '' : ' (a model\'s createMany, and a write of a model with after* hooks, run in a transaction: give them forKey(key)); what must run on every shard, such as migrations, run on each of db.shards'))

  const sharded = wrap(backends[0], {
    execute: (_next, self) => <R>(q: Executable<R>) => executeOn<R>(self, q),
    // `first` goes through `execute` with the query itself, so a keyed query is routed and a
    // scattered one is merged before its first row is taken.
    first: (_next, self) => <R>(q: Executable<R>): TaskEither<DbError, Option<R>> => async () => {
      const r = await self.execute<R>(q)()
      return E.isLeft(r) ? r : E.right(r.right.rows.length > 0 ? some(r.right.rows[0]) : none)
    },
    // A prepared query is compiled before its arguments are known, and its runs reach `execute`
    // as SQL text, which carries no key: each run is planned with its arguments in place first,
    // and one that lands on one shard is pinned there (forKey's records are one shard already).
    prepare: (next, self) => <R>(q: Executable<R>, o?: PrepareOptions<R>): Prepared<R> => {
      const p = next<R>(q, o)
      if (isCompiled(q) || (self as Partial<ShardedBackend>).forKey === undefined) return p
      const routed = <T>(f: (args?: Readonly<Record<string, unknown>>) => TaskEither<DbError, T>) => (args?: Readonly<Record<string, unknown>>): TaskEither<DbError, T> => () => {
        const to = pin.getStore() === undefined ? preparedShard(self, q as Executable, args) : undefined
        return to === undefined ? f(args)() : pin.run(to, () => f(args)())
      }
      return Object.freeze({ ...p, execute: routed(p.execute), all: routed(p.all), first: routed(p.first) })
    },
    stream: (_next, self) => <R>(q: Executable<R>, o?: { readonly batchSize?: number }): AsyncIterable<R> => ({
      [Symbol.asyncIterator]: () => (async function* () {
        const pinned = pin.getStore()
        if (pinned !== undefined) {
          const no = pinnedRefusal(self, pinned, q as Executable)
          if (no !== undefined) throw no
          yield* backends[pinned].stream<R>(q, o)
          return
        }
        const p = plan(self, q as Executable)
        if (E.isLeft(p)) throw p.left
        const active = activeShard()
        if (active >= 0) {
          const no = outsideTransaction(p.right, active)
          if (no !== undefined) throw no
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
    // Either way the runs go through this record's `execute` (and the middleware around it),
    // which routes each to the shard checked here for all of them before the first runs.
    executeBatch: (next, self) => <R>(q: Executable<R>, sets: readonly (readonly unknown[])[]): TaskEither<DbError, QueryResult<R>[]> => async () => {
      if (sets.length === 0) return E.right([])
      const c = isCompiled(q) ? E.right(q) : self.compile(q as Compilable)
      if (E.isLeft(c)) return c
      const pinned = pin.getStore()
      if (pinned !== undefined) {
        for (const set of sets) {
          const no = pinnedRefusal(self, pinned, { sql: c.right.sql, params: set })
          if (no !== undefined) return E.left(no)
        }
        return next<R>(q, sets)()
      }
      const i = rules.batchShard(c.right, sets)
      if (E.isLeft(i)) return i
      const active = activeShard()
      if (active >= 0 && active !== i.right) return E.left(dbError('TransactionError', `a batch for shard ${i.right} inside a transaction on shard ${active}`))
      // Several writes outside a transaction: one on their shard, so the batch is all or nothing.
      if (active < 0 && batchIsAllOrNothing(c.right.sql, sets.length)) return shardBackend(self, i.right).transaction(() => () => next<R>(q, sets)())()
      return next<R>(q, sets)()
    },
    // Inside a shard's transaction, a nested one is a savepoint there, its handle as forKey's.
    transaction: (_next, self) => (fn, o) => () => {
      const active = activeShard()
      if (active >= 0) return shardBackend(self, active).transaction(fn, o)()
      return Promise.resolve(E.left(notOneShard('a transaction')))
    },
    inTransaction: () => () => activeShard() >= 0,
    savepoint: (_next, self) => (name, fn) => () => {
      const active = activeShard()
      if (active >= 0) return shardBackend(self, active).savepoint(name, fn)()
      return Promise.resolve(E.left(notOneShard('a savepoint', 'it inside forKey(key).transaction(...)')))
    },
    startTransaction: () => () => () => Promise.resolve(E.left(notOneShard('a transaction', 'forKey(key).startTransaction()'))),
    connection: () => () => () => Promise.resolve(E.left(notOneShard('a reserved connection', 'forKey(key).connection()'))),
    close: () => (o) => async () => {
      const rs = await Promise.all(backends.map((b) => b.close(o)()))
      return rs.find(E.isLeft) ?? E.right(undefined)
    },
  })

  /**
   * The backend of shard `i` over `outer` (the sharded backend as the caller has it, middleware
   * included): statements, prepared queries, streams and batches run through `outer`'s own
   * functions pinned to the shard, so the middleware sees them; transactions, savepoints and
   * reserved connections are the shard's (`guarded[i]`), and a transaction's handle is `inside`.
   */
  const pinnedTo = (outer: Backend, i: number): Backend => {
    const enter = <A>(f: () => A): A => pin.run(i, f)
    const own = guarded[i]
    const pinned = wrap(outer, {
      execute: (next) => <R>(q: Executable<R>): TaskEither<DbError, QueryResult<R>> => () => enter(() => next<R>(q)()),
      executeBatch: (next) => <R>(q: Executable<R>, sets: readonly (readonly unknown[])[]): TaskEither<DbError, QueryResult<R>[]> => () => enter(() => next<R>(q, sets)()),
      stream: (next) => <R>(q: Executable<R>, o?: { readonly batchSize?: number }): AsyncIterable<R> => ({
        [Symbol.asyncIterator]: () => {
          const it = enter(() => next<R>(q, o)[Symbol.asyncIterator]())
          return {
            next: () => enter(() => it.next()),
            return: (v?: unknown) => enter(() => it.return?.(v) ?? Promise.resolve({ done: true as const, value: v as R })),
            throw: (e?: unknown) => enter(() => it.throw?.(e) ?? Promise.reject(e)),
          }
        },
      }),
      transaction: (_next, self) => (fn, o) => own.transaction((tx) => fn(inside(self, i, tx)), o),
      savepoint: (_next, self) => (name, fn) => own.savepoint(name, (tx) => fn(inside(self, i, tx))),
      startTransaction: () => (o) => own.startTransaction(o),
      connection: () => () => own.connection(),
      inTransaction: () => () => own.inTransaction(),
      close: () => (o) => own.close(o),
    })
    // One shard's backend, as forKey always gave: its driver and dialect (statements compile
    // and bind as the shard's), and not itself sharded (no shardKey for models to read, no forKey).
    const b = backends[i]
    return extend<Backend, Unsharded>(pinned, () => ({ driver: b.driver, dialect: b.dialect, shards: undefined, shardOf: undefined, shardKey: undefined, forKey: undefined }))
  }

  /**
   * The handle of a transaction (or savepoint) `tx` of shard `i`, made from `pinned` (its
   * `pinnedTo` backend): a call made inside the transaction goes through `pinned`, so the
   * middleware sees it, and runs on the transaction's connection; one made outside it (a handle
   * kept after the transaction ended, or used from elsewhere) goes to `tx`, which refuses it or
   * runs it in the transaction, as it always did.
   */
  const inside = (pinned: Backend, i: number, tx: Backend): Backend => {
    const here = (): boolean => tx.inTransaction() && backends[i].inTransaction()
    const either = <A>(a: () => A, b: () => A): A => (here() ? a() : b())
    return Object.freeze({
      ...pinned,
      execute: <R>(q: Executable<R>) => () => either(() => pinned.execute<R>(q)(), () => tx.execute<R>(q)()),
      all: <R>(q: Executable<R>) => () => either(() => pinned.all<R>(q)(), () => tx.all<R>(q)()),
      first: <R>(q: Executable<R>) => () => either(() => pinned.first<R>(q)(), () => tx.first<R>(q)()),
      query: <R>(f: Parameters<Backend['query']>[0]) => () => either(() => pinned.query<R>(f)(), () => tx.query<R>(f)()),
      executeBatch: <R>(q: Executable<R>, sets: readonly (readonly unknown[])[]) => () => either(() => pinned.executeBatch<R>(q, sets)(), () => tx.executeBatch<R>(q, sets)()),
      stream: <R>(q: Executable<R>, o?: { readonly batchSize?: number }): AsyncIterable<R> => ({
        [Symbol.asyncIterator]: () => either(() => pinned.stream<R>(q, o), () => tx.stream<R>(q, o))[Symbol.asyncIterator](),
      }),
      prepare: <R>(q: Executable<R>, o?: PrepareOptions<R>): Prepared<R> => {
        const a = pinned.prepare<R>(q, o)
        const b = tx.prepare<R>(q, o)
        return Object.freeze({
          compiled: a.compiled,
          execute: (args?: Readonly<Record<string, unknown>>) => () => either(() => a.execute(args)(), () => b.execute(args)()),
          all: (args?: Readonly<Record<string, unknown>>) => () => either(() => a.all(args)(), () => b.all(args)()),
          first: (args?: Readonly<Record<string, unknown>>) => () => either(() => a.first(args)(), () => b.first(args)()),
        })
      },
      transaction: ((fn, o) => tx.transaction((t) => fn(inside(pinned, i, t)), o)) as Backend['transaction'],
      savepoint: ((name, fn) => tx.savepoint(name, (t) => fn(inside(pinned, i, t)))) as Backend['savepoint'],
      startTransaction: (o?: Parameters<Backend['startTransaction']>[0]) => tx.startTransaction(o),
      connection: () => tx.connection(),
      inTransaction: () => tx.inTransaction(),
      close: (o?: Parameters<Backend['close']>[0]) => tx.close(o),
      sync: undefined,
      // Queued on the transaction while it runs; refused by `tx` once it ended (the spread of
      // `pinned` would have run it at once, as outside any transaction).
      [AFTER_COMMIT]: (f: AfterCommitCallback) => () => either(() => afterCommit(pinned, f)(), () => afterCommit(tx, f)()),
    } satisfies Backend)
  }

  /**
   * forKey of a NULL key: a backend that refuses every call, as the router refuses a row whose
   * key is NULL (it belongs to no shard; picking one would put rows where no key finds them).
   */
  const keyless = (outer: Backend, no: DbError = refuse('forKey(null) or forKey(undefined)', 'a NULL key belongs to no shard, and no statement by key would find rows written there: give the key')): Backend => {
    const never = <A>(): TaskEither<DbError, A> => leftTask<A>(no)
    const refused = wrap(outer, {
      execute: () => never,
      executeBatch: () => never,
      stream: () => <R>(): AsyncIterable<R> => ({ [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(no) }) }),
      transaction: () => never,
      savepoint: () => never,
      startTransaction: () => never,
      connection: () => never,
      inTransaction: () => () => false,
      close: () => () => async () => E.right(undefined),
    })
    return extend<Backend, Unsharded>(refused, () => ({ shards: undefined, shardOf: undefined, shardKey: undefined, forKey: undefined }))
  }

  /** forKey's backends, made once per record the sharded backend is reached through (index n: a NULL key's). */
  const forKeyOf = new WeakMap<Backend, Backend[]>()

  /** forKey's backend of shard `i` over `outer` (`n`: a NULL key's), made once. */
  function shardBackend(outer: Backend, i: number): Backend {
    let made = forKeyOf.get(outer)
    if (made === undefined) forKeyOf.set(outer, made = [])
    return made[i] ??= i === n ? keyless(outer) : pinnedTo(outer, i)
  }

  return extend<Backend, Omit<ShardedBackend, keyof Backend>>(sharded, (self) => ({
    shards: backends,
    shardOf,
    shardKey: keyOf,
    forKey: (key) => {
      if (key === null || key === undefined) return shardBackend(self, n)
      let i: number
      try {
        i = shardOf(key)
      } catch (e) {
        // The route gave no shard (or threw): every call of the key's backend says so.
        return keyless(self, toDbError(e))
      }
      return shardBackend(self, i)
    },
  }))
}
