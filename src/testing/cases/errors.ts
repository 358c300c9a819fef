/**
 * Error classification: each kind provoked for real, on any backend.
 */
import { pipe } from 'fp-ts/lib/function.js'
import { describe, expect, it } from '../vitest.js'
import { deleteFrom, eq, from, insertInto, select, values, where } from '../../query.js'
import { sql } from '../../sql.js'
import { exec, fails, ok, typesOf, useBackend } from '../harness.js'
import type { CaseGroup } from '../target.js'

export const errorCases: CaseGroup = (target) => {
  describe(`${target.name}: errors are classified by the database's codes`, () => {
    const db = useBackend(target, (t) => ({
      cf_err_parent: `id ${t.int} PRIMARY KEY, code ${t.varchar(20)} NOT NULL UNIQUE, qty ${t.int} CHECK (qty >= 0)`,
      cf_err_child: `id ${t.int} PRIMARY KEY, parent_id ${t.int} NOT NULL REFERENCES cf_err_parent (id)`,
    }))

    it('UniqueViolation, with the SQL and parameters attached', async () => {
      await ok(db().execute(pipe(insertInto('cf_err_parent'), values({ id: 1, code: 'A', qty: 1 }))))
      const e = await fails(db().execute(pipe(insertInto('cf_err_parent'), values({ id: 2, code: 'A', qty: 1 }))))
      expect(e._tag).toBe('UniqueViolation')
      expect(e.sql).toMatch(/^INSERT INTO/)
      expect(e.params).toEqual(expect.arrayContaining([2, 'A']))
      expect(e.cause).toBeDefined()
    })

    it('UniqueViolation on a primary key', async () => {
      const e = await fails(db().execute(pipe(insertInto('cf_err_parent'), values({ id: 1, code: 'B', qty: 1 }))))
      expect(e._tag).toBe('UniqueViolation')
    })

    it('NotNullViolation', async () => {
      const e = await fails(db().execute(pipe(insertInto('cf_err_parent'), values({ id: 3, code: null, qty: 1 }))))
      expect(e._tag).toBe('NotNullViolation')
    })

    it('CheckViolation', async () => {
      const e = await fails(db().execute(pipe(insertInto('cf_err_parent'), values({ id: 4, code: 'C', qty: -1 }))))
      expect(e._tag).toBe('CheckViolation')
    })

    it('ForeignKeyViolation on insert and on delete of a referenced row', async () => {
      const e = await fails(db().execute(pipe(insertInto('cf_err_child'), values({ id: 1, parent_id: 999 }))))
      expect(e._tag).toBe('ForeignKeyViolation')
      await ok(db().execute(pipe(insertInto('cf_err_child'), values({ id: 1, parent_id: 1 }))))
      const d = await fails(db().execute(pipe(deleteFrom('cf_err_parent'), where(eq('id', 1)))))
      expect(d._tag).toBe('ForeignKeyViolation')
    })

    it('QueryError for a syntax error, an unknown table and an unknown column', async () => {
      expect((await fails(db().execute(sql`SELEC 1`)))._tag).toBe('QueryError')
      expect((await fails(db().execute(pipe(from('cf_err_missing'), select('id')))))._tag).toBe('QueryError')
      const e = await fails(db().execute(pipe(from('cf_err_parent'), select('no_such_column'))))
      expect(e._tag).toBe('QueryError')
      expect(e.sql).toContain('no_such_column')
    })

    it('quotes identifiers that contain quote characters', async () => {
      const weird = 'we"ird`col\'umn'
      const q = db().dialect.quoteIdentifier
      await exec(db(), `CREATE TABLE ${q('cf_err_weird')} (${q(weird)} ${typesOf(target, db()).int})`)
      try {
        await ok(db().execute(pipe(insertInto('cf_err_weird'), values({ [weird]: 7 }))))
        const rows = await ok(db().all(pipe(from('cf_err_weird'), select(weird))))
        expect(rows).toEqual([{ [weird]: 7 }])
      } finally {
        await exec(db(), `DROP TABLE ${q('cf_err_weird')}`)
      }
    })

    it('a compile error is a typed Left, not a throw', async () => {
      const r = db().compile(pipe(from('cf_err_parent'), where(eq('id', 1)), (q) => ({ ...q, limit: -1 })))
      expect(r._tag).toBe('Left')
      const e = await fails(db().execute(pipe(from('cf_err_parent'), (q) => ({ ...q, limit: 1.5 }))))
      expect(e._tag).toBe('QueryError')
    })
  })
}
