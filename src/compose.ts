/**
 * compose / extend / wrap: the only way backends are made and changed.
 *
 * ```ts
 * const db = compose(betterSqlite3({ filename: 'app.db' }), sqlite)          // make
 * const legacy = extend(sqlite, (self, base) => ({ limitOffset: ... }))       // change one function
 * const logged = wrap(db, { execute: (next) => (q) => { log(q); return next(q) } }) // middleware
 * ```
 *
 * A Backend is a frozen record of functions. Its functions reach each other through `self`,
 * so `wrap(db, { execute })` also sees the BEGIN, SAVEPOINT and COMMIT that `transaction`
 * issues, and the queries a model runs.
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import * as E from 'fp-ts/lib/Either.js'
import type { Option } from 'fp-ts/lib/Option.js'
import { none, some } from 'fp-ts/lib/Option.js'
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import type { InsertNode } from './ast.js'
import type { Compilable, Dialect, TransactionOptions } from './dialect.js'
import type { Connection, Driver, QueryResult, Row, StreamOptions } from './driver.js'
import { dbError, type DbError, toDbError } from './errors.js'
import type { Query } from './query.js'
import { extend, fix } from './record.js'
import { type Compiled, type Fragment, sql } from './sql.js'

export { extend } from './record.js'

/** A statement in any form `execute` takes: query data, a `sql` fragment, or compiled SQL. */
export type Executable<R = Row> = Query<R> | Compilable | Compiled

/** A query compiled once, run many times with different arguments. */
export interface Prepared<R = Row> {
  readonly compiled: Compiled
  /** Run with the named arguments (`param('id')` / `sql.placeholder('id')`). */
  readonly execute: (args?: Readonly<Record<string, unknown>>) => TaskEither<DbError, QueryResult<R>>
  readonly all: (args?: Readonly<Record<string, unknown>>) => TaskEither<DbError, R[]>
  readonly first: (args?: Readonly<Record<string, unknown>>) => TaskEither<DbError, Option<R>>
}

/** The Backend record. */
export interface Backend {
  readonly dialect: Dialect
  readonly driver: Driver
  /** Query data or a fragment to SQL text and parameters. Pure. */
  readonly compile: (q: Compilable) => E.Either<DbError, Compiled>
  /** Run one statement; inside `transaction` it runs on the transaction's connection. */
  readonly execute: <R = Row>(q: Executable<R>) => TaskEither<DbError, QueryResult<R>>
  /** The rows of one statement. */
  readonly all: <R = Row>(q: Executable<R>) => TaskEither<DbError, R[]>
  /** The first row of one statement, if any. */
  readonly first: <R = Row>(q: Executable<R>) => TaskEither<DbError, Option<R>>
  /** Run a raw `sql` fragment and return its rows. */
  readonly query: <R = Row>(fragment: Fragment) => TaskEither<DbError, R[]>
  /** Rows one at a time, fetched in batches; breaking out early releases the connection. Throws DbError. */
  readonly stream: <R = Row>(q: Executable<R>, options?: StreamOptions) => AsyncIterable<R>
  /** Compile once; run many times. */
  readonly prepare: <R = Row>(q: Executable<R>) => Prepared<R>
  /**
   * Run one statement once per set of parameters: the statement is compiled once, and each set
   * gives every one of its parameters, in order, as JS values (the dialect adapts them). Each run
   * goes through `execute` (middleware sees it; inside a transaction it uses the transaction's
   * connection) marked `batch`, so drivers keep the statement prepared. On a driver that
   * pipelines (postgres.js) the runs are issued together, otherwise one after another; either
   * way the results come back in order, or the first failure in run order. Runs before a failing
   * one (and, when pipelined, after it) may still apply: wrap the batch in `transaction` to make
   * it all or nothing. `Model.createMany` inserts through it, a multi-row INSERT per set.
   */
  readonly executeBatch: <R = Row>(q: Executable<R>, sets: readonly (readonly unknown[])[]) => TaskEither<DbError, QueryResult<R>[]>
  /**
   * Run `fn` in a transaction: commit if it succeeds, roll back and return its error if it
   * fails. Nested calls become savepoints. Every query inside runs on the transaction's
   * connection, whether it goes through `tx` or through the outer `db`.
   */
  readonly transaction: <A>(fn: (tx: Backend) => TaskEither<DbError, A>, options?: TransactionOptions) => TaskEither<DbError, A>
  /** Whether the caller is inside a transaction of this backend. */
  readonly inTransaction: () => boolean
  /** Close the driver's connections. */
  readonly close: () => TaskEither<DbError, void>
}

// ---------------------------------------------------------------- transaction context

/** A transaction (or savepoint) scope: which driver, which connection, how deep. */
interface Frame {
  readonly driver: Driver
  readonly conn: Connection
  readonly depth: number
  /** Serializes sibling savepoints opened concurrently in the same scope. */
  queue: Promise<unknown>
  readonly counter: { n: number }
  readonly parent?: Frame
}

const txContext = new AsyncLocalStorage<Frame>()

const frameFor = (driver: Driver): Frame | undefined => {
  let f = txContext.getStore()
  while (f !== undefined && f.driver !== driver) f = f.parent
  return f
}

const isCompiled = (q: unknown): q is Compiled => typeof (q as Compiled).sql === 'string' && Array.isArray((q as Compiled).params)

const leftTask = <A>(e: DbError): TaskEither<DbError, A> => () => Promise.resolve(E.left(e))

/** Run a TaskEither-returning callback, turning throws and rejections into Lefts. */
const attempt = async <A>(f: () => TaskEither<DbError, A>): Promise<E.Either<DbError, A>> => {
  try {
    return await f()()
  } catch (e) {
    return E.left(toDbError(e, 'TransactionError'))
  }
}

// ---------------------------------------------------------------- compose

const backendOpen = (driver: Driver, dialect: Dialect) => (self: Backend): Backend => {
  const run = async (text: string): Promise<E.Either<DbError, unknown>> => self.execute(sql.raw(text))()

  const runAll = async (texts: readonly string[]): Promise<E.Either<DbError, unknown>> => {
    for (const t of texts) {
      const r = await run(t)
      if (E.isLeft(r)) return r
    }
    return E.right(undefined)
  }

  const topLevel = <A>(fn: (tx: Backend) => TaskEither<DbError, A>, options: TransactionOptions): TaskEither<DbError, A> => async () => {
    let begin: readonly string[]
    try {
      begin = self.dialect.beginTransaction(options)
    } catch (e) {
      return E.left(toDbError(e))
    }
    const reserved = await self.driver.reserve()()
    if (E.isLeft(reserved)) return reserved
    const conn = reserved.right
    const frame: Frame = { driver: self.driver, conn, depth: 0, queue: Promise.resolve(), counter: { n: 0 }, parent: txContext.getStore() }
    try {
      return await txContext.run(frame, async () => {
        const began = await runAll(begin)
        if (E.isLeft(began)) return began
        const result = await attempt(() => fn(self))
        if (E.isLeft(result)) {
          await run(self.dialect.rollback())
          return result
        }
        const committed = await run(self.dialect.commit())
        if (E.isLeft(committed)) {
          await run(self.dialect.rollback())
          return committed
        }
        return result
      })
    } finally {
      await conn.release()
    }
  }

  const nested = <A>(parent: Frame, fn: (tx: Backend) => TaskEither<DbError, A>): TaskEither<DbError, A> => () => {
    const go = async (): Promise<E.Either<DbError, A>> => {
      const name = `rk_sp_${parent.depth + 1}_${++parent.counter.n}`
      // A dialect without savepoints refuses here (UnsupportedFeature), before anything runs.
      let sp: { readonly open: string; readonly rollback: string; readonly release: string }
      try {
        sp = { open: self.dialect.savepoint(name), rollback: self.dialect.rollbackToSavepoint(name), release: self.dialect.releaseSavepoint(name) }
      } catch (e) {
        return E.left(toDbError(e))
      }
      const frame: Frame = { driver: parent.driver, conn: parent.conn, depth: parent.depth + 1, queue: Promise.resolve(), counter: parent.counter, parent: parent.parent }
      return txContext.run(frame, async () => {
        const opened = await run(sp.open)
        if (E.isLeft(opened)) return opened
        const result = await attempt(() => fn(self))
        if (E.isLeft(result)) {
          await run(sp.rollback)
          await run(sp.release)
          return result
        }
        const released = await run(sp.release)
        return E.isLeft(released) ? released : result
      })
    }
    const p = parent.queue.then(go, go)
    parent.queue = p
    return p
  }

  /** Several INSERTs run as one: in a transaction (a savepoint inside one), their results added up. */
  const executeAll = <R>(parts: readonly InsertNode[]): TaskEither<DbError, QueryResult<R>> =>
    self.transaction((tx) => async () => {
      const rows: R[] = []
      let rowsAffected = 0
      let insertId: number | bigint | undefined
      for (const p of parts) {
        const r = await tx.execute<R>(p)()
        if (E.isLeft(r)) return r
        for (const row of r.right.rows) rows.push(row)
        rowsAffected += r.right.rowsAffected
        if (r.right.insertId !== undefined) insertId = r.right.insertId
      }
      return E.right(insertId === undefined ? { rows, rowsAffected } : { rows, rowsAffected, insertId })
    })

  const compileFor = (q: Executable): E.Either<DbError, Compiled> => (isCompiled(q) ? E.right(q) : self.compile(q as Compilable))

  return {
    dialect,
    driver,

    compile: (q) => self.dialect.compile(q),

    execute: <R>(q: Executable<R>): TaskEither<DbError, QueryResult<R>> => {
      if ((q as { kind?: unknown }).kind === 'insert' && !isCompiled(q)) {
        let parts: readonly InsertNode[]
        try {
          parts = self.dialect.insertStatements(q as InsertNode)
        } catch (e) {
          return leftTask(toDbError(e))
        }
        if (parts.length > 1) return executeAll<R>(parts)
      }
      const c = compileFor(q)
      if (E.isLeft(c)) return leftTask(c.left)
      const compiled = c.right
      return () => {
        const frame = frameFor(self.driver)
        return (frame === undefined ? self.driver.execute(compiled) : frame.conn.execute(compiled))() as Promise<E.Either<DbError, QueryResult<R>>>
      }
    },

    all: (q) => {
      const t = self.execute(q)
      return () => t().then((r) => (E.isLeft(r) ? r : E.right(r.right.rows)))
    },

    first: <R>(q: Executable<R>): TaskEither<DbError, Option<R>> => {
      const c = compileFor(q)
      if (E.isLeft(c)) return leftTask(c.left)
      const k = c.right
      const t = self.execute<R>(k.first === true ? k : k.holes === undefined ? { sql: k.sql, params: k.params, first: true } : { sql: k.sql, params: k.params, holes: k.holes, first: true })
      return () => t().then((r) => (E.isLeft(r) ? r : E.right(r.right.rows.length > 0 ? some(r.right.rows[0]) : none)))
    },

    query: (fragment) => self.all(fragment),

    stream: <R>(q: Executable<R>, options?: StreamOptions): AsyncIterable<R> => ({
      [Symbol.asyncIterator]: () => (async function* () {
        const c = compileFor(q)
        if (E.isLeft(c)) throw c.left
        const frame = frameFor(self.driver)
        const source = frame === undefined ? self.driver.stream(c.right, options) : frame.conn.stream(c.right, options)
        for await (const batch of source) yield* batch as readonly R[]
      })(),
    }),

    prepare: <R>(q: Executable<R>): Prepared<R> => {
      const c = compileFor(q)
      const compiled: Compiled = E.isLeft(c) ? { sql: '', params: [] } : c.right
      const holes = compiled.holes
      const bind = (args: Readonly<Record<string, unknown>> | undefined, first: boolean): Compiled => {
        if (holes === undefined) return first ? { sql: compiled.sql, params: compiled.params, first } : compiled
        const params = compiled.params.slice()
        for (let i = 0; i < holes.length; i++) {
          const h = holes[i]
          if (h !== undefined) {
            if (args === undefined || !(h in args)) throw dbError('QueryError', `prepared query is missing the argument "${h}"`, { sql: compiled.sql })
            params[i] = self.dialect.toDriver(args[h])
          }
        }
        return { sql: compiled.sql, params, first }
      }
      const guarded = <T>(first: boolean, f: (x: Compiled) => TaskEither<DbError, T>) => (args?: Readonly<Record<string, unknown>>): TaskEither<DbError, T> => {
        if (E.isLeft(c)) return leftTask(c.left)
        try {
          return f(bind(args, first))
        } catch (e) {
          return leftTask(toDbError(e))
        }
      }
      return Object.freeze({
        compiled,
        execute: guarded(false, (x) => self.execute<R>(x)),
        all: guarded(false, (x) => self.all<R>(x)),
        first: guarded(true, (x) => self.first<R>(x)),
      })
    },

    executeBatch: <R>(q: Executable<R>, sets: readonly (readonly unknown[])[]): TaskEither<DbError, QueryResult<R>[]> => {
      const c = compileFor(q)
      if (E.isLeft(c)) return leftTask(c.left)
      const text = c.right.sql
      const count = c.right.params.length
      return async () => {
        // Every set is adapted before anything runs, so a value that cannot be bound runs nothing.
        const runs: Compiled[] = []
        for (const set of sets) {
          if (set.length !== count) return E.left(dbError('QueryError', `a batch run gives ${set.length} values for ${count} parameters`, { sql: text }))
          const params = new Array<unknown>(count)
          try {
            for (let i = 0; i < count; i++) params[i] = self.dialect.toDriver(set[i])
          } catch (e) {
            return E.left(toDbError(e))
          }
          runs.push({ sql: text, params, batch: true })
        }
        // A pipelining driver gets every run at once (it sends them without waiting); any other
        // gets them one after another. Either way the first failure in run order is reported
        // (inside a transaction the later ones are its consequence). The tasks never reject.
        const issued = self.driver.pipelines === true ? runs.map((r) => self.execute<R>(r)()) : undefined
        const out: QueryResult<R>[] = []
        for (let i = 0; i < runs.length; i++) {
          const r = await (issued?.[i] ?? self.execute<R>(runs[i])())
          if (E.isLeft(r)) return r
          out.push(r.right)
        }
        return E.right(out)
      }
    },

    transaction: (fn, options = {}) => {
      return () => {
        const parent = frameFor(self.driver)
        if (parent === undefined) return topLevel(fn, options)()
        if (options.isolation !== undefined || options.readOnly !== undefined) {
          return Promise.resolve(E.left(dbError('TransactionError', 'isolation and read-only can be set only on the outermost transaction')))
        }
        return nested(parent, fn)()
      }
    },

    inTransaction: () => frameFor(self.driver) !== undefined,

    close: () => self.driver.close(),
  }
}

/**
 * Make a backend from a driver and a dialect. Where the driver knows its version without
 * I/O (embedded SQLite), the dialect is specialised to it at once; for servers use `connect`.
 *
 * @example
 * const db = compose(betterSqlite3({ filename: ':memory:' }), sqlite)
 * await db.execute(sql`CREATE TABLE t (id INTEGER PRIMARY KEY)`)()
 */
export const compose = (driver: Driver, dialect: Dialect): Backend => {
  let d = dialect
  const known = (driver as { knownVersion?: () => string }).knownVersion
  if (typeof known === 'function') {
    try {
      d = dialect.forVersion(known())
    } catch {
      // The database could not be opened yet; the first query reports why.
    }
  }
  return fix(backendOpen(driver, d))
}

/**
 * Make a backend after asking the server its version, so capabilities match the server
 * (MariaDB 10.5 RETURNING, MySQL 8.0.19 `AS new`, SQLite 3.35 RETURNING).
 *
 * @example
 * const db = await run(connect(postgresJs({ url: 'postgres://localhost/test' }), postgres))
 */
export const connect = (driver: Driver, dialect: Dialect): TaskEither<DbError, Backend> => async () => {
  const v = await driver.version()()
  return E.isLeft(v) ? v : E.right(fix(backendOpen(driver, dialect.forVersion(v.right))))
}

/** Middleware for each backend function: receives the next function, returns a replacement. */
export type Middleware = { readonly [K in keyof Backend]?: (next: Backend[K], self: Backend) => Backend[K] }

/**
 * Put middleware around backend functions. Because backend functions call each other through
 * `self`, wrapping `execute` sees every statement, including transaction control. Wraps
 * stack: the last one applied runs first.
 *
 * @example
 * const logged = wrap(db, {
 *   execute: (next) => (q) => { console.log(logged.compile(q as never)); return next(q) },
 * })
 */
export const wrap = (backend: Backend, middleware: Middleware): Backend =>
  extend(backend, (self, base) => {
    const out: Record<string, unknown> = {}
    for (const k of Object.keys(middleware) as (keyof Backend)[]) {
      const m = middleware[k] as ((next: unknown, self: Backend) => unknown) | undefined
      if (m !== undefined) out[k] = m(base[k], self)
    }
    return out as Partial<Backend>
  })

/**
 * The SQL text and parameters of anything `execute` accepts, for middleware that logs.
 *
 * @example
 * wrap(db, { execute: (next, self) => (q) => { console.log(statementOf(self, q).sql); return next(q) } })
 */
export const statementOf = (backend: Backend, q: Executable): Compiled => {
  if (isCompiled(q)) return q
  const c = backend.compile(q as Compilable)
  return E.isLeft(c) ? { sql: `<does not compile: ${c.left.message}>`, params: [] } : c.right
}
