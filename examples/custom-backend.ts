/**
 * A backend recordkit does not ship, composed and used: DuckDB through @duckdb/node-api, built
 * as docs/custom-backends.md describes (src/contrib/duckdb).
 *
 * Run: npx tsx examples/custom-backend.ts
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as E from 'fp-ts/lib/Either.js'
import { compose, createBackend, registerBackend, run, sql, supports } from 'recordkit'
import { as, count, from, groupBy, insertInto, orderBy, returning, select, sum, values, where, gt } from 'recordkit/query'
import { duckdb, duckdbBackend, duckdbNodeApi } from '../src/contrib/duckdb/index.js'

// A backend is a driver plus a dialect. DuckDB is embedded: its version is known without I/O.
const db = compose(duckdbNodeApi({ path: ':memory:' }), duckdb)
console.log(`DuckDB ${db.dialect.version}, dialect ${db.dialect.name}`)

// DuckDB has no SERIAL: a generated key comes from a sequence.
await run(db.execute(sql`CREATE SEQUENCE order_ids`))
await run(db.execute(sql`CREATE TABLE orders (
  id INTEGER PRIMARY KEY DEFAULT nextval('order_ids'),
  customer VARCHAR NOT NULL,
  amount DECIMAL(10, 2) NOT NULL,
  placed DATE NOT NULL)`))

// The same builders as on every backend; RETURNING is declared by the dialect, so it runs.
const added = await run(db.all(pipe(
  insertInto('orders'),
  values([
    { customer: 'Ada', amount: '120.50', placed: '2024-01-15' },
    { customer: 'Grace', amount: '80.00', placed: '2024-01-20' },
    { customer: 'Ada', amount: '35.25', placed: '2024-02-03' },
    { customer: 'Linus', amount: '410.00', placed: '2024-02-11' },
  ]),
  returning('id', 'customer'),
)))
console.log('inserted', added)

const totals = await run(db.all(pipe(
  from('orders'),
  select('customer', as(count(), 'orders'), as(sum('amount'), 'total')),
  where(gt('amount', 50)),
  groupBy('customer'),
  orderBy(sum('amount'), 'desc'),
)))
console.log('totals', totals) // the builder's sum() is read back as a number (total: 410); DECIMAL read as it is stays exact text, as below

// DuckDB's own SQL through the sql tag: values are parameters, identifiers quoted by the dialect.
const months = await run(db.all(sql`
  SELECT strftime(date_trunc('month', placed), '%Y-%m') AS month, sum(amount) AS total
  FROM ${sql.id('orders')} WHERE placed >= ${'2024-01-01'} GROUP BY ALL ORDER BY month`))
console.log('by month', months)

// Streaming reads DuckDB's chunks and hands out batches.
const customers: unknown[] = []
for await (const row of db.stream(pipe(from('orders'), select('customer'), orderBy('id')), { batchSize: 2 })) customers.push(row.customer)
console.log('streamed', customers)

// Capabilities are honest: DuckDB has no savepoints, so a nested transaction is refused.
console.log('savepoints?', supports(db.dialect, 'savepoint'))
const nested = await db.transaction((tx) => tx.transaction(() => tx.all(pipe(from('orders'), select('id')))))()
console.log('nested transaction:', E.isLeft(nested) ? `${nested.left._tag}: ${nested.left.message}` : 'ran')

await run(db.close())

// Registered, DuckDB joins the URL factory the built-in backends use.
registerBackend('duckdb', duckdbBackend)
const fromUrl = await run(createBackend('duckdb::memory:'))
console.log(await run(fromUrl.all(sql`SELECT 21 * 2 AS answer`)))
await run(fromUrl.close())
