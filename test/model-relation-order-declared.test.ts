/**
 * The order of a one-row relation (a hasOne, hasOneThrough or morphOne given `orderBy`,
 * `latestOfMany` or `oldestOfMany`) naming no field of its target is a TypeError where the models
 * are related (`relate`), naming the relation and the field, as a foreign key naming no field
 * is: it was a QueryError only when a query used the relation, so a typo waited for the one code
 * path that loaded it. A relation whose order names fields of its target relates and loads as
 * before, on every engine.
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { run } from 'recordkit'
import { hasMany, hasOne, hasOneThrough, latestOfMany, model, morphOne, morphTo, oldestOfMany, relate } from 'recordkit/model'
import { ENGINES, engineTables } from './support/engine-tables.js'

const Country = (relations: Record<string, unknown>) => model({
  table: 'rk_ro_countries', primaryKey: 'id', codec: t.type({ id: t.number, name: t.string }),
  relations: { users: hasMany('User', 'countryId'), ...relations } as never,
})
const User = (relations: Record<string, unknown>) => model({
  table: 'rk_ro_users', primaryKey: 'id', codec: t.type({ id: t.number, countryId: t.number, name: t.string }),
  columns: { countryId: 'country_id' },
  relations: { logins: hasMany('Login', 'userId'), ...relations } as never,
})
const Login = model({
  table: 'rk_ro_logins', primaryKey: 'id', codec: t.type({ id: t.number, userId: t.number, at: t.number }),
  columns: { userId: 'user_id' },
})
const Image = model({
  table: 'rk_ro_images', primaryKey: 'id', codec: t.type({ id: t.number, imageableType: t.string, imageableId: t.number }),
  columns: { imageableType: 'imageable_type', imageableId: 'imageable_id' },
  relations: { imageable: morphTo('imageableType', 'imageableId', { user: 'User' }) },
})

const models = (country: Record<string, unknown>, user: Record<string, unknown>) =>
  ({ Country: Country(country), User: User(user), Login, Image })

describe('an order naming no field of the target', () => {
  it.each([
    ['hasOne orderBy', {}, { first: hasOne('Login', 'userId', { orderBy: [['at', 'asc'], 'nope'] }) }, 'User.first', 'nope'],
    ['latestOfMany', {}, { latest: pipe(hasOne('Login', 'userId'), latestOfMany('when')) }, 'User.latest', 'when'],
    ['hasOneThrough', { newest: pipe(hasOneThrough('Login', { through: 'users', source: 'logins' }), oldestOfMany('name')) }, {}, 'Country.newest', 'name'],
    ['morphOne', {}, { avatar: morphOne('Image', { as: 'imageable', orderBy: ['url'] }) }, 'User.avatar', 'url'],
  ] as const)('%s is a TypeError where the models are related', (_, country, user, relation, field) => {
    expect(() => relate(models(country, user))).toThrow(TypeError)
    expect(() => relate(models(country, user))).toThrow(`${relation}: rk_ro_${relation.startsWith('User.avatar') ? 'images' : 'logins'} has no field "${field}" (orderBy)`)
  })
})

const ok = relate({
  Country: model({
    table: 'rk_ro_countries', primaryKey: 'id', codec: t.type({ id: t.number, name: t.string }),
    relations: { users: hasMany('User', 'countryId'), newest: pipe(hasOneThrough('Login', { through: 'users', source: 'logins' }), latestOfMany('at')) },
  }),
  User: model({
    table: 'rk_ro_users', primaryKey: 'id', codec: t.type({ id: t.number, countryId: t.number, name: t.string }),
    columns: { countryId: 'country_id' },
    relations: {
      logins: hasMany('Login', 'userId'),
      latest: pipe(hasOne('Login', 'userId'), latestOfMany('at')),
      first: hasOne('Login', 'userId', { orderBy: [['at', 'asc'], 'id'] }),
    },
  }),
  Login,
})

for (const engine of ENGINES) {
  describe(`an order naming fields of the target on ${engine.name}`, () => {
    const { use } = engineTables(engine, ['rk_ro_logins', 'rk_ro_users', 'rk_ro_countries'], () => [
      'CREATE TABLE rk_ro_countries (id INTEGER PRIMARY KEY, name VARCHAR(20) NOT NULL)',
      'CREATE TABLE rk_ro_users (id INTEGER PRIMARY KEY, country_id INTEGER NOT NULL, name VARCHAR(20) NOT NULL)',
      'CREATE TABLE rk_ro_logins (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, at INTEGER NOT NULL)',
    ])

    it('relates and loads the row it picks', async (ctx) => {
      const db = use(ctx)
      await run(ok.Country.create(db, { id: 1, name: 'fr' }))
      await run(ok.User.create(db, { id: 1, countryId: 1, name: 'ada' }))
      await run(ok.Login.createMany(db, [{ id: 1, userId: 1, at: 5 }, { id: 2, userId: 1, at: 9 }, { id: 3, userId: 1, at: 1 }]))
      const [user] = await run(pipe(ok.User.query, ok.User.include('latest'), ok.User.include('first'), ok.User.all(db)))
      expect([user.latest?.id, user.first?.id]).toEqual([2, 3])
      const [country] = await run(pipe(ok.Country.query, ok.Country.include('newest'), ok.Country.all(db)))
      expect(country.newest?.id).toBe(2)
    })
  })
}
