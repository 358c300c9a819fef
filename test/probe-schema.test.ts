/**
 * Schema and migration behaviour a developer coming from Knex or Drizzle would check, on SQLite,
 * PostgreSQL and MariaDB: each case here once gave a wrong result or passed a mistake silently.
 */
import { pipe } from 'fp-ts/lib/function.js'
import { describe, expect, it } from 'vitest'
import { run, sql } from 'recordkit'
import { apply, column, createTable, introspect } from 'recordkit/schema'
import { ENGINES, engineTables } from './support/engine-tables.js'

for (const engine of ENGINES) {
  describe(`schema on ${engine.name}`, () => {
    // The tables the tests create themselves are dropped before and after the file's tests.
    const t = engineTables(engine, ['probe_s_marker', 'probe_s_defaults'], () => ['CREATE TABLE probe_s_marker (id INTEGER PRIMARY KEY)', 'CREATE TABLE probe_s_defaults (id INTEGER PRIMARY KEY)'])

    it('introspected defaults of bigint and decimal columns are the values given, alike on every engine (PostgreSQL gave text for quoted ones)', async (ctx) => {
      const db = t.use(ctx)
      await run(db.execute(sql`DROP TABLE probe_s_defaults`))
      await run(apply(db, pipe(
        createTable('probe_s_defaults'),
        column('id', 'integer', { primaryKey: true }),
        column('small', 'bigint', { default: -5 }),
        column('wide', 'bigint', { default: 3_000_000_000 }),
        column('huge', 'bigint', { default: -9007199254740993n }),
        column('price', 'decimal(10,2)', { default: -1.5 }),
        column('n', 'integer', { default: -1 }),
      )))
      const schema = await run(introspect(db))
      const table = schema.tables.find((x) => x.name === 'probe_s_defaults')
      expect(Object.fromEntries((table?.columns ?? []).map((c) => [c.name, c.default]))).toEqual({
        id: undefined,
        small: { kind: 'value', value: -5 },
        wide: { kind: 'value', value: 3_000_000_000 },
        huge: { kind: 'value', value: -9007199254740993n },
        price: { kind: 'value', value: -1.5 },
        n: { kind: 'value', value: -1 },
      })
    })
  })
}
