/**
 * Every DDL field of a dialect can be overridden through `extend`, and the override shows in
 * every statement that uses it: fragment-producing fields get a marker in what the base
 * renders; string-producing ones a suffix. Planning (SQLite's table rebuild) and
 * introspection go through `self` too.
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import { describe, expect, it } from 'vitest'
import { compose, type Dialect, extend, fromParts, type Fragment } from 'recordkit'
import { postgres } from 'recordkit/dialects/postgres'
import { sqlite } from 'recordkit/dialects/sqlite'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'
import { run } from 'recordkit/promise'
import { from, where } from 'recordkit/query'
import { apply, type DdlDialect, introspect } from 'recordkit/schema'
import * as d from 'recordkit/schema'

type Returning<R> = { [K in keyof DdlDialect]: DdlDialect[K] extends (...args: never[]) => R ? K : never }[keyof DdlDialect]
type FragmentFields = Returning<Fragment>
// normalizeCheck is introspection's: it has its own test below.
type StringFields = Exclude<Returning<string>, 'normalizeCheck'>

const users = pipe(
  d.createTable('s.users'),
  d.column('id', 'integer', { primaryKey: true, autoIncrement: true }),
  d.column('email', 'text', { notNull: true, default: 'x' }),
  d.column('team', 'integer', { references: { table: 'teams', column: 'id', onDelete: 'cascade' } }),
  d.unique(['email', 'team'], { name: 'users_email_team' }),
  d.check('id > 0'),
  d.index(['team']),
)
const composite = pipe(d.createTable('pairs'), d.column('a', 'integer'), d.column('b', 'integer'), d.primaryKey(['a', 'b']))
const alter = (...steps: ((n: d.AlterTableNode) => d.AlterTableNode)[]) => steps.reduce((n, s) => s(n), d.alterTable('users'))

const uses: Readonly<Record<FragmentFields, readonly d.DdlNode[]>> = {
  inlineSql: [d.createView('v', pipe(from('users'), where({ id: 1 })))],
  ddl: [d.dropTable('users'), composite],
  createTable: [users, composite],
  dropTable: [d.dropTable('users')],
  createIndex: [d.createIndex('users', ['email']), users],
  dropIndex: [d.dropIndex('users_email_idx')],
  createView: [d.createView('v', 'SELECT 1')],
  dropView: [d.dropView('v')],
  columnDefinition: [users, alter(d.addColumn('age', 'integer'))],
  columnDefault: [users, alter(d.setDefault('email', 'y')), alter(d.alterColumn('email', 'text', { default: 'z' }))],
  autoIncrement: [users],
  primaryKey: [composite, alter(d.primaryKey(['id']))],
  unique: [users, alter(d.unique(['email']))],
  foreignKey: [users, alter(d.foreignKey(['team'], 'teams', ['id']))],
  check: [users, alter(d.check('id < 10'))],
  constraint: [alter(d.check('id < 10')), alter(d.unique(['email']))],
  alterAction: [alter(d.dropColumn('email')), alter(d.renameColumn('email', 'mail'))],
  addColumn: [alter(d.addColumn('age', 'integer'))],
  dropColumn: [alter(d.dropColumn('email'))],
  renameColumn: [alter(d.renameColumn('email', 'mail'))],
  alterColumn: [alter(d.alterColumn('email', 'varchar(10)'))],
  alterColumnType: [alter(d.alterColumn('email', 'varchar(10)'))],
  alterColumnNull: [alter(d.alterColumn('email', 'varchar(10)'))],
  alterColumnDefault: [alter(d.setDefault('email', 'y')), alter(d.dropDefault('email')), alter(d.alterColumn('email', 'text', { default: 'z' }))],
  addConstraint: [alter(d.check('id < 10'))],
  dropConstraint: [alter(d.dropConstraint('users_email_team'))],
  renameTable: [alter(d.renameTable('people'))],
}

const stringUses: Readonly<Record<StringFields, readonly d.DdlNode[]>> = {
  literal: [users, alter(d.setDefault('email', 'y')), d.createView('v', pipe(from('users'), where({ id: 1 })))],
  qualifiedName: [users, d.dropTable('users'), d.createIndex('users', ['email']), alter(d.dropColumn('email'))],
  columnType: [users, alter(d.addColumn('age', 'integer')), alter(d.alterColumn('email', 'varchar(10)'))],
  columnNullability: [users, alter(d.addColumn('age', 'integer', { notNull: true, default: 0 }))],
  inlinePrimaryKey: [users],
  constraintName: [users, alter(d.check('id < 10', { name: 'small' }))],
  referentialAction: [users, alter(d.foreignKey(['team'], 'teams', ['id'], { onUpdate: 'cascade' }))],
}

const sqlOf = (dialect: Dialect, node: d.DdlNode, viaCompile = false): string => {
  if (viaCompile) {
    const c = dialect.compile(node)
    if (E.isLeft(c)) throw c.left
    return c.right.sql
  }
  const parts = dialect.ddlStatements(node).map((f) => {
    const c = dialect.compile(f)
    if (E.isLeft(c)) throw c.left
    return c.right.sql
  })
  return parts.join(';\n')
}

describe('late binding: every DDL field is overridable', () => {
  for (const [field, nodes] of Object.entries(uses) as [FragmentFields, readonly d.DdlNode[]][]) {
    it(`${field} override appears in every statement that uses it`, () => {
      const marked = extend(postgres, (_, base) => ({
        [field]: (...args: unknown[]) => fromParts([`/*${field}*/`, (base[field] as (...a: unknown[]) => Fragment)(...args)]),
      }) as Partial<Dialect>)
      // `ddl` is what compile (and so execute) uses for one DDL statement.
      for (const n of nodes) expect(sqlOf(marked, n, field === 'ddl'), JSON.stringify(n)).toContain(`/*${field}*/`)
      expect(sqlOf(postgres, nodes[0], field === 'ddl')).not.toContain(`/*${field}*/`)
    })
  }
  for (const [field, nodes] of Object.entries(stringUses) as [StringFields, readonly d.DdlNode[]][]) {
    it(`${field} override appears in every statement that uses it`, () => {
      const marked = extend(postgres, (_, base) => ({
        [field]: (...args: unknown[]) => `${(base[field] as (...a: unknown[]) => string)(...args)}/*${field}*/`,
      }) as Partial<Dialect>)
      for (const n of nodes) expect(sqlOf(marked, n), JSON.stringify(n)).toContain(`/*${field}*/`)
    })
  }

  it('ddlStatements, alterTable and tableConstraints: what compile and apply run', () => {
    const withComment = extend(postgres, (_, base) => ({
      ddlStatements: (n: d.DdlNode) => [...base.ddlStatements(n), fromParts([`COMMENT ON TABLE x IS 'made by recordkit'`])],
      tableConstraints: (t: d.TableDef) => [...base.tableConstraints(t), fromParts(['CHECK (TRUE)'])],
    }))
    expect(sqlOf(withComment, composite)).toBe(`CREATE TABLE "pairs" ("a" INTEGER NOT NULL, "b" INTEGER NOT NULL, PRIMARY KEY ("a", "b"), CHECK (TRUE));\nCOMMENT ON TABLE x IS 'made by recordkit'`)
    const oneByOne = extend(postgres, (self) => ({
      alterTable: (n: d.AlterTableNode) => n.actions.map((a) => fromParts([`ALTER TABLE ${self.qualifiedName(n.table)} `, self.alterAction(n.table, a)])),
    }))
    expect(sqlOf(oneByOne, alter(d.addColumn('a', 'integer'), d.dropColumn('b')))).toBe('ALTER TABLE "users" ADD COLUMN "a" INTEGER;\nALTER TABLE "users" DROP COLUMN "b"')
  })

  it("SQLite's table rebuild and introspection go through self", async () => {
    const custom = extend(sqlite, (_, base) => ({
      columnType: (t: d.ColumnType, c?: d.ColumnDef) => (t === 'text' ? 'CLOB' : base.columnType(t, c)),
      portableType: (c: Parameters<DdlDialect['portableType']>[0]) => (c.type === 'clob' ? 'text' : base.portableType(c)),
    }))
    const db = compose(betterSqlite3({ filename: ':memory:' }), custom)
    await run(apply(db, pipe(d.createTable('sch_lb'), d.column('id', 'integer', { primaryKey: true }), d.column('name', 'text'))))
    const rebuild = await run(d.runCatalog((f) => db.all(f), () => db.dialect.planAlter(pipe(d.alterTable('sch_lb'), d.alterColumn('name', 'text', { notNull: true, default: '' })))))
    expect(E.isRight(db.compile(rebuild.statements[0])) && (db.compile(rebuild.statements[0]) as E.Right<{ sql: string }>).right.sql).toBe(
      `CREATE TABLE "rk_new_sch_lb" ("id" INTEGER NOT NULL PRIMARY KEY, "name" CLOB NOT NULL DEFAULT '')`,
    )
    expect((await run(introspect(db))).tables[0].columns).toEqual([{ name: 'id', type: 'integer', notNull: true }, { name: 'name', type: 'text', notNull: false }])
    await run(db.close())
  })

  it('normalizeCheck shapes what introspection returns', async () => {
    const custom = extend(sqlite, (_, base) => ({ normalizeCheck: (e: string) => base.normalizeCheck(e).toUpperCase() }))
    const db = compose(betterSqlite3({ filename: ':memory:' }), custom)
    await run(apply(db, pipe(d.createTable('sch_lb2'), d.column('n', 'integer', { check: 'n > 0' }))))
    expect((await run(introspect(db))).tables[0].checks).toEqual([{ expression: 'N > 0' }])
    await run(db.close())
  })
})
