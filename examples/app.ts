/**
 * The application side of recordkit, on an embedded SQLite database: a migration creates the
 * schema, io-ts models with relations read and write it, and queries load related rows one
 * query per level. `npm run demo:app` runs it.
 *
 * Run: npx tsx examples/app.ts
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import { createBackend, run, type Backend } from 'recordkit'
import { belongsTo, date, hasMany, integer, model, nullable, relate, snakeCase, timestamps } from 'recordkit/model'
import { apply, column, createTable, dropTable, migrateUp, migrationStatus, now, type Migration } from 'recordkit/schema'

const say = (title: string) => console.log(`\n== ${title}`)

// -- the schema, as migrations (in an application, files in ./migrations: see docs/schema.md)
const migrations: readonly Migration[] = [
  {
    name: '20240101000000_create_authors',
    up: (db: Backend) => apply(db, pipe(
      createTable('authors'),
      column('id', 'integer', { primaryKey: true, autoIncrement: true }),
      column('name', 'varchar(120)', { notNull: true, unique: true }),
      column('created_at', 'timestamptz', { notNull: true, default: now }),
      column('updated_at', 'timestamptz', { notNull: true, default: now }),
    )),
    down: (db: Backend) => apply(db, dropTable('authors')),
  },
  {
    name: '20240102000000_create_books',
    up: (db: Backend) => apply(db, pipe(
      createTable('books'),
      column('id', 'integer', { primaryKey: true, autoIncrement: true }),
      column('author_id', 'integer', { notNull: true, references: { table: 'authors', column: 'id', onDelete: 'cascade' } }),
      column('title', 'text', { notNull: true }),
      column('year', 'integer'),
    )),
    down: (db: Backend) => apply(db, dropTable('books')),
  },
]

// -- the models: the io-ts codec is the row type; relations name each other through relate()
const Author = model({
  table: 'authors',
  primaryKey: 'id',
  naming: snakeCase,
  codec: t.type({ id: integer, name: t.string, createdAt: date, updatedAt: date }),
  behaviours: [timestamps()],
  relations: { books: hasMany('Book', 'authorId') },
})

const Book = model({
  table: 'books',
  primaryKey: 'id',
  naming: snakeCase,
  codec: t.type({ id: integer, authorId: integer, title: t.string, year: nullable(integer) }),
  relations: { author: belongsTo('Author', 'authorId') },
  scopes: (q) => ({ before: (year: number) => q.where('year', '<', year) }),
})

const Library = relate({ Author, Book })

const db = await run(createBackend('sqlite::memory:'))

say('migrate')
const applied = await run(migrateUp(db, migrations))
console.log('applied', applied.migrations)
for (const m of await run(migrationStatus(db, migrations))) console.log(m.state.padEnd(8), m.name)

say('create, in one transaction')
const [ursula, terry] = await run(db.transaction(() => pipe(
  Library.Author.createMany(db, [{ name: 'Ursula K. Le Guin' }, { name: 'Terry Pratchett' }]),
  TE.chainFirst(([u, p]) => Library.Book.createMany(db, [
    { authorId: u.id, title: 'A Wizard of Earthsea', year: 1968 },
    { authorId: u.id, title: 'The Dispossessed', year: 1974 },
    { authorId: p.id, title: 'Small Gods', year: 1992 },
  ])),
)))
console.log(ursula, terry)

say('query, with relations loaded one query per level')
const authors = await run(pipe(Library.Author.query, Library.Author.include('books'), Library.Author.orderBy('name'), Library.Author.all(db)))
for (const a of authors) console.log(`${a.name}: ${a.books.map((b) => `${b.title} (${b.year})`).join(', ')}`)
const early = await run(pipe(Library.Book.query, Library.Book.scopes.before(1980), Library.Book.include('author'), Library.Book.all(db)))
console.log(early.map((b) => `${b.title} by ${b.author?.name}`))

say('update, validate')
const renamed = await run(Library.Book.update(db, early[0], { title: 'A Wizard of Earthsea (50th anniversary)' }))
console.log(renamed.title)
const invalid = await Library.Book.create(db, { authorId: terry.id, title: 42 as unknown as string })()
console.log(invalid._tag === 'Left' ? `${invalid.left._tag}: nothing written` : 'written?')

await run(db.close())
