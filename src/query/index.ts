/**
 * `recordkit/query`: the query builders. The core (`from`, `select`, `where`, `join`,
 * `insertInto`, `update`, `deleteFrom`, conditions, aggregates) lives in `src/query.ts`; the
 * query language beyond it is one concept per file here (`case.ts`, `cast.ts`, `cte.ts`,
 * `dates.ts`, `derived.ts`, `explain.ts`, `grouping.ts`, `json.ts`, `locking.ts`,
 * `set-operations.ts`, `window.ts`); the query data types come from `src/ast.ts`.
 *
 * Several names are short English words (`not`, `and`, `min`, `set`, `window`, `rows`) that other
 * libraries use too: import the module as a namespace where that matters.
 *
 * @example
 * import * as q from 'recordkit/query'
 * const adults = pipe(q.from('users'), q.select('id', 'name'), q.where(q.gt('age', 17)))
 */
export {
  add, and, as, avg, between, coalesce, col, concat, count, crossJoin, deleteFrom, distinct, div, eq, excluded,
  exists, extension, fn, from, fromSelect, fullJoin, groupBy, gt, gte, having, ilike, insertInto, isExpr, isIn, limitWithTies, lit,
  isNotNull, isNull, join, leftJoin, like, limit, lt, lte, max, min, mod, mul, ne, not, notExists, notIlike,
  notIn, notLike, nullif, offset, onConflict, or, orWhere, orderBy, paginate, param, raw, returning, rightJoin,
  select, selectOnly, set, sub, subquery, sum, table, update, using, val, values, where, type Compound, type
  Delete, type Insert, type JoinCondition, type Operand, type Query, type Row, type Select, type SelectArg, type
  Update, type Using,
} from '../query.js'
export { DEFAULT } from '../ast.js'
export type * from '../ast.js'
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
export * from './text.js'
