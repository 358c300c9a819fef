/**
 * Extending the SQLite backend without forking it: one SQL function, a type adapter, the
 * connection set-up, and middleware. docs/extending-backends.md quotes this file.
 *
 * Run: npx tsx examples/extending.ts
 */
import { pipe } from 'fp-ts/lib/function.js'
import { compose, logging, metrics, retry, run, slowQueries, sql, wrap, type StatementEvent } from 'recordkit'
import { from, insertInto, orderBy, paginate, select, values } from 'recordkit/query'
import { betterSqlite3Tuned, Decimal, sqliteBoundLimits, withDecimals } from './extending/overrides.js'

// One SQL function: page sizes bound as parameters.
const db = compose(betterSqlite3Tuned({ filename: ':memory:' }), withDecimals(sqliteBoundLimits))
const page = pipe(from('price'), select('sku', 'amount'), orderBy('sku'), paginate({ page: 2, perPage: 2 }))
console.log(db.compile(page)) // ... LIMIT ? OFFSET ?, parameters [2, 2]

// A type adapter: Decimal values are bound as their exact text.
await run(db.execute(sql`CREATE TABLE price (sku TEXT PRIMARY KEY, amount TEXT NOT NULL)`))
await run(db.execute(pipe(insertInto('price'), values([
  { sku: 'a', amount: new Decimal('19.99') }, { sku: 'b', amount: new Decimal('0.10') },
  { sku: 'c', amount: new Decimal('12345678901234567890.12') }, { sku: 'd', amount: new Decimal('7') },
]))))
console.log(await run(db.all(page)))

// Connection set-up: the pragmas added by the driver extension.
console.log(await run(db.all(sql`PRAGMA cache_size`)), await run(db.all(sql`PRAGMA foreign_keys`)))

// Middleware: log with timings, capture slow statements, retry transient failures, count.
const slow: StatementEvent[] = []
const counters = metrics()
const observed = wrap(
  wrap(wrap(wrap(db, retry({ attempts: 3 })), slowQueries(50, (e) => slow.push(e))), counters.middleware),
  logging((e) => console.log(`${e.ms.toFixed(2).padStart(7)} ms  ${e.sql}${e.error ? `  -> ${e.error}` : ''}`)),
)
await run(observed.transaction((tx) => tx.execute(pipe(insertInto('price'), values({ sku: 'e', amount: new Decimal('1.5') })))))
await observed.execute(pipe(insertInto('price'), values({ sku: 'e', amount: new Decimal('2') })))()
console.log(counters.snapshot(), `${slow.length} slow`)
