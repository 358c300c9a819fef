/**
 * recordkit in one file, on an embedded SQLite database: compose a backend, create two related
 * tables, insert, join, upsert, run a nested transaction whose inner part fails, override one
 * SQL function with `extend`, and log every statement with `wrap`.
 *
 * Run: npm run demo
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as E from 'fp-ts/lib/Either.js'
import { compose, extend, fromParts, run, sql, statementOf, wrap } from 'recordkit'
import {
  as, count, from, groupBy, insertInto, join, onConflict, orderBy, paginate, returning, select, values, where, add, val, col,
} from 'recordkit/query'
import { sqlite } from 'recordkit/dialects/sqlite'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'

const say = (title: string) => console.log(`\n== ${title}`)
const show = (rows: readonly unknown[]) => console.table(rows)

// 1. A backend is a driver plus a dialect.
const plain = compose(betterSqlite3({ filename: ':memory:' }), sqlite)

// 2. wrap: middleware around any backend function. This one logs every statement with its
//    parameters and timing, including BEGIN / SAVEPOINT / COMMIT issued by transactions.
const db = wrap(plain, {
  execute: (next, self) => (q) => async () => {
    const { sql: text, params } = statementOf(self, q)
    const started = performance.now()
    const result = await next(q)()
    const ms = (performance.now() - started).toFixed(2)
    console.log(`   sql> ${text}${params.length ? `   ${JSON.stringify(params)}` : ''}   (${ms} ms${E.isLeft(result) ? `, ${result.left._tag}` : ''})`)
    return result
  },
})

say(`Schema (SQLite ${db.dialect.version})`)
await run(db.execute(sql`CREATE TABLE author (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, country TEXT)`))
await run(db.execute(sql`CREATE TABLE book (id INTEGER PRIMARY KEY, author_id INTEGER NOT NULL REFERENCES author (id), title TEXT NOT NULL, copies INTEGER NOT NULL DEFAULT 0)`))

say('Insert, with RETURNING')
const authors = await run(db.all(pipe(
  insertInto('author'),
  values([{ name: 'Ursula K. Le Guin', country: 'US' }, { name: 'Stanisław Lem', country: 'PL' }, { name: 'Octavia E. Butler', country: 'US' }]),
  returning('id', 'name'),
)))
show(authors)
const id = (name: string) => authors.find((a) => a.name === name)!.id
await run(db.execute(pipe(insertInto('book'), values([
  { author_id: id('Ursula K. Le Guin'), title: 'The Dispossessed', copies: 3 },
  { author_id: id('Ursula K. Le Guin'), title: 'The Left Hand of Darkness', copies: 5 },
  { author_id: id('Stanisław Lem'), title: 'Solaris', copies: 2 },
  { author_id: id('Octavia E. Butler'), title: 'Kindred', copies: 4 },
]))))

say('Query with a join, grouping and ordering')
show(await run(db.all(pipe(
  from('author a'),
  join('book b', ['b.author_id', 'a.id']),
  select('a.name', as(count(), 'books'), as(sql`SUM(${sql.id('b.copies')})`, 'copies')),
  where({ 'a.country': 'US' }),
  groupBy('a.name'),
  orderBy('a.name'),
))))

say('Upsert: insert, or add to the copies already there')
await run(db.execute(sql`CREATE UNIQUE INDEX book_title ON book (title)`))
await run(db.execute(pipe(
  insertInto('book'),
  values({ author_id: id('Stanisław Lem'), title: 'Solaris', copies: 10 }),
  onConflict(['title'], { copies: add(col('book.copies'), val(10)) }),
)))
show(await run(db.all(pipe(from('book'), select('title', 'copies'), where({ title: 'Solaris' })))))

say('Nested transaction: the inner part fails and rolls back to its savepoint; the outer commits')
const outcome = await db.transaction((tx) => async () => {
  await run(tx.execute(pipe(insertInto('book'), values({ author_id: id('Octavia E. Butler'), title: 'Parable of the Sower', copies: 1 }))))
  const inner = await tx.transaction((t2) => async () => {
    await run(t2.execute(pipe(insertInto('book'), values({ author_id: id('Octavia E. Butler'), title: 'Dawn', copies: 1 }))))
    // A duplicate title: UniqueViolation, so this savepoint rolls back (Dawn goes with it).
    return t2.execute(pipe(insertInto('book'), values({ author_id: id('Octavia E. Butler'), title: 'Kindred', copies: 1 })))()
  })()
  console.log(`   inner transaction: ${E.isLeft(inner) ? `failed with ${inner.left._tag}, rolled back` : 'committed'}`)
  return E.right('outer committed')
})()
console.log(`   outer transaction: ${E.isRight(outcome) ? outcome.right : outcome.left._tag}`)
show(await run(db.all(pipe(from('book'), select('title'), where({ author_id: id('Octavia E. Butler') }), orderBy('title')))))

say('extend: override ONE SQL function (limitOffset) and every paginated query follows')
// This dialect writes pages as "LIMIT n OFFSET m /* page */": a stand-in for any engine quirk.
const annotated = extend(db, () => ({
  dialect: extend(db.dialect, (_, base) => ({
    limitOffset: (limit, offset) => fromParts([base.limitOffset(limit, offset), ' /* page */']),
  })),
}))
show(await run(annotated.all(pipe(from('book'), select('title'), orderBy('title'), paginate({ page: 2, perPage: 2 })))))

say('Errors are typed values, not exceptions')
const dup = await db.execute(pipe(insertInto('author'), values({ name: 'Stanisław Lem' })))()
if (E.isLeft(dup)) console.log(`   ${dup.left._tag}: ${dup.left.message.split('\n')[0]}`)

await run(db.close())
console.log('\nDone.')
