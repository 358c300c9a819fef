/**
 * What the query builders' results read back as, the same on SQLite, PostgreSQL and MariaDB,
 * where the builder knows the type of what it selects (as Kysely's and Drizzle's suites expect
 * of their builders): a condition is a boolean (SQLite and MariaDB compute it as 1 or 0), the
 * value at a JSON path is that JSON value (SQLite gives JSON text; PostgreSQL and MariaDB a
 * parsed value, a bare string too), a bound number selected is a number (PostgreSQL reads an
 * untyped parameter as text), and a count read through a derived table or a CTE is a number
 * (MariaDB gives a BIGINT as text).
 */
import { pipe } from 'fp-ts/lib/function.js'
import { describe, expect, it } from 'vitest'
import { run, sql } from 'recordkit'
import {
  add, and, as, between, caseWhen, cast, col, dateAdd, dateTrunc, subquery, count, cte, derived, eq, exists, from, gt, isIn, isNull, jsonBuildObject, jsonGet, jsonText, like,
  not, notExists, or, orderBy, fromSelect, readAs, returning, select, selectOnly, sum, update, set, union, val, where, withCte, insertInto, values,
} from 'recordkit/query'
import { ENGINES, engineTables } from './support/engine-tables.js'

const jsonType = (engine: string): string => (engine === 'postgres' ? 'JSONB' : engine === 'mariadb' ? 'JSON' : 'TEXT')

for (const engine of ENGINES) {
  describe(`builder results on ${engine.name}`, () => {
    const { use } = engineTables(engine, ['h2_res_item'], (name) => [
      `CREATE TABLE h2_res_item (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL, qty INTEGER, doc ${jsonType(name)})`,
    ])
    const seed = async (db: ReturnType<typeof use>) => {
      await run(db.execute(pipe(insertInto('h2_res_item'), values([
        { id: 1, name: 'apple', qty: 3, doc: { kind: 'fruit', tags: ['red', 'sweet'], n: 7, deep: { ok: true } } },
        { id: 2, name: 'bean', qty: 0, doc: { kind: 'veg', tags: [], n: 1.5, deep: null } },
        { id: 3, name: 'corn', qty: null, doc: null },
      ]))))
    }

    it('a condition selected reads back as a boolean (null stays null)', async (ctx) => {
      const db = use(ctx)
      await seed(db)
      const rows = await run(db.all(pipe(
        from('h2_res_item'),
        select('id', {
          many: gt('qty', 1),
          none: isNull('qty'),
          listed: isIn('name', ['apple', 'corn']),
          mid: between('qty', 1, 5),
          named: like('name', 'b%'),
          both: and(gt('qty', 0), eq('name', 'apple')),
          either: or(eq('qty', 0), eq('name', 'corn')),
          neither: not(eq('name', 'apple')),
        }),
        orderBy('id'),
      )))
      expect(rows).toEqual([
        { id: 1, many: true, none: false, listed: true, mid: true, named: false, both: true, either: false, neither: false },
        { id: 2, many: false, none: false, listed: false, mid: false, named: true, both: false, either: true, neither: true },
        { id: 3, many: null, none: true, listed: true, mid: null, named: false, both: false, either: true, neither: true },
      ])
    })

    it('EXISTS and a cast to boolean read back as booleans', async (ctx) => {
      const db = use(ctx)
      await seed(db)
      const rows = await run(db.all(pipe(
        from('h2_res_item i'),
        select('i.id', {
          bigger: exists(pipe(from('h2_res_item o'), where(gt('o.qty', col('i.qty'))))),
          biggest: notExists(pipe(from('h2_res_item o'), where(gt('o.qty', col('i.qty'))))),
          stocked: cast('i.qty', 'boolean'),
        }),
        orderBy('i.id'),
      )))
      expect(rows).toEqual([
        { id: 1, bigger: false, biggest: true, stocked: true },
        { id: 2, bigger: true, biggest: false, stocked: false },
        { id: 3, bigger: false, biggest: true, stocked: null },
      ])
    })

    it('a CASE whose results are all booleans, or all counts, reads back as they do', async (ctx) => {
      const db = use(ctx)
      await seed(db)
      const rows = await run(db.all(pipe(from('h2_res_item'), select('id', {
        stocked: caseWhen([[gt('qty', 0), true]], false),
        flag: caseWhen([[isNull('qty'), null]], gt('qty', 1)),
        n: caseWhen([[eq('id', 1), subquery(pipe(from('h2_res_item'), select(count())))]], subquery(pipe(from('h2_res_item'), select(count()), where({ id: 1 })))),
      }), orderBy('id'))))
      expect(rows).toEqual([
        { id: 1, stocked: true, flag: true, n: 3 },
        { id: 2, stocked: false, flag: false, n: 1 },
        { id: 3, stocked: false, flag: null, n: 1 },
      ])
    })

    it('readAs(e, "boolean") reads a column of 1 and 0 as booleans', async (ctx) => {
      const db = use(ctx)
      await seed(db)
      const rows = await run(db.all(pipe(from('h2_res_item'), select('id', as(readAs(sql`CASE WHEN qty > 0 THEN 1 ELSE 0 END`, 'boolean'), 'stocked')), orderBy('id'))))
      expect(rows).toEqual([{ id: 1, stocked: true }, { id: 2, stocked: false }, { id: 3, stocked: false }])
    })

    it('RETURNING a condition reads back as a boolean', async (ctx) => {
      const db = use(ctx)
      if (engine.name === 'mariadb') return ctx.skip() // no UPDATE ... RETURNING
      await seed(db)
      const rows = await run(db.all(pipe(update('h2_res_item'), set({ qty: 5 }), where({ id: 2 }), returning('id', { many: gt('qty', 1) }))))
      expect(rows).toEqual([{ id: 2, many: true }])
    })

    it('the value at a JSON path reads back as that JSON value, strings included', async (ctx) => {
      const db = use(ctx)
      await seed(db)
      const rows = await run(db.all(pipe(
        from('h2_res_item'),
        select('id', {
          kind: jsonGet('doc', 'kind'),
          tags: jsonGet('doc', 'tags'),
          first: jsonGet('doc', 'tags', 0),
          n: jsonGet('doc', 'n'),
          deep: jsonGet('doc', 'deep'),
          ok: jsonGet('doc', 'deep', 'ok'),
          text: jsonText('doc', 'kind'),
        }),
        orderBy('id'),
      )))
      expect(rows).toEqual([
        { id: 1, kind: 'fruit', tags: ['red', 'sweet'], first: 'red', n: 7, deep: { ok: true }, ok: true, text: 'fruit' },
        { id: 2, kind: 'veg', tags: [], first: null, n: 1.5, deep: null, ok: null, text: 'veg' },
        { id: 3, kind: null, tags: null, first: null, n: null, deep: null, ok: null, text: null },
      ])
    })

    it('a JSON document that is a string reads back as that string (cast and readAs)', async (ctx) => {
      const db = use(ctx)
      await seed(db)
      expect(await run(db.all(pipe(selectOnly(), select({ s: cast(val('"x"'), 'json'), o: cast(val('{"a":[1]}'), 'json') }))))).toEqual([{ s: 'x', o: { a: [1] } }])
      const rows = await run(db.all(pipe(from('h2_res_item'), select('id', as(readAs(jsonGet('doc', 'kind'), 'json'), 'kind'), readAs('doc', 'json')), where({ id: 1 }))))
      expect(rows).toEqual([{ id: 1, kind: 'fruit', doc: { kind: 'fruit', tags: ['red', 'sweet'], n: 7, deep: { ok: true } } }])
    })

    it('a JSON path selected in both members of a UNION reads back as JSON', async (ctx) => {
      const db = use(ctx)
      await seed(db)
      const rows = await run(db.all(pipe(
        from('h2_res_item'), select('id', { kind: jsonGet('doc', 'kind') }), where({ id: 1 }),
        union(pipe(from('h2_res_item'), select('id', jsonGet('doc', 'kind')), where({ id: 2 }))),
        orderBy('id'),
      )))
      expect(rows).toEqual([{ id: 1, kind: 'fruit' }, { id: 2, kind: 'veg' }])
    })

    it('a JSON value read through a derived table or a CTE reads back as that JSON value', async (ctx) => {
      const db = use(ctx)
      await seed(db)
      const inner = pipe(from('h2_res_item'), select('id', { kind: jsonGet('doc', 'kind'), tags: jsonGet('doc', 'tags') }), where({ id: 1 }))
      expect(await run(db.all(pipe(from(derived(inner, 'd')), select('d.kind', 'tags'))))).toEqual([{ kind: 'fruit', tags: ['red', 'sweet'] }])
      expect(await run(db.all(pipe(from('d'), select('id', 'kind'), withCte(cte('d', inner)))))).toEqual([{ id: 1, kind: 'fruit' }])
    })

    it('a computed date or a cast to date or timestamp reads back as a Date', async (ctx) => {
      const db = use(ctx)
      const rows = await run(db.all(pipe(selectOnly(), select({
        next: dateAdd(val(new Date('2024-01-31T10:20:30.000Z')), 1, 'month'),
        month: dateTrunc('month', val(new Date('2024-03-15T10:00:00.000Z'))),
        at: cast(val('2024-03-15 10:00:00'), 'timestamp'),
        day: cast(val('2024-03-15'), 'date'),
      }))))
      expect(rows).toEqual([{
        next: new Date('2024-02-29T10:20:30.000Z'), month: new Date('2024-03-01T00:00:00.000Z'), at: new Date('2024-03-15T10:00:00.000Z'), day: new Date('2024-03-15T00:00:00.000Z'),
      }])
    })

    it('a bound true or false inside jsonBuildObject is a JSON boolean', async (ctx) => {
      const db = use(ctx)
      expect(await run(db.all(pipe(selectOnly(), select({ o: jsonBuildObject({ yes: val(true), no: val(false), n: val(2), s: val('t') }) }))))).toEqual([
        { o: { yes: true, no: false, n: 2, s: 't' } },
      ])
    })

    it('a bound number or boolean selected reads back as what was bound', async (ctx) => {
      const db = use(ctx)
      expect(await run(db.all(pipe(selectOnly(), select({ one: val(1), half: val(1.5), big: val(2 ** 40), yes: val(true), s: val('1') }))))).toEqual([
        { one: 1, half: 1.5, big: 2 ** 40, yes: engine.name === 'postgres' ? true : 1, s: '1' },
      ])
    })

    it('bound numbers selected in a CTE, a derived table or an INSERT ... SELECT fill integer columns', async (ctx) => {
      const db = use(ctx)
      const src = pipe(selectOnly(), select({ id: val(7), name: val('fig'), qty: val(2) }))
      await run(db.execute(pipe(insertInto('h2_res_item'), fromSelect(['id', 'name', 'qty'], pipe(from('src'), select('id', 'name', 'qty'))), withCte(cte('src', src)))))
      await run(db.execute(pipe(insertInto('h2_res_item'), fromSelect(['id', 'name', 'qty'], pipe(from(derived(src, 'd')), select({ id: add('d.id', val(1)), name: col('d.name'), qty: col('d.qty') }))))))
      await run(db.execute(pipe(insertInto('h2_res_item'), fromSelect(['id', 'name', 'qty'], pipe(selectOnly(), select({ id: val(9), name: val('kiwi'), qty: val(4) }))))))
      expect(await run(db.all(pipe(from('h2_res_item'), select('id', 'name', 'qty'), orderBy('id'))))).toEqual([
        { id: 7, name: 'fig', qty: 2 }, { id: 8, name: 'fig', qty: 2 }, { id: 9, name: 'kiwi', qty: 4 },
      ])
    })

    it('a count read through a derived table or a CTE is a number', async (ctx) => {
      const db = use(ctx)
      await seed(db)
      const counted = pipe(from('h2_res_item'), select({ n: count(), total: sum('qty') }))
      expect(await run(db.all(pipe(from(derived(counted, 'c')))))).toEqual([{ n: 3, total: 3 }])
      expect(await run(db.all(pipe(from(derived(counted, 'c')), select('c.n', 'total'))))).toEqual([{ n: 3, total: 3 }])
      expect(await run(db.all(pipe(from('c'), select('n'), withCte(cte('c', counted)))))).toEqual([{ n: 3 }])
      expect(await run(db.all(pipe(from('c'), withCte(cte('c', counted)))))).toEqual([{ n: 3, total: 3 }])
    })
  })
}
