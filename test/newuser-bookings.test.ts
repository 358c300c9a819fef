/**
 * A reservations system as a new user writes it from README.md and the guides, on SQLite,
 * PostgreSQL and MariaDB: rooms (resources) with JSON metadata and soft deletion, time slots that
 * must not overlap (checked under a row lock), bookings that fill a slot's capacity and go to a
 * waitlist beyond it (concurrent bookings under a row lock), cancellations that promote the
 * waitlist, optimistic locking of slots, a bulk import by external reference (upsertMany,
 * createMany with onConflict, a savepoint per row), search by text, pages, filters on NULL,
 * reports per day and per week (UTC and a fixed-offset zone), and migrations up and down. Written
 * with the Promise adapter where an application without fp-ts would use it.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join as joinPath } from 'node:path'
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Backend, createBackend, isDbError, promised, type PromiseBackend, run, sql, supports } from 'recordkit'
import {
  belongsTo, date, hasMany, jsonOf, model, nullable, optimisticLock, promisedModels, relate, rule, snakeCase, softDelete, timestamps, withDeleted,
} from 'recordkit/model'
import {
  and, as, coalesce, col, cte, dateAdd, dateTrunc, desc, eq, from, groupBy, gt, join, jsonText, leftJoin, lt, ne, orderBy, over, rank, select, sub, sum, where, withCte,
} from 'recordkit/query'
import { addColumn, alterTable, apply, column, createTable, dropColumn, dropTable, index, migrateDown, migrateUp, migrationStatus, unique, type Migration } from 'recordkit/schema'
import { MYSQL_URL, PG_URL, serverAvailable } from './support/servers.js'

const P = 'rk_bk_'
const HISTORY = `${P}migrations`
const TABLES = ['bookings', 'slots', 'resources'].map((x) => P + x)

// ---- The schema, as migrations ----

const MIGRATIONS: readonly Migration[] = [
  {
    name: '20260301000000_resources',
    up: (db) => apply(db, pipe(
      createTable(`${P}resources`),
      column('id', 'integer', { primaryKey: true, autoIncrement: true }),
      column('name', 'varchar(80)', { notNull: true, unique: true }),
      column('capacity', 'integer', { notNull: true, check: 'capacity > 0' }),
      column('time_zone', 'varchar(40)', { notNull: true }),
      column('metadata', 'json'),
      column('deleted_at', 'timestamp(3)'),
      column('created_at', 'timestamp(3)', { notNull: true }),
      column('updated_at', 'timestamp(3)', { notNull: true }),
    )),
    down: (db) => apply(db, dropTable(`${P}resources`)),
  },
  {
    name: '20260301000100_slots',
    up: (db) => apply(db, pipe(
      createTable(`${P}slots`),
      column('id', 'integer', { primaryKey: true, autoIncrement: true }),
      column('resource_id', 'integer', { notNull: true, references: `${P}resources.id` }),
      column('starts_at', 'timestamp(3)', { notNull: true }),
      column('ends_at', 'timestamp(3)', { notNull: true }),
      column('capacity', 'integer', { notNull: true }),
      column('booked', 'integer', { notNull: true, default: 0 }),
      column('version', 'integer', { notNull: true }),
      unique(['resource_id', 'starts_at']),
    )),
    down: (db) => apply(db, dropTable(`${P}slots`)),
  },
  {
    name: '20260301000200_bookings',
    up: (db) => apply(db, pipe(
      createTable(`${P}bookings`),
      column('id', 'integer', { primaryKey: true, autoIncrement: true }),
      column('slot_id', 'integer', { notNull: true, references: `${P}slots.id` }),
      column('guest_name', 'varchar(80)', { notNull: true }),
      column('guest_email', 'varchar(120)', { notNull: true }),
      column('seats', 'integer', { notNull: true }),
      column('status', 'varchar(12)', { notNull: true }),
      column('note', 'text'),
      column('external_ref', 'varchar(40)', { unique: true }),
      column('metadata', 'json'),
      column('created_at', 'timestamp(3)', { notNull: true }),
      column('updated_at', 'timestamp(3)', { notNull: true }),
      column('cancelled_at', 'timestamp(3)'),
      index(['slot_id', 'status']),
    )),
    down: (db) => apply(db, dropTable(`${P}bookings`)),
  },
  {
    name: '20260301000300_check_in',
    up: (db) => apply(db, pipe(alterTable(`${P}bookings`), addColumn('checked_in_at', 'timestamp(3)'))),
    down: (db) => apply(db, pipe(alterTable(`${P}bookings`), dropColumn('checked_in_at'))),
  },
]

// ---- The models ----

const Email = t.refinement(t.string, (s) => /^[^@\s]+@[^@\s]+\.[a-z]+$/i.test(s), 'Email')
const Seats = t.refinement(t.number, (n) => Number.isInteger(n) && n >= 1 && n <= 20, 'Seats')
const Status = t.keyof({ confirmed: null, waitlisted: null, cancelled: null })
const RoomInfo = t.type({ floor: t.number, amenities: t.array(t.string) })

const Booking = relate({
  Resource: model({
    table: `${P}resources`,
    primaryKey: 'id',
    naming: snakeCase,
    codec: t.type({
      id: t.number, name: t.string, capacity: t.number, timeZone: t.string, metadata: nullable(jsonOf(RoomInfo)),
      deletedAt: nullable(date), createdAt: date, updatedAt: date,
    }),
    behaviours: [timestamps(), softDelete()],
    relations: { slots: hasMany('Slot', 'resourceId') },
  }),
  Slot: model({
    table: `${P}slots`,
    primaryKey: 'id',
    naming: snakeCase,
    codec: t.type({ id: t.number, resourceId: t.number, startsAt: date, endsAt: date, capacity: t.number, booked: t.number, version: t.number }),
    defaults: ['booked'],
    behaviours: [optimisticLock()],
    validators: [rule('endsAt', 'afterStart', (s) => s.startsAt === undefined || s.endsAt === undefined || s.endsAt > s.startsAt, 'a slot ends after it starts')],
    relations: { resource: belongsTo('Resource', 'resourceId'), bookings: hasMany('Reservation', 'slotId') },
  }),
  Reservation: model({
    table: `${P}bookings`,
    primaryKey: 'id',
    naming: snakeCase,
    codec: t.type({
      id: t.number, slotId: t.number, guestName: t.string, guestEmail: Email, seats: Seats, status: Status, note: nullable(t.string),
      externalRef: nullable(t.string), metadata: nullable(jsonOf(t.UnknownRecord)), createdAt: date, updatedAt: date, cancelledAt: nullable(date),
    }),
    behaviours: [timestamps()],
    relations: { slot: belongsTo('Slot', 'slotId') },
  }),
})
const { Resource, Slot, Reservation } = Booking
const M = promisedModels(Booking)
type SlotRow = t.TypeOf<typeof Slot.codec>
type ReservationRow = t.TypeOf<typeof Reservation.codec>

// ---- The application ----

class Overlap extends Error {
  constructor(readonly other: SlotRow) { super(`overlaps slot ${other.id}`) }
}

/** Lock a row for the rest of the transaction where the engine has row locks (SQLite's transactions take turns anyway). */
const locked = <Q>(tx: PromiseBackend, lock: (q: Q) => Q) => (q: Q): Q => (supports(tx.backend.dialect, 'lock') ? lock(q) : q)

/** A slot on a room, refused when it overlaps another slot of the room (half-open intervals: back to back is fine). */
const addSlot = (db: PromiseBackend, resourceId: number, startsAt: Date, endsAt: Date, capacity?: number) =>
  db.transaction(async (tx) => {
    // The room's row is the lock two writers of its slots meet on.
    const room = await pipe(Resource.query, Resource.where('id', '=', resourceId), locked(tx, Resource.forUpdate()), M.Resource.firstOrFail(tx))
    const clash = await pipe(
      Slot.query,
      Slot.where('resourceId', '=', resourceId), Slot.where('startsAt', '<', endsAt), Slot.where('endsAt', '>', startsAt),
      M.Slot.first(tx),
    )
    if (clash !== undefined) throw new Overlap(clash)
    return M.Slot.create(tx, { resourceId, startsAt, endsAt, capacity: capacity ?? room.capacity })
  })

/** Book seats: confirmed while the slot has room, waitlisted beyond it. */
const book = (db: PromiseBackend, slotId: number, guest: { name: string; email: string; seats: number; note?: string | null }) =>
  db.transaction(async (tx) => {
    const slot = await pipe(Slot.query, Slot.where('id', '=', slotId), locked(tx, Slot.forUpdate()), M.Slot.firstOrFail(tx))
    const fits = slot.booked + guest.seats <= slot.capacity
    const booking = await M.Reservation.create(tx, {
      slotId, guestName: guest.name, guestEmail: guest.email, seats: guest.seats, note: guest.note ?? null, status: fits ? 'confirmed' : 'waitlisted',
    })
    if (fits) await M.Slot.increment(tx, slot, 'booked', guest.seats)
    return booking
  })

/** Cancel a booking; its seats go to the waitlist, first come first served, while they fit. */
const cancel = (db: PromiseBackend, bookingId: number) =>
  db.transaction(async (tx) => {
    const booking = await M.Reservation.findOrFail(tx, bookingId)
    let slot = await pipe(Slot.query, Slot.where('id', '=', booking.slotId), locked(tx, Slot.forUpdate()), M.Slot.firstOrFail(tx))
    const wasConfirmed = booking.status === 'confirmed'
    await M.Reservation.update(tx, booking, { status: 'cancelled', cancelledAt: new Date() })
    if (wasConfirmed) slot = await M.Slot.decrement(tx, slot, 'booked', booking.seats)
    const waiting = await pipe(
      Reservation.query, Reservation.where({ slotId: slot.id, status: 'waitlisted' }), Reservation.orderBy('createdAt'), Reservation.orderBy('id'),
      M.Reservation.all(tx),
    )
    const promoted: ReservationRow[] = []
    for (const w of waiting) {
      if (slot.booked + w.seats > slot.capacity) continue
      promoted.push(await M.Reservation.update(tx, w, { status: 'confirmed' }))
      slot = await M.Slot.increment(tx, slot, 'booked', w.seats)
    }
    return { slot, promoted }
  })

// ---- The engines ----

const ENGINES = [
  { name: 'sqlite', url: (dir: string) => `sqlite:${joinPath(dir, 'bookings.db')}` },
  { name: 'postgres', url: () => PG_URL },
  { name: 'mariadb', url: () => MYSQL_URL.replace(/^mysql:/, 'mariadb:') },
] as const

const at = (iso: string) => new Date(iso)

for (const engine of ENGINES) {
  describe(`a reservations system on ${engine.name}`, () => {
    let dir = ''
    let raw: Backend | undefined
    const use = (ctx: { skip: () => void }): PromiseBackend => {
      if (raw === undefined) ctx.skip()
      return promised(raw!)
    }
    const dropAll = async (d: Backend) => {
      for (const table of [...TABLES, HISTORY]) await run(d.execute(sql`DROP TABLE IF EXISTS ${sql.id(table)}`))
    }

    beforeAll(async () => {
      if (engine.name !== 'sqlite' && !(await serverAvailable(engine.name))) return
      dir = mkdtempSync(joinPath(tmpdir(), 'bk-nu-'))
      raw = await run(createBackend(engine.url(dir)))
      await dropAll(raw)
    })
    afterAll(async () => {
      if (raw !== undefined) {
        await dropAll(raw)
        await run(raw.close())
      }
      if (dir !== '') rmSync(dir, { recursive: true, force: true })
    })

    /** Migrated, emptied, with two rooms. */
    const fresh = async (db: PromiseBackend) => {
      await run(migrateUp(raw!, MIGRATIONS, { table: HISTORY }))
      for (const table of TABLES) await db.execute(sql`DELETE FROM ${sql.id(table)}`)
      const [ada, babbage] = await M.Resource.createMany(db, [
        { name: 'Ada Room', capacity: 4, timeZone: 'Europe/Paris', metadata: { floor: 2, amenities: ['screen', 'whiteboard'] } },
        { name: 'Babbage Hall', capacity: 40, timeZone: 'America/New_York', metadata: null },
      ])
      return { ada, babbage }
    }

    it('migrations: applied in order, the last reverted (its column gone) and applied again', async (ctx) => {
      const db = use(ctx)
      const options = { table: HISTORY }
      expect((await run(migrateUp(raw!, MIGRATIONS, options))).migrations).toEqual(MIGRATIONS.map((m) => m.name))
      const { ada } = await fresh(db)
      const slot = await addSlot(db, ada.id, at('2026-03-02T09:00:00Z'), at('2026-03-02T10:00:00Z'))
      await book(db, slot.id, { name: 'Ann', email: 'ann@example.com', seats: 1 })
      await db.execute(sql`UPDATE ${sql.id(`${P}bookings`)} SET checked_in_at = ${at('2026-03-02T09:05:00Z')}`)
      expect((await run(migrateDown(raw!, MIGRATIONS, { ...options, steps: 1 }))).migrations).toEqual([MIGRATIONS[3].name])
      expect((await run(migrationStatus(raw!, MIGRATIONS, options))).map((m) => m.state)).toEqual(['applied', 'applied', 'applied', 'pending'])
      await expect(db.execute(sql`SELECT checked_in_at FROM ${sql.id(`${P}bookings`)}`)).rejects.toMatchObject({ _tag: 'QueryError' })
      expect((await run(migrateUp(raw!, MIGRATIONS, options))).migrations).toEqual([MIGRATIONS[3].name])
      const rows = await db.all(pipe(from(`${P}bookings`), select('guest_name', 'checked_in_at')))
      expect(rows).toEqual([{ guest_name: 'Ann', checked_in_at: null }])
    })

    it('slots: times are instants, stored and read back exactly; overlapping slots are refused, back to back is fine', async (ctx) => {
      const db = use(ctx)
      const { ada, babbage } = await fresh(db)
      // 09:00 in Paris, the day before and the day of the change to summer time.
      const before = await addSlot(db, ada.id, at('2026-03-28T09:00:00+01:00'), at('2026-03-28T10:30:00+01:00'))
      const after = await addSlot(db, ada.id, at('2026-03-29T09:00:00+02:00'), at('2026-03-29T10:30:00+02:00'))
      expect(before.startsAt.toISOString()).toBe('2026-03-28T08:00:00.000Z')
      expect(after.startsAt.toISOString()).toBe('2026-03-29T07:00:00.000Z')
      expect(before.capacity).toBe(4)
      expect(before.booked).toBe(0)
      expect(before.version).toBe(1)
      expect((await M.Slot.findOrFail(db, after.id)).endsAt.getTime()).toBe(at('2026-03-29T08:30:00Z').getTime())
      // Overlaps: inside, around, the same start; and a slot of another room at the same time.
      for (const [s, e] of [['09:30', '10:00'], ['08:00', '11:00'], ['09:00', '09:15'], ['10:00', '11:00']]) {
        await expect(addSlot(db, ada.id, at(`2026-03-28T${s}:00+01:00`), at(`2026-03-28T${e}:00+01:00`))).rejects.toBeInstanceOf(Overlap)
      }
      await addSlot(db, ada.id, at('2026-03-28T10:30:00+01:00'), at('2026-03-28T11:00:00+01:00')) // back to back
      await addSlot(db, babbage.id, at('2026-03-28T09:00:00+01:00'), at('2026-03-28T10:30:00+01:00'))
      // A slot that ends before it starts: a ValidationError at the field, nothing written.
      const backwards = addSlot(db, ada.id, at('2026-04-01T10:00:00Z'), at('2026-04-01T09:00:00Z'))
      await expect(backwards).rejects.toMatchObject({ _tag: 'ValidationError', issues: [{ path: 'endsAt', rule: 'afterStart' }] })
      expect(await pipe(Slot.query, Slot.where('resourceId', '=', ada.id), M.Slot.count(db))).toBe(3)
      // The unique (room, start) key is the last word: a UniqueViolation naming the table.
      const dup = M.Slot.create(db, { resourceId: ada.id, startsAt: before.startsAt, endsAt: before.endsAt, capacity: 1 })
      await expect(dup).rejects.toMatchObject({ _tag: 'UniqueViolation', table: `${P}slots` })
    })

    it('two overlapping slots added at once: the room\'s row lock lets one in and refuses the other', async (ctx) => {
      const db = use(ctx)
      const { ada } = await fresh(db)
      const outcomes = await Promise.allSettled([
        addSlot(db, ada.id, at('2026-05-04T09:00:00Z'), at('2026-05-04T10:00:00Z')),
        addSlot(db, ada.id, at('2026-05-04T09:30:00Z'), at('2026-05-04T10:30:00Z')),
      ])
      expect(outcomes.map((o) => (o.status === 'fulfilled' ? 'added' : o.reason instanceof Overlap ? 'overlap' : String(o.reason))).sort()).toEqual(['added', 'overlap'])
      expect(await pipe(Slot.query, M.Slot.count(db))).toBe(1)
    })

    it('capacity under concurrent bookings: exactly the capacity is confirmed, the rest waitlisted, in one order', async (ctx) => {
      const db = use(ctx)
      const { ada } = await fresh(db)
      const slot = await addSlot(db, ada.id, at('2026-05-05T09:00:00Z'), at('2026-05-05T10:00:00Z'))
      const guests = Array.from({ length: 7 }, (_, i) => ({ name: `Guest ${i}`, email: `g${i}@example.com`, seats: 1 }))
      const results = await Promise.all(guests.map((g) => book(db, slot.id, g)))
      expect(results.filter((b) => b.status === 'confirmed')).toHaveLength(4)
      expect(results.filter((b) => b.status === 'waitlisted')).toHaveLength(3)
      const stored = await M.Slot.findOrFail(db, slot.id)
      expect(stored.booked).toBe(4)
      expect(stored.version).toBe(5) // created at 1, four increments
      const seats = await pipe(Reservation.query, Reservation.where({ slotId: slot.id, status: 'confirmed' }), M.Reservation.sum(db, 'seats'))
      expect(seats).toBe(4)
      // A party of three no longer fits: waitlisted, though single seats were confirmed before.
      expect((await book(db, slot.id, { name: 'Party', email: 'party@example.com', seats: 3 })).status).toBe('waitlisted')
    })

    it('cancellations promote the waitlist in order, skipping a party that does not fit', async (ctx) => {
      const db = use(ctx)
      const { ada } = await fresh(db)
      const slot = await addSlot(db, ada.id, at('2026-05-06T09:00:00Z'), at('2026-05-06T10:00:00Z'), 3)
      const a = await book(db, slot.id, { name: 'A', email: 'a@example.com', seats: 2 })
      await book(db, slot.id, { name: 'B', email: 'b@example.com', seats: 1 })
      const c = await book(db, slot.id, { name: 'C', email: 'c@example.com', seats: 3 }) // waits
      const d = await book(db, slot.id, { name: 'D', email: 'd@example.com', seats: 2 }) // waits
      expect([a.status, c.status, d.status]).toEqual(['confirmed', 'waitlisted', 'waitlisted'])
      const { slot: after, promoted } = await cancel(db, a.id)
      expect(promoted.map((p) => p.guestName)).toEqual(['D']) // C needs 3, only 2 are free
      expect(after.booked).toBe(3)
      const statuses = await pipe(Reservation.query, Reservation.orderBy('guestName'), M.Reservation.pluckMany(db, 'guestName', 'status'))
      expect(statuses).toEqual([['A', 'cancelled'], ['B', 'confirmed'], ['C', 'waitlisted'], ['D', 'confirmed']])
      const cancelled = await M.Reservation.findOrFail(db, a.id)
      expect(cancelled.cancelledAt).toBeInstanceOf(Date)
      // Cancelled rows and rows not cancelled, by a NULL test in each of the ways the docs give.
      const notCancelled = ['B', 'C', 'D']
      expect(await pipe(Reservation.query, Reservation.where('cancelledAt', 'is null'), Reservation.orderBy('guestName'), M.Reservation.pluck(db, 'guestName'))).toEqual(notCancelled)
      expect(await pipe(Reservation.query, Reservation.where({ cancelledAt: null }), Reservation.orderBy('guestName'), M.Reservation.pluck(db, 'guestName'))).toEqual(notCancelled)
      expect(await pipe(Reservation.query, Reservation.where('cancelledAt', '=', null), Reservation.orderBy('guestName'), M.Reservation.pluck(db, 'guestName'))).toEqual(notCancelled)
      expect(await pipe(Reservation.query, Reservation.where('cancelledAt', '<>', null), M.Reservation.pluck(db, 'guestName'))).toEqual(['A'])
      // The query builder, given a null from the request as a value.
      const request: { cancelledAt: Date | null } = { cancelledAt: null }
      const q = pipe(from(`${P}bookings`), select('guest_name'), where(eq('cancelled_at', request.cancelledAt)), orderBy('guest_name'))
      expect((await db.all(q)).map((r) => r.guest_name)).toEqual(notCancelled)
      expect((await db.all(pipe(from(`${P}bookings`), select('guest_name'), where(ne('cancelled_at', null))))).map((r) => r.guest_name)).toEqual(['A'])
    })

    it('optimistic locking: a slot edited from a stale copy is a ConflictError, nothing written', async (ctx) => {
      const db = use(ctx)
      const { ada } = await fresh(db)
      const slot = await addSlot(db, ada.id, at('2026-05-07T09:00:00Z'), at('2026-05-07T10:00:00Z'))
      const moved = await M.Slot.update(db, slot, { capacity: 6 })
      expect(moved.version).toBe(2)
      await expect(M.Slot.update(db, slot, { capacity: 2 })).rejects.toMatchObject({ _tag: 'ConflictError' })
      expect((await M.Slot.findOrFail(db, slot.id)).capacity).toBe(6)
    })

    it('rooms: JSON metadata read back and queried, soft deletion hides a room and its slots stay', async (ctx) => {
      const db = use(ctx)
      const { ada, babbage } = await fresh(db)
      expect(ada.metadata).toEqual({ floor: 2, amenities: ['screen', 'whiteboard'] })
      expect(babbage.metadata).toBeNull()
      const onFloor2 = await pipe(Resource.query, Resource.where(eq(jsonText(Resource.column('metadata'), 'floor'), '2')), M.Resource.pluck(db, 'name'))
      expect(onFloor2).toEqual(['Ada Room'])
      const noInfo = await pipe(Resource.query, Resource.where('metadata', 'is null'), M.Resource.pluck(db, 'name'))
      expect(noInfo).toEqual(['Babbage Hall'])
      // A document that is not the codec's shape: a ValidationError naming the path.
      const bad = M.Resource.create(db, { name: 'Bad', capacity: 1, timeZone: 'UTC', metadata: { floor: 'two', amenities: [] } as never })
      await expect(bad).rejects.toMatchObject({ _tag: 'ValidationError' })
      const slot = await addSlot(db, babbage.id, at('2026-05-08T09:00:00Z'), at('2026-05-08T10:00:00Z'))
      const gone = await M.Resource.delete(db, babbage)
      expect(gone.deletedAt).toBeInstanceOf(Date)
      expect(await pipe(Resource.query, Resource.orderBy('name'), M.Resource.pluck(db, 'name'))).toEqual(['Ada Room'])
      expect(await pipe(Resource.query, withDeleted, Resource.orderBy('name'), M.Resource.pluck(db, 'name'))).toEqual(['Ada Room', 'Babbage Hall'])
      expect(await M.Resource.find(db, babbage.id)).toBeUndefined()
      // A booking cannot be taken on a hidden room's slot? The slot is still there, its room is hidden.
      expect((await M.Slot.findOrFail(db, slot.id)).resourceId).toBe(babbage.id)
      // A room's name is free again only for a real delete: the unique key still holds it.
      await expect(M.Resource.create(db, { name: 'Babbage Hall', capacity: 10, timeZone: 'UTC' })).rejects.toMatchObject({ _tag: 'UniqueViolation' })
      const back = await M.Resource.restore(db, gone)
      expect(back.deletedAt).toBeNull()
    })

    it('relations: rooms with their slots and each slot\'s bookings, counts of bookings per slot', async (ctx) => {
      const db = use(ctx)
      const { ada, babbage } = await fresh(db)
      const s1 = await addSlot(db, ada.id, at('2026-05-11T09:00:00Z'), at('2026-05-11T10:00:00Z'))
      const s2 = await addSlot(db, ada.id, at('2026-05-11T10:00:00Z'), at('2026-05-11T11:00:00Z'))
      await book(db, s1.id, { name: 'Ann', email: 'ann@example.com', seats: 2 })
      await book(db, s1.id, { name: 'Bob', email: 'bob@example.com', seats: 1 })
      await book(db, s2.id, { name: 'Cy', email: 'cy@example.com', seats: 1 })
      const rooms = await pipe(Resource.query, Resource.orderBy('name'), Resource.include('slots.bookings'), M.Resource.all(db))
      expect(rooms.map((r) => [r.name, r.slots.map((s) => s.bookings.map((b) => b.guestName).sort())])).toEqual([
        ['Ada Room', [['Ann', 'Bob'], ['Cy']]],
        ['Babbage Hall', []],
      ])
      expect(babbage.id).toBeGreaterThan(ada.id)
      const counted = await pipe(Slot.query, Slot.withCount('bookings'), Slot.orderBy('startsAt'), M.Slot.all(db))
      expect(counted.map((s) => s.bookingsCount)).toEqual([2, 1])
      const withRoom = await pipe(Reservation.query, Reservation.include('slot.resource'), Reservation.orderBy('guestName'), M.Reservation.all(db))
      expect(withRoom.map((b) => `${b.guestName}@${b.slot.resource.name}`)).toEqual(['Ann@Ada Room', 'Bob@Ada Room', 'Cy@Ada Room'])
    })

    it('search by text: any case, a % in the text matched literally; pages of results with a total', async (ctx) => {
      const db = use(ctx)
      const { babbage } = await fresh(db)
      const slot = await addSlot(db, babbage.id, at('2026-05-12T09:00:00Z'), at('2026-05-12T10:00:00Z'))
      const names = ['Anna Karenina', 'ANNE Shirley', 'Joanna Wu', 'Bob', '100% Club', '100 Percent', 'Zoë Ånström']
      for (const [i, name] of names.entries()) await book(db, slot.id, { name, email: `p${i}@example.com`, seats: 1 })
      // Sorted here: ORDER BY follows the column's collation, which ignores case on MariaDB (Anna before ANNE).
      const search = async (op: 'icontains' | 'contains', text: string) =>
        (await pipe(Reservation.query, Reservation.where('guestName', op, text), M.Reservation.pluck(db, 'guestName'))).sort()
      expect(await search('icontains', 'anN')).toEqual(['ANNE Shirley', 'Anna Karenina', 'Joanna Wu'])
      expect(await search('contains', '100%')).toEqual(['100% Club'])
      expect(await search('icontains', 'zoë')).toEqual(['Zoë Ånström'])
      // Pages of 3, ordered by name: the last page is partial, a page past the end is empty.
      const page = (n: number) => pipe(Reservation.query, Reservation.orderBy('guestName'), M.Reservation.paginate(db, { page: n, perPage: 3 }))
      const p1 = await page(1)
      expect([p1.total, p1.pages, p1.rows.length]).toEqual([7, 3, 3])
      const p3 = await page(3)
      expect(p3.rows.map((r) => r.guestName)).toEqual(['Zoë Ånström'])
      expect((await page(4)).rows).toEqual([])
      await expect(page(0)).rejects.toMatchObject({ _tag: 'ValidationError' })
    })

    it('a bulk import by external reference: invalid rows named, then upsertMany updates what it inserted before', async (ctx) => {
      const db = use(ctx)
      const { ada } = await fresh(db)
      const slot = await addSlot(db, ada.id, at('2026-05-13T09:00:00Z'), at('2026-05-13T10:00:00Z'), 10)
      const row = (ref: string, name: string, seats: number, metadata: Record<string, unknown> | null = null) =>
        ({ slotId: slot.id, externalRef: ref, guestName: name, guestEmail: `${ref}@example.com`, seats, status: 'confirmed' as const, note: null, metadata })
      // One invalid row: nothing imported, the error names the row and the field.
      const broken = M.Reservation.createMany(db, [row('x1', 'One', 1), row('x2', 'Two', 0)])
      await expect(broken).rejects.toMatchObject({ _tag: 'ValidationError', issues: [{ path: 'rows.1.seats', rule: 'Seats' }] })
      expect(await pipe(Reservation.query, M.Reservation.count(db))).toBe(0)
      const first = await M.Reservation.upsertMany(db, [row('x1', 'One', 1, { source: 'csv', line: 1 }), row('x2', 'Two', 2)], { conflict: ['externalRef'] })
      const again = await M.Reservation.upsertMany(db, [row('x2', 'Two', 3), row('x3', 'Three', 1)], { conflict: ['externalRef'] })
      expect(again[0].id).toBe(first[1].id)
      expect(again[0].seats).toBe(3)
      expect(await pipe(Reservation.query, Reservation.orderBy('externalRef'), M.Reservation.pluckMany(db, 'externalRef', 'seats'))).toEqual([['x1', 1], ['x2', 3], ['x3', 1]])
      expect((await M.Reservation.findBy(db, { externalRef: 'x1' }))?.metadata).toEqual({ source: 'csv', line: 1 })
      // createMany with onConflict: 'ignore' leaves the known references out, and returns what it inserted.
      const added = await M.Reservation.createMany(db, [row('x3', 'Three again', 1), row('x4', 'Four', 1)], { onConflict: 'ignore' })
      expect(added.map((b) => b.externalRef)).toEqual(['x4'])
      // Bookings without a reference (NULL) do not collide with each other under the unique key.
      await M.Reservation.createMany(db, [{ ...row('n', 'Walk-in 1', 1), externalRef: null }, { ...row('n', 'Walk-in 2', 1), externalRef: null }])
      expect(await pipe(Reservation.query, Reservation.where('externalRef', 'is null'), M.Reservation.count(db))).toBe(2)
    })

    it('an import that keeps the good rows: a savepoint per row, the bad ones reported, the transaction goes on', async (ctx) => {
      const db = use(ctx)
      const { ada } = await fresh(db)
      const slot = await addSlot(db, ada.id, at('2026-05-14T09:00:00Z'), at('2026-05-14T10:00:00Z'), 10)
      const lines = [
        { name: 'Ok 1', email: 'ok1@example.com', seats: 1 },
        { name: 'Bad email', email: 'nope', seats: 1 },
        { name: 'Ok 2', email: 'ok2@example.com', seats: 2 },
        { name: 'Too many', email: 'many@example.com', seats: 50 },
      ]
      const report = await db.transaction(async (tx) => {
        const failed: string[] = []
        for (const [i, line] of lines.entries()) {
          try {
            await tx.savepoint(`line_${i}`, (sp) => book(sp, slot.id, line))
          } catch (e) {
            if (!isDbError(e, 'ValidationError')) throw e
            failed.push(`${i}: ${e.issues.map((x) => `${x.path} ${x.rule}`).join()}`)
          }
        }
        return failed
      })
      expect(report).toEqual(['1: guestEmail Email', '3: seats Seats'])
      expect(await pipe(Reservation.query, Reservation.orderBy('id'), M.Reservation.pluck(db, 'guestName'))).toEqual(['Ok 1', 'Ok 2'])
      expect((await M.Slot.findOrFail(db, slot.id)).booked).toBe(3)
    })

    it('reports: seats per day (UTC and a fixed offset), per week from Monday, busiest slots first', async (ctx) => {
      const db = use(ctx)
      const { ada } = await fresh(db)
      // Sunday 22:30 UTC is Monday in Paris (UTC+2 in May); Monday and Tuesday mornings.
      const sun = await addSlot(db, ada.id, at('2026-05-17T22:30:00Z'), at('2026-05-17T23:30:00Z'), 10)
      const mon = await addSlot(db, ada.id, at('2026-05-18T08:00:00Z'), at('2026-05-18T09:00:00Z'), 10)
      const tue = await addSlot(db, ada.id, at('2026-05-19T08:00:00Z'), at('2026-05-19T09:00:00Z'), 10)
      await book(db, sun.id, { name: 'S', email: 's@example.com', seats: 2 })
      await book(db, mon.id, { name: 'M1', email: 'm1@example.com', seats: 3 })
      await book(db, mon.id, { name: 'M2', email: 'm2@example.com', seats: 1 })
      await book(db, tue.id, { name: 'T', email: 't@example.com', seats: 5 })
      const bookings = `${P}bookings`
      const slots = `${P}slots`
      const perDay = (shiftHours: number) => {
        const day = dateTrunc('day', shiftHours === 0 ? col('s.starts_at') : dateAdd(col('s.starts_at'), shiftHours, 'hour'))
        return pipe(
          from(`${bookings} b`), join(`${slots} s`, ['s.id', 'b.slot_id']),
          select(as(day, 'day'), as(sum('b.seats'), 'seats')),
          where(eq('b.status', 'confirmed')),
          groupBy(day), orderBy('day'),
        )
      }
      const days = (rows: readonly Record<string, unknown>[]) => rows.map((r) => [(r.day as Date).toISOString().slice(0, 10), Number(r.seats)])
      expect(days(await db.all(perDay(0)))).toEqual([['2026-05-17', 2], ['2026-05-18', 4], ['2026-05-19', 5]])
      expect(days(await db.all(perDay(2)))).toEqual([['2026-05-18', 6], ['2026-05-19', 5]])
      const week = dateTrunc('week', col('s.starts_at'))
      const perWeek = await db.all(pipe(from(`${bookings} b`), join(`${slots} s`, ['s.id', 'b.slot_id']), select(as(week, 'week'), as(sum('b.seats'), 'seats')), groupBy(week), orderBy('week')))
      expect(days(perWeek.map((r) => ({ day: r.week, seats: r.seats })))).toEqual([['2026-05-11', 2], ['2026-05-18', 9]])
      // Rooms ranked within each Paris day by seats, and the free seats of each slot (a slot without bookings has them all).
      const parisDay = dateTrunc('day', dateAdd(col('s.starts_at'), 2, 'hour'))
      const ranked = await db.all(pipe(
        from(`${bookings} b`), join(`${slots} s`, ['s.id', 'b.slot_id']),
        select(as(parisDay, 'day'), 's.resource_id', as(sum('b.seats'), 'seats'), as(over(rank(), { partitionBy: [parisDay], orderBy: [desc(sum('b.seats'))] }), 'place')),
        groupBy(parisDay, 's.resource_id'), orderBy('day'), orderBy(desc('seats')),
      ))
      expect(ranked.map((r) => [(r.day as Date).toISOString().slice(0, 10), Number(r.seats), Number(r.place)])).toEqual([['2026-05-18', 6, 1], ['2026-05-19', 5, 1]])
      const empty = await addSlot(db, ada.id, at('2026-05-20T08:00:00Z'), at('2026-05-20T09:00:00Z'), 10)
      const taken = cte('taken', pipe(from(bookings), select('slot_id', as(sum('seats'), 'seats')), where(eq('status', 'confirmed')), groupBy('slot_id')))
      const free = await db.all(pipe(
        from(`${slots} s`), leftJoin('taken t', ['t.slot_id', 's.id']), select('s.id', as(sub('s.capacity', coalesce('t.seats', 0)), 'free')),
        where(gt('s.starts_at', at('2026-05-19T00:00:00Z'))), orderBy('s.id'), withCte(taken),
      ))
      expect(free.map((r) => [Number(r.id), Number(r.free)])).toEqual([[tue.id, 5], [empty.id, 10]])
      // The busiest slots, with the number of bookings and seats, in the models' own terms.
      const busiest = await pipe(
        Slot.query, Slot.withCount('bookings'), Slot.withSum('bookings', 'seats'),
        Slot.where('bookingsCount', '>', 0), Slot.orderBy('bookingsSumSeats', 'desc'), M.Slot.all(db),
      )
      expect(busiest.map((s) => [s.id, s.bookingsCount, s.bookingsSumSeats])).toEqual([[tue.id, 1, 5], [mon.id, 2, 4], [sun.id, 1, 2]])
      // Slots with free seats from a time on, as a plain query.
      const open = await db.all(pipe(from(slots), select('id'), where(and(gt('starts_at', at('2026-05-18T00:00:00Z')), lt('booked', col('capacity')))), orderBy('id')))
      expect(open.map((r) => Number(r.id))).toEqual([mon.id, tue.id, empty.id])
      expect(await pipe(Slot.query, Slot.where('startsAt', '>=', at('2026-05-18T00:00:00Z')), M.Slot.count(db))).toBe(3)
    })
  })
}
