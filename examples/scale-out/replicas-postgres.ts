import { connect, run, sql } from 'recordkit'
import { postgres } from 'recordkit/dialects/postgres'
import { postgresJs } from 'recordkit/drivers/postgres'
import { postgresReplicaCheck, withReplicas } from 'recordkit/scale-out'

const primary = await run(connect(postgresJs({ url: 'postgres://app@db-primary:5432/app' }), postgres))
// A short connect timeout: a replica that is down is noticed in seconds, not in 30.
const standby = await run(connect(postgresJs({ url: 'postgres://app@db-standby:5432/app', connectTimeout: 2 }), postgres))

const db = withReplicas(primary, [standby], {
  readYourWritesMs: 2000, // after a write, the same scope reads from the primary for 2 s
  timeoutMs: 5000, // a replica read slower than this runs again on the primary
  retryAfterMs: 1000, // a failed replica is checked again after 1 s
  check: postgresReplicaCheck(16 * 1024 * 1024), // out while more than 16 MB of WAL is not replayed
})

// In a web server, one scope per request:
export const handle = (orgId: number) => db.scope(() => run(db.all(sql`SELECT * FROM invoice WHERE org_id = ${orgId}`)))
