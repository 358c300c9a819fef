/**
 * Write forms from Kysely's and Knex's suites, read back on SQLite, PostgreSQL and MariaDB
 * against what each engine answers for the hand-written SQL: UPDATE and DELETE with ORDER BY
 * without a LIMIT (MySQL and MariaDB apply the rows in that order, which a unique column shifted
 * by one needs; SQLite refuses it, PostgreSQL has no ORDER BY there at all), and an INSERT ...
 * SELECT from a CTE that skips the conflicting rows.
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { run, sql } from 'recordkit'
import { add, cte, deleteFrom, from, fromSelect, gt, insertInto, onConflict, orderBy, returning, select, set, update, where, withCte } from 'recordkit/query'
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

for (const engine of ENGINES) {
  describe(`INSERT ... SELECT from a CTE skipping conflicts on ${engine.name}`, () => {
    const { use } = engineTables(engine, ['q3w_src', 'q3w_dst'], () => [
      'CREATE TABLE q3w_src (id INTEGER PRIMARY KEY, name VARCHAR(10) NOT NULL)',
      'CREATE TABLE q3w_dst (id INTEGER PRIMARY KEY, name VARCHAR(10) NOT NULL)',
    ])

    it('inserts the rows not there yet and returns them (MariaDB refused it, naming an inserted column as missing)', async (ctx) => {
      const db = use(ctx)
      await run(db.execute(sql.raw("INSERT INTO q3w_src (id, name) VALUES (1, 'a'), (2, 'b'), (3, 'c')")))
      await run(db.execute(sql.raw("INSERT INTO q3w_dst (id, name) VALUES (2, 'old')")))
      const copy = pipe(insertInto('q3w_dst'), fromSelect(['id', 'name'], pipe(from('picked'), select('id', 'name'))),
        withCte(cte('picked', pipe(from('q3w_src'), select('id', 'name'), where(gt('id', 1))))), onConflict(['id'], 'nothing'))
      expect((await run(db.execute(copy))).rowsAffected).toBe(1)
      expect(await run(db.all(pipe(from('q3w_dst'), select('id', 'name'), orderBy('id'))))).toEqual([{ id: 2, name: 'old' }, { id: 3, name: 'c' }])
      await run(db.execute(sql.raw('DELETE FROM q3w_dst WHERE id = 3')))
      expect(await run(db.all(pipe(copy, returning('id', 'name'))))).toEqual([{ id: 3, name: 'c' }])
    })
  })
}
