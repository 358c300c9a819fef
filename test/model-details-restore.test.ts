/**
 * `restore` is an update: it writes what the behaviours add to every update, as `update` and
 * `updateWhere` do: `timestamps()` refreshes `updatedAt`, `optimisticLock()` bumps `version`. A
 * copy of the row read before the restore (before the delete, or the deleted row itself) is then
 * stale: updating or deleting it is a ConflictError that writes nothing. On SQLite, PostgreSQL
 * and MariaDB.
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { type Backend, sql } from 'recordkit'
import { date, model, nullable, optimisticLock, softDelete, timestamps, withDeleted } from 'recordkit/model'
import { fails, ok } from 'recordkit/testing'
import { ENGINES, engineTables } from './support/engine-tables.js'

let clock = new Date('2024-01-01T00:00:00.000Z')
const now = () => clock
const codec = t.type({ id: t.number, title: t.string, version: t.number, createdAt: date, updatedAt: date, deletedAt: nullable(date) })
const Post = model({
  table: 'rk_mdr_posts',
  primaryKey: 'id',
  columns: { createdAt: 'created_at', updatedAt: 'updated_at', deletedAt: 'deleted_at' },
  codec,
  behaviours: [timestamps({ now }), softDelete({ now }), optimisticLock()],
})
/** Only the lock and soft deletion. */
const Locked = model({
  table: 'rk_mdr_notes',
  primaryKey: 'id',
  columns: { deletedAt: 'deleted_at' },
  codec: t.type({ id: t.number, version: t.number, deletedAt: nullable(date) }),
  behaviours: [softDelete({ now }), optimisticLock()],
})

const ddl = (engine: string): string[] => {
  const stamp = engine === 'postgres' ? 'TIMESTAMP(3)' : engine === 'mariadb' ? 'DATETIME(3)' : 'TEXT'
  return [
    `CREATE TABLE rk_mdr_posts (id INTEGER PRIMARY KEY, title VARCHAR(50) NOT NULL, version INTEGER NOT NULL, created_at ${stamp} NOT NULL, updated_at ${stamp} NOT NULL, deleted_at ${stamp} NULL)`,
    `CREATE TABLE rk_mdr_notes (id INTEGER PRIMARY KEY, version INTEGER NOT NULL, deleted_at ${stamp} NULL)`,
  ]
}

const at = (s: string): Date => new Date(`2024-01-0${s}T00:00:00.000Z`)

for (const engine of ENGINES) {
  describe(`restore is an update on ${engine.name}`, () => {
    const { use } = engineTables(engine, ['rk_mdr_posts', 'rk_mdr_notes'], ddl)
    const stored = async (db: Backend) => (await ok(pipe(Post.query, withDeleted, Post.all(db))))

    it('restore bumps the version and refreshes updatedAt; a copy read before it is stale', async (ctx) => {
      const db = use(ctx)
      clock = at('1')
      const read = await ok(Post.create(db, { id: 1, title: 'first' }))
      expect(read).toMatchObject({ version: 1, updatedAt: at('1') })
      clock = at('2')
      const deleted = await ok(Post.delete(db, read))
      clock = at('3')
      const restored = await ok(Post.restore(db, deleted))
      expect(restored).toEqual({ id: 1, title: 'first', version: deleted.version + 1, createdAt: at('1'), updatedAt: at('3'), deletedAt: null })
      expect(await stored(db)).toEqual([restored])
      // Copies read before the restore: the one read before the delete, and the deleted row.
      for (const stale of [read, deleted]) {
        clock = at('4')
        expect((await fails(Post.update(db, stale, { title: 'stale' })))._tag).toBe('ConflictError')
        expect((await fails(Post.delete(db, stale)))._tag).toBe('ConflictError')
        expect(await stored(db)).toEqual([restored])
      }
      // The restored row is current.
      expect(await ok(Post.update(db, restored, { title: 'second' }))).toMatchObject({ title: 'second', version: restored.version + 1, updatedAt: at('4') })
    })

    it('with the lock alone, restore bumps the version', async (ctx) => {
      const db = use(ctx)
      const read = await ok(Locked.create(db, { id: 1 }))
      const deleted = await ok(Locked.delete(db, read))
      const restored = await ok(Locked.restore(db, deleted))
      expect(restored.version).toBe(deleted.version + 1)
      expect((await fails(Locked.delete(db, read)))._tag).toBe('ConflictError')
      const rows = await ok(db.all<{ version: unknown; deleted_at: unknown }>(sql`SELECT version, deleted_at FROM rk_mdr_notes`))
      expect(rows.map((r) => [Number(r.version), r.deleted_at])).toEqual([[deleted.version + 1, null]])
    })
  })
}
