/**
 * A model's own rows read in place, on SQLite, PostgreSQL and MariaDB: `all`, `first`,
 * `paginate`, `batches` and `pluck` name each column after its field (`created_at AS
 * "createdAt"`; on MariaDB dates as the server's text) and decode the driver's rows where they
 * are. The rows are the ones the copying mapper makes of the columns read under their own names
 * (types, key order, NULLs, absent optional fields, dates of years 0-99, decimals); a value that
 * does not decode is a DecodeError naming table, field and row; refinements and row-level checks
 * still run; a field name that cannot be an alias, or a computed column named like a field, reads
 * the way every row was read before.
 */
import { pipe } from 'fp-ts/lib/function.js'
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import { beforeEach, describe, expect, it } from 'vitest'
import { type Backend, type Compiled, compose, type DbError, extend, isDbError, run, sql, statementOf, wrap } from 'recordkit'
import { sqlite } from 'recordkit/dialects/sqlite'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'
import { bool, compileQuery, date, decimal, model, nullable, snakeCase } from 'recordkit/model'
import { ENGINES, engineTables } from './support/engine-tables.js'

const NonEmpty = t.refinement(t.string, (s) => s.length > 0, 'NonEmpty')

const Crate = model({
  table: 'rk_rip_crates',
  primaryKey: 'id',
  naming: snakeCase,
  codec: t.refinement(
    t.intersection([
      t.type({ id: t.number, label: NonEmpty, packedAt: date, openedAt: nullable(date), fragile: bool, flag: bool, price: decimal }),
      t.partial({ note: t.string }),
    ]),
    (c) => c.label !== 'forbidden',
    'NotForbidden',
  ),
})
// A field name no engine takes as a column alias as it is: its rows are copied, as before.
const Tag = model({
  table: 'rk_rip_tags',
  primaryKey: 'id',
  columns: { 'display name': 'display_name' },
  codec: t.type({ id: t.number, 'display name': t.string }),
})

const ok = async <A>(te: TaskEither<DbError, A>): Promise<A> => run(te)
const fails = async <A>(te: TaskEither<DbError, A>): Promise<DbError> => {
  const r = await te()
  if (r._tag === 'Right') throw new Error(`expected a failure, got ${JSON.stringify(r.right)}`)
  return r.left
}

const TABLES = ['rk_rip_crates', 'rk_rip_tags']

const ddl = (engine: string): string[] => {
  const stamp = engine === 'postgres' ? 'TIMESTAMP(3)' : engine === 'mariadb' ? 'DATETIME(3)' : 'TEXT'
  const flag = engine === 'postgres' ? 'BOOLEAN' : 'INTEGER'
  // SQLite keeps a decimal exactly only as text.
  const money = engine === 'sqlite' ? 'TEXT' : 'DECIMAL(10, 2)'
  return [
    `CREATE TABLE rk_rip_crates (id INTEGER PRIMARY KEY, label VARCHAR(40) NOT NULL, packed_at ${stamp} NOT NULL, opened_at ${stamp} NULL,
      fragile ${flag} NOT NULL, flag INTEGER NOT NULL, price ${money} NOT NULL, note VARCHAR(40) NULL)`,
    'CREATE TABLE rk_rip_tags (id INTEGER PRIMARY KEY, display_name VARCHAR(40) NOT NULL)',
  ]
}


/** A backend that records the statements it runs. */
const traced = (db: Backend): { readonly db: Backend; readonly log: Compiled[] } => {
  const log: Compiled[] = []
  return {
    db: wrap(db, {
      execute: (next, self) => (q) => {
        log.push(statementOf(self, q))
        return next(q)
      },
    }),
    log,
  }
}

for (const engine of ENGINES) {
  describe(`a model's rows read in place on ${engine.name}`, () => {
    const { use, current } = engineTables(engine, TABLES, ddl)
    const q = (name: string) => (engine.name === 'mariadb' ? `\`${name}\`` : `"${name}"`)
    // Each test starts from these rows (the tables are emptied before it).
    beforeEach(async () => {
      const db = current()
      if (db === undefined) return
      // `flag` is an INTEGER column everywhere (so that it can hold a value no boolean is): written as 0/1.
      for (const [id, label, packed, opened, fragile, flag, price, note] of [
        [1, 'tools', '0050-06-01 12:34:56.789', null, true, 0, '12.50', 'heavy'],
        [2, 'cups', '2024-02-29 23:59:58.120', '2024-03-01 00:00:00.000', false, 1, '0.99', null],
        [3, 'books', '1999-12-31 23:59:59.999', null, false, 0, '100.00', null],
      ] as const) {
        await ok(db.execute(sql`INSERT INTO rk_rip_crates (id, label, packed_at, opened_at, fragile, flag, price, note)
          VALUES (${id}, ${label}, ${packed}, ${opened}, ${fragile}, ${flag}, ${price}, ${note})`))
      }
      await ok(Tag.createMany(db, [{ id: 20, 'display name': 'top' }, { id: 21, 'display name': 'low' }]))
    })

    it('gives the rows the copying mapper makes: types, key order, NULLs, absent fields, dates of years 0-99, decimals', async (ctx) => {
      const d = use(ctx)
      const crates = await ok(pipe(Crate.query, Crate.orderBy('id'), Crate.all(d)))
      // The same columns read under their own names and copied to new rows by the model's mapper.
      const raw = await ok(d.all(sql`SELECT id, label, packed_at, opened_at, fragile, flag, price, note FROM rk_rip_crates ORDER BY id`))
      const copied = Crate.core.mapper()(raw.map((r) => ({ ...r })))
      expect(crates).toEqual(copied)
      expect(crates.map((c) => Object.keys(c))).toEqual(copied.map((c) => Object.keys(c as object)))
      expect(Object.keys(crates[0])).toEqual(['id', 'label', 'packedAt', 'openedAt', 'fragile', 'flag', 'price', 'note'])
      expect(crates.map((c) => [c.packedAt.toISOString(), c.openedAt?.toISOString() ?? null])).toEqual([
        ['0050-06-01T12:34:56.789Z', null], ['2024-02-29T23:59:58.120Z', '2024-03-01T00:00:00.000Z'], ['1999-12-31T23:59:59.999Z', null],
      ])
      expect(crates.map((c) => [c.fragile, c.flag, c.price, c.note])).toEqual([[true, false, '12.50', 'heavy'], [false, true, '0.99', undefined], [false, false, '100.00', undefined]])
      expect(crates[1]).toHaveProperty('note', undefined)
      // first, a selection, pluck, batches and a page read the same values.
      const first = await ok(pipe(Crate.query, Crate.where('id', '=', 1), Crate.first(d)))
      expect(first).toEqual({ _tag: 'Some', value: crates[0] })
      expect(await ok(pipe(Crate.query, Crate.select('packedAt', 'fragile'), Crate.orderBy('id'), Crate.all(d)))).toEqual(crates.map((c) => ({ packedAt: c.packedAt, fragile: c.fragile })))
      expect(await ok(pipe(Crate.query, Crate.orderBy('id'), Crate.pluck(d, 'openedAt')))).toEqual(crates.map((c) => c.openedAt))
      const batches: unknown[] = []
      for await (const batch of pipe(Crate.query, Crate.batches(d, { size: 2 }))) batches.push(...batch)
      expect(batches).toEqual(crates)
      const page = await ok(pipe(Crate.query, Crate.orderBy('id'), Crate.paginate(d, { page: 2, perPage: 2 })))
      expect([page.rows, page.total]).toEqual([[crates[2]], 3])
      // Field names that cannot be aliases: copied, as before.
      expect(await ok(pipe(Tag.query, Tag.orderBy('id'), Tag.all(d)))).toEqual([{ id: 20, 'display name': 'top' }, { id: 21, 'display name': 'low' }])
    })

    it('names the columns after the fields (MariaDB reads dates as text), and runs the SQL compileQuery shows', async (ctx) => {
      const { db: d, log } = traced(use(ctx))
      const query = pipe(Crate.query, Crate.where('fragile', '=', false), Crate.orderBy('packedAt', 'desc'))
      const shown = compileQuery(d, query)
      if (shown._tag === 'Left') throw shown.left
      const packed = `${q('rk_rip_crates')}.${q('packed_at')}`
      expect(shown.right.sql).toContain(engine.name === 'mariadb' ? `CAST(${packed} AS CHAR CHARACTER SET LATIN1) AS ${q('packedAt')}` : `${packed} AS ${q('packedAt')}`)
      expect(shown.right.sql).toContain(`${q('rk_rip_crates')}.${q('label')}, `)
      // Order and conditions stay on the table's columns.
      expect(shown.right.sql).toContain(`ORDER BY ${packed} DESC`)
      expect((await ok(pipe(query, Crate.all(d)))).map((c) => c.id)).toEqual([2, 3])
      expect(log.map((c) => c.sql)).toEqual([shown.right.sql])
      // Tags are read by column name: no alias can name the field.
      const tags = compileQuery(d, Tag.query)
      expect(tags._tag === 'Right' && tags.right.sql).toContain(`${q('rk_rip_tags')}.${q('display_name')} FROM`)
    })

    it('a value that does not decode is a DecodeError naming table, field and row', async (ctx) => {
      const d = use(ctx)
      await ok(d.execute(sql`UPDATE rk_rip_crates SET flag = 7 WHERE id = 2`))
      const e = await fails(pipe(Crate.query, Crate.orderBy('id'), Crate.all(d)))
      expect(isDbError(e, 'DecodeError')).toBe(true)
      if (!isDbError(e, 'DecodeError')) return
      expect(e.message).toBe('column "flag" of rk_rip_crates (field flag; row 2 of 3, id = 2) does not decode as bool: got 7')
      expect(e.issues.map((i) => [i.path, i.rule, i.value])).toEqual([['flag', 'bool', 7]])
      const selected = await fails(pipe(Crate.query, Crate.select('flag'), Crate.where('id', '=', 2), Crate.all(d)))
      expect(isDbError(selected, 'DecodeError') && selected.message).toMatch(/^column "flag" of rk_rip_crates \(field flag; row 1 of 1\) does not decode as bool: got 7$/)
    })

    it('field refinements and row-level checks still run', async (ctx) => {
      const d = use(ctx)
      await ok(d.execute(sql`UPDATE rk_rip_crates SET label = '' WHERE id = 3`))
      const empty = await fails(pipe(Crate.query, Crate.orderBy('id'), Crate.all(d)))
      expect(isDbError(empty, 'DecodeError') && [empty.message, empty.issues[0].rule]).toEqual([
        'column "label" of rk_rip_crates (field label; row 3 of 3, id = 3) does not decode as NonEmpty: got ""', 'NonEmpty',
      ])
      await ok(d.execute(sql`UPDATE rk_rip_crates SET label = 'forbidden' WHERE id = 3`))
      const forbidden = await fails(pipe(Crate.query, Crate.orderBy('id'), Crate.all(d)))
      expect(isDbError(forbidden, 'DecodeError') && [forbidden.message, forbidden.issues[0].rule]).toEqual(['a row of rk_rip_crates (row 3 of 3, id = 3) does not satisfy NotForbidden', 'NotForbidden'])
    })

    it('computed columns: decoded after the fields; one named like a field stands in for it (the field is not selected) and wins', async (ctx) => {
      const { db: d, log } = traced(use(ctx))
      const lengths = await ok(pipe(Crate.query, Crate.computed('labelLength', t.number, sql`LENGTH(${Crate.column('label')})`), Crate.orderBy('id'), Crate.all(d)))
      expect(lengths.map((c) => [c.packedAt instanceof Date, c.labelLength])).toEqual([[true, 5], [true, 4], [true, 5]])
      expect(log[0].sql).toContain(` AS ${q('packedAt')}`)
      const shadowed = await ok(pipe(Crate.query, Crate.computed('label', t.string, sql`UPPER(${Crate.column('label')})`), Crate.orderBy('id'), Crate.all(d)))
      expect(shadowed.map((c) => [c.label, c.packedAt instanceof Date])).toEqual([['TOOLS', true], ['CUPS', true], ['BOOKS', true]])
      // Read in place as any other query, the field's own column left out: one column named label.
      expect(log[1].sql).toContain(` AS ${q('packedAt')}`)
      expect(log[1].sql.split(` AS ${q('label')}`)).toHaveLength(2)
    })
  })
}

describe('which dialects read dates as text is a dialect field', () => {
  it('a dialect made with extend sets datesAsText either way, and the rows decode the same', async () => {
    const rows = async (d: Backend) => {
      await run(d.execute(sql`CREATE TABLE rk_rip_crates (id INTEGER PRIMARY KEY, label TEXT NOT NULL, packed_at TEXT NOT NULL, opened_at TEXT, fragile INTEGER NOT NULL, flag INTEGER NOT NULL, price TEXT NOT NULL, note TEXT)`))
      await run(d.execute(sql`INSERT INTO rk_rip_crates VALUES (1, 'a', '0042-03-04 05:06:07.890', NULL, 1, 0, '12.50', NULL)`))
      const shown = compileQuery(d, Crate.query)
      const found = await run(Crate.find(d, 1))
      return { sql: shown._tag === 'Right' ? shown.right.sql : '', all: await run(pipe(Crate.query, Crate.all(d))), found }
    }
    const asText = await rows(compose(betterSqlite3({ filename: ':memory:' }), extend(sqlite, () => ({ datesAsText: true }))))
    const plain = await rows(compose(betterSqlite3({ filename: ':memory:' }), sqlite))
    expect(asText.sql).toContain('CAST("rk_rip_crates"."packed_at" AS TEXT) AS "packedAt"')
    expect(plain.sql).not.toContain('CAST(')
    expect(asText.all).toEqual(plain.all)
    expect(plain.all[0].packedAt).toEqual(new Date('0042-03-04T05:06:07.890Z'))
    expect(asText.found).toEqual({ _tag: 'Some', value: plain.all[0] })
  })
})
