/**
 * 1,000 concurrent point selects on PostgreSQL: recordkit (postgres dialect + postgres.js
 * driver) against raw postgres.js, in the same process, with pools of the same size.
 *
 * Rounds are interleaved (raw, then each recordkit form, in a rotating order) and the ratio is
 * taken per round, so drift of the machine hits both sides alike. Reported: the median
 * throughput of each side and the median of the per-round ratios (recordkit / raw; 1.0 is
 * parity, the target is >= 0.8).
 *
 * Run: npx tsx bench/postgres-concurrency.ts [rounds] [concurrent] [max]
 */
import { pipe } from 'fp-ts/lib/function.js'
import rawPostgres from 'postgres'
import { connect } from '../src/compose.js'
import { postgres } from '../src/dialects/postgres.js'
import { postgresJs } from '../src/drivers/postgres.js'
import { run } from '../src/promise.js'
import { from, param, select, where } from '../src/query.js'
import { sql } from '../src/sql.js'

const URL = process.env.RECORDKIT_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const ROUNDS = Number(process.argv[2] ?? 9)
const CONCURRENT = Number(process.argv[3] ?? 1000)
const MAX = Number(process.argv[4] ?? 4)
const BATCHES = 5 // batches of CONCURRENT queries per measurement
const T = 'pgx_bench_points'

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

const main = async (): Promise<void> => {
  const raw = rawPostgres(URL, { max: MAX, onnotice: () => {} })
  const db = await run(connect(postgresJs({ url: URL, max: MAX }), postgres))

  await run(db.execute(sql`DROP TABLE IF EXISTS ${sql.id(T)}`))
  await run(db.execute(sql`CREATE TABLE ${sql.id(T)} (id int PRIMARY KEY, label text NOT NULL, score int NOT NULL)`))
  await run(db.execute(sql`INSERT INTO ${sql.id(T)} SELECT g, 'point ' || g, g % 97 FROM generate_series(1, ${CONCURRENT}) g`))

  const find = db.prepare(pipe(from(T), select('id', 'label', 'score'), where({ id: param('id') })))

  /** One batch: CONCURRENT point selects in flight at once; checks every answer. */
  const forms: Record<string, (id: number) => Promise<unknown>> = {
    // The idiomatic postgres.js call: a tagged template (prepared, its text cached by the template).
    'raw postgres.js': (id) => raw`SELECT "id", "label", "score" FROM "pgx_bench_points" WHERE "id" = ${id}`.then((r) => r[0]),
    'recordkit builder': (id) => run(db.first(pipe(from(T), select('id', 'label', 'score'), where({ id })))).then((o) => (o._tag === 'Some' ? o.value : undefined)),
    'recordkit prepared': (id) => run(find.first({ id })).then((o) => (o._tag === 'Some' ? o.value : undefined)),
  }

  const measure = async (f: (id: number) => Promise<unknown>): Promise<number> => {
    const t0 = performance.now()
    for (let b = 0; b < BATCHES; b++) {
      const rows = await Promise.all(Array.from({ length: CONCURRENT }, (_, i) => f(i + 1)))
      for (let i = 0; i < rows.length; i++) {
        if ((rows[i] as { id?: number } | undefined)?.id !== i + 1) throw new Error(`wrong row for id ${i + 1}`)
      }
    }
    return (CONCURRENT * BATCHES) / ((performance.now() - t0) / 1000)
  }

  const names = Object.keys(forms)
  for (const n of names) await measure(forms[n]) // warm up: connections, prepared statements, JIT

  const throughput: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]))
  const ratios: Record<string, number[]> = Object.fromEntries(names.slice(1).map((n) => [n, []]))
  for (let round = 0; round < ROUNDS; round++) {
    const order = names.map((_, i) => names[(i + round) % names.length])
    const got: Record<string, number> = {}
    for (const n of order) got[n] = await measure(forms[n])
    for (const n of names) throughput[n].push(got[n])
    for (const n of names.slice(1)) ratios[n].push(got[n] / got[names[0]])
  }

  console.log(`${CONCURRENT} concurrent point selects x ${BATCHES} per measurement, pool max ${MAX}, ${ROUNDS} interleaved rounds`)
  for (const n of names) {
    const line = `  ${n.padEnd(20)} ${Math.round(median(throughput[n])).toString().padStart(7)} queries/s`
    console.log(n === names[0] ? line : `${line}   ratio to raw: median ${median(ratios[n]).toFixed(2)}x (min ${Math.min(...ratios[n]).toFixed(2)}, max ${Math.max(...ratios[n]).toFixed(2)})`)
  }

  await run(db.execute(sql`DROP TABLE IF EXISTS ${sql.id(T)}`))
  await run(db.close())
  await raw.end()
}

main().catch((e: unknown) => {
  console.error(e)
  process.exit(1)
})
