/**
 * A soft `delete` and `restore` return the row as the database stored it, decoded, on SQLite,
 * PostgreSQL and MariaDB: the deletion time as the column keeps it (a DATETIME without fractions
 * drops the milliseconds), and every other field as it is in the table, not as the caller's copy
 * of the row had it. The same row a read with deleted rows finds afterwards. PostgreSQL and SQLite
 * read it with UPDATE ... RETURNING; MariaDB with a read by key in the same unit. The version lock
 * holds: deleting a row already soft-deleted, or a stale one, is a ConflictError, nothing written.
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { type Backend, type DbError, sql } from 'recordkit'
import { date, model, nullable, onlyDeleted, optimisticLock, softDelete, withDeleted } from 'recordkit/model'
import { ok } from 'recordkit/testing'
import { ENGINES, engineTables } from './support/engine-tables.js'

const DELETED_AT = new Date('2024-05-06T07:08:09.876Z')
const codec = t.type({ id: t.number, title: t.string, version: t.number, deletedAt: nullable(date) })
const definition = { table: 'rk_mss_posts', primaryKey: 'id', columns: { deletedAt: 'deleted_at' }, codec } as const
const Post = model({ ...definition, behaviours: [softDelete({ now: () => DELETED_AT }), optimisticLock()] })
/** The same table without the lock: its rows' versions are whatever the table holds. */
const Loose = model({ ...definition, behaviours: [softDelete({ now: () => DELETED_AT })] })

const ddl = (engine: string): string[] => {
  // Whole seconds: the column keeps less than the Date the behaviour writes (SQLite keeps the text).
  const stamp = engine === 'postgres' ? 'TIMESTAMP(0)' : engine === 'mariadb' ? 'DATETIME' : 'TEXT'
  return [`CREATE TABLE rk_mss_posts (id INTEGER PRIMARY KEY, title VARCHAR(50) NOT NULL, version INTEGER NOT NULL, deleted_at ${stamp} NULL)`]
}

const failure = async <A>(te: () => Promise<{ _tag: 'Left'; left: DbError } | { _tag: 'Right'; right: A }>): Promise<DbError> => {
  const r = await te()
  if (r._tag === 'Right') throw new Error(`expected a failure, got ${JSON.stringify(r.right)}`)
  return r.left
}

for (const engine of ENGINES) {
  describe(`soft delete and restore return the stored row on ${engine.name}`, () => {
    const { use } = engineTables(engine, ['rk_mss_posts'], ddl)
    /** The stored deletion time: PostgreSQL rounds to the second, MariaDB truncates, SQLite keeps it. */
    const storedStamp = engine.name === 'postgres' ? new Date('2024-05-06T07:08:10.000Z') : engine.name === 'mariadb' ? new Date('2024-05-06T07:08:09.000Z') : DELETED_AT
    const found = async (db: Backend, id: number) => (await ok(pipe(Post.query, withDeleted, Post.where('id', '=', id), Post.all(db))))[0]

    it('delete returns the soft-deleted row as stored, not the caller\'s copy with the marks merged', async (ctx) => {
      const db = use(ctx)
      const row = await ok(Post.create(db, { id: 1, title: 'first' }))
      // Changed in the table since the caller read it (the title only: the version still matches).
      await ok(db.execute(sql`UPDATE rk_mss_posts SET title = ${'edited'} WHERE id = 1`))
      const deleted = await ok(Post.delete(db, row))
      expect(deleted).toEqual({ id: 1, title: 'edited', version: 1, deletedAt: storedStamp })
      expect(await found(db, 1)).toEqual(deleted)
    })

    it('with afterDelete hooks (the delete in one transaction) as well', async (ctx) => {
      const db = use(ctx)
      const seen: unknown[] = []
      const Hooked = model({ ...definition, behaviours: [softDelete({ now: () => DELETED_AT }), optimisticLock()], hooks: { afterDelete: (r) => { seen.push(r.id); return TE.right(r) } } })
      const row = await ok(Hooked.create(db, { id: 1, title: 'first' }))
      await ok(db.execute(sql`UPDATE rk_mss_posts SET title = ${'edited'} WHERE id = 1`))
      expect(await ok(Hooked.delete(db, row))).toEqual({ id: 1, title: 'edited', version: 1, deletedAt: storedStamp })
      expect(seen).toEqual([1])
    })

    it('restore returns the restored row as stored', async (ctx) => {
      const db = use(ctx)
      await ok(Post.create(db, { id: 1, title: 'first' }))
      const deleted = await ok(Post.delete(db, await ok(Post.findOrFail(db, 1))))
      await ok(db.execute(sql`UPDATE rk_mss_posts SET title = ${'edited'}, version = 7 WHERE id = 1`))
      const restored = await ok(Post.restore(db, deleted))
      // A restore is an update: the lock's version goes up from the stored 7.
      expect(restored).toEqual({ id: 1, title: 'edited', version: 8, deletedAt: null })
      expect(await ok(Post.findOrFail(db, 1))).toEqual(restored)
      // A row that is not there is NotFound.
      expect((await failure(Post.restore(db, { ...deleted, id: 2 })))._tag).toBe('NotFound')
    })

    it('the version lock holds: a soft-deleted or stale row is a ConflictError, nothing written', async (ctx) => {
      const db = use(ctx)
      const row = await ok(Post.create(db, { id: 1, title: 'first' }))
      const deleted = await ok(Post.delete(db, row))
      expect((await failure(Post.delete(db, deleted)))._tag).toBe('ConflictError')
      expect((await failure(Post.delete(db, row)))._tag).toBe('ConflictError')
      expect(await found(db, 1)).toEqual(deleted)
      // Without the lock a row already soft-deleted is NotFound (the default scope hides it).
      expect((await failure(Loose.delete(db, deleted)))._tag).toBe('NotFound')
      const stale = await ok(Post.create(db, { id: 2, title: 'second' }))
      await ok(Post.update(db, stale, { title: 'newer' }))
      expect((await failure(Post.delete(db, stale)))._tag).toBe('ConflictError')
      expect((await ok(pipe(Post.query, onlyDeleted, Post.all(db)))).map((r) => r.id)).toEqual([1])
    })

    it('a stored row that does not decode fails the delete and leaves the row as it was', async (ctx) => {
      const db = use(ctx)
      const row = await ok(Post.create(db, { id: 1, title: 'first' }))
      // A model that reads the title as a number: the soft delete's stored row cannot decode.
      const Strict = model({ ...definition, codec: t.type({ id: t.number, title: t.number, version: t.number, deletedAt: nullable(date) }), behaviours: [softDelete({ now: () => DELETED_AT })] })
      const e = await failure(Strict.delete(db, { ...row, title: 1 }))
      expect(e._tag).toBe('DecodeError')
      expect(await found(db, 1)).toEqual(row)
    })
  })
}
