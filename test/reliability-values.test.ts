/**
 * Values at the edges through a model, on SQLite, PostgreSQL and MariaDB, by create, createMany
 * (VALUES) and a createMany of 600 rows (PostgreSQL's unnest path): 64-bit integers at both ends,
 * decimals of 40 digits, the largest and smallest doubles, empty text beside NULL, text beyond
 * the Basic Multilingual Plane, dates before 1970 and after 2038. Each reads back exactly, or
 * the write is refused with a typed error and nothing is written: an integer beyond 64 bits,
 * NaN and Infinity where the engine has none, a lone surrogate, a year past 9999 where the engine has
 * none. What the engines do change is checked as docs/failures.md says: -0 reads back as 0 on
 * SQLite and MariaDB; a decimal with more places than its column's scale is rounded to it.
 */
import * as t from 'io-ts'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { type Backend, type DbError, sql } from 'recordkit'
import { date, decimal, float, int64, model, nullable } from 'recordkit/model'
import { run } from 'recordkit/promise'
import { ENGINES, engineTables } from './support/engine-tables.js'

const T = 'reliability_values'
const Value = model({
  table: T,
  primaryKey: 'id',
  codec: t.type({ id: t.number, big: int64, amount: decimal, f: float, s: nullable(t.string), d: date }),
})
type Input = t.TypeOf<typeof Value.codec>

const ddl = (engine: string): string[] => [
  engine === 'sqlite'
    ? `CREATE TABLE ${T} (id INTEGER PRIMARY KEY, big INTEGER NOT NULL, amount TEXT NOT NULL, f REAL NOT NULL, s TEXT, d TEXT NOT NULL)`
    : engine === 'postgres'
      ? `CREATE TABLE ${T} (id INT PRIMARY KEY, big BIGINT NOT NULL, amount NUMERIC(40,10) NOT NULL, f DOUBLE PRECISION NOT NULL, s TEXT, d TIMESTAMPTZ(3) NOT NULL)`
      : `CREATE TABLE ${T} (id INT PRIMARY KEY, big BIGINT NOT NULL, amount DECIMAL(40,10) NOT NULL, f DOUBLE NOT NULL, s TEXT, d DATETIME(3) NOT NULL)`,
]

/** Values every engine stores as they are (decimals at the column's scale, as the servers read them back). */
const EDGES: readonly Input[] = [
  { id: 1, big: 2n ** 63n - 1n, amount: '123456789012345678901234567890.0123456789', f: Number.MAX_VALUE, s: '', d: new Date(Date.UTC(1969, 11, 31, 23, 59, 59, 999)) },
  { id: 2, big: -(2n ** 63n), amount: '-0.0000000001', f: -Number.MIN_VALUE, s: null, d: new Date(Date.UTC(2038, 0, 19, 3, 14, 8, 1)) },
  { id: 3, big: 2n ** 53n + 1n, amount: '1.5000000000', f: 0.1 + 0.2, s: '😀 \u{10FFFF} ö', d: new Date(Date.UTC(9999, 11, 31, 23, 59, 59, 999)) },
  { id: 4, big: -(2n ** 53n) - 1n, amount: '0.0000000000', f: 1e-300, s: ' ', d: new Date(Date.UTC(1900, 0, 1)) },
]

const left = (r: E.Either<unknown, unknown>): DbError => {
  if (E.isRight(r)) throw new Error(`expected a failure, got ${JSON.stringify(r.right, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`)
  return r.left as DbError
}

for (const engine of ENGINES) {
  describe(`values at the edges through a model (${engine.name})`, () => {
    const { use } = engineTables(engine, [T], ddl)
    const stored = async (db: Backend): Promise<Input[]> => run(Value.all(db)(Value.query))
    const count = async (db: Backend): Promise<number> => Number((await run(db.all<{ n: number }>(sql`SELECT COUNT(*) AS n FROM ${sql.id(T)}`)))[0].n)

    it('each edge value reads back exactly, by create, createMany and a bulk createMany', async (ctx) => {
      const db = use(ctx)
      for (const how of ['create', 'createMany', 'bulk'] as const) {
        await run(db.execute(sql`DELETE FROM ${sql.id(T)}`))
        if (how === 'create') {
          for (const row of EDGES) expect(await run(Value.create(db, row))).toEqual(row)
        } else if (how === 'createMany') {
          expect(await run(Value.createMany(db, EDGES))).toEqual(EDGES)
        } else {
          const many = Array.from({ length: 600 }, (_, i) => ({ ...EDGES[i % EDGES.length], id: i + 1 }))
          expect(await run(Value.createMany(db, many, { returning: false }))).toBe(600)
        }
        const back = await stored(db)
        expect(back.slice(0, EDGES.length), how).toEqual(EDGES.map((r, i) => ({ ...r, id: i + 1 })))
      }
    })

    it('a value the engine cannot hold is refused with a typed error, and nothing of the call is written', async (ctx) => {
      const db = use(ctx)
      await run(db.execute(sql`DELETE FROM ${sql.id(T)}`))
      const refused: [string, Partial<Input>, readonly string[]][] = [
        ['an integer beyond 64 bits', { big: 2n ** 63n }, engine.name === 'sqlite' ? ['ValidationError'] : ['ValueTooLarge']],
        // PostgreSQL's double precision holds NaN (test/model-float-nan.test.ts).
        ...(engine.name === 'postgres' ? [] : [['NaN', { f: Number.NaN }, ['ValidationError']] as [string, Partial<Input>, readonly string[]]]),
        ['a lone surrogate', { s: 'a\uD800b' }, ['ValidationError']],
        ...(engine.name === 'mariadb' ? [['Infinity', { f: Number.POSITIVE_INFINITY }, ['ValidationError']] as [string, Partial<Input>, readonly string[]]] : []),
        ...(engine.name === 'postgres' ? [] : [['a year past 9999', { d: new Date(Date.UTC(10000, 0, 1)) }, ['ValidationError']] as [string, Partial<Input>, readonly string[]]]),
      ]
      for (const [what, bad, tags] of refused) {
        for (const write of [
          () => Value.create(db, { ...EDGES[0], ...bad })(),
          // The bad value in the last row: the rows before it are not written either.
          () => Value.createMany(db, [EDGES[1], EDGES[2], { ...EDGES[0], ...bad }])(),
        ]) {
          const e = left(await write())
          expect(tags, `${what}: ${e._tag}: ${e.message}`).toContain(e._tag)
          expect(await count(db), what).toBe(0)
        }
      }
    })

    it('what the engines change, as documented: -0 and a decimal past its column\'s scale', async (ctx) => {
      const db = use(ctx)
      await run(db.execute(sql`DELETE FROM ${sql.id(T)}`))
      const row = await run(Value.create(db, { ...EDGES[0], f: -0, amount: '1.00000000005' }))
      // SQLite and MariaDB store no negative zero.
      expect(Object.is(row.f, -0)).toBe(engine.name === 'postgres')
      // PostgreSQL and MariaDB round to the column's scale (10 places) without an error; SQLite
      // keeps decimal text as it is given. The stored row create returns shows it.
      expect(row.amount).toBe(engine.name === 'sqlite' ? '1.00000000005' : '1.0000000001')
      expect((await stored(db))[0]).toEqual(row)
    })
  })
}
