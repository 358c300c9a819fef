import { describe, expect, it } from 'vitest'
import { connect, sql } from 'recordkit'
import { mysql } from 'recordkit/dialects/mysql'
import { mysql2 } from 'recordkit/drivers/mysql2'
import { conformance, ok, type ConformanceTarget } from 'recordkit/testing'
import { MYSQL_CHINOOK_URL } from '../support/chinook.js'
import { MYSQL_URL, serverAvailable } from '../support/servers.js'
import { readOnce, targetSetUp } from '../support/conformance-target.js'

const available = await serverAvailable('mariadb')

describe.skipIf(!available)('conformance on MariaDB', () => {
  const target: ConformanceTarget = {
    name: 'mariadb',
    dialect: 'mariadb',
    connect: () => ok(connect(mysql2({ url: MYSQL_URL, max: 4 }), mysql)),
    // Loaded once per run into the `chinook` database by the global set-up.
    chinook: () => ok(connect(mysql2({ url: MYSQL_CHINOOK_URL, max: 2 }), mysql)),
    notes: {
      boolean: 'BOOLEAN is TINYINT(1): true comes back as 1',
      int64: 'BIGINT comes back as a decimal string (no precision is lost)',
      decimal: 'DECIMAL comes back as a string with the column scale',
      date: "DATE comes back as the 'YYYY-MM-DD' string",
      timestamp: 'DATETIME has no time zone: instants are stored and read in UTC',
    },
  }
  conformance(target)
  targetSetUp(target, false)
  it('runs on a MariaDB server, which the notes above describe', async () => {
    const [v] = await readOnce(target, sql`SELECT VERSION() AS v`)
    expect(String(v.v)).toContain('MariaDB')
  })
})
