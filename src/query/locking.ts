/**
 * Row locks on a SELECT, for queue consumers and read-modify-write: `FOR UPDATE`,
 * `FOR SHARE`, with `NOWAIT` or `SKIP LOCKED` and `OF tables`. PostgreSQL has all of them
 * (and `FOR NO KEY UPDATE` / `FOR KEY SHARE`); MySQL 8 all but the key strengths; MariaDB
 * writes share as `LOCK IN SHARE MODE`, has NOWAIT (10.3+) and SKIP LOCKED (10.6+) but no
 * `OF`; SQLite has no row locks (an UnsupportedFeature: use a transaction with
 * `behavior: 'immediate'`). Locks are held until the transaction ends: run these inside
 * `db.transaction`.
 */
import type { LockClause, SelectNode } from '../ast.js'
import { patchSelect } from '../query.js'

/** Options of a lock clause. */
export interface LockOptions {
  /** Lock only rows of these tables (or aliases). */
  readonly of?: readonly string[]
  /** Fail at once when a row is locked. */
  readonly nowait?: boolean
  /** Leave locked rows out of the result (a job queue's consumers each take other rows). */
  readonly skipLocked?: boolean
}

const lockWith = (strength: LockClause['strength']) => (options: LockOptions = {}) => <Q extends SelectNode>(q: Q): Q =>
  patchSelect(q, {
    lock: ({
      strength,
      ...(options.of === undefined ? {} : { of: options.of }),
      ...(options.nowait === true ? { wait: 'nowait' as const } : options.skipLocked === true ? { wait: 'skip locked' as const } : {}),
    }),
  })

/**
 * `FOR UPDATE`: lock the selected rows against writes and other FOR UPDATE.
 * @example pipe(from('ql_jobs'), where({ state: 'ready' }), orderBy('id'), limit(10), forUpdate({ skipLocked: true }))
 */
export const forUpdate = lockWith('update')
/**
 * `FOR SHARE` (`LOCK IN SHARE MODE` on MariaDB): lock the rows against writes.
 * @example pipe(from('account'), where({ id: 1 }), forShare())
 */
export const forShare = lockWith('share')
/** `FOR NO KEY UPDATE` (PostgreSQL). @example forNoKeyUpdate({ nowait: true }) */
export const forNoKeyUpdate = lockWith('no key update')
/** `FOR KEY SHARE` (PostgreSQL). @example forKeyShare() */
export const forKeyShare = lockWith('key share')
