/**
 * A value too long for its column names the column, on PostgreSQL and MariaDB alike.
 *
 * MariaDB names it in its message (errno 1406, and 1265 `Data truncated for column`, which an
 * ALTER TABLE that shortens a column under a longer value raises; the same errno of an INSERT or
 * UPDATE, a value not in an ENUM's list or a number followed by letters, is a QueryError naming
 * the column, and of an ALTER TABLE making the column NOT NULL over a NULL a NotNullViolation).
 * PostgreSQL's 22001 names only the type: a model's
 * write (create, update, updateWhere, createMany, upsert) reads the table's declared lengths after
 * the failure and names the column, the field and, in a batch, the input rows too long; the
 * original message and SQL stay. SQLite enforces no length, so it is not here.
 */
import { right } from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type Backend, connect, isDbError, sql } from 'recordkit'
import { mysql } from 'recordkit/dialects/mysql'
import { classifyMysqlError, mysql2 } from 'recordkit/drivers/mysql2'
import { model, nullable, snakeCase } from 'recordkit/model'
import { fails, ok } from 'recordkit/testing'
import { MYSQL_URL } from './support/servers.js'
import { asTooLarge, mariaUp, tooLongEngines } from './support/too-large.js'

const T = 'vtl_items'
const LOG = 'vtl_log'

const codec = t.type({ id: t.number, userName: t.string, note: nullable(t.string), body: nullable(t.string) })
const Item = model({ table: T, primaryKey: 'id', naming: snakeCase, codec, defaults: ['note', 'body'] })
/** The same table, whose afterInsert hook writes a value too long into another table. */
const Logged = model({
  table: T, primaryKey: 'id', naming: snakeCase, codec, defaults: ['note', 'body'],
  hooks: {
    afterInsert: (row, ctx) => async () => {
      const r = await ctx.db.execute(sql`INSERT INTO ${sql.id(LOG)} (code) VALUES (${'far too long'})`)()
      return r._tag === 'Left' ? r : right(row)
    },
  },
})

for (const engine of tooLongEngines) {
  describe.skipIf(!engine.up)(`a value too long for its column on ${engine.name}`, () => {
    let db: Backend
    const count = async () => Number((await ok(db.all(sql`SELECT COUNT(*) AS n FROM ${sql.id(T)}`)))[0].n)

    beforeAll(async () => { db = await engine.open() })
    beforeEach(async () => {
      await ok(db.execute(sql.raw(`DROP TABLE IF EXISTS ${T}`)))
      await ok(db.execute(sql.raw(`DROP TABLE IF EXISTS ${LOG}`)))
      await ok(db.execute(sql.raw(`CREATE TABLE ${T} (id ${engine.serial}, user_name VARCHAR(5) NOT NULL, note CHAR(4), body TEXT)`)))
      await ok(db.execute(sql.raw(`CREATE TABLE ${LOG} (code VARCHAR(3))`)))
    })
    afterAll(async () => {
      if (db === undefined) return
      await ok(db.execute(sql.raw(`DROP TABLE IF EXISTS ${T}`)))
      await ok(db.execute(sql.raw(`DROP TABLE IF EXISTS ${LOG}`)))
      await ok(db.close())
    })

    it('create: the column, its field and the table, the message and SQL kept; nothing written', async () => {
      const e = asTooLarge(await fails(Item.create(db, { userName: 'abcdefgh' })))
      expect([e.code, e.column, e.field, e.table, e.rows]).toEqual([engine.code, 'user_name', 'userName', T, undefined])
      expect(e.sql).toMatch(/^INSERT INTO [`"]vtl_items[`"]/)
      expect(e.message).toContain('\n  SQL: INSERT INTO')
      expect(e.message.split('\n')[0]).toMatch(engine.name === 'PostgreSQL'
        ? /^value too long for type character varying\(5\) \(column user_name, field userName\)$/
        : /^Data too long for column 'user_name' at row 1 \(field userName\)$/)
      expect(await count()).toBe(0)
    })

    it('create: the field too long is named, not one whose excess is spaces the server cuts, nor one of five letters of two bytes each', async () => {
      const e = asTooLarge(await fails(Item.create(db, { userName: 'ab😀é   ', note: 'abcde' })))
      expect([e.column, e.field]).toEqual(['note', 'note'])
      const stored = await ok(Item.create(db, { userName: 'éé😀😀é', note: 'ab  ' }))
      // CHAR(4): PostgreSQL reads the padding back, MariaDB cuts it.
      expect([stored.userName, stored.note?.trimEnd()]).toEqual(['éé😀😀é', 'ab'])
    })

    it('update and updateWhere: the column and field; the row as it was', async () => {
      const row = await ok(Item.create(db, { userName: 'ann' }))
      const e = asTooLarge(await fails(Item.update(db, row, { note: 'lengthy' })))
      expect([e.code, e.column, e.field, e.table]).toEqual([engine.code, 'note', 'note', T])
      expect(e.sql).toMatch(/^UPDATE /)
      const w = asTooLarge(await fails(Item.updateWhere(db, { id: row.id }, { userName: 'annabelle' })))
      expect([w.column, w.field]).toEqual(['user_name', 'userName'])
      expect(await ok(db.all(sql`SELECT user_name, note FROM ${sql.id(T)}`))).toEqual([{ user_name: 'ann', note: null }])
    })

    it('upsert: the column and field', async () => {
      const e = asTooLarge(await fails(Item.upsert(db, { id: 7, userName: 'abcdefgh' }, { conflict: ['id'] })))
      expect([e.column, e.field]).toEqual(['user_name', 'userName'])
    })

    it('createMany: the input rows too long, in order, in `rows` and the message; nothing written', async () => {
      const inputs = [{ userName: 'a' }, { userName: 'bbbbbbbb' }, { userName: 'c', note: 'cccccc' }, { userName: 'dddddddd' }]
      for (const e of [asTooLarge(await fails(Item.createMany(db, inputs))), asTooLarge(await fails(Item.createMany(db, inputs, { returning: false })))]) {
        expect([e.column, e.field, e.rows]).toEqual(['user_name', 'userName', [1, 3]])
        expect(e.message.split('\n')[0]).toContain('too long in rows.1.userName, rows.3.userName')
      }
      expect(await count()).toBe(0)
    })

    it('createMany of 600 rows (PostgreSQL, read back: one unnest statement): the two rows too long', async () => {
      const inputs = Array.from({ length: 600 }, (_, i) => ({ userName: i === 5 || i === 550 ? `too long ${i}` : `u${i}` }))
      const read = asTooLarge(await fails(Item.createMany(db, inputs)))
      if (engine.name === 'PostgreSQL') expect(read.sql).toContain('unnest(')
      // Not read back, the rows go as multi-row VALUES on every engine.
      const counted = asTooLarge(await fails(Item.createMany(db, inputs, { returning: false })))
      for (const e of [read, counted]) expect([e.column, e.field, e.rows]).toEqual(['user_name', 'userName', [5, 550]])
      expect(await count()).toBe(0)
    })

    it('inside the caller\'s transaction: named, and the transaction goes on and commits', async () => {
      const e = await ok(db.transaction((tx) => async () => {
        const failed = await Item.create(tx, { userName: 'abcdefgh' })()
        const kept = await Item.create(tx, { userName: 'kept' })()
        return right([failed, kept] as const)
      }))
      expect(e[0]._tag === 'Left' && isDbError(e[0].left, 'ValueTooLarge') && [e[0].left.column, e[0].left.field]).toEqual(['user_name', 'userName'])
      expect(e[1]._tag).toBe('Right')
      expect(await count()).toBe(1)
    })

    it('a hook\'s statement into another table: not named as the model\'s column', async () => {
      const e = asTooLarge(await fails(Logged.create(db, { userName: 'ok' })))
      expect([e.field, e.rows]).toEqual([undefined, undefined])
      expect(e.sql).toMatch(/^INSERT INTO [`"]?vtl_log/)
      // MariaDB names the other table's column itself; PostgreSQL names none.
      expect(e.column).toBe(engine.name === 'MariaDB' ? 'code' : undefined)
      expect(await count()).toBe(0)
    })

    it('a raw statement: MariaDB names the column, PostgreSQL (22001 names the type) does not', async () => {
      const e = asTooLarge(await fails(db.execute(sql`INSERT INTO ${sql.id(T)} (user_name) VALUES (${'abcdefgh'})`)))
      expect([e.code, e.column, e.field]).toEqual([engine.code, engine.name === 'MariaDB' ? 'user_name' : undefined, undefined])
    })
  })
}

describe('errno 1265 (Data truncated for column) classified by the statement that raised it', () => {
  const classify = (sqlText: string | undefined, column = 'name') =>
    classifyMysqlError(Object.assign(new Error('x'), { errno: 1265, sqlMessage: `Data truncated for column '${column}' at row 1`, sql: sqlText }))
  it('an INSERT or UPDATE: a QueryError; an ALTER: a ValueTooLarge, or a NotNullViolation where it makes the column NOT NULL; unknown: a ValueTooLarge', () => {
    const cases: [string | undefined, string][] = [
      ["INSERT INTO t (name) VALUES ('zz')", 'QueryError'],
      ['/* tagged */ UPDATE t SET name = ?', 'QueryError'],
      ['ALTER TABLE t MODIFY name varchar(5)', 'ValueTooLarge'],
      ['ALTER TABLE `a``b`.t MODIFY COLUMN `name` varchar(5) NOT NULL', 'NotNullViolation'],
      ['alter table t change old_name name varchar(5) not null default 0', 'NotNullViolation'],
      // NOT NULL of another column, or inside a string, does not count.
      ["ALTER TABLE t MODIFY name varchar(5) COMMENT 'NOT NULL, later', MODIFY other int NOT NULL", 'ValueTooLarge'],
      ["ALTER TABLE t MODIFY name enum('a', 'NOT NULL') DEFAULT 'a'", 'ValueTooLarge'],
      [undefined, 'ValueTooLarge'],
    ]
    expect(cases.map(([q]) => { const e = classify(q); return [e._tag, e.code, (e as { column?: string }).column] }))
      .toEqual(cases.map(([, tag]) => [tag, 1265, 'name']))
    expect(classify('ALTER TABLE t MODIFY `it``s` int NOT NULL', 'it`s')._tag).toBe('NotNullViolation')
  })
})

describe.skipIf(!mariaUp)('MariaDB errno 1265 (Data truncated for column)', () => {
  let db: Backend
  const E = 'vtl_kinds'
  const Kind = model({ table: E, primaryKey: 'id', codec: t.type({ id: t.number, kind: t.string, n: nullable(t.number) }), defaults: ['n'] })
  beforeAll(async () => {
    db = await ok(connect(mysql2({ url: MYSQL_URL, max: 2 }), mysql))
  })
  beforeEach(async () => {
    await ok(db.execute(sql.raw(`DROP TABLE IF EXISTS ${E}`)))
    await ok(db.execute(sql.raw(`CREATE TABLE ${E} (id INTEGER PRIMARY KEY, kind ENUM('a', 'b'), n INTEGER, label VARCHAR(20))`)))
  })
  afterAll(async () => {
    if (db === undefined) return
    await ok(db.execute(sql.raw(`DROP TABLE IF EXISTS ${E}`)))
    await ok(db.close())
  })

  it('a column shortened under a longer value: a ValueTooLarge naming the column, the value kept', async () => {
    await ok(db.execute(sql.raw(`INSERT INTO ${E} (id, kind, label) VALUES (1, 'a', 'twelve chars')`)))
    for (const q of [`ALTER TABLE ${E} MODIFY label VARCHAR(5)`, `ALTER TABLE ${E} MODIFY label VARCHAR(5) COMMENT 'NOT NULL one day'`]) {
      const e = asTooLarge(await fails(db.execute(sql.raw(q))))
      expect([e.code, e.column]).toEqual([1265, 'label'])
      expect(e.message).toMatch(/^Data truncated for column 'label' at row 1 \(errno 1265: a row holds a value the column's new type cannot hold whole: longer than it/)
    }
    expect(await ok(db.all(sql.raw(`SELECT label FROM ${E}`)))).toEqual([{ label: 'twelve chars' }])
  })

  it('a column made NOT NULL over a NULL: a NotNullViolation naming the column, as on PostgreSQL; the column as it was', async () => {
    await ok(db.execute(sql.raw(`INSERT INTO ${E} (id, kind, label) VALUES (1, 'a', 'x'), (2, 'b', NULL)`)))
    const e = await fails(db.execute(sql.raw(`ALTER TABLE ${E} MODIFY label VARCHAR(20) NOT NULL`)))
    expect(isDbError(e, 'NotNullViolation') && [e.code, e.column]).toEqual([1265, 'label'])
    expect(e.message).toContain('(errno 1265: a row holds NULL in the column made NOT NULL, or a value its new type cannot hold whole)')
    await ok(db.execute(sql.raw(`INSERT INTO ${E} (id, label) VALUES (3, NULL)`)))
  })

  it('a value not in an ENUM\'s list, and a number followed by letters: a QueryError naming the column, its message saying what happened', async () => {
    for (const [q, column] of [[`INSERT INTO ${E} (id, kind) VALUES (2, 'zz')`, 'kind'], [`INSERT INTO ${E} (id, n) VALUES (3, '12abc')`, 'n']] as const) {
      const e = await fails(db.execute(sql.raw(q)))
      expect(isDbError(e, 'QueryError') && [e.code, e.column]).toEqual([1265, column])
      expect(e.message).toContain("(errno 1265: the value is not one the column holds: not in the list of an ENUM or SET column, or a number followed by other characters)")
    }
    // A statement led by a comment is read from its first keyword: the same class.
    for (const lead of ['-- tagged\n', '# tagged\n', '/* tagged */ ']) {
      const e = await fails(db.execute(sql.raw(`${lead}INSERT INTO ${E} (id, kind) VALUES (7, 'zz')`)))
      expect(isDbError(e, 'QueryError') && [e.code, e.column]).toEqual([1265, 'kind'])
    }
    // Prepared, the same.
    await ok(db.execute(sql.raw(`INSERT INTO ${E} (id, kind) VALUES (1, 'a')`)))
    const p = await fails(db.execute(sql`UPDATE ${sql.id(E)} SET kind = ${'zz'} WHERE id = ${1}`))
    expect([p._tag, p.code]).toEqual(['QueryError', 1265])
  })

  it('a model write of a value not in the ENUM: a QueryError naming the column, no row called too long', async () => {
    const e = await fails(Kind.create(db, { id: 4, kind: 'zz' }))
    expect(isDbError(e, 'QueryError') && [e.code, e.column]).toEqual([1265, 'kind'])
    const m = await fails(Kind.createMany(db, [{ id: 5, kind: 'a' }, { id: 6, kind: 'zz' }]))
    expect(isDbError(m, 'QueryError') && [m.code, m.column]).toEqual([1265, 'kind'])
    expect(m.message).not.toContain('too long')
    expect(await ok(db.all(sql.raw(`SELECT id FROM ${E}`)))).toEqual([])
  })
})
