/**
 * `inBulk` by a `date` (or `bytes`) field: a JS Map compares a Date or a byte array by identity,
 * so a Map keyed by the Dates given missed `map.get(new Date(same))`. As Django's `in_bulk` keys
 * by the value (Python's datetimes are equal by value) and Laravel's `keyBy` by the value's text,
 * the Map is keyed by the value's text: a Date by `toISOString()`, bytes by their hex. Numbers,
 * strings and bigints stay as they are.
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { run } from 'recordkit'
import { bytes, date, model, promisedModel } from 'recordkit/model'
import { ENGINES, engineTables } from './support/engine-tables.js'

const Event = model({
  table: 'rk_ib_events',
  primaryKey: 'id',
  codec: t.type({ id: t.number, at: date, tag: bytes, name: t.string }),
})

const at = (minute: number) => new Date(Date.UTC(2026, 0, 2, 3, minute, 5, 250))

for (const engine of ENGINES) {
  describe(`inBulk by a date on ${engine.name}`, () => {
    const { use } = engineTables(engine, ['rk_ib_events'], (name) => [
      name === 'postgres'
        ? 'CREATE TABLE rk_ib_events (id INTEGER PRIMARY KEY, at TIMESTAMPTZ(3) NOT NULL UNIQUE, tag BYTEA NOT NULL, name TEXT NOT NULL)'
        : name === 'mariadb'
          ? 'CREATE TABLE rk_ib_events (id INTEGER PRIMARY KEY, at DATETIME(3) NOT NULL UNIQUE, tag VARBINARY(8) NOT NULL UNIQUE, name TEXT NOT NULL)'
          : 'CREATE TABLE rk_ib_events (id INTEGER PRIMARY KEY, at TEXT NOT NULL UNIQUE, tag BLOB NOT NULL UNIQUE, name TEXT NOT NULL)',
    ])

    it('keys the rows by the ISO text of each Date given (bytes by their hex), so an equal Date finds its row', async (ctx) => {
      const db = use(ctx)
      await run(Event.createMany(db, [
        { id: 1, at: at(1), tag: Uint8Array.from([1, 2]), name: 'one' },
        { id: 2, at: at(2), tag: Uint8Array.from([0xab]), name: 'two' },
      ]))
      const byAt = await run(Event.inBulk(db, [at(2), at(1), at(9)], 'at'))
      expect([...byAt.keys()]).toEqual([at(2).toISOString(), at(1).toISOString()])
      expect(byAt.get(new Date(at(1).getTime()).toISOString())?.name).toBe('one')
      const key: string = [...byAt.keys()][0]
      expect(key).toBe('2026-01-02T03:02:05.250Z')
      const byTag = await run(Event.inBulk(db, [Uint8Array.from([0xab])], 'tag'))
      expect(byTag.get('ab')?.id).toBe(2)
      // The primary key, a number, as it is; the Promise face alike.
      expect((await run(Event.inBulk(db, [2]))).get(2)?.name).toBe('two')
      expect((await promisedModel(Event).inBulk(db, [at(1)], 'at')).get(at(1).toISOString())?.id).toBe(1)
      expect(await run(pipe(Event.query, Event.count(db)))).toBe(2)
    })
  })
}
