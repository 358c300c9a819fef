/**
 * Property: whatever the identifiers and values, every value travels as a parameter and
 * every identifier is quoted, on every dialect. Random queries (joins, subqueries, CTEs,
 * windows, set operations, CASE, CAST, JSON, dates, raw fragments, INSERT / UPDATE / DELETE)
 * are built from hostile names and values; each compiled statement is checked:
 *
 * - no value appears in the SQL text, and every value is among the parameters;
 * - with every quoted identifier and string literal removed, no trace of a name or a value
 *   is left, and each quoted identifier is exactly one of the names used;
 * - the statement runs (SQLite in memory; MariaDB and PostgreSQL when they answer) against
 *   tables whose names and columns are hostile too.
 *
 * The statements are drawn with fast-check (`fc.gen()`), so a failure is shrunk and reported
 * with its seed; `RECORDKIT_PROPERTY_SEED` replays a run.
 */
import fc from 'fast-check'
import { pipe } from 'fp-ts/lib/function.js'
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mariadb, mysql } from 'recordkit/dialects/mysql'
import { postgres } from 'recordkit/dialects/postgres'
import { sqlite } from 'recordkit/dialects/sqlite'
import { standard } from 'recordkit/dialects/standard'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'
import { mysql2 } from 'recordkit/drivers/mysql2'
import { postgresJs } from 'recordkit/drivers/postgres'
import type { Expr, TableRef } from 'recordkit/query'
import { columnTypes } from 'recordkit/testing'
import { compose, connect, run, sql, supports, type Backend, type Compilable, type Dialect } from 'recordkit'
import {
  and, as, between, cast, caseWhen, coalesce, col, concat, count, cte, dateAdd, deleteFrom, derived, eq, exists, extract,
  from, gt, insertInto, isIn, isNull, join, jsonGet, jsonText, leftJoin, like, limit, lt, ne, not, notIn, offset, or, orderBy,
  over, rowNumber, select, set, subquery, union, unionAll, update, using, val, values, where, window, withCte, type Select,
} from 'recordkit/query'
import { MYSQL_URL, PG_URL, serverAvailable } from './support/servers.js'

const SEED = Number(process.env.RECORDKIT_PROPERTY_SEED ?? 20240229)
const RUNS = 300

// ---------------------------------------------------------------- drawing

/** What the statement builder draws from. */
interface Gen {
  readonly int: (n: number) => number
  readonly pick: <A>(xs: readonly A[]) => A
  readonly chance: (p: number) => boolean
  /** A few characters: any of the Basic Multilingual Plane (`name`), or any at all (`value`). */
  readonly chars: (kind: 'name' | 'value') => string
}

/** A character of the Basic Multilingual Plane but NUL (what every engine takes in a quoted name). */
const bmpChar = fc.integer({ min: 1, max: 0xffff }).filter((c) => c < 0xd800 || c > 0xdfff).map((c) => String.fromCharCode(c))

/** Draws from a fast-check generator, so failures shrink. */
const fromFastCheck = (g: fc.GeneratorValue): Gen => ({
  int: (n) => g(fc.nat, { max: n - 1 }),
  pick: (xs) => g(fc.constantFrom, ...xs),
  chance: (p) => g(fc.integer, { min: 0, max: 999 }) < p * 1000,
  chars: (kind) => (kind === 'name' ? g(fc.string, { unit: bmpChar, maxLength: 3 }) : g(fc.string, { unit: 'binary', maxLength: 4 })),
})

/** Draws from a fixed seed, for the schema every run shares. */
const seeded = (seed: number): Gen => {
  const r = fc.sample(fc.infiniteStream(fc.nat({ max: 999_999 })), { seed, numRuns: 1 })[0][Symbol.iterator]()
  const next = (): number => r.next().value as number
  return {
    int: (n) => next() % n,
    pick: (xs) => xs[next() % xs.length],
    chance: (p) => next() % 1000 < p * 1000,
    chars: () => String.fromCharCode(0x41 + (next() % 26), 0x3b1 + (next() % 20)),
  }
}

/** Pieces that break naive quoting or placeholder handling. */
const HOSTILE = ['"', '`', "'", '""', '``', "''", ';', '--', '/*', '*/', '\\', '?', '$1', ':p', '@x', '%s', '(', ')', ',', '=', '[', ']', ' ', 'ö', '日本', 'DROP TABLE x']
/** Values may also hold characters names may not (MariaDB names are BMP only). */
const HOSTILE_VALUES = [...HOSTILE, '🙂', '\n', '\t', '\u0000']

let counter = 0
/**
 * A fresh name: a marker (`idq<n>`) wrapped in hostile text, no dots, ending in a letter. The
 * marker comes early: PostgreSQL cuts names at 63 bytes, and the cut must keep them distinct.
 */
const hostileName = (g: Gen): string => {
  const n = ++counter
  const piece = () => (g.chance(0.7) ? g.pick(HOSTILE) : g.chars('name'))
  const rest = Array.from({ length: g.int(3) }, piece)
  return `${piece()}idq${n}${rest.join('')}z`.replace(/\./g, '_')
}
/** A fresh string value: a marker (`valq<n>`) in hostile text. */
const hostileValue = (g: Gen): string => {
  const n = ++counter
  const parts = Array.from({ length: 1 + g.int(3) }, () => (g.chance(0.7) ? g.pick(HOSTILE_VALUES) : g.chars('value')))
  return `${parts.join('')}valq${n}${g.pick(HOSTILE_VALUES)}`
}

// ---------------------------------------------------------------- the schema (hostile too)

const schemaGen = seeded(SEED)
const T1 = `ql_${hostileName(schemaGen)}`
const T2 = `ql_${hostileName(schemaGen)}`
const C = [hostileName(schemaGen), hostileName(schemaGen), hostileName(schemaGen)]
/** A column holding JSON documents, for the JSON functions. */
const J = hostileName(schemaGen)
const JSON_KEY = hostileName(schemaGen)
const schemaNames = [T1, T2, ...C, J]

const tableRef = (name: string, alias?: string): TableRef => Object.freeze({ kind: 'table' as const, name, alias })

// ---------------------------------------------------------------- random queries

/** What one generated statement used: the names that must be quoted, the values that must be parameters. */
interface Used {
  readonly names: Set<string>
  readonly values: unknown[]
  /** Values that reach the SQL inside another parameter (JSON path keys). */
  readonly embedded: string[]
}

const build = (g: Gen, d: Dialect) => {
  const used: Used = { names: new Set(schemaNames), values: [], embedded: [] }
  // PostgreSQL text cannot hold NUL: leave it out of the values there.
  const storable = (v: string): string => (d.name === 'postgres' ? v.replaceAll('\u0000', '') : v)
  const name = () => {
    const n = hostileName(g)
    used.names.add(n)
    return n
  }
  const value = (): unknown => {
    const v = g.chance(0.75) ? storable(hostileValue(g)) : g.pick([0, 1, -7, 3.5, 2 ** 40])
    used.values.push(v)
    return v
  }
  // Writes compare text columns with text only: strict engines refuse a lossy conversion there.
  const text = (): string => {
    const v = storable(hostileValue(g))
    used.values.push(v)
    return v
  }
  const column = (alias: string) => col(`${alias}.${g.pick(C)}`)

  const condition = (alias: string, depth: number): Expr => {
    const c = column(alias)
    switch (g.int(depth > 0 ? 12 : 8)) {
      case 0: return eq(c, value())
      case 1: return ne(c, value())
      case 2: return lt(c, value())
      case 3: return isIn(c, [value(), value()])
      case 4: return notIn(c, [value()])
      case 5: return between(c, value(), value())
      case 6: return like(c, value())
      case 7: return isNull(c)
      case 8: return and(condition(alias, depth - 1), condition(alias, depth - 1))
      case 9: return or(condition(alias, depth - 1), not(condition(alias, depth - 1)))
      case 10: {
        const inner = name()
        return exists(pipe(from(tableRef(T2, inner)), select(as(val(value()), name())), where(eq(column(inner), column(alias)))))
      }
      default: {
        const x = value()
        return sql`${sql.id([alias, g.pick(C)])} <> ${x}` as unknown as Expr
      }
    }
  }

  const scalar = (alias: string): Expr => {
    switch (g.int(9)) {
      case 0: return column(alias)
      case 1: return caseWhen([[condition(alias, 0), value()]], value())
      case 2: return coalesce(column(alias), val(value()))
      case 3: return concat(column(alias), val(value()))
      case 4: return cast(column(alias), g.pick(['text', 'varchar(50)']))
      case 5: {
        used.embedded.push(JSON_KEY)
        return g.chance(0.5) ? jsonText(`${alias}.${J}`, JSON_KEY) : jsonGet(`${alias}.${J}`, JSON_KEY, 0)
      }
      case 6: return extract('year', dateAdd(val('2024-01-31'), 1 + g.int(3), 'month'))
      case 7: {
        const inner = name()
        return subquery(pipe(from(tableRef(T2, inner)), select(count()), where(eq(column(inner), val(value())))))
      }
      default: return val(value())
    }
  }

  const selectQuery = (depth: number): Select => {
    const alias = name()
    let q: Select = from(tableRef(T1, alias))
    if (g.chance(0.4)) {
      const other = name()
      q = g.chance(0.5)
        ? pipe(q, leftJoin(tableRef(T2, other), eq(column(other), column(alias))))
        : pipe(q, join(tableRef(T2, other), using(g.pick(C))))
    }
    const items = Array.from({ length: 1 + g.int(3) }, () => as(scalar(alias), name()))
    q = pipe(q, select(...items))
    if (g.chance(0.4) && supports(d, 'windowFunction')) {
      const w = name()
      q = pipe(q, select(as(over(rowNumber(), w), name()), as(over(count(column(alias)), { partitionBy: [column(alias)] }), name())), window(w, { orderBy: [column(alias)] }))
    }
    if (g.chance(0.8)) q = pipe(q, where(condition(alias, depth)))
    if (g.chance(0.5)) q = pipe(q, orderBy(column(alias), g.chance(0.5) ? 'asc' : 'desc'))
    if (g.chance(0.4)) q = pipe(q, limit(1 + g.int(5)))
    if (g.chance(0.2)) q = pipe(q, limit(3), offset(g.int(3)))
    return q
  }

  const statement = (): Compilable => {
    switch (g.int(8)) {
      case 0: {
        // A CTE under a hostile name, with hostile column names.
        const cteName = name()
        const cols = [name()]
        const alias = name()
        const body = pipe(from(tableRef(T1, alias)), select(column(alias)), where(condition(alias, 1)))
        return pipe(from(tableRef(cteName, name())), select(as(count(), name())), withCte(cte(cteName, body, { columns: cols })))
      }
      case 1: {
        const a = name()
        const b = name()
        const left = pipe(from(tableRef(T1, a)), select(as(column(a), name())), where(condition(a, 0)))
        const right = pipe(from(tableRef(T2, b)), select(column(b)), where(condition(b, 0)))
        return pipe(left, g.chance(0.5) ? union(right) : unionAll(right))
      }
      case 2: {
        const inner = name()
        const alias = name()
        const d2 = derived(pipe(from(tableRef(T1, inner)), select(as(column(inner), C[0])), where(condition(inner, 0))), alias)
        return pipe(from(d2), select(as(col(`${alias}.${C[0]}`), name())), where(gt(col(`${alias}.${C[0]}`), value())))
      }
      case 3: {
        const row = Object.fromEntries(C.map((c) => [c, text()]))
        return pipe(insertInto(tableRef(T1)), values([row, Object.fromEntries(C.map((c) => [c, text()]))]))
      }
      case 4: return pipe(update(tableRef(T1)), set({ [g.pick(C)]: text() }), where(or(eq(col(g.pick(C)), text()), isNull(col(g.pick(C))))))
      case 5: return pipe(deleteFrom(tableRef(T2)), where(eq(col(g.pick(C)), text())))
      default: return selectQuery(2)
    }
  }

  return { used, statement }
}

// ---------------------------------------------------------------- checking a statement

/**
 * The SQL text with every quoted identifier (quote character `q`, doubled inside) and every
 * single-quoted literal taken out, and what they held.
 */
const strip = (text: string, q: string): { readonly rest: string; readonly identifiers: string[]; readonly literals: string[] } => {
  let rest = ''
  const identifiers: string[] = []
  const literals: string[] = []
  for (let i = 0; i < text.length;) {
    const ch = text[i]
    if (ch !== q && ch !== "'") {
      rest += ch
      i++
      continue
    }
    let inner = ''
    let j = i + 1
    for (;;) {
      if (j >= text.length) throw new Error(`unterminated ${ch} at ${i} in ${text}`)
      if (text[j] === ch) {
        if (text[j + 1] === ch) { inner += ch; j += 2; continue }
        break
      }
      inner += text[j++]
    }
    ;(ch === q ? identifiers : literals).push(inner)
    rest += ch === q ? ' <id> ' : ' <lit> '
    i = j + 1
  }
  return { rest, identifiers, literals }
}

const check = (d: Dialect, q: Compilable, used: Used): { sql: string; params: readonly unknown[] } => {
  const out = d.compile(q)
  if (E.isLeft(out)) throw out.left
  const { sql: text, params } = out.right
  // Values never reach the text.
  expect(text).not.toMatch(/valq\d/)
  // Every value is a parameter, as the dialect adapts it.
  for (const v of used.values) expect(params).toContainEqual(d.toDriver(v))
  for (const k of used.embedded) expect(params.some((p) => typeof p === 'string' && p.includes(k.replace(/["\\]/g, '\\$&')))).toBe(true)
  // Every identifier is quoted: nothing of a name is left outside quotes, and each quoted
  // identifier is one whole name (or a column of the derived table, or `*`).
  const quote = d.quoteIdentifier('x')[0]
  const { rest, identifiers, literals } = strip(text, quote)
  expect(rest).not.toMatch(/idq\d|valq\d/)
  for (const l of literals) expect(l).not.toMatch(/idq\d|valq\d/)
  for (const id of identifiers) expect(used.names.has(id), `${id} in ${text}`).toBe(true)
  return out.right
}

// ---------------------------------------------------------------- the properties

const dialects: readonly (readonly [string, Dialect])[] = [
  ['standard', standard], ['sqlite', sqlite.forVersion('3.51.2')], ['mysql', mysql], ['mariadb', mariadb.forVersion('10.11.19-MariaDB')],
  ['postgres', postgres],
]

describe('property: values are parameters and identifiers are quoted', () => {
  for (const [label, d] of dialects) {
    it(`${label}: ${RUNS} random statements (seed ${SEED})`, () => {
      fc.assert(fc.property(fc.gen(), (g) => {
        const { used, statement } = build(fromFastCheck(g), d)
        check(d, statement(), used)
      }), { seed: SEED, numRuns: RUNS })
    })
  }

  it('a NUL in an identifier is refused on every dialect', () => {
    for (const [, d] of dialects) {
      const r = d.compile(pipe(from(tableRef('a\u0000b')), select('x')))
      expect(E.isLeft(r) && r.left._tag).toBe('QueryError')
    }
  })
})

/** Create the hostile tables, then run random statements: they must all be valid SQL. */
const runsOn = (label: string, open: () => Promise<Backend>) => {
  let db: Backend
  beforeAll(async () => {
    db = await open()
    const q = db.dialect.quoteIdentifier
    for (const t of [T1, T2]) {
      await run(db.execute(sql.raw(`DROP TABLE IF EXISTS ${q(t)}`)))
      await run(db.execute(sql.raw(`CREATE TABLE ${q(t)} (${C.map((c) => `${q(c)} VARCHAR(200)`).join(', ')}, ${q(J)} ${columnTypes(db).json})`)))
      await run(db.execute(pipe(insertInto(tableRef(t)), values([
        { [C[0]]: '1', [C[1]]: "it's", [C[2]]: null, [J]: JSON.stringify({ [JSON_KEY]: ['a', 'b'] }) },
        { [C[0]]: '2', [C[1]]: '"q"', [C[2]]: '2024', [J]: JSON.stringify({ [JSON_KEY]: 'x' }) },
      ]))))
    }
  })
  afterAll(async () => {
    if (db === undefined) return
    for (const t of [T1, T2]) await run(db.execute(sql.raw(`DROP TABLE IF EXISTS ${db.dialect.quoteIdentifier(t)}`)))
    await run(db.close())
  })
  it(`${label}: ${RUNS} random statements over hostile tables all run (seed ${SEED})`, async () => {
    await fc.assert(fc.asyncProperty(fc.gen(), async (g) => {
      const { used, statement } = build(fromFastCheck(g), db.dialect)
      const compiled = check(db.dialect, statement(), used)
      const r = await db.execute(compiled)()
      if (E.isLeft(r)) throw r.left
    }), { seed: SEED, numRuns: RUNS })
  }, 120_000)
}

describe('property: the statements run', () => {
  runsOn('sqlite', async () => compose(betterSqlite3({ filename: ':memory:' }), sqlite))
})

describe.skipIf(!(await serverAvailable('mariadb')))('property: the statements run on MariaDB', () => {
  runsOn('mariadb', () => run(connect(mysql2({ url: MYSQL_URL, max: 2 }), mysql)))
})

describe.skipIf(!(await serverAvailable('postgres')))('property: the statements run on PostgreSQL', () => {
  runsOn('postgres', () => run(connect(postgresJs({ url: PG_URL, max: 2 }), postgres)))
})
