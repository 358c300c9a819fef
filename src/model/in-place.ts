/**
 * Reading a model's rows in place: the statement names each column after its field
 * (`"posts"."created_at" AS "createdAt"`), so the rows the driver returns already have the
 * model's shape and are decoded where they are (`compileInPlaceMapper`), without a row object of
 * their own. Used by plain reads (`Model.all`, `first`, `paginate`, `batches`) and by every
 * relation level that can.
 */
import type * as t from 'io-ts'
import type { Selection, SelectNode } from '../ast.js'
import type { Backend } from '../compose.js'
import { as, patchSelect } from '../query.js'
import { cast } from '../query/cast.js'
import { markReused } from '../reused.js'
import { date, readsJson } from './codecs.js'
import { bareColumn, type ModelCore } from './core.js'
import type { Row } from '../driver.js'
import type { RowMapper } from './decode.js'
import { type Computed, computedColumns, type ModelQuery, selectedFields, selectWith, toSelect } from './query.js'

/** The aliased column lists of a model's field sets (built once per set and way of reading, see `TextReads`). */
const aliasedColumns = new WeakMap<ModelCore, Map<string, readonly Selection[]>>()

/**
 * Which fields a backend's model reads read as the column's text (`CAST(col AS text)`): a bit
 * set, `DATES` (see `datesAsText`) and `JSON` (see `jsonAsText`). Decided once per read from the
 * dialect; each model's column lists for each value are built once and kept.
 */
export type TextReads = number
/** `date` fields read as text. */
export const DATES: TextReads = 1
/** `jsonOf` fields read as text. */
export const JSON_TEXT: TextReads = 2
/** With `DATES`: the text cast to `CHAR CHARACTER SET latin1` (see `datesAsText`). */
export const LATIN1_DATES: TextReads = 4

/**
 * How `db`'s model reads spell their columns (see `TextReads`).
 *
 * @example textReads(db) & JSON_TEXT // non-zero on PostgreSQL and MariaDB
 */
export const textReads = (db: Backend): TextReads =>
  (datesAsText(db) ? (db.dialect.datesAsText === 'latin1' ? DATES | LATIN1_DATES : DATES) : 0) | (jsonAsText(db) ? JSON_TEXT : 0)

/** Whether a codec is `date`, or `date` or NULL. */
const isDate = (c: t.Any): boolean => c === date || ((c as { _tag?: string })._tag === 'UnionType' &&
  (c as unknown as t.UnionType<t.Mixed[]>).types.every((m) => m === date || (m as { _tag?: string })._tag === 'NullType'))

/**
 * The columns of `names`, each under its field's name. With `DATES` in `reads` the `date` fields
 * are read as their text (`CAST(col AS CHAR CHARACTER SET latin1)` on MySQL and MariaDB, see
 * `LATIN1_DATES`), which the `date` codec reads exactly: on MySQL and MariaDB, where mysql2
 * hands a DATETIME over as text it builds piece by piece (the driver asks
 * for text: its own Dates read years 0-99 wrong), reading the server's text is several times
 * cheaper. With `JSON_TEXT` the `jsonOf` fields are read as their text (see `jsonAsText`).
 *
 * @example
 * aliased(Post.core, ['id', 'createdAt'], 0) // "posts"."id", "posts"."created_at" AS "createdAt"
 */
export const aliased = (target: ModelCore, names: readonly string[], reads: TextReads): readonly Selection[] => {
  let byNames = aliasedColumns.get(target)
  if (byNames === undefined) aliasedColumns.set(target, (byNames = new Map()))
  // Every field in the model's order (what most reads select) has a key that needs no joining.
  const key = everyField(target, names) ? String(reads) : `${reads}\0${names.join('\0')}`
  let columns = byNames.get(key)
  if (columns === undefined) {
    // Marked as handed out again, so the statement-shape cache looks up the reads that use it.
    columns = markReused(Object.freeze(names.map((n): Selection => {
      const f = target.byName.get(n)!
      const c = target.column(n)
      if (asText(f.codec, reads)) return as(cast(c, (reads & LATIN1_DATES) !== 0 && !readsJson(f.codec) ? LATIN1_TEXT : 'text'), n)
      // A column already named as its field needs no alias.
      return f.column === n ? { expr: c } : as(c, n)
    })))
    byNames.set(key, columns)
  }
  return columns
}

/** The type a `date` field's column is cast to under `LATIN1_DATES` (MySQL and MariaDB). */
const LATIN1_TEXT = 'char character set latin1'

/** Whether a field of `codec` is read as its column's text under `reads`. */
const asText = (codec: t.Any, reads: TextReads): boolean =>
  ((reads & JSON_TEXT) !== 0 && readsJson(codec)) || ((reads & DATES) !== 0 && isDate(codec))

/** Per model: whether it has a `jsonOf` field (else its JSON reads are its plain ones). */
const jsonFields = new WeakMap<ModelCore, boolean>()

/** Whether a model has a field that `jsonAsText` reads as text. */
const hasJson = (core: ModelCore): boolean => {
  let has = jsonFields.get(core)
  if (has === undefined) jsonFields.set(core, (has = core.fields.some((f) => readsJson(f.codec))))
  return has
}

/** The column lists of reads that keep the columns' names (copied reads, RETURNING), per model, reading JSON as text. */
const namedColumns = new WeakMap<ModelCore, Map<string, readonly Selection[]>>()

/**
 * The columns of `names` under their own column names, the `jsonOf` fields read as their text
 * (`CAST(col AS text) AS col`) where `reads` has `JSON_TEXT`; `qualified` names each column with
 * its table (a SELECT), else not (RETURNING); `names` undefined is every field. Built once per model and list; undefined where
 * nothing is read as text (the caller keeps its plain list).
 *
 * @example
 * textColumns(Doc.core, ['id', 'body'], JSON_TEXT, false) // "id", CAST("body" AS text) AS "body"
 */
export const textColumns = (core: ModelCore, names: readonly string[] | undefined, reads: TextReads, qualified: boolean): readonly Selection[] | undefined => {
  if ((reads & JSON_TEXT) === 0 || !hasJson(core)) return undefined
  let byNames = namedColumns.get(core)
  if (byNames === undefined) namedColumns.set(core, (byNames = new Map()))
  const key = `${qualified ? 'q' : 'u'}${names === undefined || everyField(core, names) ? '' : `\0${names.join('\0')}`}`
  let columns = byNames.get(key)
  if (columns === undefined) {
    columns = markReused(Object.freeze((names ?? core.fields.map((f) => f.name)).map((n): Selection => {
      const f = core.byName.get(n)!
      const c = qualified ? core.column(n) : bareColumn(f.column)
      return readsJson(f.codec) ? as(cast(c, 'text'), f.column) : { expr: c }
    })))
    byNames.set(key, columns)
  }
  return columns
}

/**
 * Whether models read their `jsonOf` fields as the column's text (`CAST(col AS text)`): on every
 * engine whose driver may hand a JSON column over parsed (PostgreSQL json/jsonb, MariaDB JSON
 * through mysql2, DuckDB), where a bare JSON string (`"42"`) would come back as the JS string
 * `42`, which reads as JSON text (the number 42). Not on SQLite, whose driver returns the stored
 * text as it is. On PostgreSQL a jsonb column's text is its normalized document.
 *
 * @example jsonAsText(db) // true on PostgreSQL and MariaDB backends, false on SQLite
 */
export const jsonAsText = (db: Backend): boolean => db.dialect.name !== 'sqlite'

/** Whether `names` are the model's fields, all of them, in the model's order. */
const everyField = (core: ModelCore, names: readonly string[]): boolean => {
  const fields = core.fields
  if (names.length !== fields.length) return false
  for (let i = 0; i < names.length; i++) if (names[i] !== fields[i].name) return false
  return true
}

/**
 * Whether `date` fields are read as text (see `aliased`): where the dialect says so (`Dialect.datesAsText`: MySQL and MariaDB).
 *
 * @example datesAsText(db) // true on a MariaDB backend
 */
export const datesAsText = (db: Backend): boolean => db.dialect.datesAsText === true || db.dialect.datesAsText === 'latin1'

/** How a statement's rows are read: in place when `inPlace` is set, else copied by the model's mapper. */
export interface Reading {
  readonly node: SelectNode
  readonly inPlace?: RowMapper
  /** The fields read, in the order of the statement's columns. */
  readonly names: readonly string[]
  /** Whether `names` are every field of the model (its row-level checks run too). */
  readonly all: boolean
  /** The computed columns after the fields, each decoded by its own decoder. */
  readonly computed: readonly Computed[]
}

/**
 * The statement of `names` of `core` (as `toSelect` made it: the fields' columns first, then the
 * computed columns under their names) rewritten to be read in place, with its mapper; or the
 * statement as it is, to be read by copying, when it cannot: a field name that cannot be a column
 * alias (see `inPlaceReadable`), or a computed column named like a selected field (the two would
 * meet in one property of the driver's row).
 *
 * `all` says whether `names` are every field of the model (then the model's row-level checks run
 * too, as the copying mapper of every field runs them).
 *
 * @example
 * inPlaceReading(db, Post.core, toSelect(q), ['id', 'createdAt'], q.computed, false)
 */
export const inPlaceReading = (
  db: Backend, core: ModelCore, node: SelectNode, names: readonly string[], computed: readonly Computed[] | undefined, all: boolean,
): Reading => {
  const inPlace = inPlaceMapperFor(core, names, computed, all)
  const reads = textReads(db)
  if (inPlace === undefined) {
    const text = textColumns(core, names, reads, true)
    const copied = text === undefined ? node : patchSelect(node, { columns: [...text, ...node.columns.slice(names.length)] })
    return { node: copied, inPlace: undefined, names, all, computed: computed ?? [] }
  }
  // The fields' aliased list as it is (one the shape cache knows) when nothing follows it.
  const fieldColumns = aliased(core, names, reads)
  const columns = node.columns.length === names.length ? fieldColumns : [...fieldColumns, ...node.columns.slice(names.length)]
  return { node: patchSelect(node, { columns }), inPlace, names, all, computed: computed ?? [] }
}

/**
 * The mapper that decodes rows of `names` in place, or undefined when they must be copied: a
 * field name that cannot be a column alias (see `inPlaceReadable`), or a computed column named
 * like a selected field (the two would meet in one property of the driver's row).
 */
const inPlaceMapperFor = (core: ModelCore, names: readonly string[], computed: readonly Computed[] | undefined, all: boolean): RowMapper | undefined => {
  if (computed !== undefined) for (const c of computed) if (names.includes(c.name)) return undefined
  return core.inPlaceMapper(all ? undefined : names)
}

/**
 * The statement of a model query's rows (its selected fields and `extra`, the keys relation
 * loading needs) and how they are decoded: in place where the fields can be read under their own
 * names (the statement is built with their aliased columns at once, see `selectWith`), so a read
 * allocates no row objects of its own; else copied by the model's mapper (`copiedReading`).
 *
 * @example queryReading(db, pipe(User.query, User.where({ id: 1 }))).node // the SELECT it runs
 */
export const queryReading = (db: Backend, q: ModelQuery<any, any, any>, extra: readonly string[] = []): Reading => {
  const names = selectedFields(q, extra)
  const all = q.fields === undefined
  const inPlace = inPlaceMapperFor(q.core, names, q.computed, all)
  if (inPlace === undefined) return copiedReading(db, q, extra)
  const fieldColumns = aliased(q.core, names, textReads(db))
  const computed = q.computed ?? []
  const columns = computed.length === 0 ? fieldColumns : [...fieldColumns, ...computedColumns(q)]
  return { node: selectWith(q, columns), inPlace, names, all, computed }
}

/**
 * The statement of a model query's rows read by copying (columns under their own names, rows
 * mapped to new objects by the model's mapper; `jsonOf` fields as their text where `jsonAsText`).
 *
 * @example copiedReading(db, pipe(User.query, User.limit(5)), ['id']).inPlace // undefined
 */
export const copiedReading = (db: Backend, q: ModelQuery<any, any, any>, extra: readonly string[] = []): Reading => {
  const names = selectedFields(q, extra)
  const text = textColumns(q.core, names, textReads(db), true)
  const node = text === undefined ? toSelect(q, extra) : selectWith(q, [...text, ...computedColumns(q)])
  return { node, inPlace: undefined, names, all: q.fields === undefined, computed: q.computed ?? [] }
}

/**
 * The statement's rows read as `reading` says, as
 * the model's rows: decoded in place or copied by the mapper of the fields read, then each
 * computed column decoded by its own decoder. Throws a DecodeError naming table, row and column.
 *
 * @example
 * const r = inPlaceReading(db, Post.core, toSelect(q), selectedFields(q), q.computed, true)
 * decodeRows(Post.core, r, await run(db.all(r.node)))
 */
export const decodeRows = (core: ModelCore, reading: Reading, raw: Row[]): Record<string, unknown>[] => {
  const computed = reading.computed
  if (reading.inPlace !== undefined) {
    const rows = reading.inPlace(raw) as Record<string, unknown>[]
    for (let j = 0; j < computed.length; j++) {
      const c = computed[j]
      for (let i = 0; i < rows.length; i++) rows[i][c.name] = c.decode(rows[i][c.name])
    }
    return rows
  }
  // The mapper replaces each raw row with the decoded one: read the computed values first.
  const values = computed.length === 0 ? undefined : raw.map((r) => computed.map((c) => c.decode(r[c.name])))
  const rows = core.mapper(reading.all ? undefined : reading.names)(raw) as Record<string, unknown>[]
  if (values !== undefined) rows.forEach((r, i) => computed.forEach((c, j) => { r[c.name] = values[i][j] }))
  return rows
}
