/**
 * JSON built or cast in a query comes back parsed on SQLite, PostgreSQL and MariaDB alike:
 * `jsonArrayFrom`, `jsonObjectFrom`, `jsonBuildObject`, `cast(x, 'json')` and columns read
 * with `readAs(column, 'json')`. Rows from the real databases.
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { compose, connect, run, sql, type Backend } from 'recordkit'
import {
  as, cast, col, count, eq, from, insertInto, jsonArrayFrom, jsonBuildObject, jsonObjectFrom, orderBy, param, readAs, select, val, values, where,
} from 'recordkit/query'
import { mysql } from 'recordkit/dialects/mysql'
import { postgres } from 'recordkit/dialects/postgres'
import { sqlite } from 'recordkit/dialects/sqlite'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'
import { mysql2 } from 'recordkit/drivers/mysql2'
import { postgresJs } from 'recordkit/drivers/postgres'
import { MYSQL_URL, PG_URL, serverAvailable } from './support/servers.js'

const mariadbAvailable = await serverAvailable('mariadb')
const postgresAvailable = await serverAvailable('postgres')

const engines = [
  { name: 'sqlite', available: true, open: async (): Promise<Backend> => compose(betterSqlite3({ filename: ':memory:' }), sqlite), jsonType: 'TEXT' },
  { name: 'postgres', available: postgresAvailable, open: () => run(connect(postgresJs({ url: PG_URL, max: 2 }), postgres)), jsonType: 'JSONB' },
  { name: 'mariadb', available: mariadbAvailable, open: () => run(connect(mysql2({ url: MYSQL_URL, max: 2 }), mysql)), jsonType: 'JSON' },
] as const

describe('cast(x, json) SQL per dialect', () => {
  it('is CAST AS JSONB on PostgreSQL, json() on SQLite, JSON_EXTRACT(x, \'$\') on MySQL and MariaDB', () => {
    const q = pipe(from('t'), select(as(cast('doc', 'json'), 'd')))
    const text = (d: typeof sqlite) => { const c = d.compile(q); return E.isRight(c) ? c.right.sql : c.left.message }
    expect(text(postgres)).toBe('SELECT CAST(CAST("doc" AS JSONB) AS TEXT) AS "d" FROM "t"')
    expect(text(sqlite)).toBe('SELECT json("doc") AS "d" FROM "t"')
    expect(text(mysql)).toBe("SELECT CAST(JSON_EXTRACT(`doc`, '$') AS CHAR) AS `d` FROM `t`")
    expect(text(mysql.forVersion('10.11.6-MariaDB'))).toBe("SELECT CAST(JSON_EXTRACT(`doc`, '$') AS CHAR) AS `d` FROM `t`")
  })
})

for (const engine of engines) {
  describe.skipIf(!engine.available)(`JSON results on ${engine.name}`, () => {
    let db: Backend
    beforeAll(async () => {
      db = await engine.open()
      await run(db.execute(sql`DROP TABLE IF EXISTS jr_track`))
      await run(db.execute(sql`DROP TABLE IF EXISTS jr_album`))
      await run(db.execute(sql`CREATE TABLE jr_album (id INTEGER PRIMARY KEY, title VARCHAR(40) NOT NULL, meta ${sql.raw(engine.jsonType)})`))
      await run(db.execute(sql`CREATE TABLE jr_track (id INTEGER PRIMARY KEY, album_id INTEGER NOT NULL, name VARCHAR(40) NOT NULL, ms INTEGER NOT NULL)`))
      await run(db.execute(pipe(insertInto('jr_album'), values([
        { id: 1, title: 'Up', meta: JSON.stringify({ year: 1990, tags: ['rock'] }) },
        { id: 2, title: 'Down', meta: null },
      ]))))
      await run(db.execute(pipe(insertInto('jr_track'), values([
        { id: 1, album_id: 1, name: 'a', ms: 100 }, { id: 2, album_id: 1, name: 'b', ms: 200 }, { id: 3, album_id: 2, name: 'c', ms: 300 },
      ]))))
    })
    afterAll(async () => {
      await db.execute(sql`DROP TABLE IF EXISTS jr_track`)()
      await db.execute(sql`DROP TABLE IF EXISTS jr_album`)()
      await run(db.close())
    })

    it('jsonArrayFrom and jsonObjectFrom nest children as parsed values', async () => {
      const rows = await run(db.all(pipe(from('jr_album a'), select(
        'a.title',
        as(jsonArrayFrom(pipe(from('jr_track t'), select('t.name', 't.ms'), where(eq('t.album_id', col('a.id'))), orderBy('t.id'))), 'tracks'),
      ), orderBy('a.id'))))
      expect(rows).toEqual([
        { title: 'Up', tracks: [{ name: 'a', ms: 100 }, { name: 'b', ms: 200 }] },
        { title: 'Down', tracks: [{ name: 'c', ms: 300 }] },
      ])
      const withAlbum = await run(db.all(pipe(from('jr_track t'), select(
        't.name',
        as(jsonObjectFrom(pipe(from('jr_album a'), select('a.title'), where(eq('a.id', col('t.album_id'))))), 'album'),
      ), orderBy('t.id'))))
      expect(withAlbum).toEqual([{ name: 'a', album: { title: 'Up' } }, { name: 'b', album: { title: 'Up' } }, { name: 'c', album: { title: 'Down' } }])
    })

    it('jsonBuildObject is an object; cast(x, json) a parsed value', async () => {
      const rows = await run(db.all(pipe(from('jr_track'), select(as(jsonBuildObject({ id: 'id', name: 'name', fixed: 7 }), 'obj')), where({ id: 1 }))))
      expect(rows).toEqual([{ obj: { id: 1, name: 'a', fixed: 7 } }])
      // first and prepared queries parse it too (on SQLite they answer on the synchronous path).
      const one = pipe(from('jr_track'), select(as(jsonBuildObject({ id: 'id', name: 'name' }), 'obj')), where(eq('id', param('id'))))
      expect(await run(db.prepare(one).first({ id: 1 }))).toEqual({ _tag: 'Some', value: { obj: { id: 1, name: 'a' } } })
      expect(await run(db.first(pipe(from('jr_track'), select(as(jsonBuildObject({ id: 'id' }), 'obj')), where({ id: 1 }))))).toEqual({ _tag: 'Some', value: { obj: { id: 1 } } })
      const cast1 = await run(db.all(pipe(from('jr_track'), select(as(cast(val('{"k":[1,2]}'), 'json'), 'doc')), where({ id: 1 }))))
      expect(cast1).toEqual([{ doc: { k: [1, 2] } }])
    })

    it('a JSON column read with readAs is parsed, NULL stays null', async () => {
      const rows = await run(db.all(pipe(from('jr_album'), select('title', readAs('meta', 'json')), orderBy('id'))))
      expect(rows).toEqual([{ title: 'Up', meta: { year: 1990, tags: ['rock'] } }, { title: 'Down', meta: null }])
    })

    it('counts inside and beside JSON keep their types; text that is not JSON is a DecodeError', async () => {
      const rows = await run(db.all(pipe(from('jr_album a'), select(
        'a.id', as(count(), 'n'),
      ), where({ id: 1 }), (q) => ({ ...q, groupBy: [col('a.id')] }))))
      expect(rows).toEqual([{ id: 1, n: 1 }])
      const bad = await db.all(pipe(from('jr_album'), select(readAs('title', 'json')), where({ id: 1 })))()
      expect(E.isLeft(bad) && bad.left._tag).toBe('DecodeError')
    })
  })
}
