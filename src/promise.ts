/**
 * The Promise adapter, for code that does not use fp-ts. Built on the same functions: every
 * call resolves to the value or rejects with the DbError.
 *
 * ```ts
 * import { promised } from 'recordkit/promise'
 * const db = promised(compose(betterSqlite3({ filename: ':memory:' }), sqlite))
 * const rows = await db.all(pipe(from('users'), where({ id: 1 })))
 * ```
 */
import * as E from './fp.js'
import type { Option } from 'fp-ts/lib/Option.js'
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import type { Backend, CloseOptions, Executable } from './compose.js'
import type { TransactionOptions } from './dialect.js'
import type { QueryResult, Row, StreamOptions } from './driver.js'
import { type DbError, isDbError, toDbError } from './errors.js'
import type { Fragment } from './sql.js'

/**
 * Run a TaskEither: resolve with its value, reject with its DbError.
 * @example const rows = await run(db.all(sql`SELECT 1 AS one`))
 */
export const run = <A>(te: TaskEither<DbError, A>): Promise<A> =>
  te().then((r) => (E.isLeft(r) ? Promise.reject(r.left) : r.right))

/** A backend whose functions return Promises. */
export interface PromiseBackend {
  readonly backend: Backend
  readonly execute: <R = Row>(q: Executable<R>) => Promise<QueryResult<R>>
  readonly all: <R = Row>(q: Executable<R>) => Promise<R[]>
  /** The first row, or undefined. */
  readonly first: <R = Row>(q: Executable<R>) => Promise<R | undefined>
  readonly query: <R = Row>(fragment: Fragment) => Promise<R[]>
  readonly stream: <R = Row>(q: Executable<R>, options?: StreamOptions) => AsyncIterable<R>
  /** One statement run once per set of parameters (see `Backend.executeBatch`). */
  readonly executeBatch: <R = Row>(q: Executable<R>, sets: readonly (readonly unknown[])[]) => Promise<QueryResult<R>[]>
  /** Commits when `fn` resolves, rolls back and rejects with its error when it rejects. */
  readonly transaction: <A>(fn: (tx: PromiseBackend) => Promise<A>, options?: TransactionOptions) => Promise<A>
  /** See `Backend.close`: open transactions may end within `timeout`; then nothing runs and nothing reopens. */
  readonly close: (options?: CloseOptions) => Promise<void>
}

const optionToUndefined = <A>(o: Option<A>): A | undefined => (o._tag === 'Some' ? o.value : undefined)

/**
 * The Promise face of a backend.
 * @example
 * const db = promised(backend)
 * await db.transaction(async (tx) => { await tx.execute(q1); await tx.execute(q2) })
 */
export const promised = (backend: Backend): PromiseBackend => {
  const p: PromiseBackend = Object.freeze({
    backend,
    execute: (q) => run(backend.execute(q)),
    all: (q) => run(backend.all(q)),
    first: (q) => run(backend.first(q)).then(optionToUndefined),
    query: (f) => run(backend.query(f)),
    stream: (q, o) => backend.stream(q, o),
    executeBatch: (q, sets) => run(backend.executeBatch(q, sets)),
    transaction: async (fn, options) => {
      // A non-DbError thrown by fn is rethrown as it was, after the rollback.
      let thrown: { readonly value: unknown } | undefined
      // `tx` is the transaction's own backend: used after the transaction ended, it refuses.
      const r = await backend.transaction((tx) => () => fn(promised(tx)).then((a) => E.right(a), (e: unknown) => {
        if (!isDbError(e)) thrown = { value: e }
        return E.left(toDbError(e, 'TransactionError'))
      }), options)()
      if (E.isRight(r)) return r.right
      throw thrown !== undefined && r.left.cause === thrown.value ? thrown.value : r.left
    },
    close: (options) => run(backend.close(options)),
  } satisfies PromiseBackend)
  return p
}
