import { isAppError } from '@isams-sync/errors';
import { createLogger } from '@isams-sync/logger';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/domain/run-record';
import { SyncEngine } from '../../src/use-cases/sync-engine';
import type { RosterReport } from '../../src/use-cases/sync-engine';
import type { RunPublisher } from '../../src/use-cases/ports';
import {
  ConnectorWorld,
  enrolSchool,
  inMemoryPorts,
  testEngineOptions,
} from '../support/in-memory/in-memory-ports';
import { ProcessLife } from '../support/in-memory/process-life';
import { runAtMarker, runRecord } from '../support/run-records';

// The roster reports a run (applying, applied, held, failed) once it has the run's marker. The
// connector records `published` only after the marker's send is acknowledged, so a fast roster's
// report can reach the connector before the run says `published`. A report is never lost for that:
// it is kept, and the `published` step applies it.

const TENANT = 'school-r';
const OPTIONS = testEngineOptions(30_000);
const logger = createLogger({ service: 'roster-reports', level: 'silent' });
const engines: SyncEngine[] = [];
afterEach(async () => {
  while (engines.length > 0) await engines.pop()!.stop(1_000);
});

function worldOf(): ConnectorWorld {
  const world = new ConnectorWorld(
    { chunkSize: 2, records: { currentStaff: [{ Id: 's1' }, { Id: 's2' }], yearGroups: [{ Id: 'y7' }] } },
    30_000,
  );
  enrolSchool(world, TENANT, null);
  return world;
}

/**
 * One manual run on an engine whose marker is answered by the roster's report of `status` before
 * the marker's send returns (the report's event handled first): the report reaches the connector
 * between the marker and the `published` step. The event is handled again once the run has ended,
 * as the consumer does after a failed attempt. `outcomes`: each handling's result or error code.
 */
async function runReportedEarly(
  world: ConnectorWorld,
  status: 'applied' | 'held',
  life = new ProcessLife(),
): Promise<{ run: RunRecord; outcomes: string[]; engine: SyncEngine; report: RosterReport }> {
  const ports = inMemoryPorts(world, life);
  const outcomes: string[] = [];
  const publisher: RunPublisher = Object.create(ports.publisher) as RunPublisher;
  const engine = new SyncEngine({ ...ports, publisher, logger }, OPTIONS);
  let report: RosterReport | undefined;
  const handle = async () => {
    try {
      outcomes.push(String(await engine.applyRosterReport(report!)));
    } catch (err) {
      outcomes.push(isAppError(err) ? err.code : String(err));
    }
  };
  publisher.publishMarker = async (run) => {
    await ports.publisher.publishMarker(run);
    report = {
      tenantId: run.tenantId,
      syncRunId: run._id,
      status,
      sequence: 1,
      counts: { staff: { added: 2, updated: 0, removed: 0, unchanged: 0, held: status === 'held' ? 1 : 0 } },
      ...(status === 'held' ? { heldBatchId: 'batch-1', holdKind: 'removals' as const } : {}),
    };
    await handle();
  };
  engines.push(engine);
  await engine.start();
  await engine.trigger(TENANT, { kind: 'manual', actor: 'admin@school-r' }, false);
  await life.untilDeath(engine.drain());
  // A dead process is not stopped: its I/O never returns (process-life).
  if (life.dead) engines.splice(engines.indexOf(engine), 1);
  else await handle();
  // The newest run of the school (runs are kept in the order they were made).
  const run = [...world.runs.values()].filter((r) => r.tenantId === TENANT).at(-1)!;
  return { run, outcomes, engine, report: report! };
}

describe('a roster report that reaches the connector before the run says `published`', () => {
  it('an `applied` report is kept and applied by the `published` step: the run ends applied, its snapshot and the school’s freshness recorded', async () => {
    const world = worldOf();
    const { run, outcomes } = await runReportedEarly(world, 'applied');
    // Kept, the event to be handled again; handled again, the run had taken it.
    expect(outcomes).toEqual(['CONNECTOR_REPORT_BEFORE_PUBLISHED', 'false']);
    expect(run.status).toBe('applied');
    expect(run.rosterStatus).toBe('applied');
    expect(run.rosterSequence).toBe(1);
    expect(run.finishedAt).toBeInstanceOf(Date);
    expect(run.publishedAt).toBeInstanceOf(Date);
    // What an applied report moves on: the applied snapshot (the next run's unchanged check) and
    // the school's data-as-of time.
    expect(world.snapshots.get(TENANT)?.syncRunId).toBe(run._id);
    expect(world.freshness.get(TENANT)?.syncRunId).toBe(run._id);
    // The run's end is announced, so those who count or e-mail about ended runs hear of it.
    const updates = world.events.filter((e) => e.kind === 'run-update' && e.syncRunId === run._id);
    expect(updates.map((e) => (e.kind === 'run-update' ? e.status : null))).toContain('applied');
  });

  it('a `held` report likewise: the run ends held with its batch', async () => {
    const world = worldOf();
    const { run, outcomes } = await runReportedEarly(world, 'held');
    expect(outcomes).toEqual(['CONNECTOR_REPORT_BEFORE_PUBLISHED', 'false']);
    expect(run.status).toBe('held');
    expect(run.heldBatchId).toBe('batch-1');
    expect(run.rosterSequence).toBe(1);
  });

  it('a report repeated after the run took it changes nothing and says so', async () => {
    const world = worldOf();
    const { run, engine } = await runReportedEarly(world, 'applied');
    const again = await engine.applyRosterReport({
      tenantId: TENANT,
      syncRunId: run._id,
      status: 'applied',
      sequence: 1,
    });
    expect(again).toBe(false);
    expect(world.runs.get(run._id)?.status).toBe('applied');
  });

  it('the connector stops between the step’s write and taking the kept report: the report’s event, handled again by the next process, takes it', async () => {
    // A life without a crash gives the step: the `published` step's own taking of the reports, the
    // last `runs.takeReports` of the run (the report's first handling takes reports too, before it).
    const probe = new ProcessLife();
    await runReportedEarly(worldOf(), 'applied', probe);
    const at = probe.steps.lastIndexOf('runs.takeReports') + 1;
    expect(probe.steps[at - 2]).toBe('runs.applyStep ✓');

    const world = worldOf();
    const life = new ProcessLife(at);
    const { run: stopped, outcomes, report } = await runReportedEarly(world, 'applied', life);
    expect(life.dead).toBe(true);
    expect(outcomes).toEqual(['CONNECTOR_REPORT_BEFORE_PUBLISHED']);
    // The step was written, the kept report not taken: the run says published.
    expect(stopped.status).toBe('published');
    expect(world.snapshots.has(TENANT)).toBe(false);

    // The report's event was never committed (its handling failed): the next process handles it.
    const next = new SyncEngine({ ...inMemoryPorts(world, new ProcessLife()), logger }, OPTIONS);
    engines.push(next);
    expect(await next.applyRosterReport(report)).toBe(true);
    const run = world.runs.get(stopped._id)!;
    expect(run.status).toBe('applied');
    expect(run.rosterSequence).toBe(1);
    expect(world.snapshots.get(TENANT)?.syncRunId).toBe(run._id);
    expect(world.freshness.get(TENANT)?.syncRunId).toBe(run._id);
  });

  it('the connector stops after the step took the kept report, before moving on what it moves on: the report’s next handling does it', async () => {
    const probe = new ProcessLife();
    await runReportedEarly(worldOf(), 'applied', probe);
    // Killed once the step's taking of the reports has landed (after its `✓`).
    const at = probe.steps.lastIndexOf('runs.takeReports ✓') + 1;

    const world = worldOf();
    const life = new ProcessLife(at + 1);
    const { run: stopped, report } = await runReportedEarly(world, 'applied', life);
    expect(life.dead).toBe(true);
    expect(stopped.status).toBe('applied');
    expect(world.snapshots.has(TENANT)).toBe(false);

    const next = new SyncEngine({ ...inMemoryPorts(world, new ProcessLife()), logger }, OPTIONS);
    engines.push(next);
    // Taken already (false), and what it moves on is moved on now.
    expect(await next.applyRosterReport(report)).toBe(false);
    expect(world.snapshots.get(TENANT)?.syncRunId).toBe(stopped._id);
    expect(world.freshness.get(TENANT)?.syncRunId).toBe(stopped._id);
  });

  it('a run nobody records `published` for does not hold its report’s event for ever: past the sweep’s time the event is let go, the report kept for the step', async () => {
    const world = worldOf();
    const engine = new SyncEngine(
      { ...inMemoryPorts(world, new ProcessLife()), logger },
      { ...OPTIONS, leaseTtlMs: 1_000, staleSweepIntervalMs: 1_000 },
    );
    engines.push(engine);
    const stuck = (id: string, msAgo: number) => runAtMarker(TENANT, id, new Date(Date.now() - msAgo));
    const report = (syncRunId: string): RosterReport => ({
      tenantId: TENANT,
      syncRunId,
      status: 'applied',
      sequence: 2,
    });
    world.runs.set('recent', stuck('recent', 500));
    world.runs.set('old', stuck('old', 3_500));
    // Within 2 × lease + sweep interval (3 s): handled again.
    await expect(engine.applyRosterReport(report('recent'))).rejects.toMatchObject({
      code: 'CONNECTOR_REPORT_BEFORE_PUBLISHED',
    });
    // Past it: let go, still kept.
    expect(await engine.applyRosterReport(report('old'))).toBe(false);
    expect(world.runs.get('old')?.status).toBe('fetched');
    // Whenever the step is recorded, it takes the kept report.
    const { runs } = inMemoryPorts(world, new ProcessLife());
    const step = await runs.recordStep(
      world.runs.get('old')!,
      { status: 'published', publishedAt: new Date() },
      { sequence: 1 },
      null,
    );
    expect(step.run).toMatchObject({ status: 'applied', rosterSequence: 2 });
  });
});

describe('roster reports a run does not take', () => {
  it('a report for a run the connector ended itself, or one not yet at its marker, changes nothing and is not kept; an older report after a newer one changes nothing', async () => {
    const world = worldOf();
    const engine = new SyncEngine({ ...inMemoryPorts(world, new ProcessLife()), logger }, OPTIONS);
    engines.push(engine);
    const now = new Date();
    world.runs.set('ended', runRecord(TENANT, 'ended', now, { status: 'unchanged' }));
    world.runs.set('fetching', runRecord(TENANT, 'fetching', now, { status: 'fetching' }));
    world.runs.set('published', runRecord(TENANT, 'published', now));
    const report = (syncRunId: string, status: 'applying' | 'applied', sequence: number): RosterReport => ({
      tenantId: TENANT,
      syncRunId,
      status,
      sequence,
    });
    expect(await engine.applyRosterReport(report('ended', 'applied', 1))).toBe(false);
    expect(await engine.applyRosterReport(report('fetching', 'applied', 1))).toBe(false);
    expect(await engine.applyRosterReport(report('unknown', 'applied', 1))).toBe(false);
    expect(world.runs.get('ended')?.status).toBe('unchanged');
    expect(world.runs.get('fetching')?.status).toBe('fetching');
    expect(world.reports.size).toBe(0);
    expect(world.snapshots.has(TENANT)).toBe(false);

    expect(await engine.applyRosterReport(report('published', 'applied', 2))).toBe(true);
    expect(await engine.applyRosterReport(report('published', 'applying', 1))).toBe(false);
    expect(world.runs.get('published')).toMatchObject({ status: 'applied', rosterSequence: 2 });
  });
});

describe('what a taken report moves on', () => {
  it('a late repeat of an older run’s report does not put its snapshot back over the newer run’s: the next run is compared with the newer', async () => {
    const world = worldOf();
    world.school.documentSha256 = 'sha-of-document-1';
    const first = await runReportedEarly(world, 'applied');
    expect(world.snapshots.get(TENANT)?.syncRunId).toBe(first.run._id);
    // The school's data changes (a pupil removed in iSAMS) and the next run applies it, fetched a
    // few milliseconds later (the snapshots are ordered by their runs' fetch times).
    await new Promise((resolve) => setTimeout(resolve, 5));
    world.school.records.yearGroups = [];
    world.school.documentSha256 = 'sha-of-document-2';
    const second = await runReportedEarly(world, 'applied');
    expect(second.run._id).not.toBe(first.run._id);
    expect(second.run.status).toBe('applied');
    expect(world.snapshots.get(TENANT)?.syncRunId).toBe(second.run._id);

    // The first run's report comes again (a consumer that stalled in its handling and lost the
    // partition, then went on): taken already, and what it moves on must not go back.
    expect(await second.engine.applyRosterReport(first.report)).toBe(false);
    expect(world.snapshots.get(TENANT)?.syncRunId).toBe(second.run._id);
    expect(world.snapshots.get(TENANT)?.document?.sha256).toBe('sha-of-document-2');
    expect(world.freshness.get(TENANT)?.syncRunId).toBe(second.run._id);

    // The school goes back to the first document (the removal undone in iSAMS): the next run must
    // read it, not stop on its bytes as the document already applied.
    world.school.records.yearGroups = [{ Id: 'y7' }];
    world.school.documentSha256 = 'sha-of-document-1';
    await new Promise((resolve) => setTimeout(resolve, 5));
    const third = await runReportedEarly(world, 'applied');
    expect(world.fetches.at(-1)).toBe('sha-of-document-2');
    expect(third.run.status).toBe('applied');
    expect(world.snapshots.get(TENANT)?.syncRunId).toBe(third.run._id);
  });
});

const BATCH = 'held-opening';
const minutesAgo = (n: number) => new Date(Date.now() - n * 60_000);

/**
 * Two real runs held the same batch: the one that opened it, and a later one whose held changes
 * became the batch's next version (the roster's updateHeldBatch); beside them a run held on another
 * batch and a dry run.
 */
function heldWorld(holdKind: 'removals' | 'whole_run'): ConnectorWorld {
  const world = worldOf();
  const held = (id: string, fetchedAt: Date, batchId = BATCH) =>
    runRecord(TENANT, id, fetchedAt, {
      status: 'held',
      rosterStatus: 'held',
      rosterSequence: 2,
      fetchedAt,
      finishedAt: fetchedAt,
      heldBatchId: batchId,
      holdKind,
      rosterCounts: { pupil: { added: 1, held: 3 } },
    });
  world.runs.set('opening', held('opening', minutesAgo(30)));
  world.runs.set('later', held('later', minutesAgo(20)));
  world.runs.set('other-batch', held('other-batch', minutesAgo(10), 'held-other'));
  world.runs.set('dry', { ...held('dry', minutesAgo(5)), dryRun: true });
  return world;
}

describe('an approved held batch', () => {
  // The admin approves the batch's version, and the roster reports the opening run `applied`
  // (sequence 3) once the approval is applied.
  const approval: RosterReport = { tenantId: TENANT, syncRunId: 'opening', status: 'applied', sequence: 3 };
  const engineOf = (world: ConnectorWorld, life = new ProcessLife()) => {
    const engine = new SyncEngine({ ...inMemoryPorts(world, life), logger }, OPTIONS);
    engines.push(engine);
    return engine;
  };

  it('ends every real run held on it `applied` — the approved version carried their held changes — and moves data-as-of and the applied snapshot to the newest of them', async () => {
    const world = heldWorld('whole_run');
    expect(await engineOf(world).applyRosterReport(approval)).toBe(true);
    expect(world.runs.get('opening')).toMatchObject({ status: 'applied', rosterSequence: 3 });
    expect(world.runs.get('later')).toMatchObject({
      status: 'applied',
      rosterStatus: 'applied',
      heldBatchId: BATCH,
      rosterCounts: { pupil: { added: 1, held: 3 } },
    });
    // Another batch's run, and a dry run (it holds nothing), are not decided by it.
    expect(world.runs.get('other-batch')?.status).toBe('held');
    expect(world.runs.get('dry')?.status).toBe('held');
    // SchoolCloud now has the later run's document: the next run is compared with it.
    expect(world.snapshots.get(TENANT)?.syncRunId).toBe('later');
    expect(world.freshness.get(TENANT)).toEqual({
      dataAsOf: world.runs.get('later')!.fetchedAt,
      syncRunId: 'later',
    });
  });

  it('the newest of them is the one fetched last by the fetch sequences, not by its replica’s clock', async () => {
    const world = heldWorld('whole_run');
    // The opening run's replica's clock was 30 s ahead; the later run's was right.
    const skewed = { fetchSequence: 1, fetchedAt: new Date(Date.now() - 19.5 * 60_000) };
    world.runs.set('opening', { ...world.runs.get('opening')!, ...skewed });
    world.runs.set('later', { ...world.runs.get('later')!, fetchSequence: 2 });
    expect(await engineOf(world).applyRosterReport(approval)).toBe(true);
    expect(world.snapshots.get(TENANT)).toMatchObject({ syncRunId: 'later', fetchSequence: 2 });
    expect(world.freshness.get(TENANT)?.syncRunId).toBe('later');
  });

  it('a repeated report changes nothing, and a newer snapshot and data-as-of stay', async () => {
    const world = heldWorld('removals');
    const engine = engineOf(world);
    // A run fetched after both was applied before the approval came.
    const newer = minutesAgo(1);
    world.snapshots.set(TENANT, { syncRunId: 'newer', fetchedAt: newer, fingerprints: {}, absent: [] });
    world.freshness.set(TENANT, { dataAsOf: newer, syncRunId: 'newer' });
    expect(await engine.applyRosterReport(approval)).toBe(true);
    expect(world.runs.get('later')?.status).toBe('applied');
    expect(await engine.applyRosterReport(approval)).toBe(false);
    expect(
      await engine.applyRosterReport({ ...approval, syncRunId: 'later', status: 'held', sequence: 2 }),
    ).toBe(false);
    expect(world.runs.get('later')).toMatchObject({ status: 'applied', rosterSequence: 2 });
    expect(world.snapshots.get(TENANT)?.syncRunId).toBe('newer');
    expect(world.freshness.get(TENANT)?.syncRunId).toBe('newer');
  });

  it('an approval that names its batch, taken before the opening run’s own `held` report, still ends the runs held on that batch `applied`', async () => {
    const world = heldWorld('removals');
    // The opening run's `held` report has not reached the connector: it is at its marker, no batch known.
    world.runs.set('opening', runRecord(TENANT, 'opening', minutesAgo(30), { fetchedAt: minutesAgo(30) }));
    const engine = engineOf(world);
    expect(await engine.applyRosterReport({ ...approval, heldBatchId: BATCH, holdKind: 'removals' })).toBe(
      true,
    );
    expect(world.runs.get('opening')).toMatchObject({ status: 'applied', heldBatchId: BATCH });
    expect(world.runs.get('later')?.status).toBe('applied');
    expect(world.runs.get('other-batch')?.status).toBe('held');
    // Its own `held` report, late, is older than the decision: it changes nothing.
    expect(
      await engine.applyRosterReport({ ...approval, status: 'held', sequence: 2, heldBatchId: BATCH }),
    ).toBe(false);
    expect(world.runs.get('opening')?.status).toBe('applied');
  });

  it('the connector stops anywhere after taking the report: its event handled again finishes what it moves on', async () => {
    const probe = new ProcessLife();
    await engineOf(heldWorld('whole_run'), probe).applyRosterReport(approval);
    const taken = probe.steps.indexOf('runs.takeReports ✓') + 1;
    const steps = probe.steps.length;
    expect(steps).toBeGreaterThan(taken);
    for (let at = taken; at <= steps; at += 1) {
      const world = heldWorld('whole_run');
      const life = new ProcessLife(at);
      await life.untilDeath(engineOf(world, life).applyRosterReport(approval));
      expect(life.dead).toBe(true);
      engines.pop();
      await engineOf(world).applyRosterReport(approval);
      expect(world.runs.get('later')?.status, `stopped at ${probe.steps[at]}`).toBe('applied');
      expect(world.snapshots.get(TENANT)?.syncRunId, `stopped at ${probe.steps[at]}`).toBe('later');
      expect(world.freshness.get(TENANT)?.syncRunId, `stopped at ${probe.steps[at]}`).toBe('later');
    }
  });
});

describe('a superseded held batch', () => {
  // A later run left nothing of the pending batch to decide (every held change stopped applying):
  // the roster closes it `superseded` and reports that on the run that opened it (sequence 3).
  const superseded: RosterReport = {
    tenantId: TENANT,
    syncRunId: 'opening',
    status: 'superseded',
    sequence: 3,
    heldBatchId: BATCH,
    holdKind: 'removals',
  };

  it('ends every real run held on it `superseded`, keeping batch and counts; a repeated report changes nothing', async () => {
    const world = heldWorld('removals');
    const engine = new SyncEngine({ ...inMemoryPorts(world, new ProcessLife()), logger }, OPTIONS);
    engines.push(engine);
    expect(await engine.applyRosterReport(superseded)).toBe(true);
    for (const id of ['opening', 'later'])
      expect(world.runs.get(id), id).toMatchObject({
        status: 'superseded',
        rosterStatus: 'superseded',
        heldBatchId: BATCH,
        rosterCounts: { pupil: { added: 1, held: 3 } },
      });
    expect(world.runs.get('other-batch')?.status).toBe('held');
    expect(world.runs.get('dry')?.status).toBe('held');
    expect(await engine.applyRosterReport(superseded)).toBe(false);
    expect(world.runs.get('later')?.status).toBe('superseded');
  });
});

describe('a `held` report taken after its batch was decided', () => {
  // Reports of different runs can reach the connector in any order (restarts, partitions): the
  // decision on the batch (sequence 3, on the run that opened it) before a later run's `held`
  // report naming the same batch. That run was held on a batch already decided: it ends decided.
  function decidedWorld(): ConnectorWorld {
    const world = worldOf();
    world.runs.set(
      'opening',
      runRecord(TENANT, 'opening', minutesAgo(30), {
        status: 'held',
        rosterStatus: 'held',
        rosterSequence: 2,
        fetchedAt: minutesAgo(30),
        heldBatchId: BATCH,
        holdKind: 'removals',
      }),
    );
    world.runs.set('late', runRecord(TENANT, 'late', minutesAgo(20), { fetchedAt: minutesAgo(20) }));
    return world;
  }
  const decisionOf = (status: 'applied' | 'discarded' | 'superseded'): RosterReport => ({
    tenantId: TENANT,
    syncRunId: 'opening',
    status,
    sequence: 3,
    ...(status === 'applied' ? {} : { heldBatchId: BATCH, holdKind: 'removals' as const }),
  });
  const lateHeld: RosterReport = {
    tenantId: TENANT,
    syncRunId: 'late',
    status: 'held',
    sequence: 2,
    counts: { pupil: { added: 0, held: 2 } },
    heldBatchId: BATCH,
    holdKind: 'removals',
  };
  const engineOf = (world: ConnectorWorld, life = new ProcessLife()) => {
    const engine = new SyncEngine({ ...inMemoryPorts(world, life), logger }, OPTIONS);
    engines.push(engine);
    return engine;
  };

  for (const decision of ['applied', 'discarded', 'superseded'] as const)
    it(`${decision}: the late run ends ${decision} at once, keeping its batch and counts; a repeated report changes nothing`, async () => {
      const world = decidedWorld();
      const engine = engineOf(world);
      expect(await engine.applyRosterReport(decisionOf(decision))).toBe(true);
      expect(world.runs.get('opening')?.status).toBe(decision);
      expect(await engine.applyRosterReport(lateHeld)).toBe(true);
      expect(world.runs.get('late')).toMatchObject({
        status: decision,
        rosterStatus: decision,
        rosterSequence: 2,
        heldBatchId: BATCH,
        rosterCounts: { pupil: { added: 0, held: 2 } },
      });
      expect(await engine.applyRosterReport(lateHeld)).toBe(false);
      expect(world.runs.get('late')?.status).toBe(decision);
      // The approved version carried the late run's held changes: SchoolCloud is as of its fetch.
      if (decision === 'applied') {
        expect(world.snapshots.get(TENANT)?.syncRunId).toBe('late');
        expect(world.freshness.get(TENANT)?.syncRunId).toBe('late');
      }
    });

  it('a `held` report on another batch, or on a batch not yet decided, leaves the run held', async () => {
    const world = decidedWorld();
    const engine = engineOf(world);
    expect(await engine.applyRosterReport({ ...lateHeld, heldBatchId: 'held-other' })).toBe(true);
    expect(world.runs.get('late')?.status).toBe('held');
    expect(world.runs.get('opening')?.status).toBe('held');
  });

  it('the connector stops anywhere after taking the late report: its event handled again ends the run decided', async () => {
    const probe = new ProcessLife();
    const probeEngine = engineOf(decidedWorld(), probe);
    await probeEngine.applyRosterReport(decisionOf('discarded'));
    const from = probe.steps.length;
    await probeEngine.applyRosterReport(lateHeld);
    const taken = probe.steps.indexOf('runs.takeReports ✓', from) + 1;
    const steps = probe.steps.length;
    expect(taken).toBeGreaterThan(from);
    for (let at = taken; at <= steps; at += 1) {
      const world = decidedWorld();
      const life = new ProcessLife(at);
      const engine = engineOf(world, life);
      await engine.applyRosterReport(decisionOf('discarded'));
      await life.untilDeath(engine.applyRosterReport(lateHeld));
      expect(life.dead, `stopped at ${probe.steps[at - 1]}`).toBe(true);
      engines.pop();
      await engineOf(world).applyRosterReport(lateHeld);
      expect(world.runs.get('late')?.status, `stopped at ${probe.steps[at - 1]}`).toBe('discarded');
    }
  });
});
