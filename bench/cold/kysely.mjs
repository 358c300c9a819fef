// Cold start, Kysely: import, connect, one point select, close.
const [engine, target] = process.argv.slice(2)
const { Kysely, MysqlDialect, SqliteDialect } = await import('kysely')
let db
if (engine === 'sqlite') {
  const { default: Database } = await import('better-sqlite3')
  db = new Kysely({ dialect: new SqliteDialect({ database: new Database(target, { readonly: true }) }) })
} else if (engine === 'mariadb') {
  const { createPool } = await import('mysql2')
  db = new Kysely({ dialect: new MysqlDialect({ pool: createPool({ uri: target, connectionLimit: 1, timezone: 'Z' }) }) })
} else {
  const [{ PostgresJSDialect }, { default: postgres }] = await Promise.all([import('kysely-postgres-js'), import('postgres')])
  db = new Kysely({ dialect: new PostgresJSDialect({ postgres: postgres(target, { max: 1, onnotice: () => {} }) }) })
}
const row = await db.selectFrom('users').select(['id', 'name', 'email', 'active', 'created_at']).where('id', '=', 1).executeTakeFirst()
if (row.id !== 1) throw new Error('wrong row')
await db.destroy()
