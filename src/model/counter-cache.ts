/**
 * Counter caches: a `belongsTo` given `counterCache: 'commentsCount'` keeps that field of the
 * target row equal to the number of rows that belong to it (Rails' `belongs_to :post,
 * counter_cache: true`), adding 1 when a row is created, taking 1 when it is deleted (softly too)
 * and adding it back when it is restored, and moving 1 from one target to the other when an
 * update changes the key. Each step is one `UPDATE target SET n = COALESCE(n, 0) + 1` by key, in
 * the write's transaction (the hooks of a behaviour the model gets for them, after its own),
 * whatever the target's default scopes say and without its updatedAt or version, as Rails'
 * `update_counters`.
 *
 * ```ts
 * Comment: model({ ..., relations: { post: belongsTo('Post', 'postId', { counterCache: 'commentsCount' }) } })
 * ```
 *
 * As in Rails, set-based writes (`updateWhere`, `deleteWhere`) and `upsert` do not move counters.
 */
import type { Backend } from '../compose.js'
import type { AnyBehaviour } from './behaviours.js'
import type { ModelCore } from './core.js'
import { afterWrite, belongsToWhere, movedBetween, parentsOf } from './parents.js'
import type { AnyRelation } from './relations.js'
import { incrementMatching } from './write.js'

type Values = Record<string, unknown>

/**
 * The behaviour keeping the counter caches of a model's `belongsTo` relations (none when no
 * relation asks for one). `core` is read when a hook runs: the model as `relate` built it, with
 * its graph. `softField` is the soft-delete field, if any: a row already soft-deleted counts no
 * more, so deleting it for good takes nothing.
 *
 * @example counterCaches({ post: belongsTo('Post', 'postId', { counterCache: 'commentsCount' }) }, () => Comment.core, 'deletedAt')
 */
export const counterCaches = (relations: Readonly<Record<string, AnyRelation>>, core: () => ModelCore, softField: string | undefined): AnyBehaviour | undefined => {
  const cached = belongsToWhere(relations, (r) => r.counterCache !== undefined)
  if (cached.length === 0) return undefined
  /** Add `by` to the counter of the row's target in each cached relation (a row without a key counts nowhere). */
  const move = async (db: Backend, row: Values, by: number, only?: (fks: readonly string[]) => boolean): Promise<void> => {
    for (const [name, rel] of cached) {
      for (const { target, match } of parentsOf(core(), [[name, rel]], row, 'a counter cache is kept', only)) {
        const r = await incrementMatching(db, target, match, rel.counterCache!, by, false, true)()
        if (r._tag === 'Left') throw r.left
      }
    }
  }
  const step = (by: number) => afterWrite(async (row, ctx) => {
    // A row soft-deleted before counts no more: deleting it for good takes nothing.
    if (by < 0 && softField !== undefined && ctx.row !== undefined && ctx.row[softField] !== null && ctx.row[softField] !== undefined) return
    await move(ctx.db, row, by)
  })
  return {
    name: 'counterCache',
    afterInsert: step(1),
    afterDelete: step(-1),
    afterRestore: step(1),
    // An update that moves the row to another target: 1 from the old, 1 to the new.
    afterUpdate: afterWrite(async (row, ctx) => {
      const old = ctx.row
      if (old === undefined) return
      await move(ctx.db, old, -1, movedBetween(old, row))
      await move(ctx.db, row, 1, movedBetween(old, row))
    }),
  }
}
