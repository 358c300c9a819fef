/**
 * Objects a read makes per row or per key must not come from an object literal. V8 keeps an
 * allocation site per literal and pretenures it when 85% of at least 100 of its objects survive
 * a young collection: after that every object of the literal is made in the old generation, where
 * it outlives its use until a full collection. A large read's rows and an `IN` list's value nodes
 * are all alive until the read ends, so one young collection during a read (likely in the first,
 * unoptimized one) was enough: three-level eager loading on SQLite then ran at twice its time
 * for the rest of the process. recordkit makes such objects with constructors (src/objects.ts,
 * `plainObjects`), which have no allocation site.
 *
 * This runs each read in a fresh Node process started with `--trace-pretenuring`, forces a young
 * collection while its objects are alive, and reads V8's decisions from its output. A literal
 * made the same way is the check's own control: it must be caught.
 */
import { describe, expect, it } from 'vitest'
import { scriptOutput, srcModule as src } from './support/node-script.js'

const script = `
import Database from 'better-sqlite3'
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import { compose, run, sql } from ${src('index.ts')}
import { sqlite } from ${src('dialects/sqlite.ts')}
import { betterSqlite3 } from ${src('drivers/better-sqlite3.ts')}
import { date, hasMany, model, relate, snakeCase } from ${src('model/index.ts')}
import { compileMapper } from ${src('model/decode.ts')}
import { isIn, from, where } from ${src('query/index.ts')}

const young = () => globalThis.gc({ type: 'minor' })
const mark = (s) => process.stdout.write('=== ' + s + '\\n')
// Each case keeps what it made alive while the young collection runs.
const cases = []
const scenario = (name, f) => cases.push([name, f])

const driver = betterSqlite3({ filename: ':memory:' })
const raw = driver.database()
raw.exec(\`CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, created_at TEXT NOT NULL);
  CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, title TEXT NOT NULL, created_at TEXT NOT NULL);
  CREATE TABLE comments (id INTEGER PRIMARY KEY, post_id INTEGER NOT NULL, body TEXT NOT NULL, created_at TEXT NOT NULL);\`)
const at = '2024-01-02 03:04:05'
raw.transaction(() => {
  for (let i = 1; i <= 100; i++) raw.prepare('INSERT INTO users VALUES (?, ?, ?)').run(i, 'user ' + i, at)
  for (let i = 1; i <= 1000; i++) raw.prepare('INSERT INTO posts VALUES (?, ?, ?, ?)').run(i, 1 + (i % 100), 'post ' + i, at)
  for (let i = 1; i <= 3000; i++) raw.prepare('INSERT INTO comments VALUES (?, ?, ?, ?)').run(i, 1 + (i % 1000), 'comment ' + i, at)
})()
const db = compose(driver, sqlite)
const User = model({ table: 'users', primaryKey: 'id', naming: snakeCase, codec: t.type({ id: t.number, name: t.string, createdAt: date }), relations: { posts: hasMany('Post', 'userId') } })
const Post = model({ table: 'posts', primaryKey: 'id', naming: snakeCase, codec: t.type({ id: t.number, userId: t.number, title: t.string, createdAt: date }), relations: { comments: hasMany('Comment', 'postId') } })
const Comment = model({ table: 'comments', primaryKey: 'id', naming: snakeCase, codec: t.type({ id: t.number, postId: t.number, body: t.string, createdAt: date }) })
const Blog = relate({ User, Post, Comment })

scenario('control: an object literal per row', () => {
  const rows = Array.from({ length: 3000 }, (_, i) => ({ id: i, name: 'n' + i }))
  young()
  return rows
})
scenario('rows of a plain read', async () => {
  const rows = await run(db.all(sql.raw('SELECT id, post_id, body, created_at FROM comments')))
  young()
  return rows
})
scenario('an IN list of 3000 values', () => {
  const ids = Array.from({ length: 3000 }, (_, i) => i)
  const q = pipe(from('comments'), where(isIn('id', ids)))
  young()
  return q
})
scenario('rows decoded by a copying mapper', () => {
  const map = compileMapper([{ name: 'id', column: 'id', codec: t.number, optional: false }, { name: 'postId', column: 'post_id', codec: t.number, optional: false }], [], 'comments')
  const rows = map(Array.from({ length: 3000 }, (_, i) => JSON.parse('{"id":' + i + ',"post_id":1}')))
  young()
  return rows
})
scenario('eager loading, a young collection before each statement', async () => {
  const proto = Object.getPrototypeOf(raw.prepare('SELECT 1'))
  const all = proto.all
  proto.all = function (...args) { young(); return all.apply(this, args) }
  try {
    const users = await run(pipe(Blog.User.query, Blog.User.orderBy('id'), Blog.User.include('posts.comments'), Blog.User.all(db)))
    young()
    return users
  } finally {
    proto.all = all
  }
})

for (const [name, f] of cases) {
  mark('start ' + name)
  const kept = await f()
  mark('end ' + name + ' ' + (Array.isArray(kept) ? kept.length : typeof kept))
}
`

/** For each case, V8's pretenuring decisions to tenure made while it ran. */
const decisions = (): Record<string, string[]> => {
  const stdout = scriptOutput(script, ['--expose-gc', '--trace-pretenuring', '--trace-pretenuring-statistics'])
  const out: Record<string, string[]> = {}
  let current: string | undefined
  for (const line of stdout.split('\n')) {
    const m = /^=== (start|end) (.*)$/.exec(line)
    if (m !== null) {
      current = m[1] === 'start' ? m[2] : undefined
      if (current !== undefined) out[current] = []
    } else if (current !== undefined && /=> (maybe )?tenure$/.test(line) && !/ tenure => /.test(line)) out[current].push(line)
  }
  return out
}

describe('no read pretenures its rows', () => {
  it('rows, value nodes and decoded rows survive a young collection without tenuring a site', () => {
    const d = decisions()
    expect(Object.keys(d)).toHaveLength(5)
    expect(d['control: an object literal per row'].length).toBeGreaterThan(0)
    const { ['control: an object literal per row']: _, ...reads } = d
    expect(reads).toEqual(Object.fromEntries(Object.keys(reads).map((k) => [k, []])))
  }, 60_000)
})
