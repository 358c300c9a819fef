/**
 * A row write under a guard (a tenant's, an optimistic lock's) that meets no row tells the two
 * misses apart, on SQLite, PostgreSQL and MariaDB: a row the default scopes hide (another
 * tenant's) or one that is gone is NotFound, as without a guard; a row they show (or that only
 * its soft deletion hides) which the guard refuses (a stale version, a row deleted since it was
 * read, another tenant's row deleted with `force`) is a ConflictError. Nothing is written either
 * way, through `update`, `delete` (soft and hard) and `touch`, with and without hooks.
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { type Backend, type DbError, isDbError } from 'recordkit'
import { eq } from 'recordkit/query'
import { type Behaviour, date, model, nullable, optimisticLock, snakeCase, softDelete, timestamps, unscoped } from 'recordkit/model'
import { fails, ok } from 'recordkit/testing'
import { ENGINES, engineTables } from './support/engine-tables.js'

const at = new Date('2024-05-01T10:00:00.000Z')

/** A tenant's rows: read, written and guarded (as docs/models.md's `tenantScoped`). */
const tenant = (tenantId: number): Behaviour<{ tenantId: number }, 'tenantId'> => ({
  name: `tenant(${tenantId})`,
  fills: ['tenantId'],
  beforeValidate: (values) => TE.right({ ...values, tenantId }),
  scope: (_switches, column) => eq(column('tenantId'), tenantId),
  guard: (_row, column) => eq(column('tenantId'), tenantId),
})

/** Hooks after the write, which make each write one transaction. */
const after: Behaviour<{ id: number }> = {
  name: 'after',
  afterUpdate: (row) => TE.right(row),
  afterDelete: (row) => TE.right(row),
}

const codec = t.type({ id: t.number, tenantId: t.number, title: t.string, deletedAt: nullable(date), version: t.number, createdAt: date, updatedAt: date })
const itemsOf = (tenantId: number, hooked = false) => model({
  table: 'rk_mwh_items',
  primaryKey: 'id',
  naming: snakeCase,
  codec,
  behaviours: [tenant(tenantId), softDelete({ now: () => at }), optimisticLock(), timestamps(), ...(hooked ? [after] : [])],
})
/** The same table, hard deletes: a tenant's guard without a soft deletion. */
const hardOf = (tenantId: number) => model({
  table: 'rk_mwh_items',
  primaryKey: 'id',
  naming: snakeCase,
  codec: t.type({ id: t.number, tenantId: t.number, title: t.string, version: t.number }),
  behaviours: [tenant(tenantId), optimisticLock()],
})
/** Creation time alone: `touch` has no update time to set. */
const Comment = model({ table: 'rk_mwh_comments', primaryKey: 'id', naming: snakeCase, codec: t.type({ id: t.number, createdAt: date }), behaviours: [timestamps({ updatedAt: false })] })

const TABLES = ['rk_mwh_items', 'rk_mwh_comments']
const ddl = (engine: string): string[] => {
  const stamp = engine === 'postgres' ? 'TIMESTAMP(3)' : engine === 'mariadb' ? 'DATETIME(3)' : 'TEXT'
  return [
    `CREATE TABLE rk_mwh_items (id INTEGER PRIMARY KEY, tenant_id INTEGER NOT NULL, title VARCHAR(40) NOT NULL, deleted_at ${stamp} NULL, version INTEGER NOT NULL, created_at ${stamp} NULL, updated_at ${stamp} NULL)`,
    `CREATE TABLE rk_mwh_comments (id INTEGER PRIMARY KEY, created_at ${stamp} NOT NULL)`,
  ]
}

/** Every stored row, by id, as [id, tenantId, title, version, deleted] (whatever the scopes say). */
const stored = async (db: Backend) =>
  (await ok(pipe(itemsOf(0).query, unscoped, itemsOf(0).orderBy('id'), itemsOf(0).all(db)))).map((r) => [r.id, r.tenantId, r.title, r.version, r.deletedAt !== null])

/** The tag of an error, and for NotFound the table and key it names. */
const told = (e: DbError) => (isDbError(e, 'NotFound') ? ['NotFound', e.table, e.key] : [e._tag])

for (const engine of ENGINES) {
  describe(`a guarded row write that meets no row on ${engine.name}`, () => {
    const { use } = engineTables(engine, TABLES, ddl)

    for (const hooked of [false, true]) {
      const how = hooked ? 'with hooks (one transaction)' : 'without hooks'
      it(`another tenant's row is NotFound to update, delete and touch, ${how}; nothing written`, async (ctx) => {
        const db = use(ctx)
        const acme = itemsOf(1, hooked)
        const bolt = itemsOf(2, hooked)
        const mine = await ok(acme.create(db, { id: 1, title: 'acme' }))
        const before = await stored(db)
        expect(told(await fails(bolt.update(db, mine, { title: 'stolen' })))).toEqual(['NotFound', 'rk_mwh_items', 1])
        expect(told(await fails(bolt.delete(db, mine)))).toEqual(['NotFound', 'rk_mwh_items', 1])
        expect(told(await fails(bolt.touch(db, mine)))).toEqual(['NotFound', 'rk_mwh_items', 1])
        expect(told(await fails(hardOf(2).delete(db, mine)))).toEqual(['NotFound', 'rk_mwh_items', 1])
        // `force` passes the scopes, not the guard: the row is there, and the guard refuses it.
        expect(told(await fails(bolt.delete(db, mine, { force: true })))).toEqual(['ConflictError'])
        expect(await stored(db)).toEqual(before)
      })

      it(`the tenant's own row that is stale, soft-deleted since, or gone: ConflictError, ConflictError, NotFound, ${how}`, async (ctx) => {
        const db = use(ctx)
        const acme = itemsOf(1, hooked)
        const read = await ok(acme.create(db, { id: 1, title: 'v1' }))
        await ok(acme.update(db, read, { title: 'v2' }))
        const conflict = (e: DbError) => isDbError(e, 'ConflictError') && e.message
        expect(conflict(await fails(acme.update(db, read, { title: 'lost' })))).toBe('rk_mwh_items row 1 changed or was deleted since it was read')
        expect(told(await fails(acme.delete(db, read)))).toEqual(['ConflictError'])
        expect(told(await fails(acme.touch(db, read)))).toEqual(['ConflictError'])
        // Soft-deleted since it was read: the soft deletion hides it, the row is there.
        const current = await ok(acme.findOrFail(db, 1))
        const gone = await ok(acme.delete(db, current))
        expect(told(await fails(acme.update(db, current, { title: 'after' })))).toEqual(['ConflictError'])
        expect(told(await fails(acme.delete(db, gone)))).toEqual(['ConflictError'])
        expect(await stored(db)).toEqual([[1, 1, 'v2', 2, true]])
        // Gone for good: nothing to conflict with.
        await ok(acme.delete(db, gone, { force: true }))
        expect(told(await fails(acme.update(db, gone, { title: 'back' })))).toEqual(['NotFound', 'rk_mwh_items', 1])
        expect(told(await fails(acme.delete(db, gone)))).toEqual(['NotFound', 'rk_mwh_items', 1])
        expect(told(await fails(acme.touch(db, gone)))).toEqual(['NotFound', 'rk_mwh_items', 1])
        expect(await stored(db)).toEqual([])
      })
    }

    it('the guard still decides inside a transaction: a miss leaves the transaction usable', async (ctx) => {
      const db = use(ctx)
      const acme = itemsOf(1)
      const mine = await ok(acme.create(db, { id: 1, title: 'acme' }))
      const result = await ok(db.transaction((tx) => pipe(
        itemsOf(2).update(tx, mine, { title: 'stolen' }),
        TE.map((): string => 'written'),
        TE.orElse((e) => TE.right<DbError, string>(e._tag)),
        TE.chain((told) => TE.map((r: { title: string }) => [told, r.title])(acme.update(tx, mine, { title: 'edited' }))),
      )))
      expect(result).toEqual(['NotFound', 'edited'])
      expect(await stored(db)).toEqual([[1, 1, 'edited', 2, false]])
    })

    it('touch of a model that keeps no update time is a QueryError that says so', async (ctx) => {
      const db = use(ctx)
      const c = await ok(Comment.create(db, { id: 1 }))
      const e = await fails(Comment.touch(db, c))
      expect(e._tag).toBe('QueryError')
      expect(e.message).toBe('rk_mwh_comments: touch sets the update time of timestamps() or the fields named, and timestamps({ updatedAt: false }) keeps no update time: name the time fields to set (touch(db, row, \'field\'))')
    })

    it('touch of a model without timestamps() and no field named still says it has neither', async (ctx) => {
      const db = use(ctx)
      const Plain = model({ table: 'rk_mwh_comments', primaryKey: 'id', codec: t.type({ id: t.number }) })
      const e = await fails(Plain.touch(db, { id: 1 }))
      expect(e.message).toBe('rk_mwh_comments: touch sets the update time of timestamps() or the fields named, and this model has neither')
    })
  })
}
