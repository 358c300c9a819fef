/**
 * Every program in examples/ runs to completion (exit code 0).
 */
import { spawnSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { serverAvailable } from './support/servers.js'

const root = join(import.meta.dirname, '..')

/** What each example needs besides SQLite. Every file in examples/ must be listed. */
const examples: Readonly<Record<string, readonly ('postgres' | 'mariadb')[]>> = {
  'cli.ts': [],
  'copy-schema.ts': [],
  'migrations.ts': [],
  'quickstart.ts': [],
  'queries.ts': [],
  'extending.ts': [],
  'extending-servers.ts': ['postgres', 'mariadb'],
  'schema.ts': [],
  'tour.ts': [],
  'models.ts': [],
  'chinook-models.ts': [],
  'reports.ts': [],
  'custom-backend.ts': [],
  // The Conduit application (its three-engine test is test/conduit.test.ts).
  'conduit/main.ts': [],
}

describe('examples run', () => {
  it('every example is listed here', () => {
    const files = [...readdirSync(join(root, 'examples')).filter((f) => f.endsWith('.ts')), 'conduit/main.ts'].sort()
    expect(files).toEqual(Object.keys(examples).sort())
  })
  for (const [file, needs] of Object.entries(examples)) {
    it(file, async (ctx) => {
      for (const server of needs) if (!(await serverAvailable(server))) ctx.skip()
      const r = spawnSync(process.execPath, ['--import', 'tsx', join('examples', file)], { cwd: root, encoding: 'utf8', timeout: 120_000 })
      expect(r.status, `${file} failed:\n${r.stdout}\n${r.stderr}`).toBe(0)
    }, 130_000)
  }
})
