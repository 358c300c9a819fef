/**
 * Writing the join-row values of links that exist, as Laravel's `sync([id => [...]])`,
 * `syncWithPivotValues`, `syncWithoutDetaching` and `updateExistingPivot` do, on SQLite,
 * PostgreSQL and MariaDB: `sync` with `{ updateKept: true }` gives the links it keeps the values
 * too (by default it leaves them as they are, as Django's `through_defaults`), `{ detaching: false }`
 * adds links without removing any, and `updatePivot` sets some join-row values of existing links.
 * Values are checked by the relation's pivot codec before any SQL runs.
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { isDbError, sql, wrap } from 'recordkit'
import { hasMany, manyToMany, model, nullable, promisedModel, relate } from 'recordkit/model'
import { fails, ok } from 'recordkit/testing'
import { ENGINES, engineTables } from './support/engine-tables.js'

const Membership = t.intersection([t.type({ role: t.string }), t.partial({ rank: nullable(t.number) })])

const { Team, Person } = relate({
  Team: model({
    table: 'm5s_teams',
    primaryKey: 'id',
    codec: t.type({ id: t.number, name: t.string }),
    relations: {
      members: manyToMany('Person', { through: 'm5s_memberships', from: 'team_id', to: 'person_id', pivot: Membership, pivotColumns: { rank: 'member_rank' } }),
      bare: manyToMany('Person', { through: 'm5s_memberships', from: 'team_id', to: 'person_id' }),
      owners: hasMany('Person', 'id'),
    },
  }),
  Person: model({ table: 'm5s_people', primaryKey: 'id', codec: t.type({ id: t.number, name: t.string }) }),
})

const ddl = (): string[] => [
  'CREATE TABLE m5s_teams (id INTEGER PRIMARY KEY, name VARCHAR(20) NOT NULL)',
  'CREATE TABLE m5s_people (id INTEGER PRIMARY KEY, name VARCHAR(20) NOT NULL)',
  'CREATE TABLE m5s_memberships (team_id INTEGER NOT NULL, person_id INTEGER NOT NULL, role VARCHAR(20) NOT NULL, member_rank INTEGER, PRIMARY KEY (team_id, person_id))',
]

type Db = Parameters<typeof Team.all>[0]
const memberships = (db: Db) =>
  ok(db.all<Record<string, unknown>>(sql`SELECT team_id, person_id, role, member_rank FROM m5s_memberships ORDER BY team_id, person_id`)).then((rows) =>
    rows.map((r) => [Number(r.team_id), Number(r.person_id), r.role, r.member_rank === null ? null : Number(r.member_rank)]))

for (const engine of ENGINES) {
  describe(`join-row values of kept links on ${engine.name}`, () => {
    const { use } = engineTables(engine, ['m5s_memberships', 'm5s_teams', 'm5s_people'], ddl)
    const seeded = async (ctx: { skip: () => void }) => {
      const db = use(ctx)
      await ok(Team.createMany(db, [{ id: 1, name: 'core' }, { id: 2, name: 'docs' }]))
      await ok(Person.createMany(db, [{ id: 1, name: 'ada' }, { id: 2, name: 'bob' }, { id: 3, name: 'cy' }]))
      const core = await ok(Team.findOrFail(db, 1))
      await ok(Team.attach(db, core, 'members', [{ id: 1 }, { id: 2 }], { role: 'maintainer', rank: 1 }))
      // Another team's link to the same person is never touched.
      await ok(Team.attach(db, await ok(Team.findOrFail(db, 2)), 'members', [{ id: 1 }], { role: 'writer' }))
      return { db, core }
    }

    it('sync with updateKept gives the kept links the values too, and says how many', async (ctx) => {
      const { db, core } = await seeded(ctx)
      const r = await ok(Team.sync(db, core, 'members', [{ id: 1 }, { id: 3 }], { role: 'guest', rank: 9 }, { updateKept: true }))
      expect(r).toEqual({ attached: 1, detached: 1, updated: 1 })
      expect(await memberships(db)).toEqual([[1, 1, 'guest', 9], [1, 3, 'guest', 9], [2, 1, 'writer', null]])
      // Per target: a field left out keeps its value on a kept link.
      const again = await ok(Team.sync(db, core, 'members', [{ id: 1 }, { id: 3 }], (p) => ({ role: p.id === 1 ? 'lead' : 'member' }), { updateKept: true }))
      expect(again).toEqual({ attached: 0, detached: 0, updated: 2 })
      expect(await memberships(db)).toEqual([[1, 1, 'lead', 9], [1, 3, 'member', 9], [2, 1, 'writer', null]])
      const [team] = await ok(pipe(Team.query, Team.where('id', '=', 1), Team.include('members', (q, P) => pipe(q, P.orderBy('id'))), Team.all(db)))
      expect(team.members.map((m) => m.pivot)).toEqual([{ role: 'lead', rank: 9 }, { role: 'member', rank: 9 }])
    })

    it('sync without updateKept leaves the kept links as they are (Django through_defaults)', async (ctx) => {
      const { db, core } = await seeded(ctx)
      const r = await ok(Team.sync(db, core, 'members', [{ id: 1 }, { id: 3 }], { role: 'guest' }))
      expect(r).toEqual({ attached: 1, detached: 1 })
      expect('updated' in r).toBe(false)
      expect(await memberships(db)).toEqual([[1, 1, 'maintainer', 1], [1, 3, 'guest', null], [2, 1, 'writer', null]])
    })

    it('sync with detaching: false adds the missing links and removes none (syncWithoutDetaching)', async (ctx) => {
      const { db, core } = await seeded(ctx)
      const r = await ok(Team.sync(db, core, 'members', [{ id: 3 }, { id: 1 }], { role: 'guest' }, { detaching: false, updateKept: true }))
      expect(r).toEqual({ attached: 1, detached: 0, updated: 1 })
      expect(await memberships(db)).toEqual([[1, 1, 'guest', 1], [1, 2, 'maintainer', 1], [1, 3, 'guest', null], [2, 1, 'writer', null]])
    })

    it('updatePivot sets the values given on the links named, and no other column or link', async (ctx) => {
      const { db, core } = await seeded(ctx)
      expect(await ok(Team.updatePivot(db, core, 'members', [{ id: 2 }], { rank: 5 }))).toBe(1)
      expect(await memberships(db)).toEqual([[1, 1, 'maintainer', 1], [1, 2, 'maintainer', 5], [2, 1, 'writer', null]])
      expect(await ok(Team.updatePivot(db, core, 'members', [{ id: 1 }, { id: 2 }], (p) => ({ role: `r${p.id}`, rank: null })))).toBe(2)
      expect(await memberships(db)).toEqual([[1, 1, 'r1', null], [1, 2, 'r2', null], [2, 1, 'writer', null]])
      // A target not linked updates nothing.
      expect(await ok(Team.updatePivot(db, core, 'members', [{ id: 3 }], { role: 'x' }))).toBe(0)
      expect(await ok(Team.updatePivot(db, core, 'members', [], { role: 'x' }))).toBe(0)
      expect(await memberships(db)).toEqual([[1, 1, 'r1', null], [1, 2, 'r2', null], [2, 1, 'writer', null]])
    })

    it('values are checked before any SQL runs: a ValidationError naming the column, nothing written', async (ctx) => {
      const { db, core } = await seeded(ctx)
      const before = await memberships(db)
      let statements = 0
      const counted = wrap(db, {
        all: (next) => (q) => { statements++; return next(q) },
        execute: (next) => (q) => { statements++; return next(q) },
      })
      const wrong = await fails(Team.updatePivot(counted, core, 'members', [{ id: 1 }], { rank: 'high' as unknown as number }))
      expect(isDbError(wrong, 'ValidationError') && wrong.issues.map((i) => [i.path, i.rule])).toEqual([['pivot.rank', '(number | null)']])
      const unknown = await fails(Team.updatePivot(counted, core, 'members', [{ id: 1 }], { colour: 'red' } as never))
      expect(unknown).toMatchObject({ _tag: 'ValidationError', message: expect.stringContaining('colour') })
      const empty = await fails(Team.updatePivot(counted, core, 'members', [{ id: 1 }], {}))
      expect(empty).toMatchObject({ _tag: 'ValidationError', message: expect.stringContaining('m5s_teams.members') })
      const perTarget = await fails(Team.sync(counted, core, 'members', [{ id: 1 }, { id: 3 }], (p) => (p.id === 3 ? { role: 7 as unknown as string } : { role: 'ok' }), { updateKept: true }))
      expect(isDbError(perTarget, 'ValidationError') && perTarget.issues.map((i) => i.path)).toEqual(['targets.1.pivot.role'])
      const undeclared = Team.updatePivot as unknown as (...a: unknown[]) => ReturnType<typeof Team.updatePivot>
      expect(await fails(undeclared(counted, core, 'bare', [{ id: 1 }], { role: 'x' }))).toMatchObject({ _tag: 'ValidationError', message: expect.stringContaining('declares no join-row columns') })
      expect(await fails(undeclared(counted, core, 'owners', [{ id: 1 }], { role: 'x' }))).toMatchObject({ _tag: 'QueryError', message: expect.stringContaining('m5s_teams.owners') })
      expect(statements).toBe(0)
      expect(await memberships(db)).toEqual(before)
      // Typed: the values are the pivot's fields, each optional.
      // @ts-expect-error a rank is a number
      expect(() => Team.updatePivot(db, core, 'members', [{ id: 1 }], { rank: 'x' })).not.toThrow()
    })

    it('the Promise face takes the same options and updatePivot', async (ctx) => {
      const { db, core } = await seeded(ctx)
      const P = promisedModel(Team)
      expect(await P.sync(db, core, 'members', [{ id: 1 }], { role: 'solo' }, { updateKept: true, detaching: false })).toEqual({ attached: 0, detached: 0, updated: 1 })
      expect(await P.updatePivot(db, core, 'members', [{ id: 2 }], { rank: 3 })).toBe(1)
      expect(await memberships(db)).toEqual([[1, 1, 'solo', 1], [1, 2, 'maintainer', 3], [2, 1, 'writer', null]])
    })
  })
}
