/**
 * One connection, one holder at a time: the lock a driver over a single-connection engine
 * (an embedded database, a client with one session) needs for `reserve`.
 *
 * A transaction's BEGIN, its statements and its COMMIT must not interleave with anyone
 * else's statements on the same connection. So `reserve` acquires the lock and the held
 * connection's `release` gives it back; every statement run outside the transaction waits its
 * turn with `run`. Waiters are served in the order they came.
 */

/** A first-come, first-served lock over one connection. */
export interface ConnectionLock {
  /** Whether someone holds the connection now. */
  readonly held: () => boolean
  /** Wait until the connection is free, then hold it. */
  readonly acquire: () => Promise<void>
  /** Give the connection to the next waiter, or free it. Call once per `acquire`. */
  readonly release: () => void
  /** Hold the connection while `f` runs; released however `f` ends. */
  readonly run: <A>(f: () => Promise<A>) => Promise<A>
}

/**
 * A new lock, free.
 *
 * @example
 * const lock = connectionLock()
 * const execute = (q) => () => lock.run(() => runOn(connection, q))
 * const reserve = () => async () => { await lock.acquire(); return right({ execute: ..., release: async () => lock.release() }) }
 */
export const connectionLock = (): ConnectionLock => {
  let busy = false
  const waiters: (() => void)[] = []
  const acquire = (): Promise<void> => {
    if (!busy) {
      busy = true
      return Promise.resolve()
    }
    return new Promise((resolve) => waiters.push(resolve))
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
