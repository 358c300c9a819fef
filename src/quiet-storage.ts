/**
 * An AsyncLocalStorage that switches itself off when quiet.
 *
 * On Node 20, an AsyncLocalStorage that has run a store follows every promise of the process
 * through a promise hook (recordkit's and the application's alike) for as long as it is
 * enabled: measured, 1000 concurrent point selects on PostgreSQL took 15-20% more client CPU per
 * statement while one was on. A quiet storage is enabled by `run`, holds itself on while any
 * `run` it began has not settled (its promise, when `f` returns one), and is disabled once none
 * is pending and none began for `QUIET_MS` (and not before a time given to `keepUntil`). The
 * next `run` enables it again.
 *
 * What a store is for decides whether this fits: a store read only by the calls `f` makes before
 * its promise settles is never taken from them. Work `f` leaves running after it settled keeps
 * the store only until the storage is switched off; after that it reads `undefined`, unless it
 * was waiting on a timer or promise made before, whose store comes back when the storage is on.
 */
import { AsyncLocalStorage } from 'node:async_hooks'

/** How long a quiet storage stays on after its last `run` settled, in ms. */
export const QUIET_MS = 250

/** A storage that is disabled when no `run` is pending and none began for a while. */
export interface QuietStorage<T> {
  /** The store of the current context; undefined outside any `run` (and once switched off). */
  readonly getStore: () => T | undefined
  /**
   * Run `f` with `store` as its context's store, the storage held on until `f`'s result settles
   * when it is a promise (else until `f` returns); `done` is called then.
   */
  readonly run: <R>(store: T, f: () => R, done?: () => void) => R
  /** Keep the storage on until at least `time` (a `Date.now()` value). */
  readonly keepUntil: (time: number) => void
}

/** How many quiet storages are enabled now. */
let enabledCount = 0

/**
 * How many quiet storages are enabled now, for tests: 0 once every one of them has been quiet
 * long enough.
 *
 * @example
 * await sleep(QUIET_MS * 3)
 * quietStoragesEnabled() // 0
 */
export const quietStoragesEnabled = (): number => enabledCount

const isThenable = (x: unknown): x is PromiseLike<unknown> =>
  (typeof x === 'object' || typeof x === 'function') && x !== null && typeof (x as { then?: unknown }).then === 'function'

/**
 * A new quiet storage (see the module's comment).
 *
 * @example
 * const pin = quietStorage<number>()
 * await pin.run(1, async () => pin.getStore()) // 1
 * pin.getStore()                               // undefined
 */
export const quietStorage = <T>(quietMs = QUIET_MS): QuietStorage<T> => {
  const als = new AsyncLocalStorage<T>()
  let pending = 0
  /** Whether a `run` began since the last look. */
  let used = false
  let until = Number.NEGATIVE_INFINITY
  let timer: ReturnType<typeof setTimeout> | undefined

  const arm = (ms: number): void => {
    timer = setTimeout(look, ms)
    timer.unref?.()
  }

  /** Disable the storage when nothing holds it on; else look again later. */
  const look = (): void => {
    timer = undefined
    const wait = until - Date.now()
    if (pending > 0 || used || wait > 0) {
      used = false
      arm(Math.max(quietMs, wait))
      return
    }
    als.disable()
    enabledCount--
  }

  return Object.freeze({
    getStore: () => als.getStore(),
    keepUntil: (time: number) => {
      if (time > until) until = time
    },
    run: <R>(store: T, f: () => R, done?: () => void): R => {
      used = true
      if (timer === undefined) {
        enabledCount++
        arm(quietMs)
      }
      pending++
      let settled = false
      const release = (): void => {
        if (settled) return
        settled = true
        pending--
        done?.()
      }
      let r: R
      try {
        r = als.run(store, f)
      } catch (e) {
        release()
        throw e
      }
      // The caller gets `r` itself, with no extra step before it settles. (Its rejection counts
      // as handled here: the tasks that run in these storages do not reject, and an iterator's
      // `next()` is awaited by its loop.)
      if (isThenable(r)) r.then(release, release)
      else release()
      return r
    },
  })
}
