/**
 * Behaviours: records of hook functions a model lists in `behaviours`. They compose by
 * listing: hooks run in the order the behaviours are listed, then the model's own `hooks`.
 * Nothing is discovered and nothing is inherited.
 *
 * A hook receives the values (or the row) and a context, and returns a TaskEither of the
 * values to go on with: it may change them, or fail with a DbError (use `hookError`) to abort
 * the operation; writes that run several statements run in a transaction, so an abort rolls
 * back what was written.
 *
 * Row operations (create, createMany, update, delete, upsert) run the hooks; `restore` runs
 * its own two (`beforeRestore`, `afterRestore`), as Sequelize and Rails' paranoia do, and not
 * the update hooks. The set operations (`updateWhere`, `deleteWhere`) run no row hooks;
 * behaviours still shape them and `restore` through `updateAll`, `deleteAs`, `restoreAs` and
 * `scope`, so timestamps, version counters and soft deletion hold for them too.
 *
 * A default scope (`scope`) holds for writes as for reads: `update`, `delete`, `updateWhere`
 * and `deleteWhere` reach only the rows it shows (a row it hides is NotFound to `update` and
 * `delete`); `delete(db, row, { force: true })` and `restore` reach the row by its key alone.
 */
import { randomUUID } from 'node:crypto'
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import type { Expr } from '../ast.js'
import type { Backend } from '../compose.js'
import { dbError, type DbError, type HookError } from '../errors.js'
import { add, eq, isNotNull, isNull, val } from '../query.js'
import { isEither } from '../fp.js'
import { withFields } from '../objects.js'
import type { UniqueRule } from './uniqueness.js'

/** What a hook knows about the operation it runs in. */
export interface HookContext<R = Record<string, unknown>> {
  /** The backend the operation runs on (inside the operation's transaction, if any). */
  readonly db: Backend
  readonly table: string
  readonly op: 'insert' | 'update' | 'delete' | 'upsert' | 'restore'
  /** The stored row, for a row-level update, delete or restore. */
  readonly row?: R
}

/**
 * A model's own lifecycle hooks (`model({ hooks })`). Each returns a TaskEither of the values
 * to go on with; a Left aborts the operation.
 */
export interface Hooks<R, I = Partial<R>> {
  /** Before the input is decoded: create input, or an update's patch. */
  readonly beforeValidate?: (values: Partial<R>, ctx: HookContext<R>) => TaskEither<DbError, Partial<R>>
  /** After the input decoded and passed the validators. */
  readonly afterValidate?: (values: Partial<R>, ctx: HookContext<R>) => TaskEither<DbError, Partial<R>>
  /**
   * Before an INSERT or a row's UPDATE (`create`, `createMany`, `upsert`, `update`), after
   * validation and before `beforeInsert` / `beforeUpdate` (Rails' `before_save`, Django's
   * `pre_save`): the values to insert, or the patch (`ctx.op` says which).
   */
  readonly beforeSave?: (values: Partial<R>, ctx: HookContext<R>) => TaskEither<DbError, Partial<R>>
  /** After an INSERT or a row's UPDATE, after `afterInsert` / `afterUpdate`, in the same transaction (Rails' `after_save`, Django's `post_save`): the stored row. */
  readonly afterSave?: (row: R, ctx: HookContext<R>) => TaskEither<DbError, R>
  /** Just before the INSERT: the validated values. */
  readonly beforeInsert?: (values: I, ctx: HookContext<R>) => TaskEither<DbError, I>
  /** After the INSERT, in the same transaction: the stored row. */
  readonly afterInsert?: (row: R, ctx: HookContext<R>) => TaskEither<DbError, R>
  /** Just before a row's UPDATE: the patch (`ctx.row` is the stored row). */
  readonly beforeUpdate?: (patch: Partial<R>, ctx: HookContext<R>) => TaskEither<DbError, Partial<R>>
  /** After a row's UPDATE, in the same transaction: the updated row. */
  readonly afterUpdate?: (row: R, ctx: HookContext<R>) => TaskEither<DbError, R>
  /** Before a row's DELETE. */
  readonly beforeDelete?: (row: R, ctx: HookContext<R>) => TaskEither<DbError, R>
  /** After a row's DELETE, in the same transaction. */
  readonly afterDelete?: (row: R, ctx: HookContext<R>) => TaskEither<DbError, R>
  /** Before `restore` undoes a soft delete: the row given (a Left refuses the restore, nothing written). */
  readonly beforeRestore?: (row: R, ctx: HookContext<R>) => TaskEither<DbError, R>
  /** After `restore`, in the same transaction: the row as stored. */
  readonly afterRestore?: (row: R, ctx: HookContext<R>) => TaskEither<DbError, R>
  /**
   * Once the write is committed (`afterCommit`): after a row's create, update, upsert, delete
   * or restore, with the row as the write returns it and `ctx.op`. Inside the caller's
   * transaction it is queued on that transaction and runs after its COMMIT (dropped if it, or
   * the savepoint the write ran in, rolls back); outside one, once the write's own statements
   * are done. A Left (or a throw) does not undo the write: the write's answer becomes a
   * TransactionError with `committed: true` (see `afterCommit`). `ctx.db` is the backend the
   * write was called with: a transaction's handle refuses calls once it ended, so do database
   * work here on a backend of your own. Runs for each row of `createMany` and `upsertMany`.
   *
   * @example
   * afterCommit: (row) => pipe(TE.fromTask(() => mailer.welcome(row.email)), TE.map(() => row))
   */
  readonly afterCommit?: (row: R, ctx: HookContext<R>) => TaskEither<DbError, R>
}

/** Query switches read by default scopes, set by `withDeleted` / `onlyDeleted`. */
export type QueryOptions = Readonly<Record<string, string>>

/** A column reference for a field of the model a behaviour is attached to. */
export type ColumnOf = (field: string) => Expr

/**
 * A reusable behaviour. `Need` is the part of the row it works on (a model whose row lacks
 * it does not compile); `Fills` are the fields it fills, which become optional in `create`.
 * Its hooks are generic so that they keep the whole row they are given.
 */
export interface Behaviour<Need = {}, Fills extends string = never> {
  readonly name: string
  /** Fields this behaviour fills on insert (optional in create input). */
  readonly fills?: readonly Fills[]
  /** Fields an upsert that updates never takes from the proposed row (creation time; the version, which `updateAll` bumps). */
  readonly insertOnly?: readonly string[]
  readonly beforeValidate?: <X extends Partial<Need>>(values: X, ctx: HookContext<Need>) => TaskEither<DbError, X>
  readonly afterValidate?: <X extends Partial<Need>>(values: X, ctx: HookContext<Need>) => TaskEither<DbError, X>
  readonly beforeSave?: <X extends Partial<Need>>(values: X, ctx: HookContext<Need>) => TaskEither<DbError, X>
  readonly afterSave?: <X extends Need>(row: X, ctx: HookContext<Need>) => TaskEither<DbError, X>
  readonly beforeInsert?: <X extends Partial<Need>>(values: X, ctx: HookContext<Need>) => TaskEither<DbError, X>
  readonly afterInsert?: <X extends Need>(row: X, ctx: HookContext<Need>) => TaskEither<DbError, X>
  readonly beforeUpdate?: <X extends Partial<Need>>(patch: X, ctx: HookContext<Need>) => TaskEither<DbError, X>
  readonly afterUpdate?: <X extends Need>(row: X, ctx: HookContext<Need>) => TaskEither<DbError, X>
  readonly beforeDelete?: <X extends Need>(row: X, ctx: HookContext<Need>) => TaskEither<DbError, X>
  readonly afterDelete?: <X extends Need>(row: X, ctx: HookContext<Need>) => TaskEither<DbError, X>
  readonly beforeRestore?: <X extends Need>(row: X, ctx: HookContext<Need>) => TaskEither<DbError, X>
  readonly afterRestore?: <X extends Need>(row: X, ctx: HookContext<Need>) => TaskEither<DbError, X>
  /** Once the write is committed (see `Hooks.afterCommit`). */
  readonly afterCommit?: <X extends Need>(row: X, ctx: HookContext<Need>) => TaskEither<DbError, X>
  /**
   * A condition added to every query of the model (a default scope), given the query's switches;
   * with no switches (`{}`) to its updates and deletes as well, row by row and set-based.
   */
  readonly scope?: (options: QueryOptions, column: ColumnOf) => Expr | undefined
  /** A condition a row-level UPDATE or DELETE must also meet: a row the scopes show that it refuses is a ConflictError (a row they hide, or one gone, is NotFound). */
  readonly guard?: (row: Need, column: ColumnOf) => Expr | undefined
  /** Assignments added to set-based updates (`updateWhere`) and to an upsert that updates: values or expressions by field. */
  readonly updateAll?: (column: ColumnOf) => Readonly<Record<string, unknown>>
  /** Turns deletes into this update (soft deletion). */
  readonly deleteAs?: () => Partial<Need>
  /** What `restore` writes (undoes `deleteAs`). */
  readonly restoreAs?: () => Partial<Need>
  /** A uniqueness rule checked before create, createMany and update write (see `unique`). */
  readonly unique?: UniqueRule
  /** Type-level only: the row this behaviour needs. */
  readonly __need?: (row: Need) => void
}

/** Any behaviour, as the runtime sees it. */
export interface AnyBehaviour {
  readonly name: string
  readonly fills?: readonly string[]
  readonly insertOnly?: readonly string[]
  readonly beforeValidate?: RuntimeHook
  readonly afterValidate?: RuntimeHook
  readonly beforeSave?: RuntimeHook
  readonly afterSave?: RuntimeHook
  readonly beforeInsert?: RuntimeHook
  readonly afterInsert?: RuntimeHook
  readonly beforeUpdate?: RuntimeHook
  readonly afterUpdate?: RuntimeHook
  readonly beforeDelete?: RuntimeHook
  readonly afterDelete?: RuntimeHook
  readonly beforeRestore?: RuntimeHook
  readonly afterRestore?: RuntimeHook
  readonly afterCommit?: RuntimeHook
  readonly scope?: (options: QueryOptions, column: ColumnOf) => Expr | undefined
  readonly guard?: (row: Record<string, unknown>, column: ColumnOf) => Expr | undefined
  readonly updateAll?: (column: ColumnOf) => Readonly<Record<string, unknown>>
  readonly deleteAs?: () => Record<string, unknown>
  readonly restoreAs?: () => Record<string, unknown>
  readonly unique?: UniqueRule
}

/** Every hook name, in lifecycle order. */
export type HookName = 'beforeValidate' | 'afterValidate' | 'beforeSave' | 'beforeInsert' | 'afterInsert' | 'beforeUpdate' | 'afterUpdate' | 'afterSave' | 'beforeDelete' | 'afterDelete' | 'beforeRestore' | 'afterRestore' | 'afterCommit'

type RuntimeHook = (value: Record<string, unknown>, ctx: HookContext) => TaskEither<DbError, Record<string, unknown>>

const right = <A>(a: A): TaskEither<DbError, A> => () => Promise.resolve({ _tag: 'Right', right: a })

/**
 * The error a hook returns to refuse an operation.
 *
 * @example
 * beforeDelete: (row) => row.locked ? TE.left(hookError('beforeDelete', 'locked rows stay')) : TE.right(row)
 */
export const hookError = (hook: string, message: string, cause?: unknown): HookError =>
  dbError('HookError', `${hook}: ${message}`, cause === undefined ? { hook } : { hook, cause }) as HookError

/**
 * Run one hook of every behaviour in order, each on the previous one's result.
 *
 * @example
 * runHooks(core.behaviours, 'beforeInsert', values, ctx)
 */
export const runHooks = (
  behaviours: readonly AnyBehaviour[],
  hook: HookName,
  value: Record<string, unknown>,
  ctx: HookContext,
): TaskEither<DbError, Record<string, unknown>> => {
  const listed = behaviours.filter((b) => b[hook] !== undefined)
  if (listed.length === 0) return right(value)
  return async () => {
    let v = value
    for (const b of listed) {
      let r: unknown
      try {
        const task: unknown = b[hook]!(v, ctx)
        if (typeof task !== 'function') {
          // A Promise nobody awaits must not reject unhandled.
          if (isThenable(task)) Promise.resolve(task).catch(() => undefined)
          return { _tag: 'Left', left: notATaskEither(hook, b.name, ctx, `returned ${describeValue(task)}`) }
        }
        r = await (task as () => unknown)()
      } catch (e) {
        return { _tag: 'Left', left: hookError(hook, e instanceof Error ? e.message : String(e), e) }
      }
      if (!isEither(r)) return { _tag: 'Left', left: notATaskEither(hook, b.name, ctx, `returned a function whose result was ${describeValue(r)}, not an Either`) }
      if (r._tag === 'Left') return r as { _tag: 'Left'; left: DbError }
      v = r.right as Record<string, unknown>
    }
    return { _tag: 'Right', right: v }
  }
}

const isThenable = (x: unknown): x is PromiseLike<unknown> =>
  (typeof x === 'object' || typeof x === 'function') && x !== null && typeof (x as { then?: unknown }).then === 'function'

/** A value as an error message shows it: its kind, and a short text of it. */
const describeValue = (x: unknown): string => {
  if (x === undefined) return 'undefined'
  if (x === null) return 'null'
  if (isThenable(x)) return 'a Promise'
  if (typeof x === 'function') return 'a function'
  if (typeof x === 'string') return `the string ${JSON.stringify(x.length > 40 ? `${x.slice(0, 40)}...` : x)}`
  if (typeof x !== 'object') return `the ${typeof x} ${String(x)}`
  if (Array.isArray(x)) return `an array of ${x.length}`
  const keys = Object.keys(x)
  return `an object with ${keys.length === 0 ? 'no fields' : `fields ${keys.slice(0, 5).join(', ')}${keys.length > 5 ? ', ...' : ''}`}`
}

/** The HookError of a hook that did not return a TaskEither: nothing of the operation is written. */
const notATaskEither = (hook: HookName, behaviour: string, ctx: HookContext, what: string): HookError =>
  hookError(
    hook,
    `the ${behaviour === 'hooks' ? 'own hook' : `hook of behaviour ${behaviour}`} of the model of table ${ctx.table} ${what}; a hook must return a TaskEither of the values to go on with (TE.right(value)) or of a DbError (TE.left(hookError(...)))`,
  )

/** Whether any behaviour has the hook. */
export const hasHook = (behaviours: readonly AnyBehaviour[], hook: HookName): boolean => behaviours.some((b) => b[hook] !== undefined)

/** A model's own `hooks` as a behaviour (listed last). */
export const hooksBehaviour = (hooks: object): AnyBehaviour => ({ name: 'hooks', ...(hooks as Partial<AnyBehaviour>) })

// ---------------------------------------------------------------- built-in behaviours

/**
 * Creation and update times (UTC `Date`s): `createdAt` and `updatedAt` are set on insert,
 * `updatedAt` on every update (set-based ones, and upserts that update, too). Both are optional
 * in `create` input, and kept when given; so is an `updatedAt` an `update` patch sets to another
 * time than the row's (as Rails and Laravel keep one set by hand). `updatedAt: false` keeps a
 * creation time alone, for rows that have no update time (a comment, a log line: Django's
 * `auto_now_add`, Laravel's `UPDATED_AT = null`).
 *
 * @example
 * model({ ..., behaviours: [timestamps()] })
 * model({ ..., behaviours: [timestamps({ createdAt: 'created', updatedAt: 'modified' })] })
 * model({ ..., behaviours: [timestamps({ updatedAt: false })] }) // createdAt only
 */
export const timestamps = <C extends string = 'createdAt', U extends string | false = 'updatedAt'>(options?: {
  readonly createdAt?: C
  readonly updatedAt?: U
  /** The clock (tests pin it). */
  readonly now?: () => Date
}): Behaviour<NoInfer<Record<C | Exclude<U, false>, Date>>, NoInfer<C | Exclude<U, false>>> => {
  const c = (options?.createdAt ?? 'createdAt') as C
  const u = (options?.updatedAt ?? 'updatedAt') as Exclude<U, false> | false
  const now = options?.now ?? (() => new Date())
  if (u === false) {
    return Object.freeze({
      name: 'timestamps',
      fills: [c],
      insertOnly: [c],
      beforeInsert: <X>(values: X) => right({ ...values, [c]: (values as Record<string, unknown>)[c] ?? now() } as X),
    }) as never
  }
  return Object.freeze({
    name: 'timestamps',
    fills: [c, u],
    insertOnly: [c],
    beforeInsert: <X>(values: X) => {
      const at = now()
      const v = values as Record<string, unknown>
      return right({ ...values, [c]: v[c] ?? at, [u]: v[u] ?? at } as X)
    },
    // An update time the patch sets is kept (as Rails and Laravel keep one set by hand), unless it
    // is the one the row was read with (a whole row spread into the patch): that one is refreshed.
    beforeUpdate: <X>(patch: X, ctx: HookContext<Record<string, Date>>) => {
      const given = (patch as Record<string, unknown>)[u]
      const read = ctx.row?.[u]
      const kept = given instanceof Date && !(read instanceof Date && read.getTime() === given.getTime())
      return right(kept ? patch : ({ ...patch, [u]: now() } as X))
    },
    updateAll: () => ({ [u]: now() }),
  }) as never
}

/**
 * Soft deletion: `delete` and `deleteWhere` set `deletedAt` instead of removing the row; every
 * query excludes deleted rows unless it says `withDeleted` or `onlyDeleted`, and so do writes:
 * `update` and `delete` of a deleted row are NotFound, `updateWhere` and `deleteWhere` pass it
 * by; `restore` clears the mark; `delete(db, row, { force: true })` really deletes, deleted or not.
 *
 * @example
 * const Post = model({ ..., codec: t.type({ id: t.number, deletedAt: nullable(date) }), behaviours: [softDelete()] })
 * pipe(Post.query, withDeleted, Post.all(db))
 */
export const softDelete = <F extends string = 'deletedAt'>(options?: {
  readonly field?: F
  readonly now?: () => Date
}): Behaviour<NoInfer<Record<F, Date | null>>> & { readonly restoreAs: () => NoInfer<Record<F, Date | null>> } => {
  const f = (options?.field ?? 'deletedAt') as F
  const now = options?.now ?? (() => new Date())
  const behaviour: AnyBehaviour = {
    name: 'softDelete',
    scope: (o: QueryOptions, column: ColumnOf) =>
      o.deleted === 'include' ? undefined : o.deleted === 'only' ? isNotNull(column(f)) : isNull(column(f)),
    deleteAs: () => ({ [f]: now() }),
    restoreAs: () => ({ [f]: null }),
  }
  return Object.freeze(behaviour) as never
}

/**
 * Optimistic locking: a `version` counter starts at 1, every update increments it and
 * requires the version the row was read with; an update or delete of a stale row fails with
 * ConflictError and writes nothing.
 *
 * @example
 * model({ ..., behaviours: [optimisticLock()] })
 */
export const optimisticLock = <F extends string = 'version'>(options?: { readonly field?: F }): Behaviour<NoInfer<Record<F, number>>, NoInfer<F>> => {
  const f = (options?.field ?? 'version') as F
  return Object.freeze({
    name: 'optimisticLock',
    fills: [f],
    insertOnly: [f],
    beforeInsert: <X>(values: X) => right({ ...values, [f]: (values as Record<string, unknown>)[f] ?? 1 } as X),
    beforeUpdate: <X>(patch: X, ctx: HookContext<Record<F, number>>) =>
      right(ctx.row === undefined ? patch : ({ ...patch, [f]: ctx.row[f] + 1 } as X)),
    guard: (row: Record<F, number>, column: ColumnOf) => eq(column(f), row[f]),
    updateAll: (column: ColumnOf) => ({ [f]: add(column(f), val(1)) }),
  })
}

/**
 * A UUID primary key generated on insert when the input has none (optional in `create`).
 *
 * @example
 * model({ table: 'sessions', primaryKey: 'id', codec: t.type({ id: uuid, ... }), behaviours: [uuidPrimaryKey()] })
 */
export const uuidPrimaryKey = <F extends string = 'id'>(options?: {
  readonly field?: F
  readonly generate?: () => string
}): Behaviour<NoInfer<Record<F, string>>, NoInfer<F>> => {
  const f = (options?.field ?? 'id') as F
  const generate = options?.generate ?? randomUUID
  return Object.freeze({
    name: 'uuidPrimaryKey',
    fills: [f],
    beforeInsert: <X>(values: X) => right((values as Record<string, unknown>)[f] === undefined ? ({ ...values, [f]: generate() } as X) : values),
  })
}

/**
 * Show every row, soft-deleted ones included.
 * @example pipe(Post.query, withDeleted, Post.all(db))
 */
export const withDeleted = <Q extends { readonly options: QueryOptions }>(q: Q): Q => Object.freeze(withFields(q, { options: { ...q.options, deleted: 'include' } }))

/**
 * Show only soft-deleted rows.
 * @example pipe(Post.query, onlyDeleted, Post.count(db))
 */
export const onlyDeleted = <Q extends { readonly options: QueryOptions }>(q: Q): Q => Object.freeze(withFields(q, { options: { ...q.options, deleted: 'only' } }))

/**
 * A uniqueness rule, as Rails' `validates :email, uniqueness: true`: before `create`,
 * `createMany` and `update` write, a row whose `field` holds a value another row holds already
 * (among the rows with the same `scope` values, if given) is a ValidationError with an issue at
 * `field` of rule `unique`, and nothing is written; in `createMany`, so is a row repeating an
 * earlier row's value (`rows.3.email`). The table is read with the database's own comparison
 * (a case-insensitive collation finds `Ada@x.io` for `ada@x.io`), every row counted, soft-deleted
 * ones included, as the unique index counts them; a NULL in any of the fields is not checked.
 * The check cannot stop two writers racing for one value: keep the table's unique index, whose
 * violation is then a UniqueViolation naming the table and columns. `upsert` and `updateWhere`
 * are left to the index. With `caseSensitive: false` values that differ in case alone are one value
 * on every engine (PostgreSQL's and SQLite's default comparison tells them apart); give the
 * table a unique index on `lower(field)` to hold the same there.
 *
 * @example
 * model({ ..., behaviours: [unique('email', { caseSensitive: false }), unique('slug', { scope: ['tenantId'], message: 'slug in use' })] })
 */
export const unique = <F extends string, S extends string = never>(field: F, options?: {
  /** Fields whose values the uniqueness is within (Rails' `scope`). */
  readonly scope?: readonly S[]
  /** The issue's message (default: `<field> is already taken`). */
  readonly message?: string
  /**
   * `false`: values that differ in case alone are the same value (`Ada@x.io`, `ada@x.io`), on
   * every engine, as Rails' `case_sensitive: false`: the table is read with `lower()` on both
   * sides (SQLite's folds ASCII letters only). Default: the column's own comparison.
   */
  readonly caseSensitive?: boolean
}): Behaviour<NoInfer<Record<F | S, any>>> =>
  Object.freeze({
    name: `unique(${[field, ...(options?.scope ?? [])].join(', ')})`,
    unique: Object.freeze({ field, scope: options?.scope ?? [], message: options?.message, caseSensitive: options?.caseSensitive }),
  })
