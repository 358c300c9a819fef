/**
 * The key fields of relations, shared by the relation loaders (relations.ts) and the plans of
 * relations reached through others (through.ts), which relations.ts runs: kept apart so that
 * neither module imports the other's values both ways.
 */
import { dbError, type DbError } from '../errors.js'
import type { ModelCore } from './core.js'
import type { Field } from './decode.js'
import type { AnyRelation, KeyFields, ManyToMany, ThroughRelation } from './relations.js'

const fail = (message: string): DbError => dbError('QueryError', message)

/**
 * The fields of a key, as a list.
 * @example fieldList('artistId') // ['artistId']
 */
export const fieldList = (k: KeyFields): readonly string[] => (typeof k === 'string' ? [k] : k)

/**
 * Whether a relation is reached through another one (`hasManyThrough`, `hasOneThrough`).
 * @example isThrough(Country.core.relations.posts) // true
 */
export const isThrough = (rel: AnyRelation): rel is ThroughRelation => rel.kind === 'hasManyThrough' || rel.kind === 'hasOneThrough'

/** The key fields a relation joins on, on the given side: those given, or the primary key. */
export const keyFields = (core: ModelCore, given: KeyFields | undefined, what: string): readonly Field[] => {
  if (given === undefined) return core.primaryKey
  const names = fieldList(given)
  if (names.length === 0) throw fail(`${core.table}: an empty list of fields (${what})`)
  return names.map((name) => {
    const f = core.byName.get(name)
    if (f === undefined) throw fail(`${core.table} has no field "${name}" (${what})`)
    return f
  })
}

/** Both sides of a relation name as many key fields. */
export const sameWidth = (core: ModelCore, name: string, a: readonly unknown[], b: readonly unknown[], what: string): void => {
  if (a.length !== b.length) throw fail(`${core.table}.${name}: ${what} has ${a.length} field(s) for a key of ${b.length}`)
}

/**
 * The four key lists of a manyToMany relation (source and target keys, the join table's columns
 * for each), checked to be of the same width.
 */
export const manyToManyKeys = (core: ModelCore, target: ModelCore, name: string, rel: ManyToMany): {
  readonly sk: readonly Field[]; readonly tk: readonly Field[]; readonly from: readonly string[]; readonly to: readonly string[]
} => {
  const sk = keyFields(core, rel.sourceKey, 'source key')
  const tk = keyFields(target, rel.targetKey, 'target key')
  const from = fieldList(rel.from)
  const to = fieldList(rel.to)
  sameWidth(core, name, from, sk, `${rel.through} (from)`)
  sameWidth(core, name, to, tk, `${rel.through} (to)`)
  return { sk, tk, from, to }
}

