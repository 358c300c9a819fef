/**
 * A model write either returns the stored row, decoded, or fails having written nothing, on
 * SQLite, PostgreSQL and MariaDB: `create`, `upsert` (insert and update paths) and `update`
 * whose stored row does not decode (here a column DEFAULT, or a value stored before, that the
 * codec refuses) roll back with the DecodeError: outside a transaction in a unit of their own,
 * inside the caller's transaction in a savepoint of it (so the write leaves nothing behind), and
 * the caller's transaction, given the Left, rolls back whole. On SQLite both ways of running the unit
 * are seen: the synchronous path of a plain backend, and `db.transaction` where middleware
 * wraps `execute` (which leaves no synchronous path), or where `after*` hooks run.
 */
import * as TE from 'fp-ts/lib/TaskEither.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { type Backend, type DbError, sql, wrap } from 'recordkit'
import { model } from 'recordkit/model'
import { fails, ok } from 'recordkit/testing'
import { ENGINES, engineTables } from './support/engine-tables.js'

/** Codes start with `x`: the column's DEFAULT, `y`, does not decode. */
const Code = t.refinement(t.string, (s) => s.startsWith('x'), 'XCode')
const definition = { table: 'rk_mwa_flags', primaryKey: 'id', codec: t.type({ id: t.number, n: t.number, code: Code }), defaults: ['code'] } as const
const Flag = model(definition)
/** The same table with `after*` hooks: every write runs in `db.transaction`. */
const Hooked = model({
  ...definition,
  hooks: { afterInsert: (r) => TE.right(r), afterUpdate: (r) => TE.right(r) },
})

const ddl = (): string[] => ["CREATE TABLE rk_mwa_flags (id INTEGER PRIMARY KEY, n INTEGER NOT NULL, code VARCHAR(10) NOT NULL DEFAULT 'y')"]

/** The stored rows, as [id, n, code]. */
const stored = async (db: Backend): Promise<unknown[][]> =>
  (await ok(db.all<{ id: unknown; n: unknown; code: unknown }>(sql`SELECT id, n, code FROM rk_mwa_flags ORDER BY id`))).map((r) => [Number(r.id), Number(r.n), r.code])

/** The error is the DecodeError of the `code` column. */
const codeRefused = (e: DbError): void => {
  expect(e._tag).toBe('DecodeError')
  expect(e.message).toContain('column "code" of rk_mwa_flags')
  expect(e.message).toContain('got "y"')
}

/** Middleware on `execute`: the backend keeps no synchronous path, so writes use `db.transaction`. */
const wrapped = (db: Backend): Backend => wrap(db, { execute: (next) => (q) => next(q) })

for (const engine of ENGINES) {
  describe(`model writes on ${engine.name}: the stored row decoded, or nothing written`, () => {
    const { use } = engineTables(engine, ['rk_mwa_flags'], ddl)
    const ways: readonly { readonly name: string; readonly backend: (db: Backend) => Backend; readonly M: typeof Flag }[] = [
      { name: 'as it is', backend: (db) => db, M: Flag },
      { name: 'wrapped in middleware', backend: wrapped, M: Flag },
      { name: 'with after* hooks', backend: (db) => db, M: Hooked as unknown as typeof Flag },
    ]

    for (const { name, backend, M } of ways) {
      describe(name, () => {
        it('create: a stored row that does not decode is rolled back with the DecodeError', async (ctx) => {
          const db = backend(use(ctx))
          codeRefused(await fails(M.create(db, { id: 1, n: 1 })))
          expect(await stored(db)).toEqual([])
          // A row that decodes is written and returned as stored.
          expect(await ok(M.create(db, { id: 2, n: 2, code: 'xb' }))).toEqual({ id: 2, n: 2, code: 'xb' })
          expect(await stored(db)).toEqual([[2, 2, 'xb']])
          // No transaction was left open: a transaction of the caller's begins and commits.
          await ok(db.transaction((tx) => M.create(tx, { id: 3, n: 3, code: 'xc' })))
          expect(await stored(db)).toEqual([[2, 2, 'xb'], [3, 3, 'xc']])
        })

        it('upsert: neither the insert nor the update of a row that does not decode is kept', async (ctx) => {
          const db = backend(use(ctx))
          codeRefused(await fails(M.upsert(db, { id: 1, n: 1 })))
          expect(await stored(db)).toEqual([])
          // A row stored with the DEFAULT: the update of `n` is rolled back.
          await ok(db.execute(sql`INSERT INTO rk_mwa_flags (id, n) VALUES (3, 3)`))
          codeRefused(await fails(M.upsert(db, { id: 3, n: 30 }, { update: ['n'] })))
          expect(await stored(db)).toEqual([[3, 3, 'y']])
          // Giving the code makes the row decode: the upsert is written.
          expect(await ok(M.upsert(db, { id: 3, n: 31, code: 'xc' }))).toEqual({ id: 3, n: 31, code: 'xc' })
          expect(await stored(db)).toEqual([[3, 31, 'xc']])
        })

        it('update: the update of a stored row that does not decode is rolled back', async (ctx) => {
          const db = backend(use(ctx))
          await ok(db.execute(sql`INSERT INTO rk_mwa_flags (id, n) VALUES (4, 4)`))
          // The row as the caller believes it is.
          codeRefused(await fails(M.update(db, { id: 4, n: 4, code: 'xd' }, { n: 40 })))
          expect(await stored(db)).toEqual([[4, 4, 'y']])
          expect(await ok(M.update(db, { id: 4, n: 4, code: 'y' }, { n: 41, code: 'xd' }))).toEqual({ id: 4, n: 41, code: 'xd' })
          expect(await stored(db)).toEqual([[4, 41, 'xd']])
        })

        it("inside a transaction: the write runs in a savepoint of the caller's transaction, and the Left rolls the caller's transaction back whole", async (ctx) => {
          const db = backend(use(ctx))
          await ok(db.execute(sql`INSERT INTO rk_mwa_flags (id, n) VALUES (5, 5)`))
          const failing: readonly ((tx: Backend) => TE.TaskEither<DbError, unknown>)[] = [
            (tx) => M.create(tx, { id: 2, n: 2 }),
            (tx) => M.upsert(tx, { id: 5, n: 50 }, { update: ['n'] }),
            (tx) => M.update(tx, { id: 5, n: 5, code: 'x' }, { n: 51 }),
          ]
          for (const write of failing) {
            // A write before the failing one, in the same transaction, is rolled back with it.
            codeRefused(await fails(db.transaction((tx) => pipe(M.create(tx, { id: 1, n: 1, code: 'xa' }), TE.chain(() => write(tx))))))
            expect(await stored(db)).toEqual([[5, 5, 'y']])
          }
          // Writes that decode commit with the transaction.
          await ok(db.transaction((tx) => pipe(M.create(tx, { id: 1, n: 1, code: 'xa' }), TE.chain(() => M.update(tx, { id: 1, n: 1, code: 'xa' }, { n: 10 })))))
          expect(await stored(db)).toEqual([[1, 10, 'xa'], [5, 5, 'y']])
        })
      })
    }
  })
}
