/**
 * From table definitions to TypeScript source: an io-ts row codec (`t.type({...})`) and a
 * `model({ table, primaryKey, codec, columns?, defaults?, relations? })` definition per table,
 * ready to save as a module (what `recordkit introspect --out models.ts` writes). `defaults`
 * lists the NOT NULL columns with a DEFAULT, so `create` leaves them to the database.
 */
import { type ColumnDef, type SchemaDef, type TableDef, typeParts } from './ddl.js'

/** Options of the model printer. */
export interface PrintOptions {
  /** The module `model` and the column codecs are imported from. Default `recordkit/model`. */
  readonly modelImport?: string
  /**
   * `recordkit` (default): column codecs of the model layer, which decode what every driver
   * returns (`bool` takes 0/1, `date` takes text and Dates, `decimal` keeps digits as text,
   * `jsonOf` parses JSON text).
   * `io-ts`: plain io-ts types only (`t.number`, `t.string`, `t.boolean`, `t.unknown`).
   */
  readonly codecs?: 'recordkit' | 'io-ts'
  /** Field names: the column names as they are (default), or camelCase with a `columns` map. */
  readonly fields?: 'columns' | 'camelCase'
}

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/

const pascal = (name: string): string => {
  const s = name.split(/[^A-Za-z0-9]+/).filter(Boolean).map((w) => w[0].toUpperCase() + w.slice(1)).join('')
  return /^[0-9]/.test(s) || s === '' ? `T${s}` : s
}

const camel = (name: string): string => {
  const p = pascal(name)
  return p[0].toLowerCase() + p.slice(1)
}

/**
 * The plural of a relation name, for a hasMany (it loads a list): `invoiceLine` to
 * `invoiceLines`, `category` to `categories`, `box` to `boxes`. A name ending in `s` is taken as
 * plural already (`albums`, a table named in the plural), and stays.
 */
const plural = (name: string): string =>
  /s$/i.test(name) ? name
    : /(?:x|z|ch|sh)$/i.test(name) ? `${name}es`
    : /[^aeiou]y$/i.test(name) ? `${name.slice(0, -1)}ies`
    : `${name}s`

const key = (name: string): string => (IDENT.test(name) ? name : JSON.stringify(name))
const quote = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`

/** The codec expression of one column, and the model-layer codecs it uses. */
const codecOf = (c: ColumnDef, mode: 'recordkit' | 'io-ts', uses: Set<string>): string => {
  const p = typeParts(c.type)
  const rk = (name: string): string => {
    uses.add(name)
    return name
  }
  let base: string
  if (mode === 'io-ts') {
    switch (p?.name) {
      case 'smallint': case 'integer': case 'bigint': case 'real': case 'double': base = 't.number'; break
      case 'boolean': base = 't.boolean'; break
      case 'text': case 'varchar': case 'char': case 'decimal': case 'date': case 'time': case 'uuid': base = 't.string'; break
      default: base = 't.unknown'
    }
    return c.notNull ? base : `t.union([${base}, t.null])`
  }
  switch (p?.name) {
    case 'smallint': case 'integer': base = rk('integer'); break
    case 'bigint': base = rk('int64'); break
    case 'real': case 'double': base = rk('float'); break
    case 'boolean': base = rk('bool'); break
    case 'text': case 'varchar': case 'char': case 'time': base = 't.string'; break
    // A calendar day: 'YYYY-MM-DD' on every engine, whatever its driver hands over.
    case 'date': base = rk('calendarDate'); break
    // DECIMAL(p,s): the digits it holds, checked on input (DECIMAL(p) is DECIMAL(p,0) on every engine).
    case 'decimal': base = p.args.length === 0 ? rk('decimal') : `${rk('decimalOf')}(${p.args[0]}, ${p.args[1] ?? 0})`; break
    case 'timestamp': case 'timestamptz': base = rk('date'); break
    case 'json': base = `${rk('jsonOf')}(t.unknown)`; break
    case 'uuid': base = rk('uuid'); break
    case 'binary': base = rk('bytes'); break
    default: base = 't.unknown'
  }
  return c.notNull ? base : `${rk('nullable')}(${base})`
}

/** A relation to print: its name and the call that makes it. */
interface PrintedRelation { readonly name: string; readonly call: string }

const list = (names: readonly string[]): string => (names.length === 1 ? quote(names[0]) : `[${names.map(quote).join(', ')}]`)

/**
 * The relations foreign keys give, per table: `belongsTo` on the table holding the key (named
 * after the key column without `_id`, or the target table), `hasMany` on the table it refers
 * to (named after the referring table, in the plural). Only between tables that get a model.
 */
const relationsOf = (tables: readonly TableDef[], field: (column: string) => string, uses: Set<string>, mode: 'recordkit' | 'io-ts'): Map<string, PrintedRelation[]> => {
  const modelled = new Map(tables.filter((t) => (t.primaryKey?.columns.length ?? 0) > 0).map((t) => [t.name, t]))
  const out = new Map<string, PrintedRelation[]>([...modelled.keys()].map((n) => [n, []]))
  const add = (table: string, name: string, call: string) => {
    const rels = out.get(table)!
    let n = name
    for (let i = 2; rels.some((r) => r.name === n) || n === ''; i++) n = `${name}${i}`
    rels.push({ name: n, call })
  }
  for (const t of modelled.values()) {
    for (const fk of t.foreignKeys) {
      const target = modelled.get(fk.references.table)
      if (target === undefined) continue
      const pk = target.primaryKey!.columns
      const samePk = pk.length === fk.references.columns.length && pk.every((c, i) => c === fk.references.columns[i])
      const single = fk.columns.length === 1 ? fk.columns[0] : undefined
      const belongsName = single !== undefined && /_id$/i.test(single) ? camel(single.replace(/_id$/i, '')) : camel(target.name)
      uses.add('belongsTo')
      uses.add('hasMany')
      add(t.name, belongsName, `belongsTo(${quote(pascal(target.name))}, ${list(fk.columns.map(field))}${samePk ? '' : `, { targetKey: ${list(fk.references.columns.map(field))} }`})`)
      add(target.name, plural(camel(t.name)), `hasMany(${quote(pascal(t.name))}, ${list(fk.columns.map(field))}${samePk ? '' : `, { sourceKey: ${list(fk.references.columns.map(field))} }`})`)
    }
  }
  // A join table (its key two columns, each a foreign key to another table's one-column key)
  // gives each of the two a manyToMany through it, named after the other table, or after the
  // key column when a table joins itself (`followees`, `followers`).
  for (const t of modelled.values()) {
    const ends = joinEnds(t, modelled)
    if (ends === undefined) continue
    uses.add('manyToMany')
    const pivot = pivotOf(t, field, mode, uses)
    for (const [near, far] of [[ends[0], ends[1]], [ends[1], ends[0]]]) {
      const name = near.table === far.table ? plural(camel(far.column.replace(/_id$/i, ''))) : plural(camel(far.table))
      add(near.table, name, `manyToMany(${quote(pascal(far.table))}, { through: ${quote(t.name)}, from: ${quote(near.column)}, to: ${quote(far.column)}${pivot} })`)
    }
  }
  return out
}

/**
 * The `pivot` (and `pivotColumns`) options of the manyToMany relations through join table `t`:
 * its columns other than the two keys, as an object codec. A column `attach` must be given (NOT
 * NULL, no DEFAULT) is in `t.type`, the others in `t.partial`; nothing for a table of its keys alone.
 */
const pivotOf = (t: TableDef, field: (column: string) => string, mode: 'recordkit' | 'io-ts', uses: Set<string>): string => {
  const keys = new Set(t.primaryKey?.columns ?? [])
  const own = t.columns.filter((c) => !keys.has(c.name))
  if (own.length === 0) return ''
  const needed = (c: ColumnDef) => c.notNull && c.autoIncrement !== true && c.default === undefined
  const props = (cs: readonly ColumnDef[]) => `{ ${cs.map((c) => `${key(field(c.name))}: ${codecOf(c, mode, uses)}`).join(', ')} }`
  const required = own.filter(needed)
  const optional = own.filter((c) => !needed(c))
  const codec = optional.length === 0 ? `t.type(${props(required)})`
    : required.length === 0 ? `t.partial(${props(optional)})`
      : `t.intersection([t.type(${props(required)}), t.partial(${props(optional)})])`
  const renamed = own.filter((c) => field(c.name) !== c.name)
  const columns = renamed.length === 0 ? '' : `, pivotColumns: { ${renamed.map((c) => `${key(field(c.name))}: ${quote(c.name)}`).join(', ')} }`
  return `, pivot: ${codec}${columns}`
}

/** One side of a join table: its column, and the table whose key that column holds. */
interface JoinEnd { readonly column: string; readonly table: string }

/**
 * The two sides of a join table, or undefined for another table: its primary key is two
 * columns, each the one column of a foreign key to the one-column primary key of a table that
 * gets a model. Other columns (a creation time) may be there too.
 */
const joinEnds = (t: TableDef, modelled: ReadonlyMap<string, TableDef>): readonly [JoinEnd, JoinEnd] | undefined => {
  const pk = t.primaryKey?.columns ?? []
  if (pk.length !== 2) return undefined
  const ends = pk.map((c): JoinEnd | undefined => {
    const fk = t.foreignKeys.find((f) => f.columns.length === 1 && f.columns[0] === c)
    const target = fk === undefined ? undefined : modelled.get(fk.references.table)
    const key = target?.primaryKey?.columns ?? []
    return fk !== undefined && key.length === 1 && fk.references.columns[0] === key[0] ? { column: c, table: fk.references.table } : undefined
  })
  return ends[0] === undefined || ends[1] === undefined ? undefined : [ends[0], ends[1]]
}

/** One table's codec and model, and the model-layer names it uses. */
const printTable = (t: TableDef, o: Required<PrintOptions>, uses: Set<string>, relations: readonly PrintedRelation[] = []): string => {
  const typeName = pascal(t.name)
  const rowName = `${typeName}Row`
  const field = (column: string): string => (o.fields === 'camelCase' ? camel(column) : column)
  const lines: string[] = []
  lines.push(`/** A row of \`${t.name}\`. */`)
  lines.push(`export const ${rowName} = t.type({`)
  for (const c of t.columns) lines.push(`  ${key(field(c.name))}: ${codecOf(c, o.codecs, uses)},`)
  lines.push('})')
  lines.push(`export type ${rowName} = t.TypeOf<typeof ${rowName}>`)
  lines.push('')
  const pk = t.primaryKey?.columns ?? []
  if (pk.length === 0) {
    lines.push(`// ${t.name} has no primary key: no model is printed for it.`)
    return lines.join('\n')
  }
  uses.add('model')
  lines.push(`export const ${typeName} = model({`)
  lines.push(`  table: ${quote(t.name)},`)
  lines.push(pk.length === 1 ? `  primaryKey: ${quote(field(pk[0]))},` : `  primaryKey: [${pk.map((c) => quote(field(c))).join(', ')}] as const,`)
  lines.push(`  codec: ${rowName},`)
  const renamed = t.columns.filter((c) => field(c.name) !== c.name)
  if (renamed.length > 0) {
    lines.push('  columns: {')
    for (const c of renamed) lines.push(`    ${key(field(c.name))}: ${quote(c.name)},`)
    lines.push('  },')
  }
  // NOT NULL columns the database fills (a DEFAULT, `now`): `create` leaves them to it, as it
  // does a generated key (nullable columns are optional in `create` already).
  const filled = t.columns.filter((c) => c.notNull && c.autoIncrement !== true && c.default !== undefined && !(c.default.kind === 'value' && c.default.value === null))
  if (filled.length > 0) lines.push(`  defaults: [${filled.map((c) => quote(field(c.name))).join(', ')}],`)
  if (relations.length > 0) lines.push(`  relations: { ${relations.map((r) => `${key(r.name)}: ${r.call}`).join(', ')} },`)
  lines.push('})')
  return lines.join('\n')
}

/**
 * TypeScript source for the tables of a schema: imports, then per table a row codec, its type
 * and a model. Tables without a primary key get a codec only.
 *
 * @example
 * writeFileSync('models.ts', printModels(await run(introspect(db)), { fields: 'camelCase' }))
 */
export const printModels = (schema: SchemaDef | readonly TableDef[], options: PrintOptions = {}): string => {
  const o: Required<PrintOptions> = { modelImport: options.modelImport ?? 'recordkit/model', codecs: options.codecs ?? 'recordkit', fields: options.fields ?? 'columns' }
  const tables = Array.isArray(schema) ? (schema as readonly TableDef[]) : (schema as SchemaDef).tables
  const uses = new Set<string>()
  const field = (column: string): string => (o.fields === 'camelCase' ? camel(column) : column)
  const relations = relationsOf(tables, field, uses, o.codecs)
  const related = [...relations.entries()].filter(([, r]) => r.length > 0).length > 0
  let body = tables.map((t) => printTable(t, o, uses, relations.get(t.name))).join('\n\n')
  if (related) {
    uses.add('relate')
    body += `\n\n/** The models related to each other: \`include\`, \`whereHas\`, \`withCount\` follow the foreign keys. */\nexport const Models = relate({ ${[...relations.keys()].map(pascal).join(', ')} })`
  }
  const head = ['// Generated by recordkit from the database schema.', "import * as t from 'io-ts'"]
  if (uses.size > 0) head.push(`import { ${[...uses].sort().join(', ')} } from ${quote(o.modelImport)}`)
  return `${head.join('\n')}\n\n${body}\n`
}
