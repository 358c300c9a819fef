/**
 * `values()` keeps rows of plain values (no expression, subquery, DEFAULT or missing key) as
 * one array per column, not a node per cell, and the compilers read those arrays: SQLite and
 * MySQL / MariaDB multi-row VALUES, PostgreSQL VALUES and unnest. Everything observable stays as
 * it was: the SQL text, the parameters and their order, the errors for bad values (naming the
 * parameter), the node's `rows` read by other code, and the values stored on each engine.
 */
import { pipe } from 'fp-ts/lib/function.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Backend, compose, connect, extend, fromParts, isDbError, run, sql } from 'recordkit'
import { mysql, mariadb } from 'recordkit/dialects/mysql'
import { arrayLiteral, postgres, unnest } from 'recordkit/dialects/postgres'
import { sqlite } from 'recordkit/dialects/sqlite'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'
import { mysql2 } from 'recordkit/drivers/mysql2'
import { postgresJs } from 'recordkit/drivers/postgres'
import { DEFAULT, type Expr, type InsertNode } from 'recordkit/query'
import { insertInto, onConflict, param, returning, val, values } from 'recordkit/query'
import { pgTimestamp } from '../src/dates.js'
import { valueColumnsOf } from '../src/value-columns.js'
import { MYSQL_URL, PG_URL, serverAvailable } from './support/servers.js'

const rowsOf = (n: number) => Array.from({ length: n }, (_, i) => ({
  id: i + 1,
  name: i % 5 === 0 ? `it's ${i}` : `name ${i}`,
  flag: i % 2 === 0,
  at: new Date(Date.UTC(2024, 0, 1) + i * 1001),
  big: 2n ** 53n + BigInt(i),
  doc: i % 3 === 0 ? { n: i, tags: ['a', '{b}'] } : [i, null],
  note: i % 4 === 0 ? null : `n${i}`,
}))

/** The same rows, forced through the node per cell: one cell is an expression (`val`), which is a bound value all the same. */
const slowly = (rows: readonly Record<string, unknown>[]) => rows.map((r, i) => {
  const first = Object.keys(r)[0]
  return i === 0 ? { ...r, [first]: val(r[first]) } : r
})

const dialects = [sqlite, postgres, mysql, mariadb] as const

describe('values() keeps plain rows as columns', () => {
  it('keeps rows of plain values as one array per column, and rows with an expression, DEFAULT or a missing key as nodes', () => {
    const plain = pipe(insertInto('t'), values(rowsOf(4)))
    expect(valueColumnsOf(plain)?.values.map((c) => c.length)).toEqual([4, 4, 4, 4, 4, 4, 4])
    // Fewer rows are cheaper as nodes.
    expect(valueColumnsOf(pipe(insertInto('t'), values(rowsOf(3))))).toBeUndefined()
    const four = (last: Record<string, unknown>) => [{ a: 1, b: 2 }, { a: 1, b: 2 }, { a: 1, b: 2 }, last]
    expect(valueColumnsOf(pipe(insertInto('t'), values(four({ a: 1, b: 2 }))))).toBeDefined()
    expect(valueColumnsOf(pipe(insertInto('t'), values(slowly(rowsOf(4)))))).toBeUndefined()
    expect(valueColumnsOf(pipe(insertInto('t'), values(four({ a: 1, b: DEFAULT }))))).toBeUndefined()
    expect(valueColumnsOf(pipe(insertInto('t'), values(four({ a: 3 }))))).toBeUndefined()
    expect(valueColumnsOf(pipe(insertInto('t'), values(four({ a: 3, b: 4, c: 5 }))))).toBeUndefined()
    expect(valueColumnsOf(pipe(insertInto('t'), values(four({ b: 3, a: 4 }))))).toBeUndefined()
    expect(valueColumnsOf(pipe(insertInto('t'), values(four({ a: 1, b: undefined }))))).toBeUndefined()
    expect(valueColumnsOf(pipe(insertInto('t'), values(four({ a: 1, b: sql`now()` }))))).toBeUndefined()
    expect(valueColumnsOf(pipe(insertInto('t'), values(four({ a: 1, b: param('b') }))))).toBeUndefined()
    expect(valueColumnsOf(pipe(insertInto('t'), values(four({ a: 1, b: 2 })), values(four({ a: 1, b: 2 }))))).toBeUndefined()
  })

  it('compiles to the same SQL and parameters as the node per cell, on every dialect', () => {
    for (const n of [1, 4, 17, 1000]) {
      const rows = rowsOf(n)
      for (const d of dialects) {
        const fast = d.compile(pipe(insertInto('t'), values(rows), returning('id')))
        const slow = d.compile(pipe(insertInto('t'), values(slowly(rows)), returning('id')))
        expect(fast, `${d.name}, ${n} rows`).toEqual(slow)
      }
      const upsert = (r: readonly Record<string, unknown>[]) => pipe(insertInto('t'), values(r), onConflict(['id'], ['name']))
      expect(postgres.compile(upsert(rows))).toEqual(postgres.compile(upsert(slowly(rows))))
      expect(mysql.compile(upsert(rows))).toEqual(mysql.compile(upsert(slowly(rows))))
      expect(sqlite.compile(upsert(rows))).toEqual(sqlite.compile(upsert(slowly(rows))))
    }
  })

  it('compiles an unnest insert to the same SQL and arrays as the node per cell, one statement or cut', () => {
    const types = { id: 'int4', name: 'text', flag: 'boolean', at: 'timestamptz', big: 'int8', doc: 'jsonb', note: 'text' }
    const rows = rowsOf(2500)
    expect(postgres.compile(pipe(insertInto('t'), values(rows), unnest(types)))).toEqual(postgres.compile(pipe(insertInto('t'), values(slowly(rows)), unnest(types))))
    const cut = (r: readonly Record<string, unknown>[]) => postgres.insertStatements(pipe(insertInto('t'), values(r), unnest(types, { rowsPerStatement: 1000 }))).map((s) => postgres.compile(s))
    const fast = cut(rows)
    expect(fast.length).toBe(3)
    expect(fast).toEqual(cut(slowly(rows)))
  })

  it('cuts an insert over the parameter limit at the same rows as before (SQLite, MySQL)', () => {
    const rows = rowsOf(12_000)
    for (const d of [sqlite, mysql]) {
      const parts = d.insertStatements(pipe(insertInto('t'), values(rows)))
      const before = d.insertStatements(pipe(insertInto('t'), values(slowly(rows))))
      expect(parts.length).toBe(before.length)
      expect(parts.map((p) => d.compile(p))).toEqual(before.map((p) => d.compile(p)))
    }
  })

  it('names the parameter of a value the dialect refuses, as before', () => {
    for (const d of dialects) {
      for (const at of [0, 3, 999]) {
        const rows = Array.from({ length: 1000 }, (_, i) => ({ a: i, b: i === at ? Symbol('s') : 'x' }))
        const fast = d.compile(pipe(insertInto('t'), values(rows)))
        const slow = d.compile(pipe(insertInto('t'), values(slowly(rows))))
        expect(fast._tag).toBe('Left')
        expect(fast).toEqual(slow)
        expect(fast._tag === 'Left' && isDbError(fast.left, 'ValidationError') && fast.left.issues.map((i) => i.path)).toEqual([`$${2 * at + 2}`])
      }
    }
  })

  it('gives other code the rows as nodes, as before, and then compiles from them', () => {
    const q: InsertNode = pipe(insertInto('t'), values([{ a: 1, b: 'x' }, { a: 2, b: new Date(0) }, { a: 3, b: null }, { a: 4, b: 'y' }]))
    expect(valueColumnsOf(q)).toBeDefined()
    expect(q.rows.length).toBe(4)
    expect(Array.isArray(q.rows)).toBe(true)
    expect(valueColumnsOf(q)).toBeDefined()
    expect(q.rows.map((r) => r.map((c) => c.kind))).toEqual(Array(4).fill(['value', 'value']))
    // Once a row is read, the rows are what compiling reads.
    expect(valueColumnsOf(q)).toBeUndefined()
    expect(q.rows[1][1]).toMatchObject({ kind: 'value', value: new Date(0) })
    expect(q.rows[0]).toBe(q.rows[0])
    expect([...q.rows].length).toBe(4)
    expect(Object.keys(q.rows)).toEqual(['0', '1', '2', '3'])
    expect(JSON.parse(JSON.stringify(q.rows.slice(0, 2)))).toEqual([[{ kind: 'value', value: 1 }, { kind: 'value', value: 'x' }], [{ kind: 'value', value: 2 }, { kind: 'value', value: '1970-01-01T00:00:00.000Z' }]])
    // A spread or a slice of the rows is a plain array of nodes.
    const sliced = { ...q, rows: q.rows.slice(1, 2) }
    expect(sqlite.compile(sliced)).toEqual({ _tag: 'Right', right: { sql: 'INSERT INTO "t" ("a", "b") VALUES (?, ?)', params: [2, '1970-01-01 00:00:00'] } })
    expect(sqlite.compile(q)).toEqual({ _tag: 'Right', right: { sql: 'INSERT INTO "t" ("a", "b") VALUES (?, ?), (?, ?), (?, ?), (?, ?)', params: [1, 'x', 2, '1970-01-01 00:00:00', 3, null, 4, 'y'] } })
  })

  it('reads a row changed through rows, as before', () => {
    const q: InsertNode = pipe(insertInto('t'), values([{ a: 1 }, { a: 2 }, { a: 3 }, { a: 4 }]))
    ;(q.rows[2] as Expr[])[0] = val(30)
    expect(mysql.compile(q)).toEqual({ _tag: 'Right', right: { sql: 'INSERT INTO `t` (`a`) VALUES (?), (?), (?), (?)', params: [1, 2, 30, 4] } })
    const r: InsertNode = pipe(insertInto('t'), values([{ a: 1 }, { a: 2 }, { a: 3 }, { a: 4 }]))
    ;(r.rows as (readonly Expr[])[])[1] = [val(20)]
    expect(mysql.compile(r)).toEqual({ _tag: 'Right', right: { sql: 'INSERT INTO `t` (`a`) VALUES (?), (?), (?), (?)', params: [1, 20, 3, 4] } })
  })

  it('compiles each row count and column set to its own text, one after the other', () => {
    const rows = (n: number, keys: readonly string[]) => Array.from({ length: n }, (_, i) => Object.fromEntries(keys.map((k, j) => [k, 10 * i + j])))
    for (const d of dialects) {
      const shapes: [number, string[]][] = [[4, ['a', 'b']], [5, ['a', 'b']], [4, ['a', 'c']], [4, ['a']], [4, ['b', 'a']], [4, ['a', 'b']]]
      const texts = shapes.map(([n, keys]) => {
        const node = pipe(insertInto('t'), values(rows(n, keys)))
        expect(valueColumnsOf(node)).toBeDefined()
        const c = d.compile(node)
        return c._tag === 'Right' ? `${c.right.sql} ${JSON.stringify(c.right.params)}` : c.left.message
      })
      const q = (n: string) => (d.name.startsWith('m') ? `\`${n}\`` : `"${n}"`)
      let at = 0
      const p = () => (d.name === 'postgres' ? `$${++at}` : '?')
      const expected = shapes.map(([n, keys]) => {
        at = 0
        const tuples = Array.from({ length: n }, () => `(${keys.map(() => p()).join(', ')})`).join(', ')
        return `INSERT INTO ${q('t')} (${keys.map(q).join(', ')}) VALUES ${tuples} ${JSON.stringify(rows(n, keys).flatMap((r) => keys.map((k) => r[k])))}`
      })
      expect(texts).toEqual(expected)
    }
  })

  it('is not changed by a change to the objects given after values()', () => {
    const rows = [{ a: 1, b: 'x' }, { a: 2, b: 'y' }, { a: 3, b: 'z' }, { a: 4, b: 'w' }]
    const q = pipe(insertInto('t'), values(rows))
    expect(valueColumnsOf(q)).toBeDefined()
    rows[0].a = 10
    rows[1].b = 'changed'
    expect(sqlite.compile(q)).toEqual({ _tag: 'Right', right: { sql: 'INSERT INTO "t" ("a", "b") VALUES (?, ?), (?, ?), (?, ?), (?, ?)', params: [1, 'x', 2, 'y', 3, 'z', 4, 'w'] } })
  })

  it('appends to rows given before, and widens them, as before', () => {
    const q = pipe(insertInto('t'), values([{ a: 1 }, { a: 2 }, { a: 3 }, { a: 4 }]), values([{ a: 5, b: 6 }]))
    expect(mysql.compile(q)).toEqual({ _tag: 'Right', right: { sql: 'INSERT INTO `t` (`a`, `b`) VALUES (?, DEFAULT), (?, DEFAULT), (?, DEFAULT), (?, DEFAULT), (?, ?)', params: [1, 2, 3, 4, 5, 6] } })
  })

  it('goes through an overridden expr for every cell', () => {
    const marked = extend(sqlite, (_, base) => ({ expr: (e) => (e.kind === 'value' ? fromParts(['/*v*/', base.expr(e)]) : base.expr(e)) }))
    expect(marked.compile(pipe(insertInto('t'), values([{ a: 1 }, { a: 2 }, { a: 3 }, { a: 4 }])))).toEqual({ _tag: 'Right', right: { sql: 'INSERT INTO "t" ("a") VALUES (/*v*/?), (/*v*/?), (/*v*/?), (/*v*/?)', params: [1, 2, 3, 4] } })
  })
})

describe('dates in a PostgreSQL array', () => {
  it('are written as pgTimestamp writes them, every year and millisecond, BC and beyond 9999 included', () => {
    const edges = [
      Date.UTC(2024, 0, 1), Date.UTC(2024, 1, 29, 23, 59, 59, 999), -62135596800000, -62135596800001, 253402300799999, 253402300800000,
      -62198755200000, 0, -1, 8.64e15, -8.64e15, Date.UTC(1969, 11, 31, 23, 59, 59, 1),
    ]
    let seed = 7
    const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647
    for (let i = 0; i < 5000; i++) edges.push(Math.round((random() * 2 - 1) * 8.64e15), Math.round((random() * 2 - 1) * 1e13))
    class Shifted extends Date { override toISOString(): string { return 'not it' } }
    const dates = [...edges.map((t) => new Date(t)), new Shifted(Date.UTC(2020, 5, 1))]
    expect(arrayLiteral(dates)).toBe(`{${dates.map((d) => `"${pgTimestamp(d)}"`).join(',')}}`)
    expect(() => arrayLiteral([new Date(Number.NaN)])).toThrow(/invalid Date/)
  })
})

/** Insert rows of every kind through each path and read them back. */
const roundTrip = (name: string, open: () => Promise<Backend>, create: string, read: (db: Backend) => Promise<readonly Record<string, unknown>[]>, withUnnest: boolean) => {
  describe(`plain rows stored as given on ${name}`, () => {
    let db: Backend
    beforeAll(async () => {
      db = await open()
      await run(db.execute(sql.raw('DROP TABLE IF EXISTS pvr_items')))
      await run(db.execute(sql.raw(create)))
    })
    afterAll(async () => {
      await run(db.execute(sql.raw('DROP TABLE IF EXISTS pvr_items')))
      await run(db.close())
    })
    const rows = Array.from({ length: 3000 }, (_, i) => ({
      id: i + 1,
      name: ["it's", '', 'NULL', '{a,b}', 'ünï€ode 😀', 'back\\slash'][i % 6],
      flag: i % 2 === 0,
      at: new Date(Date.UTC(2024, 0, 1, 0, 0, 0, 123) + i * 1000),
      big: 2n ** 60n + BigInt(i),
      doc: i % 3 === 0 ? { n: i, s: 'é"\\' } : { list: [i, null] },
      bin: Buffer.from([i % 256, 0, 255]),
      note: i % 4 === 0 ? null : `n${i}`,
    }))
    const ways: [string, (r: typeof rows) => InsertNode][] = [['VALUES', (r) => pipe(insertInto('pvr_items'), values(r))]]
    if (withUnnest) {
      const types = { id: 'int4', name: 'text', flag: 'boolean', at: 'timestamptz', big: 'int8', doc: 'jsonb', bin: 'bytea', note: 'text' }
      ways.push(['unnest', (r) => pipe(insertInto('pvr_items'), values(r), unnest(types))], ['unnest cut', (r) => pipe(insertInto('pvr_items'), values(r), unnest(types, { rowsPerStatement: 700 }))])
    }
    for (const [way, insert] of ways) {
      it(`through ${way}`, async () => {
        await run(db.execute(sql.raw('DELETE FROM pvr_items')))
        const fast = insert(rows)
        expect(valueColumnsOf(fast)).toBeDefined()
        await run(db.execute(fast))
        const back = await read(db)
        expect(back).toEqual(rows)
      })
    }
  })
}

const decode = (r: Record<string, unknown>): Record<string, unknown> => ({
  id: Number(r.id),
  name: r.name,
  flag: r.flag === true || r.flag === 1,
  at: r.at instanceof Date ? r.at : new Date(`${String(r.at).replace(' ', 'T')}Z`),
  big: BigInt(r.big as string),
  doc: typeof r.doc === 'string' ? JSON.parse(r.doc) : r.doc,
  bin: Buffer.from(r.bin as Uint8Array),
  note: r.note,
})

roundTrip('SQLite', async () => compose(betterSqlite3({ filename: ':memory:' }), sqlite),
  'CREATE TABLE pvr_items (id INTEGER PRIMARY KEY, name TEXT, flag INTEGER, at TEXT, big INTEGER, doc TEXT, bin BLOB, note TEXT)',
  async (db) => (await run(db.all(sql`SELECT id, name, flag, at, CAST(big AS TEXT) AS big, doc, bin, note FROM pvr_items ORDER BY id`))).map(decode), false)

const pgAvailable = await serverAvailable('postgres')
if (pgAvailable) {
  roundTrip('PostgreSQL', () => run(connect(postgresJs({ url: PG_URL, max: 2 }), postgres)),
    'CREATE TABLE pvr_items (id int PRIMARY KEY, name text, flag boolean, at timestamptz, big int8, doc jsonb, bin bytea, note text)',
    async (db) => (await run(db.all(sql`SELECT id, name, flag, at, CAST(big AS TEXT) AS big, doc, bin, note FROM pvr_items ORDER BY id`))).map(decode), true)
}

const myAvailable = await serverAvailable('mariadb')
if (myAvailable) {
  roundTrip('MariaDB', () => run(connect(mysql2({ url: MYSQL_URL, max: 2 }), mariadb)),
    'CREATE TABLE pvr_items (id INT PRIMARY KEY, name VARCHAR(50), flag BOOLEAN, at DATETIME(3), big BIGINT, doc JSON, bin VARBINARY(10), note TEXT)',
    async (db) => (await run(db.all(sql`SELECT id, name, flag, at, CAST(big AS CHAR) AS big, doc, bin, note FROM pvr_items ORDER BY id`))).map(decode), false)
}
