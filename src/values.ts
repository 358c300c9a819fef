/**
 * What a JS value may be bound as: the checks every dialect's `toDriver` and every driver share.
 *
 * A value that an engine cannot store as it is (NaN where the engine has no NaN, a `Map`, a
 * `Set`, a Symbol, a function, a string that is not valid Unicode, an object that is not JSON
 * data) is refused with a ValidationError (code `UNBINDABLE_VALUE`) before any statement is
 * sent, instead of being stored as something else (`'{}'`, NULL, 0). `render` and the drivers
 * add the parameter's position (`$3`) or name (`:id`) to the error.
 */
import { dbError, isDbError, type ValidationError } from './errors.js'

/** The `code` of a ValidationError that refuses a parameter value. */
export const UNBINDABLE = 'UNBINDABLE_VALUE'

/**
 * A few words naming a value without calling any of its methods (its `toString` may throw).
 *
 * @example describeValue(new Map()) // 'a Map'
 */
export const describeValue = (v: unknown): string => {
  switch (typeof v) {
    case 'number': return Number.isNaN(v) ? 'NaN' : Number.isFinite(v) ? `the number ${v}` : String(v)
    case 'symbol': return 'a Symbol'
    case 'function': return 'a function'
    case 'string': return 'a string'
    case 'bigint': return 'a bigint'
    case 'boolean': return 'a boolean'
    case 'undefined': return 'undefined'
    default: {
      if (v === null) return 'null'
      let name: unknown
      try {
        name = (Object.getPrototypeOf(v) as { constructor?: { name?: unknown } } | null)?.constructor?.name
      } catch {
        name = undefined
      }
      return typeof name === 'string' && name !== '' && name !== 'Object' ? `a ${name}` : 'an object'
    }
  }
}

/**
 * The error for a value that cannot be bound (the parameter is added by `atParameter`).
 *
 * @example throw unbindable(new Set([1]), 'a Set is not JSON data')
 */
export const unbindable = (value: unknown, why: string): ValidationError =>
  dbError('ValidationError', `cannot bind ${describeValue(value)}: ${why}`, {
    code: UNBINDABLE,
    issues: [{ path: '', rule: 'bindable', value, message: why }],
  }) as ValidationError

/**
 * The same error naming the parameter it was given for: `$3` (1-based position) or a
 * prepared query's hole name. Any other error passes through unchanged.
 *
 * @example atParameter(unbindable(NaN, 'no NaN here'), 2).message // 'parameter $2: cannot bind NaN: no NaN here'
 */
export const atParameter = (e: unknown, where: number | string): unknown => {
  if (!isDbError(e, 'ValidationError') || e.code !== UNBINDABLE || e.issues.length !== 1 || e.issues[0].path !== '') return e
  const path = typeof where === 'number' ? `$${where}` : `:${where}`
  return dbError('ValidationError', `parameter ${path}: ${e.message}`, {
    code: UNBINDABLE,
    issues: [{ ...e.issues[0], path }],
  })
}

/** `String.prototype.isWellFormed` (Node 20; not in the ES2022 library types). */
interface WellFormed {
  isWellFormed(): boolean
}

/**
 * A string, refused when it holds a lone surrogate: UTF-8 cannot carry one, so every client
 * library would send U+FFFD in its place.
 *
 * @example checkedString('ok') // 'ok'
 */
export const checkedString = (s: string): string => {
  const why = stringProblem(s)
  if (why !== undefined) throw unbindable(s, why)
  return s
}

/** True for `{}`-made objects (and `Object.create(null)`), the objects that are JSON data. */
export const isPlainObject = (v: object): boolean => {
  const proto = Object.getPrototypeOf(v)
  return proto === Object.prototype || proto === null
}

const BIGINT_MARK = '\u0000rk-bigint:'
const BIGINT_MARKED = /"\\u0000rk-bigint:(-?\d+)"/g

/** `jsonWritable`'s answers: refused, written by JSON.stringify as it is, written with a bigint. */
export const REFUSED = 0
const PLAIN = 1
const BIGINT = 2

/**
 * Whether `jsonText` writes `v` (met under `key`, an array element when `inArray`) without
 * refusing it: the same steps as JSON.stringify (a `toJSON` method first), the same refusals as
 * `jsonText`. `REFUSED`, `PLAIN` (JSON.stringify writes the same text) or `BIGINT` (a bigint is
 * inside: only `jsonText` writes it). `open` holds the objects being walked, to find a cycle.
 * May throw what a `toJSON` throws.
 *
 * @example jsonWritable({ a: [1, 'x'] }) === REFUSED // false
 */
export const jsonWritable = (v: unknown, key = '', inArray = false, open: object[] = []): number => {
  if ((typeof v === 'object' && v !== null) || typeof v === 'bigint') {
    const toJSON = (v as { toJSON?: unknown }).toJSON
    if (typeof toJSON === 'function') v = toJSON.call(v, key)
  }
  switch (typeof v) {
    case 'string':
    case 'boolean': return PLAIN
    case 'bigint': return BIGINT
    case 'number': return Number.isFinite(v) ? PLAIN : REFUSED
    case 'undefined': return key !== '' && !inArray ? PLAIN : REFUSED
    case 'object': {
      if (v === null) return PLAIN
      if (open.includes(v)) return REFUSED
      let answer = PLAIN
      if (Array.isArray(v)) {
        open.push(v)
        for (let i = 0; i < v.length; i++) {
          const a = jsonWritable(v[i], String(i), true, open)
          if (a === REFUSED) return REFUSED
          answer |= a
        }
        open.pop()
        return answer
      }
      if (!isPlainObject(v)) return REFUSED
      open.push(v)
      for (const k of Object.keys(v)) {
        const a = jsonWritable((v as Record<string, unknown>)[k], k, false, open)
        if (a === REFUSED) return REFUSED
        answer |= a
      }
      open.pop()
      return answer
    }
    default: return REFUSED
  }
}

/**
 * JSON text of JSON data: plain objects, arrays, strings, finite numbers, booleans, null
 * (and whatever a `toJSON` method turns a value into, as `JSON.stringify` does). BigInts are
 * written as JSON numbers with every digit kept. Anything JSON would change or drop silently
 * (NaN, Infinity, a Map or Set, a class instance without `toJSON`, a function, a Symbol) is
 * refused. Object properties that are `undefined` are left out, as JSON does. A lone surrogate
 * in a string is written as its `\uXXXX` escape, so the text reads back as the same value.
 *
 * @example jsonText({ a: [1, 2n ** 64n] }) // '{"a":[1,18446744073709551616]}'
 */
export const jsonText = (value: unknown): string => {
  // JSON data without a bigint (the usual document) is written by JSON.stringify alone, about
  // twice as fast as with the replacer below, which words the refusals and writes bigints.
  let plain = false
  try {
    plain = jsonWritable(value) === PLAIN
  } catch {
    // What a toJSON threw: the replacer path calls it again and throws it.
  }
  if (plain) return JSON.stringify(value)
  let big = false
  let text: string | undefined
  try {
    text = JSON.stringify(value, function (this: unknown, key: string, v: unknown) {
      switch (typeof v) {
        case 'bigint':
          big = true
          return BIGINT_MARK + v.toString()
        case 'number':
          if (!Number.isFinite(v)) throw unbindable(value, `JSON has no ${v}${key === '' ? '' : ` (at "${key}")`}`)
          return v
        case 'symbol':
        case 'function':
          throw unbindable(value, `JSON has no ${typeof v}${key === '' ? '' : ` (at "${key}")`}`)
        case 'object':
          if (v !== null && !Array.isArray(v) && !isPlainObject(v)) {
            throw unbindable(value, `${describeValue(v)}${key === '' ? '' : ` (at "${key}")`} is not JSON data (give it a toJSON method, or convert it)`)
          }
          return v
        case 'undefined':
          if (Array.isArray(this)) throw unbindable(value, 'JSON has no undefined (an array element would become null)')
          return v
        default: return v
      }
    })
  } catch (e) {
    // What JSON.stringify refuses by itself (a cycle) is refused as everything above is.
    if (e instanceof TypeError) throw unbindable(value, `it has no JSON form (${e.message.split('\n')[0]})`)
    throw e
  }
  if (text === undefined) throw unbindable(value, 'it has no JSON form')
  return big ? text.replace(BIGINT_MARKED, '$1') : text
}

/**
 * `String(v)` for an object with its own `toString`, refusing one whose `toString` throws or
 * does not give a valid string.
 *
 * @example objectString(new URL('http://x/')) // 'http://x/'
 */
export const objectString = (v: object): string => {
  let s: unknown
  try {
    s = String(v)
  } catch (e) {
    throw unbindable(v, `its toString threw (${e instanceof Error ? e.message : 'a non-Error'})`)
  }
  return checkedString(s as string)
}

/**
 * The runs `executeBatch` made: their parameters came out of the dialect's `toDriver`, which
 * converts or refuses what a built-in driver cannot bind, so the driver need not check them again
 * value by value. A WeakSet rather than a mark on the object: the statements keep one shape.
 */
const adaptedRuns = new WeakSet<object>()

/**
 * Mark a statement whose parameters the dialect adapted (see `adaptedBefore`); returns it.
 *
 * @example markAdapted({ sql: 'SELECT ?', params: [1] })
 */
export const markAdapted = <Q extends object>(q: Q): Q => {
  adaptedRuns.add(q)
  return q
}

/**
 * Whether a statement's parameters were adapted by the dialect (see `markAdapted`).
 *
 * @example adaptedBefore({ sql: 'SELECT 1', params: [] }) // false
 */
export const adaptedBefore = (q: object): boolean => adaptedRuns.has(q)

/**
 * The first parameter a driver cannot bind as it is, as a ValidationError naming its position;
 * `reasonOf` says why a value is refused (undefined when it is fine). Drivers run this before
 * sending, so compiled statements given directly to `execute` are checked too.
 *
 * @example checkParams([1, NaN], (v) => (Number.isNaN(v) ? 'no NaN here' : undefined))?.message // 'parameter $2: cannot bind NaN: no NaN here'
 */
export const checkParams = (params: readonly unknown[], reasonOf: (v: unknown) => string | undefined): ValidationError | undefined => {
  for (let i = 0; i < params.length; i++) {
    const why = reasonOf(params[i])
    if (why !== undefined) return atParameter(unbindable(params[i], why), i + 1) as ValidationError
  }
  return undefined
}

/** Why a string cannot be bound (a lone surrogate), or undefined. */
export const stringProblem = (s: string): string | undefined =>
  (s as unknown as WellFormed).isWellFormed() ? undefined : 'the string holds a lone surrogate (not valid Unicode), which no database stores'
