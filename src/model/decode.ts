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
  const build = `{ ${fields.map((f, i) => `${JSON.stringify(f.name)}: v${i}`).join(', ')} }`
  const checkLines = checks.map((_, j) => `if (!c${j}(o)) checkFailed(i, ${j});`).join('\n')
  const source = `"use strict";
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

/** A short, safe rendering of a value for messages. */
export const show = (u: unknown): string => {
  if (typeof u === 'bigint') return `${u}n`
  if (u instanceof Date) return `Date(${Number.isNaN(u.getTime()) ? 'invalid' : u.toISOString()})`
  if (u instanceof Uint8Array) return `<${u.length} bytes>`
  try {
    const s = JSON.stringify(u)
    if (s === undefined) return String(u)
    return s.length > 80 ? `${s.slice(0, 77)}...` : s
  } catch {
    return String(u)
  }
}

/**
 * The issues of one value against one codec, with dotted paths under `path`.
 *
 * @example
 * issuesOf(t.string, 3, 'name') // [{ path: 'name', rule: 'string', ... }]
 */
export const issuesOf = (codec: t.Any, value: unknown, path: string): FieldIssue[] => {
  const r = codec.validate(value, [{ key: path, type: codec, actual: value }])
  if (r._tag === 'Right') return []
  return r.left.map((e) => {
    const keys = e.context.map((c) => c.key).filter((k) => k !== '')
    const last = e.context[e.context.length - 1]
    const rule = last?.type.name ?? codec.name
    const p = keys.join('.')
    return { path: p, rule, value: e.value, message: e.message ?? `${p === '' ? 'value' : p}: expected ${rule}, got ${show(e.value)}` }
  })
}
