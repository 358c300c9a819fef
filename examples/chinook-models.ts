/**
 * Models over the Chinook sample database (artists, albums, tracks, customers, invoices,
 * invoice lines, playlists, employees), on an embedded SQLite database: typed queries,
 * aggregates, pagination, eager loading with one query per level, a self-reference,
 * many-to-many through playlist_track, lazy loading, and writes in a transaction.
 *
 * Run: npx tsx examples/chinook-models.ts
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import { compose, type DbError, dbError, run, wrap } from 'recordkit'
import { belongsTo, date, decimal, hasMany, manyToMany, model, nullable, relate, snakeCase } from 'recordkit/model'
import { sqlite } from 'recordkit/dialects/sqlite'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'
import { loadChinook } from '../src/testing/chinook.js'

const say = (title: string) => console.log(`\n== ${title}`)
const text = nullable(t.string)
const id = t.number

// -- models
const Artist = model({
  table: 'artist',
  primaryKey: 'artistId',
  naming: snakeCase,
  codec: t.type({ artistId: id, name: text }),
  relations: { albums: hasMany('Album', 'artistId') },
})

const Album = model({
  table: 'album',
  primaryKey: 'albumId',
  naming: snakeCase,
  codec: t.type({ albumId: id, title: t.string, artistId: id }),
  relations: { artist: belongsTo('Artist', 'artistId'), tracks: hasMany('Track', 'albumId') },
})

const Genre = model({ table: 'genre', primaryKey: 'genreId', naming: snakeCase, codec: t.type({ genreId: id, name: text }) })

const Track = model({
  table: 'track',
  primaryKey: 'trackId',
  naming: snakeCase,
  codec: t.type({
    trackId: id, name: t.string, albumId: nullable(id), mediaTypeId: id, genreId: nullable(id), composer: text,
    milliseconds: t.number, bytes: nullable(t.number), unitPrice: decimal,
  }),
  relations: {
    album: belongsTo('Album', 'albumId'),
    genre: belongsTo('Genre', 'genreId'),
    playlists: manyToMany('Playlist', { through: 'playlist_track', from: 'track_id', to: 'playlist_id' }),
  },
})

const Playlist = model({
  table: 'playlist',
  primaryKey: 'playlistId',
  naming: snakeCase,
  codec: t.type({ playlistId: id, name: text }),
  relations: { tracks: manyToMany('Track', { through: 'playlist_track', from: 'playlist_id', to: 'track_id' }) },
})

const Employee = model({
  table: 'employee',
  primaryKey: 'employeeId',
  naming: snakeCase,
  codec: t.type({
    employeeId: id, lastName: t.string, firstName: t.string, title: text, reportsTo: nullable(id),
    birthDate: nullable(date), hireDate: nullable(date), city: text, country: text, email: text,
  }),
  relations: {
    manager: belongsTo('Employee', 'reportsTo'),
    reports: hasMany('Employee', 'reportsTo'),
    customers: hasMany('Customer', 'supportRepId'),
  },
})

const Customer = model({
  table: 'customer',
  primaryKey: 'customerId',
  naming: snakeCase,
  codec: t.type({
    customerId: id, firstName: t.string, lastName: t.string, company: text, city: text, state: text, country: text,
    email: t.string, supportRepId: nullable(id),
  }),
  relations: { supportRep: belongsTo('Employee', 'supportRepId'), invoices: hasMany('Invoice', 'customerId') },
  scopes: (q) => ({ from: (country: string) => q.where('country', '=', country), byName: q.compose(q.orderBy('lastName'), q.orderBy('firstName')) }),
})

const Invoice = model({
  table: 'invoice',
  primaryKey: 'invoiceId',
  naming: snakeCase,
  codec: t.type({ invoiceId: id, customerId: id, invoiceDate: date, billingCity: text, billingCountry: text, total: decimal }),
  relations: { customer: belongsTo('Customer', 'customerId'), lines: hasMany('InvoiceLine', 'invoiceId') },
})

const InvoiceLine = model({
  table: 'invoice_line',
  primaryKey: 'invoiceLineId',
  naming: snakeCase,
  codec: t.type({ invoiceLineId: id, invoiceId: id, trackId: id, unitPrice: decimal, quantity: t.number }),
  relations: { invoice: belongsTo('Invoice', 'invoiceId'), track: belongsTo('Track', 'trackId') },
})

export const Chinook = relate({ Artist, Album, Genre, Track, Playlist, Employee, Customer, Invoice, InvoiceLine })
// -- end models

// Count the statements each step runs.
const plain = compose(betterSqlite3({ filename: ':memory:' }), sqlite)
let statements = 0
const db = wrap(plain, {
  execute: (next) => (q) => {
    const task = next(q)
    return () => { statements++; return task() }
  },
})
await run(loadChinook(db))
const counted = async <A>(task: TE.TaskEither<DbError, A>): Promise<{ value: A; queries: number }> => {
  const before = statements
  const value = await run(task)
  return { value, queries: statements - before }
}

say('find and typed queries')
// -- queries
const acdc = await run(Chinook.Artist.findOrFail(db, 1)) // { artistId: 1, name: 'AC/DC' }
const brazil = await run(pipe(
  Chinook.Customer.query,
  Chinook.Customer.scopes.from('Brazil'),
  Chinook.Customer.scopes.byName,
  Chinook.Customer.select('firstName', 'lastName', 'city'),
  Chinook.Customer.all(db),
))
const revenue = await run(pipe(Chinook.Invoice.query, Chinook.Invoice.sum(db, 'total'))) // a decimal string
const longest = await run(pipe(Chinook.Track.query, Chinook.Track.max(db, 'milliseconds')))
const page = await run(pipe(Chinook.Track.query, Chinook.Track.where('composer', 'like', '%Jagger%'), Chinook.Track.orderBy('name'), Chinook.Track.paginate(db, { page: 2, perPage: 5 })))
// -- end queries
console.log(acdc)
console.table(brazil)
console.log(`revenue ${revenue}, longest track ${longest} ms, page ${page.page} of ${page.pages} (${page.total} tracks):`, page.rows.map((r) => r.name))

say('eager loading: one query per relation level')
// -- eager
const { value: customers, queries } = await counted(pipe(
  Chinook.Customer.query,
  Chinook.Customer.where('country', '=', 'Canada'),
  Chinook.Customer.include('invoices.lines.track.album.artist'),
  Chinook.Customer.include('supportRep'),
  Chinook.Customer.all(db),
))
// customers, invoices, lines, tracks, albums, artists, support reps: 7 queries, for any number of rows
const firstLine = customers[0].invoices[0].lines[0]
console.log(`${customers.length} customers, ${queries} queries; first line: ${firstLine.track?.name} by ${firstLine.track?.album?.artist?.name}`)
// -- end eager
console.log(customers.map((c) => `${c.firstName} ${c.lastName}: ${c.invoices.length} invoices, rep ${c.supportRep?.firstName}`))

say('modifiers, many-to-many and a self-reference')
// -- modifiers
const playlists = await run(pipe(
  Chinook.Playlist.query,
  Chinook.Playlist.where('name', 'in', ['Grunge', 'Classical 101 - The Basics']),
  Chinook.Playlist.include('tracks', (q, T) => pipe(q, T.orderBy('milliseconds', 'desc'), T.limit(2))), // 2 per playlist
  Chinook.Playlist.all(db),
))
const staff = await run(pipe(Chinook.Employee.query, Chinook.Employee.include('manager'), Chinook.Employee.include('reports'), Chinook.Employee.all(db)))
// -- end modifiers
for (const p of playlists) console.log(`${p.name}: ${p.tracks.map((t) => t.name).join(' | ')}`)
for (const e of staff) console.log(`${e.firstName} ${e.lastName} (${e.title}) reports to ${e.manager?.firstName ?? 'nobody'}; ${e.reports.length} reports`)

say('lazy loading')
// -- lazy
const album = await run(Chinook.Album.findOrFail(db, 1))
const withTracks = await run(Chinook.Album.load(db, album, 'tracks.genre'))
// -- end lazy
console.log(`${withTracks.title}: ${withTracks.tracks.map((t) => `${t.name} [${t.genre?.name}]`).join(', ')}`)

say('every invoice, 100 at a time')
// -- batches
let invoices = 0
let lines = 0
for await (const batch of pipe(Chinook.Invoice.query, Chinook.Invoice.include('lines'), Chinook.Invoice.batches(db, { size: 100 }))) {
  invoices += batch.length
  for (const invoice of batch) lines += invoice.lines.length
}
// -- end batches
console.log(`${invoices} invoices with ${lines} lines`) // 412 invoices with 2240 lines

say('writes in a transaction')
// -- writes
const nextId = ((await run(pipe(Chinook.Artist.query, Chinook.Artist.max(db, 'artistId')))) ?? 0) + 1
const saved = await run(db.transaction(() => pipe(
  Chinook.Artist.create(db, { artistId: nextId, name: 'Nina Simone' }),
  TE.chain((artist) => Chinook.Album.create(db, { albumId: 10_000, title: 'Pastel Blues', artistId: artist.artistId })),
)))
const rolledBack = await db.transaction(() => pipe(
  Chinook.Artist.create(db, { artistId: nextId + 1, name: 'Nobody' }),
  TE.chainW(() => TE.left(dbError('TransactionError', 'changed my mind'))),
))()
const kept = await run(pipe(Chinook.Artist.query, Chinook.Artist.where('artistId', '>=', nextId), Chinook.Artist.pluck(db, 'name'))) // ['Nina Simone']
// -- end writes
console.log(saved, rolledBack._tag, kept)
await run(db.close())
