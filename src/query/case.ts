/**
 * CASE expressions: searched (`CASE WHEN cond THEN ...`) and simple (`CASE x WHEN v THEN ...`).
 *
 * Results are values (parameters) unless they are expressions: wrap a column in `col()`.
 */
import type { Expr } from '../ast.js'
import { exprNode, toCondition, toExpr, toValue, type Operand } from '../query.js'
import type { Fragment } from '../sql.js'

/** A condition as `where` takes it. */
type Condition = Expr | Fragment | Readonly<Record<string, unknown>>

/**
 * Searched CASE: the first condition that holds gives the result; else `otherwise` (or NULL).
 *
 * @example
 * caseWhen([[gt('milliseconds', 300000), 'long'], [gt('milliseconds', 180000), 'medium']], 'short')
 * // CASE WHEN "milliseconds" > ? THEN ? WHEN "milliseconds" > ? THEN ? ELSE ? END
 */
export const caseWhen = (whens: readonly (readonly [Condition, unknown])[], otherwise?: unknown): Expr =>
  exprNode({
    kind: 'case',
    whens: whens.map(([when, then]) => ({ when: toCondition(when), then: toValue(then) })),
    ...(otherwise === undefined ? {} : { else: toValue(otherwise) }),
  })

/**
 * Simple CASE: compares `subject` (a column when a string) with each value in turn.
 *
 * @example
 * caseOf('media_type_id', [[1, 'MPEG'], [2, 'Protected AAC']], 'other')
 * // CASE "media_type_id" WHEN ? THEN ? WHEN ? THEN ? ELSE ? END
 */
export const caseOf = (subject: Operand, whens: readonly (readonly [unknown, unknown])[], otherwise?: unknown): Expr =>
  exprNode({
    kind: 'case',
    subject: toExpr(subject),
    whens: whens.map(([when, then]) => ({ when: toValue(when), then: toValue(then) })),
    ...(otherwise === undefined ? {} : { else: toValue(otherwise) }),
  })
