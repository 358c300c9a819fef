// Migration: the artists table.
import { pipe } from 'fp-ts/lib/function.js'
import { type Backend } from 'recordkit'
import { apply, column, createTable, dropTable, now } from 'recordkit/schema'

export const up = (db: Backend) =>
  apply(db, pipe(
    createTable('artists'),
    column('id', 'integer', { primaryKey: true, autoIncrement: true }),
    column('name', 'varchar(120)', { notNull: true, unique: true }),
    column('created_at', 'timestamptz', { notNull: true, default: now }),
  ))

export const down = (db: Backend) => apply(db, dropTable('artists'))
