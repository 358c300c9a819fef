/**
 * Models: io-ts records with validation, CRUD, typed queries, relations and behaviours.
 */
export { compileQuery, model, relate, type AnyModel, type BulkKey, type CreateManyOptions, type InsertOf, type KeyOf, type Materialize, type Model, type ModelConfig, type ModelTypes, type ModelIn, type ModifiedLeaf, type Modifier, type Out, type Patch, type PathTree, type Paths, type QueryPart, type Related, type Simplify, type TargetAt, type TypesOf } from './model.js'
export { bool, bytes, calendarDate, date, decimal, decimalOf, enumOf, fastDecoder, FAIL, float, int64, integer, jsonOf, nullable, uuid, withFastDecode, type DecimalCodec, type FastDecode } from './codecs.js'
export { snakeCase, type Naming } from './core.js'
export type { Field, ModelCodec } from './decode.js'
export { isModelQuery, queryKit, subqueryOf, unscoped, type CompareOp, type Computed, type Condition, type ConditionFn, type HavingItem, type Match, type ModelQuery, type QueryKit, type TextOp, type Transform, type WhereInput } from './query.js'
export { belongsTo, hasMany, hasManyThrough, hasOne, hasOneThrough, latestOfMany, manyToMany, morphMany, morphOne, morphTo, morphWith, oldestOfMany, type AnyRelation, type BelongsTo, type HasMany, type HasManyThrough, type HasOne, type HasOneThrough, type KeyFields, type ManyToMany, type MorphMany, type MorphModifier, type MorphTo, type OneRelation, type OrderSpec, type PivotMatch } from './relations.js'
export type { Dependent } from './dependents.js'
export {
  hookError, onlyDeleted, optimisticLock, softDelete, timestamps, unique, uuidPrimaryKey, withDeleted,
  type Behaviour, type HookContext, type Hooks, type QueryOptions,
} from './behaviours.js'
export { rule, validationError, type ValidationIssue, type Validator } from './validate.js'
export type { BatchOptions, Page, PageSpec } from './read.js'
export type { CursorPage, CursorSpec } from './cursor.js'
export type { UpsertOptions } from './write.js'
export type { Agg, AggKit, AggOut, Grouped } from './grouping.js'
export { withUniqueDetail } from './unique.js'
export { promisedModel, promisedModels, type PromiseDb, type PromiseModel, type PromiseModels } from './promised.js'
