/**
 * An index name recordkit makes up (`table_columns_idx`) fits every engine: one longer than 63
 * bytes (PostgreSQL cuts longer names silently, MySQL and MariaDB refuse more than 64 characters)
 * is shortened to 63 with a hash of the whole name, so it is the same on every engine, two long
 * names stay apart, and the name the builder gives is the one the database has.
 */
import { pipe } from 'fp-ts/lib/function.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Backend, compose, connect } from 'recordkit'
import { mysql } from 'recordkit/dialects/mysql'
import { postgres } from 'recordkit/dialects/postgres'
import { sqlite } from 'recordkit/dialects/sqlite'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'
import { mysql2 } from 'recordkit/drivers/mysql2'
import { postgresJs } from 'recordkit/drivers/postgres'
import { run } from 'recordkit/promise'
import { apply, introspectTable } from 'recordkit/schema'
import * as d from 'recordkit/schema'
import { MYSQL_URL, PG_URL, serverAvailable } from './support/servers.js'

const pgUp = await serverAvailable('postgres')
const mariaUp = await serverAvailable('mariadb')
const t = 'pin_subscription_line_items'
const cols = ['customer_account_id', 'billing_period_start', 'billing_period_end'] as const
const bytes = (s: string) => new TextEncoder().encode(s).length

describe('generated index names', () => {
  it('keeps a short name as it was', () => {
    expect(d.createIndex('users', ['email']).index.name).toBe('users_email_idx')
    expect(d.createIndex('users', ['email'], { unique: true }).index.name).toBe('users_email_key')
  })

  it('shortens a long one to 63 bytes with a hash of the whole name, keeping its ending', () => {
    const long = d.createIndex(t, [...cols]).index.name
    expect(long).toMatch(/^pin_subscription_line_items_customer_account_id_bi_[0-9a-f]{8}_idx$/)
    expect(bytes(long)).toBeLessThanOrEqual(63)
    expect(d.createIndex(t, [...cols]).index.name).toBe(long)
    const other = d.createIndex(t, [cols[0], cols[1], 'billing_period_ended']).index.name
    expect(other).not.toBe(long)
    expect(d.createIndex(t, [...cols], { unique: true }).index.name).toMatch(/_[0-9a-f]{8}_key$/)
    const wide = d.createIndex('été_été_été_été_été_été', ['été_été_été_été_été_été', 'été_été_été']).index.name
    expect(bytes(wide)).toBeLessThanOrEqual(63)
  })
})

const engines: readonly (readonly [string, boolean, () => Promise<Backend>])[] = [
  ['SQLite', true, async () => compose(betterSqlite3({ filename: ':memory:' }), sqlite)],
  ['PostgreSQL', pgUp, () => run(connect(postgresJs({ url: PG_URL, max: 2 }), postgres))],
  ['MariaDB', mariaUp, () => run(connect(mysql2({ url: MYSQL_URL, max: 2 }), mysql))],
]

for (const [engine, available, open] of engines) {
  describe.skipIf(!available)(`a long generated index name on ${engine}`, () => {
    let db: Backend
    beforeAll(async () => {
      db = await open()
      await run(apply(db, d.dropTable(t, { ifExists: true })))
    })
    afterAll(async () => {
      if (db === undefined) return
      await run(apply(db, d.dropTable(t, { ifExists: true })))
      await run(db.close())
    })

    it('is created, read back and dropped under the name the builder gives', async () => {
      const create = pipe(d.createTable(t), d.column('customer_account_id', 'integer'), d.column('billing_period_start', 'date'), d.column('billing_period_end', 'date'), d.index([...cols]))
      const name = create.table.indexes[0].name
      await run(apply(db, create))
      expect((await run(introspectTable(db, t))).indexes.map((i) => i.name)).toEqual([name])
      await run(apply(db, d.dropIndex(name, { table: t })))
      expect((await run(introspectTable(db, t))).indexes).toEqual([])
    })
  })
}
