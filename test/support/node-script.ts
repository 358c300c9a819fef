/**
 * Running a script in a fresh Node process, for tests that need V8 flags or a module cache of
 * their own: TypeScript through tsx, from the project root.
 */
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'

/** The project's root. */
export const root = join(import.meta.dirname, '..', '..')

/** A `src/` module's path as a string literal, for an `import` in a script. */
export const srcModule = (p: string): string => JSON.stringify(join(root, 'src', p))

/**
 * Run `script` as an ES module in a fresh Node process started with `flags`, and give what it
 * printed; throws with what it printed on stderr when it fails.
 *
 * @example const out = scriptOutput('console.log(typeof gc)', ['--expose-gc']) // 'function\n'
 */
export const scriptOutput = (script: string, flags: readonly string[] = []): string => {
  const r = spawnSync(process.execPath, [...flags, '--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`the script failed: ${r.stderr}`)
  return r.stdout
}

/** The value a script printed as JSON on its last line. */
export const lastJson = <T>(stdout: string): T => JSON.parse(stdout.trim().split('\n').pop()!) as T
