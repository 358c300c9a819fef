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
  prefix === '' ? [...issues] : issues.map((i) => {
    const path = i.path === '' ? prefix.slice(0, -1) : `${prefix}${i.path}`
    // A message that starts with the field's path names the row too (`rows.3.url: expected Url`).
    const message = i.path !== '' && i.message.startsWith(`${i.path}: `) ? `${path}${i.message.slice(i.path.length)}` : i.message
    return { ...i, path, message }
  })

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
    return `v = ${read}; if (v === undefined) { if (!absent[${i}]) return undefined } else { x = d${i}(v); if (x === F) return undefined; out[${key}] = x; n++ }`
  })
  // Input holding more keys than the fields it gave (a key that is no field, or one set to
  // undefined) takes the long way, which tells the two apart.
  const source = `"use strict"; return function quickInsert(input, absent) {\n  const out = {}; let v, x, n = 0, k = 0;\n  ${lines.join('\n  ')}\n  for (const _ in input) k++\n  return k === n ? out : undefined\n}`
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
  issues.push(...unknownFields(core, input))
  issues.push(...runValidators(core, out, issues))
  return issues.length === 0 ? right(out) : left(prefixed(prefix, issues))
}

/**
 * The issues of the keys of `input` that are no field of the model (rule `unknownField`): a
 * misspelt name, a relation, a key of request data. They are refused, not dropped: dropped, a
 * misspelt optional field left its column to the default and a patch of one wrote nothing. A key
 * whose value is undefined is not given, as everywhere in model input.
 */
const unknownFields = (core: ModelCore, input: Readonly<Record<string, unknown>>): FieldIssue[] => {
  const issues: FieldIssue[] = []
  for (const key of Object.keys(input)) {
    if (core.byName.has(key) || input[key] === undefined) continue
    issues.push({ path: key, rule: 'unknownField', value: input[key], message: unknownFieldMessage(core, key) })
  }
  return issues
}

/** What to do about a key that is no field: the relation it names, or the field it resembles. */
const unknownFieldMessage = (core: ModelCore, key: string): string => {
  if (Object.hasOwn(core.relations, key)) return `${key} is a relation of ${core.table}, not a field: write its rows with their own model (create, attach, sync)`
  const near = core.fields.map((f) => f.name).filter((name) => resembles(key, name))
  const hint = near.length > 0 ? `did you mean ${near.map((n) => JSON.stringify(n)).join(' or ')}?` : `its fields: ${core.fields.map((f) => f.name).join(', ')}`
  return `${core.table} has no field ${JSON.stringify(key)} (${hint})`
}

/** Whether two names differ by case alone, or by at most two edits (a misspelling). */
const resembles = (a: string, b: string): boolean => {
  const x = a.toLowerCase()
  const y = b.toLowerCase()
  if (x === y) return true
  if (Math.abs(x.length - y.length) > 2 || Math.min(x.length, y.length) < 3) return false
  // Damerau-Levenshtein distance (adjacent transpositions count one), rows kept as arrays.
  let prev2: number[] = []
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j)
  for (let i = 1; i <= x.length; i++) {
    const cur = [i]
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1
      let d = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
      if (i > 1 && j > 1 && x[i - 1] === y[j - 2] && x[i - 2] === y[j - 1]) d = Math.min(d, prev2[j - 2] + 1)
      cur.push(d)
    }
    prev2 = prev
    prev = cur
  }
  return prev[y.length] <= 2
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
    if (v === undefined) continue
    if (f === undefined) {
      issues.push({ path: name, rule: 'unknownField', value: v, message: unknownFieldMessage(core, name) })
      continue
    }
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
  dbError('ValidationError', `invalid ${table}: ${issues.map(describeIssue).join('; ')}`, { issues }) as ValidationError

/** Rules whose issue message says what to do, so the ValidationError's message carries it. */
const SAYS_WHAT_TO_DO: ReadonlySet<string> = new Set(['unknownField', 'conflictKey', 'patch', 'row'])

/** One issue in a ValidationError's message: path, rule and the value, or what to do (`SAYS_WHAT_TO_DO`). */
const describeIssue = (i: FieldIssue): string => {
  if (SAYS_WHAT_TO_DO.has(i.rule)) return `${i.path === '' ? '' : `${i.path}: `}${i.rule}, ${i.message}`
  return `${i.path || (i.rule === 'object' ? 'the input' : '(row)')}: ${i.rule === 'object' ? 'must be an object of fields' : i.rule}${i.value === undefined && i.rule !== 'object' ? '' : ` (got ${i.rule === 'object' && Array.isArray(i.value) ? 'an array' : show(i.value)})`}`
}
