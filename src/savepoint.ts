/**
 * Named savepoints inside a transaction, for code that wants to name them (the way Python
 * ActiveRecord's `transaction.savepoint('name')` does). Nested `db.transaction` calls already
 * become savepoints with generated names; this is the same with a name of your own.
 */
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import type { Backend } from './compose.js'
import type { DbError } from './errors.js'

/**
 * Run `fn` under `SAVEPOINT name`: released when it succeeds, rolled back to (and released)
 * when it fails, the transaction going on either way. Only inside a transaction (a
 * TransactionError outside one). The same as `db.savepoint(name, fn)`, which it calls: `fn`
 * gets the savepoint's own handle, and the savepoint is ordered with the transaction's
 * statements and other savepoints. A savepoint may be opened inside one of the same name: its
 * statements then use that name with a number (`coupon_2`), since MySQL and MariaDB would replace
 * the outer savepoint by the inner one, where PostgreSQL and SQLite nest them.
 *
 * @example
 * await run(db.transaction((tx) => pipe(
 *   Order.create(tx, order),
 *   TE.chain((o) => pipe(savepoint(tx, 'coupon', (sp) => applyCoupon(sp, o)), TE.orElse(() => TE.right(o)))),
 * )))
 */
export const savepoint = <E, A>(db: Backend, name: string, fn: (tx: Backend) => TaskEither<E | DbError, A>): TaskEither<E | DbError, A> => db.savepoint<E, A>(name, fn)
