import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  createEventProducer,
  createKafkaClient,
  DLQ_HEADERS,
  groupOffsets,
  toKafkaMessage,
  topicOffsets,
} from '@isams-sync/kafka';
import { eventually, getTestInfra, uniqueName } from '@isams-sync/testing';
import { book, getBooking, makeEvent } from '../support/fixtures';
import { logger, rosterEvent, useHarness } from '../support/harness';

const repoRoot = resolve(import.meta.dirname, '../../../..');
const CANCELLED = 'com.schoolcloud.isams-sync.bookings.booking.cancelled.v1';

/** `npm run dlq -- replay …`, as an operator runs it. */
function replay(dlqTopic: string, group: string): string {
  const res = spawnSync('npm', ['run', '-s', 'dlq', '--', 'replay', '--topic', dlqTopic, '--group', group], {
    cwd: repoRoot,
    env: { ...process.env, KAFKA_BROKERS: getTestInfra().kafkaBrokers.join(','), LOG_LEVEL: 'silent' },
    encoding: 'utf8',
    timeout: 120_000,
  });
  expect(res.status, `${res.stdout}${res.stderr}`).toBe(0);
  return res.stdout;
}

/**
 * The leftovers of the old 30-second retry budget: a leaver's removal that an earlier bookings
 * release dead-lettered during a database outage. The operator's replay puts it back on the roster
 * topic; the bookings service cancels the booking once, and a second replay changes nothing.
 */
describe('bookings: a dead-lettered removal replayed with npm run dlq', () => {
  const h = useHarness();

  it('cancels the booking once; replaying again changes nothing', async () => {
    const tenant = uniqueName('school');
    const ev = await makeEvent(h, tenant, { id: 'ev', daysAhead: 12 });
    const b = await book(h, tenant, ev.slots[0]!.id, 't1', 'p1', 'c1');
    const removal = rosterEvent(tenant, 'pupil', 'removed', 'p1');

    // The dead letter as the consumer runner writes it: the original record plus x-dlq-* headers.
    const client = createKafkaClient({ brokers: getTestInfra().kafkaBrokers, clientId: 'dlq-test', logger });
    const producer = createEventProducer(client, { logger });
    const original = toKafkaMessage(removal);
    const dlqTopic = `${h.rosterTopic}.dlq`;
    await producer.publishRaw(dlqTopic, [
      {
        ...original,
        headers: {
          ...original.headers,
          [DLQ_HEADERS.reason]: 'AppError: The database is unavailable',
          [DLQ_HEADERS.errorCode]: 'MONGO_UNAVAILABLE',
          [DLQ_HEADERS.originalTopic]: h.rosterTopic,
          [DLQ_HEADERS.originalPartition]: '0',
          [DLQ_HEADERS.originalOffset]: '0',
          [DLQ_HEADERS.attempts]: '5',
          [DLQ_HEADERS.consumerGroup]: h.rosterGroupId,
          [DLQ_HEADERS.failedAt]: new Date().toISOString(),
        },
      },
    ]);
    await producer.disconnect();
    expect((await getBooking(h, tenant, b.id)).status).toBe('booked');

    const out = replay(dlqTopic, h.rosterGroupId);
    expect(out).toContain('replayed 1/1');
    await eventually(() => h.app.store.isProcessed(tenant, removal.id), 'the replayed removal processed');
    expect(await getBooking(h, tenant, b.id)).toMatchObject({
      status: 'cancelled',
      cancellation: { reason: 'roster_removal', rosterEventId: removal.id },
    });
    const cancellations = () =>
      new Set(
        h.published
          .filter((e) => e.type === CANCELLED && (e.data as { bookingId: string }).bookingId === b.id)
          .map((e) => e.id),
      );
    await eventually(() => cancellations().size === 1, 'one booking.cancelled');

    // Again: consumed (the group's offset reaches the end of the topic), de-duplicated by event id.
    replay(dlqTopic, h.rosterGroupId);
    await eventually(async () => {
      const [end] = await topicOffsets(client, h.rosterTopic);
      return (
        (await groupOffsets(client, h.rosterGroupId, h.rosterTopic))[0] === end!.high && end!.high === '2'
      );
    }, 'the second replay consumed');
    expect((await getBooking(h, tenant, b.id)).status).toBe('cancelled');
    expect(cancellations().size).toBe(1);
  }, 180_000);
});
