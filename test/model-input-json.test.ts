/**
 * A `jsonOf` field refuses, as model input, exactly what the core insert refuses as JSON
 * (`jsonText`): NaN, Infinity, a Map, a Set, a class instance without `toJSON`, a function, a
 * Symbol, `undefined` in an array, a cycle. Each is a ValidationError naming the field, from
 * create, createMany, update, upsert and updateWhere, and nothing is written; it was stored
 * changed (NaN as null, a Map as {}, a function left out) and the write answered Right. A BigInt
 * inside the document is written with every digit (it was an untyped QueryError). On SQLite,
 * PostgreSQL and MariaDB, in a JSON text column and in the engine's JSON type.
 */
import { pipe } from 'fp-ts/lib/function.js'
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { type Backend, compose, type DbError, json, run, sql } from 'recordkit'
import { sqlite } from 'recordkit/dialects/sqlite'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'
import { insertInto, values } from 'recordkit/query'
import { FAIL, integer, jsonOf, model, nullable } from 'recordkit/model'
import { inputDecoder } from '../src/model/codecs.js'
import { ENGINES, engineTables } from './support/engine-tables.js'

const codec = t.type({ id: integer, doc: nullable(jsonOf(t.unknown)), list: jsonOf(t.array(t.unknown)) })
const Text = model({ table: 'rk_mij_text', primaryKey: 'id', codec })
const Native = model({ table: 'rk_mij_native', primaryKey: 'id', codec })

const TABLES = ['rk_mij_text', 'rk_mij_native']
const ddl = (engine: string): string[] => {
  const text = engine === 'mariadb' ? 'LONGTEXT' : 'TEXT'
  const json = engine === 'postgres' ? 'JSONB' : engine === 'mariadb' ? 'JSON' : 'TEXT'
  return [
    `CREATE TABLE rk_mij_text (id INTEGER PRIMARY KEY, doc ${text} NULL, list ${text} NOT NULL)`,
    `CREATE TABLE rk_mij_native (id INTEGER PRIMARY KEY, doc ${json} NULL, list ${json} NOT NULL)`,
  ]
}

const ok = async <A>(te: TaskEither<DbError, A>): Promise<A> => run(te)
const fails = async <A>(te: TaskEither<DbError, A>): Promise<DbError> => {
  const r = await te()
  if (r._tag === 'Right') throw new Error(`expected a failure, got ${String(JSON.stringify(r.right, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)))}`)
  return r.left
}
const show = (v: unknown): string => String(JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x)))
const issues = (e: DbError): { path: string; message?: string }[] => [...((e as { issues?: readonly { path: string; message?: string }[] }).issues ?? [])]

class Point {
  constructor(readonly x: number) {}
}
const cyclic = (): unknown => {
  const o: Record<string, unknown> = { a: 1 }
  o.self = o
  return o
}

/** Documents JSON would store as something else, and what the message names. */
const REFUSED: readonly (readonly [string, () => unknown, RegExp])[] = [
  ['NaN', () => ({ x: NaN }), /NaN/],
  ['Infinity', () => [Infinity], /Infinity/],
  ['-Infinity', () => ({ deep: { y: [-Infinity] } }), /Infinity/],
  ['a Map', () => ({ m: new Map([['a', 1]]) }), /Map/],
  ['a Set', () => new Set([1]), /Set/],
  ['undefined in an array', () => [1, undefined, 3], /undefined/],
  ['a function', () => ({ f: () => 1 }), /function/],
  ['a Symbol', () => ({ s: Symbol('s') }), /symbol/i],
  ['a class instance', () => ({ p: new Point(1) }), /Point/],
  ['a cycle', cyclic, /circular|cycle/i],
]

/** Documents JSON writes as they are (toJSON, shared references, bigints, lone surrogates). */
const shared = { s: 1 }
const ACCEPTED: readonly unknown[] = [
  0, -1.5, 'x', '\ud800', true, null, [], {}, [null, 'a', [1]], { a: undefined, b: [shared, shared] }, 2n ** 80n,
  new Date(0), { d: new Date(1) }, { toJSON: () => ({ x: 1 }) }, { n: { toJSON: () => undefined } }, Object.create(null) as unknown,
  [{ toJSON: (k: string) => k }],
]

describe('jsonOf input: the check agrees with jsonText', () => {
  const take = inputDecoder(jsonOf(t.unknown))
  // What the core binds as JSON (json(x)), on SQLite.
  const db = compose(betterSqlite3({ filename: ':memory:' }), sqlite)
  const writes = async (v: unknown): Promise<boolean> => (await db.all(sql`SELECT ${json(v)} AS v`)())._tag === 'Right'
  it('takes what the core binds as JSON and refuses what it refuses', async () => {
    for (const v of ACCEPTED) expect([take(v) !== FAIL, await writes(v)], show(v)).toEqual([true, true])
    for (const [what, make] of REFUSED) {
      const v = make()
      expect([take(v) === FAIL, await writes(v)], what).toEqual([true, false])
      // Deep inside, and through a toJSON.
      expect(take({ a: [{ b: v }] }), what).toBe(FAIL)
      expect(take({ toJSON: () => [v] }), what).toBe(FAIL)
    }
    expect(take({ toJSON: () => NaN })).toBe(FAIL)
    expect(take([undefined])).toBe(FAIL)
  })
})

for (const engine of ENGINES) {
  describe(`jsonOf input is JSON data or a ValidationError on ${engine.name}`, () => {
    const { use } = engineTables(engine, TABLES, ddl)
    const count = async (db: Backend, table: string): Promise<number> =>
      Number((await ok(db.all(sql.raw(`SELECT COUNT(*) AS n FROM ${table}`))))[0].n)
    const storedText = async (db: Backend, table: string, column: string, id: number): Promise<string> => {
      const text = engine.name === 'postgres' ? `CAST(${column} AS TEXT)` : engine.name === 'mariadb' ? `CAST(${column} AS CHAR)` : column
      return (await ok(db.all(sql.raw(`SELECT ${text} AS v FROM ${table} WHERE id = ${id}`))))[0].v as string
    }

    for (const M of [Text, Native]) {
      const table = M.core.table
      it(`${table}: create refuses each, naming the field, and writes nothing`, async (ctx) => {
        const db = use(ctx)
        for (const [what, make, named] of REFUSED) {
          const e = await fails(M.create(db, { id: 1, doc: make(), list: [] }))
          expect(e._tag, what).toBe('ValidationError')
          expect(issues(e).map((i) => i.path), what).toEqual(['doc'])
          expect(issues(e)[0].message, what).toMatch(named)
          // The same in a field that is not nullable.
          const l = await fails(M.create(db, { id: 1, doc: null, list: [make()] }))
          expect([l._tag, issues(l).map((i) => i.path)], what).toEqual(['ValidationError', ['list']])
        }
        expect(await count(db, table)).toBe(0)
      })

      it(`${table}: createMany, upsert, update and updateWhere refuse them too`, async (ctx) => {
        const db = use(ctx)
        const many = await fails(M.createMany(db, [{ id: 1, doc: 1, list: [] }, { id: 2, doc: { x: NaN }, list: [] }]))
        expect([many._tag, issues(many).map((i) => i.path)]).toEqual(['ValidationError', ['rows.1.doc']])
        expect(await count(db, table)).toBe(0)
        const up = await fails(M.upsert(db, { id: 1, doc: { m: new Map() }, list: [] }))
        expect([up._tag, issues(up).map((i) => i.path)]).toEqual(['ValidationError', ['doc']])
        expect(await count(db, table)).toBe(0)

        const row = await ok(M.create(db, { id: 1, doc: { a: 1 }, list: [1] }))
        const upd = await fails(M.update(db, row, { doc: [1, undefined] }))
        expect([upd._tag, issues(upd).map((i) => i.path)]).toEqual(['ValidationError', ['doc']])
        expect(upd.message).toBe('invalid rk_mij_text: doc: json(unknown) (got [1,undefined])'.replace('rk_mij_text', table))
        const where = await fails(M.updateWhere(db, { id: 1 }, { list: [Infinity] }))
        expect([where._tag, issues(where).map((i) => i.path)]).toEqual(['ValidationError', ['list']])
        expect(await ok(M.findOrFail(db, 1))).toEqual({ id: 1, doc: { a: 1 }, list: [1] })
      })

      it(`${table}: a BigInt is written with every digit; toJSON, Dates and undefined properties as JSON does`, async (ctx) => {
        const db = use(ctx)
        await ok(M.create(db, { id: 1, doc: { b: 2n ** 64n, n: -(10n ** 30n) }, list: [123456789012345678901234567890n] }))
        const doc = (await storedText(db, table, 'doc', 1)).replace(/\s/g, '')
        expect(doc).toBe('{"b":18446744073709551616,"n":-1000000000000000000000000000000}')
        expect((await storedText(db, table, 'list', 1)).replace(/\s/g, '')).toBe('[123456789012345678901234567890]')
        const when = new Date('2024-01-02T03:04:05.678Z')
        const created = await ok(M.create(db, { id: 2, doc: { when, skip: undefined, custom: { toJSON: () => 'mine' } }, list: [] }))
        expect(created.doc).toEqual({ when: '2024-01-02T03:04:05.678Z', custom: 'mine' })
        // An update writes BigInts the same way.
        await ok(M.update(db, created, { doc: [2n ** 70n] }))
        expect((await storedText(db, table, 'doc', 2)).replace(/\s/g, '')).toBe('[1180591620717411303424]')
      })

      it(`${table}: a condition on the field refuses what JSON has not, naming the field`, async (ctx) => {
        const db = use(ctx)
        const e = await fails(pipe(M.query, M.where('list', '=', [NaN]), M.all(db)))
        expect([e._tag, issues(e).map((i) => i.path)]).toEqual(['ValidationError', ['list']])
      })
    }

    it('the core insert and the model refuse the same values', async (ctx) => {
      const db = use(ctx)
      // Arrays are left out: PostgreSQL binds a JS array as an array, not as JSON. A cycle is a
      // QueryError from the core insert (JSON.stringify's TypeError), a ValidationError here.
      for (const [what, make] of REFUSED.filter(([w, m]) => !Array.isArray(m()) && w !== 'a cycle')) {
        const core = await fails(db.execute(pipe(insertInto('rk_mij_text'), values({ id: 9, doc: make(), list: '[]' }))))
        expect(core._tag, what).toBe('ValidationError')
        const viaModel = await fails(Text.create(db, { id: 9, doc: make(), list: [] }))
        expect(viaModel._tag, what).toBe('ValidationError')
      }
      expect(await count(db, 'rk_mij_text')).toBe(0)
    })
  })
}
