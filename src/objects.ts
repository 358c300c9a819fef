/**
 * Copying a node or query with some fields changed, kept fast on Node 20.
 *
 * V8 11 (Node 20) gives an object literal that spreads another object and then adds a key that
 * object lacks (`{ ...q, where }` on a node without `where`) a hidden class of its own every
 * time: about half a microsecond per copy, and every function that later reads such objects
 * sees a new shape each call and looks up each absent field the slow way (measured: 0.7 µs to
 * read five absent fields of an UPDATE node). `Object.assign` onto a fresh object adds the keys
 * through shared transitions, so every copy has the same hidden class.
 */

/**
 * A copy of `o` with `changes` laid over it, as `{ ...o, ...changes }` gives (own enumerable
 * fields, later ones winning), with one hidden class for every copy of the same shape.
 *
 * @example withFields(q, { where: eq('id', 1) }) // q with its WHERE replaced
 */
export const withFields = <T extends object, U extends object>(o: T, changes: U): T & U => Object.assign({}, o, changes)

/**
 * Generated code that makes plain objects with fixed keys, one per row, without an object
 * literal: `declare` defines a constructor `name` whose prototype is `Object.prototype`, and
 * `make(values)` is the expression that makes one object of `keys` set to the expressions
 * `values`, in order. The objects are what the literal makes (same keys in the same order, same
 * prototype, `constructor === Object`), but they are made with no allocation site. V8 pretenures
 * an object literal whose objects survive a young collection (85% of at least 100): when one
 * happens while a result's rows are still in use, which the first, unoptimized read of a large
 * result makes likely, every later row of that literal is made in the old generation and
 * outlives its use there until a full collection. Measured on three-level eager loading of
 * 4,100 rows on SQLite: 11-13 ms an operation in the processes where it happened (about one in
 * three), about 5 ms in the others; made by a constructor, 5-5.5 ms in every process.
 *
 * Where a key is also a property of `Object.prototype` (`constructor`, `toString`, `__proto__`,
 * ...), assigning it could meet a frozen or special property: `make` is then the literal.
 *
 * @example
 * const { declare, make } = plainObjects(['id', 'name'], 'Row')
 * // declare: function Row(v0, v1) { this["id"] = v0; this["name"] = v1; } Row.prototype = Object.prototype;
 * // make(['a[0]', 'a[1]']): new Row(a[0], a[1])
 */
export const plainObjects = (keys: readonly string[], name: string): { readonly declare: string; readonly make: (values: readonly string[]) => string } => {
  if (keys.some((k) => k in Object.prototype)) {
    return { declare: '', make: (values) => `{ ${keys.map((k, i) => `${JSON.stringify(k)}: ${values[i]}`).join(', ')} }` }
  }
  const params = keys.map((_, i) => `v${i}`).join(', ')
  const body = keys.map((k, i) => `this[${JSON.stringify(k)}] = v${i};`).join(' ')
  return {
    declare: `function ${name}(${params}) { ${body} } ${name}.prototype = Object.prototype;`,
    make: (values) => `new ${name}(${values.join(', ')})`,
  }
}
