/**
 * A `float` field holds NaN and ±Infinity where the engine's column does, as Django, Rails and
 * SQLAlchemy store them: PostgreSQL's double precision holds all three, SQLite holds ±Infinity
 * (it would store NaN as NULL), MySQL and MariaDB hold neither (they would store 0). Where the
 * engine cannot hold the value, every write (create, createMany, update, updateWhere, upsert,
 * upsertMany) is a ValidationError at the field, rule `bindable`, before anything is written; a
 * NaN stored by PostgreSQL reads back as NaN.
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { type DbError, isDbError, run, sql } from 'recordkit'
import { float, model, nullable } from 'recordkit/model'
import { ENGINES, engineTables } from './support/engine-tables.js'

const Reading = model({
  table: 'rk_fn_readings',
  primaryKey: 'id',
  codec: t.type({ id: t.number, value: float, spare: nullable(float) }),
})

const holds = (engine: string, x: number): boolean =>
  engine === 'postgres' || (engine === 'sqlite' && !Number.isNaN(x))

const refusal = async (p: Promise<unknown>): Promise<DbError> => {
  const e = await p.then(() => undefined, (err: unknown) => err)
  if (!isDbError(e)) throw new Error(`expected a DbError, got ${String(e)}`)
  return e
}

describe('the float codec', () => {
  it('takes NaN and ±Infinity as numbers', () => {
    for (const x of [Number.NaN, Infinity, -Infinity]) {
      expect(float.is(x)).toBe(true)
      expect(E.isRight(float.decode(x)) && Object.is((float.decode(x) as E.Right<number>).right, x)).toBe(true)
    }
    expect(E.isLeft(float.decode('NaN'))).toBe(true)
  })
})

for (const engine of ENGINES) {
  describe(`a float field on ${engine.name}`, () => {
    const { use } = engineTables(engine, ['rk_fn_readings'], (name) => [
      `CREATE TABLE rk_fn_readings (id INTEGER PRIMARY KEY, value ${name === 'postgres' ? 'DOUBLE PRECISION' : name === 'mariadb' ? 'DOUBLE' : 'REAL'} NOT NULL, spare ${name === 'postgres' ? 'DOUBLE PRECISION' : name === 'mariadb' ? 'DOUBLE' : 'REAL'})`,
    ])
    const count = async (db: ReturnType<typeof use>) => Number((await run(db.all(sql`SELECT COUNT(*) AS n FROM rk_fn_readings`)))[0].n)

    for (const [what, x] of [['NaN', Number.NaN], ['Infinity', Infinity], ['-Infinity', -Infinity]] as const) {
      it(`${holds(engine.name, x) ? 'holds' : 'refuses, at the field,'} ${what}`, async (ctx) => {
        const db = use(ctx)
        if (holds(engine.name, x)) {
          const r = await run(Reading.create(db, { id: 1, value: x, spare: x }))
          expect(Object.is(r.value, x) && Object.is(r.spare, x)).toBe(true)
          expect(Object.is((await run(Reading.findOrFail(db, 1))).value, x)).toBe(true)
          const many = await run(Reading.createMany(db, [{ id: 2, value: 1, spare: null }, { id: 3, value: x, spare: null }]))
          expect(Object.is(many[1].value, x)).toBe(true)
          expect(Object.is((await run(Reading.update(db, many[0], { value: x }))).value, x)).toBe(true)
          expect(await run(Reading.upsert(db, { id: 4, value: x, spare: null }))).toMatchObject({ id: 4 })
          return
        }
        const base = await run(Reading.create(db, { id: 1, value: 1, spare: null }))
        const writes: [string, () => Promise<unknown>, string][] = [
          ['create', () => run(Reading.create(db, { id: 2, value: x, spare: null })), 'value'],
          ['create (nullable)', () => run(Reading.create(db, { id: 2, value: 1, spare: x })), 'spare'],
          ['createMany', () => run(Reading.createMany(db, [{ id: 2, value: 2, spare: null }, { id: 3, value: x, spare: null }])), 'rows.1.value'],
          ['update', () => run(Reading.update(db, base, { value: x })), 'value'],
          ['updateWhere', () => run(Reading.updateWhere(db, { id: 1 }, { spare: x })), 'spare'],
          ['upsert', () => run(Reading.upsert(db, { id: 1, value: x, spare: null })), 'value'],
          ['upsertMany', () => run(Reading.upsertMany(db, [{ id: 2, value: 2, spare: null }, { id: 1, value: x, spare: null }])), 'rows.1.value'],
        ]
        for (const [op, write, path] of writes) {
          const e = await refusal(write())
          expect(e._tag, `${op}: ${e.message}`).toBe('ValidationError')
          expect(isDbError(e, 'ValidationError') && e.issues.map((i) => [i.path, i.rule]), op).toEqual([[path, 'bindable']])
          expect(e.message, op).toContain(path)
        }
        expect(await count(db)).toBe(1)
        expect(await run(Reading.findOrFail(db, 1))).toEqual({ id: 1, value: 1, spare: null })
      })
    }

    it('checks a t.number field the same way', async (ctx) => {
      const db = use(ctx)
      const Plain = model({ table: 'rk_fn_readings', primaryKey: 'id', codec: t.type({ id: t.number, value: t.number }) })
      const made = Plain.create(db, { id: 1, value: Number.NaN })
      if (engine.name === 'postgres') return void expect(Number.isNaN((await run(made)).value)).toBe(true)
      const e = await refusal(run(made))
      expect(isDbError(e, 'ValidationError') && e.issues.map((i) => [i.path, i.rule])).toEqual([['value', 'bindable']])
    })

    it('reads back a NaN the table holds (PostgreSQL)', async (ctx) => {
      if (engine.name !== 'postgres') ctx.skip()
      const db = use(ctx)
      await run(db.execute(sql`INSERT INTO rk_fn_readings (id, value, spare) VALUES (7, 'NaN', 'Infinity')`))
      const r = await run(pipe(Reading.query, Reading.where('id', '=', 7), Reading.firstOrFail(db)))
      expect(Number.isNaN(r.value)).toBe(true)
      expect(r.spare).toBe(Infinity)
    })
  })
}
