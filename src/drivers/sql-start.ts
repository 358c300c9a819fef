/**
 * Where a statement's first keyword is: past leading whitespace and comments, so a statement
 * that starts with a comment (`/* tag *\/ INSERT ...`, `-- note\nINSERT ...`) is read as the
 * statement it is. Drivers decide with it whether a statement inserts (its `insertId`) or
 * reads (its rows are not changed rows).
 */

/**
 * The index of the first character of `text` that is neither whitespace nor part of a comment:
 * `/* ... *\/` and `-- ...` to the end of the line, and with `hash` (MySQL, MariaDB) `# ...` to
 * the end of the line. A MySQL `/*! ... *\/` (MariaDB `/*M! ... *\/`) comment is run by the
 * server, so it is where the statement starts. An unterminated comment runs to the end.
 *
 * @example statementStart('/* tag *\/ INSERT INTO t VALUES (1)', false) // 10
 * @example statementStart('SELECT 1', false) // 0
 */
export const statementStart = (text: string, hash: boolean): number => {
  const n = text.length
  let i = 0
  while (i < n) {
    const c = text.charCodeAt(i)
    if (c === 32 || (c >= 9 && c <= 13)) i++
    else if (c === 47 /* / */ && text.charCodeAt(i + 1) === 42 /* * */) {
      if (hash && (text.charCodeAt(i + 2) === 33 /* ! */ || text.startsWith('M!', i + 2))) return i
      const end = text.indexOf('*/', i + 2)
      i = end < 0 ? n : end + 2
    } else if ((c === 45 /* - */ && text.charCodeAt(i + 1) === 45 && (!hash || i + 2 >= n || text.charCodeAt(i + 2) <= 32)) || (hash && c === 35 /* # */)) {
      const end = text.indexOf('\n', i)
      i = end < 0 ? n : end + 1
    } else return i
  }
  return n
}

/**
 * The statement from its first keyword on (`statementStart`): the text itself when it starts
 * there, as almost every statement does (no copy is made then).
 *
 * @example fromStart('-- note\nDELETE FROM t', false) // 'DELETE FROM t'
 */
export const fromStart = (text: string, hash: boolean): string => {
  const i = statementStart(text, hash)
  return i === 0 ? text : text.slice(i)
}

/**
 * Whether a statement is a SELECT (from its first keyword on): a batch of them need not be all
 * or nothing (see `executeBatch`).
 *
 * @example isSelect('/* read *\/ SELECT 1') // true
 */
export const isSelect = (text: string): boolean => /^select\b/i.test(fromStart(text, false))

/**
 * Whether a batch of `runs` runs of a statement must be all or nothing (a transaction of its own
 * when the caller is in none): several runs of anything but a SELECT. `executeBatch` and the
 * sharded backend's both ask it.
 *
 * @example batchIsAllOrNothing('INSERT INTO t VALUES (?)', 2) // true
 */
export const batchIsAllOrNothing = (text: string, runs: number): boolean => runs > 1 && !isSelect(text)
