/**
 * Writing through a model: create, createMany, update, updateWhere, delete, deleteWhere,
 * upsert and restore.
 *
 * Input is decoded with the codec and checked by the validators before anything is written;
 * hooks run around each row operation. A write that returns rows (create, createMany, update,
 * upsert) is one unit with reading its stored rows back and decoding them, so it either returns
 * the stored rows, decoded, or fails having written nothing: a transaction, through
 * `db.transaction`, or on SQLite opened and ended on the synchronous path (`atomicallyNow`);
 * inside the caller's transaction, a savepoint (a failed write is undone and the caller's
 * transaction goes on). Any operation with `after*` hooks runs in `db.transaction` with its hooks.
 *
 * Generated keys come back on every backend: with RETURNING where the dialect renders it,
 * otherwise from the driver's insertId, one row at a time inside the transaction, and then
 * the stored rows are read back by key (so defaults filled by the database are returned).
 */
import { randomUUID } from 'node:crypto'
import * as E from 'fp-ts/lib/Either.js'
import { identity } from 'io-ts'
import { left, right, type Either } from 'fp-ts/lib/Either.js'
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import type { Expr, InsertNode, Selection, UpdateNode } from '../ast.js'
import type { Backend, SyncBackend } from '../compose.js'
import { type Dialect, supports } from '../dialect.js'
import type { Driver, QueryResult, Row } from '../driver.js'
import { dbError, type DbError, type FieldIssue, isDbError } from '../errors.js'
import { add, as, coalesce, deleteFrom, eq, excluded, from, insertInto, isExpr, isIn, onConflict, or, param, raw as rawExpr, returning, select, set, update, val, values, where } from '../query.js'
import { caseWhen } from '../query/case.js'
import { type Compiled, sql } from '../sql.js'
import { afterCommit } from '../after-commit.js'
import { markAdapted, UNBINDABLE } from '../values.js'
import { cast } from '../query/cast.js'
import { runUnit, type UnitStatements, unitTexts } from '../sync-unit.js'
import { withFields } from '../objects.js'
import type { PostgresFields } from '../dialects/postgres.js'
import type { Field } from './decode.js'
import { type AnyBehaviour, type HookContext, type HookName, hasHook, type QueryOptions, runHooks } from './behaviours.js'
import { allOf, bareColumn, encodeField, inheritedName, type ModelCore, ownValue } from './core.js'
import { generate, show } from './decode.js'
import { FAIL, inputDecoder, readsJson } from './codecs.js'
import { comparedValue } from './decimal-compare.js'
import { allRows, attempt, keyCondition, keyOfRow, notFound } from './read.js'
import { baseQuery, conditionOf, scopeCondition } from './query.js'
import { keyOf, shardFieldOf } from './relations.js'
import { uniqueIssues, uniqueRules } from './uniqueness.js'
import { tooLongNamed } from './unique.js'
import { textColumns, textReads } from './in-place.js'
import { checkInsert, checkPatch, insertChecker, prefixed, validationError } from './validate.js'

type Values = Record<string, unknown>

const run = <A>(te: TaskEither<DbError, A>): Promise<Either<DbError, A>> => te()

/** Throw a Left's error inside an `attempt` body; return a Right's value. */
const must = async <A>(te: TaskEither<DbError, A>): Promise<A> => {
  const r = await te()
  if (r._tag === 'Left') throw r.left
  return r.right
}

/** The column/value pairs of the fields present in `values`, encoded for binding. */
const encodeRow = (core: ModelCore, v: Values): Row => {
  const out: Row = {}
  for (const f of core.fields) {
    const x = ownValue(v, f.name)
    if (x !== undefined) out[f.column] = encodeField(f, x)
  }
  return out
}

const canReturn = (db: Backend): boolean => supports(db.dialect, 'insertReturning') && supports(db.dialect, 'returning')

/**
 * The columns of every field as a write returns them (RETURNING: unqualified) or reads its rows
 * back (a SELECT: qualified): under their own names, `jsonOf` fields as their text where the
 * driver would parse them (see `jsonAsText`), so a bare JSON string reads back as itself.
 */
const storedColumns = (db: Backend, core: ModelCore, qualified: boolean): readonly (string | Expr | Selection)[] =>
  textColumns(core, undefined, textReads(db), qualified) ?? (qualified ? core.fields.map((f) => core.column(f.name)) : core.fields.map((f) => bareColumn(f.column)))

/** A key (a value, or an object for a composite key) as a string for matching. */
const keyString = (core: ModelCore, key: unknown): string | number =>
  core.primaryKey.length === 1 ? keyOf(key) : core.primaryKey.map((f) => keyOf((key as Values)[f.name])).join('\0')

/**
 * Read rows back by their keys, in the order of `keys`; `rows` are the rows written (on a
 * sharded backend their shard keys narrow the read, see `shardCondition`).
 */
const readBack = async (db: Backend, core: ModelCore, keys: readonly unknown[], rows: readonly Values[]): Promise<Values[]> => {
  const shard = shardsOf(db, core, rows)
  const found = new Map<string | number, Values>()
  const size = Math.max(1, Math.floor((db.dialect.maxParams - 10) / core.primaryKey.length))
  for (let i = 0; i < keys.length; i += size) {
    const chunk = keys.slice(i, i + size)
    const pk = core.primaryKey[0]
    const cond = core.primaryKey.length === 1 ? isIn(core.column(pk.name), chunk.map((k) => encodeField(pk, k))) : or(...chunk.map((k) => keyCondition(core, k)))
    const raw = await must(db.all(where(allOf([cond, shard])!)(select(...storedColumns(db, core, true))(from(core.tableRef)))))
    for (const r of core.mapper()(raw) as Values[]) found.set(keyString(core, keyOfRow(core, r)), r)
  }
  return keys.map((k) => {
    const r = found.get(keyString(core, k))
    if (r === undefined) throw dbError('QueryError', `${core.table}: the inserted row with key ${show(k)} could not be read back`)
    return r
  })
}

const hasAllKeys = (core: ModelCore, v: Values): boolean => core.primaryKey.every((f) => ownValue(v, f.name) !== undefined && ownValue(v, f.name) !== null)

/**
 * Compiled multi-row INSERT ... RETURNING statements, by the backend's `compile` (the same function
 * on the backend and on the handles of its transactions, which a write unit runs on: a new handle
 * each time), then table, columns and row count.
 */
const templates = new WeakMap<Backend['compile'], Map<string, Compiled>>()

/**
 * The INSERT of `count` rows of the given columns (all parameters), returning every column unless
 * `plain`, skipping rows that conflict with a unique key when `ignore` (`ON CONFLICT DO NOTHING`),
 * compiled once per backend (its `compile`).
 */
const insertTemplate = (db: Backend, core: ModelCore, columns: readonly string[], count: number, plain = false, ignore = false): E.Either<DbError, Compiled> => {
  let byKey = templates.get(db.compile)
  if (byKey === undefined) templates.set(db.compile, (byKey = new Map()))
  const key = `${core.table}\0${columns.join('\0')}\0${count}${plain ? '\0plain' : ''}${ignore ? '\0ignore' : ''}`
  const known = byKey.get(key)
  if (known !== undefined) return E.right(known)
  const row: Record<string, unknown> = {}
  for (const c of columns) row[c] = param(c)
  const insert = skipping(ignore, values(new Array(count).fill(row))(insertInto(core.tableRef)))
  const compiled = db.compile(plain ? insert : returning(...storedColumns(db, core, false))(insert))
  if (E.isRight(compiled)) {
    if (byKey.size >= 100) byKey.clear()
    byKey.set(key, compiled.right)
  }
  return compiled
}

/**
 * Insert one group of rows (same columns) with RETURNING: full chunks through one statement
 * compiled once (`executeBatch`), the last shorter chunk through its own. Returns false, having
 * written nothing, when the dialect refuses RETURNING for these statements.
 */
const insertReturning = async (db: Backend, core: ModelCore, columns: readonly string[], rows: readonly Row[], index: readonly number[], size: number, out: Values[], ignore = false): Promise<boolean> => {
  const full = Math.floor(rows.length / size)
  const rest = rows.length - full * size
  const fullSql = full > 0 ? insertTemplate(db, core, columns, size, false, ignore) : undefined
  const restSql = rest > 0 ? insertTemplate(db, core, columns, rest, false, ignore) : undefined
  for (const c of [fullSql, restSql]) {
    if (c !== undefined && E.isLeft(c)) {
      if (c.left._tag === 'UnsupportedFeature') return false
      throw c.left
    }
  }
  const setOf = (from: number, to: number): unknown[] => {
    const set: unknown[] = []
    for (let i = from; i < to; i++) {
      const r = rows[i]
      for (const c of columns) set.push(r[c])
    }
    return set
  }
  const returned: Row[] = []
  const collect = (results: readonly { readonly rows: Row[] }[]) => {
    for (const r of results) for (const row of r.rows) returned.push(row)
  }
  if (fullSql !== undefined && E.isRight(fullSql)) {
    const sets: unknown[][] = []
    for (let i = 0; i < full; i++) sets.push(setOf(i * size, (i + 1) * size))
    collect(await must(db.executeBatch(fullSql.right, sets)))
  }
  if (restSql !== undefined && E.isRight(restSql)) collect(await must(db.executeBatch(restSql.right, [setOf(full * size, rows.length)])))
  place(out, core.mapper()(returned) as Values[], index, ignore)
  return true
}

/**
 * An INSERT that skips the rows conflicting with a unique key (`createMany`'s `onConflict:
 * 'ignore'`), or the INSERT as it is.
 */
const skipping = <Q extends InsertNode>(ignore: boolean, q: Q): Q => (ignore ? onConflict([], 'nothing')(q) : q)

/**
 * Put rows read back in `out`: the n-th at the n-th position of `index` (every row was inserted),
 * or, where conflicting rows were skipped (`ignore`), after the rows already there: RETURNING
 * gives the inserted rows in input order on PostgreSQL and SQLite.
 */
const place = (out: Values[], decoded: readonly Values[], index: readonly number[], ignore: boolean): void => {
  if (ignore) for (let j = 0; j < decoded.length; j++) out.push(decoded[j])
  else for (let j = 0; j < decoded.length; j++) out[index[j]] = decoded[j]
}

/**
 * Insert rows of validated values; returns the stored rows (decoded), in input order where
 * the engine reports it (RETURNING returns them in VALUES order on every built-in engine).
 * Rows are grouped by the columns they set and sent in chunks below `maxParams`.
 */
const insertRows = async (db: Backend, core: ModelCore, rows: readonly Values[], ignore = false): Promise<Values[]> => {
  if (rows.length < UNNEST_FROM || !canReturn(db) || !unnestable(db)) return insertRowsValues(db, core, rows, ignore)
  // PostgreSQL: large runs through unnest ... RETURNING, the others through VALUES, run after
  // run in input order (so generated keys grow in the order the rows were given).
  const out: Values[] = ignore ? [] : new Array(rows.length)
  for (const g of groupRows(core, rows, true)) {
    const types = g.fields.length === 0 ? undefined : await unnestTypes(db, core, g)
    if (types === undefined) {
      place(out, await insertRowsValues(db, core, g.rows, ignore), g.index, ignore)
      continue
    }
    const stored = (await insertUnnest(db, core, g, types, true, ignore)).rows
    if (!ignore && stored.length !== g.rows.length) throw dbError('QueryError', `${core.table}: ${g.rows.length} rows inserted but ${stored.length} returned`)
    place(out, core.mapper()(stored) as Values[], g.index, ignore)
  }
  return out
}

/** `insertRows` through multi-row VALUES (RETURNING where the dialect has it). */
const insertRowsValues = async (db: Backend, core: ModelCore, rows: readonly Values[], ignore = false): Promise<Values[]> => {
  // Runs of consecutive rows setting the same columns, in input order: the rows are inserted in
  // the order given, so generated keys grow in that order (as one INSERT per row would give them).
  const groups: { index: number[]; rows: Row[] }[] = []
  let last: string | undefined
  rows.forEach((v, i) => {
    const enc = encodeRow(core, v)
    const sig = Object.keys(enc).join('\0')
    if (sig !== last || groups.length === 0) groups.push({ index: [], rows: [] })
    last = sig
    const g = groups[groups.length - 1]
    g.index.push(i)
    g.rows.push(enc)
  })
  const out: Values[] = ignore ? [] : new Array(rows.length)
  const columns = storedColumns(db, core, false)
  let returns = canReturn(db)
  for (const g of groups) {
    const groupColumns = Object.keys(g.rows[0])
    const width = groupColumns.length
    const size = width === 0 ? 1 : Math.max(1, Math.min(1000, Math.floor(db.dialect.maxParams / width)))
    if (returns && width > 0) {
      if (await insertReturning(db, core, groupColumns, g.rows, g.index, size, out, ignore)) continue
      // A dialect may declare RETURNING and still refuse it for this statement.
      returns = false
    }
    for (let i = 0; i < g.rows.length; i += size) {
      const chunk = g.rows.slice(i, i + size)
      const index = g.index.slice(i, i + size)
      if (returns) {
        const r = await run(db.all(returning(...columns)(skipping(ignore, values(chunk)(insertInto(core.tableRef))))))
        if (r._tag === 'Right') {
          place(out, core.mapper()(r.right) as Values[], index, ignore)
          continue
        }
        // A dialect may declare RETURNING and still refuse it for this statement.
        if (r.left._tag !== 'UnsupportedFeature') throw r.left
        returns = false
      }
      // Without RETURNING, which rows a conflict skipped is not known (see `skipsInBatch`).
      if (ignore) throw dbError('UnsupportedFeature', `${core.table}: rows that skip conflicts are read back only through RETURNING, which ${db.dialect.name} refused here`, { dialect: db.dialect.name, feature: 'insertReturning' })
      const given = index.map((j) => rows[j])
      if (given.every((v) => hasAllKeys(core, v))) {
        await must(db.execute(values(chunk)(insertInto(core.tableRef))))
        const back = await readBack(db, core, given.map((v) => keyOfRow(core, v)), given)
        back.forEach((d, j) => { out[index[j]] = d })
      } else if (core.generatedKey !== undefined) {
        // One row at a time: every driver reports the generated key of a one-row insert.
        const keys: unknown[] = []
        for (const row of chunk) {
          const res = await must(db.execute(values(row)(insertInto(core.tableRef))))
          if (res.insertId === undefined) throw dbError('UnsupportedFeature', `${core.table}: the driver reports no generated key and the dialect renders no RETURNING`, { dialect: db.dialect.name, feature: 'generated keys' })
          keys.push(res.insertId)
        }
        const back = await readBack(db, core, keys, given)
        back.forEach((d, j) => { out[index[j]] = d })
      } else {
        throw dbError('QueryError', `${core.table}: rows without their primary key cannot be read back on ${db.dialect.name} (no RETURNING)`)
      }
    }
  }
  return out
}

/** Rows setting the same fields, in input order, with their positions in the input. */
interface Group {
  readonly fields: readonly Field[]
  readonly rows: Values[]
  readonly index: number[]
}

/** A model's rows' signatures: the fields each sets, as a bit mask (at most 30 fields). */
const masks = new WeakMap<ModelCore, (v: Values) => number>()

/**
 * The bit mask of the fields a row sets, read by generated code (a property access per field
 * name, where a loop has one access site for every name); a loop where generating code is refused.
 */
const maskOf = (core: ModelCore): ((v: Values) => number) => {
  let m = masks.get(core)
  if (m === undefined) {
    const fields = core.fields
    const loop = (v: Values): number => {
      let sig = 0
      for (let i = 0; i < fields.length; i++) if (ownValue(v, fields[i].name) !== undefined) sig |= 1 << i
      return sig
    }
    const tests = fields.map((f, i) => {
      const key = JSON.stringify(f.name)
      // A name Object.prototype has (`constructor`) counts only where the row holds it itself.
      return inheritedName(f.name) ? `(H(v, ${key}) && v[${key}] !== undefined ? ${1 << i} : 0)` : `(v[${key}] !== undefined ? ${1 << i} : 0)`
    })
    m = generate<(v: Values) => number>(['H'], `"use strict"; return function mask(v) { return ${tests.length === 0 ? '0' : tests.join(' | ')} }`, [Object.hasOwn]) ?? loop
    masks.set(core, m)
  }
  return m
}

/**
 * Rows grouped by the fields they set (a bit mask of field positions, or a string past 30
 * fields), each group in input order. With `ordered`, groups are runs of consecutive rows, in
 * input order, so rows are inserted in the order given and generated keys grow in that order
 * (rows that alternate between two sets of fields make runs of one row); without, all rows of one
 * set of fields make one group (fewest statements: `createMany(..., { returning: false })`).
 */
const groupRows = (core: ModelCore, rows: readonly Values[], ordered: boolean): Group[] => {
  const fields = core.fields
  const groups: Group[] = []
  const bySig = ordered ? undefined : new Map<number | string, Group>()
  const mask = fields.length <= 30 ? maskOf(core) : undefined
  let last: number | string | undefined
  let g: Group | undefined
  for (let r = 0; r < rows.length; r++) {
    const v = rows[r]
    const sig: number | string = mask !== undefined ? mask(v) : fields.map((f) => (ownValue(v, f.name) === undefined ? '0' : '1')).join('')
    if (bySig !== undefined) g = bySig.get(sig)
    else if (sig !== last) g = undefined
    if (g === undefined) {
      groups.push((g = { fields: fields.filter((f) => ownValue(v, f.name) !== undefined), rows: [], index: [] }))
      bySig?.set(sig, g)
      last = sig
    }
    g.rows.push(v)
    g.index.push(r)
  }
  return groups
}

/** Each field's `encode`, or undefined where it is the identity (nothing to call). */
const encodersOf = (fields: readonly Field[]): readonly (((x: unknown) => unknown) | undefined)[] =>
  fields.map((f) => (f.codec.encode === identity ? undefined : (x: unknown) => f.codec.encode(x)))

/**
 * The values of rows `from` to `to` of a group, row after row, encoded and converted for the
 * driver (one batch run's parameters, marked adapted so `executeBatch` does not convert them
 * again). A value the driver cannot take is a ValidationError naming its row and field.
 */
const cellsOf = (g: Group, encoders: readonly (((x: unknown) => unknown) | undefined)[], toDriver: (x: unknown) => unknown, from: number, to: number): unknown[] => {
  const names = g.fields.map((f) => f.name)
  const width = names.length
  const out = new Array<unknown>((to - from) * width)
  let k = 0
  for (let i = from; i < to; i++) {
    const v = g.rows[i]
    for (let j = 0; j < width; j++) {
      const x = v[names[j]]
      const e = encoders[j]
      try {
        out[k++] = x === null || x === undefined ? null : toDriver(e === undefined ? x : e(x))
      } catch (err) {
        throw atCell(err, g.index[i], names[j])
      }
    }
  }
  return markAdapted(out)
}

/** A value the driver refused, as the ValidationError of its input row and field (`rows.3.createdAt`). */
const atCell = (e: unknown, row: number, field: string): unknown => {
  if (!isDbError(e, 'ValidationError') || e.issues.length !== 1 || e.issues[0].path !== '') return e
  const path = `rows.${row}.${field}`
  return dbError('ValidationError', `${path}: ${e.message}`, { code: e.code, issues: [{ ...e.issues[0], path }] })
}

/** Whether the dialect renders `unnestInsert` and reads `columnTypes` (PostgreSQL; not a dialect that marks them unsupported). */
const unnestable = (db: Backend): boolean => {
  const d = db.dialect as Dialect & Partial<PostgresFields>
  return supports(d, 'unnestInsert') && supports(d, 'columnTypes')
}

/** Below this many rows a group goes through multi-row VALUES rather than unnest (which first reads the column types). */
const UNNEST_FROM = 500
/** Rows per unnest statement. */
const UNNEST_ROWS = 2000

/**
 * On a dialect with `unnestInsert` (PostgreSQL), the column types of a group's columns read from
 * the catalog (at each call, so a table changed in between is seen), or undefined when the group
 * is small, a column is of an array type (unnest would flatten it) or the catalog does not know
 * the table: then the group goes through multi-row VALUES.
 */
const unnestTypes = async (db: Backend, core: ModelCore, g: Group): Promise<string[] | undefined> => {
  const d = db.dialect as Partial<PostgresFields>
  if (g.rows.length < UNNEST_FROM || !unnestable(db) || d.columnTypes === undefined) return undefined
  const known = new Map<string, { readonly type: string; readonly array: boolean }>()
  for (const c of await must(db.all<{ name: string; type: string; array: boolean }>(d.columnTypes(core.table)))) known.set(c.name, c)
  const types: string[] = []
  for (const f of g.fields) {
    const c = known.get(f.column)
    if (c === undefined || c.array) return undefined
    types.push(c.type)
  }
  return types
}

/** One column's encoded values of rows `from` to `to` of a group (an unnest array). */
const columnOf = (g: Group, name: string, encode: ((x: unknown) => unknown) | undefined, from: number, to: number): unknown[] => {
  const xs: unknown[] = []
  for (let i = from; i < to; i++) {
    const x = g.rows[i][name]
    xs.push(x === null || x === undefined ? null : encode === undefined ? x : encode(x))
  }
  return xs
}

/**
 * One group through `INSERT ... SELECT * FROM unnest(...)`, `UNNEST_ROWS` rows per statement.
 * On a pipelining driver the statements are sent at once, so the server inserts one chunk while
 * the next is encoded; every one is settled before the answer, the first failure in order is
 * the one reported (inside the transaction the later ones are its consequence). With
 * `returning`, the stored rows (raw, in insert order).
 */
const insertUnnest = async (db: Backend, core: ModelCore, g: Group, types: readonly string[], returning: boolean, ignore = false): Promise<{ count: number; rows: Row[] }> => {
  const d = db.dialect as unknown as PostgresFields
  const encoders = encodersOf(g.fields)
  const columns = g.fields.map((f) => f.column)
  // `jsonOf` fields as their text (see `storedColumns`): this is PostgreSQL's, whose driver parses JSON.
  const back = returning ? sql` RETURNING ${sql.join(core.fields.map((f) => (readsJson(f.codec) ? sql`CAST(${sql.id([f.column])} AS text) AS ${sql.id([f.column])}` : sql.id([f.column]))))}` : undefined
  const sent: Promise<Either<DbError, QueryResult>>[] = []
  for (let from = 0; from < g.rows.length; from += UNNEST_ROWS) {
    const to = Math.min(g.rows.length, from + UNNEST_ROWS)
    const arrays: unknown[][] = []
    for (let j = 0; j < g.fields.length; j++) arrays.push(columnOf(g, g.fields[j].name, encoders[j], from, to))
    const unnested = d.unnestInsert(core.table, columns, arrays, types)
    const insert = ignore ? sql`${unnested} ON CONFLICT DO NOTHING` : unnested
    const run = db.execute(back === undefined ? insert : sql`${insert}${back}`)()
    if (db.driver.pipelines === true) sent.push(run)
    else sent.push(Promise.resolve(await run))
  }
  const out: Row[] = []
  let count = 0
  for (const r of await Promise.all(sent)) {
    if (r._tag === 'Left') throw r.left
    count += returning ? r.right.rows.length : r.right.rowsAffected
    if (returning) for (const row of r.right.rows) out.push(row)
  }
  return { count, rows: out }
}

/**
 * Insert rows of validated values without reading anything back: per group of rows setting the
 * same columns, one multi-row INSERT compiled once and run per chunk below `maxParams`
 * (`executeBatch`, the chunks sent at once where the driver pipelines), the last shorter chunk
 * through its own; on PostgreSQL, large groups as `unnest` statements when skipping conflicts or
 * through a driver that does not pipeline. Returns how many rows were inserted.
 */
const insertRowsPlain = async (db: Backend, core: ModelCore, rows: readonly Values[], ignore = false): Promise<number> => {
  let inserted = 0
  // Skipping conflicts, rows go in input order: of two rows with one key, the first stays.
  for (const g of groupRows(core, rows, ignore)) {
    const columns = g.fields.map((f) => f.column)
    const width = columns.length
    const total = g.rows.length
    if (width === 0) {
      // Every column takes its default: one statement per row (no multi-row form exists).
      for (let i = 0; i < total; i++) inserted += (await must(db.execute(skipping(ignore, values({})(insertInto(core.tableRef)))))).rowsAffected
      continue
    }
    // On a pipelining driver (postgres.js) the VALUES chunks below are sent at once as well, and
    // measured faster than unnest for a plain insert (W3 PostgreSQL, same-process pairs: VALUES
    // 0.97x-1.04x of raw's time, unnest 1.14x-1.21x). Skipping conflicts, unnest stays: VALUES
    // measured 1.25x of raw unnest's time against unnest's 1.09x (W9, half the keys taken).
    const types = db.driver.pipelines === true && !ignore ? undefined : await unnestTypes(db, core, g)
    if (types !== undefined) {
      inserted += (await insertUnnest(db, core, g, types, false, ignore)).count
      continue
    }
    const encoders = encodersOf(g.fields)
    const toDriver = db.dialect.toDriver
    const size = Math.max(1, Math.min(1000, Math.floor(db.dialect.maxParams / width)))
    const full = Math.floor(total / size)
    const rest = total - full * size
    const count = (results: readonly { readonly rowsAffected: number }[]) => {
      for (const r of results) inserted += r.rowsAffected
    }
    if (full > 0) {
      const sets: unknown[][] = []
      for (let i = 0; i < full; i++) sets.push(cellsOf(g, encoders, toDriver, i * size, (i + 1) * size))
      const t = insertTemplate(db, core, columns, size, true, ignore)
      if (E.isLeft(t)) throw t.left
      count(await must(db.executeBatch(t.right, sets)))
    }
    if (rest > 0) {
      const t = insertTemplate(db, core, columns, rest, true, ignore)
      if (E.isLeft(t)) throw t.left
      count(await must(db.executeBatch(t.right, [cellsOf(g, encoders, toDriver, full * size, total)])))
    }
  }
  return inserted
}

const ctxOf = (db: Backend, core: ModelCore, op: HookContext['op'], row?: Values): HookContext => ({ db, table: core.table, op, row })

/**
 * One hook of the model's behaviours on a value: the value as it is, not a promise, when no
 * behaviour has that hook (most models have none), so that a write waits for no hook it does not
 * run. Where a behaviour has it, its Left is thrown (inside an `attempt` body).
 */
const hook = (core: ModelCore, name: HookName, value: Values, ctx: HookContext): Values | Promise<Values> =>
  hasHook(core.behaviours, name) ? must(runHooks(core.behaviours, name, value, ctx)) : value

/**
 * The hooks just before a write: `beforeSave`, then `beforeInsert` or `beforeUpdate` (Rails'
 * order: before_save, then before_create / before_update).
 */
const beforeWrite = async (core: ModelCore, what: 'Insert' | 'Update', value: Values, ctx: HookContext): Promise<Values> =>
  hook(core, `before${what}`, await hook(core, 'beforeSave', value, ctx), ctx)

/** The hooks just after a write: `afterInsert` or `afterUpdate`, then `afterSave` (Rails' order). */
const afterWrite = async (core: ModelCore, what: 'Insert' | 'Update', row: Values, ctx: HookContext): Promise<Values> =>
  hook(core, 'afterSave', await hook(core, `after${what}`, row, ctx), ctx)

/**
 * A row write, then its rows' `afterCommit` hooks queued with `afterCommit` on `db`, the backend
 * the write was called with: inside the caller's transaction they run after its COMMIT (the
 * write's own savepoint was released by now, so only a rollback of the caller's work drops them);
 * outside one, at once, the write (and its own transaction, if it had one) being done. One
 * callback per row, in the rows' order, each with `ctx.op` and, for a write of a stored row
 * (`update`, `delete`, `restore`), that row as `ctx.row`. The write itself as it is, when the
 * model has no such hook.
 *
 * @example createRow's task: committedThen(db, core, 'insert', write, (row) => [row])
 */
const committedThen = <A>(db: Backend, core: ModelCore, op: HookContext['op'], write: TaskEither<DbError, A>, rowsOf: (a: A) => readonly Values[], given?: Values): TaskEither<DbError, A> => {
  if (!hasHook(core.behaviours, 'afterCommit')) return write
  return async () => {
    const r = await write()
    if (r._tag === 'Left') return r
    const ctx = ctxOf(db, core, op, given)
    // Outside a transaction each row's hooks run at once: one that fails does not stop the next.
    let failed: Either<DbError, A> | undefined
    for (const row of rowsOf(r.right)) {
      const queued = await afterCommit(db, async () => { await must(runHooks(core.behaviours, 'afterCommit', row, ctx)) })()
      if (queued._tag === 'Left' && failed === undefined) failed = queued
    }
    return failed ?? r
  }
}
const oneRow = (row: Values): readonly Values[] => [row]
const theRows = (rows: readonly Values[]): readonly Values[] => rows

/** Whether a write has hooks after it (`afterInsert` / `afterUpdate`, `afterSave`): then it runs in a transaction with them. */
const hasAfterWrite = (core: ModelCore, what: 'Insert' | 'Update'): boolean => hasHook(core.behaviours, `after${what}`) || hasHook(core.behaviours, 'afterSave')

/** Hooks, validation and behaviours up to the INSERT: the values to insert, or a Left. */
const prepareInsert = async (db: Backend, core: ModelCore, defaults: ReadonlySet<string>, input: Values, op: 'insert' | 'upsert', issues: FieldIssue[], prefix: string): Promise<Values | undefined> => {
  const ctx = ctxOf(db, core, op)
  const before = await hook(core, 'beforeValidate', input, ctx)
  const checked = checkInsert(core, defaults, before, prefix)
  if (checked._tag === 'Left') {
    issues.push(...checked.left)
    return undefined
  }
  return checked.right
}

const ONE = (): string => ''
const NTH = (i: number): string => `rows.${i}.`

/**
 * A write's failure with the fields named: a value the dialect refused to bind (a ValidationError
 * `UNBINDABLE_VALUE` at a parameter, `$3`, raised before the statement is sent, the write's unit
 * rolled back) that is a number the engine cannot hold becomes a ValidationError at the fields
 * of the rows given (`input`, or `rows.N.` of a batch) that hold such numbers (see `unholdable`);
 * a value too long for its column (ValueTooLarge) names its column, field and rows (see
 * `tooLongNamed`). Asked only once a write has failed: a write that succeeds reads no value again.
 */
const namingFields = <A>(db: Backend, core: ModelCore, rows: readonly unknown[], prefix: (i: number) => string, te: TaskEither<DbError, A>): TaskEither<DbError, A> =>
  () => te().then((r) => {
    if (r._tag === 'Right') return r
    const given = (): Values[] => rows.map((v) => (typeof v === 'object' && v !== null ? (v as Values) : {}))
    if (isDbError(r.left, 'ValueTooLarge')) return tooLongNamed(db, core, given(), r.left).then((e) => left(e), () => r)
    if (!isDbError(r.left, 'ValidationError') || r.left.code !== UNBINDABLE) return r
    const refused = r.left.issues.length === 1 && 'value' in r.left.issues[0] ? r.left.issues[0].value : Number.NaN
    if (typeof refused !== 'number' || Number.isFinite(refused)) return r
    const issues = unholdable(db, core, given(), prefix)
    return issues.length === 0 ? r : left(validationError(core.table, issues))
  })

/** Per model: its fields whose input may be a number that is not finite (`float`, `t.number`). */
const nonFiniteFields = new WeakMap<ModelCore, readonly Field[]>()

/**
 * The issues of the numbers that are not finite (NaN, ±Infinity) among rows' values where the
 * engine's column cannot hold them, as the dialect's `toDriver` answers (SQLite has no NaN,
 * MySQL and MariaDB neither NaN nor Infinity; PostgreSQL's double precision holds both): one at
 * each such field (`prefix(i)` names row `i`), rule `bindable`.
 */
const unholdable = (db: Backend, core: ModelCore, rows: readonly Values[], prefix: (i: number) => string): FieldIssue[] => {
  let fields = nonFiniteFields.get(core)
  if (fields === undefined) {
    fields = core.fields.filter((f) => { const d = inputDecoder(f.codec); return d(Number.NaN) !== FAIL || d(Infinity) !== FAIL })
    nonFiniteFields.set(core, fields)
  }
  const out: FieldIssue[] = []
  if (fields.length === 0) return out
  for (let i = 0; i < rows.length; i++) {
    for (const f of fields) {
      const x = rows[i][f.name]
      if (typeof x !== 'number' || Number.isFinite(x)) continue
      try {
        db.dialect.toDriver(encodeField(f, x))
      } catch (e) {
        if (!isDbError(e, 'ValidationError')) throw e
        const path = `${prefix(i)}${f.name}`
        const why = e.issues.length === 1 ? e.issues[0].message : e.message
        out.push({ path, rule: 'bindable', value: x, message: `${path}: ${db.dialect.name} cannot hold ${String(x)} (${why})` })
      }
    }
  }
  return out
}

const afterValidation = async (db: Backend, core: ModelCore, values: Values, op: 'insert' | 'upsert'): Promise<Values> => {
  const ctx = ctxOf(db, core, op)
  const v = await hook(core, 'afterValidate', values, ctx)
  return beforeWrite(core, 'Insert', v, ctx)
}

/** A unit's body: it runs every statement on `tx`, the handle of the unit (a transaction or a savepoint). */
type UnitBody<A> = (tx: Backend) => Promise<Either<DbError, A>>

/**
 * Run all-or-nothing: in a transaction of its own, or inside the caller's transaction under a
 * savepoint (a nested `db.transaction`), so a write that fails after its statement ran (a stored
 * row that does not decode, an `after*` hook's Left) is undone and the caller's transaction goes
 * on: a caller that recovers from the Left and commits keeps nothing of it, and on PostgreSQL a
 * failed statement does not abort the caller's transaction. The savepoint is named by
 * `db.transaction` (`rk_sp_<depth>_<n>`), so units nested by hooks that write never share a name
 * (MariaDB replaces a savepoint of the same name). On a reserved connection (`db.connection()`)
 * the unit is a transaction on that connection. `body` runs on the unit's handle: the reserved
 * connection's own handle refuses calls while its transaction is open. On an engine without
 * savepoints (DuckDB) the caller's transaction is the unit: a Left rolls it back when it reaches
 * `db.transaction`, but a caller that recovers from it keeps what the write's statement did.
 */
const atomically = <A>(db: Backend, body: UnitBody<A>): TaskEither<DbError, A> =>
  db.inTransaction() && !supports(db.dialect, 'savepoint') ? attempt(() => body(db)) : db.transaction((tx) => attempt(() => body(tx)))

/**
 * `atomically` for a one-row write that ran without a transaction before: where the backend
 * refuses the transaction before anything ran (a TransactionError; a sharded backend outside
 * `forKey`, which runs a transaction only on one shard), the write runs as it did, on its own:
 * routed as its statement says, and without the unit (wrap it in `forKey(key).transaction` to have
 * it). Any other failure is the write's.
 */
const atomicallyOrAlone = async <A>(db: Backend, body: UnitBody<A>): Promise<Either<DbError, A>> => {
  let ran = false
  const r = await atomically(db, (tx) => {
    ran = true
    return body(tx)
  })()
  return !ran && r._tag === 'Left' && r.left._tag === 'TransactionError' ? attempt(() => body(db))() : r
}

/** Run in a transaction (a savepoint inside the caller's) when `needed`; otherwise as it is, on `db`. */
const maybeTransaction = <A>(db: Backend, needed: boolean, body: UnitBody<A>): TaskEither<DbError, A> =>
  needed ? atomically(db, body) : attempt(() => body(db))

/** A synchronous result's value; its Left thrown (inside an `attempt` or `atomicallyNow` body). */
const mustNow = <A>(r: Either<DbError, A>): A => {
  if (r._tag === 'Left') throw r.left
  return r.right
}

/** Per dialect: the statements of a unit of its own, and of one inside the caller's transaction, compiled (null: the dialect refuses them). */
const unitStatements = new WeakMap<Dialect, { own?: UnitStatements<Compiled> | null; inner?: UnitStatements<Compiled> | null }>()

/**
 * The savepoint of a unit of `atomicallyNow` inside the caller's transaction. Units on the
 * synchronous path never nest (no hook runs in them, and each opens and ends in one turn of the
 * event loop), so one fixed name serves; recordkit's prefix keeps it apart from a caller's names.
 */
const SYNC_WRITE_SAVEPOINT = 'rk_model_write'

/**
 * The statements of a unit (`unitTexts`), compiled once per dialect so a write pays no compile
 * for them. Undefined where the dialect refuses them.
 */
const unitOf = (db: Backend, inner: boolean): UnitStatements<Compiled> | undefined => {
  const d = db.dialect
  let known = unitStatements.get(d)
  if (known === undefined) unitStatements.set(d, (known = {}))
  const cached = inner ? known.inner : known.own
  if (cached !== undefined) return cached ?? undefined
  let made: UnitStatements<Compiled> | null
  try {
    const texts = unitTexts(d, inner, SYNC_WRITE_SAVEPOINT)
    const compiled = (list: readonly string[]): Compiled[] => list.map((text) => mustNow(db.compile(sql.raw(text))))
    made = { open: compiled(texts.open), done: compiled(texts.done), undo: compiled(texts.undo) }
  } catch {
    // A dialect that refuses these statements: `db.transaction` reports it.
    made = null
  }
  if (inner) known.inner = made
  else known.own = made
  return made ?? undefined
}

/**
 * `atomically` on the synchronous path, where the backend has one that can run now
 * (better-sqlite3): a unit (`runUnit`) in one turn of the event loop, so no other statement can
 * run inside. It is the same unit as `atomically` without the cost of an async `db.transaction`
 * (on SQLite about 20 us, more than a one-row write), and is used only where the write ran
 * without any transaction before (no `after*` hooks). Undefined, having run nothing, where there
 * is no such path: the caller then uses `atomically`.
 */
const atomicallyNow = <A>(db: Backend, body: (now: SyncBackend) => A): Either<DbError, A> | undefined => {
  const now = db.sync
  if (now === undefined || !now.ready()) return undefined
  const unit = unitOf(db, db.inTransaction())
  if (unit === undefined) return undefined
  return runUnit(unit, (q) => now.execute(q)(), () => right(body(now))) as Either<DbError, A>
}

/**
 * One row's write that returns the stored row: the statement with RETURNING, and where it may
 * return nothing without failing (an upsert that did nothing on conflict) the read that finds the
 * row instead.
 */
interface RowWrite {
  /** Compiled, or on a sharded backend the query data, which its router reads (see `returningUpdate`). */
  readonly write: Compiled | UpdateNode | InsertNode
  /** Compiled only when the write returned no row (an upsert that did nothing; MariaDB, which has no RETURNING here). */
  readonly orRead?: () => Compiled
}

/** A row write's stored row, decoded; undefined when it matched no row. */
const storedBy = async (db: Backend, core: ModelCore, w: RowWrite): Promise<Values | undefined> => {
  let raw = await must(db.all(w.write))
  if (raw.length === 0 && w.orRead !== undefined) raw = await must(db.all(w.orRead()))
  return raw.length === 0 ? undefined : (core.mapper()(raw) as Values[])[0]
}

/** `storedBy` on the synchronous path. */
const storedNow = (now: SyncBackend, core: ModelCore, w: RowWrite): Values | undefined => {
  let raw = mustNow(now.all(w.write)())
  if (raw.length === 0 && w.orRead !== undefined) raw = mustNow(now.all(w.orRead())())
  return raw.length === 0 ? undefined : (core.mapper()(raw) as Values[])[0]
}

/** A row write and the decoding of its stored row, all or nothing: synchronously where the backend can, else in `atomically`. */
const writeRow = (db: Backend, core: ModelCore, w: RowWrite): Either<DbError, Values | undefined> | Promise<Either<DbError, Values | undefined>> =>
  atomicallyNow(db, (now) => storedNow(now, core, w)) ?? atomicallyOrAlone(db, async (tx) => right(await storedBy(tx, core, w)))

/**
 * A statement with RETURNING of every column, compiled; undefined where the dialect does not
 * render it for this statement (then the caller writes another way).
 */
const returningAll = (db: Backend, core: ModelCore, node: InsertNode | UpdateNode): Compiled | undefined => {
  const c = db.compile(returning(...storedColumns(db, core, false))(node))
  if (E.isRight(c)) return c.right
  if (c.left._tag === 'UnsupportedFeature') return undefined
  throw c.left
}

/** Per model and dialect: the text of a row's UPDATE with RETURNING by the text without it (null: not derived that way). */
const returningTexts = new WeakMap<ModelCore, WeakMap<Dialect, Map<string, string | null>>>()

/**
 * `returningAll` of a row's UPDATE, compiled at the cost of the plain UPDATE. The built-in
 * dialects answer a plain UPDATE that differs from one compiled before only in its values from
 * their statement-shape cache, but compile one with RETURNING afresh (2-3 us on SQLite, as much
 * as running it). RETURNING adds text and no parameter: so the first time a plain UPDATE's text
 * is seen the statement is compiled with RETURNING too, and where its parameters are the plain
 * one's, its text is kept by the plain text (the same plain text is the same statement, values
 * apart); later the plain statement's parameters go with the kept text.
 */
const returningUpdate = (db: Backend, core: ModelCore, node: UpdateNode): Compiled | UpdateNode | undefined => {
  // A sharded backend routes an UPDATE by its WHERE as query data; as SQL text it carries no key.
  if (isSharded(db)) return returningAll(db, core, node) === undefined ? undefined : returning(...storedColumns(db, core, false))(node)
  const plain = db.compile(node)
  if (E.isLeft(plain) || plain.right.holes !== undefined || plain.right.results !== undefined) return returningAll(db, core, node)
  let byDialect = returningTexts.get(core)
  if (byDialect === undefined) returningTexts.set(core, (byDialect = new WeakMap()))
  let texts = byDialect.get(db.dialect)
  if (texts === undefined) byDialect.set(db.dialect, (texts = new Map()))
  const known = texts.get(plain.right.sql)
  if (typeof known === 'string') return { sql: known, params: plain.right.params }
  const full = returningAll(db, core, node)
  if (known === undefined && full !== undefined) {
    const p = plain.right.params
    const matches = full.holes === undefined && full.results === undefined && full.params.length === p.length && full.params.every((x, i) => same(x, p[i]))
    if (texts.size >= 500) texts.clear()
    texts.set(plain.right.sql, matches ? full.sql : null)
  }
  return full
}

/** The validated values of one create or upsert, hooks run: the values to write, or a ValidationError. */
const insertValues = async (db: Backend, core: ModelCore, defaults: ReadonlySet<string>, input: Values, op: 'insert' | 'upsert'): Promise<Either<DbError, Values>> => {
  const issues: FieldIssue[] = []
  const checked = await prepareInsert(db, core, defaults, input, op, issues, '')
  return checked === undefined ? left(validationError(core.table, issues)) : right(await afterValidation(db, core, checked, op))
}

/**
 * The ValidationError of rows breaking the model's uniqueness rules (see uniqueness.ts), or
 * undefined; nothing is read for a model without rules, nor for an update whose written fields
 * (`touched`) are in none of them.
 */
const uniqueFailure = async (db: Backend, core: ModelCore, rows: readonly Values[], paths: readonly string[], except?: Values, touched?: readonly string[]): Promise<DbError | undefined> => {
  const rules = uniqueRules(core)
  if (rules.length === 0) return undefined
  if (touched !== undefined && !rules.some((r) => touched.includes(r.field) || r.scope.some((f) => touched.includes(f)))) return undefined
  const issues = await uniqueIssues(db, core, rows, paths, except)
  return issues.length === 0 ? undefined : validationError(core.table, issues)
}

/**
 * `create`: validated, inserted, and the stored row read back and decoded, as one unit. The
 * stored row may not decode though the input did (a column DEFAULT or a trigger the codec
 * refuses, a value the column changed): the insert is then rolled back with the DecodeError,
 * never left written behind a Left.
 *
 * Why always a unit, and what it costs: the row is decoded in JavaScript after the statement
 * ran, so undoing it takes a transaction opened before it; nothing cheaper is correct here
 * (deleting the row afterwards is not: others may have seen or referenced it, and an upsert or
 * update cannot be put back). Where the backend is synchronous (SQLite) the unit is BEGIN, the
 * INSERT ... RETURNING and COMMIT in one turn, no Promise between: a few microseconds. Elsewhere
 * it is `db.transaction`, two round trips more than the bare INSERT: BEGIN and COMMIT (whose log
 * flush an autocommit INSERT pays all the same). Inside the caller's transaction the unit is a
 * savepoint: SAVEPOINT and RELEASE around the INSERT (see `atomically`). Sending BEGIN with the first
 * statement on a pipelining driver (postgres.js), in `db.transaction`, would take one of the
 * two round trips away.
 * The validation and the hooks before the INSERT run outside the unit, unless `afterInsert`
 * hooks put the whole create in the transaction.
 */
export const createRow = (db: Backend, core: ModelCore, defaults: ReadonlySet<string>, input: Values): TaskEither<DbError, Values> =>
  committedThen(db, core, 'insert', namingFields(db, core, [input], ONE, createOne(db, core, defaults, input)), oneRow)

const createOne = (db: Backend, core: ModelCore, defaults: ReadonlySet<string>, input: Values): TaskEither<DbError, Values> => {
  if (hasAfterWrite(core, 'Insert')) {
    return atomically(db, async (tx) => {
      const v = await insertValues(tx, core, defaults, input, 'insert')
      if (v._tag === 'Left') return v
      const taken = uniqueRules(core).length === 0 ? undefined : await uniqueFailure(tx, core, [v.right], [''])
      if (taken !== undefined) return left(taken)
      const [row] = await insertRows(tx, core, [v.right])
      return right(await afterWrite(core, 'Insert', row, ctxOf(tx, core, 'insert')))
    })
  }
  return attempt(async () => {
    const v = await insertValues(db, core, defaults, input, 'insert')
    if (v._tag === 'Left') return v
    const taken = uniqueRules(core).length === 0 ? undefined : await uniqueFailure(db, core, [v.right], [''])
    if (taken !== undefined) return left(taken)
    const enc = encodeRow(core, v.right)
    const write = canReturn(db) && Object.keys(enc).length > 0 ? returningAll(db, core, values(enc)(insertInto(core.tableRef))) : undefined
    if (write === undefined) return atomicallyOrAlone(db, async (tx) => right((await insertRows(tx, core, [v.right]))[0]))
    const r = await writeRow(db, core, { write })
    if (r._tag === 'Left' || r.right !== undefined) return r as Either<DbError, Values>
    throw dbError('QueryError', `${core.table}: the INSERT returned no row`)
  })
}

/** `createMany` without reading rows back: validated, inserted, one transaction; the count inserted. */
export const createRowsPlain = (db: Backend, core: ModelCore, defaults: ReadonlySet<string>, inputs: readonly Values[], ignore = false): TaskEither<DbError, number> => {
  // `afterInsert` (and `afterCommit`) hooks need the stored rows: read them back as createMany does, and count them.
  if (hasAfterWrite(core, 'Insert') || hasHook(core.behaviours, 'afterCommit')) {
    const t = createRows(db, core, defaults, inputs, ignore)
    return () => t().then((r) => (r._tag === 'Left' ? r : right(r.right.length)))
  }
  return createWith(db, core, defaults, inputs, 0, (tx, checked) => insertRowsPlain(tx, core, checked, ignore))
}

/**
 * Whether `createMany(..., { onConflict: 'ignore' })` skips conflicting rows in the multi-row
 * statements of `createRows` (`ignore`): where the dialect has `ON CONFLICT DO NOTHING` and
 * RETURNING of the rows inserted alone (PostgreSQL, SQLite), for a model without `unique`
 * validations (whose check refuses a taken value, where a skipped row is wanted). Not on MySQL or
 * MariaDB: RETURNING with ON DUPLICATE KEY answers a skipped row with the row it met, and INSERT
 * IGNORE also turns errors other than conflicts into warnings. Elsewhere each row is created
 * under its own savepoint.
 *
 * @example skipsInBatch(db, core) ? createRows(db, core, defaults, inputs, true) : eachRow(...)
 */
export const skipsInBatch = (db: Backend, core: ModelCore): boolean =>
  canReturn(db) && !onDuplicateKey(db) && uniqueRules(core).length === 0

/** `createMany`: every row validated first, then inserted in chunks, all in one transaction. */
export const createRows = (db: Backend, core: ModelCore, defaults: ReadonlySet<string>, inputs: readonly Values[], ignore = false): TaskEither<DbError, Values[]> =>
  committedThen(db, core, 'insert', createWith(db, core, defaults, inputs, [], async (tx, checked) => {
    const rows = await insertRows(tx, core, checked, ignore)
    if (!hasAfterWrite(core, 'Insert')) return rows
    const out: Values[] = []
    for (const r of rows) out.push(await afterWrite(core, 'Insert', r, ctxOf(tx, core, 'insert')))
    return out
  }), theRows)

/**
 * Check every input row into `checked`, or its issues into `issues`. A module-level loop, not one
 * in a closure made per call, so its optimized code outlives a full collection between calls.
 */
const checkAll = (core: ModelCore, defaults: ReadonlySet<string>, inputs: readonly Values[], checked: Values[], issues: FieldIssue[]): void => {
  const check = insertChecker(core, defaults)
  for (let i = 0; i < inputs.length; i++) {
    const c = check(inputs[i])
    if (c._tag === 'Left') issues.push(...prefixed(`rows.${i}.`, c.left))
    else checked.push(c.right)
  }
}

/**
 * On a sharded backend, the backend of the one shard every input row's shard key names
 * (`forKey(key)`), where rows written together in one transaction can go; `db` itself otherwise
 * (not sharded, rows of several keys or without one: the sharded backend then refuses the
 * transaction, saying to use `forKey`).
 */
const ownShard = (db: Backend, core: ModelCore, inputs: readonly Values[]): Backend => {
  const forKey = (db as { readonly forKey?: (key: unknown) => Backend }).forKey
  const f = typeof forKey === 'function' ? shardFieldOf(db, core) : undefined
  if (f === undefined) return db
  const keyOfInput = (r: unknown): unknown => (typeof r === 'object' && r !== null ? ownValue(r as Values, f.name) : undefined)
  const first = keyOfInput(inputs[0])
  if (first === undefined || first === null || typeof first === 'object') return db
  for (const r of inputs) if (keyOfInput(r) !== first) return db
  return forKey!(first)
}

/** Validate every row (hooks before and after), then `insert` them, in one transaction (on their shard, when sharded). */
const createWith = <A>(given: Backend, core: ModelCore, defaults: ReadonlySet<string>, inputs: readonly Values[], none: A, insert: (tx: Backend, checked: Values[]) => Promise<A>): TaskEither<DbError, A> => {
  if (inputs.length === 0) return () => Promise.resolve(right(none))
  const db = ownShard(given, core, inputs)
  // Hooks the model does not have are not awaited, row after row.
  const before = hasHook(core.behaviours, 'beforeValidate')
  const after = hasHook(core.behaviours, 'afterValidate') || hasHook(core.behaviours, 'beforeSave') || hasHook(core.behaviours, 'beforeInsert')
  return namingFields(db, core, inputs, NTH, atomically(db, async (tx) => {
    const issues: FieldIssue[] = []
    const checked: Values[] = []
    if (before) {
      for (let i = 0; i < inputs.length; i++) {
        const input = await hook(core, 'beforeValidate', inputs[i], ctxOf(tx, core, 'insert'))
        const c = checkInsert(core, defaults, input)
        if (c._tag === 'Left') issues.push(...prefixed(`rows.${i}.`, c.left))
        else checked.push(c.right)
      }
    } else {
      checkAll(core, defaults, inputs, checked, issues)
    }
    if (issues.length > 0) return left(validationError(core.table, issues))
    const prepared: Values[] = []
    if (after) for (const v of checked) prepared.push(await afterValidation(tx, core, v, 'insert'))
    const rows = after ? prepared : checked
    const taken = uniqueRules(core).length === 0 ? undefined : await uniqueFailure(tx, core, rows, rows.map((_, i) => `rows.${i}.`))
    if (taken !== undefined) return left(taken)
    return right(await insert(tx, rows))
  }))
}

/** Two encoded values are the same stored value. */
const same = (a: unknown, b: unknown): boolean => {
  if (a === b) return true
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime()
  if (a instanceof Uint8Array && b instanceof Uint8Array) return Buffer.compare(a, b) === 0
  return false
}

/**
 * What behaviours add to every update of the model's rows (`updateAll`: `timestamps()`'s
 * updatedAt, the optimistic lock's version bumped), one object to change.
 *
 * @example everyUpdate(Post.core) // { updatedAt: <now>, version: <version + 1> }
 */
export const everyUpdate = (core: ModelCore): Values => {
  const extra: Values = {}
  for (const b of core.behaviours) Object.assign(extra, b.updateAll?.(core.column))
  return extra
}

/**
 * Whether what `everyUpdate` gives sets an update time (a Date).
 * @example hasUpdateTime(everyUpdate(Post.core)) // true with timestamps()
 */
export const hasUpdateTime = (extra: Values): boolean => Object.values(extra).some((v) => v instanceof Date)

/** The extra conditions behaviours put on a row-level write (optimistic lock). */
const guardsOf = (core: ModelCore, row: Values): Expr | undefined => allOf(core.behaviours.map((b) => b.guard?.(row, core.column)))

/** Assignments from values by field (encoded), and expressions behaviours give. */
const assignments = (core: ModelCore, v: Values): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  for (const [name, x] of Object.entries(v)) {
    const f = core.byName.get(name)
    if (f === undefined || x === undefined) continue
    out[f.column] = isExpr(x) ? x : encodeField(f, x)
  }
  return out
}

/** The switches of `withDeleted`: what `restore` sees rows with, and what a guarded miss is told by (see `noRow`). */
const WITH_DELETED: QueryOptions = Object.freeze({ deleted: 'include' })

/**
 * The error of a row write (`update`, `delete`, `touch`) that matched no row. Without a guard the
 * row is not there as the default scopes see it: NotFound. Under a guard (an optimistic lock's
 * version, a tenant's condition) one read of the key, without the guards, tells which miss it
 * was: a row the scopes hide (another tenant's) or one that is gone is NotFound, as without a
 * guard; a row they show, or that only its soft deletion hides (deleted since it was read), is a
 * ConflictError: it is there and the guard refused it. With `force` (a delete past the scopes) the
 * key is read with no scope at all. The read runs on `db`: inside the write's unit when it has one.
 */
const noRow = async (db: Backend, core: ModelCore, row: Values, guarded: boolean, shard: Expr | undefined, force = false): Promise<DbError> => {
  const key = keyOfRow(core, row)
  if (!guarded) return notFound(core, key)
  const cond = allOf([keyCondition(core, key), shard, force ? undefined : scopeCondition(core, WITH_DELETED)])!
  const there = await must(db.all<Row>(where(cond)(select(...core.primaryKey.map((f) => core.column(f.name)))(from(core.tableRef)))))
  return there.length === 0
    ? notFound(core, key)
    : dbError('ConflictError', `${core.table} row ${show(key)} changed or was deleted since it was read`, { table: core.table, key })
}

/** `update`: the fields the patch names are written; returns the stored row (see `updateChanged`). */
export const updateRow = (db: Backend, core: ModelCore, row: Values, patch: Values): TaskEither<DbError, Values> => {
  const t = updateChanged(db, core, row, patch)
  return () => t().then((r) => (r._tag === 'Left' ? r : right(r.right.row)))
}

/** What an update wrote: the row as stored after it, and the fields written (the patch's changes and what behaviours added). */
export interface Updated {
  readonly row: Values
  readonly changed: readonly string[]
}

/** Whether the dialect renders RETURNING on an UPDATE (PostgreSQL, SQLite 3.35+; not MariaDB). */
const canReturnUpdate = (db: Backend): boolean => supports(db.dialect, 'updateReturning') && supports(db.dialect, 'returning')

/**
 * The stored row by key, read as `find` and `refresh` read it (default scopes off: the key
 * decides), or with `scoped` as a row write sees it (a soft-deleted row is not found); `shard` is
 * the row's shard-key condition, if any.
 */
const storedRow = async (db: Backend, core: ModelCore, key: unknown, shard?: Expr, scoped = false): Promise<Values | undefined> =>
  (await must(allRows(db, withFields(baseQuery<Values>(core), { where: allOf([keyCondition(core, key), shard, scoped ? scopeCondition(core, {}) : undefined])!, unscoped: true, limit: 1 }))))[0]

/**
 * The field holding the table's shard key on a sharded backend (`shardFieldOf`), unless the shard
 * key is part of the primary key already (a condition on the key carries it).
 */
const shardField = (db: Backend, core: ModelCore): Field | undefined => {
  const f = shardFieldOf(db, core)
  return f === undefined || core.primaryKey.includes(f) ? undefined : f
}

/**
 * The row's shard-key condition (`tenant = ?`) on a sharded backend, for a write by primary key:
 * with it the router sends the write to the row's shard, where the key alone would be refused (a
 * write without the shard key). Undefined where there is no `shardField`, or the row has no value
 * for it (the router then refuses the write as it did). `refresh` reads by it too.
 *
 * @example shardCondition(db, Order.core, { id: 1, tenant: 'acme' }) // "orders"."tenant" = 'acme' on a sharded db
 */
export const shardCondition = (db: Backend, core: ModelCore, row: Values): Expr | undefined => {
  const f = shardField(db, core)
  const v = f === undefined ? undefined : ownValue(row, f.name)
  return f === undefined || v === undefined || v === null ? undefined : eq(core.column(f.name), encodeField(f, v))
}

/**
 * The shard-key condition of rows written together (`tenant IN (...)`), for reading them back:
 * another shard may hold rows of the same primary keys. Undefined where `shardCondition` of any
 * of them is.
 */
const shardsOf = (db: Backend, core: ModelCore, rows: readonly Values[]): Expr | undefined => {
  const f = shardField(db, core)
  if (f === undefined || rows.length === 0 || rows.some((r) => ownValue(r, f.name) === undefined || ownValue(r, f.name) === null)) return undefined
  const values = [...new Set(rows.map((r) => encodeField(f, r[f.name])))]
  return values.length === 1 ? eq(core.column(f.name), values[0]) : isIn(core.column(f.name), values)
}

/** Whether `db` is a sharded backend (see `shardCondition`). */
const isSharded = (db: Backend): boolean => typeof (db as { readonly shardKey?: unknown }).shardKey === 'function'

/**
 * Run a row's UPDATE and give the stored row, decoded: through RETURNING where the dialect
 * renders it for UPDATE, otherwise (MariaDB) the UPDATE then a read by key, which the caller
 * runs in the same transaction. Undefined, having written nothing, when no row matched.
 */
const updateStored = async (db: Backend, core: ModelCore, node: UpdateNode, key: unknown, shard: Expr | undefined): Promise<Values | undefined> => {
  const write = canReturnUpdate(db) ? returningUpdate(db, core, node) : undefined
  if (write !== undefined) return storedBy(db, core, { write })
  if ((await must(db.execute(node))).rowsAffected === 0) return undefined
  const stored = await storedRow(db, core, key, shard)
  if (stored === undefined) throw dbError('QueryError', `${core.table}: the updated row with key ${show(key)} could not be read back`)
  return stored
}

/** An update's patch after the hooks and validation, and its UPDATE. */
interface PreparedUpdate {
  readonly node: UpdateNode
  readonly final: Values
  readonly guarded: boolean
  /** The row's shard-key condition on a sharded backend (see `shardCondition`). */
  readonly shard: Expr | undefined
}

/** Hooks and validation up to a row's UPDATE, matched by key, guards and default scopes. */
const prepareUpdate = async (db: Backend, core: ModelCore, row: Values, changed: Values, key: unknown): Promise<Either<DbError, PreparedUpdate>> => {
  const ctx = ctxOf(db, core, 'update', row)
  const before = await hook(core, 'beforeValidate', changed, ctx)
  const checked = checkPatch(core, before, row)
  if (checked._tag === 'Left') return left(validationError(core.table, checked.left))
  const validated = await hook(core, 'afterValidate', checked.right, ctx)
  const final = await beforeWrite(core, 'Update', validated, ctx)
  const guard = guardsOf(core, row)
  const shard = shardCondition(db, core, row)
  const node = where(allOf([keyCondition(core, key), shard, guard, scopeCondition(core, {})])!)(set(assignments(core, final))(update(core.tableRef)))
  return right({ node, final, guarded: guard !== undefined, shard })
}

/** The fields an update wrote: the patch's and the ones behaviours added. */
const writtenFields = (core: ModelCore, final: Values): string[] => Object.keys(final).filter((k) => core.byName.has(k))

/**
 * `update`, also telling which fields it wrote: every field the patch names (whatever the caller's
 * copy of the row holds: it may be out of date), and those behaviours set. An empty patch writes
 * nothing and returns the row as stored, read by key (NotFound when it is gone). The row is
 * matched by key, the behaviours' guards (optimistic lock) and the default scopes: a row they
 * hide (soft-deleted) is NotFound, as for `delete`, and nothing is written.
 *
 * The stored row is returned, decoded (what the columns made of the patch: a DECIMAL rounded, a
 * DATE truncated, a CHAR padded): through RETURNING on PostgreSQL and SQLite, or read by key on
 * MariaDB, which has no UPDATE ... RETURNING. The UPDATE and that read and decoding are one unit,
 * as `create`'s: a stored row that does not decode rolls the update back with the DecodeError.
 * `afterUpdate` hooks see the stored row, in the same transaction; with them the hooks and
 * validation before the UPDATE run in it as well.
 */
export const updateChanged = (db: Backend, core: ModelCore, row: Values, patch: Values): TaskEither<DbError, Updated> =>
  committedThen(db, core, 'update', namingFields(db, core, [patch], ONE, updateOne(db, core, row, patch)), (u) => [u.row], row)

const updateOne = (db: Backend, core: ModelCore, row: Values, patch: Values): TaskEither<DbError, Updated> => {
  // A call without a patch (update(db, row), as Rails' save of a changed row) is no TypeError.
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) {
    return () => Promise.resolve(left(validationError(core.table, [{ path: '', rule: 'patch', value: patch, message: `update takes the row and a patch of the fields to change (update(db, row, { name })), got ${show(patch)} as the patch` }])))
  }
  if (typeof row !== 'object' || row === null || Array.isArray(row)) {
    return () => Promise.resolve(left(validationError(core.table, [{ path: '', rule: 'row', value: row, message: `update takes the stored row (or its key fields) first, got ${show(row)}` }])))
  }
  // Every field the patch names is written, even one equal to the caller's copy of the row: the
  // copy may be out of date, and the patch is what the caller wants stored.
  const changed: Values = {}
  for (const [name, v] of Object.entries(patch)) {
    // A key that is no field stays in, for the patch check to refuse (unknownField): dropped, a
    // misspelt patch wrote nothing and said nothing.
    if (v === undefined) continue
    changed[name] = v
  }
  const key = keyOfRow(core, row)
  if (Object.keys(changed).length === 0) {
    // Nothing to write: the row as stored, not the caller's copy.
    return attempt(async () => {
      const stored = await storedRow(db, core, key, shardCondition(db, core, row), true)
      return stored === undefined ? left(notFound(core, key)) : right({ row: stored, changed: [] })
    })
  }
  if (hasAfterWrite(core, 'Update')) {
    return atomically(db, async (tx) => {
      const p = await prepareUpdate(tx, core, row, changed, key)
      if (p._tag === 'Left') return p
      const taken = uniqueRules(core).length === 0 ? undefined : await uniqueFailure(tx, core, [{ ...row, ...p.right.final }], [''], row, Object.keys(p.right.final))
      if (taken !== undefined) return left(taken)
      const stored = await updateStored(tx, core, p.right.node, key, p.right.shard)
      if (stored === undefined) return left(await noRow(tx, core, row, p.right.guarded, p.right.shard))
      return right({ row: await afterWrite(core, 'Update', stored, ctxOf(tx, core, 'update', row)), changed: writtenFields(core, p.right.final) })
    })
  }
  return attempt(async () => {
    const p = await prepareUpdate(db, core, row, changed, key)
    if (p._tag === 'Left') return p
    const taken = uniqueRules(core).length === 0 ? undefined : await uniqueFailure(db, core, [{ ...row, ...p.right.final }], [''], row, Object.keys(p.right.final))
    if (taken !== undefined) return left(taken)
    const write = canReturnUpdate(db) ? returningUpdate(db, core, p.right.node) : undefined
    const r = write !== undefined ? await writeRow(db, core, { write }) : await atomicallyOrAlone(db, async (tx) => right(await updateStored(tx, core, p.right.node, key, p.right.shard)))
    if (r._tag === 'Left') return r
    return r.right === undefined ? left(await noRow(db, core, row, p.right.guarded, p.right.shard)) : right({ row: r.right, changed: writtenFields(core, p.right.final) })
  })
}

/**
 * The issues the model's validators and row-level checks find in an `updateWhere` patch, which
 * has no row to be applied to. Each runs on the decoded patch alone, which records the fields it
 * reads: one that reads only fields the patch sets (`rule('age', 'adult', (u) => u.age >= 18)`
 * given `{ age }`) is decided by the patch and its issues count; one that reads a field the patch
 * does not set (a rule comparing two fields, given one of them) needs the stored row, which a
 * set-based UPDATE does not read, and is skipped. `update` runs every one of them on the row.
 */
const patchIssues = (core: ModelCore, values: Values): FieldIssue[] => {
  if (core.validators.length === 0 && core.checks.length === 0) return []
  // Set by the proxy below when the validator running reads a field the patch does not set.
  const reads = { absent: false }
  const note = (k: string | symbol): void => {
    if (typeof k === 'string' && core.byName.has(k) && !Object.hasOwn(values, k)) reads.absent = true
  }
  const seen = new Proxy(values, {
    get: (t, k, r) => {
      note(k)
      return Reflect.get(t, k, r) as unknown
    },
    has: (t, k) => {
      note(k)
      return Reflect.has(t, k)
    },
    getOwnPropertyDescriptor: (t, k) => {
      note(k)
      return Reflect.getOwnPropertyDescriptor(t, k)
    },
    // Listing the fields looks at the whole row.
    ownKeys: (t) => {
      reads.absent = true
      return Reflect.ownKeys(t)
    },
  })
  const issues: FieldIssue[] = []
  for (const v of core.validators) {
    reads.absent = false
    let found: ReturnType<typeof v>
    try {
      found = v(seen)
    } catch (e) {
      // A validator that fails on a field the patch lacks needed the row; any other failure is its own.
      if (reads.absent) continue
      throw e
    }
    if (reads.absent) continue
    for (const i of found) issues.push({ path: i.path, rule: i.rule, value: values[i.path], message: i.message ?? `${i.path} fails ${i.rule}` })
  }
  for (const c of core.checks) {
    reads.absent = false
    let ok: boolean
    try {
      ok = c.predicate(seen)
    } catch {
      ok = false
    }
    if (!reads.absent && !ok) issues.push({ path: '', rule: c.name, value: undefined, message: `the row fails ${c.name}` })
  }
  return issues
}

/**
 * `updateWhere`: one UPDATE for every matching row that the default scopes show (a soft-deleted
 * row is not updated); no row hooks. An empty patch (no field, or only `undefined` ones) sends no
 * statement and counts 0, as `update`'s sends none. The patch is decoded with the fields' codecs and checked by
 * the validators that it alone decides (see `patchIssues`), before anything is written.
 */
export const updateMatching = (db: Backend, core: ModelCore, cond: unknown, patch: Values): TaskEither<DbError, number> => namingFields(db, core, [patch], ONE, attempt(async () => {
  const checked = checkPatch(core, patch)
  if (checked._tag === 'Left') return left(validationError(core.table, checked.left))
  const issues = patchIssues(core, checked.right)
  if (issues.length > 0) return left(validationError(core.table, issues))
  // An empty patch writes nothing, as `update`'s does: not even what behaviours add (updatedAt, the version).
  if (Object.keys(assignments(core, checked.right)).length === 0) return right(0)
  const extra = everyUpdate(core)
  const assigned = assignments(core, { ...checked.right, ...extra })
  if (Object.keys(assigned).length === 0) return right(0)
  const node = where(allOf([conditionOf(core, [cond]), scopeCondition(core, {})])!)(set(assigned)(update(core.tableRef)))
  return right((await must(db.execute(node))).rowsAffected)
}))

const softDeleteOf = (core: ModelCore): AnyBehaviour | undefined => core.behaviours.find((b) => b.deleteAs !== undefined)

/**
 * `delete`: by primary key (and the optimistic-lock version); soft where a behaviour says so.
 * Like `update`, it matches only a row the default scopes show (a soft-deleted row is NotFound,
 * or a ConflictError under a version lock); `force` deletes the row itself, whatever the scopes
 * say (a soft-deleted row included).
 *
 * A soft delete returns the row as stored, decoded (its marks as the columns keep them, every
 * other field as the table holds it), as `update` does: through RETURNING on PostgreSQL and
 * SQLite, or read by key on MariaDB, the UPDATE and that read and decoding one unit. A hard
 * delete returns the row it was given, as it was before.
 */
export const deleteRow = (db: Backend, core: ModelCore, row: Values, force: boolean): TaskEither<DbError, Values> =>
  committedThen(db, core, 'delete', deleteOne(db, core, row, force), oneRow, row)

const deleteOne = (db: Backend, core: ModelCore, row: Values, force: boolean): TaskEither<DbError, Values> => {
  const soft = force ? undefined : softDeleteOf(core)
  const hooked = hasHook(core.behaviours, 'afterDelete')
  const body = async (tx: Backend): Promise<Either<DbError, Values>> => {
    const ctx = ctxOf(tx, core, 'delete', row)
    const r = await hook(core, 'beforeDelete', row, ctx)
    const guard = guardsOf(core, r)
    const key = keyOfRow(core, r)
    const shard = shardCondition(tx, core, r)
    const cond = allOf([keyCondition(core, key), shard, guard, force ? undefined : scopeCondition(core, {})])!
    if (soft === undefined) {
      const res = await must(tx.execute(where(cond)(deleteFrom(core.tableRef))))
      if (res.rowsAffected === 0) return left(await noRow(tx, core, r, guard !== undefined, shard, force))
      await hook(core, 'afterDelete', r, ctx)
      // The row as it was before the delete.
      return right(r)
    }
    const node = where(cond)(set(assignments(core, soft.deleteAs!()))(update(core.tableRef)))
    // With `afterDelete` hooks the whole delete is already one transaction.
    const stored = hooked ? right(await updateStored(tx, core, node, key, shard)) : await storedUpdate(tx, core, node, key, shard)
    if (stored._tag === 'Left') return stored
    if (stored.right === undefined) return left(await noRow(tx, core, r, guard !== undefined, shard))
    await hook(core, 'afterDelete', r, ctx)
    return right(stored.right)
  }
  // A hard delete is one statement; a soft one returns its stored row (see `storedUpdate`).
  if (soft === undefined || hooked) return maybeTransaction(db, hooked, body)
  return attempt(() => body(db))
}

/**
 * A row's UPDATE and its stored row, decoded, as one unit (`update`'s way): through RETURNING on
 * the synchronous path where there is one, else in `atomically` (MariaDB: the UPDATE, then a read
 * by key). Undefined, having written nothing, when no row matched.
 */
const storedUpdate = async (db: Backend, core: ModelCore, node: UpdateNode, key: unknown, shard: Expr | undefined): Promise<Either<DbError, Values | undefined>> => {
  const write = canReturnUpdate(db) ? returningUpdate(db, core, node) : undefined
  return write !== undefined ? writeRow(db, core, { write }) : atomicallyOrAlone(db, async (tx) => right(await updateStored(tx, core, node, key, shard)))
}

/**
 * `deleteWhere`: one DELETE (or soft-delete UPDATE) for every matching row that the default
 * scopes show (a soft-deleted row keeps its first deletion time); no row hooks.
 */
export const deleteMatching = (db: Backend, core: ModelCore, cond: unknown): TaskEither<DbError, number> => attempt(async () => {
  const soft = softDeleteOf(core)
  const c = allOf([conditionOf(core, [cond]), scopeCondition(core, {})])!
  const node = soft === undefined ? where(c)(deleteFrom(core.tableRef)) : where(c)(set(assignments(core, soft.deleteAs!()))(update(core.tableRef)))
  return right((await must(db.execute(node))).rowsAffected)
})

/**
 * `restore`: undo a soft delete, by key, as the scopes see it with `withDeleted` (the soft deletion
 * does not hide the row; another default scope, a tenant's, holds). A restore is an update:
 * it also writes what the behaviours add to every update (`updateAll`: `updatedAt` refreshed, the
 * optimistic lock's version bumped), so a copy of the row read before it is stale. Returns the row
 * as stored, decoded, as a soft `delete` does (see `storedUpdate`); NotFound when no row has the key.
 * `beforeRestore` hooks see the row given (a Left refuses the restore, nothing written);
 * `afterRestore` hooks see the row as stored, in the restore's transaction (a Left undoes it).
 * The update hooks do not run: a restore is not an edit of the row's fields.
 */
export const restoreRow = (db: Backend, core: ModelCore, row: Values): TaskEither<DbError, Values> =>
  committedThen(db, core, 'restore', restoreOne(db, core, row), oneRow, row)

const restoreOne = (db: Backend, core: ModelCore, row: Values): TaskEither<DbError, Values> => {
  const b = core.behaviours.find((x) => x.restoreAs !== undefined)
  if (b === undefined) return () => Promise.resolve(left(dbError('QueryError', `${core.table} has no soft-delete behaviour to restore from`)))
  const hooked = hasHook(core.behaviours, 'afterRestore')
  const body = async (tx: Backend): Promise<Either<DbError, Values>> => {
    const ctx = ctxOf(tx, core, 'restore', row)
    const r = await hook(core, 'beforeRestore', row, ctx)
    const key = keyOfRow(core, r)
    const shard = shardCondition(tx, core, r)
    const extra = everyUpdate(core)
    const node = where(allOf([keyCondition(core, key), shard, scopeCondition(core, WITH_DELETED)])!)(set(assignments(core, { ...b.restoreAs!(), ...extra }))(update(core.tableRef)))
    // With `afterRestore` hooks the whole restore is already one transaction.
    const stored = hooked ? right(await updateStored(tx, core, node, key, shard)) : await storedUpdate(tx, core, node, key, shard)
    if (stored._tag === 'Left') return stored
    if (stored.right === undefined) return left(notFound(core, key))
    return right(await hook(core, 'afterRestore', stored.right, ctx))
  }
  return hooked ? atomically(db, body) : attempt(() => body(db))
}

/**
 * `increment` / `decrement`: `SET field = field + by` (minus with `negate`) by key, the guards of
 * a set-based update (default scopes: a soft-deleted row is NotFound) and what behaviours add to
 * every update (`updateAll`); the stored row returned, decoded, as `update` returns it, the
 * UPDATE and the decoding one unit (a result the codec refuses is a DecodeError, nothing kept).
 * `by` must be a finite number or a bigint: anything else is a ValidationError naming the field,
 * as is the primary key, a field holding no number (a decimal's text excepted), or a fraction for
 * a whole-number field (`integer`, `t.Int`, `int64`). A 64-bit field moves by exactly `by` (bound
 * as a BIGINT); a NULL field counts from 0.
 */
export const incrementRow = (db: Backend, core: ModelCore, row: Values, field: string, by: unknown, negate = false): TaskEither<DbError, Values> => attempt(async () => {
  const step = counterStep(core, field, by, negate, { value: row[field] })
  if (step._tag === 'Left') return step
  const key = keyOfRow(core, row)
  const shard = shardCondition(db, core, row)
  const extra = everyUpdate(core)
  delete extra[field]
  const assigned = { ...assignments(core, extra), [core.byName.get(field)!.column]: step.right }
  const node = where(allOf([keyCondition(core, key), shard, scopeCondition(core, {})])!)(set(assigned)(update(core.tableRef)))
  const stored = await storedUpdate(db, core, node, key, shard)
  if (stored._tag === 'Left') return stored
  return stored.right === undefined ? left(notFound(core, key)) : right(stored.right)
})

/**
 * `touch`: the row's update time (`timestamps()`'s `updatedAt`, and whatever else behaviours add to
 * every update: the optimistic lock's version, bumped) and the Date fields named set to now, by
 * key, as Rails' `touch` (`touch(:checked_at)`): no hooks, no validators. Default scopes apply (a
 * soft-deleted row is NotFound) and so do the guards of `update` (a stale copy under an optimistic
 * lock is a ConflictError, nothing written). The named fields take the time `timestamps()` sets.
 * A field that is the key or takes no Date is a ValidationError; a model with nothing to touch
 * (no timestamps, no field named) a QueryError. Returns the stored row, as `update` does.
 */
export const touchRow = (db: Backend, core: ModelCore, row: Values, fields: readonly string[]): TaskEither<DbError, Values> => attempt(async () => {
  const extra = everyUpdate(core)
  const stamp = Object.values(extra).find((v): v is Date => v instanceof Date)
  if (stamp === undefined && fields.length === 0) {
    // timestamps({ updatedAt: false }) is there, keeping a creation time alone: "neither" would send the reader looking for a missing timestamps().
    const kept = core.behaviours.some((b) => b.name === 'timestamps')
      ? 'timestamps({ updatedAt: false }) keeps no update time: name the time fields to set (touch(db, row, \'field\'))'
      : 'this model has neither'
    return left(dbError('QueryError', `${core.table}: touch sets the update time of timestamps() or the fields named, and ${kept}`))
  }
  const at = stamp ?? new Date()
  const issues: FieldIssue[] = []
  for (const name of fields) {
    const f = core.byName.get(name)
    if (f === undefined) return left(dbError('QueryError', `${core.table} has no field "${name}"`))
    if (core.primaryKey.includes(f)) issues.push({ path: name, rule: 'touch', value: at, message: `${name} is the primary key and is not changed by touch` })
    else if (!f.codec.is(at)) issues.push({ path: name, rule: 'touch', value: at, message: `${name} is ${f.codec.name}: touch sets a time` })
    else extra[name] = at
  }
  if (issues.length > 0) return left(validationError(core.table, issues))
  const key = keyOfRow(core, row)
  const shard = shardCondition(db, core, row)
  const guard = guardsOf(core, row)
  const node = where(allOf([keyCondition(core, key), shard, guard, scopeCondition(core, {})])!)(set(assignments(core, extra))(update(core.tableRef)))
  const stored = await storedUpdate(db, core, node, key, shard)
  if (stored._tag === 'Left') return stored
  return stored.right === undefined ? left(await noRow(db, core, row, guard !== undefined, shard)) : right(stored.right)
})

/**
 * The parent rows a `belongsTo(..., { touch: true })` touches: one UPDATE setting what the
 * target's behaviours add to every update (`timestamps()`'s `updatedAt`, the optimistic lock's
 * version bumped, as Rails' `touch` bumps `lock_version`) on the rows matching, whatever the
 * target's default scopes say; the count. A target with no update time is a QueryError.
 */
export const touchMatching = (db: Backend, core: ModelCore, cond: unknown): TaskEither<DbError, number> => attempt(async () => {
  const extra = everyUpdate(core)
  if (!hasUpdateTime(extra)) return left(dbError('QueryError', `${core.table}: touch sets the update time of timestamps(), and this model has none`))
  const node = where(conditionOf(core, [cond]))(set(assignments(core, extra))(update(core.tableRef)))
  return right((await must(db.execute(node))).rowsAffected)
})

/**
 * The new value of a counter, `field + by` (minus with `negate`), or the ValidationError of a
 * step `increment` refuses (see `incrementRow`). `current` holds the row's value when there is a
 * row (`increment`): a field holding no number is refused by that value, and a NULL counts from 0;
 * without one (`incrementWhere`) the field's codec must take a number, and every row's NULL counts
 * from 0.
 */
const counterStep = (core: ModelCore, field: string, by: unknown, negate: boolean, current?: { readonly value: unknown }): Either<DbError, Expr> => {
  const f = core.byName.get(field)
  if (f === undefined) return left(dbError('QueryError', `${core.table} has no field "${field}"`))
  const bad = (message: string) => left(validationError(core.table, [{ path: field, rule: 'increment', value: by, message }]))
  if (core.primaryKey.includes(f)) return bad(`${field} is the primary key and is not changed by increment`)
  const decimal = DECIMAL_CODEC.test(f.codec.name)
  if (decimal && (typeof by === 'string' || typeof by === 'number' || typeof by === 'bigint')) {
    // A decimal field (money) moves by exact decimal text (a number by the text it prints as),
    // checked as the field's input is: a step finer than its scale (decimalOf) is refused, where
    // the engine would round it away (PostgreSQL, MariaDB) or keep it (SQLite).
    const text = inputDecoder(f.codec)(typeof by === 'string' ? by : String(by))
    if (text === FAIL || typeof text !== 'string') return bad(`increment of ${field} takes decimal text the field holds (${f.codec.name}), got ${show(by)}`)
    const step = negate ? (text.startsWith('-') ? text.slice(1) : `-${text}`) : text
    const base = current !== undefined && current.value !== null && current.value !== undefined ? core.column(field) : coalesce(core.column(field), val(0))
    return right(add(base, comparedValue(f.codec, step)))
  }
  if (!((typeof by === 'number' && Number.isFinite(by)) || typeof by === 'bigint')) return bad(`increment takes a finite number${decimal ? ' or decimal text' : ''}, got ${show(by)}`)
  if (current !== undefined) {
    // Only numbers move: a field holding text (a decimal's excepted), a boolean or a Date is refused.
    const v = current.value
    const kind = typeof v
    if (!(kind === 'number' || kind === 'bigint' || v === null || v === undefined || (kind === 'string' && decimal))) {
      return bad(`${field} holds ${show(v)}: increment changes a number`)
    }
  } else if (!(decimal || f.codec.is(0) || f.codec.is(0n))) {
    return bad(`${field} is ${f.codec.name}: increment changes a number`)
  }
  // A whole-number field moves by whole steps; a 64-bit one by a BigInt, exact past 2^53 (a
  // number bound there is a double on SQLite and MariaDB, and the sum is rounded).
  const big = typeof current?.value === 'bigint' || INT64_CODEC.test(f.codec.name)
  if ((big || INTEGER_CODEC.test(f.codec.name)) && typeof by === 'number' && !Number.isInteger(by)) return bad(`${field} is a whole number: increment it by a whole step, not ${by}`)
  const step = negate ? (typeof by === 'bigint' ? -by : -(by as number)) : by
  const amount = big ? cast(val(BigInt(step)), 'bigint') : val(step)
  // A NULL counter counts from 0 (as Rails' update_counters), where NULL + 1 would stay NULL.
  const base = current !== undefined && current.value !== null && current.value !== undefined ? core.column(field) : coalesce(core.column(field), val(0))
  return right(add(base, amount))
}

/**
 * `incrementWhere` / `decrementWhere`: one `UPDATE ... SET field = COALESCE(field, 0) + by` of
 * every matching row the default scopes show (Rails' `update_counters`, Django's
 * `update(n=F('n') + 1)`), with what behaviours add to every update (`updateAll`); the count of
 * rows. `by` is checked as `increment` checks it; no hooks or validators run.
 */
export const incrementMatching = (db: Backend, core: ModelCore, cond: unknown, field: string, by: unknown, negate = false, counter = false): TaskEither<DbError, number> => attempt(async () => {
  const step = counterStep(core, field, by, negate)
  if (step._tag === 'Left') return step
  // A counter cache (`counter`) moves the count alone, whatever the scopes say, as Rails'
  // update_counters: no updatedAt, and no version bumped (a copy read before stays current).
  const extra: Values = counter ? {} : everyUpdate(core)
  delete extra[field]
  const assigned = { ...assignments(core, extra), [core.byName.get(field)!.column]: step.right }
  const node = where(allOf([conditionOf(core, [cond]), counter ? undefined : scopeCondition(core, {})])!)(set(assigned)(update(core.tableRef)))
  return right((await must(db.execute(node))).rowsAffected)
})

/** Codecs (by name, nullable too) of whole numbers and of 64-bit integers, and of exact decimals (text). */
const INTEGER_CODEC = /^\(?(integer|Int)\b/
const INT64_CODEC = /^\(?int64\b/
const DECIMAL_CODEC = /^\(?decimal\b/

/** Options of `upsert`. */
export interface UpsertOptions<F extends string = string> {
  /** The unique key that conflicts (the primary key by default). */
  readonly conflict?: readonly F[]
  /** The fields to overwrite on conflict (every given field but the key and creation-only fields by default). */
  readonly update?: readonly F[]
}

/**
 * The assignments of an upsert that updates: each column of `updates` from the proposed row
 * (`proposed`: `excluded(column)` in an ON CONFLICT clause), then what the behaviours add to every
 * update (`updateAll`: `updatedAt` refreshed, the optimistic lock's version bumped), as `update`
 * and `updateWhere` do; the behaviours' values win over the proposed row's, as they do over a
 * patch. Fields of the conflict target are never assigned.
 */
const upsertAssignments = (core: ModelCore, updates: readonly string[], inTarget: (name: string) => boolean, proposed: (column: string) => unknown = excluded): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  for (const c of updates) out[c] = proposed(c)
  const extra = everyUpdate(core)
  const kept = Object.fromEntries(Object.entries(extra).filter(([name]) => !inTarget(name)))
  return Object.assign(out, assignments(core, kept))
}

/** What an upsert conflicts on and writes: the target's fields, the columns it updates (none: do nothing). */
interface UpsertPlan {
  readonly target: readonly Field[]
  readonly updates: readonly string[]
  readonly inTarget: (name: string) => boolean
}

/** The plan of an upsert of validated values; a ValidationError when they lack the conflict key. */
const upsertPlan = (core: ModelCore, v: Values, options: UpsertOptions): Either<DbError, UpsertPlan> => {
  const target = (options.conflict ?? core.primaryKey.map((f) => f.name)).map((n) => {
    const f = core.byName.get(n)
    if (f === undefined) throw dbError('QueryError', `${core.table} has no field "${n}"`)
    return f
  })
  const missing = target.filter((f) => ownValue(v, f.name) === undefined)
  if (missing.length > 0) {
    // The primary key by default: a generated one is rarely in the input, so say how to name another key.
    const others = options.conflict === undefined ? ', or name the unique key to match on: { conflict: [...] }' : ''
    return left(validationError(core.table, missing.map((f) => ({ path: f.name, rule: 'conflictKey', message: `${f.name} is the upsert's conflict key${options.conflict === undefined ? ' (the primary key by default)' : ''} and is not given: give it${others}` }))))
  }
  const insertOnly = new Set(core.behaviours.flatMap((b) => b.insertOnly ?? []))
  const names = options.update ?? Object.keys(v).filter((n) => core.byName.has(n) && v[n] !== undefined && !insertOnly.has(n))
  const inTarget = (n: string): boolean => target.some((f) => f.name === n)
  const updates = names.filter((n) => !inTarget(n)).map((n) => core.byName.get(n)!.column)
  return right({ target, updates, inTarget })
}

/**
 * Whether the dialect's upsert is ON DUPLICATE KEY UPDATE (MySQL, MariaDB), which fires on a
 * conflict over any unique key, not only the target's: there `upsertOnTarget` runs the upsert.
 * A sharded backend outside `forKey` keeps the statement (its router reads it); inside
 * `forKey(key).transaction` the write runs on the shard's handle, which is not sharded.
 */
/**
 * A conflict target's field holding the row's value; a NULL matches no row, as it conflicts with
 * none under a unique key (`eq(column, null)` is IS NULL, which would find rows of NULL key).
 */
const targetIs = (core: ModelCore, f: Field, x: unknown): Expr => (x === null ? or() : eq(core.column(f.name), encodeField(f, x)))

/**
 * Throws, before an upsert writes, when the row holding its conflict key is one the model's
 * default scopes hide (another tenant's, under a scope on the tenant): ON CONFLICT / ON DUPLICATE
 * KEY would update that row, the model's own values over it, and read it back. Soft deletion
 * alone does not hide the row here (the scopes are asked as `withDeleted` asks them), so a model
 * whose only scope is soft deletion reads nothing more. The key is taken, as `create` would find
 * it: a UniqueViolation naming the table and the target's columns, nothing written.
 */
const refuseHiddenConflict = async (db: Backend, core: ModelCore, v: Values, plan: UpsertPlan): Promise<void> => {
  const scope = scopeCondition(core, WITH_DELETED)
  if (scope === undefined) return
  const cond = allOf([...plan.target.map((f) => targetIs(core, f, v[f.name])), shardCondition(db, core, v)])!
  const rows = await must(db.all<Row>(where(cond)(select(as(caseWhen([[scope, 1]], 0), 'rk_visible'))(from(core.tableRef)))))
  if (rows.some((r) => Number(r.rk_visible) !== 1)) {
    const columns = plan.target.map((f) => f.column)
    throw dbError('UniqueViolation', `${core.table}: the upsert's conflict key (${plan.target.map((f) => f.name).join(', ')}) is held by a row the model's default scopes hide`, { table: core.table, columns, fields: plan.target.map((f) => f.name) })
  }
}

const upsertsOnAnyKey = (db: Backend): boolean => onDuplicateKey(db) && !isSharded(db)

/** Whether the dialect's upsert is MySQL's ON DUPLICATE KEY UPDATE (MySQL, MariaDB), not ON CONFLICT. */
const onDuplicateKey = (db: Backend): boolean => db.dialect.name === 'mysql' || db.dialect.name === 'mariadb'

/** Per driver: each table's unique keys, by table (see `uniqueKeysOf`). */
const uniqueIndexes = new WeakMap<Driver, Map<string, ReadonlyMap<string, readonly string[]>>>()

/**
 * The table's unique keys: each unique index's name and its columns (lower case, in key order),
 * read with SHOW INDEX (temporary tables included) and kept per driver; `fresh` reads them again.
 * A unique prefix of a column is not a unique key of the column: such an index is left out.
 */
const uniqueKeysOf = async (db: Backend, core: ModelCore, fresh = false): Promise<ReadonlyMap<string, readonly string[]>> => {
  let known = uniqueIndexes.get(db.driver)
  if (known === undefined) uniqueIndexes.set(db.driver, (known = new Map()))
  const cached = fresh ? undefined : known.get(core.table)
  if (cached !== undefined) return cached
  const columns = new Map<string, string[] | null>()
  for (const r of await must(db.all<Record<string, unknown>>(sql`SHOW INDEX FROM ${sql.id(core.table)}`))) {
    if (String(r.Non_unique) !== '0') continue
    const name = String(r.Key_name)
    const list = columns.get(name)
    if (list === null) continue
    if (r.Sub_part !== null && r.Sub_part !== undefined) columns.set(name, null)
    else if (list === undefined) columns.set(name, [String(r.Column_name).toLowerCase()])
    else list.push(String(r.Column_name).toLowerCase())
  }
  const keys = new Map<string, readonly string[]>()
  for (const [name, c] of columns) if (c !== null) keys.set(name, c)
  if (known.size >= 500) known.clear()
  known.set(core.table, keys)
  return keys
}

/**
 * The names of the table's unique keys over exactly the target's columns (any order; see
 * `uniqueKeysOf`). A QueryError when there is none, as ON CONFLICT gives on PostgreSQL and SQLite;
 * the keys are read again before that, in case one was added since they were read.
 */
const targetIndexes = async (db: Backend, core: ModelCore, target: readonly Field[]): Promise<ReadonlySet<string>> => {
  const wanted = [...new Set(target.map((f) => f.column.toLowerCase()))].sort()
  const matching = (keys: ReadonlyMap<string, readonly string[]>): Set<string> =>
    new Set([...keys].filter(([, c]) => c.length === wanted.length && [...c].sort().every((x, i) => x === wanted[i])).map(([n]) => n))
  let names = matching(await uniqueKeysOf(db, core))
  if (names.size === 0) names = matching(await uniqueKeysOf(db, core, true))
  if (names.size === 0) {
    throw dbError('QueryError', `${core.table}: the upsert's conflict target (${target.map((f) => f.name).join(', ')}) is no unique key of the table, and ON DUPLICATE KEY UPDATE would act on a conflict over any other`)
  }
  return names
}

/** The session variable an upsert on MySQL or MariaDB records in whether the row its ON DUPLICATE KEY UPDATE hit holds its target's values. */
const HIT = '@rk_upsert_row'

/** A duplicate over a key other than the upsert's target (see `upsertOnTarget`): nothing of it is kept. */
const duplicateElsewhere = (core: ModelCore, plan: UpsertPlan): DbError =>
  dbError('UniqueViolation', `${core.table}: the upserted row has the same value as another row in a unique key other than its conflict target (${plan.target.map((f) => f.name).join(', ')})`, { table: core.table })

/**
 * An upsert where ON DUPLICATE KEY UPDATE fires on a conflict over any unique key
 * (`upsertsOnAnyKey`), inside the write's unit, made to act on the conflict target alone as
 * ON CONFLICT (target) does on PostgreSQL and SQLite. The target must be a unique key of the
 * table (`targetIndexes`). The statement records whether the row it hits holds the proposed
 * target's values (compared by the columns' collations, before any assignment) in a session
 * variable (`HIT`, under a token of this call's own, so a value left by an earlier statement is
 * never taken for it), and the read of the stored row by the target key reads it back: a row hit
 * that does not hold them, or no row holding the target key after the statement (so the INSERT
 * hit another row), means the proposed row shares another unique key with another row;
 * that is a UniqueViolation naming the table, thrown so the unit is rolled back and the row hit
 * is left as it was. Same for the do-nothing form, which writes nothing on any conflict. A row
 * with a NULL in its target is inserted, as ON CONFLICT inserts it. The statement's locks are
 * those of ON DUPLICATE KEY UPDATE (no read before it), so concurrent upserts of one key wait
 * for each other as they did. Returns the stored row.
 */
const upsertOnTarget = async (db: Backend, core: ModelCore, v: Values, plan: UpsertPlan): Promise<Values> => {
  await targetIndexes(db, core, plan.target)
  // A NULL in the target conflicts with no row (NULLs are distinct under a unique key), so
  // ON CONFLICT inserts the row: a plain INSERT does the same here, and a conflict over another
  // unique key is the engine's own UniqueViolation, naming that key.
  if (plan.target.some((f) => v[f.name] === null)) return (await insertRows(db, core, [v]))[0]
  const cond = allOf([...plan.target.map((f) => targetIs(core, f, v[f.name])), shardCondition(db, core, v)])!
  const read = where(cond)(select(...storedColumns(db, core, true))(from(core.tableRef)))
  const insert = values(encodeRow(core, v))(insertInto(core.tableRef))
  if (plan.updates.length === 0) {
    await must(db.execute(onConflict(plan.target.map((f) => f.column), 'nothing')(insert)))
    const raw = await must(db.all(read))
    if (raw.length === 0) throw duplicateElsewhere(core, plan)
    return (core.mapper()(raw) as Values[])[0]
  }
  const token = randomUUID()
  // On the first target column, which no assignment writes: it keeps its value, and whether the
  // row hit holds the target's values is recorded first, before an assignment moves the row (its
  // key, when the update writes the primary key).
  const t0 = sql.id([plan.target[0].column])
  const same = sql.join(plan.target.map((f) => sql`${sql.id([f.column])} = ${excluded(f.column)}`), ' AND ')
  const mark = rawExpr(sql`IF((${sql.raw(HIT)} := CONCAT(${token}, IF(${same}, ':1', ':0'))) IS NULL, ${t0}, ${t0})`)
  const assigned = { [plan.target[0].column]: mark, ...upsertAssignments(core, plan.updates, plan.inTarget) }
  await must(db.execute(onConflict(plan.target.map((f) => f.column), assigned)(insert)))
  const checked = withFields(read, { columns: [...read.columns, as(rawExpr(sql`CAST(${sql.raw(HIT)} AS CHAR)`), 'rk_hit')] })
  const raw = await must(db.all<Row>(checked))
  if (raw.length === 0) throw duplicateElsewhere(core, plan)
  const { rk_hit: hit, ...stored } = raw[0]
  // A hit under this call's token is the row the statement updated; none, the row it inserted,
  // which is the row read.
  if (hit === `${token}:0`) throw duplicateElsewhere(core, plan)
  return (core.mapper()([stored]) as Values[])[0]
}

/**
 * The statement of an upsert of validated values, and the read of its row by the conflict key
 * (where the statement returns nothing: no RETURNING, or nothing done on conflict); a
 * ValidationError when the values lack the conflict key.
 */
const upsertWrite = (db: Backend, core: ModelCore, v: Values, options: UpsertOptions): Either<DbError, RowWrite> => {
  const plan = upsertPlan(core, v, options)
  if (plan._tag === 'Left') return plan
  const { target, updates, inTarget } = plan.right
  const base = onConflict(target.map((f) => f.column), updates.length === 0 ? 'nothing' : upsertAssignments(core, updates, inTarget))(values(encodeRow(core, v))(insertInto(core.tableRef)))
  const compile = (q: Parameters<Backend['compile']>[0]): Compiled => {
    const c = db.compile(q)
    if (E.isLeft(c)) throw c.left
    return c.right
  }
  // On a sharded backend the row's shard key too: another shard may hold a row of the same conflict key.
  const cond = allOf([...target.map((f) => targetIs(core, f, v[f.name])), shardCondition(db, core, v)])!
  const orRead = () => compile(where(cond)(select(...storedColumns(db, core, true))(from(core.tableRef))))
  const returned = canReturn(db) ? returningAll(db, core, base) : undefined
  // A sharded backend routes an INSERT given as query data by its row; SQL text it cannot always
  // read (MariaDB's do-nothing upsert is an INSERT ... SELECT).
  if (isSharded(db)) {
    if (returned === undefined) compile(base)
    return right({ write: returned === undefined ? base : returning(...storedColumns(db, core, false))(base), orRead })
  }
  return right({ write: returned ?? compile(base), orRead })
}

/**
 * Whether `upsertMany` runs its rows through multi-row upserts (`upsertRows`): on a dialect with
 * RETURNING of an INSERT, not sharded: `ON CONFLICT (target) DO UPDATE` on PostgreSQL and SQLite,
 * `ON DUPLICATE KEY UPDATE` on MariaDB (see `upsertRunOnDuplicateKey`). MySQL has no RETURNING:
 * there each row is its own `upsert`.
 *
 * @example upsertsInBatch(db) ? upsertRows(db, core, defaults, inputs, {}) : eachRow(...)
 */
export const upsertsInBatch = (db: Backend): boolean =>
  canReturn(db) && !isSharded(db)

/** The session variable a multi-row upsert on MySQL or MariaDB records a row it should not have updated in (see `upsertRunOnDuplicateKey`). */
const ELSEWHERE = '@rk_upsert_elsewhere'

/**
 * The key text that cuts `upsertRows`' runs on MySQL and MariaDB, where a unique key compares text
 * by the column's collation: case, accents and trailing spaces folded away (usually equal there,
 * 'Ab' and 'aB '), so that two rows of one statement rarely meet one stored row. It only has to
 * be coarser than the collation to be cheap: a row of a run it did not cut that meets the row of
 * an earlier one is found after the statement (see `upsertRunOnDuplicateKey`).
 */
const foldedKey = (x: unknown): string | number => {
  if (typeof x !== 'string') return keyOf(x)
  // eslint-disable-next-line no-control-regex
  const plain = /^[\x00-\x7f]*$/.test(x) ? x : x.normalize('NFKD').replace(/\p{M}/gu, '')
  return `\0${plain.toLowerCase().trimEnd()}`
}

/** What `upsertRunOnDuplicateKey` found: the stored rows, or the row (of the run, from 0) that met the stored row of an earlier one. */
type ChunkResult = { readonly rows: Values[] } | { readonly repeat: number }

/** A unique key of the table other than an upsert's conflict target: the index's name and the columns, as the model names them. */
interface OtherKey {
  readonly name: string
  readonly columns: readonly string[]
}

/**
 * The table's unique keys other than the target's whose columns are all written by the rows of
 * a run (`written`): the keys `upsertRunOnDuplicateKey` asks the row met about.
 */
const otherKeys = async (db: Backend, core: ModelCore, plan: UpsertPlan, written: readonly string[]): Promise<readonly OtherKey[]> => {
  const targets = await targetIndexes(db, core, plan.target)
  const byLower = new Map(written.map((c) => [c.toLowerCase(), c]))
  const out: OtherKey[] = []
  for (const [name, lower] of await uniqueKeysOf(db, core)) {
    const columns = lower.map((c) => byLower.get(c))
    if (!targets.has(name) && columns.every((c) => c !== undefined)) out.push({ name, columns: columns as string[] })
  }
  return out
}

/**
 * A run of `upsertRows` on MariaDB (rows setting the same columns): one `INSERT ... VALUES (...),
 * (...) ON DUPLICATE KEY UPDATE ... RETURNING <primary key>` per chunk of `size` rows
 * (`upsertChunks`), then the stored rows read back by those keys.
 *
 * ON DUPLICATE KEY fires on a conflict over any unique key, not only the target's (see
 * `upsertOnTarget`): the first assignment, on the first target column, which no other assignment
 * writes, compares the row met with the proposed row on every target column (by the columns'
 * collations) and, where they differ, records in a session variable (`ELSEWHERE`) this run's
 * token, which of the other unique keys (`others`) the row met holds the proposed values of, and
 * the proposed target. Read back with the rows, a token of this run is a row that met another row
 * on a key other than its target: a UniqueViolation naming that key and the row
 * (`elsewhereError`), thrown so the unit is rolled back. Rows that conflict on nothing are
 * inserted, as ON CONFLICT (target) would.
 *
 * MariaDB runs a multi-row statement row after row, each row's upsert seeing the ones before it,
 * and RETURNING gives the key of the row each wrote (inserted, or met and updated) in VALUES
 * order. RETURNING of the other columns is not taken: for a row met and left unchanged it gives
 * an `ON UPDATE CURRENT_TIMESTAMP` column as if it had been updated. So the rows are read back by
 * key, in the same transaction, once the run is written. Two rows of the run writing one row
 * (keys the collation holds equal that `foldedKey` did not fold) would read back the later one's
 * row for both: the later row is returned (`repeat`, from 0 in the run) and the caller writes
 * again from a cut there. So is the row after one whose row is not found by its key: a later row
 * met it and moved it (an update that writes the primary key).
 *
 * @example await upsertRunOnDuplicateKey(tx, core, plan, others, [{ sku: 'A-1', qty: 3 }], 1000, 0)
 */
const upsertRunOnDuplicateKey = async (db: Backend, core: ModelCore, plan: UpsertPlan, others: readonly OtherKey[], rows: readonly Row[], size: number, offset: number): Promise<ChunkResult> => {
  const token = randomUUID()
  const t0 = sql.id([plan.target[0].column])
  const equal = (columns: readonly string[]) => sql.join(columns.map((c) => sql`${sql.id([c])} = ${excluded(c)}`), ' AND ')
  const held = sql.join(others.map((k) => sql`(${equal(k.columns)}) IS TRUE`))
  const proposed = sql.join(plan.target.map((f) => excluded(f.column)))
  const record = sql`JSON_ARRAY(${token}, JSON_ARRAY(${held}), ${proposed})`
  const mark = rawExpr(sql`IF((${sql.raw(ELSEWHERE)} := IF(${equal(plan.target.map((f) => f.column))}, ${sql.raw(ELSEWHERE)}, ${record})) IS NULL, ${t0}, ${t0})`)
  const assigned = { [plan.target[0].column]: mark, ...upsertAssignments(core, plan.updates, plan.inTarget) }
  const keyColumns = core.primaryKey.map((f) => bareColumn(f.column))
  const written = await upsertChunks(db, rows, size, (chunk) => returning(...keyColumns)(onConflict(plan.target.map((f) => f.column), assigned)(values(chunk as Row[])(insertInto(core.tableRef)))))
  if (written.length !== rows.length) throw dbError('QueryError', `${core.table}: ${rows.length} rows upserted but ${written.length} returned`)
  const single = core.primaryKey.length === 1 ? core.primaryKey[0] : undefined
  const keys: unknown[] = written.map((r) => (single !== undefined ? r[single.column] : Object.fromEntries(core.primaryKey.map((f) => [f.name, r[f.column]]))))
  const at = new Map<string | number, number>()
  for (let i = 0; i < keys.length; i++) {
    const k = keyString(core, keys[i])
    if (at.has(k)) return { repeat: i }
    at.set(k, i)
  }
  const out = new Array<Values>(rows.length)
  const read = Math.max(1, Math.floor((db.dialect.maxParams - 10) / core.primaryKey.length))
  for (let first = 0; first < written.length; first += read) {
    const part = written.slice(first, first + read)
    const cond = single !== undefined
      ? isIn(core.column(single.name), keys.slice(first, first + read))
      : or(...part.map((r) => allOf(core.primaryKey.map((f) => eq(core.column(f.name), r[f.column])))!))
    const raw = await must(db.all<Row>(where(cond)(select(...storedColumns(db, core, true), as(rawExpr(sql`CAST(${sql.raw(ELSEWHERE)} AS CHAR)`), 'rk_elsewhere'))(from(core.tableRef)))))
    const met = raw.length === 0 ? null : raw[0].rk_elsewhere
    if (typeof met === 'string' && met.includes(token)) throw elsewhereError(core, plan, others, rows, JSON.parse(met) as unknown[], offset)
    for (const row of core.mapper()(raw) as Values[]) {
      const i = at.get(keyString(core, keyOfRow(core, row)))
      if (i !== undefined) out[i] = row
    }
  }
  for (let i = 0; i < out.length; i++) {
    if (out[i] !== undefined) continue
    // Moved by a later row of the run that met it and wrote its primary key: written again with
    // this row last in its run, its row read back before that.
    if (i < out.length - 1) return { repeat: i + 1 }
    throw dbError('QueryError', `${core.table}: the upserted row with key ${show(keys[i])} could not be read back`)
  }
  return { rows: out }
}

/**
 * The UniqueViolation of a run of `upsertRunOnDuplicateKey` where a row met another row on a
 * unique key other than its target (`met`, as the statement recorded it: its token, which of
 * `others` the row met holds the proposed values of, the proposed target): that key, and the
 * input row (`rows.N`) where its target's values are those recorded (text and numbers; other
 * values are not compared). Without the key, the table and the target alone, as `upsert` says it.
 */
const elsewhereError = (core: ModelCore, plan: UpsertPlan, others: readonly OtherKey[], chunk: readonly Row[], met: readonly unknown[], offset: number): DbError => {
  const flags = Array.isArray(met[1]) ? (met[1] as unknown[]) : []
  const key = others.find((_, i) => Number(flags[i]) === 1)
  if (key === undefined) return duplicateElsewhere(core, plan)
  const target = met.slice(2)
  const i = chunk.findIndex((r) => plan.target.every((f, j) => r[f.column] === target[j]))
  const row = i < 0 ? 'a row' : `rows.${offset + i}`
  return dbError('UniqueViolation', `${core.table}: ${row} has the same ${key.columns.join(', ')} as a stored row, a unique key other than the upsert's conflict target (${plan.target.map((f) => f.name).join(', ')})`, { table: core.table, constraint: key.name, columns: key.columns, rows: i < 0 ? undefined : [offset + i] })
}

/**
 * `upsertMany` where `upsertsInBatch`: every row validated and its hooks run first (as
 * `createMany` does), then written in input order, all in one transaction, through one
 * multi-row upsert per run of consecutive rows setting the same columns, in chunks below
 * `maxParams`: `INSERT ... VALUES (...), (...) ON CONFLICT (target) DO UPDATE SET ... RETURNING`
 * on PostgreSQL and SQLite, `ON DUPLICATE KEY UPDATE` on MariaDB (`upsertRunOnDuplicateKey`,
 * which refuses a row that meets another row on a unique key other than the target). A run is
 * also cut before a row whose conflict key an earlier row of the run holds, so that a later row
 * updates what the earlier one wrote, as when each row is its own upsert (PostgreSQL refuses a
 * statement that would update one row twice). Rows whose upsert updates nothing (`DO NOTHING`)
 * are written one by one and read back, as `upsert` does. `after*` hooks run once every row is
 * written, in input order. Returns the stored rows, decoded, in input order.
 *
 * @example upsertRows(db, core, defaults, [{ sku: 'A-1', qty: 3 }], { conflict: ['sku'] })
 */
export const upsertRows = (db: Backend, core: ModelCore, defaults: ReadonlySet<string>, inputs: readonly Values[], options: UpsertOptions): TaskEither<DbError, Values[]> =>
  committedThen(db, core, 'upsert', upsertMany(db, core, defaults, inputs, options), theRows)

const upsertMany = (db: Backend, core: ModelCore, defaults: ReadonlySet<string>, inputs: readonly Values[], options: UpsertOptions): TaskEither<DbError, Values[]> => {
  if (inputs.length === 0) return () => Promise.resolve(right([]))
  // Hooks and checks the model does not have are not awaited, row after row (as in `createWith`).
  const hooked = hasHook(core.behaviours, 'beforeValidate') || hasHook(core.behaviours, 'afterValidate') || hasHook(core.behaviours, 'beforeSave') || hasHook(core.behaviours, 'beforeInsert')
  const after = hasAfterWrite(core, 'Insert')
  return namingFields(db, core, inputs, NTH, atomically(db, async (tx) => {
    const prepared: Values[] = []
    if (hooked) {
      for (let i = 0; i < inputs.length; i++) {
        const v = await insertValues(tx, core, defaults, inputs[i], 'upsert')
        if (v._tag === 'Left') return left(isDbError(v.left, 'ValidationError') ? validationError(core.table, prefixed(`rows.${i}.`, v.left.issues)) : v.left)
        prepared.push(v.right)
      }
    } else {
      const issues: FieldIssue[] = []
      checkAll(core, defaults, inputs, prepared, issues)
      if (issues.length > 0) return left(validationError(core.table, issues))
    }
    let out: Values[]
    if (onDuplicateKey(tx)) {
      // Under a savepoint, so that a run where two rows met one stored row is written again from a cut there.
      const cuts = new Set<number>()
      for (;;) {
        let repeat: number | undefined
        const r = await tx.transaction((sp) => attempt(async () => {
          const written = await writeUpserts(sp, core, prepared, options, cuts)
          if (typeof written !== 'number') return right(written)
          repeat = written
          return left(dbError('QueryError', `${core.table}: two rows of one statement met one stored row`))
        }))()
        if (repeat === undefined || cuts.has(repeat)) {
          if (r._tag === 'Left') throw r.left
          out = r.right
          break
        }
        cuts.add(repeat)
      }
    } else {
      const written = await writeUpserts(tx, core, prepared, options, undefined)
      if (typeof written === 'number') throw dbError('QueryError', `${core.table}: two rows of one statement met one stored row`)
      out = written
    }
    if (after) for (let i = 0; i < out.length; i++) out[i] = await afterWrite(core, 'Insert', out[i], ctxOf(tx, core, 'upsert'))
    return right(out)
  }))
}

/** Whether the fields `v` gives (its keys whose values are not undefined) are `names`, in that order. */
const givesOnly = (v: Values, names: readonly string[]): boolean => {
  let n = 0
  for (const k in v) {
    if (v[k] === undefined) continue
    if (names[n] !== k) return false
    n++
  }
  return n === names.length
}

/**
 * The multi-row upserts of a run of `upsertRows` (rows setting the same columns) in chunks of
 * `size` rows, and the rows they return, in order. `statement` makes the upsert of some rows. It
 * is compiled for one row, then for a chunk of `size` rows (and the last, shorter one) once per
 * backend and text of the one-row statement (`templates`, as `insertTemplate` does): the chunks
 * run through `executeBatch` with the rows' values laid out in VALUES order followed by the
 * one-row statement's other parameters (the assignments' values: an update time). Building and
 * compiling a 1000-row statement each time cost more than writing it on SQLite. A statement whose
 * parameters do not lay out so runs as it is, chunk by chunk.
 */
const upsertChunks = async (db: Backend, rows: readonly Row[], size: number, statement: (chunk: readonly Row[]) => InsertNode): Promise<Row[]> => {
  const columns = Object.keys(rows[0])
  const width = columns.length
  const one = db.compile(statement([rows[0]]))
  if (E.isLeft(one)) throw one.left
  const tail = one.right.params.slice(width)
  const template = (count: number): Compiled | undefined => {
    if (one.right.holes !== undefined) return undefined
    let byKey = templates.get(db.compile)
    if (byKey === undefined) templates.set(db.compile, (byKey = new Map()))
    const key = `upsert\0${count}\0${one.right.sql}`
    const known = byKey.get(key)
    if (known !== undefined) return known
    const holes: Row = {}
    for (const c of columns) holes[c] = param(c)
    // Each value of the row a parameter of its own, in the row's place: the one-row statement
    // with holes for the values is the one-row statement (no value written as an expression).
    const single = count === 1 ? undefined : db.compile(statement([holes]))
    if (single !== undefined && (E.isLeft(single) || single.right.sql !== one.right.sql)) return undefined
    const c = db.compile(statement(new Array<Row>(count).fill(holes)))
    if (E.isLeft(c)) throw c.left
    const h = c.right.holes
    const laid = (count !== 1 || c.right.sql === one.right.sql) && h !== undefined && c.right.params.length === count * width + tail.length &&
      h.every((name, i) => (i < count * width ? name === columns[i % width] : name === undefined))
    if (!laid) return undefined
    if (byKey.size >= 100) byKey.clear()
    byKey.set(key, c.right)
    return c.right
  }
  const setOf = (from: number, to: number): unknown[] => {
    const set = new Array<unknown>((to - from) * width + tail.length)
    let p = 0
    for (let i = from; i < to; i++) {
      const r = rows[i]
      for (let j = 0; j < width; j++) set[p++] = r[columns[j]]
    }
    for (let j = 0; j < tail.length; j++) set[p++] = tail[j]
    return set
  }
  const out: Row[] = []
  const full = Math.floor(rows.length / size)
  const rest = rows.length - full * size
  const fullSql = full > 0 ? template(size) : undefined
  const restSql = rest > 0 ? template(rest) : undefined
  if ((full > 0 && fullSql === undefined) || (rest > 0 && restSql === undefined)) {
    for (let from = 0; from < rows.length; from += size) for (const r of await must(db.all<Row>(statement(rows.slice(from, from + size))))) out.push(r)
    return out
  }
  const sets: unknown[][] = []
  for (let i = 0; i < full; i++) sets.push(setOf(i * size, (i + 1) * size))
  if (fullSql !== undefined) for (const r of await must(db.executeBatch<Row>(fullSql, sets))) for (const row of r.rows) out.push(row)
  if (restSql !== undefined) for (const r of await must(db.executeBatch<Row>(restSql, [setOf(full * size, rows.length)]))) for (const row of r.rows) out.push(row)
  return out
}

/**
 * The writes of `upsertRows`, validated rows in input order: the stored rows, decoded; or, on
 * MariaDB, the input row (from 0) that met the stored row of an earlier row of its statement
 * (see `upsertRunOnDuplicateKey`), after which the caller rolls back and cuts a run there too
 * (`cuts`).
 */
const writeUpserts = async (tx: Backend, core: ModelCore, prepared: readonly Values[], options: UpsertOptions, cuts: ReadonlySet<number> | undefined): Promise<Values[] | number> => {
  const scoped = scopeCondition(core, WITH_DELETED) !== undefined
  const byKey = onDuplicateKey(tx)
  const out: Values[] = []
  const columns = byKey ? [] : storedColumns(tx, core, false)
  let run: { start: number; rows: Row[]; keys: Set<string | number>; plan: UpsertPlan; given: string } | undefined
  const flush = async (): Promise<number | undefined> => {
    if (run === undefined) return undefined
    const { start, rows, plan } = run
    run = undefined
    const others = byKey ? await otherKeys(tx, core, plan, Object.keys(rows[0])) : []
    const width = Object.keys(rows[0]).length
    // Below the limit with room for the assignments' own parameters (an update time, MariaDB's token).
    const size = Math.max(1, Math.min(1000, Math.floor((tx.dialect.maxParams - 64) / Math.max(1, width))))
    if (byKey) {
      const r = await upsertRunOnDuplicateKey(tx, core, plan, others, rows, size, start)
      if ('repeat' in r) return start + r.repeat
      for (const row of r.rows) out.push(row)
      return undefined
    }
    const sets = upsertAssignments(core, plan.updates, plan.inTarget)
    const statement = (chunk: readonly Row[]) => returning(...columns)(onConflict(plan.target.map((f) => f.column), sets)(values(chunk as Row[])(insertInto(core.tableRef))))
    const raw = await upsertChunks(tx, rows, size, statement)
    if (raw.length !== rows.length) throw dbError('QueryError', `${core.table}: ${rows.length} rows upserted but ${raw.length} returned`)
    // RETURNING gives the rows in VALUES order (see `insertRows`).
    for (const row of core.mapper()(raw) as Values[]) out.push(row)
    return undefined
  }
  // A plan per set of fields given (the conflict target, the columns to update). Rows mostly give
  // the fields the row before gave: those are compared with its names, and only a row that gives
  // others builds the text that finds their plan.
  const plans = new Map<string, UpsertPlan>()
  let names: string[] = []
  let given = ''
  let plan: UpsertPlan | undefined
  for (let i = 0; i < prepared.length; i++) {
    const v = prepared[i]
    if (plan === undefined || !givesOnly(v, names)) {
      names = Object.keys(v).filter((n) => v[n] !== undefined)
      given = names.join('\0')
      plan = plans.get(given)
      if (plan === undefined) {
        const p = upsertPlan(core, v, options)
        if (p._tag === 'Left') throw p.left
        plans.set(given, (plan = p.right))
      }
    }
    if (scoped) await refuseHiddenConflict(tx, core, v, plan)
    if (plan.updates.length === 0) {
      // DO NOTHING returns no row for a conflict: written and read back one by one, as `upsert` does.
      const repeat = await flush()
      if (repeat !== undefined) return repeat
      if (byKey) {
        out.push(await upsertOnTarget(tx, core, v, plan))
        continue
      }
      const w = upsertWrite(tx, core, v, options)
      if (w._tag === 'Left') throw w.left
      const row = await storedBy(tx, core, w.right)
      if (row === undefined) throw dbError('QueryError', `${core.table}: the upserted row could not be read back`)
      out.push(row)
      continue
    }
    const enc = encodeRow(core, v)
    const key = plan.target.length === 1 ? (byKey ? foldedKey : keyOf)(enc[plan.target[0].column]) : plan.target.map((f) => (byKey ? foldedKey : keyOf)(enc[f.column])).join('\0')
    // The fields given decide both the columns written and the plan: the rows of a run share them.
    if (run !== undefined && (run.given !== given || run.keys.has(key) || cuts?.has(i) === true)) {
      const repeat = await flush()
      if (repeat !== undefined) return repeat
    }
    if (run === undefined) run = { start: i, rows: [], keys: new Set(), plan, given }
    run.rows.push(enc)
    run.keys.add(key)
  }
  const repeat = await flush()
  return repeat ?? out
}

/**
 * `upsert`: insert, or update the row holding the same unique key; returns the stored row,
 * decoded. The write, the read-back and its decoding are one unit, as in `create`: a stored row
 * that does not decode rolls the write back.
 */
export const upsertRow = (db: Backend, core: ModelCore, defaults: ReadonlySet<string>, input: Values, options: UpsertOptions): TaskEither<DbError, Values> =>
  committedThen(db, core, 'upsert', namingFields(db, core, [input], ONE, upsertOne(db, core, defaults, input, options)), oneRow)

const upsertOne = (db: Backend, core: ModelCore, defaults: ReadonlySet<string>, input: Values, options: UpsertOptions): TaskEither<DbError, Values> => {
  const unread = () => left(dbError('QueryError', `${core.table}: the upserted row could not be read back`))
  const stored = (r: Either<DbError, Values | undefined>): Either<DbError, Values> =>
    r._tag === 'Left' || r.right !== undefined ? (r as Either<DbError, Values>) : unread()
  if (hasAfterWrite(core, 'Insert')) {
    return atomically(db, async (tx) => {
      const v = await insertValues(tx, core, defaults, input, 'upsert')
      if (v._tag === 'Left') return v
      let row: Values | undefined
      const plan = upsertPlan(core, v.right, options)
      if (plan._tag === 'Left') return plan
      await refuseHiddenConflict(tx, core, v.right, plan.right)
      if (upsertsOnAnyKey(tx)) {
        row = await upsertOnTarget(tx, core, v.right, plan.right)
      } else {
        const w = upsertWrite(tx, core, v.right, options)
        if (w._tag === 'Left') return w
        row = await storedBy(tx, core, w.right)
      }
      return row === undefined ? unread() : right(await afterWrite(core, 'Insert', row, ctxOf(tx, core, 'upsert')))
    })
  }
  return attempt(async () => {
    const v = await insertValues(db, core, defaults, input, 'upsert')
    if (v._tag === 'Left') return v
    if (upsertsOnAnyKey(db)) {
      const plan = upsertPlan(core, v.right, options)
      if (plan._tag === 'Left') return plan
      return stored(await atomicallyOrAlone(db, async (tx) => {
        await refuseHiddenConflict(tx, core, v.right, plan.right)
        return right(await upsertOnTarget(tx, core, v.right, plan.right))
      }))
    }
    const w = upsertWrite(db, core, v.right, options)
    if (w._tag === 'Left') return w
    if (scopeCondition(core, WITH_DELETED) === undefined) return stored(await writeRow(db, core, w.right))
    // A scope that holds for the upsert: its check and the write one unit.
    const plan = upsertPlan(core, v.right, options)
    if (plan._tag === 'Left') return plan
    return stored(await atomicallyOrAlone(db, async (tx) => {
      await refuseHiddenConflict(tx, core, v.right, plan.right)
      return right(await storedBy(tx, core, w.right))
    }))
  })
}
