/**
 * A manyToMany that reads some of its join rows, in an order of their own, as Laravel's
 * `belongsToMany(...)->wherePivot('role', 'lead')->orderByPivot('rank')` (and `withPivotValue`)
 * give it, on SQLite, PostgreSQL and MariaDB: `wherePivot` keeps the links whose join-row values
 * match (loads, counts, filters and `related`), `orderByPivot` orders the loaded rows by join-row
 * values; `attach` and `sync` through such a relation write its values and touch no other link.
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { sql, wrap } from 'recordkit'
import { hasManyThrough, manyToMany, model, nullable, relate } from 'recordkit/model'
import { fails, ok } from 'recordkit/testing'
import { ENGINES, engineTables } from './support/engine-tables.js'

const Membership = t.intersection([t.type({ role: t.string }), t.partial({ rank: nullable(t.number) })])
const through = { through: 'm5w_memberships', from: 'team_id', to: 'person_id', pivot: Membership, pivotColumns: { rank: 'member_rank' } } as const

const { Team, Person } = relate({
  Team: model({
    table: 'm5w_teams',
    primaryKey: 'id',
    codec: t.type({ id: t.number, name: t.string }),
    relations: {
      members: manyToMany('Person', through),
      leads: manyToMany('Person', { ...through, wherePivot: { role: 'lead' }, orderByPivot: ['rank'] }),
      staff: manyToMany('Person', { ...through, wherePivot: { role: ['lead', 'member'] } }),
      ranked: manyToMany('Person', { ...through, orderByPivot: [['rank', 'desc'], 'role'] }),
    },
  }),
  Person: model({
    table: 'm5w_people',
    primaryKey: 'id',
    codec: t.type({ id: t.number, name: t.string }),
    relations: {
      leadOf: manyToMany('Team', { through: 'm5w_memberships', from: 'person_id', to: 'team_id', pivot: Membership, pivotColumns: { rank: 'member_rank' }, wherePivot: { role: 'lead' } }),
      // The members of the teams one leads: the first leg keeps to the lead links.
      ledPeople: hasManyThrough('Person', { through: 'leadOf', source: 'members' }),
    },
  }),
})

const ddl = (): string[] => [
  'CREATE TABLE m5w_teams (id INTEGER PRIMARY KEY, name VARCHAR(20) NOT NULL)',
  'CREATE TABLE m5w_people (id INTEGER PRIMARY KEY, name VARCHAR(20) NOT NULL)',
  'CREATE TABLE m5w_memberships (team_id INTEGER NOT NULL, person_id INTEGER NOT NULL, role VARCHAR(20) NOT NULL, member_rank INTEGER, PRIMARY KEY (team_id, person_id))',
]

type Db = Parameters<typeof Team.all>[0]
const memberships = (db: Db) =>
  ok(db.all<Record<string, unknown>>(sql`SELECT team_id, person_id, role, member_rank FROM m5w_memberships ORDER BY team_id, person_id`)).then((rows) =>
    rows.map((r) => [Number(r.team_id), Number(r.person_id), r.role, r.member_rank === null ? null : Number(r.member_rank)]))

for (const engine of ENGINES) {
  describe(`join-row conditions and order of a manyToMany on ${engine.name}`, () => {
    const { use } = engineTables(engine, ['m5w_memberships', 'm5w_teams', 'm5w_people'], ddl)
    const seeded = async (ctx: { skip: () => void }) => {
      const db = use(ctx)
      await ok(Team.createMany(db, [{ id: 1, name: 'core' }, { id: 2, name: 'docs' }]))
      await ok(Person.createMany(db, [{ id: 1, name: 'ada' }, { id: 2, name: 'bob' }, { id: 3, name: 'cy' }, { id: 4, name: 'dan' }, { id: 5, name: 'eve' }]))
      const [core, docs] = await ok(pipe(Team.query, Team.orderBy('id'), Team.all(db)))
      await ok(Team.attach(db, core, 'members', [{ id: 1 }, { id: 2 }, { id: 3 }, { id: 5 }], (p) => (
        p.id === 1 ? { role: 'lead', rank: 2 } : p.id === 2 ? { role: 'member', rank: 1 } : p.id === 3 ? { role: 'lead', rank: 1 } : { role: 'guest', rank: 3 })))
      await ok(Team.attach(db, docs, 'members', [{ id: 2 }], { role: 'lead', rank: 1 }))
      return { db, core, docs }
    }

    it('loads the links whose join-row values match, in the join-row order, one statement a level', async (ctx) => {
      const { db } = await seeded(ctx)
      let statements = 0
      const counted = wrap(db, { all: (next) => (q) => { statements++; return next(q) } })
      const teams = await ok(pipe(Team.query, Team.orderBy('id'), Team.include('leads'), Team.all(counted)))
      expect(statements).toBe(2)
      expect(teams.map((x) => x.leads.map((p) => [p.name, p.pivot.role, p.pivot.rank]))).toEqual([[['cy', 'lead', 1], ['ada', 'lead', 2]], [['bob', 'lead', 1]]])
      const ranked = await ok(pipe(Team.query, Team.where('id', '=', 1), Team.include('ranked'), Team.include('staff', (q, P) => pipe(q, P.orderBy('id'))), Team.all(db)))
      // rank descending, then role: eve (3), ada (2), cy (lead, 1), bob (member, 1).
      expect(ranked[0].ranked.map((p) => p.name)).toEqual(['eve', 'ada', 'cy', 'bob'])
      expect(ranked[0].staff.map((p) => p.name)).toEqual(['ada', 'bob', 'cy'])
      // A modifier's order comes after the relation's, a modifier's limit holds per parent.
      const firstLead = await ok(pipe(Team.query, Team.orderBy('id'), Team.include('leads', (q, P) => pipe(q, P.orderBy('name'), P.limit(1))), Team.all(db)))
      expect(firstLead.map((x) => x.leads.map((p) => p.name))).toEqual([['cy'], ['bob']])
    })

    it('counts, filters and related keep to the matching links', async (ctx) => {
      const { db, core } = await seeded(ctx)
      const counted = await ok(pipe(Team.query, Team.orderBy('id'), Team.withCount('leads'), Team.withCount('members'), Team.all(db)))
      expect(counted.map((x) => [x.leadsCount, x.membersCount])).toEqual([[2, 4], [1, 1]])
      expect(await ok(pipe(Team.query, Team.whereHas('leads', (q, P) => pipe(q, P.where('name', '=', 'bob'))), Team.pluck(db, 'id')))).toEqual([2])
      expect(await ok(pipe(Team.query, Team.whereHas('leads', (q, P) => pipe(q, P.where('name', '=', 'eve'))), Team.pluck(db, 'id')))).toEqual([])
      expect(await ok(pipe(Team.related(core, 'leads'), Person.orderBy('id'), Person.pluck(db, 'name')))).toEqual(['ada', 'cy'])
      expect(await ok(pipe(Team.related(core, 'staff'), Person.count(db)))).toBe(3)
    })

    it('a through relation with such a leg keeps to its links', async (ctx) => {
      const { db } = await seeded(ctx)
      const people = await ok(pipe(Person.query, Person.orderBy('id'), Person.include('ledPeople', (q, P) => pipe(q, P.orderBy('id'))), Person.withCount('ledPeople'), Person.all(db)))
      expect(people.map((p) => [p.name, p.ledPeople.map((x) => x.name), p.ledPeopleCount])).toEqual([
        ['ada', ['ada', 'bob', 'cy', 'eve'], 4], ['bob', ['bob'], 1], ['cy', ['ada', 'bob', 'cy', 'eve'], 4], ['dan', [], 0], ['eve', [], 0],
      ])
      const bob = await ok(Person.findOrFail(db, 2))
      expect(await ok(pipe(Person.related(bob, 'ledPeople'), Person.pluck(db, 'name')))).toEqual(['bob'])
    })

    it('attach, sync and detach through it write its values and touch no other link', async (ctx) => {
      const { db, core } = await seeded(ctx)
      // The role is the relation's; the rank is given.
      expect(await ok(Team.attach(db, core, 'leads', [{ id: 4 }], { rank: 7 } as never))).toBe(1)
      expect((await memberships(db)).filter((m) => m[0] === 1)).toEqual([[1, 1, 'lead', 2], [1, 2, 'member', 1], [1, 3, 'lead', 1], [1, 4, 'lead', 7], [1, 5, 'guest', 3]])
      // Leads become ada and dan: cy is detached, bob (a member) and eve (a guest) are left alone.
      expect(await ok(Team.sync(db, core, 'leads', [{ id: 1 }, { id: 4 }]))).toEqual({ attached: 0, detached: 1 })
      expect((await memberships(db)).filter((m) => m[0] === 1)).toEqual([[1, 1, 'lead', 2], [1, 2, 'member', 1], [1, 4, 'lead', 7], [1, 5, 'guest', 3]])
      expect(await ok(Team.updatePivot(db, core, 'leads', [{ id: 2 }, { id: 4 }], { rank: 9 }))).toBe(1)
      expect(await ok(Team.detach(db, core, 'leads'))).toBe(2)
      expect(await memberships(db)).toEqual([[1, 2, 'member', 1], [1, 5, 'guest', 3], [2, 2, 'lead', 1]])
      // A value against the relation's is refused before any SQL.
      const e = await fails(Team.attach(db, core, 'leads', [{ id: 3 }], { role: 'member' }))
      expect(e).toMatchObject({ _tag: 'ValidationError', message: expect.stringContaining('m5w_teams.leads') })
      expect(await memberships(db)).toEqual([[1, 2, 'member', 1], [1, 5, 'guest', 3], [2, 2, 'lead', 1]])
    })
  })
}

describe('join-row conditions and order are checked where the relation is written', () => {
  it('name declared pivot fields and hold values of their types', () => {
    expect(() => manyToMany('Person', { ...through, wherePivot: { colour: 'red' } as never })).toThrow(/m5w_memberships.*colour/)
    expect(() => manyToMany('Person', { ...through, wherePivot: { rank: 'high' } as never })).toThrow(/rank/)
    expect(() => manyToMany('Person', { ...through, orderByPivot: ['colour'] })).toThrow(/colour/)
    expect(() => manyToMany('Person', { through: 'm5w_memberships', from: 'team_id', to: 'person_id', wherePivot: { role: 'lead' } as never })).toThrow(/pivot/)
  })
})
