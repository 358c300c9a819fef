/**
 * A value too long or out of range for its column is a ValueTooLarge, on the real servers:
 * PostgreSQL SQLSTATE 22001 / 22003, MariaDB errno 1406 / 1264 (naming the column, as the server
 * does). Unlike a statement over max_allowed_packet, it leaves the MariaDB connection in place:
 * a transaction goes on after it. SQLite does not enforce declared lengths.
 */
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Backend, compose, connect, type DbError, isDbError, sql } from 'recordkit'
import { mysql } from 'recordkit/dialects/mysql'
import { postgres } from 'recordkit/dialects/postgres'
import { sqlite } from 'recordkit/dialects/sqlite'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'
import { mysql2 } from 'recordkit/drivers/mysql2'
import { postgresJs } from 'recordkit/drivers/postgres'
import { run } from 'recordkit/promise'
import { MYSQL_URL, PG_URL, serverAvailable } from './support/servers.js'

const mariaUp = await serverAvailable('mariadb')
const pgUp = await serverAvailable('postgres')

const failure = async (db: Backend, q: Parameters<Backend['execute']>[0]): Promise<DbError> => {
  const r = await db.execute(q)()
  if (E.isRight(r)) throw new Error('expected the statement to fail')
  return r.left
}

describe.skipIf(!pgUp)('a value that does not fit its column on PostgreSQL', () => {
  let db: Backend
  beforeAll(async () => {
    db = await run(connect(postgresJs({ url: PG_URL, max: 2 }), postgres))
    await run(db.execute(sql`DROP TABLE IF EXISTS errv_pg`))
    await run(db.execute(sql`CREATE TABLE errv_pg (id integer PRIMARY KEY, code varchar(3), n smallint, amount numeric(4, 2))`))
  })
  afterAll(async () => {
    if (db === undefined) return
    await run(db.execute(sql`DROP TABLE IF EXISTS errv_pg`))
    await run(db.close())
  })

  it('a string too long (22001) is a ValueTooLarge with the statement', async () => {
    const e = await failure(db, sql`INSERT INTO errv_pg (id, code) VALUES (${1}, ${'abcdef'})`)
    expect(e._tag).toBe('ValueTooLarge')
    expect(e.code).toBe('22001')
    expect(e.message).toMatch(/^value too long for type character varying\(3\)\n {2}SQL: INSERT INTO errv_pg/)
    expect(e.sql).toBe('INSERT INTO errv_pg (id, code) VALUES ($1, $2)')
    expect(e.params).toEqual([1, 'abcdef'])
  })

  it('a number out of its type (22003) is a ValueTooLarge, bound or written in the text', async () => {
    for (const q of [sql`INSERT INTO errv_pg (id, n) VALUES (${2}, ${99999})`, sql`INSERT INTO errv_pg (id, amount) VALUES (3, 12345)`]) {
      const e = await failure(db, q)
      expect([e._tag, e.code]).toEqual(['ValueTooLarge', '22003'])
    }
    // The pool goes on.
    await run(db.execute(sql`INSERT INTO errv_pg (id, code, n) VALUES (${4}, ${'abc'}, ${7})`))
    expect(await run(db.all(sql`SELECT id, code, n FROM errv_pg`))).toEqual([{ id: 4, code: 'abc', n: 7 }])
  })
})

describe.skipIf(!mariaUp)('a value that does not fit its column on MariaDB', () => {
  let db: Backend
  let text: Backend
  beforeAll(async () => {
    db = await run(connect(mysql2({ url: MYSQL_URL, max: 2 }), mysql))
    text = await run(connect(mysql2({ url: MYSQL_URL, max: 1, prepare: false }), mysql))
    await run(db.execute(sql`DROP TABLE IF EXISTS errv_my`))
    await run(db.execute(sql`CREATE TABLE errv_my (id INT PRIMARY KEY, \`it's\` VARCHAR(3), n TINYINT, amount DECIMAL(4, 2))`))
  })
  afterAll(async () => {
    if (db === undefined) return
    await run(db.execute(sql`DROP TABLE IF EXISTS errv_my`))
    await run(db.close())
    await run(text.close())
  })

  it('data too long (1406) is a ValueTooLarge naming the column, prepared or as text', async () => {
    for (const on of [db, text]) {
      const e = await failure(on, sql`INSERT INTO errv_my (id, \`it's\`) VALUES (${1}, ${'abcdef'})`)
      expect(e._tag).toBe('ValueTooLarge')
      expect(e.code).toBe(1406)
      expect(isDbError(e, 'ValueTooLarge') && e.column).toBe("it's")
      expect(e.message).toMatch(/^Data too long for column 'it's' at row 1\n {2}SQL: INSERT INTO errv_my/)
    }
  })

  it('out of range (1264) is a ValueTooLarge naming the column, in any row of a multi-row insert', async () => {
    const e = await failure(db, sql`INSERT INTO errv_my (id, n) VALUES (${2}, ${1}), (${3}, ${300})`)
    expect([e._tag, e.code]).toEqual(['ValueTooLarge', 1264])
    expect(isDbError(e, 'ValueTooLarge') && e.column).toBe('n')
    const d = await failure(text, sql`INSERT INTO errv_my (id, amount) VALUES (${4}, ${12345})`)
    expect([d._tag, isDbError(d, 'ValueTooLarge') && d.column]).toEqual(['ValueTooLarge', 'amount'])
  })

  it('keeps the connection: a transaction goes on after it and commits (unlike a packet too large)', async () => {
    await run(db.transaction((tx) => async () => {
      await run(tx.execute(sql`INSERT INTO errv_my (id, \`it's\`) VALUES (${10}, ${'ok'})`))
      const e = await failure(tx, sql`INSERT INTO errv_my (id, \`it's\`) VALUES (${11}, ${'far too long'})`)
      expect(e._tag).toBe('ValueTooLarge')
      await run(tx.execute(sql`INSERT INTO errv_my (id, \`it's\`) VALUES (${12}, ${'yes'})`))
      return E.right(undefined)
    }))
    expect(await run(db.all(sql`SELECT id FROM errv_my ORDER BY id`))).toEqual([{ id: 10 }, { id: 12 }])
  })
})

describe('a value longer than its declared type on SQLite', () => {
  it('is stored as it is: SQLite does not enforce lengths (use a CHECK constraint for that)', async () => {
    const db = compose(betterSqlite3({ filename: ':memory:' }), sqlite)
    await run(db.execute(sql`CREATE TABLE errv_lite (code VARCHAR(3), checked VARCHAR(3) CHECK (length(checked) <= 3))`))
    await run(db.execute(sql`INSERT INTO errv_lite (code) VALUES (${'abcdef'})`))
    expect(await run(db.all(sql`SELECT code FROM errv_lite`))).toEqual([{ code: 'abcdef' }])
    const e = await failure(db, sql`INSERT INTO errv_lite (checked) VALUES (${'abcdef'})`)
    expect(e._tag).toBe('CheckViolation')
    await run(db.close())
  })
})
