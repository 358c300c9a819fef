import { connect, run, sql } from 'recordkit'
import { postgres } from 'recordkit/dialects/postgres'
import { pgbouncerDriver } from 'recordkit/scale-out'

// PgBouncer with pool_mode = transaction, listening on 6432.
const db = await run(connect(pgbouncerDriver({ url: 'postgres://app@127.0.0.1:6432/app', max: 50 }), postgres))

// Transactions and savepoints work; SET LOCAL ends with the transaction.
await run(db.transaction((tx) => async () => {
  await run(tx.execute(sql`SET LOCAL statement_timeout = '5s'`))
  return tx.transaction((sp) => sp.execute(sql`UPDATE account SET balance = balance - 10 WHERE id = 1`))()
}))

// Session state outside a transaction would leak to other clients: refused.
const r = await db.execute(sql`SET search_path = app`)()
console.log(r._tag === 'Left' && r.left._tag) // 'UnsupportedFeature'

// Streams hold one server connection until the last row (or until the loop stops).
for await (const row of db.stream(sql`SELECT id FROM account`, { batchSize: 1000 })) console.log(row)
