/**
 * The README's short tour, as a program that runs.
 *
 * Run: npx tsx examples/tour.ts
 */
import { pipe } from 'fp-ts/lib/function.js'
import { compose, extend, wrap, sql, run, fromParts } from 'recordkit'
import { from, select, where, gt, orderBy, limit, insertInto, values, onConflict } from 'recordkit/query'
import { sqlite } from 'recordkit/dialects/sqlite'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'

// Compose: a backend is a driver plus a dialect.
const db = compose(betterSqlite3({ filename: ':memory:' }), sqlite)
await run(db.execute(sql`CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT UNIQUE, name TEXT, age INTEGER)`))
await run(db.execute(sql`CREATE TABLE sessions (id INTEGER PRIMARY KEY)`))

// Upsert, one API on every engine.
await run(db.execute(pipe(insertInto('users'), values({ email: 'a@b.c', name: 'Ann', age: 30 }), onConflict(['email'], ['name']))))

// Build queries as data, with pipeable, immutable builders.
const adults = pipe(from('users'), select('id', 'name'), where(gt('age', 17)), orderBy('name'), limit(10))
const rows = await run(db.all(adults)) // run() turns a TaskEither into a Promise

// Raw SQL when you want it: values become parameters, identifiers are quoted by the dialect.
await run(db.execute(sql`UPDATE ${sql.id('users')} SET name = ${"O'Brien"} WHERE id = ${1}`))

// Transactions: nested calls become savepoints; queries inside use the transaction's connection.
await run(db.transaction((tx) => tx.execute(sql`DELETE FROM sessions`)))

// Extend: override ONE SQL-generation function; every SELECT and paginator follows.
const commented = extend(sqlite, (self, base) => ({ limitOffset: (l, o) => fromParts([base.limitOffset(l, o), ' /* paged */']) }))

// Wrap: middleware around any backend function (logging, timing, retry, routing).
const logged = wrap(db, { execute: (next) => (q) => { console.log('running', q); return next(q) } })

console.log(rows, await run(logged.all(sql`SELECT name FROM users`)), commented.compile(adults))
