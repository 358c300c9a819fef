/**
 * Importing recordkit's core entry points (`recordkit`, the builders, a dialect, a driver) loads
 * neither fp-ts nor io-ts: the core builds fp-ts' shapes itself (src/fp.ts) and reads typed result
 * columns with io-ts-free decoders (src/model/fast-decoders.ts), because those libraries are a
 * large share of a cold start. The model layer (`recordkit/model`) does load io-ts.
 *
 * Run in a fresh Node process (through tsx, on the sources): fp-ts and io-ts are CommonJS, so
 * every module of theirs that was loaded is in `require.cache`.
 */
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { lastJson, root, scriptOutput } from './support/node-script.js'

/** The fp-ts and io-ts modules loaded by importing `entries` (source files, from the root). */
const loadedBy = (entries: readonly string[]): string[] => {
  const script = [
    "import { createRequire } from 'node:module'",
    ...entries.map((e) => `await import(${JSON.stringify(join(root, e))})`),
    "const cache = createRequire(import.meta.url).cache",
    "console.log(JSON.stringify(Object.keys(cache).filter((k) => /node_modules[\\\\/](fp-ts|io-ts)[\\\\/]/.test(k)).map((k) => k.slice(k.lastIndexOf('node_modules') + 13))))",
  ].join('\n')
  return lastJson<string[]>(scriptOutput(script))
}

describe('a cold import of the core', () => {
  const core = ['src/index.ts', 'src/query/index.ts', 'src/promise.ts']

  it('loads neither fp-ts nor io-ts, with any dialect and driver', () => {
    expect(loadedBy([...core, 'src/dialects/sqlite.ts', 'src/drivers/better-sqlite3.ts'])).toEqual([])
    expect(loadedBy([...core, 'src/dialects/postgres.ts', 'src/drivers/postgres.ts'])).toEqual([])
    expect(loadedBy([...core, 'src/dialects/mysql.ts', 'src/drivers/mysql2.ts'])).toEqual([])
  }, 60_000)

  it('sees the modules the model layer loads (so the check cannot pass by seeing nothing)', () => {
    const loaded = loadedBy([...core, 'src/model/index.ts'])
    expect(loaded).toContain('io-ts/lib/index.js')
    expect(loaded.some((m) => m.startsWith('fp-ts/lib/'))).toBe(true)
  }, 60_000)
})
