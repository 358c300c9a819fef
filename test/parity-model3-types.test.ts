/**
 * Enumerations as Rails' and Django's users keep them, on SQLite, PostgreSQL and MariaDB: the row
 * holds a name, the column its number or code (Rails' `enum status: { draft: 0, ... }`, Django's
 * `IntegerChoices` / `TextChoices`), through `enumOf`.
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { run, sql } from 'recordkit'
import { enumOf, model, nullable } from 'recordkit/model'
import { ok } from 'recordkit/testing'
import { ENGINES, engineTables } from './support/engine-tables.js'

const Status = enumOf({ draft: 0, published: 1, archived: 2 })
const Kind = enumOf({ article: 'a', video: 'v' })

const Post = model({
  table: 'm3t_posts',
  primaryKey: 'id',
  codec: t.type({ id: t.number, title: t.string, status: Status, kind: nullable(Kind) }),
})

const ddl = (): string[] => ['CREATE TABLE m3t_posts (id INTEGER PRIMARY KEY, title VARCHAR(20) NOT NULL, status INTEGER NOT NULL, kind VARCHAR(2))']

describe('enumOf', () => {
  it('names one value once, and takes names and their values', () => {
    expect(() => enumOf({ a: 1, b: 1 })).toThrow(/a and b both stand for 1/)
    expect(() => enumOf({ a: 'b', b: 'x' })).toThrow(/which is the name of another value/)
    expect(Status.decode(1)).toEqual({ _tag: 'Right', right: 'published' })
    expect(Status.decode(2n)).toEqual({ _tag: 'Right', right: 'archived' })
    expect(Status.decode('published')).toEqual({ _tag: 'Right', right: 'published' })
    expect(Status.decode(7)._tag).toBe('Left')
    expect(Status.encode('archived')).toBe(2)
    expect(Kind.encode('video')).toBe('v')
  })
})

for (const engine of ENGINES) {
  describe(`enumerations on ${engine.name}`, () => {
    const { use } = engineTables(engine, ['m3t_posts'], ddl)
    const seeded = async (ctx: { skip: () => void }) => {
      const db = use(ctx)
      await ok(Post.createMany(db, [
        { id: 1, title: 'one', status: 'published', kind: 'article' },
        { id: 2, title: 'two', status: 'draft', kind: null },
        { id: 3, title: 'three', status: 'archived', kind: 'video' },
        { id: 4, title: 'four', status: 'published', kind: 'video' },
      ]))
      return db
    }

    it('rows hold names, the table values; conditions, order, pluck and aggregates go through the values', async (ctx) => {
      const db = await seeded(ctx)
      const stored = await run(db.all<{ id: number; status: number; kind: string | null }>(sql`SELECT id, status, kind FROM m3t_posts ORDER BY id`))
      expect(stored.map((r) => [Number(r.status), r.kind])).toEqual([[1, 'a'], [0, null], [2, 'v'], [1, 'v']])
      expect(await ok(Post.findOrFail(db, 1))).toEqual({ id: 1, title: 'one', status: 'published', kind: 'article' })
      expect(await ok(pipe(Post.query, Post.where('status', '=', 'published'), Post.orderBy('id'), Post.pluck(db, 'id')))).toEqual([1, 4])
      // A null in the list is the NULL rows, as Rails' where(kind: ['video', nil]).
      expect(await ok(pipe(Post.query, Post.where('kind', 'in', ['video', null]), Post.orderBy('id'), Post.pluck(db, 'id')))).toEqual([2, 3, 4])
      expect(await ok(pipe(Post.query, Post.where({ status: ['draft', 'archived'] }), Post.orderBy('id'), Post.pluck(db, 'id')))).toEqual([2, 3])
      // Ordered by the stored value, as Rails orders an enum column.
      expect(await ok(pipe(Post.query, Post.orderBy('status'), Post.orderBy('id'), Post.pluck(db, 'status')))).toEqual(['draft', 'published', 'published', 'archived'])
      expect(await ok(pipe(Post.query, Post.max(db, 'status')))).toBe('archived')
      expect(await ok(pipe(Post.query, Post.groupBy('status'), Post.orderBy('status'), Post.aggregate(db, (a) => ({ n: a.count() }))))).toEqual([
        { status: 'draft', n: 1 }, { status: 'published', n: 2 }, { status: 'archived', n: 1 },
      ])
      const archived = await ok(Post.update(db, await ok(Post.findOrFail(db, 2)), { status: 'archived', kind: 'video' }))
      expect([archived.status, archived.kind]).toEqual(['archived', 'video'])
      expect(await ok(Post.updateWhere(db, { status: 'archived' }, { status: 'draft' }))).toBe(2)
      expect(await ok(pipe(Post.query, Post.where('status', '=', 'draft'), Post.count(db)))).toBe(2)
    })

    it('input that is no name is a ValidationError naming the field; a stored value without a name a DecodeError naming the column', async (ctx) => {
      const db = await seeded(ctx)
      await expect(ok(Post.create(db, { id: 9, title: 'x', status: 'bogus' as 'draft', kind: null }))).rejects.toMatchObject({ _tag: 'ValidationError', issues: [{ path: 'status' }] })
      await expect(ok(pipe(Post.query, Post.where('kind', '=', 'podcast' as 'video'), Post.all(db)))).rejects.toMatchObject({ _tag: 'ValidationError', issues: [{ path: 'kind' }] })
      expect(await ok(pipe(Post.query, Post.count(db)))).toBe(4)
      await run(db.execute(sql`INSERT INTO m3t_posts (id, title, status, kind) VALUES (9, 'odd', 7, 'a')`))
      await expect(ok(Post.findOrFail(db, 9))).rejects.toMatchObject({ _tag: 'DecodeError', message: expect.stringContaining('status') })
    })
  })
}
