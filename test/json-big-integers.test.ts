/**
 * An integer beyond ±2^53 inside a JSON document reads back with every digit, as a BigInt:
 * `JSON.parse` rounds it to the nearest double (9007199254740993 became 9007199254740992), a
 * value changed without a word. Checked where recordkit parses JSON: PostgreSQL json/jsonb
 * columns read raw, typed JSON results, and models' `jsonOf` fields on every engine (a BigInt a
 * model wrote comes back as that BigInt; a codec that wants a number refuses it, loudly).
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { json, run, sql } from 'recordkit'
import { integer, jsonOf, model } from 'recordkit/model'
import { as, readAs, select, selectOnly, val } from 'recordkit/query'
import { ok } from 'recordkit/testing'
import { ENGINES, engineTables } from './support/engine-tables.js'

const BIG = 2n ** 64n + 1n
const Doc = model({ table: 'rk_jbi_docs', primaryKey: 'id', codec: t.type({ id: integer, doc: jsonOf(t.unknown) }) })
const NumDoc = model({ table: 'rk_jbi_docs', primaryKey: 'id', codec: t.type({ id: integer, doc: jsonOf(t.type({ n: t.number })) }) })

for (const engine of ENGINES) {
  describe(`JSON integers beyond 2^53 on ${engine.name}`, () => {
    const { use } = engineTables(engine, ['rk_jbi_docs'], (name) => [
      `CREATE TABLE rk_jbi_docs (id INTEGER PRIMARY KEY, doc ${name === 'postgres' ? 'JSONB' : name === 'mariadb' ? 'JSON' : 'TEXT'} NOT NULL)`,
    ])

    it('a model jsonOf field reads back the BigInt it wrote, and the safe numbers as numbers', async (ctx) => {
      const db = use(ctx)
      const doc = { n: BIG, small: 9007199254740991, neg: -(2n ** 63n), list: [1, BIG], s: '12345678901234567890', f: 1.5 }
      const created = await ok(Doc.create(db, { id: 1, doc }))
      expect(created.doc).toEqual(doc)
      const found = await ok(Doc.find(db, 1))
      expect(found._tag === 'Some' && found.value.doc).toEqual(doc)
      // A codec that takes a number refuses the BigInt rather than rounding it.
      const r = await NumDoc.find(db, 1)()
      expect(r._tag === 'Left' && r.left._tag).toBe('DecodeError')
    })

    it('a typed JSON result keeps every digit', async (ctx) => {
      const db = use(ctx)
      const rows = await run(db.all(pipe(selectOnly(), select(as(readAs(val('{"id": 12345678901234567890, "ok": 7}'), 'json'), 'j')))))
      expect(rows).toEqual([{ j: { id: 12345678901234567890n, ok: 7 } }])
    })

    it.runIf(engine.name === 'postgres')('a jsonb column read raw keeps every digit', async (ctx) => {
      const db = use(ctx)
      await run(db.execute(sql`INSERT INTO rk_jbi_docs (id, doc) VALUES (${2}, ${json({ a: [1, 2] })})`))
      await run(db.execute(sql`UPDATE rk_jbi_docs SET doc = '{"id": 9007199254740993, "x": "9007199254740993"}'::jsonb WHERE id = 2`))
      expect(await run(db.all(sql`SELECT doc FROM rk_jbi_docs WHERE id = 2`))).toEqual([{ doc: { id: 9007199254740993n, x: '9007199254740993' } }])
    })
  })
}
