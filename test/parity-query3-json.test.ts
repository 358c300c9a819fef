/**
 * JSON path comparisons as Knex's `whereJsonPath(col, '$.n', '>', 9)` and Kysely's
 * `eb(eb.ref('doc', '->').key('n'), '>', 9)` write them, read back on SQLite, PostgreSQL and
 * MariaDB against what each engine answers for the hand-written SQL: the value at a path
 * compared with a number, for equality and for order.
 */
import { pipe } from 'fp-ts/lib/function.js'
import { describe, expect, it } from 'vitest'
import { run, sql } from 'recordkit'
import { between, eq, from, gt, gte, jsonGet, lt, ne, orderBy, select, where } from 'recordkit/query'
import { ENGINES, engineTables } from './support/engine-tables.js'

const docs = [
  { id: 1, body: { n: 2, tags: [10, 20], nested: { size: 9 } } },
  { id: 2, body: { n: 10, tags: [5], nested: { size: 10 } } },
  { id: 3, body: { n: 1.5, tags: [], nested: { size: 100 } } },
  // No `n`: SQL NULL at that path on every engine (a JSON null is not: PostgreSQL orders it before
  // every number, MariaDB reads it as 0).
  { id: 4, body: { tags: [2] } },
]

/** The hand-written comparison of `body` at a path with a number, as each engine's own SQL. */
const handWritten = (engine: string, path: string, keys: readonly (string | number)[], op: string, n: number): string =>
  engine === 'sqlite' ? `SELECT id FROM q3j_doc WHERE json_extract(body, '${path}') ${op} ${n} ORDER BY id`
    : engine === 'postgres' ? `SELECT id FROM q3j_doc WHERE (body${keys.map((k) => (typeof k === 'number' ? ` -> ${k}` : ` -> '${k}'`)).join('')}) ${op} '${n}'::jsonb ORDER BY id`
      : `SELECT id FROM q3j_doc WHERE JSON_EXTRACT(body, '${path}') ${op} ${n} ORDER BY id`

for (const engine of ENGINES) {
  describe(`JSON paths compared with numbers on ${engine.name}`, () => {
    const { use } = engineTables(engine, ['q3j_doc'], (name) => [
      `CREATE TABLE q3j_doc (id INTEGER PRIMARY KEY, body ${name === 'postgres' ? 'JSONB' : name === 'mariadb' ? 'JSON' : 'TEXT'})`,
    ])
    const ids = (rows: readonly Record<string, unknown>[]) => rows.map((r) => r.id)
    const fill = async (db: ReturnType<typeof use>) => {
      for (const d of docs) await run(db.execute(sql`INSERT INTO q3j_doc (id, body) VALUES (${d.id}, ${JSON.stringify(d.body)})`))
    }
    const matching = (cond: Parameters<typeof where>[0]) => pipe(from('q3j_doc'), select('id'), where(cond), orderBy('id'))

    it('= and <> a number match the rows the engine matches for its own SQL (SQLite matched none)', async (ctx) => {
      const db = use(ctx)
      await fill(db)
      expect(ids(await run(db.all(sql.raw(handWritten(engine.name, '$.n', ['n'], '=', 10)))))).toEqual([2])
      expect(ids(await run(db.all(matching(eq(jsonGet('body', 'n'), 10)))))).toEqual([2])
      expect(ids(await run(db.all(matching(eq(jsonGet('body', 'n'), 1.5)))))).toEqual([3])
      expect(ids(await run(db.all(matching(eq(jsonGet('body', 'tags', 0), 10)))))).toEqual(ids(await run(db.all(sql.raw(handWritten(engine.name, '$.tags[0]', ['tags', 0], '=', 10))))))
      expect(ids(await run(db.all(matching(eq(jsonGet('body', 'tags', 0), 10)))))).toEqual([1])
      expect(ids(await run(db.all(matching(ne(jsonGet('body', 'n'), 2)))))).toEqual([2, 3])
    })

    it('< > and BETWEEN order as numbers, not as text (10 after 9)', async (ctx) => {
      const db = use(ctx)
      await fill(db)
      expect(ids(await run(db.all(sql.raw(handWritten(engine.name, '$.nested.size', ['nested', 'size'], '>', 9)))))).toEqual([2, 3])
      expect(ids(await run(db.all(matching(gt(jsonGet('body', 'nested', 'size'), 9)))))).toEqual([2, 3])
      expect(ids(await run(db.all(matching(gte(jsonGet('body', 'n'), 2)))))).toEqual([1, 2])
      expect(ids(await run(db.all(matching(lt(jsonGet('body', 'n'), 2)))))).toEqual([3])
      expect(ids(await run(db.all(matching(between(jsonGet('body', 'nested', 'size'), 9, 10)))))).toEqual([1, 2])
    })

    it('selected, the value at a path still reads back as that JSON value', async (ctx) => {
      const db = use(ctx)
      await fill(db)
      const q = pipe(from('q3j_doc'), select({ id: 'id', n: jsonGet('body', 'n'), nested: jsonGet('body', 'nested') }), where(gt(jsonGet('body', 'n'), 1)), orderBy('id'))
      expect(await run(db.all(q))).toEqual([{ id: 1, n: 2, nested: { size: 9 } }, { id: 2, n: 10, nested: { size: 10 } }, { id: 3, n: 1.5, nested: { size: 100 } }])
    })
  })
}
