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
 * | `json` | `jsonArrayFrom`, `jsonObjectFrom`, `jsonBuildObject`, `jsonGet`, `cast(x, 'json')` | the parsed value |
 * | `date` | `dateAdd`, `dateTrunc`, `cast(x, 'date' / 'timestamp')` | a Date (SQLite's UTC text and MariaDB's DATE text read as UTC) |
 * | `int64` | `readAs(x, 'int64')` (a BIGINT counter, its `max`, a `lag` of it) | a bigint, every digit kept (mysql2 gives a BIGINT as text, SQLite and PostgreSQL as a bigint) |
 * | `boolean` | conditions (`eq`, `gt`, `like`, `isNull`, `isIn`, `between`, `and`, `or`, `not`, `exists`, ...), `cast(x, 'boolean')` | `true` or `false` (SQLite and MySQL compute them as 1 or 0) |
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
import type {
  CteNode, DeleteNode, Expr, FromItem, InsertNode, QueryNode, RawNode, ResultType, SelectLike, SelectNode, Selection, UpdateNode,
} from './ast.js'
import type { QueryResult } from './driver.js'
import { dbError } from './errors.js'
import { parseMysqlDateTime } from './dates.js'
import { decimalFast, FAIL, type FastDecode, floatFast, int64Fast, integerFast, jsonValueFast as jsonFast } from './model/fast-decoders.js'
import type { Compiled, ResultColumn } from './sql.js'

/** The binary operators whose value is true or false. */
const COMPARISONS: ReadonlySet<string> = new Set(['=', '<>', '<', '<=', '>', '>=', 'like', 'not like', 'ilike', 'not ilike'])

const INTEGER_TYPES = new Set(['integer', 'int', 'smallint', 'signed'])
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
    case 'binary': return COMPARISONS.has(e.op) ? 'boolean' : undefined
    // Conditions: PostgreSQL gives a boolean, SQLite and MySQL 1 or 0.
    case 'and':
    case 'or':
    case 'not':
    case 'in':
    case 'between':
    case 'isNull':
    case 'distinctFrom':
    case 'jsonContains':
      return 'boolean'
    // A CASE whose every result is read the same way (true / false, counts, ...) reads that way.
    case 'case': return sameResultType(e.else === undefined ? e.whens.map((w) => w.then) : [...e.whens.map((w) => w.then), e.else])
    // Computed dates: a Date on every engine (SQLite computes them as UTC text).
    case 'dateAdd':
    case 'dateTrunc':
      return 'date'
    case 'window': return e.func.result
    // A scalar subquery reads as its one column does: subquery(count()) is an integer.
    case 'subquery':
      if (e.exists === true) return 'boolean'
      return e.query.kind === 'select' && e.query.columns.length === 1 ? resultTypeOf(e.query.columns[0].expr) : undefined
    case 'jsonFrom':
    case 'jsonBuildObject':
      return 'json'
    case 'cast': {
      const type = e.type.trim().toLowerCase()
      if (INTEGER_TYPES.has(type)) return 'integer'
      // A BIGINT with every digit, as readAs(e, 'int64') reads it (beyond 2^53 'integer' fails).
      if (type === 'bigint' || type === 'int8') return 'int64'
      if (FLOAT_TYPES.has(type)) return 'float'
      if (type.startsWith('decimal') || type.startsWith('numeric')) return 'decimal'
      if (type === 'json' || type === 'jsonb') return 'json'
      if (type === 'boolean' || type === 'bool') return 'boolean'
      if (type === 'date' || type === 'datetime' || type.startsWith('timestamp')) return 'date'
      return undefined
    }
    default: return undefined
  }
}

/**
 * The one result type of some expressions (CASE results), when each has it: a bound boolean is
 * `'boolean'`, a bound NULL goes with any type, anything else as `resultTypeOf` gives it.
 */
const sameResultType = (es: readonly Expr[]): ResultType | undefined => {
  let type: ResultType | undefined
  for (const e of es) {
    if (e.kind === 'value' && (e.value === null || e.value === undefined)) continue
    const t = e.kind === 'value' ? (typeof e.value === 'boolean' ? 'boolean' : undefined) : resultTypeOf(e)
    if (t === undefined || (type !== undefined && t !== type)) return undefined
    type = t
  }
  return type
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
  // A number is SQLite's (PostgreSQL and MariaDB give text), which adds decimals in doubles: a DECIMAL
  // keeps 15 significant digits there, so a sum is read to 15 ('0.1' + '0.2' is '0.3', not 0.30000000000000004).
  if (typeof v === 'number') return !Number.isFinite(v) ? FAIL : Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(15)))
  if (typeof v === 'bigint') return String(v)
  return FAIL
}

/** A boolean from a boolean, or from the 1 and 0 (number, bigint or text) SQLite and MySQL give for one. */
const booleanFast: FastDecode = (v) => {
  switch (typeof v) {
    case 'boolean': return v
    case 'number': return v === 1 ? true : v === 0 ? false : FAIL
    case 'bigint': return v === 1n ? true : v === 0n ? false : FAIL
    case 'string': return v === '1' || v === 't' || v === 'true' ? true : v === '0' || v === 'f' || v === 'false' ? false : FAIL
    default: return FAIL
  }
}

/** A Date from a Date, or from UTC date text as SQLite computes it and MariaDB gives a DATE (`YYYY-MM-DD[ HH:MM:SS[.fff]]`). */
const dateFast: FastDecode = (v) => {
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? FAIL : v
  if (typeof v !== 'string') return FAIL
  try {
    return parseMysqlDateTime(v)
  } catch {
    return FAIL
  }
}

const DECODERS: Readonly<Record<ResultType, { readonly fast: FastDecode; readonly rule: string; readonly hint: string }>> = {
  integer: { fast: integerFast, rule: 'integer', hint: 'an integer within ±2^53; read it as text with cast(x, \'text\')' },
  number: { fast: numberFast, rule: 'number', hint: 'a number a double holds exactly; read it exactly with sum(x, { exact: true }) or cast(x, \'decimal(p,s)\')' },
  decimal: { fast: exactFast, rule: 'decimal', hint: 'decimal text' },
  float: { fast: floatFast, rule: 'float', hint: 'a number' },
  json: { fast: jsonFast, rule: 'json', hint: 'JSON text or a parsed value' },
  boolean: { fast: booleanFast, rule: 'boolean', hint: 'a boolean (true, false, 1 or 0)' },
  date: { fast: dateFast, rule: 'date', hint: 'a date (a Date, or YYYY-MM-DD[ HH:MM:SS[.fff]] text)' },
  int64: { fast: int64Fast, rule: 'int64', hint: 'an integer (a bigint, or integer text)' },
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

/** The SELECT whose list names a statement's result columns (a set operation's first member). */
const firstSelectOf = (q: QueryNode | SelectLike): SelectNode | undefined =>
  q.kind === 'select' ? q : q.kind === 'compound' ? firstSelectOf(q.left) : undefined

/** Whether a SELECT reads a derived table, or a statement has CTEs its SELECT may read. */
const readsQueries = (s: SelectNode, q: QueryNode): boolean => {
  if (s.with !== undefined || (q.kind === 'compound' && q.with !== undefined) || s.from?.kind === 'derived') return true
  for (let i = 0; i < s.joins.length; i++) if (s.joins[i].table.kind === 'derived') return true
  return false
}

/**
 * Whether a statement's result list may read columns from a derived table or a CTE (whose types
 * `selectionTypes` then follows).
 *
 * @example readsDerived(pipe(from(derived(q, 'x')), select('x.n'))) // true
 */
export const readsDerived = (q: QueryNode): boolean => {
  const first = firstSelectOf(q)
  return first !== undefined && readsQueries(first, q)
}

/** CTEs deeper than this are not followed (a CTE that reads itself in its first member is no query). */
const MAX_DEPTH = 16

/** The typed output columns of a query made in the statement (a derived table's, a CTE's), by name. */
const queryOutputs = (q: SelectLike | RawNode | InsertNode | UpdateNode | DeleteNode, scope: readonly CteNode[], depth: number, renamed?: readonly string[]): Map<string, ResultType> | undefined => {
  if (q.kind === 'raw' || depth > MAX_DEPTH) return undefined
  const out = typedOutputs(q, scope, depth + 1)
  if (out === undefined || renamed === undefined || renamed.length === 0) return out
  // CTE column names replace the query's own, by position.
  const names = (selectionsOf(q) ?? []).map((s) => s.alias ?? (s.expr.kind === 'column' ? s.expr.name : undefined))
  const again = new Map<string, ResultType>()
  names.forEach((n, i) => {
    const t = n === undefined ? undefined : out.get(n)
    if (t !== undefined && renamed[i] !== undefined) again.set(renamed[i], t)
  })
  return again
}

/** The typed columns each table of a SELECT's FROM and joins gives, by the name it is read under. */
const sourcesOf = (s: SelectNode, scope: readonly CteNode[], depth: number): Map<string, Map<string, ResultType>> => {
  const sources = new Map<string, Map<string, ResultType>>()
  const add = (t: FromItem | undefined) => {
    if (t === undefined) return
    if (t.kind === 'derived') {
      const typed = queryOutputs(t.query, scope, depth)
      if (typed !== undefined) sources.set(t.alias, typed)
    } else if (t.kind === 'table' && t.schema === undefined) {
      // The nearest CTE of that name (inner WITH first).
      for (let i = scope.length - 1; i >= 0; i--) {
        const c = scope[i]
        if (c.name !== t.name) continue
        // It sees the CTEs before it, and itself (a recursive one reads itself; depth bounds that).
        const typed = queryOutputs(c.query, scope.slice(0, i + 1), depth, c.columns)
        if (typed !== undefined) sources.set(t.alias ?? t.name, typed)
        break
      }
    }
  }
  add(s.from)
  for (const j of s.joins) add(j.table)
  return sources
}

/**
 * The typed output columns of a statement, by name: its own typed SELECT (or RETURNING) items,
 * and the columns it reads under their name from a derived table or a CTE whose query types
 * them (`from(derived(pipe(..., select({ n: count() })), 'x'))` reads `n` as an integer;
 * `*` and `x.*` take every typed column of the tables they name).
 */
const typedOutputs = (q: QueryNode | SelectLike, outer: readonly CteNode[], depth: number): Map<string, ResultType> | undefined => {
  const columns = selectionsOf(q)
  if (columns === undefined) return undefined
  const first = firstSelectOf(q)
  let sources: Map<string, Map<string, ResultType>> | undefined
  if (first !== undefined) {
    let scope = outer
    if (q.kind === 'compound' && q.with !== undefined) scope = [...scope, ...q.with.ctes]
    if (first.with !== undefined) scope = [...scope, ...first.with.ctes]
    sources = sourcesOf(first, scope, depth)
  }
  const out = new Map<string, ResultType>()
  const everyOf = (table: string | undefined) => {
    if (sources === undefined) return
    for (const [alias, typed] of sources) if (table === undefined || table === alias) for (const [n, t] of typed) out.set(n, t)
  }
  if (first !== undefined && first.columns.length === 0) everyOf(undefined)
  for (const s of columns) {
    if (s.expr.kind === 'star') {
      everyOf(s.expr.table)
      continue
    }
    const name = s.alias ?? (s.expr.kind === 'column' ? s.expr.name : undefined)
    if (name === undefined) continue
    const type = selectionType(s, sources)
    if (type !== undefined) out.set(name, type)
    else out.delete(name)
  }
  return out
}

/** How a selection is read back: its expression's own type, or the type of the column it reads from a derived table or CTE. */
const selectionType = (s: Selection, sources: Map<string, Map<string, ResultType>> | undefined): ResultType | undefined => {
  const type = resultTypeOf(s.expr)
  if (type !== undefined || s.expr.kind !== 'column' || sources === undefined) return type
  const e = s.expr
  if (e.table !== undefined) return sources.get(e.table)?.get(e.name)
  for (const typed of sources.values()) {
    const t = typed.get(e.name)
    if (t !== undefined) return t
  }
  return undefined
}

/**
 * How each item of a statement's result list (its SELECT list, a set operation's first
 * member's, or its RETURNING) is read back, by position: as `resultColumns` reads it, columns
 * of a derived table or a CTE included (`*` items are undefined). Undefined when the statement
 * has no result list.
 *
 * @example selectionTypes(pipe(from('t'), select('id', as(count(), 'n')))) // [undefined, 'integer']
 */
export const selectionTypes = (q: QueryNode): readonly (ResultType | undefined)[] | undefined => {
  const columns = selectionsOf(q)
  if (columns === undefined) return undefined
  const first = firstSelectOf(q)
  let sources: Map<string, Map<string, ResultType>> | undefined
  if (first !== undefined && readsQueries(first, q)) {
    const scope = [...(q.kind === 'compound' && q.with !== undefined ? q.with.ctes : []), ...(first.with?.ctes ?? [])]
    sources = sourcesOf(first, scope, 0)
  }
  return columns.map((s) => (s.expr.kind === 'star' ? undefined : selectionType(s, sources)))
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
  // Columns read from a derived table or a CTE read as the query that makes them.
  const first = firstSelectOf(q as QueryNode)
  if (first !== undefined && readsQueries(first, q as QueryNode)) {
    const typed = typedOutputs(q as QueryNode, [], 0)
    return typed === undefined || typed.size === 0 ? undefined : [...typed].map(([name, type]) => column(name, type))
  }
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
