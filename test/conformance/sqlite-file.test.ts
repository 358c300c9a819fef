import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, dirname, join } from 'node:path'
import { afterAll, expect, it } from 'vitest'
import { compose, sql } from 'recordkit'
import { sqlite } from 'recordkit/dialects/sqlite'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'
import { conformance, loadChinook, ok, type ConformanceTarget } from 'recordkit/testing'
import { readOnce, targetSetUp } from '../support/conformance-target.js'

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
it('runs on SQLite, in a file of its own in the temporary directory', async () => {
  const [main] = await readOnce(target, sql`SELECT file FROM pragma_database_list WHERE name = 'main'`)
  expect(dirname(String(main.file))).toBe(dir)
  expect(basename(String(main.file))).toMatch(/^db-\d+\.sqlite$/)
})
