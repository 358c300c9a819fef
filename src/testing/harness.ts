/**
 * Shared set-up for conformance case groups: one backend per group, its own tables.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import { afterAll, beforeAll } from './vitest.js'
import type { Backend } from '../compose.js'
import type { DbError } from '../errors.js'
import { sql } from '../sql.js'
import { columnTypes, type ColumnTypes } from './portable.js'
import type { ConformanceTarget } from './target.js'

/**
 * Run a TaskEither and return its value, or throw its error (for test bodies).
 * @example const rows = await ok(db.all(sql`SELECT 1 AS one`))
 */
export const ok = async <A>(te: TaskEither<DbError, A>): Promise<A> => {
  const r = await te()
  if (E.isLeft(r)) throw r.left
  return r.right
}

/**
 * Run a TaskEither that must fail, and return its error.
 * @example expect((await fails(db.execute(sql`SELECT * FROM missing`)))._tag).toBe('QueryError')
 */
export const fails = async <A>(te: TaskEither<DbError, A>): Promise<DbError> => {
  const r = await te()
  if (E.isRight(r)) throw new Error(`expected a failure, got ${JSON.stringify(r.right, (_, v) => (typeof v === 'bigint' ? `${v}n` : v))}`)
  return r.left
}

/**
 * Execute raw SQL text.
 * @example await exec(db, 'DELETE FROM users')
 */
export const exec = (db: Backend, text: string): Promise<unknown> => ok(db.execute(sql.raw(text)))

/**
 * The column types for a target's backend: the target's own, or the built-in engine's.
 * @example `CREATE TABLE t (id ${typesOf(target, db).int})`
 */
export const typesOf = (target: ConformanceTarget, db: Backend): ColumnTypes => target.columnTypes ?? columnTypes(db)

/**
 * Connect once for a describe block and create its tables; drop them afterwards.
 * `tables` maps each table name to its column list, written with the portable types.
 *
 * @example const db = useBackend(target, (t) => ({ notes: `id ${t.id}, body ${t.text}` })) // in a describe block; db() inside its tests
 */
export const useBackend = (
  target: ConformanceTarget,
  tables: (t: ColumnTypes, q: (name: string) => string) => Readonly<Record<string, string>>,
): (() => Backend) => {
  let db: Backend | undefined
  let names: string[] = []
  beforeAll(async () => {
    db = await target.connect()
    const defs = tables(typesOf(target, db), db.dialect.quoteIdentifier)
    names = Object.keys(defs)
    for (const n of [...names].reverse()) await exec(db, `DROP TABLE IF EXISTS ${db.dialect.quoteIdentifier(n)}`)
    for (const n of names) await exec(db, `CREATE TABLE ${db.dialect.quoteIdentifier(n)} (${defs[n]})`)
  })
  afterAll(async () => {
    if (db === undefined) return
    for (const n of [...names].reverse()) await exec(db, `DROP TABLE IF EXISTS ${db.dialect.quoteIdentifier(n)}`)
    await ok(db.close())
  })
  return () => {
    if (db === undefined) throw new Error(`${target.name}: backend not connected`)
    return db
  }
}
