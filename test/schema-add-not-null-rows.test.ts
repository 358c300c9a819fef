/**
 * A NOT NULL column without a default added to a table that holds rows: PostgreSQL and SQLite
 * refuse it (the rows would hold NULL), while MariaDB and MySQL fill every row with the type's
 * implicit default ('' or 0) without a word, inventing values. recordkit refuses it on every
 * engine with a NotNullViolation naming the table and the column, before any statement of the
 * change runs; the same column on an empty table, or with a default, is added as before.
 */
import { pipe } from 'fp-ts/lib/function.js'
import { beforeEach, describe, expect, it } from 'vitest'
import { isDbError, run, sql } from 'recordkit'
import * as d from 'recordkit/schema'
import { alter, apply } from 'recordkit/schema'
import { ENGINES, engineTables } from './support/engine-tables.js'

const T = 'sanr_items'
const E2 = 'sanr_empty'

const ddl = (engine: string): string[] => [
  `CREATE TABLE ${T} (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(20) NOT NULL)${engine === 'mariadb' ? ' ENGINE=InnoDB' : ''}`,
  `CREATE TABLE ${E2} (id INTEGER NOT NULL PRIMARY KEY)${engine === 'mariadb' ? ' ENGINE=InnoDB' : ''}`,
]

const columnsOf = async (db: Parameters<typeof apply>[0], table: string): Promise<string[]> =>
  (await run(d.introspectTable(db, table))).columns.map((c) => c.name)

for (const engine of ENGINES) {
  describe(`a NOT NULL column without a default on a table with rows (${engine.name})`, () => {
    const { use, current } = engineTables(engine, [T, E2], ddl)
    // Each test changes the tables' columns: each starts from them as made.
    beforeEach(async () => {
      const db = current()
      if (db === undefined) return
      for (const table of [T, E2]) await run(db.execute(sql`DROP TABLE IF EXISTS ${sql.id(table)}`))
      for (const text of ddl(engine.name)) await run(db.execute(sql.raw(text)))
    })

    for (const [how, change] of [
      ['apply', apply],
      ['alter', alter],
    ] as const) {
      it(`${how}: a NotNullViolation naming the table and the column; nothing of the change is made`, async (ctx) => {
        const db = use(ctx)
        await run(db.execute(sql`INSERT INTO ${sql.id(T)} (id, name) VALUES (1, 'a'), (2, 'b')`))
        const r = await change(db, pipe(d.alterTable(T), d.addColumn('note', 'varchar(20)'), d.addColumn('label', 'varchar(20)', { notNull: true })))()
        expect(r._tag).toBe('Left')
        const e = (r as { left: unknown }).left
        expect(isDbError(e) && e._tag).toBe('NotNullViolation')
        expect((e as { message: string }).message).toContain(T)
        expect((e as { message: string }).message).toContain('label')
        expect(await columnsOf(db, T)).toEqual(['id', 'name'])
        expect(await run(db.all<{ name: string }>(sql`SELECT name FROM ${sql.id(T)} ORDER BY id`))).toEqual([{ name: 'a' }, { name: 'b' }])
      })
    }

    it('the same column with a default, or on an empty table, is added', async (ctx) => {
      const db = use(ctx)
      await run(db.execute(sql`INSERT INTO ${sql.id(T)} (id, name) VALUES (1, 'a')`))
      await run(apply(db, pipe(d.alterTable(T), d.addColumn('label', 'varchar(20)', { notNull: true, default: 'none' }))))
      expect(await run(db.all(sql`SELECT label FROM ${sql.id(T)}`))).toEqual([{ label: 'none' }])
      await run(apply(db, pipe(d.alterTable(E2), d.addColumn('label', 'varchar(20)', { notNull: true }))))
      expect(await columnsOf(db, E2)).toEqual(['id', 'label'])
    })
  })
}
