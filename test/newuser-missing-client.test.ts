/**
 * A client library that is not installed is a ConnectionError naming the package to install,
 * and nothing else: before, the PostgreSQL backend's error also showed the statement recordkit
 * sends first (`SQL: SELECT current_setting('server_version') AS v`), which the user never ran.
 * The program runs in a folder of its own holding recordkit's sources and its two dependencies,
 * but no client library, so loading one fails as in an application that did not install it.
 */
import { spawnSync } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('..', import.meta.url))
const tsx = createRequire(import.meta.url).resolve('tsx')
let app = ''

beforeAll(() => {
  app = mkdtempSync(join(tmpdir(), 'h4-missing-client-'))
  const pkg = join(app, 'node_modules', 'recordkit')
  mkdirSync(pkg, { recursive: true })
  cpSync(join(root, 'src'), join(pkg, 'src'), { recursive: true })
  writeFileSync(join(pkg, 'package.json'), '{ "name": "recordkit", "type": "module" }\n')
  for (const dep of ['fp-ts', 'io-ts']) symlinkSync(join(root, 'node_modules', dep), join(app, 'node_modules', dep), 'dir')
  writeFileSync(join(app, 'package.json'), '{ "name": "app", "private": true, "type": "module" }\n')
  writeFileSync(join(app, 'probe.ts'), `import { createBackend } from './node_modules/recordkit/src/index.ts'
const out: Record<string, unknown> = {}
for (const url of process.argv.slice(2)) {
  const r = await createBackend(url)()
  out[url] = r._tag === 'Left' ? { tag: r.left._tag, message: r.left.message, sql: (r.left as { sql?: string }).sql ?? null } : 'connected'
}
console.log(JSON.stringify(out))
`)
})
afterAll(() => rmSync(app, { recursive: true, force: true }))

const probe = (...urls: string[]): Record<string, { tag: string; message: string; sql: string | null }> => {
  const r = spawnSync(process.execPath, ['--import', tsx, 'probe.ts', ...urls], { cwd: app, encoding: 'utf8', timeout: 60_000 })
  expect(r.stderr).toBe('')
  return JSON.parse(r.stdout.trim().split('\n').pop()!)
}

describe('a client library that is not installed', () => {
  it('is a ConnectionError naming the package, with no statement, on every engine', () => {
    // Nothing needs to listen at these addresses: the library is missing before any connection.
    const out = probe('postgres://postgres@127.0.0.1:5432/test', 'mariadb://root@127.0.0.1:3306/test', 'sqlite::memory:')
    expect(out['postgres://postgres@127.0.0.1:5432/test']).toEqual({
      tag: 'ConnectionError', sql: null,
      message: "recordkit: the PostgreSQL (postgres.js) driver needs the 'postgres' package, which is not installed; run: npm install postgres",
    })
    expect(out['mariadb://root@127.0.0.1:3306/test']).toMatchObject({ tag: 'ConnectionError', sql: null, message: expect.stringContaining("needs the 'mysql2' package, which is not installed; run: npm install mysql2") })
    expect(out['sqlite::memory:']).toMatchObject({ tag: 'ConnectionError', sql: null, message: expect.stringContaining("needs the 'better-sqlite3' package, which is not installed; run: npm install better-sqlite3") })
  })
})
