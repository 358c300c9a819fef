/**
 * Relations Rails' and Django's users expect of a model, third pass, on SQLite, PostgreSQL and
 * MariaDB: what deleting a row does to its related rows (`hasMany` / `hasOne` with `dependent`:
 * Rails' `dependent: :destroy / :nullify / :restrict_with_exception`, Django's `on_delete=CASCADE /
 * SET_NULL / PROTECT`), in the delete's transaction.
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { belongsTo, date, hasMany, hasOne, hookError, model, nullable, optimisticLock, promisedModels, relate, softDelete, timestamps, withDeleted } from 'recordkit/model'
import { ok } from 'recordkit/testing'
import { ENGINES, engineTables } from './support/engine-tables.js'

const deletedComments: number[] = []

const M = relate({
  Author: model({
    table: 'm3d_authors',
    primaryKey: 'id',
    codec: t.type({ id: t.number, name: t.string }),
    relations: {
      posts: hasMany('Post', 'authorId', { dependent: 'delete' }),
      profile: hasOne('Profile', 'authorId', { dependent: 'nullify' }),
      invoices: hasMany('Invoice', 'authorId', { dependent: 'restrict' }),
    },
  }),
  Post: model({
    table: 'm3d_posts',
    primaryKey: 'id',
    codec: t.type({ id: t.number, authorId: t.number, title: t.string, deletedAt: nullable(date) }),
    columns: { authorId: 'author_id', deletedAt: 'deleted_at' },
    behaviours: [softDelete()],
    relations: { author: belongsTo('Author', 'authorId'), comments: hasMany('Comment', 'postId', { dependent: 'delete' }) },
  }),
  Comment: model({
    table: 'm3d_comments',
    primaryKey: 'id',
    codec: t.type({ id: t.number, postId: t.number, body: t.string }),
    columns: { postId: 'post_id' },
    hooks: {
      beforeDelete: (c) => (c.body === 'pinned' ? TE.left(hookError('beforeDelete', 'pinned comments stay')) : TE.right(c)),
      afterDelete: (c) => {
        deletedComments.push(c.id)
        return TE.right(c)
      },
    },
  }),
  Profile: model({
    table: 'm3d_profiles',
    primaryKey: 'id',
    codec: t.type({ id: t.number, authorId: nullable(t.number), bio: t.string }),
    columns: { authorId: 'author_id' },
  }),
  Invoice: model({
    table: 'm3d_invoices',
    primaryKey: 'id',
    codec: t.type({ id: t.number, authorId: t.number, total: t.number }),
    columns: { authorId: 'author_id' },
  }),
})
const { Author, Post, Comment, Profile, Invoice } = M

/** Comments counted on their post (Rails counter_cache); comments are soft-deleted, posts locked by version. */
const C = relate({
  Topic: model({
    table: 'm3c_topics',
    primaryKey: 'id',
    codec: t.type({ id: t.number, title: t.string, repliesCount: t.number, version: t.number }),
    columns: { repliesCount: 'replies_count' },
    behaviours: [optimisticLock()],
    relations: { replies: hasMany('Reply', 'topicId') },
  }),
  Reply: model({
    table: 'm3c_replies',
    primaryKey: 'id',
    codec: t.type({ id: t.number, topicId: nullable(t.number), body: t.string, deletedAt: nullable(date) }),
    columns: { topicId: 'topic_id', deletedAt: 'deleted_at' },
    behaviours: [softDelete()],
    relations: { topic: belongsTo('Topic', 'topicId', { counterCache: 'repliesCount' }) },
  }),
})
const { Topic, Reply } = C

/** Cards touching their board (Rails belongs_to touch: true); the clock is pinned. */
let clock = new Date(Date.UTC(2024, 0, 1, 9, 0, 0, 0))
const minute = (m: number) => new Date(Date.UTC(2024, 0, 1, 9, m, 0, 0))
const T = relate({
  Board: model({
    table: 'm3t_boards',
    primaryKey: 'id',
    codec: t.type({ id: t.number, title: t.string, createdAt: date, updatedAt: date, version: t.number }),
    columns: { createdAt: 'created_at', updatedAt: 'updated_at' },
    behaviours: [timestamps({ now: () => clock }), optimisticLock()],
  }),
  Card: model({
    table: 'm3t_cards',
    primaryKey: 'id',
    codec: t.type({ id: t.number, boardId: nullable(t.number), title: t.string, deletedAt: nullable(date) }),
    columns: { boardId: 'board_id', deletedAt: 'deleted_at' },
    behaviours: [softDelete({ now: () => clock })],
    relations: { board: belongsTo('Board', 'boardId', { touch: true }) },
  }),
})
const { Board, Card } = T

const TABLES = ['m3t_cards', 'm3t_boards', 'm3c_replies', 'm3c_topics', 'm3d_comments', 'm3d_posts', 'm3d_profiles', 'm3d_invoices', 'm3d_authors']
const ddl = (engine: string): string[] => {
  const stamp = engine === 'postgres' ? 'TIMESTAMP(3)' : engine === 'mariadb' ? 'DATETIME(3)' : 'TEXT'
  return [
    `CREATE TABLE m3t_boards (id INTEGER PRIMARY KEY, title VARCHAR(20) NOT NULL, created_at ${stamp} NOT NULL, updated_at ${stamp} NOT NULL, version INTEGER NOT NULL)`,
    `CREATE TABLE m3t_cards (id INTEGER PRIMARY KEY, board_id INTEGER, title VARCHAR(20) NOT NULL, deleted_at ${stamp})`,
    'CREATE TABLE m3c_topics (id INTEGER PRIMARY KEY, title VARCHAR(20) NOT NULL, replies_count INTEGER NOT NULL DEFAULT 0, version INTEGER NOT NULL)',
    `CREATE TABLE m3c_replies (id INTEGER PRIMARY KEY, topic_id INTEGER, body VARCHAR(20) NOT NULL, deleted_at ${stamp})`,
    'CREATE TABLE m3d_authors (id INTEGER PRIMARY KEY, name VARCHAR(20) NOT NULL)',
    // Soft-deleted posts keep the key of an author deleted for good: no constraint on it.
    `CREATE TABLE m3d_posts (id INTEGER PRIMARY KEY, author_id INTEGER NOT NULL, title VARCHAR(20) NOT NULL, deleted_at ${stamp})`,
    'CREATE TABLE m3d_comments (id INTEGER PRIMARY KEY, post_id INTEGER NOT NULL REFERENCES m3d_posts (id), body VARCHAR(20) NOT NULL)',
    'CREATE TABLE m3d_profiles (id INTEGER PRIMARY KEY, author_id INTEGER REFERENCES m3d_authors (id), bio VARCHAR(20) NOT NULL)',
    'CREATE TABLE m3d_invoices (id INTEGER PRIMARY KEY, author_id INTEGER NOT NULL REFERENCES m3d_authors (id), total INTEGER NOT NULL)',
  ]
}

for (const engine of ENGINES) {
  describe(`model relations, third pass, on ${engine.name}`, () => {
    // Emptied children first: the foreign keys hold.
    const { use } = engineTables(engine, TABLES, ddl)
    const seeded = async (ctx: { skip: () => void }) => {
      const db = use(ctx)
      deletedComments.length = 0
      await ok(Author.createMany(db, [{ id: 1, name: 'ada' }, { id: 2, name: 'bob' }, { id: 3, name: 'cy' }]))
      await ok(Post.createMany(db, [
        { id: 10, authorId: 1, title: 'a1', deletedAt: null }, { id: 11, authorId: 1, title: 'a2', deletedAt: null }, { id: 20, authorId: 2, title: 'b1', deletedAt: null },
      ]))
      await ok(Comment.createMany(db, [{ id: 100, postId: 10, body: 'x' }, { id: 101, postId: 11, body: 'y' }, { id: 200, postId: 20, body: 'pinned' }]))
      await ok(Profile.createMany(db, [{ id: 1, authorId: 1, bio: 'ada' }, { id: 3, authorId: 3, bio: 'cy' }]))
      await ok(Invoice.create(db, { id: 1, authorId: 3, total: 5 }))
      return db
    }

    it("dependent: 'delete' deletes the related rows through their model, hooks and soft deletion included; 'nullify' clears the key (Rails dependent, Django on_delete)", async (ctx) => {
      const db = await seeded(ctx)
      const ada = await ok(Author.findOrFail(db, 1))
      expect(await ok(Author.delete(db, ada))).toEqual(ada)
      expect(await ok(Author.find(db, 1))).toMatchObject({ _tag: 'None' })
      // Ada's posts are soft-deleted (their model says so), their comments deleted with their hooks.
      expect(await ok(pipe(Post.query, withDeleted, Post.where('authorId', '=', 1), Post.orderBy('id'), Post.all(db)))).toMatchObject([
        { id: 10, deletedAt: expect.any(Date) }, { id: 11, deletedAt: expect.any(Date) },
      ])
      expect(deletedComments.sort()).toEqual([100, 101])
      expect(await ok(pipe(Comment.query, Comment.orderBy('id'), Comment.pluck(db, 'id')))).toEqual([200])
      // The profile stays, without its author.
      expect(await ok(Profile.findOrFail(db, 1))).toEqual({ id: 1, authorId: null, bio: 'ada' })
      // Bob's and cy's rows are untouched.
      expect(await ok(pipe(Post.query, Post.pluck(db, 'id')))).toEqual([20])
      expect((await ok(Profile.findOrFail(db, 3))).authorId).toBe(3)
    })

    it("a refusal anywhere rolls every step back: 'restrict' while a related row exists, a related row's hook, a stale parent", async (ctx) => {
      const db = await seeded(ctx)
      // cy has an invoice: nothing of cy is touched, not even the profile the nullify came before.
      const refused = Author.delete(db, await ok(Author.findOrFail(db, 3)))
      await expect(ok(refused)).rejects.toMatchObject({ _tag: 'ForeignKeyViolation', message: expect.stringContaining('invoices') })
      expect((await ok(Profile.findOrFail(db, 3))).authorId).toBe(3)
      expect(await ok(Author.find(db, 3))).toMatchObject({ _tag: 'Some' })
      // bob's post has a pinned comment whose hook refuses: bob's post stays undeleted too.
      await expect(ok(Author.delete(db, await ok(Author.findOrFail(db, 2))))).rejects.toMatchObject({ _tag: 'HookError' })
      expect(await ok(pipe(Post.query, Post.where('authorId', '=', 2), Post.count(db)))).toBe(1)
      expect(await ok(Author.find(db, 2))).toMatchObject({ _tag: 'Some' })
      // An author already gone: NotFound, and ada's rows are as they were.
      await expect(ok(Author.delete(db, { id: 99, name: 'nobody' }))).rejects.toMatchObject({ _tag: 'NotFound' })
      await ok(Invoice.deleteWhere(db, { authorId: 3 }))
      await promisedModels(M).Author.delete(db, await ok(Author.findOrFail(db, 3)))
      expect(await ok(Profile.findOrFail(db, 3))).toMatchObject({ authorId: null })
    })

    it('a forced delete forces the related deletes: soft-deleted posts go for good', async (ctx) => {
      const db = await seeded(ctx)
      await ok(Comment.deleteWhere(db, { postId: 20 }))
      await ok(Author.delete(db, await ok(Author.findOrFail(db, 2)), { force: true }))
      expect(await ok(pipe(Post.query, withDeleted, Post.where('authorId', '=', 2), Post.count(db)))).toBe(0)
      expect(await ok(Author.find(db, 2))).toMatchObject({ _tag: 'None' })
    })

    it('a counter cache counts the rows that belong to a target: create, createMany, delete, restore, and an update moving the key (Rails counter_cache)', async (ctx) => {
      const db = use(ctx)
      const [a, b] = await ok(Topic.createMany(db, [{ id: 1, title: 'a', repliesCount: 0 }, { id: 2, title: 'b', repliesCount: 0 }]))
      const counts = () => ok(pipe(Topic.query, Topic.orderBy('id'), Topic.pluck(db, 'repliesCount')))
      const r1 = await ok(Reply.create(db, { id: 1, topicId: 1, body: 'x', deletedAt: null }))
      await ok(Reply.createMany(db, [{ id: 2, topicId: 1, body: 'y', deletedAt: null }, { id: 3, topicId: 2, body: 'z', deletedAt: null }, { id: 4, topicId: null, body: 'loose', deletedAt: null }]))
      expect(await counts()).toEqual([2, 1])
      // Moving a reply moves its count; an update that keeps the key moves nothing.
      const moved = await ok(Reply.update(db, r1, { topicId: 2 }))
      await ok(Reply.update(db, moved, { body: 'edited' }))
      expect(await counts()).toEqual([1, 2])
      // A soft delete takes 1, restore gives it back, a forced delete of a deleted row takes nothing more.
      const gone = await ok(Reply.delete(db, await ok(Reply.findOrFail(db, 3))))
      expect(await counts()).toEqual([1, 1])
      await ok(Reply.restore(db, gone))
      expect(await counts()).toEqual([1, 2])
      const again = await ok(Reply.delete(db, await ok(Reply.findOrFail(db, 3))))
      await ok(Reply.delete(db, again, { force: true }))
      expect(await counts()).toEqual([1, 1])
      // The topics' versions are not bumped: a copy read before is still current.
      expect((await ok(Topic.update(db, a, { title: 'a2' }))).repliesCount).toBe(1)
      expect((await ok(Topic.update(db, b, { title: 'b2' }))).version).toBe(2)
      // A write that fails moves no counter.
      await expect(ok(Reply.create(db, { id: 2, topicId: 2, body: 'dup', deletedAt: null }))).rejects.toMatchObject({ _tag: 'UniqueViolation' })
      expect(await counts()).toEqual([1, 1])
    })

    it("touch: true sets the parent's updatedAt (and version) whenever a row that belongs to it is written (Rails belongs_to touch)", async (ctx) => {
      const db = use(ctx)
      clock = minute(0)
      await ok(Board.createMany(db, [{ id: 1, title: 'a' }, { id: 2, title: 'b' }]))
      const boards = () => ok(pipe(Board.query, Board.orderBy('id'), Board.pluckMany(db, 'updatedAt', 'version')))
      clock = minute(1)
      const card = await ok(Card.create(db, { id: 1, boardId: 1, title: 'x', deletedAt: null }))
      expect(await boards()).toEqual([[minute(1), 2], [minute(0), 1]])
      clock = minute(2)
      const moved = await ok(Card.update(db, card, { boardId: 2 }))
      expect(await boards()).toEqual([[minute(2), 3], [minute(2), 2]])
      clock = minute(3)
      const gone = await ok(Card.delete(db, moved))
      expect(await boards()).toEqual([[minute(2), 3], [minute(3), 3]])
      clock = minute(4)
      await ok(Card.restore(db, gone))
      expect(await boards()).toEqual([[minute(2), 3], [minute(4), 4]])
      // A card without a board touches nothing; a failed write touches nothing.
      clock = minute(5)
      await ok(Card.create(db, { id: 2, boardId: null, title: 'loose', deletedAt: null }))
      await expect(ok(Card.create(db, { id: 2, boardId: 1, title: 'dup', deletedAt: null }))).rejects.toMatchObject({ _tag: 'UniqueViolation' })
      expect(await boards()).toEqual([[minute(2), 3], [minute(4), 4]])
      // A parent without timestamps cannot be touched: a TypeError where relate is called.
      expect(() => relate({ Board: model({ table: 'm3t_boards', primaryKey: 'id', codec: t.type({ id: t.number }) }), Card: Card })).toThrow(/whose model has no timestamps/)
    })

    it('an unknown dependent word is a TypeError where the model is written', () => {
      expect(() => hasMany('Post', 'authorId', { dependent: 'cascade' as 'delete' })).toThrow(/dependent is 'delete', 'nullify' or 'restrict'/)
      expect(() => relate({ Topic: Topic, Reply: model({ ...Reply.definition, relations: { topic: belongsTo('Topic', 'topicId', { counterCache: 'nope' }) } } as never) })).toThrow(/counter cache nope is no field of m3c_topics/)
    })
  })
}
