import { describe, expect, it } from 'vitest';
import type { Booking } from '../../src/domain/models/bookings.models';
import { useGatewayHarness } from '../support/gateway-harness';

const booking = (id: string, pupilId: string, status: string): Booking => ({
  id,
  eventId: 'ev1',
  slotId: `s-${id}`,
  staffId: 't1',
  pupilId,
  contactId: 'c1',
  startsAt: '2026-11-20T16:00:00.000Z',
  endsAt: '2026-11-20T16:10:00.000Z',
  status,
  pendingCancellation: false,
  cancellation: null,
});

describe('undo a run: impact first, then the report (real FerretDB, fake upstreams)', () => {
  const gw = useGatewayHarness('school-a');

  const req = (method: 'GET' | 'POST', url: string, payload?: object) =>
    gw.h.request(gw.token, method, url, payload);

  it('shows whom undoing restores and which bookings come back before anything is done', async () => {
    gw.h.upstream.state.reinstatements = [
      { booking: booking('b1', 'p1', 'cancelled'), outcome: 'can_reinstate' },
      { booking: booking('b2', 'p1', 'cancelled'), outcome: 'slot_taken' },
    ];
    const res = await req('GET', '/api/v1/schools/school-a/sync-runs/run-9/undo');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      undo: { syncRunId: 'run-9', status: 'possible', skipped: [{ reason: 'active_again', count: 1 }] },
      bookings: { canReinstate: 1, reinstated: 0, notReinstated: [{ reason: 'slot_taken', count: 1 }] },
    });
    // Only people go to bookings (a set membership has no bookings).
    expect(gw.h.upstream.calls.filter((c) => c.method === 'runReinstatementReport').at(-1)).toEqual({
      method: 'runReinstatementReport',
      tenantId: 'school-a',
      input: {
        syncRunId: 'run-9',
        restoring: [
          { kind: 'pupil', id: 'p1' },
          { kind: 'contact', id: 'c1' },
        ],
      },
    });
    expect(gw.h.upstream.calls.filter((c) => c.method === 'undoRun')).toEqual([]);
  });

  it('undoes once, audited with who and which run; a second undo returns the first', async () => {
    const first = await req('POST', '/api/v1/schools/school-a/sync-runs/run-9/undo', {
      comment: 'feed glitch',
    });
    expect(first.statusCode).toBe(200);
    expect(first.json().undo).toMatchObject({ status: 'undone', comment: 'feed glitch' });
    const again = await req('POST', '/api/v1/schools/school-a/sync-runs/run-9/undo', { comment: 'again' });
    expect(again.json().undo).toMatchObject({ status: 'undone', comment: 'feed glitch' });
    const audit = await req('GET', '/api/v1/schools/school-a/audit-log');
    const undos = (
      audit.json() as { entries: Array<{ action: string; target: unknown; outcome: string; actor: string }> }
    ).entries.filter((e) => e.action === 'sync-run.undo');
    expect(undos).toHaveLength(2);
    expect(undos[0]).toMatchObject({ target: { syncRunId: 'run-9' }, outcome: 'succeeded' });
    expect(undos[0]!.actor).toMatch(/^token:/);
  });

  it('an unknown run is a 404 and changes nothing', async () => {
    const res = await req('POST', '/api/v1/schools/school-a/sync-runs/nope/undo', {});
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('ROSTER_RUN_NOT_FOUND');
  });
});
