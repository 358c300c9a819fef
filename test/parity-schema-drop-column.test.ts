/**
 * Dropping a column drops the CHECK constraints that read it, as PostgreSQL and MariaDB do
 * themselves; on SQLite (whose ALTER TABLE refuses to drop such a column) the table rebuild
 * leaves them out, keeping the rows and the other checks.
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type Backend, compose, connect, sql } from 'recordkit'
import { mysql } from 'recordkit/dialects/mysql'
import { postgres } from 'recordkit/dialects/postgres'
import { sqlite } from 'recordkit/dialects/sqlite'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'
import { mysql2 } from 'recordkit/drivers/mysql2'
import { postgresJs } from 'recordkit/drivers/postgres'
import { run } from 'recordkit/promise'
import { alter, apply, applyAlter, introspectTable } from 'recordkit/schema'
import * as d from 'recordkit/schema'
import { MYSQL_URL, PG_URL, serverAvailable } from './support/servers.js'

const pgUp = await serverAvailable('postgres')
const mariaUp = await serverAvailable('mariadb')
const t = 'pdc_items'

const engines: readonly (readonly [string, boolean, () => Promise<Backend>])[] = [
  ['SQLite', true, async () => compose(betterSqlite3({ filename: ':memory:' }), sqlite)],
  ['PostgreSQL', pgUp, () => run(connect(postgresJs({ url: PG_URL, max: 2 }), postgres))],
  ['MariaDB', mariaUp, () => run(connect(mysql2({ url: MYSQL_URL, max: 2 }), mysql))],
]

for (const [engine, available, open] of engines) {
  describe.skipIf(!available)(`dropping a column a CHECK reads, on ${engine}`, () => {
    let db: Backend
    beforeAll(async () => { db = await open() })
    beforeEach(async () => {
      await run(apply(db,
        d.dropTable(t, { ifExists: true }),
        pipe(
          d.createTable(t),
          d.column('id', 'integer', { primaryKey: true }),
          d.column('qty', 'integer', { notNull: true, check: 'qty >= 0' }),
          d.column('qty_limit', 'integer', { notNull: true }),
          d.check('qty_limit > 0', { name: 'pdc_limit_positive' }),
        ),
      ))
      await run(db.execute(sql.raw(`INSERT INTO ${t} (id, qty, qty_limit) VALUES (1, 3, 10)`)))
    })
    afterAll(async () => {
      if (db === undefined) return
      await run(apply(db, d.dropTable(t, { ifExists: true })))
      await run(db.close())
    })

    it('drops the column and its check, keeps the rows and the check of another column', async () => {
      await run(alter(db, pipe(d.alterTable(t), d.dropColumn('qty'))))
      expect(await run(db.all(sql.raw(`SELECT id, qty_limit FROM ${t}`)))).toEqual([{ id: 1, qty_limit: 10 }])
      const table = await run(introspectTable(db, t))
      expect(table.columns.map((c) => c.name)).toEqual(['id', 'qty_limit'])
      expect(table.checks.map((c) => c.expression)).toEqual(['qty_limit > 0'])
      const broken = await db.execute(sql.raw(`INSERT INTO ${t} (id, qty_limit) VALUES (2, 0)`))()
      expect(E.isLeft(broken) && broken.left._tag).toBe('CheckViolation')
    })
  })
}

describe('applyAlter: a dropped column takes the checks that read it', () => {
  const table = pipe(
    d.createTable('orders'),
    d.column('qty', 'integer'),
    d.column('qty2', 'integer'),
    d.column('note', 'text'),
    d.check('"qty" >= 0'),
    d.check('qty2 > 0 AND note <> \'qty\''),
    d.check('qty < qty2', { name: 'orders_both' }),
  ).table

  it('by the column name, quoted or not, and not by a longer name or a string', () => {
    const after = applyAlter(table, pipe(d.alterTable('orders'), d.dropColumn('qty')))
    expect(after.checks).toEqual([{ expression: 'qty2 > 0 AND note <> \'qty\'' }])
  })

  it('and the partial indexes whose condition reads it, as PostgreSQL drops them', () => {
    const indexed = pipe(d.createTable('orders'), d.column('id', 'integer'), d.column('qty', 'integer'), d.column('qty2', 'integer'),
      d.index(['id'], { where: 'qty > 0', name: 'orders_positive' }), d.index(['id'], { where: 'qty2 > 0', name: 'orders_positive2' })).table
    const after = applyAlter(indexed, pipe(d.alterTable('orders'), d.dropColumn('qty')))
    expect(after.indexes.map((i) => i.name)).toEqual(['orders_positive2'])
  })
})
