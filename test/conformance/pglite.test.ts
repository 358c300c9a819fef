import { PGlite } from '@electric-sql/pglite'
import { expect, it } from 'vitest'
import { connect, sql } from 'recordkit'
import { postgres } from 'recordkit/dialects/postgres'
import { conformance, loadChinook, ok, type ConformanceTarget } from 'recordkit/testing'
import { pglite } from '../../src/contrib/pglite/driver.js'
import { readOnce, targetSetUp } from '../support/conformance-target.js'

// Starting PGlite runs initdb (seconds); every group after the first starts from a dump of it.
let template: Promise<File | Blob> | undefined
const freshDatabase = (): Promise<File | Blob> => {
  template ??= (async () => {
    const db = await PGlite.create()
    try {
      return await db.dumpDataDir('none')
    } finally {
      await db.close()
    }
  })()
  return template
}

const target: ConformanceTarget = {
  name: 'pglite',
  dialect: 'postgres',
  connect: async () => ok(connect(pglite({ client: { loadDataDir: await freshDatabase() } }), postgres)),
  chinook: async () => {
    const db = await ok(connect(pglite({ client: { loadDataDir: await freshDatabase() } }), postgres))
    await ok(loadChinook(db))
    return db
  },
  notes: {
    decimal: 'NUMERIC comes back as a string with the column scale (no precision is lost)',
    date: 'DATE comes back as a Date at midnight UTC',
  },
}
conformance(target)
targetSetUp(target)
it('runs on PGlite (PostgreSQL compiled to WebAssembly), which the notes above describe', async () => {
  const [v] = await readOnce(target, sql`SELECT version() AS v`)
  expect(String(v.v)).toMatch(/^PostgreSQL \d+.*\(PGlite .*wasm32/)
}, 60_000)
