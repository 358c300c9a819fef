/**
 * Parts of query data the builders hand out again and again (the column list of `from('t')`,
 * of a `select` of column names): the statement-shape cache (src/dialects/shape-cache.ts)
 * looks a statement up only when its parts are of these, since a statement built some other way
 * shares none of its parts with the one before and would only fill the cache.
 */
const REUSED = new WeakSet<object>()

/**
 * Mark a part of query data as handed out again by its builder.
 * @example markReused(node.columns)
 */
export const markReused = <T extends object>(part: T): T => {
  REUSED.add(part)
  return part
}

/**
 * Whether a part of query data is one a builder hands out again.
 * @example isReused(pipe(from('users'), select('id')).columns) // true
 */
export const isReused = (part: object): boolean => REUSED.has(part)
