/**
 * The Conduit article list and follow feed: one page of articles with their author (and
 * whether the viewer follows them), tags, favorites count, whether the viewer favorited each,
 * and the total count. Three statements whatever the page size: the articles (filters as
 * EXISTS, counts as correlated subqueries, the total read with them by `paginate`), their
 * authors, their tags.
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import type { Backend, DbError } from 'recordkit'
import { Conduit } from './models.js'

const { Article } = Conduit

/** What the article list filters by (all optional, combined with AND). */
export interface ArticleFilter {
  readonly tag?: string
  readonly author?: string
  readonly favorited?: string
  /** Only articles by authors this user follows (the follow feed). */
  readonly followedBy?: number
}

/** One article as the API returns it. */
export interface ArticleView {
  readonly slug: string
  readonly title: string
  readonly createdAt: Date
  readonly tagList: readonly string[]
  readonly favorited: boolean
  readonly favoritesCount: number
  readonly author: { readonly username: string; readonly bio: string | null; readonly following: boolean }
}

/** A page of articles and how many match in all. */
export interface ArticlePage {
  readonly articles: readonly ArticleView[]
  readonly articlesCount: number
}

/**
 * A page of articles, newest first, as the viewer (a user id, or none) sees them.
 *
 * @example
 * await run(articlesPage(db, { tag: 'dragons' }, { limit: 20, offset: 0 }, me.id))
 */
export const articlesPage = (db: Backend, filter: ArticleFilter, page: { readonly limit: number; readonly offset: number }, viewer?: number): TaskEither<DbError, ArticlePage> => {
  const nobody = -1 // no user has this id: "favorited" and "following" are then false
  const me = viewer ?? nobody
  const q = pipe(
    Article.query,
    filter.tag === undefined ? (x) => x : Article.whereHas('tags', (q, Tag) => pipe(q, Tag.where('name', '=', filter.tag!))),
    filter.author === undefined ? (x) => x : Article.whereHas('author', (q, User) => pipe(q, User.where('username', '=', filter.author!))),
    filter.favorited === undefined ? (x) => x : Article.whereHas('favoritedBy', (q, User) => pipe(q, User.where('username', '=', filter.favorited!))),
    filter.followedBy === undefined ? (x) => x : Article.whereHas('author.followers', (q, User) => pipe(q, User.where('id', '=', filter.followedBy!))),
    Article.withCount('favoritedBy', undefined, 'favoritesCount'),
    Article.withExists('favoritedBy', (q, User) => pipe(q, User.where('id', '=', me)), 'favorited'),
    // The author always loads (a NOT NULL key, no modifier): typed as the row, never null.
    Article.include('author'),
    // Whether the viewer follows the author, in the same statement.
    Article.withExists('author', (q, U) => pipe(q, U.whereHas('followers', (q2, F) => pipe(q2, F.where('id', '=', me)))), 'following'),
    Article.include('tags', (q, Tag) => pipe(q, Tag.orderBy('name'))),
    Article.orderBy('createdAt', 'desc'),
    Article.orderBy('id', 'desc'),
  )
  return pipe(
    // The total comes with the rows (COUNT(*) OVER ()); past the last page it costs one COUNT.
    Article.paginate(db, page)(q),
    TE.map(({ rows, total }) => ({
      articlesCount: total,
      articles: rows.map((a) => ({
        slug: a.slug,
        title: a.title,
        createdAt: a.createdAt,
        tagList: a.tags.map((x) => x.name),
        favorited: a.favorited,
        favoritesCount: a.favoritesCount,
        author: { username: a.author.username, bio: a.author.bio, following: a.following },
      })),
    })),
  )
}
