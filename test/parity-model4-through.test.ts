/**
 * Relations reached through another relation, as Rails' `has_many :through` / `has_one :through`
 * and Laravel's `hasManyThrough` / `hasOneThrough` give them, on SQLite, PostgreSQL and MariaDB:
 * Country -> users -> posts, loaded in one statement per level (a JOIN through the middle table),
 * nested under and over other includes, filtered, ordered and limited per parent, counted, used in
 * `whereHas`, read as `related`, and refused by writes.
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { type DbError, wrap } from 'recordkit'
import { belongsTo, date, hasMany, hasManyThrough, hasOne, hasOneThrough, manyToMany, model, nullable, relate, softDelete } from 'recordkit/model'
import { ok } from 'recordkit/testing'
import { ENGINES, engineTables } from './support/engine-tables.js'

const M = relate({
  Country: model({
    table: 'm4t_countries',
    primaryKey: 'id',
    codec: t.type({ id: t.number, name: t.string }),
    relations: {
      users: hasMany('User', 'countryId'),
      posts: hasManyThrough('Post', { through: 'users', source: 'posts' }),
    },
  }),
  User: model({
    table: 'm4t_users',
    primaryKey: 'id',
    codec: t.type({ id: t.number, countryId: nullable(t.number), name: t.string, deletedAt: nullable(date) }),
    columns: { countryId: 'country_id', deletedAt: 'deleted_at' },
    behaviours: [softDelete()],
    relations: {
      country: belongsTo('Country', 'countryId'),
      posts: hasMany('Post', 'userId'),
      profile: hasOne('Profile', 'userId'),
      // The people who commented on this user's posts: through a hasMany, a belongsTo at the end.
      commenters: hasManyThrough('User', { through: 'comments', source: 'author' }),
      comments: hasMany('Comment', 'postOwnerId'),
      // Through a hasMany, then a manyToMany: the tags of the user's posts.
      tags: hasManyThrough('Tag', { through: 'posts', source: 'tags' }),
    },
  }),
  Profile: model({
    table: 'm4t_profiles',
    primaryKey: 'id',
    codec: t.type({ id: t.number, userId: t.number, bio: t.string }),
    columns: { userId: 'user_id' },
  }),
  Post: model({
    table: 'm4t_posts',
    primaryKey: 'id',
    codec: t.type({ id: t.number, userId: t.number, title: t.string, views: t.number }),
    columns: { userId: 'user_id' },
    relations: {
      user: belongsTo('User', 'userId'),
      comments: hasMany('Comment', 'postId'),
      // belongsTo then belongsTo: the post's country.
      country: hasOneThrough('Country', { through: 'user', source: 'country' }),
      // belongsTo then hasOne: the author's profile.
      authorProfile: hasOneThrough('Profile', { through: 'user', source: 'profile' }),
      tags: manyToMany('Tag', { through: 'm4t_post_tags', from: 'post_id', to: 'tag_id' }),
    },
  }),
  Tag: model({
    table: 'm4t_tags',
    primaryKey: 'id',
    codec: t.type({ id: t.number, name: t.string }),
    relations: {
      posts: manyToMany('Post', { through: 'm4t_post_tags', from: 'tag_id', to: 'post_id' }),
      // Through a manyToMany, then a belongsTo: the authors of the posts tagged so.
      authors: hasManyThrough('User', { through: 'posts', source: 'user' }),
    },
  }),
  Comment: model({
    table: 'm4t_comments',
    primaryKey: 'id',
    codec: t.type({ id: t.number, postId: t.number, postOwnerId: t.number, authorId: t.number, body: t.string }),
    columns: { postId: 'post_id', postOwnerId: 'post_owner_id', authorId: 'author_id' },
    relations: { post: belongsTo('Post', 'postId'), author: belongsTo('User', 'authorId') },
  }),
})
const { Country, User, Post, Comment, Profile, Tag } = M

const TABLES = ['m4t_post_tags', 'm4t_tags', 'm4t_comments', 'm4t_posts', 'm4t_profiles', 'm4t_users', 'm4t_countries']
const ddl = (engine: string): string[] => {
  const stamp = engine === 'postgres' ? 'TIMESTAMP(3)' : engine === 'mariadb' ? 'DATETIME(3)' : 'TEXT'
  return [
    'CREATE TABLE m4t_countries (id INTEGER PRIMARY KEY, name VARCHAR(20) NOT NULL)',
    `CREATE TABLE m4t_users (id INTEGER PRIMARY KEY, country_id INTEGER REFERENCES m4t_countries (id), name VARCHAR(20) NOT NULL, deleted_at ${stamp})`,
    'CREATE TABLE m4t_profiles (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES m4t_users (id), bio VARCHAR(20) NOT NULL)',
    'CREATE TABLE m4t_posts (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES m4t_users (id), title VARCHAR(20) NOT NULL, views INTEGER NOT NULL)',
    'CREATE TABLE m4t_tags (id INTEGER PRIMARY KEY, name VARCHAR(20) NOT NULL)',
    'CREATE TABLE m4t_post_tags (post_id INTEGER NOT NULL REFERENCES m4t_posts (id), tag_id INTEGER NOT NULL REFERENCES m4t_tags (id), PRIMARY KEY (post_id, tag_id))',
    'CREATE TABLE m4t_comments (id INTEGER PRIMARY KEY, post_id INTEGER NOT NULL REFERENCES m4t_posts (id), post_owner_id INTEGER NOT NULL, author_id INTEGER NOT NULL, body VARCHAR(20) NOT NULL)',
  ]
}

for (const engine of ENGINES) {
  describe(`relations through another relation on ${engine.name}`, () => {
    const { use } = engineTables(engine, TABLES, ddl)
    const seeded = async (ctx: { skip: () => void }) => {
      const db = use(ctx)
      await ok(Country.createMany(db, [{ id: 1, name: 'fr' }, { id: 2, name: 'jp' }, { id: 3, name: 'nz' }]))
      await ok(User.createMany(db, [
        { id: 1, countryId: 1, name: 'ada', deletedAt: null }, { id: 2, countryId: 1, name: 'bob', deletedAt: null },
        { id: 3, countryId: 2, name: 'cy', deletedAt: null }, { id: 4, countryId: null, name: 'dee', deletedAt: null },
        { id: 5, countryId: 2, name: 'eve', deletedAt: null },
      ]))
      await ok(Profile.createMany(db, [{ id: 1, userId: 1, bio: 'ada here' }, { id: 3, userId: 3, bio: 'cy here' }]))
      await ok(Post.createMany(db, [
        { id: 10, userId: 1, title: 'a1', views: 5 }, { id: 11, userId: 1, title: 'a2', views: 50 }, { id: 20, userId: 2, title: 'b1', views: 20 },
        { id: 30, userId: 3, title: 'c1', views: 7 }, { id: 40, userId: 4, title: 'd1', views: 1 }, { id: 50, userId: 5, title: 'e1', views: 9 },
      ]))
      await ok(Comment.createMany(db, [
        { id: 100, postId: 10, postOwnerId: 1, authorId: 2, body: 'x' }, { id: 101, postId: 11, postOwnerId: 1, authorId: 3, body: 'y' },
        { id: 102, postId: 30, postOwnerId: 3, authorId: 1, body: 'z' },
      ]))
      await ok(Tag.createMany(db, [{ id: 1, name: 'js' }, { id: 2, name: 'db' }]))
      for (const [post, tags] of [[10, [1]], [11, [1, 2]], [30, [2]], [50, [1]]] as const) await ok(Post.attach(db, await ok(Post.findOrFail(db, post)), 'tags', tags.map((id) => ({ id }))))
      // eve is soft-deleted: her posts are not reached through users (Rails applies the middle model's scope).
      await ok(User.delete(db, await ok(User.findOrFail(db, 5))))
      return db
    }

    it('hasManyThrough loads in one statement per level, grouped by the outer key, nested under and over other includes', async (ctx) => {
      const db = await seeded(ctx)
      let statements = 0
      const counted = wrap(db, { all: (next) => (q) => { statements++; return next(q) } })
      const countries = await ok(pipe(Country.query, Country.orderBy('id'), Country.include('posts.comments'), Country.all(counted)))
      expect(statements).toBe(3)
      expect(countries.map((c) => [c.name, c.posts.map((p) => p.id).sort()])).toEqual([['fr', [10, 11, 20]], ['jp', [30]], ['nz', []]])
      const fr = countries[0]
      expect(fr.posts.find((p) => p.id === 10)).toEqual({ id: 10, userId: 1, title: 'a1', views: 5, comments: [{ id: 100, postId: 10, postOwnerId: 1, authorId: 2, body: 'x' }] })
      // Typed as the target's rows: a title is a string.
      const title: string = fr.posts[0].title
      expect(typeof title).toBe('string')
      // Under another include: users' country's posts.
      const users = await ok(pipe(User.query, User.where('id', 'in', [3, 4]), User.orderBy('id'), User.include('country.posts'), User.all(db)))
      expect(users.map((u) => u.country?.posts.map((p) => p.id))).toEqual([[30], undefined])
      expect(users[1].country).toBe(null)
    })

    it('hasOneThrough through a belongsTo, to a belongsTo or a hasOne, loads the row or null', async (ctx) => {
      const db = await seeded(ctx)
      const posts = await ok(pipe(Post.query, Post.where('id', 'in', [10, 30, 40]), Post.orderBy('id'), Post.include('country'), Post.include('authorProfile'), Post.all(db)))
      expect(posts.map((p) => [p.id, p.country?.name ?? null, p.authorProfile?.bio ?? null])).toEqual([[10, 'fr', 'ada here'], [30, 'jp', 'cy here'], [40, null, null]])
      const loaded = await ok(Post.load(db, await ok(Post.findOrFail(db, 20)), 'country'))
      expect(loaded.country).toEqual({ id: 1, name: 'fr' })
    })

    it('through a hasMany to a belongsTo: every row reached, as often as it is reached', async (ctx) => {
      const db = await seeded(ctx)
      const ada = await ok(pipe(User.query, User.where('id', '=', 1), User.include('commenters', (q, U) => pipe(q, U.orderBy('id'))), User.all(db)))
      expect(ada[0].commenters.map((u) => u.name)).toEqual(['bob', 'cy'])
    })

    it('a modifier filters, orders and limits per parent; the target default scope and the middle one apply', async (ctx) => {
      const db = await seeded(ctx)
      const countries = await ok(pipe(
        Country.query, Country.orderBy('id'),
        Country.include('posts', (q, P) => pipe(q, P.where('views', '>', 6), P.orderBy('views', 'desc'), P.limit(2))),
        Country.all(db),
      ))
      expect(countries.map((c) => c.posts.map((p) => p.id))).toEqual([[11, 20], [30], []])
    })

    it('counted with withCount, filtered with whereHas, read with related', async (ctx) => {
      const db = await seeded(ctx)
      const counts = await ok(pipe(Country.query, Country.orderBy('id'), Country.withCount('posts'), Country.withSum('posts', 'views'), Country.all(db)))
      expect(counts.map((c) => [c.name, c.postsCount, c.postsSumViews])).toEqual([['fr', 3, 75], ['jp', 1, 7], ['nz', 0, null]])
      const busy = await ok(pipe(Country.query, Country.whereHas('posts', (q, P) => pipe(q, P.where('views', '>=', 20))), Country.pluck(db, 'name')))
      expect(busy).toEqual(['fr'])
      const quiet = await ok(pipe(Country.query, Country.whereDoesntHave('posts'), Country.pluck(db, 'name')))
      expect(quiet).toEqual(['nz'])
      const nested = await ok(pipe(Country.query, Country.whereHas('posts.comments'), Country.orderBy('id'), Country.pluck(db, 'name')))
      expect(nested).toEqual(['fr', 'jp'])
      // A self-referential through relation in a subquery: users some other user commented on.
      const commented = await ok(pipe(User.query, User.whereHas('commenters', (q, U) => pipe(q, U.where('name', '=', 'ada'))), User.pluck(db, 'name')))
      expect(commented).toEqual(['cy'])
      const fr = await ok(Country.findOrFail(db, 1))
      expect(await ok(pipe(Country.related(fr, 'posts'), Post.where('views', '>', 10), Post.orderBy('id'), Post.pluck(db, 'id')))).toEqual([11, 20])
      const post = await ok(Post.findOrFail(db, 30))
      expect(await ok(pipe(Post.related(post, 'country'), Country.pluck(db, 'name')))).toEqual(['jp'])
    })

    it('goes through a manyToMany leg, first or second: loaded, counted, filtered, read with related', async (ctx) => {
      const db = await seeded(ctx)
      let statements = 0
      const counted = wrap(db, { all: (next) => (q) => { statements++; return next(q) } })
      const users = await ok(pipe(User.query, User.where('id', 'in', [1, 2, 3]), User.orderBy('id'), User.include('tags'), User.withCount('tags'), User.all(counted)))
      expect(statements).toBe(2)
      expect(users.map((u) => [u.name, u.tags.map((x) => x.name).sort(), u.tagsCount])).toEqual([['ada', ['db', 'js', 'js'], 3], ['bob', [], 0], ['cy', ['db'], 1]])
      const tags = await ok(pipe(Tag.query, Tag.orderBy('id'), Tag.include('authors'), Tag.withCount('authors'), Tag.all(db)))
      // eve's post is tagged js, but eve is soft-deleted: the target's default scope holds.
      expect(tags.map((x) => [x.name, x.authors.map((u) => u.name).sort(), x.authorsCount])).toEqual([['js', ['ada', 'ada'], 2], ['db', ['ada', 'cy'], 2]])
      expect(await ok(pipe(User.query, User.whereHas('tags', (q, T) => pipe(q, T.where('name', '=', 'db'))), User.orderBy('id'), User.pluck(db, 'name')))).toEqual(['ada', 'cy'])
      expect(await ok(pipe(Tag.query, Tag.whereHas('authors', (q, U) => pipe(q, U.where('name', '=', 'cy'))), Tag.pluck(db, 'name')))).toEqual(['db'])
      const ada = await ok(User.findOrFail(db, 1))
      expect(await ok(pipe(User.related(ada, 'tags'), Tag.orderBy('id'), Tag.pluck(db, 'name')))).toEqual(['js', 'db'])
      const js = await ok(Tag.findOrFail(db, 1))
      expect(await ok(pipe(Tag.related(js, 'authors'), User.pluck(db, 'name')))).toEqual(['ada'])
      // A limit holds per parent whichever leg holds the parent's key.
      const limited = await ok(pipe(Tag.query, Tag.orderBy('id'), Tag.include('authors', (q, U) => pipe(q, U.orderBy('name', 'desc'), U.limit(1))), Tag.all(db)))
      expect(limited.map((x) => x.authors.map((u) => u.name))).toEqual([['ada'], ['cy']])
      const oneTag = await ok(pipe(User.query, User.where('id', 'in', [1, 3]), User.orderBy('id'), User.include('tags', (q, T) => pipe(q, T.orderBy('name'), T.limit(1))), User.all(db)))
      expect(oneTag.map((u) => u.tags.map((x) => x.name))).toEqual([['db'], ['db']])
    })

    it('is read-only: attach, detach and sync through it are a typed error', async (ctx) => {
      const db = await seeded(ctx)
      const fr = await ok(Country.findOrFail(db, 1))
      // @ts-expect-error attach writes the join table of a manyToMany: a through relation has none
      expect(() => Country.attach(db, fr, 'posts', [])).not.toThrow()
      type Write = (db: unknown, row: unknown, name: string, targets?: unknown[]) => () => Promise<{ _tag: string; left?: DbError }>
      for (const write of [Country.attach, Country.detach, Country.sync] as unknown as Write[]) {
        const r = await write(db, fr, 'posts', [{ id: 40 }])()
        expect(r.left).toMatchObject({ _tag: 'QueryError', message: expect.stringContaining('m4t_countries.posts is a hasManyThrough relation, read-only') })
      }
      expect(await ok(pipe(Post.query, Post.where('id', '=', 40), Post.pluck(db, 'userId')))).toEqual([4])
    })
  })
}

describe('a through relation is checked where relate is called', () => {
  const Base = {
    A: model({ table: 'a', primaryKey: 'id', codec: t.type({ id: t.number }), relations: { bs: hasMany('B', 'aId') } }),
    B: model({ table: 'b', primaryKey: 'id', codec: t.type({ id: t.number, aId: t.number }), relations: { cs: hasMany('C', 'bId') } }),
    C: model({ table: 'c', primaryKey: 'id', codec: t.type({ id: t.number, bId: t.number }) }),
  }
  it('names a missing middle relation, a missing source relation, and a source reaching another model', () => {
    const withRel = (rel: ReturnType<typeof hasManyThrough>) => ({ ...Base, A: model({ ...Base.A.definition, relations: { bs: hasMany('B', 'aId'), cs: rel } } as never) })
    expect(() => relate(withRel(hasManyThrough('C', { through: 'nope', source: 'cs' })))).toThrow(/A\.cs: a has no relation "nope" to go through/)
    expect(() => relate(withRel(hasManyThrough('C', { through: 'bs', source: 'nope' })))).toThrow(/A\.cs: b has no relation "nope"/)
    expect(() => relate(withRel(hasManyThrough('A', { through: 'bs', source: 'cs' })))).toThrow(/A\.cs: bs\.cs reaches C, not A/)
    expect(() => relate(withRel(hasManyThrough('C', { through: 'bs', source: 'cs' })))).not.toThrow()
    // A through relation may go through another through relation; its source must still exist.
    const nested = { ...Base, A: model({ ...Base.A.definition, relations: { bs: hasMany('B', 'aId'), cs: hasManyThrough('C', { through: 'bs', source: 'cs' }), cs2: hasManyThrough('C', { through: 'cs', source: 'x' }) } } as never) }
    expect(() => relate(nested)).toThrow(/A\.cs2: c has no relation "x"/)
  })
})
