/**
 * Reading SQL text without parsing it: tokens, with comments dropped and strings, quoted names
 * and parameters set apart, so that what a comment or a string says never decides what a
 * statement does. The replica router and the shard router read statements through it alike:
 * `isReadOnly` is the one rule of what is a plain read, `assignments` what a statement assigns,
 * `insertRows` where an INSERT's rows take their values.
 *
 * Engines lex a few things differently: `#` starts a comment on MySQL only, `--x` is a comment
 * on PostgreSQL and SQLite but minus minus x on MySQL, a backslash escapes a quote in a MySQL
 * string only, MySQL runs the text of a `/*! ... *\/` comment. Given the family (`flavour`) the
 * text is read as that engine reads it; without it, or where the family itself leaves a doubt,
 * the text is `unclear` and the callers treat it as a statement they cannot vouch for (a write).
 */

/** How the engine family reads SQL text: PostgreSQL and SQLite (`standard`), or MySQL and MariaDB. */
export type SqlFlavour = 'standard' | 'mysql'

/**
 * The family a dialect belongs to, told by how it quotes a name: backticks are MySQL's.
 *
 * @example
 * flavourOf(mysql)    // 'mysql'
 * flavourOf(postgres) // 'standard'
 */
export const flavourOf = (dialect: { readonly quoteIdentifier: (name: string) => string }): SqlFlavour =>
  dialect.quoteIdentifier('x').startsWith('`') ? 'mysql' : 'standard'

/** One token of SQL text. */
export interface Token {
  /** `word` an unquoted word, `name` a quoted identifier, `param` a placeholder (`?`, `$1`). */
  readonly kind: 'word' | 'name' | 'string' | 'number' | 'param' | 'punct'
  /** A word upper-cased, a quoted name unquoted, a punctuation character, a placeholder as written. */
  readonly text: string
  /** The token as it is written (a word in its own case). */
  readonly raw: string
  /** Parentheses open around the token; `(` and its `)` have the same depth. */
  readonly depth: number
}

/** SQL text read into tokens. */
export interface SqlText {
  /** The tokens of every statement, `;` included. */
  readonly tokens: readonly Token[]
  /** Statements that have a token (a trailing `;` makes none). */
  readonly statements: number
  /** Why the text cannot be read safely, when it cannot. */
  readonly unclear?: string
}

const isWord = (k: Token | undefined, ...words: string[]): boolean => k !== undefined && k.kind === 'word' && words.includes(k.text)
const isPunct = (k: Token | undefined, p: string): boolean => k !== undefined && k.kind === 'punct' && k.text === p

const SPACE = /\s/
const WORD_START = /[A-Za-z_\u0080-\uffff]/
const WORD_PART = /[A-Za-z0-9_$\u0080-\uffff]/

/** The end (after the closing quote) of a string opened at `i`; -1 when it is not closed. */
const stringEnd = (text: string, i: number, quote: string, backslash: boolean): number => {
  for (let j = i + 1; j < text.length; j++) {
    const c = text[j]
    if (backslash && c === '\\') {
      j++
      continue
    }
    if (c === quote) {
      if (text[j + 1] === quote) {
        j++
        continue
      }
      return j + 1
    }
  }
  return -1
}

/** The end of the line at `i` (the newline's index, or the text's length). */
const lineEnd = (text: string, i: number): number => {
  const n = text.indexOf('\n', i)
  return n < 0 ? text.length : n
}

/**
 * Read SQL text into tokens. Comments are dropped (`--` and `/* *\/` everywhere, `#` on MySQL
 * and before the first token), strings and quoted names are single tokens.
 *
 * @example
 * readSql('/* hi *\/ SELECT 1').tokens[0].text // 'SELECT'
 * readSql("SELECT 1 # x' ; DELETE FROM t").unclear // a reason: MySQL would read it otherwise
 * verbOf(readSql(bigInsert, 'standard', true)) // 'INSERT', having read no further than that word
 */
export const readSql = (text: string, flavour?: SqlFlavour, head = false): SqlText => {
  const tokens: Token[] = []
  let unclear: string | undefined
  const doubt = (why: string): void => { unclear ??= why }
  let depth = 0
  let statements = 0
  let inStatement = false
  let i = 0
  const push = (kind: Token['kind'], t: string, raw: string, at = depth): void => {
    tokens.push({ kind, text: t, raw, depth: at })
    if (kind === 'punct' && t === ';') inStatement = false
    else if (!inStatement) {
      inStatement = true
      statements++
    }
  }
  // A string whose end the engines may see in different places (a backslash before a quote).
  const quoted = (quote: string, backslash: boolean | undefined): number => {
    const plain = stringEnd(text, i, quote, false)
    const escaped = stringEnd(text, i, quote, true)
    if (backslash === undefined && plain !== escaped) doubt('a backslash before a quote in a string, which engines (and MySQL SQL modes) read differently')
    return backslash === true ? escaped : plain
  }
  while (i < text.length) {
    // `head`: only up to the first token that is not `(` (enough for `verbOf`).
    if (head && tokens.length > 0 && !isPunct(tokens[tokens.length - 1], '(')) break
    const c = text[i]
    const next = text[i + 1]
    if (SPACE.test(c)) {
      i++
      continue
    }
    const leading = tokens.length === 0
    if (c === '-' && next === '-') {
      const after = text[i + 2]
      if (!leading && after !== undefined && !SPACE.test(after)) {
        // MySQL takes `--` as a comment only before white space: `1--1` is 1 - -1 there.
        if (flavour === 'mysql') {
          push('punct', '-', '-')
          i++
          continue
        }
        if (flavour === undefined) doubt('`--` without a space after it: a comment on PostgreSQL and SQLite, not on MySQL')
      }
      i = lineEnd(text, i)
      continue
    }
    if (c === '#') {
      if (leading || flavour === 'mysql') {
        i = lineEnd(text, i)
        continue
      }
      if (flavour === undefined && /['"`;]|\/\*|--/.test(text.slice(i + 1, lineEnd(text, i)))) doubt('`#` starts a comment on MySQL, where the rest of its line would be read otherwise')
      push('punct', '#', '#')
      i++
      continue
    }
    if (c === '/' && next === '*') {
      const end = text.indexOf('*/', i + 2)
      if (end < 0) {
        doubt('a comment that is not closed')
        break
      }
      const body = text.slice(i + 2, end)
      // MySQL runs the text of `/*! ... */` (and MariaDB of `/*M! ... */`) as SQL.
      if (flavour !== 'standard' && /^M?!/.test(body)) doubt('a /*! comment, whose text MySQL runs')
      // PostgreSQL nests block comments, SQLite and MySQL do not: they would end at the first */.
      if (body.includes('/*')) doubt('a comment inside a comment, which engines end in different places')
      i = end + 2
      continue
    }
    if (c === "'") {
      // E'...' (PostgreSQL) takes backslash escapes; MySQL strings do unless NO_BACKSLASH_ESCAPES.
      const prev = tokens[tokens.length - 1]
      const escape = prev !== undefined && prev.kind === 'word' && prev.text === 'E' && text[i - 1] !== ' ' && /[eE]/.test(text[i - 1])
      const end = quoted("'", flavour === 'standard' ? escape : undefined)
      if (end < 0) {
        doubt('a string that is not closed')
        break
      }
      if (escape) tokens.pop()
      push('string', text.slice(i, end), text.slice(i, end))
      i = end
      continue
    }
    if (c === '"' || c === '`') {
      // "..." is a quoted name (a string on MySQL without ANSI_QUOTES); `...` a MySQL name.
      const end = c === '`' ? stringEnd(text, i, c, false) : quoted('"', flavour === 'standard' ? false : undefined)
      if (end < 0) {
        doubt('a quoted name that is not closed')
        break
      }
      const inner = text.slice(i + 1, end - 1).split(c + c).join(c)
      push(c === '"' && flavour === 'mysql' ? 'string' : 'name', inner, text.slice(i, end))
      i = end
      continue
    }
    if (c === '$' && flavour !== 'mysql') {
      const digits = /^\$(\d+)/.exec(text.slice(i, i + 12))
      if (digits !== null) {
        push('param', digits[0], digits[0])
        i += digits[0].length
        continue
      }
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(text.slice(i, i + 66))
      if (tag !== null) {
        // A dollar-quoted string (PostgreSQL); on MySQL `$` is a letter of names.
        if (flavour === undefined) doubt('a dollar-quoted string, which only PostgreSQL has')
        const end = text.indexOf(tag[0], i + tag[0].length)
        if (end < 0) {
          doubt('a dollar-quoted string that is not closed')
          break
        }
        push('string', text.slice(i, end + tag[0].length), text.slice(i, end + tag[0].length))
        i = end + tag[0].length
        continue
      }
    }
    if (c === '?') {
      push('param', '?', '?')
      i++
      continue
    }
    if (c >= '0' && c <= '9') {
      let j = i + 1
      while (j < text.length && /[0-9A-Za-z_.]/.test(text[j])) j++
      push('number', text.slice(i, j), text.slice(i, j))
      i = j
      continue
    }
    if (WORD_START.test(c) || (c === '$' && flavour === 'mysql')) {
      let j = i + 1
      while (j < text.length && WORD_PART.test(text[j])) j++
      const raw = text.slice(i, j)
      push('word', raw.toUpperCase(), raw)
      i = j
      continue
    }
    if (c === '(') {
      push('punct', '(', '(')
      depth++
      i++
      continue
    }
    if (c === ')') {
      depth--
      if (depth < 0) {
        doubt('a ) without its (')
        depth = 0
      }
      push('punct', ')', ')')
      i++
      continue
    }
    push('punct', c, c)
    i++
  }
  if (depth !== 0) doubt('a ( without its )')
  return unclear === undefined ? { tokens, statements } : { tokens, statements, unclear }
}

/** The first word of a statement, after any opening parentheses: `SELECT`, `WITH`, `INSERT`, ... */
export const verbOf = (t: SqlText): string | undefined => {
  for (const k of t.tokens) {
    if (k.kind === 'punct' && k.text === '(') continue
    return k.kind === 'word' ? k.text : undefined
  }
  return undefined
}

/** The first words of the statements that may be plain reads. */
export const READ_VERBS: ReadonlySet<string> = new Set(['SELECT', 'WITH', 'VALUES', 'TABLE', 'SHOW', 'EXPLAIN'])
const DML = new Set(['INSERT', 'UPDATE', 'DELETE', 'MERGE'])
const WRITING_FUNCTIONS = /^(nextval|setval|pg_advisory\w*|pg_try_advisory\w*|get_lock|release_lock|release_all_locks|lo_\w+|pg_notify|txid_current|pg_current_xact_id|set_config|pg_cancel_backend|pg_terminate_backend|pg_reload_conf|pg_rotate_logfile|pg_stat_reset\w*|pg_switch_wal|pg_create_restore_point|pg_create_\w*replication_slot|pg_drop_replication_slot|pg_logical_emit_message|dblink_exec)$/i
/**
 * Functions whose answer belongs to the session that calls them (the last inserted id, the rows
 * the last statement changed): another server's session, or another shard's, has its own.
 */
const SESSION_FUNCTIONS = /^(currval|lastval|last_insert_id|row_count|found_rows|last_insert_rowid|changes|total_changes)$/i
const DDL_VERBS = new Set(['CREATE', 'ALTER', 'DROP', 'TRUNCATE', 'COMMENT', 'GRANT', 'REVOKE'])


/**
 * Why a statement is not a plain read, or undefined when it is one: one statement that begins
 * with SELECT, WITH, VALUES, TABLE, SHOW or EXPLAIN, and has no INSERT, UPDATE, DELETE, MERGE
 * or REPLACE INTO anywhere (a data-modifying CTE, EXPLAIN of a write), no INTO (`SELECT ...
 * INTO`), no row lock (`FOR UPDATE`, `FOR SHARE`, `LOCK IN SHARE MODE`), no call of a function
 * known to write or to act on the server (`nextval`, `setval`, advisory and named locks,
 * `pg_notify`, `set_config`, `pg_cancel_backend`, ...), no call of a function that reads its
 * session's state (`LAST_INSERT_ID()`, `last_insert_rowid()`, `currval`, `lastval`, ...) and no
 * EXPLAIN ANALYZE. Text that cannot be read safely is not a read.
 *
 * @example
 * notReadOnly(readSql('/* report *\/ SELECT * FROM t')) // undefined
 * notReadOnly(readSql('SELECT * FROM t FOR UPDATE'))  // 'a row lock'
 */
export const notReadOnly = (t: SqlText): string | undefined => {
  if (t.unclear !== undefined) return t.unclear
  if (t.statements !== 1) return t.statements === 0 ? 'no statement' : 'several statements'
  const verb = verbOf(t)
  if (verb === undefined || !READ_VERBS.has(verb)) return verb === undefined ? 'not a statement that begins with a word' : `a statement that begins with ${verb}`
  const ks = t.tokens
  for (let i = 0; i < ks.length; i++) {
    const k = ks[i]
    if (k.kind === 'word') {
      if (DML.has(k.text)) return `${k.text} in the statement`
      if (k.text === 'REPLACE' && isWord(ks[i + 1], 'INTO')) return 'REPLACE INTO in the statement'
      if (k.text === 'INTO') return 'INTO in the statement'
      if (k.text === 'FOR' && isWord(ks[i + 1], 'UPDATE', 'SHARE', 'NO', 'KEY')) return 'a row lock'
      if (k.text === 'LOCK' && isWord(ks[i + 1], 'IN')) return 'a row lock'
      if ((k.text === 'ANALYZE' || k.text === 'ANALYSE') && verb === 'EXPLAIN') return 'EXPLAIN ANALYZE runs the statement'
    }
    if ((k.kind === 'word' || k.kind === 'name') && isPunct(ks[i + 1], '(')) {
      const name = k.kind === 'word' ? k.raw : k.text
      if (WRITING_FUNCTIONS.test(name)) return `${k.raw}(), which writes or acts on the server`
      if (SESSION_FUNCTIONS.test(name)) return `${k.raw}(), which reads the state of the session that calls it`
    }
  }
  return undefined
}

/** Whether the statement is DDL (CREATE, ALTER, DROP, TRUNCATE, COMMENT, GRANT, REVOKE). */
export const isDdl = (t: SqlText): boolean => {
  const verb = verbOf(t)
  return verb !== undefined && DDL_VERBS.has(verb)
}

const AGGREGATES = new Set(['COUNT', 'SUM', 'AVG', 'MIN', 'MAX', 'ARRAY_AGG', 'STRING_AGG', 'GROUP_CONCAT', 'JSON_AGG', 'JSONB_AGG', 'JSON_ARRAYAGG', 'JSON_OBJECTAGG', 'JSON_OBJECT_AGG', 'JSONB_OBJECT_AGG', 'BOOL_AND', 'BOOL_OR', 'EVERY', 'STDDEV', 'STDDEV_POP', 'STDDEV_SAMP', 'VARIANCE', 'VAR_POP', 'VAR_SAMP', 'BIT_AND', 'BIT_OR', 'BIT_XOR', 'PERCENTILE_CONT', 'PERCENTILE_DISC', 'MODE', 'TOTAL'])

/**
 * What in a read makes each part of the database answer for its own rows only, so that the
 * rows of several parts put one after the other are not the statement's answer: an aggregate,
 * GROUP BY, HAVING, DISTINCT, a window (OVER), ORDER BY, LIMIT, OFFSET, FETCH, or a set
 * operation that removes rows (UNION without ALL, INTERSECT, EXCEPT). Only the outermost query
 * counts: a subquery or a CTE's body runs in each part over that part's rows, as it would on
 * one database holding only those rows (a correlated `(SELECT count(*) ... WHERE l.order_id =
 * o.id)` counts the row's own lines). Undefined when there is none.
 *
 * @example
 * perPartAnswer(readSql('SELECT count(*) FROM t'))                              // 'count()'
 * perPartAnswer(readSql('SELECT id, (SELECT max(v) FROM u WHERE u.t = t.id) FROM t')) // undefined
 */
export const perPartAnswer = (t: SqlText): string | undefined => {
  const ks = t.tokens
  // For each open parenthesis, whether it holds a subquery; parentheses around the outermost
  // query itself, or around the parts of its set operation, do not.
  const open: boolean[] = []
  let inner = 0
  let started = false
  for (let i = 0; i < ks.length; i++) {
    const k = ks[i]
    if (isPunct(k, '(')) {
      const sub = started && isWord(ks[i + 1], 'SELECT', 'WITH', 'VALUES', 'TABLE') && !isWord(ks[i - 1], 'UNION', 'INTERSECT', 'EXCEPT', 'ALL', 'DISTINCT')
      open.push(sub)
      if (sub) inner++
      continue
    }
    if (isPunct(k, ')')) {
      if (open.pop() === true) inner--
      continue
    }
    started = true
    if (inner > 0 || k.kind !== 'word') continue
    const next = ks[i + 1]
    if (isPunct(next, '(') && (AGGREGATES.has(k.text) || k.text.endsWith('_AGG'))) return `${k.raw}()`
    if ((k.text === 'GROUP' || k.text === 'ORDER') && isWord(next, 'BY')) return `${k.text} BY`
    if (k.text === 'DISTINCT' && !(isWord(ks[i - 1], 'IS') || (isWord(ks[i - 1], 'NOT') && isWord(ks[i - 2], 'IS')))) return 'DISTINCT'
    if (k.text === 'UNION' && !isWord(next, 'ALL')) return 'UNION (without ALL)'
    if (['HAVING', 'OVER', 'LIMIT', 'OFFSET', 'FETCH', 'INTERSECT', 'EXCEPT'].includes(k.text)) return k.text
  }
  return undefined
}

/** One assignment a statement makes: `SET column = ...`, in an UPDATE or an upsert. */
export interface Assignment {
  /** The tables the assigned column may belong to (an UPDATE may name several), as written. */
  readonly tables: readonly string[]
  /** The column assigned, as written (its table prefix dropped). */
  readonly column: string
  /** In an upsert: the conflict target's columns (undefined: a constraint, or any unique key, as MySQL's ON DUPLICATE KEY). */
  readonly conflict?: { readonly target: readonly string[] | undefined }
  /** The column of the proposed row it is set to (`EXCLUDED.column`), when that is all its value is. */
  readonly excluded?: string
}

const nameOf = (k: Token | undefined): string | undefined => (k !== undefined && (k.kind === 'word' || k.kind === 'name') ? (k.kind === 'word' ? k.raw : k.text) : undefined)

/** `name` or `a.b.name` at `i`: its last part and the index after it. */
const dotted = (ks: readonly Token[], i: number): { readonly parts: string[]; readonly end: number } | undefined => {
  const first = nameOf(ks[i])
  if (first === undefined) return undefined
  const parts = [first]
  let j = i + 1
  while (isPunct(ks[j], '.') && nameOf(ks[j + 1]) !== undefined) {
    parts.push(nameOf(ks[j + 1])!)
    j += 2
  }
  return { parts, end: j }
}

const ASSIGNMENTS_END = new Set(['WHERE', 'FROM', 'RETURNING', 'ORDER', 'LIMIT'])

/** The assignments of a SET list starting at `i`, at parenthesis depth `d`. */
const assignmentList = (ks: readonly Token[], i: number, d: number, tables: readonly string[], conflict: Assignment['conflict']): Assignment[] => {
  const out: Assignment[] = []
  let j = i
  for (;;) {
    const columns: string[] = []
    if (isPunct(ks[j], '(') && ks[j].depth === d) {
      // SET (a, b) = (...)
      j++
      while (j < ks.length && !(isPunct(ks[j], ')') && ks[j].depth === d)) {
        const n = dotted(ks, j)
        if (n === undefined) j++
        else {
          columns.push(n.parts[n.parts.length - 1])
          j = n.end
        }
      }
      j++
    } else {
      const n = dotted(ks, j)
      if (n === undefined) return out
      columns.push(n.parts[n.parts.length - 1])
      j = n.end
    }
    if (!isPunct(ks[j], '=')) return out
    const start = ++j
    while (j < ks.length && ks[j].depth >= d && !(ks[j].depth === d && (isPunct(ks[j], ',') || isPunct(ks[j], ';') || (ks[j].kind === 'word' && ASSIGNMENTS_END.has(ks[j].text))))) j++
    const value = ks.slice(start, j)
    const excluded = value.length === 3 && isWord(value[0], 'EXCLUDED') && isPunct(value[1], '.') ? nameOf(value[2]) : undefined
    for (const column of columns) out.push({ tables, column, ...(conflict === undefined ? {} : { conflict }), ...(excluded === undefined ? {} : { excluded }) })
    if (!isPunct(ks[j], ',') || ks[j].depth !== d) return out
    j++
  }
}

/**
 * Every assignment in the text: the SET lists of UPDATE statements (data-modifying CTEs
 * included) and the update lists of upserts (`ON CONFLICT ... DO UPDATE SET`, `ON DUPLICATE
 * KEY UPDATE`), each with the tables its column may belong to.
 *
 * @example
 * assignments(readSql('UPDATE orders SET tenant = $1 WHERE id = $2'))
 * // [{ tables: ['orders'], column: 'tenant' }]
 */
export const assignments = (t: SqlText): Assignment[] => {
  const ks = t.tokens
  const out: Assignment[] = []
  let inserting: string | undefined
  let merging: string | undefined
  let target: readonly string[] | undefined
  for (let i = 0; i < ks.length; i++) {
    const k = ks[i]
    if (k.kind !== 'word') continue
    if (k.text === 'INTO' && isWord(ks[i - 1], 'INSERT', 'REPLACE', 'IGNORE', 'OR', 'LOW_PRIORITY', 'DELAYED', 'HIGH_PRIORITY')) {
      const n = dotted(ks, i + 1)
      inserting = n?.parts[n.parts.length - 1]
      target = undefined
    } else if (k.text === 'INTO' && isWord(ks[i - 1], 'MERGE')) {
      const n = dotted(ks, i + 1)
      merging = n?.parts[n.parts.length - 1]
    } else if (k.text === 'CONFLICT' && isWord(ks[i - 1], 'ON')) {
      // ON CONFLICT (a, b) [WHERE ...] DO ...; ON CONFLICT ON CONSTRAINT name names no columns.
      target = undefined
      if (isPunct(ks[i + 1], '(')) {
        const d = ks[i + 1].depth
        const cols: string[] = []
        for (let j = i + 2; j < ks.length && !(isPunct(ks[j], ')') && ks[j].depth === d); j++) {
          const name = nameOf(ks[j])
          if (name !== undefined && ks[j].depth === d + 1) cols.push(name)
        }
        target = cols
      }
    } else if (k.text === 'UPDATE') {
      const before = ks[i - 1]
      if (isWord(before, 'FOR') || (isWord(before, 'KEY') && isWord(ks[i - 2], 'NO'))) continue // a row lock
      if (isWord(before, 'KEY') && isWord(ks[i - 2], 'DUPLICATE')) {
        out.push(...assignmentList(ks, i + 1, k.depth, inserting === undefined ? [] : [inserting], { target: undefined }))
      } else if (isWord(before, 'DO') && isWord(ks[i + 1], 'SET')) {
        out.push(...assignmentList(ks, i + 2, k.depth, inserting === undefined ? [] : [inserting], { target }))
      } else if (isWord(before, 'THEN') && isWord(ks[i + 1], 'SET')) {
        // MERGE ... WHEN MATCHED THEN UPDATE SET
        out.push(...assignmentList(ks, i + 2, k.depth, merging === undefined ? [] : [merging], undefined))
      } else {
        // UPDATE [ONLY] t [AS a] [, u ...] [JOIN ...] SET: every name before SET may be the table.
        const tables: string[] = []
        let j = i + 1
        while (j < ks.length && !(isWord(ks[j], 'SET') && ks[j].depth === k.depth)) {
          const name = nameOf(ks[j])
          if (name !== undefined && ks[j].depth === k.depth) tables.push(name)
          j++
        }
        if (j < ks.length) out.push(...assignmentList(ks, j + 1, k.depth, tables, undefined))
      }
    }
  }
  return out
}

/** The rows of an INSERT read from its text: for each row, the parameter index of each column's value. */
export interface InsertRows {
  readonly table: string
  readonly columns: readonly string[]
  /** Per row, per column, the index in the statement's parameters (undefined: not a lone placeholder). */
  readonly rows: readonly (readonly (number | undefined)[])[]
}

const INSERT_MODIFIERS = new Set(['OR', 'IGNORE', 'REPLACE', 'ROLLBACK', 'ABORT', 'FAIL', 'LOW_PRIORITY', 'DELAYED', 'HIGH_PRIORITY'])
const INSERT_TAIL = new Set(['ON', 'AS', 'RETURNING'])

/**
 * An INSERT of rows of values, read from its text (`INSERT [OR ...] INTO t (columns) VALUES
 * (...), (...)`, then nothing or an upsert clause or RETURNING; `REPLACE INTO` alike), or why
 * it is not one (INSERT ... SELECT, no column list, a WITH before it).
 *
 * @example
 * insertRows(readSql('INSERT INTO "t" ("k", "v") VALUES ($1, $2)')) // { table: 't', columns: ['k', 'v'], rows: [[0, 1]] }
 */
export const insertRows = (t: SqlText): InsertRows | string => {
  const ks = t.tokens
  if (!isWord(ks[0], 'INSERT', 'REPLACE')) return 'not an INSERT'
  let i = 1
  while (isWord(ks[i], ...INSERT_MODIFIERS)) i++
  if (isWord(ks[i], 'INTO')) i++
  const table = dotted(ks, i)
  if (table === undefined) return 'no table after INTO'
  i = table.end
  if (!isPunct(ks[i], '(')) return 'no column list'
  const columns: string[] = []
  for (i++; i < ks.length && !(isPunct(ks[i], ')') && ks[i].depth === 0); i++) {
    const n = nameOf(ks[i])
    if (n !== undefined) columns.push(n)
  }
  i++
  if (!isWord(ks[i], 'VALUES', 'VALUE')) return isWord(ks[i], 'SELECT', 'WITH', 'TABLE') || isPunct(ks[i], '(') ? 'INSERT ... SELECT' : 'no VALUES'
  i++
  // `$n` numbers the parameters; where there is none, each `?` is the next one.
  const numbered = ks.some((k) => k.kind === 'param' && k.text.startsWith('$'))
  let positional = 0
  for (let j = 0; j < i; j++) if (ks[j].kind === 'param' && ks[j].text === '?') positional++
  const rows: (number | undefined)[][] = []
  while (isPunct(ks[i], '(')) {
    const row: (number | undefined)[] = []
    let cell: Token[] = []
    const close = (): void => {
      const only = cell.length === 1 && cell[0].kind === 'param' ? cell[0] : undefined
      row.push(only === undefined ? undefined : only.text === '?' ? (numbered ? undefined : positional - 1) : Number(only.text.slice(1)) - 1)
      cell = []
    }
    for (i++; i < ks.length && !(isPunct(ks[i], ')') && ks[i].depth === 0); i++) {
      const k = ks[i]
      if (k.kind === 'param' && k.text === '?') positional++
      if (isPunct(k, ',') && k.depth === 1) close()
      else cell.push(k)
    }
    close()
    if (row.length !== columns.length) return 'a row whose values do not match its columns'
    rows.push(row)
    i++
    if (!isPunct(ks[i], ',')) break
    i++
  }
  if (rows.length === 0) return 'no rows'
  const rest = ks[i]
  if (rest !== undefined && !isPunct(rest, ';') && !(rest.kind === 'word' && INSERT_TAIL.has(rest.text))) return `${rest.raw} after the rows`
  return { table: table.parts[table.parts.length - 1], columns, rows }
}
