import type { EventProducer } from '@isams-sync/kafka';
import { eventually } from '@isams-sync/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  enrolSchool,
  fakeRosterProducer,
  rosterReportEvent,
  useConnectorSuite,
} from '../support/connector-harness';
import type { ConnectorSuite } from '../support/connector-harness';

const DISCARDING = { tenant: 'discarding-school', key: '{DDDDDDDD-0000-0000-0000-000000000042}', seed: 11 };
const APPROVING = { tenant: 'approving-school', key: '{DDDDDDDD-0000-0000-0000-000000000043}', seed: 12 };
type Hold = { batchId: string; kind: 'removals' | 'whole_run' };

/** A series of the connector's `/metrics` (0 when absent). */
async function seriesValue(opsPort: number, series: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${opsPort}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}
const finished = (status: string) =>
  `connector_sync_runs_finished_total{status="${status}",error_code="none",service="connector"}`;

/** One school's runs, and the roster's reports of them (`hold` with `held` and `discarded`). */
function schoolOf(suite: ConnectorSuite, producer: EventProducer, tenant: string, hold: Hold) {
  const md = () => suite.client.md(tenant);
  const run = (syncRunId: string) => suite.client.getSyncRun({ syncRunId }, md());
  const runToEnd = async (): Promise<string> => {
    const { run: started } = await suite.client.triggerSync({}, md());
    await eventually(async () => (await run(started!.syncRunId)).status === 'published', 'published');
    return started!.syncRunId;
  };
  const report = (
    syncRunId: string,
    status: 'held' | 'discarded' | 'applied',
    sequence: number,
    counts?: Record<string, Record<string, number>>,
    batch = hold,
  ) =>
    producer.publish(suite.env.runsTopic, [
      rosterReportEvent({
        tenantId: tenant,
        syncRunId,
        status,
        sequence,
        ...(status === 'applied' ? {} : { hold: batch }),
        ...(counts ? { counts } : {}),
      }),
    ]);
  /** A change in iSAMS (one pupil's surname): the next run's document differs. */
  const changePupil = async (surname: string) => {
    const truth = (await suite.sim.admin(
      'GET',
      `/admin/schools/${tenant}/ground-truth?datasets=currentPupils`,
    )) as { datasets: { currentPupils: Array<{ attributes: Record<string, string> }> } };
    const pupil = truth.datasets.currentPupils[0]!.attributes;
    await suite.sim.admin('PATCH', `/admin/schools/${tenant}/pupils/${pupil.Id ?? pupil.id}`, { surname });
  };
  return { md, run, runToEnd, report, changePupil };
}

// The roster holds a run's changes for an admin; the school's later runs that still hold the same
// kind of change report the same batch (their held changes become its next version). When the admin
// decides, the roster reports the run that opened the batch (sequence 3): `discarded`, or `applied`
// once the approval is applied. Every run held on that batch is then decided, not "held for review".
describe('connector: a decided held batch ends its runs with the decision', () => {
  const suite = useConnectorSuite({ env: { MANUAL_TRIGGER_LIMIT: '20' } });
  let producer: EventProducer;

  beforeAll(async () => {
    for (const s of [DISCARDING, APPROVING])
      await enrolSchool(suite.sim, suite.client, s.tenant, { seed: s.seed, size: 'small', apiKey: s.key });
    producer = fakeRosterProducer();
  });
  afterAll(async () => {
    await producer?.disconnect();
  });

  const school = (tenant: string, hold: Hold) => schoolOf(suite, producer, tenant, hold);

  it('discarded: the opening run and a later run held on the same batch both end discarded, keeping their batch and counts; data as of stays', async () => {
    const HOLD: Hold = { batchId: 'held-first', kind: 'removals' };
    const { md, run, runToEnd, report } = school(DISCARDING.tenant, HOLD);
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

  it('approved: the opening run and a later run held on the same batch both end applied, keeping their batch and counts; data as of and the applied snapshot are the later run’s; the approval is not counted as another end', async () => {
    const HOLD: Hold = { batchId: 'held-first', kind: 'whole_run' };
    const { md, run, runToEnd, report, changePupil } = school(APPROVING.tenant, HOLD);
    const first = await runToEnd();
    await changePupil('Later-Surname');
    const later = await runToEnd();
    // A run of the same document, held later on a new batch: its report comes after the others.
    const probe = await runToEnd();
    const ops = suite.app.opsPort;
    const heldBefore = await seriesValue(ops, finished('held'));
    await report(first, 'held', 2, { pupil: { held: 6 } });
    await report(later, 'held', 2, { pupil: { held: 7 } });
    await eventually(async () => (await run(later)).status === 'held', 'later run held');
    // A whole-run hold applied nothing: the school's data is not as of either run yet.
    expect((await suite.client.getSyncStatus({}, md())).dataAsOf).toBe('');
    const appliedBefore = await seriesValue(ops, finished('applied'));
    expect(await seriesValue(ops, finished('held'))).toBe(heldBefore + 2);

    await report(first, 'applied', 3, { pupil: { added: 7 } });
    // A run held after it on a new batch: reports of a school are taken in order, so once it says
    // held, the approval's report was handled to its end.
    await report(probe, 'held', 2, {}, { batchId: 'held-next', kind: 'whole_run' });
    await eventually(async () => (await run(probe)).status === 'held', 'a run held after the approval');
    expect(await run(first)).toMatchObject({ status: 'applied', heldBatchId: HOLD.batchId });
    expect(await run(later)).toMatchObject({
      status: 'applied',
      rosterStatus: 'applied',
      heldBatchId: HOLD.batchId,
    });
    expect(JSON.parse((await run(later)).rosterCountsJson)).toMatchObject({ pupil: { held: 7 } });
    // Only the run of the undecided batch is held for review.
    const listed = async (status: string) =>
      (await suite.client.listSyncRuns({ statuses: [status] }, md())).runs.map((r) => r.syncRunId);
    expect(await listed('held')).toEqual([probe]);
    expect(await listed('applied')).toEqual([later, first]);
    // The approved version carried the later run's held changes: SchoolCloud is as of its fetch.
    expect((await suite.client.getSyncStatus({}, md())).dataAsOf).toBe((await run(later)).fetchedAt);
    // Each run was counted once, when it ended held; the approval is a decision on runs already ended.
    expect(await seriesValue(ops, finished('held'))).toBe(heldBefore + 3);
    expect(await seriesValue(ops, finished('applied'))).toBe(appliedBefore);

    // The next run is compared with the later run's document, the one SchoolCloud now has.
    const unchangedBefore = await seriesValue(ops, finished('unchanged'));
    const ended = async (): Promise<string> => {
      const { run: started } = await suite.client.triggerSync({}, md());
      const id = started!.syncRunId;
      await eventually(async () => ['unchanged', 'published'].includes((await run(id)).status), 'ended');
      return (await run(id)).status;
    };
    expect(await ended()).toBe('unchanged');

    // The reports again (a re-send after a roster crash) change nothing — nor count: the connector's
    // own report of a run after them, counted once read back, says they were handled.
    await report(first, 'applied', 3, { pupil: { added: 7 } });
    await report(later, 'held', 2, { pupil: { held: 7 } });
    expect(await ended()).toBe('unchanged');
    await eventually(
      async () => (await seriesValue(ops, finished('unchanged'))) >= unchangedBefore + 2,
      'the unchanged runs counted',
    );
    // Each once: a run counted twice would show here (a wait for exactly +2 would only time out).
    expect(await seriesValue(ops, finished('unchanged'))).toBe(unchangedBefore + 2);
    expect((await run(first)).status).toBe('applied');
    expect((await run(later)).status).toBe('applied');
    expect(await listed('held')).toEqual([probe]);
    expect(await seriesValue(ops, finished('applied'))).toBe(appliedBefore);
  });
});
