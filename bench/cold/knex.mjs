// Cold start, Knex: import, connect, one point select, close.
const [engine, target] = process.argv.slice(2)
const { default: knex } = await import('knex')
const mysqlConnection = (url) => {
  const u = new globalThis.URL(url)
  return { host: u.hostname, port: Number(u.port || 3306), user: decodeURIComponent(u.username), password: decodeURIComponent(u.password), database: u.pathname.slice(1), timezone: 'Z' }
}
const k = engine === 'sqlite'
  ? knex({ client: 'better-sqlite3', connection: { filename: target, options: { readonly: true } }, useNullAsDefault: true })
  : engine === 'mariadb'
    ? knex({ client: 'mysql2', connection: mysqlConnection(target), pool: { min: 0, max: 1 } })
    : knex({ client: 'pg', connection: target, pool: { min: 0, max: 1 } })
const row = await k('users').select('id', 'name', 'email', 'active', 'created_at').where('id', 1).first()
if (row.id !== 1) throw new Error('wrong row')
await k.destroy()
