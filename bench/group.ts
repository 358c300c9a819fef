/**
 * One table of the results: a workload on one engine, every implementation measured in the
 * same process (bench/lib.ts), then the statements each one sends counted (bench/count.ts).
 */
import { writeFileSync } from 'node:fs'
import type { Target } from './clients.js'
import { countingProxy, countSqlite } from './count.js'
import { type Engine, MYSQL_URL, PG_URL } from './env.js'
import { type CompareOptions, compare, median } from './lib.js'

/** A running implementation. */
export interface Instance {
  /** Run `n` operations. */
  readonly run: (n: number) => Promise<void> | void
  /** Untimed, before each measurement. */
  readonly before?: () => Promise<void> | void
  /** Check the answer once, before the measurements (throws when it is wrong). */
  readonly check?: () => Promise<void> | void
  readonly close?: () => Promise<void> | void
}

/** An implementation: how to make it on a target. */
export interface ImplSpec {
  readonly name: string
  /** A short remark shown in the table. */
  readonly note?: string
  readonly make: (t: Target) => Promise<Instance> | Instance
}

/** A workload on one engine (or `compile`, for build-and-compile without a database). */
export interface GroupSpec {
  /** Stable key, e.g. `W1.sqlite.find`. */
  readonly key: string
  readonly workload: string
  readonly title: string
  readonly engine: Engine | 'compile'
  /** What one operation is, e.g. `one SELECT by key`. */
  readonly op: string
  /** Rows one operation handles (throughput columns show rows per second). */
  readonly rowsPerOp?: number
  /** Pool size on servers. */
  readonly pool?: number
  /** Count statements (default: yes, except for `compile`). */
  readonly count?: boolean
  readonly compare?: CompareOptions
  /**
   * How many of the first implementations are raw methods; the fastest of them (by median) is
   * the baseline. Default 1: the first implementation is the baseline.
   */
  readonly rawMethods?: number
  readonly impls: readonly ImplSpec[]
  /** Remarks printed under the table. */
  readonly notes?: readonly string[]
}

export interface RowResult {
  readonly name: string
  readonly note?: string
  readonly ops: number
  readonly medianUs: number
  readonly ratio: number
  readonly ratioMin: number
  readonly ratioMax: number
  readonly ratios: readonly number[]
  /** Statements sent per operation. */
  readonly queries?: number
}

/** What a workload measured: its description (from the spec) and a row per implementation. */
export interface GroupResult extends Pick<GroupSpec, 'key' | 'workload' | 'title' | 'engine' | 'op' | 'rowsPerOp' | 'pool'> {
  readonly rounds: number
  readonly baseline: string
  readonly rows: readonly RowResult[]
  readonly notes: readonly string[]
  /** Why the group could not be measured. */
  readonly error?: string
}

const urlOf = (engine: Engine): string => (engine === 'postgres' ? PG_URL : engine === 'mariadb' ? MYSQL_URL : '')

const log = (s: string): void => { process.stderr.write(`${s}\n`) }

/** Count the statements one operation sends. */
const countOne = async (spec: GroupSpec, impl: ImplSpec, timed: Instance): Promise<number | undefined> => {
  const engine = spec.engine
  if (engine === 'compile' || spec.count === false) return undefined
  if (engine === 'sqlite') {
    await timed.before?.()
    return countSqlite(() => timed.run(1))
  }
  const proxy = await countingProxy(engine === 'postgres' ? 'postgres' : 'mysql', urlOf(engine))
  try {
    const inst = await impl.make({ engine, url: proxy.url, pool: spec.pool })
    try {
      await inst.before?.()
      await inst.run(1) // connects, prepares, reads types
      await inst.before?.()
      proxy.reset()
      await inst.run(1)
      return proxy.count()
    } finally {
      await inst.close?.()
    }
  } finally {
    await proxy.close()
  }
}

/**
 * Measure one group.
 *
 * @example
 * const result = await runGroup({ key: 'W1.sqlite', ..., impls: [raw, recordkit] })
 */
export const runGroup = async (spec: GroupSpec): Promise<GroupResult> => {
  const t0 = performance.now()
  const engine = spec.engine
  const target: Target = { engine: engine === 'compile' ? 'postgres' : engine, url: engine === 'compile' ? '' : urlOf(engine), pool: spec.pool }
  const instances: Instance[] = []
  try {
    for (const impl of spec.impls) instances.push(await impl.make(target))
    for (let i = 0; i < instances.length; i++) {
      try {
        await instances[i].check?.()
      } catch (e) {
        throw new Error(`${spec.key} / ${spec.impls[i].name}: ${String((e as Error).message).slice(0, 400)}`, { cause: e })
      }
    }
    const measured = await compare(
      instances.map((inst, i) => ({ name: spec.impls[i].name, run: inst.run, before: inst.before })),
      // SQLite runs in this process: its CPU time is its cost, whatever else the machine runs.
      engine === 'sqlite' && spec.compare?.clock === undefined ? { ...spec.compare, clock: 'cpu' } : spec.compare,
    )
    const queries: (number | undefined)[] = []
    for (let i = 0; i < instances.length; i++) queries.push(await countOne(spec, spec.impls[i], instances[i]))
    // The baseline: the fastest raw method; ratios are taken against it within each round.
    let b = 0
    for (let i = 1; i < (spec.rawMethods ?? 1); i++) if (measured[i].medianUs < measured[b].medianUs) b = i
    const base = measured[b].perOpUs
    const order = [b, ...measured.map((_, i) => i).filter((i) => i !== b)]
    const result: GroupResult = {
      key: spec.key,
      workload: spec.workload,
      title: spec.title,
      engine,
      op: spec.op,
      rowsPerOp: spec.rowsPerOp,
      pool: spec.pool,
      rounds: measured[0].perOpUs.length,
      baseline: spec.impls[b].name,
      rows: order.map((i) => {
        const m = measured[i]
        const ratios = m.perOpUs.map((t, r) => t / base[r])
        return {
          name: m.name, note: spec.impls[i].note, ops: m.ops, medianUs: m.medianUs,
          ratio: median(ratios), ratioMin: Math.min(...ratios), ratioMax: Math.max(...ratios), ratios, queries: queries[i],
        }
      }),
      notes: spec.notes ?? [],
    }
    log(`${spec.key}: ${((performance.now() - t0) / 1000).toFixed(1)} s  ${result.rows.map((r) => `${r.name} ${r.ratio.toFixed(2)}x`).join(', ')}`)
    return result
  } finally {
    for (const inst of instances) await inst.close?.()
  }
}

/**
 * Run a workload file's groups (those whose engine is wanted) and write the results as JSON to
 * the path given as the first argument (or print them).
 */
export const main = async (groups: (engines: readonly Engine[]) => readonly GroupSpec[]): Promise<void> => {
  const out = process.argv[2]
  const engines = (process.env.BENCH_ENGINES ?? 'sqlite,postgres,mariadb').split(',').filter(Boolean) as Engine[]
  const specs = groups(engines)
  const only = process.env.BENCH_ONLY
  const results: GroupResult[] = []
  for (const spec of specs) {
    if (spec.engine !== 'compile' && !engines.includes(spec.engine)) continue
    if (only !== undefined && only !== '' && !spec.key.startsWith(only)) continue
    try {
      results.push(await runGroup(spec))
    } catch (e) {
      log(`${spec.key}: FAILED ${(e as Error).message}`)
      results.push({
        key: spec.key, workload: spec.workload, title: spec.title, engine: spec.engine, op: spec.op, rounds: 0,
        baseline: spec.impls[0].name, rows: [], notes: spec.notes ?? [], error: String((e as Error).message).slice(0, 400),
      })
    }
  }
  if (out !== undefined) writeFileSync(out, JSON.stringify(results, null, 1))
  else console.log(JSON.stringify(results, null, 1))
  // Pools left open by a library must not keep the process alive.
  process.exit(0)
}
