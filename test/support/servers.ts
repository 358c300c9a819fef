/**
 * Where the test servers are, and whether to run or skip their suites.
 *
 * PostgreSQL and MariaDB are expected on their standard local ports. When one does not
 * answer, its suites skip with one loud line, unless RECORDKIT_REQUIRE_SERVERS=1 (set by CI),
 * in which case the run fails.
 */
import net from 'node:net'

export const PG_URL = process.env.RECORDKIT_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
export const MYSQL_URL = process.env.RECORDKIT_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test'

const required = process.env.RECORDKIT_REQUIRE_SERVERS === '1'

const answers = (host: string, port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = net.connect({ host, port })
    const done = (ok: boolean) => { s.destroy(); resolve(ok) }
    s.setTimeout(1000, () => done(false))
    s.once('connect', () => done(true))
    s.once('error', () => done(false))
  })

const portOf = (url: string, fallback: number): [string, number] => {
  const u = new URL(url)
  return [u.hostname, u.port === '' ? fallback : Number(u.port)]
}

/**
 * Whether a server answers. Logs one line when it does not; throws when servers are required.
 */
export const serverAvailable = async (which: 'postgres' | 'mariadb'): Promise<boolean> => {
  const [host, port] = which === 'postgres' ? portOf(PG_URL, 5432) : portOf(MYSQL_URL, 3306)
  const ok = await answers(host, port)
  if (!ok) {
    const msg = `${which} at ${host}:${port} does not answer`
    if (required) throw new Error(`${msg}, and RECORDKIT_REQUIRE_SERVERS=1`)
    console.warn(`\n*** SKIPPING ${which} suites: ${msg} ***\n`)
  }
  return ok
}
export const MYSQL_DB = new URL(MYSQL_URL).pathname.slice(1)
