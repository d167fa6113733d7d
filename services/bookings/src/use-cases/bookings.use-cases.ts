import { randomUUID } from 'node:crypto';
import type { BookingsStore, BookingFilter } from './ports';
import type {
  BookableEvent,
  Booking,
  EventKind,
  EventStatus,
  NotReinstatedReason,
  PersonKind,
  Slot,
} from '../domain/booking-model';
import { assertStatusTransition, decideNewBooking } from '../domain/booking-rules';
import { BookingsErrors } from '../domain/bookings-errors';
import { decideReinstatement } from '../domain/removal-decision';
import { personKey, personOf } from '../domain/booking-model';
import { previewRemovalImpact } from '../domain/removal-impact';
import { DEFAULT_SCHOOL_TIME_ZONE, eveningState, isTimeZone } from '../domain/school-calendar';
import type { EveningState } from '../domain/school-calendar';
import type { RemovalImpact } from '../domain/removal-impact';
import type { RosterDirectory } from '../domain/roster-directory.port';
import { cancelledEvent } from '../domain/booking-events';
import type { BookingEventPublisher } from '../domain/booking-event-publisher.port';
import { resolveEvening as resolveHeldEvening } from './evening-resolution';

export interface BookingsDeps {
  store: BookingsStore;
  publisher: BookingEventPublisher;
  roster: RosterDirectory;
  now?: () => Date;
  newId?: () => string;
}

/** An evening as the dashboard shows it: live now, or with cancellations still held. */
export interface EveningHolds {
  event: BookableEvent;
  state: EveningState;
  /** Bookings kept although a removal named them (pending cancellation), by start time. */
  pending: Booking[];
  /** Distinct contacts (parents who booked) among `pending`. */
  familiesAffected: number;
}

/** One booking a run's removals cancelled, and what undoing the run does (or did) to it. */
export interface ReinstatementLine {
  booking: Booking;
  /** `reinstated` (done), `can_reinstate` (preview), or why not (`slot_taken`, `event_finished`, …). */
  outcome: 'reinstated' | 'can_reinstate' | NotReinstatedReason;
}

export interface Page {
  skip: number;
  limit: number;
}

/** What every group of use cases shares: the ports, the clock, new ids and lookups that fail specifically. */
interface UseCaseContext {
  store: BookingsStore;
  publisher: BookingEventPublisher;
  roster: RosterDirectory;
  now: () => Date;
  newId: () => string;
  requireEvent(tenantId: string, eventId: string): Promise<BookableEvent>;
  requireSlot(tenantId: string, slotId: string): Promise<Slot>;
  requireBooking(tenantId: string, bookingId: string): Promise<Booking>;
  schoolTimeZone(tenantId: string): Promise<string>;
  resolveEvening(tenantId: string, event: BookableEvent): Promise<number>;
}

/** The API's use cases; handlers translate gRPC in and out around these. */
export function createBookingsUseCases(deps: BookingsDeps) {
  const ctx = useCaseContext(deps);
  return {
    ...eventUseCases(ctx),
    ...slotUseCases(ctx),
    ...bookingUseCases(ctx),
    ...removalReportUseCases(ctx),
    ...eveningUseCases(ctx),
  };
}

export type BookingsUseCases = ReturnType<typeof createBookingsUseCases>;

function useCaseContext(deps: BookingsDeps): UseCaseContext {
  const { store, publisher } = deps;
  const now = deps.now ?? (() => new Date());
  const newId = deps.newId ?? (() => randomUUID());

  async function requireEvent(tenantId: string, eventId: string): Promise<BookableEvent> {
    const event = await store.getEvent(tenantId, eventId);
    if (!event) throw BookingsErrors.BOOKINGS_EVENT_NOT_FOUND({ eventId });
    return event;
  }

  async function requireSlot(tenantId: string, slotId: string): Promise<Slot> {
    const slot = await store.getSlot(tenantId, slotId);
    if (!slot) throw BookingsErrors.BOOKINGS_SLOT_NOT_FOUND({ slotId });
    return slot;
  }

  async function requireBooking(tenantId: string, bookingId: string): Promise<Booking> {
    const booking = await store.getBooking(tenantId, bookingId);
    if (!booking) throw BookingsErrors.BOOKINGS_BOOKING_NOT_FOUND({ bookingId });
    return booking;
  }

  async function schoolTimeZone(tenantId: string): Promise<string> {
    return (await store.getSchoolSettings(tenantId))?.timeZone ?? DEFAULT_SCHOOL_TIME_ZONE;
  }

  /** Resolves an ended evening's held cancellations (`evening-resolution.ts`). */
  const resolveEvening = (tenantId: string, event: BookableEvent) =>
    resolveHeldEvening({ store, publisher, now }, tenantId, event);

  return {
    ...deps,
    now,
    newId,
    requireEvent,
    requireSlot,
    requireBooking,
    schoolTimeZone,
    resolveEvening,
  };
}

/** Bookable events (parents' evenings, clubs). */
function eventUseCases({ store, now, newId, requireEvent, resolveEvening }: UseCaseContext) {
  return {
    async createEvent(
      tenantId: string,
      input: {
        id?: string;
        kind: EventKind;
        title: string;
        startsAt: Date;
        endsAt: Date;
        status: EventStatus;
      },
    ): Promise<BookableEvent> {
      const at = now();
      const event: BookableEvent = { ...input, id: input.id ?? newId(), createdAt: at, updatedAt: at };
      if (!(await store.insertEvent(tenantId, event)))
        throw BookingsErrors.BOOKINGS_EVENT_EXISTS({ eventId: event.id });
      return event;
    },

    async updateEvent(
      tenantId: string,
      eventId: string,
      patch: { title?: string; startsAt?: Date; endsAt?: Date; status?: EventStatus },
    ): Promise<BookableEvent> {
      const event = await requireEvent(tenantId, eventId);
      if (
        event.status === 'finished' &&
        (patch.status ?? 'finished') === 'finished' &&
        Object.keys(patch).some((k) => k !== 'status')
      ) {
        throw BookingsErrors.BOOKINGS_EVENT_FINISHED({ eventId });
      }
      if (patch.status) assertStatusTransition(event.status, patch.status);
      const next: BookableEvent = { ...event, ...patch, updatedAt: now() };
      if (next.endsAt.getTime() <= next.startsAt.getTime()) {
        throw BookingsErrors.BOOKINGS_INVALID_REQUEST({
          fields: [{ field: 'ends_at', problem: 'must be after starts_at' }],
        });
      }
      await store.replaceEvent(tenantId, next);
      if (next.status === 'finished') await resolveEvening(tenantId, next);
      return next;
    },

    getEvent: requireEvent,

    listEvents: (tenantId: string, status: EventStatus | undefined, page: Page) =>
      store.listEvents(tenantId, { status, ...page }),
  };
}

/** The slots of an event. */
function slotUseCases({ store, newId, requireEvent, requireSlot }: UseCaseContext) {
  return {
    async createSlots(
      tenantId: string,
      eventId: string,
      inputs: Array<Omit<Slot, 'id' | 'eventId'> & { id?: string }>,
    ): Promise<Slot[]> {
      const event = await requireEvent(tenantId, eventId);
      if (event.status === 'finished') throw BookingsErrors.BOOKINGS_EVENT_FINISHED({ eventId });
      const slots = inputs.map((s) => ({ ...s, id: s.id ?? newId(), eventId }));
      const outside = slots.findIndex((s) => s.startsAt < event.startsAt || s.endsAt > event.endsAt);
      if (outside >= 0) {
        throw BookingsErrors.BOOKINGS_INVALID_REQUEST({
          fields: [{ field: `slots[${outside}]`, problem: 'must lie within the event’s starts_at..ends_at' }],
        });
      }
      await store.insertSlots(tenantId, slots);
      const stored = await store.getSlotsByIds(
        tenantId,
        slots.map((s) => s.id),
      );
      const foreign = stored.find((s) => s.eventId !== eventId);
      if (foreign) throw BookingsErrors.BOOKINGS_SLOT_EXISTS({ slotId: foreign.id });
      const byId = new Map(stored.map((s) => [s.id, s]));
      return slots.map((s) => byId.get(s.id) ?? s);
    },

    async updateSlot(
      tenantId: string,
      slotId: string,
      patch: { capacity?: number; location?: string },
    ): Promise<Slot> {
      const slot = await requireSlot(tenantId, slotId);
      const event = await requireEvent(tenantId, slot.eventId);
      if (event.status === 'finished') throw BookingsErrors.BOOKINGS_EVENT_FINISHED({ eventId: event.id });
      if (patch.capacity !== undefined) {
        const active = await store.activeInSlot(tenantId, slotId);
        const highestSeat = Math.max(-1, ...active.map((b) => b.seat));
        if (patch.capacity <= highestSeat) {
          throw BookingsErrors.BOOKINGS_INVALID_REQUEST({
            fields: [
              {
                field: 'capacity',
                problem: `${active.length} place(s) are booked, up to place ${highestSeat + 1}`,
              },
            ],
          });
        }
      }
      await store.updateSlot(tenantId, slotId, patch);
      return { ...slot, ...patch };
    },

    async listSlots(tenantId: string, eventId: string): Promise<Slot[]> {
      await requireEvent(tenantId, eventId);
      return store.listSlots(tenantId, eventId);
    },
  };
}

/** Booking and cancelling a slot. */
function bookingUseCases({
  store,
  publisher,
  roster,
  now,
  newId,
  requireEvent,
  requireSlot,
  requireBooking,
}: UseCaseContext) {
  return {
    async createBooking(
      tenantId: string,
      input: { slotId: string; staffId?: string; pupilId: string; contactId: string },
      signal?: AbortSignal,
    ): Promise<Booking> {
      const slot = await requireSlot(tenantId, input.slotId);
      const event = await requireEvent(tenantId, slot.eventId);
      const staffId = input.staffId ?? slot.staffId;
      const decision = decideNewBooking(input, {
        event,
        slot,
        activeInSlot: await store.activeInSlot(tenantId, slot.id),
        teacherActive: staffId ? await store.activeOfTeacher(tenantId, staffId) : [],
      });
      const people: Array<[PersonKind, string]> = [
        ['staff', decision.staffId],
        ['pupil', input.pupilId],
        ['contact', input.contactId],
      ];
      for (const [kind, personId] of people) {
        if (!(await roster.personExists(tenantId, kind, personId, signal)))
          throw BookingsErrors.BOOKINGS_PERSON_UNKNOWN({ kind, personId });
      }
      const at = now();
      const booking: Booking = {
        id: newId(),
        eventId: event.id,
        slotId: slot.id,
        staffId: decision.staffId,
        pupilId: input.pupilId,
        contactId: input.contactId,
        startsAt: slot.startsAt,
        endsAt: slot.endsAt,
        seat: decision.seat,
        status: 'booked',
        createdAt: at,
        history: [{ at, action: 'booked' }],
      };
      const claim = await store.insertBooking(tenantId, booking, slot.capacity);
      // A concurrent request won the same place or teacher time between our read and our insert.
      if (claim === 'slot_taken')
        throw BookingsErrors.BOOKINGS_SLOT_FULL({ slotId: slot.id, capacity: slot.capacity });
      if (claim === 'teacher_busy')
        throw BookingsErrors.BOOKINGS_TEACHER_DOUBLE_BOOKED({
          staffId: decision.staffId,
          conflictingBookingId: 'concurrent',
        });
      if (claim !== 'ok')
        throw BookingsErrors.BOOKINGS_SLOT_FULL({ slotId: slot.id, capacity: slot.capacity });
      return booking;
    },

    async cancelBooking(tenantId: string, bookingId: string, actor: string | undefined): Promise<Booking> {
      const booking = await requireBooking(tenantId, bookingId);
      if (booking.status === 'cancelled') throw BookingsErrors.BOOKINGS_ALREADY_CANCELLED({ bookingId });
      const event = await store.getEvent(tenantId, booking.eventId);
      if (event?.status === 'finished')
        throw BookingsErrors.BOOKINGS_EVENT_FINISHED({ eventId: booking.eventId });
      const at = now();
      const done = await store.cancel(
        tenantId,
        booking,
        { reason: 'user_cancelled', at, ...(actor ? { actor } : {}) },
        { at, action: 'cancelled', reason: 'user_cancelled', ...(actor ? { actor } : {}) },
      );
      if (!done) throw BookingsErrors.BOOKINGS_ALREADY_CANCELLED({ bookingId });
      await publisher.publish([cancelledEvent(tenantId, done)]);
      return done;
    },

    getBooking: requireBooking,

    listBookings: (tenantId: string, filter: BookingFilter, page: Page) =>
      store.listBookings(tenantId, filter, page),
  };
}

/** What removals do and did to bookings: the impact preview and the reinstatement report. */
function removalReportUseCases({ store, now, schoolTimeZone }: UseCaseContext) {
  return {
    /** The impact of removing these people, computed with the consumer's own decision function. */
    async previewRemovalImpact(
      tenantId: string,
      removals: ReadonlyArray<{ kind: PersonKind; personId: string }>,
      reason: 'absent_from_feed' | 'approved_held_batch',
    ): Promise<RemovalImpact> {
      const bookings = await store.bookingsOfPeople(tenantId, removals);
      const events = await store.getEventsByIds(
        tenantId,
        bookings.map((b) => b.eventId),
      );
      return previewRemovalImpact(removals, reason, bookings, events, now(), await schoolTimeZone(tenantId));
    },

    schoolTimeZone,

    /**
     * The bookings a sync run's removals cancelled, each with what restoring those people does:
     * after the restore, its outcome (`reinstated` or why not); before it, the same decision the
     * consumer will take ({@link decideReinstatement}, now), with the people being restored
     * (`restoring`) counted as present — so the preview an admin sees before undoing a run is
     * what the undo does, unless a slot is taken meanwhile.
     */
    async runReinstatementReport(
      tenantId: string,
      syncRunId: string,
      restoring: ReadonlyArray<{ kind: PersonKind; personId: string }>,
    ): Promise<ReinstatementLine[]> {
      const at = now();
      const timeZone = await schoolTimeZone(tenantId);
      const back = new Set(restoring.map((p) => personKey(p.kind, p.personId)));
      const bookings = await store.cancelledByRun(tenantId, syncRunId);
      const events = await store.getEventsByIds(
        tenantId,
        bookings.map((b) => b.eventId),
      );
      const lines: ReinstatementLine[] = [];
      for (const b of bookings) {
        const c = b.cancellation!;
        if (b.status === 'booked') {
          lines.push({ booking: b, outcome: 'reinstated' });
          continue;
        }
        // Decided for good since the cancellation; `other_person_removed` is decided again by the
        // restore of each person the booking names, so it is previewed afresh.
        if (
          b.reinstatement &&
          b.reinstatement.at.getTime() > c.at.getTime() &&
          b.reinstatement.outcome !== 'reinstated' &&
          b.reinstatement.outcome !== 'other_person_removed'
        ) {
          lines.push({ booking: b, outcome: b.reinstatement.outcome });
          continue;
        }
        const [slot] = await store.getSlotsByIds(tenantId, [b.slotId]);
        const people = (['pupil', 'staff', 'contact'] as const).map((k) => ({
          kind: k,
          personId: personOf(b, k),
        }));
        const removed = await store.removedPeople(tenantId, people);
        for (const key of back) removed.delete(key);
        const decision = decideReinstatement(
          b,
          { kind: c.roster!.personKind, personId: c.roster!.personId, rosterEventId: 'preview', at },
          {
            now: at,
            timeZone,
            event: events.get(b.eventId),
            activeInSlot: await store.activeInSlot(tenantId, b.slotId),
            slotCapacity: slot?.capacity ?? 1,
            teacherActive: await store.activeOfTeacher(tenantId, b.staffId),
            removedPeople: removed,
          },
        );
        lines.push({
          booking: b,
          outcome: decision.outcome === 'reinstate' ? 'can_reinstate' : decision.outcome,
        });
      }
      return lines;
    },
  };
}

/** The school's time zone and its evenings: live ones, held cancellations, the end-of-evening sweep. */
function eveningUseCases({ store, now, schoolTimeZone, resolveEvening }: UseCaseContext) {
  return {
    /** Sets the school's time zone (an IANA name): what "an evening open today" means for it. */
    async setSchoolTimeZone(
      tenantId: string,
      timeZone: string,
    ): Promise<{ timeZone: string; updatedAt: Date }> {
      if (!isTimeZone(timeZone))
        throw BookingsErrors.BOOKINGS_TIME_ZONE_UNKNOWN({ timeZone: timeZone.slice(0, 64) });
      const settings = { timeZone, updatedAt: now() };
      await store.putSchoolSettings(tenantId, settings);
      return settings;
    },

    /**
     * The school's live evenings (in its time zone) and every evening with cancellations still held,
     * with the held bookings: what the dashboard shows and the Run button warns about.
     */
    async listEvenings(tenantId: string): Promise<{ timeZone: string; evenings: EveningHolds[] }> {
      const timeZone = await schoolTimeZone(tenantId);
      const at = now();
      const candidates = new Map<string, BookableEvent>();
      for (const e of await store.eventsAround(tenantId, at)) candidates.set(e.id, e);
      const held = await store.heldEvenings(tenantId);
      for (const [id, e] of await store.getEventsByIds(
        tenantId,
        held.map((x) => x.eventId),
      ))
        candidates.set(id, e);
      const evenings: EveningHolds[] = [];
      for (const event of candidates.values()) {
        const state = eveningState(event, at, timeZone);
        const pending = (await store.pendingInEvent(tenantId, event.id)).sort(
          (a, b) => a.startsAt.getTime() - b.startsAt.getTime() || a.id.localeCompare(b.id),
        );
        if (state !== 'live' && pending.length === 0) continue;
        evenings.push({
          event,
          state,
          pending,
          familiesAffected: new Set(pending.map((b) => b.contactId)).size,
        });
      }
      evenings.sort(
        (a, b) =>
          a.event.startsAt.getTime() - b.event.startsAt.getTime() || a.event.id.localeCompare(b.event.id),
      );
      return { timeZone, evenings };
    },

    /**
     * The end-of-evening sweep (every school): resolves the held cancellations of each evening that
     * has ended — set to finished, or its day passed on the school's calendar.
     */
    async resolveEndedEvenings(): Promise<{ evenings: number; cancelled: number }> {
      let evenings = 0;
      let cancelled = 0;
      const at = now();
      for (const held of await store.heldEvenings()) {
        const event = await store.getEvent(held.tenantId, held.eventId);
        if (!event) {
          await store.forgetHeldEvening(held.tenantId, held.eventId);
          continue;
        }
        if (eveningState(event, at, await schoolTimeZone(held.tenantId)) !== 'ended') continue;
        evenings++;
        cancelled += await resolveEvening(held.tenantId, event);
      }
      return { evenings, cancelled };
    },
  };
}
