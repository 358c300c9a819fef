/**
 * Relations between models, and loading them with one query per relation level.
 *
 * A relation names its target by the name the target model has in `relate({...})`, so models
 * may refer to each other (and to themselves) in any order:
 *
 * ```ts
 * const Employee = model({ ..., relations: { manager: belongsTo('Employee', 'reportsTo'), reports: hasMany('Employee', 'reportsTo') } })
 * const Chinook = relate({ Employee, Customer, Invoice, ... })
 * pipe(Chinook.Customer.query, Chinook.Customer.include('invoices.lines.track'), Chinook.Customer.all(db))
 * ```
 *
 * Loading a level gathers the keys of every parent row and runs one `IN (...)` query for
 * them (chunked below the dialect's `maxParams`), then hands the rows to their parents.
 * A modifier's `limit` holds per parent (ROW_NUMBER() OVER (PARTITION BY ...)).
 */
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import type { Expr, OrderItem, SelectNode, Selection } from '../ast.js'
import type { Backend } from '../compose.js'
import type { Row } from '../driver.js'
import { dbError, type DbError, isDbError, toDbError } from '../errors.js'
import { as, col, eq, isIn, raw, table } from '../query.js'
import { fromParts, sql, type Fragment, type Part } from '../sql.js'
import { allOf, encodeField, type ModelCore } from './core.js'
import { baseQuery, type IncludeSpec, type ModelQuery, toSelect } from './query.js'

// ---------------------------------------------------------------- definitions

/** The row holds the target's key: `album.artistId` to `artist`. */
export interface BelongsTo<T extends string = string> {
  readonly kind: 'belongsTo'
  readonly target: T
  /** Field of this model holding the target's key. */
  readonly foreignKey: string
  /** Field of the target it refers to (its primary key by default). */
  readonly targetKey?: string
}
/** One target row holds this row's key: `customer` to its `profile`. */
export interface HasOne<T extends string = string> {
  readonly kind: 'hasOne'
  readonly target: T
  /** Field of the target holding this model's key. */
  readonly foreignKey: string
  /** Field of this model it refers to (its primary key by default). */
  readonly sourceKey?: string
}
/** Many target rows hold this row's key: `artist` to its `albums`. */
export interface HasMany<T extends string = string> {
  readonly kind: 'hasMany'
  readonly target: T
  readonly foreignKey: string
  readonly sourceKey?: string
}
/** Target rows linked through a join table: `playlist` to `tracks` through `playlist_track`. */
export interface ManyToMany<T extends string = string> {
  readonly kind: 'manyToMany'
  readonly target: T
  /** The join table. */
  readonly through: string
  /** Join-table column holding this model's key. */
  readonly from: string
  /** Join-table column holding the target's key. */
  readonly to: string
  readonly sourceKey?: string
  readonly targetKey?: string
}

/** Any relation. */
export type AnyRelation = BelongsTo | HasOne | HasMany | ManyToMany

/**
 * This model's `foreignKey` field refers to the target's primary key (or `targetKey`).
 * Loads as the target row or `null`.
 *
 * @example
 * relations: { artist: belongsTo('Artist', 'artistId') }
 */
export const belongsTo = <const T extends string>(target: T, foreignKey: string, options?: { readonly targetKey?: string }): BelongsTo<T> =>
  Object.freeze({ kind: 'belongsTo', target, foreignKey, targetKey: options?.targetKey })

/**
 * One target row's `foreignKey` field refers to this model's primary key (or `sourceKey`).
 * Loads as the target row or `null`.
 *
 * @example
 * relations: { profile: hasOne('Profile', 'userId') }
 */
export const hasOne = <const T extends string>(target: T, foreignKey: string, options?: { readonly sourceKey?: string }): HasOne<T> =>
  Object.freeze({ kind: 'hasOne', target, foreignKey, sourceKey: options?.sourceKey })

/**
 * Target rows whose `foreignKey` field refers to this model's primary key (or `sourceKey`).
 * Loads as an array.
 *
 * @example
 * relations: { albums: hasMany('Album', 'artistId') }
 */
export const hasMany = <const T extends string>(target: T, foreignKey: string, options?: { readonly sourceKey?: string }): HasMany<T> =>
  Object.freeze({ kind: 'hasMany', target, foreignKey, sourceKey: options?.sourceKey })

/**
 * Target rows linked through a join table (columns `from` this model's key `to` the
 * target's key). Loads as an array.
 *
 * @example
 * relations: { tracks: manyToMany('Track', { through: 'playlist_track', from: 'playlist_id', to: 'track_id' }) }
 */
export const manyToMany = <const T extends string>(target: T, options: {
  readonly through: string
  readonly from: string
  readonly to: string
  readonly sourceKey?: string
  readonly targetKey?: string
}): ManyToMany<T> => Object.freeze({ kind: 'manyToMany', target, ...options })

// ---------------------------------------------------------------- loading

interface Node {
  modifiers: NonNullable<IncludeSpec['modify']>[]
  readonly children: Map<string, Node>
}

const treeOf = (includes: readonly IncludeSpec[]): Map<string, Node> => {
  const root = new Map<string, Node>()
  for (const inc of includes) {
    let level = root
    inc.path.forEach((name, i) => {
      let n = level.get(name)
      if (n === undefined) {
        n = { modifiers: [], children: new Map() }
        level.set(name, n)
      }
      if (i === inc.path.length - 1 && inc.modify !== undefined) n.modifiers.push(inc.modify)
      level = n.children
    })
  }
  return root
}

/**
 * A key as a Map key: numbers, bigints and numeric strings of one value meet. Numbers stay
 * numbers (the common case, and the cheapest Map key); a string or bigint that is exactly a
 * number's text becomes that number; anything else is its text.
 */
export const keyOf = (v: unknown): string | number => {
  switch (typeof v) {
    case 'number': return v
    case 'string': {
      const n = Number(v)
      return String(n) === v ? n : v
    }
    case 'bigint': return keyOf(String(v))
    default:
      return v instanceof Date ? v.toISOString() : v instanceof Uint8Array ? Buffer.from(v).toString('hex') : String(v)
  }
}

const fail = (message: string): DbError => dbError('QueryError', message)

/** The single key field a relation joins on, on the given side. */
const singleKey = (core: ModelCore, given: string | undefined, what: string): string => {
  if (given !== undefined) {
    if (!core.byName.has(given)) throw fail(`${core.table} has no field "${given}" (${what})`)
    return given
  }
  if (core.primaryKey.length !== 1) throw fail(`${core.table} has a composite primary key: give the relation's ${what} explicitly`)
  return core.primaryKey[0].name
}

/** The fields of a model's rows that loading its relations reads. */
export const keyFieldsFor = (core: ModelCore, includes: readonly IncludeSpec[]): string[] => {
  const out = new Set<string>()
  for (const inc of includes) {
    const rel = core.relations[inc.path[0]]
    if (rel === undefined) continue
    if (rel.kind === 'belongsTo') out.add(rel.foreignKey)
    else if (rel.sourceKey !== undefined) out.add(rel.sourceKey)
    else for (const k of core.primaryKey) out.add(k.name)
  }
  return [...out]
}

const OWNER = 'rk_owner'
const RANK = 'rk_rn'

/** Run one relation query (per chunk of keys) and return the raw rows. */
const runChunks = async (
  db: Backend,
  keys: readonly unknown[],
  build: (chunk: readonly unknown[]) => SelectNode | Fragment,
): Promise<Row[]> => {
  if (keys.length === 0) return []
  // Leave room for the parameters of the rest of the statement (modifier conditions).
  const probe = db.compile(build([keys[0]]))
  if (probe._tag === 'Left') throw probe.left
  const size = Math.max(1, db.dialect.maxParams - (probe.right.params.length - 1))
  const out: Row[] = []
  for (let i = 0; i < keys.length; i += size) {
    const r = await db.all(build(keys.slice(i, i + size)))()
    if (r._tag === 'Left') throw r.left
    for (const row of r.right) out.push(row)
  }
  return out
}

/**
 * Keep `limit` rows (after `offset`) per partition: the query numbers its rows with
 * ROW_NUMBER() OVER (PARTITION BY ... ORDER BY ...), rendered by the dialect's own parts.
 */
const perParent = (db: Backend, inner: SelectNode, partition: Expr, order: readonly OrderItem[], fallbackOrder: readonly Expr[], limit: number | undefined, offset: number | undefined): Fragment => {
  const d = db.dialect
  const orderParts: Part[] = []
  const items: Fragment[] = order.length > 0 ? order.map(d.orderItem) : fallbackOrder.map((e) => d.orderItem({ expr: e, direction: 'asc' }))
  items.forEach((f, i) => { if (i > 0) orderParts.push(', '); orderParts.push(f) })
  const over = fromParts(['ROW_NUMBER() OVER (PARTITION BY ', d.expr(partition), ' ORDER BY ', fromParts(orderParts), ')'])
  const numbered: SelectNode = { ...inner, columns: [...inner.columns, as(raw(over), RANK)], orderBy: [], limit: undefined, offset: undefined }
  const rank = sql.id(['rk_ranked', RANK])
  const low = offset ?? 0
  const bounds = limit === undefined ? sql`${rank} > ${low}` : sql`${rank} > ${low} AND ${rank} <= ${low + limit}`
  return sql`SELECT * FROM (${d.compileSelect(numbered)}) ${sql.id('rk_ranked')} WHERE ${bounds} ORDER BY ${rank}`
}

/** The query a modifier leaves: conditions, order, limit, offset and switches. */
const modified = (target: ModelCore, publicModel: unknown, modifiers: Node['modifiers']): ModelQuery<any, any, any> =>
  modifiers.reduce((q, m) => m(q, publicModel) as ModelQuery<any, any, any>, baseQuery(target) as ModelQuery<any, any, any>)

/** One level: load `name` for `rows` of `core`, attach it, then load the level below. */
const loadRelation = async (db: Backend, core: ModelCore, rows: Record<string, unknown>[], name: string, node: Node): Promise<void> => {
  const rel = core.relations[name]
  if (rel === undefined) throw fail(`${core.table} has no relation "${name}"`)
  const graph = core.graph
  if (graph === undefined) throw fail(`${core.table}: relations load once the models are related: relate({ ... })`)
  const target = graph.models[rel.target]
  if (target === undefined) throw fail(`${core.table}.${name}: no model named "${rel.target}" in relate({ ... })`)
  const mq = modified(target, graph.publics[rel.target], node.modifiers)
  const base = toSelect(mq)
  const where = (cond: Expr) => allOf([cond, base.where])
  const children: Record<string, unknown>[] = []

  if (rel.kind === 'belongsTo') {
    if (!core.byName.has(rel.foreignKey)) throw fail(`${core.table} has no field "${rel.foreignKey}" (foreign key of ${name})`)
    const tk = singleKey(target, rel.targetKey, 'target key')
    const tf = target.byName.get(tk)!
    const keys = distinct(rows.map((r) => r[rel.foreignKey]))
    const raw = await runChunks(db, keys, (chunk) => ({ ...base, where: where(isIn(target.column(tk), chunk.map((k) => encodeField(tf, k)))), limit: undefined, offset: undefined }))
    const found = target.mapper()(raw) as Record<string, unknown>[]
    const byKey = new Map<string | number, Record<string, unknown>>()
    for (const t of found) {
      const k = keyOf(t[tk])
      if (!byKey.has(k)) byKey.set(k, t)
    }
    for (const r of rows) {
      const fk = r[rel.foreignKey]
      r[name] = fk === null || fk === undefined ? null : byKey.get(keyOf(fk)) ?? null
    }
    children.push(...byKey.values())
  } else {
    const sk = singleKey(core, rel.sourceKey, 'source key')
    const keys = distinct(rows.map((r) => r[sk]))
    const sf = core.byName.get(sk)!
    let owners: (string | number)[]
    let found: Record<string, unknown>[]
    if (rel.kind === 'manyToMany') {
      const tk = singleKey(target, rel.targetKey, 'target key')
      const through = table(`${rel.through} rk_through`)
      const from = col(`rk_through.${rel.from}`)
      const joined: SelectNode = {
        ...base,
        columns: [...base.columns, as(from, OWNER) as Selection],
        joins: [...base.joins, { type: 'inner', table: through, on: eq(col(`rk_through.${rel.to}`), target.column(tk)) }],
      }
      const raw = await runChunks(db, keys, (chunk) => {
        const q = { ...joined, where: allOf([isIn(from, chunk.map((k) => encodeField(sf, k))), base.where]) }
        return mq.limit === undefined && mq.offset === undefined ? q : perParent(db, q, from, q.orderBy, target.primaryKey.map((k) => target.column(k.name)), mq.limit, mq.offset)
      })
      owners = raw.map((r) => keyOf(r[OWNER]))
      found = target.mapper()(raw) as Record<string, unknown>[]
    } else {
      if (!target.byName.has(rel.foreignKey)) throw fail(`${target.table} has no field "${rel.foreignKey}" (foreign key of ${core.table}.${name})`)
      const fk = rel.foreignKey
      const ff = target.byName.get(fk)!
      const fkCol = target.column(fk)
      const raw = await runChunks(db, keys, (chunk) => {
        const q = { ...base, where: where(isIn(fkCol, chunk.map((k) => encodeField(ff, k)))), limit: undefined, offset: undefined }
        return mq.limit === undefined && mq.offset === undefined ? q : perParent(db, q, fkCol, base.orderBy, target.primaryKey.map((k) => target.column(k.name)), mq.limit, mq.offset)
      })
      found = target.mapper()(raw) as Record<string, unknown>[]
      owners = found.map((r) => keyOf(r[fk]))
    }
    const groups = new Map<string | number, Record<string, unknown>[]>()
    found.forEach((t, i) => {
      const g = groups.get(owners[i])
      if (g === undefined) groups.set(owners[i], [t])
      else g.push(t)
    })
    const many = rel.kind !== 'hasOne'
    for (const r of rows) {
      const k = r[sk]
      const g = k === null || k === undefined ? undefined : groups.get(keyOf(k))
      r[name] = many ? g ?? [] : g?.[0] ?? null
    }
    children.push(...found)
  }
  if (node.children.size > 0 && children.length > 0) await loadLevel(db, target, children, node.children)
}

const distinct = (values: readonly unknown[]): unknown[] => {
  const seen = new Map<string | number, unknown>()
  for (const v of values) {
    if (v === null || v === undefined) continue
    const k = keyOf(v)
    if (!seen.has(k)) seen.set(k, v)
  }
  return [...seen.values()]
}

const loadLevel = async (db: Backend, core: ModelCore, rows: Record<string, unknown>[], level: Map<string, Node>): Promise<void> => {
  for (const [name, node] of level) await loadRelation(db, core, rows, name, node)
}

/**
 * Load the relations named by `includes` into `rows` (which it changes: give it rows it owns).
 * One query per relation per level, whatever the number of rows.
 */
export const loadIncludes = (db: Backend, core: ModelCore, rows: Record<string, unknown>[], includes: readonly IncludeSpec[]): TaskEither<DbError, void> => async () => {
  try {
    if (rows.length > 0 && includes.length > 0) await loadLevel(db, core, rows, treeOf(includes))
    return { _tag: 'Right', right: undefined }
  } catch (e) {
    return { _tag: 'Left', left: isDbError(e) ? e : toDbError(e) }
  }
}
