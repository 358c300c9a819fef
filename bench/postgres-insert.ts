/**
 * Batch insert on PostgreSQL, three ways, measured through postgres.js in the same process:
 *
 * - `values`: one multi-row `INSERT ... VALUES ($1, $2, ...), (...)` (what the dialect renders);
 * - `unnest`: `INSERT ... SELECT * FROM unnest($1::int[], $2::text[], ...)`, one array per column,
 *   which needs each column's PostgreSQL type spelled out;
 * - `jsonb`: `INSERT ... SELECT ... FROM jsonb_populate_recordset(NULL::t, $1)`, one JSON
 *   parameter, types taken from the table itself.
 *
 * The same two statements are also run through recordkit (`values` and `values` + `unnest`),
 * compile included.
 *
 * Run: npx tsx bench/postgres-insert.ts [rows] [rounds]
 */
import { pipe } from 'fp-ts/lib/function.js'
import postgres from 'postgres'
import { connect } from '../src/compose.js'
import { postgres as pgDialect, unnest } from '../src/dialects/postgres.js'
import { postgresJs } from '../src/drivers/postgres.js'
import { run } from '../src/promise.js'
import { insertInto, values } from '../src/query.js'

const URL = process.env.RECORDKIT_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const ROWS = Number(process.argv[2] ?? 10_000)
const ROUNDS = Number(process.argv[3] ?? 7)
const T = 'pgx_bench_insert'

const sql = postgres(URL, { max: 1, onnotice: () => {} })

interface R { id: number; name: string; price: string; at: Date; ok: boolean }
const rows: R[] = Array.from({ length: ROWS }, (_, i) => ({
  id: i, name: `name ${i} "q" 'x'`, price: `${i}.${i % 100}`, at: new Date(1_700_000_000_000 + i * 1000), ok: i % 2 === 0,
}))
const cols = ['id', 'name', 'price', 'at', 'ok'] as const

const pgArray = (xs: readonly unknown[]): string =>
  '{' + xs.map((x) => x === null ? 'NULL' : '"' + String(x instanceof Date ? x.toISOString() : x).replace(/[\\"]/g, '\\$&') + '"').join(',') + '}'

const db = await run(connect(postgresJs({ url: URL, max: 1 }), pgDialect))
const types = { id: 'int4', name: 'text', price: 'numeric', at: 'timestamptz', ok: 'boolean' }

const ways: Record<string, (prepare: boolean) => Promise<unknown>> = {
  values: async (prepare) => {
    const params: unknown[] = []
    const tuples: string[] = []
    for (const r of rows) {
      const ph: string[] = []
      for (const c of cols) { params.push(r[c]); ph.push(`$${params.length}`) }
      tuples.push(`(${ph.join(', ')})`)
    }
    return sql.unsafe(`INSERT INTO ${T} (id, name, price, at, ok) VALUES ${tuples.join(', ')}`, params as never[], { prepare })
  },
  unnest: async (prepare) =>
    sql.unsafe(`INSERT INTO ${T} (id, name, price, at, ok) SELECT * FROM unnest($1::int[], $2::text[], $3::numeric[], $4::timestamptz[], $5::boolean[])`,
      cols.map((c) => pgArray(rows.map((r) => r[c]))), { prepare }),
  jsonb: async (prepare) =>
    sql.unsafe(`INSERT INTO ${T} (id, name, price, at, ok) SELECT id, name, price, at, ok FROM jsonb_populate_recordset(NULL::${T}, $1::text::jsonb)`,
      [JSON.stringify(rows)], { prepare }),
  'recordkit values': async () => run(db.execute(pipe(insertInto(T), values(rows as unknown as Record<string, unknown>[])))),
  'recordkit unnest': async () => run(db.execute(pipe(insertInto(T), values(rows as unknown as Record<string, unknown>[]), unnest(types)))),
}

const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)] }

const main = async (): Promise<void> => {
  await sql.unsafe(`DROP TABLE IF EXISTS ${T}`)
  await sql.unsafe(`CREATE TABLE ${T} (id int, name text, price numeric(20,2), at timestamptz, ok boolean, extra text DEFAULT 'd')`)
  const times: Record<string, number[]> = {}
  for (let round = 0; round <= ROUNDS; round++) {
    for (const [name, f] of Object.entries(ways)) {
      for (const prepare of name.startsWith('recordkit') ? [true] : [true, false]) {
        const key = `${name}${prepare ? '' : ' (prepare: false)'}`
        await sql.unsafe(`TRUNCATE ${T}`)
        const t0 = performance.now()
        await f(prepare)
        const ms = performance.now() - t0
        const [{ n }] = await sql.unsafe(`SELECT count(*)::int AS n FROM ${T}`)
        if (n !== ROWS) throw new Error(`${key} inserted ${n} rows`)
        if (round > 0) (times[key] ??= []).push(ms) // round 0 warms up
      }
    }
  }
  const base = median(times.values)
  console.log(`${ROWS} rows, ${ROUNDS} rounds, median ms (ratio to multi-row VALUES, prepared):`)
  for (const [k, v] of Object.entries(times)) console.log(`  ${k.padEnd(26)} ${median(v).toFixed(1).padStart(8)} ms  ${(median(v) / base).toFixed(2)}x`)
  await sql.unsafe(`DROP TABLE ${T}`)
  await sql.end()
  await run(db.close())
}

main().catch((e) => { console.error(e); process.exit(1) })
