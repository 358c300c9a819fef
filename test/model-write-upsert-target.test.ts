/**
 * `upsert`'s conflict target decides which row it updates, on SQLite, PostgreSQL and MariaDB alike.
 * MariaDB's ON DUPLICATE KEY UPDATE fires on any unique key, so there a conflict on another
 * unique key (or the primary key) updated a different row than the one the target names: it is
 * now a UniqueViolation naming the table, with nothing written, as ON CONFLICT (target) gives on
 * the others. One difference stays: where the proposed row shares another unique key with one
 * row and the target's with another, ON CONFLICT updates the target's row, and MariaDB's
 * statement may find the other row first: a UniqueViolation there, with nothing written. A
 * target that is no unique key of the table is refused on every engine.
 */
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { type Backend, type DbError, isDbError, sql } from 'recordkit'
import { model } from 'recordkit/model'
import { fails, ok } from 'recordkit/testing'
import { ENGINES, engineTables } from './support/engine-tables.js'

const U = model({ table: 'rk_mwut_users', primaryKey: 'id', codec: t.type({ id: t.number, email: t.string, username: t.string, n: t.number }) })

const ddl = (): string[] => ['CREATE TABLE rk_mwut_users (id INTEGER PRIMARY KEY, email VARCHAR(30) NOT NULL UNIQUE, username VARCHAR(30) NOT NULL UNIQUE, n INTEGER NOT NULL)']

const rows = async (db: Backend): Promise<unknown[][]> =>
  (await ok(db.all<{ id: unknown; email: unknown; username: unknown; n: unknown }>(sql`SELECT id, email, username, n FROM rk_mwut_users ORDER BY id`)))
    .map((r) => [Number(r.id), r.email, r.username, Number(r.n)])

const SEED = [[1, 'a@x', 'alice', 1], [2, 'b@x', 'bob', 2]]

const duplicate = (e: DbError): void => {
  expect(e._tag).toBe('UniqueViolation')
  expect(isDbError(e, 'UniqueViolation') && e.table).toBe('rk_mwut_users')
}

for (const engine of ENGINES) {
  describe(`upsert's conflict target on ${engine.name}`, () => {
    const { use } = engineTables(engine, ['rk_mwut_users'], ddl)
    const seeded = async (ctx: { skip: () => void }): Promise<Backend> => {
      const db = use(ctx)
      await ok(U.createMany(db, SEED.map(([id, email, username, n]) => ({ id, email, username, n }) as { id: number; email: string; username: string; n: number })))
      return db
    }

    it('a conflict on another unique key than the target is a UniqueViolation; no row changes', async (ctx) => {
      const db = await seeded(ctx)
      duplicate(await fails(U.upsert(db, { id: 3, email: 'c@x', username: 'bob', n: 99 }, { conflict: ['email'], update: ['n'] })))
      duplicate(await fails(U.upsert(db, { id: 1, email: 'd@x', username: 'dan', n: 77 }, { conflict: ['email'], update: ['n', 'username'] })))
      // The primary key as the target (the default), a duplicate email.
      duplicate(await fails(U.upsert(db, { id: 3, email: 'a@x', username: 'zed', n: 5 })))
      // Doing nothing on conflict: a conflict on another key is still a duplicate.
      duplicate(await fails(U.upsert(db, { id: 3, email: 'c@x', username: 'alice', n: 5 }, { conflict: ['email'], update: [] })))
      expect(await rows(db)).toEqual(SEED)
    })

    it('the row holding the target key is the one updated', async (ctx) => {
      const db = await seeded(ctx)
      // id 2 is bob's, but the target is email: alice's row is updated where ON CONFLICT (email)
      // decides; MariaDB's statement finds bob's row by its primary key first: a UniqueViolation
      // there, and no row changes.
      const shared = U.upsert(db, { id: 2, email: 'a@x', username: 'x', n: 5 }, { conflict: ['email'], update: ['n'] })
      if (engine.name === 'mariadb') {
        duplicate(await fails(shared))
        expect(await rows(db)).toEqual(SEED)
        await ok(U.updateWhere(db, { id: 1 }, { n: 5 }))
      } else {
        expect(await ok(shared)).toEqual({ id: 1, email: 'a@x', username: 'alice', n: 5 })
      }
      expect(await ok(U.upsert(db, { id: 9, email: 'a@x', username: 'alice2', n: 10 }, { conflict: ['email'], update: ['n', 'username'] }))).toEqual({ id: 1, email: 'a@x', username: 'alice2', n: 10 })
      // The update itself may collide with another row's key: a UniqueViolation, nothing written.
      duplicate(await fails(U.upsert(db, { id: 9, email: 'a@x', username: 'bob', n: 11 }, { conflict: ['email'], update: ['username', 'n'] })))
      // Nothing to update: the stored row as it is.
      expect(await ok(U.upsert(db, { id: 2, email: 'a@x', username: 'bob', n: 0 }, { conflict: ['email'], update: [] }))).toEqual({ id: 1, email: 'a@x', username: 'alice2', n: 10 })
      // No row with the target key: inserted.
      expect(await ok(U.upsert(db, { id: 3, email: 'c@x', username: 'cy', n: 3 }, { conflict: ['email'] }))).toEqual({ id: 3, email: 'c@x', username: 'cy', n: 3 })
      expect(await ok(U.upsert(db, { id: 2, email: 'b@x', username: 'bob', n: 20 }))).toEqual({ id: 2, email: 'b@x', username: 'bob', n: 20 })
      expect(await rows(db)).toEqual([[1, 'a@x', 'alice2', 10], [2, 'b@x', 'bob', 20], [3, 'c@x', 'cy', 3]])
    })

    it('a target that is no unique key of the table is refused, and nothing is written', async (ctx) => {
      const db = await seeded(ctx)
      const e = await fails(U.upsert(db, { id: 5, email: 'e@x', username: 'eve', n: 5 }, { conflict: ['n'] }))
      expect(e._tag).toBe('QueryError')
      expect(await rows(db)).toEqual(SEED)
    })

    it('concurrent upserts of one new key all succeed: one row, no deadlock', async (ctx) => {
      const db = await seeded(ctx)
      for (let round = 0; round < 5; round++) {
        const all = await Promise.all(Array.from({ length: 6 }, (_, i) =>
          U.upsert(db, { id: 100 + round * 10 + i, email: `k${round}@x`, username: `k${round}-${i}`, n: i }, { conflict: ['email'], update: ['n'] })()))
        expect(all.map((r) => r._tag)).toEqual(Array(6).fill('Right'))
      }
      expect((await rows(db)).length).toBe(SEED.length + 5)
    })

    it('inside a transaction, a refused upsert leaves the transaction going on', async (ctx) => {
      const db = await seeded(ctx)
      const tags = await ok(db.transaction((tx) => async () => {
        const a = await U.upsert(tx, { id: 3, email: 'c@x', username: 'bob', n: 99 }, { conflict: ['email'], update: ['n'] })()
        const b = await U.upsert(tx, { id: 3, email: 'c@x', username: 'cy', n: 3 }, { conflict: ['email'], update: ['n'] })()
        return { _tag: 'Right' as const, right: [a._tag === 'Left' ? a.left._tag : 'Right', b._tag] }
      }))
      expect(tags).toEqual(['UniqueViolation', 'Right'])
      expect(await rows(db)).toEqual([...SEED, [3, 'c@x', 'cy', 3]])
    })
  })
}
