/**
 * One connection, one holder at a time: the lock a driver over a single-connection engine
 * (an embedded database, a client with one session) needs for `reserve`.
 *
 * A transaction's BEGIN, its statements and its COMMIT must not interleave with anyone
 * else's statements on the same connection. So `reserve` acquires the lock and the held
 * connection's `release` gives it back; every statement run outside the transaction waits its
 * turn with `run`. Waiters are served in the order they came, and none waits longer than the
 * lock's `acquireTimeout`: it then fails with a PoolTimeout error and leaves the queue.
 */
import { dbError } from '../errors.js'

/** A first-come, first-served lock over one connection. */
export interface ConnectionLock {
  /** Whether someone holds the connection now. */
  readonly held: () => boolean
  /** Wait until the connection is free, then hold it. Rejects with PoolTimeout after `acquireTimeout`. */
  readonly acquire: () => Promise<void>
  /** Give the connection to the next waiter, or free it. Call once per `acquire`. */
  readonly release: () => void
  /** Hold the connection while `f` runs; released however `f` ends. Rejects with PoolTimeout as `acquire` does. */
  readonly run: <A>(f: () => Promise<A>) => Promise<A>
}

/** Options of `connectionLock`. */
export interface ConnectionLockOptions {
  /** Milliseconds a caller waits for the connection before PoolTimeout. Default 30,000. */
  readonly acquireTimeout?: number
  /** Named in the timeout's message, e.g. `better-sqlite3`. */
  readonly name?: string
}

/**
 * A new lock, free.
 *
 * @example
 * const lock = connectionLock({ acquireTimeout: 5_000 })
 * const execute = (q) => () => lock.run(() => runOn(connection, q))
 * const reserve = () => async () => { await lock.acquire(); return right({ execute: ..., release: async () => lock.release() }) }
 */
export const connectionLock = (options: ConnectionLockOptions = {}): ConnectionLock => {
  const timeout = options.acquireTimeout ?? 30_000
  let busy = false
  const waiters: (() => void)[] = []
  const acquire = (): Promise<void> => {
    if (!busy) {
      busy = true
      return Promise.resolve()
    }
    return new Promise((resolve, reject) => {
      const wake = (): void => {
        clearTimeout(timer)
        resolve()
      }
      const timer = setTimeout(() => {
        const i = waiters.indexOf(wake)
        if (i >= 0) waiters.splice(i, 1)
        reject(dbError('PoolTimeout', `no connection${options.name === undefined ? '' : ` of ${options.name}`} became free within ${timeout} ms (acquireTimeout): it is held by a transaction or a stream`, { waited: timeout }))
      }, timeout)
      waiters.push(wake)
    })
  }
  const release = (): void => {
    const next = waiters.shift()
    if (next !== undefined) next()
    else busy = false
  }
  return Object.freeze({
    held: () => busy,
    acquire,
    release,
    run: async <A>(f: () => Promise<A>): Promise<A> => {
      await acquire()
      try {
        return await f()
      } finally {
        release()
      }
    },
  })
}
