/**
 * Runs examples/cli.sh, the recordkit command as a shell session, and shows its output.
 *
 * Run: npx tsx examples/cli.ts
 */
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const script = fileURLToPath(new URL('./cli.sh', import.meta.url))
const r = spawnSync('bash', [script], { encoding: 'utf8', env: { ...process.env, RECORDKIT_URL: '' } })
process.stdout.write(r.stdout)
process.stderr.write(r.stderr)
process.exitCode = r.status ?? 1
