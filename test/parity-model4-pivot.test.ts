/**
 * Join-row columns of a manyToMany, as Laravel's `attach($id, ['role' => ...])` / `withPivot`,
 * Rails' join-model attributes and Django's `through_defaults` give them, on SQLite, PostgreSQL
 * and MariaDB: declared with a codec, written by `attach` and `sync`, checked before any SQL runs
 * (a missing NOT NULL column is a ValidationError naming it), and read back as `pivot` on each
 * loaded row.
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { isDbError, sql } from 'recordkit'
import { date, jsonOf, manyToMany, model, nullable, relate } from 'recordkit/model'
import { fails, ok } from 'recordkit/testing'
import { ENGINES, engineTables } from './support/engine-tables.js'

const Membership = t.intersection([t.type({ role: t.string }), t.partial({ rank: nullable(t.number) })])

const { Team, Person } = relate({
  Team: model({
    table: 'm4p_teams',
    primaryKey: 'id',
    codec: t.type({ id: t.number, name: t.string }),
    relations: {
      members: manyToMany('Person', { through: 'm4p_memberships', from: 'team_id', to: 'person_id', pivot: Membership, pivotColumns: { rank: 'member_rank' } }),
      // The same join table without its columns declared: the database says what is missing.
      bare: manyToMany('Person', { through: 'm4p_memberships', from: 'team_id', to: 'person_id' }),
      // Join-row columns of the types that read differently per engine: a time and a JSON document.
      awarded: manyToMany('Person', {
        through: 'm4p_awards', from: 'team_id', to: 'person_id',
        pivot: t.type({ awardedAt: date, detail: jsonOf(t.type({ note: t.string })), label: jsonOf(t.string) }),
        pivotColumns: { awardedAt: 'awarded_at' },
      }),
    },
  }),
  Person: model({
    table: 'm4p_people',
    primaryKey: 'id',
    codec: t.type({ id: t.number, name: t.string }),
    relations: { teams: manyToMany('Team', { through: 'm4p_memberships', from: 'person_id', to: 'team_id', pivot: Membership, pivotColumns: { rank: 'member_rank' } }) },
  }),
})

const ddl = (engine = 'sqlite'): string[] => [
  `CREATE TABLE m4p_awards (team_id INTEGER NOT NULL, person_id INTEGER NOT NULL, awarded_at ${engine === 'postgres' ? 'TIMESTAMP(3)' : engine === 'mariadb' ? 'DATETIME(3)' : 'TEXT'} NOT NULL, ` +
    `detail ${engine === 'postgres' ? 'JSONB' : engine === 'mariadb' ? 'JSON' : 'TEXT'} NOT NULL, label ${engine === 'postgres' ? 'JSONB' : engine === 'mariadb' ? 'JSON' : 'TEXT'} NOT NULL)`,
  'CREATE TABLE m4p_teams (id INTEGER PRIMARY KEY, name VARCHAR(20) NOT NULL)',
  'CREATE TABLE m4p_people (id INTEGER PRIMARY KEY, name VARCHAR(20) NOT NULL)',
  'CREATE TABLE m4p_memberships (team_id INTEGER NOT NULL, person_id INTEGER NOT NULL, role VARCHAR(20) NOT NULL, member_rank INTEGER, PRIMARY KEY (team_id, person_id))',
]

const memberships = (db: Parameters<typeof Team.all>[0]) =>
  ok(db.all<Record<string, unknown>>(sql`SELECT team_id, person_id, role, member_rank FROM m4p_memberships ORDER BY team_id, person_id`)).then((rows) =>
    rows.map((r) => [Number(r.team_id), Number(r.person_id), r.role, r.member_rank === null ? null : Number(r.member_rank)]))

for (const engine of ENGINES) {
  describe(`join-row columns of a manyToMany on ${engine.name}`, () => {
    const { use } = engineTables(engine, ['m4p_awards', 'm4p_memberships', 'm4p_teams', 'm4p_people'], ddl)
    const seeded = async (ctx: { skip: () => void }) => {
      const db = use(ctx)
      await ok(Team.createMany(db, [{ id: 1, name: 'core' }, { id: 2, name: 'docs' }]))
      await ok(Person.createMany(db, [{ id: 1, name: 'ada' }, { id: 2, name: 'bob' }, { id: 3, name: 'cy' }]))
      return db
    }

    it('attach writes the join-row values, the same for every target or per target; include reads them back as pivot', async (ctx) => {
      const db = await seeded(ctx)
      const [core, docs] = await ok(pipe(Team.query, Team.orderBy('id'), Team.all(db)))
      expect(await ok(Team.attach(db, core, 'members', [{ id: 1 }, { id: 2 }], { role: 'maintainer', rank: 1 }))).toBe(2)
      expect(await ok(Team.attach(db, docs, 'members', [{ id: 1 }, { id: 3 }], (p) => ({ role: p.id === 1 ? 'lead' : 'writer' })))).toBe(2)
      expect(await memberships(db)).toEqual([[1, 1, 'maintainer', 1], [1, 2, 'maintainer', 1], [2, 1, 'lead', null], [2, 3, 'writer', null]])
      const teams = await ok(pipe(Team.query, Team.orderBy('id'), Team.include('members', (q, P) => pipe(q, P.orderBy('id'))), Team.all(db)))
      expect(teams[1].members).toEqual([{ id: 1, name: 'ada', pivot: { role: 'lead', rank: undefined } }, { id: 3, name: 'cy', pivot: { role: 'writer', rank: undefined } }])
      // Typed: a role is a string.
      const role: string = teams[0].members[0].pivot.role
      expect(role).toBe('maintainer')
      // The other side reads the same join rows; each row reached carries its own link's values.
      const ada = await ok(pipe(Person.query, Person.where('id', '=', 1), Person.include('teams', (q, T) => pipe(q, T.orderBy('id'))), Person.all(db)))
      expect(ada[0].teams.map((x) => [x.name, x.pivot.role, x.pivot.rank])).toEqual([['core', 'maintainer', 1], ['docs', 'lead', undefined]])
      // A relation declaring no join-row columns loads its rows as before.
      const bare = await ok(pipe(Team.query, Team.where('id', '=', 1), Team.include('bare'), Team.all(db)))
      expect(bare[0].bare.every((p) => !('pivot' in p))).toBe(true)
    })

    it('join-row times and JSON documents come back as they were written', async (ctx) => {
      const db = await seeded(ctx)
      const core = await ok(Team.findOrFail(db, 1))
      const at = new Date(Date.UTC(2024, 4, 6, 7, 8, 9, 123))
      await ok(Team.attach(db, core, 'awarded', [{ id: 2 }], { awardedAt: at, detail: { note: 'first' }, label: '42' }))
      const [team] = await ok(pipe(Team.query, Team.where('id', '=', 1), Team.include('awarded'), Team.all(db)))
      expect(team.awarded).toEqual([{ id: 2, name: 'bob', pivot: { awardedAt: at, detail: { note: 'first' }, label: '42' } }])
      const when: Date = team.awarded[0].pivot.awardedAt
      expect(when.getTime()).toBe(at.getTime())
    })

    it('sync gives the links it adds the join-row values (Django through_defaults)', async (ctx) => {
      const db = await seeded(ctx)
      const core = await ok(Team.findOrFail(db, 1))
      await ok(Team.attach(db, core, 'members', [{ id: 1 }], { role: 'maintainer' }))
      expect(await ok(Team.sync(db, core, 'members', [{ id: 1 }, { id: 3 }], { role: 'guest', rank: 9 }))).toEqual({ attached: 1, detached: 0 })
      expect(await memberships(db)).toEqual([[1, 1, 'maintainer', null], [1, 3, 'guest', 9]])
    })

    it('a missing NOT NULL join column, a value of the wrong type or an unknown column is a ValidationError naming it; nothing is written', async (ctx) => {
      const db = await seeded(ctx)
      const core = await ok(Team.findOrFail(db, 1))
      const missing = await fails(Team.attach(db, core, 'members', [{ id: 1 }, { id: 2 }], {} as { role: string }))
      expect(missing).toMatchObject({ _tag: 'ValidationError', message: expect.stringContaining('m4p_memberships.role') })
      expect(isDbError(missing, 'ValidationError') && missing.issues.map((i) => [i.path, i.rule])).toEqual([['pivot.role', 'required']])
      const wrong = await fails(Team.attach(db, core, 'members', [{ id: 1 }], { role: 'x', rank: 'high' as unknown as number }))
      expect(isDbError(wrong, 'ValidationError') && wrong.issues.map((i) => [i.path, i.rule])).toEqual([['pivot.rank', '(number | null)']])
      const unknown = await fails(Team.attach(db, core, 'members', [{ id: 1 }], { role: 'x', colour: 'red' } as { role: string }))
      expect(unknown).toMatchObject({ _tag: 'ValidationError', message: expect.stringContaining('colour') })
      // Without a declared pivot, values are refused: they could not be checked.
      const undeclared = Team.attach as unknown as (...a: unknown[]) => ReturnType<typeof Team.attach>
      expect(await fails(undeclared(db, core, 'bare', [{ id: 1 }], { role: 'x' }))).toMatchObject({ _tag: 'ValidationError', message: expect.stringContaining('declares no join-row columns') })
      expect(await memberships(db)).toEqual([])
    })

    it('without the values declared, a NOT NULL join column left out is the NotNullViolation of the database, naming the column', async (ctx) => {
      const db = await seeded(ctx)
      const core = await ok(Team.findOrFail(db, 1))
      const e = await fails(Team.attach(db, core, 'bare', [{ id: 1 }]))
      expect(e).toMatchObject({ _tag: 'NotNullViolation', message: expect.stringContaining('role') })
      expect(await memberships(db)).toEqual([])
    })
  })
}

describe('join-row values on a target with a field named pivot', () => {
  it('are refused where they would overwrite it', async () => {
    const { compose } = await import('recordkit')
    const { sqlite } = await import('recordkit/dialects/sqlite')
    const { betterSqlite3 } = await import('recordkit/drivers/better-sqlite3')
    const { A } = relate({
      A: model({ table: 'a', primaryKey: 'id', codec: t.type({ id: t.number }), relations: { bs: manyToMany('B', { through: 'ab', from: 'a_id', to: 'b_id', pivot: t.type({ role: t.string }) }) } }),
      B: model({ table: 'b', primaryKey: 'id', codec: t.type({ id: t.number, pivot: t.string }) }),
    })
    const db = compose(betterSqlite3({ filename: ':memory:' }), sqlite)
    for (const text of ['CREATE TABLE a (id INTEGER PRIMARY KEY)', 'CREATE TABLE b (id INTEGER PRIMARY KEY, pivot TEXT)', 'CREATE TABLE ab (a_id INTEGER, b_id INTEGER, role TEXT)', 'INSERT INTO a VALUES (1)']) await ok(db.execute(sql.raw(text)))
    const e = await fails(pipe(A.query, A.include('bs'), A.all(db)))
    expect(e).toMatchObject({ _tag: 'QueryError', message: expect.stringContaining('b has a field named pivot') })
    await ok(db.close())
  })
})

describe('join-row values without fp-ts', () => {
  it('promisedModels passes them through to attach and sync', async () => {
    const { compose } = await import('recordkit')
    const { sqlite } = await import('recordkit/dialects/sqlite')
    const { betterSqlite3 } = await import('recordkit/drivers/better-sqlite3')
    const { promisedModels } = await import('recordkit/model')
    const db = compose(betterSqlite3({ filename: ':memory:' }), sqlite)
    for (const text of ddl()) await ok(db.execute(sql.raw(text)))
    const P = promisedModels({ Team, Person })
    const team = await P.Team.create(db, { id: 1, name: 'core' })
    await P.Person.create(db, { id: 1, name: 'ada' })
    expect(await P.Team.attach(db, team, 'members', [{ id: 1 }], { role: 'lead' })).toBe(1)
    expect(await P.Team.sync(db, team, 'members', [], { role: 'lead' })).toEqual({ attached: 0, detached: 1 })
    await ok(db.close())
  })
})
