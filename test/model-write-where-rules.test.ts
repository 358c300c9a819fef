/**
 * `updateWhere` checks its patch before writing, on SQLite, PostgreSQL and MariaDB: every field
 * decoded with its codec, and every validator and row-level codec check that the patch alone
 * decides (it reads only fields the patch sets). One that needs a field the patch does not set
 * (a rule comparing two fields, given one) needs the stored row, which a set-based UPDATE does
 * not read: it is skipped there, and `update` runs it on the row.
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { type Backend, isDbError, sql } from 'recordkit'
import { model, rule } from 'recordkit/model'
import { fails, ok } from 'recordkit/testing'
import { ENGINES, engineTables } from './support/engine-tables.js'

const Person = model({
  table: 'rk_mwr_people',
  primaryKey: 'id',
  // A row-level refinement of the codec: decided by `name` alone.
  codec: t.refinement(t.type({ id: t.number, name: t.string, age: t.number, start: t.number, end: t.number }), (p) => p.name !== 'root', 'NotRoot'),
  validators: [
    rule('age', 'adult', (p) => p.age! >= 18, 'adults only'),
    rule('end', 'afterStart', (p) => p.end! >= p.start!),
    // Reads `name` and, only for a name that is not blank, nothing else.
    rule('name', 'notBlank', (p) => (p.name ?? '').trim() !== ''),
  ],
})

const ddl = (): string[] => ['CREATE TABLE rk_mwr_people (id INTEGER PRIMARY KEY, name VARCHAR(20) NOT NULL, age INTEGER NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL)']

/** Every row as [id, name, age, start, end]. */
const people = async (db: Backend) => (await ok(pipe(Person.query, Person.orderBy('id'), Person.all(db)))).map((p) => [p.id, p.name, p.age, p.start, p.end])

/** The failing fields and rules of a ValidationError. */
const issuesOf = (e: unknown): unknown => (isDbError(e, 'ValidationError') ? e.issues.map((i) => [i.path, i.rule]) : e)

for (const engine of ENGINES) {
  describe(`updateWhere checks its patch on ${engine.name}`, () => {
    const { use } = engineTables(engine, ['rk_mwr_people'], (e) => ddl().map((d) => (e === 'mariadb' ? d.replace('"end"', '`end`') : d)))
    const seed = (db: Backend) => ok(Person.createMany(db, [{ id: 1, name: 'ada', age: 36, start: 1, end: 2 }, { id: 2, name: 'bob', age: 40, start: 3, end: 4 }]))
    const before = [[1, 'ada', 36, 1, 2], [2, 'bob', 40, 3, 4]]

    it('a rule the patch decides fails, naming the field and rule, and nothing is written; one that needs the row is left to update', async (ctx) => {
      const db = use(ctx)
      await seed(db)
      const e = await fails(Person.updateWhere(db, { id: 1 }, { age: 12 }))
      expect(issuesOf(e)).toEqual([['age', 'adult']])
      expect(e.message).toBe('invalid rk_mwr_people: age: adult (got 12)')
      expect(issuesOf(await fails(Person.updateWhere(db, {}, { name: ' ' })))).toEqual([['name', 'notBlank']])
      expect(issuesOf(await fails(Person.updateWhere(db, {}, { start: 5, end: 4 })))).toEqual([['end', 'afterStart']])
      // The codec's row-level check, decided by the name.
      expect(issuesOf(await fails(Person.updateWhere(db, {}, { name: 'root' })))).toEqual([['', 'NotRoot']])
      // Codecs and the primary key, as before.
      expect(issuesOf(await fails(Person.updateWhere(db, {}, { age: 'old', id: 3 } as never)))).toEqual([['age', 'number'], ['id', 'primaryKey']])
      expect(await people(db)).toEqual(before)

      // A rule that needs a field the patch does not set is left to update; rules that pass let the UPDATE run.
      // afterStart reads `start`, which the patch lacks: skipped (end 0 would fail it on row 1).
      expect(await ok(Person.updateWhere(db, { id: 1 }, { end: 0 }))).toBe(1)
      expect(await ok(Person.updateWhere(db, {}, { age: 18, name: 'x' }))).toBe(2)
      expect(await people(db)).toEqual([[1, 'x', 18, 1, 0], [2, 'x', 18, 3, 4]])
      // update runs it on the stored row.
      const [, bob] = await ok(pipe(Person.query, Person.orderBy('id'), Person.all(db)))
      expect(issuesOf(await fails(Person.update(db, bob, { end: 0 })))).toEqual([['end', 'afterStart']])
      expect(Number((await ok(db.all<{ n: unknown }>(sql`SELECT COUNT(*) AS n FROM rk_mwr_people WHERE age = 18`)))[0].n)).toBe(2)
    })
  })
}
