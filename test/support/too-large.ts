/**
 * The two servers whose errors for a value too long for its column the ValueTooLarge tests
 * compare: how to open each, its auto-increment key column and the code it answers with.
 */
import { connect, type DbError, isDbError } from 'recordkit'
import { mysql } from 'recordkit/dialects/mysql'
import { postgres } from 'recordkit/dialects/postgres'
import { mysql2 } from 'recordkit/drivers/mysql2'
import { postgresJs } from 'recordkit/drivers/postgres'
import { ok } from 'recordkit/testing'
import { MYSQL_URL, PG_URL, serverAvailable } from './servers.js'

export const pgUp = await serverAvailable('postgres')
export const mariaUp = await serverAvailable('mariadb')

/** PostgreSQL and MariaDB, each with whether it answers, how to open it, its serial key and its too-long code. */
export const tooLongEngines = [
  { name: 'PostgreSQL', up: pgUp, open: () => ok(connect(postgresJs({ url: PG_URL, max: 2 }), postgres)), serial: 'SERIAL PRIMARY KEY', code: '22001' as string | number },
  { name: 'MariaDB', up: mariaUp, open: () => ok(connect(mysql2({ url: MYSQL_URL, max: 2 }), mysql)), serial: 'INTEGER AUTO_INCREMENT PRIMARY KEY', code: 1406 as string | number },
] as const

/** The error as a ValueTooLarge, or thrown as it is. */
export const asTooLarge = (e: DbError) => {
  if (!isDbError(e, 'ValueTooLarge')) throw e
  return e
}
