/**
 * `cast(x, 'bigint')` reads back as `readAs(x, 'int64')` does: a bigint with every digit on
 * every engine (mysql2 gives MariaDB's BIGINT as text, SQLite and PostgreSQL a bigint), where it
 * read as `'integer'`, a number that failed beyond 2^53. `cast(x, 'integer')` stays a number.
 */
import { pipe } from 'fp-ts/lib/function.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Backend, createBackend, promised, run, sql } from 'recordkit'
import { cast, from, orderBy, select, val } from 'recordkit/query'
import { MYSQL_URL, PG_URL, serverAvailable } from './support/servers.js'

const ENGINES = [
  { name: 'sqlite', url: 'sqlite::memory:' },
  { name: 'postgres', url: PG_URL },
  { name: 'mariadb', url: MYSQL_URL.replace(/^mysql:/, 'mariadb:') },
] as const

const BIG = 2n ** 53n + 1n

for (const engine of ENGINES) {
  describe(`cast(x, 'bigint') on ${engine.name}`, () => {
    let db: Backend | undefined
    beforeAll(async () => {
      if (engine.name !== 'sqlite' && !(await serverAvailable(engine.name))) return
      db = await run(createBackend(engine.url))
      await run(db.execute(sql`DROP TABLE IF EXISTS rk_cb_counts`))
      await run(db.execute(sql`CREATE TABLE rk_cb_counts (id INTEGER PRIMARY KEY, label VARCHAR(30))`))
      await run(db.execute(sql`INSERT INTO rk_cb_counts (id, label) VALUES (1, ${String(BIG)}), (2, '7'), (3, NULL)`))
    })
    afterAll(async () => {
      if (db === undefined) return
      await run(db.execute(sql`DROP TABLE IF EXISTS rk_cb_counts`))
      await run(db.close())
    })

    it('reads as a bigint with every digit, NULL as null; an integer cast as a number', async (ctx) => {
      if (db === undefined) return ctx.skip()
      const p = promised(db)
      const rows = await p.all(pipe(from('rk_cb_counts'), select({ n: cast('label', 'bigint'), small: cast('id', 'integer'), lit: cast(val('12'), 'bigint') }), orderBy('id')))
      expect(rows).toEqual([
        { n: BIG, small: 1, lit: 12n },
        { n: 7n, small: 2, lit: 12n },
        { n: null, small: 3, lit: 12n },
      ])
    })
  })
}
