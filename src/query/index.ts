/**
 * The query-language builders beyond the core of `query.ts`: one concept per file.
 */
export * from './case.js'
export * from './cast.js'
export * from './cte.js'
export * from './dates.js'
export * from './derived.js'
export * from './explain.js'
export * from './grouping.js'
export * from './json.js'
export * from './locking.js'
export * from './set-operations.js'
export * from './window.js'
export * from './comparison.js'
export * from './statements.js'
export * from './merge.js'
