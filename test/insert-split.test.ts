/**
 * An INSERT of more values than one statement binds (`maxParams`: 32,766 on SQLite, 65,533 on
 * PostgreSQL, 65,535 on MariaDB) is sent as statements of as many rows as fit, run as one unit
 * (src/dialects/split-insert.ts), the same on SQLite, PostgreSQL and MariaDB: every row is
 * written, RETURNING gives every row in input order, rows affected is the sum and insertId the
 * one a single statement would report (MariaDB: the first row's key, SQLite: the last row's), a
 * failing part leaves nothing, upserts and DEFAULT cells split too, a cell that binds several
 * values counts them all, and an INSERT ... SELECT stays one statement.
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type Backend, compose, connect, type DbError, run, sql } from 'recordkit'
import { mysql } from 'recordkit/dialects/mysql'
import { postgres, unnest } from 'recordkit/dialects/postgres'
import { sqlite } from 'recordkit/dialects/sqlite'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'
import { mysql2 } from 'recordkit/drivers/mysql2'
import { postgresJs } from 'recordkit/drivers/postgres'
import { add, from, fromSelect, insertInto, onConflict, returning, select, val, values } from 'recordkit/query'
import type { InsertNode } from 'recordkit/query'
import { MYSQL_URL, PG_URL, serverAvailable } from './support/servers.js'

const pgUp = await serverAvailable('postgres')
const mariaUp = await serverAvailable('mariadb')

const T = 'insert_split'
const COPY = 'insert_split_copy'

/** The engine, whether it runs here, how to open it, and its key column. */
const engines: readonly (readonly [string, boolean, () => Promise<Backend>, string])[] = [
  ['SQLite', true, async () => compose(betterSqlite3({ filename: ':memory:' }), sqlite), 'id INTEGER PRIMARY KEY'],
  ['PostgreSQL', pgUp, () => run(connect(postgresJs({ url: PG_URL, max: 2 }), postgres)), 'id SERIAL PRIMARY KEY'],
  ['MariaDB', mariaUp, () => run(connect(mysql2({ url: MYSQL_URL, max: 2 }), mysql)), 'id INTEGER AUTO_INCREMENT PRIMARY KEY'],
]

/** `count` rows of two values, n from `from` on: 40,000 of them bind 80,000 values, more than any engine takes in one statement. */
const many = (from: number, count: number, m = 0) => Array.from({ length: count }, (_, i) => ({ n: from + i, m }))

const left = async <A>(t: TE.TaskEither<DbError, A>): Promise<DbError> => {
  const r = await t()
  if (E.isRight(r)) throw new Error(`expected a failure, got ${JSON.stringify(r.right).slice(0, 200)}`)
  return r.left
}

for (const [engine, available, open, key] of engines) {
  describe.skipIf(!available)(`an INSERT too big for one statement on ${engine}`, () => {
    let db: Backend
    const stats = async () => {
      const [r] = await run(db.all<Record<string, unknown>>(sql`SELECT COUNT(*) AS c, MIN(id) AS lo, MAX(id) AS hi, SUM(n) AS sn, SUM(m) AS sm FROM ${sql.id(T)}`))
      return { count: Number(r.c), lo: Number(r.lo), hi: Number(r.hi), sumN: Number(r.sn ?? 0), sumM: Number(r.sm ?? 0) }
    }
    const parts = (q: InsertNode) => db.dialect.insertStatements(q).length

    beforeAll(async () => {
      db = await open()
      for (const t of [T, COPY]) await run(db.execute(sql`DROP TABLE IF EXISTS ${sql.id(t)}`))
      await run(db.execute(sql`CREATE TABLE ${sql.id(T)} (${sql.raw(key)}, n INTEGER NOT NULL UNIQUE, m INTEGER NOT NULL DEFAULT 7)`))
      await run(db.execute(sql`CREATE TABLE ${sql.id(COPY)} (n INTEGER NOT NULL, m INTEGER NOT NULL)`))
    })
    beforeEach(async () => {
      await run(db.execute(sql`DELETE FROM ${sql.id(T)}`))
    })
    afterAll(async () => {
      for (const t of [T, COPY]) await run(db.execute(sql`DROP TABLE IF EXISTS ${sql.id(t)}`))
      await run(db.close())
    })

    it('writes every row, counts them all, and reports the insertId one statement would', async () => {
      const q = pipe(insertInto(T), values(many(1, 40_000, 1)))
      expect(parts(q)).toBeGreaterThan(1)
      const r = await run(db.execute(q))
      expect(r.rowsAffected).toBe(40_000)
      const s = await stats()
      expect(s).toMatchObject({ count: 40_000, sumN: (40_000 * 40_001) / 2, sumM: 40_000 })
      expect(s.hi - s.lo).toBe(39_999)
      // One multi-row statement reports its first row's key on MariaDB, its last row's on
      // SQLite, and none on PostgreSQL: the split insert reports the same.
      const one = await run(db.execute(pipe(insertInto(T), values(many(50_001, 3)))))
      const after = await stats()
      if (engine === 'MariaDB') {
        expect(Number(r.insertId)).toBe(s.lo)
        expect(Number(one.insertId)).toBe(s.hi + 1)
      } else if (engine === 'SQLite') {
        expect(Number(r.insertId)).toBe(s.hi)
        expect(Number(one.insertId)).toBe(after.hi)
      } else {
        expect(r.insertId).toBeUndefined()
        expect(one.insertId).toBeUndefined()
      }
    })

    it('RETURNING gives every row, in the order given', async () => {
      const rows = await run(db.all<{ id: number; n: number }>(pipe(insertInto(T), values(many(1, 40_000)), returning('id', 'n'))))
      expect(rows.length).toBe(40_000)
      expect(rows.every((r, i) => Number(r.n) === i + 1)).toBe(true)
      expect(rows.every((r, i) => i === 0 || Number(r.id) > Number(rows[i - 1].id))).toBe(true)
    })

    it('a last part that fails leaves nothing written, outside a transaction and inside one', async () => {
      const bad = pipe(insertInto(T), values([...many(1, 40_000), { n: 5, m: 0 }]))
      expect(parts(bad)).toBeGreaterThan(1)
      expect((await left(db.execute(bad)))._tag).toBe('UniqueViolation')
      expect((await stats()).count).toBe(0)
      // Inside the caller's transaction: the savepoint is undone, the transaction goes on.
      const caught = await run(db.transaction((tx) => pipe(
        tx.execute(pipe(insertInto(T), values({ n: -1, m: 0 }))),
        TE.chainW(() => pipe(tx.execute(bad), TE.map(() => 'written'), TE.orElseW((e) => TE.right(e._tag)))),
      )))
      expect(caught).toBe('UniqueViolation')
      expect(await stats()).toMatchObject({ count: 1, sumN: -1 })
    })

    it('an upsert splits: each part updates or skips its rows, rows affected added up', async () => {
      await run(db.execute(pipe(insertInto(T), values(many(1, 20_000)))))
      // Half already there: updated to m = 1; the other half inserted with m = 1.
      const update = pipe(insertInto(T), values(many(10_001, 40_000, 1)), onConflict(['n'], ['m']))
      expect(parts(update)).toBeGreaterThan(1)
      const u = await run(db.execute(update))
      // MariaDB counts an updated row twice; the others once.
      expect(u.rowsAffected).toBe(engine === 'MariaDB' ? 30_000 + 2 * 10_000 : 40_000)
      expect(await stats()).toMatchObject({ count: 50_000, sumM: 40_000 })
      // Do nothing on conflict: only the rows not there yet count.
      const skip = pipe(insertInto(T), values(many(40_001, 40_000, 5)), onConflict(['n'], 'nothing'))
      expect(parts(skip)).toBeGreaterThan(1)
      expect((await run(db.execute(skip))).rowsAffected).toBe(30_000)
      expect(await stats()).toMatchObject({ count: 80_000, sumM: 40_000 + 5 * 30_000 })
    })

    it('an upsert that updates gives a key twice in two parts: refused on PostgreSQL as one statement is, nothing written', async () => {
      const twice = pipe(insertInto(T), values([...many(1, 40_000, 1), { n: 3, m: 2 }]), onConflict(['n'], ['m']))
      if (engine === 'PostgreSQL') {
        const e = await left(db.execute(twice))
        expect(e._tag).toBe('QueryError')
        expect(e.message).toContain('cannot affect row a second time')
        expect((await stats()).count).toBe(0)
        // One statement with a key twice: the server's own refusal.
        const one = await left(db.execute(pipe(insertInto(T), values([{ n: 1, m: 1 }, { n: 1, m: 2 }]), onConflict(['n'], ['m']))))
        expect(one.message).toContain('cannot affect row a second time')
      } else {
        // SQLite and MariaDB update the row written before, in one statement as in parts.
        await run(db.execute(twice))
        expect(await stats()).toMatchObject({ count: 40_000, sumM: 40_000 + 1 })
      }
    })

    it('rows with DEFAULT cells split, each left to its default', async () => {
      // Every 1000th row leaves m out: DEFAULT (7).
      const rows = Array.from({ length: 40_000 }, (_, i) => (i % 1000 === 0 ? { n: i } : { n: i, m: 1 }))
      const q = pipe(insertInto(T), values(rows))
      expect(parts(q)).toBeGreaterThan(1)
      expect((await run(db.execute(q))).rowsAffected).toBe(40_000)
      expect(await stats()).toMatchObject({ count: 40_000, sumM: 39_960 + 7 * 40 })
    })

    it('a cell that binds several values counts them all', async () => {
      // m = i + 0 + ... + 0, ten values: rows of eleven parameters, enough of them to pass the
      // limit, which they stay below if a cell counted one (SQLite is slow to prepare many
      // expressions: few rows of many values keep it quick).
      const count = Math.ceil((db.dialect.maxParams + 1000) / 11)
      expect(count * 2).toBeLessThan(db.dialect.maxParams)
      const sum = (i: number) => Array.from({ length: 9 }, () => val(0)).reduce((e, z) => add(e, z), add(val(i), val(0)))
      const q = pipe(insertInto(T), values(Array.from({ length: count }, (_, i) => ({ n: i, m: sum(i) }))))
      expect(parts(q)).toBeGreaterThan(1)
      await run(db.execute(q))
      expect(await stats()).toMatchObject({ count, sumM: ((count - 1) * count) / 2 })
    })

    it.skipIf(engine !== 'PostgreSQL')('an unnest insert binds an array a column; one written as VALUES rows after all is split', async () => {
      const types = { n: 'int4', m: 'int4' }
      const arrays = pipe(insertInto(T), values(many(1, 40_000)), unnest(types))
      expect(parts(arrays)).toBe(1)
      // A DEFAULT cell in a column the other rows set: VALUES rows, in parts of rowsPerStatement
      // rows, each cut below the limit.
      const rows = many(1, 40_000).map((r, i) => (i === 7 ? { n: r.n } : r))
      const mixed = pipe(insertInto(T), values(rows), unnest(types, { rowsPerStatement: 39_000 }))
      expect(parts(mixed)).toBeGreaterThan(1)
      expect((await run(db.execute(mixed))).rowsAffected).toBe(40_000)
      expect(await stats()).toMatchObject({ count: 40_000, sumM: 7 })
    })

    it('an INSERT ... SELECT stays one statement, whatever the rows it copies', async () => {
      await run(db.execute(pipe(insertInto(T), values(many(1, 40_000)))))
      const q = pipe(insertInto(COPY), fromSelect(['n', 'm'], pipe(from(T), select('n', 'm'))))
      expect(parts(q)).toBe(1)
      expect((await run(db.execute(q))).rowsAffected).toBe(40_000)
      await run(db.execute(sql`DELETE FROM ${sql.id(COPY)}`))
    })
  })
}
