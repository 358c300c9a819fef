/**
 * Streaming keeps memory flat: 100,000 rows of about 500 bytes each are streamed on every
 * backend while the process's memory is sampled: before; during, both as it is (garbage
 * included: the peak) and after a collection every 10,000 rows (what is really held); after.
 * Then the same rows are read all at once for contrast. The rows are generated on the server
 * by one INSERT ... SELECT over a CTE of digits cross-joined five times.
 */
import v8 from 'node:v8'
import vm from 'node:vm'
import { pipe } from 'fp-ts/lib/function.js'
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, describe, expect, it } from 'vitest'
import { compose, connect, run, sql, type Backend } from 'recordkit'
import {
  add, as, cast, concat, crossJoin, cte, from, fromSelect, insertInto, mul, orderBy, select, selectOnly, unionAll, val,
  withCte, type Select, type SelectLike,
} from 'recordkit/query'
import { mysql } from 'recordkit/dialects/mysql'
import { postgres } from 'recordkit/dialects/postgres'
import { sqlite } from 'recordkit/dialects/sqlite'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'
import { mysql2 } from 'recordkit/drivers/mysql2'
import { postgresJs } from 'recordkit/drivers/postgres'
import { columnTypes } from 'recordkit/testing'
import { MYSQL_URL, PG_URL, serverAvailable } from './support/servers.js'

const ROWS = 100_000
const PAD = 'x'.repeat(480)
const MB = 1024 * 1024

v8.setFlagsFromString('--expose-gc')
const gc = vm.runInNewContext('gc') as () => void

interface Sample { readonly rss: number; readonly heapUsed: number }
const sample = (): Sample => {
  const m = process.memoryUsage()
  return { rss: m.rss, heapUsed: m.heapUsed }
}
const settled = (): Sample => {
  gc()
  gc()
  return sample()
}
const mb = (n: number): number => Math.round((n / MB) * 10) / 10

/** Memory figures of one backend, printed at the end. */
const report: Record<string, Record<string, number>> = {}
afterAll(() => {
  console.log(`\nstreaming ${ROWS.toLocaleString('en')} rows (MB): ${JSON.stringify(report, null, 2)}`)
})

/** 0..9 as a query: ten one-row SELECTs joined with UNION ALL. */
const digits: SelectLike = Array.from({ length: 10 }, (_, i) => pipe(selectOnly(), select(as(cast(val(i), 'integer'), 'v'))) as SelectLike)
  .reduce((acc, q) => unionAll(q)(acc))

/** INSERT INTO ql_stream (id, payload) WITH d AS (0..9) SELECT a.v + 10 * b.v + ... + 1, id || PAD FROM d a, d b, d c, d e, d f */
const fill = (() => {
  const id = add(add(add(add(add('a.v', mul('b.v', 10)), mul('c.v', 100)), mul('e.v', 1000)), mul('f.v', 10000)), 1)
  const rows: Select = pipe(
    from('d a'), crossJoin('d b'), crossJoin('d c'), crossJoin('d e'), crossJoin('d f'),
    select(as(id, 'id'), as(concat(cast(id, 'text'), val(PAD)), 'payload')),
  )
  return pipe(insertInto('ql_stream'), fromSelect(['id', 'payload'], rows), withCte(cte('d', digits)))
})()

const ok = async <A>(te: () => Promise<E.Either<unknown, A>>): Promise<A> => {
  const r = await te()
  if (E.isLeft(r)) throw r.left
  return r.right
}

const measure = (name: string, open: () => Promise<Backend>) => {
  it(`${name}: streams ${ROWS.toLocaleString('en')} rows in flat memory`, async () => {
    const db = await open()
    const t = columnTypes(db)
    const q = db.dialect.quoteIdentifier
    try {
      await ok(db.execute(sql.raw(`DROP TABLE IF EXISTS ${q('ql_stream')}`)))
      await ok(db.execute(sql.raw(`CREATE TABLE ${q('ql_stream')} (id ${t.int} PRIMARY KEY, payload ${t.varchar(500)} NOT NULL)`)))
      expect((await ok(db.execute(fill))).rowsAffected).toBe(ROWS)

      const query = pipe(from('ql_stream'), select('id', 'payload'), orderBy('id'))
      const before = settled()
      let peak = before
      let held = before
      let n = 0
      let last = 0
      for await (const r of db.stream(query, { batchSize: 500 })) {
        n++
        const id = Number(r.id)
        if (id !== last + 1 || typeof r.payload !== 'string') throw new Error(`row ${n} is ${JSON.stringify(r).slice(0, 60)}`)
        last = id
        if (n % 1000 === 0) {
          const s = n % 10_000 === 0 ? settled() : sample()
          peak = { rss: Math.max(peak.rss, s.rss), heapUsed: Math.max(peak.heapUsed, s.heapUsed) }
          if (n % 10_000 === 0) held = { rss: Math.max(held.rss, s.rss), heapUsed: Math.max(held.heapUsed, s.heapUsed) }
        }
      }
      const after = settled()
      expect(n).toBe(ROWS)

      // The same rows read all at once, for contrast: what the heap holds with them all.
      const base = settled()
      const all = await ok(db.all(query))
      const allHeld = settled()
      expect(all.length).toBe(ROWS)

      report[name] = {
        rssBefore: mb(before.rss), rssPeak: mb(peak.rss), rssAfter: mb(after.rss),
        heapBefore: mb(before.heapUsed), heapPeak: mb(peak.heapUsed), heapHeldPeak: mb(held.heapUsed), heapAfter: mb(after.heapUsed),
        heapHeldGrowthStreaming: mb(held.heapUsed - before.heapUsed), heapHeldGrowthAllAtOnce: mb(allHeld.heapUsed - base.heapUsed),
      }
      // Flat: what the heap holds while streaming is a few batches, whatever the row count,
      // against tens of megabytes for all rows at once; and nothing is left behind.
      expect(held.heapUsed - before.heapUsed).toBeLessThan(10 * MB)
      expect(held.heapUsed - before.heapUsed).toBeLessThan((allHeld.heapUsed - base.heapUsed) / 4)
      expect(after.heapUsed - before.heapUsed).toBeLessThan(8 * MB)
    } finally {
      await ok(db.execute(sql.raw(`DROP TABLE IF EXISTS ${q('ql_stream')}`)))
      await run(db.close())
    }
  }, 120_000)
}

describe('streaming memory', () => {
  measure('sqlite', async () => compose(betterSqlite3({ filename: ':memory:' }), sqlite))
})

describe.skipIf(!(await serverAvailable('mariadb')))('streaming memory on MariaDB', () => {
  measure('mariadb', () => run(connect(mysql2({ url: MYSQL_URL, max: 2 }), mysql)))
})

describe.skipIf(!(await serverAvailable('postgres')))('streaming memory on PostgreSQL', () => {
  measure('postgres', () => run(connect(postgresJs({ url: PG_URL, max: 2 }), postgres)))
})
