import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pipe } from 'fp-ts/lib/function.js'
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { unnest } from 'recordkit/dialects/postgres'
import { fails, ok } from 'recordkit/testing'
import { classifyDuckDbError, duckdb, duckdbNodeApi } from '../src/contrib/duckdb/index.js'
import { type Compilable, compose, type Dialect, isDbError, json, run, sql, supports } from 'recordkit'
import {
  eq, excluded, from, ilike, insertInto, limit, offset, onConflict, orderBy, returning, select, update, set, values, where,
  add, col, val,
} from 'recordkit/query'

const compiled = (d: Dialect, q: Compilable) => {
  const c = d.compile(q)
  if (E.isLeft(c)) throw c.left
  return c.right
}

const dir = mkdtempSync(join(tmpdir(), 'recordkit-duckdb-'))
const db = compose(duckdbNodeApi(), duckdb)
beforeAll(async () => {
  await run(db.execute(sql`CREATE SEQUENCE dk_ids`))
  await run(db.execute(sql`CREATE TABLE dk_users (id INTEGER PRIMARY KEY DEFAULT nextval('dk_ids'), name VARCHAR NOT NULL, email VARCHAR UNIQUE, visits INTEGER NOT NULL DEFAULT 0, tags VARCHAR[], meta JSON)`))
  await run(db.execute(pipe(insertInto('dk_users'), values([{ name: 'Ada', email: 'ada@x' }, { name: 'Grace', email: 'grace@x' }, { name: 'Linus', email: 'linus@x' }]))))
})
afterAll(async () => {
  await run(db.close())
  rmSync(dir, { recursive: true, force: true })
})

describe('duckdb dialect: PostgreSQL SQL with DuckDB differences, exact and executed', () => {
  it('selects with $n placeholders, ILIKE, LIMIT and OFFSET', async () => {
    const q = pipe(from('dk_users'), select('name'), where(ilike('name', '%A%')), orderBy('name'), limit(2), offset(1))
    expect(compiled(db.dialect, q)).toEqual({ sql: 'SELECT "name" FROM "dk_users" WHERE "name" ILIKE $1 ORDER BY "name" ASC LIMIT $2 OFFSET $3', params: ['%A%', 2, 1] })
    expect(await run(db.all(q))).toEqual([{ name: 'Grace' }])
  })

  it('inserts with RETURNING and upserts with EXCLUDED and WHERE', async () => {
    const ins = pipe(insertInto('dk_users'), values({ name: 'Barbara', email: 'barbara@x' }), returning('id', 'name'))
    expect(compiled(db.dialect, ins)).toEqual({ sql: 'INSERT INTO "dk_users" ("name", "email") VALUES ($1, $2) RETURNING "id", "name"', params: ['Barbara', 'barbara@x'] })
    const [row] = await run(db.all(ins))
    expect(row.name).toBe('Barbara')
    const up = pipe(insertInto('dk_users'), values({ name: 'Ada L.', email: 'ada@x' }), onConflict(['email'], { name: excluded('name'), visits: add(col('dk_users.visits'), val(1)) }, { where: eq('dk_users.visits', 0) }))
    expect(compiled(db.dialect, up)).toEqual({
      sql: 'INSERT INTO "dk_users" ("name", "email") VALUES ($1, $2) ON CONFLICT ("email") DO UPDATE SET "name" = EXCLUDED."name", "visits" = "dk_users"."visits" + $3 WHERE "dk_users"."visits" = $4',
      params: ['Ada L.', 'ada@x', 1, 0],
    })
    expect((await run(db.execute(up))).rowsAffected).toBe(1)
    expect(await run(db.all(pipe(from('dk_users'), select('name', 'visits'), where({ email: 'ada@x' }))))).toEqual([{ name: 'Ada L.', visits: 1 }])
  })

  it('binds a JS array as a LIST and an object as JSON; reads both back', async () => {
    const q = pipe(update('dk_users'), set({ tags: ['a', 'b'], meta: { n: 1, deep: [true] } }), where({ email: 'grace@x' }))
    expect(compiled(db.dialect, q)).toEqual({ sql: 'UPDATE "dk_users" SET "tags" = $1, "meta" = $2 WHERE "email" = $3', params: [['a', 'b'], '{"n":1,"deep":[true]}', 'grace@x'] })
    expect((await run(db.execute(q))).rowsAffected).toBe(1)
    await run(db.execute(pipe(update('dk_users'), set({ tags: [] }), where({ email: 'linus@x' }))))
    const rows = await run(db.all(pipe(from('dk_users'), select('email', 'tags', 'meta'), where({ email: ['grace@x', 'linus@x'] }), orderBy('email'))))
    expect(rows).toEqual([{ email: 'grace@x', tags: ['a', 'b'], meta: { n: 1, deep: [true] } }, { email: 'linus@x', tags: [], meta: null }])
    expect(duckdb.toDriver(json([1, 2]))).toBe('[1,2]')
    expect(duckdb.toDriver(-0)).toBe('-0')
  })

  it('an insert marked for unnest is written as VALUES (DuckDB unnest takes one list)', async () => {
    const q = pipe(insertInto('dk_users'), values([{ name: 'U1', email: 'u1@x' }, { name: 'U2', email: 'u2@x' }]), unnest({ name: 'text', email: 'text' }))
    expect(compiled(db.dialect, q)).toEqual({ sql: 'INSERT INTO "dk_users" ("name", "email") VALUES ($1, $2), ($3, $4)', params: ['U1', 'u1@x', 'U2', 'u2@x'] })
    expect((await run(db.execute(q))).rowsAffected).toBe(2)
  })

  it('transactions: BEGIN TRANSACTION [READ ONLY]; SERIALIZABLE, DEFERRABLE and savepoints are UnsupportedFeature', () => {
    expect(duckdb.beginTransaction({})).toEqual(['BEGIN TRANSACTION'])
    expect(duckdb.beginTransaction({ isolation: 'repeatable read', readOnly: true })).toEqual(['BEGIN TRANSACTION READ ONLY'])
    for (const f of [() => duckdb.beginTransaction({ isolation: 'serializable' }), () => duckdb.beginTransaction({ deferrable: true }), () => duckdb.savepoint('s')]) {
      expect(f).toThrow(expect.objectContaining({ _tag: 'UnsupportedFeature', dialect: 'duckdb' }))
    }
    expect(supports(duckdb, 'savepoint')).toBe(false)
    expect(supports(duckdb, 'insertReturning')).toBe(true)
  })

  it('compose specialises the dialect to the library version, without I/O', () => {
    expect(db.dialect.version).toMatch(/^\d+\.\d+\.\d+$/)
    expect(duckdb.forVersion('v1.2.3').version).toBe('1.2.3')
  })

  it('a nested transaction is a Left UnsupportedFeature; the outer one goes on', async () => {
    const r = await run(db.transaction((tx) => async () => {
      await run(tx.execute(pipe(insertInto('dk_users'), values({ name: 'Outer', email: 'outer@x' }))))
      return E.right(await tx.transaction((t2) => t2.execute(pipe(insertInto('dk_users'), values({ name: 'Inner', email: 'inner@x' }))))())
    }))
    expect(E.isLeft(r) && r.left._tag).toBe('UnsupportedFeature')
    const names = (await run(db.all(pipe(from('dk_users'), select('name'), where({ email: ['outer@x', 'inner@x'] }))))).map((x) => x.name)
    expect(names).toEqual(['Outer'])
  })
})

describe('duckdb driver', () => {
  it('classifies by DuckDB exception type, keeping it as the code', async () => {
    const dup = await fails(db.execute(pipe(insertInto('dk_users'), values({ name: 'Again', email: 'ada@x' }))))
    expect(dup).toMatchObject({ _tag: 'UniqueViolation', code: 'Constraint' })
    expect(dup.message).toMatch(/^Constraint Error: Duplicate key/)
    expect(dup.params).toEqual(['Again', 'ada@x'])
    expect(await fails(db.execute(pipe(insertInto('dk_users'), values({ name: null }))))).toMatchObject({ _tag: 'NotNullViolation', column: 'name' })
    expect(await fails(db.execute(sql`SELEC 1`))).toMatchObject({ _tag: 'QueryError', code: 'Parser/SYNTAX_ERROR' })
    expect(await fails(db.execute(sql`SELECT * FROM dk_missing`))).toMatchObject({ _tag: 'QueryError', code: 'Catalog/MISSING_ENTRY' })
    expect(await fails(db.execute(sql`COMMIT`))).toMatchObject({ _tag: 'TransactionError', code: 'TransactionContext' })
    // Without errors_as_json the message prefix names the type.
    expect(classifyDuckDbError(new Error('Constraint Error: CHECK constraint failed on table t'))).toMatchObject({ _tag: 'CheckViolation', code: 'Constraint' })
    expect(classifyDuckDbError(new Error('INTERRUPT Error: Interrupted!'))._tag).toBe('StatementTimeout')
  })

  it('reports rows affected; no insert id (DuckDB has none: use RETURNING)', async () => {
    const r = await run(db.execute(pipe(update('dk_users'), set({ visits: 5 }), where({ email: ['grace@x', 'linus@x'] }))))
    expect(r).toEqual({ rows: [], rowsAffected: 2 })
  })

  it('serializes concurrent statements on its one connection', async () => {
    const all = await Promise.all(Array.from({ length: 40 }, (_, i) => run(db.all(sql`SELECT ${i}::INTEGER AS i`))))
    expect(all.map((r) => r[0].i)).toEqual(Array.from({ length: 40 }, (_, i) => i))
  })

  it('streams outside a transaction on a connection of its own: the loop body may write', async () => {
    await run(db.execute(sql`CREATE TABLE dk_many AS SELECT range::INTEGER AS id FROM range(5000)`))
    let n = 0
    let batches = 0
    for await (const row of db.stream(pipe(from('dk_many'), orderBy('id')), { batchSize: 1000 })) {
      if (n++ % 1000 === 0) batches++
      if (n === 1) await run(db.execute(pipe(insertInto('dk_users'), values({ name: 'During', email: 'during@x' }))))
      void row
    }
    expect([n, batches]).toEqual([5000, 5])
    expect((await run(db.all(pipe(from('dk_users'), where({ email: 'during@x' }))))).length).toBe(1)
  })

  it('a statement in the loop of a stream inside a transaction is refused at once, rather than ending the stream early', async () => {
    const r = await db.transaction((tx) => async () => {
      let seen = 0
      for await (const _ of tx.stream(pipe(from('dk_many'), orderBy('id')), { batchSize: 100 })) {
        if (++seen === 1) await run(tx.all(sql`SELECT 1`))
      }
      return E.right(seen)
    })()
    // Refused by the backend as on every engine (the stream of this transaction is open).
    expect(E.isLeft(r) && r.left._tag).toBe('TransactionError')
    expect(E.isLeft(r) && r.left.message).toMatch(/a stream of this transaction is open/)
  })

  it('integers: BigInt beyond 2^53 by default, always with integers: "bigint"', async () => {
    expect(await run(db.all(sql`SELECT 42::BIGINT AS a, 9007199254740993::BIGINT AS b, 1.50::DECIMAL(10,2) AS d`))).toEqual([{ a: 42, b: 9007199254740993n, d: '1.50' }])
    const big = compose(duckdbNodeApi({ integers: 'bigint' }), duckdb)
    expect(await run(big.all(sql`SELECT 42::BIGINT AS a`))).toEqual([{ a: 42n }])
    await run(big.close())
  })

  it('a file database keeps its data; an impossible path is a ConnectionError', async () => {
    const path = join(dir, 'kept.duckdb')
    const a = compose(duckdbNodeApi({ path }), duckdb)
    await run(a.execute(sql`CREATE TABLE dk_kept AS SELECT 1 AS one`))
    await run(a.close())
    const b = compose(duckdbNodeApi({ path }), duckdb)
    expect(await run(b.all(sql`SELECT one FROM dk_kept`))).toEqual([{ one: 1 }])
    await run(b.close())
    const bad = compose(duckdbNodeApi({ path: join(dir, 'no', 'such', 'dir', 'x.duckdb') }), duckdb)
    const e = await fails(bad.execute(sql`SELECT 1`))
    expect(isDbError(e, 'ConnectionError')).toBe(true)
    expect(e.sql).toBe('SELECT 1')
  })

  it('the version is the library version', async () => {
    expect(await ok(db.driver.version())).toBe(db.dialect.version)
  })
})
