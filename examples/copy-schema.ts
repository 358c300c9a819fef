/**
 * A schema read from one database and created on another, with its rows: the Chinook sample
 * loaded into an embedded SQLite database, introspected, created on the target and copied.
 * The target is a new SQLite file, or the database COPY_TO names (an empty one: the Chinook
 * tables must not exist there), e.g. COPY_TO=postgres://postgres@127.0.0.1:5432/scratch.
 *
 * Run: npx tsx examples/copy-schema.ts
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { compose, run, sql } from 'recordkit'
import { sqlite } from 'recordkit/dialects/sqlite'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'
import { copyRows, createSchema, introspect } from 'recordkit/schema'
import { loadChinook } from 'recordkit/testing'
import { createBackend } from '../src/registry.js'

const dir = mkdtempSync(join(tmpdir(), 'recordkit-copy-'))
const source = compose(betterSqlite3({ filename: ':memory:' }), sqlite)
await run(loadChinook(source))

// Read the source's schema: tables in dependency order, portable column types, keys, indexes.
const schema = await run(introspect(source))

// Create it on the target, then copy every table's rows through recordkit.
const target = await run(createBackend(process.env.COPY_TO ?? `sqlite:${join(dir, 'chinook.db')}`))
await run(createSchema(target, schema))
for (const table of schema.tables) {
  const copied = await run(copyRows(source, target, table))
  console.log(`${table.name}: ${copied} rows`)
}

console.log(await run(target.all(sql`SELECT COUNT(*) AS invoices, SUM(total) AS total FROM invoice`)))
await run(target.close())
await run(source.close())
rmSync(dir, { recursive: true })
