/**
 * Uniqueness rules, as Rails' `validates :email, uniqueness: true` (scope, per-field errors,
 * nothing written) and the unique index behind them: a duplicate is a ValidationError naming the
 * field before the write, on create, createMany and update; a writer racing past the check meets
 * the index, a UniqueViolation naming the table and columns. On SQLite, PostgreSQL and MariaDB.
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { type Backend, type DbError, isDbError, sql, wrap } from 'recordkit'
import { date, model, nullable, rule, softDelete, unique, withDeleted } from 'recordkit/model'
import { fails, ok } from 'recordkit/testing'
import { ENGINES, engineTables } from './support/engine-tables.js'

const User = model({
  table: 'h3_uq_users',
  primaryKey: 'id',
  columns: { deletedAt: 'deleted_at' },
  codec: t.type({ id: t.number, email: t.string, nick: nullable(t.string), deletedAt: nullable(date) }),
  behaviours: [softDelete(), unique('email'), unique('nick', { message: 'pick another nick' })],
  validators: [rule('email', 'email', (u) => (u.email ?? '@').includes('@'))],
})
const Page = model({
  table: 'h3_uq_pages',
  primaryKey: 'id',
  codec: t.type({ id: t.number, site: t.number, slug: t.string }),
  behaviours: [unique('slug', { scope: ['site'] })],
})

const ddl = (engine: string): string[] => {
  const stamp = engine === 'postgres' ? 'TIMESTAMP(3)' : engine === 'mariadb' ? 'DATETIME(3)' : 'TEXT'
  return [
    `CREATE TABLE h3_uq_users (id INTEGER PRIMARY KEY, email VARCHAR(40) NOT NULL UNIQUE, nick VARCHAR(40) NULL UNIQUE, deleted_at ${stamp} NULL)`,
    'CREATE TABLE h3_uq_pages (id INTEGER PRIMARY KEY, site INTEGER NOT NULL, slug VARCHAR(40) NOT NULL, UNIQUE (site, slug))',
  ]
}

const issues = (e: DbError) => (isDbError(e, 'ValidationError') ? e.issues.map((i) => `${i.path}: ${i.rule}`) : [e._tag, e.message])
const count = async (db: Backend, table: string) => Number((await ok(db.all<{ n: unknown }>(sql`SELECT COUNT(*) AS n FROM ${sql.id(table)}`)))[0].n)

describe('a uniqueness rule naming a field the row lacks', () => {
  it('does not compile, and throws a TypeError where the model is written', () => {
    expect(() => model({
      table: 'h3_uq_none',
      primaryKey: 'id',
      codec: t.type({ id: t.number }),
      // @ts-expect-error: the row has no email
      behaviours: [unique('email')],
    })).toThrow(/unique\(email\) names "email", which is not in the codec/)
  })
})

for (const engine of ENGINES) {
  describe(`uniqueness rules on ${engine.name}`, () => {
    const { use } = engineTables(engine, ['h3_uq_users', 'h3_uq_pages'], ddl)

    it('create: a taken value is a ValidationError at its field, nothing written', async (ctx) => {
      const db = use(ctx)
      await ok(User.create(db, { id: 1, email: 'ada@x.io', nick: 'ada' }))
      const e = await fails(User.create(db, { id: 2, email: 'ada@x.io', nick: 'ada' }))
      expect(issues(e)).toEqual(['email: unique', 'nick: unique'])
      if (isDbError(e, 'ValidationError')) expect(e.issues.map((i) => i.message)).toEqual(['email is already taken', 'pick another nick'])
      expect(await count(db, 'h3_uq_users')).toBe(1)
      // NULLs are no duplicates, as in the unique index.
      await ok(User.create(db, { id: 2, email: 'bob@x.io' }))
      await ok(User.create(db, { id: 3, email: 'cy@x.io', nick: null }))
      // Other invalid fields are reported first, without reading the table.
      expect(issues(await fails(User.create(db, { id: 4, email: 'nope' })))).toEqual(['email: email'])
    })

    it('a soft-deleted row still holds its value, as the index does', async (ctx) => {
      const db = use(ctx)
      const ada = await ok(User.create(db, { id: 1, email: 'ada@x.io' }))
      await ok(User.delete(db, ada))
      expect(issues(await fails(User.create(db, { id: 2, email: 'ada@x.io' })))).toEqual(['email: unique'])
      expect(await ok(pipe(User.query, withDeleted, User.count(db)))).toBe(1)
    })

    it('the database compares: a case-insensitive collation finds the other case, as its index would', async (ctx) => {
      const db = use(ctx)
      await ok(User.create(db, { id: 1, email: 'ada@x.io' }))
      const r = await User.create(db, { id: 2, email: 'ADA@x.io' })()
      // MariaDB's default collation is case-insensitive; SQLite's and PostgreSQL's are not.
      if (engine.name === 'mariadb') expect(r._tag === 'Left' && issues(r.left)).toEqual(['email: unique'])
      else expect(r._tag).toBe('Right')
    })

    it('createMany: a stored value the collation matches by accent is the row\'s ValidationError, nothing written', async (ctx) => {
      const db = use(ctx)
      await ok(User.create(db, { id: 1, email: 'ada@x.io' }))
      // MariaDB's utf8mb4_general_ci compares 'ádá' equal to 'ada'; the others do not.
      const r = await User.createMany(db, [{ id: 2, email: 'bob@x.io' }, { id: 3, email: 'ádá@x.io' }])()
      if (engine.name === 'mariadb') {
        expect(r._tag === 'Left' && issues(r.left)).toEqual(['rows.1.email: unique'])
        expect(await count(db, 'h3_uq_users')).toBe(1)
      } else {
        expect(r._tag).toBe('Right')
      }
    })

    it('scope: the same slug on another site is fine, on the same site it is taken', async (ctx) => {
      const db = use(ctx)
      await ok(Page.create(db, { id: 1, site: 1, slug: 'home' }))
      await ok(Page.create(db, { id: 2, site: 2, slug: 'home' }))
      const e = await fails(Page.create(db, { id: 3, site: 1, slug: 'home' }))
      expect(issues(e)).toEqual(['slug: unique'])
      if (isDbError(e, 'ValidationError')) expect(e.issues[0].message).toBe('slug is already taken for this site')
    })

    it('update: a value another row holds is refused; the row keeps its own value', async (ctx) => {
      const db = use(ctx)
      const [ada, bob] = await ok(User.createMany(db, [{ id: 1, email: 'ada@x.io' }, { id: 2, email: 'bob@x.io' }]))
      expect(issues(await fails(User.update(db, bob, { email: 'ada@x.io' })))).toEqual(['email: unique'])
      expect(await ok(User.update(db, ada, { email: 'ada@x.io', nick: 'a' }))).toMatchObject({ email: 'ada@x.io', nick: 'a' })
      // Moving a page to a site where its slug is taken is refused too (a scope field changed).
      const [p1, p2] = await ok(Page.createMany(db, [{ id: 1, site: 1, slug: 'home' }, { id: 2, site: 2, slug: 'home' }]))
      expect(issues(await fails(Page.update(db, p2, { site: 1 })))).toEqual(['slug: unique'])
      expect((await ok(Page.update(db, p1, { slug: 'start' }))).slug).toBe('start')
      expect(await ok(pipe(Page.query, Page.orderBy('id'), Page.pluck(db, 'site')))).toEqual([1, 2])
    })

    it('createMany: a stored value and a value repeated in the batch, each at its row, nothing written', async (ctx) => {
      const db = use(ctx)
      await ok(User.create(db, { id: 1, email: 'ada@x.io' }))
      const e = await fails(User.createMany(db, [
        { id: 2, email: 'bob@x.io' },
        { id: 3, email: 'ada@x.io' },
        { id: 4, email: 'cy@x.io', nick: 'c' },
        { id: 5, email: 'bob@x.io', nick: 'c' },
      ]))
      expect(issues(e)).toEqual(['rows.1.email: unique', 'rows.3.email: unique', 'rows.3.nick: unique'])
      expect(await count(db, 'h3_uq_users')).toBe(1)
      expect(await ok(User.createMany(db, [{ id: 2, email: 'bob@x.io' }, { id: 3, email: 'cy@x.io' }], { returning: false }))).toBe(2)
    })

    it('a writer racing past the check meets the unique index: a UniqueViolation naming table and columns', async (ctx) => {
      const base = use(ctx)
      let armed = false
      // Another writer inserts the same email right after the model's check read the table.
      const db = wrap(base, {
        execute: (next) => (q) => {
          const task = next(q)
          return async () => {
            const r = await task()
            if (armed) {
              armed = false
              await ok(next(sql`INSERT INTO h3_uq_users (id, email) VALUES (99, 'ada@x.io')`))
            }
            return r
          }
        },
      })
      armed = true
      const e = await fails(User.create(db, { id: 1, email: 'ada@x.io' }))
      expect(isDbError(e, 'UniqueViolation') && [e.table, e.columns, e.fields]).toEqual(['h3_uq_users', ['email'], ['email']])
      expect(e.message).toMatch(/\(fields: email\)$/)
      expect(await ok(pipe(User.query, User.pluck(base, 'id')))).toEqual([99])
      // A field named apart from its column is named as the model names it.
      const Named = model({ table: 'h3_uq_users', primaryKey: 'id', columns: { address: 'email' }, codec: t.type({ id: t.number, address: t.string }) })
      const dup = await fails(Named.create(base, { id: 2, address: 'ada@x.io' }))
      expect(isDbError(dup, 'UniqueViolation') && [dup.columns, dup.fields, dup.message.endsWith('(fields: address)')]).toEqual([['email'], ['address'], true])
    })
  })
}
