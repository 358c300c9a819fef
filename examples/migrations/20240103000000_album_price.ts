// Migration: albums get a price; on SQLite the NOT NULL change rebuilds the table.
import { pipe } from 'fp-ts/lib/function.js'
import { type Backend } from 'recordkit'
import { addColumn, alter, alterColumn, alterTable, dropColumn } from 'recordkit/schema'

export const up = (db: Backend) =>
  alter(db, pipe(
    alterTable('albums'),
    addColumn('price', 'decimal(10,2)'),
    alterColumn('title', 'varchar(300)', { notNull: true }),
  ))

export const down = (db: Backend) => alter(db, pipe(alterTable('albums'), dropColumn('price')))
