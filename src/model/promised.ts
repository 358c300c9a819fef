/**
 * The Promise face of a model, for code that does not use fp-ts: the same functions, taking a
 * `Backend` or a `PromiseBackend` (`promised(db)`, a Promise transaction's `tx`), resolving to
 * the value or rejecting with the `DbError`. A row that may be absent (`find`, `findBy`, `first`)
 * is the row or `undefined` instead of an `Option`. Query transforms (`where`, `orderBy`,
 * `include`, scopes, ...) are the model's own, unchanged.
 *
 * ```ts
 * const Users = promisedModel(User)
 * const ada = await Users.create(db, { email: 'ada@example.com', name: 'Ada' })
 * const same = await Users.find(db, ada.id)                  // the row, or undefined
 * const active = await pipe(User.query, User.where('active', '=', true), Users.all(db))
 * ```
 */
import type { Option } from 'fp-ts/lib/Option.js'
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import type { Backend } from '../compose.js'
import type { DbError } from '../errors.js'
import { run, tracked, type PromiseBackend } from '../promise.js'
import type { Agg, AggKit, AggOut, Grouped } from './grouping.js'
import type { BulkKey, CreateManyOptions, Materialize, Model, ModelTypes, ModifiedLeaf, Modifier, Out, Patch, PathTree, Paths, PivotIn, PivotPatch, Simplify } from './model.js'
import type { SyncOptions, SyncResult } from './links.js'
import type { ModelQuery, WhereInput } from './query.js'
import type { BatchOptions, Page, PageSpec } from './read.js'
import type { CursorPage, CursorSpec } from './cursor.js'
import type { UpsertOptions } from './write.js'

/** Where a promised model runs: a backend, or the Promise adapter's face of one. */
export type PromiseDb = Backend | PromiseBackend

type Field<D extends ModelTypes> = keyof D['row'] & string
type Loaded<D extends ModelTypes, X, P extends string, M, T2> = Simplify<X & Materialize<D['graph'], D['name'], PathTree<P, ModifiedLeaf<M, T2>>>>
type Relation<D extends ModelTypes, F extends 'attach' | 'detach' | 'sync'> = Parameters<Model<D>[F]>[2]
type Targets<D extends ModelTypes, F extends 'attach' | 'detach' | 'sync'> = Parameters<Model<D>[F]>[3]
type Counter<D extends ModelTypes> = Parameters<Model<D>['increment']>[2]

/** A model's reads and writes as Promises (see `promisedModel`). */
export interface PromiseModel<D extends ModelTypes> {
  /** The model itself: its query, transforms and fp-ts functions. */
  readonly model: Model<D>
  /** The row with this primary key, or undefined. @example await Users.find(db, 1) */
  readonly find: (db: PromiseDb, key: D['key']) => Promise<D['row'] | undefined>
  /**
   * The row with this primary key now, or undefined, without a Promise, on a backend with a
   * synchronous path (better-sqlite3, DuckDB); throws the DbError (a ConnectionError where the
   * backend has none). @example const ada = Users.findNow(db, 1)
   */
  readonly findNow: (db: PromiseDb, key: D['key']) => D['row'] | undefined
  /** The rows of these keys, in the keys' order; rejects with NotFound naming a missing key. @example await Users.findMany(db, [3, 1]) */
  readonly findMany: (db: PromiseDb, keys: readonly D['key'][]) => Promise<D['row'][]>
  /** The rows of these values of a field (the primary key by default), as a Map from value to row. @example const byId = await Users.inBulk(db, [1, 2]) */
  readonly inBulk: {
    (db: PromiseDb, keys: readonly D['key'][]): Promise<Map<BulkKey<D['key']>, D['row']>>
    <K extends Field<D>>(db: PromiseDb, values: readonly D['row'][K][], field: K): Promise<Map<BulkKey<D['row'][K]>, D['row']>>
  }
  /** The row matching `match`, or one created from it and `extra`. @example const { row, created } = await Users.findOrCreate(db, { email }, { name: 'Ada' }) */
  readonly findOrCreate: (db: PromiseDb, match: Partial<D['row']>, extra?: Partial<D['insert']>) => Promise<{ readonly row: D['row']; readonly created: boolean }>
  /** The row matching `match` updated with `values`, or one created from both. @example const { row, created } = await Settings.updateOrCreate(db, { key: 'theme' }, { value: 'dark' }) */
  readonly updateOrCreate: (db: PromiseDb, match: Partial<D['row']>, values: Patch<D>) => Promise<{ readonly row: D['row']; readonly created: boolean }>
  /** The row with this primary key; rejects with NotFound. @example await Users.findOrFail(db, 1) */
  readonly findOrFail: (db: PromiseDb, key: D['key']) => Promise<D['row']>
  /** The first row matching a condition, or undefined. @example await Users.findBy(db, { email: 'ada@example.com' }) */
  readonly findBy: (db: PromiseDb, where: WhereInput<D['row']>) => Promise<D['row'] | undefined>
  /** The row as stored now; rejects with NotFound when it is gone. @example await Users.refresh(db, ada) */
  readonly refresh: (db: PromiseDb, row: D['row']) => Promise<D['row']>
  /** Validate, run the hooks, insert; the stored row. @example await Users.create(db, { email: 'ada@example.com', name: 'Ada' }) */
  readonly create: (db: PromiseDb, input: D['insert']) => Promise<D['row']>
  /**
   * Insert every row in one transaction: the stored rows, or with `{ returning: false }` how many.
   * @example await Users.createMany(db, [{ email: 'a@x.io', name: 'A' }, { email: 'b@x.io', name: 'B' }])
   */
  readonly createMany: {
    (db: PromiseDb, inputs: readonly D['insert'][]): Promise<D['row'][]>
    (db: PromiseDb, inputs: readonly D['insert'][], options: CreateManyOptions & { readonly returning: false }): Promise<number>
    (db: PromiseDb, inputs: readonly D['insert'][], options: CreateManyOptions & { readonly returning?: true }): Promise<D['row'][]>
  }
  /** Write the fields `patch` names; the row as stored. @example await Users.update(db, ada, { name: 'Ada Lovelace' }) */
  readonly update: (db: PromiseDb, row: D['row'], patch: Patch<D>) => Promise<D['row']>
  /** `update`, also naming the fields written. @example const { row, changed } = await Users.updateChanges(db, ada, { name: 'Ada' }) */
  readonly updateChanges: (db: PromiseDb, row: D['row'], patch: Patch<D>) => Promise<{ readonly row: D['row']; readonly changed: readonly Field<D>[] }>
  /** One UPDATE of every matching row; the count. @example await Users.updateWhere(db, { active: false }, { name: 'gone' }) */
  readonly updateWhere: (db: PromiseDb, where: WhereInput<D['row']>, patch: Patch<D>) => Promise<number>
  /** Write the named fields of each row as it holds them, in one transaction; the stored rows. @example await Posts.updateMany(db, posts, ['rank']) */
  readonly updateMany: (db: PromiseDb, rows: readonly D['row'][], fields: readonly (keyof Patch<D> & string)[]) => Promise<D['row'][]>
  /** Delete a row (soft with `softDelete`, unless `force`); the row as it is left. @example await Users.delete(db, ada) */
  readonly delete: (db: PromiseDb, row: D['row'], options?: { readonly force?: boolean }) => Promise<D['row']>
  /** One DELETE of every matching row; the count. @example await Users.deleteWhere(db, { active: false }) */
  readonly deleteWhere: (db: PromiseDb, where: WhereInput<D['row']>) => Promise<number>
  /** Insert, or update the row with the same unique key. @example await Items.upsert(db, { sku: 'A-1', qty: 3 }, { conflict: ['sku'], update: ['qty'] }) */
  readonly upsert: (db: PromiseDb, input: D['insert'], options?: UpsertOptions<Field<D>>) => Promise<D['row']>
  /** `upsert` of every row, in one transaction; the stored rows. @example await Items.upsertMany(db, [{ sku: 'A-1', qty: 3 }], { conflict: ['sku'] }) */
  readonly upsertMany: (db: PromiseDb, inputs: readonly D['insert'][], options?: UpsertOptions<Field<D>>) => Promise<D['row'][]>
  /** Undo a soft delete; the row as stored. @example await Posts.restore(db, post) */
  readonly restore: D['restore'] extends true ? (db: PromiseDb, row: D['row']) => Promise<D['row']> : never
  /** Link a row to targets through a manyToMany relation; how many links were written. @example await Articles.attach(db, article, 'tags', [dragons]) */
  readonly attach: <P extends Relation<D, 'attach'>>(db: PromiseDb, row: D['row'], relation: P, targets: Targets<D, 'attach'>, pivot?: PivotIn<D, P>) => Promise<number>
  /** Unlink a row from targets (all of them when omitted); how many links went. @example await Users.detach(db, me, 'favorites') */
  readonly detach: (db: PromiseDb, row: D['row'], relation: Relation<D, 'detach'>, targets?: Targets<D, 'detach'>) => Promise<number>
  /** Make a row's links through a manyToMany relation exactly `targets`. @example await Articles.sync(db, article, 'tags', [dragons]) // { attached, detached } */
  readonly sync: <P extends Relation<D, 'sync'>>(db: PromiseDb, row: D['row'], relation: P, targets: Targets<D, 'sync'>, pivot?: PivotIn<D, P>, options?: SyncOptions) => Promise<SyncResult>
  /** Set join-row values of existing links; how many links were written. @example await Teams.updatePivot(db, team, 'members', [ada], { rank: 2 }) */
  readonly updatePivot: <P extends Relation<D, 'sync'>>(db: PromiseDb, row: D['row'], relation: P, targets: Targets<D, 'sync'>, values: PivotPatch<D, P>) => Promise<number>
  /** Add to a numeric field in the database, atomically; the row as stored. @example await Posts.increment(db, post, 'views') */
  readonly increment: <K extends Counter<D>>(db: PromiseDb, row: D['row'], field: K, by?: D['row'][K]) => Promise<D['row']>
  /** `increment` by `-by`. @example await Items.decrement(db, item, 'stock', 2) */
  readonly decrement: <K extends Counter<D>>(db: PromiseDb, row: D['row'], field: K, by?: D['row'][K]) => Promise<D['row']>
  /** Add to a numeric field of every matching row, in one statement; the count. @example await Posts.incrementWhere(db, { authorId: 7 }, 'views') */
  readonly incrementWhere: <K extends Counter<D>>(db: PromiseDb, where: WhereInput<D['row']>, field: K, by?: D['row'][K]) => Promise<number>
  /** `incrementWhere` by `-by`. @example await Items.decrementWhere(db, { sku: 'A-1' }, 'stock', 2) */
  readonly decrementWhere: <K extends Counter<D>>(db: PromiseDb, where: WhereInput<D['row']>, field: K, by?: D['row'][K]) => Promise<number>
  /** Set the row's update time and the time fields named to now; the row as stored. @example await Posts.touch(db, post) */
  readonly touch: (db: PromiseDb, row: D['row'], ...fields: Parameters<Model<D>['touch']>[2][]) => Promise<D['row']>
  /** Load a relation path for one row or a list (new rows are returned). @example await Albums.load(db, album, 'tracks.genre') */
  readonly load: {
    <P extends Paths<D['graph'], D['name']>, X extends D['row'], M = never, T2 = {}>(db: PromiseDb, row: X, path: P, modify?: Modifier<D, P, M, T2>): Promise<Loaded<D, X, P, M, T2>>
    <P extends Paths<D['graph'], D['name']>, X extends D['row'], M = never, T2 = {}>(db: PromiseDb, rows: readonly X[], path: P, modify?: Modifier<D, P, M, T2>): Promise<Loaded<D, X, P, M, T2>[]>
  }

  // ---- the ends of a query pipeline: `pipe(User.query, User.where(...), Users.all(db))`
  /** Every row of the query. @example await pipe(User.query, User.orderBy('name'), Users.all(db)) */
  readonly all: (db: PromiseDb) => <S, T>(q: ModelQuery<D['row'], S, T>) => Promise<Out<D, S, T>[]>
  /** The first row of the query, or undefined. @example await pipe(User.query, User.orderBy('id', 'desc'), Users.first(db)) */
  readonly first: (db: PromiseDb) => <S, T>(q: ModelQuery<D['row'], S, T>) => Promise<Out<D, S, T> | undefined>
  /** The last row of the query (its order reversed, or the greatest key), or undefined. @example await pipe(User.query, User.orderBy('createdAt'), Users.last(db)) */
  readonly last: (db: PromiseDb) => <S, T>(q: ModelQuery<D['row'], S, T>) => Promise<Out<D, S, T> | undefined>
  /** The first row of the query; rejects with NotFound. @example await pipe(User.query, User.where({ email }), Users.firstOrFail(db)) */
  readonly firstOrFail: (db: PromiseDb) => <S, T>(q: ModelQuery<D['row'], S, T>) => Promise<Out<D, S, T>>
  /** The only row of the query; rejects with NotFound for none, QueryError for more. @example await pipe(User.query, User.where({ email }), Users.sole(db)) */
  readonly sole: (db: PromiseDb) => <S, T>(q: ModelQuery<D['row'], S, T>) => Promise<Out<D, S, T>>
  /** The first `n` rows of the query. @example await pipe(User.query, User.orderBy('id'), Users.takeFirst(db, 3)) */
  readonly takeFirst: (db: PromiseDb, n: number) => <S, T>(q: ModelQuery<D['row'], S, T>) => Promise<Out<D, S, T>[]>
  /** The last `n` rows of the query, in its order. @example await pipe(User.query, User.orderBy('id'), Users.takeLast(db, 3)) */
  readonly takeLast: (db: PromiseDb, n: number) => <S, T>(q: ModelQuery<D['row'], S, T>) => Promise<Out<D, S, T>[]>
  /** Several fields of every row, as tuples. @example await pipe(User.query, Users.pluckMany(db, 'id', 'email')) */
  readonly pluckMany: <const K extends readonly (keyof D['row'] & string)[]>(db: PromiseDb, ...fields: K) => (q: ModelQuery<D['row'], any, any>) => Promise<{ -readonly [I in keyof K]: D['row'][K[I]] }[]>
  /** How many rows match. @example await pipe(User.query, Users.count(db)) */
  readonly count: (db: PromiseDb) => (q: ModelQuery<D['row'], any, any>) => Promise<number>
  /** Whether any row matches. @example await pipe(User.query, User.where('email', '=', e), Users.exists(db)) */
  readonly exists: (db: PromiseDb) => (q: ModelQuery<D['row'], any, any>) => Promise<boolean>
  /** SUM of a field, null without rows. @example await pipe(Invoice.query, Invoices.sum(db, 'total')) */
  readonly sum: <K extends Field<D>>(db: PromiseDb, field: K) => (q: ModelQuery<D['row'], any, any>) => Promise<D['row'][K] | null>
  /** AVG of a field, null without rows. @example await pipe(Invoice.query, Invoices.avg(db, 'total')) */
  readonly avg: (db: PromiseDb, field: Field<D>) => (q: ModelQuery<D['row'], any, any>) => Promise<number | null>
  /** MIN of a field, null without rows. @example await pipe(Invoice.query, Invoices.min(db, 'total')) */
  readonly min: <K extends Field<D>>(db: PromiseDb, field: K) => (q: ModelQuery<D['row'], any, any>) => Promise<D['row'][K] | null>
  /** MAX of a field, null without rows. @example await pipe(Invoice.query, Invoices.max(db, 'total')) */
  readonly max: <K extends Field<D>>(db: PromiseDb, field: K) => (q: ModelQuery<D['row'], any, any>) => Promise<D['row'][K] | null>
  /**
   * One field, or a column the query computes (`withCount`, `computed`), of every row.
   * @example await pipe(User.query, Users.pluck(db, 'email'))
   * @example await pipe(User.query, User.withCount('posts'), User.orderBy('postsCount', 'desc'), Users.pluck(db, 'postsCount'))
   */
  readonly pluck: {
    <K extends Field<D>>(db: PromiseDb, field: K): (q: ModelQuery<D['row'], any, any>) => Promise<D['row'][K][]>
    <N extends string>(db: PromiseDb, column: N): <S extends { readonly [K in N]: unknown }>(q: ModelQuery<D['row'], S, any>) => Promise<S[N][]>
  }
  /**
   * One field, or a computed column, of the query's first row, or undefined when no row matches.
   * @example await pipe(User.query, User.where({ email }), Users.pick(db, 'id'))
   */
  readonly pick: {
    <K extends Field<D>>(db: PromiseDb, field: K): (q: ModelQuery<D['row'], any, any>) => Promise<D['row'][K] | undefined>
    <N extends string>(db: PromiseDb, column: N): <S extends { readonly [K in N]: unknown }>(q: ModelQuery<D['row'], S, any>) => Promise<S[N] | undefined>
  }
  /** One page of rows and the total. @example await pipe(User.query, User.orderBy('id'), Users.paginate(db, { page: 2, perPage: 20 })) */
  readonly paginate: (db: PromiseDb, page: PageSpec) => <S, T>(q: ModelQuery<D['row'], S, T>) => Promise<Page<Out<D, S, T>>>
  /** A cursor (keyset) page and the next page's cursor. @example await pipe(Task.query, Task.orderBy('createdAt', 'desc'), Tasks.cursorPaginate(db, { perPage: 20, cursor })) */
  readonly cursorPaginate: (db: PromiseDb, page: CursorSpec) => <S, T>(q: ModelQuery<D['row'], S, T>) => Promise<CursorPage<Out<D, S, T>>>
  /** Aggregates per group (or of the whole query). @example await pipe(Invoice.query, Invoice.groupBy('country'), Invoices.aggregate(db, (a) => ({ n: a.count() }))) */
  readonly aggregate: <A extends Readonly<Record<string, Agg<unknown>>>>(db: PromiseDb, spec: (a: AggKit<D['row']>) => A) => <S>(q: ModelQuery<D['row'], S, any>) => Promise<Simplify<GroupOf<S> & AggOut<A>>[]>
  /** COUNT(DISTINCT field). @example await pipe(Invoice.query, Invoices.countDistinct(db, 'customerId')) */
  readonly countDistinct: (db: PromiseDb, field: Field<D>) => (q: ModelQuery<D['row'], any, any>) => Promise<number>
  /** The rows in batches, read by key order. @example for await (const batch of pipe(User.query, Users.batches(db, { size: 500 }))) ... */
  readonly batches: (db: PromiseDb, options?: BatchOptions) => <S, T>(q: ModelQuery<D['row'], S, T>) => AsyncIterable<Out<D, S, T>[]>
  /** The rows one by one, read in batches. @example for await (const user of pipe(User.query, Users.each(db))) ... */
  readonly each: (db: PromiseDb, options?: BatchOptions) => <S, T>(q: ModelQuery<D['row'], S, T>) => AsyncIterable<Out<D, S, T>>
}

type GroupOf<S> = S extends Grouped<infer G> ? G : {}

/** The backend of a `PromiseDb`. */
const backendOf = (db: PromiseDb): Backend => ('compile' in db ? db : db.backend)

const optional = <A>(o: Option<A>): A | undefined => (o._tag === 'Some' ? o.value : undefined)

type Fn = (...args: any[]) => any
type Task = TaskEither<DbError, unknown>

/**
 * A model's reads and writes as Promise functions (see `PromiseModel`). Each call goes to the
 * model's function of the same name when it is made, so an `extend`ed model is followed.
 *
 * @example
 * const Users = promisedModel(Blog.User)
 * const ada = await Users.create(db, { email: 'ada@example.com', name: 'Ada' })
 * const maybe = await Users.find(db, 99) // undefined
 * await promised(db).transaction(async (tx) => { await Users.update(tx, ada, { name: 'Ada L.' }) })
 */
export const promisedModel = <D extends ModelTypes>(model: Model<D>): PromiseModel<D> => {
  const m = model as unknown as Record<string, Fn>
  const direct = (name: string, absent = false) => (db: PromiseDb, ...args: unknown[]) => {
    const done = run(m[name](backendOf(db), ...args) as Task)
    return tracked(db, absent ? done.then((o) => optional(o as Option<unknown>)) : done)
  }
  const ending = (name: string, absent = false) => (db: PromiseDb, ...args: unknown[]) => {
    const end = m[name](backendOf(db), ...args) as (q: unknown) => Task
    return (q: unknown) => {
      const done = run(end(q))
      return tracked(db, absent ? done.then((o) => optional(o as Option<unknown>)) : done)
    }
  }
  const streaming = (name: string) => (db: PromiseDb, ...args: unknown[]) => m[name](backendOf(db), ...args) as unknown
  const face: Record<string, unknown> = { model }
  for (const name of ['findOrFail', 'findMany', 'inBulk', 'findOrCreate', 'updateOrCreate', 'refresh', 'create', 'createMany', 'update', 'updateChanges', 'updateWhere', 'updateMany', 'delete', 'deleteWhere', 'upsert', 'upsertMany', 'restore', 'attach', 'detach', 'sync', 'updatePivot', 'increment', 'decrement', 'incrementWhere', 'decrementWhere', 'touch', 'load']) face[name] = direct(name)
  for (const name of ['find', 'findBy']) face[name] = direct(name, true)
  for (const name of ['all', 'firstOrFail', 'sole', 'takeFirst', 'takeLast', 'pluckMany', 'count', 'exists', 'sum', 'avg', 'min', 'max', 'pluck', 'paginate', 'cursorPaginate', 'aggregate', 'countDistinct']) face[name] = ending(name)
  face.findNow = (db: PromiseDb, key: unknown) => {
    const r = (m.findNow(backendOf(db), key) as () => { _tag: 'Left'; left: DbError } | { _tag: 'Right'; right: Option<unknown> })()
    if (r._tag === 'Left') throw r.left
    return optional(r.right)
  }
  face.first = ending('first', true)
  face.pick = ending('pick', true)
  face.last = ending('last', true)
  for (const name of ['batches', 'each']) face[name] = streaming(name)
  return Object.freeze(face) as unknown as PromiseModel<D>
}

/** `promisedModel` of every model of a record (what `relate` returns). */
export type PromiseModels<M> = { readonly [K in keyof M]: M[K] extends Model<infer D> ? PromiseModel<D> : never }

/**
 * Every model of a record (what `relate` returns) with its Promise face.
 *
 * @example
 * const Blog = relate({ User, Post })
 * const P = promisedModels(Blog)
 * const posts = await pipe(Blog.Post.query, Blog.Post.include('author'), P.Post.all(db))
 */
export const promisedModels = <M extends Readonly<Record<string, Model<any>>>>(models: M): PromiseModels<M> =>
  Object.freeze(Object.fromEntries(Object.entries(models).map(([k, v]) => [k, promisedModel(v)]))) as PromiseModels<M>
