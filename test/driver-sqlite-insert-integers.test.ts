/**
 * Whole numbers in a multi-row INSERT on SQLite: bound as INTEGER only where the column's
 * affinity would not store them as they are (TEXT stores a REAL 5 as '5.0', no type and a STRICT
 * table's ANY keep the REAL), bound as they come where INTEGER, NUMERIC or REAL affinity stores
 * the same value either way (a BigInt per value there cost a fifth of a bulk insert). Each value
 * is read back with its storage class (typeof), against the same row written as SQL text.
 */
import { pipe } from 'fp-ts/lib/function.js'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type Backend, compose, run, sql } from 'recordkit'
import { insertInto, onConflict, returning, values } from 'recordkit/query'
import { sqlite } from 'recordkit/dialects/sqlite'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'

describe('whole numbers in a multi-row INSERT on SQLite', () => {
  let db: Backend
  beforeEach(async () => {
    db = compose(betterSqlite3({ filename: ':memory:' }), sqlite)
    await run(db.execute(sql`CREATE TABLE mix (id INTEGER PRIMARY KEY, i INT, t TEXT, v VARCHAR(10), r REAL, n NUMERIC, b BLOB, u)`))
    await run(db.execute(sql`CREATE TABLE strict_mix (id INTEGER PRIMARY KEY, a ANY, i INTEGER, t TEXT) STRICT`))
  })
  afterEach(async () => {
    await run(db.close())
  })

  const classes = (table: string, columns: string) =>
    run(db.all(sql.raw(`SELECT ${columns.split(', ').map((c) => `${c}, typeof(${c}) AS ${c}_class`).join(', ')} FROM ${table} ORDER BY id`)))

  it('stores each column\'s value as the row written as SQL text stores it', async () => {
    await run(db.execute(sql`INSERT INTO mix (id, i, t, v, r, n, b, u) VALUES (1, 5, 5, 5, 5, 5, 5, 5)`))
    const row = { i: 5, t: 5, v: 5, r: 5, n: 5, b: 5, u: 5 }
    await run(db.execute(pipe(insertInto('mix'), values([{ id: 2, ...row }, { id: 3, ...row }]))))
    const all = await classes('mix', 'i, t, v, r, n, b, u')
    expect(all[1]).toEqual(all[0])
    expect(all[2]).toEqual(all[0])
    expect(all[0]).toMatchObject({ i_class: 'integer', t: '5', v: '5', r_class: 'real', n_class: 'integer', b_class: 'integer', u_class: 'integer' })
  })

  it('a STRICT table\'s ANY column keeps the integer; a fraction stays a REAL everywhere', async () => {
    await run(db.execute(pipe(insertInto('strict_mix'), values([{ id: 1, a: 7, i: 7, t: 'x' }, { id: 2, a: 7.5, i: 8, t: 'y' }]))))
    expect(await classes('strict_mix', 'a, i')).toEqual([
      { a: 7, a_class: 'integer', i: 7, i_class: 'integer' },
      { a: 7.5, a_class: 'real', i: 8, i_class: 'integer' },
    ])
    await run(db.execute(pipe(insertInto('mix'), values([{ id: 1, t: 2.5, i: 2.5 }, { id: 2, t: -3, i: -3 }]))))
    expect(await classes('mix', 't, i')).toEqual([
      { t: '2.5', t_class: 'text', i: 2.5, i_class: 'real' },
      { t: '-3', t_class: 'text', i: -3, i_class: 'integer' },
    ])
  })

  it('an INSERT with RETURNING, an upsert and a schema-qualified table store the same', async () => {
    const back = await run(db.all(pipe(insertInto('mix'), values([{ id: 1, t: 5, i: 5 }, { id: 2, t: 6, i: 6 }]), returning('id', 't'))))
    expect(back).toEqual([{ id: 1, t: '5' }, { id: 2, t: '6' }])
    await run(db.execute(pipe(insertInto('mix'), values([{ id: 2, t: 9, i: 9 }]), onConflict(['id'], { t: 10 }))))
    await run(db.execute(pipe(insertInto('main.mix'), values([{ id: 3, t: 11, i: 11 }, { id: 4, t: 12, i: 12 }]))))
    expect((await classes('mix', 't')).map((r) => [r.t, r.t_class])).toEqual([['5', 'text'], ['10', 'text'], ['11', 'text'], ['12', 'text']])
  })

  it('a table recreated with other column types in the same connection is written by its new types', async () => {
    const write = (id: number) => run(db.execute(pipe(insertInto('mix2'), values([{ id, x: 5 }, { id: id + 1, x: 5 }]))))
    await run(db.execute(sql`CREATE TABLE mix2 (id INTEGER PRIMARY KEY, x INTEGER)`))
    await write(1)
    await run(db.execute(sql`DROP TABLE mix2`))
    await run(db.execute(sql`CREATE TABLE mix2 (id INTEGER PRIMARY KEY, x TEXT)`))
    await write(1)
    expect((await classes('mix2', 'x')).map((r) => r.x)).toEqual(['5', '5'])
  })
})
