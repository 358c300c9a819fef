/**
 * PostgreSQL `createMany` of many rows (one INSERT ... SELECT FROM unnest of one array per
 * column, cast to the column's type): a value longer than its varchar(n) / char(n) column is
 * refused as the same row in VALUES is (ValueTooLarge, nothing stored), never cut to fit by the
 * array cast; char(n) pads and numeric(p, s) rounds as the INSERT itself does.
 */
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { type Backend, sql } from 'recordkit'
import { decimal, model } from 'recordkit/model'
import { fails, ok } from 'recordkit/testing'
import { ENGINES, engineTables } from './support/engine-tables.js'

const Code = model({ table: 'rk_pgunnest_codes', primaryKey: 'id', codec: t.type({ id: t.number, code: t.string, fixed: t.string, bits: t.string, price: decimal }) })
const ddl = (): string[] => ['CREATE TABLE rk_pgunnest_codes (id INTEGER PRIMARY KEY, code VARCHAR(3) NOT NULL, fixed CHAR(4) NOT NULL, bits BIT(3) NOT NULL, price NUMERIC(6, 2) NOT NULL)']
const MANY = 600

const stored = async (db: Backend): Promise<number> =>
  Number((await ok(db.all<{ n: unknown }>(sql`SELECT COUNT(*) AS n FROM rk_pgunnest_codes`)))[0].n)

const rows = (code: string, bits = '101') => Array.from({ length: MANY }, (_, i) => ({ id: i + 1, code, fixed: 'ab', bits, price: '1.005' }))

for (const engine of ENGINES.filter((e) => e.name === 'postgres')) {
  describe('createMany through unnest on PostgreSQL', () => {
    const { use } = engineTables(engine, ['rk_pgunnest_codes'], ddl)

    it('refuses a value longer than its varchar(n) column, storing nothing', async (ctx) => {
      const db = use(ctx)
      const e = await fails(Code.createMany(db, rows('abcdef'), { returning: false }))
      expect(e._tag).toBe('ValueTooLarge')
      expect(await stored(db)).toBe(0)
      expect((await fails(Code.createMany(db, rows('abcdef'))))._tag).toBe('ValueTooLarge')
      expect(await stored(db)).toBe(0)
    })

    it('refuses a bit string of another length, as the INSERT does', async (ctx) => {
      const db = use(ctx)
      // 22026: bit string length 5 does not match type bit(3); the array cast cut it to 101.
      expect((await fails(Code.createMany(db, rows('abc', '10110'), { returning: false }))).message).toMatch(/bit string length/)
      expect(await stored(db)).toBe(0)
    })

    it('stores values that fit as VALUES would: char(n) padded, numeric rounded by the column', async (ctx) => {
      const db = use(ctx)
      expect(await ok(Code.createMany(db, rows('abc'), { returning: false }))).toBe(MANY)
      const [r] = await ok(db.all<{ code: string; fixed: string; bits: string; price: string }>(sql`SELECT code, fixed, bits::text AS bits, price::text AS price FROM rk_pgunnest_codes WHERE id = 7`))
      expect(r).toEqual({ code: 'abc', fixed: 'ab  ', bits: '101', price: '1.01' })
    })
  })
}
