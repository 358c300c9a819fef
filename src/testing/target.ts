/**
 * What the conformance suite needs to know about a backend under test.
 */
import type { Backend } from '../compose.js'
import type { ColumnTypes } from './portable.js'

/** A backend under test. */
export interface ConformanceTarget {
  /** Shown in test names: `sqlite (memory)`, `postgres`, `duckdb`. */
  readonly name: string
  /**
   * Make a connected backend. Called once per case group (in `beforeAll`); the group closes
   * it in `afterAll`. Each group creates and drops its own tables, named with its own prefix,
   * so groups never see each other's rows.
   */
  readonly connect: () => Promise<Backend>
  /**
   * Make a connected backend whose database has Chinook loaded (`loadChinook`), for the
   * reports group; the group closes it. Leave it out to skip that group.
   */
  readonly chinook?: () => Promise<Backend>
  /**
   * How this backend's engine spells the portable column types. Needed by any engine that is
   * not SQLite, PostgreSQL, MySQL or MariaDB; those get theirs from `columnTypes`.
   */
  readonly columnTypes?: ColumnTypes
  /** Why this backend differs from the common expectation, case by case (printed when skipped). */
  readonly notes?: Readonly<Record<string, string>>
  /**
   * The dialect name the backend must report (`sqlite`, `postgres`, ...): the suite then checks
   * it runs on that engine, so a wrong `connect` cannot pass another engine's results off.
   */
  readonly dialect?: string
}

/** A group of cases, registered with vitest's describe/it for one target. */
export type CaseGroup = (target: ConformanceTarget) => void
