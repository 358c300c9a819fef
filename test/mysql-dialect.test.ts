/**
 * The MySQL and MariaDB dialects: exact SQL and parameters for each statement, then the same
 * statement run on MariaDB (forms only MySQL accepts, such as `AS new`, are checked as SQL).
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type Backend, connect, type Compilable, type Dialect, supports, type DbError, isDbError, extend, type Compiled, sql } from 'recordkit'
import { isMariaDbVersion, mariadb, mysql, mysqlDateTime, NO_LIMIT } from 'recordkit/dialects/mysql'
import { mysql2 } from 'recordkit/drivers/mysql2'
import { run } from 'recordkit/promise'
import * as q from 'recordkit/query'
import { MYSQL_URL, serverAvailable } from './support/servers.js'

const available = await serverAvailable('mariadb')

const compiled = (d: Dialect, query: Compilable): Compiled => {
  const r = d.compile(query)
  if (E.isLeft(r)) throw r.left
  return r.right
}
const failure = (d: Dialect, query: Compilable): DbError => {
  const r = d.compile(query)
  if (E.isRight(r)) throw new Error(`expected a failure, got ${r.right.sql}`)
  return r.left
}

const USERS = 'myx_d_users'
const POSTS = 'myx_d_posts'

let db: Backend

beforeAll(async () => {
  if (!available) return
  db = await run(connect(mysql2({ url: MYSQL_URL, max: 4 }), mysql))
  await run(db.execute(sql`DROP TABLE IF EXISTS ${sql.id(POSTS)}, ${sql.id(USERS)}`))
  await run(db.execute(sql`CREATE TABLE ${sql.id(USERS)} (
    id INT AUTO_INCREMENT PRIMARY KEY,
    email VARCHAR(100) NULL UNIQUE,
    name VARCHAR(100) NOT NULL DEFAULT 'anon',
    visits INT NOT NULL DEFAULT 0,
    active BOOLEAN NOT NULL DEFAULT TRUE
  )`))
  await run(db.execute(sql`CREATE TABLE ${sql.id(POSTS)} (id INT AUTO_INCREMENT PRIMARY KEY, user_id INT NOT NULL, title VARCHAR(100) NOT NULL)`))
})

afterAll(async () => {
  if (!available) return
  await run(db.execute(sql`DROP TABLE IF EXISTS ${sql.id(POSTS)}, ${sql.id(USERS)}`))
  await run(db.close())
})

beforeEach(async () => {
  if (!available) return
  await run(db.execute(sql`TRUNCATE TABLE ${sql.id(USERS)}`))
  await run(db.execute(sql`TRUNCATE TABLE ${sql.id(POSTS)}`))
})

const seed = async (): Promise<void> => {
  await run(db.execute(pipe(q.insertInto(USERS), q.values([
    { email: 'ada@x', name: 'Ada', visits: 3, active: true },
    { email: 'alan@x', name: 'Alan', visits: 1, active: true },
    { email: null, name: 'Grace', visits: 7, active: false },
    { email: 'barbara@x', name: 'Barbara', visits: 2, active: true },
  ]))))
  await run(db.execute(pipe(q.insertInto(POSTS), q.values([
    { user_id: 1, title: 'Notes' }, { user_id: 2, title: 'Machines' }, { user_id: 4, title: 'Abstraction' },
  ]))))
}

describe('lexical', () => {
  it('quotes identifiers with backticks, doubling backticks, and refuses NUL', () => {
    expect(mysql.quoteIdentifier('users')).toBe('`users`')
    expect(mysql.quoteIdentifier('we`ird')).toBe('`we``ird`')
    expect(mariadb.quoteIdentifier('a"b')).toBe('`a"b`')
    expect(() => mysql.quoteIdentifier('a\0b')).toThrow(/NUL/)
    expect(compiled(mysql, sql`SELECT ${sql.id('s.t.c')}`).sql).toBe('SELECT `s`.`t`.`c`')
  })

  it('uses ? placeholders and allows 65535 parameters', () => {
    expect(mysql.placeholder(1)).toBe('?')
    expect(mysql.placeholder(7)).toBe('?')
    expect(mysql.maxParams).toBe(65535)
    expect(mariadb.maxParams).toBe(65535)
  })

  it('adapts values: booleans to 1/0, dates to UTC text, objects and arrays to JSON, bigint to text', () => {
    expect(mysql.toDriver(true)).toBe(1)
    expect(mysql.toDriver(false)).toBe(0)
    expect(mysql.toDriver(undefined)).toBe(null)
    expect(mysql.toDriver(new Date('2024-02-29T23:59:58.123Z'))).toBe('2024-02-29 23:59:58.123')
    expect(mysql.toDriver(new Date('2024-03-10T01:30:00.5-05:00'))).toBe('2024-03-10 06:30:00.500')
    expect(mysql.toDriver({ a: [1, 'x'] })).toBe('{"a":[1,"x"]}')
    expect(mysql.toDriver([1, 2])).toBe('[1,2]')
    expect(mysql.toDriver(9007199254740993n)).toBe('9007199254740993')
    expect(mysql.toDriver(new Uint8Array([1, 2, 255]))).toEqual(Buffer.from([1, 2, 255]))
    const b = Buffer.from('x')
    expect(mysql.toDriver(b)).toBe(b)
    expect(mysqlDateTime(new Date('0999-01-02T03:04:05Z'))).toBe('0999-01-02 03:04:05.000')
    expect(() => mysqlDateTime(new Date('nope'))).toThrow(/invalid Date/)
  })
})

describe('SELECT', () => {
  const query = pipe(
    q.from(`${USERS} u`),
    q.select('u.id', 'u.name', { posts: q.count('p.id') }),
    q.leftJoin(`${POSTS} p`, ['p.user_id', 'u.id']),
    q.where(q.and(q.eq('u.active', true), q.ilike('u.name', 'a%'))),
    q.groupBy('u.id', 'u.name'),
    q.orderBy('u.id', 'desc'),
    q.limit(2),
  )

  it('renders', () => {
    expect(compiled(mysql, query)).toEqual({
      sql: 'SELECT `u`.`id`, `u`.`name`, COUNT(`p`.`id`) AS `posts` FROM `myx_d_users` AS `u` LEFT JOIN `myx_d_posts` AS `p` ON `p`.`user_id` = `u`.`id` WHERE `u`.`active` = ? AND LOWER(`u`.`name`) LIKE LOWER(?) GROUP BY `u`.`id`, `u`.`name` ORDER BY `u`.`id` DESC LIMIT ?',
      params: [1, 'a%', 2],
    })
    expect(compiled(mariadb, query)).toEqual(compiled(mysql, query))
  })

  it.skipIf(!available)('runs on MariaDB', async () => {
    await seed()
    // COUNT is BIGINT, which the driver returns as a string; a named count() is read back as a number.
    expect(await run(db.all(query))).toEqual([{ id: 2, name: 'Alan', posts: 1 }, { id: 1, name: 'Ada', posts: 1 }])
  })

  it('renders || as one CONCAT() call', () => {
    const c = pipe(q.selectOnly(), q.select(q.as(q.concat(q.concat('name', q.val(' <')), q.concat('email', q.val('>'))), 'label')))
    expect(compiled(mysql, c).sql).toBe('SELECT CONCAT(`name`, ?, `email`, ?) AS `label`')
    const withFrom = pipe(q.from(USERS), q.select(q.as(q.concat(q.concat('name', q.val(' <')), q.concat('email', q.val('>'))), 'label')), q.where({ id: 1 }))
    expect(compiled(mysql, withFrom)).toEqual({ sql: 'SELECT CONCAT(`name`, ?, `email`, ?) AS `label` FROM `myx_d_users` WHERE `id` = ?', params: [' <', '>', 1] })
  })

  it.skipIf(!available)('runs CONCAT on MariaDB', async () => {
    await seed()
    const withFrom = pipe(q.from(USERS), q.select(q.as(q.concat(q.concat('name', q.val(' <')), q.concat('email', q.val('>'))), 'label')), q.where({ id: 1 }))
    expect(await run(db.all(withFrom))).toEqual([{ label: 'Ada <ada@x>' }])
  })

  it('emulates NULLS FIRST / LAST with an IS NULL sort key', () => {
    const first = pipe(q.from(USERS), q.select('name'), q.orderBy('email', 'asc', 'last'), q.orderBy(q.add('visits', 1), 'desc', 'first'))
    expect(compiled(mysql, first)).toEqual({
      sql: 'SELECT `name` FROM `myx_d_users` ORDER BY `email` IS NULL ASC, `email` ASC, (`visits` + ?) IS NULL DESC, `visits` + ? DESC',
      params: [1, 1],
    })
  })

  it.skipIf(!available)('runs NULLS LAST on MariaDB', async () => {
    await seed()
    const rows = await run(db.all(pipe(q.from(USERS), q.select('name'), q.orderBy('email', 'asc', 'last'))))
    expect(rows.map((r) => r.name)).toEqual(['Ada', 'Alan', 'Barbara', 'Grace'])
    const nullsFirst = await run(db.all(pipe(q.from(USERS), q.select('name'), q.orderBy('email', 'desc', 'first'))))
    expect(nullsFirst.map((r) => r.name)).toEqual(['Grace', 'Barbara', 'Alan', 'Ada'])
  })

  it('has no FULL JOIN', () => {
    const e = failure(mysql, pipe(q.from(USERS), q.fullJoin(POSTS, ['myx_d_posts.user_id', 'myx_d_users.id'])))
    expect(e._tag).toBe('UnsupportedFeature')
    expect(e.message).toBe('mysql does not support FULL JOIN')
    // A refusal names the dialect it comes from: MariaDB's as mariadb.
    expect(failure(mariadb, pipe(q.from(USERS), q.fullJoin(POSTS, ['myx_d_posts.user_id', 'myx_d_users.id']))).message).toBe('mariadb does not support FULL JOIN')
  })
})

describe('LIMIT / OFFSET', () => {
  const base = pipe(q.from(USERS), q.select('name'), q.orderBy('id'))
  const cases: readonly [string, q.Select, string, readonly unknown[], readonly string[]][] = [
    ['limit', pipe(base, q.limit(2)), ' LIMIT ?', [2], ['Ada', 'Alan']],
    ['limit and offset', pipe(base, q.limit(2), q.offset(1)), ' LIMIT ? OFFSET ?', [2, 1], ['Alan', 'Grace']],
    ['offset alone', pipe(base, q.offset(3)), ` LIMIT ${NO_LIMIT} OFFSET ?`, [3], ['Barbara']],
    ['paginate', pipe(base, q.paginate({ page: 2, perPage: 3 })), ' LIMIT ? OFFSET ?', [3, 3], ['Barbara']],
    ['limit 0', pipe(base, q.limit(0)), ' LIMIT ?', [0], []],
  ]
  for (const [name, query, tail, params, names] of cases) {
    it(`renders ${name}`, () => {
      expect(compiled(mysql, query)).toEqual({ sql: `SELECT \`name\` FROM \`myx_d_users\` ORDER BY \`id\` ASC${tail}`, params })
    })
    it.skipIf(!available)(`runs ${name} on MariaDB (LIMIT ? bound as a number through execute)`, async () => {
      await seed()
      expect((await run(db.all(query))).map((r) => r.name)).toEqual(names)
    })
  }

  it('takes named placeholders for prepared queries', () => {
    const page = pipe(base, q.limit(q.param('n')), q.offset(q.param('skip')))
    expect(compiled(mysql, page)).toEqual({ sql: 'SELECT `name` FROM `myx_d_users` ORDER BY `id` ASC LIMIT ? OFFSET ?', params: [undefined, undefined], holes: ['n', 'skip'] })
  })

  it.skipIf(!available)('runs prepared LIMIT/OFFSET on MariaDB', async () => {
    await seed()
    const page = db.prepare(pipe(base, q.limit(q.param('n')), q.offset(q.param('skip'))))
    expect((await run(page.all({ n: 1, skip: 2 }))).map((r) => r.name)).toEqual(['Grace'])
    expect((await run(page.all({ n: 2, skip: 0 }))).map((r) => r.name)).toEqual(['Ada', 'Alan'])
  })

  it('refuses a negative or fractional amount', () => {
    expect(failure(mysql, pipe(base, q.limit(-1)))._tag).toBe('QueryError')
    expect(failure(mysql, pipe(base, q.offset(1.5)))._tag).toBe('QueryError')
  })
})

describe('INSERT', () => {
  it('renders rows, DEFAULT for missing keys, and JSON-free scalars', () => {
    const ins = pipe(q.insertInto(USERS), q.values([{ email: 'a@x', name: 'A' }, { email: 'b@x', active: false }]))
    expect(compiled(mysql, ins)).toEqual({
      sql: 'INSERT INTO `myx_d_users` (`email`, `name`, `active`) VALUES (?, ?, DEFAULT), (?, DEFAULT, ?)',
      params: ['a@x', 'A', 'b@x', 0],
    })
  })

  it('renders an insert of only defaults as () VALUES ()', () => {
    expect(compiled(mysql, pipe(q.insertInto(USERS), q.values({})))).toEqual({ sql: 'INSERT INTO `myx_d_users` () VALUES ()', params: [] })
    expect(compiled(mysql, pipe(q.insertInto(USERS), q.values([{}, {}])))).toEqual({ sql: 'INSERT INTO `myx_d_users` () VALUES (), ()', params: [] })
  })

  it('renders INSERT ... SELECT without columns as the query, never as a row of defaults', () => {
    const copy = pipe(q.insertInto(POSTS), q.fromSelect([], pipe(q.from(POSTS), q.where(q.eq('id', 999)))))
    for (const d of [mysql, mariadb]) {
      expect(compiled(d, copy)).toEqual({ sql: 'INSERT INTO `myx_d_posts` SELECT * FROM `myx_d_posts` WHERE `id` = ?', params: [999] })
    }
  })

  it.skipIf(!available)('runs INSERT ... SELECT without columns on MariaDB: a query of no rows inserts none', async () => {
    await run(db.execute(sql`CREATE TEMPORARY TABLE myx_d_copy (id INT, title VARCHAR(50))`))
    const none = await run(db.execute(pipe(q.insertInto('myx_d_copy'), q.fromSelect([], pipe(q.from(POSTS), q.select('id', 'title'), q.where(q.eq('id', 999)))))))
    expect(none.rowsAffected).toBe(0)
    expect(await run(db.all(sql`SELECT id FROM myx_d_copy`))).toEqual([])
  })

  it.skipIf(!available)('runs on MariaDB, reporting rows affected and the generated key', async () => {
    const r = await run(db.execute(pipe(q.insertInto(USERS), q.values([{ email: 'a@x', name: 'A' }, { email: 'b@x', active: false }]))))
    expect(r.rowsAffected).toBe(2)
    expect(r.insertId).toBe(1) // the first row of a multi-row insert
    const d = await run(db.execute(pipe(q.insertInto(USERS), q.values([{}, {}]))))
    expect(d).toEqual({ rows: [], rowsAffected: 2, insertId: 3 })
    expect(await run(db.all(pipe(q.from(USERS), q.orderBy('id'))))).toEqual([
      { id: 1, email: 'a@x', name: 'A', visits: 0, active: 1 },
      { id: 2, email: 'b@x', name: 'anon', visits: 0, active: 0 },
      { id: 3, email: null, name: 'anon', visits: 0, active: 1 },
      { id: 4, email: null, name: 'anon', visits: 0, active: 1 },
    ])
  })
})

describe('UPDATE and DELETE', () => {
  const upd = pipe(q.update(USERS), q.set({ visits: q.add('visits', q.val(1)), active: false }), q.where(q.isIn('id', [1, 2])))
  const del = pipe(q.deleteFrom(USERS), q.where(q.or(q.isNull('email'), q.gt('visits', 5))))

  it('renders', () => {
    expect(compiled(mysql, upd)).toEqual({ sql: 'UPDATE `myx_d_users` SET `visits` = `visits` + ?, `active` = ? WHERE `id` IN (?, ?)', params: [1, 0, 1, 2] })
    expect(compiled(mysql, del)).toEqual({ sql: 'DELETE FROM `myx_d_users` WHERE `email` IS NULL OR `visits` > ?', params: [5] })
  })

  it.skipIf(!available)('runs on MariaDB (rows affected counts matched rows)', async () => {
    await seed()
    expect((await run(db.execute(upd))).rowsAffected).toBe(2)
    // Alan is already inactive after the first run; matched rows still count.
    expect((await run(db.execute(pipe(q.update(USERS), q.set({ active: false }), q.where({ id: 2 }))))).rowsAffected).toBe(1)
    expect((await run(db.execute(del))).rowsAffected).toBe(1)
    expect(await run(db.all(pipe(q.from(USERS), q.select('id', 'visits', 'active'), q.orderBy('id'))))).toEqual([
      { id: 1, visits: 4, active: 0 }, { id: 2, visits: 2, active: 0 }, { id: 4, visits: 2, active: 1 },
    ])
  })
})

describe('upsert', () => {
  const take = pipe(q.insertInto(USERS), q.values([{ email: 'ada@x', name: 'Ada L.' }, { email: 'new@x', name: 'New' }]), q.onConflict(['email'], ['name']))
  const bump = pipe(q.insertInto(USERS), q.values({ email: 'ada@x', visits: 1 }), q.onConflict(['email'], { visits: q.add('visits', q.excluded('visits')) }))
  const nothing = pipe(q.insertInto(USERS), q.values({ email: 'ada@x', name: 'Ignored' }), q.onConflict(['email'], 'nothing'))

  it('renders the MySQL 8.0.19+ row alias form', () => {
    expect(compiled(mysql, take)).toEqual({
      sql: 'INSERT INTO `myx_d_users` (`email`, `name`) VALUES (?, ?), (?, ?) AS `new` ON DUPLICATE KEY UPDATE `name` = `new`.`name`',
      params: ['ada@x', 'Ada L.', 'new@x', 'New'],
    })
    expect(compiled(mysql, bump)).toEqual({
      sql: 'INSERT INTO `myx_d_users` (`email`, `visits`) VALUES (?, ?) AS `new` ON DUPLICATE KEY UPDATE `visits` = `visits` + `new`.`visits`',
      params: ['ada@x', 1],
    })
  })

  it('renders the VALUES() form on MySQL before 8.0.19 and on MariaDB', () => {
    const expected = {
      sql: 'INSERT INTO `myx_d_users` (`email`, `visits`) VALUES (?, ?) ON DUPLICATE KEY UPDATE `visits` = `visits` + VALUES(`visits`)',
      params: ['ada@x', 1],
    }
    expect(compiled(mysql.forVersion('8.0.18'), bump)).toEqual(expected)
    expect(compiled(mysql.forVersion('5.7.44-log'), bump)).toEqual(expected)
    expect(compiled(mariadb, bump)).toEqual(expected)
    expect(compiled(mysql.forVersion('10.11.6-MariaDB'), bump)).toEqual(expected)
    expect(compiled(mysql.forVersion('8.0.19'), bump).sql).toContain('AS `new`')
  })

  it('renders "do nothing" as an insert of the rows not there yet, not INSERT IGNORE', () => {
    const expected = {
      sql: 'INSERT INTO `myx_d_users` (`email`, `name`) SELECT `rk_new`.`email`, `rk_new`.`name` FROM (SELECT ? AS `email`, ? AS `name`) AS `rk_new` WHERE NOT EXISTS (SELECT 1 FROM `myx_d_users` AS `rk_old` WHERE `rk_old`.`email` = `rk_new`.`email`) ON DUPLICATE KEY UPDATE `myx_d_users`.`email` = `myx_d_users`.`email`',
      params: ['ada@x', 'Ignored'],
    }
    expect(compiled(mysql, nothing)).toEqual(expected)
    expect(compiled(mariadb, nothing)).toEqual(expected)
    // Without a target (any unique key) it cannot be written so that rows affected counts
    // inserts only: a typed refusal, not ON DUPLICATE KEY UPDATE name = name.
    const untargeted = failure(mysql, pipe(q.insertInto(USERS), q.values({ name: 'x' }), q.onConflict([], 'nothing')))
    expect(untargeted._tag).toBe('UnsupportedFeature')
    expect(untargeted.message).toContain('without conflict columns')
  })

  it('refuses an upsert with a WHERE condition', () => {
    const e = failure(mysql, pipe(q.insertInto(USERS), q.values({ email: 'a' }), q.onConflict(['email'], ['name'], { where: q.gt('visits', 1) })))
    expect(isDbError(e, 'UnsupportedFeature')).toBe(true)
    expect(e.message).toMatch(/^mysql does not support upsert with a WHERE condition/)
    expect(failure(mariadb, pipe(q.insertInto(USERS), q.values({ email: 'a' }), q.onConflict(['email'], ['name'], { where: q.gt('visits', 1) })))._tag).toBe('UnsupportedFeature')
  })

  it.skipIf(!available)('runs the MariaDB forms', async () => {
    await seed()
    expect((await run(db.execute(take))).rowsAffected).toBe(3) // 2 for the updated row, 1 for the inserted one
    expect((await run(db.execute(bump))).rowsAffected).toBe(2)
    const kept = await run(db.execute(nothing))
    expect(kept.rowsAffected).toBe(0) // the row was there: nothing inserted
    // A NOT NULL violation is still an error under "do nothing" (INSERT IGNORE would hide it).
    const bad = await db.execute(pipe(q.insertInto(USERS), q.values({ email: 'zed@x', name: null }), q.onConflict(['email'], 'nothing')))()
    expect(E.isLeft(bad) && bad.left._tag).toBe('NotNullViolation')
    expect(await run(db.all(pipe(q.from(USERS), q.select('email', 'name', 'visits'), q.where(q.isIn('email', ['ada@x', 'new@x'])), q.orderBy('id'))))).toEqual([
      { email: 'ada@x', name: 'Ada L.', visits: 4 },
      { email: 'new@x', name: 'New', visits: 0 },
    ])
  })
})

describe('RETURNING', () => {
  const ins = pipe(q.insertInto(USERS), q.values([{ email: 'r1@x', name: 'R1' }, { email: 'r2@x' }]), q.returning('id', 'name as label'))
  const del = pipe(q.deleteFrom(USERS), q.where(q.gt('visits', 2)), q.returning('*'))
  const upd = pipe(q.update(USERS), q.set({ visits: 0 }), q.returning('id'))

  it('is absent on MySQL', () => {
    for (const query of [ins, del, upd]) {
      const e = failure(mysql, query)
      expect(e._tag).toBe('UnsupportedFeature')
      expect(e.message).toBe('mysql does not support RETURNING')
    }
    for (const f of ['returning', 'insertReturning', 'updateReturning', 'deleteReturning'] as const) expect(supports(mysql, f)).toBe(false)
  })

  it('renders INSERT and DELETE RETURNING on MariaDB, never UPDATE RETURNING', () => {
    expect(compiled(mariadb, ins)).toEqual({
      sql: 'INSERT INTO `myx_d_users` (`email`, `name`) VALUES (?, ?), (?, DEFAULT) RETURNING `id`, `name` AS `label`',
      params: ['r1@x', 'R1', 'r2@x'],
    })
    expect(compiled(mariadb, del)).toEqual({ sql: 'DELETE FROM `myx_d_users` WHERE `visits` > ? RETURNING *', params: [2] })
    const e = failure(mariadb, upd)
    expect(e._tag).toBe('UnsupportedFeature')
    expect(e.message).toBe('mariadb does not support UPDATE ... RETURNING')
    expect([supports(mariadb, 'insertReturning'), supports(mariadb, 'deleteReturning'), supports(mariadb, 'updateReturning')]).toEqual([true, true, false])
  })

  it('follows the MariaDB version: INSERT RETURNING needs 10.5', () => {
    const old = mariadb.forVersion('10.4.32-MariaDB')
    expect(old.name).toBe('mariadb')
    expect(supports(old, 'insertReturning')).toBe(false)
    expect(supports(old, 'deleteReturning')).toBe(true)
    expect(failure(old, ins).message).toBe('mariadb 10.4.32-MariaDB does not support INSERT ... RETURNING: needs MariaDB 10.5')
    expect(supports(mariadb.forVersion('10.5.0'), 'insertReturning')).toBe(true)
    expect(supports(mariadb.forVersion('10.0.4-MariaDB'), 'deleteReturning')).toBe(false)
  })

  it('combines with an upsert on MariaDB', () => {
    const up = pipe(q.insertInto(USERS), q.values({ email: 'ada@x', name: 'A' }), q.onConflict(['email'], ['name']), q.returning('id', 'name'))
    expect(compiled(mariadb, up).sql).toBe('INSERT INTO `myx_d_users` (`email`, `name`) VALUES (?, ?) ON DUPLICATE KEY UPDATE `name` = VALUES(`name`) RETURNING `id`, `name`')
  })

  it.skipIf(!available)('runs on MariaDB', async () => {
    await seed()
    const r = await run(db.execute(ins))
    expect(r).toEqual({ rows: [{ id: 5, label: 'R1' }, { id: 6, label: 'anon' }], rowsAffected: 2 })
    const d = await run(db.execute(del))
    expect(d.rowsAffected).toBe(2)
    expect(d.rows).toEqual([
      { id: 1, email: 'ada@x', name: 'Ada', visits: 3, active: 1 },
      { id: 3, email: null, name: 'Grace', visits: 7, active: 0 },
    ])
    const up = pipe(q.insertInto(USERS), q.values({ email: 'alan@x', name: 'Alan T.' }), q.onConflict(['email'], ['name']), q.returning('id', 'name'))
    expect(await run(db.all(up))).toEqual([{ id: 2, name: 'Alan T.' }])
    expect(E.isLeft(await db.execute(upd)())).toBe(true)
  })
})

describe('transactions', () => {
  it('renders START TRANSACTION with SET TRANSACTION for the isolation level', () => {
    expect(mysql.beginTransaction({})).toEqual(['START TRANSACTION'])
    expect(mysql.beginTransaction({ readOnly: true })).toEqual(['START TRANSACTION READ ONLY'])
    expect(mysql.beginTransaction({ readOnly: false })).toEqual(['START TRANSACTION READ WRITE'])
    expect(mysql.beginTransaction({ isolation: 'read committed' })).toEqual(['SET TRANSACTION ISOLATION LEVEL READ COMMITTED', 'START TRANSACTION'])
    expect(mariadb.beginTransaction({ isolation: 'serializable', readOnly: true })).toEqual(['SET TRANSACTION ISOLATION LEVEL SERIALIZABLE', 'START TRANSACTION READ ONLY'])
    expect(mysql.commit()).toBe('COMMIT')
    expect(mysql.rollback()).toBe('ROLLBACK')
    expect(mysql.savepoint('rk_sp_1_1')).toBe('SAVEPOINT `rk_sp_1_1`')
    expect(mysql.releaseSavepoint('rk_sp_1_1')).toBe('RELEASE SAVEPOINT `rk_sp_1_1`')
    expect(mysql.rollbackToSavepoint('rk_sp_1_1')).toBe('ROLLBACK TO SAVEPOINT `rk_sp_1_1`')
  })

  it('refuses options MySQL has no equivalent for', () => {
    expect(() => mysql.beginTransaction({ deferrable: true })).toThrow(/mysql does not support DEFERRABLE/)
    expect(() => mysql.beginTransaction({ behavior: 'immediate' })).toThrow(/mysql does not support BEGIN IMMEDIATE/)
  })

  it.skipIf(!available)('runs every form on MariaDB', async () => {
    for (const options of [{}, { readOnly: true }, { readOnly: false }, { isolation: 'read uncommitted' as const }, { isolation: 'serializable' as const, readOnly: true }]) {
      expect(await run(db.transaction((tx) => tx.all(sql`SELECT 1 AS one`), options))).toEqual([{ one: 1 }])
    }
  })
})

describe('versions', () => {
  it('recognises MariaDB by its version string', () => {
    expect(isMariaDbVersion('10.11.19-MariaDB-0+deb12u1')).toBe(true)
    expect(isMariaDbVersion('11.4.2-MariaDB-ubu2404')).toBe(true)
    expect(isMariaDbVersion('8.0.35')).toBe(false)
    expect(isMariaDbVersion('8.0.35-0ubuntu0.22.04.1')).toBe(false)
  })

  it('mysql.forVersion picks the MariaDB dialect on a MariaDB server', () => {
    const d = mysql.forVersion('10.11.6-MariaDB')
    expect(d.name).toBe('mariadb')
    expect(d.version).toBe('10.11.6-MariaDB')
    expect(supports(d, 'insertReturning')).toBe(true)
    const old = mysql.forVersion('5.5.5-10.3.39-MariaDB-0+deb10u1')
    expect(old.name).toBe('mariadb')
    expect(old.version).toBe('10.3.39-MariaDB-0+deb10u1')
    expect(supports(old, 'insertReturning')).toBe(false)
    const my = mysql.forVersion('8.0.35')
    expect([my.name, my.version]).toEqual(['mysql', '8.0.35'])
    expect(mariadb.forVersion('8.4.0').name).toBe('mysql')
    // forVersion can be applied again
    expect(mysql.forVersion('8.0.35').forVersion('10.6.0-MariaDB').name).toBe('mariadb')
  })

  it.skipIf(!available)('connect(mysql2, mysql) specialises to the server', async () => {
    expect(db.dialect.name).toBe('mariadb')
    expect(db.dialect.version).toMatch(/^10\.11\.\d+-MariaDB/)
    expect(supports(db.dialect, 'insertReturning')).toBe(true)
  })
})

describe('overrides follow through every statement (late binding)', () => {
  it('limitOffset', () => {
    const custom = extend(mysql, (self, base) => ({
      limitOffset: (limit, offset) => (offset === undefined && typeof limit === 'number' ? sql` LIMIT ${sql.raw(String(limit))}` : base.limitOffset(limit, offset)),
    }))
    expect(compiled(custom, pipe(q.from(USERS), q.limit(5))).sql).toBe('SELECT * FROM `myx_d_users` LIMIT 5')
    expect(compiled(custom, pipe(q.from(USERS), q.offset(5))).sql).toBe(`SELECT * FROM \`myx_d_users\` LIMIT ${NO_LIMIT} OFFSET ?`)
    // ... and survives the switch to MariaDB at connect time
    expect(compiled(custom.forVersion('10.11.6-MariaDB'), pipe(q.from(USERS), q.limit(5))).sql).toBe('SELECT * FROM `myx_d_users` LIMIT 5')
  })

  it('rowAlias renames the proposed row in the upsert and in excluded()', () => {
    const custom = extend(mysql, () => ({ rowAlias: 'incoming' }))
    const bump = pipe(q.insertInto(USERS), q.values({ email: 'a', visits: 1 }), q.onConflict(['email'], { visits: q.add('visits', q.excluded('visits')) }))
    expect(compiled(custom, bump).sql).toBe('INSERT INTO `myx_d_users` (`email`, `visits`) VALUES (?, ?) AS `incoming` ON DUPLICATE KEY UPDATE `visits` = `visits` + `incoming`.`visits`')
  })

  it('quoteIdentifier', () => {
    const upper = extend(mariadb, (_, base) => ({ quoteIdentifier: (n: string) => base.quoteIdentifier(n.toUpperCase()) }))
    expect(compiled(upper, pipe(q.deleteFrom('t'), q.where({ a: 1 }), q.returning('b'))).sql).toBe('DELETE FROM `T` WHERE `A` = ? RETURNING `B`')
  })
})
