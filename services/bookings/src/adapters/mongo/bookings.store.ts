import type { Db, Filter } from 'mongodb';
import {
  ensureIndexes,
  insertIfAbsent,
  isDuplicateKeyError,
  MongoErrors,
  sweepExpired,
  tenantCollection,
} from '@isams-sync/mongo';
import type { CollectionIndexSpec, TenantCollection } from '@isams-sync/mongo';
import type {
  BookableEvent,
  Booking,
  EventStatus,
  HistoryEntry,
  PersonKind,
  Slot,
} from '../../domain/booking-model';
import { claimKeys } from '../../domain/booking-rules';
import { EVENING_ENDED } from '../../domain/roster-change-plan';
import type { ChangeOrder, PersonRosterState } from '../../domain/roster-ordering';
import type {
  BookingFilter,
  BookingsStore,
  BookingToCancel,
  BookingToReinstate,
  ClaimResult,
  HeldEvening,
  ReinstateResult,
  SchoolSettings,
} from '../../use-cases/ports';

type EventDoc = BookableEvent & { _id: string; tenantId: string };
type SlotDoc = Slot & { _id: string; tenantId: string };
type BookingDoc = Booking & { _id: string; tenantId: string; seatKey: string; teacherKey: string };
type PersonStateDoc = PersonRosterState & { _id: string; tenantId: string };
interface ProcessedDoc {
  _id: string;
  tenantId: string;
  eventId: string;
  type: string;
  processedAt: Date;
  outcome: Record<string, number | string>;
}

export const COLLECTIONS = {
  events: 'events',
  slots: 'slots',
  bookings: 'bookings',
  personStates: 'personStates',
  processedEvents: 'processedEvents',
  schoolSettings: 'schoolSettings',
  heldEvenings: 'heldEvenings',
} as const;

type SchoolSettingsDoc = SchoolSettings & { _id: string; tenantId: string };

type HeldEveningDoc = HeldEvening & { _id: string };

/** Every index the service needs (created at start-up; unique indexes decide races). */
export const BOOKINGS_INDEXES: CollectionIndexSpec[] = [
  {
    collection: COLLECTIONS.events,
    indexes: [
      { key: { tenantId: 1, id: 1 }, name: 'tenant_id', unique: true },
      { key: { tenantId: 1, startsAt: 1 }, name: 'tenant_starts' },
    ],
  },
  {
    collection: COLLECTIONS.slots,
    indexes: [
      { key: { tenantId: 1, id: 1 }, name: 'tenant_id', unique: true },
      { key: { tenantId: 1, eventId: 1, startsAt: 1 }, name: 'tenant_event_starts' },
    ],
  },
  {
    collection: COLLECTIONS.bookings,
    indexes: [
      { key: { tenantId: 1, id: 1 }, name: 'tenant_id', unique: true },
      { key: { tenantId: 1, seatKey: 1 }, name: 'tenant_seat', unique: true },
      { key: { tenantId: 1, teacherKey: 1 }, name: 'tenant_teacher_time', unique: true },
      { key: { tenantId: 1, eventId: 1 }, name: 'tenant_event' },
      { key: { tenantId: 1, slotId: 1 }, name: 'tenant_slot' },
      { key: { tenantId: 1, pupilId: 1 }, name: 'tenant_pupil' },
      { key: { tenantId: 1, staffId: 1 }, name: 'tenant_staff' },
      { key: { tenantId: 1, contactId: 1 }, name: 'tenant_contact' },
      // A restored person's bookings that their removal cancelled; a run's removals (its undo report).
      {
        key: { tenantId: 1, 'cancellation.roster.personId': 1, 'cancellation.roster.personKind': 1 },
        name: 'tenant_removed_person',
      },
      { key: { tenantId: 1, 'cancellation.roster.syncRunId': 1 }, name: 'tenant_removal_run' },
    ],
  },
  {
    collection: COLLECTIONS.personStates,
    indexes: [{ key: { tenantId: 1, kind: 1, personId: 1 }, name: 'tenant_person', unique: true }],
  },
  {
    collection: COLLECTIONS.processedEvents,
    indexes: [
      { key: { tenantId: 1, eventId: 1 }, name: 'tenant_event', unique: true },
      // The retention's sweep of every school's old records.
      { key: { processedAt: 1 }, name: 'processed_at' },
    ],
  },
];

// Lookups go by _id: FerretDB (tests) answers _id equality without scanning the collection.
const personStateId = (tenantId: string, kind: PersonKind, personId: string) =>
  `${tenantId}|${kind}|${personId}`;

const PERSON_FIELD: Record<PersonKind, 'pupilId' | 'staffId' | 'contactId'> = {
  pupil: 'pupilId',
  staff: 'staffId',
  contact: 'contactId',
};

/** Drops `undefined` fields (the driver would store them as null), keeping Dates. */
function strip<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v: unknown) => strip(v)) as T;
  if (value === null || typeof value !== 'object' || value instanceof Date) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = strip(v);
  return out as T;
}

/**
 * The filter of a conditional cancel: the booking, only while it is still booked and not reinstated
 * since it was read (a replica that stalled between its read and its write must not cancel a booking
 * the person's restore has reinstated meanwhile on another replica).
 */
function stillBooked(tenantId: string, booking: Booking): Filter<BookingDoc> {
  return { _id: `${tenantId}:${booking.id}`, status: 'booked', ...reinstatementAsRead(booking) };
}

/** The part of a conditional write's filter that matches a booking's `reinstatement` as read (or none). */
function reinstatementAsRead(booking: Booking): Filter<BookingDoc> {
  return booking.reinstatement
    ? { 'reinstatement.rosterEventId': booking.reinstatement.rosterEventId }
    : { reinstatement: { $exists: false } };
}

/**
 * The filter of a restore's write over a cancelled booking (its reinstatement, or why not): the
 * booking, only while it is still cancelled by the same cancellation (its roster event and time) and
 * carries the same `reinstatement` as read. A replica that stalled between its read and its write must
 * not reinstate a booking a newer removal cancelled again meanwhile on another replica, nor record its
 * decision over a newer restore's.
 */
function stillCancelled(tenantId: string, booking: Booking): Filter<BookingDoc> {
  const cancellation = booking.cancellation;
  const cause = cancellation?.roster;
  return {
    _id: `${tenantId}:${booking.id}`,
    status: 'cancelled',
    ...(cancellation ? { 'cancellation.at': cancellation.at } : { cancellation: { $exists: false } }),
    ...(cause
      ? { 'cancellation.roster.rosterEventId': cause.rosterEventId }
      : { 'cancellation.roster': { $exists: false } }),
    ...reinstatementAsRead(booking),
  };
}

/**
 * The filter of a write of a booking's hold (a removal's hold, a restore's release or narrowing, the
 * evening's end releasing it): the booking, only while it is still booked and held as read — the same
 * `pendingCancellation` (or none) and no history entry since. A hold and its release each add one, so
 * a hold another replica wrote and released while this one stalled between its read and its write no
 * longer matches. (An update's filter on FerretDB does not match through an array of documents, hence
 * the whole hold's equality and the history's length.)
 */
function heldAsRead(tenantId: string, booking: Booking): Filter<BookingDoc> {
  return {
    _id: `${tenantId}:${booking.id}`,
    status: 'booked',
    pendingCancellation: booking.pendingCancellation
      ? strip(booking.pendingCancellation)
      : { $exists: false },
    history: { $size: booking.history.length },
  } as Filter<BookingDoc>;
}

/**
 * The filter of a person state that `change` may replace: one not newer than it, as
 * {@link isStaleChange} orders them (revisions when both have one, else times; then the event id).
 * Filters every FerretDB 1.24 update evaluates (`$or`, ranges, `$exists`, dotted keys).
 */
function notNewerThan(change: ChangeOrder): Filter<PersonStateDoc> {
  const upToId = { rosterEventId: { $lte: change.rosterEventId } };
  const byTime = [{ changedAt: { $lt: change.changedAt } }, { changedAt: change.changedAt, ...upToId }];
  if (!change.revision) return { $or: byTime };
  const { changeset, change: position } = change.revision;
  return {
    $or: [
      { 'revision.changeset': { $lt: changeset } },
      { 'revision.changeset': changeset, 'revision.change': { $lt: position } },
      { 'revision.changeset': changeset, 'revision.change': position, ...upToId },
      ...byTime.map((c) => ({ revision: { $exists: false }, ...c })),
    ],
  } as Filter<PersonStateDoc>;
}

/** The update that cancels a booking: its cancellation, its released claim keys, its history entry. */
function cancelUpdate(
  booking: Booking,
  cancellation: NonNullable<Booking['cancellation']>,
  entry: HistoryEntry,
) {
  return {
    $set: {
      status: 'cancelled' as const,
      cancellation: strip(cancellation),
      ...claimKeys({ ...booking, status: 'cancelled' }, 1),
    },
    $unset: { pendingCancellation: '' as const },
    $push: { history: strip(entry) },
  };
}

function withoutMongo<T extends { _id: string; tenantId: string }>(
  doc: T,
): Omit<T, '_id' | 'tenantId' | 'seatKey' | 'teacherKey'> {
  const { _id, tenantId, seatKey, teacherKey, ...rest } = doc as T & {
    seatKey?: string;
    teacherKey?: string;
  };
  void _id;
  void tenantId;
  void seatKey;
  void teacherKey;
  return rest;
}

/**
 * The bookings service's MongoDB store (the use-cases' {@link BookingsStore} port), one tenant per
 * call. Writes are idempotent and conditional; double-booking races are decided by the unique
 * `seatKey`/`teacherKey` indexes (no transactions).
 */
export class MongoBookingsStore implements BookingsStore {
  constructor(private readonly db: Db) {}

  static async create(db: Db): Promise<MongoBookingsStore> {
    await ensureIndexes(db, BOOKINGS_INDEXES);
    return new MongoBookingsStore(db);
  }

  private events(t: string): TenantCollection<EventDoc> {
    return tenantCollection<EventDoc>(this.db, COLLECTIONS.events, t);
  }
  private slots(t: string): TenantCollection<SlotDoc> {
    return tenantCollection<SlotDoc>(this.db, COLLECTIONS.slots, t);
  }
  private bookings(t: string): TenantCollection<BookingDoc> {
    return tenantCollection<BookingDoc>(this.db, COLLECTIONS.bookings, t);
  }

  // ── events ─────────────────────────────────────────────────────────────
  /** false when an event with this id exists. */
  async insertEvent(tenantId: string, event: BookableEvent): Promise<boolean> {
    try {
      await this.events(tenantId).insertOne({ _id: `${tenantId}:${event.id}`, ...strip(event) });
      return true;
    } catch (err) {
      if (MongoErrors.MONGO_DUPLICATE_KEY.is(err) || isDuplicateKeyError(err)) return false;
      throw err;
    }
  }

  async getEvent(tenantId: string, id: string): Promise<BookableEvent | undefined> {
    const doc = await this.events(tenantId).findOne({ _id: `${tenantId}:${id}` });
    return doc ? withoutMongo(doc) : undefined;
  }

  async replaceEvent(tenantId: string, event: BookableEvent): Promise<void> {
    const { id, ...rest } = strip(event);
    await this.events(tenantId).updateOne({ _id: `${tenantId}:${id}` }, { $set: rest });
  }

  async listEvents(
    tenantId: string,
    opts: { status?: EventStatus; skip: number; limit: number },
  ): Promise<{ items: BookableEvent[]; total: number }> {
    const filter: Filter<EventDoc> = opts.status ? { status: opts.status } : {};
    const coll = this.events(tenantId);
    const [docs, total] = await Promise.all([
      coll.find(filter, { sort: { startsAt: 1, id: 1 }, skip: opts.skip, limit: opts.limit }),
      coll.countDocuments(filter),
    ]);
    return { items: docs.map(withoutMongo), total };
  }

  /** Events not finished that are marked live or take place within a day and a half of `at` (live-evening candidates). */
  async eventsAround(tenantId: string, at: Date): Promise<BookableEvent[]> {
    const margin = 36 * 3_600_000;
    const coll = this.events(tenantId);
    const near = await coll.find({
      status: { $ne: 'finished' },
      startsAt: { $lt: new Date(at.getTime() + margin) },
      endsAt: { $gt: new Date(at.getTime() - margin) },
    } as Filter<EventDoc>);
    const live = await coll.find({ status: 'live' } as Filter<EventDoc>);
    return [...near, ...live].map(withoutMongo);
  }

  async getEventsByIds(tenantId: string, ids: readonly string[]): Promise<Map<string, BookableEvent>> {
    const out = new Map<string, BookableEvent>();
    const unique = [...new Set(ids)];
    if (unique.length === 1) {
      const one = await this.getEvent(tenantId, unique[0]!);
      if (one) out.set(one.id, one);
      return out;
    }
    for (let i = 0; i < unique.length; i += 200) {
      for (const doc of await this.events(tenantId).find({ id: { $in: unique.slice(i, i + 200) } }))
        out.set(doc.id, withoutMongo(doc));
    }
    return out;
  }

  // ── slots ──────────────────────────────────────────────────────────────
  /** Inserts slots; an existing id is kept as it is (idempotent re-send). */
  async insertSlots(tenantId: string, slots: readonly Slot[]): Promise<void> {
    for (const slot of slots) {
      await insertIfAbsent(this.db.collection<SlotDoc>(COLLECTIONS.slots), {
        _id: `${tenantId}:${slot.id}`,
        tenantId,
        ...strip(slot),
      });
    }
  }

  async getSlot(tenantId: string, id: string): Promise<Slot | undefined> {
    const doc = await this.slots(tenantId).findOne({ _id: `${tenantId}:${id}` });
    return doc ? withoutMongo(doc) : undefined;
  }

  async getSlotsByIds(tenantId: string, ids: readonly string[]): Promise<Slot[]> {
    return (await this.slots(tenantId).find({ id: { $in: [...new Set(ids)] } })).map(withoutMongo);
  }

  async listSlots(tenantId: string, eventId: string): Promise<Slot[]> {
    return (await this.slots(tenantId).find({ eventId }, { sort: { startsAt: 1, id: 1 } })).map(withoutMongo);
  }

  async updateSlot(
    tenantId: string,
    id: string,
    set: Partial<Pick<Slot, 'capacity' | 'location'>>,
  ): Promise<void> {
    await this.slots(tenantId).updateOne({ _id: `${tenantId}:${id}` }, { $set: strip(set) });
  }

  // ── bookings ───────────────────────────────────────────────────────────
  /** Inserts a new booking; a collision on its slot place or teacher time is reported, not thrown. */
  async insertBooking(tenantId: string, booking: Booking, slotCapacity: number): Promise<ClaimResult> {
    try {
      await this.bookings(tenantId).insertOne({
        _id: `${tenantId}:${booking.id}`,
        ...strip(booking),
        ...claimKeys(booking, slotCapacity),
      });
      return 'ok';
    } catch (err) {
      if (MongoErrors.MONGO_DUPLICATE_KEY.is(err)) return this.whichClaim(tenantId, booking, slotCapacity);
      throw err;
    }
  }

  /** Which unique claim a write collided with (FerretDB does not say which index failed). */
  private async whichClaim(tenantId: string, booking: Booking, slotCapacity: number): Promise<ClaimResult> {
    const keys = claimKeys({ ...booking, status: 'booked' }, slotCapacity);
    const coll = this.bookings(tenantId);
    if (await coll.findOne({ seatKey: keys.seatKey, id: { $ne: booking.id } })) return 'slot_taken';
    if (await coll.findOne({ teacherKey: keys.teacherKey, id: { $ne: booking.id } })) return 'teacher_busy';
    return 'exists';
  }

  async getBooking(tenantId: string, id: string): Promise<Booking | undefined> {
    const doc = await this.bookings(tenantId).findOne({ _id: `${tenantId}:${id}` });
    return doc ? withoutMongo(doc) : undefined;
  }

  async listBookings(
    tenantId: string,
    filter: BookingFilter,
    page?: { skip: number; limit: number },
  ): Promise<{ items: Booking[]; total: number }> {
    const f: Filter<BookingDoc> = {};
    for (const [k, v] of Object.entries(filter)) if (v !== undefined) (f as Record<string, unknown>)[k] = v;
    const coll = this.bookings(tenantId);
    const docs = await coll.find(f, {
      sort: { startsAt: 1, id: 1 },
      ...(page ? { skip: page.skip, limit: page.limit } : {}),
    });
    const total = page ? await coll.countDocuments(f) : docs.length;
    return { items: docs.map(withoutMongo), total };
  }

  async activeInSlot(tenantId: string, slotId: string): Promise<Booking[]> {
    return (await this.bookings(tenantId).find({ slotId, status: 'booked' })).map(withoutMongo);
  }

  async activeOfTeacher(tenantId: string, staffId: string): Promise<Booking[]> {
    return (await this.bookings(tenantId).find({ staffId, status: 'booked' })).map(withoutMongo);
  }

  /** Bookings naming the person: active ones plus those a roster change already touched (re-runs). */
  async bookingsOfPerson(tenantId: string, kind: PersonKind, personId: string): Promise<Booking[]> {
    return (await this.bookings(tenantId).find({ [PERSON_FIELD[kind]]: personId } as Filter<BookingDoc>)).map(
      withoutMongo,
    );
  }

  /**
   * Every booking (any status) naming any of these people: one query for a batch of removals, over
   * the (tenantId, pupilId / staffId / contactId) indexes (an `$or` of one `$in` per kind present).
   */
  async bookingsNamingAny(
    tenantId: string,
    people: ReadonlyArray<{ kind: PersonKind; personId: string }>,
  ): Promise<Booking[]> {
    const clauses = (['pupil', 'staff', 'contact'] as const).flatMap((kind) => {
      const ids = [...new Set(people.filter((p) => p.kind === kind).map((p) => p.personId))];
      return ids.length ? [{ [PERSON_FIELD[kind]]: { $in: ids } }] : [];
    });
    if (clauses.length === 0) return [];
    const filter = (clauses.length === 1 ? clauses[0] : { $or: clauses }) as Filter<BookingDoc>;
    return (await this.bookings(tenantId).find(filter)).map(withoutMongo);
  }

  /**
   * Cancels the bookings still booked, all in one round trip (each a conditional update like
   * {@link cancel}; a re-run changes nothing). Returns the bookings these writes cancelled: when a
   * write found its booking no longer booked (an admin cancelled it meanwhile), the bookings are read
   * back and only those carrying the given cancellation count.
   */
  async cancelBookings(tenantId: string, items: readonly BookingToCancel[]): Promise<Booking[]> {
    if (items.length === 0) return [];
    const result = await this.bookings(tenantId).updateEach(
      items.map(({ booking, cancellation, entry }) => ({
        filter: stillBooked(tenantId, booking),
        update: cancelUpdate(booking, cancellation, entry),
      })),
    );
    if (result.modified === items.length)
      return items.map(({ booking, cancellation, entry }) => {
        const { pendingCancellation, ...rest } = booking;
        void pendingCancellation;
        return { ...rest, status: 'cancelled' as const, cancellation, history: [...booking.history, entry] };
      });
    const docs = await this.bookings(tenantId).find({
      _id: { $in: items.map((i) => `${tenantId}:${i.booking.id}`) },
    } as Filter<BookingDoc>);
    const byId = new Map(docs.map((d) => [d.id, withoutMongo(d) as Booking]));
    return items.flatMap(({ booking, cancellation }) => {
      const now = byId.get(booking.id);
      const ours =
        now?.status === 'cancelled' &&
        now.cancellation?.roster?.rosterEventId === cancellation.roster?.rosterEventId &&
        now.cancellation?.at.getTime() === cancellation.at.getTime();
      return ours && now ? [now] : [];
    });
  }

  /** Every booking in events that have not finished (preview input). */
  async bookingsOfPeople(
    tenantId: string,
    people: ReadonlyArray<{ kind: PersonKind; personId: string }>,
  ): Promise<Booking[]> {
    const byId = new Map<string, Booking>();
    for (const kind of ['pupil', 'staff', 'contact'] as const) {
      const ids = [...new Set(people.filter((p) => p.kind === kind).map((p) => p.personId))];
      for (let i = 0; i < ids.length; i += 200) {
        const docs = await this.bookings(tenantId).find({
          [PERSON_FIELD[kind]]: { $in: ids.slice(i, i + 200) },
          status: 'booked',
        } as Filter<BookingDoc>);
        for (const d of docs) byId.set(d.id, withoutMongo(d));
      }
    }
    return [...byId.values()];
  }

  /** Bookings held as pending cancellation in an event. */
  async pendingInEvent(tenantId: string, eventId: string): Promise<Booking[]> {
    return (
      await this.bookings(tenantId).find({
        eventId,
        status: 'booked',
        pendingCancellation: { $exists: true },
      })
    ).map(withoutMongo);
  }

  /**
   * Cancels a booking if it is still booked and not reinstated since `booking` was read (conditional
   * update, {@link stillBooked}: a second run changes nothing). Returns the cancelled booking, or
   * undefined when it was not cancelled.
   */
  async cancel(
    tenantId: string,
    booking: Booking,
    cancellation: NonNullable<Booking['cancellation']>,
    entry: HistoryEntry,
  ): Promise<Booking | undefined> {
    return this.cancelWhere(tenantId, stillBooked(tenantId, booking), booking, cancellation, entry);
  }

  /**
   * Cancels a booking only while it is still booked and held exactly as read (`pendingCancellation`
   * equal to the booking's: the stored one was read back, so its fields come in the same order). On
   * FerretDB an update's filter does not match through an array of documents
   * (`pendingCancellation.causes.rosterEventId`; a find does), hence the equality of the whole hold.
   */
  async cancelHeld(
    tenantId: string,
    booking: Booking,
    cancellation: NonNullable<Booking['cancellation']>,
    entry: HistoryEntry,
  ): Promise<Booking | undefined> {
    if (!booking.pendingCancellation) return undefined;
    const held: Filter<BookingDoc> = {
      ...stillBooked(tenantId, booking),
      pendingCancellation: strip(booking.pendingCancellation),
    };
    return this.cancelWhere(tenantId, held, booking, cancellation, entry);
  }

  /** Cancels the booking if `filter` still matches it; the cancelled booking, or undefined. */
  private async cancelWhere(
    tenantId: string,
    filter: Filter<BookingDoc>,
    booking: Booking,
    cancellation: NonNullable<Booking['cancellation']>,
    entry: HistoryEntry,
  ): Promise<Booking | undefined> {
    const updated = await this.bookings(tenantId).findOneAndUpdate(
      filter,
      cancelUpdate(booking, cancellation, entry),
      { returnDocument: 'after' },
    );
    return updated ? withoutMongo(updated) : undefined;
  }

  /**
   * Holds a booking as pending cancellation by `causes`, only while it is booked and held as `booking`
   * says ({@link heldAsRead}). false when it was not written (the hold changed since it was read).
   */
  async setPending(
    tenantId: string,
    booking: Booking,
    causes: NonNullable<Booking['pendingCancellation']>['causes'],
    entry?: HistoryEntry,
  ): Promise<boolean> {
    const result = await this.bookings(tenantId).updateOne(heldAsRead(tenantId, booking), {
      $set: { pendingCancellation: strip({ causes }) },
      ...(entry ? { $push: { history: strip(entry) } } : {}),
    });
    return result.matchedCount > 0;
  }

  /** Releases a booking's hold, only while it is held as `booking` says ({@link heldAsRead}); false when not. */
  async clearPending(tenantId: string, booking: Booking, entry: HistoryEntry): Promise<boolean> {
    const result = await this.bookings(tenantId).updateOne(heldAsRead(tenantId, booking), {
      $unset: { pendingCancellation: '' },
      $push: { history: strip(entry) },
    });
    return result.matchedCount > 0;
  }

  /**
   * Reinstates a cancelled booking into `seat`, only while it is cancelled as read
   * ({@link stillCancelled}; `changed` when not); the unique claims refuse it when the place or the
   * teacher's time was taken meanwhile.
   */
  async reinstate(tenantId: string, request: BookingToReinstate): Promise<ReinstateResult> {
    const { booking, seat, slotCapacity, reinstatement, entry } = request;
    const next = { ...booking, status: 'booked' as const, seat };
    try {
      const result = await this.bookings(tenantId).updateOne(stillCancelled(tenantId, booking), {
        $set: {
          status: 'booked',
          seat,
          reinstatement: strip(reinstatement),
          ...claimKeys(next, slotCapacity),
        },
        $push: { history: strip(entry) },
      });
      return result.matchedCount > 0 ? 'ok' : 'changed';
    } catch (err) {
      if (MongoErrors.MONGO_DUPLICATE_KEY.is(err)) return this.whichClaim(tenantId, next, slotCapacity);
      throw err;
    }
  }

  /**
   * Records why a cancelled booking was not reinstated, only while it is cancelled as read
   * ({@link stillCancelled}). false when it was not written.
   */
  async recordNotReinstated(
    tenantId: string,
    booking: Booking,
    reinstatement: NonNullable<Booking['reinstatement']>,
    entry: HistoryEntry,
  ): Promise<boolean> {
    const result = await this.bookings(tenantId).updateOne(stillCancelled(tenantId, booking), {
      $set: { reinstatement: strip(reinstatement) },
      $push: { history: strip(entry) },
    });
    return result.matchedCount > 0;
  }

  /** Bookings cancelled by a roster removal of this person. */
  async cancelledByRemovalOf(tenantId: string, kind: PersonKind, personId: string): Promise<Booking[]> {
    return (
      await this.bookings(tenantId).find({
        'cancellation.roster.personKind': kind,
        'cancellation.roster.personId': personId,
      } as Filter<BookingDoc>)
    ).map(withoutMongo);
  }

  /** Bookings a roster removal of this sync run cancelled (whatever happened to them since). */
  async cancelledByRun(tenantId: string, syncRunId: string): Promise<Booking[]> {
    return (
      await this.bookings(tenantId).find(
        { 'cancellation.roster.syncRunId': syncRunId } as Filter<BookingDoc>,
        {
          sort: { startsAt: 1, id: 1 },
        },
      )
    ).map(withoutMongo);
  }

  /** Bookings of an event cancelled when the evening ended (re-published until the evening is resolved). */
  async cancelledAtEveningEnd(tenantId: string, eventId: string): Promise<Booking[]> {
    return (
      await this.bookings(tenantId).find({
        eventId,
        status: 'cancelled',
        'cancellation.reason': 'roster_removal_event_finished',
      } as Filter<BookingDoc>)
    ).map(withoutMongo);
  }

  async releasedAtEveningEnd(tenantId: string, eventId: string): Promise<Booking[]> {
    return (
      await this.bookings(tenantId).find({
        eventId,
        'history.reason': EVENING_ENDED,
      } as Filter<BookingDoc>)
    ).map(withoutMongo);
  }

  // ── school settings and held evenings ─────────────────────────────────
  async getSchoolSettings(tenantId: string): Promise<SchoolSettings | undefined> {
    const doc = await tenantCollection<SchoolSettingsDoc>(
      this.db,
      COLLECTIONS.schoolSettings,
      tenantId,
    ).findOne({
      _id: tenantId,
    });
    return doc ? { timeZone: doc.timeZone, updatedAt: doc.updatedAt } : undefined;
  }

  async putSchoolSettings(tenantId: string, settings: SchoolSettings): Promise<void> {
    await tenantCollection<SchoolSettingsDoc>(this.db, COLLECTIONS.schoolSettings, tenantId).updateOne(
      { _id: tenantId },
      { $set: strip(settings) },
      { upsert: true },
    );
  }

  /** Records that an evening has held cancellations (before the first hold is written; idempotent). */
  async noteHeldEvening(tenantId: string, eventId: string, since: Date): Promise<void> {
    await insertIfAbsent(this.db.collection<HeldEveningDoc>(COLLECTIONS.heldEvenings), {
      _id: `${tenantId}|${eventId}`,
      tenantId,
      eventId,
      since,
    });
  }

  /** Every school's evenings with held cancellations (a short list: evenings live today, or just ended). */
  async heldEvenings(tenantId?: string): Promise<HeldEvening[]> {
    const docs = await this.db
      .collection<HeldEveningDoc>(COLLECTIONS.heldEvenings)
      .find(tenantId ? { tenantId } : {})
      .toArray();
    return docs.map(({ tenantId: t, eventId, since }) => ({ tenantId: t, eventId, since }));
  }

  async forgetHeldEvening(tenantId: string, eventId: string): Promise<void> {
    await this.db
      .collection<HeldEveningDoc>(COLLECTIONS.heldEvenings)
      .deleteOne({ _id: `${tenantId}|${eventId}` });
  }

  // ── roster bookkeeping ────────────────────────────────────────────────
  async getPersonState(
    tenantId: string,
    kind: PersonKind,
    personId: string,
  ): Promise<PersonRosterState | undefined> {
    const doc = await tenantCollection<PersonStateDoc>(this.db, COLLECTIONS.personStates, tenantId).findOne({
      _id: personStateId(tenantId, kind, personId),
    });
    return doc ? withoutMongo(doc) : undefined;
  }

  async removedPeople(
    tenantId: string,
    people: ReadonlyArray<{ kind: PersonKind; personId: string }>,
  ): Promise<Set<string>> {
    const out = new Set<string>();
    const coll = tenantCollection<PersonStateDoc>(this.db, COLLECTIONS.personStates, tenantId);
    for (const p of people) {
      const doc = await coll.findOne({ _id: personStateId(tenantId, p.kind, p.personId), state: 'removed' });
      if (doc) out.add(`${p.kind}:${p.personId}`);
    }
    return out;
  }

  /** Records what bookings applied for a person, unless a newer change is recorded ({@link putPersonStates}). */
  async putPersonState(tenantId: string, state: PersonRosterState): Promise<void> {
    await this.putPersonStates(tenantId, [state]);
  }

  /** The applied roster states of these people (one query), by `kind:personId`. */
  async personStatesOf(
    tenantId: string,
    people: ReadonlyArray<{ kind: PersonKind; personId: string }>,
  ): Promise<Map<string, PersonRosterState>> {
    const out = new Map<string, PersonRosterState>();
    if (people.length === 0) return out;
    const docs = await tenantCollection<PersonStateDoc>(this.db, COLLECTIONS.personStates, tenantId).find({
      _id: { $in: [...new Set(people.map((p) => personStateId(tenantId, p.kind, p.personId)))] },
    } as Filter<PersonStateDoc>);
    for (const d of docs) out.set(`${d.kind}:${d.personId}`, withoutMongo(d));
    return out;
  }

  /**
   * Records what bookings applied for several people: the states of people seen for the first time
   * inserted in one round trip, then those already stored replaced in one — each only over a state
   * not newer than it ({@link notNewerThan}): a replica that stalled over an older change never sets
   * a person back. The same change written again (a re-run) is written again.
   */
  async putPersonStates(tenantId: string, states: readonly PersonRosterState[]): Promise<void> {
    const coll = tenantCollection<PersonStateDoc>(this.db, COLLECTIONS.personStates, tenantId);
    const idOf = (state: PersonRosterState) => personStateId(tenantId, state.kind, state.personId);
    const stored = await coll.insertAbsent(states.map((state) => ({ _id: idOf(state), ...strip(state) })));
    const replace = (state: PersonRosterState) => ({
      filter: { _id: idOf(state), ...notNewerThan(state) } as Filter<PersonStateDoc>,
      update: state.revision
        ? { $set: strip(state) }
        : { $set: strip(state), $unset: { revision: '' as const } },
    });
    await coll.updateEach(stored.map((k) => replace(states[k]!)));
  }

  /** Which of these roster event ids are recorded as applied (one query). */
  async processedAmong(tenantId: string, eventIds: readonly string[]): Promise<Set<string>> {
    if (eventIds.length === 0) return new Set();
    const docs = await tenantCollection<ProcessedDoc>(this.db, COLLECTIONS.processedEvents, tenantId).find({
      _id: { $in: [...new Set(eventIds.map((id) => `${tenantId}|${id}`))] },
    } as Filter<ProcessedDoc>);
    return new Set(docs.map((d) => d.eventId));
  }

  /** Records several roster events as applied (after their effects; one round trip; already recorded ones are kept). */
  async markAllProcessed(
    tenantId: string,
    records: ReadonlyArray<{ eventId: string; type: string; outcome: Record<string, number | string> }>,
  ): Promise<void> {
    const processedAt = new Date();
    await tenantCollection<ProcessedDoc>(this.db, COLLECTIONS.processedEvents, tenantId).insertAbsent(
      records.map((r) => ({
        _id: `${tenantId}|${r.eventId}`,
        eventId: r.eventId,
        type: r.type,
        processedAt,
        outcome: r.outcome,
      })),
    );
  }

  async isProcessed(tenantId: string, eventId: string): Promise<boolean> {
    return (
      (await tenantCollection<ProcessedDoc>(this.db, COLLECTIONS.processedEvents, tenantId).findOne({
        _id: `${tenantId}|${eventId}`,
      })) !== null
    );
  }

  /**
   * Drops the processed-event records made before `before`, of every school, in batches by
   * `processed_at`. Called once Kafka can no longer deliver their events (PROCESSED_EVENTS_RETENTION_DAYS,
   * past the roster changes topic's retention and its dead-letter topic's). An event that still came
   * after its record is gone is ordered by its person's state: a removal or restore applied again finds
   * its own effects in place and re-publishes the same event ids (docs/events.md › bookings).
   */
  dropProcessedBefore(before: Date): Promise<number> {
    return sweepExpired(this.db.collection<ProcessedDoc>(COLLECTIONS.processedEvents), 'processedAt', before);
  }

  /** Records a roster event as applied (after its effects; false = it was already recorded). */
  async markProcessed(
    tenantId: string,
    eventId: string,
    type: string,
    outcome: Record<string, number | string>,
  ): Promise<boolean> {
    return insertIfAbsent(this.db.collection<ProcessedDoc>(COLLECTIONS.processedEvents), {
      _id: `${tenantId}|${eventId}`,
      tenantId,
      eventId,
      type,
      processedAt: new Date(),
      outcome,
    });
  }
}
