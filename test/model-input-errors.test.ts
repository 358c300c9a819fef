/**
 * Model input that is not an object (`create(db, null)`, a number, an array), as request data
 * may be, is a ValidationError saying the input must be an object, from create, createMany,
 * upsert, updateWhere and `validate`, with nothing written: it was a QueryError carrying a
 * TypeError ("Cannot read properties of null"). A value a nullable field refuses is one issue
 * at the field's path naming what it takes (`age: expected number or null`), not one per
 * member of the union (`age.0`, `age.1`). On SQLite, PostgreSQL and MariaDB.
 */
import { pipe } from 'fp-ts/lib/function.js'
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { type DbError, run } from 'recordkit'
import { date, model, nullable } from 'recordkit/model'
import { ENGINES, engineTables } from './support/engine-tables.js'

const User = model({
  table: 'rk_mie_users',
  primaryKey: 'id',
  codec: t.type({ id: t.number, name: t.string, age: nullable(t.number), seen: nullable(date), tags: nullable(t.array(t.string)) }),
})

const ddl = (engine: string): string[] => [
  `CREATE TABLE rk_mie_users (id INTEGER PRIMARY KEY, name VARCHAR(20) NOT NULL, age INTEGER NULL, seen ${engine === 'postgres' ? 'TIMESTAMP' : engine === 'mariadb' ? 'DATETIME(3)' : 'TEXT'} NULL, tags TEXT NULL)`,
]

const ok = async <A>(te: TaskEither<DbError, A>): Promise<A> => run(te)
const fails = async <A>(te: TaskEither<DbError, A>): Promise<DbError> => {
  const r = await te()
  if (r._tag === 'Right') throw new Error(`expected a failure, got ${JSON.stringify(r.right)}`)
  return r.left
}
const issues = (e: DbError): { path: string; rule: string; message: string }[] =>
  [...((e as { issues?: readonly { path: string; rule: string; message: string }[] }).issues ?? [])].map(({ path, rule, message }) => ({ path, rule, message }))

const loose = (v: unknown): never => v as never
const NOT_OBJECTS: readonly unknown[] = [null, undefined, 5, 'a', true, [], [{ id: 1, name: 'a' }]]

for (const engine of ENGINES) {
  describe(`model input errors on ${engine.name}`, () => {
    const { use } = engineTables(engine, ['rk_mie_users'], ddl)
    const count = (db: Parameters<typeof User.count>[0]) => ok(pipe(User.query, User.count(db)))

    it('create, upsert and createMany refuse input that is not an object, and write nothing', async (ctx) => {
      const db = use(ctx)
      for (const input of NOT_OBJECTS) {
        const what = JSON.stringify(input) ?? String(input)
        const e = await fails(User.create(db, loose(input)))
        expect(e._tag, what).toBe('ValidationError')
        expect(e.message, what).toBe(`invalid rk_mie_users: the input: must be an object of fields (got ${Array.isArray(input) ? 'an array' : String(JSON.stringify(input) ?? input)})`)
        expect(issues(e).map((i) => [i.path, i.rule]), what).toEqual([['', 'object']])
        const u = await fails(User.upsert(db, loose(input)))
        expect([u._tag, issues(u).map((i) => i.rule)], what).toEqual(['ValidationError', ['object']])
        const many = await fails(User.createMany(db, [{ id: 1, name: 'a', age: null, seen: null, tags: null }, loose(input)]))
        expect([many._tag, issues(many).map((i) => [i.path, i.rule])], what).toEqual(['ValidationError', [['rows.1', 'object']]])
      }
      expect(await count(db)).toBe(0)
    })

    it('updateWhere refuses a patch that is not an object; validate answers the same', async (ctx) => {
      const db = use(ctx)
      await ok(User.create(db, { id: 1, name: 'a', age: 3, seen: null, tags: null }))
      for (const patch of [null, 5, 'name', []]) {
        const what = JSON.stringify(patch)
        const e = await fails(User.updateWhere(db, { id: 1 }, loose(patch)))
        expect([e._tag, issues(e).map((i) => i.rule)], what).toEqual(['ValidationError', ['object']])
      }
      // validate reads null as {} (src/model/model.ts): every required field is missing.
      for (const input of [5, 'name', []]) {
        const v = User.validate(loose(input))
        expect(v._tag === 'Left' ? [v.left._tag, issues(v.left).map((i) => i.rule)] : v, JSON.stringify(input)).toEqual(['ValidationError', ['object']])
      }
      expect(await ok(User.findOrFail(db, 1))).toMatchObject({ name: 'a', age: 3 })
    })

    it('a value a nullable field refuses is one issue at the field, naming both', async (ctx) => {
      const db = use(ctx)
      const row = await ok(User.create(db, { id: 1, name: 'a', age: 3, seen: null, tags: null }))
      const e = await fails(User.update(db, row, { age: loose('old') }))
      expect(issues(e)).toEqual([{ path: 'age', rule: 'number', message: 'age: expected number or null, got "old"' }])
      expect(e.message).toBe('invalid rk_mie_users: age: number (got "old")')
      const c = await fails(User.create(db, { id: 2, name: loose(7), age: loose('3'), seen: loose('yesterday'), tags: loose(['x', 1]) }))
      expect(issues(c)).toEqual([
        { path: 'name', rule: 'string', message: 'name: expected string, got 7' },
        { path: 'age', rule: 'number', message: 'age: expected number or null, got "3"' },
        { path: 'seen', rule: 'date', message: 'seen: expected date or null, got "yesterday"' },
        { path: 'tags.1', rule: 'string', message: 'tags.1: expected string, got 1' },
      ])
      expect(await count(db)).toBe(1)
    })
  })
}
