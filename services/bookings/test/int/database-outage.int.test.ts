import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CloudEvent } from '@isams-sync/events';
import { createKafkaClient } from '@isams-sync/kafka';
import type { ConsumerHandle } from '@isams-sync/kafka';
import { eventually, PrivateInfra, uniqueName } from '@isams-sync/testing';
import { book, makeEvent } from '../support/fixtures';
import { logger, rosterEvent, startHarness, watchTopic } from '../support/harness';
import type { Harness } from '../support/harness';

const CANCELLED = 'com.schoolcloud.isams-sync.bookings.booking.cancelled.v1';
const SCHOOLS = 5;
const PER_SCHOOL = 40;
const DOWN_MS = 120_000;

/**
 * A leaver's bookings are never left booked because the database was away: on a private Kafka +
 * FerretDB, the database is stopped for two minutes in the middle of a burst of 200 removals; once
 * it is back every booking is cancelled exactly once, and nothing was dead-lettered (a transient
 * failure is retried until it succeeds, never parked).
 */
describe('bookings: the database stopped mid-burst of removals (private Kafka + FerretDB)', () => {
  let infra: PrivateInfra;
  let h: Harness;
  let dlq: ConsumerHandle;
  const dead: string[] = [];

  beforeAll(async () => {
    infra = await PrivateInfra.up();
    h = await startHarness({ infra, rosterPartitions: 3 });
    dlq = watchTopic(
      createKafkaClient({ brokers: infra.kafkaBrokers, clientId: 'dlq-watch', logger }),
      `${h.rosterTopic}.dlq`,
      'dlq-watch',
      (e) => dead.push(e.id),
    );
    await dlq.ready;
  }, 300_000);

  afterAll(async () => {
    await dlq?.stop().catch(() => undefined);
    await h?.close().catch(() => undefined);
    infra?.destroy();
  }, 180_000);

  it('200 removals, FerretDB down for two minutes in the middle: every booking cancelled exactly once, nothing dead-lettered', async () => {
    const removals: CloudEvent[] = [];
    const bookingOf = new Map<string, string>();
    for (let s = 0; s < SCHOOLS; s++) {
      const tenant = uniqueName(`school${s}`);
      for (let e = 0; e < PER_SCHOOL / 20; e++) {
        const ev = await makeEvent(h, tenant, { id: `ev${e}`, daysAhead: 10 + e, slotCount: 20 });
        for (let i = 0; i < 20; i++) {
          const n = e * 20 + i;
          const b = await book(h, tenant, ev.slots[i]!.id, `t${n}`, `p${n}`, `c${n}`);
          bookingOf.set(`${tenant}/p${n}`, b.id);
          removals.push(rosterEvent(tenant, 'pupil', 'removed', `p${n}`, { syncRunId: 'run-leavers' }));
        }
      }
    }
    expect(removals).toHaveLength(200);
    const cancelledIds = () => new Set(h.published.filter((e) => e.type === CANCELLED).map((e) => e.id));

    // The burst, in small publishes; the database goes away once a quarter has been applied.
    let sent = 0;
    const burst = (async () => {
      for (let i = 0; i < removals.length; i += 10) {
        await h.publishRoster(removals.slice(i, i + 10));
        sent += 10;
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    await eventually(() => cancelledIds().size >= 50, 'a quarter of the removals applied', {
      timeoutMs: 120_000,
    });
    await infra.stopServer('ferretdb');
    await burst;
    expect(sent).toBe(200);
    await new Promise((r) => setTimeout(r, DOWN_MS));
    await infra.restart();
    expect(dead, 'removals dead-lettered while the database was down').toEqual([]);

    await eventually(
      async () => {
        for (const e of removals) if (!(await h.app.store.isProcessed(e.tenantid, e.id))) return false;
        return true;
      },
      'every removal processed after the database returned',
      { timeoutMs: 300_000 },
    );
    await eventually(() => cancelledIds().size >= 200, '200 booking.cancelled events', { timeoutMs: 60_000 });

    // Exactly once: one cancellation per booking (re-sent events carry the same id), for that removal.
    const cancellations = new Map<string, Set<string>>();
    for (const e of h.published.filter((x) => x.type === CANCELLED)) {
      const d = e.data as { bookingId: string; roster?: { rosterEventId: string } };
      const set = cancellations.get(d.bookingId) ?? new Set<string>();
      set.add(`${e.id}|${d.roster?.rosterEventId ?? '-'}`);
      cancellations.set(d.bookingId, set);
    }
    expect(cancellations.size).toBe(200);
    expect([...cancellations.values()].filter((s) => s.size !== 1)).toEqual([]);
    expect(new Set(cancellations.keys())).toEqual(new Set(bookingOf.values()));
    for (const e of removals) {
      const personId = (e.data as { entityId: string }).entityId;
      const bookingId = bookingOf.get(`${e.tenantid}/${personId}`)!;
      const booking = (await h.call('GetBooking', { bookingId }, e.tenantid)) as {
        status: string;
        cancellation?: { rosterEventId?: string };
      };
      expect(booking.status).toBe('cancelled');
      expect(booking.cancellation?.rosterEventId).toBe(e.id);
    }
    expect(dead).toEqual([]);
  }, 900_000);
});
