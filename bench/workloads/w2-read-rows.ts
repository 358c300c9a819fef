/**
 * W2: read 1000 rows with decoding, on every engine, over two tables:
 *
 * - `posts` of 100 consecutive users (1000 rows of 7 columns: integers, text, a boolean, a
 *   timestamp);
 * - Chinook `track`, 1000 consecutive tracks (9 columns, nullable ones and a NUMERIC price).
 *
 * The baseline is the raw driver's row objects, as the driver returns them. recordkit reads
 * through the model (`Model.all`: every row decoded by the codec: booleans, Dates, decimals)
 * and, for reference, through `db.all` (no decoding). "raw + decoding by hand" turns the raw rows
 * into the same decoded objects the model returns, written directly in JS.
 */
import { between as dbetween } from 'drizzle-orm'
import { pipe } from 'fp-ts/lib/function.js'
import { between, from, select, where } from 'recordkit/query'
import * as C from '../clients.js'
import type { Engine } from '../env.js'
import { type GroupSpec, type ImplSpec, main } from '../group.js'
import { expect, right } from '../lib.js'
import * as dm from '../schema/drizzle-mariadb.js'
import * as dp from '../schema/drizzle-postgres.js'
import * as ds from '../schema/drizzle-sqlite.js'
import { Blog, Chinook } from '../schema/recordkit.js'

interface Dataset {
  readonly key: string
  readonly title: string
  readonly table: 'posts' | 'track'
  readonly keyColumn: string
  readonly columns: readonly string[]
  /** The window of keys an operation reads, cycling. */
  readonly window: (k: number) => readonly [number, number]
  /** Decoding by hand, to what the model returns. */
  readonly decode: (engine: Engine) => (r: Record<string, unknown>) => Record<string, unknown>
}

const toDate = (v: unknown): Date => (v instanceof Date ? v : new Date(v as string))
const toBool = (v: unknown): boolean => v === true || v === 1
const decimalText = (v: unknown): string => (typeof v === 'string' ? v : String(v))

const POSTS: Dataset = {
  key: 'posts',
  title: '1000 posts (7 columns)',
  table: 'posts',
  keyColumn: 'user_id',
  columns: ['id', 'user_id', 'title', 'body', 'published', 'score', 'created_at'],
  window: (k) => {
    const a = 1 + (k % 10) * 100
    return [a, a + 99]
  },
  decode: () => (r) => ({
    id: r.id, userId: r.user_id, title: r.title, body: r.body, published: toBool(r.published), score: r.score, createdAt: toDate(r.created_at),
  }),
}

const TRACKS: Dataset = {
  key: 'tracks',
  title: '1000 Chinook tracks (9 columns)',
  table: 'track',
  keyColumn: 'track_id',
  columns: ['track_id', 'name', 'album_id', 'media_type_id', 'genre_id', 'composer', 'milliseconds', 'bytes', 'unit_price'],
  window: (k) => {
    const a = 1 + (k % 5) * 500
    return [a, a + 999]
  },
  decode: () => (r) => ({
    trackId: r.track_id, name: r.name, albumId: r.album_id, mediaTypeId: r.media_type_id, genreId: r.genre_id, composer: r.composer,
    milliseconds: r.milliseconds, bytes: r.bytes, unitPrice: decimalText(r.unit_price),
  }),
}

const looped = (read: (a: number, b: number) => Promise<unknown[]> | unknown[], set: Dataset, close: () => Promise<void> | void) => {
  let k = 0
  return {
    run: async (n: number) => {
      for (let i = 0; i < n; i++) {
        const [a, b] = set.window(k++)
        await read(a, b)
      }
    },
    check: async () => {
      const rows = await read(1, set.key === 'posts' ? 100 : 1000)
      expect(rows.length === 1000, `${set.key}: ${rows.length} rows`)
    },
    close,
  }
}

const impls = (engine: Engine, set: Dataset): ImplSpec[] => {
  const text = `SELECT ${set.columns.join(', ')} FROM ${set.table} WHERE ${set.keyColumn} BETWEEN ? AND ?`
  const rawRead = (t: Parameters<ImplSpec['make']>[0]): { read: (a: number, b: number) => Promise<Record<string, unknown>[]>; close: () => Promise<void> | void } => {
    if (engine === 'sqlite') {
      const db = C.rawSqlite()
      const stmt = db.prepare(text)
      return { read: async (a, b) => stmt.all(a, b) as Record<string, unknown>[], close: () => { db.close() } }
    }
    if (engine === 'postgres') {
      const sql = C.rawPostgres(t)
      const pgText = text.replace('?', '$1').replace('?', '$2')
      return { read: (a, b) => sql.unsafe(pgText, [a, b], { prepare: true }) as unknown as Promise<Record<string, unknown>[]>, close: () => sql.end() }
    }
    const pool = C.rawMysql(t)
    return { read: async (a, b) => (await pool.execute(text, [a, b]))[0] as Record<string, unknown>[], close: () => pool.end() }
  }
  const raw: ImplSpec = {
    name: `raw ${engine === 'sqlite' ? 'better-sqlite3' : engine === 'postgres' ? 'postgres.js' : 'mysql2'}`,
    note: engine === 'sqlite' ? 'prepared `.all()`, row objects' : engine === 'postgres' ? 'prepared `unsafe(text, params)`, row objects' : '`pool.execute`, row objects',
    make: (t) => {
      if (engine !== 'sqlite') {
        const r = rawRead(t)
        return looped(r.read, set, r.close)
      }
      // better-sqlite3 is synchronous: no promise per read.
      const db = C.rawSqlite()
      const stmt = db.prepare(text)
      let k = 0
      return {
        run: (n: number) => { for (let i = 0; i < n; i++) { const [a, b] = set.window(k++); stmt.all(a, b) } },
        check: () => expect((stmt.all(1, set.key === 'posts' ? 100 : 1000) as unknown[]).length === 1000, 'rows'),
        close: () => { db.close() },
      }
    },
  }
  const rawDecoded: ImplSpec = {
    name: 'raw + decoding by hand', note: 'the same rows, mapped to the model\'s objects in plain JS',
    make: (t) => {
      const r = rawRead(t)
      const decode = set.decode(engine)
      return looped(async (a, b) => (await r.read(a, b)).map(decode), set, r.close)
    },
  }
  // The two models differ in type only; the query functions are the same.
  const model = (set.key === 'posts' ? Blog.Post : Chinook.Track) as unknown as typeof Blog.Post
  const recordkitModel: ImplSpec = {
    name: `recordkit \`${set.key === 'posts' ? 'Post' : 'Track'}.all\``, note: 'model query, rows decoded',
    make: async (t) => {
      const db = await C.recordkit(t)
      const field = set.key === 'posts' ? 'userId' : 'trackId'
      return looped(async (a, b) => right(await pipe(model.query, model.where(field as 'userId', 'between', a, b), model.all(db))()), set, () => { void db.close()() })
    },
  }
  const recordkitAll: ImplSpec = {
    name: 'recordkit `db.all(builder)`', note: 'no decoding',
    make: async (t) => {
      const db = await C.recordkit(t)
      return looped(async (a, b) => right(await db.all(pipe(from(set.table), select(...set.columns), where(between(set.keyColumn, a, b))))()), set, () => { void db.close()() })
    },
  }
  const kysely: ImplSpec = {
    name: 'Kysely', note: '`.execute()`',
    make: (t) => {
      const db = C.kysely(t)
      return looped((a, b) => db.selectFrom(set.table).select(set.columns as never).where((eb) => eb.between(set.keyColumn as never, a as never, b as never)).execute(), set, () => db.destroy())
    },
  }
  const drizzle: ImplSpec = {
    name: 'Drizzle', note: 'select builder',
    make: (t) => {
      if (engine === 'sqlite') {
        const db = C.drizzleOnSqlite()
        const tbl = set.key === 'posts' ? ds.posts : ds.track
        const col = set.key === 'posts' ? ds.posts.userId : ds.track.trackId
        return looped(async (a, b) => db.select().from(tbl).where(dbetween(col, a, b)).all(), set, () => C.closeDrizzle(db))
      }
      if (engine === 'postgres') {
        const db = C.drizzleOnPostgres(t)
        const tbl = set.key === 'posts' ? dp.posts : dp.track
        const col = set.key === 'posts' ? dp.posts.userId : dp.track.trackId
        return looped((a, b) => db.select().from(tbl).where(dbetween(col, a, b)), set, () => C.closeDrizzle(db))
      }
      const db = C.drizzleOnMariadb(t)
      const tbl = set.key === 'posts' ? dm.posts : dm.track
      const col = set.key === 'posts' ? dm.posts.userId : dm.track.trackId
      return looped((a, b) => db.select().from(tbl).where(dbetween(col, a, b)), set, () => C.closeDrizzle(db))
    },
  }
  const knex: ImplSpec = {
    name: 'Knex', note: '`whereBetween`',
    make: (t) => {
      const k = C.knex(t)
      return looped((a, b) => k(set.table).select(...set.columns).whereBetween(set.keyColumn, [a, b]), set, () => k.destroy())
    },
  }
  return [raw, rawDecoded, recordkitModel, recordkitAll, kysely, drizzle, knex]
}

export const groups = (engines: readonly Engine[]): GroupSpec[] =>
  [POSTS, TRACKS].flatMap((set) => engines.map((engine): GroupSpec => ({
    key: `W2.${set.key}.${engine}`,
    workload: 'W2',
    title: `Read ${set.title} with decoding`,
    engine,
    op: `one SELECT returning ${set.title}`,
    rowsPerOp: 1000,
    // An operation allocates 1000 rows: about twenty fill the young generation, and on this
    // machine a young collection took 1-16 ms (the slow ones with hundreds of page faults). A 40 ms
    // measurement held none, one or two of them, so recordkit's rounds of PostgreSQL tracks ranged
    // over 0.95x-2.54x of raw in one process; at a quarter of a second each measurement holds
    // several and pays its own share of collections (0.59x-1.09x in the next process).
    compare: { targetMs: 250 },
    impls: impls(engine, set),
  })))

if (import.meta.url === `file://${process.argv[1]}`) await main(groups)
