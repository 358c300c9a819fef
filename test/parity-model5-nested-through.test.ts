/**
 * A through relation that goes through another through relation, as Rails' nested
 * `has_many :through` (and Laravel's `hasManyDeep`-style chains) give it, on SQLite, PostgreSQL and
 * MariaDB: a country's comments through its posts (themselves through its users), or through its
 * users and their post comments. Loaded in one statement per level (every middle table joined,
 * each one's default scopes applied), counted, filtered and read with `related`; a relation that
 * goes through itself is a TypeError where `relate` is called.
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { wrap } from 'recordkit'
import { date, hasMany, hasManyThrough, hasOneThrough, latestOfMany, model, nullable, relate, softDelete } from 'recordkit/model'
import { ok } from 'recordkit/testing'
import { ENGINES, engineTables } from './support/engine-tables.js'

const { Country, User, Post, Comment } = relate({
  Country: model({
    table: 'm5n_countries',
    primaryKey: 'id',
    codec: t.type({ id: t.number, name: t.string }),
    relations: {
      users: hasMany('User', 'countryId'),
      posts: hasManyThrough('Post', { through: 'users', source: 'posts' }),
      // Through a through relation (posts), then a plain one (comments).
      comments: hasManyThrough('Comment', { through: 'posts', source: 'comments' }),
      // Through a plain relation (users), then a through one (postComments).
      userComments: hasManyThrough('Comment', { through: 'users', source: 'postComments' }),
      latestComment: pipe(hasOneThrough('Comment', { through: 'posts', source: 'comments' }), latestOfMany()),
    },
  }),
  User: model({
    table: 'm5n_users',
    primaryKey: 'id',
    codec: t.type({ id: t.number, countryId: t.number, deletedAt: nullable(date) }),
    columns: { countryId: 'country_id', deletedAt: 'deleted_at' },
    behaviours: [softDelete()],
    relations: { posts: hasMany('Post', 'userId'), postComments: hasManyThrough('Comment', { through: 'posts', source: 'comments' }) },
  }),
  Post: model({
    table: 'm5n_posts',
    primaryKey: 'id',
    codec: t.type({ id: t.number, userId: t.number }),
    columns: { userId: 'user_id' },
    relations: { comments: hasMany('Comment', 'postId') },
  }),
  Comment: model({
    table: 'm5n_comments',
    primaryKey: 'id',
    codec: t.type({ id: t.number, postId: t.number, body: t.string }),
    columns: { postId: 'post_id' },
  }),
})

const ddl = (engine: string): string[] => [
  'CREATE TABLE m5n_countries (id INTEGER PRIMARY KEY, name VARCHAR(20) NOT NULL)',
  `CREATE TABLE m5n_users (id INTEGER PRIMARY KEY, country_id INTEGER NOT NULL, deleted_at ${engine === 'postgres' ? 'TIMESTAMP(3)' : engine === 'mariadb' ? 'DATETIME(3)' : 'TEXT'})`,
  'CREATE TABLE m5n_posts (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL)',
  'CREATE TABLE m5n_comments (id INTEGER PRIMARY KEY, post_id INTEGER NOT NULL, body VARCHAR(20) NOT NULL)',
]

for (const engine of ENGINES) {
  describe(`a through relation through another through relation on ${engine.name}`, () => {
    const { use } = engineTables(engine, ['m5n_comments', 'm5n_posts', 'm5n_users', 'm5n_countries'], ddl)
    const seeded = async (ctx: { skip: () => void }) => {
      const db = use(ctx)
      await ok(Country.createMany(db, [{ id: 1, name: 'fr' }, { id: 2, name: 'pt' }, { id: 3, name: 'es' }]))
      await ok(User.createMany(db, [{ id: 1, countryId: 1, deletedAt: null }, { id: 2, countryId: 1, deletedAt: null }, { id: 3, countryId: 2, deletedAt: null }, { id: 4, countryId: 2, deletedAt: null }]))
      await ok(Post.createMany(db, [{ id: 1, userId: 1 }, { id: 2, userId: 2 }, { id: 3, userId: 3 }, { id: 4, userId: 4 }]))
      await ok(Comment.createMany(db, [
        { id: 1, postId: 1, body: 'a' }, { id: 2, postId: 1, body: 'b' }, { id: 3, postId: 2, body: 'c' },
        { id: 4, postId: 3, body: 'd' }, { id: 5, postId: 4, body: 'e' },
      ]))
      // User 4 is soft-deleted: the comments reached through them are not the country's.
      await ok(User.delete(db, await ok(User.findOrFail(db, 4))))
      return db
    }

    it('loads the rows at the end of the chain, one statement a level, every middle table scoped', async (ctx) => {
      const db = await seeded(ctx)
      let statements = 0
      const counted = wrap(db, { all: (next) => (q) => { statements++; return next(q) } })
      const countries = await ok(pipe(Country.query, Country.orderBy('id'), Country.include('comments', (q, C) => pipe(q, C.orderBy('id'))), Country.all(counted)))
      expect(statements).toBe(2)
      expect(countries.map((c) => c.comments.map((x) => x.body))).toEqual([['a', 'b', 'c'], ['d'], []])
      const other = await ok(pipe(Country.query, Country.orderBy('id'), Country.include('userComments', (q, C) => pipe(q, C.orderBy('id'))), Country.include('latestComment'), Country.all(db)))
      expect(other.map((c) => [c.userComments.map((x) => x.id), c.latestComment?.id ?? null])).toEqual([[[1, 2, 3], 3], [[4], 4], [[], null]])
    })

    it('counts, filters and related follow the whole chain', async (ctx) => {
      const db = await seeded(ctx)
      const counted = await ok(pipe(Country.query, Country.orderBy('id'), Country.withCount('comments'), Country.withCount('userComments'), Country.all(db)))
      expect(counted.map((c) => [c.commentsCount, c.userCommentsCount])).toEqual([[3, 3], [1, 1], [0, 0]])
      expect(await ok(pipe(Country.query, Country.whereHas('comments', (q, C) => pipe(q, C.where('body', '=', 'd'))), Country.pluck(db, 'id')))).toEqual([2])
      expect(await ok(pipe(Country.query, Country.whereHas('userComments', (q, C) => pipe(q, C.where('body', '=', 'e'))), Country.pluck(db, 'id')))).toEqual([])
      const fr = await ok(Country.findOrFail(db, 1))
      expect(await ok(pipe(Country.related(fr, 'comments'), Comment.orderBy('id'), Comment.pluck(db, 'body')))).toEqual(['a', 'b', 'c'])
      expect(await ok(pipe(Country.related(fr, 'latestComment'), Comment.pluck(db, 'id')))).toEqual([3])
    })
  })
}

describe('a through relation that goes through itself', () => {
  it('is a TypeError naming it where relate is called', () => {
    const A = model({
      table: 'a',
      primaryKey: 'id',
      codec: t.type({ id: t.number }),
      relations: { x: hasManyThrough('A', { through: 'y', source: 'x' }), y: hasManyThrough('A', { through: 'x', source: 'y' }) },
    })
    expect(() => relate({ A })).toThrow(/A\.x/)
  })
})
