/**
 * compose / extend / wrap: the only way backends are made and changed.
 *
 * ```ts
 * const db = compose(betterSqlite3({ filename: 'app.db' }), sqlite)          // make
 * const legacy = extend(sqlite, (self, base) => ({ limitOffset: ... }))       // change one function
 * const logged = wrap(db, { execute: (next) => (q) => { log(q); return next(q) } }) // middleware
 * ```
 *
 * A Backend is a frozen record of functions. Its functions reach each other through `self`,
 * so `wrap(db, { execute })` also sees the BEGIN, SAVEPOINT and COMMIT that `transaction`
 * issues, and the queries a model runs. Streams go through `stream` instead (wrap it too).
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import * as E from './fp.js'
import { runUnit, unitTexts, type UnitStatements } from './sync-unit.js'
import type { Option } from 'fp-ts/lib/Option.js'
import { none, some } from './fp.js'
import type { IOEither } from 'fp-ts/lib/IOEither.js'
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import type { InsertNode, UpdateNode } from './ast.js'
import type { Compilable, Dialect, TransactionOptions } from './dialect.js'
import type { Connection, Driver, QueryResult, Row, StreamOptions } from './driver.js'
import { dbError, type DbError, isDbError, toDbError, withSql } from './errors.js'
import type { Query } from './query.js'
import { extend, extendLayer, fix, hasLayer, layered } from './record.js'
import { decodedResult, decodeResults, resultColumns } from './results.js'
import { type Compiled, type Fragment, isCompiled, sql } from './sql.js'
import { adaptedBefore, atParameter, describeValue, markAdapted } from './values.js'
import { withFields } from './objects.js'
import { batchIsAllOrNothing } from './drivers/sql-start.js'
import { tooLongOfWrite } from './value-too-large.js'
import { AFTER_COMMIT, type AfterCommitCallback, runAfterCommit, type WithAfterCommit } from './after-commit.js'

export { extend } from './record.js'

/** A statement in any form `execute` takes: query data, a `sql` fragment, or compiled SQL. */
export type Executable<R = Row> = Query<R> | Compilable | Compiled

/** A query compiled once, run many times with different arguments. */
export interface Prepared<R = Row> {
  readonly compiled: Compiled
  /** Run with the named arguments (`param('id')` / `sql.placeholder('id')`). */
  readonly execute: (args?: Readonly<Record<string, unknown>>) => TaskEither<DbError, QueryResult<R>>
  readonly all: (args?: Readonly<Record<string, unknown>>) => TaskEither<DbError, R[]>
  readonly first: (args?: Readonly<Record<string, unknown>>) => TaskEither<DbError, Option<R>>
  /**
   * The same without a Promise, on a backend with a synchronous path (`Backend.sync`); a Left
   * ConnectionError while a transaction elsewhere holds the connection.
   *
   * @example
   * const user = db.prepare(q).sync?.first({ id: 1 })()
   */
  readonly sync?: PreparedSync<R>
}

/** How `prepare` treats the rows of its query. */
export interface PrepareOptions<R> {
  /**
   * Decodes the rows the driver returned, in place or into new ones, on every path (async,
   * synchronous, `execute`/`all`/`first`); what it throws is the call's Left. Models use it so a
   * decoded `find` costs no extra step per call.
   *
   * @example
   * const p = db.prepare(q, { decode: (rows) => rows.map((r) => ({ ...r, active: r.active === 1 })) })
   */
  readonly decode?: (rows: Row[]) => R[]
}

/** A prepared query's synchronous form (see `Prepared.sync`). */
export interface PreparedSync<R = Row> {
  readonly execute: (args?: Readonly<Record<string, unknown>>) => IOEither<DbError, QueryResult<R>>
  readonly all: (args?: Readonly<Record<string, unknown>>) => IOEither<DbError, R[]>
  readonly first: (args?: Readonly<Record<string, unknown>>) => IOEither<DbError, Option<R>>
}

/**
 * Statements answered without a Promise: present on a backend whose driver runs them
 * synchronously (better-sqlite3). Prepared queries, `first` and models use it while `ready()`,
 * and the ordinary async path otherwise. Inside a transaction it runs on the transaction's
 * connection, as `execute` does. An INSERT the dialect splits (more values than one statement
 * may bind, `insertStatements`) runs as one unit here too: BEGIN ... COMMIT, or a savepoint inside
 * a transaction, undone whole when a part fails. `wrap` removes it when middleware replaces
 * `execute`, `all`, `first` or `query` and gives no `sync` of its own, so such middleware still
 * sees every statement.
 *
 * @example
 * const r = db.sync?.ready() ? db.sync.first<{ one: number }>(sql`SELECT 1 AS one`)() : undefined
 */
export interface SyncBackend {
  /** Whether a statement can run now; false while a transaction elsewhere holds the connection. */
  readonly ready: () => boolean
  /** Run one statement now (a Left ConnectionError when not `ready`). */
  readonly execute: <R = Row>(q: Executable<R>) => IOEither<DbError, QueryResult<R>>
  /** The rows of one statement, now. */
  readonly all: <R = Row>(q: Executable<R>) => IOEither<DbError, R[]>
  /** The first row of one statement, if any, now. */
  readonly first: <R = Row>(q: Executable<R>) => IOEither<DbError, Option<R>>
}

/** The Backend record. */
export interface Backend {
  readonly dialect: Dialect
  readonly driver: Driver
  /** Query data or a fragment to SQL text and parameters. Pure. */
  readonly compile: (q: Compilable) => E.Either<DbError, Compiled>
  /** Run one statement; inside `transaction` it runs on the transaction's connection. */
  readonly execute: <R = Row>(q: Executable<R>) => TaskEither<DbError, QueryResult<R>>
  /** The rows of one statement. */
  readonly all: <R = Row>(q: Executable<R>) => TaskEither<DbError, R[]>
  /** The first row of one statement, if any. */
  readonly first: <R = Row>(q: Executable<R>) => TaskEither<DbError, Option<R>>
  /** Run a raw `sql` fragment and return its rows. */
  readonly query: <R = Row>(fragment: Fragment) => TaskEither<DbError, R[]>
  /**
   * Rows one at a time, fetched in batches; breaking out early releases the connection. Throws
   * DbError. Inside a transaction (or on a reserved connection) the stream runs on that
   * connection and holds it from its first read to the end of its loop: meanwhile statements,
   * streams and savepoints on the transaction fail at once with TransactionError (a connection
   * runs one command at a time), and a stream still open when the transaction ends is closed
   * before its COMMIT. Middleware sees streams through `stream`, not `execute`.
   *
   * @example
   * for await (const row of db.stream(sql`SELECT id FROM track`, { batchSize: 500 })) console.log(row.id)
   */
  readonly stream: <R = Row>(q: Executable<R>, options?: StreamOptions) => AsyncIterable<R>
  /** Compile once; run many times; `options.decode` maps the rows on every path. */
  readonly prepare: <R = Row>(q: Executable<R>, options?: PrepareOptions<R>) => Prepared<R>
  /**
   * Run one statement once per set of parameters: the statement is compiled once, and each set
   * gives every one of its parameters, in order, as JS values (the dialect adapts them). Each run
   * goes through `execute` (middleware sees it; inside a transaction it uses the transaction's
   * connection) marked `batch`, so drivers keep the statement prepared. On a driver that
   * pipelines (postgres.js) the runs are issued together, otherwise one after another; either
   * way the results come back in order, or the first failure in run order. A batch of more than
   * one run of a statement that is not a SELECT is all or nothing: outside a transaction it runs
   * in one of its own (inside one, in the caller's, whose outcome decides). `Model.createMany`
   * inserts through it, a multi-row INSERT per set.
   *
   * @example
   * await run(db.executeBatch(sql`INSERT INTO tag (name) VALUES (${param('n')})`, [['a'], ['b']]))
   */
  readonly executeBatch: <R = Row>(q: Executable<R>, sets: readonly (readonly unknown[])[]) => TaskEither<DbError, QueryResult<R>[]>
  /**
   * Run `fn` in a transaction: commit if it succeeds, roll back and return its error if it
   * fails. Nested calls become savepoints. Every query inside runs on the transaction's
   * connection, whether it goes through `tx` or through the outer `db`. A thrown error (or a
   * rejected task) is a TransactionError whose `cause` is what was thrown.
   *
   * Where the database aborts a transaction at a failed statement (PostgreSQL), a callback that
   * recovered from the failure and succeeded gets a TransactionError (nothing was committed),
   * never a Right: recover inside a nested transaction instead, whose savepoint undoes only its
   * own work.
   *
   * Statements on a scope are ordered with its savepoints: one started on `tx` while a
   * savepoint of `tx` is open runs after that savepoint ends, never inside it (where its
   * rollback would undo what was reported done). `tx` used after its transaction ended fails
   * with TransactionError instead of running outside it; so does a call made from a callback
   * that outlived its transaction.
   *
   * The caller's own error type `E` crosses it as it is (a domain error rolls back too):
   * `db.transaction((tx) => pipe(User.find(tx, id), TE.chainW(TE.fromOption(() => new Conflict()))))`
   * is a `TaskEither<DbError | Conflict, User>`.
   */
  readonly transaction: <E = never, A = unknown>(fn: (tx: Backend) => TaskEither<E | DbError, A>, options?: TransactionOptions) => TaskEither<E | DbError, A>
  /** Whether the caller is inside a transaction of this backend. */
  readonly inTransaction: () => boolean
  /**
   * Run `fn` under `SAVEPOINT name` inside the current transaction: released when it succeeds,
   * rolled back to when it fails (the transaction goes on either way). Ordered with the
   * transaction's other savepoints and statements as a nested `transaction` is; outside a
   * transaction it is a TransactionError.
   *
   * @example
   * db.transaction((tx) => tx.savepoint('coupon', (sp) => sp.execute(applyCoupon)))
   */
  readonly savepoint: <E = never, A = unknown>(name: string, fn: (sp: Backend) => TaskEither<E | DbError, A>) => TaskEither<E | DbError, A>
  /**
   * Begin a transaction and hand it back open: a controlled transaction, the alternative to
   * the callback form. See `Transaction`. Inside a transaction it is a TransactionError (use a
   * savepoint); on a reserved connection (`connection()`) it begins on that connection.
   *
   * @example
   * const tx = await run(db.startTransaction())
   * await run(tx.execute(sql`UPDATE account SET balance = balance - 10 WHERE id = 1`))
   * await run(tx.commit())
   */
  readonly startTransaction: (options?: TransactionOptions) => TaskEither<DbError, Transaction>
  /**
   * Reserve one connection until `release()`, for session state (`SET`, temporary tables,
   * session variables): every call on the handle runs on that connection. See
   * `ReservedConnection`.
   *
   * @example
   * const conn = await run(db.connection())
   * await run(conn.execute(sql`CREATE TEMPORARY TABLE scratch (id INTEGER)`))
   * await run(conn.release())
   */
  readonly connection: () => TaskEither<DbError, ReservedConnection>
  /**
   * Close the backend. From the call on, statements and transactions outside open
   * transactions and reserved connections fail with ConnectionError (`code: 'BACKEND_CLOSED'`),
   * and the backend never reopens; open transactions and reserved connections (their statements
   * and transactions included) may still run and end, up to `timeout` ms (default 30 s), after
   * which their connections are closed and the server rolls them back. Then the driver's
   * connections close: statements and streams still running outside transactions may finish
   * within what is left of `timeout` (without one, the driver's default: 5 s on postgres.js and
   * mysql2), after which their connections are closed under them and they fail with
   * ConnectionError. Every backend made from the same driver (`wrap`) is closed with it.
   *
   * @example
   * await run(db.close({ timeout: 1_000 })) // ends within about a second, whatever still runs
   */
  readonly close: (options?: CloseOptions) => TaskEither<DbError, void>
  /** The synchronous path, where the driver has one (see `SyncBackend`). */
  readonly sync?: SyncBackend
  /**
   * The hook `afterCommit` (src/after-commit.ts) reaches the transaction a call runs in through:
   * every backend made by `compose` has it, and so does every handle of one (transactions,
   * savepoints, reserved connections; `wrap` and `extend` keep it). Not for calling: use
   * `afterCommit(db, f)`.
   *
   * @example
   * await run(afterCommit(db, () => console.log('stored'))) // not db[AFTER_COMMIT]
   */
  readonly [AFTER_COMMIT]?: (f: AfterCommitCallback) => TaskEither<DbError, void>
}

/**
 * `savepoint` on a controlled transaction or savepoint: with a name only, it opens
 * `SAVEPOINT name` and hands back its handle (see `Savepoint`); with a callback, it is
 * `Backend.savepoint`.
 */
export interface ScopeSavepoint {
  <E = never, A = unknown>(name: string, fn: (sp: Backend) => TaskEither<E | DbError, A>): TaskEither<E | DbError, A>
  (name: string): TaskEither<DbError, Savepoint>
}

/** A backend bound to one open transaction or savepoint, whose end its owner decides. */
export interface ControlledScope extends Omit<Backend, 'savepoint'> {
  /**
   * Open a named savepoint and hand back its handle, or run a callback under one. While a
   * savepoint handle is open, calls on this scope itself fail with TransactionError (run them
   * on the savepoint's handle, or end it first), so its rollback never undoes a statement
   * reported done on the outer scope.
   */
  readonly savepoint: ScopeSavepoint
}

/**
 * A controlled transaction (`db.startTransaction()`): a Backend whose every call runs in the
 * transaction, plus `commit` and `rollback`. After either (even one that failed), the handle
 * and its savepoints refuse every call with TransactionError. `wrap` middleware sees its BEGIN,
 * SAVEPOINT, COMMIT and ROLLBACK. The transaction holds its connection until it ends; on an
 * engine with one connection (SQLite) other work waits for it, up to the driver's
 * `acquireTimeout` (then PoolTimeout). `close({ timeout })` waits for it like any transaction.
 *
 * @example
 * const tx = await run(db.startTransaction({ isolation: 'serializable' }))
 * const ok = await tx.execute(debit)()
 * await run(E.isRight(ok) ? tx.commit() : tx.rollback())
 */
export interface Transaction extends ControlledScope {
  /** COMMIT. A commit that fails is followed by a ROLLBACK; the handle has ended either way. */
  readonly commit: () => TaskEither<DbError, void>
  /** ROLLBACK; the handle has ended. */
  readonly rollback: () => TaskEither<DbError, void>
}

/** An open named savepoint of a controlled transaction (`tx.savepoint(name)`). */
export interface Savepoint extends ControlledScope {
  readonly name: string
  /** `RELEASE SAVEPOINT name`: keep its work in the transaction; the handle has ended. */
  readonly release: () => TaskEither<DbError, void>
  /** `ROLLBACK TO SAVEPOINT name` then release it: undo its work; the handle has ended. */
  readonly rollback: () => TaskEither<DbError, void>
}

/**
 * One connection held for its owner (`db.connection()`): every call on it runs on that
 * connection, outside any transaction unless it starts one (`transaction`, `startTransaction`,
 * which then runs on this connection). While a transaction of its own is open, calls on the
 * connection handle itself fail with TransactionError (use the transaction's handle).
 * `release()` gives the connection back; the handle then refuses every call.
 *
 * @example
 * const conn = await run(db.connection())
 * await run(conn.execute(sql`SET search_path TO archive`))
 * const rows = await run(conn.all(sql`SELECT * FROM invoice`))
 * await run(conn.release())
 */
export interface ReservedConnection extends Backend {
  /** Give the connection back; the handle then refuses every call. */
  readonly release: () => TaskEither<DbError, void>
}

// ---------------------------------------------------------------- transaction context

/** A transaction (or savepoint) scope: which driver, which connection, how deep. */
interface Frame {
  readonly driver: Driver
  readonly conn: Connection
  readonly depth: number
  /**
   * The tail of this scope's queue. Savepoints opened in the scope take turns through it, and
   * while one is scheduled or open, statements on the scope itself queue behind it too: a
   * statement run on the outer transaction must not run inside a sibling savepoint, where a
   * rollback of that savepoint would undo it after it was reported done.
   */
  queue: Promise<unknown>
  /** Savepoints of this scope scheduled or open; statements queue only when this is above 0. */
  pending: number
  /** Set when the transaction or savepoint has ended: its scope refuses further statements. */
  ended: boolean
  /**
   * Shared by a transaction and its savepoints: how many savepoints were named, the first
   * statement that failed in the transaction, if any (see `abortedBy`), and the callbacks
   * `afterCommit` queued for its COMMIT, each with the scope it was registered in (see
   * `queueAfter`); the list is made by the first one, so a transaction without any has none.
   */
  readonly counter: { n: number; failed?: DbError; ended?: DbError; after?: Queued[] }
  /** The stream open on this scope's connection, shared by every scope on that connection. */
  readonly streams: StreamSlot
  /** The enclosing scope of the same transaction (for a savepoint). */
  readonly up?: Frame
  /** The context the transaction was started in (possibly another backend's transaction). */
  readonly parent?: Frame
  /**
   * A scope whose end its owner decides (`startTransaction`, a savepoint handle, or a
   * transaction on a reserved connection) now open inside this one: calls on this scope's own
   * handle are refused until it ends.
   */
  held?: Frame
  /** Set once a controlled scope's end has begun: its handle refuses further calls. */
  finishing?: boolean
  /** A reserved connection outside any transaction (`connection()`): a transaction begins on it. */
  readonly session?: boolean
  /** The savepoint's name, for messages. */
  readonly name?: string
  /** The name its SAVEPOINT statement used (see `savepointSqlName`). */
  readonly sqlName?: string
}

/**
 * The name a savepoint's statements use: the one asked for, unless a savepoint enclosing it in
 * the same transaction uses that name already, then that name with a number (`step_2`).
 * PostgreSQL and SQLite nest savepoints of one name, but MySQL and MariaDB replace the older one
 * by the newer: the outer savepoint's RELEASE or ROLLBACK TO then failed ("SAVEPOINT step does
 * not exist") and could not undo its work. So each keeps undoing exactly its own work everywhere.
 */
const savepointSqlName = (parent: Frame, name: string): string => {
  const used = new Set<string>()
  for (let f: Frame | undefined = parent; f !== undefined; f = f.up) if (f.sqlName !== undefined) used.add(f.sqlName)
  if (!used.has(name)) return name
  for (let i = 2; ; i++) if (!used.has(`${name}_${i}`)) return `${name}_${i}`
}

/**
 * The stream open on one held connection (a transaction's, with its savepoints, or a reserved
 * one), if any. A connection runs one command at a time, and a stream is a command that lasts
 * until its loop ends: a statement sent meanwhile would wait behind it on PostgreSQL and MariaDB
 * while the loop waits for the statement, for ever. So while `open` is set, statements and other
 * streams on the connection are refused (`streamOpenError`), on every engine alike.
 */
interface StreamSlot {
  open?: AsyncGenerator<unknown>
}

const txContext = new AsyncLocalStorage<Frame>()

/**
 * How long the scope storage stays on after the last scope ended (see `inScope`), in ms.
 * A callback that outlived its transaction and calls within this time is refused (`frameFor`).
 */
const QUIET_MS = 250

/** Transactions and reserved connections that have begun, until a look finds them ended. */
const openScopes = new Set<Frame>()
let quietTimer: ReturnType<typeof setTimeout> | undefined

/**
 * Run `f` in `frame`'s context. On Node 20, an AsyncLocalStorage with a store follows every
 * promise of the process through a promise hook, recordkit's and the application's alike, for as
 * long as it is enabled: measured, 1000 concurrent point selects on PostgreSQL took 15-20% more
 * CPU per statement once any transaction had run. So the storage is disabled once no scope is
 * open and none has been for QUIET_MS; the next scope enables it again. Calls made later from a
 * callback that outlived its transaction by more than that no longer find the transaction's
 * context (they run as calls of the backend would); within it they are refused, as before.
 *
 * @example inScope(frame, () => handle.execute(f)())
 */
const inScope = <T>(frame: Frame, f: () => T): T => {
  if (frame.depth === 0 && !frame.ended) openScopes.add(frame)
  if (quietTimer === undefined) armQuiet()
  return txContext.run(frame, f)
}

const armQuiet = (): void => {
  quietTimer = setTimeout(lookQuiet, QUIET_MS)
  quietTimer.unref?.()
}

/** Forget the scopes that ended; with none open, disable the storage, else look again later. */
const lookQuiet = (): void => {
  quietTimer = undefined
  for (const f of openScopes) if (f.ended) openScopes.delete(f)
  if (openScopes.size > 0) armQuiet()
  else txContext.disable()
}

/** Whether the scope storage is enabled now (see `inScope`); for tests. */
export const scopeStorageEnabled = (): boolean => quietTimer !== undefined

/** What a call finds in its context: no transaction, a live scope, or only scopes that ended. */
const ENDED = 'ended' as const

/**
 * The live scope of this driver in the current context. A savepoint that ended gives way to
 * its enclosing scope; when every scope of the driver in the context has ended (a callback
 * that outlived its transaction), the call is refused rather than run outside it.
 */
const frameFor = (driver: Driver): Frame | typeof ENDED | undefined => {
  let f = txContext.getStore()
  let stale = false
  while (f !== undefined) {
    if (f.driver === driver) {
      if (!f.ended) return f
      stale = true
      f = f.up ?? f.parent
    } else {
      f = f.parent
    }
  }
  return stale ? ENDED : undefined
}

/** Whether `f` is `scope` or a savepoint inside it. */
const within = (f: Frame | undefined, scope: Frame): boolean => {
  for (let x = f; x !== undefined; x = x.up) if (x === scope) return true
  return false
}

/** A callback `afterCommit` queued, and the scope (transaction or savepoint) it was queued in. */
interface Queued {
  readonly at: Frame
  readonly f: AfterCommitCallback
}

/**
 * Queue `f` for the COMMIT of the transaction `frame` belongs to. One list per transaction,
 * in registration order; each entry remembers its scope, so a savepoint rolled back drops what
 * was queued in it or in savepoints inside it (`dropAfter`), and a released one leaves its
 * entries in place, where a rollback of an enclosing savepoint still finds them.
 */
const queueAfter = (frame: Frame, f: AfterCommitCallback): void => {
  const c = frame.counter
  if (c.after === undefined) c.after = []
  c.after.push({ at: frame, f })
}

/** A savepoint rolled back: the callbacks queued in it (or in savepoints inside it) are dropped. */
const dropAfter = (frame: Frame): void => {
  const after = frame.counter.after
  if (after !== undefined) frame.counter.after = after.filter((q) => !within(q.at, frame))
}

/**
 * After a transaction's COMMIT was acknowledged and its connection given back: run what
 * `afterCommit` queued (see `runAfterCommit`), and answer with `result`, or with the
 * TransactionError (`committed: true`) of a callback that failed.
 */
const afterCommitted = async <L, A>(queued: readonly Queued[] | undefined, result: E.Either<L, A>): Promise<E.Either<L | DbError, A>> => {
  if (queued === undefined || queued.length === 0) return result
  const ran = await runAfterCommit(queued.map((q) => q.f), true)
  return E.isLeft(ran) ? ran : result
}

/** Run `f` in its turn on a scope: at once, unless savepoints of the scope are pending. */
const inTurn = <A>(frame: Frame, f: () => Promise<A>): Promise<A> => {
  if (frame.pending === 0) return f()
  const p = frame.queue.then(f, f)
  frame.queue = p
  return p
}

/**
 * Why a call on a scope's own handle is refused now, if it is: the scope ended (or its end has
 * begun), or a controlled scope inside it is open.
 */
const refusal = (frame: Frame): DbError | undefined =>
  frame.ended || frame.finishing === true
    ? endedError()
    : frame.held === undefined
      ? undefined
      : dbError('TransactionError', frame.held.name !== undefined
        ? `savepoint ${frame.held.name} is open: run this call on its handle, or release it or roll it back first`
        : 'a transaction on this connection is open: run this call on its handle, or commit it or roll it back first')

/** A statement or stream refused because a stream is open on the same held connection. */
const streamOpenError = (frame: Frame, sql: string, stream = false): DbError => {
  const scope = frame.session === true ? 'reserved connection' : 'transaction'
  return withSql(dbError('TransactionError', `a stream of this ${scope} is open, and its connection runs one command at a time: read the stream to its end or close it (leave its loop, or call return() on its iterator) before running ${stream ? 'another stream' : 'a statement'} on the ${scope}`), sql)
}

/**
 * Close the stream left open on a scope's connection, as leaving its loop would, before the
 * scope's COMMIT, ROLLBACK, RELEASE or the connection's release. What closing it throws
 * belonged to its loop, which was given up.
 */
const closeOpenStream = async (frame: Frame): Promise<void> => {
  const open = frame.streams.open
  if (open === undefined) return
  try {
    await open.return(undefined)
  } catch {
    // Nothing waits for the stream any more.
  } finally {
    if (frame.streams.open === open) frame.streams.open = undefined
  }
}

/**
 * A statement's result, the transaction noting the first one that failed (see `abortedBy`), and
 * the failure that made the database roll the whole transaction back (`endedTransaction`: MySQL
 * and MariaDB at a deadlock), after which its statements are refused (see `endedBy`).
 */
const noted = <T>(frame: Frame, r: E.Either<DbError, T>): E.Either<DbError, T> => {
  if (r._tag === 'Left') {
    const c = frame.counter
    // PostgreSQL refusing a statement of a transaction that failed before names no reason: the
    // failure that aborted it becomes the refusal's cause (what `retry` reads to run it again).
    if (r.left.code === IN_FAILED_TRANSACTION && c.failed !== undefined && !isDbError(r.left.cause)) {
      const e = r.left
      return E.left(dbError('TransactionError', `${e.message}: an earlier statement of this transaction failed (${c.failed.message.split('\n')[0]})`, { code: e.code, cause: c.failed, ...(e.sql === undefined ? {} : { sql: e.sql }), ...(e.params === undefined ? {} : { params: e.params }) }))
    }
    if (c.failed === undefined) c.failed = r.left
    if (r.left.endedTransaction === true && frame.session !== true && c.ended === undefined) c.ended = r.left
  }
  return r
}

/** SQLSTATE in_failed_sql_transaction: PostgreSQL ignores statements until the transaction ends. */
const IN_FAILED_TRANSACTION = '25P02'

/**
 * Why a statement may not run in the transaction of `frame`: the database rolled the whole
 * transaction back when a statement in it failed (a deadlock on MySQL and MariaDB), and the
 * connection goes on outside any transaction, where the statement would be committed alone
 * while the transaction is reported failed. Only the transaction's ROLLBACK still runs
 * (`ENDING`). Undefined while the transaction is open.
 */
const endedBy = (frame: Frame, q: object, sqlText: string): DbError | undefined => {
  const ended = frame.counter.ended
  if (ended === undefined || ENDING.has(q)) return undefined
  return dbError('TransactionError', `the database rolled this transaction back when a statement in it failed (${ended.message.split('\n')[0]}): the statement was not run, since it would run outside any transaction and be committed alone. End the transaction (return the failure from its callback, or roll it back) and run it again from the start`, { cause: ended, sql: sqlText })
}

/** The savepoint `abortedBy` asks a transaction with. */
const COMMIT_PROBE = 'rk_commit_probe'

/**
 * Why the transaction of `frame` can no longer commit, when a statement in it failed: asked of
 * its connection with a savepoint made and released, which only a transaction still open
 * allows. PostgreSQL refuses every statement of a transaction after one failed (outside a
 * savepoint rolled back to), and answers its COMMIT with a ROLLBACK that reports no error;
 * MySQL and MariaDB roll the whole transaction back at a deadlock, and run the statements after
 * it outside any transaction. Without this, a callback that recovered from the failure would be
 * told its transaction committed. Where a failed statement is undone alone (SQLite, and MySQL /
 * MariaDB for most errors), the transaction commits. Undefined when it can commit.
 */
const abortedBy = async (dialect: Dialect, frame: Frame): Promise<DbError | undefined> => {
  const failed = frame.counter.ended ?? frame.counter.failed
  if (failed === undefined) return undefined
  if (frame.counter.ended !== undefined) return abortedError(failed)
  let probe: readonly string[]
  try {
    probe = [dialect.savepoint(COMMIT_PROBE), dialect.releaseSavepoint(COMMIT_PROBE)]
  } catch {
    // A dialect without savepoints: any statement tells an aborted PostgreSQL-like transaction.
    probe = ['SELECT 1']
  }
  for (const text of probe) {
    const r = await frame.conn.execute({ sql: text, params: [] })()
    if (E.isLeft(r)) return abortedError(failed)
  }
  return undefined
}

/**
 * A COMMIT that failed with its connection. Sent, the server may have committed before the
 * connection went (only its answer was lost) or rolled back, and nothing on this side can tell
 * which: the error says so (`outcome: 'unknown'`). Never sent (`sent: false`: the connection was
 * gone already, or the backend closed it), nothing was committed, and the error says that. Either
 * way it keeps the driver's statement, code and cause.
 */
const commitLost = (e: DbError): DbError => {
  if (e._tag !== 'ConnectionError') return e
  const first = e.message.split('\n')[0]
  const fields = { cause: e.cause ?? e, ...(e.code === undefined ? {} : { code: e.code }), ...(e.params === undefined ? {} : { params: e.params }) }
  const lost = e.sent === false
    ? dbError('ConnectionError', `the connection was gone before COMMIT was sent, so nothing of the transaction was committed: the server rolls back a transaction whose connection went (${first})`, { ...fields, sent: false })
    : dbError('ConnectionError', `the connection was lost during COMMIT, so the outcome is unknown: the transaction may have been committed (only the answer was lost) or rolled back. Check before running it again, or make it idempotent (${first})`, { ...fields, outcome: 'unknown' })
  return e.sql === undefined ? lost : withSql(lost, e.sql)
}

const abortedError = (failed: DbError): DbError =>
  dbError('TransactionError', `the transaction cannot commit: the database ended it when a statement in it failed (${failed.message.split('\n')[0]}). What ran in it before was rolled back, so nothing of it was committed; what the callback ran after did not run (PostgreSQL refuses it; after a MySQL or MariaDB deadlock recordkit does). Run a statement whose failure you recover from in a nested transaction (a savepoint): its failure then undoes only its own work (a deadlock undoes the whole transaction on MySQL and MariaDB)`, { cause: failed, ...(failed.sql === undefined ? {} : { sql: failed.sql }) })

const endedError = (): DbError =>
  dbError('TransactionError', 'the transaction this call belongs to has already ended (committed or rolled back); use the backend, or run the call inside the transaction')

const closedError = (driver: Driver): DbError =>
  dbError('ConnectionError', `the backend is closed (${driver.name}); it does not reopen: make a new one`, { code: 'BACKEND_CLOSED', sent: false })

/**
 * Open transactions and the closed state, per driver: every backend made from one driver
 * (`wrap`, `extend`) shares them, so closing any of them closes the driver for all.
 */
interface Lifecycle {
  closing: boolean
  closed: boolean
  open: number
  /** Called when `open` drops to 0 while closing. */
  drained?: () => void
}

const lifecycles = new WeakMap<Driver, Lifecycle>()

const lifecycleOf = (driver: Driver): Lifecycle => {
  let l = lifecycles.get(driver)
  if (l === undefined) {
    l = { closing: false, closed: false, open: 0 }
    lifecycles.set(driver, l)
  }
  return l
}

/** Options of `Backend.close`. */
export interface CloseOptions {
  /**
   * Milliseconds `close` may take: open transactions may end within it, and statements and
   * streams running outside transactions may finish within what is left; then the connections
   * are closed under them (the server rolls the transactions back) and they fail with
   * ConnectionError. Default: 30,000 for transactions, then the driver's own limit for statements
   * (`closeTimeout`, 5 s, on postgres.js; 5 s on mysql2).
   */
  readonly timeout?: number
}

/** The savepoint a split INSERT on the synchronous path opens inside a transaction (see `syncRunAll`). */
const SYNC_INSERT_SAVEPOINT = 'rk_insert_parts'

/**
 * The results of a split INSERT's parts as one: every part's rows in order, their counts summed,
 * the insertId one statement would report (`Dialect.insertIdOfMany`: the first part's that has
 * one on MySQL and MariaDB, the last part's elsewhere).
 */
const addedUp = <R>(results: readonly QueryResult<R>[], dialect: Dialect): QueryResult<R> => {
  const rows: R[] = []
  let rowsAffected = 0
  let insertId: number | bigint | undefined
  const first = dialect.insertIdOfMany === 'first'
  for (const r of results) {
    for (const row of r.rows) rows.push(row)
    rowsAffected += r.rowsAffected
    if (r.insertId !== undefined && (!first || insertId === undefined)) insertId = r.insertId
  }
  return insertId === undefined ? { rows, rowsAffected } : { rows, rowsAffected, insertId }
}


const leftTask = <A>(e: DbError): TaskEither<DbError, A> => () => Promise.resolve(E.left(e))

/**
 * Run a TaskEither-returning callback, turning throws and rejections into Lefts. A callback that
 * returns something else (an `async` function returns a Promise) is a TransactionError saying so.
 */
const attempt = async <X, A>(f: () => TaskEither<X, A>): Promise<E.Either<X | DbError, A>> => {
  try {
    const task: unknown = f()
    if (typeof task !== 'function') {
      // A Promise it returned settles unobserved: its rejection is reported here instead.
      if (task instanceof Promise) task.catch(() => undefined)
      return E.left(dbError('TransactionError', `the transaction callback must return a TaskEither (a function returning a Promise of an Either), got ${describeValue(task)}: for an async callback use promised(db).transaction, or wrap the async work in tryDb(async () => ...); the transaction was rolled back`))
    }
    return await (task as TaskEither<X, A>)()
  } catch (e) {
    return E.left(toDbError(e, 'TransactionError'))
  }
}

/** Typed result columns read back; a DecodeError as a Left. */
const readBack = <A>(f: () => A): E.Either<DbError, A> => {
  try {
    return E.right(f())
  } catch (e) {
    return E.left(toDbError(e, 'DecodeError'))
  }
}

/** A value adapted by the dialect; a refusal names the parameter (`$n` or the hole's name). */
const bindAt = (dialect: Dialect, value: unknown, where: number | string, sql?: string): unknown => {
  try {
    return dialect.toDriver(value)
  } catch (e) {
    const refused = atParameter(e, where)
    throw sql === undefined ? refused : withSql(toDbError(refused), sql)
  }
}

/** The positions of a compiled statement's named parameters (`slots`) and their names, in order. */
const holeSlots = (compiled: Compiled): { readonly slots: readonly number[]; readonly names: readonly string[] } => {
  const slots: number[] = []
  const names: string[] = []
  compiled.holes?.forEach((h, i) => {
    if (h !== undefined) {
      slots.push(i)
      names.push(h)
    }
  })
  return { slots, names }
}

/** The QueryError of a prepared query run without one of its named arguments. */
const missingArgument = (compiled: Compiled) => (h: string): DbError =>
  dbError('QueryError', `prepared query is missing the argument "${h}"`, { sql: compiled.sql })

/**
 * A prepared statement's parameters with its named arguments bound (`slots` and `names` from
 * `holeSlots`): a missing argument is `missing`'s error, each value goes through `bindAt`.
 */
const bindNamed = (
  dialect: Dialect, compiled: Compiled, slots: readonly number[], names: readonly string[],
  args: Readonly<Record<string, unknown>> | undefined, missing: (name: string) => DbError,
): readonly unknown[] => {
  if (args === undefined) throw missing(names[0])
  const params = compiled.params.slice()
  for (let k = 0; k < slots.length; k++) {
    const h = names[k]
    const v = args[h]
    // An argument given as undefined is bound (as NULL); one not given at all is refused.
    if (v === undefined && !(h in args)) throw missing(h)
    params[slots[k]] = bindAt(dialect, v, h, compiled.sql)
  }
  return params
}

/** Named parameters a prepared statement may have for its binder to be generated (see `generatedBinder`). */
const GENERATED_BINDER_MAX = 32

/**
 * The binder of a prepared statement's named parameters (`slots[k]` is the position of the
 * parameter named `names[k]`), generated for those names: each argument is read by its own
 * name, a property access the engine keeps monomorphic, where one loop shared by every prepared
 * statement would read the names of all of them at one site. It does what the loop in `prepare`
 * does, in the same order: a missing argument is a QueryError, each value goes through
 * `bindAt`. Undefined where code generation is refused (a Content Security Policy without
 * 'unsafe-eval'); the loop is used then.
 */
const generatedBinder = (
  params: readonly unknown[], slots: readonly number[], names: readonly string[], backend: { readonly dialect: Dialect }, sql: string,
  missing: (name: string) => DbError,
): ((args: Readonly<Record<string, unknown>> | undefined) => readonly unknown[]) | undefined => {
  const quoted = names.map((h) => JSON.stringify(h))
  const steps = quoted.map((h, k) => `const v${k} = args[${h}]; if (v${k} === undefined && !(${h} in args)) throw missing(${h}); const b${k} = bindAt(backend.dialect, v${k}, ${h}, sql);`)
  // Every parameter named, in order (the common case): a new list of the bound values.
  const inOrder = slots.length === params.length && slots.every((s, k) => s === k)
  const result = inOrder
    ? `return [${quoted.map((_, k) => `b${k}`).join(', ')}];`
    : `const p = params.slice(); ${slots.map((s, k) => `p[${s}] = b${k};`).join(' ')} return p;`
  const source = `"use strict"; return function bindParams(args) { if (args === undefined) throw missing(${quoted[0]}); ${steps.join(' ')} ${result} };`
  try {
    return new Function('params', 'backend', 'sql', 'missing', 'bindAt', source)(params, backend, sql, missing, bindAt) as (args: Readonly<Record<string, unknown>> | undefined) => readonly unknown[]
  } catch (e) {
    if (e instanceof EvalError) return undefined
    throw e
  }
}

/** The statements that open a transaction with these options, or the dialect's refusal. */
const beginStatements = (dialect: Dialect, options: TransactionOptions): E.Either<DbError, readonly string[]> => {
  try {
    return E.right(dialect.beginTransaction(options))
  } catch (e) {
    return E.left(toDbError(e))
  }
}

// ---------------------------------------------------------------- scope handles

/** The layer of a scope handle's own fields (see `HandleOf`): a nested scope's handle replaces it. */
const SCOPE = Symbol('recordkit.scope')

/**
 * The statements that begin and end a scope (BEGIN, SAVEPOINT, RELEASE, ROLLBACK TO, COMMIT,
 * ROLLBACK). They run through the scope's handle, so middleware on it sees them, and its
 * `execute` runs them even once its end has begun, when it refuses every other call.
 */
const CONTROL = new WeakSet<object>()

/**
 * A scope's own statement (see `CONTROL`). The fragments are kept by text (BEGIN, COMMIT, the
 * savepoints of the usual depths), so a transaction makes none and their compiled text is cached.
 */
const control = (text: string): Fragment => {
  let f = controls.get(text)
  if (f === undefined) {
    f = sql.raw(text)
    CONTROL.add(f)
    // Savepoint names a program makes up as it goes must not grow the cache without end.
    if (controls.size >= 256) controls.clear()
    controls.set(text, f)
  }
  return f
}
const controls = new Map<string, Fragment>()

/** Run a scope's own statement through its handle, in the scope. */
const runOn = (handle: Backend, frame: Frame, text: string): Promise<E.Either<DbError, unknown>> => {
  const f = control(text)
  // The ROLLBACK that ends a transaction runs even after the database rolled it back (`endedBy`).
  if (frame.depth === 0 && text === handle.dialect.rollback()) ENDING.add(f)
  return inScope(frame, () => handle.execute(f)())
}

/** A driver's kept statement (see `SyncDriver.kept`). */
type KeptFirst = (params: readonly unknown[], adapted?: boolean) => Row | undefined

/** How many texts of built queries a backend keeps the driver's statements of (see `keptFor`). */
const KEPT_TEXTS = 256

/** The ROLLBACK statements of transactions (see `endedBy`). */
const ENDING = new WeakSet<object>()

/**
 * The handle of a scope, built from the record the scope was opened on (`from`): when that is a
 * handle of an enclosing scope, the new one is that handle with its scope layer replaced, so
 * middleware wrapped around it (`wrap(tx, ...)`, `wrap(conn, ...)`) is around the new handle too
 * and sees everything run at any depth. `extra` adds the fields of a controlled scope.
 */
type HandleOf = <H extends Backend>(frame: Frame, from: Backend | undefined, extra?: (me: H, own: Backend) => Partial<H>) => H

// ---------------------------------------------------------------- controlled transactions

/**
 * The controlled forms of a backend: `startTransaction`, savepoint handles and `connection`.
 * Each is a Frame like a callback-form transaction's, whose end its owner decides: its handle
 * is made by `handleOf`, and while it is open the scope it was opened on is `held` (calls on
 * that scope's own handle are refused rather than run inside it). The statements that begin
 * and end it run through its handle (`runOn`), where middleware wrapped around it sees them.
 */
const controlledScopes = (
  self: Backend,
  life: Lifecycle,
  handleOf: HandleOf,
) => {
  /** A scope and every controlled scope open inside it end together. */
  const endAll = (frame: Frame): void => {
    for (let f: Frame | undefined = frame; f !== undefined; f = f.held) f.ended = true
  }

  /** Wait for the callback-form savepoints still scheduled on a scope. */
  const settled = async (frame: Frame): Promise<void> => {
    if (frame.pending > 0) await frame.queue.then(() => undefined, () => undefined)
  }

  /** Begin the end of a scope: refused when it has ended or is ending already. */
  const claimEnd = (frame: Frame): DbError | undefined => {
    if (frame.ended || frame.finishing === true) return endedError()
    frame.finishing = true
    return undefined
  }

  const released = (frame: Frame): void => {
    if (frame.session === true && --life.open === 0) life.drained?.()
  }

  /** `savepoint` of a controlled scope: a handle with a name only, the callback form with one. */
  const savepointOf = (frame: Frame) => (me: Backend, own: Backend): Partial<ControlledScope> => ({
    savepoint: ((name: string, fn?: (sp: Backend) => TaskEither<unknown, unknown>) =>
      fn === undefined ? openSavepoint(frame, name, me) : own.savepoint(name, fn)) as ScopeSavepoint,
  })

  const openSavepoint = (parent: Frame, name: string, from: Backend): TaskEither<DbError, Savepoint> => async () => {
    const no = refusal(parent)
    if (no !== undefined) return E.left(no)
    const sqlName = savepointSqlName(parent, name)
    let sp: { readonly open: string; readonly rollback: string; readonly release: string }
    try {
      sp = { open: self.dialect.savepoint(sqlName), rollback: self.dialect.rollbackToSavepoint(sqlName), release: self.dialect.releaseSavepoint(sqlName) }
    } catch (e) {
      return E.left(toDbError(e))
    }
    const frame: Frame = { driver: parent.driver, conn: parent.conn, depth: parent.depth + 1, queue: Promise.resolve(), pending: 0, ended: false, counter: parent.counter, streams: parent.streams, up: parent, parent: parent.parent, name, sqlName }
    // Claimed at once, so a call on the parent made meanwhile is refused, not run inside it.
    parent.held = frame
    await settled(parent)
    // `undo`: what runs when `texts` failed (a RELEASE PostgreSQL refuses after a statement in
    // the savepoint failed is followed by a rollback to it, so the transaction can go on).
    // `undoes`: the savepoint's work is undone (its rollback), and so are its afterCommit callbacks.
    const finish = (me: Backend, texts: readonly string[], undo: readonly string[] = [], undoes = false): TaskEither<DbError, void> => async () => {
      const refused = claimEnd(frame)
      if (refused !== undefined) return E.left(refused)
      await settled(frame)
      await closeOpenStream(frame)
      let out: E.Either<DbError, unknown> = E.right(undefined)
      for (const t of texts) {
        const r = await runOn(me, frame, t)
        if (E.isLeft(r) && E.isRight(out)) out = r
      }
      if (E.isLeft(out)) for (const t of undo) await runOn(me, frame, t)
      if (undoes || E.isLeft(out)) dropAfter(frame)
      endAll(frame)
      if (parent.held === frame) parent.held = undefined
      return E.isLeft(out) ? out : E.right(undefined)
    }
    const handle = handleOf<Savepoint>(frame, from, (me, own) => ({
      ...savepointOf(frame)(me, own),
      name,
      release: () => finish(me, [sp.release], [sp.rollback, sp.release]),
      rollback: () => finish(me, [sp.rollback, sp.release], [], true),
    }))
    const opened = await runOn(handle, frame, sp.open)
    if (E.isLeft(opened)) {
      frame.ended = true
      parent.held = undefined
      return opened
    }
    return E.right(handle)
  }

  const start = (options: TransactionOptions, from: Backend | undefined): TaskEither<DbError, Transaction> => async () => {
    const here = frameFor(self.driver)
    if (here === ENDED) return E.left(endedError())
    if (here !== undefined && here.session !== true) {
      return E.left(dbError('TransactionError', 'startTransaction inside a transaction: open a savepoint instead (tx.savepoint(name))'))
    }
    // A reserved connection is still held while the backend closes: its work may go on.
    if (life.closing && here === undefined) return E.left(closedError(self.driver))
    const opening = beginStatements(self.dialect, options)
    if (E.isLeft(opening)) return opening
    const begin = opening.right
    // On a reserved connection the transaction uses it (already counted open) and keeps it.
    const session = here
    if (session === undefined) life.open++
    const done = (): void => {
      if (session === undefined && --life.open === 0) life.drained?.()
    }
    const reserved = session === undefined ? await self.driver.reserve()() : E.right(session.conn)
    if (E.isLeft(reserved)) {
      done()
      return reserved
    }
    const conn = reserved.right
    const frame: Frame = { driver: self.driver, conn, depth: 0, queue: Promise.resolve(), pending: 0, ended: false, counter: { n: 0 }, streams: session?.streams ?? {}, parent: session ?? txContext.getStore() }
    if (session !== undefined) session.held = frame
    /** The scope ends and its connection goes back; `done` then counts it closed (see `finish`). */
    const letGo = async (): Promise<void> => {
      endAll(frame)
      if (session === undefined) await conn.release()
      else if (session.held === frame) session.held = undefined
    }
    const end = async (): Promise<void> => {
      await letGo()
      done()
    }
    const finish = (me: Backend, commit: boolean): TaskEither<DbError, void> => async () => {
      const refused = claimEnd(frame)
      if (refused !== undefined) return E.left(refused)
      await settled(frame)
      await closeOpenStream(frame)
      let committed = false
      const out = await (async (): Promise<E.Either<DbError, void>> => {
        try {
          const stuck = commit ? await abortedBy(self.dialect, frame) : undefined
          if (stuck !== undefined) {
            await runOn(me, frame, self.dialect.rollback())
            return E.left(stuck)
          }
          const r = await runOn(me, frame, commit ? self.dialect.commit() : self.dialect.rollback())
          if (E.isRight(r)) {
            committed = commit
            return E.right(undefined)
          }
          if (!commit) return r
          // A COMMIT that failed leaves nothing half done: roll back what may remain.
          await runOn(me, frame, self.dialect.rollback())
          return E.left(commitLost(r.left))
        } finally {
          await letGo()
        }
      })()
      // The afterCommit callbacks run once the COMMIT is acknowledged and the connection is back,
      // before the transaction counts as ended for `close`, as for the callback form.
      try {
        return committed ? await afterCommitted(frame.counter.after, out) : out
      } finally {
        done()
      }
    }
    const handle = handleOf<Transaction>(frame, from, (me, own) => ({
      ...savepointOf(frame)(me, own),
      commit: () => finish(me, true),
      rollback: () => finish(me, false),
    }))
    for (const text of begin) {
      const r = await runOn(handle, frame, text)
      if (E.isLeft(r)) {
        await end()
        return r
      }
    }
    return E.right(handle)
  }

  const reserve = (): TaskEither<DbError, ReservedConnection> => async () => {
    const here = frameFor(self.driver)
    if (here === ENDED) return E.left(endedError())
    if (here !== undefined) return E.left(dbError('TransactionError', 'connection() inside a transaction or on a reserved connection: use the connection you are on'))
    if (life.closing) return E.left(closedError(self.driver))
    life.open++
    const reserved = await self.driver.reserve()()
    if (E.isLeft(reserved)) {
      if (--life.open === 0) life.drained?.()
      return reserved
    }
    const conn = reserved.right
    const frame: Frame = { driver: self.driver, conn, depth: 0, queue: Promise.resolve(), pending: 0, ended: false, counter: { n: 0 }, streams: {}, parent: txContext.getStore(), session: true }
    const release: TaskEither<DbError, void> = async () => {
      // A transaction of its own still open: it must end first (its owner decides how).
      const busy = frame.held === undefined ? undefined : refusal(frame)
      if (busy !== undefined) return E.left(busy)
      const refused = claimEnd(frame)
      if (refused !== undefined) return E.left(refused)
      await settled(frame)
      await closeOpenStream(frame)
      endAll(frame)
      await conn.release()
      released(frame)
      return E.right(undefined)
    }
    return E.right(handleOf<ReservedConnection>(frame, undefined, () => ({ release: () => release })))
  }

  return { start, reserve }
}

/** The ValidationError of a batch run (0-based `run`) that gives `undefined` for parameter `$position`. */
const undefinedInBatch = (run: number, position: number, sql: string): DbError =>
  withSql(dbError('ValidationError', `batch run ${run + 1}: parameter $${position} is undefined (pass null for a NULL value)`, {
    issues: [{ path: `${run}.$${position}`, rule: 'defined', value: undefined, message: `parameter $${position} is undefined` }],
  }), sql)

/**
 * The runs of a batch, every set adapted by the dialect (see `markAdapted`), or the first Left.
 * The hot loops of a batch live in module-level functions, not in closures made per call: a
 * closure's optimized code is held only weakly once the closures that used it are gone, so a
 * full collection between two batches would send each new one back to the interpreter.
 */
const adaptRuns = (dialect: Dialect, compiled: Compiled, sets: readonly (readonly unknown[])[]): Compiled[] | E.Left<DbError> => {
  const text = compiled.sql
  const count = compiled.params.length
  const results = compiled.results
  const runs: Compiled[] = []
  for (let s = 0; s < sets.length; s++) {
    const set = sets[s]
    if (set.length !== count) return { _tag: 'Left', left: dbError('QueryError', `a batch run gives ${set.length} values for ${count} parameters`, { sql: text }) }
    // A set converted already (createMany converts as it lays the rows out) is taken as it is.
    const params = adaptedBefore(set) ? set : new Array<unknown>(count)
    try {
      if (params !== set) {
        for (let i = 0; i < count; i++) {
          // A value left undefined is a mistake, refused as the `sql` tag refuses it, never NULL.
          if (set[i] === undefined) throw undefinedInBatch(s, i + 1, text)
          ;(params as unknown[])[i] = bindAt(dialect, set[i], i + 1, text)
        }
      }
    } catch (e) {
      return { _tag: 'Left', left: toDbError(e) }
    }
    runs.push(markAdapted(results === undefined ? { sql: text, params, batch: true } : { sql: text, params, batch: true, results }))
  }
  return runs
}

/** Runs of a batch on the synchronous path, each settled before the next; the first Left stops them. */
const runAllNow = <R>(now: SyncBackend, runs: readonly Compiled[]): E.Either<DbError, QueryResult<R>[]> => {
  const done: QueryResult<R>[] = []
  for (let i = 0; i < runs.length; i++) {
    const r = now.execute<R>(runs[i])()
    if (E.isLeft(r)) return r
    done.push(r.right)
  }
  return E.right(done)
}

/** Runs of a batch sent at once; answers when every one has settled, with the first Left in run order. */
const runAllPipelined = async <R>(self: Backend, runs: readonly Compiled[]): Promise<E.Either<DbError, QueryResult<R>[]>> => {
  const sent: Promise<E.Either<DbError, QueryResult<R>>>[] = []
  for (let i = 0; i < runs.length; i++) sent.push(self.execute<R>(runs[i])())
  const issued = await Promise.all(sent)
  const out: QueryResult<R>[] = []
  for (let i = 0; i < issued.length; i++) {
    const r = issued[i]
    if (E.isLeft(r)) return r
    out.push(r.right)
  }
  return E.right(out)
}

/** Runs of a batch one after another; the first Left stops them. */
const runAllInTurn = async <R>(self: Backend, runs: readonly Compiled[]): Promise<E.Either<DbError, QueryResult<R>[]>> => {
  const out: QueryResult<R>[] = []
  for (let i = 0; i < runs.length; i++) {
    const r = await self.execute<R>(runs[i])()
    if (E.isLeft(r)) return r
    out.push(r.right)
  }
  return E.right(out)
}

// ---------------------------------------------------------------- compose

const backendOpen = (driver: Driver, dialect: Dialect) => (self: Backend): Backend => {
  const life = lifecycleOf(driver)

  /**
   * The fields of a scope's handle (see `HandleOf`): every call runs in the scope (or in a
   * savepoint inside it, when made from there), and is refused once the scope ended, except the
   * scope's own BEGIN / SAVEPOINT / RELEASE / COMMIT / ROLLBACK (`CONTROL`). `me` is the final
   * handle, middleware wrapped around it included: nested scopes are opened from it, and when
   * middleware replaced its `execute`, its other statement functions run through that `execute`.
   */
  const scopeFields = (frame: Frame, me: Backend): Backend => {
    const enter = <T>(f: () => T): T => (within(txContext.getStore(), frame) ? f() : inScope(frame, f))
    const task = <L, A>(make: () => TaskEither<L, A>): TaskEither<L | DbError, A> => () => {
      const no = refusal(frame)
      return no !== undefined ? Promise.resolve(E.left(no)) : enter(() => make()())
    }
    // The synchronous path, in the transaction's scope as well, and refused once it ended.
    const sync = self.sync
    const now = <A>(f: () => E.Either<DbError, A>): IOEither<DbError, A> => () => {
      const no = refusal(frame)
      return no !== undefined ? E.left(no) : enter(f)
    }
    const execute = <R>(q: Executable<R>): TaskEither<DbError, QueryResult<R>> =>
      CONTROL.has(q) ? () => enter(() => self.execute<R>(q)()) : task(() => self.execute<R>(q))
    // Whether middleware around this handle replaced its `execute`: then `all`, `first`,
    // `query`, batches and prepared queries on it go through that `execute`, as on a backend.
    const through = (): boolean => me.execute !== execute
    return {
      ...self,
      execute,
      all: <R>(q: Executable<R>): TaskEither<DbError, R[]> => {
        if (!through()) return task(() => self.all<R>(q))
        const t = me.execute<R>(q)
        return () => t().then((r) => (E.isLeft(r) ? r : E.right(r.right.rows)))
      },
      first: <R>(q: Executable<R>): TaskEither<DbError, Option<R>> => {
        if (!through()) return task(() => self.first<R>(q))
        const t = me.execute(q)
        return () => (t() as Promise<E.Either<DbError, QueryResult>>).then(firstRow<R>)
      },
      query: <R>(f: Fragment) => me.all<R>(f),
      executeBatch: <R>(q: Executable<R>, sets: readonly (readonly unknown[])[]) =>
        through() ? batchThrough<R>(me, q, sets) : task(() => self.executeBatch<R>(q, sets)),
      transaction: <X, A>(fn: (tx: Backend) => TaskEither<X | DbError, A>, options?: TransactionOptions) => task(() => transactionFrom<X, A>(me, fn, options)),
      savepoint: <X, A>(name: string, fn: (sp: Backend) => TaskEither<X | DbError, A>) => task(() => savepointFrom<X, A>(me, name, fn)),
      startTransaction: (options?: TransactionOptions) => task(() => controlled.start(options ?? {}, me)),
      connection: () => task(() => self.connection()),
      stream: <R>(q: Executable<R>, options?: StreamOptions): AsyncIterable<R> => ({
        [Symbol.asyncIterator]: () => {
          const no = refusal(frame)
          if (no !== undefined) throw no
          const it = enter(() => self.stream<R>(q, options)[Symbol.asyncIterator]())
          return {
            next: () => enter(() => it.next()),
            return: (v?: unknown) => enter(() => it.return?.(v) ?? Promise.resolve({ done: true as const, value: v as R })),
            throw: (e?: unknown) => enter(() => it.throw?.(e) ?? Promise.reject(e)),
          }
        },
      }),
      prepare: <R>(q: Executable<R>, options?: PrepareOptions<R>): Prepared<R> => {
        if (through()) return preparedThrough<R>(me, q, options)
        const p = self.prepare<R>(q, options)
        const ps = p.sync
        return Object.freeze({
          compiled: p.compiled,
          execute: (args?: Readonly<Record<string, unknown>>) => task(() => p.execute(args)),
          all: (args?: Readonly<Record<string, unknown>>) => task(() => p.all(args)),
          first: (args?: Readonly<Record<string, unknown>>) => task(() => p.first(args)),
          sync: ps === undefined ? undefined : Object.freeze({
            execute: (args?: Readonly<Record<string, unknown>>) => now(() => ps.execute(args)()),
            all: (args?: Readonly<Record<string, unknown>>) => now(() => ps.all(args)()),
            first: (args?: Readonly<Record<string, unknown>>) => now(() => ps.first(args)()),
          }),
        })
      },
      inTransaction: () => !frame.ended && frame.session !== true,
      // `afterCommit` on this handle: in its scope (refused once it ended), queued by the backend's own.
      [AFTER_COMMIT]: (f: AfterCommitCallback) => task(() => (self as Backend & WithAfterCommit)[AFTER_COMMIT](f)),
      sync: sync === undefined ? undefined : Object.freeze({
        ready: () => refusal(frame) === undefined && enter(() => sync.ready()),
        execute: <R>(q: Executable<R>) => now(() => sync.execute<R>(q)()),
        all: <R>(q: Executable<R>) => now(() => sync.all<R>(q)()),
        first: <R>(q: Executable<R>) => now(() => sync.first<R>(q)()),
      }),
    }
  }

  const handleOf: HandleOf = <H extends Backend>(frame: Frame, from: Backend | undefined, extra?: (me: H, own: Backend) => Partial<H>): H => {
    const fields = (me: H): Partial<H> => {
      const own = scopeFields(frame, me)
      return (extra === undefined ? own : { ...own, ...extra(me, own) }) as Partial<H>
    }
    // A scope opened on the backend itself (no handle of an enclosing scope) is its own one layer.
    return from !== undefined && hasLayer(from, SCOPE) ? extendLayer<H>(from as H, SCOPE, fields) : layered<H>(SCOPE, fields)
  }

  /** A batch run through middleware's `execute` (see `scopeFields`): compiled once, each run through `me`. */
  const batchThrough = <R>(me: Backend, q: Executable<R>, sets: readonly (readonly unknown[])[]): TaskEither<DbError, QueryResult<R>[]> => {
    const c = compileFor(q)
    if (E.isLeft(c)) return leftTask(c.left)
    return () => {
      const runs = adaptRuns(self.dialect, c.right, sets)
      if (!Array.isArray(runs)) return Promise.resolve(runs as E.Left<DbError>)
      return self.driver.pipelines === true ? runAllPipelined<R>(me, runs) : runAllInTurn<R>(me, runs)
    }
  }

  /** A prepared query run through middleware's `execute` (see `scopeFields`): bound as `prepare` binds, each run through `me`. */
  const preparedThrough = <R>(me: Backend, q: Executable<R>, options?: PrepareOptions<R>): Prepared<R> => {
    const c = compileFor(q)
    const compiled: Compiled = E.isLeft(c) ? { sql: '', params: [] } : c.right
    const { slots, names } = holeSlots(compiled)
    const decode = options?.decode
    const missing = missingArgument(compiled)
    const ran = <T>(f: (x: Compiled) => TaskEither<DbError, T>, map: (d: (rows: Row[]) => R[], t: T) => T) => (args?: Readonly<Record<string, unknown>>): TaskEither<DbError, T> => () => {
      if (E.isLeft(c)) return Promise.resolve(c)
      let x: Compiled
      try {
        x = slots.length === 0 ? compiled : withFields(compiled, { params: bindNamed(self.dialect, compiled, slots, names, args, missing), holes: undefined })
      } catch (e) {
        return Promise.resolve(E.left(toDbError(e)))
      }
      return f(x)().then((r) => {
        if (decode === undefined || E.isLeft(r)) return r
        try {
          return E.right(map(decode, r.right))
        } catch (e) {
          return E.left(toDbError(e))
        }
      })
    }
    return Object.freeze({
      compiled,
      execute: ran((x) => me.execute<R>(x), (d, r) => ({ ...r, rows: d(r.rows as Row[]) })),
      all: ran((x) => me.all<R>(x), (d, rows) => d(rows as Row[])),
      first: ran((x) => me.first<R>(x), (d, o) => (o._tag === 'None' ? o : some(d([o.value as Row])[0]))),
    })
  }

  /** `transaction` on a backend (`from` undefined) or on a scope's handle `from`. */
  const transactionFrom = <X, A>(from: Backend | undefined, fn: (tx: Backend) => TaskEither<X | DbError, A>, options: TransactionOptions = {}): TaskEither<X | DbError, A> => () => {
    const parent = frameFor(self.driver)
    if (parent === undefined) return topLevel(fn, options)()
    if (parent === ENDED) return Promise.resolve(E.left(endedError()))
    if (parent.session === true) return topLevel(fn, options, parent, from)()
    if (options.isolation !== undefined || options.readOnly !== undefined) {
      return Promise.resolve(E.left(dbError('TransactionError', 'isolation and read-only can be set only on the outermost transaction')))
    }
    return nested(parent, fn, undefined, from)()
  }

  /** `savepoint` on a backend (`from` undefined) or on a scope's handle `from`. */
  const savepointFrom = <X, A>(from: Backend | undefined, name: string, fn: (sp: Backend) => TaskEither<X | DbError, A>): TaskEither<X | DbError, A> => () => {
    const parent = frameFor(self.driver)
    if (parent === ENDED) return Promise.resolve(E.left(endedError()))
    if (parent === undefined || parent.session === true) return Promise.resolve(E.left(dbError('TransactionError', `savepoint ${name}: not inside a transaction`)))
    return nested(parent, fn, name, from)()
  }

  /**
   * A transaction on a connection of its own, or on a reserved connection (`session`, whose
   * handle `from` the transaction's handle is made from).
   */
  const topLevel = <X, A>(fn: (tx: Backend) => TaskEither<X | DbError, A>, options: TransactionOptions, session?: Frame, from?: Backend): TaskEither<X | DbError, A> => async () => {
    // A reserved connection is still held while the backend closes: its work may go on.
    if (life.closing && session === undefined) return E.left(closedError(self.driver))
    const opening = beginStatements(self.dialect, options)
    if (E.isLeft(opening)) return opening
    const begin = opening.right
    // A reserved connection is already counted open, and is not given back at the end.
    if (session === undefined) life.open++
    try {
      const reserved = session === undefined ? await self.driver.reserve()() : E.right(session.conn)
      if (E.isLeft(reserved)) return reserved
      const conn = reserved.right
      const frame: Frame = { driver: self.driver, conn, depth: 0, queue: Promise.resolve(), pending: 0, ended: false, counter: { n: 0 }, streams: session?.streams ?? {}, parent: session ?? txContext.getStore() }
      if (session !== undefined) session.held = frame
      const tx = handleOf(frame, from)
      let committed = false
      let out: E.Either<X | DbError, A>
      try {
        out = await inScope(frame, async () => {
          for (const t of begin) {
            const began = await runOn(tx, frame, t)
            if (E.isLeft(began)) return began
          }
          const result = await attempt(() => fn(tx))
          // Statements the callback started and did not wait for still run in their turn.
          if (frame.pending > 0) await frame.queue
          // A stream the callback left open is closed, as leaving its loop would.
          if (frame.streams.open !== undefined) await closeOpenStream(frame)
          if (E.isLeft(result)) {
            await runOn(tx, frame, self.dialect.rollback())
            return result
          }
          const stuck = await abortedBy(self.dialect, frame)
          if (stuck !== undefined) {
            await runOn(tx, frame, self.dialect.rollback())
            return E.left(stuck)
          }
          const commitAnswer = await runOn(tx, frame, self.dialect.commit())
          if (E.isLeft(commitAnswer)) {
            await runOn(tx, frame, self.dialect.rollback())
            return E.left(commitLost(commitAnswer.left))
          }
          committed = true
          return result
        })
      } finally {
        frame.ended = true
        if (session === undefined) await conn.release()
        else session.held = undefined
      }
      // Outside the transaction's scope, its connection back: the afterCommit callbacks, if any.
      return committed ? await afterCommitted(frame.counter.after, out) : out
    } finally {
      if (session === undefined && --life.open === 0) life.drained?.()
    }
  }

  /** A savepoint in the `parent` scope, its handle made from `from` (a handle of that scope) where given. */
  const nested = <X, A>(parent: Frame, fn: (tx: Backend) => TaskEither<X | DbError, A>, named?: string, from?: Backend): TaskEither<X | DbError, A> => () => {
    const go = async (): Promise<E.Either<X | DbError, A>> => {
      const name = named === undefined ? `rk_sp_${parent.depth + 1}_${++parent.counter.n}` : savepointSqlName(parent, named)
      // A dialect without savepoints refuses here (UnsupportedFeature), before anything runs.
      let sp: { readonly open: string; readonly rollback: string; readonly release: string }
      try {
        sp = { open: self.dialect.savepoint(name), rollback: self.dialect.rollbackToSavepoint(name), release: self.dialect.releaseSavepoint(name) }
      } catch (e) {
        return E.left(toDbError(e))
      }
      const frame: Frame = { driver: parent.driver, conn: parent.conn, depth: parent.depth + 1, queue: Promise.resolve(), pending: 0, ended: false, counter: parent.counter, streams: parent.streams, up: parent, parent: parent.parent, sqlName: name }
      const handle = handleOf(frame, from)
      try {
        return await inScope(frame, async () => {
          const opened = await runOn(handle, frame, sp.open)
          if (E.isLeft(opened)) return opened
          const result = await attempt(() => fn(handle))
          if (frame.pending > 0) await frame.queue
          if (frame.streams.open !== undefined) await closeOpenStream(frame)
          if (E.isLeft(result)) {
            await runOn(handle, frame, sp.rollback)
            await runOn(handle, frame, sp.release)
            dropAfter(frame)
            return result
          }
          const released = await runOn(handle, frame, sp.release)
          if (E.isRight(released)) return result
          // Not released (PostgreSQL refuses it after a statement in the savepoint failed, even
          // one the callback recovered from): its work is undone, so the transaction can go on.
          await runOn(handle, frame, sp.rollback)
          await runOn(handle, frame, sp.release)
          dropAfter(frame)
          return released
        })
      } finally {
        frame.ended = true
      }
    }
    parent.pending++
    const done = (r: E.Either<X | DbError, A>): E.Either<X | DbError, A> => {
      parent.pending--
      return r
    }
    const p = parent.queue.then(go, go).then(done, (e: unknown) => done(E.left(toDbError(e, 'TransactionError'))))
    parent.queue = p
    return p
  }

  const controlled = controlledScopes(self, life, handleOf)

  /**
   * Several INSERTs run as one: in a transaction (a savepoint inside one), their results added up.
   * On a driver that pipelines (postgres.js) they are sent at once, as `executeBatch` sends its
   * runs: the server runs one while the next arrives. Every part settles before the unit
   * ends, and the first failure in order is the answer (the later parts fail as its consequence).
   */
  const executeAll = <R>(parts: readonly InsertNode[]): TaskEither<DbError, QueryResult<R>> =>
    self.transaction((tx) => async () => {
      const results: QueryResult<R>[] = []
      if (self.driver.pipelines === true) {
        for (const r of await Promise.all(parts.map((p) => tx.execute<R>(p)()))) {
          if (E.isLeft(r)) return r
          results.push(r.right)
        }
        return E.right(addedUp(results, self.dialect))
      }
      for (const p of parts) {
        const r = await tx.execute<R>(p)()
        if (E.isLeft(r)) return r
        results.push(r.right)
      }
      return E.right(addedUp(results, self.dialect))
    })

  const compileFor = (q: Executable): E.Either<DbError, Compiled> => (isCompiled(q) ? E.right(q) : self.compile(q as Compilable))

  /**
   * The statements an INSERT node is run as, when the dialect splits it (`insertStatements`: more
   * values than one statement may bind, or rows that leave different columns to their defaults
   * on SQLite); undefined for any other statement, and for an INSERT that is one statement.
   */
  const partsOf = (q: Executable): E.Either<DbError, readonly InsertNode[]> | undefined => {
    if ((q as { kind?: unknown }).kind !== 'insert' || isCompiled(q)) return undefined
    let parts: readonly InsertNode[]
    try {
      parts = self.dialect.insertStatements(q as InsertNode)
    } catch (e) {
      return E.left(toDbError(e))
    }
    return parts.length > 1 ? E.right(parts) : undefined
  }

  /** The statement marked as read for its first row (drivers may stop after it). */
  const asFirst = (k: Compiled): Compiled =>
    k.first === true ? k : k.results !== undefined ? withFields(k, { first: true }) : k.holes === undefined ? { sql: k.sql, params: k.params, first: true } : { sql: k.sql, params: k.params, holes: k.holes, first: true }

  /**
   * The synchronous path, on the transaction's connection inside one. It refuses what `execute`
   * refuses (an ended transaction, a closed backend), and whatever would make `execute` wait:
   * a connection held elsewhere, a savepoint of the scope still open.
   */
  const syncRun = (compiled: Compiled): E.Either<DbError, QueryResult> => {
    if (compiled.results === undefined) return syncRunPlain(compiled)
    const results = compiled.results
    const r = syncRunPlain(compiled)
    return E.isLeft(r) ? r : readBack(() => decodedResult(results, r.right))
  }

  const syncRunPlain = (compiled: Compiled): E.Either<DbError, QueryResult> => {
    const frame = frameFor(self.driver)
    if (frame === ENDED) return E.left(endedError())
    if (frame !== undefined) {
      if (frame.conn.sync === undefined || frame.conn.sync.of !== frame.conn.execute) return E.left(dbError('ConnectionError', 'this transaction\'s connection has no synchronous path: use the async functions'))
      if (frame.pending > 0) return E.left(dbError('ConnectionError', 'a savepoint of this transaction is open: statements on the transaction wait for it, so use the async functions'))
      const refused = frame.streams.open !== undefined ? streamOpenError(frame, compiled.sql) : endedBy(frame, compiled, compiled.sql)
      if (refused !== undefined) return E.left(refused)
      return noted(frame, frame.conn.sync.execute(compiled)())
    }
    if (life.closing) return E.left(closedError(self.driver))
    const d = self.driver.sync
    if (d === undefined || d.of !== self.driver.execute) return E.left(dbError('ConnectionError', `${self.driver.name} has no synchronous path: use the async functions`))
    if (!d.ready()) return E.left(dbError('ConnectionError', 'the connection is held by a transaction or a stream: use the async functions, which wait their turn'))
    return d.execute(compiled)()
  }

  /**
   * The parts of a split INSERT (`partsOf`) on the synchronous path, as one unit as `executeAll`
   * runs them on the async one: BEGIN ... COMMIT, or a savepoint inside the caller's transaction,
   * all in one turn of the event loop; the first part that fails undoes the others. Every part is
   * compiled before anything runs. The result adds the parts' up, as `executeAll`'s does.
   */
  const syncRunAll = (parts: readonly InsertNode[]): E.Either<DbError, QueryResult> => {
    const compiled: Compiled[] = []
    for (const p of parts) {
      const c = compileFor(p)
      if (E.isLeft(c)) return c
      compiled.push(c.right)
    }
    const frame = frameFor(self.driver)
    if (frame === ENDED) return E.left(endedError())
    let unit: UnitStatements<string>
    try {
      unit = unitTexts(self.dialect, frame !== undefined, SYNC_INSERT_SAVEPOINT)
    } catch (e) {
      return E.left(toDbError(e, 'TransactionError'))
    }
    return runUnit(unit, (text) => syncRunPlain({ sql: text, params: [] }), () => {
      const results: QueryResult[] = []
      for (const c of compiled) {
        const r = syncRun(c)
        if (E.isLeft(r)) return r
        results.push(r.right)
      }
      return E.right(addedUp(results, self.dialect))
    }) as E.Either<DbError, QueryResult>
  }

  /** A statement on the synchronous path: a split INSERT as one unit (`syncRunAll`), anything else as it is. */
  const syncExecutable = (q: Executable, first: boolean): E.Either<DbError, QueryResult> => {
    const parts = partsOf(q)
    if (parts !== undefined) return E.isLeft(parts) ? parts : syncRunAll(parts.right)
    const c = compileFor(q)
    return E.isLeft(c) ? c : syncRun(first ? asFirst(c.right) : c.right)
  }

  /**
   * `syncRun` where it can run now, and undefined where the async path must wait its turn
   * instead (what `sync.ready()` then `sync.execute` decide, with one look at the context). Only
   * for this backend's own synchronous path (`self.sync === syncBackend`), not one middleware gave.
   */
  const trySync = (compiled: Compiled): E.Either<DbError, QueryResult> | undefined => {
    const r = trySyncPlain(compiled)
    // Typed result columns are read back here as on every other path (see `syncRun`).
    const results = compiled.results
    return r === undefined || results === undefined || E.isLeft(r) ? r : readBack(() => decodedResult(results, r.right))
  }

  const trySyncPlain = (compiled: Compiled): E.Either<DbError, QueryResult> | undefined => {
    const frame = frameFor(self.driver)
    if (frame === ENDED) return undefined
    if (frame !== undefined) {
      const c = frame.conn.sync
      return c === undefined || c.of !== frame.conn.execute || frame.pending > 0 || frame.streams.open !== undefined || frame.counter.ended !== undefined ? undefined : noted(frame, c.execute(compiled)())
    }
    const d = self.driver.sync
    return life.closing || d === undefined || d.of !== self.driver.execute || !d.ready() ? undefined : d.execute(compiled)()
  }

  /**
   * The driver whose kept statements (`SyncDriver.kept`) this backend's own synchronous path may
   * use, if any: `first` of a prepared query and of a built one run through them.
   */
  const keptDriver = driver.sync === undefined || driver.sync.kept === undefined || driver.sync.kept.of !== driver.sync.execute ? undefined : driver.sync

  /**
   * The row of `kept` run now with `params`, when this backend's own synchronous path can run it
   * outside any transaction (what `trySync` decides, and nothing replaced the driver's `execute`
   * since); undefined when it cannot. What it throws is the Left.
   */
  const keptRow = <R>(kept: KeptFirst, params: readonly unknown[], adapted: boolean, decode?: (rows: Row[]) => R[]): E.Either<DbError, Option<R>> | undefined => {
    const d = self.driver.sync
    if (d === undefined || d !== keptDriver || self.sync !== syncBackend || d.of !== self.driver.execute || life.closing || frameFor(self.driver) !== undefined || !d.ready()) return undefined
    try {
      const row = kept(params, adapted)
      return E.right(row === undefined ? none : some(decode === undefined ? row as R : decode([row])[0]))
    } catch (e) {
      return E.left(toDbError(e))
    }
  }

  /**
   * The kept statement of a text, for `first` of built queries: a built query's text repeats
   * (the shape cache hands out the same string), so the driver's statement is looked up once
   * per text, not per run. At most `KEPT_TEXTS` texts; then the oldest gives way.
   */
  const keptTexts = new Map<string, KeptFirst>()
  const keptFor = (text: string): KeptFirst | undefined => {
    if (keptDriver === undefined) return undefined
    let f = keptTexts.get(text)
    if (f === undefined) {
      if (keptTexts.size >= KEPT_TEXTS) keptTexts.delete(keptTexts.keys().next().value as string)
      f = keptDriver.kept!.first(text)
      keptTexts.set(text, f)
    }
    return f
  }

  /**
   * Run a compiled statement now, on the scope the call runs in (a transaction's connection, or
   * the pool), its typed result columns read back: `execute`'s task, and `first`'s where no
   * middleware replaced `execute` (it spares the task and its Right per statement). `q` is what
   * the caller gave (see `endedBy`).
   */
  const runCompiled = (q: object, compiled: Compiled): Promise<E.Either<DbError, QueryResult>> => {
    const results = compiled.results
    const ran = runPlain(q, compiled)
    // Typed result columns (see `src/results.ts`) are read back once the rows are in.
    return results === undefined ? ran : ran.then((r) => (E.isLeft(r) ? r : readBack(() => decodedResult(results, r.right))))
  }

  const runPlain = (q: object, compiled: Compiled): Promise<E.Either<DbError, QueryResult>> => {
    const frame = frameFor(self.driver)
    if (frame === undefined) return life.closing ? Promise.resolve(E.left(closedError(self.driver))) : self.driver.execute(compiled)()
    if (frame === ENDED) return Promise.resolve(E.left(endedError()))
    // Checked when the statement's turn comes: a stream opened meanwhile holds the connection,
    // a statement before it may have ended the transaction.
    return inTurn(frame, () => {
      const refused = frame.streams.open !== undefined ? streamOpenError(frame, compiled.sql) : endedBy(frame, q, compiled.sql)
      return refused === undefined ? frame.conn.execute(compiled)().then((r) => noted(frame, r)) : Promise.resolve(E.left(refused) as E.Either<DbError, QueryResult>)
    })
  }

  /**
   * `run`, the task of `q`, where `q` is a built INSERT or UPDATE on PostgreSQL: with its failure
   * completed, a ValueTooLarge (22001, which names only the type) given its column and table
   * (`tooLongOfWrite`, which reads the lengths once, on the Left alone). Any other statement's
   * task is `run` itself. The lengths are read on the scope the call runs in, so not inside a
   * transaction: PostgreSQL has aborted it (25P02), and the pool's connections do not see its
   * work (a table it made) and may all be held by transactions waiting as this one does; there
   * the error stays as it was. `unitEnded` where `run` is a unit of its own, rolled back by the
   * time it answers (`executeAll`), after which the caller's transaction goes on. A read that fails
   * leaves the error as it was.
   */
  const namingTooLong = <T>(q: object, run: () => Promise<E.Either<DbError, T>>, unitEnded: boolean): (() => Promise<E.Either<DbError, T>>) => {
    const kind = (q as { kind?: unknown }).kind
    if ((kind !== 'insert' && kind !== 'update') || self.dialect.name !== 'postgres' || isCompiled(q)) return run
    return () => run().then((r) => {
      if (E.isRight(r) || r.left._tag !== 'ValueTooLarge' || r.left.column !== undefined) return r
      const frame = frameFor(self.driver)
      if (frame === ENDED || (frame !== undefined && frame.session !== true && !unitEnded)) return r
      const e = r.left
      return tooLongOfWrite(self, q as InsertNode | UpdateNode, e).then((named) => (named === e ? r : E.left(named)), () => r)
    })
  }

  /** This backend's own `execute` (see `runCompiled`). */
  const ownExecute = <R>(q: Executable<R>): TaskEither<DbError, QueryResult<R>> => {
    const parts = partsOf(q)
    if (parts !== undefined) return E.isLeft(parts) ? leftTask(parts.left) : namingTooLong(q, executeAll<R>(parts.right), true)
    const c = compileFor(q)
    if (E.isLeft(c)) return leftTask(c.left)
    const compiled = c.right
    return namingTooLong(q, () => runCompiled(q, compiled) as Promise<E.Either<DbError, QueryResult<R>>>, false)
  }

  /**
   * `first` of a compiled statement: now where it can run now. It is marked as read for its first
   * row (`asFirst`) where it goes to `execute`; the driver's own first row needs no mark.
   */
  const firstOf = <R>(c: Compiled): Promise<E.Either<DbError, Option<R>>> => {
    const s = self.sync
    if (s !== undefined) {
      if (s === syncBackend) {
        const r = trySync(asFirst(c))
        if (r !== undefined) return Promise.resolve(firstRow<R>(r))
      } else if (s.ready()) return Promise.resolve(s.first<R>(asFirst(c))())
    }
    if (self.execute !== ownExecute) return (self.execute(asFirst(c))() as Promise<E.Either<DbError, QueryResult>>).then(firstRow<R>)
    // Outside a transaction, the driver's own first row where it has one (`Driver.firstRow`):
    // one continuation fewer per statement than `execute` and then picking the row.
    const f = self.driver.firstRow
    if (f !== undefined && f.of === self.driver.execute && c.results === undefined && !life.closing && frameFor(self.driver) === undefined) {
      return f.run(c) as Promise<E.Either<DbError, Option<R>>>
    }
    const k = asFirst(c)
    // One function for every call (no closure made per query).
    return runCompiled(k, k).then(firstRow<R>)
  }

  /** The first row of a result, if any. */
  const firstRow = <R>(r: E.Either<DbError, QueryResult>): E.Either<DbError, Option<R>> =>
    E.isLeft(r) ? r : E.right(r.right.rows.length > 0 ? some(r.right.rows[0] as R) : none)

  // A driver whose `execute` was replaced without a `sync` of its own has no synchronous path.
  const syncBackend: SyncBackend | undefined = driver.sync === undefined || driver.sync.of !== driver.execute
    ? undefined
    : {
        ready: () => {
          const frame = frameFor(self.driver)
          if (frame === ENDED) return false
          if (frame !== undefined) return frame.conn.sync !== undefined && frame.conn.sync.of === frame.conn.execute && frame.pending === 0 && frame.streams.open === undefined
          const d = self.driver.sync
          return !life.closing && d !== undefined && d.of === self.driver.execute && d.ready()
        },
        execute: <R>(q: Executable<R>): IOEither<DbError, QueryResult<R>> => () =>
          syncExecutable(q, false) as E.Either<DbError, QueryResult<R>>,
        all: <R>(q: Executable<R>): IOEither<DbError, R[]> => () => {
          const r = syncExecutable(q, false)
          return E.isLeft(r) ? r : E.right(r.right.rows as R[])
        },
        first: <R>(q: Executable<R>): IOEither<DbError, Option<R>> => () => {
          const r = syncExecutable(q, true)
          return E.isLeft(r) ? r : E.right(r.right.rows.length > 0 ? some(r.right.rows[0] as R) : none)
        },
      }

  /**
   * The rows of `Backend.stream`. On a held connection (a transaction, a reserved connection) the
   * stream occupies the connection's slot from its first read to its end: meanwhile statements and
   * other streams there are refused, and the scope's end closes it (`closeOpenStream`). `me` is
   * this generator, which the scope's end closes.
   */
  const rowsOf = async function* <R>(q: Executable<R>, options: StreamOptions | undefined, me: () => AsyncGenerator<R>): AsyncGenerator<R> {
    const c = compileFor(q)
    if (E.isLeft(c)) throw c.left
    const frame = frameFor(self.driver)
    if (frame === ENDED) throw endedError()
    let slot: StreamSlot | undefined
    let source: AsyncIterable<readonly Row[]>
    if (frame === undefined) {
      if (life.closing) throw closedError(self.driver)
      source = self.driver.stream(c.right, options)
    } else {
      if (frame.pending > 0) await inTurn(frame, () => Promise.resolve())
      if (frame.ended) throw endedError()
      if (frame.streams.open !== undefined) throw streamOpenError(frame, c.right.sql, true)
      const refused = endedBy(frame, c.right, c.right.sql)
      if (refused !== undefined) throw refused
      slot = frame.streams
      slot.open = me()
      try {
        source = frame.conn.stream(c.right, options)
      } catch (e) {
        // A driver that refuses the stream at once leaves the connection free again.
        slot.open = undefined
        throw e
      }
    }
    const results = c.right.results
    try {
      for await (const batch of source) {
        if (results !== undefined) decodeResults(results, batch)
        yield* batch as readonly R[]
      }
    } catch (e) {
      // A stream that failed in a transaction is a failed statement of it (see `abortedBy`).
      if (frame !== undefined) noted(frame, E.left(toDbError(e)))
      throw e
    } finally {
      if (slot !== undefined && slot.open === me()) slot.open = undefined
    }
  }

  return {
    dialect,
    driver,

    compile: (q) => {
      const c = self.dialect.compile(q)
      if (E.isLeft(c)) return c
      // Typed result columns (counts, sums, JSON) travel with the statement; most have none.
      const results = resultColumns(q)
      return results === undefined ? c : E.right(withFields(c.right, { results }))
    },

    execute: ownExecute,

    all: (q) => {
      const t = self.execute(q)
      return () => t().then((r) => (E.isLeft(r) ? r : E.right(r.right.rows)))
    },

    first: <R>(q: Executable<R>): TaskEither<DbError, Option<R>> => {
      // A split INSERT runs as `execute` runs it (one unit); its first row is the answer.
      const parts = partsOf(q)
      if (parts !== undefined) return E.isLeft(parts) ? leftTask(parts.left) : () => (namingTooLong(q, executeAll(parts.right), true)() as Promise<E.Either<DbError, QueryResult>>).then(firstRow<R>)
      const c = compileFor(q)
      if (E.isLeft(c)) return leftTask(c.left)
      const compiled = c.right
      // On this backend's own synchronous path, the driver's kept statement of the text.
      const kept = syncBackend === undefined || compiled.results !== undefined ? undefined : keptFor(compiled.sql)
      if (kept !== undefined) {
        // Compiled here, every value came out of the dialect's toDriver (see `prepare`).
        const adapted = !isCompiled(q)
        return () => {
          const r = keptRow<R>(kept, compiled.params, adapted)
          return r !== undefined ? Promise.resolve(r) : firstOf<R>(compiled)
        }
      }
      return namingTooLong(q, () => firstOf<R>(compiled), false)
    },

    query: (fragment) => self.all(fragment),

    stream: <R>(q: Executable<R>, options?: StreamOptions): AsyncIterable<R> => ({
      [Symbol.asyncIterator]: () => {
        const it: AsyncGenerator<R> = rowsOf<R>(q, options, () => it)
        return it
      },
    }),

    prepare: <R>(q: Executable<R>, options?: PrepareOptions<R>): Prepared<R> => {
      const c = compileFor(q)
      const compiled: Compiled = E.isLeft(c) ? { sql: '', params: [] } : c.right
      const holes = compiled.holes
      const decode = options?.decode
      // Compiled here, every value comes out of the dialect's toDriver (at compile time, or in
      // bindParams); a statement given compiled carries its values as they were given.
      const adapted = !isCompiled(q)
      // The positions of the named parameters and their names, read once.
      const { slots, names } = holeSlots(compiled)
      const missing = missingArgument(compiled)
      const bindLoop = (args: Readonly<Record<string, unknown>> | undefined): readonly unknown[] => bindNamed(self.dialect, compiled, slots, names, args, missing)
      const bindParams: (args: Readonly<Record<string, unknown>> | undefined) => readonly unknown[] = slots.length === 0
        ? () => compiled.params
        : (slots.length <= GENERATED_BINDER_MAX ? generatedBinder(compiled.params, slots, names, self, compiled.sql, missing) : undefined) ?? bindLoop
      const bind = (args: Readonly<Record<string, unknown>> | undefined, first: boolean): Compiled => {
        if (holes === undefined) return first ? withFields(compiled, { first }) : compiled
        const params = bindParams(args)
        return compiled.results === undefined ? { sql: compiled.sql, params, first } : { sql: compiled.sql, params, first, results: compiled.results }
      }
      // `first` through the driver's kept statement (`SyncDriver.kept`) when this backend's own
      // synchronous path can run it now, outside any transaction: undefined when it cannot.
      const kept = syncBackend === undefined || E.isLeft(c) || compiled.results !== undefined ? undefined : keptDriver?.kept?.first(compiled.sql)
      const keptFirst = (args: Readonly<Record<string, unknown>> | undefined): E.Either<DbError, Option<R>> | undefined => {
        if (kept === undefined) return undefined
        let params: readonly unknown[]
        try {
          params = bindParams(args)
        } catch (e) {
          return E.left(toDbError(e))
        }
        return keptRow(kept, params, adapted, decode)
      }
      const guarded = <T>(first: boolean, f: (x: Compiled) => TaskEither<DbError, T>) => (args?: Readonly<Record<string, unknown>>): TaskEither<DbError, T> => {
        if (E.isLeft(c)) return leftTask(c.left)
        try {
          return f(bind(args, first))
        } catch (e) {
          return leftTask(toDbError(e))
        }
      }
      // The rows through `options.decode`, where there is one; what it throws is the Left.
      type Map<T> = (d: (rows: Row[]) => R[], t: T) => T
      const decoded = <T>(r: E.Either<DbError, T>, map: Map<T>): E.Either<DbError, T> => {
        if (decode === undefined || E.isLeft(r)) return r
        try {
          return E.right(map(decode, r.right))
        } catch (e) {
          return E.left(toDbError(e))
        }
      }
      const ofResult: Map<QueryResult<R>> = (d, x) => ({ ...x, rows: d(x.rows as Row[]) })
      const ofRows: Map<R[]> = (d, x) => d(x as Row[])
      const ofFirst: Map<Option<R>> = (d, x) => (x._tag === 'None' ? x : some(d([x.value as Row])[0]))
      // The synchronous path when the backend has one and it is free; the async one otherwise.
      type Ran = E.Either<DbError, QueryResult>
      const either = <T>(viaSync: (s: SyncBackend, x: Compiled, ran?: Ran) => E.Either<DbError, T>, viaAsync: (x: Compiled) => TaskEither<DbError, T>, map: Map<T>) => (x: Compiled): TaskEither<DbError, T> => () => {
        const s = self.sync
        if (s !== undefined) {
          if (s === syncBackend) {
            const r = trySync(x)
            if (r !== undefined) return Promise.resolve(decoded(viaSync(s, x, r), map))
          } else if (s.ready()) return Promise.resolve(decoded(viaSync(s, x), map))
        }
        const t = viaAsync(x)()
        return decode === undefined ? t : t.then((r) => decoded(r, map))
      }
      const now = <T>(first: boolean, f: (s: SyncBackend, x: Compiled, ran?: Ran) => E.Either<DbError, T>, map: Map<T>) => (args?: Readonly<Record<string, unknown>>): IOEither<DbError, T> => () => {
        if (E.isLeft(c)) return c
        const s = self.sync
        if (s === undefined) return E.left(dbError('ConnectionError', `${self.driver.name} has no synchronous path: use the async functions`))
        try {
          const x = bind(args, first)
          // This backend's own path runs the statement at once; where it cannot, syncRun says why.
          return decoded(s === syncBackend ? f(s, x, trySync(x) ?? syncRun(x)) : f(s, x), map)
        } catch (e) {
          return E.left(toDbError(e))
        }
      }
      // With `ran`, the statement already ran on this backend's own synchronous path.
      const execute = (s: SyncBackend, x: Compiled, ran?: Ran) => (ran ?? s.execute<R>(x)()) as E.Either<DbError, QueryResult<R>>
      const all = (s: SyncBackend, x: Compiled, ran?: Ran) => {
        if (ran === undefined) return s.all<R>(x)()
        return E.isLeft(ran) ? ran : E.right(ran.right.rows as R[])
      }
      const first = (s: SyncBackend, x: Compiled, ran?: Ran) => (ran === undefined ? s.first<R>(x)() : firstRow<R>(ran))
      const firstAsync = guarded(true, either(first, (x) => self.first<R>(x), ofFirst))
      const firstNow = now(true, first, ofFirst)
      return Object.freeze({
        compiled,
        execute: guarded(false, either(execute, (x) => self.execute<R>(x), ofResult)),
        all: guarded(false, either(all, (x) => self.all<R>(x), ofRows)),
        first: kept === undefined ? firstAsync : (args?: Readonly<Record<string, unknown>>): TaskEither<DbError, Option<R>> => () => {
          const r = keptFirst(args)
          return r === undefined ? firstAsync(args)() : Promise.resolve(r)
        },
        sync: self.sync === undefined
          ? undefined
          : Object.freeze({
            execute: now(false, execute, ofResult),
            all: now(false, all, ofRows),
            first: kept === undefined ? firstNow : (args?: Readonly<Record<string, unknown>>): IOEither<DbError, Option<R>> => () => keptFirst(args) ?? firstNow(args)(),
          }),
      })
    },

    executeBatch: <R>(q: Executable<R>, sets: readonly (readonly unknown[])[]): TaskEither<DbError, QueryResult<R>[]> => {
      const c = compileFor(q)
      if (E.isLeft(c)) return leftTask(c.left)
      const compiled = c.right
      const batch = (runs: readonly Compiled[]): Promise<E.Either<DbError, QueryResult<R>[]>> => {
        // A synchronous driver runs them one after another now, each settled before the next.
        const now = self.sync
        if (now !== undefined && now.ready()) return Promise.resolve(runAllNow<R>(now, runs))
        // A pipelining driver gets every run at once (it sends them without waiting); any other
        // gets them one after another. Either way the first failure in run order is reported
        // (inside a transaction the later ones are its consequence). The tasks never reject.
        // A pipelined batch settles only when every run it sent has settled, so nothing it sent
        // is still changing the database after it returned.
        return self.driver.pipelines === true ? runAllPipelined<R>(self, runs) : runAllInTurn<R>(self, runs)
      }
      return () => {
        // Every set is adapted before anything runs, so a value that cannot be bound runs nothing.
        const runs = adaptRuns(self.dialect, compiled, sets)
        if (!Array.isArray(runs)) return Promise.resolve(runs as E.Left<DbError>)
        // Several writes outside a transaction: one of their own, so a failing run undoes the others.
        if (batchIsAllOrNothing(compiled.sql, runs.length) && !self.inTransaction()) {
          return self.transaction(() => () => batch(runs))()
        }
        return batch(runs)
      }
    },

    transaction: (fn, options) => transactionFrom(undefined, fn, options),

    inTransaction: () => {
      const f = frameFor(self.driver)
      return f !== undefined && f !== ENDED && f.session !== true
    },

    savepoint: (name, fn) => savepointFrom(undefined, name, fn),

    startTransaction: (options = {}) => controlled.start(options, undefined),

    connection: () => controlled.reserve(),

    // `afterCommit`: queued on the transaction the call runs in, or run at once outside one.
    [AFTER_COMMIT]: (f: AfterCommitCallback): TaskEither<DbError, void> => () => {
      const frame = frameFor(self.driver)
      if (frame === ENDED) return Promise.resolve(E.left(endedError()))
      if (frame === undefined || frame.session === true) return runAfterCommit([f], false)
      queueAfter(frame, f)
      return Promise.resolve(E.right(undefined))
    },

    close: (options?: CloseOptions) => async () => {
      if (life.closed) return E.right(undefined)
      const inside = frameFor(self.driver)
      if (inside !== undefined && inside !== ENDED) {
        return E.left(dbError('TransactionError', 'close was called inside a transaction of the backend it closes; close it after the transaction ends'))
      }
      life.closing = true
      const timeout = options?.timeout
      const started = performance.now()
      let cut = false
      if (life.open > 0) {
        // Open transactions may finish (commit or roll back) within the timeout; after it their
        // connections are closed under them and the server rolls them back.
        cut = await new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(true), timeout ?? 30_000)
          life.drained = () => {
            clearTimeout(timer)
            resolve(false)
          }
        })
        life.drained = undefined
      }
      life.closed = true
      // Statements and streams still running outside transactions get what is left of the
      // timeout; without one, the driver's own default bounds them.
      const left = cut ? 0 : timeout === undefined ? undefined : Math.max(0, timeout - (performance.now() - started))
      return self.driver.close(left === undefined ? undefined : { timeout: left })()
    },

    sync: syncBackend,
  }
}

/**
 * Make a backend from a driver and a dialect. Where the driver knows its version without
 * I/O (embedded SQLite), the dialect is specialised to it at once; for servers use `connect`.
 *
 * @example
 * const db = compose(betterSqlite3({ filename: ':memory:' }), sqlite)
 * await db.execute(sql`CREATE TABLE t (id INTEGER PRIMARY KEY)`)()
 */
export const compose = (driver: Driver, dialect: Dialect): Backend => {
  let d = dialect
  const known = driver.knownVersion
  if (typeof known === 'function') {
    try {
      d = dialect.forVersion(known())
    } catch {
      // The database could not be opened yet; the first query reports why.
    }
  }
  return fix(backendOpen(driver, d))
}

/**
 * Make a backend after asking the server its version, so capabilities match the server
 * (MariaDB 10.5 RETURNING, MySQL 8.0.19 `AS new`, SQLite 3.35 RETURNING).
 *
 * @example
 * const db = await run(connect(postgresJs({ url: 'postgres://localhost/test' }), postgres))
 */
export const connect = (driver: Driver, dialect: Dialect): TaskEither<DbError, Backend> => async () => {
  const v = await driver.version()()
  return E.isLeft(v) ? v : E.right(fix(backendOpen(driver, dialect.forVersion(v.right))))
}

/** The backend functions whose middleware sees statements (see `wrap` and `SyncBackend`). */
const SEES_STATEMENTS: readonly (keyof Backend & string)[] = ['execute', 'all', 'first', 'query']

/** Middleware for each backend function: receives the next function, returns a replacement. */
export type Middleware = { readonly [K in keyof Backend & string]?: (next: Backend[K], self: Backend) => Backend[K] }

/**
 * Put middleware around backend functions. Because backend functions call each other through
 * `self`, wrapping `execute` sees every statement that is not streamed: queries, `all`, `first`,
 * prepared queries, batches, model calls, and the BEGIN, SAVEPOINT, RELEASE, COMMIT and ROLLBACK
 * of transactions. A stream (`stream`) runs on the driver's cursor, not through `execute`: wrap
 * `stream` to see streams, as the built-in middleware does. Wraps stack: the last one applied
 * runs first.
 *
 * A handle can be wrapped too: a transaction's `tx`, a savepoint's, a controlled transaction
 * (`startTransaction`), a reserved connection (`connection`). The middleware then sees everything
 * run on that handle at any depth: nested transactions and savepoints opened from it (their
 * SAVEPOINT, RELEASE and ROLLBACK TO, and what runs in them), the BEGIN, COMMIT and ROLLBACK of
 * transactions begun on a wrapped connection, and their `all`, `first`, prepared queries and
 * batches. The result keeps the handle's own fields (`commit`, `release`, ...). Middleware around
 * the backend as well as around a handle each see a statement once.
 *
 * @example
 * const conn = await run(db.connection())
 * const logged = wrap(conn, { execute: (next) => (q) => { console.log(q); return next(q) } })
 * await run(logged.transaction((tx) => tx.execute(sql`DELETE FROM scratch`))) // BEGIN, DELETE, COMMIT
 * await run(logged.release())
 *
 * @example
 * const logged = wrap(db, {
 *   execute: (next) => (q) => { console.log(logged.compile(q as never)); return next(q) },
 * })
 */
export const wrap = <B extends Backend>(backend: B, middleware: Middleware): B =>
  extend<B>(backend, (self, base) => {
    const out: Record<string, unknown> = {}
    for (const k of Object.keys(middleware) as (keyof Backend & string)[]) {
      const m = middleware[k] as ((next: unknown, self: Backend) => unknown) | undefined
      if (m !== undefined) out[k] = m(base[k], self)
    }
    // Middleware that sees statements and gives no synchronous form of its own turns the
    // synchronous path off, so every statement still reaches it.
    if (middleware.sync === undefined && SEES_STATEMENTS.some((k) => middleware[k] !== undefined)) out.sync = undefined
    return out as Partial<B>
  })

/**
 * The SQL text and parameters of anything `execute` accepts, for middleware that logs.
 *
 * @example
 * wrap(db, { execute: (next, self) => (q) => { console.log(statementOf(self, q).sql); return next(q) } })
 */
export const statementOf = (backend: Backend, q: Executable): Compiled => {
  if (isCompiled(q)) return q
  const c = backend.compile(q as Compilable)
  return E.isLeft(c) ? { sql: `<does not compile: ${c.left.message}>`, params: [] } : c.right
}
