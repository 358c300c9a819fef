/**
 * Writes Rails' and Django's users expect of a model, third pass, on SQLite, PostgreSQL and
 * MariaDB: `touch` (Rails' `touch`), `incrementWhere` / `decrementWhere` (Rails'
 * `update_counters`, Django's `update(n=F('n') + 1)`).
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { right } from 'fp-ts/lib/Either.js'
import { type Backend, sql } from 'recordkit'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { date, hookError, model, nullable, optimisticLock, promisedModel, rule, softDelete, timestamps, unique } from 'recordkit/model'
import { ok } from 'recordkit/testing'
import { ENGINES, engineTables } from './support/engine-tables.js'

let clock = new Date(Date.UTC(2024, 0, 1, 9, 0, 0, 0))
const now = () => clock

const Post = model({
  table: 'm3w_posts',
  primaryKey: 'id',
  codec: t.type({
    id: t.number, title: t.string, views: nullable(t.number), score: t.number, checkedAt: nullable(date),
    createdAt: date, updatedAt: date, deletedAt: nullable(date), version: t.number,
  }),
  columns: { checkedAt: 'checked_at', createdAt: 'created_at', updatedAt: 'updated_at', deletedAt: 'deleted_at' },
  behaviours: [timestamps({ now }), softDelete({ now }), optimisticLock()],
})

/** Settings keyed by user and key; `racer` inserts the row another writer creates just before this model's INSERT. */
let racer: { db: Backend; done: boolean } | undefined
const Setting = model({
  table: 'm3w_settings',
  primaryKey: 'id',
  codec: t.type({ id: t.number, userId: t.number, key: t.string, value: t.string, createdAt: date, updatedAt: date }),
  columns: { userId: 'user_id', createdAt: 'created_at', updatedAt: 'updated_at' },
  behaviours: [timestamps({ now })],
  validators: [rule('value', 'notBlank', (s) => (s.value ?? 'x') !== '', 'a value is required')],
  hooks: {
    beforeInsert: (values) => async () => {
      if (racer !== undefined && !racer.done) {
        racer.done = true
        const other = await racer.db.execute(sql`INSERT INTO m3w_settings (user_id, ${sql.id('key')}, value, created_at, updated_at) VALUES (1, 'lang', 'fr', ${at(0)}, ${at(0)})`)()
        if (other._tag === 'Left') return other
      }
      return right(values)
    },
  },
})

/** The settings again, with the uniqueness checked before the insert (a ValidationError, rule unique). */
const CheckedSetting = model({
  table: 'm3w_settings',
  primaryKey: 'id',
  codec: Setting.codec,
  columns: { userId: 'user_id', createdAt: 'created_at', updatedAt: 'updated_at' },
  behaviours: [timestamps({ now }), unique('key', { scope: ['userId'] })],
})

/** Settings whose hooks log their order; beforeSave trims the value, afterSave refuses a value of 'undo'. */
const log: string[] = []
const logged = (name: string) => <X>(v: X) => {
  log.push(name)
  return TE.right(v)
}
const HookedSetting = model({
  table: 'm3w_settings',
  primaryKey: 'id',
  codec: Setting.codec,
  columns: { userId: 'user_id', createdAt: 'created_at', updatedAt: 'updated_at' },
  behaviours: [timestamps({ now })],
  hooks: {
    beforeValidate: logged('beforeValidate'),
    afterValidate: logged('afterValidate'),
    beforeSave: (v, ctx) => {
      log.push(`beforeSave(${ctx.op})`)
      return TE.right(typeof v.value === 'string' ? { ...v, value: v.value.trim() } : v)
    },
    beforeInsert: logged('beforeInsert'),
    afterInsert: logged('afterInsert'),
    beforeUpdate: logged('beforeUpdate'),
    afterUpdate: logged('afterUpdate'),
    afterSave: (row, ctx) => {
      log.push(`afterSave(${ctx.op})`)
      return row.value === 'undo' ? TE.left(hookError('afterSave', 'undone')) : TE.right(row)
    },
  },
})

/** The same table without timestamps: nothing to touch but the fields named. */
const Bare = model({
  table: 'm3w_posts',
  primaryKey: 'id',
  codec: t.type({ id: t.number, title: t.string, views: nullable(t.number), score: t.number, checkedAt: nullable(date) }),
  columns: { checkedAt: 'checked_at' },
})

const ddl = (engine: string): string[] => {
  const stamp = engine === 'postgres' ? 'TIMESTAMP(3)' : engine === 'mariadb' ? 'DATETIME(3)' : 'TEXT'
  return [
    `CREATE TABLE m3w_settings (id ${engine === 'postgres' ? 'SERIAL' : engine === 'mariadb' ? 'INTEGER AUTO_INCREMENT' : 'INTEGER'} PRIMARY KEY, user_id INTEGER NOT NULL, \`key\` VARCHAR(20) NOT NULL,
      value VARCHAR(20) NOT NULL, created_at ${stamp} NOT NULL, updated_at ${stamp} NOT NULL, UNIQUE (user_id, \`key\`))`.replace(/`/g, engine === 'mariadb' ? '`' : '"'),
    `CREATE TABLE m3w_posts (id INTEGER PRIMARY KEY, title VARCHAR(40) NOT NULL, views INTEGER, score INTEGER NOT NULL, checked_at ${stamp},
      created_at ${stamp} NOT NULL DEFAULT '2000-01-01 00:00:00', updated_at ${stamp} NOT NULL DEFAULT '2000-01-01 00:00:00', deleted_at ${stamp}, version INTEGER NOT NULL DEFAULT 1)`,
  ]
}

const at = (minutes: number) => new Date(Date.UTC(2024, 0, 1, 9, minutes, 0, 0))

for (const engine of ENGINES) {
  describe(`model writes, third pass, on ${engine.name}`, () => {
    const { use } = engineTables(engine, ['m3w_posts', 'm3w_settings'], ddl)
    const seeded = async (ctx: { skip: () => void }) => {
      const db = use(ctx)
      clock = at(0)
      await ok(Post.createMany(db, [
        { id: 1, title: 'a', views: 10, score: 1, checkedAt: null },
        { id: 2, title: 'b', views: null, score: 2, checkedAt: null },
        { id: 3, title: 'c', views: 5, score: 3, checkedAt: null },
      ]))
      return db
    }

    it('touch sets updatedAt and the fields named to now, bumps the version, runs on the stored row (Rails touch)', async (ctx) => {
      const db = await seeded(ctx)
      const post = await ok(Post.findOrFail(db, 1))
      clock = at(5)
      const touched = await ok(Post.touch(db, post))
      expect([touched.updatedAt, touched.createdAt, touched.version, touched.title]).toEqual([at(5), at(0), 2, 'a'])
      expect(await ok(Post.findOrFail(db, 1))).toEqual(touched)
      clock = at(7)
      const checked = await ok(Post.touch(db, touched, 'checkedAt'))
      expect([checked.checkedAt, checked.updatedAt, checked.version]).toEqual([at(7), at(7), 3])
      // The copy read before is stale: ConflictError, nothing written.
      await expect(ok(Post.touch(db, post))).rejects.toMatchObject({ _tag: 'ConflictError' })
      expect((await ok(Post.findOrFail(db, 1))).version).toBe(3)
      // A soft-deleted row is not touched.
      const deleted = await ok(Post.delete(db, checked))
      await expect(ok(Post.touch(db, deleted))).rejects.toMatchObject({ _tag: 'ConflictError' })
      await expect(ok(Bare.touch(db, { ...checked, id: 99 }, 'checkedAt'))).rejects.toMatchObject({ _tag: 'NotFound' })
      // A field that takes no time, the key, and a model with nothing to touch are refused.
      await expect(ok(Post.touch(db, post, 'title' as 'checkedAt'))).rejects.toMatchObject({ _tag: 'ValidationError', issues: [{ path: 'title', rule: 'touch' }] })
      await expect(ok(Bare.touch(db, await ok(Bare.findOrFail(db, 2))))).rejects.toMatchObject({ _tag: 'QueryError', message: expect.stringContaining('touch sets') })
      const bare = await ok(Bare.touch(db, await ok(Bare.findOrFail(db, 2)), 'checkedAt'))
      expect(bare.checkedAt).toBeInstanceOf(Date)
      expect(await promisedModel(Post).touch(db, await ok(Post.findOrFail(db, 3)))).toMatchObject({ id: 3, version: 2 })
    })

    it('incrementWhere adds to a counter of every matching row in one statement, NULL counting from 0 (Rails update_counters)', async (ctx) => {
      const db = await seeded(ctx)
      clock = at(9)
      expect(await ok(Post.incrementWhere(db, Post.cond('id', 'in', [1, 2]), 'views'))).toBe(2)
      expect(await ok(Post.incrementWhere(db, {}, 'score', 10))).toBe(3)
      expect(await ok(Post.decrementWhere(db, { id: 3 }, 'views', 2))).toBe(1)
      const rows = await ok(pipe(Post.query, Post.orderBy('id'), Post.all(db)))
      expect(rows.map((r) => [r.views, r.score, r.version, r.updatedAt])).toEqual([
        [11, 11, 3, at(9)], [1, 12, 3, at(9)], [3, 13, 3, at(9)],
      ])
      // A soft-deleted row is passed by.
      await ok(Post.delete(db, rows[2]))
      expect(await ok(Post.incrementWhere(db, {}, 'score'))).toBe(2)
      expect(await ok(pipe(Post.query, Post.orderBy('id'), Post.pluck(db, 'score')))).toEqual([12, 13])
      // Steps increment refuses are refused here too, naming the field; nothing written.
      await expect(ok(Post.incrementWhere(db, {}, 'score', Number.NaN))).rejects.toMatchObject({ _tag: 'ValidationError', issues: [{ path: 'score' }] })
      await expect(ok(Post.incrementWhere(db, {}, 'id'))).rejects.toMatchObject({ _tag: 'ValidationError', issues: [{ path: 'id' }] })
      await expect(ok(Post.incrementWhere(db, {}, 'title' as 'score'))).rejects.toMatchObject({ _tag: 'ValidationError', issues: [{ path: 'title' }] })
      await expect(ok(Post.incrementWhere(db, { id: undefined }, 'score'))).rejects.toMatchObject({ _tag: 'ValidationError' })
      expect(await ok(pipe(Post.query, Post.orderBy('id'), Post.pluck(db, 'score')))).toEqual([12, 13])
      expect(await promisedModel(Bare).incrementWhere(db, { id: 1 }, 'score', 3)).toBe(1)
    })

    it('updateOrCreate updates the row matching, or creates it from the match and the values (Django update_or_create)', async (ctx) => {
      const db = use(ctx)
      clock = at(1)
      const made = await ok(Setting.updateOrCreate(db, { userId: 1, key: 'theme' }, { value: 'dark' }))
      expect([made.created, made.row.userId, made.row.key, made.row.value, made.row.createdAt]).toEqual([true, 1, 'theme', 'dark', at(1)])
      clock = at(2)
      const changed = await ok(Setting.updateOrCreate(db, { userId: 1, key: 'theme' }, { value: 'light' }))
      expect([changed.created, changed.row.id, changed.row.value, changed.row.createdAt, changed.row.updatedAt]).toEqual([false, made.row.id, 'light', at(1), at(2)])
      await ok(Setting.updateOrCreate(db, { userId: 2, key: 'theme' }, { value: 'dark' }))
      expect(await ok(pipe(Setting.query, Setting.count(db)))).toBe(2)
      // The update runs the validators; several rows matching is refused; nothing written either way.
      await expect(ok(Setting.updateOrCreate(db, { userId: 1, key: 'theme' }, { value: '' }))).rejects.toMatchObject({ _tag: 'ValidationError', issues: [{ rule: 'notBlank' }] })
      await expect(ok(Setting.updateOrCreate(db, { key: 'theme' }, { value: 'x' }))).rejects.toMatchObject({ _tag: 'QueryError', message: expect.stringContaining('more than one') })
      await expect(ok(Setting.updateOrCreate(db, { userId: [1, 2] as unknown as number }, { value: 'x' }))).rejects.toMatchObject({ _tag: 'ValidationError', issues: [{ path: 'userId', rule: 'single' }] })
      expect(await ok(pipe(Setting.query, Setting.orderBy('id'), Setting.pluck(db, 'value')))).toEqual(['light', 'dark'])
      // Another writer creates the row between the read and the insert: theirs is updated.
      racer = { db, done: false }
      try {
        const raced = await ok(Setting.updateOrCreate(db, { userId: 1, key: 'lang' }, { value: 'en' }))
        expect([raced.created, raced.row.value]).toEqual([false, 'en'])
      } finally {
        racer = undefined
      }
      expect(await ok(pipe(Setting.query, Setting.where({ key: 'lang' }), Setting.pluck(db, 'value')))).toEqual(['en'])
      expect((await promisedModel(Setting).updateOrCreate(db, { userId: 3, key: 'tz' }, { value: 'UTC' })).created).toBe(true)
    })

    it('upsertMany inserts or updates each row by its unique key, all or nothing (Rails upsert_all, Django bulk_create(update_conflicts))', async (ctx) => {
      const db = use(ctx)
      const options = { conflict: ['userId', 'key'] as ('userId' | 'key')[], update: ['value'] as 'value'[] }
      clock = at(1)
      const first = await ok(Setting.upsertMany(db, [{ userId: 1, key: 'theme', value: 'dark' }, { userId: 1, key: 'lang', value: 'en' }], options))
      expect(first.map((r) => [r.key, r.value, r.createdAt])).toEqual([['theme', 'dark', at(1)], ['lang', 'en', at(1)]])
      clock = at(2)
      const second = await ok(Setting.upsertMany(db, [{ userId: 1, key: 'lang', value: 'fr' }, { userId: 2, key: 'lang', value: 'de' }], options))
      expect(second.map((r) => [r.id === first[1].id, r.value, r.createdAt, r.updatedAt])).toEqual([[true, 'fr', at(1), at(2)], [false, 'de', at(2), at(2)]])
      // A row that fails rolls the others back, and is named.
      const bad = Setting.upsertMany(db, [{ userId: 3, key: 'tz', value: 'UTC' }, { userId: 1, key: 'theme', value: '' }], options)
      await expect(ok(bad)).rejects.toMatchObject({ _tag: 'ValidationError', issues: [{ path: 'rows.1.value', rule: 'notBlank' }] })
      expect(await ok(pipe(Setting.query, Setting.orderBy('id'), Setting.pluckMany(db, 'userId', 'key', 'value')))).toEqual([[1, 'theme', 'dark'], [1, 'lang', 'fr'], [2, 'lang', 'de']])
      expect(await ok(Setting.upsertMany(db, [], options))).toEqual([])
      expect((await promisedModel(Setting).upsertMany(db, [{ userId: 1, key: 'theme', value: 'light' }], options))[0].value).toBe('light')
    })

    it('updateMany writes the named fields of each row as it holds them, each through update, all or nothing (Django bulk_update)', async (ctx) => {
      const db = await seeded(ctx)
      const rows = await ok(pipe(Post.query, Post.orderBy('id'), Post.all(db)))
      clock = at(4)
      const stored = await ok(Post.updateMany(db, rows.map((r) => ({ ...r, score: r.score * 10, title: 'not written' })), ['score']))
      expect(stored.map((r) => [r.id, r.score, r.title, r.version, r.updatedAt])).toEqual([[1, 10, 'a', 2, at(4)], [2, 20, 'b', 2, at(4)], [3, 30, 'c', 2, at(4)]])
      // The copies read before are stale now: the first one refuses, and nothing is written.
      await expect(ok(Post.updateMany(db, [stored[0], rows[1]].map((r) => ({ ...r, score: 0 })), ['score']))).rejects.toMatchObject({ _tag: 'ConflictError' })
      expect(await ok(pipe(Post.query, Post.orderBy('id'), Post.pluck(db, 'score')))).toEqual([10, 20, 30])
      // A value the codec refuses names its row; the key is not a field to write.
      await expect(ok(Post.updateMany(db, [stored[0], { ...stored[1], title: 5 as unknown as string }], ['title']))).rejects.toMatchObject({ _tag: 'ValidationError', issues: [{ path: 'rows.1.title' }] })
      await expect(ok(Post.updateMany(db, stored, ['id' as 'title']))).rejects.toMatchObject({ _tag: 'QueryError' })
      expect(await ok(Post.updateMany(db, [], ['score']))).toEqual([])
      expect((await promisedModel(Post).updateMany(db, [{ ...stored[2], views: 99 }], ['views']))[0]).toMatchObject({ id: 3, views: 99, version: 3 })
    })

    it("createMany with onConflict: 'ignore' leaves out the rows a unique key refuses and returns the others (Rails insert_all, Django ignore_conflicts)", async (ctx) => {
      const db = use(ctx)
      clock = at(1)
      await ok(Setting.create(db, { userId: 1, key: 'theme', value: 'dark' }))
      const input = [
        { userId: 1, key: 'theme', value: 'light' }, // stored already
        { userId: 1, key: 'lang', value: 'en' },
        { userId: 1, key: 'lang', value: 'fr' }, // repeats the row before it
        { userId: 2, key: 'theme', value: 'dark' },
      ]
      const made = await ok(Setting.createMany(db, input, { onConflict: 'ignore' }))
      expect(made.map((r) => [r.userId, r.key, r.value])).toEqual([[1, 'lang', 'en'], [2, 'theme', 'dark']])
      expect(await ok(pipe(Setting.query, Setting.orderBy('id'), Setting.pluckMany(db, 'userId', 'key', 'value')))).toEqual([[1, 'theme', 'dark'], [1, 'lang', 'en'], [2, 'theme', 'dark']])
      // A unique() rule's refusal is left out the same way; the count without returning.
      expect(await ok(CheckedSetting.createMany(db, [{ userId: 2, key: 'theme', value: 'x' }, { userId: 3, key: 'tz', value: 'UTC' }], { onConflict: 'ignore', returning: false }))).toBe(1)
      // Any other failure rolls every row back, named.
      await expect(ok(Setting.createMany(db, [{ userId: 4, key: 'a', value: 'ok' }, { userId: 1, key: 'theme', value: 'x' }, { userId: 4, key: 'b', value: '' }], { onConflict: 'ignore' })))
        .rejects.toMatchObject({ _tag: 'ValidationError', issues: [{ path: 'rows.2.value', rule: 'notBlank' }] })
      expect(await ok(pipe(Setting.query, Setting.count(db)))).toBe(4)
      expect(await ok(Setting.createMany(db, [], { onConflict: 'ignore' }))).toEqual([])
      await expect(ok(Setting.createMany(db, input, { onConflict: 'update' as 'ignore' }))).rejects.toMatchObject({ _tag: 'QueryError' })
      expect(await promisedModel(Setting).createMany(db, [{ userId: 1, key: 'theme', value: 'x' }], { onConflict: 'ignore' })).toEqual([])
    })

    it('an updatedAt the patch sets is kept; the same value as the row read is refreshed (Rails and Laravel timestamps)', async (ctx) => {
      const db = await seeded(ctx)
      const post = await ok(Post.findOrFail(db, 1))
      clock = at(30)
      const backdated = await ok(Post.update(db, post, { title: 'imported', updatedAt: at(-30) }))
      expect([backdated.title, backdated.updatedAt, backdated.createdAt]).toEqual(['imported', at(-30), at(0)])
      // A patch that carries the row's own updatedAt (a whole row spread into it) still refreshes it.
      const { id: _id, ...whole } = backdated
      const spread = await ok(Post.update(db, backdated, { ...whole, title: 'spread' }))
      expect([spread.title, spread.updatedAt]).toEqual(['spread', at(30)])
      // updateChanges names it either way; without it in the patch, now.
      clock = at(31)
      expect((await ok(Post.updateChanges(db, spread, { title: 'again' }))).row.updatedAt).toEqual(at(31))
      const changed = await ok(Post.updateChanges(db, await ok(Post.findOrFail(db, 1)), { updatedAt: at(1) }))
      expect([changed.row.updatedAt, [...changed.changed].sort()]).toEqual([at(1), ['updatedAt', 'version']])
    })

    it('updateWhere with an empty patch writes nothing, as update does (Django update() of no values): no updatedAt or version bumped', async (ctx) => {
      const db = await seeded(ctx)
      clock = at(40)
      expect(await ok(Post.updateWhere(db, {}, {}))).toBe(0)
      expect(await ok(Post.updateWhere(db, { id: 1 }, { title: undefined }))).toBe(0)
      const rows = await ok(pipe(Post.query, Post.orderBy('id'), Post.all(db)))
      expect(rows.map((r) => [r.version, r.updatedAt])).toEqual([[1, at(0)], [1, at(0)], [1, at(0)]])
      // A patch with a field still writes it, with what the behaviours add.
      expect(await ok(Post.updateWhere(db, { id: 1 }, { title: 'x' }))).toBe(1)
      expect(await ok(Post.findOrFail(db, 1))).toMatchObject({ title: 'x', version: 2, updatedAt: at(40) })
    })

    it('beforeSave and afterSave run around every insert and update, in Rails order (before_save, before_create ... after_create, after_save)', async (ctx) => {
      const db = use(ctx)
      log.length = 0
      const made = await ok(HookedSetting.create(db, { userId: 1, key: 'theme', value: '  dark ' }))
      expect(made.value).toBe('dark')
      expect(log.splice(0)).toEqual(['beforeValidate', 'afterValidate', 'beforeSave(insert)', 'beforeInsert', 'afterInsert', 'afterSave(insert)'])
      const changed = await ok(HookedSetting.update(db, made, { value: ' light' }))
      expect(changed.value).toBe('light')
      expect(log.splice(0)).toEqual(['beforeValidate', 'afterValidate', 'beforeSave(update)', 'beforeUpdate', 'afterUpdate', 'afterSave(update)'])
      await ok(HookedSetting.createMany(db, [{ userId: 2, key: 'a', value: 'x' }, { userId: 2, key: 'b', value: 'y' }]))
      expect(log.filter((x) => x.includes('Save'))).toEqual(['beforeSave(insert)', 'beforeSave(insert)', 'afterSave(insert)', 'afterSave(insert)'])
      log.length = 0
      await ok(HookedSetting.upsert(db, { userId: 1, key: 'theme', value: 'blue' }, { conflict: ['userId', 'key'], update: ['value'] }))
      expect(log.filter((x) => x.includes('Save'))).toEqual(['beforeSave(upsert)', 'afterSave(upsert)'])
      // A Left from afterSave rolls the write back, on insert and on update.
      await expect(ok(HookedSetting.create(db, { userId: 3, key: 'x', value: 'undo' }))).rejects.toMatchObject({ _tag: 'HookError' })
      await expect(ok(HookedSetting.update(db, changed, { value: 'undo' }))).rejects.toMatchObject({ _tag: 'HookError' })
      expect(await ok(pipe(Setting.query, Setting.orderBy('id'), Setting.pluck(db, 'value')))).toEqual(['blue', 'x', 'y'])
    })
  })
}
