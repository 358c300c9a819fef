/**
 * A model's averages (`avg`, `aggregate`'s `avg`, `withAvg`) are the same number on SQLite,
 * PostgreSQL and MariaDB: the double nearest the exact average. MariaDB computed AVG of an
 * integer or DECIMAL column to `div_precision_increment` (4) more decimals, so the average of
 * 1, 1 and 2 read back as 1.3333 where the others gave 1.3333333333333333.
 */
import { pipe } from 'fp-ts/lib/function.js'
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { type DbError, run } from 'recordkit'
import { decimal, float, hasMany, model, relate } from 'recordkit/model'
import { ENGINES, engineTables } from './support/engine-tables.js'

const Post = model({ table: 'rk_mia_posts', primaryKey: 'id', codec: t.type({ id: t.number, title: t.string }), relations: { comments: hasMany('Comment', 'postId') } })
const Comment = model({
  table: 'rk_mia_comments',
  primaryKey: 'id',
  codec: t.type({ id: t.number, postId: t.number, score: t.number, price: decimal, ratio: float }),
  columns: { postId: 'post_id' },
})
const M = relate({ Post, Comment })

const TABLES = ['rk_mia_comments', 'rk_mia_posts']
const ddl = (engine: string): string[] => [
  'CREATE TABLE rk_mia_posts (id INTEGER PRIMARY KEY, title VARCHAR(20) NOT NULL)',
  // SQLite keeps decimals as text (a NUMERIC column would make them doubles).
  `CREATE TABLE rk_mia_comments (id INTEGER PRIMARY KEY, post_id INTEGER NOT NULL, score INTEGER NOT NULL, price ${engine === 'sqlite' ? 'TEXT' : 'DECIMAL(12, 2)'} NOT NULL, ratio DOUBLE PRECISION NOT NULL)`,
]

const ok = async <A>(te: TaskEither<DbError, A>): Promise<A> => run(te)

/** The double nearest an exact decimal (the digits given well past a double's). */
const nearest = (digits: string): number => Number.parseFloat(digits)

// Post 1: scores 1, 1, 2 (4/3); prices 0.10, 0.20, 0.25 (0.55/3); ratios 0.1, 0.2, 0.4.
// Post 2: scores 2, 3 (2.5); post 3: 5, 5, 5, 5, 5, 5, 6 (36/7).
const comments = [
  { id: 1, postId: 1, score: 1, price: '0.10', ratio: 0.1 },
  { id: 2, postId: 1, score: 1, price: '0.20', ratio: 0.2 },
  { id: 3, postId: 1, score: 2, price: '0.25', ratio: 0.4 },
  { id: 4, postId: 2, score: 2, price: '1.00', ratio: 1 },
  { id: 5, postId: 2, score: 3, price: '2.00', ratio: 2 },
  ...[5, 5, 5, 5, 5, 5, 6].map((score, i) => ({ id: 6 + i, postId: 3, score, price: '1.00', ratio: 1 })),
]
const FOUR_THIRDS = nearest('1.33333333333333333333333333')
const THIRTY_SIX_SEVENTHS = nearest('5.14285714285714285714285714')
const RATIOS = (0.1 + 0.2 + 0.4) / 3

for (const engine of ENGINES) {
  describe(`model averages are the nearest double on ${engine.name}`, () => {
    const { use } = engineTables(engine, TABLES, ddl)
    const seed = async (ctx: { skip: () => void }) => {
      const db = use(ctx)
      await ok(M.Post.createMany(db, [{ id: 1, title: 'a' }, { id: 2, title: 'b' }, { id: 3, title: 'c' }, { id: 4, title: 'none' }]))
      await ok(M.Comment.createMany(db, comments))
      return db
    }

    it('avg', async (ctx) => {
      const db = await seed(ctx)
      const avg = (post: number, field: 'score' | 'price' | 'ratio') => ok(pipe(M.Comment.query, M.Comment.where('postId', '=', post), M.Comment.avg(db, field)))
      expect(await avg(1, 'score')).toBe(FOUR_THIRDS)
      expect(await avg(1, 'score')).toBe(4 / 3)
      expect(await avg(3, 'score')).toBe(THIRTY_SIX_SEVENTHS)
      expect(await avg(2, 'score')).toBe(2.5)
      expect(await avg(1, 'ratio')).toBe(RATIOS)
      // SQLite adds decimal text as doubles; the others average the exact decimals.
      if (engine.name !== 'sqlite') expect(await avg(1, 'price')).toBe(nearest('0.18333333333333333333333333'))
      expect(await avg(4, 'score')).toBeNull()
      // With LIMIT the average is over the rows the query returns (a subquery).
      expect(await ok(pipe(M.Comment.query, M.Comment.where('postId', '=', 3), M.Comment.orderBy('id', 'desc'), M.Comment.limit(3), M.Comment.avg(db, 'score')))).toBe(nearest('5.3333333333333333333333333'))
    })

    it('aggregate avg, whole and grouped', async (ctx) => {
      const db = await seed(ctx)
      const whole = await ok(pipe(M.Comment.query, M.Comment.where('postId', '=', 1), M.Comment.aggregate(db, (a) => ({ m: a.avg('score'), r: a.avg('ratio') }))))
      expect(whole).toEqual([{ m: FOUR_THIRDS, r: RATIOS }])
      const grouped = await ok(pipe(M.Comment.query, M.Comment.groupBy('postId'), M.Comment.orderBy('postId'), M.Comment.aggregate(db, (a) => ({ m: a.avg('score') }))))
      expect(grouped).toEqual([{ postId: 1, m: FOUR_THIRDS }, { postId: 2, m: 2.5 }, { postId: 3, m: THIRTY_SIX_SEVENTHS }])
    })

    it('withAvg', async (ctx) => {
      const db = await seed(ctx)
      const rows = await ok(pipe(M.Post.query, M.Post.withAvg('comments', 'score'), M.Post.orderBy('id'), M.Post.all(db)))
      expect(rows.map((r) => r.commentsAvgScore)).toEqual([FOUR_THIRDS, 2.5, THIRTY_SIX_SEVENTHS, null])
      const ratios = await ok(pipe(M.Post.query, M.Post.where('id', '=', 1), M.Post.withAvg('comments', 'ratio'), M.Post.all(db)))
      expect(ratios[0].commentsAvgRatio).toBe(RATIOS)
      if (engine.name !== 'sqlite') {
        const prices = await ok(pipe(M.Post.query, M.Post.where('id', '=', 1), M.Post.withAvg('comments', 'price'), M.Post.all(db)))
        expect(prices[0].commentsAvgPrice).toBe(nearest('0.18333333333333333333333333'))
      }
    })
  })
}
