/**
 * A multi-tenant billing ledger as a new user writes it from README.md and the guides, on SQLite,
 * PostgreSQL and MariaDB: tables made by migrations run with `migrateUp`; tenants, accounts,
 * invoices and their lines, payments, a double-entry journal whose postings must balance; money as
 * exact decimals (`decimalOf(12, 2)`) end to end; posting an invoice in one transaction with a
 * savepoint per line; two payments of one invoice at once, under a row lock and under optimistic
 * locking; idempotency keys; reports (revenue per month, running balances, aging buckets, top
 * customers per tenant, cursor pages); voided invoices hidden by default; every query of a
 * tenant's models scoped to the tenant by a behaviour.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pipe } from 'fp-ts/lib/function.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Backend, createBackend, type DbError, isDbError, run, sql } from 'recordkit'
import {
  type Behaviour, belongsTo, calendarDate, date, decimalOf, hasMany, hookError, model, nullable, optimisticLock, relate, snakeCase,
  softDelete, timestamps, withDeleted,
} from 'recordkit/model'
import {
  and, as, asc, cast, caseWhen, col, dateAdd, dateTrunc, derived, desc, eq, from, groupBy, isNull, limit, lt, lte, mul, orderBy, over, readAs,
  rowNumber, select, sub, sum, tuple, val, where,
} from 'recordkit/query'
import {
  addColumn, alter, alterTable, apply, column, createTable, createTableFor, dropColumn, dropTable, index, migrateDown, migrateUp, migrationStatus,
  unique, type Migration,
} from 'recordkit/schema'
import { fails, ok } from 'recordkit/testing'
import { MYSQL_URL, PG_URL, serverAvailable } from './support/servers.js'

const P = 'ldg_nu_'
const HISTORY = `${P}migrations`
const TABLES = ['postings', 'entries', 'payments', 'lines', 'invoices', 'accounts', 'tenants'].map((x) => P + x)

// ---- The schema, as migrations ----

const money = (name: string, options: { notNull?: boolean; default?: number } = { notNull: true }) => column(name, 'decimal(12,2)', options)

const MIGRATIONS: readonly Migration[] = [
  {
    name: '20260101000000_tenants_and_accounts',
    up: (db) => apply(db, pipe(
      createTable(`${P}tenants`),
      column('id', 'integer', { primaryKey: true, autoIncrement: true }),
      column('name', 'varchar(80)', { notNull: true, unique: true }),
    ), pipe(
      createTable(`${P}accounts`),
      column('id', 'integer', { primaryKey: true, autoIncrement: true }),
      column('tenant_id', 'integer', { notNull: true, references: `${P}tenants.id` }),
      column('code', 'varchar(20)', { notNull: true }),
      column('name', 'varchar(80)', { notNull: true }),
      unique(['tenant_id', 'code']),
    )),
    down: (db) => apply(db, dropTable(`${P}accounts`), dropTable(`${P}tenants`)),
  },
  {
    name: '20260101000100_invoices',
    up: (db) => apply(db, pipe(
      createTable(`${P}invoices`),
      column('id', 'integer', { primaryKey: true, autoIncrement: true }),
      column('tenant_id', 'integer', { notNull: true, references: `${P}tenants.id` }),
      column('number', 'varchar(20)', { notNull: true }),
      column('customer', 'varchar(80)', { notNull: true }),
      column('issued_at', 'timestamptz(3)', { notNull: true }),
      column('due_on', 'date', { notNull: true }),
      column('status', 'varchar(10)', { notNull: true, default: 'draft', check: "status IN ('draft', 'posted', 'paid')" }),
      money('total', { notNull: true, default: 0 }),
      money('paid', { notNull: true, default: 0 }),
      column('version', 'integer', { notNull: true }),
      column('created_at', 'timestamptz(3)', { notNull: true }),
      column('updated_at', 'timestamptz(3)', { notNull: true }),
      unique(['tenant_id', 'number']),
      index(['tenant_id', 'issued_at']),
    ), pipe(
      createTable(`${P}lines`),
      column('id', 'integer', { primaryKey: true, autoIncrement: true }),
      column('tenant_id', 'integer', { notNull: true, references: `${P}tenants.id` }),
      column('invoice_id', 'integer', { notNull: true, references: { table: `${P}invoices`, column: 'id', onDelete: 'cascade' } }),
      column('description', 'varchar(120)', { notNull: true }),
      money('amount'),
    )),
    down: (db) => apply(db, dropTable(`${P}lines`), dropTable(`${P}invoices`)),
  },
  {
    name: '20260101000200_payments_and_journal',
    up: (db) => apply(db, pipe(
      createTable(`${P}payments`),
      column('id', 'integer', { primaryKey: true, autoIncrement: true }),
      column('tenant_id', 'integer', { notNull: true, references: `${P}tenants.id` }),
      column('invoice_id', 'integer', { notNull: true, references: `${P}invoices.id` }),
      money('amount'),
      column('idempotency_key', 'varchar(64)', { notNull: true }),
      column('received_at', 'timestamptz(3)', { notNull: true }),
      unique(['tenant_id', 'idempotency_key']),
    ), pipe(
      createTable(`${P}entries`),
      column('id', 'integer', { primaryKey: true, autoIncrement: true }),
      column('tenant_id', 'integer', { notNull: true, references: `${P}tenants.id` }),
      column('memo', 'varchar(120)', { notNull: true }),
      column('posted_at', 'timestamptz(3)', { notNull: true }),
    ), pipe(
      createTable(`${P}postings`),
      column('id', 'integer', { primaryKey: true, autoIncrement: true }),
      column('tenant_id', 'integer', { notNull: true, references: `${P}tenants.id` }),
      column('entry_id', 'integer', { notNull: true, references: { table: `${P}entries`, column: 'id', onDelete: 'cascade' } }),
      column('account_id', 'integer', { notNull: true, references: `${P}accounts.id` }),
      money('amount'),
      index(['account_id']),
    )),
    down: (db) => apply(db, dropTable(`${P}postings`), dropTable(`${P}entries`), dropTable(`${P}payments`)),
  },
  {
    // Voiding came later: a column added to a table that holds rows.
    name: '20260201000000_void_invoices',
    up: (db) => alter(db, pipe(alterTable(`${P}invoices`), addColumn('voided_at', 'timestamptz(3)'))),
    down: (db) => alter(db, pipe(alterTable(`${P}invoices`), dropColumn('voided_at'))),
  },
]

// ---- The application ----

const Money = decimalOf(12, 2)

/** The value of a task whose error may be the application's own (an unbalanced entry, an overpayment); throws the error. */
const done = async <E, A>(task: TE.TaskEither<E, A>): Promise<A> => {
  const r = await task()
  if (r._tag === 'Left') throw r.left
  return r.right
}

/** Integer cents of exact decimal text, to add in JS without floats. */
const cents = (amount: string): bigint => {
  const [whole, frac = ''] = amount.replace('-', '').split('.')
  const c = BigInt(whole) * 100n + BigInt(frac.padEnd(2, '0'))
  return amount.startsWith('-') ? -c : c
}
const fromCents = (c: bigint): string => {
  const a = c < 0n ? -c : c
  return `${c < 0n ? '-' : ''}${a / 100n}.${String(a % 100n).padStart(2, '0')}`
}

/**
 * Everything a tenant's models read and write is that tenant's: a default scope on every query,
 * update and delete, and the tenant filled in on create (another tenant's id is refused).
 */
const tenantScoped = (tenantId: number): Behaviour<{ tenantId: number }, 'tenantId'> => ({
  name: `tenant(${tenantId})`,
  fills: ['tenantId'],
  beforeValidate: (values) => {
    const given = (values as { tenantId?: unknown }).tenantId
    if (given !== undefined && given !== tenantId) return TE.left(hookError('beforeValidate', `tenant ${tenantId} cannot write rows of tenant ${String(given)}`))
    return TE.right({ ...values, tenantId })
  },
  scope: (_options, column) => eq(column('tenantId'), tenantId),
  // Deleting for good reaches a row whatever the default scopes say: the guard keeps it to the tenant's rows.
  guard: (_row, column) => eq(column('tenantId'), tenantId),
})

const Tenant = model({ table: `${P}tenants`, primaryKey: 'id', codec: t.type({ id: t.number, name: t.string }) })

/** The models of one tenant. */
const ledgerOf = (tenantId: number) => relate({
  Account: model({
    table: `${P}accounts`, primaryKey: 'id', naming: snakeCase,
    codec: t.type({ id: t.number, tenantId: t.number, code: t.string, name: t.string }),
    behaviours: [tenantScoped(tenantId)],
  }),
  Invoice: model({
    table: `${P}invoices`, primaryKey: 'id', naming: snakeCase,
    codec: t.type({
      id: t.number, tenantId: t.number, number: t.string, customer: t.string, issuedAt: date, dueOn: calendarDate,
      status: t.keyof({ draft: null, posted: null, paid: null }), total: Money, paid: Money, version: t.number,
      createdAt: date, updatedAt: date, voidedAt: nullable(date),
    }),
    defaults: ['status', 'total', 'paid'],
    behaviours: [tenantScoped(tenantId), timestamps(), softDelete({ field: 'voidedAt' }), optimisticLock()],
    relations: { lines: hasMany('Line', 'invoiceId'), payments: hasMany('Payment', 'invoiceId') },
  }),
  Line: model({
    table: `${P}lines`, primaryKey: 'id', naming: snakeCase,
    codec: t.type({ id: t.number, tenantId: t.number, invoiceId: t.number, description: t.string, amount: Money }),
    behaviours: [tenantScoped(tenantId)],
    relations: { invoice: belongsTo('Invoice', 'invoiceId') },
  }),
  Payment: model({
    table: `${P}payments`, primaryKey: 'id', naming: snakeCase,
    codec: t.type({ id: t.number, tenantId: t.number, invoiceId: t.number, amount: Money, idempotencyKey: t.string, receivedAt: date }),
    behaviours: [tenantScoped(tenantId)],
  }),
  Entry: model({
    table: `${P}entries`, primaryKey: 'id', naming: snakeCase,
    codec: t.type({ id: t.number, tenantId: t.number, memo: t.string, postedAt: date }),
    behaviours: [tenantScoped(tenantId)],
    relations: { postings: hasMany('Posting', 'entryId') },
  }),
  Posting: model({
    table: `${P}postings`, primaryKey: 'id', naming: snakeCase,
    codec: t.type({ id: t.number, tenantId: t.number, entryId: t.number, accountId: t.number, amount: Money }),
    behaviours: [tenantScoped(tenantId)],
  }),
})
type Ledger = ReturnType<typeof ledgerOf>

/** A journal entry whose postings must add up to zero (checked by SUM in SQL before the commit). */
const postEntry = (L: Ledger, db: Backend, memo: string, postedAt: Date, postings: readonly { accountId: number; amount: string }[]) =>
  db.transaction((tx) => pipe(
    L.Entry.create(tx, { memo, postedAt }),
    TE.chainW((entry) => pipe(
      L.Posting.createMany(tx, postings.map((p) => ({ ...p, entryId: entry.id }))),
      TE.chainW(() => pipe(L.Posting.query, L.Posting.where('entryId', '=', entry.id), L.Posting.sum(tx, 'amount'))),
      TE.chainW((total) => (total === '0.00' ? TE.right(entry) : TE.left({ _tag: 'Unbalanced' as const, entry: memo, total }))),
    )),
  ))

// ---- The engines ----

const ENGINES = [
  { name: 'sqlite', url: (dir: string) => `sqlite:${join(dir, 'ledger.db')}` },
  { name: 'postgres', url: () => PG_URL },
  { name: 'mariadb', url: () => MYSQL_URL.replace(/^mysql:/, 'mariadb:') },
] as const

for (const engine of ENGINES) {
  describe(`a billing ledger on ${engine.name}`, () => {
    let dir = ''
    let db: Backend | undefined
    const use = (ctx: { skip: () => void }): Backend => {
      if (db === undefined) ctx.skip()
      return db!
    }
    const dropAll = async (d: Backend) => {
      for (const table of [...TABLES, HISTORY]) await run(d.execute(sql`DROP TABLE IF EXISTS ${sql.id(table)}`))
    }

    beforeAll(async () => {
      if (engine.name !== 'sqlite' && !(await serverAvailable(engine.name))) return
      dir = mkdtempSync(join(tmpdir(), 'ldg-nu-'))
      db = await run(createBackend(engine.url(dir)))
      await dropAll(db)
    })
    afterAll(async () => {
      if (db !== undefined) {
        await dropAll(db)
        await run(db.close())
      }
      if (dir !== '') rmSync(dir, { recursive: true, force: true })
    })

    /** Migrates (when the migration test has not run), empties the tables and adds two tenants, each with its chart of accounts. */
    const fresh = async (d: Backend) => {
      await ok(migrateUp(d, MIGRATIONS, { table: HISTORY }))
      for (const table of TABLES) await run(d.execute(sql`DELETE FROM ${sql.id(table)}`))
      const [acme, bolt] = await ok(Tenant.createMany(d, [{ name: 'Acme' }, { name: 'Bolt' }]))
      const A = ledgerOf(acme.id)
      const B = ledgerOf(bolt.id)
      const chart = [{ code: '1100', name: 'Receivables' }, { code: '1000', name: 'Cash' }, { code: '4000', name: 'Revenue' }]
      const [ar, cash, revenue] = await ok(A.Account.createMany(d, chart))
      await ok(B.Account.createMany(d, chart))
      return { acme, bolt, A, B, accounts: { ar, cash, revenue } }
    }

    it('migrations: applied in order, the last one reverted and applied again on a table with rows', async (ctx) => {
      const d = use(ctx)
      const options = { table: HISTORY }
      const applied = await ok(migrateUp(d, MIGRATIONS, options))
      expect(applied.migrations).toEqual(MIGRATIONS.map((m) => m.name))
      const { A } = await fresh(d)
      await ok(A.Invoice.create(d, { number: 'INV-1', customer: 'Zed', issuedAt: new Date(), dueOn: '2026-02-01' }))
      expect((await ok(migrateDown(d, MIGRATIONS, { ...options, steps: 1 }))).migrations).toEqual([MIGRATIONS[3].name])
      expect((await ok(migrationStatus(d, MIGRATIONS, options))).map((m) => m.state)).toEqual(['applied', 'applied', 'applied', 'pending'])
      expect((await ok(migrateUp(d, MIGRATIONS, options))).migrations).toEqual([MIGRATIONS[3].name])
      expect(await ok(pipe(A.Invoice.query, A.Invoice.pluck(d, 'number')))).toEqual(['INV-1'])
    })

    it('money is exact: 0.10 + 0.20 is 0.30, a billion cents, negatives, the same text on every engine', async (ctx) => {
      const d = use(ctx)
      const { A } = await fresh(d)
      const inv = await ok(A.Invoice.create(d, { number: 'INV-1', customer: 'Zed', issuedAt: new Date(), dueOn: '2026-02-01' }))
      expect([inv.total, inv.paid]).toEqual(['0.00', '0.00'])
      const amounts = ['0.10', '0.20', '10000000.00', '-3.50', '0.01', '9999999999.99', '-9999999999.99']
      const lines = await ok(A.Line.createMany(d, amounts.map((amount, i) => ({ invoiceId: inv.id, description: `line ${i}`, amount }))))
      expect(lines.map((l) => l.amount)).toEqual(amounts)
      // Read back, summed in SQL, and compared with the sum in integer cents.
      expect(await ok(pipe(A.Line.query, A.Line.orderBy('id'), A.Line.pluck(d, 'amount')))).toEqual(amounts)
      const firstTwo = await ok(pipe(A.Line.query, A.Line.where('description', 'in', ['line 0', 'line 1']), A.Line.sum(d, 'amount')))
      expect(firstTwo).toBe('0.30')
      const all = await ok(pipe(A.Line.query, A.Line.sum(d, 'amount')))
      expect(all).toBe(fromCents(amounts.map(cents).reduce((a, b) => a + b, 0n)))
      expect(all).toBe('9999996.81')
      // A bulk of 1,200 lines (PostgreSQL takes it through unnest): every amount as written, the sum exact.
      const bulk = Array.from({ length: 1200 }, (_, i) => fromCents(BigInt((i * 7919) % 100_000) - 50_000n))
      expect(await ok(A.Line.createMany(d, bulk.map((amount, i) => ({ invoiceId: inv.id, description: `bulk ${i}`, amount })), { returning: false }))).toBe(1200)
      const stored = await ok(pipe(A.Line.query, A.Line.where('description', 'like', 'bulk %'), A.Line.orderBy('id'), A.Line.pluck(d, 'amount')))
      expect(stored).toEqual(bulk)
      const bulkSum = await ok(pipe(A.Line.query, A.Line.where('description', 'like', 'bulk %'), A.Line.sum(d, 'amount')))
      expect(bulkSum).toBe(fromCents(bulk.map(cents).reduce((a, b) => a + b, 0n)))
      await ok(A.Line.deleteWhere(d, A.Line.cond('description', 'like', 'bulk %')))
      // A sum per invoice as a computed column, decoded with the field's codec, and compared in where as a decimal.
      const withSums = await ok(pipe(A.Invoice.query, A.Invoice.withSum('lines', 'amount'), A.Invoice.all(d)))
      expect(withSums.map((i) => i.linesSumAmount)).toEqual(['9999996.81'])
      for (const [op, total, n] of [['=', '9999996.81', 1], ['=', '9999996.80', 0], ['>', '9999996.80', 1], ['<', '9999996.81', 0]] as const) {
        expect(await ok(pipe(A.Invoice.query, A.Invoice.withSum('lines', 'amount'), A.Invoice.where('linesSumAmount', op, total), A.Invoice.count(d)))).toBe(n)
      }
      // Input the column cannot hold exactly is refused, naming the field: never rounded, never stored.
      for (const bad of ['0.125', '12345678901.00', 'ten']) {
        const e = await fails(A.Line.create(d, { invoiceId: inv.id, description: 'bad', amount: bad }))
        expect(e._tag).toBe('ValidationError')
        if (isDbError(e, 'ValidationError')) expect(e.issues.map((i) => [i.path, i.rule])).toEqual([['amount', 'decimal(12,2)']])
      }
      const float = await fails(A.Line.create(d, { invoiceId: inv.id, description: 'float', amount: (0.1 + 0.2) as unknown as string }))
      expect(isDbError(float, 'ValidationError') && float.issues[0].message).toContain('give the amount as text')
      expect(await ok(pipe(A.Line.query, A.Line.count(d)))).toBe(amounts.length)
      // A value written past the model (raw SQL) that the column cannot hold is the engine's typed error, or on SQLite
      // (which keeps it) a DecodeError when it is read: never a rounded value.
      const raw = await d.execute(sql`UPDATE ${sql.id(`${P}lines`)} SET amount = ${'0.125'} WHERE description = ${'line 0'}`)()
      if (engine.name === 'sqlite') {
        expect(raw._tag).toBe('Right')
        expect((await fails(pipe(A.Line.query, A.Line.pluck(d, 'amount'))))._tag).toBe('DecodeError')
      } else {
        // PostgreSQL and MariaDB round it to the column's scale on their own.
        expect(raw._tag).toBe('Right')
        expect(await ok(pipe(A.Line.query, A.Line.where('description', '=', 'line 0'), A.Line.pluck(d, 'amount')))).toEqual(['0.13'])
      }
      const over = await d.execute(sql`UPDATE ${sql.id(`${P}lines`)} SET amount = ${'12345678901.00'} WHERE description = ${'line 0'}`)()
      if (engine.name === 'sqlite') expect(over._tag).toBe('Right')
      else expect(over._tag === 'Left' && over.left._tag).toBe('ValueTooLarge')
    })

    it('rounding: tax at 7.5% and halves rounded away from zero in SQL, as the engines round a DECIMAL', async (ctx) => {
      const d = use(ctx)
      const { A } = await fresh(d)
      const inv = await ok(A.Invoice.create(d, { number: 'INV-R', customer: 'Zed', issuedAt: new Date(), dueOn: '2026-02-01' }))
      const amounts = ['2.67', '1.00', '-2.67', '0.10', '33.33', '1.34']
      await ok(A.Line.createMany(d, amounts.map((amount, i) => ({ invoiceId: inv.id, description: `r${i}`, amount }))))
      const rate = cast(val('0.075'), 'decimal(6,3)')
      const taxed = await ok(d.all(pipe(
        from(`${P}lines`),
        select({ amount: readAs('amount', 'decimal'), tax: cast(mul('amount', rate), 'decimal(12,2)'), half: cast(mul('amount', cast(val('0.5'), 'decimal(3,1)')), 'decimal(12,2)') }),
        where(eq('invoice_id', inv.id)),
        orderBy('id'),
      )))
      // 2.67 * 0.075 = 0.20025, 33.33 * 0.075 = 2.49975, 1.34 * 0.5 = 0.67, 2.67 * 0.5 = 1.335 (a half: 1.34), -1.335 is -1.34.
      expect(taxed.map((r) => [r.amount, r.tax, r.half])).toEqual([
        ['2.67', '0.2', '1.34'], ['1', '0.08', '0.5'], ['-2.67', '-0.2', '-1.34'], ['0.1', '0.01', '0.05'], ['33.33', '2.5', '16.67'], ['1.34', '0.1', '0.67'],
      ])
      // Literal halves: 2.675 and 1.005 are 2.68 and 1.01 (their nearest doubles are just below the half).
      const halves = await ok(d.all(pipe(from(`${P}tenants`), select({ a: cast(val('2.675'), 'decimal(12,2)'), b: cast(val('1.005'), 'decimal(12,2)'), c: cast(val('-0.125'), 'decimal(12,2)') }), limit(1))))
      expect(halves).toEqual([{ a: '2.68', b: '1.01', c: '-0.13' }])
    })

    it('posting an invoice: one transaction, a savepoint per line, the total by SUM in SQL, a balanced entry', async (ctx) => {
      const d = use(ctx)
      const { A, accounts } = await fresh(d)
      const issuedAt = new Date('2026-01-15T10:00:00.000Z')
      const wanted = [['Design', '1200.00'], ['Too precise', '10.005'], ['Hosting', '49.99'], ['Duplicate id', 'dup'], ['Support', '0.01']] as const
      const posted = await done(d.transaction((tx) => pipe(
        A.Invoice.create(tx, { number: 'INV-100', customer: 'Initech', issuedAt, dueOn: '2026-02-14' }),
        TE.chainW((invoice) => pipe(
          wanted,
          TE.traverseSeqArray(([description, amount]) => pipe(
            tx.savepoint(`line_${description.replace(/\W/g, '_')}`, (sp) => amount === 'dup'
              ? pipe(A.Line.create(sp, { invoiceId: invoice.id, description, amount: '5.00' }), TE.chainW((l) => A.Line.create(sp, { id: l.id, invoiceId: invoice.id, description, amount: '5.00' })))
              : A.Line.create(sp, { invoiceId: invoice.id, description, amount })),
            TE.map((l) => ({ description, ok: true as const, amount: l.amount })),
            TE.orElseW((e: DbError) => TE.right({ description, ok: false as const, error: e._tag })),
          )),
          TE.chainW((outcome) => pipe(
            A.Line.query, A.Line.where('invoiceId', '=', invoice.id), A.Line.sum(tx, 'amount'),
            TE.chainW((total) => A.Invoice.update(tx, invoice, { total: total ?? '0.00', status: 'posted' })),
            TE.chainW((inv) => pipe(
              postEntry(A, tx, `invoice ${inv.number}`, issuedAt, [{ accountId: accounts.ar.id, amount: inv.total }, { accountId: accounts.revenue.id, amount: `-${inv.total}` }]),
              TE.map(() => ({ inv, outcome })),
            )),
          )),
        )),
      )))
      expect(posted.outcome.map((o) => [o.description, o.ok ? o.amount : o.error])).toEqual([
        ['Design', '1200.00'], ['Too precise', 'ValidationError'], ['Hosting', '49.99'], ['Duplicate id', 'UniqueViolation'], ['Support', '0.01'],
      ])
      const jsTotal = fromCents(posted.outcome.flatMap((o) => (o.ok ? [cents(o.amount)] : [])).reduce((a, b) => a + b, 0n))
      expect([posted.inv.total, jsTotal]).toEqual(['1250.00', '1250.00'])
      expect(posted.inv.status).toBe('posted')
      // The duplicate's savepoint took its first line with it.
      expect(await ok(pipe(A.Line.query, A.Line.orderBy('id'), A.Line.pluck(d, 'description')))).toEqual(['Design', 'Hosting', 'Support'])
      // Every entry balances: no entry has a non-zero sum of postings.
      const perEntry = await ok(pipe(A.Posting.query, A.Posting.groupBy('entryId'), A.Posting.aggregate(d, (a) => ({ n: a.count(), total: a.sum('amount') }))))
      expect(perEntry.map((e) => [e.n, e.total])).toEqual([[2, '0.00']])
      // An entry split three ways, whose sum SQLite computes in doubles as 2.8e-17.
      await done(postEntry(A, d, 'split', issuedAt, [{ accountId: accounts.cash.id, amount: '0.10' }, { accountId: accounts.cash.id, amount: '0.20' }, { accountId: accounts.revenue.id, amount: '-0.30' }]))
      // The same in SQL: the groups whose sum is not zero (SQLite compared its sum, a number, with the text '0.00').
      const unbalanced = (total: string) => ok(pipe(A.Posting.query, A.Posting.groupBy('entryId'), A.Posting.having((a) => a.sum('amount'), '<>', total), A.Posting.count(d)))
      expect([await unbalanced('0.00'), await unbalanced('0'), await unbalanced('1250.00')]).toEqual([0, 0, 2])
      const big = (total: string) => ok(pipe(A.Posting.query, A.Posting.groupBy('accountId'), A.Posting.having((a) => a.max('amount'), '>=', total), A.Posting.count(d)))
      expect([await big('1250.00'), await big('1250.01'), await big('-1250.00')]).toEqual([1, 0, 3])
      // An entry that does not balance is refused, nothing of it kept.
      const bad = await postEntry(A, d, 'typo', issuedAt, [{ accountId: accounts.cash.id, amount: '10.00' }, { accountId: accounts.revenue.id, amount: '-1.00' }])()
      expect(bad._tag === 'Left' && bad.left).toEqual({ _tag: 'Unbalanced', entry: 'typo', total: '9.00' })
      expect(await ok(pipe(A.Entry.query, A.Entry.count(d)))).toBe(2)
      expect(await ok(pipe(A.Posting.query, A.Posting.count(d)))).toBe(5)
    })

    /** Records a payment: the invoice locked (PostgreSQL, MariaDB) or version-checked, the payment refused past the balance. */
    const pay = (L: Ledger, d: Backend, invoiceId: number, amount: string, key: string, lock: boolean) => d.transaction((tx) => pipe(
      lock ? pipe(L.Invoice.query, L.Invoice.where('id', '=', invoiceId), L.Invoice.forUpdate(), L.Invoice.firstOrFail(tx)) : L.Invoice.findOrFail(tx, invoiceId),
      TE.chainW((inv): TE.TaskEither<DbError | { readonly _tag: 'Overpaid'; readonly invoice: string; readonly balance: string }, unknown> => {
        const paid = cents(inv.paid) + cents(amount)
        if (paid > cents(inv.total)) return TE.left({ _tag: 'Overpaid' as const, invoice: inv.number, balance: fromCents(cents(inv.total) - cents(inv.paid)) })
        return pipe(
          L.Payment.create(tx, { invoiceId, amount, idempotencyKey: key, receivedAt: new Date() }),
          TE.chainW(() => L.Invoice.update(tx, inv, { paid: fromCents(paid), status: paid === cents(inv.total) ? 'paid' : inv.status })),
        )
      }),
    ))

    it('two payments of one invoice at once: one is taken, the other is refused, by a row lock or by the version', async (ctx) => {
      const d = use(ctx)
      const { A } = await fresh(d)
      const invoice = await ok(A.Invoice.create(d, { number: 'INV-7', customer: 'Hooli', issuedAt: new Date(), dueOn: '2026-03-01', total: '100.00', status: 'posted' }))
      const outcomes = async (lock: boolean, keys: [string, string]) => {
        const both = await Promise.all([pay(A, d, invoice.id, '60.00', keys[0], lock)(), pay(A, d, invoice.id, '60.00', keys[1], lock)()])
        return both.map((r) => (r._tag === 'Right' ? 'paid' : r.left._tag)).sort()
      }
      if (engine.name === 'sqlite') {
        // SQLite has no row locks: a typed error, before anything runs.
        expect((await fails(pipe(A.Invoice.query, A.Invoice.forUpdate(), A.Invoice.all(d))))._tag).toBe('UnsupportedFeature')
      } else {
        // The second waits for the first's lock, then reads the paid amount and is refused.
        expect(await outcomes(true, ['k1', 'k2'])).toEqual(['Overpaid', 'paid'])
        await ok(A.Payment.deleteWhere(d, { invoiceId: invoice.id }))
        await ok(A.Invoice.updateWhere(d, { id: invoice.id }, { paid: '0.00' }))
      }
      // Without the lock, the optimistic lock's version lets one writer through; the other read a copy that is stale by the
      // time it writes (ConflictError), or, on SQLite where transactions take turns, the paid amount (Overpaid). On MariaDB
      // each INSERT of a payment holds a shared lock on the invoice it refers to, so the two updates may meet as a
      // Deadlock instead: a typed error, the loser rolled back whole.
      const [first, second] = await outcomes(false, ['k3', 'k4'])
      expect(second).toBe('paid')
      expect(['ConflictError', 'Overpaid', 'Deadlock']).toContain(first)
      const after = await ok(A.Invoice.findOrFail(d, invoice.id))
      expect(after.paid).toBe('60.00')
      expect(await ok(pipe(A.Payment.query, A.Payment.where('invoiceId', '=', invoice.id), A.Payment.sum(d, 'amount')))).toBe('60.00')
    })

    it('a paid amount moved in the database by exact steps: increment by decimal text, never rounded', async (ctx) => {
      const d = use(ctx)
      const { A } = await fresh(d)
      let inv = await ok(A.Invoice.create(d, { number: 'INV-I', customer: 'Zed', issuedAt: new Date(), dueOn: '2026-02-01', total: '1.00' }))
      for (const step of ['0.10', '0.20', '0.05']) inv = await ok(A.Invoice.increment(d, inv, 'paid', step))
      expect([inv.paid, inv.version]).toEqual(['0.35', 4])
      inv = await ok(A.Invoice.decrement(d, inv, 'paid', '0.15'))
      expect(inv.paid).toBe('0.20')
      // A step finer than the column keeps would be rounded away by the engine (or kept by SQLite): refused, naming the field.
      for (const bad of ['0.001', 0.001, 'ten']) {
        const e = await fails(A.Invoice.increment(d, inv, 'paid', bad as string))
        expect(isDbError(e, 'ValidationError') && e.issues.map((i) => i.path)).toEqual(['paid'])
      }
      expect(await ok(A.Invoice.incrementWhere(d, { id: inv.id }, 'paid', '0.80'))).toBe(1)
      expect((await ok(A.Invoice.findOrFail(d, inv.id))).paid).toBe('1.00')
    })

    it('a retried payment posts once: the idempotency key under a unique index', async (ctx) => {
      const d = use(ctx)
      const { A, B } = await fresh(d)
      const invoice = await ok(A.Invoice.create(d, { number: 'INV-9', customer: 'Hooli', issuedAt: new Date(), dueOn: '2026-03-01', total: '100.00', status: 'posted' }))
      const attempt = { invoiceId: invoice.id, amount: '25.00', idempotencyKey: 'req-42', receivedAt: new Date() }
      expect(await ok(A.Payment.createMany(d, [attempt], { onConflict: 'ignore' }))).toHaveLength(1)
      expect(await ok(A.Payment.createMany(d, [attempt, { ...attempt, idempotencyKey: 'req-43' }], { onConflict: 'ignore' }))).toHaveLength(1)
      // upsert on the key: the stored payment comes back, nothing is changed.
      const again = await ok(A.Payment.upsert(d, { ...attempt, amount: '99.00' }, { conflict: ['tenantId', 'idempotencyKey'], update: ['idempotencyKey'] }))
      expect(again.amount).toBe('25.00')
      // upsert that updates nothing on a conflict: the stored payment, as it was.
      const kept = await ok(A.Payment.upsert(d, { ...attempt, amount: '98.00' }, { conflict: ['tenantId', 'idempotencyKey'], update: [] }))
      expect([kept.id, kept.amount]).toEqual([again.id, '25.00'])
      // findOrCreate by the key, twice at once: one payment, both see it.
      const both = await Promise.all([1, 2].map(() => ok(A.Payment.findOrCreate(d, { idempotencyKey: 'req-44' }, { invoiceId: invoice.id, amount: '5.00', receivedAt: new Date() }))))
      expect(both.map((r) => r.row.id)).toEqual([both[0].row.id, both[0].row.id])
      expect(both.filter((r) => r.created)).toHaveLength(1)
      // A plain create of the same key is the index's typed error, naming the table and its columns.
      const dup = await fails(A.Payment.create(d, attempt))
      expect(dup._tag).toBe('UniqueViolation')
      if (isDbError(dup, 'UniqueViolation')) {
        expect(dup.table).toBe(`${P}payments`)
        expect([...(dup.columns ?? [])].sort()).toEqual(['idempotency_key', 'tenant_id'])
      }
      // Keys are per tenant: another tenant's payment with the same key is its own (an invoice of its own too).
      const theirs = await ok(B.Invoice.create(d, { number: 'INV-9', customer: 'Pied Piper', issuedAt: new Date(), dueOn: '2026-03-01' }))
      expect(await ok(B.Payment.createMany(d, [{ ...attempt, invoiceId: theirs.id }], { onConflict: 'ignore' }))).toHaveLength(1)
      expect(await ok(pipe(A.Payment.query, A.Payment.sum(d, 'amount')))).toBe('55.00')
    })

    it('tenants are isolated: every read and write of a tenant\'s models sees its own rows alone', async (ctx) => {
      const d = use(ctx)
      const { A, B, bolt } = await fresh(d)
      const mine = await ok(A.Invoice.create(d, { number: 'INV-1', customer: 'Zed', issuedAt: new Date(), dueOn: '2026-02-01' }))
      await ok(B.Invoice.create(d, { number: 'INV-1', customer: 'Other', issuedAt: new Date(), dueOn: '2026-02-01' }))
      expect(await ok(pipe(A.Invoice.query, A.Invoice.pluck(d, 'customer')))).toEqual(['Zed'])
      expect(await ok(pipe(A.Account.query, A.Account.count(d)))).toBe(3)
      expect((await fails(B.Invoice.findOrFail(d, mine.id)))._tag).toBe('NotFound')
      // Every other read by key or by row is the tenant's too.
      expect((await fails(B.Invoice.refresh(d, mine)))._tag).toBe('NotFound')
      expect((await fails(B.Invoice.findMany(d, [mine.id])))._tag).toBe('NotFound')
      expect((await ok(B.Invoice.inBulk(d, [mine.id]))).size).toBe(0)
      expect(await ok(pipe(B.Invoice.related(mine, 'payments'), B.Payment.count(d)))).toBe(0)
      expect((await ok(B.Invoice.load(d, [mine], 'lines')))[0].lines).toEqual([])
      // Another tenant's row is not there for B's models: NotFound, as for a row that is not there.
      expect((await fails(B.Invoice.update(d, mine, { customer: 'Stolen' })))._tag).toBe('NotFound')
      expect(await ok(B.Invoice.updateWhere(d, { number: 'INV-1' }, { customer: 'Renamed' }))).toBe(1)
      expect((await ok(A.Invoice.findOrFail(d, mine.id))).customer).toBe('Zed')
      expect(await ok(B.Invoice.deleteWhere(d, { id: mine.id }))).toBe(0)
      // Deleting for good and restoring see past the soft deletion, never past the tenant: the guard refuses the delete
      // (ConflictError, as for a stale version), and restore, which sees rows as withDeleted does, finds none.
      expect((await fails(B.Invoice.delete(d, mine, { force: true })))._tag).toBe('ConflictError')
      const voided = await ok(A.Invoice.delete(d, mine))
      expect((await fails(B.Invoice.restore(d, voided)))._tag).toBe('NotFound')
      const restored = await ok(A.Invoice.restore(d, voided))
      expect(restored.voidedAt).toBeNull()
      expect(await ok(pipe(A.Invoice.query, A.Invoice.count(d)))).toBe(1)
      // An upsert on another tenant's key neither takes nor changes its row.
      // (It updated the row, moving it to the other tenant, and read it back.) The key is taken, as create would find it.
      const hijack = { id: mine.id, number: 'INV-7', customer: 'Hijack', issuedAt: new Date(), dueOn: '2026-02-01' }
      const taken = await fails(B.Invoice.upsert(d, hijack))
      expect(isDbError(taken, 'UniqueViolation') && [taken.table, taken.fields]).toEqual([`${P}invoices`, ['id']])
      expect((await fails(B.Invoice.upsert(d, hijack, { update: [] })))._tag).toBe('UniqueViolation')
      expect((await fails(B.Invoice.upsertMany(d, [{ ...hijack, id: mine.id + 1000, number: 'INV-8' }, hijack])))._tag).toBe('UniqueViolation')
      expect(await ok(pipe(A.Invoice.query, A.Invoice.pluck(d, 'customer')))).toEqual(['Zed'])
      expect(await ok(pipe(B.Invoice.query, B.Invoice.pluck(d, 'number')))).toEqual(['INV-1'])
      const found = await B.Invoice.findOrCreate(d, { id: mine.id }, { number: 'INV-9', customer: 'Hijack', issuedAt: new Date(), dueOn: '2026-02-01' })()
      expect(found._tag === 'Left' ? found.left._tag : `found ${JSON.stringify(found.right)}`).toBe('UniqueViolation')
      const updated = await B.Invoice.updateOrCreate(d, { id: mine.id }, { number: 'INV-9', customer: 'Hijack', issuedAt: new Date(), dueOn: '2026-02-01' })()
      expect(updated._tag === 'Left' ? updated.left._tag : `wrote ${JSON.stringify(updated.right)}`).toBe('UniqueViolation')
      // Its own rows it upserts as before.
      const own = await ok(B.Invoice.upsert(d, { number: 'INV-1', customer: 'Other, renamed', issuedAt: new Date(), dueOn: '2026-02-01' }, { conflict: ['tenantId', 'number'] }))
      expect([own.customer, own.tenantId]).toEqual(['Other, renamed', bolt.id])
      // A row of another tenant is refused before anything is written.
      const foreign = await fails(A.Invoice.create(d, { tenantId: bolt.id, number: 'INV-2', customer: 'Sneaky', issuedAt: new Date(), dueOn: '2026-02-01' }))
      expect(foreign._tag).toBe('HookError')
      // A duplicate number within a tenant is a ValidationError-free UniqueViolation naming its fields.
      const dup = await fails(A.Invoice.create(d, { number: 'INV-1', customer: 'Again', issuedAt: new Date(), dueOn: '2026-02-01' }))
      expect(isDbError(dup, 'UniqueViolation') && [...(dup.fields ?? [])].sort()).toEqual(['number', 'tenantId'])
      // Validation names each field.
      const invalid = await fails(A.Invoice.create(d, { number: 'INV-3', customer: 'Bad', issuedAt: new Date(), dueOn: '2026-02-30', total: '1.999', status: 'sent' as 'draft' }))
      expect(isDbError(invalid, 'ValidationError') && invalid.issues.map((i) => i.path).sort()).toEqual(['dueOn', 'status', 'total'])
    })

    it('an invoice page: its lines and payments, what was paid and what is owed, in SQL', async (ctx) => {
      const d = use(ctx)
      const { A, B } = await fresh(d)
      const [inv, other] = await ok(A.Invoice.createMany(d, [
        { number: 'INV-1', customer: 'Zed', issuedAt: new Date(), dueOn: '2026-02-01', total: '0.30' },
        { number: 'INV-2', customer: 'Zed', issuedAt: new Date(), dueOn: '2026-02-01', total: '5.00' },
      ]))
      await ok(A.Line.createMany(d, [{ invoiceId: inv.id, description: 'a', amount: '0.10' }, { invoiceId: inv.id, description: 'b', amount: '0.20' }]))
      await ok(A.Payment.createMany(d, [
        { invoiceId: inv.id, amount: '0.10', idempotencyKey: 'p1', receivedAt: new Date() },
        { invoiceId: inv.id, amount: '0.20', idempotencyKey: 'p2', receivedAt: new Date() },
        { invoiceId: other.id, amount: '1.00', idempotencyKey: 'p3', receivedAt: new Date() },
      ]))
      // Another tenant's invoice and payment, with the same number and key, are not this tenant's.
      const theirs = await ok(B.Invoice.create(d, { number: 'INV-1', customer: 'Other', issuedAt: new Date(), dueOn: '2026-02-01' }))
      await ok(B.Payment.create(d, { invoiceId: theirs.id, amount: '9.99', idempotencyKey: 'p1', receivedAt: new Date() }))
      const owed = A.Invoice.computed('owed', decimalOf(12, 2), sql`${A.Invoice.column('total')} - (SELECT COALESCE(SUM(p.amount), 0) FROM ${sql.id(`${P}payments`)} p WHERE p.invoice_id = ${A.Invoice.column('id')})`)
      const page = await ok(pipe(
        A.Invoice.query,
        A.Invoice.include('lines', (q, L) => pipe(q, L.orderBy('id'))),
        A.Invoice.include('payments'),
        A.Invoice.withSum('payments', 'amount'),
        A.Invoice.withCount('lines'),
        owed,
        A.Invoice.orderBy('number'),
        A.Invoice.all(d),
      ))
      expect(page.map((i) => [i.number, i.linesCount, i.lines.map((l) => l.amount), i.payments.length, i.paymentsSumAmount, i.owed])).toEqual([
        ['INV-1', 2, ['0.10', '0.20'], 2, '0.30', '0.00'], ['INV-2', 0, [], 1, '1.00', '4.00'],
      ])
      // The invoices still owed, and those paid in full, by their computed columns (0.30 - 0.10 - 0.20 is 0 on every engine).
      const owing = (op: '>' | '=', amount: string) => ok(pipe(A.Invoice.query, owed, A.Invoice.where('owed', op, amount), A.Invoice.pluck(d, 'number')))
      expect([await owing('>', '0.00'), await owing('=', '0.00'), await owing('=', '4')]).toEqual([['INV-2'], ['INV-1'], ['INV-2']])
      const paidInFull = await ok(pipe(A.Invoice.query, A.Invoice.withSum('payments', 'amount'), A.Invoice.where('paymentsSumAmount', '=', '0.30'), A.Invoice.pluck(d, 'number')))
      expect(paidInFull).toEqual(['INV-1'])
    })

    it('voided invoices are hidden by default and shown on demand', async (ctx) => {
      const d = use(ctx)
      const { A } = await fresh(d)
      const [keep, scrap] = await ok(A.Invoice.createMany(d, [
        { number: 'INV-1', customer: 'Zed', issuedAt: new Date(), dueOn: '2026-02-01', total: '10.00' },
        { number: 'INV-2', customer: 'Zed', issuedAt: new Date(), dueOn: '2026-02-01', total: '20.00' },
      ]))
      const voided = await ok(A.Invoice.delete(d, scrap))
      expect(voided.voidedAt).toBeInstanceOf(Date)
      expect(await ok(pipe(A.Invoice.query, A.Invoice.pluck(d, 'number')))).toEqual([keep.number])
      expect(await ok(pipe(A.Invoice.query, A.Invoice.sum(d, 'total')))).toBe('10.00')
      expect(await ok(pipe(A.Invoice.query, withDeleted, A.Invoice.orderBy('number'), A.Invoice.pluck(d, 'number')))).toEqual(['INV-1', 'INV-2'])
      expect(await ok(pipe(A.Invoice.query, withDeleted, A.Invoice.sum(d, 'total')))).toBe('30.00')
    })

    it('reports: revenue per month and tenant, running balances, aging buckets, top customers, cursor pages', async (ctx) => {
      const d = use(ctx)
      const { A, B, acme, bolt, accounts } = await fresh(d)
      const inv = (L: Ledger, n: number, customer: string, issuedAt: string, dueOn: string, total: string, paid = '0.00') =>
        ok(L.Invoice.create(d, { number: `INV-${n}`, customer, issuedAt: new Date(issuedAt), dueOn, total, paid, status: 'posted' }))
      // 23:30 in New York on 31 January is 04:30 UTC on 1 February: a February invoice in UTC.
      await inv(A, 1, 'Initech', '2026-01-05T09:00:00Z', '2026-01-20', '100.10')
      await inv(A, 2, 'Hooli', '2026-01-31T23:30:00-05:00', '2026-03-02', '0.20', '0.20')
      await inv(A, 3, 'Initech', '2026-02-10T12:00:00Z', '2026-02-25', '0.10')
      await inv(A, 4, 'Umbrella', '2026-03-01T00:00:00Z', '2026-03-31', '5000.00', '1000.00')
      await inv(B, 1, 'Wayne', '2026-01-10T00:00:00Z', '2025-11-15', '999.99')
      await inv(B, 2, 'Stark', '2026-01-11T00:00:00Z', '2026-02-28', '1.00')
      const scrapped = await inv(A, 5, 'Hooli', '2026-01-06T00:00:00Z', '2026-02-01', '77.00')
      await ok(A.Invoice.delete(d, scrapped))

      const invoices = `${P}invoices`
      const month = dateTrunc('month', 'issued_at')
      const monthly = await ok(d.all(pipe(
        from(invoices),
        select({ tenant: col('tenant_id'), month, revenue: sum('total', { exact: true }) }),
        where(isNull('voided_at')),
        groupBy('tenant_id', month),
        orderBy('tenant_id'),
        orderBy('month'),
      )))
      expect(monthly.map((r) => [r.tenant === acme.id ? 'acme' : 'bolt', (r.month as Date).toISOString().slice(0, 7), r.revenue])).toEqual([
        ['acme', '2026-01', '100.1'], ['acme', '2026-02', '0.3'], ['acme', '2026-03', '5000'], ['bolt', '2026-01', '1000.99'],
      ])

      // The same months in New York (UTC-5 all winter): each time moved by the offset, then truncated. Hooli's invoice is
      // January's there, and
      // Umbrella's of midnight UTC on 1 March is February's.
      const nyMonth = dateTrunc('month', dateAdd('issued_at', -5, 'hour'))
      const monthlyNy = await ok(d.all(pipe(
        from(invoices),
        select({ month: nyMonth, revenue: sum('total', { exact: true }) }),
        where(and(isNull('voided_at'), eq('tenant_id', acme.id))),
        groupBy(nyMonth),
        orderBy('month'),
      )))
      expect(monthlyNy.map((r) => [(r.month as Date).toISOString().slice(0, 10), r.revenue])).toEqual([
        ['2026-01-01', '100.3'], ['2026-02-01', '5000.1'],
      ])

      // Running balance of Acme's receivables: each posting with the balance after it, by a window function.
      for (const [memo, amount] of [['one', '100.10'], ['two', '0.20'], ['three', '-0.30']] as const) {
        await done(postEntry(A, d, memo, new Date('2026-02-01T00:00:00Z'), [{ accountId: accounts.ar.id, amount }, { accountId: accounts.revenue.id, amount: `-${amount}`.replace('--', '') }]))
      }
      const running = await ok(d.all(pipe(
        from(`${P}postings`),
        select({ id: col('id'), amount: col('amount'), balance: over(sum('amount', { exact: true }), { partitionBy: ['account_id'], orderBy: [asc('id')] }) }),
        where(and(eq(col('account_id'), accounts.ar.id), eq(col('tenant_id'), acme.id))),
        orderBy('id'),
      )))
      expect(running.map((r) => r.balance)).toEqual(['100.1', '100.3', '100'])

      // Aging of what is still owed, as of 2026-03-15, in buckets by CASE.
      const asOf = '2026-03-15'
      const owed = sub('total', col('paid'))
      const bucket = caseWhen([
        [lte('due_on', '2025-12-15'), '90+'],
        [lte('due_on', '2026-01-14'), '61-90'],
        [lte('due_on', '2026-02-13'), '31-60'],
        [lt('due_on', asOf), '1-30'],
      ], 'current')
      const aging = await ok(d.all(pipe(
        from(invoices),
        select({ tenant: col('tenant_id'), bucket, owed: sum(owed, { exact: true }) }),
        where(and(isNull('voided_at'), lt(col('paid'), col('total')))),
        groupBy('tenant_id', bucket),
        orderBy('tenant_id'),
        orderBy('bucket'),
      )))
      expect(aging.map((r) => [r.tenant === acme.id ? 'acme' : 'bolt', r.bucket, r.owed])).toEqual([
        ['acme', '1-30', '0.1'], ['acme', '31-60', '100.1'], ['acme', 'current', '4000'], ['bolt', '1-30', '1'], ['bolt', '90+', '999.99'],
      ])

      // The top customer of each tenant by what was invoiced: ROW_NUMBER over a grouped derived table.
      const perCustomer = pipe(
        from(invoices),
        select({ tenant: col('tenant_id'), customer: col('customer'), invoiced: sum('total', { exact: true }) }),
        where(isNull('voided_at')),
        groupBy('tenant_id', 'customer'),
      )
      const ranked = pipe(
        from(derived(perCustomer, 'c')),
        select('c.tenant', 'c.customer', 'c.invoiced', as(over(rowNumber(), { partitionBy: ['c.tenant'], orderBy: [desc('c.invoiced'), asc('c.customer')] }), 'place')),
      )
      const top = await ok(d.all(pipe(from(derived(ranked, 'r')), where(lte('place', 1)), orderBy('tenant'))))
      expect(top.map((r) => [r.tenant === bolt.id ? 'bolt' : 'acme', r.customer, r.place])).toEqual([['acme', 'Umbrella', 1], ['bolt', 'Wayne', 1]])

      // Cursor pages over Acme's invoices, newest first by (issuedAt, id), two a page.
      const page = (after?: { issuedAt: Date; id: number }) => ok(pipe(
        A.Invoice.query,
        after === undefined ? (q) => q : A.Invoice.where(A.Invoice.or(A.Invoice.cond('issuedAt', '<', after.issuedAt),
          A.Invoice.and(A.Invoice.cond('issuedAt', '=', after.issuedAt), A.Invoice.cond('id', '<', after.id)))),
        A.Invoice.orderBy('issuedAt', 'desc'), A.Invoice.orderBy('id', 'desc'), A.Invoice.limit(2), A.Invoice.all(d),
      ))
      const seen: string[] = []
      let last: { issuedAt: Date; id: number } | undefined
      for (;;) {
        const rows = await page(last)
        seen.push(...rows.map((r) => r.number))
        if (rows.length < 2) break
        last = rows[rows.length - 1]
      }
      expect(seen).toEqual(['INV-4', 'INV-3', 'INV-2', 'INV-1'])
      // The same pages with the query builder's row values: (issued_at, id) < (the last row's), newest first.
      const rawPage = (after?: { issued_at: Date; id: number }) => ok(d.all<{ id: number; number: string; issued_at: Date }>(pipe(
        from(invoices),
        select('id', 'number', readAs('issued_at', 'date')),
        where(and(eq('tenant_id', acme.id), isNull('voided_at'), ...(after === undefined ? [] : [lt(tuple('issued_at', 'id'), tuple(val(after.issued_at), val(after.id)))]))),
        orderBy('issued_at', 'desc'),
        orderBy('id', 'desc'),
        limit(3),
      )))
      const first = await rawPage()
      const second = await rawPage(first[first.length - 1])
      expect([...first, ...second].map((r) => r.number)).toEqual(['INV-4', 'INV-3', 'INV-2', 'INV-1'])
      // And the same through the model: revenue per month of Acme's unvoided invoices, with the tenant scope.
      const perStatus = await ok(pipe(A.Invoice.query, A.Invoice.groupBy('status'), A.Invoice.aggregate(d, (a) => ({ n: a.count(), total: a.sum('total') }))))
      expect(perStatus).toEqual([{ status: 'posted', n: 4, total: '5100.40' }])
    })
  })
}

describe('grouping by a CASE of bound values, and exact sums', () => {
  it('an expression both selected and grouped by, holding bound values, is grouped by its position on every engine', async () => {
    const db = await run(createBackend('sqlite::memory:'))
    const size = caseWhen([[lt('n', 10), 'small']], 'large')
    const q = pipe(from('t'), select({ size, k: sum('n', { exact: true }) }), groupBy(size), orderBy('size'))
    for (const dialect of [db.dialect, (await import('recordkit/dialects/postgres')).postgres, (await import('recordkit/dialects/mysql')).mariadb]) {
      const c = dialect.compile(q)
      expect(c._tag === 'Right' && c.right.sql).toMatch(/GROUP BY 1 ORDER BY/)
    }
    await run(db.execute(sql`CREATE TABLE t (n DECIMAL(12,2))`))
    await run(db.execute(sql`INSERT INTO t VALUES (0.1), (0.2), (20)`))
    expect(await run(db.all(q))).toEqual([{ size: 'large', k: '20' }, { size: 'small', k: '0.3' }])
    // SQLite adds decimals in doubles: an exact sum reads the 15 significant digits a DECIMAL keeps there.
    expect(await run(db.all(pipe(from('t'), select({ s: sum('n', { exact: true }) }), where(lt('n', 1)))))).toEqual([{ s: '0.3' }])
    await run(db.close())
  })
})

describe('the ledger\'s money type-checks as a new user expects', () => {
  it('amounts are text where the models take them; a number does not compile', () => {
    const L = ledgerOf(1)
    const row = { id: 1, tenantId: 1, number: 'INV-1', customer: 'Zed', issuedAt: new Date(), dueOn: '2026-02-01', status: 'draft', total: '1.00', paid: '0.00', version: 1, createdAt: new Date(), updatedAt: new Date(), voidedAt: null } as const
    const calls = (d: Backend) => [
      L.Line.create(d, { invoiceId: 1, description: 'x', amount: '0.30' }),
      // @ts-expect-error a number is no exact amount
      L.Line.create(d, { invoiceId: 1, description: 'x', amount: 0.3 }),
      pipe(L.Line.query, L.Line.where('amount', '>', '5.00'), L.Line.count(d)),
      // @ts-expect-error the same in a condition
      pipe(L.Line.query, L.Line.where('amount', '>', 5), L.Line.count(d)),
      L.Invoice.increment(d, row, 'paid', '0.10'),
      // @ts-expect-error a text field does not move
      L.Invoice.increment(d, row, 'customer', 1),
      pipe(L.Posting.query, L.Posting.groupBy('entryId'), L.Posting.having((a) => a.sum('amount'), '<>', '0.00'), L.Posting.count(d)),
    ]
    expect(typeof calls).toBe('function')
  })

  it('decimalOf reads every engine\'s form as the same text and refuses what is not exact', () => {
    const c = decimalOf(12, 2)
    // SQLite's sums in doubles: 0.1 + 0.2 and 0.1 + 0.2 - 0.3 (2.7755575615628914e-17) are the decimals they stand for.
    expect(['0.1', '0.100', 10n, 10, '-0.00', 0.30000000000000004, 0.1 + 0.2 - 0.3, 0.3 - 0.1 - 0.2, '9999999999.99'].map((v) => c.decode(v)).map((r) => (r._tag === 'Right' ? r.right : 'no')))
      .toEqual(['0.10', '0.10', '10.00', '10.00', '0.00', '0.30', '0.00', '0.00', '9999999999.99'])
    expect([0.125, '0.125', '12345678901', '1e3', null, 0.121].map((v) => c.decode(v)._tag)).toEqual(['Left', 'Left', 'Left', 'Left', 'Left', 'Left'])
    expect(() => decimalOf(2, 3)).toThrow(TypeError)
    // A table from the codec takes the column's precision from it.
    const table = createTableFor(`${P}payouts`, t.type({ id: t.Int, amount: decimalOf(12, 2), fee: nullable(decimalOf(8, 4)) }), { primaryKey: 'id' })
    expect(table._tag === 'Right' && table.right.table.columns.map((c) => [c.name, c.type, c.notNull])).toEqual([['id', 'integer', true], ['amount', 'decimal(12,2)', true], ['fee', 'decimal(8,4)', false]])
  })
})
