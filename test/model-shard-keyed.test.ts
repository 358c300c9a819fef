/**
 * A model's `update`, `delete` (hard and soft) and `restore` by primary key on a sharded backend:
 * the row's shard-key field joins the key condition (`WHERE id = ? AND tenant = ?`), so the
 * router sends the write to the row's shard alone. The same id on another shard is left as it
 * is. A row without its shard-key value is refused as before, with nothing written. Run on
 * SQLite, PostgreSQL and MariaDB, two databases each as two shards.
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { extend, run, sql, type DbError } from 'recordkit'
import { unsupported } from 'recordkit/backend'
import { model, nullable, optimisticLock, softDelete, date } from 'recordkit/model'
import { shard, type ShardedBackend } from 'recordkit/scale-out'
import { ok } from 'recordkit/testing'
import { PAIR_ENGINES } from './scale-out/shard-engines.js'

const TABLE = 'rk_msk_orders'
const codec = t.type({ id: t.number, tenant: t.string, total: t.number, version: t.number, deletedAt: nullable(date) })
const Order = model({ table: TABLE, primaryKey: 'id', columns: { deletedAt: 'deleted_at' }, codec, behaviours: [optimisticLock(), softDelete()] })
const Plain = model({ table: TABLE, primaryKey: 'id', columns: { deletedAt: 'deleted_at' }, codec })
type Row = t.TypeOf<typeof codec>

/** acme on shard 0, globex on shard 1. */
const HOME: Record<string, number> = { acme: 0, globex: 1 }
/** Row 1 of acme on shard 0 and row 1 of globex on shard 1: one id on both shards. */
const SEED: Row[] = [
  { id: 1, tenant: 'acme', total: 10, version: 1, deletedAt: null },
  { id: 2, tenant: 'acme', total: 20, version: 1, deletedAt: null },
  { id: 1, tenant: 'globex', total: 30, version: 1, deletedAt: null },
]

const failure = async (te: () => Promise<{ _tag: string; left?: DbError }>): Promise<DbError> => {
  const r = await te()
  if (r._tag !== 'Left') throw new Error('expected a failure')
  return r.left!
}

for (const engine of PAIR_ENGINES) {
  describe(`${engine.name}: a model's writes by key on a sharded backend`, () => {
    let db: ShardedBackend | undefined
    const prefix = 'rk_msk'
    beforeAll(async () => {
      const parts = await engine.open(prefix)
      if (parts === undefined) return
      db = shard(parts, (table) => (table === TABLE ? 'tenant' : undefined), { route: (key) => HOME[String(key)] ?? 0 })
      const stamp = engine.name === 'postgres' ? 'timestamp(3)' : engine.name === 'mariadb' ? 'datetime(3)' : 'text'
      await run(db.execute(sql.raw(`CREATE TABLE ${TABLE} (id int PRIMARY KEY, tenant varchar(20) NOT NULL, total int NOT NULL, version int NOT NULL, deleted_at ${stamp} NULL)`)))
    })
    afterAll(async () => {
      if (db !== undefined) await run(db.close())
      await engine.drop(prefix)
    })
    beforeEach(async () => {
      if (db === undefined) return
      for (const s of db.shards) await run(s.execute(sql.raw(`DELETE FROM ${TABLE}`)))
      for (const row of SEED) await ok(Plain.create(db, row))
    })
    const use = (ctx: { skip: () => void }): ShardedBackend => {
      if (db === undefined) ctx.skip()
      return db!
    }
    /** Each shard's rows: [id, tenant, total, version, deleted]. */
    const byShard = async (d: ShardedBackend) => Promise.all(d.shards.map(async (s) =>
      (await ok(pipe(Plain.query, Plain.orderBy('id'), Plain.all(s)))).map((r) => [r.id, r.tenant, r.total, r.version, r.deletedAt !== null])))
    const seeded = [[[1, 'acme', 10, 1, false], [2, 'acme', 20, 1, false]], [[1, 'globex', 30, 1, false]]]

    it('update by key writes the row on its shard only and returns it as stored', async (ctx) => {
      const d = use(ctx)
      const updated = await ok(Order.update(d, SEED[0], { total: 11 }))
      expect(updated).toEqual({ ...SEED[0], total: 11, version: 2 })
      expect(await ok(Order.update(d, SEED[2], { total: 31 }))).toEqual({ ...SEED[2], total: 31, version: 2 })
      expect(await byShard(d)).toEqual([[[1, 'acme', 11, 2, false], [2, 'acme', 20, 1, false]], [[1, 'globex', 31, 2, false]]])
      // The version lock still holds: the stale row is a ConflictError, nothing written.
      expect((await failure(Order.update(d, SEED[0], { total: 12 })))._tag).toBe('ConflictError')
      expect((await byShard(d))[0][0]).toEqual([1, 'acme', 11, 2, false])
    })

    it('delete by key (hard and soft) and restore reach the row on its shard only', async (ctx) => {
      const d = use(ctx)
      const soft = await ok(Order.delete(d, SEED[2]))
      expect(soft.deletedAt).toBeInstanceOf(Date)
      expect(await byShard(d)).toEqual([seeded[0], [[1, 'globex', 30, 1, true]]])
      // A restore is an update: the lock's version goes up.
      const restored = await ok(Order.restore(d, soft))
      expect(restored).toEqual({ ...SEED[2], version: (SEED[2].version as number) + 1 })
      const afterRestore = [seeded[0], [[1, 'globex', 30, 2, false]]]
      expect(await byShard(d)).toEqual(afterRestore)
      await ok(Plain.delete(d, SEED[0]))
      expect(await byShard(d)).toEqual([[seeded[0][1]], afterRestore[1]])
      await ok(Order.delete(d, SEED[1], { force: true }))
      expect(await byShard(d)).toEqual([[], afterRestore[1]])
    })

    it('a row without its shard-key value is refused as before, and nothing is written', async (ctx) => {
      const d = use(ctx)
      const keyless = { ...SEED[0], tenant: undefined } as unknown as Row
      for (const e of [
        await failure(Plain.update(d, keyless, { total: 99 })),
        await failure(Plain.delete(d, keyless)),
        await failure(Order.delete(d, keyless)),
        await failure(Order.restore(d, keyless)),
      ]) {
        expect(e._tag).toBe('UnsupportedFeature')
        expect(e.message).toMatch(/shard key/)
      }
      expect(await byShard(d)).toEqual(seeded)
      // A patch that changes the key is refused too (the row would stay on its old key's shard).
      expect((await failure(Plain.update(d, SEED[0], { tenant: 'globex' })))._tag).toBe('UnsupportedFeature')
      expect(await byShard(d)).toEqual(seeded)
    })

    it('the rows a write reads back are its own shard\'s, where another shard has the same id', async (ctx) => {
      const d = use(ctx)
      // Id 5 on shard 0 first, then on shard 1: the read of the stored rows must find shard 1's.
      await ok(Plain.create(d, { id: 5, tenant: 'acme', total: 50, version: 1, deletedAt: null }))
      expect(await ok(Plain.create(d, { id: 5, tenant: 'globex', total: 51, version: 1, deletedAt: null }))).toEqual({ id: 5, tenant: 'globex', total: 51, version: 1, deletedAt: null })
      // And the other way round (a scattered read by id alone puts shard 1's row last).
      await ok(Plain.create(d, { id: 6, tenant: 'globex', total: 60, version: 1, deletedAt: null }))
      expect(await ok(Plain.create(d, { id: 6, tenant: 'acme', total: 61, version: 1, deletedAt: null }))).toEqual({ id: 6, tenant: 'acme', total: 61, version: 1, deletedAt: null })
      // Where INSERT has no RETURNING (MySQL 8), the row is read back by key after the insert.
      const bare = shard(d.shards.map((b) => extend(b, (_, base) => ({ dialect: extend(base.dialect, () => ({ insertReturning: unsupported('test', 'RETURNING') })) }))),
        (table) => (table === TABLE ? 'tenant' : undefined), { route: (key) => HOME[String(key)] ?? 0 })
      await ok(Plain.create(bare, { id: 7, tenant: 'globex', total: 70, version: 1, deletedAt: null }))
      expect(await ok(Plain.create(bare, { id: 7, tenant: 'acme', total: 71, version: 1, deletedAt: null }))).toEqual({ id: 7, tenant: 'acme', total: 71, version: 1, deletedAt: null })
      // refresh reads the row's own shard.
      expect(await ok(Plain.refresh(d, { ...SEED[0], total: 0 }))).toEqual(SEED[0])
      expect(await ok(Plain.refresh(d, { ...SEED[2], total: 0 }))).toEqual(SEED[2])
      // An upsert that does nothing on conflict reads the row it met.
      expect(await ok(Plain.upsert(d, { id: 1, tenant: 'globex', total: 0, version: 1, deletedAt: null }, { update: [] }))).toEqual(SEED[2])
      expect(await ok(Plain.upsert(d, { id: 1, tenant: 'acme', total: 0, version: 1, deletedAt: null }, { update: [] }))).toEqual(SEED[0])
    })

    it('forKey and a shard\'s transaction take the key condition as well', async (ctx) => {
      const d = use(ctx)
      expect(await ok(Plain.update(d.forKey('acme'), SEED[1], { total: 21 }))).toEqual({ ...SEED[1], total: 21 })
      await ok(d.forKey('globex').transaction((tx) => Plain.update(tx, SEED[2], { total: 32 })))
      expect(await byShard(d)).toEqual([[seeded[0][0], [2, 'acme', 21, 1, false]], [[1, 'globex', 32, 1, false]]])
    })
  })
}
