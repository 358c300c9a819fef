/**
 * Field types round-trip through create, find, update and where, as Python ActiveRecord's
 * type-case CRUD test has them: small and 64-bit integers (the extremes), floats, doubles,
 * decimals, fixed and variable text, dates and timestamps, bytes, JSON documents, flags and
 * UUIDs. On SQLite, PostgreSQL and MariaDB.
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as O from 'fp-ts/lib/Option.js'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { bool, bytes, date, decimal, float, int64, jsonOf, model, nullable, uuid } from 'recordkit/model'
import { ok } from 'recordkit/testing'
import { ENGINES, engineTables } from './support/engine-tables.js'

const Case = model({
  table: 'h3_type_cases',
  primaryKey: 'id',
  codec: t.type({
    id: uuid,
    tiny: t.number,
    big: int64,
    real: float,
    money: decimal,
    code: t.string,
    note: nullable(t.string),
    day: date,
    at: date,
    bin: bytes,
    doc: jsonOf(t.record(t.string, t.unknown)),
    flag: bool,
  }),
})

const ddl = (engine: string): string[] => {
  const [id, big, real, stamp, day, blob, doc, flag, text] =
    engine === 'postgres' ? ['UUID', 'BIGINT', 'DOUBLE PRECISION', 'TIMESTAMP(3)', 'DATE', 'BYTEA', 'JSONB', 'BOOLEAN', 'TEXT']
      : engine === 'mariadb' ? ['CHAR(36)', 'BIGINT', 'DOUBLE', 'DATETIME(3)', 'DATE', 'BLOB', 'JSON', 'TINYINT(1)', 'TEXT']
        : ['TEXT', 'INTEGER', 'REAL', 'TEXT', 'TEXT', 'BLOB', 'TEXT', 'INTEGER', 'TEXT']
  return [`CREATE TABLE h3_type_cases (id ${id} PRIMARY KEY, tiny SMALLINT NOT NULL, big ${big} NOT NULL, ${engine === 'mariadb' ? '`real`' : '"real"'} ${real} NOT NULL, money DECIMAL(12, 4) NOT NULL, code CHAR(5) NOT NULL, note ${text} NULL, day ${day} NOT NULL, at ${stamp} NOT NULL, bin ${blob} NOT NULL, doc ${doc} NOT NULL, flag ${flag} NOT NULL)`]
}

const ID = '0b8f5e3c-3f0e-4c5a-9a57-2d4c5a0f9e11'
const row = {
  id: ID,
  tiny: 32767,
  big: 9223372036854775807n,
  real: 3.141592653589793,
  money: '123.4567',
  code: 'fixed',
  note: 'long text content, ünïcödé ✓',
  day: new Date('2024-02-29T00:00:00.000Z'),
  at: new Date('2024-02-29T23:59:58.123Z'),
  bin: new Uint8Array([0, 1, 2, 254, 255]),
  doc: { key: 'value', n: [1, 2, 3], nested: { ok: true } },
  flag: true,
}

/** Bytes as a plain list: the driver's Buffer is a Uint8Array, as the codec says, of another class. */
const plain = <R extends { bin: Uint8Array }>(r: R) => ({ ...r, bin: Array.from(r.bin) })

for (const engine of ENGINES) {
  describe(`field types on ${engine.name}`, () => {
    const { use } = engineTables(engine, ['h3_type_cases'], ddl)

    it('create returns, find reads, update writes and where matches each type exactly', async (ctx) => {
      const db = use(ctx)
      const created = await ok(Case.create(db, row))
      expect(plain(created)).toEqual(plain(row))
      expect(pipe(await ok(Case.find(db, ID)), O.map(plain))).toEqual(O.some(plain(row)))
      const other = { ...row, id: ID.replace('0b8f', '1b8f'), tiny: -32768, big: -9223372036854775808n, real: -0.1, money: '-99999999.9999', flag: false, note: null, day: new Date('1999-12-31T00:00:00.000Z'), at: new Date('1999-12-31T00:00:00.000Z'), code: 'other' }
      await ok(Case.create(db, other))
      for (const [field, value] of [['big', row.big], ['money', row.money], ['day', row.day], ['at', row.at], ['flag', true], ['code', 'fixed'], ['real', row.real]] as const) {
        expect([field, await ok(pipe(Case.query, Case.where(field, '=', value as never), Case.pluck(db, 'id')))]).toEqual([field, [ID]])
      }
      expect(await ok(pipe(Case.query, Case.where('big', '<', 0n), Case.pluck(db, 'big')))).toEqual([-9223372036854775808n])
      expect(await ok(pipe(Case.query, Case.where({ note: null }), Case.pluck(db, 'tiny')))).toEqual([-32768])
      const updated = await ok(Case.update(db, created, { big: 1n, money: '0.0001', doc: { key: 'changed' }, bin: new Uint8Array([9]), flag: false }))
      expect(plain(updated)).toEqual(plain({ ...row, big: 1n, money: '0.0001', doc: { key: 'changed' }, bin: new Uint8Array([9]), flag: false }))
      expect(plain(await ok(Case.findOrFail(db, ID)))).toEqual(plain(updated))
      expect(await ok(pipe(Case.query, Case.max(db, 'big')))).toBe(1n)
      expect(await ok(pipe(Case.query, Case.orderBy('money'), Case.pluck(db, 'money')))).toEqual(['-99999999.9999', '0.0001'])
    })
  })
}
