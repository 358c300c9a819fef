/**
 * Running schema changes that take more than one statement: a table with its indexes, a whole
 * schema, an ALTER TABLE that SQLite does by rebuilding the table, and copying rows between
 * backends. Each is a function returning a TaskEither; the statements run in order in one
 * transaction (which, on MySQL and MariaDB, does not undo DDL: every DDL statement commits).
 */
import * as E from 'fp-ts/lib/Either.js'
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import type { Backend } from '../compose.js'
import { supports } from '../dialect.js'
import type { Row } from '../driver.js'
import { dbError, type DbError, toDbError, tryDb } from '../errors.js'
import { run } from '../promise.js'
import { runCatalog } from './catalog.js'
import { insertInto, values } from '../query.js'
import { type Fragment, sql } from '../sql.js'
import { type AlterTableNode, type DdlNode, type ForeignKeyDef, type SchemaDef, type TableDef, typeParts } from './ddl.js'
import type { RunQuery } from './ddl-dialect.js'

/**
 * The backend's `all`, as introspection and planning take it.
 * @example await run(runCatalog(runQuery(db), () => db.dialect.introspectTable('users')))
 */
export const runQuery = (db: Backend): RunQuery => (f) => db.all(f)

/**
 * Every statement of some DDL nodes, in order, as the backend's dialect writes them.
 * @example statementsOf(db, [createTable(def), createView('v', 'SELECT 1')]).map((s) => s.sql)
 */
export const statementsOf = (db: Backend, nodes: readonly DdlNode[]): E.Either<DbError, { readonly sql: string; readonly params: readonly unknown[] }[]> => {
  try {
    const out = []
    for (const n of nodes) {
      for (const f of db.dialect.ddlStatements(n)) {
        const c = db.compile(f)
        if (E.isLeft(c)) return c
        out.push(c.right)
      }
    }
    return E.right(out)
  } catch (e) {
    return E.left(toDbError(e))
  }
}

/**
 * Run DDL nodes, each with every statement it takes (a table with its indexes, a view
 * replaced on SQLite), in order, in one transaction.
 *
 * @example
 * await run(apply(db, pipe(createTable('users'), column('id', 'integer', { primaryKey: true }), index(['id']))))
 */
export const apply = (db: Backend, ...nodes: readonly DdlNode[]): TaskEither<DbError, void> => {
  const statements = statementsOf(db, nodes)
  if (E.isLeft(statements)) return () => Promise.resolve(statements)
  const runAll = (on: Backend) => tryDb(async () => {
    await refuseInventedValues(on, nodes)
    for (const s of statements.right) await run(on.execute(s))
  })
  return ddlUnit(db, runAll)
}

/**
 * A NOT NULL column without a default (nor generated values) added to a table that holds rows
 * is a NotNullViolation naming the table and the column, on every engine, before any statement
 * of the change runs. PostgreSQL refuses it too (the rows would hold NULL), and SQLite's ADD
 * COLUMN with a QueryError; MariaDB and MySQL give every row the type's implicit default ('' or
 * 0) without a word, values nobody wrote. One `SELECT 1 ... LIMIT 1` per such column.
 *
 * @example await refuseInventedValues(db, [pipe(alterTable('users'), addColumn('email', 'text', { notNull: true }))])
 */
const refuseInventedValues = async (db: Backend, nodes: readonly DdlNode[]): Promise<void> => {
  for (const n of nodes) {
    if (n.kind !== 'alterTable') continue
    for (const a of n.actions) {
      if (a.kind !== 'addColumn' || !a.column.notNull || a.column.default !== undefined || a.column.autoIncrement === true) continue
      const held = await run(db.all(sql`SELECT 1 AS held FROM ${sql.id(n.table)} LIMIT 1`))
      if (held.length > 0) {
        throw dbError('NotNullViolation', `cannot add column ${a.column.name} to ${n.table} as NOT NULL without a default: the table holds rows, which would have no value for it (${db.dialect.name === 'mysql' || db.dialect.name === 'mariadb' ? `${db.dialect.name} would fill them with the type's implicit default, '' or 0` : 'the engine refuses it'}); give it a default, add it nullable, fill it and then make it NOT NULL, or add it before the rows`, { column: a.column.name })
      }
    }
  }
}

/**
 * Run DDL work as one unit: in a transaction (a savepoint inside the caller's), on its handle (on
 * a reserved connection, db.connection(), the connection's own handle refuses calls while its
 * transaction is open). Where every DDL statement commits (MySQL, MariaDB), a savepoint inside
 * the caller's transaction cannot hold them: the first one ended it, and its RELEASE failed
 * ("SAVEPOINT does not exist") after the statements had run. There they run in the caller's
 * transaction as they are.
 */
const ddlUnit = <A>(db: Backend, work: (on: Backend) => TaskEither<DbError, A>): TaskEither<DbError, A> =>
  !db.dialect.transactionalDdl && db.inTransaction() ? work(db) : db.transaction(work)

/**
 * Run an ALTER TABLE the way the engine can: its own ALTER TABLE where that does the change,
 * a table rebuild on SQLite where it does not (new table, copy, drop, rename, indexes, triggers
 * and views again, foreign keys checked before the commit), all in one transaction. SQLite
 * cannot turn foreign keys off inside a transaction: a rebuild there needs them off already
 * (migrations do that); outside one, `alter` turns them off around the transaction.
 *
 * @example
 * await run(alter(db, pipe(alterTable('users'), alterColumn('age', 'smallint', { notNull: true, default: 0 }))))
 */
export const alter = (db: Backend, node: AlterTableNode): TaskEither<DbError, void> => tryDb(async () => {
  let restore: Fragment | undefined
  if (!db.inTransaction() && supports(db.dialect, 'foreignKeySuspension')) {
    const fk = db.dialect.foreignKeySuspension()
    const row = (await run(db.all(fk.read)))[0]
    if (row !== undefined && Number(Object.values(row)[0]) === 1) {
      await run(db.execute(fk.off))
      restore = fk.on
    }
  }
  try {
    const change = (tx: Backend) => tryDb(async () => {
      await refuseInventedValues(tx, [node])
      for (const segment of db.dialect.alterSegments(node)) {
        const plan = await run(runCatalog(runQuery(tx), () => db.dialect.planAlter(segment)))
        if (plan.before.length > 0) {
          throw dbError('TransactionError', `${db.dialect.name} cannot rebuild table ${segment.table} inside a transaction while foreign keys are enforced: run it outside a transaction (or in a migration, which turns them off first)`)
        }
        for (const f of plan.statements) await run(tx.execute(f))
        if (plan.check !== undefined) {
          const broken = await run(tx.all(plan.check))
          if (broken.length > 0) {
            throw dbError('ForeignKeyViolation', `changing ${segment.table} breaks ${broken.length} foreign key reference(s): ${JSON.stringify(broken.slice(0, 3))}`)
          }
        }
      }
    })
    await run(ddlUnit(db, change))
  } finally {
    if (restore !== undefined) await db.execute(restore)()
  }
})

/** Whether the engine's ALTER TABLE adds a foreign key (SQLite's does not: it needs none added later). */
const addsConstraints = (db: Backend): boolean => {
  try {
    db.dialect.alterTable({ kind: 'alterTable', table: 't', actions: [{ kind: 'addConstraint', constraint: { kind: 'foreignKey', foreignKey: { columns: ['a'], references: { table: 'u', columns: ['a'] } } } }] })
    return true
  } catch {
    return false
  }
}

/**
 * Create a whole schema (tables in dependency order, their indexes, then views), in one
 * transaction. A foreign key in a cycle of tables is added after the tables exist, where the
 * engine can add constraints (SQLite checks references only when rows change, so it needs none).
 *
 * @example
 * const schema = await run(introspect(sqliteDb))
 * await run(createSchema(pgDb, schema))
 */
export const createSchema = (db: Backend, schema: SchemaDef, options?: { readonly ifNotExists?: boolean }): TaskEither<DbError, void> => {
  const nodes: DdlNode[] = []
  const later: AlterTableNode[] = []
  const created = new Set<string>()
  const names = new Set(schema.tables.map((t) => t.name))
  const canAdd = addsConstraints(db)
  for (const t of schema.tables) {
    const deferred: ForeignKeyDef[] = canAdd
      ? t.foreignKeys.filter((fk) => fk.references.table !== t.name && names.has(fk.references.table) && !created.has(fk.references.table))
      : []
    const table: TableDef = deferred.length === 0 ? t : { ...t, foreignKeys: t.foreignKeys.filter((fk) => !deferred.includes(fk)) }
    nodes.push({ kind: 'createTable', table, ifNotExists: options?.ifNotExists ?? false })
    if (deferred.length > 0) {
      later.push({ kind: 'alterTable', table: t.name, actions: deferred.map((foreignKey) => ({ kind: 'addConstraint', constraint: { kind: 'foreignKey', foreignKey } })) })
    }
    created.add(t.name)
  }
  for (const v of schema.views) nodes.push({ kind: 'createView', name: v.name, query: v.sql, orReplace: false })
  return apply(db, ...nodes.filter((n) => n.kind === 'createTable'), ...later, ...nodes.filter((n) => n.kind !== 'createTable'))
}

/**
 * Drop the tables and views of a schema, views first and tables in reverse dependency order.
 * @example await run(dropSchema(db, schema))
 */
export const dropSchema = (db: Backend, schema: SchemaDef): TaskEither<DbError, void> =>
  apply(db,
    ...schema.views.map((v): DdlNode => ({ kind: 'dropView', name: v.name, ifExists: true })),
    ...[...schema.tables].reverse().map((t): DdlNode => ({ kind: 'dropTable', name: t.name, ifExists: true, cascade: false })))

// ---------------------------------------------------------------- copying rows

const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/

/** A value read from one engine as the target column's type wants it. */
const coerce = (value: unknown, type: TableDef['columns'][number]['type']): unknown => {
  if (value === null || value === undefined) return value
  const p = typeParts(type)
  switch (p?.name) {
    case 'boolean':
      return typeof value === 'number' || typeof value === 'bigint' ? Number(value) !== 0 : typeof value === 'string' ? /^(1|t|true)$/i.test(value) : value
    case 'timestamp':
    case 'timestamptz':
      if (typeof value === 'string' && ISO_DATE_TIME.test(value)) {
        const zoned = /(Z|[+-]\d{2}:?\d{2})$/.test(value)
        const d = new Date(zoned ? value : `${value.replace(' ', 'T')}Z`)
        return Number.isNaN(d.getTime()) ? value : d
      }
      return value
    case 'date':
      return value instanceof Date ? value.toISOString().slice(0, 10) : value
    case 'json':
      return typeof value === 'string' ? safeJson(value) : value
    default:
      return value
  }
}

const safeJson = (s: string): unknown => {
  try {
    return JSON.parse(s)
  } catch {
    return s
  }
}

/**
 * Copy every row of a table from one backend to another (batched multi-row inserts in one
 * transaction on the target), converting values to the target column types (0/1 to booleans,
 * timestamp text to Dates, JSON text to values). Generated-key counters are moved past the
 * copied keys where the engine needs it (PostgreSQL identity columns).
 *
 * @example
 * for (const t of schema.tables) await run(copyRows(sqliteDb, pgDb, t))
 */
export const copyRows = (source: Backend, target: Backend, table: TableDef, options?: { readonly batchSize?: number }): TaskEither<DbError, number> =>
  target.transaction((tx) => tryDb(async () => {
    const names = table.columns.map((c) => c.name)
    const types = new Map(table.columns.map((c) => [c.name, c.type]))
    const perInsert = Math.max(1, Math.min(options?.batchSize ?? 500, Math.floor(target.dialect.maxParams / Math.max(1, names.length))))
    const select = sql`SELECT ${sql.join(names.map((n) => sql.id([n])))} FROM ${sql.id([table.name])}`
    let batch: Row[] = []
    let copied = 0
    const flush = async (): Promise<void> => {
      if (batch.length === 0) return
      await run(tx.execute(values(batch)(insertInto(table.name))))
      copied += batch.length
      batch = []
    }
    for await (const row of source.stream<Row>(select, { batchSize: perInsert })) {
      const out: Row = {}
      for (const n of names) out[n] = coerce(row[n], types.get(n)!)
      batch.push(out)
      if (batch.length >= perInsert) await flush()
    }
    await flush()
    for (const c of table.columns) {
      if (c.autoIncrement === true) for (const f of target.dialect.resetAutoIncrement(table.name, c.name)) await run(tx.execute(f))
    }
    return copied
  }))
