/**
 * A SELECT whose result would have two columns of one name (a join selecting `p.id` and `c.id`)
 * hands over objects keyed by column name, where one of the two values is lost. The dialects
 * refuse it before it runs, naming the column, on every engine and whether or not the shape was
 * compiled before; what stays allowed (aliases, `*`, subqueries read by position) runs as before.
 */
import { pipe } from 'fp-ts/lib/function.js'
import { describe, expect, it } from 'vitest'
import { isDbError, run, sql } from 'recordkit'
import { as, col, eq, exists, from, isIn, join, select, unionAll, where } from 'recordkit/query'
import { ENGINES, engineTables } from './support/engine-tables.js'

for (const engine of ENGINES) {
  describe(`columns of one name in a result on ${engine.name}`, () => {
    const { use } = engineTables(engine, ['qon_c', 'qon_p'], () => [
      'CREATE TABLE qon_p (id INTEGER PRIMARY KEY, name VARCHAR(20))',
      'CREATE TABLE qon_c (id INTEGER PRIMARY KEY, p_id INTEGER, name VARCHAR(20))',
    ])
    const seed = async (db: ReturnType<typeof use>) => {
      await run(db.execute(sql.raw("INSERT INTO qon_p (id, name) VALUES (1, 'parent')")))
      await run(db.execute(sql.raw("INSERT INTO qon_c (id, p_id, name) VALUES (7, 1, 'child')")))
    }
    const joined = () => pipe(from('qon_p'), join('qon_c', eq('qon_c.p_id', col('qon_p.id'))))

    it('refuses two columns of one name, naming it, before anything runs (it handed over the child\'s id as the only id)', async (ctx) => {
      const db = use(ctx)
      await seed(db)
      for (let i = 0; i < 3; i++) {
        const r = await db.all(pipe(joined(), select('qon_p.id', 'qon_c.id', 'qon_c.name')))()
        expect(r._tag).toBe('Left')
        if (r._tag === 'Left') {
          expect(isDbError(r.left, 'QueryError')).toBe(true)
          expect(r.left.message).toMatch(/two columns named "id" \(the 1st and the 2nd selected\)/)
        }
      }
      const aliased = await run(db.all(pipe(joined(), select('qon_p.name', as(col('qon_c.name'), 'childName')))))
      expect(aliased).toEqual([{ name: 'parent', childName: 'child' }])
    })

    it('refuses an alias that repeats a column name, and the first branch of a set operation', async (ctx) => {
      const db = use(ctx)
      await seed(db)
      const r = await db.all(pipe(joined(), select('qon_p.name', 'qon_c.id as name')))()
      expect(r._tag === 'Left' && r.left.message).toMatch(/two columns named "name"/)
      const u = await db.all(pipe(from('qon_p'), select('id', 'name as id'), unionAll(pipe(from('qon_c'), select('id', 'p_id')))))()
      expect(u._tag === 'Left' && u.left.message).toMatch(/two columns named "id"/)
    })

    it('takes what cannot lose a value: aliases, *, subqueries read by position', async (ctx) => {
      const db = use(ctx)
      await seed(db)
      expect(await run(db.all(pipe(joined(), select('qon_p.id', 'qon_c.id as childId', 'qon_c.name'))))).toEqual([{ id: 1, childId: 7, name: 'child' }])
      expect(await run(db.all(pipe(joined(), select('qon_p.*', 'qon_c.id as childId'))))).toEqual([{ id: 1, name: 'parent', childId: 7 }])
      // EXISTS and IN read their subquery's columns by position: names may repeat there.
      const sub = pipe(from('qon_c'), select('qon_c.p_id', 'qon_c.p_id'), where(eq('qon_c.p_id', col('qon_p.id'))))
      expect(await run(db.all(pipe(from('qon_p'), select('id'), where(exists(sub)))))).toEqual([{ id: 1 }])
      expect(await run(db.all(pipe(from('qon_p'), select('id'), where(isIn('id', pipe(from('qon_c'), select('p_id')))))))).toEqual([{ id: 1 }])
    })
  })
}
