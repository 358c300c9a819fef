/**
 * Adding and dropping columns the way migrations do, on every engine: a column with an
 * expression default or the current time added to a table that holds rows, a NOT NULL column
 * without a default added to an empty table, and a column dropped that a partial index reads.
 * SQLite's own ALTER TABLE refuses the first three and fails the last; recordkit rebuilds the
 * table there, as PostgreSQL and MariaDB do them natively.
 */
import { pipe } from 'fp-ts/lib/function.js'
import { describe, expect, it } from 'vitest'
import { run, sql } from 'recordkit'
import * as d from 'recordkit/schema'
import { alter, apply } from 'recordkit/schema'
import { ENGINES, engineTables } from './support/engine-tables.js'

const T = 'sacd_items'
const E2 = 'sacd_empty'
const C = 'sacd_child'

const ddl = (engine: string): string[] => [
  `CREATE TABLE ${T} (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(20) NOT NULL, flag INTEGER)${engine === 'mariadb' ? ' ENGINE=InnoDB' : ''}`,
  `CREATE TABLE ${E2} (id INTEGER NOT NULL PRIMARY KEY)${engine === 'mariadb' ? ' ENGINE=InnoDB' : ''}`,
  `CREATE TABLE ${C} (id INTEGER NOT NULL PRIMARY KEY, item_id INTEGER, note VARCHAR(20), CONSTRAINT sacd_child_item_fk FOREIGN KEY (item_id) REFERENCES ${T} (id))${engine === 'mariadb' ? ' ENGINE=InnoDB' : ''}`,
]

for (const engine of ENGINES) {
  describe(`adding and dropping columns (${engine.name})`, () => {
    const { use } = engineTables(engine, [C, T, E2], ddl)

    it('an expression default and the current time fill the rows already there; NOT NULL without a default on an empty table', async (ctx) => {
      const db = use(ctx)
      await run(db.execute(sql`INSERT INTO ${sql.id(T)} (id, name) VALUES (1, 'a'), (2, 'b')`))
      await run(alter(db, pipe(d.alterTable(T), d.addColumn('score', 'integer', { notNull: true, default: d.sqlDefault('1 + 2') }))))
      await run(alter(db, pipe(d.alterTable(T), d.addColumn('added_at', 'timestamptz', { notNull: true, default: d.now }))))
      const rows = await run(db.all<{ id: number; score: number; added_at: unknown }>(sql`SELECT id, score, added_at FROM ${sql.id(T)} ORDER BY id`))
      expect(rows.map((r) => [Number(r.id), Number(r.score)])).toEqual([[1, 3], [2, 3]])
      for (const r of rows) expect(r.added_at === null || r.added_at === undefined).toBe(false)
      await run(alter(db, pipe(d.alterTable(E2), d.addColumn('label', 'varchar(20)', { notNull: true }))))
      await run(db.execute(sql`INSERT INTO ${sql.id(E2)} (id, label) VALUES (1, 'x')`))
      const refused = await db.execute(sql`INSERT INTO ${sql.id(E2)} (id) VALUES (2)`)()
      expect(refused._tag).toBe('Left')
    })

    it('a column a partial index reads is dropped with that index', async (ctx) => {
      if (engine.name === 'mariadb') return ctx.skip() // MariaDB has no partial indexes
      const db = use(ctx)
      await run(db.execute(sql`INSERT INTO ${sql.id(T)} (id, name, flag) VALUES (1, 'a', 1)`))
      await run(apply(db, d.createIndex(T, ['name'], { name: 'sacd_items_flagged', where: 'flag = 1' })))
      await run(alter(db, pipe(d.alterTable(T), d.dropColumn('flag'))))
      const rows = await run(db.all<{ id: number; name: string }>(sql`SELECT * FROM ${sql.id(T)}`))
      expect(rows.map((r) => [Number(r.id), r.name])).toEqual([[1, 'a']])
    })

    it('a column a foreign key uses is dropped with the key, as on every engine', async (ctx) => {
      const db = use(ctx)
      await run(db.execute(sql`INSERT INTO ${sql.id(T)} (id, name) VALUES (1, 'a')`))
      await run(db.execute(sql`INSERT INTO ${sql.id(C)} (id, item_id, note) VALUES (1, 1, 'x')`))
      await run(alter(db, pipe(d.alterTable(C), d.dropColumn('item_id'))))
      expect(await run(db.all(sql`SELECT id, note FROM ${sql.id(C)}`))).toEqual([{ id: 1, note: 'x' }])
      // The key went with it: the parent row can go.
      await run(db.execute(sql`DELETE FROM ${sql.id(T)} WHERE id = 1`))
    })
  })
}
