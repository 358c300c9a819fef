/**
 * A `jsonOf` field kept in a binary column (PostgreSQL BYTEA, MariaDB LONGBLOB, SQLite BLOB)
 * reads back the document it stored. Models read jsonOf fields as the column's text where the
 * driver parses JSON, and PostgreSQL's text of a bytea is its hex form (`\x7b...`): the codec
 * reads that form as the UTF-8 bytes it spells (JSON text never starts with a backslash). Bytes
 * that are not UTF-8 are a DecodeError on SQLite and PostgreSQL, never text with replacement
 * characters in it; MariaDB's own CAST of such bytes to text puts `?` in their place (with a
 * warning only), which recordkit cannot see.
 */
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { sql } from 'recordkit'
import { integer, jsonOf, model, nullable } from 'recordkit/model'
import { ok } from 'recordkit/testing'
import { ENGINES, engineTables } from './support/engine-tables.js'

const Blob = model({ table: 'rk_mjb_docs', primaryKey: 'id', codec: t.type({ id: integer, doc: nullable(jsonOf(t.unknown)) }) })

const ddl = (engine: string): string[] => {
  const bytes = engine === 'postgres' ? 'BYTEA' : engine === 'mariadb' ? 'LONGBLOB' : 'BLOB'
  return [`CREATE TABLE rk_mjb_docs (id INTEGER PRIMARY KEY, doc ${bytes} NULL)`]
}

const DOCS: unknown[] = [{ a: 1, b: ['x', null] }, 'hello', '42', 42, [], 'ünïcødé ✓', null]

for (const engine of ENGINES) {
  describe(`jsonOf in a binary column on ${engine.name}`, () => {
    const { use } = engineTables(engine, ['rk_mjb_docs'], ddl)

    it('reads back every document it stored, through create, find and all', async (ctx) => {
      const db = use(ctx)
      const created = await ok(Blob.createMany(db, DOCS.map((doc, i) => ({ id: i + 1, doc }))))
      expect(created.map((r) => r.doc)).toEqual(DOCS)
      expect((await ok(Blob.all(db)(Blob.query))).map((r) => r.doc)).toEqual(DOCS)
      const one = await ok(Blob.create(db, { id: 100, doc: { nested: { deep: [1, 2, 3] } } }))
      expect(one.doc).toEqual({ nested: { deep: [1, 2, 3] } })
      const found = await ok(Blob.find(db, 100))
      expect(found._tag === 'Some' && found.value.doc).toEqual({ nested: { deep: [1, 2, 3] } })
    })

    it.skipIf(engine.name === 'mariadb')('bytes that are not UTF-8 are a DecodeError', async (ctx) => {
      const db = use(ctx)
      // 0xff is never part of UTF-8: a lenient decoder would read it as U+FFFD inside the string.
      await ok(db.execute(sql`INSERT INTO rk_mjb_docs (id, doc) VALUES (${1}, ${Buffer.from([0x22, 0xff, 0x22])})`))
      const r = await Blob.find(db, 1)()
      expect(r._tag).toBe('Left')
      if (r._tag === 'Left') expect(r.left._tag).toBe('DecodeError')
    })
  })
}
