/**
 * A streamed MariaDB result whose connection is lost before the result's end is a
 * ConnectionError, never a normal end with fewer rows: killed from another session
 * (`KILL CONNECTION`), or its socket destroyed while the stream is paused between reads.
 */
import net from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Backend, connect, type DbError, sql } from 'recordkit'
import { mysql } from 'recordkit/dialects/mysql'
import { mysql2 } from 'recordkit/drivers/mysql2'
import { run } from 'recordkit/promise'
import { MYSQL_URL, serverAvailable } from './support/servers.js'

const mariaUp = await serverAvailable('mariadb')

const TOTAL = 100_000

/** Read a stream to its end; what it read, and how it ended. */
const readAll = async (
  rows: AsyncIterable<Record<string, unknown>>,
  after: (first: Record<string, unknown>) => Promise<void>,
): Promise<{ read: number; error?: DbError }> => {
  let read = 0
  try {
    for await (const row of rows) {
      read++
      if (read === 2_000) await after(row)
    }
    return { read }
  } catch (e) {
    return { read, error: e as DbError }
  }
}

describe.skipIf(!mariaUp)('a MariaDB stream whose connection is lost', () => {
  let admin: Backend
  beforeAll(async () => {
    admin = await run(connect(mysql2({ url: MYSQL_URL, max: 1 }), mysql))
  })
  afterAll(async () => {
    if (admin !== undefined) await run(admin.close())
  })

  const BIG = "SELECT seq AS n, CONNECTION_ID() AS cid, REPEAT('x', 200) AS pad FROM seq_1_to_100000"
  const big = sql.raw(BIG)

  for (const prepare of [true, false]) {
    it(`fails with ConnectionError when its session is killed (prepare: ${prepare})`, async () => {
      const db = await run(connect(mysql2({ url: MYSQL_URL, max: 2, prepare }), mysql))
      try {
        const out = await readAll(db.stream(big, { batchSize: 100 }), async (first) => {
          await run(admin.execute({ sql: `KILL CONNECTION ${Number(first.cid)}`, params: [] }))
          await new Promise((r) => setTimeout(r, 100))
        })
        expect(out.read).toBeLessThan(TOTAL)
        expect(out.error?._tag).toBe('ConnectionError')
        expect(out.error?.sql).toContain('seq_1_to_100000')
        // The pool goes on with a fresh connection.
        expect(await run(db.all(sql`SELECT 1 AS one`))).toEqual([{ one: 1 }])
      } finally {
        await run(db.close())
      }
    })

    it(`fails with ConnectionError when its socket is destroyed between reads (prepare: ${prepare})`, async () => {
      const sockets: net.Socket[] = []
      // Every connection's socket is kept, to be destroyed under the stream.
      const db = await run(connect(mysql2({
        url: MYSQL_URL, max: 1, prepare,
        pool: {
          stream: () => {
            const u = new URL(MYSQL_URL)
            const s = net.connect({ host: u.hostname, port: Number(u.port || 3306) })
            sockets.push(s)
            return s
          },
        },
      }), mysql))
      try {
        const out = await readAll(db.stream(big, { batchSize: 100 }), async () => {
          for (const s of sockets) s.destroy()
        })
        expect(out.read).toBeLessThan(TOTAL)
        expect(out.error?._tag).toBe('ConnectionError')
        expect(await run(db.all(sql`SELECT 1 AS one`))).toEqual([{ one: 1 }])
      } finally {
        await run(db.close())
      }
    })
  }

  it('a stream started on a reserved connection the server has already closed fails at once', async () => {
    const driver = mysql2({ url: MYSQL_URL, max: 2, acquireTimeout: 1000 })
    try {
      const held = await run(driver.reserve())
      const id = Number((await run(held.execute({ sql: 'SELECT CONNECTION_ID() AS id', params: [] }))).rows[0].id)
      await run(admin.execute({ sql: `KILL CONNECTION ${id}`, params: [] }))
      await new Promise((r) => setTimeout(r, 200))
      const read = (async () => {
        let n = 0
        for await (const batch of held.stream({ sql: 'SELECT seq FROM seq_1_to_10', params: [] })) n += batch.length
        return n
      })()
      const timeout = new Promise<'waited'>((r) => setTimeout(() => r('waited'), 3000).unref())
      const out = await Promise.race([read.then((n) => ({ n }), (e: DbError) => e), timeout])
      expect(out).toMatchObject({ _tag: 'ConnectionError', sql: 'SELECT seq FROM seq_1_to_10' })
      await held.release()
    } finally {
      await run(driver.close({ timeout: 100 }))
    }
  })

  it('leaving a stream of a reserved connection early, after its session was killed, does not wait for ever', async () => {
    const driver = mysql2({ url: MYSQL_URL, max: 2, acquireTimeout: 1000 })
    try {
      const held = await run(driver.reserve())
      const left = (async () => {
        let n = 0
        for await (const batch of held.stream({ sql: BIG, params: [] }, { batchSize: 100 })) {
          n += batch.length
          if (n >= 2_000) {
            await run(admin.execute({ sql: `KILL CONNECTION ${Number(batch[0].cid)}`, params: [] }))
            await new Promise((r) => setTimeout(r, 200))
            break
          }
        }
        return 'left'
      })()
      const timeout = new Promise<'waited'>((r) => setTimeout(() => r('waited'), 3000).unref())
      expect(await Promise.race([left.catch((e: DbError) => e._tag), timeout])).toBe('left')
      // The connection is gone: its next statement says so.
      const next = await held.execute({ sql: 'SELECT 1', params: [] })()
      expect(next).toMatchObject({ _tag: 'Left', left: { _tag: 'ConnectionError' } })
      await held.release()
    } finally {
      await run(driver.close({ timeout: 100 }))
    }
  })

  it('a stream read to its end is whole', async () => {
    const db = await run(connect(mysql2({ url: MYSQL_URL, max: 1 }), mysql))
    try {
      const out = await readAll(db.stream(big, { batchSize: 1000 }), async () => {})
      expect(out).toEqual({ read: TOTAL })
    } finally {
      await run(db.close())
    }
  })
})
