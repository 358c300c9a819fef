/**
 * createBackend from a URL, as a new user types one: a SQLite URL that names no file (`sqlite:`,
 * what `sqlite:$DB` becomes when DB is unset) is refused, naming the forms that work, rather
 * than opening a temporary database that vanishes at close (migrations "applied" to nothing).
 */
import { describe, expect, it } from 'vitest'
import { createBackend, isDbError, sql } from 'recordkit'
import { run } from 'recordkit/promise'

describe('a SQLite URL names its file', () => {
  for (const url of ['sqlite:', 'sqlite://', 'SQLITE:', 'sqlite:  ']) {
    it(`refuses ${JSON.stringify(url)}`, async () => {
      const r = await createBackend(url)()
      expect(r._tag).toBe('Left')
      if (r._tag === 'Left') {
        expect(isDbError(r.left, 'ConnectionError')).toBe(true)
        expect(r.left.message).toBe(`the URL ${JSON.stringify(url)} names no SQLite database file: give sqlite:./app.db, sqlite:///absolute/path.db or sqlite::memory:`)
      }
    })
  }

  it('still opens sqlite::memory:', async () => {
    const db = await run(createBackend('sqlite::memory:'))
    expect(await run(db.all(sql`SELECT 1 AS one`))).toEqual([{ one: 1 }])
    await run(db.close())
  })
})
