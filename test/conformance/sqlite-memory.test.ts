import { compose } from 'recordkit'
import { sqlite } from 'recordkit/dialects/sqlite'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'
import { conformance, loadChinook, ok, type ConformanceTarget } from 'recordkit/testing'
import { targetSetUp } from '../support/conformance-target.js'

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
