/**
 * A polymorphic belongsTo, as Rails' `belongs_to :commentable, polymorphic: true` and Laravel's
 * `morphTo` give it, on SQLite, PostgreSQL and MariaDB: a type column and a key column, the row
 * loaded from the model the type names, one statement per type found, nested under other
 * includes; `related` of one row; an unknown type is a QueryError naming it. And its inverse,
 * Rails' `has_many :comments, as: :commentable` (Laravel's `morphMany` / `morphOne`): loaded,
 * counted, filtered and read with `related`, the type always part of the condition.
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { wrap } from 'recordkit'
import { date, hasMany, model, morphMany, morphOne, morphTo, nullable, relate, softDelete } from 'recordkit/model'
import { fails, ok } from 'recordkit/testing'
import { ENGINES, engineTables } from './support/engine-tables.js'

const { Author, Post, Video, Comment } = relate({
  Author: model({
    table: 'm4m_authors',
    primaryKey: 'id',
    codec: t.type({ id: t.number, name: t.string }),
    relations: { comments: hasMany('Comment', 'authorId') },
  }),
  Post: model({
    table: 'm4m_posts',
    primaryKey: 'id',
    codec: t.type({ id: t.number, title: t.string }),
    relations: { comments: morphMany('Comment', { as: 'commentable' }), firstComment: morphOne('Comment', { as: 'commentable' }) },
  }),
  Video: model({
    table: 'm4m_videos',
    primaryKey: 'id',
    codec: t.type({ id: t.number, url: t.string, deletedAt: nullable(date) }),
    columns: { deletedAt: 'deleted_at' },
    behaviours: [softDelete()],
    relations: { comments: morphMany('Comment', { as: 'commentable' }) },
  }),
  Comment: model({
    table: 'm4m_comments',
    primaryKey: 'id',
    codec: t.type({ id: t.number, authorId: t.number, commentableType: nullable(t.string), commentableId: nullable(t.number), body: t.string }),
    columns: { authorId: 'author_id', commentableType: 'commentable_type', commentableId: 'commentable_id' },
    relations: { commentable: morphTo('commentableType', 'commentableId', { post: 'Post', video: 'Video' }) },
  }),
})

const ddl = (engine: string): string[] => {
  const stamp = engine === 'postgres' ? 'TIMESTAMP(3)' : engine === 'mariadb' ? 'DATETIME(3)' : 'TEXT'
  return [
    'CREATE TABLE m4m_authors (id INTEGER PRIMARY KEY, name VARCHAR(20) NOT NULL)',
    'CREATE TABLE m4m_posts (id INTEGER PRIMARY KEY, title VARCHAR(20) NOT NULL)',
    `CREATE TABLE m4m_videos (id INTEGER PRIMARY KEY, url VARCHAR(40) NOT NULL, deleted_at ${stamp})`,
    'CREATE TABLE m4m_comments (id INTEGER PRIMARY KEY, author_id INTEGER NOT NULL, commentable_type VARCHAR(20), commentable_id INTEGER, body VARCHAR(20) NOT NULL)',
  ]
}

for (const engine of ENGINES) {
  describe(`a polymorphic belongsTo on ${engine.name}`, () => {
    const { use } = engineTables(engine, ['m4m_comments', 'm4m_videos', 'm4m_posts', 'm4m_authors'], ddl)
    const seeded = async (ctx: { skip: () => void }) => {
      const db = use(ctx)
      await ok(Author.createMany(db, [{ id: 1, name: 'ada' }, { id: 2, name: 'bob' }]))
      await ok(Post.createMany(db, [{ id: 1, title: 'hello' }, { id: 2, title: 'again' }]))
      await ok(Video.createMany(db, [{ id: 1, url: 'v/1', deletedAt: null }, { id: 7, url: 'v/7', deletedAt: null }]))
      await ok(Comment.createMany(db, [
        { id: 1, authorId: 1, commentableType: 'post', commentableId: 1, body: 'a' },
        { id: 2, authorId: 1, commentableType: 'video', commentableId: 1, body: 'b' },
        { id: 3, authorId: 2, commentableType: 'post', commentableId: 2, body: 'c' },
        { id: 4, authorId: 2, commentableType: 'video', commentableId: 7, body: 'd' },
        { id: 5, authorId: 2, commentableType: null, commentableId: null, body: 'e' },
        { id: 6, authorId: 1, commentableType: 'post', commentableId: 99, body: 'f' },
      ]))
      // A soft-deleted video is hidden by its default scope, as a read of it would be.
      await ok(Video.delete(db, await ok(Video.findOrFail(db, 7))))
      return db
    }

    it('loads the row of the model each type names, one statement per type found', async (ctx) => {
      const db = await seeded(ctx)
      let statements = 0
      const counted = wrap(db, { all: (next) => (q) => { statements++; return next(q) } })
      const comments = await ok(pipe(Comment.query, Comment.orderBy('id'), Comment.include('commentable'), Comment.all(counted)))
      expect(statements).toBe(3)
      expect(comments.map((c) => [c.id, c.commentable])).toEqual([
        [1, { id: 1, title: 'hello' }], [2, { id: 1, url: 'v/1', deletedAt: null }], [3, { id: 2, title: 'again' }],
        [4, null], [5, null], [6, null],
      ])
      // Only the types present are read.
      statements = 0
      const onPosts = await ok(pipe(Comment.query, Comment.where('commentableType', '=', 'post'), Comment.include('commentable'), Comment.all(counted)))
      expect(statements).toBe(2)
      expect(onPosts.length).toBe(3)
    })

    it('nests under other includes, and loads for rows already read', async (ctx) => {
      const db = await seeded(ctx)
      const authors = await ok(pipe(Author.query, Author.orderBy('id'), Author.include('comments.commentable'), Author.all(db)))
      const shown = (c: (typeof authors)[number]['comments'][number]) => c.commentable === null ? null : 'title' in c.commentable ? c.commentable.title : c.commentable.url
      expect(authors.map((a) => [...a.comments].sort((x, y) => x.id - y.id).map(shown))).toEqual([
        ['hello', 'v/1', null], ['again', null, null],
      ])
      const loaded = await ok(Comment.load(db, await ok(Comment.findOrFail(db, 2)), 'commentable'))
      expect(loaded.commentable).toEqual({ id: 1, url: 'v/1', deletedAt: null })
    })

    it("related gives the query of the model the row's type names", async (ctx) => {
      const db = await seeded(ctx)
      const onVideo = await ok(Comment.findOrFail(db, 2))
      expect(await ok(pipe(Comment.related(onVideo, 'commentable'), Video.pluck(db, 'url')))).toEqual(['v/1'])
      const loose = await ok(Comment.findOrFail(db, 5))
      expect(await ok(pipe(Comment.related(loose, 'commentable'), Post.count(db)))).toBe(0)
    })

    it("the inverse reads the rows whose type names this model and whose key is the row's, never another model's", async (ctx) => {
      const db = await seeded(ctx)
      // Post 1 and video 1 share the key 1: each reads its own comments.
      const posts = await ok(pipe(Post.query, Post.orderBy('id'), Post.include('comments', (q, C) => pipe(q, C.orderBy('id'))), Post.include('firstComment'), Post.withCount('comments'), Post.all(db)))
      expect(posts.map((p) => [p.id, p.comments.map((c) => c.body), p.commentsCount, p.firstComment?.body ?? null])).toEqual([[1, ['a'], 1, 'a'], [2, ['c'], 1, 'c']])
      const videos = await ok(pipe(Video.query, Video.orderBy('id'), Video.include('comments.commentable'), Video.withCount('comments'), Video.all(db)))
      expect(videos.map((v) => [v.id, v.comments.map((c) => [c.body, c.commentable]), v.commentsCount])).toEqual([[1, [['b', { id: 1, url: 'v/1', deletedAt: null }]], 1]])
      const commented = await ok(pipe(Post.query, Post.whereHas('comments', (q, C) => pipe(q, C.where('body', '=', 'c'))), Post.pluck(db, 'title')))
      expect(commented).toEqual(['again'])
      const first = await ok(Post.findOrFail(db, 1))
      expect(await ok(pipe(Post.related(first, 'comments'), Comment.pluck(db, 'body')))).toEqual(['a'])
      // The post with key 99 does not exist; its comment is reached from no post.
      expect(await ok(pipe(Post.query, Post.whereDoesntHave('comments'), Post.count(db)))).toBe(0)
    })

    it('a type no model is named by is a QueryError naming it; a filter over it is refused', async (ctx) => {
      const db = await seeded(ctx)
      await ok(Comment.create(db, { id: 9, authorId: 1, commentableType: 'photo', commentableId: 1, body: 'x' }))
      const e = await fails(pipe(Comment.query, Comment.include('commentable'), Comment.all(db)))
      expect(e).toMatchObject({ _tag: 'QueryError', message: expect.stringContaining('Comment.commentable: the type "photo" names no model (it takes post, video)') })
      const filter = await fails(pipe(Comment.query, Comment.whereHas('commentable'), Comment.all(db)))
      expect(filter).toMatchObject({ _tag: 'QueryError', message: expect.stringContaining('morphTo') })
      // @ts-expect-error a morphTo has no single target model to go on from
      expect(() => Comment.include('commentable.comments')).not.toThrow()
      const modified = await fails(pipe(Comment.query, Comment.include('commentable', (q) => q), Comment.all(db)))
      expect(modified).toMatchObject({ _tag: 'QueryError', message: expect.stringContaining('morphTo') })
    })
  })
}

describe('a polymorphic belongsTo is checked where relate is called', () => {
  it('names a model that is not related, and a field that does not exist', () => {
    const C = (rel: ReturnType<typeof morphTo>) => model({ table: 'c', primaryKey: 'id', codec: t.type({ id: t.number, kind: t.string, ref: t.number }), relations: { of: rel } })
    const P = model({ table: 'p', primaryKey: 'id', codec: t.type({ id: t.number }) })
    expect(() => relate({ C: C(morphTo('kind', 'ref', { p: 'P', q: 'Q' })), P })).toThrow(/C\.of: no model named "Q"/)
    expect(() => relate({ C: C(morphTo('type', 'ref', { p: 'P' })), P })).toThrow(/C\.of: c has no field "type"/)
    expect(() => relate({ C: C(morphTo('kind', 'ref', { p: 'P' })), P })).not.toThrow()
    const Pm = (rel: ReturnType<typeof morphMany>) => model({ table: 'p', primaryKey: 'id', codec: t.type({ id: t.number }), relations: { cs: rel } })
    expect(() => relate({ C: C(morphTo('kind', 'ref', { p: 'P' })), P: Pm(morphMany('C', { as: 'nope' })) })).toThrow(/P\.cs: c has no morphTo relation "nope"/)
    expect(() => relate({ C: C(morphTo('kind', 'ref', { x: 'X' })), X: P, P: Pm(morphMany('C', { as: 'of' })) })).toThrow(/P\.cs: C\.of names no type for P/)
  })
})
