/**
 * The model operations beyond reading and writing one row, on any backend: createMany's rows in
 * the order given with their generated keys, uniqueness rules, restore hooks, `in` lists longer
 * than a statement's usual share of parameters, atomic increment and decrement, manyToMany sync,
 * a row's related rows as a query, last and firstOrFail, the Promise face of a model, and
 * averages read as the double nearest the exact average.
 *
 * Every case goes through the public model API only; what SQL an engine is sent for it is the
 * dialect's business. A case that needs a feature asks the dialect for it.
 */
import { pipe } from 'fp-ts/lib/function.js'
import type * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import { describe, expect, it } from '../vitest.js'
import type { Backend } from '../../compose.js'
import { supports } from '../../dialect.js'
import { type DbError, isDbError } from '../../errors.js'
import { promised } from '../../promise.js'
import { extend } from '../../record.js'
import { sql } from '../../sql.js'
import {
  type Behaviour, belongsTo, date, hasMany, hookError, manyToMany, model, nullable, onlyDeleted, optimisticLock, promisedModel, promisedModels,
  relate, snakeCase, softDelete, unique, withDeleted,
} from '../../model/index.js'
import { exec, fails, ok, useBackend } from '../harness.js'
import type { CaseGroup } from '../target.js'

// ---------------------------------------------------------------- models under test

/**
 * The models of one target's run, with the list of hooks they ran (each target gets its own,
 * so two targets in one file never see each other's hooks).
 */
const modelsFor = () => {
  const seen: string[] = []
  const trace = (name: string) => <X>(x: X): TE.TaskEither<DbError, X> => {
    seen.push(name)
    return TE.right(x)
  }
  const tracer: Behaviour<{ title: string }> = {
    name: 'tracer',
    beforeUpdate: trace('b:beforeUpdate'),
    afterUpdate: trace('b:afterUpdate'),
    beforeRestore: trace('b:beforeRestore'),
    afterRestore: trace('b:afterRestore'),
  }
  const M = relate({
    Author: model({
      table: 'cf_mo_authors',
      primaryKey: 'id',
      naming: snakeCase,
      codec: t.type({ id: t.number, name: t.string, age: nullable(t.number) }),
      relations: { posts: hasMany('Post', 'authorId'), scores: hasMany('Score', 'authorId') },
    }),
    Post: model({
      table: 'cf_mo_posts',
      primaryKey: 'id',
      naming: snakeCase,
      codec: t.type({ id: t.number, authorId: t.number, title: t.string, views: t.number, version: t.number, deletedAt: nullable(date) }),
      defaults: ['views'],
      behaviours: [softDelete(), optimisticLock(), tracer],
      relations: {
        author: belongsTo('Author', 'authorId'),
        tags: manyToMany('Tag', { through: 'cf_mo_post_tags', from: 'post_id', to: 'tag_id' }),
      },
      hooks: {
        beforeRestore: (row, ctx) => {
          seen.push(`own:beforeRestore(${ctx.op}, deleted: ${row.deletedAt !== null})`)
          return row.title === 'locked' ? TE.left(hookError('beforeRestore', 'locked posts stay deleted')) : TE.right(row)
        },
        afterRestore: (row, ctx) => {
          seen.push(`own:afterRestore(${ctx.op}, deleted: ${row.deletedAt !== null})`)
          return row.title === 'undo' ? TE.left(hookError('afterRestore', 'changed my mind')) : TE.right(row)
        },
      },
    }),
    Tag: model({
      table: 'cf_mo_tags',
      primaryKey: 'id',
      codec: t.type({ id: t.number, name: t.string }),
      relations: { posts: manyToMany('Post', { through: 'cf_mo_post_tags', from: 'tag_id', to: 'post_id' }) },
    }),
    Score: model({ table: 'cf_mo_scores', primaryKey: 'id', naming: snakeCase, codec: t.type({ id: t.number, authorId: t.number, n: t.number }) }),
    Account: model({
      table: 'cf_mo_accounts',
      primaryKey: 'id',
      naming: snakeCase,
      codec: t.type({ id: t.number, email: t.string, nick: nullable(t.string), deletedAt: nullable(date) }),
      behaviours: [softDelete(), unique('email'), unique('nick', { message: 'pick another nick' })],
    }),
    Page: model({
      table: 'cf_mo_pages',
      primaryKey: 'id',
      codec: t.type({ id: t.number, site: t.number, slug: t.string }),
      behaviours: [unique('slug', { scope: ['site'] })],
    }),
  })
  return { seen, models: M }
}

// ---------------------------------------------------------------- helpers

const TABLES = ['cf_mo_post_tags', 'cf_mo_posts', 'cf_mo_tags', 'cf_mo_scores', 'cf_mo_authors', 'cf_mo_accounts', 'cf_mo_pages']

const clear = async (db: Backend): Promise<void> => {
  for (const table of TABLES) await exec(db, `DELETE FROM ${db.dialect.quoteIdentifier(table)}`)
}

const countOf = async (db: Backend, table: string): Promise<number> => {
  const rows = await ok(db.all(sql`SELECT COUNT(*) AS n FROM ${sql.id(table)}`))
  return Number(rows[0].n)
}

/** The same backend with a smaller parameter limit (to see chunking). */
const withMaxParams = (db: Backend, maxParams: number): Backend =>
  extend(db, (_, base) => ({ dialect: extend(base.dialect, () => ({ maxParams })) }))

/** A ValidationError's issues as `path: rule`; any other error as its tag and message. */
const issuesOf = (e: DbError): string[] => (isDbError(e, 'ValidationError') ? e.issues.map((i) => `${i.path}: ${i.rule}`) : [e._tag, e.message])

/** Whether keys grow with the position of their rows. */
const ascending = (ids: readonly number[]): boolean => ids.every((id, i) => i === 0 || id > ids[i - 1])

// ---------------------------------------------------------------- cases

/**
 * The model-operation cases of the conformance kit (createMany order, uniqueness, increments,
 * long in-lists, the Promise face) for one target.
 * @example describe('model operations on my engine', () => modelOperationCases(myTarget))
 */
export const modelOperationCases: CaseGroup = (target) => {
  describe(`${target.name}: model operations`, () => {
    const db = useBackend(target, (c) => ({
      cf_mo_authors: `id ${c.id}, name ${c.varchar(100)} NOT NULL, age ${c.int}`,
      cf_mo_posts: `id ${c.id}, author_id ${c.int} NOT NULL, title ${c.varchar(200)} NOT NULL, views ${c.int} NOT NULL DEFAULT 0, version ${c.int} NOT NULL, deleted_at ${c.timestamptz}`,
      cf_mo_tags: `id ${c.id}, name ${c.varchar(50)} NOT NULL UNIQUE`,
      cf_mo_post_tags: `post_id ${c.int} NOT NULL, tag_id ${c.int} NOT NULL, PRIMARY KEY (post_id, tag_id)`,
      cf_mo_scores: `id ${c.id}, author_id ${c.int} NOT NULL, n ${c.int} NOT NULL`,
      cf_mo_accounts: `id ${c.id}, email ${c.varchar(100)} NOT NULL UNIQUE, nick ${c.varchar(50)} UNIQUE, deleted_at ${c.timestamptz}`,
      cf_mo_pages: `id ${c.id}, site ${c.int} NOT NULL, slug ${c.varchar(50)} NOT NULL, UNIQUE (site, slug)`,
    }))
    const { seen, models: M } = modelsFor()
    const { Author, Post, Tag, Score, Account, Page } = M

    /** Three authors (Cy without an age) and three posts, two of them Ada's. */
    const seed = async () => {
      const [ada, bob, cy] = await ok(Author.createMany(db(), [{ name: 'Ada', age: 36 }, { name: 'Bob', age: 17 }, { name: 'Cy', age: null }]))
      const posts = await ok(Post.createMany(db(), [
        { authorId: ada.id, title: 'Engines' },
        { authorId: ada.id, title: 'Notes', views: 10 },
        { authorId: bob.id, title: 'Hello' },
      ]))
      return { ada, bob, cy, posts }
    }

    describe('createMany returns the rows in the order given, each with its own generated key', () => {
      it('1,300 rows setting different fields: the n-th row returned is the stored row of the n-th input', async () => {
        await clear(db())
        const { ada } = await seed()
        // Rows giving views and rows leaving it out (or undefined), interleaved, 650 of each: the rows
        // come back in the order given, keys growing with it, whatever statements the engine was sent.
        const inputs = Array.from({ length: 1300 }, (_, i) => (i % 2 === 0 ? { authorId: ada.id, title: `p${i}`, views: i } : i % 4 === 1 ? { authorId: ada.id, title: `p${i}` } : { authorId: ada.id, title: `p${i}`, views: undefined }))
        const rows = await ok(Post.createMany(db(), inputs))
        expect(rows.map((r) => [r.title, r.views])).toEqual(inputs.map((x, i) => [x.title, i % 2 === 0 ? i : 0]))
        expect(new Set(rows.map((r) => r.id)).size).toBe(1300)
        expect(ascending(rows.map((r) => r.id))).toBe(true)
        const stored = await ok(pipe(Post.query, Post.where('title', 'like', 'p%'), Post.orderBy('id'), Post.all(db())))
        expect(stored).toEqual([...rows].sort((a, b) => a.id - b.id))
      })

      it('in chunks below maxParams, and through the overridden create of an extended model', async () => {
        await clear(db())
        const { ada } = await seed()
        const small = withMaxParams(db(), 12)
        const inputs = Array.from({ length: 40 }, (_, i) => (i % 4 === 0 ? { authorId: ada.id, title: `c${i}`, views: 100 + i } : { authorId: ada.id, title: `c${i}` }))
        const rows = await ok(Post.createMany(small, inputs))
        expect(rows.map((r) => [r.title, r.views])).toEqual(inputs.map((x) => [x.title, x.views ?? 0]))
        for (const r of rows) expect(await ok(Post.findOrFail(db(), r.id))).toEqual(r)
        // A model whose create is overridden creates each row through it, in the same order.
        const created: string[] = []
        const Logged = extend(Post, (_, base) => ({
          create: (d: Backend, input: never) => {
            created.push((input as { title: string }).title)
            return base.create(d, input)
          },
        }) as never) as typeof Post
        const more = await ok(Logged.createMany(db(), [{ authorId: ada.id, title: 'x1' }, { authorId: ada.id, title: 'x2', views: 2 }, { authorId: ada.id, title: 'x3' }]))
        expect(created).toEqual(['x1', 'x2', 'x3'])
        expect(more.map((r) => [r.title, r.views])).toEqual([['x1', 0], ['x2', 2], ['x3', 0]])
        for (const r of more) expect(await ok(Post.findOrFail(db(), r.id))).toEqual(r)
      })
    })

    describe('uniqueness rules: a ValidationError at the field, nothing written', () => {
      it('create: a taken value is refused at its field, with the rule and its message; NULL is no duplicate', async () => {
        await clear(db())
        await ok(Account.create(db(), { email: 'ada@x.io', nick: 'ada' }))
        const e = await fails(Account.create(db(), { email: 'ada@x.io', nick: 'ada' }))
        expect(issuesOf(e)).toEqual(['email: unique', 'nick: unique'])
        expect(isDbError(e, 'ValidationError') && e.issues.map((i) => i.message)).toEqual(['email is already taken', 'pick another nick'])
        expect(await countOf(db(), 'cf_mo_accounts')).toBe(1)
        await ok(Account.create(db(), { email: 'bob@x.io', nick: null }))
        await ok(Account.create(db(), { email: 'cy@x.io', nick: null }))
        expect(await countOf(db(), 'cf_mo_accounts')).toBe(3)
      })

      it('a soft-deleted row still holds its value, as the unique index does', async () => {
        await clear(db())
        const ada = await ok(Account.create(db(), { email: 'ada@x.io' }))
        await ok(Account.delete(db(), ada))
        expect(issuesOf(await fails(Account.create(db(), { email: 'ada@x.io' })))).toEqual(['email: unique'])
        expect(await ok(pipe(Account.query, withDeleted, Account.count(db())))).toBe(1)
      })

      it('scope: a value is taken only among the rows of the same scope values', async () => {
        await clear(db())
        await ok(Page.create(db(), { site: 1, slug: 'home' }))
        await ok(Page.create(db(), { site: 2, slug: 'home' }))
        const e = await fails(Page.create(db(), { site: 1, slug: 'home' }))
        expect(issuesOf(e)).toEqual(['slug: unique'])
        expect(isDbError(e, 'ValidationError') && e.issues[0].message).toBe('slug is already taken for this site')
        expect(await countOf(db(), 'cf_mo_pages')).toBe(2)
      })

      it("update: another row's value is refused (a scope field moved too); the row's own value is no duplicate", async () => {
        await clear(db())
        const [ada, bob] = await ok(Account.createMany(db(), [{ email: 'ada@x.io' }, { email: 'bob@x.io' }]))
        expect(issuesOf(await fails(Account.update(db(), bob, { email: 'ada@x.io' })))).toEqual(['email: unique'])
        expect(await ok(Account.update(db(), ada, { email: 'ada@x.io', nick: 'a' }))).toMatchObject({ email: 'ada@x.io', nick: 'a' })
        expect((await ok(Account.findOrFail(db(), bob.id))).email).toBe('bob@x.io')
        const [home1, home2] = await ok(Page.createMany(db(), [{ site: 1, slug: 'home' }, { site: 2, slug: 'home' }]))
        expect(issuesOf(await fails(Page.update(db(), home2, { site: 1 })))).toEqual(['slug: unique'])
        expect((await ok(Page.update(db(), home1, { slug: 'start' }))).slug).toBe('start')
        expect(await ok(pipe(Page.query, Page.orderBy('id'), Page.pluck(db(), 'site')))).toEqual([1, 2])
      })

      /** Whether the table's unique index refuses `email` beside the rows stored now: the engine's own comparison. */
      const indexRefuses = async (email: string): Promise<boolean> => {
        const probe = { _tag: 'Probe' as const }
        const r = await db().transaction((tx) => pipe(
          tx.execute(sql`INSERT INTO ${sql.id('cf_mo_accounts')} (${sql.id('email')}) VALUES (${email})`),
          TE.chainW(() => TE.left(probe)),
        ))()
        return r._tag === 'Left' && r.left !== probe && isDbError(r.left, 'UniqueViolation')
      }
      /** A write's outcome: the issues of its ValidationError, its error's tag and message, or 'written' (and the rows it wrote deleted). */
      const outcome = async (r: E.Either<DbError, unknown>): Promise<string | string[]> => {
        if (r._tag === 'Left') return issuesOf(r.left)
        for (const row of [r.right].flat() as { id: number; email: string; nick: string | null; deletedAt: Date | null }[]) await ok(Account.delete(db(), row, { force: true }))
        return 'written'
      }
      // Another case, accents, a trailing space: whether each is the same value is the engine's collation's to say.
      const VARIANTS = ['ADA@x.io', 'ádá@x.io', 'ada@x.io ']

      it("create and update: a value the engine's unique index holds equal to a stored one (its collation) is taken", async () => {
        await clear(db())
        await ok(Account.create(db(), { email: 'ada@x.io' }))
        const bob = await ok(Account.create(db(), { email: 'bob@x.io' }))
        for (const v of VARIANTS) {
          const refused = await indexRefuses(v)
          expect([v, await outcome(await Account.create(db(), { email: v })())]).toEqual([v, refused ? ['email: unique'] : 'written'])
          const moved = await Account.update(db(), bob, { email: v })()
          expect([v, moved._tag === 'Left' ? issuesOf(moved.left) : 'written']).toEqual([v, refused ? ['email: unique'] : 'written'])
        }
        expect(await countOf(db(), 'cf_mo_accounts')).toBe(2)
      })

      it('createMany: a stored value and a value repeated in the batch, each at its row; nothing written', async () => {
        await clear(db())
        await ok(Account.create(db(), { email: 'ada@x.io' }))
        const batch = [{ email: 'bob@x.io' }, { email: 'ada@x.io' }, { email: 'cy@x.io', nick: 'c' }, { email: 'bob@x.io', nick: 'c' }]
        expect(issuesOf(await fails(Account.createMany(db(), batch)))).toEqual(['rows.1.email: unique', 'rows.3.email: unique', 'rows.3.nick: unique'])
        expect(issuesOf(await fails(Account.createMany(db(), batch, { returning: false })))).toEqual(['rows.1.email: unique', 'rows.3.email: unique', 'rows.3.nick: unique'])
        expect(await countOf(db(), 'cf_mo_accounts')).toBe(1)
        expect(await ok(Account.createMany(db(), [{ email: 'bob@x.io' }, { email: 'cy@x.io' }], { returning: false }))).toBe(2)
      })
    })

    describe('restore runs its own hooks', () => {
      it('beforeRestore and afterRestore run (behaviours first, not the update hooks); the row comes back as stored', async () => {
        await clear(db())
        const { posts } = await seed()
        const gone = await ok(Post.delete(db(), posts[0]))
        seen.length = 0
        const back = await ok(Post.restore(db(), gone))
        expect(seen).toEqual(['b:beforeRestore', 'own:beforeRestore(restore, deleted: true)', 'b:afterRestore', 'own:afterRestore(restore, deleted: false)'])
        expect([back.deletedAt, back.version]).toEqual([null, gone.version + 1])
        expect(await ok(Post.findOrFail(db(), back.id))).toEqual(back)
      })

      it('a Left from beforeRestore writes nothing; a Left from afterRestore rolls the restore back', async () => {
        await clear(db())
        const { ada } = await seed()
        const [locked, undo] = await ok(Post.createMany(db(), [{ authorId: ada.id, title: 'locked' }, { authorId: ada.id, title: 'undo' }]))
        const lockedGone = await ok(Post.delete(db(), locked))
        const undoGone = await ok(Post.delete(db(), undo))
        const refused = await fails(Post.restore(db(), lockedGone))
        expect([refused._tag, refused.message]).toEqual(['HookError', 'beforeRestore: locked posts stay deleted'])
        const undone = await fails(Post.restore(db(), undoGone))
        expect([undone._tag, undone.message]).toEqual(['HookError', 'afterRestore: changed my mind'])
        const still = await ok(pipe(Post.query, onlyDeleted, Post.orderBy('id'), Post.all(db())))
        expect(still).toEqual([lockedGone, undoGone])
      })

      it("inside a caller's transaction, a restore its afterRestore refuses is undone and the transaction goes on", async (ctx) => {
        // Undoing one write inside a transaction takes a savepoint.
        if (!supports(db().dialect, 'savepoint')) ctx.skip()
        await clear(db())
        const { ada } = await seed()
        const undoGone = await ok(Post.delete(db(), await ok(Post.create(db(), { authorId: ada.id, title: 'undo' }))))
        const outcome = await ok(db().transaction((tx) => async () => {
          const r = await Post.restore(tx, undoGone)()
          const other = await Post.create(tx, { authorId: ada.id, title: 'after' })()
          return { _tag: 'Right' as const, right: [r._tag, other._tag] }
        }))
        expect(outcome).toEqual(['Left', 'Right'])
        expect((await fails(Post.findOrFail(db(), undoGone.id)))._tag).toBe('NotFound')
        expect(await ok(pipe(Post.query, onlyDeleted, Post.all(db())))).toEqual([undoGone])
        expect(await ok(pipe(Post.query, Post.where('title', '=', 'after'), Post.count(db())))).toBe(1)
      })
    })

    describe('in lists of any length', () => {
      it('5,000 ids: all, count, pluck, not in, updateWhere and deleteWhere match what a short list matches', async () => {
        await clear(db())
        const authors = await ok(Author.createMany(db(), Array.from({ length: 6 }, (_, i) => ({ name: `a${i}`, age: i }))))
        const wanted = [authors[1].id, authors[3].id, authors[4].id]
        // Ids no author has, then the wanted ones, then duplicates of them.
        const top = Math.max(...authors.map((a) => a.id))
        const ids = [...Array.from({ length: 4994 }, (_, i) => top + 1 + i), ...wanted, ...wanted]
        expect(ids.length).toBe(5000)
        const names = (await ok(pipe(Author.query, Author.where('id', 'in', wanted), Author.orderBy('id'), Author.pluck(db(), 'name'))))
        expect(names).toEqual(['a1', 'a3', 'a4'])
        expect(await ok(pipe(Author.query, Author.where('id', 'in', ids), Author.orderBy('id'), Author.pluck(db(), 'name')))).toEqual(names)
        expect(await ok(pipe(Author.query, Author.where('id', 'in', ids), Author.count(db())))).toBe(3)
        expect(await ok(pipe(Author.query, Author.where({ id: ids }), Author.exists(db())))).toBe(true)
        expect(await ok(pipe(Author.query, Author.where('id', 'not in', ids), Author.orderBy('id'), Author.pluck(db(), 'name')))).toEqual(['a0', 'a2', 'a5'])
        expect(await ok(Author.updateWhere(db(), Author.cond('id', 'in', ids), { age: 99 }))).toBe(3)
        expect(await ok(pipe(Author.query, Author.where('age', '=', 99), Author.orderBy('id'), Author.pluck(db(), 'name')))).toEqual(names)
        expect(await ok(Author.deleteWhere(db(), { id: ids }))).toBe(3)
        expect(await ok(pipe(Author.query, Author.orderBy('id'), Author.pluck(db(), 'name')))).toEqual(['a0', 'a2', 'a5'])
      })

      it('5,000 values holding a NULL, and 5,000 instants: the rows a short list of the same values gives', async () => {
        await clear(db())
        const { ada, cy, posts } = await seed()
        const padding = Array.from({ length: 4998 }, (_, i) => 1000 + i)
        const ages = (list: readonly (number | null)[], op: 'in' | 'not in') => pipe(Author.query, Author.where('age', op, list), Author.orderBy('id'), Author.pluck(db(), 'name'))
        for (const op of ['in', 'not in'] as const) {
          const short = await ok(ages([36, null], op))
          expect(await ok(ages([...padding, 36, null], op))).toEqual(short)
        }
        // A null in the list stands for NULL (Cy's age), as `eq(col, null)` does; NOT IN leaves both out.
        expect(await ok(ages([36, null], 'in'))).toEqual(['Ada', 'Cy'])
        expect(await ok(ages([36, null], 'not in'))).toEqual(['Bob'])
        expect(cy.age).toBeNull()
        // Instants: the deletion times of two posts among 4,998 others.
        const gone = [await ok(Post.delete(db(), posts[0])), await ok(Post.delete(db(), posts[2]))]
        const times = gone.map((p) => p.deletedAt!)
        const others = Array.from({ length: 4998 }, (_, i) => new Date(Date.UTC(2001, 0, 1, 0, 0, 0, i)))
        const deletedAt = (list: readonly Date[]) => pipe(Post.query, withDeleted, Post.where('deletedAt', 'in', list), Post.orderBy('id'), Post.pluck(db(), 'title'))
        expect(await ok(deletedAt(times))).toEqual(['Engines', 'Hello'])
        expect(await ok(deletedAt([...others, ...times]))).toEqual(['Engines', 'Hello'])
        expect(ada.name).toBe('Ada')
      })

      it('5,000 texts, quotes, backslashes and other scripts among them, as a short list matches them', async () => {
        await clear(db())
        const odd = ["it's", 'back\\slash', 'ünï €', '%_like', 'tab\there', '"quoted"', '日本語']
        const tags = await ok(Tag.createMany(db(), [...odd, 'plain'].map((name) => ({ name }))))
        const list = [...Array.from({ length: 5000 - odd.length }, (_, i) => `absent ${i}`), ...odd]
        const short = await ok(pipe(Tag.query, Tag.where('name', 'in', odd), Tag.orderBy('id'), Tag.pluck(db(), 'name')))
        expect(short).toEqual(odd)
        expect(await ok(pipe(Tag.query, Tag.where('name', 'in', list), Tag.orderBy('id'), Tag.pluck(db(), 'name')))).toEqual(short)
        expect(await ok(pipe(Tag.query, Tag.where('name', 'not in', list), Tag.pluck(db(), 'name')))).toEqual(['plain'])
        expect(tags.length).toBe(8)
      })
    })

    describe('increment and decrement are atomic', () => {
      it('adds in the database (a stale copy adds, never overwrites), with the version; refuses NaN, a key, a gone row', async () => {
        await clear(db())
        const { posts } = await seed()
        const copy = posts[1]
        seen.length = 0
        const once = await ok(Post.increment(db(), copy, 'views'))
        const twice = await ok(Post.increment(db(), copy, 'views', 5))
        expect([once.views, twice.views]).toEqual([11, 16])
        expect(twice.version).toBe(copy.version + 2)
        // No update hooks run.
        expect(seen).toEqual([])
        expect((await ok(Post.decrement(db(), copy, 'views', 6))).views).toBe(10)
        expect((await ok(Post.decrement(db(), copy, 'views'))).views).toBe(9)
        expect((await fails(Post.increment(db(), copy, 'views', Number.NaN)))._tag).toBe('ValidationError')
        expect(issuesOf(await fails(Post.increment(db(), copy, 'id' as never)))).toEqual(['id: increment'])
        expect((await ok(Post.findOrFail(db(), copy.id))).views).toBe(9)
        const gone = await ok(Post.delete(db(), await ok(Post.findOrFail(db(), copy.id))))
        expect((await fails(Post.increment(db(), gone, 'views')))._tag).toBe('NotFound')
      })

      it('twenty increments at once from the same copy: every one counts', async () => {
        await clear(db())
        const { posts } = await seed()
        const copy = posts[0]
        const results = await Promise.all(Array.from({ length: 20 }, () => Post.increment(db(), copy, 'views')()))
        expect(results.every((r) => r._tag === 'Right')).toBe(true)
        const stored = await ok(Post.findOrFail(db(), copy.id))
        expect([stored.views, stored.version]).toEqual([copy.views + 20, copy.version + 20])
      })
    })

    describe('manyToMany sync', () => {
      it('makes the links exactly the targets given: inserts the missing, deletes the others, keeps the rest', async () => {
        await clear(db())
        const { posts } = await seed()
        const [red, green, blue] = await ok(Tag.createMany(db(), [{ name: 'red' }, { name: 'green' }, { name: 'blue' }]))
        const p = posts[0]
        const tagsOf = async () => (await ok(Post.load(db(), p, 'tags'))).tags.map((x) => x.name).sort()
        expect(await ok(Post.sync(db(), p, 'tags', [red, green]))).toEqual({ attached: 2, detached: 0 })
        expect(await tagsOf()).toEqual(['green', 'red'])
        // A target given twice, once as an object holding only its key, is one link.
        expect(await ok(Post.sync(db(), p, 'tags', [green, blue, { id: blue.id }]))).toEqual({ attached: 1, detached: 1 })
        expect(await tagsOf()).toEqual(['blue', 'green'])
        expect(await ok(Post.sync(db(), p, 'tags', [blue, green]))).toEqual({ attached: 0, detached: 0 })
        // Another post's links are left alone.
        await ok(Post.attach(db(), posts[1], 'tags', [red, blue]))
        expect(await ok(Post.sync(db(), p, 'tags', []))).toEqual({ attached: 0, detached: 2 })
        expect(await tagsOf()).toEqual([])
        expect(await countOf(db(), 'cf_mo_post_tags')).toBe(2)
        // A target without its key is a ValidationError naming it; nothing written.
        await ok(Post.sync(db(), p, 'tags', [red]))
        const bad = await fails(Post.sync(db(), p, 'tags', [green, {}]))
        expect(isDbError(bad, 'ValidationError') && bad.issues.map((i) => i.path)).toEqual(['targets.1.id'])
        expect(await tagsOf()).toEqual(['red'])
      })
    })

    describe("a row's related rows, last and firstOrFail", () => {
      it('related(row, relation) is a query of the target: narrowed, counted, paged; its default scope applies', async () => {
        await clear(db())
        const { ada, cy, posts } = await seed()
        const [red, green] = await ok(Tag.createMany(db(), [{ name: 'red' }, { name: 'green' }]))
        await ok(Post.attach(db(), posts[0], 'tags', [red, green]))
        await ok(Post.attach(db(), posts[1], 'tags', [green]))
        expect(await ok(pipe(Author.related(ada, 'posts'), Post.orderBy('title'), Post.pluck(db(), 'title')))).toEqual(['Engines', 'Notes'])
        expect(await ok(pipe(Author.related(ada, 'posts'), Post.where('views', '>', 5), Post.count(db())))).toBe(1)
        expect(await ok(pipe(Author.related(cy, 'posts'), Post.count(db())))).toBe(0)
        expect(await ok(pipe(Post.related(posts[2], 'author'), Author.pluck(db(), 'name')))).toEqual(['Bob'])
        expect(await ok(pipe(Post.related(posts[0], 'tags'), Tag.orderBy('name'), Tag.pluck(db(), 'name')))).toEqual(['green', 'red'])
        const page = await ok(pipe(Tag.related(green, 'posts'), Post.orderBy('id'), Post.paginate(db(), { page: 1, perPage: 1 })))
        expect([page.total, page.rows.map((p) => p.title)]).toEqual([2, ['Engines']])
        await ok(Post.delete(db(), posts[0]))
        expect(await ok(pipe(Author.related(ada, 'posts'), Post.pluck(db(), 'title')))).toEqual(['Notes'])
        expect(await ok(pipe(Tag.related(red, 'posts'), Post.count(db())))).toBe(0)
      })

      it('last reverses the order (direction and NULLS placement), or takes the greatest key; firstOrFail is the first row or NotFound', async () => {
        await clear(db())
        const { ada, cy } = await seed()
        const name = (o: O.Option<{ readonly name: string }>) => (O.isSome(o) ? o.value.name : null)
        expect(name(await ok(pipe(Author.query, Author.orderBy('name'), Author.last(db()))))).toBe('Cy')
        expect(name(await ok(pipe(Author.query, Author.orderBy('name', 'desc'), Author.last(db()))))).toBe('Ada')
        expect(name(await ok(pipe(Author.query, Author.last(db()))))).toBe('Cy')
        // Cy's age is NULL: wherever the order puts NULLs, last puts them at the other end.
        expect(name(await ok(pipe(Author.query, Author.orderBy('age', 'asc', 'last'), Author.last(db()))))).toBe('Cy')
        expect(name(await ok(pipe(Author.query, Author.orderBy('age', 'asc', 'first'), Author.last(db()))))).toBe('Ada')
        expect(name(await ok(pipe(Author.query, Author.orderBy('age', 'desc', 'last'), Author.last(db()))))).toBe('Cy')
        expect(name(await ok(pipe(Author.query, Author.orderBy('age', 'desc', 'first'), Author.last(db()))))).toBe('Bob')
        expect(await ok(pipe(Author.query, Author.where('age', '>', 100), Author.last(db())))).toEqual(O.none)
        expect(await ok(pipe(Author.query, Author.where({ name: 'Ada' }), Author.firstOrFail(db())))).toEqual(ada)
        expect(await ok(pipe(Author.query, Author.orderBy('id', 'desc'), Author.firstOrFail(db())))).toEqual(cy)
        const none = await fails(pipe(Author.query, Author.where({ name: 'Nobody' }), Author.firstOrFail(db())))
        expect([none._tag, isDbError(none, 'NotFound') && none.table]).toEqual(['NotFound', 'cf_mo_authors'])
      })
    })

    describe('the Promise face of a model', () => {
      it('the same operations resolve to the value (undefined for no row) or reject with the DbError', async () => {
        await clear(db())
        const P = promisedModels(M)
        const Authors = promisedModel(Author)
        const [ada, bob] = await Authors.createMany(db(), [{ name: 'Ada', age: 36 }, { name: 'Bob', age: null }])
        expect(await Authors.find(db(), ada.id)).toEqual(ada)
        expect(await Authors.find(db(), bob.id + 1000)).toBeUndefined()
        await expect(Authors.findOrFail(db(), bob.id + 1000)).rejects.toMatchObject({ _tag: 'NotFound' })
        expect((await pipe(Author.query, Author.orderBy('name'), Authors.last(db())))?.name).toBe('Bob')
        expect(await pipe(Author.query, Author.where('age', '>', 100), Authors.last(db()))).toBeUndefined()
        await expect(pipe(Author.query, Author.where('age', '>', 100), Authors.firstOrFail(db()))).rejects.toMatchObject({ _tag: 'NotFound' })
        const post = await P.Post.create(db(), { authorId: ada.id, title: 'Notes', views: 10 })
        expect((await P.Post.increment(db(), post, 'views', 2)).views).toBe(12)
        expect((await P.Post.decrement(db(), post, 'views')).views).toBe(11)
        const [red] = await P.Tag.createMany(db(), [{ name: 'red' }])
        expect(await P.Post.sync(db(), post, 'tags', [red])).toEqual({ attached: 1, detached: 0 })
        expect(await pipe(Post.related(post, 'tags'), P.Tag.pluck(db(), 'name'))).toEqual(['red'])
        await expect(P.Account.create(db(), { email: 'a@x.io' }).then(() => P.Account.create(db(), { email: 'a@x.io' }))).rejects.toMatchObject({ _tag: 'ValidationError' })
        // A rejected Promise transaction rolls back what the models wrote in it.
        const refused = await promised(db()).transaction(async (tx) => {
          await Authors.create(tx, { name: 'Rolled back', age: 1 })
          throw new Error('abort')
        }).then(() => 'committed', (e: Error) => e.message)
        expect(refused).toBe('abort')
        expect(await pipe(Author.query, Author.where({ name: 'Rolled back' }), Authors.count(db()))).toBe(0)
        expect(await pipe(Author.query, Authors.count(db()))).toBe(2)
      })
    })

    describe('averages read as the double nearest the exact average', () => {
      it('avg of integers summing to 25 over 11 rows is 25 / 11, through avg, aggregate and withAvg; no rows is null', async () => {
        await clear(db())
        const [owner, other] = await ok(Author.createMany(db(), [{ name: 'Owner', age: null }, { name: 'Other', age: null }]))
        const values = [1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 0]
        await ok(Score.createMany(db(), values.map((n) => ({ authorId: owner.id, n })), { returning: false }))
        const exact = 25 / 11
        expect(exact).toBe(2.272727272727273)
        expect(await ok(pipe(Score.query, Score.avg(db(), 'n')))).toBe(exact)
        const [group] = await ok(pipe(Score.query, Score.groupBy('authorId'), Score.aggregate(db(), (a) => ({ mean: a.avg('n') }))))
        expect(group.mean).toBe(exact)
        const withAvg = await ok(pipe(Author.query, Author.withAvg('scores', 'n'), Author.orderBy('id'), Author.all(db())))
        expect(withAvg.map((a) => [a.name, a.scoresAvgN])).toEqual([['Owner', exact], ['Other', null]])
        expect(await ok(pipe(Score.query, Score.where('authorId', '=', other.id), Score.avg(db(), 'n')))).toBeNull()
        // Two thirds, and a negative average, are the doubles nearest them too.
        await ok(Score.createMany(db(), [{ authorId: other.id, n: 1 }, { authorId: other.id, n: 0 }, { authorId: other.id, n: 1 }]))
        expect(await ok(pipe(Score.query, Score.where('authorId', '=', other.id), Score.avg(db(), 'n')))).toBe(2 / 3)
        await ok(Score.updateWhere(db(), { authorId: other.id }, { n: -1 }))
        await ok(Score.create(db(), { authorId: other.id, n: -4 }))
        expect(await ok(pipe(Score.query, Score.where('authorId', '=', other.id), Score.avg(db(), 'n')))).toBe(-7 / 4)
      })
    })
  })
}
