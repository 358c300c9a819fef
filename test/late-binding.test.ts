/**
 * Every dialect function that another function uses can be overridden through `extend`, and
 * the override shows in each statement that uses it. One row per function: the override
 * adds a marker to what the base renders; the statements listed must all carry the marker.
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import {
  as, col, compose, count, deleteFrom, distinct, eq, exists, extend, extension, from, fromParts, insertInto, isIn, join, limit, offset, onConflict, orderBy,
  paginate, param, returning, run, select, set, sql, statementOf, subquery, update, values, where, wrap, type Compilable, type Dialect,
  type Fragment,
} from '../src/index.js'
import { sqlite } from '../src/dialects/sqlite.js'
import { betterSqlite3 } from '../src/drivers/better-sqlite3.js'

const mark = (name: string) => (f: Fragment): Fragment => fromParts([`/*${name}*/`, f])

type FragmentFields = {
  [K in keyof Dialect]: Dialect[K] extends (...args: never[]) => Fragment ? K : never
}[keyof Dialect]

/** Wrap one fragment-producing field so its output carries a marker. */
/** SQLite with one extension expression, `myext()`, so the `extension` field has something to render. */
const withExtension: Dialect = extend(sqlite, () => ({ extension: (e) => fromParts([`${e.name}()`]) }))

const marked = (field: FragmentFields): Dialect =>
  extend(withExtension, (_, base) => ({
    [field]: (...args: unknown[]) => mark(field)((base[field] as (...a: unknown[]) => Fragment)(...args)),
  }) as Partial<Dialect>)

const sub = pipe(from('p'), select('a'), where(eq('p.a', col('t.a'))))

const uses: Readonly<Record<FragmentFields, readonly Compilable[]>> = {
  expr: [pipe(from('t'), where({ a: 1 })), pipe(update('t'), set({ a: 1 })), pipe(insertInto('t'), values({ a: 1 }))],
  binary: [pipe(from('t'), where({ a: 1 })), pipe(update('t'), set({ a: 1 }), where({ b: 2 })), pipe(deleteFrom('t'), where({ b: 2 }))],
  func: [pipe(from('t'), select(as(count(), 'n'))), pipe(from('t'), orderBy(count()))],
  param: [pipe(from('t'), where(eq('a', param('a')))), pipe(update('t'), set({ a: param('a') }))],
  excluded: [pipe(insertInto('t'), values({ a: 1 }), onConflict(['a'], ['b']))],
  selection: [pipe(from('t'), select('a')), pipe(insertInto('t'), values({ a: 1 }), returning('a')), pipe(deleteFrom('t'), returning('a'))],
  fromItem: [pipe(from('t')), pipe(insertInto('t'), values({ a: 1 })), pipe(update('t'), set({ a: 1 })), pipe(deleteFrom('t')), pipe(from('t'), join('u', ['u.a', 't.a']))],
  join: [pipe(from('t'), join('u', ['u.a', 't.a']))],
  orderItem: [pipe(from('t'), orderBy('a'))],
  limitOffset: [pipe(from('t'), limit(1)), pipe(from('t'), offset(1)), pipe(from('t'), paginate({ page: 2, perPage: 5 })), pipe(from('t'), where(isIn('a', pipe(from('u'), select('a'), limit(3)))))],
  returning: [pipe(insertInto('t'), values({ a: 1 }), returning('a')), pipe(update('t'), set({ a: 1 }), returning('a')), pipe(deleteFrom('t'), returning('a'))],
  insertReturning: [pipe(insertInto('t'), values({ a: 1 }), returning('a'))],
  updateReturning: [pipe(update('t'), set({ a: 1 }), returning('a'))],
  deleteReturning: [pipe(deleteFrom('t'), returning('a'))],
  insertValues: [pipe(insertInto('t'), values({ a: 1 })), pipe(insertInto('t'), values([{ a: 1 }, { a: 2 }]), onConflict(['a'], 'nothing'))],
  upsert: [pipe(insertInto('t'), values({ a: 1 }), onConflict(['a'], 'nothing')), pipe(insertInto('t'), values({ a: 1 }), onConflict(['a'], ['b']))],
  compileSelect: [pipe(from('t')), pipe(from('t'), where(exists(sub))), pipe(from('t'), select(as(subquery(sub), 's'))), pipe(from('t'), where(isIn('a', sub)))],
  compileInsert: [pipe(insertInto('t'), values({ a: 1 }))],
  compileUpdate: [pipe(update('t'), set({ a: 1 }))],
  compileDelete: [pipe(deleteFrom('t'))],
  statement: [pipe(from('t')), pipe(insertInto('t'), values({ a: 1 })), sql`SELECT 1`],
  extension: [pipe(from('t'), where(extension('myext', []))), pipe(from('t'), select(as(extension('myext', ['a']), 'x')))],
  selectClause: [pipe(from('t')), pipe(from('t'), where(exists(sub))), pipe(from('t'), distinct)],
}

describe('late binding: every fragment-producing dialect function is overridable', () => {
  for (const [field, statements] of Object.entries(uses) as [FragmentFields, readonly Compilable[]][]) {
    it(`${field} override appears in every statement that uses it`, () => {
      const d = marked(field)
      for (const q of statements) {
        const c = d.compile(q)
        if (E.isLeft(c)) throw c.left
        expect(c.right.sql, JSON.stringify(q)).toContain(`/*${field}*/`)
      }
      const plain = sqlite.compile(statements[0])
      expect(E.isRight(plain) && plain.right.sql.includes(`/*${field}*/`)).toBe(false)
    })
  }

  it('quoteIdentifier, placeholder and toDriver (string-level functions) reach every statement', () => {
    const d = extend(sqlite, (_, base) => ({
      quoteIdentifier: (n: string) => base.quoteIdentifier(`x_${n}`),
      placeholder: (i: number) => `:p${i}`,
      toDriver: (v: unknown) => (typeof v === 'number' ? v * 10 : base.toDriver(v)),
    }))
    const c = d.compile(pipe(from('t'), select('a'), where(eq('b', 2)), limit(3)))
    expect(c).toEqual(E.right({ sql: 'SELECT "x_a" FROM "x_t" WHERE "x_b" = :p1 LIMIT :p2', params: [20, 30] }))
    const i = d.compile(pipe(insertInto('t'), values({ a: 1 }), onConflict(['a'], ['a']), returning('a')))
    expect(E.isRight(i) && i.right.sql).toBe('INSERT INTO "x_t" ("x_a") VALUES (:p1) ON CONFLICT ("x_a") DO UPDATE SET "x_a" = EXCLUDED."x_a" RETURNING "x_a"')
    expect(d.savepoint('s')).toBe('SAVEPOINT "x_s"')
  })

  it('the backend uses beginTransaction, commit, rollback and the savepoint functions of its dialect', async () => {
    const log: string[] = []
    const base = compose(betterSqlite3({ filename: ':memory:' }), sqlite)
    const custom = extend(base, () => ({
      dialect: extend(base.dialect, (_, b) => ({
        beginTransaction: () => ['BEGIN DEFERRED'],
        commit: () => 'END',
        rollback: () => 'ROLLBACK TRANSACTION',
        savepoint: (n: string) => b.savepoint(`my_${n}`),
        releaseSavepoint: (n: string) => b.releaseSavepoint(`my_${n}`),
        rollbackToSavepoint: (n: string) => b.rollbackToSavepoint(`my_${n}`),
      })),
    }))
    const db = wrap(custom, { execute: (next, self) => (q) => { log.push(statementOf(self, q).sql); return next(q) } })
    await run(db.transaction((tx) => tx.transaction(() => tx.execute(sql`SELECT 1`))))
    await db.transaction(() => () => Promise.resolve(E.left({ _tag: 'TransactionError' } as never)))()
    expect(log).toEqual([
      'BEGIN DEFERRED', 'SAVEPOINT "my_rk_sp_1_1"', 'SELECT 1', 'RELEASE SAVEPOINT "my_rk_sp_1_1"', 'END',
      'BEGIN DEFERRED', 'ROLLBACK TRANSACTION',
    ])
  })

  it('executeBatch runs through execute (middleware sees every run) with the dialect adapting each value', async () => {
    const seen: unknown[][] = []
    const base = compose(betterSqlite3({ filename: ':memory:' }), sqlite)
    const db = wrap(base, { execute: (next, self) => (q) => { seen.push([...statementOf(self, q).params]); return next(q) } })
    await run(db.execute(sql`CREATE TABLE t (a INTEGER, b TEXT)`))
    seen.length = 0
    const results = await run(db.executeBatch(pipe(insertInto('t'), values({ a: param('a'), b: param('b') })), [[1, true], [2, new Date(0)]]))
    expect(results.map((r) => r.rowsAffected)).toEqual([1, 1])
    expect(seen).toEqual([[1, 1], [2, '1970-01-01T00:00:00.000Z']])
  })
})
