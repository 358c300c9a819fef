/**
 * bench/RESULTS.md and bench/ratios.svg from the measured groups.
 */
import type { GroupResult, RowResult } from './group.js'

export interface RunInfo {
  readonly started: Date
  readonly seconds: number
  readonly node: string
  readonly cpu: string
  readonly cores: number
  readonly memoryGb: number
  readonly loadStart: string
  readonly loadEnd: string
  /** Load averages when each workload started. */
  readonly loadByWorkload: Readonly<Record<string, string>>
  readonly versions: Readonly<Record<string, string>>
  readonly servers: Readonly<Record<string, string>>
  readonly missing: readonly string[]
  readonly rounds: string
}

const ENGINE_NAME: Readonly<Record<string, string>> = {
  sqlite: 'SQLite',
  postgres: 'PostgreSQL',
  mariadb: 'MariaDB',
  compile: 'no database (PostgreSQL SQL)',
}

const WORKLOADS: Readonly<Record<string, string>> = {
  W0: 'W0. Build + compile only',
  W1: 'W1. Point select by primary key',
  W2: 'W2. Read 1000 rows with decoding',
  W3: 'W3. Insert 10,000 rows',
  W4: 'W4. Updates',
  W5: 'W5. Eager loading',
  W6: 'W6. Transactions',
  W7: 'W7. Concurrency',
  W8: 'W8. Cold start',
  W9: 'W9. Bulk upsert',
}

export const time = (us: number): string =>
  us < 1 ? `${(us * 1000).toFixed(0)} ns` : us < 1000 ? `${us.toFixed(us < 10 ? 2 : 1)} µs` : us < 1e6 ? `${(us / 1000).toFixed(us < 1e4 ? 2 : 1)} ms` : `${(us / 1e6).toFixed(2)} s`

const ratio = (r: number): string => `${r.toFixed(2)}x`

const rate = (perSecond: number): string =>
  perSecond >= 1e6 ? `${(perSecond / 1e6).toFixed(2)} M/s` : perSecond >= 1e3 ? `${(perSecond / 1e3).toFixed(1)} k/s` : `${perSecond.toFixed(0)}/s`

const escape = (s: string): string => s.replace(/\|/g, '\\|')

// ---------------------------------------------------------------- targets

export interface Target {
  readonly target: string
  readonly measured: string
  readonly met: boolean | undefined
}

const find = (groups: readonly GroupResult[], key: string): GroupResult | undefined => groups.find((g) => g.key === key && g.error === undefined)
const row = (g: GroupResult | undefined, prefix: string): RowResult | undefined => g?.rows.find((r) => r.name.startsWith(prefix))

/** Each target of the brief against the measured figure. */
export const targets = (groups: readonly GroupResult[]): Target[] => {
  const out: Target[] = []
  const add = (target: string, r: RowResult | undefined, ok: (r: RowResult) => boolean, show: (r: RowResult) => string = (x) => `${ratio(x.ratio)} (${ratio(x.ratioMin)}-${ratio(x.ratioMax)})`) =>
    out.push({ target, measured: r === undefined ? 'not measured' : show(r), met: r === undefined ? undefined : ok(r) })

  const w1 = find(groups, 'W1.sqlite')
  const vsDrizzle = (theirs: RowResult | undefined, limit: number) => (r: RowResult) => r.ratio <= limit && theirs !== undefined && r.ratio <= theirs.ratio
  const showVs = (theirs: RowResult | undefined, name: string) => (r: RowResult) =>
    `${ratio(r.ratio)} (${ratio(r.ratioMin)}-${ratio(r.ratioMax)}); ${name} ${theirs === undefined ? 'not measured' : `${ratio(theirs.ratio)} (${time(theirs.medianUs)} vs recordkit ${time(r.medianUs)})`}`
  const drizzleAsync = row(w1, 'Drizzle prepared')
  const drizzlePlain = row(w1, 'Drizzle prepared, plain loop')
  const prepared = row(w1, 'recordkit prepared')
  const preparedSync = row(w1, 'recordkit prepared, sync')
  const rawAwaited = row(w1, 'raw better-sqlite3, awaited')
  add('SQLite point select, prepared, run as raw and Drizzle run (`p.sync.first(args)()` in a plain loop, Drizzle `.get()` the same): within 1.1x of raw and no slower than Drizzle prepared', preparedSync,
    vsDrizzle(drizzlePlain, 1.1), showVs(drizzlePlain, 'Drizzle prepared, plain loop'))
  add('SQLite point select, prepared and awaited (`await p.first(args)()`): within 1.1x of raw and no slower than Drizzle prepared awaited the same way', prepared,
    vsDrizzle(drizzleAsync, 1.1),
    (r) => `${showVs(drizzleAsync, 'Drizzle prepared')(r)}; raw itself awaited: ${rawAwaited === undefined ? 'not measured' : ratio(rawAwaited.ratio)}`)
  add('SQLite point select, default path (`db.first(builder)`) within 1.5x of raw', row(w1, 'recordkit `db.first'), (r) => r.ratio <= 1.5)
  const findAwaited = row(w1, 'recordkit `User.find`')
  add('SQLite `Model.find` by primary key, run as raw runs (`User.findNow(db, id)()` in a plain loop), within 1.3x of raw', row(w1, 'recordkit `User.findNow'), (r) => r.ratio <= 1.3,
    (r) => `${ratio(r.ratio)} (${ratio(r.ratioMin)}-${ratio(r.ratioMax)}); awaited (\`await User.find(db, id)()\`): ${findAwaited === undefined ? 'not measured' : ratio(findAwaited.ratio)}`)
  add('SQLite `Model.find` by primary key, awaited (`await User.find(db, id)()`), within 1.3x of raw', findAwaited, (r) => r.ratio <= 1.3,
    (r) => `${ratio(r.ratio)} (${ratio(r.ratioMin)}-${ratio(r.ratioMax)}); raw itself awaited: ${rawAwaited === undefined ? 'not measured' : ratio(rawAwaited.ratio)}`)
  const ky = row(w1, 'Kysely')
  add('SQLite point select, default path ahead of Kysely', row(w1, 'recordkit `db.first'), (r) => ky !== undefined && r.medianUs < ky.medianUs,
    (r) => `recordkit ${time(r.medianUs)} vs Kysely ${ky === undefined ? '?' : time(ky.medianUs)} (${ratio(r.ratio)} vs ${ky === undefined ? '?' : ratio(ky.ratio)} of raw)`)
  for (const q of ['point', 'filter', 'join', 'insert']) {
    const g = find(groups, `W0.${q}`)
    add(`Build + compile (${g?.title.replace('Build + compile: ', '') ?? q}) no slower than Kysely's compile`, row(g, 'recordkit'), (r) => r.ratio <= 1)
  }
  for (const set of ['posts', 'tracks']) {
    for (const e of ['sqlite', 'postgres', 'mariadb']) {
      const g = find(groups, `W2.${set}.${e}`)
      add(`1000-row read with decoding (${set}, ${ENGINE_NAME[e]}) within 1.3x of raw objects`, row(g, 'recordkit `'), (r) => r.ratio <= 1.3)
    }
  }
  for (const e of ['sqlite', 'postgres', 'mariadb']) {
    const g = find(groups, `W3.${e}`)
    const show = (r: RowResult) => `${ratio(1 / r.ratio)} of the throughput of ${g?.baseline ?? 'raw'} (time ${ratio(r.ratio)}, ${ratio(r.ratioMin)}-${ratio(r.ratioMax)})`
    const withReturning = g?.rows.find((r) => r.name.startsWith('raw') && r.name.includes('RETURNING'))
    const many = row(g, 'recordkit `PostInsert.createMany` (returning')
    const manyReturning = g?.rows.find((r) => r.name === 'recordkit `PostInsert.createMany`')
    add(`createMany 10k rows on ${ENGINE_NAME[e]} (\`{ returning: false }\`): at least 0.9x the throughput of the best raw method`, many, (r) => 1 / r.ratio >= 0.9,
      (r) => `${show(r)}${manyReturning === undefined || withReturning === undefined ? '' : `; returning the rows: ${ratio(withReturning.medianUs / manyReturning.medianUs)} of raw with RETURNING`}`)
    add(`executeBatch 10k rows on ${ENGINE_NAME[e]}: at least 0.95x the throughput of the best raw method`, row(g, 'recordkit `db.executeBatch'), (r) => 1 / r.ratio >= 0.95, show)
    if (e === 'postgres') {
      // One statement cannot outrun its own method: it is held to raw postgres.js sending the same
      // one-statement unnest (the server's time for it sets both), and shown against the best raw method.
      const rawUnnest = g?.rows.find((r) => r.name === 'raw postgres.js, unnest')
      add('Bulk insert on PostgreSQL: `values` + `unnest(types)` (one statement) at least 0.9x the throughput of raw postgres.js sending the same one-statement unnest', row(g, 'recordkit `values` + `unnest(types)`'),
        (r) => rawUnnest !== undefined && rawUnnest.medianUs / r.medianUs >= 0.9,
        (r) => `${rawUnnest === undefined ? 'raw unnest not measured' : `${ratio(rawUnnest.medianUs / r.medianUs)} of the throughput of raw postgres.js, unnest`}; against the best raw method: ${show(r)}`)
      add('Bulk insert on PostgreSQL: `values` + `unnest(types, { rowsPerStatement: 2000 })` at least 0.9x the best raw method', row(g, 'recordkit `values` + `unnest(types, {'), (r) => 1 / r.ratio >= 0.9, show)
    }
  }
  for (const set of ['blog', 'chinook']) {
    for (const e of ['sqlite', 'postgres', 'mariadb']) {
      const g = find(groups, `W5.${set}.${e}`)
      const byHand = row(g, 'batched raw + decoding')
      add(`Eager load 3 levels (${set}, ${ENGINE_NAME[e]}): 3 queries, within 1.15x of batched raw (recordkit decodes, raw does not)`, row(g, 'recordkit'),
        (r) => r.queries === 3 && r.ratio <= 1.15,
        (r) => `${r.queries ?? '?'} queries, ${ratio(r.ratio)} (${ratio(r.ratioMin)}-${ratio(r.ratioMax)})${byHand === undefined ? '' : `; the raw rows decoded by hand: ${ratio(byHand.ratio)}`}`)
    }
  }
  for (const pool of [1, 4]) {
    const g = find(groups, `W7.pool${pool}.postgres`)
    const show = (r: RowResult) =>
      `${ratio(1 / r.ratio)} of raw postgres.js throughput (median of the per-round ratios; median rates ${rate(1000 / (r.medianUs / 1e6))} vs ${rate(1000 / ((g?.rows[0].medianUs ?? 1) / 1e6))})`
    add(`PostgreSQL 1000 concurrent, pool of ${pool}: prepared at least 0.8x raw postgres.js throughput`, row(g, 'recordkit prepared'), (r) => 1 / r.ratio >= 0.8, show)
    add(`PostgreSQL 1000 concurrent, pool of ${pool}: builder path at least 0.9x raw postgres.js throughput`, row(g, 'recordkit `db.first'), (r) => 1 / r.ratio >= 0.9, show)
  }
  for (const e of ['sqlite', 'postgres', 'mariadb']) {
    const g = find(groups, `W8.${e}`)
    const kysely = row(g, 'Kysely')
    add(`Cold start (import + first query, ${ENGINE_NAME[e]}): no slower than Kysely`, row(g, 'recordkit'), (r) => kysely !== undefined && r.ratio <= kysely.ratio,
      (r) => `recordkit ${time(r.medianUs)} (${ratio(r.ratio)} of raw) vs Kysely ${kysely === undefined ? 'not measured' : `${time(kysely.medianUs)} (${ratio(kysely.ratio)} of raw)`}`)
  }
  return out
}

// ---------------------------------------------------------------- markdown

const table = (g: GroupResult): string => {
  if (g.error !== undefined) return `Not measured: ${escape(g.error)}\n`
  const throughput = g.rowsPerOp !== undefined
  const unit = g.workload === 'W7' ? 'queries/s' : 'rows/s'
  const head = ['implementation', 'median time / op', ...(throughput ? [unit] : []), `ratio to ${g.workload === 'W0' ? 'Kysely' : 'baseline'} (min-max)`, 'queries / op', 'notes']
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i === 0 || i === head.length - 1 ? '---' : '---:')).join('|')}|`]
  for (const r of g.rows) {
    const cells = [
      r.name === g.baseline ? `**${escape(r.name)}** (baseline)` : escape(r.name),
      time(r.medianUs),
      ...(throughput ? [rate(g.rowsPerOp! / (r.medianUs / 1e6))] : []),
      r.name === g.baseline ? '1.00x' : `${ratio(r.ratio)} (${ratio(r.ratioMin)}-${ratio(r.ratioMax)})`,
      r.queries === undefined ? '-' : String(r.queries),
      escape(r.note ?? ''),
    ]
    lines.push(`| ${cells.join(' | ')} |`)
  }
  return `${lines.join('\n')}\n`
}

export const markdown = (groups: readonly GroupResult[], info: RunInfo, reproduce: string, method: string): string => {
  const out: string[] = []
  out.push('# recordkit benchmark results', '')
  out.push(`Written by \`npm run bench\` on ${info.started.toISOString().replace('T', ' ').slice(0, 16)} UTC; the whole suite took ${(info.seconds / 60).toFixed(1)} minutes.`, '')
  out.push('## How to reproduce', '', reproduce, '')
  out.push('## Machine', '')
  out.push(`- Node ${info.node}; CPU: ${info.cpu}, ${info.cores} cores (from /proc/cpuinfo); ${info.memoryGb.toFixed(0)} GB memory.`)
  out.push(`- Load average (1, 5, 15 min) when the run started: ${info.loadStart}; when it ended: ${info.loadEnd}. The machine was shared with other work: the ratios are taken within each round for that reason, and the min-max columns show how much the rounds varied.`)
  out.push(`- Load average when each workload started: ${Object.entries(info.loadByWorkload).map(([w, l]) => `${w} ${l}`).join('; ')}.`)
  out.push(`- Servers (loopback): ${Object.entries(info.servers).map(([k, v]) => `${k} ${v}`).join('; ')}.`)
  out.push(`- Libraries: ${Object.entries(info.versions).map(([k, v]) => `${k} ${v}`).join(', ')}. Knex's PostgreSQL path goes through \`pg\`; the other PostgreSQL implementations use postgres.js.`)
  if (info.missing.length > 0) out.push(`- Not measured: ${info.missing.join('; ')}.`)
  out.push('', '## Method', '', method, '')
  out.push('## Targets', '')
  out.push('| target | measured | met |', '|---|---|---|')
  for (const t of targets(groups)) out.push(`| ${escape(t.target)} | ${escape(t.measured)} | ${t.met === undefined ? 'not measured' : t.met ? 'yes' : '**no**'} |`)
  out.push('')
  out.push('![ratios](ratios.svg)', '')
  let workload = ''
  for (const g of groups) {
    if (g.workload !== workload) {
      workload = g.workload
      out.push(`## ${WORKLOADS[workload] ?? workload}`, '')
    }
    out.push(`### ${g.title}: ${ENGINE_NAME[g.engine] ?? g.engine}${g.pool === undefined ? '' : ''}`, '')
    out.push(`One operation: ${g.op}. Baseline: ${g.baseline}. ${g.rounds} rounds.${g.notes.length > 0 ? ` ${g.notes.join(' ')}` : ''}`, '')
    out.push(table(g))
  }
  return out.join('\n')
}

// ---------------------------------------------------------------- updating a full report with a partial run

const unescape = (s: string): string => s.replace(/\\\|/g, '|')

/** Split markdown into the text before the first `## W` section and the sections by workload id. */
const sections = (md: string): { head: string; byWorkload: Map<string, string> } => {
  const at = [...md.matchAll(/^## (W\d+)\. .*$/gm)]
  const byWorkload = new Map<string, string>()
  at.forEach((m, i) => byWorkload.set(m[1], md.slice(m.index, i + 1 < at.length ? at[i + 1].index : md.length)))
  return { head: at.length === 0 ? md : md.slice(0, at[0].index), byWorkload }
}

/** The `### title` tables of a workload section, by title, in order. */
const tablesOf = (section: string): Map<string, string> => {
  const at = [...section.matchAll(/^### (.*)$/gm)]
  return new Map(at.map((m, i) => [m[1], section.slice(m.index, i + 1 < at.length ? at[i + 1].index : section.length)]))
}

/**
 * bench/RESULTS.md updated with a partial run (`npm run bench -- W3 W8 --update`): the sections of
 * the workloads measured again are replaced table by table (a table not measured again, such as another engine's, stays), their rows of the Targets table are written again
 * from the new figures, and the table says for every row when it was measured (this run, with the
 * load average when the workload started, or the earlier run the file came from). Everything else
 * is kept as it was.
 */
export const splice = (existing: string, groups: readonly GroupResult[], info: RunInfo, reproduce: string, method: string, label: string): string => {
  const fresh = sections(markdown(groups, info, reproduce, method))
  const old = sections(existing)
  const when = (w: string) => `${label} ${info.started.toISOString().replace('T', ' ').slice(0, 16)} UTC, load ${info.loadByWorkload[w] ?? info.loadStart}`
  const previous = /Written by `npm run bench` on ([0-9-]+ [0-9:]+) UTC/.exec(existing)?.[1] ?? 'the earlier run'
  // The target rows this run measured, with the workload each comes from (every target reads one table).
  const fresher = new Map<string, { readonly t: Target; readonly w: string }>()
  for (const g of groups) for (const t of targets([g])) if (t.measured !== 'not measured') fresher.set(t.target, { t, w: g.workload })
  // The Targets table, row by row.
  const lines = old.head.split('\n')
  const start = lines.findIndex((l) => /^\| target \| measured \| met \|/.test(l))
  if (start < 0) throw new Error('RESULTS.md has no Targets table to update')
  lines[start] = '| target | measured | met | measured when |'
  lines[start + 1] = '|---|---|---|---|'
  for (let i = start + 2; i < lines.length && lines[i].startsWith('|'); i++) {
    const cells = lines[i].slice(2, -2).split(/ (?<!\\)\| /)
    const target = unescape(cells[0])
    const f = fresher.get(target)
    lines[i] = f === undefined
      ? `| ${cells[0]} | ${cells[1]} | ${cells[2]} | ${cells[3] ?? `full run ${previous} UTC`} |`
      : `| ${escape(f.t.target)} | ${escape(f.t.measured)} | ${f.t.met === undefined ? 'not measured' : f.t.met ? 'yes' : '**no**'} | ${when(f.w)} |`
  }
  let head = lines.join('\n')
  const measured = [...fresh.byWorkload.keys()]
  const note = `- Measured again on ${info.started.toISOString().replace('T', ' ').slice(0, 16)} UTC (${label}): ${measured.map((w) => `${w} (load ${info.loadByWorkload[w] ?? '?'})`).join(', ')}; load average when that run ended: ${info.loadEnd}.`
  head = head.replace(/(\n## Method\n)/, `${note.replace(/\$/g, '$$$$')}\n$1`)
  const out = [head]
  const ids = [...new Set([...old.byWorkload.keys(), ...fresh.byWorkload.keys()])].sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)))
  for (const w of ids) {
    const f = fresh.byWorkload.get(w)
    const o = old.byWorkload.get(w)
    if (f === undefined) {
      out.push(o!)
      continue
    }
    // Table by table: the ones measured again replace theirs (marked with when), the others stay.
    const mark = (t: string) => t.replace(/^(### .*\n)/, `$1\nMeasured again on ${when(w).replace(/\$/g, '$$$$')}.\n`)
    const freshTables = tablesOf(f)
    if (o === undefined) {
      out.push(f.slice(0, f.indexOf('\n### ') + 1) + [...freshTables.values()].map(mark).join(''))
      continue
    }
    const oldTables = tablesOf(o)
    const titles = [...new Set([...oldTables.keys(), ...freshTables.keys()])]
    out.push(o.slice(0, o.indexOf('\n### ') + 1) + titles.map((t) => (freshTables.has(t) ? mark(freshTables.get(t)!) : oldTables.get(t)!)).join(''))
  }
  return out.join('')
}

// ---------------------------------------------------------------- SVG

const FAMILY: readonly [RegExp, string, string][] = [
  [/^node/, 'Node alone', '#bbbbbb'],
  [/raw/, 'raw driver', '#555555'],
  [/^recordkit/, 'recordkit', '#1f6fd1'],
  [/^Kysely/, 'Kysely', '#e8871e'],
  [/^Drizzle/, 'Drizzle', '#2ca05a'],
  [/^Knex/, 'Knex', '#9b4dca'],
]
const familyOf = (name: string): [string, string] => {
  const f = FAMILY.find(([re]) => re.test(name))
  return f === undefined ? ['other', '#999999'] : [f[1], f[2]]
}

const xml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')

/**
 * A dot plot of the ratios: one line per table, a dot per implementation at its median ratio
 * (log scale), a whisker over its min-max; recordkit's best ratio is written at the right.
 */
export const svg = (groups: readonly GroupResult[]): string => {
  const measured = groups.filter((g) => g.error === undefined && g.rows.length > 0)
  const left = 330
  const plotW = 560
  const right = 120
  const rowH = 22
  const top = 70
  const lo = Math.log10(0.25)
  const hi = Math.log10(128)
  const x = (r: number): number => left + ((Math.log10(Math.min(Math.max(r, 0.25), 128)) - lo) / (hi - lo)) * plotW
  const height = top + measured.length * rowH + 60
  const width = left + plotW + right
  const parts: string[] = []
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="11">`)
  parts.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`)
  parts.push(`<text x="${left}" y="18" font-size="14" font-weight="bold">Time per operation relative to the baseline (median of per-round ratios; log scale; lower is faster)</text>`)
  // Legend
  let lx = left
  for (const [, label, color] of FAMILY) {
    parts.push(`<circle cx="${lx + 5}" cy="36" r="4.5" fill="${color}"/><text x="${lx + 13}" y="40">${xml(label)}</text>`)
    lx += label.length * 6.5 + 30
  }
  parts.push(`<text x="${left}" y="56" fill="#666">whiskers: min-max over rounds. W0 is relative to Kysely; W7 and W3 compare time (the inverse of throughput).</text>`)
  // Grid
  for (const t of [0.25, 0.5, 1, 2, 4, 8, 16, 32, 64, 128]) {
    const gx = x(t)
    parts.push(`<line x1="${gx}" y1="${top - 6}" x2="${gx}" y2="${top + measured.length * rowH}" stroke="${t === 1 ? '#333' : '#e3e3e3'}" stroke-width="${t === 1 ? 1.2 : 1}"/>`)
    parts.push(`<text x="${gx}" y="${top + measured.length * rowH + 14}" text-anchor="middle" fill="#555">${t}x</text>`)
  }
  parts.push(`<text x="${width - right + 8}" y="${top - 10}" fill="#1f6fd1" font-weight="bold">recordkit (best)</text>`)
  measured.forEach((g, i) => {
    const cy = top + i * rowH + rowH / 2
    if (i % 2 === 0) parts.push(`<rect x="0" y="${top + i * rowH}" width="${width}" height="${rowH}" fill="#f7f7f7"/>`)
    const label = `${g.key.split('.')[0]} ${g.title.replace(/^Build \+ compile: /, 'compile: ').replace(/^Eager loading: /, '')} (${ENGINE_NAME[g.engine]?.split(' ')[0] ?? g.engine})`
    parts.push(`<text x="${left - 8}" y="${cy + 4}" text-anchor="end">${xml(label.length > 58 ? `${label.slice(0, 56)}…` : label)}</text>`)
    for (const r of g.rows) {
      const [, color] = familyOf(r.name)
      if (r.name !== g.baseline) parts.push(`<line x1="${x(r.ratioMin)}" y1="${cy}" x2="${x(r.ratioMax)}" y2="${cy}" stroke="${color}" stroke-opacity="0.35" stroke-width="2"/>`)
    }
    for (const r of g.rows) {
      const [family, color] = familyOf(r.name)
      parts.push(`<circle cx="${x(r.ratio)}" cy="${cy}" r="${family === 'recordkit' ? 5 : 4}" fill="${color}" fill-opacity="0.9" stroke="#fff" stroke-width="0.8"><title>${xml(`${r.name}: ${r.ratio.toFixed(2)}x (${r.ratioMin.toFixed(2)}-${r.ratioMax.toFixed(2)}), ${time(r.medianUs)} per op`)}</title></circle>`)
    }
    const best = g.rows.filter((r) => r.name.startsWith('recordkit')).sort((a, b) => a.ratio - b.ratio)[0]
    if (best !== undefined) parts.push(`<text x="${width - right + 8}" y="${cy + 4}" fill="#1f6fd1">${best.ratio.toFixed(2)}x</text>`)
  })
  parts.push('</svg>')
  return `${parts.join('\n')}\n`
}
