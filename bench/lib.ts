/**
 * A small benchmark harness: interleaved, shuffled rounds after a warm-up; the ratio to the
 * baseline is taken within each round and the median reported, so machine drift cancels.
 */

/** One implementation of a workload: runs `n` operations. */
export type Task = (n: number) => Promise<void> | void

export interface Measured {
  readonly name: string
  /** Median time per operation, in microseconds. */
  readonly medianUs: number
  /** Median of per-round ratios to the baseline, and their min and max. */
  readonly ratio: number
  readonly ratioMin: number
  readonly ratioMax: number
}

const median = (xs: readonly number[]): number => {
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

/**
 * Measure tasks against the first one (the baseline).
 * @example await compare({ raw: (n) => ..., recordkit: (n) => ... }, { ops: 10_000 })
 */
export const compare = async (
  tasks: Readonly<Record<string, Task>>,
  options: { readonly ops: number; readonly rounds?: number; readonly warmup?: number },
): Promise<Measured[]> => {
  const names = Object.keys(tasks)
  const rounds = options.rounds ?? 9
  for (const n of names) await tasks[n](options.warmup ?? options.ops)
  const times: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]))
  for (let r = 0; r < rounds; r++) {
    for (const n of shuffle(names)) {
      const t0 = process.hrtime.bigint()
      await tasks[n](options.ops)
      times[n].push(Number(process.hrtime.bigint() - t0) / 1000 / options.ops)
    }
  }
  const base = times[names[0]]
  return names.map((n) => {
    const ratios = times[n].map((t, i) => t / base[i])
    return { name: n, medianUs: median(times[n]), ratio: median(ratios), ratioMin: Math.min(...ratios), ratioMax: Math.max(...ratios) }
  })
}

/** Print a result table. */
export const report = (title: string, rows: readonly Measured[]): void => {
  console.log(`\n${title}`)
  console.log('| implementation | median µs/op | ratio to baseline (min-max) |')
  console.log('|---|---:|---:|')
  for (const r of rows) console.log(`| ${r.name} | ${r.medianUs.toFixed(2)} | ${r.ratio.toFixed(2)}x (${r.ratioMin.toFixed(2)}-${r.ratioMax.toFixed(2)}) |`)
}
