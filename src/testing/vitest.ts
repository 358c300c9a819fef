/**
 * vitest, as the conformance suite's cases use it, loaded only inside a vitest run (vitest is
 * an optional peer dependency). The rest of `recordkit/testing` (`loadChinook`, `chinookTables`,
 * `columnTypes`, `ok`, ...) so works in any program; calling `conformance` outside vitest fails
 * with an error that says so.
 */
import type * as Vitest from 'vitest'

const vitest: typeof Vitest | undefined = process.env.VITEST === undefined ? undefined : await import('vitest')

const outside = (name: string) => (): never => {
  throw new Error(`recordkit/testing: the conformance suite registers vitest tests (${name}); call it from a test file that vitest runs`)
}

export const describe = (vitest?.describe ?? outside('describe')) as typeof Vitest.describe
export const it = (vitest?.it ?? outside('it')) as typeof Vitest.it
export const expect = (vitest?.expect ?? outside('expect')) as typeof Vitest.expect
export const beforeAll = (vitest?.beforeAll ?? outside('beforeAll')) as typeof Vitest.beforeAll
export const afterAll = (vitest?.afterAll ?? outside('afterAll')) as typeof Vitest.afterAll
