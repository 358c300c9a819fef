/**
 * DDL as data: the exact SQL each dialect writes for every kind of statement, then the same
 * statements run in order on SQLite and MariaDB (ALTER TABLE through `alter`, which rebuilds
 * the table on SQLite where its ALTER TABLE cannot), checking the data survives each change.
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Backend, compose, connect } from '../src/compose.js'
import type { Dialect } from '../src/dialect.js'
import { mariadb, mysql } from '../src/dialects/mysql.js'
import { sqlite } from '../src/dialects/sqlite.js'
import { betterSqlite3 } from '../src/drivers/better-sqlite3.js'
import { mysql2 } from '../src/drivers/mysql2.js'
import { isDbError } from '../src/errors.js'
import { run } from '../src/promise.js'
import { from, gt, insertInto, select, values, where } from '../src/query.js'
import { alter, apply } from '../src/schema/apply.js'
import * as d from '../src/schema/ddl.js'
import { sql } from '../src/sql.js'
import { MYSQL_URL, serverAvailable } from './support/servers.js'

const available = await serverAvailable('mariadb')

type Engine = 'sqlite' | 'mysql' | 'mariadb'
/** The statements a node compiles to, or the feature the dialect reports unsupported. */
type Expected = readonly string[] | { readonly unsupported: string }

interface Case extends Readonly<Record<Engine, Expected>> {
  readonly node: d.DdlNode
}

const dialects: Readonly<Record<Engine, Dialect>> = { sqlite, mysql, mariadb: mariadb.forVersion('10.11.6-MariaDB') }

/** Every statement in the order the execution tests run them. */
const cases: Readonly<Record<string, Case>> = {
  users: {
    node: pipe(d.createTable('sch_d_users'), d.column('id', 'integer', { primaryKey: true, autoIncrement: true }), d.column('email', 'varchar(255)', { notNull: true, unique: true }), d.column('name', 'text', { notNull: true, default: "O'Brien" }), d.column('active', 'boolean', { notNull: true, default: true }), d.column('balance', 'decimal(12,2)', { notNull: true, default: 0, check: 'balance >= 0' }), d.column('created_at', 'timestamptz', { notNull: true, default: d.now }), d.column('meta', 'json')),
    sqlite: [`CREATE TABLE "sch_d_users" ("id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, "email" VARCHAR(255) NOT NULL UNIQUE, "name" TEXT NOT NULL DEFAULT 'O''Brien', "active" BOOLEAN NOT NULL DEFAULT TRUE, "balance" DECIMAL(12,2) NOT NULL DEFAULT 0, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT CURRENT_TIMESTAMP, "meta" JSON, CHECK (balance >= 0))`],
    mysql: ["CREATE TABLE `sch_d_users` (`id` INT NOT NULL AUTO_INCREMENT PRIMARY KEY, `email` VARCHAR(255) NOT NULL UNIQUE, `name` LONGTEXT NOT NULL DEFAULT ('O''Brien'), `active` BOOLEAN NOT NULL DEFAULT TRUE, `balance` DECIMAL(12,2) NOT NULL DEFAULT 0, `created_at` TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), `meta` JSON, CHECK (balance >= 0))"],
    mariadb: ["CREATE TABLE `sch_d_users` (`id` INT NOT NULL AUTO_INCREMENT PRIMARY KEY, `email` VARCHAR(255) NOT NULL UNIQUE, `name` LONGTEXT NOT NULL DEFAULT ('O''Brien'), `active` BOOLEAN NOT NULL DEFAULT TRUE, `balance` DECIMAL(12,2) NOT NULL DEFAULT 0, `created_at` TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), `meta` JSON, CHECK (balance >= 0))"],
  },
  posts: {
    node: pipe(d.createTable('sch_d_posts'), d.column('id', 'bigint', { primaryKey: true, autoIncrement: true }), d.column('user_id', 'integer', { notNull: true, references: { table: 'sch_d_users', column: 'id', onDelete: 'cascade', onUpdate: 'restrict' } }), d.column('slug', 'varchar(100)', { notNull: true }), d.column('body', 'text'), d.column('published', 'date'), d.unique(['user_id', 'slug']), d.check("slug <> ''", { name: 'sch_d_posts_slug' }), d.index(['published'])),
    sqlite: [`CREATE TABLE "sch_d_posts" ("id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, "user_id" INTEGER NOT NULL, "slug" VARCHAR(100) NOT NULL, "body" TEXT, "published" DATE, UNIQUE ("user_id", "slug"), FOREIGN KEY ("user_id") REFERENCES "sch_d_users" ("id") ON DELETE CASCADE ON UPDATE RESTRICT, CONSTRAINT "sch_d_posts_slug" CHECK (slug <> ''))`, 'CREATE INDEX "sch_d_posts_published_idx" ON "sch_d_posts" ("published")'],
    mysql: ["CREATE TABLE `sch_d_posts` (`id` BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, `user_id` INT NOT NULL, `slug` VARCHAR(100) NOT NULL, `body` LONGTEXT, `published` DATE, UNIQUE (`user_id`, `slug`), FOREIGN KEY (`user_id`) REFERENCES `sch_d_users` (`id`) ON DELETE CASCADE ON UPDATE RESTRICT, CONSTRAINT `sch_d_posts_slug` CHECK (slug <> ''))", 'CREATE INDEX `sch_d_posts_published_idx` ON `sch_d_posts` (`published`)'],
    mariadb: ["CREATE TABLE `sch_d_posts` (`id` BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, `user_id` INT NOT NULL, `slug` VARCHAR(100) NOT NULL, `body` LONGTEXT, `published` DATE, UNIQUE (`user_id`, `slug`), FOREIGN KEY (`user_id`) REFERENCES `sch_d_users` (`id`) ON DELETE CASCADE ON UPDATE RESTRICT, CONSTRAINT `sch_d_posts_slug` CHECK (slug <> ''))", 'CREATE INDEX `sch_d_posts_published_idx` ON `sch_d_posts` (`published`)'],
  },
  tags: {
    node: pipe(d.createTable('sch_d_tags', { ifNotExists: true }), d.column('post_id', 'bigint', { notNull: true }), d.column('tag', 'varchar(50)', { notNull: true }), d.column('weight', 'real', { default: 1.5 }), d.primaryKey(['post_id', 'tag']), d.foreignKey(['post_id'], 'sch_d_posts', ['id'], { name: 'sch_d_tags_post', onDelete: 'cascade' })),
    sqlite: ['CREATE TABLE IF NOT EXISTS "sch_d_tags" ("post_id" BIGINT NOT NULL, "tag" VARCHAR(50) NOT NULL, "weight" REAL DEFAULT 1.5, PRIMARY KEY ("post_id", "tag"), CONSTRAINT "sch_d_tags_post" FOREIGN KEY ("post_id") REFERENCES "sch_d_posts" ("id") ON DELETE CASCADE)'],
    mysql: ['CREATE TABLE IF NOT EXISTS `sch_d_tags` (`post_id` BIGINT NOT NULL, `tag` VARCHAR(50) NOT NULL, `weight` FLOAT DEFAULT 1.5, PRIMARY KEY (`post_id`, `tag`), CONSTRAINT `sch_d_tags_post` FOREIGN KEY (`post_id`) REFERENCES `sch_d_posts` (`id`) ON DELETE CASCADE)'],
    mariadb: ['CREATE TABLE IF NOT EXISTS `sch_d_tags` (`post_id` BIGINT NOT NULL, `tag` VARCHAR(50) NOT NULL, `weight` FLOAT DEFAULT 1.5, PRIMARY KEY (`post_id`, `tag`), CONSTRAINT `sch_d_tags_post` FOREIGN KEY (`post_id`) REFERENCES `sch_d_posts` (`id`) ON DELETE CASCADE)'],
  },
  index: {
    node: d.createIndex('sch_d_posts', ['user_id', 'published'], { name: 'sch_d_posts_user_pub' }),
    sqlite: ['CREATE INDEX "sch_d_posts_user_pub" ON "sch_d_posts" ("user_id", "published")'],
    mysql: ['CREATE INDEX `sch_d_posts_user_pub` ON `sch_d_posts` (`user_id`, `published`)'],
    mariadb: ['CREATE INDEX `sch_d_posts_user_pub` ON `sch_d_posts` (`user_id`, `published`)'],
  },
  uniqueIndex: {
    node: d.createIndex('sch_d_users', ['active', 'email'], { unique: true, name: 'sch_d_users_active_email' }),
    sqlite: ['CREATE UNIQUE INDEX "sch_d_users_active_email" ON "sch_d_users" ("active", "email")'],
    mysql: ['CREATE UNIQUE INDEX `sch_d_users_active_email` ON `sch_d_users` (`active`, `email`)'],
    mariadb: ['CREATE UNIQUE INDEX `sch_d_users_active_email` ON `sch_d_users` (`active`, `email`)'],
  },
  partialIndex: {
    node: d.createIndex('sch_d_posts', ['slug'], { where: 'body IS NOT NULL' }),
    sqlite: ['CREATE INDEX "sch_d_posts_slug_idx" ON "sch_d_posts" ("slug") WHERE body IS NOT NULL'],
    mysql: { unsupported: 'partial indexes (CREATE INDEX ... WHERE)' },
    mariadb: { unsupported: 'partial indexes (CREATE INDEX ... WHERE)' },
  },
  view: {
    node: d.createView('sch_d_active', pipe(from('sch_d_users'), select('id', 'email'), where({ active: true }), where(gt('balance', 10)))),
    sqlite: ['CREATE VIEW "sch_d_active" AS SELECT "id", "email" FROM "sch_d_users" WHERE "active" = 1 AND "balance" > 10'],
    mysql: ['CREATE VIEW `sch_d_active` AS SELECT `id`, `email` FROM `sch_d_users` WHERE `active` = 1 AND `balance` > 10'],
    mariadb: ['CREATE VIEW `sch_d_active` AS SELECT `id`, `email` FROM `sch_d_users` WHERE `active` = 1 AND `balance` > 10'],
  },
  viewReplace: {
    node: d.createView('sch_d_active', 'SELECT id FROM sch_d_users', { orReplace: true }),
    sqlite: ['DROP VIEW IF EXISTS "sch_d_active"', 'CREATE VIEW "sch_d_active" AS SELECT id FROM sch_d_users'],
    mysql: ['CREATE OR REPLACE VIEW `sch_d_active` AS SELECT id FROM sch_d_users'],
    mariadb: ['CREATE OR REPLACE VIEW `sch_d_active` AS SELECT id FROM sch_d_users'],
  },
  addColumn: {
    node: pipe(d.alterTable('sch_d_users'), d.addColumn('nickname', 'varchar(40)', { default: 'x' })),
    sqlite: [`ALTER TABLE "sch_d_users" ADD COLUMN "nickname" VARCHAR(40) DEFAULT 'x'`],
    mysql: ["ALTER TABLE `sch_d_users` ADD COLUMN `nickname` VARCHAR(40) DEFAULT 'x'"],
    mariadb: ["ALTER TABLE `sch_d_users` ADD COLUMN `nickname` VARCHAR(40) DEFAULT 'x'"],
  },
  renameColumn: {
    node: pipe(d.alterTable('sch_d_users'), d.renameColumn('nickname', 'handle')),
    sqlite: ['ALTER TABLE "sch_d_users" RENAME COLUMN "nickname" TO "handle"'],
    mysql: ['ALTER TABLE `sch_d_users` RENAME COLUMN `nickname` TO `handle`'],
    mariadb: ['ALTER TABLE `sch_d_users` RENAME COLUMN `nickname` TO `handle`'],
  },
  dropColumn: {
    node: pipe(d.alterTable('sch_d_users'), d.dropColumn('handle')),
    sqlite: ['ALTER TABLE "sch_d_users" DROP COLUMN "handle"'],
    mysql: ['ALTER TABLE `sch_d_users` DROP COLUMN `handle`'],
    mariadb: ['ALTER TABLE `sch_d_users` DROP COLUMN `handle`'],
  },
  alterColumn: {
    node: pipe(d.alterTable('sch_d_posts'), d.alterColumn('slug', 'varchar(200)', { notNull: true, default: 'none' })),
    sqlite: { unsupported: 'ALTER TABLE to change a column' },
    mysql: ["ALTER TABLE `sch_d_posts` MODIFY COLUMN `slug` VARCHAR(200) NOT NULL DEFAULT 'none'"],
    mariadb: ["ALTER TABLE `sch_d_posts` MODIFY COLUMN `slug` VARCHAR(200) NOT NULL DEFAULT 'none'"],
  },
  setDefault: {
    node: pipe(d.alterTable('sch_d_posts'), d.setDefault('body', '')),
    sqlite: { unsupported: 'ALTER TABLE to change a default' },
    mysql: ["ALTER TABLE `sch_d_posts` ALTER COLUMN `body` SET DEFAULT ('')"],
    mariadb: ["ALTER TABLE `sch_d_posts` ALTER COLUMN `body` SET DEFAULT ('')"],
  },
  dropDefault: {
    node: pipe(d.alterTable('sch_d_posts'), d.dropDefault('body')),
    sqlite: { unsupported: 'ALTER TABLE to change a default' },
    mysql: ['ALTER TABLE `sch_d_posts` ALTER COLUMN `body` DROP DEFAULT'],
    mariadb: ['ALTER TABLE `sch_d_posts` ALTER COLUMN `body` DROP DEFAULT'],
  },
  addCheck: {
    node: pipe(d.alterTable('sch_d_users'), d.check('length(email) > 3', { name: 'sch_d_users_email_len' })),
    sqlite: { unsupported: 'ALTER TABLE to add a constraint' },
    mysql: ['ALTER TABLE `sch_d_users` ADD CONSTRAINT `sch_d_users_email_len` CHECK (length(email) > 3)'],
    mariadb: ['ALTER TABLE `sch_d_users` ADD CONSTRAINT `sch_d_users_email_len` CHECK (length(email) > 3)'],
  },
  dropCheck: {
    node: pipe(d.alterTable('sch_d_users'), d.dropConstraint('sch_d_users_email_len', 'check')),
    sqlite: { unsupported: 'ALTER TABLE to drop a constraint' },
    mysql: ['ALTER TABLE `sch_d_users` DROP CONSTRAINT `sch_d_users_email_len`'],
    mariadb: ['ALTER TABLE `sch_d_users` DROP CONSTRAINT `sch_d_users_email_len`'],
  },
  dropFk: {
    node: pipe(d.alterTable('sch_d_tags'), d.dropConstraint('sch_d_tags_post', 'foreignKey')),
    sqlite: { unsupported: 'ALTER TABLE to drop a constraint' },
    mysql: ['ALTER TABLE `sch_d_tags` DROP FOREIGN KEY `sch_d_tags_post`'],
    mariadb: ['ALTER TABLE `sch_d_tags` DROP FOREIGN KEY `sch_d_tags_post`'],
  },
  renameTable: {
    node: pipe(d.alterTable('sch_d_tags'), d.renameTable('sch_d_labels')),
    sqlite: ['ALTER TABLE "sch_d_tags" RENAME TO "sch_d_labels"'],
    mysql: ['ALTER TABLE `sch_d_tags` RENAME TO `sch_d_labels`'],
    mariadb: ['ALTER TABLE `sch_d_tags` RENAME TO `sch_d_labels`'],
  },
  several: {
    node: pipe(d.alterTable('sch_d_users'), d.addColumn('a', 'integer'), d.addColumn('b', 'integer'), d.renameColumn('a', 'c'), d.dropColumn('b')),
    sqlite: ['ALTER TABLE "sch_d_users" ADD COLUMN "a" INTEGER', 'ALTER TABLE "sch_d_users" ADD COLUMN "b" INTEGER', 'ALTER TABLE "sch_d_users" RENAME COLUMN "a" TO "c"', 'ALTER TABLE "sch_d_users" DROP COLUMN "b"'],
    mysql: ['ALTER TABLE `sch_d_users` ADD COLUMN `a` INT, ADD COLUMN `b` INT', 'ALTER TABLE `sch_d_users` RENAME COLUMN `a` TO `c`', 'ALTER TABLE `sch_d_users` DROP COLUMN `b`'],
    mariadb: ['ALTER TABLE `sch_d_users` ADD COLUMN `a` INT, ADD COLUMN `b` INT', 'ALTER TABLE `sch_d_users` RENAME COLUMN `a` TO `c`', 'ALTER TABLE `sch_d_users` DROP COLUMN `b`'],
  },
  dropView: {
    node: d.dropView('sch_d_active', { ifExists: true }),
    sqlite: ['DROP VIEW IF EXISTS "sch_d_active"'],
    mysql: ['DROP VIEW IF EXISTS `sch_d_active`'],
    mariadb: ['DROP VIEW IF EXISTS `sch_d_active`'],
  },
  dropIndex: {
    node: d.dropIndex('sch_d_posts_user_pub', { table: 'sch_d_posts' }),
    sqlite: ['DROP INDEX "sch_d_posts_user_pub"'],
    mysql: ['DROP INDEX `sch_d_posts_user_pub` ON `sch_d_posts`'],
    mariadb: ['DROP INDEX `sch_d_posts_user_pub` ON `sch_d_posts`'],
  },
  dropTable: {
    node: d.dropTable('sch_d_labels', { ifExists: true }),
    sqlite: ['DROP TABLE IF EXISTS "sch_d_labels"'],
    mysql: ['DROP TABLE IF EXISTS `sch_d_labels`'],
    mariadb: ['DROP TABLE IF EXISTS `sch_d_labels`'],
  },
  dropCascade: {
    node: d.dropTable('sch_d_posts', { cascade: true }),
    sqlite: { unsupported: 'DROP TABLE ... CASCADE' },
    mysql: { unsupported: 'DROP TABLE ... CASCADE' },
    mariadb: { unsupported: 'DROP TABLE ... CASCADE' },
  },
}

const compileAll = (dialect: Dialect, node: d.DdlNode): Expected => {
  try {
    return dialect.ddlStatements(node).map((f) => {
      const c = dialect.compile(f)
      if (E.isLeft(c)) throw c.left
      expect(c.right.params).toEqual([])
      return c.right.sql
    })
  } catch (e) {
    if (isDbError(e, 'UnsupportedFeature')) return { unsupported: e.feature }
    throw e
  }
}

describe('DDL compiles to the exact SQL of each dialect', () => {
  for (const [name, c] of Object.entries(cases)) {
    it(name, () => {
      for (const engine of ['sqlite', 'mysql', 'mariadb'] as const) expect(compileAll(dialects[engine], c.node), engine).toEqual(c[engine])
    })
  }

  it('compiles through db.compile as a statement kind; several statements need apply()', () => {
    expect(sqlite.compile(cases.index.node)).toEqual(E.right({ sql: 'CREATE INDEX "sch_d_posts_user_pub" ON "sch_d_posts" ("user_id", "published")', params: [] }))
    const two = sqlite.compile(cases.posts.node)
    expect(E.isLeft(two) && two.left.message).toMatch(/takes 2 statements; run it with apply/)
    const rebuild = sqlite.compile(cases.alterColumn.node)
    expect(E.isLeft(rebuild) && rebuild.left._tag).toBe('UnsupportedFeature')
  })

  it('writes values inside DDL as literals, escaped per dialect', () => {
    const node = pipe(d.createTable('t'), d.column('s', 'varchar(20)', { default: "a'b\\c" }), d.column('n', 'bigint', { default: 9007199254740993n }), d.column('f', 'boolean', { default: false }))
    expect(compileAll(sqlite, node)).toEqual([`CREATE TABLE "t" ("s" VARCHAR(20) DEFAULT 'a''b\\c', "n" BIGINT DEFAULT 9007199254740993, "f" BOOLEAN DEFAULT FALSE)`])
    expect(compileAll(mysql, node)).toEqual(["CREATE TABLE `t` (`s` VARCHAR(20) DEFAULT 'a''b\\\\c', `n` BIGINT DEFAULT 9007199254740993, `f` BOOLEAN DEFAULT FALSE)"])
  })

  it('maps every portable type per dialect', () => {
    const types: d.ColumnType[] = ['smallint', 'integer', 'bigint', 'real', 'double', 'boolean', 'text', 'varchar(10)', 'char(2)', 'decimal(10,2)', 'date', 'time', 'timestamp', 'timestamp(3)', 'timestamptz', 'timestamptz(3)', 'json', 'uuid', 'binary', d.native('MEDIUMINT')]
    const spell = (dl: Dialect) => types.map((t) => dl.columnType(t))
    expect(spell(sqlite)).toEqual(['SMALLINT', 'INTEGER', 'BIGINT', 'REAL', 'DOUBLE PRECISION', 'BOOLEAN', 'TEXT', 'VARCHAR(10)', 'CHAR(2)', 'DECIMAL(10,2)', 'DATE', 'TIME', 'TIMESTAMP', 'TIMESTAMP(3)', 'TIMESTAMP WITH TIME ZONE', 'TIMESTAMP(3) WITH TIME ZONE', 'JSON', 'UUID', 'BLOB', 'MEDIUMINT'])
    expect(spell(mysql)).toEqual(['SMALLINT', 'INT', 'BIGINT', 'FLOAT', 'DOUBLE', 'BOOLEAN', 'LONGTEXT', 'VARCHAR(10)', 'CHAR(2)', 'DECIMAL(10,2)', 'DATE', 'TIME', 'DATETIME(6)', 'DATETIME(3)', 'TIMESTAMP(6)', 'TIMESTAMP(3)', 'JSON', 'CHAR(36)', 'LONGBLOB', 'MEDIUMINT'])
    expect(dialects.mariadb.columnType('uuid')).toBe('UUID')
    expect(mariadb.forVersion('10.6.12-MariaDB').columnType('uuid')).toBe('CHAR(36)')
  })

  it('refuses what an engine cannot do, naming the feature', () => {
    const gen = pipe(d.createTable('t'), d.column('id', 'integer', { autoIncrement: true }), d.column('x', 'integer', { primaryKey: true }))
    expect(compileAll(sqlite, gen)).toEqual({ unsupported: 'a generated column that is not the one-column primary key' })
    expect(() => pipe(d.createTable('t'), d.column('a', 'integer'), d.column('a', 'text'))).toThrow(/has a column a already/)
    expect(() => d.column('a', 'varchar' as d.ColumnType)(d.createTable('t'))).toThrow(/not a portable column type/)
  })
})

/** Run one node the way a program would: ALTER TABLE through alter(), the rest through apply(). */
const runNode = (db: Backend, node: d.DdlNode) => (node.kind === 'alterTable' ? alter(db, node) : apply(db, node))

const count = async (db: Backend, table: string): Promise<number> =>
  Number((await run(db.all(sql`SELECT COUNT(*) AS n FROM ${sql.id(table)}`)))[0].n)

const runsOn = (engine: 'sqlite' | 'mariadb', connectTo: () => Promise<Backend>) => () => {
  let db: Backend
  beforeAll(async () => {
    db = await connectTo()
    for (const t of ['sch_d_labels', 'sch_d_tags', 'sch_d_posts', 'sch_d_users']) await run(db.execute(d.dropTable(t, { ifExists: true })))
    await run(db.execute(d.dropView('sch_d_active', { ifExists: true })))
  })
  afterAll(async () => {
    if (db === undefined) return
    await run(db.execute(d.dropView('sch_d_active', { ifExists: true })))
    for (const t of ['sch_d_labels', 'sch_d_tags', 'sch_d_posts', 'sch_d_users']) await run(db.execute(d.dropTable(t, { ifExists: true })))
    await run(db.close())
  })

  it('runs every statement in order, keeping the rows through each change', async () => {
    for (const [name, c] of Object.entries(cases)) {
      const expected = c[engine]
      const rebuilds = engine === 'sqlite' && c.node.kind === 'alterTable'
      if (!Array.isArray(expected) && !rebuilds) {
        // What the dialect refuses does not run: the error says so before any I/O.
        const r = await runNode(db, c.node)()
        expect(E.isLeft(r) && r.left._tag, name).toBe('UnsupportedFeature')
        continue
      }
      const r = await runNode(db, c.node)()
      if (E.isLeft(r)) throw new Error(`${name}: ${r.left.message}`)
      if (name === 'tags') {
        await run(db.execute(pipe(insertInto('sch_d_users'), values([{ email: 'ada@x', name: 'Ada', balance: 0, meta: { a: 1 } }, { email: 'alan@x', name: 'Alan', balance: 20, meta: null }]))))
        await run(db.execute(pipe(insertInto('sch_d_posts'), values([{ user_id: 1, slug: 'notes', body: 'b' }, { user_id: 2, slug: 'machines', body: null }]))))
        await run(db.execute(pipe(insertInto('sch_d_tags'), values([{ post_id: 1, tag: 'math', weight: 1 }, { post_id: 2, tag: 'ai', weight: 2 }]))))
      }
      if (name === 'view') expect(await run(db.all(pipe(from('sch_d_active'), select('email'))))).toEqual([{ email: 'alan@x' }])
      if (name === 'alterColumn') {
        expect(await count(db, 'sch_d_posts'), name).toBe(2)
        expect(await count(db, 'sch_d_tags'), 'rows that reference the rebuilt table stay').toBe(2)
        await run(db.execute(pipe(insertInto('sch_d_posts'), values({ user_id: 1 }))))
        expect(await run(db.all(pipe(from('sch_d_posts'), select('slug'), where(gt('id', 2)))))).toEqual([{ slug: 'none' }])
      }
      if (name === 'addCheck') {
        const bad = await db.execute(pipe(insertInto('sch_d_users'), values({ email: 'a', name: 'x' })))()
        expect(E.isLeft(bad) && bad.left._tag).toBe('CheckViolation')
      }
    }
    expect(await count(db, 'sch_d_users')).toBe(2)
    expect(await count(db, 'sch_d_posts')).toBe(3)
  })
}

describe('on SQLite', runsOn('sqlite', async () => compose(betterSqlite3({ filename: ':memory:' }), sqlite)))
describe.skipIf(!available)('on MariaDB', runsOn('mariadb', () => run(connect(mysql2({ url: MYSQL_URL, max: 4 }), mysql))))
