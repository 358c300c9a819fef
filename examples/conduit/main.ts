/**
 * Conduit on an embedded SQLite file: migrate with the `recordkit` command, write a few rows
 * through the models, and print the first page of the article list and of the follow feed.
 *
 *   npx tsx examples/conduit/main.ts
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { main } from '../../src/cli.js'
import { createBackend, run } from 'recordkit'
import { articlesPage } from './feed.js'
import { Conduit, Follow } from './models.js'

const work = mkdtempSync(join(tmpdir(), 'conduit-'))
const url = `sqlite:${join(work, 'conduit.db')}`
try {
  // What `recordkit migrate up --dir examples/conduit/migrations --url sqlite:...` does.
  const code = await main(['migrate', 'up', '--dir', join(import.meta.dirname, 'migrations'), '--url', url])
  if (code !== 0) throw new Error(`migrate up exited with ${code}`)

  const db = await run(createBackend(url))
  const { User, Article, Tag } = Conduit
  const [jake, jane] = await run(User.createMany(db, [
    { username: 'jake', email: 'jake@example.com', bio: 'I work at statefarm' },
    { username: 'jane', email: 'jane@example.com', bio: null },
  ]))
  await run(Follow.create(db, { followerId: jane.id, followeeId: jake.id }))
  const [dragons] = await run(Tag.createMany(db, [{ name: 'dragons' }]))
  const [train] = await run(Article.createMany(db, [
    { slug: 'how-to-train-your-dragon', title: 'How to train your dragon', body: 'You have to believe', authorId: jake.id, createdAt: new Date('2024-03-01T12:00:00Z') },
    { slug: 'hello', title: 'Hello', body: 'First post', authorId: jane.id, createdAt: new Date('2024-03-02T12:00:00Z') },
  ]))
  // Join-table rows through the relations: tag the article, jane favorites it.
  await run(Article.attach(db, train, 'tags', [dragons]))
  await run(User.attach(db, jane, 'favorites', [train]))

  const all = await run(articlesPage(db, {}, { limit: 20, offset: 0 }, jane.id))
  console.log(`${all.articlesCount} articles:`)
  for (const a of all.articles) console.log(`  ${a.slug} by ${a.author.username}${a.author.following ? ' (followed)' : ''}, ${a.favoritesCount} favorite(s), tags [${a.tagList.join(', ')}]`)
  const feed = await run(articlesPage(db, { followedBy: jane.id }, { limit: 20, offset: 0 }, jane.id))
  console.log(`jane's feed: ${feed.articles.map((a) => a.slug).join(', ')}`)
  if (feed.articles.length !== 1 || all.articlesCount !== 2) throw new Error('unexpected feed')
  await run(db.close())
} finally {
  rmSync(work, { recursive: true, force: true })
}
