/**
 * Schema management: DDL as data (`createTable`, `alterTable`, ...), compiled by each dialect;
 * introspection, and the cheap questions (`hasTable`, `hasColumn`, `hasIndex`); running
 * multi-statement changes; models printed from tables and tables derived from codecs; migrations.
 *
 * @example
 * import { apply, column, createTable, introspect } from 'recordkit/schema'
 * await run(apply(db, pipe(createTable('users'), column('id', 'integer', { primaryKey: true }))))
 */
export * from './ddl.js'
export type * from './ddl-dialect.js'
export { alter, apply, copyRows, createSchema, dropSchema, runQuery, statementsOf } from './apply.js'
export { introspect, introspectTable } from './introspect.js'
export { hasColumn, hasIndex, hasTable, type TableSpec } from './has.js'
export { runCatalog } from './catalog.js'
export { printModels, type PrintOptions } from './print-model.js'
export { createTableFor, type CreateTableForOptions, type FieldColumn } from './from-codec.js'
export {
  describeStatement, loadMigrations, migrateDown, migrateTo, migrateUp, migrationStatus, repairMigrations, typeScriptLoaderAvailable,
  type MigrateOptions, type MigrateReport, type MigrateToReport, type Migration, type MigrationEvent, type MigrationState, type StatementRecord,
} from './migrate.js'
