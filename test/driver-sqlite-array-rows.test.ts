/**
 * The better-sqlite3 driver reads a read-only query's rows as arrays and makes them into objects
 * itself (better-sqlite3 makes row objects property by property, which costs more than the query
 * for many rows). The objects must be exactly what better-sqlite3 gives: the same keys in the
 * same order, the same values, integers beyond 2^53 as BigInt, repeated names keeping the last
 * value, and statements whose columns may move (`*`) or that cannot be written as an object
 * literal (`__proto__`) read as before.
 */
import Database from 'better-sqlite3'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { compose, run, sql } from 'recordkit'
import { sqlite } from 'recordkit/dialects/sqlite'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'

const dir = mkdtempSync(join(tmpdir(), 'rk-array-rows-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const setup = [
  'CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, big INTEGER, score REAL, data BLOB, note TEXT, flag BOOLEAN)',
  "INSERT INTO t VALUES (1, 'a', 9007199254740993, 1.5, x'0102', NULL, 1)",
  "INSERT INTO t VALUES (2, 'b', 42, -0.25, NULL, 'n', 0)",
  "INSERT INTO t VALUES (3, 'c', -9007199254740993, NULL, x'', '', NULL)",
]

/** The rows better-sqlite3 itself gives, read the way the driver reads integers (BigInt only past 2^53). */
const reference = (file: string, text: string): unknown[] => {
  const db = new Database(file, { readonly: true })
  try {
    return db.prepare(text).safeIntegers(true).all().map((r) => Object.fromEntries(Object.entries(r as object).map(([k, v]) => [k, typeof v === 'bigint' && Number.isSafeInteger(Number(v)) ? Number(v) : v])))
  } finally {
    db.close()
  }
}

describe('better-sqlite3 rows read as arrays', () => {
  const file = join(dir, 'rows.db')
  const db = compose(betterSqlite3({ filename: file }), sqlite)
  beforeAll(async () => { for (const s of setup) await run(db.execute(sql.raw(s))) })
  afterAll(async () => { await run(db.close()) })

  const statements = [
    'SELECT id, name, big, score, data, note, flag FROM t ORDER BY id',
    'SELECT id AS "1", name AS "0", id + 1 AS "x y", name AS "é" FROM t ORDER BY id',
    'SELECT t.id, u.id, t.name, u.name FROM t JOIN t AS u ON u.id = t.id ORDER BY t.id',
    'SELECT name AS "__proto__", id FROM t ORDER BY id',
    'SELECT id AS "constructor", name AS "toString", note AS "hasOwnProperty" FROM t ORDER BY id',
    'SELECT * FROM t ORDER BY id',
    'SELECT COUNT(*) AS n, max(big) AS m FROM t',
    'SELECT id FROM t WHERE id > 5',
  ]

  for (const text of statements) {
    it(`gives what better-sqlite3 gives: ${text}`, async () => {
      const got = await run(db.all(sql.raw(text)))
      const want = reference(file, text)
      expect(got).toEqual(want)
      // Keys in the same order, and own properties of plain objects.
      expect(got.map((r) => Object.keys(r as object))).toEqual(want.map((r) => Object.keys(r as object)))
      for (const r of got) expect(Object.getPrototypeOf(r)).toBe(Object.prototype)
      // Twice: the second read goes through the kept statement.
      expect(await run(db.all(sql.raw(text)))).toEqual(want)
    })
  }

  it('a column another connection adds is seen by SELECT *, and a query naming its columns keeps them', async () => {
    const text = 'SELECT id, name FROM t ORDER BY id'
    expect((await run(db.all(sql.raw('SELECT * FROM t ORDER BY id'))))[0]).not.toHaveProperty('extra')
    expect(await run(db.all(sql.raw(text)))).toHaveLength(3)
    const other = new Database(file)
    other.exec("ALTER TABLE t ADD COLUMN extra TEXT DEFAULT 'e'")
    other.close()
    expect((await run(db.all(sql.raw('SELECT * FROM t ORDER BY id'))))[0]).toMatchObject({ id: 1, extra: 'e' })
    expect(await run(db.all(sql.raw(text)))).toEqual([{ id: 1, name: 'a' }, { id: 2, name: 'b' }, { id: 3, name: 'c' }])
  })
})
