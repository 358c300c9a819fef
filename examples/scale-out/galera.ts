import { connect, run, sql, wrap } from 'recordkit'
import { mysql } from 'recordkit/dialects/mysql'
import { galeraDriver, galeraRetry } from 'recordkit/scale-out'

// Any node takes writes. syncWait: 1 makes reads wait for writes committed on other nodes.
const node = await run(connect(galeraDriver({ url: 'mysql://app@galera-1:3306/shop', syncWait: 1 }), mysql))

// A certification conflict (another node committed the same rows first) fails the transaction
// with Deadlock (errno 1213); galeraRetry runs the whole transaction again.
const db = wrap(node, galeraRetry({ attempts: 8, onRetry: (e, n) => console.warn(`conflict, attempt ${n + 1}`, e.code) }))
await run(db.transaction((tx) => tx.execute(sql`UPDATE stock SET n = n - 1 WHERE sku = ${'A-1'} AND n > 0`)))
