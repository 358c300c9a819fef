/**
 * Models: a table described by an io-ts codec, with validation, CRUD, typed queries, scopes,
 * behaviours and hooks, on an embedded SQLite database.
 *
 * Run: npx tsx examples/models.ts
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import { compose, run, sql } from 'recordkit'
import {
  type Behaviour, belongsTo, bool, date, hasMany, hookError, jsonOf, model, nullable, onlyDeleted, optimisticLock, relate,
  rule, snakeCase, softDelete, timestamps, uuid, uuidPrimaryKey, withDeleted,
} from 'recordkit/model'
import { sqlite } from 'recordkit/dialects/sqlite'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'

const say = (title: string) => console.log(`\n== ${title}`)

const db = compose(betterSqlite3({ filename: ':memory:' }), sqlite)
await run(db.execute(sql`CREATE TABLE users (
  id INTEGER PRIMARY KEY AUTOINCREMENT, email TEXT NOT NULL UNIQUE, display_name TEXT NOT NULL,
  active BOOLEAN NOT NULL DEFAULT 1, settings TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)`))
await run(db.execute(sql`CREATE TABLE posts (
  id INTEGER PRIMARY KEY AUTOINCREMENT, user_id INTEGER NOT NULL, title TEXT NOT NULL, score INTEGER NOT NULL,
  deleted_at TEXT, version INTEGER NOT NULL)`))
await run(db.execute(sql`CREATE TABLE sessions (id TEXT PRIMARY KEY, user_id INTEGER NOT NULL)`))

// -- define
// The codec is the single source of the row type; camelCase fields, snake_case columns.
const Email = t.refinement(t.string, (s) => /^[^@\s]+@[^@\s]+$/.test(s), 'Email')
const Settings = t.type({ theme: t.keyof({ light: null, dark: null }), pageSize: t.number })

// -- behaviour
/** A reusable behaviour: lower-cases a text field before the input is validated. */
const lowercase = <F extends string>(field: F): Behaviour<Record<F, string>> => ({
  name: `lowercase(${field})`,
  beforeValidate: (values) => {
    const v = (values as Record<string, unknown>)[field]
    return TE.right(typeof v === 'string' ? { ...values, [field]: v.toLowerCase() } : values)
  },
})
// -- end behaviour

const User = model({
  table: 'users',
  primaryKey: 'id',
  naming: snakeCase,
  columns: { name: 'display_name' },
  codec: t.type({
    id: t.number,
    email: Email,
    name: t.string,
    active: bool,
    settings: nullable(jsonOf(Settings)),
    createdAt: date,
    updatedAt: date,
  }),
  defaults: ['active'],
  behaviours: [timestamps(), lowercase('email')],
  validators: [rule('name', 'notBlank', (u) => (u.name ?? '').trim() !== '', 'a name is required')],
  hooks: {
    // Runs after the behaviours' hooks: trim what `lowercase` lower-cased.
    beforeValidate: (u) => TE.right(u.email === undefined ? u : { ...u, email: u.email.trim() }),
  },
  relations: { posts: hasMany('Post', 'userId') },
  scopes: (q) => ({
    active: q.where('active', '=', true),
    named: (prefix: string) => q.where('name', 'like', `${prefix}%`),
    newestFirst: q.orderBy('createdAt', 'desc'),
  }),
})

type UserRow = t.TypeOf<typeof User.codec>

const Post = model({
  table: 'posts',
  primaryKey: 'id',
  naming: snakeCase,
  codec: t.type({ id: t.number, userId: t.number, title: t.string, score: t.number, deletedAt: nullable(date), version: t.number }),
  behaviours: [softDelete(), optimisticLock()],
  hooks: {
    beforeDelete: (p) => (p.score > 100 ? TE.left(hookError('beforeDelete', 'popular posts stay')) : TE.right(p)),
  },
  relations: { author: belongsTo('User', 'userId') },
})

const Session = model({ table: 'sessions', primaryKey: 'id', naming: snakeCase, codec: t.type({ id: uuid, userId: t.number }), behaviours: [uuidPrimaryKey()] })

// Relations name their targets by the names given here.
const Blog = relate({ User, Post })
// -- end define

say('create: decoded, validated, hooks run, the stored row comes back')
// -- create
const ada: UserRow = await run(User.create(db, { email: ' Ada@Example.com ', name: 'Ada', settings: { theme: 'dark', pageSize: 20 } }))
console.log(ada) // { id: 1, email: 'ada@example.com', active: true, createdAt: Date, ... }
const more = await run(User.createMany(db, [
  { email: 'grace@example.com', name: 'Grace' },
  { email: 'linus@example.com', name: 'Linus', active: false },
]))
const invalid = await User.create(db, { email: 'not an email', name: ' ' })()
if (invalid._tag === 'Left' && invalid.left._tag === 'ValidationError') {
  console.log(invalid.left.issues.map((i) => `${i.path}: ${i.rule}`)) // ['email: Email', 'name: notBlank']
}
// -- end create
console.log(`${more.length} more users`)

say('read: find, typed queries, scopes, aggregates')
// -- query
const found = await run(User.find(db, ada.id)) // Option<UserRow>
const active = await run(pipe(User.query, User.scopes.active, User.scopes.named('G'), User.all(db)))
const emails = await run(pipe(User.query, User.where('active', '=', true), User.orderBy('email'), User.pluck(db, 'email')))
const names = await run(pipe(User.query, User.select('id', 'name'), User.all(db))) // { id, name }[]
const howMany = await run(pipe(User.query, User.where(User.or({ name: 'Ada' }, User.cond('email', 'like', '%@example.com'))), User.count(db)))
// -- end query
console.log(found._tag, active.map((u) => u.name), emails, names, howMany)

say('update: only changed columns are written; optimistic locking')
// -- update
const renamed = await run(User.update(db, ada, { name: 'Ada Lovelace' })) // UPDATE users SET display_name = ?, updated_at = ? WHERE ...
const post = await run(Post.create(db, { userId: ada.id, title: 'Notes', score: 10 })) // version 1
const edited = await run(Post.update(db, post, { title: 'Notes on the Engine' })) // version 2
const stale = await Post.update(db, post, { title: 'a lost update' })() // post still says version 1
console.log(stale._tag === 'Left' && stale.left._tag) // 'ConflictError': nothing was written
// -- end update
console.log(renamed.name, edited.version)

say('soft delete, restore, hooks that refuse')
// -- softdelete
await run(Post.delete(db, edited)) // sets deleted_at
const visible = await run(pipe(Post.query, Post.count(db))) // 0: the default scope hides it
const all = await run(pipe(Post.query, withDeleted, Post.count(db))) // 1
const [gone] = await run(pipe(Post.query, onlyDeleted, Post.all(db)))
await run(Post.restore(db, gone))
const popular = await run(Post.create(db, { userId: ada.id, title: 'Hit', score: 500 }))
const refused = await Post.delete(db, popular)() // Left(HookError): popular posts stay
// -- end softdelete
console.log(visible, all, refused._tag)

say('relations and transactions')
// -- relations
const withPosts = await run(pipe(Blog.User.query, Blog.User.include('posts', (q, P) => pipe(q, P.orderBy('score', 'desc'), P.limit(1))), Blog.User.all(db)))
console.log(withPosts.map((u) => [u.name, u.posts.map((p) => p.title)]))
const session = await run(db.transaction((tx) => Session.create(tx, { userId: ada.id }))) // a UUID key
// -- end relations
console.log(session.id)
await run(db.close())
