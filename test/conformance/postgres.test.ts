import { describe } from 'vitest'
import { connect } from '../../src/compose.js'
import { postgres } from '../../src/dialects/postgres.js'
import { postgresJs } from '../../src/drivers/postgres.js'
import { conformance, ok } from '../../src/testing/index.js'
import { PG_URL, serverAvailable } from '../support/servers.js'

const available = await serverAvailable('postgres')

describe.skipIf(!available)('conformance on PostgreSQL', () => {
  conformance({
    name: 'postgres',
    connect: () => ok(connect(postgresJs({ url: PG_URL, max: 4 }), postgres)),
    notes: {
      decimal: 'NUMERIC comes back as a string with the column scale (no precision is lost)',
      date: 'DATE comes back as a Date at midnight UTC',
    },
  })
})
