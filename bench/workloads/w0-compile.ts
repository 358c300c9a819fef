/**
 * W0: build + compile only, no database. Each operation builds a query with the library's
 * builder and compiles it to PostgreSQL SQL text and parameters:
 *
 * - recordkit: the builders, then `postgres.compile(node)` (the dialect, pure);
 * - Kysely: `.compile()` on a Kysely with the PostgreSQL adapter and compiler and a `DummyDriver`
 *   (Kysely's documented way to build without a connection);
 * - Drizzle: `.toSQL()` on `drizzle.mock()` from `drizzle-orm/postgres-js`;
 * - Knex: `.toSQL().toNative()` on `knex({ client: 'pg' })` (`toNative` gives `$n` placeholders,
 *   which is what Knex sends to PostgreSQL).
 *
 * The baseline is Kysely: there is no raw driver here.
 */
import { and as dand, eq as deq, gt as dgt, desc as ddesc } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/postgres-js'
import { pipe } from 'fp-ts/lib/function.js'
import knexFactory from 'knex'
import { DummyDriver, Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler } from 'kysely'
import { and, eq, from, gt, insertInto, join, limit, orderBy, select, values, where } from 'recordkit/query'
import { postgres } from 'recordkit/dialects/postgres'
import type { Engine } from '../env.js'
import { newPost } from '../env.js'
import { type GroupSpec, type ImplSpec, main } from '../group.js'
import { expect } from '../lib.js'
import * as dp from '../schema/drizzle-postgres.js'
import type { KyselyDB } from '../schema/kysely.js'

const k = new Kysely<KyselyDB>({
  dialect: {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (db) => new PostgresIntrospector(db),
    createQueryCompiler: () => new PostgresQueryCompiler(),
  },
})
const d = drizzle.mock({ schema: dp })
const kx = knexFactory({ client: 'pg' })

const USER_COLS = ['id', 'name', 'email', 'active', 'created_at'] as const
const POST_COLS = ['id', 'user_id', 'title', 'body', 'published', 'score', 'created_at'] as const
const ROWS = Array.from({ length: 100 }, (_, i) => newPost(i + 1))
const SNAKE = ROWS.map((r) => ({ user_id: r.userId, title: r.title, body: r.body, published: r.published, score: r.score, created_at: r.createdAt }))

interface Query {
  readonly key: string
  readonly title: string
  /** Parameters the compiled statement must have. */
  readonly params: number
  readonly recordkit: (i: number) => { sql: string; params: readonly unknown[] }
  readonly kysely: (i: number) => { sql: string; parameters: readonly unknown[] }
  readonly drizzle: (i: number) => { sql: string; params: unknown[] }
  readonly knex: (i: number) => { sql: string; bindings: readonly unknown[] }
}

const compiled = (r: ReturnType<typeof postgres.compile>) => {
  if (r._tag === 'Left') throw r.left
  return r.right
}

const QUERIES: readonly Query[] = [
  {
    key: 'point',
    title: 'point select',
    params: 1,
    recordkit: (i) => compiled(postgres.compile(pipe(from('users'), select(...USER_COLS), where(eq('id', i))))),
    kysely: (i) => k.selectFrom('users').select([...USER_COLS]).where('id', '=', i).compile(),
    drizzle: (i) => d.select().from(dp.users).where(deq(dp.users.id, i)).toSQL(),
    knex: (i) => kx('users').select(...USER_COLS).where('id', i).toSQL().toNative(),
  },
  {
    key: 'filter',
    title: 'filter + order + limit',
    params: 3,
    recordkit: (i) => compiled(postgres.compile(pipe(
      from('posts'), select(...POST_COLS), where(and(eq('published', true), gt('score', i % 100))), orderBy('created_at', 'desc'), limit(20),
    ))),
    kysely: (i) => k.selectFrom('posts').select([...POST_COLS]).where('published', '=', true).where('score', '>', i % 100)
      .orderBy('created_at', 'desc').limit(20).compile(),
    drizzle: (i) => d.select().from(dp.posts).where(dand(deq(dp.posts.published, true), dgt(dp.posts.score, i % 100)))
      .orderBy(ddesc(dp.posts.createdAt)).limit(20).toSQL(),
    knex: (i) => kx('posts').select(...POST_COLS).where('published', true).andWhere('score', '>', i % 100)
      .orderBy('created_at', 'desc').limit(20).toSQL().toNative(),
  },
  {
    key: 'join',
    title: 'two-table join',
    params: 3,
    recordkit: (i) => compiled(postgres.compile(pipe(
      from('posts'), select('posts.id', 'posts.title', 'users.name'), join('users', ['users.id', 'posts.user_id']),
      where(and(eq('users.active', true), gt('posts.score', i % 100))), orderBy('posts.id'), limit(50),
    ))),
    kysely: (i) => k.selectFrom('posts').innerJoin('users', 'users.id', 'posts.user_id').select(['posts.id', 'posts.title', 'users.name'])
      .where('users.active', '=', true).where('posts.score', '>', i % 100).orderBy('posts.id').limit(50).compile(),
    drizzle: (i) => d.select({ id: dp.posts.id, title: dp.posts.title, name: dp.users.name }).from(dp.posts)
      .innerJoin(dp.users, deq(dp.users.id, dp.posts.userId)).where(dand(deq(dp.users.active, true), dgt(dp.posts.score, i % 100)))
      .orderBy(dp.posts.id).limit(50).toSQL(),
    knex: (i) => kx('posts').join('users', 'users.id', 'posts.user_id').select('posts.id', 'posts.title', 'users.name')
      .where('users.active', true).andWhere('posts.score', '>', i % 100).orderBy('posts.id').limit(50).toSQL().toNative(),
  },
  {
    key: 'insert',
    title: '100-row insert',
    params: 600,
    recordkit: () => compiled(postgres.compile(pipe(insertInto('post_inserts'), values(SNAKE)))),
    kysely: () => k.insertInto('post_inserts').values(SNAKE).compile(),
    drizzle: () => d.insert(dp.postInserts).values(ROWS).toSQL(),
    knex: () => kx('post_inserts').insert(SNAKE).toSQL().toNative(),
  },
]

const impl = (name: string, note: string, q: Query, f: (i: number) => { sql: string }, paramsOf: (c: never) => readonly unknown[]): ImplSpec => ({
  name,
  note,
  make: () => {
    let i = 0
    return {
      run: (n) => {
        for (let j = 0; j < n; j++) f(++i)
      },
      check: () => {
        const c = f(1)
        expect(typeof c.sql === 'string' && paramsOf(c as never).length === q.params, `${name} ${q.key}: ${c.sql} ${JSON.stringify(paramsOf(c as never)).slice(0, 100)}`)
      },
    }
  },
})

export const groups = (_: readonly Engine[]): GroupSpec[] =>
  QUERIES.map((q) => ({
    key: `W0.${q.key}`,
    workload: 'W0',
    title: `Build + compile: ${q.title}`,
    engine: 'compile',
    op: `build and compile one ${q.title} to PostgreSQL SQL`,
    impls: [
      impl('Kysely `.compile()`', 'baseline', q, q.kysely, (c: { parameters: readonly unknown[] }) => c.parameters),
      impl('recordkit', 'builders + `postgres.compile`', q, q.recordkit, (c: { params: readonly unknown[] }) => c.params),
      impl('Drizzle `.toSQL()`', '`drizzle.mock()`', q, q.drizzle, (c: { params: readonly unknown[] }) => c.params),
      impl('Knex `.toSQL()`', '`.toNative()`', q, q.knex, (c: { bindings: readonly unknown[] }) => c.bindings),
    ],
  }))

if (import.meta.url === `file://${process.argv[1]}`) await main(groups)
