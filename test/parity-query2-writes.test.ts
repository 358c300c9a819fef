/**
 * Writes Kysely's and Knex's suites run on every engine, read back on SQLite, PostgreSQL and
 * MariaDB: an upsert whose update reads the row already stored by its bare column name (as
 * `visits = visits + 1`), and UPDATE ... FROM with RETURNING.
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { run } from 'recordkit'
import {
  add, as, col, concat, deleteFrom, deleteUsing, eq, excluded, from, fromSelect, insertInto, limit, lit, lt, onConflict, orderBy, returning, select, set, update, updateFrom, val, values, where,
} from 'recordkit/query'
import { ENGINES, engineTables } from './support/engine-tables.js'

for (const engine of ENGINES) {
  describe(`writes on ${engine.name}`, () => {
    const { use } = engineTables(engine, ['q2w_visit', 'q2w_owner'], () => [
      'CREATE TABLE q2w_visit (id INTEGER PRIMARY KEY, email VARCHAR(40) NOT NULL UNIQUE, visits INTEGER NOT NULL, owner_id INTEGER)',
      'CREATE TABLE q2w_owner (id INTEGER PRIMARY KEY, name VARCHAR(20) NOT NULL)',
    ])
    const stored = () => pipe(from('q2w_visit'), select('id', 'email', 'visits'), orderBy('id'))

    it('an upsert adds to the stored row named by its bare column', async (ctx) => {
      const db = use(ctx)
      await run(db.execute(pipe(insertInto('q2w_visit'), values([{ id: 1, email: 'a@x', visits: 3 }]))))
      const again = pipe(insertInto('q2w_visit'), values([{ id: 9, email: 'a@x', visits: 1 }, { id: 2, email: 'b@x', visits: 1 }]),
        onConflict(['email'], { visits: add('visits', excluded('visits')) }))
      await run(db.execute(again))
      await run(db.execute(pipe(insertInto('q2w_visit'), values({ id: 9, email: 'a@x', visits: 1 }), onConflict(['email'], { visits: add('visits', val(10)) }))))
      expect(await run(db.all(stored()))).toEqual([{ id: 1, email: 'a@x', visits: 14 }, { id: 2, email: 'b@x', visits: 1 }])
    })

    it('an upsert whose condition names the stored row by its bare column', async (ctx) => {
      const db = use(ctx)
      await run(db.execute(pipe(insertInto('q2w_visit'), values([{ id: 1, email: 'a@x', visits: 3 }, { id: 2, email: 'b@x', visits: 8 }]))))
      const keepLarger = pipe(insertInto('q2w_visit'), values([{ id: 5, email: 'a@x', visits: 5 }, { id: 6, email: 'b@x', visits: 5 }]),
        onConflict(['email'], ['visits'], { where: lt('visits', excluded('visits')) }))
      if (engine.name === 'mariadb') {
        const r = db.compile(keepLarger)
        expect(E.isLeft(r) && r.left._tag).toBe('UnsupportedFeature')
        expect(E.isLeft(r) && r.left.message).toMatch(/^mariadb does not support upsert with a WHERE condition/)
        return
      }
      await run(db.execute(keepLarger))
      expect(await run(db.all(stored()))).toEqual([{ id: 1, email: 'a@x', visits: 5 }, { id: 2, email: 'b@x', visits: 8 }])
    })

    it('an upsert into a table under an alias reads the stored row through the alias', async (ctx) => {
      const db = use(ctx)
      if (engine.name === 'mariadb') return ctx.skip() // INSERT INTO t AS alias is PostgreSQL's and SQLite's
      await run(db.execute(pipe(insertInto('q2w_visit'), values([{ id: 1, email: 'a@x', visits: 3 }]))))
      await run(db.execute(pipe(insertInto('q2w_visit v'), values({ id: 7, email: 'a@x', visits: 2 }), onConflict(['email'], { visits: add('visits', excluded('visits')) }))))
      expect(await run(db.all(stored()))).toEqual([{ id: 1, email: 'a@x', visits: 5 }])
    })

    it('a do-nothing upsert from a query returns the rows it inserted', async (ctx) => {
      const db = use(ctx)
      {
        await run(db.execute(pipe(insertInto('q2w_owner'), values([{ id: 1, name: 'ann' }, { id: 2, name: 'bob' }, { id: 3, name: 'cat' }]))))
        await run(db.execute(pipe(insertInto('q2w_visit'), values([{ id: 2, email: 'bob@x', visits: 0 }]))))
        const copy = pipe(insertInto('q2w_visit'), fromSelect(['id', 'email', 'visits'], pipe(from('q2w_owner'), select('id', as(concat('name', val('@x')), 'email'), as(lit(1), 'visits')), orderBy('id'))),
          onConflict(['id'], 'nothing'), returning('id', 'email'))
        const rows = await run(db.all(copy))
        expect([...rows].sort((a, b) => Number(a.id) - Number(b.id))).toEqual([{ id: 1, email: 'ann@x' }, { id: 3, email: 'cat@x' }])
        expect(await run(db.all(stored()))).toEqual([{ id: 1, email: 'ann@x', visits: 1 }, { id: 2, email: 'bob@x', visits: 0 }, { id: 3, email: 'cat@x', visits: 1 }])
      }
    })

    it('UPDATE and DELETE with ORDER BY, LIMIT and RETURNING (PostgreSQL has no ORDER BY / LIMIT there)', async (ctx) => {
      const db = use(ctx)
      await run(db.execute(pipe(insertInto('q2w_visit'), values([{ id: 1, email: 'a@x', visits: 1 }, { id: 2, email: 'b@x', visits: 2 }, { id: 3, email: 'c@x', visits: 3 }]))))
      const bump = pipe(update('q2w_visit'), set({ visits: 10 }), orderBy('id', 'desc'), limit(1), returning('id', 'visits'))
      const drop = pipe(deleteFrom('q2w_visit'), orderBy('id'), limit(1), returning('id'))
      if (engine.name === 'postgres') {
        for (const q of [bump, drop]) {
          const r = db.compile(q)
          expect(E.isLeft(r) && r.left._tag).toBe('UnsupportedFeature')
        }
        return
      }
      if (engine.name === 'mariadb') {
        // MariaDB has no UPDATE ... RETURNING.
        const r = db.compile(bump)
        expect(E.isLeft(r) && r.left._tag).toBe('UnsupportedFeature')
      } else {
        expect(await run(db.all(bump))).toEqual([{ id: 3, visits: 10 }])
      }
      expect(await run(db.all(drop))).toEqual([{ id: 1 }])
      expect((await run(db.all(stored()))).map((r) => r.id)).toEqual([2, 3])
    })

    it('RETURNING * of UPDATE ... FROM and DELETE ... USING is the changed table\'s columns', async (ctx) => {
      const db = use(ctx)
      await run(db.execute(pipe(insertInto('q2w_owner'), values([{ id: 7, name: 'ann' }]))))
      await run(db.execute(pipe(insertInto('q2w_visit'), values([{ id: 1, email: 'a@x', visits: 0, owner_id: 7 }]))))
      const bump = pipe(update('q2w_visit'), set({ visits: 5 }), updateFrom('q2w_owner'), where(eq('q2w_visit.owner_id', col('q2w_owner.id'))), returning('*'))
      if (engine.name === 'mariadb') {
        const r = db.compile(bump)
        expect(E.isLeft(r) && r.left._tag).toBe('UnsupportedFeature')
        return
      }
      // The owner's id (7) would stand in the row's id under the same name.
      expect(await run(db.all(bump))).toEqual([{ id: 1, email: 'a@x', visits: 5, owner_id: 7 }])
      if (engine.name === 'postgres') {
        const gone = pipe(deleteFrom('q2w_visit'), deleteUsing('q2w_owner'), where(eq('q2w_visit.owner_id', col('q2w_owner.id'))), returning('*'))
        expect(await run(db.all(gone))).toEqual([{ id: 1, email: 'a@x', visits: 5, owner_id: 7 }])
      }
    })

    it('UPDATE ... FROM returns the rows it changed, and refuses what the engine cannot return', async (ctx) => {
      const db = use(ctx)
      await run(db.execute(pipe(insertInto('q2w_owner'), values([{ id: 1, name: 'ann' }, { id: 2, name: 'bob' }]))))
      await run(db.execute(pipe(insertInto('q2w_visit'), values([{ id: 1, email: 'a@x', visits: 0, owner_id: 1 }, { id: 2, email: 'b@x', visits: 0, owner_id: 2 }]))))
      const bump = pipe(update('q2w_visit'), set({ visits: add('q2w_visit.visits', col('q2w_owner.id')) }), updateFrom('q2w_owner'), where(eq('q2w_visit.owner_id', col('q2w_owner.id'))))
      const ownOnly = pipe(bump, returning('q2w_visit.id', 'q2w_visit.visits'))
      const withOwner = pipe(bump, returning('q2w_visit.id', 'q2w_owner.name'))
      if (engine.name === 'mariadb') {
        for (const q of [ownOnly, withOwner]) {
          const r = db.compile(q)
          expect(E.isLeft(r) && r.left._tag).toBe('UnsupportedFeature')
        }
        return
      }
      const byId = (rows: readonly Record<string, unknown>[]) => [...rows].sort((a, b) => Number(a.id) - Number(b.id))
      expect(byId(await run(db.all(ownOnly)))).toEqual([{ id: 1, visits: 1 }, { id: 2, visits: 2 }])
      if (engine.name === 'sqlite') {
        // SQLite's RETURNING sees the updated table alone: a column of a FROM table is refused
        // before the statement runs, naming the table, and nothing is written.
        const r = db.compile(withOwner)
        expect(E.isLeft(r) && r.left._tag).toBe('UnsupportedFeature')
        expect(E.isLeft(r) && r.left.message).toMatch(/^sqlite does not support RETURNING a column of a FROM table of UPDATE \.\.\. FROM \(q2w_owner\.name\)/)
        await expect(run(db.all(withOwner))).rejects.toMatchObject({ _tag: 'UnsupportedFeature' })
        expect(await run(db.all(stored()))).toEqual([{ id: 1, email: 'a@x', visits: 1 }, { id: 2, email: 'b@x', visits: 2 }])
        return
      }
      expect(byId(await run(db.all(withOwner)))).toEqual([{ id: 1, name: 'ann' }, { id: 2, name: 'bob' }])
    })
  })
}

