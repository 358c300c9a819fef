import { compose } from '../../src/compose.js'
import { sqlite } from '../../src/dialects/sqlite.js'
import { betterSqlite3 } from '../../src/drivers/better-sqlite3.js'
import { conformance } from '../../src/testing/index.js'

conformance({
  name: 'sqlite (memory)',
  connect: async () => compose(betterSqlite3({ filename: ':memory:' }), sqlite),
})
