/**
 * Throwaway clusters for the scale-out tests, started on loopback under temp dirs and stopped
 * by pid: PostgreSQL primaries and streaming standbys (initdb, pg_basebackup -R, pg_ctl),
 * PgBouncer, and a MariaDB Galera cluster (galera-4). Never the shared servers on 5432/3306.
 *
 * Run as root, the servers run as their own system users (`postgres`, `mysql`), as they refuse
 * to run as root. When a binary is missing, `clusterAvailable` skips with one loud line, or
 * throws when RECORDKIT_REQUIRE_SERVERS=1.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { appendFileSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const required = process.env.RECORDKIT_REQUIRE_SERVERS === '1'
const isRoot = process.getuid?.() === 0

const pgBin = (): string | undefined => {
  if (process.env.RECORDKIT_PG_BIN !== undefined) return process.env.RECORDKIT_PG_BIN
  const root = '/usr/lib/postgresql'
  if (!existsSync(root)) return undefined
  const versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'pg_basebackup'))).sort((a, b) => Number(b) - Number(a))
  return versions.length === 0 ? undefined : join(root, versions[0], 'bin')
}

const which = (name: string): string | undefined => {
  for (const d of ['/usr/sbin', '/usr/bin', '/usr/local/sbin', '/usr/local/bin']) if (existsSync(join(d, name))) return join(d, name)
  return undefined
}

const galeraProvider = (): string | undefined => ['/usr/lib/galera/libgalera_smm.so', '/usr/lib/libgalera_smm.so', '/usr/lib64/galera-4/libgalera_smm.so'].find(existsSync)

/**
 * Whether the binaries a cluster needs are installed. Logs one loud line when they are not;
 * throws when servers are required.
 */
export const clusterAvailable = (what: 'postgres' | 'pgbouncer' | 'galera'): boolean => {
  const missing: string[] = []
  if (what === 'postgres' && pgBin() === undefined) missing.push('PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup)')
  if (what === 'pgbouncer' && which('pgbouncer') === undefined) missing.push('pgbouncer')
  if (what === 'galera') {
    if (which('mariadbd') === undefined) missing.push('mariadbd')
    if (which('mariadb-install-db') === undefined) missing.push('mariadb-install-db')
    if (galeraProvider() === undefined) missing.push('galera-4 (libgalera_smm.so)')
    if (which('rsync') === undefined) missing.push('rsync (state transfer)')
  }
  if (missing.length === 0) return true
  const msg = `${what} cluster tests need ${missing.join(', ')}`
  if (required) throw new Error(`${msg}, and RECORDKIT_REQUIRE_SERVERS=1`)
  console.warn(`\n*** SKIPPING ${what} cluster suites: ${msg} ***\n`)
  return false
}

/** A temp dir the given system user owns (the servers refuse to run as root). */
const ownedDir = (prefix: string, user: string): string => {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  if (isRoot) {
    const uid = Number(execFileSync('id', ['-u', user]).toString().trim())
    const gid = Number(execFileSync('id', ['-g', user]).toString().trim())
    chownSync(dir, uid, gid)
  }
  return dir
}

const as = (user: string, cmd: string, args: readonly string[]): [string, string[]] => (isRoot ? ['runuser', ['-u', user, '--', cmd, ...args]] : [cmd, [...args]])

const runAs = (user: string, cmd: string, args: readonly string[]): string => {
  const [c, a] = as(user, cmd, args)
  return execFileSync(c, a, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 }).toString()
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
export const answers = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port })
    const done = (ok: boolean) => { s.destroy(); resolve(ok) }
    s.setTimeout(1000, () => done(false))
    s.once('connect', () => done(true))
    s.once('error', () => done(false))
  })

/** Servers to stop if the test process ends without its afterAll (a crash, a kill). */
const leftovers = new Set<() => void>()
const cleanUp = (): void => {
  for (const f of leftovers) {
    try { f() } catch { /* best effort */ }
  }
  leftovers.clear()
}
process.once('exit', cleanUp)
// Killed (a timeout, Ctrl-C): stop the servers, then end as the signal would have.
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    cleanUp()
    process.kill(process.pid, signal)
  })
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Wait until `ok()` holds, up to `ms`; throws with `what` when it never does. */
export const waitFor = async (what: string, ok: () => boolean | Promise<boolean>, ms = 60_000): Promise<void> => {
  const until = Date.now() + ms
  while (Date.now() < until) {
    if (await ok()) return
    await sleep(100)
  }
  throw new Error(`${what}: not ready after ${ms} ms`)
}

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

// ---------------------------------------------------------------- port locks

// Every test server (here and in throwaway.ts) listens on a port below 32768: Linux gives ports
// 32768-60999 to outgoing connections, so a fixed port in that range can be held by a client
// socket of a busy test run when the server starts ("could not bind: Address already in use").

/**
 * Hold the ports of one cluster test across processes: two test runs on one machine (two
 * checkouts, say) take turns instead of starting servers on the same ports. A lock whose holder
 * died is taken over. Returns the release function (also called when the process ends).
 *
 * @example
 * const release = await lockPorts('replicas') // in beforeAll; release() in afterAll
 */
export const lockPorts = async (name: string, ms = 280_000): Promise<() => void> => {
  const dir = join(tmpdir(), `recordkit-ports-${name}.lock`)
  const until = Date.now() + ms
  for (;;) {
    try {
      mkdirSync(dir)
      writeFileSync(join(dir, 'pid'), String(process.pid))
      break
    } catch (e) {
      if ((e as { code?: string }).code !== 'EEXIST') throw e
      let pid = Number.NaN
      try { pid = Number(readFileSync(join(dir, 'pid'), 'utf8')) } catch { /* being written */ }
      const age = (() => { try { return Date.now() - statSync(dir).mtimeMs } catch { return 0 } })()
      if ((Number.isInteger(pid) && pid > 0 && !isAlive(pid)) || (Number.isNaN(pid) && age > 10_000)) {
        rmSync(dir, { recursive: true, force: true })
        continue
      }
      if (Date.now() > until) throw new Error(`the ${name} cluster ports are still held by process ${pid} after ${ms} ms`, { cause: e })
      await sleep(250)
    }
  }
  const release = (): void => {
    leftovers.delete(release)
    rmSync(dir, { recursive: true, force: true })
  }
  leftovers.add(release)
  return release
}

// ---------------------------------------------------------------- PostgreSQL

/** A throwaway PostgreSQL server. */
export interface PgServer {
  readonly port: number
  readonly data: string
  /** `postgres://postgres@127.0.0.1:port/<database>` */
  readonly url: (database?: string) => string
  /** Run SQL with psql (as the postgres user) and return its unaligned output. */
  readonly psql: (sql: string, database?: string) => string
  readonly start: () => void
  /** `pg_ctl stop`: fast (default) or immediate (a crash). */
  readonly stop: (mode?: 'fast' | 'immediate') => void
  /** `pg_ctl promote` (a standby becomes a primary). */
  readonly promote: () => void
  readonly running: () => boolean
}

/** Refuse a port something already listens on (a server left over by a killed run, say). */
const portFree = (bin: string, port: number): void => {
  try {
    execFileSync(join(bin, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(port), '-q'], { stdio: 'ignore' })
  } catch (e) {
    if ((e as { status?: number }).status === 2) return // no answer: free
  }
  throw new Error(`port ${port} is already in use; stop what listens there first`)
}

const pgServer = (bin: string, data: string, port: number): PgServer => {
  const log = join(data, '..', `pg-${port}.log`)
  const running = (): boolean => {
    try {
      runAs('postgres', join(bin, 'pg_ctl'), ['-D', data, 'status'])
      return true
    } catch {
      return false
    }
  }
  return {
    port,
    data,
    url: (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`,
    psql: (text, database = 'postgres') => runAs('postgres', join(bin, 'psql'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', database, '-XAtqc', text]),
    start: () => { runAs('postgres', join(bin, 'pg_ctl'), ['-D', data, '-l', log, '-w', '-t', '60', 'start']) },
    stop: (mode = 'fast') => { if (running()) runAs('postgres', join(bin, 'pg_ctl'), ['-D', data, '-m', mode, '-w', '-t', '60', 'stop']) },
    promote: () => { runAs('postgres', join(bin, 'pg_ctl'), ['-D', data, '-w', '-t', '60', 'promote']) },
    running,
  }
}

/** A PostgreSQL cluster directory: one primary, standbys added with `standby`, removed by `destroy`. */
export interface PgCluster {
  readonly primary: PgServer
  readonly standby: (port: number) => PgServer
  readonly destroy: () => void
}

/**
 * Start a PostgreSQL primary on 127.0.0.1:port (trust authentication, WAL for streaming
 * replicas). With `synchronousStandbys`, a commit is acknowledged only once a standby has it.
 */
export const startPgPrimary = (port: number, options: { readonly synchronousStandbys?: boolean } = {}): PgCluster => {
  const bin = pgBin()
  if (bin === undefined) throw new Error('no PostgreSQL binaries')
  portFree(bin, port)
  const root = ownedDir('recordkit-pg-', 'postgres')
  const servers: PgServer[] = []
  const data = join(root, `data-${port}`)
  runAs('postgres', join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync'])
  appendFileSync(data + '/postgresql.conf', [
    `port = ${port}`, "listen_addresses = '127.0.0.1'", `unix_socket_directories = '${root}'`, 'max_connections = 200',
    'shared_buffers = 16MB', 'wal_level = replica', 'max_wal_senders = 8', 'hot_standby = on', 'wal_keep_size = 64MB',
    'fsync = off', 'full_page_writes = off', 'log_min_messages = warning', 'wal_sender_timeout = 5s', 'wal_receiver_status_interval = 1s',
    options.synchronousStandbys === true ? "synchronous_standby_names = '*'" : '', '',
  ].join('\n'))
  const primary = pgServer(bin, data, port)
  try {
    primary.start()
  } catch (e) {
    const log = safeTail(join(root, `pg-${port}.log`))
    rmSync(root, { recursive: true, force: true })
    throw new Error(`PostgreSQL did not start on ${port}: ${log}`, { cause: e })
  }
  servers.push(primary)
  const killAll = () => { for (const sv of servers) sv.stop('immediate') }
  leftovers.add(killAll)
  return {
    primary,
    standby: (p) => {
      portFree(bin, p)
      const dir = join(root, `data-${p}`)
      runAs('postgres', join(bin, 'pg_basebackup'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-D', dir, '-R', '-X', 'stream', '--no-sync'])
      appendFileSync(join(dir, 'postgresql.conf'), `\nport = ${p}\nsynchronous_standby_names = ''\n`)
      const s = pgServer(bin, dir, p)
      s.start()
      servers.push(s)
      return s
    },
    destroy: () => {
      leftovers.delete(killAll)
      for (const s of servers) {
        try { s.stop('immediate') } catch { /* already gone */ }
      }
      rmSync(root, { recursive: true, force: true })
    },
  }
}

// ---------------------------------------------------------------- PgBouncer

/** A throwaway PgBouncer. */
export interface PgBouncer {
  readonly port: number
  readonly url: (database: string) => string
  readonly stop: () => Promise<void>
}

/**
 * Start PgBouncer on 127.0.0.1:port in the given pool mode, in front of one server; each
 * database name the clients use maps to the same name on that server.
 */
export const startPgBouncer = async (port: number, server: { readonly host: string; readonly port: number }, options: { readonly poolMode?: 'transaction' | 'session'; readonly poolSize?: number } = {}): Promise<PgBouncer> => {
  const exe = which('pgbouncer')
  if (exe === undefined) throw new Error('no pgbouncer')
  const dir = ownedDir('recordkit-pgbouncer-', 'postgres')
  const ini = join(dir, 'pgbouncer.ini')
  writeFileSync(join(dir, 'users.txt'), '"postgres" ""\n')
  writeFileSync(ini, [
    '[databases]', `* = host=${server.host} port=${server.port}`, '',
    '[pgbouncer]', 'listen_addr = 127.0.0.1', `listen_port = ${port}`, `unix_socket_dir = ${dir}`,
    'auth_type = trust', `auth_file = ${join(dir, 'users.txt')}`, `pool_mode = ${options.poolMode ?? 'transaction'}`,
    `default_pool_size = ${options.poolSize ?? 10}`, 'max_client_conn = 500', 'server_reset_query =',
    `logfile = ${join(dir, 'pgbouncer.log')}`, `pidfile = ${join(dir, 'pgbouncer.pid')}`, 'admin_users = postgres', '',
  ].join('\n'))
  if (isRoot) execFileSync('chown', ['-R', 'postgres', dir])
  const [c, a] = as('postgres', exe, ['-d', ini])
  execFileSync(c, a, { stdio: 'ignore' })
  await waitFor('pgbouncer', () => answers(port), 20_000)
  // The port can answer before the daemon has written its pid file (it listens, then forks).
  const pidFile = join(dir, 'pgbouncer.pid')
  await waitFor('pgbouncer pid file', () => existsSync(pidFile) && /^\d+\s*$/.test(readFileSync(pidFile, 'utf8')), 20_000)
  const pid = Number(readFileSync(pidFile, 'utf8').trim())
  const kill = () => { if (isAlive(pid)) process.kill(pid, 'SIGKILL') }
  leftovers.add(kill)
  return {
    port,
    url: (database) => `postgres://postgres@127.0.0.1:${port}/${database}`,
    stop: async () => {
      leftovers.delete(kill)
      if (isAlive(pid)) process.kill(pid, 'SIGTERM')
      await waitFor('pgbouncer to stop', () => !isAlive(pid), 20_000)
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

// ---------------------------------------------------------------- Galera

/** One MariaDB node of a Galera cluster. */
export interface GaleraNode {
  readonly port: number
  readonly url: (database?: string) => string
  readonly running: () => boolean
  /** Stop the node: SIGTERM (a clean leave) or SIGKILL (a crash). */
  readonly stop: (signal?: 'SIGTERM' | 'SIGKILL') => Promise<void>
  /** Start it again; it rejoins the cluster (IST or SST). */
  readonly start: () => Promise<void>
}

/** A Galera cluster on loopback. */
export interface GaleraCluster {
  readonly nodes: readonly GaleraNode[]
  readonly destroy: () => Promise<void>
}

/**
 * Start a Galera cluster of `size` MariaDB nodes: node i listens for SQL on `basePort + 1 + i`,
 * for group communication on `basePort + 11 + i`, for IST on `basePort + 21 + i` and for SST on
 * `basePort + 31 + i`. The first node bootstraps; the others join by rsync state transfer.
 */
export const startGalera = async (basePort: number, size = 3): Promise<GaleraCluster> => {
  const provider = galeraProvider()
  if (provider === undefined) throw new Error('no galera provider')
  const root = ownedDir('recordkit-galera-', 'mysql')
  const gcomm = Array.from({ length: size }, (_, i) => `127.0.0.1:${basePort + 11 + i}`).join(',')
  const children: (ChildProcess | undefined)[] = []

  const nodeAt = (i: number): GaleraNode => {
    const port = basePort + 1 + i
    const data = join(root, `node${i}`)
    const cnf = join(root, `node${i}.cnf`)
    // The state transfer port changes on each attempt to join (see start): an rsync daemon of
    // a transfer that just failed, or a socket it left, may still hold the previous one.
    const configure = (attempt: number): void => { writeFileSync(cnf, [
      '[mysqld]', `datadir = ${data}`, `port = ${port}`, 'bind-address = 127.0.0.1', `socket = ${join(root, `node${i}.sock`)}`,
      `pid-file = ${join(root, `node${i}.pid`)}`, `log-error = ${join(root, `node${i}.err`)}`, 'skip-name-resolve',
      'binlog_format = ROW', 'default_storage_engine = InnoDB', 'innodb_autoinc_lock_mode = 2', 'innodb_buffer_pool_size = 32M',
      'innodb_log_file_size = 16M', 'innodb_flush_log_at_trx_commit = 2', 'performance_schema = OFF', 'max_connections = 200',
      'wsrep_on = ON', `wsrep_provider = ${provider}`, `wsrep_cluster_address = gcomm://${gcomm}`, 'wsrep_cluster_name = recordkit',
      `wsrep_node_address = 127.0.0.1:${basePort + 11 + i}`, `wsrep_node_name = node${i}`, `wsrep_sst_receive_address = 127.0.0.1:${basePort + 31 + i + 10 * attempt}`,
      'wsrep_sst_method = rsync', 'wsrep_slave_threads = 2',
      `wsrep_provider_options = "gmcast.listen_addr=tcp://127.0.0.1:${basePort + 11 + i}; ist.recv_addr=127.0.0.1:${basePort + 21 + i}; gcache.size=32M; evs.suspect_timeout=PT3S; evs.inactive_timeout=PT6S; evs.install_timeout=PT6S; pc.wait_prim_timeout=PT10S"`,
      '',
    ].join('\n'))
    if (isRoot) execFileSync('chown', ['mysql', cnf]) }
    configure(0)
    let child: ChildProcess | undefined
    const running = () => child !== undefined && child.exitCode === null && child.signalCode === null
    const ready = async (): Promise<boolean> => {
      if (!(await answers(port))) return false
      try {
        const out = execFileSync('mariadb', ['-S', join(root, `node${i}.sock`), '-u', 'root', '-NBe', "SHOW STATUS LIKE 'wsrep_ready'"], { stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).toString()
        return /ON/.test(out)
      } catch {
        return false
      }
    }
    const node: GaleraNode = {
      port,
      url: (database = 'mysql') => `mysql://root@127.0.0.1:${port}/${database}`,
      running,
      stop: async (signal = 'SIGTERM') => {
        if (!running()) return
        const c = child!
        const exited = new Promise<void>((r) => c.once('exit', () => r()))
        c.kill(signal)
        await Promise.race([exited, sleep(60_000)])
      },
      start: async () => {
        // A joiner whose state transfer fails exits; it tries again (up to 3 times) on another port.
        for (let attempt = 0; ; attempt++) {
          const bootstrap = i === 0 && !existsSync(join(data, 'grastate.dat')) ? ['--wsrep-new-cluster'] : []
          configure(attempt)
          // Started directly (mariadbd drops to the mysql user itself), so the child is the server
          // and a signal sent to it reaches the server, SIGKILL included.
          child = spawn(which('mariadbd')!, [`--defaults-file=${cnf}`, ...bootstrap, ...(isRoot ? ['--user=mysql'] : [])], { stdio: 'ignore' })
          children[i] = child
          try {
            await waitFor(`galera node ${i} on ${port}`, async () => {
              if (!running()) throw new Error(`galera node ${i} exited; see ${join(root, `node${i}.err`)}: ${safeTail(join(root, `node${i}.err`))}`)
              return ready()
            }, 120_000)
            return
          } catch (e) {
            if (running() || bootstrap.length > 0 || attempt >= 2) throw e
            await sleep(1000)
          }
        }
      },
    }
    return node
  }

  const killAll = () => { for (const c of children) if (c !== undefined && c.exitCode === null) c.kill('SIGKILL') }
  leftovers.add(killAll)
  const nodes: GaleraNode[] = []
  try {
    for (let i = 0; i < size; i++) {
      const data = join(root, `node${i}`)
      runAs('mysql', which('mariadb-install-db')!, ['--no-defaults', `--datadir=${data}`, '--auth-root-authentication-method=normal', '--skip-test-db', '--skip-name-resolve'])
      const n = nodeAt(i)
      await n.start()
      nodes.push(n)
      // Root over TCP from 127.0.0.1 (names are not resolved); replicated to the joiners.
      if (i === 0) execFileSync('mariadb', ['-S', join(root, 'node0.sock'), '-u', 'root', '-e', "CREATE USER IF NOT EXISTS root@'127.0.0.1'; GRANT ALL ON *.* TO root@'127.0.0.1' WITH GRANT OPTION"])
    }
  } catch (e) {
    killAll()
    leftovers.delete(killAll)
    await sleep(500)
    rmSync(root, { recursive: true, force: true })
    throw e
  }
  return {
    nodes,
    destroy: async () => {
      leftovers.delete(killAll)
      await Promise.all(nodes.map((n) => n.stop('SIGKILL')))
      rmSync(root, { recursive: true, force: true })
    },
  }
}

const safeTail = (file: string): string => {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-15).join('\n')
  } catch {
    return '(no log)'
  }
}

/**
 * Wait for every promise to settle, up to `ms`; fails (naming how many) if any is still
 * pending then. The scale-out tests use it to show that no call was left hanging.
 */
export const allSettledWithin = async <T>(promises: readonly Promise<T>[], ms: number): Promise<PromiseSettledResult<T>[]> => {
  let pending = promises.length
  const tracked = promises.map((p) => p.finally(() => { pending-- }))
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<'late'>((r) => { timer = setTimeout(() => r('late'), ms) })
  const all = Promise.allSettled(tracked)
  const out = await Promise.race([all, late])
  clearTimeout(timer)
  if (out === 'late') throw new Error(`${pending} of ${promises.length} calls still pending after ${ms} ms`)
  return out
}

/**
 * postgres.js 3.4 fetches the array types on each new connection and does not await that query
 * (connection.js, `return fetchArrayTypes()` from a message handler): when the server goes away
 * while it runs (or refuses the connection), its rejection is unhandled. Tests that stop a server under
 * load count those rejections here, matched narrowly (a connection error on that catalog query); every
 * other unhandled rejection still fails the run. Returns how many were seen, and the uninstall.
 *
 * @example const typeFetch = countTypeFetchRejections() // in beforeAll; typeFetch.stop() in afterAll
 */
export const countTypeFetchRejections = (): { readonly seen: () => number; readonly stop: () => void } => {
  let seen = 0
  const own = (e: unknown): boolean =>
    ['CONNECTION_CLOSED', 'ECONNREFUSED', 'ECONNRESET', 'CONNECT_TIMEOUT'].includes(String((e as { code?: unknown }).code)) &&
    String((e as { query?: unknown }).query ?? '').includes('pg_catalog.pg_type a')
  const others = process.listeners('unhandledRejection')
  const handler = (e: unknown, p: Promise<unknown>): void => {
    if (own(e)) { seen++; return }
    for (const l of others) l(e, p)
    if (others.length === 0) throw e
  }
  process.removeAllListeners('unhandledRejection')
  process.on('unhandledRejection', handler)
  return {
    seen: () => seen,
    stop: () => {
      process.removeListener('unhandledRejection', handler)
      for (const l of others) process.on('unhandledRejection', l)
    },
  }
}
