/**
 * The DEFAULT keyword given by hand, as Kysely's and Knex's suites write it (`sql\`default\``,
 * `knex.raw('DEFAULT')`): in an INSERT row beside values, as an UPDATE assignment and as an
 * upsert's, read back on SQLite, PostgreSQL and MariaDB against what each engine answers for the
 * hand-written SQL.
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { run, sql } from 'recordkit'
import { DEFAULT, eq, from, insertInto, onConflict, orderBy, select, set, update, values, where } from 'recordkit/query'
import { ENGINES, engineTables } from './support/engine-tables.js'

for (const engine of ENGINES) {
  describe(`DEFAULT given by hand on ${engine.name}`, () => {
    const { use } = engineTables(engine, ['q3d_item'], () => [
      "CREATE TABLE q3d_item (id INTEGER PRIMARY KEY, qty INTEGER DEFAULT 7, label VARCHAR(20) DEFAULT 'none')",
    ])
    const stored = () => pipe(from('q3d_item'), select('id', 'qty', 'label'), orderBy('id'))

    it('DEFAULT in an INSERT row is the column default, as the engine gives it for the hand-written SQL', async (ctx) => {
      const db = use(ctx)
      // What the engine answers: DEFAULT written in the row (SQLite has no DEFAULT in VALUES: the column left out).
      await run(db.execute(sql.raw(engine.name === 'sqlite'
        ? "INSERT INTO q3d_item (id, label) VALUES (1, 'a')"
        : "INSERT INTO q3d_item (id, qty, label) VALUES (1, DEFAULT, 'a')")))
      await run(db.execute(pipe(insertInto('q3d_item'), values({ id: 2, qty: DEFAULT, label: 'b' }))))
      await run(db.execute(pipe(insertInto('q3d_item'), values([{ id: 3, qty: DEFAULT, label: 'c' }, { id: 4, qty: 1, label: DEFAULT }]))))
      expect(await run(db.all(stored()))).toEqual([
        { id: 1, qty: 7, label: 'a' }, { id: 2, qty: 7, label: 'b' }, { id: 3, qty: 7, label: 'c' }, { id: 4, qty: 1, label: 'none' },
      ])
    })

    it('DEFAULT as an UPDATE assignment resets the column (SQLite has none: UnsupportedFeature)', async (ctx) => {
      const db = use(ctx)
      await run(db.execute(sql.raw("INSERT INTO q3d_item (id, qty, label) VALUES (1, 1, 'a'), (2, 2, 'b')")))
      const reset = pipe(update('q3d_item'), set({ qty: DEFAULT }), where(eq('id', 1)))
      if (engine.name === 'sqlite') {
        const r = db.compile(reset)
        expect(E.isLeft(r) && r.left._tag).toBe('UnsupportedFeature')
        expect(E.isLeft(r) && r.left.message).toMatch(/^sqlite does not support DEFAULT in UPDATE \.\.\. SET/)
        await expect(run(db.execute(reset))).rejects.toMatchObject({ _tag: 'UnsupportedFeature' })
        expect(await run(db.all(stored()))).toEqual([{ id: 1, qty: 1, label: 'a' }, { id: 2, qty: 2, label: 'b' }])
        return
      }
      await run(db.execute(sql.raw('UPDATE q3d_item SET qty = DEFAULT WHERE id = 2')))
      expect((await run(db.execute(reset))).rowsAffected).toBe(1)
      expect(await run(db.all(stored()))).toEqual([{ id: 1, qty: 7, label: 'a' }, { id: 2, qty: 7, label: 'b' }])
    })

    it('DEFAULT as the assignment of an upsert resets the stored row (SQLite has none: UnsupportedFeature)', async (ctx) => {
      const db = use(ctx)
      await run(db.execute(sql.raw("INSERT INTO q3d_item (id, qty, label) VALUES (1, 1, 'a')")))
      const upsert = pipe(insertInto('q3d_item'), values({ id: 1, qty: 3, label: 'b' }), onConflict(['id'], { qty: DEFAULT, label: 'c' }))
      if (engine.name === 'sqlite') {
        // The hand-written statement: "near DEFAULT: syntax error".
        await expect(run(db.execute(sql.raw("INSERT INTO q3d_item (id, qty) VALUES (1, 3) ON CONFLICT (id) DO UPDATE SET qty = DEFAULT")))).rejects.toMatchObject({ _tag: 'QueryError' })
        const r = db.compile(upsert)
        expect(E.isLeft(r) && r.left._tag).toBe('UnsupportedFeature')
        expect(E.isLeft(r) && r.left.message).toMatch(/^sqlite does not support DEFAULT in ON CONFLICT \.\.\. DO UPDATE SET/)
        expect(await run(db.all(stored()))).toEqual([{ id: 1, qty: 1, label: 'a' }])
        return
      }
      await run(db.execute(upsert))
      expect(await run(db.all(stored()))).toEqual([{ id: 1, qty: 7, label: 'c' }])
    })
  })
}
