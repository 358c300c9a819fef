/**
 * Input validation for create and update: every present field is decoded with its codec
 * (refinements and brands included), required fields must be present, then the model's
 * validators run on the decoded values. All failures are collected into one ValidationError.
 *
 * Input is the domain value, checked as `inputCodec` says (codecs.ts), not read as a column: a
 * `jsonOf` field takes its value as it is (a JS string is a JSON string, never JSON text to
 * parse), and `t.number` takes numbers only.
 */
import { left, right, type Either } from 'fp-ts/lib/Either.js'
import { dbError, type FieldIssue, type ValidationError } from '../errors.js'
import { FAIL, type FastDecode, inputCodec, inputDecoder } from './codecs.js'
import { inheritedName, type ModelCore, ownValue } from './core.js'
import { generate, issuesOf, show } from './decode.js'

/** One failure a validator reports. */
export interface ValidationIssue {
  /** Dotted field path, e.g. `email` or `address.city`. */
  readonly path: string
  /** The rule's name, e.g. `email` or `positiveTotal`. */
  readonly rule: string
  readonly message?: string
}

/**
 * A model-level check over the decoded input (create input, or the row with the patch applied).
 * Returns the issues it finds; an empty array means valid.
 */
export type Validator<D> = (values: D) => readonly ValidationIssue[]

/** A validator as the runtime sees it. */
export type AnyValidator = (values: Record<string, unknown>) => readonly ValidationIssue[]

/**
 * A validator from a predicate: when `ok` is false, the field at `path` fails `name`.
 *
 * @example
 * validators: [rule('email', 'email', (u) => /@/.test(u.email ?? '')), rule('total', 'nonNegative', (i) => Number(i.total) >= 0)]
 */
export const rule = <D>(path: keyof D & string, name: string, ok: (values: D) => boolean, message?: string): Validator<D> =>
  (values) => (ok(values) ? [] : [{ path, rule: name, message: message ?? `${path} fails ${name}` }])

const decoders = new WeakMap<ModelCore, readonly FastDecode[]>()

/** The input decoder of each field of a model, in field order. */
const decodersOf = (core: ModelCore): readonly FastDecode[] => {
  let d = decoders.get(core)
  if (d === undefined) decoders.set(core, (d = core.fields.map((f) => inputDecoder(f.codec))))
  return d
}

/** Whether each field of a model may be absent from create input, by model and set of defaults. */
const absenceOk = new WeakMap<ModelCore, WeakMap<ReadonlySet<string>, readonly boolean[]>>()

/** `acceptsAbsence` of every field, in field order, computed once per model and set of defaults. */
const absentFields = (core: ModelCore, defaults: ReadonlySet<string>): readonly boolean[] => {
  let byDefaults = absenceOk.get(core)
  if (byDefaults === undefined) absenceOk.set(core, (byDefaults = new WeakMap()))
  let ok = byDefaults.get(defaults)
  if (ok === undefined) byDefaults.set(defaults, (ok = core.fields.map((f) => acceptsAbsence(core, f.name, defaults))))
  return ok
}

const acceptsAbsence = (core: ModelCore, name: string, defaults: ReadonlySet<string>): boolean => {
  const f = core.byName.get(name)!
  return f.optional || core.filled.has(name) || core.generatedKey?.name === name || defaults.has(name) || inputDecoder(f.codec)(null) !== FAIL
}

/** Issues with their paths under `prefix` (`rows.3.`). */
export const prefixed = (prefix: string, issues: readonly FieldIssue[]): FieldIssue[] =>
  prefix === '' ? [...issues] : issues.map((i) => ({ ...i, path: i.path === '' ? prefix.slice(0, -1) : `${prefix}${i.path}` }))

/**
 * Decode and check create input. Returns the decoded values (codec fields only) or every issue:
 * the fields that do not decode and what the validators find in the rest.
 * `prefix` namespaces the paths (`rows.3.`) for createMany.
 */
export const checkInsert = (core: ModelCore, defaults: ReadonlySet<string>, input: Readonly<Record<string, unknown>>, prefix = ''): Either<FieldIssue[], Record<string, unknown>> =>
  insertChecker(core, defaults)(input, prefix)

/**
 * `checkInsert` for one model and set of defaults, for many rows: what does not depend on the
 * row is looked up once. Input that passes is decoded by generated code (see `quickInsertOf`);
 * input that does not is decoded again the long way, which names every issue.
 *
 * @example
 * const check = insertChecker(User.core, new Set())
 * rows.map((r, i) => check(r, `rows.${i}.`))
 */
export const insertChecker = (core: ModelCore, defaults: ReadonlySet<string>): ((input: Readonly<Record<string, unknown>>, prefix?: string) => Either<FieldIssue[], Record<string, unknown>>) => {
  const absent = absentFields(core, defaults)
  const quick = quickInsertOf(core)
  const plain = core.validators.length === 0 && core.checks.length === 0
  return (input, prefix = '') => {
    if (!isInput(input)) return left([notAnObject(input, prefix)])
    const out = quick?.(input, absent)
    if (out === undefined) return checkInsertSlowly(core, defaults, input, prefix)
    if (plain) return right(out)
    const issues = runValidators(core, out, [])
    return issues.length === 0 ? right(out) : left(prefixed(prefix, issues))
  }
}

/** Create input decoded in one pass; undefined at the first field missing and required, or not decoding. */
type QuickInsert = (input: Readonly<Record<string, unknown>>, absent: readonly boolean[]) => Record<string, unknown> | undefined

const quickInserts = new WeakMap<ModelCore, QuickInsert | null>()

/**
 * Generated code decoding a model's create input: each field read and stored under its own name
 * (a property access per name, where a loop has one access site for every name), in field order,
 * only where present. Undefined where generating code is refused (a Content Security Policy)
 * or a field is named `__proto__`: then every row takes the loop.
 */
const quickInsertOf = (core: ModelCore): QuickInsert | undefined => {
  let q = quickInserts.get(core)
  if (q === undefined) {
    q = compileQuickInsert(core) ?? null
    quickInserts.set(core, q)
  }
  return q ?? undefined
}

const compileQuickInsert = (core: ModelCore): QuickInsert | undefined => {
  const fields = core.fields
  if (fields.some((f) => f.name === '__proto__')) return undefined
  const lines = fields.map((f, i) => {
    const key = JSON.stringify(f.name)
    // A name Object.prototype has (`constructor`) is read only where the input holds it itself.
    const read = inheritedName(f.name) ? `H(input, ${key}) ? input[${key}] : undefined` : `input[${key}]`
    return `v = ${read}; if (v === undefined) { if (!absent[${i}]) return undefined } else { x = d${i}(v); if (x === F) return undefined; out[${key}] = x }`
  })
  const source = `"use strict"; return function quickInsert(input, absent) {\n  const out = {}; let v, x;\n  ${lines.join('\n  ')}\n  return out\n}`
  return generate<QuickInsert>(['F', 'H', ...fields.map((_, i) => `d${i}`)], source, [FAIL, Object.hasOwn, ...decodersOf(core)])
}

/** `checkInsert` as a loop over the fields: every issue of the input, or its decoded values. */
const checkInsertSlowly = (core: ModelCore, defaults: ReadonlySet<string>, input: Readonly<Record<string, unknown>>, prefix: string): Either<FieldIssue[], Record<string, unknown>> => {
  const issues: FieldIssue[] = []
  const out: Record<string, unknown> = {}
  const decode = decodersOf(core)
  for (let i = 0; i < core.fields.length; i++) {
    const f = core.fields[i]
    const v = ownValue(input, f.name)
    if (v === undefined) {
      if (!absentFields(core, defaults)[i]) issues.push({ path: f.name, rule: 'required', message: `${f.name} is required` })
      continue
    }
    // The input decoder agrees with the input codec's `validate`, which explains a failure.
    const x = decode[i](v)
    if (x === FAIL) issues.push(...issuesOf(inputCodec(f.codec), v, f.name))
    else out[f.name] = x
  }
  issues.push(...runValidators(core, out, issues))
  return issues.length === 0 ? right(out) : left(prefixed(prefix, issues))
}

/** Whether model input is an object of fields (not null, an array or a primitive). */
const isInput = (u: unknown): u is Readonly<Record<string, unknown>> => typeof u === 'object' && u !== null && !Array.isArray(u)

/** The issue of input that is not an object (`create(db, null)`, request data of the wrong form). */
const notAnObject = (u: unknown, prefix = ''): FieldIssue =>
  ({ path: prefix === '' ? '' : prefix.slice(0, -1), rule: 'object', value: u, message: `${prefix === '' ? 'the input' : prefix.slice(0, -1)} must be an object of fields, got ${Array.isArray(u) ? 'an array' : show(u)}` })

/**
 * Decode and check an update's patch against the stored row. Returns the decoded patch.
 */
export const checkPatch = (core: ModelCore, patch: Readonly<Record<string, unknown>>, current?: Readonly<Record<string, unknown>>): Either<FieldIssue[], Record<string, unknown>> => {
  if (!isInput(patch)) return left([notAnObject(patch)])
  const issues: FieldIssue[] = []
  const out: Record<string, unknown> = {}
  for (const name of Object.keys(patch)) {
    const f = core.byName.get(name)
    const v = patch[name]
    if (f === undefined || v === undefined) continue
    if (core.primaryKey.includes(f)) {
      issues.push({ path: name, rule: 'primaryKey', value: v, message: `${name} is the primary key and is not changed by update` })
      continue
    }
    const x = inputDecoder(f.codec)(v)
    if (x === FAIL) issues.push(...issuesOf(inputCodec(f.codec), v, f.name))
    else out[name] = x
  }
  if (current !== undefined) issues.push(...runValidators(core, { ...current, ...out }, issues))
  return issues.length === 0 ? right(out) : left(issues)
}

/**
 * Run the validators on the decoded values (fields that failed to decode are absent), keeping
 * only issues on paths that have none yet, so one mistake is reported once.
 */
const runValidators = (core: ModelCore, values: Record<string, unknown>, known: readonly FieldIssue[]): FieldIssue[] => {
  if (core.validators.length === 0 && core.checks.length === 0) return []
  const failed = new Set(known.map((i) => i.path))
  const issues = core.validators
    .flatMap((v) => v(values).map((i) => ({ path: i.path, rule: i.rule, value: values[i.path], message: i.message ?? `${i.path} fails ${i.rule}` })))
    .filter((i) => !failed.has(i.path))
  // Row-level refinements of the codec, once every field decoded.
  if (known.length === 0) {
    for (const c of core.checks) {
      let ok: boolean
      try {
        ok = c.predicate(values)
      } catch {
        ok = false
      }
      if (!ok) issues.push({ path: '', rule: c.name, value: undefined, message: `the row fails ${c.name}` })
    }
  }
  return issues
}

/**
 * The ValidationError for a list of issues.
 *
 * @example
 * validationError('users', [{ path: 'email', rule: 'required', message: 'email is required' }])
 */
export const validationError = (table: string, issues: readonly FieldIssue[]): ValidationError =>
  dbError('ValidationError', `invalid ${table}: ${issues.map((i) => `${i.path || (i.rule === 'object' ? 'the input' : '(row)')}: ${i.rule === 'object' ? 'must be an object of fields' : i.rule}${i.value === undefined && i.rule !== 'object' ? '' : ` (got ${i.rule === 'object' && Array.isArray(i.value) ? 'an array' : show(i.value)})`}`).join('; ')}`, { issues }) as ValidationError
