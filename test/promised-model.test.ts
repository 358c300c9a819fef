/**
 * `promisedModel`: a model's reads and writes as Promises on SQLite, PostgreSQL and MariaDB.
 * Values resolve as the fp-ts functions give them (an absent row is undefined instead of None),
 * failures reject with the DbError, and the functions take a backend or its Promise face, a
 * Promise transaction's handle included.
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { type Backend, isDbError, promised, sql } from 'recordkit'
import { belongsTo, date, hasMany, model, nullable, promisedModel, promisedModels, relate, rule, snakeCase, softDelete } from 'recordkit/model'
import { ok } from 'recordkit/testing'
import { ENGINES, engineTables } from './support/engine-tables.js'

const Author = model({
  table: 'rk_pm_authors',
  primaryKey: 'id',
  codec: t.type({ id: t.number, name: t.string, email: t.string }),
  relations: { books: hasMany('Book', 'authorId') },
  validators: [rule('email', 'email', (v) => typeof v.email !== 'string' || v.email.includes('@'), 'must contain @')],
})
const Book = model({
  table: 'rk_pm_books',
  primaryKey: 'id',
  naming: snakeCase,
  codec: t.type({ id: t.number, authorId: t.number, title: t.string, pages: t.number, deletedAt: nullable(date) }),
  relations: { author: belongsTo('Author', 'authorId') },
  behaviours: [softDelete()],
})
const Shelf = relate({ Author, Book })
const P = promisedModels(Shelf)

const ddl = (): string[] => [
  'CREATE TABLE rk_pm_authors (id INTEGER PRIMARY KEY, name VARCHAR(40) NOT NULL, email VARCHAR(40) NOT NULL UNIQUE)',
  'CREATE TABLE rk_pm_books (id INTEGER PRIMARY KEY, author_id INTEGER NOT NULL, title VARCHAR(40) NOT NULL, pages INTEGER NOT NULL, deleted_at TIMESTAMP NULL)',
]

const rejection = async (p: Promise<unknown>): Promise<unknown> => p.then(() => { throw new Error('resolved, expected a rejection') }, (e: unknown) => e)

const count = async (db: Backend, table: string): Promise<number> =>
  Number((await ok(db.all<{ n: unknown }>(sql`SELECT COUNT(*) AS n FROM ${sql.id(table)}`)))[0].n)

for (const engine of ENGINES) {
  describe(`promisedModel on ${engine.name}`, () => {
    const { use } = engineTables(engine, ['rk_pm_books', 'rk_pm_authors'], ddl)

    it('creates, finds and updates rows as Promises; an absent row is undefined', async (ctx) => {
      const db = use(ctx)
      const ada = await P.Author.create(db, { id: 1, name: 'Ada', email: 'ada@x.io' })
      expect(ada).toEqual({ id: 1, name: 'Ada', email: 'ada@x.io' })
      expect(await P.Author.find(db, 1)).toEqual(ada)
      expect(await P.Author.find(db, 2)).toBeUndefined()
      expect(await P.Author.findBy(db, { email: 'ada@x.io' })).toEqual(ada)
      expect(await P.Author.findBy(db, { email: 'nobody@x.io' })).toBeUndefined()
      const renamed = await P.Author.update(db, ada, { name: 'Ada L.' })
      expect(renamed.name).toBe('Ada L.')
      expect(await P.Author.refresh(db, ada)).toEqual(renamed)
      const { changed } = await P.Author.updateChanges(db, renamed, { name: 'Ada' })
      expect(changed).toEqual(['name'])
    })

    it('rejects with the DbError: NotFound, a validation error naming the field, a duplicate key', async (ctx) => {
      const db = use(ctx)
      const nf = await rejection(P.Author.findOrFail(db, 7))
      expect(isDbError(nf) && nf._tag).toBe('NotFound')
      const bad = await rejection(P.Author.create(db, { id: 1, name: 'Bo', email: 'no-at-sign' }))
      expect(isDbError(bad) && bad._tag).toBe('ValidationError')
      expect(isDbError(bad) && bad._tag === 'ValidationError' && bad.issues.map((i) => i.path)).toEqual(['email'])
      await P.Author.create(db, { id: 1, name: 'Bo', email: 'bo@x.io' })
      const dup = await rejection(P.Author.create(db, { id: 2, name: 'Bo again', email: 'bo@x.io' }))
      expect(isDbError(dup) && dup._tag).toBe('UniqueViolation')
      expect(await count(db, 'rk_pm_authors')).toBe(1)
    })

    it('ends query pipelines with Promises: all, first, count, exists, pluck, sums, pages, aggregates', async (ctx) => {
      const db = use(ctx)
      await P.Author.createMany(db, [{ id: 1, name: 'Ada', email: 'a@x.io' }, { id: 2, name: 'Bo', email: 'b@x.io' }])
      const n = await P.Book.createMany(db, [
        { id: 1, authorId: 1, title: 'Notes', pages: 10 },
        { id: 2, authorId: 1, title: 'Engines', pages: 30 },
        { id: 3, authorId: 2, title: 'Poems', pages: 5 },
      ], { returning: false })
      expect(n).toBe(3)
      const B = Shelf.Book
      expect((await pipe(B.query, B.orderBy('id'), P.Book.all(db))).map((b) => b.title)).toEqual(['Notes', 'Engines', 'Poems'])
      expect((await pipe(B.query, B.orderBy('pages', 'desc'), P.Book.first(db)))?.title).toBe('Engines')
      expect(await pipe(B.query, B.where('pages', '>', 100), P.Book.first(db))).toBeUndefined()
      expect(await pipe(B.query, B.where('authorId', '=', 1), P.Book.count(db))).toBe(2)
      expect(await pipe(B.query, B.where('title', '=', 'Poems'), P.Book.exists(db))).toBe(true)
      expect(await pipe(B.query, B.orderBy('id'), P.Book.pluck(db, 'title'))).toEqual(['Notes', 'Engines', 'Poems'])
      expect(await pipe(B.query, P.Book.sum(db, 'pages'))).toBe(45)
      expect(await pipe(B.query, P.Book.max(db, 'pages'))).toBe(30)
      expect(await pipe(B.query, P.Book.avg(db, 'pages'))).toBe(15)
      expect(await pipe(B.query, P.Book.countDistinct(db, 'authorId'))).toBe(2)
      const page = await pipe(B.query, B.orderBy('id'), P.Book.paginate(db, { page: 2, perPage: 2 }))
      expect(page.rows.map((b) => b.id)).toEqual([3])
      expect(page.total).toBe(3)
      const perAuthor = await pipe(B.query, B.groupBy('authorId'), B.orderBy('authorId'), P.Book.aggregate(db, (a) => ({ n: a.count(), pages: a.sum('pages') })))
      expect(perAuthor).toEqual([{ authorId: 1, n: 2, pages: 40 }, { authorId: 2, n: 1, pages: 5 }])
      const withBooks = await pipe(Shelf.Author.query, Shelf.Author.include('books'), Shelf.Author.orderBy('id'), P.Author.all(db))
      expect(withBooks.map((a) => a.books.length)).toEqual([2, 1])
      const loaded = await P.Book.load(db, (await P.Book.findOrFail(db, 3)), 'author')
      expect(loaded.author.name).toBe('Bo')
      const seen: number[] = []
      for await (const batch of pipe(B.query, P.Book.batches(db, { size: 2 }))) seen.push(batch.length)
      expect(seen).toEqual([2, 1])
    })

    it('soft deletes and restores; deletes and updates by condition return counts', async (ctx) => {
      const db = use(ctx)
      await P.Author.create(db, { id: 1, name: 'Ada', email: 'a@x.io' })
      const book = await P.Book.create(db, { id: 1, authorId: 1, title: 'Notes', pages: 10 })
      const gone = await P.Book.delete(db, book)
      expect(gone.deletedAt).toBeInstanceOf(Date)
      expect(await P.Book.find(db, 1)).toBeUndefined()
      const back = await P.Book.restore(db, gone)
      expect(back.deletedAt).toBeNull()
      expect(await P.Book.updateWhere(db, { authorId: 1 }, { pages: 12 })).toBe(1)
      expect(await P.Book.deleteWhere(db, { authorId: 1 })).toBe(1)
      expect(await count(db, 'rk_pm_books')).toBe(1) // soft: the row stays
    })

    it('runs inside a Promise transaction through its handle, and a rejection undoes every write', async (ctx) => {
      const db = use(ctx)
      const p = promised(db)
      await p.transaction(async (tx) => {
        await P.Author.create(tx, { id: 1, name: 'Ada', email: 'a@x.io' })
        await P.Book.create(tx, { id: 1, authorId: 1, title: 'Notes', pages: 10 })
      })
      const failure = await rejection(p.transaction(async (tx) => {
        await P.Author.create(tx, { id: 2, name: 'Bo', email: 'b@x.io' })
        await P.Author.create(tx, { id: 3, name: 'Cy', email: 'a@x.io' }) // a duplicate email
      }))
      expect(isDbError(failure) && failure._tag).toBe('UniqueViolation')
      expect(await count(db, 'rk_pm_authors')).toBe(1)
      expect(await P.Author.find(p, 1)).toEqual({ id: 1, name: 'Ada', email: 'a@x.io' })
    })
  })
}

describe('promisedModel follows the model it was made from', () => {
  it('calls the model function of the same name when called, and keeps the model at hand', () => {
    const Users = promisedModel(Author)
    expect(Users.model).toBe(Author)
    expect(Object.isFrozen(Users)).toBe(true)
    expect(Object.keys(promisedModels(Shelf)).sort()).toEqual(['Author', 'Book'])
  })
})
