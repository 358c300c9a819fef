/**
 * Transactions and savepoints, on any backend.
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as E from 'fp-ts/lib/Either.js'
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import { describe, expect, it } from '../vitest.js'
import type { Backend } from '../../compose.js'
import { supports } from '../../dialect.js'
import { dbError, isDbError, type DbError } from '../../errors.js'
import { as, count, deleteFrom, from, insertInto, select, values, where } from '../../query.js'
import { ok, useBackend } from '../harness.js'
import type { CaseGroup } from '../target.js'

const insert = (db: Backend, label: string) => db.execute(pipe(insertInto('cf_tx'), values({ label })))
const labels = async (db: Backend): Promise<string[]> =>
  (await ok(db.all(pipe(from('cf_tx'), select('label'))))).map((r) => String(r.label)).sort()
const total = async (db: Backend): Promise<number> => Number((await ok(db.all(pipe(from('cf_tx'), select(as(count(), 'n'))))))[0].n)

/** Sequence TaskEithers, stopping at the first failure. */
const seq = (...steps: readonly TaskEither<DbError, unknown>[]): TaskEither<DbError, void> => async () => {
  for (const s of steps) {
    const r = await s()
    if (E.isLeft(r)) return r
  }
  return E.right(undefined)
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export const transactionCases: CaseGroup = (target) => {
  describe(`${target.name}: transactions and savepoints`, () => {
    const db = useBackend(target, (t) => ({ cf_tx: `id ${t.id}, label ${t.varchar(50)} NOT NULL UNIQUE` }))

    it('commits what the callback did', async () => {
      await ok(db().transaction((tx) => seq(insert(tx, 'c1'), insert(tx, 'c2'))))
      expect(await labels(db())).toEqual(['c1', 'c2'])
    })

    it('rolls back on failure and returns the original error', async () => {
      const r = await db().transaction((tx) => seq(insert(tx, 'r1'), insert(tx, 'c1')))()
      expect(E.isLeft(r) && r.left._tag).toBe('UniqueViolation')
      expect(await labels(db())).toEqual(['c1', 'c2'])
    })

    it('rolls back when the callback throws, surfacing the thrown error as the cause', async () => {
      const boom = new Error('boom')
      const r = await db().transaction((tx) => async () => {
        await ok(insert(tx, 't1'))
        throw boom
      })()
      expect(E.isLeft(r)).toBe(true)
      if (E.isLeft(r)) expect(r.left.cause).toBe(boom)
      expect(await labels(db())).toEqual(['c1', 'c2'])
    })

    it('refuses a nested transaction with UnsupportedFeature where the dialect has no savepoints', async (ctx) => {
      if (supports(db().dialect, 'savepoint')) ctx.skip()
      const nested = await ok(db().transaction((tx) => async () => {
        await ok(insert(tx, 'around'))
        const r = await tx.transaction((t2) => insert(t2, 'nested'))()
        return E.right(r)
      }))
      expect(E.isLeft(nested) && nested.left._tag).toBe('UnsupportedFeature')
      const after = await labels(db())
      expect(after).toContain('around')
      expect(after).not.toContain('nested')
      await ok(db().execute(pipe(deleteFrom('cf_tx'), where({ label: 'around' }))))
    })

    it('rolls back a failed nested savepoint and keeps the outer work', async (ctx) => {
      if (!supports(db().dialect, 'savepoint')) ctx.skip()
      const inner = await ok(db().transaction((tx) => async () => {
        await ok(insert(tx, 'outer'))
        const nested = await tx.transaction((t2) => seq(insert(t2, 'inner'), insert(t2, 'c1')))()
        await ok(insert(tx, 'after'))
        return E.right(nested)
      }))
      expect(E.isLeft(inner) && inner.left._tag).toBe('UniqueViolation')
      expect(await labels(db())).toEqual(['after', 'c1', 'c2', 'outer'])
    })

    it('keeps a successful savepoint, and loses it when the outer transaction fails', async (ctx) => {
      if (!supports(db().dialect, 'savepoint')) ctx.skip()
      const r = await db().transaction((tx) => async () => {
        await ok(tx.transaction((t2) => insert(t2, 'deep')))
        return E.left(dbError('TransactionError', 'abort on purpose'))
      })()
      expect(E.isLeft(r)).toBe(true)
      expect(await labels(db())).not.toContain('deep')
      await ok(db().transaction((tx) => tx.transaction((t2) => tx.transaction(() => insert(t2, 'three-deep')))))
      expect(await labels(db())).toContain('three-deep')
    })

    it('runs queries through the outer backend on the transaction connection', async () => {
      const outer = db()
      await ok(outer.transaction(() => async () => {
        await ok(insert(outer, 'via-outer'))
        expect(outer.inTransaction()).toBe(true)
        expect(await labels(outer)).toContain('via-outer')
        return E.left(dbError('TransactionError', 'roll back'))
      })).catch((e) => expect(isDbError(e, 'TransactionError')).toBe(true))
      expect(await labels(outer)).not.toContain('via-outer')
    })

    it('keeps two concurrent transactions apart', async () => {
      const before = await total(db())
      const a = db().transaction((tx) => async () => {
        await ok(insert(tx, 'a1'))
        await sleep(20)
        await ok(insert(tx, 'a2'))
        return E.left(dbError('TransactionError', 'a rolls back'))
      })()
      const b = db().transaction((tx) => async () => {
        await ok(insert(tx, 'b1'))
        await sleep(5)
        await ok(insert(tx, 'b2'))
        return E.right('b')
      })()
      const [ra, rb] = await Promise.all([a, b])
      expect(E.isLeft(ra)).toBe(true)
      expect(rb).toEqual(E.right('b'))
      const after = await labels(db())
      expect(after).toContain('b1')
      expect(after).toContain('b2')
      expect(after).not.toContain('a1')
      expect(after.length).toBe(before + 2)
    })

    it('accepts isolation levels, refusing before BEGIN only those the engine lacks', async () => {
      let accepted = 0
      for (const isolation of ['read committed', 'repeatable read', 'serializable'] as const) {
        const r = await db().transaction((tx) => tx.all(pipe(from('cf_tx'), select(as(count(), 'n')))), { isolation })()
        if (E.isLeft(r)) {
          // Refused by the dialect, with UnsupportedFeature, so nothing was sent.
          expect(r.left._tag).toBe('UnsupportedFeature')
          expect(() => db().dialect.beginTransaction({ isolation })).toThrow()
          continue
        }
        accepted++
        expect(Number(r.right[0].n)).toBeGreaterThan(0)
      }
      expect(accepted).toBeGreaterThan(0)
    })

    it('refuses isolation settings on a nested transaction', async () => {
      const r = await db().transaction((tx) => tx.transaction(() => insert(tx, 'x'), { isolation: 'serializable' }))()
      expect(E.isLeft(r) && r.left._tag).toBe('TransactionError')
    })

    it('rejects writes in a read-only transaction, or says it has none', async () => {
      const r = await db().transaction((tx) => insert(tx, 'ro'), { readOnly: true })()
      expect(E.isLeft(r)).toBe(true)
      if (E.isLeft(r)) expect(['QueryError', 'UnsupportedFeature', 'TransactionError']).toContain(r.left._tag)
      expect(await labels(db())).not.toContain('ro')
    })

    it('controlled transactions: commit keeps, rollback discards, and the ended handle refuses', async () => {
      const kept = await ok(db().startTransaction())
      await ok(insert(kept, 'ct1'))
      await ok(kept.commit())
      const dropped = await ok(db().startTransaction())
      await ok(insert(dropped, 'ct2'))
      await ok(dropped.rollback())
      const after = await labels(db())
      expect(after).toContain('ct1')
      expect(after).not.toContain('ct2')
      const late = await insert(kept, 'ct3')()
      expect(E.isLeft(late) && late.left._tag).toBe('TransactionError')
    })

    it('controlled savepoints: a rolled-back savepoint undoes only its own work', async (ctx) => {
      if (!supports(db().dialect, 'savepoint')) ctx.skip()
      const tx = await ok(db().startTransaction())
      await ok(insert(tx, 'cs1'))
      const sp = await ok(tx.savepoint('cf_sp'))
      await ok(insert(sp, 'cs2'))
      await ok(sp.rollback())
      await ok(tx.savepoint('cf_named', (inner) => insert(inner, 'cs3')))
      await ok(tx.commit())
      const after = await labels(db())
      expect(after).toContain('cs1')
      expect(after).not.toContain('cs2')
      expect(after).toContain('cs3')
    })

    it('leaves nothing behind when a multi-row insert fails', async () => {
      const before = await labels(db())
      const r = await db().execute(pipe(insertInto('cf_tx'), values([{ label: 'm1' }, { label: 'm2' }, { label: 'c1' }])))()
      expect(E.isLeft(r) && r.left._tag).toBe('UniqueViolation')
      expect(await labels(db())).toEqual(before)
      expect(await ok(db().all(pipe(from('cf_tx'), where({ label: 'm1' }))))).toEqual([])
    })
  })
}
