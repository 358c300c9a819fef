/**
 * Schema management on an embedded SQLite database: tables as data compiled per dialect,
 * ALTER TABLE (which SQLite does by rebuilding the table), overriding one DDL step,
 * introspection, models printed from tables, and a table derived from an io-ts codec.
 *
 * Run: npx tsx examples/schema.ts
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import { compose, extend, run, type Dialect } from 'recordkit'
import { from, insertInto, select, values } from 'recordkit/query'
import { mysql } from 'recordkit/dialects/mysql'
import { postgres } from 'recordkit/dialects/postgres'
import { sqlite } from 'recordkit/dialects/sqlite'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'
import {
  addColumn, alter, alterColumn, alterTable, apply, column, createTable, createTableFor, createView, index, introspect, now,
  printModels, renameColumn, type ColumnDef, type ColumnType, type DdlNode,
} from 'recordkit/schema'

const db = compose(betterSqlite3({ filename: ':memory:' }), sqlite)
// The statements a dialect writes for a DDL node (compiling needs no database).
const sqlOf = (d: Dialect, node: DdlNode): string[] =>
  d.ddlStatements(node).map((f) => E.match((e: Error) => `-- ${e.message}`, (c: { sql: string }) => c.sql)(d.compile(f)))

// A table is data: columns with portable types, keys, defaults, checks.
const artists = pipe(
  createTable('artists'),
  column('id', 'integer', { primaryKey: true, autoIncrement: true }),
  column('name', 'varchar(120)', { notNull: true, unique: true }),
  column('created_at', 'timestamptz', { notNull: true, default: now }),
)

// Each dialect writes it its own way; nothing is sent anywhere to compile it.
console.log(sqlOf(sqlite, artists))
console.log(sqlOf(postgres, artists))
console.log(sqlOf(mysql, artists))

// One statement runs with execute; a table with its indexes takes several, which apply runs in one transaction.
await run(db.execute(artists))
const albums = pipe(
  createTable('albums'),
  column('id', 'integer', { primaryKey: true, autoIncrement: true }),
  column('artist_id', 'integer', { notNull: true, references: { table: 'artists', column: 'id', onDelete: 'cascade' } }),
  column('title', 'text', { notNull: true }),
  column('price', 'decimal(10,2)', { notNull: true, default: 0, check: 'price >= 0' }),
  index(['artist_id']),
)
await run(apply(db, albums, createView('album_titles', pipe(from('albums'), select('id', 'title')))))
await run(db.execute(pipe(insertInto('artists'), values({ name: 'Miles Davis' }))))
await run(db.execute(pipe(insertInto('albums'), values({ artist_id: 1, title: 'Kind of Blue', price: '9.99' }))))

// ALTER TABLE: SQLite adds and renames columns itself; changing a column's type is a table rebuild,
// which alter() plans and runs in a transaction (rows, indexes, views and foreign keys kept).
const change = pipe(
  alterTable('albums'),
  addColumn('year', 'smallint'),
  renameColumn('title', 'name'),
  alterColumn('price', 'decimal(12,2)', { notNull: true, default: 0 }),
)
await run(alter(db, change))
console.log(await run(db.all(from('albums'))))
console.log(await run(db.all(from('album_titles')))) // the view follows the renamed column

// Override one DDL step: every statement that writes a column type follows, the rebuild included.
const withClob = extend(sqlite, (_, base) => ({
  columnType: (type: ColumnType, c?: ColumnDef) => (type === 'text' ? 'CLOB' : base.columnType(type, c)),
}))
console.log(sqlOf(withClob, albums))

// Read the schema back: the same data the builders make, ready to create elsewhere.
const schema = await run(introspect(db))
console.log(schema.tables.map((t) => `${t.name}: ${t.columns.map((c) => `${c.name} ${typeof c.type === 'string' ? c.type : c.type.native}`).join(', ')}`))
console.log(schema.views)

// Tables to models: TypeScript for an io-ts codec and a model() per table.
console.log(printModels(schema, { fields: 'camelCase' }))

// And a codec to a table.
const Track = t.type({ id: t.Int, title: t.string, seconds: t.number, explicit: t.boolean, notes: t.union([t.string, t.null]) })
const tracks = createTableFor('tracks', Track, { primaryKey: 'id', integers: ['seconds'], columns: { id: { autoIncrement: true } } })
if (E.isRight(tracks)) {
  console.log(sqlOf(sqlite, tracks.right))
  await run(db.execute(tracks.right))
}

await run(db.close())
