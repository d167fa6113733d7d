import { describe, expect, it } from 'vitest';
import { rosterChangeEventTypes } from '@isams-sync/events';
import type { CloudEvent } from '@isams-sync/events';
import { createKafkaClient, listDeadLetters, toKafkaMessage } from '@isams-sync/kafka';
import { eventually, getTestInfra, uniqueName } from '@isams-sync/testing';
import { book, getBooking, makeEvent } from '../support/fixtures';
import { logger, rosterEvent, useHarness } from '../support/harness';

// Roster change events that are not what they claim to be: none may cancel, hold or reinstate
// anything. Each is dead-lettered at its first attempt (replayable, counted, logged) and the
// events after it are applied.
const h = useHarness();

/** The dead letters of the bookings consumer group: event id → attempts. */
async function deadLetters(): Promise<Map<string, string>> {
  const client = createKafkaClient({ brokers: getTestInfra().kafkaBrokers, clientId: 'dlq-list', logger });
  const letters = await listDeadLetters(client, `${h.rosterTopic}.dlq`, { group: h.rosterGroupId });
  return new Map(letters.map((l) => [l.eventId ?? '', l.attempts ?? '']));
}

describe('roster change events whose type and data disagree, or that lack what bookings acts on', () => {
  it('a restored whose data says removed, a removed whose data says restored, a removed without its removal: nothing changes, each dead-lettered at once', async () => {
    const tenant = uniqueName('school');
    const ev = await makeEvent(h, tenant, { id: 'ev', daysAhead: 10 });
    const b1 = await book(h, tenant, ev.slots[0]!.id, 't1', 'p1', 'c1');
    const b2 = await book(h, tenant, ev.slots[1]!.id, 't2', 'p2', 'c2');
    const b3 = await book(h, tenant, ev.slots[2]!.id, 't3', 'p3', 'c3');
    const sentinel = await book(h, tenant, ev.slots[3]!.id, 't4', 'p4', 'c4');
    // p2 really leaves: their booking is cancelled (a bad "restore" must not bring it back).
    await h.sendRoster([
      rosterEvent(tenant, 'pupil', 'removed', 'p2', { time: new Date(Date.now() - 60_000) }),
    ]);
    expect((await getBooking(h, tenant, b2.id)).status).toBe('cancelled');

    const removal = rosterEvent(tenant, 'pupil', 'removed', 'p1');
    const restoredSaysRemoved = {
      ...removal,
      id: uniqueName('restored-says-removed'),
      type: rosterChangeEventTypes.pupil.restored.type,
      dataschema: rosterChangeEventTypes.pupil.restored.dataschema,
    };
    const restore = rosterEvent(tenant, 'pupil', 'restored', 'p2', { syncRunId: 'run-2' });
    const removedSaysRestored = {
      ...restore,
      id: uniqueName('removed-says-restored'),
      type: rosterChangeEventTypes.pupil.removed.type,
      dataschema: rosterChangeEventTypes.pupil.removed.dataschema,
    };
    const p3 = rosterEvent(tenant, 'pupil', 'removed', 'p3');
    const { removal: _dropped, ...withoutRemoval } = p3.data;
    const removedWithoutRemoval = { ...p3, id: uniqueName('no-removal'), data: withoutRemoval };
    const bad = [restoredSaysRemoved, removedSaysRestored, removedWithoutRemoval] as CloudEvent[];

    await h.publishRoster(bad);
    await h.sendRoster([rosterEvent(tenant, 'pupil', 'removed', 'p4')]);

    expect((await getBooking(h, tenant, sentinel.id)).status).toBe('cancelled');
    expect((await getBooking(h, tenant, b1.id)).status).toBe('booked');
    expect((await getBooking(h, tenant, b2.id)).status).toBe('cancelled');
    expect((await getBooking(h, tenant, b3.id)).status).toBe('booked');
    const letters = await eventually(async () => {
      const all = await deadLetters();
      return bad.every((e) => all.has(e.id)) ? all : undefined;
    }, 'the three dead letters');
    for (const e of bad) {
      expect(letters.get(e.id)).toBe('1');
      expect(await h.app.store.isProcessed(tenant, e.id)).toBe(false);
    }
  }, 120_000);
});

describe('a person removed, restored, removed again, then the run undone: delivered twice', () => {
  const CANCELLED = 'com.schoolcloud.isams-sync.bookings.booking.cancelled.v1';
  const REINSTATED = 'com.schoolcloud.isams-sync.bookings.booking.reinstated.v1';

  it('ends as the last change says, with one cancellation and one reinstatement published per change', async () => {
    const tenant = uniqueName('school');
    const ev = await makeEvent(h, tenant, { id: 'ev', daysAhead: 12 });
    const b = await book(h, tenant, ev.slots[0]!.id, 't1', 'p1', 'c1');
    const at = (s: number) => new Date(Date.now() - 600_000 + s * 1000);
    const removed1 = rosterEvent(tenant, 'pupil', 'removed', 'p1', {
      syncRunId: 'run-1',
      time: at(1),
      revision: { changeset: 1, change: 0 },
    });
    const restored = rosterEvent(tenant, 'pupil', 'restored', 'p1', {
      syncRunId: 'run-2',
      time: at(2),
      revision: { changeset: 2, change: 0 },
    });
    const removed2 = rosterEvent(tenant, 'pupil', 'removed', 'p1', {
      syncRunId: 'run-3',
      time: at(3),
      revision: { changeset: 3, change: 0 },
    });
    // The admin undoes run-3: the undo's restore names the undone run.
    const undo = rosterEvent(tenant, 'pupil', 'restored', 'p1', {
      syncRunId: 'run-3',
      time: at(4),
      revision: { changeset: 4, change: 0 },
    });
    const undone = {
      ...undo,
      id: uniqueName('undo'),
      data: { ...undo.data, restoration: { reason: 'run_undone' as const } },
    };
    const sequence = [removed1, restored, removed2];

    await h.sendRoster(sequence);
    expect((await getBooking(h, tenant, b.id)).status).toBe('cancelled');
    // Redelivered whole (a rebalance before the commit), in one publish: nothing changes.
    await h.sendRoster(sequence);
    // Then the undo, the sequence once more, and the undone run's removal under another id (a re-send
    // of the undone run): older than the undo by its revision, it changes nothing.
    await h.sendRoster([undone, ...sequence, { ...removed2, id: uniqueName('run-3-again') }]);
    const after = await getBooking(h, tenant, b.id);
    expect(after.status).toBe('booked');
    expect(after.history.map((x) => x.action)).toEqual([
      'booked',
      'cancelled',
      'reinstated',
      'cancelled',
      'reinstated',
    ]);
    const ofTenant = (type: string) =>
      new Set(h.published.filter((e) => e.tenantid === tenant && e.type === type).map((e) => e.id));
    await eventually(() => ofTenant(REINSTATED).size === 2, 'two booking.reinstated');
    expect(ofTenant(CANCELLED).size).toBe(2);
  }, 120_000);
});

describe('a record whose Kafka key and ce_tenantid header name different schools', () => {
  // The consumer (libs/kafka `fromKafkaMessage`) refuses a record whose key is not its ce_tenantid's
  // school (or that school and a subject): dead-lettered at once, no handler sees it.
  it('cancels nothing in either school and is dead-lettered', async () => {
    const schoolA = uniqueName('school-a');
    const schoolB = uniqueName('school-b');
    const evB = await makeEvent(h, schoolB, { id: 'ev', daysAhead: 11 });
    const inB = await book(h, schoolB, evB.slots[0]!.id, 't1', 'p1', 'c1');
    const sentinel = await book(h, schoolB, evB.slots[1]!.id, 't2', 'p2', 'c2');
    const foreign = rosterEvent(schoolB, 'pupil', 'removed', 'p1');
    const record = { ...toKafkaMessage(foreign), key: schoolA };
    const client = createKafkaClient({ brokers: getTestInfra().kafkaBrokers, clientId: 'raw', logger });
    const { createEventProducer } = await import('@isams-sync/kafka');
    const producer = createEventProducer(client, { logger });
    await producer.connect();
    try {
      await producer.publishRaw(h.rosterTopic, [record]);
    } finally {
      await producer.disconnect();
    }
    await h.sendRoster([rosterEvent(schoolB, 'pupil', 'removed', 'p2')]);
    expect((await getBooking(h, schoolB, sentinel.id)).status).toBe('cancelled');
    expect((await getBooking(h, schoolB, inB.id)).status).toBe('booked');
    expect(await h.app.store.isProcessed(schoolB, foreign.id)).toBe(false);
  }, 120_000);
});
