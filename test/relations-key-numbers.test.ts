/**
 * How an eager load matches related rows to their parents, on SQLite, PostgreSQL and MariaDB:
 * integer keys within a few times the rows' count of each other are numbered through an array
 * indexed by key, any other keys through a Map. Both give the same trees: keys far apart
 * (sparse ids), negative and zero keys, NULL foreign keys, a parent with no children, children
 * whose parent is not loaded, text keys, fractional keys and a composite of them, hasOne and
 * hasMany, and a join through a pivot table.
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { run, sql, type Backend } from 'recordkit'
import { hasMany, hasOne, manyToMany, model, nullable, relate, snakeCase } from 'recordkit/model'
import { ENGINES, engineTables } from './support/engine-tables.js'

const Owner = model({
  table: 'rk_kn_owners',
  primaryKey: 'id',
  naming: snakeCase,
  codec: t.type({ id: t.number, name: t.string }),
  relations: { pets: hasMany('Pet', 'ownerId'), badge: hasOne('Badge', 'ownerId'), clubs: manyToMany('Club', { through: 'rk_kn_members', from: 'owner_id', to: 'club_id' }) },
})
const Pet = model({
  table: 'rk_kn_pets',
  primaryKey: 'id',
  naming: snakeCase,
  codec: t.type({ id: t.number, ownerId: nullable(t.number), name: t.string }),
})
const Badge = model({ table: 'rk_kn_badges', primaryKey: 'id', naming: snakeCase, codec: t.type({ id: t.number, ownerId: t.number, label: t.string }) })
const Club = model({ table: 'rk_kn_clubs', primaryKey: 'id', naming: snakeCase, codec: t.type({ id: t.number, title: t.string }) })
// Keyed by text and by a fractional number: never numbered through the array.
const Shelf = model({
  table: 'rk_kn_shelves',
  primaryKey: 'code',
  naming: snakeCase,
  codec: t.type({ code: t.string, weight: t.number }),
  relations: { books: hasMany('Book', 'shelfCode'), weighed: hasMany('Book', 'shelfWeight', { sourceKey: 'weight' }) },
})
const Book = model({
  table: 'rk_kn_books',
  primaryKey: 'id',
  naming: snakeCase,
  codec: t.type({ id: t.number, shelfCode: t.string, shelfWeight: t.number, title: t.string }),
})
const K = relate({ Owner, Pet, Badge, Club, Shelf, Book })

const TABLES = ['rk_kn_members', 'rk_kn_clubs', 'rk_kn_badges', 'rk_kn_pets', 'rk_kn_owners', 'rk_kn_books', 'rk_kn_shelves']

const ddl = (engine: string): string[] => {
  const real = engine === 'postgres' ? 'DOUBLE PRECISION' : engine === 'mariadb' ? 'DOUBLE' : 'REAL'
  return [
    'CREATE TABLE rk_kn_owners (id BIGINT PRIMARY KEY, name VARCHAR(40) NOT NULL)',
    'CREATE TABLE rk_kn_pets (id INTEGER PRIMARY KEY, owner_id BIGINT NULL, name VARCHAR(40) NOT NULL)',
    'CREATE TABLE rk_kn_badges (id INTEGER PRIMARY KEY, owner_id BIGINT NOT NULL, label VARCHAR(40) NOT NULL)',
    'CREATE TABLE rk_kn_clubs (id INTEGER PRIMARY KEY, title VARCHAR(40) NOT NULL)',
    'CREATE TABLE rk_kn_members (owner_id BIGINT NOT NULL, club_id INTEGER NOT NULL)',
    `CREATE TABLE rk_kn_shelves (code VARCHAR(40) PRIMARY KEY, weight ${real} NOT NULL)`,
    `CREATE TABLE rk_kn_books (id INTEGER PRIMARY KEY, shelf_code VARCHAR(40) NOT NULL, shelf_weight ${real} NOT NULL, title VARCHAR(40) NOT NULL)`,
  ]
}

/** Owners with ids `ids`; pet i of owner j is `p<j>-<i>`; the owner at `childless` has none. */
const seed = async (db: Backend, ids: readonly number[], childless: number): Promise<void> => {
  await run(Owner.createMany(db, ids.map((id) => ({ id, name: `o${id}` })), { returning: false }))
  const pets = ids.filter((id) => id !== childless).flatMap((id, j) => Array.from({ length: (j % 3) + 1 }, (_, i) => ({ ownerId: id, name: `p${id}-${i}` })))
  await run(Pet.createMany(db, [
    ...pets.map((p, i) => ({ id: i + 1, ...p })),
    // A pet with no owner, and one whose owner is not among those loaded.
    { id: pets.length + 1, ownerId: null, name: 'stray' },
    { id: pets.length + 2, ownerId: 424242, name: 'elsewhere' },
  ], { returning: false }))
  await run(Badge.createMany(db, ids.filter((id) => id !== childless).map((id, i) => ({ id: i + 1, ownerId: id, label: `b${id}` })), { returning: false }))
  await run(Club.createMany(db, [{ id: 1, title: 'chess' }, { id: 2, title: 'go' }], { returning: false }))
  for (const id of ids) if (id !== childless) await run(db.execute(sql`INSERT INTO rk_kn_members (owner_id, club_id) VALUES (${id}, ${1 + (Math.abs(id) % 2)})`))
}

/** The tree as plain data: each owner's pets, badge and clubs by name. */
const shape = (owners: readonly { id: number; pets: readonly { name: string }[]; badge: { label: string } | null; clubs: readonly { title: string }[] }[]) =>
  owners.map((o) => ({ id: o.id, pets: o.pets.map((p) => p.name).sort(), badge: o.badge?.label ?? null, clubs: o.clubs.map((c) => c.title) }))

/** What `shape` must give for `seed(ids, childless)`. */
const expected = (ids: readonly number[], childless: number) =>
  [...ids].sort((a, b) => a - b).map((id) => {
    const j = ids.filter((x) => x !== childless).indexOf(id)
    return {
      id,
      pets: id === childless ? [] : Array.from({ length: (j % 3) + 1 }, (_, i) => `p${id}-${i}`).sort(),
      badge: id === childless ? null : `b${id}`,
      clubs: id === childless ? [] : [1 + (Math.abs(id) % 2) === 1 ? 'chess' : 'go'],
    }
  })

const load = (db: Backend) =>
  run(pipe(K.Owner.query, K.Owner.include('pets'), K.Owner.include('badge'), K.Owner.include('clubs'), K.Owner.orderBy('id'), K.Owner.all(db)))

for (const engine of ENGINES) {
  describe(`eager loads match children to parents by key on ${engine.name}`, () => {
    const { use } = engineTables(engine, TABLES, ddl)

    it('dense integer keys, zero and negative ones among them, with a childless parent and orphans', async (ctx) => {
      const db = use(ctx)
      const ids = [-3, -1, 0, 1, 2, 5, 8, 13]
      await seed(db, ids, 2)
      expect(shape(await load(db))).toEqual(expected(ids, 2))
    })

    it('keys far apart (ids up to 2^53 - 1), which the array would not hold', async (ctx) => {
      const db = use(ctx)
      const ids = [1, 1_000_000_007, 2 ** 40, Number.MAX_SAFE_INTEGER, -(2 ** 31)]
      await seed(db, ids, 1_000_000_007)
      expect(shape(await load(db))).toEqual(expected(ids, 1_000_000_007))
    })

    it('a parent level of one row, and one with no rows', async (ctx) => {
      const db = use(ctx)
      await seed(db, [7], -1)
      expect(shape(await load(db))).toEqual(expected([7], -1))
      await run(db.execute(sql`DELETE FROM rk_kn_owners`))
      expect(await load(db)).toEqual([])
    })

    it('text keys and fractional keys', async (ctx) => {
      const db = use(ctx)
      await run(Shelf.createMany(db, [{ code: 'a', weight: 0.5 }, { code: '2', weight: 1.5 }, { code: 'c', weight: 2 }], { returning: false }))
      await run(Book.createMany(db, [
        { id: 1, shelfCode: 'a', shelfWeight: 0.5, title: 'x' },
        { id: 2, shelfCode: '2', shelfWeight: 1.5, title: 'y' },
        { id: 3, shelfCode: '2', shelfWeight: 2, title: 'z' },
        // Text '2' is not the number 2: each matches its own kind only.
        { id: 4, shelfCode: 'zz', shelfWeight: 1.25, title: 'orphan' },
      ], { returning: false }))
      const shelves = await run(pipe(K.Shelf.query, K.Shelf.include('books'), K.Shelf.include('weighed'), K.Shelf.orderBy('code'), K.Shelf.all(db)))
      expect(shelves.map((s) => [s.code, s.books.map((b) => b.title).sort(), s.weighed.map((b) => b.title).sort()])).toEqual([
        ['2', ['y', 'z'], ['y']],
        ['a', ['x'], ['x']],
        ['c', [], ['z']],
      ])
    })
  })
}
