/**
 * A backend that cannot connect says so, and names no statement the user never ran: before, a
 * PostgreSQL URL naming a database that does not exist failed with the statement recordkit sends
 * first (`SQL: SELECT current_setting('server_version') AS v`) in its message. Both server
 * drivers now say "cannot get a connection: ..." with the server's reason and code.
 */
import { describe, expect, it } from 'vitest'
import { createBackend, type DbError } from 'recordkit'
import { MYSQL_URL, PG_URL, serverAvailable } from './support/servers.js'

const failure = async (url: string): Promise<DbError> => {
  const r = await createBackend(url)()
  if (r._tag === 'Right') {
    await r.right.close()()
    throw new Error(`${url} connected`)
  }
  return r.left
}

describe('connecting fails with the reason, without a statement', () => {
  it('PostgreSQL: a database that does not exist, a role that does not exist, nothing listening', async (ctx) => {
    if (!(await serverAvailable('postgres'))) return ctx.skip()
    const noDb = await failure(PG_URL.replace(/\/[^/]*$/, '/h4_no_such_database'))
    expect(noDb).toMatchObject({ _tag: 'ConnectionError', code: '3D000', message: 'cannot get a connection: database "h4_no_such_database" does not exist' })
    expect((noDb as { sql?: string }).sql).toBeUndefined()
    const u = new URL(PG_URL)
    u.username = 'h4_no_such_role'
    expect(await failure(u.toString())).toMatchObject({ _tag: 'ConnectionError', code: '28000', message: 'cannot get a connection: role "h4_no_such_role" does not exist' })
    const refused = await failure('postgres://postgres@127.0.0.1:1/test')
    expect(refused).toMatchObject({ _tag: 'ConnectionError', code: 'ECONNREFUSED', message: expect.stringMatching(/^cannot get a connection: connect ECONNREFUSED 127\.0\.0\.1:1$/) })
  })

  it('MariaDB says the same', async (ctx) => {
    if (!(await serverAvailable('mariadb'))) return ctx.skip()
    const noDb = await failure(MYSQL_URL.replace(/\/[^/]*$/, '/h4_no_such_database'))
    expect(noDb).toMatchObject({ _tag: 'ConnectionError', message: "cannot get a connection: Unknown database 'h4_no_such_database'" })
    expect((noDb as { sql?: string }).sql).toBeUndefined()
  })
})
