/**
 * A polymorphic belongsTo (`morphTo`), as Rails' `belongs_to :commentable, polymorphic: true` and
 * Laravel's `morphTo`: the row's type field names the target model, its key field holds that
 * model's primary key. Its rows come from several models, so it has no single target: loading it
 * runs one statement per type found (see `loadIncludes`), and filters and counts over it are refused.
 */
import { dbError, type DbError } from '../errors.js'
import { type ModelCore, ownValue } from './core.js'
import type { Field } from './decode.js'
import { failed, type ModelQuery } from './query.js'
import type { MorphMany, MorphTo } from './relations.js'

const fail = (message: string): DbError => dbError('QueryError', message)

/**
 * The model a type value names, with its primary-key field; a QueryError naming the value when
 * no model is named by it (or naming the model when it is not related or has a composite key).
 *
 * @example morphTarget(Comment.core, 'commentable', rel, 'post').target.table // 'posts'
 */
export const morphTarget = (core: ModelCore, name: string, rel: MorphTo, type: string): { readonly target: ModelCore; readonly key: Field; readonly model: string } => {
  const owner = `${core.graph?.name ?? core.table}.${name}`
  const model = ownValue(rel.targets, type)
  if (model === undefined) throw fail(`${owner}: the type ${JSON.stringify(type)} names no model (it takes ${Object.keys(rel.targets).join(', ')})`)
  const target = ownValue(core.graph?.models, model)
  if (target === undefined) throw fail(`${owner}: no model named "${model}" in relate({ ... })`)
  if (target.primaryKey.length !== 1) throw fail(`${owner}: ${target.table} has a composite primary key; a morphTo key is one field`)
  return { target, key: target.primaryKey[0], model }
}

/**
 * The checks `relate` makes of a morphTo (a TypeError naming the relation): its type and key
 * fields exist, and every model it names is related and has a single-field primary key.
 *
 * @example checkMorph(Comment.core, 'Comment', 'commentable', rel)
 */
export const checkMorph = (core: ModelCore, modelName: string, name: string, rel: MorphTo): void => {
  for (const f of [rel.typeField, rel.idField]) if (!core.byName.has(f)) throw new TypeError(`${modelName}.${name}: ${core.table} has no field "${f}"`)
  const types = Object.keys(rel.targets)
  if (types.length === 0) throw new TypeError(`${modelName}.${name}: a morphTo names no model`)
  for (const type of types) {
    try {
      morphTarget(core, name, rel, type)
    } catch (e) {
      throw new TypeError((e as Error).message, { cause: e })
    }
  }
}

/**
 * The error of a use of a morphTo that needs one target model (a nested path, a modifier, a
 * relation filter or aggregate).
 *
 * @example morphRefused(Comment.core, 'commentable', 'whereHas')
 */
export const morphRefused = (core: ModelCore, name: string, what: string): DbError =>
  fail(`${core.graph?.name ?? core.table}.${name} is a morphTo relation, whose rows are of several models: ${what} needs one target model`)

/** How the inverse of a morphTo joins: the target's key and type fields, the type naming this model, and this model's key. */
export interface MorphInverse {
  readonly target: ModelCore
  /** The target's field holding this model's key. */
  readonly key: Field
  /** The target's field holding the type. */
  readonly type: Field
  /** The type that names this model. */
  readonly value: string
  /** This model's primary-key field. */
  readonly own: Field
}

/**
 * The plan of a morphMany / morphOne `name` of `core`: a QueryError naming the relation when the
 * target has no such morphTo, the morphTo names no type for this model, or this model's primary
 * key is composite.
 *
 * @example morphInverse(Post.core, 'comments', rel).value // 'post'
 */
export const morphInverse = (core: ModelCore, name: string, rel: MorphMany): MorphInverse => {
  const self = core.graph?.name ?? core.table
  const owner = `${self}.${name}`
  const target = ownValue(core.graph?.models, rel.target)
  if (target === undefined) throw fail(`${owner}: no model named "${rel.target}" in relate({ ... })`)
  const morph = ownValue(target.relations, rel.as)
  if (morph === undefined || morph.kind !== 'morphTo') throw fail(`${owner}: ${target.table} has no morphTo relation "${rel.as}"`)
  const value = Object.keys(morph.targets).find((k) => morph.targets[k] === self)
  if (value === undefined) throw fail(`${owner}: ${rel.target}.${rel.as} names no type for ${self} (it takes ${Object.entries(morph.targets).map(([k, v]) => `${k}: ${v}`).join(', ')})`)
  if (core.primaryKey.length !== 1) throw fail(`${owner}: ${core.table} has a composite primary key; a morphTo key is one field`)
  const key = target.byName.get(morph.idField)
  const type = target.byName.get(morph.typeField)
  if (key === undefined || type === undefined) throw fail(`${owner}: ${target.table} has no field "${key === undefined ? morph.idField : morph.typeField}"`)
  return { target, key, type, value, own: core.primaryKey[0] }
}

/**
 * The checks `relate` makes of a morphMany / morphOne (see `morphInverse`), as a TypeError.
 *
 * @example checkMorphInverse(Post.core, 'comments', rel)
 */
export const checkMorphInverse = (core: ModelCore, name: string, rel: MorphMany): void => {
  try {
    morphInverse(core, name, rel)
  } catch (e) {
    throw new TypeError((e as Error).message, { cause: e })
  }
}

/** A per-type modifier of a morphTo: receives the query of the model the type names, and that model. */
export type MorphModifier = (q: ModelQuery<any, any, any>, model: any) => ModelQuery<any, any, any>

/** Where `morphWith` keeps its modifiers by type, on the modifier it returns. */
const MORPH_WITH: unique symbol = Symbol('recordkit.morphWith')

/** The modifier `morphWith` returns: a plain modifier elsewhere (a failing one), its types' modifiers on a morphTo. */
export interface MorphWith {
  // Generic, so that it stands where any relation's modifier is expected (a morphTo's target type is no one model's).
  <Q>(q: Q, model?: unknown): Q
  readonly [MORPH_WITH]: Readonly<Record<string, MorphModifier>>
}

/**
 * Per-type modifiers of a morphTo, by type value (a key of its `targets`), as Laravel's
 * `morphWith` and `constrain` (in `include`) and `whereHasMorph` (in `whereHas`): each receives
 * the query of the model its type names, and that model, and may add conditions (a row that does
 * not meet them loads as null; `whereHas` keeps the rows whose target meets them) and includes
 * of that model (loaded below it, one statement per relation per type). A type left out loads as
 * it would without; in `whereHas`, only the types named count. Used on another relation, the
 * query fails with a QueryError.
 *
 * @example pipe(Comment.query, Comment.include('commentable', morphWith({ post: (q, Post) => pipe(q, Post.include('author')) })), Comment.all(db))
 * @example pipe(Comment.query, Comment.whereHas('commentable', morphWith({ post: (q, Post) => pipe(q, Post.where('published', '=', true)) })), Comment.all(db))
 */
export const morphWith = (types: Readonly<Record<string, MorphModifier>>): MorphWith => {
  const modifier = <Q>(q: Q): Q => {
    const mq = q as ModelQuery<any, any, any>
    return failed(mq, fail(`morphWith(${Object.keys(types).join(', ')}) is given to a relation of ${mq.core.table}, which is no morphTo relation`)) as Q
  }
  return Object.freeze(Object.assign(modifier, { [MORPH_WITH]: Object.freeze({ ...types }) }))
}

/** The per-type modifiers of a `morphWith` modifier; undefined for any other. */
export const morphModifiers = (m: unknown): Readonly<Record<string, MorphModifier>> | undefined =>
  typeof m === 'function' && MORPH_WITH in m ? (m as MorphWith)[MORPH_WITH] : undefined

/**
 * The modifiers of a morphTo level by type: those of each `morphWith` given (later ones after
 * earlier ones); a QueryError naming the relation for a plain modifier (its model would differ
 * from type to type) or a type the morphTo does not take.
 *
 * @example morphModifiersOf(Comment.core, 'commentable', rel, [morphWith({ post: (q) => q })]).get('post')?.length // 1
 */
export const morphModifiersOf = (core: ModelCore, name: string, rel: MorphTo, modifiers: readonly unknown[]): Map<string, MorphModifier[]> => {
  const out = new Map<string, MorphModifier[]>()
  for (const m of modifiers) {
    const byType = morphModifiers(m)
    if (byType === undefined) throw fail(`${core.graph?.name ?? core.table}.${name} is a morphTo relation, whose rows are of several models: give its modifiers by type with morphWith({ ${Object.keys(rel.targets).map((k) => `${k}: ...`).join(', ')} })`)
    for (const [type, f] of Object.entries(byType)) {
      if (ownValue(rel.targets, type) === undefined) throw fail(`${core.graph?.name ?? core.table}.${name}: morphWith names the type ${JSON.stringify(type)}, which names no model (it takes ${Object.keys(rel.targets).join(', ')})`)
      const list = out.get(type)
      if (list === undefined) out.set(type, [f])
      else list.push(f)
    }
  }
  return out
}

/**
 * The query of a morphTo's type `type`: its model's query with the type's modifiers applied; a
 * QueryError naming the relation for a modifier's limit or offset (it would hold for all the
 * rows of the statement, not per row).
 */
export const morphQuery = (core: ModelCore, name: string, start: ModelQuery<any, any, any>, publicModel: unknown, mods: readonly MorphModifier[] | undefined, type: string): ModelQuery<any, any, any> => {
  const q = (mods ?? []).reduce((acc, m) => m(acc, publicModel), start)
  if (q.error !== undefined) throw q.error
  if (q.limit !== undefined || q.offset !== undefined) throw fail(`${core.graph?.name ?? core.table}.${name}: morphWith's ${type} takes conditions and includes, not a limit or offset (the morphTo loads one row per row)`)
  return q
}
