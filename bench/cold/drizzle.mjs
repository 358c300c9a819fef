// Cold start, Drizzle: import, define the table, connect, one point select, close.
const [engine, target] = process.argv.slice(2)
const { eq } = await import('drizzle-orm')
let row
if (engine === 'sqlite') {
  const [{ drizzle }, { sqliteTable, integer, text }, { default: Database }] = await Promise.all([
    import('drizzle-orm/better-sqlite3'), import('drizzle-orm/sqlite-core'), import('better-sqlite3'),
  ])
  const users = sqliteTable('users', { id: integer('id').primaryKey(), name: text('name'), email: text('email'), active: integer('active', { mode: 'boolean' }), createdAt: text('created_at') })
  const client = new Database(target, { readonly: true })
  row = drizzle({ client }).select().from(users).where(eq(users.id, 1)).get()
  client.close()
} else if (engine === 'mariadb') {
  const [{ drizzle }, { mysqlTable, int, text, boolean, datetime }, { default: mysql }] = await Promise.all([
    import('drizzle-orm/mysql2'), import('drizzle-orm/mysql-core'), import('mysql2/promise'),
  ])
  const users = mysqlTable('users', { id: int('id').primaryKey(), name: text('name'), email: text('email'), active: boolean('active'), createdAt: datetime('created_at', { mode: 'date', fsp: 3 }) })
  const client = mysql.createPool({ uri: target, connectionLimit: 1, timezone: 'Z' })
  ;[row] = await drizzle({ client }).select().from(users).where(eq(users.id, 1))
  await client.end()
} else {
  const [{ drizzle }, { pgTable, integer, text, boolean, timestamp }, { default: postgres }] = await Promise.all([
    import('drizzle-orm/postgres-js'), import('drizzle-orm/pg-core'), import('postgres'),
  ])
  const users = pgTable('users', { id: integer('id').primaryKey(), name: text('name'), email: text('email'), active: boolean('active'), createdAt: timestamp('created_at', { withTimezone: true }) })
  const client = postgres(target, { max: 1, onnotice: () => {} })
  ;[row] = await drizzle({ client }).select().from(users).where(eq(users.id, 1))
  await client.end()
}
if (row.id !== 1) throw new Error('wrong row')
