/**
 * The DuckDB driver, through `@duckdb/node-api`: one DuckDB instance (a file or `:memory:`) and
 * one connection, served through TaskEither.
 *
 * - Statements run on one connection, one at a time (`connectionLock`): a transaction holds it
 *   from BEGIN to COMMIT, and every other statement waits its turn, so nothing slips into a
 *   transaction that is not its own.
 * - `stream` reads with DuckDB's chunked reader (`connection.stream`, then `fetchChunk`, about
 *   2,048 rows a chunk) and hands out batches of `batchSize`. Outside a transaction it runs on
 *   a connection of its own to the same instance, so the loop body may use the database while
 *   the stream is open. Inside a transaction it runs on the transaction's connection; DuckDB
 *   ends a streaming result when another statement runs on its connection, so a statement run
 *   in the loop body makes the stream fail with a QueryError instead of ending early.
 * - Errors: `@duckdb/node-api` rejects with a plain `Error` whose message is all it carries.
 *   With `errors_as_json` (set on every connection by `onConnect`) that message is JSON naming
 *   DuckDB's exception type (`Constraint`, `Catalog`, `Parser`, `TransactionContext`, ...), and
 *   `classifyDuckDbError` classifies by that type. DuckDB gives constraint errors no code of
 *   their own, so the kind of constraint is told by the fixed sentence DuckDB writes for each.
 * - `knownVersion` asks the library, without I/O, so `compose` specialises the dialect at once.
 *
 * Value policy. In: what the dialect's `toDriver` gives is bound as it is, except a Date (bound
 * as TIMESTAMPTZ, the exact instant), a Uint8Array (BLOB) and a JS array (a LIST; an empty one is
 * the text `[]`, which DuckDB casts to the list type the statement needs). Connections use the
 * UTC time zone, so a Date stored in a TIMESTAMP column keeps its UTC wall-clock time. Out:
 * BOOLEAN booleans; integers numbers, BIGINT and HUGEINT numbers within 2^53 and BigInt beyond
 * (`integers: 'safe'`, the default) or always BigInt (`'bigint'`); DECIMAL the exact decimal
 * text with the column's scale; DOUBLE numbers; TIMESTAMP, TIMESTAMPTZ and DATE Dates (DATE at
 * midnight UTC); JSON parsed; UUID text; BLOB Uint8Array; LIST arrays; STRUCT objects.
 */
import {
  blobValue, DOUBLE, DuckDBConnection, type DuckDBDataChunk, DuckDBInstance, type DuckDBResult, type DuckDBType, DuckDBTypeId, type DuckDBValue, type DuckDBValueConverter,
  type JS, JSDuckDBValueConverter, listValue, ResultReturnType, StatementType, timestampTZValue, version as libraryVersion,
} from '@duckdb/node-api'
import type { Either } from 'fp-ts/lib/Either.js'
// Only recordkit's published entry points (here `recordkit/backend`), as a backend in a package of its own would.
import {
  type Compiled, type Connection, connectionLock, dbError, type DbError, type DbErrorTag, type Driver, fix, isDbError, type QueryResult, type Row,
  withStatement,
} from '../../backend.js'

/** Options of the DuckDB driver. */
export interface DuckDbOptions {
  /** A database file, created if needed, or `':memory:'` (the default). */
  readonly path?: string
  /** DuckDB configuration options for the instance, e.g. `{ threads: '4', access_mode: 'READ_ONLY' }`. */
  readonly config?: Readonly<Record<string, string>>
  /** How BIGINT and HUGEINT come back. Default `'safe'`. */
  readonly integers?: 'safe' | 'bigint'
  /** Replace parameters by `'[redacted]'` in errors. Default false. */
  readonly redactParams?: boolean
  /** Milliseconds a statement or transaction waits for the session while a transaction holds it, before PoolTimeout. Default 30,000. */
  readonly acquireTimeout?: number
}

/** The DuckDB Driver record, with its connection set-up as an overridable field. */
export interface DuckDbDriver extends Driver {
  /** Runs on each new connection before its first statement: SET statements go here. */
  readonly onConnect: (connection: DuckDBConnection) => Promise<void>
  /** The DuckDB library version (`1.5.6`), known without I/O. */
  readonly knownVersion: () => string
}

// ---------------------------------------------------------------- errors

/** DuckDB exception types (`ExceptionTypeToString`) that are not a plain QueryError. */
const TYPE_TAGS: Readonly<Record<string, DbErrorTag>> = {
  TransactionContext: 'TransactionError',
  INTERRUPT: 'StatementTimeout',
  Connection: 'ConnectionError',
  FATAL: 'ConnectionError',
}

/** The sentence DuckDB writes for each kind of constraint (its constraint errors carry no code of their own). */
const CONSTRAINT_KINDS: readonly (readonly [RegExp, DbErrorTag])[] = [
  [/^Duplicate key .* violates (unique|primary key) constraint/, 'UniqueViolation'],
  // Two rows of one statement with the same key.
  [/^PRIMARY KEY or UNIQUE constraint violation/, 'UniqueViolation'],
  [/^NOT NULL constraint failed/, 'NotNullViolation'],
  [/^CHECK constraint failed/, 'CheckViolation'],
  [/foreign key/i, 'ForeignKeyViolation'],
]

/** The exception type and message of a DuckDB error: from its JSON form, or from its `Type Error: ` prefix. */
const parts = (message: string): { type?: string; text: string; subtype?: string } => {
  const brace = message.indexOf('{')
  if (brace >= 0) {
    try {
      const j = JSON.parse(message.slice(brace)) as { exception_type?: string; exception_message?: string; error_subtype?: string }
      if (typeof j.exception_type === 'string') return { type: j.exception_type, text: j.exception_message ?? '', subtype: j.error_subtype }
    } catch {
      // Not JSON after all: read the prefix below.
    }
  }
  const m = /^([A-Za-z][A-Za-z -]*?) Error: ([\s\S]*)$/.exec(message)
  return m === null ? { text: message } : { type: m[1], text: m[2] }
}

/**
 * Classify a DuckDB error by its exception type; a constraint error by the constraint's kind.
 * @example classifyDuckDbError(e)._tag // 'UniqueViolation' for `Constraint Error: Duplicate key ...`
 */
export const classifyDuckDbError = (e: unknown): DbError => {
  if (isDbError(e)) return e
  const { type, text, subtype } = parts(e instanceof Error ? e.message : String(e))
  if (type === undefined) return dbError('QueryError', text, { cause: e })
  const tag = type === 'Constraint' ? (CONSTRAINT_KINDS.find(([re]) => re.test(text))?.[1] ?? 'CheckViolation') : (TYPE_TAGS[type] ?? 'QueryError')
  const fields: Record<string, unknown> = { code: subtype === undefined ? type : `${type}/${subtype}`, cause: e }
  if (tag === 'NotNullViolation') fields.column = /failed: (?:[^.\s]+\.)?(\S+)/.exec(text)?.[1]
  if (tag === 'UniqueViolation') {
    // `Duplicate key "a: 1, b: x" violates ...`: the key's columns, each before its value.
    const key = /^Duplicate key "(.*)" violates/.exec(text)?.[1]
    if (key !== undefined) fields.columns = [...key.matchAll(/(?:^|, )([A-Za-z_][A-Za-z0-9_]*): /g)].map((m) => m[1])
  }
  return dbError(tag as 'QueryError', `${type} Error: ${text}`, fields)
}

// ---------------------------------------------------------------- values

/** A bound value as `@duckdb/node-api` takes it. */
const toDuckDB = (v: unknown): DuckDBValue => {
  if (v instanceof Date) return timestampTZValue(BigInt(v.getTime()) * 1000n)
  if (v instanceof Uint8Array) return blobValue(v)
  if (Array.isArray(v)) return v.length === 0 ? '[]' : listValue(v.map(toDuckDB))
  return v as DuckDBValue
}

/**
 * The parameters and, where the library would guess wrong, their types: it types a whole
 * number as an integer, so one beyond 2^53 (1e300) is bound as DOUBLE instead.
 */
const bind = (params: readonly unknown[]): [DuckDBValue[], DuckDBType[]] => {
  // An entry left undefined is typed by the library from its value.
  const types: DuckDBType[] = []
  const values = params.map((v, i) => {
    if (typeof v === 'number' && !Number.isSafeInteger(v)) types[i] = DOUBLE
    return toDuckDB(v)
  })
  return [values, types]
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER)

const INTEGERS = new Set<DuckDBTypeId>([DuckDBTypeId.BIGINT, DuckDBTypeId.HUGEINT, DuckDBTypeId.UBIGINT, DuckDBTypeId.UHUGEINT])

/** DuckDB values to JS, after the library's own conversion except for DECIMAL and big integers. */
const converter = (integers: 'safe' | 'bigint'): DuckDBValueConverter<unknown> => {
  const convert: DuckDBValueConverter<unknown> = (value, type) => {
    if (value === null) return null
    if (type.typeId === DuckDBTypeId.DECIMAL) return String(value)
    if (INTEGERS.has(type.typeId)) {
      const b = value as bigint
      return integers === 'safe' && b <= MAX_SAFE && b >= -MAX_SAFE ? Number(b) : b
    }
    return JSDuckDBValueConverter(value, type, convert as DuckDBValueConverter<JS>)
  }
  return convert
}

/** Statements whose returned rows are the rows they changed (DML with RETURNING). */
const CHANGES = new Set<StatementType>([StatementType.INSERT, StatementType.UPDATE, StatementType.DELETE, StatementType.MERGE_INTO])

// ---------------------------------------------------------------- the driver

/**
 * A DuckDB driver. The instance and its connection open on first use.
 *
 * @example
 * const db = compose(duckdbNodeApi(), duckdb)                           // in memory
 * const onDisk = compose(duckdbNodeApi({ path: 'analytics.duckdb', config: { threads: '4' } }), duckdb)
 */
export const duckdbNodeApi = (options: DuckDbOptions = {}): DuckDbDriver => {
  const redact = options.redactParams ?? false
  const convert = converter(options.integers ?? 'safe')
  const lock = connectionLock({ acquireTimeout: options.acquireTimeout, name: 'duckdb' })
  // Set by close: the database is never opened again.
  let closed = false
  let opening: Promise<{ readonly instance: DuckDBInstance; readonly main: DuckDBConnection }> | undefined

  return fix<DuckDbDriver>((self) => {
    const connectTo = async (instance: DuckDBInstance): Promise<DuckDBConnection> => {
      const c = await instance.connect()
      await self.onConnect(c)
      return c
    }

    /** The instance and the main connection, opened once; a failure is a ConnectionError and the next call tries again. */
    const open = () => {
      if (closed) return Promise.reject(dbError('ConnectionError', 'the database was closed; it does not reopen', { code: 'BACKEND_CLOSED' }))
      opening ??= (async () => {
        const instance = await DuckDBInstance.create(options.path ?? ':memory:', options.config as Record<string, string> | undefined)
        return { instance, main: await connectTo(instance) }
      })().catch((e: unknown) => {
        opening = undefined
        throw dbError('ConnectionError', `cannot open DuckDB database ${options.path ?? ':memory:'}: ${e instanceof Error ? e.message : String(e)}`, { cause: e })
      })
      return opening
    }

    const failed = (q: Compiled, e: unknown): DbError => withStatement(self.classifyError(e), q.sql, q.params, redact)

    /** Turns a result's chunks into rows: column names made unique, JSON columns parsed. */
    const reader = (result: DuckDBResult) => {
      const names = result.deduplicatedColumnNames()
      const json = names.map((_, i) => result.columnType(i).alias === 'JSON')
      return (chunk: DuckDBDataChunk): Row[] => chunk.convertRows(convert).map((values) => {
        const row: Row = {}
        for (let i = 0; i < names.length; i++) row[names[i]] = json[i] && typeof values[i] === 'string' ? JSON.parse(values[i] as string) : values[i]
        return row
      })
    }

    const runOn = async (c: DuckDBConnection, q: Compiled): Promise<QueryResult> => {
      const result = await (q.params.length === 0 ? c.run(q.sql) : c.run(q.sql, ...bind(q.params)))
      if (result.returnType !== ResultReturnType.QUERY_RESULT) return { rows: [], rowsAffected: result.rowsChanged }
      const read = reader(result)
      const rows: Row[] = []
      for (const chunk of await result.fetchAllChunks()) rows.push(...read(chunk))
      return { rows, rowsAffected: CHANGES.has(result.statementType) ? rows.length : 0 }
    }

    const settle = (c: DuckDBConnection, q: Compiled): Promise<Either<DbError, QueryResult>> =>
      runOn(c, q).then((right) => ({ _tag: 'Right', right }), (e: unknown) => ({ _tag: 'Left', left: failed(q, e) }))

    /** Stream on a connection; `interrupted` tells whether another statement ran on it meanwhile. */
    const iterate = async function* (c: DuckDBConnection, q: Compiled, batchSize: number, interrupted: () => boolean): AsyncGenerator<readonly Row[]> {
      let result: DuckDBResult
      try {
        result = await (q.params.length === 0 ? c.stream(q.sql) : c.stream(q.sql, ...bind(q.params)))
      } catch (e) {
        throw failed(q, e)
      }
      const read = reader(result)
      let batch: Row[] = []
      for (;;) {
        let chunk
        try {
          chunk = await result.fetchChunk()
        } catch (e) {
          throw failed(q, e)
        }
        if (interrupted()) throw failed(q, dbError('QueryError', 'another statement ran on the connection while this stream was open, which ends a DuckDB stream; finish the loop before running other statements in the transaction'))
        if (chunk === null || chunk.rowCount === 0) break
        batch.push(...read(chunk))
        while (batch.length >= batchSize) {
          yield batch.slice(0, batchSize)
          batch = batch.slice(batchSize)
        }
      }
      if (batch.length > 0) yield batch
    }

    /** The main connection, held by a transaction until `release`. */
    const held = (main: DuckDBConnection): Connection => {
      let statements = 0
      let released = false
      return {
        execute: (q) => () => {
          statements++
          return settle(main, q)
        },
        stream: (q, o) => {
          const at = statements
          return iterate(main, q, o?.batchSize ?? 500, () => statements !== at)
        },
        release: async () => {
          if (released) return
          released = true
          lock.release()
        },
      }
    }

    return {
      name: '@duckdb/node-api',

      onConnect: async (c) => {
        // Errors as JSON name DuckDB's exception type apart from the message; Dates are UTC.
        await c.run("SET errors_as_json = true; SET TimeZone = 'UTC'")
      },

      knownVersion: () => libraryVersion().replace(/^v/, ''),

      execute: (q) => () =>
        open().then(({ main }) => lock.run(() => settle(main, q)), (e: unknown) => ({ _tag: 'Left' as const, left: failed(q, e) })).catch((e: unknown) => ({ _tag: 'Left' as const, left: failed(q, e) })),

      stream: (q, o) => ({
        [Symbol.asyncIterator]: () => (async function* () {
          let c: DuckDBConnection
          try {
            c = await connectTo((await open()).instance)
          } catch (e) {
            throw failed(q, e)
          }
          try {
            yield* iterate(c, q, o?.batchSize ?? 500, () => false)
          } finally {
            c.closeSync()
          }
        })(),
      }),

      reserve: () => async () => {
        try {
          const { main } = await open()
          await lock.acquire()
          return { _tag: 'Right', right: held(main) }
        } catch (e) {
          return { _tag: 'Left', left: self.classifyError(e) }
        }
      },

      version: () => async () => ({ _tag: 'Right', right: self.knownVersion() }),

      classifyError: classifyDuckDbError,

      close: () => async () => {
        closed = true
        const o = opening
        opening = undefined
        try {
          if (o !== undefined) {
            const { instance, main } = await o
            main.closeSync()
            instance.closeSync()
          }
          return { _tag: 'Right', right: undefined }
        } catch (e) {
          return { _tag: 'Left', left: self.classifyError(e) }
        }
      },
    }
  })
}
