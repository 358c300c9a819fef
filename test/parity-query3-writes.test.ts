/**
 * UPDATE and DELETE forms from Kysely's and Knex's suites, read back on SQLite, PostgreSQL and
 * MariaDB against what each engine answers for the hand-written SQL: ORDER BY without a LIMIT
 * (MySQL and MariaDB apply the rows in that order, which a unique column shifted by one needs;
 * SQLite refuses it, PostgreSQL has no ORDER BY there at all).
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { run, sql } from 'recordkit'
import { add, deleteFrom, from, gt, orderBy, select, set, update, where } from 'recordkit/query'
import { ENGINES, engineTables } from './support/engine-tables.js'

for (const engine of ENGINES) {
  describe(`UPDATE and DELETE with ORDER BY and no LIMIT on ${engine.name}`, () => {
    const { use } = engineTables(engine, ['q3w_slot'], () => [
      'CREATE TABLE q3w_slot (id INTEGER PRIMARY KEY, pos INTEGER NOT NULL UNIQUE)',
    ])
    const stored = () => pipe(from('q3w_slot'), select('id', 'pos'), orderBy('id'))

    it('runs where the engine has it, and is an UnsupportedFeature naming the engine where it has not', async (ctx) => {
      const db = use(ctx)
      await run(db.execute(sql.raw('INSERT INTO q3w_slot (id, pos) VALUES (1, 1), (2, 2), (3, 3)')))
      const shift = pipe(update('q3w_slot'), set({ pos: add('pos', 1) }), where(gt('pos', 1)), orderBy('pos', 'desc'))
      const drop = pipe(deleteFrom('q3w_slot'), where(gt('pos', 3)), orderBy('pos'))
      if (engine.name !== 'mariadb') {
        // The hand-written statement: SQLite answers "ORDER BY without LIMIT on UPDATE", PostgreSQL a syntax error.
        await expect(run(db.execute(sql.raw('UPDATE q3w_slot SET pos = pos + 1 WHERE pos > 1 ORDER BY pos DESC')))).rejects.toMatchObject({ _tag: 'QueryError' })
        for (const q of [shift, drop]) {
          const r = db.compile(q)
          expect(E.isLeft(r) && r.left._tag).toBe('UnsupportedFeature')
          expect(E.isLeft(r) && r.left.message).toMatch(new RegExp(`^${engine.name} does not support ORDER BY`))
          await expect(run(db.execute(q))).rejects.toMatchObject({ _tag: 'UnsupportedFeature' })
        }
        expect(await run(db.all(stored()))).toEqual([{ id: 1, pos: 1 }, { id: 2, pos: 2 }, { id: 3, pos: 3 }])
        return
      }
      expect((await run(db.execute(shift))).rowsAffected).toBe(2)
      expect(await run(db.all(stored()))).toEqual([{ id: 1, pos: 1 }, { id: 2, pos: 3 }, { id: 3, pos: 4 }])
      expect((await run(db.execute(drop))).rowsAffected).toBe(1)
      expect(await run(db.all(stored()))).toEqual([{ id: 1, pos: 1 }, { id: 2, pos: 3 }])
    })
  })
}
