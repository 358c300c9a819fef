/**
 * Queries over related models as Rails' users write them, on SQLite, PostgreSQL and MariaDB:
 * a `has_many` counter (`withCount`) ordered by and plucked, `includes` with a condition on the
 * included table, `joins` with a condition on the joined model (`whereHas`), scopes taking
 * arguments, chained and merged (`compose`), and `reorder` / `reverseOrder` / `distinct` inside
 * scopes.
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { belongsTo, hasMany, model, relate } from 'recordkit/model'
import { ok } from 'recordkit/testing'
import { ENGINES, engineTables } from './support/engine-tables.js'

const { Author, Book } = relate({
  Author: model({
    table: 'h6_authors',
    primaryKey: 'id',
    codec: t.type({ id: t.number, name: t.string, country: t.string }),
    relations: { books: hasMany('Book', 'authorId') },
    scopes: (q) => ({
      from: (country: string) => q.where('country', '=', country),
      prolific: q.where('id', 'in', [2, 4]),
      byName: q.orderBy('name'),
      newestNameFirst: q.compose(q.reorder('name', 'desc')),
    }),
  }),
  Book: model({
    table: 'h6_books',
    primaryKey: 'id',
    codec: t.type({ id: t.number, authorId: t.number, title: t.string, pages: t.number }),
    relations: { author: belongsTo('Author', 'authorId') },
    scopes: (q) => ({ longer: (n: number) => q.where('pages', '>', n) }),
  }),
})

const ddl = (engine: string): string[] => {
  const q = (s: string) => (engine === 'mariadb' ? s.replace(/"/g, '`') : s)
  return [
    'CREATE TABLE h6_authors (id INTEGER PRIMARY KEY, name VARCHAR(40) NOT NULL, country VARCHAR(10) NOT NULL)',
    q('CREATE TABLE h6_books (id INTEGER PRIMARY KEY, "authorId" INTEGER NOT NULL, title VARCHAR(40) NOT NULL, pages INTEGER NOT NULL)'),
  ]
}

describe('a computed column in orderBy and where, typed', () => {
  it('is named as the query computes it, with a value of its type; a field keeps its own type', () => {
    const ok1 = pipe(Author.query, Author.withCount('books'), Author.orderBy('booksCount', 'desc'), Author.where('booksCount', '>', 1), Author.orWhere('booksCount', 'in', [0]))
    // @ts-expect-error a column the query does not compute (yet)
    const early = pipe(Author.query, Author.orderBy('booksCount', 'desc'))
    // @ts-expect-error a count compared with text
    const text = pipe(Author.query, Author.withCount('books'), Author.where('booksCount', '>', 'many'))
    // @ts-expect-error a field compared with a value of another type
    const field = pipe(Author.query, Author.where('id', '=', 'one'))
    const errors = [ok1, early, text, field].map((q) => (q as { error?: { _tag: string } }).error?._tag)
    expect(errors[0]).toBe(undefined)
    expect(errors[1]).toBe('QueryError')
  })
})

for (const engine of ENGINES) {
  describe(`model relations, second pass, on ${engine.name}`, () => {
    const { use } = engineTables(engine, ['h6_books', 'h6_authors'], ddl)
    const seeded = async (ctx: { skip: () => void }) => {
      const db = use(ctx)
      await ok(Author.createMany(db, [
        { id: 1, name: 'Austen', country: 'UK' },
        { id: 2, name: 'Borges', country: 'AR' },
        { id: 3, name: 'Cortazar', country: 'AR' },
        { id: 4, name: 'Dickens', country: 'UK' },
      ]))
      await ok(Book.createMany(db, [
        { id: 1, authorId: 2, title: 'Ficciones', pages: 200 },
        { id: 2, authorId: 2, title: 'El Aleph', pages: 150 },
        { id: 3, authorId: 2, title: 'Otras', pages: 300 },
        { id: 4, authorId: 1, title: 'Emma', pages: 500 },
        { id: 5, authorId: 4, title: 'Bleak House', pages: 900 },
        { id: 6, authorId: 4, title: 'Hard Times', pages: 350 },
      ]))
      return db
    }

    it('a withCount counter orders and plucks, with limit, count and paginate (Rails counter of has_many)', async (ctx) => {
      const db = await seeded(ctx)
      const busiest = pipe(Author.query, Author.withCount('books'), Author.orderBy('booksCount', 'desc'), Author.orderBy('id'))
      expect(await ok(pipe(busiest, Author.pluck(db, 'name')))).toEqual(['Borges', 'Dickens', 'Austen', 'Cortazar'])
      expect(await ok(pipe(busiest, Author.pluck(db, 'booksCount')))).toEqual([3, 2, 1, 0])
      expect(await ok(pipe(busiest, Author.limit(2), Author.all(db)))).toEqual([
        { id: 2, name: 'Borges', country: 'AR', booksCount: 3 },
        { id: 4, name: 'Dickens', country: 'UK', booksCount: 2 },
      ])
      expect(await ok(pipe(busiest, Author.limit(2), Author.count(db)))).toBe(2)
      const page = await ok(pipe(busiest, Author.paginate(db, { page: 2, perPage: 3 })))
      expect([page.total, page.rows.map((r) => r.name)]).toEqual([4, ['Cortazar']])
      expect(await ok(pipe(busiest, Author.reverseOrder, Author.pluck(db, 'name')))).toEqual(['Cortazar', 'Austen', 'Dickens', 'Borges'])
      expect(await ok(pipe(busiest, Author.reorder('booksCount'), Author.orderBy('id', 'desc'), Author.first(db)))).toMatchObject({ value: { name: 'Cortazar' } })
      // A name that is neither a field nor a computed column is a QueryError.
      await expect(ok(pipe(Author.query, Author.orderBy('booksCount' as 'id'), Author.all(db)))).rejects.toMatchObject({ _tag: 'QueryError' })
      await expect(ok(pipe(Author.query, Author.pluck(db, 'booksCount' as 'id')))).rejects.toMatchObject({ _tag: 'QueryError' })
    })

    it('where on a withCount counter keeps the rows whose count passes (Django annotate(n=Count()).filter(n__gt=1))', async (ctx) => {
      const db = await seeded(ctx)
      const counted = pipe(Author.query, Author.withCount('books'))
      const names = (q: typeof counted) => ok(pipe(q, Author.orderBy('id'), Author.pluck(db, 'name')))
      expect(await names(pipe(counted, Author.where('booksCount', '>', 1)))).toEqual(['Borges', 'Dickens'])
      expect(await names(pipe(counted, Author.where('booksCount', '=', 0)))).toEqual(['Cortazar'])
      expect(await names(pipe(counted, Author.where('booksCount', 'between', 1, 2)))).toEqual(['Austen', 'Dickens'])
      expect(await names(pipe(counted, Author.where('booksCount', 'in', [0, 3])))).toEqual(['Borges', 'Cortazar'])
      expect(await names(pipe(counted, Author.where('country', '=', 'UK'), Author.orWhere('booksCount', '>=', 3)))).toEqual(['Austen', 'Borges', 'Dickens'])
      expect(await ok(pipe(counted, Author.where('booksCount', '>', 1), Author.count(db)))).toBe(2)
      const page = await ok(pipe(counted, Author.where('booksCount', '<', 3), Author.orderBy('id'), Author.paginate(db, { page: 1, perPage: 2 })))
      expect([page.total, page.rows.map((r) => r.booksCount)]).toEqual([3, [1, 0]])
      // Before the counter is added, or with an operator it does not take: a QueryError (the types
      // refuse both; the casts reach the checks made when the query runs).
      await expect(ok(pipe(Author.query, Author.where('booksCount' as 'id', '>', 1), Author.withCount('books'), Author.all(db)))).rejects.toMatchObject({ _tag: 'QueryError' })
      await expect(ok(pipe(counted, Author.where('booksCount', 'like' as '=', 1), Author.all(db)))).rejects.toMatchObject({ _tag: 'QueryError' })
      await expect(ok(pipe(counted, Author.where('booksCount' as 'id', '>', undefined as never), Author.all(db)))).rejects.toMatchObject({ _tag: 'ValidationError' })
    })

    it('includes with a condition on the included table, joins with a condition on the joined model (whereHas)', async (ctx) => {
      const db = await seeded(ctx)
      // Rails: Author.includes(:books).where(books: { pages: 300.. }) - the authors with such a book, with those books.
      const rows = await ok(pipe(
        Author.query,
        Author.whereHas('books', (q, B) => pipe(q, B.where('pages', '>=', 300))),
        Author.include('books', (q, B) => pipe(q, B.where('pages', '>=', 300), B.orderBy('id'))),
        Author.orderBy('id'),
        Author.all(db),
      ))
      expect(rows.map((a) => [a.name, a.books.map((b) => b.title)])).toEqual([['Austen', ['Emma']], ['Borges', ['Otras']], ['Dickens', ['Bleak House', 'Hard Times']]])
      // Rails: Book.joins(:author).where(authors: { country: 'AR' }).
      expect(await ok(pipe(Book.query, Book.whereHas('author', (q, A) => pipe(q, A.where('country', '=', 'AR'))), Book.orderBy('id'), Book.pluck(db, 'title')))).toEqual(['Ficciones', 'El Aleph', 'Otras'])
      // Rails: Author.where.not(id: Book.select(:author_id)) - authors without books.
      expect(await ok(pipe(Author.query, Author.where('id', 'not in', pipe(Book.query, Book.select('authorId'))), Author.pluck(db, 'name')))).toEqual(['Cortazar'])
    })

    it('scopes with arguments chain and merge; reorder in a scope replaces an earlier order', async (ctx) => {
      const db = await seeded(ctx)
      expect(await ok(pipe(Author.query, Author.scopes.from('AR'), Author.scopes.byName, Author.pluck(db, 'name')))).toEqual(['Borges', 'Cortazar'])
      const merged = Author.compose(Author.scopes.from('UK'), Author.scopes.byName)
      expect(await ok(pipe(Author.query, merged, Author.pluck(db, 'name')))).toEqual(['Austen', 'Dickens'])
      expect(await ok(pipe(Author.query, Author.scopes.byName, Author.scopes.newestNameFirst, Author.pluck(db, 'name')))).toEqual(['Dickens', 'Cortazar', 'Borges', 'Austen'])
      expect(await ok(pipe(Book.query, Book.scopes.longer(250), Book.scopes.longer(400), Book.orderBy('id'), Book.pluck(db, 'title')))).toEqual(['Emma', 'Bleak House'])
      expect(await ok(pipe(Book.query, Book.select('authorId'), Book.distinct, Book.scopes.longer(100), Book.count(db)))).toBe(3)
      // Rails: Book.joins(:author).merge(Author.from('UK')) - another model's scope applied to the joined rows.
      expect(await ok(pipe(Book.query, Book.whereHas('author', (q, A) => pipe(q, A.scopes.from('UK'), A.scopes.prolific)), Book.orderBy('id'), Book.pluck(db, 'title')))).toEqual(['Bleak House', 'Hard Times'])
      // Rails: Author.none - a query of no row, that any terminal reads as empty.
      const none = pipe(Author.query, Author.scopes.from('AR'), Author.none)
      expect([await ok(pipe(none, Author.all(db))), await ok(pipe(none, Author.count(db))), await ok(pipe(none, Author.exists(db)))]).toEqual([[], 0, false])
      expect(await ok(pipe(none, Author.orWhere('id', '=', 1), Author.pluck(db, 'name')))).toEqual(['Austen'])
    })
  })
}
