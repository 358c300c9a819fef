import { expect, it } from 'vitest'
import { compose, sql } from 'recordkit'
import { sqlite } from 'recordkit/dialects/sqlite'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'
import { conformance, loadChinook, ok, type ConformanceTarget } from 'recordkit/testing'
import { readOnce, targetSetUp } from '../support/conformance-target.js'

const target: ConformanceTarget = {
  name: 'sqlite (memory)',
  dialect: 'sqlite',
  connect: async () => compose(betterSqlite3({ filename: ':memory:' }), sqlite),
  // Chinook is loaded into a fresh in-memory database for this file.
  chinook: async () => {
    const db = compose(betterSqlite3({ filename: ':memory:' }), sqlite)
    await ok(loadChinook(db))
    return db
  },
}
conformance(target)
targetSetUp(target)
it('runs on SQLite, in memory', async () => {
  expect(await readOnce(target, sql`SELECT file FROM pragma_database_list WHERE name = 'main'`)).toEqual([{ file: '' }])
})
