import type { CloudEvent, RosterChangeData } from '@isams-sync/events';
import {
  activeSpanContext,
  contextFromCarrier,
  recordSpanError,
  startSpan,
  traceCarrierOf,
} from '@isams-sync/telemetry';
import type { Span } from '@isams-sync/telemetry';
import type { BookingsStore } from './ports';
import { BookingsErrors } from '../domain/bookings-errors';
import type { BookingEventPublisher } from '../domain/booking-event-publisher.port';
import type { Booking } from '../domain/booking-model';
import { decideRemoval, decideRemovals, removalCancellation } from '../domain/removal-decision';
import type { BatchRemoval, RemovalDecision } from '../domain/removal-decision';
import {
  byCancellingEvent,
  cancellationsOf,
  cancelledEntry,
  eveningsHeldBy,
  holdsToWrite,
  indexesBySchool,
  personOfChange,
  removalApplied,
  removalEvents,
  removalOf,
  removedState,
  sortRemovals,
} from '../domain/roster-change-plan';
import type { BatchRemovalOf, RosterChangeOutcome } from '../domain/roster-change-plan';
import { DEFAULT_SCHOOL_TIME_ZONE, eveningState } from '../domain/school-calendar';
import { resolveEvening } from './evening-resolution';

/** What the removal steps carry a decision out with. */
export interface RemovalDeps {
  store: BookingsStore;
  publisher: BookingEventPublisher;
  now: () => Date;
}

type RosterChangeEvent = CloudEvent<RosterChangeData>;

async function schoolTimeZone(store: BookingsStore, tenantId: string): Promise<string> {
  return (await store.getSchoolSettings(tenantId))?.timeZone ?? DEFAULT_SCHOOL_TIME_ZONE;
}

/**
 * Applies one `removed` change (neither processed nor stale): the person's bookings are cancelled
 * one by one, then held, then every outcome event is published, then the person's state is written.
 */
export async function applyRemoval(
  deps: RemovalDeps,
  event: RosterChangeEvent,
): Promise<RosterChangeOutcome> {
  const { store, publisher } = deps;
  const tenantId = event.tenantid;
  const removal = removalOf(event);
  const bookings = await store.bookingsOfPerson(tenantId, removal.kind, removal.personId);
  const events = await store.getEventsByIds(
    tenantId,
    bookings.map((b) => b.eventId),
  );
  const timeZone = await schoolTimeZone(store, tenantId);
  const decision = decideRemoval(removal, bookings, events, deps.now(), timeZone);

  const cancelledByIt: Booking[] = [];
  for (const b of decision.cancel) {
    const done = await store.cancel(tenantId, b, removalCancellation(removal), cancelledEntry(removal));
    if (done) cancelledByIt.push(done);
  }
  await writeHolds(store, tenantId, removal, decision);
  await publisher.publish(removalEvents(tenantId, removal, decision, cancelledByIt));
  await resolveIfEnded(deps, tenantId, eveningsHeldBy(removal, decision, bookings), timeZone);
  await store.putPersonState(tenantId, removedState(removal));
  return removalApplied(cancelledByIt.length, decision.hold.length);
}

/**
 * Marks the bookings a removal holds as pending cancellation (those not marked by it already), each
 * only while it is held as read: a hold written, released or narrowed since it was read (another
 * person's removal or restore, the end-of-evening sweep, a replica that took the partition while this
 * one stalled) fails with BOOKINGS_WRITE_CONFLICT, and the change is decided again on what is there.
 */
async function writeHolds(
  store: BookingsStore,
  tenantId: string,
  removal: BatchRemoval,
  decision: Pick<RemovalDecision, 'hold'>,
): Promise<void> {
  for (const { booking, causes, entry } of holdsToWrite(removal, decision)) {
    // On the end-of-evening sweep's work list before the hold exists, so no hold is ever missed.
    await store.noteHeldEvening(tenantId, booking.eventId, removal.cause.at);
    if (!(await store.setPending(tenantId, booking, causes, entry)))
      throw BookingsErrors.BOOKINGS_WRITE_CONFLICT({ bookingId: booking.id });
  }
}

/**
 * The evenings this consumer just wrote holds in, looked at again after the holds are written: one
 * that has ended meanwhile (finished by the admin, or its day passed) may have been resolved before
 * the hold existed (its work-list entry gone), so the consumer resolves it itself. Either the
 * resolution read the hold, or this read sees the evening ended: no hold is left behind.
 */
async function resolveIfEnded(
  deps: RemovalDeps,
  tenantId: string,
  eventIds: readonly string[],
  timeZone: string,
): Promise<void> {
  if (eventIds.length === 0) return;
  const now = deps.now();
  for (const event of (await deps.store.getEventsByIds(tenantId, eventIds)).values())
    if (eveningState(event, now, timeZone) === 'ended') await resolveEvening(deps, tenantId, event);
}

/**
 * Removals of distinct people (any schools): applied per school, in bulk. Outcomes in order. A
 * school whose bulk write missed a booking that changed since it was read (BOOKINGS_WRITE_CONFLICT)
 * has its removals decided again one by one by `alone`; the schools before it stay as applied.
 */
export async function applyRemovals(
  deps: RemovalDeps,
  events: readonly RosterChangeEvent[],
  alone: (event: RosterChangeEvent) => Promise<RosterChangeOutcome>,
): Promise<RosterChangeOutcome[]> {
  const outcomes: RosterChangeOutcome[] = new Array<RosterChangeOutcome>(events.length);
  for (const [tenantId, indexes] of indexesBySchool(events)) {
    const ofSchool = indexes.map((i) => events[i]!);
    let done: RosterChangeOutcome[];
    try {
      done = await applyRemovalsOfSchool(deps, tenantId, ofSchool);
    } catch (err) {
      if (!BookingsErrors.BOOKINGS_WRITE_CONFLICT.is(err)) throw err;
      done = [];
      for (const event of ofSchool) done.push(await alone(event));
    }
    indexes.forEach((i, k) => (outcomes[i] = done[k]!));
  }
  return outcomes;
}

/**
 * Removals of distinct people of one school: one read of the processed records and one of the person
 * states sort them ({@link sortRemovals}); the fresh ones are applied together; then every event not
 * processed before is recorded, last.
 */
async function applyRemovalsOfSchool(
  deps: RemovalDeps,
  tenantId: string,
  events: readonly RosterChangeEvent[],
): Promise<RosterChangeOutcome[]> {
  const { store } = deps;
  const processed = await store.processedAmong(
    tenantId,
    events.map((e) => e.id),
  );
  const fresh = events.filter((e) => !processed.has(e.id));
  const states = await store.personStatesOf(tenantId, fresh.map(personOfChange));
  const { outcomes, removals } = sortRemovals(events, processed, states);
  if (removals.length > 0) {
    for (const [eventId, outcome] of await applyFreshRemovals(deps, tenantId, removals))
      outcomes.set(eventId, outcome);
  }
  await store.markAllProcessed(
    tenantId,
    fresh.map((e) => ({ eventId: e.id, type: e.type, outcome: { ...outcomes.get(e.id)! } })),
  );
  return events.map((e) => outcomes.get(e.id)!);
}

/**
 * Applies removals of one school in bulk, in the order of one event: one lookup of the bookings naming
 * any removed person, the pure {@link decideRemovals}, the holds, the cancellations in one bulk write,
 * one publish, the person states in one bulk write. Returns the outcome of each, by event id.
 */
async function applyFreshRemovals(
  deps: RemovalDeps,
  tenantId: string,
  removals: readonly BatchRemovalOf[],
): Promise<Map<string, RosterChangeOutcome>> {
  const { store } = deps;
  const batch = removals.map((r) => r.removal);
  const bookings = await store.bookingsNamingAny(tenantId, batch);
  const bookableEvents = await store.getEventsByIds(
    tenantId,
    bookings.map((b) => b.eventId),
  );
  const timeZone = await schoolTimeZone(store, tenantId);

  // Holds (live evenings; rare) first, one by one in order: a held booking that a later removal
  // of the batch cancels (an approved held batch) gets both history entries, as one by one.
  const decisions: readonly RemovalDecision[] = decideRemovals(
    batch,
    bookings,
    bookableEvents,
    deps.now(),
    timeZone,
  );
  for (const [k, d] of decisions.entries()) await writeHolds(store, tenantId, batch[k]!, d);
  const cancelled = await store.cancelBookings(tenantId, cancellationsOf(batch, decisions));
  const outcomes = await publishTraced(
    deps.publisher,
    tenantId,
    removals,
    decisions,
    byCancellingEvent(cancelled),
  );
  const held = decisions.flatMap((d, k) => eveningsHeldBy(batch[k]!, d, bookings));
  await resolveIfEnded(deps, tenantId, [...new Set(held)], timeZone);
  await store.putPersonStates(tenantId, batch.map(removedState));
  return outcomes;
}

/**
 * Publishes the events of a batch's removals in one publish. The batch's span is a trace of its own
 * (several runs and schools): each removal gets a span in its own run's trace (a child of the change
 * event's context, linked to the batch span), and the booking events it causes carry that span's
 * context (docs/observability.md › Batches).
 */
async function publishTraced(
  publisher: BookingEventPublisher,
  tenantId: string,
  removals: readonly BatchRemovalOf[],
  decisions: readonly RemovalDecision[],
  cancelledBy: ReadonlyMap<string, Booking[]>,
): Promise<Map<string, RosterChangeOutcome>> {
  const batchSpan = activeSpanContext();
  const spans: Span[] = [];
  const toPublish: CloudEvent[] = [];
  const outcomes = new Map<string, RosterChangeOutcome>();
  for (const [k, d] of decisions.entries()) {
    const { event, removal } = removals[k]!;
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
    toPublish.push(...removalEvents(tenantId, removal, d, mine).map((e) => ({ ...e, ...carrier })));
    outcomes.set(event.id, removalApplied(mine.length, d.hold.length));
  }
  try {
    await publisher.publish(toPublish);
  } catch (err) {
    for (const span of spans) recordSpanError(span, err);
    throw err;
  } finally {
    for (const span of spans) span.end();
  }
  return outcomes;
}
