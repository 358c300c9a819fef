/**
 * `isIn` / `notIn` take a list of any length on every engine: past `LONG_IN_LIST` bound values the
 * dialect writes the list in the engine's form of "any number of values" (SQLite
 * `IN (SELECT value FROM json_each(?))`, PostgreSQL `= ANY ($1)` / `<> ALL ($1)`, MySQL and MariaDB
 * literals), for every statement that holds one: builder queries, subqueries, joins, UPDATE,
 * DELETE, model queries and relation loading. The rows are those of a short list, NULL in the
 * list means what it meant, and short lists compile exactly as they did. On SQLite, PostgreSQL
 * and MariaDB; MySQL as SQL text.
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { type Backend, type Compilable, type Dialect, extend, run } from 'recordkit'
import { and, col, deleteFrom, eq, from, insertInto, isIn, join, not, notIn, orderBy, select, set, update, values, where } from 'recordkit/query'
import { compileQuery, hasMany, belongsTo, model, relate } from 'recordkit/model'
import { sqlite } from 'recordkit/dialects/sqlite'
import { postgres } from 'recordkit/dialects/postgres'
import { mariadb, mysql } from 'recordkit/dialects/mysql'
import { LONG_IN_LIST, standard } from 'recordkit/dialects/standard'
import { ok } from 'recordkit/testing'
import { duckdb } from '../src/contrib/duckdb/index.js'
import { ENGINES, engineTables } from './support/engine-tables.js'

const compiled = (d: Dialect, q: Compilable) => {
  const c = d.compile(q)
  if (E.isLeft(c)) throw c.left
  return c.right
}

const range = (n: number, from = 0): number[] => Array.from({ length: n }, (_, i) => i + from)

describe('short lists compile exactly as before', () => {
  const dialects = { standard, sqlite, postgres, mysql, mariadb, duckdb }
  const queries = {
    short: pipe(from('t'), select('id'), where(isIn('id', [1, 'a', null]))),
    typed: pipe(from('t'), where(and(notIn('t.id', [true, new Date(0), 5n]), eq('x', 1)))),
    update: pipe(update('t'), set({ a: 1 }), where(isIn('id', [1, 2]))),
    delete: pipe(deleteFrom('t'), where(notIn('id', [3]))),
  }
  // Compiled before long lists had their own form (a null in the list is tested with IS NULL beside it).
  const before: Record<keyof typeof dialects, Record<keyof typeof queries, readonly [string, readonly unknown[]]>> = {
    standard: {
      short: ['SELECT "id" FROM "t" WHERE "id" IN (?, ?) OR "id" IS NULL', [1, 'a']],
      typed: ['SELECT * FROM "t" WHERE "t"."id" NOT IN (?, ?, ?) AND "x" = ?', [true, new Date(0), 5n, 1]],
      update: ['UPDATE "t" SET "a" = ? WHERE "id" IN (?, ?)', [1, 1, 2]],
      delete: ['DELETE FROM "t" WHERE "id" NOT IN (?)', [3]],
    },
    sqlite: {
      short: ['SELECT "id" FROM "t" WHERE "id" IN (?, ?) OR "id" IS NULL', [1, 'a']],
      typed: ['SELECT * FROM "t" WHERE "t"."id" NOT IN (?, ?, ?) AND "x" = ?', [1, '1970-01-01 00:00:00', 5n, 1]],
      update: ['UPDATE "t" SET "a" = ? WHERE "id" IN (?, ?)', [1, 1, 2]],
      delete: ['DELETE FROM "t" WHERE "id" NOT IN (?)', [3]],
    },
    postgres: {
      short: ['SELECT "id" FROM "t" WHERE "id" IN ($1, $2) OR "id" IS NULL', [1, 'a']],
      typed: ['SELECT * FROM "t" WHERE "t"."id" NOT IN ($1, $2, $3) AND "x" = $4', [true, new Date(0), 5n, 1]],
      update: ['UPDATE "t" SET "a" = $1 WHERE "id" IN ($2, $3)', [1, 1, 2]],
      delete: ['DELETE FROM "t" WHERE "id" NOT IN ($1)', [3]],
    },
    mysql: {
      short: ['SELECT `id` FROM `t` WHERE `id` IN (?, ?) OR `id` IS NULL', [1, 'a']],
      typed: ['SELECT * FROM `t` WHERE `t`.`id` NOT IN (?, ?, ?) AND `x` = ?', [1, '1970-01-01 00:00:00.000', '5', 1]],
      update: ['UPDATE `t` SET `a` = ? WHERE `id` IN (?, ?)', [1, 1, 2]],
      delete: ['DELETE FROM `t` WHERE `id` NOT IN (?)', [3]],
    },
    mariadb: {
      short: ['SELECT `id` FROM `t` WHERE `id` IN (?, ?) OR `id` IS NULL', [1, 'a']],
      typed: ['SELECT * FROM `t` WHERE `t`.`id` NOT IN (?, ?, ?) AND `x` = ?', [1, '1970-01-01 00:00:00.000', '5', 1]],
      update: ['UPDATE `t` SET `a` = ? WHERE `id` IN (?, ?)', [1, 1, 2]],
      delete: ['DELETE FROM `t` WHERE `id` NOT IN (?)', [3]],
    },
    duckdb: {
      short: ['SELECT "id" FROM "t" WHERE "id" IN ($1, $2) OR "id" IS NULL', [1, 'a']],
      typed: ['SELECT * FROM "t" WHERE "t"."id" NOT IN ($1, $2, $3) AND "x" = $4', [true, new Date(0), 5n, 1]],
      update: ['UPDATE "t" SET "a" = $1 WHERE "id" IN ($2, $3)', [1, 1, 2]],
      delete: ['DELETE FROM "t" WHERE "id" NOT IN ($1)', [3]],
    },
  }
  for (const [name, d] of Object.entries(dialects) as [keyof typeof dialects, Dialect][]) {
    it(`on ${name}`, () => {
      for (const [q, node] of Object.entries(queries) as [keyof typeof queries, Compilable][]) {
        const c = compiled(d, node)
        expect([c.sql, c.params]).toEqual(before[name][q])
      }
      // A list of exactly LONG_IN_LIST values is still one parameter per value.
      const c = compiled(d, pipe(from('t'), where(notIn('id', range(LONG_IN_LIST)))))
      const marks = range(LONG_IN_LIST, 1).map((i) => d.placeholder(i)).join(', ')
      expect(c.sql).toBe(`SELECT * FROM ${d.quoteIdentifier('t')} WHERE ${d.quoteIdentifier('id')} NOT IN (${marks})`)
      expect(c.params).toEqual(range(LONG_IN_LIST))
    })
  }
})

describe('the SQL of a long list, per dialect', () => {
  const ids = range(LONG_IN_LIST + 1, 1)
  const q = (negated: boolean, list: readonly unknown[] = ids) => pipe(from('t'), select('id'), where((negated ? notIn : isIn)('id', list)))

  it('SQLite: one JSON array parameter read by json_each', () => {
    expect(compiled(sqlite, q(false))).toMatchObject({ sql: 'SELECT "id" FROM "t" WHERE "id" IN (SELECT value FROM json_each(?))', params: [`[${ids.join(',')}]`] })
    expect(compiled(sqlite, q(true)).sql).toBe('SELECT "id" FROM "t" WHERE "id" NOT IN (SELECT value FROM json_each(?))')
    // Values converted as SQLite binds them: booleans 1 and 0, dates as text, bigints as digits; a null is IS NULL beside the list.
    const mixed = [...ids.slice(2), true, false, new Date(Date.UTC(2024, 1, 3, 4, 5, 6, 7)), 2n ** 62n, null, 'it\'s "ü"']
    expect(compiled(sqlite, q(false, mixed)).params).toEqual([`[${ids.slice(2).join(',')},1,0,"2024-02-03 04:05:06.007",${2n ** 62n},"it's \\"ü\\""]`])
    expect(compiled(sqlite, q(false, mixed)).sql).toBe('SELECT "id" FROM "t" WHERE "id" IN (SELECT value FROM json_each(?)) OR "id" IS NULL')
  })

  it('PostgreSQL: one array parameter, = ANY and <> ALL, typed as a short list binds its values', () => {
    expect(compiled(postgres, q(false))).toMatchObject({ sql: 'SELECT "id" FROM "t" WHERE "id" = ANY ($1)', params: [`{${ids.join(',')}}`] })
    expect(compiled(postgres, q(true)).sql).toBe('SELECT "id" FROM "t" WHERE "id" <> ALL ($1)')
    const dates = ids.map((i) => new Date(i * 1000))
    expect(compiled(postgres, q(false, dates)).sql).toBe('SELECT "id" FROM "t" WHERE "id" = ANY (CAST($1 AS TIMESTAMPTZ[]))')
    expect(compiled(postgres, q(false, [...ids.map(BigInt), null])).sql).toBe('SELECT "id" FROM "t" WHERE "id" = ANY (CAST($1 AS BIGINT[])) OR "id" IS NULL')
    expect(compiled(postgres, q(true, ids.map((i) => i % 2 === 0))).sql).toBe('SELECT "id" FROM "t" WHERE "id" <> ALL (CAST($1 AS BOOLEAN[]))')
    expect(compiled(postgres, q(false, ids.map((i) => Buffer.from([i % 256])))).sql).toBe('SELECT "id" FROM "t" WHERE "id" = ANY (CAST($1 AS BYTEA[]))')
    // Values bound with different types, or arrays (which would nest), keep one parameter each.
    expect(compiled(postgres, q(false, [...ids, new Date(0)])).params).toHaveLength(ids.length + 1)
    expect(compiled(postgres, q(false, [...ids, [1, 2]])).params).toHaveLength(ids.length + 1)
  })

  it('MySQL and MariaDB: literals, text in hex, converted as the dialect binds them', () => {
    for (const d of [mysql, mariadb]) {
      const list = [...ids.slice(5), 1.5, -0.25, true, false, null, 'it\'s', 2n ** 64n, new Date(Date.UTC(2024, 1, 3, 4, 5, 6, 7)), Buffer.from([0, 255])]
      const c = compiled(d, q(false, list))
      const hex = (s: string) => `_utf8mb4 X'${Buffer.from(s, 'utf8').toString('hex')}'`
      expect(c.sql).toBe(`SELECT \`id\` FROM \`t\` WHERE \`id\` IN (${ids.slice(5).join(', ')}, 1.5e+0, -2.5e-1, 1, 0, ${hex('it\'s')}, ${hex(String(2n ** 64n))}, ${hex('2024-02-03 04:05:06.007')}, X'00ff') OR \`id\` IS NULL`)
      expect(c.params).toEqual([])
      expect(compiled(d, q(true)).sql).toBe(`SELECT \`id\` FROM \`t\` WHERE \`id\` NOT IN (${ids.join(', ')})`)
    }
  })

  it('a list holding anything but bound values, or a value the form cannot carry exactly, keeps its parameters', () => {
    // SQLite reads JSON numbers beyond 2^53 and with fractions inexactly; bytes have no JSON form.
    for (const odd of [1.5, 2 ** 60, Buffer.from([1])]) expect(compiled(sqlite, q(false, [...ids, odd])).params).toHaveLength(ids.length + 1)
    // An expression in the list.
    for (const d of [sqlite, postgres, mysql]) expect(compiled(d, q(false, [...ids, col('other')])).params).toHaveLength(ids.length)
    // A value the dialect refuses is refused as in a short list, naming its parameter.
    const refused: readonly (readonly [Dialect, unknown])[] = [[sqlite, Number.NaN], [mysql, Number.NaN], [postgres, new Date(Number.NaN)], [postgres, 'lone \ud800']]
    for (const [d, value] of refused) {
      const bad = d.compile(q(false, [...ids, value]))
      expect(E.isLeft(bad) && bad.left._tag).toBe('ValidationError')
      expect(E.isLeft(bad) && bad.left.message).toContain(`$${ids.length + 1}`)
    }
  })

  it('DuckDB and a dialect without longInList keep one parameter per value', () => {
    for (const d of [duckdb, standard, extend(sqlite, () => ({ longInList: undefined }))]) {
      const c = compiled(d, q(false))
      expect(c.params).toEqual(ids)
    }
  })

  it('longInList is late-bound: an override is what every statement uses', () => {
    const mine = extend(sqlite, (_self, base) => ({
      longInList: (lhs, values, negated) => {
        const f = base.longInList!(lhs, values, negated)
        return f === undefined ? undefined : { ...f, parts: ['/* long */ ', ...f.parts] }
      },
    }))
    expect(compiled(mine, q(false)).sql).toBe('SELECT "id" FROM "t" WHERE /* long */ "id" IN (SELECT value FROM json_each(?))')
    expect(compiled(mine, pipe(update('t'), set({ a: 1 }), where(notIn('id', ids)))).sql)
      .toBe('UPDATE "t" SET "a" = ? WHERE /* long */ "id" NOT IN (SELECT value FROM json_each(?))')
  })
})

// ---------------------------------------------------------------- on the engines

const { Item } = relate({
  Item: model({
    table: 'h1_lil_items',
    primaryKey: 'id',
    codec: t.type({ id: t.number, name: t.union([t.string, t.null]) }),
    relations: { parts: hasMany('Part', 'item_id') },
  }),
  Part: model({
    table: 'h1_lil_parts',
    primaryKey: 'id',
    codec: t.type({ id: t.number, item_id: t.number, label: t.string }),
    relations: { item: belongsTo('Item', 'item_id') },
  }),
})

const ddl = (engine: string): string[] => {
  const stamp = engine === 'postgres' ? 'TIMESTAMP(3)' : engine === 'mariadb' ? 'DATETIME(3)' : 'TEXT'
  const flag = engine === 'postgres' ? 'BOOLEAN' : 'TINYINT'
  const real = engine === 'postgres' ? 'DOUBLE PRECISION' : engine === 'mariadb' ? 'DOUBLE' : 'REAL'
  return [
    `CREATE TABLE h1_lil_items (id INTEGER PRIMARY KEY, name VARCHAR(40), big BIGINT, seen ${stamp}, flag ${flag}, score ${real})`,
    'CREATE TABLE h1_lil_parts (id INTEGER PRIMARY KEY, item_id INTEGER NOT NULL, label VARCHAR(20) NOT NULL)',
  ]
}

const names = ['plain', "it's", 'a"b', 'back\\slash', 'ünï € 日本', '%_like', null]
const day = (i: number) => new Date(Date.UTC(2024, 0, 1 + i, 12, 30, 15, 250))
const BIG = 2n ** 53n + 1n
const item = (i: number) => ({ id: (i + 1) * 100_000, name: names[i], big: BIG + BigInt(i), seen: day(i), flag: i % 2 === 0, score: i === 3 ? 49345045283687130 : i + 0.1 })
const SEEDED = names.map((_, i) => item(i))
const parts = (rows: readonly (readonly [number, number, string])[]) =>
  pipe(insertInto('h1_lil_parts'), values(rows.map(([id, item_id, label]) => ({ id, item_id, label }))))

for (const engine of ENGINES) {
  describe(`long lists on ${engine.name}`, () => {
    const { use } = engineTables(engine, ['h1_lil_items', 'h1_lil_parts'], ddl)

    const seed = async (db: Backend) => {
      await run(db.execute(pipe(insertInto('h1_lil_items'), values(SEEDED))))
      await run(db.execute(parts([[1, 200_000, 'a'], [2, 200_000, 'b'], [3, 400_000, 'c'], [4, 700_000, 'd']])))
    }
    const ids = async (db: Backend, q: Compilable): Promise<number[]> =>
      (await run(db.all(q))).map((r) => Number((r as { id: unknown }).id))
    const itemsWhere = (cond: ReturnType<typeof isIn>) => pipe(from('h1_lil_items'), select('id'), where(cond), orderBy('id'))

    it('integer ids: 40,000 and 70,000 of them, in and not in, as a short list', async (ctx) => {
      const db = use(ctx)
      await seed(db)
      for (const n of [40_000, 70_000]) {
        const short = [200_000, 400_000, 600_000]
        const long = [...range(n, 1_000_000), ...short]
        expect(await ids(db, itemsWhere(isIn('id', long)))).toEqual(short)
        expect(await ids(db, itemsWhere(notIn('id', long)))).toEqual([100_000, 300_000, 500_000, 700_000])
        expect(await ids(db, itemsWhere(notIn('id', long)))).toEqual(await ids(db, itemsWhere(notIn('id', short))))
        // The engine's form: a few parameters, not one per value.
        expect(compiled(db.dialect, itemsWhere(isIn('id', long))).params.length).toBeLessThanOrEqual(1)
      }
    }, 120_000)

    it('text with quotes and non-ASCII, dates, booleans, bigints beyond 2^53 and doubles match exactly', async (ctx) => {
      const db = use(ctx)
      await seed(db)
      const filler = range(40_000).map((i) => `x${i} ü'"`)
      const someNames = names.slice(1, 5) as string[]
      expect(await ids(db, itemsWhere(isIn('name', [...filler, ...someNames])))).toEqual(await ids(db, itemsWhere(isIn('name', someNames))))
      expect(await ids(db, itemsWhere(isIn('name', [...filler, ...someNames])))).toEqual([200_000, 300_000, 400_000, 500_000])
      expect(await ids(db, itemsWhere(notIn('name', [...filler, ...someNames])))).toEqual([100_000, 600_000])

      const days = [...range(40_000).map((i) => new Date(Date.UTC(1990, 0, 1) + i * 1000)), day(2), day(5)]
      expect(await ids(db, itemsWhere(isIn('seen', days)))).toEqual([300_000, 600_000])
      expect(await ids(db, itemsWhere(isIn('seen', days)))).toEqual(await ids(db, itemsWhere(isIn('seen', [day(2), day(5)]))))
      // A millisecond off matches nothing: the instant is carried exactly.
      expect(await ids(db, itemsWhere(isIn('seen', [...days.slice(0, 2000), new Date(day(1).getTime() + 1)])))).toEqual([])

      const flags = range(1500).map((i) => i % 3 === 0)
      expect(await ids(db, itemsWhere(isIn('flag', flags)))).toEqual(SEEDED.map((r) => r.id))
      expect(await ids(db, itemsWhere(isIn('flag', range(1500).map(() => false))))).toEqual([200_000, 400_000, 600_000])

      const bigs = [...range(2000).map((i) => BIG + 1000n + BigInt(i)), BIG + 2n]
      expect(await ids(db, itemsWhere(isIn('big', bigs)))).toEqual([300_000])
      expect(await ids(db, itemsWhere(isIn('big', [...bigs.slice(0, 2000), BIG - 1n])))).toEqual([])
      expect(await ids(db, itemsWhere(notIn('big', bigs)))).toEqual(SEEDED.filter((r) => r.id !== 300_000).map((r) => r.id))

      // A double beyond 2^53 and fractions: the same rows as a short list.
      const scores = [...range(2000).map((i) => i + 0.5), 49345045283687130, 2.1]
      expect(await ids(db, itemsWhere(isIn('score', scores)))).toEqual([300_000, 400_000])
      expect(await ids(db, itemsWhere(isIn('score', scores)))).toEqual(await ids(db, itemsWhere(isIn('score', [49345045283687130, 2.1]))))
      expect(await ids(db, itemsWhere(isIn('score', [...scores.slice(0, 2000), 49345045283687130 + 8])))).toEqual([])

      // Numbers given as text, and text as numbers: compared as in a short list.
      const asText = [...range(2000).map((i) => `${i + 5_000_000}`), '200000']
      expect(await ids(db, itemsWhere(isIn('id', asText)))).toEqual(await ids(db, itemsWhere(isIn('id', ['200000']))))
    }, 120_000)

    it('NULL in a long list means what it means in a short one: the NULL rows, as eq(col, null) does', async (ctx) => {
      const db = use(ctx)
      await seed(db)
      const named = [100_000, 200_000, 300_000, 400_000, 500_000, 600_000]
      const long = [...range(2000).map((i) => `y${i}`), null]
      expect(await ids(db, itemsWhere(notIn('name', ['zzz', null])))).toEqual(named)
      expect(await ids(db, itemsWhere(notIn('name', long)))).toEqual(named)
      expect(await ids(db, itemsWhere(isIn('name', [...long, 'plain'])))).toEqual([100_000, 700_000])
      expect(await ids(db, itemsWhere(isIn('name', ['plain', null])))).toEqual([100_000, 700_000])
      expect(await ids(db, itemsWhere(isIn('name', long)))).toEqual([700_000])
      expect(await ids(db, itemsWhere(isIn('name', [null])))).toEqual([700_000])
      // NOT of either is its complement.
      expect(await ids(db, itemsWhere(not(isIn('name', ['plain', null]))))).toEqual(named.slice(1))
      expect(await ids(db, itemsWhere(not(isIn('name', [...long, 'plain']))))).toEqual(named.slice(1))
      expect(await ids(db, itemsWhere(not(notIn('id', [...range(2000), 100_000, null]))))).toEqual([100_000])
    }, 60_000)

    it('in a subquery, a join condition, an UPDATE and a DELETE', async (ctx) => {
      const db = use(ctx)
      await seed(db)
      const many = [...range(40_000, 1_000_000), 2, 3]
      // Items having one of the parts: a long list inside the subquery.
      const sub = pipe(from('h1_lil_parts'), select('item_id'), where(isIn('id', many)))
      expect(await ids(db, itemsWhere(isIn('id', sub)))).toEqual([200_000, 400_000])
      // A long list in a join condition.
      const joined = pipe(from('h1_lil_items i'), select('i.id'), join('h1_lil_parts p', and(eq('p.item_id', col('i.id')), notIn('p.id', many))), orderBy('i.id'))
      expect(await ids(db, joined)).toEqual([200_000, 700_000])
      // UPDATE ... WHERE id IN (long), then DELETE ... WHERE id NOT IN (long).
      const keep = [...range(70_000, 1_000_000), 100_000, 300_000, 500_000]
      const u = await run(db.execute(pipe(update('h1_lil_items'), set({ name: 'many' }), where(isIn('id', keep)))))
      expect(u.rowsAffected).toBe(3)
      const d = await run(db.execute(pipe(deleteFrom('h1_lil_items'), where(notIn('id', keep)))))
      expect(d.rowsAffected).toBe(4)
      expect(await run(db.all(pipe(from('h1_lil_items'), select('id', 'name'), orderBy('id'))))).toEqual(
        [100_000, 300_000, 500_000].map((id) => ({ id, name: 'many' })),
      )
    }, 120_000)

    it('models: conditions and relation loading with many keys', async (ctx) => {
      const db = use(ctx)
      const n = 35_000
      await ok(Item.createMany(db, range(n, 1).map((id) => ({ id, name: `n${id}` }))))
      await run(db.execute(parts([[1, 7, 'a'], [2, 7, 'b'], [3, n, 'c']])))
      // Every item with its parts: one relation query with 35,000 keys (or chunks of them).
      const all = await ok(pipe(Item.query, Item.include('parts'), Item.orderBy('id'), Item.all(db)))
      expect(all).toHaveLength(n)
      expect(all.filter((i) => i.parts.length > 0).map((i) => [i.id, i.parts.map((p) => p.label).sort()])).toEqual([[7, ['a', 'b']], [n, ['c']]])
      // A model condition with a long list compiles through the dialect's form too.
      const q = pipe(Item.query, Item.where('id', 'in', range(n, 3)))
      const c = compileQuery(db, q)
      expect(E.isRight(c) && c.right.params.length).toBeLessThanOrEqual(1)
      expect(await ok(pipe(q, Item.count(db)))).toBe(n - 2)
      expect(await ok(pipe(Item.query, Item.where('id', 'not in', range(n, 3)), Item.orderBy('id'), Item.pluck(db, 'id')))).toEqual([1, 2])
    }, 180_000)
  })
}
