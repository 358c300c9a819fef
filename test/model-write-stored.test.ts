/**
 * `update` returns the row as the database stored it, decoded, on SQLite, PostgreSQL and
 * MariaDB: what the columns made of the patch (a DECIMAL rounded, a DATE truncated, a CHAR
 * padded), a generated column computed again, the version the optimistic lock wrote; the same
 * row `find` reads afterwards, and the row `afterUpdate` hooks see. PostgreSQL and SQLite read
 * it with UPDATE ... RETURNING; MariaDB, which has no UPDATE ... RETURNING, with a read by key in
 * the same transaction.
 */
import * as TE from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { type Backend, type Compiled, statementOf, wrap } from 'recordkit'
import { date, decimal, model, optimisticLock } from 'recordkit/model'
import { ok } from 'recordkit/testing'
import { ENGINES, engineTables } from './support/engine-tables.js'

const definition = {
  table: 'rk_mwst_items',
  primaryKey: 'id',
  codec: t.type({ id: t.number, price: decimal, day: date, name: t.string, qty: t.number, twice: t.number, version: t.number }),
  // A generated column: never written by the model.
  defaults: ['twice'],
  behaviours: [optimisticLock()],
} as const
const Item = model(definition)
const seen: unknown[] = []
const Watched = model({ ...definition, hooks: { afterUpdate: (row) => { seen.push(row); return TE.right(row) } } })

const ddl = (engine: string): string[] => {
  const typed = engine === 'sqlite' ? 'price TEXT NOT NULL, day TEXT NOT NULL, name TEXT NOT NULL' : 'price DECIMAL(10, 2) NOT NULL, day DATE NOT NULL, name CHAR(5) NOT NULL'
  return [`CREATE TABLE rk_mwst_items (id INTEGER PRIMARY KEY, ${typed}, qty INTEGER NOT NULL, twice INTEGER GENERATED ALWAYS AS (qty * 2) STORED, version INTEGER NOT NULL)`]
}

/** A backend that records the statements it runs (middleware on `execute`: no synchronous path). */
const traced = (db: Backend): { readonly db: Backend; readonly log: Compiled[] } => {
  const log: Compiled[] = []
  return { db: wrap(db, { execute: (next, self) => (q) => { log.push(statementOf(self, q)); return next(q) } }), log }
}

const patch = { price: '2.555', day: new Date('2024-07-08T23:59:00Z'), name: 'cd', qty: 2 }

for (const engine of ENGINES) {
  describe(`update returns the stored row on ${engine.name}`, () => {
    const { use } = engineTables(engine, ['rk_mwst_items'], ddl)
    const create = (db: Backend) => ok(Item.create(db, { id: 1, price: '1.00', day: new Date('2024-07-01T00:00:00Z'), name: 'ab', qty: 1 }))

    it('what the columns stored, as find reads it', async (ctx) => {
      const db = use(ctx)
      const row = await create(db)
      const updated = await ok(Item.update(db, row, patch))
      const found = await ok(Item.findOrFail(db, 1))
      expect(updated).toEqual(found)
      expect([updated.twice, updated.version]).toEqual([4, 2])
      if (engine.name === 'sqlite') {
        // SQLite keeps the values as given.
        expect([updated.price, updated.day, updated.name]).toEqual(['2.555', patch.day, 'cd'])
      } else {
        // DECIMAL(10, 2) rounds, DATE drops the time, CHAR(5) pads (MariaDB strips the padding on reading).
        expect([updated.price, updated.day.toISOString(), updated.name]).toEqual(['2.56', '2024-07-08T00:00:00.000Z', engine.name === 'postgres' ? 'cd   ' : 'cd'])
      }
      // updateChanges gives the same row and names what it wrote.
      const { row: again, changed } = await ok(Item.updateChanges(db, updated, { qty: 5 }))
      expect(again).toEqual(await ok(Item.findOrFail(db, 1)))
      expect([again.twice, [...changed].sort()]).toEqual([10, ['qty', 'version']])
    })

    it('afterUpdate hooks see the stored row', async (ctx) => {
      const db = use(ctx)
      seen.length = 0
      const row = await create(db)
      const updated = await ok(Watched.update(db, row, patch))
      expect(seen).toEqual([updated])
      expect(updated).toEqual(await ok(Item.findOrFail(db, 1)))
      expect(updated.twice).toBe(4)
    })

    it(engine.name === 'mariadb' ? 'is read by key after the UPDATE, in its transaction' : 'is read with UPDATE ... RETURNING', async (ctx) => {
      const base = use(ctx)
      const row = await create(base)
      const { db, log } = traced(base)
      await ok(Item.update(db, row, { qty: 3 }))
      const texts = log.map((c) => c.sql)
      const q = (id: string) => base.dialect.quoteIdentifier(id)
      const p = (n: number) => base.dialect.placeholder(n)
      const update = `UPDATE ${q('rk_mwst_items')} SET ${q('qty')} = ${p(1)}, ${q('version')} = ${p(2)} WHERE ${q('rk_mwst_items')}.${q('id')} = ${p(3)} AND ${q('rk_mwst_items')}.${q('version')} = ${p(4)}`
      const columns = ['id', 'price', 'day', 'name', 'qty', 'twice', 'version']
      // The statements between the transaction's opening and its COMMIT.
      expect(texts[texts.length - 1]).toBe(base.dialect.commit())
      const body = texts.slice(1, -1)
      if (engine.name === 'mariadb') {
        expect(body[0]).toBe(update)
        // Read as find reads it (dates as the server's text).
        const read = columns.map((c) => (c === 'day' ? 'CAST(`rk_mwst_items`.`day` AS CHAR CHARACTER SET LATIN1) AS `day`' : `\`rk_mwst_items\`.\`${c}\``))
        expect(body[1]).toBe(`SELECT ${read.join(', ')} FROM \`rk_mwst_items\` WHERE \`rk_mwst_items\`.\`id\` = ? LIMIT ?`)
        expect(log[2].params).toEqual([1, 1])
        expect(body.length).toBe(2)
      } else {
        expect(body).toEqual([`${update} RETURNING ${columns.map(q).join(', ')}`])
      }
      expect(log[1].params).toEqual([3, 2, 1, 1])
      // The same shape again (its RETURNING text is then kept, not compiled): the same SQL, this update's values.
      log.length = 0
      const again = await ok(Item.update(db, await ok(Item.findOrFail(base, 1)), { qty: 4 }))
      expect(log.map((c) => c.sql)).toEqual(texts)
      expect(log[1].params).toEqual([4, 3, 1, 2])
      expect([again.qty, again.twice, again.version]).toEqual([4, 8, 3])
    })
  })
}
