/**
 * SQLite has no decimal type: `cast(x, 'decimal(p,s)')` rounds a REAL, which keeps 15 significant
 * digits exactly. Within that it reads back exact decimal text, as on the other engines; a wider
 * decimal (decimal(20,2)) is refused when the statement is compiled, where it gave
 * '12345678901234568' for 12345678901234567.89 without a word.
 */
import { pipe } from 'fp-ts/lib/function.js'
import { describe, expect, it } from 'vitest'
import { compose, run } from 'recordkit'
import { sqlite } from 'recordkit/dialects/sqlite'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'
import { as, cast, select, selectOnly, val } from 'recordkit/query'

describe('cast to decimal on SQLite', () => {
  const db = compose(betterSqlite3({ filename: ':memory:' }), sqlite)
  const q = (text: string, type: string) => pipe(selectOnly(), select(as(cast(val(text), type), 'd')))

  it('reads back exact decimal text within 15 significant digits', async () => {
    expect(await run(db.all(q('1234567890123.45', 'decimal(15,2)')))).toEqual([{ d: '1234567890123.45' }])
    expect(await run(db.all(q('2.675', 'decimal(10,2)')))).toEqual([{ d: expect.stringMatching(/^2\.6[78]$/) }])
  })

  it('refuses a wider decimal, naming it, rather than changing the value', async () => {
    const r = await db.all(q('12345678901234567.89', 'decimal(20,2)'))()
    expect(r._tag).toBe('Left')
    if (r._tag === 'Left') {
      expect(r.left._tag).toBe('UnsupportedFeature')
      expect(r.left.message).toContain('DECIMAL(20, 2)')
    }
  })
})
