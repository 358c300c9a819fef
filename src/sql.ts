/**
 * SQL fragments and the `sql` tagged template.
 *
 * A fragment is SQL text with holes: values travel as parameters, identifiers are quoted by
 * the dialect at render time, nested fragments are spliced in. Dialect functions return
 * fragments, so an override can be written as a template: `sql\` LIMIT ${n}\``.
 */

import { dbError, type DbError, withSql } from './errors.js'
import { atParameter } from './values.js'

/** A value bound as a parameter. */
export interface Param {
  readonly _tag: 'Param'
  readonly value: unknown
}

/** An identifier (optionally qualified: `schema.table.column`), quoted by the dialect. */
export interface Ident {
  readonly _tag: 'Ident'
  readonly names: readonly string[]
}

/** A named hole filled when a prepared query runs. */
export interface Placeholder {
  readonly _tag: 'Placeholder'
  readonly name: string
}

/**
 * Query data interpolated into a `sql` fragment: a statement (rendered as a parenthesised
 * subquery) or an expression built by recordkit, compiled by the dialect that renders it.
 */
export interface Embedded {
  readonly _tag: 'Embedded'
  readonly node: { readonly kind: string }
}

/** A value written into the SQL text as a literal, escaped by the dialect (`sql.lit`). */
export interface Literal {
  readonly _tag: 'Literal'
  readonly value: unknown
}

/**
 * The rows of a VALUES list, `(a, b), (c, d)`, as one part: a cell that is a bound value
 * (`kind: 'value'`) is a parameter, any other cell is query data compiled in place (as
 * `Embedded`). A multi-row INSERT is then one part, not a part per cell and per comma, so
 * rendering 10,000 rows allocates nothing per cell but its parameter.
 */
export interface ValueRows {
  readonly _tag: 'ValueRows'
  readonly rows: readonly (readonly { readonly kind: string; readonly value?: unknown }[])[]
  /**
   * The same rows as plain values, one array per column (`columns[j][i]` is row i's cell j),
   * when every cell is a bound value: read instead of `rows` (see src/value-columns.ts).
   */
  readonly columns?: readonly (readonly unknown[])[]
}

/** One piece of a fragment. Strings are SQL text, written as they are. */
export type Part = string | Param | Ident | Placeholder | Fragment | Embedded | Literal | ValueRows

/** SQL text with holes. */
export interface Fragment {
  readonly _tag: 'Fragment'
  readonly parts: readonly Part[]
}

const fragment = (parts: readonly Part[]): Fragment => ({ _tag: 'Fragment', parts })

const isTagged = (u: unknown, tag: string): boolean =>
  typeof u === 'object' && u !== null && (u as { _tag?: unknown })._tag === tag

/**
 * True for a Fragment.
 * @example isFragment(sql`SELECT 1`) // true
 */
export const isFragment = (u: unknown): u is Fragment => isTagged(u, 'Fragment')

const EXPR = Symbol.for('recordkit.Expr')

/**
 * Whether a value is query data: an expression made by a builder (they carry a mark), or a
 * statement node (its kind and the fields every such node has). A JSON object that only happens
 * to have a `kind` is not one; `sql.param(value)` binds anything as a parameter regardless.
 */
const isQueryData = (u: unknown): u is { readonly kind: string } => {
  if (typeof u !== 'object' || u === null) return false
  if ((u as Record<symbol, unknown>)[EXPR] === true) return true
  const n = u as Record<string, unknown>
  switch (n.kind) {
    case 'select': return Array.isArray(n.columns) && Array.isArray(n.joins) && Array.isArray(n.orderBy)
    case 'compound': return typeof n.left === 'object' && typeof n.right === 'object' && Array.isArray(n.orderBy)
    case 'insert': return typeof n.table === 'object' && Array.isArray(n.columns) && Array.isArray(n.rows)
    case 'update': return typeof n.table === 'object' && Array.isArray(n.set)
    case 'delete': return typeof n.table === 'object' && (n.table as { kind?: unknown } | null)?.kind === 'table'
    default: return false
  }
}

const asPart = (value: unknown): Part =>
  isFragment(value) || isTagged(value, 'Ident') || isTagged(value, 'Placeholder') || isTagged(value, 'Param') || isTagged(value, 'Literal')
    ? (value as Part)
    : isQueryData(value)
      ? { _tag: 'Embedded', node: value }
      : { _tag: 'Param', value }

/**
 * The raw-SQL tagged template. Interpolated values become parameters; `sql.id(...)` becomes a
 * quoted identifier; nested fragments are spliced in; a query built with the builders becomes a
 * parenthesised subquery and an expression (`col('a')`, `count()`) is compiled in place, by
 * the dialect that renders the fragment. `null` is bound as NULL; `undefined` is refused when the
 * statement is compiled or run (a ValidationError naming the parameter, `$2`, with the SQL text),
 * as the builders refuse it: a value that is missing is a mistake, never a NULL.
 *
 * @example
 * const q = sql`SELECT * FROM ${sql.id('users')} WHERE name = ${"O'Brien"}`
 * // on PostgreSQL: SELECT * FROM "users" WHERE name = $1   params: ["O'Brien"]
 */
export const sql = Object.assign(
  (strings: TemplateStringsArray, ...values: unknown[]): Fragment => {
    const parts: Part[] = []
    for (let i = 0; i < strings.length; i++) {
      if (strings[i] !== '') parts.push(strings[i])
      if (i < values.length) parts.push(asPart(values[i]))
    }
    return fragment(parts)
  },
  {
    /**
     * A quoted identifier; dots split qualified names unless an array is given.
     * @example sql`SELECT ${sql.id('u.name')} FROM ${sql.id('users')} u`
     */
    id: (name: string | readonly string[]): Ident => ({ _tag: 'Ident', names: typeof name === 'string' ? name.split('.') : name }),
    /**
     * SQL text written as it is. Never pass user input here.
     * @example sql`SELECT ${sql.raw('COUNT(*)')} FROM t`
     */
    raw: (text: string): Fragment => fragment([text]),
    /**
     * A bound parameter, even when the value looks like a fragment (`undefined` is refused, as
     * in the template).
     * @example sql`SELECT ${sql.param(1)}`
     */
    param: (value: unknown): Param => ({ _tag: 'Param', value }),
    /**
     * A value written into the SQL text as a literal, escaped by the dialect that renders it
     * (`'it''s'`, `42`, `TRUE`, `NULL`; MySQL also escapes backslashes). For what must be
     * literal text, not a parameter: a constant the planner should see, a value in DDL, a
     * CASE result whose type must be known. Numbers must be finite; `undefined` is refused
     * (write `null` for NULL).
     * @example sql`SELECT ${sql.lit("it's")} AS ${sql.id('s')}` // SELECT 'it''s' AS "s"
     */
    lit: (value: unknown): Literal => ({ _tag: 'Literal', value }),
    /**
     * A named hole for prepared queries: filled from the arguments at each run.
     * @example const p = db.prepare(sql`SELECT * FROM t WHERE id = ${sql.placeholder('id')}`)
     */
    placeholder: (name: string): Placeholder => ({ _tag: 'Placeholder', name }),
    /**
     * Join fragments (or values, which become parameters; `undefined` is refused) with a separator.
     * @example sql.join([1, 2, 3]) // ?, ?, ?
     */
    join: (items: readonly unknown[], separator: string = ', '): Fragment => {
      const parts: Part[] = []
      for (let i = 0; i < items.length; i++) {
        if (i > 0) parts.push(separator)
        parts.push(asPart(items[i]))
      }
      return fragment(parts)
    },
    /** The empty fragment. */
    empty: fragment([]),
  },
)

/** Build a fragment from parts directly (what dialect code uses on hot paths). */
export const fromParts = fragment

/**
 * Fragments one after the other with a separator between them.
 * @example joinFragments([sql`a`, sql`b`], ', ') // a, b
 */
export const joinFragments = (items: readonly Fragment[], separator: string): Fragment => {
  const parts: Part[] = []
  for (let i = 0; i < items.length; i++) {
    if (i > 0) parts.push(separator)
    parts.push(items[i])
  }
  return fragment(parts)
}

const JSON_VALUE = Symbol.for('recordkit.json')

/** A value to bind as JSON, whatever its JS type (see `json`). */
export interface JsonValue {
  readonly [JSON_VALUE]: true
  readonly value: unknown
}

/**
 * Bind a value as JSON on every dialect: arrays and scalars included. (A plain object is
 * bound as JSON already; a plain array is a PostgreSQL array on PostgreSQL, so JSON arrays
 * need this marker to be portable.)
 *
 * @example
 * pipe(insertInto('events'), values({ payload: json([1, 2, 3]) }))
 */
export const json = (value: unknown): JsonValue => Object.freeze({ [JSON_VALUE]: true as const, value })

/**
 * True for a value made by `json`.
 * @example isJsonValue(json(1)) // true
 */
export const isJsonValue = (u: unknown): u is JsonValue =>
  typeof u === 'object' && u !== null && (u as Record<symbol, unknown>)[JSON_VALUE] === true

/** A compiled statement: the SQL text and its parameters, ready for a driver. */
export interface Compiled {
  readonly sql: string
  readonly params: readonly unknown[]
  /**
   * Names of prepared-query holes, by parameter position (undefined where the parameter has
   * a fixed value). Present only when the statement has placeholders.
   */
  readonly holes?: readonly (string | undefined)[]
  /** Only the first row is wanted: a driver may fetch just that one. */
  readonly first?: boolean
  /** One run of a batch (`executeBatch`): the same text runs many times, so a driver may keep it prepared. */
  readonly batch?: boolean
  /**
   * Result columns whose values the backend reads back in a given way (counts as numbers,
   * JSON parsed), found by `compile` in the statement's SELECT or RETURNING list. Absent when
   * there is none, so other statements cost nothing.
   */
  readonly results?: readonly ResultColumn[]
}

/**
 * Whether a value is a compiled statement (`{ sql, params }`), as `execute` takes besides query
 * data and fragments.
 *
 * @example isCompiled({ sql: 'SELECT 1', params: [] }) // true
 */
export const isCompiled = (q: unknown): q is Compiled => typeof (q as Compiled).sql === 'string' && Array.isArray((q as Compiled).params)

/** A result column and how its value is read back (see `Compiled.results`). */
export interface ResultColumn {
  readonly name: string
  /** The value as read back, or a thrown DecodeError. `null` stays `null`. */
  readonly decode: (value: unknown) => unknown
}

/** What rendering needs from a dialect. */
export interface RenderDialect {
  readonly placeholder: (index: number) => string
  readonly quoteIdentifier: (name: string) => string
  readonly toDriver: (value: unknown) => unknown
  /** Query data interpolated into a fragment, compiled (a full Dialect has it). */
  readonly embedded?: (node: { readonly kind: string }) => Fragment
  /** A value as an SQL literal (a full Dialect has it). */
  readonly literal?: (value: unknown) => string
}

/**
 * The placeholders of a row of bound values, `?, ?, ?`, by width, for a dialect whose placeholder
 * is the same text at every position: made once per width (an IN list of a relation's keys
 * renders its thousand placeholders as one string). Widths past 64 are kept for the last 64
 * widths seen (a table per placeholder text).
 */
const PLACEHOLDER_ROWS = new Map<string, { readonly small: string[]; readonly large: Map<number, string> }>()

const placeholderRows = (same: string): { readonly small: string[]; readonly large: Map<number, string> } => {
  let t = PLACEHOLDER_ROWS.get(same)
  if (t === undefined) PLACEHOLDER_ROWS.set(same, (t = { small: [], large: new Map() }))
  return t
}

const placeholderRow = (t: { readonly small: string[]; readonly large: Map<number, string> }, same: string, width: number): string => {
  if (width <= 64) return (t.small[width] ??= Array.from({ length: width }, () => same).join(', '))
  let s = t.large.get(width)
  if (s === undefined) {
    if (t.large.size >= 64) t.large.clear()
    t.large.set(width, (s = Array.from({ length: width }, () => same).join(', ')))
  }
  return s
}

/**
 * Render a fragment to SQL text and parameters with a dialect's placeholders and quoting.
 *
 * @example
 * render(sqlite, sql`SELECT ${1}`) // { sql: 'SELECT ?', params: [1] }
 */
export const render = (d: RenderDialect, f: Fragment): Compiled => {
  let params: unknown[] = []
  let holes: (string | undefined)[] | undefined
  let text = ''
  // The first value that was undefined: reported once the whole text is known, with it.
  let missing: DbError | undefined
  /** The driver's form of a value, or the value's error naming its parameter (1-based). */
  const converted = (value: unknown, position: number): unknown => {
    if (value === undefined) {
      missing ??= undefinedParameter(`$${position}`)
      return null
    }
    try {
      return d.toDriver(value)
    } catch (e) {
      throw atParameter(e, position)
    }
  }
  const bind = (value: unknown): void => {
    params.push(converted(value, params.length + 1))
  }
  const embedded = (node: { readonly kind: string }): readonly Part[] => {
    if (d.embedded === undefined) throw dbError('QueryError', `cannot render query data (${node.kind}) without a dialect that compiles it`)
    return d.embedded(node).parts
  }
  // VALUES rows: where the placeholder is the same text at every position (`?`), a row of bound
  // values is one piece of text, made once per width.
  const valueRows = (rows: ValueRows['rows']): void => {
    const same = d.placeholder(1) === d.placeholder(2) ? d.placeholder(1) : undefined
    const rowTexts = same === undefined ? undefined : placeholderRows(same)
    // Growing an array of many thousands by push costs several times more per element than
    // filling one made at its size: when the rows' values come first they are set by index (k),
    // until a row holds a cell other than a value; from there on they are pushed.
    let k = -1
    if (params.length === 0 && same !== undefined && (rows.length > 1 || (rows.length === 1 && rows[0].length > 16))) {
      let n = 0
      for (let i = 0; i < rows.length; i++) n += rows[i].length
      params = new Array(n)
      k = 0
    }
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]
      let bound = same !== undefined
      for (let j = 0; bound && j < r.length; j++) bound = r[j].kind === 'value'
      if (!bound && k >= 0) {
        params.length = k
        k = -1
      }
      if (bound) {
        for (let j = 0; j < r.length; j++) {
          if (k >= 0) {
            params[k] = converted(r[j].value, k + 1)
            k++
          } else bind(r[j].value)
        }
        text += (i === 0 ? '(' : '), (') + placeholderRow(rowTexts!, same!, r.length)
        continue
      }
      text += i === 0 ? '(' : '), ('
      for (let j = 0; j < r.length; j++) {
        if (j > 0) text += ', '
        const x = r[j]
        if (x.kind === 'value') {
          bind(x.value)
          text += d.placeholder(params.length)
        } else walk(embedded(x))
      }
    }
    if (k >= 0) params.length = k
    if (rows.length > 0) text += ')'
  }
  // The same, from plain values, one array per column: every cell is a parameter.
  const valueColumns = (columns: readonly (readonly unknown[])[]): void => {
    const width = columns.length
    const count = width === 0 ? 0 : columns[0].length
    const same = d.placeholder(1) === d.placeholder(2) ? d.placeholder(1) : undefined
    if (same !== undefined) {
      const row = placeholderRow(placeholderRows(same), same, width)
      let k = params.length
      if (k === 0) params = new Array(count * width)
      for (let i = 0; i < count; i++) {
        text += (i === 0 ? '(' : '), (') + row
        for (let j = 0; j < width; j++) {
          params[k] = converted(columns[j][i], k + 1)
          k++
        }
      }
    } else {
      for (let i = 0; i < count; i++) {
        text += i === 0 ? '(' : '), ('
        for (let j = 0; j < width; j++) {
          if (j > 0) text += ', '
          bind(columns[j][i])
          text += d.placeholder(params.length)
        }
      }
    }
    if (count > 0) text += ')'
  }
  const walk = (parts: readonly Part[]): void => {
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]
      if (typeof p === 'string') text += p
      else if (p._tag === 'Param') {
        bind(p.value)
        text += d.placeholder(params.length)
      } else if (p._tag === 'ValueRows') {
        if (p.columns === undefined) valueRows(p.rows)
        else valueColumns(p.columns)
      }
      else if (p._tag === 'Fragment') walk(p.parts)
      else if (p._tag === 'Literal') {
        if (d.literal === undefined) throw dbError('QueryError', 'cannot render a literal without a dialect that writes it')
        if (p.value === undefined) missing ??= undefinedParameter('literal')
        text += d.literal(p.value === undefined ? null : p.value)
      } else if (p._tag === 'Embedded') walk(embedded(p.node))
      else if (p._tag === 'Ident') {
        for (let j = 0; j < p.names.length; j++) text += (j > 0 ? '.' : '') + (p.names[j] === '*' ? '*' : d.quoteIdentifier(p.names[j]))
      } else {
        params.push(undefined)
        holes ??= []
        holes[params.length - 1] = p.name
        text += d.placeholder(params.length)
      }
    }
  }
  walk(f.parts)
  if (missing !== undefined) throw withSql(missing, text)
  return holes ? { sql: text, params, holes } : { sql: text, params }
}

/**
 * The ValidationError of a value given as `undefined` to the `sql` tag (or `sql.param`,
 * `sql.join`, `sql.lit`, a part given to `fromParts`): refused as the builders refuse it, never
 * bound as NULL. `where` is the parameter (`$2`) or `literal`. Code that writes a fragment's
 * values into SQL text itself (a dialect's `inlineSql`) refuses them with it too.
 *
 * @example undefinedParameter('$2').message // 'parameter $2 is undefined (pass null for a NULL value)'
 */
export const undefinedParameter = (where: string): DbError => {
  const what = where === 'literal' ? 'a literal (sql.lit)' : `parameter ${where}`
  return dbError('ValidationError', `${what} is undefined (pass null for a NULL value)`, {
    issues: [{ path: where, rule: 'defined', value: undefined, message: `${what} is undefined` }],
  })
}
