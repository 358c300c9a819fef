/**
 * One model shape for the row-mapper tests (copying and in-place, generated or looped): every
 * kind of field a mapper treats apart (number, text, 0/1 boolean, date text, an optional field)
 * and a row-level check.
 */
import * as t from 'io-ts'
import { bool, date } from 'recordkit/model'

export const codec = t.refinement(
  t.intersection([t.type({ id: t.number, name: t.string, active: bool, at: date }), t.partial({ note: t.string })]),
  (r) => r.name !== 'nobody',
  'NotNobody',
)

export const fields = [
  { name: 'id', column: 'id', codec: t.number, optional: false },
  { name: 'name', column: 'name', codec: t.string, optional: false },
  { name: 'active', column: 'active', codec: bool, optional: false },
  { name: 'at', column: 'created_at', codec: date, optional: false },
  { name: 'note', column: 'note', codec: t.string, optional: true },
]

export const checks = [{ name: 'NotNobody', predicate: (r: unknown) => codec.predicate(r as never) }]

/** Two rows as a driver gives them, by column name. */
export const rowsByColumn = () => [
  { id: 1, name: 'Ada', active: 1, created_at: '2024-01-02T03:04:05.000Z', note: null as string | null },
  { id: 2, name: 'Grace', active: 0, created_at: '2024-01-02 03:04:05', note: 'x' as string | null },
]
