/**
 * Row writes see the rows the default scopes show, on SQLite, PostgreSQL and MariaDB: `update`
 * (and `delete`) of a row a default scope hides, a soft-deleted one or one another behaviour's
 * scope hides, is NotFound and writes nothing; `updateWhere` and `deleteWhere` pass such rows
 * by; `delete(db, row, { force: true })` and `restore` reach them.
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { type Backend, isDbError, sql } from 'recordkit'
import { eq } from 'recordkit/query'
import { type Behaviour, bool, date, model, nullable, optimisticLock, snakeCase, softDelete, withDeleted } from 'recordkit/model'
import { fails, ok } from 'recordkit/testing'
import { ENGINES, engineTables } from './support/engine-tables.js'

const at = new Date('2024-05-01T10:00:00.000Z')
const Note = model({
  table: 'rk_mws_notes',
  primaryKey: 'id',
  naming: snakeCase,
  codec: t.type({ id: t.number, title: t.string, deletedAt: nullable(date) }),
  behaviours: [softDelete({ now: () => at })],
})
/** The same table with a version counter as well: a hidden row is a ConflictError, as `delete` answers. */
const Locked = model({
  table: 'rk_mws_locked',
  primaryKey: 'id',
  naming: snakeCase,
  codec: t.type({ id: t.number, title: t.string, deletedAt: nullable(date), version: t.number }),
  behaviours: [softDelete({ now: () => at }), optimisticLock()],
})

/** A default scope that is not soft deletion: archived rows are hidden (`archived: 'include'` shows them). */
const hideArchived: Behaviour<{ archived: boolean }> = {
  name: 'hideArchived',
  scope: (o, column) => (o.archived === 'include' ? undefined : eq(column('archived'), false)),
}
const Doc = model({ table: 'rk_mws_docs', primaryKey: 'id', codec: t.type({ id: t.number, title: t.string, archived: bool }), behaviours: [hideArchived] })

const TABLES = ['rk_mws_notes', 'rk_mws_locked', 'rk_mws_docs']
const ddl = (engine: string): string[] => {
  const stamp = engine === 'postgres' ? 'TIMESTAMP(3)' : engine === 'mariadb' ? 'DATETIME(3)' : 'TEXT'
  return [
    `CREATE TABLE rk_mws_notes (id INTEGER PRIMARY KEY, title VARCHAR(40) NOT NULL, deleted_at ${stamp} NULL)`,
    `CREATE TABLE rk_mws_locked (id INTEGER PRIMARY KEY, title VARCHAR(40) NOT NULL, deleted_at ${stamp} NULL, version INTEGER NOT NULL)`,
    `CREATE TABLE rk_mws_docs (id INTEGER PRIMARY KEY, title VARCHAR(40) NOT NULL, archived BOOLEAN NOT NULL)`,
  ]
}

/** Every stored row of a table, by id, as [id, title, deletedAt] (soft-deleted rows included). */
const notes = async (db: Backend) =>
  (await ok(pipe(Note.query, withDeleted, Note.orderBy('id'), Note.all(db)))).map((n) => [n.id, n.title, n.deletedAt?.toISOString() ?? null])

for (const engine of ENGINES) {
  describe(`row writes and default scopes on ${engine.name}`, () => {
    const { use } = engineTables(engine, TABLES, ddl)

    it('update of a soft-deleted row is NotFound and writes nothing, as a second delete', async (ctx) => {
      const db = use(ctx)
      const note = await ok(Note.create(db, { id: 1, title: 'draft' }))
      const gone = await ok(Note.delete(db, note))
      expect(gone.deletedAt).toEqual(at)
      // Neither the row read before the deletion nor the one delete returned can be updated.
      for (const row of [note, gone]) {
        const e = await fails(Note.update(db, row, { title: 'edited' }))
        expect(isDbError(e, 'NotFound') && [e.table, e.key]).toEqual(['rk_mws_notes', 1])
      }
      expect(await notes(db)).toEqual([[1, 'draft', at.toISOString()]])
      expect((await fails(Note.delete(db, note)))._tag).toBe('NotFound')
      // Restored, it is found and updated again.
      await ok(Note.restore(db, gone))
      expect(await ok(Note.update(db, note, { title: 'edited' }))).toEqual({ id: 1, title: 'edited', deletedAt: null })
      expect(await notes(db)).toEqual([[1, 'edited', null]])
    })

    it('updateWhere and deleteWhere pass soft-deleted rows by (their values and first deletion time stay), as update does; force reaches them', async (ctx) => {
      const db = use(ctx)
      const [, second] = await ok(Note.createMany(db, [{ id: 1, title: 'a' }, { id: 2, title: 'b' }]))
      await ok(db.execute(sql`UPDATE rk_mws_notes SET deleted_at = ${engine.name === 'sqlite' ? '2020-01-01T00:00:00.000Z' : new Date('2020-01-01T00:00:00Z')} WHERE id = 2`))
      expect(await ok(Note.updateWhere(db, {}, { title: 'renamed' }))).toBe(1)
      expect((await fails(Note.update(db, second, { title: 'renamed' })))._tag).toBe('NotFound')
      expect(await ok(Note.deleteWhere(db, {}))).toBe(1)
      expect(await notes(db)).toEqual([[1, 'renamed', at.toISOString()], [2, 'b', '2020-01-01T00:00:00.000Z']])
      await ok(Note.delete(db, second, { force: true }))
      expect(await notes(db)).toEqual([[1, 'renamed', at.toISOString()]])
    })

    it('with a version guard the hidden row is a ConflictError, as for delete, and nothing is written', async (ctx) => {
      const db = use(ctx)
      const row = await ok(Locked.create(db, { id: 1, title: 'v1' }))
      await ok(Locked.delete(db, row))
      expect((await fails(Locked.update(db, row, { title: 'v2' })))._tag).toBe('ConflictError')
      expect((await fails(Locked.delete(db, row)))._tag).toBe('ConflictError')
      const [stored] = await ok(pipe(Locked.query, withDeleted, Locked.all(db)))
      expect([stored.title, stored.version, stored.deletedAt]).toEqual(['v1', 1, at])
    })

    it('any default scope: update and delete of a row it hides are NotFound; force deletes it', async (ctx) => {
      const db = use(ctx)
      await ok(Doc.createMany(db, [{ id: 1, title: 'open', archived: false }, { id: 2, title: 'old', archived: true }]))
      const hidden = { id: 2, title: 'old', archived: true }
      expect((await fails(Doc.update(db, hidden, { title: 'new' })))._tag).toBe('NotFound')
      expect((await fails(Doc.delete(db, hidden)))._tag).toBe('NotFound')
      expect(await ok(Doc.updateWhere(db, {}, { title: 'all' }))).toBe(1)
      const rows = await ok(db.all<{ id: unknown; title: unknown }>(sql`SELECT id, title FROM rk_mws_docs ORDER BY id`))
      expect(rows.map((r) => [Number(r.id), r.title])).toEqual([[1, 'all'], [2, 'old']])
      await ok(Doc.delete(db, hidden, { force: true }))
      expect(await ok(pipe(Doc.query, Doc.count(db)))).toBe(1)
      expect(Number((await ok(db.all<{ n: unknown }>(sql`SELECT COUNT(*) AS n FROM rk_mws_docs`)))[0].n)).toBe(1)
    })
  })
}
