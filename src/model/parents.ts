/**
 * What counter caches (`counter-cache.ts`) and parent touches (`touch-parents.ts`) share: the
 * parents a row belongs to through some `belongsTo` relations, each as its model and the match
 * by its key, and the after-write hook that runs a step for them in the write's transaction.
 */
import { right } from 'fp-ts/lib/Either.js'
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import { dbError, type DbError } from '../errors.js'
import type { AnyRelation, BelongsTo } from './relations.js'
import type { HookContext } from './behaviours.js'
import { type ModelCore, ownValue } from './core.js'
import { fieldList } from './relations.js'

type Values = Record<string, unknown>

/** A parent of a row: its model and the values of its key (by field name). */
export interface Parent {
  readonly target: ModelCore
  readonly match: Values
}

/**
 * The `belongsTo` relations of a model that `wanted` picks.
 *
 * @example belongsToWhere(relations, (r) => r.touch === true)
 */
export const belongsToWhere = (relations: Readonly<Record<string, AnyRelation>>, wanted: (r: BelongsTo) => boolean): readonly [string, BelongsTo][] =>
  Object.entries(relations).filter((e): e is [string, BelongsTo] => e[1].kind === 'belongsTo' && wanted(e[1]))

/**
 * The parents `row` belongs to through `relations` (`only` picks relations by their foreign key
 * fields); none for a relation whose key the row leaves null. `what` names the feature in the
 * error of models not yet related.
 *
 * @example parentsOf(Comment.core, belongsToWhere(relations, (r) => r.touch === true), comment, 'a parent is touched')
 */
export const parentsOf = (own: ModelCore, relations: readonly [string, BelongsTo][], row: Values, what: string, only?: (fks: readonly string[]) => boolean): Parent[] => {
  const out: Parent[] = []
  for (const [name, rel] of relations) {
    const fks = fieldList(rel.foreignKey)
    if (only !== undefined && !only(fks)) continue
    const target = ownValue(own.graph?.models, rel.target)
    if (target === undefined) throw dbError('QueryError', `${own.table}.${name}: ${what} once the models are related: relate({ ... })`)
    const tks = rel.targetKey === undefined ? target.primaryKey.map((f) => f.name) : fieldList(rel.targetKey)
    const values = fks.map((f) => row[f])
    if (values.some((v) => v === null || v === undefined)) continue
    out.push({ target, match: Object.fromEntries(tks.map((k, i) => [k, values[i]])) })
  }
  return out
}

/**
 * An after-write hook running `body` and handing the row back; an upsert, which cannot tell here
 * whether it inserted or updated, runs nothing (as Rails' upsert_all). A thrown DbError is its Left.
 *
 * @example afterWrite(async (row, ctx) => { await touchParentsOf(ctx.db, row) })
 */
export const afterWrite = (body: (row: Values, ctx: HookContext) => Promise<void>) => (row: Values, ctx: HookContext): TaskEither<DbError, Values> => async () => {
  try {
    if (ctx.op !== 'upsert') await body(row, ctx)
    return right(row)
  } catch (e) {
    return { _tag: 'Left', left: e as DbError }
  }
}

/** Whether a relation's foreign key moved between two copies of a row. */
export const movedBetween = (old: Values, row: Values) => (fks: readonly string[]): boolean => fks.some((f) => row[f] !== old[f])
