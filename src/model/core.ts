/**
 * The runtime side of a model: what queries, writes and relation loading need to know,
 * without any of the type-level machinery. `model()` builds one per model; `relate()` builds
 * new ones that also know the graph of related models.
 */
import type * as t from 'io-ts'
import type { ColumnRef, Expr, TableRef } from '../ast.js'
import { dbError } from '../errors.js'
import { and, exprNode } from '../query.js'
import type { AnyBehaviour } from './behaviours.js'
import { compileInPlaceMapper, compileMapper, type Field, inPlaceReadable, type RowMapper, shapeOf } from './decode.js'
import type { AnyRelation } from './relations.js'
import type { AnyValidator } from './validate.js'
import { withFields } from '../objects.js'

/** How field names become column names when `columns` does not say. */
export type Naming = (field: string) => string

/**
 * camelCase field names to snake_case column names: `invoiceDate` to `invoice_date`.
 *
 * @example
 * model({ table: 'invoice', primaryKey: 'invoiceId', codec: Invoice, naming: snakeCase })
 */
export const snakeCase: Naming = (field) => field.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/([A-Z])([A-Z][a-z])/g, '$1_$2').toLowerCase()

/** Where a related model sits: its name and the other models by name. */
export interface Graph {
  readonly name: string
  readonly models: Readonly<Record<string, ModelCore>>
  /** The related models themselves (what relation modifiers receive). */
  readonly publics: Readonly<Record<string, unknown>>
}

/** The runtime description of a model. */
export interface ModelCore {
  readonly table: string
  /** The table as a FROM, INSERT, UPDATE or DELETE target (see `tableRefOf`): built once, never parsed for an alias. */
  readonly tableRef: TableRef
  readonly codec: t.Any
  readonly fields: readonly Field[]
  readonly byName: ReadonlyMap<string, Field>
  readonly primaryKey: readonly Field[]
  /** The single primary-key field the database may generate (absent in input), if any. */
  readonly generatedKey?: Field
  readonly behaviours: readonly AnyBehaviour[]
  readonly validators: readonly AnyValidator[]
  readonly relations: Readonly<Record<string, AnyRelation>>
  readonly graph?: Graph
  /** Decoder of rows holding the given fields (every field when omitted), built once per field set. */
  readonly mapper: (fields?: readonly string[]) => RowMapper
  /**
   * In-place decoder of rows whose columns were read under the field names (every field, with the
   * row-level checks, when omitted), built once per field set; undefined when a field name cannot
   * be a column alias (see `inPlaceReadable`).
   */
  readonly inPlaceMapper: (fields?: readonly string[]) => RowMapper | undefined
  /** A table-qualified column reference for a field. */
  readonly column: (field: string) => ColumnRef
  /** Fields behaviours fill (optional in input). */
  readonly filled: ReadonlySet<string>
  /** Row-level refinements of the codec (`t.refinement(t.type(...), ...)`), checked on input too. */
  readonly checks: readonly { readonly name: string; readonly predicate: (row: unknown) => boolean }[]
  /** The name the table goes by inside a subquery whose enclosing query reads the same table. */
  readonly alias?: string
  /** The tables (or aliases) of the queries around a relation subquery, innermost last. */
  readonly enclosing?: readonly string[]
}

/** What `model()` was given, kept so `relate()` can rebuild the model inside a graph. */
export interface CoreConfig {
  readonly table: string
  readonly codec: t.Any
  readonly primaryKey: string | readonly string[]
  readonly columns?: Readonly<Record<string, string | undefined>>
  readonly naming?: Naming
  readonly relations?: Readonly<Record<string, AnyRelation>>
  readonly behaviours?: readonly AnyBehaviour[]
  readonly validators?: readonly AnyValidator[]
  readonly defaults?: readonly string[]
}

const NUMERIC_KEY = new Set(['NumberType', 'BigIntType'])

/** Whether a key codec is numeric (the database may generate it). */
const numericCodec = (c: t.Any): boolean => {
  const tag = (c as { _tag?: string })._tag ?? ''
  if (NUMERIC_KEY.has(tag)) return true
  if (tag === 'RefinementType') return numericCodec((c as unknown as t.RefinementType<t.Any>).type)
  return c.name === 'integer' || c.name === 'int64'
}

/**
 * A model's (or a join table's) table name as a table reference: the name whole, quoted as it is
 * (`'my table'` is the table "my table", never "my" under the alias "table"); a dot separates a
 * schema (`'app.users'` is the table users of schema app).
 *
 * @example
 * tableRefOf('order items') // { kind: 'table', name: 'order items' }
 */
export const tableRefOf = (name: string): TableRef => {
  const dot = name.indexOf('.')
  return Object.freeze(dot < 0 ? { kind: 'table' as const, name } : { kind: 'table' as const, schema: name.slice(0, dot), name: name.slice(dot + 1) })
}

/**
 * The value an object holds under `key` itself, never one it inherits: a field, column or
 * relation named `constructor` or `toString` is not Object.prototype's.
 *
 * @example
 * ownValue({}, 'constructor') // undefined
 */
export const ownValue = <V>(o: Readonly<Record<string, V>> | undefined, key: string): V | undefined =>
  o !== undefined && Object.hasOwn(o, key) ? o[key] : undefined

/** Whether a plain object inherits a property of this name (`constructor`, `toString`, `__proto__`, ...). */
export const inheritedName = (name: string): boolean => name in Object.prototype

/** A column of a table (or alias) by name, neither split on dots nor on spaces. */
const columnOfTable = (table: string, name: string): ColumnRef => exprNode({ kind: 'column', table, name }) as ColumnRef

/**
 * A column by its name alone (no table), never split on a dot: for RETURNING lists, where a
 * column name given as a string would be read as `table.column`.
 *
 * @example bareColumn('shelf.label') // the column named "shelf.label"
 */
export const bareColumn = (name: string): Expr => exprNode({ kind: 'column', name })

/**
 * Build the runtime model. Throws a TypeError for a definition that cannot work (an unknown
 * primary-key field, a codec that is not an object): a mistake in the program, reported
 * where the model is written.
 */
export const buildCore = (config: CoreConfig, graph?: Graph): ModelCore => {
  const shape = shapeOf(config.codec)
  const naming = config.naming ?? ((f: string) => f)
  const fields: Field[] = shape.props.map((p) => ({ name: p.name, column: ownValue(config.columns, p.name) ?? naming(p.name), codec: p.codec, optional: p.optional }))
  const byName = new Map(fields.map((f) => [f.name, f]))
  const keyNames = typeof config.primaryKey === 'string' ? [config.primaryKey] : config.primaryKey
  if (keyNames.length === 0) throw new TypeError(`model ${config.table}: primaryKey names no field`)
  const primaryKey = keyNames.map((k) => {
    const f = byName.get(k)
    if (f === undefined) throw new TypeError(`model ${config.table}: primary key field "${k}" is not in the codec`)
    return f
  })
  const behaviours = config.behaviours ?? []
  const filled = new Set(behaviours.flatMap((b) => b.fills ?? []))
  for (const f of filled) if (!byName.has(f)) throw new TypeError(`model ${config.table}: a behaviour fills "${f}", which is not in the codec`)
  for (const b of behaviours) {
    for (const f of b.unique === undefined ? [] : [b.unique.field, ...b.unique.scope]) {
      if (!byName.has(f)) throw new TypeError(`model ${config.table}: ${b.name} names "${f}", which is not in the codec`)
    }
  }
  const generatedKey = primaryKey.length === 1 && !filled.has(primaryKey[0].name) && numericCodec(primaryKey[0].codec) ? primaryKey[0] : undefined

  const mappers = new Map<string, RowMapper>()
  const all = compileMapper(fields, shape.checks, config.table, { key: primaryKey })
  const mapper = (names?: readonly string[]): RowMapper => {
    if (names === undefined) return all
    const key = names.join('\0')
    let m = mappers.get(key)
    if (m === undefined) {
      m = compileMapper(names.map((n) => byName.get(n)!), [], config.table, { key: primaryKey })
      mappers.set(key, m)
    }
    return m
  }
  // Built on first use: most models are never read in place.
  const inPlaceMappers = new Map<string, RowMapper | undefined>()
  const inPlaceMapper = (names?: readonly string[]): RowMapper | undefined => {
    const key = names === undefined ? '' : `\0${names.join('\0')}`
    if (inPlaceMappers.has(key)) return inPlaceMappers.get(key)
    const picked = names === undefined ? fields : names.map((n) => byName.get(n)!)
    const m = inPlaceReadable(picked) ? compileInPlaceMapper(picked, names === undefined ? shape.checks : [], config.table, { key: primaryKey }) : undefined
    inPlaceMappers.set(key, m)
    return m
  }
  const columns = new Map(fields.map((f) => [f.name, columnOfTable(config.table, f.column)]))
  const column = (field: string): ColumnRef => {
    const c = columns.get(field)
    if (c === undefined) throw dbError('QueryError', `${config.table} has no field "${field}"`)
    return c
  }
  return Object.freeze({
    table: config.table,
    tableRef: tableRefOf(config.table),
    codec: config.codec,
    fields,
    byName,
    primaryKey,
    generatedKey,
    behaviours,
    validators: config.validators ?? [],
    relations: config.relations ?? {},
    graph,
    mapper,
    inPlaceMapper,
    column,
    filled,
    checks: shape.checks,
  })
}

/**
 * The model as read inside a subquery: under `alias` when one is given (its columns are then
 * qualified by the alias), knowing the tables of the queries around it.
 *
 * @example
 * scopedCore(Employee.core, ['employees'], 'rk_1').column('id') // rk_1.id
 */
export const scopedCore = (core: ModelCore, enclosing: readonly string[], alias?: string): ModelCore => {
  if (alias === undefined) return Object.freeze(withFields(core, { enclosing }))
  const columns = new Map(core.fields.map((f) => [f.name, columnOfTable(alias, f.column)]))
  const column = (field: string): ColumnRef => {
    const c = columns.get(field)
    if (c === undefined) throw dbError('QueryError', `${core.table} has no field "${field}"`)
    return c
  }
  return Object.freeze(withFields(core, { enclosing, alias, column }))
}

/** `a AND b AND ...` without empty parts; undefined when nothing is left. */
export const allOf = (items: readonly (Expr | undefined)[]): Expr | undefined => {
  const kept = items.filter((e): e is Expr => e !== undefined)
  return kept.length === 0 ? undefined : kept.length === 1 ? kept[0] : and(...kept)
}

/** Encode one field value for binding (the field codec's `encode`). */
export const encodeField = (f: Field, value: unknown): unknown => (value === null || value === undefined ? null : f.codec.encode(value))
