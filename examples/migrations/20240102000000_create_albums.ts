// Migration: albums, each by one artist.
import { pipe } from 'fp-ts/lib/function.js'
import { type Backend } from 'recordkit'
import { apply, column, createTable, dropTable, index } from 'recordkit/schema'

export const up = (db: Backend) =>
  apply(db, pipe(
    createTable('albums'),
    column('id', 'integer', { primaryKey: true, autoIncrement: true }),
    column('artist_id', 'integer', { notNull: true, references: { table: 'artists', column: 'id', onDelete: 'cascade' } }),
    column('title', 'varchar(200)', { notNull: true }),
    index(['artist_id']),
  ))

export const down = (db: Backend) => apply(db, dropTable('albums'))
