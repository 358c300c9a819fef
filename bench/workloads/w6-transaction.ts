/**
 * W6: a transaction with two updates, and the same with the second update in a nested
 * savepoint, on every engine:
 *
 *   BEGIN; UPDATE posts SET score = ? WHERE id = ?; UPDATE users SET name = ? WHERE id = ?; COMMIT
 *   BEGIN; UPDATE posts ...; SAVEPOINT s; UPDATE users ...; RELEASE SAVEPOINT s; COMMIT
 *
 * Each library's own transaction API: better-sqlite3's `db.transaction()` (nested calls become
 * savepoints), postgres.js `sql.begin` / `sql.savepoint`, mysql2 `beginTransaction` on a pooled
 * connection with `SAVEPOINT` statements, recordkit `db.transaction` (nested calls become
 * savepoints), Kysely `transaction().execute()` and, for the savepoint, `startTransaction()` with
 * `savepoint()`, Drizzle and Knex nested `transaction()`.
 */
import { eq as deq } from 'drizzle-orm'
import { pipe } from 'fp-ts/lib/function.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { eq, from, param, select, set, update, where } from 'recordkit/query'
import * as C from '../clients.js'
import type { Engine } from '../env.js'
import { POSTS, USERS } from '../env.js'
import { type GroupSpec, type ImplSpec, main } from '../group.js'
import { expect, right } from '../lib.js'
import * as dm from '../schema/drizzle-mariadb.js'
import * as dp from '../schema/drizzle-postgres.js'
import * as ds from '../schema/drizzle-sqlite.js'

const POST = 'UPDATE posts SET score = ? WHERE id = ?'
const USER = 'UPDATE users SET name = ? WHERE id = ?'

interface Args { readonly postId: number; readonly score: number; readonly userId: number; readonly name: string }

const argsOf = (k: number): Args => ({ postId: (k % POSTS) + 1, score: k % 100, userId: (k % USERS) + 1, name: `User ${(k % USERS) + 1} v${k}` })

const instance = (tx: (a: Args) => Promise<unknown> | unknown, readName: (id: number) => Promise<unknown> | unknown, close: () => Promise<void> | void) => {
  let k = 0
  return {
    run: async (n: number) => { for (let i = 0; i < n; i++) await tx(argsOf(k++)) },
    check: async () => {
      const a = { ...argsOf(0), name: 'checked' }
      await tx(a)
      expect((await readName(a.userId)) === 'checked', `name after the transaction: ${String(await readName(a.userId))}`)
    },
    close,
  }
}

const impls = (engine: Engine, nested: boolean): ImplSpec[] => {
  const raw: ImplSpec = engine === 'sqlite'
    ? {
        name: 'raw better-sqlite3', note: nested ? '`db.transaction()`, nested call (a savepoint)' : '`db.transaction()`',
        make: () => {
          const db = C.rawSqlite()
          const post = db.prepare(POST)
          const user = db.prepare(USER)
          const inner = db.transaction((a: Args) => user.run(a.name, a.userId))
          const tx = db.transaction((a: Args) => {
            post.run(a.score, a.postId)
            if (nested) inner(a)
            else user.run(a.name, a.userId)
          })
          const read = db.prepare('SELECT name FROM users WHERE id = ?').pluck()
          return instance(tx, (id) => read.get(id), () => { db.close() })
        },
      }
    : engine === 'postgres'
      ? {
          name: 'raw postgres.js', note: nested ? '`sql.begin` + `sql.savepoint`' : '`sql.begin`',
          make: (t) => {
            const sql = C.rawPostgres(t)
            return instance(
              (a) => sql.begin(async (tx) => {
                await tx`UPDATE posts SET score = ${a.score} WHERE id = ${a.postId}`
                if (nested) await tx.savepoint((sp) => sp`UPDATE users SET name = ${a.name} WHERE id = ${a.userId}`)
                else await tx`UPDATE users SET name = ${a.name} WHERE id = ${a.userId}`
              }),
              async (id) => (await sql`SELECT name FROM users WHERE id = ${id}`)[0].name,
              () => sql.end(),
            )
          },
        }
      : {
          name: 'raw mysql2', note: nested ? '`beginTransaction`, `SAVEPOINT` / `RELEASE SAVEPOINT`' : '`beginTransaction` on a pooled connection',
          make: (t) => {
            const pool = C.rawMysql(t)
            return instance(async (a) => {
              const conn = await pool.getConnection()
              try {
                await conn.beginTransaction()
                await conn.execute(POST, [a.score, a.postId])
                if (nested) await conn.query('SAVEPOINT s1')
                await conn.execute(USER, [a.name, a.userId])
                if (nested) await conn.query('RELEASE SAVEPOINT s1')
                await conn.commit()
              } catch (e) {
                await conn.rollback()
                throw e
              } finally {
                conn.release()
              }
            }, async (id) => ((await pool.execute('SELECT name FROM users WHERE id = ?', [id]))[0] as { name: string }[])[0].name, () => pool.end())
          },
        }

  const recordkit: ImplSpec = {
    name: 'recordkit `db.transaction`', note: nested ? 'prepared statements; a nested `db.transaction` (a savepoint)' : 'prepared statements, chained with `TE.chain`',
    make: async (t) => {
      const db = await C.recordkit(t)
      const post = db.prepare(pipe(update('posts'), set({ score: param('score') }), where(eq('id', param('id')))))
      const user = db.prepare(pipe(update('users'), set({ name: param('name') }), where(eq('id', param('id')))))
      return instance(
        async (a) => right(await db.transaction(() => pipe(
          post.execute({ score: a.score, id: a.postId }),
          TE.chain(() => (nested ? db.transaction(() => user.execute({ name: a.name, id: a.userId })) : user.execute({ name: a.name, id: a.userId }))),
        ))()),
        async (id) => right(await db.all<{ name: string }>(pipe(from('users'), select('name'), where(eq('id', id))))())[0].name,
        () => { void db.close()() },
      )
    },
  }
  const kysely: ImplSpec = {
    name: 'Kysely', note: nested ? '`startTransaction()` + `savepoint()` / `releaseSavepoint()`' : '`transaction().execute()`',
    make: (t) => {
      const db = C.kysely(t)
      const tx = nested
        ? async (a: Args) => {
            const trx = await db.startTransaction().execute()
            try {
              await trx.updateTable('posts').set({ score: a.score }).where('id', '=', a.postId).execute()
              const sp = await trx.savepoint('s1').execute()
              await sp.updateTable('users').set({ name: a.name }).where('id', '=', a.userId).execute()
              await sp.releaseSavepoint('s1').execute()
              await trx.commit().execute()
            } catch (e) {
              await trx.rollback().execute()
              throw e
            }
          }
        : (a: Args) => db.transaction().execute(async (trx) => {
            await trx.updateTable('posts').set({ score: a.score }).where('id', '=', a.postId).execute()
            await trx.updateTable('users').set({ name: a.name }).where('id', '=', a.userId).execute()
          })
      return instance(tx, async (id) => (await db.selectFrom('users').select('name').where('id', '=', id).executeTakeFirst())?.name, () => db.destroy())
    },
  }
  const drizzle: ImplSpec = {
    name: 'Drizzle', note: nested ? 'nested `tx.transaction()` (a savepoint)' : '`db.transaction()`',
    make: (t) => {
      if (engine === 'sqlite') {
        const db = C.drizzleOnSqlite()
        return instance((a) => db.transaction((tx) => {
          tx.update(ds.posts).set({ score: a.score }).where(deq(ds.posts.id, a.postId)).run()
          if (nested) tx.transaction((sp) => { sp.update(ds.users).set({ name: a.name }).where(deq(ds.users.id, a.userId)).run() })
          else tx.update(ds.users).set({ name: a.name }).where(deq(ds.users.id, a.userId)).run()
        }), (id) => db.select({ name: ds.users.name }).from(ds.users).where(deq(ds.users.id, id as number)).get()?.name, () => C.closeDrizzle(db))
      }
      if (engine === 'postgres') {
        const db = C.drizzleOnPostgres(t)
        return instance((a) => db.transaction(async (tx) => {
          await tx.update(dp.posts).set({ score: a.score }).where(deq(dp.posts.id, a.postId))
          if (nested) await tx.transaction(async (sp) => { await sp.update(dp.users).set({ name: a.name }).where(deq(dp.users.id, a.userId)) })
          else await tx.update(dp.users).set({ name: a.name }).where(deq(dp.users.id, a.userId))
        }), async (id) => (await db.select({ name: dp.users.name }).from(dp.users).where(deq(dp.users.id, id as number)))[0]?.name, () => C.closeDrizzle(db))
      }
      const db = C.drizzleOnMariadb(t)
      return instance((a) => db.transaction(async (tx) => {
        await tx.update(dm.posts).set({ score: a.score }).where(deq(dm.posts.id, a.postId))
        if (nested) await tx.transaction(async (sp) => { await sp.update(dm.users).set({ name: a.name }).where(deq(dm.users.id, a.userId)) })
        else await tx.update(dm.users).set({ name: a.name }).where(deq(dm.users.id, a.userId))
      }), async (id) => (await db.select({ name: dm.users.name }).from(dm.users).where(deq(dm.users.id, id as number)))[0]?.name, () => C.closeDrizzle(db))
    },
  }
  const knex: ImplSpec = {
    name: 'Knex', note: nested ? 'nested `trx.transaction()` (a savepoint)' : '`knex.transaction()`',
    make: (t) => {
      const k = C.knex(t)
      return instance((a) => k.transaction(async (trx) => {
        await trx('posts').where('id', a.postId).update({ score: a.score })
        if (nested) await trx.transaction(async (sp) => { await sp('users').where('id', a.userId).update({ name: a.name }) })
        else await trx('users').where('id', a.userId).update({ name: a.name })
      }), async (id) => (await k('users').select('name').where('id', id as number).first())?.name, () => k.destroy())
    },
  }
  return [raw, recordkit, kysely, drizzle, knex]
}

export const groups = (engines: readonly Engine[]): GroupSpec[] =>
  [false, true].flatMap((nested) => engines.map((engine): GroupSpec => ({
    key: `W6.${nested ? 'savepoint' : 'flat'}.${engine}`,
    workload: 'W6',
    title: nested ? 'Transaction with two updates, the second in a nested savepoint' : 'Transaction with two updates',
    engine,
    op: nested ? 'BEGIN, UPDATE, SAVEPOINT, UPDATE, RELEASE, COMMIT' : 'BEGIN, two UPDATEs, COMMIT',
    impls: impls(engine, nested),
  })))

if (import.meta.url === `file://${process.argv[1]}`) await main(groups)
