/**
 * The CHECK `createTableFor` derives for a union of string literals or a `t.keyof` names its
 * column quoted by the dialect and writes its values as the dialect's literals: a camelCase
 * field (PostgreSQL folds a bare name to lower case) and a field named `order` (a reserved word
 * everywhere) make tables that hold their values and refuse others, and a value with a quote or
 * a backslash is the same value on MariaDB (which reads `\` as an escape). The same check given
 * as `oneOf([...])` to `column`, the check read back by `introspect`, and the SQLite table
 * rebuilt around it keep working too.
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { type Dialect, isDbError, run, sql } from 'recordkit'
import { mariadb, mysql } from 'recordkit/dialects/mysql'
import { postgres } from 'recordkit/dialects/postgres'
import { sqlite } from 'recordkit/dialects/sqlite'
import { alter, apply, createTableFor, introspectTable } from 'recordkit/schema'
import * as d from 'recordkit/schema'
import { ENGINES, engineTables } from './support/engine-tables.js'

const Row = t.type({
  id: t.Int,
  paymentStatus: t.keyof({ open: null, paid: null }),
  order: t.union([t.literal('asc'), t.literal("it's"), t.literal('back\\slash')]),
  note: t.union([t.literal('x'), t.null]),
})

const node = (table: string): d.CreateTableNode => {
  const n = createTableFor(table, Row, { primaryKey: 'id' })
  if (E.isLeft(n)) throw n.left
  return n.right
}

const statements = (dialect: Dialect, n: d.DdlNode): string[] =>
  dialect.ddlStatements(n).map((f) => {
    const c = dialect.compile(f)
    if (E.isLeft(c)) throw c.left
    return c.right.sql
  })

describe('the CHECK of a literal union, as SQL text', () => {
  const checks = (q: (s: string) => string, s: (v: string) => string) =>
    `CHECK (${q('paymentStatus')} IN ('open', 'paid')), CHECK (${q('order')} IN ('asc', 'it''s', ${s('back\\slash')})), CHECK (${q('note')} IN ('x'))`
  it.each([
    ['sqlite', sqlite, (n: string) => `"${n}"`, (v: string) => `'${v}'`],
    ['postgres', postgres, (n: string) => `"${n}"`, (v: string) => `'${v}'`],
    ['mysql', mysql.forVersion('8.0.36'), (n: string) => `\`${n}\``, (v: string) => `'${v.replace(/\\/g, '\\\\')}'`],
    ['mariadb', mariadb.forVersion('10.11.6-MariaDB'), (n: string) => `\`${n}\``, (v: string) => `'${v.replace(/\\/g, '\\\\')}'`],
  ] as const)('%s quotes the column and the values', (_, dialect, q, s) => {
    const [create] = statements(dialect, node('rk_cq'))
    expect(create).toContain(checks(q, s))
  })

  it('oneOf([...]) as a column check is the same check', () => {
    const n = pipe(d.createTable('rk_cq'), d.column('order', 'text', { notNull: true, check: d.oneOf(['asc', 'desc']) }))
    expect(statements(postgres, n)[0]).toBe(`CREATE TABLE "rk_cq" ("order" TEXT NOT NULL, CHECK ("order" IN ('asc', 'desc')))`)
    expect(statements(mysql, n)[0]).toBe("CREATE TABLE `rk_cq` (`order` LONGTEXT NOT NULL, CHECK (`order` IN ('asc', 'desc')))")
    // The constraint follows a rename of its column.
    const renamed = d.applyAlter(n.table, pipe(d.alterTable('rk_cq'), d.renameColumn('order', 'direction')))
    expect(statements(sqlite, d.createTable(renamed))[0]).toBe(`CREATE TABLE "rk_cq" ("direction" TEXT NOT NULL, CHECK ("direction" IN ('asc', 'desc')))`)
  })
})

for (const engine of ENGINES) {
  describe(`a table derived from a codec on ${engine.name}`, () => {
    // A stand-in table: each test makes the real one from the codec.
    const { use } = engineTables(engine, ['rk_cq_orders'], () => ['CREATE TABLE rk_cq_orders (id INTEGER)'])

    it('holds the values of its literal unions, and refuses others as a CheckViolation', async (ctx) => {
      const db = use(ctx)
      await run(db.execute(sql`DROP TABLE IF EXISTS rk_cq_orders`))
      await run(apply(db, node('rk_cq_orders')))
      const insert = (id: number, status: string, order: string, note: string | null) =>
        run(db.execute(sql`INSERT INTO ${sql.id('rk_cq_orders')} (${sql.id('id')}, ${sql.id('paymentStatus')}, ${sql.id('order')}, ${sql.id('note')}) VALUES (${id}, ${status}, ${order}, ${note})`))
      await insert(1, 'open', 'asc', null)
      await insert(2, 'paid', "it's", 'x')
      await insert(3, 'paid', 'back\\slash', null)
      for (const bad of [[4, 'closed', 'asc', null], [5, 'open', 'desc', null], [6, 'open', 'back\\\\slash', null], [7, 'open', 'asc', 'y']] as const) {
        const e = await insert(bad[0], bad[1], bad[2], bad[3]).then(() => undefined, (err: unknown) => err)
        expect(isDbError(e, 'CheckViolation'), `${JSON.stringify(bad)}: ${String(e)}`).toBe(true)
      }
      const rows = await run(db.all(sql`SELECT ${sql.id('order')} AS o FROM ${sql.id('rk_cq_orders')} ORDER BY ${sql.id('id')}`))
      expect(rows.map((r) => (r as { o: string }).o)).toEqual(['asc', "it's", 'back\\slash'])

      // The checks read back make the table again (SQLite rebuilds it to drop a column).
      const table = await run(introspectTable(db, 'rk_cq_orders'))
      expect(table.checks.length).toBe(3)
      await run(alter(db, pipe(d.alterTable('rk_cq_orders'), d.dropColumn('note'))))
      const e = await run(db.execute(sql`INSERT INTO ${sql.id('rk_cq_orders')} (${sql.id('id')}, ${sql.id('paymentStatus')}, ${sql.id('order')}) VALUES (8, 'open', 'up')`)).then(() => undefined, (err: unknown) => err)
      expect(isDbError(e, 'CheckViolation'), String(e)).toBe(true)
      await run(db.execute(sql`INSERT INTO ${sql.id('rk_cq_orders')} (${sql.id('id')}, ${sql.id('paymentStatus')}, ${sql.id('order')}) VALUES (9, 'paid', 'asc')`))
    })

    it('a partial index read back keeps the quotes of a reserved name, and makes the index again', async (ctx) => {
      // MariaDB has no partial indexes.
      if (engine.name === 'mariadb') ctx.skip()
      const db = use(ctx)
      await run(db.execute(sql`DROP TABLE IF EXISTS rk_cq_orders`))
      await run(apply(db, pipe(d.createTable('rk_cq_orders'), d.column('id', 'integer', { primaryKey: true }), d.column('order', 'text'), d.index(['id'], { name: 'rk_cq_open', where: `"order" <> 'done'` }))))
      const table = await run(introspectTable(db, 'rk_cq_orders'))
      expect(table.indexes.find((i) => i.name === 'rk_cq_open')?.where).toContain('"order"')
      await run(db.execute(sql`DROP TABLE rk_cq_orders`))
      await run(apply(db, d.createTable(table)))
      expect((await run(introspectTable(db, 'rk_cq_orders'))).indexes.map((i) => i.name)).toEqual(['rk_cq_open'])
    })

    it('reads a mixed-case json column back as json (MariaDB keeps the quotes of its json_valid check)', async (ctx) => {
      const db = use(ctx)
      await run(db.execute(sql`DROP TABLE IF EXISTS rk_cq_orders`))
      await run(apply(db, pipe(d.createTable('rk_cq_orders'), d.column('id', 'integer', { primaryKey: true }), d.column('metaData', 'json'))))
      const table = await run(introspectTable(db, 'rk_cq_orders'))
      expect(table.columns.find((c) => c.name === 'metaData')?.type).toBe('json')
      expect(table.checks).toEqual([])
    })
  })
}
