/**
 * The query language on reports over the Chinook data, in an embedded SQLite database:
 * joins and derived tables, window functions, CTEs (recursive too), set operations, FILTER,
 * CASE / CAST / date helpers, JSON, EXPLAIN, row locks and capabilities, and overriding one
 * rendering function. docs/query-language.md quotes this file.
 *
 * Run: npx tsx examples/reports.ts
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as E from 'fp-ts/lib/Either.js'
import { compose, extend, fromParts, run, sql, supports } from 'recordkit'
import {
  add, as, cast, caseWhen, col, concat, count, cte, dateTrunc, derived, desc, eq, except, explain, extract, filterWhere,
  forUpdate, from, gt, groupBy, insertInto, isNull, join, jsonText, limit, lt, mul, orderBy, over, rank, rows, select, sum,
  unionAll, val, values, where, withRecursive,
} from 'recordkit/query'
import { sqlite } from 'recordkit/dialects/sqlite'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'
import { loadChinook } from '../src/testing/chinook.js'

const db = compose(betterSqlite3({ filename: ':memory:' }), sqlite)
await run(loadChinook(db))

// --- window ranking over a derived table
const revenue = pipe(
  from('invoice i'),
  join('invoice_line l', ['l.invoice_id', 'i.invoice_id']),
  select('i.customer_id', as(sum(mul('l.unit_price', col('l.quantity'))), 'revenue')),
  groupBy('i.customer_id'),
)
const ranked = pipe(
  from('customer c'),
  join(derived(revenue, 'r'), ['r.customer_id', 'c.customer_id']),
  select('c.country', 'c.last_name', 'r.revenue',
    as(over(rank(), { partitionBy: ['c.country'], orderBy: [desc('r.revenue')] }), 'place')),
)
const topPerCountry = pipe(
  from(derived(ranked, 'x')),
  where(eq('place', 1)),
  orderBy('revenue', 'desc'),
  limit(3),
)
console.log(await run(db.all(topPerCountry)))

// --- recursive CTE: the org chart
const org = cte('org', pipe(
  from('employee'),
  select('employee_id', as(cast(val(0), 'integer'), 'depth'), as(cast('last_name', 'varchar(200)'), 'path')),
  where(isNull('reports_to')),
  unionAll(pipe(
    from('employee e'),
    join('org o', ['e.reports_to', 'o.employee_id']),
    select('e.employee_id', as(add('o.depth', val(1)), 'depth'), as(cast(concat(concat('o.path', val(' > ')), col('e.last_name')), 'varchar(200)'), 'path')),
  )),
))
console.log(await run(db.all(pipe(from('org'), orderBy('path'), withRecursive(org)))))

// --- set operations
const boughtInBrazil = pipe(
  from('genre g'),
  join('track t', ['t.genre_id', 'g.genre_id']),
  join('invoice_line l', ['l.track_id', 't.track_id']),
  join('invoice i', ['i.invoice_id', 'l.invoice_id']),
  select('g.name'),
  where(eq('i.billing_country', 'Brazil')),
)
const neverBought = pipe(from('genre'), select('name'), except(boughtInBrazil), orderBy('name'))
console.log(await run(db.all(neverBought)))

// --- running totals with a window frame
const monthly = pipe(
  from('invoice'),
  select(as(dateTrunc('month', 'invoice_date'), 'month'), as(sum('total'), 'revenue')),
  where(eq(extract('year', 'invoice_date'), 2022)),
  groupBy(dateTrunc('month', 'invoice_date')),
)
const running = pipe(
  from(derived(monthly, 'm')),
  select('month', 'revenue',
    as(over(sum('revenue'), { orderBy: ['month'], frame: rows('unbounded preceding', 'current row') }), 'to_date')),
  orderBy('month'),
)
console.log(await run(db.all(running)))

// --- CASE and FILTER
const lengths = pipe(
  from('track'),
  select('genre_id',
    as(filterWhere(count(), lt('milliseconds', 180_000)), 'short'),
    as(filterWhere(count(), gt('milliseconds', 300_000)), 'long'),
    as(caseWhen([[gt(count(), 500), 'big']], 'small'), 'size')),
  groupBy('genre_id'),
  where(lt('genre_id', 4)),
  orderBy('genre_id'),
)
console.log(await run(db.all(lengths)))

// --- JSON
await run(db.execute(sql`CREATE TABLE events (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)`))
await run(db.execute(pipe(insertInto('events'), values([
  { id: 1, payload: { kind: 'sale', customer: { country: 'Brazil' } } },
  { id: 2, payload: { kind: 'refund', customer: { country: 'Canada' } } },
]))))
const sales = pipe(
  from('events'),
  select('id', as(jsonText('payload', 'customer', 'country'), 'country')),
  where(eq(jsonText('payload', 'kind'), 'sale')),
)
console.log(await run(db.all(sales)))

// --- EXPLAIN
console.log(await run(db.all(explain(pipe(from('track'), where({ album_id: 1 }))))))

// --- capabilities
if (!supports(db.dialect, 'lock')) {
  const locked = db.compile(pipe(from('invoice'), where({ invoice_id: 1 }), forUpdate({ skipLocked: true })))
  console.log(E.isLeft(locked) && locked.left._tag) // 'UnsupportedFeature'
}

// --- override one rendering function
const weekly = extend(sqlite, (self, base) => ({
  dateTrunc: (unit, e) => (unit === 'week' ? fromParts(['date(', self.expr(e), ", 'weekday 0', '-7 days')"]) : base.dateTrunc(unit, e)),
}))
console.log(weekly.compile(pipe(from('invoice'), select(as(dateTrunc('week', 'invoice_date'), 'week')))))

await run(db.close())
