/**
 * `model()`: a table described by an io-ts codec, as a frozen record of functions over plain
 * rows. The codec is the single source of the row type: `t.TypeOf<typeof User.codec>` is what
 * every query returns.
 *
 * ```ts
 * const User = model({
 *   table: 'users',
 *   primaryKey: 'id',
 *   codec: t.type({ id: t.number, email: t.string, active: bool, createdAt: date, updatedAt: date }),
 *   naming: snakeCase,
 *   behaviours: [timestamps()],
 * })
 * const ada = await run(User.create(db, { email: 'ada@example.com', active: true }))
 * const active = await run(pipe(User.query, User.where('active', '=', true), User.all(db)))
 * ```
 *
 * Reads and writes are functions taking the backend first; query transforms are pipeable.
 * Every I/O function returns `TaskEither<DbError, ...>`.
 */
import { left, right, type Either } from 'fp-ts/lib/Either.js'
import { none, some, type Option } from 'fp-ts/lib/Option.js'
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import type { IOEither } from 'fp-ts/lib/IOEither.js'
import type * as t from 'io-ts'
import type { Backend } from '../compose.js'
import type { Row } from '../driver.js'
import { dbError, type DbError, isDbError, toDbError, type ValidationError } from '../errors.js'
import type { Expr, OrderItem, SelectLike } from '../ast.js'
import { and as andExpr, exists as existsExpr, not as notExpr, or as orExpr, orderWord, raw as rawExpr } from '../query.js'
import { fix } from '../record.js'
import { type Compiled, isFragment, sql, type Fragment } from '../sql.js'
import { type Behaviour, type AnyBehaviour, type Hooks, hooksBehaviour, withDeleted } from './behaviours.js'
import { allOf, buildCore, type CoreConfig, type Graph, type ModelCore, type Naming, ownValue, tableRefOf } from './core.js'
import { type ModelCodec, show } from './decode.js'
import type { DecimalCodec } from './codecs.js'
import {
  allRows, anyRow, average, batchRows, type BatchOptions, compileQuery as compileRead, countRows, fieldAggregate, finder, keyCondition, keyOfRow, notFound, keyProblem, pageOf, type PageSpec, pluckField, pluckFields, type Page,
} from './read.js'
import { cursorPage, type CursorPage, type CursorSpec } from './cursor.js'
import { aggKit, aggregateExpr, aggregateRows, type Agg, type AggKit, type AggOut, type Grouped } from './grouping.js'
import { baseQuery, type CompareOp, type Computed, defaultOrder, reversed, type Condition, failed, type IncludeSpec, type ModelQuery, type QueryKit, queryKit, subqueryOf, type Transform, type WhereInput } from './query.js'
import { aggregateDecoder, relationAggregate, relationFilter, type SubModifier } from './subqueries.js'
import { type AnyRelation, checkPath, fieldList, isMorphInverse, isThrough, loadIncludes } from './relations.js'
import { throughPlan } from './through.js'
import { checkMorph, checkMorphInverse } from './morph.js'
import { checkOneOrder } from './one-of-many.js'
import { attachRows, detachRows, type PivotValues, type SyncOptions, type SyncResult, syncRows, updatePivotRows } from './links.js'
import { relatedQuery } from './related.js'
import { withDependents } from './dependents.js'
import { counterCaches } from './counter-cache.js'
import { parentTouches } from './touch-parents.js'
import { withUniqueDetail, withViolatingRows } from './unique.js'
import { checkInsert, prefixed, validationError, type Validator } from './validate.js'
import {
  createRow, createRows, createRowsPlain, deleteMatching, skipsInBatch, deleteRow, everyUpdate, hasUpdateTime, incrementMatching, incrementRow, restoreRow, shardCondition, touchRow, updateChanged,
  updateMatching, updateRow, upsertRow, upsertRows, upsertsInBatch,
  type UpsertOptions,
} from './write.js'
import { withFields } from '../objects.js'

// ---------------------------------------------------------------- type-level helpers

/** Flatten an intersection for readable hovers. */
export type Simplify<T> = { [K in keyof T]: T[K] } & {}

type NullableKeys<R> = { [K in keyof R]-?: null extends R[K] ? K : never }[keyof R]
type OptionalKeys<R> = { [K in keyof R]-?: {} extends Pick<R, K> ? K : never }[keyof R]
type GeneratedKey<R, PK> = PK extends keyof R ? (R[PK] extends number | bigint ? PK : never) : never
type FillsOf<B> = B extends readonly (infer X)[] ? (X extends Behaviour<any, infer F> ? F : never) : never
type Restores<B> = B extends readonly (infer X)[] ? (X extends { readonly restoreAs: (...a: any[]) => any } ? true : never) : never
type KeyNames<PK> = PK extends readonly (infer K)[] ? K : PK

/** Create input: every field, with those the database or a behaviour may fill optional. */
export type InsertOf<R, O> = Simplify<{ [K in Exclude<keyof R, O>]: R[K] } & { [K in O & keyof R]?: R[K] }>

/** The primary key as `find` takes it: a value, or an object for a composite key. */
export type KeyOf<R, PK> = PK extends readonly (infer K)[] ? Simplify<Pick<R, K & keyof R>> : R[PK & keyof R]

/** Type-level description of a model (see `Model`). */
export interface ModelTypes {
  readonly codec: t.Any
  readonly row: object
  readonly insert: object
  readonly key: unknown
  /** Primary-key field names. */
  readonly pk: PropertyKey
  readonly relations: object
  readonly scopes: object
  /** The models this one is related with (`relate`), by name; `{}` before. */
  readonly graph: object
  /** This model's name in its graph. */
  readonly name: string
  /** Whether a soft-delete behaviour makes `restore` available. */
  readonly restore: boolean
}

/** The value of key field `name` in a key (a value, for a one-field key) or a row. */
const keyPart = (fields: number, key: unknown, name: string): unknown =>
  fields === 1 && (typeof key !== 'object' || key === null || key instanceof Date || key instanceof Uint8Array) ? key : (key as Record<string, unknown>)[name]

/** A key value as text that tells keys apart (a Map key for `findMany`). */
const keyText = (v: unknown): string =>
  v instanceof Date ? `d${v.getTime()}` : v instanceof Uint8Array ? `b${Buffer.from(v).toString('hex')}` : `${typeof v}:${String(v)}`

/** The key `inBulk` gives a value in its Map: a Date's ISO text, bytes' hex, anything else itself. */
const bulkKey = (v: unknown): unknown =>
  v instanceof Date ? v.toISOString() : v instanceof Uint8Array ? Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex') : v

/**
 * The type of `inBulk`'s Map keys for values of type `V`: text for a Date or bytes (a Map finds
 * an object only by identity), `V` itself otherwise.
 */
export type BulkKey<V> = V extends Date | Uint8Array ? string : V

/** A part of a query `unscope` drops. */
export type QueryPart = 'where' | 'order' | 'limit' | 'offset' | 'select' | 'distinct' | 'group' | 'having'
const QUERY_PARTS: Readonly<Record<QueryPart, keyof ModelQuery<unknown>>> = {
  where: 'where', order: 'order', limit: 'limit', offset: 'offset', select: 'fields', distinct: 'distinct', group: 'group', having: 'having',
}

/** The type-level description of a model value. */
export type TypesOf<M> = M extends { readonly '~types': infer D extends ModelTypes } ? D : never
type RelsIn<G, N> = N extends keyof G ? TypesOf<G[N]>['relations'] : {}
type RowIn<G, N> = N extends keyof G ? TypesOf<G[N]>['row'] : never
type TargetOf<Rel> = Rel extends { readonly target: infer T } ? T : never
type Prev = [never, 0, 1, 2, 3, 4, 5]

/** Relation paths from model `N` of graph `G`, `'invoices' | 'invoices.lines' | ...`, up to 4 levels. */
export type Paths<G, N, Depth extends number = 4> = [Depth] extends [never]
  ? never
  // No model to go on from (a morphTo's rows are of several): the path ends here.
  : [N] extends [never] ? never
  : { [K in keyof RelsIn<G, N> & string]: K | `${K}.${Paths<G, TargetOf<RelsIn<G, N>[K]>, Prev[Depth]>}` }[keyof RelsIn<G, N> & string]

/**
 * A path as a tree of relation names: `'a.b'` is `{ a: { b: {} } }`. `L` is what the last step
 * carries: `{}` without a modifier, or what the modifier added (`ModifiedLeaf`).
 */
export type PathTree<P extends string, L = {}> = P extends `${infer H}.${infer Rest}` ? { [K in H]: PathTree<Rest, L> } : { [K in P]: L }

/**
 * The last step of an included path that has a modifier: the selection the modifier left
 * (`withCount`, `computed` add fields) under `~with`, and the relations it included itself.
 * A modified step may filter its rows, so a belongsTo loaded through it may be null.
 */
export type ModifiedLeaf<X, T2> = [X] extends [never] ? {} : { readonly '~with': X } & T2

/**
 * The row type of included rows: the target's row, or the selection a modifier left (narrowed
 * by `select`, widened by `withCount`, `computed`); the target's row when it left `any`.
 */
type IncludedRow<G, Rel, T> = T extends { readonly '~with': infer X } ? (0 extends 1 & X ? RowIn<G, TargetOf<Rel>> : X) : RowIn<G, TargetOf<Rel>>

/** The model name a path ends at. */
export type TargetAt<G, N, P extends string> = P extends `${infer H}.${infer Rest}`
  ? TargetAt<G, TargetOf<RelsIn<G, N>[H & keyof RelsIn<G, N>]>, Rest>
  : TargetOf<RelsIn<G, N>[P & keyof RelsIn<G, N>]>

/** A value type that holds neither null nor undefined. */
type Present<V> = null extends V ? false : undefined extends V ? false : true
/** Whether every foreign-key field `F` of row `Src` is typed non-null. */
type KeyPresent<Src, F> = [F] extends [keyof Src]
  ? Present<Src[F]>
  : F extends readonly (infer K)[] ? ([K] extends [keyof Src] ? Present<Src[K & keyof Src]> : false) : false
/**
 * Whether a relation always loads a row for rows of `Src`: a belongsTo over non-null key
 * fields, not declared `optional`, loaded without a modifier (loading fails with NotFound
 * when the row is absent).
 */
type AlwaysLoads<Src, Rel, T> = '~with' extends keyof T
  ? false
  : Rel extends { readonly kind: 'belongsTo'; readonly foreignKey: infer F; readonly optional: false } ? KeyPresent<Src, F> : false

type LoadedRow<G, Rel, T> = Simplify<IncludedRow<G, Rel, T> & Materialize<G, TargetOf<Rel>, T>>
type Loaded<G, Src, Rel, T> = Rel extends { readonly kind: 'morphTo'; readonly targets: infer M } ? RowIn<G, M[keyof M]> | null
  : Rel extends { readonly kind: 'hasMany' | 'manyToMany' | 'hasManyThrough' | 'morphMany' }
  ? (Rel extends { readonly pivot: infer C extends t.Any } ? Simplify<LoadedRow<G, Rel, T> & { readonly pivot: t.TypeOf<C> }>[] : LoadedRow<G, Rel, T>[])
  : AlwaysLoads<Src, Rel, T> extends true ? LoadedRow<G, Rel, T> : LoadedRow<G, Rel, T> | null

/**
 * The loaded relations of a tree: arrays for hasMany/manyToMany; for belongsTo/hasOne the row
 * or null, except a belongsTo that always loads (non-null key, not `optional`, no modifier),
 * which is the row. Fields a modifier added (`withCount`, `computed`) are in the row type.
 */
export type Materialize<G, N, T> = { [K in keyof T & keyof RelsIn<G, N>]: Loaded<G, RowIn<G, N>, RelsIn<G, N>[K], T[K]> }

/** What a query of model `D` returns for selection `S` and relation tree `T`. */
export type Out<D extends ModelTypes, S, T> = [keyof T] extends [never] ? S : Simplify<S & Materialize<D['graph'], D['name'], T>>

/** Model `N` of graph `G` as `relate` returns it (with its relations). */
export type ModelIn<G, N> = N extends keyof G & string ? (G extends object ? Model<InGraph<TypesOf<G[N]>, G, N>> : never) : never

/**
 * A relation modifier: receives the target's query and the target model as `relate` returned
 * it (so its own relations, `whereHas`, `withCount` and `include` type-check); may filter,
 * order, limit and add computed fields. `X` and `T2` are the selection and relations it leaves.
 */
export type Modifier<D extends ModelTypes, P extends string, X = any, T2 = any> = (
  q: ModelQuery<RowIn<D['graph'], TargetAt<D['graph'], D['name'], P>>>,
  model: ModelIn<D['graph'], TargetAt<D['graph'], D['name'], P>>,
) => ModelQuery<RowIn<D['graph'], TargetAt<D['graph'], D['name'], P>>, X, T2>

/** An update's patch: any field but the primary key. */
export type Patch<D extends ModelTypes> = Partial<Omit<D['row'], D['pk'] & keyof D['row']>>

/** Relation names of a model. */
type RelName<D extends ModelTypes> = keyof D['relations'] & Paths<D['graph'], D['name']> & string
/** The row type of a relation's target. */
type TargetRow<D extends ModelTypes, P> = RowIn<D['graph'], TargetOf<RelsIn<D['graph'], D['name']>[P & keyof RelsIn<D['graph'], D['name']>]>>
/** A transform adding a computed column `A` of type `V` to the selection. */
type WithColumn<D extends ModelTypes, A extends string, V> = <S, T>(q: ModelQuery<D['row'], S, T>) => ModelQuery<D['row'], Simplify<S & { readonly [K in A]: V }>, T>
/**
 * The join-row values `attach` and `sync` take for a manyToMany declaring `pivot` (one object, or
 * a function of each target); none for one that declares none.
 */
export type PivotIn<D extends ModelTypes, P> = RelsIn<D['graph'], D['name']>[P & keyof RelsIn<D['graph'], D['name']>] extends { readonly pivot: infer C extends t.Any }
  ? t.TypeOf<C> | ((target: Partial<TargetRow<D, P>>, index: number) => t.TypeOf<C>)
  : never
/** Some join-row values `updatePivot` sets (one object, or a function of each target). */
export type PivotPatch<D extends ModelTypes, P> = RelsIn<D['graph'], D['name']>[P & keyof RelsIn<D['graph'], D['name']>] extends { readonly pivot: infer C extends t.Any }
  ? Partial<t.TypeOf<C>> | ((target: Partial<TargetRow<D, P>>, index: number) => Partial<t.TypeOf<C>>)
  : never
/** Names of the manyToMany relations of a model (those `attach` and `detach` write). */
type LinkName<D extends ModelTypes> = { [K in RelName<D>]: RelsIn<D['graph'], D['name']>[K] extends { readonly kind: 'manyToMany' } ? K : never }[RelName<D>]
/** Fields of a row holding numbers or bigints (those `increment` adds to). */
/** The fields that hold a time (a `Date`, nullable or not): what `touch` may set. */
type DateField<R> = { [K in keyof R & string]-?: [Extract<R[K], Date>] extends [never] ? never : K }[keyof R & string]
type NumericField<R> = { [K in keyof R & string]: R[K] extends number | bigint | null ? (R[K] extends null ? never : K) : never }[keyof R & string]
/** The fields of a `t.type` codec whose codec is `decimal` or `decimalOf` (alone or `nullable`): numbers written as text. */
type DecimalField<C> = C extends { readonly props: infer P } ? { [K in keyof P & string]: P[K] extends DecimalCodec | t.UnionC<[DecimalCodec, t.NullC]> ? K : never }[keyof P & string] : never
/** The fields `increment` moves: numbers, and decimals as text (money). */
type MovableField<D extends ModelTypes> = NumericField<D['row']> | Extract<DecimalField<D['codec']>, keyof D['row']>
/** The group fields `groupBy` marked on a selection type (none without `groupBy`). */
type GroupOf<S> = S extends Grouped<infer G> ? G : {}

/** A transform over queries whose selection holds column `N` (of type `V`): what names a computed column. */
type NeedsColumn<R, N extends string, V = unknown> = <S extends { readonly [K in N]: V }, T>(q: ModelQuery<R, S, T>) => ModelQuery<R, S, T>
/** `orderBy` of a computed column: the name, then the arguments of `A`. */
type OnComputed<R, A extends (...args: any[]) => void> = <N extends string>(column: N, ...rest: Parameters<A>) => NeedsColumn<R, N>
/**
 * A transform over queries whose selection holds column `N`, of a type that holds the value `V`
 * (a status `'bogus'` is refused for a column of `'open' | 'closed'`, as `where` refuses it for the field).
 */
type TakesValue<R, N extends string, V> = <S extends { readonly [K in N]: unknown }, T>(q: ModelQuery<R, S, T> & ([V] extends [S[N]] ? unknown : never)) => ModelQuery<R, S, T>
/** `where` / `orWhere` on a computed column, its value of the column's type. */
interface ComputedCondition<R> {
  <N extends string, const V>(column: N, op: CompareOp, value: V): TakesValue<R, N, V>
  <N extends string, const V>(column: N, op: 'in' | 'not in', values: readonly V[]): TakesValue<R, N, V>
  <N extends string, const V>(column: N, op: 'between' | 'not between', low: V, high: V): TakesValue<R, N, V>
  <N extends string>(column: N, op: 'is null' | 'is not null'): NeedsColumn<R, N>
}

// ---------------------------------------------------------------- the model record

/** Options of `Model.createMany`. */
export interface CreateManyOptions {
  /** Read the stored rows back (RETURNING, or a read by key). Default true; false returns the count inserted. */
  readonly returning?: boolean
  /**
   * `'ignore'`: a row whose insert meets a unique key another row holds (stored, or inserted before
   * it in the call), or that a `unique()` rule finds taken, is left out instead of failing the call
   * (Rails' `insert_all`, Django's `bulk_create(ignore_conflicts=True)`, Laravel's `insertOrIgnore`):
   * the rows inserted are returned (or counted). Any other failure still rolls every row back. On
   * PostgreSQL and SQLite the rows go through `createMany`'s multi-row statements with
   * `ON CONFLICT DO NOTHING`; on MySQL and MariaDB (every model), and for a model with a `unique()`
   * rule or an overridden `create`, each row is its own INSERT, under a savepoint, in one
   * transaction.
   */
  readonly onConflict?: 'ignore'
}

/** A model: its description, its query functions, its reads and writes. */
export interface Model<D extends ModelTypes> extends QueryKit<D['row']> {
  /**
   * ORDER BY a field, or a column the query computes (`withCount`'s `booksCount`, `computed`),
   * added before: see `QueryKit.orderBy`.
   * @example pipe(A.Author.query, A.Author.withCount('books'), A.Author.orderBy('booksCount', 'desc'), A.Author.all(db))
   */
  readonly orderBy: QueryKit<D['row']>['orderBy'] & OnComputed<D['row'], (direction?: 'asc' | 'desc', nulls?: 'first' | 'last') => void>
  /** ORDER BY this field or computed column instead of the order so far: see `QueryKit.reorder`. @example pipe(A.Author.query, A.Author.withCount('books'), A.Author.reorder('booksCount', 'desc'), A.Author.all(db)) */
  readonly reorder: QueryKit<D['row']>['reorder'] & OnComputed<D['row'], (direction?: 'asc' | 'desc', nulls?: 'first' | 'last') => void>
  /** Keep rows that match: see `QueryKit.where`; also a column the query computes. @example pipe(A.Author.query, A.Author.withCount('books'), A.Author.where('booksCount', '>', 1), A.Author.all(db)) */
  readonly where: QueryKit<D['row']>['where'] & ComputedCondition<D['row']>
  /** Keep rows that match this or the earlier conditions: see `QueryKit.orWhere`; also a column the query computes. */
  readonly orWhere: QueryKit<D['row']>['orWhere'] & ComputedCondition<D['row']>
  readonly table: string
  /** The codec rows decode with: `t.TypeOf<typeof User.codec>` is the row type. */
  readonly codec: D['codec']
  /** Primary-key field names. */
  readonly primaryKey: readonly string[]
  /** Field name to column name. */
  readonly columns: Readonly<Record<keyof D['row'] & string, string>>
  readonly relations: D['relations']
  /** Named query transforms from `scopes`. */
  readonly scopes: D['scopes']
  /** The query of every row (default scopes apply when it runs). */
  readonly query: ModelQuery<D['row']>
  /**
   * The table-qualified column of a field, as a fragment: splice it into `sql` templates or
   * pass it to the core builders.
   */
  readonly column: (field: keyof D['row'] & string) => Fragment
  /**
   * `SELECT DISTINCT`: each selected row once; `count` then counts the distinct rows (Rails'
   * `distinct.count`, Django's `distinct().count()`).
   * @example pipe(User.query, User.select('country'), User.distinct, User.count(db)) // how many countries
   */
  readonly distinct: <S, T>(q: ModelQuery<D['row'], S, T>) => ModelQuery<D['row'], S, T>
  /** Read only these fields: the result type narrows to them. @example pipe(User.query, User.select('id', 'email'), User.all(db)) */
  readonly select: <K extends keyof D['row'] & string>(...fields: readonly K[]) => <S, T>(q: ModelQuery<D['row'], S, T>) => ModelQuery<D['row'], Pick<D['row'], K>, T>
  /**
   * Load a relation path with the rows (`'invoices.lines.track'`), one query per level. The
   * modifier filters, orders and limits the last step (limit holds per parent row).
   * @example pipe(C.Customer.query, C.Customer.include('invoices.lines', (q, L) => pipe(q, L.limit(5))), C.Customer.all(db))
   */
  readonly include: <P extends Paths<D['graph'], D['name']>, X = never, T2 = {}>(path: P, modify?: Modifier<D, P, X, T2>) => <S, T>(q: ModelQuery<D['row'], S, T>) => ModelQuery<D['row'], S, T & PathTree<P, ModifiedLeaf<X, T2>>>

  // ---- query terminals: `pipe(User.query, ..., User.all(db))`
  /** Every row of the query. @example pipe(User.query, User.where('active', '=', true), User.all(db)) */
  readonly all: (db: Backend) => <S, T>(q: ModelQuery<D['row'], S, T>) => TaskEither<DbError, Out<D, S, T>[]>
  /**
   * The query's rows in primary-key order, a batch at a time, each batch one query
   * (`WHERE key > last ORDER BY key LIMIT size`): memory stays bounded, no connection is held
   * between batches, and relations load per batch. Throws DbError while iterating.
   * @example for await (const batch of pipe(User.query, User.scopes.active, User.batches(db, { size: 500 }))) await send(batch)
   */
  readonly batches: (db: Backend, options?: BatchOptions) => <S, T>(q: ModelQuery<D['row'], S, T>) => AsyncIterable<Out<D, S, T>[]>
  /**
   * The rows of `batches`, one at a time.
   * @example for await (const user of pipe(User.query, User.include('posts'), User.each(db))) console.log(user.name, user.posts.length)
   */
  readonly each: (db: Backend, options?: BatchOptions) => <S, T>(q: ModelQuery<D['row'], S, T>) => AsyncIterable<Out<D, S, T>>
  /**
   * The first row of the query in its order; without one, the row of the least primary key (as
   * Rails' and Django's `first`).
   * @example pipe(User.query, User.orderBy('createdAt', 'desc'), User.first(db))
   */
  readonly first: (db: Backend) => <S, T>(q: ModelQuery<D['row'], S, T>) => TaskEither<DbError, Option<Out<D, S, T>>>
  /**
   * The last row of the query: its order reversed (each direction and NULLS placement), or,
   * without an order, the row of the greatest primary key (as Rails' `last`). With a limit or an
   * offset, the last of the rows the query reads.
   * @example pipe(User.query, User.orderBy('createdAt'), User.last(db)) // the newest
   */
  readonly last: (db: Backend) => <S, T>(q: ModelQuery<D['row'], S, T>) => TaskEither<DbError, Option<Out<D, S, T>>>
  /**
   * The first `n` rows of the query in its order; without one, by primary key (Rails' `first(n)`).
   * @example pipe(Post.query, Post.orderBy('createdAt'), Post.takeFirst(db, 3))
   */
  readonly takeFirst: (db: Backend, n: number) => <S, T>(q: ModelQuery<D['row'], S, T>) => TaskEither<DbError, Out<D, S, T>[]>
  /**
   * The last `n` rows of the query, in the query's order (Rails' `last(n)`): read with the order
   * reversed, or, with a limit or an offset, the last `n` of the rows the query reads.
   * @example pipe(Post.query, Post.orderBy('createdAt'), Post.takeLast(db, 3)) // the 3 newest, oldest first
   */
  readonly takeLast: (db: Backend, n: number) => <S, T>(q: ModelQuery<D['row'], S, T>) => TaskEither<DbError, Out<D, S, T>[]>
  /** The first row of the query, or NotFound (Rails' `first!`, `find_by!`). @example pipe(User.query, User.where({ email }), User.firstOrFail(db)) */
  readonly firstOrFail: (db: Backend) => <S, T>(q: ModelQuery<D['row'], S, T>) => TaskEither<DbError, Out<D, S, T>>
  /** COUNT(*) of the query. @example pipe(User.query, User.scopes.active, User.count(db)) */
  readonly count: (db: Backend) => (q: ModelQuery<D['row'], any, any>) => TaskEither<DbError, number>
  /** Whether the query has a row. @example pipe(User.query, User.where({ email }), User.exists(db)) */
  readonly exists: (db: Backend) => (q: ModelQuery<D['row'], any, any>) => TaskEither<DbError, boolean>
  /** SUM of a field (decoded with the field's codec; null without rows). @example pipe(Invoice.query, Invoice.sum(db, 'total')) */
  readonly sum: <K extends keyof D['row'] & string>(db: Backend, field: K) => (q: ModelQuery<D['row'], any, any>) => TaskEither<DbError, D['row'][K] | null>
  /** AVG of a field, as a number. @example pipe(Track.query, Track.avg(db, 'milliseconds')) */
  readonly avg: (db: Backend, field: keyof D['row'] & string) => (q: ModelQuery<D['row'], any, any>) => TaskEither<DbError, number | null>
  /** MIN of a field. @example pipe(Invoice.query, Invoice.min(db, 'invoiceDate')) */
  readonly min: <K extends keyof D['row'] & string>(db: Backend, field: K) => (q: ModelQuery<D['row'], any, any>) => TaskEither<DbError, D['row'][K] | null>
  /** MAX of a field. @example pipe(Artist.query, Artist.max(db, 'artistId')) */
  readonly max: <K extends keyof D['row'] & string>(db: Backend, field: K) => (q: ModelQuery<D['row'], any, any>) => TaskEither<DbError, D['row'][K] | null>
  /**
   * Several fields of every row, as tuples in the order given, each decoded with its field's codec
   * (Rails' `pluck(:a, :b)`, Django's `values_list`).
   * @example pipe(User.query, User.orderBy('id'), User.pluckMany(db, 'id', 'email')) // [[1, 'ada@example.com'], ...]
   */
  readonly pluckMany: <const K extends readonly (keyof D['row'] & string)[]>(db: Backend, ...fields: K) => (q: ModelQuery<D['row'], any, any>) => TaskEither<DbError, { -readonly [I in keyof K]: D['row'][K[I]] }[]>
  /** One field, or a column the query computes (`withCount`, `computed`), of every row. @example pipe(User.query, User.pluck(db, 'email')) */
  readonly pluck: {
    <K extends keyof D['row'] & string>(db: Backend, field: K): (q: ModelQuery<D['row'], any, any>) => TaskEither<DbError, D['row'][K][]>
    <N extends string>(db: Backend, column: N): <S extends { readonly [K in N]: unknown }>(q: ModelQuery<D['row'], S, any>) => TaskEither<DbError, S[N][]>
  }
  /**
   * One field, or a computed column, of the query's first row (Rails' `pick`, Laravel's `value`,
   * Django's `values_list(field, flat=True).first()`): `first`'s row (without an order, the row of
   * the least primary key), one row read; None when no row matches.
   * @example pipe(User.query, User.where({ email: 'ada@example.com' }), User.pick(db, 'id')) // Some(1)
   */
  readonly pick: {
    <K extends keyof D['row'] & string>(db: Backend, field: K): (q: ModelQuery<D['row'], any, any>) => TaskEither<DbError, Option<D['row'][K]>>
    <N extends string>(db: Backend, column: N): <S extends { readonly [K in N]: unknown }>(q: ModelQuery<D['row'], S, any>) => TaskEither<DbError, Option<S[N]>>
  }
  /**
   * A page of rows and the total count: a 1-based `page` of `perPage` rows, or `limit` rows
   * from `offset`. One statement (the total read with the rows as `COUNT(*) OVER ()`) plus one
   * per relation level; a second (COUNT) only past the last page or without window functions.
   * A number that is not a whole number in range is a ValidationError naming it.
   * @example
   * pipe(Track.query, Track.orderBy('trackId'), Track.paginate(db, { page: 2, perPage: 25 }))
   * pipe(Article.query, Article.orderBy('createdAt', 'desc'), Article.paginate(db, { limit: 20, offset: 40 }))
   */
  readonly paginate: (db: Backend, page: PageSpec) => <S, T>(q: ModelQuery<D['row'], S, T>) => TaskEither<DbError, Page<Out<D, S, T>>>
  /**
   * A cursor (keyset) page, as Laravel's `cursorPaginate`: `perPage` rows in the query's order
   * after `cursor` (the first page without one), and `nextCursor`, the text to give for the next
   * page (null on the last). The order's fields, then the primary key's, are compared with the
   * last row of the page before (`a > x OR (a = x AND b > y)`, `<` for a descending step), so
   * rows written meanwhile neither shift a page nor repeat or skip a row, and a deep page costs
   * what the first does. Order by fields that hold no NULL (a NULL, an expression, a computed
   * column or a NULLS placement is a QueryError); a cursor of another order is a ValidationError
   * at `cursor`; `limit`, `offset` and `groupBy` are refused.
   * @example
   * const page = await run(pipe(Task.query, Task.orderBy('createdAt', 'desc'), Task.cursorPaginate(db, { perPage: 20 })))
   * const next = await run(pipe(Task.query, Task.orderBy('createdAt', 'desc'), Task.cursorPaginate(db, { perPage: 20, cursor: page.nextCursor })))
   */
  readonly cursorPaginate: (db: Backend, page: CursorSpec) => <S, T>(q: ModelQuery<D['row'], S, T>) => TaskEither<DbError, CursorPage<Out<D, S, T>>>

  // ---- subqueries and relation filters (one statement, EXISTS / IN)
  /**
   * Keep rows that have a related row (matching the modifier): `EXISTS (...)`. A dotted path
   * nests (`'articles.tags'`); the modifier applies to its last step.
   * @example pipe(A.Article.query, A.Article.whereHas('tags', (q, Tag) => pipe(q, Tag.where('name', '=', 'dragons'))), A.Article.all(db))
   */
  readonly whereHas: <P extends Paths<D['graph'], D['name']>>(relation: P, modify?: Modifier<D, P>) => Transform<D['row']>
  /** Keep rows without a related row (matching the modifier): `NOT EXISTS (...)`. @example pipe(A.User.query, A.User.whereDoesntHave('articles'), A.User.all(db)) */
  readonly whereDoesntHave: <P extends Paths<D['graph'], D['name']>>(relation: P, modify?: Modifier<D, P>) => Transform<D['row']>
  /** `whereHas` as a condition, to combine with `or`, `and`, `not`. @example A.Article.or(A.Article.has('tags'), A.Article.cond('title', 'like', 'How%')) */
  readonly has: <P extends Paths<D['graph'], D['name']>>(relation: P, modify?: Modifier<D, P>) => Condition<D['row']>
  /** `whereDoesntHave` as a condition. @example A.User.not(A.User.doesntHave('articles')) */
  readonly doesntHave: <P extends Paths<D['graph'], D['name']>>(relation: P, modify?: Modifier<D, P>) => Condition<D['row']>
  /**
   * Keep rows for which a subquery has a row: `EXISTS (subquery)`; correlate it through
   * `Model.column(...)` or core builders. A model query or a SELECT.
   * @example pipe(User.query, User.whereExists(pipe(Post.query, Post.where(Post.raw(sql`${Post.column('userId')} = ${User.column('id')}`)))), User.all(db))
   */
  readonly whereExists: (subquery: ModelQuery<any, any, any> | SelectLike) => Transform<D['row']>
  /** `NOT EXISTS (subquery)`. @example pipe(User.query, User.whereNotExists(from('bans')), User.all(db)) */
  readonly whereNotExists: (subquery: ModelQuery<any, any, any> | SelectLike) => Transform<D['row']>

  // ---- computed columns (read with the rows, in the same statement)
  /**
   * The number of related rows (matching the modifier) as `<relation>Count` (or `alias`).
   * @example pipe(A.Article.query, A.Article.withCount('favoritedBy'), A.Article.all(db)) // rows have favoritedByCount
   */
  readonly withCount: <P extends RelName<D>, A extends string = `${P}Count`>(relation: P, modify?: Modifier<D, P>, alias?: A) => WithColumn<D, A, number>
  /** Whether a related row exists, as `<relation>Exists` (or `alias`). @example pipe(A.Article.query, A.Article.withExists('favoritedBy', (q, U) => pipe(q, U.where('id', '=', me))), A.Article.all(db)) */
  readonly withExists: <P extends RelName<D>, A extends string = `${P}Exists`>(relation: P, modify?: Modifier<D, P>, alias?: A) => WithColumn<D, A, boolean>
  /** SUM of a related field as `<relation>Sum<Field>` (null without related rows). @example pipe(C.Invoice.query, C.Invoice.withSum('lines', 'quantity'), C.Invoice.all(db)) */
  readonly withSum: <P extends RelName<D>, F extends keyof TargetRow<D, P> & string, A extends string = `${P}Sum${Capitalize<F>}`>(relation: P, field: F, modify?: Modifier<D, P>, alias?: A) => WithColumn<D, A, TargetRow<D, P>[F] | null>
  /** MAX of a related field as `<relation>Max<Field>`. @example pipe(A.User.query, A.User.withMax('articles', 'createdAt'), A.User.all(db)) */
  readonly withMax: <P extends RelName<D>, F extends keyof TargetRow<D, P> & string, A extends string = `${P}Max${Capitalize<F>}`>(relation: P, field: F, modify?: Modifier<D, P>, alias?: A) => WithColumn<D, A, TargetRow<D, P>[F] | null>
  /** MIN of a related field as `<relation>Min<Field>`. @example pipe(A.User.query, A.User.withMin('articles', 'createdAt', undefined, 'firstPostAt'), A.User.all(db)) */
  readonly withMin: <P extends RelName<D>, F extends keyof TargetRow<D, P> & string, A extends string = `${P}Min${Capitalize<F>}`>(relation: P, field: F, modify?: Modifier<D, P>, alias?: A) => WithColumn<D, A, TargetRow<D, P>[F] | null>
  /** AVG of a related field as a number, `<relation>Avg<Field>` (null without related rows). @example pipe(C.Invoice.query, C.Invoice.withAvg('lines', 'quantity'), C.Invoice.all(db)) */
  readonly withAvg: <P extends RelName<D>, F extends keyof TargetRow<D, P> & string, A extends string = `${P}Avg${Capitalize<F>}`>(relation: P, field: F, modify?: Modifier<D, P>, alias?: A) => WithColumn<D, A, number | null>
  /**
   * A selected expression read with every row under `name`, decoded with `codec` (numeric text
   * is read as a number for number codecs).
   * @example pipe(Post.query, Post.computed('titleLength', t.number, sql`length(${Post.column('title')})`), Post.all(db))
   */
  readonly computed: <N extends string, C extends t.Any>(name: N, codec: C, expr: Expr | Fragment) => WithColumn<D, N, t.TypeOf<C>>

  // ---- common table expressions
  /**
   * Start the statement with `WITH name AS (body)`: a model query (any model) or a SELECT.
   * @example pipe(Post.query, Post.with('top', pipe(Post.query, Post.where('score', '>', 5))), Post.fromCte('top'), Post.all(db))
   */
  readonly with: (name: string, body: ModelQuery<any, any, any> | SelectLike) => Transform<D['row']>
  /**
   * As `with`, for a body that reads its own name (an anchor `UNION ALL` a step): the statement
   * starts with `WITH RECURSIVE`. Reads a tree or a graph, such as a category and its ancestors.
   * @example pipe(Category.query, Category.withRecursive('up', pipe(from('categories'), select('id', 'parent_id', 'name'), where({ id: 4 }), unionAll(pipe(from('categories c'), join('up u', ['c.id', 'u.parent_id']), select('c.id', 'c.parent_id', 'c.name'))))), Category.fromCte('up'), Category.all(db))
   */
  readonly withRecursive: (name: string, body: ModelQuery<any, any, any> | SelectLike) => Transform<D['row']>
  /**
   * Read the rows from a CTE (of this query's `with`, holding this model's columns) instead of
   * the table; conditions, order and default scopes apply to it as to the table.
   * @example pipe(Post.query, Post.with('mine', pipe(Post.query, Post.where('userId', '=', me))), Post.fromCte('mine'), Post.where('score', '>', 3), Post.all(db))
   */
  readonly fromCte: (name: string) => Transform<D['row']>

  // ---- grouping
  /** Group by fields; `aggregate` then returns one row per group. @example pipe(Invoice.query, Invoice.groupBy('customerId'), Invoice.aggregate(db, (a) => ({ n: a.count(), total: a.sum('total') }))) */
  readonly groupBy: <K extends keyof D['row'] & string>(...fields: readonly K[]) => <S, T>(q: ModelQuery<D['row'], S, T>) => ModelQuery<D['row'], Grouped<Pick<D['row'], K>>, T>
  /**
   * Aggregates of the query, one row per group (`groupBy`) or one row for the whole query,
   * decoded: counts as integers, sums and extremes with the field's codec, averages as numbers.
   * @example pipe(Invoice.query, Invoice.groupBy('country'), Invoice.aggregate(db, (a) => ({ n: a.count(), s: a.sum('total') })))
   */
  readonly aggregate: <A extends Readonly<Record<string, Agg<unknown>>>>(db: Backend, spec: (a: AggKit<D['row']>) => A) => <S>(q: ModelQuery<D['row'], S, any>) => TaskEither<DbError, Simplify<GroupOf<S> & AggOut<A>>[]>
  /** COUNT(DISTINCT field) of the query. @example pipe(Invoice.query, Invoice.countDistinct(db, 'customerId')) */
  readonly countDistinct: (db: Backend, field: keyof D['row'] & string) => (q: ModelQuery<D['row'], any, any>) => TaskEither<DbError, number>

  /**
   * Keep the groups whose aggregate compares so with `value` (`HAVING`; Rails' `having`, Django's
   * `annotate().filter()`): several are ANDed. Read by `aggregate`, `count` (the groups that
   * pass) and `exists`. A sum, min or max compares with a value of its field's type, a count or
   * an average with a number. Without `groupBy` the query fails with a QueryError.
   * @example pipe(Invoice.query, Invoice.groupBy('customerId'), Invoice.having((a) => a.count(), '>', 5), Invoice.aggregate(db, (a) => ({ n: a.count() })))
   */
  /**
   * ORDER BY an aggregate of each group (after `groupBy`; Django's `annotate().order_by()`):
   * with `limit`, the top groups.
   * @example pipe(Invoice.query, Invoice.groupBy('customerId'), Invoice.orderByAggregate((a) => a.sum('total'), 'desc'), Invoice.limit(5), Invoice.aggregate(db, (a) => ({ total: a.sum('total') })))
   */
  readonly orderByAggregate: (aggregate: (a: AggKit<D['row']>) => Agg<unknown>, direction?: 'asc' | 'desc') => Transform<D['row']>
  readonly having: <V>(aggregate: (a: AggKit<D['row']>) => Agg<V>, op: CompareOp, value: NonNullable<V>) => Transform<D['row']>
  /**
   * Drop parts of a query (Rails' `unscope`): `'where'` (its conditions; default scopes stay,
   * see `unscoped`), `'order'`, `'limit'`, `'offset'`, `'select'`, `'distinct'`, `'group'`,
   * `'having'`. Any other word fails the query with a QueryError.
   * @example pipe(Post.query, Post.scopes.newestFirst, Post.limit(5), Post.unscope('order', 'limit'), Post.count(db))
   */
  readonly unscope: (...parts: readonly QueryPart[]) => <S, T>(q: ModelQuery<D['row'], S, T>) => ModelQuery<D['row'], S, T>
  /**
   * The one row of the query: NotFound for none, a QueryError for more than one (Django's `get`,
   * Rails' `sole`).
   * @example pipe(User.query, User.where({ email }), User.sole(db))
   */
  readonly sole: (db: Backend) => <S, T>(q: ModelQuery<D['row'], S, T>) => TaskEither<DbError, Out<D, S, T>>

  // ---- rows by key and condition
  /**
   * The rows of these primary keys, in the order of the keys (Rails' `find([1, 2])`), default
   * scopes applied; NotFound naming the first key without a row. One query.
   * @example User.findMany(db, [3, 1]) // [user 3, user 1]
   */
  readonly findMany: (db: Backend, keys: readonly D['key'][]) => TaskEither<DbError, D['row'][]>
  /**
   * The rows holding these values of a field (the primary key by default) as a Map from each value
   * given to its row, a value without a row left out (Django's `in_bulk`): one query, default
   * scopes applied. The field must tell rows apart (the key, or a field under a unique index): two
   * rows holding one value is a QueryError. A composite primary key needs a field named. A Date
   * is keyed by its ISO text and bytes by their hex (`BulkKey`), as a Map finds an object only by
   * identity: `map.get(day.toISOString())` finds the row of any Date equal to `day`.
   * @example const byId = await run(User.inBulk(db, [1, 2, 99])) // Map { 1 => user 1, 2 => user 2 }
   * @example const bySlug = await run(Page.inBulk(db, ['home', 'about'], 'slug'))
   * @example (await run(Event.inBulk(db, [day], 'at'))).get(day.toISOString())
   */
  readonly inBulk: {
    (db: Backend, keys: readonly D['key'][]): TaskEither<DbError, Map<BulkKey<D['key']>, D['row']>>
    <K extends keyof D['row'] & string>(db: Backend, values: readonly D['row'][K][], field: K): TaskEither<DbError, Map<BulkKey<D['row'][K]>, D['row']>>
  }
  /**
   * The first row matching `match` (field values), or one created from `match` and `extra`
   * (Rails' `find_or_create_by`, Django's `get_or_create`); `created` says which. When the
   * create meets a unique violation (another writer created it first), the row is read again.
   * A list in `match` (a condition, IN) is a ValidationError: there is no one value to create.
   * @example const { row, created } = await run(User.findOrCreate(db, { email }, { name: 'Ada' }))
   */
  readonly findOrCreate: (db: Backend, match: Partial<D['row']>, extra?: Partial<D['insert']>) => TaskEither<DbError, { readonly row: D['row']; readonly created: boolean }>
  /**
   * The row matching `match` updated with `values`, or, when none matches, one created from `match`
   * and `values` (Django's `update_or_create`, Laravel's `updateOrCreate`); `created` says which.
   * The update is `update`'s (hooks, validators, timestamps, the version) and the create `create`'s.
   * More than one row matching is a QueryError, nothing written (as Django's MultipleObjectsReturned);
   * a list in `match` is a ValidationError. When the create meets a unique violation (another
   * writer created the row first), that row is read and updated.
   * @example const { row, created } = await run(Setting.updateOrCreate(db, { userId: 1, key: 'theme' }, { value: 'dark' }))
   */
  readonly updateOrCreate: (db: Backend, match: Partial<D['row']>, values: Patch<D>) => TaskEither<DbError, { readonly row: D['row']; readonly created: boolean }>
  /** The row with this primary key (a prepared query per backend). @example User.find(db, 1) */
  readonly find: (db: Backend, key: D['key']) => TaskEither<DbError, Option<D['row']>>
  /**
   * `find` answered now, without a Promise, on a backend with a synchronous path (better-sqlite3,
   * DuckDB): the same prepared query and decoding, an `IOEither` to run. Where the backend has
   * none, or cannot run it now (inside a transaction's callback on the async path), the Left says
   * so: use `find` there.
   * @example const user = User.findNow(db, 1)() // Either<DbError, Option<User>>
   */
  readonly findNow: (db: Backend, key: D['key']) => IOEither<DbError, Option<D['row']>>
  /** The row with this primary key, or NotFound. @example Line.findOrFail(db, { invoiceId: 1, trackId: 2 }) */
  readonly findOrFail: (db: Backend, key: D['key']) => TaskEither<DbError, D['row']>
  /** The first row matching a condition. @example User.findBy(db, { email: 'ada@example.com' }) */
  readonly findBy: (db: Backend, where: WhereInput<D['row']>) => TaskEither<DbError, Option<D['row']>>
  /** The row as it is stored now (NotFound when it is gone, or hidden by a default scope other than soft deletion's). @example User.refresh(db, user) */
  readonly refresh: (db: Backend, row: D['row']) => TaskEither<DbError, D['row']>

  // ---- writes
  /** Validate, run the hooks, insert; returns the stored row (generated key and defaults included). @example User.create(db, { email: 'ada@example.com', name: 'Ada' }) */
  readonly create: (db: Backend, input: D['insert']) => TaskEither<DbError, D['row']>
  /**
   * Validate every row, then insert them in chunks, in one transaction, returning the stored
   * rows. With `{ returning: false }` nothing is read back (no RETURNING): one multi-row INSERT
   * compiled once and run per chunk under the engine's parameter limit, and the result is the
   * number of rows inserted.
   *
   * @example
   * User.createMany(db, [{ email: 'a@x.io', name: 'A' }, { email: 'b@x.io', name: 'B' }])   // the rows
   * User.createMany(db, manyInputs, { returning: false })                                   // how many
   */
  readonly createMany: {
    (db: Backend, inputs: readonly D['insert'][]): TaskEither<DbError, D['row'][]>
    (db: Backend, inputs: readonly D['insert'][], options: CreateManyOptions & { readonly returning: false }): TaskEither<DbError, number>
    (db: Backend, inputs: readonly D['insert'][], options: CreateManyOptions & { readonly returning?: true }): TaskEither<DbError, D['row'][]>
  }
  /**
   * Write the fields `patch` names (validated first), even those equal to `row`, which may be out
   * of date; returns the row as stored (what the database made of the values: DECIMAL rounding,
   * CHAR padding, triggers), decoded, or a Left with nothing written. An empty patch writes
   * nothing and returns the stored row. A row the default scopes hide is NotFound.
   * @example User.update(db, user, { name: 'Ada Lovelace' })
   */
  readonly update: (db: Backend, row: D['row'], patch: Patch<D>) => TaskEither<DbError, D['row']>
  /**
   * One UPDATE for every row matching (default scopes apply; no row hooks); the patch is checked
   * by the field codecs and by the validators that read only its fields. Returns the count.
   * @example User.updateWhere(db, { country: 'UK' }, { active: false })
   */
  readonly updateWhere: (db: Backend, where: WhereInput<D['row']>, patch: Patch<D>) => TaskEither<DbError, number>
  /**
   * Write the named fields of each row as the row holds them (Django's `bulk_update(objs, fields)`,
   * Rails' `update(ids, values)`), in order, in one transaction: each row through `update` (hooks,
   * validators, timestamps, and the optimistic lock's check of the version the row carries), the
   * stored rows returned. A row that fails rolls every row back; its ValidationError names it
   * (`rows.2.title`). The primary key is not a field to write. One statement per row.
   * @example Post.updateMany(db, posts.map((p) => ({ ...p, rank: p.rank + 1 })), ['rank'])
   */
  readonly updateMany: (db: Backend, rows: readonly D['row'][], fields: readonly (keyof Patch<D> & string)[]) => TaskEither<DbError, D['row'][]>
  /**
   * Delete a row (soft with `softDelete`, unless `force`); returns the row as it is left: a soft
   * delete the row as stored (its marks as the columns keep them, the other fields as the table
   * holds them), a hard delete the row given, as it was before. On a sharded backend the row's
   * shard key goes into the WHERE with its primary key.
   * @example const gone = await run(Post.delete(db, post)) // gone.deletedAt is the deletion time
   */
  readonly delete: (db: Backend, row: D['row'], options?: { readonly force?: boolean }) => TaskEither<DbError, D['row']>
  /**
   * `update`, also telling which fields were written: the fields the patch names, plus those
   * behaviours set (`updatedAt`, `version`); empty for an empty patch (no statement).
   * @example const { row, changed } = await run(User.updateChanges(db, user, { name: 'Ada' })) // changed: ['name', 'updatedAt']
   */
  readonly updateChanges: (db: Backend, row: D['row'], patch: Patch<D>) => TaskEither<DbError, { readonly row: D['row']; readonly changed: readonly (keyof D['row'] & string)[] }>
  /** One DELETE for every row matching (soft with `softDelete`); returns the count. @example Post.deleteWhere(db, Post.cond('score', '<', 0)) */
  readonly deleteWhere: (db: Backend, where: WhereInput<D['row']>) => TaskEither<DbError, number>
  /** Insert, or update the row with the same unique key. @example Item.upsert(db, { sku: 'A-1', qty: 3 }, { conflict: ['sku'], update: ['qty'] }) */
  readonly upsert: (db: Backend, input: D['insert'], options?: UpsertOptions<keyof D['row'] & string>) => TaskEither<DbError, D['row']>
  /**
   * `upsert` of every row, in order, in one transaction (Rails' `upsert_all`, Django's
   * `bulk_create(update_conflicts=True)`, Laravel's `upsert`): the stored rows, each inserted or
   * updated as `upsert` decides, with its behaviours and its checks on every engine. A row that
   * fails rolls every row back; its ValidationError names it (`rows.3.qty`). On PostgreSQL,
   * SQLite and MariaDB, runs of rows setting the same columns go through multi-row upserts (see
   * `upsertRows`; on MariaDB a row meeting another row on a unique key other than the target is a
   * UniqueViolation naming that key, as with `upsert`); on MySQL (no RETURNING), and for an
   * overridden `upsert`, one statement per row.
   * @example Item.upsertMany(db, [{ sku: 'A-1', qty: 3 }, { sku: 'B-2', qty: 0 }], { conflict: ['sku'], update: ['qty'] })
   */
  readonly upsertMany: (db: Backend, inputs: readonly D['insert'][], options?: UpsertOptions<keyof D['row'] & string>) => TaskEither<DbError, D['row'][]>
  /**
   * Add `by` (1 by default) to a numeric field in the database, atomically (`SET f = f + ?`: two
   * increments never lose one), with what behaviours add to every update (`updatedAt`, the
   * version); returns the row as stored. Runs no update hooks nor validators; a result the
   * field's codec refuses is a DecodeError and nothing is written. NotFound when the row is gone.
   * @example Post.increment(db, post, 'views')       // views + 1
   * @example Post.increment(db, post, 'score', 10)   // score + 10
   */
  readonly increment: <K extends MovableField<D>>(db: Backend, row: D['row'], field: K, by?: NonNullable<D['row'][K]> | number) => TaskEither<DbError, D['row']>
  /** `increment` by `-by`. @example Item.decrement(db, item, 'stock', 2) */
  readonly decrement: <K extends MovableField<D>>(db: Backend, row: D['row'], field: K, by?: NonNullable<D['row'][K]> | number) => TaskEither<DbError, D['row']>
  /**
   * Add `by` (1 by default) to a numeric field of every matching row the default scopes show, in
   * one statement (`SET f = COALESCE(f, 0) + ?`, as Rails' `update_counters` and Django's
   * `update(f=F('f') + 1)`), with what behaviours add to every update (`updatedAt`, the version);
   * the count of rows. `by` is checked as `increment` checks it; no hooks or validators run.
   * @example Post.incrementWhere(db, { authorId: 7 }, 'views')          // views + 1 on each of author 7's posts
   * @example Item.incrementWhere(db, Item.cond('id', 'in', ids), 'stock', 5)
   */
  readonly incrementWhere: <K extends MovableField<D>>(db: Backend, where: WhereInput<D['row']>, field: K, by?: NonNullable<D['row'][K]> | number) => TaskEither<DbError, number>
  /** `incrementWhere` by `-by`. @example Item.decrementWhere(db, { sku: 'A-1' }, 'stock', 2) */
  readonly decrementWhere: <K extends MovableField<D>>(db: Backend, where: WhereInput<D['row']>, field: K, by?: NonNullable<D['row'][K]> | number) => TaskEither<DbError, number>
  /**
   * Set the row's update time (`timestamps()`'s `updatedAt`) and the time fields named to now, as
   * Rails' `touch`: no hooks, no validators, the optimistic lock's version bumped and checked (a
   * stale copy is a ConflictError); NotFound for a row gone or soft-deleted. Returns the row as
   * stored. A model with neither timestamps nor a field named is a QueryError.
   * @example Post.touch(db, post)                  // updatedAt = now
   * @example User.touch(db, user, 'lastSeenAt')    // updatedAt and lastSeenAt = now
   */
  readonly touch: (db: Backend, row: D['row'], ...fields: readonly DateField<D['row']>[]) => TaskEither<DbError, D['row']>
  /** Undo a soft delete (models with `softDelete`); returns the row as stored. @example Post.restore(db, post) */
  readonly restore: D['restore'] extends true ? (db: Backend, row: D['row']) => TaskEither<DbError, D['row']> : never

  // ---- join tables of manyToMany relations
  /**
   * Link a row to target rows (or objects holding the target's key) through a manyToMany
   * relation: one INSERT into its join table; returns how many links were written. A link that
   * exists is a UniqueViolation when the join table's key covers both columns.
   * @example A.Article.attach(db, article, 'tags', [dragons, training])
   */
  readonly attach: <P extends LinkName<D>>(db: Backend, row: D['row'], relation: P, targets: readonly Partial<TargetRow<D, P>>[], pivot?: PivotIn<D, P>) => TaskEither<DbError, number>
  /**
   * Unlink a row from target rows through a manyToMany relation (from all of them when
   * `targets` is omitted): one DELETE from its join table; returns how many links went.
   * @example A.User.detach(db, me, 'favorites', [article])
   */
  readonly detach: <P extends LinkName<D>>(db: Backend, row: D['row'], relation: P, targets?: readonly Partial<TargetRow<D, P>>[]) => TaskEither<DbError, number>

  /**
   * Make a row's links through a manyToMany relation exactly `targets`: the missing links are
   * inserted, the others deleted, the ones kept left alone (as Laravel's `sync`, Rails'
   * `tag_ids =`), in one transaction (a savepoint inside yours). Returns how many were attached
   * and detached. `{ updateKept: true }` writes `pivot` on the kept links too (`updated` counts
   * them); `{ detaching: false }` deletes none (Laravel's `syncWithoutDetaching`).
   * @example A.Article.sync(db, article, 'tags', [dragons, training]) // { attached: 1, detached: 2 }
   * @example Team.sync(db, team, 'members', [ada, bob], { role: 'member' }, { updateKept: true }) // { attached: 1, detached: 0, updated: 1 }
   */
  readonly sync: <P extends LinkName<D>>(db: Backend, row: D['row'], relation: P, targets: readonly Partial<TargetRow<D, P>>[], pivot?: PivotIn<D, P>, options?: SyncOptions) => TaskEither<DbError, SyncResult>
  /**
   * Set join-row values of a row's existing links to `targets` through a manyToMany relation
   * declaring `pivot` (Laravel's `updateExistingPivot`): the fields given, checked by the pivot
   * codec first; returns how many links were written.
   * @example Team.updatePivot(db, team, 'members', [ada], { rank: 2 }) // 1
   */
  readonly updatePivot: <P extends LinkName<D>>(db: Backend, row: D['row'], relation: P, targets: readonly Partial<TargetRow<D, P>>[], values: PivotPatch<D, P>) => TaskEither<DbError, number>

  /**
   * The query of a row's related rows, as Rails' `author.posts`: a query of the target model to
   * narrow, order, count or page with the target's functions (its default scopes apply).
   * @example pipe(M.Author.related(ada, 'posts'), M.Post.where('views', '>', 10), M.Post.count(db))
   */
  readonly related: <P extends RelName<D>>(row: D['row'], relation: P) => RelsIn<D['graph'], D['name']>[P & keyof RelsIn<D['graph'], D['name']>] extends { readonly kind: 'morphTo' }
    ? ModelQuery<any> // the model the row's type names
    : ModelQuery<TargetRow<D, P>>

  // ---- relations of rows already read
  /** Load a relation path for one row or a list (returns new rows; the given ones stay as they are). @example C.Album.load(db, album, 'tracks.genre') */
  readonly load: LoadFn<D>

  // ---- codecs
  /** Decode one raw row (column names as keys) to the row type. @example User.decode({ id: 1, email: 'a@x.io', active: 1, ... }) */
  readonly decode: (raw: Row) => Either<DbError, D['row']>
  /** Decode and check create input without writing. @example User.validate(JSON.parse(body)) */
  readonly validate: (input: unknown) => Either<ValidationError, D['insert']>

  /** The runtime description (used by relation loading and the query functions). */
  readonly core: ModelCore
  /** What the model was defined with (used by `relate`). */
  readonly definition: CoreConfig & { readonly scopes?: (kit: QueryKit<any>) => object; readonly hooks?: object }
  /** Type-level only (absent at runtime): the model's type description. */
  readonly '~types': D
}

/** `Model.load`: one row or a list. */
export interface LoadFn<D extends ModelTypes> {
  <P extends Paths<D['graph'], D['name']>, X extends D['row'], M = never, T2 = {}>(db: Backend, row: X, path: P, modify?: Modifier<D, P, M, T2>): TaskEither<DbError, Simplify<X & Materialize<D['graph'], D['name'], PathTree<P, ModifiedLeaf<M, T2>>>>>
  <P extends Paths<D['graph'], D['name']>, X extends D['row'], M = never, T2 = {}>(db: Backend, rows: readonly X[], path: P, modify?: Modifier<D, P, M, T2>): TaskEither<DbError, Simplify<X & Materialize<D['graph'], D['name'], PathTree<P, ModifiedLeaf<M, T2>>>>[]>
}

/** Any model. */
export type AnyModel = Model<any>

/** What `model()` takes. */
export interface ModelConfig<C extends ModelCodec, PK, Rels, B, Sc, Df, O = OptionalOf<t.TypeOf<C>, PK, B, Df>> {
  /** The table name. */
  readonly table: string
  /** The primary-key field, or fields for a composite key. A single numeric key may be left to the database. */
  readonly primaryKey: PK
  /** The row codec: the row type and how each column decodes. */
  readonly codec: C
  /** Column names of fields whose column differs (wins over `naming`). */
  readonly columns?: { readonly [K in keyof t.TypeOf<C>]?: string }
  /** Field name to column name for the rest (e.g. `snakeCase`); identity by default. */
  readonly naming?: Naming
  /** Relations to other models, by the names they get in `relate`. */
  readonly relations?: Rels
  /** Behaviours, in order (`timestamps()`, `softDelete()`, ...). */
  readonly behaviours?: B
  /** The model's own hooks (run after the behaviours'). */
  readonly hooks?: Hooks<t.TypeOf<C>, InsertOf<t.TypeOf<C>, O>>
  /**
   * Checks over the decoded input: create values (fields the database or a behaviour fills
   * may be absent), or the stored row with an update's patch applied.
   */
  readonly validators?: readonly Validator<Partial<t.TypeOf<C>>>[]
  /** Named query transforms, made with the model's query functions. */
  readonly scopes?: (q: QueryKit<t.TypeOf<C>>) => Sc
  /** Fields the database fills when they are absent (column DEFAULTs): optional in create input. */
  readonly defaults?: readonly Df[]
}

/** The fields optional in create input. */
export type OptionalOf<R, PK, B, Df> = NullableKeys<R> | OptionalKeys<R> | GeneratedKey<R, PK> | FillsOf<B> | Df

/** The type description `model()` infers. */
export interface Described<C extends ModelCodec, PK, Rels, B, Sc, Df> {
  readonly codec: C
  readonly row: t.TypeOf<C>
  readonly insert: InsertOf<t.TypeOf<C>, OptionalOf<t.TypeOf<C>, PK, B, Df>>
  readonly key: KeyOf<t.TypeOf<C>, PK>
  readonly pk: KeyNames<PK>
  readonly relations: Rels
  readonly scopes: Sc
  readonly graph: {}
  readonly name: ''
  readonly restore: [Restores<B>] extends [never] ? false : true
}

// ---------------------------------------------------------------- building

/**
 * The SQL a model query runs on this backend (its main statement; relations load with one more
 * per level), long `in` lists in the engine's form as they run (the dialect's `longInList`).
 *
 * @example
 * compileQuery(db, pipe(User.query, User.where('id', '=', 1))) // Right({ sql: 'SELECT ...', params: [1] })
 */
export const compileQuery = (db: Backend, q: ModelQuery<any, any, any>): Either<DbError, Compiled> => compileRead(db, q)


/**
 * The model's core as `withUniqueDetail` sees a write to the join table of its manyToMany
 * relation `name`: named after that table (the core itself for any other name; `attach` refuses it).
 *
 * @example joinTableCore(Article.core, 'tags').table // 'article_tags'
 */
const joinTableCore = (core: ModelCore, name: string): ModelCore => {
  const rel = ownValue(core.relations, name) as AnyRelation | undefined
  return rel !== undefined && rel.kind === 'manyToMany' ? withFields(core, { table: rel.through, tableRef: tableRefOf(rel.through) }) : core
}

const capitalize = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1)

/**
 * Build the record of a model from its definition (and its graph, once related). The record
 * is open (`fix`): `findOrFail` goes through `find`; `first`, `findBy` and `refresh` through
 * `all`; `load` through `include`; `createMany` through `create` when it is overridden. So
 * `extend(User, (self, base) => ({ find: ... }))` changes every function built on `find`.
 */
const build = (definition: Model<any>['definition'], graph?: Graph): Model<any> => {
  const own = [...(definition.behaviours ?? []), ...(definition.hooks === undefined ? [] : [hooksBehaviour(definition.hooks)])]
  // Counter caches of belongsTo relations run after the model's own hooks, reading the core built here.
  const softField = own.map((b) => b.deleteAs?.()).find((x) => x !== undefined)
  const counters = counterCaches(definition.relations ?? {}, () => core, softField === undefined ? undefined : Object.keys(softField)[0])
  const touches = parentTouches(definition.relations ?? {}, () => core)
  const behaviours: AnyBehaviour[] = [...own, ...(counters === undefined ? [] : [counters]), ...(touches === undefined ? [] : [touches])]
  const core = buildCore({ ...definition, behaviours }, graph)
  const kit = queryKit<Record<string, unknown>>(core)
  const defaults = new Set(definition.defaults ?? [])
  const query = baseQuery<Record<string, unknown>>(core)
  const { find, findNow } = finder(core)
  const scopes = definition.scopes?.(kit) ?? {}
  type Q = ModelQuery<any, any, any>

  const load = (db: Backend, rows: unknown, includes: readonly IncludeSpec[]) => {
    const list = (Array.isArray(rows) ? rows : [rows]).map((r) => ({ ...(r as object) })) as Record<string, unknown>[]
    const loaded = loadIncludes(db, core, list, includes)
    return () => loaded().then((r) => (r._tag === 'Left' ? r : right(Array.isArray(rows) ? list : list[0])))
  }

  // Defaults that other functions fall back on when they are not overridden (compared by identity).
  const create: Model<any>['create'] = (db, input) => withUniqueDetail(db, core, createRow(db, core, defaults, input as Record<string, unknown>))
  const upsert: Model<any>['upsert'] = (db, input, options) => withUniqueDetail(db, core, upsertRow(db, core, defaults, input as Record<string, unknown>, options ?? {}))
  const withColumn = (make: (q: Q) => Computed) => (q: Q): Q => {
    try {
      const c = make(q)
      return Object.freeze(withFields(q, { computed: [...(q.computed ?? []).filter((x) => x.name !== c.name), c] }))
    } catch (e) {
      return failed(q, e)
    }
  }
  const relationCondition = (path: string, modify: unknown, negated: boolean): Condition<any> => {
    try {
      return Object.freeze({ _tag: 'Condition', expr: relationFilter(core, path, modify as SubModifier | undefined, negated) })
    } catch (e) {
      return Object.freeze({ _tag: 'Condition', expr: andExpr(), error: toDbError(e) })
    }
  }
  const relationWhere = (path: string, modify: unknown, negated: boolean) => (q: Q): Q => {
    try {
      // Built from the query's own model: inside a relation modifier it may be read under an alias.
      const e = relationFilter(q.core, path, modify as SubModifier | undefined, negated)
      return Object.freeze(withFields(q, { where: q.where === undefined ? e : andExpr(q.where, e) }))
    } catch (e) {
      return failed(q, e)
    }
  }
  const existsWhere = (sub: unknown, negated: boolean) => (q: Q): Q => {
    try {
      const e = existsExpr(subqueryOf(sub, 'any'))
      const c = negated ? notExpr(e) : e
      return Object.freeze(withFields(q, { where: q.where === undefined ? c : andExpr(q.where, c) }))
    } catch (e) {
      return failed(q, e)
    }
  }

  return fix<Model<any>>((self) => {
    const m: Omit<Model<any>, '~types'> = {
      ...kit,
      table: core.table,
      codec: definition.codec,
      primaryKey: core.primaryKey.map((f) => f.name),
      columns: Object.fromEntries(core.fields.map((f) => [f.name, f.column])),
      relations: definition.relations ?? {},
      scopes,
      query,
      column: (field) => {
        const c = core.column(field)
        return sql`${sql.id([c.table!, c.name])}`
      },
      select: (...fields) => {
        const unknown = fields.find((f) => !core.byName.has(f))
        return (q: Q) => (unknown === undefined ? Object.freeze(withFields(q, { fields })) : failed(q, dbError('QueryError', `${core.table} has no field "${unknown}"`)))
      },
      distinct: (q) => Object.freeze(withFields(q, { distinct: true })),
      include: (path: string, modify?: unknown) => (q: Q) => {
        try {
          // Checked here, not only when loading: a query with a wrong path or modifier fails even when it finds no row.
          checkPath(q.core, path.split('.'), modify as IncludeSpec['modify'])
        } catch (e) {
          return failed(q, e)
        }
        return Object.freeze(withFields(q, { includes: [...q.includes, { path: path.split('.'), modify: modify as IncludeSpec['modify'] }] }))
      },

      all: (db) => (q: Q) => allRows(db, q) as never,
      first: (db) => (q: Q) => {
        // Without an order, the row of the least primary key (as Rails' and Django's `first`),
        // not whichever row the engine meets first (on PostgreSQL an updated row moves).
        const t = self.all(db)(Object.freeze(withFields(keyOrdered(q), { limit: 1 })))
        return () => t().then((r) => (r._tag === 'Left' ? r : right(r.right.length === 0 ? none : some(r.right[0])))) as never
      },
      batches: (db, options) => (q: Q) => ({ [Symbol.asyncIterator]: () => batchRows(db, q, options) }) as never,
      each: (db, options) => (q: Q) => ({
        async *[Symbol.asyncIterator]() {
          for await (const batch of batchRows(db, q, options)) yield* batch
        },
      }) as never,
      // The last n rows with n = 1: with a limit or an offset the last of the rows the query reads
      // (as Rails' `last`), otherwise the first of its order reversed.
      last: (db) => (q: Q) => {
        const t = self.takeLast(db, 1)(q)
        return () => t().then((r) => (r._tag === 'Left' ? r : right(r.right.length === 0 ? none : some(r.right[0])))) as never
      },
      takeFirst: (db, n) => (q: Q) => {
        const bad = countIssue(core, 'takeFirst', n)
        if (bad !== undefined) return () => Promise.resolve(left(bad))
        return self.all(db)(Object.freeze(withFields(keyOrdered(q), { limit: Math.min(q.limit ?? n, n) }))) as never
      },
      takeLast: (db, n) => (q: Q) => {
        const bad = countIssue(core, 'takeLast', n)
        if (bad !== undefined) return () => Promise.resolve(left(bad))
        if (n === 0) return () => Promise.resolve(right([])) as never
        // With a limit or an offset, the last n of the rows the query reads (as `last`).
        if (q.limit !== undefined || q.offset !== undefined) {
          const t = self.all(db)(keyOrdered(q))
          return () => t().then((r) => (r._tag === 'Left' ? r : right(r.right.slice(-n)))) as never
        }
        let order: OrderItem[]
        try {
          order = reversed(q)
        } catch (e) {
          return () => Promise.resolve(left(toDbError(e)))
        }
        const t = self.all(db)(Object.freeze(withFields(q, { order, limit: n })))
        return () => t().then((r) => (r._tag === 'Left' ? r : right(r.right.reverse()))) as never
      },
      sole: (db) => (q: Q) => {
        const t = self.all(db)(Object.freeze(withFields(q, { limit: Math.min(q.limit ?? 2, 2) })))
        return () => t().then((r) => {
          if (r._tag === 'Left') return r
          if (r.right.length === 0) return left(dbError('NotFound', `no ${core.table} row matches the query`, { table: core.table }))
          if (r.right.length > 1) return left(dbError('QueryError', `${core.table}: more than one row matches a query that should match one`))
          return right(r.right[0])
        }) as never
      },
      orderByAggregate: (spec, direction) => (q) => {
        try {
          const d = orderWord('direction', direction, ['asc', 'desc'] as const) ?? 'asc'
          return Object.freeze(withFields(q, { order: [...q.order, { expr: aggregateExpr(core, spec(aggKit)), direction: d }] }))
        } catch (e) {
          return failed(q, e)
        }
      },
      having: (spec, op, value) => (q) => Object.freeze(withFields(q, { having: [...(q.having ?? []), { agg: spec(aggKit), op, value }] })),
      unscope: (...parts) => (q) => {
        const bad = parts.find((p) => !Object.hasOwn(QUERY_PARTS, p))
        if (bad !== undefined) return failed(q, dbError('QueryError', `${core.table}: unscope takes ${Object.keys(QUERY_PARTS).join(', ')}; got ${JSON.stringify(bad)}`))
        const patch: Record<string, unknown> = {}
        for (const p of parts) patch[QUERY_PARTS[p]] = p === 'order' ? [] : undefined
        return Object.freeze(withFields(q, patch as never))
      },
      firstOrFail: (db) => (q: Q) => {
        const t = self.first(db)(q)
        return () => t().then((r) => (r._tag === 'Left' ? r : r.right._tag === 'Some' ? right(r.right.value) : left(dbError('NotFound', `no ${core.table} row matches the query`, { table: core.table })))) as never
      },
      count: (db) => (q: Q) => countRows(db, q),
      exists: (db) => (q: Q) => anyRow(db, q),
      sum: (db, field) => (q: Q) => fieldAggregate(db, q, 'sum', field) as never,
      avg: (db, field) => (q: Q) => average(db, q, field),
      min: (db, field) => (q: Q) => fieldAggregate(db, q, 'min', field) as never,
      max: (db, field) => (q: Q) => fieldAggregate(db, q, 'max', field) as never,
      pluck: (db, field) => (q: Q) => pluckField(db, q, field) as never,
      pluckMany: (db, ...fields) => (q: Q) => pluckFields(db, q, fields) as never,
      paginate: (db, p) => (q: Q) => pageOf(db, q, p) as never,
      cursorPaginate: (db, p) => (q: Q) => cursorPage(self as never, db, p, q) as never,
      pick: (db: Backend, field: string) => (q: Q) => {
        const t = self.pluck(db, field as never)(Object.freeze(withFields(keyOrdered(q), { limit: Math.min(q.limit ?? 1, 1) })))
        return () => t().then((r) => (r._tag === 'Left' ? r : right(r.right.length === 0 ? none : some(r.right[0]))))
      },

      find: (db, key) => find(db, key),
      findNow: (db, key) => findNow(db, key),
      findOrFail: (db, key) => {
        const t = self.find(db, key)
        return () => t().then((r) => (r._tag === 'Left' ? r : r.right._tag === 'None' ? left(notFound(core, key)) : right(r.right.value)))
      },
      findBy: (db, w) => self.first(db)(self.where(w as never)(self.query)) as never,
      findMany: (db, keys) => {
        if (keys.length === 0) return () => Promise.resolve(right([]))
        const pk = core.primaryKey
        let q: Q
        try {
          for (const k of keys) {
            const problem = keyProblem(core, k)
            if (problem !== undefined) throw problem
          }
          q = pk.length === 1
            ? self.where(pk[0].name as never, 'in', keys.map((k) => keyPart(1, k, pk[0].name)) as never)(self.query)
            : Object.freeze(withFields(self.query, { where: orExpr(...keys.map((k) => keyCondition(core, k))) }))
        } catch (e) {
          return () => Promise.resolve(left(toDbError(e)))
        }
        const t = allRows(db, q)
        const text = (key: unknown): string => pk.map((f) => keyText(keyPart(pk.length, key, f.name))).join('\u0000')
        return () => t().then((r) => {
          if (r._tag === 'Left') return r
          const byKey = new Map(r.right.map((row) => [text(row), row]))
          const out: Record<string, unknown>[] = []
          for (const k of keys) {
            const row = byKey.get(text(k))
            if (row === undefined) return left(notFound(core, k))
            out.push(row)
          }
          return right(out)
        }) as never
      },
      inBulk: ((db: Backend, values: readonly unknown[], field?: string) => {
        const name = field ?? (core.primaryKey.length === 1 ? core.primaryKey[0].name : undefined)
        if (name === undefined) return () => Promise.resolve(left(dbError('QueryError', `${core.table}: inBulk reads by a one-field key; the primary key is ${core.primaryKey.map((f) => f.name).join(', ')}: name a field, or use findMany`)))
        if (!Array.isArray(values)) return () => Promise.resolve(left(dbError('QueryError', `${core.table}: inBulk takes an array of values`)))
        if (values.length === 0) return () => Promise.resolve(right(new Map()))
        const t = allRows(db, self.where(name as never, 'in', values as never)(self.query))
        return () => t().then((r) => {
          if (r._tag === 'Left') return r
          const byValue = new Map<string, Record<string, unknown>>()
          for (const row of r.right) {
            const k = keyText(row[name])
            if (byValue.has(k)) return left(dbError('QueryError', `${core.table}.${name}: inBulk needs a field that tells rows apart; several rows hold ${show(row[name])}`))
            byValue.set(k, row)
          }
          // Keyed by the values given, a Date by its ISO text and bytes by their hex: a Map compares
          // objects by identity, so an equal Date of the caller's would not find its row.
          const out = new Map<unknown, Record<string, unknown>>()
          for (const v of values) {
            const row = byValue.get(keyText(v))
            if (row !== undefined) out.set(bulkKey(v), row)
          }
          return right(out)
        })
      }) as never,
      findOrCreate: (db, match, extra) => {
        const bad = listInMatch(core, 'findOrCreate', match)
        if (bad !== undefined) return () => Promise.resolve(left(bad))
        const found = () => self.findBy(db, match as never)()
        return async () => {
          const f = await found()
          if (f._tag === 'Left') return f
          if (f.right._tag === 'Some') return right({ row: f.right.value, created: false })
          const c = await self.create(db, { ...match, ...extra } as never)()
          if (c._tag === 'Right') return right({ row: c.right, created: true })
          // Another writer created the row between the read and the insert: read theirs.
          if (c.left._tag !== 'UniqueViolation') return c
          const again = await found()
          return again._tag === 'Right' && again.right._tag === 'Some' ? right({ row: again.right.value, created: false }) : c
        }
      },
      updateOrCreate: (db, match, values) => {
        const bad = listInMatch(core, 'updateOrCreate', match)
        if (bad !== undefined) return () => Promise.resolve(left(bad))
        // Two rows at most: one to update, a second to refuse the call with.
        const matching = self.all(db)(Object.freeze(withFields(self.where(match as never)(self.query), { limit: 2 })))
        const found = async (): Promise<Either<DbError, Option<Record<string, unknown>>>> => {
          const r = await matching()
          if (r._tag === 'Left') return r
          if (r.right.length > 1) return left(dbError('QueryError', `${core.table}: updateOrCreate found more than one row matching ${show(match)}; nothing was written`))
          return right(r.right.length === 0 ? none : some(r.right[0] as Record<string, unknown>))
        }
        const updated = async (row: Record<string, unknown>) => {
          const u = await self.update(db, row as never, values)()
          return u._tag === 'Left' ? u : right({ row: u.right, created: false })
        }
        return async () => {
          const f = await found()
          if (f._tag === 'Left') return f
          if (f.right._tag === 'Some') return updated(f.right.value)
          const c = await self.create(db, { ...match, ...values } as never)()
          if (c._tag === 'Right') return right({ row: c.right, created: true })
          // Another writer created the row between the read and the insert: update theirs.
          if (c.left._tag !== 'UniqueViolation') return c
          const again = await found()
          return again._tag === 'Right' && again.right._tag === 'Some' ? updated(again.right.value) : c
        }
      },
      refresh: (db, row) => {
        const key = keyOfRow(core, row as Record<string, unknown>)
        // On a sharded backend the row's shard key too: another shard may hold a row of the same key.
        const where = allOf([keyCondition(core, key), shardCondition(db, core, row as Record<string, unknown>)])!
        // As withDeleted reads: a soft-deleted row is refreshed, a row another default scope hides (another tenant's) is not.
        const r = self.first(db)(withDeleted(Object.freeze(withFields(self.query, { where }))))
        return () => r().then((x) => (x._tag === 'Left' ? x : x.right._tag === 'None' ? left(notFound(core, key)) : right(x.right.value)))
      },

      create,
      // Batched unless `create` is overridden: then each row goes through it, in one transaction.
      createMany: ((db: Backend, inputs: readonly Record<string, unknown>[], options?: CreateManyOptions) => {
        if (options?.onConflict !== undefined && options.onConflict !== 'ignore') {
          return () => Promise.resolve(left(dbError('QueryError', `${core.table}: createMany's onConflict is 'ignore', got ${show(options.onConflict)}`)))
        }
        if (options?.onConflict === 'ignore') {
          if (inputs.length === 0) return () => Promise.resolve(right(options.returning === false ? 0 : []))
          // Multi-row statements that skip conflicting rows, where the engine says which it inserted.
          if (self.create === create && skipsInBatch(db, core)) {
            return options.returning === false
              ? withViolatingRows(db, core, inputs, withUniqueDetail(db, core, createRowsPlain(db, core, defaults, inputs, true)))
              : withViolatingRows(db, core, inputs, withUniqueDetail(db, core, createRows(db, core, defaults, inputs as Record<string, unknown>[], true)))
          }
          // Each row under its own savepoint (create's, inside the transaction): a duplicate is undone alone.
          const taken = (e: DbError) => isDbError(e, 'UniqueViolation') || (isDbError(e, 'ValidationError') && e.issues.every((x) => x.rule === 'unique'))
          const rows = eachRow(db, core.table, inputs, (tx, input) => self.create(tx, input as never), taken)
          return () => rows().then((r) => (r._tag === 'Left' || options.returning !== false ? r : right(r.right.length)))
        }
        if (self.create === create) {
          return options?.returning === false
            ? withViolatingRows(db, core, inputs, withUniqueDetail(db, core, createRowsPlain(db, core, defaults, inputs)))
            : withViolatingRows(db, core, inputs, withUniqueDetail(db, core, createRows(db, core, defaults, inputs as Record<string, unknown>[])))
        }
        const rows = eachRow(db, core.table, inputs, (tx, input) => self.create(tx, input as never))
        return () => rows().then((r) => (r._tag === 'Left' || options?.returning !== false ? r : right(r.right.length)))
      }) as Model<ModelTypes>['createMany'],
      update: (db, row, patch) => withUniqueDetail(db, core, updateRow(db, core, row as Record<string, unknown>, patch as Record<string, unknown>)),
      updateChanges: (db, row, patch) => withUniqueDetail(db, core, updateChanged(db, core, row as Record<string, unknown>, patch as Record<string, unknown>)) as never,
      updateWhere: (db, w, patch) => withUniqueDetail(db, core, updateMatching(db, core, w, patch as Record<string, unknown>)),
      // The relations' `dependent` steps first, in the delete's transaction (see `withDependents`).
      delete: (db, row, options) => withDependents(db, core, row as Record<string, unknown>, options?.force ?? false, (tx) => deleteRow(tx, core, row as Record<string, unknown>, options?.force ?? false)),
      deleteWhere: (db, w) => deleteMatching(db, core, w),
      upsert,
      updateMany: (db, rows, fields) => {
        const bad = fields.find((f) => !core.byName.has(f) || core.primaryKey.some((k) => k.name === f))
        if (bad !== undefined) return () => Promise.resolve(left(dbError('QueryError', `${core.table}: updateMany writes fields of the row other than its key; got "${bad}"`)))
        return eachRow(db, core.table, rows, (tx, row) => self.update(tx, row, Object.fromEntries(fields.map((f) => [f, (row as Record<string, unknown>)[f]])) as never))
      },
      // Multi-row upserts where the dialect has RETURNING (see `upsertsInBatch`), unless `upsert` is overridden.
      upsertMany: (db, inputs, options) => (self.upsert === upsert && upsertsInBatch(db)
        ? withUniqueDetail(db, core, upsertRows(db, core, defaults, inputs as Record<string, unknown>[], options ?? {}))
        : eachRow(db, core.table, inputs, (tx, input) => self.upsert(tx, input, options))),
      restore: ((db: Backend, row: Record<string, unknown>) => restoreRow(db, core, row)) as never,
      increment: (db, row, field, by) => incrementRow(db, core, row as Record<string, unknown>, field, by ?? 1) as never,
      decrement: (db, row, field, by) => incrementRow(db, core, row as Record<string, unknown>, field, by ?? 1, true) as never,
      incrementWhere: (db, w, field, by) => incrementMatching(db, core, w, field, by ?? 1),
      decrementWhere: (db, w, field, by) => incrementMatching(db, core, w, field, by ?? 1, true),
      touch: (db, row, ...fields) => touchRow(db, core, row as Record<string, unknown>, fields),

      load: ((db: Backend, rows: unknown, path: string, modify?: IncludeSpec['modify']) => {
        const q = self.include(path as never, modify as never)(self.query)
        return q.error === undefined ? load(db, rows, q.includes) : () => Promise.resolve(left(q.error))
      }) as never,

      // A duplicate link is the join table's: MariaDB names only the index (see `withUniqueDetail`).
      attach: (db, row, relation, targets, pivot) => withUniqueDetail(db, joinTableCore(core, relation), attachRows(db, core, row as Record<string, unknown>, relation, targets as readonly Record<string, unknown>[], pivot as PivotValues | undefined)),
      sync: (db, row, relation, targets, pivot, options) => withUniqueDetail(db, joinTableCore(core, relation), syncRows(db, core, row as Record<string, unknown>, relation, targets as readonly Record<string, unknown>[], pivot as PivotValues | undefined, options)),
      updatePivot: (db, row, relation, targets, values) => updatePivotRows(db, core, row as Record<string, unknown>, relation, targets as readonly Record<string, unknown>[], values as PivotValues),
      related: (row, relation) => relatedQuery(core, row as Record<string, unknown>, relation) as never,
      detach: (db, row, relation, targets) => detachRows(db, core, row as Record<string, unknown>, relation, targets as readonly Record<string, unknown>[] | undefined),

      whereHas: (path, modify) => relationWhere(path, modify, false) as never,
      whereDoesntHave: (path, modify) => relationWhere(path, modify, true) as never,
      has: (path, modify) => relationCondition(path, modify, false),
      doesntHave: (path, modify) => relationCondition(path, modify, true),
      whereExists: (sub) => existsWhere(sub, false) as never,
      whereNotExists: (sub) => existsWhere(sub, true) as never,
      withCount: (rel, modify, alias) => withColumn((q) => relationAggregate(q.core, rel, 'count', undefined, modify as SubModifier | undefined, alias ?? `${rel}Count`)) as never,
      withExists: (rel, modify, alias) => withColumn((q) => relationAggregate(q.core, rel, 'exists', undefined, modify as SubModifier | undefined, alias ?? `${rel}Exists`)) as never,
      withSum: (rel, field, modify, alias) => withColumn((q) => relationAggregate(q.core, rel, 'sum', field, modify as SubModifier | undefined, alias ?? `${rel}Sum${capitalize(field)}`)) as never,
      withMax: (rel, field, modify, alias) => withColumn((q) => relationAggregate(q.core, rel, 'max', field, modify as SubModifier | undefined, alias ?? `${rel}Max${capitalize(field)}`)) as never,
      withMin: (rel, field, modify, alias) => withColumn((q) => relationAggregate(q.core, rel, 'min', field, modify as SubModifier | undefined, alias ?? `${rel}Min${capitalize(field)}`)) as never,
      withAvg: (rel, field, modify, alias) => withColumn((q) => relationAggregate(q.core, rel, 'avg', field, modify as SubModifier | undefined, alias ?? `${rel}Avg${capitalize(field)}`)) as never,
      computed: (name, codec, expr) => withColumn(() => ({
        name,
        expr: isFragment(expr) ? rawExpr(expr) : expr,
        decode: aggregateDecoder(codec, `${core.table}.${name}`),
        codec,
      })) as never,
      with: (name, body) => ((q: Q) => {
      try {
        const query = subqueryOf(body, 'any')
        return Object.freeze(withFields(q, { ctes: [...(q.ctes ?? []).filter((c) => c.name !== name), { name, query }] }))
      } catch (e) {
        return failed(q, e)
      }
    }) as never,
    withRecursive: (name, body) => ((q: Q) => {
      const q2 = self.with(name, body)(q) as Q
      return q2.error !== undefined ? q2 : Object.freeze(withFields(q2, { recursive: true }))
    }) as never,
    fromCte: (name) => ((q: Q) => Object.freeze(withFields(q, { source: name }))) as never,
    groupBy: (...fields) => (q: Q) => {
        const unknown = fields.find((f) => !core.byName.has(f))
        return (unknown === undefined ? Object.freeze(withFields(q, { group: fields })) : failed(q, dbError('QueryError', `${core.table} has no field "${unknown}"`))) as never
      },
      aggregate: (db, spec) => (q: Q) => aggregateRows(db, q, spec(aggKit)) as never,
      countDistinct: (db, field) => (q: Q) => {
        const t = aggregateRows(db, withFields(q, { group: undefined, order: [], limit: undefined, offset: undefined }), { n: aggKit.countDistinct(field) })
        return () => t().then((r) => (r._tag === 'Left' ? r : right(r.right[0].n as number)))
      },

      decode: (raw) => {
        try {
          return right(core.mapper()([{ ...raw }])[0])
        } catch (e) {
          return left(isDbError(e) ? e : toDbError(e))
        }
      },
      validate: (input) => {
        const r = checkInsert(core, defaults, (input ?? {}) as Record<string, unknown>)
        return r._tag === 'Left' ? left(validationError(core.table, r.left)) : right(r.right)
      },

      core,
      definition,
    }
    return m as Model<any>
  })
}


/**
 * A query without an order ordered by primary key (what `first` and `last` read by); a query with
 * one, a grouped one or one read from a CTE as it is.
 */
const keyOrdered = <Q extends ModelQuery<any, any, any>>(q: Q): Q =>
  q.order.length > 0 || q.group !== undefined || q.source !== undefined
    ? q
    : Object.freeze(withFields(q, { order: defaultOrder(q, 'asc') }))

/** The ValidationError of a `match` holding a list (`findOrCreate`, `updateOrCreate`): there is no one value to create the row with. */
const listInMatch = (core: ModelCore, what: string, match: object): DbError | undefined => {
  const list = Object.keys(match).find((k) => Array.isArray((match as Record<string, unknown>)[k]))
  if (list === undefined) return undefined
  const message = `${core.table}.${list}: ${what} takes one value per field to create the row with, got a list`
  return dbError('ValidationError', message, { issues: [{ path: list, rule: 'single', value: (match as Record<string, unknown>)[list], message }] })
}

/** The ValidationError of a row count (`takeFirst`, `takeLast`) that is not a whole number from 0. */
const countIssue = (core: ModelCore, what: string, n: number): DbError | undefined => {
  if (Number.isSafeInteger(n) && n >= 0) return undefined
  const message = `${core.table}: ${what} takes a whole number of rows from 0, got ${show(n)}`
  return dbError('ValidationError', message, { issues: [{ path: what, rule: 'count', value: n, message }] })
}

/**
 * Define a model from an io-ts codec.
 *
 * @example
 * const Artist = model({
 *   table: 'artist',
 *   primaryKey: 'artistId',
 *   codec: t.type({ artistId: t.number, name: nullable(t.string) }),
 *   naming: snakeCase,
 *   relations: { albums: hasMany('Album', 'artistId') },
 * })
 */

/**
 * `step` on each item in order, in one transaction: the first failure rolls every item back, a
 * ValidationError naming its row (`rows.3.qty`); a failure `skip` accepts leaves its item out
 * (each step's own savepoint undid it). No items, no transaction.
 *
 * @example eachRow(db, 'items', inputs, (tx, input) => Item.upsert(tx, input, { conflict: ['sku'] }))
 */
const eachRow = <I, R>(db: Backend, table: string, items: readonly I[], step: (tx: Backend, item: I) => TaskEither<DbError, R>, skip?: (e: DbError) => boolean): TaskEither<DbError, R[]> => {
  if (items.length === 0) return () => Promise.resolve(right([]))
  return db.transaction((tx) => async () => {
    const out: R[] = []
    for (const [i, item] of items.entries()) {
      const r = await step(tx, item)()
      if (r._tag === 'Right') out.push(r.right)
      else if (skip === undefined || !skip(r.left)) return left(isDbError(r.left, 'ValidationError') ? validationError(table, prefixed(`rows.${i}.`, r.left.issues)) : r.left)
    }
    return right(out)
  })
}
export const model = <
  C extends ModelCodec,
  const PK extends (keyof t.TypeOf<C> & string) | readonly (keyof t.TypeOf<C> & string)[],
  Rels extends Readonly<Record<string, AnyRelation>> = {},
  const B extends readonly Behaviour<t.TypeOf<C>, string>[] = [],
  Sc extends object = {},
  Df extends keyof t.TypeOf<C> & string = never,
>(config: ModelConfig<C, PK, Rels, B, Sc, Df>): Model<Described<C, PK, Rels, B, Sc, Df>> =>
  build(config as unknown as Model<any>['definition']) as unknown as Model<Described<C, PK, Rels, B, Sc, Df>>

/** The models of `relate`, each knowing the others. */
export type Related<M extends Readonly<Record<string, AnyModel>>> = {
  readonly [N in keyof M & string]: Model<InGraph<TypesOf<M[N]>, M, N>>
}

/** A model's type description once it sits in graph `G` under name `N`. */
export type InGraph<D extends ModelTypes, G extends object, N extends string> = {
  readonly [K in keyof ModelTypes]: K extends 'graph' ? G : K extends 'name' ? N : D[K]
}

/**
 * Relate models to each other: relations name their targets by the keys given here. Returns
 * the models again, now able to `include` and `load` relations (nested paths are typed).
 * Throws a TypeError when a relation names a model or field that does not exist (a mistake in
 * the program, reported where the models are written).
 *
 * @example
 * export const Chinook = relate({ Artist, Album, Track, Customer, Invoice, InvoiceLine, Employee })
 * pipe(Chinook.Artist.query, Chinook.Artist.include('albums.tracks'), Chinook.Artist.all(db))
 */
export const relate = <M extends Readonly<Record<string, AnyModel>>>(models: M): Related<M> => {
  const cores: Record<string, ModelCore> = {}
  const publics: Record<string, unknown> = {}
  for (const [name, m] of Object.entries(models)) {
    const built = build(m.definition, { name, models: cores, publics })
    cores[name] = built.core
    publics[name] = built
  }
  for (const [name, core] of Object.entries(cores)) {
    for (const [rel, def] of Object.entries(core.relations)) {
      if (def.kind === 'morphTo') {
        checkMorph(core, name, rel, def)
        continue
      }
      checkOneOrder(name, rel, def, cores[def.target])
      if (isMorphInverse(def)) {
        checkMorphInverse(core, rel, def)
        continue
      }
      const target = cores[def.target]
      if (target === undefined) throw new TypeError(`${name}.${rel}: no model named "${def.target}" among ${Object.keys(cores).join(', ')}`)
      if (def.kind === 'manyToMany') continue
      if (isThrough(def)) {
        try {
          throughPlan(core, rel, def)
        } catch (e) {
          throw new TypeError(isDbError(e) ? e.message : String(e), { cause: e })
        }
        continue
      }
      if (def.kind === 'belongsTo' && def.counterCache !== undefined && !target.byName.has(def.counterCache)) {
        throw new TypeError(`${name}.${rel}: the counter cache ${def.counterCache} is no field of ${target.table}`)
      }
      if (def.kind === 'belongsTo' && def.touch === true && !hasUpdateTime(everyUpdate(target))) {
        throw new TypeError(`${name}.${rel}: touch sets the update time of ${target.table}, whose model has no timestamps()`)
      }
      const owner = def.kind === 'belongsTo' ? core : target
      const fks = fieldList(def.foreignKey)
      if (fks.length === 0) throw new TypeError(`${name}.${rel}: an empty list of foreign-key fields`)
      for (const fk of fks) if (!owner.byName.has(fk)) throw new TypeError(`${name}.${rel}: ${owner.table} has no field "${fk}"`)
    }
  }
  Object.freeze(cores)
  Object.freeze(publics)
  return publics as Related<M>
}
