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
import { right } from 'fp-ts/lib/Either.js'
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import type { Backend } from '../compose.js'
import { dbError, type DbError } from '../errors.js'
import type { AnyBehaviour, HookContext } from './behaviours.js'
import type { ModelCore } from './core.js'
import { ownValue } from './core.js'
import type { AnyRelation, BelongsTo } from './relations.js'
import { fieldList } from './relations.js'
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
  const cached = Object.entries(relations).filter((e): e is [string, BelongsTo] => e[1].kind === 'belongsTo' && e[1].counterCache !== undefined)
  if (cached.length === 0) return undefined
  /** Add `by` to the counter of the row's target in each cached relation (a row without a key counts nowhere). */
  const move = async (db: Backend, row: Values, by: number, only?: (fks: readonly string[]) => boolean): Promise<void> => {
    const own = core()
    for (const [name, rel] of cached) {
      const fks = fieldList(rel.foreignKey)
      if (only !== undefined && !only(fks)) continue
      const target = ownValue(own.graph?.models, rel.target)
      if (target === undefined) throw dbError('QueryError', `${own.table}.${name}: a counter cache is kept once the models are related: relate({ ... })`)
      const tks = rel.targetKey === undefined ? target.primaryKey.map((f) => f.name) : fieldList(rel.targetKey)
      const values = fks.map((f) => row[f])
      if (values.some((v) => v === null || v === undefined)) continue
      const r = await incrementMatching(db, target, Object.fromEntries(tks.map((k, i) => [k, values[i]])), rel.counterCache!, by, false, true)()
      if (r._tag === 'Left') throw r.left
    }
  }
  const step = (by: number) => (row: Values, ctx: HookContext): TaskEither<DbError, Values> => async () => {
    try {
      // An upsert cannot tell here whether it inserted or updated: it moves no counter (as Rails' upsert_all).
      if (ctx.op === 'upsert') return right(row)
      // A row soft-deleted before counts no more: deleting it for good takes nothing.
      if (by < 0 && softField !== undefined && ctx.row !== undefined && ctx.row[softField] !== null && ctx.row[softField] !== undefined) return right(row)
      await move(ctx.db, row, by)
      return right(row)
    } catch (e) {
      return { _tag: 'Left', left: e as DbError }
    }
  }
  return {
    name: 'counterCache',
    afterInsert: step(1),
    afterDelete: step(-1),
    afterRestore: step(1),
    // An update that moves the row to another target: 1 from the old, 1 to the new.
    afterUpdate: (row, ctx) => async () => {
      try {
        const old = ctx.row
        if (old !== undefined) {
          const changed = (fks: readonly string[]) => fks.some((f) => row[f] !== old[f])
          await move(ctx.db, old, -1, changed)
          await move(ctx.db, row, 1, changed)
        }
        return right(row)
      } catch (e) {
        return { _tag: 'Left', left: e as DbError }
      }
    },
  }
}
