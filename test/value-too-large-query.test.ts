/**
 * A built INSERT or UPDATE run through `db.execute` / `first` / `all` whose value is too long for
 * its column names the column on PostgreSQL too, as MariaDB's errno 1406 does.
 *
 * PostgreSQL's 22001 names only the type: after the failure (never on success) the backend reads
 * the target table's declared lengths from `information_schema.columns` once and names the first
 * column (rows in order, each row's columns in order) whose written string is longer, in
 * characters (code points), spaces at the end the server cuts not counting. Inside a transaction
 * PostgreSQL has aborted, the error stays as the server gave it; an insert cut into statements
 * (`unnest` with `rowsPerStatement`) runs in a savepoint of its own, rolled back before the
 * lookup, so it is named there too. MariaDB names the column itself: the same assertions hold.
 */
import { right } from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type Backend, connect, type DbError, sql } from 'recordkit'
import { mysql } from 'recordkit/dialects/mysql'
import { postgres, unnest } from 'recordkit/dialects/postgres'
import { mysql2 } from 'recordkit/drivers/mysql2'
import { postgresJs } from 'recordkit/drivers/postgres'
import { col, eq, insertInto, onConflict, returning, set, update, values, where } from 'recordkit/query'
import { model, nullable } from 'recordkit/model'
import { fails, ok } from 'recordkit/testing'
import { valueColumnsOf } from '../src/value-columns.js'
import { MYSQL_URL, PG_URL } from './support/servers.js'
import { asTooLarge, pgUp, tooLongEngines } from './support/too-large.js'

const T = 'vtlq_items'
const Item = model({ table: T, primaryKey: 'id', codec: t.type({ id: t.number, name: t.string, note: nullable(t.string) }), defaults: ['note'] })
const S = 'vtlq_s'
const FREE = 'vtlq_free'

for (const engine of tooLongEngines) {
  const pg = engine.name === 'PostgreSQL'
  describe.skipIf(!engine.up)(`a built write of a value too long on ${engine.name}`, () => {
    let db: Backend
    const names = async () => (await ok(db.all(sql`SELECT name FROM ${sql.id(T)} ORDER BY id`))).map((r) => r.name)

    beforeAll(async () => {
      db = await engine.open()
      await ok(db.execute(sql.raw(pg ? `CREATE SCHEMA IF NOT EXISTS ${S}` : `CREATE DATABASE IF NOT EXISTS ${S}`)))
    })
    beforeEach(async () => {
      await ok(db.execute(sql.raw(`DROP TABLE IF EXISTS ${T}`)))
      await ok(db.execute(sql.raw(`DROP TABLE IF EXISTS ${S}.${T}`)))
      await ok(db.execute(sql.raw(`CREATE TABLE ${T} (id ${engine.serial}, name VARCHAR(5) NOT NULL, note CHAR(4), body TEXT)`)))
      // The same table name in another schema, with shorter columns in another order.
      await ok(db.execute(sql.raw(`CREATE TABLE ${S}.${T} (id ${engine.serial}, body TEXT, name VARCHAR(3))`)))
    })
    afterAll(async () => {
      if (db === undefined) return
      await ok(db.execute(sql.raw(`DROP TABLE IF EXISTS ${T}`)))
      await ok(db.execute(sql.raw(pg ? `DROP SCHEMA IF EXISTS ${S} CASCADE` : `DROP DATABASE IF EXISTS ${S}`)))
      await ok(db.close())
    })

    it('insert of one row: the column, the message, SQL, params and code kept; nothing written', async () => {
      const e = asTooLarge(await fails(db.execute(pipe(insertInto(T), values({ name: 'abcdefgh', note: 'ab' })))))
      expect([e.code, e.column]).toEqual([engine.code, 'name'])
      expect(e.sql).toMatch(/^INSERT INTO [`"]vtlq_items[`"]/)
      expect(e.params).toEqual(['abcdefgh', 'ab'])
      expect(e.message).toContain('\n  SQL: INSERT INTO')
      expect(e.message.split('\n')[0]).toBe(pg ? 'value too long for type character varying(5) (column name)' : "Data too long for column 'name' at row 1")
      if (pg) expect(e.table).toBe(T)
      expect(await names()).toEqual([])
    })

    it('first and all of an insert with RETURNING: named the same', async () => {
      const q = pipe(insertInto(T), values({ note: 'abcdef', name: 'ok' }), returning('id'))
      expect(asTooLarge(await fails(db.first(q))).column).toBe('note')
      expect(asTooLarge(await fails(db.all(q))).column).toBe('note')
    })

    it('many rows of plain columns: the first row holding a value too long, its first such column; trailing spaces and code points counted as the server does', async () => {
      const rows = [
        { name: 'ab     ', note: 'ab  ', body: 'x'.repeat(500) },
        { name: 'éé😀😀é', note: 'abcd', body: 'y' },
        { name: 'cc', note: 'toolong', body: 'z' },
        { name: 'dddddddd', note: 'd', body: 'z' },
        { name: 'e', note: 'e', body: 'z' },
      ]
      const q = pipe(insertInto(T), values(rows))
      expect(valueColumnsOf(q)).toBeDefined()
      const e = asTooLarge(await fails(db.execute(q)))
      expect([e.code, e.column]).toEqual([engine.code, 'note'])
      // Rows kept as columns are read as such: naming the column made no row of nodes.
      expect(valueColumnsOf(q)).toBeDefined()
      expect(await names()).toEqual([])
      // The rows before it are stored, as the server keeps them: spaces past the length cut.
      await ok(db.execute(pipe(insertInto(T), values(rows.slice(0, 2)))))
      expect(await names()).toEqual(['ab   ', 'éé😀😀é'])
    })

    it('rows of nodes (a DEFAULT, an expression): the values given are compared, the rest skipped', async () => {
      const e = asTooLarge(await fails(db.execute(pipe(insertInto(T), values([
        { name: sql`LOWER(${'ABCDEFGHIJ'})`, note: 'a' },
        { name: 'b' },
        { name: 'ccccccc', note: 'c' },
      ])))))
      // The expression's value is not known here; the first plain value too long is row 2's name.
      expect([e.code, e.column]).toEqual([engine.code, 'name'])
    })

    it('update: the column; the row as it was', async () => {
      await ok(db.execute(pipe(insertInto(T), values({ name: 'ann' }))))
      const e = asTooLarge(await fails(db.execute(pipe(update(T), set({ name: 'bob', note: 'lengthy' }), where(eq(col('name'), 'ann'))))))
      expect([e.code, e.column]).toEqual([engine.code, 'note'])
      expect(e.sql).toMatch(/^UPDATE /)
      expect(e.params).toContain('lengthy')
      expect(await ok(db.all(sql`SELECT name, note FROM ${sql.id(T)}`))).toEqual([{ name: 'ann', note: null }])
    })

    it('a model\'s write of a built UPDATE (updateWhere): the column said once, with its field', async () => {
      await ok(db.execute(pipe(insertInto(T), values({ name: 'ann' }))))
      const e = asTooLarge(await fails(Item.updateWhere(db, { name: 'ann' }, { note: 'lengthy' })))
      expect([e.column, e.field, e.table]).toEqual(['note', 'note', T])
      expect(e.message.split('\n')[0]).toBe(pg ? 'value too long for type character(4) (column note, field note)' : "Data too long for column 'note' at row 1 (field note)")
    })

    it('an upsert\'s update of a value too long: its column', async () => {
      const [{ id }] = await ok(db.all(pipe(insertInto(T), values({ name: 'ann' }), returning('id'))))
      const e = asTooLarge(await fails(db.execute(pipe(insertInto(T), values({ id, name: 'ann' }), onConflict(['id'], { note: 'far too long' })))))
      expect([e.code, e.column]).toEqual([engine.code, 'note'])
    })

    it('a schema-qualified table: its own lengths, not those of the table of that name in the default schema', async () => {
      const q = pipe(insertInto(`${S}.${T}`), values({ body: 'long text is fine', name: 'abcd' }))
      const e = asTooLarge(await fails(db.execute(q)))
      expect([e.code, e.column]).toEqual([engine.code, 'name'])
      if (pg) expect(e.table).toBe(`${S}.${T}`)
      // Four characters fit the default schema's VARCHAR(5): stored there.
      await ok(db.execute(pipe(insertInto(T), values({ name: 'abcd' }))))
    })

    it('an insert cut into statements (rowsPerStatement): named, nothing written', async () => {
      const rows = Array.from({ length: 7 }, (_, i) => ({ name: i === 5 ? 'sixth row' : `r${i}`, note: 'n' }))
      const q = pipe(insertInto(T), values(rows), unnest({ name: 'text', note: 'text' }, { rowsPerStatement: 2 }))
      const e = asTooLarge(await fails(db.execute(q)))
      expect([e.code, e.column]).toEqual([engine.code, 'name'])
      expect(await names()).toEqual([])
    })

    it('inside a transaction: the transaction behaves as it does for any failure there', async () => {
      let failed: DbError | undefined
      let next: DbError | undefined
      const outcome = await db.transaction((tx) => async () => {
        const f = await tx.execute(pipe(insertInto(T), values({ name: 'abcdefgh' })))()
        const n = await tx.execute(pipe(insertInto(T), values({ name: 'kept' })))()
        failed = f._tag === 'Left' ? f.left : undefined
        next = n._tag === 'Left' ? n.left : undefined
        return right(undefined)
      })()
      const e = asTooLarge(failed!)
      expect([e.code, e.sql?.startsWith('INSERT INTO')]).toEqual([engine.code, true])
      if (pg) {
        // PostgreSQL aborted the transaction: the lookup cannot run on its connection (and the
        // pool's do not see its work), so the error stays as the server gave it. The next
        // statement is refused naming it as its cause, and the transaction does not commit.
        expect(e.column).toBeUndefined()
        expect(e.message.split('\n')[0]).toBe('value too long for type character varying(5)')
        expect([next?._tag, next?.code, next?.cause]).toEqual(['TransactionError', '25P02', e])
        expect(outcome._tag).toBe('Left')
        expect(await names()).toEqual([])
      } else {
        // MariaDB undoes the statement alone: named, and the transaction goes on and commits.
        expect(e.column).toBe('name')
        expect([next, outcome._tag]).toEqual([undefined, 'Right'])
        expect(await names()).toEqual(['kept'])
      }
    })

    it('on a reserved connection (no transaction): named, read on that connection (the pool of one has no other), which goes on', async () => {
      const one = await (pg ? ok(connect(postgresJs({ url: PG_URL, max: 1 }), postgres)) : ok(connect(mysql2({ url: MYSQL_URL, max: 1 }), mysql)))
      try {
        const c = await ok(one.connection())
        try {
          const e = asTooLarge(await fails(c.execute(pipe(insertInto(T), values({ name: 'abcdefgh' })))))
          expect([e.code, e.column]).toEqual([engine.code, 'name'])
          await ok(c.execute(pipe(insertInto(T), values({ name: 'kept' }))))
        } finally {
          await ok(c.release())
        }
      } finally {
        await ok(one.close())
      }
      expect(await names()).toEqual(['kept'])
    })

    it('inside a transaction, an insert cut into statements: named (its savepoint rolled back), and the transaction goes on and commits', async () => {
      const rows = Array.from({ length: 5 }, (_, i) => ({ name: i === 3 ? 'fourth row' : `r${i}` }))
      const q = pipe(insertInto(T), values(rows), unnest({ name: 'text' }, { rowsPerStatement: 2 }))
      const [failed] = await ok(db.transaction((tx) => async () => {
        const r = await tx.execute(q)()
        await ok(tx.execute(pipe(insertInto(T), values({ name: 'kept' }))))
        return right([r] as const)
      }))
      expect(failed._tag === 'Left' && [asTooLarge(failed.left).code, asTooLarge(failed.left).column]).toEqual([engine.code, 'name'])
      expect(await names()).toEqual(['kept'])
    })
  })
}

describe.skipIf(!pgUp)('PostgreSQL: a 22001 no written value explains', () => {
  let db: Backend
  beforeAll(async () => {
    db = await ok(connect(postgresJs({ url: PG_URL, max: 2 }), postgres))
    await ok(db.execute(sql.raw(`DROP TABLE IF EXISTS ${FREE}`)))
    await ok(db.execute(sql.raw(`CREATE TABLE ${FREE} (id SERIAL PRIMARY KEY, body TEXT)`)))
    // A trigger whose VARCHAR(3) variable refuses the value: 22001 on a table without declared lengths.
    await ok(db.execute(sql.raw(`CREATE OR REPLACE FUNCTION vtlq_short() RETURNS trigger AS $$ DECLARE x VARCHAR(3); BEGIN x := NEW.body; RETURN NEW; END $$ LANGUAGE plpgsql`)))
    await ok(db.execute(sql.raw(`CREATE TRIGGER vtlq_short BEFORE INSERT OR UPDATE ON ${FREE} FOR EACH ROW EXECUTE FUNCTION vtlq_short()`)))
  })
  afterAll(async () => {
    if (db === undefined) return
    await ok(db.execute(sql.raw(`DROP TABLE IF EXISTS ${FREE}`)))
    await ok(db.execute(sql.raw('DROP FUNCTION IF EXISTS vtlq_short()')))
    await ok(db.close())
  })

  it('a table with no length limits: no column named, the error as the server gave it', async () => {
    const inserted = asTooLarge(await fails(db.execute(pipe(insertInto(FREE), values({ body: 'abcdef' })))))
    await ok(db.execute(pipe(insertInto(FREE), values({ body: 'abc' }))))
    const updated = asTooLarge(await fails(db.execute(pipe(update(FREE), set({ body: 'abcdef' })))))
    for (const e of [inserted, updated]) {
      expect([e.code, e.column, e.table]).toEqual(['22001', undefined, undefined])
      expect(e.message.split('\n')[0]).toBe('value too long for type character varying(3)')
    }
    expect(await ok(db.all(sql.raw(`SELECT body FROM ${FREE}`)))).toEqual([{ body: 'abc' }])
  })

  it('a table with lengths no written value exceeds: no column named', async () => {
    await ok(db.execute(sql.raw(`ALTER TABLE ${FREE} ADD COLUMN IF NOT EXISTS tag VARCHAR(10)`)))
    const e = asTooLarge(await fails(db.execute(pipe(insertInto(FREE), values({ body: 'abcdef', tag: 'short' })))))
    expect([e.code, e.column]).toEqual(['22001', undefined])
  })
})
