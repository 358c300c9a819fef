/**
 * The Conduit example application on SQLite, PostgreSQL and MariaDB: migrated with the
 * `recordkit` command, seeded through the models, and the article list read a page at a time
 * in at most three statements (counted by `execute` middleware), with every filter.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { type Backend, wrap, createBackend, sql } from 'recordkit'
import { ok } from 'recordkit/testing'
import { main } from '../src/cli.js'
import { articlesPage, type ArticleFilter } from '../examples/conduit/feed.js'
import { ArticleTag, Conduit, Favorite, Follow } from '../examples/conduit/models.js'
import { MYSQL_URL, PG_URL, serverAvailable } from './support/servers.js'

const dir = join(import.meta.dirname, '..', 'examples', 'conduit', 'migrations')

const cli = async (url: string, ...args: string[]): Promise<void> => {
  const out: string[] = []
  const code = await main([...args, '--dir', dir, '--url', url, '--table', 'conduit_migrations'], { out: (s) => out.push(s), err: (s) => out.push(s), env: {}, cwd: process.cwd() })
  expect(code, out.join('\n')).toBe(0)
}

/** A backend that counts the statements it executes. */
const counting = (db: Backend): { readonly db: Backend; readonly statements: () => number } => {
  let n = 0
  return { db: wrap(db, { execute: (next) => (q) => { n++; return next(q) } }), statements: () => n }
}

const seed = async (db: Backend) => {
  const { User, Article, Tag } = Conduit
  const [ada, bob, cy] = await ok(User.createMany(db, [
    { username: 'ada', email: 'ada@example.com', bio: 'engines' },
    { username: 'bob', email: 'bob@example.com', bio: null },
    { username: 'cy', email: 'cy@example.com', bio: 'cats' },
  ]))
  await ok(Follow.create(db, { followerId: ada.id, followeeId: bob.id }))
  const day = (d: number) => new Date(Date.UTC(2024, 2, d, 12))
  const [train, cats, more] = await ok(Article.createMany(db, [
    { slug: 'how-to-train-your-dragon', title: 'How to train your dragon', body: '...', authorId: bob.id, createdAt: day(1) },
    { slug: 'cats', title: 'Cats', body: '...', authorId: cy.id, createdAt: day(2) },
    { slug: 'more-dragons', title: 'More dragons', body: '...', authorId: bob.id, createdAt: day(3) },
  ]))
  const [dragons, training, catsTag] = await ok(Tag.createMany(db, [{ name: 'dragons' }, { name: 'training' }, { name: 'cats' }]))
  await ok(ArticleTag.createMany(db, [
    { articleId: train.id, tagId: dragons.id }, { articleId: train.id, tagId: training.id },
    { articleId: cats.id, tagId: catsTag.id }, { articleId: more.id, tagId: dragons.id },
  ]))
  await ok(Favorite.createMany(db, [{ userId: ada.id, articleId: train.id }, { userId: cy.id, articleId: train.id }, { userId: ada.id, articleId: cats.id }]))
  return { ada, bob, cy }
}

const engines: readonly { readonly name: string; readonly url: () => Promise<string | undefined> }[] = [
  { name: 'sqlite', url: async () => `sqlite:${join(mkdtempSync(join(tmpdir(), 'conduit-')), 'conduit.db')}` },
  { name: 'postgres', url: async () => ((await serverAvailable('postgres')) ? PG_URL : undefined) },
  { name: 'mariadb', url: async () => ((await serverAvailable('mariadb')) ? MYSQL_URL.replace(/^mysql:/, 'mariadb:') : undefined) },
]

for (const engine of engines) {
  describe(`conduit on ${engine.name}`, () => {
    it('migrates with the CLI, then reads feed pages in at most 3 statements each', async (ctx) => {
      const url = await engine.url()
      if (url === undefined) return ctx.skip()
      const base = await ok(createBackend(url))
      try {
        // A previous run that stopped half-way leaves tables behind.
        for (const table of ['comments', 'favorites', 'article_tags', 'tags', 'articles', 'follows', 'users', 'conduit_migrations']) {
          await ok(base.execute(sql`DROP TABLE IF EXISTS ${sql.id(table)}`))
        }
        await cli(url, 'migrate', 'up')
        const { ada, bob } = await seed(base)
        const { db, statements } = counting(base)
        const page = async (filter: ArticleFilter, limit: number, offset: number, viewer?: number) => {
          const before = statements()
          const p = await ok(articlesPage(db, filter, { limit, offset }, viewer))
          return { ...p, statements: statements() - before }
        }

        const first = await page({}, 2, 0, ada.id)
        // The articles (with the total), their authors, their tags.
        expect(first.statements).toBe(3)
        expect(first.articlesCount).toBe(3)
        expect(first.articles).toEqual([
          { slug: 'more-dragons', title: 'More dragons', createdAt: new Date(Date.UTC(2024, 2, 3, 12)), tagList: ['dragons'], favorited: false, favoritesCount: 0, author: { username: 'bob', bio: null, following: true } },
          { slug: 'cats', title: 'Cats', createdAt: new Date(Date.UTC(2024, 2, 2, 12)), tagList: ['cats'], favorited: true, favoritesCount: 1, author: { username: 'cy', bio: 'cats', following: false } },
        ])
        const second = await page({}, 2, 2, ada.id)
        expect(second.statements).toBe(3)
        expect(second.articles.map((a) => [a.slug, a.tagList, a.favoritesCount, a.favorited])).toEqual([['how-to-train-your-dragon', ['dragons', 'training'], 2, true]])
        expect(second.articlesCount).toBe(3)

        const anonymous = await page({}, 10, 0)
        expect(anonymous.articles.every((a) => !a.favorited && !a.author.following)).toBe(true)
        expect(anonymous.statements).toBe(3)

        const slugs = async (filter: ArticleFilter) => {
          const p = await page(filter, 10, 0, ada.id)
          // No row, no relation to load: the one statement.
          expect(p.statements).toBe(p.articles.length === 0 ? 1 : 3)
          expect(p.articlesCount).toBe(p.articles.length)
          return p.articles.map((a) => a.slug)
        }
        expect(await slugs({ tag: 'dragons' })).toEqual(['more-dragons', 'how-to-train-your-dragon'])
        expect(await slugs({ author: 'cy' })).toEqual(['cats'])
        expect(await slugs({ favorited: 'ada' })).toEqual(['cats', 'how-to-train-your-dragon'])
        expect(await slugs({ followedBy: ada.id })).toEqual(['more-dragons', 'how-to-train-your-dragon'])
        expect(await slugs({ followedBy: bob.id })).toEqual([])
        expect(await slugs({ tag: 'dragons', favorited: 'cy' })).toEqual(['how-to-train-your-dragon'])

        // Past the last page the total still comes back (one COUNT instead of the includes).
        const beyond = await page({ tag: 'dragons' }, 10, 10)
        expect([beyond.articles, beyond.articlesCount]).toEqual([[], 2])
        expect(beyond.statements).toBe(2)

        await cli(url, 'migrate', 'down', '--steps', '2')
      } finally {
        await ok(base.close())
        if (url.startsWith('sqlite:')) rmSync(join(url.slice('sqlite:'.length), '..'), { recursive: true, force: true })
      }
    }, 60_000)
  })
}
