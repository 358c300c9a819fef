/**
 * W4: updates, on every engine.
 *
 * - one row by key: `UPDATE posts SET title = ? WHERE id = ?` (a new title each time);
 * - 100 rows with different values, in one transaction: 100 such statements.
 *
 * Raw: one prepared statement reused. For 100 rows on PostgreSQL the raw baseline is the faster
 * of two: the statements awaited one after another, or all sent at once inside `sql.begin`
 * (postgres.js pipelines them on the transaction's connection). recordkit three ways for one
 * row: the builder (`db.execute(update(...))`), a prepared statement (`db.prepare`), and
 * `Post.update(db, row, patch)` (model: validation, hooks, the patch's fields written).
 */
import * as TE from 'fp-ts/lib/TaskEither.js'
import { eq as deq } from 'drizzle-orm'
import { pipe } from 'fp-ts/lib/function.js'
import { type Backend } from 'recordkit'
import { eq, param, set, update, where } from 'recordkit/query'
import * as C from '../clients.js'
import type { Engine } from '../env.js'
import { postRow, POSTS } from '../env.js'
import { type GroupSpec, type ImplSpec, main } from '../group.js'
import { expect, right } from '../lib.js'
import * as dm from '../schema/drizzle-mariadb.js'
import * as dp from '../schema/drizzle-postgres.js'
import * as ds from '../schema/drizzle-sqlite.js'
import { Blog } from '../schema/recordkit.js'

const TEXT = 'UPDATE posts SET title = ? WHERE id = ?'

/** An operation's rows: `size` consecutive posts, and new titles (different each operation). */
const batches = (size: number) => {
  let k = 0
  return (): { ids: number[]; titles: string[] } => {
    const op = k++
    const first = ((op * size) % POSTS) + 1
    const ids = Array.from({ length: size }, (_, i) => ((first - 1 + i) % POSTS) + 1)
    return { ids, titles: ids.map((id) => `Post ${id} v${op}`) }
  }
}

/** One operation updates `size` rows with `apply`; `read` gives the stored title, for the check. */
const instance = (size: number, apply: (ids: number[], titles: string[]) => Promise<unknown> | unknown, read: (id: number) => Promise<unknown> | unknown, close: () => Promise<void> | void) => {
  const next = batches(size)
  return {
    run: async (n: number) => {
      for (let i = 0; i < n; i++) {
        const b = next()
        await apply(b.ids, b.titles)
      }
    },
    check: async () => {
      const ids = Array.from({ length: size }, (_, i) => i + 1)
      await apply(ids, ids.map((id) => `checked ${id}`))
      expect((await read(size)) === `checked ${size}`, `title of post ${size}: ${String(await read(size))}`)
    },
    close,
  }
}

const rawImpls = (engine: Engine, size: number): ImplSpec[] => {
  if (engine === 'sqlite') {
    return [{
      name: 'raw better-sqlite3', note: size === 1 ? 'prepared `.run()`' : 'prepared `.run()` x 100 in `db.transaction()`',
      make: () => {
        const db = C.rawSqlite()
        const stmt = db.prepare(TEXT)
        const read = db.prepare('SELECT title FROM posts WHERE id = ?').pluck()
        const many = db.transaction((ids: number[], titles: string[]) => { for (let i = 0; i < ids.length; i++) stmt.run(titles[i], ids[i]) })
        return instance(size, size === 1 ? (ids, titles) => stmt.run(titles[0], ids[0]) : many, (id) => read.get(id), () => { db.close() })
      },
    }]
  }
  if (engine === 'postgres') {
    const make = (apply: (sql: ReturnType<typeof C.rawPostgres>) => (ids: number[], titles: string[]) => Promise<unknown>) => (t: Parameters<ImplSpec['make']>[0]) => {
      const sql = C.rawPostgres(t)
      return instance(size, apply(sql), async (id) => (await sql`SELECT title FROM posts WHERE id = ${id}`)[0].title, () => sql.end())
    }
    if (size === 1) return [{ name: 'raw postgres.js', note: 'tagged template (prepared)', make: make((sql) => (ids, titles) => sql`UPDATE posts SET title = ${titles[0]} WHERE id = ${ids[0]}`) }]
    return [
      {
        name: 'raw postgres.js, pipelined', note: '`sql.begin`, the 100 statements sent at once',
        make: make((sql) => (ids, titles) => sql.begin((tx) => Promise.all(ids.map((id, i) => tx`UPDATE posts SET title = ${titles[i]} WHERE id = ${id}`)))),
      },
      {
        name: 'raw postgres.js, one by one', note: '`sql.begin`, each statement awaited',
        make: make((sql) => (ids, titles) => sql.begin(async (tx) => { for (let i = 0; i < ids.length; i++) await tx`UPDATE posts SET title = ${titles[i]} WHERE id = ${ids[i]}` })),
      },
    ]
  }
  return [{
    name: 'raw mysql2', note: size === 1 ? '`pool.execute`' : '`execute` x 100 on one connection, in a transaction',
    make: (t) => {
      const pool = C.rawMysql(t)
      const apply = size === 1
        ? (ids: number[], titles: string[]) => pool.execute(TEXT, [titles[0], ids[0]])
        : async (ids: number[], titles: string[]) => {
            const conn = await pool.getConnection()
            try {
              await conn.beginTransaction()
              for (let i = 0; i < ids.length; i++) await conn.execute(TEXT, [titles[i], ids[i]])
              await conn.commit()
            } finally {
              conn.release()
            }
          }
      return instance(size, apply, async (id) => ((await pool.execute('SELECT title FROM posts WHERE id = ?', [id]))[0] as { title: string }[])[0].title, () => pool.end())
    },
  }]
}

const recordkitRead = (db: Backend) => async (id: number) => {
  const o = right(await Blog.Post.find(db, id)())
  return o._tag === 'Some' ? o.value.title : undefined
}

const impls = (engine: Engine, size: number): ImplSpec[] => {
  const one = size === 1
  const recordkitBuilder: ImplSpec = {
    name: one ? 'recordkit `db.execute(update(...))`' : 'recordkit, in `db.transaction`', note: one ? 'builder, compiled per call' : 'builder, each statement awaited',
    make: async (t) => {
      const db = await C.recordkit(t)
      const stmt = (id: number, title: string) => db.execute(pipe(update('posts'), set({ title }), where(eq('id', id))))
      const apply = one
        ? async (ids: number[], titles: string[]) => right(await stmt(ids[0], titles[0])())
        : async (ids: number[], titles: string[]) => right(await db.transaction(() => async () => {
            for (let i = 0; i < ids.length; i++) {
              const r = await stmt(ids[i], titles[i])()
              if (r._tag === 'Left') return r
            }
            return { _tag: 'Right', right: undefined }
          })())
      return instance(size, apply, recordkitRead(db), () => { void db.close()() })
    },
  }
  const recordkitPrepared: ImplSpec = {
    name: one ? 'recordkit prepared' : 'recordkit prepared, in `db.transaction`', note: '`db.prepare(update(...)).execute({ title, id })`',
    make: async (t) => {
      const db = await C.recordkit(t)
      const p = db.prepare(pipe(update('posts'), set({ title: param('title') }), where(eq('id', param('id')))))
      const apply = one
        ? async (ids: number[], titles: string[]) => right(await p.execute({ title: titles[0], id: ids[0] })())
        : async (ids: number[], titles: string[]) => right(await db.transaction(() => async () => {
            for (let i = 0; i < ids.length; i++) {
              const r = await p.execute({ title: titles[i], id: ids[i] })()
              if (r._tag === 'Left') return r
            }
            return { _tag: 'Right', right: undefined }
          })())
      return instance(size, apply, recordkitRead(db), () => { void db.close()() })
    },
  }
  const recordkitPipelined: ImplSpec = {
    name: 'recordkit prepared, pipelined', note: 'in `db.transaction`, the 100 statements issued together',
    make: async (t) => {
      const db = await C.recordkit(t)
      const p = db.prepare(pipe(update('posts'), set({ title: param('title') }), where(eq('id', param('id')))))
      const apply = async (ids: number[], titles: string[]) =>
        right(await db.transaction(() => pipe(ids.map((id, i) => p.execute({ title: titles[i], id })), TE.sequenceArray))())
      return instance(size, apply, recordkitRead(db), () => { void db.close()() })
    },
  }
  const recordkitModel: ImplSpec = {
    name: one ? 'recordkit `Post.update`' : 'recordkit `Post.update`, in `db.transaction`', note: 'model: patch validated, hooks, the patch\'s fields written',
    make: async (t) => {
      const db = await C.recordkit(t)
      // The stored rows, read once (an application updates rows it has read).
      const rows = new Map(Array.from({ length: POSTS }, (_, i) => [i + 1, postRow(i + 1)] as const))
      const one1 = (id: number, title: string) => Blog.Post.update(db, rows.get(id)!, { title })
      const apply = one
        ? async (ids: number[], titles: string[]) => right(await one1(ids[0], titles[0])())
        : async (ids: number[], titles: string[]) => right(await db.transaction(() => async () => {
            for (let i = 0; i < ids.length; i++) {
              const r = await one1(ids[i], titles[i])()
              if (r._tag === 'Left') return r
            }
            return { _tag: 'Right', right: undefined }
          })())
      return instance(size, apply, recordkitRead(db), () => { void db.close()() })
    },
  }
  const kysely: ImplSpec = {
    name: 'Kysely', note: one ? '`updateTable`' : '`db.transaction().execute()`, each awaited',
    make: (t) => {
      const db = C.kysely(t)
      const apply = one
        ? (ids: number[], titles: string[]) => db.updateTable('posts').set({ title: titles[0] }).where('id', '=', ids[0]).execute()
        : (ids: number[], titles: string[]) => db.transaction().execute(async (trx) => {
            for (let i = 0; i < ids.length; i++) await trx.updateTable('posts').set({ title: titles[i] }).where('id', '=', ids[i]).execute()
          })
      return instance(size, apply, async (id) => (await db.selectFrom('posts').select('title').where('id', '=', id).executeTakeFirst())?.title, () => db.destroy())
    },
  }
  const drizzle: ImplSpec = {
    name: 'Drizzle', note: one ? '`db.update`' : '`db.transaction()`, each awaited',
    make: (t) => {
      if (engine === 'sqlite') {
        const db = C.drizzleOnSqlite()
        const apply = one
          ? (ids: number[], titles: string[]) => db.update(ds.posts).set({ title: titles[0] }).where(deq(ds.posts.id, ids[0])).run()
          : (ids: number[], titles: string[]) => db.transaction((tx) => {
              for (let i = 0; i < ids.length; i++) tx.update(ds.posts).set({ title: titles[i] }).where(deq(ds.posts.id, ids[i])).run()
            })
        return instance(size, apply, (id) => db.select({ title: ds.posts.title }).from(ds.posts).where(deq(ds.posts.id, id)).get()?.title, () => C.closeDrizzle(db))
      }
      if (engine === 'postgres') {
        const db = C.drizzleOnPostgres(t)
        const apply = one
          ? (ids: number[], titles: string[]) => db.update(dp.posts).set({ title: titles[0] }).where(deq(dp.posts.id, ids[0]))
          : (ids: number[], titles: string[]) => db.transaction(async (tx) => {
              for (let i = 0; i < ids.length; i++) await tx.update(dp.posts).set({ title: titles[i] }).where(deq(dp.posts.id, ids[i]))
            })
        return instance(size, apply, async (id) => (await db.select({ title: dp.posts.title }).from(dp.posts).where(deq(dp.posts.id, id)))[0]?.title, () => C.closeDrizzle(db))
      }
      const db = C.drizzleOnMariadb(t)
      const apply = one
        ? (ids: number[], titles: string[]) => db.update(dm.posts).set({ title: titles[0] }).where(deq(dm.posts.id, ids[0]))
        : (ids: number[], titles: string[]) => db.transaction(async (tx) => {
            for (let i = 0; i < ids.length; i++) await tx.update(dm.posts).set({ title: titles[i] }).where(deq(dm.posts.id, ids[i]))
          })
      return instance(size, apply, async (id) => (await db.select({ title: dm.posts.title }).from(dm.posts).where(deq(dm.posts.id, id)))[0]?.title, () => C.closeDrizzle(db))
    },
  }
  const knex: ImplSpec = {
    name: 'Knex', note: one ? '`.update()`' : '`knex.transaction()`, each awaited',
    make: (t) => {
      const k = C.knex(t)
      const apply = one
        ? (ids: number[], titles: string[]) => k('posts').where('id', ids[0]).update({ title: titles[0] })
        : (ids: number[], titles: string[]) => k.transaction(async (trx) => {
            for (let i = 0; i < ids.length; i++) await trx('posts').where('id', ids[i]).update({ title: titles[i] })
          })
      return instance(size, apply, async (id) => (await k('posts').select('title').where('id', id).first())?.title, () => k.destroy())
    },
  }
  return [
    ...rawImpls(engine, size), recordkitPrepared, recordkitBuilder, recordkitModel,
    ...(!one && engine === 'postgres' ? [recordkitPipelined] : []), kysely, drizzle, knex,
  ]
}

export const groups = (engines: readonly Engine[]): GroupSpec[] =>
  [1, 100].flatMap((size) => engines.map((engine): GroupSpec => ({
    key: `W4.${size === 1 ? 'one' : 'hundred'}.${engine}`,
    workload: 'W4',
    title: size === 1 ? 'Update one row by key' : 'Update 100 rows with different values (one transaction)',
    engine,
    op: size === 1 ? 'one UPDATE by primary key' : 'a transaction of 100 UPDATEs by primary key',
    rowsPerOp: size,
    rawMethods: size > 1 && engine === 'postgres' ? 2 : 1,
    impls: impls(engine, size),
  })))

if (import.meta.url === `file://${process.argv[1]}`) await main(groups)
