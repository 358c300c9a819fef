/**
 * A hasOne, hasOneThrough or morphOne that says which of the matching rows is the one, as
 * Laravel's `latestOfMany` / `oldestOfMany` / `ofMany` and Rails' `has_one -> { order(...) }` give
 * it, on SQLite, PostgreSQL and MariaDB: an order on the relation (ties broken by the target's
 * primary key), the row picked per parent in one statement for a level of parents, the default
 * scopes applied before the pick (a soft-deleted latest row is not the latest), a modifier's
 * conditions and `whereHas` / `withCount` applied to the picked row (Laravel's testHasNested: a
 * user "has" a latest login with id 1 only if login 1 is the latest), and `related` reading it.
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { wrap } from 'recordkit'
import { date, hasMany, hasOne, hasOneThrough, latestOfMany, model, morphOne, morphTo, nullable, oldestOfMany, relate, softDelete, withDeleted } from 'recordkit/model'
import { fails, ok } from 'recordkit/testing'
import { ENGINES, engineTables } from './support/engine-tables.js'

const { Country, User, Login, Post, Image } = relate({
  Country: model({
    table: 'm5o_countries',
    primaryKey: 'id',
    codec: t.type({ id: t.number, name: t.string }),
    relations: {
      users: hasMany('User', 'countryId'),
      newestLogin: pipe(hasOneThrough('Login', { through: 'users', source: 'logins' }), latestOfMany('at')),
      firstLogin: pipe(hasOneThrough('Login', { through: 'users', source: 'logins' }), oldestOfMany('at')),
    },
  }),
  User: model({
    table: 'm5o_users',
    primaryKey: 'id',
    codec: t.type({ id: t.number, countryId: t.number, name: t.string }),
    columns: { countryId: 'country_id' },
    relations: {
      logins: hasMany('Login', 'userId'),
      latestLogin: pipe(hasOne('Login', 'userId'), latestOfMany('at')),
      oldestLogin: pipe(hasOne('Login', 'userId'), oldestOfMany('at')),
      // By the primary key alone, as Laravel's latestOfMany() without a column.
      lastLogin: pipe(hasOne('Login', 'userId'), latestOfMany()),
      // An order of several fields, each with its direction.
      earlyLogin: hasOne('Login', 'userId', { orderBy: [['at', 'asc'], ['id', 'desc']] }),
    },
  }),
  Login: model({
    table: 'm5o_logins',
    primaryKey: 'id',
    codec: t.type({ id: t.number, userId: t.number, at: t.number, deletedAt: nullable(date) }),
    columns: { userId: 'user_id', deletedAt: 'deleted_at' },
    behaviours: [softDelete()],
  }),
  Post: model({
    table: 'm5o_posts',
    primaryKey: 'id',
    codec: t.type({ id: t.number, title: t.string }),
    relations: {
      latestImage: pipe(morphOne('Image', { as: 'imageable' }), latestOfMany()),
      firstImage: pipe(morphOne('Image', { as: 'imageable' }), oldestOfMany()),
    },
  }),
  Image: model({
    table: 'm5o_images',
    primaryKey: 'id',
    codec: t.type({ id: t.number, imageableType: t.string, imageableId: t.number, url: t.string }),
    columns: { imageableType: 'imageable_type', imageableId: 'imageable_id' },
    relations: { imageable: morphTo('imageableType', 'imageableId', { post: 'Post', user: 'User' }) },
  }),
})

const ddl = (engine: string): string[] => [
  'CREATE TABLE m5o_countries (id INTEGER PRIMARY KEY, name VARCHAR(20) NOT NULL)',
  'CREATE TABLE m5o_users (id INTEGER PRIMARY KEY, country_id INTEGER NOT NULL, name VARCHAR(20) NOT NULL)',
  `CREATE TABLE m5o_logins (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, at INTEGER NOT NULL, deleted_at ${engine === 'postgres' ? 'TIMESTAMP(3)' : engine === 'mariadb' ? 'DATETIME(3)' : 'TEXT'})`,
  'CREATE TABLE m5o_posts (id INTEGER PRIMARY KEY, title VARCHAR(20) NOT NULL)',
  'CREATE TABLE m5o_images (id INTEGER PRIMARY KEY, imageable_type VARCHAR(20) NOT NULL, imageable_id INTEGER NOT NULL, url VARCHAR(20) NOT NULL)',
]

for (const engine of ENGINES) {
  describe(`the one row of an ordered hasOne, hasOneThrough and morphOne on ${engine.name}`, () => {
    const { use } = engineTables(engine, ['m5o_images', 'm5o_posts', 'm5o_logins', 'm5o_users', 'm5o_countries'], ddl)
    const seeded = async (ctx: { skip: () => void }) => {
      const db = use(ctx)
      await ok(Country.createMany(db, [{ id: 1, name: 'fr' }, { id: 2, name: 'pt' }, { id: 3, name: 'es' }]))
      await ok(User.createMany(db, [{ id: 1, countryId: 1, name: 'ada' }, { id: 2, countryId: 1, name: 'bob' }, { id: 3, countryId: 2, name: 'cy' }]))
      // The first row of each user is neither its latest nor its oldest; user 2's two logins tie.
      await ok(Login.createMany(db, [
        { id: 1, userId: 1, at: 20, deletedAt: null },
        { id: 2, userId: 1, at: 30, deletedAt: null },
        { id: 3, userId: 1, at: 10, deletedAt: null },
        { id: 4, userId: 2, at: 5, deletedAt: null },
        { id: 5, userId: 2, at: 5, deletedAt: null },
      ]))
      await ok(Post.createMany(db, [{ id: 1, title: 'hello' }, { id: 2, title: 'bare' }]))
      // User 1's image shares the key 1 with post 1, and has the highest id: never post 1's.
      await ok(Image.createMany(db, [
        { id: 2, imageableType: 'post', imageableId: 1, url: 'b' },
        { id: 1, imageableType: 'post', imageableId: 1, url: 'a' },
        { id: 3, imageableType: 'post', imageableId: 1, url: 'c' },
        { id: 9, imageableType: 'user', imageableId: 1, url: 'u' },
      ]))
      return db
    }

    it('eager loads the row the order picks for each parent, in one statement for the level', async (ctx) => {
      const db = await seeded(ctx)
      let statements = 0
      const counted = wrap(db, { all: (next) => (q) => { statements++; return next(q) } })
      const users = await ok(pipe(User.query, User.orderBy('id'), User.include('latestLogin'), User.all(counted)))
      expect(statements).toBe(2)
      expect(users.map((u) => u.latestLogin?.id ?? null)).toEqual([2, 5, null])
      const all = await ok(pipe(User.query, User.orderBy('id'), User.include('oldestLogin'), User.include('lastLogin'), User.include('earlyLogin'), User.all(db)))
      expect(all.map((u) => [u.oldestLogin?.id ?? null, u.lastLogin?.id ?? null, u.earlyLogin?.id ?? null])).toEqual([[3, 3, 3], [4, 5, 5], [null, null, null]])
      // Typed as one row or null.
      const at: number | undefined = all[0].oldestLogin?.at
      expect(at).toBe(10)
      // Many parents in one statement still pick per parent.
      statements = 0
      const many = await ok(pipe(Country.query, Country.orderBy('id'), Country.include('users.latestLogin'), Country.all(counted)))
      expect(statements).toBe(3)
      expect(many.map((c) => c.users.map((u) => u.latestLogin?.id ?? null).sort())).toEqual([[2, 5], [null], []])
    })

    it('the default scopes apply before the pick: a soft-deleted latest row is not the latest', async (ctx) => {
      const db = await seeded(ctx)
      await ok(Login.delete(db, await ok(Login.findOrFail(db, 2))))
      const users = await ok(pipe(User.query, User.orderBy('id'), User.include('latestLogin'), User.all(db)))
      expect(users.map((u) => u.latestLogin?.id ?? null)).toEqual([1, 5, null])
      const ada = await ok(User.findOrFail(db, 1))
      expect(await ok(pipe(User.related(ada, 'latestLogin'), Login.pluck(db, 'id')))).toEqual([1])
      expect(await ok(pipe(User.query, User.whereHas('latestLogin', (q, L) => pipe(q, L.where('id', '=', 1))), User.pluck(db, 'id')))).toEqual([1])
      // A modifier that reads deleted rows picks among them.
      const deletedToo = await ok(pipe(User.query, User.where('id', '=', 1), User.include('latestLogin', (q) => withDeleted(q)), User.all(db)))
      expect(deletedToo[0].latestLogin?.id).toBe(2)
    })

    it("a modifier's conditions filter the row picked, as whereHas does (Laravel's testHasNested)", async (ctx) => {
      const db = await seeded(ctx)
      const early = await ok(pipe(User.query, User.orderBy('id'), User.include('latestLogin', (q, L) => pipe(q, L.where('at', '<', 25))), User.all(db)))
      // Ada's latest login is at 30: the condition leaves her none, never her login at 20.
      expect(early.map((u) => u.latestLogin?.id ?? null)).toEqual([null, 5, null])
      const hasLatest = (id: number) => pipe(User.query, User.whereHas('latestLogin', (q, L) => pipe(q, L.where('id', '=', id))), User.pluck(db, 'id'))
      expect(await ok(hasLatest(2))).toEqual([1])
      expect(await ok(hasLatest(1))).toEqual([])
      expect(await ok(hasLatest(4))).toEqual([])
      expect(await ok(hasLatest(5))).toEqual([2])
      expect(await ok(pipe(User.query, User.whereHas('oldestLogin', (q, L) => pipe(q, L.where('id', '=', 4))), User.pluck(db, 'id')))).toEqual([2])
      expect(await ok(pipe(User.query, User.whereDoesntHave('latestLogin'), User.pluck(db, 'id')))).toEqual([3])
      const counted = await ok(pipe(User.query, User.orderBy('id'), User.withCount('latestLogin'), User.withCount('logins'), User.all(db)))
      expect(counted.map((u) => [u.latestLoginCount, u.loginsCount])).toEqual([[1, 3], [1, 2], [0, 0]])
      const summed = await ok(pipe(User.query, User.orderBy('id'), User.withSum('latestLogin', 'at'), User.all(db)))
      expect(summed.map((u) => u.latestLoginSumAt)).toEqual([30, 5, null])
    })

    it('related reads the one row: narrowed further, it is that row or none', async (ctx) => {
      const db = await seeded(ctx)
      const [ada, bob, cy] = await ok(pipe(User.query, User.orderBy('id'), User.all(db)))
      expect(await ok(pipe(User.related(ada, 'latestLogin'), Login.all(db)))).toEqual([{ id: 2, userId: 1, at: 30, deletedAt: null }])
      expect(await ok(pipe(User.related(ada, 'oldestLogin'), Login.first(db)))).toMatchObject({ _tag: 'Some', value: { id: 3 } })
      expect(await ok(pipe(User.related(bob, 'latestLogin'), Login.pluck(db, 'id')))).toEqual([5])
      expect(await ok(pipe(User.related(ada, 'latestLogin'), Login.where('at', '<', 25), Login.all(db)))).toEqual([])
      expect(await ok(pipe(User.related(ada, 'latestLogin'), Login.count(db)))).toBe(1)
      expect(await ok(pipe(User.related(cy, 'latestLogin'), Login.all(db)))).toEqual([])
      const loaded = await ok(User.load(db, bob, 'earlyLogin'))
      expect(loaded.earlyLogin?.id).toBe(5)
    })

    it('a hasOneThrough picks one row per parent across the middle rows', async (ctx) => {
      const db = await seeded(ctx)
      let statements = 0
      const counted = wrap(db, { all: (next) => (q) => { statements++; return next(q) } })
      const countries = await ok(pipe(Country.query, Country.orderBy('id'), Country.include('newestLogin'), Country.include('firstLogin'), Country.all(counted)))
      expect(statements).toBe(3)
      expect(countries.map((c) => [c.newestLogin?.id ?? null, c.firstLogin?.id ?? null])).toEqual([[2, 4], [null, null], [null, null]])
      const [fr, pt] = countries
      expect(await ok(pipe(Country.related(fr, 'newestLogin'), Login.pluck(db, 'id')))).toEqual([2])
      expect(await ok(pipe(Country.related(pt, 'newestLogin'), Login.pluck(db, 'id')))).toEqual([])
      const newest = (id: number) => pipe(Country.query, Country.whereHas('newestLogin', (q, L) => pipe(q, L.where('id', '=', id))), Country.pluck(db, 'id'))
      expect(await ok(newest(2))).toEqual([1])
      expect(await ok(newest(5))).toEqual([])
      const withCount = await ok(pipe(Country.query, Country.orderBy('id'), Country.withCount('newestLogin'), Country.all(db)))
      expect(withCount.map((c) => c.newestLoginCount)).toEqual([1, 0, 0])
    })

    it("a morphOne picks among the rows whose type names its model, never another model's", async (ctx) => {
      const db = await seeded(ctx)
      const posts = await ok(pipe(Post.query, Post.orderBy('id'), Post.include('latestImage'), Post.include('firstImage'), Post.all(db)))
      expect(posts.map((p) => [p.latestImage?.url ?? null, p.firstImage?.url ?? null])).toEqual([['c', 'a'], [null, null]])
      const [hello] = posts
      expect(await ok(pipe(Post.related(hello, 'latestImage'), Image.pluck(db, 'url')))).toEqual(['c'])
      expect(await ok(pipe(Post.query, Post.whereHas('firstImage', (q, I) => pipe(q, I.where('url', '=', 'a'))), Post.pluck(db, 'id')))).toEqual([1])
      expect(await ok(pipe(Post.query, Post.whereHas('firstImage', (q, I) => pipe(q, I.where('url', '=', 'c'))), Post.pluck(db, 'id')))).toEqual([])
    })

    // An order naming no field of the target is a TypeError where the models are related
    // (test/model-relation-order-declared.test.ts).
    it("a modifier's own order or limit is a QueryError naming the relation", async (ctx) => {
      const db = await seeded(ctx)
      const reordered = await fails(pipe(User.query, User.include('latestLogin', (q, L) => pipe(q, L.orderBy('id'))), User.all(db)))
      expect(reordered).toMatchObject({ _tag: 'QueryError', message: expect.stringContaining('User.latestLogin') })
      const limited = await fails(pipe(User.query, User.include('latestLogin', (q, L) => pipe(q, L.limit(2))), User.all(db)))
      expect(limited).toMatchObject({ _tag: 'QueryError', message: expect.stringContaining('User.latestLogin') })
    })
  })
}

describe('an order on a one-row relation is checked where it is written', () => {
  it('takes asc and desc, and only a hasOne, hasOneThrough or morphOne', () => {
    expect(() => hasOne('Login', 'userId', { orderBy: [['at', 'down' as 'desc']] })).toThrow(/orderBy.*'asc' or 'desc'/)
    expect(() => latestOfMany()(hasMany('Login', 'userId') as never)).toThrow(/hasMany/)
  })
})
