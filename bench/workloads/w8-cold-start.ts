/**
 * W8: cold start. One operation is a whole Node process: start, import the library, connect,
 * run one point select, close, exit (bench/cold/*.mjs, plain JavaScript, recordkit imported from
 * the built package). Timed from spawn to exit, in the same interleaved rounds as the other
 * workloads. SQLite opens the template file read-only; PostgreSQL and MariaDB connect over loopback
 * (MariaDB through mysql2 for every library: recordkit's mysql2 driver with the mariadb dialect,
 * Kysely's MysqlDialect, Drizzle's mysql2 driver, Knex's mysql2 client).
 *
 * "node, nothing imported" is an empty script: the share of every row that is Node itself.
 */
import { spawn } from 'node:child_process'
import { resolve } from 'node:path'
import type { Engine } from '../env.js'
import { BENCH_DIR, MYSQL_URL, PG_URL, SQLITE_TEMPLATE } from '../env.js'
import { type GroupSpec, type ImplSpec, main } from '../group.js'

const env = { ...process.env }
delete env.NODE_OPTIONS

const once = (script: string, engine: Engine): Promise<void> =>
  new Promise((done, fail) => {
    const child = spawn(process.execPath, [resolve(BENCH_DIR, 'cold', script), engine, engine === 'sqlite' ? SQLITE_TEMPLATE : engine === 'mariadb' ? MYSQL_URL : PG_URL], {
      cwd: resolve(BENCH_DIR, '..'),
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    let err = ''
    child.stderr.on('data', (d: Buffer) => { err += d.toString() })
    child.on('error', fail)
    child.on('exit', (code) => (code === 0 ? done() : fail(new Error(`${script} exited with ${code}: ${err.slice(0, 300)}`))))
  })

const impl = (name: string, script: string, engine: Engine, note?: string): ImplSpec => ({
  name,
  note,
  make: () => ({
    run: async (n: number) => { for (let i = 0; i < n; i++) await once(script, engine) },
    check: () => once(script, engine),
  }),
})

const RAW: Readonly<Record<Engine, string>> = { sqlite: 'raw better-sqlite3', postgres: 'raw postgres.js', mariadb: 'raw mysql2' }
const RECORDKIT_NOTE: Readonly<Record<Engine, string>> = {
  sqlite: '`compose`',
  postgres: '`connect` reads the server version, then the array types, before the first query',
  mariadb: '`connect` (mysql2 driver, mariadb dialect) reads the server version before the first query',
}

export const groups = (engines: readonly Engine[]): GroupSpec[] =>
  engines.map((engine) => ({
    key: `W8.${engine}`,
    workload: 'W8',
    title: 'Cold start: import, connect, first query, exit',
    engine,
    op: 'one Node process, spawn to exit',
    count: false,
    compare: { ops: 1, rounds: 7, warmupMs: 0, clock: 'wall' },
    impls: [
      impl(RAW[engine], 'raw.mjs', engine, engine === 'mariadb' ? 'mysql2/promise pool, `execute`' : undefined),
      impl('recordkit', 'recordkit.mjs', engine, RECORDKIT_NOTE[engine]),
      impl('Kysely', 'kysely.mjs', engine, engine === 'mariadb' ? '`MysqlDialect` on a mysql2 pool' : undefined),
      impl('Drizzle', 'drizzle.mjs', engine, 'one table defined'),
      impl('Knex', 'knex.mjs', engine, engine === 'postgres' ? 'through `pg`' : engine === 'mariadb' ? 'through mysql2' : undefined),
      impl('node, nothing imported', 'node.mjs', engine, 'reference: Node start-up and exit alone'),
    ],
  }))

if (import.meta.url === `file://${process.argv[1]}`) await main(groups)
