/**
 * Open records and their fixpoint: the mechanism behind `extend`.
 *
 * An open record is a function `(self) => record`. Its functions call siblings through `self`,
 * never directly, so when `extend` replaces one field every other field sees the replacement.
 * `fix` ties the knot and keeps the open form on the result, so extending twice works.
 */

const OPEN = Symbol.for('recordkit.open')
const LAYERS = Symbol.for('recordkit.layers')

/** A record written against its own final form. */
export type Open<T> = (self: T) => T

/** One step of a record's making: fields over the record below, optionally named by a tag. */
interface Layer {
  readonly fields: (self: never, base: never) => object
  readonly tag?: symbol
}

const close = <T extends object>(open: Open<T>, layers: readonly Layer[]): T => {
  const self = {} as T
  Object.assign(self, open(self))
  Object.defineProperty(self, OPEN, { value: open, enumerable: false })
  Object.defineProperty(self, LAYERS, { value: layers, enumerable: false })
  return Object.freeze(self)
}

const layersOf = (record: object): readonly Layer[] =>
  ((record as Record<symbol, unknown>)[LAYERS] as readonly Layer[] | undefined) ??
  [{ fields: (self: never) => openOf(record)(self) }]

/** Close a stack of layers: each layer's `base` is the fields of the layers below it. */
const fixLayers = <T extends object>(layers: readonly Layer[]): T =>
  close<T>(layers.length === 1
    ? (self) => (layers[0].fields as (s: T, b: T) => T)(self, {} as T)
    : (self) => {
      let b = {} as T
      for (const l of layers) b = { ...b, ...(l.fields as (s: T, b: T) => Partial<T>)(self, b) }
      return b
    }, layers)

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
export const fix = <T extends object>(open: Open<T>): T =>
  close(open, [{ fields: (self: never) => open(self) }])

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
): T & U => fixLayers<T & U>([...layersOf(base), { fields: f as Layer['fields'] }])

/**
 * `extend` with a named layer: where the record already has a layer of this `tag`, the new one
 * takes its place, at the same depth (layers added on top of it stay on top); otherwise it is
 * added on top, or at `depth` when given (`layerDepth(r)` is just above record `r`'s own
 * layers, so that the changes made by extending `r` still win). `undefined` removes the layer.
 * This is how a change that must be applied at most once is written, such as a dialect's
 * version gates: `forVersion(a).forVersion(b)` is `forVersion(b)`, and the fields a user
 * changed, before or after, are kept.
 *
 * @example
 * const GATES = Symbol('gates')
 * const old = extendLayer(sqlite, GATES, () => ({ maxParams: 999 }))
 * extendLayer(old, GATES, () => ({ maxParams: 32766 })).maxParams // 32766, one layer
 */
export const extendLayer = <T extends object>(
  base: T,
  tag: symbol,
  f: ((self: T, base: T) => Partial<T>) | undefined,
  depth?: number,
): T => {
  const layers = layersOf(base)
  const layer: readonly Layer[] = f === undefined ? [] : [{ fields: f as Layer['fields'], tag }]
  const found = layers.findIndex((l) => l.tag === tag)
  if (found < 0 && layer.length === 0) return base
  const at = found >= 0 ? found : Math.min(depth ?? layers.length, layers.length)
  return fixLayers<T>([...layers.slice(0, at), ...layer, ...layers.slice(found >= 0 ? at + 1 : at)])
}

/**
 * How many layers made the record (`fix` makes one, each `extend` adds one): a depth for
 * `extendLayer`.
 *
 * @example layerDepth(extend(sqlite, () => ({}))) === layerDepth(sqlite) + 1
 */
export const layerDepth = (record: object): number => layersOf(record).length

/**
 * Whether the record has a layer of this tag (see `extendLayer`).
 *
 * @example hasLayer(mariadb, MARIADB) // true
 */
export const hasLayer = (record: object, tag: symbol): boolean => layersOf(record).some((l) => l.tag === tag)

/**
 * A record of one tagged layer: `extendLayer` of an empty record, without its empty layer.
 *
 * @example const h = layered(SCOPE, (self) => ({ run: () => self.name, name: 'tx' }))
 */
export const layered = <T extends object>(tag: symbol, f: (self: T, base: T) => Partial<T>): T =>
  fixLayers<T>([{ fields: f as Layer['fields'], tag }])
