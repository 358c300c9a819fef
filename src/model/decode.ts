/**
 * From a model's io-ts codec to its fields, a generated row mapper and error reports.
 *
 * The mapper is one function per field set, generated once: it reads each column, accepts
 * the value as it is when an inline test says it already has the field's type (the common
 * case: a string for `t.string`), and otherwise runs the field's fast decoder. It writes the
 * decoded rows into the array the driver returned, so a 1000-row read allocates 1000 row
 * objects and nothing else per row. Where generating code is refused (a Content Security Policy,
 * `node --disallow-code-generation-from-strings`) the same mapping runs as a loop over the fields.
 *
 * The in-place mapper (`compileInPlaceMapper`) reads rows whose columns the statement already
 * named after the fields (`created_at AS "createdAt"`): it runs the same tests and decoders on
 * every field, but writes a value back only where decoding changed it (text to a Date, 0/1 to a
 * boolean), so a read allocates no row objects at all.
 */
import * as t from 'io-ts'
import { dbError, type DecodeError, type FieldIssue } from '../errors.js'
import { plainObjects } from '../objects.js'
import type { Row } from '../driver.js'
import { FAIL, fastDecoder, inlineAccept } from './codecs.js'

/** One field of a model: its name in the row type, its column and its codec. */
export interface Field {
  readonly name: string
  readonly column: string
  readonly codec: t.Any
  /** From `t.partial`: may be absent (NULL reads as absent). */
  readonly optional: boolean
}

/** A codec a model can be defined from: an object codec, possibly exact, readonly, intersected or refined. */
export type ModelCodec = t.Any & { readonly _A: object }

interface Shape {
  readonly props: readonly { readonly name: string; readonly codec: t.Any; readonly optional: boolean }[]
  /** Row-level refinements (`t.refinement(t.type({...}), ...)`), checked after the fields. */
  readonly checks: readonly { readonly name: string; readonly predicate: (row: unknown) => boolean }[]
}

type Tagged = t.Any & { readonly _tag?: string }

/**
 * The fields of an object codec. Throws a TypeError at model definition for codecs that are
 * not objects (a programming error, reported where the model is written).
 */
export const shapeOf = (codec: t.Any): Shape => {
  const props: { name: string; codec: t.Any; optional: boolean }[] = []
  const checks: { name: string; predicate: (row: unknown) => boolean }[] = []
  const walk = (c: Tagged): void => {
    switch (c._tag) {
      case 'InterfaceType':
      case 'StrictType':
        for (const [name, p] of Object.entries((c as unknown as t.InterfaceType<t.Props>).props)) props.push({ name, codec: p, optional: false })
        return
      case 'PartialType':
        for (const [name, p] of Object.entries((c as unknown as t.PartialType<t.Props>).props)) props.push({ name, codec: p, optional: true })
        return
      case 'ExactType':
      case 'ReadonlyType':
        return walk((c as unknown as t.ExactType<t.Any>).type)
      case 'IntersectionType':
        for (const m of (c as unknown as t.IntersectionType<t.Any[]>).types) walk(m)
        return
      case 'RefinementType': {
        const r = c as unknown as t.RefinementType<t.Any, unknown, unknown, unknown>
        checks.push({ name: r.name, predicate: r.predicate as (row: unknown) => boolean })
        return walk(r.type)
      }
      default:
        throw new TypeError(`a model codec must be an object codec (t.type, t.strict, t.exact, t.partial, t.intersection or a refinement of one), got ${c.name}`)
    }
  }
  walk(codec as Tagged)
  return { props, checks }
}

/** Thrown inside a mapper; turned into a DecodeError by `decodeRows`. */
interface MapFailure {
  readonly mapFailure: true
  readonly index: number
  readonly field: number
  readonly check?: number
}

const failAt = (index: number, field: number): never => {
  throw { mapFailure: true, index, field } satisfies MapFailure
}
const checkFailed = (index: number, check: number): never => {
  throw { mapFailure: true, index, field: -1, check } satisfies MapFailure
}

/**
 * The parameters of a generated mapper and their values: FAIL, the failure helpers, each
 * field's fast decoder (`d0`, `d1`, ...) and each row check (`c0`, `c1`, ...).
 */
const mapperArgs = (fields: readonly Field[], checks: Shape['checks']): { args: string[]; values: unknown[] } => ({
  args: ['F', 'failAt', 'checkFailed', ...fields.map((_, i) => `d${i}`), ...checks.map((_, j) => `c${j}`)],
  values: [FAIL, failAt, checkFailed, ...fields.map((f) => fastDecoder(f.codec)), ...checks.map((c) => c.predicate)],
})

/** Decodes raw rows in place; throws a DecodeError when a row does not match. */
export type RowMapper = (rows: Row[]) => unknown[]

/** Options of the mappers. */
export interface MapperOptions {
  /** Generate code (default); `false` runs the loop fallback, as where code generation is refused. */
  readonly generate?: boolean
  /** Key fields to name a failing row by in a DecodeError (its position is always named). */
  readonly key?: readonly Field[]
}

/**
 * Generate the mapper of a field list (and the row-level checks to run after it).
 *
 * @example
 * const map = compileMapper(fields, [], 'users')
 * map([{ id: 1, name: 'Ada' }])
 */
export const compileMapper = (fields: readonly Field[], checks: Shape['checks'], table: string, options: MapperOptions = {}): RowMapper => {
  const { args, values } = mapperArgs(fields, checks)
  const lines: string[] = []
  fields.forEach((f, i) => {
    const d = `d${i}`
    const read = `let v${i} = r[${JSON.stringify(f.column)}];`
    const accept = inlineAccept(f.codec)
    const decode = `{ const x = ${d}(v${i}); if (x === F) failAt(i, ${i}); v${i} = x; }`
    const body = accept === undefined ? decode : `if (!(${accept.replace(/\bv\b/g, `v${i}`)})) ${decode}`
    lines.push(f.optional ? `${read} if (v${i} === null || v${i} === undefined) v${i} = undefined; else ${body}` : `${read} ${body}`)
  })
  // A constructor, not a literal, makes each row (see `plainObjects`).
  const { declare, make } = plainObjects(fields.map((f) => f.name), 'Decoded')
  const build = make(fields.map((_, i) => `v${i}`))
  const checkLines = checks.map((_, j) => `if (!c${j}(o)) checkFailed(i, ${j});`).join('\n')
  const source = `"use strict";
${declare}
return function decodeRows(rows) {
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    ${lines.join('\n    ')}
    const o = ${build};
    ${checkLines}
    rows[i] = o;
  }
  return rows;
};`
  const inner = (options.generate === false ? undefined : generate(args, source, values)) ?? interpretedMapper(fields, checks)
  return reporting(inner, fields, checks, table, (f) => f.column, options.key)
}

/** A mapper whose failures become DecodeErrors (the failing row is still raw when it throws). */
const reporting = (inner: RowMapper, fields: readonly Field[], checks: Shape['checks'], table: string, at: (f: Field) => string, key: readonly Field[] | undefined): RowMapper =>
  (rows) => {
    try {
      return inner(rows)
    } catch (e) {
      if (typeof e === 'object' && e !== null && (e as MapFailure).mapFailure === true) throw decodeFailure(e as MapFailure, rows, fields, checks, table, at, key)
      throw e
    }
  }

/** Field names that can stand as column aliases on every engine (and as plain property names). */
const ALIASABLE = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/

/**
 * Whether rows of these fields can be read in place: every field name works as a column alias
 * on every engine (an identifier of at most 63 characters, PostgreSQL's limit, that is not
 * `__proto__`).
 *
 * @example inPlaceReadable([{ name: 'createdAt', column: 'created_at', codec: date, optional: false }]) // true
 */
export const inPlaceReadable = (fields: readonly Field[]): boolean =>
  fields.every((f) => ALIASABLE.test(f.name) && f.name !== '__proto__')

/**
 * Generate the in-place mapper of a field list: for rows whose properties are already named after
 * the fields (the statement aliases each column to its field). Each value passes the same
 * inline test or fast decoder as in `compileMapper`, and is written back only when decoding
 * changed it; the row objects are the driver's own, in the same property order. Failures are
 * the same DecodeErrors. Other properties of the rows (computed columns) are left as they are.
 *
 * @example
 * const map = compileInPlaceMapper(fields, [], 'users')
 * map([{ id: 1, createdAt: '2024-01-02 03:04:05' }]) // the same row, createdAt now a Date
 */
export const compileInPlaceMapper = (fields: readonly Field[], checks: Shape['checks'], table: string, options: MapperOptions = {}): RowMapper => {
  if (!inPlaceReadable(fields)) throw new TypeError(`${table}: a field name cannot be read as a column alias`)
  const { args, values } = mapperArgs(fields, checks)
  const lines: string[] = []
  fields.forEach((f, i) => {
    const d = `d${i}`
    const prop = `r.${f.name}`
    const accept = inlineAccept(f.codec)
    const decode = `{ const x = ${d}(v); if (x === F) failAt(i, ${i}); if (x !== v) ${prop} = x; }`
    const body = accept === undefined ? decode : `if (!(${accept})) ${decode}`
    lines.push(f.optional ? `{ const v = ${prop}; if (v === null || v === undefined) ${prop} = undefined; else ${body} }` : `{ const v = ${prop}; ${body} }`)
  })
  const checkLines = checks.map((_, j) => `if (!c${j}(r)) checkFailed(i, ${j});`).join('\n    ')
  const source = `"use strict";
return function decodeInPlace(rows) {
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    ${lines.join('\n    ')}
    ${checkLines}
  }
  return rows;
};`
  const inner = (options.generate === false ? undefined : generate(args, source, values)) ?? interpretedInPlaceMapper(fields, checks)
  return reporting(inner, fields, checks, table, (f) => f.name, options.key)
}

/**
 * The in-place mapper as a loop over the fields, where code generation is refused: the same
 * values, the same failures.
 *
 * @example
 * const map = interpretedInPlaceMapper(fields, [])
 * map([{ id: 1, createdAt: '2024-01-02 03:04:05' }])
 */
export const interpretedInPlaceMapper = (fields: readonly Field[], checks: Shape['checks']): RowMapper => {
  const decoders = fields.map((f) => fastDecoder(f.codec))
  return (rows) => {
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]
      for (let k = 0; k < fields.length; k++) {
        const f = fields[k]
        const v = r[f.name]
        if (f.optional && (v === null || v === undefined)) {
          r[f.name] = undefined
          continue
        }
        const x = decoders[k](v)
        if (x === FAIL) failAt(i, k)
        if (x !== v) r[f.name] = x
      }
      for (let j = 0; j < checks.length; j++) if (!checks[j].predicate(r)) checkFailed(i, j)
    }
    return rows
  }
}

/**
 * The function `source` returns, given `args` bound to `values`; undefined where code generation
 * is refused (a Content Security Policy, `--disallow-code-generation-from-strings`).
 *
 * @example generate<(x: number) => number>(['k'], 'return (x) => x * k', [2])?.(21) // 42
 */
export const generate = <F = RowMapper>(args: readonly string[], source: string, values: readonly unknown[]): F | undefined => {
  try {
    return new Function(...args, source)(...values) as F
  } catch (e) {
    if (e instanceof EvalError) return undefined
    throw e
  }
}

/**
 * The same mapper as `compileMapper` generates, as a loop over the fields: used where code
 * generation is refused. Same rows, same property order, same failures; slower.
 *
 * @example
 * const map = interpretedMapper(fields, [])
 * map([{ id: 1, name: 'Ada' }])
 */
export const interpretedMapper = (fields: readonly Field[], checks: Shape['checks']): RowMapper => {
  const decoders = fields.map((f) => fastDecoder(f.codec))
  return (rows) => {
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]
      const o: Record<string, unknown> = {}
      for (let k = 0; k < fields.length; k++) {
        const f = fields[k]
        const v = r[f.column]
        if (f.optional && (v === null || v === undefined)) {
          o[f.name] = undefined
          continue
        }
        const x = decoders[k](v)
        if (x === FAIL) failAt(i, k)
        o[f.name] = x
      }
      for (let j = 0; j < checks.length; j++) if (!checks[j].predicate(o)) checkFailed(i, j)
      rows[i] = o
    }
    return rows
  }
}

/**
 * The DecodeError of a mapper failure. `at` names the property a field is read from (its column,
 * or itself where the statement aliased it); the row is named by its position in the result and,
 * when `key` fields are given and read, by their values.
 */
const decodeFailure = (
  f: MapFailure, rows: readonly Row[], fields: readonly Field[], checks: Shape['checks'], table: string,
  at: (f: Field) => string, key: readonly Field[] | undefined,
): DecodeError => {
  const raw = rows[f.index]
  const keyed = key === undefined || key.length === 0 || !key.every((k) => fields.includes(k)) ? '' : `, ${key.map((k) => `${k.name} = ${show(raw[at(k)])}`).join(', ')}`
  const row = `row ${f.index + 1} of ${rows.length}${keyed}`
  if (f.field < 0) {
    const c = checks[f.check ?? 0]
    return dbError('DecodeError', `a row of ${table} (${row}) does not satisfy ${c.name}`, { issues: [{ path: '', rule: c.name, message: `row does not satisfy ${c.name}` }] }) as DecodeError
  }
  const field = fields[f.field]
  const value = raw[at(field)]
  const issues = issuesOf(field.codec, value, field.name)
  const rule = issues[0]?.rule ?? field.codec.name
  return dbError(
    'DecodeError',
    `column "${field.column}" of ${table} (field ${field.name}; ${row}) does not decode as ${rule}: got ${show(value)}`,
    { issues: issues.map((i) => ({ ...i, message: `column "${field.column}": ${i.message}` })) },
  ) as DecodeError
}

const SHOWN_MARK = '\u0000rk-shown:'
const SHOWN_MARKED = /"\\u0000rk-shown:([^"]*)"/g

/** What `show` writes for a value JSON would write as something else (NaN as null, a Map as {}). */
const shownAs = (v: unknown): string | undefined => {
  switch (typeof v) {
    case 'number': return Number.isFinite(v) ? undefined : String(v)
    case 'bigint': return `${v}n`
    case 'function': return 'function'
    case 'symbol': return 'Symbol'
    case 'undefined': return 'undefined'
    case 'object':
      if (v instanceof Map) return `Map(${v.size})`
      if (v instanceof Set) return `Set(${v.size})`
      if (v instanceof Uint8Array) return `<${v.length} bytes>`
      return undefined
    default: return undefined
  }
}

/**
 * A short, safe rendering of a value for messages: JSON, except that what JSON would write as
 * something else is written as it is (`{"x":NaN}`, `[1,undefined]`, `{"m":Map(1)}`, `2n`).
 *
 * @example show({ x: NaN, n: 2n }) // '{"x":NaN,"n":2n}'
 */
export const show = (u: unknown): string => {
  if (u instanceof Date) return `Date(${Number.isNaN(u.getTime()) ? 'invalid' : u.toISOString()})`
  const own = shownAs(u)
  if (own !== undefined) return own
  try {
    let marked = false
    const s = JSON.stringify(u, function (this: unknown, key: string, v: unknown) {
      // A Date is already its toJSON text here: read the holder's own value.
      const raw = key === '' ? v : (this as Record<string, unknown>)[key]
      const as = raw instanceof Date ? undefined : shownAs(raw)
      if (as === undefined || (as === 'undefined' && !Array.isArray(this))) return v
      marked = true
      return SHOWN_MARK + as
    })
    if (s === undefined) return String(u)
    const text = marked ? s.replace(SHOWN_MARKED, '$1') : s
    return text.length > 80 ? `${text.slice(0, 77)}...` : text
  } catch {
    return String(u)
  }
}

/**
 * The issues of one value against one codec, with dotted paths under `path`. A union is reported
 * where it stands, never by its members' positions (`age.0`, `age.1`): a value that only one
 * member could be (anything but null in `nullable(x)`) gets that member's issues, at the union's
 * path (`age: expected number or null`, or `doc.a` inside a nullable object); otherwise one issue
 * names the union.
 *
 * @example
 * issuesOf(t.string, 3, 'name') // [{ path: 'name', rule: 'string', ... }]
 * issuesOf(nullable(t.number), 'old', 'age') // [{ path: 'age', rule: 'number', message: 'age: expected number or null, got "old"' }]
 */
export const issuesOf = (codec: t.Any, value: unknown, path: string): FieldIssue[] => {
  const r = codec.validate(value, [{ key: path, type: codec, actual: value }])
  if (r._tag === 'Right') return []
  return reported(r.left.map((e) => ({ context: e.context, value: e.value, message: e.message, or: undefined })))
}

/** A validation error, with the union members (`or`) its context no longer shows. */
interface Failure {
  readonly context: t.Context
  readonly value: unknown
  readonly message: string | undefined
  /**
   * Where a union was read as one of its members: the other members' names, and the path (of
   * the union) they are alternatives at.
   */
  readonly or: { readonly path: string; readonly names: string } | undefined
}

/** Where a failure's context enters a union member: the member's entry, or -1. */
const unionEntry = (c: t.Context): number => {
  for (let j = 1; j < c.length; j++) if ((c[j - 1].type as Tagged)._tag === 'UnionType') return j
  return -1
}

const isNothing = (c: t.Any): boolean => (c as Tagged)._tag === 'NullType' || (c as Tagged)._tag === 'UndefinedType'

/** The issues of validation failures, their unions read as `issuesOf` says. */
const reported = (failures: readonly Failure[]): FieldIssue[] => {
  const out: FieldIssue[] = []
  // Failures inside the same union (the same path to it), in order of their first failure.
  const groups = new Map<string, { at: number; failures: Failure[] }>()
  const order: (Failure | string)[] = []
  for (const f of failures) {
    const at = unionEntry(f.context)
    if (at < 0) {
      order.push(f)
      continue
    }
    const id = `${at}:${f.context.slice(0, at).map((c) => c.key).join('\u0000')}`
    const g = groups.get(id)
    if (g === undefined) {
      groups.set(id, { at, failures: [f] })
      order.push(id)
    } else g.failures.push(f)
  }
  for (const item of order) {
    if (typeof item !== 'string') {
      out.push(issueOf(item))
      continue
    }
    const { at, failures: inUnion } = groups.get(item)!
    const union = inUnion[0].context[at - 1]
    const members = (union.type as unknown as t.UnionType<t.Mixed[]>).types
    const candidates = union.actual === null || union.actual === undefined ? [] : members.flatMap((m, i) => (isNothing(m) ? [] : [i]))
    if (candidates.length === 1) {
      // The value could only be this member: its own failures, with the union's key and path.
      const m = String(candidates[0])
      const others = members.filter((_, i) => i !== candidates[0]).map((x) => x.name)
      out.push(...reported(inUnion.filter((f) => f.context[at].key === m).map((f) => ({
        ...f,
        context: [...f.context.slice(0, at - 1), { ...f.context[at], key: union.key }, ...f.context.slice(at + 1)],
        or: { path: pathOf(f.context.slice(0, at)), names: [...others, ...alternativesAt(f, pathOf(f.context.slice(0, at)))].join(' or ') },
      }))))
    } else {
      const f = inUnion[0]
      const context = f.context.slice(0, at)
      const names = alternativesAt(f, pathOf(context))
      out.push(issueOf({ context, value: union.actual, message: undefined, or: names.length === 0 ? undefined : { path: pathOf(context), names: names.join(' or ') } }))
    }
  }
  return out
}

/** The dotted path of a context (its keys; an entry without one adds nothing). */
const pathOf = (c: t.Context): string => c.map((e) => e.key).filter((k) => k !== '').join('.')

/** The alternatives a failure carries at `path` (none elsewhere). */
const alternativesAt = (f: Failure, path: string): string[] => (f.or !== undefined && f.or.path === path ? [f.or.names] : [])

const issueOf = (f: Failure): FieldIssue => {
  const last = f.context[f.context.length - 1]
  const rule = last?.type.name ?? 'value'
  const p = pathOf(f.context)
  const or = alternativesAt(f, p)
  const expected = [rule, ...or].join(' or ')
  return { path: p, rule, value: f.value, message: f.message === undefined ? `${p === '' ? 'value' : p}: expected ${expected}, got ${show(f.value)}` : p === '' ? f.message : `${p}: ${f.message}` }
}
