/**
 * Migrations from code: load the files of examples/migrations, apply them, list them, revert one.
 * The recordkit command does the same from the shell (see examples/cli.sh).
 *
 * Run: npx tsx examples/migrations.ts
 */
import { fileURLToPath } from 'node:url'
import { compose, run } from 'recordkit'
import { sqlite } from 'recordkit/dialects/sqlite'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'
import { loadMigrations, migrateDown, migrateUp, migrationStatus, type MigrationEvent } from 'recordkit/schema'

const db = compose(betterSqlite3({ filename: ':memory:' }), sqlite)
const dir = fileURLToPath(new URL('./migrations', import.meta.url))

// Migration files export up(db) and down(db); their names order them.
const migrations = await run(loadMigrations(dir))

// Progress as it happens: which migration, how long, which statements ran.
const onEvent = (e: MigrationEvent) => {
  if (e.kind === 'done') console.log(`${e.direction} ${e.name}: ${e.statements.length} statements in ${e.ms} ms`)
}

// Apply what is pending: each migration once, in its own transaction, under a lock.
const applied = await run(migrateUp(db, migrations, { onEvent }))
console.log('applied', applied.migrations)

// Where each one stands.
for (const m of await run(migrationStatus(db, migrations))) console.log(m.state.padEnd(8), m.name, m.appliedAt ?? '')

// Revert the last one.
const reverted = await run(migrateDown(db, migrations, { steps: 1, onEvent }))
console.log('reverted', reverted.migrations)

await run(db.close())
