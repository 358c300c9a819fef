/**
 * Every ```ts block in README.md and docs/ is a complete module that type-checks, and runs on
 * embedded SQLite without throwing.
 *
 * The convention a block follows:
 * - it starts with its import lines and imports recordkit only through the package's entry
 *   points (`recordkit`, `recordkit/schema`, `recordkit/testing`, `recordkit/promise`,
 *   `recordkit/dialects/sqlite`, ...), plus fp-ts, io-ts and node builtins;
 * - `<!-- check: typecheck -->` on the line before it: type-checked only (it needs a server, or a
 *   file it does not create); in a chain it is left out of the run, so no later block may use
 *   what it declares;
 * - `<!-- continues -->` on the line before it: it continues the block before it; the chain back
 *   to the last block without that marker is checked as one module.
 *
 * The package paths resolve to src/ (tsconfig `paths` for the type check, the vitest aliases for
 * the run). All chains are type-checked in one TypeScript program; each runnable chain is written
 * to .tmp/docs/ and imported. A block of another language that is preceded by
 * `<!-- excerpt: file -->` (a shell session) must appear in that file.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { pathToFileURL } from 'node:url'
import ts from 'typescript'
import { describe, expect, it, vi } from 'vitest'

const root = join(import.meta.dirname, '..')
const outDir = join(root, '.tmp', 'docs')
const docs = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)]

interface Block {
  readonly doc: string
  readonly line: number
  readonly lang: string
  readonly body: string
  readonly markers: readonly string[]
}

/** The fenced blocks of one markdown file with the `<!-- ... -->` marker lines just above each. */
const blocksOf = (doc: string): Block[] => {
  const lines = readFileSync(join(root, doc), 'utf8').split('\n')
  const out: Block[] = []
  for (let i = 0; i < lines.length; i++) {
    const fence = /^```(\w*)\s*$/.exec(lines[i])
    if (fence === null) continue
    const markers: string[] = []
    for (let k = i - 1; k >= 0 && /^<!--.*-->\s*$/.test(lines[k]); k--) markers.push(lines[k].replace(/^<!--\s*|\s*-->\s*$/g, ''))
    let j = i + 1
    while (j < lines.length && !lines[j].startsWith('```')) j++
    out.push({ doc, line: i + 1, lang: fence[1], body: lines.slice(i + 1, j).join('\n'), markers })
    i = j
  }
  return out
}

const isTs = (b: Block) => b.lang === 'ts' || b.lang === 'typescript'
const typecheckOnly = (b: Block) => b.markers.includes('check: typecheck')
const continues = (b: Block) => b.markers.includes('continues')

/** A module made of one block and the blocks it continues. */
interface Chain { readonly name: string; readonly blocks: readonly Block[] }

const chainsOf = (blocks: readonly Block[]): Chain[] => {
  const out: { name: string; blocks: Block[] }[] = []
  for (const b of blocks.filter(isTs)) {
    const last = out[out.length - 1]
    if (continues(b)) {
      if (last === undefined || last.blocks[0].doc !== b.doc) throw new Error(`${b.doc}:${b.line} continues, but no block comes before it`)
      last.blocks.push(b)
    } else out.push({ name: `${b.doc.replace(/[/.]/g, '_')}_${b.line}`, blocks: [b] })
  }
  return out
}

/** The module text of some blocks, and where each block starts in it (0-based line). */
const moduleOf = (blocks: readonly Block[]) => {
  let text = ''
  const starts: { at: number; block: Block }[] = []
  for (const b of blocks) {
    starts.push({ at: text.split('\n').length - 1, block: b })
    text += `${b.body}\n`
  }
  return { text: `${text}export {}\n`, starts }
}

const allBlocks = docs.flatMap(blocksOf)
const chains = chainsOf(allBlocks)
/** Each chain runs without its blocks marked type-check only (a later block must not need them). */
const runnable = chains.map((c) => ({ ...c, blocks: c.blocks.filter((b) => !typecheckOnly(b)) })).filter((c) => c.blocks.length > 0)

rmSync(outDir, { recursive: true, force: true })
mkdirSync(outDir, { recursive: true })
const files = new Map<string, ReturnType<typeof moduleOf>>()
for (const c of chains) {
  const m = moduleOf(c.blocks)
  const file = join(outDir, `${c.name}.ts`)
  writeFileSync(file, m.text)
  files.set(file, m)
}

/** `docs/x.md:LINE` for a position in a generated module. */
const sourceLine = (file: string, line: number): string => {
  const m = files.get(file)
  if (m === undefined) return `${relative(root, file)}:${line + 1}`
  const start = [...m.starts].reverse().find((s) => s.at <= line) ?? m.starts[0]
  return `${start.block.doc}:${start.block.line + 1 + line - start.at}`
}

describe('documentation code blocks', () => {
  it('every ts block starts with its import lines from the package entry points, never from src/', () => {
    const bad = allBlocks.filter(isTs).filter((b) => /from '(\.\.?\/|src\/)/.test(b.body)).map((b) => `${b.doc}:${b.line}`)
    expect(bad).toEqual([])
  })

  it('every ts block type-checks', () => {
    const configFile = ts.readConfigFile(join(root, 'tsconfig.json'), (p) => ts.sys.readFile(p))
    const parsed = ts.parseJsonConfigFileContent(configFile.config, ts.sys, root)
    const program = ts.createProgram([...files.keys()], { ...parsed.options, noEmit: true, sourceMap: false, declaration: false, noUnusedLocals: false })
    const problems = ts.getPreEmitDiagnostics(program).map((d) => {
      const message = ts.flattenDiagnosticMessageText(d.messageText, '\n')
      if (d.file === undefined || d.start === undefined) return message
      const { line } = d.file.getLineAndCharacterOfPosition(d.start)
      return `${sourceLine(d.file.fileName, line)}: ${message}`
    })
    expect(problems).toEqual([])
    console.log(`docs: ${allBlocks.filter(isTs).length} ts blocks type-checked as ${chains.length} modules`)
  }, 120_000)

  for (const c of runnable) {
    const first = c.blocks[0]
    const span = c.blocks.length > 1 ? `-${c.blocks[c.blocks.length - 1].line}` : ''
    it(`runs ${first.doc}:${first.line}${span}`, async () => {
      const file = join(outDir, `${c.name}.run.ts`)
      writeFileSync(file, moduleOf(c.blocks).text)
      const log = vi.spyOn(console, 'log').mockImplementation(() => undefined)
      try {
        await import(pathToFileURL(file).href)
      } finally {
        log.mockRestore()
      }
    })
  }

  it('counts', () => {
    const tsBlocks = allBlocks.filter(isTs)
    const ran = runnable.reduce((n, c) => n + c.blocks.length, 0)
    console.log(`docs: ${tsBlocks.length} ts blocks, ${ran} run on SQLite, ${tsBlocks.length - ran} type-checked only`)
    expect(tsBlocks.length).toBeGreaterThan(0)
    expect(ran).toBeGreaterThan(0)
  })

  for (const b of allBlocks.filter((x) => !isTs(x))) {
    const source = b.markers.map((m) => /^excerpt:\s*(\S+)$/.exec(m)?.[1]).find((s) => s !== undefined)
    if (source === undefined) continue
    it(`${b.doc}:${b.line} appears in ${source}`, () => {
      const norm = (text: string) => text.split('\n').map((l) => l.trim()).filter((l) => l !== '')
      const path = join(root, source)
      expect(existsSync(path), `${source} does not exist`).toBe(true)
      const target = norm(readFileSync(path, 'utf8')).join('\n')
      for (const chunk of norm(b.body).join('\n').split(/\n?# \.\.\.\n?/)) expect(target).toContain(chunk)
    })
  }
})
