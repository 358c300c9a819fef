/**
 * Misuse reachable around the types is refused with a typed error naming what is wrong, whether
 * or not the query finds rows: a relation path that does not exist (include, load, inside a
 * modifier), and pages that are not whole numbers from 1.
 */
import { pipe } from 'fp-ts/lib/function.js'
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Backend, compose, type DbError, isDbError, run, sql } from 'recordkit'
import { sqlite } from 'recordkit/dialects/sqlite'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'
import { belongsTo, date, hasMany, model, nullable, relate } from 'recordkit/model'

const B = relate({
  User: model({ table: 'users', primaryKey: 'id', codec: t.type({ id: t.number, name: t.string }), relations: { posts: hasMany('Post', 'userId') } }),
  Post: model({ table: 'posts', primaryKey: 'id', codec: t.type({ id: t.number, userId: t.number, title: t.string }), relations: { user: belongsTo('User', 'userId') } }),
})

const fails = async <A>(te: TaskEither<DbError, A>): Promise<DbError> => {
  const r = await te()
  if (r._tag === 'Right') throw new Error(`expected a failure, got ${JSON.stringify(r.right)}`)
  return r.left
}

let db: Backend
beforeAll(async () => {
  db = compose(betterSqlite3({ filename: ':memory:' }), sqlite)
  await run(db.execute(sql`CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL)`))
  await run(db.execute(sql`CREATE TABLE posts (id INTEGER PRIMARY KEY, "userId" INTEGER NOT NULL, title TEXT NOT NULL)`))
})
afterAll(async () => { await run(db.close()) })

describe('a relation path that does not exist', () => {
  it('fails the query on an empty table too, naming the step and the relations there are', async () => {
    const e = await fails(pipe(B.User.query, B.User.include('likes' as never), B.User.all(db)))
    expect([e._tag, e.message]).toEqual(['QueryError', 'users has no relation "likes" (it has posts)'])
    const nested = await fails(pipe(B.User.query, B.User.include('posts.tags' as never), B.User.all(db)))
    expect(nested.message).toBe('posts has no relation "tags" (it has user)')
    const user = await run(B.User.create(db, { name: 'Ada' }))
    expect((await fails(B.User.load(db, user, 'posts.user.likes' as never))).message).toBe('users has no relation "likes" (it has posts)')
    const inModifier = await fails(pipe(B.User.query, B.User.include('posts', (q, P) => pipe(q, P.include('author' as never))), B.User.all(db)))
    expect(inModifier.message).toBe('posts has no relation "author" (it has user)')
  })

  it('a modifier that fails (an unknown field) fails the query instead of loading unfiltered rows', async () => {
    await run(B.Post.create(db, { userId: 1, title: 'Engines' }))
    const e = await fails(pipe(B.User.query, B.User.include('posts', (q, P) => pipe(q, P.where('score' as never, '>', 3 as never))), B.User.all(db)))
    expect([e._tag, e.message]).toEqual(['QueryError', 'posts has no field "score"'])
    const lazy = await fails(B.User.load(db, await run(B.User.findOrFail(db, 1)), 'posts', (q, P) => pipe(q, P.orderBy('score' as never))))
    expect(lazy.message).toBe('posts has no field "score"')
  })

  it('a path that exists still loads', async () => {
    const rows = await run(pipe(B.User.query, B.User.include('posts.user'), B.User.all(db)))
    expect(rows.map((u) => [u.name, u.posts.map((p) => [p.title, p.user.name])])).toEqual([['Ada', [['Engines', 'Ada']]]])
  })
})

describe('paginate', () => {
  it('takes whole numbers from 1; anything else is a ValidationError naming page or perPage', async () => {
    for (const [page, perPage, paths] of [[0, 10, ['page']], [1, 0, ['perPage']], [Number.NaN, 2.5, ['page', 'perPage']], [-1, Infinity, ['page', 'perPage']]] as const) {
      const e = await fails(pipe(B.User.query, B.User.paginate(db, { page, perPage })))
      expect(isDbError(e, 'ValidationError') && e.issues.map((i) => [i.path, i.rule])).toEqual(paths.map((p) => [p, 'positiveInteger']))
    }
    const e = await fails(pipe(B.User.query, B.User.paginate(db, { limit: 0, offset: -1 })))
    expect(isDbError(e, 'ValidationError') && e.issues.map((i) => [i.path, i.rule])).toEqual([['limit', 'positiveInteger'], ['offset', 'nonNegativeInteger']])
    expect(e.message).toBe('users: paginate: limit must be a whole number from 1, got 0; offset must be a whole number from 0, got -1')
    const ok = await run(pipe(B.User.query, B.User.paginate(db, { page: 1, perPage: 10 })))
    expect([ok.total, ok.pages, ok.rows.length]).toEqual([1, 1, 1])
  })
})

describe('a where value the field codec cannot encode', () => {
  it('is a ValidationError naming the field and the value, as a Left of the query', async () => {
    const E = model({ table: 'events', primaryKey: 'id', codec: t.type({ id: t.number, at: nullable(date) }) })
    for (const q of [pipe(E.query, E.where({ at: 'garbage' as never })), pipe(E.query, E.where('at', '>', 'garbage' as never))]) {
      const e = await fails(E.all(db)(q))
      expect(isDbError(e, 'ValidationError') && e.issues.map((i) => i.path)).toEqual(['at'])
      expect(e.message).toContain('events.at: cannot compare with "garbage"')
    }
  })
})

describe('the text operators of a model condition', () => {
  it("'contains', 'starts with' and 'ends with' match the text literally; a text that is not a string is a ValidationError", async () => {
    await run(db.execute(sql`INSERT INTO users (id, name) VALUES (10, '100% Ada'), (11, '100 Ada'), (12, 'Ada_B')`))
    const names = async (op: 'contains' | 'starts with' | 'ends with', text: string) =>
      (await run(pipe(B.User.query, B.User.where('name', op, text), B.User.orderBy('id'), B.User.all(db)))).map((u) => u.name)
    expect(await names('contains', '%')).toEqual(['100% Ada'])
    expect(await names('starts with', '100')).toEqual(['100% Ada', '100 Ada'])
    expect(await names('ends with', '_B')).toEqual(['Ada_B'])
    const e = await fails(pipe(B.User.query, B.User.where('name', 'contains', 5 as never), B.User.all(db)))
    expect(isDbError(e, 'ValidationError') && e.issues.map((i) => [i.path, i.rule])).toEqual([['name', 'string']])
    await run(db.execute(sql`DELETE FROM users WHERE id >= 10`))
  })
})
