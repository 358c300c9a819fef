/**
 * What SQLite's pragmas do not tell about a table, read from its CREATE TABLE text (as kept in
 * sqlite_schema): CHECK constraints, constraint names and AUTOINCREMENT.
 *
 * A small tokenizer is enough: the text was accepted by SQLite, so only the top-level list of
 * column definitions and table constraints has to be split and each item's leading keywords read.
 */

/** A token with where it starts and ends in the text. */
interface Token {
  readonly kind: 'word' | 'quoted' | 'string' | 'punct' | 'other'
  /** Identifier text (unquoted) or the token text. */
  readonly value: string
  readonly start: number
  readonly end: number
}

const tokenize = (text: string): Token[] => {
  const out: Token[] = []
  let i = 0
  while (i < text.length) {
    const c = text[i]
    if (/\s/.test(c)) { i++; continue }
    if (c === '-' && text[i + 1] === '-') { while (i < text.length && text[i] !== '\n') i++; continue }
    if (c === '/' && text[i + 1] === '*') { const e = text.indexOf('*/', i + 2); i = e < 0 ? text.length : e + 2; continue }
    const start = i
    if (c === '"' || c === '`' || c === '[') {
      const close = c === '[' ? ']' : c
      let v = ''
      i++
      while (i < text.length) {
        if (text[i] === close) {
          if (close !== ']' && text[i + 1] === close) { v += close; i += 2; continue }
          i++
          break
        }
        v += text[i++]
      }
      out.push({ kind: 'quoted', value: v, start, end: i })
      continue
    }
    if (c === "'") {
      i++
      while (i < text.length) {
        if (text[i] === "'") {
          if (text[i + 1] === "'") { i += 2; continue }
          i++
          break
        }
        i++
      }
      out.push({ kind: 'string', value: text.slice(start, i), start, end: i })
      continue
    }
    if (/[A-Za-z_0-9$]/.test(c)) {
      while (i < text.length && /[A-Za-z_0-9$]/.test(text[i])) i++
      out.push({ kind: 'word', value: text.slice(start, i), start, end: i })
      continue
    }
    i++
    out.push({ kind: c === '(' || c === ')' || c === ',' ? 'punct' : 'other', value: c, start, end: i })
  }
  return out
}

const isWord = (t: Token | undefined, ...words: string[]): boolean =>
  t !== undefined && t.kind === 'word' && words.includes(t.value.toUpperCase())

const nameOf = (t: Token): string => t.value

/** The index just after the parenthesised group that starts at `i` (a `(` token). */
const skipGroup = (tokens: readonly Token[], i: number): number => {
  let depth = 0
  for (let j = i; j < tokens.length; j++) {
    if (tokens[j].value === '(' && tokens[j].kind === 'punct') depth++
    else if (tokens[j].value === ')' && tokens[j].kind === 'punct') {
      depth--
      if (depth === 0) return j + 1
    }
  }
  return tokens.length
}

/** Column names inside a parenthesised list starting at `i`. */
const namesIn = (tokens: readonly Token[], i: number): string[] => {
  const end = skipGroup(tokens, i)
  const out: string[] = []
  for (let j = i + 1; j < end - 1; j++) {
    const t = tokens[j]
    if ((t.kind === 'word' || t.kind === 'quoted') && (j === i + 1 || tokens[j - 1].value === ',')) out.push(nameOf(t))
  }
  return out
}

/** A named or unnamed constraint found in the text. */
export interface ParsedConstraint {
  readonly kind: 'primaryKey' | 'unique' | 'check' | 'foreignKey'
  readonly name?: string
  readonly columns: readonly string[]
  /** CHECK: the expression text. */
  readonly expression?: string
  /** FOREIGN KEY / REFERENCES: the referenced table. */
  readonly table?: string
}

/** What the text of a CREATE TABLE says beyond the pragmas. */
export interface ParsedTable {
  readonly constraints: readonly ParsedConstraint[]
  /** Columns declared AUTOINCREMENT. */
  readonly autoIncrement: ReadonlySet<string>
}

/** Read the constraints of one column definition or table-constraint item. */
const readItem = (text: string, tokens: readonly Token[], out: ParsedConstraint[], auto: Set<string>): void => {
  if (tokens.length === 0) return
  const first = tokens[0]
  const tableLevel = isWord(first, 'CONSTRAINT', 'PRIMARY', 'UNIQUE', 'CHECK', 'FOREIGN')
  const column = tableLevel ? undefined : nameOf(first)
  let name: string | undefined
  let i = tableLevel ? 0 : 1
  while (i < tokens.length) {
    const t = tokens[i]
    if (isWord(t, 'CONSTRAINT')) {
      name = nameOf(tokens[i + 1])
      i += 2
      continue
    }
    if (isWord(t, 'PRIMARY') && isWord(tokens[i + 1], 'KEY')) {
      i += 2
      if (column === undefined && tokens[i]?.value === '(') {
        out.push({ kind: 'primaryKey', name, columns: namesIn(tokens, i) })
        i = skipGroup(tokens, i)
      } else if (column !== undefined) out.push({ kind: 'primaryKey', name, columns: [column] })
      name = undefined
      continue
    }
    if (isWord(t, 'AUTOINCREMENT') && column !== undefined) {
      auto.add(column)
      i++
      continue
    }
    if (isWord(t, 'UNIQUE')) {
      i++
      if (column === undefined && tokens[i]?.value === '(') {
        out.push({ kind: 'unique', name, columns: namesIn(tokens, i) })
        i = skipGroup(tokens, i)
      } else if (column !== undefined) out.push({ kind: 'unique', name, columns: [column] })
      name = undefined
      continue
    }
    if (isWord(t, 'CHECK') && tokens[i + 1]?.value === '(') {
      const end = skipGroup(tokens, i + 1)
      const expression = text.slice(tokens[i + 1].end, tokens[end - 1].start).trim()
      out.push({ kind: 'check', name, columns: column === undefined ? [] : [column], expression })
      name = undefined
      i = end
      continue
    }
    if (isWord(t, 'FOREIGN') && isWord(tokens[i + 1], 'KEY') && tokens[i + 2]?.value === '(') {
      const columns = namesIn(tokens, i + 2)
      i = skipGroup(tokens, i + 2)
      if (isWord(tokens[i], 'REFERENCES')) {
        out.push({ kind: 'foreignKey', name, columns, table: nameOf(tokens[i + 1]) })
        i += 2
      }
      name = undefined
      continue
    }
    if (isWord(t, 'REFERENCES') && column !== undefined) {
      out.push({ kind: 'foreignKey', name, columns: [column], table: nameOf(tokens[i + 1]) })
      name = undefined
      i += 2
      continue
    }
    if (t.value === '(' && t.kind === 'punct') {
      i = skipGroup(tokens, i)
      continue
    }
    i++
  }
}

/**
 * The constraints and AUTOINCREMENT columns of a CREATE TABLE statement.
 * @example parseCreateTable('CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, n INT CHECK (n > 0))')
 */
export const parseCreateTable = (text: string): ParsedTable => {
  const tokens = tokenize(text)
  const open = tokens.findIndex((t) => t.value === '(' && t.kind === 'punct')
  const constraints: ParsedConstraint[] = []
  const auto = new Set<string>()
  if (open < 0) return { constraints, autoIncrement: auto }
  const close = skipGroup(tokens, open) - 1
  let item: Token[] = []
  let depth = 0
  for (let j = open + 1; j < close; j++) {
    const t = tokens[j]
    if (t.kind === 'punct' && t.value === '(') depth++
    if (t.kind === 'punct' && t.value === ')') depth--
    if (depth === 0 && t.kind === 'punct' && t.value === ',') {
      readItem(text, item, constraints, auto)
      item = []
    } else item.push(t)
  }
  readItem(text, item, constraints, auto)
  return { constraints, autoIncrement: auto }
}

/**
 * The condition of a partial index, from its CREATE INDEX text.
 * @example indexWhere('CREATE INDEX i ON t (a) WHERE a > 0') // 'a > 0'
 */
export const indexWhere = (text: string): string | undefined => {
  const tokens = tokenize(text)
  let depth = 0
  for (const t of tokens) {
    if (t.kind === 'punct' && t.value === '(') depth++
    else if (t.kind === 'punct' && t.value === ')') depth--
    else if (depth === 0 && isWord(t, 'WHERE')) return text.slice(t.end).trim()
  }
  return undefined
}

/**
 * The query of a CREATE VIEW statement (the text after `AS`).
 * @example viewBody('CREATE VIEW v AS SELECT 1') // 'SELECT 1'
 */
export const viewBody = (text: string): string => {
  const tokens = tokenize(text)
  let depth = 0
  for (const t of tokens) {
    if (t.kind === 'punct' && t.value === '(') depth++
    else if (t.kind === 'punct' && t.value === ')') depth--
    else if (depth === 0 && isWord(t, 'AS')) return text.slice(t.end).trim()
  }
  return text
}

/**
 * Whether SQL text mentions a name as an identifier (quoted or bare, any case).
 * @example mentions('SELECT * FROM "users"', 'users') // true
 */
export const mentions = (text: string, name: string): boolean =>
  tokenize(text).some((t) => (t.kind === 'word' || t.kind === 'quoted') && t.value.toLowerCase() === name.toLowerCase())
