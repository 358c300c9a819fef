/**
 * Migrations: ordered changes, each with `up` and `down`, applied once per database and
 * recorded in a history table (`recordkit_migrations` by default).
 *
 * - A lock keeps two processes from migrating at once: the dialect's `migrationLock`
 *   (`pg_advisory_xact_lock` on PostgreSQL, `GET_LOCK` on MySQL and MariaDB, `BEGIN IMMEDIATE`
 *   on SQLite). The history is read under the lock, so each migration runs exactly once.
 * - Where DDL is transactional (SQLite, PostgreSQL), each migration runs in its own
 *   transaction with its history row: a failure leaves nothing behind. SQLite's foreign keys
 *   are suspended around it (table rebuilds need that) and checked before the commit.
 * - Where it is not (MySQL, MariaDB: every DDL statement commits), each migration still runs in
 *   a transaction of its own with its history row, so a migration of DML alone is all or nothing
 *   too. A DDL statement commits what ran before it (the server does, before and after the
 *   statement); the transaction is begun again after it, so what runs after the last DDL
 *   statement still rolls back. Each statement is recorded as it runs (through a `wrap` on
 *   `execute`). When a migration fails after something of it was committed, the failure is kept
 *   in the history with exactly the statements that ran (those rolled back marked so) and the one
 *   that failed, and later runs stop there until `repairMigrations` is called (after the database
 *   is put right by hand).
 *
 * ```ts
 * const migrations = await run(loadMigrations('./migrations'))
 * const report = await run(migrateUp(db, migrations))
 * ```
 */
import { readdir } from 'node:fs/promises'
import { extname, join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import { type Backend, statementOf, wrap } from '../compose.js'
import { supports } from '../dialect.js'
import type { Row } from '../driver.js'
import { dbError, type DbError, isDbError, sqlForMessage, toDbError, tryDb } from '../errors.js'
import { run } from '../promise.js'
import { runCatalog } from './catalog.js'
import { deleteFrom, from, insertInto, orderBy, select, set, update, values, where } from '../query.js'
import { type Fragment, sql } from '../sql.js'
import { isEither } from '../fp.js'
import { describeValue } from '../values.js'
import { column, createTable, type CreateTableNode } from './ddl.js'
import type { MigrationLock } from './ddl-dialect.js'

/** One migration: `up` applies it, `down` reverts it. */
export interface Migration {
  /** Its name, which orders it: `20240131120000_create_users`. */
  readonly name: string
  /** The change: a TaskEither, or an `async` function (its rejection is the failure). */
  readonly up: (db: Backend) => TaskEither<DbError, unknown> | Promise<unknown>
  readonly down?: (db: Backend) => TaskEither<DbError, unknown> | Promise<unknown>
}

/** One statement a migration ran, as recorded. */
export interface StatementRecord {
  readonly sql: string
  /** Its parameters, when it had any (bigints as text, bytes as `<n bytes>`). */
  readonly params?: readonly unknown[]
  readonly ok: boolean
  /** The first line of the error, for the statement that failed. */
  readonly error?: string
  /**
   * True for a statement that ran but was rolled back when its migration failed (MySQL and
   * MariaDB, where a failed migration may keep the statements up to its last DDL statement).
   */
  readonly rolledBack?: boolean
}

/**
 * Something that happened during a run, for progress output. `waiting`: on SQLite, another
 * connection holds the lock and the run will try again (told at most once a second; the servers
 * wait for their lock in one statement and do not tell). A failed migration's `rolledBack`
 * is true when nothing of it remains; otherwise (MySQL, MariaDB, after a DDL statement committed)
 * its `statements` say which stay applied (`ok`, without `rolledBack`).
 */
export type MigrationEvent =
  | { readonly kind: 'waiting'; readonly attempt: number }
  | { readonly kind: 'start'; readonly name: string; readonly direction: 'up' | 'down' }
  | { readonly kind: 'done'; readonly name: string; readonly direction: 'up' | 'down'; readonly ms: number; readonly statements: readonly StatementRecord[] }
  | { readonly kind: 'failed'; readonly name: string; readonly direction: 'up' | 'down'; readonly error: DbError; readonly statements: readonly StatementRecord[]; readonly rolledBack: boolean }

/** Options of every migration function. */
export interface MigrateOptions {
  /** The history table. Default `recordkit_migrations`. */
  readonly table?: string
  /** Seconds to wait for another process's migration run. Default 60. */
  readonly lockTimeout?: number
  /** Progress, as it happens. */
  readonly onEvent?: (event: MigrationEvent) => void
}

/** Where a migration stands in one database. */
export interface MigrationState {
  readonly name: string
  /** `missing`: recorded as applied, but no such migration was given. */
  readonly state: 'applied' | 'pending' | 'failed' | 'missing'
  readonly appliedAt?: string
  readonly direction?: 'up' | 'down'
  /** For a failed migration: the statements that ran, in order, the failing one last. */
  readonly statements?: readonly StatementRecord[]
  readonly error?: string
}

/** What a run did. */
export interface MigrateReport {
  /** Migrations this run applied (up) or reverted (down), in order. */
  readonly migrations: readonly string[]
}

const DEFAULT_TABLE = 'recordkit_migrations'

// ---------------------------------------------------------------- loading

const EXTENSIONS = new Set(['.ts', '.mts', '.js', '.mjs', '.cjs'])

const TYPESCRIPT = new Set(['.ts', '.mts'])

/** The loader recordkit registers for TypeScript migrations (an optional peer dependency). */
const TSX_API = 'tsx/esm/api'

let tsxRegistered: Promise<boolean> | undefined

/**
 * Whether TypeScript migrations can be loaded: the `tsx` package is installed beside recordkit.
 *
 * @example if (!(await typeScriptLoaderAvailable())) console.log('write migrations in JavaScript')
 */
export const typeScriptLoaderAvailable = (): Promise<boolean> =>
  import(TSX_API).then(() => true, () => false)

/** Registers tsx's module hooks once per process; false when tsx is not installed. */
const registerTypeScript = (): Promise<boolean> =>
  (tsxRegistered ??= import(TSX_API).then(
    (api: { register: () => unknown }) => { api.register(); return true },
    () => false,
  ))

const importMigration = async (file: string): Promise<{ up?: unknown; down?: unknown }> => {
  const url = pathToFileURL(file).href
  try {
    return (await import(url)) as { up?: unknown; down?: unknown }
  } catch (e) {
    // Node cannot run TypeScript by itself before 22: register tsx, as a TypeScript-aware CLI
    // does, and import again. Under a runtime that already loads TypeScript this is never reached.
    if ((e as { code?: unknown }).code !== 'ERR_UNKNOWN_FILE_EXTENSION' || !TYPESCRIPT.has(extname(file))) throw e
    if (!(await registerTypeScript())) {
      throw Object.assign(new Error('TypeScript migrations are loaded with tsx, which is not installed: run `npm install --save-dev tsx`, or write the migration in JavaScript (`recordkit migrate new NAME --js`)'), { cause: e })
    }
    // Node keeps the failed import of this URL: ask again under a URL of its own.
    return (await import(`${url}?typescript`)) as { up?: unknown; down?: unknown }
  }
}

/**
 * Load the migrations of a folder, ordered by file name: every `.ts`, `.mts`, `.js`, `.mjs`
 * file exporting `up` (and usually `down`). TypeScript files are loaded by registering `tsx`
 * (install it as a dev dependency) when the runtime cannot load them by itself.
 *
 * @example const migrations = await run(loadMigrations('./migrations'))
 */
export const loadMigrations = (dir: string): TaskEither<DbError, readonly Migration[]> => async () => {
  let files: string[]
  try {
    files = (await readdir(dir)).filter((f) => EXTENSIONS.has(extname(f)) && !f.endsWith('.d.ts')).sort()
  } catch (e) {
    return E.left(dbError('NotFound', `no migrations folder at ${resolve(dir)}`, { cause: e }))
  }
  const out: Migration[] = []
  for (const f of files) {
    const name = f.slice(0, -extname(f).length)
    try {
      const m = await importMigration(resolve(join(dir, f)))
      if (typeof m.up !== 'function') return E.left(dbError('QueryError', `migration ${f} exports no up(db) function`))
      out.push({ name, up: m.up as Migration['up'], down: typeof m.down === 'function' ? (m.down as Migration['down']) : undefined })
    } catch (e) {
      return E.left(dbError('QueryError', `cannot load migration ${f}: ${e instanceof Error ? e.message : String(e)}`, { cause: e }))
    }
  }
  return E.right(out)
}

// ---------------------------------------------------------------- helpers

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** A parameter as it can be kept in JSON. */
const plain = (v: unknown): unknown =>
  typeof v === 'bigint' ? v.toString() : v instanceof Date ? v.toISOString() : v instanceof Uint8Array ? `<${v.byteLength} bytes>` : v

/** A savepoint statement (a nested transaction's): the transaction's business, not the migration's. */
const SAVEPOINT = /^\s*SAVEPOINT\s+(.+?)\s*$/i
const RELEASE_SAVEPOINT = /^\s*RELEASE\s+SAVEPOINT\s+(.+?)\s*$/i
const ROLLBACK_TO_SAVEPOINT = /^\s*ROLLBACK\s+(?:WORK\s+)?TO\s+(?:SAVEPOINT\s+)?(.+?)\s*$/i

/** Leading blanks and comments of a statement. */
const LEAD = String.raw`^(?:\s|--[^\n]*|\/\*[\s\S]*?\*\/)*`
/** DDL, which MySQL and MariaDB commit before and after (a temporary table's excepted). */
const DDL = new RegExp(`${LEAD}(?:CREATE|ALTER|DROP|RENAME|TRUNCATE)\\b`, 'i')
const TEMPORARY = new RegExp(`${LEAD}(?:CREATE(?:\\s+OR\\s+REPLACE)?|DROP)\\s+TEMPORARY\\b`, 'i')
/** The other statements that commit the open transaction on MySQL and MariaDB. */
const OTHER_COMMITS = new RegExp(`${LEAD}(?:GRANT|REVOKE|LOCK\\s+TABLES?|UNLOCK\\s+TABLES?|ANALYZE|OPTIMIZE|REPAIR|CHECK\\s+TABLE|CACHE\\s+INDEX|LOAD\\s+INDEX|FLUSH|RESET|INSTALL|UNINSTALL|SET\\s+PASSWORD)\\b`, 'i')

/** Whether a statement is DDL (a temporary table's is not: it commits nothing). */
const isDdl = (text: string): boolean => DDL.test(text) && !TEMPORARY.test(text)

/** Whether a statement commits the open transaction where DDL is not transactional. */
const commitsImplicitly = (text: string): boolean => isDdl(text) || OTHER_COMMITS.test(text)

/** What `recording` keeps. */
interface Recording {
  readonly db: Backend
  /** The statements run so far, in order (savepoints left out). */
  readonly statements: StatementRecord[]
  /** How many of `statements` are known to be committed (up to the last that commits implicitly). */
  readonly committed: () => number
}

/**
 * A backend that records every statement it runs, as it runs. With `reopen` (where DDL is not
 * transactional, inside the migration's own transaction), a statement that commits implicitly
 * is followed by `reopen` (the dialect's BEGIN) and by the savepoints that were open, made again,
 * so what runs after it still rolls back, and a nested transaction still ends as it began.
 */
const recording = (db: Backend, reopen?: readonly string[]): Recording => {
  const statements: StatementRecord[] = []
  let committed = 0
  // The open savepoints, outermost first: their name as written, and the statement that made each.
  const savepoints: { readonly name: string; readonly text: string }[] = []
  const savepointAt = (name: string): number => savepoints.findIndex((p) => p.name === name)
  const recorded = wrap(db, {
    execute: (next, self) => (q) => async () => {
      const { sql: text, params } = statementOf(self, q as never)
      const r = await next(q)()
      const opened = SAVEPOINT.exec(text)
      const released = opened === null ? RELEASE_SAVEPOINT.exec(text) : null
      const rolledBackTo = opened === null && released === null ? ROLLBACK_TO_SAVEPOINT.exec(text) : null
      if (opened !== null || released !== null || rolledBackTo !== null) {
        if (E.isRight(r)) {
          if (opened !== null) {
            // A savepoint of a name already open replaces it.
            const at = savepointAt(opened[1])
            if (at >= 0) savepoints.splice(at, 1)
            savepoints.push({ name: opened[1], text })
          } else if (released !== null) {
            const at = savepointAt(released[1])
            if (at >= 0) savepoints.length = at
          } else if (rolledBackTo !== null) {
            const at = savepointAt(rolledBackTo[1])
            if (at >= 0) savepoints.length = at + 1
          }
        }
        return r
      }
      const shown = params.length === 0 ? {} : { params: params.map(plain) }
      statements.push(E.isLeft(r) ? { sql: text, ...shown, ok: false, error: r.left.message.split('\n')[0] } : { sql: text, ...shown, ok: true })
      if (reopen !== undefined && E.isRight(r) && commitsImplicitly(text)) {
        committed = statements.length
        for (const t of [...reopen, ...savepoints.map((p) => p.text)]) {
          const again = await next(sql.raw(t))()
          if (E.isLeft(again)) return again
        }
      }
      return r
    },
  })
  return { db: recorded, statements, committed: () => committed }
}

/**
 * How many of a migration's statements stay committed when its connection was lost (`lost`), where
 * the server cannot be asked: those up to the last one that committed, as the server rolls back
 * the transaction of a connection that went. Unless the statement that failed commits implicitly
 * (DDL) and may have reached the server, which commits what ran before it first: then those may
 * stay too, and are said to.
 */
const committedWhenLost = (statements: readonly StatementRecord[], committed: number, lost: DbError): number => {
  const last = statements[statements.length - 1]
  const mayHaveCommitted = last !== undefined && !last.ok && commitsImplicitly(last.sql) && !(isDbError(lost, 'ConnectionError') && lost.sent === false)
  return mayHaveCommitted ? statements.length - 1 : committed
}

/** The savepoint a failed migration's transaction is probed with (see `stillInTransaction`). */
const PROBE = 'rk_migration_probe'

/**
 * Whether the transaction a migration began is still open, or a statement committed it (one
 * that `commitsImplicitly` does not know, or a DDL statement that failed after the server had
 * committed). A savepoint outlives its statement only in an open transaction, so its release
 * fails after a commit (MySQL and MariaDB error 1305).
 */
const stillInTransaction = async (db: Backend): Promise<boolean> => {
  try {
    const open = await db.execute(sql.raw(db.dialect.savepoint(PROBE)))()
    if (E.isLeft(open)) return false
    return E.isRight(await db.execute(sql.raw(db.dialect.releaseSavepoint(PROBE)))())
  } catch {
    // A dialect without savepoints cannot tell: say what ran may have stayed.
    return false
  }
}

/** The history table, created if missing. Times are ISO-8601 text: the same on every engine. */
const historyTable = (table: string): CreateTableNode =>
  pipe(
    createTable(table, { ifNotExists: true }),
    column('name', 'varchar(255)', { primaryKey: true }),
    column('status', 'varchar(16)', { notNull: true }),
    column('direction', 'varchar(8)', { notNull: true }),
    column('applied_at', 'varchar(32)', { notNull: true }),
    column('duration_ms', 'integer', { notNull: true }),
    column('statements', 'text', { notNull: true }),
    column('error', 'text'),
  )

interface HistoryRow {
  readonly name: string
  readonly status: 'applied' | 'failed'
  readonly direction: 'up' | 'down'
  readonly appliedAt: string
  readonly statements: readonly StatementRecord[]
  readonly error?: string
}

const ensureHistory = async (db: Backend, table: string): Promise<void> => {
  await run(db.execute(historyTable(table)))
}

const readHistory = async (db: Backend, table: string): Promise<HistoryRow[]> => {
  const rows = await run(db.all<Row>(pipe(from(table), select('name', 'status', 'direction', 'applied_at', 'statements', 'error'), orderBy('name'))))
  return rows.map((r) => ({
    name: String(r.name),
    status: r.status === 'failed' ? 'failed' : 'applied',
    direction: r.direction === 'down' ? 'down' : 'up',
    appliedAt: r.applied_at instanceof Date ? r.applied_at.toISOString() : String(r.applied_at),
    statements: parseStatements(r.statements),
    error: r.error === null || r.error === undefined ? undefined : String(r.error),
  }))
}

const parseStatements = (v: unknown): StatementRecord[] => {
  if (typeof v !== 'string' || v === '') return []
  try {
    return JSON.parse(v) as StatementRecord[]
  } catch {
    return []
  }
}

const historyValues = (name: string, status: 'applied' | 'failed', direction: 'up' | 'down', ms: number, statements: readonly StatementRecord[], error?: string) => ({
  status, direction, applied_at: new Date().toISOString(), duration_ms: ms, statements: JSON.stringify(statements), error: error ?? null, name,
})

const failedError = (db: Backend, failed: readonly HistoryRow[]): DbError => {
  // The DDL is named only when a failed migration ran some.
  const why = failed.some((f) => f.statements.some((s) => s.ok && isDdl(s.sql))) ? 'which does not roll back DDL' : 'with statements of it committed'
  return dbError('TransactionError', `migration ${failed.map((f) => f.name).join(', ')} failed part way on ${db.dialect.name}, ${why} (see migrate status for the statements that ran); put the database right, then repair the history (repairMigrations / recordkit migrate repair)`)
}

/** A numbered line of a statement in an error message (a long one cut, as `sqlForMessage` does). */
const listed = (s: StatementRecord, n: number): string => `    ${n}. ${sqlForMessage(describeStatement(s))}`

/**
 * The error a failed migration ends the run with: the original error, saying which migration,
 * which of its statements stay applied (committed) and which were rolled back.
 */
const migrationError = (db: Backend, name: string, direction: 'up' | 'down', e: DbError, statements: readonly StatementRecord[], rolledBack: boolean): DbError => {
  const ran = statements.filter((s) => s.ok)
  const stay = ran.filter((s) => s.rolledBack !== true)
  const undone = ran.filter((s) => s.rolledBack === true)
  let what: string
  if (rolledBack) what = 'rolled back: nothing of it remains'
  else {
    what = `${stay.length} of its statements ran and stay applied${stay.length > 0 ? `:\n${stay.map((s, i) => listed(s, i + 1)).join('\n')}` : ''}`
    if (undone.length > 0) {
      // Only the statements after the last DDL statement (which committed) could be rolled back.
      const why = stay.some((s) => isDdl(s.sql)) ? ` (${db.dialect.name} commits at each DDL statement)` : ''
      what += `\n  ${undone.length === 1 ? 'the statement' : `the ${undone.length} statements`} after them rolled back${why}:\n${undone.map((s, i) => listed(s, stay.length + i + 1)).join('\n')}`
    }
  }
  const out = dbError(e._tag as 'QueryError', `migration ${name} (${direction}) failed: ${e.message.split('\n')[0]}\n  ${what}`, { cause: e })
  const m = out as unknown as Record<string, unknown>
  for (const k of ['sql', 'params', 'code', 'constraint', 'column', 'issues'] as const) if ((e as unknown as Record<string, unknown>)[k] !== undefined) m[k] = (e as unknown as Record<string, unknown>)[k]
  return out
}

/**
 * A recorded statement as one line: its SQL, then its parameters if it had any.
 * @example describeStatement({ sql: 'INSERT INTO t VALUES (?)', params: [1], ok: true }) // 'INSERT INTO t VALUES (?) -- params: [1]'
 */
export const describeStatement = (s: StatementRecord): string =>
  s.params === undefined || s.params.length === 0 ? s.sql : `${s.sql} -- params: ${JSON.stringify(s.params)}`

// ---------------------------------------------------------------- locking

/** Run `body` holding the migration lock; with a transaction-scoped lock, `body` runs in that transaction. */
const locked = <A>(db: Backend, options: MigrateOptions, body: (db: Backend) => Promise<A>): Promise<A> => {
  // Where DDL commits (MySQL, MariaDB), the history table's CREATE and every DDL statement of a
  // migration would commit the caller's transaction part way and end its savepoints.
  if (!db.dialect.transactionalDdl && db.inTransaction()) {
    return Promise.reject(dbError('TransactionError', `migrations cannot run inside a transaction on ${db.dialect.name}, which commits the transaction at each DDL statement: the caller's transaction would be committed part way. Run them outside it (each migration runs in a transaction of its own)`))
  }
  const timeout = options.lockTimeout ?? 60
  const key = options.table ?? DEFAULT_TABLE
  const lock: MigrationLock = db.dialect.migrationLock(key, timeout)
  return lock.scope === 'session' ? sessionLocked(db, lock, timeout, body) : transactionLocked(db, lock, timeout, options, body)
}

const sessionLocked = async <A>(db: Backend, lock: Extract<MigrationLock, { scope: 'session' }>, timeout: number, body: (db: Backend) => Promise<A>): Promise<A> => {
  const conn = await run(db.driver.reserve())
  try {
    const acquire = db.compile(lock.acquire)
    if (E.isLeft(acquire)) throw acquire.left
    const got = await run(conn.execute(acquire.right))
    const first = got.rows[0] === undefined ? undefined : Object.values(got.rows[0])[0]
    if (Number(first) !== 1) throw dbError('LockTimeout', `another process holds the migration lock of ${db.dialect.name} (waited ${timeout} s)`)
    try {
      return await body(db)
    } finally {
      const release = db.compile(lock.release)
      if (E.isRight(release)) await conn.execute(release.right)()
    }
  } finally {
    await conn.release()
  }
}

const transactionLocked = async <A>(
  db: Backend, lock: Extract<MigrationLock, { scope: 'transaction' }>, timeout: number, options: MigrateOptions, body: (db: Backend) => Promise<A>,
): Promise<A> => {
  const deadline = Date.now() + timeout * 1000
  // Inside the caller's transaction the lock is a savepoint: no BEGIN, nothing to wait for.
  const busy = lock.busyTimeout !== undefined && !db.inTransaction() ? lock.busyTimeout : undefined
  let pause = busy === undefined ? 100 : 5
  let told = -Infinity
  for (let attemptNo = 1; ; attemptNo++) {
    try {
      return busy === undefined ? await schemaTransaction(db, lock, body) : await withoutBusyWait(db, busy, (on, restore) => schemaTransaction(on, { ...lock, acquire: [restore, ...lock.acquire] }, body))
    } catch (e) {
      // The BEGIN found the lock taken: try again until the lock timeout.
      if (!isDbError(e, 'LockTimeout') || !isBeginFailure(e)) throw e
      const left = deadline - Date.now()
      if (left <= 0) {
        throw busy === undefined ? e : dbError('LockTimeout', `another connection held the write lock of the ${db.dialect.name} database, which is the migration lock, for the ${timeout} s of lockTimeout`, { sql: e.sql, code: e.code, cause: e })
      }
      // Tries come every few ms where the wait is the migrator's: the event at most once a second.
      if (Date.now() - told >= 1000) {
        told = Date.now()
        options.onEvent?.({ kind: 'waiting', attempt: attemptNo })
      }
      await sleep(Math.min(pause, left))
      if (busy !== undefined) pause = Math.min(pause * 2, 50)
    }
  }
}

/**
 * Run `fn` on a connection of its own whose busy timeout is 0 (SQLite): a statement that finds
 * the database locked fails at once (LockTimeout) instead of blocking the process for the
 * driver's busy timeout. `restore` sets the timeout back (for statements after the lock is
 * taken); it is set back after `fn` whichever way it ends.
 */
const withoutBusyWait = async <A>(
  db: Backend, busy: NonNullable<Extract<MigrationLock, { scope: 'transaction' }>['busyTimeout']>, fn: (on: Backend, restore: Fragment) => Promise<A>,
): Promise<A> => {
  // A connection of its own, so that no other statement of this backend runs without the wait;
  // on a reserved connection already (a TransactionError), that one.
  const reserved = await db.connection()()
  if (E.isLeft(reserved) && !isDbError(reserved.left, 'TransactionError')) throw reserved.left
  const on: Backend = E.isRight(reserved) ? reserved.right : db
  try {
    const row = (await run(on.all(busy.read)))[0]
    const ms = row === undefined ? Number.NaN : Number(Object.values(row)[0])
    if (!Number.isFinite(ms)) throw dbError('QueryError', `${db.dialect.name} did not say its busy timeout: got ${describeValue(row)}`)
    const restore = busy.set(ms)
    await run(on.execute(busy.set(0)))
    try {
      return await fn(on, restore)
    } finally {
      await on.execute(restore)()
    }
  } finally {
    if (E.isRight(reserved)) await reserved.right.release()()
  }
}

const isBeginFailure = (e: DbError): boolean => /^\s*BEGIN\b/i.test(e.sql ?? '')

/**
 * A transaction for a schema change: the lock taken first; on SQLite, foreign keys suspended
 * around it (outside the transaction, where the pragma works) and checked before the commit.
 */
const schemaTransaction = async <A>(db: Backend, lock: Extract<MigrationLock, { scope: 'transaction' }>, body: (db: Backend) => Promise<A>): Promise<A> => {
  let suspended: { readonly on: Fragment } | undefined
  if (supports(db.dialect, 'foreignKeySuspension') && !db.inTransaction()) {
    const fk = db.dialect.foreignKeySuspension()
    const row = (await run(db.all(fk.read)))[0]
    if (row !== undefined && Number(Object.values(row)[0]) === 1) {
      await run(db.execute(fk.off))
      suspended = { on: fk.on }
    }
  }
  try {
    // Everything runs on the transaction's handle: on a reserved connection (`db.connection()`)
    // the connection's own handle refuses calls while its transaction is open.
    return await run(db.transaction((tx) => tryDb(async () => {
      for (const f of lock.acquire) await run(tx.execute(f))
      // Foreign keys to no table, before and after: SQLite takes one and fails every later insert.
      const dangling = supports(tx.dialect, 'foreignKeySuspension') ? tx.dialect.foreignKeySuspension().dangling : undefined
      const danglingBefore = dangling === undefined ? [] : (await run(tx.all(dangling))).map((r) => JSON.stringify(r))
      const out = await body(tx)
      if (dangling !== undefined) {
        const added = (await run(tx.all(dangling))).filter((r) => !danglingBefore.includes(JSON.stringify(r)))
        if (added.length > 0) {
          const refs = added.map((r) => `${String(r.table)}.${String(r.column)} references ${String(r.parent)}${r.parent_column === null ? '' : ` (${String(r.parent_column)})`}`)
          throw dbError('QueryError', `${refs.join('; ')}: no table ${added.map((r) => String(r.parent)).filter((x, i, a) => a.indexOf(x) === i).join(', ')} exists. ` +
            `${tx.dialect.name} takes such a foreign key and then refuses every row written to the table (PostgreSQL and MariaDB refuse the CREATE TABLE): create the table it refers to first, or name the one meant`)
        }
      }
      if (suspended !== undefined) {
        const broken = await run(tx.all(tx.dialect.foreignKeySuspension().check))
        if (broken.length > 0) throw dbError('ForeignKeyViolation', `the migration breaks ${broken.length} foreign key reference(s): ${JSON.stringify(broken.slice(0, 3))}`)
      }
      return out
    }), lock.begin))
  } finally {
    if (suspended !== undefined) await db.execute(suspended.on)()
  }
}

// ---------------------------------------------------------------- running

type Step = { readonly migration: Migration; readonly direction: 'up' | 'down' } | undefined

/** One step under the lock: pick the next migration from the history, run it, record it. */
const step = async (
  db: Backend, table: string, options: MigrateOptions, pick: (history: readonly HistoryRow[]) => Step,
): Promise<string | undefined> => {
  const transactional = db.dialect.transactionalDdl
  return locked(db, options, async (tx) => {
    await ensureHistory(tx, table)
    const history = await readHistory(tx, table)
    const failed = history.filter((h) => h.status === 'failed')
    if (failed.length > 0) throw failedError(tx, failed)
    const next = pick(history)
    if (next === undefined) return undefined
    const { migration, direction } = next
    const step = direction === 'up' ? migration.up : migration.down
    if (step === undefined) throw dbError('QueryError', `migration ${migration.name} has no down()`)
    options.onEvent?.({ kind: 'start', name: migration.name, direction })
    // Its history row is written in its transaction: applied (or reverted) exactly when it is.
    // `on` is the migration's transaction (on a reserved connection, only its handle may run).
    const finish = async (on: Backend, statements: readonly StatementRecord[], ms: number): Promise<void> => {
      if (direction === 'up') await run(on.execute(pipe(insertInto(table), values(historyValues(migration.name, 'applied', 'up', ms, statements)))))
      else await run(on.execute(pipe(deleteFrom(table), where({ name: migration.name }))))
    }
    const outcome = transactional ? await inLockTransaction(tx, step, finish) : await inOwnTransaction(tx, step, finish)
    if (outcome.error !== undefined) {
      const { error, statements, ms } = outcome
      // Nothing of it stays when its transaction rolled everything back.
      const rolledBack = !statements.some((s) => s.ok && s.rolledBack !== true)
      options.onEvent?.({ kind: 'failed', name: migration.name, direction, error, statements, rolledBack })
      if (!rolledBack) {
        // Some of it was committed: keep what ran in the history, so status can say exactly.
        const row = historyValues(migration.name, 'failed', direction, ms, statements, error.message.split('\n')[0])
        const exists = history.some((h) => h.name === migration.name)
        await run(tx.execute(exists ? pipe(update(table), set(row), where({ name: migration.name })) : pipe(insertInto(table), values(row))))
      }
      throw migrationError(tx, migration.name, direction, error, statements, rolledBack)
    }
    options.onEvent?.({ kind: 'done', name: migration.name, direction, ms: outcome.ms, statements: outcome.statements })
    return migration.name
  })
}

/** How a migration ran: its statements, how long it took, and its error if it failed. */
interface Outcome {
  readonly statements: readonly StatementRecord[]
  readonly ms: number
  readonly error?: DbError
}

type MigrationStep = (db: Backend) => TaskEither<DbError, unknown> | Promise<unknown>
type Finish = (on: Backend, statements: readonly StatementRecord[], ms: number) => Promise<void>

/**
 * The TaskEither of a migration step run on `db`. An `async` step (as Knex's and Sequelize's
 * migrations are written) is one too: its rejection is the step's failure (a DbError it threw as
 * it is, anything else a QueryError), and what it resolves to is read as a step's result (a
 * TaskEither it returns is run, a Left is the failure). Anything else is a ValidationError saying
 * what to write.
 */
const stepOf = (migration: MigrationStep, db: Backend): TaskEither<DbError, unknown> => {
  const task: unknown = migration(db)
  if (typeof task === 'function') return task as TaskEither<DbError, unknown>
  if (task instanceof Promise) {
    // Observed now: a rejection before the step runs is not reported as unhandled.
    const settled = task.then(resolvedStep, (e: unknown) => E.left(toDbError(e)))
    return () => settled
  }
  return () => Promise.resolve(E.left(dbError('ValidationError', `the step must return a TaskEither (a function returning a Promise of an Either) or a Promise (an async function), got ${describeValue(task)}`, {
    issues: [{ path: 'return', rule: 'TaskEither or Promise', value: task, message: `got ${describeValue(task)}` }],
  })))
}

/** What an async step resolved to, as the step's result: a TaskEither is run, an Either read. */
const resolvedStep = async (v: unknown): Promise<E.Either<DbError, unknown>> => {
  if (typeof v === 'function') {
    const r: unknown = await (v as () => unknown)()
    return isEither(r) ? (r as E.Either<DbError, unknown>) : E.right(r)
  }
  return isEither(v) && v._tag === 'Left' ? (v as E.Left<DbError>) : E.right(v)
}


/**
 * Run a migration in the transaction the lock runs in (SQLite, PostgreSQL): when it fails, that
 * transaction rolls all of it back, DDL included.
 */
const inLockTransaction = async (tx: Backend, migration: MigrationStep, finish: Finish): Promise<Outcome> => {
  const rec = recording(tx)
  const started = Date.now()
  const result = await tryDb(() => run(stepOf(migration, rec.db)))()
  const ms = Date.now() - started
  const statements = [...rec.statements]
  if (E.isLeft(result)) return { statements: statements.map((s) => (s.ok ? { ...s, rolledBack: true } : s)), ms, error: result.left }
  await finish(tx, statements, ms)
  return { statements, ms }
}

/**
 * Run a migration in a transaction of its own, where DDL is not transactional (MySQL, MariaDB):
 * its DML rolls back when it fails, except what a DDL statement (which the server commits before
 * and after) committed. The statements up to the last one that committed stay; those after it
 * are marked `rolledBack`. Whether a failed statement committed too (a failing DDL statement
 * may, after the server committed the transaction) is asked of the server: when the transaction
 * is gone, everything that ran stays.
 */
const inOwnTransaction = async (tx: Backend, migration: MigrationStep, finish: Finish): Promise<Outcome> => {
  let outcome: Outcome | undefined
  // Everything runs on the transaction's handle, which is the one that may run on a reserved
  // connection while the transaction is open.
  const done = await tx.transaction((own) => tryDb(async () => {
    const rec = recording(own, own.dialect.beginTransaction({}))
    const started = Date.now()
    const result = await tryDb(() => run(stepOf(migration, rec.db)))()
    const ms = Date.now() - started
    const statements = [...rec.statements]
    if (E.isLeft(result)) {
      const committed = isDbError(result.left, 'ConnectionError') ? committedWhenLost(statements, rec.committed(), result.left)
        : (await stillInTransaction(own)) ? rec.committed() : statements.length
      outcome = { statements: statements.map((s, i) => (s.ok && i >= committed ? { ...s, rolledBack: true } : s)), ms, error: result.left }
      // Roll back what can be.
      throw result.left
    }
    await finish(own, statements, ms)
    outcome = { statements, ms }
  }))()
  // The migration failed (rolled back), or it ran and its transaction did not commit.
  if (outcome?.error !== undefined) return outcome
  if (E.isLeft(done) || outcome === undefined) throw E.isLeft(done) ? done.left : dbError('TransactionError', 'the migration did not run')
  return outcome
}

/** Two migrations of one name are a ValidationError naming it, before anything runs. */
const checkNames = (migrations: readonly Migration[]): void => {
  const seen = new Set<string>()
  for (const m of migrations) {
    if (seen.has(m.name)) {
      throw dbError('ValidationError', `two migrations are named ${m.name}: nothing was run`, {
        issues: [{ path: m.name, rule: 'uniqueName', value: m.name, message: 'given twice' }],
      })
    }
    seen.add(m.name)
  }
}

/**
 * Before a run applies anything: every migration the history records as applied is among those
 * given, or the run stops here (NotFound naming them), as Knex and Kysely refuse a migration
 * folder that lost an applied migration. A run given the wrong folder, or one whose file was
 * deleted or renamed, would otherwise apply what is pending over a schema it does not describe.
 */
const checkApplied = (history: readonly HistoryRow[], given: ReadonlySet<string>): void => {
  const missing = history.filter((h) => h.status === 'applied' && !given.has(h.name)).map((h) => h.name)
  if (missing.length === 0) return
  const which = missing.length === 1 ? `migration ${missing[0]} is` : `migrations ${missing.join(', ')} are`
  throw dbError('NotFound', `${which} applied but not among the migrations given: nothing was applied. Give every applied migration (the folder may be the wrong one, or a file was renamed or deleted), or revert ${missing.length === 1 ? 'it' : 'them'} first with migrations that include ${missing.length === 1 ? 'it' : 'them'}`)
}

/**
 * Apply every pending migration (or those up to and including `to`), in name order, each
 * once, each in its own transaction with its history row (on MySQL and MariaDB a DDL statement
 * commits what ran before it: a failure there keeps that, and says so). A migration recorded as
 * applied but not given stops the run before anything is applied (NotFound naming it).
 *
 * @example
 * const report = await run(migrateUp(db, migrations, { onEvent: (e) => console.log(e.kind) }))
 */
export const migrateUp = (db: Backend, migrations: readonly Migration[], options: MigrateOptions & { readonly to?: string } = {}): TaskEither<DbError, MigrateReport> =>
  tryDb(async () => {
    checkNames(migrations)
    const table = options.table ?? DEFAULT_TABLE
    const sorted = [...migrations].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    const given = new Set(migrations.map((m) => m.name))
    if (options.to !== undefined && !sorted.some((m) => m.name === options.to)) throw dbError('NotFound', `no migration named ${options.to}`)
    const done: string[] = []
    for (;;) {
      const name = await step(db, table, options, (history) => {
        if (done.length === 0) checkApplied(history, given)
        const applied = new Set(history.map((h) => h.name))
        const next = sorted.find((m) => !applied.has(m.name) && (options.to === undefined || m.name <= options.to))
        return next === undefined ? undefined : { migration: next, direction: 'up' }
      })
      if (name === undefined) return { migrations: done }
      done.push(name)
    }
  })

/**
 * Revert the last `steps` applied migrations (default 1), every one after `to`, or every one
 * (`all: true`), newest first. `steps` is a whole number of at least 1 and `to` the name of a
 * migration given or recorded (NotFound otherwise, as for `migrateUp`); give one of the three
 * (ValidationError): a mistake there is an error, where it reverted nothing silently, or
 * everything after a name that sorts early.
 *
 * Every migration it would revert is checked before the first is: one without `down` (a
 * ValidationError naming it) or not given (NotFound) stops the run with nothing reverted, rather
 * than part way through.
 *
 * @example await run(migrateDown(db, migrations, { steps: 2 }))
 * @example await run(migrateDown(db, migrations, { all: true }))
 */
export const migrateDown = (
  db: Backend, migrations: readonly Migration[], options: MigrateOptions & { readonly steps?: number; readonly to?: string; readonly all?: boolean } = {},
): TaskEither<DbError, MigrateReport> =>
  tryDb(async () => {
    checkNames(migrations)
    if (options.steps !== undefined && (!Number.isInteger(options.steps) || options.steps < 1))
      throw dbError('ValidationError', `migrateDown: steps must be a whole number of at least 1, got ${String(options.steps)}`, { issues: [{ path: 'steps', rule: 'positiveInteger', value: options.steps, message: 'not a whole number of at least 1' }] })
    const all = options.all === true
    if ([options.steps !== undefined, options.to !== undefined, all].filter(Boolean).length > 1) {
      const path = options.to !== undefined && options.steps !== undefined && !all ? 'to' : 'all'
      const message = all ? 'migrateDown: give one of steps, to and all' : 'migrateDown: give steps or to, not both'
      throw dbError('ValidationError', message, { issues: [{ path, rule: 'exclusive', value: path === 'to' ? options.to : options.all, message: 'given with another of steps, to and all' }] })
    }
    const table = options.table ?? DEFAULT_TABLE
    const byName = new Map(migrations.map((m) => [m.name, m]))
    const steps = options.to === undefined && !all ? options.steps ?? 1 : Number.POSITIVE_INFINITY
    const done: string[] = []
    while (done.length < steps) {
      const name = await step(db, table, options, (history) => {
        // `to` names a migration given, or one the history has (its file may be gone).
        if (options.to !== undefined && !byName.has(options.to) && !history.some((h) => h.name === options.to)) throw dbError('NotFound', `no migration named ${options.to}`)
        const applied = [...history].reverse().filter((h) => h.status === 'applied' && (options.to === undefined || h.name > options.to))
        if (done.length === 0) checkRevertible(applied.slice(0, steps - done.length).map((h) => h.name), byName)
        const last = applied[0]
        if (last === undefined) return undefined
        const m = byName.get(last.name)
        if (m === undefined) throw dbError('NotFound', `migration ${last.name} is applied but was not given: cannot revert it`)
        return { migration: m, direction: 'down' }
      })
      if (name === undefined) break
      done.push(name)
    }
    return { migrations: done }
  })

/** What `migrateTo` did: the migrations it reverted, then those it applied. */
export interface MigrateToReport extends MigrateReport {
  readonly reverted: readonly string[]
  readonly applied: readonly string[]
}

/**
 * Bring the database to a migration, whichever side of it it stands: the applied migrations
 * after it are reverted (newest first, each checked first as `migrateDown` does), then the
 * pending ones up to it applied. `null` reverts every one. A name neither given nor recorded is
 * NotFound, before anything changes.
 *
 * @example await run(migrateTo(db, migrations, '20240131120000_create_users'))
 * @example await run(migrateTo(db, migrations, null)) // revert everything
 */
export const migrateTo = (db: Backend, migrations: readonly Migration[], target: string | null, options: MigrateOptions = {}): TaskEither<DbError, MigrateToReport> =>
  tryDb(async () => {
    const down = await run(target === null ? migrateDown(db, migrations, { ...options, all: true }) : migrateDown(db, migrations, { ...options, to: target }))
    const up = target === null ? { migrations: [] } : await run(migrateUp(db, migrations.filter((m) => m.name <= target), options))
    return { migrations: [...down.migrations, ...up.migrations], reverted: down.migrations, applied: up.migrations }
  })

/**
 * Before a run reverts anything: every migration it would revert (newest first) is given and
 * has a `down`, or the run stops here, naming the first that is not and what could be reverted.
 */
const checkRevertible = (names: readonly string[], byName: ReadonlyMap<string, Migration>): void => {
  for (const [i, name] of names.entries()) {
    const m = byName.get(name)
    if (m !== undefined && m.down !== undefined) continue
    const before = names.slice(0, i)
    const alone = before.length === 0 ? '' : ` (to revert ${before.join(', ')} alone, give steps: ${before.length})`
    if (m === undefined) throw dbError('NotFound', `migration ${name} is applied but was not given: cannot revert it: nothing was reverted${alone}`)
    throw dbError('ValidationError', `migrateDown: migration ${name} has no down(), so it cannot be reverted: nothing was reverted${alone}`, {
      issues: [{ path: name, rule: 'down', value: undefined, message: 'no down()' }],
    })
  }
}

/**
 * Where each migration stands: applied (with when), pending, failed (with the statements that
 * ran), or missing (applied, but not among those given).
 *
 * @example
 * for (const m of await run(migrationStatus(db, migrations))) console.log(m.state, m.name)
 */
export const migrationStatus = (db: Backend, migrations: readonly Migration[], options: MigrateOptions = {}): TaskEither<DbError, readonly MigrationState[]> =>
  tryDb(async () => {
    const table = options.table ?? DEFAULT_TABLE
    // Reading the status changes nothing: no history table means nothing applied yet.
    const tables = await run(runCatalog((f) => db.all(f), () => db.dialect.introspectTableNames()))
    const history = new Map((tables.includes(table) ? await readHistory(db, table) : []).map((h) => [h.name, h]))
    const names = [...new Set([...migrations.map((m) => m.name), ...history.keys()])].sort()
    const known = new Set(migrations.map((m) => m.name))
    return names.map((name): MigrationState => {
      const h = history.get(name)
      if (h === undefined) return { name, state: 'pending' }
      if (h.status === 'failed') return { name, state: 'failed', appliedAt: h.appliedAt, direction: h.direction, statements: h.statements, error: h.error }
      return { name, state: known.has(name) ? 'applied' : 'missing', appliedAt: h.appliedAt }
    })
  })

/**
 * Forget failed migrations (MySQL and MariaDB keep them): a failed `up` becomes pending again,
 * a failed `down` applied again. Put the database right first.
 *
 * @example await run(repairMigrations(db))
 */
export const repairMigrations = (db: Backend, options: MigrateOptions = {}): TaskEither<DbError, readonly string[]> =>
  tryDb(async () => {
    const table = options.table ?? DEFAULT_TABLE
    return locked(db, options, async (tx) => {
      await ensureHistory(tx, table)
      const failed = (await readHistory(tx, table)).filter((h) => h.status === 'failed')
      for (const f of failed) {
        await run(tx.execute(f.direction === 'up'
          ? pipe(deleteFrom(table), where({ name: f.name }))
          : pipe(update(table), set({ status: 'applied', direction: 'up', error: null }), where({ name: f.name }))))
      }
      return failed.map((f) => f.name)
    })
  })
