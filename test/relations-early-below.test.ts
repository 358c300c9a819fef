/**
 * Nested includes on MySQL and MariaDB start the level below before a level's rows are decoded,
 * where the keys it reads are plain numbers or strings as the driver gave them: its statement is
 * sent first, and the level's rows are decoded while the server reads the next level. The rows
 * come out as before on every engine; a level's DecodeError is still the load's error, whatever
 * the level below does; keys that decoding changes (booleans here) load one level after the
 * other, as before.
 */
import { pipe } from 'fp-ts/lib/function.js'
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import { beforeEach, describe, expect, it } from 'vitest'
import { type Backend, type DbError, run, sql, wrap } from 'recordkit'
import { bool, hasMany, model, relate, snakeCase } from 'recordkit/model'
import { ENGINES, engineTables } from './support/engine-tables.js'

/** Everything that happened, in order: statements issued (by table) and child labels decoded. */
const events: string[] = []

/** A string codec that notes each value it decodes. */
const Noted = new t.Type<string, string, unknown>(
  'Noted',
  (u): u is string => typeof u === 'string',
  (u, c) => {
    if (typeof u !== 'string') return t.failure(u, c)
    events.push(`decode ${u}`)
    return u === 'broken' ? t.failure(u, c, 'a broken label') : t.success(u)
  },
  (a) => a,
)

const Owner = model({ table: 'rk_eb_owners', primaryKey: 'id', naming: snakeCase, codec: t.type({ id: t.number, name: t.string }), relations: { kids: hasMany('Kid', 'ownerId') } })
const Kid = model({
  table: 'rk_eb_kids',
  primaryKey: 'id',
  naming: snakeCase,
  codec: t.type({ id: t.number, ownerId: t.number, label: Noted, code: t.string }),
  relations: { toys: hasMany('Toy', 'kidId'), tags: hasMany('Tag', 'kidCode', { sourceKey: 'code' }) },
})
const Toy = model({ table: 'rk_eb_toys', primaryKey: 'id', naming: snakeCase, codec: t.type({ id: t.number, kidId: t.number, name: t.string }) })
const Tag = model({ table: 'rk_eb_tags', primaryKey: 'id', naming: snakeCase, codec: t.type({ id: t.number, kidCode: t.string, word: t.string }) })
// A level whose key for the level below is a boolean: decoding changes it (1 to true) on MariaDB.
const Flag = model({ table: 'rk_eb_flags', primaryKey: 'id', naming: snakeCase, codec: t.type({ id: t.number, ownerId: t.number, on: bool }), relations: { marks: hasMany('Mark', 'on', { sourceKey: 'on' }) } })
const Mark = model({ table: 'rk_eb_marks', primaryKey: 'id', naming: snakeCase, codec: t.type({ id: t.number, on: bool }) })
const Boss = model({ table: 'rk_eb_owners', primaryKey: 'id', naming: snakeCase, codec: t.type({ id: t.number, name: t.string }), relations: { flags: hasMany('Flag', 'ownerId') } })
const R = relate({ Owner, Kid, Toy, Tag, Flag, Mark, Boss })

const ok = async <A>(te: TaskEither<DbError, A>): Promise<A> => run(te)

const TABLES = ['rk_eb_owners', 'rk_eb_kids', 'rk_eb_toys', 'rk_eb_tags', 'rk_eb_flags', 'rk_eb_marks']
const ddl = (engine: string): string[] => {
  const flag = engine === 'postgres' ? 'BOOLEAN' : 'INTEGER'
  return [
    'CREATE TABLE rk_eb_owners (id INTEGER PRIMARY KEY, name VARCHAR(40) NOT NULL)',
    'CREATE TABLE rk_eb_kids (id INTEGER PRIMARY KEY, owner_id INTEGER NOT NULL, label VARCHAR(40) NOT NULL, code VARCHAR(40) NOT NULL)',
    'CREATE TABLE rk_eb_toys (id INTEGER PRIMARY KEY, kid_id INTEGER NOT NULL, name VARCHAR(40) NOT NULL)',
    'CREATE TABLE rk_eb_tags (id INTEGER PRIMARY KEY, kid_code VARCHAR(40) NOT NULL, word VARCHAR(40) NOT NULL)',
    `CREATE TABLE rk_eb_flags (id INTEGER PRIMARY KEY, owner_id INTEGER NOT NULL, ${engine === 'mariadb' ? '`on`' : '"on"'} ${flag} NOT NULL)`,
    `CREATE TABLE rk_eb_marks (id INTEGER PRIMARY KEY, ${engine === 'mariadb' ? '`on`' : '"on"'} ${flag} NOT NULL)`,
  ]
}

/** A backend that notes each statement it issues, by the table it reads. */
const noting = (db: Backend): Backend =>
  wrap(db, {
    execute: (next, self) => (q) => {
      const c = self.compile(q as never)
      const table = c._tag === 'Right' ? /FROM [`"]?(rk_eb_\w+)/.exec(c.right.sql)?.[1] : undefined
      if (table !== undefined) events.push(`read ${table}`)
      return next(q)
    },
  })

for (const engine of ENGINES) {
  describe(`the level below starts early on ${engine.name}`, () => {
    const { use, current } = engineTables(engine, TABLES, ddl)
    beforeEach(async () => {
      const db = current()
      if (db === undefined) return
      await ok(R.Owner.createMany(db, [{ id: 1, name: 'ann' }, { id: 2, name: 'bob' }]))
      await ok(R.Kid.createMany(db, [{ id: 10, ownerId: 1, label: 'a', code: 'x"1' }, { id: 11, ownerId: 1, label: 'b', code: 'y,2' }, { id: 12, ownerId: 2, label: 'c', code: 'z' }]))
      await ok(R.Toy.createMany(db, [{ id: 100, kidId: 10, name: 'ball' }, { id: 101, kidId: 12, name: 'kite' }, { id: 102, kidId: 10, name: 'top' }]))
      await ok(R.Tag.createMany(db, [{ id: 200, kidCode: 'y,2', word: 'quiet' }, { id: 201, kidCode: 'x"1', word: 'loud' }]))
      await ok(R.Flag.createMany(db, [{ id: 300, ownerId: 1, on: true }, { id: 301, ownerId: 2, on: false }]))
      await ok(R.Mark.createMany(db, [{ id: 400, on: true }, { id: 401, on: true }, { id: 402, on: false }]))
      events.length = 0
    })

    const load = (d: Backend) => pipe(R.Owner.query, R.Owner.include('kids.toys'), R.Owner.include('kids.tags'), R.Owner.orderBy('id'), R.Owner.all(d))

    it('loads the same rows, and on MariaDB sends the level below before decoding the level above', async (ctx) => {
      const d = noting(use(ctx))
      const owners = await ok(load(d))
      const toys = (o: { kids: { toys: { id: number }[] }[] }) => o.kids.map((k) => k.toys.map((x) => x.id).sort())
      expect(owners.map((o) => [o.id, o.kids.map((k) => k.id).sort()])).toEqual([[1, [10, 11]], [2, [12]]])
      expect(owners.map(toys)).toEqual([[[100, 102], []], [[101]]])
      expect(owners[0].kids.find((k) => k.id === 11)!.tags).toEqual([{ id: 200, kidCode: 'y,2', word: 'quiet' }])
      expect(owners[0].kids.find((k) => k.id === 10)!.tags).toEqual([{ id: 201, kidCode: 'x"1', word: 'loud' }])
      const firstDecode = events.findIndex((e) => e.startsWith('decode'))
      const toysRead = events.indexOf('read rk_eb_toys')
      expect(events.filter((e) => e.startsWith('read'))).toEqual(['read rk_eb_owners', 'read rk_eb_kids', 'read rk_eb_toys', 'read rk_eb_tags'])
      if (engine.name === 'mariadb') expect(toysRead).toBeLessThan(firstDecode)
      else expect(toysRead).toBeGreaterThan(firstDecode)
    })

    it("a level's DecodeError is the load's, whatever the level below answers", async (ctx) => {
      const db = use(ctx)
      await ok(db.execute(sql`UPDATE rk_eb_kids SET label = ${'broken'} WHERE id = ${11}`))
      const r = await load(noting(db))()
      expect(r._tag).toBe('Left')
      const e = (r as { left: DbError }).left
      expect([e._tag, e.message]).toEqual(['DecodeError', expect.stringContaining('rk_eb_kids')])
      // The backend goes on serving.
      await ok(db.execute(sql`UPDATE rk_eb_kids SET label = ${'b'} WHERE id = ${11}`))
      expect((await ok(load(db))).length).toBe(2)
    })

    it('keys that decoding changes load one level after the other, with the same rows', async (ctx) => {
      const d = noting(use(ctx))
      const bosses = await ok(pipe(R.Boss.query, R.Boss.include('flags.marks'), R.Boss.orderBy('id'), R.Boss.all(d)))
      expect(bosses.map((b) => b.flags.map((f) => [f.on, f.marks.map((m) => m.id).sort()]))).toEqual([[[true, [400, 401]]], [[false, [402]]]])
    })
  })
}
