/**
 * Running a dialect's catalog reads (`CatalogRead`, see ddl-dialect.ts) on a backend: each
 * statement the read yields is run with the backend's `all`, and its rows are handed back.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import { toDbError, type DbError } from '../errors.js'
import type { CatalogRead, RunQuery } from './ddl-dialect.js'

/**
 * Run a catalog read through `run`. The read is made anew on every run of the TaskEither (a
 * generator runs once); a DbError it throws, or one a statement fails with, is the Left.
 *
 * @example
 * const names = await run(runCatalog((f) => db.all(f), () => db.dialect.introspectTableNames()))
 */
export const runCatalog = <A>(run: RunQuery, read: () => CatalogRead<A>): TaskEither<DbError, A> => async () => {
  try {
    const g = read()
    let step = g.next()
    while (step.done !== true) {
      const rows = await run(step.value)()
      if (E.isLeft(rows)) {
        g.return(undefined as never)
        return rows
      }
      step = g.next(rows.right)
    }
    return E.right(step.value)
  } catch (e) {
    return E.left(toDbError(e))
  }
}
