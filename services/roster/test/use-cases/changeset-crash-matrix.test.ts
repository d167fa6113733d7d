import { describe, expect, it } from 'vitest';
import type { CloudEvent } from '@isams-sync/events';
import { ids } from '../../src/use-cases/records';
import { forkWorld, newWorld, play } from '../support/crash-world';
import type { World, WorldStep } from '../support/crash-world';
import { MemoryRosterStore, MemoryTenantLeasing } from '../support/memory-roster';
import { miniSchool } from '../support/mini-school';
import { storedRoster } from '../support/stored-roster';
import { pupil } from '../support/raw';

// The changeset processor's promise (changeset-processor.ts): every step is idempotent and every id
// deterministic, so a crash anywhere followed by a restart ends in the same state with the same
// events — a duplicate is possible, a gap is not. The integration tests (resume.int.test.ts,
// kill9.int.test.ts) show it for a few crash points against Kafka and MongoDB; here the same
// processor runs on in-memory ports and dies at every store and publisher call in turn, before the
// call and after it took effect.

const T = 'school-1';
// 600 pupils: a first sync's changeset spans two change chunks (500 each), so a crash between two
// published chunks is one of the points.
const FIRST: WorldStep = { kind: 'feed', tenantId: T, syncRunId: 'run-a', datasets: miniSchool(600) };
// The resyncs start from a smaller school (40 pupils) already synced, as held-batches.int.test.ts does.
const SMALL_FIRST: WorldStep = { kind: 'feed', tenantId: T, syncRunId: 'run-a', datasets: miniSchool(40) };
// 3 of 40 leave (not more than 10 %: applied), 2 join, 2 are renamed.
const RESYNC: WorldStep = {
  kind: 'feed',
  tenantId: T,
  syncRunId: 'run-b',
  datasets: miniSchool(40, {
    without: [1, 2, 3],
    extra: [pupil('900'), pupil('901')],
    renamed: { 10: 'R10', 11: 'R11' },
  }),
};
// 6 of 40 leave: more than 10 % (and more than 5), so the removals are held for an admin.
const LEAVERS = [1, 2, 3, 4, 5, 6];
const HELD: WorldStep = {
  kind: 'feed',
  tenantId: T,
  syncRunId: 'run-h',
  datasets: miniSchool(40, { without: LEAVERS }),
};
const APPROVE: WorldStep = { kind: 'approve', tenantId: T, batchId: 'held-run-h', actor: 'admin:1' };
const DISCARD: WorldStep = { kind: 'discard', tenantId: T, batchId: 'held-run-h', actor: 'admin:1' };
// Everyone who left is back: nothing of the pending batch is left to decide (closed `superseded`).
const BACK: WorldStep = { kind: 'feed', tenantId: T, syncRunId: 'run-s', datasets: miniSchool(40) };

/** Everything the tests compare: the stored roster, its manifest, the changesets, the published events. */
async function outcome(world: World) {
  const store = new MemoryRosterStore(world.state);
  const roster = await storedRoster(store, T);
  const manifest = Object.fromEntries(
    Object.entries(await store.loadManifest(T)).map(([t, m]) => [t, [...m.entries()].sort()]),
  );
  const changesets = [...world.state.changesets.values()]
    .map((cs) => `${cs._id}:${cs.state}:${cs.outcome ?? ''}:${cs.changeCount ?? ''}:${cs.heldCount ?? ''}`)
    .sort();
  // A change's revision carries the school's changeset number, which a holder that died after taking
  // one skips (gaps are fine); everything else of an event is fixed by the run.
  const content = (e: CloudEvent) => {
    const { revision, ...data } = e.data as { revision?: unknown };
    void revision;
    return JSON.stringify({ id: e.id, type: e.type, subject: e.subject, data });
  };
  const distinct = (list: CloudEvent[]) => [...new Set(list.map(content))].sort();
  const runs = world.broker
    .events('run')
    .map(
      (e) =>
        `${e.syncrunid}:${(e.data as { sequence: number }).sequence}:${(e.data as { status: string }).status}`,
    );
  return {
    roster,
    manifest,
    changesets,
    unfinished: (await store.unfinishedChangesets()).map((cs) => cs._id),
    changes: distinct(world.broker.events('changes')),
    state: distinct(world.broker.events('state')),
    runs: [...new Set(runs)].sort(),
  };
}

const removedPupils = (o: Awaited<ReturnType<typeof outcome>>) =>
  o.roster
    .filter((e) => e.t === 'pupil' && e.status === 'removed')
    .map((e) => Number(e.id))
    .sort((x, y) => x - y);

/** Calls that only read: dying right after one is dying right before the next call. */
const READS = new Set([
  'getChangeset',
  'loadChangeset',
  'stagedChunks',
  'loadChunk',
  'runsStagedBefore',
  'newestChunkAt',
  'changeChunk',
  'loadManifest',
  'entityDocs',
  'thresholds',
  'pendingBatch',
  'heldBatch',
  'heldItems',
  'discarded',
  'decisionsToReport',
]);

/** Every change event was sent after the state record of the same change was acknowledged. */
function stateBeforeChange(world: World): string[] {
  const stated = new Set<string>();
  const early: string[] = [];
  for (const p of world.broker.log) {
    if (p.kind === 'state')
      for (const e of p.events)
        stated.add(`${e.subject}|${(e.data as { lastChangeId: string }).lastChangeId}`);
    if (p.kind === 'changes')
      for (const e of p.events) {
        const key = `${e.subject}|${(e.data as { changeId: string }).changeId}`;
        if (!stated.has(key)) early.push(key);
      }
  }
  return early;
}

interface Scenario {
  name: string;
  /** The world the crash happens in (before: earlier runs, played without a crash). */
  base: () => Promise<World>;
  steps: WorldStep[];
  /** The pupils removed at the end (the reference must agree: nothing else is removed). */
  removed: number[];
  /** The school's changesets at the end: id, state, outcome. */
  finished: string[];
  /** The run reports on sync.runs.v1 (`<run>:<sequence>:<status>`, distinct), when the scenario pins them. */
  reports?: string[];
  /** No change is published (a run that only held removals, which were then discarded). */
  noChanges?: boolean;
  /** The raw-datasets events handed over this many at a time (fetched batches; default one by one). */
  batch?: number;
}

let firstSynced: World | undefined;
async function afterFirstSync(): Promise<World> {
  if (firstSynced === undefined) {
    firstSynced = newWorld();
    await play(firstSynced, [SMALL_FIRST]);
  }
  return forkWorld(firstSynced);
}

const SCENARIOS: Scenario[] = [
  {
    name: 'a first sync (two change chunks)',
    base: async () => newWorld(),
    steps: [FIRST],
    removed: [],
    finished: [`${T}|run-a:done:applied`],
  },
  {
    name: 'a resync with additions, updates and removals',
    base: afterFirstSync,
    steps: [RESYNC],
    removed: [1, 2, 3],
    finished: [`${T}|run-a:done:applied`, `${T}|run-b:done:applied`],
  },
  {
    // One process: the resync's plan takes the staged chunks and the changed entities' images it has in hand.
    name: 'a first sync and a resync in one process (the resync from what it remembers)',
    base: async () => newWorld(),
    steps: [SMALL_FIRST, RESYNC],
    removed: [1, 2, 3],
    finished: [`${T}|run-a:done:applied`, `${T}|run-b:done:applied`],
  },
  {
    // The consumer hands the raw-datasets events over in fetched batches: a batch's chunks are
    // staged several at once, the marker after them; a crash redelivers the batch it cut off.
    name: 'a resync with additions, updates and removals, its events in fetched batches of 4',
    base: afterFirstSync,
    steps: [RESYNC],
    removed: [1, 2, 3],
    finished: [`${T}|run-a:done:applied`, `${T}|run-b:done:applied`],
    batch: 4,
  },
  {
    name: 'a resync whose removals are held, then approved',
    base: afterFirstSync,
    steps: [HELD, APPROVE],
    removed: LEAVERS,
    finished: [`${T}|run-a:done:applied`, `${T}|run-h:done:held`, `${T}|run-h|approval:done:applied`],
    reports: ['run-h:1:applying', 'run-h:2:held', 'run-h:3:applied'],
  },
  {
    // The discard is reported on the run (sequence 3 `discarded`), so the run is no longer held for review.
    name: 'a resync whose removals are held, then discarded',
    base: afterFirstSync,
    steps: [HELD, DISCARD],
    removed: [],
    finished: [`${T}|run-a:done:applied`, `${T}|run-h:done:held`],
    reports: ['run-h:1:applying', 'run-h:2:held', 'run-h:3:discarded'],
    noChanges: true,
  },
  {
    // The supersede is reported on the run that opened the batch (sequence 3 `superseded`), so
    // that run is no longer held for review; a crash before the report leaves it to the sweep.
    name: 'a resync whose removals are held, then superseded by a run in which everyone is back',
    base: afterFirstSync,
    steps: [HELD, BACK],
    removed: [],
    finished: [`${T}|run-a:done:applied`, `${T}|run-h:done:held`, `${T}|run-s:done:applied`],
    reports: [
      'run-h:1:applying',
      'run-h:2:held',
      'run-h:3:superseded',
      'run-s:1:applying',
      'run-s:2:applied',
    ],
    noChanges: true,
  },
];

for (const s of SCENARIOS) {
  const reference = await s.base();
  const { calls } = await play(reference, s.steps, undefined, { batch: s.batch });
  const want = await outcome(reference);

  describe(`${s.name}: a crash at any store or publisher call, then a restart, ends as if nothing happened`, () => {
    it(`the run without a crash (${calls.length} calls) ends done, removing exactly the pupils who left`, () => {
      expect(removedPupils(want)).toEqual(s.removed);
      expect(want.unfinished).toEqual([]);
      expect(want.changesets.map((c) => c.split(':').slice(0, 3).join(':'))).toEqual(s.finished);
      expect(want.changes.length > 0).toBe(s.noChanges !== true);
      if (s.reports !== undefined) expect(want.runs).toEqual(s.reports);
    });

    const points = calls.flatMap((name, call) =>
      (READS.has(name.split('.')[1]!) ? (['before'] as const) : (['before', 'after'] as const)).map(
        (when) => ({ name, call, when }),
      ),
    );
    it.each(points)('crash $when call #$call ($name)', async ({ call, when }) => {
      const world = await s.base();
      const played = await play(world, s.steps, { call, when }, { batch: s.batch });
      expect(played.crashedAt).toBeDefined();
      const got = await outcome(world);
      expect(got.roster).toEqual(want.roster);
      expect(got.manifest).toEqual(want.manifest);
      expect(got.changesets).toEqual(want.changesets);
      expect(got.unfinished).toEqual([]);
      expect(removedPupils(got)).toEqual(s.removed);
      // Each change published at least once (duplicates allowed), and nothing else.
      expect(got.changes).toEqual(want.changes);
      expect(got.state).toEqual(want.state);
      expect(got.runs).toEqual(want.runs);
      expect(stateBeforeChange(world)).toEqual([]);
      // The staged chunks of a finished run are dropped.
      expect([...world.state.rawChunks.keys()].filter((k) => k.startsWith(`${T}|`))).toEqual([]);
    });
  });
}

/**
 * An admin's decision whose process died inside `window` — from the call recording the decision to
 * the call that finishes what it owes — and whose admin never retried: the next sweep must end it as
 * the crash-free run does.
 */
function decisionLeftToTheSweep(
  title: string,
  scenario: Scenario,
  window: { recorded: string; finished: string; what: string },
  also: (world: World) => Promise<void> = async () => {},
): void {
  describe(title, async () => {
    const reference = await scenario.base();
    const { calls } = await play(reference, scenario.steps);
    const want = await outcome(reference);
    // Inside the window the admin's call is unanswered.
    const recorded = calls.indexOf(window.recorded);
    const finished = calls.indexOf(window.finished, recorded);
    const points = [
      { call: recorded, when: 'after' as const },
      ...calls.slice(recorded + 1, finished + 1).flatMap((_, i) =>
        [recorded + 1 + i].flatMap((call) => [
          { call, when: 'before' as const },
          { call, when: 'after' as const },
        ]),
      ),
    ].map((p) => ({ ...p, name: calls[p.call]! }));

    it(`the window is the ${window.what}`, () => {
      expect(recorded).toBeGreaterThan(0);
      expect(finished).toBeGreaterThan(recorded);
    });

    it.each(points)('crash $when call #$call ($name), no retried decision', async ({ call, when }) => {
      const world = await scenario.base();
      const played = await play(world, scenario.steps, { call, when }, { adminRetries: false });
      expect(played.crashedAt).toBeDefined();
      const got = await outcome(world);
      expect(got.changesets).toEqual(want.changesets);
      expect(got.roster).toEqual(want.roster);
      expect(removedPupils(got)).toEqual(scenario.removed);
      expect(got.unfinished).toEqual([]);
      expect(got.changes).toEqual(want.changes);
      expect(got.runs).toEqual(want.runs);
      await also(world);
    });
  });
}

decisionLeftToTheSweep(
  'an approval recorded when the process died, whose admin never retried, is applied by the next sweep',
  SCENARIOS.find((s) => s.name.endsWith('then approved'))!,
  {
    recorded: 'store.approveHeldBatch',
    finished: 'store.createChangeset',
    what: 'approval record to its changeset',
  },
);

decisionLeftToTheSweep(
  'a discard recorded when the process died before its report, whose admin never retried, is reported by the next sweep',
  SCENARIOS.find((s) => s.name.endsWith('then discarded'))!,
  {
    recorded: 'store.discardHeldBatch',
    finished: 'publisher.publishRunUpdate',
    what: 'discard record to its report',
  },
  // Reported: no later sweep sends it again.
  async (world) =>
    expect(await new MemoryRosterStore(world.state).decisionsToReport(new Date(0), 10)).toEqual([]),
);

describe('the in-memory ports keep the rules the processor relies on', () => {
  it('a write with a stale fence is refused, and a step decided by a newer holder is not overwritten', async () => {
    const world = newWorld();
    const store = new MemoryRosterStore(world.state);
    const leasing = new MemoryTenantLeasing(world.state, 'replica-1');
    const cs = await store.createChangeset({
      _id: ids.changeset(T, 'run-x'),
      tenantId: T,
      syncRunId: 'run-x',
      kind: 'sync',
      state: 'waiting',
      dryRun: false,
      receivedAt: new Date(0),
    });
    await leasing.run(T, 0, async (stale) => {
      MemoryTenantLeasing.takeOver(world.state, T);
      await expect(store.updateChangeset(T, cs._id, { state: 'staged' }, stale.fence)).rejects.toMatchObject({
        code: 'ROSTER_TENANT_LEASE_LOST',
      });
      expect(stale.lost).toBe(true);
    });
    const decided = await leasing.run(T, 0, async (newer) =>
      store.decideStep(cs, { state: 'staged' }, newer.fence),
    );
    expect(decided).toEqual({ ran: true, value: { won: true, patch: { state: 'staged' } } });
    // A later holder adopts the decided step; its own patch is dropped.
    const adopted = await leasing.run(T, 0, async (later) =>
      store.decideStep(cs, { state: 'failed' }, later.fence),
    );
    expect(adopted).toEqual({ ran: true, value: { won: false, patch: { state: 'staged' } } });
    expect((await store.loadChangeset(T, cs._id))?.behind).toEqual({ state: 'staged' });
  });
});
