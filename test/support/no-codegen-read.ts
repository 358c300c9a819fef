/**
 * Run by test/no-codegen.test.ts under `node --disallow-code-generation-from-strings`: reads
 * rows through the better-sqlite3 driver, whose precision check is generated code where
 * allowed, and through a model, whose rows are decoded in place by generated code where allowed
 * (a loop over the fields here), and through a prepared query, whose named parameters are bound
 * by generated code where allowed, and prints them.
 */
import { pipe } from 'fp-ts/lib/function.js'
import { compose, run, sql } from 'recordkit'
import { and, from, gt, lt, orderBy, param, select, where } from 'recordkit/query'
import { sqlite } from 'recordkit/dialects/sqlite'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'
import { bool, date, hasMany, model, relate, snakeCase } from 'recordkit/model'
import * as t from 'io-ts'

const db = compose(betterSqlite3({ filename: ':memory:' }), sqlite)
await run(db.execute(sql`CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER, label TEXT)`))
await run(db.execute(sql`INSERT INTO t (id, n, label) VALUES (1, 5, 'a'), (2, 9007199254740993, 'b')`))
const rows = await run(db.all(sql`SELECT id, n, label FROM t ORDER BY id`))
const one = await run(db.first(sql`SELECT n FROM t WHERE id = ${2}`))
const Stamp = model({ table: 'stamps', primaryKey: 'id', naming: snakeCase, codec: t.type({ id: t.number, seenAt: date, done: bool }) })
await run(db.execute(sql`CREATE TABLE stamps (id INTEGER PRIMARY KEY, seen_at TEXT NOT NULL, done INTEGER NOT NULL)`))
await run(db.execute(sql`INSERT INTO stamps (id, seen_at, done) VALUES (1, '0050-06-01 12:34:56.789', 1), (2, '2024-02-29 23:59:58.120', 0)`))
const stamps = await run(Stamp.all(db)(Stamp.query))
await run(db.execute(sql`UPDATE stamps SET done = 7 WHERE id = 2`))
const failed = await Stamp.all(db)(Stamp.query)()
const bad = failed._tag === 'Left' ? failed.left.message : 'no failure'
// Create input is decoded by generated code where allowed (a loop over the fields here).
const made = await run(Stamp.createMany(db, [{ id: 3, seenAt: new Date('2024-03-01T00:00:00Z'), done: true }, { id: 4, seenAt: new Date('2024-03-02T00:00:00Z'), done: false }], { returning: false }))
const refusedMany = await Stamp.createMany(db, [{ id: 5, seenAt: new Date('2024-03-03T00:00:00Z'), done: true }, { id: 6, seenAt: new Date('2024-03-04T00:00:00Z'), done: 'maybe' as unknown as boolean }])()
const refused = refusedMany._tag === 'Left' ? (refusedMany.left as { issues?: readonly { path: string; rule: string }[] }).issues?.map((i) => `${i.path}: ${i.rule}`) : 'no failure'
const count = (await run(db.all(sql`SELECT COUNT(*) AS n FROM stamps`)))[0]
// A prepared query's named parameters are bound by generated code where allowed (a loop here).
const byRange = db.prepare(pipe(from('stamps'), select('id'), where(and(gt('id', param('low')), lt('id', 9), lt('id', param('high')))), orderBy('id')))
const ranged = (await run(byRange.all({ low: 1, high: 4 }))).map((r) => r.id)
const lacking = await byRange.all({ low: 1 })()
const missing = lacking._tag === 'Left' ? lacking.left.message : 'no failure'
// Related rows are matched to their parents by key readers generated where allowed (a keyed read here).
const Tag = model({ table: 'tags', primaryKey: 'id', naming: snakeCase, codec: t.type({ id: t.number, stampId: t.number, name: t.string }) })
const R = relate({ Stamp: model({ table: 'stamps', primaryKey: 'id', naming: snakeCase, codec: t.type({ id: t.number, seenAt: date, done: bool }), relations: { tags: hasMany('Tag', 'stampId') } }), Tag })
await run(db.execute(sql`CREATE TABLE tags (id INTEGER PRIMARY KEY, stamp_id INTEGER NOT NULL, name TEXT NOT NULL)`))
await run(db.execute(sql`INSERT INTO tags (id, stamp_id, name) VALUES (1, 1, 'x'), (2, 3, 'y'), (3, 3, 'z'), (4, 99, 'orphan')`))
const tagged = (await run(pipe(R.Stamp.query, R.Stamp.where('done', '=', true), R.Stamp.include('tags'), R.Stamp.orderBy('id'), R.Stamp.all(db)))).map((s) => [s.id, s.tags.map((g) => g.name)])
console.log(JSON.stringify({ rows, one, stamps, bad, made, refused, count, ranged, missing, tagged }, (_, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)))
await run(db.close())
