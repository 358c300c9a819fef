/**
 * The conformance suite: one set of cases, run against any backend, built-in or your own.
 *
 * ```ts
 * // test/my-backend.test.ts
 * import { conformance } from 'recordkit/testing'
 * conformance({ name: 'my-db', connect: async () => compose(myDriver(), myDialect) })
 * ```
 *
 * Cases a backend cannot run are skipped by asking its dialect's capabilities, never by name.
 */
import { expect, it } from './vitest.js'
import { ok } from './harness.js'
import type { CaseGroup, ConformanceTarget } from './target.js'
import { chinookCases } from './cases/chinook.js'
import { capabilityCases } from './cases/capabilities.js'
import { coreCases } from './cases/core.js'
import { errorCases } from './cases/errors.js'
import { extensionCases } from './cases/extension.js'
import { streamingCases } from './cases/streaming.js'
import { transactionCases } from './cases/transactions.js'
import { reliabilityCases } from './cases/reliability.js'
import { typeCases } from './cases/types.js'
import { modelCases } from './cases/models.js'
import { modelOperationCases } from './cases/model-operations.js'

export type { CaseGroup, ConformanceTarget } from './target.js'
export { columnTypes, type ColumnTypes } from './portable.js'
export { chinookTables, chinookDdl, loadChinook, dropChinook, type ChinookTable } from './chinook.js'
export { modelCases } from './cases/models.js'
export { modelOperationCases } from './cases/model-operations.js'
export { normaliseRows, normaliseValue } from './normalise.js'
export { chinookReports, type ChinookCase } from './cases/chinook.js'
export { ok, fails, exec, typesOf, useBackend } from './harness.js'
export { capabilityRows, type CapabilityRow } from './cases/capabilities.js'

/** Every case group, in the order they run. */
export const caseGroups: Readonly<Record<string, CaseGroup>> = {
  core: coreCases,
  transactions: transactionCases,
  reliability: reliabilityCases,
  errors: errorCases,
  streaming: streamingCases,
  extension: extensionCases,
  types: typeCases,
  models: modelCases,
  modelOperations: modelOperationCases,
  chinook: chinookCases,
  capabilities: capabilityCases,
}

/**
 * Register the whole conformance suite (or the named groups) for one backend with vitest.
 *
 * @example
 * conformance({ name: 'sqlite (memory)', connect: async () => compose(betterSqlite3({ filename: ':memory:' }), sqlite) })
 */
export const conformance = (target: ConformanceTarget, groups: readonly string[] = Object.keys(caseGroups)): void => {
  for (const g of groups) {
    const group = caseGroups[g]
    if (group === undefined) throw new Error(`no conformance group named ${g}`)
    group(target)
  }
  const expected = target.dialect
  if (expected !== undefined) {
    it(`the suite runs on ${expected}, the engine ${target.name} names`, async () => {
      const db = await target.connect()
      try {
        expect(db.dialect.name).toBe(expected)
      } finally {
        await ok(db.close())
      }
    })
  }
}
