/**
 * Open records and their fixpoint: the mechanism behind `extend`.
 *
 * An open record is a function `(self) => record`. Its functions call siblings through `self`,
 * never directly, so when `extend` replaces one field every other field sees the replacement.
 * `fix` ties the knot and keeps the open form on the result, so extending twice works.
 */

const OPEN = Symbol.for('recordkit.open')

/** A record written against its own final form. */
export type Open<T> = (self: T) => T

/**
 * Close an open record: the result is frozen, and `self` inside it is the result itself.
 * Fields must not read `self` while the record is being built, only when called.
 *
 * @example
 * const counter = fix<{ one: () => number; two: () => number }>((self) => ({
 *   one: () => 1,
 *   two: () => self.one() + 1,
 * }))
 */
export const fix = <T extends object>(open: Open<T>): T => {
  const self = {} as T
  Object.assign(self, open(self))
  Object.defineProperty(self, OPEN, { value: open, enumerable: false })
  return Object.freeze(self)
}

/**
 * The open form of a record made by `fix`; a plain object's open form ignores `self`.
 *
 * @example
 * openOf(sqlite)(mySelf) // sqlite's fields, calling siblings through mySelf
 */
export const openOf = <T extends object>(record: T): Open<T> =>
  ((record as Record<symbol, unknown>)[OPEN] as Open<T> | undefined) ?? (() => ({ ...record }))

/**
 * A new record with some fields replaced (or added). In `f`, `self` is the final record and
 * `base` the record being extended, bound to that same final `self` (call it to delegate, as
 * `super` would). Every function of the base that calls an overridden sibling through `self`
 * now calls the override.
 *
 * Works for dialects, drivers and backends alike. New fields are added by naming their type:
 * `extend<Dialect, { jsonPath: (...) => Fragment }>(postgres, ...)`; without it, every field
 * returned must be one the base has. Write `({ ... }) satisfies Partial<Dialect>` to have a
 * misspelt field name reported by the compiler.
 *
 * @example
 * const legacy = extend(sqlite, (self, base) => ({
 *   limitOffset: (limit, offset) => base.limitOffset(limit, offset),
 * }))
 */
export const extend = <T extends object, U extends object = {}>(
  base: T,
  f: (self: T & U, base: T) => Partial<T> & NoInfer<U>,
): T & U => {
  const baseOpen = openOf(base)
  return fix<T & U>((self) => {
    const b = baseOpen(self)
    return { ...b, ...f(self, b) } as T & U
  })
}
