/**
 * What becomes of a row's related rows when the row is deleted: a `hasMany` or `hasOne` relation
 * given `dependent` (Rails' `dependent:`, Django's `on_delete`) deletes them, sets their foreign
 * key to NULL, or refuses the delete while they exist, in the delete's transaction.
 *
 * ```ts
 * relations: {
 *   posts: hasMany('Post', 'authorId', { dependent: 'delete' }),    // Rails :destroy, Django CASCADE
 *   drafts: hasMany('Draft', 'authorId', { dependent: 'nullify' }), // Rails :nullify, Django SET_NULL
 *   invoices: hasMany('Invoice', 'customerId', { dependent: 'restrict' }), // Django PROTECT
 * }
 * ```
 */
import { left, type Either } from 'fp-ts/lib/Either.js'
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import type { Backend } from '../compose.js'
import { dbError, type DbError } from '../errors.js'
import { type ModelCore, ownValue } from './core.js'
import { fieldList, type HasMany, type HasOne, type KeyFields } from './relations.js'
import { relatedQuery } from './related.js'
import { anyRow } from './read.js'

type Values = Record<string, unknown>

/** What a row's delete does to the rows of a `hasMany` / `hasOne` relation. */
export type Dependent = 'delete' | 'nullify' | 'restrict'

/** The model functions a dependent step calls on the related model (its public record). */
interface Target {
  readonly all: (db: Backend) => (q: unknown) => TaskEither<DbError, Values[]>
  readonly delete: (db: Backend, row: Values, options?: { readonly force?: boolean }) => TaskEither<DbError, Values>
  readonly updateWhere: (db: Backend, where: unknown, patch: Values) => TaskEither<DbError, number>
}

/** The relations of a model that say what its delete does to their rows. */
export const dependentsOf = (core: ModelCore): readonly [string, Dependent][] => {
  const out: [string, Dependent][] = []
  for (const [name, rel] of Object.entries(core.relations)) {
    if ((rel.kind === 'hasMany' || rel.kind === 'hasOne') && rel.dependent !== undefined) out.push([name, rel.dependent])
  }
  return out
}

/**
 * Run `remove` (the row's own delete) after the steps the relations' `dependent` ask for, all in
 * one transaction, so that a refusal or a failure leaves every row as it was: `restrict` refuses
 * with a ForeignKeyViolation naming the relation while a related row exists; `nullify` sets the
 * related rows' foreign key to NULL (one `updateWhere`: their codec must take null); `delete`
 * deletes each related row through its model's `delete` (its hooks, soft deletion, its own
 * dependents; with `force`, forced). The related rows are those the target's default scopes show.
 * A model without such relations is deleted as it is.
 *
 * @example withDependents(db, User.core, ada, false, (tx) => deleteRow(tx, User.core, ada, false))
 */
export const withDependents = (db: Backend, core: ModelCore, row: Values, force: boolean, remove: (tx: Backend) => TaskEither<DbError, Values>): TaskEither<DbError, Values> => {
  const steps = dependentsOf(core)
  if (steps.length === 0) return remove(db)
  return db.transaction((tx) => async (): Promise<Either<DbError, Values>> => {
    for (const [name, how] of steps) {
      const rel = core.relations[name] as HasMany | HasOne
      const target = ownValue(core.graph?.publics, rel.target) as Target | undefined
      const q = relatedQuery(core, row, name)
      if (q.error !== undefined) return left(q.error)
      if (target === undefined) return left(dbError('QueryError', `${core.table}.${name}: dependent rows are reached once the models are related: relate({ ... })`))
      if (how === 'restrict') {
        const any = await anyRow(tx, q)()
        if (any._tag === 'Left') return any
        if (any.right) return left(dbError('ForeignKeyViolation', `${core.table}: the row has ${name} (dependent: 'restrict'), so it is not deleted`))
      } else if (how === 'nullify') {
        const patch = Object.fromEntries(fieldList((rel as { readonly foreignKey: KeyFields }).foreignKey).map((f) => [f, null]))
        const n = await target.updateWhere(tx, { _tag: 'Condition', expr: q.where }, patch)()
        if (n._tag === 'Left') return n
      } else {
        const rows = await target.all(tx)(q)()
        if (rows._tag === 'Left') return rows
        for (const child of rows.right) {
          const d = await target.delete(tx, child, { force })()
          if (d._tag === 'Left') return d
        }
      }
    }
    return remove(tx)()
  })
}
