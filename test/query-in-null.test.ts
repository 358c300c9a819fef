/**
 * A `null` in an IN list stands for NULL, as `eq(col, null)` is `col IS NULL` and as
 * Rails writes `where(value: [nil, 1.5])`: `isIn('v', [null, 1.5])` finds the rows holding 1.5
 * and those holding NULL, and `notIn('v', [null, 1.5])` the rows holding neither. Written as SQL's
 * `v IN (NULL, 1.5)` the NULL matched no row, and `v NOT IN (NULL, 1.5)` matched no row at all,
 * silently; models' `in` / `not in` and `where({ v: [...] })` go the same way, on every engine and
 * for long lists too.
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Backend, createBackend, promised, run, sql } from 'recordkit'
import { float, model, nullable, promisedModel } from 'recordkit/model'
import { from, isIn, notIn, orderBy, select, where } from 'recordkit/query'
import { MYSQL_URL, PG_URL, serverAvailable } from './support/servers.js'

const ENGINES = [
  { name: 'sqlite', url: 'sqlite::memory:' },
  { name: 'postgres', url: PG_URL },
  { name: 'mariadb', url: MYSQL_URL.replace(/^mysql:/, 'mariadb:') },
] as const

const Reading = model({ table: 'rk_tl_in_null', primaryKey: 'id', codec: t.type({ id: t.number, v: nullable(float) }) })
const R = promisedModel(Reading)
const LONG = Array.from({ length: 1500 }, (_, i) => 100 + i + 0.5)

for (const engine of ENGINES) {
  describe(`a null in an IN list on ${engine.name}`, () => {
    let db: Backend | undefined
    beforeAll(async () => {
      if (engine.name !== 'sqlite' && !(await serverAvailable(engine.name))) return
      db = await run(createBackend(engine.url))
      await run(db.execute(sql`DROP TABLE IF EXISTS rk_tl_in_null`))
      await run(db.execute(sql`CREATE TABLE rk_tl_in_null (id INTEGER PRIMARY KEY, v DOUBLE PRECISION)`))
      await run(db.execute(sql`INSERT INTO rk_tl_in_null (id, v) VALUES (1, NULL), (2, 1.5), (3, 2.5)`))
    })
    afterAll(async () => {
      if (db === undefined) return
      await run(db.execute(sql`DROP TABLE IF EXISTS rk_tl_in_null`))
      await run(db.close())
    })

    const ids = (rows: readonly Record<string, unknown>[]) => rows.map((r) => Number(r.id))

    it('matches the NULL rows with IN, and leaves them out with NOT IN (builder)', async (ctx) => {
      if (db === undefined) return ctx.skip()
      const p = promised(db)
      const read = (cond: ReturnType<typeof isIn>) => p.all(pipe(from('rk_tl_in_null'), select('id'), where(cond), orderBy('id')))
      expect(ids(await read(isIn('v', [null, 1.5])))).toEqual([1, 2])
      expect(ids(await read(notIn('v', [null, 1.5])))).toEqual([3])
      expect(ids(await read(isIn('v', [null])))).toEqual([1])
      expect(ids(await read(notIn('v', [null])))).toEqual([2, 3])
      expect(ids(await read(isIn('v', [1.5])))).toEqual([2])
      expect(ids(await read(notIn('v', [1.5])))).toEqual([3]) // no null in the list: SQL's NOT IN, NULL rows unmatched
      expect(ids(await read(isIn('v', [...LONG, null, 2.5])))).toEqual([1, 3])
      expect(ids(await read(notIn('v', [...LONG, null, 2.5])))).toEqual([2])
      expect(ids(await p.all(pipe(from('rk_tl_in_null'), select('id'), where({ v: [null, 2.5] }), orderBy('id'))))).toEqual([1, 3])
    })

    it('matches them the same way through a model', async (ctx) => {
      if (db === undefined) return ctx.skip()
      const p = promised(db)
      expect(await pipe(Reading.query, Reading.where('v', 'in', [null, 1.5]), Reading.orderBy('id'), R.pluck(p, 'id'))).toEqual([1, 2])
      expect(await pipe(Reading.query, Reading.where('v', 'not in', [null, 1.5]), Reading.orderBy('id'), R.pluck(p, 'id'))).toEqual([3])
      expect(await pipe(Reading.query, Reading.where({ v: [null, 2.5] }), Reading.orderBy('id'), R.pluck(p, 'id'))).toEqual([1, 3])
      expect(await pipe(Reading.query, Reading.where('v', 'in', [...LONG, null]), R.pluck(p, 'id'))).toEqual([1])
    })
  })
}
