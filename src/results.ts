/**
 * Typed result columns: values read back the same way on every engine.
 *
 * Engines give the same aggregate in different JS types: `COUNT(*)` is a number on SQLite, a
 * string on PostgreSQL (int8) and on MariaDB (mysql2's big-number policy); JSON built in a query
 * comes back parsed on PostgreSQL and as text on SQLite and MariaDB. A builder expression that
 * knows its result (`count`, `sum`, `avg`, `cast`, `jsonArrayFrom`, ...) is read back with the
 * decoders the model layer uses for its own aggregates (`integer`, `float`, `decimal`,
 * `jsonOf`, which `src/model/codecs.ts` builds on the functions of `src/model/fast-decoders.ts`
 * read here), so both layers follow one policy:
 *
 * | result type | expressions | value |
 * |---|---|---|
 * | `integer` | `count`, `countDistinct`, `cast(x, 'integer' / 'bigint' / 'smallint')` | a number; DecodeError beyond ±2^53 |
 * | `number` | `sum` | a number standing exactly for the database's value (integers within ±2^53, decimals of at most 15 significant digits); DecodeError otherwise |
 * | `decimal` | `sum(x, { exact: true })`, `cast(x, 'decimal(p,s)')` | exact decimal text without trailing fractional zeros, the same on every engine (SQLite, which has no decimal type, gives its number as text) |
 * | `float` | `avg`, `cast(x, 'real' / 'double')` | a number |
 * | `json` | `jsonArrayFrom`, `jsonObjectFrom`, `jsonBuildObject`, `cast(x, 'json')` | the parsed value |
 *
 * A scalar subquery of one such column (`subquery(pipe(from('t'), select(count())))`) reads as
 * that column does. `readAs(e, type)` gives any column or expression a result type
 * (`readAs('payload', 'json')` for a JSON column the builder cannot see declared).
 *
 * NULL stays null. Only named result columns are read (`as(count(), 'n')`, `{ n: count() }`, a
 * column under its own name);
 * the column name an engine gives an unnamed expression differs between engines. `compile`
 * finds them once per statement (`Compiled.results`); a statement without any costs nothing
 * per row.
 */
import type { Expr, QueryNode, ResultType, SelectLike, Selection } from './ast.js'
import type { QueryResult } from './driver.js'
import { dbError } from './errors.js'
import { decimalFast, FAIL, type FastDecode, floatFast, integerFast, jsonValueFast as jsonFast } from './model/fast-decoders.js'
import type { Compiled, ResultColumn } from './sql.js'

const INTEGER_TYPES = new Set(['integer', 'int', 'bigint', 'smallint', 'signed'])
const FLOAT_TYPES = new Set(['real', 'double', 'float', 'double precision'])

/**
 * How an expression's value is read back, if recordkit knows it.
 *
 * @example
 * resultTypeOf(count()) // 'integer'
 */
export const resultTypeOf = (e: Expr): ResultType | undefined => {
  const given = (e as { readonly result?: ResultType }).result
  if (given !== undefined) return given
  switch (e.kind) {
    case 'window': return e.func.result
    // A scalar subquery reads as its one column does: subquery(count()) is an integer.
    case 'subquery':
      return e.exists !== true && e.query.kind === 'select' && e.query.columns.length === 1 ? resultTypeOf(e.query.columns[0].expr) : undefined
    case 'jsonFrom':
    case 'jsonBuildObject':
      return 'json'
    case 'cast': {
      const type = e.type.trim().toLowerCase()
      if (INTEGER_TYPES.has(type)) return 'integer'
      if (FLOAT_TYPES.has(type)) return 'float'
      if (type.startsWith('decimal') || type.startsWith('numeric')) return 'decimal'
      if (type === 'json' || type === 'jsonb') return 'json'
      return undefined
    }
    default: return undefined
  }
}

/** Significant digits of decimal text: `'0012.50'` has 3. */
const significantDigits = (text: string): number =>
  text.replace(/^[+-]/, '').replace(/[eE].*$/, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '').length

const numberFast: FastDecode = (v) => {
  if (typeof v === 'number') return Number.isNaN(v) ? FAIL : v
  const i = integerFast(v)
  if (i !== FAIL) return i
  if (typeof v !== 'string' || decimalFast(v) === FAIL) return FAIL
  // Whole numbers beyond ±2^53 are refused by `integer` above; this keeps decimal text whose
  // every digit a double holds.
  const n = Number(v)
  return Number.isInteger(n) && !Number.isSafeInteger(n) ? FAIL : significantDigits(v) <= 15 ? n : FAIL
}

/** Decimal text without trailing fractional zeros, so every engine gives the same text ('12.50' is '12.5'). */
const canonical = (text: string): string =>
  text.includes('.') && !/[eE]/.test(text) ? text.replace(/0+$/, '').replace(/\.$/, '') : text

const exactFast: FastDecode = (v) => {
  if (typeof v === 'string') return decimalFast(v) === FAIL ? FAIL : canonical(v)
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : FAIL
  if (typeof v === 'bigint') return String(v)
  return FAIL
}

const DECODERS: Readonly<Record<ResultType, { readonly fast: FastDecode; readonly rule: string; readonly hint: string }>> = {
  integer: { fast: integerFast, rule: 'integer', hint: 'an integer within ±2^53; read it as text with cast(x, \'text\')' },
  number: { fast: numberFast, rule: 'number', hint: 'a number a double holds exactly; read it exactly with sum(x, { exact: true }) or cast(x, \'decimal(p,s)\')' },
  decimal: { fast: exactFast, rule: 'decimal', hint: 'decimal text' },
  float: { fast: floatFast, rule: 'float', hint: 'a number' },
  json: { fast: jsonFast, rule: 'json', hint: 'JSON text or a parsed value' },
}

const column = (name: string, type: ResultType): ResultColumn => {
  const d = DECODERS[type]
  return {
    name,
    decode: (v) => {
      if (v === null || v === undefined) return null
      const x = d.fast(v)
      if (x === FAIL) {
        const shown = typeof v === 'string' ? JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}…` : v) : String(v)
        throw dbError('DecodeError', `result column "${name}" is not ${d.hint}: ${shown}`, { issues: [{ path: name, rule: d.rule, value: v, message: `expected ${d.rule}` }] })
      }
      return x
    },
  }
}

const selectionsOf = (q: QueryNode | SelectLike): readonly Selection[] | undefined => {
  switch (q.kind) {
    case 'select': return q.columns
    case 'compound': return selectionsOf(q.left)
    case 'insert':
    case 'update':
    case 'delete':
      return q.returning
    default: return undefined
  }
}

/**
 * The typed result columns of a statement: its named SELECT (or RETURNING) items whose
 * expression has a result type. Undefined when there is none.
 *
 * @example
 * resultColumns(pipe(from('t'), select(as(count(), 'n'))))?.map((c) => c.name) // ['n']
 */
export const resultColumns = (q: unknown): readonly ResultColumn[] | undefined => {
  if (typeof q !== 'object' || q === null || typeof (q as { kind?: unknown }).kind !== 'string') return undefined
  const columns = selectionsOf(q as QueryNode)
  if (columns === undefined) return undefined
  // Query data is never changed, and a rebuilt query usually has the very same column list.
  if (columns === lastColumns) return lastResults
  let out: ResultColumn[] | undefined
  for (let i = 0; i < columns.length; i++) {
    const s = columns[i]
    const name = s.alias ?? (s.expr.kind === 'column' ? s.expr.name : undefined)
    if (name === undefined) continue
    const type = resultTypeOf(s.expr)
    if (type !== undefined) (out ??= []).push(column(name, type))
  }
  lastColumns = columns
  lastResults = out
  return out
}

/** The last column list `resultColumns` read, and its answer. */
let lastColumns: readonly Selection[] | undefined
let lastResults: readonly ResultColumn[] | undefined

/**
 * The compiled statement with its typed result columns attached (unchanged when it has none).
 *
 * @example
 * withResults(node, dialect.compile(node)).results
 */
export const withResults = (q: unknown, c: Compiled): Compiled => {
  const results = resultColumns(q)
  return results === undefined ? c : { ...c, results }
}

/**
 * Read back the typed columns of a result, in place. Throws DecodeError.
 *
 * @example
 * decodeResults(compiled.results, result.rows)
 */
export const decodeResults = <R>(results: readonly ResultColumn[], rows: readonly R[]): void => {
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r] as Record<string, unknown>
    for (let i = 0; i < results.length; i++) {
      const c = results[i]
      if (c.name in row) row[c.name] = c.decode(row[c.name])
    }
  }
}

/** A result with its typed columns read back. Throws DecodeError. */
export const decodedResult = <R>(results: readonly ResultColumn[], r: QueryResult<R>): QueryResult<R> => {
  decodeResults(results, r.rows)
  return r
}
