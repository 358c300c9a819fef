/**
 * The `sql` tag refuses `undefined` as the builders do: a ValidationError naming the parameter
 * position and showing the SQL text, when the statement is compiled or run, whichever way the
 * value came in (the template, `sql.param`, `sql.join`, `sql.lit`, `fromParts`, a fragment inside
 * a builder's statement). Nothing runs. `null` stays NULL. On SQLite, PostgreSQL and MariaDB.
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import { describe, expect, it } from 'vitest'
import { fromParts, isDbError, run, sql, type Backend, type DbError, type Fragment } from 'recordkit'
import { from, where } from 'recordkit/query'
import { ENGINES, engineTables } from './support/engine-tables.js'

const T = 'h1_undef'

const refusal = (e: E.Either<DbError, unknown>): DbError => {
  if (E.isRight(e)) throw new Error(`expected a refusal, got ${JSON.stringify(e.right)}`)
  return e.left
}

const count = async (db: Backend): Promise<number> =>
  Number((await run(db.all<{ c: number }>(sql`SELECT COUNT(*) AS c FROM ${sql.id(T)}`)))[0].c)

for (const engine of ENGINES) {
  describe(`sql refuses undefined (${engine.name})`, () => {
    const { use } = engineTables(engine, [T], () => [`CREATE TABLE ${T} (a INTEGER, b INTEGER)`])

    it('a template value: ValidationError naming the parameter, with the SQL text; nothing runs', async (ctx) => {
      const db = use(ctx)
      const e = refusal(await db.execute(sql`INSERT INTO ${sql.id(T)} (a, b) VALUES (${1}, ${undefined})`)())
      expect(e._tag).toBe('ValidationError')
      expect(e.message).toContain('parameter $2 is undefined')
      expect(e.sql).toMatch(/^INSERT INTO .h1_undef. \(a, b\) VALUES \((\?|\$1), (\?|\$2)\)$/)
      expect(e.message).toContain(e.sql)
      expect(isDbError(e, 'ValidationError') && e.issues).toEqual([{ path: '$2', rule: 'defined', value: undefined, message: 'parameter $2 is undefined' }])
      expect(await count(db)).toBe(0)
    })

    it('compile refuses it too, and null stays NULL', async (ctx) => {
      const db = use(ctx)
      const c = db.compile(sql`SELECT ${undefined} AS x`)
      expect(refusal(c)._tag).toBe('ValidationError')
      await run(db.execute(sql`INSERT INTO ${sql.id(T)} (a, b) VALUES (${1}, ${null})`))
      expect(await run(db.all(sql`SELECT a, b FROM ${sql.id(T)}`))).toEqual([{ a: 1, b: null }])
    })

    it('every way a value reaches the statement: sql.param, sql.join, sql.lit, fromParts, a fragment in a builder', async (ctx) => {
      const db = use(ctx)
      const ways: readonly [string, Fragment, string][] = [
        ['sql.param', sql`SELECT a FROM ${sql.id(T)} WHERE a = ${sql.param(undefined)}`, 'parameter $1'],
        ['sql.join', sql`SELECT a FROM ${sql.id(T)} WHERE a IN (${sql.join([1, undefined, 3])})`, 'parameter $2'],
        ['sql.lit', sql`SELECT ${sql.lit(undefined)} AS x`, 'a literal (sql.lit)'],
        ['fromParts', fromParts(['SELECT a FROM ', sql.id(T), ' WHERE b = ', { _tag: 'Param', value: undefined }]), 'parameter $1'],
        ['nested', sql`SELECT a FROM ${sql.id(T)} WHERE ${sql`a = ${2} AND b = ${undefined}`}`, 'parameter $2'],
      ]
      for (const [way, f, says] of ways) {
        const e = refusal(await db.all(f)())
        expect({ way, tag: e._tag, says: e.message.includes(`${says} is undefined`), sql: e.sql !== undefined }).toEqual({ way, tag: 'ValidationError', says: true, sql: true })
      }
      const built = refusal(await db.all(pipe(from(T), where(sql`b = ${undefined}`)))())
      expect(built.message).toContain('parameter $1 is undefined')
    })

    it('a statement refused this way leaves a transaction usable', async (ctx) => {
      const db = use(ctx)
      const r = await db.transaction((tx) => async () => {
        const bad = await tx.execute(sql`INSERT INTO ${sql.id(T)} (a) VALUES (${undefined})`)()
        expect(E.isLeft(bad)).toBe(true)
        return tx.execute(sql`INSERT INTO ${sql.id(T)} (a) VALUES (${5})`)()
      })()
      expect(E.isRight(r)).toBe(true)
      expect(await count(db)).toBe(1)
    })
  })
}

describe('executeBatch refuses undefined (sqlite)', () => {
  const { use } = engineTables(ENGINES[0], [T], () => [`CREATE TABLE ${T} (a INTEGER, b INTEGER)`])

  it('a set with an undefined value runs nothing, and names the run and the parameter', async (ctx) => {
    const db = use(ctx)
    const e = refusal(await db.executeBatch(sql`INSERT INTO ${sql.id(T)} (a, b) VALUES (${sql.placeholder('a')}, ${sql.placeholder('b')})`, [[1, 2], [3, undefined]])())
    expect(e._tag).toBe('ValidationError')
    expect(e.message).toContain('batch run 2: parameter $2 is undefined')
    expect(e.sql).toBe('INSERT INTO "h1_undef" (a, b) VALUES (?, ?)')
    expect(await count(db)).toBe(0)
    await run(db.executeBatch(sql`INSERT INTO ${sql.id(T)} (a, b) VALUES (${sql.placeholder('a')}, ${sql.placeholder('b')})`, [[1, null]]))
    expect(await count(db)).toBe(1)
  })
})
