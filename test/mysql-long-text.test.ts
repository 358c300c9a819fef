/**
 * On MariaDB a statement without parameters and of a long text (a long IN list the dialect wrote
 * as literals) is sent as text, not prepared: each such text is new, and preparing it would keep
 * it in the connection's statement cache, pushing out the statements that do repeat.
 */
import { pipe } from 'fp-ts/lib/function.js'
import { describe, expect, it } from 'vitest'
import { createBackend, run, sql } from 'recordkit'
import { from, isIn, orderBy, select, where } from 'recordkit/query'
import { MYSQL_URL, serverAvailable } from './support/servers.js'

const T = 'mlt_items'

describe('MariaDB: long statements without parameters go as text', () => {
  it('a long IN list of literals is not prepared, and reads the same rows', async (ctx) => {
    if (!(await serverAvailable('mariadb'))) return ctx.skip()
    const db = await run(createBackend({ engine: 'mariadb', url: MYSQL_URL.replace(/^mysql:/, 'mariadb:'), max: 1 }))
    try {
      await run(db.execute(sql`DROP TABLE IF EXISTS ${sql.id(T)}`))
      await run(db.execute(sql`CREATE TABLE ${sql.id(T)} (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(20) NOT NULL)`))
      await run(db.execute(sql`INSERT INTO ${sql.id(T)} (id, name) VALUES (1, 'a'), (2, 'b'), (3, 'c'), (4, 'd')`))
      const prepares = async () => Number((await run(db.all<{ Value: string }>(sql`SHOW SESSION STATUS LIKE 'Com_stmt_prepare'`)))[0].Value)
      const read = (ids: number[]) => run(db.all<{ id: number }>(pipe(from(T), select('id'), where(isIn('id', ids)), orderBy('id'))))
      const before = await prepares()
      for (let k = 0; k < 5; k++) {
        const ids = [k % 2 === 0 ? 1 : 2, 3, ...Array.from({ length: 2000 + k }, (_, i) => 1000 + i)]
        expect((await read(ids)).map((r) => Number(r.id))).toEqual(k % 2 === 0 ? [1, 3] : [2, 3])
      }
      // The SHOW statement is prepared once; the long texts are not.
      expect(await prepares() - before).toBeLessThanOrEqual(1)
      // A short list is still prepared (once), and runs as before.
      const p0 = await prepares()
      expect((await read([1, 4])).map((r) => Number(r.id))).toEqual([1, 4])
      expect((await read([2, 4])).map((r) => Number(r.id))).toEqual([2, 4])
      expect(await prepares() - p0).toBeGreaterThanOrEqual(1)
      // A stream of such a statement too.
      const p1 = await prepares()
      const streamed: number[] = []
      for await (const r of db.stream<{ id: number }>(pipe(from(T), select('id'), where(isIn('id', [4, ...Array.from({ length: 3000 }, (_, i) => 1000 + i)])), orderBy('id')))) streamed.push(Number(r.id))
      expect(streamed).toEqual([4])
      expect(await prepares() - p1).toBe(0)
      await run(db.execute(sql`DROP TABLE ${sql.id(T)}`))
    } finally {
      await run(db.close())
    }
  })
})
