/**
 * A unit of statements on a synchronous path (better-sqlite3): opened, run and ended in one turn
 * of the event loop, so no other statement can run inside it. Its own transaction (BEGIN, then
 * COMMIT or ROLLBACK), or inside the caller's a savepoint (SAVEPOINT, then RELEASE or ROLLBACK TO
 * and RELEASE). Used by `compose` for an INSERT split into parts and by the models' one-row writes.
 */
import type { Dialect } from './dialect.js'
import { type DbError, isDbError, toDbError } from './errors.js'

/** Either, as the synchronous paths give it (fp-ts' shape, without importing fp-ts). */
type Result<A> = { readonly _tag: 'Left'; readonly left: DbError } | { readonly _tag: 'Right'; readonly right: A }

/** The statements that open, end and undo a unit, of any form (text, or compiled). */
export interface UnitStatements<S> {
  readonly open: readonly S[]
  readonly done: readonly S[]
  readonly undo: readonly S[]
}

/**
 * A unit's statements as text: BEGIN / COMMIT / ROLLBACK, or inside a transaction (`inner`)
 * SAVEPOINT / RELEASE / ROLLBACK TO + RELEASE of `savepoint`. Throws what the dialect throws for
 * statements it refuses.
 *
 * @example unitTexts(sqlite, true, 'rk_insert_parts').open // ['SAVEPOINT "rk_insert_parts"']
 */
export const unitTexts = (d: Dialect, inner: boolean, savepoint: string): UnitStatements<string> =>
  inner
    ? { open: [d.savepoint(savepoint)], done: [d.releaseSavepoint(savepoint)], undo: [d.rollbackToSavepoint(savepoint), d.releaseSavepoint(savepoint)] }
    : { open: d.beginTransaction({}), done: [d.commit()], undo: [d.rollback()] }

/**
 * Run `body` as one unit: `unit.open`, `body`, `unit.done`, each statement through `run`; when
 * `body` gives a Left or throws, or the end fails, `unit.undo` runs and the error is the result.
 *
 * @example runUnit(unitTexts(sqlite, false, 'x'), (text) => runText(text), () => insertAll())
 */
export const runUnit = <S, A>(unit: UnitStatements<S>, run: (statement: S) => Result<unknown>, body: () => Result<A>): Result<A> => {
  const runAll = (statements: readonly S[]): Result<unknown> => {
    for (const s of statements) {
      const r = run(s)
      if (r._tag === 'Left') return r
    }
    return { _tag: 'Right', right: undefined }
  }
  const opened = runAll(unit.open)
  if (opened._tag === 'Left') return opened
  let out: Result<A>
  try {
    out = body()
  } catch (e) {
    out = { _tag: 'Left', left: isDbError(e) ? e : toDbError(e) }
  }
  if (out._tag === 'Left') {
    runAll(unit.undo)
    return out
  }
  const ended = runAll(unit.done)
  if (ended._tag === 'Left') {
    runAll(unit.undo)
    return ended
  }
  return out
}
