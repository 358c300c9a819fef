/**
 * Whole numbers written by the builders as PostgreSQL and MariaDB (and Knex on node-sqlite3)
 * store them: into a text column, into a concatenation, through a prepared query and a stream,
 * read back on SQLite, PostgreSQL and MariaDB against what each engine answers for the
 * hand-written SQL with the number in its text. better-sqlite3 bound every JS number as a REAL,
 * so SQLite stored 5 as '5.0' in a text column.
 */
import { pipe } from 'fp-ts/lib/function.js'
import { describe, expect, it } from 'vitest'
import { run, sql } from 'recordkit'
import { as, concat, eq, from, insertInto, orderBy, param, select, set, update, val, values, where } from 'recordkit/query'
import { ENGINES, engineTables } from './support/engine-tables.js'

for (const engine of ENGINES) {
  describe(`whole numbers bound on ${engine.name}`, () => {
    const { use } = engineTables(engine, ['q3b_note'], () => [
      'CREATE TABLE q3b_note (id INTEGER PRIMARY KEY, label VARCHAR(20), amount REAL)',
    ])
    const stored = () => pipe(from('q3b_note'), select('id', 'label', 'amount'), orderBy('id'))

    it('a whole number written to a text column is stored as the engine stores it from its own SQL text', async (ctx) => {
      const db = use(ctx)
      await run(db.execute(sql.raw('INSERT INTO q3b_note (id, label, amount) VALUES (1, 5, 5)')))
      await run(db.execute(pipe(insertInto('q3b_note'), values([{ id: 2, label: 5, amount: 5 }, { id: 3, label: 2.5, amount: 2.5 }]))))
      await run(db.execute(pipe(insertInto('q3b_note'), values({ id: 4, label: 'x', amount: 1 }))))
      await run(db.execute(pipe(update('q3b_note'), set({ label: -7 }), where(eq('id', 4)))))
      expect(await run(db.all(stored()))).toEqual([
        { id: 1, label: '5', amount: 5 }, { id: 2, label: '5', amount: 5 }, { id: 3, label: '2.5', amount: 2.5 }, { id: 4, label: '-7', amount: 1 },
      ])
      expect((await run(db.all(pipe(from('q3b_note'), select('id'), where(eq('label', 5)), orderBy('id'))))).map((r) => r.id)).toEqual([1, 2])
    })

    it('a whole number concatenated, through a prepared query and a stream', async (ctx) => {
      const db = use(ctx)
      await run(db.execute(pipe(insertInto('q3b_note'), values([{ id: 1, label: 'Ann', amount: 1.5 }, { id: 2, label: 'Bob', amount: 2 }]))))
      const tagged = pipe(from('q3b_note'), select('id', as(concat('label', val(5)), 'tag')), orderBy('id'))
      expect(await run(db.all(tagged))).toEqual([{ id: 1, tag: 'Ann5' }, { id: 2, tag: 'Bob5' }])
      const byId = db.prepare(pipe(from('q3b_note'), select(as(concat('label', param('n')), 'tag')), where(eq('id', param('id')))))
      expect(await run(byId.all({ n: 42, id: 2 }))).toEqual([{ tag: 'Bob42' }])
      const streamed: unknown[] = []
      for await (const r of db.stream(tagged)) streamed.push(r)
      expect(streamed).toEqual([{ id: 1, tag: 'Ann5' }, { id: 2, tag: 'Bob5' }])
    })
  })
}
