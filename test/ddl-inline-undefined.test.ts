/**
 * DDL that writes values into its text (a view's query, an upsert target's WHERE) refuses an
 * undefined value, as the sql tag does, instead of writing NULL; null is still NULL.
 */
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { compose, sql } from 'recordkit'
import { sqlite } from 'recordkit/dialects/sqlite'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'
import { createView } from 'recordkit/schema'

describe('values written into DDL text', () => {
  const db = compose(betterSqlite3({ filename: ':memory:' }), sqlite)

  it('refuse undefined, naming the parameter, and write null as NULL', () => {
    const bad = db.compile(createView('v', sql`SELECT 1 AS a WHERE 1 = ${1} OR 2 = ${undefined}`))
    expect(E.isLeft(bad) && bad.left._tag).toBe('ValidationError')
    expect(E.isLeft(bad) && bad.left.message).toMatch(/\$2 is undefined/)
    const good = db.compile(createView('v', sql`SELECT ${null} AS a`))
    expect(E.isRight(good) && good.right.sql).toMatch(/SELECT NULL AS a/)
  })
})
