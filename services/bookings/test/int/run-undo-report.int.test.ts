import { describe, expect, it } from 'vitest';
import type { bookingsV1 } from '@isams-sync/grpc';
import { uniqueName } from '@isams-sync/testing';
import { book, getBooking, makeEvent } from '../support/fixtures';
import { rosterEvent, useHarness } from '../support/harness';

describe('undoing a run: which cancelled bookings come back (real Kafka + FerretDB)', () => {
  const h = useHarness();

  const report = async (tenant: string, restoring: Array<{ kind: string; id: string }>) =>
    (
      (await h.call(
        'RunReinstatementReport',
        { syncRunId: 'r2', restoring },
        tenant,
      )) as bookingsV1.RunReinstatementReportResponse__Output
    ).lines.map((l) => [l.booking!.id, l.outcome]);

  it('previews, then reports, each booking the run’s removals cancelled: reinstated where the slot is still free', async () => {
    const tenant = uniqueName('school');
    const ev = await makeEvent(h, tenant, { id: 'ev', daysAhead: 9 });
    const kept = await book(h, tenant, ev.slots[0]!.id, 't1', 'p1', 'c1');
    const lost = await book(h, tenant, ev.slots[1]!.id, 't1', 'p2', 'c2');
    await h.sendRoster([
      rosterEvent(tenant, 'pupil', 'removed', 'p1', { syncRunId: 'r2' }),
      rosterEvent(tenant, 'pupil', 'removed', 'p2', { syncRunId: 'r2' }),
      rosterEvent(tenant, 'contact', 'removed', 'c1', { syncRunId: 'r2' }),
    ]);
    // Meanwhile another family takes p2's slot.
    await book(h, tenant, ev.slots[1]!.id, 't1', 'p9', 'c9');
    const people = [
      { kind: 'pupil', id: 'p1' },
      { kind: 'pupil', id: 'p2' },
      { kind: 'contact', id: 'c1' },
    ];
    expect(await report(tenant, people)).toEqual([
      [kept.id, 'can_reinstate'],
      [lost.id, 'slot_taken'],
    ]);
    // Without p1 among the people restored, p1 is still removed: not reinstated.
    expect((await report(tenant, [{ kind: 'pupil', id: 'p2' }]))[0]).toEqual([
      kept.id,
      'other_person_removed',
    ]);

    // The undo's restored events arrive.
    await h.sendRoster([
      rosterEvent(tenant, 'contact', 'restored', 'c1', {
        syncRunId: 'r2',
        time: new Date(Date.now() + 1000),
      }),
      rosterEvent(tenant, 'pupil', 'restored', 'p1', { syncRunId: 'r2', time: new Date(Date.now() + 1000) }),
      rosterEvent(tenant, 'pupil', 'restored', 'p2', { syncRunId: 'r2', time: new Date(Date.now() + 1000) }),
    ]);
    expect((await getBooking(h, tenant, kept.id)).status).toBe('booked');
    expect(await report(tenant, people)).toEqual([
      [kept.id, 'reinstated'],
      [lost.id, 'slot_taken'],
    ]);
  });

  it('a family removed together comes back as previewed when the undo restores the pupil first (the roster’s order)', async () => {
    const tenant = uniqueName('school');
    const ev = await makeEvent(h, tenant, { id: 'ev', daysAhead: 9 });
    const family = await book(h, tenant, ev.slots[0]!.id, 't1', 'p1', 'c1');
    await h.sendRoster([
      rosterEvent(tenant, 'pupil', 'removed', 'p1', { syncRunId: 'r2' }),
      rosterEvent(tenant, 'contact', 'removed', 'c1', { syncRunId: 'r2' }),
    ]);
    const people = [
      { kind: 'pupil', id: 'p1' },
      { kind: 'contact', id: 'c1' },
    ];
    expect(await report(tenant, people)).toEqual([[family.id, 'can_reinstate']]);

    const at = new Date(Date.now() + 1000);
    await h.sendRoster([
      rosterEvent(tenant, 'pupil', 'restored', 'p1', { syncRunId: 'r2', time: at }),
      rosterEvent(tenant, 'contact', 'restored', 'c1', { syncRunId: 'r2', time: at }),
    ]);
    expect((await getBooking(h, tenant, family.id)).status).toBe('booked');
    expect(await report(tenant, people)).toEqual([[family.id, 'reinstated']]);
  });
});
