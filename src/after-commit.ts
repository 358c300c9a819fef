/**
 * afterCommit: work that runs once the transaction holding a write has committed (Django's
 * `transaction.on_commit`, Rails' `after_commit`). An e-mail sent, an event published or a cache
 * cleared inside a transaction stays done when the transaction later rolls back; queued with
 * `afterCommit`, it runs only once the COMMIT is acknowledged, and never when the work is undone.
 *
 * The queue lives on the transaction scope in src/compose.ts (its transaction context); this
 * module holds the public function, the hook a backend answers it through, and the running of
 * the queued callbacks.
 */
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import type { Backend } from './compose.js'
import * as E from './fp.js'
import { dbError, type DbError } from './errors.js'

/**
 * A callback queued by `afterCommit`. A callback that returns a TaskEither (TypeScript lets a
 * function returning anything stand for one returning void) has it run and awaited, its Left
 * counting as the callback's failure: database work written the fp-ts way is not left unrun.
 */
export type AfterCommitCallback = () => void | Promise<void>

/**
 * The backend field `afterCommit` reaches the scope through: every backend made by `compose`
 * (and every transaction, savepoint and reserved-connection handle of it, `wrap` and `extend`
 * included) has it. Internal: use `afterCommit`.
 */
export const AFTER_COMMIT: unique symbol = Symbol.for('recordkit.afterCommit')

/** A backend with the hook (see `AFTER_COMMIT`): what `compose` makes. Internal. */
export interface WithAfterCommit {
  readonly [AFTER_COMMIT]: (f: AfterCommitCallback) => TaskEither<DbError, void>
}

/**
 * Run `f` once the transaction `db` is in has committed; outside any transaction, at once.
 *
 * Inside a transaction (the callback form, a nested transaction or savepoint at any depth, a
 * controlled transaction from `startTransaction()` or one of its savepoint handles, a
 * transaction on a reserved connection), `f` is queued on the outermost transaction. After its
 * COMMIT is acknowledged, the queued callbacks run in the order they were registered, each
 * awaited before the next, and all of them before the transaction's own TaskEither (or
 * `commit()`) answers: the caller of `db.transaction(...)` sees their effects when it gets its
 * Right. They run outside the transaction, once its connection is given back: a statement in
 * them runs as any statement on the backend would.
 *
 * - Registered in a savepoint (nested transaction, `savepoint`) that is rolled back: dropped. In
 *   one released: kept, for the outer COMMIT.
 * - The transaction rolled back (its callback's Left, a thrown error, `rollback()`, a COMMIT the
 *   server refused): every queued callback is dropped, never run.
 * - A COMMIT whose outcome is unknown (the connection was lost during it: ConnectionError with
 *   `outcome: 'unknown'`): the callbacks are not run either, since the work they would act on
 *   may not be stored. The error says the outcome is unknown; what follows is the caller's call.
 * - A callback that throws or rejects: the transaction stays committed (an acknowledged write is
 *   never undone), the callbacks after it still run, and the transaction's answer becomes a Left
 *   TransactionError with `committed: true` (its work is stored: do not run it again), whose
 *   message names the failing callback's index and error, and whose `cause` is that error (the
 *   first one, with the count, when several failed).
 * - Outside any transaction (or on a reserved connection outside one), `f` runs at once and the
 *   task answers after it; a throw is the same TransactionError with `committed: true`.
 * - Called with the handle of a transaction that has ended (a `tx` kept after its callback
 *   returned): a TransactionError, as any call on an ended scope is.
 *
 * The callbacks are awaited: a callback that never settles keeps the transaction's answer
 * waiting. Give long work a time limit of its own, or hand it to a queue. Until they end, the
 * transaction counts as open for `close`, which waits for it (up to its `timeout`).
 *
 * @example
 * await run(db.transaction((tx) => pipe(
 *   Order.create(tx, order),
 *   TE.chainFirst((o) => afterCommit(tx, () => mailer.send(o.email, 'Order received'))),
 * )))
 */
export const afterCommit = (db: Backend, f: AfterCommitCallback): TaskEither<DbError, void> => {
  const hook = (db as Backend & Partial<WithAfterCommit>)[AFTER_COMMIT]
  if (hook !== undefined) return hook(f)
  // A backend not made by `compose` (a record of one's own): it cannot hold the callback for a
  // COMMIT, so inside a transaction it refuses rather than run it too early.
  return () => db.inTransaction()
    ? Promise.resolve(E.left(dbError('TransactionError', 'afterCommit: this backend was not made by compose and cannot hold a callback until its transaction commits; register it on a backend made by compose (or a handle of one)')))
    : runAfterCommit([f], false)
}

/**
 * Run queued callbacks in order, each awaited before the next, every one of them whatever the
 * others did: Right when all succeeded, else the TransactionError `afterCommit` describes.
 * `inTransaction`: whether they ran after a transaction's COMMIT (else at once, outside one).
 *
 * @example await runAfterCommit([() => console.log('stored')], true) // { _tag: 'Right', right: undefined }
 */
export const runAfterCommit = async (callbacks: readonly AfterCommitCallback[], inTransaction: boolean): Promise<E.Either<DbError, void>> => {
  let first: { readonly index: number; readonly error: unknown } | undefined
  let failed = 0
  for (let i = 0; i < callbacks.length; i++) {
    try {
      const out: unknown = await callbacks[i]()
      // A TaskEither given where a callback was (see `AfterCommitCallback`): run it.
      const ran: unknown = typeof out === 'function' ? await (out as () => unknown)() : out
      if (E.isEither(ran) && E.isLeft(ran)) throw ran.left
    } catch (e) {
      failed++
      if (first === undefined) first = { index: i, error: e }
    }
  }
  if (first === undefined) return E.right(undefined)
  const what = inTransaction
    ? 'the transaction committed (its work is stored: do not run it again)'
    : 'the after-commit callback ran at once, outside any transaction (what ran before it is stored)'
  const message = first.error instanceof Error ? first.error.message : String(first.error)
  const which = failed === 1
    ? `after-commit callback ${first.index} (from 0, of ${callbacks.length}) failed: ${message}`
    : `${failed} of ${callbacks.length} after-commit callbacks failed; the first, callback ${first.index} (from 0): ${message}`
  return E.left(dbError('TransactionError', `${what}, but ${which}`, { cause: first.error, committed: true }))
}
