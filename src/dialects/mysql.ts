/**
 * The MySQL and MariaDB dialects: the standard dialect with MySQL's differences, made with
 * `extend`; MariaDB is MySQL with its own differences on top, made the same way.
 *
 * Traps it handles: identifiers are quoted with backticks; `||` is OR unless the server runs
 * with PIPES_AS_CONCAT, so concatenation is `CONCAT()`; OFFSET needs a LIMIT (the largest
 * unsigned BIGINT stands for "no limit"); there is no `NULLS FIRST/LAST` (emulated with an
 * `IS NULL` sort key) and no FULL JOIN; upsert is `ON DUPLICATE KEY UPDATE`, which fires on
 * any unique key and has no WHERE, and names the proposed row `new.col` (MySQL 8.0.19+, with
 * `AS new`) or `VALUES(col)` (older MySQL and MariaDB); RETURNING exists only on MariaDB
 * (DELETE since 10.0.5, INSERT since 10.5, never UPDATE); an insert of only defaults is
 * `() VALUES ()`; isolation is set by a `SET TRANSACTION` before `START TRANSACTION`.
 *
 * Values: booleans are TINYINT(1) and travel as 1/0; a Date travels as UTC text
 * `YYYY-MM-DD HH:MM:SS.mmm` (the mysql2 driver reads DATETIME back as UTC, so a Date comes
 * back as the same instant whatever the process or server time zone); objects and arrays as
 * JSON text; a bigint as its decimal text, which the server converts exactly.
 */
import type { Expr } from '../ast.js'
import { type Dialect, unsupported, versionAtLeast } from '../dialect.js'
import { dbError, unsupportedError } from '../errors.js'
import { extend } from '../record.js'
import { fromParts as F, isJsonValue, type Part } from '../sql.js'
import { fragments, standard, standardOpen } from './standard.js'

/** The MySQL dialect record: a Dialect plus the name the proposed row gets in an upsert. */
export interface MysqlDialect extends Dialect {
  /**
   * The alias of the proposed row in `INSERT ... AS alias ON DUPLICATE KEY UPDATE`
   * (MySQL 8.0.19+: `new`), or `undefined` where the row is named with `VALUES(col)`.
   */
  readonly rowAlias: string | undefined
}

/** The largest LIMIT MySQL accepts: the way to say "no limit" when only OFFSET is wanted. */
export const NO_LIMIT = '18446744073709551615'

const pad = (n: number, width = 2): string => String(n).padStart(width, '0')

/**
 * A Date as MySQL DATETIME text in UTC, with milliseconds.
 * @example mysqlDateTime(new Date('2024-02-29T23:59:58.123Z')) // '2024-02-29 23:59:58.123'
 */
export const mysqlDateTime = (d: Date): string => {
  if (Number.isNaN(d.getTime())) throw dbError('QueryError', 'cannot bind an invalid Date')
  const y = d.getUTCFullYear()
  if (y < 0 || y > 9999) throw dbError('QueryError', `a MySQL date has a four-digit year, got ${d.toISOString()}`)
  return `${pad(y, 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}`
}

/** JS values to what mysql2 binds the same way with `execute` and with `query`. */
const toMysql = (v: unknown): unknown => {
  switch (typeof v) {
    case 'string':
    case 'number': return v
    case 'boolean': return v ? 1 : 0
    case 'bigint': return v.toString()
    case 'undefined': return null
    case 'object':
      if (v === null || Buffer.isBuffer(v)) return v
      if (v instanceof Date) return mysqlDateTime(v)
      if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength)
      // mysql2's text protocol would expand an object into `key = value` pairs and an array
      // into a list: JSON text is what a JSON column takes, under both protocols.
      return JSON.stringify(isJsonValue(v) ? v.value : v)
    default: return v
  }
}

/** The items of a chain of `||`, flattened so `a || b || c` becomes one `CONCAT(a, b, c)`. */
const concatItems = (e: Expr): readonly Expr[] =>
  e.kind === 'binary' && e.op === '||' ? [...concatItems(e.left), ...concatItems(e.right)] : [e]

/** A server version with the `5.5.5-` prefix old MariaDB handshakes carry removed. */
const cleanVersion = (version: string): string => version.trim().replace(/^5\.5\.5-(?=\d+\.\d+.*mariadb)/i, '')

/**
 * Whether a server version string is MariaDB's (`10.11.6-MariaDB-1:10.11.6+maria~ubu2204`).
 * @example isMariaDbVersion('10.11.19-MariaDB-0+deb12u1') // true
 */
export const isMariaDbVersion = (version: string): boolean => /mariadb/i.test(version)

/**
 * The MySQL dialect (assumes MySQL 8.0.19 or later; `connect` specialises it to the server's
 * version through `forVersion`, and to the MariaDB dialect when the server is MariaDB).
 *
 * @example
 * const db = await run(connect(mysql2({ url: 'mysql://root@localhost/app' }), mysql))
 */
export const mysql: MysqlDialect = extend<Dialect, { rowAlias: string | undefined }>(standard, (self, base) => ({
  name: 'mysql',
  version: '8.0.35',
  maxParams: 65535,
  rowAlias: 'new',

  quoteIdentifier: fragments.memo((name) => {
    if (name.includes('\0')) throw dbError('QueryError', `identifier contains a NUL character: ${JSON.stringify(name)}`)
    return `\`${name.replace(/`/g, '``')}\``
  }),
  toDriver: toMysql,

  binary: (op, l, r) =>
    op === '||'
      ? F(['CONCAT(', fragments.joinParts([...concatItems(l), ...concatItems(r)].map(self.expr), ', '), ')'])
      : base.binary(op, l, r),

  // No NULLS FIRST/LAST: sort on `expr IS NULL` first (1 for NULL), then on the expression.
  orderItem: (o) =>
    o.nulls === undefined
      ? base.orderItem(o)
      : F([fragments.wrapped(self, o.expr), o.nulls === 'first' ? ' IS NULL DESC, ' : ' IS NULL ASC, ', base.orderItem({ ...o, nulls: undefined })]),

  join: (j) => (j.type === 'full' ? unsupported(self.name, 'FULL JOIN')() : base.join(j)),

  limitOffset: (limit, offset) =>
    limit === undefined && offset !== undefined
      ? F([` LIMIT ${NO_LIMIT} OFFSET `, fragments.amount(self, offset)])
      : base.limitOffset(limit, offset),

  returning: unsupported('mysql', 'RETURNING'),
  insertReturning: unsupported('mysql', 'RETURNING'),
  updateReturning: unsupported('mysql', 'RETURNING'),
  deleteReturning: unsupported('mysql', 'RETURNING'),

  insertValues: (node) => {
    if (node.columns.length > 0) return base.insertValues(node)
    const rows = node.rows.length === 0 ? 1 : node.rows.length
    return F([' () VALUES ', Array(rows).fill('()').join(', ')])
  },

  excluded: (column) =>
    self.rowAlias === undefined
      ? F([`VALUES(${self.quoteIdentifier(column)})`])
      : F([self.column(self.rowAlias, column)]),

  upsert: (node) => {
    const oc = node.onConflict!
    if (oc.where !== undefined) {
      throw unsupportedError(self.name, 'upsert with a WHERE condition', 'ON DUPLICATE KEY UPDATE has no WHERE; use IF() in the assignments')
    }
    if (oc.update === null) {
      // "Do nothing", honestly: assign a column to itself. INSERT IGNORE would also turn
      // NOT NULL, foreign key and data errors into warnings.
      const c = oc.target[0] ?? node.columns[0]
      if (c === undefined) throw unsupportedError(self.name, 'upsert doing nothing without a column', 'name the conflict target or insert a column')
      const q = self.quoteIdentifier(c)
      return F([` ON DUPLICATE KEY UPDATE ${q} = ${q}`])
    }
    if (oc.update.length === 0) throw dbError('QueryError', `${self.name}: an upsert that updates needs at least one assignment`)
    const sets = oc.update.map(([c, v]) => F([self.quoteIdentifier(c), ' = ', self.expr(v)]))
    const parts: Part[] = []
    if (self.rowAlias !== undefined) parts.push(` AS ${self.quoteIdentifier(self.rowAlias)}`)
    parts.push(' ON DUPLICATE KEY UPDATE ', fragments.joinParts(sets, ', '))
    return F(parts)
  },

  beginTransaction: (o) => {
    if (o.deferrable) throw unsupportedError(self.name, 'DEFERRABLE transactions')
    if (o.behavior !== undefined && o.behavior !== 'deferred') throw unsupportedError(self.name, `BEGIN ${o.behavior.toUpperCase()}`, 'lock rows with SELECT ... FOR UPDATE instead')
    // SET TRANSACTION without SESSION applies to the next transaction only.
    const out: string[] = []
    if (o.isolation !== undefined) out.push(`SET TRANSACTION ISOLATION LEVEL ${o.isolation.toUpperCase()}`)
    out.push(o.readOnly === undefined ? 'START TRANSACTION' : o.readOnly ? 'START TRANSACTION READ ONLY' : 'START TRANSACTION READ WRITE')
    return out
  },

  forVersion: (given) => {
    const version = cleanVersion(given)
    if (isMariaDbVersion(version)) return extend(self, mariadbChanges).forVersion(version)
    return extend(self, (_, b) => ({
      version,
      ...(versionAtLeast(version, '8.0.19') ? {} : { rowAlias: undefined }),
      forVersion: b.forVersion,
    }))
  },
}))

/** What MariaDB changes in the MySQL dialect: applied by `mariadb`, and by `mysql.forVersion` on a MariaDB server. */
const mariadbChanges = (self: MysqlDialect): Partial<MysqlDialect> => {
  // The standard RETURNING renderer, bound to this record (so quoting stays MariaDB's).
  const std = standardOpen(self)
  return {
    name: 'mariadb',
    version: '10.11.0',
    // MariaDB has no row alias in ON DUPLICATE KEY UPDATE; VALUES(col) names the proposed row.
    rowAlias: undefined,
    returning: std.returning,
    insertReturning: std.insertReturning,
    deleteReturning: std.deleteReturning,
    updateReturning: unsupported('mariadb', 'UPDATE ... RETURNING'),
    forVersion: (given) => {
      const version = cleanVersion(given)
      // A MySQL server: the MySQL dialect (changes made to this record are not carried over).
      if (!isMariaDbVersion(version) && !versionAtLeast(version, '10')) return mysql.forVersion(version)
      const name = `mariadb ${version}`
      return extend(self, (_, b) => ({
        version,
        ...(versionAtLeast(version, '10.5') ? {} : { insertReturning: unsupported(name, 'INSERT ... RETURNING', 'needs MariaDB 10.5') }),
        ...(versionAtLeast(version, '10.0.5') ? {} : { returning: unsupported(name, 'RETURNING', 'needs MariaDB 10.0.5'), deleteReturning: unsupported(name, 'DELETE ... RETURNING', 'needs MariaDB 10.0.5') }),
        forVersion: b.forVersion,
      }))
    },
  }
}

/**
 * The MariaDB dialect: MySQL's, with RETURNING on INSERT (10.5+) and DELETE, and
 * `VALUES(col)` for the proposed row of an upsert. `mysql.forVersion` picks it by itself on
 * a MariaDB server, so `connect(mysql2(...), mysql)` works against either.
 *
 * @example
 * const db = await run(connect(mysql2({ url: 'mysql://root@localhost/app' }), mariadb))
 */
export const mariadb: MysqlDialect = extend(mysql, mariadbChanges)
