/**
 * Query-layer results a developer coming from Kysely, Drizzle or Knex would check, on SQLite,
 * PostgreSQL and MariaDB (MySQL 8 as SQL text): each case here once gave a wrong result.
 */
import { pipe } from 'fp-ts/lib/function.js'
import { describe, expect, it } from 'vitest'
import { isDbError, json, run, sql } from 'recordkit'
import {
  as, between, cast, dateAdd, deleteFrom, denseRank, desc, eq, excluded, extract, from, gt, insertInto, isIn, isNull, like, limit, ne, notIn, ntile, offset, onConflict, orderBy,
  avg, col, count, jsonBuildObject, jsonText, over, selectOnly, subquery, rank, rowNumber, select,
  val, values, where,
} from 'recordkit/query'
import { mysql } from 'recordkit/dialects/mysql'
import { postgres } from 'recordkit/dialects/postgres'
import { sqlite } from 'recordkit/dialects/sqlite'
import { ENGINES, engineTables } from './support/engine-tables.js'

const DDL = (engine: string): readonly string[] => [
  engine === 'postgres'
    ? 'CREATE TABLE probe_q_emp (id INTEGER PRIMARY KEY, dept VARCHAR(10), at TIMESTAMP(3))'
    : engine === 'mariadb'
      ? 'CREATE TABLE probe_q_emp (id INTEGER PRIMARY KEY, dept VARCHAR(10), at DATETIME(3))'
      : 'CREATE TABLE probe_q_emp (id INTEGER PRIMARY KEY, dept VARCHAR(10), at TEXT)',
]

const ROWS = "INSERT INTO probe_q_emp (id, dept, at) VALUES (1, 'a', '2024-12-31 23:59:59.250'), (2, 'a', '2024-01-31 10:00:00.500'), (3, 'b', '2024-06-01 00:00:00')"

for (const engine of ENGINES) {
  describe(`query results on ${engine.name}`, () => {
    const t = engineTables(engine, ['probe_q_emp'], (name) => [...DDL(name)])

    it('dateAdd keeps fractions of a second (MariaDB cast to DATETIME and SQLite datetime() dropped them: 23:59:59.250 + 1 second gave 00:00:00)', async (ctx) => {
      const db = t.use(ctx)
      await run(db.execute(sql.raw(ROWS)))
      const rows = await run(db.all<{ id: number; later: unknown; earlier: unknown }>(pipe(
        from('probe_q_emp'), select('id', as(dateAdd('at', 1, 'second'), 'later'), as(dateAdd('at', -1, 'day'), 'earlier')), where(isIn('id', [1, 2])), orderBy('id'),
      )))
      const text = (v: unknown): string => (v instanceof Date ? v.toISOString() : String(v)).replace('T', ' ')
      expect(text(rows[0].later)).toMatch(/^2025-01-01 00:00:00\.250*Z?$/)
      expect(text(rows[0].earlier)).toMatch(/^2024-12-30 23:59:59\.250*Z?$/)
      expect(text(rows[1].later)).toMatch(/^2024-01-31 10:00:01\.50*Z?$/)
    })

    it('ranking window functions read back as numbers (MariaDB gave their BIGINT as text)', async (ctx) => {
      const db = t.use(ctx)
      await run(db.execute(sql.raw(ROWS)))
      const rows = await run(db.all(pipe(
        from('probe_q_emp'),
        select('id',
          as(over(rowNumber(), { partitionBy: ['dept'], orderBy: ['id'] }), 'rn'),
          as(over(rank(), { orderBy: ['dept'] }), 'rk'),
          as(over(denseRank(), { orderBy: ['dept'] }), 'drk'),
          as(over(ntile(2), { orderBy: ['id'] }), 'half')),
        orderBy('id'),
      )))
      expect(rows).toEqual([
        { id: 1, rn: 1, rk: 1, drk: 1, half: 1 },
        { id: 2, rn: 2, rk: 1, drk: 1, half: 1 },
        { id: 3, rn: 1, rk: 3, drk: 2, half: 2 },
      ])
    })

    it('extract of hour, minute and second from a DATE is 0 on every engine (PostgreSQL refused: unit "hour" not supported for type date)', async (ctx) => {
      const db = t.use(ctx)
      await run(db.execute(sql.raw(ROWS)))
      const day = cast(val('2024-03-10'), 'date')
      const rows = await run(db.all(pipe(
        from('probe_q_emp'),
        select(as(extract('day', day), 'd'), as(extract('hour', day), 'h'), as(extract('minute', day), 'm'), as(extract('second', day), 's'), as(extract('second', 'at'), 'at_s')),
        where(eq('id', 1)),
      )))
      expect(rows).toEqual([{ d: 10, h: 0, m: 0, s: 0, at_s: 59 }])
    })

    it.skipIf(engine.name === 'sqlite')('jsonBuildObject keeps true, false and null as JSON true, false and null (MariaDB gave 1 and 0, PostgreSQL refused a null: could not determine data type)', async (ctx) => {
      const db = t.use(ctx)
      await run(db.execute(sql.raw(ROWS)))
      const rows = await run(db.all(pipe(
        from('probe_q_emp'),
        select('id', as(jsonBuildObject({ yes: true, no: false, none: null, name: val('x'), n: 2, dept: col('dept') }), 'o')),
        where(eq('id', 1)),
      )))
      expect(rows).toEqual([{ id: 1, o: { yes: true, no: false, none: null, name: 'x', n: 2, dept: 'a' } }])
    })

    it.skipIf(engine.name === 'sqlite')('cast(x, timestamp) keeps fractional seconds (MariaDB cut them to whole seconds)', async (ctx) => {
      const db = t.use(ctx)
      await run(db.execute(sql.raw(ROWS)))
      const rows = await run(db.all(pipe(from('probe_q_emp'), select('id', as(cast('at', 'timestamp'), 'same'), as(cast('at', 'timestamp(1)'), 'tenths')), orderBy('id'))))
      const iso = (v: unknown) => (v instanceof Date ? v.toISOString() : v)
      expect(rows.map((r) => [r.id, iso(r.same), iso(r.tenths)])).toEqual([
        [1, '2024-12-31T23:59:59.250Z', engine.name === 'postgres' ? '2024-12-31T23:59:59.300Z' : '2024-12-31T23:59:59.200Z'],
        [2, '2024-01-31T10:00:00.500Z', '2024-01-31T10:00:00.500Z'],
        [3, '2024-06-01T00:00:00.000Z', '2024-06-01T00:00:00.000Z'],
      ])
    })
  })
}

describe('MySQL 8 casts to a timestamp as SQL text', () => {
  it('cast to DATETIME(6), which keeps microseconds, or to the precision given, not DATETIME, which drops them', () => {
    const q = pipe(from('t'), select(as(cast('at', 'timestamp'), 'y'), as(cast('at', 'timestamp(3)'), 'z')))
    expect(mysql.compile(q)).toMatchObject({
      right: { sql: 'SELECT CAST(`at` AS DATETIME(6)) AS `y`, CAST(`at` AS DATETIME(3)) AS `z` FROM `t`' },
    })
  })
})

describe('an undefined value in a comparison', () => {
  it('is a ValidationError naming the column, as in a condition object, never bound as NULL (eq gave = NULL: no row, silently)', () => {
    const cases: readonly [string, () => unknown, string][] = [
      ['eq', () => eq('email', undefined), '=: the value for "email" is undefined'],
      ['ne', () => ne('email', undefined), '<>: the value for "email" is undefined'],
      ['gt', () => gt('age', undefined), '>: the value for "age" is undefined'],
      ['like', () => like('name', undefined), 'LIKE: the value for "name" is undefined'],
      ['isIn', () => isIn('id', [1, undefined]), 'IN (item 1): the value for "id" is undefined'],
      ['notIn', () => notIn('id', [undefined]), 'NOT IN (item 0): the value for "id" is undefined'],
      ['between', () => between('age', 1, undefined), 'BETWEEN: the value for "age" is undefined'],
    ]
    for (const [name, build, message] of cases) {
      let thrown: unknown
      try { build() } catch (e) { thrown = e }
      expect(isDbError(thrown, 'ValidationError'), name).toBe(true)
      expect((thrown as Error).message, name).toContain(message)
    }
    // null is a value compared as other libraries compare it: eq('a', null) is a IS NULL, as isNull('b').
    expect(mysql.compile(pipe(from('t'), where(eq('a', null)), where(isNull('b'))))).toMatchObject({ right: { sql: 'SELECT * FROM `t` WHERE `a` IS NULL AND `b` IS NULL', params: [] } })
  })
})

describe('ORDER BY words', () => {
  it("'DESC' and 'LAST' in capitals mean what they say (DESC sorted ascending); another word is a ValidationError", () => {
    expect(mysql.compile(pipe(from('t'), orderBy('a', 'DESC' as 'desc'), orderBy('b', 'asc', 'FIRST' as 'first')))).toMatchObject({
      right: { sql: 'SELECT * FROM `t` ORDER BY `a` DESC, `b` IS NULL DESC, `b` ASC' },
    })
    expect(mysql.compile(pipe(from('t'), select(as(over(rank(), { orderBy: [desc('x', 'First' as 'first')] }), 'r'))))).toMatchObject({
      right: { sql: 'SELECT RANK() OVER (ORDER BY `x` IS NULL DESC, `x` DESC) AS `r` FROM `t`' },
    })
    for (const build of [() => orderBy('a', 'down' as 'desc'), () => orderBy('a', 'asc', 'top' as 'first'), () => desc('a', 'never' as 'last')]) {
      let thrown: unknown
      try { build() } catch (e) { thrown = e }
      expect(isDbError(thrown, 'ValidationError')).toBe(true)
      expect((thrown as Error).message).toMatch(/^orderBy: (direction must be 'asc' or 'desc', got "down"|nulls must be 'first' or 'last', got "(top|never)")/)
    }
  })
})

describe('onConflict actions', () => {
  it("'NOTHING' is 'nothing'; another string is a ValidationError (its characters were taken as assignments: \"0\" = 'N', ...)", () => {
    for (const d of [sqlite, postgres, mysql]) {
      const c = d.compile(pipe(insertInto('t'), values({ a: 1 }), onConflict(['a'], 'NOTHING' as 'nothing')))
      expect(c._tag === 'Right' && c.right.sql, d.name).not.toMatch(/"0"|`0`/)
      expect(c._tag === 'Right' && /DO NOTHING|NOT EXISTS/.test(c.right.sql), d.name).toBe(true)
    }
    let thrown: unknown
    try { onConflict(['a'], 'update' as 'nothing') } catch (e) { thrown = e }
    expect(isDbError(thrown, 'ValidationError') && (thrown as Error).message).toBe(`onConflict: the action must be 'nothing', a list of columns or an object of assignments, got "update"`)
  })

  it('an assignment to undefined is left out, as in set() (it was = NULL), and an upsert left with none is a QueryError on every engine, not DO UPDATE SET with nothing after it', () => {
    const q = pipe(insertInto('t'), values({ a: 1, b: 2 }), onConflict(['a'], { b: undefined, c: excluded('b') }))
    expect(postgres.compile(q)).toMatchObject({ right: { sql: 'INSERT INTO "t" ("a", "b") VALUES ($1, $2) ON CONFLICT ("a") DO UPDATE SET "c" = EXCLUDED."b"', params: [1, 2] } })
    for (const d of [sqlite, postgres, mysql]) {
      for (const empty of [onConflict(['a'], {}), onConflict(['a'], []), onConflict(['a'], { b: undefined })]) {
        const c = d.compile(pipe(insertInto('t'), values({ a: 1, b: 2 }), empty))
        expect(c._tag === 'Left' && c.left._tag, d.name).toBe('QueryError')
        expect(c._tag === 'Left' && c.left.message, d.name).toMatch(/an upsert that updates needs at least one assignment/)
      }
    }
  })
})

describe('dateAdd amounts', () => {
  it('a fractional number of units is a ValidationError (MariaDB rounded 1.5 days to 2, PostgreSQL added 36 hours)', () => {
    let thrown: unknown
    try { dateAdd('at', 1.5, 'day') } catch (e) { thrown = e }
    expect(isDbError(thrown, 'ValidationError') && (thrown as Error).message).toBe('dateAdd: the amount must be a whole number of day units, got 1.5 (use a smaller unit)')
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY]) expect(() => dateAdd('at', bad, 'hour')).toThrow(/dateAdd: the amount must be a whole number/)
    expect(() => dateAdd('at', -3, 'month')).not.toThrow()
  })
})

for (const engine of ENGINES) {
  describe(`aliased write targets on ${engine.name}`, () => {
    const t = engineTables(engine, ['probe_q_al'], () => ['CREATE TABLE probe_q_al (id INTEGER PRIMARY KEY, n INTEGER)'])

    it('DELETE with a table alias runs (MariaDB refused DELETE FROM t AS x as a syntax error: it is DELETE x FROM t AS x there)', async (ctx) => {
      const db = t.use(ctx)
      await run(db.execute(sql`INSERT INTO probe_q_al (id, n) VALUES (1, 1), (2, 2)`))
      expect((await run(db.execute(pipe(deleteFrom('probe_q_al x'), where(eq('x.n', 1)))))).rowsAffected).toBe(1)
      expect(await run(db.all(sql`SELECT id FROM probe_q_al`))).toEqual([{ id: 2 }])
    })

    it.skipIf(engine.name !== 'mariadb')('an INSERT with a table alias is an UnsupportedFeature naming what to write instead, not a syntax error from the server', (ctx) => {
      const db = t.use(ctx)
      const c = db.compile(pipe(insertInto('probe_q_al x'), values({ id: 1, n: 1 })))
      expect(c._tag === 'Left' && c.left._tag).toBe('UnsupportedFeature')
      expect(c._tag === 'Left' && c.left.message).toContain("leave the alias out, and name the table itself in expressions: col('probe_q_al.column')")
    })
  })
}

describe('MySQL 8 aliased write targets as SQL text', () => {
  it('DELETE x FROM t AS x; an INSERT alias is refused', () => {
    expect(mysql.compile(pipe(deleteFrom('t x'), where(eq('x.n', 1))))).toMatchObject({ right: { sql: 'DELETE `x` FROM `t` AS `x` WHERE `x`.`n` = ?' } })
    expect(mysql.compile(pipe(insertInto('t x'), values({ n: 1 })))).toMatchObject({ left: { _tag: 'UnsupportedFeature' } })
  })
})

for (const engine of ENGINES) {
  describe(`LIMIT and OFFSET given as text on ${engine.name}`, () => {
    const t = engineTables(engine, ['probe_q_lim'], () => ['CREATE TABLE probe_q_lim (id INTEGER PRIMARY KEY)'])

    it("limit('1') is a QueryError, not LIMIT NULL (bound as NULL, PostgreSQL returned every row)", async (ctx) => {
      const db = t.use(ctx)
      await run(db.execute(sql`INSERT INTO probe_q_lim (id) VALUES (1), (2), (3)`))
      for (const q of [pipe(from('probe_q_lim'), limit('1' as unknown as number)), pipe(from('probe_q_lim'), orderBy('id'), offset('1' as unknown as number))]) {
        const r = await db.all(q)()
        expect(r._tag === 'Left' && r.left._tag).toBe('QueryError')
        expect(r._tag === 'Left' && r.left.message).toContain('LIMIT/OFFSET must be a non-negative integer, got "1" (a string: convert it with Number first)')
      }
      expect(await run(db.all(pipe(from('probe_q_lim'), select('id'), orderBy('id'), limit(1), offset(1))))).toEqual([{ id: 2 }])
    })
  })
}

describe('a condition object with an object as a value', () => {
  it('is a ValidationError naming the key ({ age: { gt: 5 } } was bound as JSON text: no row on SQLite and MariaDB, silently); expressions and json() stay values', () => {
    let thrown: unknown
    try { pipe(from('t'), where({ age: { gt: 5 } })) } catch (e) { thrown = e }
    expect(isDbError(thrown, 'ValidationError') && (thrown as Error).message).toBe(`where: "age" is an object ({"gt":5}): a condition object takes values, null (IS NULL) and arrays (IN); write an operator as a builder (gt('age', 5)), or json(value) to compare with a JSON document`)
    expect(mysql.compile(pipe(from('t'), where({ a: col('b'), doc: json({ k: 1 }), at: new Date(0) })))).toMatchObject({
      right: { sql: 'SELECT * FROM `t` WHERE `a` = `b` AND `doc` = ? AND `at` = ?', params: ['{"k":1}', '1970-01-01 00:00:00.000'] },
    })
  })
})

for (const engine of ENGINES) {
  describe(`jsonText of a JSON null on ${engine.name}`, () => {
    const t = engineTables(engine, ['probe_q_doc'], (name) => [
      `CREATE TABLE probe_q_doc (id INTEGER PRIMARY KEY, doc ${name === 'postgres' ? 'JSONB' : name === 'mariadb' ? 'LONGTEXT' : 'TEXT'})`,
    ])

    it('is SQL NULL, and of the string "null" the text null (MySQL and MariaDB gave the text null for both)', async (ctx) => {
      const db = t.use(ctx)
      await run(db.execute(pipe(insertInto('probe_q_doc'), values([
        { id: 1, doc: json({ a: null, b: 'null', c: { d: null } }) },
        { id: 2, doc: json({ a: 'x', b: null, c: { d: 'y' } }) },
        { id: 3, doc: json({}) },
      ]))))
      const rows = await run(db.all(pipe(
        from('probe_q_doc'),
        select('id', as(jsonText('doc', 'a'), 'a'), as(jsonText('doc', 'b'), 'b'), as(jsonText('doc', 'c', 'd'), 'd')),
        orderBy('id'),
      )))
      expect(rows).toEqual([{ id: 1, a: null, b: 'null', d: null }, { id: 2, a: 'x', b: null, d: 'y' }, { id: 3, a: null, b: null, d: null }])
      expect(await run(db.all(pipe(from('probe_q_doc'), select('id'), where(isNull(jsonText('doc', 'a'))), orderBy('id'))))).toEqual([{ id: 1 }, { id: 3 }])
      expect(await run(db.all(pipe(from('probe_q_doc'), select('id'), where(eq(jsonText('doc', 'b'), 'null')), orderBy('id'))))).toEqual([{ id: 1 }])
    })
  })
}

for (const engine of ENGINES) {
  describe(`avg on ${engine.name}`, () => {
    const t = engineTables(engine, ['probe_q_avg'], () => ['CREATE TABLE probe_q_avg (id INTEGER PRIMARY KEY, n INTEGER, d DECIMAL(12, 2), f DOUBLE PRECISION)'])

    it('is the double nearest the exact average (MySQL and MariaDB kept 4 more decimals: 1.3333)', async (ctx) => {
      const db = t.use(ctx)
      await run(db.execute(sql`INSERT INTO probe_q_avg (id, n, d, f) VALUES (1, 1, 0.10, 0.1), (2, 1, 0.20, 0.2), (3, 2, 0.25, 0.25)`))
      const [r] = await run(db.all<{ n: number; d: number; f: number }>(pipe(from('probe_q_avg'), select(as(avg('n'), 'n'), as(avg('d'), 'd'), as(avg('f'), 'f')))))
      expect(r.n).toBe(4 / 3)
      // SQLite keeps DECIMAL values as doubles (NUMERIC affinity): its average is of doubles.
      if (engine.name === 'sqlite') expect(r.d).toBeCloseTo(0.55 / 3, 15)
      else expect(r.d).toBe(Number('0.18333333333333333333333333'))
      expect(r.f).toBeCloseTo(0.55 / 3, 15)
    })
  })
}

describe('MySQL 8 avg as SQL text', () => {
  it('multiplies the argument by an exact 1 with 30 decimals', () => {
    expect(mysql.compile(pipe(from('t'), select(as(avg('n'), 'a'))))).toMatchObject({ right: { sql: 'SELECT AVG(`n` * CAST(1 AS DECIMAL(65, 30))) AS `a` FROM `t`' } })
  })
})

for (const engine of ENGINES) {
  describe(`a scalar subquery's result type on ${engine.name}`, () => {
    const t = engineTables(engine, ['probe_q_sub'], () => ['CREATE TABLE probe_q_sub (id INTEGER PRIMARY KEY, n INTEGER)'])

    it('reads as its one column does (MariaDB gave subquery(count()) as the text "2")', async (ctx) => {
      const db = t.use(ctx)
      await run(db.execute(sql`INSERT INTO probe_q_sub (id, n) VALUES (1, 1), (2, 2)`))
      const rows = await run(db.all(pipe(selectOnly(), select(
        as(subquery(pipe(from('probe_q_sub'), select(count()))), 'n'),
        as(subquery(pipe(from('probe_q_sub'), select(avg('n')))), 'mean'),
      ))))
      expect(rows).toEqual([{ n: 2, mean: 1.5 }])
    })
  })
}

describe('an INSERT without rows', () => {
  it('is a QueryError on every dialect, where it inserted a row of defaults; values({}) still inserts one', () => {
    for (const d of [sqlite, postgres, mysql]) {
      for (const q of [pipe(insertInto('t'), values([])), insertInto('t')]) {
        const r = d.compile(q)
        expect(r._tag === 'Left' && r.left.message, d.name).toMatch(/^INSERT with no rows: values\(\[\]\) inserts nothing/)
      }
      expect(d.compile(pipe(insertInto('t'), values({})))._tag).toBe('Right')
    }
  })
})
