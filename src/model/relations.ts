/**
 * Relations between models, and loading them with one query per relation level.
 *
 * A relation names its target by the name the target model has in `relate({...})`, so models
 * may refer to each other (and to themselves) in any order:
 *
 * ```ts
 * const Employee = model({ ..., relations: { manager: belongsTo('Employee', 'reportsTo'), reports: hasMany('Employee', 'reportsTo') } })
 * const Chinook = relate({ Employee, Customer, Invoice, ... })
 * pipe(Chinook.Customer.query, Chinook.Customer.include('invoices.lines.track'), Chinook.Customer.all(db))
 * ```
 *
 * Loading a level gathers the keys of every parent row and runs one `IN (...)` query for
 * them (chunked below the dialect's `maxParams`; a composite key as `(a, b) IN ((?, ?), ...)`,
 * 200 keys a statement), then hands the rows to their parents.
 * A modifier's `limit` holds per parent (ROW_NUMBER() OVER (PARTITION BY ...)).
 */
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import type { Expr, JoinNode, OrderItem, SelectNode, Selection } from '../ast.js'
import type { Backend } from '../compose.js'
import type { Row } from '../driver.js'
import { dbError, type DbError, isDbError, toDbError } from '../errors.js'
import { as, col, eq, isIn, raw } from '../query.js'
import { any } from '../query/comparison.js'
import { supports } from '../dialect.js'
import { fromParts, joinFragments, sql, type Fragment, type Part } from '../sql.js'
import { allOf, encodeField, type ModelCore, ownValue, tableRefOf } from './core.js'
import type * as t from 'io-ts'
import { compileMapper, type Field, generate, type RowMapper, show } from './decode.js'
import { copiedReading, decodeRows, jsonAsText, queryReading, type Reading } from './in-place.js'
import { nonNull, readsJson } from './codecs.js'
import { cast } from '../query/cast.js'
import { baseQuery, type IncludeSpec, type ModelQuery } from './query.js'
import { withFields } from '../objects.js'
import type { Dependent } from './dependents.js'

export { fieldList, isThrough, keyFields, manyToManyKeys, sameWidth } from './relation-keys.js'
import { middleJoins, throughPlan } from './through.js'
import { fieldList, isThrough, keyFields, sameWidth } from './relation-keys.js'
import { morphInverse, morphModifiersOf, morphQuery, morphRefused, morphTarget } from './morph.js'
import { modifierOrderRefused, oneOrder, type OrderSpec, type OrderStep, orderSteps } from './one-of-many.js'
import { checkPivotUse, pivotCondition, pivotFields, pivotOrder } from './pivot.js'

export { latestOfMany, oldestOfMany, type OneRelation, type OrderSpec, type OrderStep } from './one-of-many.js'
export { morphWith, type MorphModifier } from './morph.js'
export { pivotCondition, pivotFields, pivotOrder } from './pivot.js'

// ---------------------------------------------------------------- definitions

/** One key field, or the fields of a composite key, in the same order on both sides. */
export type KeyFields = string | readonly string[]

/** The row holds the target's key: `album.artistId` to `artist`. */
export interface BelongsTo<T extends string = string, F extends KeyFields = KeyFields, O extends boolean = boolean> {
  readonly kind: 'belongsTo'
  readonly target: T
  /** Field(s) of this model holding the target's key. */
  readonly foreignKey: F
  /** Field(s) of the target it refers to (its primary key by default). */
  readonly targetKey?: KeyFields
  /**
   * The target row may be absent although the key is set (soft-deleted, hidden by a default
   * scope, no foreign-key constraint): load it as null instead of failing.
   */
  readonly optional: O
  /** A numeric field of the target kept equal to the number of rows that belong to it (see `counterCaches`). */
  readonly counterCache?: string
  /** The target's update time is set whenever a row that belongs to it is written (see `parentTouches`). */
  readonly touch?: boolean
}
/** One target row holds this row's key: `customer` to its `profile`. */
export interface HasOne<T extends string = string> {
  readonly kind: 'hasOne'
  readonly target: T
  /** Field(s) of the target holding this model's key. */
  readonly foreignKey: KeyFields
  /** Field(s) of this model it refers to (its primary key by default). */
  readonly sourceKey?: KeyFields
  /** What deleting this row does to the target row (see `withDependents`). */
  readonly dependent?: Dependent
  /** Which of the matching rows is the one: the first by this order (see `orderBy`, `latestOfMany`). */
  readonly order?: readonly OrderStep[]
}
/** Many target rows hold this row's key: `artist` to its `albums`. */
export interface HasMany<T extends string = string> {
  readonly kind: 'hasMany'
  readonly target: T
  readonly foreignKey: KeyFields
  readonly sourceKey?: KeyFields
  /** What deleting this row does to the target rows (see `withDependents`). */
  readonly dependent?: Dependent
}
/** Target rows linked through a join table: `playlist` to `tracks` through `playlist_track`. */
export interface ManyToMany<T extends string = string, P extends t.Any | undefined = t.Any | undefined> {
  readonly kind: 'manyToMany'
  readonly target: T
  /** The join table. */
  readonly through: string
  /** Join-table column(s) holding this model's key. */
  readonly from: KeyFields
  /** Join-table column(s) holding the target's key. */
  readonly to: KeyFields
  readonly sourceKey?: KeyFields
  readonly targetKey?: KeyFields
  /**
   * The join table's own columns (a role, a position), as an object codec: `attach` and `sync`
   * write them, checked like model fields, and loaded rows carry them as `pivot`.
   */
  readonly pivot: P
  /** Column names of `pivot` fields whose column is not named like the field. */
  readonly pivotColumns?: Readonly<Record<string, string>>
  /**
   * Join-row values a link must hold to be one of this relation's, by pivot field: a value, a
   * list of values (IN) or null (Laravel's `wherePivot`, `wherePivotIn`, `withPivotValue`).
   */
  readonly wherePivot?: Readonly<Record<string, unknown>>
  /** The order of the loaded rows by join-row values, before a modifier's (Laravel's `orderByPivot`). */
  readonly orderByPivot?: readonly OrderStep[]
}

/** Join-row values by pivot field: a value, a list of values (IN), or null. */
export type PivotMatch<V> = { readonly [K in keyof V]?: V[K] | readonly V[K][] }

/**
 * Target rows reached through another relation of this model (`through`), by a relation of the
 * middle model (`source`): `country` to its `posts` through `users`. Read-only.
 */
export interface HasManyThrough<T extends string = string> {
  readonly kind: 'hasManyThrough'
  readonly target: T
  /** The relation of this model to the middle model. */
  readonly through: string
  /** The relation of the middle model to the target. */
  readonly source: string
}
/** One target row reached through another relation of this model: `post` to its `country` through `user`. Read-only. */
export interface HasOneThrough<T extends string = string> {
  readonly kind: 'hasOneThrough'
  readonly target: T
  readonly through: string
  readonly source: string
  /** Which of the rows reached is the one: the first by this order (see `latestOfMany`). */
  readonly order?: readonly OrderStep[]
}

/** A relation reached through another one. */
export type ThroughRelation = HasManyThrough | HasOneThrough

/**
 * The row holds a type and a key: the key of a row of the model the type names (a comment's
 * `commentable`, a post or a video).
 */
export interface MorphTo<M extends Readonly<Record<string, string>> = Readonly<Record<string, string>>> {
  readonly kind: 'morphTo'
  /** Field of this model holding the type. */
  readonly typeField: string
  /** Field of this model holding the target's primary key. */
  readonly idField: string
  /** The model each type value names, by value. */
  readonly targets: M
}

/**
 * The inverse of a morphTo: the target rows whose morphTo (`as`) names this model and this row's
 * primary key: a post's `comments`.
 */
export interface MorphMany<T extends string = string, K extends 'morphMany' | 'morphOne' = 'morphMany' | 'morphOne'> {
  readonly kind: K
  readonly target: T
  /** The target's morphTo relation. */
  readonly as: string
  /** A morphOne's order: which of the matching rows is the one (see `latestOfMany`). */
  readonly order?: readonly OrderStep[]
}

/** Any relation. */
export type AnyRelation = BelongsTo | HasOne | HasMany | ManyToMany | ThroughRelation | MorphTo | MorphMany

/**
 * Whether a relation is the inverse of a morphTo (`morphMany`, `morphOne`).
 * @example isMorphInverse(Post.core.relations.comments) // true
 */
export const isMorphInverse = (rel: AnyRelation): rel is MorphMany => rel.kind === 'morphMany' || rel.kind === 'morphOne'

/**
 * This model's `foreignKey` field refers to the target's primary key (or `targetKey`); a list
 * of fields for a composite key.
 *
 * Included without a modifier, it loads as the target row when every key field's codec is
 * non-null (a NOT NULL foreign key), and as the row or `null` when a key field is nullable.
 * A row whose key is set but whose target is absent (soft-deleted, hidden by a default scope, a
 * dangling key where no constraint holds) fails the load with NotFound naming the relation
 * and key. With `{ optional: true }`, or through a modifier (which may filter), it loads as
 * the row or `null`.
 *
 * @example
 * relations: { artist: belongsTo('Artist', 'artistId') }
 * relations: { region: belongsTo('Region', ['country', 'regionCode']) }
 * relations: { author: belongsTo('User', 'authorId', { optional: true }) } // users are soft-deleted
 * relations: { post: belongsTo('Post', 'postId', { counterCache: 'commentsCount' }) } // posts.comments_count kept
 * relations: { post: belongsTo('Post', 'postId', { touch: true }) } // the post's updatedAt follows its comments
 */
export const belongsTo = <const T extends string, const F extends KeyFields, const O extends boolean = false>(
  target: T,
  foreignKey: F,
  options?: { readonly targetKey?: KeyFields; readonly optional?: O; readonly counterCache?: string; readonly touch?: boolean },
): BelongsTo<T, F, NoInfer<O>> =>
  Object.freeze({ kind: 'belongsTo', target, foreignKey, targetKey: options?.targetKey, optional: (options?.optional ?? false) as O, counterCache: options?.counterCache, touch: options?.touch })

/**
 * One target row's `foreignKey` field refers to this model's primary key (or `sourceKey`).
 * Loads as the target row or `null`.
 *
 * Where several rows match, `orderBy` says which is the one (Rails' `has_one -> { order(...) }`,
 * Laravel's `ofMany`): the first by that order among the rows the target's default scopes keep,
 * ties broken by the target's primary key; each step is a field of the target (ascending) or
 * `[field, 'asc' | 'desc']`. `latestOfMany` and `oldestOfMany` write the common ones. Without an
 * order, which matching row loads is up to the engine.
 *
 * @example
 * relations: { profile: hasOne('Profile', 'userId') }
 * relations: { firstPaidOrder: hasOne('Order', 'userId', { orderBy: [['paidAt', 'asc'], 'id'] }) }
 */
export const hasOne = <const T extends string>(target: T, foreignKey: KeyFields, options?: { readonly sourceKey?: KeyFields; readonly dependent?: Dependent; readonly orderBy?: readonly OrderSpec[] }): HasOne<T> =>
  Object.freeze({ kind: 'hasOne', target, foreignKey, sourceKey: options?.sourceKey, dependent: dependentOption(target, options?.dependent), order: orderSteps(target, options?.orderBy) })

/**
 * Target rows whose `foreignKey` field refers to this model's primary key (or `sourceKey`); a
 * list of fields for a composite key. Loads as an array.
 *
 * @example
 * relations: { albums: hasMany('Album', 'artistId') }
 * relations: { stores: hasMany('Store', ['country', 'regionCode']) }
 * relations: { posts: hasMany('Post', 'authorId', { dependent: 'delete' }) } // deleting an author deletes their posts
 */
export const hasMany = <const T extends string>(target: T, foreignKey: KeyFields, options?: { readonly sourceKey?: KeyFields; readonly dependent?: Dependent }): HasMany<T> =>
  Object.freeze({ kind: 'hasMany', target, foreignKey, sourceKey: options?.sourceKey, dependent: dependentOption(target, options?.dependent) })

/** A `dependent` option as given, or a TypeError where the model is written for a word it does not know. */
const dependentOption = (target: string, d: unknown): Dependent | undefined => {
  if (d === undefined || d === 'delete' || d === 'nullify' || d === 'restrict') return d
  throw new TypeError(`relation to ${target}: dependent is 'delete', 'nullify' or 'restrict', got ${JSON.stringify(d)}`)
}

/**
 * Target rows linked through a join table (columns `from` this model's key `to` the
 * target's key). Loads as an array.
 *
 * `wherePivot` keeps the links whose join-row values match (a value, a list, or null, by pivot
 * field), wherever the relation is read (loads, counts, filters, `related`) or written: `attach`
 * and `sync` through it write its single values on the links they add, refuse others, and
 * `sync`, `detach` and `updatePivot` touch no link it leaves out (Laravel's `wherePivot` and
 * `withPivotValue`). `orderByPivot` orders the loaded rows by join-row fields, before a
 * modifier's order (Laravel's `orderByPivot`); both need `pivot` and are checked here.
 *
 * The join table's own columns are declared with `pivot`, an object codec (Laravel's
 * `withPivot`, Rails' join-model attributes): `attach(db, row, name, targets, { role: 'lead' })`
 * writes them, checked by the codec, and each loaded row carries its link's values as `pivot`.
 * A field's column is named like the field unless `pivotColumns` says otherwise.
 *
 * @example
 * relations: { tracks: manyToMany('Track', { through: 'playlist_track', from: 'playlist_id', to: 'track_id' }) }
 * relations: { members: manyToMany('Person', { through: 'memberships', from: 'team_id', to: 'person_id', pivot: t.type({ role: t.string }) }) }
 * relations: { leads: manyToMany('Person', { through: 'memberships', from: 'team_id', to: 'person_id', pivot: Membership, wherePivot: { role: 'lead' }, orderByPivot: ['rank'] }) }
 */
export const manyToMany = <const T extends string, P extends t.Any | undefined = undefined>(target: T, options: {
  readonly through: string
  readonly from: KeyFields
  readonly to: KeyFields
  readonly sourceKey?: KeyFields
  readonly targetKey?: KeyFields
  readonly pivot?: P
  readonly pivotColumns?: Readonly<Record<string, string>>
  readonly wherePivot?: P extends t.Any ? PivotMatch<t.TypeOf<P>> : never
  readonly orderByPivot?: P extends t.Any ? readonly OrderSpec[] : never
}): ManyToMany<T, P> => {
  const rel: ManyToMany<T, P> = Object.freeze({
    kind: 'manyToMany', target, ...options, pivot: options.pivot as P,
    wherePivot: options.wherePivot === undefined ? undefined : Object.freeze({ ...(options.wherePivot as Record<string, unknown>) }),
    orderByPivot: orderSteps(target, options.orderByPivot),
  })
  if (options.pivot !== undefined) pivotFields(rel)
  checkPivotUse(rel)
  return rel
}
/**
 * A polymorphic belongsTo, as Rails' `belongs_to :commentable, polymorphic: true` and Laravel's
 * `morphTo`: `typeField` holds a type, one of the keys of `targets`, which names the model;
 * `idField` holds that model's (single-field) primary key. Loads as that model's row, or `null`
 * (a NULL type or key, or no such row), one statement per type found. It loads with no modifier
 * and no nested path, and takes no `whereHas` / `withCount` (the target is not one model);
 * `related(row, name)` is the query of the model the row's type names.
 *
 * @example
 * relations: { commentable: morphTo('commentableType', 'commentableId', { post: 'Post', video: 'Video' }) }
 */
export const morphTo = <const M extends Readonly<Record<string, string>>>(typeField: string, idField: string, targets: M): MorphTo<M> =>
  Object.freeze({ kind: 'morphTo', typeField, idField, targets: Object.freeze({ ...targets }) })

/**
 * The inverse of the target's morphTo relation `as`, as Rails' `has_many :comments, as:
 * :commentable` and Laravel's `morphMany`: the target rows whose type field holds the type that
 * names this model (its key in the morphTo's `targets`) and whose key field holds this row's
 * primary key. Loads as an array; counts, filters and `related` keep the type in the condition.
 *
 * @example
 * relations: { comments: morphMany('Comment', { as: 'commentable' }) }
 */
export const morphMany = <const T extends string>(target: T, options: { readonly as: string }): MorphMany<T, 'morphMany'> =>
  Object.freeze({ kind: 'morphMany', target, as: options.as })

/**
 * As `morphMany`, for one target row (Laravel's `morphOne`): loads as the row or `null`; an
 * `orderBy` (or `latestOfMany` / `oldestOfMany`) says which of the matching rows, as `hasOne`'s.
 *
 * @example
 * relations: { image: morphOne('Image', { as: 'imageable' }) }
 */
export const morphOne = <const T extends string>(target: T, options: { readonly as: string; readonly orderBy?: readonly OrderSpec[] }): MorphMany<T, 'morphOne'> =>
  Object.freeze({ kind: 'morphOne', target, as: options.as, order: orderSteps(target, options.orderBy) })

/**
 * Target rows reached through another relation of this model (`through`, a belongsTo, hasOne,
 * hasMany or manyToMany) by a relation of the middle model (`source`, of the same kinds), as Rails'
 * `has_many :through`: a country's posts through its users. Loads as an array, one statement per
 * level (a JOIN through the middle table); the middle model's default scopes apply. A row reached
 * by two middle rows comes twice, as in Rails. Read-only: `attach` and the like refuse it.
 *
 * @example
 * relations: { users: hasMany('User', 'countryId'), posts: hasManyThrough('Post', { through: 'users', source: 'posts' }) }
 */
export const hasManyThrough = <const T extends string>(target: T, options: { readonly through: string; readonly source: string }): HasManyThrough<T> =>
  Object.freeze({ kind: 'hasManyThrough', target, through: options.through, source: options.source })

/**
 * One target row reached through another relation of this model, as Rails' `has_one :through`
 * and Laravel's `hasOneThrough`: a post's country through its user. Loads as the row or `null`;
 * where several rows are reached, an `orderBy` (or `latestOfMany` / `oldestOfMany`) says which,
 * as `hasOne`'s. Read-only.
 *
 * @example
 * relations: { user: belongsTo('User', 'userId'), country: hasOneThrough('Country', { through: 'user', source: 'country' }) }
 */
export const hasOneThrough = <const T extends string>(target: T, options: { readonly through: string; readonly source: string; readonly orderBy?: readonly OrderSpec[] }): HasOneThrough<T> =>
  Object.freeze({ kind: 'hasOneThrough', target, through: options.through, source: options.source, order: orderSteps(target, options.orderBy) })

// ---------------------------------------------------------------- loading

/**
 * Check that a relation path exists from `core` (throws a QueryError naming the step that does
 * not), so a query with a wrong path fails whether or not it finds rows.
 *
 * @example checkPath(Chinook.Customer.core, ['invoices', 'lines'])
 */
export const checkPath = (core: ModelCore, path: readonly string[], modify?: IncludeSpec['modify']): void => {
  let at = core
  let publicModel: unknown
  let last: [ModelCore, string] = [core, '']
  for (const name of path) {
    const rel = ownValue(at.relations, name)
    if (rel === undefined) throw fail(`${at.table} has no relation "${name}"${Object.keys(at.relations).length === 0 ? '' : ` (it has ${Object.keys(at.relations).join(', ')})`}`)
    if (at.graph === undefined) throw fail(`${at.table}: relations load once the models are related: relate({ ... })`)
    if (rel.kind === 'morphTo') {
      if (name !== path[path.length - 1]) throw morphRefused(at, name, 'a nested path (give each type its includes with morphWith)')
      // Each type's modifier builds its model's query now (no I/O), so that a mistake shows before rows load.
      if (modify !== undefined) {
        for (const [type, mods] of morphModifiersOf(at, name, rel, [modify])) {
          const { target, model } = morphTarget(at, name, rel, type)
          morphQuery(at, name, baseQuery(target), ownValue(at.graph.publics, model), mods, type)
        }
      }
      return
    }
    const next = ownValue(at.graph.models, rel.target)
    if (next === undefined) throw fail(`${at.table}.${name}: no model named "${rel.target}" in relate({ ... })`)
    publicModel = ownValue(at.graph.publics, rel.target)
    last = [at, name]
    at = next
  }
  // The modifier builds a query value (no I/O): what it got wrong shows now, not only when rows load.
  if (modify !== undefined) {
    const mq = modify(baseQuery(at), publicModel)
    if (mq.error !== undefined) throw mq.error
    const [owner, name] = last
    if ((mq.order.length > 0 || mq.limit !== undefined || mq.offset !== undefined) && oneOrder(owner, name, owner.relations[name], at, at.column) !== undefined) throw modifierOrderRefused(owner, name)
  }
}

interface Node {
  modifiers: NonNullable<IncludeSpec['modify']>[]
  readonly children: Map<string, Node>
}

const treeOf = (includes: readonly IncludeSpec[], into?: Map<string, Node>): Map<string, Node> => {
  const root = into ?? new Map<string, Node>()
  for (const inc of includes) {
    let level = root
    inc.path.forEach((name, i) => {
      let n = level.get(name)
      if (n === undefined) {
        n = { modifiers: [], children: new Map() }
        level.set(name, n)
      }
      if (i === inc.path.length - 1 && inc.modify !== undefined) n.modifiers.push(inc.modify)
      level = n.children
    })
  }
  return root
}

/**
 * A key as a Map key: numbers, bigints and numeric strings of one value meet. Numbers stay
 * numbers (the common case, and the cheapest Map key); a string or bigint that is exactly a
 * number's text becomes that number; anything else is its text.
 */
export const keyOf = (v: unknown): string | number => {
  switch (typeof v) {
    case 'number': return v
    case 'string': {
      const n = Number(v)
      return String(n) === v ? n : v
    }
    case 'bigint': return keyOf(String(v))
    default:
      return v instanceof Date ? v.toISOString() : v instanceof Uint8Array ? Buffer.from(v).toString('hex') : String(v)
  }
}

const fail = (message: string): DbError => dbError('QueryError', message)

/** One key value as `rowKey` gives it: undefined for NULL, a number as it is, else `keyOf`. */
const keyOfValue = (v: unknown): string | number | undefined =>
  v === null || v === undefined ? undefined : typeof v === 'number' ? v : keyOf(v)

type FieldReader = (r: Record<string, unknown>) => unknown

const readers = new Map<string, FieldReader>()

/**
 * A function reading one field of a row, by field name: generated, `(r) => r["name"]`, so the
 * reads of each key field are a property access of their own, which sees the shapes of the rows
 * that field is read from (a level's rows, mostly one shape). The loops over every level's rows
 * otherwise read every model's keys through one keyed access, which sees them all and looks each
 * one up. A keyed read where code generation is refused.
 *
 * @example readerOf('invoiceId')({ invoiceId: 7 }) // 7
 */
const readerOf = (field: string): FieldReader => {
  let read = readers.get(field)
  if (read === undefined) {
    read = generate<FieldReader>([], `return (r) => r[${JSON.stringify(field)}]`, []) ?? ((r) => r[field])
    readers.set(field, read)
  }
  return read
}

/**
 * A row's key over some fields as a Map key (one value as `keyOf` gives it, several joined),
 * or undefined when a part is null: such a row has no related row.
 */
const rowKey = (r: Record<string, unknown>, fields: readonly string[]): string | number | undefined => {
  if (fields.length === 1) return keyOfValue(r[fields[0]])
  let out = ''
  for (let i = 0; i < fields.length; i++) {
    const v = r[fields[i]]
    if (v === null || v === undefined) return undefined
    out += (i > 0 ? '\u0000' : '') + String(keyOf(v))
  }
  return out
}

/** A column reference as an identifier part. */
const idOf = (e: Expr): Part => {
  if (e.kind !== 'column') throw fail('a relation key must be a column')
  return sql.id(e.table === undefined ? [e.name] : [e.table, e.name])
}

/**
 * The rows whose `columns` hold one of `keys`: `col IN (...)` for one column, and for a
 * composite key the row values `(a, b) IN ((?, ?), ...)`, which every built-in engine runs and
 * indexes (an OR of conjunctions would nest one level per key, and SQLite stops at 1,000).
 * `fields` encode the values. With `asArray` (PostgreSQL) one column's keys go as one array
 * parameter, `col = ANY($1)`: the same statement text for any number of keys, so it is prepared
 * once, and one parameter to bind instead of one per key.
 */
const keyIn = (columns: readonly Expr[], fields: readonly Field[], keys: Keys, asArray: boolean): Expr => {
  const { width, values } = keys
  if (width === 1) {
    const f = fields[0]
    const encoded = values.map((v) => encodeField(f, v))
    return asArray ? eq(columns[0], any(encoded)) : isIn(columns[0], encoded)
  }
  const parts: Part[] = ['(']
  columns.forEach((c, i) => parts.push(i > 0 ? ', ' : '', idOf(c)))
  parts.push(') IN (')
  for (let j = 0; j < values.length; j += width) {
    parts.push(j > 0 ? ', (' : '(')
    fields.forEach((f, i) => parts.push(i > 0 ? ', ' : '', { _tag: 'Param', value: encodeField(f, values[j + i]) }))
    parts.push(')')
  }
  parts.push(')')
  return raw(fromParts(parts))
}

/** Whether one column's keys go as one array parameter (`= ANY($1)`): on PostgreSQL. */
const keysAsArray = (db: Backend): boolean => db.dialect.name === 'postgres' && supports(db.dialect, 'quantifiedArray')

/** The fields of a model's rows that loading its relations reads. */
export const keyFieldsFor = (core: ModelCore, includes: readonly IncludeSpec[]): string[] => {
  const out = new Set<string>()
  for (const inc of includes) {
    const rel = ownValue(core.relations, inc.path[0])
    if (rel === undefined) continue
    const fields = rel.kind === 'belongsTo'
      ? fieldList(rel.foreignKey)
      : rel.kind === 'morphTo' ? [rel.typeField, rel.idField]
      : isThrough(rel) ? throughPlan(core, inc.path[0], rel).ownerKey.map((f) => f.name)
        : isMorphInverse(rel) ? core.primaryKey.map((k) => k.name)
        : rel.sourceKey !== undefined ? fieldList(rel.sourceKey) : core.primaryKey.map((k) => k.name)
    for (const f of fields) out.add(f)
  }
  return [...out]
}

const OWNER = 'rk_owner'
const RANK = 'rk_rn'
const KEEP = 'rk_keep'

/**
 * Composite keys sent in one statement, at most. Engines expand a row-value IN list into a
 * tree of comparisons as deep as the list is long: PostgreSQL and SQLite take thousands, but
 * PGlite (WebAssembly, a small stack) answers no rows at all from about 300 keys.
 */
const COMPOSITE_KEYS_PER_STATEMENT = 200

/**
 * Distinct keys, flat: `width` values per key, one key after another (no array per key: a level
 * of a thousand parents makes a thousand keys).
 */
interface Keys {
  readonly width: number
  readonly values: readonly unknown[]
}

/** The keys from `from` (inclusive) to `to` (exclusive), counted in keys. */
const someKeys = (keys: Keys, from: number, to: number): Keys =>
  ({ width: keys.width, values: keys.values.slice(from * keys.width, to * keys.width) })

/** Run one relation query (per chunk of keys) and return the raw rows. */
const runChunks = async (db: Backend, keys: Keys, build: (chunk: Keys) => SelectNode | Fragment): Promise<Row[]> => {
  const { width } = keys
  const count = keys.values.length / width
  if (count === 0) return []
  // Leave room for the parameters of the rest of the statement (modifier conditions).
  const probe = db.compile(build(someKeys(keys, 0, 1)))
  if (probe._tag === 'Left') throw probe.left
  const byParams = Math.max(1, Math.floor((db.dialect.maxParams - (probe.right.params.length - width)) / width))
  const size = width === 1 ? byParams : Math.min(byParams, COMPOSITE_KEYS_PER_STATEMENT)
  if (count <= size) {
    const r = await db.all(build(keys))()
    if (r._tag === 'Left') throw r.left
    return r.right
  }
  const out: Row[] = []
  for (let i = 0; i < count; i += size) {
    const r = await db.all(build(someKeys(keys, i, Math.min(count, i + size))))()
    if (r._tag === 'Left') throw r.left
    for (const row of r.right) out.push(row)
  }
  return out
}

/**
 * Keep `limit` rows (after `offset`) per partition: the query numbers its rows with
 * ROW_NUMBER() OVER (PARTITION BY ... ORDER BY ...), rendered by the dialect's own parts. With
 * `keep`, a row numbered within the bounds is kept only where that condition holds (it is read as
 * a column beside the number: the conditions of an ordered one-row relation's modifier, which
 * apply to the row picked, not to the rows it is picked from).
 */
const perParent = (
  db: Backend, inner: SelectNode, partition: readonly Expr[], order: readonly OrderItem[], fallbackOrder: readonly Expr[],
  limit: number | undefined, offset: number | undefined, keep?: Expr,
): Fragment => {
  const d = db.dialect
  const items: Fragment[] = order.length > 0 ? order.map(d.orderItem) : fallbackOrder.map((e) => d.orderItem({ expr: e, direction: 'asc' }))
  const over = fromParts(['ROW_NUMBER() OVER (PARTITION BY ', joinFragments(partition.map(d.expr), ', '), ' ORDER BY ', joinFragments(items, ', '), ')'])
  const flag = keep === undefined ? [] : [as(raw(sql`CASE WHEN ${d.expr(keep)} THEN 1 ELSE 0 END`), KEEP)]
  const numbered: SelectNode = { ...inner, columns: [...inner.columns, as(raw(over), RANK), ...flag], orderBy: [], limit: undefined, offset: undefined }
  const rank = sql.id(['rk_ranked', RANK])
  const low = offset ?? 0
  const ranked = limit === undefined ? sql`${rank} > ${low}` : sql`${rank} > ${low} AND ${rank} <= ${low + limit}`
  const bounds = keep === undefined ? ranked : sql`${ranked} AND ${sql.id(['rk_ranked', KEEP])} = 1`
  return sql`SELECT * FROM (${d.compileSelect(numbered)}) ${sql.id('rk_ranked')} WHERE ${bounds} ORDER BY ${rank}`
}

/** The query a modifier leaves: conditions, order, limit, offset and switches. */
const modified = (target: ModelCore, publicModel: unknown, modifiers: Node['modifiers']): ModelQuery<any, any, any> =>
  modifiers.reduce((q, m) => m(q, publicModel) as ModelQuery<any, any, any>, baseQuery(target) as ModelQuery<any, any, any>)

/**
 * How one level reads its rows: in place where it can (see `inPlaceReading`). Not for a modifier's
 * limit or a relation's order (`numbered`), which wrap the statement, nor for a manyToMany, whose rows carry the join table's key:
 * there the columns keep their names and the rows are mapped to new ones.
 */
const reading = (db: Backend, mq: ModelQuery<any, any, any>, rel: AnyRelation, joinFields: readonly string[], numbered: boolean): Reading =>
  numbered || rel.kind === 'manyToMany' || isThrough(rel) || mq.limit !== undefined || mq.offset !== undefined
    ? copiedReading(db, mq, joinFields)
    : queryReading(db, mq, joinFields)

/** A copy of a level, its nodes copied too (so adding to it leaves the original as it was). */
const copyLevel = (level: Map<string, Node>): Map<string, Node> =>
  new Map([...level].map(([k, n]) => [k, { modifiers: [...n.modifiers], children: copyLevel(n.children) }]))

/** Whether a key field may hold null (a nullable or optional codec). */
const mayBeNull = (f: Field): boolean => f.optional || f.codec.is(null) || f.codec.is(undefined)

/**
 * The NotFound of a belongsTo that must load a row (non-null key, not `optional`, no modifier)
 * and found none for a key.
 */
const absentTarget = (core: ModelCore, name: string, target: ModelCore, fk: readonly Field[], tk: readonly Field[], row: Record<string, unknown>): DbError => {
  const owner = core.graph?.name ?? core.table
  const key = fk.length === 1 ? row[fk[0].name] : Object.fromEntries(fk.map((f, i) => [tk[i].name, row[f.name]]))
  const shown = fk.map((f, i) => `${tk[i].name} = ${show(row[f.name])}`).join(', ')
  return dbError('NotFound', `${owner}.${name}: no ${target.table} row with ${shown} (${core.table}.${fk.map((f) => f.column).join(', ')}); ` +
    'it is absent, soft-deleted or hidden by a default scope. Declare the relation with { optional: true } to load it as null', { table: target.table, key, relation: `${owner}.${name}` })
}

/**
 * The rows of a hasMany, hasOne or manyToMany, grouped by parent key: the distinct keys of `rows`
 * numbered in their order (`byKey`), each row's key number kept beside it (`ofRow`), and one
 * group per number, made when the related rows come (`fill`): a run of rows with one key (engines
 * mostly return a level's rows in the order of the key's index) becomes its group by one `slice`,
 * an array of exactly its size, rather than pushes into a growing one.
 */
interface Groups {
  /** Key numbers by key, where the keys are not all small integers (see `dense`). */
  readonly byKey: Map<string | number, number> | undefined
  /**
   * Key numbers by key where every key is an integer within a span of a few times the number of
   * rows (ids, mostly): at `key - base`, the key's number plus one (0: no such key). An index
   * into a typed array instead of a Map's hashing, for each parent row and each run of related rows.
   */
  readonly dense: Int32Array | undefined
  readonly base: number
  /** The distinct keys, in the order of `rows`. */
  readonly keys: Keys
  /** The key number of each row of `rows`, in their order; -1 where a key part is null. */
  readonly ofRow: number[]
  /** The related rows of each key number; undefined until one comes. */
  readonly groups: (Record<string, unknown>[] | undefined)[]
}

/**
 * Where an empty group is copied from. `slice` of it makes an empty array without an
 * allocation site: a literal's site is one V8 may decide to pretenure, since these groups live
 * through the whole load; then every later load's groups are made in the old generation and die
 * there (measured on W5 SQLite: 1.5x-2.0x of raw instead of 1.2x; with
 * --no-allocation-site-pretenuring, 1.2x either way). `Array.of()` has no site either, but
 * costs about 70 ns a call, against about 10 ns. Rows and value nodes avoid literals for the
 * same reason (`plainObjects` in objects.ts; test/pretenuring.test.ts checks both).
 */
const NO_ROWS: readonly Record<string, unknown>[] = []

const groupsOf = (rows: readonly Record<string, unknown>[], fields: readonly string[]): Groups => {
  if (fields.length === 1) {
    const dense = denseGroupsOf(rows, fields[0])
    if (dense !== undefined) return dense
  }
  const byKey = new Map<string | number, number>()
  const values: unknown[] = []
  const ofRow: number[] = []
  const one = fields.length === 1 ? fields[0] : undefined
  // Rows often come in key order (a parent level read by its key): the key of a row is then
  // often the one before, and its number is taken without a Map lookup.
  const read = one === undefined ? undefined : readerOf(one)
  let lastKey: string | number | undefined
  let last = -1
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]
    const k = read === undefined ? rowKey(r, fields) : keyOfValue(read(r))
    if (k === undefined) {
      ofRow.push(-1)
      continue
    }
    let g = k === lastKey ? last : byKey.get(k)
    if (g === undefined) {
      g = byKey.size
      byKey.set(k, g)
      if (read !== undefined) values.push(read(r))
      else for (let j = 0; j < fields.length; j++) values.push(r[fields[j]])
    }
    lastKey = k
    last = g
    ofRow.push(g)
  }
  return { byKey, dense: undefined, base: 0, keys: { width: fields.length, values }, ofRow, groups: new Array<Record<string, unknown>[] | undefined>(byKey.size) }
}

/** The widest span of integer keys `denseGroupsOf` indexes, per row (plus `DENSE_SLACK`). */
const DENSE_SPAN = 8
const DENSE_SLACK = 1024

/**
 * `groupsOf` over one field whose values are all integers (or null) within `DENSE_SPAN` times the
 * rows' count of each other: numbered through a typed array (see `Groups.dense`). Undefined
 * where some value is not such an integer; the Map then numbers them.
 */
const denseGroupsOf = (rows: readonly Record<string, unknown>[], field: string): Groups | undefined => {
  const read = readerOf(field)
  let min = Infinity
  let max = -Infinity
  for (let i = 0; i < rows.length; i++) {
    const v = read(rows[i])
    if (typeof v === 'number') {
      if (!Number.isSafeInteger(v)) return undefined
      if (v < min) min = v
      if (v > max) max = v
    } else if (v !== null && v !== undefined) return undefined
  }
  if (min === Infinity) return undefined
  if (max - min >= rows.length * DENSE_SPAN + DENSE_SLACK) return undefined
  const dense = new Int32Array(max - min + 1)
  const values: unknown[] = []
  const ofRow: number[] = []
  for (let i = 0; i < rows.length; i++) {
    const v = read(rows[i])
    if (typeof v !== 'number') {
      ofRow.push(-1)
      continue
    }
    const at = v - min
    let g = dense[at] - 1
    if (g < 0) {
      g = values.length
      dense[at] = g + 1
      values.push(v)
    }
    ofRow.push(g)
  }
  return { byKey: undefined, dense, base: min, keys: { width: 1, values }, ofRow, groups: new Array<Record<string, unknown>[] | undefined>(values.length) }
}

/** The number of key `k` in `groups` (as `rowKey` gives it), or undefined where no parent has it. */
const keyNumber = (groups: Groups, k: string | number): number | undefined => {
  const dense = groups.dense
  if (dense === undefined) return groups.byKey!.get(k)
  // -0 is 0, as in a Map; a key out of the span, a fraction, or a string matches no parent.
  if (typeof k !== 'number') return undefined
  const at = k - groups.base
  const g = at >= 0 && at < dense.length && Number.isInteger(at) ? dense[at] - 1 : -1
  return g < 0 ? undefined : g
}

/** Add `found[from..to)` (rows of one key) to the group of key `k`, if a parent has that key. */
const addRun = (groups: Groups, k: string | number | undefined, found: readonly Record<string, unknown>[], from: number, to: number): void => {
  if (k === undefined) return
  const at = keyNumber(groups, k)
  if (at === undefined) return
  const g = groups.groups[at]
  if (g === undefined) groups.groups[at] = found.slice(from, to)
  else for (let i = from; i < to; i++) g.push(found[i])
}

/**
 * Put each related row into the group of its key over `fields` (rows whose key no parent has are
 * left out), a run of rows with one key at a time (see `Groups`).
 */
const fillGroups = (groups: Groups, found: readonly Record<string, unknown>[], fields: readonly string[]): void => {
  const read = fields.length === 1 ? readerOf(fields[0]) : undefined
  let from = 0
  let runKey: string | number | undefined
  for (let i = 0; i < found.length; i++) {
    const k = read === undefined ? rowKey(found[i], fields) : keyOfValue(read(found[i]))
    if (i === 0 || k !== runKey) {
      if (i > 0) addRun(groups, runKey, found, from, i)
      from = i
      runKey = k
    }
  }
  if (found.length > 0) addRun(groups, runKey, found, from, found.length)
}

/** The group of key number `at` (-1: a null key), a fresh empty array where no row came. */
const groupAt = (groups: Groups, at: number): Record<string, unknown>[] => {
  if (at < 0) return NO_ROWS.slice()
  return (groups.groups[at] ??= NO_ROWS.slice())
}

/** A manyToMany's join-row columns as a level reads them: selected under aliases, then decoded. */
interface PivotReading {
  readonly columns: readonly Selection[]
  readonly map: RowMapper
}

const PIVOT = 'rk_pivot'
/** By relation: the reading of its pivot as is, and with `jsonOf` fields read as text. */
const pivotReadings = new WeakMap<ManyToMany, [PivotReading | undefined, PivotReading | undefined]>()

/**
 * How a manyToMany with `pivot` reads its join-row columns (built once per relation and way of
 * reading): a `jsonOf` field as its column's text where the driver would parse the document (see
 * `jsonAsText`), as a model's own fields are read.
 */
const pivotReading = (db: Backend, rel: ManyToMany): PivotReading => {
  const asText = jsonAsText(db) ? 1 : 0
  let both = pivotReadings.get(rel)
  if (both === undefined) pivotReadings.set(rel, (both = [undefined, undefined]))
  let r = both[asText]
  if (r === undefined) {
    const fields = pivotFields(rel)
    const columns = fields.map((f, i) => {
      const c = col(`rk_through.${f.column}`)
      return as(asText === 1 && readsJson(f.codec) ? cast(c, 'text') : c, `${PIVOT}_${i}`) as Selection
    })
    const map = compileMapper(fields.map((f, i) => ({ ...f, column: `${PIVOT}_${i}` })), [], rel.through)
    r = { columns, map }
    both[asText] = r
  }
  return r
}

/**
 * The target rows of a relation read through a joined table (a manyToMany's join table, a
 * through relation's middle table), each put in the group of the parent key that the joined
 * table's `owner` columns hold (`keys` encode the parents' values). A row reached twice comes
 * twice. Returns the rows read, in the order read.
 */
const loadJoined = async (
  db: Backend, target: ModelCore, read: Reading, perOwner: (q: SelectNode, partition: readonly Expr[]) => SelectNode | Fragment, base: SelectNode,
  groups: Groups, keys: readonly Field[], joins: readonly JoinNode[], owner: readonly Expr[], pivot?: PivotReading,
): Promise<Record<string, unknown>[]> => {
  const ownerAs = owner.length === 1 ? [OWNER] : owner.map((_, i) => `${OWNER}_${i}`)
  const joined: SelectNode = {
    ...base,
    columns: [...base.columns, ...owner.map((e, i) => as(e, ownerAs[i]) as Selection), ...(pivot?.columns ?? [])],
    joins: [...base.joins, ...joins],
  }
  const asArray = keysAsArray(db)
  const raw = await runChunks(db, groups.keys, (chunk) => {
    return perOwner({ ...joined, where: allOf([keyIn(owner, keys, chunk, asArray), base.where]) }, owner)
  })
  // Read the owners before the mapper replaces the raw rows.
  const owners = raw.map((r) => rowKey(r, ownerAs))
  // The mapper replaces the rows of the array it is given: the join-row values from a copy.
  const pivots = pivot === undefined ? undefined : pivot.map(raw.slice())
  const children = decodeRows(target, read, raw)
  if (pivots !== undefined) for (let i = 0; i < children.length; i++) children[i].pivot = pivots[i]
  for (let i = 0; i < children.length; i++) {
    const at = owners[i] === undefined ? undefined : keyNumber(groups, owners[i]!)
    if (at !== undefined) (groups.groups[at] ??= NO_ROWS.slice()).push(children[i])
  }
  return children
}

/**
 * A morphTo level: the rows grouped by their type, then one statement per type found, of the
 * model the type names (its default scopes apply), by primary key. A NULL type or key, or a key
 * with no row, loads as null.
 */
const loadMorph = async (db: Backend, core: ModelCore, rows: Record<string, unknown>[], name: string, rel: MorphTo, node: Node): Promise<void> => {
  // Modifiers come by type (morphWith): each type's model has its own fields and relations.
  const modifiersOf = morphModifiersOf(core, name, rel, node.modifiers)
  if (node.children.size > 0) throw morphRefused(core, name, 'a nested path (give each type its includes with morphWith)')
  const byType = new Map<string, Record<string, unknown>[]>()
  for (const r of rows) {
    const type = r[rel.typeField]
    r[name] = null
    if (type === null || type === undefined || r[rel.idField] === null || r[rel.idField] === undefined) continue
    const list = byType.get(String(type))
    if (list === undefined) byType.set(String(type), [r])
    else list.push(r)
  }
  const asArray = keysAsArray(db)
  const idNames = [rel.idField]
  for (const [type, parents] of byType) {
    const { target, key, model } = morphTarget(core, name, rel, type)
    const mq = morphQuery(core, name, baseQuery(target), ownValue(core.graph?.publics, model), modifiersOf.get(type), type)
    const read = queryReading(db, mq, [key.name, ...keyFieldsFor(target, mq.includes)])
    const column = [target.column(key.name)]
    const raw = await runChunks(db, groupsOf(parents, idNames).keys, (chunk) => ({ ...read.node, where: allOf([keyIn(column, [key], chunk, asArray), read.node.where]) }))
    const found = decodeRows(target, read, raw)
    const byKey = new Map<string | number, Record<string, unknown>>()
    for (const t of found) {
      const k = rowKey(t, [key.name])
      if (k !== undefined) byKey.set(k, t)
    }
    for (const r of parents) r[name] = byKey.get(rowKey(r, idNames)!) ?? null
    // The type's own includes (morphWith), below its rows.
    if (mq.includes.length > 0 && found.length > 0) await loadLevel(db, target, found, treeOf(mq.includes))
  }
}

/** One level: load `name` for `rows` of `core`, attach it, then load the level below. */
const loadRelation = async (db: Backend, core: ModelCore, rows: Record<string, unknown>[], name: string, node: Node, onShard?: Expr): Promise<void> => {
  const rel = ownValue(core.relations, name)
  if (rel === undefined) throw fail(`${core.table} has no relation "${name}"`)
  const graph = core.graph
  if (graph === undefined) throw fail(`${core.table}: relations load once the models are related: relate({ ... })`)
  if (rel.kind === 'morphTo') return loadMorph(db, core, rows, name, rel, node)
  const target = ownValue(graph.models, rel.target)
  if (target === undefined) throw fail(`${core.table}.${name}: no model named "${rel.target}" in relate({ ... })`)
  const mq = modified(target, ownValue(graph.publics, rel.target), node.modifiers)
  if (mq.error !== undefined) throw mq.error
  // An ordered one-row relation (latestOfMany, ...) numbers each parent's rows by its order, the
  // default scopes applied, and keeps the first; the modifier's conditions then keep that row or
  // none (see one-of-many.ts), so they are read as a column beside it instead of filtering first.
  const order = oneOrder(core, name, rel, target, target.column)
  if (order !== undefined && (mq.order.length > 0 || mq.limit !== undefined || mq.offset !== undefined)) throw modifierOrderRefused(core, name)
  const keep = order === undefined ? undefined : mq.where
  const pkCols = target.primaryKey.map((k) => target.column(k.name))
  /** The statement of one chunk, cut to each parent's rows where the relation or the modifier says. */
  const perOwner = (q: SelectNode, partition: readonly Expr[]): SelectNode | Fragment =>
    order !== undefined ? perParent(db, q, partition, order, pkCols, 1, undefined, keep)
      : mq.limit === undefined && mq.offset === undefined ? q : perParent(db, q, partition, q.orderBy, pkCols, mq.limit, mq.offset)
  // Relations the modifier included itself load below this level, as nested paths would.
  const below = mq.includes.length === 0 ? node.children : treeOf(mq.includes, copyLevel(node.children))
  // The target's fields this level and the one below join on (read even when a modifier selects).
  const joinFields = [
    ...(rel.kind === 'belongsTo' ? keyFields(target, rel.targetKey, 'target key').map((f) => f.name)
      : rel.kind === 'manyToMany' || isThrough(rel) ? []
        : isMorphInverse(rel) ? [morphInverse(core, name, rel).key.name]
          : fieldList(rel.foreignKey)),
    ...keyFieldsFor(target, [...below.keys()].map((n) => ({ path: [n] }))),
  ]
  const read = reading(db, order === undefined ? mq : withFields(mq, { where: undefined }), rel, joinFields, order !== undefined)
  // On a sharded backend, the related rows of the parents' shard only (see `loadLevel`).
  const base = onShard === undefined ? read.node : { ...read.node, where: allOf([read.node.where, onShard]) }
  const asArray = keysAsArray(db)
  const where = (cond: Expr) => allOf([cond, base.where])
  let children: Record<string, unknown>[]
  // The level below, where it was started before this level's rows were decoded (`startBelow`).
  let early: Promise<void> | undefined

  if (rel.kind === 'belongsTo') {
    const fk = keyFields(core, rel.foreignKey, `foreign key of ${name}`)
    const tk = keyFields(target, rel.targetKey, 'target key')
    sameWidth(core, name, fk, tk, 'the foreign key')
    const fkNames = fk.map((f) => f.name)
    const tkNames = tk.map((f) => f.name)
    const tkCols = tkNames.map((f) => target.column(f))
    const raw = await runChunks(db, groupsOf(rows, fkNames).keys, (chunk) => ({ ...base, where: where(keyIn(tkCols, tk, chunk, asArray)), limit: undefined, offset: undefined }))
    const found = decodeRows(target, read, raw)
    const byKey = new Map<string | number, Record<string, unknown>>()
    for (const t of found) {
      const k = rowKey(t, tkNames)
      if (k !== undefined && !byKey.has(k)) byKey.set(k, t)
    }
    const required = rel.optional !== true && node.modifiers.length === 0 && !fk.some(mayBeNull)
    for (const r of rows) {
      const k = rowKey(r, fkNames)
      const t = k === undefined ? null : byKey.get(k) ?? null
      if (t === null && k !== undefined && required) throw absentTarget(core, name, target, fk, tk, r)
      r[name] = t
    }
    children = [...byKey.values()]
  } else if (isThrough(rel)) {
    // Its own path: the middle table joined to the target, rows grouped by the owner key it holds.
    const plan = throughPlan(core, name, rel)
    const groups = groupsOf(rows, plan.ownerKey.map((f) => f.name))
    const { joins, ownerColumns } = middleJoins(plan, 'rk_mid', target.column)
    children = await loadJoined(db, target, read, perOwner, base, groups, plan.ownerKey, joins, ownerColumns)
    const ofRow = groups.ofRow
    if (rel.kind === 'hasOneThrough') for (let i = 0; i < rows.length; i++) rows[i][name] = ofRow[i] < 0 ? null : groups.groups[ofRow[i]]?.[0] ?? null
    else for (let i = 0; i < rows.length; i++) rows[i][name] = groupAt(groups, ofRow[i])
  } else if (isMorphInverse(rel)) {
    // Its own path: as a hasMany over the morphTo's key field, the type naming this model ANDed in.
    const m = morphInverse(core, name, rel)
    const groups = groupsOf(rows, [m.own.name])
    const fkCols = [target.column(m.key.name)]
    const typed = allOf([eq(target.column(m.type.name), encodeField(m.type, m.value)), base.where])
    const raw = await runChunks(db, groups.keys, (chunk) => perOwner({ ...base, where: allOf([keyIn(fkCols, [m.key], chunk, asArray), typed]), limit: undefined, offset: undefined }, fkCols))
    children = decodeRows(target, read, raw)
    fillGroups(groups, children, [m.key.name])
    const ofRow = groups.ofRow
    if (rel.kind === 'morphOne') for (let i = 0; i < rows.length; i++) rows[i][name] = ofRow[i] < 0 ? null : groups.groups[ofRow[i]]?.[0] ?? null
    else for (let i = 0; i < rows.length; i++) rows[i][name] = groupAt(groups, ofRow[i])
  } else {
    const sk = keyFields(core, rel.sourceKey, 'source key')
    const skNames = sk.map((f) => f.name)
    const groups = groupsOf(rows, skNames)
    if (rel.kind === 'manyToMany') {
      const tk = keyFields(target, rel.targetKey, 'target key')
      const fromCols = fieldList(rel.from)
      const toCols = fieldList(rel.to)
      sameWidth(core, name, fromCols, sk, `${rel.through} (from)`)
      sameWidth(core, name, toCols, tk, `${rel.through} (to)`)
      const through = { ...tableRefOf(rel.through), alias: 'rk_through' }
      // The join-row values go under `pivot`: a field of that name would be overwritten.
      if (rel.pivot !== undefined && target.byName.has('pivot')) throw fail(`${core.table}.${name}: ${target.table} has a field named pivot, where the join-row values of ${rel.through} would go`)
      const linked = (c: string) => col(`rk_through.${c}`)
      const join: JoinNode = { type: 'inner', table: through, on: allOf([...toCols.map((c, i) => eq(linked(c), target.column(tk[i].name))), pivotCondition(rel, linked)])! }
      // The join-row order first (orderByPivot), then the modifier's.
      const ordered = rel.orderByPivot === undefined ? base : { ...base, orderBy: [...pivotOrder(rel, linked), ...base.orderBy] }
      children = await loadJoined(db, target, read, perOwner, ordered, groups, sk, [join], fromCols.map((c) => col(`rk_through.${c}`)), rel.pivot === undefined ? undefined : pivotReading(db, rel))
    } else {
      const fk = keyFields(target, rel.foreignKey, `foreign key of ${core.table}.${name}`)
      sameWidth(core, name, fk, sk, 'the foreign key')
      const fkNames = fk.map((f) => f.name)
      const fkCols = fkNames.map((f) => target.column(f))
      const raw = await runChunks(db, groups.keys, (chunk) => perOwner({ ...base, where: where(keyIn(fkCols, fk, chunk, asArray)), limit: undefined, offset: undefined }, fkCols))
      early = (await startBelow(db, target, read, raw, below))?.done
      try {
        children = decodeRows(target, read, raw)
      } catch (e) {
        // This level's DecodeError is the load's, whatever the level below answers.
        early?.catch(() => {})
        throw e
      }
      fillGroups(groups, children, fkNames)
    }
    const ofRow = groups.ofRow
    if (rel.kind === 'hasOne') for (let i = 0; i < rows.length; i++) rows[i][name] = ofRow[i] < 0 ? null : groups.groups[ofRow[i]]?.[0] ?? null
    else for (let i = 0; i < rows.length; i++) rows[i][name] = groupAt(groups, ofRow[i])
  }
  if (early !== undefined) await early
  else if (below.size > 0 && children.length > 0) await loadLevel(db, target, children, below)
}

/**
 * Start the level below before this level's rows are decoded, where that changes nothing: on
 * MySQL and MariaDB (an asynchronous driver, a server that keeps a transaction usable after a
 * failed statement), for rows decoded in place (the rows the level below reads are the very
 * objects the decoded rows are), and where every key the level below reads from them is a plain
 * string or number already (its codec is `t.string` or `t.number`, maybe nullable, and every
 * row's value is one), so decoding leaves it as it is. Its statement is sent before this level's
 * rows are decoded and grouped (it is issued, then this waits for the event loop's next turn,
 * by which the driver has written it), so the server reads the next level while this one is
 * decoded, and the statement goes out before that work rather than after it. Undefined where
 * the level below loads afterwards, as before.
 */
const startBelow = async (db: Backend, target: ModelCore, read: Reading, raw: readonly Row[], below: Map<string, Node>): Promise<{ readonly done: Promise<void> } | undefined> => {
  if (below.size === 0 || raw.length === 0 || read.inPlace === undefined || db.driver.sync !== undefined) return undefined
  if (db.dialect.name !== 'mysql' && db.dialect.name !== 'mariadb') return undefined
  if ((db as { readonly shardKey?: unknown }).shardKey !== undefined) return undefined
  if (!keysAsRead(target, keyFieldsFor(target, [...below.keys()].map((n) => ({ path: [n] }))), raw)) return undefined
  const early = loadLevel(db, target, raw as Record<string, unknown>[], below)
  // Handled when awaited; a rejection before then is not an unhandled one.
  early.catch(() => {})
  await new Promise<void>((resolve) => setImmediate(resolve))
  // In an object: an async function's result would otherwise be the level's own end.
  return { done: early }
}

/** Whether a codec reads a plain string or number as it is: `t.string`, `t.number`, or one of them or null. */
const plainKeyType = (c: t.Any): 'string' | 'number' | undefined => {
  const tag = (nonNull(c) as { readonly _tag?: string } | undefined)?._tag
  return tag === 'StringType' ? 'string' : tag === 'NumberType' ? 'number' : undefined
}

/** Whether every row's value of each of `names` is what decoding it gives (see `startBelow`). */
const keysAsRead = (core: ModelCore, names: readonly string[], rows: readonly Row[]): boolean => {
  for (const name of names) {
    const f = core.byName.get(name)
    const type = f === undefined ? undefined : plainKeyType(f.codec)
    if (f === undefined || type === undefined) return false
    const nullable = f.optional || f.codec.is(null)
    for (let i = 0; i < rows.length; i++) {
      const v = rows[i][name]
      if (typeof v !== type && !(nullable && v === null)) return false
    }
  }
  return true
}

/** What a sharded backend says of a table's shard key (`ShardedBackend.shardKey`); absent on any other backend. */
type ShardKeyOf = (table: string) => string | undefined

/**
 * The field holding a table's shard key on a sharded backend (one with `shardKey`, see `shard`
 * in recordkit/scale-out), if any; undefined where the backend or the table is not sharded.
 *
 * @example shardFieldOf(shardedDb, Order.core)?.name // 'tenant'
 */
export const shardFieldOf = (db: Backend, core: ModelCore): Field | undefined => {
  const keyOf = (db as { readonly shardKey?: ShardKeyOf }).shardKey
  const column = typeof keyOf === 'function' ? keyOf(core.table)?.toLowerCase() : undefined
  return column === undefined ? undefined : core.fields.find((f) => f.column.toLowerCase() === column)
}

/**
 * The parents of a relation on a sharded backend, by their shard key, each group with the
 * condition that keeps the related rows to that shard key (`lines.tenant = 'acme'`). Keys repeat
 * from shard to shard (each numbers its own rows), so related rows read by the parents' keys alone
 * would come from every shard and be joined to another tenant's parents. Undefined where the
 * backend is not sharded or either table has no shard-key field; parents without a shard-key
 * value are read as before (the router decides).
 */
const byShard = (db: Backend, core: ModelCore, rows: readonly Record<string, unknown>[], name: string): [Expr | undefined, Record<string, unknown>[]][] | undefined => {
  const own = shardFieldOf(db, core)
  const rel = ownValue(core.relations, name)
  // A morphTo reads the target of each type by the router's choice.
  const target = own === undefined || rel === undefined || rel.kind === 'morphTo' ? undefined : ownValue(core.graph?.models ?? {}, rel.target)
  const theirs = target === undefined ? undefined : shardFieldOf(db, target)
  if (own === undefined || target === undefined || theirs === undefined) return undefined
  const groups = new Map<unknown, [Expr | undefined, Record<string, unknown>[]]>()
  for (const r of rows) {
    const v = ownValue(r, own.name)
    const key = v === null || v === undefined ? undefined : encodeField(own, v)
    let g = groups.get(key)
    if (g === undefined) groups.set(key, (g = [key === undefined ? undefined : eq(target.column(theirs.name), key), []]))
    g[1].push(r)
  }
  return [...groups.values()]
}

const loadLevel = async (db: Backend, core: ModelCore, rows: Record<string, unknown>[], level: Map<string, Node>): Promise<void> => {
  for (const [name, node] of level) {
    const groups = byShard(db, core, rows, name)
    if (groups === undefined) await loadRelation(db, core, rows, name, node)
    else for (const [onShard, part] of groups) await loadRelation(db, core, part, name, node, onShard)
  }
}

/**
 * Load the relations named by `includes` into `rows` (which it changes: give it rows it owns).
 * One query per relation per level, whatever the number of rows.
 */
export const loadIncludes = (db: Backend, core: ModelCore, rows: Record<string, unknown>[], includes: readonly IncludeSpec[]): TaskEither<DbError, void> => async () => {
  try {
    if (rows.length > 0 && includes.length > 0) await loadLevel(db, core, rows, treeOf(includes))
    return { _tag: 'Right', right: undefined }
  } catch (e) {
    return { _tag: 'Left', left: isDbError(e) ? e : toDbError(e) }
  }
}
