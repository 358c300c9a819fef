/**
 * Helpers for the migration files that tests write to temporary folders (which import this
 * module and src/ by absolute path, since they live outside the project).
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as E from 'fp-ts/lib/Either.js'
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import type { Backend, Executable, DbError } from 'recordkit'

/** Run statements one after the other, stopping at the first failure; optionally wait first. */
export const steps = (db: Backend, statements: readonly Executable[], options?: { readonly pauseMs?: number }): TaskEither<DbError, void> => async () => {
  if (options?.pauseMs !== undefined) await new Promise((r) => setTimeout(r, options.pauseMs))
  for (const s of statements) {
    const r = await db.execute(s)()
    if (E.isLeft(r)) return r
  }
  return E.right(undefined)
}

const here = fileURLToPath(new URL('.', import.meta.url))
const src = (file: string): string => join(here, '..', '..', 'src', file)
const kit = join(here, 'migration-kit.js')

/** The import lines a migration file written by a test starts with. */
export const imports = [
  `import { sql } from '${src('sql.js')}'`,
  `import * as d from '${src('schema/index.js')}'`,
  `import { steps } from '${kit}'`,
].join('\n')

/** Write migration files (name to the body after the imports) into a new temporary folder. */
export const migrationDir = (files: Readonly<Record<string, string>>): string => {
  const dir = mkdtempSync(join(tmpdir(), 'sch-migrations-'))
  for (const [name, body] of Object.entries(files)) writeFileSync(join(dir, `${name}.ts`), `${imports}\n\n${body}\n`)
  return dir
}
