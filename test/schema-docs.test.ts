/**
 * Every code block of docs/schema.md, whatever its language (TypeScript and shell alike), is an
 * excerpt of the file named in the `<!-- excerpt: path -->` line above it, and that file runs
 * (an example run by test/examples.test.ts, the shell session examples/cli.sh run by
 * examples/cli.ts, or a test). Lines are compared trimmed, blank lines ignored.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('..', import.meta.url))
const doc = 'docs/schema.md'

const norm = (text: string) => text.split('\n').map((l) => l.trim()).filter((l) => l !== '')

const blocks = (md: string) => {
  const out: { line: number; source?: string; body: string }[] = []
  const lines = md.split('\n')
  for (let i = 0; i < lines.length; i++) {
    if (!/^```\w+\s*$/.test(lines[i])) continue
    const source = /<!--\s*excerpt:\s*(\S+)\s*-->/.exec(lines[i - 1] ?? '')?.[1]
    let j = i + 1
    while (j < lines.length && !lines[j].startsWith('```')) j++
    out.push({ line: i + 1, source, body: lines.slice(i + 1, j).join('\n') })
    i = j
  }
  return out
}

/** The block's lines appear in the file, contiguous and in order. */
const isExcerpt = (body: string, file: string): boolean => {
  const want = norm(body)
  const have = norm(file)
  for (let i = 0; i + want.length <= have.length; i++) if (want.every((l, k) => have[i + k] === l)) return true
  return false
}

describe(`${doc}: every code block is an excerpt of a file that runs`, () => {
  const md = readFileSync(join(root, doc), 'utf8')
  const found = blocks(md)
  it('has code blocks', () => expect(found.length).toBeGreaterThan(10))
  for (const b of found) {
    it(`${doc}:${b.line}`, () => {
      expect(b.source, `${doc}:${b.line} has no <!-- excerpt: file --> line`).toBeDefined()
      expect(existsSync(join(root, b.source!)), `${b.source} does not exist`).toBe(true)
      expect(isExcerpt(b.body, readFileSync(join(root, b.source!), 'utf8')), `${doc}:${b.line} is not an excerpt of ${b.source}`).toBe(true)
    })
  }
})
