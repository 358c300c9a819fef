/**
 * Every TypeScript code block in README.md and docs/ is an excerpt of a file that runs, and so
 * is every block of another language (a shell session) that names its source.
 *
 * A block is preceded by `<!-- excerpt: path/to/file.ts -->`; its lines (trimmed, blank lines
 * ignored) must appear in that file in the same order and contiguously, except where the block
 * has a `// ...` line, which stands for lines left out. The files themselves are run by
 * test/examples.test.ts or are test files.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

const root = join(import.meta.dirname, '..')
const docs = ['README.md', ...(existsSync(join(root, 'docs')) ? readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`) : [])]

const norm = (text: string) => text.split('\n').map((l) => l.trim()).filter((l) => l !== '')

interface Block { readonly line: number; readonly lang: string; readonly source?: string; readonly body: string }

const blocks = (md: string): Block[] => {
  const out: Block[] = []
  const lines = md.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const fence = /^```(\w*)\s*$/.exec(lines[i])
    if (fence === null) continue
    const marker = /<!--\s*excerpt:\s*(\S+)\s*-->/.exec(lines[i - 1] ?? '')
    let j = i + 1
    while (j < lines.length && !lines[j].startsWith('```')) j++
    if (fence[1] === 'ts' || fence[1] === 'typescript' || marker !== null) {
      out.push({ line: i + 1, lang: fence[1], source: marker?.[1], body: lines.slice(i + 1, j).join('\n') })
    }
    i = j
  }
  return out
}

/** Whether the chunks (split at `// ...`) appear in the file in order, each contiguous. */
const isExcerpt = (body: string, file: string): boolean => {
  const target = norm(file)
  const chunks: string[][] = [[]]
  for (const l of norm(body)) {
    if (l === '// ...') chunks.push([])
    else chunks[chunks.length - 1].push(l)
  }
  let from = 0
  for (const chunk of chunks.filter((c) => c.length > 0)) {
    let found = -1
    for (let i = from; i + chunk.length <= target.length && found < 0; i++) {
      if (chunk.every((l, k) => target[i + k] === l)) found = i
    }
    if (found < 0) return false
    from = found + chunk.length
  }
  return true
}

describe('documentation code blocks are excerpts of files that run', () => {
  for (const doc of docs) {
    const md = readFileSync(join(root, doc), 'utf8')
    for (const b of blocks(md)) {
      it(`${doc}:${b.line}`, () => {
        expect(b.source, `${doc}:${b.line} has no <!-- excerpt: file --> marker`).toBeDefined()
        const path = join(root, b.source!)
        expect(existsSync(path), `${b.source} does not exist`).toBe(true)
        expect(isExcerpt(b.body, readFileSync(path, 'utf8')), `${doc}:${b.line} is not an excerpt of ${b.source}`).toBe(true)
      })
    }
  }
})
