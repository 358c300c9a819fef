/**
 * Model writes on a reserved connection (`db.connection()`, and the Promise adapter's
 * `connection()`), on SQLite, PostgreSQL and MariaDB: create, createMany (with and without rows
 * back), update, upsert, updateWhere, delete and restore run on that connection, in a unit of
 * their own there (a transaction on the connection, whose handle the write uses), and their rows
 * are committed. The table is a temporary one made on the connection, so only a write that runs
 * on it can reach it. A write that fails is undone, and the connection stays usable.
 */
import * as TE from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { type Backend, promised, run, sql } from 'recordkit'
import { model, softDelete, nullable, date } from 'recordkit/model'
import { fails, ok } from 'recordkit/testing'
import { ENGINES, engineTables } from './support/engine-tables.js'

const Item = model({
  table: 'rk_mwconn_items',
  primaryKey: 'id',
  codec: t.type({ id: t.number, name: t.string, deletedAt: nullable(date) }),
  columns: { deletedAt: 'deleted_at' },
  defaults: ['deletedAt'],
  behaviours: [softDelete()],
})
/** The same table with after* hooks: every write runs in a transaction with its hooks. */
const Hooked = model({
  table: 'rk_mwconn_items',
  primaryKey: 'id',
  codec: t.type({ id: t.number, name: t.string, deletedAt: nullable(date) }),
  columns: { deletedAt: 'deleted_at' },
  defaults: ['deletedAt'],
  hooks: { afterInsert: (r) => TE.right(r), afterUpdate: (r) => TE.right(r), afterDelete: (r) => TE.right(r) },
})

/** A table only the reserved connection sees. */
const temporary = (engine: string): string =>
  `CREATE TEMPORARY TABLE rk_mwconn_items (id INTEGER PRIMARY KEY, name VARCHAR(20) NOT NULL UNIQUE, deleted_at ${engine === 'sqlite' ? 'TEXT' : 'TIMESTAMP'} NULL)`

const names = async (db: Backend): Promise<string[]> =>
  (await ok(db.all<{ name: string }>(sql`SELECT name FROM rk_mwconn_items ORDER BY id`))).map((r) => r.name)

for (const engine of ENGINES) {
  describe(`model writes on a reserved connection on ${engine.name}`, () => {
    // No shared table: each test makes a temporary one on its connection.
    const { use } = engineTables(engine, [], () => [])

    for (const [label, M] of [['plain', Item], ['with after* hooks', Hooked as unknown as typeof Item]] as const) {
      it(`${label}: every row write runs on the connection and commits there`, async (ctx) => {
        const db = use(ctx)
        const c = await ok(db.connection())
        try {
          await ok(c.execute(sql.raw(temporary(engine.name))))
          const a = await ok(M.create(c, { id: 1, name: 'a' }))
          expect(a).toEqual({ id: 1, name: 'a', deletedAt: null })
          expect(await ok(M.createMany(c, [{ id: 2, name: 'b' }, { id: 3, name: 'c' }]))).toHaveLength(2)
          expect(await ok(M.createMany(c, [{ id: 4, name: 'd' }], { returning: false }))).toBe(1)
          expect(await ok(M.update(c, a, { name: 'a2' }))).toEqual({ id: 1, name: 'a2', deletedAt: null })
          expect(await ok(M.upsert(c, { id: 2, name: 'b2' }))).toEqual({ id: 2, name: 'b2', deletedAt: null })
          expect(await ok(M.upsert(c, { id: 5, name: 'e' }))).toEqual({ id: 5, name: 'e', deletedAt: null })
          expect(await ok(M.updateWhere(c, { id: 3 }, { name: 'c2' }))).toBe(1)
          const d = await ok(M.findOrFail(c, 4))
          const deleted = await ok(M.delete(c, d))
          if (label === 'plain') {
            // A soft delete: the row stays, marked.
            expect(deleted.deletedAt).toBeInstanceOf(Date)
            expect((await ok(Item.restore(c, deleted))).deletedAt).toBeNull()
          }
          expect(await names(c)).toEqual(label === 'plain' ? ['a2', 'b2', 'c2', 'd', 'e'] : ['a2', 'b2', 'c2', 'e'])
          // A failed write (a duplicate) is undone, and the connection goes on.
          expect((await fails(M.create(c, { id: 6, name: 'a2' })))._tag).toBe('UniqueViolation')
          expect((await fails(M.createMany(c, [{ id: 7, name: 'g' }, { id: 8, name: 'a2' }])))._tag).toBe('UniqueViolation')
          expect(await ok(M.create(c, { id: 9, name: 'i' }))).toEqual({ id: 9, name: 'i', deletedAt: null })
          // Nothing was left in an open transaction: the connection's own transaction begins and commits.
          await ok(c.transaction((tx) => M.create(tx, { id: 10, name: 'j' })))
          expect(c.inTransaction()).toBe(false)
          expect((await names(c)).slice(-2)).toEqual(['i', 'j'])
        } finally {
          await run(c.execute(sql`DROP TABLE IF EXISTS rk_mwconn_items`))
          await run(c.release())
        }
      })
    }

    it("the Promise adapter's reserved connection", async (ctx) => {
      const db = use(ctx)
      const pc = await promised(db).connection()
      try {
        await pc.execute(sql.raw(temporary(engine.name)))
        expect(await run(Item.create(pc.backend, { id: 5, name: 'e' }))).toEqual({ id: 5, name: 'e', deletedAt: null })
        expect(await run(Item.upsert(pc.backend, { id: 5, name: 'f' }))).toEqual({ id: 5, name: 'f', deletedAt: null })
        expect(await names(pc.backend)).toEqual(['f'])
      } finally {
        await pc.execute(sql`DROP TABLE IF EXISTS rk_mwconn_items`)
        await pc.release()
      }
    })
  })
}
