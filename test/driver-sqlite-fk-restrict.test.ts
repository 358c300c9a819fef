/**
 * SQLite enforces an ON DELETE / ON UPDATE RESTRICT foreign key through a trigger, so deleting or
 * dropping a parent row that children still name fails with SQLITE_CONSTRAINT_TRIGGER: it is a
 * ForeignKeyViolation, as the same failure under NO ACTION (SQLITE_CONSTRAINT_FOREIGNKEY) is, and
 * as PostgreSQL and MariaDB report it; it was a CheckViolation.
 */
import { describe, expect, it } from 'vitest'
import { compose, run, sql } from 'recordkit'
import { sqlite } from 'recordkit/dialects/sqlite'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'

describe('a RESTRICT foreign key on SQLite', () => {
  it('refusing a delete, an update of the key or a drop is a ForeignKeyViolation', async () => {
    const db = compose(betterSqlite3({ filename: ':memory:' }), sqlite)
    await run(db.execute(sql`PRAGMA foreign_keys = ON`))
    for (const action of ['RESTRICT', 'NO ACTION']) {
      await run(db.execute(sql.raw('DROP TABLE IF EXISTS c')))
      await run(db.execute(sql.raw('DROP TABLE IF EXISTS p')))
      await run(db.execute(sql.raw('CREATE TABLE p (id INTEGER PRIMARY KEY)')))
      await run(db.execute(sql.raw(`CREATE TABLE c (id INTEGER PRIMARY KEY, p INTEGER REFERENCES p (id) ON DELETE ${action} ON UPDATE ${action})`)))
      await run(db.execute(sql.raw('INSERT INTO p VALUES (1)')))
      await run(db.execute(sql.raw('INSERT INTO c VALUES (1, 1)')))
      for (const text of ['DELETE FROM p WHERE id = 1', 'UPDATE p SET id = 2', 'DROP TABLE p']) {
        const r = await db.execute(sql.raw(text))()
        expect(r._tag === 'Left' && r.left._tag, `${action}: ${text}`).toBe('ForeignKeyViolation')
      }
      expect(await run(db.all(sql`SELECT id FROM p`))).toEqual([{ id: 1 }])
    }
    // A CHECK constraint is still a CheckViolation.
    await run(db.execute(sql.raw('CREATE TABLE k (n INTEGER CHECK (n > 0))')))
    const check = await db.execute(sql.raw('INSERT INTO k VALUES (-1)'))()
    expect(check._tag === 'Left' && check.left._tag).toBe('CheckViolation')
    await run(db.close())
  })
})
