/**
 * CRUD, the query core, upsert and RETURNING, on any backend.
 */
import { pipe } from 'fp-ts/lib/function.js'
import { isSome } from 'fp-ts/lib/Option.js'
import { describe, expect, it } from '../vitest.js'
import { supports } from '../../dialect.js'
import {
  add, and, as, between, col, count, deleteFrom, eq, from, groupBy, gt, having, ilike, insertInto, isIn, isNotNull, isNull,
  join, leftJoin, like, limit, not, offset, onConflict, or, orderBy, paginate, returning, select, set, sum, update, val, values, where,
  distinct, notIn, exists, subquery, max,
} from '../../query.js'
import { dbError } from '../../errors.js'
import { contains, endsWith, startsWith } from '../../query/text.js'
import { sql } from '../../sql.js'
import { ok, useBackend } from '../harness.js'
import type { CaseGroup } from '../target.js'

const people = [
  { name: 'Ada', email: 'ada@example.com', age: 36, country: 'UK' },
  { name: 'Grace', email: 'grace@example.com', age: 45, country: 'US' },
  { name: 'Linus', email: 'linus@example.com', age: 28, country: 'FI' },
  { name: 'Barbara', email: 'barbara@example.com', age: 52, country: 'US' },
  { name: "O'Brien", email: 'obrien@example.com', age: null, country: 'IE' },
]

const n = (v: unknown): number => Number(v)

export const coreCases: CaseGroup = (target) => {
  describe(`${target.name}: CRUD and the query core`, () => {
    const db = useBackend(target, (t) => ({
      cf_person: `id ${t.id}, name ${t.varchar(100)} NOT NULL, email ${t.varchar(100)} NOT NULL UNIQUE, age ${t.int}, country ${t.varchar(2)}`,
      cf_pet: `id ${t.id}, person_id ${t.int} NOT NULL REFERENCES cf_person (id), name ${t.varchar(100)} NOT NULL`,
      cf_counter: `name ${t.varchar(50)} PRIMARY KEY, hits ${t.int} NOT NULL`,
      cf_text: `id ${t.id}, s ${t.varchar(100)} NOT NULL`,
    }))

    it('inserts one and many rows and counts them', async () => {
      const one = await ok(db().execute(pipe(insertInto('cf_person'), values(people[0]))))
      expect(one.rowsAffected).toBe(1)
      const many = await ok(db().execute(pipe(insertInto('cf_person'), values(people.slice(1)))))
      expect(many.rowsAffected).toBe(4)
      const [row] = await ok(db().all(pipe(from('cf_person'), select(as(count(), 'n')))))
      expect(n(row.n)).toBe(5)
    })

    it('selects with comparison, AND/OR/NOT, IN, BETWEEN, LIKE and IS NULL', async () => {
      const names = async (cond: Parameters<typeof where>[0]) =>
        (await ok(db().all(pipe(from('cf_person'), select('name'), where(cond), orderBy('name'))))).map((r) => r.name)
      expect(await names(eq('country', 'US'))).toEqual(['Barbara', 'Grace'])
      expect(await names(and(eq('country', 'US'), gt('age', 50)))).toEqual(['Barbara'])
      expect(await names(or(eq('country', 'FI'), eq('country', 'IE')))).toEqual(['Linus', "O'Brien"])
      expect(await names(not(eq('country', 'US')))).toEqual(['Ada', 'Linus', "O'Brien"])
      expect(await names(isIn('country', ['UK', 'FI']))).toEqual(['Ada', 'Linus'])
      expect(await names(notIn('country', ['UK', 'FI', 'US']))).toEqual(["O'Brien"])
      expect(await names(isIn('country', []))).toEqual([])
      expect(await names(between('age', 30, 50))).toEqual(['Ada', 'Grace'])
      expect(await names(like('name', 'B%'))).toEqual(['Barbara'])
      expect(await names(ilike('name', 'b%'))).toEqual(['Barbara'])
      expect(await names(isNull('age'))).toEqual(["O'Brien"])
      expect((await names(isNotNull('age'))).length).toBe(4)
      expect(await names({ country: 'US', name: 'Grace' })).toEqual(['Grace'])
      expect(await names(sql`${sql.id('age')} > ${40}`)).toEqual(['Barbara', 'Grace'])
    })

    it('contains, startsWith and endsWith match user text literally: % _ ! \\ and quotes are characters', async () => {
      const texts = ['50% off', '50 off', 'a_b', 'axb', 'C:\\Users\\ada', 'C:Users', 'wow!', 'wow', "it's", 'a\\b', 'ab']
      await ok(db().execute(pipe(insertInto('cf_text'), values(texts.map((s) => ({ s }))))))
      const found = async (cond: Parameters<typeof where>[0]) =>
        (await ok(db().all(pipe(from('cf_text'), select('s'), where(cond), orderBy('id'))))).map((r) => r.s)
      expect(await found(contains('s', '%'))).toEqual(['50% off'])
      expect(await found(contains('s', '_'))).toEqual(['a_b'])
      expect(await found(startsWith('s', 'C:\\'))).toEqual(['C:\\Users\\ada'])
      expect(await found(endsWith('s', '!'))).toEqual(['wow!'])
      expect(await found(contains('s', "'"))).toEqual(["it's"])
      expect(await found(contains('s', 'a\\b'))).toEqual(['a\\b'])
      expect(await found(startsWith('s', '50'))).toEqual(['50% off', '50 off'])
    })

    it('orders, limits, offsets and paginates', async () => {
      const page = (q: ReturnType<typeof from>) => ok(db().all(pipe(q, select('name'))))
      const base = pipe(from('cf_person'), orderBy('name'))
      expect((await page(pipe(base, limit(2)))).map((r) => r.name)).toEqual(['Ada', 'Barbara'])
      expect((await page(pipe(base, limit(2), offset(2)))).map((r) => r.name)).toEqual(['Grace', 'Linus'])
      expect((await page(pipe(base, offset(3)))).map((r) => r.name)).toEqual(['Linus', "O'Brien"])
      expect((await page(pipe(base, paginate({ page: 3, perPage: 2 })))).map((r) => r.name)).toEqual(["O'Brien"])
      const desc = await ok(db().all(pipe(from('cf_person'), select('name'), orderBy('age', 'desc'), where(isNotNull('age')), limit(1))))
      expect(desc[0].name).toBe('Barbara')
    })

    it('groups with HAVING, aggregates and DISTINCT', async () => {
      const rows = await ok(db().all(pipe(
        from('cf_person'), select('country', as(count(), 'n'), as(max('age'), 'oldest')),
        groupBy('country'), having(gt(count(), 1)), orderBy('country'),
      )))
      expect(rows.map((r) => [r.country, n(r.n), n(r.oldest)])).toEqual([['US', 2, 52]])
      const countries = await ok(db().all(pipe(from('cf_person'), select('country'), distinct, orderBy('country'))))
      expect(countries.map((r) => r.country)).toEqual(['FI', 'IE', 'UK', 'US'])
    })

    it('joins (inner and left) with aliases, and subqueries', async () => {
      const ada = await ok(db().first(pipe(from('cf_person'), select('id'), where({ name: 'Ada' }))))
      const grace = await ok(db().first(pipe(from('cf_person'), select('id'), where({ name: 'Grace' }))))
      if (!isSome(ada) || !isSome(grace)) throw new Error('missing people')
      await ok(db().execute(pipe(insertInto('cf_pet'), values([
        { person_id: ada.value.id, name: 'Babbage' }, { person_id: ada.value.id, name: 'Lovelace' }, { person_id: grace.value.id, name: 'Cobol' },
      ]))))
      const inner = await ok(db().all(pipe(
        from('cf_person p'), join('cf_pet x', ['x.person_id', 'p.id']), select('p.name as owner', 'x.name as pet'), orderBy('x.name'),
      )))
      expect(inner).toEqual([{ owner: 'Ada', pet: 'Babbage' }, { owner: 'Grace', pet: 'Cobol' }, { owner: 'Ada', pet: 'Lovelace' }])
      const left = await ok(db().all(pipe(
        from('cf_person p'), leftJoin('cf_pet x', ['x.person_id', 'p.id']), select('p.name', as(count('x.id'), 'pets')),
        groupBy('p.name'), orderBy('p.name'),
      )))
      expect(left.map((r) => [r.name, n(r.pets)])).toEqual([['Ada', 2], ['Barbara', 0], ['Grace', 1], ['Linus', 0], ["O'Brien", 0]])
      const owners = await ok(db().all(pipe(
        from('cf_person p'), select('name'), where(exists(pipe(from('cf_pet x'), select(as(val(1), 'one')), where(eq('x.person_id', col('p.id')))))), orderBy('name'),
      )))
      expect(owners.map((r) => r.name)).toEqual(['Ada', 'Grace'])
      const withCount = await ok(db().all(pipe(
        from('cf_person p'), select('name', as(subquery(pipe(from('cf_pet x'), select(count()), where(eq('x.person_id', col('p.id'))))), 'pets')),
        where({ name: 'Ada' }),
      )))
      expect(n(withCount[0].pets)).toBe(2)
      const inSub = await ok(db().all(pipe(from('cf_person'), select('name'), where(isIn('id', pipe(from('cf_pet'), select('person_id')))), orderBy('name'))))
      expect(inSub.map((r) => r.name)).toEqual(['Ada', 'Grace'])
    })

    it('updates and deletes with WHERE, reporting affected rows', async () => {
      const up = await ok(db().execute(pipe(update('cf_person'), set({ age: add('age', val(1)) }), where(eq('country', 'US')))))
      expect(up.rowsAffected).toBe(2)
      const [g] = await ok(db().all(pipe(from('cf_person'), select('age'), where({ name: 'Grace' }))))
      expect(n(g.age)).toBe(46)
      await ok(db().execute(pipe(insertInto('cf_person'), values({ name: 'Temp', email: 'temp@example.com', age: 1, country: 'XX' }))))
      const del = await ok(db().execute(pipe(deleteFrom('cf_person'), where({ country: 'XX' }))))
      expect(del.rowsAffected).toBe(1)
    })

    it('keeps values containing SQL as data', async () => {
      const evil = "x'); DROP TABLE cf_person; --"
      await ok(db().execute(pipe(insertInto('cf_person'), values({ name: evil, email: 'evil@example.com', country: 'ZZ' }))))
      const rows = await ok(db().all(pipe(from('cf_person'), select('name'), where({ email: 'evil@example.com' }))))
      expect(rows[0].name).toBe(evil)
      await ok(db().execute(pipe(deleteFrom('cf_person'), where({ email: 'evil@example.com' }))))
    })

    it('upserts: do nothing, and update from the proposed row', async () => {
      await ok(db().execute(pipe(insertInto('cf_counter'), values({ name: 'home', hits: 1 }))))
      await ok(db().execute(pipe(insertInto('cf_counter'), values({ name: 'home', hits: 100 }), onConflict(['name'], 'nothing'))))
      let [row] = await ok(db().all(pipe(from('cf_counter'), where({ name: 'home' }))))
      expect(n(row.hits)).toBe(1)
      await ok(db().execute(pipe(insertInto('cf_counter'), values({ name: 'home', hits: 5 }), onConflict(['name'], ['hits']))))
      ;[row] = await ok(db().all(pipe(from('cf_counter'), where({ name: 'home' }))))
      expect(n(row.hits)).toBe(5)
      await ok(db().execute(pipe(insertInto('cf_counter'), values([{ name: 'home', hits: 1 }, { name: 'about', hits: 1 }]), onConflict(['name'], { hits: add(col('cf_counter.hits'), val(10)) }))))
      const all = await ok(db().all(pipe(from('cf_counter'), orderBy('name'))))
      expect(all.map((r) => [r.name, n(r.hits)])).toEqual([['about', 1], ['home', 15]])
    })

    it('returns rows from INSERT, UPDATE and DELETE where the dialect has RETURNING', async (ctx) => {
      const d = db().dialect
      if (!supports(d, 'insertReturning')) {
        const r = await db().compile(pipe(insertInto('cf_person'), values(people[0]), returning('id')))
        expect(r._tag).toBe('Left')
        ctx.skip()
      }
      const ins = await ok(db().all(pipe(insertInto('cf_person'), values([{ name: 'R1', email: 'r1@example.com' }, { name: 'R2', email: 'r2@example.com' }]), returning('id', 'name'))))
      expect(ins.map((r) => r.name)).toEqual(['R1', 'R2'])
      expect(n(ins[1].id)).toBeGreaterThan(n(ins[0].id))
      if (supports(d, 'updateReturning')) {
        const up = await ok(db().all(pipe(update('cf_person'), set({ age: 99 }), where(isIn('name', ['R1', 'R2'])), returning('name', 'age'))))
        expect(up.map((r) => n(r.age))).toEqual([99, 99])
      }
      if (supports(d, 'deleteReturning')) {
        const del = await ok(db().all(pipe(deleteFrom('cf_person'), where(isIn('name', ['R1', 'R2'])), returning('name'))))
        expect(del.map((r) => r.name).sort()).toEqual(['R1', 'R2'])
      }
    })

    it('reports the generated key of a one-row insert', async () => {
      const r = await ok(db().execute(pipe(insertInto('cf_person'), values({ name: 'Key', email: 'key@example.com' }))))
      const [row] = await ok(db().all(pipe(from('cf_person'), select('id'), where({ email: 'key@example.com' }))))
      if (r.insertId !== undefined) expect(n(r.insertId)).toBe(n(row.id))
      else expect(supports(db().dialect, 'insertReturning')).toBe(true)
      await ok(db().execute(pipe(deleteFrom('cf_person'), where({ email: 'key@example.com' }))))
    })

    it('runs prepared queries with named parameters', async () => {
      const { param } = await import('../../query.js')
      const byName = db().prepare(pipe(from('cf_person'), select('email'), where(eq('name', param('name')))))
      expect((await ok(byName.all({ name: 'Ada' })))[0].email).toBe('ada@example.com')
      expect((await ok(byName.all({ name: 'Linus' })))[0].email).toBe('linus@example.com')
      const missing = await byName.all({})()
      expect(missing._tag).toBe('Left')
    })

    it('decodes a prepared query\'s rows on every path, and a decoder that throws is the Left', async () => {
      const { param } = await import('../../query.js')
      const q = pipe(from('cf_person'), select('name', 'email'), where(eq('name', param('name'))))
      const decode = (rows: Record<string, unknown>[]) => rows.map((r) => ({ label: `${String(r.name)} <${String(r.email)}>` }))
      const p = db().prepare(q, { decode })
      const ada = { label: 'Ada <ada@example.com>' }
      expect(await ok(p.all({ name: 'Ada' }))).toEqual([ada])
      expect(await ok(p.first({ name: 'Ada' }))).toEqual({ _tag: 'Some', value: ada })
      expect((await ok(p.execute({ name: 'Ada' }))).rows).toEqual([ada])
      expect(await ok(p.first({ name: 'Nobody' }))).toEqual({ _tag: 'None' })
      if (p.sync !== undefined && db().sync?.ready() === true) {
        expect(p.sync.first({ name: 'Ada' })()).toEqual({ _tag: 'Right', right: { _tag: 'Some', value: ada } })
        expect(p.sync.all({ name: 'Ada' })()).toEqual({ _tag: 'Right', right: [ada] })
      }
      // Inside a transaction too (a connection of its own on a server).
      expect(await ok(db().transaction((tx) => tx.prepare(q, { decode }).all({ name: 'Ada' })))).toEqual([ada])
      const failing = db().prepare(q, { decode: () => { throw dbError('DecodeError', 'no good') } })
      const r = await failing.first({ name: 'Ada' })()
      expect(r._tag === 'Left' && r.left._tag).toBe('DecodeError')
      if (failing.sync !== undefined && db().sync?.ready() === true) {
        const s = failing.sync.all({ name: 'Ada' })()
        expect(s._tag === 'Left' && s.left._tag).toBe('DecodeError')
      }
    })

    it('runs one statement once per set of parameters (executeBatch); in a transaction, all or nothing', async () => {
      const { param } = await import('../../query.js')
      const two = pipe(insertInto('cf_person'), values([{ name: param('n'), email: param('e') }, { name: param('n'), email: param('e') }]))
      const sets = [['B1', 'b1@example.com', 'B2', 'b2@example.com'], ['B3', 'b3@example.com', 'B4', 'b4@example.com']]
      const results = await ok(db().transaction(() => db().executeBatch(two, sets)))
      expect(results.map((r) => r.rowsAffected)).toEqual([2, 2])
      const names = async () => (await ok(db().all(pipe(from('cf_person'), select('name'), where(like('name', 'B_')), orderBy('name'))))).map((r) => r.name)
      expect(await names()).toEqual(['B1', 'B2', 'B3', 'B4'])
      // The second run repeats an email: the unique violation comes back, and nothing is kept.
      const failed = await db().transaction(() => db().executeBatch(two, [['B5', 'b5@example.com', 'B6', 'b6@example.com'], ['B7', 'b1@example.com', 'B8', 'b8@example.com']]))()
      expect(failed._tag === 'Left' && failed.left._tag).toBe('UniqueViolation')
      expect(await names()).toEqual(['B1', 'B2', 'B3', 'B4'])
      expect((await db().executeBatch(two, [['B9']])())._tag).toBe('Left')
      await ok(db().execute(pipe(deleteFrom('cf_person'), where(like('name', 'B_')))))
    })

    it('sums across rows', async () => {
      const [r] = await ok(db().all(pipe(from('cf_person'), select(as(sum('age'), 's')), where(isIn('name', ['Ada', 'Linus'])))))
      expect(n(r.s)).toBe(36 + 28)
    })
  })
}
