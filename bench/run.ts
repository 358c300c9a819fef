/**
 * The benchmark suite: `npm run bench` (builds recordkit first, then runs this file).
 *
 *   npm run bench                 every workload; writes bench/RESULTS.md and bench/ratios.svg
 *   npm run bench -- W1 W5        only those workloads; writes bench/.tmp/RESULTS.partial.md
 *   npm run bench -- W3 --update  the same, and puts them into bench/RESULTS.md (their sections and
 *                                 target rows replaced, each target row saying when it was measured)
 *   BENCH_ENGINES=sqlite npm run bench    only these engines (sqlite, postgres, mariadb)
 *   BENCH_ROUNDS=15 npm run bench         rounds (default 11; W3, W7, W8 and W9 set their own)
 *
 * Each workload runs in its own Node process (bench/workloads/*.ts), one after the other, and
 * writes its results as JSON; this process builds the databases, collects the results and
 * writes the report.
 */
import { spawn } from 'node:child_process'
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { cpus, loadavg, totalmem } from 'node:os'
import { join, resolve } from 'node:path'
import Database from 'better-sqlite3'
import mysql from 'mysql2/promise'
import postgres from 'postgres'
import { BENCH_DIR, type Engine, MYSQL_URL, PG_URL, SQLITE_TEMPLATE, TMP_DIR } from './env.js'
import type { GroupResult } from './group.js'
import { markdown, type RunInfo, splice, svg } from './report.js'
import { setupAll } from './setup.js'

const ROOT = resolve(BENCH_DIR, '..')

const WORKLOADS: readonly [string, string][] = [
  ['W0', 'w0-compile.ts'],
  ['W1', 'w1-point-select.ts'],
  ['W2', 'w2-read-rows.ts'],
  ['W3', 'w3-insert.ts'],
  ['W4', 'w4-update.ts'],
  ['W5', 'w5-eager.ts'],
  ['W6', 'w6-transaction.ts'],
  ['W7', 'w7-concurrency.ts'],
  ['W8', 'w8-cold-start.ts'],
  ['W9', 'w9-upsert.ts'],
]

const REPRODUCE = `\`\`\`sh
npm ci                     # the pinned versions of package-lock.json
npm run bench              # = npm run build && tsx --tsconfig bench/tsconfig.json bench/run.ts
\`\`\`

It needs PostgreSQL and MariaDB on loopback: \`RECORDKIT_PG_URL\` (default
\`postgres://postgres@127.0.0.1:5432/test\`) and \`RECORDKIT_MYSQL_URL\` (default
\`mysql://root@127.0.0.1:3306/test\`); the suite creates and fills its own database \`bench\` on each
(\`RECORDKIT_BENCH_DB\` names another; an engine that does not answer is skipped and listed as not measured). \`BENCH_ENGINES=sqlite\`
runs SQLite alone; \`npm run bench -- W1 W5\` runs some workloads only (written to
\`bench/.tmp/RESULTS.partial.md\`; with \`--update\` also put into this file, replacing their sections and
target rows, each target row saying when it was measured); \`npm run bench -- --report\` writes the report again from the last
run's results without measuring. To profile one implementation, run its workload file under
\`node --cpu-prof --import tsx\` with \`TSX_TSCONFIG_PATH=bench/tsconfig.json\` and \`BENCH_ONLY=<group key>\`.`

const METHOD = `- **Same process, interleaved rounds.** For each table, every implementation runs in the same
  Node process (one process per workload). After a warm-up (at least 250 ms and, within 600 ms,
  about 5000 operations, so the JIT has optimized every function), the number of operations per
  measurement is sized to about 40 ms (150 ms in W1 and W7, 250 ms in W2 and W5; one bulk write of 10k rows in W3, of 5,000 rows in W9, one
  start in W8). Then come rounds (11 by default; 15 for W1, 31 for W3 on SQLite, whose one-write measurements of about
  10 ms vary most, 21 for W3 on servers, whose medians of 9 rounds moved by 0.1x from one process to the next, 31 for
  W7, whose rounds on PostgreSQL with a pool of 4 ranged over 0.6x-1.8x of raw in one process and whose medians of
  15 rounds read 0.97x and 1.15x in two processes of the same code, 7 for W8, 21 for W9 on SQLite and 9 on servers), each running every implementation once in a
  shuffled order. Before each measurement the heap is collected (untimed, \`--expose-gc\`), so
  no implementation pays for the garbage another left, followed by an untimed pause of 20 ms: the
  collector goes on sweeping on background threads after a full collection, and the CPU clock
  counts every thread, so without it the sweep of one implementation's garbage was charged to
  whichever ran next (seen on W3 SQLite: on one build, the createMany and executeBatch ratios
  ranged over 0.90x-1.13x across five processes without the pause, and 0.98x-1.06x across three
  with it, where the other rows also held within 5%). Then, where a measurement has ten
  operations or more, a tenth of them runs untimed: right after a full collection the first
  thousands of operations of allocation-heavy code run several times slower (seen: about 2000
  point selects at 3 to 4 times their steady cost), a state a running program seldom meets. W7,
  whose one operation is itself 1000 statements and whose measurement is only 2 to 5 operations,
  runs one operation so (\`settleOps\`): without it, every W7 measurement began in that state with
  1000 statements' objects alive at once, which charged each implementation by what it
  allocates (recordkit's builder path measured 1.22x raw so in one process, 1.01x without the
  collection). The ratio to the baseline is taken
  **within each round** and the median of those ratios is reported with its min and max, so
  drift of the machine cancels out of the ratio.
  "median time / op" is the median over rounds of each implementation's own time.
- **Clocks.** SQLite runs inside the measuring process, so its tables (except W8, which starts
  processes) read the process's CPU time (\`process.cpuUsage()\`, user + system, every thread of
  the process, the garbage collector's included): on a shared machine, time the operating system
  gives to other processes is not charged to whichever implementation happened to be running.
  Server tables read wall time, which includes the server's work and the network.
- **Baseline.** The raw driver used the best way: prepared statements reused (better-sqlite3
  \`Statement\`, postgres.js tagged templates or \`unsafe(..., { prepare: true })\`, mysql2
  \`execute\`), and for bulk writes the fastest batch method, chosen in the run from the raw methods
  listed (the fastest by median becomes the baseline). W0 has no driver: its baseline is Kysely's
  \`.compile()\`. W5's baseline is raw batched loading (three statements).
- **recordkit as users get it**: imported as \`recordkit\`, which resolves through the package's own
  \`exports\` to \`dist/\` (built by \`npm run build\` first), not to the TypeScript sources.
- **Comparators written the way their docs show**: Kysely with \`SqliteDialect\`,
  \`PostgresJSDialect\` (kysely-postgres-js) and \`MysqlDialect\`; Drizzle with
  \`drizzle-orm/better-sqlite3\`, \`drizzle-orm/postgres-js\` and \`drizzle-orm/mysql2\`; Knex with its
  \`better-sqlite3\`, \`pg\` and \`mysql2\` clients. Each implementation has its own client (its own
  pool, or on SQLite its own in-memory copy of the same data). Pools have 4 connections except in
  W7, which sets 1 or 4.
- **Data**: a seeded users -> posts -> comments schema (1000 users, 10,000 posts, 30,000 comments)
  and Chinook, the same rows on every engine. Writes go to the same tables for every
  implementation; W3 empties its table before each measurement, untimed, and W9 restores its table
  (\`items\`, holding 2,500 of the 5,000 keys it writes) from a copy, untimed.
- **Queries issued** are counted after the timed rounds, on separate instances: on PostgreSQL and
  MariaDB by a TCP proxy that reads the client side of the wire protocol (PostgreSQL \`Query\` and
  \`Execute\` messages, MySQL \`COM_QUERY\` and \`COM_STMT_EXECUTE\`); on SQLite by counting
  better-sqlite3 statement runs. Transaction control statements count.
- **Answers are checked** once per implementation before measuring (rows, counts, values written).`

const log = (s: string): void => { process.stderr.write(`${s}\n`) }
const load = (): string => loadavg().map((x) => x.toFixed(2)).join(', ')

const answers = (url: string, port: number): Promise<boolean> =>
  new Promise((done) => {
    const u = new URL(url)
    const s = net.connect({ host: u.hostname, port: Number(u.port || port) })
    const end = (ok: boolean) => { s.destroy(); done(ok) }
    s.setTimeout(1500, () => end(false))
    s.once('connect', () => end(true))
    s.once('error', () => end(false))
  })

const version = (name: string): string => {
  try {
    return (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version
  } catch {
    return '?'
  }
}

const newest = (dir: string): number => {
  let t = 0
  for (const f of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, f.name)
    t = Math.max(t, f.isDirectory() ? newest(p) : statSync(p).mtimeMs)
  }
  return t
}

const runWorkload = (file: string, out: string, engines: readonly Engine[]): Promise<void> =>
  new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', join(BENCH_DIR, 'workloads', file), out], {
      cwd: ROOT,
      env: { ...process.env, TSX_TSCONFIG_PATH: join(BENCH_DIR, 'tsconfig.json'), BENCH_ENGINES: engines.join(',') },
      stdio: ['ignore', 'inherit', 'inherit'],
    })
    child.on('error', fail)
    child.on('exit', (code) => (code === 0 ? done() : fail(new Error(`${file} exited with code ${code}`))))
  })

/** `--report`: write RESULTS.md and the chart again from the last run's results, measuring nothing. */
const reportAgain = (): void => {
  const saved = JSON.parse(readFileSync(join(TMP_DIR, 'results.json'), 'utf8')) as { info: RunInfo; results: GroupResult[] }
  const info: RunInfo = { ...saved.info, started: new Date(saved.info.started) }
  const results = saved.results
  const full = info.missing.length === 0 && new Set(results.map((g) => g.workload)).size === WORKLOADS.length
  writeFileSync(full ? join(BENCH_DIR, 'RESULTS.md') : join(TMP_DIR, 'RESULTS.partial.md'), markdown(results, info, REPRODUCE, METHOD))
  writeFileSync(full ? join(BENCH_DIR, 'ratios.svg') : join(TMP_DIR, 'ratios.partial.svg'), svg(results))
  log(`wrote the report again from ${join(TMP_DIR, 'results.json')}`)
}

const main = async (): Promise<void> => {
  if (process.argv.includes('--report')) return reportAgain()
  const t0 = performance.now()
  const started = new Date()
  const loadStart = load()
  const update = process.argv.includes('--update')
  const only = process.argv.slice(2).filter((a) => !a.startsWith('--')).map((a) => a.toUpperCase())

  // recordkit must come from the build, as users get it.
  const resolved = import.meta.resolve('recordkit')
  if (!resolved.endsWith('/dist/index.js')) throw new Error(`recordkit resolves to ${resolved}, not to dist/: run through \`npm run bench\``)
  if (newest(join(ROOT, 'src')) > statSync(join(ROOT, 'dist', 'index.js')).mtimeMs) throw new Error('dist/ is older than src/: run `npm run build` (npm run bench does)')

  const wanted = (process.env.BENCH_ENGINES ?? 'sqlite,postgres,mariadb').split(',').filter(Boolean) as Engine[]
  const missing: string[] = []
  const servers = wanted.filter((e): e is 'postgres' | 'mariadb' => e !== 'sqlite')
  const reachable: ('postgres' | 'mariadb')[] = []
  for (const e of servers) {
    if (await answers(e === 'postgres' ? PG_URL : MYSQL_URL, e === 'postgres' ? 5432 : 3306)) reachable.push(e)
    else missing.push(`${e}: does not answer`)
  }
  log(`setting up the databases (${['sqlite', ...reachable].join(', ')}) ...`)
  const failed = await setupAll(reachable)
  missing.push(...failed)
  const engines: Engine[] = wanted.filter((e) => e === 'sqlite' || (reachable.includes(e) && !failed.some((f) => f.startsWith(e))))

  const serverVersions: Record<string, string> = {}
  {
    const db = new Database(SQLITE_TEMPLATE, { readonly: true })
    serverVersions.SQLite = String((db.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v)
    db.close()
  }
  if (engines.includes('postgres')) {
    const sql = postgres(PG_URL, { max: 1, onnotice: () => {} })
    serverVersions.PostgreSQL = String((await sql`SHOW server_version`)[0].server_version)
    await sql.end()
  }
  if (engines.includes('mariadb')) {
    const conn = await mysql.createConnection({ uri: MYSQL_URL })
    serverVersions.MariaDB = String(((await conn.query('SELECT VERSION() AS v'))[0] as { v: string }[])[0].v)
    await conn.end()
  }

  const results: GroupResult[] = []
  const loadByWorkload: Record<string, string> = {}
  for (const [id, file] of WORKLOADS) {
    if (only.length > 0 && !only.includes(id)) continue
    loadByWorkload[id] = load()
    const out = join(TMP_DIR, `${id}.json`)
    const w0 = performance.now()
    log(`\n${id} (${file}), load ${loadByWorkload[id]}`)
    try {
      await runWorkload(file, out, engines)
      results.push(...(JSON.parse(readFileSync(out, 'utf8')) as GroupResult[]))
    } catch (e) {
      missing.push(`${id}: ${(e as Error).message}`)
    }
    log(`${id} done in ${((performance.now() - w0) / 1000).toFixed(0)} s`)
  }

  const cpuModel = (() => {
    try {
      return /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? cpus()[0]?.model ?? '?'
    } catch {
      return cpus()[0]?.model ?? '?'
    }
  })()
  const info: RunInfo = {
    started,
    seconds: (performance.now() - t0) / 1000,
    node: process.version,
    cpu: cpuModel,
    cores: cpus().length,
    memoryGb: totalmem() / 2 ** 30,
    loadStart,
    loadEnd: load(),
    loadByWorkload,
    versions: {
      recordkit: `${(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version} (dist/)`,
      kysely: version('kysely'),
      'kysely-postgres-js': version('kysely-postgres-js'),
      'drizzle-orm': version('drizzle-orm'),
      knex: version('knex'),
      pg: version('pg'),
      'better-sqlite3': version('better-sqlite3'),
      postgres: version('postgres'),
      mysql2: version('mysql2'),
    },
    servers: serverVersions,
    missing,
    rounds: process.env.BENCH_ROUNDS ?? '11',
  }
  const md = markdown(results, info, REPRODUCE, METHOD)
  const full = only.length === 0 && missing.length === 0
  const mdPath = full ? join(BENCH_DIR, 'RESULTS.md') : join(TMP_DIR, 'RESULTS.partial.md')
  const svgPath = full ? join(BENCH_DIR, 'ratios.svg') : join(TMP_DIR, 'ratios.partial.svg')
  writeFileSync(mdPath, md)
  writeFileSync(svgPath, svg(results))
  writeFileSync(join(TMP_DIR, 'results.json'), JSON.stringify({ info, results }, null, 1))
  if (update && !full) {
    // A partial run put into the full report: its sections and target rows replace the old ones.
    const label = process.env.BENCH_LABEL ?? 'partial run'
    writeFileSync(join(BENCH_DIR, 'RESULTS.md'), splice(readFileSync(join(BENCH_DIR, 'RESULTS.md'), 'utf8'), results, info, REPRODUCE, METHOD, label))
    log(`updated ${join(BENCH_DIR, 'RESULTS.md')} with ${only.join(', ')}`)
  }
  log(`\nwrote ${mdPath} and ${svgPath} in ${(info.seconds / 60).toFixed(1)} min${missing.length > 0 ? `; not measured: ${missing.join('; ')}` : ''}`)
  if (!existsSync(mdPath)) process.exit(1)
}

main().catch((e: unknown) => {
  console.error(e)
  process.exit(1)
})
