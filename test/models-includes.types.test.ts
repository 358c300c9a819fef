/**
 * Type-level guarantees of included relations, checked by `tsc` (npm test) and run as plain
 * tests: a belongsTo over a NOT NULL key is the row (not `| null`) unless it is `optional` or
 * loaded through a modifier; a modifier receives the related model with its own relations;
 * fields a modifier adds (`withCount`, `computed`) are in the included row type.
 */
import { pipe } from 'fp-ts/lib/function.js'
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import { describe, expect, expectTypeOf, it } from 'vitest'
import { type Backend, compose, type DbError, sql } from 'recordkit'
import { sqlite } from 'recordkit/dialects/sqlite'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'
import { belongsTo, hasMany, hasOne, manyToMany, model, nullable, relate, softDelete, date, type ModelQuery } from 'recordkit/model'

const User = model({
  table: 'users',
  primaryKey: 'id',
  codec: t.type({ id: t.number, name: t.string, deletedAt: nullable(date) }),
  behaviours: [softDelete()],
  relations: {
    posts: hasMany('Post', 'authorId'),
    profile: hasOne('Profile', 'userId'),
    followers: manyToMany('User', { through: 'follows', from: 'followee_id', to: 'follower_id' }),
  },
})
const Profile = model({ table: 'profiles', primaryKey: 'id', codec: t.type({ id: t.number, userId: t.number, bio: t.string }) })
const Post = model({
  table: 'posts',
  primaryKey: 'id',
  codec: t.type({ id: t.number, authorId: t.number, editorId: nullable(t.number), reviewerId: t.number, title: t.string }),
  relations: {
    author: belongsTo('User', 'authorId'),
    editor: belongsTo('User', 'editorId'),
    reviewer: belongsTo('User', 'reviewerId', { optional: true }),
    comments: hasMany('Comment', 'postId'),
  },
})
const Comment = model({
  table: 'comments',
  primaryKey: 'id',
  codec: t.type({ id: t.number, postId: t.number, authorId: t.number, body: t.string }),
  relations: { post: belongsTo('Post', 'postId'), author: belongsTo('User', 'authorId') },
})
/** A composite foreign key, one part nullable; and one with both parts NOT NULL. */
const Region = model({ table: 'regions', primaryKey: ['country', 'code'], codec: t.type({ country: t.string, code: t.string, name: t.string }) })
const Store = model({
  table: 'stores',
  primaryKey: 'id',
  codec: t.type({ id: t.number, country: t.string, regionCode: nullable(t.string), homeCountry: t.string, homeCode: t.string }),
  relations: { region: belongsTo('Region', ['country', 'regionCode']), home: belongsTo('Region', ['homeCountry', 'homeCode']) },
})

const B = relate({ User, Profile, Post, Comment, Region, Store })

type UserRow = t.TypeOf<typeof User.codec>
type PostRow = t.TypeOf<typeof Post.codec>
type CommentRow = t.TypeOf<typeof Comment.codec>
type RegionRow = t.TypeOf<typeof Region.codec>
type RowsOf<X> = X extends TaskEither<DbError, (infer R)[]> ? R : never

// Nothing here runs a query: TaskEithers are built, never run.
const db: Backend = compose(betterSqlite3({ filename: ':memory:' }), sqlite)

describe('included belongsTo on a NOT NULL key', () => {
  it('is the row; a nullable key, optional: true or a hasOne give row | null', () => {
    const _q = pipe(B.Post.query, B.Post.include('author'), B.Post.include('editor'), B.Post.include('reviewer'), B.Post.all(db))
    type Row = RowsOf<typeof _q>
    expectTypeOf<Row['author']>().toEqualTypeOf<UserRow>()
    expectTypeOf<Row['editor']>().toEqualTypeOf<UserRow | null>()
    expectTypeOf<Row['reviewer']>().toEqualTypeOf<UserRow | null>()
    const _u = pipe(B.User.query, B.User.include('profile'), B.User.all(db))
    expectTypeOf<RowsOf<typeof _u>['profile']>().toEqualTypeOf<t.TypeOf<typeof Profile.codec> | null>()
  })

  it('composite keys: the row only when every part is NOT NULL', () => {
    const _q = pipe(B.Store.query, B.Store.include('region'), B.Store.include('home'), B.Store.all(db))
    expectTypeOf<RowsOf<typeof _q>['region']>().toEqualTypeOf<RegionRow | null>()
    expectTypeOf<RowsOf<typeof _q>['home']>().toEqualTypeOf<RegionRow>()
  })

  it('nested steps keep it: comments.author is the row, post.author too', () => {
    const _q = pipe(B.Post.query, B.Post.include('comments.author'), B.Post.all(db))
    expectTypeOf<RowsOf<typeof _q>['comments'][number]['author']>().toEqualTypeOf<UserRow>()
    const _c = pipe(B.Comment.query, B.Comment.include('post.author'), B.Comment.all(db))
    expectTypeOf<RowsOf<typeof _c>['post']['author']>().toEqualTypeOf<UserRow>()
    const _l = B.Comment.load(db, {} as CommentRow, 'post.editor')
    expectTypeOf<typeof _l>().branded.toEqualTypeOf<TaskEither<DbError, CommentRow & { post: PostRow & { editor: UserRow | null } }>>()
  })

  it('a modifier makes it row | null again (it may filter the target)', () => {
    const _q = pipe(B.Post.query, B.Post.include('author', (q, U) => pipe(q, U.where('name', '<>', 'ghost'))), B.Post.all(db))
    expectTypeOf<RowsOf<typeof _q>['author']>().toEqualTypeOf<UserRow | null>()
    // The same path included twice, once with a modifier: the modifier applies, so it may be null.
    const _two = pipe(B.Post.query, B.Post.include('author'), B.Post.include('author', (q, U) => pipe(q, U.orderBy('name'))), B.Post.all(db))
    expectTypeOf<RowsOf<typeof _two>['author']>().toEqualTypeOf<UserRow | null>()
    // A modifier on a deeper step leaves the steps above it as they are.
    const _deep = pipe(B.Comment.query, B.Comment.include('post.author', (q, U) => pipe(q, U.where('name', '=', 'Ada'))), B.Comment.all(db))
    type Deep = RowsOf<typeof _deep>
    expectTypeOf<Deep['post']['author']>().toEqualTypeOf<UserRow | null>()
    expectTypeOf<Deep['post']['title']>().toEqualTypeOf<string>()
    const _lazy = B.Post.load(db, [] as PostRow[], 'author', (q, U) => pipe(q, U.limit(1)))
    expectTypeOf<RowsOf<typeof _lazy>['author']>().toEqualTypeOf<UserRow | null>()
  })

  it('the relation value carries its key field and whether it is optional', () => {
    expectTypeOf(Post.relations.author.optional).toEqualTypeOf<false>()
    expectTypeOf(Post.relations.reviewer.optional).toEqualTypeOf<true>()
    expectTypeOf(Post.relations.author.foreignKey).toEqualTypeOf<'authorId'>()
    expect(Post.relations.reviewer.optional).toBe(true)
    expect(Post.relations.author.optional).toBe(false)
  })
})

describe('include modifiers get the related model', () => {
  it('with its relations: whereHas, withCount and include type-check inside the modifier', () => {
    B.Post.include('author', (q, U) => {
      expectTypeOf(q).toEqualTypeOf<ModelQuery<UserRow>>()
      expectTypeOf(U).toEqualTypeOf(B.User)
      return pipe(q, U.whereHas('posts', (q2, P) => pipe(q2, P.where('title', 'like', 'A%'))), U.withCount('followers'), U.include('profile'))
    })
    B.Post.whereHas('author', (q, U) => pipe(q, U.whereHas('followers', (q2, F) => pipe(q2, F.where('id', '=', 1)))))
    // @ts-expect-error: a user has no relation "likes"
    B.Post.include('author', (q, U) => pipe(q, U.whereHas('likes')))
    // @ts-expect-error: a post has no field "name" (the modifier's model is the user)
    B.Post.include('comments', (q, C) => pipe(q, C.whereHas('post', (q2, P) => pipe(q2, P.where('name', '=', 'x')))))
  })

  it('relations the modifier includes are typed in the row', () => {
    const _q = pipe(B.Post.query, B.Post.include('comments', (q, C) => pipe(q, C.include('author'), C.orderBy('id'))), B.Post.all(db))
    type Row = RowsOf<typeof _q>
    expectTypeOf<Row['comments'][number]['author']>().toEqualTypeOf<UserRow>()
    expectTypeOf<Row['comments'][number]['body']>().toEqualTypeOf<string>()
  })
})

describe('fields a modifier adds are in the included row type', () => {
  it('withCount, withExists and computed on included rows', () => {
    const _q = pipe(
      B.Post.query,
      B.Post.include('comments', (q, C) => pipe(q, C.computed('shout', t.string, sql`upper(${C.column('body')})`))),
      B.Post.include('author', (q, U) => pipe(q, U.withCount('posts'), U.withExists('profile', undefined, 'hasProfile'))),
      B.Post.all(db),
    )
    type Row = RowsOf<typeof _q>
    expectTypeOf<Row['comments'][number]['shout']>().toEqualTypeOf<string>()
    expectTypeOf<Row['comments'][number]['body']>().toEqualTypeOf<string>()
    expectTypeOf<NonNullable<Row['author']>['postsCount']>().toEqualTypeOf<number>()
    expectTypeOf<NonNullable<Row['author']>['hasProfile']>().toEqualTypeOf<boolean>()
    expectTypeOf<NonNullable<Row['author']>['name']>().toEqualTypeOf<string>()
    // @ts-expect-error: no such computed field
    type _Missing = NonNullable<Row['author']>['commentsCount']
  })

  it('select in a modifier narrows the included rows', () => {
    const _q = pipe(
      B.Post.query,
      B.Post.include('author', (q, U) => pipe(q, U.select('name'))),
      B.Post.include('comments', (q, C) => pipe(q, C.select('body'), C.include('author', (q2, U) => pipe(q2, U.select('id'))))),
      B.Post.all(db),
    )
    type Row = RowsOf<typeof _q>
    expectTypeOf<Row['author']>().toEqualTypeOf<{ name: string } | null>()
    expectTypeOf<Row['comments']>().toEqualTypeOf<{ body: string; author: { id: number } | null }[]>()
  })

  it('nested: a computed field on the last step of a path, and on lazily loaded rows', () => {
    const _q = pipe(B.User.query, B.User.include('posts.comments', (q, C) => pipe(q, C.withExists('author', undefined, 'byKnownUser'))), B.User.all(db))
    expectTypeOf<RowsOf<typeof _q>['posts'][number]['comments'][number]['byKnownUser']>().toEqualTypeOf<boolean>()
    const _l = B.User.load(db, {} as UserRow, 'posts', (q, P) => pipe(q, P.withCount('comments')))
    expectTypeOf<typeof _l>().branded.toEqualTypeOf<TaskEither<DbError, UserRow & { posts: (PostRow & { readonly commentsCount: number })[] }>>()
  })
})

describe('relation aggregates', () => {
  it('withMin is typed as the field (or null), withAvg as a number (or null)', () => {
    const _q = pipe(B.Post.query, B.Post.withMin('comments', 'id'), B.Post.withAvg('comments', 'id', undefined, 'meanId'), B.Post.withMin('comments', 'body'), B.Post.all(db))
    type Row = RowsOf<typeof _q>
    expectTypeOf<Row['commentsMinId']>().toEqualTypeOf<number | null>()
    expectTypeOf<Row['commentsMinBody']>().toEqualTypeOf<string | null>()
    expectTypeOf<Row['meanId']>().toEqualTypeOf<number | null>()
    // @ts-expect-error: a comment has no field "score"
    B.Post.withAvg('comments', 'score')
  })
})

describe('attach and detach', () => {
  it('take manyToMany relations and target rows or keys', () => {
    const user = {} as UserRow
    expectTypeOf(B.User.attach(db, user, 'followers', [{ id: 2 }])).toEqualTypeOf<TaskEither<DbError, number>>()
    B.User.detach(db, user, 'followers')
    // @ts-expect-error: posts is a hasMany, not a join table
    B.User.attach(db, user, 'posts', [{ id: 1 }])
    // @ts-expect-error: a user's id is a number
    B.User.attach(db, user, 'followers', [{ id: '2' }])
  })
})
