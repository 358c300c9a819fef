/**
 * A hook that returns something other than a TaskEither (undefined, a Promise, a plain value, a
 * Task whose result is not an Either) fails the write with a HookError that names the hook, the
 * model's table and what it returned, and says a hook must return a TaskEither; nothing is
 * written, on SQLite, PostgreSQL and MariaDB, before and after the statement.
 */
import * as TE from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { type Backend, isDbError, sql } from 'recordkit'
import { model } from 'recordkit/model'
import { fails, ok } from 'recordkit/testing'
import { ENGINES, engineTables } from './support/engine-tables.js'

const codec = t.type({ id: t.number, name: t.string })
const base = { table: 'rk_mdh_items', primaryKey: 'id', codec } as const

/** What each wrong hook returns, and the words the error shows for it. */
const wrongs: readonly { readonly name: string; readonly value: () => unknown; readonly shown: string }[] = [
  { name: 'undefined', value: () => undefined, shown: 'returned undefined' },
  { name: 'a Promise', value: () => Promise.resolve({ id: 1, name: 'a' }), shown: 'returned a Promise' },
  { name: 'a plain value', value: () => ({ id: 1, name: 'a' }), shown: 'returned an object with fields id, name' },
  { name: 'a Task of a plain value', value: () => () => Promise.resolve({ id: 1, name: 'a' }), shown: 'returned a function whose result was an object with fields id, name, not an Either' },
]

const stored = async (db: Backend): Promise<unknown[][]> =>
  (await ok(db.all<{ id: unknown; name: unknown }>(sql`SELECT id, name FROM rk_mdh_items ORDER BY id`))).map((r) => [Number(r.id), r.name])

for (const engine of ENGINES) {
  describe(`hooks that return no TaskEither on ${engine.name}`, () => {
    const { use } = engineTables(engine, ['rk_mdh_items'], () => ['CREATE TABLE rk_mdh_items (id INTEGER PRIMARY KEY, name VARCHAR(20) NOT NULL)'])

    for (const wrong of wrongs) {
      for (const hook of ['beforeInsert', 'afterInsert'] as const) {
        it(`${hook} returning ${wrong.name}: a HookError naming hook, table and value; nothing written`, async (ctx) => {
          const db = use(ctx)
          const M = model({ ...base, hooks: { [hook]: wrong.value as never } })
          const e = await fails(M.create(db, { id: 1, name: 'a' }))
          expect(e._tag).toBe('HookError')
          expect(isDbError(e, 'HookError') && e.hook).toBe(hook)
          expect(e.message).toContain(`${hook}: the own hook of the model of table rk_mdh_items ${wrong.shown}`)
          expect(e.message).toContain('a hook must return a TaskEither')
          expect(e.message).toContain('TE.right(value)')
          expect(e.message).not.toContain('is not a function')
          expect(await stored(db)).toEqual([])
        })
      }

      it(`beforeUpdate and afterUpdate returning ${wrong.name}: the row stays as it was`, async (ctx) => {
        const db = use(ctx)
        await ok(db.execute(sql`INSERT INTO rk_mdh_items (id, name) VALUES (1, 'a')`))
        for (const hook of ['beforeUpdate', 'afterUpdate'] as const) {
          const M = model({ ...base, hooks: { [hook]: wrong.value as never } })
          const e = await fails(M.update(db, { id: 1, name: 'a' }, { name: 'b' }))
          expect(e.message).toContain(`${hook}: the own hook of the model of table rk_mdh_items ${wrong.shown}`)
          expect(await stored(db)).toEqual([[1, 'a']])
        }
      })
    }

    it("a behaviour's wrong hook is named by the behaviour", async (ctx) => {
      const db = use(ctx)
      const broken = { name: 'brokenStamps', beforeInsert: () => undefined }
      const M = model({ ...base, behaviours: [broken as never] })
      const e = await fails(M.create(db, { id: 1, name: 'a' }))
      expect(e.message).toContain('beforeInsert: the hook of behaviour brokenStamps of the model of table rk_mdh_items returned undefined')
      expect(await stored(db)).toEqual([])
    })

    it('a hook that returns a TaskEither still works', async (ctx) => {
      const db = use(ctx)
      const M = model({ ...base, hooks: { beforeInsert: (v) => TE.right({ ...v, name: `${v.name}!` }) } })
      expect(await ok(M.create(db, { id: 1, name: 'a' }))).toEqual({ id: 1, name: 'a!' })
    })
  })
}
