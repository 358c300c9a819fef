/**
 * A createMany that meets a unique index (no `unique` rule declared) says which input rows hold
 * a taken value, on every engine: one the table held before, or one an earlier row of the same
 * call holds. Nothing of the call is written.
 */
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { isDbError, run, sql } from 'recordkit'
import { model } from 'recordkit/model'
import { fails, ok } from 'recordkit/testing'
import { ENGINES, engineTables } from './support/engine-tables.js'

const T = 'cmv_tags'
const Tag = model({ table: T, primaryKey: 'id', codec: t.type({ id: t.number, name: t.string, site: t.number }) })

const ddl = (engine: string): string[] => [
  `CREATE TABLE ${T} (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(40) NOT NULL, site INTEGER NOT NULL, CONSTRAINT cmv_tags_name UNIQUE (site, name))${engine === 'mariadb' ? ' ENGINE=InnoDB' : ''}`,
]

for (const engine of ENGINES) {
  describe(`createMany meeting a unique index (${engine.name})`, () => {
    const { use } = engineTables(engine, [T], ddl)

    it('names the input rows whose values are taken, and writes nothing', async (ctx) => {
      const db = use(ctx)
      await ok(Tag.create(db, { id: 1, name: 'web', site: 1 }))
      const inputs = Array.from({ length: 100 }, (_, i) => ({ id: 10 + i, name: `tag${i}`, site: 1 }))
      inputs[57] = { id: 67, name: 'web', site: 1 } // stored before
      inputs[80] = { id: 90, name: 'tag3', site: 1 } // repeats row 3
      inputs[81] = { id: 91, name: 'web', site: 2 } // another site: free
      for (const returning of [true, false]) {
        const e = await fails<unknown>(returning ? Tag.createMany(db, inputs, { returning: true }) : Tag.createMany(db, inputs, { returning: false }))
        expect(isDbError(e, 'UniqueViolation') && [e.fields, e.rows]).toEqual([['site', 'name'], [57, 80]])
        expect(e.message).toMatch(/taken: rows\.57\.site, rows\.80\.site$/)
        expect((await run(db.all<{ n: number }>(sql`SELECT COUNT(*) AS n FROM ${sql.id(T)}`))).map((r) => Number(r.n))).toEqual([1])
      }
    })
  })
}

describe('createMany input issues', () => {
  for (const engine of ENGINES.filter((e) => e.name === 'sqlite')) {
    const { use } = engineTables(engine, [T], ddl)
    it('an issue message that names its field names the row too', async (ctx) => {
      const db = use(ctx)
      const e = await fails(Tag.createMany(db, [{ id: 1, name: 'a', site: 1 }, { id: 2, name: 7 as never, site: 1 }]))
      expect(isDbError(e, 'ValidationError') && e.issues.map((i) => [i.path, i.message.split(':')[0]])).toEqual([['rows.1.name', 'rows.1.name']])
    })
  }
})
