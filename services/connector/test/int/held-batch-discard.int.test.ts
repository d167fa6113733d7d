import type { EventProducer } from '@isams-sync/kafka';
import { eventually } from '@isams-sync/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  enrolSchool,
  fakeRosterProducer,
  rosterReportEvent,
  useConnectorSuite,
} from '../support/connector-harness';

const KEY = '{DDDDDDDD-0000-0000-0000-000000000042}';
const TENANT = 'discarding-school';
const HOLD = { batchId: 'held-first', kind: 'removals' as const };

// The roster holds a run's removals for an admin; the school's later runs that still hold them
// report the same batch. When the admin discards it, the roster reports the opening run
// `discarded` (sequence 3): every run held on that batch is then decided, not "held for review".
describe('connector: a discarded held batch ends its runs `discarded`', () => {
  const suite = useConnectorSuite({ env: { MANUAL_TRIGGER_LIMIT: '20' } });
  let producer: EventProducer;

  beforeAll(async () => {
    await enrolSchool(suite.sim, suite.client, TENANT, { seed: 11, size: 'small', apiKey: KEY });
    producer = fakeRosterProducer();
  });
  afterAll(async () => {
    await producer?.disconnect();
  });

  const md = () => suite.client.md(TENANT);
  const run = (syncRunId: string) => suite.client.getSyncRun({ syncRunId }, md());
  const runToEnd = async (): Promise<string> => {
    const { run: started } = await suite.client.triggerSync({}, md());
    await eventually(async () => (await run(started!.syncRunId)).status === 'published', 'published');
    return started!.syncRunId;
  };
  const report = (
    syncRunId: string,
    status: 'held' | 'discarded',
    sequence: number,
    counts?: Record<string, Record<string, number>>,
  ) =>
    producer.publish(suite.env.runsTopic, [
      rosterReportEvent({
        tenantId: TENANT,
        syncRunId,
        status,
        sequence,
        hold: HOLD,
        ...(counts ? { counts } : {}),
      }),
    ]);

  it('the opening run and a later run held on the same batch both end discarded, keeping their batch and counts; data as of stays', async () => {
    const first = await runToEnd();
    const later = await runToEnd();
    await report(first, 'held', 2, { pupil: { added: 2, held: 6 } });
    await report(later, 'held', 2, { pupil: { held: 7 } });
    await eventually(async () => (await run(later)).status === 'held', 'later run held');
    const dataAsOf = (await suite.client.getSyncStatus({}, md())).dataAsOf;
    expect(dataAsOf).not.toBe('');

    await report(first, 'discarded', 3);
    await eventually(
      async () => (await run(first)).status === 'discarded' && (await run(later)).status === 'discarded',
      'both runs discarded',
    );
    const opening = await run(first);
    expect(opening).toMatchObject({ rosterStatus: 'discarded', heldBatchId: HOLD.batchId });
    expect(JSON.parse(opening.rosterCountsJson)).toMatchObject({ pupil: { added: 2, held: 6 } });
    expect(await run(later)).toMatchObject({ rosterStatus: 'discarded', heldBatchId: HOLD.batchId });
    expect(JSON.parse((await run(later)).rosterCountsJson)).toMatchObject({ pupil: { held: 7 } });
    // Nothing of the school is held for review any more; the decided runs are listed as such.
    expect((await suite.client.listSyncRuns({ statuses: ['held'] }, md())).runs).toEqual([]);
    expect(
      (await suite.client.listSyncRuns({ statuses: ['discarded'] }, md())).runs.map((r) => r.syncRunId),
    ).toEqual([later, first]);
    // The additions and updates of a removals hold were applied: its data still counts.
    expect((await suite.client.getSyncStatus({}, md())).dataAsOf).toBe(dataAsOf);

    // The report again (a re-send after a roster crash) changes nothing.
    await report(first, 'discarded', 3);
    await report(later, 'held', 2, { pupil: { held: 7 } });
    const third = await runToEnd();
    await report(third, 'held', 2);
    await eventually(async () => (await run(third)).status === 'held', 'a run held after the re-sends');
    expect((await run(first)).status).toBe('discarded');
    expect((await run(later)).status).toBe('discarded');
  });
});
