/**
 * MariaDB Galera clusters: the mysql2 driver for a Galera node, and the retry that resolves
 * certification conflicts.
 *
 * Galera replicates a transaction to every node at COMMIT and certifies it there; when two
 * nodes commit transactions touching the same rows, the later one fails certification and the
 * server reports it as a deadlock (errno 1213, `Deadlock`): the whole transaction was rolled
 * back and may simply run again, which `galeraRetry` does. A node that has left the cluster's
 * primary component answers errno 1047 (`WSREP has not yet prepared node for application
 * use`); `galeraDriver` classifies that as ConnectionError, like a node that is down, since
 * the statement did not run and another node may take it.
 */
import { mysql2, type Mysql2Driver, type Mysql2Options } from '../drivers/mysql2.js'
import { dbError, type DbError } from '../errors.js'
import type { Middleware } from '../compose.js'
import { retry, type RetryOptions } from '../middleware.js'
import { extend } from '../record.js'

/** Options of `galeraDriver`. */
export interface GaleraOptions extends Mysql2Options {
  /**
   * `wsrep_sync_wait` for every session: 1 makes each read wait until the node has applied
   * every write the cluster committed before it (reads on any node see writes acknowledged on
   * another). Default: the server's (0, reads may lag by the replication delay).
   */
  readonly syncWait?: number
}

/** errno 1047, ER_UNKNOWN_COM_ERROR: what a Galera node outside the primary component answers. */
const WSREP_NOT_READY = 1047

/**
 * A mysql2 driver for one Galera node: a node that is not part of the primary component fails
 * statements with ConnectionError, and sessions may wait for causal reads (`syncWait`).
 *
 * @example
 * const node = await run(connect(galeraDriver({ url: 'mysql://app@10.0.0.1:3306/app', syncWait: 1 }), mysql))
 * const db = wrap(node, galeraRetry())
 */
export const galeraDriver = (options: GaleraOptions = {}): Mysql2Driver =>
  extend(mysql2(options), (self, base) => ({
    classifyError: (e: unknown): DbError => {
      const d = base.classifyError(e)
      return d.code === WSREP_NOT_READY ? dbError('ConnectionError', d.message, { code: d.code, cause: d.cause }) : d
    },
    onConnect: async (connection) => {
      await base.onConnect(connection)
      if (options.syncWait !== undefined) await connection.query(`SET SESSION wsrep_sync_wait = ${Math.trunc(options.syncWait)}`)
    },
  }))

/**
 * `retry` set up for Galera: certification conflicts (reported as Deadlock) and serialization
 * failures are retried, a whole top-level transaction at a time, up to 8 attempts by default.
 *
 * @example
 * const db = wrap(node, galeraRetry({ onRetry: (e) => console.warn('certification conflict', e.message) }))
 * await run(db.transaction((tx) => tx.execute(sql`UPDATE stock SET n = n - 1 WHERE sku = ${sku}`)))
 */
export const galeraRetry = (options: RetryOptions = {}): Middleware => retry({ on: ['Deadlock', 'SerializationFailure'], attempts: 8, ...options })
