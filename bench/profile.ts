/**
 * Profile one implementation of one workload: run it alone in a loop under the V8 profiler and
 * print the functions that take the most time (self time).
 *
 *   npm run build
 *   TSX_TSCONFIG_PATH=bench/tsconfig.json node --import tsx bench/profile.ts W5.blog.sqlite 'recordkit' [seconds]
 *
 * The profile itself is written to bench/.tmp/profile/ (open it in Chrome DevTools for the tree).
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { join } from 'node:path'
import type { Target } from './clients.js'
import { type Engine, MYSQL_URL, PG_URL, TMP_DIR } from './env.js'
import type { GroupSpec } from './group.js'

const [key, implPrefix, secondsArg] = process.argv.slice(2)
if (key === undefined || implPrefix === undefined) {
  console.error('usage: profile.ts <group key, e.g. W5.blog.sqlite> <implementation name prefix> [seconds]')
  process.exit(2)
}
const seconds = Number(secondsArg ?? 5)

const files = readdirSync(join(import.meta.dirname, 'workloads')).filter((f) => f.startsWith(key.split('.')[0].toLowerCase()))
if (files.length !== 1) throw new Error(`no workload file for ${key}`)
const mod = (await import(`./workloads/${files[0]}`)) as { groups: (engines: readonly Engine[]) => GroupSpec[] }
const group = mod.groups(['sqlite', 'postgres', 'mariadb']).find((g) => g.key === key)
if (group === undefined) throw new Error(`no group ${key}`)
const spec = group.impls.find((i) => i.name.startsWith(implPrefix))
if (spec === undefined) throw new Error(`no implementation starting with ${implPrefix} in ${group.impls.map((i) => i.name).join(', ')}`)

const engine: Engine = group.engine === 'compile' ? 'postgres' : group.engine
const target: Target = { engine, url: engine === 'postgres' ? PG_URL : engine === 'mariadb' ? MYSQL_URL : '', pool: group.pool }
const inst = await spec.make(target)
await inst.before?.()
await inst.run(10) // warm up before profiling

const session = new Session()
session.connect()
await session.post('Profiler.enable')
await session.post('Profiler.start')
let n = 0
const t0 = performance.now()
while (performance.now() - t0 < seconds * 1000) {
  await inst.before?.()
  await inst.run(1)
  n++
}
const elapsed = performance.now() - t0
const { profile } = await session.post('Profiler.stop')
await inst.close?.()

const dir = join(TMP_DIR, 'profile')
mkdirSync(dir, { recursive: true })
const file = join(dir, `${key}.${implPrefix.replace(/\W+/g, '_')}.cpuprofile`)
writeFileSync(file, JSON.stringify(profile))

// Self time per function.
const self = new Map<number, number>()
profile.samples?.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas?.[i] ?? 0)))
const byFunction = new Map<string, number>()
for (const node of profile.nodes) {
  const t = self.get(node.id) ?? 0
  const f = node.callFrame
  const where = f.url === '' ? '' : ` ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`
  const name = `${f.functionName || '(anonymous)'}${where}`
  byFunction.set(name, (byFunction.get(name) ?? 0) + t)
}
const total = [...byFunction.values()].reduce((a, b) => a + b, 0)
console.log(`${spec.name} on ${key}: ${n} operations in ${(elapsed / 1000).toFixed(1)} s, ${((elapsed * 1000) / n).toFixed(1)} µs per operation`)
for (const [name, t] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log(`${((t / total) * 100).toFixed(1).padStart(5)}%  ${name}`)
console.log(`profile: ${file}`)
process.exit(0)
