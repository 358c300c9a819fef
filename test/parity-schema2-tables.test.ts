/**
 * The schema builder as a schema builder's users expect it (the cases Knex's own schema tests
 * make): a table of every portable type read back as it was made, defaults of each kind,
 * nullability changed both ways, columns added, dropped and renamed with their rows, indexes and
 * unique constraints that hold, foreign keys whose ON DELETE and ON UPDATE act, renamed tables,
 * whether a table or a column exists, and DROP TABLE IF EXISTS. Each case runs on SQLite,
 * PostgreSQL and MariaDB; MySQL 8 is checked as SQL text.
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type Backend, compose, connect, type Dialect, sql } from 'recordkit'
import { fails } from 'recordkit/testing'
import { mysql } from 'recordkit/dialects/mysql'
import { postgres } from 'recordkit/dialects/postgres'
import { sqlite } from 'recordkit/dialects/sqlite'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'
import { mysql2 } from 'recordkit/drivers/mysql2'
import { postgresJs } from 'recordkit/drivers/postgres'
import { run } from 'recordkit/promise'
import * as d from 'recordkit/schema'
import { alter, apply, introspectTable } from 'recordkit/schema'
import { MYSQL_URL, PG_URL, serverAvailable } from './support/servers.js'

const pgUp = await serverAvailable('postgres')
const mariaUp = await serverAvailable('mariadb')

const p = 'ps2t_'
const TABLES = ['kinds', 'defaults', 'people', 'renamed_people', 'tags', 'books', 'authors', 'shelves', 'moved']
const tn = (t: string) => `${p}${t}`

const engines: readonly (readonly [string, boolean, () => Promise<Backend>])[] = [
  ['SQLite', true, async () => compose(betterSqlite3({ filename: ':memory:' }), sqlite)],
  ['PostgreSQL', pgUp, () => run(connect(postgresJs({ url: PG_URL, max: 2 }), postgres))],
  ['MariaDB', mariaUp, () => run(connect(mysql2({ url: MYSQL_URL, max: 2 }), mysql))],
]

/** `fails` of the testing kit: the DbError of a task that must fail. */
const left = fails

/** The SQL text a dialect writes for a DDL node, every statement of it. */
const sqlOf = (dialect: Dialect, node: d.DdlNode): string[] =>
  dialect.ddlStatements(node).map((f) => E.match((e: Error) => `-- ${e.message}`, (c: { sql: string }) => c.sql)(dialect.compile(f)))

const every = pipe(
  d.createTable(tn('kinds')),
  d.column('id', 'integer', { primaryKey: true, autoIncrement: true }),
  d.column('small', 'smallint'),
  d.column('big', 'bigint'),
  d.column('real_n', 'real'),
  d.column('double_n', 'double'),
  d.column('price', 'decimal(10,2)'),
  d.column('flag', 'boolean'),
  d.column('body', 'text'),
  d.column('title', 'varchar(40)'),
  d.column('code', 'char(3)'),
  d.column('born', 'date'),
  d.column('at_time', 'time'),
  d.column('stamp', 'timestamp(3)'),
  d.column('stamp_tz', 'timestamptz(3)'),
  d.column('doc', 'json'),
  d.column('ident', 'uuid'),
  d.column('bytes', 'binary'),
)

for (const [engine, available, open] of engines) {
  describe.skipIf(!available)(`the schema builder on ${engine}`, () => {
    let db: Backend
    const tables = async (): Promise<readonly string[]> =>
      (await run(d.runCatalog((f) => db.all(f), () => db.dialect.introspectTableNames()))).filter((t) => t.startsWith(p))
    /** Knex's hasTable. */
    const hasTable = async (t: string): Promise<boolean> => (await tables()).includes(tn(t))
    /** Knex's hasColumn. */
    const hasColumn = async (t: string, c: string): Promise<boolean> => (await run(introspectTable(db, tn(t)))).columns.some((x) => x.name === c)
    const rows = async (q: string) => run(db.all(sql.raw(q)))
    const exec = (q: string) => run(db.execute(sql.raw(q)))
    const drop = async () => {
      // Children first; foreign keys between the tables.
      for (const t of ['books', 'shelves', 'authors', ...TABLES]) await run(apply(db, d.dropTable(tn(t), { ifExists: true })))
    }

    beforeAll(async () => { db = await open() })
    beforeEach(drop)
    afterAll(async () => {
      if (db === undefined) return
      await drop()
      await run(db.close())
    })

    it('a table of every portable type reads back with the types it was made with, and keeps a value of each', async () => {
      await run(apply(db, every))
      const back = await run(introspectTable(db, tn('kinds')))
      expect(back.columns.map((c) => [c.name, c.type])).toEqual(every.table.columns.map((c) => [c.name, c.type]))
      expect(back.primaryKey?.columns).toEqual(['id'])
      expect(back.columns[0].autoIncrement).toBe(true)
      expect(back.columns.slice(1).every((c) => !c.notNull)).toBe(true)
      const uuid = '6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f'
      await run(db.execute(sql`INSERT INTO ${sql.id(tn('kinds'))} (small, big, real_n, double_n, price, flag, body, title, code, born, at_time, doc, ident)
        VALUES (${-32768}, ${9007199254740993n}, ${0.5}, ${1.25}, ${'12345678.90'}, ${true}, ${'é'.repeat(70000)}, ${'t'.repeat(40)}, ${'abc'}, ${'1960-02-29'}, ${'23:59:58'}, ${JSON.stringify({ a: [1, 'x'] })}, ${uuid})`))
      const [row] = await rows(`SELECT id, small, big, real_n, double_n, price, flag, body, title, code, doc, ident FROM ${tn('kinds')}`)
      expect(row.id).toBe(1)
      expect(Number(row.small)).toBe(-32768)
      expect(BigInt(row.big as bigint)).toBe(9007199254740993n)
      expect(Number(row.real_n)).toBe(0.5)
      expect(Number(row.double_n)).toBe(1.25)
      expect(Number(row.price)).toBe(12345678.9)
      expect(Boolean(row.flag)).toBe(true)
      expect(row.body).toBe('é'.repeat(70000))
      expect(row.title).toBe('t'.repeat(40))
      expect(row.code).toBe('abc')
      expect(typeof row.doc === 'string' ? JSON.parse(row.doc) : row.doc).toEqual({ a: [1, 'x'] })
      expect(String(row.ident)).toBe(uuid)
    })

    it('defaults of each kind: text with a quote, numbers, booleans, NULL, the current time and SQL text', async () => {
      await run(apply(db, pipe(
        d.createTable(tn('defaults')),
        d.column('id', 'integer', { primaryKey: true }),
        d.column('name', 'varchar(30)', { notNull: true, default: "O'Brien \\ co" }),
        d.column('qty', 'integer', { notNull: true, default: 7 }),
        d.column('ratio', 'decimal(5,2)', { default: -1.5 }),
        d.column('on', 'boolean', { notNull: true, default: true }),
        d.column('off', 'boolean', { notNull: true, default: false }),
        d.column('note', 'text', { default: null }),
        d.column('made', 'timestamptz', { notNull: true, default: d.now }),
        d.column('expr', 'integer', { default: d.sqlDefault('(1 + 2)') }),
      )))
      await exec(`INSERT INTO ${tn('defaults')} (id) VALUES (1)`)
      const [row] = await rows(`SELECT name, qty, ratio, ${db.dialect.quoteIdentifier('on')} AS on_, ${db.dialect.quoteIdentifier('off')} AS off_, note, made, expr FROM ${tn('defaults')}`)
      expect(row.name).toBe("O'Brien \\ co")
      expect(Number(row.qty)).toBe(7)
      expect(Number(row.ratio)).toBe(-1.5)
      expect([Boolean(row.on_), Boolean(row.off_)]).toEqual([true, false])
      expect(row.note).toBeNull()
      expect(row.made).not.toBeNull()
      expect(Number(row.expr)).toBe(3)
      const back = await run(introspectTable(db, tn('defaults')))
      const def = (c: string) => back.columns.find((x) => x.name === c)?.default
      expect(def('name')).toEqual({ kind: 'value', value: "O'Brien \\ co" })
      expect(def('qty')).toEqual({ kind: 'value', value: 7 })
      expect(def('made')).toEqual(d.now)
    })

    it('setDefault and dropDefault change what a new row gets, and leave the rows there', async () => {
      await run(apply(db, pipe(d.createTable(tn('defaults')), d.column('id', 'integer', { primaryKey: true }), d.column('qty', 'integer', { default: 1 }))))
      await exec(`INSERT INTO ${tn('defaults')} (id) VALUES (1)`)
      await run(alter(db, pipe(d.alterTable(tn('defaults')), d.setDefault('qty', 5))))
      await exec(`INSERT INTO ${tn('defaults')} (id) VALUES (2)`)
      await run(alter(db, pipe(d.alterTable(tn('defaults')), d.dropDefault('qty'))))
      await exec(`INSERT INTO ${tn('defaults')} (id) VALUES (3)`)
      expect((await rows(`SELECT qty FROM ${tn('defaults')} ORDER BY id`)).map((r) => r.qty)).toEqual([1, 5, null])
      expect((await run(introspectTable(db, tn('defaults')))).columns[1].default).toBeUndefined()
    })

    it('nullability changes both ways: NOT NULL over rows without NULLs, refused over a NULL (nothing changed), then nullable again', async () => {
      await run(apply(db, pipe(d.createTable(tn('people')), d.column('id', 'integer', { primaryKey: true }), d.column('nick', 'varchar(20)'))))
      await exec(`INSERT INTO ${tn('people')} (id, nick) VALUES (1, 'a'), (2, 'b')`)
      await run(alter(db, pipe(d.alterTable(tn('people')), d.alterColumn('nick', 'varchar(20)', { notNull: true }))))
      expect((await run(introspectTable(db, tn('people')))).columns[1].notNull).toBe(true)
      expect((await left(db.execute(sql.raw(`INSERT INTO ${tn('people')} (id, nick) VALUES (3, NULL)`))))._tag).toBe('NotNullViolation')
      await run(alter(db, pipe(d.alterTable(tn('people')), d.alterColumn('nick', 'varchar(20)'))))
      await exec(`INSERT INTO ${tn('people')} (id, nick) VALUES (3, NULL)`)
      const refused = await left(alter(db, pipe(d.alterTable(tn('people')), d.alterColumn('nick', 'varchar(20)', { notNull: true }))))
      expect(['NotNullViolation', 'QueryError']).toContain(refused._tag)
      expect((await run(introspectTable(db, tn('people')))).columns[1].notNull).toBe(false)
      expect((await rows(`SELECT id, nick FROM ${tn('people')} ORDER BY id`))).toEqual([{ id: 1, nick: 'a' }, { id: 2, nick: 'b' }, { id: 3, nick: null }])
    })

    it('columns added, renamed and dropped in one alterTable keep the rows; hasColumn follows', async () => {
      await run(apply(db, pipe(d.createTable(tn('people')), d.column('id', 'integer', { primaryKey: true }), d.column('first', 'varchar(20)'), d.column('age', 'integer'))))
      await exec(`INSERT INTO ${tn('people')} (id, first, age) VALUES (1, 'Ada', 36)`)
      await run(alter(db, pipe(
        d.alterTable(tn('people')),
        d.addColumn('last', 'varchar(20)', { notNull: true, default: 'Lovelace' }),
        d.renameColumn('first', 'given'),
        d.dropColumn('age'),
      )))
      expect(await hasColumn('people', 'given')).toBe(true)
      expect(await hasColumn('people', 'first')).toBe(false)
      expect(await hasColumn('people', 'age')).toBe(false)
      expect(await rows(`SELECT * FROM ${tn('people')}`)).toEqual([{ id: 1, given: 'Ada', last: 'Lovelace' }])
    })

    it('a renamed column keeps its index and its unique constraint', async () => {
      await run(apply(db, pipe(
        d.createTable(tn('people')),
        d.column('id', 'integer', { primaryKey: true }),
        d.column('email', 'varchar(60)', { unique: true }),
        d.column('city', 'varchar(20)'),
        d.index(['city'], { name: `${p}people_city` }),
      )))
      await run(alter(db, pipe(d.alterTable(tn('people')), d.renameColumn('email', 'mail'), d.renameColumn('city', 'town'))))
      const back = await run(introspectTable(db, tn('people')))
      expect(back.indexes.filter((i) => !i.unique).map((i) => [i.name, i.columns])).toEqual([[`${p}people_city`, ['town']]])
      // MariaDB named the unique index after the column (email), a name it keeps through the
      // rename: read back, that is a unique index of its own name rather than an unnamed constraint.
      expect([...back.uniques.map((u) => u.columns), ...back.indexes.filter((i) => i.unique).map((i) => i.columns)]).toEqual([['mail']])
      await exec(`INSERT INTO ${tn('people')} (id, mail) VALUES (1, 'a@x')`)
      expect((await left(db.execute(sql.raw(`INSERT INTO ${tn('people')} (id, mail) VALUES (2, 'a@x')`))))._tag).toBe('UniqueViolation')
    })

    it('indexes: a unique one holds, a composite one is read back in its order, and both drop', async () => {
      await run(apply(db, pipe(d.createTable(tn('tags')), d.column('id', 'integer', { primaryKey: true }), d.column('kind', 'varchar(10)'), d.column('label', 'varchar(20)'))))
      await run(apply(db,
        d.createIndex(tn('tags'), ['label', 'kind'], { name: `${p}tags_label_kind` }),
        d.createIndex(tn('tags'), ['kind', 'label'], { name: `${p}tags_kind_label_u`, unique: true }),
      ))
      const back = await run(introspectTable(db, tn('tags')))
      const byName = Object.fromEntries(back.indexes.map((i) => [i.name, [i.columns, i.unique]]))
      expect(byName[`${p}tags_label_kind`]).toEqual([['label', 'kind'], false])
      expect(byName[`${p}tags_kind_label_u`] ?? back.uniques.find((u) => u.name === `${p}tags_kind_label_u`)?.columns).toBeDefined()
      await exec(`INSERT INTO ${tn('tags')} (id, kind, label) VALUES (1, 'a', 'x')`)
      const dup = await left(db.execute(sql.raw(`INSERT INTO ${tn('tags')} (id, kind, label) VALUES (2, 'a', 'x')`)))
      expect(dup._tag).toBe('UniqueViolation')
      await run(apply(db, d.dropIndex(`${p}tags_kind_label_u`, { table: tn('tags') }), d.dropIndex(`${p}tags_label_kind`, { table: tn('tags') })))
      await exec(`INSERT INTO ${tn('tags')} (id, kind, label) VALUES (2, 'a', 'x')`)
      const after = await run(introspectTable(db, tn('tags')))
      expect([after.indexes, after.uniques]).toEqual([[], []])
    })

    it('dropIndex with ifExists on an index that is not there does nothing; without, it fails and names it', async () => {
      await run(apply(db, pipe(d.createTable(tn('tags')), d.column('id', 'integer', { primaryKey: true }))))
      await run(apply(db, d.dropIndex(`${p}no_such_index`, { table: tn('tags'), ifExists: true })))
      const e = await left(apply(db, d.dropIndex(`${p}no_such_index`, { table: tn('tags') })))
      expect(e.message).toContain(`${p}no_such_index`)
    })

    it('a named unique constraint added to a table holds, and dropped by its name lets duplicates in', async () => {
      await run(apply(db, pipe(d.createTable(tn('tags')), d.column('id', 'integer', { primaryKey: true }), d.column('label', 'varchar(20)'))))
      await run(alter(db, pipe(d.alterTable(tn('tags')), d.unique(['label'], { name: `${p}tags_label_u` }))))
      await exec(`INSERT INTO ${tn('tags')} (id, label) VALUES (1, 'x')`)
      const dup = await left(db.execute(sql.raw(`INSERT INTO ${tn('tags')} (id, label) VALUES (2, 'x')`)))
      expect(dup._tag).toBe('UniqueViolation')
      await run(alter(db, pipe(d.alterTable(tn('tags')), d.dropConstraint(`${p}tags_label_u`, 'unique'))))
      await exec(`INSERT INTO ${tn('tags')} (id, label) VALUES (2, 'x')`)
      expect((await rows(`SELECT COUNT(*) AS n FROM ${tn('tags')}`)).map((r) => Number(r.n))).toEqual([2])
    })

    const authorsAndBooks = (onDelete: d.ReferentialAction, onUpdate: d.ReferentialAction) => [
      pipe(d.createTable(tn('authors')), d.column('id', 'integer', { primaryKey: true }), d.column('name', 'varchar(20)')),
      pipe(
        d.createTable(tn('books')),
        d.column('id', 'integer', { primaryKey: true }),
        d.column('author_id', 'integer', { references: { table: tn('authors'), column: 'id', onDelete, onUpdate } }),
      ),
    ]

    it('a foreign key ON DELETE CASCADE / ON UPDATE CASCADE deletes and rekeys the rows that refer', async () => {
      await run(apply(db, ...authorsAndBooks('cascade', 'cascade')))
      await exec(`INSERT INTO ${tn('authors')} (id, name) VALUES (1, 'a'), (2, 'b')`)
      await exec(`INSERT INTO ${tn('books')} (id, author_id) VALUES (10, 1), (11, 1), (20, 2)`)
      await exec(`UPDATE ${tn('authors')} SET id = 3 WHERE id = 2`)
      await exec(`DELETE FROM ${tn('authors')} WHERE id = 1`)
      expect(await rows(`SELECT id, author_id FROM ${tn('books')} ORDER BY id`)).toEqual([{ id: 20, author_id: 3 }])
      const fk = (await run(introspectTable(db, tn('books')))).foreignKeys[0]
      expect([fk.onDelete, fk.onUpdate]).toEqual(['cascade', 'cascade'])
    })

    it('ON DELETE SET NULL empties the key; RESTRICT refuses with a ForeignKeyViolation and changes nothing', async () => {
      await run(apply(db, ...authorsAndBooks('set null', 'restrict')))
      await exec(`INSERT INTO ${tn('authors')} (id, name) VALUES (1, 'a'), (2, 'b')`)
      await exec(`INSERT INTO ${tn('books')} (id, author_id) VALUES (10, 1), (20, 2)`)
      await exec(`DELETE FROM ${tn('authors')} WHERE id = 1`)
      expect(await rows(`SELECT id, author_id FROM ${tn('books')} ORDER BY id`)).toEqual([{ id: 10, author_id: null }, { id: 20, author_id: 2 }])
      const refused = await left(db.execute(sql.raw(`UPDATE ${tn('authors')} SET id = 3 WHERE id = 2`)))
      expect(refused._tag).toBe('ForeignKeyViolation')
      expect(await rows(`SELECT id FROM ${tn('authors')}`)).toEqual([{ id: 2 }])
      const orphan = await left(db.execute(sql.raw(`INSERT INTO ${tn('books')} (id, author_id) VALUES (30, 99)`)))
      expect(orphan._tag).toBe('ForeignKeyViolation')
    })

    it('a named foreign key added by alterTable holds over the rows there, and dropped by its name lets an orphan in', async () => {
      await run(apply(db,
        pipe(d.createTable(tn('shelves')), d.column('id', 'integer', { primaryKey: true })),
        pipe(d.createTable(tn('books')), d.column('id', 'integer', { primaryKey: true }), d.column('shelf_id', 'integer')),
      ))
      await exec(`INSERT INTO ${tn('shelves')} (id) VALUES (1)`)
      await exec(`INSERT INTO ${tn('books')} (id, shelf_id) VALUES (1, 1)`)
      await run(alter(db, pipe(d.alterTable(tn('books')), d.foreignKey(['shelf_id'], tn('shelves'), ['id'], { name: `${p}books_shelf_fk`, onDelete: 'cascade' }))))
      expect((await left(db.execute(sql.raw(`INSERT INTO ${tn('books')} (id, shelf_id) VALUES (2, 9)`))))._tag).toBe('ForeignKeyViolation')
      expect((await run(introspectTable(db, tn('books')))).foreignKeys.map((f) => f.name)).toEqual([`${p}books_shelf_fk`])
      await run(alter(db, pipe(d.alterTable(tn('books')), d.dropConstraint(`${p}books_shelf_fk`, 'foreignKey'))))
      await exec(`INSERT INTO ${tn('books')} (id, shelf_id) VALUES (2, 9)`)
      expect((await run(introspectTable(db, tn('books')))).foreignKeys).toEqual([])
    })

    it('a foreign key to a table that holds an orphan already is refused when added, and the table is as it was', async () => {
      await run(apply(db,
        pipe(d.createTable(tn('shelves')), d.column('id', 'integer', { primaryKey: true })),
        pipe(d.createTable(tn('books')), d.column('id', 'integer', { primaryKey: true }), d.column('shelf_id', 'integer')),
      ))
      await exec(`INSERT INTO ${tn('books')} (id, shelf_id) VALUES (1, 9)`)
      const e = await left(alter(db, pipe(d.alterTable(tn('books')), d.foreignKey(['shelf_id'], tn('shelves'), ['id'], { name: `${p}books_shelf_fk` }))))
      expect(e._tag).toBe('ForeignKeyViolation')
      expect((await run(introspectTable(db, tn('books')))).foreignKeys).toEqual([])
      expect(await rows(`SELECT id, shelf_id FROM ${tn('books')}`)).toEqual([{ id: 1, shelf_id: 9 }])
    })

    it('renameTable: the rows move with it, hasTable follows, and a foreign key to it follows too', async () => {
      await run(apply(db, ...authorsAndBooks('cascade', 'no action')))
      await exec(`INSERT INTO ${tn('authors')} (id, name) VALUES (1, 'a')`)
      await exec(`INSERT INTO ${tn('books')} (id, author_id) VALUES (10, 1)`)
      await run(alter(db, pipe(d.alterTable(tn('authors')), d.renameTable(tn('moved')))))
      expect([await hasTable('authors'), await hasTable('moved')]).toEqual([false, true])
      expect(await rows(`SELECT id, name FROM ${tn('moved')}`)).toEqual([{ id: 1, name: 'a' }])
      expect((await run(introspectTable(db, tn('books')))).foreignKeys[0].references.table).toBe(tn('moved'))
      await exec(`DELETE FROM ${tn('moved')} WHERE id = 1`)
      expect(await rows(`SELECT id FROM ${tn('books')}`)).toEqual([])
    })

    it('hasTable, createTable ifNotExists (twice is fine), dropTable ifExists (twice is fine), dropTable of no table fails naming it', async () => {
      expect(await hasTable('tags')).toBe(false)
      const tags = pipe(d.createTable(tn('tags'), { ifNotExists: true }), d.column('id', 'integer', { primaryKey: true }))
      await run(apply(db, tags))
      await run(apply(db, tags))
      expect(await hasTable('tags')).toBe(true)
      const again = await left(apply(db, pipe(d.createTable(tn('tags')), d.column('id', 'integer', { primaryKey: true }))))
      expect(again.message).toContain(tn('tags'))
      await run(apply(db, d.dropTable(tn('tags'), { ifExists: true })))
      await run(apply(db, d.dropTable(tn('tags'), { ifExists: true })))
      expect(await hasTable('tags')).toBe(false)
      const gone = await left(apply(db, d.dropTable(tn('tags'))))
      expect(gone.message).toContain(tn('tags'))
    })

    it('introspectTable of a table that is not there is NotFound, naming it', async () => {
      const e = await left(introspectTable(db, tn('nowhere')))
      expect(e._tag).toBe('NotFound')
      expect(e.message).toContain(tn('nowhere'))
    })

    it('a CREATE TABLE that fails part way (its index refused) leaves no table behind', async () => {
      const bad = pipe(
        d.createTable(tn('tags')),
        d.column('id', 'integer', { primaryKey: true }),
        d.column('label', 'varchar(20)'),
        d.index(['label'], { name: `${p}tags_label` }),
        d.index(['missing_column'], { name: `${p}tags_missing` }),
      )
      const e = await left(apply(db, bad))
      expect(e.message).toContain('missing_column')
      // Where DDL is transactional; MariaDB commits the CREATE TABLE before the index is tried.
      if (db.dialect.transactionalDdl) expect(await hasTable('tags')).toBe(false)
    })
  })
}

describe('the same builder on MySQL 8, as SQL text', () => {
  it('every portable type', () => {
    expect(sqlOf(mysql, every)).toEqual([
      'CREATE TABLE `ps2t_kinds` (`id` INT NOT NULL AUTO_INCREMENT PRIMARY KEY, `small` SMALLINT, `big` BIGINT, `real_n` FLOAT, `double_n` DOUBLE, ' +
      '`price` DECIMAL(10,2), `flag` BOOLEAN, `body` LONGTEXT, `title` VARCHAR(40), `code` CHAR(3), `born` DATE, `at_time` TIME(6), ' +
      '`stamp` DATETIME(3), `stamp_tz` TIMESTAMP(3) NULL, `doc` JSON, `ident` CHAR(36), `bytes` LONGBLOB)',
    ])
  })

  it('defaults, foreign key actions, renames, nullability and constraints dropped by kind', () => {
    expect(sqlOf(mysql, pipe(
      d.createTable('t'),
      d.column('id', 'integer', { primaryKey: true }),
      d.column('name', 'varchar(30)', { notNull: true, default: "O'Brien" }),
      d.column('on', 'boolean', { notNull: true, default: true }),
      d.column('a_id', 'integer', { references: { table: 'a', column: 'id', onDelete: 'set null', onUpdate: 'cascade' } }),
    ))).toEqual([
      "CREATE TABLE `t` (`id` INT NOT NULL PRIMARY KEY, `name` VARCHAR(30) NOT NULL DEFAULT 'O''Brien', `on` BOOLEAN NOT NULL DEFAULT TRUE, `a_id` INT, " +
      'FOREIGN KEY (`a_id`) REFERENCES `a` (`id`) ON DELETE SET NULL ON UPDATE CASCADE)',
    ])
    const alterSql = sqlOf(mysql, pipe(
      d.alterTable('t'),
      d.renameColumn('name', 'full_name'),
      d.alterColumn('on', 'boolean'),
      d.dropConstraint('t_a_fk', 'foreignKey'),
      d.dropConstraint('t_u', 'unique'),
      d.renameTable('u'),
    )).join('\n')
    expect(alterSql).toContain('RENAME COLUMN `name` TO `full_name`')
    expect(alterSql).toContain('MODIFY COLUMN `on` BOOLEAN')
    expect(alterSql).toContain('DROP FOREIGN KEY `t_a_fk`')
    expect(alterSql).toContain('DROP INDEX `t_u`')
    expect(alterSql).toMatch(/RENAME (TO|TABLE) `u`|RENAME TABLE `t` TO `u`/)
    expect(sqlOf(mysql, d.dropTable('t', { ifExists: true }))).toEqual(['DROP TABLE IF EXISTS `t`'])
    expect(sqlOf(mysql, d.dropIndex('ix', { table: 't' }))).toEqual(['DROP INDEX `ix` ON `t`'])
  })
})
