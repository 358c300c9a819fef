import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import { compose, from, insertInto, limit, model, orderBy, run, select, sql, values } from 'recordkit'
import { sqlite } from 'recordkit/dialects/sqlite'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'
import { shard } from 'recordkit/scale-out'

const eu = compose(betterSqlite3({ filename: ':memory:' }), sqlite)
const us = compose(betterSqlite3({ filename: ':memory:' }), sqlite)

// `orders` is sharded by `tenant`; keys are spread by a stable hash unless `route` says otherwise.
const region: Record<string, number> = { acme: 0, globex: 1 }
const db = shard([eu, us], (table) => (table === 'orders' ? 'tenant' : undefined), { route: (tenant) => region[String(tenant)] ?? 0 })

await run(db.execute(sql`CREATE TABLE orders (id INTEGER PRIMARY KEY, tenant TEXT NOT NULL, total INTEGER NOT NULL)`)) // DDL: every shard

const Order = model({ table: 'orders', primaryKey: 'id', codec: t.type({ id: t.number, tenant: t.string, total: t.number }) })
await run(Order.create(db, { id: 1, tenant: 'acme', total: 30 })) // eu
await run(Order.create(db, { id: 2, tenant: 'globex', total: 20 })) // us
await run(db.execute(pipe(insertInto('orders'), values({ id: 3, tenant: 'acme', total: 10 })))) // eu

// With the key: one shard. Without it: every shard, merged, ordered and limited over the whole.
const acme = await run(Order.findBy(db, { tenant: 'acme', id: 3 }))
const top = await run(db.all(pipe(from('orders'), select('id', 'total'), orderBy('total', 'desc'), limit(2))))
console.log(acme, top) // some({ id: 3, ... }), [{ id: 1, total: 30 }, { id: 2, total: 20 }]

// Transactions run on one shard.
await run(db.forKey('globex').transaction((tx) => tx.execute(sql`UPDATE orders SET total = total + 1 WHERE tenant = 'globex'`)))

// What would span shards is refused, before anything runs.
const refused = await db.execute(sql`DELETE FROM orders`)()
if (refused._tag !== 'Left' || refused.left._tag !== 'UnsupportedFeature') throw new Error('expected a refusal')
await run(db.close())
