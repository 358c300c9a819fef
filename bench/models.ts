/**
 * Models against the raw driver, on SQLite in memory, in the same process and database.
 *
 *   npx tsx bench/models.ts
 *
 * - `Customer.find(db, id)` vs a raw better-sqlite3 prepared `.get(id)`
 * - a 1000-row `pipe(Customer.query, Customer.where('country', '=', c), Customer.all(db))`,
 *   rows decoded through the codec, vs a raw prepared `.all(c)`
 *
 * The raw side uses better-sqlite3's defaults (integers as numbers); recordkit's driver reads
 * integers safely (BigInt beyond 2^53, see src/drivers/better-sqlite3.ts), which it pays for.
 * Rounds are interleaved and shuffled (bench/lib.ts); the median per-round ratio is reported.
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import { compose } from '../src/index.js'
import { sqlite } from '../src/dialects/sqlite.js'
import { betterSqlite3 } from '../src/drivers/better-sqlite3.js'
import { bool, model, nullable, snakeCase } from '../src/model/index.js'
import { compare, report } from './lib.js'

const ROUNDS = Number(process.env.ROUNDS ?? 9)
const ROWS = 20_000

const driver = betterSqlite3({ filename: ':memory:' })
const db = compose(driver, sqlite)
const raw = driver.database()

raw.exec(`CREATE TABLE bench_customer (
  customer_id INTEGER PRIMARY KEY, first_name TEXT NOT NULL, last_name TEXT NOT NULL,
  email TEXT NOT NULL, country TEXT NOT NULL, city TEXT, support_rep_id INTEGER, active BOOLEAN NOT NULL)`)
raw.exec('CREATE INDEX bench_customer_country ON bench_customer (country)')
const insert = raw.prepare('INSERT INTO bench_customer VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
raw.transaction(() => {
  for (let i = 1; i <= ROWS; i++) insert.run(i, `First${i}`, `Last${i}`, `user${i}@example.com`, `Country${i % 20}`, i % 3 === 0 ? null : `City${i % 100}`, i % 7, i % 2)
})()

const Customer = model({
  table: 'bench_customer',
  primaryKey: 'customerId',
  naming: snakeCase,
  codec: t.type({
    customerId: t.number,
    firstName: t.string,
    lastName: t.string,
    email: t.string,
    country: t.string,
    city: nullable(t.string),
    supportRepId: nullable(t.number),
    active: bool,
  }),
})

const rawGet = raw.prepare('SELECT * FROM bench_customer WHERE customer_id = ?').safeIntegers(false)
const rawAll = raw.prepare('SELECT * FROM bench_customer WHERE country = ?').safeIntegers(false)

type Result = { readonly _tag: 'Left'; readonly left: unknown } | { readonly _tag: 'Right'; readonly right: unknown }
const must = (r: Result): void => {
  if (r._tag === 'Left') throw r.left
}

// Both sides read the same rows.
const check = await pipe(Customer.query, Customer.where('country', '=', 'Country3'), Customer.all(db))()
must(check)
if (check._tag === 'Right' && (check.right.length !== ROWS / 20 || (rawAll.all('Country3') as unknown[]).length !== ROWS / 20)) throw new Error('row counts differ')

console.log(`SQLite ${driver.knownVersion()}, ${ROWS} rows, ${ROUNDS} interleaved rounds`)
let k = 0
const find = await compare({
  'raw better-sqlite3 .get()': (n) => { for (let i = 0; i < n; i++) rawGet.get((k++ % ROWS) + 1) },
  'Customer.find(db, id)': async (n) => { for (let i = 0; i < n; i++) must(await Customer.find(db, (k++ % ROWS) + 1)()) },
}, { ops: 20_000, rounds: ROUNDS })
report('find by primary key', find)

const read = await compare({
  'raw better-sqlite3 .all()': (n) => { for (let i = 0; i < n; i++) rawAll.all(`Country${k++ % 20}`) },
  'Customer query().where().all()': async (n) => {
    for (let i = 0; i < n; i++) must(await pipe(Customer.query, Customer.where('country', '=', `Country${k++ % 20}`), Customer.all(db))())
  },
}, { ops: 200, rounds: ROUNDS })
report('1000-row read with decoding', read)

const [f, r] = [find[1].ratio, read[1].ratio]
console.log(`\ntargets: find <= 1.5x: ${f.toFixed(2)}x ${f <= 1.5 ? 'met' : 'MISSED'}; 1000-row read <= 1.3x: ${r.toFixed(2)}x ${r <= 1.3 ? 'met' : 'MISSED'}`)
await db.close()()
