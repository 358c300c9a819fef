/**
 * PostgreSQL's SQLSTATE codes as DbError tags: what every driver that talks to PostgreSQL (or
 * to an engine that reports SQLSTATEs) classifies by.
 */
import type { DbErrorTag } from '../errors.js'

const SQLSTATE_TAGS: Readonly<Record<string, DbErrorTag>> = {
  23505: 'UniqueViolation',
  // An exclusion constraint is a generalised unique constraint: a conflicting row exists.
  '23P01': 'UniqueViolation',
  23503: 'ForeignKeyViolation',
  23001: 'ForeignKeyViolation',
  23502: 'NotNullViolation',
  23514: 'CheckViolation',
  40001: 'SerializationFailure',
  '40P01': 'Deadlock',
  '55P03': 'LockTimeout',
  57014: 'StatementTimeout',
  // Cannot connect: bad password or role, no such database, server starting or stopping, full.
  '3D000': 'ConnectionError',
  '57P01': 'ConnectionError',
  '57P02': 'ConnectionError',
  '57P03': 'ConnectionError',
  53300: 'ConnectionError',
  // program_limit_exceeded: a value or statement over a size limit (a field over 1 GB, ...).
  54000: 'ValueTooLarge',
  // A value too long for its column ('abcdef' into VARCHAR(3)), or a number out of its type's range.
  22001: 'ValueTooLarge',
  22003: 'ValueTooLarge',
}

/** Classes of SQLSTATE: connection, authorization, transaction state, rollback, syntax and access. */
const SQLSTATE_CLASS_TAGS: Readonly<Record<string, DbErrorTag>> = {
  '08': 'ConnectionError',
  28: 'ConnectionError',
  25: 'TransactionError',
  '2D': 'TransactionError',
  '3B': 'TransactionError',
  40: 'TransactionError',
  42: 'QueryError',
}

const SQLSTATE = /^[0-9A-Z]{5}$/

/**
 * The DbError tag of a SQLSTATE code (`QueryError` for one with no tag of its own), or
 * undefined when the code is not a SQLSTATE at all (a socket error code, a client's own code).
 *
 * @example sqlstateTag('23505') // 'UniqueViolation'
 */
export const sqlstateTag = (code: string): DbErrorTag | undefined =>
  SQLSTATE.test(code) ? SQLSTATE_TAGS[code] ?? SQLSTATE_CLASS_TAGS[code.slice(0, 2)] ?? 'QueryError' : undefined

/**
 * The columns of a unique key from PostgreSQL's DETAIL of SQLSTATE 23505
 * (`Key (a, b)=(1, 2) already exists.`), quoted names unquoted.
 *
 * @example uniqueKeyColumns('Key (email)=(a@x.io) already exists.') // ['email']
 */
export const uniqueKeyColumns = (detail: unknown): string[] | undefined => {
  const key = typeof detail === 'string' ? /^Key \((.+?)\)=\(/.exec(detail)?.[1] : undefined
  return key?.split(', ').map((c) => (c.startsWith('"') && c.endsWith('"') ? c.slice(1, -1).replace(/""/g, '"') : c))
}
