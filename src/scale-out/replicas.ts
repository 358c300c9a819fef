/**
 * Read replicas as a composition: `withReplicas(primary, replicas)` is the primary backend with
 * its `execute` and `stream` wrapped so that plain reads go to a replica and everything else
 * stays on the primary.
 *
 * What goes where, decided from the statement's SQL text (so query data, `sql` fragments,
 * prepared queries and model calls are routed alike), read by `sql-text.ts` with comments and
 * strings set apart (a comment before a read does not make it a write):
 * - a replica: one statement, `SELECT`, `WITH` without INSERT/UPDATE/DELETE/MERGE, `VALUES`,
 *   `TABLE`, `SHOW`, `EXPLAIN` without ANALYZE, run outside a transaction, with no row lock
 *   (`FOR UPDATE`, `FOR SHARE`, `LOCK IN SHARE MODE`), no `SELECT ... INTO` and no function
 *   known to write (`nextval`, `setval`, advisory and named locks);
 * - the primary: every other statement (writes, DDL, SET), everything inside a transaction
 *   (`transaction` or `startTransaction`) or on a reserved connection (`connection()`), and
 *   reads made within `readYourWritesMs` of a write, or of a transaction's end, in the same
 *   read-your-writes scope.
 *
 * A replica read that fails is run again on the primary (a read is safe to repeat), so a
 * stopped replica costs one failed attempt, not an error. A replica that fails with a
 * ConnectionError (or does not answer within `timeoutMs`; a stream, its first row) is marked down and skipped; after
 * `retryAfterMs` a health check runs in the background and the replica is used again once the
 * check passes. The check is `SELECT 1` by default; `postgresReplicaCheck(maxLagBytes)` also
 * refuses a PostgreSQL standby whose replay is behind what it received by more than that.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import { type Backend, type Executable, extend, type Prepared, type PrepareOptions, type ReservedConnection, type Transaction, wrap } from '../compose.js'
import type { Compilable } from '../dialect.js'
import type { QueryResult } from '../driver.js'
import { dbError, type DbError, isDbError, toDbError } from '../errors.js'
import { quietStorage } from '../quiet-storage.js'
import { type Compiled, isCompiled, sql } from '../sql.js'
import { flavourOf, notReadOnly, READ_VERBS, readSql, type SqlFlavour, verbOf } from './sql-text.js'

/** What a health check says about one replica. */
export interface ReplicaHealth {
  readonly index: number
  readonly healthy: boolean
  /** The error that marked it down, while it is down. */
  readonly lastError?: DbError
  /** Reads it answered since it was added. */
  readonly reads: number
}

/** Options of `withReplicas`. */
export interface ReplicaOptions {
  /**
   * Milliseconds after a write during which reads in the same scope go to the primary, so a
   * caller reads what it just wrote although the replicas lag. Default 2000; 0 turns it off.
   */
  readonly readYourWritesMs?: number
  /**
   * Which healthy replica serves a read: gets the indexes of the healthy replicas (never
   * empty) and the statement, returns one of those indexes. Default: round robin.
   */
  readonly pick?: (healthy: readonly number[], statement: Compiled) => number
  /** Whether a statement may run on a replica. Default: the rules in this module's comment. */
  readonly isRead?: (statement: Compiled) => boolean
  /** Milliseconds a replica read may take before it counts as a failure and runs on the primary. Default 10000. */
  readonly timeoutMs?: number
  /** Milliseconds a replica stays down before a health check may bring it back. Default 1000. */
  readonly retryAfterMs?: number
  /** Milliseconds between background checks of a healthy replica (0: only after failures). Default 5000. */
  readonly checkEveryMs?: number
  /** The health check; Right means the replica may serve reads. Default `SELECT 1`. */
  readonly check?: (replica: Backend) => TaskEither<DbError, unknown>
  /** Called when a replica is marked down or comes back. */
  readonly onHealth?: (health: ReplicaHealth) => void
}

/** A backend that sends reads to replicas, with its parts and its replicas' state. */
export interface ReplicatedBackend extends Backend {
  readonly primary: Backend
  readonly replicas: readonly Backend[]
  /** Each replica's state now. */
  readonly health: () => readonly ReplicaHealth[]
  /** Run every replica's health check now and return the states after it. */
  readonly checkReplicas: () => Promise<readonly ReplicaHealth[]>
  /**
   * Run `f` in a read-your-writes scope of its own (one per request, say): a write inside it
   * sends only its own later reads to the primary. Writes made outside any scope send every
   * read outside a scope to the primary for the window. Work `f` leaves running after its
   * promise settled still reads its writes from the primary within the window; what it writes
   * after that counts as a write outside scopes too.
   *
   * @example
   * const rows = await db.scope(() => run(db.all(sql`SELECT * FROM invoice WHERE org_id = ${orgId}`)))
   */
  readonly scope: <A>(f: () => Promise<A>) => Promise<A>
}

/**
 * Whether a statement may run on a replica (the default routing rule of `withReplicas`): a plain
 * read as `notReadOnly` in `sql-text.ts` tells it, the same rule the shard router uses. Comments
 * and strings do not count, so a read behind a comment is a read, and a write named in a string
 * is not a write. Given the engine family (`flavourOf(dialect)`) the text is read as that engine
 * reads it; without it, text the engines would read differently is not a read.
 *
 * @example
 * isReplicaRead({ sql: '/* report *\/ SELECT * FROM t', params: [] }) // true
 * isReplicaRead({ sql: 'SELECT * FROM t FOR UPDATE', params: [] })     // false
 */
export const isReplicaRead = (q: Compiled, flavour?: SqlFlavour): boolean => {
  // A write's text (a bulk INSERT) can be long: its first word is enough to tell it is not a read.
  const verb = verbOf(readSql(q.sql, flavour, true))
  return verb !== undefined && READ_VERBS.has(verb) && notReadOnly(readSql(q.sql, flavour)) === undefined
}

/**
 * A PostgreSQL standby health check: fails when the standby has received more than
 * `maxLagBytes` of WAL that it has not replayed yet (replay paused or too slow), or when the
 * server is not a standby at all (promoted: it would take writes the old primary never sees).
 *
 * @example
 * const db = withReplicas(primary, [standby], { check: postgresReplicaCheck(1024 * 1024) })
 */
export const postgresReplicaCheck = (maxLagBytes = 0) => (replica: Backend): TaskEither<DbError, unknown> => async () => {
  const r = await replica.all<{ standby: boolean; lag: string | number | null }>(sql`SELECT pg_is_in_recovery() AS standby, pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()) AS lag`)()
  if (E.isLeft(r)) return r
  const row = r.right[0]
  if (row === undefined || row.standby !== true) return E.left(dbError('ConnectionError', 'the replica is not a standby (promoted or misconfigured)'))
  const lag = row.lag === null ? 0 : Number(row.lag)
  return lag > maxLagBytes ? E.left(dbError('ConnectionError', `the replica is ${lag} bytes of WAL behind (more than ${maxLagBytes})`)) : E.right(lag)
}

interface State {
  healthy: boolean
  downSince: number
  lastCheck: number
  checking: Promise<void> | undefined
  lastError: DbError | undefined
  reads: number
}

/** A read-your-writes scope's time of its last write; `ended` once its `scope` call settled. */
interface Clock { lastWrite: number; ended?: boolean }


const timeout = <A>(p: Promise<E.Either<DbError, A>>, ms: number): Promise<E.Either<DbError, A>> => {
  if (!(ms > 0) || !Number.isFinite(ms)) return p
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<E.Either<DbError, A>>((resolve) => {
    timer = setTimeout(() => resolve(E.left(dbError('ConnectionError', `the replica did not answer within ${ms} ms`))), ms)
  })
  return Promise.race([p, late]).finally(() => clearTimeout(timer))
}

/**
 * Send reads to replicas and everything else to the primary. The result is the primary with
 * `execute` and `stream` wrapped, so it is a Backend like any other (wrap it further, hand it
 * to models); it also carries its parts, the replicas' health and a read-your-writes `scope`.
 *
 * @example
 * const primary = await run(connect(postgresJs({ url: PRIMARY_URL }), postgres))
 * const standby = await run(connect(postgresJs({ url: STANDBY_URL, connectTimeout: 2 }), postgres))
 * const db = withReplicas(primary, [standby], { readYourWritesMs: 1000, check: postgresReplicaCheck(1 << 20) })
 * await run(db.execute(sql`INSERT INTO t VALUES (1)`)) // primary
 * await run(db.all(sql`SELECT * FROM t`))             // primary: within a second of the write
 * await db.scope(() => run(db.all(sql`SELECT * FROM t`))) // a new scope: the standby
 */
export const withReplicas = (primary: Backend, replicas: readonly Backend[], options: ReplicaOptions = {}): ReplicatedBackend => {
  const window = options.readYourWritesMs ?? 2000
  const flavour = flavourOf(primary.dialect)
  const isRead = options.isRead ?? ((statement: Compiled) => isReplicaRead(statement, flavour))
  const timeoutMs = options.timeoutMs ?? 10_000
  const retryAfter = options.retryAfterMs ?? 1000
  const checkEvery = options.checkEveryMs ?? 5000
  const check = options.check ?? ((r: Backend) => r.execute(sql`SELECT 1`))
  const states: State[] = replicas.map(() => ({ healthy: true, downSince: 0, lastCheck: Date.now(), checking: undefined, lastError: undefined, reads: 0 }))
  /**
   * The read-your-writes scope of the current context (`scope`). A quiet storage
   * (`quiet-storage.ts`), so that its promise hook is not paid by every promise of the process
   * for good once a scope ran: it stays on while a scope is open, while any scope's last write is
   * younger than the window, and for a quarter of a second after. When it goes off, no clock it
   * carried says a read must go to the primary, so work a scope left running that finds no clock
   * any more (it reads the clock of reads outside scopes) reads where its clock would have sent
   * it, or the primary. Such work's writes after its scope ended count outside scopes too, and
   * its reads see writes made outside scopes, so a part of it that still finds the clock and a
   * part that does not still read each other's writes.
   */
  const clocks = quietStorage<Clock>()
  const global: Clock = { lastWrite: Number.NEGATIVE_INFINITY }
  let next = 0

  const healthOf = (i: number): ReplicaHealth => {
    const s = states[i]
    return s.lastError === undefined || s.healthy ? { index: i, healthy: s.healthy, reads: s.reads } : { index: i, healthy: s.healthy, lastError: s.lastError, reads: s.reads }
  }

  /** Tell `onHealth`; what it throws is its own, not the read's that changed the state. */
  const tell = (i: number): void => {
    try {
      options.onHealth?.(healthOf(i))
    } catch {
      // The listener's failure does not change the replica's state or the caller's answer.
    }
  }

  const markDown = (i: number, e: DbError): void => {
    const s = states[i]
    s.lastError = e
    s.downSince = Date.now()
    if (s.healthy) {
      s.healthy = false
      tell(i)
    }
  }

  /** The check's answer; what it throws is a ConnectionError naming it. */
  const checked = (i: number): Promise<E.Either<DbError, unknown>> => {
    const failed = (e: unknown) => E.left(isDbError(e) ? e : dbError('ConnectionError', `the replica's health check threw: ${e instanceof Error ? e.message : String(e)}`, { cause: e }))
    try {
      return check(replicas[i])().catch(failed)
    } catch (e) {
      return Promise.resolve(failed(e))
    }
  }

  const runCheck = (i: number): Promise<void> => {
    const s = states[i]
    s.checking ??= (async () => {
      const r = await timeout(checked(i), timeoutMs)
      s.lastCheck = Date.now()
      if (E.isLeft(r)) markDown(i, r.left)
      else if (!s.healthy) {
        s.healthy = true
        s.lastError = undefined
        tell(i)
      }
    })().finally(() => { s.checking = undefined })
    return s.checking
  }

  /** Healthy replicas; kicks off the checks that are due (never waits for them). */
  const healthy = (): number[] => {
    const now = Date.now()
    const out: number[] = []
    for (let i = 0; i < states.length; i++) {
      const s = states[i]
      if (!s.healthy) {
        if (now - s.downSince >= retryAfter && s.checking === undefined) void runCheck(i)
        continue
      }
      if (checkEvery > 0 && now - s.lastCheck >= checkEvery && s.checking === undefined) void runCheck(i)
      out.push(i)
    }
    return out
  }

  const clock = (): Clock => clocks.getStore() ?? global
  const wrote = (): void => {
    const c = clock()
    const now = Date.now()
    c.lastWrite = now
    if (c === global) return
    // Its reads must find this clock for the window (see `clocks`).
    if (window > 0) clocks.keepUntil(now + window)
    if (c.ended === true) global.lastWrite = now
  }
  const recentlyWrote = (): boolean => {
    if (!(window > 0)) return false
    const c = clock()
    return Date.now() - (c.ended === true ? Math.max(c.lastWrite, global.lastWrite) : c.lastWrite) < window
  }

  /** The replicas to try for this read, in order; empty means the primary. */
  const route = (statement: Compiled): number[] => {
    const ok = healthy()
    if (ok.length === 0) return []
    const turn = (): number => ok[next++ % ok.length]
    let first: number
    try {
      first = options.pick === undefined ? turn() : options.pick(ok, statement)
    } catch {
      first = turn()
    }
    // An answer that is not a healthy replica's index: round robin decides.
    if (!ok.includes(first)) first = turn()
    return [first, ...ok.filter((i) => i !== first)]
  }

  /**
   * Set while a call runs on a reserved connection (`connection()`): every statement there,
   * reads included, runs on that connection of the primary, which the caller reserved for its
   * session state (`SET`, temporary tables) and may have written on. A quiet storage, held on
   * while such a call is pending (its statements are routed before it settles) and for a quarter
   * of a second after, off otherwise (see `clocks`).
   */
  const reserved = quietStorage<true>()
  const onConnection = <A>(f: () => A): A => reserved.run(true, f)
  const task = <L, A>(t: TaskEither<L, A>): TaskEither<L, A> => () => onConnection(t)

  /** A reserved connection's handle whose every call runs in `reserved`. */
  const pinConnection = (c: ReservedConnection): ReservedConnection => {
    const iterate = <R>(source: AsyncIterable<R>): AsyncIterable<R> => ({
      [Symbol.asyncIterator]: () => {
        const it = onConnection(() => source[Symbol.asyncIterator]())
        return {
          next: () => onConnection(() => it.next()),
          return: (v?: unknown) => onConnection(() => it.return?.(v) ?? Promise.resolve({ done: true as const, value: v as R })),
          throw: (e?: unknown) => onConnection(() => it.throw?.(e) ?? Promise.reject(e)),
        }
      },
    })
    const prepared = <R>(p: Prepared<R>): Prepared<R> => Object.freeze({
      ...p,
      execute: (args?: Readonly<Record<string, unknown>>) => task(p.execute(args)),
      all: (args?: Readonly<Record<string, unknown>>) => task(p.all(args)),
      first: (args?: Readonly<Record<string, unknown>>) => task(p.first(args)),
    })
    return Object.freeze({
      ...c,
      execute: <R>(q: Executable<R>) => task(c.execute<R>(q)),
      all: <R>(q: Executable<R>) => task(c.all<R>(q)),
      first: <R>(q: Executable<R>) => task(c.first<R>(q)),
      query: <R>(f: Parameters<Backend['query']>[0]) => task(c.query<R>(f)),
      executeBatch: <R>(q: Executable<R>, sets: readonly (readonly unknown[])[]) => task(c.executeBatch<R>(q, sets)),
      stream: <R>(q: Executable<R>, o?: { readonly batchSize?: number }) => iterate(c.stream<R>(q, o)),
      prepare: <R>(q: Executable<R>, o?: PrepareOptions<R>) => prepared(c.prepare<R>(q, o)),
      transaction: ((fn, o) => task(c.transaction(fn, o))) as Backend['transaction'],
      startTransaction: (o) => task(c.startTransaction(o)),
    } satisfies Partial<ReservedConnection>)
  }

  /** A controlled transaction whose end counts as a write of the scope it ends in, as its start did. */
  const endsAsWrite = (t: Transaction): Transaction => Object.freeze({
    ...t,
    commit: () => () => t.commit()().finally(wrote),
    rollback: () => () => t.rollback()().finally(wrote),
  })

  const replicated = wrap(primary, {
    execute: (nextExecute, self) => <R>(q: Executable<R>): TaskEither<DbError, QueryResult<R>> => () => {
      if (self.inTransaction()) return nextExecute(q)()
      const c = isCompiled(q) ? E.right(q) : self.compile(q as Compilable)
      // What does not compile fails on the primary, with the primary's error.
      if (E.isLeft(c) || !isRead(c.right)) {
        wrote()
        return nextExecute(q)().finally(wrote)
      }
      if (reserved.getStore() === true || recentlyWrote()) return nextExecute(q)()
      const statement = c.right
      return (async () => {
        for (const i of route(statement)) {
          const r = await timeout(replicas[i].execute<R>(statement)(), timeoutMs)
          if (E.isRight(r)) {
            states[i].reads++
            return r
          }
          if (r.left._tag === 'ConnectionError') markDown(i, r.left)
          // Any other failure (a lagging replica without the table yet, a recovery conflict)
          // is retried on the primary, which answers with its own error if the read is wrong.
          else break
        }
        return nextExecute(q)()
      })()
    },

    stream: (nextStream, self) => <R>(q: Executable<R>, o?: { readonly batchSize?: number }): AsyncIterable<R> => ({
      [Symbol.asyncIterator]: () => (async function* () {
        const c = isCompiled(q) ? E.right(q) : self.compile(q as Compilable)
        const read = E.isRight(c) && isRead(c.right)
        if (self.inTransaction() || reserved.getStore() === true || !read || recentlyWrote()) {
          if (!read) wrote()
          yield* nextStream(q, o)
          return
        }
        for (const i of route(c.right)) {
          const it = replicas[i].stream<R>(c.right, o)[Symbol.asyncIterator]()
          // The first row within timeoutMs, as a read's answer: a replica that accepts the
          // connection and never answers would otherwise hold the loop for as long as it likes.
          const first = await timeout(it.next().then((r) => E.right(r), (e: unknown) => E.left(toDbError(e))), timeoutMs)
          if (E.isLeft(first)) {
            // Given up: its cursor is closed when it answers, without waiting for it here.
            if (first.left.message.startsWith('the replica did not answer')) void Promise.resolve().then(() => it.return?.()).catch(() => undefined)
            if (first.left._tag === 'ConnectionError') {
              markDown(i, first.left)
              continue
            }
            break
          }
          let r = first.right
          try {
            // Rows already handed out cannot be taken back: after the first, an error is the caller's.
            while (r.done !== true) {
              yield r.value
              r = await it.next()
            }
          } finally {
            if (r.done !== true) await it.return?.()
          }
          states[i].reads++
          return
        }
        yield* nextStream(q, o)
      })(),
    }),

    transaction: (nextTransaction) => (fn, o) => () => {
      wrote()
      return nextTransaction(fn, o)().finally(wrote)
    },

    startTransaction: (nextStart) => (o) => async () => {
      wrote()
      const t = await nextStart(o)()
      return E.isLeft(t) ? t : E.right(endsAsWrite(t.right))
    },

    connection: (nextConnection) => () => async () => {
      const c = await nextConnection()()
      return E.isLeft(c) ? c : E.right(pinConnection(c.right))
    },

    close: (nextClose) => (o) => async () => {
      const rs = await Promise.all([nextClose(o)(), ...replicas.map((r) => r.close(o)())])
      return rs.find(E.isLeft) ?? E.right(undefined)
    },
  })

  return extend<Backend, Omit<ReplicatedBackend, keyof Backend>>(replicated, () => ({
    primary,
    replicas,
    health: () => states.map((_, i) => healthOf(i)),
    checkReplicas: async () => {
      await Promise.all(states.map((_, i) => runCheck(i)))
      return states.map((_, i) => healthOf(i))
    },
    scope: <A>(f: () => Promise<A>): Promise<A> => {
      const c: Clock = { lastWrite: Number.NEGATIVE_INFINITY }
      return clocks.run(c, f, () => { c.ended = true })
    },
  }))
}
