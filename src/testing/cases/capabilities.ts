/**
 * Capabilities are honest, on any backend: every feature a dialect declares is rendered and
 * the database accepts it; every feature it does not declare fails to compile with
 * UnsupportedFeature, so nothing unsupported ever reaches the database.
 *
 * The check is a table: one row per (dialect field, statements that use it). A new capability
 * field is one more row. A row whose field the dialect does not have at all is skipped.
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from '../vitest.js'
import type { Backend } from '../../compose.js'
import { type Compilable, type Dialect, supports } from '../../dialect.js'
import { type DbError, toDbError } from '../../errors.js'
import {
  add, col, deleteFrom, eq, excluded, from, fullJoin, insertInto, onConflict, returning, rightJoin, select, set, update, val, values, where,
} from '../../query.js'
import { type Compiled, sql } from '../../sql.js'
import { exec, ok, useBackend } from '../harness.js'
import type { CaseGroup } from '../target.js'

/** One capability: the field that renders it and the statements, run in order on one connection, that use it. */
export interface CapabilityRow {
  /** The dialect field `supports` is asked about. */
  readonly field: string
  /** What the statements exercise, for the test name. */
  readonly feature: string
  /** The statements; dialect functions that return SQL text (savepoints, BEGIN) are called here. */
  readonly statements: (d: Dialect) => readonly Compilable[]
  /**
   * The field is declared but may still refuse this variant with UnsupportedFeature at compile
   * time (one JOIN type of `join`, one option of `beginTransaction`). Whatever compiles must run.
   */
  readonly variant?: boolean
}

const row = (field: string, feature: string, statements: CapabilityRow['statements'], variant = false): CapabilityRow =>
  ({ field, feature, statements, variant })

/** SQL text from a dialect function, as a statement. */
const text = (s: string): Compilable => sql.raw(s)

const seed = pipe(insertInto('cf_cap'), values({ id: 1, name: 'a', n: 0 }))

/** Every capability row. Add a row for each new capability field. */
export const capabilityRows: readonly CapabilityRow[] = [
  row('insertReturning', 'INSERT ... RETURNING', () => [pipe(insertInto('cf_cap'), values({ id: 1, name: 'a', n: 0 }), returning('id', 'name'))]),
  row('updateReturning', 'UPDATE ... RETURNING', () => [seed, pipe(update('cf_cap'), set({ n: 1 }), where({ id: 1 }), returning('id', 'n'))]),
  row('deleteReturning', 'DELETE ... RETURNING', () => [seed, pipe(deleteFrom('cf_cap'), where({ id: 1 }), returning('id'))]),
  row('upsert', 'upsert doing nothing', () => [seed, pipe(insertInto('cf_cap'), values({ id: 1, name: 'b', n: 0 }), onConflict(['id'], 'nothing'))]),
  row('upsert', 'upsert updating from the proposed row', () => [seed, pipe(insertInto('cf_cap'), values({ id: 1, name: 'b', n: 0 }), onConflict(['id'], { name: excluded('name'), n: add(col('cf_cap.n'), val(1)) }))]),
  row('upsert', 'upsert with a WHERE condition', () => [seed, pipe(insertInto('cf_cap'), values({ id: 1, name: 'b', n: 0 }), onConflict(['id'], ['name'], { where: eq('cf_cap.n', 0) }))], true),
  row('savepoint', 'SAVEPOINT, ROLLBACK TO and RELEASE', (d) => [...d.beginTransaction({}).map(text), text(d.savepoint('rk_cap')), seed, text(d.rollbackToSavepoint('rk_cap')), text(d.releaseSavepoint('rk_cap')), text(d.commit())]),
  row('releaseSavepoint', 'RELEASE SAVEPOINT', (d) => [...d.beginTransaction({}).map(text), text(d.savepoint('rk_cap')), text(d.releaseSavepoint('rk_cap')), text(d.commit())]),
  row('rollbackToSavepoint', 'ROLLBACK TO SAVEPOINT', (d) => [...d.beginTransaction({}).map(text), text(d.savepoint('rk_cap')), text(d.rollbackToSavepoint('rk_cap')), text(d.commit())]),
  row('join', 'RIGHT JOIN', () => [pipe(from('cf_cap a'), rightJoin('cf_cap_other b', ['b.cap_id', 'a.id']), select('a.id', 'b.id as other'))], true),
  row('join', 'FULL JOIN', () => [pipe(from('cf_cap a'), fullJoin('cf_cap_other b', ['b.cap_id', 'a.id']), select('a.id', 'b.id as other'))], true),
  row('beginTransaction', 'READ ONLY transaction', (d) => [...d.beginTransaction({ readOnly: true }).map(text), pipe(from('cf_cap'), select('id')), text(d.rollback())], true),
  row('beginTransaction', 'SERIALIZABLE transaction', (d) => [...d.beginTransaction({ isolation: 'serializable' }).map(text), pipe(from('cf_cap'), select('id')), text(d.commit())], true),
]

/** Render and compile every statement of a row, or the first failure. */
const compileRow = (d: Dialect, r: CapabilityRow): E.Either<DbError, readonly Compiled[]> => {
  let statements: readonly Compilable[]
  try {
    statements = r.statements(d)
  } catch (e) {
    return E.left(toDbError(e))
  }
  const out: Compiled[] = []
  for (const s of statements) {
    const c = d.compile(s)
    if (E.isLeft(c)) return c
    out.push(c.right)
  }
  return E.right(out)
}

/** Run compiled statements in order on one reserved connection; on failure, roll back whatever is open. */
const runOnOneConnection = async (db: Backend, statements: readonly Compiled[]): Promise<E.Either<DbError, void>> => {
  const conn = await db.driver.reserve()()
  if (E.isLeft(conn)) return conn
  try {
    for (const s of statements) {
      const r = await conn.right.execute(s)()
      if (E.isLeft(r)) {
        await conn.right.execute({ sql: db.dialect.rollback(), params: [] })()
        return r
      }
    }
    return E.right(undefined)
  } finally {
    await conn.right.release()
  }
}

export const capabilityCases: CaseGroup = (target) => {
  describe(`${target.name}: capabilities are honest`, () => {
    const db = useBackend(target, (t) => ({
      cf_cap: `id ${t.int} PRIMARY KEY, name ${t.varchar(50)}, n ${t.int}`,
      cf_cap_other: `id ${t.int} PRIMARY KEY, cap_id ${t.int}`,
    }))

    for (const r of capabilityRows) {
      it(`${r.field}: ${r.feature} runs where declared and is UnsupportedFeature where not`, async (ctx) => {
        const d = db().dialect
        if (!(r.field in d)) ctx.skip()
        await exec(db(), `DELETE FROM ${d.quoteIdentifier('cf_cap')}`)
        const compiled = compileRow(d, r)
        if (!supports(d, r.field as keyof Dialect & string)) {
          expect(E.isLeft(compiled) && compiled.left._tag, `${d.name} does not declare ${r.field}, so compiling must refuse it`).toBe('UnsupportedFeature')
          return
        }
        if (E.isLeft(compiled)) {
          expect(r.variant, `${d.name} declares ${r.field} but cannot compile ${r.feature}: ${compiled.left.message}`).toBe(true)
          expect(compiled.left._tag).toBe('UnsupportedFeature')
          return
        }
        const ran = await runOnOneConnection(db(), compiled.right)
        expect(E.isRight(ran), `${d.name} declares ${r.field}, but the database refused ${r.feature}: ${E.isLeft(ran) ? ran.left.message : ''}`).toBe(true)
        await ok(db().all(pipe(from('cf_cap'), select('id'))))
      })
    }
  })
}
