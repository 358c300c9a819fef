/**
 * Uniqueness rules (`unique('email')`, `unique('slug', { scope: ['tenantId'] })`): before a
 * `create`, `createMany` or `update` writes, the rows that would hold a value another row holds
 * already are a ValidationError naming the field (rule `unique`), as Rails'
 * `validates :email, uniqueness: true` reports it, and nothing is written.
 *
 * The check reads the table (every row, whatever the default scopes say: a unique index holds
 * soft-deleted rows too) with the database's own comparison, so a case-insensitive collation
 * finds `Ada@x.io` for `ada@x.io` as its unique index would. A value that is NULL in any field
 * of the rule is not checked (SQL unique keys hold any number of NULLs). Two writers racing for
 * one value can both pass the check: the table's unique index decides then, and the loser's
 * write is a UniqueViolation naming the table and columns (see unique.ts). Declare the index:
 * the rule gives the early, per-field error, the index the guarantee.
 */
import type { Expr } from '../ast.js'
import type { Backend } from '../compose.js'
import type { DbError, FieldIssue } from '../errors.js'
import { and, eq, fn, from, isIn, not, or, select, val, where } from '../query.js'
import { allOf, encodeField, type ModelCore, ownValue } from './core.js'
import type { Field } from './decode.js'
import { keyCondition, keyOfRow } from './read.js'
import { keyOf } from './relations.js'

/** A uniqueness rule: `field` is unique among the rows holding the same `scope` values. */
export interface UniqueRule {
  readonly field: string
  readonly scope: readonly string[]
  readonly message?: string
  /** `false`: values differing in case alone are the same value (compared lower-cased). */
  readonly caseSensitive?: boolean
}

type Values = Record<string, unknown>

/** Rows checked per statement: single fields go through one IN list, several through an OR of ANDs. */
const PER_STATEMENT = 200

const rulesOf = new WeakMap<ModelCore, readonly UniqueRule[]>()

/** The uniqueness rules of a model's behaviours (found once per model: a write without rules pays a lookup). */
export const uniqueRules = (core: ModelCore): readonly UniqueRule[] => {
  let rules = rulesOf.get(core)
  if (rules === undefined) {
    rules = Object.freeze(core.behaviours.flatMap((b) => (b.unique === undefined ? [] : [b.unique])))
    rulesOf.set(core, rules)
  }
  return rules
}

/** The rule's fields, the unique field first. */
const fieldsOf = (rule: UniqueRule): readonly string[] => [rule.field, ...rule.scope]

/**
 * A row's values of the rule's fields as one string, for matching; undefined when any is NULL or
 * absent. `fold` lower-cases every field's text; `'first'` only the first field's (the unique
 * field of a rule that ignores case).
 */
const signature = (fields: readonly string[], v: Values, fold: boolean | 'first'): string | undefined => {
  let out = ''
  for (let i = 0; i < fields.length; i++) {
    const x = ownValue(v, fields[i])
    if (x === null || x === undefined) return undefined
    const k = String(keyOf(x))
    out += `${fold === true || (fold === 'first' && i === 0) ? k.normalize().toLowerCase() : k}\u0000`
  }
  return out
}

const issueOf = (rule: UniqueRule, v: Values, path: string): FieldIssue => ({
  path,
  rule: 'unique',
  value: v[rule.field],
  message: rule.message ?? (rule.scope.length === 0 ? `${rule.field} is already taken` : `${rule.field} is already taken for this ${rule.scope.join(' and ')}`),
})

/**
 * The issues of `rows` (validated values, about to be written) against the model's uniqueness
 * rules: a value another stored row holds, or one an earlier row of `rows` holds. `paths` gives
 * each row's path prefix (`rows.3.`, or `''` for one row); `except` is the key of the row being
 * updated (its own stored values are no duplicate); `rules` are the model's own unless given.
 * Throws a DbError when the read fails.
 *
 * @example await uniqueIssues(db, User.core, [{ email: 'ada@example.com' }], [''])
 */
export const uniqueIssues = async (db: Backend, core: ModelCore, rows: readonly Values[], paths: readonly string[], except?: Values, rules: readonly UniqueRule[] = uniqueRules(core)): Promise<FieldIssue[]> => {
  const issues: FieldIssue[] = []
  for (const rule of rules) {
    const fields = fieldsOf(rule)
    const first = new Map<string, number>()
    const checked: number[] = []
    // The rows whose value is taken (by a stored row, or by an earlier row of `rows`), reported in row order.
    const taken = new Set<number>()
    rows.forEach((v, i) => {
      const s = signature(fields, v, rule.caseSensitive === false ? 'first' : false)
      if (s === undefined) return
      if (first.has(s)) taken.add(i)
      else {
        first.set(s, i)
        checked.push(i)
      }
    })
    for (let at = 0; at < checked.length; at += PER_STATEMENT) {
      const chunk = checked.slice(at, at + PER_STATEMENT)
      for (const i of await takenBy(db, core, rule, chunk.map((j) => rows[j]), except)) taken.add(chunk[i])
    }
    for (const i of [...taken].sort((a, b) => a - b)) issues.push(issueOf(rule, rows[i], `${paths[i]}${rule.field}`))
  }
  return issues
}

/** Which of `rows` (by position) hold a value of the rule that a stored row holds. */
const takenBy = async (db: Backend, core: ModelCore, rule: UniqueRule, rows: readonly Values[], except: Values | undefined): Promise<number[]> => {
  const fields = fieldsOf(rule).map((n) => core.byName.get(n)!)
  // Ignoring case, the unique field's text is compared as lower(column) = lower(value).
  const folds = (i: number, x: unknown): boolean => i === 0 && rule.caseSensitive === false && typeof x === 'string'
  const side = (f: Field, i: number, x: unknown): Expr => (folds(i, x) ? fn('lower', core.column(f.name)) : core.column(f.name))
  const value = (i: number, x: unknown): unknown => (folds(i, x) ? fn('lower', val(x)) : x)
  const match: Expr = fields.length === 1 && rule.caseSensitive !== false
    ? isIn(core.column(fields[0].name), rows.map((v) => encodeField(fields[0], v[fields[0].name])))
    : or(...rows.map((v) => and(...fields.map((f, i) => {
      const x = encodeField(f, v[f.name])
      return eq(side(f, i, x), value(i, x))
    }))))
  const notSelf = except === undefined ? undefined : not(keyCondition(core, keyOfRow(core, except)))
  const node = where(allOf([match, notSelf])!)(select(...fields.map((f) => core.column(f.name)))(from(core.tableRef)))
  const r = await db.all(node)()
  if (r._tag === 'Left') throw r.left as DbError
  if (r.right.length === 0) return []
  if (rows.length === 1) return [0]
  const stored = core.mapper(fields.map((f) => f.name))(r.right) as Values[]
  const names = fields.map((f) => f.name)
  // Exact matches first; a stored value the database's collation matched another way (case) goes to the rows it folds to.
  const exact = new Map<string, number>()
  const folded = new Map<string, number[]>()
  rows.forEach((v, i) => {
    exact.set(signature(names, v, false)!, i)
    const k = signature(names, v, true)!
    folded.set(k, [...(folded.get(k) ?? []), i])
  })
  const out = new Set<number>()
  let unplaced = false
  for (const s of stored) {
    const i = exact.get(signature(names, s, false) ?? '')
    if (i !== undefined) out.add(i)
    else {
      const js = folded.get(signature(names, s, true) ?? '') ?? []
      for (const j of js) out.add(j)
      if (js.length === 0) unplaced = true
    }
  }
  // A stored value the collation matched in a way no folding here follows (accents, trailing
  // spaces on MariaDB): the rows not placed yet are asked one by one, so the ValidationError
  // names the row whose value is taken instead of the index failing the write.
  if (unplaced) {
    for (let i = 0; i < rows.length; i++) {
      if (!out.has(i) && (await takenBy(db, core, rule, [rows[i]], except)).length > 0) out.add(i)
    }
  }
  return [...out]
}
