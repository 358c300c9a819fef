import { compose, run, sql } from 'recordkit'
import { sqlite } from 'recordkit/dialects/sqlite'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'
import { withReplicas } from 'recordkit/scale-out'

// Two embedded databases stand in for a primary and its replica (which has a copy of the data).
const primary = compose(betterSqlite3({ filename: ':memory:' }), sqlite)
const replica = compose(betterSqlite3({ filename: ':memory:' }), sqlite)
for (const db of [primary, replica]) await run(db.execute(sql`CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT NOT NULL, origin TEXT)`))
await run(replica.execute(sql`INSERT INTO note VALUES (1, 'replicated', 'replica')`))
await run(primary.execute(sql`INSERT INTO note VALUES (1, 'replicated', 'primary')`))

const db = withReplicas(primary, [replica], { readYourWritesMs: 1000 })

// A read in a fresh scope (one per request, say) goes to the replica.
const [fromReplica] = await db.scope(() => run(db.all<{ origin: string }>(sql`SELECT origin FROM note WHERE id = 1`)))
if (fromReplica.origin !== 'replica') throw new Error('expected the replica')

await db.scope(async () => {
  // Writes go to the primary; for a second after, this scope's reads do too (read-your-writes).
  await run(db.execute(sql`INSERT INTO note VALUES (2, 'fresh', 'primary')`))
  const fresh = await run(db.all(sql`SELECT id FROM note WHERE id = 2`))
  if (fresh.length !== 1) throw new Error('expected to read my own write')
  // Everything inside a transaction runs on the primary.
  await run(db.transaction((tx) => tx.execute(sql`UPDATE note SET body = 'edited' WHERE id = 2`)))
})

console.log(db.health()) // [{ index: 0, healthy: true, reads: 1 }]
await run(db.close())
