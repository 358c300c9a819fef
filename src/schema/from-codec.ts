/**
 * From an io-ts row codec to a CREATE TABLE: the other way from `printModels`.
 *
 * What is derived from the codec, field by field:
 *
 * | codec | column type |
 * |---|---|
 * | `t.string` | `text` |
 * | `t.number` | `double`, or `integer` for fields listed in `integers` |
 * | `t.Int`, model `integer` | `integer` |
 * | `t.boolean`, model `bool` | `boolean` |
 * | `t.bigint`, model `int64` | `bigint` |
 * | model `float` | `double` |
 * | model `date`, `t.Date`-like codecs named `Date...` | `timestamptz` |
 * | model `calendarDate` (a day, `YYYY-MM-DD`) | `date` |
 * | model `uuid` | `uuid` |
 * | model `bytes` | `binary` |
 * | model `jsonOf(...)`, `t.array`, `t.type` (nested), `t.record`, `t.UnknownRecord`, `t.unknown` | `json` |
 * | a union of string literals, `t.keyof` | `text` with a CHECK (`oneOf`: `"col" IN ('a', 'b')`, quoted by the dialect) |
 * | `X \| null`, `X \| undefined`, a `t.partial` field | nullable; every other field is NOT NULL |
 *
 * A decimal (model `decimal`) needs its precision (`decimalOf(p, s)` gives it), and anything else needs its column type,
 * given in `columns`. Column options there (`default`, `unique`, `references`, `autoIncrement`,
 * a `type` or a `column` name) win over what is derived.
 */
import * as E from 'fp-ts/lib/Either.js'
import type * as t from 'io-ts'
import { dbError, type DbError } from '../errors.js'
import { column, type ColumnOptions, type ColumnType, createTable, type CreateTableNode, oneOf, primaryKey } from './ddl.js'

/** Options of one field's column. */
export interface FieldColumn extends ColumnOptions {
  /** The column type, instead of the derived one. */
  readonly type?: ColumnType
  /** The column name, instead of `naming(field)`. */
  readonly column?: string
}

/** Options of `createTableFor`. */
export interface CreateTableForOptions {
  /** Primary-key field(s). */
  readonly primaryKey?: string | readonly string[]
  /** Fields whose `t.number` holds integers (`integer` instead of `double`). */
  readonly integers?: readonly string[]
  /** Per-field column options. */
  readonly columns?: { readonly [field: string]: FieldColumn }
  /** Field name to column name (e.g. snake_case). Default: the field name. */
  readonly naming?: (field: string) => string
}

interface Derived {
  readonly type: ColumnType
  readonly nullable: boolean
  /** The strings a union of string literals allows: a `oneOf` check. */
  readonly oneOf?: readonly string[]
}

type AnyCodec = t.Any & { readonly _tag?: string; readonly props?: Record<string, t.Any>; readonly types?: readonly t.Any[]; readonly type?: t.Any; readonly value?: unknown; readonly keys?: Record<string, unknown> }

const JSON_TAGS = new Set(['ArrayType', 'ReadonlyArrayType', 'InterfaceType', 'StrictType', 'ExactType', 'PartialType', 'DictionaryType', 'UnknownRecordType', 'UnknownArrayType', 'UnknownType', 'AnyType', 'TupleType', 'IntersectionType'])

const BY_NAME: Readonly<Record<string, ColumnType>> = {
  bool: 'boolean', integer: 'integer', Int: 'integer', int64: 'bigint', float: 'double', uuid: 'uuid', bytes: 'binary', date: 'timestamptz', calendarDate: 'date',
}

/** The column a codec derives, or an error message. */
const derive = (codec: AnyCodec, integer: boolean): Derived | string => {
  const tag = codec._tag
  if (BY_NAME[codec.name] !== undefined) return { type: BY_NAME[codec.name], nullable: false }
  if (codec.name === 'decimal') return 'a decimal needs its precision: give columns: { field: { type: \'decimal(p,s)\' } }'
  // decimalOf(p, s) names its column's type.
  if (/^decimal\(\d+,\d+\)$/.test(codec.name)) return { type: codec.name as ColumnType, nullable: false }
  if (codec.name.startsWith('json(')) return { type: 'json', nullable: false }
  if (/^Date/.test(codec.name)) return { type: 'timestamptz', nullable: false }
  switch (tag) {
    case 'StringType': return { type: 'text', nullable: false }
    case 'NumberType': return { type: integer ? 'integer' : 'double', nullable: false }
    case 'BooleanType': return { type: 'boolean', nullable: false }
    case 'BigIntType': return { type: 'bigint', nullable: false }
    case 'LiteralType':
      return typeof codec.value === 'string' ? { type: 'text', nullable: false, oneOf: [codec.value] }
        : typeof codec.value === 'number' ? { type: Number.isInteger(codec.value) ? 'integer' : 'double', nullable: false }
          : typeof codec.value === 'boolean' ? { type: 'boolean', nullable: false } : 'a literal of this kind has no column type'
    case 'KeyofType': return { type: 'text', nullable: false, oneOf: Object.keys(codec.keys ?? {}) }
    case 'RefinementType':
    case 'ReadonlyType':
      return codec.type === undefined ? 'no underlying codec' : derive(codec.type as AnyCodec, integer)
    case 'UnionType': {
      const members = (codec.types ?? []) as AnyCodec[]
      const rest = members.filter((m) => m._tag !== 'NullType' && m._tag !== 'UndefinedType' && m._tag !== 'VoidType')
      const nullable = rest.length < members.length
      if (rest.length === 0) return 'a union of only null and undefined has no column type'
      if (rest.every((m) => m._tag === 'LiteralType' && typeof m.value === 'string')) {
        return { type: 'text', nullable, oneOf: rest.map((m) => m.value as string) }
      }
      if (rest.length === 1) {
        const d = derive(rest[0], integer)
        return typeof d === 'string' ? d : { ...d, nullable: nullable || d.nullable }
      }
      return 'a union of several types has no column type (give columns: { field: { type } })'
    }
    default:
      if (tag !== undefined && JSON_TAGS.has(tag)) return { type: 'json', nullable: false }
      return `no column type for the codec ${codec.name} (give columns: { field: { type } })`
  }
}

/** The fields of a row codec, with whether each is optional (`t.partial`). */
const fieldsOf = (codec: AnyCodec): Map<string, { readonly codec: AnyCodec; readonly optional: boolean }> | undefined => {
  const out = new Map<string, { readonly codec: AnyCodec; readonly optional: boolean }>()
  const add = (c: AnyCodec): boolean => {
    switch (c._tag) {
      case 'InterfaceType':
      case 'StrictType':
        for (const [k, v] of Object.entries(c.props ?? {})) out.set(k, { codec: v as AnyCodec, optional: false })
        return true
      case 'PartialType':
        for (const [k, v] of Object.entries(c.props ?? {})) out.set(k, { codec: v as AnyCodec, optional: true })
        return true
      case 'ExactType':
      case 'ReadonlyType':
      case 'RefinementType':
        return c.type !== undefined && add(c.type as AnyCodec)
      case 'IntersectionType':
        return (c.types ?? []).every((m) => add(m as AnyCodec))
      default:
        return false
    }
  }
  return add(codec) ? out : undefined
}

/**
 * A CREATE TABLE derived from an io-ts row codec (see the table above), or the reasons it
 * cannot be derived (a ValidationError naming each field).
 *
 * @example
 * const User = t.type({ id: t.number, email: t.string, active: t.boolean, bio: t.union([t.string, t.null]) })
 * const ddl = createTableFor('users', User, {
 *   primaryKey: 'id',
 *   integers: ['id'],
 *   columns: { id: { autoIncrement: true }, email: { type: 'varchar(255)', unique: true } },
 * })
 */
export const createTableFor = (table: string, codec: t.Any, options: CreateTableForOptions = {}): E.Either<DbError, CreateTableNode> => {
  const fields = fieldsOf(codec as AnyCodec)
  if (fields === undefined) return E.left(dbError('ValidationError', `createTableFor(${table}): the codec is not a record of fields (t.type, t.strict, t.partial, t.intersection)`, { issues: [] }))
  const pk = options.primaryKey === undefined ? [] : typeof options.primaryKey === 'string' ? [options.primaryKey] : [...options.primaryKey]
  const naming = options.naming ?? ((f: string) => f)
  const integers = new Set(options.integers ?? [])
  const issues: { path: string; rule: string; message: string }[] = []
  let node = createTable(table)
  try {
    for (const [name, f] of fields) {
      const given = options.columns?.[name] ?? {}
      const derived = derive(f.codec, integers.has(name))
      if (typeof derived === 'string' && given.type === undefined) {
        issues.push({ path: name, rule: f.codec.name, message: derived })
        continue
      }
      const d = typeof derived === 'string' ? undefined : derived
      const col = given.column ?? naming(name)
      const { type: _t, column: _c, ...rest } = given
      const notNull = given.notNull ?? (!(d?.nullable ?? false) && !f.optional)
      // The dialect writes the check from the column and the values, each quoted its own way.
      const check = given.check ?? (d?.oneOf === undefined ? undefined : oneOf(d.oneOf))
      node = column(col, given.type ?? d!.type, {
        ...rest,
        notNull,
        ...(check === undefined ? {} : { check }),
        ...(pk.length === 1 && pk[0] === name ? { primaryKey: true } : {}),
      })(node)
    }
    if (pk.length > 1) node = primaryKey(pk.map((p) => options.columns?.[p]?.column ?? naming(p)))(node)
  } catch (e) {
    return E.left(dbError('ValidationError', `createTableFor(${table}): ${(e as Error).message}`, { issues: [] }))
  }
  if (issues.length > 0) {
    return E.left(dbError('ValidationError', `createTableFor(${table}): ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, { issues }))
  }
  const missing = pk.filter((p) => !fields.has(p))
  if (missing.length > 0) return E.left(dbError('ValidationError', `createTableFor(${table}): no field ${missing.join(', ')} for the primary key`, { issues: missing.map((p) => ({ path: p, rule: 'primaryKey', message: 'no such field' })) }))
  return E.right(node)
}
