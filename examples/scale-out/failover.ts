import { connect, run, sql } from 'recordkit'
import { postgres } from 'recordkit/dialects/postgres'
import { postgresJs } from 'recordkit/drivers/postgres'

// Every host that may be the primary; the session goes to the one that takes writes.
const url = 'postgres://app@db-a:5432,db-b:5432/app?target_session_attrs=read-write'
const db = await run(connect(postgresJs({
  url,
  connectTimeout: 2, // a host that does not answer is skipped after 2 s
  acquireTimeout: 5000, // a statement waits at most 5 s for a writable host, then fails unrun (PoolTimeout)
  reconnectDelay: () => 500, // try the hosts again every half second while none is writable
}), postgres))

// During a failover, writes fail with ConnectionError or PoolTimeout and resume once a standby is promoted.
const r = await db.execute(sql`INSERT INTO audit (event) VALUES ('login')`)()
if (r._tag === 'Left' && (r.left._tag === 'ConnectionError' || r.left._tag === 'PoolTimeout')) console.log('no primary right now; try again later')
