/**
 * Long `in` lists are written by the dialects (`longInList`, used by the standard dialect's IN
 * list for more than `LONG_IN_LIST` bound values): a condition goes to its backend as it is.
 */
import type { Backend } from '../compose.js'

/**
 * A condition as the backend compiles it: itself (the dialect writes its long IN lists).
 *
 * @example exprForEngine(db, conditionOf(User.core, ['id', 'in', ids])) // the same condition
 */
export const exprForEngine = <E>(_db: Backend, e: E): E => e
