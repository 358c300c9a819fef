/**
 * Named savepoints inside a transaction, for code that wants to name them (the way Python
 * ActiveRecord's `transaction.savepoint('name')` does). Nested `db.transaction` calls already
 * become savepoints with generated names; this is the same with a name of your own.
 */
import { left, right } from './fp.js'
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import type { Backend } from './compose.js'
import { dbError, type DbError, toDbError } from './errors.js'
import { sql } from './sql.js'

/**
 * Run `fn` under `SAVEPOINT name`: released when it succeeds, rolled back to (and released)
 * when it fails, the transaction going on either way. Only inside a transaction (a
 * TransactionError outside one); run savepoints of one transaction one after another.
 *
 * @example
 * await run(db.transaction((tx) => pipe(
 *   Order.create(tx, order),
 *   TE.chain((o) => pipe(savepoint(tx, 'coupon', (sp) => applyCoupon(sp, o)), TE.orElse(() => TE.right(o)))),
 * )))
 */
export const savepoint = <E, A>(db: Backend, name: string, fn: (tx: Backend) => TaskEither<E | DbError, A>): TaskEither<E | DbError, A> => async () => {
  if (!db.inTransaction()) return left(dbError('TransactionError', `savepoint ${name}: not inside a transaction`))
  let open: string, rollback: string, release: string
  try {
    open = db.dialect.savepoint(name)
    rollback = db.dialect.rollbackToSavepoint(name)
    release = db.dialect.releaseSavepoint(name)
  } catch (e) {
    return left(toDbError(e))
  }
  const exec = (text: string) => db.execute(sql.raw(text))()
  const opened = await exec(open)
  if (opened._tag === 'Left') return opened
  let result
  try {
    result = await fn(db)()
  } catch (e) {
    result = left(toDbError(e, 'TransactionError'))
  }
  if (result._tag === 'Left') {
    const back = await exec(rollback)
    if (back._tag === 'Left') return back
    await exec(release)
    return result
  }
  const released = await exec(release)
  return released._tag === 'Left' ? released : right(result.right)
}
