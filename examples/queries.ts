/**
 * The query core, transactions, errors, prepared queries and streaming, on the Chinook data
 * in an embedded SQLite database. docs/queries.md quotes this file.
 *
 * Run: npx tsx examples/queries.ts
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { afterCommit, compose, dbError, isDbError, promised, run, sql } from 'recordkit'
import {
  and, as, avg, between, col, count, deleteFrom, eq, from, groupBy, gt, having, ilike, insertInto, isIn, isNull, join,
  leftJoin, limit, onConflict, orderBy, paginate, param, returning, select, set, sum, update, val, values, where, excluded,
  add,
} from 'recordkit/query'
import { sqlite } from 'recordkit/dialects/sqlite'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'
import { loadChinook } from '../src/testing/chinook.js'

const db = compose(betterSqlite3({ filename: ':memory:' }), sqlite)
await run(loadChinook(db))

// --- select
const rockTracks = pipe(
  from('track t'),
  join('genre g', ['g.genre_id', 't.genre_id']),
  select('t.name', 'g.name as genre', 't.milliseconds'),
  where(and(eq('g.name', 'Rock'), gt('t.milliseconds', 600_000))),
  orderBy('t.milliseconds', 'desc'),
  limit(3),
)
console.log(await run(db.all(rockTracks)))

// --- conditions
const customers = pipe(
  from('customer'),
  select('first_name', 'last_name', 'country'),
  where({ country: ['Brazil', 'Portugal'], fax: null }), // IN (...) AND fax IS NULL
  where(ilike('email', '%@gmail.com')),
  orderBy('last_name'),
)
console.log(await run(db.all(customers)))

// --- aggregates
const revenueByCountry = pipe(
  from('invoice'),
  select('billing_country', as(count(), 'invoices'), as(sum('total'), 'revenue'), as(avg('total'), 'average')),
  groupBy('billing_country'),
  having(gt(count(), 20)),
  orderBy(sum('total'), 'desc'),
)
console.log(await run(db.all(revenueByCountry)))

// --- left join, IS NULL: artists without albums
const silentArtists = pipe(
  from('artist ar'),
  leftJoin('album al', ['al.artist_id', 'ar.artist_id']),
  select(as(count(), 'artists')),
  where(isNull('al.album_id')),
)
console.log(await run(db.all(silentArtists)))

// --- pages
const page3 = pipe(from('album'), select('title'), orderBy('title'), paginate({ page: 3, perPage: 5 }))
console.log(db.compile(page3))

// --- raw SQL
const longest = await run(db.all(sql`
  SELECT ${sql.id('name')}, milliseconds / 60000 AS minutes
  FROM ${sql.id('track')}
  WHERE milliseconds BETWEEN ${5 * 60_000} AND ${6 * 60_000}
  ORDER BY milliseconds DESC LIMIT ${2}`))
console.log(longest)

// --- writes
await run(db.execute(sql`CREATE TABLE rating (track_id INTEGER PRIMARY KEY, stars INTEGER NOT NULL, votes INTEGER NOT NULL)`))
const rate = (trackId: number, stars: number) => pipe(
  insertInto('rating'),
  values({ track_id: trackId, stars, votes: 1 }),
  onConflict(['track_id'], { stars: excluded('stars'), votes: add(col('rating.votes'), val(1)) }),
  returning('track_id', 'stars', 'votes'),
)
await run(db.all(rate(1, 4)))
console.log(await run(db.all(rate(1, 5)))) // [{ track_id: 1, stars: 5, votes: 2 }]
await run(db.execute(pipe(update('rating'), set({ stars: 3 }), where(between('track_id', 1, 10)))))
await run(db.execute(pipe(deleteFrom('rating'), where(isIn('track_id', [1, 2, 3])))))

// --- transactions
const moveTracks = (fromAlbum: number, toAlbum: number) =>
  db.transaction((tx) => pipe(
    tx.execute(pipe(update('track'), set({ album_id: toAlbum }), where({ album_id: fromAlbum }))),
    TE.chain((moved) => tx.transaction((inner) => pipe(
      inner.execute(pipe(deleteFrom('album'), where({ album_id: fromAlbum }))),
      TE.map(() => moved.rowsAffected),
    ))),
  ))
const moved = await moveTracks(2, 3)()
console.log(E.isRight(moved) ? `moved ${moved.right} tracks` : moved.left._tag)

// --- after commit: the e-mail goes out once the receipt is stored, never after a rollback
await run(db.execute(sql`CREATE TABLE receipt (id INTEGER PRIMARY KEY, total INTEGER NOT NULL)`))
const mailed: string[] = []
const bill = (id: number, total: number) =>
  db.transaction((tx) => pipe(
    tx.execute(sql`INSERT INTO receipt (id, total) VALUES (${id}, ${total})`),
    TE.chain(() => afterCommit(tx, async () => { mailed.push(`receipt ${id}`) })),
    TE.chain(() => (total < 0 ? TE.left(dbError('ConflictError', 'a negative total')) : TE.right(id))),
  ))
await run(bill(1, 30))
const refusedBill = await bill(2, -5)()
console.log(mailed, E.isLeft(refusedBill)) // ['receipt 1'] true

// --- errors
const clash = await db.execute(pipe(insertInto('genre'), values({ genre_id: 1, name: 'Rock again' })))()
if (E.isLeft(clash) && isDbError(clash.left, 'UniqueViolation')) {
  console.log(`${clash.left._tag}: ${clash.left.sql}`, clash.left.params)
}

// --- prepared
const trackById = db.prepare(pipe(from('track'), select('name'), where(eq('track_id', param('id')))))
console.log(await run(trackById.first({ id: 1 })), await run(trackById.first({ id: 2 })))

// --- streaming
let minutes = 0
for await (const row of db.stream(pipe(from('track'), select('milliseconds')), { batchSize: 500 })) {
  minutes += Number(row.milliseconds) / 60_000
}
console.log(`${Math.round(minutes)} minutes of music`)

// --- promises
const p = promised(db)
const genres = await p.all(pipe(from('genre'), select('name'), orderBy('name'), limit(3)))
console.log(genres)

await run(db.close())
