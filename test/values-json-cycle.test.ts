/**
 * A value with a cycle has no JSON form: bound as JSON (a plain object parameter, `json(...)`) or
 * written to a model's `jsonOf` field, it is a ValidationError (UNBINDABLE_VALUE) and nothing
 * runs, as every other value JSON cannot hold is; it was a QueryError carrying JSON.stringify's
 * TypeError. Checked on SQLite: the refusal happens before the driver sees the statement.
 */
import * as t from 'io-ts'
import { pipe } from 'fp-ts/lib/function.js'
import { describe, expect, it } from 'vitest'
import { compose, json, sql, UNBINDABLE } from 'recordkit'
import { sqlite } from 'recordkit/dialects/sqlite'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'
import { integer, jsonOf, model } from 'recordkit/model'
import { run } from 'recordkit/promise'
import { insertInto, values } from 'recordkit/query'

const cyclic = (): Record<string, unknown> => {
  const o: Record<string, unknown> = { a: 1 }
  o.self = o
  return o
}

describe('a value with a cycle bound as JSON', () => {
  it('is a ValidationError naming the value, and nothing is written', async () => {
    const db = compose(betterSqlite3({ filename: ':memory:' }), sqlite)
    await run(db.execute(sql`CREATE TABLE docs (id INTEGER PRIMARY KEY, doc TEXT)`))
    for (const attempt of [
      db.execute(pipe(insertInto('docs'), values({ id: 1, doc: cyclic() }))),
      db.execute(sql`INSERT INTO docs (id, doc) VALUES (${2}, ${json(cyclic())})`),
    ]) {
      const r = await attempt()
      expect(r._tag).toBe('Left')
      if (r._tag === 'Left') {
        expect(r.left._tag).toBe('ValidationError')
        expect(r.left).toMatchObject({ code: UNBINDABLE })
        expect(r.left.message).toMatch(/no JSON form.*circular/i)
      }
    }
    const Doc = model({ table: 'docs', primaryKey: 'id', codec: t.type({ id: integer, doc: jsonOf(t.unknown) }) })
    const m = await Doc.create(db, { id: 3, doc: cyclic() })()
    expect(m._tag === 'Left' && m.left._tag).toBe('ValidationError')
    expect(await run(db.all(sql`SELECT id FROM docs`))).toEqual([])
    await run(db.close())
  })
})
