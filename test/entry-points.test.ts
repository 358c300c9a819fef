/**
 * Tests use recordkit the way an application does: through the package's published entry points
 * (`recordkit`, `recordkit/query`, `recordkit/dialects/sqlite`, ...), which vitest.config.ts and
 * tsconfig.json map to the sources. An import of a `src/` file is allowed only for the internals
 * listed here, each with its reason, so a name a test needs but users cannot reach shows up as a
 * failure instead of passing unnoticed.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'
import * as backend from 'recordkit/backend'

const root = join(import.meta.dirname, '..')

/** Internal modules tests may import, and why users do not need them. */
const internals: Record<string, string> = {
  'src/cli.js': 'the `recordkit` command itself, run in-process by the CLI tests',
  'src/compose.js': 'whether the scope context is on (scopeStorageEnabled), which no entry point exports',
  'src/contrib/duckdb/index.js': 'DuckDB backend kept in contrib/ (not a published entry point)',
  'src/dates.js': 'the calendar arithmetic of date text, checked against Date.UTC',
  'src/contrib/pglite/driver.js': 'PGlite driver kept in contrib/ (not a published entry point)',
  'src/dialects/shape-cache.js': 'the statement-shape cache, tested for where it is on and off',
  'src/drivers/client-library.js': 'the lazy loader of client libraries, tested with a missing package',
  'src/model/codecs.js': 'the input side of field codecs (inputCodec, inputDecoder), checked apart from the read side',
  'src/model/decode.js': 'the generated row mapper, tested against its loop fallback',
  'src/model/in-place.js': 'the statement a model read runs, checked to be one the statement-shape cache answers',
  'src/quiet-storage.js': 'whether the scale-out context storages are on (quietStoragesEnabled), which no entry point exports',
  'src/value-columns.js': 'rows of plain values kept as columns, compared with the node-per-cell path',
}

const testFiles = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? testFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [])

/** Every `src/` module a test file imports, as a path from the project root. */
const srcImports = (file: string): string[] => {
  const found: string[] = []
  const pattern = /(?:from\s+|import\()\s*'((?:\.\.\/)+src\/[^']+)'/g
  for (const m of readFileSync(file, 'utf8').matchAll(pattern))
    found.push(relative(root, join(file, '..', m[1]!)))
  return found
}

describe('tests import the published entry points', () => {
  const files = testFiles(join(root, 'test'))

  it('imports no src/ module outside the listed internals', () => {
    const stray = files.flatMap((f) =>
      srcImports(f).filter((p) => !(p in internals)).map((p) => `${relative(root, f)} imports ${p}`))
    expect(stray).toEqual([])
  })

  it('the scan sees the internals it allows (so a broken pattern cannot pass)', () => {
    const seen = new Set(files.flatMap(srcImports))
    expect([...seen].sort()).toEqual(Object.keys(internals).sort())
  })

  it('a third-party backend needs only recordkit/backend', () => {
    for (const name of ['fix', 'extend', 'connectionLock', 'standardOpen', 'dbError', 'withStatement', 'sqlstateTag', 'unsupported'])
      expect(backend, name).toHaveProperty(name)
  })
})
