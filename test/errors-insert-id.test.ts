/**
 * `insertId` is reported only by a statement that inserted a row, never carried over from an
 * earlier one: SQLite (whose last_insert_rowid() is the connection's last insert), MariaDB and
 * PostgreSQL (which reports none: RETURNING gives keys there) agree on every statement kind.
 */
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Backend, compose, connect, type QueryResult, sql } from 'recordkit'
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

type Engine = 'sqlite' | 'mariadb' | 'postgres'

/** The result of a statement, without its (empty) rows. */
const result = async (db: Backend, text: string, ...params: unknown[]): Promise<Omit<QueryResult, 'rows'>> => {
  const r = await db.execute({ sql: text, params })()
  if (E.isLeft(r)) throw r.left
  const { rows: _, ...rest } = r.right
  return rest
}

interface Statements {
  readonly create: string
  readonly ignored: string
  readonly upsert: (v: number) => string
}

const statements: Readonly<Record<Engine, Statements>> = {
  sqlite: {
    create: 'CREATE TABLE errid_t (id INTEGER PRIMARY KEY, k TEXT UNIQUE, v INTEGER)',
    ignored: "INSERT INTO errid_t (k, v) VALUES ('a', 9) ON CONFLICT DO NOTHING",
    upsert: (v) => `INSERT INTO errid_t (k, v) VALUES ('a', ${v}) ON CONFLICT (k) DO UPDATE SET v = excluded.v`,
  },
  postgres: {
    create: 'CREATE TABLE errid_t (id serial PRIMARY KEY, k text UNIQUE, v integer)',
    ignored: "INSERT INTO errid_t (k, v) VALUES ('a', 9) ON CONFLICT DO NOTHING",
    upsert: (v) => `INSERT INTO errid_t (k, v) VALUES ('a', ${v}) ON CONFLICT (k) DO UPDATE SET v = excluded.v`,
  },
  mariadb: {
    create: 'CREATE TABLE errid_t (id INT AUTO_INCREMENT PRIMARY KEY, k VARCHAR(10) UNIQUE, v INT)',
    ignored: "INSERT IGNORE INTO errid_t (k, v) VALUES ('a', 9)",
    upsert: (v) => `INSERT INTO errid_t (k, v) VALUES ('a', ${v}) ON DUPLICATE KEY UPDATE v = VALUES(v)`,
  },
}

const behaves = (engine: Engine, open: () => Promise<Backend>) => {
  let db: Backend
  const s = statements[engine]
  // PostgreSQL reports no insertId at all; SQLite and MariaDB the key of the row inserted.
  const key = (id: number): number | undefined => (engine === 'postgres' ? undefined : id)
  const only = (r: Omit<QueryResult, 'rows'>) => ({ insertId: r.insertId, rowsAffected: r.rowsAffected })
  beforeAll(async () => {
    db = await open()
    await run(db.execute(sql.raw('DROP TABLE IF EXISTS errid_t')))
    await run(db.execute(sql.raw(s.create)))
  })
  afterAll(async () => {
    if (db === undefined) return
    await run(db.execute(sql.raw('DROP TABLE IF EXISTS errid_t')))
    await run(db.close())
  })

  it('an INSERT reports the key it generated', async () => {
    expect(only(await result(db, "INSERT INTO errid_t (k, v) VALUES ('a', 1)"))).toEqual({ insertId: key(1), rowsAffected: 1 })
    expect(only(await result(db, "INSERT INTO errid_t (k, v) VALUES ('b', 1)"))).toEqual({ insertId: key(2), rowsAffected: 1 })
  })

  it('an UPDATE or DELETE after it reports none, whether it changed rows or not', async () => {
    expect(only(await result(db, "UPDATE errid_t SET v = 2 WHERE k = 'a'"))).toEqual({ insertId: undefined, rowsAffected: 1 })
    expect(only(await result(db, "UPDATE errid_t SET v = 2 WHERE k = 'none'"))).toEqual({ insertId: undefined, rowsAffected: 0 })
    expect(only(await result(db, "DELETE FROM errid_t WHERE k = 'none'"))).toEqual({ insertId: undefined, rowsAffected: 0 })
    // Prepared again (the statement cache holds it now): still none.
    expect(only(await result(db, "UPDATE errid_t SET v = 2 WHERE k = 'none'"))).toEqual({ insertId: undefined, rowsAffected: 0 })
  })

  it('an INSERT that inserted nothing reports none', async () => {
    expect(only(await result(db, s.ignored))).toEqual({ insertId: undefined, rowsAffected: 0 })
  })

  it('an upsert reports the key it inserted; when it updated, no earlier key (MariaDB: the row it updated)', async () => {
    // (An ignored insert may have used up a key: the keys are read back.)
    const idOf = async (k: string): Promise<number> => Number((await run(db.all<{ id: unknown }>(sql.raw(`SELECT id FROM errid_t WHERE k = '${k}'`))))[0]?.id)
    await result(db, "DELETE FROM errid_t WHERE k = 'a'")
    const inserted = await result(db, s.upsert(5))
    const a = await idOf('a')
    expect(inserted.insertId).toBe(key(a))
    expect((await result(db, "INSERT INTO errid_t (k, v) VALUES ('c', 1)")).insertId).toBe(key(await idOf('c')))
    const updated = await result(db, s.upsert(6))
    expect(updated.insertId).toBe(engine === 'mariadb' ? a : undefined)
    expect(await run(db.all(sql.raw("SELECT v FROM errid_t WHERE k = 'a'")))).toEqual([{ v: 6 }])
  })

  it('a DELETE inside a transaction after an INSERT reports none', async () => {
    const r = await run(db.transaction((tx) => async () => {
      await run(tx.execute(sql.raw("INSERT INTO errid_t (k, v) VALUES ('d', 1)")))
      return E.right(await result(tx, "DELETE FROM errid_t WHERE k = 'd'"))
    }))
    expect(only(r)).toEqual({ insertId: undefined, rowsAffected: 1 })
  })
}

describe('insertId on SQLite', () => behaves('sqlite', async () => compose(betterSqlite3({ filename: ':memory:' }), sqlite)))
describe('insertId on SQLite, integers as BigInts', () => {
  it('an UPDATE after an INSERT reports none; the INSERT its key as a BigInt', async () => {
    const db = compose(betterSqlite3({ filename: ':memory:', integers: 'bigint' }), sqlite)
    await run(db.execute(sql.raw(statements.sqlite.create)))
    expect((await result(db, "INSERT INTO errid_t (k, v) VALUES ('a', 1)")).insertId).toBe(1n)
    expect((await result(db, "UPDATE errid_t SET v = 3 WHERE k = 'a'")).insertId).toBeUndefined()
    expect((await result(db, statements.sqlite.upsert(4))).insertId).toBeUndefined()
    await run(db.close())
  })
})
describe.skipIf(!mariaUp)('insertId on MariaDB', () => behaves('mariadb', () => run(connect(mysql2({ url: MYSQL_URL, max: 2 }), mysql))))
describe.skipIf(!pgUp)('insertId on PostgreSQL', () => behaves('postgres', () => run(connect(postgresJs({ url: PG_URL, max: 2 }), postgres))))
