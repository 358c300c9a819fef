/**
 * hasTable, hasColumn and hasIndex on SQLite, PostgreSQL and MariaDB: true and false for each,
 * names that need quotes (mixed case, a space, the reserved word `order`), each engine's case
 * rules, a dropped table and column, a view, a table in another schema (database on MariaDB,
 * attached database on SQLite), temporary tables, and inside a transaction, where a table the
 * transaction made is seen (and gone after its rollback on PostgreSQL and SQLite). Each question
 * is one statement.
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Backend, compose, connect, sql, wrap } from 'recordkit'
import { mysql } from 'recordkit/dialects/mysql'
import { postgres } from 'recordkit/dialects/postgres'
import { sqlite } from 'recordkit/dialects/sqlite'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'
import { mysql2 } from 'recordkit/drivers/mysql2'
import { postgresJs } from 'recordkit/drivers/postgres'
import { run } from 'recordkit/promise'
import * as d from 'recordkit/schema'
import { alter, apply, hasColumn, hasIndex, hasTable } from 'recordkit/schema'
import { MYSQL_URL, PG_URL, serverAvailable } from './support/servers.js'

const pgUp = await serverAvailable('postgres')
const mariaUp = await serverAvailable('mariadb')

type Engine = 'sqlite' | 'postgres' | 'mariadb'

const items = 'rk_has_items'
const mixed = 'RkHas Mixed'
/** The other namespace: a PostgreSQL schema, a MariaDB database, an attached SQLite database. */
const other = 'rk_has_other'

const engines: readonly (readonly [Engine, boolean, () => Promise<Backend>])[] = [
  ['sqlite', true, async () => compose(betterSqlite3({ filename: ':memory:' }), sqlite)],
  ['postgres', pgUp, () => run(connect(postgresJs({ url: PG_URL, max: 2 }), postgres))],
  ['mariadb', mariaUp, () => run(connect(mysql2({ url: MYSQL_URL, max: 2 }), mysql))],
]

const exec = (db: Backend, text: string) => run(db.execute(sql.raw(text)))

for (const [engine, available, open] of engines) {
  describe.skipIf(!available)(`hasTable, hasColumn, hasIndex on ${engine}`, () => {
    let db: Backend
    /** Identifier quoting of the engine, for the setup statements written by hand. */
    const q = (name: string) => (engine === 'mariadb' ? `\`${name}\`` : `"${name}"`)
    const dropAll = async () => {
      await exec(db, `DROP VIEW IF EXISTS ${q('rk_has_view')}`)
      for (const t of [items, mixed, 'rk_has_dropped', 'rk_has_in_tx']) await run(apply(db, d.dropTable(t, { ifExists: true })))
      if (engine === 'postgres') await exec(db, `DROP SCHEMA IF EXISTS ${q(other)} CASCADE`)
      if (engine === 'mariadb') await exec(db, `DROP DATABASE IF EXISTS ${q(other)}`)
    }

    beforeAll(async () => {
      db = await open()
      await dropAll()
      await run(apply(db,
        pipe(
          d.createTable(items),
          d.column('id', 'integer', { primaryKey: true }),
          d.column('email', 'varchar(100)'),
          d.column('code', 'varchar(20)', { unique: true }),
          d.column('Mixed Case', 'varchar(20)'),
          d.column('order', 'integer'),
          d.index(['email'], { name: 'rk_has_items_email_idx' }),
          d.index(['order', 'Mixed Case'], { name: 'rk_has Order Idx' }),
        ),
        pipe(d.createTable(mixed), d.column('Id', 'integer', { primaryKey: true })),
      ))
      await exec(db, `CREATE VIEW ${q('rk_has_view')} AS SELECT id, email FROM ${q(items)}`)
      if (engine === 'sqlite') await exec(db, `ATTACH DATABASE ':memory:' AS ${q(other)}`)
      if (engine === 'postgres') await exec(db, `CREATE SCHEMA ${q(other)}`)
      if (engine === 'mariadb') await exec(db, `CREATE DATABASE ${q(other)}`)
      await exec(db, `CREATE TABLE ${q(other)}.${q('order')} (${q('id')} integer PRIMARY KEY, ${q('by')} integer)`)
      await exec(db, engine === 'sqlite'
        ? `CREATE INDEX ${q(other)}.${q('rk_has_order_by')} ON ${q('order')} (${q('by')})`
        : `CREATE INDEX ${q('rk_has_order_by')} ON ${q(other)}.${q('order')} (${q('by')})`)
      await exec(db, `CREATE TABLE ${q(other)}.${q(items)} (${q('only_there')} integer)`)
    })

    afterAll(async () => {
      if (db === undefined) return
      await dropAll()
      await run(db.close())
    })

    it('hasTable: true for a table, false for a missing one and for a view', async () => {
      expect(await run(hasTable(db, items))).toBe(true)
      expect(await run(hasTable(db, 'rk_has_missing'))).toBe(false)
      expect(await run(hasTable(db, 'rk_has_view'))).toBe(false)
    })

    it('names that need quotes: mixed case and a space, the reserved word order', async () => {
      expect(await run(hasTable(db, mixed))).toBe(true)
      expect(await run(hasColumn(db, mixed, 'Id'))).toBe(true)
      expect(await run(hasColumn(db, items, 'Mixed Case'))).toBe(true)
      expect(await run(hasColumn(db, items, 'order'))).toBe(true)
      expect(await run(hasIndex(db, items, 'rk_has Order Idx'))).toBe(true)
      expect(await run(hasIndex(db, items, ['order', 'Mixed Case']))).toBe(true)
      expect(await run(hasTable(db, [other, 'order']))).toBe(true)
      // Unqualified, the table a statement would use: SQLite looks in attached databases too.
      expect(await run(hasTable(db, 'order'))).toBe(engine === 'sqlite')
    })

    it('case: exact on PostgreSQL, without case on SQLite, by lower_case_table_names on MariaDB', async () => {
      const lower = mixed.toLowerCase()
      if (engine === 'postgres') {
        expect(await run(hasTable(db, lower))).toBe(false)
        expect(await run(hasColumn(db, items, 'EMAIL'))).toBe(false)
        expect(await run(hasColumn(db, mixed, 'id'))).toBe(false)
        expect(await run(hasIndex(db, items, ['ORDER', 'mixed case']))).toBe(false)
      } else {
        // Column and index names are case-insensitive on SQLite, MySQL and MariaDB.
        expect(await run(hasColumn(db, items, 'EMAIL'))).toBe(true)
        expect(await run(hasColumn(db, mixed, 'id'))).toBe(true)
        expect(await run(hasIndex(db, items, ['ORDER', 'mixed case']))).toBe(true)
        expect(await run(hasIndex(db, items, 'RK_HAS ORDER IDX'))).toBe(true)
      }
      if (engine === 'sqlite') expect(await run(hasTable(db, lower))).toBe(true)
      if (engine === 'mariadb') {
        const setting = Number((await run(db.all(sql`SELECT @@lower_case_table_names AS l`)))[0].l)
        // What a statement naming the table finds, the question answers.
        const found = await run(pipe(db.all(sql`SELECT 1 FROM ${sql.id(lower)}`), TE.map(() => true), TE.orElse(() => TE.right(false))))
        expect(found).toBe(setting !== 0)
        expect(await run(hasTable(db, lower))).toBe(found)
      }
    })

    it('hasColumn: true for a column, false for a missing column or table; a view has its columns', async () => {
      expect(await run(hasColumn(db, items, 'email'))).toBe(true)
      expect(await run(hasColumn(db, items, 'only_there'))).toBe(false)
      expect(await run(hasColumn(db, items, 'nope'))).toBe(false)
      expect(await run(hasColumn(db, 'rk_has_missing', 'email'))).toBe(false)
      expect(await run(hasColumn(db, 'rk_has_view', 'email'))).toBe(true)
      expect(await run(hasColumn(db, 'rk_has_view', 'code'))).toBe(false)
    })

    it('hasIndex: by name, and by key columns in order, primary and unique keys included', async () => {
      expect(await run(hasIndex(db, items, 'rk_has_items_email_idx'))).toBe(true)
      expect(await run(hasIndex(db, items, 'rk_has_missing_idx'))).toBe(false)
      expect(await run(hasIndex(db, mixed, 'rk_has_items_email_idx'))).toBe(false)
      expect(await run(hasIndex(db, items, ['email']))).toBe(true)
      expect(await run(hasIndex(db, items, ['code']))).toBe(true)
      expect(await run(hasIndex(db, items, ['Mixed Case', 'order']))).toBe(false)
      expect(await run(hasIndex(db, items, ['order']))).toBe(false)
      expect(await run(hasIndex(db, items, ['order', 'Mixed Case', 'email']))).toBe(false)
      expect(await run(hasIndex(db, 'rk_has_missing', ['email']))).toBe(false)
      // SQLite's INTEGER PRIMARY KEY is the rowid, not an index.
      expect(await run(hasIndex(db, items, ['id']))).toBe(engine !== 'sqlite')
      if (engine === 'postgres') expect(await run(hasIndex(db, items, `${items}_pkey`))).toBe(true)
      if (engine === 'mariadb') expect(await run(hasIndex(db, items, 'PRIMARY'))).toBe(true)
    })

    it('another schema: named with a dot or an array', async () => {
      expect(await run(hasTable(db, `${other}.order`))).toBe(true)
      expect(await run(hasTable(db, `${other}.rk_has_missing`))).toBe(false)
      expect(await run(hasTable(db, 'rk_has_nowhere.order'))).toBe(false)
      expect(await run(hasColumn(db, [other, items], 'only_there'))).toBe(true)
      expect(await run(hasColumn(db, `${other}.${items}`, 'email'))).toBe(false)
      expect(await run(hasIndex(db, [other, 'order'], 'rk_has_order_by'))).toBe(true)
      expect(await run(hasIndex(db, [other, 'order'], ['by']))).toBe(true)
      expect(await run(hasIndex(db, [other, items], ['email']))).toBe(false)
      const home = engine === 'sqlite' ? 'main' : engine === 'postgres' ? 'public' : String((await run(db.all(sql`SELECT DATABASE() AS db`)))[0].db)
      expect(await run(hasTable(db, [home, items]))).toBe(true)
      expect(await run(hasIndex(db, `${home}.${items}`, ['email']))).toBe(true)
    })

    it('a dropped table and a dropped column answer false', async () => {
      await run(apply(db, pipe(d.createTable('rk_has_dropped'), d.column('id', 'integer', { primaryKey: true }), d.column('gone', 'integer'), d.column('kept', 'integer'))))
      expect(await run(hasColumn(db, 'rk_has_dropped', 'gone'))).toBe(true)
      await run(alter(db, pipe(d.alterTable('rk_has_dropped'), d.dropColumn('gone'))))
      expect(await run(hasColumn(db, 'rk_has_dropped', 'gone'))).toBe(false)
      expect(await run(hasColumn(db, 'rk_has_dropped', 'kept'))).toBe(true)
      expect(await run(hasTable(db, 'rk_has_dropped'))).toBe(true)
      await run(apply(db, d.dropTable('rk_has_dropped')))
      expect(await run(hasTable(db, 'rk_has_dropped'))).toBe(false)
      expect(await run(hasColumn(db, 'rk_has_dropped', 'kept'))).toBe(false)
    })

    it('inside a transaction: runs on its connection and sees a table it made (gone after a rollback where DDL is transactional)', async () => {
      const asked = (tx: Backend) => pipe(
        apply(tx, pipe(d.createTable('rk_has_in_tx'), d.column('id', 'integer', { primaryKey: true }), d.column('note', 'varchar(40)'), d.index(['id', 'note'], { name: 'rk_has_in_tx_note' }))),
        TE.chainW(() => TE.sequenceArray([hasTable(tx, 'rk_has_in_tx'), hasColumn(tx, 'rk_has_in_tx', 'note'), hasIndex(tx, 'rk_has_in_tx', 'rk_has_in_tx_note'), hasIndex(tx, 'rk_has_in_tx', ['id', 'note'])])),
      )
      if (engine === 'mariadb') {
        // MariaDB's DDL commits: the table is there, in the transaction and after it.
        expect(await run(db.transaction(asked))).toEqual([true, true, true, true])
        expect(await run(hasTable(db, 'rk_has_in_tx'))).toBe(true)
        await run(apply(db, d.dropTable('rk_has_in_tx')))
        return
      }
      // The answers leave as a Left, so the transaction rolls back.
      const out = await db.transaction((tx) => pipe(asked(tx), TE.chainW((answers) => TE.left({ answers }))))()
      expect(out).toEqual(E.left({ answers: [true, true, true, true] }))
      expect(await run(hasTable(db, 'rk_has_in_tx'))).toBe(false)
      expect(await run(hasColumn(db, 'rk_has_in_tx', 'note'))).toBe(false)
    })

    it('a temporary table counts for the session that made it', async () => {
      const conn = await run(db.connection())
      try {
        await exec(conn, `CREATE TEMPORARY TABLE ${q('rk_has_temp')} (${q('id')} integer, ${q('t')} integer)`)
        await exec(conn, `CREATE INDEX ${q('rk_has_temp_t')} ON ${q('rk_has_temp')} (${q('t')})`)
        if (engine === 'mariadb') {
          // information_schema lists temporary tables from MariaDB 11.2 on.
          const version = String((await run(conn.all(sql`SELECT VERSION() AS v`)))[0].v)
          const [major, minor] = version.split('.').map(Number)
          const listed = major > 11 || (major === 11 && minor >= 2)
          expect(await run(hasTable(conn, 'rk_has_temp'))).toBe(listed)
        } else {
          expect(await run(hasTable(conn, 'rk_has_temp'))).toBe(true)
          expect(await run(hasTable(conn, [engine === 'sqlite' ? 'temp' : 'pg_temp', 'rk_has_temp']))).toBe(true)
          expect(await run(hasColumn(conn, 'rk_has_temp', 't'))).toBe(true)
          expect(await run(hasIndex(conn, 'rk_has_temp', ['t']))).toBe(true)
          expect(await run(hasIndex(conn, 'rk_has_temp', 'rk_has_temp_t'))).toBe(true)
        }
        if (engine === 'postgres') {
          // Another session does not see it.
          const elsewhere = await run(connect(postgresJs({ url: PG_URL, max: 1 }), postgres))
          try {
            expect(await run(hasTable(elsewhere, 'rk_has_temp'))).toBe(false)
          } finally {
            await run(elsewhere.close())
          }
        }
        await exec(conn, `DROP ${engine === 'mariadb' ? 'TEMPORARY ' : ''}TABLE ${q('rk_has_temp')}`)
        expect(await run(hasTable(conn, 'rk_has_temp'))).toBe(false)
      } finally {
        await run(conn.release())
      }
    })

    it('each question is one statement', async () => {
      const statements: unknown[] = []
      const counted = wrap(db, { execute: (next) => (query) => { statements.push(query); return next(query) } })
      for (const ask of [hasTable(counted, items), hasColumn(counted, items, 'email'), hasIndex(counted, items, 'rk_has_items_email_idx'), hasIndex(counted, items, ['email'])]) {
        statements.length = 0
        expect(await run(ask)).toBe(true)
        expect(statements).toHaveLength(1)
      }
    })

    it('a name that is not one or two names, or an empty column list, is a QueryError', async () => {
      for (const ask of [hasTable(db, 'a.b.c'), hasColumn(db, ['x', 'y', 'z'], 'c'), hasTable(db, ''), hasIndex(db, 'a..b', 'i'), hasIndex(db, items, [])]) {
        const e = await ask()
        expect(E.isLeft(e) && e.left._tag).toBe('QueryError')
      }
    })
  })
}
