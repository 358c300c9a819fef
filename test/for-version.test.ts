/**
 * `forVersion` is idempotent and keeps what the user changed: the version gates are one layer of
 * the record, replaced (not stacked) by the next `forVersion`, so for every dialect `d` and
 * versions `a`, `b`: `d.forVersion(a).forVersion(b)` behaves as `d.forVersion(b)`, field by
 * field and statement by statement, and a field overridden with `extend` stays overridden.
 */
import fc from 'fast-check'
import { pipe } from 'fp-ts/lib/function.js'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { extend, supports, type Compilable, type Dialect } from 'recordkit'
import { hasLayer, VERSION_GATES } from 'recordkit/backend'
import { mariadb, mysql } from 'recordkit/dialects/mysql'
import { postgres } from 'recordkit/dialects/postgres'
import { sqlite } from 'recordkit/dialects/sqlite'
import {
  forShare, from, insertInto, intersectAll, limit, limitWithTies, offset, onConflict, orderBy, over, returning, rowNumber,
  select, values,
} from 'recordkit/query'

/** Statements whose SQL (or refusal) differs between versions of some engine. */
const statements: readonly Compilable[] = [
  pipe(from('t'), select('a'), limit(5), offset(10)),
  pipe(from('t'), select('a'), orderBy('a'), limitWithTies(3)),
  pipe(from('t'), select('a'), intersectAll(pipe(from('u'), select('a')))),
  pipe(from('t'), select('a', { rn: over(rowNumber(), { orderBy: ['a'] }) })),
  pipe(from('t'), select('a'), forShare()),
  pipe(insertInto('t'), values({ a: 1, b: 'x' }), onConflict(['a'], ['b']), returning('a')),
]

/** What a dialect does, as data: its plain fields, which functions it supports, the SQL it writes. */
const behaviour = (d: Dialect): unknown => {
  const fields: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(d)) fields[k] = typeof v === 'function' ? supports(d, k as keyof Dialect & string) : v
  const sql = statements.map((q) => pipe(d.compile(q), E.match((e) => `refused: ${e.message}`, (c) => c.sql)))
  return { fields, sql }
}

const versions: Record<string, readonly string[]> = {
  sqlite: ['3.8.0', '3.20.0', '3.24.0', '3.28.0', '3.31.1', '3.35.5', '3.39.0', '3.44.0', '3.45.1', '3.51.2'],
  postgres: ['11.22', '12.17', '13.0', '14.10', '15.5', '16.1', '17.0'],
  mysql: ['5.7.44', '8.0.13', '8.0.19', '8.0.31', '8.4.0', '10.1.48-MariaDB', '10.4.32-MariaDB', '10.6.16-MariaDB', '10.11.19-MariaDB-0+deb12u1'],
}

// A user's change to a field no version gate touches, made before and after specialising.
const marked = (d: Dialect): Dialect => extend(d, (_, base) => ({ quoteIdentifier: (n: string) => `${base.quoteIdentifier(n)}/*u*/` }))

const dialects: readonly (readonly [string, Dialect, readonly string[]])[] = [
  ['sqlite', sqlite, versions.sqlite!],
  ['postgres', postgres, versions.postgres!],
  ['mysql', mysql, versions.mysql!],
  ['mariadb', mariadb, versions.mysql!],
  ['extended sqlite', marked(sqlite), versions.sqlite!],
  ['extended mariadb', marked(mariadb), versions.mysql!],
]

describe('forVersion', () => {
  for (const [name, d, vs] of dialects) {
    it(`${name}: d.forVersion(a).forVersion(b) behaves as d.forVersion(b)`, () => {
      fc.assert(fc.property(fc.constantFrom(...vs), fc.constantFrom(...vs), (a, b) => {
        expect(behaviour(d.forVersion(a).forVersion(b))).toEqual(behaviour(d.forVersion(b)))
      }), { numRuns: 60 })
    })
  }

  it('relaxes gates again: an old version then a new one supports what the new one does', () => {
    const s = sqlite.forVersion('3.20.0').forVersion('3.45.0')
    expect([supports(s, 'returning'), s.maxParams, s.version]).toEqual([true, 32766, '3.45.0'])
    expect(supports(sqlite.forVersion('3.20.0'), 'returning')).toBe(false)
    const p = postgres.forVersion('12.17').forVersion('15.5')
    expect([supports(p, 'fetchWithTies'), supports(p, 'compileMerge')]).toEqual([true, true])
  })

  it('keeps the user\'s overrides, made before or after specialising, across MySQL and MariaDB', () => {
    const before = marked(mariadb).forVersion('10.4.32-MariaDB').forVersion('10.11.19-MariaDB')
    const after = marked(mariadb.forVersion('10.4.32-MariaDB')).forVersion('10.11.19-MariaDB')
    for (const d of [before, after]) {
      expect(d.quoteIdentifier('a')).toBe('`a`/*u*/')
      expect([d.name, supports(d, 'fetchWithTies')]).toEqual(['mariadb', true])
    }
    // An extended MariaDB given a MySQL version becomes MySQL and keeps the override.
    const toMysql = marked(mariadb).forVersion('8.0.35')
    expect([toMysql.name, toMysql.quoteIdentifier('a')]).toEqual(['mysql', '`a`/*u*/'])
    expect(toMysql.forVersion('10.6.16-MariaDB').name).toBe('mariadb')
  })

  it('holds one layer of gates, however many times it is specialised', () => {
    let d: Dialect = sqlite
    for (const v of versions.sqlite!) d = d.forVersion(v)
    expect(hasLayer(d, VERSION_GATES)).toBe(true)
    expect(behaviour(d)).toEqual(behaviour(sqlite.forVersion('3.51.2')))
  })
})
