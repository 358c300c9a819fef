/**
 * The model behaviours users of ActiveRecord-style ORMs (Rails, Python ActiveRecord, Sequelize,
 * TypeORM) rely on, each on SQLite, PostgreSQL and MariaDB: CRUD and finders, where chains,
 * count / exists / pluck / first / last, ordering and pages, per-field validation errors,
 * changed fields, timestamps, soft deletion, optimistic locking, relations (belongsTo, hasMany,
 * hasOne, manyToMany with attach / detach / sync), eager and lazy loading, scopes, upsert,
 * increment / decrement, and transactions around model writes.
 */
import * as TE from 'fp-ts/lib/TaskEither.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as O from 'fp-ts/lib/Option.js'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { type Backend, dbError, isDbError, sql } from 'recordkit'
import {
  belongsTo, date, hasMany, hasOne, manyToMany, model, nullable, onlyDeleted, optimisticLock, promisedModels, relate, rule, snakeCase, softDelete, timestamps, withDeleted,
} from 'recordkit/model'
import { fails, ok } from 'recordkit/testing'
import { ENGINES, engineTables } from './support/engine-tables.js'

let clock = new Date('2024-01-01T00:00:00.000Z')
const now = () => clock
const tick = () => { clock = new Date(clock.getTime() + 60_000) }

const M = relate({
  Author: model({
    table: 'h3_authors',
    primaryKey: 'id',
    naming: snakeCase,
    codec: t.type({ id: t.number, name: t.string, email: t.string, age: nullable(t.number) }),
    validators: [
      rule('name', 'notBlank', (a) => (a.name ?? '').trim() !== ''),
      rule('age', 'adult', (a) => a.age === null || a.age === undefined || a.age >= 13, 'must be 13 or over'),
    ],
    relations: { posts: hasMany('Post', 'authorId'), profile: hasOne('Profile', 'authorId') },
    scopes: (q) => ({ adults: q.where('age', '>=', 18), named: (n: string) => q.where('name', '=', n) }),
  }),
  Profile: model({
    table: 'h3_profiles',
    primaryKey: 'id',
    naming: snakeCase,
    codec: t.type({ id: t.number, authorId: t.number, bio: t.string }),
    relations: { author: belongsTo('Author', 'authorId') },
  }),
  Post: model({
    table: 'h3_posts',
    primaryKey: 'id',
    naming: snakeCase,
    codec: t.type({
      id: t.number, authorId: t.number, title: t.string, views: t.number, version: t.number,
      createdAt: date, updatedAt: date, deletedAt: nullable(date),
    }),
    defaults: ['views'],
    behaviours: [timestamps({ now }), softDelete({ now }), optimisticLock()],
    relations: {
      author: belongsTo('Author', 'authorId'),
      tags: manyToMany('Tag', { through: 'h3_post_tags', from: 'post_id', to: 'tag_id' }),
    },
  }),
  Tag: model({
    table: 'h3_tags',
    primaryKey: 'id',
    codec: t.type({ id: t.number, name: t.string }),
    relations: { posts: manyToMany('Post', { through: 'h3_post_tags', from: 'tag_id', to: 'post_id' }) },
  }),
})
const { Author, Profile, Post, Tag } = M

const TABLES = ['h3_post_tags', 'h3_posts', 'h3_profiles', 'h3_tags', 'h3_authors']
const ddl = (engine: string): string[] => {
  const stamp = engine === 'postgres' ? 'TIMESTAMP(3)' : engine === 'mariadb' ? 'DATETIME(3)' : 'TEXT'
  const serial = engine === 'postgres' ? 'SERIAL PRIMARY KEY' : engine === 'mariadb' ? 'INTEGER AUTO_INCREMENT PRIMARY KEY' : 'INTEGER PRIMARY KEY AUTOINCREMENT'
  return [
    `CREATE TABLE h3_authors (id ${serial}, name VARCHAR(40) NOT NULL, email VARCHAR(60) NOT NULL UNIQUE, age INTEGER NULL)`,
    `CREATE TABLE h3_profiles (id ${serial}, author_id INTEGER NOT NULL, bio VARCHAR(100) NOT NULL)`,
    `CREATE TABLE h3_tags (id ${serial}, name VARCHAR(20) NOT NULL UNIQUE)`,
    `CREATE TABLE h3_posts (id ${serial}, author_id INTEGER NOT NULL, title VARCHAR(80) NOT NULL, views INTEGER NOT NULL DEFAULT 0, version INTEGER NOT NULL, created_at ${stamp} NOT NULL, updated_at ${stamp} NOT NULL, deleted_at ${stamp} NULL)`,
    'CREATE TABLE h3_post_tags (post_id INTEGER NOT NULL, tag_id INTEGER NOT NULL, PRIMARY KEY (post_id, tag_id))',
  ]
}

const seed = async (db: Backend) => {
  const [ada, bob, cy] = await ok(Author.createMany(db, [
    { name: 'Ada', email: 'ada@x.io', age: 36 },
    { name: 'Bob', email: 'bob@x.io', age: 17 },
    { name: 'Cy', email: 'cy@x.io', age: null },
  ]))
  const posts = await ok(Post.createMany(db, [
    { authorId: ada.id, title: 'Engines' },
    { authorId: ada.id, title: 'Notes', views: 10 },
    { authorId: bob.id, title: 'Hello' },
  ]))
  return { ada, bob, cy, posts }
}

for (const engine of ENGINES) {
  describe(`model parity on ${engine.name}`, () => {
    const { use } = engineTables(engine, TABLES, ddl)

    it('create, find, findOrFail, findBy, update, delete', async (ctx) => {
      const db = use(ctx)
      const ada = await ok(Author.create(db, { name: 'Ada', email: 'ada@x.io', age: 36 }))
      expect(ada).toEqual({ id: expect.any(Number), name: 'Ada', email: 'ada@x.io', age: 36 })
      expect(await ok(Author.find(db, ada.id))).toEqual(O.some(ada))
      expect(await ok(Author.find(db, ada.id + 100))).toEqual(O.none)
      expect(await ok(Author.findOrFail(db, ada.id))).toEqual(ada)
      const missing = await fails(Author.findOrFail(db, ada.id + 100))
      expect(missing._tag).toBe('NotFound')
      expect(await ok(Author.findBy(db, { email: 'ada@x.io' }))).toEqual(O.some(ada))
      expect(await ok(Author.findBy(db, { email: 'nobody@x.io' }))).toEqual(O.none)
      const older = await ok(Author.update(db, ada, { age: 37 }))
      expect(older).toEqual({ ...ada, age: 37 })
      expect(await ok(Author.delete(db, older))).toEqual(older)
      expect(await ok(Author.find(db, ada.id))).toEqual(O.none)
      expect((await fails(Author.delete(db, older)))._tag).toBe('NotFound')
      expect((await fails(Author.update(db, older, { age: 1 })))._tag).toBe('ValidationError')
      expect((await fails(Author.update(db, older, { age: 40 })))._tag).toBe('NotFound')
    })

    it('createMany inserts in the order given: generated keys grow with the input, whatever fields each row sets', async (ctx) => {
      const db = use(ctx)
      const { ada } = await seed(db)
      const inputs = Array.from({ length: 1300 }, (_, i) => (i < 600 || i >= 700 ? { authorId: ada.id, title: `p${i}` } : { authorId: ada.id, title: `p${i}`, views: i % 2 === 0 ? 1 : undefined }))
      const rows = await ok(Post.createMany(db, inputs))
      expect(rows.map((r) => r.title)).toEqual(inputs.map((i) => i.title))
      expect(rows.every((r, i) => i === 0 || r.id > rows[i - 1].id)).toBe(true)
      const few = await ok(Post.createMany(db, [{ authorId: ada.id, title: 'a' }, { authorId: ada.id, title: 'b', views: 3 }, { authorId: ada.id, title: 'c' }]))
      expect(few[0].id < few[1].id && few[1].id < few[2].id).toBe(true)
      expect(await ok(pipe(Post.query, Post.where('title', 'in', ['a', 'b', 'c']), Post.orderBy('id'), Post.pluck(db, 'title')))).toEqual(['a', 'b', 'c'])
    })

    it('validation errors name every failing field; nothing is written', async (ctx) => {
      const db = use(ctx)
      const e = await fails(Author.create(db, { name: ' ', email: 5 as unknown as string, age: 12 }))
      expect(isDbError(e, 'ValidationError') && e.issues.map((i) => [i.path, i.rule])).toEqual([['email', 'string'], ['name', 'notBlank'], ['age', 'adult']])
      const missing = await fails(Author.create(db, {} as never))
      expect(isDbError(missing, 'ValidationError') && missing.issues.map((i) => `${i.path}: ${i.rule}`)).toEqual(['name: required', 'email: required'])
      expect(await ok(pipe(Author.query, Author.count(db)))).toBe(0)
      const ada = await ok(Author.create(db, { name: 'Ada', email: 'ada@x.io' }))
      const u = await fails(Author.update(db, ada, { age: 3 }))
      expect(isDbError(u, 'ValidationError') && u.issues.map((i) => [i.path, i.rule, i.message])).toEqual([['age', 'adult', 'must be 13 or over']])
      expect((await ok(Author.findOrFail(db, ada.id))).age).toBeNull()
      // A duplicate is the database's UniqueViolation, naming table and columns.
      const dup = await fails(Author.create(db, { name: 'Ada 2', email: 'ada@x.io' }))
      expect(isDbError(dup, 'UniqueViolation') && [dup.table, dup.columns]).toEqual(['h3_authors', ['email']])
    })

    it('where chains, or, not, in, between, like, null; count, exists, pluck, first, last', async (ctx) => {
      const db = use(ctx)
      const { ada, bob } = await seed(db)
      const names = (q: ReturnType<typeof Author.where>) => ok(pipe(Author.query, q, Author.orderBy('name'), Author.pluck(db, 'name')))
      expect(await names(Author.where('age', '>', 18))).toEqual(['Ada'])
      expect(await ok(pipe(Author.query, Author.where('age', '<', 40), Author.where('name', 'like', 'B%'), Author.pluck(db, 'name')))).toEqual(['Bob'])
      expect(await ok(pipe(Author.query, Author.where('name', '=', 'Ada'), Author.orWhere('age', 'is null'), Author.orderBy('id'), Author.pluck(db, 'name')))).toEqual(['Ada', 'Cy'])
      expect(await names(Author.where(Author.not(Author.cond('name', 'in', ['Ada', 'Bob']))))).toEqual(['Cy'])
      expect(await names(Author.where('age', 'between', 17, 36))).toEqual(['Ada', 'Bob'])
      expect(await names(Author.where({ age: null }))).toEqual(['Cy'])
      expect(await names(Author.where('age', '<>', null))).toEqual(['Ada', 'Bob'])
      expect(await names(Author.where('name', 'starts with', 'C'))).toEqual(['Cy'])
      expect(await ok(pipe(Author.query, Author.count(db)))).toBe(3)
      expect(await ok(pipe(Author.query, Author.where('age', '>', 100), Author.exists(db)))).toBe(false)
      expect(await ok(pipe(Author.query, Author.where('age', '>', 1), Author.exists(db)))).toBe(true)
      expect(await ok(pipe(Author.query, Author.orderBy('age', 'desc', 'last'), Author.pluck(db, 'age')))).toEqual([36, 17, null])
      expect(await ok(pipe(Author.query, Author.orderBy('age', 'asc', 'first'), Author.pluck(db, 'age')))).toEqual([null, 17, 36])
      expect(await ok(pipe(Author.query, Author.orderBy('name'), Author.first(db)))).toEqual(O.some(ada))
      expect(await ok(pipe(Author.query, Author.orderBy('name'), Author.last(db)))).toEqual(O.some(expect.objectContaining({ name: 'Cy' })))
      // last without an order: the greatest key, as Rails' last.
      expect(await ok(pipe(Author.query, Author.last(db)))).toEqual(O.some(expect.objectContaining({ name: 'Cy' })))
      expect(await ok(pipe(Author.query, Author.orderBy('age', 'asc', 'last'), Author.last(db)))).toEqual(O.some(expect.objectContaining({ name: 'Cy' })))
      expect(await ok(pipe(Author.query, Author.orderBy('age', 'desc', 'last'), Author.last(db)))).toEqual(O.some(expect.objectContaining({ name: 'Cy' })))
      expect(await ok(pipe(Author.query, Author.where('age', '>', 100), Author.last(db)))).toEqual(O.none)
      expect(await ok(pipe(Author.query, Author.orderBy('name'), Author.limit(1), Author.offset(1), Author.pluck(db, 'name')))).toEqual(['Bob'])
      expect(await ok(pipe(Author.query, Author.sum(db, 'age')))).toBe(53)
      expect(await ok(pipe(Author.query, Author.max(db, 'age')))).toBe(36)
      expect(bob.age).toBe(17)
    })

    it('pages: rows, total and page count; past the last page is empty with the total', async (ctx) => {
      const db = use(ctx)
      await ok(Tag.createMany(db, Array.from({ length: 7 }, (_, i) => ({ name: `t${i}` }))))
      const p2 = await ok(pipe(Tag.query, Tag.orderBy('name'), Tag.paginate(db, { page: 2, perPage: 3 })))
      expect([p2.rows.map((r) => r.name), p2.total, p2.pages, p2.page]).toEqual([['t3', 't4', 't5'], 7, 3, 2])
      const p9 = await ok(pipe(Tag.query, Tag.orderBy('name'), Tag.paginate(db, { page: 9, perPage: 3 })))
      expect([p9.rows, p9.total]).toEqual([[], 7])
      expect((await fails(pipe(Tag.query, Tag.paginate(db, { page: 0, perPage: 3 }))))._tag).toBe('ValidationError')
    })

    it('changed fields, timestamps, optimistic locking, soft delete and restore', async (ctx) => {
      const db = use(ctx)
      const { ada } = await seed(db)
      clock = new Date('2024-01-01T00:00:00.000Z')
      const post = await ok(Post.create(db, { authorId: ada.id, title: 'Draft' }))
      expect([post.version, post.views, post.createdAt, post.updatedAt, post.deletedAt]).toEqual([1, 0, clock, clock, null])
      tick()
      const { row: edited, changed } = await ok(Post.updateChanges(db, post, { title: 'Final' }))
      expect([...changed].sort()).toEqual(['title', 'updatedAt', 'version'])
      expect([edited.version, edited.createdAt, edited.updatedAt]).toEqual([2, post.createdAt, clock])
      const stale = await fails(Post.update(db, post, { title: 'lost update' }))
      expect(stale._tag).toBe('ConflictError')
      expect((await ok(Post.findOrFail(db, post.id))).title).toBe('Final')
      tick()
      const gone = await ok(Post.delete(db, edited))
      expect(gone.deletedAt).toEqual(clock)
      expect(await ok(Post.find(db, post.id))).toEqual(O.none) // the default scope hides it, as Rails' paranoia does
      expect(await ok(pipe(Post.query, Post.where('id', '=', post.id), Post.count(db)))).toBe(0)
      expect(await ok(pipe(Post.query, withDeleted, Post.where('id', '=', post.id), Post.count(db)))).toBe(1)
      expect(await ok(pipe(Post.query, onlyDeleted, Post.pluck(db, 'title')))).toEqual(['Final'])
      const back = await ok(Post.restore(db, gone))
      expect([back.deletedAt, back.version]).toEqual([null, gone.version + 1])
      await ok(Post.delete(db, back, { force: true }))
      expect(await ok(pipe(Post.query, withDeleted, Post.where('id', '=', post.id), Post.count(db)))).toBe(0)
    })

    it('increment and decrement are atomic; stale copies add, never overwrite', async (ctx) => {
      const db = use(ctx)
      const { posts } = await seed(db)
      const copy = posts[1]
      const once = await ok(Post.increment(db, copy, 'views'))
      const twice = await ok(Post.increment(db, copy, 'views', 5))
      expect([once.views, twice.views]).toEqual([11, 16])
      expect(twice.version).toBe(copy.version + 2)
      expect((await ok(Post.decrement(db, copy, 'views', 6))).views).toBe(10)
      expect((await fails(Post.increment(db, copy, 'views', Number.NaN)))._tag).toBe('ValidationError')
      expect((await fails(Post.increment(db, copy, 'id' as never)))._tag).toBe('ValidationError')
      // Twenty increments at once from the same copy: every one counts.
      const before = (await ok(Post.findOrFail(db, copy.id))).views
      await Promise.all(Array.from({ length: 20 }, () => ok(Post.increment(db, copy, 'views'))))
      expect((await ok(Post.findOrFail(db, copy.id))).views).toBe(before + 20)
      const gone = await ok(Post.delete(db, await ok(Post.findOrFail(db, copy.id))))
      expect((await fails(Post.increment(db, gone, 'views')))._tag).toBe('NotFound')
    })

    it('belongsTo, hasMany, hasOne: eager (nested), lazy, whereHas, withCount', async (ctx) => {
      const db = use(ctx)
      const { ada, bob, cy } = await seed(db)
      await ok(Profile.create(db, { authorId: ada.id, bio: 'first programmer' }))
      const authors = await ok(pipe(Author.query, Author.include('posts.author'), Author.include('profile'), Author.orderBy('id'), Author.all(db)))
      expect(authors.map((a) => [a.name, a.posts.map((p) => p.title).sort(), a.profile?.bio ?? null])).toEqual([
        ['Ada', ['Engines', 'Notes'], 'first programmer'], ['Bob', ['Hello'], null], ['Cy', [], null],
      ])
      expect(authors[0].posts[0].author.name).toBe('Ada')
      const lazy = await ok(Post.load(db, await ok(pipe(Post.query, Post.orderBy('id'), Post.all(db))), 'author.profile'))
      expect(lazy.map((p) => [p.author.name, p.author.profile?.bio ?? null])).toEqual([['Ada', 'first programmer'], ['Ada', 'first programmer'], ['Bob', null]])
      expect(await ok(pipe(Author.query, Author.whereHas('posts', (q, P) => pipe(q, P.where('views', '>', 5))), Author.pluck(db, 'name')))).toEqual(['Ada'])
      expect(await ok(pipe(Author.query, Author.whereDoesntHave('posts'), Author.pluck(db, 'name')))).toEqual(['Cy'])
      const counted = await ok(pipe(Author.query, Author.withCount('posts'), Author.orderBy('id'), Author.all(db)))
      expect(counted.map((a) => a.postsCount)).toEqual([2, 1, 0])
      // A soft-deleted post leaves the relation and its count.
      await ok(Post.delete(db, (await ok(pipe(Post.query, Post.where('authorId', '=', bob.id), Post.all(db))))[0]))
      expect((await ok(Author.load(db, bob, 'posts'))).posts).toEqual([])
      expect(cy.id).toBeGreaterThan(bob.id)
    })

    it('manyToMany: attach, detach, sync, eager loading both ways', async (ctx) => {
      const db = use(ctx)
      const { posts } = await seed(db)
      const [red, green, blue] = await ok(Tag.createMany(db, [{ name: 'red' }, { name: 'green' }, { name: 'blue' }]))
      const p = posts[0]
      expect(await ok(Post.attach(db, p, 'tags', [red, green]))).toBe(2)
      const tagsOf = async () => (await ok(Post.load(db, p, 'tags'))).tags.map((x) => x.name).sort()
      expect(await tagsOf()).toEqual(['green', 'red'])
      const dup = await fails(Post.attach(db, p, 'tags', [red]))
      expect(isDbError(dup, 'UniqueViolation') && dup.table).toBe('h3_post_tags')
      expect(await ok(Post.sync(db, p, 'tags', [green, blue, { id: blue.id }]))).toEqual({ attached: 1, detached: 1 })
      expect(await tagsOf()).toEqual(['blue', 'green'])
      expect(await ok(Post.sync(db, p, 'tags', [green, blue]))).toEqual({ attached: 0, detached: 0 })
      expect(await ok(Post.detach(db, p, 'tags', [green]))).toBe(1)
      expect(await tagsOf()).toEqual(['blue'])
      await ok(Post.attach(db, posts[1], 'tags', [blue]))
      const byTag = await ok(pipe(Tag.query, Tag.include('posts'), Tag.orderBy('id'), Tag.all(db)))
      expect(byTag.map((x) => [x.name, x.posts.map((q) => q.title).sort()])).toEqual([['red', []], ['green', []], ['blue', ['Engines', 'Notes']]])
      expect(await ok(Post.sync(db, p, 'tags', []))).toEqual({ attached: 0, detached: 1 })
      expect(await ok(Post.detach(db, posts[1], 'tags'))).toBe(1)
      // A target without its key is a ValidationError naming it; nothing written.
      const bad = await fails(Post.sync(db, p, 'tags', [red, {}]))
      expect(isDbError(bad, 'ValidationError') && bad.issues.map((i) => i.path)).toEqual(['targets.1.id'])
      expect(await tagsOf()).toEqual([])
    })

    it('a row\'s related rows as a query of the target; firstOrFail', async (ctx) => {
      const db = use(ctx)
      const { ada, bob, cy, posts } = await seed(db)
      const [red, green] = await ok(Tag.createMany(db, [{ name: 'red' }, { name: 'green' }]))
      await ok(Post.attach(db, posts[0], 'tags', [red, green]))
      await ok(Post.attach(db, posts[1], 'tags', [green]))
      await ok(Profile.create(db, { authorId: bob.id, bio: 'hi' }))
      expect(await ok(pipe(Author.related(ada, 'posts'), Post.orderBy('title'), Post.pluck(db, 'title')))).toEqual(['Engines', 'Notes'])
      expect(await ok(pipe(Author.related(ada, 'posts'), Post.where('views', '>', 5), Post.count(db)))).toBe(1)
      expect(await ok(pipe(Author.related(cy, 'posts'), Post.count(db)))).toBe(0)
      expect(await ok(pipe(Post.related(posts[2], 'author'), Author.pluck(db, 'name')))).toEqual(['Bob'])
      expect(await ok(pipe(Author.related(bob, 'profile'), Profile.pluck(db, 'bio')))).toEqual(['hi'])
      expect(await ok(pipe(Post.related(posts[0], 'tags'), Tag.orderBy('name'), Tag.pluck(db, 'name')))).toEqual(['green', 'red'])
      expect(await ok(pipe(Tag.related(green, 'posts'), Post.orderBy('id'), Post.pluck(db, 'title')))).toEqual(['Engines', 'Notes'])
      const page = await ok(pipe(Tag.related(green, 'posts'), Post.orderBy('id'), Post.paginate(db, { page: 1, perPage: 1 })))
      expect([page.total, page.rows[0].title]).toEqual([2, 'Engines'])
      // The target's default scope applies: a soft-deleted post is not among the author's posts.
      await ok(Post.delete(db, posts[0]))
      expect(await ok(pipe(Author.related(ada, 'posts'), Post.pluck(db, 'title')))).toEqual(['Notes'])
      expect(await ok(pipe(Tag.related(red, 'posts'), Post.count(db)))).toBe(0)
      expect(await ok(pipe(Author.query, Author.where({ name: 'Ada' }), Author.firstOrFail(db)))).toEqual(ada)
      const none = await fails(pipe(Author.query, Author.where({ name: 'Nobody' }), Author.firstOrFail(db)))
      expect([none._tag, isDbError(none, 'NotFound') && none.table]).toEqual(['NotFound', 'h3_authors'])
      // A relation that does not exist (reachable only around the types) fails when the query runs.
      expect((await fails(pipe(Author.related(ada, 'nope' as never) as unknown as typeof Post.query, Post.count(db))))._tag).toBe('QueryError')
    })

    it('the Promise face has last, firstOrFail, increment, decrement and sync too', async (ctx) => {
      const db = use(ctx)
      const { posts } = await seed(db)
      const P = promisedModels(M)
      expect((await pipe(Author.query, Author.orderBy('name'), P.Author.last(db)))?.name).toBe('Cy')
      expect(await pipe(Author.query, Author.where('age', '>', 100), P.Author.last(db))).toBeUndefined()
      await expect(pipe(Author.query, Author.where('age', '>', 100), P.Author.firstOrFail(db))).rejects.toMatchObject({ _tag: 'NotFound' })
      expect((await P.Post.increment(db, posts[1], 'views', 2)).views).toBe(12)
      expect((await P.Post.decrement(db, posts[1], 'views')).views).toBe(11)
      const [red] = await P.Tag.createMany(db, [{ name: 'red' }])
      expect(await P.Post.sync(db, posts[0], 'tags', [red])).toEqual({ attached: 1, detached: 0 })
    })

    it('scopes compose with where, order and terminals', async (ctx) => {
      const db = use(ctx)
      await seed(db)
      expect(await ok(pipe(Author.query, Author.scopes.adults, Author.pluck(db, 'name')))).toEqual(['Ada'])
      expect(await ok(pipe(Author.query, Author.scopes.named('Bob'), Author.scopes.adults, Author.count(db)))).toBe(0)
    })

    it('upsert inserts, then updates the row with the same unique key', async (ctx) => {
      const db = use(ctx)
      const first = await ok(Author.upsert(db, { name: 'Ada', email: 'ada@x.io', age: 30 }, { conflict: ['email'] }))
      const second = await ok(Author.upsert(db, { name: 'Ada L.', email: 'ada@x.io', age: 31 }, { conflict: ['email'], update: ['name'] }))
      expect(second).toEqual({ ...first, name: 'Ada L.' })
      expect(await ok(pipe(Author.query, Author.count(db)))).toBe(1)
    })

    it('transactions: model writes roll back together; a nested failure rolls back to its savepoint', async (ctx) => {
      const db = use(ctx)
      const failed = await db.transaction((tx) => pipe(
        Author.create(tx, { name: 'Ada', email: 'ada@x.io' }),
        TE.chain((a) => Post.create(tx, { authorId: a.id, title: 'x' })),
        TE.chainW(() => TE.left(dbError('TransactionError', 'abort'))),
      ))()
      expect(failed._tag).toBe('Left')
      expect([await ok(pipe(Author.query, Author.count(db))), await ok(pipe(Post.query, withDeleted, Post.count(db)))]).toEqual([0, 0])
      const kept = await ok(db.transaction((tx) => pipe(
        Author.create(tx, { name: 'Ada', email: 'ada@x.io' }),
        TE.chainFirstW(() => pipe(tx.transaction((inner) => Author.create(inner, { name: 'Dup', email: 'ada@x.io' })), TE.map(() => 'created'), TE.orElse(() => TE.right('refused')))),
      )))
      expect(await ok(pipe(Author.query, Author.pluck(db, 'name')))).toEqual([kept.name])
      expect(sql).toBeDefined()
    })
  })
}
