/**
 * The standard dialect: the SQL every engine shares. Engines are made from it with `extend`,
 * overriding only what differs, exactly as a user would.
 *
 * Every function reaches its siblings through `self`, so an override of, say, `limitOffset`
 * or `quoteIdentifier` shows up in every statement that uses it.
 */
import { left, right } from 'fp-ts/lib/Either.js'
import type { Expr, JoinNode, RawNode, Selection } from '../ast.js'
import { type Dialect, type TransactionOptions } from '../dialect.js'
import { dbError, toDbError } from '../errors.js'
import { fix } from '../record.js'
import { fromParts as F, isFragment, render, type Fragment, type Part } from '../sql.js'

const SAFE_FUNC = /^[A-Za-z_][A-Za-z0-9_.]*$/

const joinParts = (items: readonly Fragment[], sep: string): Fragment => {
  const parts: Part[] = []
  for (let i = 0; i < items.length; i++) {
    if (i > 0) parts.push(sep)
    parts.push(items[i])
  }
  return F(parts)
}

const EMPTY = F([])

/** Where a nested expression needs parentheses to keep its meaning. */
const needsParens = (e: Expr): boolean =>
  e.kind === 'binary' || e.kind === 'and' || e.kind === 'or' || e.kind === 'not' || e.kind === 'in' ||
  e.kind === 'between' || e.kind === 'isNull'

/**
 * Remember the results of a pure function of one string (quoting an identifier, the fragment of a
 * column): a query names the same few tables and columns every time it is built. At most 10,000
 * entries, then it starts over. Results are remembered only when `f` returns.
 */
const memo = <V>(f: (key: string) => V): ((key: string) => V) => {
  const seen = new Map<string, V>()
  return (key) => {
    let v = seen.get(key)
    if (v === undefined) {
      v = f(key)
      if (seen.size >= 10_000) seen.clear()
      seen.set(key, v)
    }
    return v
  }
}

const quoteStandard = (name: string): string => {
  if (name.indexOf('"') < 0 && name.indexOf('\0') < 0) return `"${name}"`
  if (name.includes('\0')) throw dbError('QueryError', `identifier contains a NUL character: ${JSON.stringify(name)}`)
  return `"${name.replace(/"/g, '""')}"`
}

const isolationSql = (o: TransactionOptions): string[] => {
  const modes: string[] = []
  if (o.isolation) modes.push(`ISOLATION LEVEL ${o.isolation.toUpperCase()}`)
  if (o.readOnly !== undefined) modes.push(o.readOnly ? 'READ ONLY' : 'READ WRITE')
  return modes
}

/**
 * The standard dialect as an open record (what `extend` builds on).
 * @example const mine = fix((self) => ({ ...standardOpen(self), name: 'mine' }))
 */
export const standardOpen = (self: Dialect): Dialect => {
  // Column references and table names render the same every time: remember their fragments
  // (through `self`, so overrides of `column`, `quoteIdentifier` or `fromItem` are what is remembered).
  const columnOf = memo((name) => F([self.column(undefined, name)]))
  const qualifiedColumnOf = memo((key) => {
    const dot = key.indexOf('\0')
    return F([self.column(key.slice(0, dot), key.slice(dot + 1))])
  })
  const tableOf = memo((name) => F([self.quoteIdentifier(name)]))
  return {
    name: 'standard',
    version: '0',
    maxParams: 32766,

    quoteIdentifier: memo(quoteStandard),
    placeholder: () => '?',
    toDriver: (value) => (value === undefined ? null : value),

    column: (table, name) =>
      table === undefined
        ? self.quoteIdentifier(name)
        : table.indexOf('.') < 0
          ? `${self.quoteIdentifier(table)}.${self.quoteIdentifier(name)}`
          : `${table.split('.').map(self.quoteIdentifier).join('.')}.${self.quoteIdentifier(name)}`,

    param: (p) => F([{ _tag: 'Placeholder', name: p.name }]),

    expr: (e) => {
      switch (e.kind) {
        case 'column': return e.table === undefined ? columnOf(e.name) : qualifiedColumnOf(`${e.table}\0${e.name}`)
        case 'value': return F([{ _tag: 'Param', value: e.value }])
        case 'param': return self.param(e)
        case 'raw': return e.fragment
        case 'star': return F([e.table === undefined ? '*' : `${self.quoteIdentifier(e.table)}.*`])
        case 'binary': return self.binary(e.op, e.left, e.right)
        case 'and':
        case 'or': {
          if (e.items.length === 0) return F([e.kind === 'and' ? '1 = 1' : '1 = 0'])
          if (e.items.length === 1) return self.expr(e.items[0])
          const sep = e.kind === 'and' ? ' AND ' : ' OR '
          return joinParts(e.items.map((i) => (i.kind === 'and' || i.kind === 'or' ? F(['(', self.expr(i), ')']) : self.expr(i))), sep)
        }
        case 'not': return F(['NOT (', self.expr(e.expr), ')'])
        case 'in': {
          const lhs = wrapped(self, e.expr)
          if (Array.isArray(e.list)) {
            const list = e.list as readonly Expr[]
            if (list.length === 0) return F([e.negated ? '1 = 1' : '1 = 0'])
            return F([lhs, e.negated ? ' NOT IN (' : ' IN (', joinParts(list.map(self.expr), ', '), ')'])
          }
          return F([lhs, e.negated ? ' NOT IN (' : ' IN (', self.compileSelect(e.list as never), ')'])
        }
        case 'between':
          return F([wrapped(self, e.expr), e.negated ? ' NOT BETWEEN ' : ' BETWEEN ', wrapped(self, e.low), ' AND ', wrapped(self, e.high)])
        case 'isNull': return F([wrapped(self, e.expr), e.negated ? ' IS NOT NULL' : ' IS NULL'])
        case 'func': return self.func(e)
        case 'excluded': return self.excluded(e.column)
        case 'subquery': return F([e.exists ? 'EXISTS (' : '(', self.compileSelect(e.query), ')'])
        case 'extension': return self.extension(e)
        default: {
          const kind = (e as { kind?: unknown }).kind
          throw dbError('UnsupportedFeature', `${self.name} cannot compile expression kind ${String(kind)}`, { dialect: self.name, feature: String(kind) })
        }
      }
    },

    binary: (op, l, r) => {
      switch (op) {
        case 'like': return F([wrapped(self, l), ' LIKE ', wrapped(self, r)])
        case 'not like': return F([wrapped(self, l), ' NOT LIKE ', wrapped(self, r)])
        case 'ilike': return F(['LOWER(', self.expr(l), ') LIKE LOWER(', self.expr(r), ')'])
        case 'not ilike': return F(['LOWER(', self.expr(l), ') NOT LIKE LOWER(', self.expr(r), ')'])
        default: return F([wrapped(self, l), ` ${op} `, wrapped(self, r)])
      }
    },

    func: (f) => {
      if (!SAFE_FUNC.test(f.name)) throw dbError('QueryError', `not a function name: ${JSON.stringify(f.name)}`)
      return F([f.name.toUpperCase(), f.distinct ? '(DISTINCT ' : '(', joinParts(f.args.map(self.expr), ', '), ')'])
    },

    extension: (e) => {
      throw dbError('UnsupportedFeature', `${self.name} has no extension named ${e.name} (add it with extend: extension: (e) => ...)`, { dialect: self.name, feature: e.name })
    },

    selectClause: (q) => F([q.distinct ? 'SELECT DISTINCT ' : 'SELECT ']),

    excluded: (column) => F([`EXCLUDED.${self.quoteIdentifier(column)}`]),

    selection: (s: Selection) =>
      s.alias === undefined ? self.expr(s.expr) : F([self.expr(s.expr), ` AS ${self.quoteIdentifier(s.alias)}`]),

    fromItem: (t) => {
      if (t.kind === 'raw') return F(['(', (t as RawNode).fragment, ')'])
      if (t.schema === undefined && t.alias === undefined) return tableOf(t.name)
      const name = t.schema === undefined ? self.quoteIdentifier(t.name) : `${self.quoteIdentifier(t.schema)}.${self.quoteIdentifier(t.name)}`
      return F([t.alias === undefined ? name : `${name} AS ${self.quoteIdentifier(t.alias)}`])
    },

    join: (j: JoinNode) => {
      const kw = j.type === 'inner' ? ' INNER JOIN ' : j.type === 'left' ? ' LEFT JOIN ' : j.type === 'right' ? ' RIGHT JOIN ' : j.type === 'full' ? ' FULL JOIN ' : ' CROSS JOIN '
      return j.on === undefined ? F([kw, self.fromItem(j.table)]) : F([kw, self.fromItem(j.table), ' ON ', self.expr(j.on)])
    },

    orderItem: (o) =>
      F([self.expr(o.expr), o.direction === 'desc' ? ' DESC' : ' ASC', o.nulls === undefined ? '' : o.nulls === 'first' ? ' NULLS FIRST' : ' NULLS LAST']),

    limitOffset: (limit, offset) => {
      const parts: Part[] = []
      if (limit !== undefined) parts.push(' LIMIT ', amount(self, limit))
      if (offset !== undefined) parts.push(' OFFSET ', amount(self, offset))
      return parts.length === 0 ? EMPTY : F(parts)
    },

    returning: (items) => F([' RETURNING ', joinParts(items.map(self.selection), ', ')]),
    insertReturning: (items) => self.returning(items),
    updateReturning: (items) => self.returning(items),
    deleteReturning: (items) => self.returning(items),

    insertValues: (node) => {
      if (node.columns.length === 0) {
        if (node.rows.length > 1) throw dbError('UnsupportedFeature', `${self.name} cannot insert several rows of only default values in one statement`, { dialect: self.name, feature: 'multi-row DEFAULT VALUES' })
        return F([' DEFAULT VALUES'])
      }
      const rows = node.rows.map((r) => F(['(', joinParts(r.map(self.expr), ', '), ')']))
      return F([' (', node.columns.map(self.quoteIdentifier).join(', '), ') VALUES ', joinParts(rows, ', ')])
    },

    upsert: (node) => {
      const oc = node.onConflict!
      const target = oc.target.length === 0 ? '' : ` (${oc.target.map(self.quoteIdentifier).join(', ')})`
      if (oc.update === null) return F([` ON CONFLICT${target} DO NOTHING`])
      if (oc.target.length === 0) throw dbError('QueryError', `${self.name}: an upsert that updates needs the conflict target columns`)
      const sets = oc.update.map(([c, v]) => F([self.quoteIdentifier(c), ' = ', self.expr(v)]))
      return F([` ON CONFLICT${target} DO UPDATE SET `, joinParts(sets, ', '), oc.where ? F([' WHERE ', self.expr(oc.where)]) : EMPTY])
    },

    compileSelect: (q) => {
      const parts: Part[] = [self.selectClause(q)]
      parts.push(q.columns.length === 0 ? '*' : joinParts(q.columns.map(self.selection), ', '))
      if (q.from !== undefined) parts.push(' FROM ', self.fromItem(q.from))
      for (const j of q.joins) parts.push(self.join(j))
      if (q.where !== undefined) parts.push(' WHERE ', self.expr(q.where))
      if (q.groupBy.length > 0) parts.push(' GROUP BY ', joinParts(q.groupBy.map(self.expr), ', '))
      if (q.having !== undefined) parts.push(' HAVING ', self.expr(q.having))
      if (q.orderBy.length > 0) parts.push(' ORDER BY ', joinParts(q.orderBy.map(self.orderItem), ', '))
      if (q.limit !== undefined || q.offset !== undefined) parts.push(self.limitOffset(q.limit, q.offset))
      return F(parts)
    },

    compileInsert: (q) => {
      const parts: Part[] = ['INSERT INTO ', self.fromItem(q.table), self.insertValues(q)]
      if (q.onConflict !== undefined) parts.push(self.upsert(q))
      if (q.returning !== undefined && q.returning.length > 0) parts.push(self.insertReturning(q.returning))
      return F(parts)
    },

    compileUpdate: (q) => {
      if (q.set.length === 0) throw dbError('QueryError', `UPDATE ${q.table.name} has no assignments`)
      const sets = q.set.map(([c, v]) => F([self.quoteIdentifier(c), ' = ', self.expr(v)]))
      const parts: Part[] = ['UPDATE ', self.fromItem(q.table), ' SET ', joinParts(sets, ', ')]
      if (q.where !== undefined) parts.push(' WHERE ', self.expr(q.where))
      if (q.returning !== undefined && q.returning.length > 0) parts.push(self.updateReturning(q.returning))
      return F(parts)
    },

    compileDelete: (q) => {
      const parts: Part[] = ['DELETE FROM ', self.fromItem(q.table)]
      if (q.where !== undefined) parts.push(' WHERE ', self.expr(q.where))
      if (q.returning !== undefined && q.returning.length > 0) parts.push(self.deleteReturning(q.returning))
      return F(parts)
    },

    statement: (q) => {
      if (isFragment(q)) return q
      switch (q.kind) {
        case 'select': return self.compileSelect(q)
        case 'insert': return self.compileInsert(q)
        case 'update': return self.compileUpdate(q)
        case 'delete': return self.compileDelete(q)
        case 'raw': return q.fragment
        default: throw dbError('UnsupportedFeature', `${self.name} cannot compile statement kind ${String((q as { kind?: unknown }).kind)}`, { dialect: self.name, feature: String((q as { kind?: unknown }).kind) })
      }
    },

    compile: (q) => {
      try {
        return right(render(self, self.statement(q)))
      } catch (e) {
        return left(toDbError(e))
      }
    },

    beginTransaction: (o) => {
      const modes = isolationSql(o)
      return [modes.length === 0 ? 'BEGIN' : `START TRANSACTION ${modes.join(', ')}`]
    },
    commit: () => 'COMMIT',
    rollback: () => 'ROLLBACK',
    savepoint: (name) => `SAVEPOINT ${self.quoteIdentifier(name)}`,
    releaseSavepoint: (name) => `RELEASE SAVEPOINT ${self.quoteIdentifier(name)}`,
    rollbackToSavepoint: (name) => `ROLLBACK TO SAVEPOINT ${self.quoteIdentifier(name)}`,

    forVersion: () => self,
  }
}

/** An operand, in parentheses when it is itself an operation. */
const wrapped = (self: Dialect, e: Expr): Fragment => (needsParens(e) ? F(['(', self.expr(e), ')']) : self.expr(e))

/** A LIMIT/OFFSET amount: a checked integer parameter, or a named placeholder. */
const amount = (self: Dialect, n: number | { readonly kind: 'param'; readonly name: string }): Part => {
  if (typeof n === 'number') {
    if (!Number.isSafeInteger(n) || n < 0) throw dbError('QueryError', `LIMIT/OFFSET must be a non-negative integer, got ${n}`)
    return { _tag: 'Param', value: n }
  }
  return self.param(n as never)
}

/** Helpers for dialect authors. */
export const fragments = { joinParts, wrapped, amount, isolationSql, memo }

/**
 * The standard dialect, closed and ready to use.
 * @example standard.quoteIdentifier('a"b') // "a""b"
 */
export const standard: Dialect = fix(standardOpen)
