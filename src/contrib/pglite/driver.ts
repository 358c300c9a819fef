/**
 * The PGlite driver: PostgreSQL compiled to WebAssembly, embedded in the process
 * (`@electric-sql/pglite`), served through TaskEither. It is used with the PostgreSQL dialect
 * unchanged, `compose(pglite(), postgres)`: an embedded PostgreSQL for tests and demos on a
 * machine with no server.
 *
 * - PGlite is one session. Statements run through `connectionLock`: a transaction holds the
 *   session from BEGIN to COMMIT and every other statement waits its turn.
 * - `stream` reads through a PostgreSQL cursor, `FETCH`ing `batchSize` rows at a time. Inside a
 *   transaction the cursor lives in it. Outside one, the cursor is declared `WITH HOLD` so it
 *   outlives the statement's own transaction: each FETCH is then a statement of its own and
 *   the loop body may use the database between batches. (PostgreSQL computes a `WITH HOLD`
 *   cursor's rows when it is declared and keeps them inside PGlite until it is closed; the JS
 *   side holds one batch at a time.)
 * - Errors are PGlite's `DatabaseError`s, which carry the SQLSTATE: classified by it as on any
 *   PostgreSQL server, keeping the constraint and column names.
 * - Starting PGlite runs `initdb` in WebAssembly (seconds). To start many databases fast, start
 *   one, `dumpDataDir()` it, and give the dump as `client: { loadDataDir }` to the others.
 *
 * Values are PostgreSQL's (the dialect's `toPostgres` decides what goes in). What comes back is
 * PGlite's parsing: `int8` a number within 2^53 and BigInt beyond, `numeric` text, `json`/`jsonb`
 * parsed, `bytea` Uint8Array, `timestamptz` and `date` Dates, arrays JS arrays; `timestamp`
 * (without time zone) is read as UTC wall-clock time here, and the session uses the UTC time zone
 * (option `timeZone`), as the postgres.js driver does.
 */
import { PGlite, type PGliteOptions, type Results } from '@electric-sql/pglite'
import type { Either } from 'fp-ts/lib/Either.js'
// Only recordkit's published entry points (here `recordkit/backend`), as a backend in a package of its own would.
import {
  type Compiled, type Connection, connectionLock, dbError, type DbError, type Driver, fix, isDbError, type QueryResult, type Row, sqlstateTag,
  uniqueKeyColumns, withStatement,
} from '../../backend.js'

/** Options of the PGlite driver. */
export interface PGliteDriverOptions {
  /** Where the database lives: a directory, or in memory when absent (`memory://`). */
  readonly dataDir?: string
  /** Any other PGlite option: `loadDataDir` (start from a dump), `extensions`, `debug`, ... */
  readonly client?: PGliteOptions
  /** The session time zone. Default `'UTC'`. */
  readonly timeZone?: string
  /** Replace parameters by `'[redacted]'` in errors. Default false. */
  readonly redactParams?: boolean
  /** Milliseconds a statement or transaction waits for the session while a transaction holds it, before PoolTimeout. Default 30,000. */
  readonly acquireTimeout?: number
}

/** The PGlite Driver record, with its set-up as an overridable field. */
export interface PGliteDriver extends Driver {
  /** Runs once when the database opens, before its first statement (SET statements go here). */
  readonly onConnect: (db: PGlite) => Promise<void>
  /** The PGlite instance, opened on first use. */
  readonly database: () => Promise<PGlite>
}

/**
 * Classify a PGlite error by its SQLSTATE, keeping the constraint or column PostgreSQL names.
 * @example classifyPGliteError(e)._tag // 'UniqueViolation' for SQLSTATE 23505
 */
export const classifyPGliteError = (e: unknown): DbError => {
  if (isDbError(e)) return e
  const pg = (typeof e === 'object' && e !== null ? e : {}) as { code?: unknown; constraint?: string; column?: string; table?: string; detail?: string }
  const code = typeof pg.code === 'string' ? pg.code : undefined
  const tag = (code === undefined ? undefined : sqlstateTag(code)) ?? 'QueryError'
  const fields: Record<string, unknown> = { code, cause: e }
  if (tag === 'NotNullViolation') fields.column = pg.column
  if (tag === 'UniqueViolation' || tag === 'ForeignKeyViolation' || tag === 'CheckViolation') fields.constraint = pg.constraint
  if (tag === 'UniqueViolation') {
    fields.table = pg.table
    fields.columns = uniqueKeyColumns(pg.detail)
  }
  return dbError(tag as 'QueryError', e instanceof Error ? e.message : String(e), fields)
}

const COUNTED = new Set(['INSERT', 'UPDATE', 'DELETE', 'MERGE', 'COPY'])

/** Rows a statement changed, by its command tag (PGlite's `affectedRows` adds up a whole script). */
const affected = (r: Results): number => (r.command !== undefined && COUNTED.has(r.command) ? r.rowCount ?? 0 : 0)

/** `timestamp` (oid 1114) as UTC wall-clock time; PGlite would read it in the process's zone. */
const PARSERS = { 1114: (x: string) => new Date(`${x.replace(' ', 'T')}Z`) }

/**
 * A PGlite driver. The database opens on first use.
 *
 * @example
 * const db = await run(connect(pglite(), postgres))                        // in memory
 * const kept = await run(connect(pglite({ dataDir: './.pgdata' }), postgres))
 */
export const pglite = (options: PGliteDriverOptions = {}): PGliteDriver => {
  const redact = options.redactParams ?? false
  const lock = connectionLock({ acquireTimeout: options.acquireTimeout, name: '@electric-sql/pglite' })
  // Set by close: the database is never opened again.
  let closed = false
  let opening: Promise<PGlite> | undefined
  let cursors = 0

  return fix<PGliteDriver>((self) => {
    const database = (): Promise<PGlite> => {
      if (closed) return Promise.reject(dbError('ConnectionError', 'the database was closed; it does not reopen', { code: 'BACKEND_CLOSED' }))
      opening ??= (async () => {
        const db = await PGlite.create({ ...options.client, ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }) })
        await self.onConnect(db)
        return db
      })().catch((e: unknown) => {
        opening = undefined
        throw dbError('ConnectionError', `cannot open PGlite database: ${e instanceof Error ? e.message : String(e)}`, { cause: e })
      })
      return opening
    }

    const failed = (q: Compiled, e: unknown): DbError => withStatement(self.classifyError(e), q.sql, q.params, redact)

    /** One statement; without parameters through the simple protocol, so a script of several runs too (the last one's rows). */
    const runOn = async (db: PGlite, q: Compiled): Promise<QueryResult> => {
      if (q.params.length > 0) {
        const r = await db.query<Row>(q.sql, q.params as unknown[], { parsers: PARSERS })
        return { rows: r.rows, rowsAffected: affected(r) }
      }
      const all: Results[] = await db.exec(q.sql, { parsers: PARSERS })
      let n = 0
      for (const r of all) n += affected(r)
      return { rows: (all.length === 0 ? [] : all[all.length - 1].rows) as Row[], rowsAffected: n }
    }

    const settle = (db: PGlite, q: Compiled): Promise<Either<DbError, QueryResult>> =>
      runOn(db, q).then((right) => ({ _tag: 'Right', right }), (e: unknown) => ({ _tag: 'Left', left: failed(q, e) }))

    /** Rows through a cursor; `run` executes each cursor statement (on the held session, or waiting for it). */
    const iterate = async function* (q: Compiled, batchSize: number, hold: boolean, run: (q: Compiled) => Promise<Either<DbError, QueryResult>>): AsyncGenerator<readonly Row[]> {
      const name = `rk_cursor_${++cursors}`
      const declared = await run({ sql: `DECLARE ${name} NO SCROLL CURSOR${hold ? ' WITH HOLD' : ''} FOR ${q.sql}`, params: q.params })
      if (declared._tag === 'Left') throw withStatement(declared.left, q.sql, q.params, redact)
      try {
        for (;;) {
          const batch = await run({ sql: `FETCH FORWARD ${batchSize} FROM ${name}`, params: [] })
          if (batch._tag === 'Left') throw withStatement(batch.left, q.sql, q.params, redact)
          if (batch.right.rows.length > 0) yield batch.right.rows
          if (batch.right.rows.length < batchSize) return
        }
      } finally {
        // Best effort: in a transaction that failed, the cursor is gone with it.
        await run({ sql: `CLOSE ${name}`, params: [] })
      }
    }

    return {
      name: '@electric-sql/pglite',

      onConnect: async (db) => {
        await db.exec(`SET TIME ZONE '${(options.timeZone ?? 'UTC').replace(/'/g, "''")}'`)
      },

      database,

      execute: (q) => () =>
        database().then((db) => lock.run(() => settle(db, q)), (e: unknown) => ({ _tag: 'Left' as const, left: failed(q, e) })).catch((e: unknown) => ({ _tag: 'Left' as const, left: failed(q, e) })),

      stream: (q, o) => ({
        [Symbol.asyncIterator]: () => iterate(q, o?.batchSize ?? 500, true, (s) => self.execute(s)()),
      }),

      reserve: () => async () => {
        try {
          const db = await database()
          await lock.acquire()
          let released = false
          const held: Connection = {
            execute: (q) => () => settle(db, q),
            stream: (q, o) => iterate(q, o?.batchSize ?? 500, false, (s) => settle(db, s)),
            release: async () => {
              if (released) return
              released = true
              lock.release()
            },
          }
          return { _tag: 'Right', right: held }
        } catch (e) {
          return { _tag: 'Left', left: self.classifyError(e) }
        }
      },

      version: () => async () => {
        const r = await self.execute({ sql: "SELECT current_setting('server_version') AS v", params: [] })()
        return r._tag === 'Left' ? r : { _tag: 'Right', right: String(r.right.rows[0]?.v) }
      },

      classifyError: classifyPGliteError,

      close: () => async () => {
        closed = true
        const o = opening
        opening = undefined
        try {
          if (o !== undefined) await (await o).close()
          return { _tag: 'Right', right: undefined }
        } catch (e) {
          return { _tag: 'Left', left: self.classifyError(e) }
        }
      },
    }
  })
}
