/**
 * A model's SUM, MIN and MAX are decoded by the field's codec exactly as the field is in a row,
 * on SQLite, PostgreSQL and MariaDB: a BIGINT beyond 2^53 in a `t.number` field is a DecodeError
 * naming the field (never rounded to the nearest double), whatever form the engine hands it over
 * in (a bigint on SQLite, NUMERIC text on PostgreSQL, DECIMAL text on MariaDB); a sum that is
 * exact reads as its number.
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import { type Backend, type DbError, run, sql } from 'recordkit'
import { int64, integer, model } from 'recordkit/model'
import { ENGINES, engineTables } from './support/engine-tables.js'

const Big = model({ table: 'rk_mca_big', primaryKey: 'id', codec: t.type({ id: integer, n: t.number, k: integer, w: int64 }) })

const TABLES = ['rk_mca_big']
const ddl = (): string[] => ['CREATE TABLE rk_mca_big (id INTEGER PRIMARY KEY, n BIGINT NOT NULL, k BIGINT NOT NULL, w BIGINT NOT NULL)']

/** The failure of a task that must fail. */
const fails = async <A>(te: TaskEither<DbError, A>): Promise<DbError> => {
  const r = await te()
  if (r._tag === 'Right') throw new Error(`expected a failure, got ${String(r.right)}`)
  return r.left
}

const BEYOND = '9007199254740993' // 2^53 + 1: the nearest double is 2^53
const SAFE = 9007199254740991 // 2^53 - 1

for (const engine of ENGINES) {
  describe(`SUM, MIN and MAX of a model field on ${engine.name}`, () => {
    const { use } = engineTables(engine, TABLES, ddl)
    // The value as SQL text, so that it is stored exactly whatever a driver binds a number as.
    const insert = async (db: Backend, id: number, n: string) =>
      run(db.execute(sql`INSERT INTO rk_mca_big (id, n, k, w) VALUES (${id}, ${sql.raw(n)}, ${sql.raw(n)}, ${sql.raw(n)})`))

    it('a value beyond 2^53 in a t.number or integer field is a DecodeError naming the field, as it is in a row', async (ctx) => {
      const db = use(ctx)
      await insert(db, 1, BEYOND)
      const rows = await fails(pipe(Big.query, Big.all(db)))
      expect(rows._tag).toBe('DecodeError')
      for (const f of ['n', 'k'] as const) {
        for (const e of [await fails(pipe(Big.query, Big.sum(db, f))), await fails(pipe(Big.query, Big.max(db, f))), await fails(pipe(Big.query, Big.min(db, f)))]) {
          expect(e._tag).toBe('DecodeError')
          expect(e.message).toContain(`(${f}) of rk_mca_big`)
          expect(e.message).toContain(BEYOND)
        }
      }
      // int64 reads it exactly.
      expect(await run(pipe(Big.query, Big.max(db, 'w')))).toBe(BigInt(BEYOND))
    })

    it('a sum beyond 2^53 of values within it is a DecodeError; an exact sum, minimum and maximum read as numbers', async (ctx) => {
      const db = use(ctx)
      await insert(db, 1, String(SAFE - 10))
      await insert(db, 2, '10')
      await insert(db, 3, '-4')
      await insert(db, 4, '5')
      const e = await fails(pipe(Big.query, Big.sum(db, 'n')))
      expect(e._tag).toBe('DecodeError')
      expect(e.message).toContain('sum(n) of rk_mca_big')
      expect(await run(pipe(Big.query, Big.sum(db, 'w')))).toBe(BigInt(SAFE) + 1n)
      // Up to 2^53 - 1 every form reads as its number.
      expect(await run(pipe(Big.query, Big.where('id', '<', 3), Big.sum(db, 'n')))).toBe(SAFE)
      expect(await run(pipe(Big.query, Big.where('id', '<', 3), Big.sum(db, 'k')))).toBe(SAFE)
      expect(await run(pipe(Big.query, Big.where('id', '<', 4), Big.sum(db, 'n')))).toBe(SAFE - 4)
      expect(await run(pipe(Big.query, Big.min(db, 'n')))).toBe(-4)
      expect(await run(pipe(Big.query, Big.max(db, 'n')))).toBe(SAFE - 10)
      expect(await run(pipe(Big.query, Big.where('id', '>', 99), Big.sum(db, 'n')))).toBe(null)
    })

    it('aggregate() and computed columns refuse an integer beyond 2^53 the same way, and still read an average as a number', async (ctx) => {
      const db = use(ctx)
      await insert(db, 1, BEYOND)
      await insert(db, 2, '2')
      for (const e of [
        await fails(pipe(Big.query, Big.aggregate(db, (a) => ({ s: a.sum('n') })))),
        await fails(pipe(Big.query, Big.computed('twice', t.number, sql`n * 1`), Big.all(db))),
      ]) {
        expect(e._tag).toBe('DecodeError')
        expect(e.message).toMatch(/900719925474099[35]/)
      }
      const exact = await run(pipe(Big.query, Big.where('id', '=', 2), Big.aggregate(db, (a) => ({ s: a.sum('n'), m: a.avg('n') }))))
      expect(exact).toEqual([{ s: 2, m: 2 }])
      const third = await run(pipe(Big.query, Big.where('id', '=', 2), Big.computed('third', t.number, sql`n / 3.0`), Big.select('id'), Big.all(db)))
      expect((third[0] as Record<string, unknown>).third).toBeCloseTo(2 / 3, 3) // MariaDB's division keeps 4 decimals
    })
  })
}
