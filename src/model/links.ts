/**
 * Writing a manyToMany relation's join table from the models: `attach` links a row to target
 * rows (one INSERT of join rows), `detach` unlinks them (one DELETE), so tagging an article or
 * favoriting it needs no model of the join table.
 */
import { left, right } from 'fp-ts/lib/Either.js'
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import type { Expr } from '../ast.js'
import type { Backend } from '../compose.js'
import { dbError, type DbError, type FieldIssue, isDbError, toDbError } from '../errors.js'
import { and, col, deleteFrom, eq, from, insertInto, or, select, set, update, val, values, where } from '../query.js'
import { encodeField, type ModelCore, ownValue, tableRefOf } from './core.js'
import { type Field, show } from './decode.js'
import { isThrough, keyOf, manyToManyKeys, type ManyToMany, pivotCondition, pivotFields } from './relations.js'

/**
 * The join-row values `attach` and `sync` write with each link (the relation's `pivot` fields):
 * one object for every target, or a function giving each target's.
 */
export type PivotValues = Readonly<Record<string, unknown>> | ((target: Readonly<Record<string, unknown>>, index: number) => Readonly<Record<string, unknown>>)

/**
 * One target's join-row values checked by the pivot's codecs and encoded, by column; the issues
 * found are added to `issues`. With `partial` (`updatePivot`), a field left out is not required.
 */
const pivotRow = (fields: readonly Field[], through: string, given: Readonly<Record<string, unknown>>, at: string, issues: FieldIssue[], partial = false): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  const known = new Set(fields.map((f) => f.name))
  for (const k of Object.keys(given)) {
    if (!known.has(k)) issues.push({ path: `${at}${k}`, rule: 'unknown', value: given[k], message: `${through} has no declared join-row column ${k} (it has ${[...known].join(', ')})` })
  }
  for (const f of fields) {
    const v = ownValue(given, f.name)
    if (v === undefined) {
      // Left out: the column's default, unless the field must hold a value.
      if (!partial && !f.optional && !f.codec.is(undefined)) issues.push({ path: `${at}${f.name}`, rule: 'required', value: v, message: `${through}.${f.column} is required` })
      continue
    }
    if (!f.codec.is(v)) {
      issues.push({ path: `${at}${f.name}`, rule: f.codec.name, value: v, message: `${through}.${f.column} must be ${f.codec.name}` })
      continue
    }
    out[f.column] = encodeField(f, v)
  }
  return out
}

/**
 * The join-row columns of each link, checked (a ValidationError naming each column that is
 * missing, of the wrong type or not declared; values given to a relation that declares no
 * `pivot`), or undefined when the relation declares none and none are given.
 */
const pivotRows = (
  core: ModelCore, name: string, rel: ManyToMany, targets: readonly Readonly<Record<string, unknown>>[], pivot: PivotValues | undefined, partial = false,
): Record<string, unknown>[] | undefined => {
  const fields = pivotFields(rel)
  const issues: FieldIssue[] = []
  let rows: Record<string, unknown>[] | undefined
  if (fields.length === 0) {
    if (pivot !== undefined) issues.push({ path: 'pivot', rule: 'declared', value: pivot, message: `${core.table}.${name} declares no join-row columns (pivot) to check the values by` })
  } else if (typeof pivot === 'function') rows = targets.map((t, i) => pivotRow(fields, rel.through, relationValues(rel, pivot(t, i), `targets.${i}.pivot.`, issues, partial), `targets.${i}.pivot.`, issues, partial))
  else {
    // One object for every target: the same row object, which lets a write of it cover them all.
    const one = pivotRow(fields, rel.through, relationValues(rel, pivot ?? {}, 'pivot.', issues, partial), 'pivot.', issues, partial)
    if (partial && issues.length === 0 && Object.keys(one).length === 0) {
      issues.push({ path: 'pivot', rule: 'required', value: pivot, message: `no join-row values of ${rel.through} given to write (it has ${fields.map((f) => f.name).join(', ')})` })
    }
    rows = targets.map(() => one)
  }
  if (issues.length > 0) {
    const what = fields.length === 0 ? issues[0].message : issues.map((i) => i.message).join(', ')
    throw dbError('ValidationError', `${core.table}.${name}: ${what}`, { issues })
  }
  return rows
}

/** Whether a value is one `wherePivot` takes for a field (the value itself, or one of a list). */
const allowed = (expected: unknown, v: unknown): boolean => {
  const same = (x: unknown) => x === v || (x instanceof Date && v instanceof Date && x.getTime() === v.getTime())
  return Array.isArray(expected) ? expected.some(same) : same(expected)
}

/**
 * The join-row values given, with the single values of the relation's `wherePivot` for the
 * fields left out (not for `partial` values, which set only what they name); a value the
 * relation's `wherePivot` does not take is an issue (the link would not be one of the relation's).
 */
const relationValues = (rel: ManyToMany, given: Readonly<Record<string, unknown>>, at: string, issues: FieldIssue[], partial: boolean): Readonly<Record<string, unknown>> => {
  const where = rel.wherePivot
  if (where === undefined) return given
  const out: Record<string, unknown> = { ...given }
  for (const [name, expected] of Object.entries(where)) {
    const v = ownValue(given, name)
    if (v === undefined) {
      if (!partial && !Array.isArray(expected)) out[name] = expected
      continue
    }
    if (!allowed(expected, v)) {
      issues.push({ path: `${at}${name}`, rule: 'wherePivot', value: v, message: `${rel.through}.${name} is ${Array.isArray(expected) ? `one of ${expected.map(show).join(', ')}` : show(expected)} on this relation, got ${show(v)}` })
    }
  }
  return out
}

/** The join rows of the source row's links: its key in the `from` columns, and the relation's `wherePivot`. */
const ownLinks = (l: Link): Expr[] => {
  const own: Expr[] = l.from.map((c, i) => eq(col(c), val(l.source[i])))
  const onRelation = pivotCondition(l.rel, (c) => col(c))
  return onRelation === undefined ? own : [...own, onRelation]
}

interface Link {
  readonly rel: ManyToMany
  readonly from: readonly string[]
  readonly to: readonly string[]
  /** The join-table values of the source row, by `from` column. */
  readonly source: readonly unknown[]
  /** The join-table values of each target, by `to` column. */
  readonly targets: readonly (readonly unknown[])[]
}

/** Encoded key values of a row over some fields, or the issues of the fields it lacks. */
const keyValues = (fields: readonly Field[], row: Readonly<Record<string, unknown>>, at: string): unknown[] | FieldIssue[] => {
  const issues: FieldIssue[] = []
  const out = fields.map((f) => {
    const v = ownValue(row, f.name)
    if (v === null || v === undefined) issues.push({ path: at === '' ? f.name : `${at}.${f.name}`, rule: 'required', value: v, message: `${f.name} is required to link rows` })
    return encodeField(f, v)
  })
  return issues.length > 0 ? issues : out
}

const isIssues = (u: unknown[] | FieldIssue[]): u is FieldIssue[] => u.length > 0 && typeof u[0] === 'object' && u[0] !== null && 'rule' in (u[0] as object)

/** The relation, its join-table columns and the key values of both sides; throws a DbError. */
const linkOf = (core: ModelCore, name: string, row: Readonly<Record<string, unknown>>, targets: readonly Readonly<Record<string, unknown>>[]): Link => {
  const rel = ownValue(core.relations, name)
  if (rel === undefined) throw dbError('QueryError', `${core.table} has no relation "${name}"`)
  if (isThrough(rel)) throw dbError('QueryError', `${core.table}.${name} is a ${rel.kind} relation, read-only: write the rows of ${rel.through} and their ${rel.source} instead`)
  if (rel.kind !== 'manyToMany') throw dbError('QueryError', `${core.table}.${name} is a ${rel.kind} relation: attach and detach write manyToMany join tables`)
  const target = ownValue(core.graph?.models, rel.target)
  if (target === undefined) throw dbError('QueryError', `${core.table}.${name}: relations are written once the models are related: relate({ ... })`)
  const { sk, tk, from, to } = manyToManyKeys(core, target, name, rel)
  const source = keyValues(sk, row, '')
  const issues: FieldIssue[] = isIssues(source) ? [...source] : []
  const keys = targets.map((t, i) => {
    const k = keyValues(tk, t, `targets.${i}`)
    if (isIssues(k)) issues.push(...k)
    return k
  })
  if (issues.length > 0) {
    throw dbError('ValidationError', `${core.table}.${name}: ${issues.map((i) => `${i.path}: ${i.rule}`).join(', ')}`, { issues })
  }
  return { rel, from, to, source, targets: keys }
}

const attempt = <A>(body: () => Promise<A>): TaskEither<DbError, A> => async () => {
  try {
    return right(await body())
  } catch (e) {
    return left(isDbError(e) ? e : toDbError(e))
  }
}

/**
 * Link `row` to `targets` (target rows, or objects holding the target's key) through the
 * manyToMany relation `name`: one INSERT of join rows. Returns how many were inserted; a link
 * that exists already is a UniqueViolation when the join table has a key over both columns.
 * `pivot` gives the join rows' own columns (the relation's `pivot` fields), checked first.
 *
 * @example attachRows(db, Article.core, article, 'tags', [dragons, training])
 * @example attachRows(db, Team.core, team, 'members', [ada], { role: 'lead' })
 */
export const attachRows = (db: Backend, core: ModelCore, row: Readonly<Record<string, unknown>>, name: string, targets: readonly Readonly<Record<string, unknown>>[], pivot?: PivotValues): TaskEither<DbError, number> =>
  attempt(async () => {
    const l = linkOf(core, name, row, targets)
    const extra = pivotRows(core, name, l.rel, targets, pivot)
    if (l.targets.length === 0) return 0
    const rows = l.targets.map((t, j) => Object.fromEntries([...l.from.map((c, i) => [c, l.source[i]]), ...l.to.map((c, i) => [c, t[i]]), ...Object.entries(extra?.[j] ?? {})]))
    const r = await db.execute(values(rows)(insertInto(tableRefOf(l.rel.through))))()
    if (r._tag === 'Left') throw r.left
    return r.right.rowsAffected
  })

/**
 * Unlink `row` from `targets` through the manyToMany relation `name`, or from every target when
 * `targets` is omitted: one DELETE of join rows. Returns how many were deleted.
 *
 * @example detachRows(db, Article.core, article, 'tags', [dragons])
 */
export const detachRows = (db: Backend, core: ModelCore, row: Readonly<Record<string, unknown>>, name: string, targets?: readonly Readonly<Record<string, unknown>>[]): TaskEither<DbError, number> =>
  attempt(async () => {
    const l = linkOf(core, name, row, targets ?? [])
    if (targets !== undefined && targets.length === 0) return 0
    const own = ownLinks(l)
    const which = targets === undefined ? [] : [or(...l.targets.map((t) => and(...l.to.map((c, i) => eq(col(c), val(t[i]))))))]
    const r = await db.execute(where(and(...own, ...which))(deleteFrom(tableRefOf(l.rel.through))))()
    if (r._tag === 'Left') throw r.left
    return r.right.rowsAffected
  })

/** A join-table key (the `to` values of one link) as a string, for matching. */
const linkKey = (values: readonly unknown[]): string => values.map((v) => String(keyOf(v))).join('\u0000')

/** How `sync` treats the links it keeps and those it was not given. */
export interface SyncOptions {
  /**
   * Give the links kept the join-row values too (Laravel's `sync` with values per id and
   * `syncWithPivotValues`); a field left out of a target's values keeps its value. By default
   * the kept links are left as they are (Django's `through_defaults`).
   */
  readonly updateKept?: boolean
  /** `false`: remove no link, only add the missing ones (Laravel's `syncWithoutDetaching`). */
  readonly detaching?: boolean
}

/** What `sync` did: links inserted, deleted, and (with `updateKept`) kept links given the values. */
export interface SyncResult {
  readonly attached: number
  readonly detached: number
  /** Kept links whose join-row values were written; present with `updateKept` only. */
  readonly updated?: number
}

/**
 * Write `values` (join-row columns, encoded) on the links from the source to each of `targets`:
 * one UPDATE per distinct values object (a single object given for every target is one UPDATE
 * for all of them). Returns how many join rows matched, changed or not (each engine's count).
 */
const writeLinks = async (
  tx: Backend, l: Link, targets: readonly (readonly unknown[])[], values: readonly Record<string, unknown>[],
): Promise<number> => {
  const through = tableRefOf(l.rel.through)
  const own = ownLinks(l)
  const byValues = new Map<Record<string, unknown>, (readonly unknown[])[]>()
  targets.forEach((t, j) => {
    if (Object.keys(values[j]).length === 0) return
    const list = byValues.get(values[j])
    if (list === undefined) byValues.set(values[j], [t])
    else list.push(t)
  })
  let n = 0
  for (const [assigned, keys] of byValues) {
    const which = or(...keys.map((t) => and(...l.to.map((c, i) => eq(col(c), val(t[i]))))))
    const r = await tx.execute(where(and(...own, which))(set(assigned)(update(through))))()
    if (r._tag === 'Left') throw r.left
    n += r.right.rowsAffected
  }
  return n
}

/**
 * Make `row`'s links through the manyToMany relation `name` exactly `targets`: the links it
 * lacks are inserted (one INSERT), those to other targets deleted (one DELETE), the ones kept
 * are left as they are; in one transaction (a savepoint inside the caller's). Returns how many
 * links were attached and detached. `pivot` gives the join-row columns of the links it inserts,
 * and with `{ updateKept: true }` of those it keeps too (one UPDATE per distinct values, `updated`
 * counting them); `{ detaching: false }` deletes none. The values are checked before any SQL runs.
 *
 * @example syncRows(db, Article.core, article, 'tags', [dragons, training]) // { attached: 1, detached: 1 }
 * @example syncRows(db, Team.core, team, 'members', [ada, bob], { role: 'member' }, { updateKept: true }) // { attached: 1, detached: 0, updated: 1 }
 */
export const syncRows = (
  db: Backend, core: ModelCore, row: Readonly<Record<string, unknown>>, name: string, targets: readonly Readonly<Record<string, unknown>>[],
  pivot?: PivotValues, options?: SyncOptions,
): TaskEither<DbError, SyncResult> => async () => {
  // Checked before the transaction opens: bad values send no statement at all.
  let l: Link
  let extra: Record<string, unknown>[] | undefined
  try {
    l = linkOf(core, name, row, targets)
    extra = pivotRows(core, name, l.rel, targets, pivot)
  } catch (e) {
    return left(isDbError(e) ? e : toDbError(e))
  }
  return db.transaction((tx) => attempt(async () => {
    const through = tableRefOf(l.rel.through)
    const own = ownLinks(l)
    const current = await tx.all(where(and(...own))(select(...l.to.map((c, i) => ({ expr: col(c), alias: `rk_to_${i}` })))(from(through))))()
    if (current._tag === 'Left') throw current.left
    const have = new Map<string, unknown[]>()
    for (const r of current.right) {
      const k = l.to.map((_, i) => r[`rk_to_${i}`])
      have.set(linkKey(k), k)
    }
    const wanted = new Map<string, readonly unknown[]>()
    const extraOf = new Map<string, Record<string, unknown>>()
    l.targets.forEach((t, j) => {
      wanted.set(linkKey(t), t)
      if (extra !== undefined) extraOf.set(linkKey(t), extra[j])
    })
    const gone = options?.detaching === false ? [] : [...have].filter(([k]) => !wanted.has(k)).map(([, v]) => v)
    const added = [...wanted].filter(([k]) => !have.has(k)).map(([, v]) => v)
    let detached = 0
    if (gone.length > 0) {
      const which = or(...gone.map((t) => and(...l.to.map((c, i) => eq(col(c), val(t[i]))))))
      const r = await tx.execute(where(and(...own, which))(deleteFrom(through)))()
      if (r._tag === 'Left') throw r.left
      detached = r.right.rowsAffected
    }
    let attached = 0
    if (added.length > 0) {
      const rows = added.map((t) => Object.fromEntries([...l.from.map((c, i) => [c, l.source[i]]), ...l.to.map((c, i) => [c, t[i]]), ...Object.entries(extraOf.get(linkKey(t)) ?? {})]))
      const r = await tx.execute(values(rows)(insertInto(through)))()
      if (r._tag === 'Left') throw r.left
      attached = r.right.rowsAffected
    }
    if (options?.updateKept !== true) return { attached, detached }
    // The links kept, each with the values given for it (the link the last mention of a target gave, as for those added).
    const kept = [...wanted].filter(([k]) => have.has(k))
    const updated = extra === undefined || kept.length === 0 ? 0 : await writeLinks(tx, l, kept.map(([, v]) => v), kept.map(([k]) => extraOf.get(k)!))
    return { attached, detached, updated }
  }))()
}

/**
 * Set join-row values (the relation's `pivot` fields given; those left out keep theirs) on
 * `row`'s existing links to `targets` through the manyToMany relation `name`, as Laravel's
 * `updateExistingPivot`: `values` is one object for every target (one UPDATE) or a function of
 * each target (one UPDATE per target, in one transaction). Returns how many links were written;
 * a target not linked counts none. The values are checked first: a ValidationError naming each
 * column of the wrong type or not declared, or no value at all; nothing is written.
 *
 * @example updatePivotRows(db, Team.core, team, 'members', [ada], { rank: 2 }) // 1
 */
export const updatePivotRows = (
  db: Backend, core: ModelCore, row: Readonly<Record<string, unknown>>, name: string, targets: readonly Readonly<Record<string, unknown>>[], pivot: PivotValues,
): TaskEither<DbError, number> =>
  attempt(async () => {
    const l = linkOf(core, name, row, targets)
    const extra = pivotRows(core, name, l.rel, targets, pivot, true)
    if (extra === undefined || l.targets.length === 0) return 0
    if (typeof pivot !== 'function') return writeLinks(db, l, l.targets, extra)
    // One UPDATE per target: all of them or none.
    const r = await db.transaction((tx) => attempt(() => writeLinks(tx, l, l.targets, extra)))()
    if (r._tag === 'Left') throw r.left
    return r.right
  })
