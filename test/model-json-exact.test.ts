/**
 * A `jsonOf` field reads back exactly the document it stored, on SQLite, PostgreSQL and MariaDB,
 * in the engine's own JSON type (JSONB, JSON; TEXT on SQLite) and in a text column: objects,
 * arrays, numbers, booleans, JSON null inside, and bare strings, among them strings that are JSON
 * text themselves ('42', 'null', '[1]'). PostgreSQL's and MariaDB's drivers hand a JSON column
 * over parsed, where a bare string cannot be told from JSON text; models read such fields as the
 * column's text, which the codec parses. Checked through create, createMany, find, all, update,
 * upsert, restore's neighbours and an include (eager loading), one level in place and one copied
 * (a manyToMany, a limited include).
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { type Backend, sql } from 'recordkit'
import { hasMany, integer, jsonOf, manyToMany, model, nullable, relate } from 'recordkit/model'
import { ok } from 'recordkit/testing'
import { ENGINES, engineTables } from './support/engine-tables.js'

const codec = t.type({
  id: integer,
  ownerId: integer,
  doc: nullable(jsonOf(t.unknown)),
  label: nullable(jsonOf(t.string)),
})
const { Owner, Doc, Tag } = relate({
  Owner: model({
    table: 'rk_mje_owners',
    primaryKey: 'id',
    codec: t.type({ id: integer, meta: nullable(jsonOf(t.unknown)) }),
    relations: { docs: hasMany('Doc', 'ownerId'), tags: manyToMany('Tag', { through: 'rk_mje_owner_tags', from: 'owner_id', to: 'tag_id' }) },
  }),
  Doc: model({ table: 'rk_mje_docs', primaryKey: 'id', columns: { ownerId: 'owner_id' }, codec }),
  Tag: model({ table: 'rk_mje_tags', primaryKey: 'id', codec: t.type({ id: integer, value: jsonOf(t.unknown) }) }),
})

const TABLES = ['rk_mje_owner_tags', 'rk_mje_docs', 'rk_mje_tags', 'rk_mje_owners']
const ddl = (engine: string): string[] => {
  const json = engine === 'postgres' ? 'JSONB' : engine === 'mariadb' ? 'JSON' : 'TEXT'
  const plainJson = engine === 'postgres' ? 'JSON' : json
  return [
    `CREATE TABLE rk_mje_owners (id INTEGER PRIMARY KEY, meta ${plainJson} NULL)`,
    `CREATE TABLE rk_mje_docs (id INTEGER PRIMARY KEY, owner_id INTEGER NOT NULL, doc ${json} NULL, label ${json} NULL)`,
    `CREATE TABLE rk_mje_tags (id INTEGER PRIMARY KEY, value ${json} NOT NULL)`,
    'CREATE TABLE rk_mje_owner_tags (owner_id INTEGER NOT NULL, tag_id INTEGER NOT NULL)',
  ]
}

/** Bare strings, several of them JSON text themselves, and every other kind of document. */
const STRINGS = ['hello', '42', 'null', '[1]', '"quoted"', '{"a":1}', 'true', '', ' 7 ', 'ünïcødé ✓']
const OTHERS: unknown[] = [42, -1.5, 0, true, false, [], [1, 'x', null, '[3]'], {}, { a: null, b: '"q"', c: { d: '{}', e: ['null'] } }]
const DOCS: unknown[] = [...STRINGS, ...OTHERS]

for (const engine of ENGINES) {
  describe(`jsonOf documents read back exactly on ${engine.name}`, () => {
    const { use } = engineTables(engine, TABLES, ddl)
    const seed = async (db: Backend) => {
      await ok(Owner.create(db, { id: 1, meta: 'owner' }))
      return ok(Doc.createMany(db, DOCS.map((d, i) => ({ id: i + 1, ownerId: 1, doc: d, label: typeof d === 'string' ? d : null }))))
    }
    const expected = DOCS.map((d, i) => ({ id: i + 1, ownerId: 1, doc: d, label: typeof d === 'string' ? d : null }))

    it('create and createMany return them, find and all read them', async (ctx) => {
      const db = use(ctx)
      expect(await seed(db)).toEqual(expected)
      expect(await ok(Doc.create(db, { id: 100, ownerId: 1, doc: '42', label: 'hello' }))).toEqual({ id: 100, ownerId: 1, doc: '42', label: 'hello' })
      expect(await ok(pipe(Doc.query, Doc.where('id', '<', 100), Doc.orderBy('id'), Doc.all(db)))).toEqual(expected)
      for (const row of expected) expect(await ok(Doc.findOrFail(db, row.id))).toEqual(row)
      // A selection of fields, and a computed column beside them.
      expect(await ok(pipe(Doc.query, Doc.select('label'), Doc.where('id', '=', 2), Doc.all(db)))).toEqual([{ label: '42' }])
      expect(await ok(Owner.findOrFail(db, 1))).toEqual({ id: 1, meta: 'owner' })
      // pluck, paginate (its total read with the rows), batches, refresh.
      expect(await ok(pipe(Doc.query, Doc.where('id', '<', 100), Doc.orderBy('id'), Doc.pluck(db, 'doc')))).toEqual(DOCS)
      const page = await ok(pipe(Doc.query, Doc.where('id', '<', 100), Doc.orderBy('id'), Doc.paginate(db, { page: 1, perPage: 5 })))
      expect([page.rows, page.total]).toEqual([expected.slice(0, 5), DOCS.length])
      const batched: unknown[] = []
      for await (const batch of pipe(Doc.query, Doc.where('id', '<', 100), Doc.batches(db, { size: 4 }))) batched.push(...batch)
      expect(batched).toEqual(expected)
      expect(await ok(Doc.refresh(db, { ...expected[1], doc: 'stale' }))).toEqual(expected[1])
    })

    it('update and upsert return the stored document, and find agrees', async (ctx) => {
      const db = use(ctx)
      await seed(db)
      for (const [i, d] of DOCS.entries()) {
        const row = await ok(Doc.findOrFail(db, i + 1))
        const next = DOCS[(i + 1) % DOCS.length]
        const updated = await ok(Doc.update(db, row, { doc: next, label: typeof next === 'string' ? next : 'x' }))
        expect(updated).toEqual({ id: i + 1, ownerId: 1, doc: next, label: typeof next === 'string' ? next : 'x' })
        expect(await ok(Doc.findOrFail(db, i + 1))).toEqual(updated)
        const upserted = await ok(Doc.upsert(db, { id: i + 1, ownerId: 1, doc: d, label: '"' }))
        expect(upserted).toEqual({ id: i + 1, ownerId: 1, doc: d, label: '"' })
        // An upsert that inserts.
        expect(await ok(Doc.upsert(db, { id: 200 + i, ownerId: 1, doc: d, label: null }))).toEqual({ id: 200 + i, ownerId: 1, doc: d, label: null })
      }
    })

    it('many rows at once (PostgreSQL: through unnest) and an upsert that does nothing on conflict return them', async (ctx) => {
      const db = use(ctx)
      await ok(Owner.create(db, { id: 1, meta: null }))
      const many = Array.from({ length: 600 }, (_, i) => ({ id: i + 1, ownerId: 1, doc: DOCS[i % DOCS.length], label: STRINGS[i % STRINGS.length] }))
      expect(await ok(Doc.createMany(db, many))).toEqual(many)
      expect(await ok(pipe(Doc.query, Doc.orderBy('id'), Doc.all(db)))).toEqual(many)
      // Nothing to update on conflict: the row is read by its key.
      expect(await ok(Doc.upsert(db, { id: 2, ownerId: 1, doc: 'changed', label: null }, { update: [] }))).toEqual(many[1])
    })

    it('an include reads them: in place (hasMany), copied (manyToMany, a limited include)', async (ctx) => {
      const db = use(ctx)
      await seed(db)
      await ok(Tag.createMany(db, DOCS.map((d, i) => ({ id: i + 1, value: d }))))
      await ok(db.execute(sql.raw(`INSERT INTO rk_mje_owner_tags (owner_id, tag_id) VALUES ${DOCS.map((_, i) => `(1, ${i + 1})`).join(', ')}`)))
      const [owner] = await ok(pipe(Owner.query, Owner.include('docs', (q) => pipe(q, Doc.orderBy('id'))), Owner.include('tags', (q) => pipe(q, Tag.orderBy('id'))), Owner.all(db)))
      expect(owner.docs).toEqual(expected)
      expect(owner.tags).toEqual(DOCS.map((d, i) => ({ id: i + 1, value: d })))
      const [limited] = await ok(pipe(Owner.query, Owner.include('docs', (q) => pipe(q, Doc.orderBy('id'), Doc.limit(3))), Owner.all(db)))
      expect(limited.docs).toEqual(expected.slice(0, 3))
    })

    it('groupBy a jsonOf field reads each group\'s document exactly', async (ctx) => {
      const db = use(ctx)
      await seed(db)
      const groups = await ok(pipe(Doc.query, Doc.where('label', 'is not null'), Doc.groupBy('label'), Doc.aggregate(db, (a) => ({ n: a.count() }))))
      expect(groups.map((g) => g.label).sort()).toEqual([...STRINGS].sort())
      expect(groups.every((g) => g.n === 1)).toBe(true)
    })

    it('a document that is not JSON text of the codec is a DecodeError, never a changed value', async (ctx) => {
      const db = use(ctx)
      await ok(Owner.create(db, { id: 1, meta: null }))
      // The JSON number 42 in a jsonOf(t.string) field: not the string '42'.
      await ok(db.execute(sql.raw(`INSERT INTO rk_mje_docs (id, owner_id, doc, label) VALUES (1, 1, NULL, '42')`)))
      const e = await Doc.find(db, 1)()
      expect(e._tag).toBe('Left')
      if (e._tag === 'Left') expect(e.left._tag).toBe('DecodeError')
    })
  })
}
