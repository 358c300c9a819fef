/**
 * A model related to itself (a category tree: `parent` belongsTo the same model, `children`
 * hasMany it), as Rails' `belongs_to :parent, class_name: 'Category'` and Django's
 * `ForeignKey('self')` give it, on SQLite, PostgreSQL and MariaDB: eager loading two levels deep
 * both ways, counts and filters over children (the subquery reads the table under an alias),
 * grandchildren as a through relation, and a whole subtree with WITH RECURSIVE, from the query
 * builder and from the model.
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { wrap } from 'recordkit'
import { add, as, col, from, join, select, unionAll, val, where, cte, withRecursive } from 'recordkit/query'
import { belongsTo, hasMany, hasManyThrough, model, nullable, relate } from 'recordkit/model'
import { ok } from 'recordkit/testing'
import { ENGINES, engineTables } from './support/engine-tables.js'

const { Category } = relate({
  Category: model({
    table: 'm4s_categories',
    primaryKey: 'id',
    codec: t.type({ id: t.number, parentId: nullable(t.number), name: t.string }),
    columns: { parentId: 'parent_id' },
    relations: {
      parent: belongsTo('Category', 'parentId'),
      children: hasMany('Category', 'parentId'),
      grandchildren: hasManyThrough('Category', { through: 'children', source: 'children' }),
    },
  }),
})

const ddl = (): string[] => ['CREATE TABLE m4s_categories (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES m4s_categories (id) ON DELETE CASCADE, name VARCHAR(20) NOT NULL)']

//   1 books          6 music
//   ├ 2 fiction      └ 7 jazz
//   │ ├ 4 fantasy
//   │ │ └ 8 epic
//   │ └ 5 crime
//   └ 3 science
const TREE = [
  { id: 1, parentId: null, name: 'books' }, { id: 2, parentId: 1, name: 'fiction' }, { id: 3, parentId: 1, name: 'science' },
  { id: 4, parentId: 2, name: 'fantasy' }, { id: 5, parentId: 2, name: 'crime' }, { id: 6, parentId: null, name: 'music' },
  { id: 7, parentId: 6, name: 'jazz' }, { id: 8, parentId: 4, name: 'epic' },
]

/** The ids of the subtree under `root` (itself included), with their depth: WITH RECURSIVE from the query builder. */
const subtree = (root: number) => cte('m4s_tree', pipe(
  from('m4s_categories'), select('id', as(val(0), 'depth')), where({ id: root }),
  unionAll(pipe(from('m4s_categories c'), join('m4s_tree t', ['c.parent_id', 't.id']), select('c.id', as(add(col('t.depth'), val(1)), 'depth')))),
))

for (const engine of ENGINES) {
  describe(`a self-referential tree on ${engine.name}`, () => {
    const { use } = engineTables(engine, ['m4s_categories'], ddl)
    const seeded = async (ctx: { skip: () => void }) => {
      const db = use(ctx)
      await ok(Category.createMany(db, TREE))
      return db
    }

    it('children.children and parent.parent load two levels deep, one statement a level', async (ctx) => {
      const db = await seeded(ctx)
      let statements = 0
      const counted = wrap(db, { all: (next) => (q) => { statements++; return next(q) } })
      const roots = await ok(pipe(
        Category.query, Category.where('parentId', 'is null'), Category.orderBy('id'),
        Category.include('children.children', (q, C) => pipe(q, C.orderBy('id'))), Category.all(counted),
      ))
      expect(statements).toBe(3)
      expect(roots.map((r) => [r.name, r.children.map((c) => [c.name, c.children.map((g) => g.name)])])).toEqual([
        ['books', [['fiction', ['fantasy', 'crime']], ['science', []]]], ['music', [['jazz', []]]],
      ])
      const epic = await ok(pipe(Category.query, Category.where('id', '=', 8), Category.include('parent.parent.parent'), Category.all(db)))
      expect(epic[0].parent?.name).toBe('fantasy')
      expect(epic[0].parent?.parent?.name).toBe('fiction')
      expect(epic[0].parent?.parent?.parent?.name).toBe('books')
      const books = await ok(pipe(Category.query, Category.where('id', '=', 1), Category.include('parent'), Category.all(db)))
      expect(books[0].parent).toBe(null)
    })

    it('counts and filters over children and grandchildren, and grandchildren through children', async (ctx) => {
      const db = await seeded(ctx)
      const counts = await ok(pipe(Category.query, Category.orderBy('id'), Category.withCount('children'), Category.withCount('grandchildren'), Category.all(db)))
      expect(counts.map((c) => [c.id, c.childrenCount, c.grandchildrenCount])).toEqual([[1, 2, 2], [2, 2, 1], [3, 0, 0], [4, 1, 0], [5, 0, 0], [6, 1, 0], [7, 0, 0], [8, 0, 0]])
      const withGrand = await ok(pipe(Category.query, Category.whereHas('children.children'), Category.orderBy('id'), Category.pluck(db, 'name')))
      expect(withGrand).toEqual(['books', 'fiction'])
      const parentsOfFantasy = await ok(pipe(Category.query, Category.whereHas('children', (q, C) => pipe(q, C.where('name', '=', 'fantasy'))), Category.pluck(db, 'name')))
      expect(parentsOfFantasy).toEqual(['fiction'])
      const leaves = await ok(pipe(Category.query, Category.whereDoesntHave('children'), Category.orderBy('id'), Category.pluck(db, 'id')))
      expect(leaves).toEqual([3, 5, 7, 8])
      const grand = await ok(pipe(Category.query, Category.where('id', 'in', [1, 2]), Category.orderBy('id'), Category.include('grandchildren', (q, C) => pipe(q, C.orderBy('id'))), Category.all(db)))
      expect(grand.map((c) => c.grandchildren.map((g) => g.name))).toEqual([['fantasy', 'crime'], ['epic']])
      const fiction = await ok(Category.findOrFail(db, 2))
      expect(await ok(pipe(Category.related(fiction, 'children'), Category.orderBy('id'), Category.pluck(db, 'name')))).toEqual(['fantasy', 'crime'])
      expect(await ok(pipe(Category.related(fiction, 'parent'), Category.pluck(db, 'name')))).toEqual(['books'])
    })

    it('a whole subtree with WITH RECURSIVE: from the query builder, and as a model query', async (ctx) => {
      const db = await seeded(ctx)
      const rows = await ok(db.all<{ id: unknown; depth: unknown }>(pipe(from('m4s_tree'), select('id', 'depth'), withRecursive(subtree(2)))))
      expect(rows.map((r) => [Number(r.id), Number(r.depth)]).sort((a, b) => a[0] - b[0])).toEqual([[2, 0], [4, 1], [5, 1], [8, 2]])
      // The subtree's ids as a condition of a model query: its rows decoded, its includes loaded.
      const ids = pipe(from('m4s_tree'), select('id'), withRecursive(subtree(2)))
      const under = await ok(pipe(Category.query, Category.where('id', 'in', ids), Category.orderBy('id'), Category.include('parent'), Category.all(db)))
      expect(under.map((c) => [c.name, c.parent?.name ?? null])).toEqual([['fiction', 'books'], ['fantasy', 'fiction'], ['crime', 'fiction'], ['epic', 'fantasy']])
      // The model reading its rows from a recursive CTE of its own rows.
      const body = pipe(
        from('m4s_categories'), select('id', 'parent_id', 'name'), where({ id: 4 }),
        unionAll(pipe(from('m4s_categories c'), join('m4s_up u', ['c.id', 'u.parent_id']), select('c.id', 'c.parent_id', 'c.name'))),
      )
      const ancestors = await ok(pipe(Category.query, Category.withRecursive('m4s_up', body), Category.fromCte('m4s_up'), Category.orderBy('id'), Category.pluck(db, 'name')))
      expect(ancestors).toEqual(['books', 'fiction', 'fantasy'])
    })
  })
}
