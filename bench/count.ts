/**
 * Counting the statements an implementation sends, the same way for every library:
 *
 * - PostgreSQL and MariaDB: a TCP proxy on loopback that reads the client's side of the wire
 *   protocol and counts statements executed: PostgreSQL `Query` and `Execute` messages, MySQL
 *   `COM_QUERY` and `COM_STMT_EXECUTE` commands. (Prepares, binds and syncs are not counted.)
 * - SQLite: better-sqlite3's statement methods (`run`, `get`, `all`, `iterate`) and `exec`,
 *   wrapped while the count runs. The BEGIN/COMMIT that better-sqlite3's own `transaction()`
 *   helper issues happen inside the library and are not seen.
 *
 * Counting runs on separate instances, after the timed rounds: the proxy's extra hop never
 * touches a measurement.
 */
import net from 'node:net'
import Database from 'better-sqlite3'

/** A running proxy: connect to `url` instead of the server. */
export interface CountingProxy {
  readonly url: string
  readonly count: () => number
  readonly reset: () => void
  readonly close: () => Promise<void>
}

type Protocol = 'postgres' | 'mysql'

/** A parser of the client-to-server byte stream that calls `hit` for each statement executed. */
const clientParser = (protocol: Protocol, hit: () => void): ((chunk: Buffer) => void) => {
  let head = Buffer.alloc(0) // a message header split across chunks
  let skip = 0 // bytes of the current message body still to pass over
  let startup = protocol === 'postgres' // PostgreSQL start-up messages carry no type byte
  const headerSize = (): number => (protocol === 'mysql' ? 4 : startup ? 8 : 5)
  const onHeader = (h: Buffer): number => {
    if (protocol === 'mysql') {
      const length = h[0] | (h[1] << 8) | (h[2] << 16)
      // Commands start a sequence (id 0); their first payload byte is the command.
      if (h[3] === 0 && length > 0) {
        // The command byte is the first body byte: peeked by the caller through `command`.
        pendingCommand = true
      }
      return length
    }
    if (startup) {
      const length = h.readInt32BE(0)
      const code = h.readInt32BE(4)
      // SSLRequest and GSSENCRequest are followed by another start-up message.
      if (code !== 80877103 && code !== 80877104) startup = false
      return length - 8
    }
    const type = h[0]
    if (type === 0x51 /* Q */ || type === 0x45 /* E */) hit()
    return h.readInt32BE(1) - 4
  }
  let pendingCommand = false
  return (chunk) => {
    let pos = 0
    while (pos < chunk.length) {
      if (skip > 0) {
        if (pendingCommand) {
          const cmd = chunk[pos]
          if (cmd === 0x03 /* COM_QUERY */ || cmd === 0x17 /* COM_STMT_EXECUTE */) hit()
          pendingCommand = false
        }
        const n = Math.min(skip, chunk.length - pos)
        skip -= n
        pos += n
        continue
      }
      const need = headerSize() - head.length
      const take = Math.min(need, chunk.length - pos)
      head = Buffer.concat([head, chunk.subarray(pos, pos + take)])
      pos += take
      if (head.length === headerSize()) {
        skip = onHeader(head)
        head = Buffer.alloc(0)
      }
    }
  }
}

/**
 * Start a counting proxy in front of a server given by URL; the returned URL points at it.
 *
 * @example
 * const proxy = await countingProxy('postgres', 'postgres://postgres@127.0.0.1:5432/bench')
 */
export const countingProxy = async (protocol: Protocol, url: string): Promise<CountingProxy> => {
  const target = new URL(url)
  const port = Number(target.port || (protocol === 'postgres' ? 5432 : 3306))
  let n = 0
  const sockets = new Set<net.Socket>()
  const server = net.createServer((client) => {
    const upstream = net.connect({ host: target.hostname, port })
    sockets.add(client)
    sockets.add(upstream)
    client.setNoDelay(true)
    upstream.setNoDelay(true)
    const parse = clientParser(protocol, () => { n++ })
    client.on('data', (chunk) => {
      parse(chunk)
      upstream.write(chunk)
    })
    upstream.on('data', (chunk) => client.write(chunk))
    const end = () => { client.destroy(); upstream.destroy(); sockets.delete(client); sockets.delete(upstream) }
    client.on('close', end)
    upstream.on('close', end)
    client.on('error', end)
    upstream.on('error', end)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address() as net.AddressInfo
  const proxied = new URL(url)
  proxied.hostname = '127.0.0.1'
  proxied.port = String(address.port)
  return {
    url: proxied.toString(),
    count: () => n,
    reset: () => { n = 0 },
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

const statementPrototype = (): Record<string, (...args: unknown[]) => unknown> => {
  const db = new Database(':memory:')
  const proto = Object.getPrototypeOf(db.prepare('SELECT 1')) as Record<string, (...args: unknown[]) => unknown>
  db.close()
  return proto
}

/**
 * Count the SQLite statements `fn` runs (on any better-sqlite3 connection of the process).
 *
 * @example
 * const n = await countSqlite(() => impl.run(1))
 */
export const countSqlite = async (fn: () => Promise<unknown> | unknown): Promise<number> => {
  const proto = statementPrototype()
  const dbProto = Database.prototype as unknown as Record<string, (...args: unknown[]) => unknown>
  let n = 0
  const saved: [Record<string, (...args: unknown[]) => unknown>, string, (...args: unknown[]) => unknown][] = []
  const wrapMethod = (target: Record<string, (...args: unknown[]) => unknown>, name: string) => {
    const original = target[name]
    saved.push([target, name, original])
    target[name] = function (this: unknown, ...args: unknown[]) {
      n++
      return original.apply(this, args)
    }
  }
  for (const m of ['run', 'get', 'all', 'iterate']) wrapMethod(proto, m)
  wrapMethod(dbProto, 'exec')
  try {
    await fn()
  } finally {
    for (const [target, name, original] of saved) target[name] = original
  }
  return n
}
