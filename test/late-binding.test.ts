/**
 * Every dialect function that another function uses can be overridden through `extend`, and
 * the override shows in each statement that uses it. One row per function: the override
 * adds a marker to what the base renders; the statements listed must all carry the marker.
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import {
  compose, extend, fromParts, run, sql, statementOf, wrap, type Compilable, type Dialect, type Fragment, supports,
} from 'recordkit'
import {
  as, col, count, deleteFrom, distinct, eq, exists, extension, from, insertInto, isIn, join, limit, offset, onConflict, orderBy, paginate, param, returning, select, set, subquery, update, values, where, caseWhen, caseOf, cast, dateAdd, dateTrunc, extract, jsonGet, jsonText, jsonContains, filterWhere, over, rank, sum, rows, groups, preceding, window, derived, lateral, crossJoin, leftJoin, using, cte, withCte, withRecursive, fromSelect, groupByRollup, mergeInto, mergeUsing, whenMatched, collate, withinGroup, limitWithTies, jsonBuildObject, jsonArrayFrom, jsonObjectFrom, valuesTable, distinctOn, orIgnore, orReplace, updateFrom, deleteUsing, isDistinctFrom, isNotDistinctFrom, tupleIn, tuple, all, any, stringAgg, aggregate, fn, forUpdate, forShare, rightJoin, fullJoin, union, unionAll, intersect, intersectAll, except, exceptAll, explain, gt, desc, val,
} from 'recordkit/query'
import { sqlite } from 'recordkit/dialects/sqlite'
import { standard } from 'recordkit/dialects/standard'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'
import type { DdlDialect } from 'recordkit/schema'

const mark = (name: string) => (f: Fragment): Fragment => fromParts([`/*${name}*/`, f])

// The DDL fields have their own late-binding test (schema-late-binding.test.ts).
type FragmentFields = {
  [K in Exclude<keyof Dialect, keyof DdlDialect>]: Dialect[K] extends (...args: never[]) => Fragment ? K : never
}[Exclude<keyof Dialect, keyof DdlDialect>]

/** SQLite with one extension expression, `myext()`, so the `extension` field has something to render. */
const withExtension: Dialect = extend(sqlite, () => ({ extension: (e) => fromParts([`${e.name}()`]) }))
/** The same on the standard dialect, for what SQLite lacks. */
const standardWithExtension: Dialect = extend(standard, () => ({ extension: (e) => fromParts([`${e.name}()`]) }))

/** The dialect a field is shown on: SQLite, or the standard dialect for what SQLite lacks. */
const baseFor = (field: FragmentFields): Dialect => (supports(withExtension, field) ? withExtension : standardWithExtension)

/** Wrap one fragment-producing field so its output carries a marker. */
const marked = (field: FragmentFields): Dialect =>
  extend(baseFor(field), (_, base) => ({
    [field]: (...args: unknown[]) => mark(field)((base[field] as (...a: unknown[]) => Fragment)(...args)),
  }) as Partial<Dialect>)

const sub = pipe(from('p'), select('a'), where(eq('p.a', col('t.a'))))
const other = pipe(from('u'), select('a'))
const limited = pipe(from('u'), select('a'), orderBy('a'), limit(2))
const recent = cte('recent', pipe(from('t'), select('a'), where(gt('a', 1))))
const materialized = cte('m', pipe(from('t'), select('a')), { materialized: true })
const org = cte('org', pipe(from('e'), select('id'), unionAll(pipe(from('e'), join('org o', ['e.boss', 'o.id']), select('e.id')))))
const byDay = { orderBy: ['d'], frame: rows(preceding(6), 'current row') } as const

const uses: Readonly<Record<FragmentFields, readonly Compilable[]>> = {
  expr: [pipe(from('t'), where({ a: 1 })), pipe(update('t'), set({ a: 1 })), pipe(insertInto('t'), values({ a: 1 }))],
  binary: [pipe(from('t'), where({ a: 1 })), pipe(update('t'), set({ a: 1 }), where({ b: 2 })), pipe(deleteFrom('t'), where({ b: 2 }))],
  func: [pipe(from('t'), select(as(count(), 'n'))), pipe(from('t'), orderBy(count()))],
  param: [pipe(from('t'), where(eq('a', param('a')))), pipe(update('t'), set({ a: param('a') }))],
  excluded: [pipe(insertInto('t'), values({ a: 1 }), onConflict(['a'], ['b']))],
  selection: [pipe(from('t'), select('a')), pipe(insertInto('t'), values({ a: 1 }), returning('a')), pipe(deleteFrom('t'), returning('a'))],
  fromItem: [pipe(from('t')), pipe(insertInto('t'), values({ a: 1 })), pipe(update('t'), set({ a: 1 })), pipe(deleteFrom('t')), pipe(from('t'), join('u', ['u.a', 't.a']))],
  join: [pipe(from('t'), join('u', ['u.a', 't.a'])), pipe(from('t'), rightJoin('u', ['u.a', 't.a'])), pipe(from('t'), crossJoin('u'))],
  rightJoin: [pipe(from('t'), rightJoin('u', ['u.a', 't.a'])), pipe(from('t'), rightJoin('u', using('a')))],
  fullJoin: [pipe(from('t'), fullJoin('u', ['u.a', 't.a']))],
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
  statement: [pipe(from('t')), pipe(insertInto('t'), values({ a: 1 })), sql`SELECT 1`, explain(pipe(from('t')))],
  caseResult: [pipe(from('t'), select(as(caseWhen([[gt('a', 1), 1]], 0), 'big'))), pipe(from('t'), select(as(caseOf('a', [['x', true]]), 'yes')))],
  rowArgument: [pipe(from('t'), leftJoin('u', ['u.a', 't.a']), select(as(count('u.*'), 'n')))],
  distinctFrom: [pipe(from('t'), where(isDistinctFrom('a', 1))), pipe(update('t'), set({ b: 1 }), where(isNotDistinctFrom('a', null)))],
  tuple: [pipe(from('t'), where(tupleIn(['a', 'b'], [[1, 2]]))), pipe(from('t'), where(gt(tuple('a', 'b'), tuple(val(1), val(2)))))],
  quantifiedSubquery: [pipe(from('t'), where(gt('a', all(pipe(from('u'), select('a'))))))],
  quantifiedArray: [pipe(from('t'), where(eq('a', any([1, 2]))))],
  stringAgg: [pipe(from('t'), select(as(stringAgg('a', ','), 's')))],
  aggregateOrderBy: [pipe(from('t'), select(as(stringAgg('a', ',', { orderBy: ['a'] }), 's'))), pipe(from('t'), select(as(aggregate(fn('array_agg', 'a'), { orderBy: ['a'] }), 's')))],
  distinctOn: [pipe(from('t'), distinctOn('a'), orderBy('a'))],
  insertIgnore: [pipe(insertInto('t'), values({ a: 1 }), orIgnore)],
  insertReplace: [pipe(insertInto('t'), values({ a: 1 }), orReplace)],
  conflictTarget: [pipe(insertInto('t'), values({ a: 1 }), onConflict(['a'], 'nothing')), pipe(insertInto('t'), values({ a: 1 }), onConflict(['a'], ['b'], { targetWhere: gt('b', 0) }))],
  updateFrom: [pipe(update('t'), set({ a: col('u.a') }), updateFrom('u'), where(eq('u.b', col('t.b'))))],
  deleteUsing: [pipe(deleteFrom('t'), deleteUsing('u'), where(eq('u.b', col('t.b'))))],
  writeLimit: [pipe(update('t'), set({ a: 1 }), orderBy('a'), limit(2)), pipe(deleteFrom('t'), limit(1)), pipe(update('t'), set({ a: col('u.a') }), updateFrom('u'), limit(1))],
  cteStatement: [pipe(from('gone'), withCte(cte('gone', pipe(deleteFrom('t'), returning('a')))))],
  valuesTable: [pipe(from(valuesTable('v', ['a'], [[1]])), select('v.a')), pipe(from('t'), join(valuesTable('v', ['a'], [[1]]), ['v.a', 't.a']))],
  jsonBuildObject: [pipe(from('t'), select(as(jsonBuildObject({ a: 'a' }), 'o'))), pipe(from('t'), select(as(jsonArrayFrom(pipe(from('u'), select('a'))), 'o')))],
  jsonArrayFrom: [pipe(from('t'), select(as(jsonArrayFrom(pipe(from('u'), select('a'))), 'o')))],
  jsonObjectFrom: [pipe(from('t'), select(as(jsonObjectFrom(pipe(from('u'), select('a'))), 'o')))],
  collate: [pipe(from('t'), orderBy(collate('a', 'NOCASE'))), pipe(from('t'), where(eq(collate('a', 'NOCASE'), 'x')))],
  withinGroup: [pipe(from('t'), select(as(withinGroup(fn('percentile_cont', val(0.5)), ['a']), 'm')))],
  fetchWithTies: [pipe(from('t'), orderBy('a'), limitWithTies(2))],
  compileMerge: [pipe(mergeInto('t'), mergeUsing('u', eq('u.a', col('t.a'))), whenMatched('delete'))],
  embedded: [sql`SELECT * FROM t WHERE a IN ${pipe(from('u'), select('a'))}`, sql`SELECT ${col('a')} FROM t`],
  caseWhen: [pipe(from('t'), select(as(caseWhen([[gt('a', 1), 'big']], 'small'), 'size'))), pipe(from('t'), where(eq(caseOf('a', [[1, 'one']]), 'one')))],
  cast: [pipe(from('t'), select(as(cast('a', 'integer'), 'n'))), pipe(update('t'), set({ a: cast(val('2'), 'decimal(10,2)') }))],
  dateAdd: [pipe(from('t'), select(as(dateAdd('d', 1, 'month'), 'next'))), pipe(from('t'), where(gt('d', dateAdd('e', -7, 'day'))))],
  dateTrunc: [pipe(from('t'), select(as(dateTrunc('month', 'd'), 'm'))), pipe(from('t'), orderBy(dateTrunc('week', 'd')))],
  extract: [pipe(from('t'), select(as(extract('year', 'd'), 'y'))), pipe(from('t'), where(eq(extract('month', 'd'), 2)))],
  jsonExtract: [pipe(from('t'), select(as(jsonGet('doc', 'a', 0), 'x')))],
  jsonExtractText: [pipe(from('t'), where(eq(jsonText('doc', 'status'), 'paid'))), pipe(from('t'), select(as(jsonText('doc', 'a'), 'a')))],
  jsonContains: [pipe(from('t'), where(jsonContains('doc', { a: 1 })))],
  aggregateFilter: [pipe(from('t'), select(as(filterWhere(count(), gt('a', 1)), 'n'))), pipe(from('t'), select(as(over(filterWhere(sum('a'), { b: 1 }), {}), 'n')))],
  windowFunction: [pipe(from('t'), select(as(over(rank(), { orderBy: [desc('a')] }), 'r'))), pipe(from('t'), select(as(over(sum('a'), 'w'), 's')), window('w', {}))],
  windowSpec: [pipe(from('t'), select(as(over(rank(), { partitionBy: ['b'] }), 'r'))), pipe(from('t'), select(as(over(sum('a'), 'w'), 's')), window('w', { orderBy: ['a'] }))],
  frame: [pipe(from('t'), select(as(over(sum('a'), byDay), 's'))), pipe(from('t'), select(as(over(sum('a'), 'w'), 's')), window('w', byDay))],
  groupsFrame: [pipe(from('t'), select(as(over(sum('a'), { orderBy: ['d'], frame: groups(preceding(1), 'current row') }), 's')))],
  frameExclusion: [pipe(from('t'), select(as(over(sum('a'), { orderBy: ['d'], frame: rows('unbounded preceding', 'current row', 'current row') }), 's')))],
  derivedTable: [pipe(from(derived(other, 'x'))), pipe(from('t'), join(derived(other, 'x'), ['x.a', 't.a'])), pipe(from('t'), select('a'), union(pipe(from(derived(other, 'x')), select('a'))))],
  lateral: [pipe(from('t'), crossJoin(lateral(sub, 'x'))), pipe(from('t'), leftJoin(lateral(sub, 'x')))],
  withClause: [pipe(from('recent'), withCte(recent)), pipe(insertInto('t'), fromSelect(['a'], pipe(from('recent'), select('a'))), withCte(recent)), pipe(deleteFrom('t'), where(isIn('a', pipe(from('recent'), select('a')))), withCte(recent)), pipe(from('org'), withRecursive(org))],
  cte: [pipe(from('recent'), withCte(recent)), pipe(update('t'), set({ a: 1 }), withCte(recent)), pipe(other, union(pipe(from('recent'), select('a'))), withCte(recent))],
  cteMaterialized: [pipe(from('m'), withCte(materialized)), pipe(from('m'), withCte(cte('m', other, { materialized: false })))],
  insertWith: [pipe(insertInto('t'), fromSelect(['a'], pipe(from('recent'), select('a'))), withCte(recent))],
  updateWith: [pipe(update('t'), set({ a: 1 }), withCte(recent))],
  deleteWith: [pipe(deleteFrom('t'), withCte(recent))],
  rollup: [pipe(from('t'), select('a', as(count(), 'n')), groupByRollup('a'))],
  windowClause: [pipe(from('t'), select(as(over(sum('a'), 'w'), 's')), window('w', { orderBy: ['a'] }))],
  lock: [pipe(from('t'), forUpdate()), pipe(from('t'), where({ a: 1 }), limit(1), forShare({ skipLocked: true }))],
  lockOf: [pipe(from('t'), forUpdate({ of: ['t'] }))],
  lockNowait: [pipe(from('t'), forUpdate({ nowait: true })), pipe(from('t'), forShare({ nowait: true }))],
  lockSkipLocked: [pipe(from('t'), forUpdate({ skipLocked: true }))],
  compoundMember: [pipe(from('t'), select('a'), union(other)), pipe(from('t'), select('a'), unionAll(limited), orderBy('a'))],
  union: [pipe(from('t'), select('a'), union(other)), pipe(from('t'), where(isIn('a', pipe(other, union(other)))))],
  unionAll: [pipe(from('t'), select('a'), unionAll(other)), pipe(from('org'), withRecursive(org))],
  intersect: [pipe(from('t'), select('a'), intersect(other))],
  intersectAll: [pipe(from('t'), select('a'), intersectAll(other))],
  except: [pipe(from('t'), select('a'), except(other)), pipe(from(derived(pipe(other, except(other)), 'x')))],
  exceptAll: [pipe(from('t'), select('a'), exceptAll(other))],
  explain: [explain(pipe(from('t'))), explain(pipe(update('t'), set({ a: 1 })))],
  explainAnalyze: [explain(pipe(from('t')), { analyze: true })],
  compileCompound: [pipe(from('t'), select('a'), union(other)), pipe(from('t'), where(exists(pipe(other, except(other))))), pipe(from('t'), select('a'), union(other), explain)],
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
      const plain = baseFor(field).compile(statements[0])
      expect(E.isRight(plain) && plain.right.sql.includes(`/*${field}*/`)).toBe(false)
    })
  }

  it('castType and jsonPath (string-level functions) reach every statement that uses them', () => {
    const d = extend(sqlite, (_, base) => ({
      castType: (t: string) => `MY_${base.castType(t)}`,
      jsonPath: (p: readonly (string | number)[]) => `${base.jsonPath(p)}.x`,
    }))
    const c = d.compile(pipe(from('t'), select(as(cast('a', 'integer'), 'n'), as(jsonText('doc', 'k'), 'k')), where(eq(jsonGet('doc', 0), 1))))
    expect(c).toEqual(E.right({
      sql: `SELECT CAST("a" AS MY_INTEGER) AS "n", CASE json_type("doc", ?) WHEN 'text' THEN json_extract("doc", ?) WHEN 'null' THEN NULL WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' ELSE CAST(json_extract("doc", ?) AS TEXT) END AS "k" FROM "t" WHERE json_extract("doc", ?) = ?`,
      params: ['$."k".x', '$."k".x', '$."k".x', '$[0].x', 1],
    }))
  })

  it('quoteIdentifier, placeholder and toDriver (string-level functions) reach every statement', () => {
    const d = extend(sqlite, (_, base) => ({
      quoteIdentifier: (n: string) => base.quoteIdentifier(`x_${n}`),
      placeholder: (i: number) => `:p${i}`,
      toDriver: (v: unknown) => (typeof v === 'number' ? v * 10 : base.toDriver(v)),
    }))
    const c = d.compile(pipe(from('t'), select('a'), where(eq('b', 2)), limit(3)))
    // SQLite writes the row count into the text: it is no bound value, so toDriver does not see it.
    expect(c).toEqual(E.right({ sql: 'SELECT "x_a" FROM "x_t" WHERE "x_b" = :p1 LIMIT 3', params: [20] }))
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
    // In a transaction of its own (a batch of writes is all or nothing): BEGIN and COMMIT bind nothing.
    expect(seen).toEqual([[], [1, 1], [2, '1970-01-01 00:00:00'], []])
  })

  it('executeBatch overlaps its runs only on a driver that pipelines, and reports the first failure in run order', async () => {
    // A driver whose first statement answers late: concurrent runs would finish out of order.
    const slowFirst = (pipelines: boolean) => {
      const inner = betterSqlite3({ filename: ':memory:' })
      const events: string[] = []
      let calls = 0
      const driver = {
        ...inner,
        pipelines,
        execute: (q: Parameters<typeof inner.execute>[0]) => async () => {
          const n = ++calls
          events.push(`start ${n}`)
          if (n === 1) await new Promise((r) => setTimeout(r, 20))
          const r = await inner.execute(q)()
          events.push(`end ${n}`)
          return r
        },
      }
      return { db: compose(driver, sqlite), events }
    }
    const stmt = sql`SELECT CAST(${param('x')} AS INTEGER) / CAST(${param('y')} AS INTEGER) AS q`
    const serial = slowFirst(false)
    expect((await run(serial.db.executeBatch(stmt, [[6, 2], [8, 4]]))).map((r) => r.rows[0])).toEqual([{ q: 3 }, { q: 2 }])
    expect(serial.events).toEqual(['start 1', 'end 1', 'start 2', 'end 2'])
    const piped = slowFirst(true)
    expect((await run(piped.db.executeBatch(stmt, [[6, 2], [8, 4]]))).map((r) => r.rows[0])).toEqual([{ q: 3 }, { q: 2 }])
    expect(piped.events).toEqual(['start 1', 'start 2', 'end 2', 'end 1'])
    // A run that fails stops a serial batch: the runs after it never start, and those before it
    // are undone (a batch of writes runs in a transaction of its own).
    const stopping = slowFirst(false)
    await run(stopping.db.execute(sql`CREATE TABLE t (a INTEGER NOT NULL)`))
    const sent: unknown[][] = []
    const watched = wrap(stopping.db, { execute: (next, self) => (q) => { sent.push([...statementOf(self, q).params]); return next(q) } })
    const failed = await watched.executeBatch(pipe(insertInto('t'), values({ a: param('a') })), [[2], [null], [1]])()
    expect(failed._tag === 'Left' && failed.left._tag).toBe('NotNullViolation')
    expect(sent.filter((p) => p.length > 0)).toEqual([[2], [null]])
    expect(await run(stopping.db.all(sql`SELECT a FROM t`))).toEqual([])
  })
})
