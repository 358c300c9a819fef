/**
 * `insertId` is decided by what a statement is, not by how its text starts: an INSERT behind a
 * block or line comment reports its key as a bare one does (SQLite and MariaDB), and a query or
 * an INSERT ... RETURNING behind one counts its rows as a bare one does. On SQLite an upsert
 * reports the key of the row it inserted even when that rowid equals the connection's previous
 * last insert rowid (a row of another table, or a deleted row's rowid used again), and none
 * when it updated.
 */
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Backend, compose, connect, type QueryResult } from 'recordkit'
import { mysql } from 'recordkit/dialects/mysql'
import { sqlite } from 'recordkit/dialects/sqlite'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'
import { mysql2 } from 'recordkit/drivers/mysql2'
import { run } from 'recordkit/promise'
import { MYSQL_URL, serverAvailable } from './support/servers.js'

const mariaUp = await serverAvailable('mariadb')

const result = async (db: Backend, text: string, ...params: unknown[]): Promise<QueryResult> => {
  const r = await db.execute({ sql: text, params })()
  if (E.isLeft(r)) throw r.left
  return r.right
}
const only = (r: QueryResult) => ({ insertId: r.insertId, rowsAffected: r.rowsAffected })

const T = 'drv_insert_id'
const U = 'drv_insert_id_other'

const commented = (insert: string): string[] => [
  `/* tag */ ${insert}`,
  `-- a line comment\n${insert}`,
  `  /* one */ -- two\n /* three\n */ ${insert}`,
]

describe('insertId on SQLite', () => {
  let db: Backend
  beforeAll(async () => {
    db = compose(betterSqlite3({ filename: ':memory:' }), sqlite)
    await result(db, `CREATE TABLE ${T} (id INTEGER PRIMARY KEY, k TEXT UNIQUE, v INTEGER)`)
    await result(db, `CREATE TABLE ${U} (id INTEGER PRIMARY KEY, k TEXT UNIQUE, v INTEGER)`)
  })
  afterAll(async () => {
    await run(db.close())
  })

  it('an INSERT behind comments reports its key, as a bare one does; a query behind one affects no rows', async () => {
    let n = 0
    for (const text of commented(`INSERT INTO ${T} (k, v) VALUES (?, 1)`)) {
      n++
      expect(only(await result(db, text, `c${n}`))).toEqual({ insertId: n, rowsAffected: 1 })
    }
    expect(only(await result(db, `/* c */ UPDATE ${T} SET v = 2 WHERE k = 'c1'`))).toEqual({ insertId: undefined, rowsAffected: 1 })
    const q = await result(db, `/* c */ SELECT k FROM ${T} ORDER BY id`)
    expect(q).toEqual({ rows: [{ k: 'c1' }, { k: 'c2' }, { k: 'c3' }], rowsAffected: 0 })
    const ret = await result(db, `-- c\nINSERT INTO ${T} (k, v) VALUES ('r1', 1), ('r2', 1) RETURNING id`)
    expect(ret).toEqual({ rows: [{ id: 4 }, { id: 5 }], rowsAffected: 2 })
  })

  it('an upsert behind a comment, or with comments inside its ON CONFLICT, reports no earlier key when it updated', async () => {
    await result(db, `INSERT INTO ${U} (k, v) VALUES ('u0', 0)`)
    for (const text of [
      `/* c */ INSERT INTO ${T} (k, v) VALUES ('c1', 7) ON CONFLICT (k) DO UPDATE SET v = excluded.v`,
      `INSERT INTO ${T} (k, v) VALUES ('c1', 8) ON /* here */ CONFLICT (k) DO /* and here */ UPDATE SET v = excluded.v`,
    ]) expect(only(await result(db, text))).toEqual({ insertId: undefined, rowsAffected: 1 })
  })

  it('an upsert that inserts the rowid the connection inserted last (in another table) reports it', async () => {
    await result(db, `DELETE FROM ${T}`)
    await result(db, `DELETE FROM ${U}`)
    // The last insert: rowid 1 of the other table. The upsert then inserts rowid 1 here.
    expect(only(await result(db, `INSERT INTO ${U} (id, k, v) VALUES (1, 'o', 0)`))).toEqual({ insertId: 1, rowsAffected: 1 })
    const upsert = `INSERT INTO ${T} (id, k, v) VALUES (1, 'same', 1) ON CONFLICT (k) DO UPDATE SET v = excluded.v`
    expect(only(await result(db, upsert))).toEqual({ insertId: 1, rowsAffected: 1 })
    // The same upsert again updates: no key, although the last insert rowid is still 1.
    expect(only(await result(db, upsert))).toEqual({ insertId: undefined, rowsAffected: 1 })
  })

  it('an upsert that reuses a deleted row\'s rowid reports it', async () => {
    await result(db, `DELETE FROM ${T}`)
    const first = await result(db, `INSERT INTO ${T} (k, v) VALUES ('gone', 1)`)
    await result(db, `DELETE FROM ${T} WHERE id = ?`, first.insertId)
    const again = await result(db, `INSERT INTO ${T} (k, v) VALUES ('new', 1) ON CONFLICT (k) DO UPDATE SET v = excluded.v`)
    expect(only(again)).toEqual({ insertId: first.insertId, rowsAffected: 1 })
  })

  it('inside a transaction that rolls back, and after it, an upsert still tells inserted from updated', async () => {
    await result(db, `DELETE FROM ${T}`)
    await db.transaction((tx) => async () => {
      expect(only(await result(tx, `INSERT INTO ${T} (k, v) VALUES ('t', 1) ON CONFLICT (k) DO UPDATE SET v = excluded.v`)).insertId).toBeDefined()
      return E.left('undo')
    })()
    const inserted = await result(db, `INSERT INTO ${T} (k, v) VALUES ('t', 1) ON CONFLICT (k) DO UPDATE SET v = excluded.v`)
    expect(inserted.insertId).toBeDefined()
    expect(only(await result(db, `INSERT INTO ${T} (k, v) VALUES ('t', 2) ON CONFLICT (k) DO UPDATE SET v = excluded.v`))).toEqual({ insertId: undefined, rowsAffected: 1 })
  })
})

describe.skipIf(!mariaUp)('insertId on MariaDB', () => {
  let db: Backend
  let text: Backend
  beforeAll(async () => {
    db = await run(connect(mysql2({ url: MYSQL_URL, max: 1 }), mysql))
    text = await run(connect(mysql2({ url: MYSQL_URL, max: 1, prepare: false }), mysql))
    await result(db, `DROP TABLE IF EXISTS ${T}`)
    await result(db, `CREATE TABLE ${T} (id INT AUTO_INCREMENT PRIMARY KEY, k VARCHAR(20) UNIQUE, v INT)`)
  })
  afterAll(async () => {
    if (db === undefined) return
    await result(db, `DROP TABLE IF EXISTS ${T}`)
    await run(db.close())
    await run(text.close())
  })

  it('an INSERT behind comments reports its key; an INSERT ... RETURNING behind one counts its rows', async () => {
    let n = 0
    for (const on of [db, text]) {
      for (const insert of [...commented(`INSERT INTO ${T} (k, v) VALUES (?, 1)`), `# hash comment\nINSERT INTO ${T} (k, v) VALUES (?, 1)`]) {
        n++
        expect(only(await result(on, insert, `m${n}`))).toEqual({ insertId: n, rowsAffected: 1 })
      }
      const ret = await result(on, `/* c */ INSERT INTO ${T} (k, v) VALUES (?, 1), (?, 1) RETURNING id`, `r${n}`, `s${n}`)
      expect(ret).toEqual({ rows: [{ id: n + 1 }, { id: n + 2 }], rowsAffected: 2 })
      n += 2
      const q = await result(on, `/* c */ SELECT COUNT(*) AS c FROM ${T}`)
      expect(q.rowsAffected).toBe(0)
    }
  })
})
