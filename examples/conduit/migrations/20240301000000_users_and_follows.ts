// Migration: users, and who follows whom.
import { pipe } from 'fp-ts/lib/function.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import type { Backend } from '../../../src/index.js'
import { apply, column, createTable, dropTable, primaryKey } from '../../../src/schema/index.js'

export const up = (db: Backend) => pipe(
  apply(db, pipe(
    createTable('users'),
    column('id', 'integer', { primaryKey: true, autoIncrement: true }),
    column('username', 'varchar(60)', { notNull: true, unique: true }),
    column('email', 'varchar(200)', { notNull: true, unique: true }),
    column('bio', 'text'),
  )),
  TE.chain(() => apply(db, pipe(
    createTable('follows'),
    column('follower_id', 'integer', { notNull: true, references: { table: 'users', column: 'id', onDelete: 'cascade' } }),
    column('followee_id', 'integer', { notNull: true, references: { table: 'users', column: 'id', onDelete: 'cascade' } }),
    primaryKey(['follower_id', 'followee_id']),
  ))),
)

export const down = (db: Backend) => pipe(apply(db, dropTable('follows')), TE.chain(() => apply(db, dropTable('users'))))
