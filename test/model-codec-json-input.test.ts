/**
 * A `jsonOf` field's input (create, createMany, update, where values) is the value itself, on
 * SQLite, PostgreSQL and MariaDB: a JS string is a JSON string, stored as `"42"`, `"hello"`,
 * `"null"`, never read as JSON text; only what the database returns is parsed. Values round-trip
 * exactly through JSON text columns on every engine (strings that look like JSON, numbers, null
 * inside JSON, arrays, objects); through PostgreSQL's JSONB and MariaDB's JSON every value is
 * stored as given, and every value but a bare string reads back as it was. (Their drivers hand a
 * JSON string over parsed, as the JS string, which the model cannot tell from JSON text: reading
 * a bare string back exactly needs the statement to read those columns as text.)
 */
import { pipe } from 'fp-ts/lib/function.js'
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { type Backend, type DbError, run, sql } from 'recordkit'
import { FAIL, fastDecoder, integer, jsonOf, model, nullable } from 'recordkit/model'
import { inputCodec, inputDecoder } from '../src/model/codecs.js'
import { ENGINES, engineTables } from './support/engine-tables.js'

const codec = t.type({
  id: integer,
  any: nullable(jsonOf(t.unknown)),
  either: nullable(jsonOf(t.union([t.string, t.number]))),
  count: nullable(jsonOf(t.number)),
})
// The same fields in JSON text columns, and in each engine's own JSON type (TEXT on SQLite).
const Text = model({ table: 'rk_mcj_text', primaryKey: 'id', codec })
const Native = model({ table: 'rk_mcj_native', primaryKey: 'id', codec })

const TABLES = ['rk_mcj_text', 'rk_mcj_native']
const ddl = (engine: string): string[] => {
  const text = engine === 'mariadb' ? 'LONGTEXT' : 'TEXT'
  const json = engine === 'postgres' ? 'JSONB' : engine === 'mariadb' ? 'JSON' : 'TEXT'
  return [
    `CREATE TABLE rk_mcj_text (id INTEGER PRIMARY KEY, ${engine === 'mariadb' ? '`any`' : '"any"'} ${text} NULL, either ${text} NULL, count ${text} NULL)`,
    `CREATE TABLE rk_mcj_native (id INTEGER PRIMARY KEY, ${engine === 'mariadb' ? '`any`' : '"any"'} ${json} NULL, either ${json} NULL, count ${json} NULL)`,
  ]
}

const ok = async <A>(te: TaskEither<DbError, A>): Promise<A> => run(te)
const fails = async <A>(te: TaskEither<DbError, A>): Promise<DbError> => {
  const r = await te()
  if (r._tag === 'Right') throw new Error(`expected a failure, got ${JSON.stringify(r.right)}`)
  return r.left
}
const issuesOf = (e: DbError): string[] => ((e as { issues?: readonly { path: string; rule: string }[] }).issues ?? []).map((i) => `${i.path}: ${i.rule}`)

/** Strings, several of them JSON text themselves. */
const STRINGS = ['42', 'hello', 'null', '[1]', '"quoted"', '{"a":1}', 'true', '', ' 7 ', 'ünïcødé ✓']
/** Values that are not strings, with strings that look like JSON inside. */
const OTHERS: unknown[] = [42, -1.5, 0, true, false, [], [1, 'x', null, '[3]'], {}, { a: null, b: '"q"', c: { d: '{}', e: ['null'] } }]

for (const engine of ENGINES) {
  describe(`jsonOf input and round trips on ${engine.name}`, () => {
    const { use } = engineTables(engine, TABLES, ddl)
    const anyColumn = engine.name === 'mariadb' ? '`any`' : '"any"'
    /** The JSON text each row holds in `column` (the server's own text of a JSON type). */
    const storedText = async (db: Backend, table: string, column: string): Promise<(string | null)[]> => {
      const c = column === 'any' ? anyColumn : column
      const text = engine.name === 'postgres' ? `CAST(${c} AS TEXT)` : engine.name === 'mariadb' ? `CAST(${c} AS CHAR)` : c
      const rows = await ok(db.all(sql.raw(`SELECT ${text} AS v FROM ${table} ORDER BY id`)))
      return rows.map((r) => r.v as string | null)
    }

    it('create and createMany store a string as a JSON string, and every value as given; JSON types read back all but bare strings', async (ctx) => {
      const db = use(ctx)
      for (const M of [Text, Native]) {
        const values = [...STRINGS, ...OTHERS]
        let id = 0
        // The engine's JSON type reads a bare string back ambiguously (see the file's doc): written
        // here without reading the rows back.
        if (M === Text) for (const v of values) await ok(M.create(db, { id: ++id, any: v, either: typeof v === 'string' ? v : 1, count: 1 }))
        else await ok(M.createMany(db, values.map((v) => ({ id: ++id, any: v, either: typeof v === 'string' ? v : 1, count: 1 })), { returning: false }))
        await ok(M.createMany(db, values.map((v) => ({ id: ++id, any: v, either: null, count: null })), { returning: false }))
        const stored = (await storedText(db, M.core.table, 'any')).map((s) => (s === null ? null : JSON.parse(s) as unknown))
        expect(stored).toEqual([...values, ...values])
        // The strings are JSON strings, written as JSON.stringify writes them.
        const texts = await storedText(db, M.core.table, 'any')
        expect(texts.slice(0, STRINGS.length)).toEqual(STRINGS.map((s) => JSON.stringify(s)))
      }
      // The engine's JSON type reads back every value that is not a bare string.
      const made = await ok(Native.createMany(db, OTHERS.map((v, i) => ({ id: 100 + i, any: v, either: i, count: i }))))
      expect(made.map((r) => r.any)).toEqual(OTHERS)
      const read = await ok(pipe(Native.query, Native.where('id', '>=', 100), Native.orderBy('id'), Native.all(db)))
      expect(read.map((r) => [r.any, r.either, r.count])).toEqual(OTHERS.map((v, i) => [v, i, i]))
    })

    it('reads back from JSON text exactly what was written: strings that look like JSON, numbers, null inside, arrays, objects', async (ctx) => {
      const db = use(ctx)
      const values = [...STRINGS, ...OTHERS, null]
      const made = await ok(Text.createMany(db, values.map((v, i) => ({ id: i + 1, any: v, either: typeof v === 'string' ? v : 2.5, count: null }))))
      expect(made.map((r) => r.any)).toEqual(values)
      const read = await ok(pipe(Text.query, Text.orderBy('id'), Text.all(db)))
      expect(read.map((r) => r.any)).toEqual(values)
      expect(read.map((r) => r.either)).toEqual(values.map((v) => (typeof v === 'string' ? v : 2.5)))
      for (const [i, v] of values.entries()) {
        expect(await ok(Text.find(db, i + 1))).toEqual({ _tag: 'Some', value: { id: i + 1, any: v, either: typeof v === 'string' ? v : 2.5, count: null } })
      }
      const one = await ok(Text.create(db, { id: 99, any: 'null', either: '42', count: 7 }))
      expect(one).toEqual({ id: 99, any: 'null', either: '42', count: 7 })
    })

    it('update and where take the value itself: a string is a JSON string', async (ctx) => {
      const db = use(ctx)
      for (const M of [Text, Native]) {
        await ok(M.createMany(db, [{ id: 1, any: null, either: 7, count: null }, { id: 2, any: null, either: 8, count: null }]))
        const row = (await ok(M.find(db, 2))) as { _tag: 'Some'; value: t.TypeOf<typeof codec> }
        await ok(M.update(db, row.value, { either: '7', any: 'null' }))
        expect(await storedText(db, M.core.table, 'either')).toEqual(['7', '"7"'])
        expect(await storedText(db, M.core.table, 'any')).toEqual([null, '"null"'])
        expect((await ok(pipe(M.query, M.where('either', '=', '7'), M.all(db)))).map((r) => r.id)).toEqual([2])
        expect((await ok(pipe(M.query, M.where('either', '=', 7), M.all(db)))).map((r) => r.id)).toEqual([1])
        expect((await ok(pipe(M.query, M.where({ either: '7' }), M.count(db))))).toBe(1)
      }
    })

    it('input a field\'s codec refuses is a ValidationError naming the field, and nothing is written', async (ctx) => {
      const db = use(ctx)
      // '1' is a string, not the number the JSON text 1 would be.
      const e = await fails(Text.create(db, { id: 1, any: null, either: true as unknown as string, count: '1' as unknown as number }))
      expect(e._tag).toBe('ValidationError')
      // One issue per field, naming what the field takes (a union's members together).
      expect(issuesOf(e)).toEqual(['either: (string | number)', 'count: json(number)'])
      expect(e.message).not.toContain('JSON')
      await ok(Text.create(db, { id: 2, any: null, either: null, count: 3 }))
      const many = await fails(Text.createMany(db, [{ id: 3, any: '[', either: null, count: 1 }, { id: 4, any: null, either: null, count: '[5]' as unknown as number }]))
      expect(issuesOf(many)).toEqual(['rows.1.count: json(number)'])
      expect(await ok(pipe(Text.query, Text.count(db)))).toBe(1)
    })

    it('JSON read from the database holds JSON\'s own types: the JSON string "1" is not a number', async (ctx) => {
      const db = use(ctx)
      await ok(db.execute(sql.raw(`INSERT INTO rk_mcj_text (id, count) VALUES (1, '"1"')`)))
      const e = await fails(pipe(Text.query, Text.all(db)))
      expect(e._tag).toBe('DecodeError')
      expect(e.message).toContain('column "count" of rk_mcj_text (field count; row 1 of 1, id = 1)')
    })
  })
}

describe('jsonOf reading and input, without a database', () => {
  it('reads JSON text and parsed values; takes input as it is', () => {
    const J = jsonOf(t.union([t.string, t.number]))
    expect(fastDecoder(J)('"42"')).toBe('42')
    expect(fastDecoder(J)('42')).toBe(42)
    expect(fastDecoder(J)(Buffer.from('"x"'))).toBe('x')
    expect(inputDecoder(J)('42')).toBe('42')
    expect(inputDecoder(J)(42)).toBe(42)
    expect(inputDecoder(J)(true)).toBe(FAIL)
    expect(inputDecoder(nullable(J))('null')).toBe('null')
    expect(inputDecoder(nullable(J))(null)).toBe(null)
    expect(inputDecoder(jsonOf(t.unknown))('{"a":1}')).toBe('{"a":1}')
    expect(J.encode('42')).toBe('"42"')
    // Input errors are named after the field's codec.
    const r = inputCodec(jsonOf(t.number)).decode('1')
    expect(r._tag === 'Left' ? r.left.map((e) => e.context[e.context.length - 1].type.name) : []).toEqual(['json(number)'])
  })
})
