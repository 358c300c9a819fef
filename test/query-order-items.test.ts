/**
 * `orderBy(desc('seats'))`, the ORDER BY item `asc` / `desc` make for windows, as Drizzle's
 * `orderBy(desc(col))` reads: it was taken for an expression and failed to compile; it is now the
 * query's ORDER BY item, direction and NULLS placement included.
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { isDbError, run } from 'recordkit'
import { asc, desc, from, insertInto, orderBy, select, values } from 'recordkit/query'
import { mysql } from 'recordkit/dialects/mysql'
import { postgres } from 'recordkit/dialects/postgres'
import { ENGINES, engineTables } from './support/engine-tables.js'

describe('orderBy with an item made by asc / desc', () => {
  it('writes its direction and NULLS placement', () => {
    const q = pipe(from('t'), select('id'), orderBy(desc('seats', 'last')), orderBy(asc('id')))
    expect(postgres.compile(q)).toEqual(E.right({ sql: 'SELECT "id" FROM "t" ORDER BY "seats" DESC NULLS LAST, "id" ASC', params: [] }))
    expect(E.isRight(mysql.compile(q))).toBe(true)
  })

  it('given a direction as well, is a QueryError', () => {
    let thrown: unknown
    try { orderBy(desc('seats') as never, 'asc') } catch (e) { thrown = e }
    expect(isDbError(thrown, 'QueryError')).toBe(true)
  })
})

for (const engine of ENGINES) {
  describe(`orderBy(desc(...)) on ${engine.name}`, () => {
    const { use } = engineTables(engine, ['rk_oi_t'], () => ['CREATE TABLE rk_oi_t (id INTEGER PRIMARY KEY, seats INTEGER)'])

    it('orders the rows, NULLs where asked', async (ctx) => {
      const db = use(ctx)
      await run(db.execute(pipe(insertInto('rk_oi_t'), values([{ id: 1, seats: 2 }, { id: 2, seats: null }, { id: 3, seats: 5 }]))))
      const ids = async (q: Parameters<typeof db.all>[0]) => (await run(db.all(q))).map((r) => Number((r as { id: unknown }).id))
      expect(await ids(pipe(from('rk_oi_t'), select('id'), orderBy(desc('seats', 'last'))))).toEqual([3, 1, 2])
      expect(await ids(pipe(from('rk_oi_t'), select('id'), orderBy(asc('seats', 'first'))))).toEqual([2, 1, 3])
    })
  })
}
