/**
 * Point select by primary key on SQLite, three ways in one run:
 * raw better-sqlite3 prepared `.get()`, recordkit with a freshly built query each time, and
 * recordkit with a query prepared once.
 *
 * Run: npx tsx bench/sqlite-point-select.ts
 */
import Database from 'better-sqlite3'
import { pipe } from 'fp-ts/lib/function.js'
import { compose, eq, from, param, select, where } from '../src/index.js'
import { sqlite } from '../src/dialects/sqlite.js'
import { betterSqlite3 } from '../src/drivers/better-sqlite3.js'
import { compare, report } from './lib.js'

const ROWS = 10_000
const setup = (db: Database.Database) => {
  db.exec('CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL, age INTEGER)')
  const ins = db.prepare('INSERT INTO users (name, email, age) VALUES (?, ?, ?)')
  db.transaction(() => { for (let i = 1; i <= ROWS; i++) ins.run(`user ${i}`, `user${i}@example.com`, 20 + (i % 50)) })()
}

const raw = new Database(':memory:')
setup(raw)
const rawStmt = raw.prepare('SELECT "id", "name", "email", "age" FROM "users" WHERE "id" = ?')

const driver = betterSqlite3({ filename: ':memory:' })
const db = compose(driver, sqlite)
setup(driver.database())

const prepared = db.prepare(pipe(from('users'), select('id', 'name', 'email', 'age'), where(eq('id', param('id')))))

let k = 0
const nextId = () => (k = (k % ROWS) + 1)

const results = await compare({
  'raw better-sqlite3 .get()': (n) => { for (let i = 0; i < n; i++) if (rawStmt.get(nextId()) === undefined) throw new Error('missing') },
  'recordkit, fresh query': async (n) => {
    for (let i = 0; i < n; i++) {
      const r = await db.first(pipe(from('users'), select('id', 'name', 'email', 'age'), where(eq('id', nextId()))))()
      if (r._tag === 'Left') throw r.left
    }
  },
  'recordkit, prepared': async (n) => {
    for (let i = 0; i < n; i++) {
      const r = await prepared.first({ id: nextId() })()
      if (r._tag === 'Left') throw r.left
    }
  },
}, { ops: 20_000, rounds: 9 })

report('SQLite point select by primary key (targets: prepared <= 1.3x raw, fresh <= 3x raw)', results)
