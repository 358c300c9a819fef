/**
 * Every driver hands over its rows in a plain Array: postgres.js' own `Result` is a subclass of
 * Array whose `slice`, `map` and `filter` go through a subclass's species lookup, 20 times slower,
 * which grouping related rows paid once per parent. The rows of a plain statement, a statement
 * of several, and a stream's batches, on every engine.
 */
import { describe, expect, it } from 'vitest'
import { run, sql } from 'recordkit'
import { ENGINES, engineTables } from './support/engine-tables.js'

for (const engine of ENGINES) {
  describe(`rows in a plain Array on ${engine.name}`, () => {
    const { use } = engineTables(engine, ['dpr_t'], () => ['CREATE TABLE dpr_t (id INTEGER PRIMARY KEY, name VARCHAR(10))'])

    it('statements, first rows and stream batches', async (ctx) => {
      const db = use(ctx)
      await run(db.execute(sql`INSERT INTO dpr_t (id, name) VALUES (1, 'a'), (2, 'b'), (3, 'c')`))
      const rows = await run(db.all(sql`SELECT id, name FROM dpr_t ORDER BY id`))
      expect(Object.getPrototypeOf(rows)).toBe(Array.prototype)
      expect(rows.map((r) => r.name)).toEqual(['a', 'b', 'c'])
      expect(Object.keys(rows)).toEqual(['0', '1', '2'])
      const none = await run(db.all(sql`SELECT id FROM dpr_t WHERE id > 9`))
      expect(Object.getPrototypeOf(none)).toBe(Array.prototype)
      const result = await run(db.execute(sql`SELECT id FROM dpr_t ORDER BY id`))
      expect(Object.getPrototypeOf(result.rows)).toBe(Array.prototype)
      const batches: unknown[][] = []
      for await (const r of db.stream(sql`SELECT id FROM dpr_t ORDER BY id`, { batchSize: 2 })) batches.push([r])
      expect(batches).toHaveLength(3)
    })
  })
}
