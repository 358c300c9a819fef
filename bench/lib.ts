/**
 * The benchmark harness: warm-up, calibration, then interleaved and shuffled rounds. Each
 * implementation's time per operation is taken in every round; its ratio to the baseline (the
 * first implementation) is taken within the round, and the median of those ratios reported, so
 * drift of a shared machine hits every implementation of a round alike.
 */

/** One implementation of a workload. */
export interface Impl {
  readonly name: string
  /** Untimed work before each measurement (emptying a table, say). */
  readonly before?: () => Promise<void> | void
  /** Run `n` operations. */
  readonly run: (n: number) => Promise<void> | void
}

export interface CompareOptions {
  /** Rounds after the warm-up. Default `BENCH_ROUNDS` or 11. */
  readonly rounds?: number
  /** Wall time one measurement should take; sets the operations per measurement. Default 40 ms. */
  readonly targetMs?: number
  /** Least warm-up time per implementation. Default 250 ms (and at least two calls). */
  readonly warmupMs?: number
  /** Operations the warm-up aims for (so the JIT optimizes every function). Default 5000. */
  readonly warmupOps?: number
  /** Most warm-up time spent reaching `warmupOps`. Default 600 ms. */
  readonly warmupCapMs?: number
  /** Operations per measurement, for everyone (skips calibration). */
  readonly ops?: number
  /** Most operations per measurement. */
  readonly maxOps?: number
  /**
   * What a measurement reads: `wall` time (default), or the process's `cpu` time (user + system,
   * every thread of the process): for work done in the process itself (SQLite), it leaves out the
   * time the machine gave to other processes.
   */
  readonly clock?: 'wall' | 'cpu'
  /**
   * Untimed operations run after the forced collection when a measurement is fewer than ten
   * operations (at ten or more, a tenth of them run so; see `timed`). Default 0: an operation
   * that changes the database (an insert of 10,000 rows) must not run twice per measurement.
   * A workload whose one operation is itself thousands of statements that change nothing (W7:
   * 1000 concurrent selects) sets 1.
   */
  readonly settleOps?: number
}

export interface Measured {
  readonly name: string
  /** Operations per measurement. */
  readonly ops: number
  /** Time per operation in each round, in microseconds. */
  readonly perOpUs: readonly number[]
  /** Median time per operation, in microseconds. */
  readonly medianUs: number
  /** Per-round ratios to the baseline, their median, min and max. */
  readonly ratios: readonly number[]
  readonly ratio: number
  readonly ratioMin: number
  readonly ratioMax: number
}

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

const shuffle = <T>(xs: readonly T[]): T[] => {
  const a = [...xs]
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    ;[a[i], a[j]] = [a[j], a[i]]
  }
  return a
}

/** Milliseconds on each clock. */
const CLOCKS = {
  wall: (): number => performance.now(),
  cpu: (): number => {
    const u = process.cpuUsage()
    return (u.user + u.system) / 1000
  },
} as const

/** A full collection, where the process runs with `--expose-gc` (bench/run.ts starts workloads so). */
const collect: () => void = (globalThis as { gc?: () => void }).gc ?? (() => {})

/** The pause after a forced collection (see `timed`). */
const SWEEP_MS = Number(process.env.BENCH_SWEEP_MS ?? 20)

/** One measurement of `n` operations; `settle` (rounds only, not the warm-up): see `settleOps`. */
const timed = async (impl: Impl, n: number, now: () => number, settle?: number): Promise<number> => {
  if (impl.before !== undefined) await impl.before()
  // Untimed: the garbage of the implementation before is not charged to this one. The collector
  // sweeps on background threads after a full collection, and the CPU clock counts every thread:
  // a pause lets that work end before timing starts.
  collect()
  await new Promise((resolve) => setTimeout(resolve, SWEEP_MS))
  // Untimed too, a tenth of the operations, where there are ten or more: just after a full
  // collection allocation-heavy code runs several times slower for its first thousands of
  // operations, a state a running program seldom meets. Timing starts after it. Below ten
  // operations, `settle` of them (see `settleOps`).
  const untimed = settle === undefined ? 0 : n >= 10 ? Math.ceil(n / 10) : settle
  if (untimed > 0) await impl.run(untimed)
  const t0 = now()
  await impl.run(n)
  return now() - t0
}

export const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 11)

/**
 * Measure implementations against the first one (the baseline).
 *
 * @example
 * await compare([{ name: 'raw', run: (n) => ... }, { name: 'recordkit', run: async (n) => ... }])
 */
export const compare = async (impls: readonly Impl[], options: CompareOptions = {}): Promise<Measured[]> => {
  const rounds = options.rounds ?? ROUNDS
  const targetMs = options.targetMs ?? 40
  const warmupMs = options.warmupMs ?? 250
  const warmupOps = options.warmupOps ?? 5000
  const warmupCapMs = options.warmupCapMs ?? 600
  const maxOps = options.maxOps ?? 1_000_000
  const now = CLOCKS[options.clock ?? 'wall']
  const ops = new Map<Impl, number>()
  // Warm-up and calibration: run until the JIT has seen every function often (a few thousand
  // operations) or the time cap is spent, then size a measurement from the last call.
  for (const impl of impls) {
    let n = 1
    let spent = 0
    let done = 0
    let calls = 0
    let perOp = 0
    while (calls < 2 || spent < warmupMs || (done < warmupOps && spent < warmupCapMs)) {
      const ms = await timed(impl, n, now)
      spent += ms
      done += n
      calls++
      perOp = ms / n
      if (options.ops === undefined && ms < 50) n = Math.min(n * 2, maxOps)
    }
    ops.set(impl, options.ops ?? Math.max(1, Math.min(maxOps, Math.round(targetMs / Math.max(perOp, 1e-6)))))
  }
  const times = new Map<Impl, number[]>(impls.map((i) => [i, []]))
  for (let r = 0; r < rounds; r++) {
    for (const impl of shuffle(impls)) {
      const n = ops.get(impl)!
      times.get(impl)!.push(((await timed(impl, n, now, options.settleOps ?? 0)) * 1000) / n)
    }
  }
  const base = times.get(impls[0])!
  return impls.map((impl) => {
    const t = times.get(impl)!
    const ratios = t.map((x, i) => x / base[i])
    return {
      name: impl.name, ops: ops.get(impl)!, perOpUs: t, medianUs: median(t),
      ratios, ratio: median(ratios), ratioMin: Math.min(...ratios), ratioMax: Math.max(...ratios),
    }
  })
}

/** Fail loudly when a workload's answer is wrong (checked once, outside the measurement). */
export const expect = (ok: boolean, what: string): void => {
  if (!ok) throw new Error(`check failed: ${what}`)
}

/** Unwrap an fp-ts Either, throwing its Left. */
export const right = <A>(e: { readonly _tag: 'Left'; readonly left: unknown } | { readonly _tag: 'Right'; readonly right: A }): A => {
  if (e._tag === 'Left') throw e.left
  return e.right
}
