/**
 * The postgres.js driver set up for PgBouncer in transaction pooling mode.
 *
 * In that mode PgBouncer hands a server connection to a client for one transaction (or one
 * statement outside a transaction) and then to someone else. So:
 * - statements are never named prepared statements (`prepare: false`): a statement prepared on
 *   one server connection does not exist on the next (PgBouncer before 1.21 does not track
 *   protocol-level prepared statements);
 * - session state set outside a transaction would leak to other clients or vanish: `SET`
 *   (not `SET LOCAL`), `RESET`, `LISTEN`, `PREPARE`, `DECLARE ... WITH HOLD`, `DISCARD`,
 *   `LOAD` and session-level advisory locks are refused with UnsupportedFeature before they are
 *   sent; inside a transaction they are allowed (they end with it, or `SET LOCAL` does);
 * - startup parameters are limited to those PgBouncer passes on (`application_name`,
 *   `TimeZone`, `DateStyle`, `client_encoding`, `standard_conforming_strings`); another one
 *   (`search_path`, `statement_timeout`) is refused by PgBouncer at connect unless it is listed
 *   in its `ignore_startup_parameters`, and then it is silently dropped, so `pgbouncerDriver`
 *   refuses it up front (set it per role or database on the server instead).
 *
 * Transactions, savepoints and streams (a cursor read outside a transaction keeps its server
 * connection until the last row) work as on a direct connection.
 */
import * as E from 'fp-ts/lib/Either.js'
import { postgresJs, type PostgresJsDriver, type PostgresJsOptions } from '../drivers/postgres.js'
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import { type DbError, unsupportedError } from '../errors.js'
import { extend } from '../record.js'

const SESSION_STATE = /^\s*(SET(?!\s+(LOCAL|TRANSACTION|CONSTRAINTS)\b)|RESET|LISTEN|UNLISTEN|PREPARE|DEALLOCATE|DISCARD|LOAD)\b|^\s*DECLARE\b[\s\S]*\bWITH\s+HOLD\b|\bpg_(try_)?advisory_lock(_shared)?\s*\(/i

/** Startup parameters PgBouncer tracks and passes on to every server connection it uses. */
const TRACKED = new Set(['application_name', 'timezone', 'datestyle', 'client_encoding', 'standard_conforming_strings'])

const FEATURE = 'session state under PgBouncer transaction pooling'

/**
 * Whether a statement sets session state that transaction pooling would leak or lose.
 *
 * @example
 * setsSessionState('SET search_path = app')           // true
 * setsSessionState('SET LOCAL statement_timeout = 5') // false
 */
export const setsSessionState = (text: string): boolean => SESSION_STATE.test(text)

/**
 * A postgres.js driver for PgBouncer in transaction pooling mode: unnamed statements only,
 * session state refused outside transactions, startup parameters PgBouncer passes on only.
 *
 * @example
 * const db = await run(connect(pgbouncerDriver({ url: 'postgres://app@127.0.0.1:6432/app', max: 20 }), postgres))
 * await run(db.transaction((tx) => tx.execute(sql`SET LOCAL statement_timeout = '5s'`)))   // fine
 * await db.execute(sql`SET search_path = app`)() // Left: UnsupportedFeature
 */
export const pgbouncerDriver = (options: PostgresJsOptions = {}): PostgresJsDriver => {
  const untracked = Object.keys(options.connection ?? {}).filter((k) => !TRACKED.has(k.toLowerCase()))
  const refused = untracked.length === 0
    ? undefined
    : unsupportedError('pgbouncer', `startup parameter ${untracked.join(', ')}`, 'PgBouncer passes on only application_name, TimeZone, DateStyle, client_encoding and standard_conforming_strings; set it per role or database')
  const refuse = <A>(): TaskEither<DbError, A> => () => Promise.resolve(E.left(refused!))
  return extend(postgresJs({ ...options, prepare: false }), (self, base) => ({
    name: 'postgres.js (PgBouncer)',
    prepare: false,
    clientOptions: () => ({ ...base.clientOptions(), prepare: false }),
    execute: (q) => {
      if (refused !== undefined) return refuse()
      if (setsSessionState(q.sql)) return () => Promise.resolve(E.left(unsupportedError('pgbouncer', FEATURE, 'run it inside a transaction (SET LOCAL), or set it per role or database on the server')))
      return base.execute(q)
    },
    reserve: () => (refused !== undefined ? refuse() : base.reserve()),
    version: () => (refused !== undefined ? refuse() : base.version()),
    stream: (q, o) => {
      if (refused !== undefined) throw refused
      if (setsSessionState(q.sql)) throw unsupportedError('pgbouncer', FEATURE)
      return base.stream(q, o)
    },
  }))
}
