/**
 * increment / decrement change numbers only, exactly: a field that holds no number is refused
 * (SQLite turned a title into '1.0'), a 64-bit field past 2^53 moves by exactly the step on every
 * engine (SQLite and MariaDB computed it in floating point: 2^62 + 1 + 1 came back as 2^62), an
 * integer field is not moved by a fraction (which engines truncated, rounded or stored), and a
 * NULL counter counts from 0 (as Rails' update_counters), not staying NULL without a word.
 */
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { isDbError } from 'recordkit'
import { int64, integer, model, nullable } from 'recordkit/model'
import { fails, ok } from 'recordkit/testing'
import { ENGINES, engineTables } from './support/engine-tables.js'

const T = 'mi_counters'
const Counter = model({
  table: T,
  primaryKey: 'id',
  codec: t.type({ id: t.number, title: t.string, views: integer, big: int64, score: t.number, hits: nullable(integer) }),
})

const ddl = (engine: string): string[] => [
  `CREATE TABLE ${T} (id INTEGER NOT NULL PRIMARY KEY, title VARCHAR(50) NOT NULL, views INTEGER NOT NULL, big BIGINT NOT NULL, score ${engine === 'postgres' ? 'DOUBLE PRECISION' : 'DOUBLE'} NOT NULL, hits INTEGER)${engine === 'mariadb' ? ' ENGINE=InnoDB' : ''}`,
]

const BIG = 2n ** 62n + 1n

for (const engine of ENGINES) {
  describe(`increment of each kind of field (${engine.name})`, () => {
    const { use } = engineTables(engine, [T], ddl)

    it('moves numbers exactly, refuses what is no number or no whole step, and counts NULL from 0', async (ctx) => {
      const db = use(ctx)
      const row = await ok(Counter.create(db, { id: 1, title: 'a', views: 10, big: BIG, score: 1.5, hits: null }))
      // A 64-bit value past 2^53, by a number and by a BigInt, up and down.
      expect((await ok(Counter.increment(db, row, 'big'))).big).toBe(BIG + 1n)
      expect((await ok(Counter.increment(db, row, 'big', 2n ** 40n))).big).toBe(BIG + 1n + 2n ** 40n)
      expect((await ok(Counter.decrement(db, row, 'big', 3))).big).toBe(BIG + 1n + 2n ** 40n - 3n)
      // A fraction of a double is kept; of an integer field refused.
      expect((await ok(Counter.increment(db, row, 'score', 0.25))).score).toBe(1.75)
      const half = await fails(Counter.increment(db, row, 'views', 0.5))
      expect(isDbError(half, 'ValidationError') && half.issues.map((i) => `${i.path}: ${i.rule}`)).toEqual(['views: increment'])
      const bigHalf = await fails(Counter.increment(db, row, 'big', 0.5))
      expect(isDbError(bigHalf, 'ValidationError') && bigHalf.issues.map((i) => `${i.path}: ${i.rule}`)).toEqual(['big: increment'])
      // Text is no counter.
      const text = await fails(Counter.increment(db, row, 'title' as never))
      expect(isDbError(text, 'ValidationError') && text.issues.map((i) => `${i.path}: ${i.rule}`)).toEqual(['title: increment'])
      // NULL counts from 0.
      expect((await ok(Counter.increment(db, row, 'hits'))).hits).toBe(1)
      expect((await ok(Counter.increment(db, row, 'hits', 2))).hits).toBe(3)
      // Nothing refused was written.
      const stored = await ok(Counter.findOrFail(db, 1))
      expect(stored).toEqual({ id: 1, title: 'a', views: 10, big: BIG + 1n + 2n ** 40n - 3n, score: 1.75, hits: 3 })
    })
  })
}

describe('update without a patch', () => {
  for (const engine of ENGINES.filter((e) => e.name === 'sqlite')) {
    const { use } = engineTables(engine, [T], ddl)
    it('is a ValidationError saying what update takes, not a TypeError', async (ctx) => {
      const db = use(ctx)
      const row = await ok(Counter.create(db, { id: 1, title: 'a', views: 10, big: 1n, score: 1, hits: null }))
      const e = await fails((Counter.update as unknown as (...a: unknown[]) => typeof Counter.create extends (...a: never[]) => infer R ? R : never)(db, { ...row, title: 'b' }))
      expect(isDbError(e, 'ValidationError') && e.issues.map((i) => i.rule)).toEqual(['patch'])
      expect(e.message).toMatch(/update\(db, row, \{ name \}\)/)
      const e2 = await fails((Counter.update as unknown as (...a: unknown[]) => typeof Counter.create extends (...a: never[]) => infer R ? R : never)(db, null, { title: 'b' }))
      expect(isDbError(e2, 'ValidationError') && e2.issues.map((i) => i.rule)).toEqual(['row'])
      expect((await ok(Counter.findOrFail(db, 1))).title).toBe('a')
    })
  }
})
