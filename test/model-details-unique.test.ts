/**
 * A UniqueViolation a model write fails with names the table the duplicate was written to: the
 * model's own table for its own statement, and the other table when a hook's statement wrote the
 * duplicate there, never the model's table for it. MariaDB names only the index (here an index of
 * the same name exists on both tables, on different columns): the table is read from the failing
 * statement, and the columns from that table's index. On SQLite, PostgreSQL and MariaDB.
 */
import * as TE from 'fp-ts/lib/TaskEither.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { type Backend, isDbError, sql } from 'recordkit'
import { model } from 'recordkit/model'
import { fails, ok } from 'recordkit/testing'
import { ENGINES, engineTables } from './support/engine-tables.js'

const codec = t.type({ id: t.number, name: t.string })
const Account = model({
  table: 'rk_mdu_accounts',
  primaryKey: 'id',
  codec,
  hooks: {
    // Writes an audit code of its own: a duplicate code is the audit table's violation.
    afterInsert: (row, ctx) => pipe(
      ctx.db.execute(sql`INSERT INTO rk_mdu_audit (id, code) VALUES (${row.id}, ${row.name.slice(0, 1)})`),
      TE.map(() => row),
    ),
  },
})

const ddl = (engine: string): string[] => {
  // MariaDB: both unique indexes are named uq (index names are per table there).
  const uq = (column: string) => (engine === 'mariadb' ? `, CONSTRAINT uq UNIQUE (${column})` : `, UNIQUE (${column})`)
  return [
    `CREATE TABLE rk_mdu_accounts (id INTEGER PRIMARY KEY, name VARCHAR(20) NOT NULL${uq('name')})`,
    `CREATE TABLE rk_mdu_audit (id INTEGER PRIMARY KEY, code VARCHAR(20) NOT NULL${uq('code')})`,
  ]
}

const count = async (db: Backend, table: 'rk_mdu_accounts' | 'rk_mdu_audit'): Promise<number> =>
  Number((await ok(db.all<{ n: unknown }>(sql`SELECT COUNT(*) AS n FROM ${sql.id(table)}`)))[0].n)

for (const engine of ENGINES) {
  describe(`UniqueViolation's table on ${engine.name}`, () => {
    const { use } = engineTables(engine, ['rk_mdu_accounts', 'rk_mdu_audit'], ddl)

    it("the model's own duplicate names its table and columns", async (ctx) => {
      const db = use(ctx)
      await ok(Account.create(db, { id: 1, name: 'ada' }))
      const e = await fails(Account.create(db, { id: 2, name: 'ada' }))
      expect(isDbError(e, 'UniqueViolation') && [e.table, e.columns]).toEqual(['rk_mdu_accounts', ['name']])
    })

    it("the model's own duplicates in createMany, update and upsert name its table and columns", async (ctx) => {
      const db = use(ctx)
      const Plain = model({ table: 'rk_mdu_accounts', primaryKey: 'id', codec })
      await ok(Plain.createMany(db, [{ id: 1, name: 'ada' }, { id: 2, name: 'bob' }]))
      const many = await fails(Plain.createMany(db, [{ id: 3, name: 'cy' }, { id: 4, name: 'ada' }]))
      const updated = await fails(Plain.update(db, { id: 2, name: 'bob' }, { name: 'ada' }))
      const upserted = await fails(Plain.upsert(db, { id: 5, name: 'bob' }))
      for (const e of [many, updated]) expect(isDbError(e, 'UniqueViolation') && [e.table, e.columns]).toEqual(['rk_mdu_accounts', ['name']])
      // MariaDB's upsert refuses a duplicate in a key other than its target itself, naming no columns.
      expect(isDbError(upserted, 'UniqueViolation') && upserted.table).toBe('rk_mdu_accounts')
      expect(await count(db, 'rk_mdu_accounts')).toBe(2)
    })

    it("a hook's duplicate in another table names that table, not the model's", async (ctx) => {
      const db = use(ctx)
      await ok(Account.create(db, { id: 1, name: 'ada' }))
      // 'al' writes the audit code 'a' again.
      const e = await fails(Account.create(db, { id: 2, name: 'al' }))
      expect(e._tag).toBe('UniqueViolation')
      expect(isDbError(e, 'UniqueViolation') && [e.table, e.columns]).toEqual(['rk_mdu_audit', ['code']])
      // Nothing of the failed create is kept.
      expect([await count(db, 'rk_mdu_accounts'), await count(db, 'rk_mdu_audit')]).toEqual([1, 1])
    })
  })
}
