import { eventually, uniqueName } from '@isams-sync/testing';
import { describe, expect, it } from 'vitest';
import { book, makeEvent } from '../support/fixtures';
import { rosterEvent, useHarness } from '../support/harness';

const DAY_MS = 86_400_000;
const daysAgo = (days: number) => new Date(Date.now() - days * DAY_MS);

// The processed-event records de-duplicate roster events; they are dropped once Kafka can no longer
// deliver their events (PROCESSED_EVENTS_RETENTION_DAYS, default 100: past the roster changes
// topic's 30 days and its dead-letter topic's 90), by every replica, a minute after it starts and then
// hourly — here every 300 ms.
describe('bookings: processed-event records past their retention', () => {
  const h = useHarness({ extra: { retentionIntervalMs: 300 } });

  it('the running service drops the records older than PROCESSED_EVENTS_RETENTION_DAYS of every school and keeps the rest; an event that comes after its record went changes nothing', async () => {
    const school = uniqueName('school');
    const other = uniqueName('school');
    const week = await makeEvent(h, school, { id: 'week', staffId: 'T1', slotCount: 1 });
    const booking = await book(h, school, week.slots[0]!.id, 'T1', 'P1', 'C1');
    const removal = rosterEvent(school, 'pupil', 'removed', 'P1', { syncRunId: 'r1' });
    await h.sendRoster([removal]);
    const cancelledIds = () =>
      h.published
        .filter((e) => e.type.endsWith('booking.cancelled.v1'))
        .filter((e) => (e.data as { bookingId?: string }).bookingId === booking.id)
        .map((e) => e.id);
    await eventually(() => (cancelledIds().length === 1 ? true : undefined), 'the booking cancelled');

    // The removal's record made 101 days ago; another school's records 101 and 99 days ago.
    const records = h.db.db.collection<{ _id: string; processedAt: Date }>('processedEvents');
    await records.updateOne({ _id: `${school}|${removal.id}` }, { $set: { processedAt: daysAgo(101) } });
    const record = (id: string, days: number) => ({
      _id: `${other}|${id}`,
      tenantId: other,
      eventId: id,
      type: 'com.schoolcloud.isams-sync.roster.pupil.removed.v1',
      processedAt: daysAgo(days),
      outcome: { status: 'applied' },
    });
    await records.insertMany([record('old', 101), record('recent', 99)]);

    await eventually(
      async () => ((await h.app.store.isProcessed(other, 'old')) ? undefined : true),
      'the old records dropped',
    );
    expect(await h.app.store.isProcessed(school, removal.id)).toBe(false);
    expect(await h.app.store.isProcessed(other, 'recent')).toBe(true);

    // The removal delivered again after its record went (a replay from a backup): the person's
    // state orders it, the booking is cancelled once, and the only event re-published has the same id.
    await h.sendRoster([removal]);
    const stored = await h.app.store.getBooking(school, booking.id);
    expect(stored?.status).toBe('cancelled');
    expect(stored?.history.filter((x) => x.action === 'cancelled')).toHaveLength(1);
    expect(new Set(cancelledIds()).size).toBe(1);
  });
});
