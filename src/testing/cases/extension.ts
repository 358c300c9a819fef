/**
 * The two promises of the design, on any backend: overriding one dialect function changes
 * every statement that uses it, and `wrap` sees every statement, transaction control included.
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from '../vitest.js'
import { type Backend, statementOf, wrap } from '../../compose.js'
import { type Dialect, supports } from '../../dialect.js'
import { dbError } from '../../errors.js'
import { deleteFrom, from, insertInto, limit, offset, orderBy, paginate, select, set, update, values, where } from '../../query.js'
import { extend } from '../../record.js'
import { fromParts, sql } from '../../sql.js'
import { ok, useBackend } from '../harness.js'
import type { CaseGroup } from '../target.js'

/** The same backend with its dialect replaced (backend functions compile through `self.dialect`). */
const withDialect = (db: Backend, f: (self: Dialect, base: Dialect) => Partial<Dialect>): Backend =>
  extend(db, () => ({ dialect: extend(db.dialect, f) }))

export const extensionCases: CaseGroup = (target) => {
  describe(`${target.name}: extend and wrap`, () => {
    const db = useBackend(target, (t) => ({ cf_ext: `id ${t.int} PRIMARY KEY, name ${t.varchar(50)} NOT NULL` }))

    it('an overridden limitOffset shows in SELECT, OFFSET-only and paginated queries, and runs', async () => {
      const marked = withDialect(db(), (_, base) => ({
        limitOffset: (l, o) => fromParts([base.limitOffset(l, o), ' /* paged */']),
      }))
      await ok(marked.execute(pipe(insertInto('cf_ext'), values([1, 2, 3, 4, 5].map((id) => ({ id, name: `n${id}` }))))))
      for (const q of [
        pipe(from('cf_ext'), orderBy('id'), limit(2)),
        pipe(from('cf_ext'), orderBy('id'), limit(2), offset(1)),
        pipe(from('cf_ext'), orderBy('id'), offset(3)),
        pipe(from('cf_ext'), orderBy('id'), paginate({ page: 2, perPage: 2 })),
      ]) {
        const c = marked.compile(q)
        expect(E.isRight(c) && c.right.sql.endsWith(' /* paged */')).toBe(true)
        expect((await ok(marked.all(q))).length).toBeGreaterThan(0)
      }
      const page2 = await ok(marked.all(pipe(from('cf_ext'), select('id'), orderBy('id'), paginate({ page: 2, perPage: 2 }))))
      expect(page2.map((r) => Number(r.id))).toEqual([3, 4])
      const plain = db().compile(pipe(from('cf_ext'), limit(2)))
      expect(E.isRight(plain) && plain.right.sql.includes('paged')).toBe(false)
    })

    it('an overridden quoteIdentifier shows in SELECT, INSERT, UPDATE, DELETE and raw sql.id, and runs', async () => {
      const seen: string[] = []
      const tracked = withDialect(db(), (_, base) => ({
        quoteIdentifier: (name) => { seen.push(name); return base.quoteIdentifier(name.toLowerCase()) },
      }))
      const statements = [
        pipe(insertInto('CF_EXT'), values({ ID: 10, NAME: 'ten' })),
        pipe(update('CF_EXT'), set({ NAME: 'TEN' }), where({ ID: 10 })),
        pipe(from('CF_EXT'), select('NAME'), where({ ID: 10 })),
        sql`SELECT ${sql.id('NAME')} FROM ${sql.id('CF_EXT')} WHERE ${sql.id('ID')} = ${10}`,
        pipe(deleteFrom('CF_EXT'), where({ ID: 10 })),
      ]
      const results = []
      for (const q of statements) {
        const c = tracked.compile(q)
        expect(E.isRight(c) && c.right.sql.includes(tracked.dialect.quoteIdentifier('cf_ext'))).toBe(true)
        results.push(await ok(tracked.execute(q)))
      }
      expect(results[2].rows).toEqual([{ name: 'TEN' }])
      expect(results[3].rows).toEqual([{ name: 'TEN' }])
      expect(results[4].rowsAffected).toBe(1)
      expect(seen).toEqual(expect.arrayContaining(['CF_EXT', 'NAME', 'ID']))
    })

    it('an overridden placeholder is used for every parameter', async () => {
      const d = db().dialect
      const calls: number[] = []
      const counted = withDialect(db(), (_, base) => ({ placeholder: (i) => { calls.push(i); return base.placeholder(i) } }))
      const rows = await ok(counted.all(pipe(from('cf_ext'), where({ id: 1, name: 'n1' }), limit(1))))
      expect(rows.length).toBe(1)
      expect(calls.slice(0, 2)).toEqual([1, 2])
      expect(d.placeholder(1)).toBe(counted.dialect.placeholder(1))
    })

    it('overridden savepoint and transaction statements are used by transaction()', async (ctx) => {
      if (!supports(db().dialect, 'savepoint')) ctx.skip()
      const log: string[] = []
      const base = wrap(db(), { execute: (next, self) => (q) => { log.push(statementOf(self, q).sql); return next(q) } })
      const named = extend(base, () => ({
        dialect: extend(base.dialect, (self, b) => ({ savepoint: (name) => b.savepoint(`custom_${name}`), releaseSavepoint: (name) => b.releaseSavepoint(`custom_${name}`), rollbackToSavepoint: (name) => b.rollbackToSavepoint(`custom_${name}`) })),
      }))
      await ok(named.transaction((tx) => tx.transaction(() => tx.all(pipe(from('cf_ext'), limit(1))))))
      expect(log.some((s) => s.startsWith('SAVEPOINT') && s.includes('custom_'))).toBe(true)
      expect(log.some((s) => s.startsWith('RELEASE SAVEPOINT') && s.includes('custom_'))).toBe(true)
    })

    it('wrap sees every statement, BEGIN/SAVEPOINT/ROLLBACK TO/RELEASE/COMMIT included, in order', async () => {
      const log: string[] = []
      const logged = wrap(db(), { execute: (next, self) => (q) => { log.push(statementOf(self, q).sql); return next(q) } })
      // Savepoints where the dialect has them; BEGIN, the statements and COMMIT everywhere.
      const savepoints = supports(logged.dialect, 'savepoint')
      await ok(logged.transaction((tx) => async () => {
        await ok(tx.all(pipe(from('cf_ext'), where({ id: 1 }))))
        if (savepoints) await tx.transaction(() => () => Promise.resolve(E.left(dbError('TransactionError', 'inner fails'))))()
        return E.right(undefined)
      }))
      const d = logged.dialect
      const begin = d.beginTransaction({})
      expect(log.slice(0, begin.length)).toEqual(begin)
      const rest = log.slice(begin.length)
      expect(rest[0]).toMatch(/^SELECT/)
      if (savepoints) {
        expect(rest[1]).toMatch(/^SAVEPOINT /)
        expect(rest[2]).toMatch(/^ROLLBACK TO SAVEPOINT /)
        expect(rest[3]).toMatch(/^RELEASE SAVEPOINT /)
      }
      expect(rest[savepoints ? 4 : 1]).toBe(d.commit())
      const rolled: string[] = []
      const r = wrap(db(), { execute: (next, self) => (q) => { rolled.push(statementOf(self, q).sql); return next(q) } })
      await r.transaction(() => () => Promise.resolve(E.left(dbError('TransactionError', 'outer fails'))))()
      expect(rolled[rolled.length - 1]).toBe(d.rollback())
    })

    it('wraps stack in order, the last applied running first', async () => {
      const order: string[] = []
      const inner = wrap(db(), { execute: (next) => (q) => { order.push('inner'); return next(q) } })
      const outer = wrap(inner, { execute: (next) => (q) => { order.push('outer'); return next(q) } })
      await ok(outer.all(pipe(from('cf_ext'), limit(1))))
      expect(order).toEqual(['outer', 'inner'])
    })

    it('wrap can change results and errors (a retry middleware)', async () => {
      let attempts = 0
      const flaky = wrap(db(), {
        execute: (next) => (q) => () => {
          attempts++
          return attempts === 1 ? Promise.resolve(E.left(dbError('SerializationFailure', 'simulated by the test middleware'))) : next(q)()
        },
      })
      const retried = wrap(flaky, {
        execute: (next) => (q) => async () => {
          const first = await next(q)()
          return E.isLeft(first) && first.left._tag === 'SerializationFailure' ? next(q)() : first
        },
      })
      const rows = await ok(retried.all(pipe(from('cf_ext'), where({ id: 1 }))))
      expect(rows.length).toBe(1)
      expect(attempts).toBe(2)
    })
  })
}
