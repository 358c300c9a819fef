import { compose } from '../../src/compose.js'
import { sqlite } from '../../src/dialects/sqlite.js'
import { betterSqlite3 } from '../../src/drivers/better-sqlite3.js'
import { conformance, loadChinook, ok, type ConformanceTarget } from '../../src/testing/index.js'

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
