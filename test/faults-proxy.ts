/**
 * A TCP proxy in front of a test server that loses what a test tells it to: the answer to the
 * next thing a client sends (the server did the work, the client never hears of it), or the
 * next thing itself (the server never sees it), or every connection at once while it is down.
 * Only the proxy's own sockets are cut: the server is never stopped or reconfigured.
 */
import net from 'node:net'

/** What the proxy does with the next chunk a client sends. */
type Trap = { readonly kind: 'answer' | 'request'; readonly match: (chunk: Buffer) => boolean; readonly done: () => void; readonly passing: number }

export interface FaultProxy {
  /** The proxy's port on 127.0.0.1. */
  readonly port: number
  /** The URL of `url` with the proxy's host and port. */
  readonly url: (url: string) => string
  /**
   * The next chunk a client sends that `match`es reaches the server, and the server's answer to
   * it is lost: the connection is cut the moment the server answers (or once `passing` bytes of
   * the answer went through: a result cut part way). Resolves when it was cut.
   */
  readonly loseAnswer: (match?: (chunk: Buffer) => boolean, passing?: number) => Promise<void>
  /** The next chunk a client sends that `match`es never reaches the server: the connection is cut instead. */
  readonly loseRequest: (match?: (chunk: Buffer) => boolean) => Promise<void>
  /**
   * Stop passing anything either way, keeping every connection open (a host that froze, a
   * network that drops packets without a word); `thaw` passes again what was held.
   */
  readonly freeze: () => void
  readonly thaw: () => void
  /** Cut every connection and refuse new ones (as a server that is down does). */
  readonly down: () => Promise<void>
  /** Accept connections again, on the same port. */
  readonly up: () => Promise<void>
  /** How many connections are open through the proxy. */
  readonly open: () => number
  /** How many bytes clients have sent through the proxy so far. */
  readonly sent: () => number
  readonly close: () => Promise<void>
}

const any = (): boolean => true

/** A chunk holding `text` (a statement's SQL, as both wire protocols send it). */
export const holding = (text: string) => (chunk: Buffer): boolean => chunk.includes(text)

/** The chunk with which the bytes clients sent (from the moment the trap is set) pass `n`. */
export const pastBytes = (n: number) => {
  let seen = 0
  return (chunk: Buffer): boolean => (seen += chunk.length) > n
}

/**
 * Start a proxy to `target` (host:port taken from a postgres:// or mysql:// URL).
 *
 * @example
 * const proxy = await faultProxy(PG_URL)
 * const db = await run(connect(postgresJs({ url: proxy.url(PG_URL) }), postgres))
 * const cut = proxy.loseAnswer(holding('COMMIT'))
 */
export const faultProxy = async (target: string): Promise<FaultProxy> => {
  const to = new URL(target)
  const toPort = Number(to.port || (to.protocol.startsWith('postgres') ? 5432 : 3306))
  const pairs = new Set<readonly [net.Socket, net.Socket]>()
  let trap: Trap | undefined
  let port = 0
  let sent = 0
  let frozen: (() => void)[] | undefined

  const cut = (pair: readonly [net.Socket, net.Socket]): void => {
    pair[0].destroy()
    pair[1].destroy()
    pairs.delete(pair)
  }

  const accept = (client: net.Socket): void => {
    const up = net.connect(toPort, to.hostname)
    const pair = [client, up] as const
    pairs.add(pair)
    let losing: { readonly done: () => void; passing: number } | undefined
    client.on('error', () => cut(pair))
    up.on('error', () => cut(pair))
    client.on('close', () => cut(pair))
    up.on('close', () => cut(pair))
    client.on('data', (chunk: Buffer) => {
      if (frozen !== undefined) {
        frozen.push(() => up.write(chunk))
        return
      }
      sent += chunk.length
      const t = trap
      if (t !== undefined && t.match(chunk)) {
        trap = undefined
        if (t.kind === 'request') {
          cut(pair)
          t.done()
          return
        }
        losing = { done: t.done, passing: t.passing }
      }
      up.write(chunk)
    })
    up.on('data', (chunk: Buffer) => {
      if (frozen !== undefined) {
        frozen.push(() => client.write(chunk))
        return
      }
      if (losing !== undefined) {
        if (losing.passing > 0) {
          const through = chunk.subarray(0, losing.passing)
          losing.passing -= through.length
          client.write(through)
          if (losing.passing > 0) return
        }
        // The server's side goes at once; the part that went through reaches the client first.
        const done = losing.done
        losing = undefined
        up.removeAllListeners('data')
        up.removeAllListeners('close')
        up.destroy()
        client.end(() => {
          cut(pair)
          done()
        })
        return
      }
      client.write(chunk)
    })
  }

  const server = net.createServer(accept)
  const listen = (on: number): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(on, '127.0.0.1', () => {
        server.off('error', reject)
        port = (server.address() as net.AddressInfo).port
        resolve()
      })
    })
  const stop = (): Promise<void> => {
    for (const pair of [...pairs]) cut(pair)
    return new Promise<void>((resolve) => server.close(() => resolve()))
  }
  await listen(0)
  const armed = (kind: Trap['kind'], match: (chunk: Buffer) => boolean, passing = 0): Promise<void> =>
    new Promise<void>((resolve) => { trap = { kind, match, done: resolve, passing } })

  return {
    port,
    url: (url) => {
      const u = new URL(url)
      u.hostname = '127.0.0.1'
      u.port = String(port)
      return u.toString()
    },
    loseAnswer: (match = any, passing = 0) => armed('answer', match, passing),
    loseRequest: (match = any) => armed('request', match),
    freeze: () => { frozen ??= [] },
    thaw: () => {
      const held = frozen ?? []
      frozen = undefined
      for (const pass of held) pass()
    },
    down: stop,
    up: () => listen(port),
    open: () => pairs.size,
    sent: () => sent,
    close: async () => {
      trap = undefined
      if (server.listening) await stop()
    },
  }
}
