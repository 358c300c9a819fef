/**
 * What a statement may do on a sharded backend, decided before anything runs: the shards it
 * goes to, or the typed error that refuses it. Pure; `shard.ts` runs what this decides.
 *
 * Two sets of rules:
 * - `plan`, for the sharded backend itself: a statement goes where its shard key says, reads
 *   without a key go to every shard, and whatever could touch the wrong shard, or only some of
 *   the shards it should, is refused (an UPDATE or DELETE without the key, an INSERT of rows of
 *   several shards or of rows whose shard is known only once they are selected, a write in a
 *   CTE, a write in SQL text).
 * - `checkOn`, for `forKey(key)`, the backend of one shard chosen by the caller: anything may run
 *   there, except what can be seen to belong to another shard (a row of another shard's key, a
 *   WHERE fixing another shard's key).
 *
 * Both refuse a write that changes a row's shard key: the row would stay on the shard of its old
 * key, where statements by its new key never look.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { DeleteNode, Expr, InsertNode, MergeNode, RawNode, SelectNode, TableRef, UpdateNode, WithClause } from '../ast.js'
import type { Compilable } from '../dialect.js'
import { type DbError, toDbError, unsupportedError } from '../errors.js'
import { type Compiled, isCompiled } from '../sql.js'
import { assignments, insertRows, isDdl, notReadOnly, perPartAnswer, readSql, type SqlFlavour, type SqlText, verbOf } from './sql-text.js'

/** What the rules need to know of a sharded backend. */
export interface Sharding {
  /** The shard key column of a table, if it is sharded. */
  readonly keyOf: (table: string) => string | undefined
  /** The shard of a key value; throws a DbError when the route gives no shard. */
  readonly shardOf: (key: unknown) => number
  /** How the shards' engine reads SQL text (`flavourOf(dialect)`). */
  readonly flavour: SqlFlavour
}

/** Where a statement goes. */
export type Plan =
  | { readonly to: 'shards'; readonly shards: readonly number[] }
  /** Every shard, rows merged; with the SELECT when its ORDER BY and LIMIT are to be applied over the whole. */
  | { readonly to: 'scatter'; readonly node?: SelectNode }
  /** Every shard in turn (DDL). */
  | { readonly to: 'all' }

/** The rules over one sharded backend. */
export interface ShardRules {
  /** Where a statement given to the sharded backend goes, or why it is refused. */
  readonly plan: (q: Compilable | Compiled, compile: (q: Compilable) => E.Either<DbError, Compiled>) => E.Either<DbError, Plan>
  /** Why a statement may not run on shard `i` through `forKey`, or undefined when it may. */
  readonly checkOn: (i: number, q: Compilable | Compiled, compile: (q: Compilable) => E.Either<DbError, Compiled>) => DbError | undefined
  /** The shard of a compiled INSERT run once per parameter set (a batch), or why it is refused. */
  readonly batchShard: (c: Compiled, sets: readonly (readonly unknown[])[]) => E.Either<DbError, number>
}

const AGGREGATES = new Set(['count', 'sum', 'avg', 'min', 'max', 'array_agg', 'string_agg', 'group_concat', 'json_agg', 'jsonb_agg', 'json_arrayagg', 'json_objectagg', 'bool_and', 'bool_or', 'every', 'stddev', 'variance'])

const hasAggregate = (e: Expr | undefined): boolean => {
  if (e === undefined) return false
  switch (e.kind) {
    case 'func': return AGGREGATES.has(e.name.toLowerCase()) || e.args.some(hasAggregate)
    case 'window': return true
    case 'binary': return hasAggregate(e.left) || hasAggregate(e.right)
    case 'and': case 'or': return e.items.some(hasAggregate)
    case 'not': return hasAggregate(e.expr)
    case 'cast': return hasAggregate(e.expr)
    case 'case': return e.whens.some((w) => hasAggregate(w.when) || hasAggregate(w.then)) || hasAggregate(e.else) || hasAggregate(e.subject)
    default: return false
  }
}

const refuse = (feature: string, detail?: string): DbError => unsupportedError('sharding', feature, detail)


/** A column name without its table prefix, compared as the engines compare column names. */
const sameColumn = (a: string, b: string): boolean => (a.slice(a.lastIndexOf('.') + 1)).toLowerCase() === b.toLowerCase()

/** Whether two key values are the same key (a number and a bigint of one value are). */
const sameKey = (a: unknown, b: unknown): boolean => {
  if (a === b) return true
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime()
  if (typeof a === 'bigint' && typeof b === 'number') return Number.isInteger(b) && BigInt(b) === a
  if (typeof a === 'number' && typeof b === 'bigint') return Number.isInteger(a) && BigInt(a) === b
  return false
}

const show = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v) : v instanceof Date ? v.toISOString() : String(v))

const namesOf = (t: TableRef): string[] => (t.alias === undefined ? [t.name] : [t.name, t.alias])

/** The key values a condition fixes for `column` of `table` (or alias), if it fixes any. */
const keysIn = (e: Expr | undefined, column: string, names: readonly string[]): unknown[] | undefined => {
  if (e === undefined) return undefined
  const isKey = (x: Expr) => x.kind === 'column' && sameColumn(x.name, column) && (x.table === undefined || names.includes(x.table))
  if (e.kind === 'binary' && e.op === '=') {
    if (isKey(e.left) && e.right.kind === 'value') return [e.right.value]
    if (isKey(e.right) && e.left.kind === 'value') return [e.left.value]
  }
  if (e.kind === 'in' && !e.negated && isKey(e.expr) && Array.isArray(e.list) && e.list.length > 0 && e.list.every((x: Expr) => x.kind === 'value')) {
    return e.list.map((x: Expr) => (x as { value: unknown }).value)
  }
  if (e.kind === 'and') {
    for (const item of e.items) {
      const k = keysIn(item, column, names)
      if (k !== undefined) return k
    }
  }
  return undefined
}

const MOVE = 'the row would stay on the shard of its old key, where statements by its new key never look; move the row instead: delete it, then insert it with the new key'

const updateMove = (table: string, column: string, value?: Expr): DbError =>
  refuse(`an UPDATE that sets the shard key ${column} of ${table}${value?.kind === 'value' ? ` to ${show(value.value)}` : ''}`, `${MOVE} (an UPDATE may set the key only to the one value its WHERE fixes)`)

const upsertMove = (table: string, column: string): DbError =>
  refuse(`an upsert whose update sets the shard key ${column} of ${table}`, `a conflicting row would take another key and stay where it is; leave ${column} out of the update (onConflict(target, [...other columns]), the model upsert's \`update\` option), or ${MOVE.slice(MOVE.indexOf('move the row'))}`)

/** A write of the node: an UPDATE setting the key to anything but the one value its WHERE fixes. */
const updateKeyMove = (q: UpdateNode, column: string, keys: readonly unknown[] | undefined): DbError | undefined => {
  for (const [c, v] of q.set) {
    if (!sameColumn(c, column)) continue
    if (keys !== undefined && keys.length === 1 && v.kind === 'value' && sameKey(v.value, keys[0])) continue
    return updateMove(q.table.name, column, v)
  }
  return undefined
}

/**
 * An upsert setting the key. `EXCLUDED.key` changes nothing where the conflict target names the
 * key and the engine honours the target (not MySQL, whose ON DUPLICATE KEY fires on any unique key).
 */
const upsertKeyMove = (q: InsertNode, column: string, flavour: SqlFlavour): DbError | undefined => {
  const oc = q.onConflict
  if (oc === undefined || oc.update === null) return undefined
  for (const [c, v] of oc.update) {
    if (!sameColumn(c, column)) continue
    const noOp = flavour !== 'mysql' && oc.constraint === undefined && oc.target.some((t) => sameColumn(t, column)) && v.kind === 'excluded' && sameColumn(v.column, column)
    if (!noOp) return upsertMove(q.table.name, column)
  }
  return undefined
}

/** The writes among a statement's CTEs: query data, or raw SQL that is not a plain read. */
const cteWrites = (w: WithClause | undefined, compile: (q: Compilable) => E.Either<DbError, Compiled>, flavour: SqlFlavour): (InsertNode | UpdateNode | DeleteNode | RawNode)[] =>
  (w?.ctes ?? []).flatMap((c) => {
    const q = c.query
    if (q.kind === 'insert' || q.kind === 'update' || q.kind === 'delete') return [q]
    if (q.kind === 'raw') {
      const text = compile(q.fragment)
      return E.isRight(text) && notReadOnly(readSql(text.right.sql, flavour)) === undefined ? [] : [q]
    }
    return q.with === undefined ? [] : cteWrites(q.with, compile, flavour)
  })

/** A compiled statement's text, read once and kept (per text, for statements up to 8 kB). */
interface TextShape {
  readonly text: SqlText
  readonly verb: string | undefined
  /** A write of the shard key the text shows. */
  readonly move: DbError | undefined
  /** The shard key's parameter per row of an INSERT of rows, or why the INSERT is not routable. */
  readonly insert: { readonly table: string; readonly column: string; readonly keyAt: readonly (number | undefined)[] } | string | undefined
}

const KEEP_TEXT = 8192
const KEEP_SHAPES = 512

/**
 * The rules of a sharded backend.
 *
 * @example
 * const rules = shardRules({ keyOf: (t) => (t === 'orders' ? 'tenant' : undefined), shardOf: (k) => hashRoute(k, 2), flavour: 'standard' })
 * rules.plan(pipe(update('orders'), set({ tenant: 'globex' }), where({ tenant: 'acme', id: 1 })), db.compile) // Left UnsupportedFeature
 */
export const shardRules = (s: Sharding): ShardRules => {
  const { keyOf, shardOf, flavour } = s
  const shapes = new Map<string, TextShape>()

  const shapeOf = (sql: string): TextShape => {
    const kept = shapes.get(sql)
    if (kept !== undefined) return kept
    const text = readSql(sql, flavour)
    const verb = verbOf(text)
    let move: DbError | undefined
    for (const a of assignments(text)) {
      const table = a.tables.find((t) => {
        const k = keyOf(t)
        return k !== undefined && sameColumn(a.column, k)
      })
      if (table === undefined) continue
      const column = keyOf(table)!
      if (a.conflict === undefined) move = updateMove(table, column)
      // EXCLUDED.key with the key in the conflict target changes nothing (ON DUPLICATE KEY names no target).
      else if (!(a.conflict.target?.some((t) => sameColumn(t, column)) === true && a.excluded !== undefined && sameColumn(a.excluded, column))) move = upsertMove(table, column)
      if (move !== undefined) break
    }
    let insert: TextShape['insert']
    if (verb === 'INSERT' || verb === 'REPLACE') {
      const rows = insertRows(text)
      if (typeof rows === 'string') insert = rows
      else {
        const column = keyOf(rows.table)
        const at = column === undefined ? -1 : rows.columns.findIndex((c) => sameColumn(c, column))
        insert = column === undefined ? `${rows.table} has no shard key (keyOf gave none)` : at < 0 ? `no value for the shard key ${column}` : { table: rows.table, column, keyAt: rows.rows.map((r) => r[at]) }
      }
    }
    const shape: TextShape = { text, verb, move, insert }
    if (sql.length <= KEEP_TEXT) {
      if (shapes.size >= KEEP_SHAPES) shapes.clear()
      shapes.set(sql, shape)
    }
    return shape
  }

  /** The shards of some key values, sorted, each once; NULL is refused (it is no shard's key). */
  const shardsOf = (keys: readonly unknown[], column: string, table: string): E.Either<DbError, number[]> => {
    if (keys.some((k) => k === null || k === undefined)) return E.left(refuse(`a row of ${table} whose shard key ${column} is NULL`, 'a NULL key belongs to no shard and no statement by key would find the row'))
    return E.right([...new Set(keys.map(shardOf))].sort((a, b) => a - b))
  }

  /** One shard, or the refusal of a statement whose rows are on several. */
  const oneShard = (what: string, shards: readonly number[]): E.Either<DbError, Plan> =>
    shards.length === 1 ? E.right({ to: 'shards', shards }) : E.left(refuse(`${what} spanning shards ${shards.join(', ')}`, 'it would not be atomic across shards; run one statement per shard'))

  const rowsOnShards = (shards: readonly number[]): E.Either<DbError, Plan> =>
    shards.length === 1 ? E.right({ to: 'shards', shards }) : E.left(refuse('an INSERT whose rows belong to different shards', `shards ${shards.join(', ')}: insert each shard's rows on their own`))

  /** The key values of a compiled INSERT's rows run with `params`. */
  const insertKeys = (ins: Exclude<TextShape['insert'], string | undefined>, params: readonly unknown[]): E.Either<DbError, unknown[]> => {
    const keys: unknown[] = []
    for (const p of ins.keyAt) {
      if (p === undefined || p >= params.length) return E.left(refuse(`an INSERT into ${ins.table} whose shard key ${ins.column} is not a parameter`, 'give the key as a parameter of every row'))
      keys.push(params[p])
    }
    return E.right(keys)
  }

  const planText = (c: Compiled): E.Either<DbError, Plan> => {
    const shape = shapeOf(c.sql)
    const { text } = shape
    if (text.unclear !== undefined) return E.left(refuse(`SQL text the shard router cannot read safely (${text.unclear})`, 'run it on one shard with forKey(key)'))
    if (text.statements > 1) return E.left(refuse('several statements in one SQL text', 'each would need its own shard; run them one by one'))
    if (shape.move !== undefined) return E.left(shape.move)
    if (shape.insert !== undefined) {
      if (typeof shape.insert === 'string') return E.left(refuse(`an INSERT in SQL text the shard router cannot route (${shape.insert})`, 'an INSERT routes by its shard key, a parameter of each row of INSERT INTO t (columns) VALUES (...); insert through the query builder or a model, or on one shard with forKey(key)'))
      const keys = insertKeys(shape.insert, c.params)
      if (E.isLeft(keys)) return keys
      const shards = shardsOf(keys.right, shape.insert.column, shape.insert.table)
      return E.isLeft(shards) ? shards : rowsOnShards(shards.right)
    }
    if (isDdl(text)) return E.right({ to: 'all' })
    const notRead = notReadOnly(text)
    if (notRead !== undefined) return E.left(refuse('a write without a shard key', `SQL text carries no key (${notRead}); run it on one shard with forKey(key), or write it with the query builder; what must run on every shard (migrations, maintenance) runs on each of db.shards`))
    const perPart = perPartAnswer(text)
    if (perPart !== undefined) return E.left(refuse(`${perPart} in SQL text read from several shards`, 'each shard would answer for its own rows, and their rows are only put one after another; give the key through the query builder, merge with the query builder (it applies ORDER BY, LIMIT and OFFSET over the whole), or read per shard with forKey(key)'))
    return E.right({ to: 'scatter' })
  }

  const cteRefusal = (w: WithClause | undefined, compile: (q: Compilable) => E.Either<DbError, Compiled>): DbError | undefined =>
    cteWrites(w, compile, flavour).length === 0 ? undefined : refuse('a write in a WITH clause (a data-modifying CTE) on a sharded backend', 'run the write as a statement of its own, or on one shard with forKey(key)')

  const planInsert = (q: InsertNode): E.Either<DbError, Plan> => {
    const table = q.table.name
    const column = keyOf(table)
    if (column === undefined) return E.left(refuse(`an INSERT into ${table}`, 'the table has no shard key (keyOf gave none); use forKey(key)'))
    if (q.query !== undefined) return E.left(refuse(`INSERT ... SELECT into ${table}`, 'the shard of each row is known only once it is selected; select the rows, then insert each shard\'s rows on their own, or run it on one shard with forKey(key)'))
    const at = q.columns.findIndex((c) => sameColumn(c, column))
    if (at < 0) return E.left(refuse(`an INSERT into ${table} without its shard key ${column}`, 'give the key as a value in every row'))
    const move = upsertKeyMove(q, column, flavour)
    if (move !== undefined) return E.left(move)
    const keys: unknown[] = []
    for (const row of q.rows) {
      const cell = row[at]
      if (cell === undefined || cell.kind !== 'value') return E.left(refuse(`an INSERT into ${table} whose shard key ${column} is not a plain value`, 'give the key as a value in every row'))
      keys.push(cell.value)
    }
    const shards = shardsOf(keys, column, table)
    return E.isLeft(shards) ? shards : rowsOnShards(shards.right)
  }

  const planChange = (q: UpdateNode | DeleteNode): E.Either<DbError, Plan> => {
    const table = q.table.name
    const what = q.kind === 'update' ? 'UPDATE' : 'DELETE'
    const column = keyOf(table)
    if (column === undefined) return E.left(refuse(`an ${what} of ${table}`, 'the table has no shard key (keyOf gave none); use forKey(key)'))
    const keys = keysIn(q.where, column, namesOf(q.table))
    const move = q.kind === 'update' ? updateKeyMove(q, column, keys) : undefined
    if (move !== undefined) return E.left(move)
    if (keys === undefined) return E.left(refuse(`an ${what} of ${table} without its shard key in WHERE`, 'it would have to run on every shard, not atomically; use forKey(key) per shard'))
    const shards = shardsOf(keys, column, table)
    return E.isLeft(shards) ? shards : oneShard(`an ${what}`, shards.right)
  }

  const planSelect = (q: SelectNode & { readonly from: TableRef }): E.Either<DbError, Plan> => {
    const column = keyOf(q.from.name)
    const keys = column === undefined ? undefined : keysIn(q.where, column, namesOf(q.from))
    if (keys !== undefined && column !== undefined) {
      const shards = shardsOf(keys, column, q.from.name)
      if (E.isLeft(shards)) return shards
      if (shards.right.length === 1) return E.right({ to: 'shards', shards: shards.right })
    }
    if (q.groupBy.length > 0 || q.having !== undefined || q.distinct || q.distinctOn !== undefined || q.columns.some((c) => hasAggregate(c.expr))) {
      return E.left(refuse('GROUP BY, DISTINCT or aggregates over several shards', 'each shard would answer for its own rows; fix the shard key in WHERE, or aggregate per shard with forKey'))
    }
    if (q.withTies === true) return E.left(refuse('LIMIT ... WITH TIES over several shards'))
    if (typeof q.limit === 'object' || typeof q.offset === 'object') return E.left(refuse('a named LIMIT or OFFSET parameter over several shards'))
    return E.right({ to: 'scatter', node: q })
  }

  const plan: ShardRules['plan'] = (q, compile) => {
    try {
      if (!isCompiled(q) && 'kind' in q) {
        if (q.kind === 'insert' || q.kind === 'update' || q.kind === 'delete' || q.kind === 'select') {
          const cte = cteRefusal(q.with, compile)
          if (cte !== undefined) return E.left(cte)
        }
        if (q.kind === 'insert') return planInsert(q)
        if (q.kind === 'update' || q.kind === 'delete') return planChange(q)
        if (q.kind === 'select' && q.from?.kind === 'table') return planSelect(q as SelectNode & { readonly from: TableRef })
      }
      const c = isCompiled(q) ? E.right(q) : compile(q)
      return E.isLeft(c) ? c : planText(c.right)
    } catch (e) {
      return E.left(toDbError(e))
    }
  }

  // ---------------------------------------------------------------- forKey(key): one shard

  const elsewhere = (i: number, what: string, shards: readonly number[]): DbError | undefined => {
    const other = shards.filter((x) => x !== i)
    return other.length === 0 ? undefined : refuse(`${what} for shard ${other.join(', ')} on the backend of shard ${i} (forKey)`, 'it would not find or would strand its rows there; run it through the sharded backend, or forKey of its own key')
  }

  const checkInsertOn = (i: number, q: InsertNode): DbError | undefined => {
    const table = q.table.name
    const column = keyOf(table)
    if (column === undefined) return undefined
    const move = upsertKeyMove(q, column, flavour)
    if (move !== undefined) return move
    const at = q.columns.findIndex((c) => sameColumn(c, column))
    if (at < 0 || q.query !== undefined) return undefined // the key is the table's default, or selected: not seen here
    const keys = q.rows.flatMap((row) => (row[at]?.kind === 'value' ? [(row[at] as { value: unknown }).value] : []))
    const shards = shardsOf(keys, column, table)
    return E.isLeft(shards) ? shards.left : elsewhere(i, `an INSERT of rows of ${table}`, shards.right)
  }

  const checkChangeOn = (i: number, q: UpdateNode | DeleteNode | (SelectNode & { readonly from: TableRef })): DbError | undefined => {
    const table = q.kind === 'select' ? q.from : q.table
    const column = keyOf(table.name)
    if (column === undefined) return undefined
    const keys = keysIn(q.where, column, namesOf(table))
    const move = q.kind === 'update' ? updateKeyMove(q, column, keys) : undefined
    if (move !== undefined) return move
    if (keys === undefined) return undefined
    const shards = shardsOf(keys, column, table.name)
    return E.isLeft(shards) ? shards.left : elsewhere(i, `a ${q.kind.toUpperCase()} of ${table.name}`, shards.right)
  }

  const checkMergeOn = (i: number, q: MergeNode): DbError | undefined => {
    const column = keyOf(q.table.name)
    if (column === undefined) return undefined
    for (const w of q.whens) {
      const a = w.action
      if (a.kind === 'update' && a.set.some(([c]) => sameColumn(c, column))) return updateMove(q.table.name, column)
      if (a.kind === 'insert') {
        const at = a.columns.findIndex((c) => sameColumn(c, column))
        const v = at < 0 ? undefined : a.values[at]
        if (v?.kind === 'value') {
          const shards = shardsOf([v.value], column, q.table.name)
          const no = E.isLeft(shards) ? shards.left : elsewhere(i, `a MERGE inserting rows of ${q.table.name}`, shards.right)
          if (no !== undefined) return no
        }
      }
    }
    return undefined
  }

  const checkTextOn = (i: number, c: Compiled): DbError | undefined => {
    const shape = shapeOf(c.sql)
    if (shape.text.unclear !== undefined) return undefined // nothing can be seen in it; the caller chose the shard
    if (shape.move !== undefined) return shape.move
    if (shape.insert === undefined || typeof shape.insert === 'string') return undefined
    const keys: unknown[] = []
    for (const p of shape.insert.keyAt) if (p !== undefined && p < c.params.length) keys.push(c.params[p])
    const shards = shardsOf(keys, shape.insert.column, shape.insert.table)
    return E.isLeft(shards) ? shards.left : elsewhere(i, `an INSERT of rows of ${shape.insert.table}`, shards.right)
  }

  const checkOn: ShardRules['checkOn'] = (i, q, compile) => {
    try {
      if (!isCompiled(q) && 'kind' in q) {
        if (q.kind === 'insert' || q.kind === 'update' || q.kind === 'delete' || q.kind === 'select' || q.kind === 'merge') {
          for (const w of cteWrites(q.with, compile, flavour)) {
            const no = checkOn(i, w, compile)
            if (no !== undefined) return no
          }
        }
        if (q.kind === 'insert') return checkInsertOn(i, q)
        if (q.kind === 'update' || q.kind === 'delete') return checkChangeOn(i, q)
        if (q.kind === 'select' && q.from?.kind === 'table') return checkChangeOn(i, q as SelectNode & { readonly from: TableRef })
        if (q.kind === 'merge') return checkMergeOn(i, q)
      }
      const c = isCompiled(q) ? E.right(q) : compile(q)
      return E.isLeft(c) ? undefined : checkTextOn(i, c.right) // what does not compile fails on the shard, with its error
    } catch (e) {
      return toDbError(e)
    }
  }

  const batchShard: ShardRules['batchShard'] = (c, sets) => {
    try {
      const shape = shapeOf(c.sql)
      if (shape.text.unclear !== undefined || shape.text.statements > 1 || shape.insert === undefined) return E.left(refuse('executeBatch of a statement other than an INSERT on a sharded backend', 'use forKey(key).executeBatch'))
      if (shape.move !== undefined) return E.left(shape.move)
      if (typeof shape.insert === 'string') return E.left(refuse(`an INSERT in SQL text the shard router cannot route (${shape.insert})`, 'use forKey(key).executeBatch'))
      const keys: unknown[] = []
      for (const set of sets) {
        const k = insertKeys(shape.insert, set)
        if (E.isLeft(k)) return k
        keys.push(...k.right)
      }
      if (keys.length === 0) return E.right(0) // nothing runs
      const shards = shardsOf(keys, shape.insert.column, shape.insert.table)
      if (E.isLeft(shards)) return shards
      const p = rowsOnShards(shards.right)
      return E.isLeft(p) ? p : E.right(shards.right[0])
    } catch (e) {
      return E.left(toDbError(e))
    }
  }

  return { plan, checkOn, batchShard }
}
