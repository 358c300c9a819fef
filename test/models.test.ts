/**
 * Models: the codecs on every representation the engines return. (The model cases
 * themselves run in the conformance suite, on every backend: test/conformance/.)
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { compose, isDbError, sql } from 'recordkit'
import { sqlite } from 'recordkit/dialects/sqlite'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'
import { bool, date, decimal, fastDecoder, FAIL, float, int64, integer, jsonOf, model, nullable, snakeCase, uuid } from 'recordkit/model'
import { fails, ok } from 'recordkit/testing'
import { compileMapper } from '../src/model/decode.js'
import { checks, fields, rowsByColumn } from './support/mapper-fixture.js'


/** Decode with the fast path and with `validate`, and require that they agree. */
const decode = (c: t.Any, u: unknown): unknown => {
  const fast = fastDecoder(c)(u)
  const slow = c.decode(u)
  expect(fast === FAIL).toBe(slow._tag === 'Left')
  if (slow._tag === 'Right') expect(fast).toEqual(slow.right)
  return fast
}

describe('codecs accept every backend representation', () => {
  it('bool: boolean, 0/1, bigint, text and BIT(1)', () => {
    for (const u of [true, 1, 1n, '1', 't', 'true', 'TRUE', Buffer.from([1])]) expect(decode(bool, u)).toBe(true)
    for (const u of [false, 0, 0n, '0', 'f', 'false', Buffer.from([0])]) expect(decode(bool, u)).toBe(false)
    for (const u of [2, 'yes please', null, undefined, {}]) expect(decode(bool, u)).toBe(FAIL)
    expect(bool.encode(true)).toBe(true)
  })

  it('date: Date, ISO text, SQL text without zone (UTC), zone offsets; impossible dates fail', () => {
    const at = new Date('2024-02-29T12:34:56.789Z')
    expect(decode(date, at)).toBe(at)
    expect(decode(date, '2024-02-29T12:34:56.789Z')).toEqual(at)
    expect(decode(date, '2024-02-29 12:34:56.789')).toEqual(at)
    expect(decode(date, '2024-02-29 12:34:56.789123')).toEqual(at)
    expect(decode(date, '2024-02-29T14:34:56.789+02:00')).toEqual(at)
    expect(decode(date, '2024-02-29 07:34:56.789-0500')).toEqual(at)
    expect(decode(date, '2024-02-29')).toEqual(new Date('2024-02-29T00:00:00Z'))
    for (const u of ['2023-02-29', 'yesterday', 1700000000000, new Date(NaN), null]) expect(decode(date, u)).toBe(FAIL)
  })

  it('date: the two common forms (toISOString text, SQL text) read like every other form', () => {
    expect(decode(date, '2024-02-29 12:34:56')).toEqual(new Date('2024-02-29T12:34:56Z'))
    expect(decode(date, '1999-12-31T23:59:59.999Z')).toEqual(new Date('1999-12-31T23:59:59.999Z'))
    expect(decode(date, '2000-02-29T00:00:00.000Z')).toEqual(new Date('2000-02-29T00:00:00Z'))
    for (const u of ['2023-02-29T00:00:00.000Z', '2100-02-29 00:00:00', '2024-04-31 00:00:00', '2024-13-01T00:00:00.000Z', '2024-00-10 00:00:00',
      '2024-01-00T00:00:00.000Z', '2024-0a-01 00:00:00', '2024-01-01T00:00:00.00xZ']) expect(decode(date, u)).toBe(FAIL)
  })

  it('json: text, parsed values and bytes; encodes to text', () => {
    const Meta = jsonOf(t.type({ a: t.number }))
    expect(decode(Meta, '{"a":1}')).toEqual({ a: 1 })
    expect(decode(Meta, { a: 1 })).toEqual({ a: 1 })
    expect(decode(Meta, Buffer.from('{"a":2}'))).toEqual({ a: 2 })
    expect(decode(Meta, '{"a":"x"}')).toBe(FAIL)
    expect(decode(Meta, '{oops')).toBe(FAIL)
    expect(Meta.encode({ a: 1 })).toBe('{"a":1}')
    expect(decode(jsonOf(t.string), '"abc"')).toBe('abc')
  })

  it('decimal, float, integer and int64: strings, numbers and bigints', () => {
    expect(decode(decimal, '12.3400000000')).toBe('12.3400000000')
    expect(decode(decimal, 12.5)).toBe('12.5')
    expect(decode(decimal, 12n)).toBe('12')
    expect(decode(decimal, '1e3')).toBe('1e3')
    expect(decode(decimal, 'twelve')).toBe(FAIL)
    expect(decode(float, '0.99')).toBe(0.99)
    expect(decode(float, 3n)).toBe(3)
    expect(decode(integer, '9007199254740991')).toBe(Number.MAX_SAFE_INTEGER)
    expect(decode(integer, 42n)).toBe(42)
    expect(decode(integer, '9007199254740993')).toBe(FAIL)
    expect(decode(integer, 1.5)).toBe(FAIL)
    expect(decode(int64, '9223372036854775807')).toBe(2n ** 63n - 1n)
    expect(decode(int64, 5)).toBe(5n)
    expect(decode(int64, 5.5)).toBe(FAIL)
  })

  it('uuid: text (normalised to lower case) and 16 bytes', () => {
    expect(decode(uuid, '0B4E7A52-8A1B-4C4E-9D2F-3C8F6A1E2B7D')).toBe('0b4e7a52-8a1b-4c4e-9d2f-3c8f6a1e2b7d')
    expect(decode(uuid, Buffer.from('0b4e7a528a1b4c4e9d2f3c8f6a1e2b7d', 'hex'))).toBe('0b4e7a52-8a1b-4c4e-9d2f-3c8f6a1e2b7d')
    expect(decode(uuid, 'not-a-uuid')).toBe(FAIL)
  })

  it('fast decoders of io-ts codecs agree with validate', () => {
    const Kind = t.keyof({ a: null, b: null })
    for (const [c, u] of [[t.string, 'x'], [t.string, 1], [t.number, 1], [t.Int, 1.5], [t.Int, 2], [Kind, 'a'], [Kind, 'c'],
      [nullable(bool), null], [nullable(bool), 1], [t.union([t.literal('x'), t.number]), 'x'], [t.type({ a: t.number }), { a: 1 }]] as const) {
      decode(c, u)
    }
  })

  it('snakeCase names columns', () => {
    expect(['invoiceDate', 'id', 'billingAddress2', 'HTMLBody', 'customerID'].map(snakeCase)).toEqual(['invoice_date', 'id', 'billing_address2', 'html_body', 'customer_id'])
  })
})

describe('a query built around the types fails when it runs, it does not throw', () => {
  const db = compose(betterSqlite3({ filename: ':memory:' }), sqlite)
  const Thing = model({ table: 'thing', primaryKey: 'id', codec: t.type({ id: t.number, name: t.string }) })
  it('unknown fields and operators become a QueryError Left', async () => {
    const cases = [
      pipe(Thing.query, Thing.where('nope' as never, '=', 1 as never), Thing.all(db)),
      pipe(Thing.query, Thing.where('id', '~~' as never, 1), Thing.count(db)),
      pipe(Thing.query, Thing.orderBy('nope' as never), Thing.first(db)),
      pipe(Thing.query, Thing.select('nope' as never), Thing.all(db)),
      pipe(Thing.query, Thing.where(Thing.or(Thing.cond('nope' as never, '=', 1 as never))), Thing.exists(db)),
      pipe(Thing.query, Thing.pluck(db, 'nope' as never)),
      Thing.findBy(db, { nope: 1 } as never),
      Thing.updateWhere(db, { nope: 1 } as never, { name: 'x' }),
    ]
    for (const te of cases) {
      const r = await te()
      expect(r._tag === 'Left' && [r.left._tag, /no field "nope"|unknown operator/.test(r.left.message)]).toEqual(['QueryError', true])
    }
  })
})

describe('model codecs: exact, intersected with partial, refined as a whole row', () => {
  const db = compose(betterSqlite3({ filename: ':memory:' }), sqlite)
  const Range = model({
    table: 'ranges',
    primaryKey: 'id',
    codec: t.refinement(
      t.exact(t.intersection([t.type({ id: t.number, low: t.number, high: t.number }), t.partial({ label: t.string })])),
      (r) => r.low <= r.high,
      'LowNotAboveHigh',
    ),
  })
  it('reads optional fields as absent when NULL and checks the row-level refinement', async () => {
    await ok(db.execute(sql`CREATE TABLE ranges (id INTEGER PRIMARY KEY, low INTEGER NOT NULL, high INTEGER NOT NULL, label TEXT)`))
    const a = await ok(Range.create(db, { low: 1, high: 2 }))
    expect(a).toEqual({ id: 1, low: 1, high: 2, label: undefined })
    const b = await ok(Range.create(db, { low: 1, high: 2, label: 'x' }))
    expect(b.label).toBe('x')
    const refused = await fails(Range.create(db, { low: 5, high: 1 }))
    expect(isDbError(refused, 'ValidationError') && refused.issues.map((i) => [i.path, i.rule])).toEqual([['', 'LowNotAboveHigh']])
    await ok(db.execute(sql`INSERT INTO ranges (low, high) VALUES (5, 1)`))
    const e = await fails(pipe(Range.query, Range.all(db)))
    expect(isDbError(e, 'DecodeError') && e.issues[0].rule).toBe('LowNotAboveHigh')
  })
  it('a codec that is not an object cannot define a model', () => {
    expect(() => model({ table: 'x', primaryKey: 'id' as never, codec: t.string as never })).toThrow(TypeError)
  })
})

describe('the row mapper without code generation', () => {
  const rows = rowsByColumn

  it('maps rows exactly as the generated mapper does, key order included', () => {
    const generated = compileMapper(fields, checks, 't')(rows())
    const looped = compileMapper(fields, checks, 't', { generate: false })(rows())
    expect(looped).toEqual(generated)
    expect(looped.map((r) => Object.keys(r as object))).toEqual(generated.map((r) => Object.keys(r as object)))
    expect((looped[0] as { at: Date }).at.toISOString()).toBe('2024-01-02T03:04:05.000Z')
    expect(looped[0]).toHaveProperty('note', undefined)
  })

  it('fails with the same DecodeError, for a field and for a row-level check', () => {
    // The mapper writes decoded rows over its input: each run gets fresh rows.
    const both = (input: () => Record<string, unknown>[]) => [true, false].map((generate) => {
      try {
        compileMapper(fields, checks, 't', { generate })(input())
        return undefined
      } catch (e) {
        return isDbError(e) ? [e._tag, e.message] : e
      }
    })
    const badField = both(() => [{ ...rows()[0] }, { ...rows()[1], active: 'perhaps' }])
    expect(badField[0]).toEqual(['DecodeError', expect.stringContaining('column "active" of t')])
    expect(badField[1]).toEqual(badField[0])
    const badRow = both(() => [{ ...rows()[0], name: 'nobody' }])
    expect(badRow[0]).toEqual(['DecodeError', expect.stringContaining('NotNobody')])
    expect(badRow[1]).toEqual(badRow[0])
  })
})
