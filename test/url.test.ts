/**
 * Database URLs to backends: the parts recordkit reads from each scheme, and a connected
 * backend for each engine that answers.
 */
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { run } from '../src/promise.js'
import { sql } from '../src/sql.js'
import { backendFromUrl, parseDatabaseUrl } from '../src/url.js'
import { MYSQL_URL, PG_URL, serverAvailable } from './support/servers.js'

const mariadbUp = await serverAvailable('mariadb')
const postgresUp = await serverAvailable('postgres')

describe('parseDatabaseUrl', () => {
  it('reads each scheme', () => {
    expect(parseDatabaseUrl('sqlite:./app.db')).toEqual(E.right({ engine: 'sqlite', target: './app.db' }))
    expect(parseDatabaseUrl('sqlite::memory:')).toEqual(E.right({ engine: 'sqlite', target: ':memory:' }))
    expect(parseDatabaseUrl('sqlite:///var/db/app.db')).toEqual(E.right({ engine: 'sqlite', target: '/var/db/app.db' }))
    expect(parseDatabaseUrl('postgres://u:p@h:5432/db')).toEqual(E.right({ engine: 'postgres', target: 'postgres://u:p@h:5432/db' }))
    expect(parseDatabaseUrl('postgresql://h/db')).toEqual(E.right({ engine: 'postgres', target: 'postgresql://h/db' }))
    expect(parseDatabaseUrl('mysql://root@h/db')).toEqual(E.right({ engine: 'mysql', target: 'mysql://root@h/db' }))
    expect(parseDatabaseUrl('mariadb://root@h:3306/db')).toEqual(E.right({ engine: 'mariadb', target: 'mysql://root@h:3306/db' }))
  })

  it('refuses what it does not know', () => {
    const bad = (u: string) => { const r = parseDatabaseUrl(u); return E.isLeft(r) ? `${r.left._tag}: ${r.left.message}` : 'parsed' }
    expect(bad('app.db')).toBe('ConnectionError: not a database URL: "app.db" (sqlite:./file.db, postgres://..., mysql://..., mariadb://...)')
    expect(bad('oracle://x')).toBe('ConnectionError: unknown database URL scheme oracle: (sqlite:, postgres:, mysql:, mariadb:)')
    expect(bad('sqlite:')).toBe('ConnectionError: a sqlite: URL needs a file name (sqlite:./app.db) or :memory:')
  })
})

describe('backendFromUrl', () => {
  it('connects to SQLite', async () => {
    const db = await run(backendFromUrl('sqlite::memory:'))
    expect(db.dialect.name).toBe('sqlite')
    expect(await run(db.all(sql`SELECT 1 AS one`))).toEqual([{ one: 1 }])
    await run(db.close())
  })

  it.skipIf(!mariadbUp)('connects to MariaDB through mysql: and mariadb: URLs', async () => {
    for (const url of [MYSQL_URL, MYSQL_URL.replace(/^mysql:/, 'mariadb:')]) {
      const db = await run(backendFromUrl(url))
      expect(db.dialect.name).toBe('mariadb')
      expect(await run(db.all(sql`SELECT 1 AS one`))).toEqual([{ one: 1 }])
      await run(db.close())
    }
  })

  it.skipIf(!postgresUp)('connects to PostgreSQL', async () => {
    const db = await run(backendFromUrl(PG_URL))
    expect(db.dialect.name).toBe('postgres')
    expect(await run(db.all(sql`SELECT 1 AS one`))).toEqual([{ one: 1 }])
    await run(db.close())
  })

  it('fails with a ConnectionError when the database cannot be reached', async () => {
    const r = await backendFromUrl('sqlite:/nonexistent/dir/app.db')()
    expect(E.isLeft(r) && r.left._tag).toBe('ConnectionError')
  })
})
