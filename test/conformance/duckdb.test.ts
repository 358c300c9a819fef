import { expect, it } from 'vitest'
import { connect, sql } from 'recordkit'
import { type ColumnTypes, conformance, exec, loadChinook, ok, type ConformanceTarget } from 'recordkit/testing'
import { duckdb, duckdbNodeApi } from '../../src/contrib/duckdb/index.js'
import { readOnce, targetSetUp } from '../support/conformance-target.js'

/** DuckDB has no SERIAL or identity column: generated keys come from a sequence. */
const duckdbTypes: ColumnTypes = {
  id: "INTEGER PRIMARY KEY DEFAULT nextval('cf_id')", int: 'INTEGER', bigint: 'BIGINT', text: 'VARCHAR', varchar: (n) => `VARCHAR(${n})`,
  bool: 'BOOLEAN', decimal: 'DECIMAL(30,10)', double: 'DOUBLE', date: 'DATE', timestamp: 'TIMESTAMP', timestamptz: 'TIMESTAMPTZ',
  json: 'JSON', uuid: 'UUID', blob: 'BLOB',
}

const target: ConformanceTarget = {
  name: 'duckdb',
  dialect: 'duckdb',
  connect: async () => {
    const db = await ok(connect(duckdbNodeApi({ path: ':memory:' }), duckdb))
    await exec(db, 'CREATE SEQUENCE cf_id')
    return db
  },
  chinook: async () => {
    const db = await ok(connect(duckdbNodeApi({ path: ':memory:' }), duckdb))
    await ok(loadChinook(db))
    return db
  },
  columnTypes: duckdbTypes,
  notes: {
    decimal: 'DECIMAL comes back as a string with the column scale (no precision is lost)',
    date: 'DATE comes back as a Date at midnight UTC',
  },
}
conformance(target)
targetSetUp(target)
it('runs on DuckDB, in memory', async () => {
  expect(await readOnce(target, sql`SELECT library_version AS v FROM pragma_version()`)).toEqual([{ v: expect.stringMatching(/^v1\./) }])
  expect(await readOnce(target, sql`SELECT path FROM duckdb_databases() WHERE database_name = current_database()`)).toEqual([{ path: null }])
})
