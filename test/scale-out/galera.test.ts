/**
 * A 3-node MariaDB Galera cluster on loopback (galera-4): writes on any node, certification
 * conflicts as a typed retryable error resolved by `galeraRetry`, and a node stopped mid-load
 * without losing an acknowledged write.
 */
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connect, run, sql, wrap, type Backend, type DbError, type DbErrorTag } from 'recordkit'
import { mysql } from 'recordkit/dialects/mysql'
import { galeraDriver, galeraRetry } from 'recordkit/scale-out'
import { allSettledWithin, clusterAvailable, lockPorts, startGalera, waitFor, type GaleraCluster } from '../support/cluster.js'

const BASE_PORT = 24300

describe.skipIf(!clusterAvailable('galera'))('a 3-node Galera cluster', () => {
  let cluster: GaleraCluster
  let nodes: Backend[]

  const open = (i: number) => run(connect(galeraDriver({ url: cluster.nodes[i].url('rk'), max: 6, syncWait: 1, pool: { connectTimeout: 3000 } }), mysql))

  let release: (() => void) | undefined

  beforeAll(async () => {
    release = await lockPorts('galera')
    cluster = await startGalera(BASE_PORT, 3)
    const admin = await run(connect(galeraDriver({ url: cluster.nodes[0].url('mysql'), max: 1 }), mysql))
    await run(admin.execute(sql`CREATE DATABASE rk`))
    await admin.close()()
    nodes = [await open(0), await open(1), await open(2)]
    await run(nodes[0].execute(sql`CREATE TABLE counter (id INT PRIMARY KEY, n INT NOT NULL)`))
    await run(nodes[0].execute(sql`CREATE TABLE entry (id INT PRIMARY KEY, node INT NOT NULL)`))
    await run(nodes[0].execute(sql`INSERT INTO counter VALUES (1, 0), (2, 0), (3, 0)`))
  }, 400_000)

  afterAll(async () => {
    for (const n of nodes ?? []) await n.close()()
    await cluster?.destroy()
    release?.()
  })

  it('takes writes on any node and shows them on every node', async () => {
    for (let i = 0; i < 3; i++) await run(nodes[i].execute(sql`INSERT INTO entry VALUES (${i + 1}, ${i})`))
    for (let i = 0; i < 3; i++) {
      const ids = (await run(nodes[i].all<{ id: number }>(sql`SELECT id FROM entry ORDER BY id`))).map((r) => r.id)
      expect(ids, `node ${i}`).toEqual([1, 2, 3])
    }
  })

  /** A transaction on node 0 that updates row 1, while a transaction on node 1 updates it and commits first. */
  const conflicting = (db: Backend, calls: { n: number }) => db.transaction((tx) => async () => {
    calls.n++
    await run(tx.execute(sql`UPDATE counter SET n = n + 1 WHERE id = 1`))
    if (calls.n === 1) await run(nodes[1].transaction((other) => other.execute(sql`UPDATE counter SET n = n + 10 WHERE id = 1`)))
    return E.right(calls.n)
  })()

  it('reports a certification conflict as a typed, retryable Deadlock', async () => {
    const before = (await run(nodes[0].all<{ n: number }>(sql`SELECT n FROM counter WHERE id = 1`)))[0].n
    const calls = { n: 0 }
    const r = await conflicting(nodes[0], calls)
    expect(E.isLeft(r) && r.left._tag).toBe('Deadlock')
    expect(E.isLeft(r) && r.left.code).toBe(1213)
    // Only the transaction that committed first counts.
    expect((await run(nodes[0].all<{ n: number }>(sql`SELECT n FROM counter WHERE id = 1`)))[0].n).toBe(before + 10)
  })

  it('resolves it with galeraRetry: the whole transaction runs again and commits', async () => {
    const before = (await run(nodes[2].all<{ n: number }>(sql`SELECT n FROM counter WHERE id = 1`)))[0].n
    const retried: DbError[] = []
    const calls = { n: 0 }
    const r = await conflicting(wrap(nodes[0], galeraRetry({ backoff: () => 5, onRetry: (e) => retried.push(e) })), calls)
    expect(r).toEqual(E.right(2))
    expect(retried.map((e) => e._tag)).toEqual(['Deadlock'])
    expect((await run(nodes[2].all<{ n: number }>(sql`SELECT n FROM counter WHERE id = 1`)))[0].n).toBe(before + 11)
  })

  it('counts every acknowledged increment when all nodes update the same rows at once', async () => {
    const dbs = nodes.map((n) => wrap(n, galeraRetry({ attempts: 30, backoff: (k) => Math.min(5 * k, 50) * Math.random() })))
    const before = (await run(nodes[0].all<{ s: number }>(sql`SELECT CAST(SUM(n) AS SIGNED) AS s FROM counter WHERE id IN (2, 3)`)))[0].s
    const tasks = Array.from({ length: 120 }, (_, i) => dbs[i % 3].transaction((tx) => async () => {
      await run(tx.execute(sql`UPDATE counter SET n = n + 1 WHERE id = 2`))
      return tx.execute(sql`UPDATE counter SET n = n + 1 WHERE id = 3`)()
    })())
    const settled = await allSettledWithin(tasks, 120_000)
    const results = settled.map((s) => (s.status === 'fulfilled' ? s.value : E.left(s.reason as DbError)))
    const acknowledged = results.filter(E.isRight).length
    const failures = new Set(results.filter(E.isLeft).map((r) => r.left._tag))
    expect([...failures].every((t) => t === 'Deadlock')).toBe(true) // a conflict that outlasted the retries, if any
    expect(acknowledged).toBeGreaterThan(100)
    const after = (await run(nodes[1].all<{ s: number }>(sql`SELECT CAST(SUM(n) AS SIGNED) AS s FROM counter WHERE id IN (2, 3)`)))[0].s
    expect(Number(after) - Number(before)).toBe(2 * acknowledged)
  })

  it('loses no acknowledged write when a node is killed mid-load, and the node catches up when it comes back', async () => {
    const acknowledged: number[] = []
    const errors: DbErrorTag[] = []
    let killed = false
    let id = 1000
    const worker = async (node: number) => {
      for (let i = 0; i < 60; i++) {
        const mine = id++
        const r = await nodes[node].execute(sql`INSERT INTO entry VALUES (${mine}, ${node})`)()
        if (E.isRight(r)) acknowledged.push(mine)
        else errors.push(r.left._tag)
        if (node === 0 && i === 15 && !killed) {
          killed = true
          await cluster.nodes[2].stop('SIGKILL')
        }
      }
    }
    const settled = await allSettledWithin(Array.from({ length: 6 }, (_, w) => worker(w % 3)), 120_000)
    expect(settled.every((s) => s.status === 'fulfilled')).toBe(true)
    expect(killed).toBe(true)
    expect(errors.length).toBeGreaterThan(0) // node 2's writes after the kill
    expect(new Set(errors)).toEqual(new Set(['ConnectionError']))
    for (const i of [0, 1]) {
      const stored = new Set((await run(nodes[i].all<{ id: number }>(sql`SELECT id FROM entry WHERE id >= 1000`))).map((r) => r.id))
      expect(acknowledged.filter((a) => !stored.has(a)), `node ${i}`).toEqual([])
    }
    await cluster.nodes[2].start()
    await waitFor('node 2 answering again', async () => E.isRight(await nodes[2].execute(sql`SELECT 1`)()), 60_000)
    const rejoined = new Set((await run(nodes[2].all<{ id: number }>(sql`SELECT id FROM entry WHERE id >= 1000`))).map((r) => r.id))
    expect(acknowledged.filter((a) => !rejoined.has(a))).toEqual([])
  })
})
