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
import type { Backend } from '../compose.js'
import type { AnyBehaviour } from './behaviours.js'
import type { ModelCore } from './core.js'
import { afterWrite, belongsToWhere, movedBetween, parentsOf } from './parents.js'
import type { AnyRelation } from './relations.js'
import { touchMatching } from './write.js'

type Values = Record<string, unknown>

/**
 * The behaviour touching the parents of a model's `belongsTo` relations given `touch: true` (none
 * when no relation asks for it). `core` is read when a hook runs: the model as `relate` built it.
 *
 * @example parentTouches({ post: belongsTo('Post', 'postId', { touch: true }) }, () => Comment.core)
 */
export const parentTouches = (relations: Readonly<Record<string, AnyRelation>>, core: () => ModelCore): AnyBehaviour | undefined => {
  const touching = belongsToWhere(relations, (r) => r.touch === true)
  if (touching.length === 0) return undefined
  /** Touch the parent of `row` in each touching relation (`only` picks relations; a row without a key has none). */
  const touch = async (db: Backend, row: Values, only?: (fks: readonly string[]) => boolean): Promise<void> => {
    for (const { target, match } of parentsOf(core(), touching, row, 'a parent is touched', only)) {
      const r = await touchMatching(db, target, match)()
      if (r._tag === 'Left') throw r.left
    }
  }
  const plain = afterWrite((row, ctx) => touch(ctx.db, row))
  return {
    name: 'touchParents',
    afterInsert: plain,
    afterDelete: plain,
    afterRestore: plain,
    // The parent the row belongs to now, and the one it left when the update moved it.
    afterUpdate: afterWrite(async (row, ctx) => {
      await touch(ctx.db, row)
      const old = ctx.row
      if (old !== undefined) await touch(ctx.db, old, movedBetween(old, row))
    }),
  }
}
