/**
 * Related rows read in place, on SQLite, PostgreSQL and MariaDB: a relation level names its
 * columns after the fields (`created_at AS "createdAt"`) and decodes the driver's rows where they
 * are. The rows come out as a read of the model itself gives them (types, key order, NULLs,
 * dates of years 0-99, decimals), a value that does not decode is still a DecodeError naming
 * table, field and row, refinements and row-level checks still run, and fields whose names
 * cannot be aliases load the way they did. PostgreSQL sends a level's keys as one array
 * parameter (text keys with quotes, commas and backslashes included); MariaDB reads dates as
 * the server's text.
 */
import { pipe } from 'fp-ts/lib/function.js'
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import { beforeEach, describe, expect, it } from 'vitest'
import { type Backend, type DbError, isDbError, run, sql, wrap } from 'recordkit'
import { bool, date, decimal, FAIL, fastDecoder, hasMany, model, nullable, relate, snakeCase } from 'recordkit/model'
import { compileInPlaceMapper, compileMapper } from '../src/model/decode.js'
import { checks, fields, rowsByColumn } from './support/mapper-fixture.js'
import { ENGINES, engineTables } from './support/engine-tables.js'

const NonEmpty = t.refinement(t.string, (s) => s.length > 0, 'NonEmpty')

const Shelf = model({
  table: 'rk_ip_shelves',
  primaryKey: 'code',
  naming: snakeCase,
  codec: t.type({ code: t.string, title: t.string }),
  relations: { boxes: hasMany('Box', 'shelfCode'), notes: hasMany('Note', 'shelfCode') },
})
const Box = model({
  table: 'rk_ip_boxes',
  primaryKey: 'id',
  naming: snakeCase,
  codec: t.refinement(
    t.type({ id: t.number, shelfCode: t.string, label: NonEmpty, packedAt: date, openedAt: nullable(date), fragile: bool, flag: bool, price: decimal }),
    (b) => b.label !== 'forbidden',
    'NotForbidden',
  ),
  relations: { items: hasMany('Item', 'boxId') },
})
const Item = model({
  table: 'rk_ip_items',
  primaryKey: 'id',
  naming: snakeCase,
  codec: t.intersection([t.type({ id: t.number, boxId: t.number, name: t.string }), t.partial({ note: t.string })]),
})
// A field name no engine takes as a column alias as it is: read the way every level was read before.
const Note = model({
  table: 'rk_ip_notes',
  primaryKey: 'id',
  columns: { 'display name': 'display_name', shelfCode: 'shelf_code' },
  codec: t.type({ id: t.number, shelfCode: t.string, 'display name': t.string }),
})
const S = relate({ Shelf, Box, Item, Note })

const ok = async <A>(te: TaskEither<DbError, A>): Promise<A> => run(te)
const fails = async <A>(te: TaskEither<DbError, A>): Promise<DbError> => {
  const r = await te()
  if (r._tag === 'Right') throw new Error(`expected a failure, got ${JSON.stringify(r.right)}`)
  return r.left
}

const TABLES = ['rk_ip_items', 'rk_ip_boxes', 'rk_ip_notes', 'rk_ip_shelves']

const ddl = (engine: string): string[] => {
  const stamp = engine === 'postgres' ? 'TIMESTAMP(3)' : engine === 'mariadb' ? 'DATETIME(3)' : 'TEXT'
  const flag = engine === 'postgres' ? 'BOOLEAN' : 'INTEGER'
  // SQLite keeps a decimal exactly only as text.
  const money = engine === 'sqlite' ? 'TEXT' : 'DECIMAL(10, 2)'
  return [
    'CREATE TABLE rk_ip_shelves (code VARCHAR(40) PRIMARY KEY, title VARCHAR(40) NOT NULL)',
    `CREATE TABLE rk_ip_boxes (id INTEGER PRIMARY KEY, shelf_code VARCHAR(40) NOT NULL, label VARCHAR(40) NOT NULL, packed_at ${stamp} NOT NULL,
      opened_at ${stamp} NULL, fragile ${flag} NOT NULL, flag INTEGER NOT NULL, price ${money} NOT NULL)`,
    'CREATE TABLE rk_ip_items (id INTEGER PRIMARY KEY, box_id INTEGER NOT NULL, name VARCHAR(40) NOT NULL, note VARCHAR(40) NULL)',
    'CREATE TABLE rk_ip_notes (id INTEGER PRIMARY KEY, shelf_code VARCHAR(40) NOT NULL, display_name VARCHAR(40) NOT NULL)',
  ]
}

// Keys with what a PostgreSQL array literal must quote.
const ODD = 'a"b,c\\d {e}'


for (const engine of ENGINES) {
  describe(`related rows read in place on ${engine.name}`, () => {
    const { use, current } = engineTables(engine, TABLES, ddl)
    // Each test starts from these rows (the tables are emptied before it).
    beforeEach(async () => {
      const db = current()
      if (db === undefined) return
      await ok(Shelf.createMany(db, [{ code: ODD, title: 'odd' }, { code: 'plain', title: 'plain' }, { code: 'empty', title: 'none' }]))
      // `flag` is an INTEGER column everywhere (so that it can hold a value no boolean is): written as 0/1.
      for (const [id, shelf, label, packed, opened, fragile, flag, price] of [
        [1, ODD, 'tools', '0050-06-01 12:34:56.789', null, true, 0, '12.50'],
        [2, ODD, 'cups', '2024-02-29 23:59:58.120', '2024-03-01 00:00:00.000', false, 1, '0.99'],
        [3, 'plain', 'books', '1999-12-31 23:59:59.999', null, false, 0, '100.00'],
      ] as const) {
        await ok(db.execute(sql`INSERT INTO rk_ip_boxes (id, shelf_code, label, packed_at, opened_at, fragile, flag, price)
          VALUES (${id}, ${shelf}, ${label}, ${packed}, ${opened}, ${fragile}, ${flag}, ${price})`))
      }
      await ok(Item.createMany(db, [
        { id: 10, boxId: 1, name: 'hammer', note: 'heavy' },
        { id: 11, boxId: 1, name: 'saw' },
        { id: 12, boxId: 3, name: 'atlas' },
      ]))
      await ok(Note.createMany(db, [{ id: 20, shelfCode: ODD, 'display name': 'top' }, { id: 21, shelfCode: 'plain', 'display name': 'low' }]))
    })

    const loadAll = (d: Backend) => pipe(S.Shelf.query, S.Shelf.include('boxes.items'), S.Shelf.include('notes'), S.Shelf.orderBy('code'), S.Shelf.all(d))

    it('decodes related rows to what a read of the model gives: types, key order, NULLs, dates of years 0-99, decimals', async (ctx) => {
      const d = use(ctx)
      const shelves = await ok(loadAll(d))
      expect(shelves.map((s) => [s.code, s.boxes.map((b) => b.id), s.notes.map((n) => n['display name'])])).toEqual([
        [ODD, [1, 2], ['top']], ['empty', [], []], ['plain', [3], ['low']],
      ])
      const boxes = shelves.flatMap((s) => s.boxes).sort((a, b) => a.id - b.id)
      const direct = await ok(pipe(Box.query, Box.orderBy('id'), Box.all(d)))
      expect(boxes.map(({ items: _, ...b }) => b)).toEqual(direct)
      expect(boxes.map((b) => Object.keys(b))).toEqual(direct.map((b) => [...Object.keys(b), 'items']))
      expect(boxes[0].packedAt.toISOString()).toBe('0050-06-01T12:34:56.789Z')
      expect(boxes[1].packedAt.toISOString()).toBe('2024-02-29T23:59:58.120Z')
      expect([boxes[0].openedAt, boxes[1].openedAt?.toISOString()]).toEqual([null, '2024-03-01T00:00:00.000Z'])
      expect(boxes.map((b) => [b.fragile, b.flag, b.price])).toEqual([[true, false, '12.50'], [false, true, '0.99'], [false, false, '100.00']])
      const items = boxes.flatMap((b) => b.items).sort((a, b) => a.id - b.id)
      expect(items).toEqual(await ok(pipe(Item.query, Item.orderBy('id'), Item.all(d))))
      expect(items[1]).toHaveProperty('note', undefined)
      expect(Object.keys(items[1])).toEqual(['id', 'boxId', 'name', 'note'])
      const notes = shelves.flatMap((s) => s.notes).sort((a, b) => a.id - b.id)
      expect(notes).toEqual(await ok(pipe(Note.query, Note.orderBy('id'), Note.all(d))))
    })

    it('names the columns after the fields; PostgreSQL sends the keys as one array, MariaDB reads dates as text', async (ctx) => {
      const log: unknown[] = []
      const d = wrap(use(ctx), { execute: (next) => (q) => { log.push(q); return next(q) } })
      await ok(pipe(S.Shelf.query, S.Shelf.include('boxes'), S.Shelf.all(d)))
      expect(log.length).toBe(2)
      const c = d.compile(log[1] as never)
      if (c._tag === 'Left') throw c.left
      const q = (name: string) => (engine.name === 'mariadb' ? `\`${name}\`` : `"${name}"`)
      expect(c.right.sql).toContain(`${q('rk_ip_boxes')}.${q('shelf_code')} AS ${q('shelfCode')}`)
      expect(c.right.sql).toContain(engine.name === 'mariadb' ? 'CAST(`rk_ip_boxes`.`packed_at` AS CHAR CHARACTER SET LATIN1) AS `packedAt`' : `${q('rk_ip_boxes')}.${q('packed_at')} AS ${q('packedAt')}`)
      if (engine.name === 'postgres') {
        expect(c.right.sql).toContain('"rk_ip_boxes"."shelf_code" = ANY ($1)')
        expect(c.right.params.length).toBe(1)
      } else {
        expect(c.right.sql).toContain(`${q('rk_ip_boxes')}.${q('shelf_code')} IN (`)
        expect(c.right.params.length).toBe(3)
      }
    })

    it('a related value that does not decode is a DecodeError naming table, field and row', async (ctx) => {
      const d = use(ctx)
      await ok(d.execute(sql`UPDATE rk_ip_boxes SET flag = 7 WHERE id = 2`))
      const e = await fails(loadAll(d))
      expect(isDbError(e, 'DecodeError')).toBe(true)
      if (!isDbError(e, 'DecodeError')) return
      expect(e.message).toMatch(/^column "flag" of rk_ip_boxes \(field flag; row \d of 3, id = 2\) does not decode as bool: got 7$/)
      expect(e.issues.map((i) => [i.path, i.rule, i.value])).toEqual([['flag', 'bool', 7]])
      // The same failure through a read of the model itself.
      const top = await fails(pipe(Box.query, Box.all(d)))
      expect(isDbError(top, 'DecodeError') && top.message).toMatch(/^column "flag" of rk_ip_boxes \(field flag; row \d of 3, id = 2\)/)
    })

    it('field refinements and row-level checks of related rows still run', async (ctx) => {
      const d = use(ctx)
      await ok(d.execute(sql`UPDATE rk_ip_boxes SET label = '' WHERE id = 3`))
      const empty = await fails(loadAll(d))
      expect(isDbError(empty, 'DecodeError') && [/^column "label" of rk_ip_boxes \(field label; row \d of 3, id = 3\)/.test(empty.message), empty.issues[0].rule]).toEqual([true, 'NonEmpty'])
      await ok(d.execute(sql`UPDATE rk_ip_boxes SET label = 'forbidden' WHERE id = 3`))
      const forbidden = await fails(loadAll(d))
      expect(isDbError(forbidden, 'DecodeError') && [forbidden.message.replace(/row \d of/, 'row N of'), forbidden.issues[0].rule]).toEqual(['a row of rk_ip_boxes (row N of 3, id = 3) does not satisfy NotForbidden', 'NotForbidden'])
    })

    it('a modifier selecting fields and a nested level read in place too', async (ctx) => {
      const d = use(ctx)
      const shelves = await ok(pipe(
        S.Shelf.query,
        S.Shelf.include('boxes', (q, B) => pipe(q, B.select('id', 'packedAt'), B.orderBy('id', 'desc'))),
        S.Shelf.where('code', '=', ODD),
        S.Shelf.all(d),
      ))
      expect(shelves[0].boxes).toEqual([
        { id: 2, packedAt: new Date('2024-02-29T23:59:58.120Z'), shelfCode: ODD },
        { id: 1, packedAt: new Date('0050-06-01T12:34:56.789Z'), shelfCode: ODD },
      ])
    })
  })
}

describe('the in-place row mapper', () => {
  const byColumn = rowsByColumn
  const byField = () => byColumn().map(({ created_at, ...r }) => ({ id: r.id, name: r.name, active: r.active, at: created_at, note: r.note }))

  it('gives the rows the copying mapper gives, in the same objects, generated or not', () => {
    const copied = compileMapper(fields, checks, 't')(byColumn())
    for (const generate of [true, false]) {
      const input = byField()
      const objects = [...input]
      const out = compileInPlaceMapper(fields, checks, 't', { generate })(input)
      expect(out).toEqual(copied)
      expect(out.map((r) => Object.keys(r as object))).toEqual(copied.map((r) => Object.keys(r as object)))
      expect(out.every((r, i) => r === objects[i])).toBe(true)
      expect(out[0]).toHaveProperty('note', undefined)
    }
  })

  it('fails with the DecodeError of the copying mapper, generated or not', () => {
    const failure = (f: () => unknown) => {
      try {
        f()
        return undefined
      } catch (e) {
        return isDbError(e) ? [e._tag, e.message, (e as { issues?: unknown }).issues] : e
      }
    }
    const key = [fields[0]]
    const copied = failure(() => compileMapper(fields, checks, 't', { key })([byColumn()[0], { ...byColumn()[1], active: 'perhaps' }]))
    expect(copied).toEqual(['DecodeError', 'column "active" of t (field active; row 2 of 2, id = 2) does not decode as bool: got "perhaps"', expect.anything()])
    const checked = failure(() => compileMapper(fields, checks, 't', { key })([{ ...byColumn()[0], name: 'nobody' }]))
    for (const generate of [true, false]) {
      expect(failure(() => compileInPlaceMapper(fields, checks, 't', { generate, key })([byField()[0], { ...byField()[1], active: 'perhaps' }]))).toEqual(copied)
      expect(failure(() => compileInPlaceMapper(fields, checks, 't', { generate, key })([{ ...byField()[0], name: 'nobody' }]))).toEqual(checked)
    }
  })

  it('refuses field names that cannot be column aliases', () => {
    expect(() => compileInPlaceMapper([{ name: 'display name', column: 'display_name', codec: t.string, optional: false }], [], 't')).toThrow(TypeError)
    expect(() => compileInPlaceMapper([{ name: '__proto__', column: 'p', codec: t.string, optional: false }], [], 't')).toThrow(TypeError)
  })
})

describe('decimal text, as related rows read it', () => {
  it('accepts exactly the text the decimal pattern accepts, plain forms included', () => {
    const fast = fastDecoder(decimal)
    const pattern = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/
    const pieces = ['', '0', '12', '-', '+', '.', '5', 'e', 'E3', '-2', 'x', ' ', '٣']
    const texts = new Set<string>()
    for (const a of pieces) for (const b of pieces) for (const c of pieces) texts.add(a + b + c)
    for (const s of ['12.50', '-0.99', '+100.00', '100.', '.5', '1e5', '1.5E-3', '--1', '1.2.3', '', ' 1', '1 ']) texts.add(s)
    for (const s of texts) {
      expect(fast(s), JSON.stringify(s)).toBe(pattern.test(s) ? s : FAIL)
      expect(decimal.is(s) || !pattern.test(s), JSON.stringify(s)).toBe(true)
    }
  })
})
