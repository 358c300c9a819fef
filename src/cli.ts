#!/usr/bin/env node
/**
 * The `recordkit` command: migrations and introspection from the shell.
 *
 * ```sh
 * recordkit migrate up --url sqlite:./app.db
 * recordkit migrate status
 * recordkit migrate new add_users
 * recordkit introspect --out models.ts
 * ```
 *
 * The database comes from `--url` or `RECORDKIT_URL`; migrations from `--dir` (default
 * `./migrations`). Exit codes: 0 done, 1 the database or a migration failed, 2 bad usage.
 * In development run it with `npx tsx src/cli.ts ...`. TypeScript migrations are loaded by
 * registering tsx (an optional peer dependency); `migrate new` writes JavaScript when it is absent.
 */
import { realpathSync } from 'node:fs'
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import type { Backend } from './compose.js'
import { introspect } from './schema/introspect.js'
import {
  describeStatement, loadMigrations, type MigrateOptions, migrateDown, migrateTo, migrateUp, type MigrationEvent, migrationStatus, repairMigrations, type StatementRecord, typeScriptLoaderAvailable,
} from './schema/migrate.js'
import type { SchemaDef } from './schema/ddl.js'
import { printModels } from './schema/print-model.js'
import { run } from './promise.js'
import { createBackend } from './registry.js'
import { fromStart } from './drivers/sql-start.js'

/** Where the command writes, and what it reads from its environment. */
export interface CliIO {
  readonly out: (text: string) => void
  readonly err: (text: string) => void
  readonly env: Readonly<Record<string, string | undefined>>
  readonly cwd: string
}

/** A usage mistake: exit code 2. */
const usage = (message: string): Error => Object.assign(new Error(message), { usage: true })
const isUsage = (e: unknown): boolean => e instanceof Error && (e as { usage?: unknown }).usage === true

const HELP: Readonly<Record<string, string>> = {
  main: `Usage: recordkit <command> [options]

Commands:
  migrate up        apply pending migrations
  migrate down      revert the last migration (--steps N, --to NAME, --all)
  migrate to NAME   revert the migrations after NAME, apply those pending up to it
  migrate status    list migrations: applied, pending, failed
  migrate new NAME  create a migration file
  migrate repair    forget failed migrations (MySQL/MariaDB), after putting the database right
  introspect        print the database schema as TypeScript models (--out FILE, --json)

Options:
  --url URL         the database (or RECORDKIT_URL): sqlite:./app.db, sqlite::memory:,
                    postgres://user@host/db, mysql://user@host/db, mariadb://user@host/db
  --help, -h        help for any command

Run "recordkit <command> --help" for a command's options.`,
  migrate: `Usage: recordkit migrate <up|down|to|status|new|repair> [options]

Options:
  --url URL             the database (or RECORDKIT_URL)
  --dir DIR             the migrations folder (default ./migrations)
  --table NAME          the history table (default recordkit_migrations)
  --lock-timeout SECS   how long to wait for another migration run (default 60)
  --help, -h            this help`,
  'migrate up': `Usage: recordkit migrate up [--to NAME] [options]

Apply every pending migration in name order, each once, each in its own transaction where the
database has transactional DDL (SQLite, PostgreSQL). On MySQL and MariaDB a failure is recorded
with the statements that ran; later runs stop until "migrate repair".

Options:
  --to NAME             stop after this migration
  --url URL, --dir DIR, --table NAME, --lock-timeout SECS  (see "recordkit migrate --help")`,
  'migrate down': `Usage: recordkit migrate down [--steps N | --to NAME | --all] [options]

Revert the last applied migration, the last N, every one after NAME, or every one. Each is
checked first: one without down() stops the command before anything is reverted.

Options:
  --steps N             how many to revert (default 1)
  --to NAME             revert every migration after NAME
  --all                 revert every applied migration
  --url URL, --dir DIR, --table NAME, --lock-timeout SECS  (see "recordkit migrate --help")`,
  'migrate to': `Usage: recordkit migrate to NAME [options]

Bring the database to migration NAME whichever side of it it stands: revert the applied
migrations after it (newest first; one without down() stops it before anything is reverted),
then apply the pending ones up to it.

Options:
  --url URL, --dir DIR, --table NAME, --lock-timeout SECS  (see "recordkit migrate --help")`,
  'migrate status': `Usage: recordkit migrate status [options]

List the migrations with their state: applied (with when), pending, failed (with the statements
that ran), missing (applied, but no file).

Options:
  --url URL, --dir DIR, --table NAME  (see "recordkit migrate --help")`,
  'migrate new': `Usage: recordkit migrate new NAME [--dir DIR] [--ts | --js]

Create DIR/<timestamp>_NAME.ts (or .mjs) exporting up(db) and down(db). TypeScript is written
when tsx is installed (recordkit registers it to load .ts migrations), JavaScript otherwise; in
a project whose package.json is not "type": "module", TypeScript is written as .mts (an ES module).
NAME create_<table> makes a template creating <table>.

Options:
  --ts   write TypeScript (loading it needs tsx: npm install --save-dev tsx)
  --js   write JavaScript (an ES module with JSDoc types)`,
  'migrate repair': `Usage: recordkit migrate repair [options]

Forget failed migrations: a failed "up" becomes pending again, a failed "down" applied again.
Put the database right first.

Options:
  --url URL, --table NAME, --lock-timeout SECS  (see "recordkit migrate --help")`,
  introspect: `Usage: recordkit introspect [--out FILE] [--json] [--camel-case] [--model-import MODULE] [--only NAME] [--table NAME] [--url URL]

Read the database schema and print a TypeScript module with an io-ts codec and a model per table
(or the schema as JSON with --json).

Options:
  --out FILE            write to FILE instead of standard output
  --json                the schema data as JSON
  --camel-case          camelCase field names, with a columns map
  --model-import MOD    where model() and the codecs come from (default recordkit/model)
  --only NAME           print only this table (repeat it, or give NAME,NAME); relations to
                        the tables left out are left out
  --table NAME          the migration history table to leave out, when migrate used --table
                        (recordkit_migrations is always left out); not a table to print
  --url URL             the database (or RECORDKIT_URL)`,
}

const OPTIONS = {
  url: { type: 'string' },
  dir: { type: 'string' },
  table: { type: 'string' },
  'lock-timeout': { type: 'string' },
  to: { type: 'string' },
  steps: { type: 'string' },
  all: { type: 'boolean' },
  out: { type: 'string' },
  json: { type: 'boolean' },
  'camel-case': { type: 'boolean' },
  'model-import': { type: 'string' },
  only: { type: 'string', multiple: true },
  js: { type: 'boolean' },
  ts: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const

const wholeNumber = (v: string | undefined, name: string, least: number): number | undefined => {
  if (v === undefined) return undefined
  const n = v.trim() === '' ? Number.NaN : Number(v)
  if (!Number.isInteger(n) || n < least) throw usage(`--${name} takes a whole number${least > 0 ? ` of at least ${least}` : ''}, got ${JSON.stringify(v)}`)
  return n
}

/**
 * The options each command takes (besides --url and --help): any other is a usage error, so an
 * option given to the wrong command (`migrate up --steps 1`) is never silently ignored.
 */
const TAKES: Readonly<Record<string, readonly (keyof typeof OPTIONS)[]>> = {
  'migrate up': ['dir', 'table', 'lock-timeout', 'to'],
  'migrate down': ['dir', 'table', 'lock-timeout', 'steps', 'to', 'all'],
  'migrate to': ['dir', 'table', 'lock-timeout'],
  'migrate status': ['dir', 'table'],
  'migrate new': ['dir', 'ts', 'js'],
  'migrate repair': ['table', 'lock-timeout'],
  introspect: ['out', 'json', 'camel-case', 'model-import', 'only', 'table'],
}

/** The columns every migration history table has (see migrate.ts), by which `--table` knows one. */
const HISTORY_COLUMNS = ['name', 'applied_at']

/** The table names `--only` gives (each option once, or NAME,NAME), or undefined without it. */
const onlyNames = (only: readonly string[] | undefined): ReadonlySet<string> | undefined =>
  only === undefined ? undefined : new Set(only.flatMap((o) => o.split(',')).map((n) => n.trim()).filter((n) => n !== ''))

/**
 * The tables `introspect` prints, from a schema read with only the `--only` tables (and the
 * history table) when it is given: all but the migration history tables (`recordkit_migrations*`,
 * and `history`, the one `--table` names), or only those `--only` names, every one of which must
 * be there. `--table` naming a table that is no history table is a usage error rather than leaving
 * that table out: read as "this table", as `pg_dump -t` reads it, it printed every other one.
 *
 * @example
 * pickTables(await run(introspect(db)), 'app_migrations', new Set(['users', 'posts']))
 */
const pickTables = (schema: SchemaDef, history: string | undefined, only: ReadonlySet<string> | undefined): SchemaDef => {
  if (history !== undefined) {
    const named = schema.tables.find((t) => t.name === history)
    const missing = named === undefined ? [] : HISTORY_COLUMNS.filter((c) => !named.columns.some((col) => col.name === c))
    if (missing.length > 0) {
      throw usage(`--table names the migration history table to leave out, and ${history} is not one (it has no ${missing.join(' or ')} column); to print that table alone, give --only ${history}`)
    }
  }
  const tables = schema.tables.filter((t) => t.name !== history)
  if (only === undefined) return { ...schema, tables }
  const absent = [...only].filter((n) => !tables.some((t) => t.name === n) && !schema.views.some((w) => w.name === n))
  if (absent.length > 0) throw new Error(`--only: no table or view ${absent.join(', ')} in the database${absent.includes(history ?? '') ? ' (--table leaves that one out)' : ''}`)
  return { tables: tables.filter((t) => only.has(t.name)), views: schema.views.filter((w) => only.has(w.name)) }
}

/** The URL without its password, for output. */
const shown = (url: string): string => url.replace(/(\/\/[^:/@]+):[^@/]*@/, '$1:***@')

/** Each statement of a failed migration: ran (and stays applied), ran and rolled back, or FAILED. */
const statementLines = (statements: readonly StatementRecord[], indent: string): string[] =>
  statements.map((s, i) => `${indent}${!s.ok ? 'FAILED' : s.rolledBack === true ? 'undone' : 'ran   '} ${i + 1}. ${describeStatement(s)}${s.ok ? '' : `\n${indent}         error: ${s.error ?? ''}`}`)

/** "N statement(s) ran and stay(s) applied", with what was rolled back after them. */
const appliedText = (statements: readonly StatementRecord[]): string => {
  const ran = statements.filter((s) => s.ok && s.rolledBack !== true).length
  const undone = statements.filter((s) => s.ok && s.rolledBack === true).length
  return `${ran} statement${ran === 1 ? '' : 's'} ran and stay${ran === 1 ? 's' : ''} applied${undone > 0 ? ` (${undone} after ${ran === 1 ? 'it' : 'them'} rolled back)` : ''}`
}

const progress = (io: CliIO, dialect: () => string, seen: { failed: boolean }) => (e: MigrationEvent): void => {
  switch (e.kind) {
    case 'waiting':
      if (e.attempt === 1) io.out('  waiting for another migration run to finish...\n')
      break
    case 'start':
      io.out(`  ${e.direction === 'up' ? 'up  ' : 'down'}  ${e.name} ... `)
      break
    case 'done':
      io.out(`done in ${e.ms} ms (${statementCount(e.statements)})\n`)
      break
    case 'failed':
      seen.failed = true
      io.out('FAILED\n')
      io.err(`  error: ${e.error.message.split('\n')[0]}\n`)
      if (e.rolledBack) io.err(`  rolled back: nothing of ${e.name} remains\n`)
      else {
        io.err(`  ${dialect()} does not roll back DDL: ${appliedText(e.statements).replace(' ran', ` of ${e.name} ran`)}:\n`)
        for (const l of statementLines(e.statements, '    ')) io.err(`${l}\n`)
        io.err('  put the database right, then run "recordkit migrate repair"\n')
      }
      break
  }
}

/**
 * The table a new migration's template creates: `create_users` (or `create-users`,
 * `create_users_table`) creates `users`; any other name creates a table of that name. Two fresh
 * templates never create the same table, so each runs as written until it is changed.
 */
const templateTable = (name: string): string => {
  const m = /^create[_-](.+?)(?:[_-]table)?$/i.exec(name)
  return m === null ? name : m[1]
}

const tsTemplate = (table: string): string => `import { pipe } from 'fp-ts/lib/function.js'
import type { Backend } from 'recordkit'
import { apply, column, createTable, dropTable } from 'recordkit/schema'

export const up = (db: Backend) =>
  apply(db, pipe(
    createTable('${table}'),
    column('id', 'integer', { primaryKey: true, autoIncrement: true }),
  ))

export const down = (db: Backend) => apply(db, dropTable('${table}'))
`

const jsTemplate = (table: string): string => `// @ts-check
import { pipe } from 'fp-ts/lib/function.js'
import { apply, column, createTable, dropTable } from 'recordkit/schema'

/** @param {import('recordkit').Backend} db */
export const up = (db) =>
  apply(db, pipe(
    createTable('${table}'),
    column('id', 'integer', { primaryKey: true, autoIncrement: true }),
  ))

/** @param {import('recordkit').Backend} db */
export const down = (db) => apply(db, dropTable('${table}'))
`

/**
 * Whether a recorded statement only read (the catalog reads that plan a SQLite table rebuild or
 * an ALTER, a migration's own SELECTs; a PRAGMA that sets something is not one): the progress
 * line counts them apart from the statements that changed the database.
 */
const isRead = (s: StatementRecord): boolean => {
  const text = fromStart(s.sql, false)
  return /^(?:SELECT|SHOW|EXPLAIN)\b/i.test(text) || (/^PRAGMA\b/i.test(text) && !text.includes('='))
}

/** "1 statement", "2 statements, 20 reads". */
const statementCount = (statements: readonly StatementRecord[]): string => {
  const reads = statements.filter(isRead).length
  const writes = statements.length - reads
  return `${writes} statement${writes === 1 ? '' : 's'}${reads === 0 ? '' : `, ${reads} read${reads === 1 ? '' : 's'}`}`
}

/**
 * Whether Node reads a `.ts` file in `dir` as CommonJS: the nearest package.json says no
 * `"type": "module"` (npm init's default). A TypeScript migration there is written as `.mts`, an
 * ES module whatever the package says, since its `import`s of recordkit (an ES module package)
 * fail to load as CommonJS. Without a package.json, Node detects the module syntax: `.ts` loads.
 */
const commonJsProject = async (dir: string): Promise<boolean> => {
  for (let d = dir; ; d = dirname(d)) {
    let text: string | undefined
    try {
      text = await readFile(join(d, 'package.json'), 'utf8')
    } catch {
      text = undefined
    }
    if (text !== undefined) {
      try {
        return (JSON.parse(text) as { type?: unknown }).type !== 'module'
      } catch {
        return false
      }
    }
    if (dirname(d) === d) return false
  }
}

/**
 * What to do about a `.ts` migration Node loaded as CommonJS (its project's package.json is not
 * `"type": "module"`), where its imports of recordkit, an ES module package, fail with Node's own
 * words (`Cannot require() ES Module ...`); undefined for any other failure.
 */
const commonJsHint = async (e: unknown, dir: string): Promise<string | undefined> => {
  const message = e instanceof Error ? e.message : ''
  const m = /^cannot load migration (.+)\.ts: /.exec(message)
  const code = (e as { cause?: { code?: unknown } }).cause?.code
  // Node words it differently by version and by what it met first: require(esm) refused, in a
  // cycle, "not yet fully loaded" (an internal assertion), or a subpath with no require export.
  const asCommonJs = /\brequire\b/i.test(message) ||
    (typeof code === 'string' && (code.startsWith('ERR_REQUIRE') || code === 'ERR_PACKAGE_PATH_NOT_EXPORTED' || code === 'ERR_INTERNAL_ASSERTION'))
  if (m === null || !asCommonJs) return undefined
  if (!(await commonJsProject(dir))) return undefined
  return `${m[1]}.ts is loaded as CommonJS: the package.json nearest to it has no "type": "module", and recordkit is an ES module package. Rename it to ${m[1]}.mts, or add "type": "module" to that package.json.`
}

const stamp = (d: Date): string =>
  `${d.getUTCFullYear()}${String(d.getUTCMonth() + 1).padStart(2, '0')}${String(d.getUTCDate()).padStart(2, '0')}` +
  `${String(d.getUTCHours()).padStart(2, '0')}${String(d.getUTCMinutes()).padStart(2, '0')}${String(d.getUTCSeconds()).padStart(2, '0')}`

/**
 * The timestamp of a new migration in `dir`: now, or one past the newest file's when that is not
 * earlier (two written in one second, or a clock behind), so a new migration always sorts after
 * the ones already there, as Rails' generator does; files sort by name, and `create_b` written
 * after `create_a` in the same second would otherwise run first.
 */
const nextStamp = async (dir: string, now: Date): Promise<string> => {
  const newest = (await readdir(dir)).map((f) => /^(\d{14})_/.exec(f)?.[1]).filter((x) => x !== undefined).sort().pop()
  const at = stamp(now)
  if (newest === undefined || newest < at) return at
  const [y, mo, d, h, mi, s] = [0, 4, 6, 8, 10, 12].map((i, k) => Number(newest.slice(i, k === 0 ? 4 : i + 2)))
  return stamp(new Date(Date.UTC(y, mo - 1, d, h, mi, s + 1)))
}

/**
 * Run the command with its arguments (without `node` and the script); resolves to the exit code.
 *
 * @example
 * process.exitCode = await main(['migrate', 'status', '--url', 'sqlite:./app.db'])
 */
export const main = async (argv: readonly string[], io: CliIO = defaultIO()): Promise<number> => {
  let db: Backend | undefined
  const seen = { failed: false }
  // The subcommand whose help a usage mistake points at, once it is known.
  let helpTopic: string | undefined
  // The migrations folder, for the hint on a migration that cannot load.
  let migrationsDir: string | undefined
  try {
    let parsed
    try {
      parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true })
    } catch (e) {
      throw usage((e as Error).message)
    }
    const { values: v, positionals } = parsed
    const [command, sub, ...rest] = positionals
    const topic = command === 'migrate' && sub !== undefined ? `migrate ${sub}` : command ?? 'main'
    if (v.help === true || command === undefined || command === 'help') {
      io.out(`${HELP[topic] ?? HELP.main}\n`)
      return command === undefined && v.help !== true ? 2 : 0
    }
    if (command !== 'migrate' && command !== 'introspect') throw usage(`unknown command ${JSON.stringify(command)}`)
    if (command === 'migrate' && (sub === undefined || HELP[topic] === undefined)) throw usage(sub === undefined ? 'migrate needs a subcommand' : `unknown migrate subcommand ${JSON.stringify(sub)}`)
    helpTopic = TAKES[topic] === undefined ? undefined : topic
    const takes = TAKES[topic] ?? []
    for (const [option, given] of Object.entries(v)) {
      if (given !== undefined && option !== 'url' && option !== 'help' && !takes.includes(option as keyof typeof OPTIONS)) throw usage(`${topic} does not take --${option}`)
    }
    const dir = resolve(io.cwd, v.dir ?? 'migrations')
    migrationsDir = dir
    const steps = wholeNumber(v.steps, 'steps', 1)
    const lockTimeout = wholeNumber(v['lock-timeout'], 'lock-timeout', 0)
    if (steps !== undefined && v.to !== undefined) throw usage('migrate down takes --steps or --to, not both')
    if (v.all === true && (steps !== undefined || v.to !== undefined)) throw usage('migrate down takes one of --steps, --to and --all')

    if (topic === 'migrate new') {
      const name = rest.length === 0 ? undefined : rest.join('_')
      if (name === undefined || !/^[A-Za-z0-9_-]+$/.test(name)) throw usage('migrate new takes a NAME of letters, digits, _ and -')
      if (v.ts === true && v.js === true) throw usage('migrate new takes --ts or --js, not both')
      // Write only what `migrate up` can read: TypeScript when tsx is there to load it.
      const typescript = v.ts === true || (v.js !== true && await typeScriptLoaderAvailable())
      await mkdir(dir, { recursive: true })
      const file = join(dir, `${await nextStamp(dir, new Date())}_${name}.${!typescript ? 'mjs' : await commonJsProject(dir) ? 'mts' : 'ts'}`)
      await writeFile(file, (typescript ? tsTemplate : jsTemplate)(templateTable(name)), { flag: 'wx' })
      io.out(`created ${file}\n`)
      return 0
    }
    let target: string | undefined
    if (topic === 'migrate to') {
      if (rest.length !== 1) throw usage(rest.length === 0 ? 'migrate to needs the NAME of a migration' : `unexpected argument ${JSON.stringify(rest[1])}`)
      target = rest.pop()
    }
    if (rest.length > 0 || (command === 'introspect' && sub !== undefined)) throw usage(`unexpected argument ${JSON.stringify(command === 'introspect' ? sub : rest[0])}`)

    const url = v.url ?? io.env.RECORDKIT_URL
    if (url === undefined || url === '') throw usage('no database: give --url URL or set RECORDKIT_URL')
    db = await run(createBackend(url))
    const dialect = db.dialect.name
    const options: MigrateOptions = {
      table: v.table,
      lockTimeout,
      onEvent: progress(io, () => dialect, seen),
    }

    switch (topic) {
      case 'introspect': {
        const only = onlyNames(v.only)
        const history = v.table
        const read = await run(introspect(db, only === undefined ? undefined : { include: (name) => only.has(name) || name === history }))
        const schema = pickTables(read, history, only)
        const text = v.json === true
          ? `${JSON.stringify(schema, (_, x) => (typeof x === 'bigint' ? x.toString() : x), 2)}\n`
          : printModels(schema, { fields: v['camel-case'] === true ? 'camelCase' : 'columns', modelImport: v['model-import'] })
        if (v.out === undefined) io.out(text)
        else {
          await writeFile(resolve(io.cwd, v.out), text)
          io.out(`wrote ${schema.tables.length} table${schema.tables.length === 1 ? '' : 's'} to ${v.out}\n`)
        }
        return 0
      }
      case 'migrate up': {
        const migrations = await run(loadMigrations(dir))
        io.out(`recordkit: ${shown(url)}, ${migrations.length} migration${migrations.length === 1 ? '' : 's'} in ${v.dir ?? 'migrations'}\n`)
        const report = await run(migrateUp(db, migrations, { ...options, to: v.to }))
        io.out(report.migrations.length === 0 ? 'Nothing to apply: the database is up to date.\n' : `Applied ${report.migrations.length} migration${report.migrations.length === 1 ? '' : 's'}.\n`)
        return 0
      }
      case 'migrate down': {
        const migrations = await run(loadMigrations(dir))
        io.out(`recordkit: ${shown(url)}\n`)
        const report = await run(migrateDown(db, migrations, { ...options, steps, to: v.to, all: v.all }))
        io.out(report.migrations.length === 0 ? 'Nothing to revert.\n' : `Reverted ${report.migrations.length} migration${report.migrations.length === 1 ? '' : 's'}.\n`)
        return 0
      }
      case 'migrate to': {
        const migrations = await run(loadMigrations(dir))
        io.out(`recordkit: ${shown(url)}\n`)
        const report = await run(migrateTo(db, migrations, target!, options))
        const count = (n: number) => `${n} migration${n === 1 ? '' : 's'}`
        io.out(report.migrations.length === 0 ? `Nothing to do: the database is at ${target!}.\n` : `Reverted ${count(report.reverted.length)}, applied ${count(report.applied.length)}: the database is at ${target!}.\n`)
        return 0
      }
      case 'migrate status': {
        const migrations = await run(loadMigrations(dir))
        const states = await run(migrationStatus(db, migrations, options))
        io.out(`recordkit: ${shown(url)}, history in ${v.table ?? 'recordkit_migrations'}\n`)
        const width = Math.max(0, ...states.map((s) => s.name.length))
        for (const s of states) {
          const when = s.appliedAt !== undefined && s.state !== 'failed' ? `${s.name.padEnd(width)}  ${s.appliedAt}` : s.name
          io.out(`  ${s.state === 'failed' ? 'FAILED ' : s.state.padEnd(7)}  ${when}\n`)
          if (s.state === 'failed') {
            io.out(`           ${s.direction ?? 'up'} failed at ${s.appliedAt ?? '?'}: ${s.error ?? ''}\n`)
            io.out(`           ${appliedText(s.statements ?? [])}; the last one failed:\n`)
            for (const l of statementLines(s.statements ?? [], '             ')) io.out(`${l}\n`)
          }
        }
        const count = (k: string) => states.filter((s) => s.state === k).length
        io.out(`${count('applied')} applied, ${count('pending')} pending${count('failed') > 0 ? `, ${count('failed')} failed` : ''}${count('missing') > 0 ? `, ${count('missing')} missing` : ''}\n`)
        return count('failed') > 0 ? 1 : 0
      }
      case 'migrate repair': {
        const repaired = await run(repairMigrations(db, options))
        io.out(repaired.length === 0 ? 'No failed migrations.\n' : `Repaired: ${repaired.join(', ')}\n`)
        return 0
      }
      default:
        throw usage(`unknown command ${topic}`)
    }
  } catch (e) {
    if (isUsage(e)) {
      io.err(`recordkit: ${(e as Error).message}\nRun "recordkit ${helpTopic === undefined ? '' : `${helpTopic} `}--help" for usage.\n`)
      return 2
    }
    const message = e instanceof Error ? e.message : String(e)
    // A failed migration was reported as it failed: say so in one line.
    io.err(`recordkit: ${seen.failed ? message.split('\n')[0] : message}\n`)
    const hint = migrationsDir === undefined ? undefined : await commonJsHint(e, migrationsDir)
    if (hint !== undefined) io.err(`  ${hint}\n`)
    return 1
  } finally {
    if (db !== undefined) await db.close()()
  }
}

const defaultIO = (): CliIO => ({
  out: (t) => void process.stdout.write(t),
  err: (t) => void process.stderr.write(t),
  env: process.env,
  cwd: process.cwd(),
})

/** Whether this module is the program being run (through a bin symlink too). */
const isMain = (): boolean => {
  try {
    return process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url))
  } catch {
    return false
  }
}

if (isMain()) {
  // A reader that stops early (`| head`, `| grep -q`) closes the pipe: the command still runs to
  // its end (a migration is not cut short) and only its remaining output is dropped.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e
  })
  main(process.argv.slice(2)).then((code) => { process.exitCode = code })
}
