/**
 * Run by test/no-codegen.test.ts under `node --disallow-code-generation-from-strings`: reads
 * rows through the better-sqlite3 driver, whose precision check is generated code where
 * allowed, and prints them.
 */
import { compose, run, sql } from 'recordkit'
import { sqlite } from 'recordkit/dialects/sqlite'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'

const db = compose(betterSqlite3({ filename: ':memory:' }), sqlite)
await run(db.execute(sql`CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER, label TEXT)`))
await run(db.execute(sql`INSERT INTO t (id, n, label) VALUES (1, 5, 'a'), (2, 9007199254740993, 'b')`))
const rows = await run(db.all(sql`SELECT id, n, label FROM t ORDER BY id`))
const one = await run(db.first(sql`SELECT n FROM t WHERE id = ${2}`))
console.log(JSON.stringify({ rows, one }, (_, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)))
await run(db.close())
