/**
 * A morphTo's loads and filters by type, as Laravel's `morphWith` / `constrain` (eager loading)
 * and `whereHasMorph` give them, on SQLite, PostgreSQL and MariaDB: `morphWith({ type: modifier })`
 * in `include` adds each type's conditions (a row whose target does not meet them loads as null)
 * and includes of that type's model (one statement per relation per type); in `whereHas` it keeps
 * the rows whose target, of one of the types named, meets that type's conditions; a plain
 * `whereHas` over a morphTo stays refused (Laravel's `has` refuses a MorphTo).
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { wrap } from 'recordkit'
import { belongsTo, date, hasMany, model, morphTo, morphWith, nullable, relate, softDelete } from 'recordkit/model'
import { fails, ok } from 'recordkit/testing'
import { ENGINES, engineTables } from './support/engine-tables.js'

const { Author, Channel, Post, Video, Comment } = relate({
  Author: model({ table: 'm5m_authors', primaryKey: 'id', codec: t.type({ id: t.number, name: t.string }), relations: { posts: hasMany('Post', 'authorId') } }),
  Channel: model({ table: 'm5m_channels', primaryKey: 'id', codec: t.type({ id: t.number, title: t.string }) }),
  Post: model({
    table: 'm5m_posts',
    primaryKey: 'id',
    codec: t.type({ id: t.number, authorId: t.number, title: t.string }),
    columns: { authorId: 'author_id' },
    relations: { author: belongsTo('Author', 'authorId') },
  }),
  Video: model({
    table: 'm5m_videos',
    primaryKey: 'id',
    codec: t.type({ id: t.number, channelId: t.number, url: t.string, deletedAt: nullable(date) }),
    columns: { channelId: 'channel_id', deletedAt: 'deleted_at' },
    behaviours: [softDelete()],
    relations: { channel: belongsTo('Channel', 'channelId') },
  }),
  Comment: model({
    table: 'm5m_comments',
    primaryKey: 'id',
    codec: t.type({ id: t.number, commentableType: nullable(t.string), commentableId: nullable(t.number), body: t.string }),
    columns: { commentableType: 'commentable_type', commentableId: 'commentable_id' },
    relations: { commentable: morphTo('commentableType', 'commentableId', { post: 'Post', video: 'Video' }), author: belongsTo('Author', 'id') },
  }),
})

const ddl = (engine: string): string[] => [
  'CREATE TABLE m5m_authors (id INTEGER PRIMARY KEY, name VARCHAR(20) NOT NULL)',
  'CREATE TABLE m5m_channels (id INTEGER PRIMARY KEY, title VARCHAR(20) NOT NULL)',
  'CREATE TABLE m5m_posts (id INTEGER PRIMARY KEY, author_id INTEGER NOT NULL, title VARCHAR(20) NOT NULL)',
  `CREATE TABLE m5m_videos (id INTEGER PRIMARY KEY, channel_id INTEGER NOT NULL, url VARCHAR(40) NOT NULL, deleted_at ${engine === 'postgres' ? 'TIMESTAMP(3)' : engine === 'mariadb' ? 'DATETIME(3)' : 'TEXT'})`,
  'CREATE TABLE m5m_comments (id INTEGER PRIMARY KEY, commentable_type VARCHAR(20), commentable_id INTEGER, body VARCHAR(20) NOT NULL)',
]

for (const engine of ENGINES) {
  describe(`a morphTo's loads and filters by type on ${engine.name}`, () => {
    const { use } = engineTables(engine, ['m5m_comments', 'm5m_videos', 'm5m_posts', 'm5m_channels', 'm5m_authors'], ddl)
    const seeded = async (ctx: { skip: () => void }) => {
      const db = use(ctx)
      await ok(Author.createMany(db, [{ id: 1, name: 'ada' }, { id: 2, name: 'bob' }]))
      await ok(Channel.createMany(db, [{ id: 1, title: 'tech' }]))
      await ok(Post.createMany(db, [{ id: 1, authorId: 1, title: 'hello' }, { id: 2, authorId: 2, title: 'again' }]))
      await ok(Video.createMany(db, [{ id: 1, channelId: 1, url: 'v/1', deletedAt: null }, { id: 7, channelId: 1, url: 'v/7', deletedAt: null }]))
      await ok(Comment.createMany(db, [
        { id: 1, commentableType: 'post', commentableId: 1, body: 'a' },
        { id: 2, commentableType: 'video', commentableId: 1, body: 'b' },
        { id: 3, commentableType: 'post', commentableId: 2, body: 'c' },
        { id: 4, commentableType: 'video', commentableId: 7, body: 'd' },
        { id: 5, commentableType: null, commentableId: null, body: 'e' },
        { id: 6, commentableType: 'post', commentableId: 99, body: 'f' },
      ]))
      // A soft-deleted video is hidden by its default scope.
      await ok(Video.delete(db, await ok(Video.findOrFail(db, 7))))
      return db
    }

    it("morphWith loads each type's own relations below it, one statement per relation per type", async (ctx) => {
      const db = await seeded(ctx)
      let statements = 0
      const counted = wrap(db, { all: (next) => (q) => { statements++; return next(q) } })
      const comments = await ok(pipe(
        Comment.query, Comment.orderBy('id'),
        Comment.include('commentable', morphWith({ post: (q, P) => pipe(q, P.include('author')), video: (q, V) => pipe(q, V.include('channel')) })),
        Comment.all(counted),
      ))
      // comments, posts, their authors, videos, their channels.
      expect(statements).toBe(5)
      expect(comments.map((c) => c.commentable)).toEqual([
        { id: 1, authorId: 1, title: 'hello', author: { id: 1, name: 'ada' } },
        { id: 1, channelId: 1, url: 'v/1', deletedAt: null, channel: { id: 1, title: 'tech' } },
        { id: 2, authorId: 2, title: 'again', author: { id: 2, name: 'bob' } },
        null, null, null,
      ])
    })

    it("morphWith's conditions hold for their type: a target that does not meet them loads as null", async (ctx) => {
      const db = await seeded(ctx)
      const comments = await ok(pipe(
        Comment.query, Comment.orderBy('id'),
        Comment.include('commentable', morphWith({ post: (q, P) => pipe(q, P.where('title', '=', 'hello')) })),
        Comment.all(db),
      ))
      expect(comments.map((c) => c.commentable === null ? null : c.commentable.id)).toEqual([1, 1, null, null, null, null])
      // Two morphWith modifiers apply one after the other.
      const both = await ok(pipe(
        Comment.query, Comment.orderBy('id'),
        Comment.include('commentable', morphWith({ post: (q, P) => pipe(q, P.where('authorId', '=', 2)) })),
        Comment.include('commentable', morphWith({ post: (q, P) => pipe(q, P.include('author')), video: (q, V) => pipe(q, V.where('url', '=', 'nope')) })),
        Comment.all(db),
      ))
      expect(both.map((c) => c.commentable)).toEqual([null, null, { id: 2, authorId: 2, title: 'again', author: { id: 2, name: 'bob' } }, null, null, null])
    })

    it('whereHas over a morphTo with morphWith keeps the rows whose target, of a type named, meets its type\'s conditions (whereHasMorph)', async (ctx) => {
      const db = await seeded(ctx)
      const ids = (q: Parameters<ReturnType<typeof Comment.pluck>>[0]) => ok(pipe(q, Comment.orderBy('id'), Comment.pluck(db, 'id')))
      const anyType = morphWith({ post: (q) => q, video: (q) => q })
      expect(await ids(pipe(Comment.query, Comment.whereHas('commentable', anyType)))).toEqual([1, 2, 3])
      expect(await ids(pipe(Comment.query, Comment.whereDoesntHave('commentable', anyType)))).toEqual([4, 5, 6])
      // Which types count must be said (Laravel's has() refuses a MorphTo too).
      expect(await fails(pipe(Comment.query, Comment.whereHas('commentable'), Comment.all(db)))).toMatchObject({ _tag: 'QueryError', message: expect.stringContaining('morphWith') })
      expect(await ids(pipe(Comment.query, Comment.whereHas('commentable', morphWith({ post: (q, P) => pipe(q, P.where('title', '=', 'hello')) }))))).toEqual([1])
      expect(await ids(pipe(Comment.query, Comment.whereHas('commentable', morphWith({ post: (q) => q, video: (q, V) => pipe(q, V.where('url', '=', 'v/1')) }))))).toEqual([1, 2, 3])
      // A post's own relation filter inside its type's modifier.
      expect(await ids(pipe(Comment.query, Comment.whereHas('commentable', morphWith({ post: (q, P) => pipe(q, P.whereHas('author', (a: never, A: typeof Author) => pipe(a, A.where('name', '=', 'bob')))) }))))).toEqual([3])
      expect(await ids(pipe(Comment.query, Comment.whereDoesntHave('commentable', morphWith({ video: (q) => q }))))).toEqual([1, 3, 4, 5, 6])
    })

    it('a plain modifier, a type the morphTo does not take, a limit, or morphWith on another relation is a QueryError naming it', async (ctx) => {
      const db = await seeded(ctx)
      const plain = await fails(pipe(Comment.query, Comment.include('commentable', (q) => q), Comment.all(db)))
      expect(plain).toMatchObject({ _tag: 'QueryError', message: expect.stringContaining('morphWith') })
      const unknown = await fails(pipe(Comment.query, Comment.include('commentable', morphWith({ photo: (q) => q })), Comment.all(db)))
      expect(unknown).toMatchObject({ _tag: 'QueryError', message: expect.stringContaining('Comment.commentable: morphWith names the type "photo"') })
      const filterUnknown = await fails(pipe(Comment.query, Comment.whereHas('commentable', morphWith({ photo: (q) => q })), Comment.all(db)))
      expect(filterUnknown).toMatchObject({ _tag: 'QueryError', message: expect.stringContaining('"photo"') })
      const limited = await fails(pipe(Comment.query, Comment.include('commentable', morphWith({ post: (q, P) => pipe(q, P.limit(1)) })), Comment.all(db)))
      expect(limited).toMatchObject({ _tag: 'QueryError', message: expect.stringContaining('Comment.commentable') })
      const elsewhere = await fails(pipe(Comment.query, Comment.include('author', morphWith({ post: (q) => q }) as never), Comment.all(db)))
      expect(elsewhere).toMatchObject({ _tag: 'QueryError', message: expect.stringContaining('no morphTo') })
      expect(await fails(pipe(Comment.query, Comment.withCount('commentable'), Comment.all(db)))).toMatchObject({ _tag: 'QueryError', message: expect.stringContaining('morphTo') })
    })
  })
}
