/**
 * Parents touched by their rows: a `belongsTo` given `touch: true` sets the target row's update
 * time (`timestamps()`'s `updatedAt`, and its version under an optimistic lock) whenever a row
 * that belongs to it is created, updated, deleted or restored (Rails' `belongs_to :post, touch:
 * true`), so a cache keyed on the post's `updatedAt` sees its comments change. An update that
 * moves the row to another parent touches both. Each touch is one UPDATE by key (`touchMatching`),
 * in the write's transaction (the hooks of a behaviour the model gets for them, after its own).
 *
 * ```ts
 * Comment: model({ ..., relations: { post: belongsTo('Post', 'postId', { touch: true }) } })
 * ```
 *
 * As in Rails, set-based writes (`updateWhere`, `deleteWhere`) and `upsert` touch nothing.
 */
import { right } from 'fp-ts/lib/Either.js'
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import type { Backend } from '../compose.js'
import { dbError, type DbError } from '../errors.js'
import type { AnyBehaviour, HookContext } from './behaviours.js'
import { type ModelCore, ownValue } from './core.js'
import { type AnyRelation, type BelongsTo, fieldList } from './relations.js'
import { touchMatching } from './write.js'

type Values = Record<string, unknown>

/**
 * The behaviour touching the parents of a model's `belongsTo` relations given `touch: true` (none
 * when no relation asks for it). `core` is read when a hook runs: the model as `relate` built it.
 *
 * @example parentTouches({ post: belongsTo('Post', 'postId', { touch: true }) }, () => Comment.core)
 */
export const parentTouches = (relations: Readonly<Record<string, AnyRelation>>, core: () => ModelCore): AnyBehaviour | undefined => {
  const touching = Object.entries(relations).filter((e): e is [string, BelongsTo] => e[1].kind === 'belongsTo' && e[1].touch === true)
  if (touching.length === 0) return undefined
  /** Touch the parent of `row` in each touching relation (`only` picks relations; a row without a key has none). */
  const touch = async (db: Backend, row: Values, only?: (fks: readonly string[]) => boolean): Promise<void> => {
    const own = core()
    for (const [name, rel] of touching) {
      const fks = fieldList(rel.foreignKey)
      if (only !== undefined && !only(fks)) continue
      const target = ownValue(own.graph?.models, rel.target)
      if (target === undefined) throw dbError('QueryError', `${own.table}.${name}: a parent is touched once the models are related: relate({ ... })`)
      const tks = rel.targetKey === undefined ? target.primaryKey.map((f) => f.name) : fieldList(rel.targetKey)
      const values = fks.map((f) => row[f])
      if (values.some((v) => v === null || v === undefined)) continue
      const r = await touchMatching(db, target, Object.fromEntries(tks.map((k, i) => [k, values[i]])))()
      if (r._tag === 'Left') throw r.left
    }
  }
  const run = (body: (row: Values, ctx: HookContext) => Promise<void>) => (row: Values, ctx: HookContext): TaskEither<DbError, Values> => async () => {
    try {
      // An upsert cannot tell here whether it inserted or updated: it touches nothing (as Rails' upsert_all).
      if (ctx.op !== 'upsert') await body(row, ctx)
      return right(row)
    } catch (e) {
      return { _tag: 'Left', left: e as DbError }
    }
  }
  const plain = run((row, ctx) => touch(ctx.db, row))
  return {
    name: 'touchParents',
    afterInsert: plain,
    afterDelete: plain,
    afterRestore: plain,
    // The parent the row belongs to now, and the one it left when the update moved it.
    afterUpdate: run(async (row, ctx) => {
      await touch(ctx.db, row)
      const old = ctx.row
      if (old !== undefined) await touch(ctx.db, old, (fks) => fks.some((f) => row[f] !== old[f]))
    }),
  }
}
