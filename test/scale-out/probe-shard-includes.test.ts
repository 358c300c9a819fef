/**
 * Eager loading over a sharded backend: each shard numbers its own rows, so the same order id
 * exists on two shards, and related rows read by the parents' keys alone came from every shard
 * and were joined to another tenant's parents. Related rows are now read per shard key of the
 * parents (`lines.tenant = 'acme'`), at every level, for hasMany, belongsTo and limited includes,
 * whether the parents came from one shard or from all of them. Two SQLite databases as shards.
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { compose, run, sql } from 'recordkit'
import { sqlite } from 'recordkit/dialects/sqlite'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'
import { belongsTo, hasMany, model, relate, snakeCase } from 'recordkit/model'
import { shard } from 'recordkit/scale-out'

const { Order, Line } = relate({
  Order: model({ table: 'orders', primaryKey: 'id', naming: snakeCase, codec: t.type({ id: t.number, tenant: t.string }), relations: { lines: hasMany('Line', 'orderId') } }),
  Line: model({
    table: 'lines', primaryKey: 'id', naming: snakeCase,
    codec: t.type({ id: t.number, tenant: t.string, orderId: t.number, sku: t.string }),
    relations: { order: belongsTo('Order', 'orderId'), notes: hasMany('Note', 'lineId') },
  }),
  Note: model({ table: 'notes', primaryKey: 'id', naming: snakeCase, codec: t.type({ id: t.number, tenant: t.string, lineId: t.number, body: t.string }) }),
})

const sharded = async () => {
  const parts = [0, 1].map(() => compose(betterSqlite3({ filename: ':memory:' }), sqlite))
  const db = shard(parts, (table) => (['orders', 'lines', 'notes'].includes(table) ? 'tenant' : undefined), { route: (k) => (k === 'acme' ? 0 : 1) })
  for (const s of db.shards) {
    await run(s.execute(sql`CREATE TABLE orders (id INTEGER PRIMARY KEY, tenant TEXT NOT NULL)`))
    await run(s.execute(sql`CREATE TABLE lines (id INTEGER PRIMARY KEY, tenant TEXT NOT NULL, order_id INTEGER NOT NULL, sku TEXT NOT NULL)`))
    await run(s.execute(sql`CREATE TABLE notes (id INTEGER PRIMARY KEY, tenant TEXT NOT NULL, line_id INTEGER NOT NULL, body TEXT NOT NULL)`))
  }
  // Each shard numbers its own rows from 1: order 1, lines 1 and 2, a note on line 1, on both.
  for (const tenant of ['acme', 'globex']) {
    await run(db.execute(sql`INSERT INTO orders (id, tenant) VALUES (${1}, ${tenant})`))
    await run(db.execute(sql`INSERT INTO lines (id, tenant, order_id, sku) VALUES (${1}, ${tenant}, ${1}, ${`${tenant}-a`}), (${2}, ${tenant}, ${1}, ${`${tenant}-b`})`))
    await run(db.execute(sql`INSERT INTO notes (id, tenant, line_id, body) VALUES (${1}, ${tenant}, ${1}, ${`${tenant} note`})`))
  }
  return db
}

const skus = (order: { lines: readonly { sku: string }[] }) => order.lines.map((l) => l.sku)

describe('includes over a sharded backend', () => {
  it('load each tenant\'s related rows only, from one shard or from all', async () => {
    const db = await sharded()
    const acme = await run(pipe(Order.query, Order.where({ tenant: 'acme' }), Order.include('lines.notes'), Order.all(db)))
    expect(acme).toHaveLength(1)
    expect(skus(acme[0])).toEqual(['acme-a', 'acme-b'])
    expect(acme[0].lines[0].notes.map((n) => n.body)).toEqual(['acme note'])
    expect(acme[0].lines[1].notes).toEqual([])
    // Parents from every shard: each gets its own tenant's lines.
    const all = await run(pipe(Order.query, Order.orderBy('tenant'), Order.include('lines.notes'), Order.all(db)))
    expect(all.map((o) => [o.tenant, skus(o), o.lines.flatMap((l) => l.notes.map((n) => n.body))])).toEqual([
      ['acme', ['acme-a', 'acme-b'], ['acme note']],
      ['globex', ['globex-a', 'globex-b'], ['globex note']],
    ])
    await run(db.close())
  })

  it('belongsTo keeps to the parent\'s shard too; a limited include runs per shard', async () => {
    const db = await sharded()
    const lines = await run(pipe(Line.query, Line.orderBy('tenant'), Line.orderBy('id'), Line.include('order'), Line.all(db)))
    expect(lines.map((l) => [l.sku, l.order.tenant])).toEqual([['acme-a', 'acme'], ['acme-b', 'acme'], ['globex-a', 'globex'], ['globex-b', 'globex']])
    // A limited include is SQL text with ORDER BY: refused over several shards, run per shard.
    const limited = (d: typeof db | ReturnType<typeof db.forKey>) => pipe(Order.query, Order.orderBy('tenant'), Order.include('lines', (q) => pipe(q, Line.orderBy('id'), Line.limit(1))), Order.all(d))
    const refused = await limited(db)()
    expect(refused._tag === 'Left' && refused.left._tag).toBe('UnsupportedFeature')
    expect((await run(limited(db.forKey('globex')))).map(skus)).toEqual([['globex-a']])
    await run(db.close())
  })
})
