/**
 * `eq(col, null)` is `col IS NULL` and `ne(col, null)` is `col IS NOT NULL`, as Knex,
 * SQLAlchemy, Django, Rails and Laravel write an equality with a literal null (and as
 * `where({ col: null })` and the models' `where` already did): `col = NULL` matches no row, so
 * `eq('parent_id', input.parentId)` with a null input found nothing, silently. A prepared query's
 * `param()` is bound after the SQL is written and stays `= ?`. The statement-shape cache keeps a
 * comparison with null and one with a value apart.
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { type Dialect, isDbError, run } from 'recordkit'
import { and, col, deleteFrom, eq, from, insertInto, lit, ne, orderBy, param, select, set, update, val, values, where } from 'recordkit/query'
import { type Behaviour, model, nullable, snakeCase } from 'recordkit/model'
import { mariadb, mysql } from 'recordkit/dialects/mysql'
import { postgres } from 'recordkit/dialects/postgres'
import { sqlite } from 'recordkit/dialects/sqlite'
import { ENGINES, engineTables } from './support/engine-tables.js'

const compiled = (d: Dialect, q: Parameters<Dialect['compile']>[0]) => {
  const c = d.compile(q)
  if (E.isLeft(c)) throw c.left
  return c.right
}

const texts: readonly (readonly [string, Dialect, (s: string) => string, (n: number) => string])[] = [
  ['sqlite', sqlite.forVersion('3.45.0'), (s) => `"${s}"`, () => '?'],
  ['postgres', postgres.forVersion('15.2'), (s) => `"${s}"`, (n) => `$${n}`],
  ['mysql', mysql.forVersion('8.0.36'), (s) => `\`${s}\``, () => '?'],
  ['mariadb', mariadb.forVersion('10.11.5'), (s) => `\`${s}\``, () => '?'],
]

describe.each(texts)('%s: an equality with a literal null', (_, d, q, p) => {
  const byParent = (parent: number | null) => pipe(from('nodes'), select('id'), where(and(eq('parent_id', parent), ne('kind', null))))

  it('is IS NULL / IS NOT NULL, with no parameter for the null', () => {
    expect(compiled(d, byParent(null))).toEqual({
      sql: `SELECT ${q('id')} FROM ${q('nodes')} WHERE ${q('parent_id')} IS NULL AND ${q('kind')} IS NOT NULL`,
      params: [],
    })
    // val(null) and lit(null) are literal nulls too; null on the left as well.
    expect(compiled(d, pipe(from('nodes'), where(and(eq('parent_id', val(null)), ne(val(null), col('kind')), eq('x', lit(null)))))).sql)
      .toBe(`SELECT * FROM ${q('nodes')} WHERE ${q('parent_id')} IS NULL AND ${q('kind')} IS NOT NULL AND ${q('x')} IS NULL`)
  })

  it('does not share cached SQL text with the same query given a value (either order)', () => {
    const fresh = d.forVersion(d.version)
    const a1 = compiled(fresh, byParent(1))
    const n1 = compiled(fresh, byParent(null))
    const a2 = compiled(fresh, byParent(2))
    const n2 = compiled(fresh, byParent(null))
    expect(a1).toEqual({ sql: `SELECT ${q('id')} FROM ${q('nodes')} WHERE ${q('parent_id')} = ${p(1)} AND ${q('kind')} IS NOT NULL`, params: [1] })
    expect(a2).toEqual({ ...a1, params: [2] })
    expect(n1).toEqual({ sql: `SELECT ${q('id')} FROM ${q('nodes')} WHERE ${q('parent_id')} IS NULL AND ${q('kind')} IS NOT NULL`, params: [] })
    expect(n2).toEqual(n1)
    // A null between two values keeps its place: the values after it are bound where they belong.
    const mixed = (a: unknown, b: unknown, c: unknown) => pipe(from('nodes'), select('id'), where(and(eq('a', a), eq('b', b), eq('c', c))))
    const m1 = compiled(fresh, mixed(1, null, 3))
    const m2 = compiled(fresh, mixed(4, null, 6))
    expect(m1).toEqual({ sql: `SELECT ${q('id')} FROM ${q('nodes')} WHERE ${q('a')} = ${p(1)} AND ${q('b')} IS NULL AND ${q('c')} = ${p(2)}`, params: [1, 3] })
    expect(m2).toEqual({ ...m1, params: [4, 6] })
    expect(compiled(fresh, mixed(7, 8, 9)).params).toEqual([7, 8, 9])
    // UPDATE and DELETE are cached by shape too.
    const upd = (v: unknown) => pipe(update('nodes'), set({ kind: 'x' }), where(eq('parent_id', v)))
    expect(compiled(fresh, upd(5)).sql).toBe(`UPDATE ${q('nodes')} SET ${q('kind')} = ${p(1)} WHERE ${q('parent_id')} = ${p(2)}`)
    expect(compiled(fresh, upd(null))).toEqual({ sql: `UPDATE ${q('nodes')} SET ${q('kind')} = ${p(1)} WHERE ${q('parent_id')} IS NULL`, params: ['x'] })
    const del = (v: unknown) => pipe(deleteFrom('nodes'), where(ne('parent_id', v)))
    expect(compiled(fresh, del(null)).sql).toBe(`DELETE FROM ${q('nodes')} WHERE ${q('parent_id')} IS NOT NULL`)
    expect(compiled(fresh, del(5))).toEqual({ sql: `DELETE FROM ${q('nodes')} WHERE ${q('parent_id')} <> ${p(1)}`, params: [5] })
  })

  it('a prepared param() stays = ? (bound later, it cannot change the SQL)', () => {
    expect(compiled(d, pipe(from('nodes'), where(eq('parent_id', param('parent'))))).sql).toBe(`SELECT * FROM ${q('nodes')} WHERE ${q('parent_id')} = ${p(1)}`)
  })
})

for (const engine of ENGINES) {
  describe(`eq / ne with null on ${engine.name}`, () => {
    const { use } = engineTables(engine, ['rk_nq_nodes'], () => ['CREATE TABLE rk_nq_nodes (id INTEGER PRIMARY KEY, parent_id INTEGER, kind VARCHAR(10))'])

    it('find the rows whose column is NULL / not NULL, before and after the same query with a value', async (ctx) => {
      const db = use(ctx)
      await run(db.execute(pipe(insertInto('rk_nq_nodes'), values([
        { id: 1, parent_id: null, kind: 'root' }, { id: 2, parent_id: 1, kind: 'leaf' }, { id: 3, parent_id: 1, kind: null }, { id: 4, parent_id: null, kind: null },
      ]))))
      const children = (parent: number | null) => pipe(from('rk_nq_nodes'), select('id'), where(eq('parent_id', parent)), orderBy('id'))
      const ids = async (q: Parameters<typeof db.all>[0]) => (await run(db.all(q))).map((r) => Number((r as { id: unknown }).id))
      expect(await ids(children(1))).toEqual([2, 3])
      expect(await ids(children(null))).toEqual([1, 4])
      expect(await ids(children(1))).toEqual([2, 3])
      expect(await ids(pipe(from('rk_nq_nodes'), select('id'), where(ne('kind', null)), orderBy('id')))).toEqual([1, 2])
      // An update and a delete by a null parent touch the roots only.
      await run(db.execute(pipe(update('rk_nq_nodes'), set({ kind: 'top' }), where(eq('parent_id', null)))))
      expect(await ids(pipe(from('rk_nq_nodes'), select('id'), where(eq('kind', 'top')), orderBy('id')))).toEqual([1, 4])
      await run(db.execute(pipe(deleteFrom('rk_nq_nodes'), where(ne('parent_id', null)))))
      expect(await ids(pipe(from('rk_nq_nodes'), select('id'), orderBy('id')))).toEqual([1, 4])
      // A prepared param bound to null is `= NULL`: no row, as documented.
      const prepared = db.prepare(pipe(from('rk_nq_nodes'), select('id'), where(eq('parent_id', param('parent')))))
      expect(await run(prepared.all({ parent: null }))).toEqual([])
    })
  })
}

// Inside the models a key compared with a value that is NULL still matches no row: an upsert
// whose conflict key is NULL conflicts with nothing (NULLs never do under a unique key), so it
// inserts, and finds no row another tenant holds with a NULL key.
const tenantRefs = (tenant: number) => model({
  table: 'rk_nq_refs', primaryKey: 'id', naming: snakeCase,
  codec: t.type({ id: t.number, tenant: t.number, ref: nullable(t.string), label: t.string }),
  behaviours: [{ name: `tenant(${tenant})`, fills: ['tenant'], beforeValidate: (v) => TE.right({ ...v, tenant }), scope: (_s, c) => eq(c('tenant'), tenant) } as Behaviour<{ tenant: number }, 'tenant'>],
})

for (const engine of ENGINES) {
  describe(`an upsert on a NULL conflict key on ${engine.name}`, () => {
    const { use } = engineTables(engine, ['rk_nq_refs'], (name) => [
      `CREATE TABLE rk_nq_refs (id INTEGER PRIMARY KEY ${name === 'postgres' ? 'GENERATED BY DEFAULT AS IDENTITY' : name === 'mariadb' ? 'AUTO_INCREMENT' : 'AUTOINCREMENT'}, tenant INTEGER NOT NULL, ref VARCHAR(20) UNIQUE, label VARCHAR(20) NOT NULL)`,
    ])

    it('inserts a row of its own, whatever rows of NULL key another tenant holds', async (ctx) => {
      const db = use(ctx)
      const other = await run(tenantRefs(2).create(db, { ref: null, label: 'theirs' }))
      const mine = await run(tenantRefs(1).upsert(db, { ref: null, label: 'mine' }, { conflict: ['ref'] }))
      expect(mine.id).not.toBe(other.id)
      expect([mine.tenant, mine.ref, mine.label]).toEqual([1, null, 'mine'])
      const again = await run(tenantRefs(1).upsert(db, { ref: null, label: 'mine too' }, { conflict: ['ref'] }))
      expect(again.id).not.toBe(mine.id)
      expect(await run(pipe(tenantRefs(1).query, tenantRefs(1).count(db)))).toBe(2)
      // Updating nothing on conflict (DO NOTHING) inserts it too.
      const quiet = await run(tenantRefs(1).upsert(db, { ref: null, label: 'quiet' }, { conflict: ['ref'], update: [] }))
      expect([quiet.ref, quiet.label]).toEqual([null, 'quiet'])
      expect(await run(pipe(tenantRefs(1).query, tenantRefs(1).count(db)))).toBe(3)
    })

    it('upsertMany inserts each row of NULL key, beside rows of a key that update', async (ctx) => {
      const db = use(ctx)
      const refs = tenantRefs(1)
      await run(refs.create(db, { ref: 'a', label: 'old a' }))
      const rows = await run(refs.upsertMany(db, [
        { ref: null, label: 'n1' }, { ref: 'a', label: 'new a' }, { ref: null, label: 'n2' }, { ref: 'b', label: 'b' }, { ref: null, label: 'n3' },
      ], { conflict: ['ref'] }))
      expect(rows.map((r) => [r.ref, r.label])).toEqual([[null, 'n1'], ['a', 'new a'], [null, 'n2'], ['b', 'b'], [null, 'n3']])
      expect(new Set(rows.map((r) => r.id)).size).toBe(5)
      const none = await run(refs.upsertMany(db, [{ ref: null, label: 'q1' }, { ref: null, label: 'q2' }], { conflict: ['ref'], update: [] }))
      expect(none.map((r) => [r.ref, r.label])).toEqual([[null, 'q1'], [null, 'q2']])
      const stored = await run(pipe(refs.query, refs.orderBy('id'), refs.all(db)))
      expect(stored.map((r) => r.label)).toEqual(['new a', 'n1', 'n2', 'b', 'n3', 'q1', 'q2'])
    })

    it('a row of NULL conflict key that repeats another unique key is a UniqueViolation, nothing written', async (ctx) => {
      const db = use(ctx)
      const refs = tenantRefs(1)
      const first = await run(refs.create(db, { ref: 'a', label: 'a' }))
      // The primary key is the other unique key here.
      const e = await run(refs.upsert(db, { id: first.id, ref: null, label: 'clash' }, { conflict: ['ref'] })).then(() => undefined, (err: unknown) => err)
      expect(isDbError(e, 'UniqueViolation'), String(e)).toBe(true)
      const many = await run(refs.upsertMany(db, [{ ref: null, label: 'fine' }, { id: first.id, ref: null, label: 'clash' }], { conflict: ['ref'] })).then(() => undefined, (err: unknown) => err)
      expect(isDbError(many, 'UniqueViolation'), String(many)).toBe(true)
      const stored = await run(pipe(refs.query, refs.orderBy('id'), refs.all(db)))
      expect(stored.map((r) => [r.ref, r.label])).toEqual([['a', 'a']])
    })
  })
}
