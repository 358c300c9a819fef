/**
 * An error's message shows at most the first SQL_IN_MESSAGE characters of its statement, then an
 * ellipsis and the statement's length; the error's `sql` field keeps the whole text. Provoked on
 * every engine with a failing IN list of 70,000 placeholders.
 */
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Backend, compose, connect, type DbError, sql, SQL_IN_MESSAGE } from 'recordkit'
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

const ids = Array.from({ length: 70_000 }, (_, i) => i)

const failure = async (db: Backend, q: Parameters<Backend['execute']>[0]): Promise<DbError> => {
  const r = await db.execute(q)()
  if (E.isRight(r)) throw new Error('expected the statement to fail')
  return r.left
}

/** The error of a SELECT ... IN (70,000 values) from a table that does not exist. */
const longFailure = (db: Backend): Promise<DbError> =>
  failure(db, sql`SELECT id FROM errl_nowhere WHERE id IN (${sql.join(ids)})`)

const expectCapped = (e: DbError): void => {
  const sqlText = e.sql ?? ''
  expect(sqlText.length).toBeGreaterThan(140_000)
  expect(sqlText.startsWith('SELECT id FROM errl_nowhere WHERE id IN (')).toBe(true)
  const [first, shown, ...rest] = e.message.split('\n  SQL: ')
  expect(rest).toEqual([])
  expect(first.length).toBeLessThan(1000)
  expect(shown).toBe(`${sqlText.slice(0, SQL_IN_MESSAGE)}… (${sqlText.length} characters in all)`)
  expect(e.params).toHaveLength(70_000)
}

describe('the statement in an error message', () => {
  it('is cut after SQL_IN_MESSAGE characters on SQLite, whole in the sql field', async () => {
    const db = compose(betterSqlite3({ filename: ':memory:' }), sqlite)
    expectCapped(await longFailure(db))
    await run(db.close())
  })

  it('stays whole when it is short', async () => {
    const db = compose(betterSqlite3({ filename: ':memory:' }), sqlite)
    const e = await failure(db, sql`SELECT id FROM errl_nowhere WHERE id = ${1}`)
    expect(e.message).toBe('no such table: errl_nowhere\n  SQL: SELECT id FROM errl_nowhere WHERE id = ?')
    await run(db.close())
  })

  it('is never cut inside a character written as a surrogate pair', async () => {
    const db = compose(betterSqlite3({ filename: ':memory:' }), sqlite)
    // 'SELECT ' and the quote are 8 characters: the emoji's first half is character 1000.
    const text = `SELECT '${'x'.repeat(SQL_IN_MESSAGE - 9)}😀😀' FROM errl_nowhere`
    const e = await failure(db, sql.raw(text))
    expect(e.sql).toBe(text)
    const shown = e.message.split('\n  SQL: ')[1]
    expect(shown).toBe(`${text.slice(0, SQL_IN_MESSAGE - 1)}… (${text.length} characters in all)`)
    expect(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/.test(shown)).toBe(false)
    await run(db.close())
  })
})

describe.skipIf(!pgUp)('the statement in an error message on PostgreSQL', () => {
  let db: Backend
  beforeAll(async () => { db = await run(connect(postgresJs({ url: PG_URL, max: 1 }), postgres)) })
  afterAll(async () => { if (db !== undefined) await run(db.close()) })
  it('is cut after SQL_IN_MESSAGE characters', async () => {
    expectCapped(await longFailure(db))
  })
})

describe.skipIf(!mariaUp)('the statement in an error message on MariaDB', () => {
  let db: Backend
  beforeAll(async () => { db = await run(connect(mysql2({ url: MYSQL_URL, max: 1 }), mysql)) })
  afterAll(async () => { if (db !== undefined) await run(db.close()) })
  it('is cut after SQL_IN_MESSAGE characters', async () => {
    expectCapped(await longFailure(db))
  })
})
