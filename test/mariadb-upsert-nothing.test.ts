/**
 * MariaDB do-nothing upserts count only the rows they insert, also with DEFAULT cells and
 * from a query; without conflict columns they are a typed UnsupportedFeature. Rows from the
 * real server, and the MySQL 8 SQL text.
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connect, run, sql, type Backend } from 'recordkit'
import { as, from, fromSelect, insertInto, onConflict, orderBy, select, val, values } from 'recordkit/query'
import { mysql } from 'recordkit/dialects/mysql'
import { mysql2 } from 'recordkit/drivers/mysql2'
import { MYSQL_URL, serverAvailable } from './support/servers.js'

const mariadbAvailable = await serverAvailable('mariadb')

const T = 'mun_user'

describe('MySQL dialect: do-nothing upsert SQL', () => {
  it('splits rows with DEFAULT cells into groups without those columns, each skipping conflicts', () => {
    const node = pipe(insertInto(T), values([{ email: 'a', name: 'A' }, { email: 'b' }]), onConflict(['email'], 'nothing'))
    const parts = mysql.insertStatements(node)
    expect(parts.map((p) => p.columns)).toEqual([['email', 'name'], ['email']])
    const second = mysql.compile(parts[1])
    expect(E.isRight(second) && second.right.sql).toBe(
      'INSERT INTO `mun_user` (`email`) SELECT `rk_new`.`email` FROM (SELECT ? AS `email`) AS `rk_new` WHERE NOT EXISTS (SELECT 1 FROM `mun_user` AS `rk_old` WHERE `rk_old`.`email` = `rk_new`.`email`) ON DUPLICATE KEY UPDATE `mun_user`.`email` = `mun_user`.`email`',
    )
  })

  it('an insert from a query matches on the query\'s output names', () => {
    const node = pipe(insertInto(T), fromSelect(['email', 'name'], pipe(from('mun_src s'), select('s.address', as(val('x'), 'label')))), onConflict(['email'], 'nothing'))
    const c = mysql.compile(node)
    expect(E.isRight(c) && c.right.sql).toBe(
      'INSERT INTO `mun_user` (`email`, `name`) SELECT `rk_new`.`address`, `rk_new`.`label` FROM (SELECT `s`.`address`, ? AS `label` FROM `mun_src` AS `s`) AS `rk_new` WHERE NOT EXISTS (SELECT 1 FROM `mun_user` AS `rk_old` WHERE `rk_old`.`email` = `rk_new`.`address`) ON DUPLICATE KEY UPDATE `mun_user`.`email` = `mun_user`.`email`',
    )
  })

  it('refuses, typed, what cannot count inserts only', () => {
    const untargeted = mysql.compile(pipe(insertInto(T), values({ name: 'x' }), onConflict([], 'nothing')))
    expect(E.isLeft(untargeted) && untargeted.left._tag).toBe('UnsupportedFeature')
    const defaulted = mysql.insertStatements(pipe(insertInto(T), values([{ email: 'a', name: 'n' }, { name: 'm' }]), onConflict(['email'], 'nothing')))
    const second = mysql.compile(defaulted[1])
    expect(E.isLeft(second) && second.left.message).toContain('conflict column is not inserted')
  })
})

describe.skipIf(!mariadbAvailable)('MariaDB: do-nothing upserts count inserted rows only', () => {
  let db: Backend
  beforeAll(async () => {
    db = await run(connect(mysql2({ url: MYSQL_URL, max: 2 }), mysql))
    await run(db.execute(sql`DROP TABLE IF EXISTS mun_src`))
    await run(db.execute(sql`DROP TABLE IF EXISTS ${sql.id(T)}`))
    await run(db.execute(sql`CREATE TABLE ${sql.id(T)} (id INTEGER AUTO_INCREMENT PRIMARY KEY, email VARCHAR(40) NOT NULL UNIQUE, name VARCHAR(40) NOT NULL DEFAULT 'anon')`))
    await run(db.execute(sql`CREATE TABLE mun_src (address VARCHAR(40) NOT NULL)`))
  })
  afterAll(async () => {
    await db.execute(sql`DROP TABLE IF EXISTS mun_src`)()
    await db.execute(sql`DROP TABLE IF EXISTS ${sql.id(T)}`)()
    await run(db.close())
  })
  const rows = () => run(db.all(pipe(from(T), select('email', 'name'), orderBy('email'))))

  it('rows with DEFAULT cells: affected counts the inserted rows, the defaults are applied', async () => {
    await run(db.execute(pipe(insertInto(T), values({ email: 'a@x', name: 'Ada' }))))
    const r = await run(db.execute(pipe(insertInto(T), values([{ email: 'a@x' }, { email: 'b@x' }, { email: 'c@x', name: 'Cy' }]), onConflict(['email'], 'nothing'))))
    expect(r.rowsAffected).toBe(2)
    expect(await rows()).toEqual([{ email: 'a@x', name: 'Ada' }, { email: 'b@x', name: 'anon' }, { email: 'c@x', name: 'Cy' }])
    const again = await run(db.execute(pipe(insertInto(T), values([{ email: 'a@x' }, { email: 'b@x', name: 'Bo' }]), onConflict(['email'], 'nothing'))))
    expect(again.rowsAffected).toBe(0)
  })

  it('an insert from a query counts only the new rows', async () => {
    await run(db.execute(pipe(insertInto('mun_src'), values([{ address: 'a@x' }, { address: 'd@x' }]))))
    const r = await run(db.execute(pipe(insertInto(T), fromSelect(['email'], pipe(from('mun_src'), select('address'))), onConflict(['email'], 'nothing'))))
    expect(r.rowsAffected).toBe(1)
    expect((await rows()).map((x) => x.email)).toEqual(['a@x', 'b@x', 'c@x', 'd@x'])
  })

  it('without conflict columns: UnsupportedFeature, nothing sent', async () => {
    const r = await db.execute(pipe(insertInto(T), values({ email: 'z@x' }), onConflict([], 'nothing')))()
    expect(E.isLeft(r) && r.left._tag).toBe('UnsupportedFeature')
    expect((await rows()).map((x) => x.email)).not.toContain('z@x')
  })
})
