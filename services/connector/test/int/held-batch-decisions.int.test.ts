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
const SUPERSEDED = { tenant: 'superseded-school', key: '{DDDDDDDD-0000-0000-0000-000000000044}', seed: 13 };
const LATE = { tenant: 'late-held-school', key: '{DDDDDDDD-0000-0000-0000-000000000045}', seed: 14 };
type Hold = { batchId: string; kind: 'removals' | 'whole_run' };

/** A series of the connector's `/metrics` (0 when absent). */
async function seriesValue(opsPort: number, series: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${opsPort}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}
const finished = (status: string) =>
  `connector_sync_runs_finished_total{status="${status}",error_code="none",service="connector"}`;
/**
 * The runs counted `held` once at least `atLeast` are (a run shows its status before its handling
 * counts it): exactly `atLeast` when none was counted twice.
 */
async function countedHeld(opsPort: number, atLeast: number): Promise<number> {
  await eventually(
    async () => (await seriesValue(opsPort, finished('held'))) >= atLeast,
    'held runs counted',
  );
  return seriesValue(opsPort, finished('held'));
}

/** One school's runs, and the roster's reports of them (`hold` with `held`, `discarded` and `superseded`). */
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
    status: 'held' | 'discarded' | 'superseded' | 'applied',
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
  return { md, run, runToEnd, report, changePupil, hold };
}

// The roster holds a run's changes for an admin; the school's later runs that still hold the same
// kind of change report the same batch (their held changes become its next version). When the admin
// decides, the roster reports the run that opened the batch (sequence 3): `discarded`, or `applied`
// once the approval is applied — or, when a later run left nothing of the batch to decide, `superseded`.
// Every run held on that batch is then decided, not "held for review", whatever order the reports come in.
describe('connector: a decided held batch ends its runs with the decision', () => {
  const suite = useConnectorSuite({ env: { MANUAL_TRIGGER_LIMIT: '20' } });
  let producer: EventProducer;

  beforeAll(async () => {
    for (const s of [DISCARDING, APPROVING, SUPERSEDED, LATE])
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
    // A removals hold's additions and updates were applied: data as of moves to the later run — after
    // its status shows (the handling records the report first), so wait for it, not for the status.
    const dataAsOf = (await run(later)).fetchedAt;
    expect(dataAsOf).not.toBe('');
    await eventually(
      async () => (await suite.client.getSyncStatus({}, md())).dataAsOf === dataAsOf,
      'data as of the later held run',
    );

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
    // A run held after the decision is on a batch of its own (a decided batch takes no more runs).
    const third = await runToEnd();
    await report(third, 'held', 2, {}, { batchId: 'held-third', kind: 'removals' });
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
    expect(await countedHeld(ops, heldBefore + 2)).toBe(heldBefore + 2);

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
    expect(await countedHeld(ops, heldBefore + 3)).toBe(heldBefore + 3);
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

  it('superseded: the opening run and a later run held on the same batch both end superseded, keeping their batch and counts; data as of stays; not counted as another end', () =>
    supersededBatch(suite, school(SUPERSEDED.tenant, { batchId: 'held-first', kind: 'removals' })));

  it('a held report taken after its batch was decided: the run ends as decided at once, counted once', () =>
    heldAfterDecision(suite, school(LATE.tenant, { batchId: 'held-first', kind: 'removals' })));
});

/** A school of {@link schoolOf}, with the batch its runs are held on. */
type School = ReturnType<typeof schoolOf>;

/** Two runs of the school, the first reported held (opening the batch); `heldBefore`: the metric before. */
async function twoRunsOpeningHeld(suite: ConnectorSuite, { runToEnd, report }: School) {
  const ops = suite.app.opsPort;
  const first = await runToEnd();
  const later = await runToEnd();
  const heldBefore = await seriesValue(ops, finished('held'));
  await report(first, 'held', 2, { pupil: { added: 2, held: 6 } });
  return { ops, first, later, heldBefore };
}

/** A later run leaves nothing of the batch to decide: the roster reports the opening run `superseded`. */
async function supersededBatch(suite: ConnectorSuite, sch: School): Promise<void> {
  const { md, run, report, hold } = sch;
  const { ops, first, later, heldBefore } = await twoRunsOpeningHeld(suite, sch);
  await report(later, 'held', 2, { pupil: { held: 7 } });
  await eventually(async () => (await run(later)).status === 'held', 'later run held');
  // A removals hold's additions and updates were applied: the school's data is as of the later run.
  const dataAsOf = (await run(later)).fetchedAt;
  await eventually(
    async () => (await suite.client.getSyncStatus({}, md())).dataAsOf === dataAsOf,
    'data as of the later run',
  );

  await report(first, 'superseded', 3);
  await eventually(
    async () => (await run(first)).status === 'superseded' && (await run(later)).status === 'superseded',
    'both runs superseded',
  );
  expect(await run(first)).toMatchObject({ rosterStatus: 'superseded', heldBatchId: hold.batchId });
  expect(JSON.parse((await run(later)).rosterCountsJson)).toMatchObject({ pupil: { held: 7 } });
  expect((await suite.client.listSyncRuns({ statuses: ['held'] }, md())).runs).toEqual([]);
  expect(
    (await suite.client.listSyncRuns({ statuses: ['superseded'] }, md())).runs.map((r) => r.syncRunId),
  ).toEqual([later, first]);
  expect((await suite.client.getSyncStatus({}, md())).dataAsOf).toBe(dataAsOf);
  expect(await seriesValue(ops, finished('held'))).toBe(heldBefore + 2);
  expect(await seriesValue(ops, finished('superseded'))).toBe(0);
}

/** The decision's report (the opening run's `discarded`) comes before a later run's `held` report on the batch. */
async function heldAfterDecision(suite: ConnectorSuite, sch: School): Promise<void> {
  const { md, run, runToEnd, report, hold } = sch;
  const { ops, first, later, heldBefore } = await twoRunsOpeningHeld(suite, sch);
  await report(first, 'discarded', 3);
  await eventually(async () => (await run(first)).status === 'discarded', 'opening run discarded');
  // The later run's report (held on the same batch before the discard) comes after the decision.
  await report(later, 'held', 2, { pupil: { held: 7 } });
  await eventually(async () => (await run(later)).status === 'discarded', 'later run discarded');
  expect(await run(later)).toMatchObject({ rosterStatus: 'discarded', heldBatchId: hold.batchId });
  expect((await suite.client.listSyncRuns({ statuses: ['held'] }, md())).runs).toEqual([]);

  // Again (a re-send): nothing changes. A run held after it on a new batch says it was handled.
  await report(later, 'held', 2, { pupil: { held: 7 } });
  const probe = await runToEnd();
  await report(probe, 'held', 2, {}, { batchId: 'held-next', kind: 'removals' });
  await eventually(async () => (await run(probe)).status === 'held', 'a run held after the re-send');
  expect((await run(later)).status).toBe('discarded');
  // Each run counted once, when it ended held; the decision is no other end.
  expect(await countedHeld(ops, heldBefore + 3)).toBe(heldBefore + 3);
  expect(await seriesValue(ops, finished('discarded'))).toBe(0);
}
