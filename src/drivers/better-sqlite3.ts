/**
 * The better-sqlite3 driver: one synchronous SQLite connection, served through TaskEither.
 *
 * - Statements are prepared once per SQL text and cached (LRU, `statementCacheSize`).
 * - `stmt.reader` decides `all` (rows) or `run` (changes, and `insertId`). `insertId` is the
 *   rowid of the last row an INSERT or REPLACE inserted, as SQLite's last_insert_rowid() gives
 *   it, and only when that statement inserted a row: an UPDATE, a DELETE, an INSERT that
 *   inserted nothing (OR IGNORE, DO NOTHING) or an upsert that updated has none (the
 *   connection's last insert rowid would be an earlier statement's). What a statement is, is read
 *   from its first keyword past any comments (`/* tag *\/ INSERT ...` is an INSERT). Before an
 *   upsert with `DO UPDATE` (or a `WITH ... INSERT`) the driver sets last_insert_rowid() to a
 *   mark no generated rowid has, through one row of a temporary table of its own
 *   (`temp.recordkit_last_insert_mark`), so an inserted row is told from an update exactly, even
 *   when its rowid equals the previous last insert rowid (measured: about 2 us more per such
 *   upsert without RETURNING; other statements pay nothing). A connection that cannot write
 *   that table (`PRAGMA query_only`) compares with the rowid read before instead, which misses
 *   an inserted row whose rowid equals it.
 * - Statements can also run without a Promise (`sync`): `compose` makes `Backend.sync` of it,
 *   which prepared queries and models use while no transaction elsewhere holds the connection.
 * - The single connection is serialized: while a transaction holds it, every other call
 *   waits its turn, so interleaved async code cannot slip into a transaction.
 * - Streams on a file database read through a read-only connection of their own, so the
 *   loop body can keep using the database; on `:memory:` the stream holds the one connection
 *   until it ends, and statements in the loop body wait for it (PoolTimeout after
 *   `acquireTimeout`). A stream inside a transaction runs on the transaction's connection, and
 *   statements on the transaction are refused until it ends (see `Backend.stream`).
 * - File databases get WAL and a busy timeout; foreign keys are enforced.
 *
 * Value policy (what comes back from SQLite):
 * - integers: `'safe'` (default) returns numbers, and BigInt only where a value is beyond
 *   2^53; `'bigint'` always BigInt; `'number'` always number (precision may be lost). With
 *   `'safe'`, a read-only query reads integers as numbers and runs again reading them exactly
 *   only when a value beyond 2^53 came back (so common results allocate no BigInt); writes and
 *   streams read them exactly from the start.
 * - a whole number within 2^53 is bound as an INTEGER (better-sqlite3 binds every number as a
 *   REAL, which a text column stored as '5.0'), any other number as a REAL;
 * - booleans are stored as 0/1 and read back as 0/1; dates are stored as UTC
 *   `YYYY-MM-DD HH:MM:SS[.fff]` text (the form `CURRENT_TIMESTAMP` writes, so they compare and
 *   sort with it);
 *   JSON objects and arrays as text; Uint8Array as BLOB (read back as Buffer); decimals
 *   should travel as strings in TEXT columns, since a NUMERIC column would round them.
 *   Model codecs (`recordkit` `codecs`) turn these back into booleans, Dates and objects.
 */
import type Database from 'better-sqlite3'
import { clientLibrary } from './client-library.js'
import type { BetterSqlite3Options } from './options.js'
import type { IOEither } from 'fp-ts/lib/IOEither.js'
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import type { Connection, Driver, QueryResult, Row, StreamOptions } from '../driver.js'
import { dbError, type DbError, type DbErrorTag, isDbError, withStatement } from '../errors.js'
import { plainObjects } from '../objects.js'
import { fix } from '../record.js'
import { connectionLock } from './connection-lock.js'
import { fromStart } from './sql-start.js'
import type { Compiled } from '../sql.js'
import { adaptedBefore, checkParams, stringProblem } from '../values.js'


export type { BetterSqlite3Options } from './options.js'

/** The better-sqlite3 Driver record, with its connection set-up as an overridable field. */
export interface BetterSqlite3Driver extends Driver {
  /** Called once when the connection opens: pragmas go here (override with `extend`). */
  readonly onConnect: (db: Database.Database) => void
  /** The underlying connection (opened on first use). */
  readonly database: () => Database.Database
  /** The SQLite library version, known without I/O. */
  readonly knownVersion: () => string
}

const CODE_TAGS: Readonly<Record<string, DbErrorTag>> = {
  SQLITE_CONSTRAINT_UNIQUE: 'UniqueViolation',
  SQLITE_CONSTRAINT_PRIMARYKEY: 'UniqueViolation',
  SQLITE_CONSTRAINT_ROWID: 'UniqueViolation',
  SQLITE_CONSTRAINT_FOREIGNKEY: 'ForeignKeyViolation',
  SQLITE_CONSTRAINT_NOTNULL: 'NotNullViolation',
  SQLITE_CONSTRAINT_CHECK: 'CheckViolation',
  SQLITE_BUSY: 'LockTimeout',
  SQLITE_BUSY_SNAPSHOT: 'SerializationFailure',
  SQLITE_BUSY_TIMEOUT: 'LockTimeout',
  SQLITE_BUSY_RECOVERY: 'LockTimeout',
  SQLITE_LOCKED: 'LockTimeout',
  SQLITE_LOCKED_SHAREDCACHE: 'LockTimeout',
  SQLITE_INTERRUPT: 'StatementTimeout',
  SQLITE_CANTOPEN: 'ConnectionError',
  SQLITE_NOTADB: 'ConnectionError',
  SQLITE_CORRUPT: 'ConnectionError',
  SQLITE_READONLY: 'QueryError',
  SQLITE_TOOBIG: 'ValueTooLarge',
}

/**
 * Classify a better-sqlite3 error by its extended result code.
 * @example classifySqliteError(e)._tag // 'UniqueViolation' for SQLITE_CONSTRAINT_UNIQUE
 */
export const classifySqliteError = (e: unknown): DbError => {
  if (isDbError(e)) return e
  const code = typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined
  const message = e instanceof Error ? e.message : String(e)
  if (typeof code === 'string') {
    // A RESTRICT foreign key is enforced by a trigger: SQLITE_CONSTRAINT_TRIGGER, with the
    // foreign key's own message.
    const restricted = code === 'SQLITE_CONSTRAINT_TRIGGER' && message.startsWith('FOREIGN KEY constraint failed')
    const tag = restricted ? 'ForeignKeyViolation' : CODE_TAGS[code] ?? (code.startsWith('SQLITE_CONSTRAINT') ? 'CheckViolation' : code.startsWith('SQLITE_BUSY') ? 'LockTimeout' : 'QueryError')
    const fields: Record<string, unknown> = { code, cause: e }
    if (tag === 'NotNullViolation') fields.column = /NOT NULL constraint failed: (?:[^.]+\.)?(\S+)/.exec(message)?.[1]
    if (tag === 'UniqueViolation' || tag === 'CheckViolation') fields.constraint = /constraint failed: (.+)$/.exec(message)?.[1]
    if (tag === 'UniqueViolation' && typeof fields.constraint === 'string') {
      // SQLITE_CONSTRAINT_UNIQUE / PRIMARYKEY name the key as `table.col, table.col`.
      const parts = fields.constraint.split(', ').map((p) => /^(.+)\.([^.]+)$/.exec(p))
      if (parts.every((p) => p !== null)) {
        fields.table = parts[0]![1]
        fields.columns = parts.map((p) => p![2])
      }
    }
    return dbError(tag as 'QueryError', message, fields)
  }
  // better-sqlite3 throws TypeError/RangeError for bad bindings (wrong count, unsupported type).
  return dbError('QueryError', message, { cause: e })
}

/** Why better-sqlite3 cannot bind a value as it is (see `checkParams`), or undefined. */
const sqliteParamProblem = (v: unknown): string | undefined => {
  switch (typeof v) {
    case 'string': return stringProblem(v)
    case 'number': return Number.isNaN(v) ? 'SQLite stores NaN as NULL' : undefined
    case 'bigint': return undefined
    case 'object':
      if (v === null || Buffer.isBuffer(v)) return undefined
      return 'better-sqlite3 binds numbers, strings, bigints, Buffers and null (compile it through the dialect, which converts or refuses it)'
    case 'undefined': return 'undefined is no value (bind null)'
    default: return `better-sqlite3 binds numbers, strings, bigints, Buffers and null, not ${typeof v === 'boolean' ? 'booleans' : typeof v + 's'}`
  }
}

const READS = /^(SELECT|WITH|PRAGMA|EXPLAIN|VALUES)\b/i

/** Two rowids alike, whether read as numbers or BigInts. */
const sameRowid = (a: unknown, b: unknown): boolean =>
  a === b || (typeof a !== typeof b && (typeof a === 'number' || typeof a === 'bigint') && (typeof b === 'number' || typeof b === 'bigint') && BigInt(a) === BigInt(b))

/** Statements that insert rows: INSERT and REPLACE (read from their first keyword, past comments). */
const INSERTS = /^(?:INSERT|REPLACE)\b/i
/** A statement that changes the schema. */
const DDL = /^(?:CREATE|DROP|ALTER)\b/i
/** A WITH clause that may lead to an INSERT or REPLACE (or only name the words: then it costs a mark). */
const WITH_INSERT = /^WITH\b[\s\S]*\b(?:INSERT|REPLACE)\b/i
/**
 * An upsert that may update instead of inserting, which leaves last_insert_rowid as it was.
 * `ON CONFLICT ... DO UPDATE` has both words whatever comments stand between them; text that
 * only names them (in a string, say) costs a mark, never a wrong key.
 */
const UPSERT_UPDATE = /\bCONFLICT\b[\s\S]*\bUPDATE\b/i

/** What a statement that returns no rows says of its insert (read once, when it is prepared). */
const NO_INSERT = 0
/** Every change it makes is an inserted row. */
const INSERT = 1
/** It may change rows without inserting (an upsert that updates): told apart by a mark (`markLastInsert`). */
const MAYBE = 2
type Inserts = typeof NO_INSERT | typeof INSERT | typeof MAYBE

/** What `start` (a statement from its first keyword, `fromStart`) says of its insert. */
const insertsOf = (start: string): Inserts => {
  if (INSERTS.test(start)) return UPSERT_UPDATE.test(start) ? MAYBE : INSERT
  return WITH_INSERT.test(start) ? MAYBE : NO_INSERT
}

/**
 * The temporary table whose one row sets the connection's last_insert_rowid() to `LAST_INSERT_MARK`
 * before a statement that may change rows without inserting any: a rowid SQLite never generates
 * (it generates them from 1 up), so when the statement leaves last_insert_rowid() at the mark it
 * inserted nothing, and otherwise it inserted the row with the rowid it reports, whatever that
 * rowid is (another table's last rowid, a deleted row's rowid used again). Made on the first
 * such statement of a connection (and again if a rolled-back transaction took it away).
 */
const MARK_TABLE = 'CREATE TEMP TABLE IF NOT EXISTS recordkit_last_insert_mark (x)'
const LAST_INSERT_MARK = -(2n ** 63n)
const MARK = 'INSERT OR REPLACE INTO temp.recordkit_last_insert_mark (rowid) VALUES (-9223372036854775807 - 1)'

interface Entry {
  readonly stmt: Database.Statement
  readonly reader: boolean
  readonly query: boolean
  /** Whether the statement inserts rows (an upsert may update instead): when it reports an insertId. */
  readonly inserts: Inserts
  /**
   * With `integers: 'safe'`, a read-only query reads integers as numbers (`fast`) and only when a
   * value may have lost precision reads again through `stmt`, which reads them as BigInts.
   */
  readonly fast?: Database.Statement
  /**
   * The result columns of `fast` that may hold an integer: every column but those whose declared
   * type gives TEXT or REAL affinity (SQLite stores an integer there as text or a double).
   */
  readonly integral?: readonly string[]
  /** Whether rows read through `fast` may hold an integer that lost precision (see `mayHaveLost`). */
  readonly lost?: (rows: readonly Row[]) => boolean
  /** The same for one row. */
  readonly lostRow?: (row: Row) => boolean
  /**
   * `fast` reading rows as arrays, made into objects by generated code (see `arrayReader`); made
   * on the statement's first read (`all` or first row), null where the statement does not qualify.
   */
  arrays: ArrayReader | null | undefined
  /**
   * For a plain multi-row INSERT (`insertColumns`): which of its columns take a whole number as
   * it is (INTEGER, NUMERIC or REAL affinity store a REAL 5.0 as 5, or as 5.0 either way), so only
   * the others' whole numbers are bound as BigInt (see `integral`).
   */
  readonly columns?: { readonly named: InsertNames; epoch: number; value: InsertColumns | undefined }
  /** Whether the statement changes the schema (CREATE, DROP, ALTER): running it moves `schemaEpoch`. */
  readonly ddl: boolean
}

/** The columns of a plain multi-row INSERT: `width` per row, and which need whole numbers as INTEGER. */
interface InsertColumns {
  readonly width: number
  readonly integral: readonly boolean[]
  /** Whether any column needs it (when none does, the parameters are bound as they are). */
  readonly any: boolean
}

/** A declared column type's affinity, by SQLite's rules (section 3.1 of its datatype page), in their order. */
type Affinity = 'INTEGER' | 'TEXT' | 'BLOB' | 'REAL' | 'NUMERIC'
const affinityOf = (declared: string): Affinity => {
  const t = declared.toUpperCase()
  if (t.includes('INT')) return 'INTEGER'
  if (t.includes('CHAR') || t.includes('CLOB') || t.includes('TEXT')) return 'TEXT'
  if (t === '' || t.includes('BLOB')) return 'BLOB'
  if (t.includes('REAL') || t.includes('FLOA') || t.includes('DOUB')) return 'REAL'
  return 'NUMERIC'
}

/** Whether a column of this declared type may hold an INTEGER value (no type: an expression). */
const mayHoldInteger = (declared: string | null): boolean => {
  if (declared === null) return true
  const a = affinityOf(declared)
  return a !== 'TEXT' && a !== 'REAL'
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER)
const MAX_SAFE_NUMBER = Number.MAX_SAFE_INTEGER

/**
 * Whether a row read with integers as numbers may hold one that lost precision: a number beyond
 * 2^53 in magnitude (every double that large is an integer, so a REAL that large counts too, and
 * is read again for nothing). `integral` names the columns to look at; undefined: every column.
 */
const mayHaveLost = (r: Row, integral: readonly string[] | undefined): boolean => {
  if (integral !== undefined) {
    for (let j = 0; j < integral.length; j++) {
      const v = r[integral[j]]
      if (typeof v === 'number' && (v > MAX_SAFE_NUMBER || v < -MAX_SAFE_NUMBER)) return true
    }
    return false
  }
  for (const k in r) {
    const v = r[k]
    if (typeof v === 'number' && (v > MAX_SAFE_NUMBER || v < -MAX_SAFE_NUMBER)) return true
  }
  return false
}

/**
 * `mayHaveLost` for one statement's integral columns, as straight-line code reading each column
 * by name (the generic loop reads them by a variable key on every row); the generic loop where
 * generating code is refused (a Content Security Policy) or the columns are not known.
 */
const lostRowCheck = (integral: readonly string[] | undefined): ((row: Row) => boolean) => {
  if (integral === undefined || integral.length === 0 || integral.length > 64) return (r) => mayHaveLost(r, integral)
  const tests = integral.map((c) => `(typeof (v = r[${JSON.stringify(c)}]) === 'number' && (v > M || v < -M))`)
  try {
    return new Function('M', `"use strict"; return function lostRow(r) { let v; return ${tests.join(' ||\n    ')}; };`)(MAX_SAFE_NUMBER) as (row: Row) => boolean
  } catch {
    return (r) => mayHaveLost(r, integral)
  }
}

/**
 * A read-only query's rows read as arrays (`stmt.raw(true)`) and made into objects in JavaScript,
 * one plain object per row from code generated for its column names (by a constructor, not a
 * literal: see `plainObjects`). better-sqlite3 makes each
 * row object property by property in C++, which costs more than the query itself for wide or
 * many rows: 3,000 rows of 5 columns took 3.5-5.4 ms as objects against 2.1-2.8 ms as arrays
 * made into the same objects here (Drizzle reads its rows as arrays too).
 */
interface ArrayReader {
  readonly stmt: Database.Statement
  readonly objects: (rows: readonly unknown[][]) => Row[]
  /** One row (`get`'s), or undefined for none. */
  readonly object: (row: readonly unknown[] | undefined) => Row | undefined
}

/**
 * The `ArrayReader` of a statement, or null where the objects could differ from better-sqlite3's
 * own: a statement whose text holds `*` (its columns may change when another connection alters
 * the table; only explicit columns keep their places), a column named `__proto__` (an object
 * literal would set the prototype instead), more than 200 columns, or a place that forbids
 * generated code.
 */
const arrayReader = (text: string, fast: Database.Statement, prepare: (text: string) => Database.Statement): ArrayReader | null => {
  if (text.includes('*')) return null
  let names: string[]
  try {
    names = fast.columns().map((c) => c.name)
  } catch {
    return null
  }
  if (names.length === 0 || names.length > 200 || names.includes('__proto__')) return null
  const { declare, make } = plainObjects(names, 'Row')
  const row = make(names.map((_, i) => `a[${i}]`))
  let made: Pick<ArrayReader, 'objects' | 'object'>
  try {
    made = new Function(`"use strict"; ${declare} return {
      objects(rows) { const out = new Array(rows.length); for (let i = 0; i < rows.length; i++) { const a = rows[i]; out[i] = ${row} } return out },
      object(a) { return a === undefined ? undefined : ${row} },
    }`)() as Pick<ArrayReader, 'objects' | 'object'>
  } catch {
    return null
  }
  return { stmt: prepare(text).safeIntegers(false).raw(true), objects: made.objects, object: made.object }
}

/** Whether any of the rows may hold an integer that lost precision (`lostRow` of each). */
const anyLost = (lostRow: (row: Row) => boolean) => (rows: readonly Row[]): boolean => {
  for (let i = 0; i < rows.length; i++) if (lostRow(rows[i])) return true
  return false
}

/** The names of a statement's result columns that may hold an integer; undefined (check every column) if SQLite cannot tell. */
const integralColumns = (stmt: Database.Statement): readonly string[] | undefined => {
  try {
    const names = new Set<string>()
    for (const c of stmt.columns()) if (mayHoldInteger(c.type)) names.add(c.name)
    return [...names]
  } catch {
    return undefined
  }
}

/**
 * BigInts within 2^53 become numbers, in place. `Number(v)` is exact exactly when the result is a
 * safe integer, which is cheaper to test than two BigInt comparisons.
 */
const narrowIntegers = (rows: Row[]): Row[] => {
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]
    for (const k in r) {
      const v = r[k]
      if (typeof v === 'bigint') {
        const n = Number(v)
        if (Number.isSafeInteger(n)) r[k] = n
      }
    }
  }
  return rows
}

/**
 * better-sqlite3 walks an array of parameters but takes a lone argument directly, which is cheaper
 * (the common point select by key has one). Only a scalar goes alone: an object there would be
 * read as named parameters.
 */
const lone = (params: readonly unknown[]): boolean => params.length === 1 && typeof params[0] !== 'object'
const get = (s: Database.Statement, params: readonly unknown[]): unknown => (lone(params) ? s.get(integral(params[0])) : s.get(boundIntegers(params)))
const all = (s: Database.Statement, params: readonly unknown[]): unknown[] => (lone(params) ? s.all(integral(params[0])) : s.all(boundIntegers(params)))
const runOf = (s: Database.Statement, params: readonly unknown[]): Database.RunResult => (lone(params) ? s.run(integral(params[0])) : s.run(boundIntegers(params)))

/**
 * A whole number bound as an SQLite INTEGER: better-sqlite3 binds every JS number as a REAL, so
 * 5 written to a text column was stored as '5.0' (PostgreSQL and MySQL store '5'), and
 * `name || ?` gave 'Ann5.0'. A BigInt is bound as an INTEGER; results are read as before.
 */
const integral = (v: unknown): unknown => (typeof v === 'number' && Number.isSafeInteger(v) ? BigInt(v) : v)

/** The parameters with their whole numbers as BigInt (see `integral`); the same array when there are none. */
const boundIntegers = (params: readonly unknown[]): unknown[] => {
  for (let i = 0; i < params.length; i++) {
    if (typeof params[i] === 'number' && Number.isSafeInteger(params[i])) return params.map(integral)
  }
  return params as unknown[]
}

/**
 * The parameters of a plain multi-row INSERT with the whole numbers of the columns that need it
 * as BigInt (`InsertColumns`); the same array when none does. Most bulk inserts write numbers
 * into INTEGER columns only: a BigInt per value there would cost a fifth of the insert, for the
 * same stored value.
 */
const boundColumns = (params: readonly unknown[], columns: InsertColumns): unknown[] => {
  if (!columns.any) return params as unknown[]
  const { width, integral: needs } = columns
  let out: unknown[] | undefined
  for (let i = 0; i < params.length; i++) {
    const v = params[i]
    if (typeof v === 'number' && needs[i % width] && Number.isSafeInteger(v)) {
      out ??= params.slice()
      out[i] = BigInt(v)
    }
  }
  return out ?? (params as unknown[])
}

/**
 * A plain multi-row INSERT as the dialect writes it: `INSERT INTO "t" ("a", "b") VALUES (?, ?),
 * (?, ?)`, every value a parameter, nothing after the rows but a RETURNING without parameters.
 * Its table (possibly `"schema"."t"`) and column names; undefined for any other statement.
 */
const QUOTED = '"(?:[^"]|"")*"'
const INSERT_HEAD = new RegExp(`^INSERT INTO ((?:${QUOTED}\\.)?${QUOTED}) \\((${QUOTED}(?:, ${QUOTED})*)\\) VALUES `)
const unquote = (q: string): string => q.slice(1, -1).replace(/""/g, '"')
interface InsertNames {
  readonly schema?: string
  readonly table: string
  readonly columns: readonly string[]
}
const insertColumnNames = (text: string): InsertNames | undefined => {
  const m = INSERT_HEAD.exec(text)
  if (m === null) return undefined
  const columns = m[2].match(new RegExp(QUOTED, 'g'))!.map(unquote)
  const row = `(${columns.map(() => '?').join(', ')})`
  let at = m[0].length
  if (!text.startsWith(row, at)) return undefined
  at += row.length
  const next = `, ${row}`
  while (text.startsWith(next, at)) at += next.length
  const tail = text.slice(at)
  if (tail !== '' && !(tail.startsWith(' RETURNING ') && !tail.includes('?'))) return undefined
  const names = m[1].match(new RegExp(QUOTED, 'g'))!.map(unquote)
  return names.length === 2 ? { schema: names[0], table: names[1], columns } : { table: names[0], columns }
}

/**
 * Whether a column of this declared type stores a whole number bound as a REAL (5.0) as the
 * number it is: INTEGER and NUMERIC affinity make it the INTEGER 5, REAL affinity keeps 5.0,
 * which a BigInt would become there too. TEXT affinity stores '5.0', no type (BLOB affinity) and
 * a STRICT table's ANY keep the REAL: there it is bound as a BigInt.
 */
const takesWholeNumbers = (declared: string): boolean => {
  const a = affinityOf(declared)
  return a !== 'TEXT' && a !== 'BLOB' && declared.toUpperCase() !== 'ANY'
}

/**
 * A better-sqlite3 driver. The connection opens on first use.
 *
 * @example
 * const db = compose(betterSqlite3({ filename: ':memory:' }), sqlite)
 * const onDisk = compose(betterSqlite3({ filename: 'app.db', busyTimeout: 10_000 }), sqlite)
 */
export const betterSqlite3 = (options: BetterSqlite3Options): BetterSqlite3Driver => {
  const integers = options.integers ?? 'safe'
  const cacheSize = options.statementCacheSize ?? 500
  const redact = options.redactParams ?? false
  let conn: Database.Database | undefined
  // Set by close: the connection is never opened again.
  let closed = false
  const isFile = options.filename !== ':memory:' && options.filename !== '' && !options.filename.startsWith('file::memory:')
  /**
   * Prepared statements by SQL text, with whether each returns rows (`reader`, read once: it is a
   * call into the library) and whether it is a query (not DML with RETURNING).
   */
  const cache = new Map<string, Entry>()

  // One connection, one holder at a time: a transaction (or a stream on :memory:) holds it.
  const lock = connectionLock({ acquireTimeout: options.acquireTimeout, name: 'better-sqlite3' })

  return fix<BetterSqlite3Driver>((self) => {
    const database = (): Database.Database => {
      if (conn === undefined) {
        if (closed) throw dbError('ConnectionError', `the SQLite database ${options.filename} was closed; it does not reopen`, { code: 'BACKEND_CLOSED' })
        try {
          conn = new (clientLibrary<typeof Database>('better-sqlite3', 'better-sqlite3', 'SQLite'))(options.filename, { readonly: options.readonly ?? false, timeout: options.busyTimeout ?? 5000 })
        } catch (e) {
          throw dbError('ConnectionError', `cannot open SQLite database ${options.filename}: ${(e as Error).message}`, { cause: e, code: (e as { code?: string }).code })
        }
        if (integers !== 'number') conn.defaultSafeIntegers(true)
        self.onConnect(conn)
      }
      return conn
    }

    const openReader = (): Database.Database => {
      database()
      try {
        const r = new (clientLibrary<typeof Database>('better-sqlite3', 'better-sqlite3', 'SQLite'))(options.filename, { readonly: true, timeout: options.busyTimeout ?? 5000 })
        if (integers !== 'number') r.defaultSafeIntegers(true)
        return r
      } catch (e) {
        throw self.classifyError(e)
      }
    }

    const prepare = (text: string): Entry => {
      let entry = cache.get(text)
      if (entry === undefined) {
        const stmt = database().prepare(text)
        const reader = stmt.reader
        // Integers as BigInts cost an allocation each: a read-only query reads them as numbers
        // and falls back to BigInts only when a value may have lost precision (mayHaveLost).
        const fast = integers === 'safe' && reader && stmt.readonly ? database().prepare(text).safeIntegers(false) : undefined
        // `WITH ... DELETE ... RETURNING` starts like a query but writes: SQLite knows which.
        const integral = fast === undefined ? undefined : integralColumns(fast)
        const lostRow = fast === undefined ? undefined : lostRowCheck(integral)
        const start = fromStart(text, false)
        const inserts = insertsOf(start)
        const named = inserts === NO_INSERT ? undefined : insertColumnNames(text)
        const columns = named === undefined ? undefined : { named, epoch: schemaEpoch, value: insertColumnsOf(named) }
        entry = { stmt, reader, query: READS.test(start) && stmt.readonly, inserts: reader ? NO_INSERT : inserts, fast, integral, lost: lostRow === undefined ? undefined : anyLost(lostRow), lostRow, arrays: undefined, columns, ddl: DDL.test(start) }
        if (cache.size >= cacheSize) cache.delete(cache.keys().next().value as string)
        cache.set(text, entry)
      }
      return entry
    }

    /**
     * Moved by every statement that changes the schema through this driver: the column types an
     * INSERT's entry read (`insertColumnsOf`) are read again after it (a table dropped and made
     * again with other types).
     */
    let schemaEpoch = 0

    /** The parameters of a statement with its `columns`, read again if the schema changed since. */
    const boundFor = (columns: NonNullable<Entry['columns']>, params: readonly unknown[]): unknown[] => {
      if (columns.epoch !== schemaEpoch) {
        columns.value = insertColumnsOf(columns.named)
        columns.epoch = schemaEpoch
      }
      return columns.value === undefined ? boundIntegers(params) : boundColumns(params, columns.value)
    }

    /**
     * What `boundColumns` needs of a plain multi-row INSERT (`insertColumnNames`), from the
     * declared types of its table's columns; undefined for a table or column the connection does
     * not describe (every whole number is then a BigInt).
     */
    const insertColumnsOf = (named: InsertNames): InsertColumns | undefined => {
      try {
        const schema = named.schema === undefined ? '' : `"${named.schema.replace(/"/g, '""')}".`
        const info = database().prepare(`PRAGMA ${schema}table_xinfo("${named.table.replace(/"/g, '""')}")`).all() as { name: string; type: string }[]
        const types = new Map(info.map((c) => [c.name.toLowerCase(), c.type]))
        const needs = named.columns.map((c) => {
          const t = types.get(c.toLowerCase())
          return t === undefined ? undefined : !takesWholeNumbers(t)
        })
        if (needs.some((x) => x === undefined)) return undefined
        return { width: named.columns.length, integral: needs as boolean[], any: needs.some((x) => x) }
      } catch {
        return undefined
      }
    }

    /** The connection's last insert rowid, as `run` reports it (same integer mode). */
    let lastRowidStmt: Database.Statement | undefined
    const lastInsertRowid = (): unknown => (lastRowidStmt ??= database().prepare('SELECT last_insert_rowid()').pluck()).get()

    /**
     * Set last_insert_rowid() to `LAST_INSERT_MARK` (see `MARK_TABLE`); false when the connection
     * cannot write its temporary table (`PRAGMA query_only`, say): the caller then compares
     * with the rowid read before, which misses an inserted row whose rowid equals it.
     */
    let markStmt: Database.Statement | undefined
    const markLastInsert = (): boolean => {
      try {
        (markStmt ??= database().prepare(MARK)).run()
        return true
      } catch {
        try {
          database().exec(MARK_TABLE)
          markStmt = database().prepare(MARK)
          markStmt.run()
          return true
        } catch {
          markStmt = undefined
          return false
        }
      }
    }

    /** Run now, synchronously; the caller makes sure the connection is ours. */
    const runNow = (q: Compiled): QueryResult => {
      const problem = adaptedBefore(q) ? undefined : checkParams(q.params, sqliteParamProblem)
      if (problem !== undefined) throw withStatement(problem, q.sql, q.params, redact)
      try {
        const entry = prepare(q.sql)
        const { stmt, reader, query, inserts, fast, lost, lostRow, columns, ddl } = entry
        if (ddl) schemaEpoch++
        if (fast !== undefined && lost !== undefined && lostRow !== undefined) {
          let arrays = entry.arrays
          if (arrays === undefined) arrays = entry.arrays = arrayReader(q.sql, fast, (text) => database().prepare(text))
          if (q.first === true && query) {
            const row = (arrays === null ? get(fast, q.params) : arrays.object(get(arrays.stmt, q.params) as unknown[] | undefined)) as Row | undefined
            if (row === undefined) return { rows: [], rowsAffected: 0 }
            return { rows: lostRow(row) ? narrowIntegers([get(stmt, q.params) as Row]) : [row], rowsAffected: 0 }
          }
          const rows = arrays === null ? all(fast, q.params) as Row[] : arrays.objects(all(arrays.stmt, q.params) as unknown[][])
          return { rows: lost(rows) ? narrowIntegers(all(stmt, q.params) as Row[]) : rows, rowsAffected: 0 }
        }
        if (reader) {
          if (q.first === true && query) {
            const row = get(stmt, q.params) as Row | undefined
            return { rows: row === undefined ? [] : integers === 'safe' ? narrowIntegers([row]) : [row], rowsAffected: 0 }
          }
          const rows = (columns === undefined ? all(stmt, q.params) : stmt.all(boundFor(columns, q.params))) as Row[]
          // A reader that is not a query is DML with RETURNING: one returned row per changed row.
          return { rows: integers === 'safe' ? narrowIntegers(rows) : rows, rowsAffected: query ? 0 : rows.length }
        }
        // An upsert that updated leaves the connection's last insert rowid as it was: mark it first
        // (or, where no mark can be set, read it first).
        const before = inserts === MAYBE ? (markLastInsert() ? LAST_INSERT_MARK : lastInsertRowid()) : undefined
        const r = columns === undefined ? runOf(stmt, q.params) : stmt.run(boundFor(columns, q.params))
        if (inserts === NO_INSERT || r.changes === 0 || (inserts === MAYBE && sameRowid(r.lastInsertRowid, before))) return { rows: [], rowsAffected: r.changes }
        return { rows: [], rowsAffected: r.changes, insertId: typeof r.lastInsertRowid === 'bigint' && integers === 'safe' && r.lastInsertRowid <= MAX_SAFE ? Number(r.lastInsertRowid) : r.lastInsertRowid }
      } catch (e) {
        throw withStatement(self.classifyError(e), q.sql, q.params, redact)
      }
    }

    /**
     * `SyncDriver.kept.first`: the statement's cache entry is kept (taken again only if the
     * connection changed), and a plain query reads its row straight through the statement
     * that reads integers as numbers; anything else takes `runNow`'s general path.
     */
    const firstOf = (text: string) => {
      let entry: Entry | undefined
      let on: Database.Database | undefined
      return (params: readonly unknown[], adapted?: boolean): Row | undefined => {
        if (on === undefined || on !== conn || entry === undefined) {
          const q = { sql: text, params, first: true }
          // The first run (or one after the connection changed) takes the general path, which
          // also checks the parameters and reports a statement that does not prepare.
          const rows = runNow(q).rows
          entry = cache.get(text)
          on = conn
          return rows[0]
        }
        if (adapted !== true) {
          const problem = checkParams(params, sqliteParamProblem)
          if (problem !== undefined) throw withStatement(problem, text, params, redact)
        }
        const { fast, lostRow, arrays } = entry
        if (fast === undefined || lostRow === undefined || !entry.query || arrays === undefined) return runNow({ sql: text, params, first: true }).rows[0]
        try {
          const row = (arrays === null ? get(fast, params) : arrays.object(get(arrays.stmt, params) as unknown[] | undefined)) as Row | undefined
          return row === undefined || !lostRow(row) ? row : narrowIntegers([get(entry.stmt, params) as Row])[0]
        } catch (e) {
          throw withStatement(self.classifyError(e), text, params, redact)
        }
      }
    }

    const settle = (q: Compiled): Promise<import('fp-ts/lib/Either.js').Either<DbError, QueryResult>> => {
      try {
        return Promise.resolve({ _tag: 'Right', right: runNow(q) })
      } catch (e) {
        return Promise.resolve({ _tag: 'Left', left: e as DbError })
      }
    }

    const execute = (q: Compiled): TaskEither<DbError, QueryResult> => () => {
      if (!lock.held()) return settle(q)
      return lock.run(() => settle(q)).catch((e: unknown) => ({ _tag: 'Left' as const, left: self.classifyError(e) }))
    }

    const iterate = async function* (q: Compiled, batchSize: number, on?: Database.Database): AsyncGenerator<readonly Row[]> {
      let it: IterableIterator<unknown>
      const problem = checkParams(q.params, sqliteParamProblem)
      if (problem !== undefined) throw withStatement(problem, q.sql, q.params, redact)
      try {
        it = (on === undefined ? prepare(q.sql).stmt : on.prepare(q.sql)).iterate(boundIntegers(q.params))
      } catch (e) {
        throw withStatement(self.classifyError(e), q.sql, q.params, redact)
      }
      try {
        let batch: Row[] = []
        for (;;) {
          let next: IteratorResult<unknown>
          try {
            next = it.next()
          } catch (e) {
            throw withStatement(self.classifyError(e), q.sql, q.params, redact)
          }
          if (next.done) break
          batch.push(next.value as Row)
          if (batch.length >= batchSize) {
            yield integers === 'safe' ? narrowIntegers(batch) : batch
            batch = []
          }
        }
        if (batch.length > 0) yield integers === 'safe' ? narrowIntegers(batch) : batch
      } finally {
        it.return?.()
      }
    }

    const now = (q: Compiled): import('fp-ts/lib/Either.js').Either<DbError, QueryResult> => {
      try {
        return { _tag: 'Right', right: runNow(q) }
      } catch (e) {
        return { _tag: 'Left', left: e as DbError }
      }
    }

    const syncExecute = (q: Compiled): IOEither<DbError, QueryResult> => () => now(q)
    const heldExecute = (q: Compiled): TaskEither<DbError, QueryResult> => () => settle(q)
    const heldConnection: Connection = {
      execute: heldExecute,
      sync: { of: heldExecute, execute: (q) => () => now(q) },
      stream: (q, o?: StreamOptions) => iterate(q, o?.batchSize ?? 500),
      release: async () => lock.release(),
    }

    return {
      name: 'better-sqlite3',
      onConnect: (db) => {
        if (options.filename !== ':memory:' && options.filename !== '' && !(options.readonly ?? false) && (options.wal ?? true)) {
          db.pragma('journal_mode = WAL')
        }
        if (options.foreignKeys ?? true) db.pragma('foreign_keys = ON')
      },
      database,
      knownVersion: () => (database().prepare('SELECT sqlite_version() AS v').get() as { v: string }).v,

      execute,

      sync: {
        of: execute,
        ready: () => !lock.held(),
        execute: syncExecute,
        kept: { of: syncExecute, first: firstOf },
      },

      stream: (q, o) => ({
        [Symbol.asyncIterator]: () => (async function* () {
          if (isFile) {
            // A file database streams on a read-only connection of its own (WAL lets it read a
            // consistent snapshot while the main connection keeps writing), so the loop body
            // may use the database while the stream is open.
            const reader = openReader()
            try {
              yield* iterate(q, o?.batchSize ?? 500, reader)
            } finally {
              reader.close()
            }
            return
          }
          // An in-memory database has one connection: the stream holds it until it ends.
          await lock.acquire()
          try {
            yield* iterate(q, o?.batchSize ?? 500)
          } finally {
            lock.release()
          }
        })(),
      }),

      reserve: () => async () => {
        try {
          await lock.acquire()
        } catch (e) {
          return { _tag: 'Left', left: self.classifyError(e) }
        }
        try {
          database()
        } catch (e) {
          lock.release()
          return { _tag: 'Left', left: self.classifyError(e) }
        }
        return { _tag: 'Right', right: heldConnection }
      },

      version: () => async () => {
        try {
          return { _tag: 'Right', right: self.knownVersion() }
        } catch (e) {
          return { _tag: 'Left', left: self.classifyError(e) }
        }
      },

      classifyError: classifySqliteError,

      close: () => async () => {
        try {
          closed = true
          cache.clear()
          lastRowidStmt = undefined
          conn?.close()
          conn = undefined
          return { _tag: 'Right', right: undefined }
        } catch (e) {
          return { _tag: 'Left', left: self.classifyError(e) }
        }
      },
    }
  })
}
