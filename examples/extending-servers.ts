/**
 * Extending the PostgreSQL and MariaDB backends: an optimizer hint in every SELECT, one more
 * JSON function, Decimal values both ways, and connection set-up. docs/extending-backends.md
 * quotes this file. Needs the servers (RECORDKIT_PG_URL, RECORDKIT_MYSQL_URL).
 *
 * Run: npx tsx examples/extending-servers.ts
 */
import { pipe } from 'fp-ts/lib/function.js'
import { compose, connect, json, run, sql } from 'recordkit'
import { from, insertInto, select, values, where } from 'recordkit/query'
import { mysql2 } from 'recordkit/drivers/mysql2'
import { jsonbPathExists, mysqlWithTimeLimit, postgresJsScoped, postgresJsWithDecimals, postgresWithJsonPath, Decimal, withDecimals } from './extending/overrides.js'

const PG_URL = process.env.RECORDKIT_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const MYSQL_URL = process.env.RECORDKIT_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test'

// MariaDB: every SELECT carries a time limit hint (MySQL obeys it; MariaDB reads it as a comment).
const maria = await run(connect(mysql2({ url: MYSQL_URL, max: 1 }), mysqlWithTimeLimit(2000)))
const q = pipe(from('information_schema.tables'), select('table_name'), where({ table_schema: 'information_schema', table_name: 'TABLES' }))
console.log(maria.compile(q))
console.log(await run(maria.all(q)))
await run(maria.close())

// PostgreSQL: jsonb_path_exists as a builder, Decimal values both ways, a search path per connection.
const pg = await run(connect(postgresJsWithDecimals({ url: PG_URL, max: 2 }), withDecimals(postgresWithJsonPath)))
await run(pg.execute(sql`CREATE TEMP TABLE ext_order (id int PRIMARY KEY, total numeric(30,2) NOT NULL, payload jsonb NOT NULL)`))
await run(pg.transaction((tx) => tx.execute(pipe(insertInto('ext_order'), values([
  { id: 1, total: new Decimal('19.99'), payload: { tags: ['sale', 'new'] } },
  { id: 2, total: new Decimal('12345678901234567890.10'), payload: json({ tags: ['gift'] }) },
])))))
const onSale = pipe(from('ext_order'), select('id', 'total'), where(jsonbPathExists('payload', '$.tags[*] ? (@ == "sale")')))
console.log(pg.compile(onSale))
const rows = await run(pg.all(onSale))
console.log(rows, rows[0].total instanceof Decimal)
await run(pg.close())

const scoped = compose(postgresJsScoped({ url: PG_URL, max: 1 }, 'reporting'), postgresWithJsonPath)
console.log(await run(scoped.all(sql`SELECT current_setting('search_path') AS search_path, current_setting('statement_timeout') AS timeout`)))
await run(scoped.close())
