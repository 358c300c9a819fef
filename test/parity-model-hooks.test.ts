/**
 * Lifecycle hooks as users of Rails, Sequelize and Python ActiveRecord expect them: the order
 * behaviours' and the model's own hooks run in for create, update, delete; `restore` runs its own
 * hooks (`beforeRestore`, `afterRestore`) as Sequelize and Rails' paranoia do, and a Left from
 * either leaves the row deleted. On SQLite, PostgreSQL and MariaDB.
 */
import * as TE from 'fp-ts/lib/TaskEither.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { type Behaviour, date, hookError, model, nullable, onlyDeleted, softDelete, timestamps, withDeleted } from 'recordkit/model'
import { fails, ok } from 'recordkit/testing'
import { ENGINES, engineTables } from './support/engine-tables.js'

const seen: string[] = []
const codec = t.type({ id: t.number, title: t.string, createdAt: date, updatedAt: date, deletedAt: nullable(date) })
type Row = t.TypeOf<typeof codec>

const tracer: Behaviour<{ title: string }> = {
  name: 'tracer',
  beforeValidate: (v) => { seen.push('b:beforeValidate'); return TE.right(v) },
  afterValidate: (v) => { seen.push('b:afterValidate'); return TE.right(v) },
  beforeInsert: (v) => { seen.push('b:beforeInsert'); return TE.right(v) },
  afterInsert: (r) => { seen.push('b:afterInsert'); return TE.right(r) },
  beforeUpdate: (v) => { seen.push('b:beforeUpdate'); return TE.right(v) },
  afterUpdate: (r) => { seen.push('b:afterUpdate'); return TE.right(r) },
  beforeDelete: (r) => { seen.push('b:beforeDelete'); return TE.right(r) },
  afterDelete: (r) => { seen.push('b:afterDelete'); return TE.right(r) },
  beforeRestore: (r) => { seen.push('b:beforeRestore'); return TE.right(r) },
  afterRestore: (r) => { seen.push('b:afterRestore'); return TE.right(r) },
}

const Post = model({
  table: 'h3_hook_posts',
  primaryKey: 'id',
  naming: (f) => f.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`),
  codec,
  behaviours: [timestamps(), softDelete(), tracer],
  hooks: {
    beforeValidate: (v) => { seen.push('own:beforeValidate'); return TE.right(v) },
    afterValidate: (v) => { seen.push('own:afterValidate'); return TE.right(v) },
    beforeInsert: (v) => { seen.push('own:beforeInsert'); return TE.right(v) },
    afterInsert: (r) => { seen.push('own:afterInsert'); return TE.right(r) },
    beforeUpdate: (v) => { seen.push('own:beforeUpdate'); return TE.right(v) },
    afterUpdate: (r) => { seen.push('own:afterUpdate'); return TE.right(r) },
    beforeDelete: (r) => { seen.push('own:beforeDelete'); return TE.right(r) },
    afterDelete: (r) => { seen.push('own:afterDelete'); return TE.right(r) },
    beforeRestore: (r, ctx) => {
      seen.push(`own:beforeRestore(${ctx.op}, deleted: ${r.deletedAt !== null})`)
      return r.title === 'locked' ? TE.left(hookError('beforeRestore', 'locked posts stay deleted')) : TE.right(r)
    },
    afterRestore: (r: Row) => {
      seen.push(`own:afterRestore(deleted: ${r.deletedAt !== null})`)
      return r.title === 'undo' ? TE.left(hookError('afterRestore', 'changed my mind')) : TE.right(r)
    },
  },
})

const ddl = (engine: string): string[] => {
  const stamp = engine === 'postgres' ? 'TIMESTAMP(3)' : engine === 'mariadb' ? 'DATETIME(3)' : 'TEXT'
  return [`CREATE TABLE h3_hook_posts (id INTEGER PRIMARY KEY, title VARCHAR(40) NOT NULL, created_at ${stamp} NOT NULL, updated_at ${stamp} NOT NULL, deleted_at ${stamp} NULL)`]
}

for (const engine of ENGINES) {
  describe(`hook order on ${engine.name}`, () => {
    const { use } = engineTables(engine, ['h3_hook_posts'], ddl)

    it('create, update and delete run the behaviours hooks, then the model own, in lifecycle order', async (ctx) => {
      const db = use(ctx)
      seen.length = 0
      const p = await ok(Post.create(db, { id: 1, title: 'a' }))
      expect(seen).toEqual(['b:beforeValidate', 'own:beforeValidate', 'b:afterValidate', 'own:afterValidate', 'b:beforeInsert', 'own:beforeInsert', 'b:afterInsert', 'own:afterInsert'])
      seen.length = 0
      const u = await ok(Post.update(db, p, { title: 'b' }))
      expect(seen).toEqual(['b:beforeValidate', 'own:beforeValidate', 'b:afterValidate', 'own:afterValidate', 'b:beforeUpdate', 'own:beforeUpdate', 'b:afterUpdate', 'own:afterUpdate'])
      seen.length = 0
      await ok(Post.delete(db, u))
      expect(seen).toEqual(['b:beforeDelete', 'own:beforeDelete', 'b:afterDelete', 'own:afterDelete'])
    })

    it('restore runs beforeRestore and afterRestore (not the update hooks) and returns the stored row', async (ctx) => {
      const db = use(ctx)
      const p = await ok(Post.create(db, { id: 1, title: 'a' }))
      const gone = await ok(Post.delete(db, p))
      seen.length = 0
      const back = await ok(Post.restore(db, gone))
      expect(seen).toEqual(['b:beforeRestore', 'own:beforeRestore(restore, deleted: true)', 'b:afterRestore', 'own:afterRestore(deleted: false)'])
      expect(back.deletedAt).toBeNull()
      expect(await ok(pipe(Post.query, Post.count(db)))).toBe(1)
    })

    it('a Left from beforeRestore writes nothing; a Left from afterRestore rolls the restore back', async (ctx) => {
      const db = use(ctx)
      const locked = await ok(Post.delete(db, await ok(Post.create(db, { id: 1, title: 'locked' }))))
      const undo = await ok(Post.delete(db, await ok(Post.create(db, { id: 2, title: 'undo' }))))
      const refused = await fails(Post.restore(db, locked))
      expect([refused._tag, refused.message]).toEqual(['HookError', 'beforeRestore: locked posts stay deleted'])
      const undone = await fails(Post.restore(db, undo))
      expect([undone._tag, undone.message]).toEqual(['HookError', 'afterRestore: changed my mind'])
      // Both rows are still deleted, as they were.
      expect(await ok(pipe(Post.query, onlyDeleted, Post.pluck(db, 'id')))).toEqual([1, 2])
      const rows = await ok(pipe(Post.query, withDeleted, Post.orderBy('id'), Post.all(db)))
      expect(rows.map((r) => r.deletedAt?.getTime())).toEqual([locked.deletedAt?.getTime(), undo.deletedAt?.getTime()])
      // Inside a caller's transaction, the failed restore is undone and the transaction goes on.
      const inTx = await ok(db.transaction((tx) => async () => {
        const r = await Post.restore(tx, undo)()
        const other = await Post.update(tx, undo, { title: 'kept' })()
        return { _tag: 'Right' as const, right: [r._tag, other._tag] }
      }))
      expect(inTx).toEqual(['Left', 'Left'])
    })
  })
}
