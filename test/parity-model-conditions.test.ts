/**
 * Conditions as Python ActiveRecord's query tests write them (equal, several ANDed, IN / NOT IN,
 * OR and OR groups inside AND, empty lists, BETWEEN / NOT BETWEEN over decimals, LIKE / NOT LIKE,
 * IS NULL / IS NOT NULL), through model queries on SQLite, PostgreSQL and MariaDB.
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { decimal, model, nullable } from 'recordkit/model'
import { ok } from 'recordkit/testing'
import { ENGINES, engineTables } from './support/engine-tables.js'

const Order = model({
  table: 'h3_cond_orders',
  primaryKey: 'id',
  codec: t.type({ id: t.number, number: t.string, status: t.string, total: decimal, note: nullable(t.string) }),
})

const ddl = (): string[] => ['CREATE TABLE h3_cond_orders (id INTEGER PRIMARY KEY, number VARCHAR(20) NOT NULL, status VARCHAR(20) NOT NULL, total DECIMAL(10, 2) NOT NULL, note VARCHAR(20) NULL)']

for (const engine of ENGINES) {
  describe(`conditions on ${engine.name}`, () => {
    const { use } = engineTables(engine, ['h3_cond_orders'], ddl)

    it('equal, AND, IN, NOT IN, OR groups, empty lists, BETWEEN, LIKE, NULL', async (ctx) => {
      const db = use(ctx)
      await ok(Order.createMany(db, [
        { id: 1, number: 'ORD-A001', status: 'pending', total: '150.25', note: null },
        { id: 2, number: 'ORD-B002', status: 'paid', total: '250.5', note: 'gift' },
        { id: 3, number: 'ORD-C003', status: 'shipped', total: '350', note: null },
        { id: 4, number: 'ORD-D004', status: 'pending', total: '450.75', note: 'rush' },
      ]))
      const ids = (...steps: ((q: typeof Order.query) => typeof Order.query)[]) =>
        ok(pipe(steps.reduce((q, s) => s(q), Order.query), Order.orderBy('id'), Order.pluck(db, 'id')))
      expect(await ids(Order.where('status', '=', 'paid'))).toEqual([2])
      expect(await ids(Order.where('status', '=', 'pending'), Order.where('total', '>', '200.00'))).toEqual([4])
      expect(await ids(Order.where('status', 'in', ['pending', 'paid']))).toEqual([1, 2, 4])
      expect(await ids(Order.where('status', 'not in', ['pending', 'paid']))).toEqual([3])
      expect(await ids(Order.where('status', '=', 'pending'), Order.orWhere('status', '=', 'paid'))).toEqual([1, 2, 4])
      // total > 150 AND (status = paid OR status = shipped)
      expect(await ids(Order.where('total', '>', '150.00'), Order.where(Order.or({ status: 'paid' }, { status: 'shipped' })))).toEqual([2, 3])
      // status IN (pending, paid) AND (total < 250 OR total > 400)
      expect(await ids(Order.where('status', 'in', ['pending', 'paid']), Order.where(Order.or(Order.cond('total', '<', '250'), Order.cond('total', '>', '400'))))).toEqual([1, 4])
      // (total BETWEEN 200 AND 400 AND number LIKE 'ORD-B%') OR (status = pending AND note IS NOT NULL)
      expect(await ids(Order.where(Order.or(
        Order.and(Order.cond('total', 'between', '200.00', '400.00'), Order.cond('number', 'like', 'ORD-B%')),
        Order.and({ status: 'pending' }, Order.cond('note', 'is not null')),
      )))).toEqual([2, 4])
      expect(await ids(Order.where('id', 'in', []))).toEqual([])
      expect(await ids(Order.where('id', 'not in', []))).toEqual([1, 2, 3, 4])
      expect(await ids(Order.where({ id: [] }))).toEqual([])
      expect(await ids(Order.where('total', 'between', '100.00', '300.00'))).toEqual([1, 2])
      expect(await ids(Order.where('total', 'not between', '100.00', '300.00'))).toEqual([3, 4])
      expect(await ids(Order.where('number', 'like', 'ORD-A%'))).toEqual([1])
      expect(await ids(Order.where('number', 'not like', 'ORD-A%'))).toEqual([2, 3, 4])
      expect(await ids(Order.where('note', 'is null'))).toEqual([1, 3])
      expect(await ids(Order.where('note', 'is not null'))).toEqual([2, 4])
      expect(await ids(Order.where(Order.not(Order.cond('note', 'is null'))))).toEqual([2, 4])
      // Decimals sum and compare as numbers (SQLite keeps no scale: '601' there, '601.00' elsewhere).
      expect(Number(await ok(pipe(Order.query, Order.where('status', '=', 'pending'), Order.sum(db, 'total'))))).toBe(601)
      expect(await ok(pipe(Order.query, Order.orderBy('total', 'desc'), Order.pluck(db, 'id')))).toEqual([4, 3, 2, 1])
    })
  })
}
