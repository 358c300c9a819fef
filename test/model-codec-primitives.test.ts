/**
 * A model field declared with io-ts's own `t.number` or `t.boolean` reads the same on SQLite,
 * PostgreSQL and MariaDB, whatever form the engine hands the column over in: a BIGINT (a number,
 * a bigint, or text on MariaDB) reads as its number where that is exact (within ±2^53) and is a
 * DecodeError beyond; a boolean (`true`, or 1/0 from SQLite's INTEGER and MariaDB's TINYINT(1))
 * reads as true/false and anything else is a DecodeError. The same on every read path: rows read
 * in place or copied, `find`, the rows a write returns, group keys, computed columns, and where
 * code generation is refused. Input is the domain value, as before: a string for `t.number` or
 * 1 for `t.boolean` is a ValidationError.
 */
import { pipe } from 'fp-ts/lib/function.js'
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import { beforeEach, describe, expect, it } from 'vitest'
import { type Backend, type DbError, run, sql } from 'recordkit'
import { FAIL, fastDecoder, model, nullable } from 'recordkit/model'
import { compileInPlaceMapper, compileMapper, interpretedMapper } from '../src/model/decode.js'
import { ENGINES, engineTables } from './support/engine-tables.js'

const Counter = model({
  table: 'rk_mcp_counters',
  primaryKey: 'id',
  codec: t.type({ id: t.number, n: t.number, on: t.boolean, maybe: nullable(t.boolean), score: nullable(t.number), whole: t.Int, tag: t.union([t.number, t.string]) }),
})
// A field name no engine takes as a column alias: its rows are copied by the model's mapper.
const Copied = model({
  table: 'rk_mcp_counters',
  primaryKey: 'id',
  columns: { 'the n': 'n' },
  codec: t.type({ id: t.number, 'the n': t.number, on: t.boolean }),
})

const TABLES = ['rk_mcp_counters']
const ddl = (engine: string): string[] => {
  const flag = engine === 'postgres' ? 'BOOLEAN' : engine === 'mariadb' ? 'TINYINT(1)' : 'INTEGER'
  return [`CREATE TABLE rk_mcp_counters (id BIGINT PRIMARY KEY, n BIGINT NOT NULL, "on" ${flag} NOT NULL, maybe ${flag} NULL,
    score BIGINT NULL, whole BIGINT NOT NULL, tag VARCHAR(20) NOT NULL)`.replace(/"on"/, engine === 'mariadb' ? '`on`' : '"on"')]
}

const ok = async <A>(te: TaskEither<DbError, A>): Promise<A> => run(te)
const fails = async <A>(te: TaskEither<DbError, A>): Promise<DbError> => {
  const r = await te()
  if (r._tag === 'Right') throw new Error(`expected a failure, got ${JSON.stringify(r.right, (_, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))}`)
  return r.left
}

const SAFE = 9007199254740991

const int = (n: number): t.Int => n as t.Int
const rowsWanted = [
  { id: 1, n: SAFE, on: true, maybe: null, score: -SAFE, whole: int(7), tag: 'one' },
  { id: 2, n: -5, on: false, maybe: true, score: null, whole: int(0), tag: '12' },
]

for (const engine of ENGINES) {
  describe(`t.number and t.boolean fields on ${engine.name}`, () => {
    const { use, current } = engineTables(engine, TABLES, ddl)
    const on = engine.name === 'mariadb' ? '`on`' : '"on"'
    const insert = (db: Backend, values: string) => run(db.execute(sql.raw(`INSERT INTO rk_mcp_counters (id, n, ${on}, maybe, score, whole, tag) VALUES ${values}`)))
    const T = engine.name === 'postgres' ? 'true' : '1'
    const F = engine.name === 'postgres' ? 'false' : '0'
    beforeEach(async () => {
      const db = current()
      if (db === undefined) return
      await insert(db, `(1, ${SAFE}, ${T}, NULL, ${-SAFE}, 7, 'one'), (2, -5, ${F}, ${T}, NULL, 0, '12')`)
    })

    it('reads BIGINT as its number and booleans as true/false on every read path', async (ctx) => {
      const db = use(ctx)
      expect(await ok(pipe(Counter.query, Counter.orderBy('id'), Counter.all(db)))).toEqual(rowsWanted)
      expect(await ok(Counter.find(db, 2))).toEqual({ _tag: 'Some', value: rowsWanted[1] })
      expect(await ok(pipe(Counter.query, Counter.select('id', 'on'), Counter.where('n', '<', 0), Counter.first(db)))).toEqual({ _tag: 'Some', value: { id: 2, on: false } })
      expect(await ok(pipe(Copied.query, Copied.orderBy('id'), Copied.all(db)))).toEqual([{ id: 1, 'the n': SAFE, on: true }, { id: 2, 'the n': -5, on: false }])
      const page = await ok(pipe(Counter.query, Counter.orderBy('id'), Counter.paginate(db, { page: 1, perPage: 1 })))
      expect([page.rows, page.total]).toEqual([[rowsWanted[0]], 2])
      // The row a write returns, and the row an update reads back.
      const made = await ok(Counter.create(db, { id: 3, n: 40, on: true, maybe: false, score: 2, whole: int(1), tag: 'x' }))
      expect(made).toEqual({ id: 3, n: 40, on: true, maybe: false, score: 2, whole: 1, tag: 'x' })
      expect(await ok(Counter.update(db, made, { on: false, n: 41 }))).toEqual({ ...made, on: false, n: 41 })
      // Group keys and computed columns of the same types.
      const groups = await ok(pipe(Counter.query, Counter.groupBy('on'), Counter.orderBy('on'), Counter.aggregate(db, (a) => ({ c: a.count() }))))
      expect(groups).toEqual([{ on: false, c: 2 }, { on: true, c: 1 }])
      const sums = await ok(pipe(Counter.query, Counter.where('id', '=', 1), Counter.computed('big', t.number, sql`${Counter.column('n')} + 0`), Counter.computed('yes', t.boolean, sql`${Counter.column('on')}`), Counter.all(db)))
      expect(sums.map((r) => [r.big, r.yes])).toEqual([[SAFE, true]])
    })

    it('reads the same where code generation is refused (the mapper as a loop over the fields)', async (ctx) => {
      const db = use(ctx)
      const raw = await ok(db.all(sql`SELECT * FROM rk_mcp_counters ORDER BY id`))
      const fields = Counter.core.fields
      expect(interpretedMapper(fields, [])(raw.map((r) => ({ ...r })))).toEqual(rowsWanted)
      expect(compileMapper(fields, [], 'rk_mcp_counters', { generate: false })(raw.map((r) => ({ ...r })))).toEqual(rowsWanted)
      expect(compileInPlaceMapper(fields, [], 'rk_mcp_counters', { generate: false })(raw.map((r) => ({ ...r })))).toEqual(rowsWanted)
    })

    it('a BIGINT beyond 2^53, or a flag that is neither 0 nor 1, is a DecodeError naming the field', async (ctx) => {
      const db = use(ctx)
      await insert(db, `(3, 9007199254740993, ${T}, NULL, NULL, 1, 'x')`)
      const big = await fails(pipe(Counter.query, Counter.all(db)))
      expect(big._tag).toBe('DecodeError')
      expect(big.message).toContain('column "n" of rk_mcp_counters (field n; row 3 of 3, id = 3)')
      expect(big.message).toContain('9007199254740993')
      const found = await fails(Counter.find(db, 3))
      expect(found.message).toContain('(field n;')
      await run(db.execute(sql.raw('DELETE FROM rk_mcp_counters WHERE id = 3')))
      if (engine.name !== 'postgres') {
        await run(db.execute(sql.raw(`UPDATE rk_mcp_counters SET maybe = 2 WHERE id = 2`)))
        const flag = await fails(pipe(Counter.query, Counter.orderBy('id'), Counter.all(db)))
        expect(flag._tag).toBe('DecodeError')
        expect(flag.message).toContain('column "maybe" of rk_mcp_counters (field maybe; row 2 of 2, id = 2)')
        expect(flag.message).toContain('got 2')
      }
    })

    it('input is unchanged: a string for t.number or 1 for t.boolean is a ValidationError, and nothing is written', async (ctx) => {
      const db = use(ctx)
      const e = await fails(Counter.create(db, { id: '4' as unknown as number, n: 1, on: 1 as unknown as boolean, maybe: null, score: null, whole: int(1), tag: 'x' }))
      expect(e._tag).toBe('ValidationError')
      expect((e as { issues: readonly { path: string; rule: string }[] }).issues.map((i) => `${i.path}: ${i.rule}`)).toEqual(['id: number', 'on: boolean'])
      const u = await fails(Counter.update(db, rowsWanted[0], { n: '5' as unknown as number }))
      expect(u._tag).toBe('ValidationError')
      expect(await ok(pipe(Counter.query, Counter.count(db)))).toBe(2)
    })
  })
}

describe('t.number and t.boolean read as columns', () => {
  it('t.number: a number as it is; integer text and bigints within ±2^53; nothing inexact', () => {
    const n = fastDecoder(t.number)
    for (const [u, want] of [[1.5, 1.5], ['42', 42], ['-9007199254740991', -SAFE], [42n, 42], [-(2n ** 53n) + 1n, -SAFE]] as const) expect(n(u)).toBe(want)
    for (const u of ['9007199254740992', '9007199254740993', 2n ** 53n, '1.5', '1e3', '', ' 1', 'x', true, null, undefined]) expect(n(u)).toBe(FAIL)
  })

  it('t.boolean: what bool reads; a union keeps a value a member takes as it is', () => {
    const b = fastDecoder(t.boolean)
    for (const u of [true, 1, 1n, '1', 't', 'true', Buffer.from([1])]) expect(b(u)).toBe(true)
    for (const u of [false, 0, 0n, '0', 'f', 'false', Buffer.from([0])]) expect(b(u)).toBe(false)
    for (const u of [2, 'yes', null]) expect(b(u)).toBe(FAIL)
    const either = fastDecoder(t.union([t.number, t.string]))
    expect(either('1')).toBe('1')
    expect(either(5n)).toBe(5)
    expect(fastDecoder(t.union([t.boolean, t.number]))(1)).toBe(1)
    expect(fastDecoder(t.Int)('7')).toBe(7)
    expect(fastDecoder(t.Int)('7.5')).toBe(FAIL)
  })
})
