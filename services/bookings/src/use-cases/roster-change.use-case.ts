import type { CloudEvent, RosterChangeData } from '@isams-sync/events';
import {
  bookingCancellationHeldV1,
  bookingCancelledV1,
  bookingNotReinstatedV1,
  bookingReinstatedV1,
} from '@isams-sync/events';
import type { Logger } from '@isams-sync/logger';
import type { BookingsStore } from '../adapters/mongo/bookings.store';
import type { Booking, NotReinstatedReason, PersonKind, RosterCause } from '../domain/booking-model';
import {
  cancellationReasonFor,
  decideReinstatement,
  decideRemoval,
  decideRemovals,
  remainingHoldCauses,
  removalCancellation,
} from '../domain/removal-decision';
import type { BatchRemoval } from '../domain/removal-decision';
import { isStaleChange } from '../domain/roster-ordering';
import { DEFAULT_SCHOOL_TIME_ZONE } from '../domain/school-calendar';
import {
  activeSpanContext,
  contextFromCarrier,
  recordSpanError,
  startSpan,
  traceCarrierOf,
} from '@isams-sync/telemetry';
import type { Span } from '@isams-sync/telemetry';

/** Publishes booking outcome events (awaited, acks=all). */
export interface BookingEventPublisher {
  publish(events: readonly CloudEvent[]): Promise<void>;
}

/** What one roster change did (for logs, metrics and the processed-event record). */
export interface RosterChangeOutcome {
  status: 'applied' | 'duplicate' | 'stale' | 'ignored';
  cancelled: number;
  held: number;
  reinstated: number;
  notReinstated: number;
}

const PEOPLE: ReadonlySet<string> = new Set(['pupil', 'staff', 'contact']);

const ref = (b: Booking) => ({
  bookingId: b.id,
  eventId: b.eventId,
  slotId: b.slotId,
  pupilId: b.pupilId,
  staffId: b.staffId,
  contactId: b.contactId,
});

const rosterRef = (c: RosterCause) => ({
  rosterEventId: c.rosterEventId,
  personKind: c.personKind,
  personId: c.personId,
  ...(c.syncRunId ? { syncRunId: c.syncRunId } : {}),
  ...(c.heldBatchId ? { heldBatchId: c.heldBatchId } : {}),
});

/** The `booking.cancelled.v1` event of a cancellation; its id depends only on (booking, cause). */
export function cancelledEvent(tenantId: string, b: Booking): CloudEvent {
  const c = b.cancellation!;
  return bookingCancelledV1.create({
    tenantId,
    subject: b.id,
    idParts: [b.id, c.roster?.rosterEventId ?? `user:${c.at.toISOString()}`],
    time: c.at,
    ...(c.roster?.syncRunId ? { syncRunId: c.roster.syncRunId } : {}),
    data: {
      ...ref(b),
      reason: c.reason,
      cancelledAt: c.at.toISOString(),
      ...(c.roster ? { roster: rosterRef(c.roster) } : {}),
    },
  });
}

/**
 * Applies one roster change event to the bookings (the consumer's handler). Exactly once in effect:
 * - a processed-event record (tenant, event id) written AFTER the effects skips duplicates;
 * - every effect is a conditional, idempotent write and every published event has a deterministic
 *   id, so a crash between effects and the record re-runs harmlessly (same events re-published);
 * - per person, the CloudEvent `time` of the last applied change orders changes: an older one
 *   (a replay) changes nothing.
 */
export function createRosterChangeHandler(deps: {
  store: BookingsStore;
  publisher: BookingEventPublisher;
  now?: () => Date;
  logger: Logger;
}) {
  const { store, publisher } = deps;
  const now = deps.now ?? (() => new Date());
  const empty = (status: RosterChangeOutcome['status']): RosterChangeOutcome => ({
    status,
    cancelled: 0,
    held: 0,
    reinstated: 0,
    notReinstated: 0,
  });

  async function handle(event: CloudEvent<RosterChangeData>): Promise<RosterChangeOutcome> {
    const tenantId = event.tenantid;
    const data = event.data;
    if (!PEOPLE.has(data.entityType) || (data.change !== 'removed' && data.change !== 'restored'))
      return empty('ignored');
    if (await store.isProcessed(tenantId, event.id)) return empty('duplicate');
    const kind = data.entityType as PersonKind;
    const at = new Date(event.time);
    const state = await store.getPersonState(tenantId, kind, data.entityId);
    let outcome: RosterChangeOutcome;
    if (isStaleChange(state, at, event.id)) outcome = empty('stale');
    else if (data.change === 'removed') outcome = await applyRemoval(tenantId, event, kind, at);
    else outcome = await applyRestore(tenantId, event, kind, at);
    await store.markProcessed(tenantId, event.id, event.type, { ...outcome });
    return outcome;
  }

  async function applyRemoval(
    tenantId: string,
    event: CloudEvent<RosterChangeData>,
    kind: PersonKind,
    at: Date,
  ): Promise<RosterChangeOutcome> {
    const data = event.data;
    const reason = data.removal?.reason ?? 'absent_from_feed';
    const graceUntil = data.removal?.graceUntil ? new Date(data.removal.graceUntil) : undefined;
    const cause: RosterCause = {
      rosterEventId: event.id,
      personKind: kind,
      personId: data.entityId,
      at,
      syncRunId: data.syncRunId,
      ...(data.removal?.heldBatchId ? { heldBatchId: data.removal.heldBatchId } : {}),
    };
    const bookings = await store.bookingsOfPerson(tenantId, kind, data.entityId);
    const events = await store.getEventsByIds(
      tenantId,
      bookings.map((b) => b.eventId),
    );
    const timeZone = (await store.getSchoolSettings(tenantId))?.timeZone ?? DEFAULT_SCHOOL_TIME_ZONE;
    const decision = decideRemoval(
      { kind, personId: data.entityId, reason, rosterEventId: event.id },
      bookings,
      events,
      now(),
      timeZone,
    );

    const toPublish: CloudEvent[] = decision.republish.map((b) => cancelledEvent(tenantId, b));
    let cancelled = 0;
    for (const b of decision.cancel) {
      const done = await store.cancel(
        tenantId,
        b,
        { reason: cancellationReasonFor(reason), at, roster: cause, ...(graceUntil ? { graceUntil } : {}) },
        { at, action: 'cancelled', reason: cancellationReasonFor(reason), rosterEventId: event.id },
      );
      if (done) {
        cancelled++;
        toPublish.push(cancelledEvent(tenantId, done));
      }
    }
    for (const b of decision.hold) {
      const causes = b.pendingCancellation?.causes ?? [];
      if (!causes.some((c) => c.rosterEventId === event.id)) {
        // On the end-of-evening sweep's work list before the hold exists, so no hold is ever missed.
        await store.noteHeldEvening(tenantId, b.eventId, at);
        await store.setPending(tenantId, b.id, [...causes, cause], {
          at,
          action: 'cancellation_held',
          reason,
          rosterEventId: event.id,
        });
      }
      toPublish.push(
        bookingCancellationHeldV1.create({
          tenantId,
          subject: b.id,
          idParts: [b.id, event.id],
          time: at,
          syncRunId: data.syncRunId,
          data: { ...ref(b), heldAt: at.toISOString(), roster: rosterRef(cause) },
        }),
      );
    }
    await publisher.publish(toPublish);
    await store.putPersonState(tenantId, {
      kind,
      personId: data.entityId,
      state: 'removed',
      changedAt: at,
      rosterEventId: event.id,
      ...(graceUntil ? { graceUntil } : {}),
    });
    return { status: 'applied', cancelled, held: decision.hold.length, reinstated: 0, notReinstated: 0 };
  }

  async function applyRestore(
    tenantId: string,
    event: CloudEvent<RosterChangeData>,
    kind: PersonKind,
    at: Date,
  ): Promise<RosterChangeOutcome> {
    const data = event.data;
    const restore = { kind, personId: data.entityId, rosterEventId: event.id, at };
    const cause: RosterCause = {
      rosterEventId: event.id,
      personKind: kind,
      personId: data.entityId,
      at,
      syncRunId: data.syncRunId,
    };
    const toPublish: CloudEvent[] = [];
    let reinstated = 0;
    let notReinstated = 0;

    // Held (pending) cancellations of this person are released.
    for (const b of await store.bookingsOfPerson(tenantId, kind, data.entityId)) {
      if (b.status !== 'booked' || !b.pendingCancellation) continue;
      const remaining = remainingHoldCauses(b, restore);
      if (remaining.length === b.pendingCancellation.causes.length) continue;
      if (remaining.length === 0)
        await store.clearPending(tenantId, b.id, { at, action: 'hold_cleared', rosterEventId: event.id });
      else await store.setPending(tenantId, b.id, remaining);
    }

    // Cancelled by this person's removal → reinstate when possible, else record why not.
    const candidates = (await store.cancelledByRemovalOf(tenantId, kind, data.entityId)).filter(
      (b) => b.status === 'cancelled' || b.reinstatement?.rosterEventId === event.id,
    );
    const events = await store.getEventsByIds(
      tenantId,
      candidates.map((b) => b.eventId),
    );
    for (const b of candidates) {
      const cancelledBy = b.cancellation!.roster!.rosterEventId;
      if (b.status === 'booked') {
        // Reinstated by this event before a crash: publish again (same id).
        toPublish.push(reinstatedEvent(tenantId, b, cause, cancelledBy));
        continue;
      }
      if (
        b.reinstatement &&
        b.reinstatement.rosterEventId === event.id &&
        b.reinstatement.outcome !== 'reinstated'
      ) {
        toPublish.push(notReinstatedEvent(tenantId, b, cause, b.reinstatement.outcome));
        continue;
      }
      if (b.reinstatement && b.reinstatement.at.getTime() > b.cancellation!.at.getTime()) continue; // an earlier restore already decided
      const [slot] = await store.getSlotsByIds(tenantId, [b.slotId]);
      const others = (['pupil', 'staff', 'contact'] as const).map((k) => ({
        kind: k,
        personId: k === 'pupil' ? b.pupilId : k === 'staff' ? b.staffId : b.contactId,
      }));
      const decision = decideReinstatement(b, restore, {
        event: events.get(b.eventId),
        activeInSlot: await store.activeInSlot(tenantId, b.slotId),
        slotCapacity: slot?.capacity ?? 1,
        teacherActive: await store.activeOfTeacher(tenantId, b.staffId),
        removedPeople: await store.removedPeople(tenantId, others),
      });
      let outcome: string = decision.outcome;
      if (decision.outcome === 'reinstate') {
        const claim = await store.reinstate(
          tenantId,
          b,
          decision.seat,
          slot?.capacity ?? 1,
          { at, rosterEventId: event.id, outcome: 'reinstated' },
          { at, action: 'reinstated', rosterEventId: event.id },
        );
        outcome = claim === 'ok' ? 'reinstated' : claim === 'teacher_busy' ? 'teacher_busy' : 'slot_taken';
      }
      if (outcome === 'reinstated') {
        reinstated++;
        toPublish.push(
          reinstatedEvent(
            tenantId,
            { ...b, seat: decision.outcome === 'reinstate' ? decision.seat : b.seat },
            cause,
            cancelledBy,
          ),
        );
      } else {
        notReinstated++;
        const reason = outcome as NotReinstatedReason;
        await store.recordNotReinstated(
          tenantId,
          b.id,
          { at, rosterEventId: event.id, outcome: reason },
          { at, action: 'not_reinstated', reason, rosterEventId: event.id },
        );
        toPublish.push(notReinstatedEvent(tenantId, b, cause, reason));
      }
    }
    await publisher.publish(toPublish);
    await store.putPersonState(tenantId, {
      kind,
      personId: data.entityId,
      state: 'present',
      changedAt: at,
      rosterEventId: event.id,
    });
    return { status: 'applied', cancelled: 0, held: 0, reinstated, notReinstated };
  }

  /**
   * Applies consecutive roster change events (one Kafka batch of a partition, several schools mixed)
   * with the same outcome as {@link handle} called on each in order. Removals are applied in bulk:
   * per school, ONE lookup of the bookings naming the removed people, then the pure
   * {@link decideRemovals}, the cancellations in one bulk write, the booking events in one publish,
   * the person states and processed records in one bulk write each — effects, publish, state, record,
   * the same order as one event, so a crash at any step re-runs the batch to the same state. A
   * `restored` (rare in a burst) is applied alone, in its place; a person removed twice starts a new
   * bulk group. Returns the outcome of each event, in order.
   */
  async function handleBatch(
    events: ReadonlyArray<CloudEvent<RosterChangeData>>,
  ): Promise<RosterChangeOutcome[]> {
    const outcomes: RosterChangeOutcome[] = Array.from({ length: events.length }, () => empty('ignored'));
    let group: number[] = [];
    const people = new Set<string>();
    const flush = async () => {
      if (group.length > 0) {
        const done = await applyRemovals(group.map((i) => events[i]!));
        group.forEach((i, k) => (outcomes[i] = done[k]!));
      }
      group = [];
      people.clear();
    };
    for (const [i, event] of events.entries()) {
      const data = event.data;
      if (!PEOPLE.has(data.entityType) || (data.change !== 'removed' && data.change !== 'restored')) continue;
      if (data.change === 'restored') {
        await flush();
        outcomes[i] = await handle(event);
        continue;
      }
      const key = `${event.tenantid}|${data.entityType}|${data.entityId}`;
      if (people.has(key)) await flush();
      group.push(i);
      people.add(key);
    }
    await flush();
    return outcomes;
  }

  /** Removals of distinct people (any schools): applied per school, in bulk. */
  async function applyRemovals(
    events: ReadonlyArray<CloudEvent<RosterChangeData>>,
  ): Promise<RosterChangeOutcome[]> {
    const byTenant = new Map<string, number[]>();
    for (const [i, e] of events.entries()) byTenant.set(e.tenantid, [...(byTenant.get(e.tenantid) ?? []), i]);
    const outcomes: RosterChangeOutcome[] = new Array<RosterChangeOutcome>(events.length);
    for (const [tenantId, indexes] of byTenant) {
      const done = await applyRemovalsOfSchool(
        tenantId,
        indexes.map((i) => events[i]!),
      );
      indexes.forEach((i, k) => (outcomes[i] = done[k]!));
    }
    return outcomes;
  }

  async function applyRemovalsOfSchool(
    tenantId: string,
    events: ReadonlyArray<CloudEvent<RosterChangeData>>,
  ): Promise<RosterChangeOutcome[]> {
    const person = (e: CloudEvent<RosterChangeData>) => ({
      kind: e.data.entityType as PersonKind,
      personId: e.data.entityId,
    });
    const outcomes = new Map<string, RosterChangeOutcome>();
    const processed = await store.processedAmong(
      tenantId,
      events.map((e) => e.id),
    );
    for (const e of events) if (processed.has(e.id)) outcomes.set(e.id, empty('duplicate'));
    const fresh = events.filter((e) => !processed.has(e.id));
    const states = await store.personStatesOf(tenantId, fresh.map(person));
    const removals: Array<{ event: CloudEvent<RosterChangeData>; removal: BatchRemoval }> = [];
    for (const e of fresh) {
      const at = new Date(e.time);
      if (isStaleChange(states.get(`${e.data.entityType}:${e.data.entityId}`), at, e.id)) {
        outcomes.set(e.id, empty('stale'));
        continue;
      }
      const { kind, personId } = person(e);
      const reason = e.data.removal?.reason ?? 'absent_from_feed';
      const graceUntil = e.data.removal?.graceUntil ? new Date(e.data.removal.graceUntil) : undefined;
      const cause: RosterCause = {
        rosterEventId: e.id,
        personKind: kind,
        personId,
        at,
        syncRunId: e.data.syncRunId,
        ...(e.data.removal?.heldBatchId ? { heldBatchId: e.data.removal.heldBatchId } : {}),
      };
      removals.push({
        event: e,
        removal: {
          kind,
          personId,
          reason,
          rosterEventId: e.id,
          cause,
          ...(graceUntil ? { graceUntil } : {}),
        },
      });
    }

    if (removals.length > 0) {
      const bookings = await store.bookingsNamingAny(
        tenantId,
        removals.map((r) => r.removal),
      );
      const bookableEvents = await store.getEventsByIds(
        tenantId,
        bookings.map((b) => b.eventId),
      );
      const timeZone = (await store.getSchoolSettings(tenantId))?.timeZone ?? DEFAULT_SCHOOL_TIME_ZONE;
      const decisions = decideRemovals(
        removals.map((r) => r.removal),
        bookings,
        bookableEvents,
        now(),
        timeZone,
      );

      // Holds (live evenings; rare) first, one by one in order: a held booking that a later removal
      // of the batch cancels (an approved held batch) gets both history entries, as one by one.
      for (const [k, d] of decisions.entries()) {
        const { removal } = removals[k]!;
        const at = removal.cause.at;
        for (const b of d.hold) {
          const causes = b.pendingCancellation?.causes ?? [];
          if (causes.some((c) => c.rosterEventId === removal.rosterEventId)) continue;
          // On the end-of-evening sweep's work list before the hold exists, so no hold is ever missed.
          await store.noteHeldEvening(tenantId, b.eventId, at);
          await store.setPending(tenantId, b.id, [...causes, removal.cause], {
            at,
            action: 'cancellation_held',
            reason: removal.reason,
            rosterEventId: removal.rosterEventId,
          });
        }
      }
      const cancelled = await store.cancelBookings(
        tenantId,
        decisions.flatMap((d, k) => {
          const { removal } = removals[k]!;
          return d.cancel.map((booking) => ({
            booking,
            cancellation: removalCancellation(removal),
            entry: {
              at: removal.cause.at,
              action: 'cancelled' as const,
              reason: cancellationReasonFor(removal.reason),
              rosterEventId: removal.rosterEventId,
            },
          }));
        }),
      );
      const cancelledBy = new Map<string, Booking[]>();
      for (const b of cancelled) {
        const id = b.cancellation!.roster!.rosterEventId;
        cancelledBy.set(id, [...(cancelledBy.get(id) ?? []), b]);
      }

      const toPublish: CloudEvent[] = [];
      // The batch's span is a trace of its own (several runs and schools): each removal gets a span
      // in its own run's trace (a child of the change event's context, linked to the batch span), and
      // the booking events it causes carry that span's context (docs/observability.md › Batches).
      const batchSpan = activeSpanContext();
      const spans: Span[] = [];
      for (const [k, d] of decisions.entries()) {
        const { event, removal } = removals[k]!;
        const at = removal.cause.at;
        const mine = cancelledBy.get(event.id) ?? [];
        const traced = startSpan('bookings.apply-removal', {
          parent: contextFromCarrier(event),
          ...(batchSpan === undefined ? {} : { links: [{ context: batchSpan }] }),
          attributes: {
            'isams_sync.tenant_id': tenantId,
            'cloudevents.event_id': event.id,
            'isams_sync.bookings_cancelled': mine.length,
            'isams_sync.bookings_held': d.hold.length,
            'isams_sync.bookings_republished': d.republish.length,
          },
        });
        spans.push(traced.span);
        const carrier = traceCarrierOf(traced.context);
        const causedHere = (e: CloudEvent): CloudEvent => ({ ...e, ...carrier });
        toPublish.push(...d.republish.map((b) => causedHere(cancelledEvent(tenantId, b))));
        toPublish.push(...mine.map((b) => causedHere(cancelledEvent(tenantId, b))));
        for (const b of d.hold) {
          toPublish.push(
            causedHere(
              bookingCancellationHeldV1.create({
                tenantId,
                subject: b.id,
                idParts: [b.id, event.id],
                time: at,
                syncRunId: event.data.syncRunId,
                data: { ...ref(b), heldAt: at.toISOString(), roster: rosterRef(removal.cause) },
              }),
            ),
          );
        }
        outcomes.set(event.id, {
          status: 'applied',
          cancelled: mine.length,
          held: d.hold.length,
          reinstated: 0,
          notReinstated: 0,
        });
      }
      try {
        await publisher.publish(toPublish);
      } catch (err) {
        for (const span of spans) recordSpanError(span, err);
        throw err;
      } finally {
        for (const span of spans) span.end();
      }
      await store.putPersonStates(
        tenantId,
        removals.map(({ removal }) => ({
          kind: removal.kind,
          personId: removal.personId,
          state: 'removed' as const,
          changedAt: removal.cause.at,
          rosterEventId: removal.rosterEventId,
          ...(removal.graceUntil ? { graceUntil: removal.graceUntil } : {}),
        })),
      );
    }
    await store.markAllProcessed(
      tenantId,
      fresh.map((e) => ({ eventId: e.id, type: e.type, outcome: { ...outcomes.get(e.id)! } })),
    );
    return events.map((e) => outcomes.get(e.id)!);
  }

  return { handle, handleBatch };
}

function reinstatedEvent(tenantId: string, b: Booking, cause: RosterCause, cancelledBy: string): CloudEvent {
  return bookingReinstatedV1.create({
    tenantId,
    subject: b.id,
    idParts: [b.id, cause.rosterEventId],
    time: cause.at,
    ...(cause.syncRunId ? { syncRunId: cause.syncRunId } : {}),
    data: {
      ...ref(b),
      reinstatedAt: cause.at.toISOString(),
      roster: rosterRef(cause),
      cancelledByRosterEventId: cancelledBy,
    },
  });
}

function notReinstatedEvent(
  tenantId: string,
  b: Booking,
  cause: RosterCause,
  reason: NotReinstatedReason,
): CloudEvent {
  return bookingNotReinstatedV1.create({
    tenantId,
    subject: b.id,
    idParts: [b.id, cause.rosterEventId],
    time: cause.at,
    ...(cause.syncRunId ? { syncRunId: cause.syncRunId } : {}),
    data: { ...ref(b), reason, roster: rosterRef(cause) },
  });
}
