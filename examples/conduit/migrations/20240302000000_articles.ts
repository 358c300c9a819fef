// Migration: articles, their tags, favorites and comments.
import { pipe } from 'fp-ts/lib/function.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import type { Backend } from '../../../src/index.js'
import { apply, column, createTable, dropTable, index, primaryKey } from '../../../src/schema/index.js'

const user = { table: 'users', column: 'id', onDelete: 'cascade' } as const
const article = { table: 'articles', column: 'id', onDelete: 'cascade' } as const

export const up = (db: Backend) => pipe(
  apply(db, pipe(
    createTable('articles'),
    column('id', 'integer', { primaryKey: true, autoIncrement: true }),
    column('slug', 'varchar(200)', { notNull: true, unique: true }),
    column('title', 'varchar(200)', { notNull: true }),
    column('body', 'text', { notNull: true }),
    column('author_id', 'integer', { notNull: true, references: user }),
    column('created_at', 'timestamp', { notNull: true }),
    index(['author_id']),
  )),
  TE.chain(() => apply(db, pipe(createTable('tags'), column('id', 'integer', { primaryKey: true, autoIncrement: true }), column('name', 'varchar(60)', { notNull: true, unique: true })))),
  TE.chain(() => apply(db, pipe(
    createTable('article_tags'),
    column('article_id', 'integer', { notNull: true, references: article }),
    column('tag_id', 'integer', { notNull: true, references: { table: 'tags', column: 'id', onDelete: 'cascade' } }),
    primaryKey(['article_id', 'tag_id']),
  ))),
  TE.chain(() => apply(db, pipe(
    createTable('favorites'),
    column('user_id', 'integer', { notNull: true, references: user }),
    column('article_id', 'integer', { notNull: true, references: article }),
    primaryKey(['user_id', 'article_id']),
  ))),
  TE.chain(() => apply(db, pipe(
    createTable('comments'),
    column('id', 'integer', { primaryKey: true, autoIncrement: true }),
    column('article_id', 'integer', { notNull: true, references: article }),
    column('author_id', 'integer', { notNull: true, references: user }),
    column('body', 'text', { notNull: true }),
  ))),
)

export const down = (db: Backend) => pipe(
  apply(db, dropTable('comments')),
  TE.chain(() => apply(db, dropTable('favorites'))),
  TE.chain(() => apply(db, dropTable('article_tags'))),
  TE.chain(() => apply(db, dropTable('tags'))),
  TE.chain(() => apply(db, dropTable('articles'))),
)
