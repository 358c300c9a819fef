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
import type { Backend, CloseOptions, ControlledScope, Executable, ReservedConnection, Savepoint, Transaction } from './compose.js'
import type { TransactionOptions } from './dialect.js'
import type { QueryResult, Row, StreamOptions } from './driver.js'
import { dbError, type DbError, isDbError, toDbError } from './errors.js'
import { describeValue } from './values.js'
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
  /** See `Backend.savepoint`: `fn` runs under `SAVEPOINT name` inside the current transaction. */
  readonly savepoint: <A>(name: string, fn: (sp: PromiseBackend) => Promise<A>) => Promise<A>
  /** See `Backend.startTransaction`: a transaction handed back open, ended by `commit` or `rollback`. */
  readonly startTransaction: (options?: TransactionOptions) => Promise<PromiseTransaction>
  /** See `Backend.connection`: one connection held until `release`. */
  readonly connection: () => Promise<PromiseConnection>
  /** See `Backend.close`: open transactions may end within `timeout`; then nothing runs and nothing reopens. */
  readonly close: (options?: CloseOptions) => Promise<void>
}

/** `savepoint` on a controlled transaction: a handle with a name only, a callback's result with one. */
export interface PromiseScopeSavepoint {
  <A>(name: string, fn: (sp: PromiseBackend) => Promise<A>): Promise<A>
  (name: string): Promise<PromiseSavepoint>
}

/** The Promise face of a controlled transaction or savepoint (see `ControlledScope`). */
export interface PromiseScope extends Omit<PromiseBackend, 'savepoint'> {
  readonly savepoint: PromiseScopeSavepoint
}

/** The Promise face of `Transaction`. */
export interface PromiseTransaction extends PromiseScope {
  readonly commit: () => Promise<void>
  readonly rollback: () => Promise<void>
}

/** The Promise face of `Savepoint`. */
export interface PromiseSavepoint extends PromiseScope {
  readonly name: string
  readonly release: () => Promise<void>
  readonly rollback: () => Promise<void>
}

/** The Promise face of `ReservedConnection`. */
export interface PromiseConnection extends PromiseBackend {
  readonly release: () => Promise<void>
}

const optionToUndefined = <A>(o: Option<A>): A | undefined => (o._tag === 'Some' ? o.value : undefined)

/**
 * The Promise face of a backend.
 * @example
 * const db = promised(backend)
 * await db.transaction(async (tx) => { await tx.execute(q1); await tx.execute(q2) })
 */
export const promised = (backend: Backend): PromiseBackend => Object.freeze(promiseFace(backend))

/**
 * Run a callback-form scope (a transaction or a savepoint) with a Promise callback: a
 * non-DbError thrown by `fn` (or its Promise's rejection) is rethrown as it was, after the
 * rollback. A callback that returns no Promise (nor a thenable) is a TransactionError saying so,
 * after the rollback: `what` names the scope in it.
 */
const viaCallback = async <A>(what: 'transaction' | 'savepoint', open: (f: (tx: Backend) => TaskEither<DbError, A>) => TaskEither<DbError, A>, fn: (tx: PromiseBackend) => Promise<A>): Promise<A> => {
  let thrown: { readonly value: unknown } | undefined
  const failed = (e: unknown): E.Either<DbError, never> => {
    if (!isDbError(e)) thrown = { value: e }
    return E.left(toDbError(e, 'TransactionError'))
  }
  // `tx` is the scope's own backend: used after the scope ended, it refuses. The calls made on
  // its face are counted, and the scope ends (COMMIT or ROLLBACK) only after every one of them
  // has: a call the callback did not await still runs inside it, never half before and half after.
  const r = await open((tx) => () => {
    const face = promised(tx)
    const calls = new Set<Promise<void>>()
    inFlight.set(face, calls)
    const drained = <B>(outcome: B): B | Promise<B> => (calls.size === 0 ? outcome : settled(calls).then(() => outcome))
    let result: unknown
    try {
      result = fn(face)
    } catch (e) {
      return Promise.resolve(drained(failed(e)))
    }
    if (!isThenable(result)) return Promise.resolve(drained(E.left(noPromise(what, result))))
    return Promise.resolve(result as PromiseLike<A>).then((a) => drained(E.right(a)), (e) => drained(failed(e)))
  })()
  if (E.isRight(r)) return r.right
  throw thrown !== undefined && r.left.cause === thrown.value ? thrown.value : r.left
}

/** The calls in flight on the Promise face of a callback scope (a transaction's or a savepoint's `tx`). */
const inFlight = new WeakMap<object, Set<Promise<void>>>()

/**
 * Count a call made on `db` when it is the face of a callback scope, which then ends only after
 * the call has: the caller gets a Promise of its own, so a rejection nobody awaits is still
 * reported as unhandled.
 * @example const row = await tracked(tx, run(User.create(tx.backend, input)))
 */
export const tracked = <A>(db: unknown, call: Promise<A>): Promise<A> => {
  const calls = typeof db === 'object' && db !== null ? inFlight.get(db) : undefined
  if (calls === undefined) return call
  const done = call.then(() => undefined, () => undefined)
  calls.add(done)
  void done.then(() => calls.delete(done))
  return call.then((a) => a)
}

/** Resolves once no call is in flight, a turn of the event loop after the last one ended (a call chained on it counts). */
const settled = async (calls: Set<Promise<void>>): Promise<void> => {
  for (;;) {
    while (calls.size > 0) await Promise.all([...calls])
    await new Promise<void>((resolve) => setImmediate(resolve))
    if (calls.size === 0) return
  }
}

const isThenable = (u: unknown): u is PromiseLike<unknown> =>
  (typeof u === 'object' || typeof u === 'function') && u !== null && typeof (u as { then?: unknown }).then === 'function'

/** The TransactionError of a scope callback that returned no Promise (it is rolled back). */
const noPromise = (what: string, result: unknown): DbError =>
  dbError('TransactionError', `${what}: the callback must return a Promise (make it an async function, or return the Promise it makes), got ${describeValue(result)}; the ${what} was rolled back`)

const scopeFace = (scope: ControlledScope): PromiseScope => {
  const savepoint = (<A>(name: string, fn?: (sp: PromiseBackend) => Promise<A>) =>
    fn === undefined
      ? run(scope.savepoint(name)).then(savepointFace)
      : viaCallback<A>('savepoint', (f) => scope.savepoint(name, f), fn)) as PromiseScopeSavepoint
  return { ...promiseFace(scope as unknown as Backend), savepoint }
}

const savepointFace = (sp: Savepoint): PromiseSavepoint =>
  Object.freeze({ ...scopeFace(sp), name: sp.name, release: () => run(sp.release()), rollback: () => run(sp.rollback()) })

const transactionFace = (tx: Transaction): PromiseTransaction =>
  Object.freeze({ ...scopeFace(tx), commit: () => run(tx.commit()), rollback: () => run(tx.rollback()) })

const connectionFace = (c: ReservedConnection): PromiseConnection =>
  Object.freeze({ ...promiseFace(c), release: () => run(c.release()) })

const promiseFace = (backend: Backend): PromiseBackend => {
  const p: PromiseBackend = ({
    backend,
    execute: (q) => tracked(p, run(backend.execute(q))),
    all: (q) => tracked(p, run(backend.all(q))),
    first: (q) => tracked(p, run(backend.first(q)).then(optionToUndefined)),
    query: (f) => tracked(p, run(backend.query(f))),
    stream: (q, o) => backend.stream(q, o),
    executeBatch: (q, sets) => tracked(p, run(backend.executeBatch(q, sets))),
    transaction: (fn, options) => tracked(p, viaCallback('transaction', (f) => backend.transaction(f, options), fn)),
    savepoint: (name, fn) => tracked(p, viaCallback('savepoint', (f) => backend.savepoint(name, f), fn)),
    startTransaction: (options) => run(backend.startTransaction(options)).then(transactionFace),
    connection: () => run(backend.connection()).then(connectionFace),
    close: (options) => run(backend.close(options)),
  } satisfies PromiseBackend)
  return p
}
