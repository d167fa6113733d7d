import { DATASET_IDS } from '@isams-sync/isams';
import { createLogger } from '@isams-sync/logger';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { RunRecord } from '../../src/domain/run-record';
import type { AppliedSnapshot, RunStatus } from '../../src/domain/sync-run';
import { SCHEDULE_CLAIM_RETRY_MS, scheduleClaimAttempt, scheduleClaimKey } from '../../src/domain/schedule';
import { SyncEngine } from '../../src/use-cases/sync-engine';
import {
  ConnectorWorld,
  enrolSchool,
  inMemoryPorts,
  scriptedDatasets,
  testEngineOptions,
} from '../support/in-memory/in-memory-ports';
import type { PublishedEvent, ScriptedSchool } from '../support/in-memory/in-memory-ports';
import { ProcessLife } from '../support/in-memory/process-life';

// The sync engine's state machine against in-memory ports: a process is killed at every I/O step
// of a run in turn (before the call took effect, and after it did but before its caller learnt it),
// a new process starts on what the dead one left, and the end state must be the one the design
// promises. The real adapters keep their integration tests (test/int/large-school-and-restart…).

const TENANT = 'school-a';
const LEASE_TTL_MS = 30_000;
/** Past the run lease, the stale heartbeat and the minute a slot or queue entry is given to be filled. */
const RESTART_AFTER_MS = LEASE_TTL_MS + 61_000;
/** The lives a school gets after the crash to reach its end state (each one a fresh process). */
const MAX_LIVES = 3;

const SCHOOL: ScriptedSchool = {
  chunkSize: 2,
  records: {
    currentStaff: [{ Id: 's1' }, { Id: 's2' }, { Id: 's3' }],
    currentPupils: [{ Id: 'p1' }, { Id: 'p2' }, { Id: 'p3' }, { Id: 'p4' }, { Id: 'p5' }],
    yearGroups: [{ Id: 'y7' }],
    teachingSets: [],
  },
};

/** Each dataset's records as the connector spools and publishes them. */
const SCHOOL_LINES = Object.fromEntries(
  Object.entries(SCHOOL.records).map(([d, records]) => [d, records.map((r) => JSON.stringify(r))]),
) as Record<keyof typeof SCHOOL.records, string[]>;

const FINAL_STATUSES: readonly RunStatus[] = ['published', 'failed', 'cancelled', 'unchanged'];

type ScenarioName =
  | 'scheduled run'
  | 'manual run'
  | 'run whose iSAMS fetch fails part-way'
  | 'run whose document is the last applied one, byte for byte'
  | 'run queued, then the school paused before it starts';

interface Scenario {
  name: ScenarioName;
  school: ScriptedSchool;
  /** How the run is asked for: the scheduler finding the school due, or the admin. */
  request: 'schedule' | 'manual';
  /** The run the school ends with. */
  endsWith: (run: RunRecord) => boolean;
  /** The roster applied the school's document before (the applied snapshot has its bytes' sha256). */
  appliedBefore?: boolean;
  /**
   * The admin pauses the school's sync (PutSettings enabled: false, on another replica) once the run
   * is recorded `requested` — or when the process died, if that was sooner; no one can ask again.
   */
  pausedOnceRequested?: boolean;
}

const APPLIED_SHA256 = 'sha256-of-the-applied-document';

const SCENARIOS: Scenario[] = [
  { name: 'scheduled run', school: SCHOOL, request: 'schedule', endsWith: (r) => r.status === 'published' },
  { name: 'manual run', school: SCHOOL, request: 'manual', endsWith: (r) => r.status === 'published' },
  {
    name: 'run whose iSAMS fetch fails part-way',
    school: { ...SCHOOL, failAfterDatasets: 2 },
    request: 'manual',
    endsWith: (r) => r.status === 'failed' && r.error?.code === 'ISAMS_ERROR_DOCUMENT',
  },
  {
    name: 'run whose document is the last applied one, byte for byte',
    school: { ...SCHOOL, documentSha256: APPLIED_SHA256 },
    request: 'manual',
    appliedBefore: true,
    endsWith: (r) => r.status === 'unchanged' && r.document?.sha256 === APPLIED_SHA256,
  },
  {
    name: 'run queued, then the school paused before it starts',
    school: SCHOOL,
    request: 'manual',
    pausedOnceRequested: true,
    endsWith: (r) =>
      r.status === 'cancelled' &&
      r.error?.code === 'CONNECTOR_SYNC_DISABLED' &&
      r.fetchStartedAt === undefined,
  },
];

const OPTIONS = testEngineOptions(LEASE_TTL_MS);

const logger = createLogger({ service: 'connector-crash-matrix', level: 'silent' });

function newWorld(scenario: Scenario): ConnectorWorld {
  const world = new ConnectorWorld(scenario.school, LEASE_TTL_MS);
  enrolSchool(world, TENANT, scenario.request === 'schedule' ? new Date(Date.now() - 60_000) : null);

  if (scenario.appliedBefore) world.snapshots.set(TENANT, appliedSnapshotOf(scenario.school));
  return world;
}

/** The snapshot the roster's report of an earlier run of `school`'s document left. */
function appliedSnapshotOf(school: ScriptedSchool): AppliedSnapshot {
  const datasets = scriptedDatasets(school);
  const absent = DATASET_IDS.filter((d) => school.records[d] === undefined);
  return {
    syncRunId: 'the-applied-run',
    fingerprints: Object.fromEntries(datasets.map((d) => [d.datasetId, d.fingerprint])),
    absent,
    document: {
      sha256: school.documentSha256!,
      reading: OPTIONS.documentReading,
      summary: { datasets, absent, unknownContainers: [], findings: [], bytes: 1234 },
    },
  };
}

/** The admin's save turning the school's sync off (on another replica: no step of this process). */
function pauseSync(world: ConnectorWorld): void {
  world.settings.get(TENANT)!.enabled = false;
}

const engineFor = (world: ConnectorWorld, life: ProcessLife, owner: string, scenario?: Scenario) =>
  new SyncEngine(
    {
      ...inMemoryPorts(world, life),
      logger,
      ...(scenario?.pausedOnceRequested
        ? { onStep: (step: string) => void (step === 'run-requested' && pauseSync(world)) }
        : {}),
    },
    { ...OPTIONS, owner },
  );

/** Asks for a run the way the scenario does; an admin's request may fail (the process died under it). */
async function requestRun(engine: SyncEngine, scenario: Scenario): Promise<void> {
  if (scenario.request === 'schedule') await engine.schedulerTick();
  else await engine.trigger(TENANT, { kind: 'manual', actor: 'admin@school-a' }, false);
}

/** The first process: asks for the run and works until it is done, or dies at `crashAt`. */
async function firstLife(world: ConnectorWorld, scenario: Scenario, crashAt?: number): Promise<ProcessLife> {
  const life = new ProcessLife(crashAt);
  const engine = engineFor(world, life, 'doomed', scenario);
  await life.untilDeath(
    (async () => {
      await engine.start();
      await requestRun(engine, scenario);
      await engine.drain();
    })(),
  );
  // A dead process's timers stop with it; its last calls never return.
  if (life.dead) void engine.stop(0);
  else await engine.stop(1_000);
  if (scenario.pausedOnceRequested) pauseSync(world);
  return life;
}

const schoolRuns = (world: ConnectorWorld) => [...world.runs.values()].filter((r) => r.tenantId === TENANT);
const reachedEnd = (world: ConnectorWorld, scenario: Scenario) =>
  schoolRuns(world).some(scenario.endsWith) &&
  !schoolRuns(world).some((r) => !FINAL_STATUSES.includes(r.status));

/**
 * True when the school is due and every claim a scheduler could take for it now is taken: no
 * replica runs it until the next claim window opens (SCHEDULE_CLAIM_RETRY_MS after the due time).
 */
function dueTimeClaimedWithoutRun(world: ConnectorWorld): boolean {
  const due = world.schedules.get(TENANT)?.nextRunAt;
  if (!due || due.getTime() > Date.now()) return false;
  return world.claims.has(scheduleClaimKey(TENANT, due, scheduleClaimAttempt(due, new Date())));
}

/**
 * Later processes, each after the dead one's lease and heartbeat are stale: start-up recovery, the
 * stale-run sweep and the work queue; then, while the school has not reached its end state, the next
 * request (the admin asking again, or the school's next scheduled time). Resolves to whether the
 * school had to wait for the next claim window of its due time.
 */
async function laterLives(
  world: ConnectorWorld,
  scenario: Scenario,
): Promise<{ waitedForClaimRetry: boolean }> {
  let waitedForClaimRetry = false;
  for (let lives = 1; lives === 1 || (!reachedEnd(world, scenario) && lives <= MAX_LIVES); lives++) {
    vi.setSystemTime(Date.now() + RESTART_AFTER_MS);
    const engine = engineFor(world, new ProcessLife(), `survivor-${lives}`);
    await engine.start();
    await engine.sweepStale();
    await engine.drain();
    // A paused school is not asked for again (a request is refused with CONNECTOR_SYNC_DISABLED).
    for (
      let request = 0;
      request < 2 && !reachedEnd(world, scenario) && !scenario.pausedOnceRequested;
      request++
    ) {
      const nextRunAt = world.schedules.get(TENANT)?.nextRunAt;
      if (scenario.request === 'schedule' && nextRunAt && nextRunAt.getTime() > Date.now())
        vi.setSystemTime(nextRunAt);
      if (scenario.request === 'schedule' && dueTimeClaimedWithoutRun(world)) {
        waitedForClaimRetry = true;
        vi.setSystemTime(Date.now() + SCHEDULE_CLAIM_RETRY_MS);
      }
      await requestRun(engine, scenario);
      await engine.drain();
    }
    await engine.stop(1_000);
  }
  return { waitedForClaimRetry };
}

/** One more process start-up (its leftover-spool clean-up), then stopped. */
async function nextStartUp(world: ConnectorWorld): Promise<void> {
  const engine = engineFor(world, new ProcessLife(), 'next-start-up');
  await engine.start();
  await engine.stop(1_000);
}

const eventsOf = (world: ConnectorWorld, syncRunId: string) =>
  world.events.filter((e) => e.syncRunId === syncRunId);

/** A run's chunk records per dataset, each chunk once (a re-sent chunk is the same event). */
function datasetRecords(events: readonly PublishedEvent[]): Record<string, string[]> {
  const chunks = new Map<string, Extract<PublishedEvent, { kind: 'chunk' }>>();
  for (const e of events) if (e.kind === 'chunk') chunks.set(e.id, e);
  const out: Record<string, string[]> = {};
  for (const c of [...chunks.values()].sort((a, b) => a.chunkIndex - b.chunkIndex))
    out[c.datasetId] = [...(out[c.datasetId] ?? []), ...c.records];
  return out;
}

const markerContent = (events: readonly PublishedEvent[]) =>
  events
    .filter((e) => e.kind === 'marker')
    .map(({ data: { datasets, absentDatasets, unknownContainers, findings } }) => ({
      datasets,
      absentDatasets,
      unknownContainers,
      findings,
    }));

/** What every scenario promises, crash or not: no run, queue entry or school slot left behind. */
function expectNothingStuck(world: ConnectorWorld): void {
  expect(schoolRuns(world).filter((r) => !FINAL_STATUSES.includes(r.status))).toEqual([]);
  expect([...world.queue.values()]).toEqual([]);
  expect([...world.slots.values()]).toEqual([]);
}

/**
 * Each run ended once: it never announced an end other than the one it is in, and a failed run
 * never sent the marker. Resolves to whether every run's end was also announced on sync.runs.v1.
 */
function expectOneEndPerRun(world: ConnectorWorld): boolean {
  let allAnnounced = true;
  for (const run of schoolRuns(world)) {
    const ends = new Set(
      eventsOf(world, run._id).flatMap((e) =>
        e.kind === 'run-update' && FINAL_STATUSES.includes(e.status) ? [e.status] : [],
      ),
    );
    expect(
      [...ends].filter((s) => s !== run.status),
      `run ${run._id} announced`,
    ).toEqual([]);
    if (ends.size === 0) allAnnounced = false;
    const markers = eventsOf(world, run._id).filter((e) => e.kind === 'marker');
    // The marker is the commit point: a failed run never sent one; a published run did.
    if (run.status === 'failed') expect(markers).toEqual([]);
    if (run.status === 'published') expect(markers.length).toBeGreaterThanOrEqual(1);
  }
  // A re-sent event is the same event: one id, one content.
  const byId = new Map<string, string>();
  for (const e of world.events) {
    const body = JSON.stringify(e);
    expect(byId.get(e.id) ?? body, `event ${e.id}`).toBe(body);
    byId.set(e.id, body);
  }
  return allAnnounced;
}

interface Baseline {
  steps: string[];
  records: Record<string, string[]>;
  marker: ReturnType<typeof markerContent>;
}

async function baselineOf(scenario: Scenario): Promise<Baseline> {
  vi.useFakeTimers({ toFake: ['Date'] });
  try {
    const world = newWorld(scenario);
    const life = await firstLife(world, scenario);
    const run = schoolRuns(world).find(scenario.endsWith);
    if (!run) throw new Error(`${scenario.name}: the run without a crash did not end as expected`);
    const events = eventsOf(world, run._id);
    return { steps: life.steps, records: datasetRecords(events), marker: markerContent(events) };
  } finally {
    vi.useRealTimers();
  }
}

const baselines = new Map<ScenarioName, Baseline>();
for (const scenario of SCENARIOS) baselines.set(scenario.name, await baselineOf(scenario));

describe('the sync engine without a crash', () => {
  it('publishes every dataset of a scheduled run in chunks, then the marker', () => {
    const { records, marker } = baselines.get('scheduled run')!;
    expect(Object.keys(records).sort()).toEqual(['currentPupils', 'currentStaff', 'yearGroups']);
    expect(records.currentPupils).toHaveLength(5);
    expect(marker).toHaveLength(1);
    expect(marker[0]!.datasets.map((d) => [d.datasetId, d.chunkCount])).toEqual([
      ['currentStaff', 2],
      ['currentPupils', 3],
      ['yearGroups', 1],
      ['teachingSets', 0],
    ]);
  });

  it('publishes nothing but lifecycle events for a run whose document is the last applied one, byte for byte', () => {
    const { records, marker, steps } = baselines.get(
      'run whose document is the last applied one, byte for byte',
    )!;
    expect(records).toEqual({});
    expect(marker).toEqual([]);
    expect(steps.filter((s) => s.startsWith('isams.fetch'))).toEqual([
      'isams.fetch known document',
      'isams.fetch known document ✓',
    ]);
  });

  it('publishes at most the datasets read before a fetch fails part-way, and never a marker', () => {
    const { records, marker } = baselines.get('run whose iSAMS fetch fails part-way')!;
    // A first sync publishes each dataset once it is read; the run fails before its commit point
    // (and stops publishing what was still queued).
    expect(Object.keys(records)).not.toEqual([]);
    for (const [datasetId, lines] of Object.entries(records)) {
      expect(['currentStaff', 'currentPupils']).toContain(datasetId);
      expect(lines).toEqual(SCHOOL_LINES[datasetId as keyof typeof SCHOOL_LINES]);
    }
    expect(marker).toEqual([]);
  });
});

for (const scenario of SCENARIOS) {
  const baseline = baselines.get(scenario.name)!;
  const points = baseline.steps.map((step, i) => ({ at: i + 1, step }));
  const stepsBetween = (first: number, last: number) => points.filter((p) => p.at >= first && p.at <= last);
  // The scheduler claims the due time, reads the school's settings, then moves the schedule on;
  // killed in between, the due time stays claimed, and the school runs once the next claim window
  // opens (SCHEDULE_CLAIM_RETRY_MS after its due time), not when the claim is pruned a day later.
  const claimed = baseline.steps.indexOf('claims.claim ✓') + 1;
  const moved = baseline.steps.indexOf('schedules.setNext', claimed) + 1;
  const scheduleClaimGap =
    scenario.request === 'schedule' ? stepsBetween(claimed, moved).map((p) => p.at) : [];
  // A pause after a request that never took effect (the run not recorded) leaves no run at all.
  const requestRecorded = baseline.steps.indexOf('runs.recordRequested ✓') + 1;
  const runExpected = (at: number) => !scenario.pausedOnceRequested || at >= requestRecorded;
  describe(`a ${scenario.name} killed at any step ends as designed once a new process takes over`, () => {
    beforeEach(() => {
      vi.useFakeTimers({ toFake: ['Date'] });
    });
    afterEach(() => {
      vi.useRealTimers();
    });

    it.each(points)(
      'killed at step $at ($step): one end per run, every dataset published as without the crash, nothing stuck, no spool after the next start-up',
      async ({ at }) => {
        const world = newWorld(scenario);
        const life = await firstLife(world, scenario, at);
        expect(life.dead).toBe(true);
        const { waitedForClaimRetry } = await laterLives(world, scenario);

        // The school reached its end state, and nothing is left half-done.
        const ended = schoolRuns(world).filter(scenario.endsWith);
        if (runExpected(at)) expect(ended.length).toBeGreaterThanOrEqual(1);
        else expect(schoolRuns(world)).toEqual([]);
        // A run of a paused school never fetches (nothing goes to iSAMS) and ends cancelled.
        if (scenario.pausedOnceRequested) {
          expect(world.fetches).toEqual([]);
          expect(schoolRuns(world).filter((r) => !scenario.endsWith(r))).toEqual([]);
        }
        expectNothingStuck(world);
        const endsAnnounced = expectOneEndPerRun(world);
        // Killed after a run's end was decided and before it was announced on sync.runs.v1, the end
        // is announced by whoever finds the school's slot left behind (the stale-run sweep, or the
        // next request).
        expect(endsAnnounced).toBe(true);
        // Only a kill between claiming the due time and moving the schedule on makes the school wait
        // for the next claim window.
        expect(waitedForClaimRetry).toBe(scheduleClaimGap.includes(at));

        // Every dataset's records went out (at least once) with the same content as without a crash.
        const last = ended.at(-1);
        if (last) {
          expect(datasetRecords(eventsOf(world, last._id))).toEqual(baseline.records);
          expect(markerContent(eventsOf(world, last._id)).slice(0, 1)).toEqual(baseline.marker);
        }
        // A failed run never sent its marker (the commit point; checked for every run above), and
        // every chunk any run published holds its slice of the dataset as iSAMS has it (a run killed
        // while publishing a dataset may have sent only its first chunks).
        for (const e of world.events)
          if (e.kind === 'chunk') {
            const lines = SCHOOL_LINES[e.datasetId as keyof typeof SCHOOL_LINES];
            const at = e.chunkIndex * SCHOOL.chunkSize;
            expect(e.records, e.id).toEqual(lines.slice(at, at + SCHOOL.chunkSize));
          }

        // No spool outlives its run: the process that ends a run removes it, the start-up after a
        // crash what no run in flight holds, and the stale-run sweep the spool of an ended run whose
        // slot it finds (killed between deciding the run's end and recording it, the run read as in
        // flight at that start-up: 12 of these cases failed here before 2026-12-06).
        expect([...world.spools.keys()]).toEqual([]);
        await nextStartUp(world);
        expect([...world.spools.keys()]).toEqual([]);
      },
    );
  });
}
