/**
 * JSON built and read by the query builders, the same on SQLite, PostgreSQL and MariaDB (as
 * Kysely's json and json-traversal suites expect of `jsonArrayFrom`, `jsonObjectFrom` and
 * path access): children nested with their own ORDER BY and LIMIT, JSON and boolean columns
 * nested as JSON (not as text or 1/0), and the text at a path being text whatever the JSON
 * value there is.
 */
import { pipe } from 'fp-ts/lib/function.js'
import { describe, expect, it } from 'vitest'
import { run } from 'recordkit'
import {
  col, count, eq, from, groupBy, gt, insertInto, max, selectOnly, isNull, jsonArrayFrom, jsonGet, jsonObjectFrom, jsonText, limit, offset, orderBy, readAs, select, unionAll, values, where,
} from 'recordkit/query'
import { ENGINES, engineTables } from './support/engine-tables.js'

const jsonType = (engine: string): string => (engine === 'postgres' ? 'JSONB' : engine === 'mariadb' ? 'JSON' : 'TEXT')

for (const engine of ENGINES) {
  describe(`JSON in builder queries on ${engine.name}`, () => {
    const { use } = engineTables(engine, ['h2_json_pet', 'h2_json_owner'], (name) => [
      'CREATE TABLE h2_json_owner (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL)',
      `CREATE TABLE h2_json_pet (id INTEGER PRIMARY KEY, owner_id INTEGER NOT NULL, name VARCHAR(50) NOT NULL, age INTEGER NOT NULL, doc ${jsonType(name)})`,
    ])
    const seed = async (db: ReturnType<typeof use>) => {
      await run(db.execute(pipe(insertInto('h2_json_owner'), values([{ id: 1, name: 'Ann' }, { id: 2, name: 'Bo' }]))))
      await run(db.execute(pipe(insertInto('h2_json_pet'), values([
        { id: 1, owner_id: 1, name: 'Rex', age: 3, doc: { n: 2, ok: true, tags: ['a'], s: 'x', f: 1.5, z: null } },
        { id: 2, owner_id: 1, name: 'Tom', age: 7, doc: { n: 10, ok: false, tags: [], s: '10', f: 0.25, z: null } },
        { id: 3, owner_id: 1, name: 'Kit', age: 1, doc: null },
        { id: 4, owner_id: 2, name: 'Max', age: 5, doc: { n: 1 } },
      ]))))
    }
    const pets = (owner: string) => pipe(from('h2_json_pet p'), where(eq('p.owner_id', col(`${owner}.id`))))

    it('jsonArrayFrom keeps the subquery\'s ORDER BY and LIMIT', async (ctx) => {
      const db = use(ctx)
      await seed(db)
      const rows = await run(db.all(pipe(
        from('h2_json_owner o'),
        select('o.name', { oldest: jsonArrayFrom(pipe(pets('o'), select('p.name', 'p.age'), orderBy('p.age', 'desc'), limit(2))) }),
        orderBy('o.id'),
      )))
      expect(rows).toEqual([
        { name: 'Ann', oldest: [{ name: 'Tom', age: 7 }, { name: 'Rex', age: 3 }] },
        { name: 'Bo', oldest: [{ name: 'Max', age: 5 }] },
      ])
    })

    it('a JSON column, a JSON path and a condition nest as JSON values, not as text or 1/0', async (ctx) => {
      const db = use(ctx)
      await seed(db)
      const rows = await run(db.all(pipe(
        from('h2_json_owner o'),
        select('o.name', {
          pets: jsonArrayFrom(pipe(pets('o'), select('p.id', readAs('p.doc', 'json'), { tags: jsonGet('p.doc', 'tags'), grown: gt('p.age', 2), plain: isNull('p.doc') }), orderBy('p.id'))),
          first: jsonObjectFrom(pipe(pets('o'), select({ ok: jsonGet('p.doc', 'ok'), grown: gt('p.age', 2) }), orderBy('p.id'))),
        }),
        where({ 'o.id': 1 }),
      )))
      expect(rows).toEqual([{
        name: 'Ann',
        pets: [
          { id: 1, doc: { n: 2, ok: true, tags: ['a'], s: 'x', f: 1.5, z: null }, tags: ['a'], grown: true, plain: false },
          { id: 2, doc: { n: 10, ok: false, tags: [], s: '10', f: 0.25, z: null }, tags: [], grown: true, plain: false },
          { id: 3, doc: null, tags: null, grown: false, plain: true },
        ],
        first: { ok: true, grown: true },
      }])
    })

    it('a negative array index counts from the end of the array (-1 is the last element)', async (ctx) => {
      const db = use(ctx)
      await run(db.execute(pipe(insertInto('h2_json_owner'), values({ id: 1, name: 'Ann' }))))
      await run(db.execute(pipe(insertInto('h2_json_pet'), values({ id: 1, owner_id: 1, name: 'Rex', age: 3, doc: { tags: ['a', 'b', 'c'], rows: [{ k: 1 }, { k: 2 }] } }))))
      const rows = await run(db.all(pipe(from('h2_json_pet'), select({
        last: jsonGet('doc', 'tags', -1), before: jsonText('doc', 'tags', -2), first: jsonText('doc', 'tags', 0), beyond: jsonGet('doc', 'tags', -4), k: jsonGet('doc', 'rows', -1, 'k'),
      }))))
      expect(rows).toEqual([{ last: 'c', before: 'b', first: 'a', beyond: null, k: 2 }])
      expect(await run(db.all(pipe(from('h2_json_pet'), select('id'), where(eq(jsonText('doc', 'tags', -1), 'c')))))).toEqual([{ id: 1 }])
    })

    it('conditions nest as true/false through grouped, offset and set-operation subqueries too', async (ctx) => {
      const db = use(ctx)
      await seed(db)
      // Uncorrelated: MariaDB reads these through a derived table, which takes no outer reference.
      const rows = await run(db.all(pipe(
        selectOnly(),
        select({
          grouped: jsonArrayFrom(pipe(from('h2_json_pet p'), select({ owner: col('p.owner_id'), old: gt(max('p.age'), 5), n: count() }), groupBy('p.owner_id'), orderBy('p.owner_id'))),
          rest: jsonArrayFrom(pipe(from('h2_json_pet p'), select('p.id', { plain: isNull('p.doc') }), orderBy('p.id'), offset(2))),
          either: jsonObjectFrom(pipe(from('h2_json_pet p'), select({ plain: isNull('p.doc') }), where({ 'p.id': 3 }), unionAll(pipe(from('h2_json_pet q'), select(isNull('q.doc')), where({ 'q.id': 1 }))))),
        }),
      )))
      expect(rows).toEqual([{
        grouped: [{ owner: 1, old: true, n: 3 }, { owner: 2, old: false, n: 1 }],
        rest: [{ id: 3, plain: true }, { id: 4, plain: false }],
        either: { plain: true },
      }])
    })

    it('jsonText is the text at a path whatever the JSON value there is', async (ctx) => {
      const db = use(ctx)
      await seed(db)
      const rows = await run(db.all(pipe(
        from('h2_json_pet'),
        select('id', { n: jsonText('doc', 'n'), ok: jsonText('doc', 'ok'), s: jsonText('doc', 's'), f: jsonText('doc', 'f'), z: jsonText('doc', 'z'), tags: jsonText('doc', 'tags') }),
        where({ owner_id: 1 }),
        orderBy('id'),
      )))
      expect(rows.map((r) => ({ ...r, tags: r.tags === null ? null : JSON.parse(r.tags as string) }))).toEqual([
        { id: 1, n: '2', ok: 'true', s: 'x', f: '1.5', z: null, tags: ['a'] },
        { id: 2, n: '10', ok: 'false', s: '10', f: '0.25', z: null, tags: [] },
        { id: 3, n: null, ok: null, s: null, f: null, z: null, tags: null },
      ])
      // Compared with text, a number at the path matches its digits, on every engine.
      expect(await run(db.all(pipe(from('h2_json_pet'), select('id'), where(eq(jsonText('doc', 'n'), '10')))))).toEqual([{ id: 2 }])
      expect(await run(db.all(pipe(from('h2_json_pet'), select('id'), where(eq(jsonText('doc', 'ok'), 'true')))))).toEqual([{ id: 1 }])
    })
  })
}
