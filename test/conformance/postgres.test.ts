import { describe, expect, it } from 'vitest'
import { connect, sql } from 'recordkit'
import { postgres } from 'recordkit/dialects/postgres'
import { postgresJs } from 'recordkit/drivers/postgres'
import { conformance, ok, type ConformanceTarget } from 'recordkit/testing'
import { PG_CHINOOK_URL } from '../support/chinook.js'
import { PG_URL, serverAvailable } from '../support/servers.js'
import { readOnce, targetSetUp } from '../support/conformance-target.js'

const available = await serverAvailable('postgres')

describe.skipIf(!available)('conformance on PostgreSQL', () => {
  const target: ConformanceTarget = {
    name: 'postgres',
    dialect: 'postgres',
    connect: () => ok(connect(postgresJs({ url: PG_URL, max: 4 }), postgres)),
    // Loaded once per run into the `chinook` database by the global set-up.
    chinook: () => ok(connect(postgresJs({ url: PG_CHINOOK_URL, max: 2 }), postgres)),
    notes: {
      decimal: 'NUMERIC comes back as a string with the column scale (no precision is lost)',
      date: 'DATE comes back as a Date at midnight UTC',
    },
  }
  conformance(target)
  targetSetUp(target, false)
  it('runs on a PostgreSQL server (not PGlite), which the notes above describe', async () => {
    const [v] = await readOnce(target, sql`SELECT version() AS v, current_setting('server_version_num')::int AS num`)
    expect(String(v.v)).toMatch(/^PostgreSQL \d+/)
    expect(String(v.v)).not.toContain('PGlite')
    expect(Number(v.num)).toBeGreaterThanOrEqual(130000)
  })
})
