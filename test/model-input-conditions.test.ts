/**
 * Model conditions and ordering given values from outside the types (request data, JSON, `any`)
 * on SQLite, PostgreSQL and MariaDB. In the `(field, op, value)` form a missing value is a
 * ValidationError naming the field, as in the object form (`where({ field: undefined })`): it was
 * bound as NULL, so `where('score', '=', input.score)` matched no row without a word, `'in'` with
 * no list was a TypeError, `between` with one bound (or both in an array) matched nothing, and
 * `find` with a part of a composite key missing answered None. `null` stays a value. `orderBy`
 * takes 'ASC' / 'DESC' and NULLS 'FIRST' / 'LAST' in any case, and any other word is a
 * ValidationError naming it: it sorted ascending without a word.
 */
import { pipe } from 'fp-ts/lib/function.js'
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { type DbError, run } from 'recordkit'
import { model, nullable } from 'recordkit/model'
import { ENGINES, engineTables } from './support/engine-tables.js'

const User = model({
  table: 'rk_mic_users',
  primaryKey: 'id',
  codec: t.type({ id: t.number, name: t.string, score: nullable(t.number) }),
})
const Region = model({
  table: 'rk_mic_regions',
  primaryKey: ['country', 'code'],
  codec: t.type({ country: t.string, code: t.string, label: t.string }),
})

const TABLES = ['rk_mic_users', 'rk_mic_regions']
const ddl = (): string[] => [
  'CREATE TABLE rk_mic_users (id INTEGER PRIMARY KEY, name VARCHAR(20) NOT NULL, score INTEGER NULL)',
  'CREATE TABLE rk_mic_regions (country VARCHAR(2) NOT NULL, code VARCHAR(5) NOT NULL, label VARCHAR(20) NOT NULL, PRIMARY KEY (country, code))',
]

const ok = async <A>(te: TaskEither<DbError, A>): Promise<A> => run(te)
const fails = async <A>(te: TaskEither<DbError, A>): Promise<DbError> => {
  const r = await te()
  if (r._tag === 'Right') throw new Error(`expected a failure, got ${JSON.stringify(r.right)}`)
  return r.left
}
const paths = (e: DbError): string[] => ((e as { issues?: readonly { path: string }[] }).issues ?? []).map((i) => i.path)

/** Values a caller's input may hold where the types say otherwise. */
const loose = (v: unknown): never => v as never

for (const engine of ENGINES) {
  describe(`model conditions and order from outside the types on ${engine.name}`, () => {
    const { use } = engineTables(engine, TABLES, ddl)
    const seed = async () => {
      const db = use({ skip: () => undefined })
      await ok(User.createMany(db, [{ id: 1, name: 'a', score: 1 }, { id: 2, name: 'b', score: null }, { id: 3, name: 'c', score: 3 }]))
      await ok(Region.createMany(db, [{ country: 'AU', code: 'NSW', label: 'New South Wales' }, { country: 'AU', code: 'VIC', label: 'Victoria' }]))
      return db
    }

    it('undefined in a comparison is a ValidationError naming the field, from every terminal', async (ctx) => {
      use(ctx)
      const db = await seed()
      const input: { score?: number } = {}
      for (const op of ['=', '<>', '!=', '<', '<=', '>', '>='] as const) {
        const e = await fails(pipe(User.query, User.where('score', op, input.score as number), User.count(db)))
        expect([e._tag, paths(e)], op).toEqual(['ValidationError', ['score']])
        expect(e.message, op).toContain('score')
      }
      for (const op of ['like', 'not like', 'ilike', 'not ilike', 'contains', 'starts with', 'ends with'] as const) {
        const e = await fails(pipe(User.query, User.where('name', op, loose(undefined)), User.all(db)))
        expect([e._tag, paths(e)], op).toEqual(['ValidationError', ['name']])
      }
      // orWhere, cond, findBy, updateWhere and deleteWhere alike; nothing is changed.
      expect(paths(await fails(pipe(User.query, User.where('id', '=', 1), User.orWhere('score', '=', loose(undefined)), User.all(db))))).toEqual(['score'])
      expect(paths(await fails(pipe(User.query, User.where(User.or(User.cond('id', '=', 1), User.cond('score', '>', loose(undefined)))), User.all(db))))).toEqual(['score'])
      expect(paths(await fails(User.findBy(db, User.cond('name', '=', loose(undefined)))))).toEqual(['name'])
      expect(paths(await fails(User.updateWhere(db, User.cond('score', '<', loose(undefined)), { name: 'z' })))).toEqual(['score'])
      expect(paths(await fails(User.deleteWhere(db, User.cond('score', '<>', loose(undefined)))))).toEqual(['score'])
      expect(await ok(pipe(User.query, User.orderBy('id'), User.pluck(db, 'name')))).toEqual(['a', 'b', 'c'])
    })

    it('null stays a value: = null is IS NULL, <> null IS NOT NULL', async (ctx) => {
      use(ctx)
      const db = await seed()
      expect(await ok(pipe(User.query, User.where('score', '=', null), User.pluck(db, 'id')))).toEqual([2])
      expect(await ok(pipe(User.query, User.where('score', '<>', null), User.orderBy('id'), User.pluck(db, 'id')))).toEqual([1, 3])
    })

    it("'in' and 'not in' take an array (or a subquery) without undefined items", async (ctx) => {
      use(ctx)
      const db = await seed()
      for (const op of ['in', 'not in'] as const) {
        for (const bad of [undefined, null, 5, 'a', { id: 1 }]) {
          const e = await fails(pipe(User.query, User.where('id', op, loose(bad)), User.all(db)))
          expect([e._tag, paths(e)], `${op} ${String(bad)}`).toEqual(['ValidationError', ['id']])
        }
        const item = await fails(pipe(User.query, User.where('score', op, loose([1, undefined])), User.all(db)))
        expect([item._tag, paths(item)], op).toEqual(['ValidationError', ['score']])
        expect(item.message).toMatch(/item 1/)
      }
      expect(await ok(pipe(User.query, User.where('id', 'in', [1, 3]), User.orderBy('id'), User.pluck(db, 'id')))).toEqual([1, 3])
      expect(await ok(pipe(User.query, User.where('id', 'in', []), User.count(db)))).toBe(0)
      expect(await ok(pipe(User.query, User.where('id', 'in', pipe(User.query, User.where('name', '=', 'b'), User.select('id'))), User.pluck(db, 'id')))).toEqual([2])
    })

    it('between takes two defined bounds', async (ctx) => {
      use(ctx)
      const db = await seed()
      for (const op of ['between', 'not between'] as const) {
        for (const [low, high] of [[1, undefined], [undefined, 3], [undefined, undefined], [[1, 3], undefined]] as const) {
          const e = await fails(pipe(User.query, User.where('score', op, loose(low), loose(high)), User.all(db)))
          expect([e._tag, paths(e)], `${op} ${JSON.stringify([low, high])}`).toEqual(['ValidationError', ['score']])
        }
      }
      expect(await ok(pipe(User.query, User.where('score', 'between', 1, 2), User.pluck(db, 'id')))).toEqual([1])
      expect(await ok(pipe(User.query, User.where('score', 'not between', 1, 2), User.pluck(db, 'id')))).toEqual([3])
    })

    it('find and findOrFail with a key part missing are a ValidationError naming it; a whole key finds', async (ctx) => {
      use(ctx)
      const db = await seed()
      const part = await fails(Region.find(db, loose({ country: 'AU' })))
      expect([part._tag, paths(part)]).toEqual(['ValidationError', ['code']])
      expect(paths(await fails(Region.findOrFail(db, loose({ code: 'NSW' }))))).toEqual(['country'])
      for (const bad of [undefined, null, 'AU', 5]) {
        const e = await fails(Region.find(db, loose(bad)))
        expect(e._tag, String(bad)).toBe('ValidationError')
      }
      const missing = await fails(User.find(db, loose(undefined)))
      expect([missing._tag, paths(missing)]).toEqual(['ValidationError', ['id']])
      expect((await ok(Region.findOrFail(db, { country: 'AU', code: 'VIC' }))).label).toBe('Victoria')
      expect((await ok(Region.find(db, { country: 'AU', code: 'XX' })))._tag).toBe('None')
      expect((await ok(User.find(db, 3)))._tag).toBe('Some')
    })

    it('orderBy takes its words in any case and refuses any other word, naming it', async (ctx) => {
      use(ctx)
      const db = await seed()
      const names = (direction: unknown, nulls?: unknown) =>
        pipe(User.query, User.where('score', 'is not null'), User.orderBy('score', loose(direction), loose(nulls)), User.pluck(db, 'name'))
      for (const word of ['desc', 'DESC', 'Desc']) expect(await ok(names(word)), word).toEqual(['c', 'a'])
      for (const word of ['asc', 'ASC', 'aSc', undefined]) expect(await ok(names(word)), String(word)).toEqual(['a', 'c'])
      for (const word of ['descending', 'desc; DROP TABLE rk_mic_users', '', 'up', 1, null]) {
        const e = await fails(names(word))
        expect(e._tag, String(word)).toBe('ValidationError')
        expect(e.message, String(word)).toContain(JSON.stringify(word) ?? String(word))
      }
      // NULLS words alike (emulated where the engine has no NULLS FIRST / LAST).
      const all = (nulls: unknown) => pipe(User.query, User.orderBy('score', 'asc', loose(nulls)), User.pluck(db, 'name'))
      expect(await ok(all('FIRST'))).toEqual(['b', 'a', 'c'])
      expect(await ok(all('Last'))).toEqual(['a', 'c', 'b'])
      const e = await fails(all('top'))
      expect([e._tag, e.message.includes('"top"')]).toEqual(['ValidationError', true])
      expect(await ok(pipe(User.query, User.count(db)))).toBe(3)
    })
  })
}
