/**
 * The Conduit (RealWorld) models: users who follow each other, articles with tags, favorites
 * and comments. Tables come from ./migrations (run them with `recordkit migrate up`).
 */
import * as t from 'io-ts'
import { belongsTo, date, hasMany, manyToMany, model, nullable, relate, snakeCase } from 'recordkit/model'

const User = model({
  table: 'users',
  primaryKey: 'id',
  codec: t.type({ id: t.number, username: t.string, email: t.string, bio: nullable(t.string) }),
  relations: {
    articles: hasMany('Article', 'authorId'),
    followers: manyToMany('User', { through: 'follows', from: 'followee_id', to: 'follower_id' }),
    following: manyToMany('User', { through: 'follows', from: 'follower_id', to: 'followee_id' }),
    favorites: manyToMany('Article', { through: 'favorites', from: 'user_id', to: 'article_id' }),
  },
})

const Article = model({
  table: 'articles',
  primaryKey: 'id',
  naming: snakeCase,
  codec: t.type({ id: t.number, slug: t.string, title: t.string, body: t.string, authorId: t.number, createdAt: date }),
  relations: {
    author: belongsTo('User', 'authorId'),
    tags: manyToMany('Tag', { through: 'article_tags', from: 'article_id', to: 'tag_id' }),
    favoritedBy: manyToMany('User', { through: 'favorites', from: 'article_id', to: 'user_id' }),
    comments: hasMany('Comment', 'articleId'),
  },
})

const Tag = model({
  table: 'tags',
  primaryKey: 'id',
  codec: t.type({ id: t.number, name: t.string }),
  relations: { articles: manyToMany('Article', { through: 'article_tags', from: 'tag_id', to: 'article_id' }) },
})

const Comment = model({
  table: 'comments',
  primaryKey: 'id',
  naming: snakeCase,
  codec: t.type({ id: t.number, articleId: t.number, authorId: t.number, body: t.string }),
  relations: { article: belongsTo('Article', 'articleId'), author: belongsTo('User', 'authorId') },
})

/** Join-table rows, written directly. */
export const Follow = model({ table: 'follows', primaryKey: ['followerId', 'followeeId'], naming: snakeCase, codec: t.type({ followerId: t.number, followeeId: t.number }) })
export const Favorite = model({ table: 'favorites', primaryKey: ['userId', 'articleId'], naming: snakeCase, codec: t.type({ userId: t.number, articleId: t.number }) })
export const ArticleTag = model({ table: 'article_tags', primaryKey: ['articleId', 'tagId'], naming: snakeCase, codec: t.type({ articleId: t.number, tagId: t.number }) })

/** The related models. */
export const Conduit = relate({ User, Article, Tag, Comment })

export type UserRow = t.TypeOf<typeof User.codec>
export type ArticleRow = t.TypeOf<typeof Article.codec>
