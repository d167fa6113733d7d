import { createLogger } from '@isams-sync/logger';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/domain/run-record';
import type { Spool } from '../../src/use-cases/ports';
import { SyncEngine } from '../../src/use-cases/sync-engine';
import type { SyncEngineDeps } from '../../src/use-cases/sync-engine';
import {
  ConnectorWorld,
  enrolSchool,
  inMemoryPorts,
  testEngineOptions,
} from '../support/in-memory/in-memory-ports';
import type { ScriptedSchool } from '../support/in-memory/in-memory-ports';
import { ProcessLife } from '../support/in-memory/process-life';

// A run's lifecycle events stay in order on `sync.runs.v1` even when another path of the engine (a
// trigger finding the school's slot held by an ended run) announces the run's end while an earlier
// event of the run is held at the broker; and nothing is spooled or published as chunks of a run whose
// spool's first reset failed. Written by session 53's review of an attempt to overlap a run's start
// with its I/O (the `requested` and `fetching` events and the reset beside the lease and the iSAMS
// request), which broke all three and was reverted (docs/roster-model.md › Session 53): they hold the
// reason it was reverted in place.

const TENANT = 'school-r';
const MANUAL = { kind: 'manual', actor: 'admin@school-r' } as const;
const logger = createLogger({ service: 'run-start-overlap-review', level: 'silent' });

const engines: SyncEngine[] = [];
const gates: Array<() => void> = [];
afterEach(async () => {
  for (const open of gates.splice(0)) open();
  while (engines.length > 0) await engines.pop()!.stop(1_000);
});

/** A macrotask later: the in-memory ports land every call within one. */
const later = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Waits (in macrotasks, at most 500) until `done()`; fails the test when it never is. */
async function until(what: string, done: () => boolean): Promise<void> {
  for (let turn = 0; turn < 500 && !done(); turn++) await later();
  expect(done(), what).toBe(true);
}

/**
 * Lets the engine work (at most 500 macrotasks) until `done()`, asserting nothing: the state waited
 * for never comes while an event is held when the run waits for its events (as it should), and the
 * test's assertions then hold all the same.
 */
async function settle(done: () => boolean): Promise<void> {
  for (let turn = 0; turn < 500 && !done(); turn++) await later();
}

/** A promise that stays pending until its `open` is called (opened after each test in any case). */
function gate(): { passed: Promise<void>; open: () => void } {
  let open!: () => void;
  const passed = new Promise<void>((resolve) => (open = resolve));
  gates.push(open);
  return { passed, open };
}

function engineOn(world: ConnectorWorld, adapt: (deps: SyncEngineDeps) => SyncEngineDeps): SyncEngine {
  const engine = new SyncEngine(adapt({ ...inMemoryPorts(world, new ProcessLife()), logger }), {
    ...testEngineOptions(30_000),
  });
  engines.push(engine);
  return engine;
}

/** `deps` whose first run-update event of `status` is held at the broker until `held` passes. */
function holdingFirst(
  deps: SyncEngineDeps,
  status: RunRecord['status'],
  held: Promise<void>,
): SyncEngineDeps {
  let holding = true;
  return {
    ...deps,
    publisher: {
      publishRunUpdate: async (r) => {
        if (r.status === status && holding) {
          holding = false;
          await held;
        }
        return deps.publisher.publishRunUpdate(r);
      },
      publishChunks: (...args) => deps.publisher.publishChunks(...args),
      publishMarker: (r) => deps.publisher.publishMarker(r),
    },
  };
}

const statusesOf = (world: ConnectorWorld, id: string) =>
  world.events.flatMap((e) => (e.syncRunId === id && e.kind === 'run-update' ? [e.status] : []));

describe('a run’s events on sync.runs.v1 when another path announces its end', () => {
  it('a run that fails while its `fetching` event is in flight: a trigger meanwhile does not publish `failed` before `fetching`', async () => {
    // iSAMS refuses at once (transient), while the run's `fetching` event is held at the broker: a run
    // that asked iSAMS before that event landed would be recorded failed while it is still on its way.
    const school: ScriptedSchool = {
      chunkSize: 2,
      records: { currentStaff: [{ Id: 's1' }] },
      failAfterDatasets: 0,
    };
    const world = new ConnectorWorld(school, 30_000);
    enrolSchool(world, TENANT, null);
    const fetching = gate();
    const engine = engineOn(world, (deps) => holdingFirst(deps, 'fetching', fetching.passed));
    await engine.start();
    const { run } = await engine.trigger(TENANT, MANUAL, false);
    await settle(() => world.runs.get(run._id)?.status === 'failed');
    // The admin asks again: the trigger finds the school's slot held by the ended run and announces
    // its end (activeRun) before freeing the slot.
    await engine.trigger(TENANT, MANUAL, false);
    fetching.open();
    await engine.drain();
    const statuses = statusesOf(world, run._id);
    expect(statuses.indexOf('fetching')).toBeGreaterThan(0);
    // Kafka per run: requested → fetching → failed.
    expect(statuses.slice(0, 3)).toEqual(['requested', 'fetching', 'failed']);
  });

  it('a run paused right after its trigger: a trigger meanwhile does not publish `cancelled` before `requested`', async () => {
    const school: ScriptedSchool = { chunkSize: 2, records: { currentStaff: [{ Id: 's1' }] } };
    const world = new ConnectorWorld(school, 30_000);
    enrolSchool(world, TENANT, null);
    const requested = gate();
    let reads = 0;
    const engine = engineOn(world, (deps) => {
      const held = holdingFirst(deps, 'requested', requested.passed);
      return {
        ...held,
        // The school is paused right after the trigger read its settings: every later read says so.
        settings: {
          get: async (t) => {
            const s = await deps.settings.get(t);
            return reads++ === 0 || s === null ? s : { ...s, enabled: false };
          },
        },
      };
    });
    await engine.start();
    const triggered = engine.trigger(TENANT, MANUAL, false);
    triggered.catch(() => undefined);
    await until('the run is recorded', () => world.runs.size === 1);
    const [id] = [...world.runs.keys()];
    await settle(() => world.runs.get(id!)?.status === 'cancelled');
    // An admin's trigger meanwhile (refused: sync paused) reads the school's active run, finds the
    // ended run holding the slot and announces its end.
    await expect(engine.trigger(TENANT, MANUAL, false)).rejects.toThrow();
    requested.open();
    await triggered;
    await engine.drain();
    const statuses = statusesOf(world, id!);
    expect(statuses).toContain('cancelled');
    expect(statuses[0]).toBe('requested');
  });
});

describe('the spool’s first reset', () => {
  it('a first reset that fails: nothing is spooled or published as chunks of the run', async () => {
    const school: ScriptedSchool = {
      chunkSize: 2,
      records: { currentStaff: [{ Id: 's1' }, { Id: 's2' }, { Id: 's3' }], yearGroups: [{ Id: 'y7' }] },
    };
    const world = new ConnectorWorld(school, 30_000);
    enrolSchool(world, TENANT, null);
    const log: string[] = [];
    const engine = engineOn(world, (deps) => ({
      ...deps,
      spools: {
        removeAllExcept: (keep) => deps.spools.removeAllExcept(keep),
        forRun: (syncRunId) => {
          const spool = deps.spools.forRun(syncRunId);
          let resets = 0;
          const failing: Spool = {
            reset: async () => {
              if (resets++ === 0) {
                await later();
                log.push('reset failed');
                throw new Error('disk full');
              }
              await spool.reset();
            },
            remove: () => spool.remove(),
            discard: (ids) => spool.discard(ids),
            appendLines: async (id, lines) => (log.push(`append ${id}`), spool.appendLines(id, lines)),
            touch: (id) => spool.touch(id),
            close: () => spool.close(),
            chunks: (id, records, opts) => spool.chunks(id, records, opts),
          };
          return failing;
        },
      },
    }));
    await engine.start();
    const { run } = await engine.trigger(TENANT, MANUAL, false);
    await engine.drain();
    expect(world.runs.get(run._id)?.status).toBe('failed');
    expect(log).toContain('reset failed');
    // The spool is written only once the reset landed (README › run lifecycle): a reset that did not
    // land leaves nothing to write into, and nothing of the run goes out as chunks.
    expect(world.events.filter((e) => e.syncRunId === run._id && e.kind === 'chunk')).toEqual([]);
    expect(log.filter((l) => l.startsWith('append'))).toEqual([]);
  });
});
