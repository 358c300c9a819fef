/**
 * A report grouped by a time bucket that binds values (the day in New York,
 * `dateTrunc('day', dateAdd('ts', -5, 'hour'))`) and ordered by that same bucket: the ORDER BY
 * names the selected expression by its position, as GROUP BY does, on every engine. Written out
 * again, its values were bound again and PostgreSQL refused the query (42803: `ts` must appear in
 * the GROUP BY clause); a SELECT DISTINCT of the bucket ordered by it failed alike (42P10). A bucket
 * built again, equal to the selected one, is named by that position too.
 */
import { pipe } from 'fp-ts/lib/function.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Backend, createBackend, promised, run, sql } from 'recordkit'
import { asc, count, dateAdd, dateTrunc, distinct, from, groupBy, insertInto, orderBy, select, values } from 'recordkit/query'
import { MYSQL_URL, PG_URL, serverAvailable } from './support/servers.js'

const ENGINES = [
  { name: 'sqlite', url: 'sqlite::memory:' },
  { name: 'postgres', url: PG_URL },
  { name: 'mariadb', url: MYSQL_URL.replace(/^mysql:/, 'mariadb:') },
] as const

const T0 = Date.UTC(2026, 2, 1)

for (const engine of ENGINES) {
  describe(`ordering by a grouped bucket that binds values on ${engine.name}`, () => {
    let db: Backend | undefined
    beforeAll(async () => {
      if (engine.name !== 'sqlite' && !(await serverAvailable(engine.name))) return
      db = await run(createBackend(engine.url))
      await run(db.execute(sql`DROP TABLE IF EXISTS rk_tl_bucket`))
      await run(db.execute(sql`CREATE TABLE rk_tl_bucket (id INTEGER PRIMARY KEY, ts TIMESTAMP(3) NOT NULL)`))
      // 30 hours from midnight UTC: 5 in New York's Feb 28, 24 on Mar 1, 1 on Mar 2.
      await run(db.execute(pipe(insertInto('rk_tl_bucket'), values(Array.from({ length: 30 }, (_, i) => ({ id: i + 1, ts: new Date(T0 + i * 3_600_000) }))))))
    })
    afterAll(async () => {
      if (db === undefined) return
      await run(db.execute(sql`DROP TABLE IF EXISTS rk_tl_bucket`))
      await run(db.close())
    })

    it('orders the groups by the bucket, either way', async (ctx) => {
      if (db === undefined) return ctx.skip()
      const p = promised(db)
      const day = dateTrunc('day', dateAdd('ts', -5, 'hour'))
      const days = (rows: readonly { day: Date | null; n?: number }[]) => rows.map((r) => [r.day?.toISOString().slice(0, 10), r.n])
      expect(days(await p.all(pipe(from('rk_tl_bucket'), select({ day, n: count() }), groupBy(day), orderBy(day)))))
        .toEqual([['2026-02-28', 5], ['2026-03-01', 24], ['2026-03-02', 1]])
      expect(days(await p.all(pipe(from('rk_tl_bucket'), select({ day, n: count() }), groupBy(day), orderBy(day, 'desc')))))
        .toEqual([['2026-03-02', 1], ['2026-03-01', 24], ['2026-02-28', 5]])
      expect(days(await p.all(pipe(from('rk_tl_bucket'), select({ n: count(), day }), groupBy(day), orderBy(asc(day))))))
        .toEqual([['2026-02-28', 5], ['2026-03-01', 24], ['2026-03-02', 1]])
    })

    it('groups and orders by a bucket written out again, equal to the selected one', async (ctx) => {
      if (db === undefined) return ctx.skip()
      const p = promised(db)
      // As a report is often written: the same expression built three times, not shared.
      const dayIn = (offset: number) => dateTrunc('day', dateAdd('ts', offset, 'hour'))
      const rows = await p.all(pipe(from('rk_tl_bucket'), select({ day: dayIn(-5), n: count() }), groupBy(dayIn(-5)), orderBy(dayIn(-5), 'desc')))
      expect(rows.map((r) => [r.day?.toISOString().slice(0, 10), r.n])).toEqual([['2026-03-02', 1], ['2026-03-01', 24], ['2026-02-28', 5]])
      // Another offset is another expression: grouped by its own text, not by the selected one's position.
      const other = db.compile(pipe(from('rk_tl_bucket'), select({ day: dayIn(-5), n: count() }), groupBy(dayIn(-4))))
      expect(other._tag === 'Right' && /GROUP BY 1\b/.test(other.right.sql)).toBe(false)
    })

    it('orders the distinct buckets of a SELECT DISTINCT', async (ctx) => {
      if (db === undefined) return ctx.skip()
      const p = promised(db)
      const day = dateTrunc('day', dateAdd('ts', -5, 'hour'))
      const rows = await p.all(pipe(from('rk_tl_bucket'), select({ day }), distinct, orderBy(day, 'desc')))
      expect(rows.map((r) => r.day?.toISOString().slice(0, 10))).toEqual(['2026-03-02', '2026-03-01', '2026-02-28'])
    })
  })
}
