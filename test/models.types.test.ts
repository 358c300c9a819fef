/**
 * Type-level guarantees of models, checked by `tsc` (npm test) and run as plain tests:
 * a wrong field or value type does not compile, results carry the codec's type, `select`
 * narrows, `include` adds typed relations, create input knows what the database fills.
 */
import { pipe } from 'fp-ts/lib/function.js'
import type { Option } from 'fp-ts/lib/Option.js'
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import { describe, expect, expectTypeOf, it } from 'vitest'
import { type Backend, compose, dbError, type DbError, sql } from 'recordkit'
import { sqlite } from 'recordkit/dialects/sqlite'
import { betterSqlite3 } from 'recordkit/drivers/better-sqlite3'
import { belongsTo, bool, date, decimal, hasMany, manyToMany, model, nullable, optimisticLock, relate, snakeCase, softDelete, timestamps, uuid, uuidPrimaryKey, withDeleted, type ModelQuery } from 'recordkit/model'
import * as TE from 'fp-ts/lib/TaskEither.js'

const Customer = model({
  table: 'customer',
  primaryKey: 'customerId',
  naming: snakeCase,
  codec: t.type({ customerId: t.number, firstName: t.string, email: t.string, country: nullable(t.string), vip: bool, supportRepId: nullable(t.number), createdAt: date, updatedAt: date }),
  behaviours: [timestamps()],
  relations: { invoices: hasMany('Invoice', 'customerId'), rep: belongsTo('Employee', 'supportRepId') },
  scopes: (q) => ({ vip: q.where('vip', '=', true), from: (country: string) => q.where('country', '=', country) }),
})
const Invoice = model({
  table: 'invoice',
  primaryKey: 'invoiceId',
  naming: snakeCase,
  codec: t.type({ invoiceId: t.number, customerId: t.number, total: decimal, deletedAt: nullable(date), version: t.number }),
  behaviours: [softDelete(), optimisticLock()],
  relations: { customer: belongsTo('Customer', 'customerId'), lines: hasMany('Line', 'invoiceId') },
})
const Line = model({
  table: 'invoice_line',
  primaryKey: ['invoiceId', 'trackId'],
  naming: snakeCase,
  codec: t.type({ invoiceId: t.number, trackId: t.number, quantity: t.number }),
  relations: { invoice: belongsTo('Invoice', 'invoiceId'), track: belongsTo('Track', 'trackId') },
})
const Track = model({
  table: 'track',
  primaryKey: 'trackId',
  naming: snakeCase,
  codec: t.type({ trackId: t.number, name: t.string }),
  relations: { playlists: manyToMany('Playlist', { through: 'playlist_track', from: 'track_id', to: 'playlist_id' }) },
})
const Playlist = model({ table: 'playlist', primaryKey: 'playlistId', naming: snakeCase, codec: t.type({ playlistId: t.number, name: t.string }) })
const Employee = model({
  table: 'employee',
  primaryKey: 'employeeId',
  naming: snakeCase,
  codec: t.type({ employeeId: t.number, name: t.string, reportsTo: nullable(t.number) }),
  relations: { manager: belongsTo('Employee', 'reportsTo'), reports: hasMany('Employee', 'reportsTo') },
})
const Session = model({ table: 'session', primaryKey: 'id', codec: t.type({ id: uuid, userId: t.number }), behaviours: [uuidPrimaryKey()] })

const C = relate({ Customer, Invoice, Line, Track, Playlist, Employee })

type CustomerRow = t.TypeOf<typeof Customer.codec>
type InvoiceRow = t.TypeOf<typeof Invoice.codec>
type LineRow = t.TypeOf<typeof Line.codec>
type TrackRow = t.TypeOf<typeof Track.codec>
type EmployeeRow = t.TypeOf<typeof Employee.codec>

type RowsOf<X> = X extends TaskEither<DbError, (infer R)[]> ? R : never

// Nothing here runs a query: TaskEithers are built, never run.
const db: Backend = compose(betterSqlite3({ filename: ':memory:' }), sqlite)
const customer = {} as CustomerRow
const employees: EmployeeRow[] = []
const c = {} as CustomerRow
const i = {} as InvoiceRow

describe('model types', () => {
  it('results carry the codec type', () => {
    expectTypeOf(Customer.find(db, 1)).toEqualTypeOf<TaskEither<DbError, Option<CustomerRow>>>()
    expectTypeOf(pipe(Customer.query, Customer.all(db))).toEqualTypeOf<TaskEither<DbError, CustomerRow[]>>()
    expectTypeOf(pipe(Customer.query, Customer.where('vip', '=', true), Customer.first(db))).toEqualTypeOf<TaskEither<DbError, Option<CustomerRow>>>()
    expectTypeOf(Customer.findOrFail(db, 1)).toEqualTypeOf<TaskEither<DbError, CustomerRow>>()
    expectTypeOf<CustomerRow['vip']>().toEqualTypeOf<boolean>()
    expectTypeOf<CustomerRow['createdAt']>().toEqualTypeOf<Date>()
    expectTypeOf<InvoiceRow['total']>().toEqualTypeOf<string>()
    expectTypeOf(pipe(Invoice.query, Invoice.sum(db, 'total'))).toEqualTypeOf<TaskEither<DbError, string | null>>()
    expectTypeOf(pipe(Customer.query, Customer.count(db))).toEqualTypeOf<TaskEither<DbError, number>>()
    expectTypeOf(pipe(Customer.query, Customer.pluck(db, 'email'))).toEqualTypeOf<TaskEither<DbError, string[]>>()
  })

  it('a wrong field name or value type does not compile', () => {
    pipe(Customer.query, Customer.where('country', '=', 'Brazil'))
    pipe(Customer.query, Customer.where('country', '=', null))
    pipe(Customer.query, Customer.where('customerId', 'in', [1, 2]))
    pipe(Customer.query, Customer.where({ country: 'Brazil', vip: true }))
    // @ts-expect-error: no such field
    pipe(Customer.query, Customer.where('nation', '=', 'Brazil'))
    // @ts-expect-error: customerId is a number
    pipe(Customer.query, Customer.where('customerId', '=', '1'))
    // @ts-expect-error: IN takes a list of the field's type
    pipe(Customer.query, Customer.where('customerId', 'in', ['1']))
    // @ts-expect-error: vip is a boolean
    pipe(Customer.query, Customer.where({ vip: 'yes' }))
    // @ts-expect-error: not an operator
    pipe(Customer.query, Customer.where('customerId', '===', 1))
    // @ts-expect-error: no such field to order by
    pipe(Customer.query, Customer.orderBy('nation'))
    // @ts-expect-error: a condition of another model
    pipe(Customer.query, Customer.where(Invoice.cond('total', '=', '1')))
    // @ts-expect-error: a transform of another model
    pipe(Customer.query, Invoice.where('total', '=', '1'))
    // @ts-expect-error: no such field to sum
    pipe(Customer.query, Customer.sum(db, 'nation'))
  })

  it('select narrows the result', () => {
    const q = pipe(Customer.query, Customer.select('firstName', 'email'))
    expectTypeOf(pipe(q, Customer.all(db))).toEqualTypeOf<TaskEither<DbError, Pick<CustomerRow, 'firstName' | 'email'>[]>>()
    // @ts-expect-error: not a field
    Customer.select('nation')
  })

  it('scopes are typed transforms', () => {
    expectTypeOf(pipe(Customer.query, Customer.scopes.vip, Customer.scopes.from('Brazil'))).toEqualTypeOf<ModelQuery<CustomerRow>>()
    // @ts-expect-error: the scope takes a string
    Customer.scopes.from(1)
  })

  it('batches and each carry the same row type as all (selection and relations included)', () => {
    const _batches = pipe(C.Customer.query, C.Customer.include('invoices'), C.Customer.batches(db, { size: 10 }))
    type Batch = typeof _batches extends AsyncIterable<infer B> ? B : never
    expectTypeOf<Batch[number]['invoices']>().toEqualTypeOf<InvoiceRow[]>()
    const each = pipe(Customer.query, Customer.select('firstName', 'email'), Customer.each(db))
    expectTypeOf(each).toEqualTypeOf<AsyncIterable<Pick<CustomerRow, 'firstName' | 'email'>>>()
  })

  it('include adds typed relations, nested paths included', () => {
    const _rows = pipe(C.Customer.query, C.Customer.include('invoices.lines.track'), C.Customer.all(db))
    type Row = typeof _rows extends TaskEither<DbError, (infer R)[]> ? R : never
    expectTypeOf<Row['invoices']>().branded.toEqualTypeOf<(InvoiceRow & { lines: (LineRow & { track: TrackRow })[] })[]>()
    expectTypeOf<Row['firstName']>().toEqualTypeOf<string>()

    const _two = pipe(C.Invoice.query, C.Invoice.include('lines.track'), C.Invoice.include('lines.invoice'), C.Invoice.include('customer'), C.Invoice.all(db))
    type Two = typeof _two extends TaskEither<DbError, (infer R)[]> ? R : never
    // NOT NULL foreign keys: the row, never null.
    expectTypeOf<Two['customer']>().toEqualTypeOf<CustomerRow>()
    expectTypeOf<Two['lines'][number]['track']>().toEqualTypeOf<TrackRow>()
    expectTypeOf<Two['lines'][number]['invoice']>().toEqualTypeOf<InvoiceRow>()

    const _self = pipe(C.Employee.query, C.Employee.include('manager.manager'), C.Employee.include('reports'), C.Employee.all(db))
    type Self = typeof _self extends TaskEither<DbError, (infer R)[]> ? R : never
    expectTypeOf<NonNullable<NonNullable<Self['manager']>['manager']>>().toEqualTypeOf<EmployeeRow>()
    expectTypeOf<Self['reports']>().toEqualTypeOf<EmployeeRow[]>()

    const m2m = pipe(C.Track.query, C.Track.include('playlists'), C.Track.all(db))
    expectTypeOf(m2m).branded.toEqualTypeOf<TaskEither<DbError, (TrackRow & { playlists: t.TypeOf<typeof Playlist.codec>[] })[]>>()

    // @ts-expect-error: no such relation
    C.Customer.include('orders')
    // @ts-expect-error: no such nested relation
    C.Customer.include('invoices.items')
    // @ts-expect-error: relations load once the models are related
    Customer.include('invoices')
  })

  it('relation modifiers get the target query and model', () => {
    C.Customer.include('invoices', (q, I) => {
      expectTypeOf(q).toEqualTypeOf<ModelQuery<InvoiceRow>>()
      return pipe(q, I.where('total', '>', '10'), I.orderBy('invoiceId', 'desc'), I.limit(3))
    })
    // @ts-expect-error: total is a decimal string
    C.Customer.include('invoices', (q, I) => pipe(q, I.where('total', '>', 10)))
  })

  it('lazy loading types the row it returns', () => {
    expectTypeOf(C.Customer.load(db, customer, 'invoices')).branded.toEqualTypeOf<TaskEither<DbError, CustomerRow & { invoices: InvoiceRow[] }>>()
    expectTypeOf(C.Employee.load(db, employees, 'manager')).branded.toEqualTypeOf<TaskEither<DbError, (EmployeeRow & { manager: EmployeeRow | null })[]>>()
  })

  it('create input knows what the database and the behaviours fill', () => {
    Customer.create(db, { firstName: 'Ada', email: 'ada@example.com', vip: false })
    Customer.create(db, { customerId: 7, firstName: 'Ada', email: 'ada@example.com', vip: false, country: null })
    Invoice.create(db, { customerId: 1, total: '1.00' })
    Session.create(db, { userId: 1 })
    // @ts-expect-error: firstName is required
    Customer.create(db, { email: 'ada@example.com', vip: false })
    // @ts-expect-error: vip is a boolean
    Customer.create(db, { firstName: 'Ada', email: 'ada@example.com', vip: 1 })
    // @ts-expect-error: trackId of a composite key is not generated
    Line.create(db, { invoiceId: 1, quantity: 1 })
  })

  it('keys and patches', () => {
    Line.find(db, { invoiceId: 1, trackId: 2 })
    // @ts-expect-error: a composite key is an object
    Line.find(db, 1)
    // @ts-expect-error: the key is a number
    Customer.find(db, '1')
    Customer.update(db, c, { firstName: 'Grace' })
    // @ts-expect-error: the primary key is not patched
    Customer.update(db, c, { customerId: 2 })
    // @ts-expect-error: wrong type in a patch
    Customer.update(db, c, { vip: 'no' })
  })

  it('behaviours need their fields and soft deletion brings restore', () => {
    expectTypeOf(Invoice.restore(db, i)).toEqualTypeOf<TaskEither<DbError, InvoiceRow>>()
    expectTypeOf(Customer.restore).toEqualTypeOf<never>()
    expectTypeOf(pipe(Invoice.query, withDeleted, Invoice.all(db))).toEqualTypeOf<TaskEither<DbError, InvoiceRow[]>>()
    expect(() => model({
      table: 'x',
      primaryKey: 'id',
      codec: t.type({ id: t.number }),
      // @ts-expect-error: the row has no createdAt/updatedAt
      behaviours: [timestamps()],
    })).toThrow(TypeError)
    model({
      table: 'x',
      primaryKey: 'id',
      codec: t.type({ id: t.number, version: t.string }),
      // @ts-expect-error: the version is a number
      behaviours: [optimisticLock()],
    })
  })

  it('the primary key names a field', () => {
    // @ts-expect-error: no such field
    expect(() => model({ table: 'x', primaryKey: 'uid', codec: t.type({ id: t.number }) })).toThrow(TypeError)
  })

  it('relation filters take relation paths; their modifiers get the related model', () => {
    pipe(C.Customer.query, C.Customer.whereHas('invoices.lines', (q, L) => pipe(q, L.where('quantity', '>', 1))), C.Customer.all(db))
    // @ts-expect-error: no such relation
    C.Customer.whereHas('orders')
    // @ts-expect-error: a line has no field "total"
    C.Customer.whereHas('invoices.lines', (q, L) => pipe(q, L.where('total', '>', 1)))
    const inSub = pipe(C.Customer.query, C.Customer.where('customerId', 'in', pipe(C.Invoice.query, C.Invoice.select('customerId'))))
    expectTypeOf(inSub).toEqualTypeOf<ModelQuery<CustomerRow>>()
  })

  it('relation aggregates and computed columns add typed fields', () => {
    const _q = pipe(
      C.Customer.query,
      C.Customer.withCount('invoices'),
      C.Customer.withExists('rep'),
      C.Customer.computed('initial', t.string, sql`substr(${C.Customer.column('firstName')}, 1, 1)`),
      C.Customer.all(db),
    )
    type Q = RowsOf<typeof _q>
    expectTypeOf<Q['invoicesCount']>().toEqualTypeOf<number>()
    expectTypeOf<Q['repExists']>().toEqualTypeOf<boolean>()
    expectTypeOf<Q['initial']>().toEqualTypeOf<string>()
    expectTypeOf<Q['firstName']>().toEqualTypeOf<string>()
    const _sums = pipe(C.Invoice.query, C.Invoice.withSum('lines', 'quantity'), C.Invoice.withMax('lines', 'trackId', undefined, 'lastTrack'), C.Invoice.all(db))
    expectTypeOf<RowsOf<typeof _sums>['linesSumQuantity']>().toEqualTypeOf<number | null>()
    expectTypeOf<RowsOf<typeof _sums>['lastTrack']>().toEqualTypeOf<number | null>()
    // @ts-expect-error: a line has no field "price"
    C.Invoice.withSum('lines', 'price')
  })

  it('groupBy and aggregate give typed rows', () => {
    const grouped = pipe(C.Invoice.query, C.Invoice.groupBy('customerId'), C.Invoice.aggregate(db, (a) => ({ n: a.count(), total: a.sum('total'), mean: a.avg('version') })))
    expectTypeOf(grouped).toEqualTypeOf<TaskEither<DbError, { customerId: number; readonly n: number; readonly total: string | null; readonly mean: number | null }[]>>()
    const whole = pipe(C.Invoice.query, C.Invoice.aggregate(db, (a) => ({ n: a.count() })))
    expectTypeOf(whole).toEqualTypeOf<TaskEither<DbError, { readonly n: number }[]>>()
    // @ts-expect-error: no such field
    C.Invoice.aggregate(db, (a) => ({ n: a.sum('amount') }))
  })

  it('a transaction carries the caller\'s error type', () => {
    interface Conflict { readonly _tag: 'Conflict' }
    const conflict: Conflict = { _tag: 'Conflict' }
    const tx = db.transaction((d) => pipe(C.Customer.find(d, 1), TE.chainW(TE.fromOption(() => conflict))))
    expectTypeOf(tx).toEqualTypeOf<TaskEither<DbError | Conflict, CustomerRow>>()
    const notFound = db.transaction((d) => pipe(C.Customer.find(d, 1), TE.chain(TE.fromOption(() => dbError('NotFound', 'no customer')))))
    expectTypeOf(notFound).toEqualTypeOf<TaskEither<DbError, CustomerRow>>()
  })
})
