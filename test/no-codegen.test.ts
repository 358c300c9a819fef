/**
 * Where generating code is refused (a Content Security Policy; here
 * `--disallow-code-generation-from-strings`), the better-sqlite3 driver still reads integers
 * beyond 2^53 exactly: its generated precision check falls back to a loop.
 */
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

describe('better-sqlite3 without code generation', () => {
  it('reads integers as numbers, and exactly beyond 2^53', () => {
    const script = fileURLToPath(new URL('./support/no-codegen-read.ts', import.meta.url))
    const out = execFileSync(process.execPath, ['--disallow-code-generation-from-strings', '--import', 'tsx', script], { encoding: 'utf8' })
    expect(JSON.parse(out)).toEqual({
      rows: [{ id: 1, n: 5, label: 'a' }, { id: 2, n: '9007199254740993n', label: 'b' }],
      one: { _tag: 'Some', value: { n: '9007199254740993n' } },
    })
  }, 30_000)
})
