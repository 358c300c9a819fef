/**
 * What a caller is told is what happened, on any backend: an acknowledged write is never undone
 * by someone else's rollback, a transaction handle does nothing once its transaction ended, a
 * batch has settled when it answers, and a closed backend refuses work instead of reopening.
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as E from 'fp-ts/lib/Either.js'
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import { describe, expect, it } from '../vitest.js'
import { type Backend, wrap } from '../../compose.js'
import { supports } from '../../dialect.js'
import { dbError, type DbError } from '../../errors.js'
import { as, count, from, insertInto, select, values, where } from '../../query.js'
import { fails, ok, typesOf, useBackend } from '../harness.js'
import type { CaseGroup } from '../target.js'

const TABLE = 'cf_rel'
const insert = (db: Backend, label: string) => db.execute(pipe(insertInto(TABLE), values({ label })))
const total = async (db: Backend): Promise<number> => Number((await ok(db.all(pipe(from(TABLE), select(as(count(), 'n'))))))[0].n)
const has = async (db: Backend, label: string): Promise<boolean> => (await ok(db.all(pipe(from(TABLE), where({ label }))))).length > 0

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const abort = (why: string): E.Either<DbError, never> => E.left(dbError('TransactionError', why))
const task = <A>(f: () => Promise<E.Either<DbError, A>>): TaskEither<DbError, A> => f

export const reliabilityCases: CaseGroup = (target) => {
  describe(`${target.name}: acknowledged work stays done`, () => {
    const db = useBackend(target, (t) => ({ [TABLE]: `id ${t.id}, label ${t.varchar(50)} NOT NULL UNIQUE` }))

    it('a statement on the outer transaction while a savepoint is open is not undone by that savepoint', async (ctx) => {
      if (!supports(db().dialect, 'savepoint')) ctx.skip()
      const outcome = await ok(db().transaction((tx) => task(async () => {
        const [inner, outer] = await Promise.all([
          tx.transaction((sp) => task(async () => {
            await ok(insert(sp, 'sp-undone'))
            await sleep(30)
            return abort('the savepoint fails after the outer statement was acknowledged')
          }))(),
          // Started once the savepoint is open.
          sleep(10).then(() => insert(tx, 'outer-acknowledged')()),
        ])
        return E.right({ inner, outer })
      })))
      expect(E.isLeft(outcome.inner)).toBe(true)
      expect(E.isRight(outcome.outer)).toBe(true)
      expect(await has(db(), 'outer-acknowledged')).toBe(true)
      expect(await has(db(), 'sp-undone')).toBe(false)
    })

    it('statements started on the outer transaction run after the savepoint they raced, in call order', async (ctx) => {
      if (!supports(db().dialect, 'savepoint')) ctx.skip()
      const seen: string[] = []
      await ok(db().transaction((tx) => task(async () => {
        const sp = tx.transaction((inner) => task(async () => {
          await ok(insert(inner, 'order-sp'))
          await sleep(20)
          seen.push('savepoint body done')
          return E.right(undefined)
        }))()
        const outer = sleep(5).then(() => insert(tx, 'order-outer')()).then((r) => { seen.push('outer statement done'); return r })
        await Promise.all([sp, outer])
        return E.right(undefined)
      })))
      expect(seen).toEqual(['savepoint body done', 'outer statement done'])
      expect(await has(db(), 'order-sp')).toBe(true)
      expect(await has(db(), 'order-outer')).toBe(true)
    })

    it('a transaction handle used after commit fails with TransactionError and writes nothing', async () => {
      let kept: Backend | undefined
      await ok(db().transaction((tx) => {
        kept = tx
        return insert(tx, 'in-committed')
      }))
      expect(kept!.inTransaction()).toBe(false)
      const late = await fails(insert(kept!, 'after-commit'))
      expect(late._tag).toBe('TransactionError')
      expect((await fails(kept!.all(pipe(from(TABLE), select('label')))))._tag).toBe('TransactionError')
      expect((await fails(kept!.transaction((t) => insert(t, 'nested-after-commit'))))._tag).toBe('TransactionError')
      expect(await has(db(), 'after-commit')).toBe(false)
      expect(await has(db(), 'nested-after-commit')).toBe(false)
      expect(await has(db(), 'in-committed')).toBe(true)
    })

    it('a transaction handle used after rollback fails with TransactionError and writes nothing', async () => {
      let kept: Backend | undefined
      const r = await db().transaction((tx) => {
        kept = tx
        return task(async () => {
          await ok(insert(tx, 'rolled-back'))
          return abort('roll back on purpose')
        })
      })()
      expect(E.isLeft(r)).toBe(true)
      expect((await fails(insert(kept!, 'after-rollback')))._tag).toBe('TransactionError')
      expect(await has(db(), 'after-rollback')).toBe(false)
      expect(await has(db(), 'rolled-back')).toBe(false)
    })

    it('a savepoint handle used after its savepoint ended fails with TransactionError', async (ctx) => {
      if (!supports(db().dialect, 'savepoint')) ctx.skip()
      const late = await ok(db().transaction((tx) => task(async () => {
        let inner: Backend | undefined
        await ok(tx.transaction((sp) => {
          inner = sp
          return insert(sp, 'in-savepoint')
        }))
        return E.right(await insert(inner!, 'after-savepoint')())
      })))
      expect(E.isLeft(late) && late.left._tag).toBe('TransactionError')
      expect(await has(db(), 'after-savepoint')).toBe(false)
      expect(await has(db(), 'in-savepoint')).toBe(true)
    })

    it('a callback that outlives its transaction is refused, not run outside it', async () => {
      let later: Promise<E.Either<DbError, unknown>> | undefined
      let ended!: () => void
      const afterEnd = new Promise<void>((r) => { ended = r })
      await ok(db().transaction((tx) => {
        // Scheduled inside, runs once the transaction has ended: through the outer backend.
        later = afterEnd.then(() => insert(db(), 'outlived')())
        return insert(tx, 'before-outliving')
      }))
      ended()
      const r = await later!
      expect(E.isLeft(r) && r.left._tag).toBe('TransactionError')
      expect(await has(db(), 'outlived')).toBe(false)
    })

    it('a statement started in the transaction and not awaited runs inside it, or is refused', async () => {
      let pending: Promise<E.Either<DbError, unknown>> | undefined
      await ok(db().transaction((tx) => task(async () => {
        pending = insert(tx, 'not-awaited')()
        return E.right(undefined)
      })))
      // Whatever the interleaving, the statement ran inside the transaction (and is committed)
      // or was refused: it never runs outside it, after it.
      const r = await pending!
      expect(await has(db(), 'not-awaited')).toBe(E.isRight(r))
    })

    it('executeBatch answers only when every run it sent has settled, and a batch of writes that fails leaves nothing of it', async () => {
      await ok(insert(db(), 'batch-taken'))
      let started = 0
      let settled = 0
      const counted = wrap(db(), {
        execute: (next) => (q) => () => {
          started++
          return next(q)().finally(() => { settled++ })
        },
      })
      const sets = Array.from({ length: 300 }, (_, i) => [i === 3 ? 'batch-taken' : `batch-${i}`])
      const r = await counted.executeBatch(pipe(insertInto(TABLE), values({ label: 'x' })), sets)()
      expect(E.isLeft(r) && r.left._tag).toBe('UniqueViolation')
      expect(settled).toBe(started)
      expect(await has(db(), 'batch-0')).toBe(false)
      expect(await has(db(), 'batch-299')).toBe(false)
      const right = await total(db())
      await sleep(30)
      expect(await total(db())).toBe(right)
    })
  })

  describe(`${target.name}: close`, () => {
    // Created on the shared database of a server engine; a backend of an embedded engine creates its own.
    useBackend(target, (t) => ({ cf_rel_close: `label ${t.varchar(20)}` }))
    const CLOSE_TABLE = (db: Backend) => ({ sql: `CREATE TABLE IF NOT EXISTS cf_rel_close (label ${typesOf(target, db).varchar(20)})`, params: [] })

    it('refuses new work with ConnectionError once closed, and never reopens', async () => {
      const db = await target.connect()
      await ok(db.all({ sql: 'SELECT 1 AS one', params: [] }))
      await ok(db.close())
      for (const attempt of [db.execute({ sql: 'SELECT 1 AS one', params: [] }), db.transaction((tx) => tx.execute({ sql: 'SELECT 1', params: [] }))]) {
        const e = await fails(attempt)
        expect(e._tag).toBe('ConnectionError')
        expect(e.code).toBe('BACKEND_CLOSED')
      }
      await ok(db.close())
    })

    it('lets an open transaction finish and commit, refusing work outside it meanwhile', async () => {
      const db = await target.connect()
      await ok(db.execute(CLOSE_TABLE(db)))
      await ok(db.execute({ sql: 'DELETE FROM cf_rel_close', params: [] }))
      const inside: string[] = []
      const tx = db.transaction((t) => task(async () => {
        await ok(t.execute(pipe(insertInto('cf_rel_close'), values({ label: 'first' }))))
        await sleep(60)
        await ok(t.execute(pipe(insertInto('cf_rel_close'), values({ label: 'second' }))))
        inside.push(...(await ok(t.all(pipe(from('cf_rel_close'), select('label'))))).map((r) => String(r.label)))
        return E.right('committed')
      }))()
      await sleep(15)
      const closing = db.close()()
      const outside = await db.all(pipe(from('cf_rel_close'), select('label')))()
      expect(E.isLeft(outside) && outside.left.code).toBe('BACKEND_CLOSED')
      expect(await tx).toEqual(E.right('committed'))
      expect(await closing).toEqual(E.right(undefined))
      expect(inside.sort()).toEqual(['first', 'second'])
    })

    it('after its timeout, closes under a transaction that does not end: the transaction fails, nothing of it is committed', async () => {
      const db = await target.connect()
      let resolveRelease!: () => void
      const release = { promise: new Promise<void>((r) => { resolveRelease = r }), resolve: () => resolveRelease() }
      const tx = db.transaction((t) => task(async () => {
        await ok(t.execute({ sql: 'SELECT 1', params: [] }))
        await release.promise
        return t.execute({ sql: 'SELECT 1', params: [] })()
      }))()
      await sleep(15)
      expect(await db.close({ timeout: 50 })()).toEqual(E.right(undefined))
      release.resolve()
      const r = await tx
      expect(E.isLeft(r)).toBe(true)
    })

    it('refuses to close from inside one of its own transactions', async () => {
      const db = await target.connect()
      const r = await db.transaction((tx) => tx.close())()
      expect(E.isLeft(r) && r.left._tag).toBe('TransactionError')
      expect(await ok(db.all({ sql: 'SELECT 1 AS one', params: [] }))).toHaveLength(1)
      await ok(db.close())
    })
  })
}
