/**
 * Model.findNow: find answered without a Promise on a backend with a synchronous path
 * (better-sqlite3), the same prepared query and decoding as find; a clear Left elsewhere.
 */
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { compose, createBackend, isDbError, run, sql } from 'recordkit'
import { sqlite } from 'recordkit/dialects/sqlite'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'
import { bool, date, model, snakeCase, softDelete } from 'recordkit/model'
import { ok } from 'recordkit/testing'
import { PG_URL, serverAvailable } from './support/servers.js'

const User = model({
  table: 'fn_users',
  primaryKey: 'id',
  naming: snakeCase,
  codec: t.type({ id: t.number, name: t.string, active: bool, createdAt: date, deletedAt: t.union([date, t.null]) }),
  behaviours: [softDelete()],
})
const Line = model({ table: 'fn_lines', primaryKey: ['orderId', 'n'], naming: snakeCase, codec: t.type({ orderId: t.number, n: t.number, qty: t.number }) })

const setUp = async () => {
  const db = compose(betterSqlite3({ filename: ':memory:' }), sqlite)
  await run(db.execute(sql`CREATE TABLE fn_users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, active BOOLEAN NOT NULL, created_at TEXT NOT NULL, deleted_at TEXT)`))
  await run(db.execute(sql`CREATE TABLE fn_lines (order_id INTEGER NOT NULL, n INTEGER NOT NULL, qty INTEGER NOT NULL, PRIMARY KEY (order_id, n))`))
  return db
}

describe('Model.findNow on SQLite', () => {
  it('reads and decodes the row now, as find does; absent and soft-deleted rows are None', async () => {
    const db = await setUp()
    const at = new Date('2024-05-06T07:08:09.010Z')
    const ada = await ok(User.create(db, { id: 1, name: 'Ada', active: true, createdAt: at, deletedAt: null }))
    const now = User.findNow(db, 1)()
    expect(now).toEqual(E.right(O.some(ada)))
    expect(E.isRight(now) && O.isSome(now.right) && now.right.value.createdAt instanceof Date).toBe(true)
    expect(now).toEqual(await User.find(db, 1)())
    expect(User.findNow(db, 2)()).toEqual(E.right(O.none))
    await ok(User.delete(db, ada))
    expect(User.findNow(db, 1)()).toEqual(E.right(O.none))
    // Composite keys, and a missing part of one.
    await ok(Line.create(db, { orderId: 7, n: 2, qty: 3 }))
    expect(Line.findNow(db, { orderId: 7, n: 2 })()).toEqual(E.right(O.some({ orderId: 7, n: 2, qty: 3 })))
    const missing = Line.findNow(db, { orderId: 7 } as never)()
    expect(E.isLeft(missing) && isDbError(missing.left, 'ValidationError')).toBe(true)
    await run(db.close())
  })

  it('inside a transaction reads through the transaction\'s handle, seeing its uncommitted rows', async () => {
    const db = await setUp()
    await run(db.transaction((tx) => async () => {
      await run(User.create(tx, { id: 5, name: 'Bo', active: false, createdAt: new Date(0), deletedAt: null }))
      const r = User.findNow(tx, 5)()
      expect(E.isRight(r) && O.isSome(r.right) && r.right.value.name).toBe('Bo')
      return E.right(undefined)
    }))
    expect(E.isRight(User.findNow(db, 5)())).toBe(true)
    await run(db.close())
  })

  it('a closed backend is a Left, not a throw', async () => {
    const db = await setUp()
    await run(db.close())
    const r = User.findNow(db, 1)()
    expect(E.isLeft(r) && r.left._tag).toBe('ConnectionError')
  })
})

describe('Model.findNow on a backend without a synchronous path', () => {
  it('is a ConnectionError saying to use find', async (ctx) => {
    if (!(await serverAvailable('postgres'))) return ctx.skip()
    const db = await run(createBackend({ engine: 'postgres', url: PG_URL, max: 1 }))
    try {
      const r = User.findNow(db, 1)()
      expect(E.isLeft(r) && r.left._tag).toBe('ConnectionError')
      expect(E.isLeft(r) && r.left.message).toMatch(/use find/)
    } finally {
      await run(db.close())
    }
  })
})

describe('the Promise face of the newer model functions', () => {
  it('findNow, findMany, findOrCreate, sole, takeFirst, takeLast and pluckMany resolve to plain values', async () => {
    const { promisedModel } = await import('recordkit/model')
    const db = await setUp()
    const Users = promisedModel(User)
    for (const [id, name] of [[1, 'Ada'], [2, 'Bo'], [3, 'Cy']] as const) await Users.create(db, { id, name, active: true, createdAt: new Date(0), deletedAt: null })
    expect(Users.findNow(db, 2)?.name).toBe('Bo')
    expect(Users.findNow(db, 9)).toBeUndefined()
    expect((await Users.findMany(db, [3, 1])).map((u) => u.name)).toEqual(['Cy', 'Ada'])
    const made = await Users.findOrCreate(db, { id: 4, name: 'Di' }, { active: false, createdAt: new Date(0), deletedAt: null })
    expect([made.created, made.row.name]).toEqual([true, 'Di'])
    expect((await Users.findOrCreate(db, { id: 4, name: 'Di' })).created).toBe(false)
    const q = User.orderBy('id')(User.query)
    expect((await Users.sole(db)(User.where('id', '=', 2)(User.query))).name).toBe('Bo')
    await expect(Users.sole(db)(q)).rejects.toMatchObject({ _tag: 'QueryError' })
    expect((await Users.takeFirst(db, 2)(q)).map((u) => u.id)).toEqual([1, 2])
    expect((await Users.takeLast(db, 2)(q)).map((u) => u.id)).toEqual([3, 4])
    expect(await Users.pluckMany(db, 'id', 'name')(q)).toEqual([[1, 'Ada'], [2, 'Bo'], [3, 'Cy'], [4, 'Di']])
    await run(db.close())
    expect(() => Users.findNow(db, 1)).toThrow(/closed/)
  })
})
