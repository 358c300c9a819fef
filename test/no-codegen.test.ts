/**
 * Where generating code is refused (a Content Security Policy; here
 * `--disallow-code-generation-from-strings`), the better-sqlite3 driver still reads integers
 * beyond 2^53 exactly: its generated precision check falls back to a loop. A model's rows are
 * still decoded in place, by the loop over the fields, with the same DecodeError; create input is
 * still decoded and refused the same way; a prepared query's named parameters are still bound,
 * and a missing one refused, by the loop; related rows are still matched to their parents by key.
 */
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

describe('better-sqlite3 without code generation', () => {
  it('reads integers as numbers, and exactly beyond 2^53; decodes a model\'s rows in place', () => {
    const script = fileURLToPath(new URL('./support/no-codegen-read.ts', import.meta.url))
    const out = execFileSync(process.execPath, ['--disallow-code-generation-from-strings', '--import', 'tsx', script], { encoding: 'utf8' })
    expect(JSON.parse(out)).toEqual({
      rows: [{ id: 1, n: 5, label: 'a' }, { id: 2, n: '9007199254740993n', label: 'b' }],
      one: { _tag: 'Some', value: { n: '9007199254740993n' } },
      stamps: [{ id: 1, seenAt: '0050-06-01T12:34:56.789Z', done: true }, { id: 2, seenAt: '2024-02-29T23:59:58.120Z', done: false }],
      bad: 'column "done" of stamps (field done; row 2 of 2, id = 2) does not decode as bool: got 7',
      made: 2,
      refused: ['rows.1.done: bool'],
      count: { n: 4 },
      ranged: [2, 3],
      missing: 'prepared query is missing the argument "high"',
      tagged: [[1, ['x']], [3, ['y', 'z']]],
    })
  }, 30_000)
})
