/**
 * A BIGINT counter beyond 2^53 read through the query builder: mysql2 gives MariaDB's BIGINT as
 * text where SQLite and PostgreSQL give a bigint, so `readAs(e, 'int64')` reads a column, a
 * `lag` of it or its `max` as a bigint on every engine, every digit kept, as the model's `int64`
 * field does; a value that is no integer is a DecodeError naming the column.
 */
import { pipe } from 'fp-ts/lib/function.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Backend, createBackend, promised, run, sql } from 'recordkit'
import { as, from, lag, limit, max, orderBy, over, readAs, select, sub } from 'recordkit/query'
import { MYSQL_URL, PG_URL, serverAvailable } from './support/servers.js'

const ENGINES = [
  { name: 'sqlite', url: 'sqlite::memory:' },
  { name: 'postgres', url: PG_URL },
  { name: 'mariadb', url: MYSQL_URL.replace(/^mysql:/, 'mariadb:') },
] as const

const BIG = 2n ** 60n

for (const engine of ENGINES) {
  describe(`readAs(e, 'int64') on ${engine.name}`, () => {
    let db: Backend | undefined
    beforeAll(async () => {
      if (engine.name !== 'sqlite' && !(await serverAvailable(engine.name))) return
      db = await run(createBackend(engine.url))
      await run(db.execute(sql`DROP TABLE IF EXISTS rk_tl_int64`))
      await run(db.execute(sql`CREATE TABLE rk_tl_int64 (id INTEGER PRIMARY KEY, counter BIGINT, label VARCHAR(10))`))
      await run(db.execute(sql`INSERT INTO rk_tl_int64 (id, counter, label) VALUES (1, ${BIG}, 'a'), (2, ${BIG + 7n}, 'b'), (3, NULL, '1.5'), (4, ${2n ** 63n - 1n}, '12')`))
    })
    afterAll(async () => {
      if (db === undefined) return
      await run(db.execute(sql`DROP TABLE IF EXISTS rk_tl_int64`))
      await run(db.close())
    })

    it('reads a column, a lag of it and its max as bigints, NULL as null', async (ctx) => {
      if (db === undefined) return ctx.skip()
      const p = promised(db)
      const rows = await p.all(pipe(
        from('rk_tl_int64'),
        select({
          counter: readAs('counter', 'int64'),
          prev: readAs(over(lag('counter'), { orderBy: ['id'] }), 'int64'),
          delta: readAs(sub('counter', over(lag('counter'), { orderBy: ['id'] })), 'int64'),
        }),
        orderBy('id'),
      ))
      expect(rows).toEqual([
        { counter: BIG, prev: null, delta: null },
        { counter: BIG + 7n, prev: BIG, delta: 7n },
        { counter: null, prev: BIG + 7n, delta: null },
        { counter: 2n ** 63n - 1n, prev: null, delta: null },
      ])
      const [top] = await p.all(pipe(from('rk_tl_int64'), select({ top: readAs(max('counter'), 'int64') })))
      const typed: bigint | null = top.top
      expect(typed).toBe(2n ** 63n - 1n)
      const [text] = await p.all(pipe(from('rk_tl_int64'), select({ n: readAs('label', 'int64') }), orderBy('id', 'desc'), limit(1)))
      expect(text.n).toBe(12n)
    })

    it('refuses a value that is no integer with a DecodeError naming the column', async (ctx) => {
      if (db === undefined) return ctx.skip()
      const p = promised(db)
      await expect(p.all(pipe(from('rk_tl_int64'), select(as(readAs('label', 'int64'), 'n')), orderBy('id'))))
        .rejects.toMatchObject({ _tag: 'DecodeError', issues: [{ path: 'n', rule: 'int64' }] })
    })
  })
}
