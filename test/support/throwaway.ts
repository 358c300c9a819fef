/**
 * Throwaway database servers for fault tests: a PostgreSQL or MariaDB server of its own, in a
 * temp dir, on a loopback port of its own, that a test may kill, stop and start again. The
 * shared servers on 5432 and 3306 are never touched. Every server is stopped by its pid when
 * the test file ends (`stop`), and its directory removed.
 *
 * PostgreSQL runs as the `postgres` user (it refuses root); MariaDB runs with `--user=root`.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { answers, waitFor } from './cluster.js'

const PG_BIN = ['/usr/lib/postgresql/15/bin', '/usr/lib/postgresql/16/bin', '/usr/lib/postgresql/17/bin'].find((d) => existsSync(join(d, 'initdb')))
const MARIADBD = ['/usr/sbin/mariadbd', '/usr/sbin/mysqld'].find((p) => existsSync(p))
const INSTALL_DB = ['/usr/bin/mariadb-install-db', '/usr/bin/mysql_install_db'].find((p) => existsSync(p))

/** Why throwaway servers cannot run here, or undefined when they can. */
export const throwawayMissing = (which: 'postgres' | 'mariadb'): string | undefined => {
  if (which === 'postgres') {
    if (PG_BIN === undefined) return 'PostgreSQL server binaries (initdb, pg_ctl) are not installed'
    try {
      execFileSync('id', ['postgres'], { stdio: 'ignore' })
    } catch {
      return 'there is no postgres user to run a throwaway PostgreSQL server as'
    }
    return undefined
  }
  return MARIADBD === undefined || INSTALL_DB === undefined ? 'MariaDB server binaries (mariadbd, mariadb-install-db) are not installed' : undefined
}

/** Whether the shell command succeeds (its output is dropped). */
const succeeds = (file: string, args: readonly string[]): boolean => {
  try {
    execFileSync(file, args, { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/**
 * Kill every process of a server at once (SIGKILL): the server process and every worker it
 * started carry its data directory in their command line. Waits until the port is free.
 */
const killServer = async (what: string, data: string, port: number, alive: () => boolean): Promise<void> => {
  succeeds('pkill', ['-KILL', '-f', data])
  await waitFor(`${what} on ${port} to die`, async () => !(await answers(port)) && !alive(), 10_000).catch(() => undefined)
}

const pidAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/**
 * Whether throwaway servers of this kind can run here. When they cannot, one loud line says why
 * and the suite skips, unless RECORDKIT_REQUIRE_SERVERS=1, which makes it a failure.
 */
export const throwawayAvailable = (which: 'postgres' | 'mariadb', suite: string): boolean => {
  const missing = throwawayMissing(which)
  if (missing === undefined) return true
  if (process.env.RECORDKIT_REQUIRE_SERVERS === '1') throw new Error(`${suite} cannot run: ${missing}`)
  console.warn(`\n*** SKIPPING ${suite}: ${missing} ***\n`)
  return false
}

/** Whether this process can listen on 127.0.0.1:port now. */
const canListen = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const server = net.createServer()
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })

/**
 * The first port from `from` on that nothing listens on, so that two test runs on one machine
 * (or a server left by a killed run) do not collide.
 */
export const freePort = async (from: number): Promise<number> => {
  for (let port = from; port < from + 50; port++) {
    if (!(await answers(port)) && (await canListen(port))) return port
  }
  throw new Error(`no free port in ${from}-${from + 49}`)
}

/** A server a test owns. */
export interface Throwaway {
  readonly url: string
  readonly port: number
  /** Start again on the same data and port (after `kill` or `halt`). */
  readonly start: () => Promise<void>
  /** Kill the server process at once (SIGKILL): every connection drops mid-flight. */
  readonly kill: () => Promise<void>
  /** Stop and remove everything. Safe to call twice. */
  readonly stop: () => Promise<void>
  /** The server's main process id, while it runs. */
  readonly pid: () => number | undefined
}

const asPostgres = (args: readonly string[]): string[] => ['-u', 'postgres', '--', ...args]

/**
 * A PostgreSQL server of its own on the first free port from `from` (trust auth, database `postgres`, user `postgres`).
 *
 * @example
 * const pg = await throwawayPostgres(22432)
 * const db = await run(connect(postgresJs({ url: pg.url }), postgres))
 */
export const throwawayPostgres = async (from: number, settings: Readonly<Record<string, string | number>> = {}): Promise<Throwaway> => {
  const port = await freePort(from)
  const root = mkdtempSync(join(tmpdir(), 'recordkit-pg-'))
  chmodSync(root, 0o777)
  const data = join(root, 'data')
  execFileSync('runuser', asPostgres([join(PG_BIN!, 'initdb'), '-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']), { stdio: 'ignore' })
  const options = Object.entries({ listen_addresses: '127.0.0.1', port, unix_socket_directories: root, fsync: 'off', max_connections: 100, ...settings })
    .map(([k, v]) => `-c ${k}=${v}`).join(' ')
  const pidFile = join(data, 'postmaster.pid')
  const pid = (): number | undefined => {
    if (!existsSync(pidFile)) return undefined
    const n = Number(readFileSync(pidFile, 'utf8').split('\n')[0])
    return Number.isInteger(n) && pidAlive(n) ? n : undefined
  }
  const start = async (): Promise<void> => {
    if (await answers(port)) throw new Error(`port ${port} is already taken: a server left from an earlier run?`)
    spawn('runuser', asPostgres([join(PG_BIN!, 'postgres'), '-D', data, ...options.split(' ')]), { stdio: 'ignore', detached: true }).unref()
    await waitFor(`PostgreSQL on ${port}`, async () => (await answers(port)) && succeeds(join(PG_BIN!, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(port), '-q']))
  }
  const kill = async (): Promise<void> => {
    await killServer('PostgreSQL', data, port, () => pid() !== undefined)
    rmSync(pidFile, { force: true })
  }
  const stop = async (): Promise<void> => {
    await kill()
    rmSync(root, { recursive: true, force: true })
  }
  await start()
  return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, port, start, kill, stop, pid }
}

/**
 * A MariaDB server of its own on the first free port from `from` (root with an empty password, database `test`).
 *
 * @example
 * const maria = await throwawayMariadb(23307)
 * const db = await run(connect(mysql2({ url: maria.url }), mariadb))
 */
export const throwawayMariadb = async (from: number, settings: Readonly<Record<string, string | number>> = {}): Promise<Throwaway> => {
  const port = await freePort(from)
  const root = mkdtempSync(join(tmpdir(), 'recordkit-maria-'))
  const data = join(root, 'data')
  execFileSync(INSTALL_DB!, ['--no-defaults', `--datadir=${data}`, '--user=root', '--auth-root-authentication-method=normal', '--skip-test-db'], { stdio: 'ignore' })
  const args = [
    '--no-defaults', `--datadir=${data}`, '--user=root', `--port=${port}`, '--bind-address=127.0.0.1',
    `--socket=${join(root, 'sock')}`, `--pid-file=${join(root, 'pid')}`, '--skip-log-bin', '--innodb-buffer-pool-size=16M',
    '--innodb-log-file-size=16M', '--skip-name-resolve',
    ...Object.entries(settings).map(([k, v]) => `--${k}=${v}`),
  ]
  let proc: ChildProcess | undefined
  const pid = (): number | undefined => (proc?.pid !== undefined && proc.exitCode === null && pidAlive(proc.pid) ? proc.pid : undefined)
  const start = async (): Promise<void> => {
    if (await answers(port)) throw new Error(`port ${port} is already taken: a server left from an earlier run?`)
    proc = spawn(MARIADBD!, args, { stdio: 'ignore', detached: true })
    proc.unref()
    await waitFor(`MariaDB on ${port}`, () => answers(port))
    // The port answers before the server accepts logins for a moment; ask it for real.
    await waitFor(`MariaDB on ${port} to accept logins`, async () =>
      succeeds('mariadb', ['-h', '127.0.0.1', '-P', String(port), '-u', 'root', '-e', 'CREATE DATABASE IF NOT EXISTS test']))
  }
  const kill = (): Promise<void> => killServer('MariaDB', data, port, () => pid() !== undefined)
  const stop = async (): Promise<void> => {
    await kill()
    rmSync(root, { recursive: true, force: true })
  }
  await start()
  return { url: `mysql://root@127.0.0.1:${port}/test`, port, start, kill, stop, pid }
}
