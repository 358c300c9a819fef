// Cold start, raw driver: import, connect, one point select, close.
const [engine, target] = process.argv.slice(2)
if (engine === 'sqlite') {
  const { default: Database } = await import('better-sqlite3')
  const db = new Database(target, { readonly: true })
  const row = db.prepare('SELECT id, name, email, active, created_at FROM users WHERE id = ?').get(1)
  if (row.id !== 1) throw new Error('wrong row')
  db.close()
} else if (engine === 'mariadb') {
  const { default: mysql } = await import('mysql2/promise')
  const pool = mysql.createPool({ uri: target, connectionLimit: 1, timezone: 'Z' })
  const [[row]] = await pool.execute('SELECT id, name, email, active, created_at FROM users WHERE id = ?', [1])
  if (row.id !== 1) throw new Error('wrong row')
  await pool.end()
} else {
  const { default: postgres } = await import('postgres')
  const sql = postgres(target, { max: 1, onnotice: () => {} })
  const [row] = await sql`SELECT id, name, email, active, created_at FROM users WHERE id = ${1}`
  if (row.id !== 1) throw new Error('wrong row')
  await sql.end()
}
