import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll } from 'vitest'
import { compose } from 'recordkit'
import { sqlite } from 'recordkit/dialects/sqlite'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'
import { conformance, loadChinook, ok, type ConformanceTarget } from 'recordkit/testing'
import { targetSetUp } from '../support/conformance-target.js'

const dir = mkdtempSync(join(tmpdir(), 'recordkit-conformance-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

let n = 0
const target: ConformanceTarget = {
  name: 'sqlite (file)',
  dialect: 'sqlite',
  connect: async () => compose(betterSqlite3({ filename: join(dir, `db-${++n}.sqlite`) }), sqlite),
  chinook: async () => {
    const db = compose(betterSqlite3({ filename: join(dir, `chinook-${++n}.sqlite`) }), sqlite)
    await ok(loadChinook(db))
    return db
  },
}
conformance(target)
targetSetUp(target)
