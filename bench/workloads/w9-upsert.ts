/**
 * W9: bulk upsert, on every engine. `items` (a generated key, a unique `sku`) starts with 2,500
 * rows, the odd keys of 5,000; one operation writes all 5,000 keys, so half the rows are
 * inserted and half meet a stored row. The table is restored to its starting content before each
 * measurement, untimed (emptied, then filled from `items_seed`).
 *
 * - upsert: the stored rows get the proposed `price` and `stock` (their `name` stays), the others
 *   are inserted. Raw on SQLite: a multi-row `INSERT ... ON CONFLICT (sku) DO UPDATE SET price =
 *   excluded.price, ...` of 1000 rows prepared once, or one prepared single-row upsert per row,
 *   in one transaction; on PostgreSQL one statement, multi-row VALUES (`sql(rows)`) or
 *   `unnest` arrays, with ON CONFLICT; on MariaDB `INSERT ... VALUES ? ON DUPLICATE KEY UPDATE
 *   price = VALUES(price), ...` through mysql2's `query`, or 1000-row prepared statements in a
 *   transaction. recordkit: `Item.upsertMany` (validated, one transaction, the stored rows
 *   returned and decoded: multi-row `INSERT ... ON CONFLICT ... RETURNING` on PostgreSQL and
 *   SQLite, multi-row `INSERT ... ON DUPLICATE KEY UPDATE ... RETURNING` of the keys and the
 *   rows read back by key on MariaDB) and the builder (`insertInto` + `values` +
 *   `onConflict` in chunks under the parameter limit, one transaction). Kysely, Drizzle, Knex:
 *   chunks of 1000 rows in a transaction.
 * - insert, skipping conflicts: the stored rows stay as they are, the others are inserted. Raw:
 *   `INSERT ... ON CONFLICT (sku) DO NOTHING` (MariaDB: `ON DUPLICATE KEY UPDATE sku = sku`);
 *   recordkit `Item.createMany(db, rows, { onConflict: 'ignore' })`, returning the rows
 *   inserted or (`returning: false`) their count.
 *
 * Each table also lists a raw method with `RETURNING` of every column, for reference (the model
 * calls return the stored rows): never the baseline.
 *
 * Every implementation gets the same input, 5,000 objects `{ sku, name, price, stock }`.
 */
import type Database from 'better-sqlite3'
import { sql as dsql } from 'drizzle-orm'
import { pipe } from 'fp-ts/lib/function.js'
import { sql as ksql } from 'kysely'
import { sql, type Backend } from 'recordkit'
import { unnest } from 'recordkit/dialects/postgres'
import { insertInto, onConflict, values } from 'recordkit/query'
import * as C from '../clients.js'
import type { Engine } from '../env.js'
import { type GroupSpec, type ImplSpec, main } from '../group.js'
import { expect, right } from '../lib.js'
import * as dm from '../schema/drizzle-mariadb.js'
import * as dp from '../schema/drizzle-postgres.js'
import * as ds from '../schema/drizzle-sqlite.js'
import { Item } from '../schema/recordkit.js'
import { ITEM_COLUMNS as COLS, ITEMS as N, type ItemRow, itemSku, storedItem } from '../setup.js'

type Mode = 'upsert' | 'ignore'

/** Item `i` as every implementation writes it: a new name (kept only where inserted), price and stock. */
const proposedItem = (i: number): ItemRow => ({ sku: itemSku(i), name: `Item ${i} (new)`, price: 1000 + (i % 90), stock: 10 + (i % 13) })
const ROWS: readonly ItemRow[] = Array.from({ length: N }, (_, i) => proposedItem(i + 1))
const UPDATED = ['price', 'stock'] as const

/** What `items` holds after one operation: counts and sums every implementation must reach. */
const expected = (mode: Mode) => {
  let price = 0
  let stock = 0
  for (let i = 1; i <= N; i++) {
    const r = i % 2 === 1 && mode === 'ignore' ? storedItem(i) : proposedItem(i)
    price += r.price
    stock += r.stock
  }
  return { n: N, price, stock, fresh: N / 2 }
}
const STATS = "SELECT COUNT(*) AS n, SUM(price) AS price, SUM(stock) AS stock, SUM(CASE WHEN name LIKE '%(new)' THEN 1 ELSE 0 END) AS fresh FROM items"

const RESET: Readonly<Record<Engine, readonly string[]>> = {
  sqlite: ['DELETE FROM items', 'INSERT INTO items SELECT * FROM items_seed'],
  postgres: ['TRUNCATE items RESTART IDENTITY', 'INSERT INTO items (sku, name, price, stock) SELECT sku, name, price, stock FROM items_seed ORDER BY id'],
  mariadb: ['TRUNCATE TABLE items', 'INSERT INTO items (sku, name, price, stock) SELECT sku, name, price, stock FROM items_seed ORDER BY id'],
}

const UPDATE_SQL: Readonly<Record<Engine, string>> = {
  sqlite: ' ON CONFLICT (sku) DO UPDATE SET price = excluded.price, stock = excluded.stock',
  postgres: ' ON CONFLICT (sku) DO UPDATE SET price = excluded.price, stock = excluded.stock',
  mariadb: ' ON DUPLICATE KEY UPDATE price = VALUES(price), stock = VALUES(stock)',
}
const IGNORE_SQL: Readonly<Record<Engine, string>> = {
  sqlite: ' ON CONFLICT (sku) DO NOTHING',
  postgres: ' ON CONFLICT (sku) DO NOTHING',
  mariadb: ' ON DUPLICATE KEY UPDATE sku = sku',
}
const tail = (engine: Engine, mode: Mode): string => (mode === 'upsert' ? UPDATE_SQL : IGNORE_SQL)[engine]

const chunks = <T>(xs: readonly T[], size: number): T[][] => {
  const out: T[][] = []
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size))
  return out
}

const insertText = (rows: number, placeholder: (i: number) => string): string => {
  const tuples: string[] = []
  let p = 0
  for (let r = 0; r < rows; r++) tuples.push(`(${COLS.map(() => placeholder(++p)).join(', ')})`)
  return `INSERT INTO items (${COLS.join(', ')}) VALUES ${tuples.join(', ')}`
}

/** The parameters of rows `from` to `to`, flat, built in the measurement. */
const flat = (from: number, to: number): (string | number)[] => {
  const params: (string | number)[] = []
  for (let j = from; j < to; j++) {
    const r = ROWS[j]
    params.push(r.sku, r.name, r.price, r.stock)
  }
  return params
}

/** A PostgreSQL array literal of numbers or strings (what the raw unnest upsert binds per column). */
const pgArray = (xs: readonly (string | number)[]): string =>
  `{${xs.map((x) => (typeof x === 'number' ? String(x) : `"${x.replace(/[\\"]/g, '\\$&')}"`)).join(',')}}`

/**
 * An instance: `write` is one operation, `exec` runs a statement of the reset, `stats` reads the
 * counts and sums of `items` (through the implementation's own client: on SQLite each has its
 * own database).
 */
const instance = (
  mode: Mode,
  engine: Engine,
  write: () => Promise<unknown> | unknown,
  exec: (text: string) => Promise<unknown> | unknown,
  stats: () => Promise<Record<string, unknown>> | Record<string, unknown>,
  close: () => Promise<void> | void,
) => {
  const reset = async () => { for (const s of RESET[engine]) await exec(s) }
  return {
    run: async (n: number) => { for (let i = 0; i < n; i++) await write() },
    before: reset,
    check: async () => {
      await reset()
      await write()
      const got = await stats()
      const want = expected(mode)
      for (const k of ['n', 'price', 'stock', 'fresh'] as const) expect(Number(got[k]) === want[k], `${k}: ${String(got[k])}, expected ${want[k]}`)
    },
    close,
  }
}

type Make = ImplSpec['make']
type Target = Parameters<Make>[0]

const sqliteImpl = (mode: Mode, name: string, note: string, write: (db: Database.Database) => () => void): ImplSpec => ({
  name,
  note,
  make: () => {
    const db = C.rawSqlite()
    const stats = db.prepare(STATS)
    return instance(mode, 'sqlite', write(db), (s) => db.exec(s), () => stats.get() as Record<string, unknown>, () => { db.close() })
  },
})

const postgresImpl = (mode: Mode, name: string, note: string, write: (sql: ReturnType<typeof C.rawPostgres>) => () => Promise<unknown>): ImplSpec => ({
  name,
  note,
  make: (t: Target) => {
    const sql = C.rawPostgres(t)
    return instance(mode, 'postgres', write(sql), (s) => sql.unsafe(s), async () => (await sql.unsafe(STATS))[0], () => sql.end())
  },
})

const mariadbImpl = (mode: Mode, name: string, note: string, write: (pool: ReturnType<typeof C.rawMysql>) => () => Promise<unknown>): ImplSpec => ({
  name,
  note,
  make: (t: Target) => {
    const pool = C.rawMysql(t)
    return instance(mode, 'mariadb', write(pool), (s) => pool.query(s), async () => ((await pool.query(STATS))[0] as Record<string, unknown>[])[0], () => pool.end())
  },
})

const rawImpls = (engine: Engine, mode: Mode): ImplSpec[] => {
  const what = mode === 'upsert' ? 'ON CONFLICT (sku) DO UPDATE' : 'ON CONFLICT (sku) DO NOTHING'
  if (engine === 'sqlite') {
    return [
      sqliteImpl(mode, 'raw better-sqlite3, multi-row VALUES', `1000 rows per \`INSERT ... ${what}\` (prepared once), in \`db.transaction()\``, (db) => {
        const stmt = db.prepare(insertText(1000, () => '?') + tail(engine, mode))
        const tx = db.transaction(() => { for (let i = 0; i < N; i += 1000) stmt.run(flat(i, i + 1000)) })
        return () => tx()
      }),
      sqliteImpl(mode, 'raw better-sqlite3, statement per row', `one prepared single-row \`INSERT ... ${what}\` run 5,000 times in \`db.transaction()\``, (db) => {
        const stmt = db.prepare(insertText(1, () => '?') + tail(engine, mode))
        const tx = db.transaction(() => { for (const r of ROWS) stmt.run(r.sku, r.name, r.price, r.stock) })
        return () => tx()
      }),
    ]
  }
  if (engine === 'postgres') {
    return [
      postgresImpl(mode, 'raw postgres.js, multi-row VALUES', `one \`INSERT ... ${what}\`, \`sql(rows)\` helper (20,000 parameters)`, (sql) => mode === 'upsert'
        ? () => sql`INSERT INTO items ${sql(ROWS as ItemRow[], ...COLS)} ON CONFLICT (sku) DO UPDATE SET price = excluded.price, stock = excluded.stock`
        : () => sql`INSERT INTO items ${sql(ROWS as ItemRow[], ...COLS)} ON CONFLICT (sku) DO NOTHING`),
      postgresImpl(mode, 'raw postgres.js, unnest', `one \`INSERT ... SELECT * FROM unnest(...) ${what}\`, an array per column`, (sql) => () =>
        sql.unsafe(
          `INSERT INTO items (${COLS.join(', ')}) SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::int[])${tail(engine, mode)}`,
          COLS.map((c) => pgArray(ROWS.map((r) => r[c]))),
        )),
    ]
  }
  return [
    mariadbImpl(mode, 'raw mysql2, multi-row VALUES `query`', `one \`INSERT ... VALUES ?${tail(engine, mode)}\` (escaped client-side)`, (pool) => () =>
      pool.query(`INSERT INTO items (${COLS.join(', ')}) VALUES ?${tail(engine, mode)}`, [ROWS.map((r) => [r.sku, r.name, r.price, r.stock])])),
    mariadbImpl(mode, 'raw mysql2, multi-row VALUES `execute`', '1000 rows per prepared statement, in a transaction', (pool) => executeChunks(pool, insertText(1000, () => '?') + tail(engine, mode))),
  ]
}

/**
 * The fastest raw method again (as it ran here), with RETURNING of every column: what the model
 * calls ask of the engine (they return the stored rows). Listed for reference; never the baseline.
 */
const rawReturning = (engine: Engine, mode: Mode): ImplSpec => {
  const ret = ' RETURNING id, sku, name, price, stock'
  const what = mode === 'upsert' ? 'what `upsertMany` asks' : 'what `createMany` asks'
  if (engine === 'sqlite') {
    return sqliteImpl(mode, 'raw better-sqlite3, multi-row VALUES + RETURNING', `reference: ${what} of SQLite`, (db) => {
      const stmt = db.prepare(insertText(1000, () => '?') + tail(engine, mode) + ret)
      const tx = db.transaction(() => { for (let i = 0; i < N; i += 1000) stmt.all(flat(i, i + 1000)) })
      return () => tx()
    })
  }
  if (engine === 'postgres') {
    return postgresImpl(mode, 'raw postgres.js, unnest + RETURNING', 'reference: the fastest raw method, returning the stored rows', (sql) => () =>
      sql.unsafe(
        `INSERT INTO items (${COLS.join(', ')}) SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::int[])${tail(engine, mode)}${ret}`,
        COLS.map((c) => pgArray(ROWS.map((r) => r[c]))),
      ))
  }
  return mariadbImpl(mode, 'raw mysql2, multi-row VALUES `execute` + RETURNING', `reference: 1000 rows per prepared statement, in a transaction, returning every row${mode === 'ignore' ? ' (MariaDB returns the stored row for a skipped one)' : ''}`, (pool) => executeChunks(pool, insertText(1000, () => '?') + tail(engine, mode) + ret))
}

/** Every row through a 1000-row prepared statement run per chunk, in a transaction (raw mysql2). */
const executeChunks = (pool: ReturnType<typeof C.rawMysql>, text: string) => async (): Promise<void> => {
  const conn = await pool.getConnection()
  try {
    await conn.beginTransaction()
    for (let i = 0; i < N; i += 1000) await conn.execute(text, flat(i, i + 1000))
    await conn.commit()
  } finally {
    conn.release()
  }
}

const recordkitImpl = (mode: Mode, engine: Engine, name: string, note: string, write: (db: Backend) => () => Promise<unknown>): ImplSpec => ({
  name,
  note,
  make: async (t: Target) => {
    const db = await C.recordkit(t)
    return instance(
      mode, engine, write(db),
      async (s) => right(await db.execute(sql.raw(s))()),
      async () => right(await db.all<Record<string, unknown>>(sql.raw(STATS))())[0],
      () => { void db.close()() },
    )
  },
})

/** Rows in a transaction, `write` run on each chunk of `size`, stopping at the first failure. */
const inChunks = (db: Backend, size: number, write: (part: ItemRow[]) => ReturnType<Backend['execute']>) =>
  db.transaction(() => async () => {
    for (const part of chunks(ROWS, size)) {
      const r = await write(part)()
      if (r._tag === 'Left') return r
    }
    return { _tag: 'Right', right: undefined }
  })

const impls = (engine: Engine, mode: Mode): ImplSpec[] => {
  const upsert = mode === 'upsert'
  const action = upsert ? ([...UPDATED] as string[]) : 'nothing'
  const recordkit: ImplSpec[] = upsert
    ? [
        recordkitImpl(mode, engine, 'recordkit `Item.upsertMany`',
          engine === 'mariadb'
            ? 'model: validated, one transaction, multi-row `INSERT ... ON DUPLICATE KEY UPDATE ... RETURNING` of the keys per chunk, rows read back by key, decoded'
            : 'model: validated, one transaction, multi-row `INSERT ... ON CONFLICT ... RETURNING` per chunk, stored rows returned and decoded',
          (db) => async () => expect(right(await Item.upsertMany(db, ROWS, { conflict: ['sku'], update: [...UPDATED] })()).length === N, 'upsertMany returns every row')),
      ]
    : [
        recordkitImpl(mode, engine, 'recordkit `Item.createMany` (onConflict: ignore, returning: false)', 'model: validated, one transaction, nothing read back; the count inserted',
          (db) => async () => expect(right(await Item.createMany(db, ROWS, { onConflict: 'ignore', returning: false })()) === N / 2, 'createMany counts the rows inserted')),
        recordkitImpl(mode, engine, 'recordkit `Item.createMany` (onConflict: ignore)', 'model: validated, one transaction, the rows inserted returned and decoded',
          (db) => async () => expect(right(await Item.createMany(db, ROWS, { onConflict: 'ignore' })()).length === N / 2, 'createMany returns the rows inserted')),
      ]
  const builder = recordkitImpl(mode, engine, `recordkit \`insertInto\` + \`values\` + \`onConflict(['sku'], ${upsert ? "['price', 'stock']" : "'nothing'"})\``,
    'chunks under the parameter limit, one transaction',
    (db) => {
      const size = Math.floor(db.dialect.maxParams / COLS.length)
      return async () => right(await inChunks(db, size, (part) => db.execute(pipe(insertInto('items'), values(part), onConflict(['sku'], action))))())
    })
  const builderUnnest = recordkitImpl(mode, engine, `recordkit \`values\` + \`unnest(types)\` + \`onConflict\``, 'one statement',
    (db) => {
      const types = { sku: 'text', name: 'text', price: 'int4', stock: 'int4' }
      return async () => right(await db.execute(pipe(insertInto('items'), values(ROWS as ItemRow[]), unnest(types), onConflict(['sku'], action)))())
    })
  const kysely: ImplSpec = {
    name: 'Kysely', note: engine === 'mariadb' ? `chunks of 1000 in \`db.transaction()\`, \`${upsert ? 'onDuplicateKeyUpdate' : 'onDuplicateKeyUpdate({ sku: sku })'}\`` : `chunks of 1000 in \`db.transaction()\`, \`onConflict(... ${upsert ? 'doUpdateSet' : 'doNothing'})\``,
    make: (t) => {
      const db = C.kysely(t)
      const write = () => db.transaction().execute(async (trx) => {
        for (const p of chunks(ROWS, 1000)) {
          const q = trx.insertInto('items').values(p)
          if (engine === 'mariadb') {
            await q.onDuplicateKeyUpdate(upsert ? { price: ksql`VALUES(price)`, stock: ksql`VALUES(stock)` } : { sku: ksql.ref('sku') }).execute()
          } else {
            await q.onConflict((oc) => (upsert ? oc.column('sku').doUpdateSet((eb) => ({ price: eb.ref('excluded.price'), stock: eb.ref('excluded.stock') })) : oc.column('sku').doNothing())).execute()
          }
        }
      })
      return instance(mode, engine, write, (s) => ksql.raw(s).execute(db), async () => (await ksql.raw<Record<string, unknown>>(STATS).execute(db)).rows[0], () => db.destroy())
    },
  }
  const drizzle: ImplSpec = {
    name: 'Drizzle', note: `chunks of 1000 in \`db.transaction()\`, \`${engine === 'mariadb' ? 'onDuplicateKeyUpdate' : upsert ? 'onConflictDoUpdate' : 'onConflictDoNothing'}\``,
    make: (t) => {
      if (engine === 'sqlite') {
        const db = C.drizzleOnSqlite()
        const set = { price: dsql.raw('excluded.price'), stock: dsql.raw('excluded.stock') }
        return instance(mode, engine,
          () => db.transaction((tx) => {
            for (const p of chunks(ROWS, 1000)) {
              const q = tx.insert(ds.items).values(p)
              if (upsert) q.onConflictDoUpdate({ target: ds.items.sku, set }).run()
              else q.onConflictDoNothing({ target: ds.items.sku }).run()
            }
          }),
          (s) => db.$client.exec(s),
          () => db.$client.prepare(STATS).get() as Record<string, unknown>,
          () => C.closeDrizzle(db))
      }
      if (engine === 'postgres') {
        const db = C.drizzleOnPostgres(t)
        const set = { price: dsql.raw('excluded.price'), stock: dsql.raw('excluded.stock') }
        return instance(mode, engine,
          () => db.transaction(async (tx) => {
            for (const p of chunks(ROWS, 1000)) {
              const q = tx.insert(dp.items).values(p)
              if (upsert) await q.onConflictDoUpdate({ target: dp.items.sku, set })
              else await q.onConflictDoNothing({ target: dp.items.sku })
            }
          }),
          (s) => db.$client.unsafe(s),
          async () => (await db.$client.unsafe(STATS))[0],
          () => C.closeDrizzle(db))
      }
      const db = C.drizzleOnMariadb(t)
      const set = upsert ? { price: dsql`VALUES(${dm.items.price})`, stock: dsql`VALUES(${dm.items.stock})` } : { sku: dsql`${dm.items.sku}` }
      return instance(mode, engine,
        () => db.transaction(async (tx) => { for (const p of chunks(ROWS, 1000)) await tx.insert(dm.items).values(p).onDuplicateKeyUpdate({ set }) }),
        (s) => db.$client.query(s),
        async () => ((await db.$client.query(STATS))[0] as Record<string, unknown>[])[0],
        () => C.closeDrizzle(db))
    },
  }
  const knex: ImplSpec = {
    name: 'Knex', note: `chunks of ${engine === 'sqlite' ? 500 : 1000} in \`knex.transaction\`, \`.onConflict('sku').${upsert ? "merge(['price', 'stock'])" : 'ignore()'}\``,
    make: (t) => {
      const k = C.knex(t)
      const size = engine === 'sqlite' ? 500 : 1000
      const rowsOf = (r: unknown): Record<string, unknown>[] =>
        (Array.isArray(r) ? (Array.isArray(r[0]) ? r[0] : r) : (r as { rows: Record<string, unknown>[] }).rows) as Record<string, unknown>[]
      return instance(mode, engine,
        () => k.transaction(async (trx) => {
          for (const p of chunks(ROWS, size)) {
            const q = trx('items').insert(p).onConflict('sku')
            await (upsert ? q.merge([...UPDATED]) : q.ignore())
          }
        }),
        (s) => k.raw(s),
        async () => rowsOf(await k.raw(STATS))[0],
        () => k.destroy())
    },
  }
  return [...rawImpls(engine, mode), rawReturning(engine, mode), ...recordkit, builder, ...(engine === 'postgres' ? [builderUnnest] : []), kysely, drizzle, knex]
}

export const groups = (engines: readonly Engine[]): GroupSpec[] =>
  engines.flatMap((engine): GroupSpec[] => [
    {
      key: `W9.upsert.${engine}`,
      workload: 'W9',
      title: 'Upsert 5,000 rows, half of them stored',
      engine,
      op: 'upsert 5,000 rows by `sku` into a table holding 2,500 of their keys (the stored rows get the new `price` and `stock`)',
      rowsPerOp: N,
      compare: { ops: 1, rounds: engine === 'sqlite' ? 21 : 9, warmupMs: 200 },
      rawMethods: 2,
      impls: impls(engine, 'upsert'),
    },
    {
      key: `W9.ignore.${engine}`,
      workload: 'W9',
      title: 'Insert 5,000 rows, skipping the 2,500 stored',
      engine,
      op: 'insert 5,000 rows into a table holding 2,500 of their keys, leaving the stored rows as they are',
      rowsPerOp: N,
      compare: { ops: 1, rounds: engine === 'sqlite' ? 21 : 9, warmupMs: 200 },
      rawMethods: 2,
      impls: impls(engine, 'ignore'),
    },
  ])

if (import.meta.url === `file://${process.argv[1]}`) await main(groups)
