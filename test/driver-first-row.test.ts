/**
 * `Driver.firstRow`: `first` of built and prepared queries on PostgreSQL reads its row in the
 * driver's own continuation, outside transactions, and only while nothing replaced the driver's
 * `execute`. Every answer is the one `execute` would give, reduced to its first row.
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as O from 'fp-ts/lib/Option.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Backend, connect, extend, logging, sql, wrap } from 'recordkit'
import { postgres } from 'recordkit/dialects/postgres'
import { postgresJs } from 'recordkit/drivers/postgres'
import { run } from 'recordkit/promise'
import { eq, from, orderBy, param, select, where } from 'recordkit/query'
import { PG_URL, serverAvailable } from './support/servers.js'

const available = await serverAvailable('postgres')
const T = 'rk_first_row_points'

describe.skipIf(!available)('Driver.firstRow on PostgreSQL', () => {
  let db: Backend
  beforeAll(async () => {
    db = await run(connect(postgresJs({ url: PG_URL, max: 2 }), postgres))
    await run(db.execute(sql`DROP TABLE IF EXISTS ${sql.id(T)}`))
    await run(db.execute(sql`CREATE TABLE ${sql.id(T)} (id int PRIMARY KEY, label text NOT NULL, at timestamptz NOT NULL)`))
    await run(db.execute(sql`INSERT INTO ${sql.id(T)} SELECT g, 'p' || g, timestamptz '2024-02-29 12:00:00.25+00' + g * interval '1 hour' FROM generate_series(1, 50) g`))
  })
  afterAll(async () => {
    await run(db.execute(sql`DROP TABLE IF EXISTS ${sql.id(T)}`))
    await run(db.close())
  })

  const byId = (id: number) => pipe(from(T), select('id', 'label', 'at'), where(eq('id', id)))

  it('the driver offers it for its own execute; an extended driver whose execute is replaced does not get it used', () => {
    const d = postgresJs({ url: PG_URL })
    expect(d.firstRow?.of).toBe(d.execute)
    const replaced = extend(d, (_, base) => ({ execute: (q) => base.execute(q) }))
    expect(replaced.firstRow?.of).not.toBe(replaced.execute)
  })

  it('answers Some of the first row, None when there is none, as all()[0] would; timestamps read to the millisecond', async () => {
    const one = await run(db.first(byId(7)))
    expect(one).toEqual(O.some({ id: 7, label: 'p7', at: new Date('2024-02-29T19:00:00.250Z') }))
    expect(await run(db.first(byId(999)))).toEqual(O.none)
    const rows = await run(db.all(pipe(from(T), select('id'), orderBy('id', 'desc'))))
    expect(await run(db.first(pipe(from(T), select('id'), orderBy('id', 'desc'))))).toEqual(O.some(rows[0]))
    const p = db.prepare(pipe(from(T), select('id', 'label'), where(eq('id', param('id')))))
    const answers = await Promise.all(Array.from({ length: 60 }, (_, i) => run(p.first({ id: i + 1 }))))
    expect(answers.map((o) => (O.isSome(o) ? o.value.id : null))).toEqual(Array.from({ length: 60 }, (_, i) => (i < 50 ? i + 1 : null)))
  })

  it('a failing statement is the same typed Left, with its SQL, as execute gives', async () => {
    const bad = pipe(from('rk_first_row_missing'), select('id'), where(eq('id', 1)))
    const viaFirst = await db.first(bad)()
    const viaExecute = await db.execute(bad)()
    expect(E.isLeft(viaFirst) && E.isLeft(viaExecute)).toBe(true)
    if (E.isLeft(viaFirst) && E.isLeft(viaExecute)) {
      expect([viaFirst.left._tag, viaFirst.left.code, viaFirst.left.sql]).toEqual([viaExecute.left._tag, viaExecute.left.code, viaExecute.left.sql])
      expect(viaFirst.left.sql).toContain('rk_first_row_missing')
    }
  })

  it('middleware that replaced execute still sees every first, built or prepared', async () => {
    const seen: string[] = []
    const watched = wrap(db, logging((e) => { seen.push(e.sql) }))
    await run(watched.first(byId(1)))
    await run(watched.prepare(pipe(from(T), select('id'), where(eq('id', param('id'))))).first({ id: 2 }))
    expect(seen).toHaveLength(2)
    expect(seen.every((s) => s.includes(T))).toBe(true)
  })

  it('a driver whose execute was replaced is served by that execute, first included', async () => {
    let calls = 0
    const counted = extend(postgresJs({ url: PG_URL, max: 1 }), (_, base) => ({ execute: (q) => { calls++; return base.execute(q) } }))
    const other = await run(connect(counted, postgres))
    try {
      const before = calls
      expect(await run(other.first(byId(3)))).toEqual(O.some(expect.objectContaining({ id: 3 })))
      expect(calls - before).toBe(1)
    } finally {
      await run(other.close())
    }
  })

  it('inside a transaction, first runs on the transaction\'s connection and sees its uncommitted rows', async () => {
    const r = await run(db.transaction((tx) => pipe(
      tx.execute(sql`INSERT INTO ${sql.id(T)} VALUES (100, 'inside', now())`),
      TE.chain(() => TE.sequenceArray([tx.first(byId(100)), db.first(byId(100))])),
    ), { isolation: 'read committed' }))
    expect(O.isSome(r[0]) && r[0].value.label).toBe('inside')
    // The outer handle inside the callback is the transaction too (its context).
    expect(O.isSome(r[1])).toBe(true)
    await run(db.execute(sql`DELETE FROM ${sql.id(T)} WHERE id = 100`))
  })

  it('a first on a closed backend is a ConnectionError, not a hang', async () => {
    const other = await run(connect(postgresJs({ url: PG_URL, max: 1 }), postgres))
    await run(other.first(byId(1)))
    await run(other.close())
    const r = await other.first(byId(1))()
    expect(E.isLeft(r) && r.left._tag).toBe('ConnectionError')
  })
})
