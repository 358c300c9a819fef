/**
 * Empty statements on PostgreSQL through postgres.js: text with nothing but whitespace,
 * semicolons and comments, in any order (a comment after a `;`, nested block comments), which
 * the server answers with no command (EmptyQueryResponse). They are answered as what they are,
 * no rows, and not taken for a statement whose connection closed before its answer
 * (CONNECTION_LOST), which an answer with no command means for any other statement.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { postgresJs } from 'recordkit/drivers/postgres'
import { PG_URL, serverAvailable } from './support/servers.js'

const available = await serverAvailable('postgres')

/** What came back: the rows and count of a success, or the error's tag and code. */
const outcome = (r: { _tag: string; right?: { rows: unknown[]; rowsAffected: number }; left?: { _tag: string; code?: unknown } }) =>
  r._tag === 'Right' ? { rows: r.right!.rows, rowsAffected: r.right!.rowsAffected } : `${r.left!._tag} ${String(r.left!.code)}`

describe.skipIf(!available)('postgres.js: empty statements', () => {
  const driver = postgresJs({ url: PG_URL, max: 2 })
  afterAll(async () => {
    await driver.close({ timeout: 1000 })()
  })

  const empty = [
    '; -- trailing',
    '/* a */ ; /* b */',
    '/* a /* b */ c */',
    ';;\n-- one\n/* two /* three */ */ ;\r\n',
    '-- only a comment',
    ' ; ',
  ]

  it.each(empty)('%j is answered with no rows', async (text) => {
    const r = await driver.execute({ sql: text, params: [] })()
    expect(outcome(r as never)).toEqual({ rows: [], rowsAffected: 0 })
  })

  it('a statement after such comments is run and answered as itself', async () => {
    const r = await driver.execute({ sql: '/* a /* b */ c */ ; -- note\nSELECT $1::int AS one', params: [1] })()
    expect(outcome(r as never)).toEqual({ rows: [{ one: 1 }], rowsAffected: 0 })
  })

  it('a normal statement is answered with its rows', async () => {
    const r = await driver.execute({ sql: 'SELECT 2 AS two', params: [] })()
    expect(outcome(r as never)).toEqual({ rows: [{ two: 2 }], rowsAffected: 0 })
  })
})
