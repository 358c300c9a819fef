/**
 * Models printed from a database are usable as printed: a NOT NULL column the database fills
 * (a DEFAULT, `now`) is listed in the model's `defaults`, so `create` leaves it to the database
 * as it does the generated key; before, `create` refused input without it (`createdAt: required`).
 * A hasMany relation is named in the plural (`invoiceLines` from a table `invoice_line`), since
 * it loads a list; a plural table name stays as it is.
 */
import { pipe } from 'fp-ts/lib/function.js'
import { describe, expect, it } from 'vitest'
import { compose } from 'recordkit'
import { sqlite } from 'recordkit/dialects/sqlite'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'
import { run } from 'recordkit/promise'
import * as d from 'recordkit/schema'

const users = pipe(
  d.createTable('h4_pm_users'),
  d.column('id', 'integer', { primaryKey: true, autoIncrement: true }),
  d.column('email', 'varchar(200)', { notNull: true, unique: true }),
  d.column('active', 'boolean', { notNull: true, default: true }),
  d.column('nick', 'text', { default: 'anon' }),
  d.column('created_at', 'timestamptz', { notNull: true, default: d.now }),
)

describe('printModels lists the columns the database fills', () => {
  it('prints defaults for NOT NULL columns with a DEFAULT (not the generated key, not nullable ones)', () => {
    const text = d.printModels([users.table], { fields: 'camelCase' })
    expect(text).toContain(`export const H4PmUsers = model({
  table: 'h4_pm_users',
  primaryKey: 'id',
  codec: H4PmUsersRow,
  columns: {
    createdAt: 'created_at',
  },
  defaults: ['active', 'createdAt'],
})`)
  })

  it('prints no defaults where no column has one', () => {
    const plain = pipe(d.createTable('h4_pm_plain'), d.column('id', 'integer', { primaryKey: true }), d.column('name', 'text', { notNull: true })).table
    expect(d.printModels([plain])).not.toContain('defaults')
  })

  it('reads the defaults back from a database', async () => {
    const db = compose(betterSqlite3({ filename: ':memory:' }), sqlite)
    try {
      await run(d.apply(db, users))
      const text = d.printModels(await run(d.introspect(db)))
      expect(text).toContain("  defaults: ['active', 'created_at'],\n")
    } finally {
      await run(db.close())
    }
  })
})

describe('printModels names a hasMany relation in the plural', () => {
  const table = (name: string, refs?: string) => {
    const withId = pipe(d.createTable(name), d.column('id', 'integer', { primaryKey: true }))
    return (refs === undefined ? withId : pipe(withId, d.column(`${refs}_id`, 'integer', { notNull: true, references: `${refs}.id` }))).table
  }

  it('invoice_line, category, box, branch, day; albums and status stay', () => {
    const text = d.printModels([
      table('invoice'), table('invoice_line', 'invoice'), table('category', 'invoice'), table('box', 'invoice'),
      table('branch', 'invoice'), table('albums', 'invoice'), table('status', 'invoice'), table('day', 'invoice'),
    ], { fields: 'camelCase' })
    expect(text).toContain("relations: { invoiceLines: hasMany('InvoiceLine', 'invoiceId'), categories: hasMany('Category', 'invoiceId'), boxes: hasMany('Box', 'invoiceId'), branches: hasMany('Branch', 'invoiceId'), albums: hasMany('Albums', 'invoiceId'), status: hasMany('Status', 'invoiceId'), days: hasMany('Day', 'invoiceId') },")
    // belongsTo stays singular, named after the key.
    expect(text).toContain("relations: { invoice: belongsTo('Invoice', 'invoiceId') },")
  })
})
