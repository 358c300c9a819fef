/**
 * Included relations on SQLite, PostgreSQL and MariaDB: a belongsTo over a NOT NULL key loads
 * the row or fails with NotFound naming the relation and key (never a silent null); `optional`
 * and modifiers load null instead; a modifier's own includes and computed fields reach the
 * included rows, with one statement per relation level; paginate reads the total with the rows;
 * attach/detach write a manyToMany join table.
 */
import { pipe } from 'fp-ts/lib/function.js'
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type Backend, compose, createBackend, type DbError, isDbError, run, sql, wrap } from 'recordkit'
import { sqlite } from 'recordkit/dialects/sqlite'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'
import { belongsTo, date, hasMany, manyToMany, model, nullable, relate, snakeCase, softDelete, withDeleted } from 'recordkit/model'
import { MYSQL_URL, PG_URL, serverAvailable } from './support/servers.js'

const User = model({
  table: 'rk_inc_users',
  primaryKey: 'id',
  naming: snakeCase,
  codec: t.type({ id: t.number, name: t.string, deletedAt: nullable(date) }),
  behaviours: [softDelete()],
  relations: { posts: hasMany('Post', 'authorId'), comments: hasMany('Comment', 'authorId') },
})
const Post = model({
  table: 'rk_inc_posts',
  primaryKey: 'id',
  naming: snakeCase,
  codec: t.type({ id: t.number, authorId: t.number, editorId: nullable(t.number), title: t.string }),
  relations: {
    author: belongsTo('User', 'authorId'),
    authorOrNone: belongsTo('User', 'authorId', { optional: true }),
    editor: belongsTo('User', 'editorId'),
    comments: hasMany('Comment', 'postId'),
    likedBy: manyToMany('User', { through: 'rk_inc_likes', from: 'post_id', to: 'user_id' }),
  },
})
const Comment = model({
  table: 'rk_inc_comments',
  primaryKey: 'id',
  naming: snakeCase,
  codec: t.type({ id: t.number, postId: t.number, authorId: t.number, body: t.string }),
  relations: { post: belongsTo('Post', 'postId'), author: belongsTo('User', 'authorId') },
})
const B = relate({ User, Post, Comment })

const ok = async <A>(te: TaskEither<DbError, A>): Promise<A> => run(te)
const fails = async <A>(te: TaskEither<DbError, A>): Promise<DbError> => {
  const r = await te()
  if (r._tag === 'Right') throw new Error(`expected a failure, got ${JSON.stringify(r.right)}`)
  return r.left
}

/** A backend that records every statement it executes. */
const traced = (db: Backend): { readonly db: Backend; readonly log: unknown[] } => {
  const log: unknown[] = []
  return { db: wrap(db, { execute: (next) => (q) => { log.push(q); return next(q) } }), log }
}

// No foreign-key constraints: a dangling key is possible on every engine, as on a schema without them.
const ddl = [
  'CREATE TABLE rk_inc_users (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL, deleted_at TIMESTAMP NULL)',
  'CREATE TABLE rk_inc_posts (id INTEGER PRIMARY KEY, author_id INTEGER NOT NULL, editor_id INTEGER NULL, title VARCHAR(50) NOT NULL)',
  'CREATE TABLE rk_inc_comments (id INTEGER PRIMARY KEY, post_id INTEGER NOT NULL, author_id INTEGER NOT NULL, body VARCHAR(50) NOT NULL)',
  'CREATE TABLE rk_inc_likes (post_id INTEGER NOT NULL, user_id INTEGER NOT NULL, PRIMARY KEY (post_id, user_id))',
]

const engines: readonly { readonly name: string; readonly connect: () => Promise<Backend | undefined> }[] = [
  { name: 'sqlite', connect: async () => compose(betterSqlite3({ filename: ':memory:' }), sqlite) },
  { name: 'postgres', connect: async () => ((await serverAvailable('postgres')) ? run(createBackend(PG_URL)) : undefined) },
  { name: 'mariadb', connect: async () => ((await serverAvailable('mariadb')) ? run(createBackend(MYSQL_URL.replace(/^mysql:/, 'mariadb:'))) : undefined) },
]

for (const engine of engines) {
  describe(`included relations on ${engine.name}`, () => {
    let db: Backend | undefined
    const use = (ctx: { skip: () => void }): Backend => {
      if (db === undefined) ctx.skip()
      return db!
    }
    beforeAll(async () => {
      db = await engine.connect()
      if (db === undefined) return
      for (const table of ['rk_inc_likes', 'rk_inc_comments', 'rk_inc_posts', 'rk_inc_users']) await ok(db.execute(sql`DROP TABLE IF EXISTS ${sql.id(table)}`))
      for (const text of ddl) await ok(db.execute(sql.raw(text)))
    })
    afterAll(async () => {
      if (db === undefined) return
      for (const table of ['rk_inc_likes', 'rk_inc_comments', 'rk_inc_posts', 'rk_inc_users']) await ok(db.execute(sql`DROP TABLE IF EXISTS ${sql.id(table)}`))
      await ok(db.close())
    })
    beforeEach(async () => {
      if (db === undefined) return
      for (const table of ['rk_inc_likes', 'rk_inc_comments', 'rk_inc_posts', 'rk_inc_users']) await ok(db.execute(sql`DELETE FROM ${sql.id(table)}`))
      await ok(User.createMany(db, [{ id: 1, name: 'Ada' }, { id: 2, name: 'Bob' }, { id: 3, name: 'Cy' }]))
      await ok(Post.createMany(db, [
        { id: 10, authorId: 1, editorId: 2, title: 'Engines' },
        { id: 11, authorId: 2, editorId: null, title: 'Looms' },
      ]))
      await ok(Comment.createMany(db, [
        { id: 100, postId: 10, authorId: 2, body: 'nice' },
        { id: 101, postId: 10, authorId: 3, body: 'more' },
        { id: 102, postId: 11, authorId: 1, body: 'thanks' },
      ]))
    })

    it('a belongsTo over a NOT NULL key loads the row; a nullable key loads row or null', async (ctx) => {
      const d = use(ctx)
      const posts = await ok(pipe(B.Post.query, B.Post.include('author'), B.Post.include('editor'), B.Post.orderBy('id'), B.Post.all(d)))
      expect(posts.map((p) => [p.title, p.author.name, p.editor?.name ?? null])).toEqual([['Engines', 'Ada', 'Bob'], ['Looms', 'Bob', null]])
      const comments = await ok(pipe(B.Comment.query, B.Comment.include('post.author'), B.Comment.orderBy('id'), B.Comment.all(d)))
      expect(comments.map((c) => c.post.author.name)).toEqual(['Ada', 'Ada', 'Bob'])
    })

    it('an absent target (soft-deleted, dangling key) fails with NotFound naming relation, table and key', async (ctx) => {
      const d = use(ctx)
      const bob = await ok(User.findOrFail(d, 2))
      await ok(User.delete(d, bob))
      const e = await fails(pipe(B.Post.query, B.Post.include('author'), B.Post.all(d)))
      expect(isDbError(e, 'NotFound')).toBe(true)
      if (!isDbError(e, 'NotFound')) return
      expect([e.relation, e.table, e.key]).toEqual(['Post.author', 'rk_inc_users', 2])
      expect(e.message).toMatch(/^Post\.author: no rk_inc_users row with id = 2 \(rk_inc_posts\.author_id\)/)
      expect(e.message).toContain('{ optional: true }')
      // Nested and lazy loading check the same way.
      const nested = await fails(pipe(B.Post.query, B.Post.include('comments.author'), B.Post.all(d)))
      expect([nested._tag, (nested as { relation?: string }).relation]).toEqual(['NotFound', 'Comment.author'])
      const post = await ok(Post.findOrFail(d, 11))
      expect((await fails(B.Post.load(d, post, 'author')))._tag).toBe('NotFound')

      // A key pointing at no row at all (no constraint here to stop it).
      await ok(User.restore(d, { ...bob, deletedAt: new Date() }))
      await ok(Post.create(d, { id: 12, authorId: 99, editorId: null, title: 'Orphan' }))
      const dangling = await fails(pipe(B.Post.query, B.Post.include('author'), B.Post.all(d)))
      expect(isDbError(dangling, 'NotFound') && [dangling.relation, dangling.key]).toEqual(['Post.author', 99])
    })

    it('optional: true, a nullable key or a modifier load null instead of failing', async (ctx) => {
      const d = use(ctx)
      await ok(User.delete(d, await ok(User.findOrFail(d, 2))))
      const optional = await ok(pipe(B.Post.query, B.Post.include('authorOrNone'), B.Post.include('editor'), B.Post.orderBy('id'), B.Post.all(d)))
      expect(optional.map((p) => [p.authorOrNone?.name ?? null, p.editor?.name ?? null])).toEqual([['Ada', null], [null, null]])
      // The modifier may filter (here it lets soft-deleted rows through, so Bob loads).
      const modified = await ok(pipe(B.Post.query, B.Post.include('author', (q) => pipe(q, withDeleted)), B.Post.orderBy('id'), B.Post.all(d)))
      expect(modified.map((p) => p.author?.name)).toEqual(['Ada', 'Bob'])
      const filtered = await ok(pipe(B.Post.query, B.Post.include('author', (q, U) => pipe(q, U.where('name', '=', 'Ada'))), B.Post.orderBy('id'), B.Post.all(d)))
      expect(filtered.map((p) => p.author?.name ?? null)).toEqual(['Ada', null])
    })

    it('a modifier gets the related model: its includes load below, one statement per level', async (ctx) => {
      const { db: d, log } = traced(use(ctx))
      const posts = await ok(pipe(
        B.Post.query,
        B.Post.include('comments', (q, C) => pipe(q, C.include('author'), C.whereHas('author', (q2, U) => pipe(q2, U.where('name', '<>', 'Cy'))), C.orderBy('id'))),
        B.Post.orderBy('id'),
        B.Post.all(d),
      ))
      expect(posts.map((p) => p.comments.map((c) => [c.body, c.author.name]))).toEqual([[['nice', 'Bob']], [['thanks', 'Ada']]])
      expect(log.length).toBe(3)
    })

    it('attach and detach write a manyToMany join table: one statement each', async (ctx) => {
      const { db: d, log } = traced(use(ctx))
      const [engines, looms] = await ok(pipe(B.Post.query, B.Post.orderBy('id'), B.Post.all(d)))
      const users = await ok(pipe(B.User.query, B.User.orderBy('id'), B.User.all(d)))
      const before = log.length
      expect(await ok(B.Post.attach(d, engines, 'likedBy', users))).toBe(3)
      expect(await ok(B.Post.attach(d, looms, 'likedBy', [{ id: 1 }]))).toBe(1)
      expect(log.length - before).toBe(2)
      const likes = async () => (await ok(pipe(B.Post.query, B.Post.include('likedBy', (q, U) => pipe(q, U.orderBy('id'))), B.Post.orderBy('id'), B.Post.all(d)))).map((p) => p.likedBy.map((u) => u.name))
      expect(await likes()).toEqual([['Ada', 'Bob', 'Cy'], ['Ada']])
      const again = await fails(B.Post.attach(d, looms, 'likedBy', [users[0]]))
      expect(again._tag).toBe('UniqueViolation')
      expect(await ok(B.Post.detach(d, engines, 'likedBy', [users[0], users[2]]))).toBe(2)
      expect(await likes()).toEqual([['Bob'], ['Ada']])
      expect(await ok(B.Post.detach(d, looms, 'likedBy'))).toBe(1)
      expect(await likes()).toEqual([['Bob'], []])
      // A target without its key is refused before anything is sent, naming it.
      const n = log.length
      const missing = await fails(B.Post.attach(d, looms, 'likedBy', [{ name: 'Ada' }]))
      expect(isDbError(missing, 'ValidationError') && missing.issues.map((i) => [i.path, i.rule])).toEqual([['targets.0.id', 'required']])
      expect(log.length).toBe(n)
    })

    it('paginate reads the rows and the total in one statement (plus one per relation level)', async (ctx) => {
      const { db: d, log } = traced(use(ctx))
      const byId = pipe(B.Comment.query, B.Comment.include('author'), B.Comment.withExists('post', (q, P) => pipe(q, P.where('title', '=', 'Looms')), 'onLooms'), B.Comment.orderBy('id'))
      const first = await ok(pipe(byId, B.Comment.paginate(d, { page: 1, perPage: 2 })))
      expect({ ...first, rows: first.rows.map((c) => [c.id, c.author.name, c.onLooms]) }).toEqual({ rows: [[100, 'Bob', false], [101, 'Cy', false]], total: 3, page: 1, perPage: 2, pages: 2 })
      expect(log.length).toBe(2)
      expect(Object.keys(first.rows[0]).sort()).toEqual(['author', 'authorId', 'body', 'id', 'onLooms', 'postId'])
      const second = await ok(pipe(byId, B.Comment.paginate(d, { limit: 2, offset: 2 })))
      expect([second.rows.map((c) => c.id), second.total, second.page, second.pages]).toEqual([[102], 3, 2, 2])
      expect(log.length).toBe(4)
      // Past the last page no row carries the total: one COUNT more, nothing to load.
      const beyond = await ok(pipe(byId, B.Comment.paginate(d, { page: 5, perPage: 2 })))
      expect([beyond.rows, beyond.total, beyond.pages]).toEqual([[], 3, 2])
      expect(log.length).toBe(6)
      const none = await ok(pipe(byId, B.Comment.where('body', '=', 'nothing'), B.Comment.paginate(d, { page: 1, perPage: 2 })))
      expect([none.rows, none.total, none.pages, log.length]).toEqual([[], 0, 0, 7])
    })

    it('fields a modifier adds (withCount, computed) arrive on the included rows, decoded', async (ctx) => {
      const { db: d, log } = traced(use(ctx))
      const posts = await ok(pipe(
        B.Post.query,
        B.Post.include('author', (q, U) => pipe(q, U.withCount('comments'), U.withExists('posts', (q2, P) => pipe(q2, P.where('title', '=', 'Looms')), 'wroteLooms'))),
        B.Post.include('comments', (q, C) => pipe(q, C.computed('shout', t.string, sql`upper(${C.column('body')})`), C.orderBy('id'))),
        B.Post.orderBy('id'),
        B.Post.all(d),
      ))
      expect(posts.map((p) => [p.author?.name, p.author?.commentsCount, p.author?.wroteLooms, p.comments.map((c) => c.shout)])).toEqual([
        ['Ada', 1, false, ['NICE', 'MORE']],
        ['Bob', 1, true, ['THANKS']],
      ])
      expect(log.length).toBe(3)
      // A modifier's select narrows what is read; the keys loading joins on are read with it.
      const narrow = await ok(pipe(
        B.Post.query,
        B.Post.include('author', (q, U) => pipe(q, U.select('name'))),
        B.Post.include('comments', (q, C) => pipe(q, C.select('body'), C.include('author', (q2, U) => pipe(q2, U.select('name'))), C.orderBy('id'))),
        B.Post.orderBy('id'),
        B.Post.all(d),
      ))
      expect(narrow.map((p) => [p.author?.name, p.comments.map((c) => [c.body, c.author?.name])])).toEqual([
        ['Ada', [['nice', 'Bob'], ['more', 'Cy']]],
        ['Bob', [['thanks', 'Ada']]],
      ])
      expect(Object.keys(narrow[0].comments[0]).sort()).toEqual(['author', 'authorId', 'body', 'postId'])
      // MIN with the field's codec, AVG as a number (integers averaged are DECIMAL/NUMERIC text on MariaDB/PostgreSQL).
      const stats = await ok(pipe(B.Post.query, B.Post.withMin('comments', 'id'), B.Post.withAvg('comments', 'id'), B.Post.withMin('comments', 'body', (q, C) => pipe(q, C.where('authorId', '<>', 2)), 'firstOtherBody'), B.Post.orderBy('id'), B.Post.all(use(ctx))))
      expect(stats.map((p) => [p.commentsMinId, p.commentsAvgId, p.firstOtherBody])).toEqual([[100, 100.5, 'more'], [102, 102, 'thanks']])
      const ada = await ok(User.findOrFail(use(ctx), 1))
      const lazy = await ok(B.User.load(use(ctx), ada, 'posts', (q, P) => pipe(q, P.withCount('comments'))))
      expect(lazy.posts.map((p) => [p.title, p.commentsCount])).toEqual([['Engines', 2]])
    })
  })
}
