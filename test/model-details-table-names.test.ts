/**
 * A model's table name is a name, never read for an alias: `'rk mdt shelves'` is the table
 * "rk mdt shelves" (it was read as table "rk" under the alias "mdt"...), in every statement a
 * model writes: reads, counts, writes, upserts, includes, relation subqueries, and a manyToMany
 * join table with a space in its name. A dot in the table name still separates a schema. On SQLite, PostgreSQL and MariaDB.
 */
import * as TE from 'fp-ts/lib/TaskEither.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { type Backend, sql } from 'recordkit'
import { belongsTo, hasMany, manyToMany, model, relate } from 'recordkit/model'
import { ok } from 'recordkit/testing'
import { ENGINES, engineTables } from './support/engine-tables.js'

const TABLES = ['rk mdt shelves', 'rk mdt books', 'rk mdt tags', 'rk mdt book tags', 'rk_mdt_plain']

const Shelf = model({
  table: 'rk mdt shelves',
  primaryKey: 'id',
  codec: t.type({ id: t.number, label: t.string }),
  columns: { label: 'shelf label' },
  relations: { books: hasMany('Book', 'shelfId') },
})
const Book = model({
  table: 'rk mdt books',
  primaryKey: 'id',
  codec: t.type({ id: t.number, shelfId: t.number, title: t.string }),
  columns: { shelfId: 'shelf id' },
  relations: { shelf: belongsTo('Shelf', 'shelfId'), tags: manyToMany('Tag', { through: 'rk mdt book tags', from: 'book id', to: 'tag id' }) },
})
const Tag = model({ table: 'rk mdt tags', primaryKey: 'id', codec: t.type({ id: t.number, name: t.string }) })
const L = relate({ Shelf, Book, Tag })

const q = (engine: string, name: string): string => (engine === 'mariadb' ? `\`${name}\`` : `"${name}"`)
const ddl = (engine: string): string[] => [
  `CREATE TABLE ${q(engine, 'rk mdt shelves')} (id INTEGER PRIMARY KEY, ${q(engine, 'shelf label')} VARCHAR(20) NOT NULL)`,
  `CREATE TABLE ${q(engine, 'rk mdt books')} (id INTEGER PRIMARY KEY, ${q(engine, 'shelf id')} INTEGER NOT NULL, title VARCHAR(20) NOT NULL)`,
  `CREATE TABLE ${q(engine, 'rk mdt tags')} (id INTEGER PRIMARY KEY, name VARCHAR(20) NOT NULL)`,
  `CREATE TABLE ${q(engine, 'rk mdt book tags')} (${q(engine, 'book id')} INTEGER NOT NULL, ${q(engine, 'tag id')} INTEGER NOT NULL)`,
  'CREATE TABLE rk_mdt_plain (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)',
]

/** The schema each engine's test database answers to. */
const SCHEMA: Record<string, string> = { sqlite: 'main', postgres: 'public', mariadb: 'test' }

for (const engine of ENGINES) {
  describe(`model table names on ${engine.name}`, () => {
    const { use } = engineTables(engine, TABLES, ddl)

    it('a table name with spaces is quoted whole in reads and writes', async (ctx) => {
      const db: Backend = use(ctx)
      expect(await ok(L.Shelf.create(db, { id: 1, label: 'fiction' }))).toEqual({ id: 1, label: 'fiction' })
      expect(await ok(L.Shelf.createMany(db, [{ id: 2, label: 'poetry' }, { id: 3, label: 'maps' }]))).toHaveLength(2)
      expect(await ok(L.Shelf.upsert(db, { id: 3, label: 'atlases' }))).toEqual({ id: 3, label: 'atlases' })
      expect(await ok(L.Shelf.update(db, { id: 2, label: 'poetry' }, { label: 'verse' }))).toEqual({ id: 2, label: 'verse' })
      expect(await ok(L.Shelf.findOrFail(db, 2))).toEqual({ id: 2, label: 'verse' })
      expect(await ok(pipe(L.Shelf.query, L.Shelf.where('label', '=', 'fiction'), L.Shelf.count(db)))).toBe(1)
      expect(await ok(L.Shelf.updateWhere(db, { id: 3 }, { label: 'maps' }))).toBe(1)
      await ok(L.Shelf.delete(db, { id: 1, label: 'fiction' }))
      const rows = await ok(db.all<{ id: unknown; label: unknown }>(sql`SELECT id, ${sql.id(['shelf label'])} AS label FROM ${sql.id(['rk mdt shelves'])} ORDER BY id`))
      expect(rows.map((r) => [Number(r.id), r.label])).toEqual([[2, 'verse'], [3, 'maps']])
    })

    it('relations between tables with spaces: include, whereHas, withCount and a join table with a space', async (ctx) => {
      const db: Backend = use(ctx)
      await ok(L.Shelf.createMany(db, [{ id: 1, label: 'a' }, { id: 2, label: 'b' }]))
      await ok(L.Book.createMany(db, [{ id: 10, shelfId: 1, title: 'x' }, { id: 11, shelfId: 1, title: 'y' }, { id: 12, shelfId: 2, title: 'z' }]))
      await ok(L.Tag.createMany(db, [{ id: 100, name: 'old' }, { id: 101, name: 'new' }]))
      expect(await ok(L.Book.attach(db, { id: 10, shelfId: 1, title: 'x' }, 'tags', [{ id: 100 }, { id: 101 }]))).toBe(2)
      const shelves = await ok(pipe(L.Shelf.query, L.Shelf.include('books'), L.Shelf.withCount('books'), L.Shelf.orderBy('id'), L.Shelf.all(db)))
      expect(shelves.map((s) => [s.id, s.books.map((b) => b.id), s.booksCount])).toEqual([[1, [10, 11], 2], [2, [12], 1]])
      const books = await ok(pipe(L.Book.query, L.Book.include('shelf'), L.Book.include('tags'), L.Book.orderBy('id'), L.Book.all(db)))
      expect(books.map((b) => [b.id, b.shelf.label, b.tags.map((x) => x.name).sort()])).toEqual([[10, 'a', ['new', 'old']], [11, 'a', []], [12, 'b', []]])
      const tagged = await ok(pipe(L.Book.query, L.Book.whereHas('tags', (qq, T) => pipe(qq, T.where('name', '=', 'old'))), L.Book.pluck(db, 'id')))
      expect(tagged).toEqual([10])
      expect(await ok(L.Book.detach(db, { id: 10, shelfId: 1, title: 'x' }, 'tags'))).toBe(2)
    })

    it('a dot in the table name still names a schema', async (ctx) => {
      const db: Backend = use(ctx)
      const Plain = model({ table: `${SCHEMA[engine.name]}.rk_mdt_plain`, primaryKey: 'id', codec: t.type({ id: t.number, n: t.number }), hooks: { afterInsert: (r) => TE.right(r) } })
      await ok(Plain.create(db, { id: 1, n: 1 }))
      expect(await ok(Plain.update(db, { id: 1, n: 1 }, { n: 2 }))).toEqual({ id: 1, n: 2 })
      expect(await ok(Plain.upsert(db, { id: 1, n: 3 }))).toEqual({ id: 1, n: 3 })
      expect(await ok(pipe(Plain.query, Plain.all(db)))).toEqual([{ id: 1, n: 3 }])
    })
  })
}
