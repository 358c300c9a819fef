/**
 * Models printed from a database say what its columns hold, as Django's `inspectdb` writes
 * `DecimalField(max_digits=10, decimal_places=2)` and a `through` model's fields: a DECIMAL(p,s)
 * column is a `decimalOf(p, s)` field (which checks the digits on input), and a join table's own
 * columns (a role, a rank, a time) are the `pivot` of the manyToMany relations through it, with
 * `pivotColumns` where the fields are renamed, read back from SQLite, PostgreSQL and MariaDB.
 */
import { pipe } from 'fp-ts/lib/function.js'
import { describe, expect, it } from 'vitest'
import { run, sql } from 'recordkit'
import * as d from 'recordkit/schema'
import { ENGINES } from './support/engine-tables.js'

const teams = pipe(d.createTable('m5p_teams'), d.column('id', 'integer', { primaryKey: true }), d.column('name', 'varchar(20)', { notNull: true }))
const people = pipe(d.createTable('m5p_people'), d.column('id', 'integer', { primaryKey: true }))
const memberships = pipe(
  d.createTable('m5p_memberships'),
  d.column('team_id', 'integer', { notNull: true, references: 'm5p_teams.id' }),
  d.column('person_id', 'integer', { notNull: true, references: 'm5p_people.id' }),
  d.column('role', 'varchar(20)', { notNull: true }),
  d.column('member_rank', 'integer'),
  d.column('share', 'decimal(5,2)', { notNull: true, default: 0 }),
  d.primaryKey(['team_id', 'person_id']),
)
const prices = pipe(
  d.createTable('m5p_prices'),
  d.column('id', 'integer', { primaryKey: true }),
  d.column('amount', 'decimal(10,2)', { notNull: true }),
  d.column('units', 'decimal(7)'),
)
const tables = [teams.table, people.table, memberships.table, prices.table]

describe('printModels writes decimalOf and pivot', () => {
  it('a DECIMAL(p,s) column is decimalOf(p, s); DECIMAL(p) is decimalOf(p, 0)', () => {
    const text = d.printModels(tables)
    expect(text).toContain('  amount: decimalOf(10, 2),\n')
    expect(text).toContain('  units: nullable(decimalOf(7, 0)),\n')
    expect(text).toMatch(/import \{[^}]*\bdecimalOf\b[^}]*\} from 'recordkit\/model'/)
    // Plain io-ts codecs stay text.
    expect(d.printModels(tables, { codecs: 'io-ts' })).toContain('  amount: t.string,\n')
  })

  it("a join table's own columns are the pivot of both manyToMany relations, required or not as create would take them", () => {
    const text = d.printModels(tables)
    const pivot = 'pivot: t.intersection([t.type({ role: t.string }), t.partial({ member_rank: nullable(integer), share: decimalOf(5, 2) })])'
    expect(text).toContain(`m5pPeoples: manyToMany('M5pPeople', { through: 'm5p_memberships', from: 'team_id', to: 'person_id', ${pivot} })`)
    expect(text).toContain(`m5pTeams: manyToMany('M5pTeams', { through: 'm5p_memberships', from: 'person_id', to: 'team_id', ${pivot} })`)
    const camel = d.printModels(tables, { fields: 'camelCase' })
    expect(camel).toContain("pivot: t.intersection([t.type({ role: t.string }), t.partial({ memberRank: nullable(integer), share: decimalOf(5, 2) })]), pivotColumns: { memberRank: 'member_rank' } })")
  })

  it('a join table of its two keys alone gets no pivot', () => {
    const bare = pipe(
      d.createTable('m5p_links'),
      d.column('team_id', 'integer', { notNull: true, references: 'm5p_teams.id' }),
      d.column('person_id', 'integer', { notNull: true, references: 'm5p_people.id' }),
      d.primaryKey(['team_id', 'person_id']),
    ).table
    const text = d.printModels([teams.table, people.table, bare])
    expect(text).toContain("manyToMany('M5pPeople', { through: 'm5p_links', from: 'team_id', to: 'person_id' })")
    expect(text).not.toContain('pivot')
  })
})

for (const engine of ENGINES) {
  describe(`printModels of a schema read back from ${engine.name}`, () => {
    const names = ['m5p_memberships', 'm5p_prices', 'm5p_teams', 'm5p_people']
    it('writes decimalOf and the pivot from the columns introspected', async (ctx) => {
      const db = await engine.connect()
      if (db === undefined) return ctx.skip()
      const dropAll = async () => {
        for (const table of names) await run(db.execute(sql`DROP TABLE IF EXISTS ${sql.id(table)}`))
      }
      try {
        await dropAll()
        for (const t of [teams, people, memberships, prices]) await run(d.apply(db, t))
        const schema = await run(d.introspect(db))
        const text = d.printModels(schema.tables.filter((t) => names.includes(t.name)))
        expect(text).toContain('  amount: decimalOf(10, 2),\n')
        expect(text).toContain('  units: nullable(decimalOf(7, 0)),\n')
        expect(text).toContain("through: 'm5p_memberships', from: 'team_id', to: 'person_id', pivot: t.intersection([t.type({ role: t.string }), t.partial({ member_rank: nullable(integer), share: decimalOf(5, 2) })]) })")
      } finally {
        await dropAll()
        await run(db.close())
      }
    })
  })
}
