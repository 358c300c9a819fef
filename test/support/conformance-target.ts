/**
 * What every conformance case assumes of its target, checked in each target's own file: each
 * `connect` on an embedded engine gives a database of its own (the cases create tables with fixed
 * names), and the
 * target's Chinook copy holds the whole sample (the report cases compare exact figures).
 */
import { expect, it } from 'vitest'
import { sql, type Fragment } from 'recordkit'
import { type ConformanceTarget, exec, ok } from 'recordkit/testing'

/**
 * Registers the checks of `target`'s set-up. `ownDatabase` is false for a server target, whose
 * connections share one database (the cases drop their tables there).
 */
export const targetSetUp = (target: ConformanceTarget, ownDatabase = true): void => {
  if (ownDatabase) it(`${target.name}: each connect gives a database of its own`, async () => {
    const a = await target.connect()
    const b = await target.connect()
    try {
      await exec(a, 'CREATE TABLE cf_own (n INTEGER)')
      expect(await ok(a.all(sql`SELECT COUNT(*) AS n FROM cf_own`))).toEqual([{ n: expect.anything() }])
      const seen = await b.all(sql`SELECT COUNT(*) AS n FROM cf_own`)()
      expect(seen._tag).toBe('Left')
    } finally {
      await ok(a.close())
      await ok(b.close())
    }
  }, 60_000)

  const chinook = target.chinook
  if (chinook !== undefined) it(`${target.name}: the Chinook copy holds every track and invoice line`, async () => {
    const db = await chinook!()
    try {
      const [tracks] = await ok(db.all(sql`SELECT COUNT(*) AS n FROM track`))
      const [lines] = await ok(db.all(sql`SELECT COUNT(*) AS n FROM invoice_line`))
      expect([Number(tracks.n), Number(lines.n)]).toEqual([3503, 2240])
    } finally {
      await ok(db.close())
    }
  }, 120_000)
}

/**
 * The rows `query` reads through a new connection of `target`, closed after: for each file's
 * check that its target is the engine, and the kind of database, its name says.
 */
export const readOnce = async (target: ConformanceTarget, query: Fragment): Promise<Record<string, unknown>[]> => {
  const db = await target.connect()
  try {
    return await ok(db.all(query))
  } finally {
    await ok(db.close())
  }
}
