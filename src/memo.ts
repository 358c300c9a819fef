/**
 * Remembering a pure function of one string: builders and dialects see the same few table and
 * column names every time a query is built, so the node or the quoted text made for a name is
 * kept and handed out again.
 */

/** At most this many entries in each memo table; a full table starts over. */
export const MEMO_SIZE = 10_000

/**
 * `f` remembered per string argument (at most MEMO_SIZE entries, then it starts over). A result
 * is remembered only when `f` returns, so a name `f` refuses is refused again next time.
 *
 * @example const quote = memoString((name) => `"${name}"`)
 */
export const memoString = <V>(f: (key: string) => V): ((key: string) => V) => {
  const seen = new Map<string, V>()
  return (key) => {
    let v = seen.get(key)
    if (v === undefined) {
      v = f(key)
      if (seen.size >= MEMO_SIZE) seen.clear()
      seen.set(key, v)
    }
    return v
  }
}
