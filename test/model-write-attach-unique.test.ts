/**
 * `attach` of a link that exists is a UniqueViolation naming the join table and its key's
 * columns on SQLite, PostgreSQL and MariaDB (which names only the index: the model adds the join
 * table and reads the columns), as the other model writes' are; nothing more is written.
 */
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { isDbError, sql } from 'recordkit'
import { manyToMany, model, relate } from 'recordkit/model'
import { fails, ok } from 'recordkit/testing'
import { ENGINES, engineTables } from './support/engine-tables.js'

const { U } = relate({
  U: model({
    table: 'rk_mwau_users',
    primaryKey: 'id',
    codec: t.type({ id: t.number, name: t.string }),
    relations: { friends: manyToMany('U', { through: 'rk_mwau_links', from: 'a', to: 'b' }) },
  }),
})

const ddl = (): string[] => [
  'CREATE TABLE rk_mwau_users (id INTEGER PRIMARY KEY, name VARCHAR(20) NOT NULL)',
  'CREATE TABLE rk_mwau_links (a INTEGER NOT NULL, b INTEGER NOT NULL, PRIMARY KEY (a, b))',
]

for (const engine of ENGINES) {
  describe(`attach duplicates on ${engine.name}`, () => {
    const { use } = engineTables(engine, ['rk_mwau_links', 'rk_mwau_users'], ddl)

    it('a link that exists is a UniqueViolation naming the join table and its columns', async (ctx) => {
      const db = use(ctx)
      const [ada] = await ok(U.createMany(db, [{ id: 1, name: 'ada' }, { id: 2, name: 'bob' }, { id: 3, name: 'cy' }]))
      expect(await ok(U.attach(db, ada, 'friends', [{ id: 2 }]))).toBe(1)
      const e = await fails(U.attach(db, ada, 'friends', [{ id: 3 }, { id: 2 }]))
      expect(isDbError(e, 'UniqueViolation') && [e.table, e.columns]).toEqual(['rk_mwau_links', ['a', 'b']])
      const links = await ok(db.all<{ a: unknown; b: unknown }>(sql`SELECT a, b FROM rk_mwau_links ORDER BY b`))
      expect(links.map((l) => [Number(l.a), Number(l.b)])).toEqual([[1, 2]])
    })
  })
}
