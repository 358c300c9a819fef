// Cold start, recordkit (the built package): import, connect, one point select, close.
const [engine, target] = process.argv.slice(2)
const [{ connect, compose, run }, { eq, from, select, where }] = await Promise.all([import('recordkit'), import('recordkit/query')])
let db
if (engine === 'sqlite') {
  const [{ sqlite }, { betterSqlite3 }] = await Promise.all([import('recordkit/dialects/sqlite'), import('recordkit/drivers/better-sqlite3')])
  db = compose(betterSqlite3({ filename: target, readonly: true }), sqlite)
} else if (engine === 'mariadb') {
  const [{ mariadb }, { mysql2 }] = await Promise.all([import('recordkit/dialects/mysql'), import('recordkit/drivers/mysql2')])
  db = await run(connect(mysql2({ url: target, max: 1 }), mariadb))
} else {
  const [{ postgres }, { postgresJs }] = await Promise.all([import('recordkit/dialects/postgres'), import('recordkit/drivers/postgres')])
  db = await run(connect(postgresJs({ url: target, max: 1 }), postgres))
}
const row = await run(db.first(where(eq('id', 1))(select('id', 'name', 'email', 'active', 'created_at')(from('users')))))
if (row._tag !== 'Some' || row.value.id !== 1) throw new Error('wrong row')
await run(db.close())
