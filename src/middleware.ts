/**
 * Ready-made middleware for `wrap`: query logging with timings, slow-query capture, retry of
 * transient failures with backoff, and metrics counters. Each is a plain `Middleware` record,
 * so they stack: `wrap(wrap(db, retry()), logging(console.log))`. Each wraps `execute` (every
 * statement but streamed ones: queries, model calls, BEGIN, SAVEPOINT, COMMIT) and `stream`.
 */
import * as E from './fp.js'
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import { type Backend, type Executable, type Middleware, statementOf } from './compose.js'
import type { StreamOptions } from './driver.js'
import { type DbError, type DbErrorTag, isDbError, toDbError } from './errors.js'

/** One finished statement, as middleware sees it. */
export interface StatementEvent {
  readonly sql: string
  readonly params: readonly unknown[]
  /**
   * Wall time from the call to the result, in milliseconds. For a stream: from its first read to
   * its end, so the loop body's own time is in it.
   */
  readonly ms: number
  /** The error tag when the statement failed. */
  readonly error?: DbErrorTag
  /** Whether it ran inside a transaction. */
  readonly inTransaction: boolean
  /**
   * Set for a streamed statement (`Backend.stream`) only: the rows it yielded before it ended,
   * read to its end, left early (then `error` is unset) or failed.
   */
  readonly rows?: number
}

/**
 * A stream's iterator that calls `end` once when the stream ends: read to its end, failed, or
 * left early. Its first read starts the clock (nothing runs before it). Each row costs one
 * `then` on the wrapped iterator's promise.
 */
const observedStream = <R>(
  self: Backend, q: Executable, it: AsyncIterator<R>, report: (e: StatementEvent) => void,
): AsyncIterator<R> => {
  let started = -1
  let inTransaction = false
  let rows = 0
  let ended = false
  const end = (error?: DbErrorTag): void => {
    if (ended || started < 0) return
    ended = true
    const { sql, params } = statementOf(self, q)
    report(error === undefined
      ? { sql, params, ms: performance.now() - started, inTransaction, rows }
      : { sql, params, ms: performance.now() - started, error, inTransaction, rows })
  }
  const step = (r: IteratorResult<R>): IteratorResult<R> => {
    if (r.done === true) end()
    else rows++
    return r
  }
  const failed = (e: unknown): never => {
    end(toDbError(e)._tag)
    throw e
  }
  return {
    next: () => {
      if (started < 0) {
        started = performance.now()
        inTransaction = self.inTransaction()
      }
      return it.next().then(step, failed)
    },
    return: (value?: unknown) => {
      const closing = it.return?.(value) ?? Promise.resolve({ done: true as const, value: value as R })
      return closing.then((r) => { end(); return r }, failed)
    },
    throw: (e?: unknown) => (it.throw?.(e) ?? Promise.reject(e)).then(step, failed),
  }
}

/** Time every statement and stream and report it once it has finished. */
const observe = (report: (e: StatementEvent) => void): Middleware => ({
  execute: (next, self) => <R>(q: Executable<R>) => {
    const run = next(q)
    return async () => {
      const started = performance.now()
      const result = await run()
      const { sql, params } = statementOf(self, q as Executable)
      report({ sql, params, ms: performance.now() - started, error: E.isLeft(result) ? result.left._tag : undefined, inTransaction: self.inTransaction() })
      return result
    }
  },
  stream: (next, self) => <R>(q: Executable<R>, options?: StreamOptions): AsyncIterable<R> => ({
    [Symbol.asyncIterator]: () => observedStream(self, q as Executable, next<R>(q, options)[Symbol.asyncIterator](), report),
  }),
})

/**
 * Log every statement, BEGIN and COMMIT included, with its parameters and timing; a stream once
 * it ends, with its row count (`rows`).
 *
 * @example
 * const db = wrap(base, logging((e) => console.log(`${e.ms.toFixed(1)} ms  ${e.sql}`)))
 */
export const logging = (log: (e: StatementEvent) => void): Middleware => observe(log)

/**
 * Call `onSlow` for statements that took `thresholdMs` or longer. A stream counts from its
 * first read to its end, its loop body included.
 *
 * @example
 * const slow: StatementEvent[] = []
 * const db = wrap(base, slowQueries(100, (e) => slow.push(e)))
 */
export const slowQueries = (thresholdMs: number, onSlow: (e: StatementEvent) => void): Middleware =>
  observe((e) => { if (e.ms >= thresholdMs) onSlow(e) })

/** Options of `retry`. */
export interface RetryOptions {
  /** Error tags worth another attempt. Default: SerializationFailure, Deadlock. */
  readonly on?: readonly DbErrorTag[]
  /** Attempts in all, the first included. Default 4. */
  readonly attempts?: number
  /** Milliseconds to wait before attempt n (n = 1 for the first retry). Default 10·2^(n-1) with jitter. */
  readonly backoff?: (n: number) => number
  /** Called before each retry. */
  readonly onRetry?: (error: DbError, attempt: number) => void
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * Retry transient failures (serialization failures and deadlocks by default) with backoff.
 * A whole top-level transaction is retried, callback included, since the database has already
 * rolled it back (also when its callback went on after the failure and the transaction then
 * failed with a TransactionError caused by it: nothing of it was committed); statements outside
 * transactions are retried one by one; statements inside a
 * transaction are never retried on their own. A stream outside a transaction is opened again
 * when it fails before its first row (nothing was yielded yet); once a row was yielded, or
 * inside a transaction, its failure is thrown as it is.
 *
 * @example
 * const db = wrap(base, retry({ attempts: 5 }))
 * await run(db.transaction((tx) => transfer(tx, from, to, amount), { isolation: 'serializable' }))
 */
export const retry = (options: RetryOptions = {}): Middleware => {
  const on = options.on ?? ['SerializationFailure', 'Deadlock']
  const attempts = Math.max(1, options.attempts ?? 4)
  const backoff = options.backoff ?? ((n: number) => 10 * 2 ** (n - 1) * (0.5 + Math.random()))
  // A transaction the database ended at a transient failure (a deadlock its callback went on
  // from) committed nothing: the TransactionError that reports it is as transient as its cause.
  const transient = (e: DbError): boolean =>
    on.includes(e._tag) || (e._tag === 'TransactionError' && isDbError(e.cause) && on.includes(e.cause._tag))
  const again = <X, A>(self: Backend, task: () => TaskEither<X | DbError, A>): TaskEither<X | DbError, A> => async () => {
    for (let attempt = 1; ; attempt++) {
      const r = await task()()
      // A caller's own error (not a DbError) is never transient.
      if (E.isRight(r) || attempt >= attempts || self.inTransaction()) return r
      const e: unknown = r.left
      if (!isDbError(e) || !transient(e)) return r
      options.onRetry?.(e, attempt)
      await sleep(backoff(attempt))
    }
  }
  /** A stream's first read, opening it again while it fails with a transient error. */
  const firstRow = async <R>(self: Backend, open: () => AsyncIterator<R>, opened: (it: AsyncIterator<R>) => void): Promise<IteratorResult<R>> => {
    for (let attempt = 1; ; attempt++) {
      const it = open()
      opened(it)
      try {
        return await it.next()
      } catch (e) {
        if (attempt >= attempts || self.inTransaction() || !isDbError(e) || !on.includes(e._tag)) throw e
        options.onRetry?.(e, attempt)
        await sleep(backoff(attempt))
      }
    }
  }
  return {
    // Whether we are inside a transaction is decided when the task runs, not when it is built.
    execute: (next, self) => <R>(q: Executable<R>) => () => (self.inTransaction() ? next(q)() : again(self, () => next(q))()),
    transaction: (next, self) => (fn, o) => () => (self.inTransaction() ? next(fn, o)() : again(self, () => next(fn, o))()),
    // Only the first read may be retried; after it the wrapped iterator answers directly.
    stream: (next, self) => <R>(q: Executable<R>, o?: StreamOptions): AsyncIterable<R> => ({
      [Symbol.asyncIterator]: (): AsyncIterator<R> => {
        let it: AsyncIterator<R> | undefined
        let first = true
        const open = () => next<R>(q, o)[Symbol.asyncIterator]()
        return {
          next: () => {
            if (!first) return it!.next()
            first = false
            return firstRow(self, open, (x) => { it = x })
          },
          return: (value?: unknown) => it?.return?.(value) ?? Promise.resolve({ done: true as const, value: value as R }),
          throw: (e?: unknown) => it?.throw?.(e) ?? Promise.reject(e),
        }
      },
    }),
  }
}

/** Counters kept by `metrics`. */
export interface Metrics {
  /** Statements by their first keyword (`SELECT`, `INSERT`, `BEGIN`, ...). */
  readonly statements: Readonly<Record<string, number>>
  /** Failures by error tag. */
  readonly errors: Readonly<Partial<Record<DbErrorTag, number>>>
  readonly totalMs: number
  readonly count: number
}

/**
 * Count statements by kind and failures by tag, and add up their time.
 *
 * @example
 * const m = metrics()
 * const db = wrap(base, m.middleware)
 * // ... later
 * m.snapshot() // { statements: { SELECT: 12, INSERT: 3 }, errors: {}, totalMs: 4.2, count: 15 }
 */
export const metrics = (): { readonly middleware: Middleware; readonly snapshot: () => Metrics; readonly reset: () => void } => {
  let statements: Record<string, number> = {}
  let errors: Partial<Record<DbErrorTag, number>> = {}
  let totalMs = 0
  let count = 0
  const middleware = observe((e) => {
    const kind = /^\s*([A-Za-z]+)/.exec(e.sql)?.[1]?.toUpperCase() ?? '?'
    statements[kind] = (statements[kind] ?? 0) + 1
    if (e.error !== undefined) errors[e.error] = (errors[e.error] ?? 0) + 1
    totalMs += e.ms
    count++
  })
  return {
    middleware,
    snapshot: () => ({ statements: { ...statements }, errors: { ...errors }, totalMs, count }),
    reset: () => { statements = {}; errors = {}; totalMs = 0; count = 0 },
  }
}
