/**
 * W5: eager loading of a three-level tree, on every engine:
 *
 * - 100 users with their posts (1000) and the posts' comments (3000);
 * - every Chinook customer (59) with their invoices (412) and the invoices' lines (2240).
 *
 * The baseline is "batched raw": three statements (parents, then children of all parents by
 * `IN (...)`, or `= ANY($1)` on PostgreSQL, then grandchildren the same way) and the tree put
 * together in plain JS. "batched raw + decoding by hand" also maps every row to what the
 * models return (camelCase fields, booleans, Dates, decimal strings), for a like-for-like
 * reference; "N+1 raw" (one statement per parent and per child) is listed too. recordkit:
 * `Model.include('posts.comments')` (one statement per level, rows decoded). Kysely:
 * `jsonArrayFrom` (its documented way: one statement, JSON aggregated by the database).
 * Drizzle: relational queries (`db.query...findMany({ with })`). Knex has no eager loading:
 * the three batched statements, written with Knex.
 */
import { between as dbetween } from 'drizzle-orm'
import { pipe } from 'fp-ts/lib/function.js'
import type { Kysely } from 'kysely'
import { jsonArrayFrom as jsonMysql } from 'kysely/helpers/mysql'
import { jsonArrayFrom as jsonPostgres } from 'kysely/helpers/postgres'
import { jsonArrayFrom as jsonSqlite } from 'kysely/helpers/sqlite'
import * as C from '../clients.js'
import type { Engine } from '../env.js'
import { type GroupSpec, type ImplSpec, main } from '../group.js'
import { expect, right } from '../lib.js'
import type { KyselyDB } from '../schema/kysely.js'
import { Blog, Chinook } from '../schema/recordkit.js'

type Row = Record<string, unknown>

interface Level {
  readonly table: keyof KyselyDB & string
  readonly key: string
  /** The column holding the parent's key (children and grandchildren). */
  readonly fk?: string
  readonly columns: readonly string[]
  /** Property the children are attached under. */
  readonly as?: string
  /** Columns whose values the model converts (the rest are renamed only), for decoding by hand. */
  readonly convert?: Readonly<Record<string, (v: unknown) => unknown>>
}

const toDate = (v: unknown): Date => (v instanceof Date ? v : new Date(v as string))
const toBool = (v: unknown): boolean => v === true || v === 1
const decimalText = (v: unknown): string => (typeof v === 'string' ? v : String(v))

interface Tree {
  readonly key: string
  readonly title: string
  readonly levels: readonly [Level, Level, Level]
  readonly window: (k: number) => readonly [number, number]
  /** Rows expected at each level. */
  readonly expected: readonly [number, number, number]
  readonly recordkit: (db: Parameters<typeof Blog.User.all>[0], a: number, b: number) => Promise<Row[]>
  readonly drizzle: 'blog' | 'chinook'
}

const BLOG: Tree = {
  key: 'blog',
  title: '100 users with posts and comments',
  levels: [
    { table: 'users', key: 'id', columns: ['id', 'name', 'email', 'active', 'created_at'], convert: { active: toBool, created_at: toDate } },
    { table: 'posts', key: 'id', fk: 'user_id', columns: ['id', 'user_id', 'title', 'body', 'published', 'score', 'created_at'], as: 'posts', convert: { published: toBool, created_at: toDate } },
    { table: 'comments', key: 'id', fk: 'post_id', columns: ['id', 'post_id', 'author', 'body', 'created_at'], as: 'comments', convert: { created_at: toDate } },
  ],
  window: (k) => {
    const a = 1 + (k % 10) * 100
    return [a, a + 99]
  },
  expected: [100, 1000, 3000],
  recordkit: async (db, a, b) =>
    right(await pipe(Blog.User.query, Blog.User.where('id', 'between', a, b), Blog.User.orderBy('id'), Blog.User.include('posts.comments'), Blog.User.all(db))()) as Row[],
  drizzle: 'blog',
}

const CHINOOK: Tree = {
  key: 'chinook',
  title: 'all Chinook customers with invoices and invoice lines',
  levels: [
    {
      table: 'customer', key: 'customer_id',
      columns: ['customer_id', 'first_name', 'last_name', 'company', 'address', 'city', 'state', 'country', 'postal_code', 'phone', 'fax', 'email', 'support_rep_id'],
    },
    {
      table: 'invoice', key: 'invoice_id', fk: 'customer_id', as: 'invoices',
      columns: ['invoice_id', 'customer_id', 'invoice_date', 'billing_address', 'billing_city', 'billing_state', 'billing_country', 'billing_postal_code', 'total'],
      convert: { invoice_date: toDate, total: decimalText },
    },
    {
      table: 'invoice_line', key: 'invoice_line_id', fk: 'invoice_id', as: 'lines', columns: ['invoice_line_id', 'invoice_id', 'track_id', 'unit_price', 'quantity'],
      convert: { unit_price: decimalText },
    },
  ],
  window: () => [1, 1000],
  expected: [59, 412, 2240],
  recordkit: async (db, a, b) =>
    right(await pipe(
      Chinook.Customer.query, Chinook.Customer.where('customerId', 'between', a, b), Chinook.Customer.orderBy('customerId'),
      Chinook.Customer.include('invoices.lines'), Chinook.Customer.all(db),
    )()) as Row[],
  drizzle: 'chinook',
}

/** Count the rows at each level of a loaded tree (the check). */
const shape = (tree: Tree, parents: readonly Row[]): [number, number, number] => {
  const [, l1, l2] = tree.levels
  let children = 0
  let grandchildren = 0
  for (const p of parents) {
    const cs = (p[l1.as!] ?? p[camel(l1.as!)]) as Row[]
    children += cs.length
    for (const c of cs) grandchildren += ((c[l2.as!] ?? c[camel(l2.as!)]) as Row[]).length
  }
  return [parents.length, children, grandchildren]
}
const camel = (s: string): string => s.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())

const instance = (tree: Tree, load: (a: number, b: number) => Promise<Row[]> | Row[], close: () => Promise<void> | void) => {
  let k = 0
  return {
    run: async (n: number) => {
      for (let i = 0; i < n; i++) {
        const [a, b] = tree.window(k++)
        await load(a, b)
      }
    },
    check: async () => {
      const [a, b] = tree.window(0)
      const got = shape(tree, await load(a, b))
      expect(got.join() === tree.expected.join(), `${tree.key}: loaded ${got.join('/')} rows, expected ${tree.expected.join('/')}`)
    },
    close,
  }
}

/**
 * Put three levels of rows together: children under their parents, by key. `name` maps a
 * column name to the property holding it (camelCase once decoded).
 */
const assemble = (tree: Tree, parents: Row[], children: Row[], grandchildren: Row[], name: (c: string) => string = (c) => c): Row[] => {
  const [l0, l1, l2] = tree.levels
  const byChild = new Map<unknown, Row[]>()
  for (const c of children) byChild.set(c[name(l1.key)], (c[name(l2.as!)] = []) as Row[])
  for (const g of grandchildren) byChild.get(g[name(l2.fk!)])!.push(g)
  const byParent = new Map<unknown, Row[]>()
  for (const p of parents) byParent.set(p[name(l0.key)], (p[name(l1.as!)] = []) as Row[])
  for (const c of children) byParent.get(c[name(l1.fk!)])!.push(c)
  return parents
}

/** A level's raw rows decoded by hand to the model's objects: camelCase fields, values converted. */
const decodeLevel = (l: Level) => {
  const fields = l.columns.map((c) => [c, camel(c), l.convert?.[c]] as const)
  return (rows: Row[]): Row[] => rows.map((r) => {
    const out: Row = {}
    for (const [c, f, conv] of fields) out[f] = conv === undefined ? r[c] : conv(r[c])
    return out
  })
}

const selectText = (l: Level, where: string): string => `SELECT ${l.columns.join(', ')} FROM ${l.table} WHERE ${where}`
const placeholders = (n: number): string => Array.from({ length: n }, () => '?').join(', ')

/** Raw queries for one engine: parents by window, rows of a level by a list of parent keys, rows of a level by one key. */
interface RawQueries {
  readonly parents: (a: number, b: number) => Promise<Row[]> | Row[]
  readonly byKeys: (level: 1 | 2, keys: unknown[]) => Promise<Row[]> | Row[]
  readonly byKey: (level: 1 | 2, key: unknown) => Promise<Row[]> | Row[]
  readonly close: () => Promise<void> | void
}

const rawQueries = (tree: Tree, t: Parameters<ImplSpec['make']>[0]): RawQueries => {
  const [l0] = tree.levels
  const top = `${selectText(l0, `${l0.key} BETWEEN ? AND ?`)} ORDER BY ${l0.key}`
  if (t.engine === 'sqlite') {
    const db = C.rawSqlite()
    const parents = db.prepare(top)
    const one = [1, 2].map((i) => db.prepare(selectText(tree.levels[i], `${tree.levels[i].fk} = ?`)))
    const many = new Map<string, ReturnType<typeof db.prepare>>()
    return {
      parents: (a, b) => parents.all(a, b) as Row[],
      byKeys: (level, keys) => {
        const id = `${level}:${keys.length}`
        let s = many.get(id)
        if (s === undefined) many.set(id, (s = db.prepare(selectText(tree.levels[level], `${tree.levels[level].fk} IN (${placeholders(keys.length)})`))))
        return s.all(keys) as Row[]
      },
      byKey: (level, key) => one[level - 1].all(key) as Row[],
      close: () => { db.close() },
    }
  }
  if (t.engine === 'postgres') {
    const sql = C.rawPostgres(t)
    const pg = (text: string) => { let i = 0; return text.replace(/\?/g, () => `$${++i}`) }
    const topPg = pg(top)
    const any = [1, 2].map((i) => selectText(tree.levels[i], `${tree.levels[i].fk} = ANY($1::int[])`))
    const one = [1, 2].map((i) => selectText(tree.levels[i], `${tree.levels[i].fk} = $1`))
    const rows = (p: unknown) => p as Promise<Row[]>
    return {
      parents: (a, b) => rows(sql.unsafe(topPg, [a, b], { prepare: true })),
      byKeys: (level, keys) => rows(sql.unsafe(any[level - 1], [`{${keys.join(',')}}`], { prepare: true })),
      byKey: (level, key) => rows(sql.unsafe(one[level - 1], [key as number], { prepare: true })),
      close: () => sql.end(),
    }
  }
  const pool = C.rawMysql(t)
  const one = [1, 2].map((i) => selectText(tree.levels[i], `${tree.levels[i].fk} = ?`))
  return {
    parents: async (a, b) => (await pool.execute(top, [a, b]))[0] as Row[],
    byKeys: async (level, keys) => (await pool.execute(selectText(tree.levels[level], `${tree.levels[level].fk} IN (${placeholders(keys.length)})`), keys as never[]))[0] as Row[],
    byKey: async (level, key) => (await pool.execute(one[level - 1], [key as number]))[0] as Row[],
    close: () => pool.end(),
  }
}

const kyselyTree = (tree: Tree, db: Kysely<KyselyDB>, engine: Engine) => {
  const json = engine === 'postgres' ? jsonPostgres : engine === 'sqlite' ? jsonSqlite : jsonMysql
  const [l0, l1, l2] = tree.levels
  // Written against the schema dynamically (the same code for both trees); types are Kysely's own concern.
  const k = db as unknown as Kysely<Record<string, Record<string, unknown>>>
  return async (a: number, b: number): Promise<Row[]> =>
    k.selectFrom(l0.table)
      .select((eb) => [
        ...l0.columns.map((c) => `${l0.table}.${c}`),
        json(
          eb.selectFrom(l1.table)
            .select((eb2) => [
              ...l1.columns.map((c) => `${l1.table}.${c}`),
              json(eb2.selectFrom(l2.table).select(l2.columns.map((c) => `${l2.table}.${c}`)).whereRef(`${l2.table}.${l2.fk}`, '=', `${l1.table}.${l1.key}`)).as(l2.as!),
            ])
            .whereRef(`${l1.table}.${l1.fk}`, '=', `${l0.table}.${l0.key}`),
        ).as(l1.as!),
      ] as never)
      .where(`${l0.table}.${l0.key}`, '>=', a)
      .where(`${l0.table}.${l0.key}`, '<=', b)
      .orderBy(`${l0.table}.${l0.key}`)
      .execute() as Promise<Row[]>
}

const drizzleTree = (tree: Tree, t: Parameters<ImplSpec['make']>[0]): { load: (a: number, b: number) => Promise<Row[]> | Row[]; close: () => Promise<void> } => {
  const make = () => (t.engine === 'sqlite' ? C.drizzleOnSqlite() : t.engine === 'postgres' ? C.drizzleOnPostgres(t) : C.drizzleOnMariadb(t))
  const db = make()
  // The three engines' relational query APIs have the same shape.
  const q = (db as unknown as { query: Record<string, { findMany: (o: unknown) => Promise<Row[]> | { sync?: () => Row[] } }> }).query
  const blog = tree.drizzle === 'blog'
  const table = blog ? q.users : q.customer
  const key = blog ? 'id' : 'customerId'
  const withs = blog ? { posts: { with: { comments: true } } } : { invoices: { with: { lines: true } } }
  return {
    load: (a, b) => table.findMany({
      where: (p: Record<string, never>) => dbetween(p[key], a, b),
      orderBy: (p: Record<string, never>, { asc }: { asc: (c: unknown) => unknown }) => [asc(p[key])],
      with: withs,
    }) as Promise<Row[]>,
    close: () => C.closeDrizzle(db),
  }
}

const impls = (tree: Tree, engine: Engine): ImplSpec[] => [
  {
    name: 'batched raw', note: engine === 'postgres' ? '3 statements, `= ANY($1)`' : '3 statements, `IN (...)`',
    make: (t) => {
      const r = rawQueries(tree, t)
      const [l0, l1] = tree.levels
      return instance(tree, async (a, b) => {
        const parents = await r.parents(a, b)
        const children = await r.byKeys(1, parents.map((p) => p[l0.key]))
        const grandchildren = children.length === 0 ? [] : await r.byKeys(2, children.map((c) => c[l1.key]))
        return assemble(tree, parents, children, grandchildren)
      }, r.close)
    },
  },
  {
    name: 'batched raw + decoding by hand', note: 'the same 3 statements, rows mapped in plain JS to what the models return',
    make: (t) => {
      const r = rawQueries(tree, t)
      const [l0, l1] = tree.levels
      const [d0, d1, d2] = tree.levels.map(decodeLevel)
      return instance(tree, async (a, b) => {
        const parents = d0(await r.parents(a, b))
        const children = d1(await r.byKeys(1, parents.map((p) => p[camel(l0.key)])))
        const grandchildren = children.length === 0 ? [] : d2(await r.byKeys(2, children.map((c) => c[camel(l1.key)])))
        return assemble(tree, parents, children, grandchildren, camel)
      }, r.close)
    },
  },
  {
    name: 'N+1 raw', note: 'one statement per parent and per child',
    make: (t) => {
      const r = rawQueries(tree, t)
      const [l0, l1, l2] = tree.levels
      return instance(tree, async (a, b) => {
        const parents = await r.parents(a, b)
        for (const p of parents) {
          const children = await r.byKey(1, p[l0.key])
          p[l1.as!] = children
          for (const c of children) c[l2.as!] = await r.byKey(2, c[l1.key])
        }
        return parents
      }, r.close)
    },
  },
  {
    name: 'recordkit `include`', note: 'one statement per level, rows decoded',
    make: async (t) => {
      const db = await C.recordkit(t)
      return instance(tree, (a, b) => tree.recordkit(db, a, b), () => { void db.close()() })
    },
  },
  engine === 'mariadb'
    ? {
        name: 'Kysely, batched by hand', note: '3 statements with `where(..., \'in\', ...)`: its MySQL JSON helpers use `CAST(... AS JSON)`, which MariaDB lacks',
        make: (t) => {
          const db = C.kysely(t) as unknown as Kysely<Record<string, Record<string, unknown>>>
          const [l0, l1, l2] = tree.levels
          return instance(tree, async (a, b) => {
            const parents = await db.selectFrom(l0.table).select(l0.columns as never).where(l0.key, '>=', a).where(l0.key, '<=', b).orderBy(l0.key).execute() as Row[]
            const children = await db.selectFrom(l1.table).select(l1.columns as never).where(l1.fk!, 'in', parents.map((p) => p[l0.key])).execute() as Row[]
            const grandchildren = await db.selectFrom(l2.table).select(l2.columns as never).where(l2.fk!, 'in', children.map((c) => c[l1.key])).execute() as Row[]
            return assemble(tree, parents, children, grandchildren)
          }, () => db.destroy())
        },
      }
    : {
        name: 'Kysely `jsonArrayFrom`', note: 'one statement, JSON built by the database',
        make: (t) => {
          const db = C.kysely(t, { json: true })
          return instance(tree, kyselyTree(tree, db, engine), () => db.destroy())
        },
      },
  {
    name: 'Drizzle relational query', note: '`findMany({ with })`',
    make: (t) => {
      const d = drizzleTree(tree, t)
      return instance(tree, d.load, d.close)
    },
  },
  {
    name: 'Knex, batched by hand', note: '3 statements with `whereIn`',
    make: (t) => {
      const k = C.knex(t)
      const [l0, l1, l2] = tree.levels
      return instance(tree, async (a, b) => {
        const parents = await k(l0.table).select(...l0.columns).whereBetween(l0.key, [a, b]).orderBy(l0.key) as Row[]
        const children = await k(l1.table).select(...l1.columns).whereIn(l1.fk!, parents.map((p) => p[l0.key]) as number[]) as Row[]
        const grandchildren = await k(l2.table).select(...l2.columns).whereIn(l2.fk!, children.map((c) => c[l1.key]) as number[]) as Row[]
        return assemble(tree, parents, children, grandchildren)
      }, () => k.destroy())
    },
  },
]

export const groups = (engines: readonly Engine[]): GroupSpec[] =>
  [BLOG, CHINOOK].flatMap((tree) => engines.map((engine): GroupSpec => ({
    key: `W5.${tree.key}.${engine}`,
    workload: 'W5',
    title: `Eager loading: ${tree.title}`,
    engine,
    op: `load ${tree.title} (${tree.expected.join(' + ')} rows)`,
    rowsPerOp: tree.expected[0] + tree.expected[1] + tree.expected[2],
    // An operation allocates thousands of rows: a measurement of a few operations would be
    // decided by where a collection falls, so each one runs about a quarter of a second.
    compare: { targetMs: 250 },
    impls: impls(tree, engine),
  })))

if (import.meta.url === `file://${process.argv[1]}`) await main(groups)
