import { describe, expect, it } from 'vitest';
import { sampleRun } from '../support/fake-connector';
import { useGatewayHarness } from '../support/gateway-harness';

describe('overview: "Data as of" and the e-mails sent (real FerretDB, fake connector)', () => {
  const gw = useGatewayHarness('school-asof');

  const overview = async () => {
    const res = await gw.h.request(gw.token, 'GET', '/api/v1/schools/school-asof/overview');
    expect(res.statusCode).toBe(200);
    return res.json();
  };

  it('does not blank out after more than 20 failed runs: the connector keeps the last good sync', async () => {
    const failed = Array.from({ length: 25 }, (_, i) =>
      sampleRun({ syncRunId: `failed-${i}`, status: 'failed', fetchedAt: null, rosterStatus: null }),
    );
    const good = sampleRun({ syncRunId: 'good', status: 'applied', fetchedAt: '2026-11-01T09:00:05.000Z' });
    gw.h.connector.runs.set('school-asof', [...failed, good]);
    gw.h.connector.status.set('school-asof', {
      dataAsOf: '2026-11-01T09:00:05.000Z',
      dataAsOfRunId: 'good',
      notifications: [],
    });
    const o = await overview();
    expect(o.dataAsOf).toBe('2026-11-01T09:00:05.000Z');
  });

  it('counts a run whose removals are held (its additions and updates were applied)', async () => {
    const held = sampleRun({
      syncRunId: 'held',
      status: 'held',
      fetchedAt: '2026-11-02T09:00:05.000Z',
      rosterStatus: 'held',
      rosterCounts: { pupil: { added: 3, updated: 1, removed: 0, restored: 0, held: 9 } },
      heldBatchId: 'batch-1',
    });
    const good = sampleRun({ syncRunId: 'good', status: 'applied', fetchedAt: '2026-11-01T09:00:05.000Z' });
    gw.h.connector.runs.set('school-asof', [held, good]);
    gw.h.connector.status.set('school-asof', {
      dataAsOf: '2026-11-02T09:00:05.000Z',
      dataAsOfRunId: 'held',
      notifications: [
        {
          condition: 'removals_held',
          day: '2026-11-02',
          sentAt: '2026-11-02T09:01:00.000Z',
          recipients: 2,
          subject: 'iSAMS sync (school-asof): 9 removals held for your approval',
        },
      ],
    });
    const o = await overview();
    expect(o.dataAsOf).toBe('2026-11-02T09:00:05.000Z');
    expect(o.notifications).toEqual([
      {
        condition: 'removals_held',
        day: '2026-11-02',
        sentAt: '2026-11-02T09:01:00.000Z',
        recipients: 2,
        subject: 'iSAMS sync (school-asof): 9 removals held for your approval',
      },
    ]);
  });
});
