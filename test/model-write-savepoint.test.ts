/**
 * A model write inside the caller's transaction runs in a savepoint, on SQLite, PostgreSQL and
 * MariaDB: when its statement ran but a later step fails (the stored row does not decode, an
 * `after*` hook fails), the savepoint is rolled back, so a caller that recovers from the Left and
 * commits keeps nothing of the failed write, and keeps everything else it wrote. On PostgreSQL a
 * failed statement (a duplicate key) no longer aborts the caller's transaction. On SQLite both
 * ways of running the unit are seen: the synchronous path of a plain backend, and
 * `db.transaction` where middleware wraps `execute`.
 */
import * as TE from 'fp-ts/lib/TaskEither.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { type Backend, type DbError, sql, wrap } from 'recordkit'
import { hookError, model } from 'recordkit/model'
import { ok } from 'recordkit/testing'
import { ENGINES, engineTables } from './support/engine-tables.js'

const TABLES = ['rk_mwsp_status', 'rk_mwsp_audit']

/** The column DEFAULT, 'weird', is a value the codec refuses. */
const definition = {
  table: 'rk_mwsp_status',
  primaryKey: 'id',
  defaults: ['status'],
  codec: t.type({ id: t.number, name: t.string, status: t.keyof({ ok: null, bad: null }) }),
} as const
const Status = model(definition)
const Audit = model({ table: 'rk_mwsp_audit', primaryKey: 'id', codec: t.type({ id: t.number, note: t.string }) })
/** afterInsert writes an audit row, then refuses names starting with 'no'. */
const Hooked = model({
  ...definition,
  hooks: {
    afterInsert: (row, ctx) => pipe(
      Audit.create(ctx.db, { id: row.id, note: `created ${row.name}` }),
      TE.chain(() => (row.name.startsWith('no') ? TE.left(hookError('afterInsert', 'refused')) : TE.right(row))),
    ),
  },
})

const ddl = (engine: string): string[] => {
  const key = engine === 'sqlite' ? 'INTEGER PRIMARY KEY' : engine === 'postgres' ? 'SERIAL PRIMARY KEY' : 'INT AUTO_INCREMENT PRIMARY KEY'
  return [
    `CREATE TABLE rk_mwsp_status (id ${key}, name VARCHAR(20) NOT NULL UNIQUE, status VARCHAR(10) NOT NULL DEFAULT 'weird')`,
    'CREATE TABLE rk_mwsp_audit (id INTEGER PRIMARY KEY, note VARCHAR(40) NOT NULL)',
  ]
}

/** The stored names, in order. */
const names = async (db: Backend): Promise<string[]> =>
  (await ok(db.all<{ name: string }>(sql`SELECT name FROM rk_mwsp_status ORDER BY name`))).map((r) => r.name)
const notes = async (db: Backend): Promise<string[]> =>
  (await ok(db.all<{ note: string }>(sql`SELECT note FROM rk_mwsp_audit ORDER BY note`))).map((r) => r.note)

/** Recover from a Left as its tag. */
const tagOf = <A>(te: TE.TaskEither<DbError, A>): TE.TaskEither<DbError, string> => pipe(te, TE.map(() => 'Right'), TE.orElseW((e) => TE.right(e._tag)))

const wrapped = (db: Backend): Backend => wrap(db, { execute: (next) => (q) => next(q) })

for (const engine of ENGINES) {
  describe(`model writes inside a transaction run in a savepoint on ${engine.name}`, () => {
    const { use } = engineTables(engine, TABLES, ddl)
    const ways: readonly { readonly name: string; readonly backend: (db: Backend) => Backend }[] = [
      { name: 'as it is', backend: (db) => db },
      { name: 'wrapped in middleware', backend: wrapped },
    ]
    for (const { name, backend } of ways) {
      it(`${name}: a create whose stored row does not decode is undone, and the caller commits the rest`, async (ctx) => {
        const db = backend(use(ctx))
        const result = await ok(db.transaction((tx) => pipe(
          Status.create(tx, { name: 'before', status: 'ok' }),
          TE.chain(() => tagOf(Status.create(tx, { name: 'in' }))),
          TE.chain((tag) => pipe(tx.all<{ n: unknown }>(sql`SELECT COUNT(*) AS n FROM rk_mwsp_status WHERE name = 'in'`), TE.map((r) => [tag, Number(r[0].n)]))),
          TE.chainFirst(() => Status.create(tx, { name: 'after', status: 'bad' })),
        )))
        expect(result).toEqual(['DecodeError', 0])
        expect(await names(db)).toEqual(['after', 'before'])
      })

      it(`${name}: upsert and update whose stored row does not decode are undone inside the transaction`, async (ctx) => {
        const db = backend(use(ctx))
        await ok(db.execute(sql`INSERT INTO rk_mwsp_status (id, name) VALUES (7, 'seven')`))
        const tags = await ok(db.transaction((tx) => pipe(
          tagOf(Status.upsert(tx, { id: 7, name: 'eight' }, { update: ['name'] })),
          TE.chain((a) => pipe(tagOf(Status.update(tx, { id: 7, name: 'seven', status: 'ok' }, { name: 'nine' })), TE.map((b) => [a, b]))),
        )))
        expect(tags).toEqual(['DecodeError', 'DecodeError'])
        expect(await names(db)).toEqual(['seven'])
      })
    }

    it('an afterInsert hook that fails undoes the insert and the hook\'s own write; the caller commits the rest', async (ctx) => {
      const db = use(ctx)
      const result = await ok(db.transaction((tx) => pipe(
        Hooked.create(tx, { id: 1, name: 'yes', status: 'ok' }),
        TE.chain(() => tagOf(Hooked.create(tx, { id: 2, name: 'no', status: 'ok' }))),
        TE.chainFirst(() => Hooked.create(tx, { id: 3, name: 'yes too', status: 'ok' })),
      )))
      expect(result).toBe('HookError')
      expect(await names(db)).toEqual(['yes', 'yes too'])
      expect(await notes(db)).toEqual(['created yes', 'created yes too'])
    })

    it('a duplicate key inside a transaction: the caller recovers, writes again and commits', async (ctx) => {
      const db = use(ctx)
      await ok(Status.create(db, { name: 'taken', status: 'ok' }))
      const result = await ok(db.transaction((tx) => pipe(
        tagOf(Status.create(tx, { name: 'taken', status: 'bad' })),
        TE.chain((tag) => pipe(Status.create(tx, { name: 'free', status: 'ok' }), TE.map((r) => [tag, r.name]))),
        TE.chainFirst(() => tagOf(Status.upsert(tx, { id: 1000, name: 'taken', status: 'ok' }))),
        TE.chainFirst(() => Status.createMany(tx, [{ name: 'many', status: 'ok' }])),
      )))
      expect(result).toEqual(['UniqueViolation', 'free'])
      expect(await names(db)).toEqual(['free', 'many', 'taken'])
    })

    it('createMany with a duplicate in its last row is undone whole; the caller commits the rest', async (ctx) => {
      const db = use(ctx)
      const result = await ok(db.transaction((tx) => pipe(
        Status.create(tx, { name: 'first', status: 'ok' }),
        TE.chain(() => tagOf(Status.createMany(tx, [{ name: 'a', status: 'ok' }, { name: 'first', status: 'ok' }]))),
        TE.chainFirst(() => Status.create(tx, { name: 'last', status: 'ok' })),
      )))
      expect(result).toBe('UniqueViolation')
      expect(await names(db)).toEqual(['first', 'last'])
    })

    it('nested model writes (a hook writing inside a write) inside a savepoint of the caller commit', async (ctx) => {
      const db = use(ctx)
      await ok(db.transaction((tx) => tx.savepoint('mine', (sp) => pipe(
        Hooked.create(sp, { id: 1, name: 'a', status: 'ok' }),
        TE.chain(() => Hooked.create(sp, { id: 2, name: 'b', status: 'ok' })),
      ))))
      expect(await names(db)).toEqual(['a', 'b'])
      expect(await notes(db)).toEqual(['created a', 'created b'])
    })
  })
}
