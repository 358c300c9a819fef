/**
 * MariaDB's messages name the column, key or constraint a statement broke as it is, quotes
 * included (a quote inside a name is not doubled): the typed errors carry those names exactly,
 * for names with quotes, spaces and non-ASCII letters, and for duplicate values that hold a
 * quote or even the words "for key" (the key is the part MariaDB writes last).
 */
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Backend, connect, type DbError } from 'recordkit'
import { mysql } from 'recordkit/dialects/mysql'
import { classifyMysqlError, mysql2 } from 'recordkit/drivers/mysql2'
import { run } from 'recordkit/promise'
import { MYSQL_URL, serverAvailable } from './support/servers.js'

const mariaUp = await serverAvailable('mariadb')

const PARENT = 'drv_names_parent'
const CHILD = 'drv_names_child'

describe.skipIf(!mariaUp)('MariaDB errors name quoted columns, keys and constraints exactly', () => {
  const engines: { name: string; db: Backend }[] = []
  const exec = (db: Backend, text: string, params: readonly unknown[] = []) => db.execute({ sql: text, params })()
  const failure = async (db: Backend, text: string, params: readonly unknown[] = []): Promise<DbError> => {
    const r = await exec(db, text, params)
    if (E.isRight(r)) throw new Error(`expected ${text} to fail`)
    return r.left
  }

  beforeAll(async () => {
    engines.push({ name: 'prepared', db: await run(connect(mysql2({ url: MYSQL_URL, max: 1 }), mysql)) })
    engines.push({ name: 'text', db: await run(connect(mysql2({ url: MYSQL_URL, max: 1, prepare: false }), mysql)) })
    const db = engines[0].db
    await run(db.execute({ sql: `DROP TABLE IF EXISTS ${CHILD}`, params: [] }))
    await run(db.execute({ sql: `DROP TABLE IF EXISTS ${PARENT}`, params: [] }))
    await run(db.execute({
      sql: `CREATE TABLE ${PARENT} (
        id INT PRIMARY KEY,
        \`it's\` VARCHAR(40) NOT NULL,
        \`x''y\` INT NOT NULL DEFAULT 0,
        \`a 'b' c\` TINYINT,
        \`ünï code\` VARCHAR(2),
        \`no default's\` INT NOT NULL,
        UNIQUE KEY \`k'ey\` (\`it's\`),
        UNIQUE KEY \`ü k.ey\` (\`ünï code\`)
      )`,
      params: [],
    }))
    await run(db.execute({
      sql: `CREATE TABLE ${CHILD} (id INT PRIMARY KEY, p INT,
        CONSTRAINT \`f'k\`\`1\` FOREIGN KEY (p) REFERENCES ${PARENT} (id),
        CONSTRAINT \`c'k\`\`1\` CHECK (id > 0))`,
      params: [],
    }))
    await run(db.execute({ sql: `INSERT INTO ${PARENT} (id, \`it's\`, \`ünï code\`, \`no default's\`) VALUES (1, 'it''s here'' for key ''PRIMARY', 'ab', 0)`, params: [] }))
  })
  afterAll(async () => {
    const db = engines[0]?.db
    if (db === undefined) return
    await run(db.execute({ sql: `DROP TABLE IF EXISTS ${CHILD}`, params: [] }))
    await run(db.execute({ sql: `DROP TABLE IF EXISTS ${PARENT}`, params: [] }))
    for (const e of engines) await run(e.db.close())
  })

  it('NOT NULL (1048): the column with a quote, or two quotes, in its name', async () => {
    for (const { db } of engines) {
      expect(await failure(db, `INSERT INTO ${PARENT} (id, \`it's\`, \`no default's\`) VALUES (?, ?, 0)`, [2, null]))
        .toMatchObject({ _tag: 'NotNullViolation', code: 1048, column: "it's" })
      expect(await failure(db, `INSERT INTO ${PARENT} (id, \`it's\`, \`x''y\`, \`no default's\`) VALUES (?, 'q', ?, 0)`, [2, null]))
        .toMatchObject({ _tag: 'NotNullViolation', code: 1048, column: "x''y" })
    }
  })

  it('no default (1364): the field with a quote in its name', async () => {
    for (const { db } of engines) {
      expect(await failure(db, `INSERT INTO ${PARENT} (id, \`it's\`) VALUES (?, 'q')`, [3]))
        .toMatchObject({ _tag: 'NotNullViolation', code: 1364, column: "no default's" })
    }
  })

  it('duplicate entry (1062): the key, whatever the value holds', async () => {
    for (const { db } of engines) {
      // The duplicate value holds a quote and the words of the message: "' for key 'PRIMARY".
      const e = await failure(db, `INSERT INTO ${PARENT} (id, \`it's\`, \`no default's\`) VALUES (?, ?, 0)`, [4, "it's here' for key 'PRIMARY"])
      expect(e).toMatchObject({ _tag: 'UniqueViolation', code: 1062, constraint: "k'ey" })
      expect((e as { table?: string }).table).toBeUndefined()
      // A key with a space, a dot and non-ASCII letters: MariaDB names no table, so the dot is the key's.
      const u = await failure(db, `INSERT INTO ${PARENT} (id, \`it's\`, \`ünï code\`, \`no default's\`) VALUES (?, 'other', ?, 0)`, [5, 'ab'])
      expect(u).toMatchObject({ _tag: 'UniqueViolation', code: 1062, constraint: 'ü k.ey' })
      expect((u as { table?: string }).table).toBeUndefined()
    }
  })

  it('too long (1406) and out of range (1264): the column with quotes, spaces and non-ASCII letters', async () => {
    for (const { db } of engines) {
      expect(await failure(db, `INSERT INTO ${PARENT} (id, \`it's\`, \`ünï code\`, \`no default's\`) VALUES (?, 'r', ?, 0)`, [6, 'abc']))
        .toMatchObject({ _tag: 'ValueTooLarge', code: 1406, column: 'ünï code' })
      expect(await failure(db, `INSERT INTO ${PARENT} (id, \`it's\`, \`a 'b' c\`, \`no default's\`) VALUES (?, 's', ?, 0)`, [7, 1000]))
        .toMatchObject({ _tag: 'ValueTooLarge', code: 1264, column: "a 'b' c" })
    }
  })

  it('foreign key (1452, 1451) and check (4025): the constraint with a quote and a backquote', async () => {
    for (const { db } of engines) {
      expect(await failure(db, `INSERT INTO ${CHILD} (id, p) VALUES (?, ?)`, [1, 99]))
        .toMatchObject({ _tag: 'ForeignKeyViolation', code: 1452, constraint: "f'k`1" })
      expect(await failure(db, `INSERT INTO ${CHILD} (id, p) VALUES (?, ?)`, [-1, 1]))
        .toMatchObject({ _tag: 'CheckViolation', code: 4025, constraint: "c'k`1" })
      await run(db.execute({ sql: `INSERT INTO ${CHILD} (id, p) VALUES (?, ?)`, params: [10, 1] }))
      expect(await failure(db, `DELETE FROM ${PARENT} WHERE id = ?`, [1]))
        .toMatchObject({ _tag: 'ForeignKeyViolation', code: 1451, constraint: "f'k`1" })
      await run(db.execute({ sql: `DELETE FROM ${CHILD} WHERE id = ?`, params: [10] }))
    }
  })
})

describe('MySQL messages, as MySQL 8 writes them', () => {
  it('a duplicate key names its table before a dot; a check constraint and a NULL in a multi-row insert name theirs exactly', () => {
    const err = (errno: number, sqlMessage: string) => classifyMysqlError(Object.assign(new Error(sqlMessage), { errno, sqlMessage }))
    expect(err(1062, "Duplicate entry 'a'' for key ''x' for key 'users.uq_email'")).toMatchObject({ constraint: 'uq_email', table: 'users' })
    expect(err(3819, "Check constraint 'it's ok' is violated.")).toMatchObject({ _tag: 'CheckViolation', constraint: "it's ok" })
    expect(err(1263, "Column set to default value; NULL supplied to NOT NULL column 'it's' at row 2")).toMatchObject({ _tag: 'NotNullViolation', column: "it's" })
  })
})
