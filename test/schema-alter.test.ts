/**
 * ALTER TABLE where the engine cannot: SQLite's table rebuild (the documented procedure), with
 * its data, indexes, triggers, views, AUTOINCREMENT counter and the foreign keys of other
 * tables kept; foreign keys checked before the commit; refused inside a transaction while
 * foreign keys are enforced.
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type Backend, compose, sql } from 'recordkit'
import { sqlite } from 'recordkit/dialects/sqlite'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'
import { run } from 'recordkit/promise'
import { insertInto, values } from 'recordkit/query'
import { alter, apply, introspectTable, runCatalog } from 'recordkit/schema'
import * as d from 'recordkit/schema'

let db: Backend
const log: string[] = []

beforeEach(async () => {
  log.length = 0
  const base = compose(betterSqlite3({ filename: ':memory:' }), sqlite)
  db = base
  await run(apply(db,
    pipe(
      d.createTable('sch_al_users'),
      d.column('id', 'integer', { primaryKey: true, autoIncrement: true }),
      d.column('email', 'varchar(100)', { notNull: true, unique: true }),
      d.column('age', 'text'),
      d.index(['age'], { name: 'sch_al_users_age' }),
    ),
    pipe(
      d.createTable('sch_al_posts'),
      d.column('id', 'integer', { primaryKey: true }),
      d.column('user_id', 'integer', { notNull: true, references: { table: 'sch_al_users', column: 'id', onDelete: 'cascade' } }),
    ),
    d.createView('sch_al_adults', 'SELECT email FROM sch_al_users WHERE CAST(age AS INTEGER) >= 18'),
  ))
  await run(db.execute(sql.raw('CREATE TABLE sch_al_audit (email TEXT)')))
  await run(db.execute(sql.raw('CREATE TRIGGER sch_al_users_audit AFTER INSERT ON sch_al_users BEGIN INSERT INTO sch_al_audit VALUES (new.email); END')))
  await run(db.execute(pipe(insertInto('sch_al_users'), values([{ email: 'ada@x', age: '36' }, { email: 'kid@x', age: '9' }, { email: 'gone@x', age: '50' }]))))
  await run(db.execute(sql.raw('DELETE FROM sch_al_users WHERE id = 3')))
  await run(db.execute(pipe(insertInto('sch_al_posts'), values([{ id: 1, user_id: 1 }, { id: 2, user_id: 2 }]))))
})

afterEach(async () => {
  await run(db.close())
})

describe('SQLite table rebuild', () => {
  it('changes a column type and nullability, keeping rows, indexes, triggers, views and the counter', async () => {
    const change = pipe(d.alterTable('sch_al_users'), d.alterColumn('age', 'integer', { notNull: true, default: 0 }))
    const plan = await run(runCatalog((f) => db.all(f), () => sqlite.planAlter(change)))
    expect(plan.before.map((f) => db.compile(f))).toEqual([E.right({ sql: 'PRAGMA foreign_keys = OFF', params: [] })])
    expect(plan.statements.map((f) => E.isRight(db.compile(f)) && (db.compile(f) as E.Right<{ sql: string }>).right.sql)).toEqual([
      'DROP VIEW "sch_al_adults"',
      'CREATE TABLE "rk_new_sch_al_users" ("id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, "email" VARCHAR(100) NOT NULL UNIQUE, "age" INTEGER NOT NULL DEFAULT 0)',
      'INSERT INTO "rk_new_sch_al_users" ("id", "email", "age") SELECT "id", "email", "age" FROM "sch_al_users"',
      `UPDATE sqlite_sequence SET seq = (SELECT seq FROM sqlite_sequence WHERE name = 'sch_al_users') WHERE name = 'rk_new_sch_al_users' AND EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'sch_al_users')`,
      'DROP TABLE "sch_al_users"',
      'ALTER TABLE "rk_new_sch_al_users" RENAME TO "sch_al_users"',
      'CREATE INDEX "sch_al_users_age" ON "sch_al_users" ("age")',
      'CREATE TRIGGER sch_al_users_audit AFTER INSERT ON sch_al_users BEGIN INSERT INTO sch_al_audit VALUES (new.email); END',
      'CREATE VIEW "sch_al_adults" AS SELECT email FROM sch_al_users WHERE CAST(age AS INTEGER) >= 18',
    ])
    expect(plan.check && db.compile(plan.check)).toEqual(E.right({ sql: 'PRAGMA foreign_key_check', params: [] }))
    expect(plan.after.map((f) => db.compile(f))).toEqual([E.right({ sql: 'PRAGMA foreign_keys = ON', params: [] })])

    await run(alter(db, change))
    const t = await run(introspectTable(db, 'sch_al_users'))
    expect(t.columns[2]).toEqual({ name: 'age', type: 'integer', notNull: true, default: { kind: 'value', value: 0 } })
    expect(t.indexes).toEqual([{ name: 'sch_al_users_age', columns: ['age'], unique: false }])
    expect(await run(db.all(sql.raw('SELECT id, email, age, typeof(age) AS t FROM sch_al_users ORDER BY id')))).toEqual([
      { id: 1, email: 'ada@x', age: 36, t: 'integer' }, { id: 2, email: 'kid@x', age: 9, t: 'integer' },
    ])
    expect(await run(db.all(sql.raw('SELECT email FROM sch_al_adults')))).toEqual([{ email: 'ada@x' }])
    // The AUTOINCREMENT counter survived: id 3 (deleted) is not handed out again.
    await run(db.execute(pipe(insertInto('sch_al_users'), values({ email: 'new@x', age: 1 }))))
    expect(await run(db.all(sql.raw("SELECT id FROM sch_al_users WHERE email = 'new@x'")))).toEqual([{ id: 4 }])
    // The trigger was recreated.
    expect(await run(db.all(sql.raw('SELECT email FROM sch_al_audit ORDER BY rowid')))).toEqual([{ email: 'ada@x' }, { email: 'kid@x' }, { email: 'gone@x' }, { email: 'new@x' }])
    // The other table's foreign key still points at the rebuilt table, and foreign keys are on again.
    expect(await run(db.all(sql.raw('PRAGMA foreign_keys')))).toEqual([{ foreign_keys: 1 }])
    await run(db.execute(sql.raw('DELETE FROM sch_al_users WHERE id = 2')))
    expect(await run(db.all(sql.raw('SELECT id FROM sch_al_posts')))).toEqual([{ id: 1 }])
  })

  it('drops a column an index uses, adds constraints and renames; refuses to break a view', async () => {
    const broken = await alter(db, pipe(d.alterTable('sch_al_users'), d.dropColumn('age'), d.renameColumn('email', 'mail')))()
    expect(E.isLeft(broken) && broken.left.message).toMatch(/^error in view sch_al_adults: no such column: age/)
    expect((await run(introspectTable(db, 'sch_al_users'))).columns.map((c) => c.name)).toEqual(['id', 'email', 'age'])
    await run(apply(db, d.dropView('sch_al_adults')))
    const change = pipe(
      d.alterTable('sch_al_users'),
      d.dropColumn('age'),
      d.renameColumn('email', 'mail'),
      d.addColumn('score', 'integer', { notNull: true, default: 5 }),
      d.check('score BETWEEN 0 AND 10', { name: 'sch_al_score' }),
      d.unique(['mail', 'score']),
    )
    await run(alter(db, change))
    expect(await run(introspectTable(db, 'sch_al_users'))).toEqual({
      name: 'sch_al_users',
      columns: [
        { name: 'id', type: 'integer', notNull: true, autoIncrement: true },
        { name: 'mail', type: 'varchar(100)', notNull: true },
        { name: 'score', type: 'integer', notNull: true, default: { kind: 'value', value: 5 } },
      ],
      primaryKey: { columns: ['id'] },
      uniques: [{ columns: ['mail'] }, { columns: ['mail', 'score'] }],
      foreignKeys: [],
      checks: [{ name: 'sch_al_score', expression: 'score BETWEEN 0 AND 10' }],
      indexes: [],
    })
    expect(await run(db.all(sql.raw('SELECT * FROM sch_al_users ORDER BY id')))).toEqual([{ id: 1, mail: 'ada@x', score: 5 }, { id: 2, mail: 'kid@x', score: 5 }])
  })

  it('renames next to a rebuild natively, so views that use the column follow', async () => {
    await run(alter(db, pipe(d.alterTable('sch_al_users'), d.renameColumn('age', 'years'), d.alterColumn('email', 'varchar(200)', { notNull: true }))))
    expect(await run(db.all(sql.raw('SELECT email FROM sch_al_adults')))).toEqual([{ email: 'ada@x' }])
    expect(await run(db.all(sql.raw("SELECT sql FROM sqlite_master WHERE name = 'sch_al_adults'")))).toEqual([{ sql: 'CREATE VIEW "sch_al_adults" AS SELECT email FROM sch_al_users WHERE CAST("years" AS INTEGER) >= 18' }])
  })

  it('drops a named constraint and changes a default', async () => {
    await run(alter(db, pipe(d.alterTable('sch_al_users'), d.check("email LIKE '%@%'", { name: 'sch_al_email' }))))
    const bad = await db.execute(pipe(insertInto('sch_al_users'), values({ email: 'nope' })))()
    expect(E.isLeft(bad) && bad.left._tag).toBe('CheckViolation')
    await run(alter(db, pipe(d.alterTable('sch_al_users'), d.dropConstraint('sch_al_email'), d.setDefault('age', 'unknown'))))
    await run(db.execute(pipe(insertInto('sch_al_users'), values({ email: 'nope' }))))
    expect(await run(db.all(sql.raw("SELECT age FROM sch_al_users WHERE email = 'nope'")))).toEqual([{ age: 'unknown' }])
    const missing = await alter(db, pipe(d.alterTable('sch_al_users'), d.dropConstraint('no_such')))()
    expect(E.isLeft(missing) && missing.left.message).toMatch(/has no constraint named no_such/)
  })

  it('rolls back when the new definition breaks a foreign key, and turns foreign keys back on', async () => {
    // Post 5 has no user 5: a foreign key from posts.id to users.id breaks.
    await run(db.execute(pipe(insertInto('sch_al_posts'), values({ id: 5, user_id: 1 }))))
    const change = pipe(d.alterTable('sch_al_posts'), d.foreignKey(['id'], 'sch_al_users', ['id']))
    const broken = await alter(db, change)()
    expect(E.isLeft(broken) && broken.left._tag).toBe('ForeignKeyViolation')
    expect((await run(introspectTable(db, 'sch_al_posts'))).foreignKeys).toHaveLength(1)
    expect(await run(db.all(sql.raw('PRAGMA foreign_keys')))).toEqual([{ foreign_keys: 1 }])
    expect(await run(db.all(sql.raw("SELECT name FROM sqlite_master WHERE name LIKE 'rk_new_%'")))).toEqual([])
  })

  it('refuses a rebuild inside a transaction while foreign keys are enforced, and runs native changes there', async () => {
    const r = await db.transaction(() => alter(db, pipe(d.alterTable('sch_al_users'), d.alterColumn('age', 'integer'))))()
    expect(E.isLeft(r) && r.left._tag).toBe('TransactionError')
    expect(E.isLeft(r) && r.left.message).toMatch(/cannot rebuild table sch_al_users inside a transaction/)
    await run(db.transaction(() => alter(db, pipe(d.alterTable('sch_al_users'), d.addColumn('nick', 'text')))))
    expect((await run(introspectTable(db, 'sch_al_users'))).columns.map((c) => c.name)).toEqual(['id', 'email', 'age', 'nick'])
  })

  it('uses the native ALTER TABLE when it can', async () => {
    const change = pipe(d.alterTable('sch_al_users'), d.addColumn('nick', 'text'), d.renameColumn('nick', 'handle'), d.renameTable('sch_al_people'))
    const plan = await run(runCatalog((f) => db.all(f), () => sqlite.planAlter(change)))
    expect(plan.before).toEqual([])
    expect(plan.statements.map((f) => (db.compile(f) as E.Right<{ sql: string }>).right.sql)).toEqual([
      'ALTER TABLE "sch_al_users" ADD COLUMN "nick" TEXT',
      'ALTER TABLE "sch_al_users" RENAME COLUMN "nick" TO "handle"',
      'ALTER TABLE "sch_al_users" RENAME TO "sch_al_people"',
    ])
    await run(alter(db, change))
    expect((await run(introspectTable(db, 'sch_al_people'))).columns.map((c) => c.name)).toEqual(['id', 'email', 'age', 'handle'])
    expect((await run(introspectTable(db, 'sch_al_posts'))).foreignKeys[0].references.table).toBe('sch_al_people')
  })
})

describe('applyAlter: what a table becomes, without a database', () => {
  it('follows renames into keys, indexes and self references', () => {
    const t = pipe(d.createTable('t'), d.column('a', 'integer', { primaryKey: true }), d.column('p', 'integer', { references: 't.a' }), d.index(['p'])).table
    const next = d.applyAlter(t, pipe(d.alterTable('t'), d.renameColumn('a', 'id'), d.renameTable('u')))
    expect(next).toEqual({
      name: 'u',
      columns: [{ name: 'id', type: 'integer', notNull: true }, { name: 'p', type: 'integer', notNull: false }],
      primaryKey: { columns: ['id'] },
      uniques: [],
      foreignKeys: [{ columns: ['p'], references: { table: 'u', columns: ['id'] } }],
      checks: [],
      indexes: [{ name: 't_p_idx', columns: ['p'], unique: false }],
    })
  })
})
